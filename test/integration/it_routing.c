/* Routing: 404 for unknown paths, 405 with Allow, the JSON envelope and
 * X-Request-Id on every response, and every documented route reaching its
 * handler. */
#include "it.h"

#include <stdlib.h>
#include <string.h>

#define DEMO     it_env("DEMO_KEY")
#define READONLY it_env("DEMO_READONLY_KEY")

#define ACC "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT

START_TEST(test_unknown_paths_are_404)
{
    static const char *const cases[][2] = {
        { "GET", "/v1/partner/nope" },
        { "POST", "/v1/partner/nope" },
        { "GET", "/v1/partner/users/1/extra" },
        { "POST", "/v1/partner/users/1/extra" },
        { "GET", "/v1/partner/users/" },
        { "POST", "/v1/partner/users/" },
        { "GET", "/v1/partner/" },
        { "GET", "/v1/partner/accounts/" },
        { "GET", ACC "/trades/1" },
        { "POST", ACC "/close/now" },
        { "POST", "/v1/partner/users/1/login-link/x" },
        { "GET", "/v1/partner/Users/1" },
        { "DELETE", "/v1/partner/teapot" },
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        it_response_t r = it_request(cases[i][0], cases[i][1], IT_HEADERS(it_key_header(DEMO)),
                                     NULL);
        it_assert_error(r, 404, "NOT_FOUND");
        it_response_free(&r);
    }
}
END_TEST

START_TEST(test_wrong_method_is_405_with_allow)
{
    static const struct {
        const char *method, *path;
        const char *allowed[3];
    } cases[] = {
        { "DELETE", "/v1/partner/users", { "POST" } },
        { "GET", "/v1/partner/users", { "POST" } },
        { "PUT", "/v1/partner/users", { "POST" } },
        { "POST", "/v1/partner/users/1", { "GET" } },
        { "DELETE", "/v1/partner/users/1", { "GET" } },
        { "GET", "/v1/partner/users/1/login-link", { "POST" } },
        { "GET", "/v1/partner/accounts", { "POST" } },
        { "PUT", ACC, { "GET", "PATCH" } },
        { "DELETE", ACC, { "GET", "PATCH" } },
        { "POST", ACC, { "GET", "PATCH" } },
        { "POST", ACC "/trades", { "GET" } },
        { "GET", ACC "/close", { "POST" } },
        { "PATCH", ACC "/close", { "POST" } },
        { "GET", ACC "/reset", { "POST" } },
        /* TRACE is refused by the module, not by httpd's TraceEnable with an empty Allow */
        { "TRACE", "/v1/partner/users", { "POST" } },
        { "TRACE", ACC, { "GET", "PATCH" } },
    };
    static const char *const all[] = { "GET",   "HEAD",   "POST",  "PUT",
                                       "PATCH", "DELETE", "TRACE", NULL };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        it_response_t r = it_request(cases[i].method, cases[i].path,
                                     IT_HEADERS(it_key_header(DEMO)), NULL);
        const char *allow = it_header(&r, "Allow");
        size_t j;

        it_assert_error(r, 405, "METHOD_NOT_ALLOWED");
        ck_assert_msg(allow != NULL, "405 without Allow: %s", it_describe(&r));
        /* exactly the route's methods among the usual ones */
        for (j = 0; all[j]; j++) {
            int want = 0, k;
            for (k = 0; k < 3 && cases[i].allowed[k]; k++) {
                want |= strcmp(cases[i].allowed[k], all[j]) == 0;
                /* HEAD is served wherever GET is */
                want |= strcmp(all[j], "HEAD") == 0 && strcmp(cases[i].allowed[k], "GET") == 0;
            }
            ck_assert_msg(it_allow_has(allow, all[j]) == want,
                          "%s %s: Allow is \"%s\", %s should %sbe in it", cases[i].method,
                          cases[i].path, allow, all[j], want ? "" : "not ");
        }
        it_response_free(&r);
    }
}
END_TEST

START_TEST(test_every_response_is_json_with_request_id)
{
    char *x = it_unique("rid"), *e = it_printf("%s@example.com", x);
    char *body = it_registration_body(x, e, NULL);
    it_response_t r[8];
    size_t i, n = 0;
    long long id;
    char *path;

    r[n++] = it_request("POST", "/v1/partner/users", IT_HEADERS(it_key_header(DEMO)), body);
    ck_assert_msg(r[0].status == 201, "%s", it_describe(&r[0]));
    id = json_object_get_int64(it_json_get(r[0].json, "user_id"));
    path = it_printf("/v1/partner/users/%lld", id);
    r[n++] = it_request("GET", path, IT_HEADERS(it_key_header(DEMO)), NULL); /* 200 */
    r[n++] = it_request("GET", "/v1/partner/nope", IT_HEADERS(it_key_header(DEMO)), NULL);
    r[n++] = it_request("DELETE", "/v1/partner/users", IT_HEADERS(it_key_header(DEMO)), NULL);
    r[n++] = it_request("GET", path, NULL, NULL); /* 401 */
    r[n++] = it_request("POST", "/v1/partner/users", IT_HEADERS(it_key_header(READONLY)),
                        body); /* 403 */
    r[n++] = it_request("POST", "/v1/partner/users/999999999/login-link",
                        IT_HEADERS(it_key_header(DEMO)), "{}"); /* 404 */
    r[n++] = it_request("POST", "/v1/partner/users", IT_HEADERS(it_key_header(DEMO)),
                        "[]"); /* 422 */
    for (i = 0; i < n; i++) {
        char *p = it_json_problem(&r[i]);
        ck_assert_msg(p == NULL, "%s", p ? p : "");
        ck_assert_msg(json_object_is_type(r[i].json, json_type_object),
                      "every body is a JSON object: %s", it_describe(&r[i]));
    }
    /* and the ids are all different */
    for (i = 0; i < n; i++) {
        size_t j;
        for (j = i + 1; j < n; j++) {
            ck_assert_msg(strcmp(it_header(&r[i], "X-Request-Id"), it_header(&r[j], "X-Request-Id"))
                              != 0,
                          "X-Request-Id %s repeated", it_header(&r[i], "X-Request-Id"));
        }
    }
    for (i = 0; i < n; i++) {
        it_response_free(&r[i]);
    }
}
END_TEST

START_TEST(test_request_ids_differ)
{
    it_response_t a = it_request("GET", "/v1/partner/nope", IT_HEADERS(it_key_header(DEMO)), NULL);
    it_response_t b = it_request("GET", "/v1/partner/nope", IT_HEADERS(it_key_header(DEMO)), NULL);
    const char *ia = it_header(&a, "X-Request-Id"), *ib = it_header(&b, "X-Request-Id");

    ck_assert_msg(ia && *ia && ib && *ib, "X-Request-Id missing: %s / %s", it_describe(&a),
                  it_describe(&b));
    ck_assert_msg(strcmp(ia, ib) != 0, "two requests share X-Request-Id %s", ia);
    it_response_free(&a);
    it_response_free(&b);
}
END_TEST

/* Every documented route is built: none answers 501. */
START_TEST(test_built_endpoints_are_not_501)
{
    int i, built = 0;
    for (i = 0; it_routes[i].method; i++) {
        it_response_t r;
        built++;
        r = it_request(it_routes[i].method, it_routes[i].path, IT_HEADERS(it_key_header(DEMO)),
                       it_routes[i].body);
        ck_assert_msg(r.status != 501 && r.status != 0 && r.status < 500,
                      "a built route must reach its handler: %s", it_describe(&r));
        it_response_free(&r);
    }
    ck_assert_int_eq(built, 9);
}
END_TEST

/* The account routes reach their handlers: the sample account does not
 * exist, the empty creation body fails validation, a malformed id is 422. */
START_TEST(test_account_routes_reach_their_handlers)
{
    static const struct {
        const char *method, *path, *body;
        long status;
        const char *code;
    } cases[] = {
        { "POST", "/v1/partner/accounts", "{}", 422, "VALIDATION_FAILED" },
        { "GET", ACC, NULL, 404, "ACCOUNT_NOT_FOUND" },
        { "PATCH", ACC, "{}", 404, "ACCOUNT_NOT_FOUND" },
        { "POST", ACC "/close", NULL, 404, "ACCOUNT_NOT_FOUND" },
        { "POST", ACC "/reset", NULL, 404, "ACCOUNT_NOT_FOUND" },
        { "GET", "/v1/partner/accounts/nope", NULL, 422, "INVALID_ACCOUNT_ID" },
        { "PATCH", "/v1/partner/accounts/nope", "{}", 422, "INVALID_ACCOUNT_ID" },
        { "POST", "/v1/partner/accounts/nope/close", NULL, 422, "INVALID_ACCOUNT_ID" },
        { "POST", "/v1/partner/accounts/nope/reset", NULL, 422, "INVALID_ACCOUNT_ID" },
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        it_response_t r = it_request(cases[i].method, cases[i].path,
                                     IT_HEADERS(it_key_header(DEMO)), cases[i].body);
        it_assert_error(r, cases[i].status, cases[i].code);
        it_response_free(&r);
    }
}
END_TEST

START_TEST(test_write_routes_check_permission_first)
{
    /* write routes the readonly key lacks the permission for: 403 before the
     * handler would say anything (422 for the body or the id, 404) */
    static const struct {
        const char *method, *path, *body;
    } writes[] = {
        { "POST", "/v1/partner/accounts", "{}" },
        { "POST", "/v1/partner/accounts", "{not json" },
        { "PATCH", ACC, "{}" },
        { "PATCH", "/v1/partner/accounts/nope", "[]" },
        { "POST", ACC "/close", NULL },
        { "POST", "/v1/partner/accounts/nope/close", NULL },
        { "POST", ACC "/reset", NULL },
        { "POST", "/v1/partner/accounts/nope/reset", NULL },
        { "POST", "/v1/partner/users/1/login-link", "{}" },
        { "POST", "/v1/partner/users/1/login-link", NULL },
        { "POST", "/v1/partner/users/nope/login-link", "{\"redirect_url\":\"https://evil.com/\"}" },
    };
    size_t i;

    for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        it_response_t r = it_request(writes[i].method, writes[i].path,
                                     IT_HEADERS(it_key_header(READONLY)), writes[i].body);
        it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
        it_response_free(&r);
    }
}
END_TEST

START_TEST(test_query_string_does_not_change_the_route)
{
    char *x = it_unique("qs"), *e = it_printf("%s@example.com", x);
    long long id = it_register(DEMO, x, e, NULL);
    char *path = it_printf("/v1/partner/users/%lld?foo=bar&user_id=1", id);
    it_response_t r = it_request("GET", path, IT_HEADERS(it_key_header(DEMO)), NULL);

    it_assert_status(r, 200);
    ck_assert_msg(json_object_get_int64(it_json_get(r.json, "user_id")) == id, "%s",
                  it_describe(&r));
    it_response_free(&r);
}
END_TEST

/* Paths httpd itself refuses before any handler runs (an encoded NUL or
 * slash) still answer in the JSON envelope with a request id. */
START_TEST(test_core_refusals_are_json)
{
    static const char *const paths[] = {
        "/v1/partner/accounts/%00",
        "/v1/partner/accounts/%2F/trades",
        "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT "/orders/1%00/cancel",
        "/v1/markets%00",
    };
    size_t i;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        it_response_t r = it_request("GET", paths[i], IT_HEADERS(it_key_header(DEMO)), NULL);
        ck_assert_msg(r.status == 404 || r.status == 400, "%s: %s", paths[i], it_describe(&r));
        it_assert_error(r, r.status, r.status == 404 ? "NOT_FOUND" : "BAD_REQUEST");
        it_response_free(&r);
    }
}
END_TEST

Suite *it_routing_suite(void)
{
    Suite *s = suite_create("routing");
    TCase *tc = tcase_create("routes");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_unknown_paths_are_404);
    tcase_add_test(tc, test_wrong_method_is_405_with_allow);
    tcase_add_test(tc, test_every_response_is_json_with_request_id);
    tcase_add_test(tc, test_request_ids_differ);
    tcase_add_test(tc, test_built_endpoints_are_not_501);
    tcase_add_test(tc, test_account_routes_reach_their_handlers);
    tcase_add_test(tc, test_write_routes_check_permission_first);
    tcase_add_test(tc, test_query_string_does_not_change_the_route);
    tcase_add_test(tc, test_core_refusals_are_json);
    suite_add_tcase(s, tc);
    return s;
}
