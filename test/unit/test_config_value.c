#include "unit_suites.h"
#include "pp_config_value.h"

#include <limits.h>

START_TEST(test_number_in_range)
{
    long n = -1;

    ck_assert(pp_config_number("5", 1, 3600, &n));
    ck_assert_int_eq(n, 5);
    ck_assert(pp_config_number("3600", 1, 3600, &n));
    ck_assert_int_eq(n, 3600);
    ck_assert(pp_config_number("0", 0, 86400, &n));
    ck_assert_int_eq(n, 0);
    ck_assert(pp_config_number("00000000000000000000000001048576", 2, 67108864, &n));
    ck_assert_int_eq(n, 1048576);
    ck_assert(pp_config_number("9223372036854775807", 0, LONG_MAX, &n));
    ck_assert_int_eq(n, LONG_MAX);
}
END_TEST

/* Only digits: what strtol also took (a sign, leading blanks) is refused,
 * and nothing out of range wraps around. */
START_TEST(test_number_refused)
{
    static const char *const bad[] = {
        "",
        "+5",
        "-5",
        "-0",
        " 5",
        "5 ",
        "5s",
        "0x10",
        "1e3",
        "3601",
        "0",
        "99999999999999999999999",
        "9223372036854775808",
    };
    long n = -7;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!pp_config_number(bad[i], 1, 3600, &n), "accepted '%s'", bad[i]);
    }
    /* above a small max, past max - digit < 0 */
    ck_assert(!pp_config_number("7", 0, 5, &n));
    ck_assert(!pp_config_number("9223372036854775808", 0, LONG_MAX, &n));
    ck_assert_int_eq(n, -7);
}
END_TEST

Suite *unit_config_value_suite(void)
{
    Suite *s = suite_create("config_value");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_number_in_range);
    tcase_add_test(tc, test_number_refused);
    suite_add_tcase(s, tc);
    return s;
}
