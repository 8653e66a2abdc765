-- The account-state envelope shows the cash its open orders reserve.
--
-- Equity counts that cash (so placing or cancelling an order leaves equity
-- still), but the envelope did not show it, so equity could not be
-- reconciled from the body. "reserved_cash" (after "balance") makes
-- equity = balance + reserved_cash + sum of open_positions[].market_value
-- hold field by field. Additive: every other field is unchanged.
CREATE OR REPLACE FUNCTION pp_account_envelope(p_account_id uuid) RETURNS text
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
