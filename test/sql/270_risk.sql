-- The risk state (sql/functions/72_risk.sql): the marks are the extremes of
-- the envelope's equity taken after every call that commits a change, the
-- trading day follows the tenant's boundary, resets start a new history and
-- closing freezes it.

-- test: after a long random sequence of price batches, market and limit orders and cancels on two accounts, every mark equals the extreme recomputed from the envelope's equity after each call
DO $$
DECLARE
    u bigint := pp_test_user('rk-a', 'rk-1', 'rk1@example.com');
    accts uuid[] := ARRAY[pp_test_account('rk-a', u, 'rk1-a', 1000),
                          pp_test_account('rk-a', u, 'rk1-b', 500)];
    toks text[] := ARRAY['270001', '270002', '270003', '270004'];
    e numeric; hwm numeric[]; lwm numeric[]; dd numeric[]; eq numeric[];
    r account_risk;
    i integer; k integer; step integer; bid numeric; tok text; oid bigint; res record;
BEGIN
    PERFORM setseed(0.27);
    PERFORM pp_test_market('0xe270a', toks[1:2]);
    PERFORM pp_test_market('0xe270b', toks[3:4]);
    FOREACH tok IN ARRAY toks LOOP
        PERFORM pp_test_price(tok, 0.40, 0.42);
    END LOOP;
    FOR k IN 1..2 LOOP
        e := (pp_account_envelope(accts[k])::jsonb->>'equity')::numeric;
        hwm[k] := e; lwm[k] := e; dd[k] := 0; eq[k] := e;
    END LOOP;
    FOR step IN 1..400 LOOP
        k := 1 + floor(random() * 2)::integer;
        tok := toks[1 + floor(random() * 4)::integer];
        CASE floor(random() * 6)::integer
        WHEN 0, 1 THEN   -- a price batch moving one or two tokens
            bid := round((0.05 + random() * 0.85)::numeric, 2);
            PERFORM pp_apply_price_updates(jsonb_build_array(
                jsonb_build_object('token_id', tok, 'best_bid', bid::text,
                                   'best_ask', (bid + 0.02)::text),
                jsonb_build_object('token_id', toks[1 + floor(random() * 4)::integer],
                                   'best_bid', (bid / 2)::text, 'best_ask', (bid / 2 + 0.01)::text)));
        WHEN 2 THEN
            PERFORM pp_place_order('rk-a', accts[k], tok, 'BUY', 'market',
                                   round((1 + random() * 30)::numeric, 2), NULL, NULL, NULL, 0.01, 0);
        WHEN 3 THEN
            PERFORM pp_place_order('rk-a', accts[k], tok, 'SELL', 'market',
                                   round((1 + random() * 10)::numeric, 2), NULL, NULL, NULL, 0, 0);
        WHEN 4 THEN      -- a limit order that may rest, or fill in a later batch
            PERFORM pp_place_order('rk-a', accts[k], tok,
                                   CASE WHEN random() < 0.5 THEN 'BUY' ELSE 'SELL' END, 'limit',
                                   round((1 + random() * 10)::numeric, 2),
                                   round((0.1 + random() * 0.8)::numeric, 2), NULL, NULL, 0, 0);
        ELSE
            SELECT o.id INTO oid FROM orders o JOIN accounts a ON a.wallet_id = o.wallet_id
            WHERE a.id = accts[k] AND o.status = 'open' ORDER BY random() LIMIT 1;
            IF oid IS NOT NULL THEN
                PERFORM pp_cancel_order('rk-a', accts[k], oid);
            END IF;
        END CASE;
        FOR i IN 1..2 LOOP
            e := (pp_account_envelope(accts[i])::jsonb->>'equity')::numeric;
            hwm[i] := greatest(hwm[i], e);
            lwm[i] := least(lwm[i], e);
            dd[i] := greatest(dd[i], hwm[i] - e);
            eq[i] := e;
            SELECT * INTO STRICT r FROM account_risk WHERE account_id = accts[i];
            IF (r.equity, r.high_water_mark, r.low_water_mark, r.max_drawdown,
                r.day_high_equity, r.day_low_equity)
               IS DISTINCT FROM (e, hwm[i], lwm[i], dd[i], hwm[i], lwm[i]) THEN
                RAISE EXCEPTION 'step %, account %: risk (%, %, %, %, %, %) but recomputed (%, %, %, %)',
                    step, i, r.equity, r.high_water_mark, r.low_water_mark, r.max_drawdown,
                    r.day_high_equity, r.day_low_equity, e, hwm[i], lwm[i], dd[i];
            END IF;
        END LOOP;
    END LOOP;
    -- the sequence did move equity both ways, or the test proves little
    PERFORM pp_test_eq(hwm[1] > lwm[1] AND dd[1] > 0 AND hwm[2] > lwm[2], true, 'equity moved');
    PERFORM pp_test_eq((SELECT trading_days FROM account_risk WHERE account_id = accts[1]), 1,
                       'one trading day with fills');
END
$$;

-- test: the risk object is in the envelope, reads as the stored marks, and a fresh account starts at its balance with no trading day
DO $$
DECLARE
    u bigint := pp_test_user('rk-a', 'rk-2', 'rk2@example.com');
    a uuid := pp_test_account('rk-a', u, 'rk2-a', 2500);
    risk jsonb;
BEGIN
    risk := (SELECT body FROM pp_get_account('rk-a', a))::jsonb->'risk';
    PERFORM pp_test_eq(format('%s %s %s %s %s %s', risk->>'day_start_equity', risk->>'high_water_mark',
                              risk->>'low_water_mark', risk->>'max_drawdown', risk->>'trading_days',
                              risk->>'trading_day'),
                       format('2500.00 2500.00 2500.00 0.00 0 %s', (now() AT TIME ZONE 'UTC')::date),
                       'fresh account');
    PERFORM pp_test_eq((SELECT array_agg(k ORDER BY n)
                        FROM json_object_keys(pp_risk_json(a)::json) WITH ORDINALITY AS x(k, n))::text,
                       '{trading_day,day_started_at,day_start_equity,day_start_balance,day_high_equity,'
                       'day_high_at,day_low_equity,day_low_at,high_water_mark,high_water_mark_at,'
                       'low_water_mark,low_water_mark_at,max_drawdown,trading_days,as_of}',
                       'every field');
END
$$;

-- test: the trading day begins at the tenant's boundary in its zone, daylight saving included, and carries the date of its larger part
DO $$
DECLARE
    d record;
BEGIN
    INSERT INTO tenants (name, day_boundary, day_zone) VALUES ('rk-ny', '17:00', 'America/New_York');
    SELECT * INTO d FROM pp_trading_day('rk-ny', '2026-12-07T12:00:00Z');
    PERFORM pp_test_eq(format('%s %s', d.trading_day, d.started_at AT TIME ZONE 'UTC'),
                       '2026-12-07 2026-12-06 22:00:00', 'winter: 17:00 EST is 22:00Z');
    SELECT * INTO d FROM pp_trading_day('rk-ny', '2026-12-07T22:00:00Z');
    PERFORM pp_test_eq(format('%s %s', d.trading_day, d.started_at AT TIME ZONE 'UTC'),
                       '2026-12-08 2026-12-07 22:00:00', 'at the boundary, the next day');
    -- 2026-03-08 02:00 New York: clocks go forward; that evening's 17:00 is EDT
    SELECT * INTO d FROM pp_trading_day('rk-ny', '2026-03-09T12:00:00Z');
    PERFORM pp_test_eq(format('%s %s', d.trading_day, d.started_at AT TIME ZONE 'UTC'),
                       '2026-03-09 2026-03-08 21:00:00', 'summer: 17:00 EDT is 21:00Z');
    SELECT * INTO d FROM pp_trading_day('rk-ny', '2026-03-08T12:00:00Z');
    PERFORM pp_test_eq(format('%s %s', d.trading_day, d.started_at AT TIME ZONE 'UTC'),
                       '2026-03-08 2026-03-07 22:00:00', 'the day that began in winter');
    SELECT * INTO d FROM pp_trading_day('rk-unknown-tenant', '2026-12-07T00:30:00Z');
    PERFORM pp_test_eq(format('%s %s', d.trading_day, d.started_at AT TIME ZONE 'UTC'),
                       '2026-12-07 2026-12-07 00:00:00', 'default: 00:00 UTC');
    UPDATE tenants SET day_boundary = '01:00', day_zone = 'UTC' WHERE name = 'rk-ny';
    SELECT * INTO d FROM pp_trading_day('rk-ny', '2026-12-07T00:30:00Z');
    PERFORM pp_test_eq(format('%s %s', d.trading_day, d.started_at AT TIME ZONE 'UTC'),
                       '2026-12-06 2026-12-06 01:00:00', '01:00 UTC: before it, still the 6th');
END
$$;

-- test: the day rolls at the boundary with nothing traded: its start is the equity and cash of the last commit, its range starts there, and the next change moves only the new day
DO $$
DECLARE
    u bigint := pp_test_user('rk-d', 'rk-3', 'rk3@example.com');
    a uuid := pp_test_account('rk-d', u, 'rk3-a', 1000);
    boundary timestamptz := date_trunc('second', clock_timestamp()) + interval '2 s';
    risk jsonb;
    e0 text;
    r account_risk;
    page record;
    zone text;
BEGIN
    PERFORM pp_test_market('0xe270d', ARRAY['270011', '270012']);
    PERFORM pp_test_price('270011', 0.40, 0.42);
    PERFORM pp_test_place('rk-d', a, '270011', 'BUY', 'market', 100);
    PERFORM pp_test_price('270011', 0.20, 0.22);          -- the old day's low
    -- a zone where the boundary is after 12:00 local, so the new day carries
    -- another date than the one the account was created in, whatever the hour
    zone := CASE WHEN extract(hour FROM boundary AT TIME ZONE 'UTC') < 12 THEN 'Etc/GMT-12'
                 ELSE 'UTC' END;
    UPDATE tenants SET day_boundary = (boundary AT TIME ZONE zone)::time, day_zone = zone
    WHERE name = 'rk-d';
    PERFORM pg_sleep(greatest(0, extract(epoch FROM boundary - clock_timestamp())::float8 + 0.2));
    e0 := pp_account_envelope(a)::jsonb->>'equity';
    risk := pp_risk_json(a)::jsonb;
    PERFORM pp_test_eq(format('%s %s %s %s', risk->>'day_start_equity', risk->>'day_high_equity',
                              risk->>'day_low_equity', (risk->>'day_started_at')::timestamptz = boundary),
                       format('%s %s %s t', e0, e0, e0), 'rolled on read, nothing committed');
    PERFORM pp_test_price('270011', 0.30, 0.32);          -- a commit in the new day
    SELECT * INTO STRICT r FROM account_risk WHERE account_id = a;
    PERFORM pp_test_eq(format('%s %s %s %s', r.day_start_equity, r.day_low_equity,
                              r.day_high_equity > r.day_start_equity, r.day_started_at = boundary),
                       format('%s %s t t', e0, e0), 'the new day ranges from its start');
    PERFORM pp_test_eq(r.high_water_mark > r.day_high_equity, true, 'the old day''s high stays in the marks');
    PERFORM pp_test_eq((SELECT count(*) FROM account_days WHERE account_id = a), 2::bigint, 'two days');
    PERFORM pp_test_eq((SELECT close_equity::text FROM account_days WHERE account_id = a
                        ORDER BY trading_day LIMIT 1), e0, 'the old day closed at the last commit');
    -- the day list: newest first, a page of one, then the rest
    SELECT * INTO STRICT page FROM pp_list_days('rk-d', a, 1, NULL);
    PERFORM pp_test_eq(format('%s %s %s', page.status, jsonb_array_length(page.body::jsonb),
                              page.body::jsonb->0->>'start_equity'),
                       format('200 1 %s', e0), 'first page: today');
    PERFORM pp_test_eq(page.next_day IS NOT NULL, true, 'a next page');
    SELECT * INTO STRICT page FROM pp_list_days('rk-d', a, 1, page.next_day);
    PERFORM pp_test_eq(format('%s %s %s %s', jsonb_array_length(page.body::jsonb),
                              page.body::jsonb->0->>'fills', page.body::jsonb->0->>'close_equity',
                              page.next_day IS NULL),
                       format('1 1 %s t', e0), 'second page: the day of the fill, closed at e0');
    SELECT * INTO STRICT page FROM pp_list_days('rk-other-tenant', a, 10, NULL);
    PERFORM pp_test_eq(page.status, 404, 'another tenant''s account');
END
$$;

-- test: a reset starts a fresh history and keeps the old one frozen; closing freezes the marks against later prices
DO $$
DECLARE
    u bigint := pp_test_user('rk-a', 'rk-4', 'rk4@example.com');
    a uuid := pp_test_account('rk-a', u, 'rk4-a', 1000);
    b uuid := pp_test_account('rk-a', u, 'rk4-b', 1000);
    before account_risk;
    r account_risk;
BEGIN
    PERFORM pp_test_market('0xe270r', ARRAY['270021', '270022']);
    PERFORM pp_test_price('270021', 0.50, 0.52);
    PERFORM pp_test_place('rk-a', a, '270021', 'BUY', 'market', 100);
    PERFORM pp_test_place('rk-a', b, '270021', 'BUY', 'market', 100);
    PERFORM pp_test_price('270021', 0.10, 0.12);
    PERFORM pp_reset_account('rk-a', a, 100);
    PERFORM pp_test_eq((SELECT format('%s %s', count(*), count(*) FILTER (WHERE frozen))
                        FROM account_risk WHERE account_id = a), '2 1', 'two histories, the old frozen');
    SELECT * INTO STRICT r FROM account_risk WHERE account_id = a AND epoch = 1;
    PERFORM pp_test_eq(format('%s %s %s %s', r.equity, r.high_water_mark, r.low_water_mark,
                              r.max_drawdown), '1000.00 1000.00 1000.00 0', 'the new history');
    PERFORM pp_close_account('rk-a', b, 100);
    SELECT * INTO STRICT before FROM account_risk WHERE account_id = b;
    PERFORM pp_test_price('270021', 0.01, 0.03);
    SELECT * INTO STRICT r FROM account_risk WHERE account_id = b;
    PERFORM pp_test_eq(row_to_json(r)::text, row_to_json(before)::text, 'closed: frozen');
END
$$;
