-- pp_list_markets (GET /v1/markets) and pp_upsert_market (the price feed's
-- discovery entry point). No setup file creates markets, so each test starts
-- without any.

-- test: only active markets are listed, in discovery order, each with its outcomes (in the order the market lists them) and their prices in the documented shape
DO $$
DECLARE
    r record;
    b jsonb;
    upd timestamptz;
BEGIN
    PERFORM pp_test_eq((SELECT count(*) FROM markets), 0::bigint, 'no markets at the start');
    PERFORM pp_upsert_market('0xe150b', 'Will B happen?', 'will-b', false,
        '[{"token_id": "150012", "outcome": "No", "tick_size": "0.001"},
          {"token_id": "150011", "outcome": "Yes", "tick_size": "0.001"}]');
    PERFORM pp_upsert_market('0xe150a', 'Will A happen?', NULL, false,
        '[{"token_id": "150001", "outcome": "Yes"}, {"token_id": "150002", "outcome": "No"}]');
    PERFORM pp_upsert_market('0xe150c', 'Closed?', 'closed', true, '[{"token_id": "150021", "outcome": "Yes"}]');
    PERFORM pp_upsert_market('0xe150d', 'Resolved?', 'resolved', false, '[{"token_id": "150031", "outcome": "Yes"}]');
    PERFORM pp_settle_market('0xe150d', '150031');
    PERFORM pp_apply_price_updates('[{"token_id": "150011", "best_bid": "0.255", "best_ask": "0.262",
                                      "midpoint": "0.2585", "last_trade_price": "0.258"}]');
    upd := (SELECT updated_at FROM market_tokens WHERE token_id = '150011');
    SELECT * INTO STRICT r FROM pp_list_markets(NULL, NULL, 100, NULL);
    PERFORM pp_test_eq(format('%s %s', r.status, r.next_seq), '200 ', 'status, no next page');
    b := r.body::jsonb;
    PERFORM pp_test_eq((SELECT array_agg(e->>'market_id') FROM jsonb_array_elements(b) e),
                       ARRAY['0xe150b', '0xe150a'], 'active markets in discovery order');
    PERFORM pp_test_eq(pp_test_keys(((r.body)::json->0)::text),
                       ARRAY['market_id', 'question', 'slug', 'outcomes'], 'market keys in order');
    PERFORM pp_test_eq(pp_test_keys(((r.body)::json->0->'outcomes'->1)::text),
                       ARRAY['token_id', 'outcome', 'best_bid', 'best_ask', 'midpoint', 'last_trade_price',
                             'tick_size', 'updated_at'], 'outcome keys in order');
    PERFORM pp_test_eq(b->0, jsonb_build_object(
        'market_id', '0xe150b', 'question', 'Will B happen?', 'slug', 'will-b', 'outcomes', jsonb_build_array(
            -- listed No first because pp_upsert_market was given No first
            jsonb_build_object('token_id', '150012', 'outcome', 'No', 'best_bid', NULL, 'best_ask', NULL,
                               'midpoint', NULL, 'last_trade_price', NULL, 'tick_size', '0.0010',
                               'updated_at', NULL),
            jsonb_build_object('token_id', '150011', 'outcome', 'Yes', 'best_bid', '0.2550', 'best_ask', '0.2620',
                               'midpoint', '0.2585', 'last_trade_price', '0.2580', 'tick_size', '0.0010',
                               'updated_at', to_char(upd AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))),
        'first market');
    PERFORM pp_test_eq(b->1, jsonb_build_object(
        'market_id', '0xe150a', 'question', 'Will A happen?', 'slug', NULL, 'outcomes', jsonb_build_array(
            jsonb_build_object('token_id', '150001', 'outcome', 'Yes', 'best_bid', NULL, 'best_ask', NULL,
                               'midpoint', NULL, 'last_trade_price', NULL, 'tick_size', '0.0100',
                               'updated_at', NULL),
            jsonb_build_object('token_id', '150002', 'outcome', 'No', 'best_bid', NULL, 'best_ask', NULL,
                               'midpoint', NULL, 'last_trade_price', NULL, 'tick_size', '0.0100',
                               'updated_at', NULL))),
        'second market (default tick 0.01, no slug)');
END
$$;

-- test: the search is a case-insensitive substring of the question or the slug, with %, _ and \ taken literally
DO $$
DECLARE
    s record;
BEGIN
    PERFORM pp_upsert_market('0xe150m1', 'Will BTC hit 100% by June?', 'btc-100-pct', false, '[]');
    PERFORM pp_upsert_market('0xe150m2', 'Will ETH hit 1000 by June?', 'eth_1000', false, '[]');
    PERFORM pp_upsert_market('0xe150m3', 'Rain in Paris tomorrow?', 'rain-paris', false, '[]');
    PERFORM pp_upsert_market('0xe150m4', 'Is the path C:\temp?', NULL, false, '[]');
    PERFORM pp_upsert_market('0xe150m5', 'Closed BTC market', 'btc-closed', true, '[]');
    FOR s IN SELECT * FROM (VALUES
            ('btc', ARRAY['0xe150m1']),               -- question, other case; the closed one is not listed
            ('BtC-100', ARRAY['0xe150m1']),           -- slug, other case
            ('PARIS', ARRAY['0xe150m3']),
            ('rain-paris', ARRAY['0xe150m3']),        -- slug only
            ('will', ARRAY['0xe150m1', '0xe150m2']),
            ('by june?', ARRAY['0xe150m1', '0xe150m2']),
            ('%', ARRAY['0xe150m1']),                 -- a literal percent sign
            ('100%', ARRAY['0xe150m1']),
            ('1%0', ARRAY[]::text[]),                 -- would match "1000" as a wildcard
            ('_', ARRAY['0xe150m2']),                 -- a literal underscore (slug eth_1000)
            ('eth_1', ARRAY['0xe150m2']),
            ('h_t', ARRAY[]::text[]),                 -- would match "hit" as a wildcard
            ('\', ARRAY['0xe150m4']),                 -- a literal backslash
            ('c:\temp', ARRAY['0xe150m4']),
            ('\t', ARRAY['0xe150m4']),
            ('nothing like this', ARRAY[]::text[])) AS v(term, want)
    LOOP
        PERFORM pp_test_eq((SELECT coalesce(array_agg(e->>'market_id' ORDER BY n), '{}')
                            FROM pp_list_markets(s.term, NULL, 100, NULL) l,
                                 jsonb_array_elements(l.body::jsonb) WITH ORDINALITY AS x(e, n)),
                           s.want, 'search ' || quote_literal(s.term));
    END LOOP;
END
$$;

-- test: the condition id filter matches exactly one active market and combines with the search
DO $$
BEGIN
    PERFORM pp_upsert_market('0xe150f1', 'First?', 'first', false, '[{"token_id": "150101", "outcome": "Yes"}]');
    PERFORM pp_upsert_market('0xe150f2', 'Second?', 'second', false, '[{"token_id": "150111", "outcome": "Yes"}]');
    PERFORM pp_upsert_market('0xe150f3', 'Third?', 'third', true, '[{"token_id": "150121", "outcome": "Yes"}]');
    PERFORM pp_test_eq((SELECT body::jsonb->0->>'market_id' FROM pp_list_markets(NULL, '0xe150f2', 100, NULL)),
                       '0xe150f2', 'by condition id');
    PERFORM pp_test_eq((SELECT jsonb_array_length(body::jsonb) FROM pp_list_markets(NULL, '0xe150f2', 100, NULL)),
                       1, 'one market');
    PERFORM pp_test_eq((SELECT format('%s %s %s', status, body, next_seq) FROM pp_list_markets(NULL, '0xE150F2', 100, NULL)),
                       '200 [] ', 'condition ids are exact');
    PERFORM pp_test_eq((SELECT body FROM pp_list_markets(NULL, '0xe150f3', 100, NULL)), '[]', 'closed market');
    PERFORM pp_test_eq((SELECT body FROM pp_list_markets(NULL, '0xe150nope', 100, NULL)), '[]', 'unknown market');
    PERFORM pp_test_eq((SELECT body::jsonb->0->>'market_id' FROM pp_list_markets('SEC', '0xe150f2', 100, NULL)),
                       '0xe150f2', 'with a matching search');
    PERFORM pp_test_eq((SELECT body FROM pp_list_markets('first', '0xe150f2', 100, NULL)), '[]',
                       'with a search that does not match');
END
$$;

-- test: pages by discovery sequence: limit + 1 decides the next position (the last listed seq), which continues exactly after it
DO $$
DECLARE
    r record;
    seqs bigint[];
    got text[] := '{}';
    i integer;
BEGIN
    -- discovery order differs from condition id order; 0xe150p3 is closed in between
    PERFORM pp_upsert_market('0xe150p5', 'Page market 1', NULL, false, '[]');
    PERFORM pp_upsert_market('0xe150p4', 'Page market 2', NULL, false, '[]');
    PERFORM pp_upsert_market('0xe150p3', 'Page market closed', NULL, true, '[]');
    PERFORM pp_upsert_market('0xe150p2', 'Page market 3', NULL, false, '[]');
    PERFORM pp_upsert_market('0xe150p1', 'Page market 4', NULL, false, '[]');
    PERFORM pp_upsert_market('0xe150p0', 'Page market 5', NULL, false, '[]');
    seqs := ARRAY(SELECT seq FROM markets WHERE condition_id LIKE '0xe150p%' ORDER BY seq);
    SELECT * INTO STRICT r FROM pp_list_markets(NULL, NULL, 2, NULL);
    PERFORM pp_test_eq((SELECT array_agg(e->>'market_id') FROM jsonb_array_elements(r.body::jsonb) e),
                       ARRAY['0xe150p5', '0xe150p4'], 'page 1');
    PERFORM pp_test_eq(r.next_seq, seqs[2], 'page 1 next');
    SELECT * INTO STRICT r FROM pp_list_markets(NULL, NULL, 2, r.next_seq);
    PERFORM pp_test_eq((SELECT array_agg(e->>'market_id') FROM jsonb_array_elements(r.body::jsonb) e),
                       ARRAY['0xe150p2', '0xe150p1'], 'page 2 (the closed market skipped)');
    PERFORM pp_test_eq(r.next_seq, seqs[5], 'page 2 next');
    SELECT * INTO STRICT r FROM pp_list_markets(NULL, NULL, 2, r.next_seq);
    PERFORM pp_test_eq((SELECT array_agg(e->>'market_id') FROM jsonb_array_elements(r.body::jsonb) e),
                       ARRAY['0xe150p0'], 'page 3');
    PERFORM pp_test_eq(r.next_seq, NULL::bigint, 'page 3 has no next');
    -- exactly all on one page: no next; one fewer: a next
    PERFORM pp_test_eq((SELECT next_seq FROM pp_list_markets(NULL, NULL, 5, NULL)), NULL::bigint, 'limit 5');
    PERFORM pp_test_eq((SELECT next_seq FROM pp_list_markets(NULL, NULL, 4, NULL)), seqs[5], 'limit 4');
    -- after the last one: an empty page
    PERFORM pp_test_eq((SELECT format('%s %s', body, next_seq) FROM pp_list_markets(NULL, NULL, 2, seqs[6])),
                       '[] ', 'after the last');
    -- paging with a search
    SELECT * INTO STRICT r FROM pp_list_markets('page market', NULL, 3, NULL);
    got := ARRAY(SELECT e->>'market_id' FROM jsonb_array_elements(r.body::jsonb) e);
    SELECT * INTO STRICT r FROM pp_list_markets('page market', NULL, 3, r.next_seq);
    got := got || ARRAY(SELECT e->>'market_id' FROM jsonb_array_elements(r.body::jsonb) e);
    PERFORM pp_test_eq(got, ARRAY['0xe150p5', '0xe150p4', '0xe150p2', '0xe150p1', '0xe150p0'], 'search pages');
    PERFORM pp_test_eq(r.next_seq, NULL::bigint, 'search: last page');
END
$$;

-- test: an identical upsert changes nothing; an upsert updates question, slug, outcomes and tick sizes, adds tokens, and leaves prices alone
DO $$
DECLARE
    before jsonb;
    m markets;
BEGIN
    PERFORM pp_upsert_market('0xe150u', 'Original question?', 'original', false,
        '[{"token_id": "150201", "outcome": "Yes", "tick_size": "0.01"},
          {"token_id": "150202", "outcome": "No", "tick_size": "0.01"}]');
    PERFORM pp_test_price('150201', 0.41, 0.43);
    before := pp_test_snapshot();
    PERFORM pp_upsert_market('0xe150u', 'Original question?', 'original', false,
        '[{"token_id": "150201", "outcome": "Yes", "tick_size": "0.01"},
          {"token_id": "150202", "outcome": "No", "tick_size": "0.01"}]');
    PERFORM pp_test_assert_unchanged(before, 'identical upsert');
    SELECT * INTO STRICT m FROM markets WHERE condition_id = '0xe150u';
    PERFORM pp_upsert_market('0xe150u', 'Reworded question?', 'reworded', false,
        '[{"token_id": "150201", "outcome": "YES", "tick_size": "0.001"},
          {"token_id": "150202", "outcome": "No"},
          {"token_id": "150203", "outcome": "Maybe"}]');
    PERFORM pp_test_eq((SELECT format('%s|%s|%s|%s', question, slug, closed, seq) FROM markets WHERE condition_id = '0xe150u'),
                       format('Reworded question?|reworded|f|%s', m.seq), 'market updated, same seq');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s %s %s', token_id, condition_id, outcome, tick_size,
                                                coalesce(best_ask::text, '-')) ORDER BY token_id)
                        FROM market_tokens WHERE condition_id = '0xe150u'),
                       ARRAY['150201 0xe150u YES 0.0010 0.4300', '150202 0xe150u No 0.0100 -',
                             '150203 0xe150u Maybe 0.0100 -'],
                       'tokens: outcome and tick updated, tick kept when absent, new token added, prices kept');
    -- the listing shows the new tick
    PERFORM pp_test_eq((SELECT body::jsonb->0->'outcomes'->0->>'tick_size' FROM pp_list_markets(NULL, '0xe150u', 1, NULL)),
                       '0.0010', 'listed tick');
END
$$;

-- test: an upsert never reopens a closed or resolved market
DO $$
DECLARE
    before jsonb;
BEGIN
    PERFORM pp_upsert_market('0xe150v', 'Soon closed?', NULL, false, '[{"token_id": "150301", "outcome": "Yes"}]');
    PERFORM pp_upsert_market('0xe150v', 'Soon closed?', NULL, true, '[{"token_id": "150301", "outcome": "Yes"}]');
    PERFORM pp_test_eq((SELECT closed FROM markets WHERE condition_id = '0xe150v'), true, 'closed');
    before := pp_test_snapshot();
    PERFORM pp_upsert_market('0xe150v', 'Soon closed?', NULL, false, '[{"token_id": "150301", "outcome": "Yes"}]');
    PERFORM pp_test_assert_unchanged(before, 'upsert as open of a closed market');
    PERFORM pp_test_eq((SELECT body FROM pp_list_markets(NULL, '0xe150v', 100, NULL)), '[]', 'not listed');
    -- resolved
    PERFORM pp_upsert_market('0xe150w', 'Resolved?', NULL, false, '[{"token_id": "150311", "outcome": "Yes"}]');
    PERFORM pp_settle_market('0xe150w', '150311');
    before := pp_test_snapshot();
    PERFORM pp_upsert_market('0xe150w', 'Resolved?', NULL, false, '[{"token_id": "150311", "outcome": "Yes"}]');
    PERFORM pp_test_assert_unchanged(before, 'upsert as open of a resolved market');
    PERFORM pp_test_eq((SELECT format('%s %s %s', closed, resolved, winning_token_id) FROM markets
                        WHERE condition_id = '0xe150w'), 't t 150311', 'still resolved');
    PERFORM pp_test_eq((SELECT body FROM pp_list_markets(NULL, NULL, 100, NULL)), '[]', 'nothing listed');
END
$$;

-- test: listing markets writes nothing
DO $$
DECLARE
    before jsonb;
BEGIN
    PERFORM pp_test_priced('0xe150x', '150401', 0.41, 0.43);
    before := pp_test_snapshot();
    PERFORM pp_list_markets(NULL, NULL, 100, NULL);
    PERFORM pp_list_markets('x', '0xe150x', 1, 0);
    PERFORM pp_test_assert_unchanged(before, 'reads');
END
$$;
