/* POST /v1/partner/users/{user_id}/login-link: a one-time sign-in link by
 * email (the handler, pp_login_handle_link, is declared with the others in
 * mod_polypartner_endpoint.h). */
#ifndef MOD_POLYPARTNER_LOGIN_H
#define MOD_POLYPARTNER_LOGIN_H

#include "mod_polypartner_http.h"

/* Once per child process: libcurl's global state for the mailer. */
void pp_login_child_init(apr_pool_t *pchild, server_rec *s);

#endif
