-- pp_account_envelope, pp_get_account and pp_mark_price: the account state
-- marked to market.

-- test: a fresh account reads as its starting balance with every documented field in order
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ev-a', 'ev-1', 'ev1@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev1-acc', 10000, 'challenge', '{"r":1}', '{"m":"x"}');
    acc accounts;
BEGIN
    SELECT * INTO STRICT acc FROM accounts WHERE id = a;
    SELECT * INTO STRICT r FROM pp_get_account('ev-a', a);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body, left(pp_account_envelope(a), -1) || ',"risk":' || pp_risk_json(a) || '}',
                       'body = pp_account_envelope followed by the risk object');
    PERFORM pp_test_eq(pp_test_keys(r.body),
                       ARRAY['account_id', 'external_id', 'stage', 'status', 'balance',
                             'reserved_cash', 'starting_balance', 'equity', 'unrealized_pnl',
                             'realized_pnl', 'open_positions', 'rules', 'metadata', 'updated_at',
                             'risk'],
                       'envelope keys in order');
    PERFORM pp_test_eq(r.body::jsonb - 'risk',
        jsonb_build_object('account_id', a::text, 'external_id', 'ev1-acc', 'stage', 'challenge',
                           'status', 'active', 'balance', '10000.00', 'reserved_cash', '0.00',
                           'starting_balance', '10000.00',
                           'equity', '10000.00', 'unrealized_pnl', '0.00', 'realized_pnl', NULL,
                           'open_positions', '[]'::jsonb, 'rules', '{"r":1}'::jsonb,
                           'metadata', '{"m":"x"}'::jsonb,
                           'updated_at', pp_test_time(acc.created_at)),
        'envelope');
    PERFORM pp_test_eq(r.body::jsonb->'realized_pnl', 'null'::jsonb, 'realized_pnl is JSON null');
END
$$;

-- test: pp_get_account of another tenant's or an unknown account is 404 ACCOUNT_NOT_FOUND with the same body
DO $$
DECLARE
    r record;
    r2 record;
    u bigint := pp_test_user('ev-a', 'ev-2', 'ev2@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev2-acc');
BEGIN
    PERFORM pp_test_user('ev-b', 'ev-2', 'ev2@example.com');  -- even for the same trader
    SELECT * INTO STRICT r FROM pp_get_account('ev-b', a);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'other tenant');
    SELECT * INTO STRICT r2 FROM pp_get_account('ev-a', gen_random_uuid());
    PERFORM pp_test_error(r2.status, r2.body, 404, 'ACCOUNT_NOT_FOUND', 'unknown account');
    PERFORM pp_test_eq(r.body, r2.body, 'other tenant''s account looks unknown');
END
$$;

-- test: mark price is (bid+ask)/2 with both sides, else midpoint, else last trade, else the entry price (market prices at 4 decimals, the entry price unrounded)
DO $$
DECLARE
    t market_tokens;
BEGIN
    PERFORM pp_test_token('5001', 0.40, 0.47, 0.50, 0.30);      -- both sides
    PERFORM pp_test_token('5002', 0.40, NULL, 0.55, 0.30);      -- bid only
    PERFORM pp_test_token('5003', NULL, 0.45, 0.56, 0.30);      -- ask only
    PERFORM pp_test_token('5004', NULL, NULL, NULL, 0.62);      -- last trade only
    PERFORM pp_test_token('5005', 0.40, NULL, NULL, 0.63);      -- one side and last trade
    PERFORM pp_test_token('5006');                               -- nothing
    PERFORM pp_test_token('5007', 0.4101, 0.4200, 0.90, 0.90);  -- (0.4101+0.42)/2 = 0.41505
    PERFORM pp_test_token('5008', 0, 0.0001, NULL, NULL);       -- 0.00005 rounds up
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '5001';
    PERFORM pp_test_eq(pp_mark_price(t, 0.25)::text, '0.4350', 'both sides');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '5002';
    PERFORM pp_test_eq(pp_mark_price(t, 0.25)::text, '0.5500', 'bid only: midpoint');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '5003';
    PERFORM pp_test_eq(pp_mark_price(t, 0.25)::text, '0.5600', 'ask only: midpoint');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '5004';
    PERFORM pp_test_eq(pp_mark_price(t, 0.25)::text, '0.6200', 'last trade');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '5005';
    PERFORM pp_test_eq(pp_mark_price(t, 0.25)::text, '0.6300', 'one side, no midpoint: last trade');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '5006';
    -- the entry-price fallback is not rounded, so a position without prices is carried at cost
    PERFORM pp_test_eq(pp_mark_price(t, 0.123333), 0.123333::numeric, 'no price: entry price, unrounded');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '5007';
    PERFORM pp_test_eq(pp_mark_price(t, 0.25)::text, '0.4151', 'half rounds away from zero');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '5008';
    PERFORM pp_test_eq(pp_mark_price(t, 0.25)::text, '0.0001', 'bid 0 is a price');
END
$$;

-- test: equity = balance + reserved cash of open orders + sum of round(quantity x mark, 2); unrealized_pnl = equity - starting_balance
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-4', 'ev4@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev4-acc', 10000);
    w bigint := pp_test_wallet(a);
    b jsonb;
    o bigint;
BEGIN
    PERFORM pp_test_token('5101', 0.40, 0.47, 0.50, 0.30);   -- mark 0.4350
    PERFORM pp_test_token('5102', NULL, NULL, 0.55, 0.30);   -- mark 0.5500
    PERFORM pp_test_token('5103', NULL, NULL, NULL, 0.3333); -- mark 0.3333
    PERFORM pp_test_token('5104');                            -- mark = entry 0.2500
    -- cash spent on the positions (fixture fills): 124.88
    PERFORM pp_wallet_post(w, -124.88, 'fill');
    PERFORM pp_test_position(w, '5101', 100, 0.41);        -- 43.50, pnl 43.50 - 41.00 = 2.50
    PERFORM pp_test_position(w, '5102', 10.5, 0.60);       -- 5.775 -> 5.78, pnl 5.78 - 6.30 = -0.52
    PERFORM pp_test_position(w, '5103', 7, 0.30);          -- 2.3331 -> 2.33, pnl 2.33 - 2.10 = 0.23
    PERFORM pp_test_position(w, '5104', 40, 0.25);         -- 10.00, pnl 0.00
    o := pp_engine_rest_limit_order(w, '5101', 'BUY', 33, 0.333);   -- 10.989 -> 10.99 reserved
    -- balance 10000 - 124.88 - 10.99 = 9864.13
    -- equity 9864.13 + 10.99 + 43.50 + 5.78 + 2.33 + 10.00 = 9936.73
    b := pp_account_envelope(a)::jsonb;
    PERFORM pp_test_eq(b->>'balance', '9864.13', 'balance');
    PERFORM pp_test_eq(b->>'equity', '9936.73', 'equity');
    PERFORM pp_test_eq(b->>'unrealized_pnl', '-63.27', 'unrealized_pnl');
    PERFORM pp_test_eq(b->>'starting_balance', '10000.00', 'starting_balance');
    PERFORM pp_test_eq(jsonb_array_length(b->'open_positions'), 4, 'open positions');
    PERFORM pp_test_eq(b->'open_positions'->0,
        '{"market_id":"0xc5101","outcome":"Yes","quantity":"100.0000","avg_entry_price":"0.4100",
          "current_price":"0.4350","market_value":"43.50","unrealized_pnl":"2.50"}'::jsonb,
        'first position');
    PERFORM pp_test_eq(b->'open_positions'->1,
        '{"market_id":"0xc5102","outcome":"Yes","quantity":"10.5000","avg_entry_price":"0.6000",
          "current_price":"0.5500","market_value":"5.78","unrealized_pnl":"-0.52"}'::jsonb,
        'second position');
    PERFORM pp_test_eq(b->'open_positions'->2,
        '{"market_id":"0xc5103","outcome":"Yes","quantity":"7.0000","avg_entry_price":"0.3000",
          "current_price":"0.3333","market_value":"2.33","unrealized_pnl":"0.23"}'::jsonb,
        'third position');
    PERFORM pp_test_eq(b->'open_positions'->3,
        '{"market_id":"0xc5104","outcome":"Yes","quantity":"40.0000","avg_entry_price":"0.2500",
          "current_price":"0.2500","market_value":"10.00","unrealized_pnl":"0.00"}'::jsonb,
        'fourth position (no price: at cost)');
    -- position keys in the documented order
    PERFORM pp_test_eq((SELECT array_agg(k ORDER BY n)
                        FROM json_object_keys(((pp_account_envelope(a))::json)->'open_positions'->0)
                             WITH ORDINALITY AS t(k, n)),
                       ARRAY['market_id', 'outcome', 'quantity', 'avg_entry_price', 'current_price',
                             'market_value', 'unrealized_pnl'],
                       'position keys in order');
END
$$;

-- test: placing or cancelling orders never changes equity
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-5', 'ev5@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev5-acc', 1000);
    w bigint := pp_test_wallet(a);
    o1 bigint;
    o2 bigint;
    o3 bigint;
    e0 text;
    b jsonb;
BEGIN
    PERFORM pp_test_token('5201', 0.30, 0.34, NULL, NULL);   -- mark 0.3200
    PERFORM pp_test_position(w, '5201', 250, 0.28);          -- 80.00
    e0 := pp_account_envelope(a)::jsonb->>'equity';
    PERFORM pp_test_eq(e0, '1080.00', 'equity before');
    o1 := pp_engine_rest_limit_order(w, '5201', 'BUY', 12.3456, 0.4567);   -- 5.64
    o2 := pp_engine_rest_limit_order(w, '5201', 'BUY', 3, 0.3333);         -- 1.00
    o3 := pp_engine_rest_limit_order(w, '5201', 'SELL', 100, 0.9);         -- shares only
    b := pp_account_envelope(a)::jsonb;
    PERFORM pp_test_eq(b->>'balance', '993.36', 'balance with two BUYs resting');
    PERFORM pp_test_eq(b->>'equity', e0, 'equity with orders resting');
    PERFORM pp_test_eq(b->'open_positions'->0->>'market_value', '80.00',
                       'a position with reserved shares is still valued in full');
    PERFORM pp_engine_cancel_order(o1);
    PERFORM pp_test_eq(pp_account_envelope(a)::jsonb->>'equity', e0, 'equity after one cancel');
    PERFORM pp_engine_cancel_order(o3);
    PERFORM pp_engine_cancel_order(o2);
    b := pp_account_envelope(a)::jsonb;
    PERFORM pp_test_eq(b->>'equity', e0, 'equity after all cancels');
    PERFORM pp_test_eq(b->>'balance', '1000.00', 'balance after all cancels');
END
$$;

-- test: archived, closed and empty positions are not open positions and add nothing to equity
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-6', 'ev6@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev6-acc', 1000);
    w bigint := pp_test_wallet(a);
    p bigint;
    b jsonb;
BEGIN
    PERFORM pp_test_token('5301', NULL, NULL, 0.5, NULL);
    PERFORM pp_test_token('5302', NULL, NULL, 0.5, NULL);
    PERFORM pp_test_token('5303', NULL, NULL, 0.5, NULL);
    PERFORM pp_test_token('5304', NULL, NULL, 0.5, NULL);
    p := pp_test_position(w, '5301', 100, 0.5);
    UPDATE positions SET archived_at = clock_timestamp() WHERE id = p;
    p := pp_test_position(w, '5302', 100, 0.5);
    UPDATE positions SET closed_at = clock_timestamp() WHERE id = p;
    PERFORM pp_test_position(w, '5303', 0, 0.5);
    PERFORM pp_test_position(w, '5304', 10, 0.5);            -- the only open one: 5.00
    b := pp_account_envelope(a)::jsonb;
    PERFORM pp_test_eq((SELECT array_agg(e->>'market_id') FROM jsonb_array_elements(b->'open_positions') e),
                       ARRAY['0xc5304'], 'open positions');
    PERFORM pp_test_eq(b->>'equity', '1005.00', 'equity');
    PERFORM pp_test_eq(b->>'unrealized_pnl', '5.00', 'unrealized_pnl');
END
$$;

-- test: another account's positions and orders, and the personal wallet, do not count
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-7', 'ev7@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev7-acc', 1000);
    a2 uuid := pp_test_account('ev-a', u, 'ev7-acc2', 1000);
    b jsonb;
BEGIN
    PERFORM pp_test_token('5401', NULL, NULL, 0.5, NULL);
    PERFORM pp_test_position(pp_test_wallet(a2), '5401', 100, 0.5);
    PERFORM pp_test_position(pp_test_personal_wallet(u), '5401', 100, 0.5);
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a2), '5401', 'BUY', 100, 0.5);
    PERFORM pp_engine_rest_limit_order(pp_test_personal_wallet(u), '5401', 'BUY', 100, 0.5);
    b := pp_account_envelope(a)::jsonb;
    PERFORM pp_test_eq(format('%s %s %s', b->>'balance', b->>'equity', b->'open_positions'),
                       '1000.00 1000.00 []', 'balance equity positions');
END
$$;

-- test: money has 2 decimals and quantities and prices 4, also for long fractions
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-8', 'ev8@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev8-acc', 1234.5);
    w bigint := pp_test_wallet(a);
    b jsonb;
BEGIN
    PERFORM pp_test_token('5501', 0.1234, 0.1237, NULL, NULL);  -- 0.12355 -> 0.1236
    PERFORM pp_test_position(w, '5501', 3.25, 0.1);              -- 0.4017 -> 0.40, cost 0.325 -> 0.33
    b := pp_account_envelope(a)::jsonb;
    PERFORM pp_test_eq(b->>'balance', '1234.50', 'balance');
    PERFORM pp_test_eq(b->>'starting_balance', '1234.50', 'starting_balance');
    PERFORM pp_test_eq(b->>'equity', '1234.90', 'equity');
    PERFORM pp_test_eq(b->>'unrealized_pnl', '0.40', 'unrealized_pnl');
    PERFORM pp_test_eq(b->'open_positions'->0,
        '{"market_id":"0xc5501","outcome":"Yes","quantity":"3.2500","avg_entry_price":"0.1000",
          "current_price":"0.1236","market_value":"0.40","unrealized_pnl":"0.07"}'::jsonb,
        'position');
END
$$;

-- test: a position without any price is carried at cost even when its average entry price has more than 4 decimals
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-9', 'ev9@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev9-acc', 1000);
    w bigint := pp_test_wallet(a);
    b jsonb;
BEGIN
    PERFORM pp_test_token('5601');
    -- three fills of 1000 shares at 0.12, 0.12 and 0.13 cost 370.00 and average
    -- 0.123333 (avg_entry_price is numeric(10,6)); with no price at all the
    -- position is carried at cost: market value round(3000 x 0.123333, 2) = 370.00
    PERFORM pp_wallet_post(w, -370.00, 'fill');
    PERFORM pp_test_position(w, '5601', 3000, 0.123333);
    b := pp_account_envelope(a)::jsonb;
    PERFORM pp_test_eq(b->'open_positions'->0->>'unrealized_pnl', '0.00',
                       'position unrealized_pnl without any price (carried at cost)');
    PERFORM pp_test_eq(b->'open_positions'->0->>'market_value', '370.00', 'position market_value');
    PERFORM pp_test_eq(b->>'equity', '1000.00', 'equity (630.00 cash + 370.00 at cost)');
    PERFORM pp_test_eq(b->>'unrealized_pnl', '0.00', 'account unrealized_pnl');
END
$$;

-- test: updated_at is the creation time and stays so through patch, orders, close and reset
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-10', 'ev10@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev10-acc', 1000);
    created text;
    r record;
BEGIN
    UPDATE accounts SET created_at = '2026-05-31 12:00:00.123456+00' WHERE id = a;
    created := '2026-05-31T12:00:00Z';
    PERFORM pp_test_token('5701');
    SELECT * INTO STRICT r FROM pp_patch_account('ev-a', a, '{"x":1}', NULL);
    PERFORM pp_test_eq(r.body::jsonb->>'updated_at', created, 'after patch');
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a), '5701', 'BUY', 10, 0.5);
    PERFORM pp_test_eq(pp_account_envelope(a)::jsonb->>'updated_at', created, 'after an order');
    SELECT * INTO STRICT r FROM pp_close_account('ev-a', a, 500);
    PERFORM pp_test_eq(r.body::jsonb->>'updated_at', created, 'after close');
    SELECT * INTO STRICT r FROM pp_reset_account('ev-a', a, 500);
    PERFORM pp_test_eq(r.body::jsonb->>'updated_at', created, 'after reset');
    SELECT * INTO STRICT r FROM pp_get_account('ev-a', a);
    PERFORM pp_test_eq(r.body::jsonb->>'updated_at', created, 'GET');
END
$$;

-- test: reading an account writes nothing
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-11', 'ev11@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev11-acc', 1000);
    before jsonb;
BEGIN
    PERFORM pp_test_token('5801', 0.2, 0.3, NULL, NULL);
    PERFORM pp_test_position(pp_test_wallet(a), '5801', 10, 0.2);
    before := pp_test_snapshot();
    PERFORM pp_get_account('ev-a', a);
    PERFORM pp_get_account('ev-b', a);
    PERFORM pp_account_envelope(a);
    PERFORM pp_test_assert_unchanged(before, 'reads');
END
$$;

-- test: reserved_cash is the cash open orders reserve, so equity = balance + reserved_cash + sum of market_value holds in every body that carries the envelope
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-rc', 'evrc@example.com');
    a uuid := pp_test_account('ev-a', u, 'evrc-acc', 1000);
    w bigint := pp_test_wallet(a);
    o1 bigint;
    r record;
    body text;
    b jsonb;
BEGIN
    PERFORM pp_test_token('5601', 0.30, 0.34, NULL, NULL);   -- mark 0.3200
    PERFORM pp_test_position(w, '5601', 250, 0.28);          -- 80.00
    PERFORM pp_test_eq(pp_account_envelope(a)::jsonb->>'reserved_cash', '0.00', 'nothing reserved');
    o1 := pp_engine_rest_limit_order(w, '5601', 'BUY', 12.3456, 0.4567);   -- 5.64
    PERFORM pp_engine_rest_limit_order(w, '5601', 'BUY', 3, 0.3333);       -- 1.00
    PERFORM pp_engine_rest_limit_order(w, '5601', 'SELL', 100, 0.9);       -- shares, no cash
    PERFORM pp_engine_rest_limit_order(w, '5601', 'BUY', 10, 0.1);         -- 1.00, cancelled
    PERFORM pp_engine_cancel_order(currval(pg_get_serial_sequence('orders', 'id')));
    -- every body built from the envelope: GET, PATCH, the trader's account
    -- view and the trader's account list
    FOR body IN
        SELECT x.body FROM pp_get_account('ev-a', a) x
        UNION ALL SELECT x.body FROM pp_patch_account('ev-a', a, NULL, '{"k":1}') x
        UNION ALL SELECT x.body FROM pp_trader_account(u, a) x
        UNION ALL SELECT (x.body::json->'accounts'->0)::text FROM pp_trader_me(u) x
    LOOP
        b := body::jsonb;
        PERFORM pp_test_eq(b->>'balance', '993.36', 'balance');
        PERFORM pp_test_eq(b->>'reserved_cash', '6.64', 'reserved_cash: two resting BUYs');
        PERFORM pp_test_eq(b->>'equity', '1080.00', 'equity');
        PERFORM pp_test_eq(((b->>'balance')::numeric + (b->>'reserved_cash')::numeric
                            + (SELECT coalesce(sum((p->>'market_value')::numeric), 0)
                               FROM jsonb_array_elements(b->'open_positions') p))::text,
                           b->>'equity', 'equity reconciled from the body');
        PERFORM pp_test_eq((pp_test_keys(body))[5:7], ARRAY['balance', 'reserved_cash',
                           'starting_balance'], 'reserved_cash follows balance');
    END LOOP;
    PERFORM pp_engine_cancel_order(o1);
    PERFORM pp_test_eq(pp_account_envelope(a)::jsonb->>'reserved_cash', '1.00', 'after a cancel');
    -- close cancels every order: nothing is reserved any more
    SELECT * INTO STRICT r FROM pp_close_account('ev-a', a, 1000);
    PERFORM pp_test_eq(r.status, 200, 'close status');
    PERFORM pp_test_eq(r.body::jsonb->>'reserved_cash', '0.00', 'reserved_cash after close');
    PERFORM pp_test_eq(r.body::jsonb->>'equity', '1080.00', 'equity after close');
END
$$;

-- test: reset answers the envelope with reserved_cash 0.00
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-rr', 'evrr@example.com');
    a uuid := pp_test_account('ev-a', u, 'evrr-acc', 1000);
    r record;
BEGIN
    PERFORM pp_test_token('5602', 0.30, 0.34, NULL, NULL);
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a), '5602', 'BUY', 10, 0.3);
    PERFORM pp_test_eq(pp_account_envelope(a)::jsonb->>'reserved_cash', '3.00', 'before reset');
    SELECT * INTO STRICT r FROM pp_reset_account('ev-a', a, 1000);
    PERFORM pp_test_eq(r.status, 200, 'reset status');
    PERFORM pp_test_eq(r.body::jsonb->>'reserved_cash', '0.00', 'reserved_cash after reset');
    PERFORM pp_test_eq(r.body::jsonb->>'equity', '1000.00', 'equity after reset');
END
$$;
