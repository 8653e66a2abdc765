#include "unit_suites.h"
#include "pp_apikey.h"
#include "pp_tenant.h"

#include <apr_strings.h>

#include <string.h>

static const char *const all_perms[] = { "users:write", "accounts:read", "accounts:write" };

START_TEST(test_tenants_and_key_lookup)
{
    pp_tenants_t *reg = pp_tenants_make(unit_pool);
    pp_tenant_t *demo, *other;
    const char *k1 = pp_apikey_generate(unit_pool), *k2 = pp_apikey_generate(unit_pool);
    const char *k3 = pp_apikey_generate(unit_pool);
    const pp_tenant_key_t *found;
    const char *read_only[] = { "accounts:read" };

    ck_assert_ptr_null(pp_tenants_add(reg, "demo", &demo));
    ck_assert_ptr_null(pp_tenants_add(reg, "other", &other));
    ck_assert_int_eq(demo->enabled, 1);
    ck_assert_str_eq(demo->min_balance, "100.00");
    ck_assert_str_eq(demo->max_balance, "1000000.00");
    ck_assert_ptr_null(pp_tenant_add_key(reg, demo, pp_apikey_hash_spec(unit_pool, k1, strlen(k1)),
                                         3, all_perms));
    ck_assert_ptr_null(pp_tenant_add_key(reg, demo, pp_apikey_hash_spec(unit_pool, k2, strlen(k2)),
                                         1, read_only));
    ck_assert_ptr_null(pp_tenant_add_key(reg, other, pp_apikey_hash_spec(unit_pool, k3, strlen(k3)),
                                         3, all_perms));

    found = pp_tenants_find_key(reg, k1, strlen(k1));
    ck_assert_ptr_nonnull(found);
    ck_assert_ptr_eq(found->tenant, demo);
    ck_assert_uint_eq(found->perms,
                      PP_PERM_USERS_WRITE | PP_PERM_ACCOUNTS_READ | PP_PERM_ACCOUNTS_WRITE);
    found = pp_tenants_find_key(reg, k2, strlen(k2));
    ck_assert_ptr_eq(found->tenant, demo);
    ck_assert_uint_eq(found->perms, PP_PERM_ACCOUNTS_READ);
    ck_assert_ptr_eq(pp_tenants_find_key(reg, k3, strlen(k3))->tenant, other);
    /* near misses: a prefix, one more character, the hash itself */
    ck_assert_ptr_null(pp_tenants_find_key(reg, k1, strlen(k1) - 1));
    ck_assert_ptr_null(pp_tenants_find_key(reg, apr_pstrcat(unit_pool, k1, "x", NULL),
                                           strlen(k1) + 1));
    ck_assert_ptr_null(pp_tenants_find_key(reg, pp_apikey_hash_spec(unit_pool, k1, strlen(k1)),
                                           71));
    ck_assert_ptr_null(pp_tenants_find_key(reg, "", 0));
    ck_assert_ptr_eq(pp_tenants_find(reg, "other"), other);
    ck_assert_ptr_null(pp_tenants_find(reg, "nobody"));
}
END_TEST

START_TEST(test_config_errors)
{
    pp_tenants_t *reg = pp_tenants_make(unit_pool);
    pp_tenant_t *a, *b, *dup;
    const char *spec = pp_apikey_hash_spec(unit_pool, "k", 1);
    const char *bad_perm[] = { "users:write", "accounts:delete" };
    const char *err;

    ck_assert_ptr_null(pp_tenants_add(reg, "a", &a));
    ck_assert_ptr_null(pp_tenants_add(reg, "b", &b));
    err = pp_tenants_add(reg, "a", &dup);
    ck_assert_ptr_nonnull(strstr(err, "declared twice"));
    ck_assert_ptr_null(dup);
    ck_assert_ptr_nonnull(strstr(pp_tenants_add(reg, "Bad Name", &dup), "invalid tenant name"));
    ck_assert_ptr_nonnull(pp_tenants_add(reg, "", &dup));

    ck_assert_ptr_null(pp_tenant_add_key(reg, a, spec, 3, all_perms));
    err = pp_tenant_add_key(reg, b, spec, 3, all_perms);
    ck_assert_ptr_nonnull(strstr(err, "duplicate key"));
    ck_assert_ptr_nonnull(strstr(err, "tenant 'a'"));
    err = pp_tenant_add_key(reg, a, spec, 3, all_perms);
    ck_assert_ptr_nonnull(strstr(err, "duplicate key"));
    err = pp_tenant_add_key(reg, b, pp_apikey_hash_spec(unit_pool, "k2", 2), 2, bad_perm);
    ck_assert_ptr_nonnull(strstr(err, "unknown permission 'accounts:delete'"));
    err = pp_tenant_add_key(reg, b, "sha256:00", 3, all_perms);
    ck_assert_ptr_nonnull(strstr(err, "malformed key hash"));
    err = pp_tenant_add_key(reg, b, pp_apikey_hash_spec(unit_pool, "k3", 2), 0, all_perms);
    ck_assert_ptr_nonnull(strstr(err, "at least one permission"));
    ck_assert_int_eq(reg->keys->nelts, 1);
    ck_assert_int_eq(b->key_count, 0);
}
END_TEST

START_TEST(test_bounds)
{
    pp_tenants_t *reg = pp_tenants_make(unit_pool);
    pp_tenant_t *t;
    const char *err;

    ck_assert_ptr_null(pp_tenants_add(reg, "t", &t));
    ck_assert_ptr_null(pp_tenant_set_bounds(unit_pool, t, "500", "500.00"));
    ck_assert_str_eq(t->min_balance, "500");
    err = pp_tenant_set_bounds(unit_pool, t, "500.00", "100.00");
    ck_assert_ptr_nonnull(strstr(err, "out of order"));
    ck_assert_str_eq(t->min_balance, "500");
    ck_assert_ptr_nonnull(strstr(pp_tenant_set_bounds(unit_pool, t, "1e3", "5000"),
                                 "invalid minimum"));
    ck_assert_ptr_nonnull(strstr(pp_tenant_set_bounds(unit_pool, t, "10", "10.001"),
                                 "invalid maximum"));
    ck_assert_ptr_nonnull(pp_tenant_set_bounds(unit_pool, t, "-1", "10"));
}
END_TEST

START_TEST(test_redirects)
{
    pp_tenants_t *reg = pp_tenants_make(unit_pool);
    pp_tenant_t *t;

    ck_assert_ptr_null(pp_tenants_add(reg, "t", &t));
    ck_assert_ptr_null(pp_tenant_add_redirect(unit_pool, t, "https://portal.example.com/app"));
    ck_assert_ptr_null(pp_tenant_add_redirect(unit_pool, t, "http://127.0.0.1:3000/"));
    ck_assert_ptr_nonnull(pp_tenant_add_redirect(unit_pool, t, "ftp://example.com/"));
    ck_assert_ptr_nonnull(pp_tenant_add_redirect(unit_pool, t, "/relative"));
    ck_assert_ptr_nonnull(pp_tenant_add_redirect(unit_pool, t, "https://u:p@example.com/"));
    ck_assert_ptr_nonnull(pp_tenant_add_redirect(unit_pool, t, "https://example.com/?q=1"));
    ck_assert_ptr_nonnull(pp_tenant_add_redirect(unit_pool, t, "https://example.com\\@evil.com/"));
    ck_assert_int_eq(t->redirect_allow->nelts, 2);
}
END_TEST

START_TEST(test_day_boundary)
{
    pp_tenants_t *reg = pp_tenants_make(unit_pool);
    pp_tenant_t *t;

    ck_assert_ptr_null(pp_tenants_add(reg, "ny", &t));
    ck_assert_str_eq(t->day_boundary, "00:00");
    ck_assert_str_eq(t->day_zone, "UTC");
    ck_assert_ptr_null(pp_tenant_set_day_boundary(unit_pool, t, "17:00", "America/New_York",
                                                  "/usr/share/zoneinfo"));
    ck_assert_str_eq(t->day_boundary, "17:00");
    ck_assert_str_eq(t->day_zone, "America/New_York");
    ck_assert_str_eq(pp_tenants_settings_json(unit_pool, reg),
                     "[{\"tenant\":\"ny\",\"day_boundary\":\"17:00\",\"day_zone\":"
                     "\"America/New_York\"}]");
    /* refused, and nothing changed */
    ck_assert_ptr_nonnull(pp_tenant_set_day_boundary(unit_pool, t, "24:00", "UTC",
                                                     "/usr/share/zoneinfo"));
    ck_assert_ptr_nonnull(pp_tenant_set_day_boundary(unit_pool, t, "7:00", "UTC",
                                                     "/usr/share/zoneinfo"));
    ck_assert_ptr_nonnull(pp_tenant_set_day_boundary(unit_pool, t, "17:60", "UTC",
                                                     "/usr/share/zoneinfo"));
    ck_assert_ptr_nonnull(pp_tenant_set_day_boundary(unit_pool, t, "17:00", "Mars/Olympus",
                                                     "/usr/share/zoneinfo"));
    ck_assert_ptr_nonnull(pp_tenant_set_day_boundary(unit_pool, t, "17:00", "../../etc/passwd",
                                                     "/usr/share/zoneinfo"));
    ck_assert_ptr_nonnull(pp_tenant_set_day_boundary(unit_pool, t, "17:00", "America",
                                                     "/usr/share/zoneinfo"));
    ck_assert_str_eq(t->day_zone, "America/New_York");
}
END_TEST

Suite *unit_tenant_suite(void)
{
    Suite *s = suite_create("tenant");
    TCase *tc = tcase_create("tenant");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_tenants_and_key_lookup);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_redirects);
    tcase_add_test(tc, test_day_boundary);
    suite_add_tcase(s, tc);
    return s;
}
