/* Random URL-safe tokens and SHA-256 digests (OpenSSL). */
#ifndef PP_TOKEN_H
#define PP_TOKEN_H

#include <apr_pools.h>

#define PP_SHA256_LEN 32

/* nbytes of CSPRNG output as unpadded base64url; NULL if the RNG failed. */
const char *pp_token_random(apr_pool_t *p, apr_size_t nbytes);

void pp_token_sha256(const void *data, apr_size_t len, unsigned char out[PP_SHA256_LEN]);

#endif
