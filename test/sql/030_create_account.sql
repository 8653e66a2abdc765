-- pp_create_account: POST /v1/partner/accounts.

-- test: a new account is 201 with the documented body and a tenant wallet funded by exactly one deposit
DO $$
DECLARE
    r record;
    b jsonb;
    u bigint := pp_test_user('ca-a', 'ca-1', 'ca1@example.com');
    pw bigint;
    a accounts;
    w wallets;
    personal_before text;
BEGIN
    pw := pp_test_personal_wallet(u);
    SELECT row(x.*)::text INTO personal_before FROM wallets x WHERE id = pw;
    SELECT * INTO STRICT r FROM pp_create_account('ca-a', u, 'ca1-acc', 'challenge', 10000,
                                                  '{"max_drawdown":"0.10"}', '{"crm":"c-1"}');
    PERFORM pp_test_eq(r.status, 201, 'status');
    PERFORM pp_test_eq(pp_test_keys(r.body),
                       ARRAY['account_id', 'wallet_id', 'user_id', 'external_id', 'stage', 'status',
                             'starting_balance', 'rules', 'metadata'],
                       'body keys in order');
    b := r.body::jsonb;
    SELECT * INTO STRICT a FROM accounts WHERE tenant = 'ca-a' AND external_id = 'ca1-acc';
    PERFORM pp_test_eq(b,
        jsonb_build_object('account_id', a.id::text, 'wallet_id', a.wallet_id, 'user_id', u,
                           'external_id', 'ca1-acc', 'stage', 'challenge', 'status', 'active',
                           'starting_balance', '10000.00',
                           'rules', '{"max_drawdown":"0.10"}'::jsonb,
                           'metadata', '{"crm":"c-1"}'::jsonb),
        'body');
    PERFORM pp_test_eq(a.user_id, u, 'accounts.user_id');
    PERFORM pp_test_eq(a.starting_balance::text, '10000.00', 'accounts.starting_balance');
    PERFORM pp_test_eq(a.reset_count, 0, 'reset_count');
    PERFORM pp_test_eq(a.closed_at, NULL::timestamptz, 'closed_at');

    SELECT * INTO STRICT w FROM wallets WHERE id = a.wallet_id;
    PERFORM pp_test_eq(w.kind, 'tenant', 'wallet kind');
    PERFORM pp_test_eq(w.user_id, u, 'wallet user');
    PERFORM pp_test_eq(w.balance::text, '10000.00', 'wallet balance');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE wallet_id = w.id), 1::bigint, 'ledger entries');
    PERFORM pp_test_eq((SELECT format('%s %s %s', cause, amount, coalesce(order_id::text, '-'))
                        FROM ledger WHERE wallet_id = w.id),
                       'deposit 10000.00 -', 'the deposit');
    -- the personal wallet is not touched
    PERFORM pp_test_eq((SELECT row(x.*)::text FROM wallets x WHERE id = pw), personal_before,
                       'personal wallet');
    PERFORM pp_test_eq((SELECT count(*) FROM ledger WHERE wallet_id = pw), 1::bigint,
                       'personal ledger entries');
END
$$;

-- test: every account of a trader gets its own wallet
DO $$
DECLARE
    u bigint := pp_test_user('ca-a', 'ca-2', 'ca2@example.com');
    w1 bigint;
    w2 bigint;
BEGIN
    w1 := pp_test_wallet(pp_test_account('ca-a', u, 'ca2-acc1', 500));
    w2 := pp_test_wallet(pp_test_account('ca-a', u, 'ca2-acc2', 700.25));
    ASSERT w1 <> w2, 'two accounts share a wallet';
    PERFORM pp_test_eq(pp_test_balance(w1), '500.00', 'first balance');
    PERFORM pp_test_eq(pp_test_balance(w2), '700.25', 'second balance');
    PERFORM pp_test_eq((SELECT count(*) FROM wallets WHERE user_id = u), 3::bigint,
                       'wallets: personal + 2 tenant');
END
$$;

-- test: a replay with a numerically equal balance (10000 vs 10000.00) is 200 with the same body and writes nothing
DO $$
DECLARE
    r1 record;
    r2 record;
    u bigint := pp_test_user('ca-a', 'ca-3', 'ca3@example.com');
    before jsonb;
BEGIN
    SELECT * INTO STRICT r1 FROM pp_create_account('ca-a', u, 'ca3-acc', 'funded', 10000, '{"r":1}', '{}');
    PERFORM pp_test_eq(r1.status, 201, 'first status');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r2 FROM pp_create_account('ca-a', u, 'ca3-acc', 'funded', 10000.00, '{"r":1}', '{}');
    PERFORM pp_test_eq(r2.status, 200, 'replay 10000.00');
    PERFORM pp_test_eq(r2.body, r1.body, 'replay body');
    SELECT * INTO STRICT r2 FROM pp_create_account('ca-a', u, 'ca3-acc', 'funded', '10000.0'::numeric, '{"r":1}', '{}');
    PERFORM pp_test_eq(r2.status, 200, 'replay 10000.0');
    -- rules and metadata of a replay are ignored
    SELECT * INTO STRICT r2 FROM pp_create_account('ca-a', u, 'ca3-acc', 'funded', 10000, '{"other":2}', '{"m":3}');
    PERFORM pp_test_eq(r2.status, 200, 'replay with other rules/metadata');
    PERFORM pp_test_eq(r2.body, r1.body, 'replay body keeps the stored rules and metadata');
    PERFORM pp_test_assert_unchanged(before, 'replays');
END
$$;

-- test: a replay after close still answers 200 with the account's current status
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ca-a', 'ca-3c', 'ca3c@example.com');
    a uuid := pp_test_account('ca-a', u, 'ca3c-acc', 100);
BEGIN
    PERFORM pp_close_account('ca-a', a, 500);
    SELECT * INTO STRICT r FROM pp_create_account('ca-a', u, 'ca3c-acc', 'challenge', 100, '{}', '{}');
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body::jsonb->>'account_id', a::text, 'same account');
    PERFORM pp_test_eq(r.body::jsonb->>'status', 'closed', 'status field');
END
$$;

-- test: a different stage, user or balance under the same external_id is 409 ACCOUNT_EXTERNAL_ID_CONFLICT and writes nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ca-a', 'ca-4', 'ca4@example.com');
    u2 bigint := pp_test_user('ca-a', 'ca-4b', 'ca4b@example.com');
    before jsonb;
BEGIN
    PERFORM pp_test_account('ca-a', u, 'ca4-acc', 10000, 'challenge');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_create_account('ca-a', u, 'ca4-acc', 'funded', 10000, '{}', '{}');
    PERFORM pp_test_error(r.status, r.body, 409, 'ACCOUNT_EXTERNAL_ID_CONFLICT', 'other stage');
    SELECT * INTO STRICT r FROM pp_create_account('ca-a', u2, 'ca4-acc', 'challenge', 10000, '{}', '{}');
    PERFORM pp_test_error(r.status, r.body, 409, 'ACCOUNT_EXTERNAL_ID_CONFLICT', 'other user');
    SELECT * INTO STRICT r FROM pp_create_account('ca-a', u, 'ca4-acc', 'challenge', 10000.01, '{}', '{}');
    PERFORM pp_test_error(r.status, r.body, 409, 'ACCOUNT_EXTERNAL_ID_CONFLICT', 'other balance');
    SELECT * INTO STRICT r FROM pp_create_account('ca-a', u, 'ca4-acc', 'challenge', 1000, '{}', '{}');
    PERFORM pp_test_error(r.status, r.body, 409, 'ACCOUNT_EXTERNAL_ID_CONFLICT', 'balance 1000 vs 10000');
    PERFORM pp_test_assert_unchanged(before, 'conflicts');
END
$$;

-- test: an unmapped user is 404 USER_NOT_FOUND and writes nothing
DO $$
DECLARE
    r record;
    u_other bigint := pp_test_user('ca-b', 'ca-5', 'ca5@example.com');
    before jsonb;
BEGIN
    PERFORM pp_test_user('ca-a', 'ca-5a', 'ca5a@example.com');   -- tenant ca-a exists
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_create_account('ca-a', u_other, 'ca5-acc', 'demo', 100, '{}', '{}');
    PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', 'user of another tenant');
    SELECT * INTO STRICT r FROM pp_create_account('ca-a', (SELECT max(id) + 1000 FROM users), 'ca5-acc',
                                                  'demo', 100, '{}', '{}');
    PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', 'unknown user');
    SELECT * INTO STRICT r FROM pp_create_account('no-such-tenant', u_other, 'ca5-acc', 'demo', 100, '{}', '{}');
    PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', 'unknown tenant');
    PERFORM pp_test_assert_unchanged(before, 'USER_NOT_FOUND');
END
$$;

-- test: the same external_id in two tenants makes two independent accounts
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ca-a', 'ca-6', 'ca6@example.com');
    a1 uuid;
BEGIN
    PERFORM pp_test_user('ca-b', 'ca-6', 'ca6@example.com');
    a1 := pp_test_account('ca-a', u, 'shared-ext', 100, 'demo');
    SELECT * INTO STRICT r FROM pp_create_account('ca-b', u, 'shared-ext', 'funded', 200, '{}', '{}');
    PERFORM pp_test_eq(r.status, 201, 'status on the second tenant');
    ASSERT (r.body::jsonb->>'account_id')::uuid <> a1, 'same account across tenants';
    ASSERT (r.body::jsonb->>'wallet_id')::bigint <> pp_test_wallet(a1), 'same wallet across tenants';
    PERFORM pp_test_eq(pp_test_balance(pp_test_wallet(a1)), '100.00', 'first tenant''s wallet');
END
$$;

-- test: the stage is one of demo, challenge, funded at the database level too
DO $$
DECLARE
    u bigint := pp_test_user('ca-a', 'ca-7', 'ca7@example.com');
    before jsonb := pp_test_snapshot();
    state text;
BEGIN
    BEGIN
        PERFORM pp_create_account('ca-a', u, 'ca7-acc', 'Demo', 100, '{}', '{}');
    EXCEPTION WHEN check_violation THEN
        state := SQLSTATE;
    END;
    PERFORM pp_test_eq(state, '23514', 'SQLSTATE for stage Demo');
    PERFORM pp_test_assert_unchanged(before, 'rejected stage');
END
$$;
