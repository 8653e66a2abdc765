/* The tenant event feed's handlers (declared in mod_polypartner_endpoint.h
 * with the others) and their setup. */
#ifndef MOD_POLYPARTNER_EVENTS_H
#define MOD_POLYPARTNER_EVENTS_H

#include "mod_polypartner_http.h"

/* post_config: the bound on waiting requests, in memory every child shares. */
void pp_events_init(apr_pool_t *pconf, server_rec *s);

/* child_init: the child's event listener (threaded MPMs). */
void pp_events_child_init(apr_pool_t *pchild, server_rec *s);

#endif
