/* A bound on the requests one endpoint may keep waiting on a slow database,
 * shared by every worker of every child process.
 *
 * The table has one slot per worker (the scoreboard's index). A worker
 * entering a database call writes (endpoint, start time) into its slot and
 * clears it when done. Entry is refused when the endpoint already has
 * `limit` calls in flight and the oldest of them has run longer than
 * `slow`, or one of its calls timed out within `memory`: a healthy database
 * serves any concurrency, a stuck table holds at most `limit` workers per
 * endpoint. A slot older than `stale` (a worker that died mid-call) no
 * longer counts. */
#ifndef PP_GATE_H
#define PP_GATE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct pp_gate_t pp_gate_t;

/* A gate over caller-provided, 8-byte aligned memory of pp_gate_size(nslots)
 * bytes, which may be shared memory (zeroed: every slot free). */
apr_size_t pp_gate_size(unsigned nslots);
pp_gate_t *pp_gate_attach(void *mem, unsigned nslots);

typedef struct {
    unsigned limit;    /* 0: no bound */
    apr_time_t slow;   /* an endpoint is stuck when its oldest call is older */
    apr_time_t stale;  /* slots older than this are ignored */
    apr_time_t memory; /* how long a timeout keeps the bound strict */
} pp_gate_policy_t;

/* Takes slot for endpoint (1..255) at now; returns 1, or 0 when refused
 * (the slot is then untouched). A slot out of range is always admitted and
 * never recorded. */
int pp_gate_enter(pp_gate_t *gate, unsigned slot, unsigned endpoint, apr_time_t now,
                  const pp_gate_policy_t *policy);
void pp_gate_leave(pp_gate_t *gate, unsigned slot);

/* A call of endpoint timed out (or found the database unreachable) at now;
 * or one succeeded, which ends the suspicion at once. */
void pp_gate_trouble(pp_gate_t *gate, unsigned endpoint, apr_time_t now);
void pp_gate_fine(pp_gate_t *gate, unsigned endpoint);
/* The database is back: no endpoint is suspect any more. */
void pp_gate_all_fine(pp_gate_t *gate);

/* Calls of endpoint in flight (not stale) at now: for tests and metrics. */
unsigned pp_gate_count(const pp_gate_t *gate, unsigned endpoint, apr_time_t now,
                       const pp_gate_policy_t *policy);

#endif
