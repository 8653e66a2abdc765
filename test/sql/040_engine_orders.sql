-- The engine primitives: pp_engine_rest_limit_order, pp_engine_cancel_order,
-- pp_engine_cancel_open_orders (and pp_wallet_post underneath).

-- test: a BUY reserves round(quantity x price, 2): balance drops, a reserve entry with the order, reserved_cash set
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-1', 'eo1@example.com');
    w bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo1-acc', 100));
    o bigint;
    o2 bigint;
    ord orders;
BEGIN
    PERFORM pp_test_token('4001');
    -- 12.3456 x 0.4567 = 5.63823552 -> 5.64
    o := pp_engine_rest_limit_order(w, '4001', 'BUY', 12.3456, 0.4567, 'cl-1');
    SELECT * INTO STRICT ord FROM orders WHERE id = o;
    PERFORM pp_test_eq(format('%s %s %s %s %s %s %s %s', ord.wallet_id, ord.token_id, ord.side,
                              ord.order_type, ord.quantity, ord.limit_price, ord.status,
                              ord.client_order_id),
                       format('%s 4001 BUY limit 12.3456 0.4567 open cl-1', w), 'order row');
    PERFORM pp_test_eq(ord.reserved_cash::text, '5.64', 'reserved_cash');
    PERFORM pp_test_eq(ord.reserved_shares::text, '0.0000', 'reserved_shares');
    PERFORM pp_test_eq(pp_test_balance(w), '94.36', 'balance after the reserve');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s', cause, amount, order_id) ORDER BY id)
                        FROM ledger WHERE wallet_id = w),
                       ARRAY['deposit 100.00 ', format('reserve -5.64 %s', o)], 'ledger');
    -- 3 x 0.3333 = 0.9999 -> 1.00; 0.0001 x 0.01 = 0.000001 -> 0.00 (no entry for nothing)
    o2 := pp_engine_rest_limit_order(w, '4001', 'BUY', 3, 0.3333);
    PERFORM pp_test_eq((SELECT reserved_cash::text FROM orders WHERE id = o2), '1.00', 'reserved 0.9999');
    PERFORM pp_test_eq(pp_test_balance(w), '93.36', 'balance after the second reserve');
    o2 := pp_engine_rest_limit_order(w, '4001', 'BUY', 0.0001, 0.01);
    PERFORM pp_test_eq((SELECT reserved_cash::text FROM orders WHERE id = o2), '0.00', 'reserved 0.000001');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE order_id = o2), 0::bigint,
                       'no ledger entry of 0.00');
    PERFORM pp_test_eq(pp_test_balance(w), '93.36', 'balance after a zero reserve');
END
$$;

-- test: a BUY for exactly the whole balance is accepted and leaves 0.00
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-2', 'eo2@example.com');
    w bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo2-acc', 100));
    o bigint;
BEGIN
    PERFORM pp_test_token('4002');
    o := pp_engine_rest_limit_order(w, '4002', 'BUY', 200, 0.5);
    PERFORM pp_test_eq(pp_test_balance(w), '0.00', 'balance');
    PERFORM pp_test_eq((SELECT reserved_cash::text FROM orders WHERE id = o), '100.00', 'reserved_cash');
END
$$;

-- test: a BUY the cash does not cover raises PP402 and writes nothing
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-3', 'eo3@example.com');
    w bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo3-acc', 100));
    before jsonb;
    state text;
BEGIN
    PERFORM pp_test_token('4003');
    before := pp_test_snapshot();
    -- 200.02 x 0.5 = 100.01 > 100.00
    BEGIN
        PERFORM pp_engine_rest_limit_order(w, '4003', 'BUY', 200.02, 0.5);
        state := 'no error';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
    END;
    PERFORM pp_test_eq(state, 'PP402', 'SQLSTATE for 100.01 on 100.00');
    PERFORM pp_test_assert_unchanged(before, 'rejected BUY');
    -- after a reservation the remaining cash is what counts
    PERFORM pp_engine_rest_limit_order(w, '4003', 'BUY', 100, 0.6);     -- 60.00, leaves 40.00
    before := pp_test_snapshot();
    BEGIN
        PERFORM pp_engine_rest_limit_order(w, '4003', 'BUY', 100, 0.41); -- 41.00 > 40.00
        state := 'no error';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
    END;
    PERFORM pp_test_eq(state, 'PP402', 'SQLSTATE for 41.00 on 40.00');
    PERFORM pp_test_assert_unchanged(before, 'second rejected BUY');
END
$$;

-- test: a SELL without a position raises PP403 and writes nothing
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-4', 'eo4@example.com');
    w bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo4-acc', 100));
    w_other bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo4-acc-other', 100));
    before jsonb;
    state text;
    p bigint;
BEGIN
    PERFORM pp_test_token('4004');
    PERFORM pp_test_token('4005');
    -- positions exist, but on another token, in another wallet, or archived
    PERFORM pp_test_position(w, '4005', 100, 0.5);
    PERFORM pp_test_position(w_other, '4004', 100, 0.5);
    p := pp_test_position(w, '4004', 100, 0.5);
    UPDATE positions SET archived_at = clock_timestamp() WHERE id = p;
    before := pp_test_snapshot();
    BEGIN
        PERFORM pp_engine_rest_limit_order(w, '4004', 'SELL', 1, 0.5);
        state := 'no error';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
    END;
    PERFORM pp_test_eq(state, 'PP403', 'SQLSTATE');
    PERFORM pp_test_assert_unchanged(before, 'rejected SELL');
END
$$;

-- test: a SELL reserves shares on the position (reserved_quantity) and moves no cash; more than the free shares is PP403
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-5', 'eo5@example.com');
    w bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo5-acc', 100));
    p bigint;
    o1 bigint;
    o2 bigint;
    n_ledger bigint;
    before jsonb;
    state text;
BEGIN
    PERFORM pp_test_token('4006');
    p := pp_test_position(w, '4006', 50, 0.4);
    n_ledger := (SELECT count(*) FROM ledger);
    o1 := pp_engine_rest_limit_order(w, '4006', 'SELL', 20, 0.6);
    PERFORM pp_test_eq((SELECT format('%s %s %s %s', side, status, reserved_shares, reserved_cash)
                        FROM orders WHERE id = o1), 'SELL open 20.0000 0.00', 'first SELL order');
    PERFORM pp_test_eq((SELECT reserved_quantity::text FROM positions WHERE id = p), '20.0000',
                       'reserved_quantity after the first SELL');
    o2 := pp_engine_rest_limit_order(w, '4006', 'SELL', 30, 0.7);
    PERFORM pp_test_eq((SELECT reserved_quantity::text FROM positions WHERE id = p), '50.0000',
                       'reserved_quantity after the second SELL');
    PERFORM pp_test_eq((SELECT quantity::text FROM positions WHERE id = p), '50.0000', 'quantity');
    PERFORM pp_test_eq(pp_test_balance(w), '100.00', 'balance');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger), n_ledger, 'ledger rows');
    before := pp_test_snapshot();
    BEGIN
        PERFORM pp_engine_rest_limit_order(w, '4006', 'SELL', 0.0001, 0.7);
        state := 'no error';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
    END;
    PERFORM pp_test_eq(state, 'PP403', 'SQLSTATE when every share is reserved');
    PERFORM pp_test_assert_unchanged(before, 'rejected SELL');
END
$$;

-- test: cancelling a BUY releases exactly its reservation; a second cancel is false and changes nothing
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-6', 'eo6@example.com');
    w bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo6-acc', 100));
    o bigint;
    before jsonb;
BEGIN
    PERFORM pp_test_token('4007');
    o := pp_engine_rest_limit_order(w, '4007', 'BUY', 12.3456, 0.4567);   -- 5.64
    PERFORM pp_test_eq(pp_engine_cancel_order(o), true, 'first cancel');
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = o), 'cancelled', 'status');
    PERFORM pp_test_eq(pp_test_balance(w), '100.00', 'balance');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s', cause, amount, order_id) ORDER BY id)
                        FROM ledger WHERE wallet_id = w),
                       ARRAY['deposit 100.00 ', format('reserve -5.64 %s', o), format('release 5.64 %s', o)],
                       'ledger');
    -- reserved_cash is what the order holds now: nothing once cancelled (the
    -- ledger's release entry above records how much came back)
    PERFORM pp_test_eq((SELECT reserved_cash::text FROM orders WHERE id = o), '0.00',
                       'reserved_cash after cancel');
    before := pp_test_snapshot();
    PERFORM pp_test_eq(pp_engine_cancel_order(o), false, 'second cancel');
    PERFORM pp_test_assert_unchanged(before, 'second cancel');
    PERFORM pp_test_eq(pp_engine_cancel_order((SELECT max(id) + 1000 FROM orders)), false, 'unknown order');
    PERFORM pp_test_assert_unchanged(before, 'unknown order');
END
$$;

-- test: cancelling a SELL gives the shares back to the position and moves no cash; a second cancel is false
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-7', 'eo7@example.com');
    w bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo7-acc', 100));
    p bigint;
    o1 bigint;
    o2 bigint;
    n_ledger bigint;
    before jsonb;
BEGIN
    PERFORM pp_test_token('4008');
    p := pp_test_position(w, '4008', 50, 0.4);
    o1 := pp_engine_rest_limit_order(w, '4008', 'SELL', 20, 0.6);
    o2 := pp_engine_rest_limit_order(w, '4008', 'SELL', 12.5, 0.65);
    n_ledger := (SELECT count(*) FROM ledger);
    PERFORM pp_test_eq(pp_engine_cancel_order(o1), true, 'cancel');
    PERFORM pp_test_eq((SELECT reserved_quantity::text FROM positions WHERE id = p), '12.5000',
                       'reserved_quantity after the cancel');
    PERFORM pp_test_eq(pp_test_balance(w), '100.00', 'balance');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger), n_ledger, 'ledger rows');
    before := pp_test_snapshot();
    PERFORM pp_test_eq(pp_engine_cancel_order(o1), false, 'second cancel');
    PERFORM pp_test_assert_unchanged(before, 'second cancel');
    -- the freed shares can be sold again
    PERFORM pp_engine_rest_limit_order(w, '4008', 'SELL', 37.5, 0.6);
    PERFORM pp_test_eq((SELECT reserved_quantity::text FROM positions WHERE id = p), '50.0000',
                       'reserved_quantity');
END
$$;

-- test: pp_engine_cancel_open_orders cancels at most the limit, oldest first, only in that wallet, and returns how many remain
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-8', 'eo8@example.com');
    w bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo8-acc', 100));
    w_other bigint := pp_test_wallet(pp_test_account('eo-a', u, 'eo8-acc-other', 100));
    ids bigint[] := '{}';
    other bigint;
    i int;
BEGIN
    PERFORM pp_test_token('4009');
    FOR i IN 1..5 LOOP
        ids := ids || pp_engine_rest_limit_order(w, '4009', 'BUY', 10, 0.1 * i);
    END LOOP;
    other := pp_engine_rest_limit_order(w_other, '4009', 'BUY', 10, 0.5);
    PERFORM pp_test_eq(pp_engine_cancel_open_orders(w, 2), 3::bigint, 'remaining after 2');
    PERFORM pp_test_eq((SELECT array_agg(id ORDER BY id) FROM orders WHERE wallet_id = w AND status = 'cancelled'),
                       ids[1:2], 'the two oldest are cancelled');
    -- reserved 1+2+3+4+5 = 15.00 leaves 85.00; releasing the two oldest gives back 3.00
    PERFORM pp_test_eq(pp_test_balance(w), '88.00', 'balance after releasing two');
    PERFORM pp_test_eq(pp_engine_cancel_open_orders(w, 500), 0::bigint, 'remaining after all');
    PERFORM pp_test_eq(pp_test_balance(w), '100.00', 'balance after releasing all');
    PERFORM pp_test_eq((SELECT status FROM orders WHERE id = other), 'open', 'other wallet''s order');
    PERFORM pp_test_eq(pp_test_balance(w_other), '95.00', 'other wallet''s balance');
END
$$;

-- test: a side other than exactly BUY or SELL raises PP422 and writes nothing
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-side', 'eo-side@example.com');
    a uuid := pp_test_account('eo-a', u, 'eo-side-acc', 100);
    w bigint := pp_test_wallet(a);
    before jsonb;
    side text;
BEGIN
    PERFORM pp_test_token('4091');
    PERFORM pp_test_position(w, '4091', 10, 0.5);
    before := pp_test_snapshot();
    FOREACH side IN ARRAY ARRAY['buy', 'sell', 'Buy', ' BUY', ''] LOOP
        BEGIN
            PERFORM pp_engine_rest_limit_order(w, '4091', side, 5, 0.4);
            RAISE EXCEPTION 'side % was accepted', quote_literal(side);
        EXCEPTION WHEN SQLSTATE 'PP422' THEN
            NULL;
        END;
    END LOOP;
    PERFORM pp_test_assert_unchanged(before, 'after bad sides');
END
$$;

-- test: a closed account's wallet accepts no new order (PP423), writing nothing
DO $$
DECLARE
    u bigint := pp_test_user('eo-a', 'eo-closed', 'eo-closed@example.com');
    a uuid := pp_test_account('eo-a', u, 'eo-closed-acc', 100);
    w bigint := pp_test_wallet(a);
    before jsonb;
BEGIN
    PERFORM pp_test_token('4092');
    PERFORM pp_test_eq((SELECT status FROM pp_close_account('eo-a', a, 500)), 200, 'close');
    before := pp_test_snapshot();
    BEGIN
        PERFORM pp_engine_rest_limit_order(w, '4092', 'BUY', 1, 0.5);
        RAISE EXCEPTION 'an order was accepted on a closed account';
    EXCEPTION WHEN SQLSTATE 'PP423' THEN
        NULL;
    END;
    PERFORM pp_test_assert_unchanged(before, 'after an order on a closed account');
    -- reset reopens it, and orders are accepted again
    PERFORM pp_test_eq((SELECT status FROM pp_reset_account('eo-a', a, 500)), 200, 'reset');
    PERFORM pp_engine_rest_limit_order(w, '4092', 'BUY', 1, 0.5);
END
$$;
