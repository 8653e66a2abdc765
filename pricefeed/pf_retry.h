/* When to try again: exponential backoff with jitter between a floor and a
 * ceiling, and the Retry-After header of a 429 or 503 (delay-seconds or an
 * HTTP date). Pure functions; the caller supplies time and randomness. */
#ifndef PF_RETRY_H
#define PF_RETRY_H

#include <stdint.h>

typedef struct {
    int64_t min_ms;
    int64_t max_ms;
    int attempts; /* consecutive failures so far */
} pf_backoff_t;

void pf_backoff_init(pf_backoff_t *b, int64_t min_ms, int64_t max_ms);

/* The delay before the next attempt after one more failure: min * 2^attempts
 * capped at max, then "equal jitter" (half fixed, half random) so a fleet of
 * clients does not reconnect in step. rnd is any 32-bit random value. */
int64_t pf_backoff_next(pf_backoff_t *b, uint32_t rnd);

/* A success: start again from min. */
void pf_backoff_reset(pf_backoff_t *b);

/* Parses a Retry-After value: delay-seconds ("120") or an HTTP date
 * ("Wed, 21 Oct 2026 07:28:00 GMT", also the obsolete RFC 850 and asctime
 * forms). Returns the delay in ms from now_ms (0 for a date in the past), or
 * -1 when the value is missing or malformed. Capped at one day. */
int64_t pf_retry_after_ms(const char *value, int64_t now_ms);

#endif
