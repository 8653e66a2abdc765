/* POST /v1/partner/users and GET /v1/partner/users/{user_id}. */
#ifndef MOD_POLYPARTNER_USERS_H
#define MOD_POLYPARTNER_USERS_H

#include "mod_polypartner_http.h"

int pp_users_handle_create(pp_req_t *rq);
int pp_users_handle_get(pp_req_t *rq);

#endif
