/* Strict parsing of the absolute URLs login links may redirect to, and the
 * tenant allowlist check. A security boundary (open redirects): anything a
 * browser could read differently from us is rejected, never repaired.
 * Pure APR, so it is unit-tested and fuzzed. */
#ifndef PP_REDIRECT_H
#define PP_REDIRECT_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Longest URL accepted, in bytes. */
#define PP_URL_MAX_LEN 2048

typedef struct {
    const char *scheme;   /* lowercased: "https" or "http" (http only for loopback hosts) */
    const char *host;     /* lowercased; IPv6 literals without brackets, in RFC 5952 form */
    int port;             /* explicit or the scheme default (443/80) */
    const char *path;     /* "/" when empty; never contains "." or ".." segments */
    const char *query;    /* NULL when absent (without '?') */
    const char *fragment; /* NULL when absent (without '#') */
} pp_url_t;

/* NULL on success, else a clear human-readable message (for the 400 body).
 * The strings of out live in p. */
const char *pp_url_parse(apr_pool_t *p, const char *text, pp_url_t *out);

/* Non-zero for "localhost", 127.0.0.0/8 (dotted quad) and ::1. */
int pp_url_host_is_loopback(const char *host);

/* NULL when url matches one entry of allow (const char * absolute URLs, as
 * configured with PolyPartnerTenantRedirectAllow): same scheme, same host,
 * same effective port, and the entry's path a prefix of the URL's path on a
 * segment boundary. Else the message for 400 REDIRECT_NOT_ALLOWED. */
const char *pp_redirect_check(apr_pool_t *p, const apr_array_header_t *allow, const char *url);

#endif
