/* Account routes resolve the account's tenant from the trader's own
 * accounts (pp_trader_account_tenant) and then run the partner API's
 * handlers as that tenant: one implementation of trading, and a trader can
 * only ever reach accounts that are theirs. */
#include "mod_polypartner_trader.h"
#include "mod_polypartner_accounts.h"
#include "mod_polypartner_db.h"
#include "mod_polypartner_session.h"
#include "mod_polypartner_trading.h"
#include "pp_session.h"

#include <apr_strings.h>

APLOG_USE_MODULE(polypartner);

static int pp_trader_not_found(pp_req_t *rq)
{
    return pp_http_send_error(rq, PP_ERR_ACCOUNT_NOT_FOUND,
                              "no account with this account_id belongs to you");
}

static int pp_trader_me(pp_req_t *rq)
{
    const char *args[1] = { rq->user_id }, *cols[2], *body, *csrf;
    int rc = OK;

    if (!pp_db_row(rq, "SELECT status, body FROM api.pp_trader_me(%s::bigint)", 1, args, 2, cols,
                   &rc)) {
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

static int pp_trader_logout(pp_req_t *rq)
{
    const char *args[1] = { pp_secret_hash_hex(rq->r->pool, rq->session_secret) }, *cols[1];
    int rc = OK;

    if (!pp_db_row(rq, "SELECT api.pp_session_end(decode(%s, 'hex'))", 1, args, 1, cols, &rc)) {
        return rc;
    }
    apr_table_addn(rq->r->err_headers_out, "Set-Cookie",
                   pp_session_cookie_clear(rq->r->pool, rq->conf->public_url_secure));
    return pp_http_send_json(rq, 200, "{\"status\":\"signed_out\"}", 23);
}

/* The account's tenant when the trader owns it (as rq->tenant); else the
 * 404 has been answered. */
static int pp_trader_own_account(pp_req_t *rq, int *rc)
{
    const char *account_id, *args[2], *cols[1];
    const pp_tenant_t *t;

    if (!(account_id = pp_accounts_path_id(rq, rc))) {
        return 0;
    }
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

int pp_trader_handle(pp_req_t *rq)
{
    int rc = OK;

    if (!pp_session_authenticate(rq, &rc)) {
        return rc;
    }
    switch (rq->route.id) {
    case PP_ROUTE_TRADER_ME:
        return pp_trader_me(rq);
    case PP_ROUTE_TRADER_LOGOUT:
        return pp_trader_logout(rq);
    case PP_ROUTE_TRADER_ACCOUNT: {
        const char *account_id, *args[2];
        if (!(account_id = pp_accounts_path_id(rq, &rc))) {
            return rc;
        }
        args[0] = rq->user_id;
        args[1] = account_id;
        return pp_db_respond(rq, "SELECT status, body FROM api.pp_trader_account(%s::bigint, "
                             "%s::uuid)", 2, args);
    }
    default:
        break;
    }
    if (!pp_trader_own_account(rq, &rc)) {
        return rc;
    }
    switch (rq->route.id) {
    case PP_ROUTE_TRADER_ORDERS_PLACE:
        return pp_trading_handle_place(rq);
    case PP_ROUTE_TRADER_ORDERS_LIST:
        return pp_trading_handle_list(rq);
    case PP_ROUTE_TRADER_ORDERS_CANCEL:
        return pp_trading_handle_cancel(rq);
    case PP_ROUTE_TRADER_TRADES:
        return pp_trading_handle_trades(rq);
    default:
        return pp_http_send_error(rq, PP_ERR_NOT_FOUND, "the requested resource does not exist");
    }
}
