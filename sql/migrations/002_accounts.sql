-- Accounts: tenant-governed accounts, each backed by its own wallet; the
-- market, order and position tables that equity, close and reset read; and
-- the engine's order-resting and cancellation primitives (the trading-engine
-- migration builds fills and matching on these).

-- ---- markets and prices (filled by the price feed) ------------------------

CREATE TABLE markets (
    condition_id      text PRIMARY KEY,
    question          text NOT NULL,
    slug              text,
    closed            boolean NOT NULL DEFAULT false,
    resolved          boolean NOT NULL DEFAULT false,
    winning_token_id  text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE market_tokens (
    token_id          text PRIMARY KEY CHECK (token_id ~ '^[0-9]{1,78}$'),
    condition_id      text NOT NULL REFERENCES markets (condition_id),
    outcome           text NOT NULL,
    best_bid          numeric(6, 4) CHECK (best_bid >= 0 AND best_bid <= 1),
    best_ask          numeric(6, 4) CHECK (best_ask >= 0 AND best_ask <= 1),
    midpoint          numeric(6, 4) CHECK (midpoint >= 0 AND midpoint <= 1),
    last_trade_price  numeric(6, 4) CHECK (last_trade_price >= 0 AND last_trade_price <= 1),
    tick_size         numeric(6, 4) NOT NULL DEFAULT 0.01 CHECK (tick_size > 0),
    updated_at        timestamptz
);
CREATE INDEX market_tokens_by_market ON market_tokens (condition_id);

-- The price a position is marked at: the midpoint when the book has both
-- sides, else the last trade, else the position's own entry price (cost
-- basis) so a position without a live price neither gains nor loses.
CREATE FUNCTION pp_mark_price(t market_tokens, p_entry numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(round(coalesce(
        CASE WHEN t.best_bid IS NOT NULL AND t.best_ask IS NOT NULL
             THEN (t.best_bid + t.best_ask) / 2 END,
        t.midpoint, t.last_trade_price), 4), p_entry)
$$;

-- ---- accounts -------------------------------------------------------------

CREATE TABLE accounts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant            text NOT NULL REFERENCES tenants (name),
    external_id       text NOT NULL CHECK (char_length(external_id) BETWEEN 1 AND 255),
    user_id           bigint NOT NULL,
    wallet_id         bigint NOT NULL UNIQUE REFERENCES wallets (id),
    stage             text NOT NULL CHECK (stage IN ('demo', 'challenge', 'funded')),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    starting_balance  numeric(16, 2) NOT NULL CHECK (starting_balance >= 0),
    rules             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(rules) = 'object'),
    metadata          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    reset_count       integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    closed_at         timestamptz,
    UNIQUE (tenant, external_id),
    FOREIGN KEY (tenant, user_id) REFERENCES tenant_users (tenant, user_id)
);
CREATE INDEX accounts_by_trader ON accounts (tenant, user_id, created_at DESC, id DESC);

-- ---- orders and positions -------------------------------------------------

CREATE TABLE orders (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wallet_id         bigint NOT NULL REFERENCES wallets (id),
    token_id          text NOT NULL REFERENCES market_tokens (token_id),
    side              text NOT NULL CHECK (side IN ('BUY', 'SELL')),
    order_type        text NOT NULL CHECK (order_type IN ('market', 'limit')),
    quantity          numeric(18, 4) NOT NULL CHECK (quantity > 0),
    limit_price       numeric(6, 4) CHECK (limit_price > 0 AND limit_price < 1),
    worst_price       numeric(6, 4) CHECK (worst_price > 0 AND worst_price < 1),
    fee_rate          numeric(8, 6) NOT NULL DEFAULT 0 CHECK (fee_rate >= 0 AND fee_rate < 1),
    status            text NOT NULL CHECK (status IN ('open', 'filled', 'cancelled')),
    reserved_cash     numeric(16, 2) NOT NULL DEFAULT 0 CHECK (reserved_cash >= 0),
    reserved_shares   numeric(18, 4) NOT NULL DEFAULT 0 CHECK (reserved_shares >= 0),
    client_order_id   text CHECK (char_length(client_order_id) BETWEEN 1 AND 255),
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    cancelled_at      timestamptz,
    UNIQUE (wallet_id, client_order_id)
);
CREATE INDEX orders_open_by_wallet ON orders (wallet_id, id) WHERE status = 'open';

-- One open position per (wallet, token); reset archives positions instead of
-- deleting them, so the history stays.
CREATE TABLE positions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wallet_id         bigint NOT NULL REFERENCES wallets (id),
    token_id          text NOT NULL REFERENCES market_tokens (token_id),
    quantity          numeric(18, 4) NOT NULL CHECK (quantity >= 0),
    reserved_quantity numeric(18, 4) NOT NULL DEFAULT 0
                      CHECK (reserved_quantity >= 0 AND reserved_quantity <= quantity),
    avg_entry_price   numeric(10, 6) NOT NULL CHECK (avg_entry_price >= 0),
    opened_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    closed_at         timestamptz,
    archived_at       timestamptz
);
CREATE UNIQUE INDEX positions_one_open ON positions (wallet_id, token_id)
    WHERE closed_at IS NULL AND archived_at IS NULL;

ALTER TABLE ledger ADD COLUMN order_id bigint REFERENCES orders (id);

-- ---- engine primitives ----------------------------------------------------

-- Moves cash into or out of a wallet with its ledger entry, in the caller's
-- transaction: the only way a wallet balance changes.
CREATE FUNCTION pp_wallet_post(p_wallet_id bigint, p_amount numeric, p_cause text,
                               p_order_id bigint DEFAULT NULL) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
    v_balance numeric;
BEGIN
    IF p_amount = 0 THEN
        SELECT balance INTO STRICT v_balance FROM wallets WHERE id = p_wallet_id;
        RETURN v_balance;
    END IF;
    UPDATE wallets SET balance = balance + p_amount WHERE id = p_wallet_id
    RETURNING balance INTO STRICT v_balance;
    INSERT INTO ledger (wallet_id, amount, cause, order_id)
    VALUES (p_wallet_id, p_amount, p_cause, p_order_id);
    RETURN v_balance;
END
$$;

-- Rests a limit order, reserving cash (BUY: quantity x limit price, plus the
-- fee at the order's fee rate, so its fill never needs more) or shares
-- (SELL). Raises SQLSTATE PP4xx on a rule violation, writing nothing: PP402
-- insufficient cash, PP403 insufficient shares, PP422 bad side, PP423
-- account closed. Locks the account row, then the wallet row (the order
-- every operation uses).
CREATE FUNCTION pp_engine_rest_limit_order(p_wallet_id bigint, p_token_id text, p_side text,
                                           p_quantity numeric, p_limit_price numeric,
                                           p_client_order_id text DEFAULT NULL,
                                           p_fee_rate numeric DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_order bigint;
    v_cost numeric;
    v_position positions;
    v_status text;
BEGIN
    IF p_side IS NULL OR p_side NOT IN ('BUY', 'SELL') THEN
        RAISE EXCEPTION 'side must be BUY or SELL' USING ERRCODE = 'PP422';
    END IF;
    SELECT status INTO v_status FROM accounts WHERE wallet_id = p_wallet_id FOR UPDATE;
    IF v_status = 'closed' THEN
        RAISE EXCEPTION 'account is closed' USING ERRCODE = 'PP423';
    END IF;
    PERFORM 1 FROM wallets WHERE id = p_wallet_id FOR UPDATE;
    IF p_side = 'BUY' THEN
        v_cost := round(p_quantity * p_limit_price, 2);
        v_cost := v_cost + round(v_cost * p_fee_rate, 2);
        IF (SELECT balance FROM wallets WHERE id = p_wallet_id) < v_cost THEN
            RAISE EXCEPTION 'insufficient cash' USING ERRCODE = 'PP402';
        END IF;
        INSERT INTO orders (wallet_id, token_id, side, order_type, quantity, limit_price,
                            status, reserved_cash, client_order_id, fee_rate)
        VALUES (p_wallet_id, p_token_id, 'BUY', 'limit', p_quantity, p_limit_price, 'open',
                v_cost, p_client_order_id, p_fee_rate)
        RETURNING id INTO v_order;
        PERFORM pp_wallet_post(p_wallet_id, -v_cost, 'reserve', v_order);
    ELSE
        SELECT * INTO v_position FROM positions
        WHERE wallet_id = p_wallet_id AND token_id = p_token_id
          AND closed_at IS NULL AND archived_at IS NULL
        FOR UPDATE;
        IF NOT FOUND OR v_position.quantity - v_position.reserved_quantity < p_quantity THEN
            RAISE EXCEPTION 'insufficient shares' USING ERRCODE = 'PP403';
        END IF;
        INSERT INTO orders (wallet_id, token_id, side, order_type, quantity, limit_price,
                            status, reserved_shares, client_order_id, fee_rate)
        VALUES (p_wallet_id, p_token_id, 'SELL', 'limit', p_quantity, p_limit_price, 'open',
                p_quantity, p_client_order_id, p_fee_rate)
        RETURNING id INTO v_order;
        UPDATE positions SET reserved_quantity = reserved_quantity + p_quantity
        WHERE id = v_position.id;
    END IF;
    RETURN v_order;
END
$$;

-- Cancels one open order, releases what it reserved and records when.
CREATE FUNCTION pp_engine_cancel_order(p_order_id bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    o orders;
BEGIN
    UPDATE orders SET status = 'cancelled', updated_at = clock_timestamp(),
                      cancelled_at = clock_timestamp()
    WHERE id = p_order_id AND status = 'open'
    RETURNING * INTO o;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF o.reserved_cash > 0 THEN
        PERFORM pp_wallet_post(o.wallet_id, o.reserved_cash, 'release', o.id);
    END IF;
    IF o.reserved_shares > 0 THEN
        UPDATE positions SET reserved_quantity = reserved_quantity - o.reserved_shares
        WHERE wallet_id = o.wallet_id AND token_id = o.token_id
          AND closed_at IS NULL AND archived_at IS NULL;
    END IF;
    UPDATE orders SET reserved_cash = 0, reserved_shares = 0 WHERE id = o.id;
    RETURN true;
END
$$;

-- Cancels at most p_limit open orders of a wallet, oldest first; returns how
-- many are still open afterwards.
CREATE FUNCTION pp_engine_cancel_open_orders(p_wallet_id bigint, p_limit integer)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    FOR v_id IN
        SELECT id FROM orders WHERE wallet_id = p_wallet_id AND status = 'open'
        ORDER BY id LIMIT p_limit
    LOOP
        PERFORM pp_engine_cancel_order(v_id);
    END LOOP;
    RETURN (SELECT count(*) FROM orders WHERE wallet_id = p_wallet_id AND status = 'open');
END
$$;

-- ---- JSON renderings ------------------------------------------------------

CREATE FUNCTION pp_json_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_json(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))::text
$$;

-- Money at 2 decimals, quantities and prices at 4, always as JSON strings.
CREATE FUNCTION pp_json_money(x numeric) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT to_json(round(x, 2)::text)::text $$;

CREATE FUNCTION pp_json_qty(x numeric) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT to_json(round(x, 4)::text)::text $$;

-- The summary shape used in user profiles and the create response.
CREATE FUNCTION pp_account_summary_json(a accounts) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"account_id":%s,"external_id":%s,"stage":%s,"status":%s,'
                  '"starting_balance":%s,"wallet_id":%s,"created_at":%s}',
                  to_json(a.id), to_json(a.external_id), to_json(a.stage), to_json(a.status),
                  pp_json_money(a.starting_balance), a.wallet_id, pp_json_time(a.created_at))
$$;

CREATE FUNCTION pp_account_created_json(a accounts) RETURNS text
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
-- unrealized_pnl = equity - starting_balance.
CREATE FUNCTION pp_account_envelope(p_account_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH a AS (
        SELECT * FROM accounts WHERE id = p_account_id
    ), w AS (
        SELECT wallets.* FROM wallets JOIN a ON wallets.id = a.wallet_id
    ), reserved AS (
        SELECT coalesce(sum(o.reserved_cash), 0) AS cash
        FROM orders o JOIN a ON o.wallet_id = a.wallet_id
        WHERE o.status = 'open'
    ), open_positions AS (
        SELECT p.opened_at, p.id, m.condition_id, t.outcome, p.quantity, p.avg_entry_price,
               pp_mark_price(t, p.avg_entry_price) AS mark,
               round(p.quantity * pp_mark_price(t, p.avg_entry_price), 2) AS market_value,
               round(p.quantity * pp_mark_price(t, p.avg_entry_price), 2)
                 - round(p.quantity * p.avg_entry_price, 2) AS pnl
        FROM positions p
        JOIN a ON p.wallet_id = a.wallet_id
        JOIN market_tokens t ON t.token_id = p.token_id
        JOIN markets m ON m.condition_id = t.condition_id
        WHERE p.closed_at IS NULL AND p.archived_at IS NULL AND p.quantity > 0
    ), totals AS (
        SELECT w.balance + reserved.cash
               + coalesce((SELECT sum(market_value) FROM open_positions), 0) AS equity
        FROM w, reserved
    )
    SELECT format(
        '{"account_id":%s,"external_id":%s,"stage":%s,"status":%s,"balance":%s,'
        '"starting_balance":%s,"equity":%s,"unrealized_pnl":%s,"realized_pnl":null,'
        '"open_positions":%s,"rules":%s,"metadata":%s,"updated_at":%s}',
        to_json(a.id), to_json(a.external_id), to_json(a.stage), to_json(a.status),
        pp_json_money(w.balance), pp_json_money(a.starting_balance),
        pp_json_money(totals.equity), pp_json_money(totals.equity - a.starting_balance),
        coalesce((SELECT '[' || string_agg(format(
            '{"market_id":%s,"outcome":%s,"quantity":%s,"avg_entry_price":%s,'
            '"current_price":%s,"market_value":%s,"unrealized_pnl":%s}',
            to_json(op.condition_id), to_json(op.outcome), pp_json_qty(op.quantity),
            pp_json_qty(op.avg_entry_price), pp_json_qty(op.mark),
            pp_json_money(op.market_value), pp_json_money(op.pnl)),
            ',' ORDER BY op.opened_at, op.id) || ']' FROM open_positions op), '[]'),
        a.rules, a.metadata, pp_json_time(a.created_at))
    FROM a, w, totals
$$;

CREATE FUNCTION pp_account_not_found() RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$
    SELECT 404, pp_error_json('ACCOUNT_NOT_FOUND',
        'no account with this account_id belongs to your tenant')
$$;

-- ---- endpoints ------------------------------------------------------------

-- POST /v1/partner/accounts. Idempotent on (tenant, external_id): a replay
-- with the same user_id, stage and starting_balance (compared as numbers)
-- returns the account; anything else is a conflict. The wallet is created in
-- a subtransaction, so a losing concurrent request leaves no wallet behind.
CREATE FUNCTION pp_create_account(p_tenant text, p_user_id bigint, p_external_id text,
                                  p_stage text, p_starting_balance numeric,
                                  p_rules jsonb, p_metadata jsonb)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql AS $$
DECLARE
    a accounts;
    v_wallet bigint;
BEGIN
    SELECT * INTO a FROM accounts WHERE tenant = p_tenant AND external_id = p_external_id;
    IF NOT FOUND THEN
        PERFORM 1 FROM tenant_users WHERE tenant = p_tenant AND user_id = p_user_id;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 404, pp_error_json('USER_NOT_FOUND',
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
        RETURN QUERY SELECT 409, pp_error_json('ACCOUNT_EXTERNAL_ID_CONFLICT',
            'external_id is already used by an account with a different user_id, stage '
            'or starting_balance');
    END IF;
END
$$;

-- GET /v1/partner/accounts/{account_id}
CREATE FUNCTION pp_get_account(p_tenant text, p_account_id uuid)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE id = p_account_id AND tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
        RETURN;
    END IF;
    RETURN QUERY SELECT 200, pp_account_envelope(p_account_id);
END
$$;

-- PATCH /v1/partner/accounts/{account_id}: NULL leaves a field untouched.
CREATE FUNCTION pp_patch_account(p_tenant text, p_account_id uuid, p_rules jsonb,
                                 p_metadata jsonb)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts
    SET rules = coalesce(p_rules, rules), metadata = coalesce(p_metadata, metadata)
    WHERE id = p_account_id AND tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
        RETURN;
    END IF;
    RETURN QUERY SELECT 200, pp_account_envelope(p_account_id);
END
$$;

-- Locks an account of the tenant and its wallet, in that order everywhere, so
-- concurrent close, reset and orders on one account serialise.
CREATE FUNCTION pp_lock_account(p_tenant text, p_account_id uuid) RETURNS accounts
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

CREATE FUNCTION pp_orders_not_cancelled(p_remaining bigint) RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$
    SELECT 409, pp_error_json('ORDERS_NOT_CANCELLED', format(
        '%s open orders remain after cancelling a batch; retry to cancel the rest',
        p_remaining))
$$;

-- POST /v1/partner/accounts/{account_id}/close: cancels open orders (at most
-- p_cancel_limit per call), then archives the account. Idempotent.
CREATE FUNCTION pp_close_account(p_tenant text, p_account_id uuid, p_cancel_limit integer)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql AS $$
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
        UPDATE accounts SET status = 'closed', closed_at = clock_timestamp() WHERE id = a.id;
    END IF;
    RETURN QUERY SELECT 200, pp_account_envelope(a.id);
END
$$;

-- POST /v1/partner/accounts/{account_id}/reset: same account, external_id
-- and wallet; open orders cancelled (bounded as for close), open positions
-- archived, cash brought back to starting_balance by a ledger entry, status
-- active again. Nothing is deleted.
CREATE FUNCTION pp_reset_account(p_tenant text, p_account_id uuid, p_cancel_limit integer)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql AS $$
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
    RETURN QUERY SELECT 200, pp_account_envelope(a.id);
END
$$;

-- GET /v1/partner/users/{user_id} now lists the tenant's accounts of the
-- trader, newest first, in the summary shape.
CREATE OR REPLACE FUNCTION pp_get_user(p_tenant text, p_user_id bigint)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m tenant_users;
    v_email text;
    v_accounts text;
BEGIN
    SELECT * INTO m FROM tenant_users WHERE tenant = p_tenant AND user_id = p_user_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 404, pp_error_json('USER_NOT_FOUND',
            'no user with this user_id is registered by your tenant');
        RETURN;
    END IF;
    SELECT email INTO STRICT v_email FROM users WHERE id = m.user_id;
    SELECT coalesce('[' || string_agg(pp_account_summary_json(a), ','
                                      ORDER BY a.created_at DESC, a.id DESC) || ']', '[]')
    INTO v_accounts
    FROM accounts a WHERE a.tenant = p_tenant AND a.user_id = p_user_id;
    RETURN QUERY SELECT 200, format(
        '{"user_id":%s,"tenant_user_id":%s,"external_id":%s,"email":%s,"metadata":%s,'
        '"accounts":%s}',
        m.user_id, to_json(m.id), to_json(m.external_id), to_json(v_email), m.metadata,
        v_accounts);
END
$$;
