/* The account endpoints: create, read, PATCH, close and reset. */
#ifndef MOD_POLYPARTNER_ACCOUNTS_H
#define MOD_POLYPARTNER_ACCOUNTS_H

#include "mod_polypartner_http.h"

int pp_accounts_handle_create(pp_req_t *rq);
int pp_accounts_handle_get(pp_req_t *rq);
int pp_accounts_handle_patch(pp_req_t *rq);
int pp_accounts_handle_close(pp_req_t *rq);
int pp_accounts_handle_reset(pp_req_t *rq);

#endif
