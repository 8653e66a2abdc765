-- The hot-path functions rewritten for speed (issue 12: plans cached, the
-- wallet an index condition, an order page in one join) answer byte for byte
-- what they answered before. The definitions as they were (main at ea10aee;
-- pp_wallet_equity as issue 13 wrote it) are copied below into pg_temp, so
-- they live only in this test's transaction; every test seeds a mixed book
-- through the engine and compares the old and the new function on every id,
-- and on ids that do not exist.

-- engine.pp_account_envelope as it was: LANGUAGE sql with CTEs.
CREATE FUNCTION pg_temp.old_account_envelope(p_account_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH a AS (
        SELECT * FROM accounts WHERE id = p_account_id
    ), w AS (
        SELECT wallets.* FROM wallets JOIN a ON wallets.id = a.wallet_id
    ), reserved AS (
        SELECT coalesce(sum(o.reserved_cash), 0) AS cash
        FROM orders o JOIN a ON o.wallet_id = a.wallet_id
        WHERE o.status = 'open'
    ), open_positions AS (
        SELECT p.opened_at, p.id, m.condition_id, t.outcome, p.quantity, p.avg_entry_price,
               pp_mark_price(t, p.avg_entry_price) AS mark,
               round(p.quantity * pp_mark_price(t, p.avg_entry_price), 2) AS market_value,
               round(p.quantity * pp_mark_price(t, p.avg_entry_price), 2)
                 - round(p.quantity * p.avg_entry_price, 2) AS pnl
        FROM positions p
        JOIN a ON p.wallet_id = a.wallet_id
        JOIN market_tokens t ON t.token_id = p.token_id
        JOIN markets m ON m.condition_id = t.condition_id
        WHERE p.closed_at IS NULL AND p.archived_at IS NULL AND p.quantity > 0
    ), totals AS (
        SELECT w.balance + reserved.cash
               + coalesce((SELECT sum(market_value) FROM open_positions), 0) AS equity
        FROM w, reserved
    )
    SELECT format(
        '{"account_id":%s,"external_id":%s,"stage":%s,"status":%s,"balance":%s,'
        '"reserved_cash":%s,'
        '"starting_balance":%s,"equity":%s,"unrealized_pnl":%s,"realized_pnl":null,'
        '"open_positions":%s,"rules":%s,"metadata":%s,"updated_at":%s}',
        to_json(a.id), to_json(a.external_id), to_json(a.stage), to_json(a.status),
        pp_json_money(w.balance), pp_json_money(reserved.cash), pp_json_money(a.starting_balance),
        pp_json_money(totals.equity), pp_json_money(totals.equity - a.starting_balance),
        coalesce((SELECT '[' || string_agg(format(
            '{"market_id":%s,"outcome":%s,"quantity":%s,"avg_entry_price":%s,'
            '"current_price":%s,"market_value":%s,"unrealized_pnl":%s}',
            to_json(op.condition_id), to_json(op.outcome), pp_json_qty(op.quantity),
            pp_json_qty(op.avg_entry_price), pp_json_qty(op.mark),
            pp_json_money(op.market_value), pp_json_money(op.pnl)),
            ',' ORDER BY op.opened_at, op.id) || ']' FROM open_positions op), '[]'),
        a.rules, a.metadata, pp_json_time(a.created_at))
    FROM a, w, reserved, totals
$$;

-- api.pp_get_account as it was (a check, then the envelope: here the old one).
CREATE FUNCTION pg_temp.old_get_account(p_tenant text, p_account_id uuid)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE id = p_account_id AND tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_account_not_found();
        RETURN;
    END IF;
    RETURN QUERY SELECT 200, pg_temp.old_account_envelope(p_account_id);
END
$$;

-- engine.pp_wallet_equity as it was (issue 13): positions joined to market_tokens.
CREATE FUNCTION pg_temp.old_wallet_equity(p_wallet_id bigint, OUT equity numeric,
                                          OUT balance numeric)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT w.balance
           + coalesce((SELECT sum(o.reserved_cash) FROM orders o
                       WHERE o.wallet_id = w.id AND o.status = 'open'), 0)
           + coalesce((SELECT sum(round(p.quantity * pp_mark_price(t, p.avg_entry_price), 2))
                       FROM positions p JOIN market_tokens t ON t.token_id = p.token_id
                       WHERE p.wallet_id = w.id AND p.closed_at IS NULL
                         AND p.archived_at IS NULL AND p.quantity > 0), 0),
           w.balance
    INTO equity, balance
    FROM wallets w WHERE w.id = p_wallet_id;
END
$$;

-- engine.pp_order_json as it was: LANGUAGE sql.
CREATE FUNCTION pg_temp.old_order_json(p_order_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"order_id":%s,"account_id":%s,"client_order_id":%s,"market_id":%s,'
                  '"token_id":%s,"outcome":%s,"side":%s,"type":%s,"quantity":%s,'
                  '"limit_price":%s,"worst_price":%s,"status":%s,"reserved_cash":%s,'
                  '"created_at":%s,"cancelled_at":%s,"fill":%s}',
                  o.id, to_json(a.id), coalesce(to_json(o.client_order_id)::text, 'null'),
                  to_json(t.condition_id), to_json(o.token_id), to_json(t.outcome),
                  to_json(o.side), to_json(o.order_type), pp_json_qty(o.quantity),
                  pp_json_opt_qty(o.limit_price), pp_json_opt_qty(o.worst_price),
                  to_json(o.status), pp_json_money(o.reserved_cash),
                  pp_json_time_us(o.created_at),
                  coalesce(pp_json_time_us(o.cancelled_at), 'null'),
                  coalesce((SELECT pp_fill_json(f) FROM fills f WHERE f.order_id = o.id), 'null'))
    FROM orders o
    JOIN market_tokens t ON t.token_id = o.token_id
    JOIN accounts a ON a.wallet_id = o.wallet_id
    WHERE o.id = p_order_id
$$;

-- api.pp_list_orders as it was (one pp_order_json per order, here the old one).
CREATE FUNCTION pg_temp.old_list_orders(p_tenant text, p_account_id uuid, p_limit integer,
                                        p_before_id bigint)
RETURNS TABLE (status integer, body text, next_order_id bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a accounts;
    v_ids bigint[];
BEGIN
    SELECT * INTO a FROM accounts WHERE id = p_account_id AND tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT n.status, n.body, NULL::bigint FROM pp_account_not_found() n;
        RETURN;
    END IF;
    SELECT array_agg(id ORDER BY id DESC) INTO v_ids FROM (
        SELECT id FROM orders
        WHERE wallet_id = a.wallet_id AND (p_before_id IS NULL OR id < p_before_id)
        ORDER BY id DESC LIMIT p_limit + 1) s;
    RETURN QUERY SELECT 200,
        '[' || coalesce((SELECT string_agg(pg_temp.old_order_json(x.id), ',' ORDER BY x.n)
                         FROM unnest(v_ids[1:p_limit]) WITH ORDINALITY AS x(id, n)), '') || ']',
        CASE WHEN coalesce(array_length(v_ids, 1), 0) > p_limit THEN v_ids[p_limit] END;
END
$$;

-- api.pp_session_user and api.pp_trader_account_tenant as they were: LANGUAGE sql.
CREATE FUNCTION pg_temp.old_session_user(p_session_hash bytea) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT user_id FROM sessions
    WHERE session_hash = p_session_hash AND ended_at IS NULL AND expires_at > now()
$$;

CREATE FUNCTION pg_temp.old_trader_account_tenant(p_user_id bigint, p_account_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT tenant FROM accounts WHERE id = p_account_id AND user_id = p_user_id
$$;

-- The mixed book: 3 tenants, 13 accounts (one trader in two tenants), 8
-- outcome tokens priced every way a mark can be taken (both sides, midpoint
-- only, last trade only, no price: the entry price), positions from filled
-- market and limit orders, partly and fully sold, settled, archived by a reset;
-- resting BUY (reserved cash) and SELL (reserved shares) orders, cancelled
-- ones, a closed account, an account that never traded, a fixture position of
-- quantity 0, positions opened at the same instant (ordered by id), an order
-- of a personal wallet (no account), names that JSON must escape, and
-- sessions live, ended and expired.
CREATE FUNCTION pg_temp.seed() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    u bigint[];
    acc uuid[];
    w bigint;
    tok text[] := ARRAY['8101', '8102', '8201', '8202', '8301', '8302', '8401', '8402'];
    r record;
    i integer;
    k integer;
BEGIN
    PERFORM pp_test_market('0xhot1', ARRAY['8101', '8102']);
    PERFORM pp_test_market('0xhot2', ARRAY['8201', '8202']);
    PERFORM pp_test_market('0xhot3', ARRAY['8301', '8302'], 0.001);
    PERFORM pp_test_market('0xhot4', ARRAY['8401', '8402']);
    PERFORM pp_test_price('8101', 0.41, 0.47);
    PERFORM pp_test_price('8102', 0.52, 0.56);
    PERFORM pp_test_price('8201', 0.123, 0.129);
    PERFORM pp_test_price('8202', 0.87, 0.881);
    PERFORM pp_test_price('8301', 0.333, 0.336);
    PERFORM pp_test_price('8302', 0.661, 0.667);
    PERFORM pp_test_price('8401', 0.05, 0.07);
    PERFORM pp_test_price('8402', 0.91, 0.95);

    FOR i IN 1..12 LOOP
        u[i] := pp_test_user('hot-' || (i % 3), 'hot-trader-' || i, 'hot' || i || '@example.com');
        acc[i] := pp_test_account('hot-' || (i % 3), u[i],
            CASE i WHEN 5 THEN 'acc "quoted" \ back/slash é ✓' ELSE 'hot-acc-' || i END,
            1000 + i * 1234.56, (ARRAY['demo', 'challenge', 'funded'])[1 + i % 3],
            jsonb_build_object('max_drawdown', '0.1' || i, 'note', 'tab	and "q"'),
            jsonb_build_object('seq', i, 'ü', 'ß'));
    END LOOP;
    -- trader 1 also in tenant hot-2, with a second account there
    PERFORM pp_test_user('hot-2', 'hot-trader-1-again', 'hot1@example.com');
    acc[13] := pp_test_account('hot-2', u[1], 'hot-acc-13', 500);

    -- positions: market BUYs (fees at several rates), quantities with 4 decimals
    FOR i IN 1..13 LOOP
        CONTINUE WHEN i = 12;   -- account 12 never trades
        FOR k IN 1..(1 + i % 6) LOOP
            SELECT * INTO STRICT r FROM pp_place_order(
                (SELECT tenant FROM accounts WHERE id = acc[i]), acc[i], tok[1 + (i + k) % 8],
                'BUY', 'market', round(1.2345 * k * i, 4), NULL, CASE WHEN k = 2 THEN 0.99 END,
                CASE WHEN k % 2 = 0 THEN 'mkt-' || k END, (k % 3) * 0.001, 0);
            ASSERT r.status = 201, format('seed market BUY %s/%s: %s %s', i, k, r.status, r.body);
        END LOOP;
    END LOOP;

    -- resting BUY limits (cash reserved), a crossing limit that fills at once,
    -- resting SELL limits (shares reserved), cancelled orders
    FOR i IN 1..11 LOOP
        SELECT * INTO STRICT r FROM pp_place_order(
            (SELECT tenant FROM accounts WHERE id = acc[i]), acc[i], tok[1 + i % 8], 'BUY',
            'limit', 3.5 + i, CASE WHEN tok[1 + i % 8] LIKE '83%' THEN 0.011 ELSE 0.01 END, NULL,
            CASE WHEN i % 2 = 1 THEN 'rest-' || i END, 0.002, 0);
        ASSERT r.status = 201, format('seed resting BUY %s: %s %s', i, r.status, r.body);
        IF i % 3 = 0 THEN
            PERFORM pp_cancel_order((SELECT tenant FROM accounts WHERE id = acc[i]), acc[i],
                                    (r.body::jsonb->>'order_id')::bigint);
        END IF;
        IF i % 4 = 1 THEN
            SELECT * INTO STRICT r FROM pp_place_order(
                (SELECT tenant FROM accounts WHERE id = acc[i]), acc[i], '8102', 'BUY', 'limit',
                2, 0.60, NULL, 'cross-' || i, 0.001, 0);
            ASSERT r.status = 201 AND r.body::jsonb->>'status' = 'filled',
                format('seed crossing limit %s: %s %s', i, r.status, r.body);
        END IF;
        SELECT * INTO r FROM positions p JOIN accounts a ON a.wallet_id = p.wallet_id
        WHERE a.id = acc[i] AND p.closed_at IS NULL ORDER BY p.id LIMIT 1;
        IF FOUND AND i % 2 = 0 THEN
            SELECT * INTO STRICT r FROM pp_place_order(
                (SELECT tenant FROM accounts WHERE id = acc[i]), acc[i], r.token_id, 'SELL',
                'limit', 1, 0.99, NULL, NULL, 0, 0);
            ASSERT r.status = 201, format('seed resting SELL %s: %s %s', i, r.status, r.body);
        END IF;
    END LOOP;

    -- sold back: one position in full (closed), one in part
    FOR i IN 3..9 BY 3 LOOP
        FOR r IN SELECT p.token_id, p.quantity - p.reserved_quantity AS free, n
                 FROM (SELECT p.*, row_number() OVER (ORDER BY p.id) AS n
                       FROM positions p JOIN accounts a ON a.wallet_id = p.wallet_id
                       WHERE a.id = acc[i] AND p.closed_at IS NULL) p
                 WHERE n <= 2 LOOP
            PERFORM pp_place_order((SELECT tenant FROM accounts WHERE id = acc[i]), acc[i],
                r.token_id, 'SELL', 'market', CASE WHEN r.n = 1 THEN r.free ELSE 1 END, NULL,
                NULL, NULL, 0.001, 0);
        END LOOP;
    END LOOP;

    -- a settled market: its positions closed with their quantity kept
    PERFORM pp_test_market('0xhot5', ARRAY['8501', '8502']);
    PERFORM pp_test_price('8501', 0.60, 0.62);
    FOR i IN 1..4 LOOP
        SELECT * INTO STRICT r FROM pp_place_order(
            (SELECT tenant FROM accounts WHERE id = acc[i]), acc[i], '8501', 'BUY', 'market',
            2.5 * i, NULL, NULL, NULL, 0, 0);
        ASSERT r.status = 201, format('seed BUY to settle %s: %s %s', i, r.status, r.body);
    END LOOP;
    PERFORM pp_settle_market('0xhot5', '8501');

    -- account 7 reset (positions archived, orders cancelled), then buys again;
    -- account 10 closed (its resting orders cancelled, positions kept)
    PERFORM pp_reset_account('hot-1', acc[7], 100);
    PERFORM pp_place_order('hot-1', acc[7], '8401', 'BUY', 'market', 9, NULL, NULL, NULL, 0, 0);
    PERFORM pp_close_account('hot-1', acc[10], 100);

    -- prices move: midpoint only, last trade only, no price at all (marks at
    -- the entry price, unrounded)
    UPDATE market_tokens SET best_bid = NULL, best_ask = NULL, midpoint = 0.4321
    WHERE token_id = '8202';
    UPDATE market_tokens SET best_bid = 0.30, best_ask = NULL, midpoint = NULL,
                             last_trade_price = 0.3125
    WHERE token_id = '8301';
    UPDATE market_tokens SET best_bid = NULL, best_ask = NULL, midpoint = NULL,
                             last_trade_price = NULL
    WHERE token_id = '8402';

    -- a fixture position of quantity 0, and positions opened at the same instant
    w := pp_test_wallet(acc[11]);
    INSERT INTO positions (wallet_id, token_id, quantity, avg_entry_price)
    SELECT w, t, 0, 0.5 FROM unnest(tok) t
    WHERE NOT EXISTS (SELECT 1 FROM positions p WHERE p.wallet_id = w AND p.token_id = t
                        AND p.closed_at IS NULL AND p.archived_at IS NULL)
    LIMIT 1;
    UPDATE positions SET opened_at = timestamptz '2026-01-02 03:04:05.678901+00'
    WHERE wallet_id IN (pp_test_wallet(acc[2]), pp_test_wallet(acc[5]));
    UPDATE positions SET avg_entry_price = 0.123456 WHERE wallet_id = pp_test_wallet(acc[4])
        AND token_id = '8402';

    -- an order of a personal wallet: it has no account
    PERFORM pp_engine_rest_limit_order(pp_test_personal_wallet(u[4]), '8101', 'BUY', 2, 0.02);

    -- sessions: live (three), ended, expired
    PERFORM pp_test_session('hot-1', u[1], 'hot-s1');
    PERFORM pp_test_session('hot-2', u[2], 'hot-s2');
    PERFORM pp_test_session('hot-0', u[3], 'hot-s3');
    PERFORM pp_test_session('hot-1', u[4], 'hot-s4');
    PERFORM pp_session_end(pp_test_digest('hot-s4-session'));
    PERFORM pp_test_session('hot-2', u[5], 'hot-s5');
    UPDATE sessions SET created_at = now() - interval '2 hours',
                        expires_at = now() - interval '1 hour'
    WHERE session_hash = pp_test_digest('hot-s5-session');
END
$$;

-- test: pp_account_envelope is byte-identical to the old one for every account and unknown ids
DO $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    PERFORM pg_temp.seed();
    -- the seed covers what it claims
    ASSERT (SELECT count(DISTINCT tenant) FROM accounts WHERE tenant LIKE 'hot-%') = 3, 'tenants';
    ASSERT EXISTS (SELECT 1 FROM accounts WHERE status = 'closed'), 'a closed account';
    ASSERT EXISTS (SELECT 1 FROM accounts WHERE reset_count > 0), 'a reset account';
    ASSERT EXISTS (SELECT 1 FROM positions WHERE archived_at IS NOT NULL), 'archived positions';
    ASSERT EXISTS (SELECT 1 FROM positions WHERE closed_at IS NOT NULL AND quantity = 0),
        'positions sold back';
    ASSERT EXISTS (SELECT 1 FROM positions WHERE closed_at IS NOT NULL AND quantity > 0),
        'positions settled';
    ASSERT EXISTS (SELECT 1 FROM orders WHERE status = 'open' AND reserved_cash > 0), 'reserved cash';
    ASSERT EXISTS (SELECT 1 FROM orders WHERE status = 'open' AND reserved_shares > 0), 'reserved shares';
    ASSERT (SELECT count(*) FROM positions WHERE closed_at IS NULL AND archived_at IS NULL) >= 40,
        'open positions';
    FOR r IN SELECT id FROM accounts
             UNION ALL SELECT gen_random_uuid() UNION ALL SELECT NULL::uuid LOOP
        IF pp_account_envelope(r.id) IS DISTINCT FROM pg_temp.old_account_envelope(r.id) THEN
            RAISE EXCEPTION 'pp_account_envelope(%) differs:% old % % new %', r.id, chr(10),
                coalesce(pg_temp.old_account_envelope(r.id), 'NULL'), chr(10),
                coalesce(pp_account_envelope(r.id), 'NULL');
        END IF;
        n := n + 1;
    END LOOP;
    PERFORM pp_test_eq(n, 15, 'envelopes compared');
END
$$;

-- test: pp_get_account answers what it answered for every account under every tenant, and unknown ids
DO $$
DECLARE
    r record;
    v_new record;
    v_old record;
    n integer := 0;
BEGIN
    PERFORM pg_temp.seed();
    FOR r IN SELECT t.tenant, a.id
             FROM (SELECT DISTINCT tenant FROM accounts UNION ALL SELECT 'no-such-tenant') t,
                  (SELECT id FROM accounts UNION ALL SELECT gen_random_uuid()
                   UNION ALL SELECT NULL::uuid) a LOOP
        SELECT * INTO STRICT v_new FROM pp_get_account(r.tenant, r.id);
        SELECT * INTO STRICT v_old FROM pg_temp.old_get_account(r.tenant, r.id);
        -- since issue 13 the envelope ends with its risk object
        IF v_old.status = 200 THEN
            v_old.body := left(v_old.body, -1) || ',"risk":' || pp_risk_json(r.id) || '}';
        END IF;
        IF (v_new.status, v_new.body) IS DISTINCT FROM (v_old.status, v_old.body) THEN
            RAISE EXCEPTION 'pp_get_account(%, %) differs:% old % % % new % %', r.tenant, r.id,
                chr(10), v_old.status, v_old.body, chr(10), v_new.status, v_new.body;
        END IF;
        n := n + 1;
    END LOOP;
    PERFORM pp_test_eq(n, 4 * 15, 'answers compared');
END
$$;

-- test: pp_wallet_equity is identical to the old one for every wallet and unknown ids
DO $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    PERFORM pg_temp.seed();
    FOR r IN SELECT id FROM wallets UNION ALL SELECT -1 UNION ALL SELECT NULL::bigint LOOP
        IF (SELECT row(e.equity::text, e.balance::text) FROM pp_wallet_equity(r.id) e)
           IS DISTINCT FROM
           (SELECT row(e.equity::text, e.balance::text) FROM pg_temp.old_wallet_equity(r.id) e) THEN
            RAISE EXCEPTION 'pp_wallet_equity(%) differs: old %, new %', r.id,
                (SELECT row(e.*) FROM pg_temp.old_wallet_equity(r.id) e),
                (SELECT row(e.*) FROM pp_wallet_equity(r.id) e);
        END IF;
        n := n + 1;
    END LOOP;
    ASSERT n >= 26, format('only %s wallets compared', n);
END
$$;

-- test: pp_order_json is byte-identical to the old one for every order and unknown ids
DO $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    PERFORM pg_temp.seed();
    ASSERT (SELECT count(DISTINCT (status, order_type, side, client_order_id IS NULL,
                                   worst_price IS NULL))
            FROM orders) >= 8, 'orders of many kinds';
    FOR r IN SELECT id FROM orders UNION ALL SELECT -1 UNION ALL SELECT NULL::bigint LOOP
        IF pp_order_json(r.id) IS DISTINCT FROM pg_temp.old_order_json(r.id) THEN
            RAISE EXCEPTION 'pp_order_json(%) differs:% old % % new %', r.id, chr(10),
                coalesce(pg_temp.old_order_json(r.id), 'NULL'), chr(10),
                coalesce(pp_order_json(r.id), 'NULL');
        END IF;
        n := n + 1;
    END LOOP;
    ASSERT n > 60, format('only %s orders compared', n);
    ASSERT EXISTS (SELECT 1 FROM orders o WHERE pp_order_json(o.id) IS NULL),
        'an order without an account (NULL)';
END
$$;

-- test: pp_list_orders is byte-identical to the old one for every account, page size and cursor
DO $$
DECLARE
    r record;
    v_new record;
    v_old record;
    n integer := 0;
BEGIN
    PERFORM pg_temp.seed();
    FOR r IN
        SELECT a.tenant, a.id, lim, before_id
        FROM (SELECT tenant, id, wallet_id FROM accounts
              UNION ALL SELECT 'hot-1', gen_random_uuid(), NULL) a,
             unnest(ARRAY[1, 2, 3, 100]) lim,
             LATERAL (SELECT NULL::bigint AS before_id
                      UNION ALL SELECT o.id FROM orders o WHERE o.wallet_id = a.wallet_id
                      UNION ALL SELECT 1) b
        UNION ALL  -- another tenant's account
        SELECT 'hot-0', id, 100, NULL FROM accounts WHERE tenant = 'hot-1'
    LOOP
        SELECT * INTO STRICT v_new FROM pp_list_orders(r.tenant, r.id, r.lim, r.before_id);
        SELECT * INTO STRICT v_old FROM pg_temp.old_list_orders(r.tenant, r.id, r.lim, r.before_id);
        IF (v_new.status, v_new.body, v_new.next_order_id)
           IS DISTINCT FROM (v_old.status, v_old.body, v_old.next_order_id) THEN
            RAISE EXCEPTION 'pp_list_orders(%, %, %, %) differs:% old % % % % new % % %',
                r.tenant, r.id, r.lim, r.before_id, chr(10), v_old.status, v_old.body,
                v_old.next_order_id, chr(10), v_new.status, v_new.body, v_new.next_order_id;
        END IF;
        n := n + 1;
    END LOOP;
    ASSERT n > 300, format('only %s pages compared', n);
END
$$;

-- test: pp_session_user and pp_trader_account_tenant are identical to the old ones
DO $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    PERFORM pg_temp.seed();
    FOR r IN SELECT session_hash AS h FROM sessions
             UNION ALL SELECT pp_test_digest('no such session') UNION ALL SELECT NULL LOOP
        IF pp_session_user(r.h) IS DISTINCT FROM pg_temp.old_session_user(r.h) THEN
            RAISE EXCEPTION 'pp_session_user(%) differs: old %, new %', r.h,
                pg_temp.old_session_user(r.h), pp_session_user(r.h);
        END IF;
        n := n + 1;
    END LOOP;
    PERFORM pp_test_eq(n, 7, 'sessions compared');
    PERFORM pp_test_eq((SELECT count(*) FROM sessions WHERE pp_session_user(session_hash) IS NOT NULL),
                       3::bigint, 'live sessions');
    n := 0;
    FOR r IN SELECT u.id AS user_id, a.id AS account_id
             FROM (SELECT id FROM users UNION ALL SELECT -1) u,
                  (SELECT id FROM accounts UNION ALL SELECT gen_random_uuid()) a LOOP
        IF pp_trader_account_tenant(r.user_id, r.account_id)
           IS DISTINCT FROM pg_temp.old_trader_account_tenant(r.user_id, r.account_id) THEN
            RAISE EXCEPTION 'pp_trader_account_tenant(%, %) differs', r.user_id, r.account_id;
        END IF;
        n := n + 1;
    END LOOP;
    ASSERT n >= 13 * 14, format('only %s pairs compared', n);
END
$$;
