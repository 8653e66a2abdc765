/* The daemon's configuration: "key = value" lines, '#' comments. Unknown
 * keys, repeated keys and bad values are errors naming the file and line, so
 * a typo never falls back to a default silently. Durations are seconds with
 * optional decimals ("0.5") and are kept in milliseconds. */
#ifndef PF_CONFIG_H
#define PF_CONFIG_H

#include <apr_pools.h>
#include <stdint.h>

#include "pp_log.h"

typedef struct {
    const char *database;  /* libpq conninfo; required */
    const char *gamma_url; /* without a trailing '/' */
    const char *clob_url;
    const char *ws_url;
    int64_t lock_key;
    int batch_size;
    int64_t batch_interval_ms;
    int depth_levels;
    int tokens_per_connection;
    int64_t heartbeat_ms;
    int64_t stale_after_ms;
    int64_t token_resnapshot_ms;
    int64_t touch_ms;
    int64_t discovery_ms;
    int64_t resolution_ms;
    int max_markets;         /* 0: all */
    const char *gamma_query; /* "" or "k=v&k=v" */
    int64_t http_timeout_ms;
    int64_t backoff_min_ms;
    int64_t backoff_max_ms;
    const char *health_file; /* NULL: none */
    int log_syslog;
    pp_log_level_t log_level;
    /* which keys were set, by index into the key table (for --check) */
    unsigned char seen[32];
} pf_config_t;

/* The defaults (database NULL). */
void pf_config_defaults(pf_config_t *c);

/* Applies one "key = value" setting; source/line name where it came from in
 * the message. Returns NULL or an error message. */
const char *pf_config_set(apr_pool_t *p, pf_config_t *c, const char *key, const char *value,
                          const char *source, int line);

/* Parses a whole file's text. Returns NULL or the first error. */
const char *pf_config_parse(apr_pool_t *p, pf_config_t *c, const char *text, const char *source);

/* Checks what no single line can (required keys, ranges between keys). */
const char *pf_config_finish(apr_pool_t *p, pf_config_t *c);

/* The effective settings as "key = value" lines (the database password
 * masked), for --check. */
const char *pf_config_dump(apr_pool_t *p, const pf_config_t *c);

#endif
