#include "pp_codec.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char pp_hex_digits[] = "0123456789abcdef";
static const char pp_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int pp_hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void pp_hex_byte(unsigned char c, char out[2])
{
    out[0] = pp_hex_digits[c >> 4];
    out[1] = pp_hex_digits[c & 15];
}

const char *pp_hex_encode(apr_pool_t *p, const unsigned char *bytes, apr_size_t len)
{
    char *out = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        pp_hex_byte(bytes[i], out + 2 * i);
    }
    out[len * 2] = '\0';
    return out;
}

int pp_hex_decode(const char *s, apr_size_t n, unsigned char *out, apr_size_t *bad_at)
{
    apr_size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        int hi = pp_hex_value((unsigned char)s[i]), lo = pp_hex_value((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0) {
            *bad_at = hi < 0 ? i : i + 1;
            return 0;
        }
        out[i / 2] = (unsigned char)((hi << 4) | lo);
    }
    if (n % 2) {
        *bad_at = n;
        return 0;
    }
    return 1;
}

int pp_pct_escape(const char *s, apr_size_t n, apr_size_t i)
{
    int hi, lo;

    if (n - i < 3 || (hi = pp_hex_value((unsigned char)s[i + 1])) < 0
        || (lo = pp_hex_value((unsigned char)s[i + 2])) < 0) {
        return -1;
    }
    return (hi << 4) | lo;
}

char *pp_pct_decode(apr_pool_t *p, const char *s, apr_size_t n, unsigned flags)
{
    char *out = apr_palloc(p, n + 1);
    apr_size_t i, k = 0;

    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '+' && (flags & PP_PCT_PLUS_SPACE)) {
            c = ' ';
        }
        else if (c == '%') {
            if ((c = pp_pct_escape(s, n, i)) < 0) {
                return NULL;
            }
            i += 2;
        }
        if (c == '\0' && (flags & PP_PCT_REFUSE_NUL)) {
            return NULL;
        }
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return out;
}

int pp_b64url_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

char *pp_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t n)
{
    char *out = apr_palloc(p, (n / 3) * 4 + 4);
    apr_size_t i, k = 0;

    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8)
                          | in[i + 2];
        out[k++] = pp_b64url_alphabet[(v >> 18) & 63];
        out[k++] = pp_b64url_alphabet[(v >> 12) & 63];
        out[k++] = pp_b64url_alphabet[(v >> 6) & 63];
        out[k++] = pp_b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        out[k++] = pp_b64url_alphabet[(v >> 18) & 63];
        out[k++] = pp_b64url_alphabet[(v >> 12) & 63];
    }
    else if (n - i == 2) {
        unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        out[k++] = pp_b64url_alphabet[(v >> 18) & 63];
        out[k++] = pp_b64url_alphabet[(v >> 12) & 63];
        out[k++] = pp_b64url_alphabet[(v >> 6) & 63];
    }
    out[k] = '\0';
    return out;
}

int pp_b64url_decode(apr_pool_t *p, const char *s, apr_size_t n, unsigned char **out,
                     apr_size_t *out_len)
{
    unsigned char *buf;
    apr_size_t i, k = 0;
    int v[4];

    if (n % 4 == 1) {
        return 0;
    }
    buf = apr_palloc(p, (n / 4) * 3 + 3);
    for (i = 0; i < n; i += 4) {
        apr_size_t j, group = n - i < 4 ? n - i : 4;
        for (j = 0; j < group; j++) {
            if ((v[j] = pp_b64url_value((unsigned char)s[i + j])) < 0) {
                return 0;
            }
        }
        buf[k++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
        if (group == 2) {
            if (v[1] & 0x0f) return 0;
            break;
        }
        buf[k++] = (unsigned char)(((v[1] & 0x0f) << 4) | (v[2] >> 2));
        if (group == 3) {
            if (v[2] & 0x03) return 0;
            break;
        }
        buf[k++] = (unsigned char)(((v[2] & 0x03) << 6) | v[3]);
    }
    *out = buf;
    *out_len = k;
    return 1;
}

int pp_hmac_sha256(const unsigned char *key, apr_size_t key_len, const void *data, apr_size_t len,
                   unsigned char out[PP_HMAC_SHA256_LEN])
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    size_t mac_len = 0;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data, len, out,
                  PP_HMAC_SHA256_LEN, &mac_len)
            == NULL
        || mac_len != PP_HMAC_SHA256_LEN) {
        return 0;
    }
#else
    /* OpenSSL 1.1.1 (configure's floor): the one-shot HMAC(). */
    unsigned int mac_len = 0;
    if (key_len > 0x7fffffff
        || HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &mac_len) == NULL
        || mac_len != PP_HMAC_SHA256_LEN) {
        return 0;
    }
#endif
    return 1;
}
