#include "unit_suites.h"
#include "pp_error.h"
#include "pp_orders.h"

#include <string.h>

static int parse(const char *body, pp_order_request_t *o, const char **msg)
{
    return pp_orders_parse(unit_pool, body, strlen(body), o, msg);
}

START_TEST(test_orders_ok)
{
    pp_order_request_t o;
    const char *msg;

    ck_assert_int_eq(parse("{\"token_id\":\"123\",\"side\":\"buy\",\"type\":\"market\","
                           "\"quantity\":\"10\"}",
                           &o, &msg),
                     -1);
    ck_assert_str_eq(o.side, "BUY");
    ck_assert_str_eq(o.type, "market");
    ck_assert_str_eq(o.quantity, "10");
    ck_assert_ptr_null(o.limit_price);
    ck_assert_ptr_null(o.worst_price);
    ck_assert_ptr_null(o.client_order_id);
    ck_assert_int_eq(parse("{\"token_id\":\"123\",\"side\":\"SELL\",\"type\":\"market\","
                           "\"quantity\":\"0.0001\",\"worst_price\":\"0.05\","
                           "\"client_order_id\":\"k-1\"}",
                           &o, &msg),
                     -1);
    ck_assert_str_eq(o.worst_price, "0.05");
    ck_assert_str_eq(o.client_order_id, "k-1");
    ck_assert_int_eq(parse("{\"token_id\":\"123\",\"side\":\"Sell\",\"type\":\"limit\","
                           "\"quantity\":\"5.5\",\"limit_price\":\"0.9999\"}",
                           &o, &msg),
                     -1);
    ck_assert_str_eq(o.side, "SELL");
    ck_assert_str_eq(o.limit_price, "0.9999");
}
END_TEST

static const struct {
    const char *body;
    int err;
    const char *says;
} bad[] = {
    { "{\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\"}", PP_ERR_VALIDATION_FAILED,
      "token_id" },
    { "{\"token_id\":123,\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\"}",
      PP_ERR_VALIDATION_FAILED, "token_id" },
    { "{\"token_id\":\"1\",\"type\":\"market\",\"quantity\":\"1\"}", PP_ERR_VALIDATION_FAILED,
      "side" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"quantity\":\"1\"}", PP_ERR_VALIDATION_FAILED,
      "type" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\"}", PP_ERR_VALIDATION_FAILED,
      "quantity" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":1}",
      PP_ERR_VALIDATION_FAILED, "quantity" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\",\"price\":\"0.5\"}",
      PP_ERR_VALIDATION_FAILED, "price" },
    { "{\"token_id\":\"0x12\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\"}",
      PP_ERR_INVALID_ORDER, "token_id" },
    { "{\"token_id\":\"1\",\"side\":\"HOLD\",\"type\":\"market\",\"quantity\":\"1\"}",
      PP_ERR_INVALID_ORDER, "side" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"stop\",\"quantity\":\"1\"}",
      PP_ERR_INVALID_ORDER, "type" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"0\"}",
      PP_ERR_INVALID_ORDER, "quantity" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"-1\"}",
      PP_ERR_INVALID_ORDER, "quantity" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1.00001\"}",
      PP_ERR_INVALID_ORDER, "quantity" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1e3\"}",
      PP_ERR_INVALID_ORDER, "quantity" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"limit\",\"quantity\":\"1\"}",
      PP_ERR_INVALID_ORDER, "limit_price" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"limit\",\"quantity\":\"1\",\"limit_price\":\"1\"}",
      PP_ERR_INVALID_ORDER, "limit_price" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"limit\",\"quantity\":\"1\",\"limit_price\":\"0\"}",
      PP_ERR_INVALID_ORDER, "limit_price" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"limit\",\"quantity\":\"1\",\"limit_price\":\"0.12345\"}",
      PP_ERR_INVALID_ORDER, "limit_price" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"limit\",\"quantity\":\"1\",\"limit_price\":\"0.5\",\"worst_price\":\"0.6\"}",
      PP_ERR_INVALID_ORDER, "worst_price" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\",\"limit_price\":\"0.5\"}",
      PP_ERR_INVALID_ORDER, "limit_price" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\",\"worst_price\":\"1.5\"}",
      PP_ERR_INVALID_ORDER, "worst_price" },
    { "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\",\"client_order_id\":\"\"}",
      PP_ERR_VALIDATION_FAILED, "client_order_id" },
};

START_TEST(test_orders_rejected)
{
    pp_order_request_t o;
    const char *msg = NULL;
    int err = parse(bad[_i].body, &o, &msg);
    ck_assert_msg(err == bad[_i].err, "%s: got %d want %d (%s)", bad[_i].body, err, bad[_i].err,
                  msg);
    ck_assert_msg(msg && strstr(msg, bad[_i].says), "message for %s is '%s'", bad[_i].body, msg);
}
END_TEST

START_TEST(test_order_ids)
{
    ck_assert(pp_orders_is_id("1"));
    ck_assert(pp_orders_is_id("9223372036854775807"));
    ck_assert(!pp_orders_is_id("0"));
    ck_assert(!pp_orders_is_id("01"));
    ck_assert(!pp_orders_is_id("-1"));
    ck_assert(!pp_orders_is_id("abc"));
    ck_assert(!pp_orders_is_id("9223372036854775808"));
}
END_TEST

Suite *unit_orders_suite(void)
{
    Suite *s = suite_create("orders");
    TCase *tc = tcase_create("orders");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_orders_ok);
    tcase_add_loop_test(tc, test_orders_rejected, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, test_order_ids);
    suite_add_tcase(s, tc);
    return s;
}
