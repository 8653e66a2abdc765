-- The tenant event feed (sql/functions/75_events.sql): what each change of
-- the engine emits and what its data says, numbering at commit (a test's
-- transaction is rolled back, so pg_temp.flush() fires the deferred flush
-- the commit would: SET CONSTRAINTS ALL IMMEDIATE), per-tenant ids without
-- gaps, nothing from a rejected request, the purge, and pp_list_events.

CREATE FUNCTION pg_temp.flush() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    SET CONSTRAINTS ALL IMMEDIATE;
    SET CONSTRAINTS ALL DEFERRED;
END
$$;
-- The tenant's events after p_after as "type" texts, in id order.
CREATE FUNCTION pg_temp.types(p_tenant text, p_after bigint DEFAULT 0) RETURNS text[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg(type ORDER BY event_id), '{}') FROM events
    WHERE tenant = p_tenant AND event_id > p_after
$$;
CREATE FUNCTION pg_temp.last(p_tenant text) RETURNS bigint
LANGUAGE sql AS $$ SELECT coalesce((SELECT last FROM event_counters WHERE tenant = p_tenant), 0) $$;
-- The data of the tenant's n-th event after p_after.
CREATE FUNCTION pg_temp.data(p_tenant text, p_after bigint, p_n integer) RETURNS text
LANGUAGE sql AS $$
    SELECT data FROM events WHERE tenant = p_tenant AND event_id > p_after
    ORDER BY event_id OFFSET p_n - 1 LIMIT 1
$$;
-- The event_ids of a pp_list_events body.
CREATE FUNCTION pg_temp.ids(p_body text) RETURNS bigint[]
LANGUAGE sql AS $$
    SELECT coalesce(array_agg((e->>'event_id')::bigint ORDER BY n), '{}')
    FROM jsonb_array_elements(p_body::jsonb) WITH ORDINALITY AS x(e, n)
$$;

-- test: an account's creation is one account.created event whose data is what POST /accounts answered, numbered only at commit
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-1', 'ev1@example.com');
    r record;
    e events;
BEGIN
    SELECT * INTO STRICT r FROM pp_create_account('ev-a', u, 'ev1-acc', 'challenge', 1000,
                                                  '{"max_dd":"0.1"}', '{"k":"v"}');
    PERFORM pp_test_eq(pg_temp.types('ev-a'), '{}'::text[], 'events before the commit');
    PERFORM pp_test_eq((SELECT count(*) FROM event_pending), 1::bigint, 'pending rows');
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq((SELECT count(*) FROM event_pending), 0::bigint, 'pending rows after');
    SELECT * INTO STRICT e FROM events WHERE tenant = 'ev-a';
    PERFORM pp_test_eq(e.event_id, 1::bigint, 'the tenant''s first id');
    PERFORM pp_test_eq(e.type, 'account.created', 'type');
    PERFORM pp_test_eq(e.account_id, (r.body::jsonb->>'account_id')::uuid, 'account_id');
    PERFORM pp_test_eq(e.user_id, u, 'user_id (the public one)');
    PERFORM pp_test_eq(e.data, r.body, 'data');
    PERFORM pp_test_eq(pp_event_json(e),
        format('{"event_id":1,"type":"account.created","occurred_at":%s,"account_id":"%s",'
               '"user_id":%s,"data":%s}', pp_json_time_us(e.occurred_at), e.account_id, u, r.body),
        'the event as the feed shows it');
    PERFORM pp_test_eq((SELECT last FROM event_counters WHERE tenant = 'ev-a'), 1::bigint, 'counter');
END
$$;

-- test: a market order is order.placed (the order as committed, filled) then trade.filled (the trades feed's row)
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-2', 'ev2@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev2-acc', 1000);
    v_last bigint;
    o bigint;
    feed text;
BEGIN
    PERFORM pp_test_priced('0xe260a', '260001', 0.40, 0.45);
    PERFORM pg_temp.flush();
    v_last := pg_temp.last('ev-a');
    o := pp_test_place('ev-a', a, '260001', 'BUY', 'market', 10, NULL, NULL, 'c-1');
    -- two events, one flush queued (by the first)
    PERFORM pp_test_eq((SELECT array_agg(first ORDER BY seq) FROM event_pending),
                       ARRAY[true, false], 'the first pending row queues the flush');
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{order.placed,trade.filled}'::text[], 'types');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 1), pp_order_json(o), 'order.placed data');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 1)::jsonb->>'status', 'filled', 'as committed');
    SELECT body INTO STRICT feed FROM pp_list_trades('ev-a', a, 10, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 2), (feed::json->0)::text, 'trade.filled data');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 2),
                       (SELECT pp_fill_json(f) FROM fills f WHERE f.order_id = o),
                       'trade.filled data is the feed row, text for text');
    PERFORM pp_test_eq((SELECT array_agg(event_id ORDER BY event_id) FROM events
                        WHERE tenant = 'ev-a' AND event_id > v_last),
                       ARRAY[v_last + 1, v_last + 2], 'ids follow on without a gap');
    PERFORM pp_test_eq((SELECT count(DISTINCT occurred_at) FROM events
                        WHERE tenant = 'ev-a' AND event_id > v_last), 1::bigint,
                       'one commit, one occurred_at');
END
$$;

-- test: a resting limit order and its cancel are order.placed (open) and order.cancelled (released), rendered at commit
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-3', 'ev3@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev3-acc', 1000);
    v_last bigint;
    o bigint;
    r record;
BEGIN
    PERFORM pp_test_priced('0xe260b', '260011', 0.40, 0.45);
    PERFORM pg_temp.flush();
    v_last := pg_temp.last('ev-a');
    o := pp_test_place('ev-a', a, '260011', 'BUY', 'limit', 10, 0.30);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 1)::jsonb->>'status', 'open', 'placed open');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 1)::jsonb->>'reserved_cash', '3.00', 'reserved');
    SELECT * INTO STRICT r FROM pp_cancel_order('ev-a', a, o);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{order.placed,order.cancelled}'::text[],
                       'types');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 2), r.body, 'order.cancelled data');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 2)::jsonb->>'reserved_cash', '0.00',
                       'the release is in it');
END
$$;

-- test: PATCH is account.updated with the envelope, a PATCH that changes nothing emits nothing; close and reset emit their events after the orders they cancel
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-4', 'ev4@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev4-acc', 1000);
    v_last bigint;
    r record;
    o bigint;
BEGIN
    PERFORM pp_test_priced('0xe260c', '260021', 0.40, 0.45);
    PERFORM pg_temp.flush();
    v_last := pg_temp.last('ev-a');
    SELECT * INTO STRICT r FROM pp_patch_account('ev-a', a, '{"daily_loss":"50"}', NULL);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{account.updated}'::text[], 'PATCH');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 1), r.body, 'account.updated data');
    SELECT * INTO STRICT r FROM pp_patch_account('ev-a', a, '{"daily_loss":"50"}', '{}');
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(cardinality(pg_temp.types('ev-a', v_last)), 1, 'the same values again');

    v_last := pg_temp.last('ev-a');
    o := pp_test_place('ev-a', a, '260021', 'BUY', 'limit', 10, 0.30);
    SELECT * INTO STRICT r FROM pp_close_account('ev-a', a, 500);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last),
                       '{order.placed,order.cancelled,account.closed}'::text[], 'close');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 3), r.body, 'account.closed data');
    PERFORM pp_close_account('ev-a', a, 500);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(cardinality(pg_temp.types('ev-a', v_last)), 3, 'closing again');

    v_last := pg_temp.last('ev-a');
    SELECT * INTO STRICT r FROM pp_reset_account('ev-a', a, 500);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{account.reset}'::text[], 'reset');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 1), r.body, 'account.reset data');
END
$$;

-- test: a settlement is order.cancelled for resting orders, then position.settled per position with its result and payout
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-5', 'ev5@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev5-acc', 1000);
    b uuid := pp_test_account('ev-a', u, 'ev5-accb', 1000);
    v_last bigint;
    d jsonb;
BEGIN
    PERFORM pp_test_priced('0xe260d', '260031', 0.40, 0.45);
    PERFORM pp_test_price('260032', 0.50, 0.55);
    PERFORM pp_test_place('ev-a', a, '260031', 'BUY', 'market', 10);
    PERFORM pp_test_place('ev-a', b, '260032', 'BUY', 'market', 4.5);
    PERFORM pp_test_place('ev-a', b, '260031', 'BUY', 'limit', 1, 0.10);
    PERFORM pg_temp.flush();
    v_last := pg_temp.last('ev-a');
    PERFORM pp_settle_market('0xe260d', '260031');
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last),
                       '{order.cancelled,position.settled,position.settled}'::text[], 'types');
    -- positions settle in wallet order, which the opaque wallet ids make any
    SELECT data::jsonb INTO STRICT d FROM events
    WHERE tenant = 'ev-a' AND event_id > v_last AND type = 'position.settled' AND account_id = a;
    PERFORM pp_test_eq(d->>'result', 'won', 'a winner');
    PERFORM pp_test_eq(d->>'payout', '10.00', 'paid 1.00 a share');
    PERFORM pp_test_eq(d->>'market_id', '0xe260d', 'market');
    SELECT data::jsonb INTO STRICT d FROM events
    WHERE tenant = 'ev-a' AND event_id > v_last AND type = 'position.settled' AND account_id = b;
    PERFORM pp_test_eq(d->>'result', 'lost', 'a loser');
    PERFORM pp_test_eq(d->>'payout', '0.00', 'paid nothing');
    PERFORM pp_test_eq(d->>'quantity', '4.5000', 'quantity');
    PERFORM pp_test_eq(pp_test_keys(pg_temp.data('ev-a', v_last, 2)),
                       '{market_id,token_id,outcome,quantity,avg_entry_price,result,payout,settled_at}'::text[],
                       'fields in order');
END
$$;

-- test: a void market pays 0.50 and says so
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-6', 'ev6@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev6-acc', 1000);
    v_last bigint;
BEGIN
    PERFORM pp_test_priced('0xe260e', '260041', 0.40, 0.45);
    PERFORM pp_test_place('ev-a', a, '260041', 'BUY', 'market', 3);
    PERFORM pg_temp.flush();
    v_last := pg_temp.last('ev-a');
    PERFORM pp_settle_market('0xe260e', NULL);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{position.settled}'::text[], 'types');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 1)::jsonb->>'result', 'void', 'void');
    PERFORM pp_test_eq(pg_temp.data('ev-a', v_last, 1)::jsonb->>'payout', '1.50', '0.50 a share');
END
$$;

-- test: selling a position to zero closes it without a position.settled
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-7', 'ev7@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev7-acc', 1000);
    v_last bigint;
BEGIN
    PERFORM pp_test_priced('0xe260f', '260051', 0.40, 0.45);
    PERFORM pp_test_place('ev-a', a, '260051', 'BUY', 'market', 3);
    PERFORM pg_temp.flush();
    v_last := pg_temp.last('ev-a');
    PERFORM pp_test_place('ev-a', a, '260051', 'SELL', 'market', 3);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{order.placed,trade.filled}'::text[],
                       'types');
END
$$;

-- test: one price batch filling orders of two tenants numbers each tenant's events on its own stream
DO $$
DECLARE
    ua bigint := pp_test_user('ev-a', 'ev-8', 'ev8@example.com');
    ub bigint := pp_test_user('ev-b', 'ev-8', 'ev8@example.com');
    a uuid := pp_test_account('ev-a', ua, 'ev8-acc', 1000);
    b uuid := pp_test_account('ev-b', ub, 'ev8-acc', 1000);
    la bigint;
    lb bigint;
BEGIN
    PERFORM pp_test_priced('0xe260g', '260061', 0.40, 0.45);
    PERFORM pp_test_place('ev-a', a, '260061', 'BUY', 'limit', 1, 0.30);
    PERFORM pp_test_place('ev-b', b, '260061', 'BUY', 'limit', 2, 0.30);
    PERFORM pp_test_place('ev-a', a, '260061', 'BUY', 'limit', 3, 0.20);
    PERFORM pg_temp.flush();
    la := pg_temp.last('ev-a');
    lb := pg_temp.last('ev-b');
    PERFORM pp_test_eq(lb, 2::bigint, 'ev-b: created and placed');
    PERFORM pp_test_eq(pp_test_price('260061', 0.25, 0.30), 2, 'two fills');
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', la), '{trade.filled}'::text[], 'ev-a');
    PERFORM pp_test_eq(pg_temp.types('ev-b', lb), '{trade.filled}'::text[], 'ev-b');
    PERFORM pp_test_eq(pg_temp.last('ev-a'), la + 1, 'ev-a counter');
    PERFORM pp_test_eq(pg_temp.last('ev-b'), lb + 1, 'ev-b counter');
    PERFORM pp_test_eq((SELECT account_id FROM events WHERE tenant = 'ev-b' AND event_id = lb + 1),
                       b, 'ev-b''s fill is on ev-b''s account');
END
$$;

-- test: a rejected order and an account replay emit nothing; two flushes in one transaction continue the numbering
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-9', 'ev9@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev9-acc', 100);
    v_last bigint;
BEGIN
    PERFORM pp_test_priced('0xe260h', '260071', 0.40, 0.45);
    PERFORM pg_temp.flush();
    v_last := pg_temp.last('ev-a');
    PERFORM pp_test_place_rejected('ev-a', a, '260071', 'BUY', 'market', 1000, NULL, NULL, NULL,
                                   0, 0, 400, 'INSUFFICIENT_FUNDS', 'too big');
    PERFORM pp_create_account('ev-a', u, 'ev9-acc', 'challenge', 100, '{}', '{}');
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{}'::text[], 'nothing');
    PERFORM pp_test_place('ev-a', a, '260071', 'BUY', 'market', 1);
    PERFORM pg_temp.flush();
    PERFORM pp_test_place('ev-a', a, '260071', 'BUY', 'market', 1);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq((SELECT array_agg(event_id ORDER BY event_id) FROM events
                        WHERE tenant = 'ev-a' AND event_id > v_last),
                       ARRAY[v_last + 1, v_last + 2, v_last + 3, v_last + 4], 'ids');
END
$$;

-- test: a conflicting account creation rolled back in its subtransaction leaves no event
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-10', 'ev10@example.com');
    v_last bigint;
BEGIN
    PERFORM pp_test_account('ev-a', u, 'ev10-acc', 100);
    PERFORM pg_temp.flush();
    v_last := pg_temp.last('ev-a');
    BEGIN
        PERFORM pp_test_account('ev-a', u, 'ev10-accb', 100);
        RAISE EXCEPTION 'roll back' USING ERRCODE = 'PP999';
    EXCEPTION WHEN SQLSTATE 'PP999' THEN
        NULL;
    END;
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{}'::text[], 'nothing');
    PERFORM pp_test_eq((SELECT count(*) FROM event_pending), 0::bigint, 'nothing pending');
    -- the rolled-back first note took its flush with it: the next one queues its own
    BEGIN
        PERFORM pp_test_account('ev-a', u, 'ev10-accc', 100);
        RAISE EXCEPTION 'roll back' USING ERRCODE = 'PP999';
    EXCEPTION WHEN SQLSTATE 'PP999' THEN
        NULL;
    END;
    PERFORM pp_test_account('ev-a', u, 'ev10-accd', 100);
    PERFORM pp_test_eq((SELECT array_agg(first) FROM event_pending), ARRAY[true], 'queued again');
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a', v_last), '{account.created}'::text[], 'flushed');
END
$$;

-- test: an order event's data is the order as the orders endpoints render it, in every state
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-11', 'ev11@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev11-acc', 1000);
    o bigint;
BEGIN
    PERFORM pp_test_priced('0xe260i', '260081', 0.40, 0.45);
    PERFORM pp_test_place('ev-a', a, '260081', 'BUY', 'market', 10, NULL, 0.5, 'k"1');
    PERFORM pp_test_place('ev-a', a, '260081', 'BUY', 'limit', 1, 0.30, NULL, 'k2');
    PERFORM pp_test_place('ev-a', a, '260081', 'SELL', 'limit', 2, 0.60);
    o := pp_test_place('ev-a', a, '260081', 'BUY', 'limit', 1, 0.20);
    PERFORM pp_cancel_order('ev-a', a, o);
    PERFORM pp_test_eq((SELECT count(*) FROM orders o2 JOIN accounts x ON x.wallet_id = o2.wallet_id
                        WHERE x.id = a AND pp_event_data('order.placed', a, o2.id) IS DISTINCT FROM pp_order_json(o2.id)),
                       0::bigint, 'orders rendered differently');
    PERFORM pp_test_eq(pp_event_data('order.placed', a, -1), NULL::text, 'unknown order');
END
$$;

-- test: pp_list_events pages in id order with limit, next_after and more, from the oldest kept event without a cursor
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-12', 'ev12@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev12-acc', 1000);
    r record;
    v_first bigint;
BEGIN
    PERFORM pp_test_priced('0xe260j', '260091', 0.40, 0.45);
    PERFORM pp_test_place('ev-a', a, '260091', 'BUY', 'market', 1);
    PERFORM pp_test_place('ev-a', a, '260091', 'BUY', 'market', 1);
    PERFORM pg_temp.flush();
    v_first := (SELECT min(event_id) FROM events WHERE tenant = 'ev-a');
    SELECT * INTO STRICT r FROM pp_list_events('ev-a', NULL, NULL, 2, NULL, NULL);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(pg_temp.ids(r.body), ARRAY[v_first, v_first + 1], 'first page');
    PERFORM pp_test_eq(r.next_after, v_first + 1, 'next');
    PERFORM pp_test_eq(r.more, true, 'more');
    SELECT * INTO STRICT r FROM pp_list_events('ev-a', NULL, NULL, 500, r.next_after, NULL);
    PERFORM pp_test_eq(cardinality(pg_temp.ids(r.body)), 3, 'the rest');
    PERFORM pp_test_eq(r.next_after, pg_temp.last('ev-a'), 'next at the end');
    PERFORM pp_test_eq(r.more, false, 'no more');
    SELECT * INTO STRICT r FROM pp_list_events('ev-a', NULL, NULL, 500, r.next_after, NULL);
    PERFORM pp_test_eq(r.body, '[]', 'nothing new');
    PERFORM pp_test_eq(r.next_after, pg_temp.last('ev-a'), 'next stays');
    SELECT * INTO STRICT r FROM pp_list_events('ev-nobody', NULL, NULL, 10, NULL, NULL);
    PERFORM pp_test_eq((r.status, r.body, r.next_after), (200, '[]'::text, 0::bigint),
                       'a tenant without events');
END
$$;

-- test: pp_list_events filters by types and account_id; a foreign or unknown account is ACCOUNT_NOT_FOUND
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-13', 'ev13@example.com');
    ub bigint := pp_test_user('ev-b', 'ev-13', 'ev13@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev13-acc', 1000);
    a2 uuid := pp_test_account('ev-a', u, 'ev13-acc2', 1000);
    b uuid := pp_test_account('ev-b', ub, 'ev13-acc', 1000);
    r record;
BEGIN
    PERFORM pp_test_priced('0xe260k', '260101', 0.40, 0.45);
    PERFORM pp_test_place('ev-a', a, '260101', 'BUY', 'market', 1);
    PERFORM pp_test_place('ev-a', a2, '260101', 'BUY', 'market', 1);
    PERFORM pg_temp.flush();
    SELECT * INTO STRICT r FROM pp_list_events('ev-a', NULL, 'trade.filled,account.created', 100, 0, NULL);
    PERFORM pp_test_eq((SELECT array_agg(e->>'type' ORDER BY n) FROM jsonb_array_elements(r.body::jsonb) WITH ORDINALITY x(e, n)),
                       '{account.created,account.created,trade.filled,trade.filled}'::text[], 'types');
    PERFORM pp_test_eq(r.next_after, pg_temp.last('ev-a'), 'past the filtered-out events');
    SELECT * INTO STRICT r FROM pp_list_events('ev-a', a2, NULL, 100, 0, NULL);
    PERFORM pp_test_eq((SELECT array_agg(DISTINCT e->>'account_id') FROM jsonb_array_elements(r.body::jsonb) e),
                       ARRAY[a2::text], 'only a2');
    PERFORM pp_test_eq(cardinality(pg_temp.ids(r.body)), 3, 'a2: created, placed, filled');
    SELECT * INTO STRICT r FROM pp_list_events('ev-a', a2, 'order.placed', 100, 0, NULL);
    PERFORM pp_test_eq(cardinality(pg_temp.ids(r.body)), 1, 'both filters');
    SELECT * INTO STRICT r FROM pp_list_events('ev-a', b, NULL, 100, NULL, NULL);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'another tenant''s account');
    PERFORM pp_test_eq(r.next_after, NULL::bigint, 'no position on an error');
    SELECT * INTO STRICT r FROM pp_list_events('ev-a', gen_random_uuid(), NULL, 100, NULL, NULL);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'an unknown account');
END
$$;

-- test: a filter that matches nothing reads at most 5,000 events per page and still moves the position on
DO $$
DECLARE
    r record;
BEGIN
    INSERT INTO tenants (name) VALUES ('ev-c');
    INSERT INTO event_counters (tenant, last) VALUES ('ev-c', 12000);
    INSERT INTO events (tenant, event_id, type, occurred_at, data)
    SELECT 'ev-c', i, 'order.placed', now(), '{}' FROM generate_series(1, 12000) i;
    SELECT * INTO STRICT r FROM pp_list_events('ev-c', NULL, 'trade.filled', 100, 0, NULL);
    PERFORM pp_test_eq((r.status, r.body, r.next_after, r.more), (200, '[]'::text, 5000::bigint, true),
                       'first budget');
    SELECT * INTO STRICT r FROM pp_list_events('ev-c', NULL, 'trade.filled', 100, 10000, NULL);
    PERFORM pp_test_eq((r.body, r.next_after, r.more), ('[]'::text, 12000::bigint, false), 'the end');
    UPDATE events SET type = 'trade.filled' WHERE tenant = 'ev-c' AND event_id IN (7000, 7001);
    SELECT * INTO STRICT r FROM pp_list_events('ev-c', NULL, 'trade.filled', 1, 5000, NULL);
    PERFORM pp_test_eq((pg_temp.ids(r.body), r.next_after, r.more), (ARRAY[7000::bigint], 7000::bigint, true),
                       'a full page stops at its last event');
END
$$;

-- test: a cursor before the purged events, or past the stream's end, is CURSOR_EXPIRED; the purge deletes only expired events and records how far
DO $$
DECLARE
    r record;
BEGIN
    INSERT INTO tenants (name) VALUES ('ev-d');
    INSERT INTO event_counters (tenant, last) VALUES ('ev-d', 3000);
    INSERT INTO events (tenant, event_id, type, occurred_at, data)
    SELECT 'ev-d', i, 'order.placed',
           CASE WHEN i <= 2500 THEN now() - interval '8 days' ELSE now() END, '{}'
    FROM generate_series(1, 3000) i;
    PERFORM pp_test_eq(pp_events_purge('ev-d'), 2048::bigint, 'the first 2,048 expired');
    PERFORM pp_test_eq(pp_events_purge('ev-d'), 2500::bigint, 'the rest of the expired');
    PERFORM pp_test_eq(pp_events_purge('ev-d'), NULL::bigint, 'nothing left to purge');
    PERFORM pp_test_eq((SELECT min(event_id) FROM events WHERE tenant = 'ev-d'), 2501::bigint, 'kept');
    UPDATE event_counters SET purged_through = 2500 WHERE tenant = 'ev-d';
    SELECT * INTO STRICT r FROM pp_list_events('ev-d', NULL, NULL, 10, 2499, NULL);
    PERFORM pp_test_error(r.status, r.body, 410, 'CURSOR_EXPIRED', 'behind the purge');
    SELECT * INTO STRICT r FROM pp_list_events('ev-d', NULL, NULL, 10, 3001, NULL);
    PERFORM pp_test_error(r.status, r.body, 410, 'CURSOR_EXPIRED', 'past the end');
    SELECT * INTO STRICT r FROM pp_list_events('ev-d', NULL, NULL, 2, 2500, NULL);
    PERFORM pp_test_eq(pg_temp.ids(r.body), '{2501,2502}'::bigint[], 'right at the purge');
    SELECT * INTO STRICT r FROM pp_list_events('ev-d', NULL, NULL, 2, NULL, NULL);
    PERFORM pp_test_eq(pg_temp.ids(r.body), '{2501,2502}'::bigint[], 'no cursor: the oldest kept');
    SELECT * INTO STRICT r FROM pp_list_events('ev-d', NULL, NULL, 2, 3000, NULL);
    PERFORM pp_test_eq((r.status, r.body, r.next_after), (200, '[]'::text, 3000::bigint), 'at the end');
END
$$;

-- test: the retention the module passes is kept (written only when it changes) and the flush purges with it every 1,024 pending rows
DO $$
DECLARE
    u bigint := pp_test_user('ev-a', 'ev-14', 'ev14@example.com');
    a uuid := pp_test_account('ev-a', u, 'ev14-acc', 1000);
    v_xmin xid;
    v_seq bigint;
BEGIN
    PERFORM pp_test_priced('0xe260l', '260111', 0.40, 0.45);
    PERFORM pg_temp.flush();
    PERFORM pp_list_events('ev-a', NULL, NULL, 1, NULL, 3600);
    PERFORM pp_test_eq((SELECT retention FROM event_counters WHERE tenant = 'ev-a'),
                       interval '1 hour', 'retention');
    SELECT xmin INTO v_xmin FROM event_counters WHERE tenant = 'ev-a';
    PERFORM pp_list_events('ev-a', NULL, NULL, 1, NULL, 3600);
    PERFORM pp_test_eq((SELECT xmin FROM event_counters WHERE tenant = 'ev-a'), v_xmin,
                       'the same retention writes nothing');
    UPDATE events SET occurred_at = now() - interval '2 hours' WHERE tenant = 'ev-a';
    -- the next pending rows cross a multiple of 1,024
    v_seq := (SELECT last_value FROM pg_sequences WHERE sequencename = 'event_pending_seq_seq');
    PERFORM setval('event_pending_seq_seq', (v_seq / 1024 + 1) * 1024 - 1);
    PERFORM pp_test_place('ev-a', a, '260111', 'BUY', 'market', 1);
    PERFORM pg_temp.flush();
    PERFORM pp_test_eq(pg_temp.types('ev-a'), '{order.placed,trade.filled}'::text[], 'only new ones');
    PERFORM pp_test_eq((SELECT purged_through FROM event_counters WHERE tenant = 'ev-a'),
                       pg_temp.last('ev-a') - 2, 'purged through');
END
$$;
