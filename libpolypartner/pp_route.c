#include "pp_route.h"
#include "pp_accounts.h"
#include "pp_apikey.h"
#include "pp_error.h"
#include "pp_orders.h"
#include "pp_users.h"

#include <apr_strings.h>
#include <string.h>

#define PP_PERM_NONE 0

static const pp_route_row_t pp_routes[] = {
#define PP_ROUTE(id, method, pattern, surface, perm, input, handler, sql)                            \
    {                                                                                                \
        PP_ROUTE_##id, method, pattern, PP_SURFACE_##surface, PP_PERM_##perm, &pp_input_##input, sql \
    },
#include "pp_routes.def"
#undef PP_ROUTE
};

#define PP_ROUTE_COUNT (sizeof(pp_routes) / sizeof(pp_routes[0]))

const pp_route_row_t *pp_route_rows(apr_size_t *n)
{
    *n = PP_ROUTE_COUNT;
    return pp_routes;
}

/* Matches path against pattern; on success params[] hold the {name}
 * segments' raw values and names[] their names. */
static int pp_route_path_match(apr_pool_t *p, const char *pattern, const char *path,
                               const char *params[PP_ROUTE_MAX_PARAMS],
                               const char *names[PP_ROUTE_MAX_PARAMS])
{
    int n = 0;

    params[0] = params[1] = names[0] = names[1] = NULL;
    while (*pattern) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}'), *end = path;
            while (*end && *end != '/') end++;
            if (!close || end == path || n == PP_ROUTE_MAX_PARAMS) {
                return 0;
            }
            names[n] = apr_pstrmemdup(p, pattern + 1, (apr_size_t)(close - pattern - 1));
            params[n++] = apr_pstrmemdup(p, path, (apr_size_t)(end - path));
            path = end;
            pattern = close + 1;
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
        const pp_route_row_t *row = &pp_routes[i];
        const char *params[PP_ROUTE_MAX_PARAMS], *names[PP_ROUTE_MAX_PARAMS];
        if (!pp_route_path_match(p, row->pattern, path, params, names)) {
            continue;
        }
        if (strcmp(row->method, method) == 0) {
            out->status = PP_ROUTE_MATCHED;
            out->id = row->id;
            out->row = row;
            out->name = apr_pstrcat(p, row->method, " ", row->pattern, NULL);
            out->param = params[0];
            out->param2 = params[1];
            out->param_names[0] = names[0];
            out->param_names[1] = names[1];
            out->perm = row->perm;
            out->has_body = row->input->body;
            return;
        }
        allow = allow ? apr_pstrcat(p, allow, ", ", row->method, NULL) : row->method;
        allows_get |= strcmp(row->method, "GET") == 0;
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

int pp_route_is_api_path(const char *path)
{
    if (strncmp(path, "/v1/partner/", 12) == 0 || strcmp(path, "/v1/partner") == 0
        || strncmp(path, "/v1/trader/", 11) == 0 || strcmp(path, "/v1/trader") == 0) {
        return 1;
    }
    /* /v1/markets itself, below it, or followed by an escape httpd refused */
    /* (a raw request line still has its query and " HTTP/1.1") */
    return strncmp(path, "/v1/markets", 11) == 0
           && (path[11] == '\0' || path[11] == '/' || path[11] == '%' || path[11] == '?'
               || path[11] == ' ');
}

int pp_route_param(apr_pool_t *p, const char *name, const char *raw, const char **value,
                   const char **message)
{
    if (strcmp(name, "account_id") == 0) {
        char *id, *c;
        if (!pp_accounts_is_uuid(raw)) {
            *message = "account_id in the path must be a UUID";
            return PP_ERR_INVALID_ACCOUNT_ID;
        }
        /* canonical lowercase: cursors bind to it byte for byte */
        id = apr_pstrdup(p, raw);
        for (c = id; *c; c++) {
            if (*c >= 'A' && *c <= 'F') {
                *c = (char)(*c - 'A' + 'a');
            }
        }
        *value = id;
        return -1;
    }
    if (strcmp(name, "user_id") == 0) {
        /* any other spelling of an id is simply an unknown user */
        if (!pp_users_parse_id(raw, value)) {
            *message = "no user with this user_id is registered by your tenant";
            return PP_ERR_USER_NOT_FOUND;
        }
        return -1;
    }
    if (strcmp(name, "order_id") == 0) {
        if (!pp_orders_is_id(raw)) {
            *message = "no order with this order_id belongs to the account";
            return PP_ERR_ORDER_NOT_FOUND;
        }
        *value = raw;
        return -1;
    }
    *message = apr_pstrcat(p, "no rule for the path parameter ", name, NULL);
    return PP_ERR_INTERNAL_ERROR;
}

const char *const pp_route_context_names[] = {
    "tenant",   /* the caller's tenant (trader surface: the account's) */
    "user",     /* the signed-in trader */
    "fee_rate", /* the tenant's */
    "max_price_age",
    "cancel_batch",
    "login_ttl",
    "link_limit",
    "link_window",
    "session_ttl",
    "event_retention",
    "after_1",
    "after_2",      /* a paged list's cursor position */
    "session_hash", /* the trader's session */
    "token_hash",
    "new_session_hash", /* derived by the login-link and sign-in handlers */
    NULL
};

static int pp_route_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

const char *pp_route_sql(apr_pool_t *p, const char *sql, const char ***names, int *n)
{
    apr_size_t len = strlen(sql), k = 0;
    char *out = apr_palloc(p, 2 * len + 1); /* "%%" or "%s" never outgrow ":x" or "%" */
    const char **list = apr_palloc(p, sizeof(*list) * (len / 2 + 1));
    const char *s = sql;

    *n = 0;
    while (*s) {
        if (s[0] == ':' && s[1] == ':') { /* a cast */
            out[k++] = *s++;
            out[k++] = *s++;
        }
        else if (s[0] == ':' && pp_route_is_name_char(s[1])) {
            const char *start = ++s;
            while (pp_route_is_name_char(*s)) s++;
            list[(*n)++] = apr_pstrmemdup(p, start, (apr_size_t)(s - start));
            out[k++] = '%';
            out[k++] = 's';
        }
        else if (*s == '%') {
            out[k++] = '%';
            out[k++] = *s++;
        }
        else {
            out[k++] = *s++;
        }
    }
    out[k] = '\0';
    *names = list;
    return out;
}
