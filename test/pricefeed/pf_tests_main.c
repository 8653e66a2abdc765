/* Check tests for the pricefeed core (pricefeed/pf_*.c): no network, no
 * database. Fixtures come from the fake Polymarket server's directory. */
#include <check.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pf_json.h"
#include "pp_log.h"

#ifndef PF_FIXTURES_DIR
#define PF_FIXTURES_DIR "test/fake_polymarket/fixtures"
#endif

Suite *pf_decimal_suite(void);
Suite *pf_json_suite(void);
Suite *pf_gamma_suite(void);
Suite *pf_book_suite(void);
Suite *pf_ws_suite(void);
Suite *pf_batch_suite(void);
Suite *pf_daemon_core_suite(void);

/* ---- helpers shared by the test files (declared again where used) -------- */

apr_pool_t *pf_test_pool;
int pf_test_log_count[4];
char pf_test_last_log[PP_LOG_MAX];

static void pf_test_log(void *baton, pp_log_level_t level, const char *msg)
{
    (void)baton;
    if ((unsigned)level < 4) {
        pf_test_log_count[level]++;
    }
    snprintf(pf_test_last_log, sizeof(pf_test_last_log), "%s", msg);
    if (getenv("PF_TEST_VERBOSE")) {
        fprintf(stderr, "[%d] %s\n", (int)level, msg);
    }
}

void pf_test_setup(void)
{
    apr_pool_create(&pf_test_pool, NULL);
    memset(pf_test_log_count, 0, sizeof(pf_test_log_count));
    pf_test_last_log[0] = '\0';
    pp_log_set(pf_test_log, NULL, PP_LOG_DEBUG);
}

void pf_test_teardown(void)
{
    pp_log_set(NULL, NULL, PP_LOG_DEBUG);
    apr_pool_destroy(pf_test_pool);
    pf_test_pool = NULL;
}

/* The text of a fixture file. */
const char *pf_test_fixture_text(const char *name)
{
    const char *dir = getenv("PF_FIXTURES_DIR");
    const char *path = apr_pstrcat(pf_test_pool, dir ? dir : PF_FIXTURES_DIR, "/", name, NULL);
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    ck_assert_msg(f != NULL, "cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(pf_test_pool, (apr_size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* A fixture file parsed (through the strict parser). */
json_object *pf_test_fixture(const char *name)
{
    const char *text = pf_test_fixture_text(name);
    json_object *o;
    const char *err = pf_json_parse(pf_test_pool, text, strlen(text), &o);

    ck_assert_msg(err == NULL, "fixture %s: %s", name, err ? err : "");
    return o;
}

static const char *pf_test_dump(json_object *o)
{
    return apr_pstrdup(pf_test_pool,
                       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
                                                             | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The fixture's markets as a /markets/keyset page; next_cursor NULL leaves
 * the key out (the last page). */
const char *pf_test_fixture_page(const char *name, const char *next_cursor)
{
    json_object *f = pf_test_fixture(name);
    const char *markets = pf_test_dump(pf_json_get(f, "markets"));

    if (next_cursor) {
        return apr_psprintf(pf_test_pool, "{\"markets\":%s,\"next_cursor\":\"%s\"}", markets,
                            next_cursor);
    }
    return apr_psprintf(pf_test_pool, "{\"markets\":%s}", markets);
}

/* The fixture's markets as a bare array (legacy /markets). */
const char *pf_test_fixture_array(const char *name)
{
    return pf_test_dump(pf_json_get(pf_test_fixture(name), "markets"));
}

/* A WebSocket book event for one token of a fixture, levels in the wire
 * order the fixture keeps (bids ascending, asks descending: best LAST). */
const char *pf_test_fixture_book_event(const char *name, const char *token, const char *market)
{
    json_object *f = pf_test_fixture(name);
    json_object *book = pf_json_get(pf_json_get(f, "books"), token);
    json_object *ev = json_object_new_object();
    const char *sides[2] = { "bids", "asks" };
    int s;
    size_t i;
    const char *out;

    ck_assert_msg(book != NULL, "no book for %s in %s", token, name);
    json_object_object_add(ev, "event_type", json_object_new_string("book"));
    json_object_object_add(ev, "asset_id", json_object_new_string(token));
    json_object_object_add(ev, "market", json_object_new_string(market));
    for (s = 0; s < 2; s++) {
        json_object *src = pf_json_get(book, sides[s]), *dst = json_object_new_array();
        for (i = 0; i < json_object_array_length(src); i++) {
            json_object *pair = json_object_array_get_idx(src, i), *lv = json_object_new_object();
            json_object_object_add(lv, "price",
                                   json_object_get(json_object_array_get_idx(pair, 0)));
            json_object_object_add(lv, "size", json_object_get(json_object_array_get_idx(pair, 1)));
            json_object_array_add(dst, lv);
        }
        json_object_object_add(ev, sides[s], dst);
    }
    json_object_object_add(ev, "timestamp", json_object_new_string("1783459212345"));
    json_object_object_add(ev, "hash",
                           json_object_new_string("0x3f2a9c0b1d4e5f60718293a4b5c6d7e8f9012345"));
    if (pf_json_get(book, "tick_size")) {
        json_object_object_add(ev, "tick_size", json_object_get(pf_json_get(book, "tick_size")));
    }
    if (pf_json_has(book, "last_trade_price")) {
        json_object *ltp = pf_json_get(book, "last_trade_price");
        json_object_object_add(ev, "last_trade_price",
                               ltp ? json_object_get(ltp) : json_object_new_string(""));
    }
    out = pf_test_dump(ev);
    json_object_put(ev);
    return out;
}

int main(int argc, const char *const *argv)
{
    SRunner *sr;
    int failed;

    apr_app_initialize(&argc, &argv, NULL);
    sr = srunner_create(pf_decimal_suite());
    srunner_add_suite(sr, pf_json_suite());
    srunner_add_suite(sr, pf_gamma_suite());
    srunner_add_suite(sr, pf_book_suite());
    srunner_add_suite(sr, pf_ws_suite());
    srunner_add_suite(sr, pf_batch_suite());
    srunner_add_suite(sr, pf_daemon_core_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
