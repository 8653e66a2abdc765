#include "pp_apikey.h"
#include "pp_codec.h"

#include <apr_strings.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} pp_perms[] = {
    { "users:write", PP_PERM_USERS_WRITE },
    { "accounts:read", PP_PERM_ACCOUNTS_READ },
    { "accounts:write", PP_PERM_ACCOUNTS_WRITE },
    { "orders:write", PP_PERM_ORDERS_WRITE },
};

const char *pp_apikey_generate(apr_pool_t *p)
{
    const char *secret = pp_token_random(p, 32);
    return secret ? apr_pstrcat(p, PP_APIKEY_PREFIX, secret, NULL) : NULL;
}

const char *pp_apikey_hash_spec(apr_pool_t *p, const char *key, apr_size_t len)
{
    unsigned char digest[PP_SHA256_LEN];
    pp_token_sha256(key, len, digest);
    return apr_pstrcat(p, "sha256:", pp_hex_encode(p, digest, sizeof(digest)), NULL);
}

const char *pp_apikey_parse_hash_spec(apr_pool_t *p, const char *spec,
                                      unsigned char out[PP_SHA256_LEN])
{
    const char *hex;
    apr_size_t bad;

    if (strncmp(spec, "sha256:", 7) != 0) {
        return apr_psprintf(p,
                            "malformed key hash '%s': expected sha256:<64 hex digits> "
                            "(keys are never configured in clear text; see polypartner-keygen)",
                            spec);
    }
    hex = spec + 7;
    if (strlen(hex) != 2 * PP_SHA256_LEN) {
        return apr_psprintf(p,
                            "malformed key hash '%s': expected 64 hex digits after "
                            "'sha256:', found %d",
                            spec, (int)strlen(hex));
    }
    if (!pp_hex_decode(hex, 2 * PP_SHA256_LEN, out, &bad)) {
        return apr_psprintf(p, "malformed key hash '%s': '%c' is not a hex digit", spec, hex[bad]);
    }
    return NULL;
}

unsigned pp_apikey_perm_bit(const char *name)
{
    apr_size_t i;
    for (i = 0; i < sizeof(pp_perms) / sizeof(pp_perms[0]); i++) {
        if (strcmp(pp_perms[i].name, name) == 0) {
            return pp_perms[i].bit;
        }
    }
    return 0;
}

const char *pp_apikey_perm_names(apr_pool_t *p, unsigned perms)
{
    const char *out = "";
    apr_size_t i;
    for (i = 0; i < sizeof(pp_perms) / sizeof(pp_perms[0]); i++) {
        if (perms & pp_perms[i].bit) {
            out = *out ? apr_pstrcat(p, out, " ", pp_perms[i].name, NULL) : pp_perms[i].name;
        }
    }
    return out;
}
