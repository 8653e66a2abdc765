/* The trader API (/v1/trader/...): the signed-in trader's profile, accounts,
 * orders and fills, through the same engine functions as the partner API. */
#ifndef MOD_POLYPARTNER_TRADER_H
#define MOD_POLYPARTNER_TRADER_H

#include "mod_polypartner_http.h"

/* Authenticates the session, then runs the route. */
int pp_trader_handle(pp_req_t *rq);

#endif
