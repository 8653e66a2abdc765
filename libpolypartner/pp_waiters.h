/* A bound on the requests that hold a worker while they wait for events
 * (event streams and long-polls), per tenant and for the whole server,
 * shared by every worker of every child process.
 *
 * The table has one slot per worker (the scoreboard's index), like
 * pp_gate's. A waiting request writes (tenant, time) into its slot,
 * refreshes the time while it waits, and clears the slot when done. Entry
 * writes the slot first and then counts: when the tenant or the server is
 * over its bound the slot is cleared again and the request refused, so two
 * requests racing for the last place may both be refused but the bound is
 * never exceeded. A slot not refreshed for `stale` (its process died) no
 * longer counts. */
#ifndef PP_WAITERS_H
#define PP_WAITERS_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct pp_waiters_t pp_waiters_t;

/* A table over caller-provided, 8-byte aligned memory of
 * pp_waiters_size(nslots) bytes, which may be shared memory (zeroed: every
 * slot free). */
apr_size_t pp_waiters_size(unsigned nslots);
pp_waiters_t *pp_waiters_attach(void *mem, unsigned nslots);

typedef enum {
    PP_WAITERS_ADMITTED = 0,
    PP_WAITERS_TENANT_FULL, /* the tenant already has per_tenant waiting */
    PP_WAITERS_SERVER_FULL  /* the server already has per_server waiting */
} pp_waiters_admit_t;

#define PP_WAITERS_MAX_TENANT 65534

/* Takes slot for tenant (0..PP_WAITERS_MAX_TENANT) at now, or refuses (the
 * slot is then free). A table that is NULL or a slot out of range admits
 * without counting. */
pp_waiters_admit_t pp_waiters_enter(pp_waiters_t *w, unsigned slot, unsigned tenant, apr_time_t now,
                                    unsigned per_tenant, unsigned per_server, apr_time_t stale);
/* The request in slot is still waiting at now. */
void pp_waiters_touch(pp_waiters_t *w, unsigned slot, apr_time_t now);
void pp_waiters_leave(pp_waiters_t *w, unsigned slot);

/* Waiting requests of tenant (or of all tenants: -1) at now. */
unsigned pp_waiters_count(const pp_waiters_t *w, int tenant, apr_time_t now, apr_time_t stale);

#endif
