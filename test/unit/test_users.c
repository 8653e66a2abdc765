#include "unit_suites.h"
#include "pp_users.h"

#include <stdio.h>
#include <string.h>

static int parse(const char *body, pp_user_registration_t *reg, const char **msg)
{
    return pp_users_parse_registration(unit_pool, body, strlen(body), reg, msg);
}

START_TEST(test_registration_ok)
{
    pp_user_registration_t reg;
    const char *msg;

    ck_assert_int_eq(parse("{\"external_id\":\"pc_1\",\"email\":\" A@B.Co \"}", &reg, &msg), -1);
    ck_assert_str_eq(reg.external_id, "pc_1");
    ck_assert_str_eq(reg.email, "a@b.co");
    ck_assert_str_eq(reg.metadata, "{}");
    ck_assert_int_eq(parse("{\"external_id\":\"x\",\"email\":\"a@b.co\",\"metadata\":"
                           "{\"country\":\"ES\",\"n\":[1,{\"d\":2.50}]}}",
                           &reg, &msg),
                     -1);
    ck_assert_str_eq(reg.metadata, "{\"country\":\"ES\",\"n\":[1,{\"d\":2.50}]}");
    ck_assert_int_eq(parse("{\"external_id\":\"x\",\"email\":\"a@b.co\",\"metadata\":null}", &reg,
                           &msg),
                     -1);
    ck_assert_str_eq(reg.metadata, "{}");
}
END_TEST

static const struct {
    const char *body;
    int err;
    const char *says;
} bad[] = {
    { "{\"email\":\"a@b.co\"}", PP_ERR_VALIDATION_FAILED, "external_id" },
    { "{\"external_id\":\"x\"}", PP_ERR_VALIDATION_FAILED, "email" },
    { "{\"external_id\":7,\"email\":\"a@b.co\"}", PP_ERR_VALIDATION_FAILED, "external_id" },
    { "{\"external_id\":\"\",\"email\":\"a@b.co\"}", PP_ERR_VALIDATION_FAILED, "external_id" },
    { "{\"external_id\":\"x\",\"email\":\"ab@\"}", PP_ERR_INVALID_EMAIL, "email" },
    { "{\"external_id\":\"x\",\"email\":\"ab\"}", PP_ERR_VALIDATION_FAILED, "email" },
    { "{\"external_id\":\"x\",\"email\":\"a@b\"}", PP_ERR_INVALID_EMAIL, "email" },
    { "{\"external_id\":\"x\",\"email\":\"a@b.co\",\"metadata\":[]}", PP_ERR_VALIDATION_FAILED,
      "metadata" },
    { "{\"external_id\":\"x\",\"email\":\"a@b.co\",\"metadata\":\"{}\"}", PP_ERR_VALIDATION_FAILED,
      "metadata" },
    { "{\"external_id\":\"x\",\"external_id\":\"y\",\"email\":\"a@b.co\"}",
      PP_ERR_VALIDATION_FAILED, "duplicate key" },
    { "[]", PP_ERR_VALIDATION_FAILED, "object" },
};

/* POST bodies accept and ignore unknown top-level fields (only PATCH
 * forbids them); the known ones are still checked. */
START_TEST(test_registration_ignores_unknown_fields)
{
    pp_user_registration_t reg;
    const char *msg = NULL, *body = "{\"external_id\":\"x\",\"email\":\"a@b.co\","
                                    "\"metdata\":{\"a\":1},\"user_id\":7,\"extra\":[1,{}]}";
    ck_assert_int_eq(parse(body, &reg, &msg), -1);
    ck_assert_str_eq(reg.external_id, "x");
    ck_assert_str_eq(reg.metadata, "{}");
    body = "{\"external_id\":\"x\",\"email\":\"a@b.co\",\"extra\":1,\"metadata\":[]}";
    ck_assert_int_eq(parse(body, &reg, &msg), PP_ERR_VALIDATION_FAILED);
    ck_assert_ptr_nonnull(strstr(msg, "metadata"));
}
END_TEST

START_TEST(test_registration_rejected)
{
    pp_user_registration_t reg;
    const char *msg = NULL;
    ck_assert_int_eq(parse(bad[_i].body, &reg, &msg), bad[_i].err);
    ck_assert_msg(msg && strstr(msg, bad[_i].says), "message for %s is '%s'", bad[_i].body, msg);
}
END_TEST

START_TEST(test_external_id_length_in_characters)
{
    pp_user_registration_t reg;
    const char *msg;
    char body[2048];
    char id[1024];
    int i, n = 0;

    /* 255 two-byte characters are 510 bytes but still 255 characters */
    for (i = 0; i < 255; i++) {
        id[n++] = '\xc3';
        id[n++] = '\xa9';
    }
    id[n] = '\0';
    snprintf(body, sizeof(body), "{\"external_id\":\"%s\",\"email\":\"a@b.co\"}", id);
    ck_assert_int_eq(parse(body, &reg, &msg), -1);
    snprintf(body, sizeof(body), "{\"external_id\":\"%sx\",\"email\":\"a@b.co\"}", id);
    ck_assert_int_eq(parse(body, &reg, &msg), PP_ERR_VALIDATION_FAILED);
}
END_TEST

START_TEST(test_parse_id)
{
    const char *id;
    ck_assert_int_eq(pp_users_parse_id("42", &id), 1);
    ck_assert_str_eq(id, "42");
    ck_assert_int_eq(pp_users_parse_id("9223372036854775807", &id), 1);
    ck_assert_int_eq(pp_users_parse_id("9223372036854775808", &id), 0);
    ck_assert_int_eq(pp_users_parse_id("99999999999999999999", &id), 0);
    ck_assert_int_eq(pp_users_parse_id("0", &id), 0);
    ck_assert_int_eq(pp_users_parse_id("042", &id), 0);
    ck_assert_int_eq(pp_users_parse_id("-1", &id), 0);
    ck_assert_int_eq(pp_users_parse_id("+1", &id), 0);
    ck_assert_int_eq(pp_users_parse_id("abc", &id), 0);
    ck_assert_int_eq(pp_users_parse_id("1e3", &id), 0);
    ck_assert_int_eq(pp_users_parse_id("", &id), 0);
}
END_TEST

START_TEST(test_login_link_body)
{
    apr_array_header_t *allow = apr_array_make(unit_pool, 2, sizeof(const char *));
    const char *url, *msg;

    APR_ARRAY_PUSH(allow, const char *) = "https://firm.example.com/app";
    /* {} is the minimum; no body at all is a 422 */
    ck_assert_int_eq(pp_users_parse_login_link(unit_pool, "{}", 2, allow, &url, &msg), -1);
    ck_assert_ptr_null(url);
    ck_assert_int_eq(pp_users_parse_login_link(unit_pool, "", 0, allow, &url, &msg),
                     PP_ERR_VALIDATION_FAILED);
    ck_assert_ptr_nonnull(strstr(msg, "{}"));
    ck_assert_int_eq(pp_users_parse_login_link(unit_pool, "[]", 2, allow, &url, &msg),
                     PP_ERR_VALIDATION_FAILED);
    /* unknown fields are ignored, as by the reference service */
    ck_assert_int_eq(pp_users_parse_login_link(unit_pool, "{\"redirect\":\"x\"}", 16, allow, &url,
                                               &msg),
                     -1);
    ck_assert_ptr_null(url);
    ck_assert_int_eq(pp_users_parse_login_link(unit_pool, "{\"redirect_url\":5}", 18, allow, &url,
                                               &msg),
                     PP_ERR_VALIDATION_FAILED);
    const char *ok = "{\"redirect_url\":\"https://firm.example.com/app/markets?x=1\"}";
    ck_assert_int_eq(pp_users_parse_login_link(unit_pool, ok, strlen(ok), allow, &url, &msg), -1);
    ck_assert_str_eq(url, "https://firm.example.com/app/markets?x=1");
    const char *evil = "{\"redirect_url\":\"https://firm.example.com.evil.com/app\"}";
    ck_assert_int_eq(pp_users_parse_login_link(unit_pool, evil, strlen(evil), allow, &url, &msg),
                     PP_ERR_REDIRECT_NOT_ALLOWED);
    /* a tenant without an allowlist allows no redirect_url at all */
    apr_array_header_t *none = apr_array_make(unit_pool, 1, sizeof(const char *));
    ck_assert_int_eq(pp_users_parse_login_link(unit_pool, ok, strlen(ok), none, &url, &msg),
                     PP_ERR_REDIRECT_NOT_ALLOWED);
}
END_TEST

Suite *unit_users_suite(void)
{
    Suite *s = suite_create("users");
    TCase *tc = tcase_create("users");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_registration_ok);
    tcase_add_test(tc, test_registration_ignores_unknown_fields);
    tcase_add_loop_test(tc, test_registration_rejected, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_external_id_length_in_characters);
    tcase_add_test(tc, test_parse_id);
    tcase_add_test(tc, test_login_link_body);
    suite_add_tcase(s, tc);
    return s;
}
