#include "pf_config.h"

#include <apr_strings.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    PF_K_STR,
    PF_K_URL,
    PF_K_WSURL,
    PF_K_INT,
    PF_K_I64,
    PF_K_DUR,
    PF_K_LOG,
    PF_K_LEVEL,
    PF_K_QUERY
} pf_kind_t;

typedef struct {
    const char *key;
    pf_kind_t kind;
    size_t off;
    int64_t min, max; /* ints: value bounds; durations: ms bounds */
} pf_key_t;

#define OFF(f) offsetof(pf_config_t, f)

static const pf_key_t pf_keys[] = {
    { "database", PF_K_STR, OFF(database), 0, 0 },
    { "gamma_url", PF_K_URL, OFF(gamma_url), 0, 0 },
    { "clob_url", PF_K_URL, OFF(clob_url), 0, 0 },
    { "ws_url", PF_K_WSURL, OFF(ws_url), 0, 0 },
    { "lock_key", PF_K_I64, OFF(lock_key), INT64_MIN + 1, INT64_MAX },
    { "batch_size", PF_K_INT, OFF(batch_size), 1, 10000 },
    { "batch_interval_ms", PF_K_I64, OFF(batch_interval_ms), 1, 60000 },
    { "depth_levels", PF_K_INT, OFF(depth_levels), 1, 1000 },
    { "tokens_per_connection", PF_K_INT, OFF(tokens_per_connection), 1, 5000 },
    { "heartbeat_interval", PF_K_DUR, OFF(heartbeat_ms), 100, 3600000 },
    { "stale_after", PF_K_DUR, OFF(stale_after_ms), 500, 86400000 },
    { "token_resnapshot_after", PF_K_DUR, OFF(token_resnapshot_ms), 500, 86400000 },
    { "touch_interval", PF_K_DUR, OFF(touch_ms), 100, 3600000 },
    { "discovery_interval", PF_K_DUR, OFF(discovery_ms), 500, 86400000 },
    { "resolution_interval", PF_K_DUR, OFF(resolution_ms), 500, 86400000 },
    { "max_markets", PF_K_INT, OFF(max_markets), 0, 1000000 },
    { "gamma_query", PF_K_QUERY, OFF(gamma_query), 0, 0 },
    { "http_timeout", PF_K_DUR, OFF(http_timeout_ms), 100, 600000 },
    { "backoff_min", PF_K_DUR, OFF(backoff_min_ms), 10, 3600000 },
    { "backoff_max", PF_K_DUR, OFF(backoff_max_ms), 10, 3600000 },
    { "health_file", PF_K_STR, OFF(health_file), 0, 0 },
    { "log", PF_K_LOG, OFF(log_syslog), 0, 0 },
    { "log_level", PF_K_LEVEL, OFF(log_level), 0, 0 },
};
#define PF_NKEYS (sizeof(pf_keys) / sizeof(pf_keys[0]))

void pf_config_defaults(pf_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->gamma_url = "https://gamma-api.polymarket.com";
    c->clob_url = "https://clob.polymarket.com";
    c->ws_url = "wss://ws-subscriptions-clob.polymarket.com/ws/market";
    c->lock_key = 7170616;
    c->batch_size = 200;
    c->batch_interval_ms = 100;
    c->depth_levels = 10;
    c->tokens_per_connection = 500;
    c->heartbeat_ms = 10000;
    c->stale_after_ms = 30000;
    c->token_resnapshot_ms = 300000;
    c->touch_ms = 15000;
    c->discovery_ms = 60000;
    c->resolution_ms = 60000;
    c->max_markets = 0;
    c->gamma_query = "";
    c->http_timeout_ms = 15000;
    c->backoff_min_ms = 1000;
    c->backoff_max_ms = 60000;
    c->health_file = NULL;
    c->log_syslog = 0;
    c->log_level = PP_LOG_INFO;
}

static int pf_parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!*s || isspace((unsigned char)*s)) {
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end) {
        return 0;
    }
    *out = v;
    return 1;
}

/* "12", "0.5", "1.25": seconds to milliseconds, at most 3 decimals. */
static int pf_parse_duration(const char *s, int64_t *ms)
{
    int64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;

    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (whole > 100000000) {
            return 0;
        }
        whole = whole * 10 + (*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, fdigits++) {
            if (fdigits >= 3) {
                return 0;
            }
            frac = frac * 10 + (*s - '0');
        }
        if (!fdigits) {
            return 0;
        }
    }
    if (*s || !digits) {
        return 0;
    }
    while (fdigits++ < 3) {
        frac *= 10;
    }
    *ms = whole * 1000 + frac;
    return 1;
}

static int pf_url_ok(const char *v, int ws)
{
    const char *rest;

    if (ws) {
        if (strncmp(v, "ws://", 5) == 0) rest = v + 5;
        else if (strncmp(v, "wss://", 6) == 0) rest = v + 6;
        else return 0;
    }
    else {
        if (strncmp(v, "http://", 7) == 0) rest = v + 7;
        else if (strncmp(v, "https://", 8) == 0) rest = v + 8;
        else return 0;
    }
    if (!*rest || *rest == '/') {
        return 0;
    }
    for (; *rest; rest++) {
        if ((unsigned char)*rest <= ' ' || (unsigned char)*rest >= 0x7f || *rest == '\\'
            || *rest == '?' || *rest == '#') {
            return 0;
        }
    }
    return 1;
}

static int pf_query_ok(const char *v)
{
    for (; *v; v++) {
        if (!isalnum((unsigned char)*v) && !strchr("=&_-.,%:", *v)) {
            return 0;
        }
    }
    return 1;
}

const char *pf_config_set(apr_pool_t *p, pf_config_t *c, const char *key, const char *value,
                          const char *source, int line)
{
    const char *where = line > 0 ? apr_psprintf(p, "%s:%d", source, line) : source;
    size_t i;

    for (i = 0; i < PF_NKEYS; i++) {
        if (strcmp(pf_keys[i].key, key) == 0) {
            break;
        }
    }
    if (i == PF_NKEYS) {
        return apr_psprintf(p, "%s: unknown setting '%s'", where, key);
    }
    const pf_key_t *k = &pf_keys[i];
    char *field = (char *)c + k->off;
    int64_t n;

    switch (k->kind) {
    case PF_K_STR:
        if (!*value) {
            return apr_psprintf(p, "%s: %s must not be empty", where, key);
        }
        *(const char **)field = apr_pstrdup(p, value);
        break;
    case PF_K_URL:
    case PF_K_WSURL: {
        int ws = k->kind == PF_K_WSURL;
        char *v = apr_pstrdup(p, value);
        size_t len = strlen(v);
        if (!ws) {
            while (len > 0 && v[len - 1] == '/') {
                v[--len] = '\0';
            }
        }
        if (!pf_url_ok(v, ws)) {
            return apr_psprintf(p,
                                "%s: %s must be an absolute %s URL without query or "
                                "fragment, got '%s'",
                                where, key, ws ? "ws:// or wss://" : "http:// or https://", value);
        }
        *(const char **)field = v;
        break;
    }
    case PF_K_QUERY:
        if (*value == '?' || *value == '&' || !pf_query_ok(value)) {
            return apr_psprintf(p,
                                "%s: %s must look like 'name=value&name=value' (letters, "
                                "digits, = & _ - . , %% :), got '%s'",
                                where, key, value);
        }
        *(const char **)field = apr_pstrdup(p, value);
        break;
    case PF_K_INT:
    case PF_K_I64:
        if (!pf_parse_i64(value, &n) || n < k->min || n > k->max) {
            return apr_psprintf(p,
                                "%s: %s must be an integer between %" APR_INT64_T_FMT
                                " and %" APR_INT64_T_FMT ", got '%s'",
                                where, key, k->min, k->max, value);
        }
        if (k->kind == PF_K_INT) *(int *)field = (int)n;
        else *(int64_t *)field = n;
        break;
    case PF_K_DUR:
        if (!pf_parse_duration(value, &n) || n < k->min || n > k->max) {
            return apr_psprintf(p,
                                "%s: %s must be a number of seconds between %g and %g "
                                "(up to 3 decimals), got '%s'",
                                where, key, (double)k->min / 1000.0, (double)k->max / 1000.0,
                                value);
        }
        *(int64_t *)field = n;
        break;
    case PF_K_LOG:
        if (strcmp(value, "stderr") == 0) c->log_syslog = 0;
        else if (strcmp(value, "syslog") == 0) c->log_syslog = 1;
        else return apr_psprintf(p, "%s: log must be stderr or syslog, got '%s'", where, value);
        break;
    case PF_K_LEVEL:
        if (strcmp(value, "error") == 0) c->log_level = PP_LOG_ERR;
        else if (strcmp(value, "warn") == 0) c->log_level = PP_LOG_WARN;
        else if (strcmp(value, "info") == 0) c->log_level = PP_LOG_INFO;
        else if (strcmp(value, "debug") == 0) c->log_level = PP_LOG_DEBUG;
        else
            return apr_psprintf(p,
                                "%s: log_level must be error, warn, info or debug, got "
                                "'%s'",
                                where, value);
        break;
    }
    c->seen[i] = 1;
    return NULL;
}

static char *pf_trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t') s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) *--e = '\0';
    return s;
}

const char *pf_config_parse(apr_pool_t *p, pf_config_t *c, const char *text, const char *source)
{
    char *copy = apr_pstrdup(p, text), *next = copy, *ln;
    unsigned char seen_here[PF_NKEYS];
    int line = 0;

    memset(seen_here, 0, sizeof(seen_here));
    while ((ln = next) != NULL) {
        char *eq, *key, *val, *hash;
        size_t i;

        line++;
        next = strchr(ln, '\n');
        if (next) *next++ = '\0';
        hash = strchr(ln, '#');
        if (hash) *hash = '\0';
        ln = pf_trim(ln);
        if (!*ln) {
            continue;
        }
        eq = strchr(ln, '=');
        if (!eq) {
            return apr_psprintf(p, "%s:%d: expected 'key = value', got '%s'", source, line, ln);
        }
        *eq = '\0';
        key = pf_trim(ln);
        val = pf_trim(eq + 1);
        for (i = 0; i < PF_NKEYS; i++) {
            if (strcmp(pf_keys[i].key, key) == 0) {
                if (seen_here[i]) {
                    return apr_psprintf(p, "%s:%d: %s is set twice", source, line, key);
                }
                seen_here[i] = 1;
            }
        }
        const char *err = pf_config_set(p, c, key, val, source, line);
        if (err) {
            return err;
        }
    }
    return NULL;
}

const char *pf_config_finish(apr_pool_t *p, pf_config_t *c)
{
    if (!c->database) {
        return "database is required (a libpq connection string, e.g. "
               "'host=/run/postgresql dbname=polypartner')";
    }
    if (c->backoff_min_ms > c->backoff_max_ms) {
        return apr_psprintf(p,
                            "backoff_min (%" APR_INT64_T_FMT " ms) is greater than "
                            "backoff_max (%" APR_INT64_T_FMT " ms)",
                            c->backoff_min_ms, c->backoff_max_ms);
    }
    if (c->heartbeat_ms >= c->stale_after_ms) {
        return "heartbeat_interval must be shorter than stale_after";
    }
    return NULL;
}

/* Masks password=... in a key/value conninfo and the password of a URI. */
static const char *pf_mask_conninfo(apr_pool_t *p, const char *ci)
{
    char *s = apr_pstrdup(p, ci), *q;

    if ((q = strstr(s, "password=")) != NULL) {
        char *e = q + 9;
        while (*e && *e != ' ') e++;
        return apr_pstrcat(p, apr_pstrndup(p, s, (apr_size_t)(q - s)), "password=***", e, NULL);
    }
    if ((q = strstr(s, "://")) != NULL) {
        char *at = strchr(q + 3, '@'), *colon = strchr(q + 3, ':');
        if (at && colon && colon < at) {
            return apr_pstrcat(p, apr_pstrndup(p, s, (apr_size_t)(colon + 1 - s)), "***", at, NULL);
        }
    }
    return s;
}

const char *pf_config_dump(apr_pool_t *p, const pf_config_t *c)
{
    static const char *levels[] = { "error", "warn", "info", "debug" };

    return apr_psprintf(
        p,
        "database = %s\ngamma_url = %s\nclob_url = %s\nws_url = %s\nlock_key = %" APR_INT64_T_FMT
        "\nbatch_size = %d\nbatch_interval_ms = %" APR_INT64_T_FMT
        "\ndepth_levels = %d\ntokens_per_connection = %d\nheartbeat_interval = %.3f\n"
        "stale_after = %.3f\ntoken_resnapshot_after = %.3f\ntouch_interval = %.3f\n"
        "discovery_interval = %.3f\nresolution_interval = %.3f\nmax_markets = %d\n"
        "gamma_query = %s\nhttp_timeout = %.3f\nbackoff_min = %.3f\nbackoff_max = %.3f\n"
        "health_file = %s\nlog = %s\nlog_level = %s\n",
        c->database ? pf_mask_conninfo(p, c->database) : "(unset)", c->gamma_url, c->clob_url,
        c->ws_url, c->lock_key, c->batch_size, c->batch_interval_ms, c->depth_levels,
        c->tokens_per_connection, (double)c->heartbeat_ms / 1000.0,
        (double)c->stale_after_ms / 1000.0, (double)c->token_resnapshot_ms / 1000.0,
        (double)c->touch_ms / 1000.0, (double)c->discovery_ms / 1000.0,
        (double)c->resolution_ms / 1000.0, c->max_markets, c->gamma_query,
        (double)c->http_timeout_ms / 1000.0, (double)c->backoff_min_ms / 1000.0,
        (double)c->backoff_max_ms / 1000.0, c->health_file ? c->health_file : "(none)",
        c->log_syslog ? "syslog" : "stderr", levels[c->log_level]);
}
