#include "unit_suites.h"
#include "pp_decimal.h"

static const char *const plain[] = { "0",    "100",      "100.5",          "100.50",
                                     "0.01", "000123.4", "999999999999.99" };
static const char *const not_plain[] = {
    "",     ".",   "..",       ".5",   "5.",    "1e4",   "+5",    "-100",          " 100",
    "100 ", "NaN", "Infinity", "0x10", "1,000", "1.234", "1.2.3", "9999999999999", "１"
};

START_TEST(test_plain)
{
    ck_assert_msg(pp_decimal_is_plain(plain[_i], 12, 2), "'%s' should be plain", plain[_i]);
}
END_TEST

START_TEST(test_not_plain)
{
    ck_assert_msg(!pp_decimal_is_plain(not_plain[_i], 12, 2), "'%s' should be rejected",
                  not_plain[_i]);
}
END_TEST

START_TEST(test_cmp)
{
    ck_assert_int_eq(pp_decimal_cmp("10000", "10000.00"), 0);
    ck_assert_int_eq(pp_decimal_cmp("010", "10.0"), 0);
    ck_assert_int_lt(pp_decimal_cmp("100.00", "1000000.00"), 0);
    ck_assert_int_gt(pp_decimal_cmp("500.00", "100.00"), 0);
    ck_assert_int_lt(pp_decimal_cmp("0.09", "0.1"), 0);
    ck_assert_int_gt(pp_decimal_cmp("99.99", "9.999"), 0);
    ck_assert_int_eq(pp_decimal_cmp("0", "0.00"), 0);
}
END_TEST

Suite *unit_decimal_suite(void)
{
    Suite *s = suite_create("decimal");
    TCase *tc = tcase_create("decimal");
    tcase_add_loop_test(tc, test_plain, 0, sizeof(plain) / sizeof(plain[0]));
    tcase_add_loop_test(tc, test_not_plain, 0, sizeof(not_plain) / sizeof(not_plain[0]));
    tcase_add_test(tc, test_cmp);
    suite_add_tcase(s, tc);
    return s;
}
