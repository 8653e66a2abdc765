#include "unit_suites.h"
#include "pp_error.h"
#include "pp_input.h"

#include <string.h>

static pp_input_req_t in;

static int read_input(const pp_input_t *input, const char *body, const char *query)
{
    memset(&in, 0, sizeof(in));
    in.pool = unit_pool;
    in.body = body;
    in.body_len = body ? strlen(body) : 0;
    in.query = query;
    in.values = apr_table_make(unit_pool, 4);
    return pp_input_read(input, &in);
}

START_TEST(test_json_body)
{
    ck_assert_int_eq(read_input(&pp_input_json_body, "{ \"a\" : [1, \"x\"] }", NULL), -1);
    ck_assert_str_eq(apr_table_get(in.values, "body"), "{\"a\":[1,\"x\"]}");
    ck_assert_int_eq(read_input(&pp_input_json_body, "[1]", NULL), PP_ERR_VALIDATION_FAILED);
    ck_assert_ptr_nonnull(in.message);
    ck_assert_int_eq(read_input(&pp_input_json_body, "", NULL), PP_ERR_VALIDATION_FAILED);
    ck_assert(pp_input_json_body.body);
}
END_TEST

START_TEST(test_trades_query)
{
    ck_assert_int_eq(read_input(&pp_input_trades_query, NULL, "side=buy&cursor=abc"), -1);
    ck_assert_str_eq(apr_table_get(in.values, "limit"), "100");
    ck_assert_str_eq(apr_table_get(in.values, "side"), "BUY");
    /* an absent filter binds SQL NULL, and the cursor is bound to "" for it */
    ck_assert_ptr_null(apr_table_get(in.values, "market_id"));
    ck_assert_str_eq(in.cursor, "abc");
    ck_assert_str_eq(in.cursor_filter[0], "BUY");
    ck_assert_str_eq(in.cursor_filter[1], "");
    ck_assert_ptr_null(in.cursor_scope); /* the path's account */
    ck_assert_int_eq(read_input(&pp_input_trades_query, NULL, "limit=0"), PP_ERR_VALIDATION_FAILED);
}
END_TEST

START_TEST(test_orders_query)
{
    ck_assert_int_eq(read_input(&pp_input_orders_query, NULL, "limit=5"), -1);
    ck_assert_str_eq(apr_table_get(in.values, "limit"), "5");
    ck_assert_ptr_null(in.cursor);
    ck_assert_int_eq(read_input(&pp_input_orders_query, NULL, "side=BUY"),
                     PP_ERR_VALIDATION_FAILED);
    ck_assert_str_eq(in.message, "the order list takes only limit and cursor");
}
END_TEST

START_TEST(test_markets_cursor_scope)
{
    const char *a, *b;

    ck_assert_int_eq(read_input(&pp_input_markets_query, NULL, "search=rain"), -1);
    a = in.cursor_scope;
    ck_assert_str_eq(apr_table_get(in.values, "search"), "rain");
    ck_assert_int_eq(read_input(&pp_input_markets_query, NULL, "search=rain&limit=3"), -1);
    ck_assert_str_eq(in.cursor_scope, a); /* the limit is not a filter */
    ck_assert_int_eq(read_input(&pp_input_markets_query, NULL, "search=snow"), -1);
    b = in.cursor_scope;
    ck_assert_str_ne(a, b); /* another listing, another scope */
    ck_assert_int_eq(strlen(a), 32);
}
END_TEST

START_TEST(test_account_patch_leaves_absent_fields)
{
    ck_assert_int_eq(read_input(&pp_input_account_patch, "{\"rules\":{\"x\":1}}", NULL), -1);
    ck_assert_str_eq(apr_table_get(in.values, "rules"), "{\"x\":1}");
    ck_assert_ptr_null(apr_table_get(in.values, "metadata"));
}
END_TEST

START_TEST(test_declared_names)
{
    /* every value an input sets is one it declares (the route check relies on it) */
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    int i;

    ck_assert_int_eq(read_input(&pp_input_order,
                                "{\"token_id\":\"1\",\"side\":\"BUY\",\"type\":"
                                "\"limit\",\"quantity\":\"2\",\"limit_price\":\"0.5\","
                                "\"client_order_id\":\"c\"}",
                                NULL),
                     -1);
    arr = apr_table_elts(in.values);
    e = (const apr_table_entry_t *)arr->elts;
    ck_assert_int_eq(arr->nelts, 6);
    for (i = 0; i < arr->nelts; i++) {
        const char *const *n = pp_input_order.names;
        while (*n && strcmp(*n, e[i].key) != 0) n++;
        ck_assert_msg(*n != NULL, "%s is not declared", e[i].key);
    }
}
END_TEST

Suite *unit_input_suite(void)
{
    Suite *s = suite_create("input");
    TCase *tc = tcase_create("input");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_json_body);
    tcase_add_test(tc, test_trades_query);
    tcase_add_test(tc, test_orders_query);
    tcase_add_test(tc, test_markets_cursor_scope);
    tcase_add_test(tc, test_account_patch_leaves_absent_fields);
    tcase_add_test(tc, test_declared_names);
    suite_add_tcase(s, tc);
    return s;
}
