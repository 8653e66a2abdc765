#include "mod_polypartner_wake.h"
#include "mod_polypartner_db.h"

#include <ap_mpm.h>
#include <apr_atomic.h>
#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <errno.h>
#include <libpq-fe.h>
#include <mod_dbd.h>
#include <poll.h>

APLOG_USE_MODULE(polypartner);

/* How long a wait or the listener sleeps before it looks at the child's
 * state again; how long waiters poll while nothing listens. */
#define PP_WAKE_SLICE_MS     250
#define PP_WAKE_NO_LISTEN_MS 1000
/* The listener's reconnect backoff. */
#define PP_WAKE_RETRY_MIN_MS 250
#define PP_WAKE_RETRY_MAX_MS 8000
/* The listener listens while requests of its child wait and this long
 * after the last: a child whose clients never wait holds no connection for
 * it and does nothing in the background. */
#define PP_WAKE_IDLE_S 30

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *pp_wake_dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *pp_wake_dbd_close;

/* The child's listener (threaded MPMs only). Generations count the
 * notifications per configured tenant; `all` moves when every tenant may
 * have missed some (a new connection). */
typedef struct {
    apr_pool_t *pool;
    server_rec *s;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    apr_hash_t *gens;      /* tenant name -> apr_uint64_t generation */
    apr_uint64_t all;      /* under mutex, like the generations */
    int up;                /* LISTENing now */
    int waiters;           /* requests of this child waiting now */
    apr_time_t idle_since; /* when the last of them ended */
    volatile apr_uint32_t stop;
    apr_thread_t *thread;
} pp_listener_t;

static pp_listener_t *pp_listener; /* NULL: none in this child */

struct pp_wake_t {
    pp_req_t *rq;
    const char *tenant;
    /* with the listener */
    apr_uint64_t *gen;
    apr_uint64_t seen, seen_all;
    /* on the request's own connection */
    PGconn *conn;
    int backend_pid; /* of the connection LISTEN ran on; 0: not listening */
    int hit;         /* a notification for the tenant arrived since arming */
};

/* Prefork: the waiting request of this child while it sleeps in its wait
 * (and so is inside no pool or connection-pool function). */
static pp_wake_t *volatile pp_wake_sleeping;

int pp_wake_stopping(void)
{
    int state = AP_MPMQ_RUNNING;
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS && state == AP_MPMQ_STOPPING;
}

/* Runs a statement without parameters; non-zero when it succeeded. */
static int pp_wake_exec(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok;
}

/* ---- the listener thread ------------------------------------------------------------------ */

/* Under the mutex. */
static void pp_listener_bump_all(pp_listener_t *l)
{
    l->all++;
    apr_thread_cond_broadcast(l->cond);
}

static void pp_listener_drain(pp_listener_t *l, PGconn *conn)
{
    PGnotify *n;
    int any = 0;

    apr_thread_mutex_lock(l->mutex);
    while ((n = PQnotifies(conn)) != NULL) {
        apr_uint64_t *gen = apr_hash_get(l->gens, n->extra, APR_HASH_KEY_STRING);
        if (gen) {
            (*gen)++;
            any = 1;
        }
        PQfreemem(n);
    }
    if (any) {
        apr_thread_cond_broadcast(l->cond);
    }
    apr_thread_mutex_unlock(l->mutex);
}

/* Under the mutex. */
static int pp_listener_wanted(const pp_listener_t *l)
{
    return l->waiters > 0 || apr_time_now() - l->idle_since < apr_time_from_sec(PP_WAKE_IDLE_S);
}

/* Sleeps ms in slices, returning early when the child exits. */
static void pp_listener_sleep(pp_listener_t *l, int ms)
{
    while (ms > 0 && !apr_atomic_read32(&l->stop)) {
        int step = ms < PP_WAKE_SLICE_MS ? ms : PP_WAKE_SLICE_MS;
        apr_sleep(apr_time_from_msec(step));
        ms -= step;
    }
}

/* Listens on one pooled connection until it breaks or the child exits. */
static int pp_listener_session(pp_listener_t *l, apr_pool_t *p)
{
    ap_dbd_t *dbd = pp_wake_dbd_open(p, l->s);
    PGconn *conn;

    if (!dbd) {
        return 0;
    }
    if (strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0
        || !(conn = apr_dbd_native_handle(dbd->driver, dbd->handle))
        || !pp_wake_exec(conn, "LISTEN pp_events")) {
        pp_wake_dbd_close(l->s, dbd);
        return 0;
    }
    apr_thread_mutex_lock(l->mutex);
    l->up = 1;
    pp_listener_bump_all(l); /* what committed while nobody listened */
    apr_thread_mutex_unlock(l->mutex);
    while (!apr_atomic_read32(&l->stop)) {
        struct pollfd pfd;
        int n;
        pfd.fd = PQsocket(conn);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (pfd.fd < 0) {
            break;
        }
        n = poll(&pfd, 1, PP_WAKE_SLICE_MS);
        if (n < 0 && errno != EINTR) {
            break;
        }
        if (n > 0 && !PQconsumeInput(conn)) {
            break; /* the server went away */
        }
        pp_listener_drain(l, conn);
        if (PQstatus(conn) != CONNECTION_OK) {
            break;
        }
        apr_thread_mutex_lock(l->mutex);
        n = pp_listener_wanted(l);
        apr_thread_mutex_unlock(l->mutex);
        if (!n) {
            break; /* nobody has waited for a while: give the connection back */
        }
    }
    apr_thread_mutex_lock(l->mutex);
    l->up = 0;
    pp_listener_bump_all(l); /* waiters poll until a new connection listens */
    apr_thread_mutex_unlock(l->mutex);
    /* back to the pool as it came: listening to nothing */
    if (PQstatus(conn) == CONNECTION_OK && pp_wake_exec(conn, "UNLISTEN *")) {
        PGnotify *n;
        PQconsumeInput(conn);
        while ((n = PQnotifies(conn)) != NULL) {
            PQfreemem(n);
        }
    }
    pp_wake_dbd_close(l->s, dbd);
    return 1;
}

static void *APR_THREAD_FUNC pp_listener_run(apr_thread_t *thread, void *arg)
{
    pp_listener_t *l = arg;
    int backoff = PP_WAKE_RETRY_MIN_MS, waited = 0;
    (void)thread;

    while (!apr_atomic_read32(&l->stop)) {
        apr_pool_t *p;
        apr_thread_mutex_lock(l->mutex);
        while (!apr_atomic_read32(&l->stop) && !pp_listener_wanted(l)) {
            apr_thread_cond_timedwait(l->cond, l->mutex, apr_time_from_msec(PP_WAKE_SLICE_MS));
        }
        apr_thread_mutex_unlock(l->mutex);
        if (apr_atomic_read32(&l->stop)) {
            break;
        }
        /* while the module knows the database is down, its requests probe
         * it: try only now and then, so an outage costs few log lines */
        if (pp_db_is_down() && waited < PP_WAKE_RETRY_MAX_MS) {
            pp_listener_sleep(l, PP_WAKE_SLICE_MS);
            waited += PP_WAKE_SLICE_MS;
            continue;
        }
        waited = 0;
        apr_pool_create(&p, l->pool);
        if (pp_listener_session(l, p)) {
            backoff = PP_WAKE_RETRY_MIN_MS;
        }
        else {
            backoff = backoff * 2 < PP_WAKE_RETRY_MAX_MS ? backoff * 2 : PP_WAKE_RETRY_MAX_MS;
        }
        apr_pool_destroy(p);
        pp_listener_sleep(l, backoff);
    }
    return NULL;
}

static apr_status_t pp_listener_cleanup(void *arg)
{
    pp_listener_t *l = arg;
    apr_status_t rv;

    apr_atomic_set32(&l->stop, 1);
    apr_thread_join(&rv, l->thread);
    return APR_SUCCESS;
}

/* apachectl stop ends a prefork child from a signal handler, in the middle
 * of whatever request it serves, and mod_dbd's pool of connections, made
 * after the request's pools, is destroyed before them: with a connection
 * still out, apr-util aborts the exit. A request asleep in its wait gives
 * its pool up first, which hands the connection back. */
static apr_status_t pp_wake_child_exit(void *arg)
{
    pp_wake_t *w = pp_wake_sleeping;
    (void)arg;

    if (w) {
        pp_wake_sleeping = NULL;
        apr_pool_destroy(w->rq->r->pool);
    }
    return APR_SUCCESS;
}

void pp_wake_child_init(apr_pool_t *pchild, server_rec *s)
{
    const pp_server_conf_t *conf = pp_config_get(s);
    int threaded = AP_MPMQ_NOT_SUPPORTED, i;
    pp_listener_t *l;
    apr_status_t rv;

    pp_listener = NULL;
    pp_wake_dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    pp_wake_dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded);
    if (threaded == AP_MPMQ_NOT_SUPPORTED) {
        apr_pool_pre_cleanup_register(pchild, NULL, pp_wake_child_exit);
        return;
    }
    if (!pp_wake_dbd_open || !pp_wake_dbd_close) {
        return;
    }
    l = apr_pcalloc(pchild, sizeof(*l));
    apr_pool_create(&l->pool, pchild);
    l->s = s;
    l->gens = apr_hash_make(pchild);
    for (i = 0; i < conf->tenants->tenants->nelts; i++) {
        const pp_tenant_t *t = APR_ARRAY_IDX(conf->tenants->tenants, i, pp_tenant_t *);
        apr_hash_set(l->gens, t->name, APR_HASH_KEY_STRING,
                     apr_pcalloc(pchild, sizeof(apr_uint64_t)));
    }
    if ((rv = apr_thread_mutex_create(&l->mutex, APR_THREAD_MUTEX_DEFAULT, pchild)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&l->cond, pchild)) != APR_SUCCESS
        || (rv = apr_thread_create(&l->thread, NULL, pp_listener_run, l, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     PP_LOGNO(0701) "cannot start the event listener thread; event streams and "
                                    "long-polls of this child look for events once a second");
        return;
    }
    /* before pchild's subpools go: mod_dbd's pool of connections is one,
     * and the thread must have given its connection back by then */
    apr_pool_pre_cleanup_register(pchild, l, pp_listener_cleanup);
    pp_listener = l;
}

/* ---- waiting ---------------------------------------------------------------------------------- */

static void pp_wake_listen(pp_wake_t *w)
{
    w->backend_pid = 0;
    if (w->conn && PQstatus(w->conn) == CONNECTION_OK
        && pp_wake_exec(w->conn, "LISTEN pp_events")) {
        w->backend_pid = PQbackendPID(w->conn);
    }
}

/* Reads what arrived; notes a notification for the tenant. */
static void pp_wake_drain(pp_wake_t *w)
{
    PGnotify *n;

    while ((n = PQnotifies(w->conn)) != NULL) {
        if (strcmp(n->extra, w->tenant) == 0) {
            w->hit = 1;
        }
        PQfreemem(n);
    }
}

/* The connection goes back to mod_dbd's pool listening to nothing (this
 * cleanup is registered after mod_dbd's release, so it runs first). */
static apr_status_t pp_wake_unlisten(void *arg)
{
    pp_wake_t *w = arg;

    if (w->backend_pid && PQstatus(w->conn) == CONNECTION_OK
        && pp_wake_exec(w->conn, "UNLISTEN *")) {
        PQconsumeInput(w->conn);
        pp_wake_drain(w);
    }
    return APR_SUCCESS;
}

/* The request's connection, once it has one (pp_db_request_conn acquires
 * it, the connection the queries then use). */
static void pp_wake_attach(pp_wake_t *w)
{
    if (w->conn || !(w->conn = pp_db_request_conn(w->rq))) {
        return;
    }
    apr_pool_cleanup_register(w->rq->r->pool, w, pp_wake_unlisten, apr_pool_cleanup_null);
    pp_wake_listen(w);
}

static apr_status_t pp_wake_unwant(void *arg)
{
    pp_listener_t *l = arg;

    apr_thread_mutex_lock(l->mutex);
    if (--l->waiters == 0) {
        l->idle_since = apr_time_now();
    }
    apr_thread_mutex_unlock(l->mutex);
    return APR_SUCCESS;
}

pp_wake_t *pp_wake_start(pp_req_t *rq)
{
    pp_wake_t *w = apr_pcalloc(rq->r->pool, sizeof(*w));

    w->rq = rq;
    w->tenant = rq->tenant->name;
    if (pp_listener) {
        w->gen = apr_hash_get(pp_listener->gens, w->tenant, APR_HASH_KEY_STRING);
        apr_thread_mutex_lock(pp_listener->mutex);
        pp_listener->waiters++;
        apr_thread_cond_broadcast(pp_listener->cond); /* the listener may be idle */
        apr_thread_mutex_unlock(pp_listener->mutex);
        apr_pool_cleanup_register(rq->r->pool, pp_listener, pp_wake_unwant, apr_pool_cleanup_null);
    }
    else {
        pp_wake_attach(w);
    }
    return w;
}

void pp_wake_arm(pp_wake_t *w)
{
    if (pp_listener) {
        apr_thread_mutex_lock(pp_listener->mutex);
        w->seen = w->gen ? *w->gen : 0;
        w->seen_all = pp_listener->all;
        apr_thread_mutex_unlock(pp_listener->mutex);
        return;
    }
    pp_wake_attach(w);
    if (w->conn) {
        PQconsumeInput(w->conn);
        pp_wake_drain(w); /* what arrived before this query: the query sees it */
    }
    w->hit = 0;
}

static pp_wake_result_t pp_wake_wait_listener(pp_wake_t *w, apr_time_t until)
{
    pp_listener_t *l = pp_listener;
    apr_time_t now, polled = apr_time_now();
    pp_wake_result_t res;

    apr_thread_mutex_lock(l->mutex);
    for (;;) {
        apr_interval_time_t slice = apr_time_from_msec(PP_WAKE_SLICE_MS);
        if ((w->gen && *w->gen != w->seen) || l->all != w->seen_all) {
            res = PP_WAKE_EVENTS;
            break;
        }
        if (pp_wake_stopping()) {
            res = PP_WAKE_STOPPING;
            break;
        }
        now = apr_time_now();
        if (!l->up && now - polled >= apr_time_from_msec(PP_WAKE_NO_LISTEN_MS)) {
            res = PP_WAKE_EVENTS;
            break;
        }
        if (now >= until) {
            res = PP_WAKE_TIMEOUT;
            break;
        }
        apr_thread_cond_timedwait(l->cond, l->mutex, until - now < slice ? until - now : slice);
    }
    apr_thread_mutex_unlock(l->mutex);
    return res;
}

static pp_wake_result_t pp_wake_wait_own(pp_wake_t *w, apr_time_t until)
{
    apr_time_t polled = apr_time_now();

    for (;;) {
        apr_time_t now;
        struct pollfd pfd;
        int ms, n;

        if (w->conn && PQstatus(w->conn) == CONNECTION_OK
            && PQbackendPID(w->conn) != w->backend_pid) {
            /* the query reconnected (a new server session): listen there,
             * then query again for what committed before it listened */
            pp_wake_listen(w);
            if (w->backend_pid) {
                return PP_WAKE_EVENTS;
            }
        }
        if (w->conn) {
            pp_wake_drain(w);
        }
        if (w->hit) {
            return PP_WAKE_EVENTS;
        }
        if (pp_wake_stopping()) {
            return PP_WAKE_STOPPING;
        }
        now = apr_time_now();
        if (!w->backend_pid && now - polled >= apr_time_from_msec(PP_WAKE_NO_LISTEN_MS)) {
            return PP_WAKE_EVENTS; /* nothing listens: look again now and then */
        }
        if (now >= until) {
            return PP_WAKE_TIMEOUT;
        }
        ms = (int)apr_time_as_msec(until - now) + 1;
        ms = ms < PP_WAKE_SLICE_MS ? ms : PP_WAKE_SLICE_MS;
        pfd.fd = w->backend_pid ? PQsocket(w->conn) : -1;
        pfd.events = POLLIN;
        pfd.revents = 0;
        /* a graceful restart's signal interrupts the poll: looked at above */
        pp_wake_sleeping = w;
        n = pfd.fd >= 0 ? poll(&pfd, 1, ms) : (apr_sleep(apr_time_from_msec(ms)), 0);
        pp_wake_sleeping = NULL;
        if (n > 0 && !PQconsumeInput(w->conn)) {
            w->backend_pid = 0; /* the server went away: the next query reconnects */
            return PP_WAKE_EVENTS;
        }
    }
}

pp_wake_result_t pp_wake_wait(pp_wake_t *w, apr_time_t until)
{
    return pp_listener ? pp_wake_wait_listener(w, until) : pp_wake_wait_own(w, until);
}
