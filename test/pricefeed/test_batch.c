#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <string.h>

#include "pf_batch.h"
#include "pf_json.h"
#include "pf_ws.h"

extern apr_pool_t *pf_test_pool;
void pf_test_setup(void);
void pf_test_teardown(void);
const char *pf_test_fixture_book_event(const char *name, const char *token, const char *market);

#define CID_01 "0x8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069afac"
#define YES_01 "21385994114023021512400530102266083579235915568060829493542345131067844826511"
#define NO_01  "37130064060700614639770746809654854432154239732903913772701496505119668518431"

static pf_book_store_t *store;

static void setup(void)
{
    pf_test_setup();
    store = pf_book_store_create(pf_test_pool);
    pf_book_store_add(store, YES_01, CID_01);
    pf_book_store_add(store, NO_01, CID_01);
}

static void frame(const char *text)
{
    pf_frame_result_t r;
    pf_ws_handle_frame(store, pf_test_pool, text, strlen(text), NULL, &r);
    ck_assert_int_eq(r.kind, PF_FRAME_EVENTS);
    ck_assert_int_eq(r.malformed, 0);
}

static pf_batch_t build(int max_tokens, int max_levels)
{
    pf_batch_opts_t o = { max_tokens, max_levels };
    pf_batch_t b;
    json_object *parsed;

    pf_batch_build(store, pf_test_pool, &o, &b);
    ck_assert_uint_eq(b.len, strlen(b.json));
    /* always valid, strict JSON (PostgreSQL's jsonb will take it) */
    ck_assert_msg(pf_json_parse(pf_test_pool, b.json, b.len, &parsed) == NULL, "%s", b.json);
    ck_assert_int_eq(json_object_array_length(parsed), b.count);
    return b;
}

static void dump_books(void)
{
    frame(apr_psprintf(pf_test_pool, "[%s,%s]",
                       pf_test_fixture_book_event("01-binary.json", YES_01, CID_01),
                       pf_test_fixture_book_event("01-binary.json", NO_01, CID_01)));
}

START_TEST(test_full_then_empty)
{
    pf_batch_t b;

    ck_assert_int_eq(build(0, 0).count, 0);
    ck_assert_str_eq(build(0, 0).json, "[]");
    dump_books();
    ck_assert_int_eq(pf_book_store_dirty_count(store), 2);
    b = build(0, 0);
    ck_assert_int_eq(b.count, 2);
    ck_assert_str_eq(b.json,
                     "[{\"token_id\":\"" YES_01 "\",\"best_bid\":\"0.53\",\"best_ask\":\"0.54\","
                     "\"midpoint\":\"0.5350\",\"last_trade_price\":\"0.53\",\"tick_size\":\"0.01\","
                     "\"bids\":[[\"0.53\",\"75\"],[\"0.52\",\"310.5\"],[\"0.5\",\"1200\"]],"
                     "\"asks\":[[\"0.54\",\"60\"],[\"0.55\",\"420\"],[\"0.58\",\"900\"]]},"
                     "{\"token_id\":\"" NO_01 "\",\"best_bid\":\"0.46\",\"best_ask\":\"0.47\","
                     "\"midpoint\":\"0.4650\",\"last_trade_price\":\"0.47\",\"tick_size\":\"0.01\","
                     "\"bids\":[[\"0.46\",\"60\"],[\"0.45\",\"420\"],[\"0.42\",\"900\"]],"
                     "\"asks\":[[\"0.47\",\"75\"],[\"0.48\",\"310.5\"],[\"0.5\",\"1200\"]]}]");
    ck_assert_int_eq(pf_book_store_dirty_count(store), 0);
    ck_assert_int_eq(build(0, 0).count, 0);
    /* the same snapshot again rewrites the depth but not unchanged values */
    frame(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));
    b = build(0, 0);
    ck_assert_int_eq(b.count, 1);
    ck_assert(strstr(b.json, "\"bids\":") && strstr(b.json, "\"asks\":"));
    ck_assert(!strstr(b.json, "best_bid") && !strstr(b.json, "last_trade_price")
              && !strstr(b.json, "tick_size"));
}
END_TEST

/* Only what changed is written; null clears. */
START_TEST(test_only_changes)
{
    pf_batch_t b;

    dump_books();
    build(0, 0);
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" NO_01 "\",\"price\":\"0.46\"}");
    b = build(0, 0);
    ck_assert_str_eq(b.json, "[{\"token_id\":\"" NO_01 "\",\"last_trade_price\":\"0.46\"}]");
    /* a deeper ask level changes: depth only, top of book unchanged */
    frame("{\"event_type\":\"price_change\",\"price_changes\":[{\"asset_id\":\"" YES_01 "\","
          "\"price\":\"0.58\",\"size\":\"100\",\"side\":\"SELL\"}]}");
    b = build(0, 0);
    ck_assert_str_eq(b.json, "[{\"token_id\":\"" YES_01 "\",\"asks\":[[\"0.54\",\"60\"],"
                             "[\"0.55\",\"420\"],[\"0.58\",\"100\"]]}]");
    /* the ask side empties: best_ask and midpoint are written as null */
    frame("{\"event_type\":\"price_change\",\"price_changes\":["
          "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.54\",\"size\":\"0\",\"side\":\"SELL\"},"
          "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.55\",\"size\":\"0\",\"side\":\"SELL\"},"
          "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.58\",\"size\":\"0\",\"side\":\"SELL\"}]}");
    b = build(0, 0);
    ck_assert_str_eq(b.json, "[{\"token_id\":\"" YES_01 "\",\"best_bid\":\"0.53\","
                             "\"best_ask\":null,\"midpoint\":null,\"asks\":[]}]");
    frame("{\"event_type\":\"tick_size_change\",\"asset_id\":\"" YES_01 "\","
          "\"new_tick_size\":\"0.001\"}");
    b = build(0, 0);
    ck_assert_str_eq(b.json, "[{\"token_id\":\"" YES_01 "\",\"tick_size\":\"0.001\"}]");
    /* a trade at the same price changes nothing */
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" NO_01 "\",\"price\":\"0.460\"}");
    ck_assert_int_eq(build(0, 0).count, 0);
}
END_TEST

/* A token with hints only (no snapshot yet): no depth, no tick. */
START_TEST(test_hint_only_token)
{
    pf_batch_t b;

    frame("{\"event_type\":\"best_bid_ask\",\"asset_id\":\"" YES_01 "\",\"best_bid\":\"0.5\","
          "\"best_ask\":\"0.52\"}");
    b = build(0, 0);
    ck_assert_str_eq(b.json, "[{\"token_id\":\"" YES_01 "\",\"best_bid\":\"0.5\","
                             "\"best_ask\":\"0.52\",\"midpoint\":\"0.5100\"}]");
}
END_TEST

START_TEST(test_cap_and_order)
{
    static const char *const extra[] = {
        "11111111111111111111111111111111111111111111111111111111111111111111111111101",
        "11111111111111111111111111111111111111111111111111111111111111111111111111102",
        "11111111111111111111111111111111111111111111111111111111111111111111111111103",
    };
    pf_batch_t b;
    int i;

    for (i = 0; i < 3; i++) {
        pf_book_store_add(store, extra[i], NULL);
    }
    /* dirty in this order: extra[2], YES, extra[0], NO, extra[1] */
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\""
          "11111111111111111111111111111111111111111111111111111111111111111111111111103"
          "\",\"price\":\"0.1\"}");
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" YES_01 "\",\"price\":\"0.2\"}");
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\""
          "11111111111111111111111111111111111111111111111111111111111111111111111111101"
          "\",\"price\":\"0.3\"}");
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" NO_01 "\",\"price\":\"0.4\"}");
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\""
          "11111111111111111111111111111111111111111111111111111111111111111111111111102"
          "\",\"price\":\"0.5\"}");
    /* a second change to an already dirty token keeps its place */
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" YES_01 "\",\"price\":\"0.25\"}");
    ck_assert_int_eq(pf_book_store_dirty_count(store), 5);
    b = build(2, 0);
    ck_assert_int_eq(b.count, 2);
    ck_assert_str_eq(b.items[0].token_id, extra[2]);
    ck_assert_str_eq(b.items[1].token_id, YES_01);
    ck_assert(strstr(b.json, "\"last_trade_price\":\"0.25\"") != NULL);
    ck_assert_int_eq(pf_book_store_dirty_count(store), 3);
    b = build(2, 0);
    ck_assert_str_eq(b.items[0].token_id, extra[0]);
    ck_assert_str_eq(b.items[1].token_id, NO_01);
    b = build(2, 0);
    ck_assert_int_eq(b.count, 1);
    ck_assert_str_eq(b.items[0].token_id, extra[1]);
    ck_assert_int_eq(build(2, 0).count, 0);
}
END_TEST

/* A failed write: the batch goes back in front, with newer changes merged. */
START_TEST(test_restore)
{
    pf_batch_t b, again;
    const char *first;

    dump_books();
    b = build(1, 0);
    first = b.json;
    ck_assert_str_eq(b.items[0].token_id, YES_01);
    ck_assert_int_eq(b.items[0].mask, PF_DIRTY_ALL);
    pf_batch_restore(store, &b);
    ck_assert_int_eq(pf_book_store_dirty_count(store), 2);
    again = build(1, 0);
    ck_assert_str_eq(again.json, first);
    /* fail again, while a new trade arrives for the same token */
    pf_batch_restore(store, &again);
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" YES_01 "\",\"price\":\"0.54\"}");
    again = build(0, 0);
    ck_assert_int_eq(again.count, 2);
    ck_assert_str_eq(again.items[0].token_id, YES_01);
    ck_assert(strstr(again.json, "\"last_trade_price\":\"0.54\"") != NULL);
    ck_assert(strstr(again.json, "\"bids\":") != NULL);
    /* restoring a removed token does nothing */
    pf_book_store_remove(store, YES_01);
    pf_batch_restore(store, &again);
    ck_assert_int_eq(pf_book_store_dirty_count(store), 1);
}
END_TEST

START_TEST(test_levels_cap_and_mark_all)
{
    pf_batch_t b;

    dump_books();
    b = build(0, 1);
    ck_assert(strstr(b.json, "\"bids\":[[\"0.53\",\"75\"]],\"asks\":[[\"0.54\",\"60\"]]") != NULL);
    ck_assert_int_eq(build(0, 0).count, 0);
    pf_book_store_mark_all_dirty(store);
    b = build(0, 0);
    ck_assert_int_eq(b.count, 2);
    ck_assert(strstr(b.json, "\"midpoint\":\"0.4650\"") != NULL);
    /* a removed token leaves the queue */
    frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" NO_01 "\",\"price\":\"0.4\"}");
    pf_book_store_remove(store, NO_01);
    ck_assert_int_eq(build(0, 0).count, 0);
}
END_TEST

Suite *pf_batch_suite(void)
{
    Suite *s = suite_create("pf_batch");
    TCase *tc = tcase_create("batch");
    tcase_add_checked_fixture(tc, setup, pf_test_teardown);
    tcase_add_test(tc, test_full_then_empty);
    tcase_add_test(tc, test_only_changes);
    tcase_add_test(tc, test_hint_only_token);
    tcase_add_test(tc, test_cap_and_order);
    tcase_add_test(tc, test_restore);
    tcase_add_test(tc, test_levels_cap_and_mark_all);
    suite_add_tcase(s, tc);
    return s;
}
