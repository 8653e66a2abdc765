#include "pp_throttle.h"

#include <apr_atomic.h>

int pp_throttle_allow(pp_throttle_t *t, apr_time_t now, apr_uint32_t interval_s,
                      apr_uint32_t *suppressed)
{
    apr_uint32_t sec = (apr_uint32_t)apr_time_sec(now);
    apr_uint32_t next = apr_atomic_read32(&t->next);

    /* (sec - next) as signed: the clock may wrap in 2106, not our concern,
     * but a next far in the future must not block forever */
    if ((apr_int32_t)(sec - next) < 0
        || apr_atomic_cas32(&t->next, sec + interval_s, next) != next) {
        apr_atomic_inc32(&t->suppressed);
        return 0;
    }
    if (suppressed) {
        *suppressed = apr_atomic_xchg32(&t->suppressed, 0);
    }
    else {
        apr_atomic_set32(&t->suppressed, 0);
    }
    return 1;
}
