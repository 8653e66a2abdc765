#include "pp_token.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

const char *pp_token_random(apr_pool_t *p, apr_size_t nbytes)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char *raw = apr_palloc(p, nbytes);
    char *out = apr_palloc(p, (nbytes * 4) / 3 + 4);
    apr_size_t i, n = 0;

    if (RAND_bytes(raw, (int)nbytes) != 1) {
        return NULL;
    }
    for (i = 0; i + 2 < nbytes; i += 3) {
        unsigned v = ((unsigned)raw[i] << 16) | ((unsigned)raw[i + 1] << 8) | raw[i + 2];
        out[n++] = alphabet[(v >> 18) & 63];
        out[n++] = alphabet[(v >> 12) & 63];
        out[n++] = alphabet[(v >> 6) & 63];
        out[n++] = alphabet[v & 63];
    }
    if (nbytes - i == 1) {
        unsigned v = (unsigned)raw[i] << 16;
        out[n++] = alphabet[(v >> 18) & 63];
        out[n++] = alphabet[(v >> 12) & 63];
    }
    else if (nbytes - i == 2) {
        unsigned v = ((unsigned)raw[i] << 16) | ((unsigned)raw[i + 1] << 8);
        out[n++] = alphabet[(v >> 18) & 63];
        out[n++] = alphabet[(v >> 12) & 63];
        out[n++] = alphabet[(v >> 6) & 63];
    }
    out[n] = '\0';
    return out;
}

void pp_token_sha256(const void *data, apr_size_t len, unsigned char out[PP_SHA256_LEN])
{
    unsigned int n = PP_SHA256_LEN;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

const char *pp_token_hex(apr_pool_t *p, const unsigned char *bytes, apr_size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *out = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[len * 2] = '\0';
    return out;
}
