/* What hostile or careless clients send: byte ranges of JSON, very long
 * paths and request lines, unknown fields in POST bodies. Every answer under
 * the API paths is a whole JSON document with a request id, and nothing a
 * client sends without a key writes to the error log. */
#include "it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO it_env("DEMO_KEY")

/* A 200 whose body is the whole JSON document, not a byte range of it. */
static void assert_whole(const char *path, const char *const *headers, const char *range)
{
    it_response_t full = it_request("GET", path, headers, NULL);
    const char *with_range[4] = { range, NULL, NULL, NULL };
    it_response_t r;
    int i = 1;

    for (; headers && *headers && i < 3; headers++) {
        with_range[i++] = *headers;
    }
    r = it_request("GET", path, with_range, NULL);
    it_assert_status(full, 200);
    ck_assert_msg(r.status == 200, "%s with %s: %s", path, range, it_describe(&r));
    ck_assert_msg(r.json != NULL, "%s with %s: not JSON: %s", path, range, it_describe(&r));
    ck_assert_msg(it_header(&r, "Content-Range") == NULL, "%s with %s: Content-Range %s", path,
                  range, it_header(&r, "Content-Range"));
    ck_assert_msg(r.body_len + 64 >= full.body_len,
                  "%s with %s: %zu bytes, the whole answer has %zu", path, range, r.body_len,
                  full.body_len);
    it_response_free(&r);
    it_response_free(&full);
}

START_TEST(test_range_is_ignored)
{
    char *x = it_unique("range"), *e = it_printf("%s@example.com", x);
    long long uid = it_register(DEMO, x, e, NULL);
    char *user = it_printf("/v1/partner/users/%lld", uid);
    const char *const key[] = { it_key_header(DEMO), NULL };

    assert_whole("/v1/markets", NULL, "Range: bytes=0-20");
    assert_whole("/v1/markets", NULL, "Range: bytes=0-5,10-15");
    assert_whole(user, key, "Range: bytes=0-20");
    assert_whole(user, key, "Range: bytes=-10");
    assert_whole(user, key, "Range: bytes=0-1,3-4,6-7");
}
END_TEST

static char *long_path(const char *prefix, size_t len)
{
    size_t n = strlen(prefix);
    char *p = malloc(len + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, prefix, n);
    memset(p + n, 'a', len - n);
    p[len] = '\0';
    return p;
}

/* The envelope check without the (huge) path in the failure message. */
static void assert_envelope(it_response_t r, long status, const char *code, size_t len)
{
    char *p;
    free(r.path);
    r.path = it_printf("<%zu-byte path>", len);
    p = it_error_problem(&r, status, code);
    ck_assert_msg(p == NULL, "%.1500s", p ? p : "");
    it_response_free(&r);
}

/* Paths too long for a file name are just unknown routes: not 403, and no
 * error-log line (the harness fails the run on unexpected [error] lines). */
START_TEST(test_long_paths_are_plain_answers)
{
    static const size_t lens[] = { 4096, 6000, 8000 };
    size_t i;

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *p = long_path("/v1/partner/users/", lens[i]);
        char *m = long_path("/v1/markets/", lens[i]);
        assert_envelope(it_request("GET", p, NULL, NULL), 401, "MISSING_API_KEY", lens[i]);
        assert_envelope(it_request("GET", p, IT_HEADERS(it_key_header(DEMO)), NULL), 404,
                        "USER_NOT_FOUND", lens[i]);
        assert_envelope(it_request("POST", p, IT_HEADERS(it_key_header(DEMO)), "{}"), 405,
                        "METHOD_NOT_ALLOWED", lens[i]);
        /* below /v1/markets is not the public list: a key is needed */
        assert_envelope(it_request("GET", m, NULL, NULL), 401, "MISSING_API_KEY", lens[i]);
        assert_envelope(it_request("GET", m, IT_HEADERS(it_key_header(DEMO)), NULL), 404,
                        "NOT_FOUND", lens[i]);
        free(p);
        free(m);
    }
}
END_TEST

/* Beyond LimitRequestLine httpd refuses the request line itself: the answer
 * is still the envelope with URI_TOO_LONG and a request id. */
START_TEST(test_uri_over_the_limit_is_json)
{
    static const char *const prefixes[] = { "/v1/partner/users/", "/v1/partner/accounts/",
                                            "/v1/markets?x=", "/v1/trader/me?x=" };
    size_t i;

    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        char *p = long_path(prefixes[i], 12000);
        it_response_t r = it_request("GET", p, IT_HEADERS(it_key_header(DEMO)), NULL);
        ck_assert_msg(r.status == 414 && r.json, "%s...: %ld %.100s", prefixes[i], r.status,
                      r.body);
        assert_envelope(r, 414, "URI_TOO_LONG", 12000);
        free(p);
    }
}
END_TEST

START_TEST(test_post_bodies_ignore_unknown_fields)
{
    char *x = it_unique("extra"), *e = it_printf("%s@example.com", x);
    long long uid = it_register(DEMO, x, e, NULL);
    char *body = it_printf("{\"user_id\":%lld,\"external_id\":\"%s\",\"stage\":\"demo\","
                           "\"starting_balance\":\"500.00\",\"status\":\"closed\","
                           "\"balance\":\"9.00\",\"tenant\":\"other\"}",
                           uid, x);
    it_response_t r = it_request("POST", "/v1/partner/accounts", IT_HEADERS(it_key_header(DEMO)),
                                 body);

    it_assert_status(r, 201);
    ck_assert_str_eq(it_json_str(r.json, "status"), "active");
    ck_assert_str_eq(it_json_str(r.json, "starting_balance"), "500.00");
    ck_assert_msg(!it_json_has(r.json, "tenant") && !it_json_has(r.json, "balance"),
                  "unknown fields must not be echoed: %s", it_describe(&r));
    it_response_free(&r);
    /* the replay with other unknown fields is the same account */
    r = it_request("POST", "/v1/partner/accounts", IT_HEADERS(it_key_header(DEMO)),
                   it_printf("{\"user_id\":%lld,\"external_id\":\"%s\",\"stage\":\"demo\","
                             "\"starting_balance\":\"500.00\",\"x\":[1]}",
                             uid, x));
    it_assert_status(r, 200);
    it_response_free(&r);

    r = it_login_link(DEMO, uid, "{\"redirect\":\"https://elsewhere.example.com/\",\"x\":1}");
    it_assert_status(r, 202);
    it_response_free(&r);
}
END_TEST

Suite *it_hardening_suite(void)
{
    Suite *s = suite_create("hardening");
    TCase *tc = tcase_create("hostile");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_range_is_ignored);
    tcase_add_test(tc, test_long_paths_are_plain_answers);
    tcase_add_test(tc, test_uri_over_the_limit_is_json);
    tcase_add_test(tc, test_post_bodies_ignore_unknown_fields);
    suite_add_tcase(s, tc);
    return s;
}
