/* POST /v1/partner/users/{user_id}/login-link: 202 and exactly one email
 * whose link works (the response never carries it), body validation, every
 * redirect_url attack the allowlist must refuse and the URLs it must allow
 * (where the sign-in then lands), permissions, unknown and other tenants'
 * users, the per-(tenant, trader) throttle also under concurrency, and the
 * SMTP failure path: 502 and a token that never works; internationalised
 * addresses (SMTPUTF8, IDNA, quoted local parts) and permanent failures. Each
 * test uses fresh traders (the throttle counts per trader). */
#include "it.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEMO     it_env("DEMO_KEY")
#define READONLY it_env("DEMO_READONLY_KEY")
#define OTHER    it_env("OTHER_KEY")

/* ---- helpers ------------------------------------------------------------------- */

typedef struct {
    long long id;
    char *email;
} trader_t;

static trader_t new_trader_of(const char *key)
{
    trader_t t;
    char *x = it_unique("login");
    t.email = it_printf("%s@example.com", x);
    t.id = it_register(key, x, t.email, NULL);
    return t;
}

static trader_t new_trader(void)
{
    return new_trader_of(DEMO);
}

/* Every .eml the sink holds (all recipients). */
static size_t mail_total(void)
{
    const char *dir = it_env("MAIL_DIR");
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    ck_assert_msg(d != NULL, "cannot open MAIL_DIR %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] != '.' && l > 4 && strcmp(e->d_name + l - 4, ".eml") == 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

static size_t mail_count(const char *email)
{
    size_t n;
    it_mail_to(email, &n);
    return n;
}

static long long tokens_of(long long uid, const char *state)
{
    char *u = it_lltext(uid);
    return state ? it_db_int("select count(*) from login_tokens where user_id = $1::bigint "
                             "and state = $2",
                             u, state)
                 : it_db_int("select count(*) from login_tokens where user_id = $1::bigint", u);
}

static char *path_of(const char *link)
{
    const char *base = it_env("POLYPARTNER_URL");
    size_t n = strlen(base);
    ck_assert_msg(strncmp(link, base, n) == 0, "link %s is not on %s", link, base);
    return it_printf("%s", link + n);
}

/* Redeems token and asserts the 303 goes to want. */
static void assert_lands_on(const char *token, const char *want)
{
    it_response_t r = it_signin_post(token, NULL);
    const char *loc = it_header(&r, "Location");
    ck_assert_msg(r.status == 303, "sign-in: %s", it_describe(&r));
    ck_assert_msg(loc && strcmp(loc, want) == 0, "sign-in redirected to %s, expected %s",
                  loc ? loc : "(no Location)", want);
    ck_assert_msg(it_session_cookie_value(&r) != NULL, "no session cookie: %s", it_describe(&r));
    it_response_free(&r);
}

/* Nothing was mailed or stored for t by a rejected request. */
static void assert_nothing_sent(const trader_t *t, const it_response_t *r)
{
    ck_assert_msg(mail_count(t->email) == 0, "a rejected request mailed %s: %s", t->email,
                  it_describe(r));
    ck_assert_msg(tokens_of(t->id, NULL) == 0, "a rejected request stored a token: %s",
                  it_describe(r));
}

static it_response_t link_with_redirect(const char *key, long long uid, const char *url)
{
    return it_login_link(key, uid, it_printf("{\"redirect_url\":%s}", it_json_quote(url)));
}

/* ---- 202 and the email --------------------------------------------------------- */

START_TEST(test_link_accepted_and_mailed)
{
    static const char *const status_keys[] = { "status", NULL };
    trader_t t = new_trader();
    size_t total = mail_total(), n, nlinks, i;
    it_response_t r = it_login_link(DEMO, t.id, "{}"), page;
    char **mail, **links, *token, *uid = it_lltext(t.id), *to_line, *path;

    it_assert_status(r, 202);
    ck_assert_msg(it_json_keys_are(r.json, status_keys), "%s", it_describe(&r));
    ck_assert_str_eq(it_json_str(r.json, "status"), "accepted");

    /* exactly one message, to this trader */
    ck_assert_uint_eq(mail_total(), total + 1);
    mail = it_mail_to(t.email, &n);
    ck_assert_uint_eq(n, 1);
    to_line = it_printf("\nTo: %s", t.email);
    ck_assert_msg(strstr(mail[0], to_line) || strstr(mail[0], it_printf("<%s>", t.email)),
                  "the message is not addressed to %s:\n%s", t.email, mail[0]);
    ck_assert_msg(it_matches(mail[0], "\nSubject: [^\r\n]+"), "no subject:\n%s", mail[0]);
    ck_assert_msg(strstr(mail[0], "multipart/alternative") && strstr(mail[0], "text/plain")
                      && strstr(mail[0], "text/html"),
                  "expected a plain-text and an HTML part:\n%s", mail[0]);

    /* the same link in both parts, pointing at this server */
    links = it_mail_links(mail[0], &nlinks);
    ck_assert_msg(nlinks == 2, "expected the link once in each part, found %zu:\n%s", nlinks,
                  mail[0]);
    ck_assert_str_eq(links[0], links[1]);
    token = it_link_token(links[0]);
    ck_assert_msg(it_matches(token, "^[A-Za-z0-9_-]{43}$"),
                  "token %s is not 256 bits of "
                  "base64url",
                  token);

    /* the link is in the email only: not in the answer */
    ck_assert_msg(strstr(r.body, token) == NULL, "the 202 body carries the token: %s", r.body);
    for (i = 0; i < r.nheaders; i++) {
        ck_assert_msg(strstr(r.headers[i].value, token) == NULL, "header %s carries the token",
                      r.headers[i].name);
    }

    /* stored as its SHA-256 only, bound to the trader, the tenant and the default
     * redirect, valid for 15 minutes */
    ck_assert_int_eq(it_db_int("select count(*) from login_tokens where user_id = $1::bigint "
                               "and tenant = 'demo' and state = 'sent' and token_hash = "
                               "sha256(convert_to($2, 'UTF8')) and redirect_url = $3 and "
                               "expires_at - created_at = interval '900 seconds'",
                               uid, token, it_printf("%s/", it_env("POLYPARTNER_URL"))),
                     1);
    ck_assert_int_eq(it_db_int("select count(*) from login_tokens t where "
                               "strpos(t::text, $1) > 0",
                               token),
                     0);

    /* the link works: the page, then the sign-in lands on the default redirect */
    path = path_of(links[0]);
    page = it_request("GET", path, NULL, NULL);
    ck_assert_msg(page.status == 200, "%s", it_describe(&page));
    assert_lands_on(token, it_printf("%s/", it_env("POLYPARTNER_URL")));
    it_response_free(&page);
    it_response_free(&r);
}
END_TEST

/* Two links for one trader are two different tokens, both usable. */
START_TEST(test_link_each_request_new_token)
{
    trader_t t = new_trader();
    char *a = it_login_token(DEMO, t.id, t.email, NULL);
    char *b = it_login_token(DEMO, t.id, t.email, NULL);

    ck_assert_str_ne(a, b);
    assert_lands_on(b, it_printf("%s/", it_env("POLYPARTNER_URL")));
    assert_lands_on(a, it_printf("%s/", it_env("POLYPARTNER_URL")));
}
END_TEST

/* ---- body validation ------------------------------------------------------------- */

START_TEST(test_link_body_validation)
{
    static const char *const bad[] = {
        "not json",
        "{",
        "[]",
        "[{}]",
        "\"{}\"",
        "null",
        "42",
        "{} {}",
        "{\"redirect_url\":5}",
        "{\"redirect_url\":true}",
        "{\"redirect_url\":[]}",
        "{\"redirect_url\":{}}",
        "{\"redirect_url\":[\"https://demo.example.com/\"]}",
        "{\"redirect_url\":\"\"}",
        "{\"redirect_url\":\"https://demo.example.com/\",\"redirect_url\":\"https://demo.example.com/\"}",
        NULL
    };
    trader_t t = new_trader();
    it_response_t r;
    int i;

    /* absent body */
    r = it_login_link(DEMO, t.id, NULL);
    it_assert_error(r, 422, "VALIDATION_FAILED");
    assert_nothing_sent(&t, &r);
    it_response_free(&r);
    for (i = 0; bad[i]; i++) {
        r = it_login_link(DEMO, t.id, bad[i]);
        it_assert_error(r, 422, "VALIDATION_FAILED");
        assert_nothing_sent(&t, &r);
        it_response_free(&r);
    }
    /* and the trader can still get a link */
    r = it_login_link(DEMO, t.id, "{}");
    it_assert_status(r, 202);
    ck_assert_uint_eq(mail_count(t.email), 1);
}
END_TEST

/* ---- the redirect allowlist --------------------------------------------------------- */

/* The demo tenant allows https://demo.example.com/, https://firm.example.com/app
 * and http://127.0.0.1:18080/dev/ (test/harness/lib.sh); other allows
 * https://other.example.com/. */
START_TEST(test_link_redirect_attacks)
{
    static const char *const bad[] = {
        /* host suffix / prefix tricks */
        "https://demo.example.com.evil.com/", "https://evil-demo.example.com/",
        "https://evildemo.example.com/", "https://demo.example.co/", "https://xdemo.example.com/",
        "https://demo.example.com./", "https://demo.example.com%2eevil.com/",
        /* userinfo */
        "https://demo.example.com@evil.com/", "https://user@demo.example.com/",
        "https://user:pw@demo.example.com/", "https://evil.com@demo.example.com/",
        "https://demo.example.com:443@evil.com/",
        /* backslashes */
        "https://evil.com\\@demo.example.com/", "https://demo.example.com\\@evil.com/",
        "https://demo.example.com\\evil.com/", "https:\\\\demo.example.com/",
        "https://demo.example.com/\\evil.com",
        /* schemes */
        "http://demo.example.com/", "http://firm.example.com/app", "ftp://demo.example.com/",
        "javascript:alert(1)//demo.example.com/", "data:text/html,https://demo.example.com/",
        "//demo.example.com/", "/relative/path", "demo.example.com/", "https:/demo.example.com/",
        "https:demo.example.com/",
        /* ports */
        "https://demo.example.com:8443/", "https://demo.example.com:80/",
        "https://demo.example.com:0/", "https://demo.example.com:/",
        "https://demo.example.com:0443/", "https://demo.example.com:65536/",
        "http://127.0.0.1:18081/dev/", "http://127.0.0.1/dev/", "https://127.0.0.1:18080/dev/",
        "http://localhost:18080/dev/", "http://127.1:18080/dev/", "http://2130706433:18080/dev/",
        /* path prefix not on a segment boundary, or outside */
        "https://firm.example.com/apple", "https://firm.example.com/app-admin",
        "https://firm.example.com/ap", "https://firm.example.com/", "https://firm.example.com/APP",
        "https://firm.example.com/other/app", "http://127.0.0.1:18080/dev",
        "http://127.0.0.1:18080/devil/",
        /* dot segments, encoded or not */
        "https://firm.example.com/app/../admin", "https://firm.example.com/app/./x",
        "https://firm.example.com/app/%2e%2e/admin", "https://firm.example.com/app/%2E%2E/admin",
        "https://firm.example.com/app/.%2e/admin", "https://firm.example.com/app/%2e./admin",
        "https://firm.example.com/app/..;x/admin", "https://firm.example.com/app%2f..%2fadmin",
        "https://firm.example.com/app%2F..%2Fadmin", "https://firm.example.com/app%5c..%5cadmin",
        "https://firm.example.com/app/%252e%252e/admin", "https://firm.example.com/app//evil.com",
        "https://firm.example.com/app/%00", "https://firm.example.com/app/%zz",
        /* fragment and query tricks: the host is what counts */
        "https://evil.com#@demo.example.com/", "https://evil.com#https://demo.example.com/",
        "https://evil.com/#demo.example.com", "https://evil.com?https://demo.example.com/",
        "https://evil.com?@demo.example.com/", "https://demo.example.com/#<script>",
        "https://demo.example.com/#a b", "https://demo.example.com/?q=\"x\"",
        /* whitespace, controls, non-ASCII */
        " https://demo.example.com/", "https://demo.example.com/ ", "https://demo.example.com/\t",
        "https://demo.example.com/\r\nLocation: https://evil.com/", "https://demo.example.com/\nx",
        "https://demo.example.com/\xc3\xa9", "https://d\xc3\xa9mo.example.com/",
        "https://xn--demo.example.com/",
        /* IPv6 and odd hosts */
        "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://demo.example.com%00.evil.com/",
        "https://demo..example.com/",
        /* another tenant's allowlist */
        "https://other.example.com/", NULL
    };
    trader_t t = new_trader();
    int i;
    char *long_url;

    for (i = 0; bad[i]; i++) {
        it_response_t r = link_with_redirect(DEMO, t.id, bad[i]);
        char *p = it_error_problem(&r, 400, "REDIRECT_NOT_ALLOWED");
        ck_assert_msg(p == NULL, "redirect_url %s: %s", bad[i], p ? p : "");
        assert_nothing_sent(&t, &r);
        it_response_free(&r);
    }
    /* longer than 2048 bytes (a string of 2049 characters is a 422 or a 400, never a 202) */
    long_url = it_printf("https://demo.example.com/%02030d", 0);
    {
        it_response_t r = link_with_redirect(DEMO, t.id, long_url);
        ck_assert_msg(r.status == 400 || r.status == 422, "a %zu-byte redirect_url: %s",
                      strlen(long_url), it_describe(&r));
        assert_nothing_sent(&t, &r);
    }
    /* the other tenant's own entry works for it */
    {
        trader_t o = new_trader_of(OTHER);
        char *tok = it_login_token(OTHER, o.id, o.email, "https://other.example.com/desk");
        assert_lands_on(tok, "https://other.example.com/desk");
    }
}
END_TEST

START_TEST(test_link_redirect_allowed)
{
    static const char *const good[] = { "https://demo.example.com/",
                                        "https://demo.example.com",
                                        "https://demo.example.com/markets?tab=open&x=%20y#top",
                                        "https://DEMO.Example.COM:443/Case",
                                        "https://firm.example.com/app",
                                        "https://firm.example.com/app/",
                                        "https://firm.example.com/app/dashboard?from=email",
                                        "https://firm.example.com/app?x=1",
                                        "https://firm.example.com/app#section",
                                        "http://127.0.0.1:18080/dev/",
                                        "http://127.0.0.1:18080/dev/x/y",
                                        NULL };
    int i;

    for (i = 0; good[i]; i++) {
        trader_t t = new_trader();
        char *tok = it_login_token(DEMO, t.id, t.email, good[i]);
        ck_assert_int_eq(it_db_int("select count(*) from login_tokens where user_id = "
                                   "$1::bigint and redirect_url = $2",
                                   it_lltext(t.id), good[i]),
                         1);
        assert_lands_on(tok, good[i]);
    }
}
END_TEST

/* ---- permissions and users -------------------------------------------------------------- */

START_TEST(test_link_needs_users_write)
{
    trader_t t = new_trader();
    it_response_t r = it_login_link(READONLY, t.id, "{}");

    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    assert_nothing_sent(&t, &r);
    it_response_free(&r);

    r = it_request("POST", it_printf("/v1/partner/users/%lld/login-link", t.id), NULL, "{}");
    it_assert_error(r, 401, "MISSING_API_KEY");
    assert_nothing_sent(&t, &r);
    it_response_free(&r);

    r = it_request("POST", it_printf("/v1/partner/users/%lld/login-link", t.id),
                   IT_HEADERS("X-API-Key: ppk_not_a_key"), "{}");
    it_assert_error(r, 401, "INVALID_API_KEY");
    assert_nothing_sent(&t, &r);
    it_response_free(&r);
}
END_TEST

START_TEST(test_link_unknown_and_foreign_users)
{
    static const char *const bad_ids[] = { "abc", "0", "-1", "01", "1.0", "99999999999999999999",
                                           NULL };
    trader_t t = new_trader();
    it_response_t unknown, foreign, r;
    int i;

    unknown = it_request("POST", "/v1/partner/users/999999999999/login-link",
                         IT_HEADERS(it_key_header(DEMO)), "{}");
    it_assert_error(unknown, 404, "USER_NOT_FOUND");

    /* registered by demo, asked for by other: the same answer as an unknown id */
    foreign = it_login_link(OTHER, t.id, "{}");
    it_assert_error(foreign, 404, "USER_NOT_FOUND");
    assert_nothing_sent(&t, &foreign);
    ck_assert_str_eq(it_json_str(foreign.json, "message"), it_json_str(unknown.json, "message"));

    /* also with a redirect the other tenant allows */
    r = link_with_redirect(OTHER, t.id, "https://other.example.com/");
    it_assert_error(r, 404, "USER_NOT_FOUND");
    assert_nothing_sent(&t, &r);

    for (i = 0; bad_ids[i]; i++) {
        r = it_request("POST", it_printf("/v1/partner/users/%s/login-link", bad_ids[i]),
                       IT_HEADERS(it_key_header(DEMO)), "{}");
        it_assert_error(r, 404, "USER_NOT_FOUND");
        it_response_free(&r);
    }
}
END_TEST

/* ---- throttling ---------------------------------------------------------------------------- */

START_TEST(test_link_throttle)
{
    trader_t t = new_trader(), u = new_trader();
    char *first = NULL, *retry_end;
    it_response_t r;
    long retry;
    int i;

    for (i = 0; i < 5; i++) {
        char *tok = it_login_token(DEMO, t.id, t.email, NULL);
        if (!first) first = tok;
    }
    r = it_login_link(DEMO, t.id, "{}");
    it_assert_error(r, 429, "RATE_LIMIT_EXCEEDED");
    ck_assert_msg(it_header(&r, "Retry-After") != NULL, "429 without Retry-After: %s",
                  it_describe(&r));
    retry = strtol(it_header(&r, "Retry-After"), &retry_end, 10);
    ck_assert_msg(*retry_end == '\0' && retry > 3500 && retry <= 3600,
                  "Retry-After must be the seconds until the oldest of the 5 links leaves the "
                  "hour (about 3600), got '%s'",
                  it_header(&r, "Retry-After"));
    ck_assert_uint_eq(mail_count(t.email), 5);
    ck_assert_int_eq(tokens_of(t.id, NULL), 5);
    it_response_free(&r);

    /* still refused, also with a valid redirect; an invalid body is judged first */
    r = link_with_redirect(DEMO, t.id, "https://demo.example.com/");
    it_assert_error(r, 429, "RATE_LIMIT_EXCEEDED");
    it_response_free(&r);
    r = link_with_redirect(DEMO, t.id, "https://evil.com/");
    it_assert_error(r, 400, "REDIRECT_NOT_ALLOWED");
    it_response_free(&r);
    r = it_login_link(DEMO, t.id, "[]");
    it_assert_error(r, 422, "VALIDATION_FAILED");
    it_response_free(&r);
    ck_assert_uint_eq(mail_count(t.email), 5);

    /* the links already sent keep working */
    assert_lands_on(first, it_printf("%s/", it_env("POLYPARTNER_URL")));

    /* per trader: another trader of the tenant is not affected */
    it_login_token(DEMO, u.id, u.email, NULL);

    /* per tenant: the same trader registered by another tenant gets a link there */
    {
        char *x = it_unique("login-other");
        long long same = it_register(OTHER, x, t.email, NULL);
        ck_assert_int_eq(same, t.id);
        it_login_token(OTHER, t.id, t.email, NULL);
        r = it_login_link(DEMO, t.id, "{}");
        it_assert_error(r, 429, "RATE_LIMIT_EXCEEDED");
        it_response_free(&r);
    }
}
END_TEST

#define RACERS 10

typedef struct {
    long long uid;
    pthread_barrier_t *barrier;
    it_response_t r;
} racer_t;

static void *race_link(void *arg)
{
    racer_t *rc = arg;
    pthread_barrier_wait(rc->barrier);
    rc->r = it_login_link(DEMO, rc->uid, "{}");
    return NULL;
}

START_TEST(test_link_throttle_concurrent)
{
    trader_t t = new_trader();
    pthread_t th[RACERS];
    racer_t rc[RACERS];
    pthread_barrier_t barrier;
    int i, ok = 0, limited = 0;

    pthread_barrier_init(&barrier, NULL, RACERS);
    for (i = 0; i < RACERS; i++) {
        rc[i].uid = t.id;
        rc[i].barrier = &barrier;
        ck_assert_int_eq(pthread_create(&th[i], NULL, race_link, &rc[i]), 0);
    }
    for (i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_barrier_destroy(&barrier);
    for (i = 0; i < RACERS; i++) {
        if (rc[i].r.status == 202) {
            ok++;
        }
        else {
            it_assert_error(rc[i].r, 429, "RATE_LIMIT_EXCEEDED");
            ck_assert_msg(it_header(&rc[i].r, "Retry-After") != NULL, "%s", it_describe(&rc[i].r));
            limited++;
        }
    }
    ck_assert_msg(ok == 5 && limited == RACERS - 5,
                  "%d concurrent requests: %d accepted, %d "
                  "throttled; expected exactly 5 accepted",
                  RACERS, ok, limited);
    ck_assert_uint_eq(mail_count(t.email), 5);
    ck_assert_int_eq(tokens_of(t.id, "sent"), 5);
    ck_assert_int_eq(tokens_of(t.id, NULL), 5);
}
END_TEST

/* ---- SMTP failure -------------------------------------------------------------------------- */

static char *fail_path(void)
{
    return it_printf("%s/.fail", it_env("MAIL_DIR"));
}

static void sink_fail(const char *spec)
{
    char *p = fail_path();
    FILE *f = fopen(p, "w");
    ck_assert_msg(f != NULL, "cannot write %s: %s", p, strerror(errno));
    fprintf(f, "%s\n", spec);
    ck_assert_int_eq(fclose(f), 0);
}

static void sink_ok(void)
{
    char *p = fail_path();
    ck_assert_msg(unlink(p) == 0 || errno == ENOENT, "cannot remove %s: %s", p, strerror(errno));
}

/* Unchecked teardown: runs in the runner even when a test failed, so a
 * refused sink never leaks into the next tests. */
static void sink_restore(void)
{
    unlink(fail_path());
}

START_TEST(test_link_smtp_failure)
{
    static const char *const failures[] = { "451", "554", "451 data", "554 data", "421", NULL };
    trader_t t = new_trader();
    size_t total = mail_total();
    char *uid = it_lltext(t.id), *token, *known, *failed_id, *sent_id;
    it_response_t r;
    int i;

    it_expect_log(it_printf("\\[polypartner:error\\].*PP0505: login link for user %lld not "
                            "sent",
                            t.id));
    /* five refusals: 502, nothing mailed, each token marked failed */
    for (i = 0; failures[i]; i++) {
        sink_fail(failures[i]);
        r = it_login_link(DEMO, t.id, "{}");
        {
            char *p = it_error_problem(&r, 502, "MAGIC_LINK_FAILED");
            ck_assert_msg(p == NULL, "relay answering %s: %s", failures[i], p ? p : "");
        }
        ck_assert_int_eq(tokens_of(t.id, "failed"), i + 1);
        ck_assert_int_eq(tokens_of(t.id, NULL), i + 1);
        it_response_free(&r);
    }
    ck_assert_uint_eq(mail_total(), total);
    ck_assert_uint_eq(mail_count(t.email), 0);

    /* the relay is back: failed links did not count against the limit of 5 */
    sink_ok();
    token = it_login_token(DEMO, t.id, t.email, NULL);
    ck_assert_int_eq(tokens_of(t.id, "sent"), 1);
    sent_id = it_db_scalar("select id::text from login_tokens where user_id = $1::bigint and "
                           "state = 'sent'",
                           uid);
    assert_lands_on(token, it_printf("%s/", it_env("POLYPARTNER_URL")));

    /* the only session of this trader came from the link that was sent */
    ck_assert_int_eq(it_db_int("select count(*) from sessions where user_id = $1::bigint", uid), 1);
    ck_assert_str_eq(it_db_scalar("select login_token_id::text from sessions where user_id = "
                                  "$1::bigint",
                                  uid),
                     sent_id);

    /* a failed token never works, even to someone who knows it: give one a known value */
    known = it_printf("Kn0wn-failed-token_%s", "xxxxxxxxxxxxxxxxxxxxxxxx");
    ck_assert_uint_eq(strlen(known), 43);
    failed_id = it_db_scalar("update login_tokens set token_hash = sha256(convert_to($2, "
                             "'UTF8')) where id = (select min(id) from login_tokens where "
                             "user_id = $1::bigint and state = 'failed') returning id::text",
                             uid, known);
    ck_assert_ptr_nonnull(failed_id);
    r = it_request("GET", it_printf("/auth/login?token=%s", known), NULL, NULL);
    ck_assert_msg(r.status == 410 && it_header(&r, "Set-Cookie") == NULL,
                  "GET of a failed "
                  "link: %s",
                  it_describe(&r));
    it_response_free(&r);
    r = it_signin_post(known, NULL);
    ck_assert_msg(r.status == 410 && it_header(&r, "Set-Cookie") == NULL,
                  "POST of a failed "
                  "link: %s",
                  it_describe(&r));
    it_response_free(&r);
    ck_assert_int_eq(it_db_int("select count(*) from sessions where user_id = $1::bigint", uid), 1);
    ck_assert_str_eq(it_db_scalar("select state from login_tokens where id = $1::bigint",
                                  failed_id),
                     "failed");
}
END_TEST

/* ---- internationalised addresses ------------------------------------------------------ */

static char *no_smtputf8_path(void)
{
    return it_printf("%s/.no-smtputf8", it_env("MAIL_DIR"));
}

/* Unchecked teardown: the sink offers SMTPUTF8 again for the next tests. */
static void sink_restore_smtputf8(void)
{
    unlink(no_smtputf8_path());
}

/* Registers local "@" domain (local gets a unique suffix) and returns the
 * trader with the stored address. */
static trader_t new_trader_at(const char *local, const char *domain)
{
    trader_t t;
    char *x = it_unique("intl");
    t.email = it_printf("%s.%s@%s", local, x, domain);
    t.id = it_register(DEMO, x, t.email, NULL);
    return t;
}

/* The login link reaches envelope (as the relay saw RCPT TO) with To: to and works. */
static void assert_link_delivered(const trader_t *t, const char *envelope, const char *to)
{
    size_t n;
    char **mail, *token;

    token = it_login_token(DEMO, t->id, envelope, NULL);
    mail = it_mail_to(envelope, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_msg(strstr(mail[0], it_printf("\nTo: %s\r\n", to)) != NULL,
                  "the message is not addressed To: %s:\n%s", to, mail[0]);
    assert_lands_on(token, it_printf("%s/", it_env("POLYPARTNER_URL")));
}

START_TEST(test_link_utf8_local_part)
{
    /* SMTPUTF8: the envelope and the To header carry the UTF-8 address */
    trader_t t = new_trader_at("jos\xc3\xa9", "example.com");
    assert_link_delivered(&t, t.email, t.email);
}
END_TEST

START_TEST(test_link_idna_domain)
{
    /* the domain travels as its A-label, with or without SMTPUTF8 */
    trader_t t = new_trader_at("u", "b\xc3\xbc"
                                    "cher.de");
    char *ascii = it_printf("%.*s@xn--bcher-kva.de", (int)(strchr(t.email, '@') - t.email),
                            t.email);
    assert_link_delivered(&t, ascii, ascii);
}
END_TEST

START_TEST(test_link_quoted_local_part)
{
    char *x = it_unique("quoted");
    trader_t t;
    t.email = it_printf("\"a b %s\"@example.com", x);
    t.id = it_register(DEMO, x, t.email, NULL);
    assert_link_delivered(&t, t.email, t.email);
}
END_TEST

START_TEST(test_link_relay_without_smtputf8)
{
    trader_t utf8 = new_trader_at("jos\xc3\xa9", "example.com");
    trader_t idna = new_trader_at("u", "b\xc3\xbc"
                                       "cher.de");
    char *p = no_smtputf8_path(), *problem;
    const char *msg;
    FILE *f = fopen(p, "w");
    it_response_t r;

    ck_assert_msg(f != NULL, "cannot write %s: %s", p, strerror(errno));
    ck_assert_int_eq(fclose(f), 0);
    it_expect_log(it_printf("\\[polypartner:error\\].*PP0505: login link for user %lld not "
                            "sent: mail: the relay does not offer SMTPUTF8",
                            utf8.id));

    /* permanent for this relay: 502, said honestly, nothing sent, token failed */
    r = it_login_link(DEMO, utf8.id, "{}");
    problem = it_error_problem(&r, 502, "MAGIC_LINK_FAILED");
    ck_assert_msg(problem == NULL, "%s", problem ? problem : "");
    msg = it_json_str(r.json, "message");
    ck_assert_msg(msg && strstr(msg, "SMTPUTF8") && strstr(msg, "will not help")
                      && !strstr(msg, "retry later"),
                  "%s", it_describe(&r));
    it_response_free(&r);
    ck_assert_uint_eq(mail_count(utf8.email), 0);
    ck_assert_int_eq(tokens_of(utf8.id, "failed"), 1);

    /* an A-label domain needs no SMTPUTF8 */
    r = it_login_link(DEMO, idna.id, "{}");
    it_assert_status(r, 202);
    it_response_free(&r);

    /* once the relay offers SMTPUTF8, the same trader gets the link */
    ck_assert_int_eq(unlink(p), 0);
    assert_link_delivered(&utf8, utf8.email, utf8.email);
}
END_TEST

START_TEST(test_link_undeliverable_stored_address)
{
    /* registered before the delivery rules: a comment in the address */
    trader_t t = new_trader();
    char *uid = it_lltext(t.id), *bad = it_printf("a(b)%s", t.email), *problem;
    const char *msg;
    it_response_t r;

    ck_assert_ptr_nonnull(it_db_scalar("update users set email = $2 where id = $1::bigint "
                                       "returning email",
                                       uid, bad));
    it_expect_log(it_printf("\\[polypartner:error\\].*PP0505: login link for user %lld not "
                            "sent: email must not contain comments",
                            t.id));
    r = it_login_link(DEMO, t.id, "{}");
    problem = it_error_problem(&r, 502, "MAGIC_LINK_FAILED");
    ck_assert_msg(problem == NULL, "%s", problem ? problem : "");
    msg = it_json_str(r.json, "message");
    ck_assert_msg(msg && strstr(msg, "can never receive mail") && strstr(msg, "comments")
                      && !strstr(msg, "retry later"),
                  "%s", it_describe(&r));
    it_response_free(&r);
    ck_assert_int_eq(tokens_of(t.id, "failed"), 1);
    ck_assert_uint_eq(mail_count(bad), 0);
}
END_TEST

Suite *it_login_suite(void)
{
    Suite *s = suite_create("login-link");
    TCase *link = tcase_create("link");
    TCase *redirect = tcase_create("redirect");
    TCase *throttle = tcase_create("throttle");
    TCase *smtp = tcase_create("smtp-failure");
    TCase *intl = tcase_create("international");

    tcase_set_timeout(link, 120);
    tcase_add_test(link, test_link_accepted_and_mailed);
    tcase_add_test(link, test_link_each_request_new_token);
    tcase_add_test(link, test_link_body_validation);
    tcase_add_test(link, test_link_needs_users_write);
    tcase_add_test(link, test_link_unknown_and_foreign_users);
    suite_add_tcase(s, link);

    tcase_set_timeout(redirect, 120);
    tcase_add_test(redirect, test_link_redirect_attacks);
    tcase_add_test(redirect, test_link_redirect_allowed);
    suite_add_tcase(s, redirect);

    tcase_set_timeout(throttle, 120);
    tcase_add_test(throttle, test_link_throttle);
    tcase_add_test(throttle, test_link_throttle_concurrent);
    suite_add_tcase(s, throttle);

    tcase_set_timeout(smtp, 120);
    tcase_add_unchecked_fixture(smtp, sink_restore, sink_restore);
    tcase_add_test(smtp, test_link_smtp_failure);
    suite_add_tcase(s, smtp);

    tcase_set_timeout(intl, 120);
    tcase_add_unchecked_fixture(intl, sink_restore_smtputf8, sink_restore_smtputf8);
    tcase_add_test(intl, test_link_utf8_local_part);
    tcase_add_test(intl, test_link_idna_domain);
    tcase_add_test(intl, test_link_quoted_local_part);
    tcase_add_test(intl, test_link_relay_without_smtputf8);
    tcase_add_test(intl, test_link_undeliverable_stored_address);
    suite_add_tcase(s, intl);
    return s;
}
