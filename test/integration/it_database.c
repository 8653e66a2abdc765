/* The database under stress: a PostgreSQL restart mid-run, PostgreSQL down
 * (503 with Retry-After, quickly, never 500) and back (service resumes without
 * an Apache restart), and bad tenant configuration failing `apache2 -t`. */
#include "it.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO     it_env("DEMO_KEY")
#define READONLY it_env("DEMO_READONLY_KEY")

/* How long a 503 is acceptable after PostgreSQL came back, and how long
 * service may take to resume after a stop/start. */
#define RESTART_GRACE_S 5.0
#define RESUME_WITHIN_S 15.0

/* Error-log lines that stopping or restarting PostgreSQL provokes. */
static void expect_database_errors(void)
{
    it_expect_log("\\[dbd:error\\]");
    it_expect_log("\\[polypartner:error\\].*([Dd]atabase|PostgreSQL|DBD|dbd)");
}

static int pg_script(const char *var, char **output)
{
    char *argv[] = { (char *)it_env(var), NULL };
    return it_run(argv, output);
}

/* Unchecked fixture (runs in the runner process, also after a failed or
 * timed-out test): whatever happened, leave PostgreSQL running. */
static void ensure_pg_up(void)
{
    double until;
    char *out = NULL;

    if (it_db_up()) {
        return;
    }
    if (!getenv("PP_PG_START") || pg_script("PP_PG_START", &out) != 0) {
        fprintf(stderr, "it_database: PP_PG_START failed: %s\n", out ? out : "(no output)");
    }
    free(out);
    for (until = it_now() + RESUME_WITHIN_S; !it_db_up() && it_now() < until;) {
        it_sleep_ms(200);
    }
    if (!it_db_up()) {
        fprintf(stderr, "it_database: PostgreSQL is still down after PP_PG_START\n");
    }
}

/* A problem list, so a test can collect observations while PostgreSQL is
 * down and assert only after it has been started again. */
typedef struct {
    char *text;
} problems_t;

static void note(problems_t *p, char *problem)
{
    if (!problem) {
        return;
    }
    p->text = p->text ? it_printf("%s\n  %s", p->text, problem) : it_printf("  %s", problem);
}

static void notef(problems_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notef(problems_t *p, const char *fmt, ...)
{
    va_list ap;
    char buf[2048];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    note(p, it_printf("%s", buf));
}

static int retry_after_ok(const it_response_t *r)
{
    const char *ra = it_header(r, "Retry-After"), *c;
    if (!ra || !*ra) {
        return 0;
    }
    for (c = ra; *c; c++) {
        if (!isdigit((unsigned char)*c)) {
            return 0;
        }
    }
    return atol(ra) >= 1;
}

/* A 503 SERVICE_UNAVAILABLE with Retry-After. */
static char *unavailable_problem(const it_response_t *r)
{
    char *p = it_error_problem(r, 503, "SERVICE_UNAVAILABLE");
    if (p) {
        return p;
    }
    if (!retry_after_ok(r)) {
        return it_printf("a 503 needs Retry-After (delay-seconds >= 1): %s, Retry-After %s",
                         it_describe(r),
                         it_header(r, "Retry-After") ? it_header(r, "Retry-After") : "(none)");
    }
    return NULL;
}

/* ---- concurrent GETs ----------------------------------------------------------- */

#define BURST 16

typedef struct {
    pthread_barrier_t *barrier;
    const char *path;
    const char *key;
    double grace_until; /* retry a 503 until then */
    char *problem;      /* what went wrong, or NULL */
    int saw_503;
} get_job_t;

/* One request that must end in `want`; a 503 with Retry-After is retried
 * until grace_until. Returns a problem or NULL. */
static char *request_until_ok(const char *method, const char *path, const char *key,
                              const char *body, long want, double grace_until, int *saw_503)
{
    for (;;) {
        it_response_t r = it_request(method, path, IT_HEADERS(it_key_header(key)), body);
        char *p;
        if (r.status == 503) {
            if ((p = unavailable_problem(&r)) != NULL) {
                it_response_free(&r);
                return p;
            }
            if (saw_503) {
                *saw_503 = 1;
            }
            if (it_now() < grace_until) {
                it_response_free(&r);
                it_sleep_ms(200);
                continue;
            }
            p = it_printf("still 503 %.1f s after PostgreSQL was back: %s", RESTART_GRACE_S,
                          it_describe(&r));
            it_response_free(&r);
            return p;
        }
        p = it_status_problem(&r, want);
        it_response_free(&r);
        return p;
    }
}

static void *get_job_run(void *arg)
{
    get_job_t *j = arg;
    pthread_barrier_wait(j->barrier);
    j->problem = request_until_ok("GET", j->path, j->key, NULL, 200, j->grace_until, &j->saw_503);
    return NULL;
}

/* BURST simultaneous GETs of path (so several pooled connections are used). */
static char *burst(const char *path, double grace_until)
{
    pthread_t th[BURST];
    get_job_t jobs[BURST];
    pthread_barrier_t barrier;
    char *problem = NULL;
    int i;

    /* saturating the workers may make the MPM log that, at error level */
    it_expect_log("\\[mpm_(event|worker|prefork):error\\].*(AH00484|AH00161)");
    pthread_barrier_init(&barrier, NULL, BURST);
    for (i = 0; i < BURST; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].barrier = &barrier;
        jobs[i].path = path;
        jobs[i].key = DEMO;
        jobs[i].grace_until = grace_until;
        ck_assert_int_eq(pthread_create(&th[i], NULL, get_job_run, &jobs[i]), 0);
    }
    for (i = 0; i < BURST; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].problem && !problem) {
            problem = jobs[i].problem;
        }
    }
    pthread_barrier_destroy(&barrier);
    return problem;
}

/* ---- (a) restart mid-run ----------------------------------------------------------- */

START_TEST(test_survives_postgres_restart)
{
    char *x = it_unique("pgrestart"), *email = it_printf("%s@example.com", x);
    long long id = it_register(DEMO, x, email, NULL);
    char *path = it_printf("/v1/partner/users/%lld", id), *out = NULL, *p;
    double grace_until;
    int i, rc, saw_503 = 0;

    /* several pooled connections in use before the restart */
    p = burst(path, 0);
    ck_assert_msg(p == NULL, "before the restart: %s", p ? p : "");

    expect_database_errors();
    rc = pg_script("PP_PG_RESTART", &out);
    ck_assert_msg(rc == 0, "PP_PG_RESTART failed (%d): %s", rc, out ? out : "");
    grace_until = it_now() + RESTART_GRACE_S;

    /* the very next requests, reads and writes, succeed */
    for (i = 0; i < 24; i++) {
        if (i % 3 == 2) {
            char *xi = it_printf("%s-%d", x, i), *ei = it_printf("%s@example.com", xi);
            char *body = it_registration_body(xi, ei, NULL);
            p = request_until_ok("POST", "/v1/partner/users", DEMO, body, 201, grace_until,
                                 &saw_503);
            ck_assert_msg(p == NULL, "request %d after the restart: %s", i, p ? p : "");
            ck_assert_int_eq(it_db_int("select count(*) from tenant_users where "
                                       "external_id = $1",
                                       xi),
                             1);
        }
        else {
            p = request_until_ok("GET", path, i % 3 ? READONLY : DEMO, NULL, 200, grace_until,
                                 &saw_503);
            ck_assert_msg(p == NULL, "request %d after the restart: %s", i, p ? p : "");
        }
    }
    /* and every pooled connection works again, not just the one reused */
    p = burst(path, grace_until);
    ck_assert_msg(p == NULL, "concurrent requests after the restart: %s", p ? p : "");
    p = burst(path, 0);
    ck_assert_msg(p == NULL, "concurrent requests after the restart: %s", p ? p : "");
    if (saw_503) {
        fprintf(stderr, "note: a 503 was seen right after the PostgreSQL restart\n");
    }
}
END_TEST

/* ---- (b) down, then back ------------------------------------------------------------- */

/* One request while PostgreSQL is down that must answer `status`/`code`
 * quickly (503 ones also with Retry-After). Returns the response's request id. */
static char *while_down(problems_t *pb, const char *method, const char *path,
                        const char *const *headers, const char *body, long status, const char *code)
{
    it_response_t r = it_request(method, path, headers, body);
    char *rid = it_header(&r, "X-Request-Id") ? strdup(it_header(&r, "X-Request-Id")) : NULL;

    if (status == 503) {
        note(pb, unavailable_problem(&r));
    }
    else {
        note(pb, it_error_problem(&r, status, code));
    }
    if (r.seconds >= 5.0) {
        notef(pb, "%s %s took %.2f s while PostgreSQL was down (limit 5 s)", method, path,
              r.seconds);
    }
    it_response_free(&r);
    return rid;
}

START_TEST(test_postgres_down_then_back)
{
    char *x = it_unique("pgdown"), *email = it_printf("%s@example.com", x);
    char *xd = it_printf("%s-down", x), *ed = it_printf("%s@example.com", xd);
    long long id = it_register(DEMO, x, email, NULL);
    char *path = it_printf("/v1/partner/users/%lld", id);
    char *body = it_registration_body(xd, ed, NULL);
    char *demo = it_key_header(DEMO), *ro = it_key_header(READONLY);
    char *pending = it_key_header(it_env("PENDING_KEY"));
    char *out = NULL, *rid503 = NULL, *log;
    problems_t pb = { NULL };
    double t, until;
    int rc, i, resumed = 0;

    expect_database_errors();
    rc = pg_script("PP_PG_STOP", &out);
    ck_assert_msg(rc == 0, "PP_PG_STOP failed (%d): %s", rc, out ? out : "");

    /* From here until PostgreSQL is started again: collect, don't assert. */
    for (i = 0; i < 3; i++) {
        char *rid = while_down(&pb, "GET", path, IT_HEADERS(demo), NULL, 503, NULL);
        if (!rid503) rid503 = rid;
    }
    while_down(&pb, "GET", path, IT_HEADERS(ro), NULL, 503, NULL);
    while_down(&pb, "GET", "/v1/partner/users/999999999", IT_HEADERS(demo), NULL, 503, NULL);
    for (i = 0; i < 3; i++) {
        while_down(&pb, "POST", "/v1/partner/users", IT_HEADERS(demo), body, 503, NULL);
    }
    /* what needs no database keeps answering normally */
    while_down(&pb, "GET", path, NULL, NULL, 401, "MISSING_API_KEY");
    while_down(&pb, "GET", path, IT_HEADERS("X-API-Key: ppk_unknown"), NULL, 401,
               "INVALID_API_KEY");
    while_down(&pb, "GET", "/v1/partner/nope", IT_HEADERS(demo), NULL, 404, "NOT_FOUND");
    while_down(&pb, "DELETE", "/v1/partner/users", IT_HEADERS(demo), NULL, 405,
               "METHOD_NOT_ALLOWED");
    while_down(&pb, "GET", path, IT_HEADERS(pending), NULL, 404, "NOT_FOUND");
    while_down(&pb, "POST", "/v1/partner/users", IT_HEADERS(ro), body, 403,
               "INSUFFICIENT_PERMISSION");
    while_down(&pb, "POST", "/v1/partner/users", IT_HEADERS(demo), "{\"external_id\":", 422,
               "VALIDATION_FAILED");
    while_down(&pb, "POST", "/v1/partner/accounts", IT_HEADERS(demo), "{}", 422,
               "VALIDATION_FAILED");
    while_down(&pb, "POST", "/v1/partner/users/1/login-link", IT_HEADERS(demo), "{}", 503,
               "SERVICE_UNAVAILABLE");
    while_down(&pb, "GET", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT "/trades", IT_HEADERS(demo),
               NULL, 503, NULL);
    while_down(&pb, "POST", "/v1/partner/accounts", IT_HEADERS(demo),
               "{\"user_id\":1,\"external_id\":\"down\",\"stage\":\"demo\","
               "\"starting_balance\":\"500.00\"}",
               503, NULL);
    while_down(&pb, "GET", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT, IT_HEADERS(demo), NULL, 503,
               NULL);

    rc = pg_script("PP_PG_START", &out);
    if (rc != 0) {
        notef(&pb, "PP_PG_START failed (%d): %s", rc, out ? out : "");
    }

    /* service resumes by itself, without restarting Apache */
    t = it_now();
    for (until = t + RESUME_WITHIN_S; it_now() < until;) {
        it_response_t r = it_request("GET", path, IT_HEADERS(demo), NULL);
        if (r.status == 200) {
            resumed = 1;
            it_response_free(&r);
            break;
        }
        if (r.status != 503) {
            notef(&pb, "while PostgreSQL came back: %s", it_describe(&r));
        }
        else {
            note(&pb, unavailable_problem(&r));
        }
        it_response_free(&r);
        it_sleep_ms(250);
    }
    ck_assert_msg(pb.text == NULL, "while PostgreSQL was down:\n%s", pb.text ? pb.text : "");
    ck_assert_msg(resumed, "GET %s did not succeed within %.0f s of PostgreSQL starting again",
                  path, RESUME_WITHIN_S);

    /* the rejected writes left nothing behind, and writes work again */
    ck_assert_int_eq(it_db_int("select count(*) from users where email = $1", ed), 0);
    ck_assert_int_eq(it_db_int("select count(*) from tenant_users where external_id = $1", xd), 0);
    {
        char *p = request_until_ok("POST", "/v1/partner/users", DEMO, body, 201,
                                   it_now() + RESTART_GRACE_S, NULL);
        ck_assert_msg(p == NULL, "registering after PostgreSQL came back: %s", p ? p : "");
        p = burst(path, it_now() + RESTART_GRACE_S);
        ck_assert_msg(p == NULL, "concurrent requests after PostgreSQL came back: %s", p ? p : "");
    }

    /* the error log names the failed request by its X-Request-Id, and no key */
    it_sleep_ms(300);
    log = it_read_file(it_env("PP_HTTPD_ERROR_LOG"), NULL);
    ck_assert_msg(log != NULL, "cannot read PP_HTTPD_ERROR_LOG");
    ck_assert_msg(rid503 != NULL, "the 503 had no X-Request-Id");
    ck_assert_msg(strstr(log, rid503) != NULL,
                  "the error log has no line with the X-Request-Id %s of a 503", rid503);
    ck_assert_msg(strstr(log, DEMO) == NULL && strstr(log, READONLY) == NULL,
                  "an API key appears in the error log");
    free(log);
}
END_TEST

/* ---- (c) configuration errors fail `apache2 -t` -------------------------------------- */

#define HASH_A "sha256:8b1a9953c4611296a827abf8c47804d7e6c49c6b8e8e3cd1a4c3f2a9a1b2c3d4"
#define HASH_B "sha256:0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000"
#define HASH_C "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

typedef struct {
    char *dir;
    char *path;
    char *text;
    int lines;
} conf_t;

/* Appends one line; returns its line number. */
static int conf_add(conf_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int conf_add(conf_t *c, const char *fmt, ...)
{
    va_list ap;
    char line[1024];
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->text = it_printf("%s%s\n", c->text, line);
    return ++c->lines;
}

/* A minimal server with the module and one valid tenant. */
static conf_t conf_base(void)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    conf_t c;
    char *tmpl = it_printf("%s/pp-it-conf-XXXXXX", tmp);

    c.dir = mkdtemp(tmpl);
    ck_assert_msg(c.dir != NULL, "mkdtemp failed");
    c.path = it_printf("%s/httpd.conf", c.dir);
    c.text = it_printf("%s", "");
    c.lines = 0;
    conf_add(&c, "ServerRoot \"%s\"", c.dir);
    conf_add(&c, "ServerName 127.0.0.1");
    conf_add(&c, "Listen 127.0.0.1:1");
    conf_add(&c, "PidFile \"%s/httpd.pid\"", c.dir);
    conf_add(&c, "ErrorLog \"%s/error.log\"", c.dir);
    conf_add(&c, "DefaultRuntimeDir \"%s\"", c.dir);
    conf_add(&c, "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so");
    conf_add(&c, "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so");
    conf_add(&c, "LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so");
    conf_add(&c, "LoadModule polypartner_module \"%s\"", it_env("PP_MODULE_PATH"));
    conf_add(&c, "DBDriver pgsql");
    conf_add(&c, "DBDParams \"host=%s dbname=polypartner connect_timeout=1\"", c.dir);
    conf_add(&c, "<Location \"/v1/partner/\">");
    conf_add(&c, "    SetHandler polypartner");
    conf_add(&c, "</Location>");
    conf_add(&c, "<PolyPartnerTenant demo>");
    conf_add(&c, "    PolyPartnerTenantKey %s users:write accounts:read accounts:write", HASH_A);
    conf_add(&c, "    PolyPartnerTenantBalanceBounds 100.00 1000000.00");
    conf_add(&c, "</PolyPartnerTenant>");
    return c;
}

/* Writes the file, runs `apache2 -t -f FILE`, returns the exit status. */
static int conf_check(conf_t *c, char **output)
{
    FILE *f;
    char *argv[5];
    int rc;

    mkdir(c->dir, 0755);
    f = fopen(c->path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", c->path);
    fputs(c->text, f);
    ck_assert_int_eq(fclose(f), 0);
    argv[0] = (char *)it_env("PP_APACHE_BIN");
    argv[1] = "-t";
    argv[2] = "-f";
    argv[3] = c->path;
    argv[4] = NULL;
    rc = it_run(argv, output);
    /* leave nothing behind: the directory is recreated if checked again */
    unlink(c->path);
    unlink(it_printf("%s/error.log", c->dir));
    rmdir(c->dir);
    return rc;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* `apache2 -t` fails, naming the file, the line and the problem. */
static void assert_rejected(conf_t *c, int line, const char *keyword)
{
    char *out = NULL, *where = it_printf("line %d of %s", line, c->path);
    int rc = conf_check(c, &out);

    ck_assert_msg(rc != 0,
                  "apache2 -t accepted a config with a problem (%s) on line %d:\n%s\n"
                  "output: %s",
                  keyword, line, c->text, out ? out : "");
    ck_assert_msg(out && strstr(out, where) != NULL, "apache2 -t output should name \"%s\": %s",
                  where, out ? out : "");
    ck_assert_msg(contains_ci(out, keyword), "apache2 -t output should say \"%s\": %s", keyword,
                  out);
    ck_assert_msg(strstr(out, "Syntax OK") == NULL, "%s", out);
}

START_TEST(test_valid_config_passes)
{
    conf_t c = conf_base();
    char *out = NULL;
    int rc;

    conf_add(&c, "<PolyPartnerTenant other>");
    conf_add(&c, "    PolyPartnerTenantKey %s users:write", HASH_B);
    conf_add(&c, "    PolyPartnerTenantKey %s accounts:read", HASH_C);
    conf_add(&c, "</PolyPartnerTenant>");
    rc = conf_check(&c, &out);
    ck_assert_msg(rc == 0 && out && strstr(out, "Syntax OK"),
                  "a valid config must pass apache2 -t (exit %d):\n%s\noutput: %s", rc, c.text,
                  out ? out : "");
}
END_TEST

START_TEST(test_duplicate_key_in_two_tenants)
{
    conf_t c = conf_base();
    int line;
    conf_add(&c, "<PolyPartnerTenant other>");
    line = conf_add(&c, "    PolyPartnerTenantKey %s accounts:read", HASH_A);
    conf_add(&c, "</PolyPartnerTenant>");
    assert_rejected(&c, line, "duplicate");
}
END_TEST

START_TEST(test_duplicate_key_in_one_tenant)
{
    conf_t c = conf_base();
    int line;
    conf_add(&c, "<PolyPartnerTenant other>");
    conf_add(&c, "    PolyPartnerTenantKey %s accounts:read", HASH_B);
    line = conf_add(&c, "    PolyPartnerTenantKey %s users:write", HASH_B);
    conf_add(&c, "</PolyPartnerTenant>");
    assert_rejected(&c, line, "duplicate");
}
END_TEST

START_TEST(test_malformed_hash)
{
    conf_t c = conf_base();
    int line;
    conf_add(&c, "<PolyPartnerTenant other>");
    line = conf_add(&c, "    PolyPartnerTenantKey sha256:xyz accounts:read");
    conf_add(&c, "</PolyPartnerTenant>");
    assert_rejected(&c, line, "malformed");
}
END_TEST

START_TEST(test_hash_without_prefix)
{
    conf_t c = conf_base();
    int line;
    conf_add(&c, "<PolyPartnerTenant other>");
    line = conf_add(&c, "    PolyPartnerTenantKey %s accounts:read", HASH_B + 7);
    conf_add(&c, "</PolyPartnerTenant>");
    assert_rejected(&c, line, "malformed");
}
END_TEST

START_TEST(test_unknown_permission)
{
    conf_t c = conf_base();
    int line;
    conf_add(&c, "<PolyPartnerTenant other>");
    line = conf_add(&c, "    PolyPartnerTenantKey %s accounts:read accounts:delete", HASH_B);
    conf_add(&c, "</PolyPartnerTenant>");
    assert_rejected(&c, line, "unknown permission");
    assert_rejected(&c, line, "accounts:delete");
}
END_TEST

START_TEST(test_bounds_out_of_order)
{
    conf_t c = conf_base();
    int line;
    conf_add(&c, "<PolyPartnerTenant other>");
    conf_add(&c, "    PolyPartnerTenantKey %s accounts:read", HASH_B);
    line = conf_add(&c, "    PolyPartnerTenantBalanceBounds 500.00 100.00");
    conf_add(&c, "</PolyPartnerTenant>");
    assert_rejected(&c, line, "out of order");
}
END_TEST

START_TEST(test_tenant_declared_twice)
{
    conf_t c = conf_base();
    int line = conf_add(&c, "<PolyPartnerTenant demo>");
    conf_add(&c, "    PolyPartnerTenantKey %s accounts:read", HASH_B);
    conf_add(&c, "</PolyPartnerTenant>");
    assert_rejected(&c, line, "declared twice");
}
END_TEST

START_TEST(test_key_outside_tenant_block)
{
    conf_t c = conf_base();
    int line = conf_add(&c, "PolyPartnerTenantKey %s accounts:read", HASH_B);
    assert_rejected(&c, line, "<PolyPartnerTenant");
}
END_TEST

START_TEST(test_event_directives)
{
    static const char *const bad[] = {
        "PolyPartnerEventWaitLimit 0",   "PolyPartnerEventWaitLimit 4 0",
        "PolyPartnerEventWaitLimit x",   "PolyPartnerEventHeartbeat 0",
        "PolyPartnerEventHeartbeat 301", "PolyPartnerEventRetention 59",
        "PolyPartnerEventRetention 7d",  NULL
    };
    conf_t c = conf_base();
    char *out = NULL;
    int rc, i;

    conf_add(&c, "PolyPartnerEventWaitLimit 4 8");
    conf_add(&c, "PolyPartnerEventHeartbeat 15");
    conf_add(&c, "PolyPartnerEventRetention 86400");
    rc = conf_check(&c, &out);
    ck_assert_msg(rc == 0 && out && strstr(out, "Syntax OK"), "valid event directives: %s",
                  out ? out : "");
    for (i = 0; bad[i]; i++) {
        char name[64];
        int line;
        c = conf_base();
        line = conf_add(&c, "%s", bad[i]);
        sscanf(bad[i], "%63s", name);
        assert_rejected(&c, line, name);
    }
}
END_TEST

Suite *it_database_suite(void)
{
    Suite *s = suite_create("database");
    TCase *pg = tcase_create("postgres");
    TCase *conf = tcase_create("config");

    /* unchecked: runs in the runner process even if a test fails or times out */
    tcase_add_unchecked_fixture(pg, ensure_pg_up, ensure_pg_up);
    tcase_add_checked_fixture(pg, ensure_pg_up, NULL);
    tcase_set_timeout(pg, 120);
    tcase_add_test(pg, test_survives_postgres_restart);
    tcase_add_test(pg, test_postgres_down_then_back);
    suite_add_tcase(s, pg);

    tcase_set_timeout(conf, 60);
    tcase_add_test(conf, test_valid_config_passes);
    tcase_add_test(conf, test_duplicate_key_in_two_tenants);
    tcase_add_test(conf, test_duplicate_key_in_one_tenant);
    tcase_add_test(conf, test_malformed_hash);
    tcase_add_test(conf, test_hash_without_prefix);
    tcase_add_test(conf, test_unknown_permission);
    tcase_add_test(conf, test_bounds_out_of_order);
    tcase_add_test(conf, test_tenant_declared_twice);
    tcase_add_test(conf, test_key_outside_tenant_block);
    tcase_add_test(conf, test_event_directives);
    suite_add_tcase(s, conf);
    return s;
}
