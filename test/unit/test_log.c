#include "unit_suites.h"
#include "pp_log.h"

#include <string.h>

static char last[PP_LOG_MAX + 1];
static int calls;
static pp_log_level_t last_level;

static void capture(void *baton, pp_log_level_t level, const char *msg)
{
    ck_assert_ptr_eq(baton, &calls);
    calls++;
    last_level = level;
    strncpy(last, msg, sizeof(last) - 1);
}

START_TEST(test_log_filter)
{
    calls = 0;
    pp_log_set(NULL, NULL, PP_LOG_DEBUG);
    ck_assert(!pp_log_enabled(PP_LOG_ERR));
    pp_log(PP_LOG_ERR, "nobody listens");
    pp_log_set(capture, &calls, PP_LOG_INFO);
    ck_assert(pp_log_enabled(PP_LOG_INFO));
    ck_assert(!pp_log_enabled(PP_LOG_DEBUG));
    pp_log(PP_LOG_DEBUG, "dropped");
    ck_assert_int_eq(calls, 0);
    pp_log(PP_LOG_WARN, "lag %d ms on %s", 250, "ws");
    ck_assert_int_eq(calls, 1);
    ck_assert_int_eq(last_level, PP_LOG_WARN);
    ck_assert_str_eq(last, "lag 250 ms on ws");
    pp_log_set(NULL, NULL, PP_LOG_DEBUG);
}
END_TEST

START_TEST(test_log_truncates)
{
    char big[PP_LOG_MAX + 10];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    pp_log_set(capture, &calls, PP_LOG_DEBUG);
    pp_log(PP_LOG_INFO, "%s", big);
    ck_assert_uint_eq(strlen(last), PP_LOG_MAX - 1);
    ck_assert_str_eq(last + PP_LOG_MAX - 4, "...");
    big[PP_LOG_MAX - 1] = '\0'; /* exactly fits: no "..." */
    pp_log(PP_LOG_INFO, "%s", big);
    ck_assert_uint_eq(strlen(last), PP_LOG_MAX - 1);
    ck_assert_int_eq(last[PP_LOG_MAX - 2], 'x');
    pp_log_set(NULL, NULL, PP_LOG_DEBUG);
}
END_TEST

Suite *unit_log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, test_log_filter);
    tcase_add_test(tc, test_log_truncates);
    suite_add_tcase(s, tc);
    return s;
}
