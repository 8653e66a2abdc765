-- The price feed's writes: price batches (which fill the resting limit
-- orders they cross), confirming unchanged prices, and the markets it still
-- watches for resolution.

-- Applies updates that name each token at most once, in one statement;
-- returns the tokens that exist (unknown ones are skipped).
CREATE OR REPLACE FUNCTION engine.pp_price_rows_apply(p_updates jsonb) RETURNS text[]
LANGUAGE sql AS $$
    WITH u AS (
        SELECT e->>'token_id' AS token_id, e FROM jsonb_array_elements(p_updates) AS x(e)
    ), done AS (
        UPDATE market_tokens mt SET
            best_bid = CASE WHEN u.e ? 'best_bid' THEN (u.e->>'best_bid')::numeric
                            ELSE mt.best_bid END,
            best_ask = CASE WHEN u.e ? 'best_ask' THEN (u.e->>'best_ask')::numeric
                            ELSE mt.best_ask END,
            midpoint = CASE WHEN u.e ? 'midpoint' THEN (u.e->>'midpoint')::numeric
                            ELSE mt.midpoint END,
            last_trade_price = CASE WHEN u.e ? 'last_trade_price'
                                    THEN (u.e->>'last_trade_price')::numeric
                                    ELSE mt.last_trade_price END,
            tick_size = coalesce((u.e->>'tick_size')::numeric, mt.tick_size),
            bids = CASE WHEN u.e ? 'bids' THEN nullif(u.e->'bids', 'null'::jsonb) ELSE mt.bids END,
            asks = CASE WHEN u.e ? 'asks' THEN nullif(u.e->'asks', 'null'::jsonb) ELSE mt.asks END,
            updated_at = now()
        FROM u
        WHERE mt.token_id = u.token_id
        RETURNING mt.token_id)
    SELECT coalesce(array_agg(token_id), '{}') FROM done
$$;

-- Applies a batch of price updates in one transaction and fills the resting
-- limit orders they cross. Each update: {"token_id": "...", and any of
-- "best_bid", "best_ask", "midpoint", "last_trade_price", "tick_size" (decimal
-- strings or numbers; null clears), "bids", "asks" (arrays of [price, size])}.
-- A key that is absent leaves the stored value. Unknown tokens are skipped.
-- Updates naming each token once are applied by one set-based UPDATE (half
-- the CPU of one UPDATE per row); a batch naming a token twice (the feed
-- never sends one) is applied in order, one element at a time. Returns the
-- number of orders filled.
CREATE OR REPLACE FUNCTION api.pp_apply_price_updates(p_updates jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    u jsonb;
    v_tokens text[] := '{}';
    v_filled integer := 0;
    o orders;
    t market_tokens;
    v_wallets bigint[] := '{}';
BEGIN
    IF (SELECT count(*) <> count(DISTINCT e->>'token_id')
        FROM jsonb_array_elements(p_updates) AS x(e)) THEN
        FOR u IN SELECT * FROM jsonb_array_elements(p_updates) LOOP
            v_tokens := v_tokens || pp_price_rows_apply(jsonb_build_array(u));
        END LOOP;
    ELSE
        v_tokens := pp_price_rows_apply(p_updates);
    END IF;

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
            v_wallets := v_wallets || o.wallet_id;
        END IF;
    END LOOP;
    -- every holder's equity moved with the marks (and the filled wallets' cash)
    PERFORM pp_risk_commit_holders(v_tokens, v_wallets);
    RETURN v_filled;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_apply_price_updates(jsonb) TO polypartner_feed;

-- Confirms the prices of p_tokens (a JSON array of token ids) as current.
-- Returns how many tokens were known.
CREATE OR REPLACE FUNCTION api.pp_touch_prices(p_tokens jsonb) RETURNS integer
LANGUAGE sql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
    WITH touched AS (
        UPDATE market_tokens SET updated_at = now()
        WHERE token_id IN (SELECT jsonb_array_elements_text(p_tokens))
        RETURNING 1)
    SELECT count(*)::integer FROM touched
$$;
GRANT EXECUTE ON FUNCTION api.pp_touch_prices(jsonb) TO polypartner_feed;

-- The markets the feed still watches for resolution (not yet resolved), by
-- condition id.
CREATE OR REPLACE FUNCTION api.pp_unresolved_markets()
RETURNS TABLE (condition_id text, closed boolean)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
    SELECT m.condition_id, m.closed FROM markets m WHERE NOT m.resolved ORDER BY m.condition_id
$$;
GRANT EXECUTE ON FUNCTION api.pp_unresolved_markets() TO polypartner_feed;
