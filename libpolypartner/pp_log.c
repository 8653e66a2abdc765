#include "pp_log.h"

#include <apr_strings.h>
#include <stdarg.h>

static pp_log_cb *pp_log_callback;
static void *pp_log_baton;

void pp_log_set(pp_log_cb *cb, void *baton)
{
    pp_log_callback = cb;
    pp_log_baton = baton;
}

void pp_log(pp_log_level_t level, apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    if (!pp_log_callback) {
        return;
    }
    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    pp_log_callback(pp_log_baton, level, msg);
}
