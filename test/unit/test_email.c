#include "unit_suites.h"
#include "pp_email.h"

START_TEST(test_normalize)
{
    ck_assert_str_eq(pp_email_normalize(unit_pool, "  Mixed.Case@Example.COM \t\n"),
                     "mixed.case@example.com");
    ck_assert_str_eq(pp_email_normalize(unit_pool, "a@b.co"), "a@b.co");
    ck_assert_str_eq(pp_email_normalize(unit_pool, "   "), "");
    /* non-ASCII bytes are left alone */
    ck_assert_str_eq(pp_email_normalize(unit_pool, "J\xc3\x89@X.io"), "j\xc3\x89@x.io");
}
END_TEST

static const char *const valid[] = {
    "a@b.co", "trader@example.com", "first.last+tag@sub.example.co.uk", "x@localhost.localdomain",
    "j\xc3\xa9@example.com",
};

static const char *const invalid[] = {
    "", "a", "a@b", "no-at-sign.example.com", "a@@b.com", "a@b@c.com", "a b@c.com", "@example.com",
    "user@.com", "user@example.", "user@example..com", "user@", "a\x01@b.com",
    "toolonglocalpart-toolonglocalpart-toolonglocalpart-toolonglocalpart@x.com",
};

START_TEST(test_valid)
{
    ck_assert_msg(pp_email_is_valid(valid[_i]), "%s should be valid", valid[_i]);
}
END_TEST

START_TEST(test_invalid)
{
    ck_assert_msg(!pp_email_is_valid(invalid[_i]), "%s should be invalid", invalid[_i]);
}
END_TEST

Suite *unit_email_suite(void)
{
    Suite *s = suite_create("email");
    TCase *tc = tcase_create("email");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_normalize);
    tcase_add_loop_test(tc, test_valid, 0, sizeof(valid) / sizeof(valid[0]));
    tcase_add_loop_test(tc, test_invalid, 0, sizeof(invalid) / sizeof(invalid[0]));
    suite_add_tcase(s, tc);
    return s;
}
