/* The trader surface's own endpoints (/v1/trader/me, logout), and the rule
 * that lets the rest reuse the partner API's statements: a trader acts as
 * the tenant of an account that is theirs (pp_trader_own_account), so a
 * trader can only ever reach their own accounts. */
#include "mod_polypartner_trader.h"
#include "mod_polypartner_db.h"
#include "mod_polypartner_endpoint.h"
#include "mod_polypartner_session.h"
#include "pp_session.h"

#include <apr_strings.h>

APLOG_USE_MODULE(polypartner);

static int pp_trader_not_found(pp_req_t *rq)
{
    return pp_http_send_error(rq, PP_ERR_ACCOUNT_NOT_FOUND,
                              "no account with this account_id belongs to you");
}

int pp_trader_me(pp_req_t *rq)
{
    const char *cols[2], *body, *csrf;
    int rc = OK;

    if (!pp_endpoint_prepare(rq, &rc) || !pp_endpoint_call(rq, 2, cols, &rc)) {
        return rc;
    }
    if (pp_db_status(cols[0]) != 200 || !cols[1] || cols[1][0] != '{' || cols[1][1] == '}') {
        return pp_db_send_row(rq, cols);
    }
    if (!(csrf = pp_session_csrf_token(rq))) {
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    body = apr_pstrcat(rq->r->pool, "{\"csrf_token\":\"", csrf, "\",", cols[1] + 1, NULL);
    return pp_http_send_json(rq, 200, body, strlen(body));
}

int pp_trader_logout(pp_req_t *rq)
{
    const char *cols[1];
    int rc = OK;

    if (!pp_endpoint_prepare(rq, &rc) || !pp_endpoint_call(rq, 1, cols, &rc)) {
        return rc;
    }
    apr_table_addn(rq->r->err_headers_out, "Set-Cookie",
                   pp_session_cookie_clear(rq->r->pool, rq->conf->public_url_secure));
    return pp_http_send_json(rq, 200, "{\"status\":\"signed_out\"}", 23);
}

int pp_trader_own_account(pp_req_t *rq, const char *account_id, int *rc)
{
    const char *args[2], *cols[1];
    const pp_tenant_t *t;

    args[0] = rq->user_id;
    args[1] = account_id;
    if (!pp_db_row(rq, "SELECT api.pp_trader_account_tenant(%s::bigint, %s::uuid)", 2, args, 1,
                   cols, rc)) {
        return 0;
    }
    /* a tenant removed from the configuration (or disabled) trades no more */
    t = cols[0] ? pp_tenants_find(rq->conf->tenants, cols[0]) : NULL;
    if (!t || !t->enabled) {
        *rc = pp_trader_not_found(rq);
        return 0;
    }
    rq->tenant = t;
    return 1;
}
