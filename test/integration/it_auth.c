/* Authentication: X-API-Key, the Bearer alias, missing/invalid keys, the
 * disabled tenant, permissions, and keys never reaching the error log. */
#include "it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO     it_env("DEMO_KEY")
#define READONLY it_env("DEMO_READONLY_KEY")
#define OTHER    it_env("OTHER_KEY")
#define PENDING  it_env("PENDING_KEY")

/* A well-formed key that no tenant has. */
#define BOGUS_KEY "ppk_itBogusKeyThatNoTenantHas0000000000000000000"

static char *user_path(long long id)
{
    return it_printf("/v1/partner/users/%lld", id);
}

/* A user registered by demo, for requests that should succeed. */
static long long demo_user(void)
{
    char *x = it_unique("auth"), *e = it_printf("%s@example.com", x);
    return it_register(DEMO, x, e, NULL);
}

static void assert_401(const it_response_t *r, const char *code)
{
    const char *wa;
    it_assert_error(*r, 401, code);
    wa = it_header(r, "WWW-Authenticate");
    ck_assert_msg(wa && *wa, "a 401 must carry WWW-Authenticate: %s", it_describe(r));
}

START_TEST(test_missing_key_on_every_route)
{
    int i;
    for (i = 0; it_routes[i].method; i++) {
        it_response_t r = it_request(it_routes[i].method, it_routes[i].path, NULL,
                                     it_routes[i].body);
        assert_401(&r, "MISSING_API_KEY");
        it_response_free(&r);
    }
}
END_TEST

START_TEST(test_missing_key_is_checked_before_routing)
{
    /* unknown path, wrong method, and a bad body: authentication comes first */
    it_response_t r = it_request("GET", "/v1/partner/nope", NULL, NULL);
    assert_401(&r, "MISSING_API_KEY");
    it_response_free(&r);
    r = it_request("DELETE", "/v1/partner/users", NULL, NULL);
    assert_401(&r, "MISSING_API_KEY");
    it_response_free(&r);
    r = it_request("POST", "/v1/partner/users", NULL, "{not json");
    assert_401(&r, "MISSING_API_KEY");
    it_response_free(&r);
}
END_TEST

START_TEST(test_invalid_key_on_every_route)
{
    int i;
    for (i = 0; it_routes[i].method; i++) {
        it_response_t r = it_request(it_routes[i].method, it_routes[i].path,
                                     IT_HEADERS(it_key_header(BOGUS_KEY)), it_routes[i].body);
        assert_401(&r, "INVALID_API_KEY");
        it_response_free(&r);
    }
}
END_TEST

START_TEST(test_near_miss_keys_are_invalid)
{
    const char *key = DEMO;
    size_t n = strlen(key);
    char *upper = it_printf("%s", key), *longer = it_printf("%sx", key);
    char *shorter = it_printf("%.*s", (int)(n - 1), key);
    char *flipped = it_printf("%s", key);
    const char *const variants[] = { upper, longer, shorter, flipped, NULL };
    char *path = user_path(demo_user());
    size_t i;

    for (i = 0; upper[i]; i++) {
        if (upper[i] >= 'a' && upper[i] <= 'z') upper[i] = (char)(upper[i] - 'a' + 'A');
    }
    flipped[n - 1] = flipped[n - 1] == 'A' ? 'B' : 'A';
    for (i = 0; variants[i]; i++) {
        it_response_t r;
        if (strcmp(variants[i], key) == 0) {
            continue; /* a key without lowercase letters: nothing to vary */
        }
        r = it_request("GET", path, IT_HEADERS(it_key_header(variants[i])), NULL);
        assert_401(&r, "INVALID_API_KEY");
        it_response_free(&r);
    }
}
END_TEST

START_TEST(test_header_name_is_case_insensitive)
{
    char *path = user_path(demo_user());
    char *h = it_printf("x-api-key: %s", DEMO);
    it_response_t r = it_request("GET", path, IT_HEADERS(h), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
}
END_TEST

START_TEST(test_bearer_is_an_alias)
{
    long long id = demo_user();
    char *path = user_path(id), *x = it_unique("bearer"), *e = it_printf("%s@example.com", x);
    char *body = it_registration_body(x, e, NULL);
    it_response_t r = it_request("GET", path, IT_HEADERS(it_bearer_header(DEMO)), NULL);
    json_object *uid;

    it_assert_status(r, 200);
    uid = it_json_get(r.json, "user_id");
    ck_assert_msg(uid && json_object_get_int64(uid) == id, "%s", it_describe(&r));
    it_response_free(&r);

    r = it_request("POST", "/v1/partner/users", IT_HEADERS(it_bearer_header(DEMO)), body);
    it_assert_status(r, 201);
    it_response_free(&r);

    r = it_request("GET", path, IT_HEADERS(it_bearer_header(BOGUS_KEY)), NULL);
    assert_401(&r, "INVALID_API_KEY");
    it_response_free(&r);
}
END_TEST

START_TEST(test_x_api_key_wins_over_bearer)
{
    char *path = user_path(demo_user());
    it_response_t r = it_request("GET", path,
                                 IT_HEADERS(it_key_header(DEMO), it_bearer_header(BOGUS_KEY)),
                                 NULL);
    it_assert_status(r, 200);
    it_response_free(&r);

    r = it_request("GET", path, IT_HEADERS(it_key_header(BOGUS_KEY), it_bearer_header(DEMO)), NULL);
    assert_401(&r, "INVALID_API_KEY");
    it_response_free(&r);

    /* a readonly X-API-Key decides the permissions even next to a full Bearer key */
    r = it_request("POST", "/v1/partner/users",
                   IT_HEADERS(it_key_header(READONLY), it_bearer_header(DEMO)), "{}");
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
}
END_TEST

START_TEST(test_basic_auth_is_no_key)
{
    char *path = user_path(demo_user());
    char *raw = it_printf("Authorization: Basic %s", DEMO);
    it_response_t r = it_request("GET", path, IT_HEADERS("Authorization: Basic ZGVtbzpzZWNyZXQ="),
                                 NULL);
    assert_401(&r, "MISSING_API_KEY");
    it_response_free(&r);
    /* even when the "credentials" are a valid key */
    r = it_request("GET", path, IT_HEADERS(raw), NULL);
    assert_401(&r, "MISSING_API_KEY");
    it_response_free(&r);
}
END_TEST

START_TEST(test_empty_key_is_missing)
{
    char *path = user_path(demo_user());
    it_response_t r = it_request("GET", path, IT_HEADERS("X-API-Key:"), NULL);
    assert_401(&r, "MISSING_API_KEY");
    it_response_free(&r);
}
END_TEST

START_TEST(test_disabled_tenant_sees_nothing)
{
    char *x = it_unique("pending"), *e = it_printf("%s@example.com", x);
    char *body = it_registration_body(x, e, NULL);
    char *path = user_path(demo_user());
    static const char *const extra[][2] = {
        { "DELETE", "/v1/partner/users" },                    /* would be 405 */
        { "GET", "/v1/partner/users" },                       /* would be 405 */
        { "PUT", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT }, /* would be 405 */
        { "GET", "/v1/partner/accounts/" IT_SAMPLE_ACCOUNT "/close" },
        { "GET", "/v1/partner/nope" }, /* unknown path */
        { "GET", "/v1/partner/users/1/extra" },
    };
    it_response_t r;
    size_t i;

    for (i = 0; it_routes[i].method; i++) {
        r = it_request(it_routes[i].method, it_routes[i].path, IT_HEADERS(it_key_header(PENDING)),
                       it_routes[i].body);
        it_assert_error(r, 404, "NOT_FOUND");
        it_response_free(&r);
    }
    for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        r = it_request(extra[i][0], extra[i][1], IT_HEADERS(it_key_header(PENDING)), NULL);
        it_assert_error(r, 404, "NOT_FOUND");
        it_response_free(&r);
    }
    /* an existing user of another tenant, and a real registration attempt */
    r = it_request("GET", path, IT_HEADERS(it_key_header(PENDING)), NULL);
    it_assert_error(r, 404, "NOT_FOUND");
    it_response_free(&r);
    r = it_request("POST", "/v1/partner/users", IT_HEADERS(it_key_header(PENDING)), body);
    it_assert_error(r, 404, "NOT_FOUND");
    it_response_free(&r);
    /* the same via Bearer */
    r = it_request("POST", "/v1/partner/users", IT_HEADERS(it_bearer_header(PENDING)), body);
    it_assert_error(r, 404, "NOT_FOUND");
    it_response_free(&r);

    ck_assert_int_eq(it_db_int("select count(*) from users where email = $1", e), 0);
    ck_assert_int_eq(it_db_int("select count(*) from tenant_users where external_id = $1", x), 0);
}
END_TEST

START_TEST(test_readonly_key_cannot_register)
{
    char *x = it_unique("ro"), *e = it_printf("%s@example.com", x);
    char *body = it_registration_body(x, e, NULL);
    it_response_t r = it_request("POST", "/v1/partner/users", IT_HEADERS(it_key_header(READONLY)),
                                 body);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    /* the permission is checked before the body is even looked at */
    r = it_request("POST", "/v1/partner/users", IT_HEADERS(it_key_header(READONLY)), "{not json");
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);

    ck_assert_int_eq(it_db_int("select count(*) from users where email = $1", e), 0);
    ck_assert_int_eq(it_db_int("select count(*) from tenant_users where external_id = $1", x), 0);
}
END_TEST

/* accounts:write is checked before the account handlers look at the body,
 * the path id or the database: the readonly key changes nothing. */
START_TEST(test_readonly_key_cannot_write_accounts)
{
    long long uid = demo_user();
    char *x = it_unique("roacct");
    char *body = it_printf("{\"user_id\":%lld,\"external_id\":\"%s\",\"stage\":\"demo\","
                           "\"starting_balance\":\"1000\"}",
                           uid, x);
    char *x2 = it_printf("%s-ro", x);
    char *body2 = it_printf("{\"user_id\":%lld,\"external_id\":\"%s\",\"stage\":\"demo\","
                            "\"starting_balance\":\"1000\"}",
                            uid, x2);
    const char *state = "select format('%s|%s|%s|%s', a.status, a.rules, a.reset_count, "
                        "w.balance) from accounts a join wallets w on w.id = a.wallet_id "
                        "where a.id = $1::uuid";
    char *id, *before, *path, *close_path, *reset_path;
    it_response_t r;

    r = it_request("POST", "/v1/partner/accounts", IT_HEADERS(it_key_header(DEMO)), body);
    it_assert_status(r, 201);
    id = it_printf("%s", it_json_str(r.json, "account_id"));
    it_response_free(&r);
    before = it_db_scalar(state, id);
    path = it_printf("/v1/partner/accounts/%s", id);
    close_path = it_printf("%s/close", path);
    reset_path = it_printf("%s/reset", path);

    r = it_request("POST", "/v1/partner/accounts", IT_HEADERS(it_key_header(READONLY)), body2);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    r = it_request("PATCH", path, IT_HEADERS(it_key_header(READONLY)), "{\"rules\":{\"a\":1}}");
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    r = it_request("POST", close_path, IT_HEADERS(it_key_header(READONLY)), NULL);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    r = it_request("POST", reset_path, IT_HEADERS(it_key_header(READONLY)), NULL);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    /* a Bearer key with every permission next to it does not help */
    r = it_request("POST", close_path, IT_HEADERS(it_key_header(READONLY), it_bearer_header(DEMO)),
                   NULL);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);

    ck_assert_str_eq(it_db_scalar(state, id), before);
    ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x2), 0);
    /* but it can read it */
    r = it_request("GET", path, IT_HEADERS(it_key_header(READONLY)), NULL);
    it_assert_status(r, 200);
    ck_assert_str_eq(it_json_str(r.json, "account_id"), id);
    it_response_free(&r);
}
END_TEST

START_TEST(test_readonly_key_can_read_users)
{
    char *x = it_unique("roget"), *e = it_printf("%s@example.com", x), *tuid;
    long long id = it_register(DEMO, x, e, &tuid);
    char *path = user_path(id);
    it_response_t r = it_request("GET", path, IT_HEADERS(it_key_header(READONLY)), NULL);

    it_assert_status(r, 200);
    ck_assert_msg(json_object_get_int64(it_json_get(r.json, "user_id")) == id, "%s",
                  it_describe(&r));
    ck_assert_str_eq(it_json_str(r.json, "tenant_user_id"), tuid);
    ck_assert_str_eq(it_json_str(r.json, "external_id"), x);
    it_response_free(&r);
}
END_TEST

START_TEST(test_keys_never_logged)
{
    const char *log = it_env("PP_HTTPD_ERROR_LOG");
    const char *const keys[] = { DEMO, READONLY, OTHER, PENDING, BOGUS_KEY, NULL };
    char *path = user_path(demo_user());
    char *text;
    int i;

    /* requests down every authentication path */
    for (i = 0; keys[i]; i++) {
        it_response_t r = it_request("GET", path, IT_HEADERS(it_key_header(keys[i])), NULL);
        it_response_free(&r);
        r = it_request("POST", "/v1/partner/users", IT_HEADERS(it_bearer_header(keys[i])),
                       "{\"external_id\":1}");
        it_response_free(&r);
        r = it_request("DELETE", "/v1/partner/nope", IT_HEADERS(it_key_header(keys[i])), NULL);
        it_response_free(&r);
    }
    it_sleep_ms(300);
    text = it_read_file(log, NULL);
    ck_assert_msg(text != NULL, "cannot read PP_HTTPD_ERROR_LOG %s", log);
    for (i = 0; keys[i]; i++) {
        ck_assert_msg(strstr(text, keys[i]) == NULL, "an API key (#%d) appears in the error log %s",
                      i, log);
    }
    free(text);
}
END_TEST

Suite *it_auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("keys");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_missing_key_on_every_route);
    tcase_add_test(tc, test_missing_key_is_checked_before_routing);
    tcase_add_test(tc, test_invalid_key_on_every_route);
    tcase_add_test(tc, test_near_miss_keys_are_invalid);
    tcase_add_test(tc, test_header_name_is_case_insensitive);
    tcase_add_test(tc, test_bearer_is_an_alias);
    tcase_add_test(tc, test_x_api_key_wins_over_bearer);
    tcase_add_test(tc, test_basic_auth_is_no_key);
    tcase_add_test(tc, test_empty_key_is_missing);
    tcase_add_test(tc, test_disabled_tenant_sees_nothing);
    tcase_add_test(tc, test_readonly_key_cannot_register);
    tcase_add_test(tc, test_readonly_key_cannot_write_accounts);
    tcase_add_test(tc, test_readonly_key_can_read_users);
    tcase_add_test(tc, test_keys_never_logged);
    suite_add_tcase(s, tc);
    return s;
}
