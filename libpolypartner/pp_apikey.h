/* Tenant API keys: generation, the "sha256:<hex>" form they are configured
 * in, and parsing of the permission names a key can carry. */
#ifndef PP_APIKEY_H
#define PP_APIKEY_H

#include <apr_pools.h>
#include "pp_token.h"

#define PP_PERM_USERS_WRITE    0x01u
#define PP_PERM_ACCOUNTS_READ  0x02u
#define PP_PERM_ACCOUNTS_WRITE 0x04u
#define PP_PERM_ORDERS_WRITE   0x08u

/* Prefix of every generated key, so a leaked key is recognisable. */
#define PP_APIKEY_PREFIX "ppk_"

/* A new key: the prefix plus 256 random bits as base64url. NULL on RNG failure. */
const char *pp_apikey_generate(apr_pool_t *p);

/* "sha256:<64 lowercase hex>" for a key, as the config line wants it. */
const char *pp_apikey_hash_spec(apr_pool_t *p, const char *key, apr_size_t len);

/* Parses "sha256:<64 hex>" into out; NULL or an error message. */
const char *pp_apikey_parse_hash_spec(apr_pool_t *p, const char *spec,
                                      unsigned char out[PP_SHA256_LEN]);

/* The bit of a permission name, or 0 for an unknown name. */
unsigned pp_apikey_perm_bit(const char *name);

/* "users:write accounts:read" style list of the bits set. */
const char *pp_apikey_perm_names(apr_pool_t *p, unsigned perms);

#endif
