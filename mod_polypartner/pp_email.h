/* Email normalisation (trim, lowercase) and the documented shape check. */
#ifndef PP_EMAIL_H
#define PP_EMAIL_H

#include <apr_pools.h>

/* Trims ASCII whitespace and lowercases ASCII letters; returns a copy in p. */
char *pp_email_normalize(apr_pool_t *p, const char *raw);

/* Non-zero when a normalised address has the documented shape: exactly one
 * '@', a non-empty local part, a domain with a dot and no empty labels, and
 * no whitespace or control characters. */
int pp_email_is_valid(const char *email);

#endif
