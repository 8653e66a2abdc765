/* The writer thread: the only PostgreSQL connection. It holds the advisory
 * lock that makes this instance the active one, so every write is fenced by
 * it: a lost connection is a lost lock. Jobs (market upserts, settlement,
 * touches) run before price batches, and are taken from the queue in the
 * same critical section as the batch, so a token's upsert always commits
 * before its first price. */
#include "pf_feed.h"

#include <apr_strings.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pf_batch.h"
#include "pp_log.h"
#include "pf_retry.h"

typedef struct {
    pf_feed_t *f;
    PGconn *conn;
    int leader;
    pf_backoff_t backoff;
    int64_t next_attempt_ms;
    pf_job_t *jobs; /* taken from the queue, not yet committed */
    apr_pool_t *scratch;
    int64_t last_health_ms;
} pf_writer_t;

static const struct {
    const char *name;
    const char *sql;
    int nparams;
} pf_stmts[] = {
    { "pf_lock", "SELECT pg_try_advisory_lock($1::bigint)", 1 },
    { "pf_apply", "SELECT api.pp_apply_price_updates($1::jsonb)", 1 },
    { "pf_upsert", "SELECT api.pp_upsert_market($1, $2, $3, $4::boolean, $5::jsonb)", 5 },
    { "pf_settle", "SELECT api.pp_settle_market($1, $2)", 2 },
    { "pf_touch", "SELECT api.pp_touch_prices($1::jsonb)", 1 },
    { "pf_unresolved", "SELECT condition_id, closed FROM api.pp_unresolved_markets()", 0 },
};

static void pf_writer_disconnect(pf_writer_t *w, const char *why)
{
    pf_feed_t *f = w->f;

    if (w->conn) {
        pp_log(PP_LOG_WARN, "database: %s; %s", why,
               w->leader ? "leadership lost until the lock is taken again" : "reconnecting");
        PQfinish(w->conn);
        w->conn = NULL;
    }
    pthread_mutex_lock(&f->lock);
    f->db_up = 0;
    if (w->leader) {
        f->role = PF_ROLE_RECOVERING;
        f->leader_since_ms = 0;
    }
    pthread_mutex_unlock(&f->lock);
    w->leader = 0;
    w->next_attempt_ms = pf_now_ms() + pf_backoff_next(&w->backoff, (uint32_t)rand());
}

static int pf_writer_connect(pf_writer_t *w)
{
    const char *keys[] = { "connect_timeout",
                           "application_name",
                           "keepalives_idle",
                           "keepalives_interval",
                           "keepalives_count",
                           "dbname",
                           NULL };
    const char *vals[] = {
        "5", "polypartner-pricefeed", "10", "5", "3", w->f->cfg->database, NULL
    };
    size_t i;

    w->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(w->conn) != CONNECTION_OK) {
        char *msg = apr_pstrdup(w->scratch, PQerrorMessage(w->conn));
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
        pp_log(PP_LOG_WARN, "database: cannot connect: %s", msg);
        PQfinish(w->conn);
        w->conn = NULL;
        w->next_attempt_ms = pf_now_ms() + pf_backoff_next(&w->backoff, (uint32_t)rand());
        return 0;
    }
    for (i = 0; i < sizeof(pf_stmts) / sizeof(pf_stmts[0]); i++) {
        PGresult *r = PQprepare(w->conn, pf_stmts[i].name, pf_stmts[i].sql, pf_stmts[i].nparams,
                                NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) {
            pp_log(PP_LOG_ERR,
                   "database: cannot prepare %s: %s (are the migrations "
                   "applied?)",
                   pf_stmts[i].name, PQresultErrorMessage(r));
        }
        PQclear(r);
        if (!ok) {
            PQfinish(w->conn);
            w->conn = NULL;
            w->next_attempt_ms = pf_now_ms() + pf_backoff_next(&w->backoff, (uint32_t)rand());
            return 0;
        }
    }
    pp_log(PP_LOG_INFO, "database: connected");
    pthread_mutex_lock(&w->f->lock);
    w->f->db_up = 1;
    pthread_mutex_unlock(&w->f->lock);
    return 1;
}

/* Runs a prepared statement; returns the result or NULL (connection lost:
 * already handled) — a SQL error on a healthy connection is returned for
 * the caller to judge. */
static PGresult *pf_exec(pf_writer_t *w, const char *stmt, int n, const char *const *vals)
{
    PGresult *r = PQexecPrepared(w->conn, stmt, n, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);

    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        return r;
    }
    if (PQstatus(w->conn) != CONNECTION_OK) {
        PQclear(r);
        pf_writer_disconnect(w, "connection lost");
        return NULL;
    }
    return r;
}

static int pf_ok(PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

static void pf_writer_try_lock(pf_writer_t *w)
{
    pf_feed_t *f = w->f;
    char key[32];
    const char *vals[1] = { key };
    PGresult *r;
    int got;

    snprintf(key, sizeof(key), "%" APR_INT64_T_FMT, f->cfg->lock_key);
    r = pf_exec(w, "pf_lock", 1, vals);
    if (!r) {
        return;
    }
    got = pf_ok(r) && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    if (!pf_ok(r)) {
        pp_log(PP_LOG_ERR, "database: advisory lock: %s", PQresultErrorMessage(r));
    }
    PQclear(r);
    if (!got) {
        /* the active instance does the market and settlement work */
        while (w->jobs) {
            pf_job_t *j = w->jobs;
            w->jobs = j->next;
            pf_job_free(j);
        }
        pthread_mutex_lock(&f->lock);
        while (f->jobs_head) {
            pf_job_t *j = f->jobs_head;
            f->jobs_head = j->next;
            pf_job_free(j);
        }
        f->jobs_tail = NULL;
        if (f->role != PF_ROLE_STANDBY) {
            pp_log(PP_LOG_INFO, "standby: another instance holds lock %" APR_INT64_T_FMT,
                   f->cfg->lock_key);
        }
        f->role = PF_ROLE_STANDBY;
        pthread_mutex_unlock(&f->lock);
        w->next_attempt_ms = pf_now_ms() + 1000;
        return;
    }

    /* the markets the database holds unresolved, for closed-market handling */
    r = pf_exec(w, "pf_unresolved", 0, NULL);
    if (!r) {
        return;
    }
    pthread_mutex_lock(&f->lock);
    pf_strlist_clear(&f->db_markets);
    if (pf_ok(r)) {
        int i;
        for (i = 0; i < PQntuples(r); i++) {
            pf_strlist_push(&f->db_markets,
                            apr_pstrcat(w->scratch,
                                        strcmp(PQgetvalue(r, i, 1), "t") == 0 ? "C:" : "O:",
                                        PQgetvalue(r, i, 0), NULL));
        }
    }
    f->db_markets_epoch++;
    w->leader = 1;
    f->leader_epoch++;
    f->role = PF_ROLE_ACTIVE;
    f->leader_since_ms = pf_now_ms();
    /* whatever was written before (by us or another instance), the current
     * state is ours to write now */
    pf_book_store_mark_all_dirty(f->books);
    pthread_cond_broadcast(&f->wake_rest);
    pthread_mutex_unlock(&f->lock);
    PQclear(r);
    pf_backoff_reset(&w->backoff);
    pp_log(PP_LOG_INFO, "active: holding lock %" APR_INT64_T_FMT, f->cfg->lock_key);
    pf_stream_wake();
}

/* Runs one job; 1 done (or dropped after a SQL error), 0 connection lost. */
static int pf_writer_job(pf_writer_t *w, pf_job_t *j)
{
    pf_feed_t *f = w->f;
    PGresult *r;

    switch (j->kind) {
    case PF_JOB_UPSERT: {
        const char *vals[5] = { j->condition_id, j->question, j->slug, j->closed ? "t" : "f",
                                j->json };
        r = pf_exec(w, "pf_upsert", 5, vals);
        if (!r) return 0;
        if (!pf_ok(r)) {
            pp_log(PP_LOG_ERR, "database: upsert of market %s failed: %s", j->condition_id,
                   PQresultErrorMessage(r));
        }
        PQclear(r);
        return 1;
    }
    case PF_JOB_SETTLE: {
        const char *vals[2] = { j->condition_id, j->winner };
        r = pf_exec(w, "pf_settle", 2, vals);
        if (!r) return 0;
        if (pf_ok(r)) {
            pp_log(PP_LOG_INFO, "settled market %s (%s): %s positions", j->condition_id,
                   j->winner ? j->winner : "void, 0.50 each", PQgetvalue(r, 0, 0));
            pthread_mutex_lock(&f->lock);
            f->c.settlements++;
            pf_strlist_push(&f->settled, j->condition_id);
            pthread_cond_broadcast(&f->wake_rest);
            pthread_mutex_unlock(&f->lock);
        }
        else {
            pp_log(PP_LOG_ERR, "database: settlement of market %s failed: %s", j->condition_id,
                   PQresultErrorMessage(r));
        }
        PQclear(r);
        return 1;
    }
    case PF_JOB_TOUCH: {
        const char *vals[1] = { j->json };
        r = pf_exec(w, "pf_touch", 1, vals);
        if (!r) return 0;
        if (pf_ok(r)) {
            pthread_mutex_lock(&f->lock);
            f->c.touches++;
            pthread_mutex_unlock(&f->lock);
        }
        else {
            pp_log(PP_LOG_ERR, "database: touch failed: %s", PQresultErrorMessage(r));
        }
        PQclear(r);
        return 1;
    }
    }
    return 1;
}

/* Writes one batch's JSON; returns the orders filled, -1 on a SQL error on a
 * healthy connection, -2 when the connection was lost. */
static long pf_writer_apply(pf_writer_t *w, const char *json)
{
    const char *vals[1] = { json };
    PGresult *r = pf_exec(w, "pf_apply", 1, vals);
    long filled;

    if (!r) return -2;
    if (!pf_ok(r)) {
        pp_log(PP_LOG_ERR, "database: price batch failed: %s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    filled = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return filled;
}

static void pf_writer_committed(pf_writer_t *w, const pf_batch_t *b, long filled)
{
    pf_feed_t *f = w->f;
    int64_t now = pf_now_ms();
    int i;

    pthread_mutex_lock(&f->lock);
    for (i = 0; i < b->count; i++) {
        int64_t d = now - b->items[i].since_ms;
        pf_latency_add(&f->latency, d < 0 ? 0 : d);
    }
    f->c.tokens_written += (uint64_t)b->count;
    f->c.batches++;
    f->c.fills += filled > 0 ? (uint64_t)filled : 0;
    f->last_write_ms = now;
    pthread_mutex_unlock(&f->lock);
}

/* A batch the database rejected on a healthy connection: write its tokens
 * one by one so one bad row cannot hold back the others; drop (and log)
 * only what is rejected alone. */
static int pf_writer_split(pf_writer_t *w, pf_batch_t *b)
{
    int i;

    for (i = 0; i < b->count; i++) {
        pf_batch_t one;
        pf_batch_opts_t o = { 1, w->f->cfg->depth_levels };
        long filled;

        pthread_mutex_lock(&w->f->lock);
        pf_book_store_requeue(w->f->books, b->items[i].token_id, b->items[i].mask,
                              b->items[i].since_ms);
        pf_batch_build(w->f->books, w->scratch, &o, &one);
        pthread_mutex_unlock(&w->f->lock);
        if (!one.count) {
            continue;
        }
        filled = pf_writer_apply(w, one.json);
        if (filled == -2) {
            pthread_mutex_lock(&w->f->lock);
            pf_batch_restore(w->f->books, &one);
            for (i = i + 1; i < b->count; i++) {
                pf_book_store_requeue(w->f->books, b->items[i].token_id, b->items[i].mask,
                                      b->items[i].since_ms);
            }
            pthread_mutex_unlock(&w->f->lock);
            return 0;
        }
        if (filled == -1) {
            pp_log(PP_LOG_ERR, "database: dropped the update of token %s: %s",
                   one.items[0].token_id, one.json);
            pthread_mutex_lock(&w->f->lock);
            w->f->c.write_failures++;
            pthread_mutex_unlock(&w->f->lock);
            continue;
        }
        pf_writer_committed(w, &one, filled);
    }
    return 1;
}

/* One cycle as the active instance: jobs, then batches while enough is
 * dirty. Returns 0 when the connection was lost. */
static int pf_writer_cycle(pf_writer_t *w, int flush_all)
{
    pf_feed_t *f = w->f;
    pf_batch_opts_t opts = { f->cfg->batch_size, f->cfg->depth_levels };

    for (;;) {
        pf_batch_t b;
        pf_job_t *tail, *j;
        long filled;

        apr_pool_clear(w->scratch);
        pthread_mutex_lock(&f->lock);
        /* append the queue to our own list: same critical section as the batch */
        if (f->jobs_head) {
            for (tail = w->jobs; tail && tail->next; tail = tail->next) {
            }
            if (tail) tail->next = f->jobs_head;
            else w->jobs = f->jobs_head;
            f->jobs_head = f->jobs_tail = NULL;
        }
        b.count = 0;
        if (!w->jobs) {
            pf_batch_build(f->books, w->scratch, &opts, &b);
        }
        pthread_mutex_unlock(&f->lock);

        while ((j = w->jobs) != NULL) {
            if (!pf_writer_job(w, j)) {
                return 0;
            }
            w->jobs = j->next;
            pf_job_free(j);
        }
        if (!b.count) {
            /* jobs done (or nothing dirty): build the batch next round */
            pthread_mutex_lock(&f->lock);
            int more = pf_book_store_dirty_count(f->books) > 0 || f->jobs_head;
            pthread_mutex_unlock(&f->lock);
            if (!more) return 1;
            continue;
        }
        filled = pf_writer_apply(w, b.json);
        if (filled == -2) {
            pthread_mutex_lock(&f->lock);
            pf_batch_restore(f->books, &b);
            f->c.write_failures++;
            pthread_mutex_unlock(&f->lock);
            return 0;
        }
        if (filled == -1) {
            if (!pf_writer_split(w, &b)) return 0;
        }
        else {
            pf_writer_committed(w, &b, filled);
        }
        pthread_mutex_lock(&f->lock);
        int dirty = pf_book_store_dirty_count(f->books);
        pthread_mutex_unlock(&f->lock);
        /* a full batch's worth waiting (or a final flush): go again now;
         * otherwise let changes gather until the next interval */
        if (!(flush_all ? dirty > 0 : dirty >= f->cfg->batch_size)) {
            return 1;
        }
    }
}

static void pf_timed_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(c, m, &ts);
}

void *pf_writer_main(void *arg)
{
    pf_feed_t *f = arg;
    pf_writer_t w;
    apr_pool_t *root;

    memset(&w, 0, sizeof(w));
    w.f = f;
    apr_pool_create(&root, NULL);
    apr_pool_create(&w.scratch, root);
    pf_backoff_init(&w.backoff, f->cfg->backoff_min_ms, f->cfg->backoff_max_ms);

    while (!atomic_load(&f->stopping)) {
        int64_t now = pf_now_ms();

        if (now - w.last_health_ms >= 1000) {
            w.last_health_ms = now;
            pf_health_write(f, w.scratch);
            apr_pool_clear(w.scratch);
        }
        if (!w.conn && now >= w.next_attempt_ms) {
            pf_writer_connect(&w);
        }
        if (w.conn && !w.leader && now >= w.next_attempt_ms) {
            pf_writer_try_lock(&w);
        }
        if (w.conn && w.leader) {
            if (!pf_writer_cycle(&w, 0)) {
                continue;
            }
        }
        pthread_mutex_lock(&f->lock);
        if (!atomic_load(&f->stopping) && pf_book_store_dirty_count(f->books) < f->cfg->batch_size
            && !f->jobs_head) {
            /* wake for the next batch, and for the health report every second */
            int64_t wait = w.leader ? f->cfg->batch_interval_ms : 200;
            int64_t to_health = 1000 - (pf_now_ms() - w.last_health_ms);
            pf_timed_wait(&f->wake_writer, &f->lock,
                          to_health < wait ? (to_health > 1 ? to_health : 1) : wait);
        }
        pthread_mutex_unlock(&f->lock);
    }

    /* stopping: write what we have, then let go of the lock */
    if (w.conn && w.leader) {
        if (pf_writer_cycle(&w, 1)) {
            pthread_mutex_lock(&f->lock);
            int left = pf_book_store_dirty_count(f->books);
            pthread_mutex_unlock(&f->lock);
            pp_log(PP_LOG_INFO, "final batch written%s",
                   left ? " (some changes arrived during shutdown and were not)" : "");
        }
        else {
            pp_log(PP_LOG_WARN, "could not write the final batch: the database is down");
        }
    }
    while (w.jobs) {
        pf_job_t *j = w.jobs;
        w.jobs = j->next;
        pf_job_free(j);
    }
    if (w.conn) {
        PQfinish(w.conn); /* ends the session: the advisory lock goes with it */
        w.conn = NULL;
    }
    pthread_mutex_lock(&f->lock);
    f->role = PF_ROLE_STOPPING;
    f->db_up = 0;
    pthread_mutex_unlock(&f->lock);
    pf_health_write(f, w.scratch);
    apr_pool_destroy(root);
    return NULL;
}
