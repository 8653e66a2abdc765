#include "unit_suites.h"

#include <apr_general.h>
#include <stdlib.h>

apr_pool_t *unit_pool;

void unit_pool_setup(void)
{
    apr_pool_create(&unit_pool, NULL);
}

void unit_pool_teardown(void)
{
    apr_pool_destroy(unit_pool);
    unit_pool = NULL;
}

int main(int argc, const char *const *argv)
{
    SRunner *sr;
    int failed;

    apr_app_initialize(&argc, &argv, NULL);
    sr = srunner_create(unit_json_suite());
    srunner_add_suite(sr, unit_codec_suite());
    srunner_add_suite(sr, unit_log_suite());
    srunner_add_suite(sr, unit_email_suite());
    srunner_add_suite(sr, unit_decimal_suite());
    srunner_add_suite(sr, unit_route_suite());
    srunner_add_suite(sr, unit_input_suite());
    srunner_add_suite(sr, unit_apikey_suite());
    srunner_add_suite(sr, unit_tenant_suite());
    srunner_add_suite(sr, unit_users_suite());
    srunner_add_suite(sr, unit_error_suite());
    srunner_add_suite(sr, unit_accounts_suite());
    srunner_add_suite(sr, unit_cursor_suite());
    srunner_add_suite(sr, unit_query_suite());
    srunner_add_suite(sr, unit_orders_suite());
    srunner_add_suite(sr, unit_session_suite());
    srunner_add_suite(sr, unit_redirect_suite());
    srunner_add_suite(sr, unit_mail_suite());
    srunner_add_suite(sr, unit_dbguard_suite());
    srunner_add_suite(sr, unit_config_value_suite());
    srunner_add_suite(sr, unit_events_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
