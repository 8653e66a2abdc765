#include "pp_gate.h"

#include <apr_atomic.h>

/* A slot is one 64-bit word, written and read atomically: the endpoint in
 * the top 8 bits, the start time in microseconds (mod 2^56, ~2,284 years)
 * below; 0 is free. */
#define PP_GATE_TIME_BITS 56
#define PP_GATE_TIME_MASK ((APR_UINT64_C(1) << PP_GATE_TIME_BITS) - 1)

/* Position-independent (no pointers), so it can live in shared memory. */
struct pp_gate_t {
    apr_uint64_t nslots;
    volatile apr_uint64_t trouble[256]; /* per endpoint: last timeout, or 0 */
    volatile apr_uint64_t slots[];
};

apr_size_t pp_gate_size(unsigned nslots)
{
    return sizeof(pp_gate_t) + (apr_size_t)nslots * sizeof(apr_uint64_t);
}

pp_gate_t *pp_gate_attach(void *mem, unsigned nslots)
{
    pp_gate_t *gate = mem;
    gate->nslots = nslots;
    return gate;
}

static apr_time_t pp_gate_age(apr_uint64_t v, apr_time_t now)
{
    apr_uint64_t start = v & PP_GATE_TIME_MASK;
    return (apr_time_t)(((apr_uint64_t)now - start) & PP_GATE_TIME_MASK);
}

/* Calls of endpoint in flight and the age of the oldest. */
static unsigned pp_gate_scan(const pp_gate_t *gate, unsigned endpoint, apr_time_t now,
                             const pp_gate_policy_t *policy, apr_time_t *oldest)
{
    apr_uint64_t i;
    unsigned n = 0;

    *oldest = 0;
    for (i = 0; i < gate->nslots; i++) {
        /* apr_atomic_read64 takes a non-const pointer but only reads */
        apr_uint64_t v = apr_atomic_read64((volatile apr_uint64_t *)&gate->slots[i]);
        apr_time_t age;
        if (!v || (unsigned)(v >> PP_GATE_TIME_BITS) != endpoint) {
            continue;
        }
        age = pp_gate_age(v, now);
        if (age > policy->stale) {
            continue;
        }
        n++;
        if (age > *oldest) {
            *oldest = age;
        }
    }
    return n;
}

int pp_gate_enter(pp_gate_t *gate, unsigned slot, unsigned endpoint, apr_time_t now,
                  const pp_gate_policy_t *policy)
{
    apr_uint64_t v;

    if (!gate || slot >= gate->nslots || endpoint == 0 || endpoint > 255) {
        return 1;
    }
    if (policy->limit) {
        apr_time_t oldest;
        unsigned n = pp_gate_scan(gate, endpoint, now, policy, &oldest);
        apr_uint64_t trouble = apr_atomic_read64(&gate->trouble[endpoint]);
        /* right after a timeout a fresh wave of calls is as stuck as the
         * last one, however young: the bound holds until the memory fades */
        int suspect = trouble && now - (apr_time_t)trouble < policy->memory;
        if (n >= policy->limit && (oldest > policy->slow || suspect)) {
            return 0;
        }
    }
    v = ((apr_uint64_t)endpoint << PP_GATE_TIME_BITS) | ((apr_uint64_t)now & PP_GATE_TIME_MASK);
    apr_atomic_set64(&gate->slots[slot], v); /* endpoint > 0: never 0 (free) */
    return 1;
}

void pp_gate_trouble(pp_gate_t *gate, unsigned endpoint, apr_time_t now)
{
    if (gate && endpoint > 0 && endpoint <= 255) {
        apr_atomic_set64(&gate->trouble[endpoint], (apr_uint64_t)now);
    }
}

void pp_gate_fine(pp_gate_t *gate, unsigned endpoint)
{
    /* read first: a healthy endpoint never writes the shared line */
    if (gate && endpoint > 0 && endpoint <= 255 && apr_atomic_read64(&gate->trouble[endpoint])) {
        apr_atomic_set64(&gate->trouble[endpoint], 0);
    }
}

void pp_gate_all_fine(pp_gate_t *gate)
{
    unsigned i;
    for (i = 0; gate && i < 256; i++) {
        pp_gate_fine(gate, i);
    }
}

void pp_gate_leave(pp_gate_t *gate, unsigned slot)
{
    if (gate && slot < gate->nslots) {
        apr_atomic_set64(&gate->slots[slot], 0);
    }
}

unsigned pp_gate_count(const pp_gate_t *gate, unsigned endpoint, apr_time_t now,
                       const pp_gate_policy_t *policy)
{
    apr_time_t oldest;
    return gate ? pp_gate_scan(gate, endpoint, now, policy, &oldest) : 0;
}
