-- pp_patch_account: PATCH /v1/partner/accounts/{account_id}.

-- test: NULL for both leaves rules and metadata untouched and returns the envelope
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('pa-a', 'pa-1', 'pa1@example.com');
    a uuid := pp_test_account('pa-a', u, 'pa1-acc', 1000, 'demo', '{"a":1,"b":[1,2]}', '{"m":"x"}');
    before jsonb;
BEGIN
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_patch_account('pa-a', a, NULL, NULL);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body, left(pp_account_envelope(a), -1) || ',"risk":' || pp_risk_json(a) || '}',
                       'body is the full envelope with its risk object');
    PERFORM pp_test_eq(r.body::jsonb->'rules', '{"a":1,"b":[1,2]}'::jsonb, 'rules');
    PERFORM pp_test_eq(r.body::jsonb->'metadata', '{"m":"x"}'::jsonb, 'metadata');
    PERFORM pp_test_assert_unchanged(before, 'patch with NULL, NULL');
END
$$;

-- test: an object replaces the stored one wholesale and NULL leaves the other field
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('pa-a', 'pa-2', 'pa2@example.com');
    a uuid := pp_test_account('pa-a', u, 'pa2-acc', 1000, 'demo', '{"a":1,"b":2}', '{"m":"x","n":"y"}');
    acc accounts;
BEGIN
    SELECT * INTO STRICT r FROM pp_patch_account('pa-a', a, '{"b":3,"c":{"d":4}}', NULL);
    PERFORM pp_test_eq(r.status, 200, 'status (rules)');
    SELECT * INTO STRICT acc FROM accounts WHERE id = a;
    PERFORM pp_test_eq(acc.rules, '{"b":3,"c":{"d":4}}'::jsonb, 'rules replaced, not merged');
    PERFORM pp_test_eq(acc.metadata, '{"m":"x","n":"y"}'::jsonb, 'metadata untouched');
    PERFORM pp_test_eq(r.body::jsonb->'rules', acc.rules, 'rules in the body');

    SELECT * INTO STRICT r FROM pp_patch_account('pa-a', a, NULL, '{}');
    PERFORM pp_test_eq(r.status, 200, 'status (metadata)');
    SELECT * INTO STRICT acc FROM accounts WHERE id = a;
    PERFORM pp_test_eq(acc.metadata, '{}'::jsonb, 'metadata replaced by {}');
    PERFORM pp_test_eq(acc.rules, '{"b":3,"c":{"d":4}}'::jsonb, 'rules untouched');

    SELECT * INTO STRICT r FROM pp_patch_account('pa-a', a, '{"r":true}', '{"k":null}');
    SELECT * INTO STRICT acc FROM accounts WHERE id = a;
    PERFORM pp_test_eq(format('%s %s', acc.rules, acc.metadata), '{"r": true} {"k": null}', 'both replaced');
    PERFORM pp_test_eq(r.body::jsonb->'metadata', '{"k":null}'::jsonb, 'metadata in the body');
END
$$;

-- test: patch changes only rules and metadata (stage, balance, status, wallet, counters stay)
DO $$
DECLARE
    u bigint := pp_test_user('pa-a', 'pa-3', 'pa3@example.com');
    a uuid := pp_test_account('pa-a', u, 'pa3-acc', 1000, 'funded');
    before accounts;
    after accounts;
    w_before text;
BEGIN
    SELECT * INTO STRICT before FROM accounts WHERE id = a;
    SELECT row(x.*)::text INTO w_before FROM wallets x WHERE id = before.wallet_id;
    PERFORM pp_patch_account('pa-a', a, '{"x":1}', '{"y":2}');
    SELECT * INTO STRICT after FROM accounts WHERE id = a;
    after.rules := before.rules;
    after.metadata := before.metadata;
    PERFORM pp_test_eq(row(after.*)::text, row(before.*)::text, 'the rest of the account row');
    PERFORM pp_test_eq((SELECT row(x.*)::text FROM wallets x WHERE id = before.wallet_id), w_before, 'wallet');
END
$$;

-- test: another tenant's or an unknown account is 404 ACCOUNT_NOT_FOUND and nothing changes
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('pa-a', 'pa-4', 'pa4@example.com');
    a uuid := pp_test_account('pa-a', u, 'pa4-acc', 1000, 'demo', '{"a":1}', '{"m":1}');
    before jsonb;
BEGIN
    PERFORM pp_test_user('pa-b', 'pa-4', 'pa4@example.com');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_patch_account('pa-b', a, '{"hacked":1}', '{"hacked":1}');
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'other tenant');
    SELECT * INTO STRICT r FROM pp_patch_account('pa-b', a, NULL, NULL);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'other tenant, NULLs');
    SELECT * INTO STRICT r FROM pp_patch_account('pa-a', gen_random_uuid(), '{"x":1}', NULL);
    PERFORM pp_test_error(r.status, r.body, 404, 'ACCOUNT_NOT_FOUND', 'unknown account');
    PERFORM pp_test_assert_unchanged(before, 'rejected patches');
END
$$;

-- test: a closed account can still be read after a patch, and stays closed
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('pa-a', 'pa-5', 'pa5@example.com');
    a uuid := pp_test_account('pa-a', u, 'pa5-acc', 1000);
BEGIN
    PERFORM pp_close_account('pa-a', a, 500);
    SELECT * INTO STRICT r FROM pp_patch_account('pa-a', a, NULL, '{"note":"closed"}');
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body::jsonb->>'status', 'closed', 'still closed');
    PERFORM pp_test_eq(r.body::jsonb->'metadata', '{"note":"closed"}'::jsonb, 'metadata');
END
$$;
