#include "pf_latency.h"

static const int64_t pf_bounds[PF_LAT_NBOUNDS] = {
    1,   2,   3,   5,    7,    10,   15,   20,   25,   30,   40,    50,    60,    70,   80,
    90,  100, 120, 140,  160,  180,  200,  225,  250,  300,  350,   400,   450,   500,  600,
    700, 800, 900, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10000, 20000, 30000, 60000
};

const int64_t *pf_latency_bounds(void)
{
    return pf_bounds;
}

void pf_latency_add(pf_latency_t *h, int64_t ms)
{
    int lo = 0, hi = PF_LAT_NBOUNDS;

    /* first bound >= ms */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (pf_bounds[mid] >= ms) hi = mid;
        else lo = mid + 1;
    }
    h->counts[lo]++;
    h->total++;
}

int64_t pf_latency_quantile(const pf_latency_t *h, int per_mille)
{
    uint64_t need, seen = 0;
    int i;

    if (!h->total) {
        return -1;
    }
    need = (h->total * (uint64_t)per_mille + 999) / 1000;
    if (need == 0) need = 1;
    for (i = 0; i < PF_LAT_NBOUNDS; i++) {
        seen += h->counts[i];
        if (seen >= need) {
            return pf_bounds[i];
        }
    }
    return -1;
}
