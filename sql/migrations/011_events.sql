-- The tenant event feed (GET /v1/partner/events and its Server-Sent Events
-- stream): one ordered stream of events per tenant, numbered in commit order.
--
-- Row triggers on accounts, orders, fills and positions (sql/functions/
-- 75_events.sql) note each change in event_pending, without an id. A deferred
-- constraint trigger runs just before the transaction commits: it renders the
-- events, takes the row lock of each tenant's event_counters row (tenants in
-- name order), numbers the events from it, moves them into events and
-- notifies 'pp_events'. The counter lock is held until the commit ends, so a
-- tenant's ids are handed out in commit order and a reader never sees an id
-- before every smaller one is visible: the stream has no gaps.

-- Per tenant: the last event id handed out, when (occurred_at never
-- decreases along the stream), up to which id events were purged (a cursor
-- before that is expired), and how long events are kept (the module's
-- PolyPartnerEventRetention, which every read of the feed brings here).
CREATE TABLE event_counters (
    tenant          text PRIMARY KEY REFERENCES tenants (name),
    last            bigint NOT NULL DEFAULT 0 CHECK (last >= 0),
    last_at         timestamptz NOT NULL DEFAULT '-infinity',
    purged_through  bigint NOT NULL DEFAULT 0 CHECK (purged_through >= 0 AND purged_through <= last),
    retention       interval NOT NULL DEFAULT '7 days' CHECK (retention >= interval '1 minute')
);

-- The events. No foreign keys: rows are written only by the flush, from
-- rows that exist, and a check per event would slow every commit; an
-- event outlives nothing it names (accounts are never deleted). data is the
-- JSON text exactly as the feed serves it.
CREATE TABLE events (
    tenant       text NOT NULL,
    event_id     bigint NOT NULL CHECK (event_id > 0),
    type         text NOT NULL CHECK (type IN ('account.created', 'account.updated',
                                               'account.closed', 'account.reset',
                                               'order.placed', 'order.cancelled',
                                               'trade.filled', 'position.settled',
                                               'day.started')),
    occurred_at  timestamptz NOT NULL,
    account_id   uuid,
    user_id      bigint,
    data         text NOT NULL,
    PRIMARY KEY (tenant, event_id)
);
-- the account_id filter of the feed
CREATE INDEX events_by_account ON events (tenant, account_id, event_id);

-- The events of transactions still running, in the order they happened
-- (seq), without an id yet: rendered and numbered at commit. A row lives
-- only inside its own transaction (the flush deletes it before the commit),
-- so the table is never read by anyone else and needs no WAL: after a crash
-- it is empty, as it always is between transactions. `first` marks a
-- transaction's first row (until a flush): only it queues the flush.
CREATE UNLOGGED TABLE event_pending (
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    tenant      text NOT NULL,
    type        text NOT NULL,
    account_id  uuid,
    user_id     bigint,
    ref         bigint,   -- the order or position the event is about
    first       boolean NOT NULL,
    PRIMARY KEY (xid, seq)
);
