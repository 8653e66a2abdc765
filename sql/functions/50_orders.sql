-- Orders: placing (market orders fill-or-kill at the book, limit orders
-- rest), cancelling and listing them, and their JSON.

CREATE OR REPLACE FUNCTION engine.pp_fill_json(f fills) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"trade_id":%s,"order_id":%s,"market_id":%s,"side":%s,"outcome":%s,'
                  '"price":%s,"quantity":%s,"notional":%s,"fee":%s,"filled_at":%s,'
                  '"client_order_id":%s,"realized_pnl":null}',
                  f.order_id, f.order_id, to_json(f.condition_id), to_json(f.side),
                  to_json(f.outcome), pp_json_qty(f.price), pp_json_qty(f.quantity),
                  pp_json_money(f.notional), pp_json_money(f.fee), pp_json_time_us(f.filled_at),
                  coalesce(to_json(f.client_order_id)::text, 'null'))
$$;

-- An order's JSON from its row, its token's row, its account's id and its
-- fill's row (all NULL when it has none). No FROM, so PostgreSQL inlines it
-- into the query that calls it: pp_order_json for one order, pp_list_orders
-- for a page of them in one join.
CREATE OR REPLACE FUNCTION engine.pp_order_row_json(o orders, t market_tokens, p_account_id uuid,
                                                    f fills) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"order_id":%s,"account_id":%s,"client_order_id":%s,"market_id":%s,'
                  '"token_id":%s,"outcome":%s,"side":%s,"type":%s,"quantity":%s,'
                  '"limit_price":%s,"worst_price":%s,"status":%s,"reserved_cash":%s,'
                  '"created_at":%s,"cancelled_at":%s,"fill":%s}',
                  o.id, to_json(p_account_id), coalesce(to_json(o.client_order_id)::text, 'null'),
                  to_json(t.condition_id), to_json(o.token_id), to_json(t.outcome),
                  to_json(o.side), to_json(o.order_type), pp_json_qty(o.quantity),
                  pp_json_opt_qty(o.limit_price), pp_json_opt_qty(o.worst_price),
                  to_json(o.status), pp_json_money(o.reserved_cash),
                  pp_json_time_us(o.created_at),
                  coalesce(pp_json_time_us(o.cancelled_at), 'null'),
                  CASE WHEN f.order_id IS NULL THEN 'null' ELSE pp_fill_json(f) END)
$$;

-- One order's JSON; NULL for an unknown id or an order of a wallet without an
-- account. PL/pgSQL with one static statement, so its plan is cached for the
-- session (as a LANGUAGE sql function with a FROM it was planned afresh at
-- every call).
CREATE OR REPLACE FUNCTION engine.pp_order_json(p_order_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT pp_order_row_json(o, t, a.id, f)
        FROM orders o
        JOIN market_tokens t ON t.token_id = o.token_id
        JOIN accounts a ON a.wallet_id = o.wallet_id
        LEFT JOIN fills f ON f.order_id = o.id
        WHERE o.id = p_order_id);
END
$$;

-- Was the order errors' helper, which named their status; pp_error takes it from the catalogue.
DROP FUNCTION IF EXISTS engine.pp_order_error(integer, text, text);

-- POST /v1/partner/accounts/{account_id}/orders. Market orders are
-- fill-or-kill at the book; limit orders rest (reserving cash or shares)
-- and fill at their limit price once the book crosses them, immediately if
-- it already does. p_max_age_s > 0 refuses quotes older than that. A
-- client_order_id makes the call idempotent per account.
CREATE OR REPLACE FUNCTION api.pp_place_order(p_tenant text, p_account_id uuid, p_token_id text, p_side text,
                               p_type text, p_quantity numeric, p_limit_price numeric,
                               p_worst_price numeric, p_client_order_id text,
                               p_fee_rate numeric, p_max_age_s integer)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    a accounts;
    t market_tokens;
    m markets;
    o orders;
    q record;
    v_order bigint;
    v_fresh boolean;
BEGIN
    a := pp_lock_account(p_tenant, p_account_id);
    IF a.id IS NULL THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
        RETURN;
    END IF;
    IF p_client_order_id IS NOT NULL THEN
        SELECT * INTO o FROM orders WHERE wallet_id = a.wallet_id AND client_order_id = p_client_order_id;
        IF FOUND THEN
            IF o.token_id = p_token_id AND o.side = p_side AND o.order_type = p_type
               AND o.quantity = p_quantity
               AND o.limit_price IS NOT DISTINCT FROM p_limit_price
               AND o.worst_price IS NOT DISTINCT FROM p_worst_price THEN
                RETURN QUERY SELECT 200, pp_order_json(o.id);
            ELSE
                RETURN QUERY SELECT * FROM pp_error('IDEMPOTENCY_KEY_REUSE',
                    'client_order_id was already used for a different order on this account');
            END IF;
            RETURN;
        END IF;
    END IF;
    IF a.status = 'closed' THEN
        RETURN QUERY SELECT * FROM pp_error('ACCOUNT_CLOSED',
            'the account is closed and accepts no new orders');
        RETURN;
    END IF;
    SELECT * INTO t FROM market_tokens WHERE token_id = p_token_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_error('MARKET_NOT_FOUND',
            'token_id is not an outcome of any known market');
        RETURN;
    END IF;
    SELECT * INTO STRICT m FROM markets WHERE condition_id = t.condition_id;
    IF m.closed OR m.resolved THEN
        RETURN QUERY SELECT * FROM pp_error('MARKET_CLOSED',
            'the market is closed to trading');
        RETURN;
    END IF;
    IF p_limit_price IS NOT NULL AND p_limit_price % t.tick_size <> 0 THEN
        RETURN QUERY SELECT * FROM pp_error('INVALID_PRICE', format(
            'limit_price must be a multiple of the market''s tick size %s', rtrim(t.tick_size::text, '0')));
        RETURN;
    END IF;
    -- with staleness checks off, a token never priced simply has no price
    v_fresh := p_max_age_s <= 0
               OR (t.updated_at IS NOT NULL
                   AND t.updated_at >= now() - make_interval(secs => p_max_age_s));

    IF p_type = 'market' THEN
        IF NOT v_fresh THEN
            RETURN QUERY SELECT * FROM pp_error('STALE_QUOTE', format(
                'the last price update for this outcome is older than %s seconds', p_max_age_s));
            RETURN;
        END IF;
        q := pp_engine_quote(t, p_side, p_quantity, p_worst_price);
        IF q.price IS NULL THEN
            RETURN QUERY SELECT * FROM pp_error('NO_EXECUTABLE_PRICE',
                CASE WHEN p_worst_price IS NOT NULL
                     THEN 'the book cannot fill the whole quantity within worst_price'
                     ELSE 'the book cannot fill the whole quantity' END);
            RETURN;
        END IF;
        IF p_side = 'BUY' AND (SELECT balance FROM wallets WHERE id = a.wallet_id)
                               < q.notional + round(q.notional * p_fee_rate, 2) THEN
            RETURN QUERY SELECT * FROM pp_error('INSUFFICIENT_FUNDS',
                'the account balance does not cover the order');
            RETURN;
        END IF;
        IF p_side = 'SELL' AND coalesce((SELECT quantity - reserved_quantity FROM positions
                                         WHERE wallet_id = a.wallet_id AND token_id = p_token_id
                                           AND closed_at IS NULL AND archived_at IS NULL), 0)
                               < p_quantity THEN
            RETURN QUERY SELECT * FROM pp_error('INSUFFICIENT_SHARES',
                'the account does not hold enough unreserved shares of this outcome');
            RETURN;
        END IF;
        INSERT INTO orders (wallet_id, token_id, side, order_type, quantity, worst_price,
                            status, client_order_id, fee_rate)
        VALUES (a.wallet_id, p_token_id, p_side, 'market', p_quantity, p_worst_price, 'open',
                p_client_order_id, p_fee_rate)
        RETURNING id INTO v_order;
        PERFORM pp_engine_fill(v_order, q.price, q.notional);
        PERFORM pp_risk_commit(ARRAY[a.id]);
        RETURN QUERY SELECT 201, pp_order_json(v_order);
        RETURN;
    END IF;

    BEGIN
        v_order := pp_engine_rest_limit_order(a.wallet_id, p_token_id, p_side, p_quantity,
                                              p_limit_price, p_client_order_id, p_fee_rate);
    EXCEPTION
        WHEN SQLSTATE 'PP402' THEN
            RETURN QUERY SELECT * FROM pp_error('INSUFFICIENT_FUNDS',
                'the account balance does not cover the order');
            RETURN;
        WHEN SQLSTATE 'PP403' THEN
            RETURN QUERY SELECT * FROM pp_error('INSUFFICIENT_SHARES',
                'the account does not hold enough unreserved shares of this outcome');
            RETURN;
    END;
    SELECT * INTO STRICT o FROM orders WHERE id = v_order;
    IF v_fresh AND pp_engine_crossed(o, t) THEN
        PERFORM pp_engine_fill(o.id, o.limit_price, round(o.quantity * o.limit_price, 2));
    END IF;
    PERFORM pp_risk_commit(ARRAY[a.id]);   -- a resting order moves cash into reserve
    RETURN QUERY SELECT 201, pp_order_json(v_order);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_place_order(text,uuid,text,text,text,numeric,numeric,numeric,text,numeric,integer) TO polypartner_api;

-- POST /v1/partner/accounts/{account_id}/orders/{order_id}/cancel
CREATE OR REPLACE FUNCTION api.pp_cancel_order(p_tenant text, p_account_id uuid, p_order_id bigint)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    a accounts;
    o orders;
BEGIN
    a := pp_lock_account(p_tenant, p_account_id);
    IF a.id IS NULL THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
        RETURN;
    END IF;
    SELECT * INTO o FROM orders WHERE id = p_order_id AND wallet_id = a.wallet_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_error('ORDER_NOT_FOUND',
            'no order with this order_id belongs to the account');
        RETURN;
    END IF;
    IF o.status <> 'open' THEN
        RETURN QUERY SELECT * FROM pp_error('ORDER_NOT_OPEN',
            format('the order is %s and can no longer be cancelled', o.status));
        RETURN;
    END IF;
    PERFORM pp_engine_cancel_order(o.id);
    PERFORM pp_risk_commit(ARRAY[a.id]);
    RETURN QUERY SELECT 200, pp_order_json(o.id);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_cancel_order(text,uuid,bigint) TO polypartner_api;

-- GET /v1/partner/accounts/{account_id}/orders: newest first, keyset on the
-- order id (p_before_id: only older orders).
CREATE OR REPLACE FUNCTION api.pp_list_orders(p_tenant text, p_account_id uuid, p_limit integer,
                               p_before_id bigint)
RETURNS TABLE (status integer, body text, next_order_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    a accounts;
    v_ids bigint[];
BEGIN
    SELECT * INTO a FROM accounts WHERE id = p_account_id AND tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT n.status, n.body, NULL::bigint FROM pp_account_not_found() n;
        RETURN;
    END IF;
    SELECT array_agg(id ORDER BY id DESC) INTO v_ids FROM (
        SELECT id FROM orders
        WHERE wallet_id = a.wallet_id AND (p_before_id IS NULL OR id < p_before_id)
        ORDER BY id DESC LIMIT p_limit + 1) s;
    -- the page rendered in one join (not one pp_order_json query per order)
    RETURN QUERY SELECT 200,
        '[' || coalesce((SELECT string_agg(pp_order_row_json(o, t, a.id, f), ',' ORDER BY x.n)
                         FROM unnest(v_ids[1:p_limit]) WITH ORDINALITY AS x(id, n)
                         JOIN orders o ON o.id = x.id
                         JOIN market_tokens t ON t.token_id = o.token_id
                         LEFT JOIN fills f ON f.order_id = o.id), '') || ']',
        CASE WHEN coalesce(array_length(v_ids, 1), 0) > p_limit THEN v_ids[p_limit] END;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_list_orders(text,uuid,integer,bigint) TO polypartner_api;
