-- pp_place_order and pp_cancel_order: market orders (fill-or-kill), limit
-- orders (reserve and rest, or fill at once when already crossed), every
-- rejection path (nothing written), idempotency per account, and equity.

-- test: a market BUY fills at the best ask: 201 with the order and its fill, one fill row (trade_id = order_id, filled_at with microseconds, client_order_id), a fill ledger entry, a position at the fill price
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('en-a', 'en-1', 'en1@example.com');
    a uuid := pp_test_account('en-a', u, 'en1-acc', 1000);
    w bigint := pp_test_wallet(a);
    l0 bigint;
    o bigint;
    o2 bigint;
    ord orders;
    f fills;
    f2 fills;
    b jsonb;
BEGIN
    PERFORM pp_test_priced('0xe110a', '110001', 0.41, 0.43);
    l0 := pp_test_last_ledger_id();
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110001', 'BUY', 'market', 12.3456,
                                               NULL, NULL, 'c-1', 0, 60);
    PERFORM pp_test_eq(r.status, 201, 'status');
    b := r.body::jsonb;
    o := (b->>'order_id')::bigint;
    SELECT * INTO STRICT ord FROM orders WHERE id = o;
    SELECT * INTO STRICT f FROM fills WHERE order_id = o;
    PERFORM pp_test_eq(r.body, pp_order_json(o), 'body is pp_order_json');
    PERFORM pp_test_eq(pp_test_keys(r.body),
        ARRAY['order_id', 'account_id', 'client_order_id', 'market_id', 'token_id', 'outcome',
              'side', 'type', 'quantity', 'limit_price', 'worst_price', 'status', 'reserved_cash',
              'created_at', 'cancelled_at', 'fill'], 'order keys in order');
    PERFORM pp_test_eq(pp_test_keys(((r.body)::json->'fill')::text),
        ARRAY['trade_id', 'order_id', 'market_id', 'side', 'outcome', 'price', 'quantity',
              'notional', 'fee', 'filled_at', 'client_order_id', 'realized_pnl'], 'fill keys in order');
    PERFORM pp_test_eq(b - 'fill', jsonb_build_object(
        'order_id', o, 'account_id', a::text, 'client_order_id', 'c-1', 'market_id', '0xe110a',
        'token_id', '110001', 'outcome', 'Yes', 'side', 'BUY', 'type', 'market',
        'quantity', '12.3456', 'limit_price', NULL, 'worst_price', NULL, 'status', 'filled',
        'reserved_cash', '0.00',
        'created_at', to_char(ord.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'cancelled_at', NULL), 'order');
    PERFORM pp_test_eq(b->'fill', jsonb_build_object(
        'trade_id', o, 'order_id', o, 'market_id', '0xe110a', 'side', 'BUY', 'outcome', 'Yes',
        'price', '0.4300', 'quantity', '12.3456', 'notional', '5.31', 'fee', '0.00',
        'filled_at', to_char(f.filled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'client_order_id', 'c-1', 'realized_pnl', NULL), 'fill');
    IF (b->'fill'->>'filled_at') !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' THEN
        RAISE EXCEPTION 'filled_at is not at microseconds: %', b->'fill'->>'filled_at';
    END IF;
    -- the fill row
    PERFORM pp_test_eq(format('%s %s %s %s %s %s %s %s %s %s %s', f.order_id, f.wallet_id, f.token_id,
                              f.condition_id, f.outcome, f.side, f.price, f.quantity, f.notional,
                              f.fee, f.client_order_id),
                       format('%s %s 110001 0xe110a Yes BUY 0.4300 12.3456 5.31 0.00 c-1', o, w),
                       'fill row');
    ASSERT f.filled_at >= now() AND f.filled_at <= clock_timestamp(), 'filled_at out of range';
    PERFORM pp_test_eq(format('%s %s %s %s %s %s %s', ord.order_type, ord.status, ord.reserved_cash,
                              ord.reserved_shares, ord.fee_rate, ord.client_order_id,
                              coalesce(ord.limit_price::text, '-')),
                       'market filled 0.00 0.0000 0.000000 c-1 -', 'order row');
    -- cash: one fill entry (a 0.00 fee writes no entry)
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('fill -5.31 %s', o)], 'ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '994.69', 'balance');
    PERFORM pp_test_eq(pp_test_pos(w, '110001'), '12.3456 0.0000 0.430000', 'position');
    -- a second fill in the same transaction has a later filled_at (the clock, not the transaction time)
    o2 := pp_test_place('en-a', a, '110001', 'BUY', 'market', 1);
    SELECT * INTO STRICT f2 FROM fills WHERE order_id = o2;
    ASSERT f2.filled_at > f.filled_at, 'second fill is not later than the first';
    PERFORM pp_test_eq(f2.client_order_id, NULL::text, 'no client_order_id');
    PERFORM pp_test_eq((SELECT body FROM pp_place_order('en-a', a, '110001', 'BUY', 'market', 1,
                                                        NULL, NULL, NULL, 0, 60))::jsonb
                       ->'fill'->'client_order_id', 'null'::jsonb, 'client_order_id null in the fill');
END
$$;

-- test: a market SELL fills at the best bid: cash credited by the notional, the position reduced, its average entry unchanged
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-2', 'en2@example.com');
    a uuid := pp_test_account('en-a', u, 'en2-acc', 1000);
    w bigint := pp_test_wallet(a);
    l0 bigint;
    o bigint;
    f fills;
BEGIN
    PERFORM pp_test_priced('0xe110b', '110011', 0.41, 0.43);
    PERFORM pp_test_place('en-a', a, '110011', 'BUY', 'market', 100);       -- 43.00
    PERFORM pp_test_eq(pp_test_balance(w), '957.00', 'balance after the BUY');
    l0 := pp_test_last_ledger_id();
    o := pp_test_place('en-a', a, '110011', 'SELL', 'market', 40, NULL, NULL, 's-1');  -- 16.40
    SELECT * INTO STRICT f FROM fills WHERE order_id = o;
    PERFORM pp_test_eq(format('%s %s %s %s %s %s', f.side, f.price, f.quantity, f.notional, f.fee,
                              f.client_order_id),
                       'SELL 0.4100 40.0000 16.40 0.00 s-1', 'fill row');
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('fill 16.40 %s', o)], 'ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '973.40', 'balance');
    PERFORM pp_test_eq(pp_test_pos(w, '110011'), '60.0000 0.0000 0.430000', 'position');
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = o), 'filled', 'order status');
END
$$;

-- test: the fee is round(notional x fee_rate, 2), a fee ledger entry on BUY and SELL, recorded on the fill; a fee rounding to 0.00 writes no entry
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-3', 'en3@example.com');
    a uuid := pp_test_account('en-a', u, 'en3-acc', 1000);
    w bigint := pp_test_wallet(a);
    l0 bigint;
    o bigint;
    o2 bigint;
    o3 bigint;
BEGIN
    PERFORM pp_test_priced('0xe110c', '110021', 0.42, 0.43);
    UPDATE market_tokens
    SET asks = '[["0.45", "100"], ["0.43", "50"], ["0.44", "30"]]',
        bids = '[["0.40", "100"], ["0.42", "50"], ["0.41", "30"]]'
    WHERE token_id = '110021';
    l0 := pp_test_last_ledger_id();
    -- BUY 100.5 walks to 43.925 -> 43.93 at 0.4371; fee 43.93 x 0.015 = 0.65895 -> 0.66
    o := pp_test_place('en-a', a, '110021', 'BUY', 'market', 100.5, NULL, NULL, NULL, 0.015);
    PERFORM pp_test_eq((SELECT format('%s %s %s %s', price, quantity, notional, fee) FROM fills WHERE order_id = o),
                       '0.4371 100.5000 43.93 0.66', 'BUY fill');
    PERFORM pp_test_eq((SELECT fee_rate::text FROM orders WHERE id = o), '0.015000', 'order fee_rate');
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('fill -43.93 %s', o), format('fee -0.66 %s', o)],
                       'BUY ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '955.41', 'balance after the BUY');
    PERFORM pp_test_eq(pp_test_pos(w, '110021'), '100.5000 0.0000 0.437100', 'position at the VWAP');
    -- SELL 100.5 walks the bids to 41.50 at 0.4129; fee 41.50 x 0.015 = 0.6225 -> 0.62
    l0 := pp_test_last_ledger_id();
    o2 := pp_test_place('en-a', a, '110021', 'SELL', 'market', 100.5, NULL, NULL, NULL, 0.015);
    PERFORM pp_test_eq((SELECT format('%s %s %s %s', price, quantity, notional, fee) FROM fills WHERE order_id = o2),
                       '0.4129 100.5000 41.50 0.62', 'SELL fill');
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('fill 41.50 %s', o2), format('fee -0.62 %s', o2)],
                       'SELL ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '996.29', 'balance after the SELL');
    -- 1 x 0.43 = 0.43; 0.43 x 0.01 = 0.0043 -> 0.00: no fee entry
    l0 := pp_test_last_ledger_id();
    o3 := pp_test_place('en-a', a, '110021', 'BUY', 'market', 1, NULL, NULL, NULL, 0.01);
    PERFORM pp_test_eq((SELECT format('%s %s', notional, fee) FROM fills WHERE order_id = o3), '0.43 0.00', 'tiny fee');
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('fill -0.43 %s', o3)], 'no 0.00 fee entry');
END
$$;

-- test: further BUYs give the size-weighted average entry, stored at 6 dp
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-4', 'en4@example.com');
    a uuid := pp_test_account('en-a', u, 'en4-acc', 1000);
    w bigint := pp_test_wallet(a);
    p_id bigint;
BEGIN
    PERFORM pp_test_priced('0xe110d', '110031', 0.39, 0.40);
    PERFORM pp_test_place('en-a', a, '110031', 'BUY', 'market', 100);          -- 40.00
    p_id := (SELECT id FROM positions WHERE wallet_id = w AND token_id = '110031');
    PERFORM pp_test_price('110031', 0.44, 0.45);
    PERFORM pp_test_place('en-a', a, '110031', 'BUY', 'market', 200);          -- 90.00
    -- (40 + 90) / 300 = 0.4333333.. -> 0.433333
    PERFORM pp_test_eq(pp_test_pos(w, '110031'), '300.0000 0.0000 0.433333', 'after the second BUY');
    PERFORM pp_test_price('110031', 0.46, 0.47);
    PERFORM pp_test_place('en-a', a, '110031', 'BUY', 'market', 12.3456);      -- 5.802432 -> 5.80
    -- (300 x 0.433333 + 12.3456 x 0.47) / 312.3456 = 0.4347824.. -> 0.434782
    PERFORM pp_test_eq(pp_test_pos(w, '110031'), '312.3456 0.0000 0.434782', 'after the third BUY');
    PERFORM pp_test_eq((SELECT count(*) FROM positions WHERE wallet_id = w), 1::bigint, 'one position row');
    PERFORM pp_test_eq((SELECT id FROM positions WHERE wallet_id = w), p_id, 'the same position');
    PERFORM pp_test_eq(pp_test_balance(w), '864.20', 'balance (1000 - 40 - 90 - 5.80)');
END
$$;

-- test: selling the whole position closes it (closed_at set, gone from the envelope); the next BUY opens a new position
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-5', 'en5@example.com');
    a uuid := pp_test_account('en-a', u, 'en5-acc', 1000);
    w bigint := pp_test_wallet(a);
    p_id bigint;
    pos positions;
BEGIN
    PERFORM pp_test_priced('0xe110e', '110041', 0.41, 0.43);
    PERFORM pp_test_place('en-a', a, '110041', 'BUY', 'market', 10.5);       -- 4.515 -> 4.52
    p_id := (SELECT id FROM positions WHERE wallet_id = w AND token_id = '110041');
    PERFORM pp_test_place('en-a', a, '110041', 'SELL', 'market', 4);         -- 1.64
    PERFORM pp_test_eq(pp_test_pos(w, '110041'), '6.5000 0.0000 0.430000', 'after a partial SELL');
    PERFORM pp_test_place('en-a', a, '110041', 'SELL', 'market', 6.5);       -- 2.665 -> 2.67
    SELECT * INTO STRICT pos FROM positions WHERE id = p_id;
    PERFORM pp_test_eq(format('%s %s %s', pos.quantity, pos.reserved_quantity, pos.avg_entry_price),
                       '0.0000 0.0000 0.430000', 'closed position row');
    ASSERT pos.closed_at IS NOT NULL, 'closed_at not set';
    PERFORM pp_test_eq(pp_test_pos(w, '110041'), NULL::text, 'no open position');
    PERFORM pp_test_eq(pp_account_envelope(a)::jsonb->'open_positions', '[]'::jsonb, 'envelope positions');
    PERFORM pp_test_eq(pp_test_balance(w), '999.79', 'balance (1000 - 4.52 + 1.64 + 2.67)');
    PERFORM pp_test_eq(pp_test_equity(a), '999.79', 'equity is the cash');
    -- a new BUY opens a fresh position at the new price
    PERFORM pp_test_price('110041', 0.49, 0.50);
    PERFORM pp_test_place('en-a', a, '110041', 'BUY', 'market', 2);
    PERFORM pp_test_eq(pp_test_pos(w, '110041'), '2.0000 0.0000 0.500000', 'new position');
    PERFORM pp_test_eq((SELECT count(*) FROM positions WHERE wallet_id = w), 2::bigint, 'position rows');
END
$$;

-- test: no short selling: a market or limit SELL of more shares than the account holds unreserved is 400 INSUFFICIENT_SHARES and writes nothing
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-6', 'en6@example.com');
    a uuid := pp_test_account('en-a', u, 'en6-acc', 1000);
    a2 uuid := pp_test_account('en-a', u, 'en6-acc2', 1000);
    w bigint := pp_test_wallet(a);
BEGIN
    PERFORM pp_test_priced('0xe110f', '110051', 0.41, 0.43);
    -- no position at all
    PERFORM pp_test_place_rejected('en-a', a, '110051', 'SELL', 'market', 1, NULL, NULL, 'k', 0, 60,
                                   400, 'INSUFFICIENT_SHARES', 'market SELL without a position');
    PERFORM pp_test_place_rejected('en-a', a, '110051', 'SELL', 'limit', 1, 0.5, NULL, 'k', 0, 60,
                                   400, 'INSUFFICIENT_SHARES', 'limit SELL without a position');
    -- shares on another account of the same trader do not count
    PERFORM pp_test_place('en-a', a2, '110051', 'BUY', 'market', 50);
    PERFORM pp_test_place_rejected('en-a', a, '110051', 'SELL', 'market', 1, NULL, NULL, NULL, 0, 60,
                                   400, 'INSUFFICIENT_SHARES', 'shares of another account');
    -- 10 held: 10.0001 is too many
    PERFORM pp_test_place('en-a', a, '110051', 'BUY', 'market', 10);
    PERFORM pp_test_place_rejected('en-a', a, '110051', 'SELL', 'market', 10.0001, NULL, NULL, NULL, 0, 60,
                                   400, 'INSUFFICIENT_SHARES', 'market SELL 10.0001 of 10');
    PERFORM pp_test_place_rejected('en-a', a, '110051', 'SELL', 'limit', 10.0001, 0.6, NULL, NULL, 0, 60,
                                   400, 'INSUFFICIENT_SHARES', 'limit SELL 10.0001 of 10');
    -- 4 reserved by a resting SELL leaves 6
    PERFORM pp_test_place('en-a', a, '110051', 'SELL', 'limit', 4, 0.6);
    PERFORM pp_test_place_rejected('en-a', a, '110051', 'SELL', 'market', 6.0001, NULL, NULL, NULL, 0, 60,
                                   400, 'INSUFFICIENT_SHARES', 'market SELL over the unreserved shares');
    PERFORM pp_test_place_rejected('en-a', a, '110051', 'SELL', 'limit', 6.0001, 0.7, NULL, NULL, 0, 60,
                                   400, 'INSUFFICIENT_SHARES', 'limit SELL over the unreserved shares');
    PERFORM pp_test_place('en-a', a, '110051', 'SELL', 'market', 6);
    PERFORM pp_test_eq(pp_test_pos(w, '110051'), '4.0000 4.0000 0.430000', 'position: the reserved 4 left');
    PERFORM pp_test_place_rejected('en-a', a, '110051', 'SELL', 'market', 0.0001, NULL, NULL, NULL, 0, 60,
                                   400, 'INSUFFICIENT_SHARES', 'every share reserved');
END
$$;

-- test: a BUY whose notional plus fee exceeds the cash is 400 INSUFFICIENT_FUNDS and writes nothing; exactly the cash is accepted
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-7', 'en7@example.com');
    a uuid := pp_test_account('en-a', u, 'en7-acc', 100);
    a2 uuid := pp_test_account('en-a', u, 'en7-acc2', 100);
    a3 uuid := pp_test_account('en-a', u, 'en7-acc3', 100);
BEGIN
    PERFORM pp_test_priced('0xe110g', '110061', 0.49, 0.50);
    -- 199.5 x 0.50 = 99.75, fee 1% = 0.9975 -> 1.00: 100.75 > 100.00
    PERFORM pp_test_place_rejected('en-a', a, '110061', 'BUY', 'market', 199.5, NULL, NULL, 'f1', 0.01, 60,
                                   400, 'INSUFFICIENT_FUNDS', 'market BUY short by the fee');
    PERFORM pp_test_place_rejected('en-a', a, '110061', 'BUY', 'limit', 199.5, 0.5, NULL, 'f1', 0.01, 60,
                                   400, 'INSUFFICIENT_FUNDS', 'limit BUY short by the fee');
    -- 200.02 x 0.50 = 100.01
    PERFORM pp_test_place_rejected('en-a', a, '110061', 'BUY', 'market', 200.02, NULL, NULL, 'f1', 0, 60,
                                   400, 'INSUFFICIENT_FUNDS', 'market BUY 100.01 on 100.00');
    PERFORM pp_test_place_rejected('en-a', a, '110061', 'BUY', 'limit', 200.02, 0.5, NULL, 'f1', 0, 60,
                                   400, 'INSUFFICIENT_FUNDS', 'limit BUY 100.01 on 100.00');
    -- without the fee the same BUY fits (and the rejected key 'f1' was never taken)
    PERFORM pp_test_place('en-a', a, '110061', 'BUY', 'market', 199.5, NULL, NULL, 'f1', 0);
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a)), '0.25', 'balance after 99.75');
    -- 198 x 0.50 = 99.00 + 0.99 fee = 99.99
    PERFORM pp_test_place('en-a', a2, '110061', 'BUY', 'market', 198, NULL, NULL, NULL, 0.01);
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a2)), '0.01', 'balance after 99.00 + 0.99 fee');
    -- exactly the whole balance
    PERFORM pp_test_place('en-a', a3, '110061', 'BUY', 'market', 200);
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a3)), '0.00', 'balance after exactly 100.00');
    PERFORM pp_test_place_rejected('en-a', a3, '110061', 'BUY', 'market', 0.02, NULL, NULL, NULL, 0, 60,
                                   400, 'INSUFFICIENT_FUNDS', 'market BUY 0.01 on 0.00');
END
$$;

-- test: a market order on a quote older than max_age is 409 STALE_QUOTE and writes nothing; exactly max_age old is fresh; max_age 0 disables the check
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-8', 'en8@example.com');
    a uuid := pp_test_account('en-a', u, 'en8-acc', 1000);
    w bigint := pp_test_wallet(a);
    msg text;
BEGIN
    PERFORM pp_test_priced('0xe110h', '110071', 0.41, 0.43);
    PERFORM pp_test_eq((SELECT updated_at FROM market_tokens WHERE token_id = '110071'), now(),
                       'a price update stamps updated_at');
    PERFORM pp_test_place('en-a', a, '110071', 'BUY', 'market', 10, NULL, NULL, NULL, 0, 60);
    UPDATE market_tokens SET updated_at = now() - interval '61 seconds' WHERE token_id = '110071';
    msg := pp_test_place_rejected('en-a', a, '110071', 'BUY', 'market', 1, NULL, NULL, 'st', 0, 60,
                                  409, 'STALE_QUOTE', 'BUY on a 61 s old quote');
    IF msg NOT LIKE '%60 seconds%' THEN
        RAISE EXCEPTION 'STALE_QUOTE message does not name the age: %', msg;
    END IF;
    PERFORM pp_test_place_rejected('en-a', a, '110071', 'SELL', 'market', 1, NULL, NULL, 'st', 0, 60,
                                   409, 'STALE_QUOTE', 'SELL on a 61 s old quote');
    UPDATE market_tokens SET updated_at = now() - interval '60 seconds' WHERE token_id = '110071';
    PERFORM pp_test_place('en-a', a, '110071', 'SELL', 'market', 1, NULL, NULL, NULL, 0, 60);
    -- max_age 0: no staleness check
    UPDATE market_tokens SET updated_at = now() - interval '365 days' WHERE token_id = '110071';
    PERFORM pp_test_place('en-a', a, '110071', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 0);
    -- a fresh update makes the token tradable again under max_age
    PERFORM pp_test_price('110071', 0.41, 0.43);
    PERFORM pp_test_place('en-a', a, '110071', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 60);
    PERFORM pp_test_eq(pp_test_pos(w, '110071'), '11.0000 0.0000 0.430000', 'position');
END
$$;

-- test: a limit order on a stale quote rests even when the book crosses it (it is not filled on a stale price)
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-8b', 'en8b@example.com');
    a uuid := pp_test_account('en-a', u, 'en8b-acc', 1000);
    w bigint := pp_test_wallet(a);
    r record;
BEGIN
    PERFORM pp_test_priced('0xe110i', '110076', 0.41, 0.43);
    UPDATE market_tokens SET updated_at = now() - interval '61 seconds' WHERE token_id = '110076';
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110076', 'BUY', 'limit', 10, 0.45,
                                               NULL, NULL, 0, 60);
    PERFORM pp_test_eq(format('%s %s %s', r.status, r.body::jsonb->>'status', r.body::jsonb->>'reserved_cash'),
                       '201 open 4.50', 'crossed limit BUY on a stale quote');
    PERFORM pp_test_eq((SELECT count(*) FROM fills WHERE wallet_id = w), 0::bigint, 'no fill');
END
$$;

-- test: no executable price for the whole quantity (no ask, not enough depth, worst_price) is 409 NO_EXECUTABLE_PRICE and writes nothing
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-9', 'en9@example.com');
    a uuid := pp_test_account('en-a', u, 'en9-acc', 1000);
    msg text;
BEGIN
    PERFORM pp_test_priced('0xe110j', '110081', 0.41, NULL);          -- bid only
    PERFORM pp_test_place_rejected('en-a', a, '110081', 'BUY', 'market', 1, NULL, NULL, 'x', 0, 60,
                                   409, 'NO_EXECUTABLE_PRICE', 'BUY without an ask');
    PERFORM pp_test_price('110081', 0.41, 0);                           -- ask 0
    PERFORM pp_test_place_rejected('en-a', a, '110081', 'BUY', 'market', 1, NULL, NULL, 'x', 0, 60,
                                   409, 'NO_EXECUTABLE_PRICE', 'BUY at ask 0');
    PERFORM pp_test_price('110081', 0.41, 0.43);
    UPDATE market_tokens SET asks = '[["0.43", "50"], ["0.44", "30"]]' WHERE token_id = '110081';
    PERFORM pp_test_place_rejected('en-a', a, '110081', 'BUY', 'market', 80.0001, NULL, NULL, 'x', 0, 60,
                                   409, 'NO_EXECUTABLE_PRICE', 'BUY beyond the depth');
    msg := pp_test_place_rejected('en-a', a, '110081', 'BUY', 'market', 51, NULL, 0.43, 'x', 0, 60,
                                  409, 'NO_EXECUTABLE_PRICE', 'BUY beyond worst_price');
    IF msg NOT LIKE '%worst_price%' THEN
        RAISE EXCEPTION 'the message does not mention worst_price: %', msg;
    END IF;
    -- within the cap it fills, and the order records worst_price
    PERFORM pp_test_eq((SELECT body FROM pp_place_order('en-a', a, '110081', 'BUY', 'market', 50,
                                                        NULL, 0.43, 'x', 0, 60))::jsonb->>'worst_price',
                       '0.4300', 'worst_price in the order');
    -- SELL: worst_price above the bid
    PERFORM pp_test_place_rejected('en-a', a, '110081', 'SELL', 'market', 10, NULL, 0.42, 'y', 0, 60,
                                   409, 'NO_EXECUTABLE_PRICE', 'SELL beyond worst_price');
END
$$;

-- test: orders on a closed or a resolved market are 400 MARKET_CLOSED and write nothing
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-10', 'en10@example.com');
    a uuid := pp_test_account('en-a', u, 'en10-acc', 1000);
BEGIN
    PERFORM pp_test_priced('0xe110k', '110091', 0.41, 0.43);
    PERFORM pp_test_priced('0xe110l', '110095', 0.41, 0.43);
    PERFORM pp_test_place('en-a', a, '110091', 'BUY', 'market', 10);
    PERFORM pp_test_place('en-a', a, '110095', 'BUY', 'market', 10);
    -- closed by the feed's discovery
    PERFORM pp_upsert_market('0xe110k', 'closed market', NULL, true, '[]');
    PERFORM pp_test_place_rejected('en-a', a, '110091', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 60,
                                   400, 'MARKET_CLOSED', 'market BUY on a closed market');
    PERFORM pp_test_place_rejected('en-a', a, '110091', 'SELL', 'market', 1, NULL, NULL, NULL, 0, 60,
                                   400, 'MARKET_CLOSED', 'market SELL on a closed market');
    PERFORM pp_test_place_rejected('en-a', a, '110091', 'BUY', 'limit', 1, 0.3, NULL, NULL, 0, 60,
                                   400, 'MARKET_CLOSED', 'limit BUY on a closed market');
    PERFORM pp_test_place_rejected('en-a', a, '110092', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 0,
                                   400, 'MARKET_CLOSED', 'the other outcome of a closed market');
    -- resolved (settled)
    PERFORM pp_settle_market('0xe110l', '110095');
    PERFORM pp_test_place_rejected('en-a', a, '110095', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 60,
                                   400, 'MARKET_CLOSED', 'market BUY on a resolved market');
    PERFORM pp_test_place_rejected('en-a', a, '110095', 'SELL', 'limit', 1, 0.5, NULL, NULL, 0, 60,
                                   400, 'MARKET_CLOSED', 'limit SELL on a resolved market');
    -- resolved without being closed (a fixture: only the flag)
    PERFORM pp_test_priced('0xe110m', '110097', 0.41, 0.43);
    UPDATE markets SET resolved = true WHERE condition_id = '0xe110m';
    PERFORM pp_test_place_rejected('en-a', a, '110097', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 60,
                                   400, 'MARKET_CLOSED', 'market BUY on a resolved-only market');
END
$$;

-- test: an unknown token is 404 MARKET_NOT_FOUND and writes nothing
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-11', 'en11@example.com');
    a uuid := pp_test_account('en-a', u, 'en11-acc', 1000);
BEGIN
    PERFORM pp_test_priced('0xe110n', '110101', 0.41, 0.43);
    PERFORM pp_test_place_rejected('en-a', a, '110199', 'BUY', 'market', 1, NULL, NULL, 'm', 0, 60,
                                   404, 'MARKET_NOT_FOUND', 'market BUY of an unknown token');
    PERFORM pp_test_place_rejected('en-a', a, '110199', 'BUY', 'limit', 1, 0.5, NULL, 'm', 0, 60,
                                   404, 'MARKET_NOT_FOUND', 'limit BUY of an unknown token');
    PERFORM pp_test_place_rejected('en-a', a, '110199', 'SELL', 'market', 1, NULL, NULL, 'm', 0, 60,
                                   404, 'MARKET_NOT_FOUND', 'market SELL of an unknown token');
END
$$;

-- test: a limit price off the market's tick size is 400 INVALID_PRICE naming the tick (0.01 and 0.001) and writes nothing
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-12', 'en12@example.com');
    a uuid := pp_test_account('en-a', u, 'en12-acc', 1000);
    msg text;
BEGIN
    PERFORM pp_test_priced('0xe110o', '110111', 0.41, 0.43, 0.01);
    PERFORM pp_test_priced('0xe110p', '110115', 0.411, 0.413, 0.001);
    msg := pp_test_place_rejected('en-a', a, '110111', 'BUY', 'limit', 10, 0.455, NULL, NULL, 0, 60,
                                  400, 'INVALID_PRICE', '0.455 on tick 0.01');
    IF msg NOT LIKE '%tick size 0.01' THEN
        RAISE EXCEPTION 'INVALID_PRICE message does not name the tick 0.01: %', msg;
    END IF;
    PERFORM pp_test_place_rejected('en-a', a, '110111', 'BUY', 'limit', 10, 0.4001, NULL, NULL, 0, 60,
                                   400, 'INVALID_PRICE', '0.4001 on tick 0.01');
    msg := pp_test_place_rejected('en-a', a, '110115', 'BUY', 'limit', 10, 0.4005, NULL, NULL, 0, 60,
                                  400, 'INVALID_PRICE', '0.4005 on tick 0.001');
    IF msg NOT LIKE '%tick size 0.001' THEN
        RAISE EXCEPTION 'INVALID_PRICE message does not name the tick 0.001: %', msg;
    END IF;
    -- on the tick: accepted (resting below the ask)
    PERFORM pp_test_eq((SELECT format('%s %s', status, body::jsonb->>'status')
                        FROM pp_place_order('en-a', a, '110111', 'BUY', 'limit', 10, 0.40, NULL, NULL, 0, 60)),
                       '201 open', '0.40 on tick 0.01');
    PERFORM pp_test_eq((SELECT format('%s %s', status, body::jsonb->>'status')
                        FROM pp_place_order('en-a', a, '110115', 'BUY', 'limit', 10, 0.405, NULL, NULL, 0, 60)),
                       '201 open', '0.405 on tick 0.001');
    -- a tick change from the feed applies to the next order
    PERFORM pp_apply_price_updates('[{"token_id": "110111", "tick_size": "0.001"}]');
    PERFORM pp_test_eq((SELECT format('%s %s', status, body::jsonb->>'status')
                        FROM pp_place_order('en-a', a, '110111', 'BUY', 'limit', 10, 0.405, NULL, NULL, 0, 60)),
                       '201 open', '0.405 once the tick is 0.001');
END
$$;

-- test: a closed account accepts no order (409 ACCOUNT_CLOSED, nothing written) until reset
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-13', 'en13@example.com');
    a uuid := pp_test_account('en-a', u, 'en13-acc', 1000);
BEGIN
    PERFORM pp_test_priced('0xe110q', '110121', 0.41, 0.43);
    PERFORM pp_test_eq((SELECT status FROM pp_close_account('en-a', a, 500)), 200, 'close');
    PERFORM pp_test_place_rejected('en-a', a, '110121', 'BUY', 'market', 1, NULL, NULL, 'z', 0, 60,
                                   409, 'ACCOUNT_CLOSED', 'market BUY on a closed account');
    PERFORM pp_test_place_rejected('en-a', a, '110121', 'BUY', 'limit', 1, 0.3, NULL, 'z', 0, 60,
                                   409, 'ACCOUNT_CLOSED', 'limit BUY on a closed account');
    PERFORM pp_test_place_rejected('en-a', a, '110121', 'SELL', 'market', 1, NULL, NULL, 'z', 0, 60,
                                   409, 'ACCOUNT_CLOSED', 'market SELL on a closed account');
    PERFORM pp_test_eq((SELECT status FROM pp_reset_account('en-a', a, 500)), 200, 'reset');
    PERFORM pp_test_place('en-a', a, '110121', 'BUY', 'market', 1, NULL, NULL, 'z');
END
$$;

-- test: another tenant's or an unknown account is 404 ACCOUNT_NOT_FOUND for placing and cancelling, writing nothing, even with a client_order_id the account used
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('en-a', 'en-14', 'en14@example.com');
    a uuid := pp_test_account('en-a', u, 'en14-acc', 1000);
    o bigint;
    not_found text := (SELECT body FROM pp_account_not_found());
    before jsonb;
BEGIN
    PERFORM pp_test_user('en-b', 'en-14', 'en14@example.com');    -- the same trader at another tenant
    PERFORM pp_test_priced('0xe110r', '110131', 0.41, 0.43);
    o := pp_test_place('en-a', a, '110131', 'BUY', 'limit', 10, 0.40, NULL, 'mine');
    PERFORM pp_test_place_rejected('en-b', a, '110131', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 60,
                                   404, 'ACCOUNT_NOT_FOUND', 'other tenant');
    PERFORM pp_test_place_rejected('en-b', a, '110131', 'BUY', 'limit', 10, 0.40, NULL, 'mine', 0, 60,
                                   404, 'ACCOUNT_NOT_FOUND', 'other tenant replaying the key');
    PERFORM pp_test_place_rejected('en-a', gen_random_uuid(), '110131', 'BUY', 'market', 1, NULL, NULL,
                                   NULL, 0, 60, 404, 'ACCOUNT_NOT_FOUND', 'unknown account');
    SELECT * INTO STRICT r FROM pp_place_order('en-b', a, '110131', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 60);
    PERFORM pp_test_eq(r.body, not_found, 'the same body as an unknown account');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_cancel_order('en-b', a, o);
    PERFORM pp_test_eq(format('%s %s', r.status, r.body), '404 ' || not_found, 'cancel from another tenant');
    SELECT * INTO STRICT r FROM pp_cancel_order('en-a', gen_random_uuid(), o);
    PERFORM pp_test_eq(format('%s %s', r.status, r.body), '404 ' || not_found, 'cancel on an unknown account');
    PERFORM pp_test_assert_unchanged(before, 'cancels on other accounts');
END
$$;

-- test: a limit BUY below the ask rests: it reserves round(quantity x price, 2) plus its fee, one reserve entry, no fill
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('en-a', 'en-15', 'en15@example.com');
    a uuid := pp_test_account('en-a', u, 'en15-acc', 1000);
    w bigint := pp_test_wallet(a);
    l0 bigint;
    o bigint;
    b jsonb;
BEGIN
    PERFORM pp_test_priced('0xe110s', '110141', 0.41, 0.46);
    l0 := pp_test_last_ledger_id();
    -- 12.3456 x 0.45 = 5.55552 -> 5.56; fee 5.56 x 0.015 = 0.0834 -> 0.08; reserved 5.64
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110141', 'BUY', 'limit', 12.3456, 0.45,
                                               NULL, 'lim-1', 0.015, 60);
    PERFORM pp_test_eq(r.status, 201, 'status');
    b := r.body::jsonb;
    o := (b->>'order_id')::bigint;
    PERFORM pp_test_eq(r.body, pp_order_json(o), 'body');
    PERFORM pp_test_eq(format('%s %s %s %s %s %s %s %s', b->>'type', b->>'side', b->>'status',
                              b->>'quantity', b->>'limit_price', b->>'reserved_cash',
                              b->>'client_order_id', b->'fill'),
                       'limit BUY open 12.3456 0.4500 5.64 lim-1 null', 'order');
    PERFORM pp_test_eq((SELECT format('%s %s %s', reserved_cash, reserved_shares, fee_rate) FROM orders WHERE id = o),
                       '5.64 0.0000 0.015000', 'order row');
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('reserve -5.64 %s', o)], 'ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '994.36', 'balance');
    PERFORM pp_test_eq((SELECT count(*) FROM fills WHERE wallet_id = w), 0::bigint, 'no fill');
    PERFORM pp_test_eq(pp_test_pos(w, '110141'), NULL::text, 'no position');
END
$$;

-- test: a limit SELL above the bid rests: it reserves the shares on the position and moves no cash
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-16', 'en16@example.com');
    a uuid := pp_test_account('en-a', u, 'en16-acc', 1000);
    w bigint := pp_test_wallet(a);
    l0 bigint;
    o bigint;
    b jsonb;
BEGIN
    PERFORM pp_test_priced('0xe110t', '110151', 0.41, 0.43);
    PERFORM pp_test_place('en-a', a, '110151', 'BUY', 'market', 100);
    l0 := pp_test_last_ledger_id();
    o := pp_test_place('en-a', a, '110151', 'SELL', 'limit', 40, 0.60, NULL, NULL, 0.015);
    b := pp_order_json(o)::jsonb;
    PERFORM pp_test_eq(format('%s %s %s %s %s', b->>'type', b->>'side', b->>'status',
                              b->>'reserved_cash', b->'fill'),
                       'limit SELL open 0.00 null', 'order');
    PERFORM pp_test_eq((SELECT reserved_shares::text FROM orders WHERE id = o), '40.0000', 'reserved_shares');
    PERFORM pp_test_eq(pp_test_pos(w, '110151'), '100.0000 40.0000 0.430000', 'position');
    PERFORM pp_test_eq(pp_test_ledger(w, l0), '{}'::text[], 'no ledger entry');
    PERFORM pp_test_eq(pp_test_balance(w), '957.00', 'balance');
END
$$;

-- test: a limit order the book already crosses fills at once at its limit price (BUY at or above the ask, SELL at or below the bid); the reservation is released, no double charge
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-17', 'en17@example.com');
    a uuid := pp_test_account('en-a', u, 'en17-acc', 1000);
    w bigint := pp_test_wallet(a);
    l0 bigint;
    o bigint;
    r record;
BEGIN
    PERFORM pp_test_priced('0xe110u', '110161', 0.41, 0.43);
    l0 := pp_test_last_ledger_id();
    -- BUY 10 at 0.45 over the ask 0.43: filled at 0.45; notional 4.50, fee 1% 0.045 -> 0.05
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110161', 'BUY', 'limit', 10, 0.45,
                                               NULL, NULL, 0.01, 60);
    PERFORM pp_test_eq(format('%s %s %s', r.status, r.body::jsonb->>'status', r.body::jsonb->>'reserved_cash'),
                       '201 filled 0.00', 'answer');
    o := (r.body::jsonb->>'order_id')::bigint;
    PERFORM pp_test_eq(r.body::jsonb->'fill'->>'price', '0.4500', 'fill price in the body');
    PERFORM pp_test_eq((SELECT format('%s %s %s %s %s', side, price, quantity, notional, fee) FROM fills WHERE order_id = o),
                       'BUY 0.4500 10.0000 4.50 0.05', 'fill');
    PERFORM pp_test_eq(pp_test_ledger(w, l0),
                       ARRAY[format('reserve -4.55 %s', o), format('release 4.55 %s', o),
                             format('fill -4.50 %s', o), format('fee -0.05 %s', o)], 'ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '995.45', 'balance: charged once');
    PERFORM pp_test_eq((SELECT format('%s %s %s', status, reserved_cash, reserved_shares) FROM orders WHERE id = o),
                       'filled 0.00 0.0000', 'order row');
    PERFORM pp_test_eq(pp_test_pos(w, '110161'), '10.0000 0.0000 0.450000', 'position');
    -- BUY exactly at the ask crosses
    o := pp_test_place('en-a', a, '110161', 'BUY', 'limit', 10, 0.43);
    PERFORM pp_test_eq((SELECT format('%s %s', price, notional) FROM fills WHERE order_id = o), '0.4300 4.30', 'BUY at the ask');
    PERFORM pp_test_eq(pp_test_pos(w, '110161'), '20.0000 0.0000 0.440000', 'position after two');
    -- SELL 5 at 0.40 under the bid 0.41: filled at 0.40; fee 1% of 2.00 = 0.02
    l0 := pp_test_last_ledger_id();
    o := pp_test_place('en-a', a, '110161', 'SELL', 'limit', 5, 0.40, NULL, NULL, 0.01);
    PERFORM pp_test_eq((SELECT format('%s %s %s %s %s', side, price, quantity, notional, fee) FROM fills WHERE order_id = o),
                       'SELL 0.4000 5.0000 2.00 0.02', 'SELL fill');
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('fill 2.00 %s', o), format('fee -0.02 %s', o)],
                       'SELL ledger');
    PERFORM pp_test_eq(pp_test_pos(w, '110161'), '15.0000 0.0000 0.440000', 'position after the SELL');
    -- SELL exactly at the bid crosses; above it rests
    o := pp_test_place('en-a', a, '110161', 'SELL', 'limit', 5, 0.41);
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = o), 'filled', 'SELL at the bid');
    o := pp_test_place('en-a', a, '110161', 'SELL', 'limit', 5, 0.42);
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = o), 'open', 'SELL above the bid');
    o := pp_test_place('en-a', a, '110161', 'BUY', 'limit', 5, 0.42);
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = o), 'open', 'BUY under the ask');
    -- 1000 - 4.55 - 4.30 + 1.98 + 2.05 - 2.10 (resting BUY) = 993.08
    PERFORM pp_test_eq(pp_test_balance(w), '993.08', 'final balance');
    PERFORM pp_test_eq(pp_test_pos(w, '110161'), '10.0000 5.0000 0.440000', 'final position');
END
$$;

-- test: the same client_order_id with the same order answers 200 with the original order and writes nothing; with any other order it is 409 IDEMPOTENCY_KEY_REUSE and writes nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('en-a', 'en-18', 'en18@example.com');
    a uuid := pp_test_account('en-a', u, 'en18-acc', 1000);
    w bigint := pp_test_wallet(a);
    m_body text;
    l_body text;
    o_m bigint;
    o_l bigint;
    before jsonb;
BEGIN
    PERFORM pp_test_priced('0xe110v', '110171', 0.41, 0.43);
    PERFORM pp_test_priced('0xe110w', '110175', 0.41, 0.43);
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110171', 'BUY', 'market', 10, NULL, 0.44,
                                               'key-m', 0, 60);
    PERFORM pp_test_eq(r.status, 201, 'first market order');
    m_body := r.body;
    o_m := (r.body::jsonb->>'order_id')::bigint;
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110171', 'BUY', 'limit', 10, 0.40, NULL,
                                               'key-l', 0, 60);
    PERFORM pp_test_eq(r.status, 201, 'first limit order');
    l_body := r.body;
    o_l := (r.body::jsonb->>'order_id')::bigint;
    -- the price moves (not crossing the limit BUY); replays neither requote nor reserve again
    PERFORM pp_test_price('110171', 0.45, 0.47);
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110171', 'BUY', 'market', 10, NULL, 0.44,
                                               'key-m', 0, 60);
    PERFORM pp_test_eq(format('%s %s', r.status, r.body), '200 ' || m_body, 'market replay');
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110171', 'BUY', 'market', 10.0000, NULL, 0.4400,
                                               'key-m', 0, 60);
    PERFORM pp_test_eq(format('%s %s', r.status, r.body), '200 ' || m_body, 'market replay, other scale');
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110171', 'BUY', 'limit', 10, 0.4, NULL,
                                               'key-l', 0, 60);
    PERFORM pp_test_eq(format('%s %s', r.status, r.body), '200 ' || l_body, 'limit replay');
    PERFORM pp_test_assert_unchanged(before, 'replays');
    -- a different order under a used key
    PERFORM pp_test_place_rejected('en-a', a, '110175', 'BUY', 'market', 10, NULL, 0.44, 'key-m', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'other token');
    PERFORM pp_test_place_rejected('en-a', a, '110171', 'SELL', 'market', 10, NULL, 0.44, 'key-m', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'other side');
    PERFORM pp_test_place_rejected('en-a', a, '110171', 'BUY', 'limit', 10, NULL, 0.44, 'key-m', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'other type');
    PERFORM pp_test_place_rejected('en-a', a, '110171', 'BUY', 'market', 10.0001, NULL, 0.44, 'key-m', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'other quantity');
    PERFORM pp_test_place_rejected('en-a', a, '110171', 'BUY', 'market', 10, NULL, NULL, 'key-m', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'without the worst_price');
    PERFORM pp_test_place_rejected('en-a', a, '110171', 'BUY', 'market', 10, NULL, 0.45, 'key-m', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'other worst_price');
    PERFORM pp_test_place_rejected('en-a', a, '110171', 'BUY', 'limit', 10, 0.41, NULL, 'key-l', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'other limit_price');
    PERFORM pp_test_place_rejected('en-a', a, '110171', 'BUY', 'market', 10, NULL, NULL, 'key-l', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'limit key for a market order');
    -- the replay answers the order as it is now: a cancelled limit order replays as cancelled
    PERFORM pp_test_eq((SELECT status FROM pp_cancel_order('en-a', a, o_l)), 200, 'cancel');
    SELECT * INTO STRICT r FROM pp_place_order('en-a', a, '110171', 'BUY', 'limit', 10, 0.40, NULL,
                                               'key-l', 0, 60);
    PERFORM pp_test_eq(format('%s %s', r.status, r.body), '200 ' || pp_order_json(o_l), 'replay after cancel');
    PERFORM pp_test_eq(r.body::jsonb->>'status', 'cancelled', 'replayed status');
    PERFORM pp_test_eq((SELECT count(*) FROM orders WHERE wallet_id = w), 2::bigint, 'orders');
END
$$;

-- test: idempotency keys are per account: the same client_order_id on two accounts places two orders
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-19', 'en19@example.com');
    a1 uuid := pp_test_account('en-a', u, 'en19-acc1', 1000);
    a2 uuid := pp_test_account('en-a', u, 'en19-acc2', 1000);
    o1 bigint;
    o2 bigint;
BEGIN
    PERFORM pp_test_priced('0xe110x', '110181', 0.41, 0.43);
    PERFORM pp_test_eq((SELECT status FROM pp_place_order('en-a', a1, '110181', 'BUY', 'market', 10,
                                                          NULL, NULL, 'shared', 0, 60)), 201, 'first account');
    PERFORM pp_test_eq((SELECT status FROM pp_place_order('en-a', a2, '110181', 'BUY', 'market', 10,
                                                          NULL, NULL, 'shared', 0, 60)), 201, 'second account');
    o1 := (SELECT id FROM orders WHERE wallet_id = pp_test_wallet(a1) AND client_order_id = 'shared');
    o2 := (SELECT id FROM orders WHERE wallet_id = pp_test_wallet(a2) AND client_order_id = 'shared');
    ASSERT o1 IS NOT NULL AND o2 IS NOT NULL AND o1 <> o2, 'two orders expected';
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a1)), '995.70', 'first account charged');
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a2)), '995.70', 'second account charged');
    -- each replay answers its own account's order
    PERFORM pp_test_eq(pp_test_place('en-a', a1, '110181', 'BUY', 'market', 10, NULL, NULL, 'shared'), o1, 'replay 1');
    PERFORM pp_test_eq(pp_test_place('en-a', a2, '110181', 'BUY', 'market', 10, NULL, NULL, 'shared'), o2, 'replay 2');
    -- and a different order under the key on one account does not matter to the other
    PERFORM pp_test_place_rejected('en-a', a1, '110181', 'SELL', 'market', 1, NULL, NULL, 'shared', 0, 60,
                                   409, 'IDEMPOTENCY_KEY_REUSE', 'reuse on the first account');
END
$$;

-- test: cancelling a resting BUY releases its cash (fee included) and a SELL its shares: 200 with the cancelled order
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('en-a', 'en-20', 'en20@example.com');
    a uuid := pp_test_account('en-a', u, 'en20-acc', 1000);
    w bigint := pp_test_wallet(a);
    l0 bigint;
    ob bigint;
    os bigint;
    b jsonb;
BEGIN
    PERFORM pp_test_priced('0xe110y', '110191', 0.41, 0.46);
    PERFORM pp_test_place('en-a', a, '110191', 'BUY', 'market', 50);              -- 23.00
    l0 := pp_test_last_ledger_id();
    ob := pp_test_place('en-a', a, '110191', 'BUY', 'limit', 12.3456, 0.45, NULL, NULL, 0.015);  -- 5.64
    os := pp_test_place('en-a', a, '110191', 'SELL', 'limit', 20, 0.6);
    PERFORM pp_test_eq(pp_test_balance(w), '971.36', 'balance with the BUY resting');
    SELECT * INTO STRICT r FROM pp_cancel_order('en-a', a, ob);
    PERFORM pp_test_eq(r.status, 200, 'cancel BUY status');
    PERFORM pp_test_eq(r.body, pp_order_json(ob), 'cancel BUY body');
    b := r.body::jsonb;
    PERFORM pp_test_eq(format('%s %s %s', b->>'status', b->>'reserved_cash', b->'fill'),
                       'cancelled 0.00 null', 'cancelled BUY');
    IF coalesce(b->>'cancelled_at', '') !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' THEN
        RAISE EXCEPTION 'cancelled_at: %', b->>'cancelled_at';
    END IF;
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('reserve -5.64 %s', ob), format('release 5.64 %s', ob)],
                       'ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '977.00', 'balance after the cancel');
    PERFORM pp_test_eq(pp_test_pos(w, '110191'), '50.0000 20.0000 0.460000', 'position with the SELL resting');
    SELECT * INTO STRICT r FROM pp_cancel_order('en-a', a, os);
    PERFORM pp_test_eq(format('%s %s', r.status, r.body::jsonb->>'status'), '200 cancelled', 'cancel SELL');
    PERFORM pp_test_eq(pp_test_pos(w, '110191'), '50.0000 0.0000 0.460000', 'shares released');
    PERFORM pp_test_eq((SELECT format('%s %s', reserved_cash, reserved_shares) FROM orders WHERE id = os),
                       '0.00 0.0000', 'SELL order row');
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY[format('reserve -5.64 %s', ob), format('release 5.64 %s', ob)],
                       'no ledger entry for the SELL');
    -- the released shares can be sold
    PERFORM pp_test_place('en-a', a, '110191', 'SELL', 'market', 50);
END
$$;

-- test: cancelling an order that is not open is 409 ORDER_NOT_OPEN, another account's or an unknown order 404 ORDER_NOT_FOUND; nothing written
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('en-a', 'en-21', 'en21@example.com');
    a uuid := pp_test_account('en-a', u, 'en21-acc', 1000);
    a2 uuid := pp_test_account('en-a', u, 'en21-acc2', 1000);
    o_filled bigint;
    o_cancelled bigint;
    o_other bigint;
    before jsonb;
BEGIN
    PERFORM pp_test_priced('0xe110z', '110201', 0.41, 0.43);
    o_filled := pp_test_place('en-a', a, '110201', 'BUY', 'market', 10);
    o_cancelled := pp_test_place('en-a', a, '110201', 'BUY', 'limit', 10, 0.3);
    PERFORM pp_cancel_order('en-a', a, o_cancelled);
    o_other := pp_test_place('en-a', a2, '110201', 'BUY', 'limit', 10, 0.3);
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_cancel_order('en-a', a, o_cancelled);
    PERFORM pp_test_error(r.status, r.body, 409, 'ORDER_NOT_OPEN', 'second cancel');
    SELECT * INTO STRICT r FROM pp_cancel_order('en-a', a, o_filled);
    PERFORM pp_test_error(r.status, r.body, 409, 'ORDER_NOT_OPEN', 'cancel of a filled order');
    SELECT * INTO STRICT r FROM pp_cancel_order('en-a', a, o_other);
    PERFORM pp_test_error(r.status, r.body, 404, 'ORDER_NOT_FOUND', 'another account''s order');
    SELECT * INTO STRICT r FROM pp_cancel_order('en-a', a, (SELECT max(id) + 1000 FROM orders));
    PERFORM pp_test_error(r.status, r.body, 404, 'ORDER_NOT_FOUND', 'unknown order');
    PERFORM pp_test_assert_unchanged(before, 'rejected cancels');
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = o_other), 'open', 'other account''s order');
END
$$;

-- test: placing and cancelling resting orders (fee included) never changes equity
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-22', 'en22@example.com');
    a uuid := pp_test_account('en-a', u, 'en22-acc', 1000);
    e0 text;
    ob1 bigint;
    ob2 bigint;
    os bigint;
BEGIN
    PERFORM pp_test_priced('0xe110aa', '110211', 0.41, 0.43);
    PERFORM pp_test_place('en-a', a, '110211', 'BUY', 'market', 100);     -- 43.00, marked at 0.42
    e0 := pp_test_equity(a);
    PERFORM pp_test_eq(e0, '999.00', 'equity: 957.00 + 100 x 0.42');
    ob1 := pp_test_place('en-a', a, '110211', 'BUY', 'limit', 12.3456, 0.40, NULL, NULL, 0.015);
    PERFORM pp_test_eq(pp_test_equity(a), e0, 'after a limit BUY with fee');
    ob2 := pp_test_place('en-a', a, '110211', 'BUY', 'limit', 3, 0.33);
    PERFORM pp_test_eq(pp_test_equity(a), e0, 'after a second limit BUY');
    os := pp_test_place('en-a', a, '110211', 'SELL', 'limit', 60, 0.9);
    PERFORM pp_test_eq(pp_test_equity(a), e0, 'after a limit SELL');
    PERFORM pp_cancel_order('en-a', a, ob1);
    PERFORM pp_test_eq(pp_test_equity(a), e0, 'after cancelling the first BUY');
    PERFORM pp_cancel_order('en-a', a, os);
    PERFORM pp_test_eq(pp_test_equity(a), e0, 'after cancelling the SELL');
    PERFORM pp_cancel_order('en-a', a, ob2);
    PERFORM pp_test_eq(pp_test_equity(a), e0, 'after cancelling everything');
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a)), '957.00', 'balance');
END
$$;

-- test: with max_age 0 (staleness disabled) a token that never had a price update is 409 NO_EXECUTABLE_PRICE, not STALE_QUOTE, and nothing is written
DO $$
DECLARE
    u bigint := pp_test_user('en-a', 'en-23', 'en23@example.com');
    a uuid := pp_test_account('en-a', u, 'en23-acc', 1000);
BEGIN
    PERFORM pp_test_market('0xe110ab', ARRAY['110221', '110222']);     -- discovered, never priced
    PERFORM pp_test_place_rejected('en-a', a, '110221', 'BUY', 'market', 1, NULL, NULL, NULL, 0, 0,
                                   409, 'NO_EXECUTABLE_PRICE', 'BUY of a never-priced token, max_age 0');
END
$$;

-- test: pp_list_orders lists the account's orders of every status newest first, keyset on the order id with limit + 1; another tenant is 404
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('en-a', 'en-24', 'en24@example.com');
    a uuid := pp_test_account('en-a', u, 'en24-acc', 1000);
    a2 uuid := pp_test_account('en-a', u, 'en24-acc2', 1000);
    o1 bigint;
    o2 bigint;
    o3 bigint;
    o4 bigint;
    ids bigint[];
BEGIN
    PERFORM pp_test_priced('0xe110ac', '110231', 0.41, 0.43);
    o1 := pp_test_place('en-a', a, '110231', 'BUY', 'market', 10);
    o2 := pp_test_place('en-a', a, '110231', 'BUY', 'limit', 10, 0.40);
    PERFORM pp_test_place('en-a', a2, '110231', 'BUY', 'limit', 10, 0.40);
    o3 := pp_test_place('en-a', a, '110231', 'BUY', 'limit', 10, 0.39);
    PERFORM pp_cancel_order('en-a', a, o3);
    o4 := pp_test_place('en-a', a, '110231', 'SELL', 'limit', 5, 0.60);
    SELECT * INTO STRICT r FROM pp_list_orders('en-a', a, 100, NULL);
    PERFORM pp_test_eq(format('%s %s', r.status, r.next_order_id), '200 ', 'status, no next');
    PERFORM pp_test_eq(r.body, format('[%s,%s,%s,%s]', pp_order_json(o4), pp_order_json(o3), pp_order_json(o2),
                                      pp_order_json(o1)), 'body');
    PERFORM pp_test_eq((SELECT array_agg(e->>'status' ORDER BY n)
                        FROM jsonb_array_elements(r.body::jsonb) WITH ORDINALITY AS x(e, n)),
                       ARRAY['open', 'cancelled', 'open', 'filled'], 'statuses');
    SELECT * INTO STRICT r FROM pp_list_orders('en-a', a, 2, NULL);
    ids := ARRAY(SELECT (e->>'order_id')::bigint FROM jsonb_array_elements(r.body::jsonb) e);
    PERFORM pp_test_eq(format('%s %s', ids, r.next_order_id), format('%s %s', ARRAY[o4, o3], o3), 'page 1');
    SELECT * INTO STRICT r FROM pp_list_orders('en-a', a, 2, r.next_order_id);
    ids := ARRAY(SELECT (e->>'order_id')::bigint FROM jsonb_array_elements(r.body::jsonb) e);
    PERFORM pp_test_eq(format('%s %s', ids, r.next_order_id), format('%s ', ARRAY[o2, o1]), 'page 2');
    SELECT * INTO STRICT r FROM pp_list_orders('en-b', a, 100, NULL);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'other tenant');
    PERFORM pp_test_eq(r.next_order_id, NULL::bigint, 'other tenant: no next');
END
$$;
