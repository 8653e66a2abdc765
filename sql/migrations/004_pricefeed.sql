-- Price feed: confirming prices that did not change.
--
-- market_tokens.updated_at is what PolyPartnerMaxPriceAge judges. A quiet
-- market can go minutes without a price change while the feed's connection
-- for it is healthy, so its price is still current: the feed confirms such
-- tokens every touch_interval. A token whose connection is down or frozen
-- is not confirmed and goes stale, and orders on it are refused.

-- Confirms the prices of p_tokens (a JSON array of token ids) as current.
-- Returns how many tokens were known.
CREATE FUNCTION pp_touch_prices(p_tokens jsonb) RETURNS integer
LANGUAGE sql AS $$
    WITH touched AS (
        UPDATE market_tokens SET updated_at = now()
        WHERE token_id IN (SELECT jsonb_array_elements_text(p_tokens))
        RETURNING 1)
    SELECT count(*)::integer FROM touched
$$;
