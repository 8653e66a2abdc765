/* The sign-in pages a login link opens: GET /auth/login shows a
 * confirmation (consuming nothing, so mail scanners that prefetch links
 * burn no tokens); POST /auth/login consumes the token, starts the session
 * and redirects to the link's redirect_url. */
#ifndef MOD_POLYPARTNER_SIGNIN_H
#define MOD_POLYPARTNER_SIGNIN_H

#include "mod_polypartner_http.h"

int pp_signin_handle(pp_req_t *rq);

#endif
