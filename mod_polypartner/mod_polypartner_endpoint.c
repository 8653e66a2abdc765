#include "mod_polypartner_endpoint.h"
#include "mod_polypartner_db.h"
#include "mod_polypartner_session.h"
#include "mod_polypartner_trader.h"
#include "pp_cursor.h"
#include "pp_session.h"
#include "pp_token.h"

#include <apr_atomic.h>
#include <apr_strings.h>

APLOG_USE_MODULE(polypartner);

/* A value the statement names that is not the request's own: the caller or
 * a setting. NULL binds SQL NULL. */
static const char *pp_endpoint_context(pp_req_t *rq, const char *name)
{
    apr_pool_t *p = rq->r->pool;

    if (strcmp(name, "tenant") == 0) {
        return rq->tenant ? rq->tenant->name : NULL;
    }
    if (strcmp(name, "fee_rate") == 0) {
        return rq->tenant ? rq->tenant->fee_rate : NULL;
    }
    if (strcmp(name, "user") == 0) {
        return rq->user_id;
    }
    if (strcmp(name, "session_hash") == 0) {
        return rq->session_secret ? pp_secret_hash_hex(p, rq->session_secret) : NULL;
    }
    if (strcmp(name, "max_price_age") == 0) {
        return apr_itoa(p, pp_config_max_price_age(rq->conf));
    }
    if (strcmp(name, "cancel_batch") == 0) {
        return apr_itoa(p, pp_config_cancel_batch(rq->conf));
    }
    if (strcmp(name, "login_ttl") == 0) {
        return apr_itoa(p, pp_config_login_ttl(rq->conf));
    }
    if (strcmp(name, "link_limit") == 0) {
        return apr_itoa(p, pp_config_link_limit(rq->conf));
    }
    if (strcmp(name, "link_window") == 0) {
        return apr_itoa(p, pp_config_link_window(rq->conf));
    }
    if (strcmp(name, "session_ttl") == 0) {
        return apr_itoa(p, pp_config_session_ttl(rq->conf));
    }
    return NULL;
}

int pp_endpoint_prepare(pp_req_t *rq, int *rc)
{
    const pp_route_row_t *row = rq->route.row;
    const char *raw[PP_ROUTE_MAX_PARAMS] = { rq->route.param, rq->route.param2 };
    pp_input_req_t *in = &rq->in;
    int i, err;

    rq->values = apr_table_make(rq->r->pool, 8);
    if (row->surface == PP_SURFACE_TRADER && !pp_session_authenticate(rq, rc)) {
        return 0;
    }
    for (i = 0; i < PP_ROUTE_MAX_PARAMS && rq->route.param_names[i]; i++) {
        const char *name = rq->route.param_names[i], *value, *message;
        if ((err = pp_route_param(rq->r->pool, name, raw[i], &value, &message)) >= 0) {
            *rc = pp_http_send_error(rq, (pp_error_t)err, message);
            return 0;
        }
        apr_table_setn(rq->values, name, value);
        /* a trader acts as the tenant of an account of theirs, found before
         * anything else about the request is looked at */
        if (row->surface == PP_SURFACE_TRADER && strcmp(name, "account_id") == 0
            && strstr(row->sql, ":tenant") && !pp_trader_own_account(rq, value, rc)) {
            return 0;
        }
    }
    in->pool = rq->r->pool;
    in->query = rq->r->args;
    in->tenant = rq->tenant;
    in->values = rq->values;
    if (row->input->body && !pp_http_read_body(rq, &in->body, &in->body_len, rc)) {
        return 0;
    }
    if ((err = pp_input_read(row->input, in)) >= 0) {
        *rc = pp_http_send_error(rq, (pp_error_t)err, in->message);
        return 0;
    }
    /* a list of an account's rows: its cursors are the account's */
    if (!in->cursor_scope) {
        in->cursor_scope = apr_table_get(rq->values, "account_id");
    }
    return 1;
}

/* The tenants' settings the engine needs (where their trading day begins),
 * written by each process before its first statement: idempotent, so
 * threads racing to do it are harmless. */
static int pp_endpoint_send_settings(pp_req_t *rq, int *rc)
{
    pp_tenants_t *tenants = rq->conf->tenants;
    const char *args[1], *cols[1];

    if (apr_atomic_read32(&tenants->settings_sent)) {
        return 1;
    }
    args[0] = pp_tenants_settings_json(rq->r->pool, tenants);
    if (!pp_db_row(rq, "SELECT api.pp_configure_tenants(%s::jsonb)", 1, args, 1, cols, rc)) {
        return 0;
    }
    apr_atomic_set32(&tenants->settings_sent, 1);
    return 1;
}

int pp_endpoint_call(pp_req_t *rq, int ncols, const char **cols, int *rc)
{
    const char **names, **args, *sql;
    int n, i;

    if (!pp_endpoint_send_settings(rq, rc)) {
        return 0;
    }
    sql = pp_route_sql(rq->r->pool, rq->route.row->sql, &names, &n);
    args = apr_palloc(rq->r->pool, sizeof(*args) * (apr_size_t)(n + 1));
    for (i = 0; i < n; i++) {
        args[i] = apr_table_get(rq->values, names[i]);
        if (!args[i]) {
            args[i] = pp_endpoint_context(rq, names[i]);
        }
    }
    return pp_db_row(rq, sql, n, args, ncols, cols, rc);
}

int pp_endpoint_respond(pp_req_t *rq)
{
    const char *cols[2];
    int rc = OK;

    if (!pp_endpoint_prepare(rq, &rc) || !pp_endpoint_call(rq, 2, cols, &rc)) {
        return rc;
    }
    return pp_db_send_row(rq, cols);
}

/* The cursor's signing key: the server's cursor key, or one derived from
 * it for the list's label. */
static const unsigned char *pp_endpoint_cursor_key(pp_req_t *rq, apr_size_t *len)
{
    const char *label = rq->route.row->input->cursor_key;

    if (!*label) {
        *len = PP_CURSOR_KEY_LEN;
        return rq->conf->cursor_key;
    }
    *len = PP_SHA256_LEN;
    return pp_config_derived_key(rq->r->pool, rq->conf, label);
}

int pp_endpoint_cursor_in(pp_req_t *rq, const char *text, int *rc)
{
    const unsigned char *key;
    apr_size_t key_len;
    pp_cursor_t pos;
    const char *why;

    if (!text) {
        return 1;
    }
    key = pp_endpoint_cursor_key(rq, &key_len);
    why = pp_cursor_decode(rq->r->pool, key, key_len, text, rq->in.cursor_scope,
                           rq->in.cursor_filter[0], rq->in.cursor_filter[1], &pos);
    if (why) {
        pp_rlog(rq, APLOG_INFO, 0, PP_LOGNO(0402) "rejected a cursor: %s", why);
        *rc = pp_http_send_error(rq, PP_ERR_INVALID_CURSOR, rq->route.row->input->cursor_refused);
        return 0;
    }
    apr_table_setn(rq->values, "after_1", pos.filled_at_us);
    apr_table_setn(rq->values, "after_2", pos.order_id);
    return 1;
}

const char *pp_endpoint_cursor_out(pp_req_t *rq, const char *next1, const char *next2)
{
    const unsigned char *key;
    apr_size_t key_len;
    const char *cursor;
    pp_cursor_t next;

    key = pp_endpoint_cursor_key(rq, &key_len);
    next.account_id = rq->in.cursor_scope;
    next.side = rq->in.cursor_filter[0];
    next.market_id = rq->in.cursor_filter[1];
    next.filled_at_us = next1;
    next.order_id = next2;
    if (!(cursor = pp_cursor_encode(rq->r->pool, key, key_len, &next))) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0403) "cannot encode the next-page cursor");
    }
    return cursor;
}

int pp_endpoint_send_page(pp_req_t *rq, const char *data, const char *cursor)
{
    const char *body = apr_pstrcat(rq->r->pool, "{\"data\":", data, ",\"next_cursor\":",
                                   cursor ? apr_pstrcat(rq->r->pool, "\"", cursor, "\"", NULL)
                                          : "null",
                                   "}", NULL);
    return pp_http_send_json(rq, 200, body, strlen(body));
}

int pp_endpoint_page(pp_req_t *rq)
{
    const char *cols[4], *cursor = NULL;
    int rc = OK;

    if (!pp_endpoint_prepare(rq, &rc) || !pp_endpoint_cursor_in(rq, rq->in.cursor, &rc)
        || !pp_endpoint_call(rq, 4, cols, &rc)) {
        return rc;
    }
    if (pp_db_status(cols[0]) != 200 || !cols[1]) {
        return pp_db_send_row(rq, cols);
    }
    /* a next position that cannot be encoded is a 500, never a silently
     * truncated list */
    if (cols[2] && cols[3] && !(cursor = pp_endpoint_cursor_out(rq, cols[2], cols[3]))) {
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    return pp_endpoint_send_page(rq, cols[1], cursor);
}
