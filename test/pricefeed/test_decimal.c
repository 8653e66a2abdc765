#include <check.h>
#include <string.h>

#include "pf_decimal.h"

static const struct {
    const char *in, *out;
} canon_ok[] = {
    { "0.50", "0.5" },      { ".48", "0.48" },
    { "007", "7" },         { "1e-3", "0.001" },
    { "5E2", "500" },       { "0.000", "0" },
    { "1.0", "1" },         { "0", "0" },
    { "100", "100" },       { "0.0001", "0.0001" },
    { "2.5e-1", "0.25" },   { "1E+1", "10" },
    { "0e5", "0" },         { "219.217767", "219.217767" },
    { "12.3400", "12.34" }, { "0.001e3", "1" },
};

static const char *const canon_bad[] = {
    "",
    "-0.5",
    "-0",
    "+1",
    " 1",
    "1 ",
    "5.",
    ".",
    "..",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "0x10",
    "1,5",
    "1e",
    "1e+",
    "1e1000",
    "1.2.3",
    "e5",
    "1_000",
    "\xef\xbc\x91",
    "0.00000000000000000000000000000000000000000000000000000000000000001",
};

START_TEST(test_canon_ok)
{
    char out[PF_SIZE_BUF];
    ck_assert_msg(pf_decimal_canon(canon_ok[_i].in, strlen(canon_ok[_i].in), 15, 12, out,
                                   sizeof(out)),
                  "'%s' should be accepted", canon_ok[_i].in);
    ck_assert_str_eq(out, canon_ok[_i].out);
}
END_TEST

START_TEST(test_canon_bad)
{
    char out[PF_SIZE_BUF];
    ck_assert_msg(!pf_decimal_canon(canon_bad[_i], strlen(canon_bad[_i]), 15, 12, out, sizeof(out)),
                  "'%s' should be rejected", canon_bad[_i]);
}
END_TEST

START_TEST(test_canon_limits)
{
    char out[PF_SIZE_BUF], small[4];
    /* digits are counted after dropping redundant zeros */
    ck_assert(pf_decimal_canon("0.100000000000000", 17, 1, 1, out, sizeof(out)));
    ck_assert_str_eq(out, "0.1");
    ck_assert(!pf_decimal_canon("0.12", 4, 1, 1, out, sizeof(out)));
    ck_assert(!pf_decimal_canon("10", 2, 1, 1, out, sizeof(out)));
    ck_assert(!pf_decimal_canon("0.125", 5, 1, 4, small, sizeof(small)));
    /* the length given is honoured (no NUL needed) */
    ck_assert(pf_decimal_canon("0.53xyz", 4, 1, 4, out, sizeof(out)));
    ck_assert_str_eq(out, "0.53");
}
END_TEST

START_TEST(test_parse_kinds)
{
    char out[PF_SIZE_BUF];
#define OK(kind, s, want)                                                     \
    do {                                                                      \
        ck_assert_msg(pf_decimal_parse(kind, s, strlen(s), out, sizeof(out)), \
                      "%s should be accepted", s);                            \
        ck_assert_str_eq(out, want);                                          \
    } while (0)
#define BAD(kind, s)                                                       \
    ck_assert_msg(!pf_decimal_parse(kind, s, strlen(s), out, sizeof(out)), \
                  "%s should be rejected", s)
    OK(PF_DEC_PRICE, "1", "1");
    OK(PF_DEC_PRICE, "1.000", "1");
    OK(PF_DEC_PRICE, "0", "0");
    OK(PF_DEC_PRICE, ".48", "0.48");
    BAD(PF_DEC_PRICE, "1.0001");
    BAD(PF_DEC_PRICE, "2");
    BAD(PF_DEC_PRICE, "-0.1");
    BAD(PF_DEC_PRICE, "0.12345678901"); /* 11 decimals */
    OK(PF_DEC_LEVEL_PRICE, "0.999", "0.999");
    BAD(PF_DEC_LEVEL_PRICE, "0");
    BAD(PF_DEC_LEVEL_PRICE, "0.0");
    BAD(PF_DEC_LEVEL_PRICE, "1");
    BAD(PF_DEC_LEVEL_PRICE, "1.5");
    OK(PF_DEC_TICK, "0.0025", "0.0025");
    OK(PF_DEC_TICK, "0.005", "0.005");
    OK(PF_DEC_TICK, "0.00010", "0.0001");
    BAD(PF_DEC_TICK, "0.00001"); /* finer than numeric(6, 4) */
    BAD(PF_DEC_TICK, "0");
    BAD(PF_DEC_TICK, "1");
    OK(PF_DEC_SIZE, "219.217767", "219.217767");
    OK(PF_DEC_SIZE, "0", "0");
    OK(PF_DEC_SIZE, "999999999999999.5", "999999999999999.5");
    BAD(PF_DEC_SIZE, "1000000000000000"); /* 16 integer digits */
    BAD(PF_DEC_SIZE, "0.0000000000001");  /* 13 decimals */
    BAD(PF_DEC_SIZE, "-3");
#undef OK
#undef BAD
}
END_TEST

START_TEST(test_cmp)
{
    ck_assert_int_eq(pf_decimal_cmp("0.5", "0.50"), 0);
    ck_assert_int_eq(pf_decimal_cmp("010", "10.0"), 0);
    ck_assert_int_lt(pf_decimal_cmp("0.09", "0.1"), 0);
    ck_assert_int_gt(pf_decimal_cmp("1", "0.999"), 0);
    ck_assert_int_eq(pf_decimal_cmp("0", "0.00"), 0);
    ck_assert(pf_decimal_is_plain("0.53", 1, 4));
    ck_assert(!pf_decimal_is_plain(".53", 1, 4));
    ck_assert(pf_decimal_is_zero("0"));
    ck_assert(!pf_decimal_is_zero("0.1"));
}
END_TEST

START_TEST(test_units)
{
    uint64_t u;
    ck_assert(pf_price_units("0.53", &u));
    ck_assert_uint_eq(u, 5300000000ULL);
    ck_assert(pf_price_units("1", &u));
    ck_assert_uint_eq(u, 10000000000ULL);
    ck_assert(pf_price_units("0.0000000001", &u));
    ck_assert_uint_eq(u, 1);
    ck_assert(!pf_price_units("1.5", &u));
    ck_assert(!pf_price_units("2", &u));
    ck_assert(!pf_price_units("0.00000000001", &u));
}
END_TEST

static const struct {
    const char *a, *b, *mid;
} mids[] = {
    { "0.53", "0.54", "0.5350" },
    { "0.034", "0.036", "0.0350" },
    { "0.001", "0.002", "0.0015" },
    { "0.0001", "0.0002", "0.0002" },   /* 0.00015 rounds half up */
    { "0.00001", "0.00002", "0.0000" }, /* 0.000015 */
    { "0", "1", "0.5000" },
    { "1", "1", "1.0000" },
    { "0.47", "0.5", "0.4850" },
    { "0.333", "0.334", "0.3335" },
    { "0.1", "0.2", "0.1500" },         /* exact: no 0.15000000000000002 */
    { "0.12345", "0.12346", "0.1235" }, /* 0.123455 */
};

START_TEST(test_midpoint)
{
    char out[PF_PRICE_BUF];
    ck_assert(pf_price_midpoint4(mids[_i].a, mids[_i].b, out, sizeof(out)));
    ck_assert_str_eq(out, mids[_i].mid);
}
END_TEST

START_TEST(test_midpoint_bad)
{
    char out[PF_PRICE_BUF];
    ck_assert(!pf_price_midpoint4("1.5", "0.5", out, sizeof(out)));
    ck_assert(!pf_price_midpoint4("0.5", "", out, sizeof(out)));
    ck_assert(!pf_price_midpoint4("0.5", "0.6", out, 4));
}
END_TEST

Suite *pf_decimal_suite(void)
{
    Suite *s = suite_create("pf_decimal");
    TCase *tc = tcase_create("decimal");
    tcase_add_loop_test(tc, test_canon_ok, 0, sizeof(canon_ok) / sizeof(canon_ok[0]));
    tcase_add_loop_test(tc, test_canon_bad, 0, sizeof(canon_bad) / sizeof(canon_bad[0]));
    tcase_add_test(tc, test_canon_limits);
    tcase_add_test(tc, test_parse_kinds);
    tcase_add_test(tc, test_cmp);
    tcase_add_test(tc, test_units);
    tcase_add_loop_test(tc, test_midpoint, 0, sizeof(mids) / sizeof(mids[0]));
    tcase_add_test(tc, test_midpoint_bad);
    suite_add_tcase(s, tc);
    return s;
}
