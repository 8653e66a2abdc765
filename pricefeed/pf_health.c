/* The health report: one JSON object rewritten atomically (temp file +
 * rename) about every second, so a monitor never reads half a report. */
#include "pf_feed.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "pp_log.h"

static const char *pf_iso(apr_pool_t *p, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];

    gmtime_r(&secs, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    return apr_psprintf(p, "\"%s.%03dZ\"", buf, (int)(ms % 1000));
}

void pf_health_write(pf_feed_t *f, apr_pool_t *p)
{
    const char *path = f->cfg->health_file;
    const int64_t *bounds = pf_latency_bounds();
    pf_counters_t c;
    pf_latency_t lat;
    pf_role_t role;
    int db_up, markets, tokens, pending, i;
    int64_t last_write, now = pf_now_ms();
    const char *conns;
    char *tmp, *body;
    FILE *fp;

    if (!path) {
        return;
    }
    pthread_mutex_lock(&f->lock);
    c = f->c;
    lat = f->latency;
    role = f->role;
    db_up = f->db_up;
    markets = f->markets_tracked;
    tokens = pf_book_store_count(f->books);
    pending = f->pending_resolutions;
    last_write = f->last_write_ms;
    conns = apr_pstrdup(p, f->connections_json ? f->connections_json : "[]");
    pthread_mutex_unlock(&f->lock);

    const char *b = "", *n = "";
    for (i = 0; i < PF_LAT_NBOUNDS; i++) {
        b = apr_psprintf(p, "%s%s%" APR_INT64_T_FMT, b, i ? "," : "", bounds[i]);
    }
    for (i = 0; i <= PF_LAT_NBOUNDS; i++) {
        n = apr_psprintf(p, "%s%s%" APR_UINT64_T_FMT, n, i ? "," : "", lat.counts[i]);
    }
    body = apr_psprintf(
        p,
        "{\"pid\":%ld,\"role\":\"%s\",\"database\":\"%s\",\"started_at\":%s,\"now\":%s,"
        "\"last_write_at\":%s,\"last_write_age_ms\":%s,\"markets_tracked\":%d,"
        "\"tokens_tracked\":%d,\"pending_resolutions\":%d,\"connections\":%s,"
        "\"counters\":{\"frames\":%" APR_UINT64_T_FMT ",\"events\":%" APR_UINT64_T_FMT
        ",\"level_updates\":%" APR_UINT64_T_FMT ",\"tokens_written\":%" APR_UINT64_T_FMT
        ",\"batches\":%" APR_UINT64_T_FMT ",\"fills\":%" APR_UINT64_T_FMT
        ",\"settlements\":%" APR_UINT64_T_FMT ",\"write_failures\":%" APR_UINT64_T_FMT
        ",\"discoveries\":%" APR_UINT64_T_FMT ",\"snapshots\":%" APR_UINT64_T_FMT
        ",\"rest_errors\":%" APR_UINT64_T_FMT ",\"rate_limited\":%" APR_UINT64_T_FMT
        ",\"reconnects\":%" APR_UINT64_T_FMT ",\"touches\":%" APR_UINT64_T_FMT
        ",\"verifications\":%" APR_UINT64_T_FMT "},"
        "\"latency_ms\":{\"bounds\":[%s],\"counts\":[%s]}}\n",
        (long)getpid(), pf_role_name(role), db_up ? "connected" : "down", pf_iso(p, f->started_ms),
        pf_iso(p, now), last_write ? pf_iso(p, last_write) : "null",
        last_write ? apr_psprintf(p, "%" APR_INT64_T_FMT, now - last_write) : "null", markets,
        tokens, pending, conns, c.frames, c.events, c.level_updates, c.tokens_written, c.batches,
        c.fills, c.settlements, c.write_failures, c.discoveries, c.snapshots, c.rest_errors,
        c.rate_limited, c.reconnects, c.touches, c.verifications, b, n);

    tmp = apr_psprintf(p, "%s.tmp.%ld", path, (long)getpid());
    fp = fopen(tmp, "w");
    if (!fp) {
        pp_log(PP_LOG_WARN, "health: cannot write %s", tmp);
        return;
    }
    fputs(body, fp);
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        pp_log(PP_LOG_WARN, "health: cannot write %s", path);
        remove(tmp);
    }
}
