/* The REST thread: Gamma discovery, CLOB /books snapshots, lookups of
 * markets that left the open listing, and resolution checks. Requests go
 * through one libcurl handle (kept-alive connections); each API (Gamma,
 * CLOB) has its own backoff and Retry-After gate, so a rate limit on one
 * never stalls the other. */
#include "pf_feed.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pf_gamma.h"
#include "pp_log.h"
#include "pf_retry.h"

#define PF_BOOKS_PER_REQUEST 500
#define PF_MAX_BODY          (256u * 1024u * 1024u)

enum { PF_API_GAMMA = 0, PF_API_CLOB = 1 };
static const char *const pf_api_name[] = { "gamma", "clob" };

typedef enum {
    PF_MKT_TRACKED = 0, /* streamed */
    PF_MKT_CLOSED,      /* closed: waiting for resolution */
    PF_MKT_SETTLED,
    PF_MKT_UNTRACKED /* open elsewhere but not tradable, or unknown to Gamma */
} pf_mkt_state_t;

typedef struct {
    char *condition_id;
    char *gamma_id; /* NULL when only known from the database */
    char *tokens[2];
    char *signature; /* question|slug|tokens: upsert again when it changes */
    pf_mkt_state_t state;
    int seen; /* in the current discovery run */
    int settling;
    int64_t next_check_ms;
} pf_mkt_t;

typedef struct {
    char *data;
    size_t len, cap;
    int too_big;
} pf_body_t;

typedef struct {
    pf_feed_t *f;
    const pf_config_t *cfg;
    CURL *curl;
    pf_body_t body;
    char retry_after[128];
    int64_t not_before[2];
    pf_backoff_t backoff[2];
    apr_pool_t *root, *scratch;
    apr_hash_t *markets; /* condition id -> pf_mkt_t (malloc'd) */
    int epoch;           /* leader_epoch our state belongs to */
    int db_markets_epoch;
    int64_t next_discovery_ms;
    int64_t next_resolution_ms;
    int discovered_once;
    pf_strlist_t want_books; /* tokens to snapshot */
    pf_strlist_t hints;      /* condition ids to check at once */
} pf_rest_t;

/* ---- HTTP --------------------------------------------------------------- */

static size_t pf_on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    pf_body_t *b = ud;
    size_t n = size * nmemb;

    if (b->len + n + 1 > PF_MAX_BODY) {
        b->too_big = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

static size_t pf_on_header(char *buf, size_t size, size_t nmemb, void *ud)
{
    pf_rest_t *r = ud;
    size_t n = size * nmemb;

    if (n > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
        size_t len = n - 12;
        const char *v = buf + 12;
        while (len && (*v == ' ' || *v == '\t')) {
            v++;
            len--;
        }
        if (len >= sizeof(r->retry_after)) len = sizeof(r->retry_after) - 1;
        memcpy(r->retry_after, v, len);
        r->retry_after[len] = '\0';
        while (len
               && (r->retry_after[len - 1] == '\r' || r->retry_after[len - 1] == '\n'
                   || r->retry_after[len - 1] == ' ')) {
            r->retry_after[--len] = '\0';
        }
    }
    return n;
}

static int pf_gate_open(pf_rest_t *r, int api)
{
    return pf_now_ms() >= r->not_before[api];
}

static void pf_gate_fail(pf_rest_t *r, int api, int64_t at_least_ms, const char *what)
{
    int64_t d = pf_backoff_next(&r->backoff[api], (uint32_t)rand());

    if (at_least_ms > d) {
        d = at_least_ms;
    }
    r->not_before[api] = pf_now_ms() + d;
    pp_log(PP_LOG_WARN, "%s: %s; next request in %" APR_INT64_T_FMT " ms", pf_api_name[api], what,
           d);
    pthread_mutex_lock(&r->f->lock);
    r->f->c.rest_errors++;
    pthread_mutex_unlock(&r->f->lock);
}

/* One request. Returns the HTTP status (0 on a transport error); the body is
 * in r->body. 429, 5xx and transport errors close the API's gate (honouring
 * Retry-After); anything else opens it. */
static long pf_http(pf_rest_t *r, int api, const char *url, const char *post)
{
    CURLcode rc;
    long status = 0;

    r->body.len = 0;
    r->body.too_big = 0;
    if (r->body.data) r->body.data[0] = '\0';
    r->retry_after[0] = '\0';
    curl_easy_setopt(r->curl, CURLOPT_URL, url);
    if (post) {
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
    }
    else {
        curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
    }
    rc = curl_easy_perform(r->curl);
    if (rc != CURLE_OK) {
        pf_gate_fail(r, api, 0,
                     apr_psprintf(r->scratch, "%s %s: %s%s", post ? "POST" : "GET", url,
                                  curl_easy_strerror(rc),
                                  r->body.too_big ? " (response too large)" : ""));
        return 0;
    }
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 429 || status >= 500) {
        int64_t ra = pf_retry_after_ms(r->retry_after[0] ? r->retry_after : NULL, pf_now_ms());
        if (status == 429 || status == 503) {
            pthread_mutex_lock(&r->f->lock);
            r->f->c.rate_limited += status == 429;
            pthread_mutex_unlock(&r->f->lock);
        }
        pf_gate_fail(r, api, ra > 0 ? ra : 0,
                     apr_psprintf(r->scratch, "%s %s: HTTP %ld%s%s", post ? "POST" : "GET", url,
                                  status, ra >= 0 ? ", Retry-After " : "",
                                  ra >= 0 ? r->retry_after : ""));
        return status;
    }
    pf_backoff_reset(&r->backoff[api]);
    return status;
}

/* ---- markets ------------------------------------------------------------ */

static pf_mkt_t *pf_mkt_get(pf_rest_t *r, const char *cid)
{
    return apr_hash_get(r->markets, cid, APR_HASH_KEY_STRING);
}

static pf_mkt_t *pf_mkt_add(pf_rest_t *r, const char *cid)
{
    pf_mkt_t *m = pf_mkt_get(r, cid);

    if (!m) {
        m = calloc(1, sizeof(*m));
        if (!m) abort();
        m->condition_id = strdup(cid);
        m->state = PF_MKT_UNTRACKED;
        apr_hash_set(r->markets, m->condition_id, APR_HASH_KEY_STRING, m);
    }
    return m;
}

static void pf_mkt_free(pf_mkt_t *m)
{
    free(m->condition_id);
    free(m->gamma_id);
    free(m->tokens[0]);
    free(m->tokens[1]);
    free(m->signature);
    free(m);
}

static void pf_set_str(char **dst, const char *src)
{
    if (*dst && src && strcmp(*dst, src) == 0) return;
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

static void pf_queue_upsert(pf_rest_t *r, const pf_market_t *m, int closed)
{
    pf_job_t *j = calloc(1, sizeof(*j));

    if (!j) abort();
    j->kind = PF_JOB_UPSERT;
    j->condition_id = strdup(m->condition_id);
    j->question = strdup(m->question ? m->question : "");
    j->slug = m->slug ? strdup(m->slug) : NULL;
    j->closed = closed;
    j->json = strdup(m->tokens_json);
    pthread_mutex_lock(&r->f->lock);
    pf_feed_push_job_locked(r->f, j);
    pthread_mutex_unlock(&r->f->lock);
}

/* Starts streaming a tradable market (its upsert is queued first). */
static void pf_track(pf_rest_t *r, const pf_market_t *m)
{
    pf_mkt_t *k = pf_mkt_add(r, m->condition_id);
    const char *sig = apr_pstrcat(r->scratch, m->question ? m->question : "", "\x1f",
                                  m->slug ? m->slug : "", "\x1f", m->tokens_json, NULL);
    int i;

    k->seen = 1;
    pf_set_str(&k->gamma_id, m->gamma_id);
    if (k->state == PF_MKT_TRACKED && k->signature && strcmp(k->signature, sig) == 0) {
        return;
    }
    if (k->state == PF_MKT_CLOSED || k->state == PF_MKT_SETTLED) {
        return; /* closing is final */
    }
    pf_queue_upsert(r, m, 0);
    pf_set_str(&k->signature, sig);
    pthread_mutex_lock(&r->f->lock);
    for (i = 0; i < 2; i++) {
        if (k->tokens[i] && strcmp(k->tokens[i], m->token_ids[i]) != 0) {
            pf_book_store_remove(r->f->books, k->tokens[i]);
        }
        pf_book_store_add(r->f->books, m->token_ids[i], m->condition_id);
    }
    pthread_mutex_unlock(&r->f->lock);
    for (i = 0; i < 2; i++) {
        pf_set_str(&k->tokens[i], m->token_ids[i]);
    }
    if (k->state != PF_MKT_TRACKED) {
        pp_log(PP_LOG_INFO, "tracking market %s (%s)", m->condition_id,
               m->question ? m->question : "");
    }
    k->state = PF_MKT_TRACKED;
}

static void pf_untrack_books(pf_rest_t *r, pf_mkt_t *k)
{
    int i;

    pthread_mutex_lock(&r->f->lock);
    for (i = 0; i < 2; i++) {
        if (k->tokens[i]) pf_book_store_remove(r->f->books, k->tokens[i]);
    }
    pthread_mutex_unlock(&r->f->lock);
}

/* Publishes the tracked tokens to the stream thread: ordered by market, the
 * two outcomes of a market side by side, so they share a connection (the
 * channel sends a market's price_change to every connection holding either
 * token) and shards stay stable across runs. */
static int pf_cmp_mkt(const void *a, const void *b)
{
    return strcmp((*(pf_mkt_t *const *)a)->condition_id, (*(pf_mkt_t *const *)b)->condition_id);
}

static void pf_publish(pf_rest_t *r)
{
    apr_hash_index_t *hi;
    pf_strlist_t l = { 0 };
    pf_mkt_t **v;
    int tracked = 0, pending = 0, i;

    v = apr_palloc(r->scratch, (apr_size_t)(apr_hash_count(r->markets) + 1) * sizeof(*v));
    for (hi = apr_hash_first(r->scratch, r->markets); hi; hi = apr_hash_next(hi)) {
        pf_mkt_t *k = apr_hash_this_val(hi);
        if (k->state == PF_MKT_TRACKED) {
            v[tracked++] = k;
        }
        else if (k->state == PF_MKT_CLOSED) {
            pending++;
        }
    }
    qsort(v, (size_t)tracked, sizeof(*v), pf_cmp_mkt);
    for (i = 0; i < tracked; i++) {
        pf_strlist_push(&l, v[i]->tokens[0]);
        pf_strlist_push(&l, v[i]->tokens[1]);
    }
    pthread_mutex_lock(&r->f->lock);
    pf_strlist_clear(&r->f->desired);
    pf_strlist_take(&r->f->desired, &l);
    r->f->desired_version++;
    r->f->markets_tracked = tracked;
    r->f->pending_resolutions = pending;
    pthread_mutex_unlock(&r->f->lock);
    free(l.v);
    pf_stream_wake();
}

/* Closed (as Gamma says): stop streaming, mark it closed in the database
 * (trading stops, nothing is settled), and check for a resolution. */
static void pf_close_market(pf_rest_t *r, pf_mkt_t *k, const pf_market_t *m)
{
    if (k->state == PF_MKT_CLOSED || k->state == PF_MKT_SETTLED) {
        return;
    }
    pp_log(PP_LOG_INFO, "market %s closed: trading stops until it resolves", k->condition_id);
    if (m->tokens_json) {
        pf_queue_upsert(r, m, 1);
    }
    pf_untrack_books(r, k);
    k->state = PF_MKT_CLOSED;
    k->next_check_ms = 0;
}

/* ---- discovery ---------------------------------------------------------- */

static const char *pf_escape(pf_rest_t *r, const char *s)
{
    char *e = curl_easy_escape(r->curl, s, 0);
    const char *out = apr_pstrdup(r->scratch, e ? e : "");

    curl_free(e);
    return out;
}

/* Finds one market by condition id on Gamma, closed or open. Returns it, or
 * NULL with *failed set when the request failed (as opposed to not found). */
static pf_market_t *pf_gamma_lookup(pf_rest_t *r, const char *cid, int *failed)
{
    static const char *const closed_flags[] = { "true", "false" };
    int i;

    *failed = 0;
    for (i = 0; i < 2; i++) {
        const char *url = apr_psprintf(r->scratch, "%s/markets?condition_ids=%s&closed=%s",
                                       r->cfg->gamma_url, pf_escape(r, cid), closed_flags[i]);
        pf_gamma_page_t page;
        const char *err;
        long st;
        int j;

        if (!pf_gate_open(r, PF_API_GAMMA)) {
            *failed = 1;
            return NULL;
        }
        st = pf_http(r, PF_API_GAMMA, url, NULL);
        if (st != 200) {
            if (st && st != 429 && st < 500) {
                pp_log(PP_LOG_WARN, "gamma: lookup of %s: HTTP %ld", cid, st);
            }
            *failed = 1;
            return NULL;
        }
        err = pf_gamma_parse_page(r->scratch, r->body.data, r->body.len, &page);
        if (err) {
            pp_log(PP_LOG_WARN, "gamma: lookup of %s: %s", cid, err);
            *failed = 1;
            return NULL;
        }
        for (j = 0; j < page.markets->nelts; j++) {
            pf_market_t *m = APR_ARRAY_IDX(page.markets, j, pf_market_t *);
            if (m->condition_id && strcmp(m->condition_id, cid) == 0) {
                return m;
            }
        }
    }
    return NULL;
}

/* A market that is not in the open listing (any more): closed, or just not
 * tradable, or unknown. */
static void pf_check_missing(pf_rest_t *r, pf_mkt_t *k)
{
    int failed;
    pf_market_t *m = pf_gamma_lookup(r, k->condition_id, &failed);

    if (failed) {
        return; /* try again after the next discovery */
    }
    if (m && m->closed == 1) {
        pf_close_market(r, k, m);
        return;
    }
    if (m && m->tradable) {
        return; /* still open and tradable: only missing from one listing */
    }
    if (k->state == PF_MKT_TRACKED) {
        pp_log(PP_LOG_INFO, "market %s is no longer tradable (%s): not streamed", k->condition_id,
               m ? (m->skip_reason ? m->skip_reason : "not listed") : "unknown to Gamma");
        pf_untrack_books(r, k);
    }
    k->state = PF_MKT_UNTRACKED;
}

static void pf_discover(pf_rest_t *r)
{
    const char *cursor = NULL;
    apr_hash_index_t *hi;
    int pages = 0, tradable = 0, skipped = 0, capped = 0;

    for (hi = apr_hash_first(r->scratch, r->markets); hi; hi = apr_hash_next(hi)) {
        ((pf_mkt_t *)apr_hash_this_val(hi))->seen = 0;
    }
    for (;;) {
        const char *url = apr_psprintf(r->scratch,
                                       "%s/markets/keyset?closed=false&limit=500%s%s%s%s",
                                       r->cfg->gamma_url, *r->cfg->gamma_query ? "&" : "",
                                       r->cfg->gamma_query, cursor ? "&after_cursor=" : "",
                                       cursor ? pf_escape(r, cursor) : "");
        pf_gamma_page_t page;
        const char *err;
        long st;
        int i;

        if (!pf_gate_open(r, PF_API_GAMMA)) {
            return; /* resumes from the first page when the gate opens */
        }
        st = pf_http(r, PF_API_GAMMA, url, NULL);
        if (st != 200) {
            if (st && st != 429 && st < 500) {
                pf_gate_fail(r, PF_API_GAMMA, 0,
                             apr_psprintf(r->scratch, "discovery: HTTP %ld from %s", st, url));
            }
            return;
        }
        err = pf_gamma_parse_page(r->scratch, r->body.data, r->body.len, &page);
        if (err) {
            pf_gate_fail(r, PF_API_GAMMA, 0,
                         apr_psprintf(r->scratch, "discovery: page %d: %s", pages + 1, err));
            return;
        }
        pages++;
        for (i = 0; i < page.markets->nelts; i++) {
            pf_market_t *m = APR_ARRAY_IDX(page.markets, i, pf_market_t *);
            if (!m->tradable) {
                skipped++;
                pp_log(PP_LOG_DEBUG, "discovery: skipping %s: %s",
                       m->condition_id ? m->condition_id : (m->gamma_id ? m->gamma_id : "?"),
                       m->skip_reason);
                continue;
            }
            if (r->cfg->max_markets && tradable >= r->cfg->max_markets) {
                capped++;
                continue;
            }
            tradable++;
            pf_track(r, m);
        }
        if (!page.next_cursor || (r->cfg->max_markets && tradable >= r->cfg->max_markets)) {
            break;
        }
        cursor = apr_pstrdup(r->scratch, page.next_cursor);
    }

    /* complete listing: whatever is not in it any more is looked up */
    for (hi = apr_hash_first(r->scratch, r->markets); hi; hi = apr_hash_next(hi)) {
        pf_mkt_t *k = apr_hash_this_val(hi);
        if (!k->seen
            && (k->state == PF_MKT_TRACKED
                || (k->state == PF_MKT_UNTRACKED && !k->gamma_id && !capped))) {
            pf_check_missing(r, k);
            if (k->state == PF_MKT_UNTRACKED && !k->gamma_id) {
                pf_set_str(&k->gamma_id, ""); /* looked up once */
            }
        }
    }
    pthread_mutex_lock(&r->f->lock);
    r->f->c.discoveries++;
    pthread_mutex_unlock(&r->f->lock);
    pp_log(r->discovered_once ? PP_LOG_DEBUG : PP_LOG_INFO,
           "discovery: %d pages, %d tradable markets tracked, %d skipped%s", pages, tradable,
           skipped, capped ? apr_psprintf(r->scratch, ", %d over max_markets", capped) : "");
    r->discovered_once = 1;
    pf_publish(r);
}

/* ---- snapshots ---------------------------------------------------------- */

/* The POST /books body for n token ids: [{"token_id":"…"},…]. */
static const char *pf_books_body(pf_rest_t *r, char *const *ids, int n)
{
    char *body = apr_palloc(r->scratch, (apr_size_t)n * 96 + 4), *p = body;
    int i;

    *p++ = '[';
    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{\"token_id\":\"%s\"}", i ? "," : "", ids[i]);
    }
    *p++ = ']';
    *p = '\0';
    return body;
}

static void pf_snapshots(pf_rest_t *r)
{
    while (r->want_books.n && pf_gate_open(r, PF_API_CLOB)) {
        int n = r->want_books.n < PF_BOOKS_PER_REQUEST ? r->want_books.n : PF_BOOKS_PER_REQUEST;
        int start = r->want_books.n - n, i, applied = 0;
        const char *url = apr_pstrcat(r->scratch, r->cfg->clob_url, "/books", NULL);
        const char *err;
        long st;

        st = pf_http(r, PF_API_CLOB, url, pf_books_body(r, r->want_books.v + start, n));
        if (st != 200) {
            if (st && st != 429 && st < 500) {
                pf_gate_fail(r, PF_API_CLOB, 0,
                             apr_psprintf(r->scratch, "POST /books: HTTP %ld", st));
            }
            return; /* kept: retried when the gate opens */
        }
        pthread_mutex_lock(&r->f->lock);
        pf_book_store_set_origin(r->f->books, pf_now_ms());
        err = pf_book_apply_rest_books(r->f->books, r->scratch, r->body.data, r->body.len,
                                       pf_now_ms(), &applied);
        r->f->c.snapshots += (uint64_t)(applied > 0 ? applied : 0);
        pthread_mutex_unlock(&r->f->lock);
        if (err) {
            pp_log(PP_LOG_WARN, "POST /books: %s", err);
        }
        for (i = start; i < r->want_books.n; i++) {
            free(r->want_books.v[i]);
        }
        r->want_books.n = start;
        pp_log(PP_LOG_DEBUG, "snapshots: %d books applied", applied);
    }
}

/* A silent connection: re-read its books. If any differs from what the
 * stream gave us, the socket missed updates (a silent freeze): the new
 * books are applied and the stream replaces the connection. Equal books
 * mean a quiet market on a healthy socket. */
static const char *pf_book_signature(pf_rest_t *r, pf_book_t *b)
{
    pf_quote_t q;
    pf_buf_t buf;

    pf_book_quote(b, &q);
    pf_buf_init(&buf, r->scratch, 256);
    pf_buf_puts(&buf, q.best_bid ? q.best_bid : "-");
    pf_buf_puts(&buf, q.best_ask ? q.best_ask : "-");
    pf_book_depth_json(b, PF_SIDE_BID, 0, &buf);
    pf_book_depth_json(b, PF_SIDE_ASK, 0, &buf);
    return pf_buf_str(&buf);
}

static int pf_verify(pf_rest_t *r, pf_verify_t *v)
{
    const char *url = apr_pstrcat(r->scratch, r->cfg->clob_url, "/books", NULL);
    const char **before;
    int i, applied = 0;
    long st;

    if (!v->tokens.n) return 1;
    st = pf_http(r, PF_API_CLOB, url, pf_books_body(r, v->tokens.v, v->tokens.n));
    if (st != 200) {
        return 0;
    }
    before = apr_pcalloc(r->scratch, (apr_size_t)v->tokens.n * sizeof(*before));
    pthread_mutex_lock(&r->f->lock);
    for (i = 0; i < v->tokens.n; i++) {
        pf_book_t *b = pf_book_store_get(r->f->books, v->tokens.v[i]);
        before[i] = b ? pf_book_signature(r, b) : NULL;
    }
    pf_book_store_set_origin(r->f->books, pf_now_ms());
    pf_book_apply_rest_books(r->f->books, r->scratch, r->body.data, r->body.len, pf_now_ms(),
                             &applied);
    for (i = 0; i < v->tokens.n; i++) {
        pf_book_t *b = pf_book_store_get(r->f->books, v->tokens.v[i]);
        if (b && before[i] && strcmp(before[i], pf_book_signature(r, b)) != 0) {
            v->changed = 1;
        }
    }
    r->f->c.verifications++;
    pthread_mutex_unlock(&r->f->lock);
    return 1;
}

static void pf_verifications(pf_rest_t *r)
{
    pf_verify_t *v, *next;

    pthread_mutex_lock(&r->f->lock);
    v = r->f->verify_requests;
    r->f->verify_requests = NULL;
    pthread_mutex_unlock(&r->f->lock);
    for (; v; v = next) {
        next = v->next;
        if (!pf_gate_open(r, PF_API_CLOB) || !pf_verify(r, v)) {
            pf_verify_free(v); /* no answer: the stream's own deadline decides */
            continue;
        }
        pthread_mutex_lock(&r->f->lock);
        v->next = r->f->verify_results;
        r->f->verify_results = v;
        pthread_mutex_unlock(&r->f->lock);
        pf_stream_wake();
    }
}

/* ---- resolution --------------------------------------------------------- */

static void pf_queue_settle(pf_rest_t *r, pf_mkt_t *k, const pf_resolution_t *res)
{
    pf_job_t *j = calloc(1, sizeof(*j));

    if (!j) abort();
    j->kind = PF_JOB_SETTLE;
    j->condition_id = strdup(k->condition_id);
    j->winner = res->kind == PF_RES_WINNER ? strdup(res->winning_token_id) : NULL;
    pp_log(PP_LOG_INFO, "market %s resolved: %s", k->condition_id, res->reason);
    k->settling = 1;
    pthread_mutex_lock(&r->f->lock);
    pf_feed_push_job_locked(r->f, j);
    pthread_mutex_unlock(&r->f->lock);
}

/* Returns 1 when the market resolved and its settlement was queued. */
static int pf_check_resolution(pf_rest_t *r, pf_mkt_t *k)
{
    pf_resolution_t res = { PF_RES_PENDING, NULL, "not checked" };
    const char *url;
    long st;

    if (!pf_gate_open(r, PF_API_CLOB)) {
        return 0;
    }
    url = apr_psprintf(r->scratch, "%s/markets/%s", r->cfg->clob_url,
                       pf_escape(r, k->condition_id));
    st = pf_http(r, PF_API_CLOB, url, NULL);
    if (st == 200) {
        pf_clob_market_t *c;
        const char *err = pf_clob_parse_market(r->scratch, r->body.data, r->body.len, &c);
        if (err) {
            pp_log(PP_LOG_WARN, "clob: market %s: %s", k->condition_id, err);
        }
        else {
            pf_clob_resolution(c, k->condition_id, &res);
        }
    }
    else if (st == 0 || st == 429 || st >= 500) {
        return 0;
    }
    if (res.kind != PF_RES_WINNER && res.kind != PF_RES_VOID) {
        int failed;
        pf_market_t *m = pf_gamma_lookup(r, k->condition_id, &failed);
        if (m) {
            pf_resolution_t g;
            pf_gamma_resolution(m, &g);
            if (g.kind == PF_RES_WINNER || g.kind == PF_RES_VOID) {
                res = g;
            }
            else if (res.kind == PF_RES_PENDING) {
                res = g;
            }
        }
    }
    if (res.kind == PF_RES_WINNER || res.kind == PF_RES_VOID) {
        pf_queue_settle(r, k, &res);
        return 1;
    }
    if (res.kind == PF_RES_INVALID) {
        pp_log(PP_LOG_WARN, "market %s: contradictory resolution data, not settled: %s",
               k->condition_id, res.reason);
    }
    else {
        pp_log(PP_LOG_DEBUG, "market %s not resolved yet: %s", k->condition_id, res.reason);
    }
    return 0;
}

static void pf_resolutions(pf_rest_t *r, int all_due)
{
    apr_hash_index_t *hi;
    int64_t now = pf_now_ms();
    int i, untracked = 0;

    /* hints: a market_resolved event, possibly for a market we still stream
     * (the CLOB may know the winner before Gamma lists the market closed) */
    for (i = 0; i < r->hints.n; i++) {
        pf_mkt_t *k = pf_mkt_get(r, r->hints.v[i]);
        if (!k) continue;
        if (k->state == PF_MKT_TRACKED) {
            if (pf_check_resolution(r, k)) {
                pf_untrack_books(r, k);
                k->state = PF_MKT_CLOSED;
                untracked = 1;
                continue;
            }
            pf_check_missing(r, k);
            untracked |= k->state != PF_MKT_TRACKED;
        }
        if (k->state == PF_MKT_CLOSED) {
            k->next_check_ms = 0;
        }
    }
    pf_strlist_clear(&r->hints);
    if (untracked) {
        pf_publish(r);
    }

    for (hi = apr_hash_first(r->scratch, r->markets); hi; hi = apr_hash_next(hi)) {
        pf_mkt_t *k = apr_hash_this_val(hi);
        if (k->state != PF_MKT_CLOSED || k->settling) continue;
        if (!all_due && k->next_check_ms > now) continue;
        k->next_check_ms = now + r->cfg->resolution_ms;
        pf_check_resolution(r, k);
    }
}

/* ---- the loop ----------------------------------------------------------- */

static void pf_reset_state(pf_rest_t *r)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(r->scratch, r->markets); hi; hi = apr_hash_next(hi)) {
        pf_mkt_t *k = apr_hash_this_val(hi);
        if (k->state == PF_MKT_TRACKED) {
            pf_untrack_books(r, k);
        }
        apr_hash_set(r->markets, k->condition_id, APR_HASH_KEY_STRING, NULL);
        pf_mkt_free(k);
    }
    pf_strlist_clear(&r->want_books);
    pf_strlist_clear(&r->hints);
    r->next_discovery_ms = 0;
    r->next_resolution_ms = 0;
    r->discovered_once = 0;
    pf_publish(r);
}

static void pf_take_inbox(pf_rest_t *r, int *active)
{
    pf_feed_t *f = r->f;
    pf_strlist_t dbm = { 0 }, settled = { 0 };
    int i, new_market = 0, epoch, dbm_changed = 0;
    pf_role_t role;

    pthread_mutex_lock(&f->lock);
    role = f->role;
    *active = role == PF_ROLE_ACTIVE || role == PF_ROLE_RECOVERING;
    epoch = f->leader_epoch;
    pf_strlist_take(&r->want_books, &f->snapshot_wanted);
    pf_strlist_take(&r->hints, &f->resolved_hints);
    pf_strlist_take(&settled, &f->settled);
    if (f->db_markets_epoch != r->db_markets_epoch) {
        r->db_markets_epoch = f->db_markets_epoch;
        pf_strlist_take(&dbm, &f->db_markets);
        dbm_changed = 1;
    }
    new_market = f->new_market_hint;
    f->new_market_hint = 0;
    pthread_mutex_unlock(&f->lock);

    if (role == PF_ROLE_STANDBY && r->epoch) {
        pp_log(PP_LOG_INFO, "standby: stopped streaming");
        pf_reset_state(r);
        r->epoch = 0;
    }
    if (*active && r->epoch != epoch) {
        r->epoch = epoch;
        r->next_discovery_ms = 0; /* a new leadership: discover at once */
    }
    if (dbm_changed) {
        for (i = 0; i < dbm.n; i++) {
            const char *cid = dbm.v[i] + 2;
            pf_mkt_t *k = pf_mkt_get(r, cid);
            if (!k) {
                k = pf_mkt_add(r, cid);
                k->state = dbm.v[i][0] == 'C' ? PF_MKT_CLOSED : PF_MKT_UNTRACKED;
            }
            else if (dbm.v[i][0] == 'C' && k->state != PF_MKT_SETTLED) {
                if (k->state == PF_MKT_TRACKED) pf_untrack_books(r, k);
                k->state = PF_MKT_CLOSED;
            }
        }
        pf_strlist_clear(&dbm);
    }
    for (i = 0; i < settled.n; i++) {
        pf_mkt_t *k = pf_mkt_get(r, settled.v[i]);
        if (k) {
            k->state = PF_MKT_SETTLED;
            k->settling = 0;
        }
    }
    if (settled.n) {
        pf_publish(r);
    }
    pf_strlist_clear(&settled);
    free(settled.v);
    free(dbm.v);
    if (new_market && r->discovered_once) {
        r->next_discovery_ms = 0;
    }
}

void *pf_rest_main(void *arg)
{
    pf_rest_t r;
    pf_feed_t *f = arg;

    memset(&r, 0, sizeof(r));
    r.f = f;
    r.cfg = f->cfg;
    apr_pool_create(&r.root, NULL);
    apr_pool_create(&r.scratch, r.root);
    r.markets = apr_hash_make(r.root);
    pf_backoff_init(&r.backoff[0], r.cfg->backoff_min_ms, r.cfg->backoff_max_ms);
    pf_backoff_init(&r.backoff[1], r.cfg->backoff_min_ms, r.cfg->backoff_max_ms);
    r.curl = curl_easy_init();
    if (!r.curl) {
        pp_log(PP_LOG_ERR, "libcurl: cannot create a handle");
        atomic_store(&f->stopping, 1);
        pf_stream_wake();
        return NULL;
    }
    curl_easy_setopt(r.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r.curl, CURLOPT_TIMEOUT_MS, (long)r.cfg->http_timeout_ms);
    curl_easy_setopt(r.curl, CURLOPT_CONNECTTIMEOUT_MS, (long)r.cfg->http_timeout_ms);
    curl_easy_setopt(r.curl, CURLOPT_WRITEFUNCTION, pf_on_body);
    curl_easy_setopt(r.curl, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(r.curl, CURLOPT_HEADERFUNCTION, pf_on_header);
    curl_easy_setopt(r.curl, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(r.curl, CURLOPT_USERAGENT, "polypartner-pricefeed/" PF_VERSION);
    curl_easy_setopt(r.curl, CURLOPT_ACCEPT_ENCODING, "");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(r.curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(r.curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    curl_easy_setopt(r.curl, CURLOPT_HTTPHEADER, hdrs);

    while (!atomic_load(&f->stopping)) {
        int active;
        int64_t now;

        apr_pool_clear(r.scratch);
        pf_take_inbox(&r, &active);
        now = pf_now_ms();
        if (active) {
            pf_verifications(&r);
            if (r.want_books.n) {
                pf_snapshots(&r);
            }
            if (now >= r.next_discovery_ms && pf_gate_open(&r, PF_API_GAMMA)) {
                r.next_discovery_ms = now + r.cfg->discovery_ms;
                pf_discover(&r);
                if (!r.discovered_once) {
                    r.next_discovery_ms = 0; /* failed: retry when the gate opens */
                }
            }
            if (r.hints.n || now >= r.next_resolution_ms) {
                r.next_resolution_ms = pf_now_ms() + 250;
                pf_resolutions(&r, 0);
                pthread_mutex_lock(&f->lock);
                apr_hash_index_t *hi;
                int pending = 0;
                for (hi = apr_hash_first(r.scratch, r.markets); hi; hi = apr_hash_next(hi)) {
                    pending += ((pf_mkt_t *)apr_hash_this_val(hi))->state == PF_MKT_CLOSED;
                }
                f->pending_resolutions = pending;
                pthread_mutex_unlock(&f->lock);
            }
        }
        pthread_mutex_lock(&f->lock);
        if (!atomic_load(&f->stopping) && !f->snapshot_wanted.n && !f->resolved_hints.n
            && !f->settled.n && !f->verify_requests) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&f->wake_rest, &f->lock, &ts);
        }
        pthread_mutex_unlock(&f->lock);
    }

    {
        apr_hash_index_t *hi;
        for (hi = apr_hash_first(r.scratch, r.markets); hi; hi = apr_hash_next(hi)) {
            pf_mkt_free(apr_hash_this_val(hi));
        }
    }
    pf_strlist_clear(&r.want_books);
    free(r.want_books.v);
    pf_strlist_clear(&r.hints);
    free(r.hints.v);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(r.curl);
    free(r.body.data);
    apr_pool_destroy(r.root);
    return NULL;
}
