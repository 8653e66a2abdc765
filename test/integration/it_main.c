/* Runs every integration suite against the httpd and PostgreSQL the harness
 * started. The database suite comes last: it stops and restarts PostgreSQL. */
#include "it.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    static const char *const required[] = {
        "POLYPARTNER_URL", "DEMO_KEY", "DEMO_READONLY_KEY", "OTHER_KEY", "PENDING_KEY",
        "DATABASE_URL",    NULL
    };
    SRunner *sr;
    int i, failed, missing = 0;

    for (i = 0; required[i]; i++) {
        if (!it_env_opt(required[i])) {
            fprintf(stderr,
                    "integration-tests: %s is not set; run the suite through "
                    "test/harness/run-integration\n",
                    required[i]);
            missing = 1;
        }
    }
    if (missing) {
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "integration-tests: curl_global_init failed\n");
        return 2;
    }

    sr = srunner_create(it_auth_suite());
    srunner_add_suite(sr, it_routing_suite());
    srunner_add_suite(sr, it_bodies_suite());
    srunner_add_suite(sr, it_users_suite());
    srunner_add_suite(sr, it_accounts_suite());
    srunner_add_suite(sr, it_trading_suite());
    srunner_add_suite(sr, it_login_suite());
    srunner_add_suite(sr, it_signin_suite());
    srunner_add_suite(sr, it_hardening_suite());
    srunner_add_suite(sr, it_slowdb_suite());
    srunner_add_suite(sr, it_events_suite());
    srunner_add_suite(sr, it_database_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
