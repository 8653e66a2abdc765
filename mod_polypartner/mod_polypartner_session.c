#include "mod_polypartner_session.h"
#include "mod_polypartner_db.h"
#include "pp_session.h"

#include <apr_strings.h>

APLOG_USE_MODULE(polypartner);

const char *pp_session_csrf_token(pp_req_t *rq)
{
    const unsigned char *key = pp_config_derived_key(rq->r->pool, rq->conf, "csrf");
    return pp_csrf_token(rq->r->pool, key, PP_SHA256_LEN, rq->session_secret);
}

int pp_session_origin_ok(pp_req_t *rq)
{
    const char *origin = apr_table_get(rq->r->headers_in, "Origin");

    if (!origin) {
        return 1; /* same-origin form posts and non-browser clients may omit it */
    }
    return rq->conf->public_origin && strcmp(origin, rq->conf->public_origin) == 0;
}

int pp_session_authenticate(pp_req_t *rq, int *rc)
{
    request_rec *r = rq->r;
    const char *secret = pp_cookie_get(r->pool, apr_table_get(r->headers_in, "Cookie"),
                                       PP_SESSION_COOKIE);
    const char *args[1], *cols[1];

    if (!secret || !pp_secret_is_wellformed(secret)) {
        *rc = pp_http_send_error(rq, PP_ERR_SESSION_REQUIRED,
                                 "sign in with the login link from your email");
        return 0;
    }
    args[0] = pp_secret_hash_hex(r->pool, secret);
    if (!pp_db_row(rq, "SELECT api.pp_session_user(decode(%s, 'hex'))", 1, args, 1, cols, rc)) {
        return 0;
    }
    if (!cols[0]) {
        *rc = pp_http_send_error(rq, PP_ERR_SESSION_REQUIRED,
                                 "your session has ended; sign in again with a new login link");
        return 0;
    }
    rq->user_id = cols[0];
    rq->session_secret = secret;
    if (r->method_number != M_GET) {
        const unsigned char *key = pp_config_derived_key(r->pool, rq->conf, "csrf");
        if (!pp_session_origin_ok(rq)
            || !pp_csrf_check(r->pool, key, PP_SHA256_LEN, secret,
                              apr_table_get(r->headers_in, "X-CSRF-Token"))) {
            pp_rlog(rq, APLOG_INFO, 0,
                    PP_LOGNO(0511) "rejected a trader %s without a valid "
                                   "CSRF token or from another origin",
                    r->method);
            *rc = pp_http_send_error(rq, PP_ERR_CSRF_REJECTED,
                                     "missing or wrong X-CSRF-Token (or a foreign Origin)");
            return 0;
        }
    }
    return 1;
}
