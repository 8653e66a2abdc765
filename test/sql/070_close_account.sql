-- pp_close_account: POST /v1/partner/accounts/{account_id}/close.

-- test: closing an account without orders is 200 with status closed and the balance untouched
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('cl-a', 'cl-1', 'cl1@example.com');
    a uuid := pp_test_account('cl-a', u, 'cl1-acc', 1000);
    acc accounts;
    n_ledger bigint := (SELECT count(*) FROM ledger);
BEGIN
    SELECT * INTO STRICT r FROM pp_close_account('cl-a', a, 500);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body, left(pp_account_envelope(a), -1) || ',"risk":' || pp_risk_json(a) || '}',
                       'body is the envelope with its risk object');
    PERFORM pp_test_eq(r.body::jsonb->>'status', 'closed', 'status in the body');
    PERFORM pp_test_eq(r.body::jsonb->>'balance', '1000.00', 'balance');
    PERFORM pp_test_eq(r.body::jsonb->>'equity', '1000.00', 'equity');
    SELECT * INTO STRICT acc FROM accounts WHERE id = a;
    PERFORM pp_test_eq(acc.status, 'closed', 'accounts.status');
    ASSERT acc.closed_at IS NOT NULL, 'closed_at not set';
    PERFORM pp_test_eq((SELECT count(*) FROM ledger), n_ledger, 'ledger rows');
END
$$;

-- test: close cancels every open order and releases its reservation (cash and shares)
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('cl-a', 'cl-2', 'cl2@example.com');
    a uuid := pp_test_account('cl-a', u, 'cl2-acc', 1000);
    w bigint := pp_test_wallet(a);
    p bigint;
    b1 bigint;
    b2 bigint;
    s1 bigint;
BEGIN
    PERFORM pp_test_token('7001', NULL, NULL, 0.5, NULL);
    p := pp_test_position(w, '7001', 100, 0.5);                 -- 50.00
    b1 := pp_engine_rest_limit_order(w, '7001', 'BUY', 100, 0.45);   -- 45.00
    b2 := pp_engine_rest_limit_order(w, '7001', 'BUY', 12.3456, 0.4567); -- 5.64
    s1 := pp_engine_rest_limit_order(w, '7001', 'SELL', 60, 0.55);
    PERFORM pp_test_eq(pp_test_balance(w), '949.36', 'balance before');
    SELECT * INTO STRICT r FROM pp_close_account('cl-a', a, 500);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq((SELECT array_agg(status ORDER BY id) FROM orders WHERE wallet_id = w),
                       ARRAY['cancelled', 'cancelled', 'cancelled'], 'orders');
    PERFORM pp_test_eq(pp_test_balance(w), '1000.00', 'balance after');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s', cause, amount, order_id) ORDER BY id)
                        FROM ledger WHERE wallet_id = w AND cause = 'release'),
                       ARRAY[format('release 45.00 %s', b1), format('release 5.64 %s', b2)], 'release entries');
    PERFORM pp_test_eq((SELECT reserved_quantity::text FROM positions WHERE id = p), '0.0000',
                       'shares released');
    PERFORM pp_test_eq(format('%s %s %s', r.body::jsonb->>'status', r.body::jsonb->>'balance',
                              r.body::jsonb->>'equity'),
                       'closed 1000.00 1050.00', 'body: status balance equity');
    PERFORM pp_test_eq(jsonb_array_length(r.body::jsonb->'open_positions'), 1,
                       'close keeps positions open');
END
$$;

-- test: closing a closed account is 200 with the same state and writes nothing
DO $$
DECLARE
    r1 record;
    r2 record;
    u bigint := pp_test_user('cl-a', 'cl-3', 'cl3@example.com');
    a uuid := pp_test_account('cl-a', u, 'cl3-acc', 1000);
    before jsonb;
BEGIN
    PERFORM pp_test_token('7002');
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a), '7002', 'BUY', 10, 0.5);
    SELECT * INTO STRICT r1 FROM pp_close_account('cl-a', a, 500);
    before := pp_test_snapshot();
    SELECT * INTO STRICT r2 FROM pp_close_account('cl-a', a, 500);
    PERFORM pp_test_eq(r2.status, 200, 'second close');
    PERFORM pp_test_eq(r2.body, r1.body, 'same body');
    PERFORM pp_test_assert_unchanged(before, 'second close (closed_at unchanged too)');
END
$$;

-- test: with more open orders than the limit, close cancels exactly the limit (oldest first), answers 409 ORDERS_NOT_CANCELLED and stays active; retries drain then close
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('cl-a', 'cl-4', 'cl4@example.com');
    a uuid := pp_test_account('cl-a', u, 'cl4-acc', 1000);
    w bigint := pp_test_wallet(a);
    ids bigint[] := '{}';
    i int;
BEGIN
    PERFORM pp_test_token('7003');
    FOR i IN 1..5 LOOP
        ids := ids || pp_engine_rest_limit_order(w, '7003', 'BUY', 10, 0.1 * i);  -- 1..5.00
    END LOOP;
    PERFORM pp_test_eq(pp_test_balance(w), '985.00', 'balance with five orders');

    SELECT * INTO STRICT r FROM pp_close_account('cl-a', a, 2);
    PERFORM pp_test_error(r.status, r.body, 409, 'ORDERS_NOT_CANCELLED', 'first call');
    ASSERT r.body::jsonb->>'message' LIKE '3 open orders remain%', 'message: ' || r.body;
    PERFORM pp_test_eq((SELECT array_agg(id ORDER BY id) FROM orders WHERE wallet_id = w AND status = 'cancelled'),
                       ids[1:2], 'the two oldest cancelled');
    PERFORM pp_test_eq(pp_test_balance(w), '988.00', 'their reservations released');
    PERFORM pp_test_eq((SELECT format('%s %s', status, closed_at IS NULL) FROM accounts WHERE id = a),
                       'active t', 'account still active (closed_at NULL)');

    SELECT * INTO STRICT r FROM pp_close_account('cl-a', a, 2);
    PERFORM pp_test_error(r.status, r.body, 409, 'ORDERS_NOT_CANCELLED', 'second call');
    PERFORM pp_test_eq((SELECT array_agg(id ORDER BY id) FROM orders WHERE wallet_id = w AND status = 'open'),
                       ids[5:5], 'one left open');
    PERFORM pp_test_eq((SELECT status FROM accounts WHERE id = a), 'active', 'still active');

    SELECT * INTO STRICT r FROM pp_close_account('cl-a', a, 2);
    PERFORM pp_test_eq(r.status, 200, 'third call');
    PERFORM pp_test_eq(r.body::jsonb->>'status', 'closed', 'closed');
    PERFORM pp_test_eq(pp_test_balance(w), '1000.00', 'balance');
    PERFORM pp_test_eq((SELECT count(*) FROM orders WHERE wallet_id = w AND status = 'open'), 0::bigint,
                       'open orders');
END
$$;

-- test: exactly as many open orders as the limit close in one call
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('cl-a', 'cl-5', 'cl5@example.com');
    a uuid := pp_test_account('cl-a', u, 'cl5-acc', 1000);
    w bigint := pp_test_wallet(a);
BEGIN
    PERFORM pp_test_token('7004');
    PERFORM pp_engine_rest_limit_order(w, '7004', 'BUY', 10, 0.1);
    PERFORM pp_engine_rest_limit_order(w, '7004', 'BUY', 10, 0.2);
    SELECT * INTO STRICT r FROM pp_close_account('cl-a', a, 2);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body::jsonb->>'status', 'closed', 'closed');
END
$$;

-- test: close of another tenant's or an unknown account is 404 and cancels nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('cl-a', 'cl-6', 'cl6@example.com');
    a uuid := pp_test_account('cl-a', u, 'cl6-acc', 1000);
    before jsonb;
BEGIN
    PERFORM pp_test_user('cl-b', 'cl-6', 'cl6@example.com');
    PERFORM pp_test_token('7005');
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a), '7005', 'BUY', 10, 0.5);
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_close_account('cl-b', a, 500);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'other tenant');
    SELECT * INTO STRICT r FROM pp_close_account('cl-a', gen_random_uuid(), 500);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'unknown account');
    PERFORM pp_test_assert_unchanged(before, 'rejected close');
END
$$;

-- test: close touches neither the trader's other accounts nor the personal wallet
DO $$
DECLARE
    u bigint := pp_test_user('cl-a', 'cl-7', 'cl7@example.com');
    a uuid := pp_test_account('cl-a', u, 'cl7-acc', 1000);
    a2 uuid := pp_test_account('cl-a', u, 'cl7-acc2', 1000);
    pw bigint := pp_test_personal_wallet(u);
    others bigint[];
    other_state text;
BEGIN
    PERFORM pp_test_token('7006');
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a), '7006', 'BUY', 10, 0.5);
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a2), '7006', 'BUY', 10, 0.5);
    PERFORM pp_engine_rest_limit_order(pw, '7006', 'BUY', 10, 0.5);
    others := ARRAY[pp_test_wallet(a2), pw];
    other_state := concat_ws(E'\n',
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM wallets x WHERE x.id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM orders x WHERE x.wallet_id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM ledger x WHERE x.wallet_id = ANY (others)),
        (SELECT row(x.*)::text FROM accounts x WHERE x.id = a2));
    PERFORM pp_test_eq((SELECT status FROM accounts WHERE id = a), 'active', 'before');
    PERFORM pp_close_account('cl-a', a, 500);
    PERFORM pp_test_eq((SELECT status FROM accounts WHERE id = a), 'closed', 'closed');
    PERFORM pp_test_eq(concat_ws(E'\n',
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM wallets x WHERE x.id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM orders x WHERE x.wallet_id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM ledger x WHERE x.wallet_id = ANY (others)),
        (SELECT row(x.*)::text FROM accounts x WHERE x.id = a2)),
        other_state, 'the other account''s and the personal wallet''s rows');
END
$$;
