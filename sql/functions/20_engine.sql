-- The engine's primitives: marking, the only way cash moves (pp_wallet_post),
-- resting and cancelling limit orders, quoting market orders against the
-- book, and fills. They run in the caller's transaction; every operation
-- locks the account row, then the wallet row.

-- The price a position is marked at: the midpoint when the book has both
-- sides, else the last trade, else the position's own entry price (cost
-- basis) so a position without a live price neither gains nor loses.
CREATE OR REPLACE FUNCTION engine.pp_mark_price(t market_tokens, p_entry numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(round(coalesce(
        CASE WHEN t.best_bid IS NOT NULL AND t.best_ask IS NOT NULL
             THEN (t.best_bid + t.best_ask) / 2 END,
        t.midpoint, t.last_trade_price), 4), p_entry)
$$;

-- Moves cash into or out of a wallet with its ledger entry, in the caller's
-- transaction: the only way a wallet balance changes.
CREATE OR REPLACE FUNCTION engine.pp_wallet_post(p_wallet_id bigint, p_amount numeric, p_cause text,
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
CREATE OR REPLACE FUNCTION engine.pp_engine_rest_limit_order(p_wallet_id bigint, p_token_id text, p_side text,
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
CREATE OR REPLACE FUNCTION engine.pp_engine_cancel_order(p_order_id bigint) RETURNS boolean
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
CREATE OR REPLACE FUNCTION engine.pp_engine_cancel_open_orders(p_wallet_id bigint, p_limit integer)
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

-- What a market order of p_quantity would pay (BUY) or receive (SELL):
-- walking stored depth when present (best level first, whatever order the
-- feed stored), else the top of book at unlimited size; levels beyond
-- p_worst_price are not used. NULL when not fully executable (fill-or-kill).
CREATE OR REPLACE FUNCTION engine.pp_engine_quote(t market_tokens, p_side text, p_quantity numeric,
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

-- Fills an order completely at p_price for p_notional, moving cash and
-- shares, in the caller's transaction (the wallet row is locked by then).
CREATE OR REPLACE FUNCTION engine.pp_engine_fill(p_order_id bigint, p_price numeric, p_notional numeric)
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
    PERFORM pp_risk_note_fill(o.wallet_id, p_notional, v_fee);
END
$$;

-- A resting limit order crossed by the current book fills at its limit price.
CREATE OR REPLACE FUNCTION engine.pp_engine_crossed(o orders, t market_tokens) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT o.status = 'open' AND o.order_type = 'limit'
       AND CASE o.side WHEN 'BUY' THEN t.best_ask IS NOT NULL AND t.best_ask > 0
                                      AND o.limit_price >= t.best_ask
                       ELSE t.best_bid IS NOT NULL AND t.best_bid > 0
                            AND o.limit_price <= t.best_bid END
$$;
