#include "pp_session.h"
#include "pp_codec.h"

#include <apr_strings.h>
#include <openssl/crypto.h>
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
        if (pp_b64url_value((unsigned char)s[i]) < 0) {
            return 0;
        }
    }
    return 1;
}

const char *pp_secret_hash_hex(apr_pool_t *p, const char *secret)
{
    unsigned char d[PP_SHA256_LEN];

    pp_token_sha256(secret, strlen(secret), d);
    return pp_hex_encode(p, d, sizeof(d));
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

const char *pp_csrf_token(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                          const char *session_secret)
{
    unsigned char mac[PP_HMAC_SHA256_LEN];
    const char *msg = apr_pstrcat(p, "csrf\n", session_secret, NULL);

    if (!pp_hmac_sha256(key, key_len, msg, strlen(msg), mac)) {
        return NULL;
    }
    return pp_b64url_encode(p, mac, sizeof(mac));
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
            found = pp_pct_decode(p, eq + 1, (size_t)(end - eq - 1),
                                  PP_PCT_PLUS_SPACE | PP_PCT_REFUSE_NUL);
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
        case '&':
            memcpy(o, "&amp;", 5);
            o += 5;
            break;
        case '<':
            memcpy(o, "&lt;", 4);
            o += 4;
            break;
        case '>':
            memcpy(o, "&gt;", 4);
            o += 4;
            break;
        case '"':
            memcpy(o, "&quot;", 6);
            o += 6;
            break;
        case '\'':
            memcpy(o, "&#x27;", 6);
            o += 6;
            break;
        default:
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}
