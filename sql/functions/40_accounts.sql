-- Tenant-governed accounts, each backed by its own wallet: create, read,
-- patch, close and reset, and the account-state envelope.

-- The summary shape used in user profiles and the create response.
CREATE OR REPLACE FUNCTION engine.pp_account_summary_json(a accounts) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"account_id":%s,"external_id":%s,"stage":%s,"status":%s,'
                  '"starting_balance":%s,"wallet_id":%s,"created_at":%s}',
                  to_json(a.id), to_json(a.external_id), to_json(a.stage), to_json(a.status),
                  pp_json_money(a.starting_balance), a.wallet_id, pp_json_time(a.created_at))
$$;

CREATE OR REPLACE FUNCTION engine.pp_account_created_json(a accounts) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"account_id":%s,"wallet_id":%s,"user_id":%s,"external_id":%s,"stage":%s,'
                  '"status":%s,"starting_balance":%s,"rules":%s,"metadata":%s}',
                  to_json(a.id), a.wallet_id, a.user_id, to_json(a.external_id),
                  to_json(a.stage), to_json(a.status), pp_json_money(a.starting_balance),
                  a.rules, a.metadata)
$$;

-- The account-state envelope, marked to market in one statement (one
-- snapshot): equity = cash + cash reserved by open orders + sum over open
-- positions of quantity x mark price (each at 2 decimals);
-- unrealized_pnl = equity - starting_balance. "reserved_cash" (after
-- "balance") makes equity = balance + reserved_cash + sum of
-- open_positions[].market_value hold field by field. NULL for an unknown id.
--
-- PL/pgSQL with one static statement, so its plan is cached for the session
-- (a LANGUAGE sql function whose body has a FROM is never inlined, and
-- PostgreSQL 15 plans it afresh at every call). The wallet's orders and
-- positions are read by LATERAL subqueries on a.wallet_id, so each is an index
-- scan with the wallet as its index condition.
CREATE OR REPLACE FUNCTION engine.pp_account_envelope(p_account_id uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT format(
            '{"account_id":%s,"external_id":%s,"stage":%s,"status":%s,"balance":%s,'
            '"reserved_cash":%s,'
            '"starting_balance":%s,"equity":%s,"unrealized_pnl":%s,"realized_pnl":null,'
            '"open_positions":%s,"rules":%s,"metadata":%s,"updated_at":%s}',
            to_json(a.id), to_json(a.external_id), to_json(a.stage), to_json(a.status),
            pp_json_money(w.balance), pp_json_money(r.cash), pp_json_money(a.starting_balance),
            pp_json_money(w.balance + r.cash + op.value),
            pp_json_money(w.balance + r.cash + op.value - a.starting_balance),
            op.list, a.rules, a.metadata, pp_json_time(a.created_at))
        FROM accounts a
        JOIN wallets w ON w.id = a.wallet_id
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(o.reserved_cash), 0) AS cash
            FROM orders o
            WHERE o.wallet_id = a.wallet_id AND o.status = 'open') r
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(x.value), 0) AS value,
                   coalesce('[' || string_agg(format(
                       '{"market_id":%s,"outcome":%s,"quantity":%s,"avg_entry_price":%s,'
                       '"current_price":%s,"market_value":%s,"unrealized_pnl":%s}',
                       to_json(x.condition_id), to_json(x.outcome), pp_json_qty(x.quantity),
                       pp_json_qty(x.avg_entry_price), pp_json_qty(x.mark),
                       pp_json_money(x.value),
                       pp_json_money(x.value - round(x.quantity * x.avg_entry_price, 2))),
                       ',' ORDER BY x.opened_at, x.id) || ']', '[]') AS list
            FROM (SELECT p.opened_at, p.id, t.condition_id, t.outcome, p.quantity,
                         p.avg_entry_price, t.mark, round(p.quantity * t.mark, 2) AS value
                  FROM positions p
                  CROSS JOIN LATERAL (
                      -- OFFSET 0: one index lookup per position; as a plain join
                      -- the planner hashes all of a small market_tokens on every
                      -- call (half the speed at 1,000 tokens)
                      SELECT t.condition_id, t.outcome, pp_mark_price(t, p.avg_entry_price) AS mark
                      FROM market_tokens t WHERE t.token_id = p.token_id OFFSET 0) t
                  WHERE p.wallet_id = a.wallet_id AND p.closed_at IS NULL
                    AND p.archived_at IS NULL AND p.quantity > 0) x) op
        WHERE a.id = p_account_id);
END
$$;

CREATE OR REPLACE FUNCTION engine.pp_account_not_found() RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$
    SELECT * FROM pp_error('ACCOUNT_NOT_FOUND',
        'no account with this account_id belongs to your tenant')
$$;

-- Locks an account of the tenant and its wallet, in that order everywhere, so
-- concurrent close, reset and orders on one account serialise.
CREATE OR REPLACE FUNCTION engine.pp_lock_account(p_tenant text, p_account_id uuid) RETURNS accounts
LANGUAGE plpgsql AS $$
DECLARE
    a accounts;
BEGIN
    SELECT * INTO a FROM accounts WHERE id = p_account_id AND tenant = p_tenant FOR UPDATE;
    IF FOUND THEN
        PERFORM 1 FROM wallets WHERE id = a.wallet_id FOR UPDATE;
    END IF;
    RETURN a;
END
$$;

CREATE OR REPLACE FUNCTION engine.pp_orders_not_cancelled(p_remaining bigint) RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$
    SELECT * FROM pp_error('ORDERS_NOT_CANCELLED', format(
        '%s open orders remain after cancelling a batch; retry to cancel the rest',
        p_remaining))
$$;

-- POST /v1/partner/accounts. Idempotent on (tenant, external_id): a replay
-- with the same user_id, stage and starting_balance (compared as numbers)
-- returns the account; anything else is a conflict. The wallet is created in
-- a subtransaction, so a losing concurrent request leaves no wallet behind.
CREATE OR REPLACE FUNCTION api.pp_create_account(p_tenant text, p_user_id bigint, p_external_id text,
                                  p_stage text, p_starting_balance numeric,
                                  p_rules jsonb, p_metadata jsonb)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    a accounts;
    v_wallet bigint;
BEGIN
    SELECT * INTO a FROM accounts WHERE tenant = p_tenant AND external_id = p_external_id;
    IF NOT FOUND THEN
        PERFORM 1 FROM tenant_users WHERE tenant = p_tenant AND user_id = p_user_id;
        IF NOT FOUND THEN
            RETURN QUERY SELECT * FROM pp_error('USER_NOT_FOUND',
                'user_id is not registered by your tenant');
            RETURN;
        END IF;
        BEGIN
            INSERT INTO wallets (user_id, kind, balance) VALUES (p_user_id, 'tenant', 0)
            RETURNING id INTO v_wallet;
            PERFORM pp_wallet_post(v_wallet, p_starting_balance, 'deposit');
            INSERT INTO accounts (tenant, external_id, user_id, wallet_id, stage,
                                  starting_balance, rules, metadata)
            VALUES (p_tenant, p_external_id, p_user_id, v_wallet, p_stage,
                    p_starting_balance, p_rules, p_metadata)
            ON CONFLICT (tenant, external_id) DO NOTHING
            RETURNING * INTO a;
            IF a.id IS NULL THEN
                RAISE EXCEPTION 'account external_id taken concurrently' USING ERRCODE = 'PP409';
            END IF;
            PERFORM pp_risk_start(a.id);
            RETURN QUERY SELECT 201, pp_account_created_json(a);
            RETURN;
        EXCEPTION WHEN SQLSTATE 'PP409' THEN
            SELECT * INTO STRICT a FROM accounts
            WHERE tenant = p_tenant AND external_id = p_external_id;
        END;
    END IF;
    IF a.user_id = p_user_id AND a.stage = p_stage AND a.starting_balance = p_starting_balance THEN
        RETURN QUERY SELECT 200, pp_account_created_json(a);
    ELSE
        RETURN QUERY SELECT * FROM pp_error('ACCOUNT_EXTERNAL_ID_CONFLICT',
            'external_id is already used by an account with a different user_id, stage '
            'or starting_balance');
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_create_account(text,bigint,text,text,numeric,jsonb,jsonb) TO polypartner_api;

-- GET /v1/partner/accounts/{account_id}: the tenant's check and the
-- envelope in one statement (the hottest read: a separate check cost a fifth).
CREATE OR REPLACE FUNCTION api.pp_get_account(p_tenant text, p_account_id uuid)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT 200, pp_account_state(a.id) FROM accounts a
                 WHERE a.id = p_account_id AND a.tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
    END IF;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_get_account(text,uuid) TO polypartner_api;

-- PATCH /v1/partner/accounts/{account_id}: NULL leaves a field untouched.
CREATE OR REPLACE FUNCTION api.pp_patch_account(p_tenant text, p_account_id uuid, p_rules jsonb,
                                 p_metadata jsonb)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
BEGIN
    UPDATE accounts
    SET rules = coalesce(p_rules, rules), metadata = coalesce(p_metadata, metadata)
    WHERE id = p_account_id AND tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
        RETURN;
    END IF;
    RETURN QUERY SELECT 200, pp_account_state(p_account_id);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_patch_account(text,uuid,jsonb,jsonb) TO polypartner_api;

-- POST /v1/partner/accounts/{account_id}/close: cancels open orders (at most
-- p_cancel_limit per call), then archives the account. Idempotent.
CREATE OR REPLACE FUNCTION api.pp_close_account(p_tenant text, p_account_id uuid, p_cancel_limit integer)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    a accounts;
    v_remaining bigint;
BEGIN
    a := pp_lock_account(p_tenant, p_account_id);
    IF a.id IS NULL THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
        RETURN;
    END IF;
    v_remaining := pp_engine_cancel_open_orders(a.wallet_id, p_cancel_limit);
    IF v_remaining > 0 THEN
        RETURN QUERY SELECT * FROM pp_orders_not_cancelled(v_remaining);
        RETURN;
    END IF;
    IF a.status <> 'closed' THEN
        PERFORM pp_risk_commit(ARRAY[a.id]);   -- the cancellations, then the marks freeze
        PERFORM pp_risk_freeze(a.id);
        UPDATE accounts SET status = 'closed', closed_at = clock_timestamp() WHERE id = a.id;
    END IF;
    RETURN QUERY SELECT 200, pp_account_state(a.id);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_close_account(text,uuid,integer) TO polypartner_api;

-- POST /v1/partner/accounts/{account_id}/reset: same account, external_id
-- and wallet; open orders cancelled (bounded as for close), open positions
-- archived, cash brought back to starting_balance by a ledger entry, status
-- active again. Nothing is deleted.
CREATE OR REPLACE FUNCTION api.pp_reset_account(p_tenant text, p_account_id uuid, p_cancel_limit integer)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    a accounts;
    v_remaining bigint;
    v_balance numeric;
BEGIN
    a := pp_lock_account(p_tenant, p_account_id);
    IF a.id IS NULL THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
        RETURN;
    END IF;
    v_remaining := pp_engine_cancel_open_orders(a.wallet_id, p_cancel_limit);
    IF v_remaining > 0 THEN
        RETURN QUERY SELECT * FROM pp_orders_not_cancelled(v_remaining);
        RETURN;
    END IF;
    UPDATE positions SET archived_at = clock_timestamp()
    WHERE wallet_id = a.wallet_id AND closed_at IS NULL AND archived_at IS NULL;
    SELECT balance INTO STRICT v_balance FROM wallets WHERE id = a.wallet_id;
    PERFORM pp_wallet_post(a.wallet_id, a.starting_balance - v_balance, 'reset');
    UPDATE accounts SET status = 'active', closed_at = NULL, reset_count = reset_count + 1
    WHERE id = a.id;
    PERFORM pp_risk_start(a.id);   -- the old history stays, frozen
    RETURN QUERY SELECT 200, pp_account_state(a.id);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_reset_account(text,uuid,integer) TO polypartner_api;
