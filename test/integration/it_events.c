/* The tenant event feed over HTTP: GET /v1/partner/events (pages, filters,
 * long-polls) and GET /v1/partner/events/stream (Server-Sent Events).
 *
 * The guarantees of issue 13: per-tenant order is the commit order and no
 * reader ever sees a gap, also while many clients write at once; an event
 * is visible only once its transaction committed; no gap and no duplicate
 * across reconnects (Last-Event-ID), a graceful restart of httpd and a
 * restart of PostgreSQL; a tenant sees only its own events; accounts:read
 * is the permission; the bounds on streams and long-polls refuse with 429 /
 * 503; a cursor behind the purge is 410. The long-poll wake-up latency is
 * measured and printed (not asserted). */
#include "it.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO      it_env("DEMO_KEY")
#define READONLY  it_env("DEMO_READONLY_KEY")
#define WRITEONLY it_env("DEMO_WRITEONLY_KEY")
#define OTHER     it_env("OTHER_KEY")

#define EVENTS "/v1/partner/events"
#define STREAM "/v1/partner/events/stream"

/* The harness's PolyPartnerEventWaitLimit (conf/httpd.conf.in). */
#define TENANT_LIMIT 8
#define SERVER_LIMIT 12

static const char *const event_keys[] = { "event_id", "account_id", "data", "occurred_at",
                                          "type",     "user_id",    NULL };

/* ---- fixtures ------------------------------------------------------------------------------ */

static long long new_user(const char *key)
{
    char *x = it_unique("evuser");
    return it_register(key, x, it_printf("%s@example.com", x), NULL);
}

/* A new account (balance 1000.00) of a new trader of key's tenant. */
static char *new_account(const char *key)
{
    long long uid = new_user(key);
    it_response_t r = it_request("POST", "/v1/partner/accounts", IT_HEADERS(it_key_header(key)),
                                 it_printf("{\"user_id\":%lld,\"external_id\":%s,\"stage\":"
                                           "\"challenge\",\"starting_balance\":\"1000.00\"}",
                                           uid, it_json_quote(it_unique("evacct"))));
    char *id;
    it_assert_status(r, 201);
    id = strdup(it_json_str(r.json, "account_id"));
    it_response_free(&r);
    return id;
}

/* The Yes token of a new market quoted 0.40 / 0.45. */
static char *quoted_token(void)
{
    char *cond = it_unique("0xevcond"), *yes = it_token_id(), *no = it_token_id();
    it_db_scalar("select pp_upsert_market($1, 'Q', $2, false, $3::jsonb)::text", cond,
                 it_unique("evslug"),
                 it_printf("[{\"token_id\":\"%s\",\"outcome\":\"Yes\"},"
                           "{\"token_id\":\"%s\",\"outcome\":\"No\"}]",
                           yes, no));
    it_db_scalar("select pp_apply_price_updates($1::jsonb)::text",
                 it_printf("[{\"token_id\":\"%s\",\"best_bid\":\"0.40\",\"best_ask\":\"0.45\"}]",
                           yes));
    return yes;
}

/* POSTs a market order; its status (201, or 503 while the database is away). */
static long place(const char *account, const char *tok)
{
    it_response_t r = it_request(
        "POST", it_printf("/v1/partner/accounts/%s/orders", account),
        IT_HEADERS(it_key_header(DEMO)),
        it_printf("{\"token_id\":\"%s\",\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\"}",
                  tok));
    long st = r.status;
    it_response_free(&r);
    return st;
}

static void place_ok(const char *account, const char *tok)
{
    ck_assert_int_eq(place(account, tok), 201);
}

/* The tenant's last event id, from the database. */
static long long last_id(const char *tenant)
{
    return it_db_int("select coalesce(max(event_id), 0) from events where tenant = $1", tenant);
}

/* "a,b,c": the tenant's event ids after `after` in the database. */
static char *db_ids(const char *tenant, long long after)
{
    char *s = it_db_scalar("select string_agg(event_id::text, ',' order by event_id) from events "
                           "where tenant = $1 and event_id > $2",
                           tenant, it_lltext(after));
    return s ? s : strdup("");
}

/* "a,b,c": the ids from+1 .. to. */
static char *range_ids(long long from, long long to)
{
    size_t cap = 64, n = 0;
    char *s = calloc(1, cap);
    long long i;
    for (i = from + 1; i <= to; i++) {
        char part[32];
        int k = snprintf(part, sizeof(part), "%s%lld", i > from + 1 ? "," : "", i);
        if (n + (size_t)k + 1 > cap) {
            cap = (n + (size_t)k + 1) * 2;
            s = realloc(s, cap);
        }
        memcpy(s + n, part, (size_t)k + 1);
        n += (size_t)k;
    }
    return s;
}

/* ---- the feed ------------------------------------------------------------------------------- */

typedef struct {
    long long id;
    char *type;
    char *account_id;
    char *cursor; /* the stream's id for it */
    json_object *event;
} ev_t;

typedef struct {
    ev_t *v;
    size_t n, cap;
} evlist_t;

static void evlist_push(evlist_t *l, json_object *e, const char *cursor)
{
    json_object *id = it_json_get(e, "event_id");
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].id = id ? (long long)json_object_get_int64(id) : -1;
    l->v[l->n].type = strdup(it_json_str(e, "type") ? it_json_str(e, "type") : "?");
    l->v[l->n].account_id = it_json_str(e, "account_id") ? strdup(it_json_str(e, "account_id"))
                                                         : NULL;
    l->v[l->n].cursor = cursor ? strdup(cursor) : NULL;
    l->v[l->n].event = json_object_get(e);
    l->n++;
}

static char *evlist_ids(const evlist_t *l)
{
    size_t cap = 64, n = 0, i;
    char *s = calloc(1, cap);
    for (i = 0; i < l->n; i++) {
        char part[32];
        int k = snprintf(part, sizeof(part), "%s%lld", i ? "," : "", l->v[i].id);
        if (n + (size_t)k + 1 > cap) {
            cap = (n + (size_t)k + 1) * 2;
            s = realloc(s, cap);
        }
        memcpy(s + n, part, (size_t)k + 1);
        n += (size_t)k;
    }
    return s;
}

/* NULL when the id lists are equal, else where they first differ (short:
 * the lists run to thousands of ids). */
static char *ids_problem(const char *got, const char *want)
{
    size_t i = 0;
    if (strcmp(got, want) == 0) {
        return NULL;
    }
    while (got[i] && got[i] == want[i]) {
        i++;
    }
    while (i > 0 && got[i - 1] != ',') {
        i--;
    }
    return it_printf("the ids differ from \"%.40s\" (got) / \"%.40s\" (wanted); %zu and %zu "
                     "bytes of ids",
                     got + i, want + i, strlen(got), strlen(want));
}

static it_response_t feed(const char *key, const char *query)
{
    return it_request("GET", it_printf(EVENTS "%s%s", query ? "?" : "", query ? query : ""),
                      IT_HEADERS(it_key_header(key)), NULL);
}

/* A 200 page: {data: [events], next_cursor: a string}; its events appended. */
static char *page_into(const it_response_t *r, evlist_t *out)
{
    static const char *const page_keys[] = { "data", "next_cursor", NULL };
    json_object *data = it_json_get(r->json, "data");
    const char *next = it_json_str(r->json, "next_cursor");
    size_t i;

    ck_assert_msg(it_json_keys_are(r->json, page_keys), "%s", it_describe(r));
    ck_assert_msg(data && json_object_is_type(data, json_type_array), "%s", it_describe(r));
    ck_assert_msg(next && *next, "next_cursor must never be null: %s", it_describe(r));
    for (i = 0; i < json_object_array_length(data); i++) {
        json_object *e = json_object_array_get_idx(data, i);
        ck_assert_msg(it_json_keys_are(e, event_keys), "event fields: %s", it_describe(r));
        if (out) {
            evlist_push(out, e, NULL);
        }
    }
    return strdup(next);
}

/* Reads the feed from cursor (NULL: the oldest kept event) to its end,
 * appending the events to out (may be NULL); the cursor after them. */
static char *read_to_end(const char *key, const char *filters, const char *cursor, evlist_t *out)
{
    char *c = cursor ? strdup(cursor) : NULL;
    for (;;) {
        it_response_t r = feed(key,
                               it_printf("limit=500%s%s%s%s", filters ? "&" : "",
                                         filters ? filters : "", c ? "&cursor=" : "", c ? c : ""));
        json_object *data;
        size_t n;
        it_assert_status(r, 200);
        c = page_into(&r, out);
        data = it_json_get(r.json, "data");
        n = json_object_array_length(data);
        it_response_free(&r);
        if (n == 0) {
            return c;
        }
    }
}

static char *tail(const char *key, const char *filters)
{
    return read_to_end(key, filters, NULL, NULL);
}

/* ---- a Server-Sent Events client ----------------------------------------------------------- */

typedef struct {
    const char *key;
    char *query;         /* after "?", or NULL */
    char *last_event_id; /* the header, or NULL */
    atomic_int stop;
    double deadline; /* it_now() seconds */
    /* results, under mu */
    pthread_mutex_t mu;
    long status;
    int curl_code;
    int opened, ended, heartbeats, retry_lines;
    char content_type[128];
    evlist_t events;
    /* the parser */
    char *line;
    size_t line_len, line_cap;
    char *cur_id;
    char *data;
    size_t data_len;
    pthread_t thread;
} sse_t;

static void sse_line(sse_t *s, const char *line)
{
    if (!*line) {
        if (s->data) {
            json_object *e = it_json_parse(s->data, s->data_len);
            pthread_mutex_lock(&s->mu);
            if (e) {
                evlist_push(&s->events, e, s->cur_id);
                json_object_put(e);
            }
            else {
                evlist_push(&s->events, json_object_new_object(), s->cur_id);
            }
            pthread_mutex_unlock(&s->mu);
            free(s->data);
            s->data = NULL;
            s->data_len = 0;
        }
        return;
    }
    if (line[0] == ':') {
        pthread_mutex_lock(&s->mu);
        s->heartbeats++;
        pthread_mutex_unlock(&s->mu);
    }
    else if (strncmp(line, "id:", 3) == 0) {
        free(s->cur_id);
        s->cur_id = strdup(line + (line[3] == ' ' ? 4 : 3));
    }
    else if (strncmp(line, "data:", 5) == 0) {
        const char *v = line + (line[5] == ' ' ? 6 : 5);
        size_t n = strlen(v);
        s->data = realloc(s->data, s->data_len + n + 2);
        if (s->data_len) {
            s->data[s->data_len++] = '\n';
        }
        memcpy(s->data + s->data_len, v, n + 1);
        s->data_len += n;
    }
    else if (strncmp(line, "retry:", 6) == 0) {
        s->retry_lines++;
    }
}

static size_t sse_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    sse_t *s = arg;
    size_t n = size * nmemb, i;

    pthread_mutex_lock(&s->mu);
    s->opened = 1;
    pthread_mutex_unlock(&s->mu);
    for (i = 0; i < n; i++) {
        if (ptr[i] == '\n') {
            if (s->line_len && s->line[s->line_len - 1] == '\r') {
                s->line_len--;
            }
            s->line[s->line_len] = '\0';
            sse_line(s, s->line);
            s->line_len = 0;
            continue;
        }
        if (s->line_len + 2 > s->line_cap) {
            s->line_cap = s->line_cap ? s->line_cap * 2 : 4096;
            s->line = realloc(s->line, s->line_cap);
        }
        s->line[s->line_len++] = ptr[i];
    }
    return n;
}

static size_t sse_header(char *buf, size_t size, size_t nitems, void *arg)
{
    sse_t *s = arg;
    size_t n = size * nitems;
    if (n > 13 && strncasecmp(buf, "Content-Type:", 13) == 0) {
        size_t k = n - 13;
        const char *v = buf + 13;
        while (k && (*v == ' ')) {
            v++;
            k--;
        }
        while (k && (v[k - 1] == '\r' || v[k - 1] == '\n')) {
            k--;
        }
        pthread_mutex_lock(&s->mu);
        snprintf(s->content_type, sizeof(s->content_type), "%.*s", (int)k, v);
        pthread_mutex_unlock(&s->mu);
    }
    return n;
}

static int sse_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    sse_t *s = arg;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return atomic_load(&s->stop) || it_now() > s->deadline;
}

/* One connection: until the server ends the stream, stop is set, or the
 * deadline passes. */
static void sse_run(sse_t *s)
{
    const char *base = it_env("POLYPARTNER_URL");
    struct curl_slist *hl = NULL;
    CURL *c = curl_easy_init();
    long status = 0;
    int code;

    hl = curl_slist_append(hl, it_key_header(s->key));
    hl = curl_slist_append(hl, "Accept: text/event-stream");
    if (s->last_event_id) {
        hl = curl_slist_append(hl, it_printf("Last-Event-ID: %s", s->last_event_id));
    }
    curl_easy_setopt(c, CURLOPT_URL,
                     it_printf("%s" STREAM "%s%s", base, s->query ? "?" : "",
                               s->query ? s->query : ""));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sse_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sse_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    code = (int)curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    pthread_mutex_lock(&s->mu);
    s->status = status;
    s->curl_code = code;
    s->ended = 1;
    pthread_mutex_unlock(&s->mu);
}

static void *sse_thread(void *arg)
{
    sse_run(arg);
    return NULL;
}

static sse_t *sse_new(const char *key, const char *query, const char *last_event_id)
{
    sse_t *s = calloc(1, sizeof(*s));
    s->key = key;
    s->query = query ? strdup(query) : NULL;
    s->last_event_id = last_event_id ? strdup(last_event_id) : NULL;
    s->deadline = it_now() + 110;
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static sse_t *sse_open(const char *key, const char *query, const char *last_event_id)
{
    sse_t *s = sse_new(key, query, last_event_id);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, sse_thread, s), 0);
    return s;
}

/* Waits until the stream has n events, or has ended, or `seconds` passed;
 * returns the number of events. */
static size_t sse_wait(sse_t *s, size_t n, double seconds)
{
    double until = it_now() + seconds;
    for (;;) {
        size_t got;
        int ended;
        pthread_mutex_lock(&s->mu);
        got = s->events.n;
        ended = s->ended;
        pthread_mutex_unlock(&s->mu);
        if (got >= n || ended || it_now() > until) {
            return got;
        }
        it_sleep_ms(10);
    }
}

/* Waits until the response has begun (or failed). */
static void sse_wait_open(sse_t *s, double seconds)
{
    double until = it_now() + seconds;
    for (;;) {
        int done;
        pthread_mutex_lock(&s->mu);
        done = s->opened || s->ended;
        pthread_mutex_unlock(&s->mu);
        if (done || it_now() > until) {
            return;
        }
        it_sleep_ms(10);
    }
}

static void sse_close(sse_t *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
}

/* ---- shape, data and order --------------------------------------------------------------- */

START_TEST(test_events_say_what_happened)
{
    char *acc = new_account(DEMO), *tok, *cursor, *ids;
    long long before = last_id("demo");
    evlist_t got = { 0 };
    it_response_t r, trades, order;
    json_object *fill;
    size_t i;

    tok = quoted_token();
    cursor = tail(DEMO, NULL);
    place_ok(acc, tok);
    order = it_request("POST", it_printf("/v1/partner/accounts/%s/orders", acc),
                       IT_HEADERS(it_key_header(DEMO)),
                       it_printf("{\"token_id\":\"%s\",\"side\":\"BUY\",\"type\":\"limit\","
                                 "\"quantity\":\"2\",\"limit_price\":\"0.10\"}",
                                 tok));
    it_assert_status(order, 201);
    r = it_request("POST",
                   it_printf("/v1/partner/accounts/%s/orders/%lld/cancel", acc,
                             (long long)json_object_get_int64(it_json_get(order.json, "order_id"))),
                   IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
    r = it_request("PATCH", it_printf("/v1/partner/accounts/%s", acc),
                   IT_HEADERS(it_key_header(DEMO)), "{\"rules\":{\"max_dd\":\"0.1\"}}");
    it_assert_status(r, 200);
    it_response_free(&r);
    r = it_request("POST", it_printf("/v1/partner/accounts/%s/close", acc),
                   IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
    r = it_request("POST", it_printf("/v1/partner/accounts/%s/reset", acc),
                   IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);

    read_to_end(DEMO, NULL, cursor, &got);
    ids = evlist_ids(&got);
    ck_assert_str_eq(ids, db_ids("demo", before));
    {
        static const char *const want[] = { "order.placed",    "trade.filled",    "order.placed",
                                            "order.cancelled", "account.updated", "account.closed",
                                            "account.reset" };
        ck_assert_int_eq(got.n, 7);
        for (i = 0; i < got.n; i++) {
            ck_assert_str_eq(got.v[i].type, want[i]);
            ck_assert_str_eq(got.v[i].account_id, acc);
            ck_assert_int_eq(got.v[i].id, before + 1 + (long long)i);
        }
    }
    /* trade.filled's data is the trades feed's row, member for member */
    trades = it_request("GET", it_printf("/v1/partner/accounts/%s/trades", acc),
                        IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(trades, 200);
    fill = json_object_array_get_idx(it_json_get(trades.json, "data"), 0);
    ck_assert_msg(json_object_equal(it_json_get(got.v[1].event, "data"), fill),
                  "trade.filled data %s vs the feed's %s",
                  json_object_to_json_string(it_json_get(got.v[1].event, "data")),
                  json_object_to_json_string(fill));
    /* order.placed of a market order is the order as committed: filled */
    ck_assert_str_eq(it_json_str(it_json_get(got.v[0].event, "data"), "status"), "filled");
    ck_assert_str_eq(it_json_str(it_json_get(got.v[3].event, "data"), "status"), "cancelled");
    ck_assert(json_object_is_type(it_json_get(got.v[0].event, "user_id"), json_type_int));
    ck_assert(it_matches(it_json_str(got.v[0].event, "occurred_at"),
                         "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"));
    it_response_free(&order);
    it_response_free(&trades);
}
END_TEST

START_TEST(test_filters_and_cursors)
{
    char *a = new_account(DEMO), *b = new_account(DEMO), *other = new_account(OTHER);
    char *tok = quoted_token(), *c_a, *c_fill, *c_both, *c_all, *c_trades, *bad;
    evlist_t got = { 0 };
    it_response_t r;
    size_t i;

    c_a = tail(DEMO, it_printf("account_id=%s", a));
    c_fill = tail(DEMO, "types=trade.filled");
    c_both = tail(DEMO, it_printf("types=trade.filled&account_id=%s", a));
    c_all = tail(DEMO, NULL);
    place_ok(a, tok);
    place_ok(b, tok);
    place_ok(a, tok);

    read_to_end(DEMO, it_printf("account_id=%s", a), c_a, &got);
    ck_assert_int_eq(got.n, 4);
    for (i = 0; i < got.n; i++) {
        ck_assert_str_eq(got.v[i].account_id, a);
    }
    got.n = 0;
    read_to_end(DEMO, "types=trade.filled", c_fill, &got);
    ck_assert_int_eq(got.n, 3);
    for (i = 0; i < got.n; i++) {
        ck_assert_str_eq(got.v[i].type, "trade.filled");
    }
    got.n = 0;
    read_to_end(DEMO, it_printf("types=trade.filled&account_id=%s", a), c_both, &got);
    ck_assert_int_eq(got.n, 2);
    /* the same set of types in another order is the same filter */
    r = feed(DEMO, it_printf("types=trade.filled,order.placed,trade.filled&cursor=%s",
                             tail(DEMO, "types=order.placed,trade.filled")));
    it_assert_status(r, 200);
    it_response_free(&r);
    /* a limit pages: two events, then the rest from its cursor */
    r = feed(DEMO, it_printf("limit=2&cursor=%s", c_all));
    it_assert_status(r, 200);
    got.n = 0;
    c_all = page_into(&r, &got);
    ck_assert_int_eq(got.n, 2);
    it_response_free(&r);
    read_to_end(DEMO, NULL, c_all, &got);
    ck_assert_int_eq(got.n, 6);

    /* cursors: only the feed's, of this tenant and these filters */
    r = feed(DEMO, it_printf("cursor=%s", c_fill));
    it_assert_error(r, 400, "INVALID_CURSOR");
    it_response_free(&r);
    r = feed(OTHER, it_printf("cursor=%s", c_all));
    it_assert_error(r, 400, "INVALID_CURSOR");
    it_response_free(&r);
    bad = strdup(c_all);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    r = feed(DEMO, it_printf("cursor=%s", bad));
    it_assert_error(r, 400, "INVALID_CURSOR");
    it_response_free(&r);
    r = it_request("GET", it_printf("/v1/partner/accounts/%s/trades?limit=1", a),
                   IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(r, 200);
    c_trades = strdup(it_json_str(r.json, "next_cursor"));
    it_response_free(&r);
    r = feed(DEMO, it_printf("cursor=%s", c_trades));
    it_assert_error(r, 400, "INVALID_CURSOR");
    it_response_free(&r);

    /* the query string */
    {
        static const char *const invalid[] = {
            "limit=0",     "limit=501",           "wait=31",        "wait=-1",       "wait=x",
            "types=bogus", "types=trade.filled,", "account_id=xyz", "wait=1&wait=1", NULL
        };
        for (i = 0; invalid[i]; i++) {
            r = feed(DEMO, invalid[i]);
            it_assert_error(r, 422, "VALIDATION_FAILED");
            it_response_free(&r);
        }
    }
    r = feed(DEMO, it_printf("account_id=%s", other));
    it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
    it_response_free(&r);
    r = feed(DEMO, "account_id=" IT_SAMPLE_ACCOUNT);
    it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
    it_response_free(&r);
    r = it_request("GET", STREAM "?account_id=" IT_SAMPLE_ACCOUNT, IT_HEADERS(it_key_header(DEMO)),
                   NULL);
    it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
    it_response_free(&r);

    /* accounts:read is the permission */
    r = feed(WRITEONLY, NULL);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    r = it_request("GET", STREAM, IT_HEADERS(it_key_header(WRITEONLY)), NULL);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    r = feed(READONLY, it_printf("cursor=%s", c_all));
    it_assert_status(r, 200);
    it_response_free(&r);
    r = it_request("POST", EVENTS, IT_HEADERS(it_key_header(DEMO)), "{}");
    it_assert_error(r, 405, "METHOD_NOT_ALLOWED");
    it_response_free(&r);
}
END_TEST

/* A long-poll with nothing to say returns after its wait with its own
 * position; a page always has a next_cursor. */
START_TEST(test_long_poll_times_out_in_place)
{
    char *c = tail(DEMO, NULL);
    it_response_t r = feed(DEMO, it_printf("wait=1&cursor=%s", c));

    it_assert_status(r, 200);
    ck_assert_int_eq(json_object_array_length(it_json_get(r.json, "data")), 0);
    ck_assert_str_eq(it_json_str(r.json, "next_cursor"), c);
    ck_assert_msg(r.seconds >= 0.9 && r.seconds < 5, "a 1 s long-poll took %.2f s", r.seconds);
    it_response_free(&r);
}
END_TEST

/* ---- isolation and expiry ------------------------------------------------------------------ */

START_TEST(test_tenants_see_only_their_own)
{
    char *c_demo = tail(DEMO, NULL), *c_other = tail(OTHER, NULL), *acc;
    evlist_t demo = { 0 }, other = { 0 };
    size_t i;

    acc = new_account(OTHER);
    read_to_end(DEMO, NULL, c_demo, &demo);
    read_to_end(OTHER, NULL, c_other, &other);
    for (i = 0; i < demo.n; i++) {
        ck_assert_str_ne(demo.v[i].account_id ? demo.v[i].account_id : "", acc);
    }
    ck_assert_int_eq(other.n, 1);
    ck_assert_str_eq(other.v[0].type, "account.created");
    ck_assert_str_eq(other.v[0].account_id, acc);
    /* each tenant's ids are its own sequence */
    ck_assert_int_eq(other.v[0].id, last_id("other"));
}
END_TEST

/* Makes the database purge tenant's events through `through` the way it
 * does in production: they become older than the retention and the next
 * writes cross a multiple of 1,024 pending events. */
static void purge_through(const char *key, const char *tenant, long long through)
{
    int round;
    for (round = 0; round < 40; round++) {
        if (it_db_int("select purged_through from event_counters where tenant = $1", tenant)
            >= through) {
            return;
        }
        it_db_scalar("select count(*)::text from (select 1 from events where tenant = $1 "
                     "and event_id <= $2) s",
                     tenant, it_lltext(through));
        it_db_scalar(
            "with u as (update events set occurred_at = now() - interval '30 days' "
            "where tenant = $1 and event_id <= $2 returning 1) select count(*)::text from u",
            tenant, it_lltext(through));
        it_db_scalar(
            "select setval('event_pending_seq_seq', "
            "(select (last_value / 1024 + 1) * 1024 - 1 from event_pending_seq_seq))::text");
        new_account(key);
    }
    ck_abort_msg("%s's events were not purged through %lld", tenant, through);
}

START_TEST(test_cursor_behind_the_purge_is_expired)
{
    char *c = tail(OTHER, NULL);
    long long at = last_id("other");
    evlist_t got = { 0 };
    it_response_t r;

    new_account(OTHER);
    purge_through(OTHER, "other", at + 1);
    r = feed(OTHER, it_printf("cursor=%s", c));
    it_assert_error(r, 410, "CURSOR_EXPIRED");
    it_response_free(&r);
    r = it_request("GET", it_printf(STREAM "?cursor=%s", c), IT_HEADERS(it_key_header(OTHER)),
                   NULL);
    it_assert_error(r, 410, "CURSOR_EXPIRED");
    it_response_free(&r);
    /* without a cursor: from the oldest event still kept */
    r = feed(OTHER, "limit=1");
    it_assert_status(r, 200);
    page_into(&r, &got);
    ck_assert_msg(got.n == 1 && got.v[0].id > at + 1, "%s", it_describe(&r));
    it_response_free(&r);
}
END_TEST

/* ---- visibility and wake-up ---------------------------------------------------------------- */

typedef struct {
    const char *key;
    char *query;
    it_response_t r;
    atomic_int done;
    double done_at;
} poll_t;

static void *poll_run(void *arg)
{
    poll_t *p = arg;
    p->r = feed(p->key, p->query);
    p->done_at = it_now();
    atomic_store(&p->done, 1);
    return NULL;
}

static PGconn *connect_db(void)
{
    PGconn *c = PQconnectdb(it_env("DATABASE_URL"));
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "libpq: %s", PQerrorMessage(c));
    PQclear(PQexec(c, "SET search_path = public, api, engine"));
    return c;
}

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQerrorMessage(c));
    PQclear(res);
}

/* Creates an account of user uid in its own statement (no commit of its own
 * when inside BEGIN). */
static void sql_account(PGconn *c, long long uid)
{
    const char *params[2];
    PGresult *res;
    params[0] = it_lltext(uid);
    params[1] = it_unique("sqlacct");
    res = PQexecParams(c,
                       "select status from api.pp_create_account('demo', $1::bigint, $2, "
                       "'challenge', 500, '{}', '{}')",
                       2, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK
                      && strcmp(PQgetvalue(res, 0, 0), "201") == 0,
                  "pp_create_account: %s", PQerrorMessage(c));
    PQclear(res);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

START_TEST(test_visible_only_after_commit_and_wakes_long_polls)
{
    long long uid = new_user(DEMO);
    char *c = tail(DEMO, NULL);
    PGconn *db = connect_db();
    pthread_t th;
    poll_t p;
    evlist_t got = { 0 };
    double lat[40], t0;
    int i, n = (int)(sizeof(lat) / sizeof(lat[0]));
    it_response_t r;

    exec_ok(db, "BEGIN");
    sql_account(db, uid);
    r = feed(DEMO, it_printf("cursor=%s", c));
    it_assert_status(r, 200);
    ck_assert_msg(json_object_array_length(it_json_get(r.json, "data")) == 0,
                  "an uncommitted event is visible: %s", it_describe(&r));
    it_response_free(&r);
    memset(&p, 0, sizeof(p));
    p.key = DEMO;
    p.query = it_printf("wait=10&cursor=%s", c);
    ck_assert_int_eq(pthread_create(&th, NULL, poll_run, &p), 0);
    it_sleep_ms(500);
    ck_assert_msg(!atomic_load(&p.done), "the long-poll returned before the commit: %s",
                  it_describe(&p.r));
    t0 = it_now();
    exec_ok(db, "COMMIT");
    pthread_join(th, NULL);
    it_assert_status(p.r, 200);
    c = page_into(&p.r, &got);
    ck_assert_int_eq(got.n, 1);
    ck_assert_str_eq(got.v[0].type, "account.created");
    fprintf(stderr,
            "events (%s): the committed event woke a waiting long-poll %.1f ms after COMMIT "
            "was sent\n",
            it_env("PP_MPM"), (p.done_at - t0) * 1000);

    /* how soon a commit reaches a waiting long-poll: from sending the
     * statement that commits to the long-poll's answer */
    for (i = 0; i < n; i++) {
        memset(&p, 0, sizeof(p));
        p.key = DEMO;
        p.query = it_printf("wait=10&cursor=%s", c);
        ck_assert_int_eq(pthread_create(&th, NULL, poll_run, &p), 0);
        it_sleep_ms(150);
        t0 = it_now();
        sql_account(db, uid);
        pthread_join(th, NULL);
        it_assert_status(p.r, 200);
        got.n = 0;
        c = page_into(&p.r, &got);
        ck_assert_msg(got.n == 1, "%s", it_describe(&p.r));
        lat[i] = (p.done_at - t0) * 1000;
        it_response_free(&p.r);
    }
    qsort(lat, (size_t)n, sizeof(lat[0]), cmp_double);
    fprintf(stderr,
            "events (%s): commit -> waiting long-poll answered, %d commits: p50 %.1f ms, "
            "p99 %.1f ms, max %.1f ms\n",
            it_env("PP_MPM"), n, lat[n / 2], lat[(n * 99) / 100], lat[n - 1]);
    PQfinish(db);
}
END_TEST

/* ---- order under concurrent writers -------------------------------------------------------- */

#define WRITERS 8
#define ORDERS  20

typedef struct {
    char *account;
    const char *tok;
    int orders, failed;
    int tolerate; /* non-201 answers allowed (a restart) */
    volatile int *stop;
    double every_ms;
} writer_t;

static void *writer_run(void *arg)
{
    writer_t *w = arg;
    int i;
    for (i = 0; w->stop ? !*w->stop : i < w->orders; i++) {
        long st = place(w->account, w->tok);
        if (st != 201) {
            w->failed++;
        }
        if (w->every_ms > 0) {
            it_sleep_ms((long)w->every_ms);
        }
    }
    return NULL;
}

typedef struct {
    const char *key;
    char *cursor;
    int wait;
    atomic_long target; /* 0: not known yet */
    double deadline;
    evlist_t got;
    int errors;
    char *problem;
} reader_t;

static void *reader_run(void *arg)
{
    reader_t *rd = arg;
    while (it_now() < rd->deadline) {
        long target = atomic_load(&rd->target);
        it_response_t r;
        if (target && (long)rd->got.n >= target) {
            break;
        }
        r = feed(rd->key, it_printf("limit=50&wait=%d&cursor=%s", rd->wait, rd->cursor));
        if (r.status == 200) {
            rd->cursor = page_into(&r, &rd->got);
        }
        else {
            rd->errors++;
            if (!rd->problem && r.status != 503) {
                rd->problem = it_describe(&r);
            }
            it_sleep_ms(100);
        }
        it_response_free(&r);
    }
    return NULL;
}

static char *uuid_array(char *const *ids, int n)
{
    char *s = strdup("{");
    int i;
    for (i = 0; i < n; i++) {
        s = it_printf("%s%s%s", s, i ? "," : "", ids[i]);
    }
    return it_printf("%s}", s);
}

START_TEST(test_commit_order_without_gaps_under_concurrent_writers)
{
    char *tok = quoted_token(), *accounts[WRITERS], *start, *want, *p;
    pthread_t wt[WRITERS], rt[4];
    writer_t w[WRITERS];
    reader_t rd[4];
    sse_t *sse;
    long long l0, l1;
    int i;

    for (i = 0; i < WRITERS; i++) {
        accounts[i] = new_account(DEMO);
    }
    l0 = last_id("demo");
    start = tail(DEMO, NULL);
    /* two readers poll as fast as they can, two long-poll, one streams */
    for (i = 0; i < 4; i++) {
        memset(&rd[i], 0, sizeof(rd[i]));
        rd[i].key = DEMO;
        rd[i].cursor = start;
        rd[i].wait = i < 2 ? 0 : 2;
        rd[i].deadline = it_now() + 90;
        ck_assert_int_eq(pthread_create(&rt[i], NULL, reader_run, &rd[i]), 0);
    }
    sse = sse_open(DEMO, it_printf("cursor=%s", start), NULL);
    for (i = 0; i < WRITERS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].account = accounts[i];
        w[i].tok = tok;
        w[i].orders = ORDERS;
        ck_assert_int_eq(pthread_create(&wt[i], NULL, writer_run, &w[i]), 0);
    }
    for (i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        ck_assert_int_eq(w[i].failed, 0);
    }
    l1 = last_id("demo");
    ck_assert_int_eq(l1 - l0, WRITERS * ORDERS * 2);
    want = range_ids(l0, l1);
    /* the database holds exactly these, one commit after the other */
    ck_assert_str_eq(db_ids("demo", l0), want);
    for (i = 0; i < 4; i++) {
        atomic_store(&rd[i].target, (long)(l1 - l0));
    }
    for (i = 0; i < 4; i++) {
        pthread_join(rt[i], NULL);
        ck_assert_msg(rd[i].problem == NULL, "reader %d: %s", i, rd[i].problem);
        p = ids_problem(evlist_ids(&rd[i].got), want);
        ck_assert_msg(p == NULL, "reader %d (wait=%d): %s", i, rd[i].wait, p);
    }
    sse_wait(sse, (size_t)(l1 - l0), 30);
    sse_close(sse);
    p = ids_problem(evlist_ids(&sse->events), want);
    ck_assert_msg(p == NULL, "the stream: %s", p);
    /* complete: every order and fill of the writers' accounts is an event */
    {
        char *arr = uuid_array(accounts, WRITERS);
        ck_assert_int_eq(it_db_int("select count(*) from orders o join accounts a on a.wallet_id "
                                   "= o.wallet_id where a.id = any($1::uuid[])",
                                   arr),
                         it_db_int("select count(*) from events where tenant = 'demo' and "
                                   "event_id > $1 and type = 'order.placed' and account_id = "
                                   "any($2::uuid[])",
                                   it_lltext(l0), arr));
        ck_assert_int_eq(it_db_int("select count(*) from fills f join accounts a on a.wallet_id "
                                   "= f.wallet_id where a.id = any($1::uuid[])",
                                   arr),
                         it_db_int("select count(*) from events where tenant = 'demo' and "
                                   "event_id > $1 and type = 'trade.filled' and account_id = "
                                   "any($2::uuid[])",
                                   it_lltext(l0), arr));
    }
}
END_TEST

/* ---- the stream ----------------------------------------------------------------------------- */

START_TEST(test_stream_sends_heartbeats_and_resumes_from_last_event_id)
{
    char *acc = new_account(DEMO), *tok = quoted_token(), *start = tail(DEMO, NULL);
    long long l0 = last_id("demo");
    sse_t *s, *s2;
    it_response_t r;
    size_t i;

    s = sse_open(DEMO, it_printf("cursor=%s", start), NULL);
    sse_wait_open(s, 10);
    for (i = 0; i < 3; i++) {
        place_ok(acc, tok);
    }
    ck_assert_int_eq(sse_wait(s, 6, 10), 6);
    it_sleep_ms(2500);
    sse_close(s);
    ck_assert_int_eq(s->status, 200);
    ck_assert_str_eq(s->content_type, "text/event-stream");
    ck_assert_int_eq(s->retry_lines, 1);
    ck_assert_msg(s->heartbeats >= 1, "no heartbeat in 2.5 s (PolyPartnerEventHeartbeat 1)");
    ck_assert_int_eq(s->events.n, 6);
    for (i = 0; i < 6; i++) {
        ck_assert_int_eq(s->events.v[i].id, l0 + 1 + (long long)i);
        ck_assert_ptr_nonnull(s->events.v[i].cursor);
        ck_assert(it_json_keys_are(s->events.v[i].event, event_keys));
    }

    for (i = 0; i < 2; i++) {
        place_ok(acc, tok);
    }
    /* Last-Event-ID wins over the cursor of the URL an EventSource reopens */
    s2 = sse_open(DEMO, it_printf("cursor=%s", start), s->events.v[5].cursor);
    sse_wait(s2, 4, 10);
    it_sleep_ms(1500);
    sse_close(s2);
    ck_assert_str_eq(evlist_ids(&s2->events), range_ids(l0 + 6, l0 + 10));
    /* a stream's id is a cursor of the feed too */
    r = feed(DEMO, it_printf("cursor=%s", s2->events.v[3].cursor));
    it_assert_status(r, 200);
    ck_assert_int_eq(json_object_array_length(it_json_get(r.json, "data")), 0);
    it_response_free(&r);
    /* and a bad one is refused before the stream begins */
    r = it_request("GET", STREAM, IT_HEADERS(it_key_header(DEMO), "Last-Event-ID: nope"), NULL);
    it_assert_error(r, 400, "INVALID_CURSOR");
    it_response_free(&r);
}
END_TEST

/* A reader that reconnects whenever its stream ends, with Last-Event-ID. */
typedef struct {
    const char *key;
    char *start;
    atomic_long target; /* 0: not known yet */
    atomic_int stop;
    double deadline;
    evlist_t got;
    int connections, clean_ends, refused;
} resumer_t;

static void *resumer_run(void *arg)
{
    resumer_t *rs = arg;
    while (it_now() < rs->deadline) {
        long target = atomic_load(&rs->target);
        sse_t *s;
        size_t i;
        if (target && (long)rs->got.n >= target) {
            break;
        }
        s = sse_new(rs->key, it_printf("cursor=%s", rs->start),
                    rs->got.n ? rs->got.v[rs->got.n - 1].cursor : NULL);
        s->deadline = rs->deadline;
        rs->connections++;
        /* ends by itself (a restart) or once everything arrived */
        {
            pthread_t th;
            ck_assert_int_eq(pthread_create(&th, NULL, sse_thread, s), 0);
            for (;;) {
                long t = atomic_load(&rs->target);
                int ended;
                size_t n;
                pthread_mutex_lock(&s->mu);
                ended = s->ended;
                n = s->events.n;
                pthread_mutex_unlock(&s->mu);
                if (ended || (t && (long)(rs->got.n + n) >= t) || it_now() > rs->deadline) {
                    break;
                }
                it_sleep_ms(20);
            }
            atomic_store(&s->stop, 1);
            pthread_join(th, NULL);
        }
        for (i = 0; i < s->events.n; i++) {
            evlist_push(&rs->got, s->events.v[i].event, s->events.v[i].cursor);
        }
        if (s->status == 200 && s->curl_code == CURLE_OK) {
            rs->clean_ends++;
        }
        if (s->status != 200) {
            rs->refused++;
            it_sleep_ms(200);
        }
    }
    return NULL;
}

static void restart_httpd_gracefully(void)
{
    char *argv[] = { (char *)it_env("PP_APACHE_BIN"),
                     "-f",
                     (char *)it_env("PP_HTTPD_CONF"),
                     "-k",
                     "graceful",
                     NULL };
    char *out = NULL;
    int rc = it_run(argv, &out);
    ck_assert_msg(rc == 0, "apache2 -k graceful: %d %s", rc, out ? out : "");
}

START_TEST(test_stream_ends_on_graceful_restart_and_resumes_without_gap)
{
    char *acc = new_account(DEMO), *tok = quoted_token();
    char *start = tail(DEMO, NULL), *p_ids;
    long long l0 = last_id("demo"), l1;
    volatile int stop = 0;
    pthread_t wt, rt, pt;
    writer_t w;
    resumer_t rs;
    poll_t p;
    double t0;

    memset(&rs, 0, sizeof(rs));
    rs.key = DEMO;
    rs.start = start;
    rs.deadline = it_now() + 60;
    ck_assert_int_eq(pthread_create(&rt, NULL, resumer_run, &rs), 0);
    memset(&w, 0, sizeof(w));
    w.account = acc;
    w.tok = tok;
    w.stop = &stop;
    w.every_ms = 30;
    ck_assert_int_eq(pthread_create(&wt, NULL, writer_run, &w), 0);
    memset(&p, 0, sizeof(p));
    p.key = DEMO;
    /* day.started is not emitted yet: this long-poll waits until it ends */
    p.query = it_printf("types=day.started&wait=25&cursor=%s", tail(DEMO, "types=day.started"));
    ck_assert_int_eq(pthread_create(&pt, NULL, poll_run, &p), 0);
    it_sleep_ms(1500);
    t0 = it_now();
    restart_httpd_gracefully();
    /* the long-poll (nothing it waits for happens) ends with the old child */
    pthread_join(pt, NULL);
    it_assert_status(p.r, 200);
    ck_assert_msg(p.done_at - t0 < 10, "the long-poll ended %.1f s after the restart",
                  p.done_at - t0);
    it_sleep_ms(1500);
    stop = 1;
    pthread_join(wt, NULL);
    l1 = last_id("demo");
    atomic_store(&rs.target, (long)(l1 - l0));
    pthread_join(rt, NULL);
    ck_assert_msg(w.failed == 0, "%d orders failed across a graceful restart", w.failed);
    p_ids = ids_problem(evlist_ids(&rs.got), range_ids(l0, l1));
    ck_assert_msg(p_ids == NULL, "across a graceful restart, the stream: %s", p_ids);
    ck_assert_msg(rs.connections >= 2 && rs.clean_ends >= 1,
                  "the stream did not end cleanly on the restart (%d connections, %d clean ends)",
                  rs.connections, rs.clean_ends);
}
END_TEST

/* ---- bounds --------------------------------------------------------------------------------- */

START_TEST(test_streams_and_long_polls_are_bounded)
{
    char *c_demo = tail(DEMO, NULL), *c_other = tail(OTHER, NULL);
    sse_t *open[SERVER_LIMIT];
    it_response_t r;
    int i, n = 0;
    double until;

    it_sleep_ms(1500); /* the streams of the tests before have gone */
    for (i = 0; i < TENANT_LIMIT; i++) {
        open[n] = sse_open(DEMO, it_printf("cursor=%s", c_demo), NULL);
        sse_wait_open(open[n], 10);
        ck_assert_msg(open[n]->opened && !open[n]->ended, "stream %d did not open", i);
        n++;
    }
    r = it_request("GET", it_printf(STREAM "?cursor=%s", c_demo), IT_HEADERS(it_key_header(DEMO)),
                   NULL);
    it_assert_error(r, 429, "RATE_LIMIT_EXCEEDED");
    ck_assert_ptr_nonnull(it_header(&r, "Retry-After"));
    it_response_free(&r);
    r = feed(DEMO, it_printf("wait=5&cursor=%s", c_demo));
    it_assert_error(r, 429, "RATE_LIMIT_EXCEEDED");
    it_response_free(&r);
    /* a poll that does not wait is not bounded */
    r = feed(DEMO, it_printf("cursor=%s", c_demo));
    it_assert_status(r, 200);
    it_response_free(&r);
    for (i = TENANT_LIMIT; i < SERVER_LIMIT; i++) {
        open[n] = sse_open(OTHER, it_printf("cursor=%s", c_other), NULL);
        sse_wait_open(open[n], 10);
        ck_assert_msg(open[n]->opened && !open[n]->ended, "stream %d did not open", i);
        n++;
    }
    r = feed(OTHER, it_printf("wait=5&cursor=%s", c_other));
    it_assert_error(r, 503, "SERVICE_UNAVAILABLE");
    ck_assert_ptr_nonnull(it_header(&r, "Retry-After"));
    it_response_free(&r);
    for (i = 0; i < n; i++) {
        sse_close(open[i]);
        ck_assert_int_eq(open[i]->status, 200);
    }
    /* the places come back once the server has seen the clients go */
    until = it_now() + 10;
    for (;;) {
        r = feed(OTHER, it_printf("wait=1&cursor=%s", c_other));
        if (r.status == 200 || it_now() > until) {
            break;
        }
        it_response_free(&r);
        it_sleep_ms(200);
    }
    it_assert_status(r, 200);
    it_response_free(&r);
}
END_TEST

/* ---- stopping httpd ---------------------------------------------------------------------- */

/* s with every `from` replaced by `to` (malloc'd). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    char *out = strdup("");
    const char *p;
    size_t n = strlen(from);
    while ((p = strstr(s, from)) != NULL) {
        out = it_printf("%s%.*s%s", out, (int)(p - s), s, to);
        s = p + n;
    }
    return it_printf("%s%s", out, s);
}

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *text = it_read_file(from, &len);
    FILE *f = fopen(to, "w");
    ck_assert_msg(text && f, "copying %s to %s", from, to);
    fwrite(text, 1, len, f);
    ck_assert_int_eq(fclose(f), 0);
}

static int httpd_ctl(const char *conf, const char *what)
{
    char *argv[] = {
        (char *)it_env("PP_APACHE_BIN"), "-f", (char *)conf, "-k", (char *)what, NULL
    };
    char *out = NULL;
    return it_run(argv, &out);
}

/* apachectl stop while streams and long-polls wait: every child exits
 * cleanly (under prefork the signal ends a child in the middle of its
 * request). On a second server, copied from the harness's. */
START_TEST(test_children_exit_cleanly_when_httpd_stops_under_streams)
{
    const char *root = it_env("PP_HTTPD_ROOT");
    char *dir = it_printf("%s/pp-it-stop-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    char *conf, *text, *log, *old_port, *new_port, *c;
    int port = free_port(), i;
    sse_t *s[2];
    pthread_t th;
    poll_t p;
    double until;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    chmod(dir, 0755);
    conf = it_printf("%s/httpd.conf", dir);
    old_port = it_printf("127.0.0.1:%s", it_env("PP_HTTPD_PORT"));
    new_port = it_printf("127.0.0.1:%d", port);
    text = replace_all(replace_all(it_read_file(it_env("PP_HTTPD_CONF"), NULL), root, dir),
                       old_port, new_port);
    /* a few prefork children are enough (and stop quickly under ASan too) */
    text = replace_all(replace_all(text, "StartServers 48", "StartServers 4"), "MinSpareServers 16",
                       "MinSpareServers 2");
    copy_file(it_printf("%s/tenants.conf", root), it_printf("%s/tenants.conf", dir));
    copy_file(it_printf("%s/mail.conf", root), it_printf("%s/mail.conf", dir));
    {
        FILE *f = fopen(conf, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
    }
    ck_assert_int_eq(httpd_ctl(conf, "start"), 0);
    setenv("POLYPARTNER_URL", it_printf("http://%s", new_port), 1);
    for (until = it_now() + 10;;) {
        it_response_t r = it_request("GET", "/v1/markets", NULL, NULL);
        long st = r.status;
        it_response_free(&r);
        if (st == 200) {
            break;
        }
        ck_assert_msg(it_now() < until, "the second server did not come up");
        it_sleep_ms(100);
    }
    c = tail(DEMO, NULL);
    for (i = 0; i < 2; i++) {
        s[i] = sse_open(DEMO, it_printf("cursor=%s", c), NULL);
        sse_wait_open(s[i], 10);
    }
    memset(&p, 0, sizeof(p));
    p.key = DEMO;
    p.query = it_printf("wait=20&cursor=%s", c);
    ck_assert_int_eq(pthread_create(&th, NULL, poll_run, &p), 0);
    it_sleep_ms(1000);
    ck_assert_int_eq(httpd_ctl(conf, "stop"), 0);
    for (until = it_now() + 15; access(it_printf("%s/httpd.pid", dir), F_OK) == 0;) {
        ck_assert_msg(it_now() < until, "the second server did not stop");
        it_sleep_ms(100);
    }
    for (i = 0; i < 2; i++) {
        sse_close(s[i]);
    }
    pthread_join(th, NULL);
    log = it_read_file(it_printf("%s/error.log", dir), NULL);
    ck_assert_msg(log && !strstr(log, "exit signal"), "a child did not exit cleanly: %.300s",
                  log && strstr(log, "exit signal") ? strstr(log, "exit signal") : "(no log)");
}
END_TEST

/* ---- PostgreSQL restart ------------------------------------------------------------------- */

static void ensure_pg_up(void)
{
    double until;
    char *argv[2] = { NULL, NULL }, *out = NULL;
    if (it_db_up() || !getenv("PP_PG_START")) {
        return;
    }
    argv[0] = getenv("PP_PG_START");
    it_run(argv, &out);
    free(out);
    for (until = it_now() + 15; !it_db_up() && it_now() < until;) {
        it_sleep_ms(200);
    }
}

START_TEST(test_stream_and_long_polls_survive_a_postgresql_restart)
{
    char *acc = new_account(DEMO), *tok = quoted_token(), *start = tail(DEMO, NULL), *p;
    long long l0 = last_id("demo"), l1;
    char *argv[] = { (char *)it_env("PP_PG_RESTART"), NULL }, *out = NULL;
    volatile int stop = 0;
    pthread_t wt, rt, lt;
    writer_t w;
    resumer_t rs;
    reader_t rd;

    it_expect_log("\\[dbd:error\\]");
    it_expect_log("\\[polypartner:error\\].*([Dd]atabase|PostgreSQL|DBD|dbd)");
    memset(&rs, 0, sizeof(rs));
    rs.key = DEMO;
    rs.start = start;
    rs.deadline = it_now() + 90;
    ck_assert_int_eq(pthread_create(&rt, NULL, resumer_run, &rs), 0);
    memset(&rd, 0, sizeof(rd));
    rd.key = DEMO;
    rd.cursor = start;
    rd.wait = 2;
    rd.deadline = it_now() + 90;
    ck_assert_int_eq(pthread_create(&lt, NULL, reader_run, &rd), 0);
    memset(&w, 0, sizeof(w));
    w.account = acc;
    w.tok = tok;
    w.stop = &stop;
    w.every_ms = 30;
    ck_assert_int_eq(pthread_create(&wt, NULL, writer_run, &w), 0);
    it_sleep_ms(1500);
    ck_assert_msg(it_run(argv, &out) == 0, "pg-restart: %s", out ? out : "");
    it_sleep_ms(2500);
    stop = 1;
    pthread_join(wt, NULL);
    ensure_pg_up();
    /* one more write after the restart, to see the wake-ups work again */
    place_ok(acc, tok);
    l1 = last_id("demo");
    atomic_store(&rs.target, (long)(l1 - l0));
    atomic_store(&rd.target, (long)(l1 - l0));
    pthread_join(rt, NULL);
    pthread_join(lt, NULL);
    ck_assert_msg(rd.problem == NULL, "the long-poller: %s", rd.problem);
    p = ids_problem(evlist_ids(&rs.got), range_ids(l0, l1));
    ck_assert_msg(p == NULL, "across a PostgreSQL restart, the stream: %s", p);
    p = ids_problem(evlist_ids(&rd.got), range_ids(l0, l1));
    ck_assert_msg(p == NULL, "across a PostgreSQL restart, the long-poller: %s", p);
    fprintf(stderr,
            "events (%s): PostgreSQL restart: %d orders refused, stream reconnected %d times, "
            "long-poller retried %d times\n",
            it_env("PP_MPM"), w.failed, rs.connections - 1, rd.errors);
}
END_TEST

Suite *it_events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *feed_tc = tcase_create("feed");
    TCase *stream_tc = tcase_create("stream");
    TCase *pg = tcase_create("restart");

    tcase_set_timeout(feed_tc, 120);
    tcase_add_test(feed_tc, test_events_say_what_happened);
    tcase_add_test(feed_tc, test_filters_and_cursors);
    tcase_add_test(feed_tc, test_long_poll_times_out_in_place);
    tcase_add_test(feed_tc, test_tenants_see_only_their_own);
    tcase_add_test(feed_tc, test_cursor_behind_the_purge_is_expired);
    tcase_add_test(feed_tc, test_visible_only_after_commit_and_wakes_long_polls);
    tcase_add_test(feed_tc, test_commit_order_without_gaps_under_concurrent_writers);
    suite_add_tcase(s, feed_tc);

    tcase_set_timeout(stream_tc, 120);
    tcase_add_test(stream_tc, test_stream_sends_heartbeats_and_resumes_from_last_event_id);
    tcase_add_test(stream_tc, test_streams_and_long_polls_are_bounded);
    tcase_add_test(stream_tc, test_stream_ends_on_graceful_restart_and_resumes_without_gap);
    tcase_add_test(stream_tc, test_children_exit_cleanly_when_httpd_stops_under_streams);
    suite_add_tcase(s, stream_tc);

    tcase_add_unchecked_fixture(pg, ensure_pg_up, ensure_pg_up);
    tcase_add_checked_fixture(pg, ensure_pg_up, NULL);
    tcase_set_timeout(pg, 120);
    tcase_add_test(pg, test_stream_and_long_polls_survive_a_postgresql_restart);
    suite_add_tcase(s, pg);
    return s;
}
