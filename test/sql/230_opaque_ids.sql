-- Opaque user and wallet ids (migration 007): a tenant must not learn from
-- the order or the density of the ids it gets whether an email was already
-- on the platform, or how many traders registered in between.
--
-- The statistical bounds below are many standard deviations wide: a run
-- uses one random key, and a false failure is far less likely than 1e-6.

-- test: ids of consecutive new registrations are positive, below 2^53, neither ordered nor dense
DO $$
DECLARE
    ids bigint[] := '{}';
    ascents integer;
BEGIN
    FOR i IN 1..60 LOOP
        ids := ids || pp_test_user('oi-a', 'oi-a-' || i, format('oi-a-%s@example.com', i));
    END LOOP;
    PERFORM pp_test_eq((SELECT count(DISTINCT x) FROM unnest(ids) x), 60::bigint, 'distinct ids');
    PERFORM pp_test_eq((SELECT count(*) FROM unnest(ids) x WHERE x < 1 OR x >= 2::bigint ^ 53),
                       0::bigint, 'ids outside [1, 2^53)');
    -- a counter ascends 59 times out of 59; a random order about 29.5 +- 2.3
    SELECT count(*) INTO ascents FROM generate_series(1, 59) i WHERE ids[i] < ids[i + 1];
    IF ascents NOT BETWEEN 10 AND 49 THEN
        RAISE EXCEPTION 'ids are ordered: % ascents of 59 in %', ascents, ids;
    END IF;
    -- a counter spans 59; 60 random 52-bit ids span nearly 2^52
    IF (SELECT max(x) - min(x) FROM unnest(ids) x) < 2::bigint ^ 40 THEN
        RAISE EXCEPTION 'ids are dense: %', ids;
    END IF;
END
$$;

-- test: an email another tenant registered earlier gets an id whose order says nothing, compared with never-seen emails
DO $$
DECLARE
    old_ids bigint[] := '{}';
    new_ids bigint[] := '{}';
    r record;
    u bigint;
    below bigint;
BEGIN
    FOR i IN 1..50 LOOP
        PERFORM pp_test_user('oi-b', 'b-' || i, format('oi-known-%s@example.com', i));
    END LOOP;
    -- tenant oi-c registers, in turn, an email oi-b has and one nobody has
    FOR i IN 1..50 LOOP
        SELECT * INTO STRICT r FROM pp_register_user('oi-c', 'k-' || i,
                                                     format('oi-known-%s@example.com', i), '{}');
        PERFORM pp_test_eq(r.status, 201, 'known email: status');
        old_ids := old_ids || (r.body::jsonb->>'user_id')::bigint;
        SELECT * INTO STRICT r FROM pp_register_user('oi-c', 'n-' || i,
                                                     format('oi-new-%s@example.com', i), '{}');
        PERFORM pp_test_eq(r.status, 201, 'new email: status');
        new_ids := new_ids || (r.body::jsonb->>'user_id')::bigint;
    END LOOP;
    FOR i IN 1..50 LOOP
        u := (SELECT user_id FROM tenant_users WHERE tenant = 'oi-b' AND external_id = 'b-' || i);
        PERFORM pp_test_eq(old_ids[i], u, 'known email links the existing trader');
    END LOOP;
    -- pairs (known, new) with the known id below the new one: all 2500 for
    -- a counter, about 1250 +- 145 when the order is random
    SELECT count(*) INTO below FROM unnest(old_ids) o, unnest(new_ids) n WHERE o < n;
    IF below NOT BETWEEN 525 AND 1975 THEN
        RAISE EXCEPTION 'known emails'' ids are ordered before new ones: % of 2500 pairs', below;
    END IF;
END
$$;

-- test: account wallet ids are neither ordered nor dense, so their gaps do not count the traders registered in between
DO $$
DECLARE
    u bigint := pp_test_user('oi-w', 'w-1', 'oi-w1@example.com');
    ids bigint[] := '{}';
    ascents integer;
BEGIN
    FOR i IN 1..40 LOOP
        ids := ids || pp_test_wallet(pp_test_account('oi-w', u, 'w-acc-' || i, 100));
        IF i % 2 = 0 THEN   -- a new trader (and personal wallet) in between
            PERFORM pp_test_user('oi-w', 'w-new-' || i, format('oi-w-new-%s@example.com', i));
        END IF;
    END LOOP;
    PERFORM pp_test_eq((SELECT count(*) FROM unnest(ids) x WHERE x < 1 OR x >= 2::bigint ^ 53),
                       0::bigint, 'wallet ids outside [1, 2^53)');
    SELECT count(*) INTO ascents FROM generate_series(1, 39) i WHERE ids[i] < ids[i + 1];
    IF ascents NOT BETWEEN 8 AND 31 THEN
        RAISE EXCEPTION 'wallet ids are ordered: % ascents of 39 in %', ascents, ids;
    END IF;
    IF (SELECT max(x) - min(x) FROM unnest(ids) x) < 2::bigint ^ 40 THEN
        RAISE EXCEPTION 'wallet ids are dense: %', ids;
    END IF;
END
$$;

-- test: the id permutation is injective over 100k counters and stays in [floor, 2^52), also when most values are cycle-walked
DO $$
DECLARE
    s opaque_id_spaces;
    n_distinct bigint;
    lo bigint;
    hi bigint;
    high_floor bigint := (2::bigint ^ 51)::bigint + 12345;
    walked bigint;
BEGIN
    PERFORM pp_test_eq((SELECT array_agg(name ORDER BY name) FROM opaque_id_spaces),
                       ARRAY['users', 'wallets'], 'id spaces');
    PERFORM pp_test_eq((SELECT count(DISTINCT key) FROM opaque_id_spaces), 2::bigint,
                       'each space has its own key');
    SELECT * INTO STRICT s FROM opaque_id_spaces WHERE name = 'users';
    SELECT count(DISTINCT id), min(id), max(id) INTO n_distinct, lo, hi
    FROM (SELECT pp_opaque_id(s.key, s.floor, n) AS id FROM generate_series(0, 99999) n) x;
    PERFORM pp_test_eq(n_distinct, 100000::bigint, 'distinct ids of 100k counters');
    IF lo < s.floor OR hi >= 2::bigint ^ 52 THEN
        RAISE EXCEPTION 'ids outside [%, 2^52): % .. %', s.floor, lo, hi;
    END IF;
    -- with the floor at 2^51 half of the Feistel outputs fall below it and
    -- are walked on: still distinct, still at or above the floor
    SELECT count(*) INTO walked FROM generate_series(0, 99999) n
    WHERE pp_feistel52(s.key, high_floor + n) < high_floor;
    IF walked < 40000 THEN
        RAISE EXCEPTION 'cycle walking not exercised: % of 100000 walked', walked;
    END IF;
    SELECT count(DISTINCT id), min(id), max(id) INTO n_distinct, lo, hi
    FROM (SELECT pp_opaque_id(s.key, high_floor, n) AS id FROM generate_series(0, 99999) n) x;
    PERFORM pp_test_eq(n_distinct, 100000::bigint, 'distinct walked ids of 100k counters');
    IF lo < high_floor OR hi >= 2::bigint ^ 52 THEN
        RAISE EXCEPTION 'walked ids outside [%, 2^52): % .. %', high_floor, lo, hi;
    END IF;
    -- the bare permutation over a sample at the top of its domain
    PERFORM pp_test_eq((SELECT count(DISTINCT pp_feistel52(s.key, (2::bigint ^ 52)::bigint - 1 - n))
                        FROM generate_series(0, 99999) n), 100000::bigint,
                       'distinct Feistel outputs at the top of the domain');
END
$$;

-- test: the id keys are readable by no role but their owner, and a role without that right still gets ids
CREATE ROLE pp_test_opaque_api NOLOGIN;
GRANT SELECT, INSERT ON users TO pp_test_opaque_api;
-- the column default calls an engine function, which no role may call
-- unless granted (EXECUTE is revoked from PUBLIC)
GRANT USAGE ON SCHEMA engine TO pp_test_opaque_api;
GRANT EXECUTE ON FUNCTION engine.pp_next_opaque_id(text) TO pp_test_opaque_api;
SET LOCAL ROLE pp_test_opaque_api;
DO $$
DECLARE
    denied boolean := false;
    id bigint;
BEGIN
    BEGIN
        PERFORM 1 FROM opaque_id_spaces;
    EXCEPTION WHEN insufficient_privilege THEN
        denied := true;
    END;
    PERFORM pp_test_eq(denied, true, 'opaque_id_spaces readable without a grant');
    INSERT INTO users (email) VALUES ('oi-role@example.com') RETURNING users.id INTO id;
    IF id IS NULL OR id < 1 THEN
        RAISE EXCEPTION 'no id for a role without access to the keys: %', id;
    END IF;
END
$$;
RESET ROLE;
DELETE FROM users WHERE email = 'oi-role@example.com';

-- (A database upgraded from migration 006 keeping every existing id is
-- tested by test/harness/run-sql-tests on a real upgrade: test/sql/upgrade/.)

-- test: two identical concurrent registrations of a never-seen email make exactly one trader (201 and a 200 replay)
INSERT INTO tenants (name) VALUES ('race-oi');
COMMIT;
\set racedir `mktemp -d /tmp/pp-race.XXXXXX`
\setenv PP_RACE_DIR :racedir
BEGIN;
-- no user can be inserted until this transaction ends, so both queue
LOCK TABLE users IN SHARE MODE;
\! for s in a b; do ( p="$PP_PG_BIN/psql"; [ -x "$p" ] || p=psql; PGAPPNAME=pp-race-oi PGOPTIONS='-c lock_timeout=30s -c statement_timeout=60s' "$p" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "SELECT status || ' ' || body FROM pp_register_user('race-oi', 'race-oi-1', 'race-oi-1@example.com', '{}')" > "$PP_RACE_DIR/$s.out" 2>&1; echo $? > "$PP_RACE_DIR/$s.rc" ) & done
SELECT pp_test_wait_for_lock_waiters('pp-race-oi', 2);
COMMIT;
\! i=0; while [ ! -s "$PP_RACE_DIR/a.rc" ] || [ ! -s "$PP_RACE_DIR/b.rc" ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
\set out_a `cat "$PP_RACE_DIR/a.rc" "$PP_RACE_DIR/a.out"`
\set out_b `cat "$PP_RACE_DIR/b.rc" "$PP_RACE_DIR/b.out"`
\! rm -rf -- "$PP_RACE_DIR"
BEGIN;
CREATE TEMP TABLE race_seen AS
SELECT :'out_a' AS a, :'out_b' AS b,
       (SELECT array_agg(id) FROM users WHERE email = 'race-oi-1@example.com') AS users,
       (SELECT count(*) FROM wallets w JOIN users u ON u.id = w.user_id
        WHERE u.email = 'race-oi-1@example.com') AS wallets,
       (SELECT count(*) FROM tenant_users WHERE tenant = 'race-oi') AS mappings;
SELECT pp_test_purge_login_tenant('race-oi');
COMMIT;
BEGIN;
DO $$
DECLARE
    s race_seen;
    outs text[];
    m text[];
BEGIN
    SELECT * INTO STRICT s FROM race_seen;
    outs := ARRAY(SELECT x FROM unnest(ARRAY[s.a, s.b]) x ORDER BY x);
    PERFORM pp_test_eq(cardinality(s.users), 1, 'users with the email');
    PERFORM pp_test_eq(s.wallets, 1::bigint, 'wallets of the trader');
    PERFORM pp_test_eq(s.mappings, 1::bigint, 'mappings');
    m := regexp_match(outs[1], E'^0\n200 (\\{"user_id":([0-9]+),.*"created":false\\})$');
    IF m IS NULL THEN
        RAISE EXCEPTION 'race: expected a 200 replay, got: % / %', outs[1], outs[2];
    END IF;
    PERFORM pp_test_eq(m[2]::bigint, s.users[1], 'replay user_id');
    PERFORM pp_test_eq(outs[2], E'0\n201 ' || replace(m[1], '"created":false', '"created":true'),
                       'the registration that won');
END
$$;

-- test: two tenants concurrently registering one never-seen email get one trader with one personal wallet
INSERT INTO tenants (name) VALUES ('race-oi-a'), ('race-oi-b');
COMMIT;
\set racedir `mktemp -d /tmp/pp-race.XXXXXX`
\setenv PP_RACE_DIR :racedir
BEGIN;
LOCK TABLE users IN SHARE MODE;
\! for s in a b; do ( p="$PP_PG_BIN/psql"; [ -x "$p" ] || p=psql; PGAPPNAME=pp-race-oi2 PGOPTIONS='-c lock_timeout=30s -c statement_timeout=60s' "$p" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "SELECT status || ' ' || (body::json->>'user_id') FROM pp_register_user('race-oi-$s', 'x', 'race-oi-2@example.com', '{}')" > "$PP_RACE_DIR/$s.out" 2>&1; echo $? > "$PP_RACE_DIR/$s.rc" ) & done
SELECT pp_test_wait_for_lock_waiters('pp-race-oi2', 2);
COMMIT;
\! i=0; while [ ! -s "$PP_RACE_DIR/a.rc" ] || [ ! -s "$PP_RACE_DIR/b.rc" ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
\set out_a `cat "$PP_RACE_DIR/a.rc" "$PP_RACE_DIR/a.out"`
\set out_b `cat "$PP_RACE_DIR/b.rc" "$PP_RACE_DIR/b.out"`
\! rm -rf -- "$PP_RACE_DIR"
BEGIN;
CREATE TEMP TABLE race_seen AS
SELECT :'out_a' AS a, :'out_b' AS b,
       (SELECT array_agg(id) FROM users WHERE email = 'race-oi-2@example.com') AS users,
       (SELECT count(*) FROM wallets w JOIN users u ON u.id = w.user_id
        WHERE u.email = 'race-oi-2@example.com') AS wallets;
DELETE FROM tenant_users WHERE tenant IN ('race-oi-a', 'race-oi-b');
DELETE FROM ledger WHERE wallet_id IN (SELECT w.id FROM wallets w JOIN users u ON u.id = w.user_id
                                       WHERE u.email = 'race-oi-2@example.com');
DELETE FROM wallets WHERE user_id IN (SELECT id FROM users WHERE email = 'race-oi-2@example.com');
DELETE FROM users WHERE email = 'race-oi-2@example.com';
DELETE FROM tenants WHERE name IN ('race-oi-a', 'race-oi-b');
COMMIT;
BEGIN;
DO $$
DECLARE
    s race_seen;
BEGIN
    SELECT * INTO STRICT s FROM race_seen;
    PERFORM pp_test_eq(cardinality(s.users), 1, 'users with the email');
    PERFORM pp_test_eq(s.wallets, 1::bigint, 'personal wallets');
    PERFORM pp_test_eq(s.a, E'0\n201 ' || s.users[1], 'tenant a');
    PERFORM pp_test_eq(s.b, E'0\n201 ' || s.users[1], 'tenant b');
END
$$;
