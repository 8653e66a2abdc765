-- The risk state of accounts (tables: migration 012). Equity is the account
-- envelope's: balance + reserved cash + open positions at their marks. The
-- marks below are the extremes of equity taken after every committed
-- transaction that changes it: each API or price-feed function that can move
-- an account's equity or cash ends with pp_risk_commit for those accounts,
-- which locks their risk rows (in account order) and only then reads equity,
-- so the rows follow the accounts' commit order exactly.

-- The trading day of a tenant at p_at: it begins at the tenant's boundary
-- (local time in its zone, daylight saving included) and carries the date of
-- its larger part: the start's date for a boundary before 12:00, the next
-- date from 12:00 on (17:00 New York: the day starting on the 6th is the 7th).
CREATE OR REPLACE FUNCTION engine.pp_trading_day(p_tenant text, p_at timestamptz,
                                                 OUT trading_day date, OUT started_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_boundary time;
    v_zone text;
    v_local timestamp;
    v_start date;
BEGIN
    SELECT t.day_boundary, t.day_zone INTO v_boundary, v_zone FROM tenants t
    WHERE t.name = p_tenant;
    v_boundary := coalesce(v_boundary, '00:00');
    v_zone := coalesce(v_zone, 'UTC');
    v_local := p_at AT TIME ZONE v_zone;
    v_start := v_local::date - CASE WHEN v_local::time < v_boundary THEN 1 ELSE 0 END;
    started_at := (v_start + v_boundary) AT TIME ZONE v_zone;
    trading_day := v_start + CASE WHEN v_boundary >= '12:00' THEN 1 ELSE 0 END;
END
$$;

-- A wallet's equity and cash now, exactly as pp_account_envelope adds them up.
CREATE OR REPLACE FUNCTION engine.pp_wallet_equity(p_wallet_id bigint, OUT equity numeric,
                                                   OUT balance numeric)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT w.balance
           + coalesce((SELECT sum(o.reserved_cash) FROM orders o
                       WHERE o.wallet_id = w.id AND o.status = 'open'), 0)
           + coalesce((SELECT sum(round(p.quantity * t.mark, 2))
                       FROM positions p
                       CROSS JOIN LATERAL (
                           -- OFFSET 0: one index lookup per position (as in the
                           -- envelope); joined plainly, a small market_tokens is
                           -- hashed whole at every call
                           SELECT pp_mark_price(t, p.avg_entry_price) AS mark
                           FROM market_tokens t WHERE t.token_id = p.token_id OFFSET 0) t
                       WHERE p.wallet_id = w.id AND p.closed_at IS NULL
                         AND p.archived_at IS NULL AND p.quantity > 0), 0),
           w.balance
    INTO equity, balance
    FROM wallets w WHERE w.id = p_wallet_id;
END
$$;

-- A new history for an account (creation, reset): its marks and today's
-- start values are the account's equity now; the day itself began at the
-- tenant's boundary.
CREATE OR REPLACE FUNCTION engine.pp_risk_start(p_account_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a accounts;
    e record;
    d record;
    v_now timestamptz := clock_timestamp();
BEGIN
    SELECT * INTO STRICT a FROM accounts WHERE id = p_account_id;
    SELECT * INTO STRICT e FROM pp_wallet_equity(a.wallet_id);
    SELECT * INTO STRICT d FROM pp_trading_day(a.tenant, v_now);
    UPDATE account_risk SET frozen = true WHERE account_id = a.id AND epoch < a.reset_count;
    INSERT INTO account_risk (account_id, epoch, started_at, equity, balance, as_of, trading_day,
                              day_started_at, day_start_equity, day_start_balance,
                              day_high_equity, day_high_at, day_low_equity, day_low_at,
                              high_water_mark, high_water_mark_at, low_water_mark,
                              low_water_mark_at)
    VALUES (a.id, a.reset_count, v_now, e.equity, e.balance, v_now, d.trading_day, d.started_at,
            e.equity, e.balance, e.equity, v_now, e.equity, v_now, e.equity, v_now, e.equity,
            v_now);
    INSERT INTO account_days (account_id, epoch, trading_day, started_at, start_equity,
                              start_balance, high_equity, low_equity, close_equity)
    VALUES (a.id, a.reset_count, d.trading_day, d.started_at, e.equity, e.balance, e.equity,
            e.equity, e.equity);
END
$$;

-- Counts a fill in its account's trading day (called by pp_engine_fill; the
-- day's start values are set by the pp_risk_commit that ends the transaction).
CREATE OR REPLACE FUNCTION engine.pp_risk_note_fill(p_wallet_id bigint, p_notional numeric,
                                                    p_fee numeric) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a accounts;
    d record;
BEGIN
    SELECT * INTO a FROM accounts WHERE wallet_id = p_wallet_id;
    IF NOT FOUND THEN
        RETURN;   -- a personal wallet: no account, no risk state
    END IF;
    SELECT * INTO STRICT d FROM pp_trading_day(a.tenant, clock_timestamp());
    INSERT INTO account_days AS ad (account_id, epoch, trading_day, fills, traded_notional, fees)
    VALUES (a.id, a.reset_count, d.trading_day, 1, p_notional, p_fee)
    ON CONFLICT (account_id, epoch, trading_day) DO UPDATE
    SET fills = ad.fills + 1, traded_notional = ad.traded_notional + p_notional,
        fees = ad.fees + p_fee;
END
$$;

-- The history r as of a new trading day d: nothing has been committed since
-- its boundary, so the day starts (and ranges) at the equity and cash of the
-- last commit. r unchanged when d is the day r is already in (told by the
-- day's start instant: a boundary moved by the tenant may keep the date).
CREATE OR REPLACE FUNCTION engine.pp_risk_rolled(r account_risk, p_day date,
                                                 p_started_at timestamptz)
RETURNS account_risk
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_started_at <> r.day_started_at THEN
        r.trading_day := p_day;
        r.day_started_at := p_started_at;
        r.day_start_equity := r.equity;
        r.day_start_balance := r.balance;
        r.day_high_equity := r.equity;
        r.day_high_at := p_started_at;
        r.day_low_equity := r.equity;
        r.day_low_at := p_started_at;
    END IF;
    RETURN r;
END
$$;

-- Brings the risk rows of these accounts up to their equity and cash now.
-- Rows are locked in account order before equity is read, so a concurrent
-- transaction's commit is either wholly seen or waits for this one.
CREATE OR REPLACE FUNCTION engine.pp_risk_commit(p_account_ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r account_risk;
    a accounts;
    e record;
    d record;
    day account_days;
    v_now timestamptz;
BEGIN
    FOR r IN
        SELECT ar.* FROM account_risk ar
        JOIN accounts ac ON ac.id = ar.account_id AND ar.epoch = ac.reset_count
        WHERE ar.account_id = ANY (p_account_ids) AND NOT ar.frozen
        ORDER BY ar.account_id
        FOR UPDATE OF ar
    LOOP
        v_now := clock_timestamp();
        SELECT * INTO STRICT a FROM accounts WHERE id = r.account_id;
        SELECT * INTO STRICT e FROM pp_wallet_equity(a.wallet_id);
        SELECT * INTO STRICT d FROM pp_trading_day(a.tenant, v_now);
        IF d.started_at <> r.day_started_at THEN
            -- the old day closed at the last commit
            UPDATE account_days SET close_equity = r.equity
            WHERE account_id = r.account_id AND epoch = r.epoch AND trading_day = r.trading_day;
            r := pp_risk_rolled(r, d.trading_day, d.started_at);
        END IF;
        IF e.equity > r.day_high_equity THEN
            r.day_high_equity := e.equity;
            r.day_high_at := v_now;
        END IF;
        IF e.equity < r.day_low_equity THEN
            r.day_low_equity := e.equity;
            r.day_low_at := v_now;
        END IF;
        IF e.equity > r.high_water_mark THEN
            r.high_water_mark := e.equity;
            r.high_water_mark_at := v_now;
        END IF;
        IF e.equity < r.low_water_mark THEN
            r.low_water_mark := e.equity;
            r.low_water_mark_at := v_now;
        END IF;
        r.max_drawdown := greatest(r.max_drawdown, r.high_water_mark - e.equity);
        IF e.equity IS DISTINCT FROM r.equity OR e.balance IS DISTINCT FROM r.balance THEN
            r.as_of := v_now;
        END IF;
        r.equity := e.equity;
        r.balance := e.balance;
        -- the day's row: its start (first commit of the day), its range, its close
        INSERT INTO account_days AS ad (account_id, epoch, trading_day, started_at, start_equity,
                                        start_balance, high_equity, low_equity, close_equity)
        VALUES (r.account_id, r.epoch, r.trading_day, r.day_started_at, r.day_start_equity,
                r.day_start_balance, r.day_high_equity, r.day_low_equity, r.equity)
        ON CONFLICT (account_id, epoch, trading_day) DO UPDATE
        SET started_at = coalesce(ad.started_at, excluded.started_at),
            start_equity = coalesce(ad.start_equity, excluded.start_equity),
            start_balance = coalesce(ad.start_balance, excluded.start_balance),
            high_equity = excluded.high_equity, low_equity = excluded.low_equity,
            close_equity = excluded.close_equity
        RETURNING * INTO day;
        IF day.fills > 0 AND r.last_fill_day IS DISTINCT FROM r.trading_day THEN
            r.trading_days := r.trading_days + 1;
            r.last_fill_day := r.trading_day;
        END IF;
        UPDATE account_risk SET
            equity = r.equity, balance = r.balance, as_of = r.as_of,
            trading_day = r.trading_day, day_started_at = r.day_started_at,
            day_start_equity = r.day_start_equity, day_start_balance = r.day_start_balance,
            day_high_equity = r.day_high_equity, day_high_at = r.day_high_at,
            day_low_equity = r.day_low_equity, day_low_at = r.day_low_at,
            high_water_mark = r.high_water_mark, high_water_mark_at = r.high_water_mark_at,
            low_water_mark = r.low_water_mark, low_water_mark_at = r.low_water_mark_at,
            max_drawdown = r.max_drawdown, trading_days = r.trading_days,
            last_fill_day = r.last_fill_day
        WHERE account_id = r.account_id AND epoch = r.epoch;
    END LOOP;
END
$$;

-- The same for the accounts holding any of p_tokens (a price batch, a
-- settlement) or owning any of p_wallets.
CREATE OR REPLACE FUNCTION engine.pp_risk_commit_holders(p_tokens text[], p_wallets bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pp_risk_commit(ARRAY(
        SELECT a.id FROM accounts a
        WHERE a.wallet_id IN (SELECT p.wallet_id FROM positions p
                              WHERE p.token_id = ANY (p_tokens) AND p.closed_at IS NULL
                                AND p.archived_at IS NULL)
           OR a.wallet_id = ANY (p_wallets)));
END
$$;

-- Freezes the account's current history (closed: its marks stay as they are).
CREATE OR REPLACE FUNCTION engine.pp_risk_freeze(p_account_id uuid) RETURNS void
LANGUAGE sql AS $$
    UPDATE account_risk ar SET frozen = true
    FROM accounts a
    WHERE a.id = p_account_id AND ar.account_id = a.id AND ar.epoch = a.reset_count
$$;

-- The "risk" object of the account envelope: the current history, its day
-- rolled to today when nothing has been committed since the boundary (a
-- frozen history keeps its day). NULL when the account has none.
CREATE OR REPLACE FUNCTION engine.pp_risk_json(p_account_id uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r account_risk;
    v_tenant text;
    d record;
BEGIN
    SELECT ar.* INTO r
    FROM account_risk ar JOIN accounts a ON a.id = ar.account_id AND ar.epoch = a.reset_count
    WHERE ar.account_id = p_account_id;
    IF r.account_id IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT tenant INTO STRICT v_tenant FROM accounts WHERE id = p_account_id;
    IF NOT r.frozen THEN
        SELECT * INTO STRICT d FROM pp_trading_day(v_tenant, clock_timestamp());
        r := pp_risk_rolled(r, d.trading_day, d.started_at);
    END IF;
    RETURN format(
        '{"trading_day":%s,"day_started_at":%s,"day_start_equity":%s,"day_start_balance":%s,'
        '"day_high_equity":%s,"day_high_at":%s,"day_low_equity":%s,"day_low_at":%s,'
        '"high_water_mark":%s,"high_water_mark_at":%s,"low_water_mark":%s,'
        '"low_water_mark_at":%s,"max_drawdown":%s,"trading_days":%s,"as_of":%s}',
        to_json(r.trading_day::text), pp_json_time(r.day_started_at),
        pp_json_money(r.day_start_equity), pp_json_money(r.day_start_balance),
        pp_json_money(r.day_high_equity), pp_json_time(r.day_high_at),
        pp_json_money(r.day_low_equity), pp_json_time(r.day_low_at),
        pp_json_money(r.high_water_mark), pp_json_time(r.high_water_mark_at),
        pp_json_money(r.low_water_mark), pp_json_time(r.low_water_mark_at),
        pp_json_money(r.max_drawdown), r.trading_days,
        pp_json_time(greatest(r.as_of, r.day_started_at)));
END
$$;

-- The account envelope with its risk object (GET, PATCH, close, reset).
CREATE OR REPLACE FUNCTION engine.pp_account_state(p_account_id uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_envelope text := pp_account_envelope(p_account_id);
    v_risk text := pp_risk_json(p_account_id);
BEGIN
    IF v_envelope IS NULL OR v_risk IS NULL THEN
        RETURN v_envelope;
    END IF;
    RETURN left(v_envelope, -1) || ',"risk":' || v_risk || '}';
END
$$;

-- The module writes its tenants' settings here (PolyPartnerTenantDayBoundary):
-- p_settings is [{"tenant": ..., "day_boundary": "17:00", "day_zone": "America/New_York"}].
CREATE OR REPLACE FUNCTION api.pp_configure_tenants(p_settings jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    v_count integer;
BEGIN
    INSERT INTO tenants AS t (name, day_boundary, day_zone)
    SELECT s->>'tenant', (s->>'day_boundary')::time,
           (SELECT z.name FROM pg_timezone_names z WHERE z.name = s->>'day_zone')
    FROM jsonb_array_elements(p_settings) s
    ON CONFLICT (name) DO UPDATE
    SET day_boundary = excluded.day_boundary, day_zone = excluded.day_zone
    WHERE (t.day_boundary, t.day_zone) IS DISTINCT FROM (excluded.day_boundary, excluded.day_zone);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_configure_tenants(jsonb) TO polypartner_api;

-- GET /v1/partner/accounts/{account_id}/days: the current history's trading
-- days, newest first, keyset-paged by day (p_before as YYYYMMDD). Today is
-- listed even before anything is committed in it (its values then are the
-- last commit's); a day in which nothing was committed has no row (its values
-- are the previous day's close).
CREATE OR REPLACE FUNCTION api.pp_list_days(p_tenant text, p_account_id uuid, p_limit integer,
                                            p_before bigint)
RETURNS TABLE (status integer, body text, next_day bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    a accounts;
    r account_risk;
    d record;
    v_before date := coalesce(to_date(p_before::text, 'YYYYMMDD'), 'infinity'::date);
    v_rows account_days[];
    v_last date;
BEGIN
    SELECT * INTO a FROM accounts WHERE id = p_account_id AND tenant = p_tenant;
    IF NOT FOUND THEN
        RETURN QUERY SELECT n.status, n.body, NULL::bigint FROM pp_account_not_found() n;
        RETURN;
    END IF;
    SELECT * INTO r FROM account_risk WHERE account_id = a.id AND epoch = a.reset_count;
    SELECT array_agg(x ORDER BY x.trading_day DESC) INTO v_rows FROM (
        SELECT * FROM account_days
        WHERE account_id = a.id AND epoch = a.reset_count AND trading_day < v_before
        ORDER BY trading_day DESC LIMIT p_limit + 1) x;
    -- today, rolled but not yet committed in
    SELECT * INTO d FROM pp_trading_day(a.tenant, clock_timestamp());
    IF r.account_id IS NOT NULL AND NOT r.frozen AND d.started_at > r.day_started_at
       AND d.trading_day < v_before THEN
        v_rows := ROW(a.id, a.reset_count, d.trading_day, d.started_at, r.equity, r.balance,
                      r.equity, r.equity, r.equity, 0, 0, 0)::account_days
                  || coalesce(v_rows, '{}');
    END IF;
    IF coalesce(array_length(v_rows, 1), 0) > p_limit THEN
        v_last := v_rows[p_limit].trading_day;
    END IF;
    RETURN QUERY SELECT 200,
        '[' || coalesce((SELECT string_agg(format(
            '{"trading_day":%s,"started_at":%s,"start_equity":%s,"start_balance":%s,'
            '"high_equity":%s,"low_equity":%s,"close_equity":%s,"fills":%s,'
            '"traded_notional":%s,"fees":%s}',
            to_json(x.trading_day::text), pp_json_time(x.started_at),
            pp_json_money(x.start_equity), pp_json_money(x.start_balance),
            pp_json_money(x.high_equity), pp_json_money(x.low_equity),
            pp_json_money(x.close_equity), x.fills, pp_json_money(x.traded_notional),
            pp_json_money(x.fees)), ',' ORDER BY x.n)
            FROM unnest(v_rows[1:p_limit]) WITH ORDINALITY AS x(account_id, epoch, trading_day,
                 started_at, start_equity, start_balance, high_equity, low_equity, close_equity,
                 fills, traded_notional, fees, n)), '') || ']',
        to_char(v_last, 'YYYYMMDD')::bigint;
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_list_days(text,uuid,integer,bigint) TO polypartner_api;
