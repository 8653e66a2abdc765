/* Query strings of the GET endpoints, independent of httpd. */
#ifndef PP_QUERY_H
#define PP_QUERY_H

#include <apr_pools.h>

#define PP_TRADES_LIMIT_DEFAULT 100
#define PP_TRADES_LIMIT_MAX     500
#define PP_TRADES_MARKET_MAX    255
#define PP_QUERY_SEARCH_MAX     200

typedef struct {
    int limit;             /* 1..500, default 100 */
    const char *side;      /* "BUY"/"SELL" uppercased, or "" */
    const char *market_id; /* "" if absent */
    const char *cursor;    /* NULL if absent (or given empty: "cursor=") */
} pp_trades_query_t;

/* GET /v1/partner/accounts/{account_id}/trades: args is r->args, the raw
 * text after '?', or NULL. NULL on success; otherwise a client-facing
 * message naming the parameter (the caller answers 422 VALIDATION_FAILED).
 *
 * Parameters are split on '&' (empty pieces are skipped); names and values
 * are percent-decoded with '+' as space. A malformed escape or a decoded NUL
 * is an error. Unknown names are ignored, their values unexamined. A known
 * name given twice, or without '=', is an error. The cursor is only checked
 * for being text here; pp_cursor_decode judges it (400 INVALID_CURSOR). */
const char *pp_query_parse_trades(apr_pool_t *p, const char *args, pp_trades_query_t *out);

typedef struct {
    int limit;             /* 1..500, default 100 */
    const char *search;    /* "" if absent; else 1-200 bytes of clean UTF-8 */
    const char *market_id; /* "" if absent */
    const char *cursor;    /* NULL if absent */
} pp_markets_query_t;

/* GET /v1/markets: limit, cursor, market_id and search, by the same rules. */
const char *pp_query_parse_markets(apr_pool_t *p, const char *args, pp_markets_query_t *out);

#define PP_EVENTS_WAIT_MAX 30

typedef struct {
    int limit;              /* 1..500, default 100 */
    const char *cursor;     /* NULL if absent */
    const char *types;      /* canonical (pp_events_parse_types), "" if absent */
    const char *account_id; /* lowercase UUID, "" if absent */
    int wait;               /* seconds, 0..30, default 0 */
} pp_events_query_t;

/* GET /v1/partner/events and its stream: limit, cursor, types, account_id
 * and wait, by the same rules. */
const char *pp_query_parse_events(apr_pool_t *p, const char *args, pp_events_query_t *out);

#endif
