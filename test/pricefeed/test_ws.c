#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <string.h>

#include "pf_json.h"
#include "pp_log.h"
#include "pf_ws.h"

extern apr_pool_t *pf_test_pool;
extern int pf_test_log_count[4];
void pf_test_setup(void);
void pf_test_teardown(void);
const char *pf_test_fixture_book_event(const char *name, const char *token, const char *market);

#define CID_01 "0x8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069afac"
#define YES_01 "21385994114023021512400530102266083579235915568060829493542345131067844826511"
#define NO_01  "37130064060700614639770746809654854432154239732903913772701496505119668518431"

static pf_book_store_t *store;
static pf_ws_stats_t stats;
static pf_ws_ctx_t ctx;
static int n_new, n_resolved;
static pf_market_t last_new;
static pf_ws_resolved_t last_resolved;

static void on_new(void *baton, const pf_market_t *m)
{
    (void)baton;
    n_new++;
    last_new = *m;
}

static void on_resolved(void *baton, const pf_ws_resolved_t *r)
{
    (void)baton;
    n_resolved++;
    last_resolved = *r;
}

static void setup(void)
{
    pf_test_setup();
    store = pf_book_store_create(pf_test_pool);
    pf_book_store_add(store, YES_01, CID_01);
    pf_book_store_add(store, NO_01, CID_01);
    memset(&stats, 0, sizeof(stats));
    memset(&ctx, 0, sizeof(ctx));
    ctx.now_ms = 42;
    ctx.on_new_market = on_new;
    ctx.on_market_resolved = on_resolved;
    ctx.stats = &stats;
    n_new = n_resolved = 0;
}

static pf_frame_result_t frame(const char *text)
{
    pf_frame_result_t r;
    pf_ws_handle_frame(store, pf_test_pool, text, strlen(text), &ctx, &r);
    return r;
}

static pf_quote_t quote(const char *token)
{
    pf_quote_t q;
    pf_book_quote(pf_book_store_get(store, token), &q);
    return q;
}

/* The initial dump: one array holding a book per asset. */
START_TEST(test_frame_array)
{
    const char *text = apr_psprintf(pf_test_pool, "[%s,%s]",
                                    pf_test_fixture_book_event("01-binary.json", YES_01, CID_01),
                                    pf_test_fixture_book_event("01-binary.json", NO_01, CID_01));
    pf_frame_result_t r = frame(text);

    ck_assert_int_eq(r.kind, PF_FRAME_EVENTS);
    ck_assert_int_eq(r.events, 2);
    ck_assert_int_eq(r.applied, 2);
    ck_assert_str_eq(quote(YES_01).best_bid, "0.53");
    ck_assert_str_eq(quote(NO_01).best_ask, "0.47");
    ck_assert_int_eq(quote(NO_01).updated_ms, 42);
    ck_assert_int_eq(stats.events[PF_EV_BOOK], 2);
    ck_assert_int_eq(stats.frames, 1);
}
END_TEST

START_TEST(test_frame_object)
{
    pf_frame_result_t r = frame(pf_test_fixture_book_event("01-binary.json", YES_01, CID_01));

    ck_assert_int_eq(r.kind, PF_FRAME_EVENTS);
    ck_assert_int_eq(r.events, 1);
    ck_assert_int_eq(r.applied, 1);
    ck_assert_str_eq(quote(YES_01).midpoint, "0.5350");
    r = frame("[]");
    ck_assert_int_eq(r.kind, PF_FRAME_EVENTS);
    ck_assert_int_eq(r.events, 0);
}
END_TEST

START_TEST(test_pong_and_junk)
{
    ck_assert_str_eq(PF_WS_PING, "PING");
    ck_assert_int_eq(frame("PONG").kind, PF_FRAME_PONG);
    ck_assert_int_eq(frame(" pong\r\n").kind, PF_FRAME_PONG);
    ck_assert_int_eq(frame("").kind, PF_FRAME_EMPTY);
    ck_assert_int_eq(frame(" \n").kind, PF_FRAME_EMPTY);
    ck_assert_int_eq(frame("PONGPONG").kind, PF_FRAME_INVALID);
    ck_assert_int_eq(frame("INVALID OPERATION").kind, PF_FRAME_INVALID);
    ck_assert_int_eq(frame("\"PONG\"").kind, PF_FRAME_INVALID);
    ck_assert_int_eq(frame("42").kind, PF_FRAME_INVALID);
    ck_assert_int_eq(frame("{\"event_type\":\"book\"").kind, PF_FRAME_INVALID);
    /* duplicate keys: json-c would silently keep the last price */
    ck_assert_int_eq(frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" YES_01 "\","
                           "\"price\":\"0.5\",\"price\":\"0.9\"}")
                         .kind,
                     PF_FRAME_INVALID);
    /* an integer json-c would clamp */
    ck_assert_int_eq(frame("{\"event_type\":\"book\",\"asset_id\":\"" YES_01 "\",\"bids\":"
                           "[{\"price\":\"0.5\",\"size\":99999999999999999999}]}")
                         .kind,
                     PF_FRAME_INVALID);
    ck_assert_int_eq(stats.pongs, 2);
    ck_assert_int_eq(stats.invalid_frames, 7);
    ck_assert_ptr_null(quote(YES_01).last_trade_price);
    ck_assert_int_gt(pf_test_log_count[PP_LOG_WARN], 0);
    ck_assert(pf_ws_is_pong("PONG", 4));
    ck_assert(!pf_ws_is_pong("PING", 4));
}
END_TEST

START_TEST(test_unknown_events)
{
    pf_frame_result_t r = frame("[{\"event_type\":\"something_new\",\"asset_id\":\"" YES_01 "\"},"
                                "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.5\"},"
                                "{\"event_type\":5},\"text\",null,[],"
                                "{\"event_type\":\"last_trade_price\",\"asset_id\":\"" YES_01 "\","
                                "\"price\":\"0.51\",\"side\":\"SELL\"}]");

    ck_assert_int_eq(r.kind, PF_FRAME_EVENTS);
    ck_assert_int_eq(r.events, 7);
    ck_assert_int_eq(r.unknown, 3);
    ck_assert_int_eq(r.malformed, 3);
    ck_assert_int_eq(r.applied, 1);
    ck_assert_int_eq(stats.events[PF_EV_UNKNOWN], 3);
    ck_assert_int_eq(stats.events[PF_EV_LAST_TRADE_PRICE], 1);
    ck_assert_int_eq(stats.malformed, 3);
    ck_assert_str_eq(quote(YES_01).last_trade_price, "0.51");
    ck_assert_int_eq(pf_ws_event_type("tick_size_change"), PF_EV_TICK_SIZE_CHANGE);
    ck_assert_int_eq(pf_ws_event_type("Book"), PF_EV_UNKNOWN);
    ck_assert_int_eq(pf_ws_event_type(NULL), PF_EV_UNKNOWN);
    ck_assert_str_eq(pf_ws_event_name(PF_EV_BEST_BID_ASK), "best_bid_ask");
}
END_TEST

/* A stream like the fake server's: price_change with a "0" delete and an
 * entry for the sibling token, a trade, a tick change, best_bid_ask, and
 * "" decimals; numbers as strings, then as JSON numbers. */
START_TEST(test_stream)
{
    pf_frame_result_t r;

    frame(apr_psprintf(pf_test_pool, "[%s,%s]",
                       pf_test_fixture_book_event("01-binary.json", YES_01, CID_01),
                       pf_test_fixture_book_event("01-binary.json", NO_01, CID_01)));
    r = frame("{\"event_type\":\"price_change\",\"market\":\"" CID_01 "\",\"price_changes\":["
              "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.53\",\"size\":\"0\",\"side\":\"BUY\","
              "\"hash\":\"a\",\"best_bid\":\"0.52\",\"best_ask\":\"0.54\"},"
              "{\"asset_id\":\"" NO_01 "\",\"price\":\"0.47\",\"size\":\"0\",\"side\":\"SELL\","
              "\"hash\":\"b\",\"best_bid\":\"0.46\",\"best_ask\":\"0.48\"}],"
              "\"timestamp\":\"1783459213001\"}");
    ck_assert_int_eq(r.applied, 1);
    ck_assert_str_eq(quote(YES_01).best_bid, "0.52");
    ck_assert_str_eq(quote(YES_01).midpoint, "0.5300");
    ck_assert_str_eq(quote(NO_01).best_ask, "0.48");
    ck_assert_str_eq(quote(NO_01).midpoint, "0.4700");
    ck_assert(!quote(YES_01).resync && !quote(NO_01).resync);

    r = frame("{\"event_type\":\"last_trade_price\",\"asset_id\":\"" YES_01
              "\",\"market\":\"" CID_01
              "\",\"price\":\"0.54\",\"size\":\"219.217767\",\"fee_rate_bps\":\"0\","
              "\"side\":\"BUY\",\"timestamp\":\"1783459214500\",\"transaction_hash\":\"0x5b\"}");
    ck_assert_int_eq(r.applied, 1);
    ck_assert_str_eq(quote(YES_01).last_trade_price, "0.54");

    r = frame("{\"event_type\":\"tick_size_change\",\"asset_id\":\"" YES_01
              "\",\"market\":\"" CID_01 "\",\"old_tick_size\":\"0.01\",\"new_tick_size\":\"0.001\","
              "\"timestamp\":\"1783459215000\"}");
    ck_assert_int_eq(r.applied, 1);
    ck_assert_str_eq(quote(YES_01).tick_size, "0.001");

    r = frame("{\"event_type\":\"best_bid_ask\",\"market\":\"" CID_01 "\",\"asset_id\":\"" YES_01
              "\",\"best_bid\":\"0.52\",\"best_ask\":\"0.54\",\"spread\":\"0.02\","
              "\"timestamp\":\"1783459213002\"}");
    ck_assert_int_eq(r.applied, 1);
    ck_assert(!quote(YES_01).resync);

    /* the numbers style: decimals as JSON numbers */
    r = frame("{\"event_type\":\"price_change\",\"market\":\"" CID_01 "\",\"price_changes\":["
              "{\"asset_id\":\"" YES_01 "\",\"price\":0.535,\"size\":12.5,\"side\":\"BUY\","
              "\"best_bid\":0.535,\"best_ask\":0.54}],\"timestamp\":\"1783459216000\"}");
    ck_assert_int_eq(r.applied, 1);
    ck_assert_str_eq(quote(YES_01).best_bid, "0.535");
    ck_assert_str_eq(quote(YES_01).midpoint, "0.5375");
    r = frame("{\"event_type\":\"tick_size_change\",\"asset_id\":\"" YES_01 "\","
              "\"new_tick_size\":0.01}");
    ck_assert_str_eq(quote(YES_01).tick_size, "0.01");

    /* "" decimals: an emptied side in the hints */
    r = frame("{\"event_type\":\"price_change\",\"market\":\"" CID_01 "\",\"price_changes\":["
              "{\"asset_id\":\"" NO_01 "\",\"price\":\"0.46\",\"size\":\"0\",\"side\":\"BUY\","
              "\"best_bid\":\"0.45\",\"best_ask\":\"0.48\"},"
              "{\"asset_id\":\"" NO_01 "\",\"price\":\"0.45\",\"size\":\"0\",\"side\":\"BUY\","
              "\"best_bid\":\"0.42\",\"best_ask\":\"0.48\"},"
              "{\"asset_id\":\"" NO_01 "\",\"price\":\"0.42\",\"size\":\"0\",\"side\":\"BUY\","
              "\"best_bid\":\"\",\"best_ask\":\"0.48\"}]}");
    ck_assert_ptr_null(quote(NO_01).best_bid);
    ck_assert_ptr_null(quote(NO_01).midpoint);
    ck_assert_str_eq(quote(NO_01).best_ask, "0.48");
    ck_assert(!quote(NO_01).resync);
    ck_assert_int_eq(stats.events[PF_EV_PRICE_CHANGE], 3);
    ck_assert_int_eq(stats.events[PF_EV_TICK_SIZE_CHANGE], 2);
}
END_TEST

START_TEST(test_new_market)
{
    pf_frame_result_t r = frame(
        "{\"event_type\":\"new_market\",\"id\":\"512399\","
        "\"question\":\"Will it rain?\",\"market\":\"" CID_01 "\",\"slug\":\"rain\","
        "\"description\":\"\",\"assets_ids\":[\"" YES_01 "\",\"" NO_01 "\"],"
        "\"outcomes\":[\"Yes\",\"No\"],\"event_message\":{\"id\":\"34568\",\"ticker\":\"t\","
        "\"slug\":\"s\",\"title\":\"T\",\"description\":\"\"},\"timestamp\":\"1783459300000\","
        "\"tags\":[\"Weather\"],\"condition_id\":\"" CID_01 "\",\"active\":true,"
        "\"clob_token_ids\":[\"" YES_01 "\",\"" NO_01 "\"],"
        "\"order_price_min_tick_size\":\"0.01\",\"fees_enabled\":false}");

    ck_assert_int_eq(r.applied, 1);
    ck_assert_int_eq(n_new, 1);
    ck_assert_str_eq(last_new.condition_id, CID_01);
    ck_assert_str_eq(last_new.question, "Will it rain?");
    ck_assert_int_eq(last_new.n_tokens, 2);
    ck_assert(last_new.tradable);
    ck_assert_ptr_nonnull(last_new.tokens_json);
    r = frame("{\"event_type\":\"new_market\",\"market\":\"nope\"}");
    ck_assert_int_eq(r.malformed, 1);
    ck_assert_int_eq(n_new, 1);
}
END_TEST

START_TEST(test_market_resolved)
{
    pf_frame_result_t r =
        frame("{\"event_type\":\"market_resolved\",\"id\":\"600101\","
              "\"market\":\"" CID_01 "\",\"assets_ids\":[\"" YES_01 "\",\"" NO_01 "\"],"
              "\"outcomes\":[\"Yes\",\"No\"],\"winning_asset_id\":\"" NO_01 "\","
              "\"winning_outcome\":\"Yes\",\"timestamp\":\"1783540000000\",\"tags\":[]}");

    ck_assert_int_eq(r.applied, 1);
    ck_assert_int_eq(n_resolved, 1);
    ck_assert_str_eq(last_resolved.condition_id, CID_01);
    /* the winner is the asset id, whatever the label says */
    ck_assert_int_eq(last_resolved.hint.kind, PF_RES_WINNER);
    ck_assert_str_eq(last_resolved.hint.winning_token_id, NO_01);
    ck_assert_str_eq(last_resolved.winning_outcome, "Yes");
    /* void (the fake server sends ""): only a hint to check through REST */
    frame("{\"event_type\":\"market_resolved\",\"market\":\"" CID_01 "\",\"assets_ids\":[\"" YES_01
          "\",\"" NO_01 "\"],\"winning_asset_id\":\"\",\"winning_outcome\":\"\"}");
    ck_assert_int_eq(n_resolved, 2);
    ck_assert_int_eq(last_resolved.hint.kind, PF_RES_PENDING);
    ck_assert_ptr_null(last_resolved.winning_asset_id);
    /* a winner that is not one of the market's assets */
    frame("{\"event_type\":\"market_resolved\",\"market\":\"" CID_01 "\",\"assets_ids\":[\"" YES_01
          "\"],\"winning_asset_id\":\"" NO_01 "\"}");
    ck_assert_int_eq(last_resolved.hint.kind, PF_RES_PENDING);
    ck_assert_int_eq(stats.events[PF_EV_MARKET_RESOLVED], 3);
}
END_TEST

START_TEST(test_messages)
{
    const char *ids[] = { YES_01, NO_01 };
    const char *bad[] = { YES_01, "0xabc" };
    const char *msg = pf_ws_subscribe_msg(pf_test_pool, ids, 2);
    json_object *o;

    ck_assert_str_eq(msg, "{\"assets_ids\":[\"" YES_01 "\",\"" NO_01 "\"],\"type\":\"market\","
                          "\"initial_dump\":true,\"custom_feature_enabled\":true}");
    ck_assert_ptr_null(pf_json_parse(pf_test_pool, msg, strlen(msg), &o));
    ck_assert_ptr_null(pf_ws_subscribe_msg(pf_test_pool, ids, 0)); /* would mean "all" */
    ck_assert_ptr_null(pf_ws_operation_msg(pf_test_pool, 1, ids, 0));
    ck_assert_ptr_null(pf_ws_subscribe_msg(pf_test_pool, bad, 2));
    ck_assert_str_eq(pf_ws_operation_msg(pf_test_pool, 1, ids, 1),
                     "{\"operation\":\"subscribe\",\"assets_ids\":[\"" YES_01 "\"],"
                     "\"custom_feature_enabled\":true}");
    ck_assert_str_eq(pf_ws_operation_msg(pf_test_pool, 0, ids + 1, 1),
                     "{\"operation\":\"unsubscribe\",\"assets_ids\":[\"" NO_01 "\"]}");
    ck_assert_ptr_null(pf_ws_operation_msg(pf_test_pool, 0, bad, 2));
}
END_TEST

START_TEST(test_null_ctx)
{
    pf_frame_result_t r;
    const char *ev = pf_test_fixture_book_event("01-binary.json", YES_01, CID_01);

    ck_assert_int_eq(pf_ws_handle_frame(store, pf_test_pool, ev, strlen(ev), NULL, NULL),
                     PF_FRAME_EVENTS);
    ck_assert_str_eq(quote(YES_01).best_ask, "0.54");
    ev = "{\"event_type\":\"market_resolved\",\"market\":\"" CID_01 "\"}";
    ck_assert_int_eq(pf_ws_handle_frame(store, pf_test_pool, ev, strlen(ev), NULL, &r),
                     PF_FRAME_EVENTS);
    ck_assert_int_eq(r.applied, 1);
}
END_TEST

Suite *pf_ws_suite(void)
{
    Suite *s = suite_create("pf_ws");
    TCase *tc = tcase_create("ws");
    tcase_add_checked_fixture(tc, setup, pf_test_teardown);
    tcase_add_test(tc, test_frame_array);
    tcase_add_test(tc, test_frame_object);
    tcase_add_test(tc, test_pong_and_junk);
    tcase_add_test(tc, test_unknown_events);
    tcase_add_test(tc, test_stream);
    tcase_add_test(tc, test_new_market);
    tcase_add_test(tc, test_market_resolved);
    tcase_add_test(tc, test_messages);
    tcase_add_test(tc, test_null_ctx);
    suite_add_tcase(s, tc);
    return s;
}
