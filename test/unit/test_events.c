/* The event feed's core: types, cursor scope, the feed's query string and
 * input, walking a page, SSE framing, and the bound on waiting requests. */
#include "unit_suites.h"
#include "pp_error.h"
#include "pp_events.h"
#include "pp_input.h"
#include "pp_query.h"
#include "pp_waiters.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_types)
{
    const char *c;

    ck_assert_ptr_null(pp_events_parse_types(unit_pool, NULL, &c));
    ck_assert_str_eq(c, "");
    ck_assert_ptr_null(pp_events_parse_types(unit_pool, "", &c));
    ck_assert_str_eq(c, "");
    ck_assert_ptr_null(pp_events_parse_types(unit_pool, "trade.filled", &c));
    ck_assert_str_eq(c, "trade.filled");
    /* sorted, without duplicates: the same filter is the same scope */
    ck_assert_ptr_null(pp_events_parse_types(unit_pool, "trade.filled,account.created,trade.filled",
                                             &c));
    ck_assert_str_eq(c, "account.created,trade.filled");
    ck_assert_ptr_null(pp_events_parse_types(unit_pool, "day.started", &c));
    ck_assert_str_eq(c, "day.started");
    ck_assert_ptr_nonnull(pp_events_parse_types(unit_pool, "trade", &c));
    ck_assert_ptr_nonnull(pp_events_parse_types(unit_pool, "trade.filled,", &c));
    ck_assert_ptr_nonnull(pp_events_parse_types(unit_pool, ",trade.filled", &c));
    ck_assert_ptr_nonnull(pp_events_parse_types(unit_pool, "Trade.Filled", &c));
    ck_assert_ptr_nonnull(pp_events_parse_types(unit_pool, "trade.filled ", &c));
}
END_TEST

START_TEST(test_scope)
{
    const char *a = pp_events_scope(unit_pool, "demo", "", "");

    ck_assert_int_eq(strlen(a), 32);
    ck_assert_str_eq(a, pp_events_scope(unit_pool, "demo", "", ""));
    ck_assert_str_ne(a, pp_events_scope(unit_pool, "other", "", ""));
    ck_assert_str_ne(a, pp_events_scope(unit_pool, "demo", "trade.filled", ""));
    ck_assert_str_ne(a, pp_events_scope(unit_pool, "demo", "",
                                        "0b1d8e2a-3c4f-4a6b-8c8d-9e0f1a2b3c4d"));
    /* the parts cannot slide into each other */
    ck_assert_str_ne(pp_events_scope(unit_pool, "a", "b", ""),
                     pp_events_scope(unit_pool, "a\nb", "", ""));
}
END_TEST

START_TEST(test_query)
{
    pp_events_query_t q;

    ck_assert_ptr_null(pp_query_parse_events(unit_pool, NULL, &q));
    ck_assert_int_eq(q.limit, 100);
    ck_assert_int_eq(q.wait, 0);
    ck_assert_str_eq(q.types, "");
    ck_assert_str_eq(q.account_id, "");
    ck_assert_ptr_null(q.cursor);
    ck_assert_ptr_null(
        pp_query_parse_events(unit_pool,
                              "limit=5&wait=30&types=trade.filled%2Corder.placed&cursor=x.y"
                              "&account_id=0B1D8E2A-3C4F-4A6B-8C8D-9E0F1A2B3C4D&side=ignored",
                              &q));
    ck_assert_int_eq(q.limit, 5);
    ck_assert_int_eq(q.wait, 30);
    ck_assert_str_eq(q.types, "order.placed,trade.filled");
    ck_assert_str_eq(q.account_id, "0b1d8e2a-3c4f-4a6b-8c8d-9e0f1a2b3c4d");
    ck_assert_str_eq(q.cursor, "x.y");
    ck_assert_ptr_null(pp_query_parse_events(unit_pool, "wait=0&types=", &q));
    ck_assert_str_eq(q.types, "");
    ck_assert_str_eq(pp_query_parse_events(unit_pool, "wait=31", &q),
                     "wait must be a whole number of seconds from 0 to 30");
    ck_assert_ptr_nonnull(pp_query_parse_events(unit_pool, "wait=-1", &q));
    ck_assert_ptr_nonnull(pp_query_parse_events(unit_pool, "wait=", &q));
    ck_assert_ptr_nonnull(pp_query_parse_events(unit_pool, "wait=1.5", &q));
    ck_assert_ptr_nonnull(pp_query_parse_events(unit_pool, "wait=99999999999999999999", &q));
    ck_assert_str_eq(pp_query_parse_events(unit_pool, "account_id=nope", &q),
                     "account_id must be a UUID");
    ck_assert_ptr_nonnull(pp_query_parse_events(unit_pool, "types=nope", &q));
    ck_assert_ptr_nonnull(pp_query_parse_events(unit_pool, "limit=501", &q));
    ck_assert_ptr_nonnull(pp_query_parse_events(unit_pool, "wait=1&wait=2", &q));
}
END_TEST

static pp_input_req_t in;

static int read_input(const pp_input_t *input, const char *tenant_name, const char *query)
{
    static pp_tenant_t tenant;
    memset(&in, 0, sizeof(in));
    memset(&tenant, 0, sizeof(tenant));
    tenant.name = tenant_name;
    in.pool = unit_pool;
    in.query = query;
    in.tenant = &tenant;
    in.values = apr_table_make(unit_pool, 4);
    return pp_input_read(input, &in);
}

START_TEST(test_input)
{
    const char *scope;

    ck_assert_int_eq(read_input(&pp_input_events_query, "demo", "wait=7&types=trade.filled"), -1);
    ck_assert_str_eq(apr_table_get(in.values, "wait"), "7");
    ck_assert_str_eq(apr_table_get(in.values, "limit"), "100");
    ck_assert_str_eq(apr_table_get(in.values, "types"), "trade.filled");
    ck_assert_ptr_null(apr_table_get(in.values, "account_id")); /* SQL NULL */
    scope = in.cursor_scope;
    ck_assert_str_eq(scope, pp_events_scope(unit_pool, "demo", "trade.filled", ""));
    /* the stream: the same scope (a cursor continues in either), its own page
     * size, never a long-poll */
    ck_assert_int_eq(read_input(&pp_input_events_stream, "demo",
                                "types=trade.filled&limit=3&wait=5"),
                     -1);
    ck_assert_str_eq(in.cursor_scope, scope);
    ck_assert_str_eq(apr_table_get(in.values, "limit"), "500");
    ck_assert_str_eq(apr_table_get(in.values, "wait"), "0");
    ck_assert_str_eq(pp_input_events_stream.cursor_key, pp_input_events_query.cursor_key);
    /* another tenant, another scope */
    ck_assert_int_eq(read_input(&pp_input_events_query, "other", "types=trade.filled"), -1);
    ck_assert_str_ne(in.cursor_scope, scope);
    ck_assert_int_eq(read_input(&pp_input_events_query, "demo", "wait=x"),
                     PP_ERR_VALIDATION_FAILED);
    ck_assert_ptr_nonnull(in.message);
}
END_TEST

static const char page[] =
    "[{\"event_id\":7,\"type\":\"order.placed\",\"data\":{\"s\":\"}],{\\\"\\\\\",\"a\":[1,{}]}},"
    "{\"event_id\":12,\"type\":\"x\"}]";

START_TEST(test_next)
{
    apr_size_t pos = 0;
    pp_event_t ev;

    ck_assert_int_eq(pp_events_next(unit_pool, page, strlen(page), &pos, &ev), 1);
    ck_assert_str_eq(ev.event_id, "7");
    ck_assert_int_eq(ev.len, strlen(page) - strlen(",{\"event_id\":12,\"type\":\"x\"}]") - 1);
    ck_assert(memcmp(ev.json, page + 1, ev.len) == 0);
    ck_assert_int_eq(ev.json[ev.len - 1], '}');
    ck_assert_int_eq(pp_events_next(unit_pool, page, strlen(page), &pos, &ev), 1);
    ck_assert_str_eq(ev.event_id, "12");
    ck_assert_int_eq(ev.len, strlen("{\"event_id\":12,\"type\":\"x\"}"));
    ck_assert_int_eq(pp_events_next(unit_pool, page, strlen(page), &pos, &ev), 0);
    ck_assert_int_eq(pp_events_next(unit_pool, page, strlen(page), &pos, &ev), 0);

    pos = 0;
    ck_assert_int_eq(pp_events_next(unit_pool, "[]", 2, &pos, &ev), 0);
    pos = 0;
    ck_assert_int_eq(pp_events_next(unit_pool, " [ ] ", 5, &pos, &ev), 0);
    {
        static const char *const bad[] = { "",
                                           "{}",
                                           "[",
                                           "[{}]",
                                           "[{\"event_id\":}]",
                                           "[{\"event_id\":1}]",
                                           "[{\"event_id\":x,\"a\":1}]",
                                           "[{\"event_id\":1,\"a\":\"}]",
                                           "[{\"event_id\":12345678901234567890,\"a\":1}]",
                                           "[{\"event_id\":1,\"a\":1}{\"event_id\":2,\"a\":1}]",
                                           NULL };
        int i, k;
        for (i = 0; bad[i]; i++) {
            pos = 0;
            while ((k = pp_events_next(unit_pool, bad[i], strlen(bad[i]), &pos, &ev)) == 1) {
            }
            ck_assert_msg(k == -1, "%s: %d", bad[i], k);
        }
    }
}
END_TEST

START_TEST(test_sse)
{
    apr_size_t n;
    const char *m = pp_events_sse_message(unit_pool, "c.1", "{\"a\":1}", 7, &n);

    ck_assert_str_eq(m, "id: c.1\ndata: {\"a\":1}\n\n");
    ck_assert_int_eq(n, strlen(m));
    m = pp_events_sse_message(unit_pool, "c", "a\nb\r\nc\rd", 8, &n);
    ck_assert_str_eq(m, "id: c\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    ck_assert_int_eq(n, strlen(m));
    m = pp_events_sse_message(unit_pool, "c", "\n\n", 2, &n);
    ck_assert_str_eq(m, "id: c\ndata: \ndata: \ndata: \n\n");
}
END_TEST

START_TEST(test_waiters)
{
    unsigned nslots = 8;
    void *mem = calloc(1, pp_waiters_size(nslots));
    pp_waiters_t *w = pp_waiters_attach(mem, nslots);
    apr_time_t t = apr_time_from_sec(1000), stale = apr_time_from_sec(60);

    /* at most 2 per tenant, 3 in all */
    ck_assert_int_eq(pp_waiters_enter(w, 0, 0, t, 2, 3, stale), PP_WAITERS_ADMITTED);
    ck_assert_int_eq(pp_waiters_enter(w, 1, 0, t, 2, 3, stale), PP_WAITERS_ADMITTED);
    ck_assert_int_eq(pp_waiters_enter(w, 2, 0, t, 2, 3, stale), PP_WAITERS_TENANT_FULL);
    ck_assert_int_eq(pp_waiters_count(w, 0, t, stale), 2); /* the refused slot is free */
    ck_assert_int_eq(pp_waiters_enter(w, 2, 1, t, 2, 3, stale), PP_WAITERS_ADMITTED);
    ck_assert_int_eq(pp_waiters_enter(w, 3, 2, t, 2, 3, stale), PP_WAITERS_SERVER_FULL);
    ck_assert_int_eq(pp_waiters_count(w, -1, t, stale), 3);
    pp_waiters_leave(w, 0);
    ck_assert_int_eq(pp_waiters_enter(w, 3, 2, t, 2, 3, stale), PP_WAITERS_ADMITTED);
    /* a slot not refreshed for longer than stale (a dead process) no longer
     * counts; a refreshed one does */
    pp_waiters_touch(w, 1, t + apr_time_from_sec(50));
    ck_assert_int_eq(pp_waiters_count(w, -1, t + apr_time_from_sec(100), stale), 1);
    ck_assert_int_eq(pp_waiters_count(w, 0, t + apr_time_from_sec(100), stale), 1);
    /* touching a free slot takes nothing */
    pp_waiters_touch(w, 5, t + apr_time_from_sec(50));
    ck_assert_int_eq(pp_waiters_count(w, -1, t + apr_time_from_sec(50), stale), 3);
    /* no table, or a slot out of range: admitted, never counted */
    ck_assert_int_eq(pp_waiters_enter(NULL, 0, 0, t, 1, 1, stale), PP_WAITERS_ADMITTED);
    ck_assert_int_eq(pp_waiters_enter(w, 99, 0, t, 1, 1, stale), PP_WAITERS_ADMITTED);
    free(mem);
}
END_TEST

Suite *unit_events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("events");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_types);
    tcase_add_test(tc, test_scope);
    tcase_add_test(tc, test_query);
    tcase_add_test(tc, test_input);
    tcase_add_test(tc, test_next);
    tcase_add_test(tc, test_sse);
    tcase_add_test(tc, test_waiters);
    suite_add_tcase(s, tc);
    return s;
}
