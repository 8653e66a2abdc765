-- pp_register_user: POST /v1/partner/users.

-- test: a new trader is 201 with the documented body and one personal wallet of 1000.00 funded by one deposit
DO $$
DECLARE
    r record;
    b jsonb;
    u bigint;
    w wallets;
    m tenant_users;
BEGIN
    SELECT * INTO STRICT r FROM pp_register_user('reg-a', 'ext-1', 'reg1@example.com', '{"tier":"gold"}');
    PERFORM pp_test_eq(r.status, 201, 'status');
    b := r.body::jsonb;
    PERFORM pp_test_eq(pp_test_keys(r.body),
                       ARRAY['user_id', 'tenant_user_id', 'external_id', 'email', 'metadata', 'created'],
                       'body keys in order');
    u := (b->>'user_id')::bigint;
    SELECT * INTO STRICT m FROM tenant_users WHERE tenant = 'reg-a' AND external_id = 'ext-1';
    PERFORM pp_test_eq(m.user_id, u, 'mapped user_id');
    PERFORM pp_test_eq(b->>'tenant_user_id', m.id::text, 'tenant_user_id');
    PERFORM pp_test_eq(b->>'external_id', 'ext-1', 'external_id');
    PERFORM pp_test_eq(b->>'email', 'reg1@example.com', 'email');
    PERFORM pp_test_eq(b->'metadata', '{"tier":"gold"}'::jsonb, 'metadata');
    PERFORM pp_test_eq(b->'created', 'true'::jsonb, 'created');
    PERFORM pp_test_eq((SELECT email FROM users WHERE id = u), 'reg1@example.com', 'users.email');
    PERFORM pp_test_eq((SELECT count(*) FROM tenants WHERE name = 'reg-a'), 1::bigint, 'tenant row');

    PERFORM pp_test_eq((SELECT count(*) FROM wallets WHERE user_id = u), 1::bigint, 'wallets of the user');
    SELECT * INTO STRICT w FROM wallets WHERE user_id = u;
    PERFORM pp_test_eq(w.kind, 'personal', 'wallet kind');
    PERFORM pp_test_eq(w.balance::text, '1000.00', 'personal balance');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE wallet_id = w.id), 1::bigint, 'ledger entries');
    PERFORM pp_test_eq((SELECT cause || ' ' || amount FROM ledger WHERE wallet_id = w.id),
                       'deposit 1000.00', 'the deposit');
    PERFORM pp_test_eq((SELECT sum(amount) FROM ledger WHERE wallet_id = w.id), w.balance,
                       'ledger sum = balance');
END
$$;

-- test: a replay with the same external_id and email is 200 created false and writes nothing
DO $$
DECLARE
    r1 record;
    r2 record;
    before jsonb;
BEGIN
    SELECT * INTO STRICT r1 FROM pp_register_user('reg-a', 'ext-2', 'reg2@example.com', '{"a":1}');
    PERFORM pp_test_eq(r1.status, 201, 'first status');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r2 FROM pp_register_user('reg-a', 'ext-2', 'reg2@example.com', '{"a":1}');
    PERFORM pp_test_eq(r2.status, 200, 'replay status');
    PERFORM pp_test_eq(r2.body::jsonb->'created', 'false'::jsonb, 'replay created');
    PERFORM pp_test_eq(r2.body::jsonb - 'created', r1.body::jsonb - 'created', 'replay body');
    PERFORM pp_test_assert_unchanged(before, 'replay');
END
$$;

-- test: the same external_id with a different email is 409 EXTERNAL_ID_CONFLICT and writes nothing
DO $$
DECLARE
    r record;
    before jsonb;
BEGIN
    PERFORM pp_test_user('reg-a', 'ext-3', 'reg3@example.com');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_register_user('reg-a', 'ext-3', 'other3@example.com', '{}');
    PERFORM pp_test_error(r.status, r.body, 409, 'EXTERNAL_ID_CONFLICT', 'different email');
    PERFORM pp_test_assert_unchanged(before, 'EXTERNAL_ID_CONFLICT');
    -- also when the other email belongs to an existing trader
    PERFORM pp_test_user('reg-b', 'x', 'exists3@example.com');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_register_user('reg-a', 'ext-3', 'exists3@example.com', '{}');
    PERFORM pp_test_error(r.status, r.body, 409, 'EXTERNAL_ID_CONFLICT', 'existing other email');
    PERFORM pp_test_assert_unchanged(before, 'EXTERNAL_ID_CONFLICT with an existing email');
END
$$;

-- test: the same email under another external_id of the tenant is 409 USER_ALREADY_MAPPED and writes no users or wallets
DO $$
DECLARE
    r record;
    n_users bigint;
    n_wallets bigint;
    n_ledger bigint;
    before jsonb;
BEGIN
    PERFORM pp_test_user('reg-a', 'ext-4', 'reg4@example.com');
    n_users := (SELECT count(*) FROM users);
    n_wallets := (SELECT count(*) FROM wallets);
    n_ledger := (SELECT count(*) FROM ledger);
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_register_user('reg-a', 'ext-4b', 'reg4@example.com', '{}');
    PERFORM pp_test_error(r.status, r.body, 409, 'USER_ALREADY_MAPPED', 'second external_id');
    PERFORM pp_test_eq((SELECT count(*) FROM users), n_users, 'users rows');
    PERFORM pp_test_eq((SELECT count(*) FROM wallets), n_wallets, 'wallets rows');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger), n_ledger, 'ledger rows');
    PERFORM pp_test_assert_unchanged(before, 'USER_ALREADY_MAPPED');
    PERFORM pp_test_eq((SELECT count(*) FROM tenant_users WHERE tenant = 'reg-a' AND external_id = 'ext-4b'),
                       0::bigint, 'no mapping for the rejected external_id');
END
$$;

-- test: registering the same email from another tenant links the same trader (201) with still one personal wallet
DO $$
DECLARE
    r record;
    u bigint;
    pw bigint;
BEGIN
    u := pp_test_user('reg-a', 'ext-5', 'reg5@example.com');
    pw := pp_test_personal_wallet(u);
    SELECT * INTO STRICT r FROM pp_register_user('reg-b', 'other-5', 'reg5@example.com', '{"b":true}');
    PERFORM pp_test_eq(r.status, 201, 'status for the second tenant');
    PERFORM pp_test_eq((r.body::jsonb->>'user_id')::bigint, u, 'same user_id');
    PERFORM pp_test_eq(r.body::jsonb->'created', 'true'::jsonb, 'created (nothing tells the trader existed)');
    PERFORM pp_test_eq(r.body::jsonb->>'external_id', 'other-5', 'external_id');
    PERFORM pp_test_eq(r.body::jsonb->'metadata', '{"b":true}'::jsonb, 'metadata of this mapping');
    PERFORM pp_test_eq((SELECT count(*) FROM users WHERE email = 'reg5@example.com'), 1::bigint, 'users rows');
    PERFORM pp_test_eq((SELECT count(*) FROM wallets WHERE user_id = u), 1::bigint, 'wallets of the trader');
    PERFORM pp_test_eq(pp_test_personal_wallet(u), pw, 'same personal wallet');
    PERFORM pp_test_eq(pp_test_balance(pw), '1000.00', 'personal balance');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE wallet_id = pw), 1::bigint, 'personal ledger entries');
    PERFORM pp_test_eq((SELECT count(*) FROM tenant_users WHERE user_id = u), 2::bigint, 'mappings');
    -- the first tenant's mapping is untouched
    PERFORM pp_test_eq((SELECT external_id FROM tenant_users WHERE tenant = 'reg-a' AND user_id = u),
                       'ext-5', 'first mapping');
END
$$;

-- test: a native trader who already exists is linked without a second personal wallet
DO $$
DECLARE
    r record;
    u bigint;
    pw bigint;
BEGIN
    INSERT INTO users (email) VALUES ('native6@example.com') RETURNING id INTO u;
    pw := pp_open_personal_wallet(u);
    SELECT * INTO STRICT r FROM pp_register_user('reg-a', 'ext-6', 'native6@example.com', '{}');
    PERFORM pp_test_eq(r.status, 201, 'status');
    PERFORM pp_test_eq((r.body::jsonb->>'user_id')::bigint, u, 'user_id of the native trader');
    PERFORM pp_test_eq((SELECT count(*) FROM wallets WHERE user_id = u), 1::bigint, 'wallets');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE wallet_id = pw), 1::bigint, 'ledger entries');
END
$$;

-- test: a replay on the second tenant is 200 and does not disturb the first tenant
DO $$
DECLARE
    r record;
    u bigint;
    before jsonb;
BEGIN
    u := pp_test_user('reg-a', 'ext-7', 'reg7@example.com');
    PERFORM pp_test_user('reg-b', 'other-7', 'reg7@example.com');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_register_user('reg-b', 'other-7', 'reg7@example.com', '{}');
    PERFORM pp_test_eq(r.status, 200, 'replay status');
    PERFORM pp_test_eq((r.body::jsonb->>'user_id')::bigint, u, 'user_id');
    PERFORM pp_test_assert_unchanged(before, 'replay on the second tenant');
    -- and a second external_id on the second tenant is rejected there too
    SELECT * INTO STRICT r FROM pp_register_user('reg-b', 'other-7b', 'reg7@example.com', '{}');
    PERFORM pp_test_error(r.status, r.body, 409, 'USER_ALREADY_MAPPED', 'second mapping on tenant b');
    PERFORM pp_test_assert_unchanged(before, 'USER_ALREADY_MAPPED on tenant b');
END
$$;
