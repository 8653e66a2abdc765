-- Markets: discovery and settlement (called by the price feed) and the
-- public market list.

-- Creates or refreshes a market and its outcome tokens from discovery:
-- p_tokens = [{"token_id": "...", "outcome": "Yes", "tick_size": "0.01"}, ...].
-- A market seen closed stops trading; it is settled only by pp_settle_market.
CREATE OR REPLACE FUNCTION api.pp_upsert_market(p_condition_id text, p_question text, p_slug text,
                                 p_closed boolean, p_tokens jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
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
GRANT EXECUTE ON FUNCTION api.pp_upsert_market(text,text,text,boolean,jsonb) TO polypartner_feed;

-- Settles a resolved market exactly once: each open position is paid 1.00 per
-- share of the winning outcome and 0.00 per losing share, or 0.50 per share of
-- either outcome when p_winning_token_id is NULL (a void market); positions
-- close and resting orders on the market are cancelled. Returns the number
-- of positions settled (0 when the market was already settled).
CREATE OR REPLACE FUNCTION api.pp_settle_market(p_condition_id text, p_winning_token_id text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    m markets;
    pos positions;
    v_oid bigint;
    v_count integer := 0;
    v_payout numeric;
    v_wallets bigint[] := '{}';
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
        v_wallets := v_wallets || (SELECT wallet_id FROM orders WHERE id = v_oid);
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
        v_wallets := v_wallets || pos.wallet_id;
        v_count := v_count + 1;
    END LOOP;
    PERFORM pp_risk_commit_holders('{}', v_wallets);
    RETURN v_count;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_settle_market(text,text) TO polypartner_feed;

-- GET /v1/markets: active markets (neither closed nor resolved) with their
-- outcomes and prices, in discovery order, keyset after p_after_seq;
-- optional case-insensitive search in the question and slug, and a condition
-- id filter.
CREATE OR REPLACE FUNCTION api.pp_list_markets(p_search text, p_condition_id text, p_limit integer,
                                p_after_seq bigint)
RETURNS TABLE (status integer, body text, next_seq bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
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
GRANT EXECUTE ON FUNCTION api.pp_list_markets(text,text,integer,bigint) TO polypartner_api;
