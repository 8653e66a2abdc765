#ifndef UNIT_SUITES_H
#define UNIT_SUITES_H

#include <check.h>
#include <apr_pools.h>

Suite *unit_json_suite(void);
Suite *unit_codec_suite(void);
Suite *unit_log_suite(void);
Suite *unit_email_suite(void);
Suite *unit_decimal_suite(void);
Suite *unit_route_suite(void);
Suite *unit_input_suite(void);
Suite *unit_apikey_suite(void);
Suite *unit_tenant_suite(void);
Suite *unit_users_suite(void);
Suite *unit_error_suite(void);
Suite *unit_accounts_suite(void);
Suite *unit_cursor_suite(void);
Suite *unit_query_suite(void);
Suite *unit_orders_suite(void);
Suite *unit_session_suite(void);
Suite *unit_redirect_suite(void);
Suite *unit_mail_suite(void);
Suite *unit_dbguard_suite(void);
Suite *unit_config_value_suite(void);
Suite *unit_events_suite(void);

/* A fresh pool per test, created in a checked fixture (inside the fork). */
extern apr_pool_t *unit_pool;
void unit_pool_setup(void);
void unit_pool_teardown(void);

#endif
