/* The integration tests' HTTP client, JSON, database and process helpers. */
#include "it.h"

#include <ctype.h>
#include <dirent.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the documented surface ------------------------------------------------ */

const it_route_case_t it_routes[] = {
    { "POST", "/v1/partner/users", "{}", "users:write" },
    { "GET", "/v1/partner/users/1", NULL, "accounts:read" },
    { "POST", "/v1/partner/users/1/login-link", "{}", "users:write" },
    { "POST", "/v1/partner/accounts", "{}", "accounts:write" },
    { "GET", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT, NULL, "accounts:read" },
    { "PATCH", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT, "{}", "accounts:write" },
    { "GET", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT "/trades", NULL, "accounts:read" },
    { "POST", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT "/close", NULL, "accounts:write" },
    { "POST", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT "/reset", NULL, "accounts:write" },
    { NULL, NULL, NULL, NULL }
};

/* ---- environment --------------------------------------------------------- */

const char *it_env_opt(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

const char *it_env(const char *name)
{
    const char *v = it_env_opt(name);
    if (!v) {
        ck_abort_msg("environment variable %s is not set (run the suite through "
                     "test/harness/run-integration)",
                     name);
    }
    return v;
}

/* ---- misc ------------------------------------------------------------------ */

char *it_printf(const char *fmt, ...)
{
    va_list ap;
    char *out;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(out = malloc((size_t)n + 1))) {
        abort();
    }
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

static char *it_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        abort();
    }
    return d;
}

char *it_unique(const char *prefix)
{
    static atomic_ulong counter;
    struct timespec ts;
    unsigned long n = atomic_fetch_add(&counter, 1) + 1;

    clock_gettime(CLOCK_REALTIME, &ts);
    return it_printf("%s-%ld-%lld%06ld-%lu", prefix, (long)getpid(), (long long)ts.tv_sec,
                     ts.tv_nsec / 1000, n);
}

double it_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

char *it_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f) {
        return NULL;
    }
    for (;;) {
        size_t got;
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 131072;
            if (!(buf = realloc(buf, cap + 1))) {
                abort();
            }
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return buf;
}

int it_run(char *const argv[], char **output)
{
    int fds[2], status;
    pid_t pid;
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (output) {
        *output = NULL;
    }
    if (pipe(fds) != 0) {
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
        }
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t got;
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            if (!(buf = realloc(buf, cap + 1))) {
                abort();
            }
        }
        got = read(fds[0], buf + n, cap - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        n += (size_t)got;
    }
    close(fds[0]);
    buf[n] = '\0';
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            free(buf);
            return -1;
        }
    }
    if (output) {
        *output = buf;
    }
    else {
        free(buf);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void it_expect_log(const char *regex)
{
    const char *path = it_env_opt("PP_EXPECTED_LOG");
    FILE *f;

    if (!path) {
        fprintf(stderr, "warning: PP_EXPECTED_LOG is not set; not recording /%s/\n", regex);
        return;
    }
    f = fopen(path, "a");
    ck_assert_msg(f != NULL, "cannot append to PP_EXPECTED_LOG %s: %s", path, strerror(errno));
    fprintf(f, "%s\n", regex);
    ck_assert_msg(fclose(f) == 0, "writing PP_EXPECTED_LOG %s failed", path);
}

int it_allow_has(const char *allow, const char *method)
{
    const char *c = allow;
    size_t mlen = strlen(method);

    if (!allow) {
        return 0;
    }
    while (*c) {
        const char *start, *end;
        while (*c == ' ' || *c == '\t' || *c == ',') c++;
        start = c;
        while (*c && *c != ',') c++;
        end = c;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
        if ((size_t)(end - start) == mlen && strncasecmp(start, method, mlen) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- JSON ---------------------------------------------------------------------- */

json_object *it_json_parse(const char *text, size_t len)
{
    json_tokener *tok;
    json_object *o;
    size_t end;

    if (!text || len == 0) {
        return NULL;
    }
    tok = json_tokener_new_ex(64);
    if (!tok) {
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, text, (int)len);
    if (!o && json_tokener_get_error(tok) == json_tokener_continue) {
        /* a bare number needs to see the end of input */
        o = json_tokener_parse_ex(tok, "", 1);
    }
    end = json_tokener_get_parse_end(tok);
    if (o && json_tokener_get_error(tok) == json_tokener_success) {
        /* allow trailing whitespace only */
        while (end < len
               && (text[end] == ' ' || text[end] == '\n' || text[end] == '\r'
                   || text[end] == '\t')) {
            end++;
        }
        if (end < len) {
            json_object_put(o);
            o = NULL;
        }
    }
    else if (o) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

json_object *it_json_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v)) {
        return NULL;
    }
    return v;
}

int it_json_has(json_object *o, const char *key)
{
    return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, NULL);
}

const char *it_json_str(json_object *o, const char *key)
{
    json_object *v = it_json_get(o, key);
    return (v && json_object_is_type(v, json_type_string)) ? json_object_get_string(v) : NULL;
}

int it_json_keys_are(json_object *o, const char *const *keys)
{
    size_t n = 0;

    if (!o || !json_object_is_type(o, json_type_object)) {
        return 0;
    }
    for (; keys[n]; n++) {
        if (!json_object_object_get_ex(o, keys[n], NULL)) {
            return 0;
        }
    }
    return (size_t)json_object_object_length(o) == n;
}

int it_is_uuid(const char *s)
{
    static const int dash[] = { 8, 13, 18, 23 };
    int i, d = 0;

    if (!s || strlen(s) != 36) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        if (d < 4 && i == dash[d]) {
            if (s[i] != '-') {
                return 0;
            }
            d++;
        }
        else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* ---- HTTP ------------------------------------------------------------------------ */

typedef struct {
    it_response_t *r;
    size_t cap;
} it_body_sink_t;

typedef struct {
    const char *data;
    size_t len;
    size_t pos;
} it_body_source_t;

static size_t it_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    it_body_sink_t *sink = userdata;
    it_response_t *r = sink->r;
    size_t n = size * nmemb;

    if (r->body_len + n + 1 > sink->cap) {
        size_t cap = sink->cap < 4096 ? 4096 : sink->cap;
        while (cap < r->body_len + n + 1) cap *= 2;
        if (!(r->body = realloc(r->body, cap))) {
            return 0;
        }
        sink->cap = cap;
    }
    memcpy(r->body + r->body_len, ptr, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

static void it_free_headers(it_response_t *r)
{
    size_t i;
    for (i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
}

static size_t it_header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    it_response_t *r = userdata;
    size_t n = size * nitems, len = n;
    const char *colon;
    char *name, *value;
    size_t vstart;

    while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n')) len--;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* a new status line: drop the headers of an interim (1xx) response */
        it_free_headers(r);
        return n;
    }
    colon = memchr(buf, ':', len);
    if (!colon) {
        return n;
    }
    name = strndup(buf, (size_t)(colon - buf));
    vstart = (size_t)(colon - buf) + 1;
    while (vstart < len && (buf[vstart] == ' ' || buf[vstart] == '\t')) vstart++;
    value = strndup(buf + vstart, len - vstart);
    r->headers = realloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
    if (!name || !value || !r->headers) {
        return 0;
    }
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = value;
    r->nheaders++;
    return n;
}

static size_t it_read_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
    it_body_source_t *src = userdata;
    size_t room = size * nitems, left = src->len - src->pos;
    size_t n = left < room ? left : room;

    /* small pieces, so the body really goes out as many chunks */
    if (n > 16384) {
        n = 16384;
    }
    memcpy(buffer, src->data + src->pos, n);
    src->pos += n;
    return n;
}

/* "Name: " with nothing after the colon would make libcurl drop the header;
 * "Name;" is its syntax for sending it empty. */
static char *it_curl_header_line(const char *h)
{
    const char *colon = strchr(h, ':');
    const char *v;

    if (!colon) {
        return it_strdup(h);
    }
    for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
    }
    if (*v == '\0') {
        return it_printf("%.*s;", (int)(colon - h), h);
    }
    return it_strdup(h);
}

static it_response_t it_perform(const char *method, const char *path, const char *const *headers,
                                const char *body, size_t len, int chunked)
{
    it_response_t r;
    it_body_sink_t sink = { &r, 0 };
    it_body_source_t src = { body, len, 0 };
    struct curl_slist *hl = NULL;
    const char *base = getenv("POLYPARTNER_URL");
    char *url;
    CURL *c;
    double t0;
    size_t i;

    memset(&r, 0, sizeof(r));
    r.method = it_strdup(method);
    r.path = it_strdup(path);
    r.body = it_strdup("");
    sink.cap = 1;
    if (!base || !*base) {
        snprintf(r.curl_error, sizeof(r.curl_error), "POLYPARTNER_URL is not set");
        r.curl_code = -1;
        return r;
    }
    url = it_printf("%s%s", base, path);
    c = curl_easy_init();
    if (!c) {
        abort();
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r.curl_error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, it_write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, it_header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    /* no path normalisation by the client: send exactly what the test says */
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);

    /* never wait for 100 Continue: send bodies straight away */
    hl = curl_slist_append(hl, "Expect:");
    for (i = 0; headers && headers[i]; i++) {
        char *line = it_curl_header_line(headers[i]);
        hl = curl_slist_append(hl, line);
        free(line);
    }
    if (chunked) {
        hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
    }
    if (body || chunked) {
        /* JSON, not libcurl's default form content type, unless the test set one */
        int has_ct = 0;
        for (i = 0; headers && headers[i]; i++) {
            if (strncasecmp(headers[i], "Content-Type:", 13) == 0) has_ct = 1;
        }
        if (!has_ct) {
            hl = curl_slist_append(hl, "Content-Type: application/json");
        }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

    if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    else if (chunked) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, it_read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
        if (strcmp(method, "POST") != 0) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        }
    }
    else if (body || strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0
             || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        if (strcmp(method, "POST") != 0) {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        }
    }
    else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }

    t0 = it_now();
    r.curl_code = (int)curl_easy_perform(c);
    r.seconds = it_now() - t0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    free(url);
    r.json = it_json_parse(r.body, r.body_len);
    return r;
}

it_response_t it_request(const char *method, const char *path, const char *const *headers,
                         const char *body)
{
    return it_perform(method, path, headers, body, body ? strlen(body) : 0, 0);
}

it_response_t it_request_len(const char *method, const char *path, const char *const *headers,
                             const char *body, size_t len)
{
    return it_perform(method, path, headers, body, len, 0);
}

it_response_t it_request_chunked(const char *method, const char *path, const char *const *headers,
                                 const char *body, size_t len)
{
    return it_perform(method, path, headers, body, len, 1);
}

void it_response_free(it_response_t *r)
{
    it_free_headers(r);
    free(r->method);
    free(r->path);
    free(r->body);
    if (r->json) {
        json_object_put(r->json);
    }
    memset(r, 0, sizeof(*r));
}

const char *it_header(const it_response_t *r, const char *name)
{
    size_t i;
    if (!r || !name) {
        return NULL;
    }
    for (i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            return r->headers[i].value;
        }
    }
    return NULL;
}

char *it_key_header(const char *key)
{
    return it_printf("X-API-Key: %s", key);
}

char *it_bearer_header(const char *key)
{
    return it_printf("Authorization: Bearer %s", key);
}

/* ---- assertions ------------------------------------------------------------------- */

char *it_describe(const it_response_t *r)
{
    if (r->status == 0) {
        return it_printf("%s %s: no response (curl %d: %s)", r->method, r->path, r->curl_code,
                         r->curl_error);
    }
    return it_printf("%s %s -> %ld, Content-Type %s, body %.600s%s", r->method, r->path, r->status,
                     it_header(r, "Content-Type") ? it_header(r, "Content-Type") : "(none)",
                     r->body, r->body_len > 600 ? "..." : "");
}

static int it_is_json_content_type(const char *ct)
{
    size_t n = strlen("application/json");
    if (!ct || strncasecmp(ct, "application/json", n) != 0) {
        return 0;
    }
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

char *it_json_problem(const it_response_t *r)
{
    const char *rid;
    if (r->status == 0) {
        return it_describe(r);
    }
    if (!it_is_json_content_type(it_header(r, "Content-Type"))) {
        return it_printf("expected Content-Type application/json: %s", it_describe(r));
    }
    if (!r->json) {
        return it_printf("expected a JSON body: %s", it_describe(r));
    }
    rid = it_header(r, "X-Request-Id");
    if (!rid || !*rid) {
        return it_printf("expected an X-Request-Id header: %s", it_describe(r));
    }
    return NULL;
}

char *it_status_problem(const it_response_t *r, long status)
{
    if (r->status != status) {
        return it_printf("expected status %ld: %s", status, it_describe(r));
    }
    return it_json_problem(r);
}

char *it_error_problem(const it_response_t *r, long status, const char *code)
{
    static const char *const envelope[] = { "error", "message", NULL };
    const char *error, *message;
    char *p;

    if ((p = it_status_problem(r, status)) != NULL) {
        return it_printf("%s (wanted error %s)", p, code);
    }
    if (!it_json_keys_are(r->json, envelope)) {
        return it_printf("expected exactly {\"error\", \"message\"}: %s", it_describe(r));
    }
    error = it_json_str(r->json, "error");
    message = it_json_str(r->json, "message");
    if (!error || strcmp(error, code) != 0) {
        return it_printf("expected error %s: %s", code, it_describe(r));
    }
    if (!message || !*message) {
        return it_printf("expected a non-empty string message: %s", it_describe(r));
    }
    return NULL;
}

int it_message_mentions(const it_response_t *r, const char *word)
{
    const char *m = it_json_str(r->json, "message");
    size_t wl = strlen(word);
    if (!m) {
        return 0;
    }
    for (; *m; m++) {
        if (strncasecmp(m, word, wl) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- database ------------------------------------------------------------------------ */

static PGresult *it_db_exec(const char *const *a, PGconn **conn_out)
{
    const char *url = it_env("DATABASE_URL");
    PGconn *conn = PQconnectdb(url);
    PGresult *res;
    int n = 0;

    if (PQstatus(conn) != CONNECTION_OK) {
        char *msg = it_printf("cannot connect to DATABASE_URL: %s", PQerrorMessage(conn));
        PQfinish(conn);
        ck_abort_msg("%s", msg);
    }
    /* The tests call api and engine functions by their bare names, as the SQL tests do. */
    PQclear(PQexec(conn, "SET search_path = public, api, engine"));
    while (a[n + 1]) n++;
    res = PQexecParams(conn, a[0], n, NULL, a + 1, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char *msg = it_printf("query failed: %s: %s", a[0], PQerrorMessage(conn));
        PQclear(res);
        PQfinish(conn);
        ck_abort_msg("%s", msg);
    }
    *conn_out = conn;
    return res;
}

char *it_db_scalar_v(const char *const *a)
{
    PGconn *conn;
    PGresult *res = it_db_exec(a, &conn);
    char *out = NULL;

    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
        out = it_strdup(PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    PQfinish(conn);
    return out;
}

long long it_db_int_v(const char *const *a)
{
    char *s = it_db_scalar_v(a), *end;
    long long v;

    ck_assert_msg(s != NULL, "query returned no value: %s", a[0]);
    errno = 0;
    v = strtoll(s, &end, 10);
    ck_assert_msg(errno == 0 && *end == '\0', "query returned non-integer '%s': %s", s, a[0]);
    free(s);
    return v;
}

int it_db_up(void)
{
    const char *url = it_env_opt("DATABASE_URL");
    return url && PQping(url) == PQPING_OK;
}

/* ---- API shortcuts ----------------------------------------------------------------------- */

char *it_json_quote(const char *s)
{
    json_object *o = json_object_new_string(s);
    char *q = it_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
                                                              | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return q;
}

char *it_registration_body(const char *external_id, const char *email, const char *metadata_json)
{
    char *x = it_json_quote(external_id), *e = it_json_quote(email), *body;
    if (metadata_json) {
        body = it_printf("{\"external_id\":%s,\"email\":%s,\"metadata\":%s}", x, e, metadata_json);
    }
    else {
        body = it_printf("{\"external_id\":%s,\"email\":%s}", x, e);
    }
    free(x);
    free(e);
    return body;
}

long long it_register(const char *key, const char *external_id, const char *email,
                      char **tenant_user_id)
{
    char *body = it_registration_body(external_id, email, NULL);
    it_response_t r = it_request("POST", "/v1/partner/users", IT_HEADERS(it_key_header(key)), body);
    json_object *uid;
    long long id;

    ck_assert_msg(r.status == 201 || r.status == 200, "registration failed: %s", it_describe(&r));
    uid = it_json_get(r.json, "user_id");
    ck_assert_msg(uid && json_object_is_type(uid, json_type_int),
                  "registration returned no integer user_id: %s", it_describe(&r));
    id = (long long)json_object_get_int64(uid);
    if (tenant_user_id) {
        const char *t = it_json_str(r.json, "tenant_user_id");
        ck_assert_msg(t != NULL, "registration returned no tenant_user_id: %s", it_describe(&r));
        *tenant_user_id = it_strdup(t);
    }
    it_response_free(&r);
    free(body);
    return id;
}

/* ---- small shared helpers ------------------------------------------------ */

int it_matches(const char *s, const char *regex)
{
    regex_t re;
    int ok;
    ck_assert_int_eq(regcomp(&re, regex, REG_EXTENDED | REG_NOSUB), 0);
    ok = s && regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

char *it_token_id(void)
{
    static atomic_ulong counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return it_printf("%ld%lld%06ld%lu", (long)getpid(), (long long)ts.tv_sec, ts.tv_nsec / 1000,
                     atomic_fetch_add(&counter, 1) + 1);
}

char *it_lltext(long long v)
{
    return it_printf("%lld", v);
}

/* ---- login links, the SMTP sink and trader sessions ----------------------- */

/* Quoted-printable decoding of a whole message: soft line breaks ("=" at the
 * end of a line) vanish and =XX becomes the byte. Headers are not encoded,
 * so decoding them too changes nothing a test looks at. */
static char *it_qp_decode(const char *s)
{
    size_t n = strlen(s), i;
    char *out = malloc(n + 1), *o = out;

    if (!out) {
        abort();
    }
    for (i = 0; i < n; i++) {
        if (s[i] == '=' && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        }
        else if (s[i] == '=' && s[i + 1] == '\n') {
            i += 1;
        }
        else if (s[i] == '=' && isxdigit((unsigned char)s[i + 1])
                 && isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], '\0' };
            *o++ = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* Does the raw message carry "Delivered-To: address" (exactly, any case,
 * with or without angle brackets)? */
static int it_mail_delivered_to(const char *raw, const char *address)
{
    const char *line = raw;
    size_t alen = strlen(address);

    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len == 0 || (len == 1 && line[0] == '\r')) {
            break; /* end of the header section */
        }
        if (len > 13 && strncasecmp(line, "Delivered-To:", 13) == 0) {
            const char *v = line + 13, *ve = line + len;
            while (v < ve && (*v == ' ' || *v == '\t')) v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
            if (ve - v >= 2 && *v == '<' && ve[-1] == '>') {
                v++;
                ve--;
            }
            if ((size_t)(ve - v) == alen && strncasecmp(v, address, alen) == 0) {
                return 1;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return 0;
}

static int it_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **it_mail_to(const char *address, size_t *n)
{
    const char *dir = it_env("MAIL_DIR");
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, **out;
    size_t nn = 0, i, k = 0;

    ck_assert_msg(d != NULL, "cannot open MAIL_DIR %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0) {
            continue;
        }
        names = realloc(names, (nn + 1) * sizeof(*names));
        if (!names) {
            abort();
        }
        names[nn++] = it_strdup(e->d_name);
    }
    closedir(d);
    if (nn > 1) {
        qsort(names, nn, sizeof(*names), it_cmp_str); /* the sink's names sort by arrival */
    }
    out = calloc(nn + 1, sizeof(*out));
    if (!out) {
        abort();
    }
    for (i = 0; i < nn; i++) {
        char *path = it_printf("%s/%s", dir, names[i]);
        char *raw = it_read_file(path, NULL);
        if (raw && it_mail_delivered_to(raw, address)) {
            out[k++] = it_qp_decode(raw);
        }
        free(raw);
        free(path);
        free(names[i]);
    }
    free(names);
    if (n) {
        *n = k;
    }
    return out;
}

char **it_mail_links(const char *message, size_t *n)
{
    const char *base = it_env("POLYPARTNER_URL");
    char *prefix = it_printf("%s/auth/login?token=", base);
    size_t plen = strlen(prefix), k = 0;
    const char *c = message;
    char **out = calloc(1, sizeof(*out));

    if (!out) {
        abort();
    }
    while ((c = strstr(c, prefix)) != NULL) {
        const char *t = c + plen;
        while (isalnum((unsigned char)*t) || *t == '-' || *t == '_') t++;
        out = realloc(out, (k + 2) * sizeof(*out));
        if (!out) {
            abort();
        }
        out[k++] = strndup(c, (size_t)(t - c));
        out[k] = NULL;
        c = t;
    }
    free(prefix);
    if (n) {
        *n = k;
    }
    return out;
}

char *it_link_token(const char *link)
{
    const char *t = link ? strstr(link, "?token=") : NULL;
    return t ? it_strdup(t + 7) : NULL;
}

it_response_t it_login_link(const char *key, long long uid, const char *body)
{
    char *path = it_printf("/v1/partner/users/%lld/login-link", uid);
    it_response_t r = it_request("POST", path, IT_HEADERS(it_key_header(key)), body);
    free(path);
    return r;
}

char *it_login_token(const char *key, long long uid, const char *email, const char *redirect)
{
    size_t before, after, nlinks;
    char **mail = it_mail_to(email, &before), **links;
    char *body = redirect ? it_printf("{\"redirect_url\":%s}", it_json_quote(redirect))
                          : it_printf("{}");
    it_response_t r = it_login_link(key, uid, body);
    char *token;

    ck_assert_msg(r.status == 202, "login link: %s", it_describe(&r));
    mail = it_mail_to(email, &after);
    ck_assert_msg(after == before + 1,
                  "%zu new message(s) for %s after a 202 login link, "
                  "expected exactly 1",
                  after - before, email);
    links = it_mail_links(mail[after - 1], &nlinks);
    ck_assert_msg(nlinks >= 1, "no login link in the message to %s:\n%s", email, mail[after - 1]);
    token = it_link_token(links[0]);
    it_response_free(&r);
    return token;
}

it_response_t it_signin_post(const char *token, const char *const *headers)
{
    const char *list[16];
    size_t i = 0;
    CURL *c = curl_easy_init();
    char *enc, *body;

    if (!c) {
        abort();
    }
    enc = curl_easy_escape(c, token, 0);
    body = it_printf("token=%s", enc);
    curl_free(enc);
    curl_easy_cleanup(c);
    list[i++] = "Content-Type: application/x-www-form-urlencoded";
    while (headers && *headers && i < 15) {
        list[i++] = *headers++;
    }
    list[i] = NULL;
    return it_request("POST", "/auth/login", list, body);
}

char *it_session_cookie_value(const it_response_t *r)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++) {
        const char *v = r->headers[i].value;
        if (strcasecmp(r->headers[i].name, "Set-Cookie") == 0
            && strncmp(v, "pp_session=", 11) == 0) {
            return strndup(v + 11, strcspn(v + 11, ";"));
        }
    }
    return NULL;
}

it_session_t it_sign_in(const char *key, long long uid, const char *email)
{
    it_session_t s;
    char *token = it_login_token(key, uid, email, NULL);
    it_response_t r = it_signin_post(token, NULL), me;
    const char *csrf;

    memset(&s, 0, sizeof(s));
    ck_assert_msg(r.status == 303, "sign-in POST: %s", it_describe(&r));
    s.secret = it_session_cookie_value(&r);
    ck_assert_msg(s.secret && *s.secret, "sign-in POST set no pp_session cookie: %s",
                  it_describe(&r));
    s.user_id = uid;
    s.email = it_strdup(email);
    s.cookie = it_printf("Cookie: pp_session=%s", s.secret);
    me = it_request("GET", "/v1/trader/me", IT_HEADERS(s.cookie), NULL);
    ck_assert_msg(me.status == 200, "GET /v1/trader/me after signing in: %s", it_describe(&me));
    csrf = it_json_str(me.json, "csrf_token");
    ck_assert_msg(csrf && *csrf, "no csrf_token: %s", it_describe(&me));
    s.csrf = it_strdup(csrf);
    s.csrf_header = it_printf("X-CSRF-Token: %s", s.csrf);
    it_response_free(&r);
    it_response_free(&me);
    return s;
}

it_response_t it_trader(const it_session_t *s, const char *method, const char *path,
                        const char *body)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        return it_request(method, path, IT_HEADERS(s->cookie), body);
    }
    return it_request(method, path, IT_HEADERS(s->cookie, s->csrf_header), body);
}
