#include "unit_suites.h"
#include "pp_error.h"
#include "pp_json.h"

#include <string.h>

START_TEST(test_every_code_has_a_status_and_valid_envelope)
{
    int e;
    for (e = 0; e < PP_ERR__COUNT; e++) {
        apr_size_t len;
        const char *body = pp_error_body(unit_pool, (pp_error_t)e, "m\"sg", &len);
        json_object *o;
        ck_assert_int_ge(pp_error_status((pp_error_t)e), 400);
        ck_assert_int_le(pp_error_status((pp_error_t)e), 599);
        ck_assert_ptr_null(pp_json_parse_object(unit_pool, body, len, &o));
        ck_assert_int_eq(json_object_object_length(o), 2);
        ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "error")),
                         pp_error_code((pp_error_t)e));
        ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "message")), "m\"sg");
    }
}
END_TEST

START_TEST(test_documented_statuses)
{
    ck_assert_int_eq(pp_error_status(PP_ERR_MISSING_API_KEY), 401);
    ck_assert_int_eq(pp_error_status(PP_ERR_INVALID_API_KEY), 401);
    ck_assert_int_eq(pp_error_status(PP_ERR_INSUFFICIENT_PERMISSION), 403);
    ck_assert_int_eq(pp_error_status(PP_ERR_USER_NOT_FOUND), 404);
    ck_assert_int_eq(pp_error_status(PP_ERR_INVALID_EMAIL), 400);
    ck_assert_int_eq(pp_error_status(PP_ERR_EXTERNAL_ID_CONFLICT), 409);
    ck_assert_int_eq(pp_error_status(PP_ERR_USER_ALREADY_MAPPED), 409);
    ck_assert_int_eq(pp_error_status(PP_ERR_VALIDATION_FAILED), 422);
    ck_assert_int_eq(pp_error_status(PP_ERR_PAYLOAD_TOO_LARGE), 413);
    ck_assert_int_eq(pp_error_status(PP_ERR_SERVICE_UNAVAILABLE), 503);
    ck_assert_str_eq(pp_error_code(PP_ERR_METHOD_NOT_ALLOWED), "METHOD_NOT_ALLOWED");
}
END_TEST

Suite *unit_error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("error");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_every_code_has_a_status_and_valid_envelope);
    tcase_add_test(tc, test_documented_statuses);
    suite_add_tcase(s, tc);
    return s;
}
