/* The trader surface's authentication: the session cookie, and for every
 * state-changing request the CSRF token (and Origin, when sent). */
#ifndef MOD_POLYPARTNER_SESSION_H
#define MOD_POLYPARTNER_SESSION_H

#include "mod_polypartner_http.h"

/* Sets rq->user_id and rq->session_secret and returns 1; or answers 401
 * SESSION_REQUIRED / 403 CSRF_REJECTED (or 503) and returns 0 with *rc. */
int pp_session_authenticate(pp_req_t *rq, int *rc);

/* The CSRF token of the request's session. */
const char *pp_session_csrf_token(pp_req_t *rq);

/* Non-zero when the request's Origin (if any) is PolyPartnerPublicURL's. */
int pp_session_origin_ok(pp_req_t *rq);

#endif
