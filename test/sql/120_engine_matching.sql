-- pp_apply_price_updates: the price feed's batch entry point. Stores the
-- prices (absent keys keep, explicit null clears, unknown tokens skipped)
-- and fills the resting limit orders the new book crosses, at their limit
-- price, in the same call.

-- test: an update stores what it names, keeps what it omits, clears explicit nulls, stamps updated_at, skips unknown tokens, and returns 0 without crossed orders
DO $$
DECLARE
    n integer;
    t market_tokens;
BEGIN
    PERFORM pp_test_market('0xe120a', ARRAY['120001', '120002']);
    n := pp_apply_price_updates('[
        {"token_id": "120001", "best_bid": "0.41", "best_ask": "0.43", "midpoint": "0.42",
         "last_trade_price": "0.425", "bids": [["0.41", "100"]], "asks": [["0.43", "50"], ["0.44", "10"]]},
        {"token_id": "120999", "best_bid": "0.10", "best_ask": "0.20"},
        {"token_id": "120002", "best_bid": 0.57, "best_ask": 0.59}]');
    PERFORM pp_test_eq(n, 0, 'filled');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '120001';
    PERFORM pp_test_eq(format('%s %s %s %s %s %s %s', t.best_bid, t.best_ask, t.midpoint, t.last_trade_price,
                              t.tick_size, t.bids, t.asks),
                       '0.4100 0.4300 0.4200 0.4250 0.0100 [["0.41", "100"]] [["0.43", "50"], ["0.44", "10"]]',
                       'first token');
    PERFORM pp_test_eq(t.updated_at, now(), 'updated_at');
    PERFORM pp_test_eq((SELECT format('%s %s %s %s', best_bid, best_ask, midpoint, updated_at = now())
                        FROM market_tokens WHERE token_id = '120002'),
                       '0.5700 0.5900  t', 'second token (numbers accepted)');
    PERFORM pp_test_eq((SELECT count(*) FROM market_tokens WHERE token_id = '120999'), 0::bigint,
                       'unknown token not created');
    -- absent keys keep their values
    UPDATE market_tokens SET updated_at = now() - interval '1 hour' WHERE token_id = '120001';
    PERFORM pp_test_eq(pp_apply_price_updates('[{"token_id": "120001", "best_ask": "0.44"}]'), 0, 'filled');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '120001';
    PERFORM pp_test_eq(format('%s %s %s %s %s %s %s', t.best_bid, t.best_ask, t.midpoint, t.last_trade_price,
                              t.tick_size, t.bids, t.asks),
                       '0.4100 0.4400 0.4200 0.4250 0.0100 [["0.41", "100"]] [["0.43", "50"], ["0.44", "10"]]',
                       'after an ask-only update');
    PERFORM pp_test_eq(t.updated_at, now(), 'updated_at after an ask-only update');
    -- explicit nulls clear
    PERFORM pp_apply_price_updates('[{"token_id": "120001", "best_bid": null, "midpoint": null,
                                      "last_trade_price": null}]');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '120001';
    PERFORM pp_test_eq(format('%s|%s|%s|%s', t.best_bid, t.best_ask, t.midpoint, t.last_trade_price),
                       '|0.4400||', 'after explicit nulls');
    -- the tick size is updated when given, kept when absent or null
    PERFORM pp_apply_price_updates('[{"token_id": "120001", "tick_size": "0.001"}]');
    PERFORM pp_test_eq((SELECT tick_size::text FROM market_tokens WHERE token_id = '120001'), '0.0010', 'tick 0.001');
    PERFORM pp_apply_price_updates('[{"token_id": "120001", "tick_size": null, "best_ask": "0.45"}]');
    PERFORM pp_test_eq((SELECT format('%s %s', tick_size, best_ask) FROM market_tokens WHERE token_id = '120001'),
                       '0.0010 0.4500', 'tick kept on null');
    -- new depth replaces the stored depth
    PERFORM pp_apply_price_updates('[{"token_id": "120001", "asks": [["0.46", "5"]]}]');
    PERFORM pp_test_eq((SELECT format('%s %s', bids, asks) FROM market_tokens WHERE token_id = '120001'),
                       '[["0.41", "100"]] [["0.46", "5"]]', 'depth replaced');
END
$$;

-- test: an explicit null for bids or asks clears the stored depth (like every other field)
DO $$
DECLARE
    t market_tokens;
BEGIN
    PERFORM pp_test_market('0xe120b', ARRAY['120011', '120012']);
    PERFORM pp_apply_price_updates('[{"token_id": "120011", "best_bid": "0.41", "best_ask": "0.43",
                                      "bids": [["0.41", "100"]], "asks": [["0.43", "50"]]}]');
    PERFORM pp_apply_price_updates('[{"token_id": "120011", "bids": null, "asks": null}]');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '120011';
    PERFORM pp_test_eq(format('%s %s', t.bids IS NULL, t.asks IS NULL), 't t', 'depth cleared');
    PERFORM pp_test_eq(format('%s %s', t.best_bid, t.best_ask), '0.4100 0.4300', 'top of book kept');
END
$$;

-- test: a batch of only unknown tokens changes nothing and returns 0
DO $$
DECLARE
    before jsonb;
BEGIN
    PERFORM pp_test_market('0xe120c', ARRAY['120021', '120022']);
    PERFORM pp_test_price('120021', 0.41, 0.43);
    before := pp_test_snapshot();
    PERFORM pp_test_eq(pp_apply_price_updates('[{"token_id": "120029", "best_bid": "0.1"},
                                                {"token_id": "120028", "best_ask": "0.2"}]'), 0, 'filled');
    PERFORM pp_test_eq(pp_apply_price_updates('[]'), 0, 'empty batch');
    PERFORM pp_test_assert_unchanged(before, 'unknown tokens');
END
$$;

-- test: resting BUYs with limit >= the new ask fill at their limit price in the same call, which returns how many; the rest stay open; the reservation is released and the notional and fee debited once
DO $$
DECLARE
    u bigint := pp_test_user('mt-a', 'mt-1', 'mt1@example.com');
    a uuid := pp_test_account('mt-a', u, 'mt1-acc', 1000);
    w bigint := pp_test_wallet(a);
    oa bigint;
    ob bigint;
    oc bigint;
    l0 bigint;
BEGIN
    PERFORM pp_test_priced('0xe120d', '120031', 0.40, 0.45);
    oa := pp_test_place('mt-a', a, '120031', 'BUY', 'limit', 10, 0.44, NULL, 'a', 0.01);   -- 4.40 + 0.04
    ob := pp_test_place('mt-a', a, '120031', 'BUY', 'limit', 10, 0.42);                    -- 4.20
    oc := pp_test_place('mt-a', a, '120031', 'BUY', 'limit', 10, 0.41);                    -- 4.10
    PERFORM pp_test_eq(pp_test_balance(w), '987.26', 'balance with three BUYs resting');
    PERFORM pp_test_eq(pp_test_equity(a), '1000.00', 'equity with three BUYs resting');
    l0 := pp_test_last_ledger_id();
    -- the ask falls to 0.42: 0.44 and 0.42 cross, 0.41 does not
    PERFORM pp_test_eq(pp_test_price('120031', 0.40, 0.42), 2, 'filled by the update');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s %s %s', order_id, price, quantity, notional, fee) ORDER BY order_id)
                        FROM fills WHERE wallet_id = w),
                       ARRAY[format('%s 0.4400 10.0000 4.40 0.04', oa), format('%s 0.4200 10.0000 4.20 0.00', ob)],
                       'fills at the limit prices');
    PERFORM pp_test_eq((SELECT client_order_id FROM fills WHERE order_id = oa), 'a', 'client_order_id on the fill');
    PERFORM pp_test_eq(pp_test_ledger(w, l0),
                       ARRAY[format('release 4.44 %s', oa), format('fill -4.40 %s', oa), format('fee -0.04 %s', oa),
                             format('release 4.20 %s', ob), format('fill -4.20 %s', ob)], 'ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '987.26', 'balance: the reserved cash paid the fills');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s', status, reserved_cash) ORDER BY id) FROM orders WHERE wallet_id = w),
                       ARRAY['filled 0.00', 'filled 0.00', 'open 4.10'], 'orders');
    PERFORM pp_test_eq(pp_test_pos(w, '120031'), '20.0000 0.0000 0.430000', 'position at the average limit price');
    -- equity: 987.26 + 4.10 reserved + 20 x 0.41 (mid of 0.40/0.42)
    PERFORM pp_test_eq(pp_test_equity(a), '999.56', 'equity');
    -- an update that crosses nothing more fills nothing; a later crossing fills the last one
    PERFORM pp_test_eq(pp_test_price('120031', 0.39, 0.415), 0, 'ask above the last limit');
    PERFORM pp_test_eq(pp_test_price('120031', 0.39, 0.40), 1, 'ask under the last limit');
    PERFORM pp_test_eq((SELECT format('%s %s', price, notional) FROM fills WHERE order_id = oc), '0.4100 4.10', 'last fill');
    PERFORM pp_test_eq(pp_test_balance(w), '987.26', 'final balance');
    PERFORM pp_test_eq(pp_test_pos(w, '120031'), '30.0000 0.0000 0.423333', 'final position');
END
$$;

-- test: resting SELLs with limit <= the new bid fill at their limit price and release their shares; the rest stay open; selling the last shares closes the position
DO $$
DECLARE
    u bigint := pp_test_user('mt-a', 'mt-2', 'mt2@example.com');
    a uuid := pp_test_account('mt-a', u, 'mt2-acc', 1000);
    w bigint := pp_test_wallet(a);
    oa bigint;
    ob bigint;
    oc bigint;
    l0 bigint;
BEGIN
    PERFORM pp_test_priced('0xe120e', '120041', 0.40, 0.45);
    PERFORM pp_test_place('mt-a', a, '120041', 'BUY', 'market', 25);                       -- 11.25
    oa := pp_test_place('mt-a', a, '120041', 'SELL', 'limit', 10, 0.50, NULL, NULL, 0.02);
    ob := pp_test_place('mt-a', a, '120041', 'SELL', 'limit', 10, 0.52);
    oc := pp_test_place('mt-a', a, '120041', 'SELL', 'limit', 5, 0.55);
    PERFORM pp_test_eq(pp_test_pos(w, '120041'), '25.0000 25.0000 0.450000', 'all shares reserved');
    l0 := pp_test_last_ledger_id();
    PERFORM pp_test_eq(pp_test_price('120041', 0.52, 0.56), 2, 'filled by the update');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s %s %s', order_id, side, price, notional, fee) ORDER BY order_id)
                        FROM fills WHERE wallet_id = w AND side = 'SELL'),
                       ARRAY[format('%s SELL 0.5000 5.00 0.10', oa), format('%s SELL 0.5200 5.20 0.00', ob)], 'fills');
    PERFORM pp_test_eq(pp_test_ledger(w, l0),
                       ARRAY[format('fill 5.00 %s', oa), format('fee -0.10 %s', oa), format('fill 5.20 %s', ob)],
                       'ledger');
    PERFORM pp_test_eq(pp_test_pos(w, '120041'), '5.0000 5.0000 0.450000', 'position');
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = oc), 'open', 'the 0.55 SELL rests');
    PERFORM pp_test_eq(pp_test_balance(w), '998.85', 'balance (1000 - 11.25 + 5.00 - 0.10 + 5.20)');
    PERFORM pp_test_eq(pp_test_price('120041', 0.55, 0.56), 1, 'the bid reaches 0.55');
    PERFORM pp_test_eq(pp_test_pos(w, '120041'), NULL::text, 'position closed');
    ASSERT (SELECT closed_at IS NOT NULL FROM positions WHERE wallet_id = w AND token_id = '120041'),
        'closed_at not set';
    PERFORM pp_test_eq(pp_test_balance(w), '1001.60', 'final balance');
END
$$;

-- test: one batch fills crossed orders across tokens and wallets and counts them all; orders on tokens outside the batch are not filled even when crossed
DO $$
DECLARE
    u bigint := pp_test_user('mt-a', 'mt-3', 'mt3@example.com');
    a1 uuid := pp_test_account('mt-a', u, 'mt3-acc1', 1000);
    a2 uuid := pp_test_account('mt-a', u, 'mt3-acc2', 1000);
    o_x bigint;
    o_y1 bigint;
    o_y2 bigint;
    o_z bigint;
BEGIN
    PERFORM pp_test_priced('0xe120f', '120051', 0.40, 0.45);     -- X
    PERFORM pp_test_priced('0xe120g', '120061', 0.40, 0.45);     -- Y
    PERFORM pp_test_priced('0xe120h', '120071', 0.40, 0.45);     -- Z
    -- a limit order placed on a stale book rests although the book crosses it
    UPDATE market_tokens SET updated_at = now() - interval '1 hour' WHERE token_id = '120051';
    o_x := pp_test_place('mt-a', a1, '120051', 'BUY', 'limit', 10, 0.46, NULL, NULL, 0, 60);
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = o_x), 'open', 'X order rests');
    o_y1 := pp_test_place('mt-a', a1, '120061', 'BUY', 'limit', 10, 0.43);
    o_y2 := pp_test_place('mt-a', a2, '120061', 'BUY', 'limit', 10, 0.44);
    o_z := pp_test_place('mt-a', a2, '120071', 'BUY', 'limit', 10, 0.43);
    -- Y and Z cross; X is not in the batch
    PERFORM pp_test_eq(pp_apply_price_updates('[
        {"token_id": "120061", "best_ask": "0.43"},
        {"token_id": "120071", "best_ask": "0.42"},
        {"token_id": "120999", "best_ask": "0.01"}]'), 3, 'filled');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s', id, status) ORDER BY id) FROM orders
                        WHERE id IN (o_x, o_y1, o_y2, o_z)),
                       ARRAY[format('%s open', o_x), format('%s filled', o_y1), format('%s filled', o_y2),
                             format('%s filled', o_z)], 'statuses');
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a1)), '991.10', 'a1: 4.60 reserved + 4.30 paid');
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a2)), '991.30', 'a2: 4.40 + 4.30 paid');
    -- an update of X, even without a price change, fills it
    PERFORM pp_test_eq(pp_apply_price_updates('[{"token_id": "120051"}]'), 1, 'X filled');
    PERFORM pp_test_eq((SELECT format('%s %s', price, notional) FROM fills WHERE order_id = o_x), '0.4600 4.60', 'X fill');
END
$$;

-- test: resting orders on a closed or resolved market are not filled by a crossing update (the prices are still stored)
DO $$
DECLARE
    u bigint := pp_test_user('mt-a', 'mt-4', 'mt4@example.com');
    a uuid := pp_test_account('mt-a', u, 'mt4-acc', 1000);
    w bigint := pp_test_wallet(a);
    o1 bigint;
    o2 bigint;
    o3 bigint;
BEGIN
    PERFORM pp_test_priced('0xe120i', '120081', 0.40, 0.45);
    PERFORM pp_test_priced('0xe120j', '120091', 0.40, 0.45);
    PERFORM pp_test_place('mt-a', a, '120081', 'BUY', 'market', 10);
    o1 := pp_test_place('mt-a', a, '120081', 'BUY', 'limit', 10, 0.42);
    o2 := pp_test_place('mt-a', a, '120081', 'SELL', 'limit', 10, 0.50);
    o3 := pp_test_place('mt-a', a, '120091', 'BUY', 'limit', 10, 0.42);
    PERFORM pp_upsert_market('0xe120i', 'engine test market 0xe120i', NULL, true, '[]');
    UPDATE markets SET resolved = true WHERE condition_id = '0xe120j';    -- fixture: resolved, not settled
    PERFORM pp_test_eq(pp_apply_price_updates('[{"token_id": "120081", "best_bid": "0.55", "best_ask": "0.41"},
                                                {"token_id": "120091", "best_bid": "0.55", "best_ask": "0.41"}]'),
                       0, 'filled');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s', status, reserved_cash) ORDER BY id) FROM orders
                        WHERE id IN (o1, o2, o3)),
                       ARRAY['open 4.20', 'open 0.00', 'open 4.20'], 'orders still resting');
    PERFORM pp_test_eq(pp_test_pos(w, '120081'), '10.0000 10.0000 0.450000', 'position still reserved');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s', best_bid, best_ask) ORDER BY token_id) FROM market_tokens
                        WHERE token_id IN ('120081', '120091')),
                       ARRAY['0.5500 0.4100', '0.5500 0.4100'], 'prices stored');
END
$$;

-- test: a missing or zero price on the side crosses nothing
DO $$
DECLARE
    u bigint := pp_test_user('mt-a', 'mt-5', 'mt5@example.com');
    a uuid := pp_test_account('mt-a', u, 'mt5-acc', 1000);
    w bigint := pp_test_wallet(a);
BEGIN
    PERFORM pp_test_priced('0xe120k', '120101', 0.40, 0.45);
    PERFORM pp_test_place('mt-a', a, '120101', 'BUY', 'market', 10);
    PERFORM pp_test_place('mt-a', a, '120101', 'BUY', 'limit', 10, 0.42);
    PERFORM pp_test_place('mt-a', a, '120101', 'SELL', 'limit', 10, 0.50);
    PERFORM pp_test_eq(pp_test_price('120101', NULL, NULL), 0, 'no prices');
    PERFORM pp_test_eq(pp_test_price('120101', 0, 0), 0, 'prices 0');
    PERFORM pp_test_eq((SELECT count(*) FROM orders WHERE wallet_id = w AND status = 'open'), 2::bigint, 'open orders');
    PERFORM pp_test_eq(pp_test_price('120101', 0.50, 0.42), 2, 'both cross');
END
$$;
