/* The daemon's pure parts: configuration, retry timing, the latency
 * histogram, and the origin time a batch item carries. */
#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <string.h>

#include "pf_batch.h"
#include "pf_config.h"
#include "pf_latency.h"
#include "pf_retry.h"
#include "pf_ws.h"

extern apr_pool_t *pf_test_pool;
void pf_test_setup(void);
void pf_test_teardown(void);

#define YES_01 "21385994114023021512400530102266083579235915568060829493542345131067844826511"

/* ---- configuration -------------------------------------------------------- */

START_TEST(test_config_file)
{
    pf_config_t c;
    const char *err;

    pf_config_defaults(&c);
    err = pf_config_parse(pf_test_pool, &c,
                          "# comment\n"
                          "database = host=/tmp dbname=pp password=secret\n"
                          "\n"
                          "gamma_url = http://127.0.0.1:9/gamma/   # trailing slash dropped\n"
                          "ws_url=ws://127.0.0.1:10/ws/market\r\n"
                          "stale_after = 2.5\n"
                          "heartbeat_interval = 1\n"
                          "batch_size = 250\n"
                          "gamma_query = tag_id=100381&liquidity_num_min=1000\n"
                          "log = syslog\n"
                          "log_level = debug\n",
                          "pf.conf");
    ck_assert_ptr_null(err);
    ck_assert_ptr_null(pf_config_finish(pf_test_pool, &c));
    ck_assert_str_eq(c.gamma_url, "http://127.0.0.1:9/gamma");
    ck_assert_str_eq(c.clob_url, "https://clob.polymarket.com");
    ck_assert_str_eq(c.ws_url, "ws://127.0.0.1:10/ws/market");
    ck_assert_int_eq(c.stale_after_ms, 2500);
    ck_assert_int_eq(c.batch_size, 250);
    ck_assert_int_eq(c.log_syslog, 1);
    ck_assert_int_eq(c.log_level, PP_LOG_DEBUG);
    ck_assert_int_eq(c.heartbeat_ms, 1000);
    ck_assert_int_eq(c.discovery_ms, 60000);
    /* --check never prints the password */
    ck_assert_ptr_null(strstr(pf_config_dump(pf_test_pool, &c), "secret"));
    ck_assert_ptr_nonnull(strstr(pf_config_dump(pf_test_pool, &c), "password=***"));
}
END_TEST

START_TEST(test_config_errors_name_the_line)
{
    static const struct {
        const char *text, *needle;
    } bad[] = {
        { "database = x\nbatch_sise = 5\n", "pf.conf:2: unknown setting 'batch_sise'" },
        { "batch_size = 0\n", "pf.conf:1: batch_size must be an integer between 1" },
        { "batch_size = 12abc\n", "batch_size must be an integer" },
        { "stale_after = 1.2345\n", "stale_after must be a number of seconds" },
        { "stale_after = -1\n", "stale_after must be a number of seconds" },
        { "stale_after = .5\n", "stale_after must be a number of seconds" },
        { "gamma_url = ftp://x\n", "gamma_url must be an absolute" },
        { "gamma_url = http://x/?a=1\n", "gamma_url must be an absolute" },
        { "ws_url = http://x/ws\n", "ws_url must be an absolute ws://" },
        { "log_level = loud\n", "log_level must be error, warn, info or debug" },
        { "gamma_query = ?a=1\n", "gamma_query must look like" },
        { "database = a\ndatabase = b\n", "pf.conf:2: database is set twice" },
        { "just words\n", "pf.conf:1: expected 'key = value'" },
        { "database =\n", "database must not be empty" },
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pf_config_t c;
        const char *err;
        pf_config_defaults(&c);
        err = pf_config_parse(pf_test_pool, &c, bad[i].text, "pf.conf");
        ck_assert_msg(err && strstr(err, bad[i].needle), "%s: got %s", bad[i].text,
                      err ? err : "(no error)");
    }
}
END_TEST

START_TEST(test_config_finish)
{
    pf_config_t c;

    pf_config_defaults(&c);
    ck_assert_ptr_nonnull(strstr(pf_config_finish(pf_test_pool, &c), "database is required"));
    c.database = "dbname=pp";
    ck_assert_ptr_null(pf_config_finish(pf_test_pool, &c));
    ck_assert_ptr_null(pf_config_set(pf_test_pool, &c, "backoff_min", "5", "--set", 0));
    ck_assert_ptr_null(pf_config_set(pf_test_pool, &c, "backoff_max", "2", "--set", 0));
    ck_assert_ptr_nonnull(strstr(pf_config_finish(pf_test_pool, &c), "backoff_min"));
    pf_config_defaults(&c);
    c.database = "dbname=pp";
    ck_assert_ptr_null(pf_config_set(pf_test_pool, &c, "heartbeat_interval", "30", "--set", 0));
    ck_assert_ptr_nonnull(strstr(pf_config_finish(pf_test_pool, &c), "heartbeat_interval"));
}
END_TEST

/* ---- retry timing ------------------------------------------------------------ */

START_TEST(test_backoff_grows_with_jitter_and_resets)
{
    pf_backoff_t b;
    int i;

    pf_backoff_init(&b, 1000, 60000);
    /* ceiling min*2^n, floor half of it, whatever the random value */
    for (i = 0; i < 10; i++) {
        int64_t cap = 1000LL << i;
        if (cap > 60000) cap = 60000;
        pf_backoff_t lo = b, hi = b;
        int64_t dl = pf_backoff_next(&lo, 0), dh = pf_backoff_next(&hi, 0xffffffffu);
        ck_assert_int_ge(dl, cap / 2);
        ck_assert_int_le(dh, cap);
        ck_assert_int_ge(dh, cap / 2);
        pf_backoff_next(&b, (uint32_t)i * 7919u);
    }
    ck_assert_int_le(pf_backoff_next(&b, 12345), 60000);
    pf_backoff_reset(&b);
    ck_assert_int_le(pf_backoff_next(&b, 0xffffffffu), 1000);
}
END_TEST

START_TEST(test_retry_after)
{
    int64_t now = 1793000000000LL; /* 2026-10-25T...Z */
    apr_time_t t = apr_time_from_msec(now + 90000);
    char date[APR_RFC822_DATE_LEN];

    ck_assert_int_eq(pf_retry_after_ms("2", now), 2000);
    ck_assert_int_eq(pf_retry_after_ms(" 120 ", now), 120000);
    ck_assert_int_eq(pf_retry_after_ms("0", now), 0);
    ck_assert_int_eq(pf_retry_after_ms("99999999999", now), 86400000);
    ck_assert_int_eq(pf_retry_after_ms("2s", now), -1);
    ck_assert_int_eq(pf_retry_after_ms("-1", now), -1);
    ck_assert_int_eq(pf_retry_after_ms("", now), -1);
    ck_assert_int_eq(pf_retry_after_ms(NULL, now), -1);
    ck_assert_int_eq(pf_retry_after_ms("soon", now), -1);
    apr_rfc822_date(date, t);
    ck_assert_int_eq(pf_retry_after_ms(date, now), 90000);
    /* a date in the past: go now */
    apr_rfc822_date(date, apr_time_from_msec(now - 5000));
    ck_assert_int_eq(pf_retry_after_ms(date, now), 0);
}
END_TEST

/* ---- latency histogram ---------------------------------------------------------- */

START_TEST(test_latency_quantiles)
{
    pf_latency_t h;
    int i;

    memset(&h, 0, sizeof(h));
    ck_assert_int_eq(pf_latency_quantile(&h, 500), -1);
    for (i = 0; i < 98; i++) pf_latency_add(&h, 12); /* bucket <= 15 */
    pf_latency_add(&h, 240);                         /* bucket <= 250 */
    pf_latency_add(&h, 999999);                      /* overflow */
    ck_assert_int_eq((int)h.total, 100);
    ck_assert_int_eq(pf_latency_quantile(&h, 500), 15);
    ck_assert_int_eq(pf_latency_quantile(&h, 980), 15);
    ck_assert_int_eq(pf_latency_quantile(&h, 990), 250);
    ck_assert_int_eq(pf_latency_quantile(&h, 1000), -1);
    ck_assert_int_eq((int)h.counts[PF_LAT_NBOUNDS], 1);
    /* a sample equal to a bound belongs to that bound's bucket */
    memset(&h, 0, sizeof(h));
    pf_latency_add(&h, 250);
    ck_assert_int_eq(pf_latency_quantile(&h, 500), 250);
    pf_latency_add(&h, 0);
    ck_assert_int_eq((int)h.counts[0], 1);
}
END_TEST

/* ---- origin time ------------------------------------------------------------------- */

START_TEST(test_batch_carries_the_oldest_event_timestamp)
{
    pf_book_store_t *s = pf_book_store_create(pf_test_pool);
    pf_ws_ctx_t ctx;
    pf_batch_t b;
    pf_batch_opts_t o = { 0, 0 };
    const char *snap = "{\"event_type\":\"book\",\"asset_id\":\"" YES_01 "\",\"market\":\"0xab\","
                       "\"timestamp\":\"1793000000000\",\"bids\":[[\"0.50\",\"10\"]],"
                       "\"asks\":[[\"0.52\",\"10\"]]}";
    const char *chg = "{\"event_type\":\"price_change\",\"timestamp\":\"1793000000250\","
                      "\"price_changes\":[{\"asset_id\":\"" YES_01 "\",\"price\":\"0.51\","
                      "\"size\":\"5\",\"side\":\"BUY\"}]}";

    memset(&ctx, 0, sizeof(ctx));
    pf_book_store_add(s, YES_01, NULL);
    ctx.now_ms = 1793000000400LL;
    pf_ws_handle_frame(s, pf_test_pool, snap, strlen(snap), &ctx, NULL);
    pf_ws_handle_frame(s, pf_test_pool, chg, strlen(chg), &ctx, NULL);
    ck_assert_int_eq(pf_batch_build(s, pf_test_pool, &o, &b), 1);
    /* the oldest unwritten change, not the latest */
    ck_assert_int_eq(b.items[0].since_ms, 1793000000000LL);
    /* a failed write keeps that origin */
    pf_batch_restore(s, &b);
    pf_ws_handle_frame(s, pf_test_pool, chg, strlen(chg), &ctx, NULL);
    ck_assert_int_eq(pf_batch_build(s, pf_test_pool, &o, &b), 1);
    ck_assert_int_eq(b.items[0].since_ms, 1793000000000LL);
    /* after a write, the next change starts a new origin; an implausible
     * timestamp (a day away from now) falls back to the receive time */
    chg = "{\"event_type\":\"price_change\",\"timestamp\":\"1000\",\"price_changes\":["
          "{\"asset_id\":\"" YES_01 "\",\"price\":\"0.49\",\"size\":\"5\",\"side\":\"BUY\"}]}";
    pf_ws_handle_frame(s, pf_test_pool, chg, strlen(chg), &ctx, NULL);
    ck_assert_int_eq(pf_batch_build(s, pf_test_pool, &o, &b), 1);
    ck_assert_int_eq(b.items[0].since_ms, 1793000000400LL);
}
END_TEST

Suite *pf_daemon_core_suite(void)
{
    Suite *s = suite_create("pf_daemon_core");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pf_test_setup, pf_test_teardown);
    tcase_add_test(tc, test_config_file);
    tcase_add_test(tc, test_config_errors_name_the_line);
    tcase_add_test(tc, test_config_finish);
    tcase_add_test(tc, test_backoff_grows_with_jitter_and_resets);
    tcase_add_test(tc, test_retry_after);
    tcase_add_test(tc, test_latency_quantiles);
    tcase_add_test(tc, test_batch_carries_the_oldest_event_timestamp);
    suite_add_tcase(s, tc);
    return s;
}
