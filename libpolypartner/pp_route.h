/* The route table (pp_routes.def) and a pure matcher: method and decoded
 * path in; the endpoint's row and its path parameters out. */
#ifndef PP_ROUTE_H
#define PP_ROUTE_H

#include <apr_pools.h>
#include "pp_input.h"

typedef enum {
    PP_ROUTE_NONE = 0,
#define PP_ROUTE(id, method, pattern, surface, perm, input, handler, sql) PP_ROUTE_##id,
#include "pp_routes.def"
#undef PP_ROUTE
    PP_ROUTE__COUNT
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

/* One row of pp_routes.def, without its handler (glue). */
typedef struct {
    pp_route_id_t id;
    const char *method;
    const char *pattern;
    pp_surface_t surface;
    unsigned perm; /* the permission bit the route requires; 0: none */
    const pp_input_t *input;
    const char *sql;
} pp_route_row_t;

#define PP_ROUTE_MAX_PARAMS 2

typedef enum {
    PP_ROUTE_MATCHED = 0,
    PP_ROUTE_NOT_FOUND,         /* no route has this path */
    PP_ROUTE_METHOD_NOT_ALLOWED /* the path exists; see allow */
} pp_route_status_t;

typedef struct {
    pp_route_status_t status;
    pp_route_id_t id;
    const pp_route_row_t *row;
    const char *name;   /* e.g. "POST /v1/partner/users", for logs */
    const char *param;  /* the first {parameter}'s raw value, else NULL */
    const char *param2; /* the second, else NULL */
    const char *param_names[PP_ROUTE_MAX_PARAMS];
    unsigned perm;     /* the permission bit the route requires; 0: public */
    int has_body;      /* the route takes a JSON request body */
    const char *allow; /* for 405: "GET, PATCH" */
} pp_route_t;

/* HEAD is matched as GET. */
void pp_route_match(apr_pool_t *p, const char *method, const char *path, pp_route_t *out);

/* All rows, in pp_routes.def's order; *n is their number. */
const pp_route_row_t *pp_route_rows(apr_size_t *n);

/* Non-zero for paths served without an API key (the public market list). */
int pp_route_is_public(const char *path);

pp_surface_t pp_route_surface(const char *path);

/* Non-zero when path lies under one of the prefixes the module serves (the
 * <Location>s the configuration must mount), so httpd's own refusals there
 * are answered in the JSON envelope. */
int pp_route_is_api_path(const char *path);

/* Checks a path parameter by its name and gives the value to bind (e.g. an
 * account_id in lowercase). Returns -1; or the error to answer, with
 * *message. An unknown name is an INTERNAL_ERROR (the unit tests see that
 * every pattern's names are known). */
int pp_route_param(apr_pool_t *p, const char *name, const char *raw, const char **value,
                   const char **message);

/* Values every statement may name besides its path parameters and its
 * input's: the tenant, the signed-in trader, settings, the cursor position
 * (after_1, after_2) and secrets the handler derives. NULL-terminated. */
extern const char *const pp_route_context_names[];

/* A row's statement in apr_dbd's format (each :name as %s, '%' doubled) and
 * the names in order; *n is their number. */
const char *pp_route_sql(apr_pool_t *p, const char *sql, const char ***names, int *n);

#endif
