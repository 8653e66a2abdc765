-- The tenant event feed: the triggers that note every event-worthy change,
-- the flush that numbers a transaction's events at its commit (tables and
-- the scheme in migrations/011_events.sql), the purge of expired events, and
-- GET /v1/partner/events (the module's stream reads the same function).

-- ---- noting changes ---------------------------------------------------------
-- Row triggers, fired inside the engine's functions: they add a row to
-- event_pending naming what changed; what the event says is rendered at
-- commit (pp_events_flush), so it is the state the transaction committed.
-- Names are schema-qualified: the triggers run under whatever search_path
-- the caller has.

-- Notes an event. The transaction's first note (pp.events_queued, local to
-- the transaction and undone with a rolled-back subtransaction, is not yet
-- 'on') is marked first, which queues the one flush at commit.
CREATE OR REPLACE FUNCTION engine.pp_events_note(p_tenant text, p_type text, p_account_id uuid,
                                                 p_user_id bigint, p_ref bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_first boolean := current_setting('pp.events_queued', true) IS DISTINCT FROM 'on';
BEGIN
    IF v_first THEN
        PERFORM set_config('pp.events_queued', 'on', true);
    END IF;
    INSERT INTO public.event_pending (tenant, type, account_id, user_id, ref, first)
    VALUES (p_tenant, p_type, p_account_id, p_user_id, p_ref, v_first);
END
$$;

-- account.created, and on an update the one that fits: a reset (reset_count
-- grew), a close (status became closed), or a change of rules or metadata
-- (account.updated; a PATCH that changes nothing emits nothing).
CREATE OR REPLACE FUNCTION engine.pp_events_on_account() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_type text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        v_type := 'account.created';
    ELSIF NEW.reset_count <> OLD.reset_count THEN
        v_type := 'account.reset';
    ELSIF NEW.status = 'closed' AND OLD.status <> 'closed' THEN
        v_type := 'account.closed';
    ELSIF NEW.rules IS DISTINCT FROM OLD.rules OR NEW.metadata IS DISTINCT FROM OLD.metadata THEN
        v_type := 'account.updated';
    ELSE
        RETURN NULL;
    END IF;
    PERFORM engine.pp_events_note(NEW.tenant, v_type, NEW.id, NEW.user_id, NULL);
    RETURN NULL;
END
$$;

-- An event about a row of an account's wallet (ref: the order or position).
CREATE OR REPLACE FUNCTION engine.pp_events_note_wallet(p_wallet_id bigint, p_type text,
                                                        p_ref bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    SELECT id, tenant, user_id INTO a FROM public.accounts WHERE wallet_id = p_wallet_id;
    IF FOUND THEN
        PERFORM engine.pp_events_note(a.tenant, p_type, a.id, a.user_id, p_ref);
    END IF;
END
$$;

-- order.placed (every inserted order, market orders too) and order.cancelled.
CREATE OR REPLACE FUNCTION engine.pp_events_on_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engine.pp_events_note_wallet(NEW.wallet_id,
        CASE TG_OP WHEN 'INSERT' THEN 'order.placed' ELSE 'order.cancelled' END, NEW.id);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION engine.pp_events_on_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM engine.pp_events_note_wallet(NEW.wallet_id, 'trade.filled', NEW.order_id);
    RETURN NULL;
END
$$;

-- position.settled: a position closed while its market is resolved was
-- closed by the settlement (a resolved market takes no orders, so no sale
-- closes a position there).
CREATE OR REPLACE FUNCTION engine.pp_events_on_position() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.market_tokens t
               JOIN public.markets m ON m.condition_id = t.condition_id
               WHERE t.token_id = NEW.token_id AND m.resolved) THEN
        PERFORM engine.pp_events_note_wallet(NEW.wallet_id, 'position.settled', NEW.id);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS pp_events ON accounts;
CREATE TRIGGER pp_events AFTER INSERT OR UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION engine.pp_events_on_account();
DROP TRIGGER IF EXISTS pp_events_placed ON orders;
CREATE TRIGGER pp_events_placed AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION engine.pp_events_on_order();
DROP TRIGGER IF EXISTS pp_events_cancelled ON orders;
CREATE TRIGGER pp_events_cancelled AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status = 'open' AND NEW.status = 'cancelled')
    EXECUTE FUNCTION engine.pp_events_on_order();
DROP TRIGGER IF EXISTS pp_events ON fills;
CREATE TRIGGER pp_events AFTER INSERT ON fills
    FOR EACH ROW EXECUTE FUNCTION engine.pp_events_on_fill();
DROP TRIGGER IF EXISTS pp_events ON positions;
CREATE TRIGGER pp_events AFTER UPDATE OF closed_at ON positions
    FOR EACH ROW WHEN (OLD.closed_at IS NULL AND NEW.closed_at IS NOT NULL)
    EXECUTE FUNCTION engine.pp_events_on_position();

-- ---- what an event says -----------------------------------------------------

-- PL/pgSQL, so its plan is cached: a settlement renders one per position.
CREATE OR REPLACE FUNCTION engine.pp_position_settled_json(p_position_id bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT format('{"market_id":%s,"token_id":%s,"outcome":%s,"quantity":%s,'
                      '"avg_entry_price":%s,"result":%s,"payout":%s,"settled_at":%s}',
                      to_json(t.condition_id), to_json(t.token_id), to_json(t.outcome),
                      pp_json_qty(p.quantity), pp_json_qty(p.avg_entry_price),
                      to_json(CASE WHEN m.winning_token_id IS NULL THEN 'void'
                                   WHEN m.winning_token_id = p.token_id THEN 'won'
                                   ELSE 'lost' END),
                      -- as pp_settle_market pays it
                      pp_json_money(round(p.quantity * CASE
                          WHEN m.winning_token_id IS NULL THEN 0.5
                          WHEN m.winning_token_id = p.token_id THEN 1
                          ELSE 0 END, 2)),
                      pp_json_time_us(p.closed_at))
        FROM positions p
        JOIN market_tokens t ON t.token_id = p.token_id
        JOIN markets m ON m.condition_id = t.condition_id
        WHERE p.id = p_position_id);
END
$$;

-- (an order's data was a plan-cached copy of pp_order_json while that one was
-- planned at every call; it is plan-cached itself now)
DROP FUNCTION IF EXISTS engine.pp_event_order_json(bigint);

-- An event's data: what the endpoint that made the change answers (the
-- account as created, the account envelope, the order), the trades feed's
-- row for a fill, or the settlement of a position.
CREATE OR REPLACE FUNCTION engine.pp_event_data(p_type text, p_account_id uuid, p_ref bigint)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE p_type
    WHEN 'account.created' THEN
        RETURN (SELECT pp_account_created_json(a) FROM accounts a WHERE a.id = p_account_id);
    WHEN 'account.updated', 'account.closed', 'account.reset' THEN
        RETURN pp_account_state(p_account_id);   -- with its risk object, as the endpoints answer
    WHEN 'order.placed', 'order.cancelled' THEN
        RETURN pp_order_json(p_ref);
    WHEN 'trade.filled' THEN
        RETURN (SELECT pp_fill_json(f) FROM fills f WHERE f.order_id = p_ref);
    WHEN 'position.settled' THEN
        RETURN pp_position_settled_json(p_ref);
    END CASE;
END
$$;

CREATE OR REPLACE FUNCTION engine.pp_event_json(e events) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"event_id":%s,"type":%s,"occurred_at":%s,"account_id":%s,"user_id":%s,'
                  '"data":%s}',
                  e.event_id, to_json(e.type), pp_json_time_us(e.occurred_at),
                  coalesce(to_json(e.account_id)::text, 'null'),
                  coalesce(e.user_id::text, 'null'), e.data)
$$;

-- ---- numbering at commit ----------------------------------------------------

-- Deletes up to 2,048 of the tenant's oldest events that are older than its
-- retention; returns the largest id deleted, or NULL. occurred_at never
-- decreases along a tenant's stream, so the expired events are a prefix of
-- it: only its first rows are looked at.
CREATE OR REPLACE FUNCTION engine.pp_events_purge(p_tenant text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_through bigint;
    v_gone bigint;
BEGIN
    SELECT max(o.event_id) INTO v_through
    FROM (SELECT e.event_id, e.occurred_at FROM events e
          WHERE e.tenant = p_tenant ORDER BY e.event_id LIMIT 2048) o
    WHERE o.occurred_at < now() - (SELECT c.retention FROM event_counters c
                                   WHERE c.tenant = p_tenant);
    IF v_through IS NULL THEN
        RETURN NULL;
    END IF;
    WITH gone AS (
        DELETE FROM events WHERE tenant = p_tenant AND event_id <= v_through RETURNING event_id)
    SELECT max(event_id) INTO v_gone FROM gone;
    RETURN v_gone;
END
$$;

-- The deferred constraint trigger on event_pending: runs just before the
-- commit, once (queued by the transaction's first pending row). It takes
-- every pending row of the transaction, renders them, then locks the
-- counter row of each tenant they belong to (in name order, so two
-- transactions never wait on each other in a cycle), numbers the tenant's
-- events from it and moves them into events. The lock is held until the
-- commit ends: the next transaction of the tenant numbers after this one is
-- visible. About every 1,024th pending row (all tenants together) also
-- purges expired events of the tenants it writes for, before their lock is
-- taken. SECURITY DEFINER: at commit it runs as the session's user, who may
-- not touch the tables.
CREATE OR REPLACE FUNCTION engine.pp_events_flush() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    v_items events[];
    v_min bigint;
    v_max bigint;
    v_purge boolean;
    v_purged bigint;
    v_last bigint;
    v_at timestamptz;
    t record;
BEGIN
    -- what is noted from now on (after SET CONSTRAINTS ... IMMEDIATE) queues
    -- another flush
    PERFORM set_config('pp.events_queued', '', true);
    WITH p AS (
        DELETE FROM event_pending WHERE xid = pg_current_xact_id() RETURNING *)
    SELECT array_agg(ROW(p.tenant, NULL, p.type, NULL, p.account_id, p.user_id,
                         pp_event_data(p.type, p.account_id, p.ref))::events ORDER BY p.seq),
           min(p.seq), max(p.seq)
    INTO v_items, v_min, v_max
    FROM p;
    IF v_max IS NULL THEN
        RETURN NULL;
    END IF;
    v_purge := (v_min - 1) / 1024 <> v_max / 1024;
    FOR t IN SELECT x.tenant, count(*) AS n FROM unnest(v_items) x
             GROUP BY x.tenant ORDER BY x.tenant COLLATE "C"
    LOOP
        v_purged := CASE WHEN v_purge THEN pp_events_purge(t.tenant) END;
        LOOP
            UPDATE event_counters
            SET last = last + t.n,
                last_at = greatest(last_at, clock_timestamp()),
                purged_through = greatest(purged_through, coalesce(v_purged, 0))
            WHERE tenant = t.tenant
            RETURNING last, last_at INTO v_last, v_at;
            EXIT WHEN FOUND;
            INSERT INTO event_counters (tenant) VALUES (t.tenant) ON CONFLICT DO NOTHING;
        END LOOP;
        INSERT INTO events (tenant, event_id, type, occurred_at, account_id, user_id, data)
        SELECT x.tenant, v_last - t.n + row_number() OVER (ORDER BY x.n), x.type, v_at,
               x.account_id, x.user_id, x.data
        FROM unnest(v_items) WITH ORDINALITY
             AS x(tenant, event_id, type, occurred_at, account_id, user_id, data, n)
        WHERE x.tenant = t.tenant;
        PERFORM pg_notify('pp_events', t.tenant);
    END LOOP;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS pp_events_flush ON event_pending;
CREATE CONSTRAINT TRIGGER pp_events_flush AFTER INSERT ON event_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.first) EXECUTE FUNCTION engine.pp_events_flush();

-- ---- reading ----------------------------------------------------------------

-- A page of the tenant's stream after p_after (NULL: from the oldest event
-- kept), in event_id order, with the account_id and type filters; one
-- snapshot (STABLE). It reads at most 5,000 events past its position, so
-- a filter that matches rarely still costs a bounded scan: the page may
-- then hold fewer than p_limit events (even none) and next_after still
-- moves on. next_after is where the next page starts (never NULL on 200);
-- more: the next page may have events right away. A position before the
-- purged events or past the stream's end (a database that lost events) is
-- 410 CURSOR_EXPIRED.
CREATE OR REPLACE FUNCTION engine.pp_events_page(p_tenant text, p_account_id uuid,
                                                 p_types text[], p_limit integer,
                                                 p_after bigint)
RETURNS TABLE (status integer, body text, next_after bigint, more boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_budget constant integer := 5000;
    c event_counters;
    v_after bigint;
    v_ids bigint[];
    v_n integer;
    v_next bigint;
    v_more boolean;
BEGIN
    IF p_account_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = p_account_id AND tenant = p_tenant) THEN
        RETURN QUERY SELECT n.status, n.body, NULL::bigint, NULL::boolean
                     FROM pp_account_not_found() n;
        RETURN;
    END IF;
    SELECT * INTO c FROM event_counters WHERE tenant = p_tenant;
    IF p_after < coalesce(c.purged_through, 0) OR p_after > coalesce(c.last, 0) THEN
        RETURN QUERY SELECT n.status, n.body, NULL::bigint, NULL::boolean
                     FROM pp_error('CURSOR_EXPIRED', 'the events after this cursor are no longer '
                                   'kept (PolyPartnerEventRetention); start again without a cursor') n;
        RETURN;
    END IF;
    v_after := coalesce(p_after, c.purged_through, 0);
    IF p_account_id IS NULL THEN
        SELECT array_agg(w.event_id ORDER BY w.event_id) INTO v_ids FROM (
            SELECT s.event_id FROM (
                SELECT e.event_id, e.type FROM events e
                WHERE e.tenant = p_tenant AND e.event_id > v_after
                ORDER BY e.event_id LIMIT v_budget) s
            WHERE p_types IS NULL OR s.type = ANY (p_types)
            ORDER BY s.event_id LIMIT p_limit + 1) w;
    ELSE
        SELECT array_agg(w.event_id ORDER BY w.event_id) INTO v_ids FROM (
            SELECT s.event_id FROM (
                SELECT e.event_id, e.type FROM events e
                WHERE e.tenant = p_tenant AND e.account_id = p_account_id
                  AND e.event_id > v_after
                ORDER BY e.event_id LIMIT v_budget) s
            WHERE p_types IS NULL OR s.type = ANY (p_types)
            ORDER BY s.event_id LIMIT p_limit + 1) w;
    END IF;
    v_n := coalesce(array_length(v_ids, 1), 0);
    IF v_n > p_limit THEN
        v_next := v_ids[p_limit];
        v_more := true;
    ELSIF p_types IS NULL THEN
        -- the scan ended before the budget: this is the end of the stream
        v_next := coalesce(v_ids[v_n], v_after);
        v_more := false;
    ELSE
        -- every event the scan read was returned or filtered out
        IF p_account_id IS NULL THEN
            SELECT max(s.event_id), count(*) = v_budget INTO v_next, v_more FROM (
                SELECT e.event_id FROM events e
                WHERE e.tenant = p_tenant AND e.event_id > v_after
                ORDER BY e.event_id LIMIT v_budget) s;
        ELSE
            SELECT max(s.event_id), count(*) = v_budget INTO v_next, v_more FROM (
                SELECT e.event_id FROM events e
                WHERE e.tenant = p_tenant AND e.account_id = p_account_id
                  AND e.event_id > v_after
                ORDER BY e.event_id LIMIT v_budget) s;
        END IF;
        v_next := coalesce(v_next, v_after);
    END IF;
    RETURN QUERY SELECT 200,
        '[' || coalesce((SELECT string_agg(pp_event_json(e), ',' ORDER BY e.event_id)
                         FROM events e
                         WHERE e.tenant = p_tenant AND e.event_id = ANY (v_ids[1:p_limit])), '')
            || ']',
        v_next, v_more;
END
$$;

-- GET /v1/partner/events (and the stream): p_types is a comma-separated
-- list (NULL: every type), p_after the cursor's position. p_retention_s is
-- the module's PolyPartnerEventRetention: kept with the tenant's counter for
-- the purge (written only when it changed).
CREATE OR REPLACE FUNCTION api.pp_list_events(p_tenant text, p_account_id uuid, p_types text,
                                              p_limit integer, p_after bigint,
                                              p_retention_s integer)
RETURNS TABLE (status integer, body text, next_after bigint, more boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
BEGIN
    IF p_retention_s IS NOT NULL THEN
        UPDATE event_counters SET retention = make_interval(secs => p_retention_s)
        WHERE tenant = p_tenant AND retention <> make_interval(secs => p_retention_s);
    END IF;
    -- one statement: the page is read in one snapshot
    RETURN QUERY SELECT * FROM pp_events_page(p_tenant, p_account_id,
                                              string_to_array(p_types, ','), p_limit, p_after);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_list_events(text,uuid,text,integer,bigint,integer) TO polypartner_api;
