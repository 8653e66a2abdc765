-- bench/account-sql-hand.sql: one hand-written query returning the account state
-- of seeded account :i (the envelope and its risk object, issue 13) exactly as
-- api.pp_get_account answers it (the bench checks that byte for byte), for
-- comparing the function's cost with the cost of the bare query. Runs as a
-- pgbench script and, with its variable replaced, in psql; pgbench takes any
-- colon followed by a letter for a variable, hence the "realized_pnl" null as
-- an argument and the time formats' quoted colons.
SELECT 200 AS status, format(
        '{"account_id":%s,"external_id":%s,"stage":%s,"status":%s,"balance":%s,'
        '"reserved_cash":%s,"starting_balance":%s,"equity":%s,"unrealized_pnl":%s,'
        '"realized_pnl":%s,"open_positions":%s,"rules":%s,"metadata":%s,"updated_at":%s%s}',
        to_json(a.id), to_json(a.external_id), to_json(a.stage), to_json(a.status),
        to_json(round(w.balance, 2)::text), to_json(round(r.cash, 2)::text),
        to_json(round(a.starting_balance, 2)::text),
        to_json(round(w.balance + r.cash + op.value, 2)::text),
        to_json(round(w.balance + r.cash + op.value - a.starting_balance, 2)::text),
        'null', op.list, a.rules, a.metadata,
        to_json(to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')),
        coalesce(',"risk":' || rk.json, '')) AS body
FROM public.accounts a
JOIN public.wallets w ON w.id = a.wallet_id
-- the risk object: the current history, its day rolled to today when nothing
-- was committed since the tenant's day boundary (unless frozen)
LEFT JOIN LATERAL (
    SELECT format(
        '{"trading_day":%s,"day_started_at":%s,"day_start_equity":%s,"day_start_balance":%s,'
        '"day_high_equity":%s,"day_high_at":%s,"day_low_equity":%s,"day_low_at":%s,'
        '"high_water_mark":%s,"high_water_mark_at":%s,"low_water_mark":%s,'
        '"low_water_mark_at":%s,"max_drawdown":%s,"trading_days":%s,"as_of":%s}',
        to_json((CASE WHEN x.rolled THEN d.trading_day ELSE ar.trading_day END)::text),
        to_json(to_char(x.day_started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')),
        to_json(round(CASE WHEN x.rolled THEN ar.equity ELSE ar.day_start_equity END, 2)::text),
        to_json(round(CASE WHEN x.rolled THEN ar.balance ELSE ar.day_start_balance END, 2)::text),
        to_json(round(CASE WHEN x.rolled THEN ar.equity ELSE ar.day_high_equity END, 2)::text),
        to_json(to_char(CASE WHEN x.rolled THEN d.started_at ELSE ar.day_high_at END
                        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')),
        to_json(round(CASE WHEN x.rolled THEN ar.equity ELSE ar.day_low_equity END, 2)::text),
        to_json(to_char(CASE WHEN x.rolled THEN d.started_at ELSE ar.day_low_at END
                        AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')),
        to_json(round(ar.high_water_mark, 2)::text),
        to_json(to_char(ar.high_water_mark_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')),
        to_json(round(ar.low_water_mark, 2)::text),
        to_json(to_char(ar.low_water_mark_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')),
        to_json(round(ar.max_drawdown, 2)::text), ar.trading_days,
        to_json(to_char(greatest(ar.as_of, x.day_started_at) AT TIME ZONE 'UTC',
                        'YYYY-MM-DD"T"HH24":"MI":"SS"Z"'))) AS json
    FROM public.account_risk ar
    JOIN public.tenants tn ON tn.name = a.tenant
    CROSS JOIN LATERAL (SELECT clock_timestamp() AT TIME ZONE tn.day_zone AS local) l
    CROSS JOIN LATERAL (
        SELECT l.local::date - CASE WHEN l.local::time < tn.day_boundary THEN 1 ELSE 0 END
               AS start_date) s
    CROSS JOIN LATERAL (
        SELECT (s.start_date + tn.day_boundary) AT TIME ZONE tn.day_zone AS started_at,
               s.start_date + CASE WHEN tn.day_boundary >= '12:00' THEN 1 ELSE 0 END AS trading_day) d
    CROSS JOIN LATERAL (
        SELECT NOT ar.frozen AND d.started_at <> ar.day_started_at AS rolled,
               CASE WHEN NOT ar.frozen AND d.started_at <> ar.day_started_at
                    THEN d.started_at ELSE ar.day_started_at END AS day_started_at) x
    WHERE ar.account_id = a.id AND ar.epoch = a.reset_count) rk ON true
CROSS JOIN LATERAL (
    SELECT coalesce(sum(o.reserved_cash), 0) AS cash
    FROM public.orders o
    WHERE o.wallet_id = a.wallet_id AND o.status = 'open') r
CROSS JOIN LATERAL (
    SELECT coalesce(sum(x.value), 0) AS value,
           coalesce('[' || string_agg(format(
               '{"market_id":%s,"outcome":%s,"quantity":%s,"avg_entry_price":%s,'
               '"current_price":%s,"market_value":%s,"unrealized_pnl":%s}',
               to_json(x.condition_id), to_json(x.outcome), to_json(round(x.quantity, 4)::text),
               to_json(round(x.avg_entry_price, 4)::text), to_json(round(x.mark, 4)::text),
               to_json(x.value::text),
               to_json((x.value - round(x.quantity * x.avg_entry_price, 2))::text)),
               ',' ORDER BY x.opened_at, x.id) || ']', '[]') AS list
    FROM (SELECT p.opened_at, p.id, t.condition_id, t.outcome, p.quantity, p.avg_entry_price,
                 t.mark, round(p.quantity * t.mark, 2) AS value
          FROM public.positions p
          CROSS JOIN LATERAL (
              SELECT t.condition_id, t.outcome,
                     coalesce(round(coalesce(
                         CASE WHEN t.best_bid IS NOT NULL AND t.best_ask IS NOT NULL
                              THEN (t.best_bid + t.best_ask) / 2 END,
                         t.midpoint, t.last_trade_price), 4), p.avg_entry_price) AS mark
              FROM public.market_tokens t WHERE t.token_id = p.token_id OFFSET 0) t
          WHERE p.wallet_id = a.wallet_id AND p.closed_at IS NULL AND p.archived_at IS NULL
            AND p.quantity > 0) x) op
WHERE a.id = public.bench_account_id(:i::integer) AND a.tenant = 'bench-' || (:i::integer % 3);
