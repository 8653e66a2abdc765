/* The trader side's secrets: one-time login tokens and session secrets
 * (256 random bits as base64url; only their SHA-256 reaches the database),
 * the session cookie, the CSRF token bound to a session, and the small
 * parsers the sign-in page needs (Cookie header, form body). Pure APR and
 * OpenSSL, unit-tested without httpd. */
#ifndef PP_SESSION_H
#define PP_SESSION_H

#include <apr_pools.h>

#include "pp_token.h"

#define PP_SECRET_BYTES   32
#define PP_SECRET_CHARS   43 /* unpadded base64url of 32 bytes */
#define PP_SESSION_COOKIE "pp_session"

/* A new secret, or NULL when the random generator failed. */
const char *pp_secret_new(apr_pool_t *p);

/* Exactly PP_SECRET_CHARS base64url characters (anything else is never
 * looked up). */
int pp_secret_is_wellformed(const char *s);

/* Lowercase hex of SHA-256(secret): the database's key, as decode(x,'hex'). */
const char *pp_secret_hash_hex(apr_pool_t *p, const char *secret);

/* The value of cookie `name` in a Cookie header; NULL when absent, empty,
 * or present more than once (an attacker-planted duplicate is refused, not
 * guessed at). */
const char *pp_cookie_get(apr_pool_t *p, const char *header, const char *name);

/* Set-Cookie values: the session (HttpOnly, SameSite=Lax, Path=/, Secure
 * unless secure is 0) and its removal. */
const char *pp_session_cookie(apr_pool_t *p, const char *secret, int max_age_s, int secure);
const char *pp_session_cookie_clear(apr_pool_t *p, int secure);

/* The CSRF token of a session: base64url(HMAC-SHA256(key, "csrf\n" secret)).
 * The page reads it from GET /v1/trader/me and sends it in X-CSRF-Token. */
const char *pp_csrf_token(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                          const char *session_secret);
/* Non-zero when presented is the session's token (constant-time compare). */
int pp_csrf_check(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                  const char *session_secret, const char *presented);

/* The decoded value of `name` in an application/x-www-form-urlencoded body;
 * NULL when absent, duplicated or badly encoded. */
const char *pp_form_get(apr_pool_t *p, const char *body, const char *name);

/* Text made safe for HTML element content and attribute values. */
const char *pp_html_escape(apr_pool_t *p, const char *s);

#endif
