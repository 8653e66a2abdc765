/* The trader surface (/v1/trader/...): a session, never a key. */
#ifndef MOD_POLYPARTNER_TRADER_H
#define MOD_POLYPARTNER_TRADER_H

#include "mod_polypartner_http.h"

/* Sets rq->tenant to the tenant of account_id when the signed-in trader
 * owns it and returns 1; else answers 404 ACCOUNT_NOT_FOUND (or 503) and
 * returns 0 with *rc. */
int pp_trader_own_account(pp_req_t *rq, const char *account_id, int *rc);

#endif
