-- The trader's reads: pp_trader_me, pp_trader_account and
-- pp_trader_account_tenant (which routes the trader's orders to the partner
-- functions). A trader sees their own accounts of every tenant and nothing
-- else; a foreign account is indistinguishable from an unknown one.

-- test: a trader without accounts: user_id, email, personal wallet and an empty account list, in that order
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('tr-a', 'tr-1', 'tr1@example.com');
BEGIN
    SELECT * INTO STRICT r FROM pp_trader_me(u);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body, format('{"user_id":%s,"email":"tr1@example.com",'
                                      '"personal_wallet":{"wallet_id":%s,"balance":"1000.00"},"accounts":[]}',
                                      u, pp_test_personal_wallet(u)), 'body');
END
$$;

-- test: a trader registered by two tenants sees the accounts of both, newest first, each as the partner's account state plus its tenant, closed ones included
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('tr-a', 'tr-2', 'tr2@example.com');
    a1 uuid;
    b1 uuid;
    a2 uuid;
    accs jsonb;
    i integer;
BEGIN
    PERFORM pp_test_eq(pp_test_user('tr-b', 'tr-2-at-b', 'tr2@example.com'), u, 'same trader');
    a1 := pp_test_account('tr-a', u, 'tr2-a1', 1000, 'demo', '{"max_dd":10}', '{"plan":"1k"}');
    b1 := pp_test_account('tr-b', u, 'tr2-b1', 2000, 'funded');
    a2 := pp_test_account('tr-a', u, 'tr2-a2', 3000);
    PERFORM pp_close_account('tr-b', b1, 500);
    SELECT * INTO STRICT r FROM pp_trader_me(u);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(pp_test_keys(r.body), ARRAY['user_id', 'email', 'personal_wallet', 'accounts'],
                       'keys');
    accs := r.body::jsonb->'accounts';
    PERFORM pp_test_eq((SELECT array_agg(e->>'account_id' ORDER BY n) FROM jsonb_array_elements(accs)
                        WITH ORDINALITY AS x(e, n)),
                       ARRAY[a2::text, b1::text, a1::text], 'accounts, newest first');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s %s', e->>'tenant', e->>'status', e->>'balance') ORDER BY n)
                        FROM jsonb_array_elements(accs) WITH ORDINALITY AS x(e, n)),
                       ARRAY['tr-a active 3000.00', 'tr-b closed 2000.00', 'tr-a active 1000.00'],
                       'tenant, status and balance');
    -- each account is exactly the partner API's account state plus "tenant", in this order
    FOR i IN 0..2 LOOP
        PERFORM pp_test_eq((accs->i) - 'tenant',
                           pp_account_state((accs->i->>'account_id')::uuid)::jsonb,
                           format('account %s is the envelope', i));
    END LOOP;
    PERFORM pp_test_eq(pp_test_keys((r.body::json->'accounts'->2)::text),
                       ARRAY['account_id', 'external_id', 'stage', 'status', 'balance',
                             'reserved_cash', 'starting_balance', 'equity', 'unrealized_pnl',
                             'realized_pnl', 'open_positions', 'rules', 'metadata', 'updated_at', 'risk',
                             'tenant'],
                       'account keys in order');
    PERFORM pp_test_eq(r.body::json->'accounts'->>2,
                       left(pp_account_state(a1), -1) || ',"tenant":"tr-a"}', 'account text');
END
$$;

-- test: a trader never sees other traders or the tenant's data about them: no other user's accounts, no mapping ids or metadata
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('tr-a', 'tr-3-ext-id', 'tr3@example.com');
    other bigint := pp_test_user('tr-a', 'tr-3o-ext-id', 'tr3o@example.com');
    mine uuid := pp_test_account('tr-a', u, 'tr3-acc', 1000);
    theirs uuid := pp_test_account('tr-a', other, 'tr3o-acc', 5000);
    body text;
BEGIN
    UPDATE tenant_users SET metadata = '{"crm_note":"tenant-private-note"}' WHERE tenant = 'tr-a';
    SELECT * INTO STRICT r FROM pp_trader_me(u);
    body := r.body;
    PERFORM pp_test_eq((SELECT array_agg(e->>'account_id') FROM jsonb_array_elements(body::jsonb->'accounts') e),
                       ARRAY[mine::text], 'only the trader''s own account');
    ASSERT position(theirs::text IN body) = 0, 'another trader''s account in ' || body;
    ASSERT position('tr3o' IN body) = 0, 'another trader''s data in ' || body;
    ASSERT position('tr-3-ext-id' IN body) = 0, 'the tenant''s external_id of the trader in ' || body;
    ASSERT position('tenant-private-note' IN body) = 0, 'the tenant''s metadata of the trader in ' || body;
    ASSERT position((SELECT id::text FROM tenant_users WHERE user_id = u) IN body) = 0,
        'tenant_user_id in ' || body;
    SELECT * INTO STRICT r FROM pp_trader_me(other);
    PERFORM pp_test_eq((SELECT array_agg(e->>'account_id') FROM jsonb_array_elements(r.body::jsonb->'accounts') e),
                       ARRAY[theirs::text], 'the other trader sees only theirs');
    PERFORM pp_test_eq(r.body::jsonb->>'email', 'tr3o@example.com', 'the other trader''s email');
END
$$;

-- test: pp_trader_me of an unknown user is 404 USER_NOT_FOUND
DO $$
DECLARE
    r record;
BEGIN
    SELECT * INTO STRICT r FROM pp_trader_me((SELECT coalesce(max(id), 0) + 1 FROM users));
    PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', 'unknown user');
END
$$;

-- test: pp_trader_account: the account state with its tenant and open positions by token (quantity, average entry, mark price); closed and archived positions left out
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('tr-a', 'tr-4', 'tr4@example.com');
    a uuid := pp_test_account('tr-a', u, 'tr4-acc', 1000);
    w bigint := pp_test_wallet(a);
    p bigint;
BEGIN
    PERFORM pp_test_token('21001', 0.40, 0.50);                 -- mark 0.45
    PERFORM pp_test_token('21002', NULL, NULL, NULL, NULL, 'No'); -- no price: marked at entry
    PERFORM pp_test_token('21003', NULL, NULL, 0.3);
    PERFORM pp_test_position(w, '21001', 10, 0.3);
    PERFORM pp_test_position(w, '21002', 2.5, 0.123456);
    p := pp_test_position(w, '21003', 4, 0.25);
    UPDATE positions SET archived_at = clock_timestamp() WHERE id = p;
    p := pp_test_position(w, '21003', 6, 0.25);
    UPDATE positions SET quantity = 0, closed_at = clock_timestamp() WHERE id = p;
    SELECT * INTO STRICT r FROM pp_trader_account(u, a);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body, left(pp_account_state(a), -1) || ',"tenant":"tr-a","positions":['
        '{"token_id":"21001","market_id":"0xc21001","outcome":"Yes","quantity":"10.0000",'
          '"average_entry_price":"0.3000","mark_price":"0.4500"},'
        '{"token_id":"21002","market_id":"0xc21002","outcome":"No","quantity":"2.5000",'
          '"average_entry_price":"0.1235","mark_price":"0.1235"}]}', 'body');
    PERFORM pp_test_eq(jsonb_array_length(r.body::jsonb->'open_positions'), 2, 'envelope positions');
    -- without positions
    a := pp_test_account('tr-a', u, 'tr4-empty', 100);
    SELECT * INTO STRICT r FROM pp_trader_account(u, a);
    PERFORM pp_test_eq(r.body::jsonb->'positions', '[]'::jsonb, 'no positions');
END
$$;

-- test: another trader's account, an account of another tenant's trader and an unknown id are the same 404 ACCOUNT_NOT_FOUND, and have no tenant
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('tr-a', 'tr-5', 'tr5@example.com');
    other bigint := pp_test_user('tr-a', 'tr-5o', 'tr5o@example.com');
    elsewhere bigint := pp_test_user('tr-b', 'tr-5e', 'tr5e@example.com');
    mine uuid := pp_test_account('tr-a', u, 'tr5-acc', 1000);
    c record;
    not_found text := '{"error":"ACCOUNT_NOT_FOUND","message":"no account with this account_id belongs to you"}';
BEGIN
    FOR c IN SELECT * FROM (VALUES
        (pp_test_account('tr-a', other, 'tr5o-acc', 1000), 'same tenant, other trader'),
        (pp_test_account('tr-b', elsewhere, 'tr5e-acc', 1000), 'other tenant, other trader'),
        (gen_random_uuid(), 'unknown id')) AS v(acc, what)
    LOOP
        SELECT * INTO STRICT r FROM pp_trader_account(u, c.acc);
        PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', c.what);
        PERFORM pp_test_eq(r.body, not_found, c.what || ': body');
        PERFORM pp_test_eq(pp_trader_account_tenant(u, c.acc), NULL::text, c.what || ': tenant');
    END LOOP;
    PERFORM pp_test_eq(pp_trader_account_tenant(u, mine), 'tr-a', 'own account: tenant');
    PERFORM pp_test_eq(pp_trader_account_tenant(other, mine), NULL::text, 'the other trader on mine');
    SELECT * INTO STRICT r FROM pp_trader_account(other, mine);
    PERFORM pp_test_eq(r.body, not_found, 'the other trader reads mine');
END
$$;

-- test: a trader of two tenants trades each account through its own tenant; the tenant of one account never reaches the other
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('tr-a', 'tr-6', 'tr6@example.com');
    a uuid := pp_test_account('tr-a', u, 'tr6-a', 1000);
    b uuid;
    o bigint;
BEGIN
    PERFORM pp_test_user('tr-b', 'tr-6', 'tr6@example.com');
    b := pp_test_account('tr-b', u, 'tr6-b', 1000);
    PERFORM pp_test_eq(pp_trader_account_tenant(u, a), 'tr-a', 'account at tr-a');
    PERFORM pp_test_eq(pp_trader_account_tenant(u, b), 'tr-b', 'account at tr-b');
    PERFORM pp_test_priced('0xe2106', '21061', 0.40, 0.42);
    o := pp_test_place(pp_trader_account_tenant(u, b), b, '21061', 'BUY', 'market', 10);
    PERFORM pp_test_eq((SELECT x.body::jsonb->>'account_id' FROM pp_trader_account(u, b) x), b::text, 'read b');
    PERFORM pp_test_eq((SELECT x.body::jsonb->'positions'->0->>'quantity' FROM pp_trader_account(u, b) x),
                       '10.0000', 'b holds the position');
    PERFORM pp_test_eq((SELECT x.body::jsonb->'positions' FROM pp_trader_account(u, a) x), '[]'::jsonb,
                       'a holds nothing');
    SELECT * INTO STRICT r FROM pp_list_trades(pp_trader_account_tenant(u, b), b, 10, NULL, NULL, NULL, NULL);
    PERFORM pp_test_eq((r.body::jsonb->0->>'trade_id')::bigint, o, 'the fill of b');
    -- the wrong tenant for an account is the partner API's 404
    PERFORM pp_test_eq((SELECT x.status FROM pp_get_account(pp_trader_account_tenant(u, a), b) x), 404,
                       'a''s tenant on b');
END
$$;

-- test: a closed account stays readable, and the partner order function refuses new orders on it with 409 ACCOUNT_CLOSED, writing nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('tr-a', 'tr-7', 'tr7@example.com');
    a uuid := pp_test_account('tr-a', u, 'tr7-acc', 1000);
    w bigint := pp_test_wallet(a);
BEGIN
    PERFORM pp_test_priced('0xe2107', '21071', 0.40, 0.42);
    PERFORM pp_test_place('tr-a', a, '21071', 'BUY', 'market', 10);
    PERFORM pp_close_account('tr-a', a, 500);
    SELECT * INTO STRICT r FROM pp_trader_account(u, a);
    PERFORM pp_test_eq(format('%s %s %s', r.status, r.body::jsonb->>'status',
                              r.body::jsonb->'positions'->0->>'quantity'), '200 closed 10.0000', 'readable');
    PERFORM pp_test_eq((SELECT x.body::jsonb->'accounts'->0->>'status' FROM pp_trader_me(u) x), 'closed',
                       'listed as closed');
    PERFORM pp_test_eq(pp_trader_account_tenant(u, a), 'tr-a', 'tenant of a closed account');
    PERFORM pp_test_place_rejected(pp_trader_account_tenant(u, a), a, '21071', 'BUY', 'market', 1, NULL,
                                  NULL, NULL, 0, 0, 409, 'ACCOUNT_CLOSED', 'market BUY on a closed account');
    PERFORM pp_test_place_rejected(pp_trader_account_tenant(u, a), a, '21071', 'SELL', 'limit', 1, 0.5,
                                  NULL, NULL, 0, 0, 409, 'ACCOUNT_CLOSED', 'limit SELL on a closed account');
    -- orders and fills stay listable
    PERFORM pp_test_eq((SELECT x.status FROM pp_list_orders('tr-a', a, 10, NULL) x), 200, 'orders listable');
    PERFORM pp_test_eq((SELECT x.status FROM pp_list_trades('tr-a', a, 10, NULL, NULL, NULL, NULL) x), 200,
                       'trades listable');
END
$$;

-- test: the trader reads write nothing
DO $$
DECLARE
    u bigint := pp_test_user('tr-a', 'tr-8', 'tr8@example.com');
    a uuid := pp_test_account('tr-a', u, 'tr8-acc', 1000);
    before jsonb;
BEGIN
    PERFORM pp_test_token('21081', 0.40, 0.50);
    PERFORM pp_test_position(pp_test_wallet(a), '21081', 10, 0.3);
    before := pp_test_snapshot();
    PERFORM pp_trader_me(u);
    PERFORM pp_trader_account(u, a);
    PERFORM pp_trader_account(u, gen_random_uuid());
    PERFORM pp_trader_account_tenant(u, a);
    PERFORM pp_test_assert_unchanged(before, 'trader reads');
END
$$;
