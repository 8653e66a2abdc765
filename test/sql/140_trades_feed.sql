-- pp_list_trades: GET /v1/partner/accounts/{account_id}/trades. Filled
-- trades newest first by (filled_at DESC, order_id DESC), limit + 1 to know
-- whether a next page exists, side and market filters, keyset continuation
-- after the returned (next_us, next_order_id).
--
-- Fixture (this preamble runs in every test): account A of tenant tf-a with
-- six fills on two markets whose filled_at are then set to fixed instants
-- (out of order id order, with a tie and microsecond steps), and a second
-- account B of the same trader with one fill of its own.
--
--   fill  side  market   filled_at (UTC)
--   o1    BUY   0xe140a  2020-01-03 00:00:00
--   o2    BUY   0xe140b  2020-01-01 00:00:00.000002
--   o3    SELL  0xe140a  2020-01-01 00:00:00.000002   (tie with o2)
--   o4    BUY   0xe140a  2020-01-01 00:00:00.000001
--   o5    SELL  0xe140b  2020-01-02 12:00:00.123456
--   o6    BUY   0xe140b  2020-01-01 00:00:00.000003
--
-- so the feed order is o1, o5, o6, o3, o2, o4.
CREATE TEMP TABLE tf_fixture (k text PRIMARY KEY, v text NOT NULL);
CREATE FUNCTION pg_temp.fx(p_k text) RETURNS text
LANGUAGE sql AS $$ SELECT v FROM tf_fixture WHERE k = p_k $$;
CREATE FUNCTION pg_temp.ids(VARIADIC p_keys text[]) RETURNS bigint[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg((SELECT v::bigint FROM tf_fixture WHERE k = x.k) ORDER BY x.n), '{}')
    FROM unnest(p_keys) WITH ORDINALITY AS x(k, n)
$$;
DO $$
DECLARE
    u bigint := pp_test_user('tf-a', 'tf-1', 'tf1@example.com');
    a uuid := pp_test_account('tf-a', u, 'tf1-acc', 1000);
    b uuid := pp_test_account('tf-a', u, 'tf1-accb', 1000);
    o bigint[] := '{}';
BEGIN
    PERFORM pp_test_user('tf-b', 'tf-1', 'tf1@example.com');
    PERFORM pp_test_priced('0xe140a', '140001', 0.40, 0.45);
    PERFORM pp_test_priced('0xe140b', '140011', 0.40, 0.45);
    o := o || pp_test_place('tf-a', a, '140001', 'BUY', 'market', 10, NULL, NULL, 'c1');
    o := o || pp_test_place('tf-a', a, '140011', 'BUY', 'market', 10);
    o := o || pp_test_place('tf-a', a, '140001', 'SELL', 'market', 5, NULL, NULL, 'c3');
    o := o || pp_test_place('tf-a', a, '140001', 'BUY', 'market', 1);
    o := o || pp_test_place('tf-a', a, '140011', 'SELL', 'market', 5);
    o := o || pp_test_place('tf-a', a, '140011', 'BUY', 'market', 2);
    o := o || pp_test_place('tf-a', b, '140001', 'BUY', 'market', 3);
    UPDATE fills SET filled_at = CASE order_id
        WHEN o[1] THEN timestamptz '2020-01-03 00:00:00+00'
        WHEN o[2] THEN timestamptz '2020-01-01 00:00:00.000002+00'
        WHEN o[3] THEN timestamptz '2020-01-01 00:00:00.000002+00'
        WHEN o[4] THEN timestamptz '2020-01-01 00:00:00.000001+00'
        WHEN o[5] THEN timestamptz '2020-01-02 12:00:00.123456+00'
        WHEN o[6] THEN timestamptz '2020-01-01 00:00:00.000003+00'
        WHEN o[7] THEN timestamptz '2020-01-02 00:00:00+00' END
    WHERE order_id = ANY (o);
    INSERT INTO tf_fixture VALUES ('a', a::text), ('b', b::text), ('u', u::text),
        ('o1', o[1]::text), ('o2', o[2]::text), ('o3', o[3]::text), ('o4', o[4]::text),
        ('o5', o[5]::text), ('o6', o[6]::text), ('o7', o[7]::text);
END
$$;

-- test: the feed lists every fill of the account newest first by (filled_at, order_id), each in the documented shape, and next position null when all fit
DO $$
DECLARE
    r record;
    a uuid := pg_temp.fx('a')::uuid;
    o1 bigint := pg_temp.fx('o1')::bigint;
    o3 bigint := pg_temp.fx('o3')::bigint;
    o5 bigint := pg_temp.fx('o5')::bigint;
BEGIN
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 100, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(pp_test_trade_ids(r.body), pg_temp.ids('o1', 'o5', 'o6', 'o3', 'o2', 'o4'), 'order');
    PERFORM pp_test_eq(format('%s %s', r.next_us, r.next_order_id), ' ', 'no next position');
    PERFORM pp_test_eq(r.body, '[' || (SELECT string_agg(pp_fill_json(f), ',' ORDER BY x.n)
                                       FROM unnest(pg_temp.ids('o1', 'o5', 'o6', 'o3', 'o2', 'o4'))
                                            WITH ORDINALITY AS x(id, n)
                                       JOIN fills f ON f.order_id = x.id) || ']', 'body');
    PERFORM pp_test_eq((r.body::jsonb)->0, jsonb_build_object(
        'trade_id', o1, 'order_id', o1, 'market_id', '0xe140a', 'side', 'BUY', 'outcome', 'Yes',
        'price', '0.4500', 'quantity', '10.0000', 'notional', '4.50', 'fee', '0.00',
        'filled_at', '2020-01-03T00:00:00.000000Z', 'client_order_id', 'c1', 'realized_pnl', NULL),
        'first trade');
    PERFORM pp_test_eq((r.body::jsonb)->1, jsonb_build_object(
        'trade_id', o5, 'order_id', o5, 'market_id', '0xe140b', 'side', 'SELL', 'outcome', 'Yes',
        'price', '0.4000', 'quantity', '5.0000', 'notional', '2.00', 'fee', '0.00',
        'filled_at', '2020-01-02T12:00:00.123456Z', 'client_order_id', NULL, 'realized_pnl', NULL),
        'second trade');
    PERFORM pp_test_eq((r.body::jsonb)->3->>'client_order_id', 'c3', 'client_order_id of o3');
    PERFORM pp_test_eq((r.body::jsonb)->3->>'trade_id', o3::text, 'trade_id of o3');
    PERFORM pp_test_eq(pp_test_keys(((r.body)::json->0)::text),
        ARRAY['trade_id', 'order_id', 'market_id', 'side', 'outcome', 'price', 'quantity',
              'notional', 'fee', 'filled_at', 'client_order_id', 'realized_pnl'], 'trade keys in order');
END
$$;

-- test: limit + 1: a page of exactly all rows has no next position; a shorter page returns its last row's (filled_at in microseconds, order_id)
DO $$
DECLARE
    r record;
    a uuid := pg_temp.fx('a')::uuid;
BEGIN
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 6, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(cardinality(pp_test_trade_ids(r.body)), 6, 'limit 6: rows');
    PERFORM pp_test_eq(r.next_us, NULL::bigint, 'limit 6: next_us');
    PERFORM pp_test_eq(r.next_order_id, NULL::bigint, 'limit 6: next_order_id');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 5, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(pp_test_trade_ids(r.body), pg_temp.ids('o1', 'o5', 'o6', 'o3', 'o2'), 'limit 5: rows');
    -- 2020-01-01 00:00:00.000002 UTC
    PERFORM pp_test_eq(r.next_us, 1577836800000002, 'limit 5: next_us');
    PERFORM pp_test_eq(r.next_order_id, pg_temp.fx('o2')::bigint, 'limit 5: next_order_id');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 5, NULL, NULL, 1577836800000002, pg_temp.fx('o2')::bigint);
    PERFORM pp_test_eq(pp_test_trade_ids(r.body), pg_temp.ids('o4'), 'page 2: rows');
    PERFORM pp_test_eq(format('%s %s', r.next_us, r.next_order_id), ' ', 'page 2: no next position');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 1, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(pp_test_trade_ids(r.body), pg_temp.ids('o1'), 'limit 1: rows');
    PERFORM pp_test_eq(format('%s %s', r.next_us, r.next_order_id),
                       format('1578009600000000 %s', pg_temp.fx('o1')), 'limit 1: next position');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 2, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(format('%s %s', r.next_us, r.next_order_id),
                       format('1577966400123456 %s', pg_temp.fx('o5')), 'limit 2: next position at microseconds');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 500, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(cardinality(pp_test_trade_ids(r.body)), 6, 'limit 500: rows');
END
$$;

-- test: the side and market filters, alone and together, keep the feed order
DO $$
DECLARE
    a uuid := pg_temp.fx('a')::uuid;
BEGIN
    PERFORM pp_test_eq((SELECT pp_test_trade_ids(body) FROM pp_list_trades('tf-a', a, 100, 'BUY', NULL, NULL, NULL)),
                       pg_temp.ids('o1', 'o6', 'o2', 'o4'), 'BUY');
    PERFORM pp_test_eq((SELECT pp_test_trade_ids(body) FROM pp_list_trades('tf-a', a, 100, 'SELL', NULL, NULL, NULL)),
                       pg_temp.ids('o5', 'o3'), 'SELL');
    PERFORM pp_test_eq((SELECT pp_test_trade_ids(body) FROM pp_list_trades('tf-a', a, 100, NULL, '0xe140a', NULL, NULL)),
                       pg_temp.ids('o1', 'o3', 'o4'), 'market 0xe140a');
    PERFORM pp_test_eq((SELECT pp_test_trade_ids(body) FROM pp_list_trades('tf-a', a, 100, NULL, '0xe140b', NULL, NULL)),
                       pg_temp.ids('o5', 'o6', 'o2'), 'market 0xe140b');
    PERFORM pp_test_eq((SELECT pp_test_trade_ids(body) FROM pp_list_trades('tf-a', a, 100, 'BUY', '0xe140a', NULL, NULL)),
                       pg_temp.ids('o1', 'o4'), 'BUY on 0xe140a');
    PERFORM pp_test_eq((SELECT pp_test_trade_ids(body) FROM pp_list_trades('tf-a', a, 100, 'SELL', '0xe140b', NULL, NULL)),
                       pg_temp.ids('o5'), 'SELL on 0xe140b');
    PERFORM pp_test_eq((SELECT format('%s %s %s', body, next_us, next_order_id)
                        FROM pp_list_trades('tf-a', a, 100, NULL, '0xnosuchmarket', NULL, NULL)),
                       '[]  ', 'unknown market');
    -- limit + 1 within a filter
    PERFORM pp_test_eq((SELECT format('%s %s', next_us, next_order_id)
                        FROM pp_list_trades('tf-a', a, 2, 'SELL', NULL, NULL, NULL)), ' ', 'SELL, limit 2');
    PERFORM pp_test_eq((SELECT format('%s %s', next_us, next_order_id)
                        FROM pp_list_trades('tf-a', a, 3, NULL, '0xe140b', NULL, NULL)), ' ', '0xe140b, limit 3');
    PERFORM pp_test_eq((SELECT format('%s %s', next_us, next_order_id)
                        FROM pp_list_trades('tf-a', a, 2, NULL, '0xe140b', NULL, NULL)),
                       format('1577836800000003 %s', pg_temp.fx('o6')), '0xe140b, limit 2');
END
$$;

-- test: following the returned position page by page yields exactly the remaining rows, for every filter combination and page size
DO $$
DECLARE
    a uuid := pg_temp.fx('a')::uuid;
    f record;
    lim integer;
    want bigint[];
BEGIN
    FOR f IN SELECT * FROM (VALUES
            (NULL, NULL, pg_temp.ids('o1', 'o5', 'o6', 'o3', 'o2', 'o4')),
            ('BUY', NULL, pg_temp.ids('o1', 'o6', 'o2', 'o4')),
            ('SELL', NULL, pg_temp.ids('o5', 'o3')),
            (NULL, '0xe140a', pg_temp.ids('o1', 'o3', 'o4')),
            (NULL, '0xe140b', pg_temp.ids('o5', 'o6', 'o2')),
            ('BUY', '0xe140a', pg_temp.ids('o1', 'o4')),
            ('BUY', '0xe140b', pg_temp.ids('o6', 'o2')),
            ('SELL', '0xe140a', pg_temp.ids('o3'))) AS v(side, market, ids)
    LOOP
        want := f.ids;
        FOR lim IN 1..7 LOOP
            PERFORM pp_test_eq(pp_test_trades_all('tf-a', a, lim, f.side, f.market), want,
                               format('side %s market %s limit %s', f.side, f.market, lim));
        END LOOP;
    END LOOP;
END
$$;

-- test: fills arriving while a client pages never duplicate or skip an older row; they appear on a new first page
DO $$
DECLARE
    r record;
    a uuid := pg_temp.fx('a')::uuid;
    seen bigint[];
    n1 bigint;
    n2 bigint;
    n3 bigint;
BEGIN
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 2, NULL, NULL, NULL, NULL);
    seen := pp_test_trade_ids(r.body);
    PERFORM pp_test_eq(seen, pg_temp.ids('o1', 'o5'), 'page 1');
    n1 := pp_test_place('tf-a', a, '140001', 'BUY', 'market', 1);
    n2 := pp_test_place('tf-a', a, '140011', 'SELL', 'market', 1);
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 2, NULL, NULL, r.next_us, r.next_order_id);
    seen := seen || pp_test_trade_ids(r.body);
    n3 := pp_test_place('tf-a', a, '140001', 'SELL', 'market', 1);
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 2, NULL, NULL, r.next_us, r.next_order_id);
    seen := seen || pp_test_trade_ids(r.body);
    PERFORM pp_test_eq(seen, pg_temp.ids('o1', 'o5', 'o6', 'o3', 'o2', 'o4'), 'all pages');
    PERFORM pp_test_eq(format('%s %s', r.next_us, r.next_order_id), ' ', 'last page');
    -- the same with a filter
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 1, 'SELL', '0xe140a', NULL, NULL);
    PERFORM pp_test_eq(pp_test_trade_ids(r.body), ARRAY[n3], 'new SELL first');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 1, 'SELL', '0xe140a', r.next_us, r.next_order_id);
    PERFORM pp_test_eq(pp_test_trade_ids(r.body), pg_temp.ids('o3'), 'then o3');
    PERFORM pp_test_eq(format('%s %s', r.next_us, r.next_order_id), ' ', 'o3 is the last');
    -- a fresh first page starts with the new fills, newest first
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 4, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(pp_test_trade_ids(r.body), ARRAY[n3, n2, n1] || pg_temp.ids('o1'),
                       'new fills on a new first page');
END
$$;

-- test: another account's fills are not listed; another tenant or an unknown account is 404 ACCOUNT_NOT_FOUND without a next position
DO $$
DECLARE
    r record;
    a uuid := pg_temp.fx('a')::uuid;
    b uuid := pg_temp.fx('b')::uuid;
    not_found text := (SELECT body FROM pp_account_not_found());
BEGIN
    PERFORM pp_test_eq((SELECT pp_test_trade_ids(body) FROM pp_list_trades('tf-a', b, 100, NULL, NULL, NULL, NULL)),
                       pg_temp.ids('o7'), 'account B lists only its fill');
    FOR r IN SELECT * FROM pp_list_trades('tf-b', a, 100, NULL, NULL, NULL, NULL)
             UNION ALL SELECT * FROM pp_list_trades('tf-b', a, 100, 'BUY', '0xe140a', 1577836800000002, 1)
             UNION ALL SELECT * FROM pp_list_trades('tf-a', gen_random_uuid(), 100, NULL, NULL, NULL, NULL)
    LOOP
        PERFORM pp_test_eq(format('%s %s %s %s', r.status, r.body, r.next_us, r.next_order_id),
                           format('404 %s  ', not_found), 'not found');
    END LOOP;
END
$$;

-- test: a closed account and a reset account still list all their fills; an account without fills lists []
DO $$
DECLARE
    r record;
    a uuid := pg_temp.fx('a')::uuid;
    u bigint := pg_temp.fx('u')::bigint;
    empty uuid := pp_test_account('tf-a', u, 'tf1-empty', 1000);
    n bigint;
BEGIN
    PERFORM pp_test_eq((SELECT status FROM pp_close_account('tf-a', a, 500)), 200, 'close');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 100, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(format('%s %s', r.status, pp_test_trade_ids(r.body)),
                       format('200 %s', pg_temp.ids('o1', 'o5', 'o6', 'o3', 'o2', 'o4')), 'closed account');
    PERFORM pp_test_eq((SELECT status FROM pp_reset_account('tf-a', a, 500)), 200, 'reset');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', a, 100, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(format('%s %s', r.status, pp_test_trade_ids(r.body)),
                       format('200 %s', pg_temp.ids('o1', 'o5', 'o6', 'o3', 'o2', 'o4')), 'reset account');
    n := pp_test_place('tf-a', a, '140001', 'BUY', 'market', 1);
    PERFORM pp_test_eq((SELECT pp_test_trade_ids(body) FROM pp_list_trades('tf-a', a, 100, NULL, NULL, NULL, NULL)),
                       ARRAY[n] || pg_temp.ids('o1', 'o5', 'o6', 'o3', 'o2', 'o4'), 'after a new fill');
    SELECT * INTO STRICT r FROM pp_list_trades('tf-a', empty, 100, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(format('%s %s %s %s', r.status, r.body, r.next_us, r.next_order_id), '200 []  ', 'empty account');
END
$$;

-- test: listing trades writes nothing
DO $$
DECLARE
    a uuid := pg_temp.fx('a')::uuid;
    before jsonb := pp_test_snapshot();
BEGIN
    PERFORM pp_list_trades('tf-a', a, 2, NULL, NULL, NULL, NULL);
    PERFORM pp_list_trades('tf-a', a, 2, 'BUY', '0xe140a', 1577836800000002, 1);
    PERFORM pp_list_trades('tf-b', a, 2, NULL, NULL, NULL, NULL);
    PERFORM pp_test_assert_unchanged(before, 'reads');
END
$$;
