/* Waking the requests that wait for a tenant's events (event streams and
 * long-polls): every commit that wrote events notifies the channel
 * 'pp_events' with the tenant's name (sql/functions/75_events.sql).
 *
 * Threaded MPMs (event, worker): one listener thread per child holds one
 * connection from mod_dbd's pool (ap_dbd_open) in LISTEN pp_events and
 * wakes the child's waiters of that tenant through a condition variable;
 * it listens only while requests of the child wait, and 30 s after.
 * Prefork: a child serves one request at a time with one connection
 * (DBDMax 1), so a waiting request listens on its own connection, the one
 * its queries use; it stops listening before the connection goes back to
 * the pool.
 *
 * A waiter arms before each query (so a commit after the query's snapshot
 * always wakes it), queries, and if there was nothing waits. While no
 * listening connection works (the database restarts), a wait returns after
 * at most a second so that the caller queries again. */
#ifndef MOD_POLYPARTNER_WAKE_H
#define MOD_POLYPARTNER_WAKE_H

#include "mod_polypartner_http.h"

void pp_wake_child_init(apr_pool_t *pchild, server_rec *s);

typedef struct pp_wake_t pp_wake_t;

/* Starts watching rq's tenant for the rest of the request. */
pp_wake_t *pp_wake_start(pp_req_t *rq);

/* Call before each query. */
void pp_wake_arm(pp_wake_t *w);

typedef enum {
    PP_WAKE_EVENTS,  /* the tenant may have new events: query again */
    PP_WAKE_TIMEOUT, /* until has come */
    PP_WAKE_STOPPING /* the child is stopping (graceful restart): end the request */
} pp_wake_result_t;

/* After a query that found nothing: waits at most until `until`. */
pp_wake_result_t pp_wake_wait(pp_wake_t *w, apr_time_t until);

/* Is this child stopping (a graceful restart or stop)? */
int pp_wake_stopping(void);

#endif
