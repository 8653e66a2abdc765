#include "pp_session.h"

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

const char *pp_secret_new(apr_pool_t *p)
{
    return pp_token_random(p, PP_SECRET_BYTES);
}

int pp_secret_is_wellformed(const char *s)
{
    size_t i;

    if (!s || strlen(s) != PP_SECRET_CHARS) {
        return 0;
    }
    for (i = 0; i < PP_SECRET_CHARS; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

const char *pp_secret_hash_hex(apr_pool_t *p, const char *secret)
{
    unsigned char d[PP_SHA256_LEN];

    pp_token_sha256(secret, strlen(secret), d);
    return pp_token_hex(p, d, sizeof(d));
}

const char *pp_cookie_get(apr_pool_t *p, const char *header, const char *name)
{
    const char *found = NULL, *s = header;
    size_t nlen = strlen(name);

    if (!header) {
        return NULL;
    }
    while (*s) {
        const char *end, *eq;
        while (*s == ' ' || *s == '\t' || *s == ';') s++;
        end = s;
        while (*end && *end != ';') end++;
        eq = memchr(s, '=', (size_t)(end - s));
        if (eq && (size_t)(eq - s) == nlen && strncmp(s, name, nlen) == 0) {
            const char *v = eq + 1, *ve = end;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            if (found || ve == v) {
                return NULL;
            }
            found = apr_pstrmemdup(p, v, (apr_size_t)(ve - v));
        }
        s = end;
    }
    return found;
}

const char *pp_session_cookie(apr_pool_t *p, const char *secret, int max_age_s, int secure)
{
    return apr_psprintf(p, PP_SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
                        secret, max_age_s, secure ? "; Secure" : "");
}

const char *pp_session_cookie_clear(apr_pool_t *p, int secure)
{
    return apr_psprintf(p, PP_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
                        secure ? "; Secure" : "");
}

static const char *pp_b64url(apr_pool_t *p, const unsigned char *d, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, (n * 4) / 3 + 4), *o = out;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        *o++ = tbl[d[i] >> 2];
        *o++ = tbl[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = tbl[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
        *o++ = tbl[d[i + 2] & 63];
    }
    if (n - i == 1) {
        *o++ = tbl[d[i] >> 2];
        *o++ = tbl[(d[i] & 3) << 4];
    }
    else if (n - i == 2) {
        *o++ = tbl[d[i] >> 2];
        *o++ = tbl[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = tbl[(d[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

const char *pp_csrf_token(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                          const char *session_secret)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const char *msg = apr_pstrcat(p, "csrf\n", session_secret, NULL);

    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), mac,
              &mac_len)) {
        return NULL;
    }
    return pp_b64url(p, mac, mac_len);
}

int pp_csrf_check(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                  const char *session_secret, const char *presented)
{
    const char *want = pp_csrf_token(p, key, key_len, session_secret);

    if (!want || !presented || strlen(presented) != strlen(want)) {
        return 0;
    }
    return CRYPTO_memcmp(want, presented, strlen(want)) == 0;
}

static int pp_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static const char *pp_form_decode(apr_pool_t *p, const char *s, size_t n)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        }
        else if (s[i] == '%') {
            int hi, lo;
            if (n - i < 3 || (hi = pp_hexval(s[i + 1])) < 0 || (lo = pp_hexval(s[i + 2])) < 0 ||
                (hi == 0 && lo == 0)) {
                return NULL;   /* truncated or bad escape, or a NUL */
            }
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

const char *pp_form_get(apr_pool_t *p, const char *body, const char *name)
{
    const char *found = NULL, *s = body;
    size_t nlen = strlen(name);

    if (!body) {
        return NULL;
    }
    while (*s) {
        const char *end = strchr(s, '&'), *eq;
        if (!end) end = s + strlen(s);
        eq = memchr(s, '=', (size_t)(end - s));
        if (eq && (size_t)(eq - s) == nlen && strncmp(s, name, nlen) == 0) {
            if (found) {
                return NULL;
            }
            found = pp_form_decode(p, eq + 1, (size_t)(end - eq - 1));
            if (!found) {
                return NULL;
            }
        }
        s = *end ? end + 1 : end;
    }
    return found;
}

const char *pp_html_escape(apr_pool_t *p, const char *s)
{
    size_t n = 0;
    const char *c;
    char *out, *o;

    for (c = s; *c; c++) {
        n += (*c == '&') ? 5 : (*c == '<' || *c == '>') ? 4 : (*c == '"' || *c == '\'') ? 6 : 1;
    }
    out = o = apr_palloc(p, n + 1);
    for (c = s; *c; c++) {
        switch (*c) {
        case '&': memcpy(o, "&amp;", 5); o += 5; break;
        case '<': memcpy(o, "&lt;", 4); o += 4; break;
        case '>': memcpy(o, "&gt;", 4); o += 4; break;
        case '"': memcpy(o, "&quot;", 6); o += 6; break;
        case '\'': memcpy(o, "&#x27;", 6); o += 6; break;
        default: *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}
