-- pp_get_user: GET /v1/partner/users/{user_id}.

-- test: own trader is 200 with the profile and no accounts
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('gu-a', 'gu-1', 'gu1@example.com');
    m tenant_users;
BEGIN
    SELECT * INTO STRICT m FROM tenant_users WHERE tenant = 'gu-a' AND user_id = u;
    SELECT * INTO STRICT r FROM pp_get_user('gu-a', u);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(pp_test_keys(r.body),
                       ARRAY['user_id', 'tenant_user_id', 'external_id', 'email', 'metadata', 'accounts'],
                       'body keys in order');
    PERFORM pp_test_eq(r.body::jsonb,
                       jsonb_build_object('user_id', u, 'tenant_user_id', m.id::text,
                                          'external_id', 'gu-1', 'email', 'gu1@example.com',
                                          'metadata', '{}'::jsonb, 'accounts', '[]'::jsonb),
                       'body');
END
$$;

-- test: another tenant's trader and an unknown user_id are 404 USER_NOT_FOUND with the same body
DO $$
DECLARE
    r record;
    r_unknown record;
    u bigint := pp_test_user('gu-a', 'gu-2', 'gu2@example.com');
BEGIN
    PERFORM pp_test_user('gu-b', 'gu-2b', 'gu2b@example.com');   -- tenant gu-b exists
    SELECT * INTO STRICT r FROM pp_get_user('gu-b', u);
    PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', 'other tenant');
    SELECT * INTO STRICT r_unknown FROM pp_get_user('gu-b', (SELECT max(id) + 1000 FROM users));
    PERFORM pp_test_error(r_unknown.status, r_unknown.body, 404, 'USER_NOT_FOUND', 'unknown user');
    PERFORM pp_test_eq(r.body, r_unknown.body, 'other tenant''s trader looks like an unknown one');
    SELECT * INTO STRICT r FROM pp_get_user('no-such-tenant', u);
    PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', 'unknown tenant');
END
$$;

-- test: accounts are listed newest first in the summary shape, only this tenant's
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('gu-a', 'gu-3', 'gu3@example.com');
    a1 uuid;
    a2 uuid;
    a3 uuid;
    b1 uuid;
    acc jsonb;
    want jsonb;
BEGIN
    PERFORM pp_test_user('gu-b', 'gu-3-on-b', 'gu3@example.com');  -- same trader, other tenant
    a1 := pp_test_account('gu-a', u, 'gu3-acc1', 1000, 'demo');
    a2 := pp_test_account('gu-a', u, 'gu3-acc2', 2500.5, 'challenge');
    a3 := pp_test_account('gu-a', u, 'gu3-acc3', 10000, 'funded');
    b1 := pp_test_account('gu-b', u, 'gu3-acc1', 777, 'demo');
    -- creation order is a1, a2, a3; make a2 the newest and a1 the oldest
    UPDATE accounts SET created_at = '2026-01-01 10:00:00+00' WHERE id = a1;
    UPDATE accounts SET created_at = '2026-01-03 10:00:00+00' WHERE id = a2;
    UPDATE accounts SET created_at = '2026-01-02 10:00:00+00' WHERE id = a3;
    PERFORM pp_close_account('gu-a', a3, 500);

    SELECT * INTO STRICT r FROM pp_get_user('gu-a', u);
    PERFORM pp_test_eq(r.status, 200, 'status');
    acc := r.body::jsonb->'accounts';
    PERFORM pp_test_eq((SELECT array_agg((e->>'account_id')::uuid ORDER BY n)
                        FROM jsonb_array_elements(acc) WITH ORDINALITY AS t(e, n)),
                       ARRAY[a2, a3, a1], 'account order (newest first), only this tenant''s');
    -- summary shape, exactly these keys in this order, for each element
    PERFORM pp_test_eq((SELECT array_agg(k ORDER BY n)
                        FROM json_array_elements((r.body::json)->'accounts') WITH ORDINALITY AS e(v, i),
                             json_object_keys(e.v) WITH ORDINALITY AS t(k, n)
                        WHERE e.i = 1),
                       ARRAY['account_id', 'external_id', 'stage', 'status', 'starting_balance',
                             'wallet_id', 'created_at'],
                       'summary keys');
    want := jsonb_build_object('account_id', a2::text, 'external_id', 'gu3-acc2', 'stage', 'challenge',
                               'status', 'active', 'starting_balance', '2500.50',
                               'wallet_id', pp_test_wallet(a2), 'created_at', '2026-01-03T10:00:00Z');
    PERFORM pp_test_eq(acc->0, want, 'summary of the newest account');
    PERFORM pp_test_eq(acc->1->>'status', 'closed', 'closed account listed with its status');
    PERFORM pp_test_eq(acc->1->>'starting_balance', '10000.00', 'starting_balance at 2 decimals');
    PERFORM pp_test_eq(acc->2->>'created_at', '2026-01-01T10:00:00Z', 'created_at of the oldest');
    -- no personal wallet anywhere in the body
    ASSERT position(format('"wallet_id":%s', pp_test_personal_wallet(u)) IN r.body) = 0,
        'the personal wallet is shown: ' || r.body;

    SELECT * INTO STRICT r FROM pp_get_user('gu-b', u);
    PERFORM pp_test_eq((SELECT array_agg(e->>'account_id') FROM jsonb_array_elements(r.body::jsonb->'accounts') e),
                       ARRAY[b1::text], 'the other tenant sees only its own account');
    PERFORM pp_test_eq(r.body::jsonb->>'external_id', 'gu-3-on-b', 'the other tenant''s own mapping');
END
$$;

-- test: pp_get_user reads and writes nothing else
DO $$
DECLARE
    u bigint := pp_test_user('gu-a', 'gu-4', 'gu4@example.com');
    before jsonb;
BEGIN
    PERFORM pp_test_account('gu-a', u, 'gu4-acc');
    before := pp_test_snapshot();
    PERFORM pp_get_user('gu-a', u);
    PERFORM pp_get_user('gu-b', u);
    PERFORM pp_test_assert_unchanged(before, 'pp_get_user');
END
$$;
