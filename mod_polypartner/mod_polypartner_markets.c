#include "mod_polypartner_markets.h"
#include "mod_polypartner_db.h"
#include "pp_codec.h"
#include "pp_cursor.h"
#include "pp_query.h"
#include "pp_token.h"

#include <apr_strings.h>

/* Market-list cursors reuse the signed cursor format under a derived key:
 * the account slot carries a digest of the filters (so a cursor only
 * continues the listing it came from) and the order slot the discovery
 * sequence of the last market returned. */
static const char *pp_markets_filter_digest(pp_req_t *rq, const pp_markets_query_t *q)
{
    unsigned char digest[PP_SHA256_LEN];
    const char *text = apr_pstrcat(rq->r->pool, q->search, "\n", q->market_id, NULL);
    pp_token_sha256(text, strlen(text), digest);
    return pp_hex_encode(rq->r->pool, digest, 16);
}

int pp_markets_handle_list(pp_req_t *rq)
{
    pp_markets_query_t q;
    pp_cursor_t pos, next;
    const unsigned char *key;
    const char *message, *filters, *args[4], *cols[3], *cursor = NULL, *body;
    int rc = OK, status;

    if ((message = pp_query_parse_markets(rq->r->pool, rq->r->args, &q)) != NULL) {
        return pp_http_send_error(rq, PP_ERR_VALIDATION_FAILED, message);
    }
    key = pp_config_derived_key(rq->r->pool, rq->conf, "markets-list");
    filters = pp_markets_filter_digest(rq, &q);
    memset(&pos, 0, sizeof(pos));
    if (q.cursor && pp_cursor_decode(rq->r->pool, key, PP_SHA256_LEN, q.cursor, filters, "",
                                     "", &pos) != NULL) {
        return pp_http_send_error(rq, PP_ERR_INVALID_CURSOR,
                                  "cursor is not one this endpoint issued for these filters");
    }
    args[0] = *q.search ? q.search : NULL;
    args[1] = *q.market_id ? q.market_id : NULL;
    args[2] = apr_itoa(rq->r->pool, q.limit);
    args[3] = q.cursor ? pos.order_id : NULL;
    if (!pp_db_row(rq, "SELECT status, body, next_seq FROM api.pp_list_markets(%s, %s, "
                   "%s::integer, %s::bigint)", 4, args, 3, cols, &rc)) {
        return rc;
    }
    status = pp_db_status(cols[0]);
    if (status != 200 || !cols[1]) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0501) "market list returned a malformed row");
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    if (cols[2]) {
        next.account_id = filters;
        next.side = "";
        next.market_id = "";
        next.filled_at_us = "0";
        next.order_id = cols[2];
        if (!(cursor = pp_cursor_encode(rq->r->pool, key, PP_SHA256_LEN, &next))) {
            pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0502) "cannot encode a market-list cursor");
            return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
        }
    }
    body = apr_pstrcat(rq->r->pool, "{\"data\":", cols[1], ",\"next_cursor\":",
                       cursor ? apr_pstrcat(rq->r->pool, "\"", cursor, "\"", NULL) : "null",
                       "}", NULL);
    return pp_http_send_json(rq, 200, body, strlen(body));
}
