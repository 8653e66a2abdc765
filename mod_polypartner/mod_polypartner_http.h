/* Per-request state and HTTP I/O: request ids, reading bounded JSON bodies,
 * writing JSON and error envelopes, logging tagged with the request id. */
#ifndef MOD_POLYPARTNER_HTTP_H
#define MOD_POLYPARTNER_HTTP_H

#include <httpd.h>
#include <http_log.h>
#include "mod_polypartner_config.h"
#include "pp_error.h"
#include "pp_input.h"
#include "pp_route.h"
#include "pp_tenant.h"

typedef struct {
    request_rec *r;
    const pp_server_conf_t *conf;
    const char *request_id;
    pp_route_t route;
    const pp_tenant_key_t *key; /* set once authenticated */
    const pp_tenant_t *tenant;
    int body_read;              /* the request body has been consumed */
    const char *user_id;        /* the trader, on the session-authenticated surface */
    const char *session_secret; /* the trader's session cookie value */
    apr_table_t *values;        /* what the route's statement binds, by name */
    pp_input_req_t in;          /* the route's input, once read */
    int streaming;              /* an event stream has begun: an error from here on ends it
                                 * and is only logged (its status cannot be sent) */
} pp_req_t;

/* Our own message numbers (APLOGNO is reserved for httpd's modules). */
#define PP_LOGNO(n) "PP" #n ": "

/* ap_log_rerror with the request id in the text, so the id is in every line
 * whatever ErrorLogFormat says (r->log_id also carries it for %L). */
#define pp_rlog(rq, level, status, fmt, ...)                                                 \
    ap_log_rerror(APLOG_MARK, level, status, (rq)->r, "[request %s] " fmt, (rq)->request_id, \
                  ##__VA_ARGS__)

void pp_http_init(pp_req_t *rq, request_rec *r);

/* Reads the whole body (to end of stream) up to the configured cap. Returns
 * 1 with a NUL-terminated copy; or 0 when an error response has been sent
 * and the handler must return *rc. */
int pp_http_read_body(pp_req_t *rq, const char **body, apr_size_t *len, int *rc);

/* Before answering without having read the body: drains it, or marks the
 * connection to close when the body is too large to drain. */
void pp_http_finish_body(pp_req_t *rq);

int pp_http_send_json(pp_req_t *rq, int status, const char *body, apr_size_t len);
/* (While rq->streaming both only return OK.) */
int pp_http_send_error(pp_req_t *rq, pp_error_t err, const char *message);

/* This worker's index in the scoreboard, or (unsigned)-1. */
unsigned pp_http_worker_slot(request_rec *r);

#endif
