/* The tenant registry built from httpd config: tenants, their API keys
 * (stored only as SHA-256 digests) with permissions, redirect allowlists
 * and starting-balance bounds. Pure APR, so config parsing is unit-tested. */
#ifndef PP_TENANT_H
#define PP_TENANT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "pp_token.h"

#define PP_TENANT_DEFAULT_MIN_BALANCE "100.00"
#define PP_TENANT_DEFAULT_MAX_BALANCE "1000000.00"
/* Balances are NUMERIC(14,2) in PostgreSQL. */
#define PP_BALANCE_INT_DIGITS 12
#define PP_BALANCE_SCALE      2

typedef struct pp_tenant {
    const char *name;
    int enabled;
    apr_array_header_t *redirect_allow; /* const char *, absolute URLs */
    const char *min_balance;            /* plain decimals, min <= max */
    const char *max_balance;
    const char *fee_rate;         /* plain decimal in [0, 1), default "0" */
    const char *default_redirect; /* login links without redirect_url; NULL: the
                                           * server's PolyPartnerPublicURL + "/" */
    const char *day_boundary;     /* where its trading day begins: "HH:MM" local ... */
    const char *day_zone;         /* ... in this IANA zone (default "00:00" "UTC") */
    int key_count;
} pp_tenant_t;

typedef struct {
    unsigned char digest[PP_SHA256_LEN];
    unsigned perms;
    pp_tenant_t *tenant;
    const char *fingerprint; /* first 12 hex digits, for logs */
} pp_tenant_key_t;

typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *tenants;         /* pp_tenant_t * */
    apr_array_header_t *keys;            /* pp_tenant_key_t * */
    volatile apr_uint32_t settings_sent; /* this process wrote them to the database */
} pp_tenants_t;

pp_tenants_t *pp_tenants_make(apr_pool_t *p);

/* Each returns NULL or a message describing what is wrong with the input. */
const char *pp_tenants_add(pp_tenants_t *reg, const char *name, pp_tenant_t **out);
const char *pp_tenant_add_key(pp_tenants_t *reg, pp_tenant_t *t, const char *hash_spec, int nperms,
                              const char *const *perm_names);
const char *pp_tenant_set_bounds(apr_pool_t *p, pp_tenant_t *t, const char *min, const char *max);
const char *pp_tenant_add_redirect(apr_pool_t *p, pp_tenant_t *t, const char *url);
const char *pp_tenant_set_default_redirect(apr_pool_t *p, pp_tenant_t *t, const char *url);
const char *pp_tenant_set_fee_rate(apr_pool_t *p, pp_tenant_t *t, const char *rate);
/* "17:00" and "America/New_York": the zone must be a file of zoneinfo_dir
 * (the tz database PostgreSQL reads too, e.g. /usr/share/zoneinfo). */
const char *pp_tenant_set_day_boundary(apr_pool_t *p, pp_tenant_t *t, const char *hhmm,
                                       const char *zone, const char *zoneinfo_dir);

/* The settings the engine needs, as the JSON array api.pp_configure_tenants
 * takes: [{"tenant", "day_boundary", "day_zone"}, ...]. */
const char *pp_tenants_settings_json(apr_pool_t *p, const pp_tenants_t *reg);

pp_tenant_t *pp_tenants_find(const pp_tenants_t *reg, const char *name);

/* The configured key matching a presented secret, or NULL. Every configured
 * digest is compared in constant time, with no early exit. */
const pp_tenant_key_t *pp_tenants_find_key(const pp_tenants_t *reg, const char *key,
                                           apr_size_t len);

#endif
