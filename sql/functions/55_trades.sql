-- The trades feed: an account's fills, newest first, keyset-paged.

-- GET /v1/partner/accounts/{account_id}/trades: filled trades, newest first
-- by (filled_at, order_id), keyset after (p_after_us, p_after_order). Returns
-- the page's data array and, when more rows exist, the position of its last
-- row (microseconds since the epoch, order id) for the next cursor. The
-- filter shape picks the key (and so the index) to scan; every page, first
-- or at any depth, is one index range scan that reads only the rows it
-- returns.
CREATE OR REPLACE FUNCTION api.pp_list_trades(p_tenant text, p_account_id uuid, p_limit integer,
                               p_side text, p_market_id text, p_after_us bigint,
                               p_after_order bigint)
RETURNS TABLE (status integer, body text, next_us bigint, next_order_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
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
GRANT EXECUTE ON FUNCTION api.pp_list_trades(text,uuid,integer,text,text,bigint,bigint) TO polypartner_api;
