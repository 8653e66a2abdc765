/* Logging for the pricefeed core through a callback, as in the module's
 * pp_log.h: the daemon installs a callback that writes to stderr or syslog;
 * the unit tests install their own or none. Messages are formatted into a
 * bounded stack buffer, so logging never grows a long-lived pool. */
#ifndef PF_LOG_H
#define PF_LOG_H

typedef enum {
    PF_LOG_ERR = 0,
    PF_LOG_WARN,
    PF_LOG_INFO,
    PF_LOG_DEBUG
} pf_log_level_t;

typedef void pf_log_cb(void *baton, pf_log_level_t level, const char *msg);

/* Longest message passed to the callback (longer ones end in "..."). */
#define PF_LOG_MAX 1024

/* Installs the process-wide callback; NULL silences the core. Messages above
 * max_level are dropped before formatting. */
void pf_log_set(pf_log_cb *cb, void *baton, pf_log_level_t max_level);

/* Non-zero when a message at this level would reach the callback. */
int pf_log_enabled(pf_log_level_t level);

void pf_log(pf_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
