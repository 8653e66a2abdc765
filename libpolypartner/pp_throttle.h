/* At most one event per interval, e.g. one log line per interval while the
 * database is down instead of one per refused request. Lock-free; one
 * throttle per process (or in shared memory). */
#ifndef PP_THROTTLE_H
#define PP_THROTTLE_H

#include <apr_time.h>

typedef struct {
    volatile apr_uint32_t next;       /* seconds: the earliest next event */
    volatile apr_uint32_t suppressed; /* events refused since the last one */
} pp_throttle_t;

/* 1 when an event may happen at now (then *suppressed, if not NULL, gets
 * how many were refused since the previous one); 0 otherwise. */
int pp_throttle_allow(pp_throttle_t *t, apr_time_t now, apr_uint32_t interval_s,
                      apr_uint32_t *suppressed);

#endif
