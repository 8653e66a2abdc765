/* Validation for the trader-registration endpoints, independent of httpd. */
#ifndef PP_USERS_H
#define PP_USERS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "pp_error.h"

typedef struct {
    const char *external_id;
    const char *email;    /* normalised */
    const char *metadata; /* compact JSON object text; "{}" when absent */
} pp_user_registration_t;

/* Validates a POST /v1/partner/users body. On failure returns the error and
 * sets *message; on success fills out and returns -1. */
int pp_users_parse_registration(apr_pool_t *p, const char *body, apr_size_t len,
                                pp_user_registration_t *out, const char **message);

/* Validates a POST /v1/partner/users/{user_id}/login-link body: a JSON
 * object ({} at least; an absent or empty body is VALIDATION_FAILED) with an
 * optional string redirect_url that must match the tenant's allowlist
 * (REDIRECT_NOT_ALLOWED). *redirect_url is NULL when not given. Returns the
 * error with *message, or -1. */
int pp_users_parse_login_link(apr_pool_t *p, const char *body, apr_size_t len,
                              const apr_array_header_t *allow, const char **redirect_url,
                              const char **message);

/* Accepts only the canonical form of a positive 64-bit id ("42", not "042",
 * "+42" or "4.2e1"), so every other spelling is simply an unknown user. */
int pp_users_parse_id(const char *s, const char **canonical);

#endif
