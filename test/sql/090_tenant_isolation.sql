-- Tenant isolation at the SQL level: every endpoint function called with
-- another tenant's name on an account or user is 404 and changes nothing.

-- test: every endpoint function answers 404 to another tenant and changes nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ti-a', 'ti-1', 'ti1@example.com');
    a uuid := pp_test_account('ti-a', u, 'ti1-acc', 1000);
    w bigint := pp_test_wallet(a);
    not_found text := (SELECT body FROM pp_account_not_found());
    tenant text;
    before jsonb;
BEGIN
    PERFORM pp_test_user('ti-b', 'ti-1b', 'ti1b@example.com');   -- a real other tenant
    PERFORM pp_test_token('9101', NULL, NULL, 0.5, NULL);
    PERFORM pp_test_position(w, '9101', 100, 0.5);
    PERFORM pp_wallet_post(w, -50.00, 'fill');
    PERFORM pp_engine_rest_limit_order(w, '9101', 'BUY', 10, 0.5);
    PERFORM pp_engine_rest_limit_order(w, '9101', 'SELL', 10, 0.6);
    before := pp_test_snapshot();
    FOREACH tenant IN ARRAY ARRAY['ti-b', 'no-such-tenant'] LOOP
        SELECT * INTO STRICT r FROM pp_get_account(tenant, a);
        PERFORM pp_test_eq(format('%s %s', r.status, r.body), '404 ' || not_found, tenant || ': pp_get_account');
        SELECT * INTO STRICT r FROM pp_patch_account(tenant, a, '{"x":1}', '{"y":2}');
        PERFORM pp_test_eq(format('%s %s', r.status, r.body), '404 ' || not_found, tenant || ': pp_patch_account');
        SELECT * INTO STRICT r FROM pp_close_account(tenant, a, 500);
        PERFORM pp_test_eq(format('%s %s', r.status, r.body), '404 ' || not_found, tenant || ': pp_close_account');
        SELECT * INTO STRICT r FROM pp_close_account(tenant, a, 0);
        PERFORM pp_test_eq(format('%s %s', r.status, r.body), '404 ' || not_found, tenant || ': pp_close_account limit 0');
        SELECT * INTO STRICT r FROM pp_reset_account(tenant, a, 500);
        PERFORM pp_test_eq(format('%s %s', r.status, r.body), '404 ' || not_found, tenant || ': pp_reset_account');
        SELECT * INTO STRICT r FROM pp_get_user(tenant, u);
        PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', tenant || ': pp_get_user');
        SELECT * INTO STRICT r FROM pp_create_account(tenant, u, 'ti1-acc-theirs', 'demo', 100, '{}', '{}');
        PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', tenant || ': pp_create_account');
    END LOOP;
    PERFORM pp_test_assert_unchanged(before, 'calls from other tenants');
END
$$;

-- test: the same trader registered by two tenants: each tenant sees and changes only its own accounts
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ti-a', 'ti-2', 'ti2@example.com');
    a_acc uuid;
    b_acc uuid;
    a_state text;
BEGIN
    PERFORM pp_test_eq(pp_test_user('ti-b', 'ti-2-b', 'ti2@example.com'), u, 'same trader');
    a_acc := pp_test_account('ti-a', u, 'same-ext', 1000);
    b_acc := pp_test_account('ti-b', u, 'same-ext', 2000);
    PERFORM pp_test_token('9102');
    PERFORM pp_engine_rest_limit_order(pp_test_wallet(a_acc), '9102', 'BUY', 10, 0.5);
    a_state := concat_ws(E'\n',
        (SELECT row(x.*)::text FROM accounts x WHERE x.id = a_acc),
        (SELECT row(x.*)::text FROM wallets x WHERE x.id = pp_test_wallet(a_acc)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM orders x WHERE x.wallet_id = pp_test_wallet(a_acc)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM ledger x WHERE x.wallet_id = pp_test_wallet(a_acc)));

    -- ti-b works on its own account of the trader ...
    SELECT * INTO STRICT r FROM pp_get_account('ti-b', b_acc);
    PERFORM pp_test_eq(r.status, 200, 'ti-b reads its account');
    SELECT * INTO STRICT r FROM pp_patch_account('ti-b', b_acc, '{"b":1}', NULL);
    PERFORM pp_test_eq(r.status, 200, 'ti-b patches its account');
    SELECT * INTO STRICT r FROM pp_close_account('ti-b', b_acc, 500);
    PERFORM pp_test_eq(r.status, 200, 'ti-b closes its account');
    SELECT * INTO STRICT r FROM pp_reset_account('ti-b', b_acc, 500);
    PERFORM pp_test_eq(r.status, 200, 'ti-b resets its account');
    -- ... but cannot reach ti-a's
    SELECT * INTO STRICT r FROM pp_get_account('ti-b', a_acc);
    PERFORM pp_test_eq(r.status, 404, 'ti-b reads ti-a''s account');
    SELECT * INTO STRICT r FROM pp_close_account('ti-b', a_acc, 500);
    PERFORM pp_test_eq(r.status, 404, 'ti-b closes ti-a''s account');
    SELECT * INTO STRICT r FROM pp_get_user('ti-b', u);
    PERFORM pp_test_eq((SELECT array_agg(e->>'account_id') FROM jsonb_array_elements(r.body::jsonb->'accounts') e),
                       ARRAY[b_acc::text], 'ti-b lists only its account');
    SELECT * INTO STRICT r FROM pp_get_user('ti-a', u);
    PERFORM pp_test_eq((SELECT array_agg(e->>'account_id') FROM jsonb_array_elements(r.body::jsonb->'accounts') e),
                       ARRAY[a_acc::text], 'ti-a lists only its account');
    PERFORM pp_test_eq(concat_ws(E'\n',
        (SELECT row(x.*)::text FROM accounts x WHERE x.id = a_acc),
        (SELECT row(x.*)::text FROM wallets x WHERE x.id = pp_test_wallet(a_acc)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM orders x WHERE x.wallet_id = pp_test_wallet(a_acc)),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM ledger x WHERE x.wallet_id = pp_test_wallet(a_acc))),
        a_state, 'ti-a''s account, wallet, orders and ledger');
END
$$;

-- test: the trader's personal wallet is never changed by any tenant endpoint
DO $$
DECLARE
    u bigint := pp_test_user('ti-a', 'ti-3', 'ti3@example.com');
    a uuid;
    pw bigint := pp_test_personal_wallet(u);
    personal text;
BEGIN
    personal := concat_ws(E'\n',
        (SELECT row(x.*)::text FROM wallets x WHERE x.id = pw),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM ledger x WHERE x.wallet_id = pw));
    a := pp_test_account('ti-a', u, 'ti3-acc', 1000);
    PERFORM pp_create_account('ti-a', u, 'ti3-acc', 'challenge', 1000, '{}', '{}');
    PERFORM pp_get_account('ti-a', a);
    PERFORM pp_patch_account('ti-a', a, '{"x":1}', '{}');
    PERFORM pp_wallet_post(pp_test_wallet(a), -300, 'fee');
    PERFORM pp_close_account('ti-a', a, 500);
    PERFORM pp_reset_account('ti-a', a, 500);
    PERFORM pp_get_user('ti-a', u);
    PERFORM pp_test_user('ti-b', 'ti-3', 'ti3@example.com');
    PERFORM pp_test_eq(concat_ws(E'\n',
        (SELECT row(x.*)::text FROM wallets x WHERE x.id = pw),
        (SELECT string_agg(row(x.*)::text, ';' ORDER BY x.id) FROM ledger x WHERE x.wallet_id = pw)),
        personal, 'personal wallet and its ledger');
END
$$;
