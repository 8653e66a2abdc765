/* Logging for the core library through a callback, so the core never
 * depends on httpd (the mod_md model): the module installs a callback that
 * maps onto ap_log_error; unit tests install their own or none. */
#ifndef PP_LOG_H
#define PP_LOG_H

#include <apr_pools.h>

typedef enum {
    PP_LOG_ERR = 0,
    PP_LOG_WARN,
    PP_LOG_INFO,
    PP_LOG_DEBUG
} pp_log_level_t;

typedef void pp_log_cb(void *baton, pp_log_level_t level, const char *msg);

/* Installs the process-wide callback; NULL silences the core. */
void pp_log_set(pp_log_cb *cb, void *baton);

void pp_log(pp_log_level_t level, apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
