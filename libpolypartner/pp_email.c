#include "pp_email.h"

#include <apr_strings.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/* RFC 5321 4.5.3.1: local part, DNS label and domain name (text form). */
#define PP_EMAIL_MAX_LOCAL  64
#define PP_EMAIL_MAX_LABEL  63
#define PP_EMAIL_MAX_DOMAIN 253

#define MSG_CONTROL                                                       \
    "email must not contain white space or control characters (an ASCII " \
    "space is allowed only inside a quoted local part)"
#define MSG_COMMENT                                                         \
    "email must not contain comments in parentheses: they are not part of " \
    "the address (send it without them)"

static const uint8_t *u8(const char *s)
{
    return (const uint8_t *)s;
}

char *pp_email_normalize(apr_pool_t *p, const char *raw)
{
    const uint8_t *start = u8(raw), *end = start + strlen(raw), *prev;
    uint8_t *lower;
    size_t n;
    ucs4_t uc;
    char *out;

    if (u8_check(start, (size_t)(end - start)) != NULL) {
        return NULL;
    }
    while (start < end) {
        int len = u8_mbtouc_unsafe(&uc, start, (size_t)(end - start));
        if (!uc_is_property_white_space(uc)) {
            break;
        }
        start += len;
    }
    while (end > start && (prev = u8_prev(&uc, end, start)) != NULL
           && uc_is_property_white_space(uc)) {
        end = prev;
    }
    if (start == end) {
        return apr_pstrdup(p, "");
    }
    /* language NULL: no Turkish or Lithuanian tailoring, the same result for
     * every trader; the mapping is applied before NFC composes the result */
    lower = u8_tolower(start, (size_t)(end - start), NULL, UNINORM_NFC, NULL, &n);
    if (!lower) {
        return NULL; /* out of memory */
    }
    out = apr_pstrmemdup(p, (const char *)lower, n);
    free(lower);
    return out;
}

/* RFC 5322 atext (RFC 5321 Atom). */
static int is_atext(ucs4_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", (int)c) != NULL);
}

/* A non-ASCII character RFC 6531 allows where ASCII letters go, minus what is
 * invisible or misleading in an address: C1 controls, Unicode white space
 * (U+00A0, U+2028, ...) and bidirectional controls (U+202E, ...). */
static int non_ascii_ok(ucs4_t c)
{
    return c > 0x9F && !uc_is_property_white_space(c) && !uc_is_property_bidi_control(c);
}

static int is_control(ucs4_t c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && !non_ascii_ok(c));
}

/* RFC 5321 Dot-string, with RFC 6531's UTF-8 in atoms. */
static const char *check_dot_string(const uint8_t *s, size_t n)
{
    size_t i = 0, atom = 0;

    while (i < n) {
        ucs4_t c;
        int len = u8_mbtouc_unsafe(&c, s + i, n - i);
        if (c == '.') {
            if (atom == 0) {
                break;
            }
            atom = 0;
        }
        else if (c < 0x80 ? is_atext(c) : non_ascii_ok(c)) {
            atom++;
        }
        else if (c == '(' || c == ')') {
            return MSG_COMMENT;
        }
        else if (c == '@') {
            return "email must have exactly one '@' (unless the local part is quoted)";
        }
        else if (is_control(c) || c == ' ') {
            return MSG_CONTROL;
        }
        else {
            return "email: an unquoted local part may contain only letters, digits, non-ASCII "
                   "characters and !#$%&'*+-/=?^_`{|}~ (quote it for anything else)";
        }
        i += (size_t)len;
    }
    if (n == 0) {
        return "email has an empty local part before '@'";
    }
    if (atom == 0) {
        return "email: the local part must not start or end with a dot or contain two dots "
               "in a row (unless it is quoted)";
    }
    return NULL;
}

/* RFC 5321 Quoted-string (qtextSMTP and quoted-pairSMTP), with RFC 6531's
 * UTF-8 in qtext. s[0] is the opening quote. */
static const char *check_quoted_string(const uint8_t *s, size_t n)
{
    size_t i = 1;

    while (i < n) {
        ucs4_t c;
        int len = u8_mbtouc_unsafe(&c, s + i, n - i);
        if (c == '"') {
            return i + 1 == n ? NULL
                              : "email: a quoted local part must be quoted as a whole "
                                "(nothing between the closing quote and '@')";
        }
        if (c == '\\') {
            if (i + 1 >= n || s[i + 1] < 0x20 || s[i + 1] > 0x7E) {
                return "email: a backslash in a quoted local part must escape a printable "
                       "ASCII character";
            }
            len = 2;
        }
        else if (is_control(c)) {
            return MSG_CONTROL;
        }
        i += (size_t)len;
    }
    return "email: the quoted local part has no closing quote";
}

/* Domain syntax and IDNA2008; on success *ascii holds the A-label form
 * (malloc'd by libidn2: idn2_free it). */
static const char *check_domain(const char *d, char **ascii)
{
    const char *label = d, *c;
    size_t labels = 0;
    int digits_only = 1, rc;

    *ascii = NULL;
    if (!*d) {
        return "email has no domain after '@'";
    }
    if (*d == '[') {
        return "email: address literals such as [192.0.2.1] are not supported as the "
               "domain; use the domain name";
    }
    for (c = d;; c++) {
        unsigned char b = (unsigned char)*c;
        if (b == '.' || b == '\0') {
            size_t len = (size_t)(c - label);
            if (len == 0) {
                return "email: the domain must not start or end with a dot or contain two "
                       "dots in a row";
            }
            if (label[0] == '-' || c[-1] == '-') {
                return "email: a domain label must not start or end with a hyphen";
            }
            labels++;
            if (b == '\0') {
                break;
            }
            label = c + 1;
            digits_only = 1;
            continue;
        }
        if (!(b >= '0' && b <= '9')) {
            digits_only = 0;
        }
        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '-'
            || b >= 0x80) {
            continue; /* non-ASCII labels are IDNA2008's business, below */
        }
        if (b == '(' || b == ')') {
            return MSG_COMMENT;
        }
        if (b <= 0x20 || b == 0x7F) {
            return MSG_CONTROL;
        }
        return "email: a domain may contain only letters, digits, hyphens, dots and "
               "internationalised (IDNA2008) labels";
    }
    if (labels < 2) {
        return "email: the domain needs a dot (a single label such as 'localhost' is not a "
               "mail domain)";
    }
    if (digits_only) {
        return "email: a top-level domain is never all digits (IP addresses are not "
               "supported as the domain)";
    }
    /* No TR46 mapping: the U-labels must already be valid IDNA2008 (lowercase,
     * NFC), so the address we store is the one we deliver to. ASCII labels
     * pass through, except "xn--" labels, which must be real A-labels. */
    rc = idn2_lookup_u8(u8(d), (uint8_t **)ascii, IDN2_NO_TR46);
    if (rc == IDN2_TOO_BIG_LABEL || rc == IDN2_PUNYCODE_BIG_OUTPUT) {
        return "email: a domain label is longer than 63 octets (in its A-label form)";
    }
    if (rc == IDN2_TOO_BIG_DOMAIN) {
        return "email: the domain is longer than 253 octets (in its A-label form)";
    }
    if (rc != IDN2_OK || !*ascii) {
        *ascii = NULL;
        return "email: the domain is not a valid internationalised domain name (IDNA2008)";
    }
    /* libidn2 already limits these; ASCII labels are checked here too */
    label = *ascii;
    for (c = *ascii;; c++) {
        if (*c == '.' || *c == '\0') {
            if ((size_t)(c - label) > PP_EMAIL_MAX_LABEL) {
                idn2_free(*ascii);
                *ascii = NULL;
                return "email: a domain label is longer than 63 octets (in its A-label form)";
            }
            if (*c == '\0') {
                break;
            }
            label = c + 1;
        }
    }
    if (strlen(*ascii) > PP_EMAIL_MAX_DOMAIN) {
        idn2_free(*ascii);
        *ascii = NULL;
        return "email: the domain is longer than 253 octets (in its A-label form)";
    }
    return NULL;
}

/* The whole check; on success *at is the '@' and *ascii the A-label domain
 * (idn2_free it). */
static const char *check_address(const char *email, const char **at, char **ascii)
{
    const char *msg;
    size_t local_len;

    *ascii = NULL;
    if (u8_check(u8(email), strlen(email)) != NULL) {
        return "email is not valid UTF-8";
    }
    /* the last '@': a quoted local part may contain one */
    *at = strrchr(email, '@');
    if (!*at) {
        return "email must contain '@' between the local part and the domain";
    }
    local_len = (size_t)(*at - email);
    msg = local_len > 0 && email[0] == '"' ? check_quoted_string(u8(email), local_len)
                                           : check_dot_string(u8(email), local_len);
    if (msg) {
        return msg;
    }
    if (local_len > PP_EMAIL_MAX_LOCAL) {
        return "email: the local part before '@' is longer than 64 octets";
    }
    if ((msg = check_domain(*at + 1, ascii)) != NULL) {
        return msg;
    }
    if (local_len + 1 + strlen(*ascii) > PP_EMAIL_MAX_OCTETS) {
        idn2_free(*ascii);
        *ascii = NULL;
        return "email is longer than 254 octets (counting the domain in its A-label form)";
    }
    return NULL;
}

const char *pp_email_check(const char *email)
{
    const char *at, *msg;
    char *ascii;

    msg = check_address(email, &at, &ascii);
    idn2_free(ascii);
    return msg;
}

int pp_email_is_valid(const char *email)
{
    return pp_email_check(email) == NULL;
}

const char *pp_email_split(apr_pool_t *p, const char *email, pp_email_parts_t *out)
{
    const char *at, *msg, *c;
    char *ascii;

    if ((msg = check_address(email, &at, &ascii)) != NULL) {
        return msg;
    }
    out->local = apr_pstrmemdup(p, email, (apr_size_t)(at - email));
    out->domain = apr_pstrdup(p, at + 1);
    out->ascii_domain = apr_pstrdup(p, ascii);
    idn2_free(ascii);
    out->envelope = apr_pstrcat(p, out->local, "@", out->ascii_domain, NULL);
    out->utf8_local = 0;
    for (c = out->local; *c; c++) {
        if ((unsigned char)*c >= 0x80) {
            out->utf8_local = 1;
        }
    }
    return NULL;
}
