#include "unit_suites.h"
#include "pp_apikey.h"

#include <string.h>

START_TEST(test_generate)
{
    const char *a = pp_apikey_generate(unit_pool), *b = pp_apikey_generate(unit_pool);
    const char *c;

    ck_assert_ptr_nonnull(a);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(strncmp(a, PP_APIKEY_PREFIX, strlen(PP_APIKEY_PREFIX)), 0);
    /* 256 bits as unpadded base64url: 43 characters after the prefix */
    ck_assert_uint_eq(strlen(a), strlen(PP_APIKEY_PREFIX) + 43);
    for (c = a + strlen(PP_APIKEY_PREFIX); *c; c++) {
        ck_assert_msg((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
                          || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_',
                      "'%c' is not URL-safe", *c);
    }
}
END_TEST

START_TEST(test_hash_spec)
{
    /* SHA-256("abc") */
    ck_assert_str_eq(pp_apikey_hash_spec(unit_pool, "abc", 3),
                     "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_parse_hash_spec)
{
    unsigned char d[PP_SHA256_LEN];
    const char *err;

    ck_assert_ptr_null(pp_apikey_parse_hash_spec(
        unit_pool, "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", d));
    ck_assert_uint_eq(d[0], 0xba);
    ck_assert_uint_eq(d[31], 0xad);
    err = pp_apikey_parse_hash_spec(unit_pool, "sha256:xyz", d);
    ck_assert_ptr_nonnull(strstr(err, "malformed key hash"));
    err = pp_apikey_parse_hash_spec(
        unit_pool, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d);
    ck_assert_ptr_nonnull(strstr(err, "expected sha256:"));
    err = pp_apikey_parse_hash_spec(
        unit_pool, "sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d);
    ck_assert_ptr_nonnull(strstr(err, "'g' is not a hex digit"));
    err = pp_apikey_parse_hash_spec(unit_pool, "md5:900150983cd24fb0d6963f7d28e17f72", d);
    ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_perms)
{
    ck_assert_uint_eq(pp_apikey_perm_bit("users:write"), PP_PERM_USERS_WRITE);
    ck_assert_uint_eq(pp_apikey_perm_bit("accounts:read"), PP_PERM_ACCOUNTS_READ);
    ck_assert_uint_eq(pp_apikey_perm_bit("accounts:write"), PP_PERM_ACCOUNTS_WRITE);
    ck_assert_uint_eq(pp_apikey_perm_bit("accounts:delete"), 0);
    ck_assert_uint_eq(pp_apikey_perm_bit("Users:Write"), 0);
    ck_assert_str_eq(pp_apikey_perm_names(unit_pool, PP_PERM_USERS_WRITE | PP_PERM_ACCOUNTS_WRITE),
                     "users:write accounts:write");
}
END_TEST

Suite *unit_apikey_suite(void)
{
    Suite *s = suite_create("apikey");
    TCase *tc = tcase_create("apikey");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_generate);
    tcase_add_test(tc, test_hash_spec);
    tcase_add_test(tc, test_parse_hash_spec);
    tcase_add_test(tc, test_perms);
    suite_add_tcase(s, tc);
    return s;
}
