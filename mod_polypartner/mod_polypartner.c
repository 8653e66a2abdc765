/* mod_polypartner: hooks, the module record and the request dispatcher.
 * A request is: authenticate, route, check permission, run the endpoint. */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <ap_expr.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_strings.h>

#include "mod_polypartner_auth.h"
#include "mod_polypartner_config.h"
#include "mod_polypartner_db.h"
#include "mod_polypartner_errors.h"
#include "mod_polypartner_endpoint.h"
#include "mod_polypartner_events.h"
#include "mod_polypartner_login.h"
#include "mod_polypartner_http.h"
#include "pp_apikey.h"
#include "pp_log.h"

static void pp_log_to_httpd(void *baton, pp_log_level_t level, const char *msg)
{
    static const int levels[] = { APLOG_ERR, APLOG_WARNING, APLOG_INFO, APLOG_DEBUG };
    ap_log_error(APLOG_MARK, levels[level], 0, baton, "%s", msg);
}

static int pp_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    const pp_server_conf_t *conf = pp_config_get(s);
    (void)pconf;
    (void)plog;
    (void)ptemp;

    pp_log_set(pp_log_to_httpd, s, PP_LOG_DEBUG); /* httpd's LogLevel filters */
    pp_config_ensure_cursor_keys(pconf, s);
    for (server_rec *vs = s; vs; vs = vs->next) {
        const char *err = pp_config_check_db(ptemp, pp_config_get(vs));
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, vs, PP_LOGNO(0306) "%s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (!pp_db_init(pconf, s)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     PP_LOGNO(0301) "mod_polypartner needs mod_dbd: enable it (a2enmod dbd) or add "
                                    "LoadModule dbd_module modules/mod_dbd.so");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    pp_events_init(pconf, s);
    if (conf->tenants->tenants->nelts == 0) {
        ap_log_error(
            APLOG_MARK, APLOG_WARNING, 0, s,
            PP_LOGNO(0302) "no <PolyPartnerTenant> is configured: every API request will be "
                           "answered 401");
    }
    return OK;
}

typedef int (*pp_handler_fn)(pp_req_t *rq);

/* pp_routes.def's handler column, by route id */
static const pp_handler_fn pp_handlers[PP_ROUTE__COUNT] = {
#define PP_ROUTE(id, method, pattern, surface, perm, input, handler, sql) [PP_ROUTE_##id] = handler,
#include "pp_routes.def"
#undef PP_ROUTE
};

static int pp_handler(request_rec *r)
{
    pp_req_t rq;
    pp_surface_t surface;

    if (!r->handler || strcmp(r->handler, "polypartner") != 0) {
        return DECLINED;
    }
    pp_http_init(&rq, r);
    surface = pp_route_surface(r->uri);
    /* partner paths need a tenant key before anything else is said about
     * them; the trader surface checks its session once routed */
    if (surface == PP_SURFACE_PARTNER && !pp_auth_authenticate(&rq)) {
        return OK;
    }
    pp_route_match(r->pool, r->method, r->uri, &rq.route);
    switch (rq.route.status) {
    case PP_ROUTE_NOT_FOUND:
        return pp_http_send_error(&rq, PP_ERR_NOT_FOUND, "the requested resource does not exist");
    case PP_ROUTE_METHOD_NOT_ALLOWED:
        apr_table_setn(r->headers_out, "Allow", rq.route.allow);
        return pp_http_send_error(&rq, PP_ERR_METHOD_NOT_ALLOWED,
                                  apr_psprintf(r->pool, "%s is not allowed here; allowed: %s",
                                               r->method, rq.route.allow));
    case PP_ROUTE_MATCHED:
        break;
    }
    if (surface == PP_SURFACE_PARTNER && rq.route.perm && !(rq.key->perms & rq.route.perm)) {
        return pp_http_send_error(&rq, PP_ERR_INSUFFICIENT_PERMISSION,
                                  apr_psprintf(r->pool, "this API key lacks the %s permission",
                                               pp_apikey_perm_names(r->pool, rq.route.perm)));
    }
    return pp_handlers[rq.route.id](&rq);
}

#define PP_MOUNTED_NOTE "polypartner-mounted"

/* Does the <Location> this request falls in say SetHandler polypartner?
 * Known at translate_name (the first location walk has run); other virtual
 * hosts and paths are left to httpd. */
static int pp_is_mounted(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *handler;

    if (!d || !d->expr_handler) {
        return 0;
    }
    handler = ap_expr_str_exec(r, d->expr_handler, &err);
    return !err && handler && strcmp(handler, "polypartner") == 0;
}

/* The module's paths are not files: skip httpd's mapping to the document
 * root, which refuses long paths with 403 and an error-log line (AH00127)
 * for anyone, ... */
static int pp_translate_name(request_rec *r)
{
    if (!pp_is_mounted(r)) {
        return DECLINED;
    }
    apr_table_setn(r->notes, PP_MOUNTED_NOTE, "1");
    r->filename = apr_pstrcat(r->pool, "polypartner:", r->uri, NULL);
    return OK;
}

/* ... and the directory walk, and httpd's TRACE handling, so the router
 * answers every method with its Allow list. */
static int pp_map_to_storage(request_rec *r)
{
    return apr_table_get(r->notes, PP_MOUNTED_NOTE) ? OK : DECLINED;
}

static void pp_child_init(apr_pool_t *pchild, server_rec *s)
{
    pp_login_child_init(pchild, s);
    pp_events_child_init(pchild, s);
}

static void pp_register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(pp_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(pp_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(pp_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(pp_translate_name, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_map_to_storage(pp_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    pp_errors_register_hooks(p);
}

/* clang-format off */
AP_DECLARE_MODULE(polypartner) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config: none */
    NULL,
    pp_config_create_server,
    pp_config_merge_server,
    pp_config_cmds,
    pp_register_hooks,
    AP_MODULE_FLAG_ALWAYS_MERGE
};
/* clang-format on */
