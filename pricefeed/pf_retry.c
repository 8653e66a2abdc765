#include "pf_retry.h"

#include <apr_date.h>
#include <apr_time.h>

#define PF_RETRY_AFTER_CAP_MS 86400000LL

void pf_backoff_init(pf_backoff_t *b, int64_t min_ms, int64_t max_ms)
{
    b->min_ms = min_ms > 0 ? min_ms : 1;
    b->max_ms = max_ms >= b->min_ms ? max_ms : b->min_ms;
    b->attempts = 0;
}

int64_t pf_backoff_next(pf_backoff_t *b, uint32_t rnd)
{
    int64_t d = b->min_ms;
    int i;

    for (i = 0; i < b->attempts && d < b->max_ms; i++) {
        d *= 2;
    }
    if (d > b->max_ms) {
        d = b->max_ms;
    }
    if (b->attempts < 64) {
        b->attempts++;
    }
    /* half fixed, half random: never below d/2, never above d */
    return d / 2 + (int64_t)(rnd % (uint32_t)(d - d / 2 + 1));
}

void pf_backoff_reset(pf_backoff_t *b)
{
    b->attempts = 0;
}

int64_t pf_retry_after_ms(const char *value, int64_t now_ms)
{
    const char *s = value;
    int64_t secs = 0;
    int digits = 0;

    if (!value) {
        return -1;
    }
    while (*s == ' ' || *s == '\t') s++;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (secs < PF_RETRY_AFTER_CAP_MS) {
            secs = secs * 10 + (*s - '0');
        }
    }
    if (digits) {
        while (*s == ' ' || *s == '\t') s++;
        if (*s) {
            return -1;
        }
        secs *= 1000;
        return secs > PF_RETRY_AFTER_CAP_MS ? PF_RETRY_AFTER_CAP_MS : secs;
    }
    apr_time_t t = apr_date_parse_http(value);
    if (t == APR_DATE_BAD) {
        return -1;
    }
    int64_t at = (int64_t)apr_time_as_msec(t) - now_ms;
    if (at < 0) {
        return 0;
    }
    return at > PF_RETRY_AFTER_CAP_MS ? PF_RETRY_AFTER_CAP_MS : at;
}
