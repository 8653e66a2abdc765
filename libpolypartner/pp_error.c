#include "pp_error.h"
#include "pp_json.h"

#include <apr_strings.h>

/* clang-format off */
static const struct {
    const char *code;
    int status;
} pp_errors[PP_ERR__COUNT] = {
    [PP_ERR_INVALID_EMAIL]           = { "INVALID_EMAIL", 400 },
    [PP_ERR_MISSING_API_KEY]         = { "MISSING_API_KEY", 401 },
    [PP_ERR_INVALID_API_KEY]         = { "INVALID_API_KEY", 401 },
    [PP_ERR_INSUFFICIENT_PERMISSION] = { "INSUFFICIENT_PERMISSION", 403 },
    [PP_ERR_NOT_FOUND]               = { "NOT_FOUND", 404 },
    [PP_ERR_USER_NOT_FOUND]          = { "USER_NOT_FOUND", 404 },
    [PP_ERR_METHOD_NOT_ALLOWED]      = { "METHOD_NOT_ALLOWED", 405 },
    [PP_ERR_EXTERNAL_ID_CONFLICT]    = { "EXTERNAL_ID_CONFLICT", 409 },
    [PP_ERR_USER_ALREADY_MAPPED]     = { "USER_ALREADY_MAPPED", 409 },
    [PP_ERR_PAYLOAD_TOO_LARGE]       = { "PAYLOAD_TOO_LARGE", 413 },
    [PP_ERR_VALIDATION_FAILED]       = { "VALIDATION_FAILED", 422 },
    [PP_ERR_INTERNAL_ERROR]          = { "INTERNAL_ERROR", 500 },
    [PP_ERR_NOT_IMPLEMENTED]         = { "NOT_IMPLEMENTED", 501 },
    [PP_ERR_SERVICE_UNAVAILABLE]     = { "SERVICE_UNAVAILABLE", 503 },
    [PP_ERR_INVALID_STAGE]           = { "INVALID_STAGE", 400 },
    [PP_ERR_INVALID_BALANCE]         = { "INVALID_BALANCE", 400 },
    [PP_ERR_BALANCE_OUT_OF_BOUNDS]   = { "BALANCE_OUT_OF_BOUNDS", 400 },
    [PP_ERR_ACCOUNT_NOT_FOUND]       = { "ACCOUNT_NOT_FOUND", 404 },
    [PP_ERR_INVALID_ACCOUNT_ID]      = { "INVALID_ACCOUNT_ID", 422 },
    [PP_ERR_ACCOUNT_EXTERNAL_ID_CONFLICT] = { "ACCOUNT_EXTERNAL_ID_CONFLICT", 409 },
    [PP_ERR_ORDERS_NOT_CANCELLED]    = { "ORDERS_NOT_CANCELLED", 409 },
    [PP_ERR_INVALID_ORDER]           = { "INVALID_ORDER", 400 },
    [PP_ERR_ORDER_NOT_FOUND]         = { "ORDER_NOT_FOUND", 404 },
    [PP_ERR_INVALID_CURSOR]          = { "INVALID_CURSOR", 400 },
    [PP_ERR_BAD_REQUEST]             = { "BAD_REQUEST", 400 },
    [PP_ERR_FORBIDDEN]               = { "FORBIDDEN", 403 },
    [PP_ERR_REQUEST_TIMEOUT]         = { "REQUEST_TIMEOUT", 408 },
    [PP_ERR_URI_TOO_LONG]            = { "URI_TOO_LONG", 414 },
    [PP_ERR_HTTP_ERROR]              = { "HTTP_ERROR", 400 },
    [PP_ERR_REDIRECT_NOT_ALLOWED]    = { "REDIRECT_NOT_ALLOWED", 400 },
    [PP_ERR_RATE_LIMIT_EXCEEDED]     = { "RATE_LIMIT_EXCEEDED", 429 },
    [PP_ERR_MAGIC_LINK_FAILED]       = { "MAGIC_LINK_FAILED", 502 },
    [PP_ERR_SESSION_REQUIRED]        = { "SESSION_REQUIRED", 401 },
    [PP_ERR_CSRF_REJECTED]           = { "CSRF_REJECTED", 403 },
    [PP_ERR_INVALID_PRICE]           = { "INVALID_PRICE", 400 },
    [PP_ERR_MARKET_CLOSED]           = { "MARKET_CLOSED", 400 },
    [PP_ERR_INSUFFICIENT_FUNDS]      = { "INSUFFICIENT_FUNDS", 400 },
    [PP_ERR_INSUFFICIENT_SHARES]     = { "INSUFFICIENT_SHARES", 400 },
    [PP_ERR_MARKET_NOT_FOUND]        = { "MARKET_NOT_FOUND", 404 },
    [PP_ERR_ACCOUNT_CLOSED]          = { "ACCOUNT_CLOSED", 409 },
    [PP_ERR_IDEMPOTENCY_KEY_REUSE]   = { "IDEMPOTENCY_KEY_REUSE", 409 },
    [PP_ERR_NO_EXECUTABLE_PRICE]     = { "NO_EXECUTABLE_PRICE", 409 },
    [PP_ERR_STALE_QUOTE]             = { "STALE_QUOTE", 409 },
    [PP_ERR_ORDER_NOT_OPEN]          = { "ORDER_NOT_OPEN", 409 },
    [PP_ERR_LOGIN_LINK_INVALID]      = { "LOGIN_LINK_INVALID", 410 },
};
/* clang-format on */

pp_error_t pp_error_for_status(int status)
{
    switch (status) {
    case 400: return PP_ERR_BAD_REQUEST;
    case 403: return PP_ERR_FORBIDDEN;
    case 404: return PP_ERR_NOT_FOUND;
    case 405: return PP_ERR_METHOD_NOT_ALLOWED;
    case 408: return PP_ERR_REQUEST_TIMEOUT;
    case 413: return PP_ERR_PAYLOAD_TOO_LARGE;
    case 414: return PP_ERR_URI_TOO_LONG;
    case 501: return PP_ERR_NOT_IMPLEMENTED;
    case 503: return PP_ERR_SERVICE_UNAVAILABLE;
    default:  return status >= 500 ? PP_ERR_INTERNAL_ERROR : PP_ERR_HTTP_ERROR;
    }
}

const char *pp_error_code(pp_error_t err)
{
    return (err >= 0 && err < PP_ERR__COUNT) ? pp_errors[err].code : "INTERNAL_ERROR";
}

int pp_error_status(pp_error_t err)
{
    return (err >= 0 && err < PP_ERR__COUNT) ? pp_errors[err].status : 500;
}

const char *pp_error_body(apr_pool_t *p, pp_error_t err, const char *message,
                          apr_size_t *len)
{
    const char *body = apr_pstrcat(p, "{\"error\":", pp_json_quote(p, pp_error_code(err)),
                                   ",\"message\":", pp_json_quote(p, message), "}", NULL);
    if (len) {
        *len = strlen(body);
    }
    return body;
}
