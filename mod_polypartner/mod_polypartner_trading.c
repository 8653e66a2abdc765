#include "mod_polypartner_trading.h"
#include "mod_polypartner_accounts.h"
#include "mod_polypartner_db.h"
#include "pp_accounts.h"
#include "pp_cursor.h"
#include "pp_orders.h"
#include "pp_query.h"
#include "pp_token.h"

#include <apr_strings.h>

/* {"data": <data>, "next_cursor": <cursor or null>}; has_next with a NULL
 * cursor means the next position could not be encoded: a 500, never a
 * silently truncated feed. */
static int pp_trading_send_page(pp_req_t *rq, const char *data, int has_next, const char *cursor)
{
    if (has_next && !cursor) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0403) "cannot encode the next-page cursor");
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    const char *body = apr_pstrcat(rq->r->pool, "{\"data\":", data, ",\"next_cursor\":",
                                   cursor ? apr_pstrcat(rq->r->pool, "\"", cursor, "\"", NULL)
                                          : "null", "}", NULL);
    return pp_http_send_json(rq, 200, body, strlen(body));
}

int pp_trading_handle_trades(pp_req_t *rq)
{
    pp_trades_query_t q;
    pp_cursor_t pos, next;
    const char *account_id, *message, *args[7], *cols[4];
    int rc = OK;

    if (!(account_id = pp_accounts_path_id(rq, &rc))) {
        return rc;
    }
    if ((message = pp_query_parse_trades(rq->r->pool, rq->r->args, &q)) != NULL) {
        return pp_http_send_error(rq, PP_ERR_VALIDATION_FAILED, message);
    }
    memset(&pos, 0, sizeof(pos));
    if (q.cursor) {
        const char *why = pp_cursor_decode(rq->r->pool, rq->conf->cursor_key, PP_CURSOR_KEY_LEN,
                                           q.cursor, account_id, q.side, q.market_id, &pos);
        if (why) {
            pp_rlog(rq, APLOG_INFO, 0, PP_LOGNO(0402) "rejected a trades cursor: %s", why);
            return pp_http_send_error(rq, PP_ERR_INVALID_CURSOR,
                                      "cursor is not one this endpoint issued for this account "
                                      "and these filters; start again without a cursor");
        }
    }
    args[0] = rq->tenant->name;
    args[1] = account_id;
    args[2] = apr_itoa(rq->r->pool, q.limit);
    args[3] = *q.side ? q.side : NULL;
    args[4] = *q.market_id ? q.market_id : NULL;
    args[5] = q.cursor ? pos.filled_at_us : NULL;
    args[6] = q.cursor ? pos.order_id : NULL;
    if (!pp_db_row(rq, "SELECT status, body, next_us, next_order_id FROM api.pp_list_trades(%s, "
                   "%s::uuid, %s::integer, %s, %s, %s::bigint, %s::bigint)", 7, args, 4, cols, &rc)) {
        return rc;
    }
    if (pp_db_status(cols[0]) != 200 || !cols[1]) {
        return pp_db_send_row(rq, cols);
    }
    if (!cols[2] || !cols[3]) {
        return pp_trading_send_page(rq, cols[1], 0, NULL);
    }
    next.account_id = account_id;
    next.side = q.side;
    next.market_id = q.market_id;
    next.filled_at_us = cols[2];
    next.order_id = cols[3];
    return pp_trading_send_page(rq, cols[1], 1, pp_cursor_encode(rq->r->pool, rq->conf->cursor_key,
                                                              PP_CURSOR_KEY_LEN, &next));
}

int pp_trading_handle_place(pp_req_t *rq)
{
    pp_order_request_t order;
    const char *account_id, *body, *message, *args[11];
    apr_size_t len;
    int rc = OK, err;

    if (!(account_id = pp_accounts_path_id(rq, &rc))) {
        return rc;
    }
    if (!pp_http_read_body(rq, &body, &len, &rc)) {
        return rc;
    }
    err = pp_orders_parse(rq->r->pool, body, len, &order, &message);
    if (err >= 0) {
        return pp_http_send_error(rq, (pp_error_t)err, message);
    }
    args[0] = rq->tenant->name;
    args[1] = account_id;
    args[2] = order.token_id;
    args[3] = order.side;
    args[4] = order.type;
    args[5] = order.quantity;
    args[6] = order.limit_price;
    args[7] = order.worst_price;
    args[8] = order.client_order_id;
    args[9] = rq->tenant->fee_rate;
    args[10] = apr_itoa(rq->r->pool, pp_config_max_price_age(rq->conf));
    return pp_db_respond(rq, "SELECT status, body FROM api.pp_place_order(%s, %s::uuid, %s, %s, "
                         "%s, %s::numeric, %s::numeric, %s::numeric, %s, %s::numeric, %s::integer)",
                         11, args);
}

int pp_trading_handle_list(pp_req_t *rq)
{
    pp_trades_query_t q;
    pp_cursor_t pos, next;
    const unsigned char *key;
    const char *account_id, *message, *args[4], *cols[3];
    int rc = OK;

    if (!(account_id = pp_accounts_path_id(rq, &rc))) {
        return rc;
    }
    if ((message = pp_query_parse_trades(rq->r->pool, rq->r->args, &q)) != NULL) {
        return pp_http_send_error(rq, PP_ERR_VALIDATION_FAILED, message);
    }
    if (*q.side || *q.market_id) {
        return pp_http_send_error(rq, PP_ERR_VALIDATION_FAILED,
                                  "the order list takes only limit and cursor");
    }
    key = pp_config_derived_key(rq->r->pool, rq->conf, "orders-list");
    memset(&pos, 0, sizeof(pos));
    if (q.cursor && pp_cursor_decode(rq->r->pool, key, PP_SHA256_LEN, q.cursor, account_id,
                                     "", "", &pos) != NULL) {
        return pp_http_send_error(rq, PP_ERR_INVALID_CURSOR,
                                  "cursor is not one this endpoint issued for this account");
    }
    args[0] = rq->tenant->name;
    args[1] = account_id;
    args[2] = apr_itoa(rq->r->pool, q.limit);
    args[3] = q.cursor ? pos.order_id : NULL;
    if (!pp_db_row(rq, "SELECT status, body, next_order_id FROM api.pp_list_orders(%s, %s::uuid, "
                   "%s::integer, %s::bigint)", 4, args, 3, cols, &rc)) {
        return rc;
    }
    if (pp_db_status(cols[0]) != 200 || !cols[1]) {
        return pp_db_send_row(rq, cols);
    }
    if (!cols[2]) {
        return pp_trading_send_page(rq, cols[1], 0, NULL);
    }
    /* the order list pages by order id alone; the time slot carries it too */
    next.account_id = account_id;
    next.side = "";
    next.market_id = "";
    next.filled_at_us = cols[2];
    next.order_id = cols[2];
    return pp_trading_send_page(rq, cols[1], 1, pp_cursor_encode(rq->r->pool, key, PP_SHA256_LEN,
                                                              &next));
}

int pp_trading_handle_cancel(pp_req_t *rq)
{
    const char *account_id, *args[3];
    int rc = OK;

    if (!(account_id = pp_accounts_path_id(rq, &rc))) {
        return rc;
    }
    if (!pp_orders_is_id(rq->route.param2)) {
        return pp_http_send_error(rq, PP_ERR_ORDER_NOT_FOUND,
                                  "no order with this order_id belongs to the account");
    }
    args[0] = rq->tenant->name;
    args[1] = account_id;
    args[2] = rq->route.param2;
    return pp_db_respond(rq, "SELECT status, body FROM api.pp_cancel_order(%s, %s::uuid, "
                         "%s::bigint)", 3, args);
}
