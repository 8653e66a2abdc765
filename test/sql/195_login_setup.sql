-- Helpers for the login-link, session and trader tests (200_* to 220_*),
-- created once (committed) by test/harness/run-sql-tests. This file has no
-- "-- test:" markers, which makes it a setup file for the runner.

-- The digest the module stores for a secret (SHA-256 of its bytes).
CREATE OR REPLACE FUNCTION pp_test_digest(p_secret text) RETURNS bytea
LANGUAGE sql STABLE AS $$ SELECT sha256(convert_to(p_secret, 'UTF8')) $$;

-- A login link for the secret, created unthrottled with a TTL of 900 s and
-- brought to p_state ('pending', 'sent' or 'failed') the way the module
-- does; returns the row.
CREATE OR REPLACE FUNCTION pp_test_link(p_tenant text, p_user_id bigint, p_secret text,
                                        p_state text DEFAULT 'sent',
                                        p_redirect_url text DEFAULT 'https://demo.example.com/app')
RETURNS login_tokens
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    t login_tokens;
BEGIN
    SELECT * INTO STRICT r FROM pp_login_link_create(p_tenant, p_user_id, pp_test_digest(p_secret),
                                                     p_redirect_url, 900, 0, 60);
    IF r.status <> 202 THEN
        RAISE EXCEPTION 'fixture: pp_login_link_create(%, %) answered % %', p_tenant, p_user_id,
            r.status, r.body;
    END IF;
    IF p_state = 'sent' THEN
        ASSERT pp_login_link_sent(pp_test_digest(p_secret)), 'fixture: pp_login_link_sent';
    ELSIF p_state = 'failed' THEN
        ASSERT pp_login_link_failed(pp_test_digest(p_secret)), 'fixture: pp_login_link_failed';
    END IF;
    SELECT * INTO STRICT t FROM login_tokens WHERE token_hash = pp_test_digest(p_secret);
    RETURN t;
END
$$;

-- A session from a fresh sent link (session secret p_secret || '-session',
-- TTL 3600 s); returns the session's digest.
CREATE OR REPLACE FUNCTION pp_test_session(p_tenant text, p_user_id bigint, p_secret text)
RETURNS bytea
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    PERFORM pp_test_link(p_tenant, p_user_id, p_secret);
    SELECT * INTO STRICT r FROM pp_login_token_redeem(pp_test_digest(p_secret),
                                                      pp_test_digest(p_secret || '-session'), 3600);
    IF r.status <> 200 THEN
        RAISE EXCEPTION 'fixture: pp_login_token_redeem answered % %', r.status, r.body;
    END IF;
    RETURN pp_test_digest(p_secret || '-session');
END
$$;

-- Waits (at most p_timeout_s) until p_count backends with application_name
-- p_app are waiting for a lock; raises otherwise. For the race tests, which
-- start competing psql sessions and must know both are queued.
CREATE OR REPLACE FUNCTION pp_test_wait_for_lock_waiters(p_app text, p_count integer,
                                                         p_timeout_s numeric DEFAULT 20)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_deadline timestamptz := clock_timestamp() + make_interval(secs => p_timeout_s);
    v_waiting integer;
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT count(*) INTO v_waiting FROM pg_stat_activity
        WHERE application_name = p_app AND wait_event_type = 'Lock';
        EXIT WHEN v_waiting >= p_count;
        IF clock_timestamp() > v_deadline THEN
            RAISE EXCEPTION 'race: % of % sessions "%" waiting for a lock after % s (activity: %)',
                v_waiting, p_count, p_app, p_timeout_s,
                (SELECT string_agg(format('%s %s/%s', state, wait_event_type, wait_event), '; ')
                 FROM pg_stat_activity WHERE application_name = p_app);
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
END
$$;

-- Removes committed fixtures of a tenant whose users are registered with
-- that tenant only and have no accounts (the race tests commit theirs, so
-- the competing sessions can see them).
CREATE OR REPLACE FUNCTION pp_test_purge_login_tenant(p_tenant text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_users bigint[] := ARRAY(SELECT user_id FROM tenant_users WHERE tenant = p_tenant);
BEGIN
    DELETE FROM sessions WHERE user_id = ANY (v_users);
    DELETE FROM login_tokens WHERE user_id = ANY (v_users);
    DELETE FROM tenant_users WHERE tenant = p_tenant;
    DELETE FROM ledger WHERE wallet_id IN (SELECT id FROM wallets WHERE user_id = ANY (v_users));
    DELETE FROM wallets WHERE user_id = ANY (v_users);
    DELETE FROM users WHERE id = ANY (v_users);
    DELETE FROM tenants WHERE name = p_tenant;
END
$$;
