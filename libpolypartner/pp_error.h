/* The error envelope {"error": CODE, "message": "..."} and the fixed
 * mapping from each error code to its HTTP status, both from the catalogue
 * pp_error_codes.def (which the SQL engine reads too). */
#ifndef PP_ERROR_H
#define PP_ERROR_H

#include <apr_pools.h>

/* PP_ERR_<CODE> for each line of the catalogue, in its order. */
typedef enum {
#define PP_ERROR_CODE(code, status) PP_ERR_##code,
#include "pp_error_codes.def"
#undef PP_ERROR_CODE
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
const char *pp_error_body(apr_pool_t *p, pp_error_t err, const char *message, apr_size_t *len);

#endif
