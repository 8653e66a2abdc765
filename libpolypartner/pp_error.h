/* The error envelope {"error": CODE, "message": "..."} and the fixed
 * mapping from each error code to its HTTP status. */
#ifndef PP_ERROR_H
#define PP_ERROR_H

#include <apr_pools.h>

typedef enum {
    PP_ERR_INVALID_EMAIL = 0,
    PP_ERR_MISSING_API_KEY,
    PP_ERR_INVALID_API_KEY,
    PP_ERR_INSUFFICIENT_PERMISSION,
    PP_ERR_NOT_FOUND,
    PP_ERR_USER_NOT_FOUND,
    PP_ERR_METHOD_NOT_ALLOWED,
    PP_ERR_EXTERNAL_ID_CONFLICT,
    PP_ERR_USER_ALREADY_MAPPED,
    PP_ERR_PAYLOAD_TOO_LARGE,
    PP_ERR_VALIDATION_FAILED,
    PP_ERR_INTERNAL_ERROR,
    PP_ERR_NOT_IMPLEMENTED,
    PP_ERR_SERVICE_UNAVAILABLE,
    PP_ERR_INVALID_STAGE,
    PP_ERR_INVALID_BALANCE,
    PP_ERR_BALANCE_OUT_OF_BOUNDS,
    PP_ERR_ACCOUNT_NOT_FOUND,
    PP_ERR_INVALID_ACCOUNT_ID,
    PP_ERR_ACCOUNT_EXTERNAL_ID_CONFLICT,
    PP_ERR_ORDERS_NOT_CANCELLED,
    PP_ERR_INVALID_ORDER,
    PP_ERR_ORDER_NOT_FOUND,
    PP_ERR_INVALID_CURSOR,
    PP_ERR_BAD_REQUEST,
    PP_ERR_FORBIDDEN,
    PP_ERR_REQUEST_TIMEOUT,
    PP_ERR_URI_TOO_LONG,
    PP_ERR_HTTP_ERROR,
    PP_ERR_REDIRECT_NOT_ALLOWED,
    PP_ERR_RATE_LIMIT_EXCEEDED,
    PP_ERR_MAGIC_LINK_FAILED,
    PP_ERR_SESSION_REQUIRED,
    PP_ERR_CSRF_REJECTED,
    /* returned by the engine (sql/functions) with their status */
    PP_ERR_INVALID_PRICE,
    PP_ERR_MARKET_CLOSED,
    PP_ERR_INSUFFICIENT_FUNDS,
    PP_ERR_INSUFFICIENT_SHARES,
    PP_ERR_MARKET_NOT_FOUND,
    PP_ERR_ACCOUNT_CLOSED,
    PP_ERR_IDEMPOTENCY_KEY_REUSE,
    PP_ERR_NO_EXECUTABLE_PRICE,
    PP_ERR_STALE_QUOTE,
    PP_ERR_ORDER_NOT_OPEN,
    PP_ERR_LOGIN_LINK_INVALID,
    PP_ERR__COUNT
} pp_error_t;

/* The wire code, e.g. "USER_NOT_FOUND". */
const char *pp_error_code(pp_error_t err);

/* The HTTP status that always accompanies the code. */
int pp_error_status(pp_error_t err);

/* The code for an HTTP status httpd produced on its own (BAD_REQUEST for
 * 400, NOT_FOUND for 404, ...). */
pp_error_t pp_error_for_status(int status);

/* Serialises the envelope into p; message is escaped as needed. */
const char *pp_error_body(apr_pool_t *p, pp_error_t err, const char *message,
                          apr_size_t *len);

#endif
