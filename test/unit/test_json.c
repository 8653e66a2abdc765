#include "unit_suites.h"
#include "pp_json.h"

#include <string.h>

static const char *check(const char *body)
{
    return pp_json_check(unit_pool, body, strlen(body), PP_JSON_MAX_DEPTH);
}

/* Bodies a strict RFC 8259 reader accepts and we accept. */
static const char *const accepted[] = {
    "{}",
    " \t\r\n{ } \n",
    "{\"a\":1}",
    "{\"a\":-0.5e+10,\"b\":[1,2.5,true,false,null,\"x\"],\"c\":{}}",
    "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}",
    "{\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
    "{\"max\":9223372036854775807,\"min\":-9223372036854775808}",
    "{\"big\":1e400,\"small\":123456789012345678901234567890.5}",
    "{\"a\":\"x\",\"A\":\"case differs\"}",
    "{\"a\":{\"a\":{\"a\":1}}}",
};

START_TEST(test_check_accepts)
{
    const char *err = check(accepted[_i]);
    ck_assert_msg(err == NULL, "rejected %s: %s", accepted[_i], err);
}
END_TEST

/* Bodies we reject, with a word the message must contain. */
static const struct {
    const char *body;
    const char *says;
} rejected[] = {
    { "", "empty" },
    { "   ", "empty" },
    { "[]", "object" },
    { "\"str\"", "object" },
    { "42", "object" },
    { "null", "object" },
    { "{", "end of input" },
    { "{\"a\":1,}", "member name" },
    { "{\"a\":1} x", "trailing" },
    { "{\"a\":1}{}", "trailing" },
    { "{'a':1}", "member name" },
    { "{\"a\":'x'}", "unexpected token" },
    { "{\"a\":NaN}", "NaN" },
    { "{\"a\":Infinity}", "Infinity" },
    { "{\"a\":-Infinity}", "invalid number" },
    { "{\"a\":1,\"a\":2}", "duplicate key \"a\"" },
    { "{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\"" },
    { "{\"m\":{\"x\":1,\"x\":1}}", "field \"m\": duplicate key \"x\"" },
    { "{\"a\":\"\\u0000\"}", "NUL" },
    { "{\"a\":\"\\ud800\"}", "surrogate" },
    { "{\"a\":\"\\udc00\"}", "surrogate" },
    { "{\"a\":\"\\ud800\\u0041\"}", "surrogate" },
    { "{\"a\":\"\xc3\x28\"}", "UTF-8" },
    { "{\"a\":\"\xc0\xaf\"}", "UTF-8" },
    { "{\"a\":\"\xed\xa0\x80\"}", "UTF-8" },
    { "{\"a\":\"\xf4\x90\x80\x80\"}", "UTF-8" },
    { "{\"a\":\"tab\there\"}", "control character" },
    { "{\"a\":\"\\x\"}", "escape" },
    { "{\"a\":\"\\u12g4\"}", "escape" },
    { "{\"a\":01}", "leading zero" },
    { "{\"a\":1.}", "invalid number" },
    { "{\"a\":.5}", "unexpected token" },
    { "{\"a\":+1}", "unexpected token" },
    { "{\"a\":1e}", "invalid number" },
    { "{\"a\":9223372036854775808}", "64-bit" },
    { "{\"a\":-9223372036854775809}", "64-bit" },
    { "{\"a\":123456789012345678901}", "64-bit" },
    { "{\"a\":tru}", "unexpected token" },
    { "{\"a\":True}", "unexpected token" },
    { "{\"a\":1 /* c */}", "expected" },
    { "\xef\xbb\xbf{}", "object" },
};

START_TEST(test_check_rejects)
{
    const char *err = check(rejected[_i].body);
    ck_assert_msg(err != NULL, "accepted %s", rejected[_i].body);
    ck_assert_msg(strstr(err, rejected[_i].says) != NULL, "message for %s is '%s', want '%s'",
                  rejected[_i].body, err, rejected[_i].says);
}
END_TEST

static const char *nested(int levels)
{
    char *s = apr_palloc(unit_pool, (apr_size_t)levels * 6 + 8);
    int i, n = 0;
    for (i = 0; i < levels; i++) {
        memcpy(s + n, "{\"a\":", 5);
        n += 5;
    }
    s[n++] = '1';
    for (i = 0; i < levels; i++) {
        s[n++] = '}';
    }
    s[n] = '\0';
    return s;
}

START_TEST(test_depth_limit)
{
    const char *err;
    ck_assert_ptr_null(check(nested(PP_JSON_MAX_DEPTH)));
    err = check(nested(PP_JSON_MAX_DEPTH + 1));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "nesting deeper than 16"));
    ck_assert_ptr_nonnull(check(nested(10000)));
}
END_TEST

START_TEST(test_parse_object_and_fields)
{
    const char *body = "{\"external_id\":\"x\\u00e9\",\"n\":3,\"m\":{\"k\":[1,2]},\"z\":null}";
    json_object *o, *m;
    const char *s, *err;
    apr_size_t len;

    ck_assert_ptr_null(pp_json_parse_object(unit_pool, body, strlen(body), &o));
    ck_assert_ptr_null(pp_json_string_field(unit_pool, o, "external_id", 1, 1, 255, &s, &len));
    ck_assert_str_eq(s, "x\xc3\xa9");
    ck_assert_uint_eq(len, 3);
    /* two characters, although three bytes */
    err = pp_json_string_field(unit_pool, o, "external_id", 1, 3, 255, &s, NULL);
    ck_assert_ptr_nonnull(strstr(err, "3-255 characters"));
    err = pp_json_string_field(unit_pool, o, "n", 1, 1, 10, &s, NULL);
    ck_assert_str_eq(err, "field \"n\" must be a string, not a number");
    err = pp_json_string_field(unit_pool, o, "missing", 1, 1, 10, &s, NULL);
    ck_assert_str_eq(err, "field \"missing\" is required");
    ck_assert_ptr_null(pp_json_string_field(unit_pool, o, "missing", 0, 1, 10, &s, NULL));
    ck_assert_ptr_null(s);
    ck_assert_ptr_null(pp_json_object_field(unit_pool, o, "m", &m));
    ck_assert_str_eq(pp_json_serialize(unit_pool, m, NULL), "{\"k\":[1,2]}");
    /* null reads as absent */
    ck_assert_ptr_null(pp_json_object_field(unit_pool, o, "z", &m));
    ck_assert_ptr_null(m);
    err = pp_json_object_field(unit_pool, o, "n", &m);
    ck_assert_str_eq(err, "field \"n\" must be a JSON object, not a number");
}
END_TEST

START_TEST(test_only_fields)
{
    static const char *const allowed[] = { "a", "b", NULL };
    const char *body = "{\"a\":1,\"rulez\":2}";
    json_object *o;
    ck_assert_ptr_null(pp_json_parse_object(unit_pool, body, strlen(body), &o));
    ck_assert_str_eq(pp_json_only_fields(unit_pool, o, allowed), "unknown field \"rulez\"");
}
END_TEST

START_TEST(test_serialize_keeps_slashes_and_decimal_text)
{
    const char *body = "{\"url\":\"https://x/y\",\"price\":12.30}";
    json_object *o;
    ck_assert_ptr_null(pp_json_parse_object(unit_pool, body, strlen(body), &o));
    ck_assert_str_eq(pp_json_serialize(unit_pool, o, NULL),
                     "{\"url\":\"https://x/y\",\"price\":12.30}");
}
END_TEST

START_TEST(test_check_value_mode)
{
    /* upstream payloads: any top-level value, \u0000 left to the reader */
    ck_assert_ptr_null(pp_json_check_value(unit_pool, "[1,{\"a\":\"x\"}]",
                                           strlen("[1,{\"a\":\"x\"}]"), 16));
    ck_assert_ptr_null(pp_json_check_value(unit_pool, " \"PONG\" ", strlen(" \"PONG\" "), 16));
    ck_assert_ptr_null(pp_json_check_value(unit_pool, "42", strlen("42"), 16));
    ck_assert_ptr_null(pp_json_check_value(unit_pool, "{\"a\":\"\\u0000\"}",
                                           strlen("{\"a\":\"\\u0000\"}"), 16));
    /* everything else is as strict as for bodies */
    ck_assert_ptr_nonnull(strstr(pp_json_check_value(unit_pool, "[{\"a\":1,\"a\":2}]",
                                                     strlen("[{\"a\":1,\"a\":2}]"), 16),
                                 "duplicate key"));
    ck_assert_ptr_nonnull(strstr(pp_json_check_value(unit_pool, "[NaN]", strlen("[NaN]"), 16),
                                 "input is not valid JSON"));
    ck_assert_ptr_nonnull(strstr(pp_json_check_value(unit_pool, "[1] x", strlen("[1] x"), 16),
                                 "trailing"));
    ck_assert_ptr_nonnull(pp_json_check_value(unit_pool, "", strlen(""), 16));
    ck_assert_ptr_nonnull(pp_json_check_value(unit_pool, "[[[1]]]", strlen("[[[1]]]"), 2));
    /* and bodies still refuse \u0000 */
    ck_assert_ptr_nonnull(strstr(pp_json_check(unit_pool, "{\"a\":\"\\u0000\"}",
                                               strlen("{\"a\":\"\\u0000\"}"), 16),
                                 "NUL"));
}
END_TEST

START_TEST(test_quote)
{
    ck_assert_str_eq(pp_json_quote(unit_pool, "a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    ck_assert_str_eq(pp_json_quote(unit_pool, "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}
END_TEST

Suite *unit_json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(tc, test_check_accepts, 0, sizeof(accepted) / sizeof(accepted[0]));
    tcase_add_loop_test(tc, test_check_rejects, 0, sizeof(rejected) / sizeof(rejected[0]));
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_parse_object_and_fields);
    tcase_add_test(tc, test_only_fields);
    tcase_add_test(tc, test_serialize_keeps_slashes_and_decimal_text);
    tcase_add_test(tc, test_check_value_mode);
    tcase_add_test(tc, test_quote);
    suite_add_tcase(s, tc);
    return s;
}
