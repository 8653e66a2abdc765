#include "unit_suites.h"
#include "pp_apikey.h"
#include "pp_route.h"

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
    { "POST", "/v1/partner/users/7/login-link", PP_ROUTE_USERS_LOGIN_LINK, "7", PP_PERM_USERS_WRITE },
    { "POST", "/v1/partner/accounts", PP_ROUTE_ACCOUNTS_CREATE, NULL, PP_PERM_ACCOUNTS_WRITE },
    { "GET", "/v1/partner/accounts/u-1", PP_ROUTE_ACCOUNTS_GET, "u-1", PP_PERM_ACCOUNTS_READ },
    { "PATCH", "/v1/partner/accounts/u-1", PP_ROUTE_ACCOUNTS_PATCH, "u-1", PP_PERM_ACCOUNTS_WRITE },
    { "GET", "/v1/partner/accounts/u-1/trades", PP_ROUTE_ACCOUNTS_TRADES, "u-1", PP_PERM_ACCOUNTS_READ },
    { "POST", "/v1/partner/accounts/u-1/close", PP_ROUTE_ACCOUNTS_CLOSE, "u-1", PP_PERM_ACCOUNTS_WRITE },
    { "POST", "/v1/partner/accounts/u-1/reset", PP_ROUTE_ACCOUNTS_RESET, "u-1", PP_PERM_ACCOUNTS_WRITE },
    { "POST", "/v1/partner/accounts/u-1/orders", PP_ROUTE_ORDERS_PLACE, "u-1", PP_PERM_ORDERS_WRITE },
    { "GET", "/v1/partner/accounts/u-1/orders", PP_ROUTE_ORDERS_LIST, "u-1", PP_PERM_ACCOUNTS_READ },
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
    "/v1/partner", "/v1/partner/", "/v1/partner/nope", "/v1/partner/users/", "/v1/partner/users/1/",
    "/v1/partner/users/1/extra", "/v1/partner/accounts/a/b/c", "/v1/partner/accounts//close",
    "/v1/partner/usersx", "/V1/partner/users", "/v1/partner/users/1/login-link/x", "",
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
    suite_add_tcase(s, tc);
    return s;
}
