-- Migration 010 and sql/functions: the database's API is the schema api,
-- callable only through the roles polypartner_api (the module) and
-- polypartner_feed (the price feed); the helpers in engine by neither.

-- test: no api or engine function is executable by PUBLIC
DO $$
BEGIN
    PERFORM pp_test_eq((SELECT array_agg(p.oid::regprocedure::text
                                  ORDER BY p.oid::regprocedure::text)
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname IN ('api', 'engine')
                          AND has_function_privilege('public', p.oid, 'EXECUTE')),
                       NULL, 'functions executable by PUBLIC');
END
$$;

-- test: each api function is granted to exactly one role, each engine function to none
DO $$
BEGIN
    PERFORM pp_test_eq((SELECT array_agg(p.proname ORDER BY p.proname)
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'api'
                          AND has_function_privilege('polypartner_api', p.oid, 'EXECUTE')
                            = has_function_privilege('polypartner_feed', p.oid, 'EXECUTE')),
                       NULL, 'api functions granted to both roles or to neither');
    PERFORM pp_test_eq((SELECT array_agg(p.proname ORDER BY p.proname)
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'api'
                          AND has_function_privilege('polypartner_feed', p.oid, 'EXECUTE')),
                       ARRAY['pp_apply_price_updates', 'pp_settle_market', 'pp_touch_prices',
                             'pp_unresolved_markets', 'pp_upsert_market']::name[],
                       'the price feed''s functions');
    PERFORM pp_test_eq((SELECT array_agg(p.proname ORDER BY p.proname)
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'engine'
                          AND (has_function_privilege('polypartner_api', p.oid, 'EXECUTE')
                               OR has_function_privilege('polypartner_feed', p.oid, 'EXECUTE'))),
                       NULL, 'engine functions granted to a role');
    PERFORM pp_test_eq(has_schema_privilege('polypartner_api', 'engine', 'USAGE')
                       OR has_schema_privilege('polypartner_feed', 'engine', 'USAGE'),
                       false, 'a role may use the schema engine');
END
$$;

-- test: the roles may read or write no table
DO $$
BEGIN
    PERFORM pp_test_eq((SELECT array_agg(r || ' ' || c.relname ORDER BY r, c.relname)
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                             unnest(ARRAY['polypartner_api', 'polypartner_feed']) r
                        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v')
                          AND has_table_privilege(r, c.oid,
                                                  'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')),
                       NULL, 'tables a role may touch');
END
$$;

-- test: every api function is SECURITY DEFINER with a fixed search_path, no engine function is but the id default and the event flush (a deferred trigger, run at commit as the session's user)
DO $$
BEGIN
    PERFORM pp_test_eq((SELECT array_agg(p.proname ORDER BY p.proname)
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'api'
                          AND NOT (p.prosecdef AND p.proconfig = ARRAY['search_path=public, engine, pg_temp'])),
                       NULL, 'api functions without SECURITY DEFINER and search_path');
    PERFORM pp_test_eq((SELECT array_agg(p.proname ORDER BY p.proname)
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'engine' AND p.prosecdef),
                       ARRAY['pp_events_flush', 'pp_next_opaque_id']::name[],
                       'SECURITY DEFINER engine functions');
    PERFORM pp_test_eq((SELECT p.proconfig FROM pg_proc p
                        WHERE p.oid = 'engine.pp_events_flush()'::regprocedure),
                       ARRAY['search_path=public, engine, pg_temp'], 'the flush''s search_path');
END
$$;

-- test: no engine function is left in public (only the tests' own helpers)
DO $$
BEGIN
    PERFORM pp_test_eq((SELECT array_agg(p.oid::regprocedure::text
                                  ORDER BY p.oid::regprocedure::text)
                        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'public' AND p.proname NOT LIKE 'pp\_test\_%'),
                       NULL, 'functions in public');
END
$$;
