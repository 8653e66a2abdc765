#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

#include "pf_book.h"
#include "pf_json.h"
#include "pp_log.h"

extern apr_pool_t *pf_test_pool;
extern int pf_test_log_count[4];
void pf_test_setup(void);
void pf_test_teardown(void);
const char *pf_test_fixture_book_event(const char *name, const char *token, const char *market);

#define CID_01  "0x8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069afac"
#define YES_01  "21385994114023021512400530102266083579235915568060829493542345131067844826511"
#define NO_01   "37130064060700614639770746809654854432154239732903913772701496505119668518431"
#define YES_08  "17142542601254159300491483372519763263319728802335199860506507026775531318865"
#define CID_08  "0xc2d43faa7daefa9838fa6ae6b52cb4a4c54b748914b3ea63c3901ecc85d5ff14"
#define NT_08   "168311641623131498067621342091919855782978677332914873455836413889405539000917"
#define CID_082 "0x346b37fe1f3a470a8a028cd401adbe44232f2b6b803748fa33b826e8e7936e39"

static pf_book_store_t *store;

static void setup(void)
{
    pf_test_setup();
    store = pf_book_store_create(pf_test_pool);
    ck_assert_ptr_nonnull(pf_book_store_add(store, YES_01, CID_01));
    ck_assert_ptr_nonnull(pf_book_store_add(store, NO_01, CID_01));
}

static json_object *js(const char *text)
{
    json_object *o;
    const char *err = pf_json_parse(pf_test_pool, text, strlen(text), &o);
    ck_assert_msg(err == NULL, "%s: %s", text, err ? err : "");
    return o;
}

static pf_apply_t snap(const char *text)
{
    return pf_book_apply_snapshot(store, js(text), 1000);
}

static pf_apply_t change(const char *text)
{
    return pf_book_apply_price_change(store, js(text), 2000);
}

static pf_quote_t quote(const char *token)
{
    pf_quote_t q;
    pf_book_t *b = pf_book_store_get(store, token);
    ck_assert_ptr_nonnull(b);
    pf_book_quote(b, &q);
    return q;
}

static const char *depth(const char *token, pf_side_t side, int max)
{
    pf_buf_t b;
    pf_buf_init(&b, pf_test_pool, 16);
    pf_book_depth_json(pf_book_store_get(store, token), side, max, &b);
    return pf_buf_str(&b);
}

#define ck_null_or_str(got, want)              \
    do {                                       \
        if (want) ck_assert_str_eq(got, want); \
        else ck_assert_ptr_null(got);          \
    } while (0)

static void expect_top(const char *token, const char *bid, const char *ask, const char *mid)
{
    pf_quote_t q = quote(token);
    ck_null_or_str(q.best_bid, bid);
    ck_null_or_str(q.best_ask, ask);
    ck_null_or_str(q.midpoint, mid);
}

/* Fixture 01's book in wire order: bids ascending, asks descending, i.e.
 * the best level LAST. "first element" would read 0.50 / 0.58. */
START_TEST(test_snapshot_best_last)
{
    pf_quote_t q;

    ck_assert_int_eq(snap(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01)),
                     PF_APPLY_OK);
    expect_top(YES_01, "0.53", "0.54", "0.5350");
    q = quote(YES_01);
    ck_assert_str_eq(q.last_trade_price, "0.53");
    ck_assert_str_eq(q.tick_size, "0.01");
    ck_assert_int_eq(q.n_bids, 3);
    ck_assert_int_eq(q.n_asks, 3);
    ck_assert(q.has_snapshot);
    ck_assert_int_eq(q.updated_ms, 1000);
    ck_assert_str_eq(q.condition_id, CID_01);
    /* depth best first, in pp_apply_price_updates' [[price, size]] form */
    ck_assert_str_eq(depth(YES_01, PF_SIDE_BID, 0),
                     "[[\"0.53\",\"75\"],[\"0.52\",\"310.5\"],[\"0.5\",\"1200\"]]");
    ck_assert_str_eq(depth(YES_01, PF_SIDE_ASK, 0),
                     "[[\"0.54\",\"60\"],[\"0.55\",\"420\"],[\"0.58\",\"900\"]]");
    ck_assert_str_eq(depth(YES_01, PF_SIDE_ASK, 2), "[[\"0.54\",\"60\"],[\"0.55\",\"420\"]]");
    ck_assert_int_eq(pf_book_store_stats(store)->snapshots, 1);

    ck_assert_int_eq(snap(pf_test_fixture_book_event("01-binary.json", NO_01, CID_01)),
                     PF_APPLY_OK);
    expect_top(NO_01, "0.46", "0.47", "0.4650");
    ck_assert_str_eq(quote(NO_01).last_trade_price, "0.47");
}
END_TEST

/* The same book in the order the docs describe (best first) gives the same
 * answer: nothing depends on the position of a level. */
START_TEST(test_snapshot_order_independent)
{
    snap("{\"event_type\":\"book\",\"asset_id\":\"" YES_01 "\",\"market\":\"" CID_01 "\","
         "\"bids\":[{\"price\":\"0.53\",\"size\":\"75\"},{\"price\":\"0.50\",\"size\":\"1200\"},"
         "{\"price\":\"0.52\",\"size\":\"310.5\"}],"
         "\"asks\":[{\"price\":\"0.54\",\"size\":\"60\"},{\"price\":\"0.58\",\"size\":\"900\"},"
         "{\"price\":\"0.55\",\"size\":\"420\"}]}");
    expect_top(YES_01, "0.53", "0.54", "0.5350");
    ck_assert_str_eq(depth(YES_01, PF_SIDE_BID, 0),
                     "[[\"0.53\",\"75\"],[\"0.52\",\"310.5\"],[\"0.5\",\"1200\"]]");
}
END_TEST

/* Fixture 08: 0.001 ticks near 0.035; the NO token of 600802 has had no
 * trade (null in the fixture, sent as ""). */
START_TEST(test_snapshot_fixture_08)
{
    pf_book_store_add(store, YES_08, CID_08);
    pf_book_store_add(store, NT_08, CID_082);
    snap(pf_test_fixture_book_event("08-more-binaries.json", YES_08, CID_08));
    expect_top(YES_08, "0.034", "0.036", "0.0350");
    ck_assert_str_eq(quote(YES_08).tick_size, "0.001");
    snap(pf_test_fixture_book_event("08-more-binaries.json", NT_08, CID_082));
    expect_top(NT_08, "0.69", "0.71", "0.7000");
    ck_assert_ptr_null(quote(NT_08).last_trade_price);
    ck_assert(quote(NT_08).known & PF_DIRTY_LAST); /* known to be null */
}
END_TEST

START_TEST(test_numbers_as_json_numbers)
{
    snap("{\"event_type\":\"book\",\"asset_id\":\"" YES_01
         "\",\"bids\":[{\"price\":0.52,\"size\":310.5},"
         "{\"price\":0.53,\"size\":75}],\"asks\":[[0.55,420],[0.54,60]],\"tick_size\":0.01,"
         "\"last_trade_price\":0.53,\"timestamp\":1783459212345}");
    expect_top(YES_01, "0.53", "0.54", "0.5350");
    ck_assert_str_eq(quote(YES_01).tick_size, "0.01");
    ck_assert_str_eq(depth(YES_01, PF_SIDE_BID, 0), "[[\"0.53\",\"75\"],[\"0.52\",\"310.5\"]]");
    change("{\"event_type\":\"price_change\",\"price_changes\":[{\"asset_id\":\"" YES_01 "\","
           "\"price\":0.53,\"size\":0,\"side\":\"BUY\"}]}");
    expect_top(YES_01, "0.52", "0.54", "0.5300");
}
END_TEST

START_TEST(test_price_change_updates)
{
    snap(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));
    /* size "0" removes the best bid */
    ck_assert_int_eq(
        change(
            "{\"event_type\":\"price_change\",\"market\":\"" CID_01 "\","
            "\"price_changes\":[{\"asset_id\":\"" YES_01 "\",\"price\":\"0.53\",\"size\":\"0\","
            "\"side\":\"BUY\",\"hash\":\"56621a12\",\"best_bid\":\"0.52\",\"best_ask\":\"0.54\"}],"
            "\"timestamp\":\"1783459213001\"}"),
        PF_APPLY_OK);
    expect_top(YES_01, "0.52", "0.54", "0.5300");
    ck_assert_int_eq(quote(YES_01).n_bids, 2);
    /* "0.520" is the 0.52 level: updated in place, not duplicated */
    change("{\"event_type\":\"price_change\",\"price_changes\":[{\"asset_id\":\"" YES_01 "\","
           "\"price\":\"0.520\",\"size\":\"10\",\"side\":\"BUY\"}]}");
    ck_assert_int_eq(quote(YES_01).n_bids, 2);
    ck_assert_str_eq(depth(YES_01, PF_SIDE_BID, 0), "[[\"0.52\",\"10\"],[\"0.5\",\"1200\"]]");
    /* a better ask arrives */
    change("{\"event_type\":\"price_change\",\"price_changes\":[{\"asset_id\":\"" YES_01 "\","
           "\"price\":\".535\",\"size\":\"5\",\"side\":\"SELL\"}]}");
    expect_top(YES_01, "0.52", "0.535", "0.5275");
    /* removing a level that is not there changes nothing */
    change("{\"event_type\":\"price_change\",\"price_changes\":[{\"asset_id\":\"" YES_01 "\","
           "\"price\":\"0.41\",\"size\":\"0.000\",\"side\":\"SELL\"}]}");
    ck_assert_int_eq(quote(YES_01).n_asks, 4);
    /* empty the ask side: best ask and midpoint become null */
    change("{\"event_type\":\"price_change\",\"price_changes\":["
           "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.535\",\"size\":\"0\",\"side\":\"SELL\"},"
           "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.54\",\"size\":\"0\",\"side\":\"SELL\"},"
           "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.55\",\"size\":\"0\",\"side\":\"SELL\"},"
           "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.58\",\"size\":\"0\",\"side\":\"SELL\","
           "\"best_bid\":\"0.52\",\"best_ask\":\"\"}]}");
    expect_top(YES_01, "0.52", NULL, NULL);
    ck_assert_str_eq(depth(YES_01, PF_SIDE_ASK, 0), "[]");
    ck_assert_int_eq(quote(YES_01).resync, 0);
    ck_assert_int_eq(pf_book_store_stats(store)->hint_mismatches, 0);
}
END_TEST

/* One price_change carries entries for both tokens of the market. */
START_TEST(test_price_change_siblings)
{
    snap(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));
    snap(pf_test_fixture_book_event("01-binary.json", NO_01, CID_01));
    ck_assert_int_eq(
        change("{\"event_type\":\"price_change\",\"market\":\"" CID_01 "\","
               "\"price_changes\":["
               "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.535\",\"size\":\"40\",\"side\":\"BUY\","
               "\"best_bid\":\"0.535\",\"best_ask\":\"0.54\"},"
               "{\"asset_id\":\"" NO_01 "\",\"price\":\"0.465\",\"size\":\"40\",\"side\":\"SELL\","
               "\"best_bid\":\"0.46\",\"best_ask\":\"0.465\"}],\"timestamp\":\"1783459213001\"}"),
        PF_APPLY_OK);
    expect_top(YES_01, "0.535", "0.54", "0.5375");
    expect_top(NO_01, "0.46", "0.465", "0.4625");
    ck_assert_int_eq(quote(YES_01).updated_ms, 2000);
    ck_assert_int_eq(quote(NO_01).updated_ms, 2000);
    ck_assert_int_eq(pf_book_store_stats(store)->level_updates, 2);
}
END_TEST

/* The pre-2025-09 form: asset_id at the top, "changes" without it. */
START_TEST(test_price_change_old_schema)
{
    snap(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));
    ck_assert_int_eq(change("{\"event_type\":\"price_change\",\"asset_id\":\"" YES_01 "\","
                            "\"changes\":[{\"price\":\"0.54\",\"side\":\"SELL\",\"size\":\"0\"}]}"),
                     PF_APPLY_OK);
    expect_top(YES_01, "0.53", "0.55", "0.5400");
}
END_TEST

START_TEST(test_malformed_levels)
{
    const pf_book_stats_t *st = pf_book_store_stats(store);

    ck_assert_int_eq(
        snap("{\"event_type\":\"book\",\"asset_id\":\"" YES_01 "\",\"bids\":["
             "{\"price\":\"-0.1\",\"size\":\"5\"},{\"price\":\"1.5\",\"size\":\"5\"},"
             "{\"price\":\"abc\",\"size\":\"5\"},{\"price\":\"0.4\",\"size\":\"-3\"},"
             "{\"price\":\"0\",\"size\":\"5\"},{\"price\":\"1\",\"size\":\"5\"},"
             "{\"price\":\"NaN\",\"size\":\"5\"},{\"price\":\"0.4\"},[\"0.4\"],\"0.4\",null,"
             "{\"price\":true,\"size\":\"5\"},{\"price\":\"0.45\",\"size\":\"1e999\"},"
             "{\"price\":\"0.45\",\"size\":\"\"},{\"price\":\"0.30\",\"size\":\"0\"},"
             "{\"price\":\"0.41\",\"size\":\"7\"},[\"0.42\",\"8\"]],\"asks\":[]}"),
        PF_APPLY_OK);
    ck_assert_int_eq(st->rejected, 14);
    expect_top(YES_01, "0.42", NULL, NULL);
    ck_assert_str_eq(depth(YES_01, PF_SIDE_BID, 0), "[[\"0.42\",\"8\"],[\"0.41\",\"7\"]]");
    /* bad price_change entries are skipped, good ones in the same message apply */
    ck_assert_int_eq(
        change("{\"event_type\":\"price_change\",\"price_changes\":["
               "{\"asset_id\":\"" YES_01 "\",\"price\":\"2\",\"size\":\"1\",\"side\":\"BUY\"},"
               "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.43\",\"size\":\"1\",\"side\":\"HOLD\"},"
               "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.43\",\"size\":\"x\",\"side\":\"BUY\"},"
               "{\"asset_id\":\"abc\",\"price\":\"0.43\",\"size\":\"1\",\"side\":\"BUY\"},"
               "{\"price\":\"0.43\",\"size\":\"1\",\"side\":\"BUY\"},\"junk\","
               "{\"asset_id\":\"" YES_01
               "\",\"price\":\"0.6\",\"size\":\"3\",\"side\":\"sell\"}]}"),
        PF_APPLY_OK);
    ck_assert_int_eq(st->rejected, 20);
    expect_top(YES_01, "0.42", "0.6", "0.5100");
    /* nothing usable at all */
    ck_assert_int_eq(change("{\"event_type\":\"price_change\",\"price_changes\":["
                            "{\"asset_id\":\"" YES_01
                            "\",\"price\":\"2\",\"size\":\"1\",\"side\":\"BUY\"}]}"),
                     PF_APPLY_MALFORMED);
    ck_assert_int_eq(change("{\"event_type\":\"price_change\",\"price_changes\":{}}"),
                     PF_APPLY_MALFORMED);
    ck_assert_int_eq(change("{\"event_type\":\"price_change\"}"), PF_APPLY_MALFORMED);
    ck_assert_int_gt(pf_test_log_count[PP_LOG_WARN], 0);
}
END_TEST

START_TEST(test_malformed_snapshot_keeps_state)
{
    snap(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));
    ck_assert_int_eq(snap("{\"event_type\":\"book\",\"asset_id\":\"" YES_01 "\","
                          "\"bids\":{},\"asks\":[]}"),
                     PF_APPLY_MALFORMED);
    ck_assert_int_eq(snap("{\"event_type\":\"book\",\"asset_id\":\"" YES_01 "\","
                          "\"bids\":[],\"asks\":\"[]\"}"),
                     PF_APPLY_MALFORMED);
    ck_assert_int_eq(snap("{\"event_type\":\"book\",\"bids\":[],\"asks\":[]}"), PF_APPLY_MALFORMED);
    ck_assert_int_eq(snap("{\"event_type\":\"book\",\"asset_id\":123,\"bids\":[]}"),
                     PF_APPLY_MALFORMED);
    expect_top(YES_01, "0.53", "0.54", "0.5350");
    ck_assert_int_eq(pf_book_store_stats(store)->malformed, 4);
    /* a snapshot without asks, old buys/sells names, bad tick and "" trade */
    ck_assert_int_eq(snap("{\"event_type\":\"book\",\"asset_id\":\"" YES_01 "\","
                          "\"buys\":[{\"price\":\"0.3\",\"size\":\"1\"}],\"tick_size\":\"0\","
                          "\"last_trade_price\":\"\"}"),
                     PF_APPLY_OK);
    expect_top(YES_01, "0.3", NULL, NULL);
    ck_assert_str_eq(quote(YES_01).tick_size, "0.01");  /* kept */
    ck_assert_ptr_null(quote(YES_01).last_trade_price); /* "" is null */
}
END_TEST

START_TEST(test_duplicate_levels_last_wins)
{
    snap("{\"event_type\":\"book\",\"asset_id\":\"" YES_01 "\",\"bids\":["
         "{\"price\":\"0.5\",\"size\":\"1\"},{\"price\":\"0.50\",\"size\":\"2\"}],"
         "\"asks\":[{\"price\":\"0.6\",\"size\":\"3\"},{\"price\":\"0.60\",\"size\":\"0\"}]}");
    ck_assert_str_eq(depth(YES_01, PF_SIDE_BID, 0), "[[\"0.5\",\"2\"]]");
    /* a zero-size level in a snapshot is simply not there */
    ck_assert_str_eq(depth(YES_01, PF_SIDE_ASK, 0), "[[\"0.6\",\"3\"]]");
}
END_TEST

START_TEST(test_last_trade_and_tick)
{
    pf_book_t *b = pf_book_store_get(store, YES_01);
    json_object *o;

    ck_assert_int_eq(pf_book_apply_last_trade(
                         store,
                         js("{\"event_type\":\"last_trade_price\","
                            "\"asset_id\":\"" YES_01 "\",\"market\":\"" CID_01
                            "\",\"price\":\"0.54\","
                            "\"size\":\"219.217767\",\"fee_rate_bps\":\"0\",\"side\":\"BUY\","
                            "\"timestamp\":\"1783459214500\"}"),
                         3000),
                     PF_APPLY_OK);
    ck_assert_str_eq(quote(YES_01).last_trade_price, "0.54");
    ck_assert_int_eq(quote(YES_01).updated_ms, 3000);
    ck_assert(!quote(YES_01).has_snapshot);
    ck_assert_int_eq(pf_book_apply_last_trade(store,
                                              js("{\"asset_id\":\"" YES_01 "\","
                                                 "\"price\":0.55}"),
                                              3000),
                     PF_APPLY_OK);
    ck_assert_str_eq(quote(YES_01).last_trade_price, "0.55");
    o = js("{\"asset_id\":\"" YES_01 "\",\"price\":\"\"}");
    ck_assert_int_eq(pf_book_apply_last_trade(store, o, 1), PF_APPLY_MALFORMED);
    o = js("{\"asset_id\":\"" YES_01 "\",\"price\":\"1.5\"}");
    ck_assert_int_eq(pf_book_apply_last_trade(store, o, 1), PF_APPLY_MALFORMED);
    ck_assert_str_eq(quote(YES_01).last_trade_price, "0.55");

    ck_assert_ptr_null(quote(YES_01).tick_size);
    ck_assert_int_eq(
        pf_book_apply_tick_size_change(
            store,
            js("{\"event_type\":"
               "\"tick_size_change\",\"asset_id\":\"" YES_01 "\",\"market\":\"" CID_01 "\","
               "\"old_tick_size\":\"0.01\",\"new_tick_size\":\"0.001\",\"timestamp\":\"1\"}"),
            4000),
        PF_APPLY_OK);
    ck_assert_str_eq(quote(YES_01).tick_size, "0.001");
    ck_assert_int_eq(pf_book_apply_tick_size_change(store,
                                                    js("{\"asset_id\":\"" YES_01 "\","
                                                       "\"new_tick_size\":\"0\"}"),
                                                    1),
                     PF_APPLY_MALFORMED);
    ck_assert_int_eq(pf_book_apply_tick_size_change(store,
                                                    js("{\"asset_id\":\"" YES_01 "\","
                                                       "\"new_tick_size\":\"\"}"),
                                                    1),
                     PF_APPLY_MALFORMED);
    ck_assert_str_eq(quote(YES_01).tick_size, "0.001");
    ck_assert_int_eq(pf_book_store_stats(store)->tick_changes, 1);
    (void)b;
}
END_TEST

START_TEST(test_unknown_asset_and_stale)
{
    const char *other =
        "99999999999999999999999999999999999999999999999999999999999999999999999999999";
    ck_assert_int_eq(snap(apr_psprintf(pf_test_pool,
                                       "{\"event_type\":\"book\",\"asset_id\":\"%s\","
                                       "\"bids\":[],\"asks\":[]}",
                                       other)),
                     PF_APPLY_IGNORED);
    ck_assert_int_eq(change(apr_psprintf(pf_test_pool,
                                         "{\"price_changes\":[{\"asset_id\":\"%s\","
                                         "\"price\":\"0.5\",\"size\":\"1\",\"side\":\"BUY\"}]}",
                                         other)),
                     PF_APPLY_IGNORED);
    ck_assert_int_eq(pf_book_store_stats(store)->unknown_asset, 2);
    ck_assert_ptr_null(pf_book_store_get(store, other));

    snap("{\"asset_id\":\"" YES_01 "\",\"bids\":[[\"0.5\",\"1\"]],\"asks\":[],"
         "\"timestamp\":\"1783459212345\"}");
    /* an older snapshot (a REST reply racing the socket) is ignored */
    ck_assert_int_eq(snap("{\"asset_id\":\"" YES_01 "\",\"bids\":[[\"0.4\",\"1\"]],\"asks\":[],"
                          "\"timestamp\":\"1783459212000\"}"),
                     PF_APPLY_IGNORED);
    expect_top(YES_01, "0.5", NULL, NULL);
    ck_assert_int_eq(pf_book_store_stats(store)->stale_snapshots, 1);
    ck_assert_int_eq(snap("{\"asset_id\":\"" YES_01 "\",\"bids\":[[\"0.45\",\"1\"]],\"asks\":[],"
                          "\"timestamp\":\"1783459212345\"}"),
                     PF_APPLY_OK);
    ck_assert_int_eq(snap("{\"asset_id\":\"" YES_01 "\",\"bids\":[[\"0.44\",\"1\"]],\"asks\":[]}"),
                     PF_APPLY_OK);
    expect_top(YES_01, "0.44", NULL, NULL);
}
END_TEST

/* Before a snapshot the hints are the top of book and level updates wait;
 * afterwards the levels rule and a disagreeing hint asks for a re-snapshot. */
START_TEST(test_hints)
{
    apr_array_header_t *rs;

    change("{\"event_type\":\"price_change\",\"price_changes\":[{\"asset_id\":\"" YES_01 "\","
           "\"price\":\"0.53\",\"size\":\"10\",\"side\":\"BUY\",\"best_bid\":\"0.53\","
           "\"best_ask\":\"0.55\"}]}");
    expect_top(YES_01, "0.53", "0.55", "0.5400");
    ck_assert_int_eq(quote(YES_01).n_bids, 0);
    ck_assert_int_eq(
        pf_book_apply_best_bid_ask(store,
                                   js("{\"event_type\":\"best_bid_ask\","
                                      "\"market\":\"" CID_01 "\",\"asset_id\":\"" YES_01
                                      "\",\"best_bid\":\"0.52\","
                                      "\"best_ask\":\"\",\"spread\":\"\",\"timestamp\":\"1\"}"),
                                   5),
        PF_APPLY_OK);
    expect_top(YES_01, "0.52", NULL, NULL);
    ck_assert_int_eq(pf_book_apply_best_bid_ask(store,
                                                js("{\"asset_id\":\"" YES_01 "\","
                                                   "\"best_bid\":\"x\"}"),
                                                5),
                     PF_APPLY_MALFORMED);

    snap(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));
    expect_top(YES_01, "0.53", "0.54", "0.5350");
    pf_book_apply_best_bid_ask(store,
                               js("{\"asset_id\":\"" YES_01 "\",\"best_bid\":\"0.53\","
                                  "\"best_ask\":\"0.54\"}"),
                               6);
    ck_assert(!quote(YES_01).resync);
    pf_book_apply_best_bid_ask(store,
                               js("{\"asset_id\":\"" YES_01 "\",\"best_bid\":\"0.51\","
                                  "\"best_ask\":\"0.54\"}"),
                               6);
    expect_top(YES_01, "0.53", "0.54", "0.5350"); /* levels still rule */
    ck_assert(quote(YES_01).resync);
    ck_assert_int_eq(pf_book_store_stats(store)->hint_mismatches, 1);
    rs = pf_book_store_take_resync(store, pf_test_pool);
    ck_assert_int_eq(rs->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(rs, 0, const char *), YES_01);
    ck_assert(!quote(YES_01).resync);
    ck_assert_int_eq(pf_book_store_take_resync(store, pf_test_pool)->nelts, 0);
}
END_TEST

START_TEST(test_rest_books)
{
    int applied = -1;
    const char *body = apr_psprintf(
        pf_test_pool,
        "[%s,{\"market\":\"" CID_01 "\",\"asset_id\":\"" NO_01 "\","
        "\"timestamp\":\"1783459212345\",\"hash\":\"3f2a\",\"bids\":[{\"price\":\"0.45\",\"size\":\"1\"}],"
        "\"asks\":[{\"price\":\"0.48\",\"size\":\"1\"}],\"min_order_size\":\"5\",\"tick_size\":\"0.01\","
        "\"neg_risk\":false,\"last_trade_price\":\"0.47\"}]",
        pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));
    const char *html = "<html>Attention Required! | Cloudflare</html>";
    const char *err = "{\"error\":\"No orderbook exists for the requested token id\"}";

    ck_assert_ptr_null(pf_book_apply_rest_books(store, pf_test_pool, body, strlen(body), 7,
                                                &applied));
    ck_assert_int_eq(applied, 2);
    expect_top(YES_01, "0.53", "0.54", "0.5350");
    expect_top(NO_01, "0.45", "0.48", "0.4650");
    ck_assert_str_eq(pf_book_apply_rest_books(store, pf_test_pool, err, strlen(err), 7, &applied),
                     "error response: No orderbook exists for the requested token id");
    ck_assert_int_eq(applied, 0);
    ck_assert_ptr_nonnull(pf_book_apply_rest_books(store, pf_test_pool, html, strlen(html), 7,
                                                   &applied));
    body = "{\"asset_id\":\"" NO_01 "\",\"bids\":[],\"asks\":[],\"timestamp\":\"1783459212999\"}";
    ck_assert_ptr_null(pf_book_apply_rest_books(store, pf_test_pool, body, strlen(body), 7,
                                                &applied));
    ck_assert_int_eq(applied, 1);
    expect_top(NO_01, NULL, NULL, NULL);
}
END_TEST

START_TEST(test_store_add_remove)
{
    pf_book_t *b;

    ck_assert_ptr_null(pf_book_store_add(store, "0x12", NULL));
    ck_assert_ptr_null(pf_book_store_add(store, "", NULL));
    ck_assert_ptr_eq(pf_book_store_add(store, YES_01, NULL), pf_book_store_get(store, YES_01));
    ck_assert_int_eq(pf_book_store_count(store), 2);
    snap(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));
    ck_assert_int_gt(pf_book_store_dirty_count(store), 0);
    ck_assert(pf_book_store_remove(store, YES_01));
    ck_assert(!pf_book_store_remove(store, YES_01));
    ck_assert_int_eq(pf_book_store_count(store), 1);
    ck_assert_int_eq(pf_book_store_dirty_count(store), 0);
    /* the recycled book starts empty */
    b = pf_book_store_add(store, YES_08, CID_08);
    ck_assert_ptr_nonnull(b);
    expect_top(YES_08, NULL, NULL, NULL);
    ck_assert(!quote(YES_08).has_snapshot);
    ck_assert_int_eq(quote(YES_08).n_bids, 0);
    ck_assert_int_eq(quote(YES_08).known, 0);
    ck_assert_str_eq(quote(YES_08).condition_id, CID_08);
    snap(pf_test_fixture_book_event("08-more-binaries.json", YES_08, CID_08));
    expect_top(YES_08, "0.034", "0.036", "0.0350");
}
END_TEST

START_TEST(test_set_level)
{
    pf_book_t *b = pf_book_store_get(store, YES_01);

    ck_assert(!pf_book_set_level(b, PF_SIDE_BID, "0.5", "1")); /* no snapshot yet */
    snap("{\"asset_id\":\"" YES_01 "\",\"bids\":[],\"asks\":[]}");
    ck_assert(pf_book_set_level(b, PF_SIDE_BID, "0.5", "1"));
    ck_assert(pf_book_set_level(b, PF_SIDE_ASK, "0.6", "1"));
    ck_assert(!pf_book_set_level(b, PF_SIDE_ASK, "1.2", "1"));
    ck_assert(!pf_book_set_level(b, PF_SIDE_ASK, "0.7", "-1"));
    expect_top(YES_01, "0.5", "0.6", "0.5500");
    ck_assert(pf_book_set_level(b, PF_SIDE_BID, "0.5", "0"));
    expect_top(YES_01, NULL, "0.6", NULL);
}
END_TEST

/* Many levels inserted out of order stay sorted. */
START_TEST(test_many_levels)
{
    pf_book_t *b = pf_book_store_get(store, YES_01);
    int i;
    char price[16];

    snap("{\"asset_id\":\"" YES_01 "\",\"bids\":[],\"asks\":[]}");
    for (i = 0; i < 500; i++) {
        int k = (i * 7919) % 499 + 1; /* a permutation of 1..499 */
        snprintf(price, sizeof(price), "0.%03d", k);
        ck_assert(pf_book_set_level(b, k < 250 ? PF_SIDE_BID : PF_SIDE_ASK, price, "1"));
    }
    expect_top(YES_01, "0.249", "0.25", "0.2495");
    ck_assert_int_eq(quote(YES_01).n_bids, 249);
    ck_assert_int_eq(quote(YES_01).n_asks, 250);
}
END_TEST

Suite *pf_book_suite(void)
{
    Suite *s = suite_create("pf_book");
    TCase *tc = tcase_create("book");
    tcase_add_checked_fixture(tc, setup, pf_test_teardown);
    tcase_add_test(tc, test_snapshot_best_last);
    tcase_add_test(tc, test_snapshot_order_independent);
    tcase_add_test(tc, test_snapshot_fixture_08);
    tcase_add_test(tc, test_numbers_as_json_numbers);
    tcase_add_test(tc, test_price_change_updates);
    tcase_add_test(tc, test_price_change_siblings);
    tcase_add_test(tc, test_price_change_old_schema);
    tcase_add_test(tc, test_malformed_levels);
    tcase_add_test(tc, test_malformed_snapshot_keeps_state);
    tcase_add_test(tc, test_duplicate_levels_last_wins);
    tcase_add_test(tc, test_last_trade_and_tick);
    tcase_add_test(tc, test_unknown_asset_and_stale);
    tcase_add_test(tc, test_hints);
    tcase_add_test(tc, test_rest_books);
    tcase_add_test(tc, test_store_add_remove);
    tcase_add_test(tc, test_set_level);
    tcase_add_test(tc, test_many_levels);
    suite_add_tcase(s, tc);
    return s;
}
