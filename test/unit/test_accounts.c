#include "unit_suites.h"
#include "pp_accounts.h"
#include "pp_error.h"

#include <apr_strings.h>

#include <string.h>

static pp_tenant_t *tenant(void)
{
    pp_tenants_t *reg = pp_tenants_make(unit_pool);
    pp_tenant_t *t;
    pp_tenants_add(reg, "demo", &t);
    return t;
}

static int create(const char *body, pp_account_creation_t *out, const char **msg)
{
    return pp_accounts_parse_creation(unit_pool, body, strlen(body), tenant(), out, msg);
}

START_TEST(test_creation_ok)
{
    pp_account_creation_t a;
    const char *msg;

    ck_assert_int_eq(create("{\"user_id\":12345,\"external_id\":\"pc_1\",\"stage\":\"challenge\","
                            "\"starting_balance\":\"10000.00\",\"rules\":{\"p\":20}}",
                            &a, &msg),
                     -1);
    ck_assert_str_eq(a.user_id, "12345");
    ck_assert_str_eq(a.external_id, "pc_1");
    ck_assert_str_eq(a.stage, "challenge");
    ck_assert_str_eq(a.starting_balance, "10000.00");
    ck_assert_str_eq(a.rules, "{\"p\":20}");
    ck_assert_str_eq(a.metadata, "{}");
    /* bounds are inclusive and compared as numbers */
    ck_assert_int_eq(create("{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\","
                            "\"starting_balance\":\"100\"}",
                            &a, &msg),
                     -1);
    ck_assert_int_eq(create("{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"funded\","
                            "\"starting_balance\":\"1000000.0\",\"metadata\":null}",
                            &a, &msg),
                     -1);
}
END_TEST

/* starting_balance values that are not plain decimals with <= 2 places */
static const char *const bad_balances[] = {
    "1e4",   "+5", " 100", "100 ", "NaN", "Infinity", "0x10", "-100",  "",
    "1,000", ".",  "..",   ".5",   "5.",  "100.001",  "ten",  "1_000",
};

START_TEST(test_invalid_balance)
{
    pp_account_creation_t a;
    const char *msg;
    const char *body = apr_psprintf(unit_pool,
                                    "{\"user_id\":1,\"external_id\":\"x\",\"stage\":"
                                    "\"demo\",\"starting_balance\":\"%s\"}",
                                    bad_balances[_i]);
    ck_assert_msg(create(body, &a, &msg) == PP_ERR_INVALID_BALANCE,
                  "'%s' not rejected as "
                  "INVALID_BALANCE",
                  bad_balances[_i]);
}
END_TEST

static const struct {
    const char *body;
    int err;
    const char *says;
} bad[] = {
    { "{\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":\"500\"}",
      PP_ERR_VALIDATION_FAILED, "user_id" },
    { "{\"user_id\":\"1\",\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":\"500\"}",
      PP_ERR_VALIDATION_FAILED, "user_id" },
    { "{\"user_id\":1.0,\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":\"500\"}",
      PP_ERR_VALIDATION_FAILED, "user_id" },
    { "{\"user_id\":1,\"stage\":\"demo\",\"starting_balance\":\"500\"}", PP_ERR_VALIDATION_FAILED,
      "external_id" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"starting_balance\":\"500\"}",
      PP_ERR_VALIDATION_FAILED, "stage" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\"}", PP_ERR_VALIDATION_FAILED,
      "starting_balance" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":500}",
      PP_ERR_VALIDATION_FAILED, "starting_balance" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":\"500\","
      "\"rules\":[]}",
      PP_ERR_VALIDATION_FAILED, "rules" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":\"500\","
      "\"metadata\":\"x\"}",
      PP_ERR_VALIDATION_FAILED, "metadata" },
    /* schema problems win over value problems */
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"Demo\",\"starting_balance\":500}",
      PP_ERR_VALIDATION_FAILED, "starting_balance" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"Demo\",\"starting_balance\":\"500\"}",
      PP_ERR_INVALID_STAGE, "demo, challenge, funded" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"\",\"starting_balance\":\"500\"}",
      PP_ERR_INVALID_STAGE, "stage" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":7,\"starting_balance\":\"500\"}",
      PP_ERR_VALIDATION_FAILED, "stage" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":\"99.99\"}",
      PP_ERR_BALANCE_OUT_OF_BOUNDS, "between 100.00 and 1000000.00" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":\"1000000.01\"}",
      PP_ERR_BALANCE_OUT_OF_BOUNDS, "between" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":"
      "\"99999999999999999999999999\"}",
      PP_ERR_BALANCE_OUT_OF_BOUNDS, "between" },
    { "{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\",\"starting_balance\":\"0\"}",
      PP_ERR_BALANCE_OUT_OF_BOUNDS, "between" },
};

/* Unknown top-level fields are accepted and ignored (only PATCH forbids them). */
START_TEST(test_creation_ignores_unknown_fields)
{
    pp_account_creation_t a;
    const char *msg = NULL;
    ck_assert_int_eq(create("{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\","
                            "\"starting_balance\":\"500\",\"status\":\"closed\","
                            "\"rulez\":{\"a\":1}}",
                            &a, &msg),
                     -1);
    ck_assert_str_eq(a.rules, "{}");
    ck_assert_int_eq(create("{\"user_id\":1,\"external_id\":\"x\",\"stage\":\"demo\","
                            "\"starting_balance\":\"500\",\"status\":1,\"rules\":[]}",
                            &a, &msg),
                     PP_ERR_VALIDATION_FAILED);
    ck_assert_ptr_nonnull(strstr(msg, "rules"));
}
END_TEST

START_TEST(test_creation_rejected)
{
    pp_account_creation_t a;
    const char *msg = NULL;
    int err = create(bad[_i].body, &a, &msg);
    ck_assert_msg(err == bad[_i].err, "%s: got %d, want %d (%s)", bad[_i].body, err, bad[_i].err,
                  msg);
    ck_assert_msg(msg && strstr(msg, bad[_i].says), "message for %s is '%s'", bad[_i].body, msg);
}
END_TEST

START_TEST(test_patch)
{
    pp_account_patch_t patch;
    const char *msg;
    const char *b;

    b = "{}";
    ck_assert_int_eq(pp_accounts_parse_patch(unit_pool, b, strlen(b), &patch, &msg), -1);
    ck_assert_ptr_null(patch.rules);
    ck_assert_ptr_null(patch.metadata);
    b = "{\"rules\":{\"a\":1},\"metadata\":null}";
    ck_assert_int_eq(pp_accounts_parse_patch(unit_pool, b, strlen(b), &patch, &msg), -1);
    ck_assert_str_eq(patch.rules, "{\"a\":1}");
    ck_assert_ptr_null(patch.metadata);
    b = "{\"metadata\":{}}";
    ck_assert_int_eq(pp_accounts_parse_patch(unit_pool, b, strlen(b), &patch, &msg), -1);
    ck_assert_str_eq(patch.metadata, "{}");
    b = "{\"rulez\":{}}";
    ck_assert_int_eq(pp_accounts_parse_patch(unit_pool, b, strlen(b), &patch, &msg),
                     PP_ERR_VALIDATION_FAILED);
    ck_assert_ptr_nonnull(strstr(msg, "rulez"));
    b = "{\"stage\":\"funded\"}";
    ck_assert_int_eq(pp_accounts_parse_patch(unit_pool, b, strlen(b), &patch, &msg),
                     PP_ERR_VALIDATION_FAILED);
    ck_assert_ptr_nonnull(strstr(msg, "\"stage\" cannot be changed"));
    b = "{\"rules\":[1]}";
    ck_assert_int_eq(pp_accounts_parse_patch(unit_pool, b, strlen(b), &patch, &msg),
                     PP_ERR_VALIDATION_FAILED);
    b = "";
    ck_assert_int_eq(pp_accounts_parse_patch(unit_pool, b, 0, &patch, &msg),
                     PP_ERR_VALIDATION_FAILED);
}
END_TEST

START_TEST(test_uuid)
{
    ck_assert(pp_accounts_is_uuid("0b1d8e2a-3c4f-5a6b-7c8d-9e0f1a2b3c4d"));
    ck_assert(pp_accounts_is_uuid("0B1D8E2A-3C4F-5A6B-7C8D-9E0F1A2B3C4D"));
    ck_assert(!pp_accounts_is_uuid("0b1d8e2a3c4f5a6b7c8d9e0f1a2b3c4d"));
    ck_assert(!pp_accounts_is_uuid("0b1d8e2a-3c4f-5a6b-7c8d-9e0f1a2b3c4"));
    ck_assert(!pp_accounts_is_uuid("0b1d8e2a-3c4f-5a6b-7c8d-9e0f1a2b3c4d0"));
    ck_assert(!pp_accounts_is_uuid("{0b1d8e2a-3c4f-5a6b-7c8d-9e0f1a2b3c4d}"));
    ck_assert(!pp_accounts_is_uuid("0b1d8e2g-3c4f-5a6b-7c8d-9e0f1a2b3c4d"));
    ck_assert(!pp_accounts_is_uuid(""));
    ck_assert(!pp_accounts_is_uuid("12345"));
}
END_TEST

Suite *unit_accounts_suite(void)
{
    Suite *s = suite_create("accounts");
    TCase *tc = tcase_create("accounts");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_creation_ok);
    tcase_add_loop_test(tc, test_invalid_balance, 0,
                        sizeof(bad_balances) / sizeof(bad_balances[0]));
    tcase_add_test(tc, test_creation_ignores_unknown_fields);
    tcase_add_loop_test(tc, test_creation_rejected, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_patch);
    tcase_add_test(tc, test_uuid);
    suite_add_tcase(s, tc);
    return s;
}
