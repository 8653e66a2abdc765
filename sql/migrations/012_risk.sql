-- The risk state the engine keeps for a firm's rule engine: per account and
-- history (a reset starts a new one; accounts.reset_count numbers them), the
-- equity after the last committed change, the trading day's start, high and
-- low, the high- and low-water marks and the largest drawdown; and one row
-- per trading day. Maintained by engine.pp_risk_commit (sql/functions/72_risk.sql)
-- at the end of every transaction that changes an account's equity or cash.

-- Where a tenant's trading day begins (the module writes it from
-- PolyPartnerTenantDayBoundary).
ALTER TABLE tenants
    ADD COLUMN day_boundary time NOT NULL DEFAULT '00:00',
    ADD COLUMN day_zone     text NOT NULL DEFAULT 'UTC';

CREATE TABLE account_risk (
    account_id          uuid NOT NULL REFERENCES accounts (id) ON UPDATE CASCADE,
    epoch               integer NOT NULL,          -- accounts.reset_count of this history
    started_at          timestamptz NOT NULL,
    equity              numeric NOT NULL,          -- after the last committed change
    balance             numeric NOT NULL,
    as_of               timestamptz NOT NULL,      -- when that change was committed
    trading_day         date NOT NULL,
    day_started_at      timestamptz NOT NULL,
    day_start_equity    numeric NOT NULL,
    day_start_balance   numeric NOT NULL,
    day_high_equity     numeric NOT NULL,
    day_high_at         timestamptz NOT NULL,
    day_low_equity      numeric NOT NULL,
    day_low_at          timestamptz NOT NULL,
    high_water_mark     numeric NOT NULL,
    high_water_mark_at  timestamptz NOT NULL,
    low_water_mark      numeric NOT NULL,
    low_water_mark_at   timestamptz NOT NULL,
    max_drawdown        numeric NOT NULL DEFAULT 0,
    trading_days        integer NOT NULL DEFAULT 0,
    last_fill_day       date,
    frozen              boolean NOT NULL DEFAULT false,   -- closed, or a past history
    PRIMARY KEY (account_id, epoch)
);

-- One row per trading day with activity or a roll; start values are set by
-- the first commit of the day (fills may be counted before it, in the same
-- transaction).
CREATE TABLE account_days (
    account_id       uuid NOT NULL,
    epoch            integer NOT NULL,
    trading_day      date NOT NULL,
    started_at       timestamptz,
    start_equity     numeric,
    start_balance    numeric,
    high_equity      numeric,
    low_equity       numeric,
    close_equity     numeric,
    fills            integer NOT NULL DEFAULT 0,
    traded_notional  numeric NOT NULL DEFAULT 0,
    fees             numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, epoch, trading_day),
    FOREIGN KEY (account_id, epoch) REFERENCES account_risk (account_id, epoch) ON UPDATE CASCADE
);

-- Existing accounts start their history now, at their current equity (the
-- envelope's definition, spelled out: the engine's functions are applied
-- after the migrations).
INSERT INTO account_risk (account_id, epoch, started_at, equity, balance, as_of, trading_day,
                          day_started_at, day_start_equity, day_start_balance, day_high_equity,
                          day_high_at, day_low_equity, day_low_at, high_water_mark,
                          high_water_mark_at, low_water_mark, low_water_mark_at, frozen)
SELECT a.id, a.reset_count, now(), e.equity, w.balance, now(), (now() AT TIME ZONE 'UTC')::date,
       date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', e.equity, w.balance,
       e.equity, now(), e.equity, now(), e.equity, now(), e.equity, now(), a.status = 'closed'
FROM accounts a
JOIN wallets w ON w.id = a.wallet_id
CROSS JOIN LATERAL (
    SELECT w.balance
           + coalesce((SELECT sum(o.reserved_cash) FROM orders o
                       WHERE o.wallet_id = w.id AND o.status = 'open'), 0)
           + coalesce((SELECT sum(round(p.quantity * coalesce(round(coalesce(
                          CASE WHEN t.best_bid IS NOT NULL AND t.best_ask IS NOT NULL
                               THEN (t.best_bid + t.best_ask) / 2 END,
                          t.midpoint, t.last_trade_price), 4), p.avg_entry_price), 2))
                       FROM positions p JOIN market_tokens t ON t.token_id = p.token_id
                       WHERE p.wallet_id = w.id AND p.closed_at IS NULL
                         AND p.archived_at IS NULL AND p.quantity > 0), 0) AS equity) e;

-- A price batch finds the holders of the tokens it moved.
CREATE INDEX positions_open_by_token ON positions (token_id)
    WHERE closed_at IS NULL AND archived_at IS NULL;
