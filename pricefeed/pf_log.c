#include "pf_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pf_log_cb *pf_log_callback;
static void *pf_log_baton;
static pf_log_level_t pf_log_max = PF_LOG_DEBUG;

void pf_log_set(pf_log_cb *cb, void *baton, pf_log_level_t max_level)
{
    pf_log_callback = cb;
    pf_log_baton = baton;
    pf_log_max = max_level;
}

int pf_log_enabled(pf_log_level_t level)
{
    return pf_log_callback != NULL && level <= pf_log_max;
}

void pf_log(pf_log_level_t level, const char *fmt, ...)
{
    char msg[PF_LOG_MAX];
    va_list ap;
    int n;

    if (!pf_log_enabled(level)) {
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
    pf_log_callback(pf_log_baton, level, msg);
}
