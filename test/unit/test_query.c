#include "unit_suites.h"
#include "pp_query.h"

#include <apr_strings.h>
#include <string.h>

/* 255 and 256 bytes of market_id */
#define M15  "mmmmmmmmmmmmmmm"
#define M255 M15 M15 M15 M15 M15 M15 M15 M15 M15 M15 M15 M15 M15 M15 M15 M15 M15
#define M256 M255 "m"

/* Query strings we accept, and what they mean (cursor NULL: absent). */
static const struct {
    const char *args;
    int limit;
    const char *side, *market_id, *cursor;
} accepted[] = {
    { NULL, 100, "", "", NULL },
    { "", 100, "", "", NULL },
    { "&", 100, "", "", NULL },
    { "limit=1", 1, "", "", NULL },
    { "limit=500", 500, "", "", NULL },
    { "limit=100", 100, "", "", NULL },
    { "limit=050", 50, "", "", NULL },
    { "limit=00000000000000000000000000000000000000001", 1, "", "", NULL },
    { "li%6Dit=7", 7, "", "", NULL },
    { "side=buy", 100, "BUY", "", NULL },
    { "side=BUY", 100, "BUY", "", NULL },
    { "side=SeLl", 100, "SELL", "", NULL },
    { "side=%62uY", 100, "BUY", "", NULL },
    { "market_id=0xabc123", 100, "", "0xabc123", NULL },
    { "market_id=a+b", 100, "", "a b", NULL },
    { "market_id=a%2Bb", 100, "", "a+b", NULL },
    { "market_id=a%26b%3Dc%25", 100, "", "a&b=c%", NULL },
    { "market_id=caf%C3%A9%20%E2%82%AC+%F0%9F%98%80", 100, "",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL },
    { "market_id=x=y", 100, "", "x=y", NULL },
    { "market_id=" M255, 100, "", M255, NULL },
    { "cursor=abc.DEF-_", 100, "", "", "abc.DEF-_" },
    /* an empty cursor is the first page, as if absent */
    { "cursor=", 100, "", "", NULL },
    { "cursor=&limit=5", 5, "", "", NULL },
    { "limit=5&cursor=x.y&side=sell&market_id=m", 5, "SELL", "m", "x.y" },
    { "market_id=m&side=Buy&cursor=c&limit=500", 500, "BUY", "m", "c" },
    /* unknown names, and empty pieces, are ignored */
    { "foo=bar&limit=5", 5, "", "", NULL },
    { "foo&limit=5", 5, "", "", NULL },
    { "foo=1&foo=2&foo", 100, "", "", NULL },
    { "foo=%zz&bar=%00", 100, "", "", NULL },
    { "LIMIT=0&Side=x&market=&cursor_id=", 100, "", "", NULL },
    { "&&limit=5&&", 5, "", "", NULL },
    { "=&=x", 100, "", "", NULL },
};

START_TEST(test_accepts)
{
    pp_trades_query_t q;
    const char *err = pp_query_parse_trades(unit_pool, accepted[_i].args, &q);

    ck_assert_msg(err == NULL, "rejected '%s': %s", accepted[_i].args, err);
    ck_assert_int_eq(q.limit, accepted[_i].limit);
    ck_assert_str_eq(q.side, accepted[_i].side);
    ck_assert_str_eq(q.market_id, accepted[_i].market_id);
    if (accepted[_i].cursor) {
        ck_assert_ptr_nonnull(q.cursor);
        ck_assert_str_eq(q.cursor, accepted[_i].cursor);
    }
    else {
        ck_assert_ptr_null(q.cursor);
    }
}
END_TEST

/* Query strings we reject, with a word the message must contain. */
static const struct {
    const char *args;
    const char *says;
} rejected[] = {
    { "limit=", "limit" },
    { "limit", "limit" },
    { "limit=0", "limit" },
    { "limit=000", "limit" },
    { "limit=501", "limit" },
    { "limit=1000", "limit" },
    { "limit=-1", "limit" },
    { "limit=+5", "limit" }, /* '+' is a space */
    { "limit=%2B5", "limit" },
    { "limit=5.0", "limit" },
    { "limit=1e2", "limit" },
    { "limit=%205", "limit" },
    { "limit=5%20", "limit" },
    { "limit=abc", "limit" },
    { "limit=0x10", "limit" },
    { "limit=99999999999999999999999999999999999999", "limit" },
    { "limit=4294967396", "limit" }, /* 100 mod 2^32 */
    { "limit=18446744073709551716", "limit" },
    { "limit=%zz", "limit" },
    { "limit=%2", "limit" },
    { "limit=%", "limit" },
    { "limit=5%00", "limit" },
    { "limit=1&limit=2", "\"limit\" is given more than once" },
    { "limit=1&limit=1", "more than once" },
    { "limit&limit=5", "limit" },
    { "side=", "side" },
    { "side", "side" },
    { "side=bu", "side" },
    { "side=buyy", "side" },
    { "side=both", "side" },
    { "side=BUY,SELL", "side" },
    { "side=+buy", "side" },
    { "side=buy%00", "side" },
    { "side=b%C3%BCy", "side" },
    { "side=buy&side=buy", "\"side\" is given more than once" },
    { "market_id=", "market_id" },
    { "market_id", "market_id" },
    { "market_id=" M256, "market_id" },
    { "market_id=a%0Ab", "market_id" },
    { "market_id=%09", "market_id" },
    { "market_id=a%7F", "market_id" },
    { "market_id=%C2%85", "market_id" },
    { "market_id=%FF", "market_id" },
    { "market_id=%C3", "market_id" },
    { "market_id=%C0%AF", "market_id" },
    { "market_id=%E0%80%AF", "market_id" },
    { "market_id=%ED%A0%80", "market_id" },
    { "market_id=%F4%90%80%80", "market_id" },
    { "market_id=a%00", "market_id" },
    { "market_id=a%G0", "market_id" },
    { "market_id=a&market_id=b", "\"market_id\" is given more than once" },
    { "cursor", "cursor" },
    { "cursor=%zz", "cursor" },
    { "cursor=a&cursor=b", "\"cursor\" is given more than once" },
    { "cursor=&cursor=b", "more than once" },
    { "%zz=1", "name" },
    { "lim%it=1", "name" },
    { "%00=1", "name" },
    { "foo=1&limit=0&side=x", "limit" },
};

START_TEST(test_rejects)
{
    pp_trades_query_t q;
    const char *err = pp_query_parse_trades(unit_pool, rejected[_i].args, &q);

    ck_assert_msg(err != NULL, "accepted '%s'", rejected[_i].args);
    ck_assert_msg(strstr(err, rejected[_i].says) != NULL, "message for '%s' is '%s', want '%s'",
                  rejected[_i].args, err, rejected[_i].says);
}
END_TEST

/* Every bare numeric limit: exactly 1..500 pass, each meaning itself. */
START_TEST(test_limit_range)
{
    pp_trades_query_t q;
    int n;

    for (n = 0; n <= 1100; n++) {
        const char *err = pp_query_parse_trades(unit_pool, apr_psprintf(unit_pool, "limit=%d", n),
                                                &q);
        if (n >= 1 && n <= 500) {
            ck_assert_msg(err == NULL, "limit=%d rejected", n);
            ck_assert_int_eq(q.limit, n);
        }
        else {
            ck_assert_msg(err != NULL, "limit=%d accepted", n);
        }
    }
}
END_TEST

Suite *unit_query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("query");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(tc, test_accepts, 0, sizeof(accepted) / sizeof(accepted[0]));
    tcase_add_loop_test(tc, test_rejects, 0, sizeof(rejected) / sizeof(rejected[0]));
    tcase_add_test(tc, test_limit_range);
    suite_add_tcase(s, tc);
    return s;
}
