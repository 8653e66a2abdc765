#include "pp_token.h"
#include "pp_codec.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

const char *pp_token_random(apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char *raw = apr_palloc(p, nbytes);

    if (RAND_bytes(raw, (int)nbytes) != 1) {
        return NULL;
    }
    return pp_b64url_encode(p, raw, nbytes);
}

void pp_token_sha256(const void *data, apr_size_t len, unsigned char out[PP_SHA256_LEN])
{
    unsigned int n = PP_SHA256_LEN;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}
