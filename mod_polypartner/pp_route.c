#include "pp_route.h"
#include "pp_apikey.h"

#include <apr_strings.h>
#include <string.h>

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
};

#define PP_ROUTE_COUNT (sizeof(pp_routes) / sizeof(pp_routes[0]))

/* Matches path against pattern; on success *param is the '*' segment. */
static int pp_route_path_match(apr_pool_t *p, const char *pattern, const char *path,
                               const char **param)
{
    *param = NULL;
    while (*pattern) {
        if (*pattern == '*') {
            const char *end = path;
            while (*end && *end != '/') end++;
            if (end == path) {
                return 0;
            }
            *param = apr_pstrmemdup(p, path, (apr_size_t)(end - path));
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
    apr_size_t i;

    memset(out, 0, sizeof(*out));
    if (strcmp(method, "HEAD") == 0) {
        method = "GET";
    }
    for (i = 0; i < PP_ROUTE_COUNT; i++) {
        const char *param;
        if (!pp_route_path_match(p, pp_routes[i].pattern, path, &param)) {
            continue;
        }
        if (strcmp(pp_routes[i].method, method) == 0) {
            out->status = PP_ROUTE_MATCHED;
            out->id = pp_routes[i].id;
            out->name = apr_pstrcat(p, pp_routes[i].method, " ", pp_routes[i].pattern, NULL);
            out->param = param;
            out->perm = pp_routes[i].perm;
            out->has_body = pp_routes[i].has_body;
            return;
        }
        allow = allow ? apr_pstrcat(p, allow, ", ", pp_routes[i].method, NULL)
                      : pp_routes[i].method;
    }
    out->status = allow ? PP_ROUTE_METHOD_NOT_ALLOWED : PP_ROUTE_NOT_FOUND;
    out->allow = allow;
}
