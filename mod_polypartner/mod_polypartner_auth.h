/* Tenant authentication: X-API-Key (or Authorization: Bearer) to a
 * configured key, its tenant and permissions. */
#ifndef MOD_POLYPARTNER_AUTH_H
#define MOD_POLYPARTNER_AUTH_H

#include "mod_polypartner_http.h"

/* Sets rq->key and rq->tenant and returns 1; or sends 401 (no key, unknown
 * key) or 404 (disabled tenant) and returns 0. */
int pp_auth_authenticate(pp_req_t *rq);

#endif
