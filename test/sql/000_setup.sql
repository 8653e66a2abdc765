-- Helpers for the database-level tests, created once (committed) by
-- test/harness/run-sql-tests before any test runs. This file has no
-- "-- test:" markers, which makes it a setup file for the runner.
--
-- Every test block runs in its own transaction that is rolled back, and the
-- runner calls pp_test_assert_invariants() at the end of each block.

-- The tests call the api and engine functions by their bare names (the
-- module and the daemon name api.* explicitly): this session and every later
-- one of this database resolve them.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET search_path = public, api, engine', current_database());
END
$$;
SET search_path = public, api, engine;

-- pp_test_eq(got, want, what): raises "what: expected WANT, got GOT" unless
-- got IS NOT DISTINCT FROM want. Compare money and quantities as text to
-- check the number of decimals as well as the value.
CREATE OR REPLACE FUNCTION pp_test_eq(p_got anycompatible, p_want anycompatible, p_what text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_got IS DISTINCT FROM p_want THEN
        RAISE EXCEPTION '%: expected %, got %', p_what,
            coalesce(p_want::text, 'NULL'), coalesce(p_got::text, 'NULL');
    END IF;
END
$$;

-- An endpoint answer (status, body) must be the error STATUS/CODE, with a
-- body of exactly {"error", "message"} and a non-empty message.
CREATE OR REPLACE FUNCTION pp_test_error(p_status integer, p_body text,
                                         p_want_status integer, p_want_code text, p_what text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := p_body::jsonb;
BEGIN
    PERFORM pp_test_eq(p_status, p_want_status, p_what || ': status');
    PERFORM pp_test_eq(b->>'error', p_want_code, p_what || ': error code');
    PERFORM pp_test_eq((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(b) k),
                       ARRAY['error', 'message'], p_what || ': error body keys');
    IF coalesce(b->>'message', '') = '' THEN
        RAISE EXCEPTION '%: empty error message in %', p_what, p_body;
    END IF;
END
$$;

-- The keys of a JSON object text, in document order (json, not jsonb).
CREATE OR REPLACE FUNCTION pp_test_keys(p_body text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(k ORDER BY n) FROM json_object_keys(p_body::json) WITH ORDINALITY AS t(k, n)
$$;

-- Expected JSON rendering of a timestamp (second precision, UTC, "Z").
CREATE OR REPLACE FUNCTION pp_test_time(p_t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p_t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Registers (or replays) a trader for a tenant; returns the user_id.
CREATE OR REPLACE FUNCTION pp_test_user(p_tenant text, p_external_id text, p_email text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO STRICT r FROM pp_register_user(p_tenant, p_external_id, p_email, '{}');
    IF r.status NOT IN (200, 201) THEN
        RAISE EXCEPTION 'fixture: pp_register_user(%, %, %) answered % %',
            p_tenant, p_external_id, p_email, r.status, r.body;
    END IF;
    RETURN (r.body::jsonb->>'user_id')::bigint;
END
$$;

-- Creates an account; returns its id.
CREATE OR REPLACE FUNCTION pp_test_account(p_tenant text, p_user_id bigint, p_external_id text,
                                           p_balance numeric DEFAULT 10000,
                                           p_stage text DEFAULT 'challenge',
                                           p_rules jsonb DEFAULT '{}',
                                           p_metadata jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO STRICT r
    FROM pp_create_account(p_tenant, p_user_id, p_external_id, p_stage, p_balance,
                           p_rules, p_metadata);
    IF r.status <> 201 THEN
        RAISE EXCEPTION 'fixture: pp_create_account(%, %, %) answered % %',
            p_tenant, p_user_id, p_external_id, r.status, r.body;
    END IF;
    RETURN (r.body::jsonb->>'account_id')::uuid;
END
$$;

-- Volatile (not STABLE) on purpose: pp_test_wallet(pp_test_account(...))
-- must see the account created by the inner call.
CREATE OR REPLACE FUNCTION pp_test_wallet(p_account_id uuid) RETURNS bigint
LANGUAGE sql AS $$ SELECT wallet_id FROM accounts WHERE id = p_account_id $$;

CREATE OR REPLACE FUNCTION pp_test_balance(p_wallet_id bigint) RETURNS text
LANGUAGE sql AS $$ SELECT balance::text FROM wallets WHERE id = p_wallet_id $$;

CREATE OR REPLACE FUNCTION pp_test_personal_wallet(p_user_id bigint) RETURNS bigint
LANGUAGE sql AS $$
    SELECT id FROM wallets WHERE user_id = p_user_id AND kind = 'personal'
$$;

-- A market with one outcome token and the given prices; returns the token id.
CREATE OR REPLACE FUNCTION pp_test_token(p_token_id text, p_bid numeric DEFAULT NULL,
                                         p_ask numeric DEFAULT NULL,
                                         p_midpoint numeric DEFAULT NULL,
                                         p_last numeric DEFAULT NULL,
                                         p_outcome text DEFAULT 'Yes')
RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO markets (condition_id, question)
    VALUES ('0xc' || p_token_id, 'test market ' || p_token_id);
    INSERT INTO market_tokens (token_id, condition_id, outcome, best_bid, best_ask, midpoint,
                               last_trade_price)
    VALUES (p_token_id, '0xc' || p_token_id, p_outcome, p_bid, p_ask, p_midpoint, p_last);
    RETURN p_token_id;
END
$$;

-- An open position (a fixture: the fills that would create it do not exist
-- yet, so no cash moves); returns its id.
CREATE OR REPLACE FUNCTION pp_test_position(p_wallet_id bigint, p_token_id text,
                                            p_quantity numeric, p_avg_entry numeric)
RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO positions (wallet_id, token_id, quantity, avg_entry_price)
    VALUES (p_wallet_id, p_token_id, p_quantity, p_avg_entry)
    RETURNING id
$$;

-- Every row of every table of the schema (except schema_migrations), for
-- "this call changed nothing" assertions.
CREATE OR REPLACE FUNCTION pp_test_snapshot() RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    v jsonb;
    snap jsonb := '{}';
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
             ORDER BY tablename
    LOOP
        EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)::text), ''[]'') '
                       'FROM %I x', t) INTO v;
        snap := snap || jsonb_build_object(t, v);
    END LOOP;
    RETURN snap;
END
$$;

CREATE OR REPLACE FUNCTION pp_test_assert_unchanged(p_before jsonb, p_what text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    after jsonb := pp_test_snapshot();
    t text;
    diffs text[] := '{}';
BEGIN
    IF after = p_before THEN
        RETURN;
    END IF;
    FOR t IN SELECT jsonb_object_keys(after) ORDER BY 1 LOOP
        IF (after->t) IS DISTINCT FROM (p_before->t) THEN
            diffs := diffs || format('%s (%s rows before, %s after)', t,
                                     coalesce(jsonb_array_length(p_before->t), 0),
                                     jsonb_array_length(after->t));
        END IF;
    END LOOP;
    RAISE EXCEPTION '%: expected no change in the database, but changed: %',
        p_what, array_to_string(diffs, ', ');
END
$$;

-- Row counts per table.
CREATE OR REPLACE FUNCTION pp_test_counts() RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    n bigint;
    counts jsonb := '{}';
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
             ORDER BY tablename
    LOOP
        EXECUTE format('SELECT count(*) FROM %I', t) INTO n;
        counts := counts || jsonb_build_object(t, n);
    END LOOP;
    RETURN counts;
END
$$;

-- The invariants, checked after every test by the runner:
--  * every wallet's balance equals the sum of its ledger entries;
--  * no balance is negative;
--  * every user has exactly one personal wallet, and every tenant wallet
--    backs exactly one account of that wallet's user (no leaked wallets);
--  * an open order's reserved cash is exactly what its ledger entries took
--    (reserve + release = -reserved_cash), a cancelled order's entries net
--    to zero;
--  * an open position's reserved quantity equals the shares reserved by the
--    wallet's open SELL orders on that token.
CREATE OR REPLACE FUNCTION pp_test_assert_invariants() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT w.id, w.balance, coalesce(sum(l.amount), 0) AS ledger_sum
        FROM wallets w LEFT JOIN ledger l ON l.wallet_id = w.id
        GROUP BY w.id, w.balance
        HAVING w.balance <> coalesce(sum(l.amount), 0)
        ORDER BY w.id
    LOOP
        RAISE EXCEPTION 'invariant: wallet % has balance % but its ledger sums to %',
            r.id, r.balance, r.ledger_sum;
    END LOOP;
    FOR r IN SELECT id, balance FROM wallets WHERE balance < 0 ORDER BY id LOOP
        RAISE EXCEPTION 'invariant: wallet % has a negative balance %', r.id, r.balance;
    END LOOP;
    FOR r IN
        SELECT u.id, count(w.id) AS n FROM users u
        LEFT JOIN wallets w ON w.user_id = u.id AND w.kind = 'personal'
        GROUP BY u.id HAVING count(w.id) <> 1 ORDER BY u.id
    LOOP
        RAISE EXCEPTION 'invariant: user % has % personal wallets', r.id, r.n;
    END LOOP;
    FOR r IN
        SELECT w.id, w.user_id, count(a.id) AS n, min(a.user_id) AS account_user
        FROM wallets w LEFT JOIN accounts a ON a.wallet_id = w.id
        WHERE w.kind = 'tenant'
        GROUP BY w.id, w.user_id
        HAVING count(a.id) <> 1 OR min(a.user_id) <> w.user_id
        ORDER BY w.id
    LOOP
        RAISE EXCEPTION 'invariant: tenant wallet % (user %) backs % accounts (user %)',
            r.id, r.user_id, r.n, r.account_user;
    END LOOP;
    FOR r IN
        SELECT a.id FROM accounts a JOIN wallets w ON w.id = a.wallet_id
        WHERE w.kind <> 'tenant' ORDER BY a.id
    LOOP
        RAISE EXCEPTION 'invariant: account % is backed by a personal wallet', r.id;
    END LOOP;
    FOR r IN
        SELECT o.id, o.status, o.reserved_cash, coalesce(sum(l.amount), 0) AS net
        FROM orders o
        LEFT JOIN ledger l ON l.order_id = o.id AND l.cause IN ('reserve', 'release')
        WHERE o.status IN ('open', 'cancelled')
        GROUP BY o.id, o.status, o.reserved_cash
        HAVING coalesce(sum(l.amount), 0)
               <> CASE WHEN o.status = 'open' THEN -o.reserved_cash ELSE 0 END
        ORDER BY o.id
    LOOP
        RAISE EXCEPTION 'invariant: % order % reserves % but its reserve/release entries net %',
            r.status, r.id, r.reserved_cash, r.net;
    END LOOP;
    FOR r IN
        SELECT p.id, p.reserved_quantity,
               (SELECT coalesce(sum(o.reserved_shares), 0) FROM orders o
                WHERE o.wallet_id = p.wallet_id AND o.token_id = p.token_id
                  AND o.status = 'open' AND o.side = 'SELL') AS by_orders
        FROM positions p
        WHERE p.closed_at IS NULL AND p.archived_at IS NULL
        ORDER BY p.id
    LOOP
        IF r.reserved_quantity <> r.by_orders THEN
            RAISE EXCEPTION 'invariant: position % has reserved_quantity % but open SELL orders reserve %',
                r.id, r.reserved_quantity, r.by_orders;
        END IF;
    END LOOP;
END
$$;

-- The helpers are the tests' own: any role a test switches to may call them
-- (the migrating user's functions are otherwise not executable by PUBLIC).
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO PUBLIC;
