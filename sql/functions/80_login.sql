-- Login links and sessions. Secrets never reach the database: the module
-- generates them and passes only their SHA-256 digests (32 bytes) here.

-- POST /v1/partner/users/{user_id}/login-link, after the module validated
-- the body and the redirect. Throttled per trader and tenant: at most
-- p_max_links links (failed ones do not count) created in the last
-- p_window_s seconds; p_max_links <= 0 turns the throttle off. The count is
-- per tenant so that one tenant's requests can never reveal to another that
-- the trader is active there. The mapping row is locked (FOR NO KEY UPDATE,
-- which the foreign-key checks of concurrent inserts do not wait for), so
-- concurrent requests for one trader count one after the other.
-- 202: the module mails the link to `email` and then reports the outcome
-- with pp_login_link_sent or pp_login_link_failed.
CREATE OR REPLACE FUNCTION api.pp_login_link_create(p_tenant text, p_user_id bigint, p_token_hash bytea,
                                     p_redirect_url text, p_ttl_s integer,
                                     p_max_links integer, p_window_s integer)
RETURNS TABLE (status integer, body text, email text, retry_after integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    v_email text;
    v_count bigint;
    v_edge timestamptz;
    v_window interval := make_interval(secs => p_window_s);
    v_retry integer;
BEGIN
    SELECT u.email INTO v_email
    FROM tenant_users m JOIN users u ON u.id = m.user_id
    WHERE m.tenant = p_tenant AND m.user_id = p_user_id
    FOR NO KEY UPDATE OF m;
    IF NOT FOUND THEN
        RETURN QUERY SELECT e.status, e.body, NULL::text, NULL::integer
                     FROM pp_error('USER_NOT_FOUND', 'user not found') e;
        RETURN;
    END IF;

    IF p_max_links > 0 THEN
        SELECT count(*) INTO v_count FROM login_tokens t
        WHERE t.tenant = p_tenant AND t.user_id = p_user_id AND t.state <> 'failed'
          AND t.created_at > now() - v_window;
        IF v_count >= p_max_links THEN
            -- the link whose leaving brings the count below the limit
            SELECT t.created_at INTO STRICT v_edge FROM login_tokens t
            WHERE t.tenant = p_tenant AND t.user_id = p_user_id AND t.state <> 'failed'
              AND t.created_at > now() - v_window
            ORDER BY t.created_at, t.id
            OFFSET v_count - p_max_links LIMIT 1;
            v_retry := greatest(1, ceil(extract(epoch FROM v_edge + v_window - now())))::integer;
            RETURN QUERY SELECT e.status, e.body, NULL::text, v_retry
                FROM pp_error('RATE_LIMIT_EXCEEDED', format(
                    'too many login links requested for this user; retry in %s seconds', v_retry)) e;
            RETURN;
        END IF;
    END IF;

    INSERT INTO login_tokens (token_hash, user_id, tenant, redirect_url, expires_at)
    VALUES (p_token_hash, p_user_id, p_tenant, p_redirect_url,
            now() + make_interval(secs => p_ttl_s));
    RETURN QUERY SELECT 202, '{"status":"accepted"}'::text, v_email, NULL::integer;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_login_link_create(text,bigint,bytea,text,integer,integer,integer) TO polypartner_api;

-- The mail went out: the link becomes usable. False unless it was pending.
CREATE OR REPLACE FUNCTION api.pp_login_link_sent(p_token_hash bytea) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
BEGIN
    UPDATE login_tokens SET state = 'sent' WHERE token_hash = p_token_hash AND state = 'pending';
    RETURN FOUND;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_login_link_sent(bytea) TO polypartner_api;

-- The mail did not go out: the link is never usable (and is not counted by
-- the throttle). False unless it was pending.
CREATE OR REPLACE FUNCTION api.pp_login_link_failed(p_token_hash bytea) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
BEGIN
    UPDATE login_tokens SET state = 'failed' WHERE token_hash = p_token_hash AND state = 'pending';
    RETURN FOUND;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_login_link_failed(bytea) TO polypartner_api;

-- LOGIN_LINK_INVALID for a link that cannot be redeemed, saying why when the
-- holder of the link can act on it (used, expired); unknown, pending and
-- failed links get one generic message.
CREATE OR REPLACE FUNCTION engine.pp_login_link_invalid(p_token_hash bytea)
RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$
    SELECT e.*
    FROM (SELECT NULL) AS one
    LEFT JOIN login_tokens t ON t.token_hash = p_token_hash,
    LATERAL pp_error('LOGIN_LINK_INVALID', CASE
        WHEN t.state = 'used' THEN 'this sign-in link has already been used'
        WHEN t.state = 'sent' AND t.expires_at <= now() THEN 'this sign-in link has expired'
        ELSE 'this sign-in link is not valid' END) AS e
$$;

-- GET of the confirmation page: says whether the link is usable, consumes
-- nothing (mail scanners prefetch links).
CREATE OR REPLACE FUNCTION api.pp_login_token_peek(p_token_hash bytea)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    t login_tokens;
BEGIN
    SELECT * INTO t FROM login_tokens
    WHERE token_hash = p_token_hash AND state = 'sent' AND expires_at > now();
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_login_link_invalid(p_token_hash);
        RETURN;
    END IF;
    RETURN QUERY SELECT 200, format('{"email":%s,"expires_at":%s}',
        to_json((SELECT u.email FROM users u WHERE u.id = t.user_id)), pp_json_time(t.expires_at));
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_login_token_peek(bytea) TO polypartner_api;

-- POST of the confirmation page: consumes the link and opens a session, or
-- 410. The consuming UPDATE is the only check, so of two concurrent
-- redemptions the second waits for the first and then finds the link used.
CREATE OR REPLACE FUNCTION api.pp_login_token_redeem(p_token_hash bytea, p_session_hash bytea,
                                      p_session_ttl_s integer)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    t login_tokens;
    v_expires timestamptz;
BEGIN
    UPDATE login_tokens SET state = 'used', used_at = now()
    WHERE token_hash = p_token_hash AND state = 'sent' AND expires_at > now()
    RETURNING * INTO t;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_login_link_invalid(p_token_hash);
        RETURN;
    END IF;
    INSERT INTO sessions (session_hash, user_id, tenant, login_token_id, expires_at)
    VALUES (p_session_hash, t.user_id, t.tenant, t.id,
            now() + make_interval(secs => p_session_ttl_s))
    RETURNING expires_at INTO v_expires;
    RETURN QUERY SELECT 200, format('{"user_id":%s,"redirect_url":%s,"expires_at":%s}',
        t.user_id, to_json(t.redirect_url), pp_json_time(v_expires));
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_login_token_redeem(bytea,bytea,integer) TO polypartner_api;

-- The trader of a live session (not ended, not expired), else NULL.
-- PL/pgSQL, so the plan is cached: it runs before every request of the
-- trader's page (a SECURITY DEFINER LANGUAGE sql function is never inlined
-- and was planned afresh at every call).
CREATE OR REPLACE FUNCTION api.pp_session_user(p_session_hash bytea) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
BEGIN
    RETURN (SELECT user_id FROM sessions
            WHERE session_hash = p_session_hash AND ended_at IS NULL AND expires_at > now());
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_session_user(bytea) TO polypartner_api;

-- Logout: ends the session; false when there was none to end (unknown or
-- already ended).
CREATE OR REPLACE FUNCTION api.pp_session_end(p_session_hash bytea) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
BEGIN
    UPDATE sessions SET ended_at = now() WHERE session_hash = p_session_hash AND ended_at IS NULL;
    RETURN FOUND;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_session_end(bytea) TO polypartner_api;
