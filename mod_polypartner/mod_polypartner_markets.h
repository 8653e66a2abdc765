/* GET /v1/markets: the public list of active markets and their prices. */
#ifndef MOD_POLYPARTNER_MARKETS_H
#define MOD_POLYPARTNER_MARKETS_H

#include "mod_polypartner_http.h"

int pp_markets_handle_list(pp_req_t *rq);

#endif
