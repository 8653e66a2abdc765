/* Validation of order placement bodies, independent of httpd. */
#ifndef PP_ORDERS_H
#define PP_ORDERS_H

#include <apr_pools.h>

typedef struct {
    const char *token_id;        /* the outcome token, decimal digits */
    const char *side;            /* "BUY" or "SELL" */
    const char *type;            /* "market" or "limit" */
    const char *quantity;        /* plain decimal > 0, at most 4 decimals */
    const char *limit_price;     /* limit orders: plain decimal in (0, 1); else NULL */
    const char *worst_price;     /* market orders, optional cap; else NULL */
    const char *client_order_id; /* optional idempotency key; else NULL */
} pp_order_request_t;

/* POST /v1/partner/accounts/{account_id}/orders body. Returns -1 and fills
 * out, or a pp_error_t (VALIDATION_FAILED for types and presence,
 * INVALID_ORDER for values) with *message set. */
int pp_orders_parse(apr_pool_t *p, const char *body, apr_size_t len, pp_order_request_t *out,
                    const char **message);

/* Non-zero for a positive decimal id in canonical form (no sign, no leading 0). */
int pp_orders_is_id(const char *s);

#endif
