/* The partner API's route table and a pure matcher: method and decoded
 * path in; the route, its path parameter and required permission out. */
#ifndef PP_ROUTE_H
#define PP_ROUTE_H

#include <apr_pools.h>

typedef enum {
    PP_ROUTE_NONE = 0,
    PP_ROUTE_USERS_CREATE,
    PP_ROUTE_USERS_GET,
    PP_ROUTE_USERS_LOGIN_LINK,
    PP_ROUTE_ACCOUNTS_CREATE,
    PP_ROUTE_ACCOUNTS_GET,
    PP_ROUTE_ACCOUNTS_PATCH,
    PP_ROUTE_ACCOUNTS_TRADES,
    PP_ROUTE_ACCOUNTS_CLOSE,
    PP_ROUTE_ACCOUNTS_RESET,
    PP_ROUTE_ORDERS_PLACE,
    PP_ROUTE_ORDERS_LIST,
    PP_ROUTE_ORDERS_CANCEL,
    PP_ROUTE_MARKETS_LIST,
    PP_ROUTE_TRADER_ME,
    PP_ROUTE_TRADER_LOGOUT,
    PP_ROUTE_TRADER_ACCOUNT,
    PP_ROUTE_TRADER_ORDERS_PLACE,
    PP_ROUTE_TRADER_ORDERS_LIST,
    PP_ROUTE_TRADER_ORDERS_CANCEL,
    PP_ROUTE_TRADER_TRADES,
    PP_ROUTE_SIGNIN_PAGE,
    PP_ROUTE_SIGNIN_POST
} pp_route_id_t;

/* Who may call a path, by its prefix: tenant keys (/v1/partner/), nobody in
 * particular (/v1/markets), a trader's session (/v1/trader/), or a browser
 * on the sign-in pages (/auth/). */
typedef enum {
    PP_SURFACE_PARTNER = 0,
    PP_SURFACE_PUBLIC,
    PP_SURFACE_TRADER,
    PP_SURFACE_PAGES
} pp_surface_t;

typedef enum {
    PP_ROUTE_MATCHED = 0,
    PP_ROUTE_NOT_FOUND,          /* no route has this path */
    PP_ROUTE_METHOD_NOT_ALLOWED  /* the path exists; see allow */
} pp_route_status_t;

typedef struct {
    pp_route_status_t status;
    pp_route_id_t id;
    const char *name;            /* e.g. "POST /v1/partner/users", for logs */
    const char *param;           /* {user_id} or {account_id}, else NULL */
    const char *param2;          /* {order_id}, else NULL */
    unsigned perm;               /* the permission bit the route requires; 0: public */
    int has_body;                /* the route takes a JSON request body */
    const char *allow;           /* for 405: "GET, PATCH" */
} pp_route_t;

/* HEAD is matched as GET. */
void pp_route_match(apr_pool_t *p, const char *method, const char *path, pp_route_t *out);

/* Non-zero for paths served without an API key (the public market list). */
int pp_route_is_public(const char *path);

pp_surface_t pp_route_surface(const char *path);

#endif
