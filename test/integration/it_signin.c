/* The trader side: the sign-in page (/auth/login: GET shows, only POST
 * consumes; unknown, malformed, expired and used tokens; the race of two
 * redemptions; Origin and Content-Type checks), the session cookie and its
 * expiry, logout, CSRF on every state change, and the trader API
 * (/v1/trader/...): isolation between traders and tenants, nothing of the
 * tenant beyond the trader's accounts, trading through the same engine as
 * the partner API, and closed accounts read-only. */
#include "it.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEMO     it_env("DEMO_KEY")
#define READONLY it_env("DEMO_READONLY_KEY")
#define OTHER    it_env("OTHER_KEY")
#define BASE     it_env("POLYPARTNER_URL")

#define UNKNOWN_SECRET "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static const char *const me_keys[] = { "csrf_token",      "user_id",  "email",
                                       "personal_wallet", "accounts", NULL };

/* ---- helpers ------------------------------------------------------------------- */

typedef struct {
    long long id;
    char *email;
    char *external_id;
    char *tenant_user_id;
} trader_t;

static trader_t new_trader_of(const char *key)
{
    trader_t t;
    t.external_id = it_unique("signin");
    t.email = it_printf("%s@example.com", t.external_id);
    t.id = it_register(key, t.external_id, t.email, &t.tenant_user_id);
    return t;
}

static trader_t new_trader(void)
{
    return new_trader_of(DEMO);
}

/* SQL: the digest of the secret passed as $1 (how the module stores it). */
#define SHA_OF_1 "sha256(convert_to($1, 'UTF8'))"

static long long sessions_of(long long uid)
{
    return it_db_int("select count(*) from sessions where user_id = $1::bigint", it_lltext(uid));
}

static it_response_t get_page(const char *token)
{
    return it_request("GET", it_printf("/auth/login?token=%s", token), NULL, NULL);
}

static int has_text_html(const it_response_t *r)
{
    const char *ct = it_header(r, "Content-Type");
    return ct && strncasecmp(ct, "text/html", 9) == 0;
}

/* A 410 page: HTML, no form, no cookie. */
static void assert_gone(const it_response_t *r, const char *why)
{
    ck_assert_msg(r->status == 410, "%s: expected 410: %s", why, it_describe(r));
    ck_assert_msg(has_text_html(r), "%s: expected an HTML page: %s", why, it_describe(r));
    ck_assert_msg(strstr(r->body, "<form") == NULL, "%s: a 410 page has no form: %s", why,
                  it_describe(r));
    ck_assert_msg(it_header(r, "Set-Cookie") == NULL, "%s: a 410 sets no cookie: %s", why,
                  it_describe(r));
    ck_assert_msg(it_header(r, "Cache-Control")
                      && strstr(it_header(r, "Cache-Control"), "no-store"),
                  "%s: Cache-Control no-store: %s", why, it_describe(r));
}

static void assert_signs_in(const char *token)
{
    it_response_t r = it_signin_post(token, NULL);
    ck_assert_msg(r.status == 303 && it_session_cookie_value(&r) != NULL,
                  "the token must still work: %s", it_describe(&r));
    it_response_free(&r);
}

static int has_set_cookie_attr(const char *cookie, const char *attr)
{
    const char *c = strchr(cookie, ';');
    size_t n = strlen(attr);

    while (c) {
        c++;
        while (*c == ' ') c++;
        if (strncasecmp(c, attr, n) == 0 && (c[n] == ';' || c[n] == '\0' || c[n] == '=')) {
            return 1;
        }
        c = strchr(c, ';');
    }
    return 0;
}

static const char *set_cookie_of(const it_response_t *r)
{
    size_t i;
    for (i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, "Set-Cookie") == 0
            && strncmp(r->headers[i].value, "pp_session=", 11) == 0) {
            return r->headers[i].value;
        }
    }
    return NULL;
}

/* Moves a trader's sent links past their expiry (created_at too: the table
 * requires expires_at > created_at). */
static void expire_links(long long uid)
{
    it_db_scalar("with u as (update login_tokens set created_at = now() - interval '20 minutes', "
                 "expires_at = now() - interval '1 second' where user_id = $1::bigint and "
                 "state = 'sent' returning 1) select count(*) from u",
                 it_lltext(uid));
}

/* ---- accounts and markets ------------------------------------------------------------ */

typedef struct {
    char *id;
    char *wallet;
} account_t;

static account_t new_account(const char *key, long long uid, const char *balance)
{
    account_t a;
    it_response_t r = it_request("POST", "/v1/partner/accounts", IT_HEADERS(it_key_header(key)),
                                 it_printf("{\"user_id\":%lld,\"external_id\":%s,\"stage\":"
                                           "\"challenge\",\"starting_balance\":%s}",
                                           uid, it_json_quote(it_unique("sacct")),
                                           it_json_quote(balance)));
    json_object *w;
    it_assert_status(r, 201);
    a.id = it_printf("%s", it_json_str(r.json, "account_id"));
    w = it_json_get(r.json, "wallet_id");
    ck_assert_msg(w != NULL, "%s", it_describe(&r));
    a.wallet = it_lltext(json_object_get_int64(w));
    it_response_free(&r);
    return a;
}

typedef struct {
    char *cond;
    char *yes;
    char *no;
} market_t;

static void quote(const char *tok, const char *bid, const char *ask)
{
    it_db_int("select pp_apply_price_updates($1::jsonb)",
              it_printf("[{\"token_id\":\"%s\",\"best_bid\":\"%s\",\"best_ask\":\"%s\"}]", tok, bid,
                        ask));
}

/* An open market, Yes quoted bid/ask, No quoted 0.50/0.55. */
static market_t quoted_market(const char *bid, const char *ask)
{
    market_t m;
    m.cond = it_unique("0xsignin");
    m.yes = it_token_id();
    m.no = it_token_id();
    it_db_scalar("select pp_upsert_market($1, 'Signed-in trader market?', $2, false, "
                 "$3::jsonb)::text",
                 m.cond, it_unique("slug"),
                 it_printf("[{\"token_id\":\"%s\",\"outcome\":\"Yes\",\"tick_size\":\"0.01\"},"
                           "{\"token_id\":\"%s\",\"outcome\":\"No\",\"tick_size\":\"0.01\"}]",
                           m.yes, m.no));
    quote(m.yes, bid, ask);
    quote(m.no, "0.50", "0.55");
    return m;
}

static char *order_body(const char *tok, const char *side, const char *type, const char *qty,
                        const char *limit_price)
{
    char *b = it_printf("{\"token_id\":%s,\"side\":%s,\"type\":%s,\"quantity\":%s",
                        it_json_quote(tok), it_json_quote(side), it_json_quote(type),
                        it_json_quote(qty));
    if (limit_price) b = it_printf("%s,\"limit_price\":%s", b, it_json_quote(limit_price));
    return it_printf("%s}", b);
}

static long long count_orders(const account_t *a)
{
    return it_db_int("select count(*) from orders where wallet_id = $1::bigint", a->wallet);
}

static long long int_of(const it_response_t *r, json_object *o, const char *key)
{
    json_object *v = it_json_get(o, key);
    ck_assert_msg(v && json_object_is_type(v, json_type_int), "%s must be an integer: %s", key,
                  it_describe(r));
    return (long long)json_object_get_int64(v);
}

/* Does the array member `key` of r's JSON hold an object whose `field` is id? */
static int list_has(const it_response_t *r, const char *key, const char *field, const char *id)
{
    json_object *a = it_json_get(r->json, key);
    size_t i;
    if (!a || !json_object_is_type(a, json_type_array)) {
        return 0;
    }
    for (i = 0; i < json_object_array_length(a); i++) {
        json_object *o = json_object_array_get_idx(a, i);
        json_object *v = it_json_get(o, field);
        if (v && strcmp(json_object_get_string(v), id) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- the sign-in page ------------------------------------------------------------------- */

START_TEST(test_signin_page_shows_and_consumes_nothing)
{
    trader_t t = new_trader();
    char *token = it_login_token(DEMO, t.id, t.email, NULL);
    char *hidden = it_printf("name=\"token\" value=\"%s\"", token);
    it_response_t r;
    int i;

    /* a mail scanner may fetch the link any number of times */
    for (i = 0; i < 3; i++) {
        r = get_page(token);
        ck_assert_msg(r.status == 200 && has_text_html(&r), "%s", it_describe(&r));
        ck_assert_msg(strstr(r.body, "<form method=\"post\" action=\"/auth/login\">") != NULL,
                      "the page must hold a form posting to /auth/login: %s", it_describe(&r));
        ck_assert_msg(strstr(r.body, hidden) != NULL, "the form must carry the token: %s",
                      it_describe(&r));
        ck_assert_msg(strstr(r.body, t.email) != NULL, "the page names the trader: %s",
                      it_describe(&r));
        ck_assert_msg(it_header(&r, "Set-Cookie") == NULL, "GET must not sign in: %s",
                      it_describe(&r));
        ck_assert_msg(it_header(&r, "Cache-Control")
                          && strstr(it_header(&r, "Cache-Control"), "no-store"),
                      "%s", it_describe(&r));
        ck_assert_msg(it_header(&r, "Referrer-Policy")
                          && strcmp(it_header(&r, "Referrer-Policy"), "same-origin") == 0,
                      "the token is in the URL: Referrer-Policy same-origin: %s", it_describe(&r));
        ck_assert_msg(it_header(&r, "Content-Security-Policy") != NULL, "%s", it_describe(&r));
        it_response_free(&r);
    }
    /* HEAD neither */
    r = it_request("HEAD", it_printf("/auth/login?token=%s", token), NULL, NULL);
    ck_assert_msg(r.status == 200 && it_header(&r, "Set-Cookie") == NULL, "%s", it_describe(&r));
    it_response_free(&r);
    ck_assert_int_eq(sessions_of(t.id), 0);
    ck_assert_int_eq(it_db_int("select count(*) from login_tokens where user_id = $1::bigint "
                               "and state = 'sent'",
                               it_lltext(t.id)),
                     1);
    assert_signs_in(token);
    ck_assert_int_eq(sessions_of(t.id), 1);
}
END_TEST

START_TEST(test_signin_page_invalid_tokens)
{
    static const char *const malformed[] = { "",
                                             "abc",
                                             UNKNOWN_SECRET "A",
                                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.",
                                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%2B",
                                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%00",
                                             "%3Cscript%3E",
                                             NULL };
    trader_t t = new_trader();
    char *token = it_login_token(DEMO, t.id, t.email, NULL);
    it_response_t r;
    int i;

    r = get_page(UNKNOWN_SECRET);
    assert_gone(&r, "an unknown token");
    it_response_free(&r);
    for (i = 0; malformed[i]; i++) {
        r = get_page(malformed[i]);
        assert_gone(&r, it_printf("token '%s'", malformed[i]));
        it_response_free(&r);
    }
    r = it_request("GET", "/auth/login", NULL, NULL);
    assert_gone(&r, "no token");
    it_response_free(&r);
    /* a real token given twice is refused, not guessed at */
    r = it_request("GET", it_printf("/auth/login?token=%s&token=%s", token, token), NULL, NULL);
    assert_gone(&r, "the token twice");
    it_response_free(&r);
    /* a real token with one character changed */
    {
        char *other = it_printf("%s", token);
        other[0] = other[0] == 'A' ? 'B' : 'A';
        r = get_page(other);
        assert_gone(&r, "a token with one character changed");
        it_response_free(&r);
        r = it_signin_post(other, NULL);
        assert_gone(&r, "POST of a token with one character changed");
        it_response_free(&r);
    }
    /* POST of the same */
    r = it_signin_post(UNKNOWN_SECRET, NULL);
    assert_gone(&r, "POST of an unknown token");
    it_response_free(&r);
    r = it_request("POST", "/auth/login",
                   IT_HEADERS("Content-Type: application/x-www-form-urlencoded"), "");
    assert_gone(&r, "POST without a token");
    it_response_free(&r);
    r = it_request("POST", "/auth/login",
                   IT_HEADERS("Content-Type: application/x-www-form-urlencoded"),
                   it_printf("token=%s&token=%s", token, token));
    assert_gone(&r, "POST with the token twice");
    it_response_free(&r);
    ck_assert_int_eq(sessions_of(t.id), 0);
    assert_signs_in(token);
}
END_TEST

START_TEST(test_signin_expired_token)
{
    trader_t t = new_trader();
    char *token = it_login_token(DEMO, t.id, t.email, NULL);
    it_response_t r;

    expire_links(t.id);
    r = get_page(token);
    assert_gone(&r, "GET of an expired link");
    ck_assert_msg(strstr(r.body, "expired") != NULL, "the page says the link expired: %s",
                  it_describe(&r));
    it_response_free(&r);
    r = it_signin_post(token, NULL);
    assert_gone(&r, "POST of an expired link");
    ck_assert_msg(strstr(r.body, "expired") != NULL, "%s", it_describe(&r));
    it_response_free(&r);
    ck_assert_int_eq(sessions_of(t.id), 0);
    ck_assert_int_eq(it_db_int("select count(*) from login_tokens where user_id = $1::bigint "
                               "and state = 'sent' and used_at is null",
                               it_lltext(t.id)),
                     1);
}
END_TEST

START_TEST(test_signin_cookie_and_reuse)
{
    trader_t t = new_trader();
    char *token = it_login_token(DEMO, t.id, t.email, NULL), *secret;
    it_response_t r = it_signin_post(token, NULL), again;
    const char *cookie;

    ck_assert_msg(r.status == 303, "%s", it_describe(&r));
    ck_assert_str_eq(it_header(&r, "Location"), it_printf("%s/", BASE));
    cookie = set_cookie_of(&r);
    ck_assert_msg(cookie != NULL, "no pp_session cookie: %s", it_describe(&r));
    secret = it_session_cookie_value(&r);
    ck_assert_msg(it_matches(secret, "^[A-Za-z0-9_-]{43}$"), "cookie value %s", secret);
    ck_assert_str_ne(secret, token);
    ck_assert_msg(has_set_cookie_attr(cookie, "HttpOnly"), "HttpOnly missing: %s", cookie);
    ck_assert_msg(has_set_cookie_attr(cookie, "SameSite=Lax"), "SameSite=Lax missing: %s", cookie);
    ck_assert_msg(has_set_cookie_attr(cookie, "Path=/"), "Path=/ missing: %s", cookie);
    ck_assert_msg(!has_set_cookie_attr(cookie, "Secure"),
                  "no Secure on a loopback http:// server (the browser would drop it): %s", cookie);
    ck_assert_msg(has_set_cookie_attr(cookie, "Max-Age=43200"),
                  "Max-Age of the session TTL "
                  "(12 h): %s",
                  cookie);
    ck_assert_msg(!has_set_cookie_attr(cookie, "Domain"), "no Domain: %s", cookie);
    /* stored hashed, bound to the link */
    ck_assert_int_eq(it_db_int(it_printf("select count(*) from sessions s join login_tokens t "
                                         "on t.id = s.login_token_id where s.session_hash = %s "
                                         "and s.user_id = $2::bigint and t.state = 'used' and "
                                         "s.expires_at - s.created_at = interval '12 hours'",
                                         SHA_OF_1),
                               secret, it_lltext(t.id)),
                     1);
    ck_assert_int_eq(it_db_int("select count(*) from sessions s where strpos(s::text, $1) > 0",
                               secret),
                     0);

    /* once only */
    again = it_signin_post(token, NULL);
    assert_gone(&again, "the second POST of a link");
    ck_assert_msg(strstr(again.body, "already been used") != NULL, "%s", it_describe(&again));
    it_response_free(&again);
    again = get_page(token);
    assert_gone(&again, "GET of a used link");
    it_response_free(&again);
    ck_assert_int_eq(sessions_of(t.id), 1);
    it_response_free(&r);
}
END_TEST

#define RACERS 8

typedef struct {
    const char *token;
    pthread_barrier_t *barrier;
    it_response_t r;
} racer_t;

static void *race_signin(void *arg)
{
    racer_t *rc = arg;
    pthread_barrier_wait(rc->barrier);
    rc->r = it_signin_post(rc->token, NULL);
    return NULL;
}

START_TEST(test_signin_race)
{
    int round;

    /* a few rounds: a lost race must never be a coincidence of timing */
    for (round = 0; round < 3; round++) {
        trader_t t = new_trader();
        char *token = it_login_token(DEMO, t.id, t.email, NULL);
        pthread_t th[RACERS];
        racer_t rc[RACERS];
        pthread_barrier_t barrier;
        int i, won = 0, gone = 0;

        pthread_barrier_init(&barrier, NULL, RACERS);
        for (i = 0; i < RACERS; i++) {
            rc[i].token = token;
            rc[i].barrier = &barrier;
            ck_assert_int_eq(pthread_create(&th[i], NULL, race_signin, &rc[i]), 0);
        }
        for (i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
        }
        pthread_barrier_destroy(&barrier);
        for (i = 0; i < RACERS; i++) {
            if (rc[i].r.status == 303) {
                ck_assert_msg(it_session_cookie_value(&rc[i].r) != NULL, "%s",
                              it_describe(&rc[i].r));
                won++;
            }
            else {
                assert_gone(&rc[i].r, "a losing concurrent redemption");
                gone++;
            }
        }
        ck_assert_msg(won == 1 && gone == RACERS - 1,
                      "%d concurrent redemptions of one link: "
                      "%d signed in, %d refused; expected exactly one",
                      RACERS, won, gone);
        ck_assert_int_eq(sessions_of(t.id), 1);
    }
}
END_TEST

START_TEST(test_signin_foreign_origin)
{
    static const char *const origins[] = { "Origin: https://evil.example.com", "Origin: null",
                                           "Origin: http://127.0.0.1", "Origin: http://localhost",
                                           NULL };
    trader_t t = new_trader();
    char *token = it_login_token(DEMO, t.id, t.email, NULL);
    it_response_t r;
    int i;

    for (i = 0; origins[i]; i++) {
        r = it_signin_post(token, IT_HEADERS(origins[i]));
        ck_assert_msg(r.status == 403 && has_text_html(&r), "%s: %s", origins[i], it_describe(&r));
        ck_assert_msg(it_header(&r, "Set-Cookie") == NULL, "%s", it_describe(&r));
        it_response_free(&r);
    }
    /* a different port of the same host is another origin */
    r = it_signin_post(token, IT_HEADERS(it_printf("Origin: %s0", BASE)));
    ck_assert_msg(r.status == 403, "%s", it_describe(&r));
    it_response_free(&r);
    ck_assert_int_eq(sessions_of(t.id), 0);
    /* the token still works, from this server's own origin */
    r = it_signin_post(token, IT_HEADERS(it_printf("Origin: %s", BASE)));
    ck_assert_msg(r.status == 303 && it_session_cookie_value(&r) != NULL, "%s", it_describe(&r));
    it_response_free(&r);
}
END_TEST

START_TEST(test_signin_content_type)
{
    trader_t t = new_trader();
    char *token = it_login_token(DEMO, t.id, t.email, NULL);
    char *form = it_printf("token=%s", token);
    it_response_t r;

    r = it_request("POST", "/auth/login", IT_HEADERS("Content-Type: application/json"),
                   it_printf("{\"token\":%s}", it_json_quote(token)));
    ck_assert_msg(r.status == 400 && has_text_html(&r) && !it_header(&r, "Set-Cookie"), "%s",
                  it_describe(&r));
    it_response_free(&r);
    r = it_request("POST", "/auth/login", IT_HEADERS("Content-Type: application/json"), form);
    ck_assert_msg(r.status == 400, "%s", it_describe(&r));
    it_response_free(&r);
    r = it_request("POST", "/auth/login", IT_HEADERS("Content-Type: text/plain"), form);
    ck_assert_msg(r.status == 400, "%s", it_describe(&r));
    it_response_free(&r);
    r = it_request("POST", "/auth/login",
                   IT_HEADERS("Content-Type: multipart/form-data; boundary=x"),
                   it_printf("--x\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n%s"
                             "\r\n--x--\r\n",
                             token));
    ck_assert_msg(r.status == 400, "%s", it_describe(&r));
    it_response_free(&r);
    r = it_request("POST", "/auth/login", IT_HEADERS("Content-Type:"), form);
    ck_assert_msg(r.status == 400, "%s", it_describe(&r));
    it_response_free(&r);
    /* a longer type that merely starts like the form type is another type */
    r = it_request("POST", "/auth/login",
                   IT_HEADERS("Content-Type: application/x-www-form-urlencodedX"), form);
    ck_assert_msg(r.status == 400, "%s", it_describe(&r));
    it_response_free(&r);
    ck_assert_int_eq(sessions_of(t.id), 0);
    /* with a charset parameter it is a form */
    r = it_request("POST", "/auth/login",
                   IT_HEADERS("Content-Type: application/x-www-form-urlencoded; charset=UTF-8"),
                   form);
    ck_assert_msg(r.status == 303, "%s", it_describe(&r));
    it_response_free(&r);
}
END_TEST

/* ---- sessions ---------------------------------------------------------------------------- */

START_TEST(test_session_me)
{
    trader_t t = new_trader();
    it_session_t s = it_sign_in(DEMO, t.id, t.email);
    it_response_t r = it_trader(&s, "GET", "/v1/trader/me", NULL);
    static const char *const wallet_keys[] = { "wallet_id", "balance", NULL };
    json_object *w, *a;

    it_assert_status(r, 200);
    ck_assert_msg(it_json_keys_are(r.json, me_keys), "%s", it_describe(&r));
    ck_assert_int_eq(int_of(&r, r.json, "user_id"), t.id);
    ck_assert_str_eq(it_json_str(r.json, "email"), t.email);
    ck_assert_str_eq(it_json_str(r.json, "csrf_token"), s.csrf);
    w = it_json_get(r.json, "personal_wallet");
    ck_assert_msg(it_json_keys_are(w, wallet_keys), "%s", it_describe(&r));
    ck_assert_msg(it_matches(it_json_str(w, "balance"), "^[0-9]+\\.[0-9]{2}$"), "%s",
                  it_describe(&r));
    ck_assert_str_eq(it_lltext(int_of(&r, w, "wallet_id")),
                     it_db_scalar("select id::text from wallets where user_id = $1::bigint and "
                                  "kind = 'personal'",
                                  it_lltext(t.id)));
    a = it_json_get(r.json, "accounts");
    ck_assert_msg(a && json_object_is_type(a, json_type_array) && json_object_array_length(a) == 0,
                  "a new trader has no accounts: %s", it_describe(&r));
    it_response_free(&r);
    /* the CSRF token is stable for the session */
    r = it_trader(&s, "GET", "/v1/trader/me", NULL);
    ck_assert_str_eq(it_json_str(r.json, "csrf_token"), s.csrf);
    it_response_free(&r);
}
END_TEST

START_TEST(test_session_required)
{
    trader_t t = new_trader();
    it_session_t s = it_sign_in(DEMO, t.id, t.email);
    char *token = it_login_token(DEMO, t.id, t.email, NULL);
    const char *cookies[] = {
        NULL, /* no Cookie header */
        "Cookie: pp_session=garbage",
        "Cookie: pp_session=",
        "Cookie: pp_session=" UNKNOWN_SECRET,
        it_printf("Cookie: pp_session=%s", token), /* a login token is no session */
        it_printf("Cookie: pp_session=%s; pp_session=%s", s.secret, s.secret),
        it_printf("Cookie: pp_session=%s; pp_session=garbage", s.secret),
        it_printf("Cookie: pp_session=garbage; pp_session=%s", s.secret),
        it_printf("Cookie: PP_SESSION=%s", s.secret),
        it_printf("Cookie: other=%s", s.secret),
        it_printf("Cookie: pp_session=%sA", s.secret),
        it_printf("Cookie: pp_session=%.42s", s.secret),
        it_printf("X-API-Key: %s", DEMO), /* a tenant key is no session */
        it_printf("Authorization: Bearer %s", s.secret),
    };
    static const char *const paths[][2] = {
        { "GET", "/v1/trader/me" },
        { "GET", "/v1/trader/accounts/" IT_SAMPLE_ACCOUNT },
        { "GET", "/v1/trader/accounts/" IT_SAMPLE_ACCOUNT "/orders" },
        { "GET", "/v1/trader/accounts/" IT_SAMPLE_ACCOUNT "/trades" },
        { "POST", "/v1/trader/accounts/" IT_SAMPLE_ACCOUNT "/orders" },
        { "POST", "/v1/trader/accounts/" IT_SAMPLE_ACCOUNT "/orders/1/cancel" },
        { "POST", "/v1/trader/logout" },
    };
    size_t i, j;

    for (i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++) {
        for (j = 0; j < sizeof(paths) / sizeof(paths[0]); j++) {
            int post = strcmp(paths[j][0], "POST") == 0;
            it_response_t r = it_request(paths[j][0], paths[j][1],
                                         cookies[i] ? IT_HEADERS(cookies[i], s.csrf_header)
                                                    : IT_HEADERS(s.csrf_header),
                                         post ? "{}" : NULL);
            char *p = it_error_problem(&r, 401, "SESSION_REQUIRED");
            ck_assert_msg(p == NULL, "with %s: %s", cookies[i] ? cookies[i] : "no cookie",
                          p ? p : "");
            ck_assert_msg(it_header(&r, "Set-Cookie") == NULL, "%s", it_describe(&r));
            it_response_free(&r);
        }
    }
    /* the session itself is fine, and the partner API does not take it */
    {
        it_response_t r = it_trader(&s, "GET", "/v1/trader/me", NULL);
        it_assert_status(r, 200);
        it_response_free(&r);
        r = it_request("GET", it_printf("/v1/partner/users/%lld", t.id), IT_HEADERS(s.cookie),
                       NULL);
        it_assert_error(r, 401, "MISSING_API_KEY");
        it_response_free(&r);
    }
}
END_TEST

START_TEST(test_session_expiry)
{
    trader_t t = new_trader();
    it_session_t s = it_sign_in(DEMO, t.id, t.email), other = it_sign_in(DEMO, t.id, t.email);
    it_response_t r;
    char *n;

    n = it_db_scalar(it_printf("with u as (update sessions set created_at = now() - interval "
                               "'13 hours', expires_at = now() - interval '1 second' where "
                               "session_hash = %s returning 1) select count(*) from u",
                               SHA_OF_1),
                     s.secret);
    ck_assert_str_eq(n, "1");
    r = it_trader(&s, "GET", "/v1/trader/me", NULL);
    it_assert_error(r, 401, "SESSION_REQUIRED");
    it_response_free(&r);
    r = it_trader(&s, "POST", "/v1/trader/logout", NULL);
    it_assert_error(r, 401, "SESSION_REQUIRED");
    it_response_free(&r);
    /* the trader's other session lives on */
    r = it_trader(&other, "GET", "/v1/trader/me", NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
}
END_TEST

START_TEST(test_logout)
{
    static const char *const signed_out_keys[] = { "status", NULL };
    trader_t t = new_trader();
    it_session_t s = it_sign_in(DEMO, t.id, t.email), other = it_sign_in(DEMO, t.id, t.email);
    it_response_t r;
    const char *cookie;

    /* a logout is a state change: CSRF applies */
    r = it_request("POST", "/v1/trader/logout", IT_HEADERS(s.cookie), NULL);
    it_assert_error(r, 403, "CSRF_REJECTED");
    it_response_free(&r);
    r = it_trader(&s, "GET", "/v1/trader/me", NULL);
    it_assert_status(r, 200);
    it_response_free(&r);

    r = it_trader(&s, "POST", "/v1/trader/logout", NULL);
    it_assert_status(r, 200);
    ck_assert_msg(it_json_keys_are(r.json, signed_out_keys), "%s", it_describe(&r));
    ck_assert_str_eq(it_json_str(r.json, "status"), "signed_out");
    cookie = set_cookie_of(&r);
    ck_assert_msg(cookie && strncmp(cookie, "pp_session=;", 12) == 0
                      && has_set_cookie_attr(cookie, "Max-Age=0")
                      && has_set_cookie_attr(cookie, "Path=/"),
                  "logout must clear the cookie (empty value, Max-Age=0, Path=/): %s",
                  it_describe(&r));
    it_response_free(&r);
    ck_assert_int_eq(it_db_int(it_printf("select count(*) from sessions where session_hash = "
                                         "%s and ended_at is not null",
                                         SHA_OF_1),
                               s.secret),
                     1);

    r = it_trader(&s, "GET", "/v1/trader/me", NULL);
    it_assert_error(r, 401, "SESSION_REQUIRED");
    it_response_free(&r);
    r = it_trader(&s, "POST", "/v1/trader/logout", NULL);
    it_assert_error(r, 401, "SESSION_REQUIRED");
    it_response_free(&r);
    /* only that session ended */
    r = it_trader(&other, "GET", "/v1/trader/me", NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
}
END_TEST

START_TEST(test_csrf_rejected)
{
    trader_t t = new_trader(), u = new_trader();
    it_session_t s = it_sign_in(DEMO, t.id, t.email);
    it_session_t same_trader = it_sign_in(DEMO, t.id, t.email);
    it_session_t stranger = it_sign_in(DEMO, u.id, u.email);
    account_t a = new_account(DEMO, t.id, "1000");
    market_t m = quoted_market("0.40", "0.43");
    char *place = it_printf("/v1/trader/accounts/%s/orders", a.id);
    char *body = order_body(m.yes, "BUY", "limit", "10", "0.30");
    const char *bad[] = {
        NULL, /* no X-CSRF-Token */
        "X-CSRF-Token:",
        "X-CSRF-Token: nope",
        it_printf("X-CSRF-Token: %s", stranger.csrf),    /* another trader's session */
        it_printf("X-CSRF-Token: %s", same_trader.csrf), /* the same trader, another session */
        it_printf("X-CSRF-Token: %sA", s.csrf),
        it_printf("X-CSRF-Token: %.*s", (int)strlen(s.csrf) - 1, s.csrf),
        it_printf("X-CSRF-Token: %s", s.secret), /* the cookie value is not the token */
    };
    it_response_t r;
    long long order_id;
    size_t i;

    ck_assert_str_ne(s.csrf, same_trader.csrf);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = it_request("POST", place, bad[i] ? IT_HEADERS(s.cookie, bad[i]) : IT_HEADERS(s.cookie),
                       body);
        {
            char *p = it_error_problem(&r, 403, "CSRF_REJECTED");
            ck_assert_msg(p == NULL, "with %s: %s", bad[i] ? bad[i] : "no X-CSRF-Token",
                          p ? p : "");
        }
        it_response_free(&r);
    }
    /* the right token from a foreign origin */
    r = it_request("POST", place,
                   IT_HEADERS(s.cookie, s.csrf_header, "Origin: https://evil.example.com"), body);
    it_assert_error(r, 403, "CSRF_REJECTED");
    it_response_free(&r);
    r = it_request("POST", place, IT_HEADERS(s.cookie, s.csrf_header, "Origin: null"), body);
    it_assert_error(r, 403, "CSRF_REJECTED");
    it_response_free(&r);
    ck_assert_int_eq(count_orders(&a), 0);

    /* the right token, with and without this server's Origin */
    r = it_request("POST", place,
                   IT_HEADERS(s.cookie, s.csrf_header, it_printf("Origin: %s", BASE)), body);
    it_assert_status(r, 201);
    order_id = int_of(&r, r.json, "order_id");
    it_response_free(&r);
    ck_assert_int_eq(count_orders(&a), 1);

    /* cancel is a state change too */
    {
        char *cancel = it_printf("/v1/trader/accounts/%s/orders/%lld/cancel", a.id, order_id);
        r = it_request("POST", cancel, IT_HEADERS(s.cookie), NULL);
        it_assert_error(r, 403, "CSRF_REJECTED");
        it_response_free(&r);
        r = it_request("POST", cancel, IT_HEADERS(s.cookie, stranger.csrf_header), NULL);
        it_assert_error(r, 403, "CSRF_REJECTED");
        it_response_free(&r);
        ck_assert_str_eq(it_db_scalar("select status from orders where id = $1::bigint",
                                      it_lltext(order_id)),
                         "open");
        r = it_trader(&s, "POST", cancel, NULL);
        it_assert_status(r, 200);
        it_response_free(&r);
    }
}
END_TEST

/* ---- isolation ----------------------------------------------------------------------------- */

START_TEST(test_isolation_between_traders)
{
    trader_t ta = new_trader(), tb = new_trader();
    it_session_t a = it_sign_in(DEMO, ta.id, ta.email), b = it_sign_in(DEMO, tb.id, tb.email);
    account_t acc_a = new_account(DEMO, ta.id, "1000"), acc_b = new_account(DEMO, tb.id, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t r, unknown;
    long long b_order, b_orders;
    char *b_order_text;
    int i;

    /* B has a resting order */
    r = it_trader(&b, "POST", it_printf("/v1/trader/accounts/%s/orders", acc_b.id),
                  order_body(m.yes, "BUY", "limit", "10", "0.30"));
    it_assert_status(r, 201);
    b_order = int_of(&r, r.json, "order_id");
    b_order_text = it_lltext(b_order);
    it_response_free(&r);
    b_orders = count_orders(&acc_b);

    unknown = it_trader(&a, "GET", "/v1/trader/accounts/" IT_SAMPLE_ACCOUNT, NULL);
    it_assert_error(unknown, 404, "ACCOUNT_NOT_FOUND");

    /* A reaches none of B's account, exactly as if it did not exist */
    {
        const char *reqs[][3] = {
            { "GET", "", NULL },
            { "GET", "/orders", NULL },
            { "GET", "/trades", NULL },
            { "POST", "/orders", order_body(m.yes, "BUY", "market", "1", NULL) },
            { "POST", it_printf("/orders/%lld/cancel", b_order), NULL },
        };
        for (i = 0; i < 5; i++) {
            const char *paths[2] = { acc_b.id, IT_SAMPLE_ACCOUNT };
            int k;
            for (k = 0; k < 2; k++) {
                r = it_trader(&a, reqs[i][0],
                              it_printf("/v1/trader/accounts/%s%s", paths[k], reqs[i][1]),
                              reqs[i][2]);
                it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
                ck_assert_str_eq(it_json_str(r.json, "message"),
                                 it_json_str(unknown.json, "message"));
                it_response_free(&r);
            }
        }
        /* upper-case spelling of B's id changes nothing */
        {
            char *up = it_printf("%s", acc_b.id), *c;
            for (c = up; *c; c++)
                if (*c >= 'a' && *c <= 'f') *c = (char)(*c - 32);
            r = it_trader(&a, "GET", it_printf("/v1/trader/accounts/%s", up), NULL);
            it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
            it_response_free(&r);
        }
    }
    /* B's order through A's own account */
    r = it_trader(&a, "POST",
                  it_printf("/v1/trader/accounts/%s/orders/%lld/cancel", acc_a.id, b_order), NULL);
    it_assert_error(r, 404, "ORDER_NOT_FOUND");
    it_response_free(&r);
    ck_assert_str_eq(it_db_scalar("select status from orders where id = $1::bigint", b_order_text),
                     "open");
    ck_assert_int_eq(count_orders(&acc_b), b_orders);

    /* A's lists show nothing of B */
    r = it_trader(&a, "GET", "/v1/trader/me", NULL);
    it_assert_status(r, 200);
    ck_assert_msg(list_has(&r, "accounts", "account_id", acc_a.id), "%s", it_describe(&r));
    ck_assert_msg(!list_has(&r, "accounts", "account_id", acc_b.id), "%s", it_describe(&r));
    ck_assert_msg(strstr(r.body, tb.email) == NULL, "%s", it_describe(&r));
    it_response_free(&r);
    r = it_trader(&a, "GET", it_printf("/v1/trader/accounts/%s/orders", acc_a.id), NULL);
    it_assert_status(r, 200);
    ck_assert_msg(!list_has(&r, "data", "order_id", b_order_text), "%s", it_describe(&r));
    it_response_free(&r);

    /* and B still sees all of it */
    r = it_trader(&b, "GET", it_printf("/v1/trader/accounts/%s/orders", acc_b.id), NULL);
    it_assert_status(r, 200);
    ck_assert_msg(list_has(&r, "data", "order_id", b_order_text), "%s", it_describe(&r));
    it_response_free(&r);
}
END_TEST

START_TEST(test_malformed_account_id)
{
    static const char *const bad[] = { "not-a-uuid",
                                       "0b1d8e2a3c4f4a6b8c8d9e0f1a2b3c4d",
                                       "0b1d8e2a-3c4f-4a6b-8c8d-9e0f1a2b3c4",
                                       "0b1d8e2a-3c4f-4a6b-8c8d-9e0f1a2b3c4dd",
                                       "0b1d8e2a-3c4f-4a6b-8c8d-9e0f1a2b3c4g",
                                       "%20",
                                       "1",
                                       NULL };
    trader_t t = new_trader();
    it_session_t s = it_sign_in(DEMO, t.id, t.email);
    static const char *const suffix[][2] = {
        { "GET", "" },         { "GET", "/orders" },           { "GET", "/trades" },
        { "POST", "/orders" }, { "POST", "/orders/1/cancel" },
    };
    int i, k;

    for (i = 0; bad[i]; i++) {
        for (k = 0; k < 5; k++) {
            it_response_t r = it_trader(&s, suffix[k][0],
                                        it_printf("/v1/trader/accounts/%s%s", bad[i], suffix[k][1]),
                                        strcmp(suffix[k][0], "POST") == 0 ? "{}" : NULL);
            char *p = it_error_problem(&r, 422, "INVALID_ACCOUNT_ID");
            ck_assert_msg(p == NULL, "account id '%s': %s", bad[i], p ? p : "");
            it_response_free(&r);
        }
    }
}
END_TEST

START_TEST(test_trader_in_two_tenants)
{
    trader_t t = new_trader();
    long long same = it_register(OTHER, it_unique("signin-other"), t.email, NULL);
    account_t demo_acc, other_acc;
    it_session_t s;
    it_response_t r;
    market_t m = quoted_market("0.40", "0.43");
    long long order_id;
    json_object *accounts;
    size_t i;
    int seen_demo = 0, seen_other = 0;

    ck_assert_int_eq(same, t.id);
    demo_acc = new_account(DEMO, t.id, "1000");
    other_acc = new_account(OTHER, t.id, "2000");
    /* signed in through the other tenant's link: the session is the trader's */
    s = it_sign_in(OTHER, t.id, t.email);

    r = it_trader(&s, "GET", "/v1/trader/me", NULL);
    it_assert_status(r, 200);
    accounts = it_json_get(r.json, "accounts");
    ck_assert_msg(accounts && json_object_array_length(accounts) == 2, "%s", it_describe(&r));
    for (i = 0; i < 2; i++) {
        json_object *a = json_object_array_get_idx(accounts, i);
        const char *id = it_json_str(a, "account_id"), *tenant = it_json_str(a, "tenant");
        ck_assert_msg(id && tenant, "%s", it_describe(&r));
        if (strcmp(id, demo_acc.id) == 0 && strcmp(tenant, "demo") == 0) seen_demo = 1;
        if (strcmp(id, other_acc.id) == 0 && strcmp(tenant, "other") == 0) seen_other = 1;
    }
    ck_assert_msg(seen_demo && seen_other, "both accounts with their tenants: %s", it_describe(&r));
    /* newest first */
    ck_assert_str_eq(it_json_str(json_object_array_get_idx(accounts, 0), "account_id"),
                     other_acc.id);
    it_response_free(&r);

    r = it_trader(&s, "GET", it_printf("/v1/trader/accounts/%s", demo_acc.id), NULL);
    it_assert_status(r, 200);
    ck_assert_str_eq(it_json_str(r.json, "tenant"), "demo");
    it_response_free(&r);
    r = it_trader(&s, "GET", it_printf("/v1/trader/accounts/%s", other_acc.id), NULL);
    it_assert_status(r, 200);
    ck_assert_str_eq(it_json_str(r.json, "tenant"), "other");
    ck_assert_str_eq(it_json_str(r.json, "starting_balance"), "2000.00");
    it_response_free(&r);

    /* a trade on the other tenant's account is that tenant's, not demo's */
    r = it_trader(&s, "POST", it_printf("/v1/trader/accounts/%s/orders", other_acc.id),
                  order_body(m.yes, "BUY", "market", "10", NULL));
    it_assert_status(r, 201);
    order_id = int_of(&r, r.json, "order_id");
    it_response_free(&r);
    r = it_request("GET", it_printf("/v1/partner/accounts/%s/trades", other_acc.id),
                   IT_HEADERS(it_key_header(OTHER)), NULL);
    it_assert_status(r, 200);
    ck_assert_msg(list_has(&r, "data", "order_id", it_lltext(order_id)), "%s", it_describe(&r));
    it_response_free(&r);
    r = it_request("GET", it_printf("/v1/partner/accounts/%s/trades", other_acc.id),
                   IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
    it_response_free(&r);
    ck_assert_int_eq(count_orders(&demo_acc), 0);

    /* a trader of demo only sees none of it */
    {
        trader_t d = new_trader();
        it_session_t ds = it_sign_in(DEMO, d.id, d.email);
        r = it_trader(&ds, "GET", it_printf("/v1/trader/accounts/%s", other_acc.id), NULL);
        it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
        it_response_free(&r);
    }
}
END_TEST

/* Everything a trader can read, checked for what the tenant keeps to itself:
 * the mapping (external_id, tenant_user_id, user metadata), other traders,
 * and the keys. */
START_TEST(test_trader_sees_nothing_of_the_tenant)
{
    static const char *const account_keys_extra[] = { "tenant", NULL };
    char *x = it_unique("signin-private");
    char *email = it_printf("%s@example.com", it_unique("mailbox"));
    char *marker = it_unique("tenant-private-marker");
    it_response_t reg = it_request(
        "POST", "/v1/partner/users", IT_HEADERS(it_key_header(DEMO)),
        it_registration_body(x, email, it_printf("{\"kyc\":%s}", it_json_quote(marker))));
    trader_t other = new_trader();
    long long uid;
    const char *tuid;
    account_t acc;
    it_session_t s;
    it_response_t bodies[4], partner;
    const char *secrets[8];
    size_t i, j, nsecrets = 0;

    it_assert_status(reg, 201);
    uid = int_of(&reg, reg.json, "user_id");
    tuid = it_json_str(reg.json, "tenant_user_id");
    ck_assert_ptr_nonnull(tuid);
    acc = new_account(DEMO, uid, "1000");
    new_account(DEMO, other.id, "1000");
    s = it_sign_in(DEMO, uid, email);

    bodies[0] = it_trader(&s, "GET", "/v1/trader/me", NULL);
    bodies[1] = it_trader(&s, "GET", it_printf("/v1/trader/accounts/%s", acc.id), NULL);
    bodies[2] = it_trader(&s, "GET", it_printf("/v1/trader/accounts/%s/orders", acc.id), NULL);
    bodies[3] = it_trader(&s, "GET", it_printf("/v1/trader/accounts/%s/trades", acc.id), NULL);
    secrets[nsecrets++] = x; /* the tenant's external_id of the user */
    secrets[nsecrets++] = tuid;
    secrets[nsecrets++] = marker;
    secrets[nsecrets++] = other.email;
    secrets[nsecrets++] = DEMO;
    secrets[nsecrets++] = READONLY;
    secrets[nsecrets++] = OTHER;
    secrets[nsecrets++] = "tenant_user_id";
    for (i = 0; i < 4; i++) {
        it_assert_status(bodies[i], 200);
        for (j = 0; j < nsecrets; j++) {
            size_t h;
            ck_assert_msg(strstr(bodies[i].body, secrets[j]) == NULL,
                          "the trader's view shows '%s': %s", secrets[j], it_describe(&bodies[i]));
            for (h = 0; h < bodies[i].nheaders; h++) {
                ck_assert_msg(strstr(bodies[i].headers[h].value, secrets[j]) == NULL,
                              "header %s shows '%s'", bodies[i].headers[h].name, secrets[j]);
            }
        }
    }
    /* the account is what the partner API shows of it, plus its tenant */
    partner = it_request("GET", it_printf("/v1/partner/accounts/%s", acc.id),
                         IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(partner, 200);
    {
        json_object *mine = json_object_array_get_idx(it_json_get(bodies[0].json, "accounts"), 0);
        struct json_object_iterator it, end;
        size_t nkeys = 0;
        ck_assert_ptr_nonnull(mine);
        it = json_object_iter_begin(partner.json);
        end = json_object_iter_end(partner.json);
        while (!json_object_iter_equal(&it, &end)) {
            const char *k = json_object_iter_peek_name(&it);
            ck_assert_msg(it_json_has(mine, k), "the trader's account lacks \"%s\": %s", k,
                          json_object_to_json_string(mine));
            nkeys++;
            json_object_iter_next(&it);
        }
        ck_assert_msg((size_t)json_object_object_length(mine) == nkeys + 1
                          && it_json_has(mine, account_keys_extra[0]),
                      "the trader's account is the partner's plus \"tenant\": %s vs %s",
                      json_object_to_json_string(mine), partner.body);
    }
}
END_TEST

/* ---- trading -------------------------------------------------------------------------------- */

START_TEST(test_trader_trades)
{
    trader_t t = new_trader();
    it_session_t s = it_sign_in(DEMO, t.id, t.email);
    account_t a = new_account(DEMO, t.id, "1000");
    market_t m = quoted_market("0.40", "0.43");
    char *base = it_printf("/v1/trader/accounts/%s", a.id);
    it_response_t r;
    long long market_id, limit_id;
    char *market_text, *limit_text;

    /* a market order fills at the ask */
    r = it_trader(&s, "POST", it_printf("%s/orders", base),
                  order_body(m.yes, "BUY", "market", "10", NULL));
    it_assert_status(r, 201);
    ck_assert_str_eq(it_json_str(r.json, "status"), "filled");
    ck_assert_str_eq(it_json_str(r.json, "account_id"), a.id);
    market_id = int_of(&r, r.json, "order_id");
    market_text = it_lltext(market_id);
    it_response_free(&r);

    /* the partner sees the fill */
    r = it_request("GET", it_printf("/v1/partner/accounts/%s/trades", a.id),
                   IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(r, 200);
    ck_assert_msg(list_has(&r, "data", "order_id", market_text),
                  "the partner's trades feed "
                  "must show the trader's fill: %s",
                  it_describe(&r));
    ck_assert_str_eq(it_json_str(json_object_array_get_idx(it_json_get(r.json, "data"), 0),
                                 "price"),
                     "0.4300");
    it_response_free(&r);
    /* and the trader too, with the position */
    r = it_trader(&s, "GET", it_printf("%s/trades", base), NULL);
    it_assert_status(r, 200);
    ck_assert_msg(list_has(&r, "data", "order_id", market_text), "%s", it_describe(&r));
    it_response_free(&r);
    r = it_trader(&s, "GET", base, NULL);
    it_assert_status(r, 200);
    ck_assert_msg(list_has(&r, "positions", "token_id", m.yes), "%s", it_describe(&r));
    ck_assert_str_eq(it_json_str(json_object_array_get_idx(it_json_get(r.json, "positions"), 0),
                                 "quantity"),
                     "10.0000");
    it_response_free(&r);

    /* a limit order rests, is listed, and is cancelled */
    r = it_trader(&s, "POST", it_printf("%s/orders", base),
                  order_body(m.yes, "BUY", "limit", "10", "0.30"));
    it_assert_status(r, 201);
    ck_assert_str_eq(it_json_str(r.json, "status"), "open");
    limit_id = int_of(&r, r.json, "order_id");
    limit_text = it_lltext(limit_id);
    it_response_free(&r);
    r = it_trader(&s, "GET", it_printf("%s/orders", base), NULL);
    it_assert_status(r, 200);
    ck_assert_msg(list_has(&r, "data", "order_id", limit_text), "%s", it_describe(&r));
    it_response_free(&r);
    r = it_trader(&s, "POST", it_printf("%s/orders/%lld/cancel", base, limit_id), NULL);
    it_assert_status(r, 200);
    ck_assert_str_eq(it_json_str(r.json, "status"), "cancelled");
    it_response_free(&r);
    r = it_trader(&s, "POST", it_printf("%s/orders/%lld/cancel", base, limit_id), NULL);
    it_assert_error(r, 409, "ORDER_NOT_OPEN");
    it_response_free(&r);
    r = it_request("GET", it_printf("/v1/partner/accounts/%s/orders", a.id),
                   IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(r, 200);
    ck_assert_msg(list_has(&r, "data", "order_id", limit_text)
                      && list_has(&r, "data", "order_id", market_text),
                  "%s", it_describe(&r));
    it_response_free(&r);
    ck_assert_str_eq(it_db_scalar("select status from orders where id = $1::bigint", limit_text),
                     "cancelled");
    /* the engine's validation answers the trader as it answers the partner */
    r = it_trader(&s, "POST", it_printf("%s/orders", base), "{\"token_id\":1}");
    it_assert_error(r, 422, "VALIDATION_FAILED");
    it_response_free(&r);
    r = it_trader(&s, "POST", it_printf("%s/orders", base),
                  order_body(m.yes, "BUY", "market", "100000", NULL));
    it_assert_error(r, 400, "INSUFFICIENT_FUNDS");
    it_response_free(&r);
    /* the balance reflects exactly the one fill (10 at 0.43 plus any fee) */
    ck_assert_int_eq(it_db_int("select count(*) from fills where wallet_id = $1::bigint", a.wallet),
                     1);
    /* public markets are readable with the session (and without) */
    r = it_trader(&s, "GET", it_printf("/v1/markets?market_id=%s", m.cond), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
}
END_TEST

START_TEST(test_trader_closed_account)
{
    trader_t t = new_trader();
    it_session_t s = it_sign_in(DEMO, t.id, t.email);
    account_t a = new_account(DEMO, t.id, "1000");
    market_t m = quoted_market("0.40", "0.43");
    char *base = it_printf("/v1/trader/accounts/%s", a.id);
    it_response_t r;
    long long open_before;

    r = it_trader(&s, "POST", it_printf("%s/orders", base),
                  order_body(m.yes, "BUY", "market", "10", NULL));
    it_assert_status(r, 201);
    it_response_free(&r);
    r = it_request("POST", it_printf("/v1/partner/accounts/%s/close", a.id),
                   IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
    open_before = count_orders(&a);

    /* readable */
    r = it_trader(&s, "GET", base, NULL);
    it_assert_status(r, 200);
    ck_assert_str_eq(it_json_str(r.json, "status"), "closed");
    it_response_free(&r);
    r = it_trader(&s, "GET", it_printf("%s/trades", base), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
    r = it_trader(&s, "GET", it_printf("%s/orders", base), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
    r = it_trader(&s, "GET", "/v1/trader/me", NULL);
    it_assert_status(r, 200);
    ck_assert_str_eq(it_json_str(json_object_array_get_idx(it_json_get(r.json, "accounts"), 0),
                                 "status"),
                     "closed");
    it_response_free(&r);
    /* not tradable */
    r = it_trader(&s, "POST", it_printf("%s/orders", base),
                  order_body(m.yes, "BUY", "market", "1", NULL));
    it_assert_error(r, 409, "ACCOUNT_CLOSED");
    it_response_free(&r);
    r = it_trader(&s, "POST", it_printf("%s/orders", base),
                  order_body(m.yes, "BUY", "limit", "1", "0.30"));
    it_assert_error(r, 409, "ACCOUNT_CLOSED");
    it_response_free(&r);
    r = it_trader(&s, "POST", it_printf("%s/orders", base),
                  order_body(m.yes, "SELL", "market", "1", NULL));
    it_assert_error(r, 409, "ACCOUNT_CLOSED");
    it_response_free(&r);
    ck_assert_int_eq(count_orders(&a), open_before);
}
END_TEST

Suite *it_signin_suite(void)
{
    Suite *s = suite_create("signin");
    TCase *page = tcase_create("signin");
    TCase *session = tcase_create("session");
    TCase *iso = tcase_create("isolation");
    TCase *trading = tcase_create("trader-trading");

    tcase_set_timeout(page, 120);
    tcase_add_test(page, test_signin_page_shows_and_consumes_nothing);
    tcase_add_test(page, test_signin_page_invalid_tokens);
    tcase_add_test(page, test_signin_expired_token);
    tcase_add_test(page, test_signin_cookie_and_reuse);
    tcase_add_test(page, test_signin_race);
    tcase_add_test(page, test_signin_foreign_origin);
    tcase_add_test(page, test_signin_content_type);
    suite_add_tcase(s, page);

    tcase_set_timeout(session, 120);
    tcase_add_test(session, test_session_me);
    tcase_add_test(session, test_session_required);
    tcase_add_test(session, test_session_expiry);
    tcase_add_test(session, test_logout);
    tcase_add_test(session, test_csrf_rejected);
    suite_add_tcase(s, session);

    tcase_set_timeout(iso, 120);
    tcase_add_test(iso, test_isolation_between_traders);
    tcase_add_test(iso, test_malformed_account_id);
    tcase_add_test(iso, test_trader_in_two_tenants);
    tcase_add_test(iso, test_trader_sees_nothing_of_the_tenant);
    suite_add_tcase(s, iso);

    tcase_set_timeout(trading, 120);
    tcase_add_test(trading, test_trader_trades);
    tcase_add_test(trading, test_trader_closed_account);
    suite_add_tcase(s, trading);
    return s;
}
