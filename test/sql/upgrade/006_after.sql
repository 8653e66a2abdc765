-- A database upgraded from migration 006 keeps every existing id, and new ids
-- are above anything the old sequences handed out. Run by
-- test/harness/run-sql-tests after 006_before.sql and the upgrade, with the
-- test helpers of 000_setup.sql loaded again.
DO $$
DECLARE
    b record;
    r record;
    new_users bigint[] := '{}';
    new_wallets bigint[] := '{}';
    u bigint;
BEGIN
    PERFORM pp_test_eq((SELECT count(*) FROM up_before), 5::bigint, 'traders before the upgrade');
    PERFORM pp_test_eq((SELECT array_agg(user_id ORDER BY user_id) FROM up_before),
                       ARRAY[1, 2, 3, 4, 5]::bigint[], 'ids before the upgrade');
    PERFORM pp_test_eq((SELECT array_agg(name || ' ' || floor ORDER BY name) FROM opaque_id_spaces),
                       ARRAY['users 41', 'wallets 71'], 'floors above the old sequences');
    FOR b IN SELECT * FROM up_before LOOP
        PERFORM pp_test_eq((SELECT email FROM users WHERE id = b.user_id), b.email, 'user kept');
        SELECT * INTO STRICT r FROM pp_get_user('up-a', b.user_id);
        PERFORM pp_test_eq(r.status, 200, 'GET user by an old id');
        SELECT * INTO STRICT r FROM pp_get_account('up-a', b.account_id);
        PERFORM pp_test_eq(r.status, 200, 'GET account of an old wallet');
        PERFORM pp_test_eq(pp_test_personal_wallet(b.user_id), b.personal_wallet,
                           'personal wallet kept');
        PERFORM pp_test_eq((SELECT wallet_id FROM accounts WHERE id = b.account_id), b.wallet_id,
                           'account wallet kept');
        -- an old trader registered by another tenant keeps the old id
        PERFORM pp_test_eq(pp_test_user('up-b', 'again-' || b.user_id, b.email), b.user_id,
                           'old trader linked by email');
    END LOOP;
    FOR i IN 1..200 LOOP
        u := pp_test_user('up-a', 'up-new-' || i, format('up-new-%s@example.com', i));
        new_users := new_users || u;
        new_wallets := new_wallets || pp_test_personal_wallet(u)
                                   || pp_test_wallet(pp_test_account('up-a', u, 'up-new-acc-' || i));
    END LOOP;
    PERFORM pp_test_eq((SELECT count(DISTINCT x) FROM unnest(new_users) x), 200::bigint,
                       'distinct new user ids');
    PERFORM pp_test_eq((SELECT count(DISTINCT x) FROM unnest(new_wallets) x), 400::bigint,
                       'distinct new wallet ids');
    PERFORM pp_test_eq((SELECT count(*) FROM unnest(new_users) x WHERE x <= 40 OR x >= 2::bigint ^ 52),
                       0::bigint, 'new user ids at or below the old sequence');
    PERFORM pp_test_eq((SELECT count(*) FROM unnest(new_wallets) x WHERE x <= 70 OR x >= 2::bigint ^ 52),
                       0::bigint, 'new wallet ids at or below the old sequence');
    PERFORM pp_test_eq((SELECT count(*) FROM users), 205::bigint, 'users');
    PERFORM pp_test_eq((SELECT count(*) FROM wallets), 410::bigint, 'wallets');
END
$$;
SELECT pp_test_assert_invariants();
