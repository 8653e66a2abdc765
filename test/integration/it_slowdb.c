/* A slow or unreachable database must not take the server down: a locked
 * table costs a request its lock budget and then a 503 with Retry-After,
 * never a 500 or the statement_timeout; only a bounded number of requests
 * per endpoint wait, the rest are refused at once, and unrelated endpoints
 * keep answering; a short PostgreSQL restart costs no request; an outage
 * writes a few log lines, not several per request. */
#include "it.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEMO it_env("DEMO_KEY")

/* The module's defaults (README): lock budget, read budget, reconnect wait. */
#define LOCK_BUDGET_S 1.0
#define READ_BUDGET_S 2.0

static char *unavailable_problem(const it_response_t *r)
{
    const char *ra = it_header(r, "Retry-After");
    char *p = it_error_problem(r, 503, "SERVICE_UNAVAILABLE");
    if (p) {
        return p;
    }
    if (!ra || !*ra || !isdigit((unsigned char)*ra) || atoi(ra) < 1) {
        return it_printf("a 503 needs Retry-After: %s", it_describe(r));
    }
    return NULL;
}

static PGconn *connect_db(void)
{
    PGconn *c = PQconnectdb(it_env("DATABASE_URL"));
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "libpq: %s", PQerrorMessage(c));
    return c;
}

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQerrorMessage(c));
    PQclear(res);
}

/* A fresh account of the demo tenant; its id (malloc'd). */
static char *new_account(void)
{
    char *x = it_unique("slowdb"), *e = it_printf("%s@example.com", x);
    long long uid = it_register(DEMO, x, e, NULL);
    char *body = it_printf("{\"user_id\":%lld,\"external_id\":\"%s\",\"stage\":\"demo\","
                           "\"starting_balance\":\"1000.00\"}",
                           uid, x);
    it_response_t r = it_request("POST", "/v1/partner/accounts", IT_HEADERS(it_key_header(DEMO)),
                                 body);
    char *id;
    it_assert_status(r, 201);
    id = strdup(it_json_str(r.json, "account_id"));
    it_response_free(&r);
    return id;
}

/* Whatever a test did, the locks are gone and the functions are as shipped. */
static void restore_db(void)
{
    PGconn *c = PQconnectdb(getenv("DATABASE_URL") ? getenv("DATABASE_URL") : "");
    if (PQstatus(c) == CONNECTION_OK) {
        PQclear(PQexec(c, "ALTER FUNCTION api.pp_get_account RESET lock_timeout"));
    }
    PQfinish(c);
}

START_TEST(test_locked_table_is_503_within_the_lock_budget)
{
    char *acc = new_account(), *path = it_printf("/v1/partner/accounts/%s", acc);
    PGconn *locker = connect_db();
    it_response_t r;
    char *p;

    exec_ok(locker, "BEGIN");
    exec_ok(locker, "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE");
    r = it_request("GET", path, IT_HEADERS(it_key_header(DEMO)), NULL);
    p = unavailable_problem(&r);
    ck_assert_msg(p == NULL, "GET of an account in a locked table: %s", p ? p : "");
    ck_assert_msg(r.seconds < LOCK_BUDGET_S + 1.0, "the 503 took %.2f s (lock budget %.1f s)",
                  r.seconds, LOCK_BUDGET_S);
    it_response_free(&r);
    r = it_request("PATCH", path, IT_HEADERS(it_key_header(DEMO)), "{\"rules\":{\"a\":1}}");
    p = unavailable_problem(&r);
    ck_assert_msg(p == NULL, "PATCH of an account in a locked table: %s", p ? p : "");
    it_response_free(&r);
    exec_ok(locker, "ROLLBACK");
    PQfinish(locker);

    r = it_request("GET", path, IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(r, 200);
    ck_assert_msg(json_object_object_length(it_json_get(r.json, "rules")) == 0,
                  "the refused PATCH wrote: %s", it_describe(&r));
    it_response_free(&r);
}
END_TEST

/* A call that outlives its statement budget (no lock budget inside this
 * function) is a 503 too, after the read budget, not a 500. */
START_TEST(test_statement_timeout_is_503)
{
    char *acc = new_account(), *path = it_printf("/v1/partner/accounts/%s", acc);
    PGconn *locker = connect_db();
    it_response_t r;
    char *p;

    exec_ok(locker, "ALTER FUNCTION api.pp_get_account SET lock_timeout = 0");
    exec_ok(locker, "BEGIN");
    exec_ok(locker, "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE");
    r = it_request("GET", path, IT_HEADERS(it_key_header(DEMO)), NULL);
    exec_ok(locker, "ROLLBACK");
    exec_ok(locker, "ALTER FUNCTION api.pp_get_account RESET lock_timeout");
    PQfinish(locker);
    p = unavailable_problem(&r);
    ck_assert_msg(p == NULL, "GET past the statement budget: %s", p ? p : "");
    ck_assert_msg(r.seconds >= READ_BUDGET_S - 0.2 && r.seconds < READ_BUDGET_S + 1.5,
                  "the 503 took %.2f s (read budget %.1f s)", r.seconds, READ_BUDGET_S);
    it_response_free(&r);
}
END_TEST

/* ---- a stuck table under load ------------------------------------------------ */

/* More clients than PolyPartnerDBQueueLimit (16 in the harness config). */
#define HAMMERS 40

typedef struct {
    const char *path;
    double until;
    long ok; /* 0: expect 503s; else this status */
    int requests, fast_503, slow_503, other;
    char *problem;
} hammer_t;

static void *hammer_run(void *arg)
{
    hammer_t *h = arg;
    while (it_now() < h->until) {
        /* a connection each: under prefork an idle keep-alive connection
         * holds a process whatever the database does */
        it_response_t r = it_request("GET", h->path,
                                     IT_HEADERS(it_key_header(DEMO), "Connection: close"), NULL);
        char *p = h->ok ? it_status_problem(&r, h->ok) : unavailable_problem(&r);
        h->requests++;
        if (p) {
            h->other++;
            if (!h->problem) {
                h->problem = p;
            }
        }
        else if (r.seconds < 0.15) {
            h->fast_503++;
        }
        else {
            h->slow_503++;
        }
        it_response_free(&r);
    }
    return NULL;
}

START_TEST(test_stuck_table_holds_a_bounded_number_of_workers)
{
    char *acc = new_account(), *path = it_printf("/v1/partner/accounts/%s", acc);
    PGconn *locker = connect_db();
    pthread_t th[HAMMERS];
    hammer_t h[HAMMERS];
    double worst = 0, start;
    int i, fast = 0, slow = 0, markets = 0;

    /* warm up: prefork spawns processes over seconds, and a bound counted
     * against MaxRequestWorkers means little while few processes exist */
    start = it_now();
    for (i = 0; i < HAMMERS; i++) {
        memset(&h[i], 0, sizeof(h[i]));
        h[i].path = "/v1/markets";
        h[i].until = start + 3.0;
        h[i].ok = 200;
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    for (i = 0; i < HAMMERS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(h[i].problem == NULL, "warming up: %s", h[i].problem);
    }

    exec_ok(locker, "BEGIN");
    exec_ok(locker, "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE");
    start = it_now();
    for (i = 0; i < HAMMERS; i++) {
        memset(&h[i], 0, sizeof(h[i]));
        h[i].path = path;
        h[i].until = start + 6.0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    /* once the first wave has met its lock budget, an unrelated endpoint
     * answers promptly all the time */
    it_sleep_ms((long)((LOCK_BUDGET_S + 0.5) * 1000));
    while (it_now() < start + 5.5) {
        it_response_t r = it_request("GET", "/v1/markets", NULL, NULL);
        it_assert_status(r, 200);
        if (r.seconds > worst) {
            worst = r.seconds;
        }
        markets++;
        it_response_free(&r);
        it_sleep_ms(100);
    }
    for (i = 0; i < HAMMERS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(h[i].problem == NULL, "a request to the locked table: %s", h[i].problem);
        fast += h[i].fast_503;
        slow += h[i].slow_503;
    }
    exec_ok(locker, "ROLLBACK");
    PQfinish(locker);
    ck_assert_msg(worst < 0.5,
                  "GET /v1/markets took up to %.2f s while accounts was locked "
                  "(%d requests)",
                  worst, markets);
    /* most were refused at once; only a bounded number waited each round */
    ck_assert_msg(fast > slow, "%d requests were refused at once, %d waited for the lock", fast,
                  slow);
}
END_TEST

/* ---- restart and outage -------------------------------------------------------- */

static int pg_script(const char *var)
{
    char *argv[] = { (char *)it_env(var), NULL }, *out = NULL;
    int rc = it_run(argv, &out);
    ck_assert_msg(rc == 0, "%s failed (%d): %s", var, rc, out ? out : "");
    free(out);
    return rc;
}

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

#define CLIENTS 4

typedef struct {
    const char *path;
    volatile int *stop;
    int requests;
    char *problem;
} client_t;

static void *client_run(void *arg)
{
    client_t *c = arg;
    while (!*c->stop) {
        it_response_t r = it_request("GET", c->path, IT_HEADERS(it_key_header(DEMO)), NULL);
        c->requests++;
        if (r.status != 200 && !c->problem) {
            c->problem = it_describe(&r);
        }
        it_response_free(&r);
        it_sleep_ms(20);
    }
    return NULL;
}

/* A restart shorter than PolyPartnerDBReconnectWait costs no request. */
START_TEST(test_restart_costs_no_request)
{
    char *x = it_unique("restart"), *e = it_printf("%s@example.com", x);
    long long uid = it_register(DEMO, x, e, NULL);
    char *path = it_printf("/v1/partner/users/%lld", uid);
    pthread_t th[CLIENTS];
    client_t c[CLIENTS];
    volatile int stop = 0;
    int i, total = 0;
    double t;

    it_expect_log("\\[dbd:error\\]");
    it_expect_log("\\[polypartner:error\\].*([Dd]atabase|PostgreSQL|DBD|dbd)");
    for (i = 0; i < CLIENTS; i++) {
        memset(&c[i], 0, sizeof(c[i]));
        c[i].path = path;
        c[i].stop = &stop;
        ck_assert_int_eq(pthread_create(&th[i], NULL, client_run, &c[i]), 0);
    }
    it_sleep_ms(500);
    t = it_now();
    pg_script("PP_PG_RESTART");
    t = it_now() - t;
    it_sleep_ms(1000);
    stop = 1;
    for (i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        total += c[i].requests;
        ck_assert_msg(c[i].problem == NULL, "during a %.1f s restart: %s", t, c[i].problem);
    }
    ck_assert_msg(total > CLIENTS * 10, "only %d requests were made", total);
}
END_TEST

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *l = strndup(line, len);
        if (strstr(l, needle)) {
            n++;
        }
        free(l);
        line = end ? end + 1 : NULL;
    }
    return n;
}

typedef struct {
    int requests, refused;
    char *problem;
} outage_t;

static void *outage_run(void *arg)
{
    outage_t *o = arg;
    double until = it_now() + 4.0;
    while (it_now() < until) {
        it_response_t r = it_request("GET", "/v1/partner/users/1", IT_HEADERS(it_key_header(DEMO)),
                                     NULL);
        char *p = unavailable_problem(&r);
        o->requests++;
        if (p && !o->problem) {
            o->problem = p;
        }
        o->refused += p == NULL;
        it_response_free(&r);
    }
    return NULL;
}

/* An outage is reported once per interval and process, not per request. */
START_TEST(test_outage_log_is_bounded)
{
    const char *log_path = it_env("PP_HTTPD_ERROR_LOG");
    pthread_t th[8];
    outage_t o[8];
    long before;
    int i, requests = 0, refused = 0, ours, errors;
    char *log;

    it_expect_log("\\[dbd:error\\]");
    it_expect_log("\\[polypartner:error\\].*([Dd]atabase|PostgreSQL|DBD|dbd)");
    pg_script("PP_PG_STOP");
    it_sleep_ms(200);
    before = file_size(log_path);
    for (i = 0; i < 8; i++) {
        memset(&o[i], 0, sizeof(o[i]));
        ck_assert_int_eq(pthread_create(&th[i], NULL, outage_run, &o[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        requests += o[i].requests;
        refused += o[i].refused;
    }
    it_sleep_ms(300);
    log = it_read_file(log_path, NULL);
    pg_script("PP_PG_START");
    /* and the service comes back by itself, within a probe interval or two */
    {
        double until = it_now() + 15.0, back_at = 0, t0 = it_now();
        while (it_now() < until) {
            it_response_t r = it_request("GET", "/v1/markets", NULL, NULL);
            long st = r.status;
            it_response_free(&r);
            if (st == 200) {
                back_at = it_now() - t0;
                break;
            }
            it_sleep_ms(100);
        }
        ck_assert_msg(back_at > 0, "the API did not come back within 15 s of PostgreSQL");
        ck_assert_msg(back_at < 3.0, "the API came back %.1f s after PostgreSQL", back_at);
    }
    for (i = 0; i < 8; i++) {
        ck_assert_msg(o[i].problem == NULL, "while PostgreSQL was down: %s", o[i].problem);
    }
    ck_assert_msg(log && (long)strlen(log) >= before, "cannot read the error log");
    ours = count_lines(log + before, "[polypartner:error]");
    errors = count_lines(log + before, ":error]");
    ck_assert_msg(refused > 100,
                  "only %d of %d requests were answered 503 in 4 s: an outage "
                  "must be answered at once once it is known",
                  refused, requests);
    /* one line per 10 s and child process (at most 4 children here) */
    ck_assert_msg(ours <= 4, "%d [polypartner:error] lines for %d refused requests", ours, refused);
    /* mod_dbd's own lines: one or two per probe, a probe a second per child */
    ck_assert_msg(errors <= 40, "%d error lines for %d refused requests", errors, refused);
    free(log);
}
END_TEST

Suite *it_slowdb_suite(void)
{
    Suite *s = suite_create("slowdb");
    TCase *lock = tcase_create("locks");
    TCase *pg = tcase_create("restart");

    tcase_add_unchecked_fixture(lock, NULL, restore_db);
    tcase_set_timeout(lock, 60);
    tcase_add_test(lock, test_locked_table_is_503_within_the_lock_budget);
    tcase_add_test(lock, test_statement_timeout_is_503);
    tcase_add_test(lock, test_stuck_table_holds_a_bounded_number_of_workers);
    suite_add_tcase(s, lock);

    tcase_add_unchecked_fixture(pg, ensure_pg_up, ensure_pg_up);
    tcase_add_checked_fixture(pg, ensure_pg_up, NULL);
    tcase_set_timeout(pg, 60);
    tcase_add_test(pg, test_restart_costs_no_request);
    tcase_add_test(pg, test_outage_log_is_bounded);
    suite_add_tcase(s, pg);
    return s;
}
