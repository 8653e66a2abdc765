#include "pp_waiters.h"

#include <apr_atomic.h>

/* A slot is one 64-bit word, written and read atomically: the tenant + 1 in
 * the top 16 bits, the time it was last refreshed in microseconds (mod
 * 2^48, about 8.9 years) below; 0 is free. */
#define PP_WAITERS_TIME_BITS 48
#define PP_WAITERS_TIME_MASK ((APR_UINT64_C(1) << PP_WAITERS_TIME_BITS) - 1)

/* Position-independent (no pointers), so it can live in shared memory. */
struct pp_waiters_t {
    apr_uint64_t nslots;
    volatile apr_uint64_t slots[];
};

apr_size_t pp_waiters_size(unsigned nslots)
{
    return sizeof(pp_waiters_t) + (apr_size_t)nslots * sizeof(apr_uint64_t);
}

pp_waiters_t *pp_waiters_attach(void *mem, unsigned nslots)
{
    pp_waiters_t *w = mem;
    w->nslots = nslots;
    return w;
}

static apr_uint64_t pp_waiters_word(unsigned tenant, apr_time_t now)
{
    return ((apr_uint64_t)(tenant + 1) << PP_WAITERS_TIME_BITS)
           | ((apr_uint64_t)now & PP_WAITERS_TIME_MASK);
}

unsigned pp_waiters_count(const pp_waiters_t *w, int tenant, apr_time_t now, apr_time_t stale)
{
    apr_uint64_t i;
    unsigned n = 0;

    for (i = 0; w && i < w->nslots; i++) {
        /* apr_atomic_read64 takes a non-const pointer but only reads */
        apr_uint64_t v = apr_atomic_read64((volatile apr_uint64_t *)&w->slots[i]);
        apr_uint64_t age = ((apr_uint64_t)now - v) & PP_WAITERS_TIME_MASK;
        if (!v || (apr_time_t)age > stale) {
            continue;
        }
        if (tenant < 0 || (int)(v >> PP_WAITERS_TIME_BITS) == tenant + 1) {
            n++;
        }
    }
    return n;
}

pp_waiters_admit_t pp_waiters_enter(pp_waiters_t *w, unsigned slot, unsigned tenant, apr_time_t now,
                                    unsigned per_tenant, unsigned per_server, apr_time_t stale)
{
    if (!w || slot >= w->nslots || tenant > PP_WAITERS_MAX_TENANT) {
        return PP_WAITERS_ADMITTED;
    }
    apr_atomic_set64(&w->slots[slot], pp_waiters_word(tenant, now));
    if (pp_waiters_count(w, (int)tenant, now, stale) > per_tenant) {
        apr_atomic_set64(&w->slots[slot], 0);
        return PP_WAITERS_TENANT_FULL;
    }
    if (pp_waiters_count(w, -1, now, stale) > per_server) {
        apr_atomic_set64(&w->slots[slot], 0);
        return PP_WAITERS_SERVER_FULL;
    }
    return PP_WAITERS_ADMITTED;
}

void pp_waiters_touch(pp_waiters_t *w, unsigned slot, apr_time_t now)
{
    apr_uint64_t v;

    if (!w || slot >= w->nslots || !(v = apr_atomic_read64(&w->slots[slot]))) {
        return;
    }
    apr_atomic_set64(&w->slots[slot],
                     (v & ~PP_WAITERS_TIME_MASK) | ((apr_uint64_t)now & PP_WAITERS_TIME_MASK));
}

void pp_waiters_leave(pp_waiters_t *w, unsigned slot)
{
    if (w && slot < w->nslots) {
        apr_atomic_set64(&w->slots[slot], 0);
    }
}
