/* A cumulative histogram of delays in milliseconds with fixed bucket bounds,
 * so two reports can be subtracted to get the distribution of an interval.
 * Not thread-safe: the writer thread owns it; readers copy it under the
 * daemon's lock. */
#ifndef PF_LATENCY_H
#define PF_LATENCY_H

#include <stdint.h>

#define PF_LAT_NBOUNDS 44

typedef struct {
    uint64_t counts[PF_LAT_NBOUNDS + 1]; /* last: above the last bound */
    uint64_t total;
} pf_latency_t;

/* The upper bounds (ms) of the buckets, ascending. */
const int64_t *pf_latency_bounds(void);

void pf_latency_add(pf_latency_t *h, int64_t ms);

/* The smallest bound below which at least q (0..1 in per-mille: 500 = p50)
 * of the samples fall; -1 when empty or when it is in the overflow bucket. */
int64_t pf_latency_quantile(const pf_latency_t *h, int per_mille);

#endif
