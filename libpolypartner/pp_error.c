#include "pp_error.h"
#include "pp_json.h"

#include <apr_strings.h>

/* clang-format off */
static const struct {
    const char *code;
    int status;
} pp_errors[PP_ERR__COUNT] = {
#define PP_ERROR_CODE(code, status) [PP_ERR_##code] = { #code, status },
#include "pp_error_codes.def"
#undef PP_ERROR_CODE
};
/* clang-format on */

pp_error_t pp_error_for_status(int status)
{
    switch (status) {
    case 400:
        return PP_ERR_BAD_REQUEST;
    case 403:
        return PP_ERR_FORBIDDEN;
    case 404:
        return PP_ERR_NOT_FOUND;
    case 405:
        return PP_ERR_METHOD_NOT_ALLOWED;
    case 408:
        return PP_ERR_REQUEST_TIMEOUT;
    case 413:
        return PP_ERR_PAYLOAD_TOO_LARGE;
    case 414:
        return PP_ERR_URI_TOO_LONG;
    case 501:
        return PP_ERR_NOT_IMPLEMENTED;
    case 503:
        return PP_ERR_SERVICE_UNAVAILABLE;
    default:
        return status >= 500 ? PP_ERR_INTERNAL_ERROR : PP_ERR_HTTP_ERROR;
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

const char *pp_error_body(apr_pool_t *p, pp_error_t err, const char *message, apr_size_t *len)
{
    const char *body = apr_pstrcat(p, "{\"error\":", pp_json_quote(p, pp_error_code(err)),
                                   ",\"message\":", pp_json_quote(p, message), "}", NULL);
    if (len) {
        *len = strlen(body);
    }
    return body;
}
