#include <check.h>
#include <apr_pools.h>
#include <string.h>

#include "pf_json.h"

extern apr_pool_t *pf_test_pool;
void pf_test_setup(void);
void pf_test_teardown(void);

static json_object *parse_ok(const char *s)
{
    json_object *o;
    const char *err = pf_json_parse(pf_test_pool, s, strlen(s), &o);
    ck_assert_msg(err == NULL, "%s: %s", s, err ? err : "");
    return o;
}

static const char *const accepted[] = {
    "{}",
    "[]",
    "{\"a\":1}",
    "[1,2.5,-3,1e5,\"x\",true,false,null]",
    " {\"a\" : [ ] } ",
    "9223372036854775807",
    "-9223372036854775808",
    "\"\\u00e9\\ud83d\\ude00\"",
    "{\"a\":{\"a\":{\"a\":1}}}", /* same key at different levels */
    "[{\"a\":1},{\"a\":2}]",     /* same key in sibling objects */
    "\"PONG\"",
};

static const char *const rejected[] = {
    "",
    "PONG",
    "{\"a\":1,\"a\":2}", /* json-c keeps the last one */
    "{\"price\":\"0.5\",\"size\":\"1\",\"price\":\"0.9\"}",
    "{\"a\":1,\"\\u0061\":2}",     /* the same key, escaped */
    "[{\"x\":{\"k\":1,\"k\":1}}]", /* nested duplicate */
    "9223372036854775808",
    "99999999999999999999", /* json-c would clamp these */
    "{\"size\":18446744073709551616}",
    "-9223372036854775809",
    "NaN",
    "[Infinity]",
    "[-Infinity]",
    "{\"a\":nan}",
    "[1,]",
    "{\"a\":1,}",
    "[01]",
    "[1.]",
    "[.5]",
    "{a:1}",
    "{'a':1}",
    "[1] x",
    "{} {}",
    "/* c */ {}",
    "[\"\\x\"]",
    "[\"a\tb\"]",
    "[\"\xff\"]",
    "[\"\xc0\xaf\"]",
    "[\"\\ud800\"]",
    "[\"\\udc00\"]",
    "[tru]",
    "[\"abc",
};

START_TEST(test_accepted)
{
    json_object *o;
    const char *err = pf_json_parse(pf_test_pool, accepted[_i], strlen(accepted[_i]), &o);
    ck_assert_msg(err == NULL, "'%s' should parse: %s", accepted[_i], err ? err : "");
}
END_TEST

START_TEST(test_rejected)
{
    json_object *o;
    ck_assert_msg(pf_json_parse(pf_test_pool, rejected[_i], strlen(rejected[_i]), &o) != NULL,
                  "'%s' should be rejected", rejected[_i]);
    ck_assert_ptr_null(o);
}
END_TEST

START_TEST(test_depth)
{
    char deep[PF_JSON_MAX_DEPTH * 2 + 3];
    int i;
    json_object *o;

    for (i = 0; i < PF_JSON_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[PF_JSON_MAX_DEPTH * 2 - 1 - i] = ']';
    }
    ck_assert_ptr_null(pf_json_parse(pf_test_pool, deep, PF_JSON_MAX_DEPTH * 2, &o));
    memmove(deep + 1, deep, PF_JSON_MAX_DEPTH * 2);
    deep[0] = '[';
    deep[PF_JSON_MAX_DEPTH * 2 + 1] = ']';
    ck_assert_ptr_nonnull(pf_json_parse(pf_test_pool, deep, PF_JSON_MAX_DEPTH * 2 + 2, &o));
}
END_TEST

START_TEST(test_decimal_reader)
{
    json_object *o = parse_ok("{\"s\":\"0.53\",\"n\":0.53,\"z\":0.530,\"e\":1e-3,\"i\":1,"
                              "\"empty\":\"\",\"null\":null,\"t\":true,\"abc\":\"abc\","
                              "\"neg\":-0.5,\"obj\":{},\"lead\":\".48\",\"sp\":\" 0.5\","
                              "\"big\":2,\"nul\":\"0.5\\u0000\"}");
    char out[PF_SIZE_BUF];

    ck_assert_int_eq(pf_json_decimal_field(o, "s", PF_DEC_PRICE, out, sizeof(out)), PF_VAL_OK);
    ck_assert_str_eq(out, "0.53");
    ck_assert_int_eq(pf_json_decimal_field(o, "n", PF_DEC_PRICE, out, sizeof(out)), PF_VAL_OK);
    ck_assert_str_eq(out, "0.53");
    ck_assert_int_eq(pf_json_decimal_field(o, "z", PF_DEC_PRICE, out, sizeof(out)), PF_VAL_OK);
    ck_assert_str_eq(out, "0.53");
    ck_assert_int_eq(pf_json_decimal_field(o, "e", PF_DEC_PRICE, out, sizeof(out)), PF_VAL_OK);
    ck_assert_str_eq(out, "0.001");
    ck_assert_int_eq(pf_json_decimal_field(o, "i", PF_DEC_PRICE, out, sizeof(out)), PF_VAL_OK);
    ck_assert_str_eq(out, "1");
    ck_assert_int_eq(pf_json_decimal_field(o, "lead", PF_DEC_PRICE, out, sizeof(out)), PF_VAL_OK);
    ck_assert_str_eq(out, "0.48");
    ck_assert_int_eq(pf_json_decimal_field(o, "empty", PF_DEC_PRICE, out, sizeof(out)),
                     PF_VAL_NULL);
    ck_assert_int_eq(pf_json_decimal_field(o, "null", PF_DEC_PRICE, out, sizeof(out)), PF_VAL_NULL);
    ck_assert_int_eq(pf_json_decimal_field(o, "absent", PF_DEC_PRICE, out, sizeof(out)),
                     PF_VAL_ABSENT);
    ck_assert_int_eq(pf_json_decimal_field(o, "t", PF_DEC_PRICE, out, sizeof(out)), PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_decimal_field(o, "abc", PF_DEC_PRICE, out, sizeof(out)),
                     PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_decimal_field(o, "neg", PF_DEC_PRICE, out, sizeof(out)),
                     PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_decimal_field(o, "obj", PF_DEC_PRICE, out, sizeof(out)),
                     PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_decimal_field(o, "sp", PF_DEC_PRICE, out, sizeof(out)),
                     PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_decimal_field(o, "big", PF_DEC_PRICE, out, sizeof(out)),
                     PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_decimal_field(o, "big", PF_DEC_SIZE, out, sizeof(out)), PF_VAL_OK);
    ck_assert_int_eq(pf_json_decimal_field(o, "nul", PF_DEC_PRICE, out, sizeof(out)),
                     PF_VAL_INVALID);
}
END_TEST

START_TEST(test_no_coercion)
{
    json_object *o = parse_ok("{\"num\":5,\"str\":\"x\",\"b\":true,\"bs\":\"false\",\"one\":1,"
                              "\"null\":null,\"nul\":\"a\\u0000b\",\"ts\":\"1783459212345\","
                              "\"tsn\":1783459212345,\"tsbad\":\"17834e5\",\"tsneg\":-1}");
    int b = -5;
    int64_t ts;

    ck_assert_ptr_null(pf_json_str_field(o, "num")); /* not "5" */
    ck_assert_str_eq(pf_json_str_field(o, "str"), "x");
    ck_assert_ptr_null(pf_json_str_field(o, "b"));
    ck_assert_ptr_null(pf_json_str_field(o, "nul")); /* embedded NUL */
    ck_assert_ptr_null(pf_json_str_field(o, "missing"));
    ck_assert_int_eq(pf_json_bool_field(o, "b", &b), PF_VAL_OK);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(pf_json_bool_field(o, "bs", &b), PF_VAL_OK);
    ck_assert_int_eq(b, 0);
    ck_assert_int_eq(pf_json_bool_field(o, "one", &b), PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_bool_field(o, "str", &b), PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_bool_field(o, "null", &b), PF_VAL_NULL);
    ck_assert_int_eq(pf_json_bool_field(o, "missing", &b), PF_VAL_ABSENT);
    ck_assert(pf_json_has(o, "null"));
    ck_assert_ptr_null(pf_json_get(o, "null"));
    ck_assert_int_eq(pf_json_uint_field(o, "ts", &ts), PF_VAL_OK);
    ck_assert(ts == 1783459212345LL);
    ck_assert_int_eq(pf_json_uint_field(o, "tsn", &ts), PF_VAL_OK);
    ck_assert(ts == 1783459212345LL);
    ck_assert_int_eq(pf_json_uint_field(o, "tsbad", &ts), PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_uint_field(o, "tsneg", &ts), PF_VAL_INVALID);
}
END_TEST

START_TEST(test_inner_array)
{
    json_object *o = parse_ok("{\"enc\":\"[\\\"Yes\\\", \\\"No\\\"]\",\"real\":[\"Yes\",\"No\"],"
                              "\"empty\":\"\",\"null\":null,\"bad\":\"not json\","
                              "\"obj\":\"{}\",\"dup\":\"[{\\\"a\\\":1,\\\"a\\\":2}]\","
                              "\"num\":5}");
    json_object *arr;

    ck_assert_int_eq(pf_json_inner_array(pf_test_pool, pf_json_get(o, "enc"), &arr), PF_VAL_OK);
    ck_assert_int_eq(json_object_array_length(arr), 2);
    ck_assert_str_eq(pf_json_string(json_object_array_get_idx(arr, 1)), "No");
    ck_assert_int_eq(pf_json_inner_array(pf_test_pool, pf_json_get(o, "real"), &arr), PF_VAL_OK);
    ck_assert_int_eq(json_object_array_length(arr), 2);
    ck_assert_int_eq(pf_json_inner_array(pf_test_pool, pf_json_get(o, "empty"), &arr), PF_VAL_NULL);
    ck_assert_int_eq(pf_json_inner_array(pf_test_pool, pf_json_get(o, "null"), &arr), PF_VAL_NULL);
    ck_assert_int_eq(pf_json_inner_array(pf_test_pool, pf_json_get(o, "bad"), &arr),
                     PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_inner_array(pf_test_pool, pf_json_get(o, "obj"), &arr),
                     PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_inner_array(pf_test_pool, pf_json_get(o, "dup"), &arr),
                     PF_VAL_INVALID);
    ck_assert_int_eq(pf_json_inner_array(pf_test_pool, pf_json_get(o, "num"), &arr),
                     PF_VAL_INVALID);
}
END_TEST

START_TEST(test_ids)
{
    char t78[79], t79[80];
    memset(t78, '7', 78);
    t78[78] = '\0';
    memset(t79, '7', 79);
    t79[79] = '\0';
    ck_assert(pf_is_token_id(t78));
    ck_assert(!pf_is_token_id(t79));
    ck_assert(pf_is_token_id(
        "21385994114023021512400530102266083579235915568060829493542345131067844826511"));
    ck_assert(!pf_is_token_id(""));
    ck_assert(!pf_is_token_id("12a"));
    ck_assert(!pf_is_token_id("-1"));
    ck_assert(!pf_is_token_id(NULL));
    ck_assert(
        pf_is_condition_id("0x8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069afac"));
    ck_assert(
        pf_is_condition_id("0x8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069af"));
    ck_assert(
        !pf_is_condition_id("0x8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069afa"));
    ck_assert(
        !pf_is_condition_id("8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069afac"));
    ck_assert(
        !pf_is_condition_id("0x8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069afag"));
    ck_assert(!pf_is_condition_id(""));
    ck_assert(!pf_is_condition_id(NULL));
}
END_TEST

START_TEST(test_buf_quote)
{
    pf_buf_t b;
    pf_buf_init(&b, pf_test_pool, 1);
    pf_buf_quote(&b, "a\"b\\c\nd\x01/é");
    ck_assert_str_eq(pf_buf_str(&b), "\"a\\\"b\\\\c\\nd\\u0001/é\"");
    ck_assert_uint_eq(b.len, strlen(pf_buf_str(&b)));
    pf_buf_init(&b, pf_test_pool, 1);
    pf_buf_quote(&b, "");
    ck_assert_str_eq(pf_buf_str(&b), "\"\"");
    {
        int i;
        pf_buf_init(&b, pf_test_pool, 1);
        for (i = 0; i < 1000; i++) pf_buf_puts(&b, "0123456789");
        ck_assert_uint_eq(strlen(pf_buf_str(&b)), 10000);
    }
}
END_TEST

Suite *pf_json_suite(void)
{
    Suite *s = suite_create("pf_json");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, pf_test_setup, pf_test_teardown);
    tcase_add_loop_test(tc, test_accepted, 0, sizeof(accepted) / sizeof(accepted[0]));
    tcase_add_loop_test(tc, test_rejected, 0, sizeof(rejected) / sizeof(rejected[0]));
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_decimal_reader);
    tcase_add_test(tc, test_no_coercion);
    tcase_add_test(tc, test_inner_array);
    tcase_add_test(tc, test_ids);
    tcase_add_test(tc, test_buf_quote);
    suite_add_tcase(s, tc);
    return s;
}
