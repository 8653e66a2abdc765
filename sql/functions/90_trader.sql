-- The trader's own reads (signed in by a session): their profile and
-- accounts across tenants.

-- An account as its trader sees it: the partner API's account state plus
-- the tenant that governs it.
CREATE OR REPLACE FUNCTION engine.pp_trader_account_json(a accounts) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT left(pp_account_state(a.id), -1) || format(',"tenant":%s}', to_json(a.tenant))
$$;

CREATE OR REPLACE FUNCTION engine.pp_trader_account_not_found() RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$
    SELECT * FROM pp_error('ACCOUNT_NOT_FOUND', 'no account with this account_id belongs to you')
$$;

-- GET /v1/trader/me: the trader, their personal wallet, and their accounts
-- of every tenant, newest first. Nothing of the tenants beyond those
-- accounts (not the tenant's mapping, external_id or metadata of the user).
CREATE OR REPLACE FUNCTION api.pp_trader_me(p_user_id bigint)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    u users;
    w wallets;
    v_accounts text;
BEGIN
    SELECT * INTO u FROM users WHERE id = p_user_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_error('USER_NOT_FOUND', 'user not found');
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
GRANT EXECUTE ON FUNCTION api.pp_trader_me(bigint) TO polypartner_api;

-- GET /v1/trader/accounts/{account_id}: the account (as in pp_trader_me)
-- with its open positions by outcome token, for the order ticket.
CREATE OR REPLACE FUNCTION api.pp_trader_account(p_user_id bigint, p_account_id uuid)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
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
GRANT EXECUTE ON FUNCTION api.pp_trader_account(bigint,uuid) TO polypartner_api;

-- The tenant of an account the trader owns, else NULL: the module then calls
-- the partner functions (pp_place_order, pp_cancel_order, pp_list_orders,
-- pp_list_trades) with that tenant, so trading has one implementation.
-- PL/pgSQL, so its plan is cached (as pp_session_user's).
CREATE OR REPLACE FUNCTION api.pp_trader_account_tenant(p_user_id bigint, p_account_id uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
BEGIN
    RETURN (SELECT tenant FROM accounts WHERE id = p_account_id AND user_id = p_user_id);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_trader_account_tenant(bigint,uuid) TO polypartner_api;
