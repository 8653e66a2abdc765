-- pp_settle_market: a resolved market pays 1.00 per winning share and 0.00
-- per losing share (0.50 each for a void) as ledger entries, closes the
-- positions and cancels the resting orders on it; exactly once.

-- test: the winner pays 1.00 per share (rounded to cents), the loser 0.00 without a ledger entry; positions close; the market is resolved; returns the number of positions settled
DO $$
DECLARE
    u bigint := pp_test_user('st-a', 'st-1', 'st1@example.com');
    a uuid := pp_test_account('st-a', u, 'st1-acc', 1000);
    b uuid := pp_test_account('st-a', u, 'st1-accb', 1000);
    wa bigint := pp_test_wallet(a);
    wb bigint := pp_test_wallet(b);
    la bigint;
    m markets;
BEGIN
    PERFORM pp_test_market('0xe130a', ARRAY['130001', '130002']);
    PERFORM pp_test_price('130001', 0.38, 0.40);
    PERFORM pp_test_price('130002', 0.58, 0.60);
    PERFORM pp_test_place('st-a', a, '130001', 'BUY', 'market', 10.5555);   -- 4.2222 -> 4.22
    PERFORM pp_test_place('st-a', a, '130002', 'BUY', 'market', 20);        -- 12.00
    PERFORM pp_test_place('st-a', b, '130001', 'BUY', 'market', 7);         -- 2.80
    PERFORM pp_test_eq(format('%s %s', pp_test_balance(wa), pp_test_balance(wb)), '983.78 997.20', 'balances');
    la := pp_test_last_ledger_id();
    PERFORM pp_test_eq(pp_settle_market('0xe130a', '130001'), 3, 'positions settled');
    SELECT * INTO STRICT m FROM markets WHERE condition_id = '0xe130a';
    PERFORM pp_test_eq(format('%s %s %s', m.closed, m.resolved, m.winning_token_id), 't t 130001', 'market');
    -- 10.5555 x 1.00 -> 10.56; the losing 20 shares pay nothing and write no entry
    PERFORM pp_test_eq(pp_test_ledger(wa, la), ARRAY['settlement 10.56 -'], 'ledger of a');
    PERFORM pp_test_eq(pp_test_ledger(wb, la), ARRAY['settlement 7.00 -'], 'ledger of b');
    PERFORM pp_test_eq(format('%s %s', pp_test_balance(wa), pp_test_balance(wb)), '994.34 1004.20', 'balances after');
    PERFORM pp_test_eq((SELECT count(*) FROM positions WHERE wallet_id IN (wa, wb) AND closed_at IS NULL), 0::bigint,
                       'no open position');
    PERFORM pp_test_eq((SELECT count(*) FROM positions WHERE wallet_id IN (wa, wb) AND closed_at IS NOT NULL), 3::bigint,
                       'closed positions');
    PERFORM pp_test_eq(format('%s %s', pp_account_envelope(a)::jsonb->'open_positions', pp_test_equity(a)),
                       '[] 994.34', 'envelope of a: equity is the cash');
    PERFORM pp_test_eq(pp_test_equity(b), '1004.20', 'equity of b');
END
$$;

-- test: a void (NULL winner) pays 0.50 per share of every outcome, rounded to cents
DO $$
DECLARE
    u bigint := pp_test_user('st-a', 'st-2', 'st2@example.com');
    a uuid := pp_test_account('st-a', u, 'st2-acc', 1000);
    w bigint := pp_test_wallet(a);
    l0 bigint;
BEGIN
    PERFORM pp_test_market('0xe130b', ARRAY['130011', '130012']);
    PERFORM pp_test_price('130011', 0.38, 0.40);
    PERFORM pp_test_price('130012', 0.58, 0.60);
    PERFORM pp_test_place('st-a', a, '130011', 'BUY', 'market', 3.3333);    -- 1.33332 -> 1.33
    PERFORM pp_test_place('st-a', a, '130012', 'BUY', 'market', 20);        -- 12.00
    l0 := pp_test_last_ledger_id();
    PERFORM pp_test_eq(pp_settle_market('0xe130b', NULL), 2, 'positions settled');
    -- 3.3333 x 0.50 = 1.66665 -> 1.67; 20 x 0.50 = 10.00 (in position order)
    PERFORM pp_test_eq(pp_test_ledger(w, l0), ARRAY['settlement 1.67 -', 'settlement 10.00 -'], 'ledger');
    PERFORM pp_test_eq(pp_test_balance(w), '998.34', 'balance (1000 - 1.33 - 12.00 + 1.67 + 10.00)');
    PERFORM pp_test_eq((SELECT format('%s %s %s', closed, resolved, winning_token_id IS NULL) FROM markets
                        WHERE condition_id = '0xe130b'), 't t t', 'market');
    PERFORM pp_test_eq((SELECT count(*) FROM positions WHERE wallet_id = w AND closed_at IS NULL), 0::bigint,
                       'no open position');
END
$$;

-- test: settlement cancels the resting orders on the market first, releasing their cash and shares
DO $$
DECLARE
    u bigint := pp_test_user('st-a', 'st-3', 'st3@example.com');
    a uuid := pp_test_account('st-a', u, 'st3-acc', 1000);
    b uuid := pp_test_account('st-a', u, 'st3-accb', 1000);
    wa bigint := pp_test_wallet(a);
    wb bigint := pp_test_wallet(b);
    o1 bigint;
    o2 bigint;
    o3 bigint;
    la bigint;
BEGIN
    PERFORM pp_test_market('0xe130c', ARRAY['130021', '130022']);
    PERFORM pp_test_price('130021', 0.38, 0.40);
    PERFORM pp_test_price('130022', 0.58, 0.60);
    PERFORM pp_test_place('st-a', a, '130022', 'BUY', 'market', 10);                          -- 6.00
    o1 := pp_test_place('st-a', a, '130021', 'BUY', 'limit', 10, 0.30, NULL, NULL, 0.01);     -- 3.00 + 0.03
    o2 := pp_test_place('st-a', a, '130022', 'SELL', 'limit', 4, 0.90);                       -- 4 shares
    o3 := pp_test_place('st-a', b, '130022', 'BUY', 'limit', 5, 0.50);                        -- 2.50
    PERFORM pp_test_eq(pp_test_pos(wa, '130022'), '10.0000 4.0000 0.600000', 'position with shares reserved');
    la := pp_test_last_ledger_id();
    PERFORM pp_test_eq(pp_settle_market('0xe130c', '130022'), 1, 'positions settled');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s %s', status, reserved_cash, reserved_shares,
                                                cancelled_at IS NOT NULL) ORDER BY id)
                        FROM orders WHERE id IN (o1, o2, o3)),
                       ARRAY['cancelled 0.00 0.0000 t', 'cancelled 0.00 0.0000 t', 'cancelled 0.00 0.0000 t'],
                       'orders cancelled');
    PERFORM pp_test_eq(pp_test_ledger(wa, la), ARRAY[format('release 3.03 %s', o1), 'settlement 10.00 -'], 'ledger of a');
    PERFORM pp_test_eq(pp_test_ledger(wb, la), ARRAY[format('release 2.50 %s', o3)], 'ledger of b');
    PERFORM pp_test_eq((SELECT format('%s %s', reserved_quantity, closed_at IS NOT NULL) FROM positions
                        WHERE wallet_id = wa AND token_id = '130022'), '0.0000 t', 'position released and closed');
    PERFORM pp_test_eq(format('%s %s', pp_test_balance(wa), pp_test_balance(wb)), '1004.00 1000.00', 'balances');
END
$$;

-- test: settling again (any winner) returns 0 and changes nothing
DO $$
DECLARE
    u bigint := pp_test_user('st-a', 'st-4', 'st4@example.com');
    a uuid := pp_test_account('st-a', u, 'st4-acc', 1000);
    before jsonb;
BEGIN
    PERFORM pp_test_market('0xe130d', ARRAY['130031', '130032']);
    PERFORM pp_test_price('130031', 0.38, 0.40);
    PERFORM pp_test_place('st-a', a, '130031', 'BUY', 'market', 10);
    PERFORM pp_test_eq(pp_settle_market('0xe130d', '130031'), 1, 'first settlement');
    -- a new account buying nothing; the market is closed to orders anyway
    before := pp_test_snapshot();
    PERFORM pp_test_eq(pp_settle_market('0xe130d', '130031'), 0, 'second settlement');
    PERFORM pp_test_eq(pp_settle_market('0xe130d', '130032'), 0, 'settlement with the other winner');
    PERFORM pp_test_eq(pp_settle_market('0xe130d', NULL), 0, 'settlement as void');
    PERFORM pp_test_assert_unchanged(before, 'repeated settlements');
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a)), '1006.00', 'paid once');
END
$$;

-- test: a winner that is not an outcome of the market raises PP422 and changes nothing; an unknown market returns 0 and changes nothing
DO $$
DECLARE
    u bigint := pp_test_user('st-a', 'st-5', 'st5@example.com');
    a uuid := pp_test_account('st-a', u, 'st5-acc', 1000);
    before jsonb;
    state text;
    tok text;
BEGIN
    PERFORM pp_test_market('0xe130e', ARRAY['130041', '130042']);
    PERFORM pp_test_market('0xe130f', ARRAY['130051', '130052']);
    PERFORM pp_test_price('130041', 0.38, 0.40);
    PERFORM pp_test_place('st-a', a, '130041', 'BUY', 'market', 10);
    PERFORM pp_test_place('st-a', a, '130041', 'BUY', 'limit', 10, 0.30);
    before := pp_test_snapshot();
    FOREACH tok IN ARRAY ARRAY['130051', '130099'] LOOP
        BEGIN
            PERFORM pp_settle_market('0xe130e', tok);
            state := 'no error';
        EXCEPTION WHEN OTHERS THEN
            state := SQLSTATE;
        END;
        PERFORM pp_test_eq(state, 'PP422', 'SQLSTATE for winner ' || tok);
        PERFORM pp_test_assert_unchanged(before, 'settlement with winner ' || tok);
    END LOOP;
    PERFORM pp_test_eq(pp_settle_market('0xe130zz', NULL), 0, 'unknown market');
    PERFORM pp_test_eq(pp_settle_market('0xe130zz', '130041'), 0, 'unknown market with a winner');
    PERFORM pp_test_assert_unchanged(before, 'unknown market');
    -- the market still trades and settles properly afterwards
    PERFORM pp_test_eq(pp_settle_market('0xe130e', '130041'), 1, 'proper settlement');
END
$$;

-- test: settlement touches only its market: other markets' positions, orders and state stay
DO $$
DECLARE
    u bigint := pp_test_user('st-a', 'st-6', 'st6@example.com');
    a uuid := pp_test_account('st-a', u, 'st6-acc', 1000);
    w bigint := pp_test_wallet(a);
    o_other bigint;
    other_state text;
BEGIN
    PERFORM pp_test_priced('0xe130g', '130061', 0.38, 0.40);
    PERFORM pp_test_priced('0xe130h', '130071', 0.38, 0.40);
    PERFORM pp_test_place('st-a', a, '130061', 'BUY', 'market', 10);
    PERFORM pp_test_place('st-a', a, '130071', 'BUY', 'market', 10);
    o_other := pp_test_place('st-a', a, '130071', 'BUY', 'limit', 10, 0.30);
    PERFORM pp_test_place('st-a', a, '130071', 'SELL', 'limit', 5, 0.90);
    other_state := concat_ws(E'\n',
        (SELECT row(x.*)::text FROM markets x WHERE condition_id = '0xe130h'),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY token_id) FROM market_tokens x WHERE condition_id = '0xe130h'),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY id) FROM orders x WHERE token_id = '130071'),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY id) FROM positions x WHERE token_id = '130071'));
    PERFORM pp_test_eq(pp_settle_market('0xe130g', '130061'), 1, 'settled');
    PERFORM pp_test_eq(concat_ws(E'\n',
        (SELECT row(x.*)::text FROM markets x WHERE condition_id = '0xe130h'),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY token_id) FROM market_tokens x WHERE condition_id = '0xe130h'),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY id) FROM orders x WHERE token_id = '130071'),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY id) FROM positions x WHERE token_id = '130071')),
        other_state, 'the other market');
    PERFORM pp_test_eq(pp_test_pos(w, '130071'), '10.0000 5.0000 0.400000', 'other position');
    -- 1000 - 4.00 - 4.00 - 3.00 reserved + 10.00 paid
    PERFORM pp_test_eq(pp_test_balance(w), '999.00', 'balance');
END
$$;

-- test: positions already closed (sold out) or archived by a reset are not settled
DO $$
DECLARE
    u bigint := pp_test_user('st-a', 'st-7', 'st7@example.com');
    a uuid := pp_test_account('st-a', u, 'st7-acc', 1000);
    b uuid := pp_test_account('st-a', u, 'st7-accb', 1000);
    la bigint;
BEGIN
    PERFORM pp_test_priced('0xe130i', '130081', 0.38, 0.40);
    PERFORM pp_test_place('st-a', a, '130081', 'BUY', 'market', 10);
    PERFORM pp_test_place('st-a', a, '130081', 'SELL', 'market', 10);      -- closed
    PERFORM pp_test_place('st-a', b, '130081', 'BUY', 'market', 10);
    PERFORM pp_test_eq((SELECT status FROM pp_reset_account('st-a', b, 500)), 200, 'reset archives');
    la := pp_test_last_ledger_id();
    PERFORM pp_test_eq(pp_settle_market('0xe130i', '130081'), 0, 'nothing to settle');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE id > la), 0::bigint, 'no ledger entry');
    PERFORM pp_test_eq((SELECT resolved FROM markets WHERE condition_id = '0xe130i'), true, 'resolved anyway');
END
$$;
