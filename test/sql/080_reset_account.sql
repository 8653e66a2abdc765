-- pp_reset_account: POST /v1/partner/accounts/{account_id}/reset.

-- test: reset cancels orders, archives open positions, posts one reset entry back to starting_balance and keeps every row
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('rs-a', 'rs-1', 'rs1@example.com');
    a uuid := pp_test_account('rs-a', u, 'rs1-acc', 1000);
    w bigint := pp_test_wallet(a);
    acc_before accounts;
    acc accounts;
    p1 bigint;
    p2 bigint;
    b1 bigint;
    s1 bigint;
    ledger_ids bigint[];
    order_ids bigint[];
    position_ids bigint[];
    counts jsonb;
    t text;
    b jsonb;
BEGIN
    PERFORM pp_test_token('8001', NULL, NULL, 0.6, NULL);
    PERFORM pp_test_token('8002', NULL, NULL, 0.2, NULL);
    -- fixture fills: 200.00 spent on two positions
    PERFORM pp_wallet_post(w, -200.00, 'fill');
    p1 := pp_test_position(w, '8001', 250, 0.4);      -- 100.00 at cost, marked 150.00
    p2 := pp_test_position(w, '8002', 400, 0.25);     -- 100.00 at cost, marked 80.00
    b1 := pp_engine_rest_limit_order(w, '8001', 'BUY', 100, 0.55);   -- 55.00
    s1 := pp_engine_rest_limit_order(w, '8002', 'SELL', 150, 0.3);
    PERFORM pp_test_eq(pp_test_balance(w), '745.00', 'balance before');
    SELECT * INTO STRICT acc_before FROM accounts WHERE id = a;
    ledger_ids := ARRAY(SELECT id FROM ledger ORDER BY id);
    order_ids := ARRAY(SELECT id FROM orders ORDER BY id);
    position_ids := ARRAY(SELECT id FROM positions ORDER BY id);
    counts := pp_test_counts();

    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', a, 500);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body, left(pp_account_envelope(a), -1) || ',"risk":' || pp_risk_json(a) || '}',
                       'body is the envelope with its risk object');
    b := r.body::jsonb;
    PERFORM pp_test_eq(format('%s %s %s %s %s %s', b->>'status', b->>'balance', b->>'equity',
                              b->>'starting_balance', b->>'unrealized_pnl', b->'open_positions'),
                       'active 1000.00 1000.00 1000.00 0.00 []', 'body state');
    PERFORM pp_test_eq((SELECT array_agg(status ORDER BY id) FROM orders WHERE wallet_id = w),
                       ARRAY['cancelled', 'cancelled'], 'orders cancelled');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s', cause, amount, coalesce(order_id::text, '-')) ORDER BY id)
                        FROM ledger WHERE wallet_id = w AND id > ledger_ids[array_upper(ledger_ids, 1)]),
                       ARRAY[format('release 55.00 %s', b1), 'reset 200.00 -'],
                       'new ledger entries: the release, then one reset entry');
    PERFORM pp_test_eq(pp_test_balance(w), '1000.00', 'wallet balance');
    PERFORM pp_test_eq((SELECT count(*) FROM positions WHERE wallet_id = w AND archived_at IS NOT NULL),
                       2::bigint, 'positions archived');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s', quantity, reserved_quantity, closed_at IS NULL) ORDER BY id)
                        FROM positions WHERE wallet_id = w),
                       ARRAY['250.0000 0.0000 t', '400.0000 0.0000 t'],
                       'archived positions keep their quantity, reservations released');
    SELECT * INTO STRICT acc FROM accounts WHERE id = a;
    PERFORM pp_test_eq(format('%s %s %s %s %s %s', acc.id, acc.external_id, acc.wallet_id, acc.status,
                              acc.reset_count, acc.starting_balance),
                       format('%s rs1-acc %s active 1 1000.00', a, w), 'account row');
    PERFORM pp_test_eq(acc.created_at, acc_before.created_at, 'created_at');
    -- nothing deleted anywhere
    ASSERT ARRAY(SELECT id FROM ledger ORDER BY id) @> ledger_ids, 'a ledger row was deleted';
    ASSERT ARRAY(SELECT id FROM orders ORDER BY id) @> order_ids, 'an order row was deleted';
    ASSERT ARRAY(SELECT id FROM positions ORDER BY id) @> position_ids, 'a position row was deleted';
    FOR t IN SELECT jsonb_object_keys(counts) LOOP
        ASSERT (pp_test_counts()->>t)::bigint >= (counts->>t)::bigint,
            format('fewer rows in %s after reset: %s -> %s', t, counts->>t, pp_test_counts()->>t);
    END LOOP;
    -- a new position on the same token can be opened after the reset
    PERFORM pp_test_position(w, '8001', 1, 0.6);
END
$$;

-- test: reset from above the starting balance posts a negative reset entry
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('rs-a', 'rs-2', 'rs2@example.com');
    a uuid := pp_test_account('rs-a', u, 'rs2-acc', 1000);
    w bigint := pp_test_wallet(a);
BEGIN
    PERFORM pp_wallet_post(w, 250.55, 'settlement');
    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', a, 500);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s', cause, amount) ORDER BY id) FROM ledger WHERE wallet_id = w),
                       ARRAY['deposit 1000.00', 'settlement 250.55', 'reset -250.55'], 'ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '1000.00', 'balance');
    PERFORM pp_test_eq(format('%s %s', r.body::jsonb->>'balance', r.body::jsonb->>'equity'),
                       '1000.00 1000.00', 'body balance equity');
END
$$;

-- test: reset from below the starting balance (down to 0.00) posts a positive reset entry
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('rs-a', 'rs-3', 'rs3@example.com');
    a uuid := pp_test_account('rs-a', u, 'rs3-acc', 2500.75);
    w bigint := pp_test_wallet(a);
BEGIN
    PERFORM pp_wallet_post(w, -2000.25, 'fill');
    PERFORM pp_wallet_post(w, -500.50, 'fee');
    PERFORM pp_test_eq(pp_test_balance(w), '0.00', 'balance before');
    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', a, 500);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq((SELECT format('%s %s', cause, amount) FROM ledger WHERE wallet_id = w ORDER BY id DESC LIMIT 1),
                       'reset 2500.75', 'last ledger entry');
    PERFORM pp_test_eq(r.body::jsonb->>'balance', '2500.75', 'body balance');
END
$$;

-- test: reset at the starting balance posts no zero entry; reset_count counts every reset
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('rs-a', 'rs-4', 'rs4@example.com');
    a uuid := pp_test_account('rs-a', u, 'rs4-acc', 1000);
    w bigint := pp_test_wallet(a);
BEGIN
    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', a, 500);
    PERFORM pp_test_eq(r.status, 200, 'first reset');
    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', a, 500);
    PERFORM pp_test_eq(r.status, 200, 'second reset');
    PERFORM pp_test_eq((SELECT reset_count FROM accounts WHERE id = a), 2, 'reset_count');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE wallet_id = w), 1::bigint,
                       'ledger: only the deposit');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE amount = 0), 0::bigint, 'zero-amount entries');
END
$$;

-- test: reset reopens a closed account
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('rs-a', 'rs-5', 'rs5@example.com');
    a uuid := pp_test_account('rs-a', u, 'rs5-acc', 1000);
    acc accounts;
BEGIN
    PERFORM pp_close_account('rs-a', a, 500);
    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', a, 500);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body::jsonb->>'status', 'active', 'status in the body');
    SELECT * INTO STRICT acc FROM accounts WHERE id = a;
    PERFORM pp_test_eq(format('%s %s %s', acc.status, acc.closed_at IS NULL, acc.reset_count),
                       'active t 1', 'status, closed_at cleared, reset_count');
END
$$;

-- test: with more open orders than the limit, reset cancels the oldest batch, answers 409 and resets nothing else
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('rs-a', 'rs-6', 'rs6@example.com');
    a uuid := pp_test_account('rs-a', u, 'rs6-acc', 1000);
    w bigint := pp_test_wallet(a);
    ids bigint[] := '{}';
    i int;
BEGIN
    PERFORM pp_test_token('8003', NULL, NULL, 0.5, NULL);
    PERFORM pp_test_position(w, '8003', 100, 0.5);
    PERFORM pp_wallet_post(w, -50.00, 'fill');
    FOR i IN 1..3 LOOP
        ids := ids || pp_engine_rest_limit_order(w, '8003', 'BUY', 10, 0.1 * i);   -- 1, 2, 3
    END LOOP;
    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', a, 2);
    PERFORM pp_test_error(r.status, r.body, 409, 'ORDERS_NOT_CANCELLED', 'reset with 3 orders, limit 2');
    PERFORM pp_test_eq((SELECT array_agg(id ORDER BY id) FROM orders WHERE wallet_id = w AND status = 'open'),
                       ids[3:3], 'the newest order is still open');
    PERFORM pp_test_eq((SELECT count(*) FROM positions WHERE wallet_id = w AND archived_at IS NULL), 1::bigint,
                       'position not archived');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE wallet_id = w AND cause = 'reset'), 0::bigint,
                       'no reset entry');
    PERFORM pp_test_eq((SELECT reset_count FROM accounts WHERE id = a), 0, 'reset_count');
    PERFORM pp_test_eq(pp_test_balance(w), '947.00', 'balance: only the batch released');

    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', a, 2);
    PERFORM pp_test_eq(r.status, 200, 'retry');
    PERFORM pp_test_eq(format('%s %s %s', r.body::jsonb->>'balance', r.body::jsonb->>'equity',
                              r.body::jsonb->'open_positions'),
                       '1000.00 1000.00 []', 'after the retry');
    PERFORM pp_test_eq((SELECT reset_count FROM accounts WHERE id = a), 1, 'reset_count after the retry');
END
$$;

-- test: reset of another tenant's or an unknown account is 404 and changes nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('rs-a', 'rs-7', 'rs7@example.com');
    a uuid := pp_test_account('rs-a', u, 'rs7-acc', 1000);
    w bigint := pp_test_wallet(a);
    before jsonb;
BEGIN
    PERFORM pp_test_user('rs-b', 'rs-7', 'rs7@example.com');
    PERFORM pp_test_token('8004', NULL, NULL, 0.5, NULL);
    PERFORM pp_test_position(w, '8004', 100, 0.5);
    PERFORM pp_wallet_post(w, -50.00, 'fill');
    PERFORM pp_engine_rest_limit_order(w, '8004', 'BUY', 10, 0.5);
    PERFORM pp_close_account('rs-a', a, 0);    -- 409, leaves everything open
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_reset_account('rs-b', a, 500);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'other tenant');
    SELECT * INTO STRICT r FROM pp_reset_account('rs-a', gen_random_uuid(), 500);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'unknown account');
    PERFORM pp_test_assert_unchanged(before, 'rejected reset');
END
$$;

-- test: reset touches neither the trader's other accounts nor the personal wallet
DO $$
DECLARE
    u bigint := pp_test_user('rs-a', 'rs-8', 'rs8@example.com');
    a uuid := pp_test_account('rs-a', u, 'rs8-acc', 1000);
    a2 uuid := pp_test_account('rs-a', u, 'rs8-acc2', 1000);
    pw bigint := pp_test_personal_wallet(u);
    others bigint[];
    other_state text;
BEGIN
    PERFORM pp_test_token('8005', NULL, NULL, 0.5, NULL);
    others := ARRAY[pp_test_wallet(a2), pw];
    PERFORM pp_test_position(pp_test_wallet(a), '8005', 10, 0.5);
    PERFORM pp_test_position(pp_test_wallet(a2), '8005', 10, 0.5);
    PERFORM pp_test_position(pw, '8005', 10, 0.5);
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a), '8005', 'BUY', 10, 0.5);
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a2), '8005', 'BUY', 10, 0.5);
    PERFORM pp_engine_rest_limit_order(pw, '8005', 'BUY', 10, 0.5);
    PERFORM pp_wallet_post(pp_test_wallet(a), -100, 'fee');
    other_state := concat_ws(E'\n',
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM wallets x WHERE x.id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM orders x WHERE x.wallet_id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM ledger x WHERE x.wallet_id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM positions x WHERE x.wallet_id = ANY (others)),
        (SELECT row(x.*)::text FROM accounts x WHERE x.id = a2));
    PERFORM pp_reset_account('rs-a', a, 500);
    PERFORM pp_test_eq((SELECT reset_count FROM accounts WHERE id = a), 1, 'the account was reset');
    PERFORM pp_test_eq(concat_ws(E'\n',
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM wallets x WHERE x.id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM orders x WHERE x.wallet_id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM ledger x WHERE x.wallet_id = ANY (others)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM positions x WHERE x.wallet_id = ANY (others)),
        (SELECT row(x.*)::text FROM accounts x WHERE x.id = a2)),
        other_state, 'the other account''s and the personal wallet''s rows');
END
$$;
