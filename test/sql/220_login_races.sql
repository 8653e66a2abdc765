-- Races between concurrent sessions, with real second and third sessions:
-- each test starts two competing psql processes (\!) and makes both queue
-- behind a lock this session holds, releases it, and checks the outcome.
-- The competitors must see the fixtures, so these tests commit them and
-- remove them again (pp_test_purge_login_tenant) before asserting; their
-- tenants are used nowhere else.

-- test: two concurrent redemptions of one link: exactly one opens a session, the other is 410 already used
SELECT pp_test_link('race-r', pp_test_user('race-r', 'race-r-1', 'race-r1@example.com'), 'race-redeem');
COMMIT;
\set racedir `mktemp -d /tmp/pp-race.XXXXXX`
\setenv PP_RACE_DIR :racedir
BEGIN;
-- hold the link's row: both redemptions queue behind this transaction
SELECT 1 FROM login_tokens WHERE token_hash = pp_test_digest('race-redeem') FOR UPDATE;
\! for s in a b; do ( p="$PP_PG_BIN/psql"; [ -x "$p" ] || p=psql; PGAPPNAME=pp-race-redeem PGOPTIONS='-c lock_timeout=30s -c statement_timeout=60s' "$p" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "SELECT status || ' ' || body FROM pp_login_token_redeem(pp_test_digest('race-redeem'), pp_test_digest('race-redeem-$s'), 3600)" > "$PP_RACE_DIR/$s.out" 2>&1; echo $? > "$PP_RACE_DIR/$s.rc" ) & done
SELECT pp_test_wait_for_lock_waiters('pp-race-redeem', 2);
COMMIT;
\! i=0; while [ ! -s "$PP_RACE_DIR/a.rc" ] || [ ! -s "$PP_RACE_DIR/b.rc" ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
\set out_a `cat "$PP_RACE_DIR/a.rc" "$PP_RACE_DIR/a.out"`
\set out_b `cat "$PP_RACE_DIR/b.rc" "$PP_RACE_DIR/b.out"`
\! rm -rf -- "$PP_RACE_DIR"
BEGIN;
CREATE TEMP TABLE race_seen AS
SELECT :'out_a' AS a, :'out_b' AS b,
       (SELECT count(*) FROM sessions s JOIN login_tokens t ON t.id = s.login_token_id
        WHERE t.token_hash = pp_test_digest('race-redeem')) AS sessions,
       (SELECT state FROM login_tokens WHERE token_hash = pp_test_digest('race-redeem')) AS state,
       (SELECT count(*) FROM sessions WHERE session_hash IN (pp_test_digest('race-redeem-a'),
                                                             pp_test_digest('race-redeem-b'))) AS by_digest;
SELECT pp_test_purge_login_tenant('race-r');
COMMIT;
BEGIN;
DO $$
DECLARE
    s race_seen;
    outs text[];
BEGIN
    SELECT * INTO STRICT s FROM race_seen;
    -- "rc\nstatus body" per competitor, sorted: the winner (200) first
    outs := ARRAY(SELECT x FROM unnest(ARRAY[s.a, s.b]) x ORDER BY x);
    IF outs[1] !~ E'^0\n200 \\{"user_id":[0-9]+,' THEN
        RAISE EXCEPTION 'race: expected one redemption to win, got: % / %', outs[1], outs[2];
    END IF;
    PERFORM pp_test_eq(outs[2], E'0\n410 {"error":"LOGIN_LINK_INVALID","message":"this sign-in link has already been used"}',
                       'the other redemption');
    PERFORM pp_test_eq(format('%s %s %s', s.sessions, s.by_digest, s.state), '1 1 used',
                       'one session, link used');
END
$$;

-- test: two concurrent link requests for one trader with room for one more link: exactly one is accepted, the other is 429
SELECT pp_test_user('race-t', 'race-t-1', 'race-t1@example.com');
COMMIT;
\set racedir `mktemp -d /tmp/pp-race.XXXXXX`
\setenv PP_RACE_DIR :racedir
BEGIN;
-- new links cannot be inserted until this transaction ends, so both
-- requests get as far as they can and queue
LOCK TABLE login_tokens IN SHARE MODE;
\! for s in a b; do ( p="$PP_PG_BIN/psql"; [ -x "$p" ] || p=psql; PGAPPNAME=pp-race-throttle PGOPTIONS='-c lock_timeout=30s -c statement_timeout=60s' "$p" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "SELECT status || ' ' || coalesce(retry_after::text, '-') FROM pp_login_link_create('race-t', (SELECT user_id FROM tenant_users WHERE tenant = 'race-t'), pp_test_digest('race-throttle-$s'), 'https://demo.example.com/', 900, 1, 600)" > "$PP_RACE_DIR/$s.out" 2>&1; echo $? > "$PP_RACE_DIR/$s.rc" ) & done
SELECT pp_test_wait_for_lock_waiters('pp-race-throttle', 2);
COMMIT;
\! i=0; while [ ! -s "$PP_RACE_DIR/a.rc" ] || [ ! -s "$PP_RACE_DIR/b.rc" ]; do i=$((i+1)); [ $i -gt 600 ] && break; sleep 0.1; done
\set out_a `cat "$PP_RACE_DIR/a.rc" "$PP_RACE_DIR/a.out"`
\set out_b `cat "$PP_RACE_DIR/b.rc" "$PP_RACE_DIR/b.out"`
\! rm -rf -- "$PP_RACE_DIR"
BEGIN;
CREATE TEMP TABLE race_seen AS
SELECT :'out_a' AS a, :'out_b' AS b,
       (SELECT count(*) FROM login_tokens WHERE tenant = 'race-t') AS links;
SELECT pp_test_purge_login_tenant('race-t');
COMMIT;
BEGIN;
DO $$
DECLARE
    s race_seen;
    outs text[];
BEGIN
    SELECT * INTO STRICT s FROM race_seen;
    outs := ARRAY(SELECT x FROM unnest(ARRAY[s.a, s.b]) x ORDER BY x);
    PERFORM pp_test_eq(outs[1], E'0\n202 -', 'the accepted request');
    -- the loser's transaction may have started a moment before the winner's
    IF outs[2] !~ E'^0\n429 (599|600|601)$' THEN
        RAISE EXCEPTION 'race: expected the other request to be 429 with retry_after ~600, got: %', outs[2];
    END IF;
    PERFORM pp_test_eq(s.links, 1::bigint, 'links stored');
END
$$;
