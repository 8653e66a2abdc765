#include "mod_polypartner_auth.h"

#include <apr_strings.h>
#include <apr_lib.h>

APLOG_USE_MODULE(polypartner);

static const char *pp_auth_trim(apr_pool_t *p, const char *s)
{
    const char *end;
    if (!s) {
        return NULL;
    }
    while (*s == ' ' || *s == '\t') s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) end--;
    return end > s ? apr_pstrmemdup(p, s, (apr_size_t)(end - s)) : NULL;
}

/* The presented key: X-API-Key wins over Authorization: Bearer. */
static const char *pp_auth_presented_key(request_rec *r)
{
    const char *key = pp_auth_trim(r->pool, apr_table_get(r->headers_in, "X-API-Key"));
    const char *authz;

    if (key) {
        return key;
    }
    authz = apr_table_get(r->headers_in, "Authorization");
    if (authz && strncasecmp(authz, "Bearer", 6) == 0 && (authz[6] == ' ' || authz[6] == '\t')) {
        return pp_auth_trim(r->pool, authz + 7);
    }
    return NULL;
}

int pp_auth_authenticate(pp_req_t *rq)
{
    const char *key = pp_auth_presented_key(rq->r);
    const pp_tenant_key_t *match;

    if (!key) {
        pp_http_send_error(rq, PP_ERR_MISSING_API_KEY,
                           "send your tenant API key in the X-API-Key header");
        return 0;
    }
    match = pp_tenants_find_key(rq->conf->tenants, key, strlen(key));
    if (!match) {
        pp_http_send_error(rq, PP_ERR_INVALID_API_KEY, "the API key is not valid");
        return 0;
    }
    if (!match->tenant->enabled) {
        pp_rlog(rq, APLOG_INFO, 0, PP_LOGNO(0201) "tenant %s is disabled (key %s)",
                match->tenant->name, match->fingerprint);
        pp_http_send_error(rq, PP_ERR_NOT_FOUND, "the requested resource does not exist");
        return 0;
    }
    rq->key = match;
    rq->tenant = match->tenant;
    apr_table_setn(rq->r->subprocess_env, "POLYPARTNER_TENANT", match->tenant->name);
    return 1;
}
