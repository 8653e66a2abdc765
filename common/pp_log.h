/* Logging for the module's core and the price feed's through one callback,
 * so neither core depends on where logs go (the mod_md model): the module
 * installs one that maps onto ap_log_error, the daemon one that writes to
 * stderr or syslog, unit tests their own or none. Messages are formatted
 * into a bounded stack buffer, so logging never grows a long-lived pool. */
#ifndef PP_LOG_H
#define PP_LOG_H

typedef enum { PP_LOG_ERR = 0, PP_LOG_WARN, PP_LOG_INFO, PP_LOG_DEBUG } pp_log_level_t;

typedef void pp_log_cb(void *baton, pp_log_level_t level, const char *msg);

/* Longest message passed to the callback (longer ones end in "..."). */
#define PP_LOG_MAX 1024

/* Installs the process-wide callback; NULL silences the core. Messages above
 * max_level are dropped before formatting. */
void pp_log_set(pp_log_cb *cb, void *baton, pp_log_level_t max_level);

/* Non-zero when a message at this level would reach the callback. */
int pp_log_enabled(pp_log_level_t level);

void pp_log(pp_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
