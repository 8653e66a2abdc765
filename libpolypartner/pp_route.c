#include "pp_route.h"
#include "pp_apikey.h"

#include <apr_strings.h>
#include <string.h>

/* clang-format off */
/* "*" stands for one non-empty path segment: the route's parameter. */
static const struct {
    const char *method;
    const char *pattern;
    pp_route_id_t id;
    unsigned perm;
    int has_body;
} pp_routes[] = {
    { "POST",  "/v1/partner/users",              PP_ROUTE_USERS_CREATE,     PP_PERM_USERS_WRITE,    1 },
    { "GET",   "/v1/partner/users/*",            PP_ROUTE_USERS_GET,        PP_PERM_ACCOUNTS_READ,  0 },
    { "POST",  "/v1/partner/users/*/login-link", PP_ROUTE_USERS_LOGIN_LINK, PP_PERM_USERS_WRITE,    1 },
    { "POST",  "/v1/partner/accounts",           PP_ROUTE_ACCOUNTS_CREATE,  PP_PERM_ACCOUNTS_WRITE, 1 },
    { "GET",   "/v1/partner/accounts/*",         PP_ROUTE_ACCOUNTS_GET,     PP_PERM_ACCOUNTS_READ,  0 },
    { "PATCH", "/v1/partner/accounts/*",         PP_ROUTE_ACCOUNTS_PATCH,   PP_PERM_ACCOUNTS_WRITE, 1 },
    { "GET",   "/v1/partner/accounts/*/trades",  PP_ROUTE_ACCOUNTS_TRADES,  PP_PERM_ACCOUNTS_READ,  0 },
    { "POST",  "/v1/partner/accounts/*/close",   PP_ROUTE_ACCOUNTS_CLOSE,   PP_PERM_ACCOUNTS_WRITE, 0 },
    { "POST",  "/v1/partner/accounts/*/reset",   PP_ROUTE_ACCOUNTS_RESET,   PP_PERM_ACCOUNTS_WRITE, 0 },
    { "POST",  "/v1/partner/accounts/*/orders",  PP_ROUTE_ORDERS_PLACE,     PP_PERM_ORDERS_WRITE,   1 },
    { "GET",   "/v1/partner/accounts/*/orders",  PP_ROUTE_ORDERS_LIST,      PP_PERM_ACCOUNTS_READ,  0 },
    { "POST",  "/v1/partner/accounts/*/orders/*/cancel", PP_ROUTE_ORDERS_CANCEL, PP_PERM_ORDERS_WRITE, 0 },
    { "GET",   "/v1/markets",                    PP_ROUTE_MARKETS_LIST,     0,                      0 },
    /* the trader surface: a session, never a key (permissions do not apply) */
    { "GET",   "/v1/trader/me",                  PP_ROUTE_TRADER_ME,        0,                      0 },
    { "POST",  "/v1/trader/logout",              PP_ROUTE_TRADER_LOGOUT,    0,                      0 },
    { "GET",   "/v1/trader/accounts/*",          PP_ROUTE_TRADER_ACCOUNT,   0,                      0 },
    { "POST",  "/v1/trader/accounts/*/orders",   PP_ROUTE_TRADER_ORDERS_PLACE, 0,                   1 },
    { "GET",   "/v1/trader/accounts/*/orders",   PP_ROUTE_TRADER_ORDERS_LIST, 0,                    0 },
    { "POST",  "/v1/trader/accounts/*/orders/*/cancel", PP_ROUTE_TRADER_ORDERS_CANCEL, 0,           0 },
    { "GET",   "/v1/trader/accounts/*/trades",   PP_ROUTE_TRADER_TRADES,    0,                      0 },
    { "GET",   "/auth/login",                    PP_ROUTE_SIGNIN_PAGE,      0,                      0 },
    { "POST",  "/auth/login",                    PP_ROUTE_SIGNIN_POST,      0,                      0 },
};
/* clang-format on */

#define PP_ROUTE_COUNT (sizeof(pp_routes) / sizeof(pp_routes[0]))

/* Matches path against pattern; on success params[] hold the '*' segments. */
static int pp_route_path_match(apr_pool_t *p, const char *pattern, const char *path,
                               const char *params[2])
{
    int n = 0;

    params[0] = params[1] = NULL;
    while (*pattern) {
        if (*pattern == '*') {
            const char *end = path;
            while (*end && *end != '/') end++;
            if (end == path || n == 2) {
                return 0;
            }
            params[n++] = apr_pstrmemdup(p, path, (apr_size_t)(end - path));
            path = end;
            pattern++;
            continue;
        }
        if (*pattern != *path) {
            return 0;
        }
        pattern++;
        path++;
    }
    return *path == '\0';
}

void pp_route_match(apr_pool_t *p, const char *method, const char *path, pp_route_t *out)
{
    const char *allow = NULL;
    int allows_get = 0;
    apr_size_t i;

    memset(out, 0, sizeof(*out));
    if (strcmp(method, "HEAD") == 0) {
        method = "GET";
    }
    for (i = 0; i < PP_ROUTE_COUNT; i++) {
        const char *params[2];
        if (!pp_route_path_match(p, pp_routes[i].pattern, path, params)) {
            continue;
        }
        if (strcmp(pp_routes[i].method, method) == 0) {
            out->status = PP_ROUTE_MATCHED;
            out->id = pp_routes[i].id;
            out->name = apr_pstrcat(p, pp_routes[i].method, " ", pp_routes[i].pattern, NULL);
            out->param = params[0];
            out->param2 = params[1];
            out->perm = pp_routes[i].perm;
            out->has_body = pp_routes[i].has_body;
            return;
        }
        allow = allow ? apr_pstrcat(p, allow, ", ", pp_routes[i].method, NULL)
                      : pp_routes[i].method;
        allows_get |= strcmp(pp_routes[i].method, "GET") == 0;
    }
    /* HEAD is served wherever GET is (RFC 9110 9.3.2), so Allow says so */
    if (allows_get) {
        allow = apr_pstrcat(p, allow, ", HEAD", NULL);
    }
    out->status = allow ? PP_ROUTE_METHOD_NOT_ALLOWED : PP_ROUTE_NOT_FOUND;
    out->allow = allow;
}

int pp_route_is_public(const char *path)
{
    return strcmp(path, "/v1/markets") == 0;
}

pp_surface_t pp_route_surface(const char *path)
{
    if (pp_route_is_public(path)) {
        return PP_SURFACE_PUBLIC;
    }
    if (strncmp(path, "/v1/trader/", 11) == 0) {
        return PP_SURFACE_TRADER;
    }
    if (strncmp(path, "/auth/", 6) == 0) {
        return PP_SURFACE_PAGES;
    }
    return PP_SURFACE_PARTNER;
}
