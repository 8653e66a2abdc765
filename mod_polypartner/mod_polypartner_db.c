#include "mod_polypartner_db.h"
#include "pp_dberror.h"
#include "pp_gate.h"
#include "pp_throttle.h"

#include <apr_atomic.h>
#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <ap_mpm.h>
#include <libpq-fe.h>
#include <mod_dbd.h>

APLOG_USE_MODULE(polypartner);

/* Log lines about an unusable database: one per interval for the whole
 * server, with the number of refusals in between, not one per request. */
#define PP_DB_LOG_INTERVAL_S 10
/* While the database is unreachable, one request of the whole server
 * probes it, first after 100 ms, backing off to once a second. */
#define PP_DB_PROBE_MIN_MS 100
#define PP_DB_PROBE_MAX_MS 1000
#define PP_DB_POLL_MS      50

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *pp_dbd_acquire;

/* Shared by every child (anonymous shared memory made before the fork;
 * process-local if that fails): whether the database is reachable, when
 * to probe it next, the log throttles, and the gate. */
typedef struct {
    volatile apr_uint32_t down;
    volatile apr_uint32_t down_since_ms;
    volatile apr_uint32_t next_probe_ms;
    volatile apr_uint32_t probe_backoff_ms;
    pp_throttle_t down_log, timeout_log, gate_log;
} pp_db_shared_t;

static pp_db_shared_t pp_db_local = { 0, 0, 0, PP_DB_PROBE_MIN_MS, { 0, 0 }, { 0, 0 }, { 0, 0 } };
static pp_db_shared_t *pp_db_shared = &pp_db_local;
static pp_gate_t *pp_db_gate;         /* NULL: no bound */
static int pp_db_default_queue_limit; /* a quarter of MaxRequestWorkers */

/* What this connection has been told: per backend, since a reconnect
 * (PQreset) starts a fresh server session. */
typedef struct {
    int backend_pid;
    int statement_ms;
    int lock_ms;
} pp_db_session_t;

#define PP_DB_SESSION_KEY "mod_polypartner:session"

/* A connection's named prepared statements, by SQL text, for the backend
 * they were prepared on (a reconnect starts a new backend without them). */
typedef struct {
    int backend_pid;
    apr_pool_t *pool; /* cleared with the backend */
    apr_hash_t *by_sql;
    unsigned next_label;
} pp_db_statements_t;

#define PP_DB_STATEMENTS_KEY "mod_polypartner:statements"

int pp_db_init(apr_pool_t *pconf, server_rec *s)
{
    int daemons = 0, threads = 0, max_daemons = 0, per_child = 0, workers;
    apr_shm_t *shm;
    apr_size_t size;
    apr_status_t rv;

    pp_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (!pp_dbd_acquire) {
        return 0;
    }
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons);
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &threads);
    ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &max_daemons);
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &per_child);
    workers = max_daemons * (per_child > 0 ? per_child : 1); /* MaxRequestWorkers */
    pp_db_default_queue_limit = workers / 4 > 2 ? workers / 4 : 2;
    pp_db_gate = NULL;
    pp_db_shared = &pp_db_local;
    if (daemons <= 0 || threads <= 0) {
        return 1;
    }
    /* the gate after the shared state, 8-byte aligned */
    size = APR_ALIGN(sizeof(pp_db_shared_t), 8) + pp_gate_size((unsigned)(daemons * threads));
    /* anonymous: inherited by every child forked from this generation */
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(
            APLOG_MARK, APLOG_WARNING, rv, s,
            PP_LOGNO(0305) "no shared memory for the database queue bound (%" APR_SIZE_T_FMT
                           " bytes); requests waiting on a slow database are not bounded",
            size);
        return 1;
    }
    memset(apr_shm_baseaddr_get(shm), 0, size);
    pp_db_shared = apr_shm_baseaddr_get(shm);
    pp_db_shared->probe_backoff_ms = PP_DB_PROBE_MIN_MS;
    pp_db_gate = pp_gate_attach((char *)pp_db_shared + APR_ALIGN(sizeof(pp_db_shared_t), 8),
                                (unsigned)(daemons * threads));
    return 1;
}

static apr_uint32_t pp_db_now_ms(void)
{
    return (apr_uint32_t)(apr_time_now() / 1000);
}

static void pp_db_log_throttled(pp_req_t *rq, pp_throttle_t *t, int level, const char *what)
{
    apr_uint32_t suppressed = 0;

    if (pp_throttle_allow(t, apr_time_now(), PP_DB_LOG_INTERVAL_S, &suppressed)) {
        pp_rlog(rq, level, 0, "%s%s", what,
                suppressed ? apr_psprintf(rq->r->pool, " (%u more like this since the last report)",
                                          suppressed)
                           : "");
    }
}

static int pp_db_retry_later(pp_req_t *rq, const char *message)
{
    return pp_http_send_error(rq, PP_ERR_SERVICE_UNAVAILABLE, message);
}

static int pp_db_connection_lost(const ap_dbd_t *dbd)
{
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    return !conn || PQstatus(conn) != CONNECTION_OK;
}

static void pp_db_mark_up(void)
{
    if (apr_atomic_read32(&pp_db_shared->down) && apr_atomic_xchg32(&pp_db_shared->down, 0)) {
        /* the next outage reports its first refusal at once, and what the
         * outage made suspect is forgiven */
        apr_atomic_set32(&pp_db_shared->down_log.next, 0);
        pp_gate_all_fine(pp_db_gate);
    }
    apr_atomic_set32(&pp_db_shared->probe_backoff_ms, PP_DB_PROBE_MIN_MS);
}

static void pp_db_mark_down(void)
{
    apr_uint32_t backoff = apr_atomic_read32(&pp_db_shared->probe_backoff_ms);

    if (apr_atomic_xchg32(&pp_db_shared->down, 1) == 0) {
        apr_atomic_set32(&pp_db_shared->down_since_ms, pp_db_now_ms());
    }
    apr_atomic_set32(&pp_db_shared->next_probe_ms, pp_db_now_ms() + backoff);
    apr_atomic_set32(&pp_db_shared->probe_backoff_ms,
                     backoff * 2 < PP_DB_PROBE_MAX_MS ? backoff * 2 : PP_DB_PROBE_MAX_MS);
}

/* While down, exactly one caller per probe time gets to try. */
static int pp_db_may_try(void)
{
    apr_uint32_t next, now = pp_db_now_ms();

    if (!apr_atomic_read32(&pp_db_shared->down)) {
        return 1;
    }
    next = apr_atomic_read32(&pp_db_shared->next_probe_ms);
    if ((apr_int32_t)(now - next) < 0) {
        return 0;
    }
    return apr_atomic_cas32(&pp_db_shared->next_probe_ms, now + PP_DB_PROBE_MAX_MS, next) == next;
}

/* A usable connection in *dbd. A database that became unreachable less
 * than the reconnect budget ago (a restart) is waited for until that budget
 * has passed since it went away; one that has been away longer is answered
 * at once, so an outage does not hold workers. *dbd may come in as a
 * connection that was just lost. */
static int pp_db_wait_usable(pp_req_t *rq, ap_dbd_t **dbd)
{
    apr_uint32_t wait_ms = (apr_uint32_t)pp_config_db_reconnect_wait_ms(rq->conf);

    for (;;) {
        if (pp_db_may_try()) {
            if (!*dbd) {
                *dbd = pp_dbd_acquire(rq->r);
            }
            else if (pp_db_connection_lost(*dbd)) {
                apr_dbd_check_conn((*dbd)->driver, rq->r->pool, (*dbd)->handle);
            }
            /* up only once a statement has run on it (pp_db_run): a pooled
             * connection looks alive until its server is asked */
            if (*dbd && !pp_db_connection_lost(*dbd)) {
                return 1;
            }
            pp_db_mark_down();
        }
        if (apr_atomic_read32(&pp_db_shared->down)
            && pp_db_now_ms() - apr_atomic_read32(&pp_db_shared->down_since_ms) >= wait_ms) {
            return 0;
        }
        apr_sleep(apr_time_from_msec(PP_DB_POLL_MS));
    }
}

/* Verbose errors (they carry the SQLSTATE) and this request's time budgets
 * on the session: sent only when the session's budgets differ. */
static int pp_db_prepare_session(pp_req_t *rq, ap_dbd_t *dbd, const char **error)
{
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    /* budgets can differ between virtual hosts that share one pool */
    int statement_ms = rq->r->method_number == M_GET ? pp_config_db_read_ms(rq->conf)
                                                     : pp_config_db_write_ms(rq->conf);
    int lock_ms = pp_config_db_lock_ms(rq->conf);
    pp_db_session_t *session = NULL;
    apr_dbd_prepared_t *stmt = NULL;
    apr_dbd_results_t *res = NULL;
    const char *args[2];
    int rv;

    apr_pool_userdata_get((void **)&session, PP_DB_SESSION_KEY, dbd->pool);
    if (session && session->backend_pid == PQbackendPID(conn)
        && session->statement_ms == statement_ms && session->lock_ms == lock_ms) {
        return 1;
    }
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    args[0] = apr_itoa(rq->r->pool, statement_ms);
    args[1] = apr_itoa(rq->r->pool, lock_ms);
    rv = apr_dbd_prepare(dbd->driver, rq->r->pool, dbd->handle,
                         "SELECT set_config('statement_timeout', %s, false), "
                         "set_config('lock_timeout', %s, false)",
                         NULL, &stmt);
    if (rv == 0) {
        rv = apr_dbd_pselect(dbd->driver, rq->r->pool, dbd->handle, &res, stmt, 1, 2, args);
    }
    if (rv != 0) {
        *error = apr_dbd_error(dbd->driver, dbd->handle, rv);
        return 0;
    }
    if (!session) {
        session = apr_pcalloc(dbd->pool, sizeof(*session));
        apr_pool_userdata_setn(session, PP_DB_SESSION_KEY, NULL, dbd->pool);
    }
    session->backend_pid = PQbackendPID(conn);
    session->statement_ms = statement_ms;
    session->lock_ms = lock_ms;
    return 1;
}

/* sql as a named prepared statement of this connection, prepared at its
 * first use: the server parses and plans the call once per connection
 * instead of at every request. A connection whose backend changed (PQreset
 * after a lost connection drops every named statement) starts afresh. */
static int pp_db_statement(ap_dbd_t *dbd, const char *sql, apr_dbd_prepared_t **stmt)
{
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    int pid = PQbackendPID(conn), rv;
    pp_db_statements_t *cache = NULL;
    const char *label;

    apr_pool_userdata_get((void **)&cache, PP_DB_STATEMENTS_KEY, dbd->pool);
    if (!cache) {
        cache = apr_pcalloc(dbd->pool, sizeof(*cache));
        if (apr_pool_create(&cache->pool, dbd->pool) != APR_SUCCESS) {
            return -1;
        }
        cache->by_sql = apr_hash_make(cache->pool);
        cache->backend_pid = pid;
        apr_pool_userdata_setn(cache, PP_DB_STATEMENTS_KEY, NULL, dbd->pool);
    }
    else if (cache->backend_pid != pid) {
        apr_pool_clear(cache->pool);
        cache->by_sql = apr_hash_make(cache->pool);
        cache->backend_pid = pid;
    }
    if ((*stmt = apr_hash_get(cache->by_sql, sql, APR_HASH_KEY_STRING)) != NULL) {
        return 0;
    }
    label = apr_psprintf(cache->pool, "pp_%u", cache->next_label++);
    rv = apr_dbd_prepare(dbd->driver, cache->pool, dbd->handle, sql, label, stmt);
    if (rv == 0) {
        apr_hash_set(cache->by_sql, apr_pstrdup(cache->pool, sql), APR_HASH_KEY_STRING, *stmt);
    }
    return rv;
}

/* Answers a failed statement on a live connection by its SQLSTATE. */
static int pp_db_failed(pp_req_t *rq, const char *error)
{
    char state[6];

    pp_dberror_sqlstate(error, state);
    switch (pp_dberror_classify(state)) {
    case PP_DBERROR_TIMEOUT:
        pp_gate_trouble(pp_db_gate, (unsigned)rq->route.id, apr_time_now());
        pp_db_log_throttled(
            rq, &pp_db_shared->timeout_log, APLOG_WARNING,
            apr_psprintf(rq->r->pool,
                         PP_LOGNO(0109) "%s: a database call exceeded its time budget "
                                        "(SQLSTATE %s); answered 503",
                         rq->route.name ? rq->route.name : rq->r->uri, state));
        return pp_db_retry_later(rq, "the database did not answer in time; retry shortly");
    case PP_DBERROR_TRANSIENT:
        pp_db_log_throttled(rq, &pp_db_shared->timeout_log, APLOG_WARNING,
                            apr_psprintf(rq->r->pool,
                                         PP_LOGNO(0110) "database call failed transiently: %s",
                                         error));
        return pp_db_retry_later(rq, "the database is busy; retry shortly");
    case PP_DBERROR_INTERNAL:
        break;
    }
    pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0104) "database call failed: %s", error);
    return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
}

static int pp_db_unreachable(pp_req_t *rq)
{
    pp_gate_trouble(pp_db_gate, (unsigned)rq->route.id, apr_time_now());
    pp_db_log_throttled(
        rq, &pp_db_shared->down_log, APLOG_ERR,
        PP_LOGNO(0101) "the database is unreachable (is PostgreSQL up and DBDParams "
                       "right?); answering 503");
    return pp_db_retry_later(rq, "the database is unavailable; retry shortly");
}

static int pp_db_run(pp_req_t *rq, const char *sql, int nargs, const char **args, int ncols,
                     const char **cols, int *rc)
{
    request_rec *r = rq->r;
    ap_dbd_t *dbd = NULL;
    apr_dbd_prepared_t *stmt = NULL;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *error = NULL;
    int rv, attempt, i;

    if (!pp_dbd_acquire || !pp_db_wait_usable(rq, &dbd)) {
        *rc = pp_db_unreachable(rq);
        return 0;
    }
    if (strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0102) "DBDriver is %s; mod_polypartner needs pgsql",
                apr_dbd_name(dbd->driver));
        *rc = pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
        return 0;
    }
    /* A pooled connection whose server went away (restart, failover) fails
     * its next statement; libpq then reports it lost, so reconnect (waiting
     * briefly for the server) and run the call once more. Every call is
     * idempotent or rejected atomically. */
    for (attempt = 0;; attempt++) {
        if (!pp_db_prepare_session(rq, dbd, &error)) {
            rv = -1;
        }
        else if ((rv = pp_db_statement(dbd, sql, &stmt)) != 0
                 || (rv = apr_dbd_pselect(dbd->driver, r->pool, dbd->handle, &res, stmt, 1, nargs,
                                          args))
                        != 0) {
            error = apr_dbd_error(dbd->driver, dbd->handle, rv);
        }
        if (rv == 0) {
            pp_db_mark_up();
            pp_gate_fine(pp_db_gate, (unsigned)rq->route.id);
            break;
        }
        if (!pp_db_connection_lost(dbd)) {
            *rc = pp_db_failed(rq, error);
            return 0;
        }
        /* this connection died (a restart): reconnect now, or, if the
         * server is not back yet, wait for it like any other request */
        if (attempt == 0
            && (apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle) == APR_SUCCESS
                || pp_db_wait_usable(rq, &dbd))) {
            pp_rlog(rq, APLOG_WARNING, 0,
                    PP_LOGNO(0105) "database connection was lost; "
                                   "reconnected, retrying once");
            res = NULL;
            continue;
        }
        *rc = pp_db_unreachable(rq);
        return 0;
    }
    if (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) != 0
        || apr_dbd_num_cols(dbd->driver, res) < ncols) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0107) "database call returned no usable row");
        *rc = pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
        return 0;
    }
    for (i = 0; i < ncols; i++) {
        const char *v = NULL;
        /* get_entry turns NULL into "": datum_get tells them apart */
        if (apr_dbd_datum_get(dbd->driver, row, i, APR_DBD_TYPE_STRING, &v) != APR_SUCCESS) {
            v = NULL;
        }
        cols[i] = v ? apr_pstrdup(r->pool, v) : NULL;
    }
    return 1;
}

int pp_db_row(pp_req_t *rq, const char *sql, int nargs, const char **args, int ncols,
              const char **cols, int *rc)
{
    pp_gate_policy_t policy;
    unsigned slot = pp_http_worker_slot(rq->r); /* its index in the gate */
    int ok;

    policy.limit = (unsigned)pp_config_db_queue_limit(rq->conf, pp_db_default_queue_limit);
    policy.slow = apr_time_from_msec(pp_config_db_slow_ms(rq->conf));
    /* a worker that died mid-call stops counting once any budget has passed */
    policy.stale = apr_time_from_msec(pp_config_db_write_ms(rq->conf)
                                      + pp_config_db_read_ms(rq->conf)
                                      + pp_config_db_reconnect_wait_ms(rq->conf))
                   * 2;
    policy.memory = apr_time_from_msec(pp_config_db_write_ms(rq->conf));
    if (!pp_gate_enter(pp_db_gate, slot, (unsigned)rq->route.id, apr_time_now(), &policy)) {
        pp_db_log_throttled(
            rq, &pp_db_shared->gate_log, APLOG_WARNING,
            apr_psprintf(rq->r->pool,
                         PP_LOGNO(0111) "%s: %u requests are already waiting on a slow "
                                        "database; answered 503 at once (PolyPartnerDBQueueLimit)",
                         rq->route.name ? rq->route.name : rq->r->uri, policy.limit));
        *rc = pp_db_retry_later(rq, "too many requests are waiting on the database; "
                                    "retry shortly");
        return 0;
    }
    ok = pp_db_run(rq, sql, nargs, args, ncols, cols, rc);
    pp_gate_leave(pp_db_gate, slot);
    return ok;
}

int pp_db_send_row(pp_req_t *rq, const char **cols)
{
    int status = pp_db_status(cols[0]);

    if (!status || !cols[1] || !*cols[1]) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0108) "database call returned a malformed row");
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    return pp_http_send_json(rq, status, cols[1], strlen(cols[1]));
}

int pp_db_respond(pp_req_t *rq, const char *sql, int nargs, const char **args)
{
    const char *cols[2];
    int rc = OK;

    return pp_db_row(rq, sql, nargs, args, 2, cols, &rc) ? pp_db_send_row(rq, cols) : rc;
}

int pp_db_status(const char *text)
{
    char *end;
    long status;

    if (!text) {
        return 0;
    }
    status = strtol(text, &end, 10);
    return (*end || end == text || status < 200 || status > 599) ? 0 : (int)status;
}

PGconn *pp_db_request_conn(pp_req_t *rq)
{
    ap_dbd_t *dbd = pp_dbd_acquire ? pp_dbd_acquire(rq->r) : NULL;

    if (!dbd || strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0 || pp_db_connection_lost(dbd)) {
        return NULL;
    }
    return apr_dbd_native_handle(dbd->driver, dbd->handle);
}

int pp_db_is_down(void)
{
    return apr_atomic_read32(&pp_db_shared->down) != 0;
}
