#include "mod_polypartner_http.h"
#include "pp_token.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <scoreboard.h>
#include <http_request.h>
#include <util_filter.h>

APLOG_USE_MODULE(polypartner);

void pp_http_init(pp_req_t *rq, request_rec *r)
{
    const char *id;

    memset(rq, 0, sizeof(*rq));
    rq->r = r;
    rq->conf = pp_config_get(r->server);
    /* mod_unique_id's id when loaded, so access and error logs agree */
    id = apr_table_get(r->subprocess_env, "UNIQUE_ID");
    if (!id) {
        id = pp_token_random(r->pool, 12);
    }
    rq->request_id = id ? id : apr_psprintf(r->pool, "%" APR_TIME_T_FMT, r->request_time);
    if (!r->log_id) {
        r->log_id = rq->request_id;
    }
    apr_table_setn(r->subprocess_env, "POLYPARTNER_REQUEST_ID", rq->request_id);
    /* a byte range of a JSON document is not JSON: answers are always whole */
    apr_table_unset(r->headers_in, "Range");
    apr_table_unset(r->headers_in, "If-Range");
}

/* Leaves the connection usable (or closed) when we answer without having
 * read a body the client sent. */
void pp_http_finish_body(pp_req_t *rq)
{
    const char *cl;
    apr_off_t n = 0;
    char *end;

    if (rq->body_read) {
        return;
    }
    rq->body_read = 1;
    cl = apr_table_get(rq->r->headers_in, "Content-Length");
    if (apr_table_get(rq->r->headers_in, "Transfer-Encoding")
        || (cl
            && (apr_strtoff(&n, cl, &end, 10) != APR_SUCCESS
                || n > pp_config_max_body(rq->conf)))) {
        /* don't drain a body we refuse to read: close after the response */
        rq->r->connection->keepalive = AP_CONN_CLOSE;
        return;
    }
    ap_discard_request_body(rq->r);
}

int pp_http_send_json(pp_req_t *rq, int status, const char *body, apr_size_t len)
{
    request_rec *r = rq->r;

    if (rq->streaming) {
        return OK;
    }
    pp_http_finish_body(rq);
    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    apr_table_setn(r->headers_out, "X-Request-Id", rq->request_id);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    /* the status travels in r->status; OK keeps httpd's HTML error page away */
    return OK;
}

int pp_http_send_error(pp_req_t *rq, pp_error_t err, const char *message)
{
    apr_size_t len;
    const char *body = pp_error_body(rq->r->pool, err, message, &len);
    int status = pp_error_status(err);

    switch (err) {
    case PP_ERR_MISSING_API_KEY:
    case PP_ERR_INVALID_API_KEY:
        apr_table_setn(rq->r->headers_out, "WWW-Authenticate", "Bearer realm=\"polypartner\"");
        break;
    case PP_ERR_SERVICE_UNAVAILABLE:
        apr_table_setn(rq->r->headers_out, "Retry-After",
                       apr_itoa(rq->r->pool, pp_config_retry_after(rq->conf)));
        break;
    case PP_ERR_PAYLOAD_TOO_LARGE:
        rq->r->connection->keepalive = AP_CONN_CLOSE;
        break;
    default:
        break;
    }
    if (err == PP_ERR_INTERNAL_ERROR) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0001) "%s answered %d %s: %s",
                rq->route.name ? rq->route.name : rq->r->uri, status, pp_error_code(err), message);
    }
    else {
        pp_rlog(rq, APLOG_INFO, 0, PP_LOGNO(0002) "%s answered %d %s: %s",
                rq->route.name ? rq->route.name : rq->r->uri, status, pp_error_code(err), message);
    }
    return pp_http_send_json(rq, status, body, len);
}

int pp_http_read_body(pp_req_t *rq, const char **body, apr_size_t *len, int *rc)
{
    request_rec *r = rq->r;
    apr_off_t cap = pp_config_max_body(rq->conf), n;
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    apr_size_t used = 0, size = 8192;
    char *buf, *end;
    int seen_eos = 0;

    if (cl && apr_strtoff(&n, cl, &end, 10) == APR_SUCCESS && !*end && n > cap) {
        *rc = pp_http_send_error(rq, PP_ERR_PAYLOAD_TOO_LARGE,
                                 apr_psprintf(r->pool,
                                              "request body exceeds the limit of %" APR_OFF_T_FMT
                                              " bytes",
                                              cap));
        return 0;
    }
    rq->body_read = 1;
    buf = apr_palloc(r->pool, size);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    do {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            int status = ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
            apr_brigade_destroy(bb);
            r->connection->keepalive = AP_CONN_CLOSE;
            if (status == AP_FILTER_ERROR) {
                /* a filter already answered (e.g. LimitRequestBody) */
                *rc = status;
                return 0;
            }
            if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
                *rc = pp_http_send_error(rq, PP_ERR_PAYLOAD_TOO_LARGE, "request body is too large");
                return 0;
            }
            pp_rlog(rq, APLOG_INFO, rv, PP_LOGNO(0003) "reading the request body failed");
            *rc = pp_http_send_error(rq, PP_ERR_VALIDATION_FAILED,
                                     "the request body could not be read completely");
            return 0;
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t dlen;
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            if (apr_bucket_read(b, &data, &dlen, APR_BLOCK_READ) != APR_SUCCESS) {
                apr_brigade_destroy(bb);
                *rc = pp_http_send_error(rq, PP_ERR_VALIDATION_FAILED,
                                         "the request body could not be read completely");
                return 0;
            }
            if ((apr_off_t)(used + dlen) > cap) {
                apr_brigade_destroy(bb);
                *rc = pp_http_send_error(
                    rq, PP_ERR_PAYLOAD_TOO_LARGE,
                    apr_psprintf(r->pool,
                                 "request body exceeds the limit of %" APR_OFF_T_FMT " bytes",
                                 cap));
                return 0;
            }
            if (used + dlen + 1 > size) {
                char *bigger;
                while (used + dlen + 1 > size) size *= 2;
                bigger = apr_palloc(r->pool, size);
                memcpy(bigger, buf, used);
                buf = bigger;
            }
            memcpy(buf + used, data, dlen);
            used += dlen;
        }
        apr_brigade_cleanup(bb);
    } while (!seen_eos);
    apr_brigade_destroy(bb);
    buf[used] = '\0';
    *body = buf;
    *len = used;
    return 1;
}

unsigned pp_http_worker_slot(request_rec *r)
{
    worker_score *ws;

    if (!r->connection->sbh || !ap_scoreboard_image) {
        return (unsigned)-1;
    }
    ws = ap_get_scoreboard_worker(r->connection->sbh);
    return ws ? (unsigned)(ws - ap_scoreboard_image->servers[0]) : (unsigned)-1;
}
