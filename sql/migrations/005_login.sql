-- Login links, sessions and the trader's read API. Secrets never reach the
-- database: the module generates them, keeps the secret in the email or the
-- cookie, and passes only their SHA-256 digests (32 bytes) here.
-- (004 is the price-feed migration; this one does not depend on it.)

-- ---- tables ---------------------------------------------------------------

-- One row per link requested. 'pending' until the module reports the mail
-- went out ('sent') or did not ('failed', never usable); 'used' once
-- redeemed. Only a 'sent' link before expires_at can be redeemed, once.
CREATE TABLE login_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    user_id       bigint NOT NULL REFERENCES users (id),
    tenant        text NOT NULL REFERENCES tenants (name),
    redirect_url  text NOT NULL CHECK (redirect_url <> ''),
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sent', 'failed', 'used')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    CHECK (expires_at > created_at),
    CHECK ((state = 'used') = (used_at IS NOT NULL)),
    -- a link is only ever issued for a trader the tenant registered
    FOREIGN KEY (tenant, user_id) REFERENCES tenant_users (tenant, user_id)
);
-- serves the throttle's count of a trader's recent links
CREATE INDEX login_tokens_by_trader ON login_tokens (tenant, user_id, created_at);

-- A signed-in browser. tenant is the tenant whose link created the session
-- (audit only: the session belongs to the trader, who sees the accounts of
-- every tenant). One session per link, by constraint.
CREATE TABLE sessions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_hash    bytea NOT NULL UNIQUE CHECK (octet_length(session_hash) = 32),
    user_id         bigint NOT NULL REFERENCES users (id),
    tenant          text NOT NULL REFERENCES tenants (name),
    login_token_id  bigint NOT NULL UNIQUE REFERENCES login_tokens (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    CHECK (expires_at > created_at),
    FOREIGN KEY (tenant, user_id) REFERENCES tenant_users (tenant, user_id)
);

-- The trader's own accounts across tenants (accounts_by_trader leads with
-- the tenant).
CREATE INDEX accounts_by_user ON accounts (user_id, created_at DESC, id DESC);

-- ---- login links ----------------------------------------------------------

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
CREATE FUNCTION pp_login_link_create(p_tenant text, p_user_id bigint, p_token_hash bytea,
                                     p_redirect_url text, p_ttl_s integer,
                                     p_max_links integer, p_window_s integer)
RETURNS TABLE (status integer, body text, email text, retry_after integer)
LANGUAGE plpgsql AS $$
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
        RETURN QUERY SELECT 404, pp_error_json('USER_NOT_FOUND', 'user not found'),
                            NULL::text, NULL::integer;
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
            RETURN QUERY SELECT 429, pp_error_json('RATE_LIMIT_EXCEEDED', format(
                'too many login links requested for this user; retry in %s seconds', v_retry)),
                NULL::text, v_retry;
            RETURN;
        END IF;
    END IF;

    INSERT INTO login_tokens (token_hash, user_id, tenant, redirect_url, expires_at)
    VALUES (p_token_hash, p_user_id, p_tenant, p_redirect_url,
            now() + make_interval(secs => p_ttl_s));
    RETURN QUERY SELECT 202, '{"status":"accepted"}'::text, v_email, NULL::integer;
END
$$;

-- The mail went out: the link becomes usable. False unless it was pending.
CREATE FUNCTION pp_login_link_sent(p_token_hash bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE login_tokens SET state = 'sent' WHERE token_hash = p_token_hash AND state = 'pending';
    RETURN FOUND;
END
$$;

-- The mail did not go out: the link is never usable (and is not counted by
-- the throttle). False unless it was pending.
CREATE FUNCTION pp_login_link_failed(p_token_hash bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE login_tokens SET state = 'failed' WHERE token_hash = p_token_hash AND state = 'pending';
    RETURN FOUND;
END
$$;

-- 410 for a link that cannot be redeemed, saying why when the holder of the
-- link can act on it (used, expired); unknown, pending and failed links get
-- one generic message.
CREATE FUNCTION pp_login_link_invalid(p_token_hash bytea)
RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$
    SELECT 410, pp_error_json('LOGIN_LINK_INVALID', CASE
        WHEN t.state = 'used' THEN 'this sign-in link has already been used'
        WHEN t.state = 'sent' AND t.expires_at <= now() THEN 'this sign-in link has expired'
        ELSE 'this sign-in link is not valid' END)
    FROM (SELECT NULL) AS one
    LEFT JOIN login_tokens t ON t.token_hash = p_token_hash
$$;

-- GET of the confirmation page: says whether the link is usable, consumes
-- nothing (mail scanners prefetch links).
CREATE FUNCTION pp_login_token_peek(p_token_hash bytea)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
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

-- POST of the confirmation page: consumes the link and opens a session, or
-- 410. The consuming UPDATE is the only check, so of two concurrent
-- redemptions the second waits for the first and then finds the link used.
CREATE FUNCTION pp_login_token_redeem(p_token_hash bytea, p_session_hash bytea,
                                      p_session_ttl_s integer)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql AS $$
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

-- ---- sessions -------------------------------------------------------------

-- The trader of a live session (not ended, not expired), else NULL.
CREATE FUNCTION pp_session_user(p_session_hash bytea) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT user_id FROM sessions
    WHERE session_hash = p_session_hash AND ended_at IS NULL AND expires_at > now()
$$;

-- Logout: ends the session; false when there was none to end (unknown or
-- already ended).
CREATE FUNCTION pp_session_end(p_session_hash bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET ended_at = now() WHERE session_hash = p_session_hash AND ended_at IS NULL;
    RETURN FOUND;
END
$$;

-- ---- the trader's reads ---------------------------------------------------

-- An account as its trader sees it: the partner API's account state plus
-- the tenant that governs it.
CREATE FUNCTION pp_trader_account_json(a accounts) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT left(pp_account_envelope(a.id), -1) || format(',"tenant":%s}', to_json(a.tenant))
$$;

CREATE FUNCTION pp_trader_account_not_found() RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$
    SELECT 404, pp_error_json('ACCOUNT_NOT_FOUND', 'no account with this account_id belongs to you')
$$;

-- GET /v1/trader/me: the trader, their personal wallet, and their accounts
-- of every tenant, newest first. Nothing of the tenants beyond those
-- accounts (not the tenant's mapping, external_id or metadata of the user).
CREATE FUNCTION pp_trader_me(p_user_id bigint)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u users;
    w wallets;
    v_accounts text;
BEGIN
    SELECT * INTO u FROM users WHERE id = p_user_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 404, pp_error_json('USER_NOT_FOUND', 'user not found');
        RETURN;
    END IF;
    SELECT * INTO STRICT w FROM wallets WHERE user_id = p_user_id AND kind = 'personal';
    SELECT coalesce('[' || string_agg(pp_trader_account_json(a), ','
                                      ORDER BY a.created_at DESC, a.id DESC) || ']', '[]')
    INTO v_accounts
    FROM accounts a WHERE a.user_id = p_user_id;
    RETURN QUERY SELECT 200, format(
        '{"user_id":%s,"email":%s,"personal_wallet":{"wallet_id":%s,"balance":%s},"accounts":%s}',
        u.id, to_json(u.email), w.id, pp_json_money(w.balance), v_accounts);
END
$$;

-- GET /v1/trader/accounts/{account_id}: the account (as in pp_trader_me)
-- with its open positions by outcome token, for the order ticket.
CREATE FUNCTION pp_trader_account(p_user_id bigint, p_account_id uuid)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a accounts;
    v_positions text;
BEGIN
    SELECT * INTO a FROM accounts WHERE id = p_account_id AND user_id = p_user_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_trader_account_not_found();
        RETURN;
    END IF;
    SELECT coalesce('[' || string_agg(format(
               '{"token_id":%s,"market_id":%s,"outcome":%s,"quantity":%s,'
               '"average_entry_price":%s,"mark_price":%s}',
               to_json(p.token_id), to_json(t.condition_id), to_json(t.outcome),
               pp_json_qty(p.quantity), pp_json_qty(p.avg_entry_price),
               pp_json_qty(pp_mark_price(t, p.avg_entry_price))),
               ',' ORDER BY p.opened_at, p.id) || ']', '[]')
    INTO v_positions
    FROM positions p JOIN market_tokens t ON t.token_id = p.token_id
    WHERE p.wallet_id = a.wallet_id AND p.closed_at IS NULL AND p.archived_at IS NULL
      AND p.quantity > 0;
    RETURN QUERY SELECT 200, left(pp_trader_account_json(a), -1)
                             || format(',"positions":%s}', v_positions);
END
$$;

-- The tenant of an account the trader owns, else NULL: the module then calls
-- the partner functions (pp_place_order, pp_cancel_order, pp_list_orders,
-- pp_list_trades) with that tenant, so trading has one implementation.
CREATE FUNCTION pp_trader_account_tenant(p_user_id bigint, p_account_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT tenant FROM accounts WHERE id = p_account_id AND user_id = p_user_id
$$;
