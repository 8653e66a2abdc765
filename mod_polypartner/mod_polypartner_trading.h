/* The trades feed and the partner order endpoints. */
#ifndef MOD_POLYPARTNER_TRADING_H
#define MOD_POLYPARTNER_TRADING_H

#include "mod_polypartner_http.h"

int pp_trading_handle_trades(pp_req_t *rq);
int pp_trading_handle_place(pp_req_t *rq);
int pp_trading_handle_list(pp_req_t *rq);
int pp_trading_handle_cancel(pp_req_t *rq);

#endif
