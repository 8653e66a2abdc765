/* Request bodies of POST /v1/partner/users: the size cap (413), strict JSON
 * (422 VALIDATION_FAILED naming the field), and that a rejected request
 * writes nothing. */
#include "it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO it_env("DEMO_KEY")
#define MIB  (1024 * 1024)

typedef struct {
    char *x; /* external_id */
    char *e; /* email (already normalised) */
} ids_t;

static ids_t fresh(void)
{
    ids_t id;
    id.x = it_unique("body");
    id.e = it_printf("%s@example.com", id.x);
    return id;
}

/* The template with @X@ and @E@ replaced by the ids. */
static char *fill(const char *tmpl, ids_t id)
{
    size_t cap = strlen(tmpl) * 2 + strlen(id.x) * 4 + strlen(id.e) * 4 + 1;
    char *out = malloc(cap), *o = out;
    const char *t = tmpl;

    ck_assert_ptr_nonnull(out);
    while (*t) {
        if (strncmp(t, "@X@", 3) == 0) {
            o += sprintf(o, "%s", id.x);
            t += 3;
        }
        else if (strncmp(t, "@E@", 3) == 0) {
            o += sprintf(o, "%s", id.e);
            t += 3;
        }
        else {
            *o++ = *t++;
        }
    }
    *o = '\0';
    return out;
}

static void assert_nothing_written(ids_t id, const char *what)
{
    long long users = it_db_int("select count(*) from users where email = $1", id.e);
    long long maps = it_db_int("select count(*) from tenant_users where external_id = $1", id.x);
    ck_assert_msg(users == 0 && maps == 0,
                  "rejected request (%s) wrote %lld users and %lld tenant_users rows", what, users,
                  maps);
}

static it_response_t post(const char *body, size_t len)
{
    return it_request_len("POST", "/v1/partner/users", IT_HEADERS(it_key_header(DEMO)), body, len);
}

/* POSTs the filled template and expects 422 VALIDATION_FAILED (whose message
 * mentions field, if given) and no rows. */
static void expect_422(const char *tmpl, const char *field)
{
    ids_t id = fresh();
    char *body = fill(tmpl, id);
    it_response_t r = post(body, strlen(body));
    char *p = it_error_problem(&r, 422, "VALIDATION_FAILED");

    ck_assert_msg(p == NULL, "body <%s>: %s", tmpl, p ? p : "");
    if (field) {
        ck_assert_msg(it_message_mentions(&r, field),
                      "body <%s>: the message should name \"%s\": %s", tmpl, field,
                      it_describe(&r));
    }
    it_response_free(&r);
    assert_nothing_written(id, tmpl);
    free(body);
}

/* POSTs the filled template and expects 201 with the rows written. */
static it_response_t expect_201(const char *tmpl, ids_t id)
{
    char *body = fill(tmpl, id);
    it_response_t r = post(body, strlen(body));
    char *p = it_status_problem(&r, 201);

    ck_assert_msg(p == NULL, "body <%.300s>: %s", body, p ? p : "");
    ck_assert_int_eq(it_db_int("select count(*) from tenant_users where external_id = $1", id.x),
                     1);
    free(body);
    return r;
}

/* {"external_id":..,"email":..,"metadata":{"pad":"aaa..."}} of exactly size bytes. */
static char *padded_body(ids_t id, size_t size)
{
    char *head = it_printf("{\"external_id\":\"%s\",\"email\":\"%s\",\"metadata\":{\"pad\":\"",
                           id.x, id.e);
    size_t hl = strlen(head), pad = size - hl - 3;
    char *body = malloc(size + 1);

    ck_assert_ptr_nonnull(body);
    memcpy(body, head, hl);
    memset(body + hl, 'a', pad);
    memcpy(body + hl + pad, "\"}}", 4);
    ck_assert_uint_eq(strlen(body), size);
    free(head);
    return body;
}

/* metadata nested so that the whole body is depth levels deep (the top-level
 * object is level 1); open/close are "{\"a\":" / "}" or "[" / "]". */
static char *nested_template(int depth, const char *open, const char *close)
{
    size_t ol = strlen(open), cl = strlen(close), n = (size_t)depth - 2, i;
    char *inner = malloc(n * (ol + cl) + 3), *c = inner;

    ck_assert_ptr_nonnull(inner);
    for (i = 0; i < n; i++) {
        memcpy(c, open, ol);
        c += ol;
    }
    *c++ = '1';
    for (i = 0; i < n; i++) {
        memcpy(c, close, cl);
        c += cl;
    }
    *c = '\0';
    /* metadata itself is level 2 */
    return it_printf("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"d\":%s}}", inner);
}

/* ---- size cap ------------------------------------------------------------- */

START_TEST(test_body_over_cap_with_content_length)
{
    ids_t id = fresh();
    char *body = padded_body(id, MIB + 1);
    it_response_t r = post(body, MIB + 1);
    it_assert_error(r, 413, "PAYLOAD_TOO_LARGE");
    it_response_free(&r);
    assert_nothing_written(id, "1 MiB + 1 byte, Content-Length");
}
END_TEST

START_TEST(test_body_over_cap_chunked)
{
    ids_t id = fresh();
    char *body = padded_body(id, MIB + 1);
    it_response_t r = it_request_chunked("POST", "/v1/partner/users",
                                         IT_HEADERS(it_key_header(DEMO)), body, MIB + 1);
    it_assert_error(r, 413, "PAYLOAD_TOO_LARGE");
    it_response_free(&r);
    assert_nothing_written(id, "1 MiB + 1 byte, chunked");
}
END_TEST

START_TEST(test_body_far_over_cap_chunked)
{
    ids_t id = fresh();
    char *body = padded_body(id, 8 * MIB);
    it_response_t r = it_request_chunked("POST", "/v1/partner/users",
                                         IT_HEADERS(it_key_header(DEMO)), body, 8 * MIB);
    it_assert_error(r, 413, "PAYLOAD_TOO_LARGE");
    it_response_free(&r);
    assert_nothing_written(id, "8 MiB, chunked");
}
END_TEST

START_TEST(test_body_at_cap_is_accepted)
{
    ids_t id = fresh();
    char *body = padded_body(id, MIB);
    it_response_t r = post(body, MIB);
    it_assert_status(r, 201);
    it_response_free(&r);
    ck_assert_int_eq(it_db_int("select count(*) from tenant_users where external_id = $1", id.x),
                     1);
}
END_TEST

START_TEST(test_small_chunked_body_is_accepted)
{
    ids_t id = fresh();
    char *body = fill("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"k\":\"v\"}}", id);
    it_response_t r = it_request_chunked("POST", "/v1/partner/users",
                                         IT_HEADERS(it_key_header(DEMO)), body, strlen(body));
    it_assert_status(r, 201);
    ck_assert_str_eq(it_json_str(r.json, "external_id"), id.x);
    it_response_free(&r);
}
END_TEST

/* ---- malformed JSON ----------------------------------------------------------- */

START_TEST(test_malformed_json)
{
    static const char *const cases[] = {
        "{\"external_id\":\"@X@\",\"email\":\"@E@\"",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",}",
        "{\"external_id\":\"@X@\" \"email\":\"@E@\"}",
        "{'external_id':\"@X@\",\"email\":\"@E@\"}",
        "{\"external_id\":'@X@',\"email\":\"@E@\"}",
        "{external_id:\"@X@\",\"email\":\"@E@\"}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":tru}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":True}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":01}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":1.}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":+1}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":0x10}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":\"tab\there\"}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":\"bad \\x escape\"}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":\"\\u12\"}}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":[1,2,]}",
        "/* comment */ {\"external_id\":\"@X@\",\"email\":\"@E@\"}",
        "{\"external_id\":\"@X@\",\"email\":\"@E@\"} // comment",
        NULL
    };
    int i;
    for (i = 0; cases[i]; i++) {
        expect_422(cases[i], NULL);
    }
}
END_TEST

START_TEST(test_trailing_garbage)
{
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\"}x", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\"}{}", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\"}]", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\"} 1", NULL);
}
END_TEST

START_TEST(test_invalid_utf8)
{
    /* 0xC3 0x28: a lead byte followed by a non-continuation byte */
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"k\":\"\xC3\x28\"}}",
               NULL);
    expect_422("{\"external_id\":\"@X@\xC3\x28\",\"email\":\"@E@\"}", NULL);
    /* an overlong encoding of '/', a lone continuation byte, a truncated sequence */
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"k\":\"\xC0\xAF\"}}",
               NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"k\":\"\x80\"}}", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"\xE2\x82\":1}}", NULL);
}
END_TEST

START_TEST(test_lone_surrogate_escape)
{
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"k\":\"\\ud800\"}}",
               NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"k\":\"\\udc00x\"}}",
               NULL);
}
END_TEST

START_TEST(test_nul_escape)
{
    expect_422("{\"external_id\":\"@X@\\u0000\",\"email\":\"@E@\"}", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\\u0000\"}", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"k\":\"a\\u0000b\"}}",
               NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"\\u0000\":1}}", NULL);
}
END_TEST

START_TEST(test_nesting_too_deep)
{
    expect_422(nested_template(17, "{\"a\":", "}"), NULL);
    expect_422(nested_template(17, "[", "]"), NULL);
    expect_422(nested_template(64, "[", "]"), NULL);
    expect_422(nested_template(5000, "[", "]"), NULL);
}
END_TEST

START_TEST(test_nesting_at_limit_is_accepted)
{
    ids_t a = fresh(), b = fresh();
    it_response_t r = expect_201(nested_template(16, "{\"a\":", "}"), a);
    json_object *m = it_json_get(it_json_get(r.json, "metadata"), "d");
    int objects = 0;

    /* the echo keeps all of it: levels 3 to 16 are 14 nested objects */
    while (m && json_object_is_type(m, json_type_object)) {
        m = it_json_get(m, "a");
        objects++;
    }
    ck_assert_msg(objects == 14 && m && json_object_get_int(m) == 1,
                  "nested metadata not echoed intact: %s", it_describe(&r));
    it_response_free(&r);
    r = expect_201(nested_template(16, "[", "]"), b);
    it_response_free(&r);
}
END_TEST

START_TEST(test_duplicate_keys)
{
    expect_422("{\"external_id\":\"@X@\",\"external_id\":\"@X@-b\",\"email\":\"@E@\"}",
               "external_id");
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"email\":\"@E@\"}", "email");
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"a\":1,\"a\":2}}", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"x\":{\"b\":1,"
               "\"b\":1}}}",
               NULL);
    /* the same name spelled with an escape is still the same key */
    expect_422("{\"external_id\":\"@X@\",\"\\u0065mail\":\"@E@\",\"email\":\"@E@\"}", NULL);
}
END_TEST

START_TEST(test_nan_and_infinity)
{
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"x\":NaN}}", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"x\":Infinity}}", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"x\":-Infinity}}", NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":{\"x\":[nan]}}", NULL);
    expect_422("{\"external_id\":NaN,\"email\":\"@E@\"}", NULL);
}
END_TEST

START_TEST(test_integer_beyond_64_bits)
{
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":"
               "{\"n\":99999999999999999999}}",
               NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":"
               "{\"n\":-99999999999999999999}}",
               NULL);
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":"
               "{\"n\":[18446744073709551616]}}",
               NULL);
}
END_TEST

START_TEST(test_int64_extremes_are_kept)
{
    ids_t id = fresh();
    it_response_t r = expect_201("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":"
                                 "{\"max\":9223372036854775807,"
                                 "\"min\":-9223372036854775808}}",
                                 id);
    json_object *m = it_json_get(r.json, "metadata");
    json_object *max = it_json_get(m, "max"), *min = it_json_get(m, "min");

    ck_assert_msg(max && json_object_is_type(max, json_type_int)
                      && json_object_get_int64(max) == INT64_MAX && min
                      && json_object_is_type(min, json_type_int)
                      && json_object_get_int64(min) == INT64_MIN,
                  "64-bit integers not echoed exactly: %s", it_describe(&r));
    it_response_free(&r);
}
END_TEST

START_TEST(test_non_object_top_level)
{
    expect_422("[{\"external_id\":\"@X@\",\"email\":\"@E@\"}]", NULL);
    expect_422("\"@X@ @E@\"", NULL);
    expect_422("42", NULL);
    expect_422("null", NULL);
    expect_422("true", NULL);
}
END_TEST

START_TEST(test_empty_body)
{
    it_response_t r = post("", 0);
    it_assert_error(r, 422, "VALIDATION_FAILED");
    it_response_free(&r);
    r = it_request("POST", "/v1/partner/users", IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_error(r, 422, "VALIDATION_FAILED");
    it_response_free(&r);
    expect_422("   \r\n ", NULL);
}
END_TEST

/* ---- schema: each message names the field -------------------------------------- */

START_TEST(test_missing_fields)
{
    expect_422("{\"email\":\"@E@\"}", "external_id");
    expect_422("{\"external_id\":\"@X@\"}", "email");
    expect_422("{}", NULL);
}
END_TEST

START_TEST(test_external_id_type_and_length)
{
    ids_t id = fresh();
    char *long_x = malloc(257), *tmpl;

    /* wrong types */
    expect_422("{\"external_id\":12345,\"email\":\"@E@\"}", "external_id");
    expect_422("{\"external_id\":null,\"email\":\"@E@\"}", "external_id");
    expect_422("{\"external_id\":true,\"email\":\"@E@\"}", "external_id");
    expect_422("{\"external_id\":[\"@X@\"],\"email\":\"@E@\"}", "external_id");
    expect_422("{\"external_id\":{\"v\":\"@X@\"},\"email\":\"@E@\"}", "external_id");
    /* empty */
    expect_422("{\"external_id\":\"\",\"email\":\"@E@\"}", "external_id");
    /* 256 characters: the unique id padded with 'z' */
    ck_assert_ptr_nonnull(long_x);
    memset(long_x, 'z', 256);
    long_x[256] = '\0';
    memcpy(long_x, id.x, strlen(id.x));
    tmpl = it_printf("{\"external_id\":\"%s\",\"email\":\"%s\"}", long_x, id.e);
    {
        it_response_t r = post(tmpl, strlen(tmpl));
        it_assert_error(r, 422, "VALIDATION_FAILED");
        ck_assert_msg(it_message_mentions(&r, "external_id"), "%s", it_describe(&r));
        it_response_free(&r);
    }
    ck_assert_int_eq(it_db_int("select count(*) from users where email = $1", id.e), 0);
    ck_assert_int_eq(it_db_int("select count(*) from tenant_users where external_id = $1", long_x),
                     0);
}
END_TEST

START_TEST(test_external_id_255_characters_is_accepted)
{
    ids_t a = fresh(), b = fresh();
    char *ascii = malloc(256), *tmpl;
    size_t i;
    it_response_t r;

    ck_assert_ptr_nonnull(ascii);
    memset(ascii, 'z', 255);
    ascii[255] = '\0';
    memcpy(ascii, a.x, strlen(a.x));
    a.x = ascii;
    r = expect_201("{\"external_id\":\"@X@\",\"email\":\"@E@\"}", a);
    ck_assert_str_eq(it_json_str(r.json, "external_id"), ascii);
    it_response_free(&r);

    /* 255 characters of two bytes each are 255 characters, not 510 */
    {
        size_t ul = strlen(b.x);
        char *multi = malloc(ul + 2 * 255 + 1), *c = multi;
        ck_assert_ptr_nonnull(multi);
        memcpy(c, b.x, ul);
        c += ul;
        for (i = ul; i < 255; i++) {
            memcpy(c, "\xC3\xA9", 2); /* é */
            c += 2;
        }
        *c = '\0';
        b.x = multi;
    }
    tmpl = "{\"external_id\":\"@X@\",\"email\":\"@E@\"}";
    r = expect_201(tmpl, b);
    ck_assert_str_eq(it_json_str(r.json, "external_id"), b.x);
    it_response_free(&r);
}
END_TEST

START_TEST(test_email_type)
{
    expect_422("{\"external_id\":\"@X@\",\"email\":42}", "email");
    expect_422("{\"external_id\":\"@X@\",\"email\":null}", "email");
    expect_422("{\"external_id\":\"@X@\",\"email\":[\"@E@\"]}", "email");
}
END_TEST

START_TEST(test_metadata_must_be_an_object)
{
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":[1,2]}", "metadata");
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":\"country=ES\"}",
               "metadata");
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":7}", "metadata");
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"metadata\":true}", "metadata");
}
END_TEST

/* Unknown top-level fields are accepted and ignored, as by the reference
 * service (only PATCH forbids them), so its clients work unchanged. */
START_TEST(test_unknown_top_level_field)
{
    ids_t id = fresh();
    it_response_t r = expect_201("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"foo\":1,"
                                 "\"user_id\":1,\"Metadata\":{\"a\":1},\"metadata\":{\"b\":2}}",
                                 id);
    const char *const keys[] = { "user_id",  "tenant_user_id", "external_id", "email",
                                 "metadata", "created",        NULL };
    json_object *md = it_json_get(r.json, "metadata");

    ck_assert_msg(it_json_keys_are(r.json, keys), "%s", it_describe(&r));
    ck_assert_msg(
        md && strcmp(json_object_to_json_string_ext(md, JSON_C_TO_STRING_PLAIN), "{\"b\":2}") == 0,
        "only metadata is stored: %s", it_describe(&r));
    it_response_free(&r);
    /* the known fields are still checked */
    expect_422("{\"external_id\":\"@X@\",\"email\":\"@E@\",\"foo\":1,\"metadata\":[1]}",
               "metadata");
}
END_TEST

Suite *it_bodies_suite(void)
{
    Suite *s = suite_create("bodies");
    TCase *size = tcase_create("size");
    TCase *json = tcase_create("json");
    TCase *schema = tcase_create("schema");

    tcase_set_timeout(size, 90);
    tcase_add_test(size, test_body_over_cap_with_content_length);
    tcase_add_test(size, test_body_over_cap_chunked);
    tcase_add_test(size, test_body_far_over_cap_chunked);
    tcase_add_test(size, test_body_at_cap_is_accepted);
    tcase_add_test(size, test_small_chunked_body_is_accepted);
    suite_add_tcase(s, size);

    tcase_set_timeout(json, 90);
    tcase_add_test(json, test_malformed_json);
    tcase_add_test(json, test_trailing_garbage);
    tcase_add_test(json, test_invalid_utf8);
    tcase_add_test(json, test_lone_surrogate_escape);
    tcase_add_test(json, test_nul_escape);
    tcase_add_test(json, test_nesting_too_deep);
    tcase_add_test(json, test_nesting_at_limit_is_accepted);
    tcase_add_test(json, test_duplicate_keys);
    tcase_add_test(json, test_nan_and_infinity);
    tcase_add_test(json, test_integer_beyond_64_bits);
    tcase_add_test(json, test_int64_extremes_are_kept);
    tcase_add_test(json, test_non_object_top_level);
    tcase_add_test(json, test_empty_body);
    suite_add_tcase(s, json);

    tcase_set_timeout(schema, 60);
    tcase_add_test(schema, test_missing_fields);
    tcase_add_test(schema, test_external_id_type_and_length);
    tcase_add_test(schema, test_external_id_255_characters_is_accepted);
    tcase_add_test(schema, test_email_type);
    tcase_add_test(schema, test_metadata_must_be_an_object);
    tcase_add_test(schema, test_unknown_top_level_field);
    suite_add_tcase(s, schema);
    return s;
}
