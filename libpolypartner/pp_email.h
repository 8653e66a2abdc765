/* Email addresses: normalisation (Unicode trim, lowercase, NFC), the check
 * that an address can be delivered at all, and its SMTP envelope form. */
#ifndef PP_EMAIL_H
#define PP_EMAIL_H

#include <apr_pools.h>

/* Longest address accepted, in octets of its envelope form (UTF-8 local part
 * "@" A-label domain): RFC 5321 4.5.3.1.3 caps a path at 256 octets, "<>"
 * included. */
#define PP_EMAIL_MAX_OCTETS 254

/* Trims Unicode White_Space (U+00A0, U+2003, U+3000, ... and ASCII) at both
 * ends, applies the full Unicode lowercase mapping without language tailoring
 * ("ÜBER" -> "über", U+0130 -> "i" U+0307) and normalises to NFC, so composed
 * and decomposed spellings are one address. Returns a copy in p, or NULL when
 * raw is not valid UTF-8. Idempotent. */
char *pp_email_normalize(apr_pool_t *p, const char *raw);

/* NULL when a normalised address can be delivered, else why it never can
 * (a static message mentioning "email"). Accepted: local "@" domain where
 *  - local is a dot-string of atext and non-ASCII characters (RFC 5321 and
 *    RFC 6531), or a quoted-string ("a b"), at most 64 octets;
 *  - domain is two or more labels, each an LDH label or an IDNA2008 U-label,
 *    at most 63 octets per label and 253 in all in A-label form, with a
 *    top-level label that is not all digits;
 *  - the envelope form is at most PP_EMAIL_MAX_OCTETS octets.
 * Refused: comments ("a(b)@..."), address literals ("a@[192.0.2.1]"),
 * control characters, and white space other than ASCII space inside quotes. */
const char *pp_email_check(const char *email);

/* pp_email_check(email) == NULL. */
int pp_email_is_valid(const char *email);

/* A deliverable address, split for SMTP. */
typedef struct {
    const char *local;        /* as stored: dot-string or quoted-string (UTF-8) */
    const char *domain;       /* as stored (U-labels kept) */
    const char *ascii_domain; /* A-labels ("xn--..."): pure ASCII */
    const char *envelope;     /* local "@" ascii_domain, for RCPT TO */
    int utf8_local;           /* the local part is not ASCII: needs SMTPUTF8 */
} pp_email_parts_t;

/* Checks email (as pp_email_check) and fills out; NULL on success, else the
 * reason (and out is untouched). */
const char *pp_email_split(apr_pool_t *p, const char *email, pp_email_parts_t *out);

#endif
