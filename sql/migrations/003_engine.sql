-- The trading engine: fills and the trades feed, market and limit orders,
-- matching on price updates, settlement, and the market functions the price
-- feed calls. Every operation is one function, one transaction; the wallet
-- row is locked before anything on it changes.

-- Markets are listed in discovery order, paged by this sequence; outcomes
-- in the order the market lists them (Yes before No).
ALTER TABLE markets ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE market_tokens ADD COLUMN outcome_index smallint NOT NULL DEFAULT 0;

ALTER TABLE market_tokens
    ADD COLUMN bids jsonb CHECK (bids IS NULL OR jsonb_typeof(bids) = 'array'),
    ADD COLUMN asks jsonb CHECK (asks IS NULL OR jsonb_typeof(asks) = 'array');

CREATE INDEX orders_open_by_token ON orders (token_id, id) WHERE status = 'open';
CREATE INDEX orders_by_wallet ON orders (wallet_id, id DESC);

-- One row per filled order: trade_id = order_id. filled_at is taken while the
-- wallet row is locked, so per wallet it grows in commit order and a reader
-- paging by (filled_at, order_id) never misses an older fill.
CREATE TABLE fills (
    order_id         bigint PRIMARY KEY REFERENCES orders (id),
    wallet_id        bigint NOT NULL REFERENCES wallets (id),
    token_id         text NOT NULL REFERENCES market_tokens (token_id),
    condition_id     text NOT NULL REFERENCES markets (condition_id),
    outcome          text NOT NULL,
    side             text NOT NULL CHECK (side IN ('BUY', 'SELL')),
    price            numeric(6, 4) NOT NULL CHECK (price > 0 AND price < 1),
    quantity         numeric(18, 4) NOT NULL CHECK (quantity > 0),
    notional         numeric(16, 2) NOT NULL CHECK (notional >= 0),
    fee              numeric(16, 2) NOT NULL CHECK (fee >= 0),
    client_order_id  text,
    filled_at        timestamptz NOT NULL,
    -- One key per filter shape of the feed. A filtered page is then looked up
    -- by its key alone, which only its own index serves: the planner cannot
    -- pick fills_feed and discard the wallet's other fills row by row (it
    -- would, for a wallet that rarely trades a market common overall).
    feed_side_key        text GENERATED ALWAYS AS (wallet_id::text || ' ' || side) STORED,
    feed_market_key      text GENERATED ALWAYS AS (wallet_id::text || ' ' || condition_id) STORED,
    feed_market_side_key text GENERATED ALWAYS AS
        (wallet_id::text || ' ' || condition_id || ' ' || side) STORED
);
CREATE INDEX fills_feed ON fills (wallet_id, filled_at DESC, order_id DESC);
CREATE INDEX fills_feed_by_side ON fills (feed_side_key, filled_at DESC, order_id DESC);
CREATE INDEX fills_feed_by_market ON fills (feed_market_key, filled_at DESC, order_id DESC);
CREATE INDEX fills_feed_by_market_side ON fills (feed_market_side_key, filled_at DESC, order_id DESC);

-- ---- quoting --------------------------------------------------------------

-- What a market order of p_quantity would pay (BUY) or receive (SELL):
-- walking stored depth when present (best level first, whatever order the
-- feed stored), else the top of book at unlimited size; levels beyond
-- p_worst_price are not used. NULL when not fully executable (fill-or-kill).
CREATE FUNCTION pp_engine_quote(t market_tokens, p_side text, p_quantity numeric,
                                p_worst_price numeric, OUT price numeric, OUT notional numeric)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_levels jsonb := CASE WHEN p_side = 'BUY' THEN t.asks ELSE t.bids END;
    v_left numeric := p_quantity;
    v_cost numeric := 0;
    v_take numeric;
    lvl record;
BEGIN
    IF v_levels IS NULL OR jsonb_array_length(v_levels) = 0 THEN
        price := CASE WHEN p_side = 'BUY' THEN t.best_ask ELSE t.best_bid END;
        IF price IS NULL OR price <= 0 OR price >= 1
           OR (p_worst_price IS NOT NULL
               AND ((p_side = 'BUY' AND price > p_worst_price)
                    OR (p_side = 'SELL' AND price < p_worst_price))) THEN
            price := NULL;
            RETURN;
        END IF;
        notional := round(price * p_quantity, 2);
        RETURN;
    END IF;
    FOR lvl IN
        SELECT (l->>0)::numeric AS p, (l->>1)::numeric AS s
        FROM jsonb_array_elements(v_levels) AS l
        WHERE (l->>0)::numeric > 0 AND (l->>0)::numeric < 1 AND (l->>1)::numeric > 0
        ORDER BY CASE WHEN p_side = 'BUY' THEN (l->>0)::numeric END ASC,
                 CASE WHEN p_side = 'SELL' THEN (l->>0)::numeric END DESC
    LOOP
        EXIT WHEN v_left <= 0;
        EXIT WHEN p_worst_price IS NOT NULL
                  AND ((p_side = 'BUY' AND lvl.p > p_worst_price)
                       OR (p_side = 'SELL' AND lvl.p < p_worst_price));
        v_take := least(v_left, lvl.s);
        v_cost := v_cost + v_take * lvl.p;
        v_left := v_left - v_take;
    END LOOP;
    IF v_left > 0 THEN
        RETURN;   /* not enough depth within the cap: price stays NULL */
    END IF;
    notional := round(v_cost, 2);
    price := round(v_cost / p_quantity, 4);
    -- depth stored with more decimals than prices have could round to 0 or 1
    IF price <= 0 OR price >= 1 THEN
        price := NULL;
        notional := NULL;
    END IF;
END
$$;

-- ---- fills ----------------------------------------------------------------

-- Fills an order completely at p_price for p_notional, moving cash and
-- shares, in the caller's transaction (the wallet row is locked by then).
CREATE FUNCTION pp_engine_fill(p_order_id bigint, p_price numeric, p_notional numeric)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o orders;
    t market_tokens;
    pos positions;
    v_fee numeric;
BEGIN
    SELECT * INTO STRICT o FROM orders WHERE id = p_order_id FOR UPDATE;
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = o.token_id;
    v_fee := round(p_notional * o.fee_rate, 2);
    SELECT * INTO pos FROM positions
    WHERE wallet_id = o.wallet_id AND token_id = o.token_id
      AND closed_at IS NULL AND archived_at IS NULL
    FOR UPDATE;

    IF o.side = 'BUY' THEN
        IF o.reserved_cash > 0 THEN
            PERFORM pp_wallet_post(o.wallet_id, o.reserved_cash, 'release', o.id);
        END IF;
        IF (SELECT balance FROM wallets WHERE id = o.wallet_id) < p_notional + v_fee THEN
            RAISE EXCEPTION 'insufficient cash' USING ERRCODE = 'PP402';
        END IF;
        PERFORM pp_wallet_post(o.wallet_id, -p_notional, 'fill', o.id);
        PERFORM pp_wallet_post(o.wallet_id, -v_fee, 'fee', o.id);
        IF pos.id IS NULL THEN
            INSERT INTO positions (wallet_id, token_id, quantity, avg_entry_price)
            VALUES (o.wallet_id, o.token_id, o.quantity, p_price);
        ELSE
            UPDATE positions
            SET avg_entry_price = round((quantity * avg_entry_price + o.quantity * p_price)
                                        / (quantity + o.quantity), 6),
                quantity = quantity + o.quantity
            WHERE id = pos.id;
        END IF;
    ELSE
        IF pos.id IS NULL OR pos.quantity - pos.reserved_quantity + o.reserved_shares < o.quantity THEN
            RAISE EXCEPTION 'insufficient shares' USING ERRCODE = 'PP403';
        END IF;
        PERFORM pp_wallet_post(o.wallet_id, p_notional, 'fill', o.id);
        PERFORM pp_wallet_post(o.wallet_id, -v_fee, 'fee', o.id);
        UPDATE positions
        SET quantity = quantity - o.quantity,
            reserved_quantity = reserved_quantity - o.reserved_shares,
            closed_at = CASE WHEN quantity - o.quantity = 0 THEN clock_timestamp() END
        WHERE id = pos.id;
    END IF;

    UPDATE orders SET status = 'filled', reserved_cash = 0, reserved_shares = 0,
                      updated_at = clock_timestamp()
    WHERE id = o.id;
    INSERT INTO fills (order_id, wallet_id, token_id, condition_id, outcome, side, price,
                       quantity, notional, fee, client_order_id, filled_at)
    VALUES (o.id, o.wallet_id, o.token_id, t.condition_id, t.outcome, o.side, p_price,
            o.quantity, p_notional, v_fee, o.client_order_id, clock_timestamp());
END
$$;

-- A resting limit order crossed by the current book fills at its limit price.
CREATE FUNCTION pp_engine_crossed(o orders, t market_tokens) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT o.status = 'open' AND o.order_type = 'limit'
       AND CASE o.side WHEN 'BUY' THEN t.best_ask IS NOT NULL AND t.best_ask > 0
                                      AND o.limit_price >= t.best_ask
                       ELSE t.best_bid IS NOT NULL AND t.best_bid > 0
                            AND o.limit_price <= t.best_bid END
$$;

-- ---- JSON renderings ------------------------------------------------------

CREATE FUNCTION pp_json_time_us(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_json(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
$$;

CREATE FUNCTION pp_json_opt_qty(x numeric) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT coalesce(pp_json_qty(x), 'null') $$;

CREATE FUNCTION pp_fill_json(f fills) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"trade_id":%s,"order_id":%s,"market_id":%s,"side":%s,"outcome":%s,'
                  '"price":%s,"quantity":%s,"notional":%s,"fee":%s,"filled_at":%s,'
                  '"client_order_id":%s,"realized_pnl":null}',
                  f.order_id, f.order_id, to_json(f.condition_id), to_json(f.side),
                  to_json(f.outcome), pp_json_qty(f.price), pp_json_qty(f.quantity),
                  pp_json_money(f.notional), pp_json_money(f.fee), pp_json_time_us(f.filled_at),
                  coalesce(to_json(f.client_order_id)::text, 'null'))
$$;

CREATE FUNCTION pp_order_json(p_order_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"order_id":%s,"account_id":%s,"client_order_id":%s,"market_id":%s,'
                  '"token_id":%s,"outcome":%s,"side":%s,"type":%s,"quantity":%s,'
                  '"limit_price":%s,"worst_price":%s,"status":%s,"reserved_cash":%s,'
                  '"created_at":%s,"cancelled_at":%s,"fill":%s}',
                  o.id, to_json(a.id), coalesce(to_json(o.client_order_id)::text, 'null'),
                  to_json(t.condition_id), to_json(o.token_id), to_json(t.outcome),
                  to_json(o.side), to_json(o.order_type), pp_json_qty(o.quantity),
                  pp_json_opt_qty(o.limit_price), pp_json_opt_qty(o.worst_price),
                  to_json(o.status), pp_json_money(o.reserved_cash),
                  pp_json_time_us(o.created_at),
                  coalesce(pp_json_time_us(o.cancelled_at), 'null'),
                  coalesce((SELECT pp_fill_json(f) FROM fills f WHERE f.order_id = o.id), 'null'))
    FROM orders o
    JOIN market_tokens t ON t.token_id = o.token_id
    JOIN accounts a ON a.wallet_id = o.wallet_id
    WHERE o.id = p_order_id
$$;

-- ---- orders ---------------------------------------------------------------

CREATE FUNCTION pp_order_error(p_status integer, p_code text, p_message text)
RETURNS TABLE (status integer, body text)
LANGUAGE sql STABLE AS $$ SELECT p_status, pp_error_json(p_code, p_message) $$;

-- POST /v1/partner/accounts/{account_id}/orders. Market orders are
-- fill-or-kill at the book; limit orders rest (reserving cash or shares)
-- and fill at their limit price once the book crosses them, immediately if
-- it already does. p_max_age_s > 0 refuses quotes older than that. A
-- client_order_id makes the call idempotent per account.
CREATE FUNCTION pp_place_order(p_tenant text, p_account_id uuid, p_token_id text, p_side text,
                               p_type text, p_quantity numeric, p_limit_price numeric,
                               p_worst_price numeric, p_client_order_id text,
                               p_fee_rate numeric, p_max_age_s integer)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql AS $$
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
                RETURN QUERY SELECT * FROM pp_order_error(409, 'IDEMPOTENCY_KEY_REUSE',
                    'client_order_id was already used for a different order on this account');
            END IF;
            RETURN;
        END IF;
    END IF;
    IF a.status = 'closed' THEN
        RETURN QUERY SELECT * FROM pp_order_error(409, 'ACCOUNT_CLOSED',
            'the account is closed and accepts no new orders');
        RETURN;
    END IF;
    SELECT * INTO t FROM market_tokens WHERE token_id = p_token_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_order_error(404, 'MARKET_NOT_FOUND',
            'token_id is not an outcome of any known market');
        RETURN;
    END IF;
    SELECT * INTO STRICT m FROM markets WHERE condition_id = t.condition_id;
    IF m.closed OR m.resolved THEN
        RETURN QUERY SELECT * FROM pp_order_error(400, 'MARKET_CLOSED',
            'the market is closed to trading');
        RETURN;
    END IF;
    IF p_limit_price IS NOT NULL AND p_limit_price % t.tick_size <> 0 THEN
        RETURN QUERY SELECT * FROM pp_order_error(400, 'INVALID_PRICE', format(
            'limit_price must be a multiple of the market''s tick size %s', rtrim(t.tick_size::text, '0')));
        RETURN;
    END IF;
    -- with staleness checks off, a token never priced simply has no price
    v_fresh := p_max_age_s <= 0
               OR (t.updated_at IS NOT NULL
                   AND t.updated_at >= now() - make_interval(secs => p_max_age_s));

    IF p_type = 'market' THEN
        IF NOT v_fresh THEN
            RETURN QUERY SELECT * FROM pp_order_error(409, 'STALE_QUOTE', format(
                'the last price update for this outcome is older than %s seconds', p_max_age_s));
            RETURN;
        END IF;
        q := pp_engine_quote(t, p_side, p_quantity, p_worst_price);
        IF q.price IS NULL THEN
            RETURN QUERY SELECT * FROM pp_order_error(409, 'NO_EXECUTABLE_PRICE',
                CASE WHEN p_worst_price IS NOT NULL
                     THEN 'the book cannot fill the whole quantity within worst_price'
                     ELSE 'the book cannot fill the whole quantity' END);
            RETURN;
        END IF;
        IF p_side = 'BUY' AND (SELECT balance FROM wallets WHERE id = a.wallet_id)
                               < q.notional + round(q.notional * p_fee_rate, 2) THEN
            RETURN QUERY SELECT * FROM pp_order_error(400, 'INSUFFICIENT_FUNDS',
                'the account balance does not cover the order');
            RETURN;
        END IF;
        IF p_side = 'SELL' AND coalesce((SELECT quantity - reserved_quantity FROM positions
                                         WHERE wallet_id = a.wallet_id AND token_id = p_token_id
                                           AND closed_at IS NULL AND archived_at IS NULL), 0)
                               < p_quantity THEN
            RETURN QUERY SELECT * FROM pp_order_error(400, 'INSUFFICIENT_SHARES',
                'the account does not hold enough unreserved shares of this outcome');
            RETURN;
        END IF;
        INSERT INTO orders (wallet_id, token_id, side, order_type, quantity, worst_price,
                            status, client_order_id, fee_rate)
        VALUES (a.wallet_id, p_token_id, p_side, 'market', p_quantity, p_worst_price, 'open',
                p_client_order_id, p_fee_rate)
        RETURNING id INTO v_order;
        PERFORM pp_engine_fill(v_order, q.price, q.notional);
        RETURN QUERY SELECT 201, pp_order_json(v_order);
        RETURN;
    END IF;

    BEGIN
        v_order := pp_engine_rest_limit_order(a.wallet_id, p_token_id, p_side, p_quantity,
                                              p_limit_price, p_client_order_id, p_fee_rate);
    EXCEPTION
        WHEN SQLSTATE 'PP402' THEN
            RETURN QUERY SELECT * FROM pp_order_error(400, 'INSUFFICIENT_FUNDS',
                'the account balance does not cover the order');
            RETURN;
        WHEN SQLSTATE 'PP403' THEN
            RETURN QUERY SELECT * FROM pp_order_error(400, 'INSUFFICIENT_SHARES',
                'the account does not hold enough unreserved shares of this outcome');
            RETURN;
    END;
    SELECT * INTO STRICT o FROM orders WHERE id = v_order;
    IF v_fresh AND pp_engine_crossed(o, t) THEN
        PERFORM pp_engine_fill(o.id, o.limit_price, round(o.quantity * o.limit_price, 2));
    END IF;
    RETURN QUERY SELECT 201, pp_order_json(v_order);
END
$$;

-- POST /v1/partner/accounts/{account_id}/orders/{order_id}/cancel
CREATE FUNCTION pp_cancel_order(p_tenant text, p_account_id uuid, p_order_id bigint)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql AS $$
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
        RETURN QUERY SELECT * FROM pp_order_error(404, 'ORDER_NOT_FOUND',
            'no order with this order_id belongs to the account');
        RETURN;
    END IF;
    IF o.status <> 'open' THEN
        RETURN QUERY SELECT * FROM pp_order_error(409, 'ORDER_NOT_OPEN',
            format('the order is %s and can no longer be cancelled', o.status));
        RETURN;
    END IF;
    PERFORM pp_engine_cancel_order(o.id);
    RETURN QUERY SELECT 200, pp_order_json(o.id);
END
$$;

-- GET /v1/partner/accounts/{account_id}/orders: newest first, keyset on the
-- order id (p_before_id: only older orders).
CREATE FUNCTION pp_list_orders(p_tenant text, p_account_id uuid, p_limit integer,
                               p_before_id bigint)
RETURNS TABLE (status integer, body text, next_order_id bigint)
LANGUAGE plpgsql STABLE AS $$
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
    RETURN QUERY SELECT 200,
        '[' || coalesce((SELECT string_agg(pp_order_json(x.id), ',' ORDER BY x.n)
                         FROM unnest(v_ids[1:p_limit]) WITH ORDINALITY AS x(id, n)), '') || ']',
        CASE WHEN coalesce(array_length(v_ids, 1), 0) > p_limit THEN v_ids[p_limit] END;
END
$$;

-- ---- the trades feed ------------------------------------------------------

-- GET /v1/partner/accounts/{account_id}/trades: filled trades, newest first
-- by (filled_at, order_id), keyset after (p_after_us, p_after_order). Returns
-- the page's data array and, when more rows exist, the position of its last
-- row (microseconds since the epoch, order id) for the next cursor. The
-- filter shape picks the key (and so the index) to scan; every page, first
-- or at any depth, is one index range scan that reads only the rows it
-- returns.
CREATE FUNCTION pp_list_trades(p_tenant text, p_account_id uuid, p_limit integer,
                               p_side text, p_market_id text, p_after_us bigint,
                               p_after_order bigint)
RETURNS TABLE (status integer, body text, next_us bigint, next_order_id bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_wallet bigint;
    v_key text;
    -- a first page is the keyset scan from the very top
    v_after timestamptz := coalesce(timestamptz 'epoch' + p_after_us * interval '1 microsecond',
                                    timestamptz 'infinity');
    v_after_order bigint := coalesce(p_after_order, 9223372036854775807);
    v_ids bigint[];
    v_last fills;
BEGIN
    SELECT wallet_id INTO v_wallet FROM accounts WHERE id = p_account_id AND tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT n.status, n.body, NULL::bigint, NULL::bigint FROM pp_account_not_found() n;
        RETURN;
    END IF;
    IF p_market_id IS NULL AND p_side IS NULL THEN
        SELECT array_agg(order_id ORDER BY filled_at DESC, order_id DESC) INTO v_ids FROM (
            SELECT order_id, filled_at FROM fills
            WHERE wallet_id = v_wallet AND (filled_at, order_id) < (v_after, v_after_order)
            ORDER BY filled_at DESC, order_id DESC LIMIT p_limit + 1) s;
    ELSIF p_market_id IS NULL THEN
        v_key := v_wallet::text || ' ' || p_side;
        SELECT array_agg(order_id ORDER BY filled_at DESC, order_id DESC) INTO v_ids FROM (
            SELECT order_id, filled_at FROM fills
            WHERE feed_side_key = v_key AND (filled_at, order_id) < (v_after, v_after_order)
            ORDER BY filled_at DESC, order_id DESC LIMIT p_limit + 1) s;
    ELSIF p_side IS NULL THEN
        v_key := v_wallet::text || ' ' || p_market_id;
        SELECT array_agg(order_id ORDER BY filled_at DESC, order_id DESC) INTO v_ids FROM (
            SELECT order_id, filled_at FROM fills
            WHERE feed_market_key = v_key AND (filled_at, order_id) < (v_after, v_after_order)
            ORDER BY filled_at DESC, order_id DESC LIMIT p_limit + 1) s;
    ELSE
        v_key := v_wallet::text || ' ' || p_market_id || ' ' || p_side;
        SELECT array_agg(order_id ORDER BY filled_at DESC, order_id DESC) INTO v_ids FROM (
            SELECT order_id, filled_at FROM fills
            WHERE feed_market_side_key = v_key AND (filled_at, order_id) < (v_after, v_after_order)
            ORDER BY filled_at DESC, order_id DESC LIMIT p_limit + 1) s;
    END IF;
    IF coalesce(array_length(v_ids, 1), 0) > p_limit THEN
        SELECT * INTO STRICT v_last FROM fills WHERE order_id = v_ids[p_limit];
    END IF;
    RETURN QUERY SELECT 200,
        '[' || coalesce((SELECT string_agg(pp_fill_json(f), ',' ORDER BY x.n)
                         FROM unnest(v_ids[1:p_limit]) WITH ORDINALITY AS x(id, n)
                         JOIN fills f ON f.order_id = x.id), '') || ']',
        CASE WHEN v_last.order_id IS NULL THEN NULL
             ELSE (extract(epoch FROM v_last.filled_at) * 1000000)::bigint END,
        v_last.order_id;
END
$$;

-- ---- markets and prices (the price feed's entry points) -------------------

-- Creates or refreshes a market and its outcome tokens from discovery:
-- p_tokens = [{"token_id": "...", "outcome": "Yes", "tick_size": "0.01"}, ...].
-- A market seen closed stops trading; it is settled only by pp_settle_market.
CREATE FUNCTION pp_upsert_market(p_condition_id text, p_question text, p_slug text,
                                 p_closed boolean, p_tokens jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    tok jsonb;
    i bigint;
BEGIN
    INSERT INTO markets (condition_id, question, slug, closed)
    VALUES (p_condition_id, p_question, p_slug, p_closed)
    ON CONFLICT (condition_id) DO UPDATE
    SET question = EXCLUDED.question, slug = EXCLUDED.slug,
        closed = markets.closed OR EXCLUDED.closed, updated_at = now();
    FOR tok, i IN SELECT * FROM jsonb_array_elements(p_tokens) WITH ORDINALITY LOOP
        INSERT INTO market_tokens (token_id, condition_id, outcome, tick_size, outcome_index)
        VALUES (tok->>'token_id', p_condition_id, tok->>'outcome',
                coalesce((tok->>'tick_size')::numeric, 0.01), i - 1)
        ON CONFLICT (token_id) DO UPDATE
        SET outcome = EXCLUDED.outcome, outcome_index = EXCLUDED.outcome_index,
            tick_size = coalesce((tok->>'tick_size')::numeric, market_tokens.tick_size);
    END LOOP;
END
$$;

-- Applies a batch of price updates in one transaction and fills the resting
-- limit orders they cross. Each update: {"token_id": "...", and any of
-- "best_bid", "best_ask", "midpoint", "last_trade_price", "tick_size" (decimal
-- strings or numbers; null clears), "bids", "asks" (arrays of [price, size])}.
-- A key that is absent leaves the stored value. Unknown tokens are skipped.
-- Returns the number of orders filled.
CREATE FUNCTION pp_apply_price_updates(p_updates jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    u jsonb;
    v_tokens text[] := '{}';
    v_filled integer := 0;
    o orders;
    t market_tokens;
BEGIN
    FOR u IN SELECT * FROM jsonb_array_elements(p_updates) LOOP
        UPDATE market_tokens SET
            best_bid = CASE WHEN u ? 'best_bid' THEN (u->>'best_bid')::numeric ELSE best_bid END,
            best_ask = CASE WHEN u ? 'best_ask' THEN (u->>'best_ask')::numeric ELSE best_ask END,
            midpoint = CASE WHEN u ? 'midpoint' THEN (u->>'midpoint')::numeric ELSE midpoint END,
            last_trade_price = CASE WHEN u ? 'last_trade_price'
                                    THEN (u->>'last_trade_price')::numeric ELSE last_trade_price END,
            tick_size = coalesce((u->>'tick_size')::numeric, tick_size),
            bids = CASE WHEN u ? 'bids' THEN nullif(u->'bids', 'null'::jsonb) ELSE bids END,
            asks = CASE WHEN u ? 'asks' THEN nullif(u->'asks', 'null'::jsonb) ELSE asks END,
            updated_at = now()
        WHERE token_id = u->>'token_id';
        IF FOUND THEN
            v_tokens := v_tokens || (u->>'token_id');
        END IF;
    END LOOP;

    -- wallets are locked in id order, so concurrent batches cannot deadlock
    FOR o IN
        SELECT o2.* FROM orders o2
        JOIN market_tokens t2 ON t2.token_id = o2.token_id
        JOIN markets m2 ON m2.condition_id = t2.condition_id
        WHERE o2.token_id = ANY (v_tokens) AND o2.status = 'open'
          AND NOT m2.closed AND NOT m2.resolved AND pp_engine_crossed(o2, t2)
        ORDER BY o2.wallet_id, o2.id
    LOOP
        PERFORM 1 FROM wallets WHERE id = o.wallet_id FOR UPDATE;
        SELECT * INTO o FROM orders WHERE id = o.id FOR UPDATE;
        SELECT * INTO STRICT t FROM market_tokens WHERE token_id = o.token_id;
        IF pp_engine_crossed(o, t) THEN
            PERFORM pp_engine_fill(o.id, o.limit_price, round(o.quantity * o.limit_price, 2));
            v_filled := v_filled + 1;
        END IF;
    END LOOP;
    RETURN v_filled;
END
$$;

-- Settles a resolved market exactly once: each open position is paid 1.00 per
-- share of the winning outcome and 0.00 per losing share, or 0.50 per share of
-- either outcome when p_winning_token_id is NULL (a void market); positions
-- close and resting orders on the market are cancelled. Returns the number
-- of positions settled (0 when the market was already settled).
CREATE FUNCTION pp_settle_market(p_condition_id text, p_winning_token_id text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    m markets;
    pos positions;
    v_oid bigint;
    v_count integer := 0;
    v_payout numeric;
BEGIN
    SELECT * INTO m FROM markets WHERE condition_id = p_condition_id FOR UPDATE;
    IF NOT FOUND OR m.resolved THEN
        RETURN 0;
    END IF;
    IF p_winning_token_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM market_tokens WHERE token_id = p_winning_token_id
                                      AND condition_id = p_condition_id) THEN
        RAISE EXCEPTION 'token % is not an outcome of market %', p_winning_token_id,
            p_condition_id USING ERRCODE = 'PP422';
    END IF;
    UPDATE markets SET closed = true, resolved = true, winning_token_id = p_winning_token_id,
                       updated_at = now()
    WHERE condition_id = p_condition_id;

    -- lock every wallet involved in id order before touching any of them
    PERFORM 1 FROM wallets WHERE id IN (
        SELECT wallet_id FROM orders o JOIN market_tokens t ON t.token_id = o.token_id
        WHERE t.condition_id = p_condition_id AND o.status = 'open'
        UNION
        SELECT wallet_id FROM positions p JOIN market_tokens t ON t.token_id = p.token_id
        WHERE t.condition_id = p_condition_id AND p.closed_at IS NULL AND p.archived_at IS NULL)
    ORDER BY id FOR UPDATE;

    FOR v_oid IN
        SELECT o.id FROM orders o JOIN market_tokens t ON t.token_id = o.token_id
        WHERE t.condition_id = p_condition_id AND o.status = 'open' ORDER BY o.id
    LOOP
        PERFORM pp_engine_cancel_order(v_oid);
    END LOOP;

    FOR pos IN
        SELECT p.* FROM positions p JOIN market_tokens t ON t.token_id = p.token_id
        WHERE t.condition_id = p_condition_id AND p.closed_at IS NULL AND p.archived_at IS NULL
        ORDER BY p.wallet_id, p.id
    LOOP
        v_payout := round(pos.quantity * CASE
            WHEN p_winning_token_id IS NULL THEN 0.5
            WHEN pos.token_id = p_winning_token_id THEN 1
            ELSE 0 END, 2);
        IF v_payout > 0 THEN
            PERFORM pp_wallet_post(pos.wallet_id, v_payout, 'settlement');
        END IF;
        UPDATE positions SET closed_at = clock_timestamp() WHERE id = pos.id;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END
$$;

-- GET /v1/markets: active markets (neither closed nor resolved) with their
-- outcomes and prices, in discovery order, keyset after p_after_seq;
-- optional case-insensitive search in the question and slug, and a condition
-- id filter.
CREATE FUNCTION pp_list_markets(p_search text, p_condition_id text, p_limit integer,
                                p_after_seq bigint)
RETURNS TABLE (status integer, body text, next_seq bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_seqs bigint[];
    v_pattern text := CASE WHEN p_search IS NULL THEN NULL ELSE
        '%' || replace(replace(replace(p_search, '\', '\\'), '%', '\%'), '_', '\_') || '%' END;
BEGIN
    SELECT array_agg(seq ORDER BY seq) INTO v_seqs FROM (
        SELECT seq FROM markets
        WHERE NOT closed AND NOT resolved
          AND (p_condition_id IS NULL OR condition_id = p_condition_id)
          AND (v_pattern IS NULL OR question ILIKE v_pattern OR slug ILIKE v_pattern)
          AND (p_after_seq IS NULL OR seq > p_after_seq)
        ORDER BY seq LIMIT p_limit + 1) s;
    RETURN QUERY SELECT 200,
        '[' || coalesce((
            SELECT string_agg(format(
                '{"market_id":%s,"question":%s,"slug":%s,"outcomes":%s}',
                to_json(m.condition_id), to_json(m.question),
                coalesce(to_json(m.slug)::text, 'null'),
                (SELECT '[' || coalesce(string_agg(format(
                    '{"token_id":%s,"outcome":%s,"best_bid":%s,"best_ask":%s,"midpoint":%s,'
                    '"last_trade_price":%s,"tick_size":%s,"updated_at":%s}',
                    to_json(t.token_id), to_json(t.outcome), pp_json_opt_qty(t.best_bid),
                    pp_json_opt_qty(t.best_ask), pp_json_opt_qty(t.midpoint),
                    pp_json_opt_qty(t.last_trade_price), pp_json_qty(t.tick_size),
                    coalesce(pp_json_time_us(t.updated_at), 'null')), ','
                    ORDER BY t.outcome_index, t.token_id), '')
                    || ']' FROM market_tokens t WHERE t.condition_id = m.condition_id)),
                ',' ORDER BY x.n)
            FROM unnest(v_seqs[1:p_limit]) WITH ORDINALITY AS x(seq, n)
            JOIN markets m ON m.seq = x.seq), '') || ']',
        CASE WHEN coalesce(array_length(v_seqs, 1), 0) > p_limit THEN v_seqs[p_limit] END;
END
$$;
