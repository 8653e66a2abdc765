#include "pp_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pp_log_cb *pp_log_callback;
static void *pp_log_baton;
static pp_log_level_t pp_log_max = PP_LOG_DEBUG;

void pp_log_set(pp_log_cb *cb, void *baton, pp_log_level_t max_level)
{
    pp_log_callback = cb;
    pp_log_baton = baton;
    pp_log_max = max_level;
}

int pp_log_enabled(pp_log_level_t level)
{
    return pp_log_callback != NULL && level <= pp_log_max;
}

void pp_log(pp_log_level_t level, const char *fmt, ...)
{
    char msg[PP_LOG_MAX];
    va_list ap;
    int n;

    if (!pp_log_enabled(level)) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof(msg)) {
        memcpy(msg + sizeof(msg) - 4, "...", 4);
    }
    pp_log_callback(pp_log_baton, level, msg);
}
