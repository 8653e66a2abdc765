/* The stream: CLOB market-channel WebSocket connections on libwebsockets,
 * on the main thread. Tokens are sharded over connections of at most
 * tokens_per_connection; a shard's tokens change by subscribe/unsubscribe
 * operations on its open socket (or go into the first message of the next
 * connection). A timer every 100 ms drives connects with backoff, the text
 * heartbeat, the freeze watchdog, token re-snapshots and price touches.
 *
 * libwebsockets is not thread-safe: only lws_cancel_service() is called
 * from other threads (pf_stream_wake); everything else happens here. */
#include "pf_feed.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "pp_log.h"
#include "pf_retry.h"

#define PF_TICK_US (100 * LWS_US_PER_MS)

typedef enum {
    PF_CONN_IDLE = 0, /* not connected, nothing scheduled (no tokens) */
    PF_CONN_CONNECTING,
    PF_CONN_SUBSCRIBED, /* first message sent */
    PF_CONN_BACKOFF,
    PF_CONN_CLOSING
} pf_conn_state_t;

static const char *const pf_conn_state_name[] = { "idle", "connecting", "subscribed", "backoff",
                                                  "closing" };

typedef struct pf_msg {
    char *text;
    struct pf_msg *next;
} pf_msg_t;

typedef struct {
    int id;
    pf_strlist_t tokens;
    struct lws *wsi;
    pf_conn_state_t state;
    pf_backoff_t backoff;
    int64_t next_connect_ms;
    int64_t connected_ms;
    int64_t last_data_ms;
    int64_t last_ping_ms;
    int reconnects;
    int generation; /* connections opened so far */
    int verifying;  /* silent: books being compared with REST */
    int64_t silent_since_ms;
    int kill;     /* close from the next callback */
    int got_data; /* since this connection opened */
    pf_msg_t *out_head, *out_tail;
    char *rx;
    size_t rx_len, rx_cap;
} pf_shard_t;

typedef struct {
    pf_feed_t *f;
    const pf_config_t *cfg;
    struct lws_context *ctx;
    lws_sorted_usec_list_t sul;
    char ws_host[256], ws_path[1024];
    int ws_port, ws_tls;
    pf_shard_t **shards;
    int n_shards, cap_shards;
    apr_pool_t *root, *scratch, *frame_pool;
    apr_hash_t *where; /* token id -> pf_shard_t * (keys live in shard lists) */
    int desired_version;
    int64_t last_touch_ms, last_watch_ms, last_health_ms;
    pf_ws_ctx_t wsctx;
} pf_stream_t;

static _Atomic(struct lws_context *) pf_ctx_for_wake;

void pf_stream_wake(void)
{
    struct lws_context *c = atomic_load(&pf_ctx_for_wake);

    if (c) {
        lws_cancel_service(c);
    }
}

/* ---- outgoing messages ---------------------------------------------------- */

static void pf_shard_send(pf_shard_t *s, const char *text)
{
    pf_msg_t *m = calloc(1, sizeof(*m));

    if (!m || !(m->text = strdup(text))) abort();
    if (s->out_tail) s->out_tail->next = m;
    else s->out_head = m;
    s->out_tail = m;
    if (s->wsi) {
        lws_callback_on_writable(s->wsi);
    }
}

static void pf_shard_drop_output(pf_shard_t *s)
{
    while (s->out_head) {
        pf_msg_t *m = s->out_head;
        s->out_head = m->next;
        free(m->text);
        free(m);
    }
    s->out_tail = NULL;
}

/* ---- connections ---------------------------------------------------------- */

static void pf_shard_connect(pf_stream_t *st, pf_shard_t *s)
{
    struct lws_client_connect_info ci;

    memset(&ci, 0, sizeof(ci));
    ci.context = st->ctx;
    ci.address = st->ws_host;
    ci.port = st->ws_port;
    ci.path = st->ws_path;
    ci.host = st->ws_host;
    ci.origin = st->ws_host;
    ci.ssl_connection = st->ws_tls ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = "pf-market";
    ci.opaque_user_data = s;
    ci.retry_and_idle_policy = NULL;

    s->state = PF_CONN_CONNECTING;
    s->generation++;
    s->verifying = 0;
    s->connected_ms = pf_now_ms();
    s->got_data = 0;
    s->kill = 0;
    pf_shard_drop_output(s);
    pp_log(PP_LOG_DEBUG, "ws[%d]: connecting (%d tokens)", s->id, s->tokens.n);
    s->wsi = NULL;
    struct lws *w = lws_client_connect_via_info(&ci);
    if (w && s->state == PF_CONN_CONNECTING) {
        s->wsi = w;
    }
    else if (!w && s->state == PF_CONN_CONNECTING) {
        s->state = PF_CONN_BACKOFF;
        s->next_connect_ms = pf_now_ms() + pf_backoff_next(&s->backoff, (uint32_t)rand());
        pp_log(PP_LOG_WARN, "ws[%d]: cannot start a connection to %s:%d", s->id, st->ws_host,
               st->ws_port);
    }
}

/* The connection ended (error, close, or our own kill): try again later. */
static void pf_shard_lost(pf_stream_t *st, pf_shard_t *s, const char *why)
{
    int64_t d = pf_backoff_next(&s->backoff, (uint32_t)rand());

    if (s->state == PF_CONN_BACKOFF || s->state == PF_CONN_IDLE) {
        return; /* already handled (a close is followed by the destroy) */
    }
    s->wsi = NULL;
    pf_shard_drop_output(s);
    s->rx_len = 0;
    if (atomic_load(&st->f->stopping)) {
        s->state = PF_CONN_IDLE;
        return;
    }
    s->reconnects++;
    pthread_mutex_lock(&st->f->lock);
    st->f->c.reconnects++;
    pthread_mutex_unlock(&st->f->lock);
    s->state = s->tokens.n ? PF_CONN_BACKOFF : PF_CONN_IDLE;
    s->next_connect_ms = pf_now_ms() + d;
    pp_log(PP_LOG_WARN, "ws[%d]: %s; reconnecting in %" APR_INT64_T_FMT " ms", s->id, why, d);
}

static void pf_shard_kill(pf_shard_t *s, const char *why)
{
    if (s->wsi && s->state != PF_CONN_CLOSING) {
        pp_log(PP_LOG_WARN, "ws[%d]: %s: replacing the connection", s->id, why);
        s->state = PF_CONN_CLOSING;
        s->kill = 1;
        lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

/* After (re)subscribing: the stream only sends changes, so re-read the books. */
static void pf_want_snapshots(pf_stream_t *st, const pf_strlist_t *tokens)
{
    int i;

    pthread_mutex_lock(&st->f->lock);
    for (i = 0; i < tokens->n; i++) {
        pf_strlist_push(&st->f->snapshot_wanted, tokens->v[i]);
    }
    pthread_cond_signal(&st->f->wake_rest);
    pthread_mutex_unlock(&st->f->lock);
}

/* ---- frames ----------------------------------------------------------------- */

static void pf_on_resolved(void *baton, const pf_ws_resolved_t *r)
{
    pf_stream_t *st = baton;

    if (!r->condition_id) return;
    /* called with the feed lock held (inside pf_ws_handle_frame) */
    pf_strlist_push(&st->f->resolved_hints, r->condition_id);
    pthread_cond_signal(&st->f->wake_rest);
}

static void pf_on_new_market(void *baton, const pf_market_t *m)
{
    pf_stream_t *st = baton;

    (void)m;
    st->f->new_market_hint = 1;
}

static void pf_shard_frame(pf_stream_t *st, pf_shard_t *s, const char *buf, size_t len)
{
    pf_frame_result_t res;
    pf_ws_stats_t before;
    pf_frame_kind_t kind;
    uint64_t lvl_before;

    if (pf_ws_is_pong(buf, len)) {
        return;
    }
    pthread_mutex_lock(&st->f->lock);
    st->wsctx.now_ms = pf_now_ms();
    before = *st->wsctx.stats;
    lvl_before = pf_book_store_stats(st->f->books)->level_updates;
    kind = pf_ws_handle_frame(st->f->books, st->frame_pool, buf, len, &st->wsctx, &res);
    st->f->c.frames++;
    st->f->c.events += st->wsctx.stats->applied - before.applied;
    st->f->c.level_updates += pf_book_store_stats(st->f->books)->level_updates - lvl_before;
    if (pf_book_store_dirty_count(st->f->books) >= st->cfg->batch_size) {
        pthread_cond_signal(&st->f->wake_writer);
    }
    pthread_mutex_unlock(&st->f->lock);
    apr_pool_clear(st->frame_pool);

    if (kind == PF_FRAME_INVALID) {
        pp_log(PP_LOG_WARN, "ws[%d]: skipped a malformed frame (%zu bytes)", s->id, len);
        return;
    }
    if (kind == PF_FRAME_EVENTS && res.events > 0) {
        s->last_data_ms = pf_now_ms();
        s->verifying = 0;
        if (!s->got_data) {
            s->got_data = 1;
            pf_backoff_reset(&s->backoff);
        }
    }
}

static int pf_shard_rx(pf_stream_t *st, pf_shard_t *s, struct lws *wsi, const void *in, size_t len)
{
    if (s->rx_len + len + 1 > s->rx_cap) {
        size_t cap = s->rx_cap ? s->rx_cap : 65536;
        while (cap < s->rx_len + len + 1) cap *= 2;
        if (cap > 512u * 1024u * 1024u) {
            pp_log(PP_LOG_ERR, "ws[%d]: message over 512 MB: dropping the connection", s->id);
            return -1;
        }
        char *d = realloc(s->rx, cap);
        if (!d) return -1;
        s->rx = d;
        s->rx_cap = cap;
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
        s->rx[s->rx_len] = '\0';
        if (!lws_frame_is_binary(wsi)) {
            pf_shard_frame(st, s, s->rx, s->rx_len);
        }
        s->rx_len = 0;
        if (s->rx_cap > 4u * 1024u * 1024u) { /* an initial dump: do not keep it */
            free(s->rx);
            s->rx = NULL;
            s->rx_cap = 0;
        }
    }
    return 0;
}

static int pf_shard_writeable(pf_stream_t *st, pf_shard_t *s, struct lws *wsi)
{
    pf_msg_t *m = s->out_head;
    size_t len;
    unsigned char *buf;
    int n;

    if (s->kill) {
        return -1;
    }
    if (!m) {
        return 0;
    }
    len = strlen(m->text);
    buf = malloc(LWS_PRE + len);
    if (!buf) return -1;
    memcpy(buf + LWS_PRE, m->text, len);
    n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
    free(buf);
    if (n < (int)len) {
        pp_log(PP_LOG_WARN, "ws[%d]: write failed", s->id);
        return -1;
    }
    s->out_head = m->next;
    if (!s->out_head) s->out_tail = NULL;
    free(m->text);
    free(m);
    if (s->out_head) {
        lws_callback_on_writable(wsi);
    }
    (void)st;
    return 0;
}

/* Whether wsi is the shard's current connection (or the one it is opening:
 * a failure can be reported before lws_client_connect_via_info returns). */
static int pf_is_current(const pf_shard_t *s, const struct lws *wsi)
{
    return s && (s->wsi == wsi || (!s->wsi && s->state == PF_CONN_CONNECTING));
}

static int pf_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    pf_stream_t *st = (pf_stream_t *)lws_context_user(lws_get_context(wsi));
    pf_shard_t *s = wsi ? (pf_shard_t *)lws_get_opaque_user_data(wsi) : NULL;

    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
        const char *msg;
        if (!pf_is_current(s, wsi)) return -1;
        s->wsi = wsi;
        apr_pool_clear(st->scratch);
        msg = pf_ws_subscribe_msg(st->scratch, (const char *const *)s->tokens.v, s->tokens.n);
        if (!msg) {
            pp_log(PP_LOG_ERR, "ws[%d]: cannot build the subscribe message", s->id);
            return -1;
        }
        pf_shard_send(s, msg);
        s->state = PF_CONN_SUBSCRIBED;
        s->last_data_ms = pf_now_ms();
        s->last_ping_ms = pf_now_ms();
        pp_log(PP_LOG_INFO, "ws[%d]: connected, subscribing %d tokens", s->id, s->tokens.n);
        pf_want_snapshots(st, &s->tokens);
        break;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!pf_is_current(s, wsi) || s->kill) return -1;
        return pf_shard_rx(st, s, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!pf_is_current(s, wsi)) return -1;
        return pf_shard_writeable(st, s, wsi);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (pf_is_current(s, wsi)) {
            pf_shard_lost(st, s,
                          apr_psprintf(st->scratch, "connection failed: %s",
                                       in ? (const char *)in : "unknown error"));
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (pf_is_current(s, wsi)) {
            pf_shard_lost(st, s, s->kill ? "closed (replaced)" : "closed by the server");
        }
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (pf_is_current(s, wsi)) {
            pf_shard_lost(st, s, "connection dropped");
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols pf_protocols[] = {
    { "pf-market", pf_callback, 0, 65536, 0, NULL, 0 }, { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- shards ------------------------------------------------------------------- */

static pf_shard_t *pf_shard_new(pf_stream_t *st)
{
    pf_shard_t *s = calloc(1, sizeof(*s));

    if (!s) abort();
    if (st->n_shards == st->cap_shards) {
        int cap = st->cap_shards ? st->cap_shards * 2 : 8;
        pf_shard_t **v = realloc(st->shards, (size_t)cap * sizeof(*v));
        if (!v) abort();
        st->shards = v;
        st->cap_shards = cap;
    }
    s->id = st->n_shards;
    pf_backoff_init(&s->backoff, st->cfg->backoff_min_ms, st->cfg->backoff_max_ms);
    st->shards[st->n_shards++] = s;
    return s;
}

/* The desired list holds each market's two tokens side by side: a shard
 * takes tokens in pairs (an odd limit leaves one place empty), so a market
 * is never split over two connections. */
static int pf_shard_has_room(const pf_shard_t *s, int cap)
{
    if (cap < 2) {
        return s->tokens.n < cap;
    }
    return s->tokens.n < cap - 1 || (s->tokens.n < cap && s->tokens.n % 2);
}

/* Applies the REST thread's latest token set: removals first (freeing room),
 * then additions into the emptiest shards. */
static void pf_apply_desired(pf_stream_t *st)
{
    pf_strlist_t want = { 0 };
    apr_hash_t *wanted;
    int version, i, j;
    apr_pool_t *p = st->scratch;

    pthread_mutex_lock(&st->f->lock);
    version = st->f->desired_version;
    if (version == st->desired_version) {
        pthread_mutex_unlock(&st->f->lock);
        return;
    }
    for (i = 0; i < st->f->desired.n; i++) {
        pf_strlist_push(&want, st->f->desired.v[i]);
    }
    pthread_mutex_unlock(&st->f->lock);
    st->desired_version = version;
    apr_pool_clear(p);
    wanted = apr_hash_make(p);
    for (i = 0; i < want.n; i++) {
        apr_hash_set(wanted, want.v[i], APR_HASH_KEY_STRING, "");
    }

    for (i = 0; i < st->n_shards; i++) {
        pf_shard_t *s = st->shards[i];
        pf_strlist_t gone = { 0 };
        for (j = 0; j < s->tokens.n;) {
            if (!apr_hash_get(wanted, s->tokens.v[j], APR_HASH_KEY_STRING)) {
                apr_hash_set(st->where, s->tokens.v[j], APR_HASH_KEY_STRING, NULL);
                pf_strlist_push(&gone, s->tokens.v[j]);
                free(s->tokens.v[j]);
                s->tokens.v[j] = s->tokens.v[--s->tokens.n];
            }
            else {
                j++;
            }
        }
        if (gone.n && s->state == PF_CONN_SUBSCRIBED) {
            const char *msg = pf_ws_operation_msg(p, 0, (const char *const *)gone.v, gone.n);
            if (msg) pf_shard_send(s, msg);
        }
        if (!s->tokens.n && s->wsi) {
            pp_log(PP_LOG_INFO, "ws[%d]: no tokens left: closing", s->id);
            s->state = PF_CONN_CLOSING;
            s->kill = 1;
            lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        else if (!s->tokens.n) {
            s->state = PF_CONN_IDLE;
        }
        pf_strlist_clear(&gone);
        free(gone.v);
    }

    /* additions, grouped per shard */
    for (i = 0; i < want.n;) {
        pf_shard_t *best = NULL;
        pf_strlist_t added = { 0 };
        int k;

        if (apr_hash_get(st->where, want.v[i], APR_HASH_KEY_STRING)) {
            i++;
            continue;
        }
        for (k = 0; k < st->n_shards; k++) {
            pf_shard_t *s = st->shards[k];
            if (s->state != PF_CONN_CLOSING && pf_shard_has_room(s, st->cfg->tokens_per_connection)
                && (!best || s->tokens.n < best->tokens.n)) {
                best = s;
            }
        }
        if (!best) {
            best = pf_shard_new(st);
        }
        for (; i < want.n && pf_shard_has_room(best, st->cfg->tokens_per_connection); i++) {
            if (apr_hash_get(st->where, want.v[i], APR_HASH_KEY_STRING)) continue;
            pf_strlist_push(&best->tokens, want.v[i]);
            apr_hash_set(st->where, best->tokens.v[best->tokens.n - 1], APR_HASH_KEY_STRING, best);
            pf_strlist_push(&added, want.v[i]);
        }
        if (added.n && best->state == PF_CONN_SUBSCRIBED) {
            const char *msg = pf_ws_operation_msg(p, 1, (const char *const *)added.v, added.n);
            if (msg) pf_shard_send(best, msg);
            pf_want_snapshots(st, &added);
        }
        else if (best->state == PF_CONN_IDLE) {
            best->state = PF_CONN_BACKOFF;
            best->next_connect_ms = 0;
        }
        pf_strlist_clear(&added);
        free(added.v);
    }
    pf_strlist_clear(&want);
    free(want.v);
}

/* Quiet tokens on healthy connections: their price is current, so it is
 * confirmed in the database (quiet markets must not go stale). Tokens with
 * an event within touch_interval were written by a batch anyway. */
static void pf_touch(pf_stream_t *st, int64_t now)
{
    pf_job_t *j;
    char *json, *p;
    size_t cap = 2;
    int i, k, n = 0;

    for (i = 0; i < st->n_shards; i++) {
        cap += (size_t)st->shards[i]->tokens.n * (PF_TOKEN_ID_BUF + 4);
    }
    json = malloc(cap + 1);
    if (!json) abort();
    p = json;
    *p++ = '[';
    pthread_mutex_lock(&st->f->lock);
    for (i = 0; i < st->n_shards; i++) {
        pf_shard_t *s = st->shards[i];
        if (s->state != PF_CONN_SUBSCRIBED || !s->got_data
            || now - s->last_data_ms > st->cfg->stale_after_ms) {
            continue;
        }
        for (k = 0; k < s->tokens.n; k++) {
            pf_book_t *b = pf_book_store_get(st->f->books, s->tokens.v[k]);
            pf_quote_t q;
            if (!b) continue;
            pf_book_quote(b, &q);
            if (!q.has_snapshot && !(q.known & PF_DIRTY_BEST)) continue;
            if (now - q.updated_ms < st->cfg->touch_ms) continue;
            p += sprintf(p, "%s\"%s\"", n ? "," : "", s->tokens.v[k]);
            n++;
        }
    }
    *p++ = ']';
    *p = '\0';
    if (n && (st->f->role == PF_ROLE_ACTIVE)) {
        j = calloc(1, sizeof(*j));
        if (!j) abort();
        j->kind = PF_JOB_TOUCH;
        j->json = json;
        pf_feed_push_job_locked(st->f, j);
        json = NULL;
    }
    pthread_mutex_unlock(&st->f->lock);
    free(json);
}

/* Tokens silent for token_resnapshot_after on a healthy connection: re-read. */
static void pf_watch_tokens(pf_stream_t *st, int64_t now)
{
    pf_strlist_t stale = { 0 };
    int i, k;

    pthread_mutex_lock(&st->f->lock);
    for (i = 0; i < st->n_shards; i++) {
        pf_shard_t *s = st->shards[i];
        if (s->state != PF_CONN_SUBSCRIBED
            || now - s->connected_ms < st->cfg->token_resnapshot_ms) {
            continue;
        }
        for (k = 0; k < s->tokens.n; k++) {
            pf_book_t *b = pf_book_store_get(st->f->books, s->tokens.v[k]);
            pf_quote_t q;
            if (!b) continue;
            pf_book_quote(b, &q);
            if (now - q.updated_ms > st->cfg->token_resnapshot_ms) {
                pf_strlist_push(&stale, s->tokens.v[k]);
            }
        }
    }
    pthread_mutex_unlock(&st->f->lock);
    if (stale.n) {
        pp_log(PP_LOG_INFO,
               "%d tokens without events for %" APR_INT64_T_FMT " s: re-reading "
               "their books",
               stale.n, st->cfg->token_resnapshot_ms / 1000);
        pf_want_snapshots(st, &stale);
    }
    pf_strlist_clear(&stale);
    free(stale.v);
}

static void pf_publish_connections(pf_stream_t *st, int64_t now)
{
    size_t cap = 64 + (size_t)st->n_shards * 160;
    char *json = malloc(cap), *p = json;
    int i;

    if (!json) abort();
    *p++ = '[';
    for (i = 0; i < st->n_shards; i++) {
        pf_shard_t *s = st->shards[i];
        char age[32] = "null";
        if (s->got_data) snprintf(age, sizeof(age), "%" APR_INT64_T_FMT, now - s->last_data_ms);
        p += snprintf(p, cap - (size_t)(p - json),
                      "%s{\"id\":%d,\"state\":\"%s\",\"tokens\":%d,\"last_data_age_ms\":%s,"
                      "\"reconnects\":%d}",
                      i ? "," : "", s->id, pf_conn_state_name[s->state], s->tokens.n, age,
                      s->reconnects);
    }
    *p++ = ']';
    *p = '\0';
    pthread_mutex_lock(&st->f->lock);
    free(st->f->connections_json);
    st->f->connections_json = json;
    pthread_mutex_unlock(&st->f->lock);
}

/* A subscribed connection without data for stale_after: quiet markets, or
 * a silent freeze (the socket still answers PONG). The REST thread compares
 * its books with /books and answers in verify_results. */
static void pf_shard_verify(pf_stream_t *st, pf_shard_t *s, int64_t now)
{
    pf_verify_t *v = calloc(1, sizeof(*v));
    int i;

    if (!v) abort();
    v->shard = s->id;
    v->generation = s->generation;
    for (i = 0; i < s->tokens.n; i++) {
        pf_strlist_push(&v->tokens, s->tokens.v[i]);
    }
    s->verifying = 1;
    s->silent_since_ms = now;
    pp_log(PP_LOG_DEBUG,
           "ws[%d]: no data for %" APR_INT64_T_FMT " ms: comparing its books "
           "with REST",
           s->id, now - s->last_data_ms);
    pthread_mutex_lock(&st->f->lock);
    v->next = st->f->verify_requests;
    st->f->verify_requests = v;
    pthread_cond_signal(&st->f->wake_rest);
    pthread_mutex_unlock(&st->f->lock);
}

static void pf_take_verifications(pf_stream_t *st, int64_t now)
{
    pf_verify_t *v, *next;

    pthread_mutex_lock(&st->f->lock);
    v = st->f->verify_results;
    st->f->verify_results = NULL;
    pthread_mutex_unlock(&st->f->lock);
    for (; v; v = next) {
        next = v->next;
        if (v->shard < st->n_shards) {
            pf_shard_t *s = st->shards[v->shard];
            if (s->generation == v->generation && s->verifying && s->state == PF_CONN_SUBSCRIBED) {
                s->verifying = 0;
                if (v->changed) {
                    pf_shard_kill(s, "its books changed on REST while it was silent (frozen)");
                }
                else {
                    s->last_data_ms = now; /* quiet, and current */
                }
            }
        }
        pf_verify_free(v);
    }
}

static void pf_tick(lws_sorted_usec_list_t *sul)
{
    pf_stream_t *st = lws_container_of(sul, pf_stream_t, sul);
    int64_t now = pf_now_ms();
    pf_role_t role;
    int i;

    pthread_mutex_lock(&st->f->lock);
    role = st->f->role;
    pthread_mutex_unlock(&st->f->lock);

    pf_apply_desired(st);
    pf_take_verifications(st, now);
    for (i = 0; i < st->n_shards; i++) {
        pf_shard_t *s = st->shards[i];
        switch (s->state) {
        case PF_CONN_BACKOFF:
            if (now >= s->next_connect_ms && s->tokens.n
                && (role == PF_ROLE_ACTIVE || role == PF_ROLE_RECOVERING)) {
                pf_shard_connect(st, s);
            }
            break;
        case PF_CONN_CONNECTING:
            if (now - s->connected_ms > st->cfg->http_timeout_ms) {
                pf_shard_kill(s, "connection attempt timed out");
            }
            break;
        case PF_CONN_SUBSCRIBED:
            if (now - s->last_ping_ms >= st->cfg->heartbeat_ms) {
                s->last_ping_ms = now;
                pf_shard_send(s, PF_WS_PING);
            }
            if (!s->verifying && now - s->last_data_ms > st->cfg->stale_after_ms) {
                pf_shard_verify(st, s, now);
            }
            else if (s->verifying && now - s->silent_since_ms > 2 * st->cfg->stale_after_ms) {
                pf_shard_kill(s, apr_psprintf(st->scratch,
                                              "no data for %" APR_INT64_T_FMT
                                              " ms and no REST answer to compare with",
                                              now - s->last_data_ms));
            }
            break;
        default:
            break;
        }
    }
    if (now - st->last_touch_ms >= st->cfg->touch_ms) {
        st->last_touch_ms = now;
        pf_touch(st, now);
    }
    if (now - st->last_watch_ms >= 1000) {
        st->last_watch_ms = now;
        pf_watch_tokens(st, now);
    }
    if (now - st->last_health_ms >= 500) {
        st->last_health_ms = now;
        pf_publish_connections(st, now);
    }
    if (!atomic_load(&st->f->stopping)) {
        lws_sul_schedule(st->ctx, 0, &st->sul, pf_tick, PF_TICK_US);
    }
}

static void pf_lws_log(int level, const char *line)
{
    size_t n = strlen(line);

    while (n && (line[n - 1] == '\n')) n--;
    pp_log(level & LLL_ERR ? PP_LOG_WARN : PP_LOG_DEBUG, "lws: %.*s", (int)n, line);
}

int pf_stream_run(pf_feed_t *f)
{
    struct lws_context_creation_info info;
    pf_stream_t st;
    char url[2048];
    const char *proto, *addr, *path;
    int port, i;

    memset(&st, 0, sizeof(st));
    st.f = f;
    st.cfg = f->cfg;
    apr_pool_create(&st.root, NULL);
    apr_pool_create(&st.scratch, st.root);
    apr_pool_create(&st.frame_pool, st.root);
    st.where = apr_hash_make(st.root);
    st.wsctx.on_market_resolved = pf_on_resolved;
    st.wsctx.on_new_market = pf_on_new_market;
    st.wsctx.baton = &st;
    st.wsctx.stats = calloc(1, sizeof(pf_ws_stats_t));
    if (!st.wsctx.stats) abort();

    apr_cpystrn(url, f->cfg->ws_url, sizeof(url));
    if (lws_parse_uri(url, &proto, &addr, &port, &path)) {
        pp_log(PP_LOG_ERR, "ws_url %s cannot be parsed", f->cfg->ws_url);
        return -1;
    }
    st.ws_tls = strcmp(proto, "wss") == 0;
    st.ws_port = port;
    apr_cpystrn(st.ws_host, addr, sizeof(st.ws_host));
    snprintf(st.ws_path, sizeof(st.ws_path), "/%s", path);

    lws_set_log_level(LLL_ERR | LLL_WARN, pf_lws_log);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = pf_protocols;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    info.user = &st;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.fd_limit_per_thread = 1024;
    st.ctx = lws_create_context(&info);
    if (!st.ctx) {
        pp_log(PP_LOG_ERR, "libwebsockets: cannot create a context");
        return -1;
    }
    atomic_store(&pf_ctx_for_wake, st.ctx);
    lws_sul_schedule(st.ctx, 0, &st.sul, pf_tick, 1);

    while (!atomic_load(&f->stopping)) {
        if (lws_service(st.ctx, 0) < 0) {
            break;
        }
    }

    atomic_store(&pf_ctx_for_wake, NULL);
    lws_context_destroy(st.ctx);
    for (i = 0; i < st.n_shards; i++) {
        pf_shard_drop_output(st.shards[i]);
        pf_strlist_clear(&st.shards[i]->tokens);
        free(st.shards[i]->tokens.v);
        free(st.shards[i]->rx);
        free(st.shards[i]);
    }
    free(st.shards);
    free(st.wsctx.stats);
    apr_pool_destroy(st.root);
    return 0;
}
