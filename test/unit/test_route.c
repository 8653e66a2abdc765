#include "unit_suites.h"
#include "pp_apikey.h"
#include "pp_error.h"
#include "pp_route.h"

#include <apr_strings.h>
#include <string.h>

static const struct {
    const char *method, *path;
    pp_route_id_t id;
    const char *param;
    unsigned perm;
} matches[] = {
    { "POST", "/v1/partner/users", PP_ROUTE_USERS_CREATE, NULL, PP_PERM_USERS_WRITE },
    { "GET", "/v1/partner/users/42", PP_ROUTE_USERS_GET, "42", PP_PERM_ACCOUNTS_READ },
    { "HEAD", "/v1/partner/users/42", PP_ROUTE_USERS_GET, "42", PP_PERM_ACCOUNTS_READ },
    { "GET", "/v1/partner/users/abc", PP_ROUTE_USERS_GET, "abc", PP_PERM_ACCOUNTS_READ },
    { "POST", "/v1/partner/users/7/login-link", PP_ROUTE_USERS_LOGIN_LINK, "7",
      PP_PERM_USERS_WRITE },
    { "POST", "/v1/partner/accounts", PP_ROUTE_ACCOUNTS_CREATE, NULL, PP_PERM_ACCOUNTS_WRITE },
    { "GET", "/v1/partner/accounts/u-1", PP_ROUTE_ACCOUNTS_GET, "u-1", PP_PERM_ACCOUNTS_READ },
    { "PATCH", "/v1/partner/accounts/u-1", PP_ROUTE_ACCOUNTS_PATCH, "u-1", PP_PERM_ACCOUNTS_WRITE },
    { "GET", "/v1/partner/accounts/u-1/trades", PP_ROUTE_ACCOUNTS_TRADES, "u-1",
      PP_PERM_ACCOUNTS_READ },
    { "POST", "/v1/partner/accounts/u-1/close", PP_ROUTE_ACCOUNTS_CLOSE, "u-1",
      PP_PERM_ACCOUNTS_WRITE },
    { "POST", "/v1/partner/accounts/u-1/reset", PP_ROUTE_ACCOUNTS_RESET, "u-1",
      PP_PERM_ACCOUNTS_WRITE },
    { "POST", "/v1/partner/accounts/u-1/orders", PP_ROUTE_ORDERS_PLACE, "u-1",
      PP_PERM_ORDERS_WRITE },
    { "GET", "/v1/partner/accounts/u-1/orders", PP_ROUTE_ORDERS_LIST, "u-1",
      PP_PERM_ACCOUNTS_READ },
    { "GET", "/v1/markets", PP_ROUTE_MARKETS_LIST, NULL, 0 },
};

START_TEST(test_matches)
{
    pp_route_t rt;
    pp_route_match(unit_pool, matches[_i].method, matches[_i].path, &rt);
    ck_assert_int_eq(rt.status, PP_ROUTE_MATCHED);
    ck_assert_int_eq(rt.id, matches[_i].id);
    ck_assert_uint_eq(rt.perm, matches[_i].perm);
    if (matches[_i].param) {
        ck_assert_str_eq(rt.param, matches[_i].param);
    }
    else {
        ck_assert_ptr_null(rt.param);
    }
}
END_TEST

static const char *const unknown[] = {
    "/v1/partner",
    "/v1/partner/",
    "/v1/partner/nope",
    "/v1/partner/users/",
    "/v1/partner/users/1/",
    "/v1/partner/users/1/extra",
    "/v1/partner/accounts/a/b/c",
    "/v1/partner/accounts//close",
    "/v1/partner/usersx",
    "/V1/partner/users",
    "/v1/partner/users/1/login-link/x",
    "",
};

START_TEST(test_two_parameters)
{
    pp_route_t rt;
    pp_route_match(unit_pool, "POST", "/v1/partner/accounts/a-1/orders/42/cancel", &rt);
    ck_assert_int_eq(rt.status, PP_ROUTE_MATCHED);
    ck_assert_int_eq(rt.id, PP_ROUTE_ORDERS_CANCEL);
    ck_assert_str_eq(rt.param, "a-1");
    ck_assert_str_eq(rt.param2, "42");
    ck_assert_uint_eq(rt.perm, PP_PERM_ORDERS_WRITE);
    pp_route_match(unit_pool, "GET", "/v1/partner/accounts/a-1/orders/42/cancel", &rt);
    ck_assert_int_eq(rt.status, PP_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(rt.allow, "POST");
    pp_route_match(unit_pool, "POST", "/v1/partner/accounts/a-1/orders//cancel", &rt);
    ck_assert_int_eq(rt.status, PP_ROUTE_NOT_FOUND);
    pp_route_match(unit_pool, "GET", "/v1/partner/accounts/a-1", &rt);
    ck_assert_ptr_null(rt.param2);
}
END_TEST

START_TEST(test_trader_routes)
{
    pp_route_t rt;
    pp_route_match(unit_pool, "POST", "/v1/trader/accounts/a-1/orders/42/cancel", &rt);
    ck_assert_int_eq(rt.id, PP_ROUTE_TRADER_ORDERS_CANCEL);
    ck_assert_str_eq(rt.param, "a-1");
    ck_assert_str_eq(rt.param2, "42");
    ck_assert_uint_eq(rt.perm, 0);
    pp_route_match(unit_pool, "POST", "/v1/trader/accounts/a-1/orders", &rt);
    ck_assert_int_eq(rt.id, PP_ROUTE_TRADER_ORDERS_PLACE);
    ck_assert_int_eq(rt.has_body, 1);
    pp_route_match(unit_pool, "HEAD", "/v1/trader/me", &rt);
    ck_assert_int_eq(rt.id, PP_ROUTE_TRADER_ME);
    pp_route_match(unit_pool, "GET", "/v1/trader/logout", &rt);
    ck_assert_int_eq(rt.status, PP_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(rt.allow, "POST");
    pp_route_match(unit_pool, "DELETE", "/auth/login", &rt);
    ck_assert_int_eq(rt.status, PP_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(rt.allow, "GET, POST, HEAD");
}
END_TEST

START_TEST(test_public_paths)
{
    pp_route_t rt;
    ck_assert(pp_route_is_public("/v1/markets"));
    ck_assert(!pp_route_is_public("/v1/markets/"));
    ck_assert(!pp_route_is_public("/v1/partner/users"));
    ck_assert(!pp_route_is_public("/v1/marketsx"));
    ck_assert_int_eq(pp_route_surface("/v1/markets"), PP_SURFACE_PUBLIC);
    ck_assert_int_eq(pp_route_surface("/v1/trader/me"), PP_SURFACE_TRADER);
    ck_assert_int_eq(pp_route_surface("/v1/trader"), PP_SURFACE_PARTNER);
    ck_assert_int_eq(pp_route_surface("/auth/login"), PP_SURFACE_PAGES);
    ck_assert_int_eq(pp_route_surface("/v1/partner/users"), PP_SURFACE_PARTNER);
    ck_assert_int_eq(pp_route_surface("/v1/partner/../trader/me"), PP_SURFACE_PARTNER);
    pp_route_match(unit_pool, "POST", "/v1/markets", &rt);
    ck_assert_int_eq(rt.status, PP_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(rt.allow, "GET, HEAD");
}
END_TEST

START_TEST(test_unknown_paths)
{
    pp_route_t rt;
    pp_route_match(unit_pool, "GET", unknown[_i], &rt);
    ck_assert_msg(rt.status == PP_ROUTE_NOT_FOUND, "%s should not match", unknown[_i]);
    ck_assert_ptr_null(rt.allow);
}
END_TEST

static const struct {
    const char *method, *path, *allow;
} wrong_method[] = {
    { "DELETE", "/v1/partner/users", "POST" },
    { "GET", "/v1/partner/users", "POST" },
    { "POST", "/v1/partner/users/1", "GET, HEAD" },
    { "PUT", "/v1/partner/accounts/x", "GET, PATCH, HEAD" },
    { "GET", "/v1/partner/accounts/x/close", "POST" },
    { "OPTIONS", "/v1/partner/accounts/x/trades", "GET, HEAD" },
    { "DELETE", "/v1/partner/accounts/x/orders", "POST, GET, HEAD" },
};

START_TEST(test_wrong_method)
{
    pp_route_t rt;
    pp_route_match(unit_pool, wrong_method[_i].method, wrong_method[_i].path, &rt);
    ck_assert_int_eq(rt.status, PP_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(rt.allow, wrong_method[_i].allow);
}
END_TEST

/* ---- the table itself: a row that could not be served fails here ---------- */

static int name_in(const char *name, const char *const *list)
{
    for (; list && *list; list++) {
        if (strcmp(name, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The {names} of a pattern, NULL-terminated, in the pool. */
static const char **pattern_params(const char *pattern)
{
    const char **names = apr_pcalloc(unit_pool, sizeof(*names) * (PP_ROUTE_MAX_PARAMS + 2));
    int n = 0;
    const char *open;

    while ((open = strchr(pattern, '{')) != NULL) {
        const char *close = strchr(open, '}');
        ck_assert_ptr_nonnull(close);
        ck_assert_int_lt(n, PP_ROUTE_MAX_PARAMS);
        names[n++] = apr_pstrmemdup(unit_pool, open + 1, (apr_size_t)(close - open - 1));
        pattern = close + 1;
    }
    return names;
}

START_TEST(test_rows_are_servable)
{
    apr_size_t n, i;
    const pp_route_row_t *rows = pp_route_rows(&n);

    ck_assert_int_eq(n, PP_ROUTE__COUNT - 1);
    for (i = 0; i < n; i++) {
        const pp_route_row_t *row = &rows[i];
        const char **params = pattern_params(row->pattern), **names, *sql;
        int k, nnames;

        ck_assert_int_eq(row->id, (int)i + 1);
        /* the prefix decides authentication before routing: they must agree */
        ck_assert_msg(pp_route_surface(row->pattern) == row->surface, "%s is in the wrong surface",
                      row->pattern);
        ck_assert_msg(pp_route_is_api_path(row->pattern) || row->surface == PP_SURFACE_PAGES,
                      "%s: httpd's refusals there would not be JSON", row->pattern);
        ck_assert_msg(row->surface == PP_SURFACE_PARTNER || row->perm == 0,
                      "%s: only keys carry permissions", row->pattern);
        ck_assert_msg(row->surface != PP_SURFACE_PARTNER || row->perm != 0,
                      "%s: a partner route needs a permission", row->pattern);
        for (k = 0; params[k]; k++) {
            const char *value, *message;
            ck_assert_msg(pp_route_param(unit_pool, params[k], "1", &value, &message)
                              != PP_ERR_INTERNAL_ERROR,
                          "%s: no rule for {%s}", row->pattern, params[k]);
        }
        sql = pp_route_sql(unit_pool, row->sql, &names, &nnames);
        ck_assert_ptr_nonnull(strstr(sql, "SELECT "));
        for (k = 0; k < nnames; k++) {
            int paged = strncmp(names[k], "after_", 6) == 0;
            ck_assert_msg(name_in(names[k], params) || name_in(names[k], row->input->names)
                              || (name_in(names[k], pp_route_context_names)
                                  && (!paged || row->input->cursor_key)),
                          "%s %s: :%s names no value", row->method, row->pattern, names[k]);
        }
        /* a paged input's cursor has its key and its refusal */
        ck_assert_int_eq(row->input->cursor_key == NULL, row->input->cursor_refused == NULL);
    }
}
END_TEST

START_TEST(test_sql_binding)
{
    const char **names;
    int n;
    const char *sql = pp_route_sql(unit_pool, "SELECT f(:a::uuid, 'x%', :b_2, 1::int)", &names, &n);

    ck_assert_str_eq(sql, "SELECT f(%s::uuid, 'x%%', %s, 1::int)");
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(names[0], "a");
    ck_assert_str_eq(names[1], "b_2");
}
END_TEST

START_TEST(test_path_parameters)
{
    const char *value = NULL, *message = NULL;

    ck_assert_int_eq(pp_route_param(unit_pool, "account_id", "0A1B2C3D-0000-4000-8000-00000000000F",
                                    &value, &message),
                     -1);
    ck_assert_str_eq(value, "0a1b2c3d-0000-4000-8000-00000000000f");
    ck_assert_int_eq(pp_route_param(unit_pool, "account_id", "42", &value, &message),
                     PP_ERR_INVALID_ACCOUNT_ID);
    ck_assert_int_eq(pp_route_param(unit_pool, "user_id", "042", &value, &message),
                     PP_ERR_USER_NOT_FOUND);
    ck_assert_int_eq(pp_route_param(unit_pool, "user_id", "42", &value, &message), -1);
    ck_assert_str_eq(value, "42");
    ck_assert_int_eq(pp_route_param(unit_pool, "order_id", "x", &value, &message),
                     PP_ERR_ORDER_NOT_FOUND);
    ck_assert_int_eq(pp_route_param(unit_pool, "wallet_id", "1", &value, &message),
                     PP_ERR_INTERNAL_ERROR);
}
END_TEST

Suite *unit_route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("route");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(tc, test_matches, 0, sizeof(matches) / sizeof(matches[0]));
    tcase_add_test(tc, test_two_parameters);
    tcase_add_test(tc, test_public_paths);
    tcase_add_test(tc, test_trader_routes);
    tcase_add_loop_test(tc, test_unknown_paths, 0, sizeof(unknown) / sizeof(unknown[0]));
    tcase_add_loop_test(tc, test_wrong_method, 0, sizeof(wrong_method) / sizeof(wrong_method[0]));
    tcase_add_test(tc, test_rows_are_servable);
    tcase_add_test(tc, test_sql_binding);
    tcase_add_test(tc, test_path_parameters);
    suite_add_tcase(s, tc);
    return s;
}
