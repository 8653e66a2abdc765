#include "mod_polypartner_db.h"

#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <libpq-fe.h>
#include <mod_dbd.h>

APLOG_USE_MODULE(polypartner);

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *pp_dbd_acquire;

int pp_db_init(void)
{
    pp_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    return pp_dbd_acquire != NULL;
}

static int pp_db_connection_lost(const ap_dbd_t *dbd)
{
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    return !conn || PQstatus(conn) != CONNECTION_OK;
}

static int pp_db_unavailable(pp_req_t *rq)
{
    return pp_http_send_error(rq, PP_ERR_SERVICE_UNAVAILABLE,
                              "the database is unavailable; retry shortly");
}

int pp_db_status(const char *text)
{
    char *end;
    long status;

    if (!text) {
        return 0;
    }
    status = strtol(text, &end, 10);
    return (*end || end == text || status < 200 || status > 599) ? 0 : (int)status;
}

int pp_db_row(pp_req_t *rq, const char *sql, int nargs, const char **args, int ncols,
              const char **cols, int *rc)
{
    request_rec *r = rq->r;
    ap_dbd_t *dbd;
    apr_dbd_prepared_t *stmt = NULL;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv, attempt, i;

    dbd = pp_dbd_acquire ? pp_dbd_acquire(r) : NULL;
    if (!dbd) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0101) "no database connection available "
                "(is PostgreSQL up and DBDParams right?)");
        *rc = pp_db_unavailable(rq);
        return 0;
    }
    if (strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0102) "DBDriver is %s; mod_polypartner needs pgsql",
                apr_dbd_name(dbd->driver));
        *rc = pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
        return 0;
    }
    rv = apr_dbd_prepare(dbd->driver, r->pool, dbd->handle, sql, NULL, &stmt);
    if (rv != 0) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0103) "preparing a statement failed: %s",
                apr_dbd_error(dbd->driver, dbd->handle, rv));
        *rc = pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
        return 0;
    }
    /* A pooled connection whose server went away (restart, failover) fails
     * its next query; libpq then reports it lost, so reconnect and run the
     * call once more. Every call is idempotent or rejected atomically. */
    for (attempt = 0;; attempt++) {
        rv = apr_dbd_pselect(dbd->driver, r->pool, dbd->handle, &res, stmt, 1, nargs, args);
        if (rv == 0) {
            break;
        }
        if (!pp_db_connection_lost(dbd)) {
            pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0104) "database call failed: %s",
                    apr_dbd_error(dbd->driver, dbd->handle, rv));
            *rc = pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
            return 0;
        }
        if (attempt == 0 && apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle) == APR_SUCCESS) {
            pp_rlog(rq, APLOG_WARNING, 0, PP_LOGNO(0105) "database connection was lost; "
                    "reconnected, retrying once");
            res = NULL;
            continue;
        }
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0106) "database connection lost: %s",
                apr_dbd_error(dbd->driver, dbd->handle, rv));
        *rc = pp_db_unavailable(rq);
        return 0;
    }
    if (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) != 0
        || apr_dbd_num_cols(dbd->driver, res) < ncols) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0107) "database call returned no usable row");
        *rc = pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
        return 0;
    }
    for (i = 0; i < ncols; i++) {
        const char *v = NULL;
        /* get_entry turns NULL into "": datum_get tells them apart */
        if (apr_dbd_datum_get(dbd->driver, row, i, APR_DBD_TYPE_STRING, &v) != APR_SUCCESS) {
            v = NULL;
        }
        cols[i] = v ? apr_pstrdup(r->pool, v) : NULL;
    }
    return 1;
}

int pp_db_send_row(pp_req_t *rq, const char **cols)
{
    int status = pp_db_status(cols[0]);

    if (!status || !cols[1] || !*cols[1]) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0108) "database call returned a malformed row");
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    return pp_http_send_json(rq, status, cols[1], strlen(cols[1]));
}

int pp_db_respond(pp_req_t *rq, const char *sql, int nargs, const char **args)
{
    const char *cols[2];
    int rc = OK;

    return pp_db_row(rq, sql, nargs, args, 2, cols, &rc) ? pp_db_send_row(rq, cols) : rc;
}
