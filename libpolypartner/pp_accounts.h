/* Validation for the account endpoints, independent of httpd. */
#ifndef PP_ACCOUNTS_H
#define PP_ACCOUNTS_H

#include <apr_pools.h>
#include "pp_tenant.h"

typedef struct {
    const char *user_id; /* decimal text of a JSON integer */
    const char *external_id;
    const char *stage;
    const char *starting_balance; /* plain decimal, within the tenant's bounds */
    const char *rules;            /* compact JSON object text; "{}" when absent */
    const char *metadata;
} pp_account_creation_t;

typedef struct {
    const char *rules; /* NULL: leave untouched */
    const char *metadata;
} pp_account_patch_t;

/* POST /v1/partner/accounts body. Returns -1 and fills out, or a pp_error_t
 * with *message set. Schema problems (types, missing or unknown fields) are
 * VALIDATION_FAILED before any value rule is checked. */
int pp_accounts_parse_creation(apr_pool_t *p, const char *body, apr_size_t len,
                               const pp_tenant_t *tenant, pp_account_creation_t *out,
                               const char **message);

/* PATCH body: only rules and metadata, each an object or null. */
int pp_accounts_parse_patch(apr_pool_t *p, const char *body, apr_size_t len,
                            pp_account_patch_t *out, const char **message);

/* Non-zero for a UUID in 8-4-4-4-12 hex form (either case). */
int pp_accounts_is_uuid(const char *s);

#endif
