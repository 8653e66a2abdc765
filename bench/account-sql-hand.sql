-- bench/account-sql-hand.sql: one hand-written query returning the account-state
-- envelope of seeded account :i exactly as api.pp_get_account answers it (the
-- bench checks that byte for byte), for comparing the function's cost with
-- the cost of the bare query. Runs as a pgbench script and, with its
-- variable replaced, in psql; pgbench takes any colon followed by a letter
-- for a variable, hence the "realized_pnl" null as an argument and the time
-- format's quoted colons.
SELECT 200 AS status, format(
        '{"account_id":%s,"external_id":%s,"stage":%s,"status":%s,"balance":%s,'
        '"reserved_cash":%s,"starting_balance":%s,"equity":%s,"unrealized_pnl":%s,'
        '"realized_pnl":%s,"open_positions":%s,"rules":%s,"metadata":%s,"updated_at":%s}',
        to_json(a.id), to_json(a.external_id), to_json(a.stage), to_json(a.status),
        to_json(round(w.balance, 2)::text), to_json(round(r.cash, 2)::text),
        to_json(round(a.starting_balance, 2)::text),
        to_json(round(w.balance + r.cash + op.value, 2)::text),
        to_json(round(w.balance + r.cash + op.value - a.starting_balance, 2)::text),
        'null', op.list, a.rules, a.metadata,
        to_json(to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"'))) AS body
FROM public.accounts a
JOIN public.wallets w ON w.id = a.wallet_id
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
