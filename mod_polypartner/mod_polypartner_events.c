/* The tenant event feed: GET /v1/partner/events (a page, or a long-poll
 * with wait) and GET /v1/partner/events/stream (Server-Sent Events). Both
 * run the route's one statement (api.pp_list_events) as often as they
 * need; waiting is mod_polypartner_wake.c's, and the number of requests
 * waiting at once is bounded per tenant and per server (pp_waiters, in
 * memory shared by every child). */
#include "mod_polypartner_events.h"
#include "mod_polypartner_db.h"
#include "mod_polypartner_endpoint.h"
#include "mod_polypartner_wake.h"
#include "pp_events.h"
#include "pp_waiters.h"

#include <ap_mpm.h>
#include <apr_portable.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

APLOG_USE_MODULE(polypartner);

/* A waiting request's slot stops counting when it has not been refreshed
 * for this long (its process died); a live one refreshes it at least once
 * a heartbeat, or after a write that took up to httpd's Timeout. */
#define PP_EVENTS_STALE_S 600
/* How long EventSource clients wait before they reconnect. */
#define PP_EVENTS_RETRY_MS "1000"

static pp_waiters_t *pp_events_waiters;
static int pp_events_default_limit; /* a quarter of MaxRequestWorkers */

void pp_events_init(apr_pool_t *pconf, server_rec *s)
{
    int daemons = 0, threads = 0, max_daemons = 0, per_child = 0, workers;
    apr_size_t size;
    apr_shm_t *shm;
    apr_status_t rv;

    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons);
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &threads);
    ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &max_daemons);
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &per_child);
    workers = max_daemons * (per_child > 0 ? per_child : 1);
    pp_events_default_limit = workers / 4 > 2 ? workers / 4 : 2;
    pp_events_waiters = NULL;
    if (daemons <= 0 || threads <= 0) {
        return;
    }
    size = pp_waiters_size((unsigned)(daemons * threads));
    /* anonymous: inherited by every child forked from this generation */
    if ((rv = apr_shm_create(&shm, size, NULL, pconf)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     PP_LOGNO(0702) "no shared memory for the bound on event streams and "
                                    "long-polls (%" APR_SIZE_T_FMT " bytes); they are not bounded",
                     size);
        return;
    }
    memset(apr_shm_baseaddr_get(shm), 0, size);
    pp_events_waiters = pp_waiters_attach(apr_shm_baseaddr_get(shm), (unsigned)(daemons * threads));
}

void pp_events_child_init(apr_pool_t *pchild, server_rec *s)
{
    pp_wake_child_init(pchild, s);
}

/* ---- the bound on waiting requests ---------------------------------------------------------- */

typedef struct {
    pp_req_t *rq;
    unsigned slot;
} pp_events_seat_t;

static apr_status_t pp_events_leave(void *arg)
{
    pp_events_seat_t *seat = arg;
    pp_waiters_leave(pp_events_waiters, seat->slot);
    return APR_SUCCESS;
}

/* The tenant's place in the configuration, its index in the table. */
static unsigned pp_events_tenant_index(pp_req_t *rq)
{
    const apr_array_header_t *all = rq->conf->tenants->tenants;
    int i;

    for (i = 0; i < all->nelts; i++) {
        if (APR_ARRAY_IDX(all, i, const pp_tenant_t *) == rq->tenant) {
            return (unsigned)i;
        }
    }
    return PP_WAITERS_MAX_TENANT + 1; /* not counted (cannot happen) */
}

/* Takes a place among the waiting requests for the rest of the request;
 * 0 when refused (the answer is sent, *rc). */
static int pp_events_admit(pp_req_t *rq, pp_events_seat_t **out, int *rc)
{
    int server = pp_config_event_server_limit(rq->conf, pp_events_default_limit);
    int tenant = pp_config_event_tenant_limit(rq->conf, pp_events_default_limit);
    pp_events_seat_t *seat = apr_pcalloc(rq->r->pool, sizeof(*seat));

    seat->rq = rq;
    seat->slot = pp_http_worker_slot(rq->r);
    switch (pp_waiters_enter(pp_events_waiters, seat->slot, pp_events_tenant_index(rq),
                             apr_time_now(), (unsigned)tenant, (unsigned)server,
                             apr_time_from_sec(PP_EVENTS_STALE_S))) {
    case PP_WAITERS_TENANT_FULL:
        apr_table_setn(rq->r->headers_out, "Retry-After",
                       apr_itoa(rq->r->pool, pp_config_retry_after(rq->conf)));
        *rc = pp_http_send_error(
            rq, PP_ERR_RATE_LIMIT_EXCEEDED,
            apr_psprintf(rq->r->pool,
                         "your tenant already holds %d event streams and waiting long-polls "
                         "(PolyPartnerEventWaitLimit); close one, or poll without wait",
                         tenant));
        return 0;
    case PP_WAITERS_SERVER_FULL:
        *rc = pp_http_send_error(rq, PP_ERR_SERVICE_UNAVAILABLE,
                                 "the server holds as many event streams and waiting long-polls "
                                 "as it may; retry shortly");
        return 0;
    case PP_WAITERS_ADMITTED:
        break;
    }
    apr_pool_cleanup_register(rq->r->pool, seat, pp_events_leave, apr_pool_cleanup_null);
    *out = seat;
    return 1;
}

static void pp_events_touch(pp_events_seat_t *seat)
{
    if (seat) {
        pp_waiters_touch(pp_events_waiters, seat->slot, apr_time_now());
    }
}

/* ---- one page ------------------------------------------------------------------------------- */

/* A page after the position `after` (decimal text). Runs the route's
 * statement with its strings in pool, not the request's: a stream may query
 * for hours. Returns 1 with cols; 0 when the call failed (the answer is
 * sent, or only logged while streaming: *rc). */
static int pp_events_query(pp_req_t *rq, apr_pool_t *pool, const char *after, const char **cols,
                           int *rc)
{
    request_rec *r = rq->r;
    apr_pool_t *request_pool = r->pool;
    int ok;

    /* setn: a stream must not copy its position into the request pool at
     * every query (the caller keeps `after` alive) */
    if (after) {
        apr_table_setn(rq->values, "after_1", after);
    }
    else {
        apr_table_unset(rq->values, "after_1");
    }
    r->pool = pool;
    ok = pp_endpoint_call(rq, 4, cols, rc);
    r->pool = request_pool;
    return ok;
}

/* A successful page: (200, data, next position, more). */
static int pp_events_ok(const char **cols)
{
    return pp_db_status(cols[0]) == 200 && cols[1] && cols[2] && cols[3];
}

/* The cursor after position `after`: its second slot must be positive, so
 * it carries the next id (only the first is read back). */
static const char *pp_events_cursor(pp_req_t *rq, apr_pool_t *pool, const char *after)
{
    apr_pool_t *request_pool = rq->r->pool;
    const char *cursor;

    rq->r->pool = pool;
    cursor = pp_endpoint_cursor_out(rq, after,
                                    apr_psprintf(pool, "%" APR_INT64_T_FMT, apr_atoi64(after) + 1));
    rq->r->pool = request_pool;
    return cursor;
}

int pp_events_page(pp_req_t *rq)
{
    const char *cols[4], *after, *cursor;
    pp_events_seat_t *seat = NULL;
    pp_wake_t *w = NULL;
    apr_time_t until;
    int rc = OK, wait_s;

    if (!pp_endpoint_prepare(rq, &rc) || !pp_endpoint_cursor_in(rq, rq->in.cursor, &rc)) {
        return rc;
    }
    after = apr_table_get(rq->values, "after_1"); /* NULL: from the oldest kept event */
    wait_s = rq->r->header_only ? 0 : atoi(apr_table_get(rq->values, "wait"));
    if (wait_s > 0) {
        if (!pp_events_admit(rq, &seat, &rc)) {
            return rc;
        }
        w = pp_wake_start(rq);
    }
    until = apr_time_now() + apr_time_from_sec(wait_s);
    for (;;) {
        if (w) {
            pp_wake_arm(w);
        }
        if (!pp_events_query(rq, rq->r->pool, after, cols, &rc)) {
            return rc;
        }
        if (!pp_events_ok(cols)) {
            return pp_db_send_row(rq, cols);
        }
        after = cols[2];
        if (!w || strcmp(cols[1], "[]") != 0 || apr_time_now() >= until) {
            break;
        }
        /* only filtered-out events so far: read on at once */
        if (strcmp(cols[3], "t") == 0) {
            continue;
        }
        if (pp_wake_wait(w, until) != PP_WAKE_EVENTS) {
            break;
        }
        pp_events_touch(seat);
    }
    if (!(cursor = pp_events_cursor(rq, rq->r->pool, after))) {
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    return pp_endpoint_send_page(rq, cols[1], cursor);
}

/* ---- the stream ------------------------------------------------------------------------------- */

/* Has the client closed the connection? An event-stream client sends
 * nothing after its request, so a readable socket that reads end of file
 * is a client that went away: its place is given back at once, not at the
 * next write. (Under TLS the close arrives as data first: then the next
 * heartbeat's write finds it.) */
static int pp_events_client_gone(request_rec *r)
{
    apr_socket_t *sock = ap_get_conn_socket(r->connection);
    apr_os_sock_t fd;
    struct pollfd pfd;
    char c;

    if (r->connection->aborted) {
        return 1;
    }
    if (!sock || apr_os_sock_get(&fd, sock) != APR_SUCCESS) {
        return 0;
    }
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) <= 0) {
        return 0;
    }
    return (pfd.revents & (POLLHUP | POLLERR)) || recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Writes and flushes; 0 once the client is gone. */
static int pp_events_send(request_rec *r, const char *text, apr_size_t len)
{
    if (ap_rwrite(text, (int)len, r) < 0 || ap_rflush(r) < 0) {
        return 0;
    }
    return !r->connection->aborted;
}

/* Sends a page's events, each with the cursor after it as its id, in one
 * write; `after` gets the position after the page. 0 when the stream must
 * end. */
static int pp_events_send_page(pp_req_t *rq, apr_pool_t *pool, const char **cols, char *after,
                               apr_size_t after_size)
{
    apr_size_t pos = 0, len = strlen(cols[1]);
    apr_array_header_t *parts = apr_array_make(pool, 16, sizeof(struct iovec));
    apr_size_t total = 0;
    pp_event_t ev;
    char *text, *t;
    int k;

    while ((k = pp_events_next(pool, cols[1], len, &pos, &ev)) == 1) {
        const char *id = pp_events_cursor(rq, pool, ev.event_id);
        struct iovec *part = apr_array_push(parts);
        if (!id) {
            return 0;
        }
        part->iov_base = (void *)pp_events_sse_message(pool, id, ev.json, ev.len, &part->iov_len);
        total += part->iov_len;
    }
    if (k < 0) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0703) "the event page is not a list of events");
        return 0;
    }
    apr_cpystrn(after, cols[2], after_size);
    if (parts->nelts == 0) {
        return 1;
    }
    text = t = apr_palloc(pool, total);
    for (k = 0; k < parts->nelts; k++) {
        const struct iovec *part = &APR_ARRAY_IDX(parts, k, struct iovec);
        memcpy(t, part->iov_base, part->iov_len);
        t += part->iov_len;
    }
    return pp_events_send(rq->r, text, total);
}

int pp_events_stream(pp_req_t *rq)
{
    request_rec *r = rq->r;
    const char *cols[4], *resume;
    char after[24] = "";
    pp_events_seat_t *seat = NULL;
    apr_interval_time_t beat;
    apr_time_t next_beat;
    apr_pool_t *pool;
    pp_wake_t *w = NULL;
    int rc = OK;

    if (!pp_endpoint_prepare(rq, &rc)) {
        return rc;
    }
    /* an EventSource reconnecting sends the id of the last event it got,
     * which is newer than the cursor in the URL it first opened */
    resume = apr_table_get(r->headers_in, "Last-Event-ID");
    if (!pp_endpoint_cursor_in(rq, resume && *resume ? resume : rq->in.cursor, &rc)) {
        return rc;
    }
    if (apr_table_get(rq->values, "after_1")) {
        apr_cpystrn(after, apr_table_get(rq->values, "after_1"), sizeof(after));
    }
    if (!r->header_only) {
        if (!pp_events_admit(rq, &seat, &rc)) {
            return rc;
        }
        w = pp_wake_start(rq);
        pp_wake_arm(w);
    }
    /* the first page is read before anything is sent: its errors (404,
     * 410, 503) are still answers in the envelope */
    if (!pp_events_query(rq, r->pool, *after ? after : NULL, cols, &rc)) {
        return rc;
    }
    if (!pp_events_ok(cols)) {
        return pp_db_send_row(rq, cols);
    }
    pp_http_finish_body(rq);
    r->status = 200;
    ap_set_content_type(r, "text/event-stream");
    apr_table_setn(r->headers_out, "X-Request-Id", rq->request_id);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no"); /* proxies: do not buffer */
    if (r->header_only) {
        return OK;
    }
    rq->streaming = 1;
    beat = apr_time_from_sec(pp_config_event_heartbeat(rq->conf));
    apr_pool_create(&pool, r->pool);
    if (!pp_events_send(r, "retry: " PP_EVENTS_RETRY_MS "\n\n", 8 + strlen(PP_EVENTS_RETRY_MS))
        || !pp_events_send_page(rq, pool, cols, after, sizeof(after))) {
        return OK;
    }
    next_beat = apr_time_now() + beat;
    for (;;) {
        int more = strcmp(cols[3], "t") == 0;
        apr_pool_clear(pool);
        pp_events_touch(seat);
        while (!more) {
            /* a quarter second at most, to notice a client that went away */
            apr_time_t until = apr_time_now() + apr_time_from_msec(250);
            pp_wake_result_t woke = pp_wake_wait(w, until < next_beat ? until : next_beat);
            if (woke == PP_WAKE_STOPPING) {
                /* a graceful restart: end cleanly, the client resumes */
                return OK;
            }
            if (woke == PP_WAKE_EVENTS) {
                break;
            }
            if (pp_events_client_gone(r)) {
                return OK;
            }
            if (apr_time_now() >= next_beat) {
                if (!pp_events_send(r, ": heartbeat\n\n", 13)) {
                    return OK;
                }
                next_beat = apr_time_now() + beat;
            }
            pp_events_touch(seat);
        }
        if (pp_wake_stopping()) {
            return OK;
        }
        pp_wake_arm(w);
        /* a failed call (the database went away for longer than its
         * reconnect wait) ends the stream: the client resumes */
        if (!pp_events_query(rq, pool, after, cols, &rc) || !pp_events_ok(cols)
            || !pp_events_send_page(rq, pool, cols, after, sizeof(after))) {
            return OK;
        }
        if (strcmp(cols[1], "[]") != 0) {
            next_beat = apr_time_now() + beat;
        }
    }
}
