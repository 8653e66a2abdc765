/* The account endpoints: create, read, PATCH, close and reset. */
#ifndef MOD_POLYPARTNER_ACCOUNTS_H
#define MOD_POLYPARTNER_ACCOUNTS_H

#include "mod_polypartner_http.h"

/* The path's {account_id} in canonical lowercase, or NULL once 422
 * INVALID_ACCOUNT_ID has been sent (the handler then returns *rc). */
const char *pp_accounts_path_id(pp_req_t *rq, int *rc);

int pp_accounts_handle_create(pp_req_t *rq);
int pp_accounts_handle_get(pp_req_t *rq);
int pp_accounts_handle_patch(pp_req_t *rq);
int pp_accounts_handle_close(pp_req_t *rq);
int pp_accounts_handle_reset(pp_req_t *rq);

#endif
