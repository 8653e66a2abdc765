#include "pp_tenant.h"
#include "pp_apikey.h"
#include "pp_codec.h"
#include "pp_decimal.h"
#include "pp_json.h"
#include "pp_redirect.h"

#include <apr_file_info.h>

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <string.h>

pp_tenants_t *pp_tenants_make(apr_pool_t *p)
{
    pp_tenants_t *reg = apr_pcalloc(p, sizeof(*reg));
    reg->pool = p;
    reg->tenants = apr_array_make(p, 4, sizeof(pp_tenant_t *));
    reg->keys = apr_array_make(p, 8, sizeof(pp_tenant_key_t *));
    return reg;
}

pp_tenant_t *pp_tenants_find(const pp_tenants_t *reg, const char *name)
{
    int i;
    for (i = 0; i < reg->tenants->nelts; i++) {
        pp_tenant_t *t = APR_ARRAY_IDX(reg->tenants, i, pp_tenant_t *);
        if (strcmp(t->name, name) == 0) {
            return t;
        }
    }
    return NULL;
}

static int pp_tenant_name_ok(const char *name)
{
    const char *c;
    if (!*name || strlen(name) > 64) {
        return 0;
    }
    for (c = name; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) {
            return 0;
        }
    }
    return 1;
}

const char *pp_tenants_add(pp_tenants_t *reg, const char *name, pp_tenant_t **out)
{
    pp_tenant_t *t;

    *out = NULL;
    if (!pp_tenant_name_ok(name)) {
        return apr_psprintf(reg->pool,
                            "invalid tenant name '%s': use 1-64 characters "
                            "from a-z, 0-9, '-' and '_'",
                            name);
    }
    if (pp_tenants_find(reg, name)) {
        return apr_psprintf(reg->pool, "tenant '%s' is declared twice", name);
    }
    t = apr_pcalloc(reg->pool, sizeof(*t));
    t->name = apr_pstrdup(reg->pool, name);
    t->enabled = 1;
    t->redirect_allow = apr_array_make(reg->pool, 2, sizeof(const char *));
    t->min_balance = PP_TENANT_DEFAULT_MIN_BALANCE;
    t->max_balance = PP_TENANT_DEFAULT_MAX_BALANCE;
    t->fee_rate = "0";
    t->day_boundary = "00:00";
    t->day_zone = "UTC";
    APR_ARRAY_PUSH(reg->tenants, pp_tenant_t *) = t;
    *out = t;
    return NULL;
}

const char *pp_tenant_add_key(pp_tenants_t *reg, pp_tenant_t *t, const char *hash_spec, int nperms,
                              const char *const *perm_names)
{
    pp_tenant_key_t *key = apr_pcalloc(reg->pool, sizeof(*key));
    const char *err;
    int i;

    if ((err = pp_apikey_parse_hash_spec(reg->pool, hash_spec, key->digest)) != NULL) {
        return err;
    }
    if (nperms < 1) {
        return "a key needs at least one permission (users:write, accounts:read, "
               "accounts:write, orders:write)";
    }
    for (i = 0; i < nperms; i++) {
        unsigned bit = pp_apikey_perm_bit(perm_names[i]);
        if (!bit) {
            return apr_psprintf(reg->pool,
                                "unknown permission '%s' (known: users:write, "
                                "accounts:read, accounts:write, orders:write)",
                                perm_names[i]);
        }
        key->perms |= bit;
    }
    for (i = 0; i < reg->keys->nelts; i++) {
        const pp_tenant_key_t *other = APR_ARRAY_IDX(reg->keys, i, pp_tenant_key_t *);
        if (memcmp(other->digest, key->digest, PP_SHA256_LEN) == 0) {
            return apr_psprintf(reg->pool,
                                "duplicate key %s: it is already configured "
                                "for tenant '%s'",
                                hash_spec, other->tenant->name);
        }
    }
    key->tenant = t;
    key->fingerprint = apr_pstrndup(reg->pool, pp_hex_encode(reg->pool, key->digest, 6), 12);
    t->key_count++;
    APR_ARRAY_PUSH(reg->keys, pp_tenant_key_t *) = key;
    return NULL;
}

const char *pp_tenant_set_bounds(apr_pool_t *p, pp_tenant_t *t, const char *min, const char *max)
{
    if (!pp_decimal_is_plain(min, PP_BALANCE_INT_DIGITS, PP_BALANCE_SCALE)) {
        return apr_psprintf(p,
                            "invalid minimum balance '%s': expected a plain decimal "
                            "with at most 2 decimal places",
                            min);
    }
    if (!pp_decimal_is_plain(max, PP_BALANCE_INT_DIGITS, PP_BALANCE_SCALE)) {
        return apr_psprintf(p,
                            "invalid maximum balance '%s': expected a plain decimal "
                            "with at most 2 decimal places",
                            max);
    }
    if (pp_decimal_cmp(min, max) > 0) {
        return apr_psprintf(p,
                            "balance bounds out of order: minimum %s is greater than "
                            "maximum %s",
                            min, max);
    }
    t->min_balance = apr_pstrdup(p, min);
    t->max_balance = apr_pstrdup(p, max);
    return NULL;
}

const char *pp_tenant_set_fee_rate(apr_pool_t *p, pp_tenant_t *t, const char *rate)
{
    if (!pp_decimal_is_plain(rate, 1, 6) || pp_decimal_cmp(rate, "1") >= 0) {
        return apr_psprintf(p,
                            "invalid fee rate '%s': expected a fraction of the notional "
                            "from 0 to below 1 with at most 6 decimal places, e.g. 0.002",
                            rate);
    }
    t->fee_rate = apr_pstrdup(p, rate);
    return NULL;
}

/* Entries go through the same parser as request-time redirect_url values,
 * so nothing is accepted here that could never match, or match loosely. */
const char *pp_tenant_add_redirect(apr_pool_t *p, pp_tenant_t *t, const char *url)
{
    pp_url_t u;
    const char *err;

    if ((err = pp_url_parse(p, url, &u)) != NULL) {
        return apr_psprintf(p, "invalid redirect URL '%s': %s", url, err);
    }
    if (u.query || u.fragment) {
        return apr_psprintf(p,
                            "invalid redirect URL '%s': an allowlist entry has no query "
                            "or fragment (it allows any on the URLs it matches)",
                            url);
    }
    APR_ARRAY_PUSH(t->redirect_allow, const char *) = apr_pstrdup(p, url);
    return NULL;
}

const pp_tenant_key_t *pp_tenants_find_key(const pp_tenants_t *reg, const char *key, apr_size_t len)
{
    unsigned char digest[PP_SHA256_LEN];
    const pp_tenant_key_t *found = NULL;
    int i;

    pp_token_sha256(key, len, digest);
    for (i = 0; i < reg->keys->nelts; i++) {
        const pp_tenant_key_t *k = APR_ARRAY_IDX(reg->keys, i, pp_tenant_key_t *);
        /* no early exit: timing does not depend on which key matched */
        int same = CRYPTO_memcmp(k->digest, digest, PP_SHA256_LEN) == 0;
        found = same ? k : found;
    }
    return found;
}

const char *pp_tenant_set_default_redirect(apr_pool_t *p, pp_tenant_t *t, const char *url)
{
    pp_url_t u;
    const char *err;

    if ((err = pp_url_parse(p, url, &u)) != NULL) {
        return apr_psprintf(p, "invalid default redirect URL '%s': %s", url, err);
    }
    t->default_redirect = apr_pstrdup(p, url);
    return NULL;
}

static int pp_tenant_is_zone_name(const char *zone)
{
    const char *c;

    if (!*zone || strlen(zone) > 64 || zone[0] == '/' || strstr(zone, "..")) {
        return 0;
    }
    for (c = zone; *c; c++) {
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
              || *c == '/' || *c == '_' || *c == '-' || *c == '+')) {
            return 0;
        }
    }
    return 1;
}

const char *pp_tenant_set_day_boundary(apr_pool_t *p, pp_tenant_t *t, const char *hhmm,
                                       const char *zone, const char *zoneinfo_dir)
{
    apr_finfo_t info;

    if (strlen(hhmm) != 5 || hhmm[2] != ':' || hhmm[0] < '0' || hhmm[0] > '2' || hhmm[1] < '0'
        || hhmm[1] > '9' || hhmm[3] < '0' || hhmm[3] > '5' || hhmm[4] < '0' || hhmm[4] > '9'
        || (hhmm[0] == '2' && hhmm[1] > '3')) {
        return apr_psprintf(p,
                            "invalid day boundary '%s': expected a local time HH:MM from 00:00 "
                            "to 23:59, e.g. 17:00",
                            hhmm);
    }
    if (!pp_tenant_is_zone_name(zone)
        || apr_stat(&info, apr_pstrcat(p, zoneinfo_dir, "/", zone, NULL), APR_FINFO_TYPE, p)
               != APR_SUCCESS
        || info.filetype != APR_REG) {
        return apr_psprintf(p,
                            "unknown time zone '%s': expected an IANA zone such as "
                            "America/New_York or UTC (see %s)",
                            zone, zoneinfo_dir);
    }
    t->day_boundary = apr_pstrdup(p, hhmm);
    t->day_zone = apr_pstrdup(p, zone);
    return NULL;
}

const char *pp_tenants_settings_json(apr_pool_t *p, const pp_tenants_t *reg)
{
    const char *out = "[";
    int i;

    for (i = 0; i < reg->tenants->nelts; i++) {
        const pp_tenant_t *t = APR_ARRAY_IDX(reg->tenants, i, pp_tenant_t *);
        out = apr_pstrcat(p, out, i ? "," : "", "{\"tenant\":", pp_json_quote(p, t->name),
                          ",\"day_boundary\":", pp_json_quote(p, t->day_boundary),
                          ",\"day_zone\":", pp_json_quote(p, t->day_zone), "}", NULL);
    }
    return apr_pstrcat(p, out, "]", NULL);
}
