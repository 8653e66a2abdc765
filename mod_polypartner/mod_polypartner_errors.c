#include "mod_polypartner_errors.h"
#include "mod_polypartner_http.h"
#include "pp_error.h"
#include "pp_token.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

APLOG_USE_MODULE(polypartner);

#define PP_ERROR_FILTER "POLYPARTNER_JSON_ERROR"

/* The path of a request line httpd refused before parsing it (too long):
 * what it could read of "METHOD SP path ...", or NULL. */
static const char *pp_errors_raw_path(const request_rec *r)
{
    const char *sp = r->the_request ? strchr(r->the_request, ' ') : NULL;
    return sp ? sp + 1 : NULL;
}

/* The raw path as the client sent it: r->uri may not be decoded yet (or at
 * all) when httpd refuses a request. */
int pp_errors_is_api_path(const request_rec *r)
{
    const char *path = r->parsed_uri.path ? r->parsed_uri.path
                       : r->uri           ? r->uri
                                          : pp_errors_raw_path(r);
    if (!path) {
        return 0;
    }
    return pp_route_is_api_path(path);
}

static const char *pp_errors_message(int status)
{
    switch (status) {
    /* clang-format off */
    case HTTP_BAD_REQUEST:               return "the request is malformed";
    case HTTP_FORBIDDEN:                 return "access to this resource is forbidden";
    case HTTP_NOT_FOUND:                 return "the requested resource does not exist";
    case HTTP_METHOD_NOT_ALLOWED:        return "the method is not allowed here";
    case HTTP_REQUEST_TIME_OUT:          return "the request took too long to arrive";
    case HTTP_REQUEST_ENTITY_TOO_LARGE:  return "request body is too large";
    case HTTP_REQUEST_URI_TOO_LARGE:     return "the request URI is too long";
    case HTTP_SERVICE_UNAVAILABLE:       return "the service is unavailable; retry shortly";
    /* clang-format on */
    default:
        return status >= 500 ? "internal server error" : "the request cannot be served";
    }
}

static apr_status_t pp_errors_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket *b;
    int eos = 0;

    /* drop httpd's HTML; on end of stream, send the envelope instead */
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        if (APR_BUCKET_IS_EOS(b)) {
            eos = 1;
            break;
        }
    }
    if (!f->ctx) {
        const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");
        const char *body;
        apr_size_t len;

        if (!id) {
            id = r->log_id ? r->log_id : pp_token_random(r->pool, 12);
        }
        if (!r->log_id) {
            r->log_id = id;
        }
        body = pp_error_body(r->pool, pp_error_for_status(r->status), pp_errors_message(r->status),
                             &len);
        ap_set_content_type(r, "application/json");
        apr_table_unset(r->headers_out, "Content-Length");
        apr_table_setn(r->err_headers_out, "X-Request-Id", id);
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
        ap_set_content_length(r, (apr_off_t)len);
        f->ctx = apr_pstrmemdup(r->pool, body, len);
        ap_log_rerror(
            APLOG_MARK, APLOG_INFO, 0, r,
            "[request %s] " PP_LOGNO(0601) "httpd refused %.200s with %d; answered in JSON", id,
            r->unparsed_uri ? r->unparsed_uri : "?", r->status);
    }
    while (!APR_BRIGADE_EMPTY(bb) && !APR_BUCKET_IS_EOS(APR_BRIGADE_FIRST(bb))) {
        apr_bucket_delete(APR_BRIGADE_FIRST(bb));
    }
    if (eos) {
        if (!r->header_only) {
            const char *body = f->ctx;
            APR_BRIGADE_INSERT_HEAD(bb, apr_bucket_immortal_create(body, strlen(body),
                                                                   bb->bucket_alloc));
        }
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    return APR_SUCCESS;
}

static void pp_errors_insert(request_rec *r)
{
    if (pp_errors_is_api_path(r)) {
        ap_add_output_filter(PP_ERROR_FILTER, NULL, r, r->connection);
    }
}

void pp_errors_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_register_output_filter(PP_ERROR_FILTER, pp_errors_filter, NULL, AP_FTYPE_RESOURCE);
    ap_hook_insert_error_filter(pp_errors_insert, NULL, NULL, APR_HOOK_MIDDLE);
}
