-- Helpers for the trading-engine tests (100_* to 150_*), created once
-- (committed) by test/harness/run-sql-tests. This file has no "-- test:"
-- markers, which makes it a setup file for the runner; it only defines
-- functions, so every test still starts without markets or accounts.

-- A market created the way the price feed creates it (pp_upsert_market):
-- tokens get the outcomes Yes, No (then "Outcome 3", ...) and the tick size.
CREATE OR REPLACE FUNCTION pp_test_market(p_condition_id text, p_tokens text[],
                                          p_tick numeric DEFAULT 0.01,
                                          p_question text DEFAULT NULL,
                                          p_slug text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pp_upsert_market(p_condition_id,
        coalesce(p_question, 'engine test market ' || p_condition_id), p_slug, false,
        (SELECT jsonb_agg(jsonb_build_object(
                    'token_id', tok,
                    'outcome', CASE n WHEN 1 THEN 'Yes' WHEN 2 THEN 'No' ELSE 'Outcome ' || n END,
                    'tick_size', p_tick::text) ORDER BY n)
         FROM unnest(p_tokens) WITH ORDINALITY AS x(tok, n)));
END
$$;

-- A price update of one token through pp_apply_price_updates (best bid and
-- best ask always sent, NULL as JSON null; depth only when given). Returns
-- what pp_apply_price_updates returns: the number of orders it filled.
CREATE OR REPLACE FUNCTION pp_test_price(p_token_id text, p_bid numeric, p_ask numeric,
                                         p_bids jsonb DEFAULT NULL, p_asks jsonb DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    u jsonb := jsonb_build_object('token_id', p_token_id, 'best_bid', p_bid::text,
                                  'best_ask', p_ask::text);
BEGIN
    IF p_bids IS NOT NULL THEN
        u := u || jsonb_build_object('bids', p_bids);
    END IF;
    IF p_asks IS NOT NULL THEN
        u := u || jsonb_build_object('asks', p_asks);
    END IF;
    RETURN pp_apply_price_updates(jsonb_build_array(u));
END
$$;

-- A two-outcome market (tokens p_token and p_token + 1) priced at bid/ask on
-- the first token; returns the first token id.
CREATE OR REPLACE FUNCTION pp_test_priced(p_condition_id text, p_token_id text,
                                          p_bid numeric, p_ask numeric,
                                          p_tick numeric DEFAULT 0.01)
RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pp_test_market(p_condition_id,
                           ARRAY[p_token_id, (p_token_id::numeric + 1)::text], p_tick);
    PERFORM pp_test_price(p_token_id, p_bid, p_ask);
    RETURN p_token_id;
END
$$;

-- pp_place_order that must succeed (201, or 200 for a replay): returns the
-- order id from the body.
CREATE OR REPLACE FUNCTION pp_test_place(p_tenant text, p_account_id uuid, p_token_id text,
                                         p_side text, p_type text, p_quantity numeric,
                                         p_limit_price numeric DEFAULT NULL,
                                         p_worst_price numeric DEFAULT NULL,
                                         p_client_order_id text DEFAULT NULL,
                                         p_fee_rate numeric DEFAULT 0,
                                         p_max_age_s integer DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO STRICT r FROM pp_place_order(p_tenant, p_account_id, p_token_id, p_side, p_type,
                                               p_quantity, p_limit_price, p_worst_price,
                                               p_client_order_id, p_fee_rate, p_max_age_s);
    IF r.status NOT IN (200, 201) THEN
        RAISE EXCEPTION 'fixture: pp_place_order(%, %, %, %, %, %, %) answered % %', p_tenant,
            p_token_id, p_side, p_type, p_quantity, p_limit_price, p_worst_price, r.status, r.body;
    END IF;
    RETURN (r.body::jsonb->>'order_id')::bigint;
END
$$;

-- pp_place_order that must be rejected with STATUS/CODE and write nothing.
CREATE OR REPLACE FUNCTION pp_test_place_rejected(p_tenant text, p_account_id uuid,
                                                  p_token_id text, p_side text, p_type text,
                                                  p_quantity numeric, p_limit_price numeric,
                                                  p_worst_price numeric, p_client_order_id text,
                                                  p_fee_rate numeric, p_max_age_s integer,
                                                  p_want_status integer, p_want_code text,
                                                  p_what text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    before jsonb := pp_test_snapshot();
BEGIN
    SELECT * INTO STRICT r FROM pp_place_order(p_tenant, p_account_id, p_token_id, p_side, p_type,
                                               p_quantity, p_limit_price, p_worst_price,
                                               p_client_order_id, p_fee_rate, p_max_age_s);
    PERFORM pp_test_error(r.status, r.body, p_want_status, p_want_code, p_what);
    PERFORM pp_test_assert_unchanged(before, p_what);
    RETURN r.body::jsonb->>'message';
END
$$;

-- A wallet's ledger entries after entry id P_AFTER as 'cause amount order'
-- ('-' for no order), oldest first; '{}' when there are none.
CREATE OR REPLACE FUNCTION pp_test_ledger(p_wallet_id bigint, p_after bigint DEFAULT 0)
RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(format('%s %s %s', cause, amount, coalesce(order_id::text, '-'))
                              ORDER BY id), '{}')
    FROM ledger WHERE wallet_id = p_wallet_id AND id > p_after
$$;

CREATE OR REPLACE FUNCTION pp_test_last_ledger_id() RETURNS bigint
LANGUAGE sql AS $$ SELECT coalesce(max(id), 0) FROM ledger $$;

-- The wallet's open position on a token as 'quantity reserved avg_entry', or NULL.
CREATE OR REPLACE FUNCTION pp_test_pos(p_wallet_id bigint, p_token_id text) RETURNS text
LANGUAGE sql AS $$
    SELECT format('%s %s %s', quantity, reserved_quantity, avg_entry_price) FROM positions
    WHERE wallet_id = p_wallet_id AND token_id = p_token_id
      AND closed_at IS NULL AND archived_at IS NULL
$$;

CREATE OR REPLACE FUNCTION pp_test_equity(p_account_id uuid) RETURNS text
LANGUAGE sql AS $$ SELECT pp_account_envelope(p_account_id)::jsonb->>'equity' $$;

-- pp_engine_quote on the stored token row as 'price notional' (NULL as "NULL").
CREATE OR REPLACE FUNCTION pp_test_quote(p_token_id text, p_side text, p_quantity numeric,
                                         p_worst_price numeric DEFAULT NULL)
RETURNS text
LANGUAGE sql AS $$
    SELECT format('%s %s', coalesce(q.price::text, 'NULL'), coalesce(q.notional::text, 'NULL'))
    FROM market_tokens t, pp_engine_quote(t, p_side, p_quantity, p_worst_price) q
    WHERE t.token_id = p_token_id
$$;

-- pp_list_trades as the order ids of the page, in order, plus the next position.
CREATE OR REPLACE FUNCTION pp_test_trade_ids(p_body text) RETURNS bigint[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg((e->>'trade_id')::bigint ORDER BY n), '{}')
    FROM jsonb_array_elements(p_body::jsonb) WITH ORDINALITY AS x(e, n)
$$;

-- Every trade id of a pp_list_trades listing, following the returned
-- (next_us, next_order_id) page by page; fails on a page that is not full
-- while a next position is returned, or on a full page without one at the end.
CREATE OR REPLACE FUNCTION pp_test_trades_all(p_tenant text, p_account_id uuid, p_limit integer,
                                              p_side text, p_market_id text)
RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    ids bigint[] := '{}';
    v_us bigint;
    v_order bigint;
    pages integer := 0;
BEGIN
    LOOP
        SELECT * INTO STRICT r FROM pp_list_trades(p_tenant, p_account_id, p_limit, p_side,
                                                   p_market_id, v_us, v_order);
        PERFORM pp_test_eq(r.status, 200, 'page status');
        pages := pages + 1;
        IF pages > 1000 THEN
            RAISE EXCEPTION 'pp_test_trades_all: more than 1000 pages';
        END IF;
        ids := ids || pp_test_trade_ids(r.body);
        EXIT WHEN r.next_us IS NULL;
        PERFORM pp_test_eq(cardinality(pp_test_trade_ids(r.body)), p_limit,
                           'a page with a next position is full');
        PERFORM pp_test_eq(r.next_order_id, ids[cardinality(ids)], 'next_order_id is the last row');
        v_us := r.next_us;
        v_order := r.next_order_id;
    END LOOP;
    PERFORM pp_test_eq(r.next_order_id, NULL::bigint, 'next_order_id on the last page');
    RETURN ids;
END
$$;
