/* How the module protects itself from a slow or unreachable database:
 * SQLSTATE classification, the per-endpoint bound on waiting requests and
 * the log throttle. */
#include "unit_suites.h"
#include "pp_dberror.h"
#include "pp_gate.h"
#include "pp_throttle.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_sqlstate_from_verbose_messages)
{
    char st[6];
    ck_assert(pp_dberror_sqlstate("ERROR:  57014: canceling statement due to statement "
                                  "timeout\nLOCATION:  ProcessInterrupts, postgres.c:3387\n",
                                  st));
    ck_assert_str_eq(st, "57014");
    ck_assert(pp_dberror_sqlstate("ERROR:  55P03: canceling statement due to lock timeout\n"
                                  "CONTEXT:  PL/pgSQL function pp_get_account(text,uuid)\n",
                                  st));
    ck_assert_str_eq(st, "55P03");
    /* a localised severity still carries the code */
    ck_assert(pp_dberror_sqlstate("FEHLER:  40P01: Verklemmung (Deadlock) entdeckt", st));
    ck_assert_str_eq(st, "40P01");
    /* terse messages, lost connections and garbage carry none */
    ck_assert(!pp_dberror_sqlstate("ERROR:  canceling statement due to statement timeout", st));
    ck_assert_str_eq(st, "");
    ck_assert(!pp_dberror_sqlstate("server closed the connection unexpectedly", st));
    ck_assert(!pp_dberror_sqlstate("ERROR:  5701: x", st));
    ck_assert(!pp_dberror_sqlstate("ERROR:  57014 x", st));
    ck_assert(!pp_dberror_sqlstate("", st));
    ck_assert(!pp_dberror_sqlstate(NULL, st));
}
END_TEST

START_TEST(test_sqlstate_classes)
{
    ck_assert_int_eq(pp_dberror_classify("57014"), PP_DBERROR_TIMEOUT);
    ck_assert_int_eq(pp_dberror_classify("55P03"), PP_DBERROR_TIMEOUT);
    ck_assert_int_eq(pp_dberror_classify("40001"), PP_DBERROR_TRANSIENT);
    ck_assert_int_eq(pp_dberror_classify("40P01"), PP_DBERROR_TRANSIENT);
    ck_assert_int_eq(pp_dberror_classify("53300"), PP_DBERROR_TRANSIENT);
    ck_assert_int_eq(pp_dberror_classify("57P01"), PP_DBERROR_TRANSIENT);
    ck_assert_int_eq(pp_dberror_classify("08006"), PP_DBERROR_TRANSIENT);
    /* defects and an unmigrated schema are not worth a retry */
    ck_assert_int_eq(pp_dberror_classify("42883"), PP_DBERROR_INTERNAL);
    ck_assert_int_eq(pp_dberror_classify("23505"), PP_DBERROR_INTERNAL);
    ck_assert_int_eq(pp_dberror_classify("P0001"), PP_DBERROR_INTERNAL);
    ck_assert_int_eq(pp_dberror_classify(""), PP_DBERROR_INTERNAL);
    ck_assert_int_eq(pp_dberror_classify(NULL), PP_DBERROR_INTERNAL);
}
END_TEST

#define NSLOTS 64
/* clang-format 14 misreads `(n) * 1000` in a macro body as a dereference */
/* clang-format off */
#define MS(n) ((apr_time_t)(n) * 1000)
/* clang-format on */

static pp_gate_t *new_gate(void)
{
    void *mem = apr_pcalloc(unit_pool, pp_gate_size(NSLOTS));
    return pp_gate_attach(mem, NSLOTS);
}

static const pp_gate_policy_t policy = { 3, MS(200), MS(30000), MS(5000) };

START_TEST(test_gate_admits_any_concurrency_while_calls_are_fast)
{
    pp_gate_t *g = new_gate();
    apr_time_t t0 = apr_time_from_sec(1000000);
    unsigned i;
    /* a busy but healthy endpoint: many calls in flight, none old */
    for (i = 0; i < 40; i++) {
        ck_assert(pp_gate_enter(g, i, 5, t0 + MS(i), &policy));
    }
    ck_assert_uint_eq(pp_gate_count(g, 5, t0 + MS(50), &policy), 40);
}
END_TEST

START_TEST(test_gate_bounds_a_stuck_endpoint)
{
    pp_gate_t *g = new_gate();
    apr_time_t t0 = apr_time_from_sec(1000000);
    /* three calls stuck for longer than "slow": the fourth is refused */
    ck_assert(pp_gate_enter(g, 0, 5, t0, &policy));
    ck_assert(pp_gate_enter(g, 1, 5, t0, &policy));
    ck_assert(pp_gate_enter(g, 2, 5, t0, &policy));
    ck_assert(!pp_gate_enter(g, 3, 5, t0 + MS(201), &policy));
    ck_assert_uint_eq(pp_gate_count(g, 5, t0 + MS(201), &policy), 3);
    /* other endpoints are unaffected */
    ck_assert(pp_gate_enter(g, 3, 6, t0 + MS(201), &policy));
    pp_gate_leave(g, 3);
    /* one stuck call finishing makes room for one more */
    pp_gate_leave(g, 1);
    ck_assert(pp_gate_enter(g, 1, 5, t0 + MS(300), &policy));
    ck_assert(!pp_gate_enter(g, 4, 5, t0 + MS(300), &policy));
    /* workers that died mid-call (slots 0 and 2) stop counting once stale */
    ck_assert_uint_eq(pp_gate_count(g, 5, t0 + MS(30001), &policy), 1);
    ck_assert(pp_gate_enter(g, 4, 5, t0 + MS(30001), &policy));
}
END_TEST

/* After a timeout, a new wave of young calls is bounded at once. */
START_TEST(test_gate_remembers_a_timeout)
{
    pp_gate_t *g = new_gate();
    apr_time_t t0 = apr_time_from_sec(1000000);
    unsigned i;
    pp_gate_trouble(g, 5, t0);
    for (i = 0; i < 3; i++) {
        ck_assert(pp_gate_enter(g, i, 5, t0 + MS(10), &policy));
    }
    ck_assert(!pp_gate_enter(g, 3, 5, t0 + MS(20), &policy));
    ck_assert(pp_gate_enter(g, 3, 6, t0 + MS(20), &policy));
    for (i = 0; i < 4; i++) {
        pp_gate_leave(g, i);
    }
    /* a success ends the suspicion at once */
    pp_gate_trouble(g, 7, t0);
    for (i = 10; i < 13; i++) {
        ck_assert(pp_gate_enter(g, i, 7, t0 + MS(10), &policy));
    }
    ck_assert(!pp_gate_enter(g, 13, 7, t0 + MS(10), &policy));
    pp_gate_fine(g, 7);
    ck_assert(pp_gate_enter(g, 13, 7, t0 + MS(10), &policy));
    for (i = 10; i < 14; i++) {
        pp_gate_leave(g, i);
    }
    pp_gate_trouble(g, 7, t0);
    pp_gate_trouble(g, 8, t0);
    pp_gate_all_fine(g);
    for (i = 10; i < 14; i++) {
        ck_assert(pp_gate_enter(g, i, 7 + i % 2, t0 + MS(10), &policy));
        ck_assert(pp_gate_enter(g, i + 20, 7 + i % 2, t0 + MS(10), &policy));
    }
    for (i = 10; i < 14; i++) {
        pp_gate_leave(g, i);
        pp_gate_leave(g, i + 20);
    }
    /* the memory fades: fast calls are unbounded again */
    for (i = 0; i < 10; i++) {
        ck_assert(pp_gate_enter(g, i, 5, t0 + MS(5001), &policy));
    }
}
END_TEST

START_TEST(test_gate_unbounded_and_out_of_range)
{
    pp_gate_t *g = new_gate();
    pp_gate_policy_t none = { 0, MS(200), MS(30000), MS(5000) };
    apr_time_t t0 = apr_time_from_sec(5);
    unsigned i;
    for (i = 0; i < NSLOTS; i++) {
        ck_assert(pp_gate_enter(g, i, 9, t0, &none));
    }
    ck_assert(pp_gate_enter(g, 0, 9, t0 + MS(10000), &none));
    /* no scoreboard slot, or no gate at all: admitted, never recorded */
    ck_assert(pp_gate_enter(g, NSLOTS, 9, t0, &policy));
    ck_assert(pp_gate_enter(g, (unsigned)-1, 9, t0, &policy));
    ck_assert(pp_gate_enter(NULL, 0, 9, t0, &policy));
    pp_gate_leave(NULL, 0);
    pp_gate_leave(g, NSLOTS);
    ck_assert_uint_eq(pp_gate_count(g, 9, t0 + MS(10000), &none), NSLOTS);
}
END_TEST

START_TEST(test_throttle_once_per_interval)
{
    pp_throttle_t t;
    apr_uint32_t suppressed = 99;
    apr_time_t t0 = apr_time_from_sec(2000000);
    memset(&t, 0, sizeof(t));
    ck_assert(pp_throttle_allow(&t, t0, 10, &suppressed));
    ck_assert_uint_eq(suppressed, 0);
    ck_assert(!pp_throttle_allow(&t, t0 + apr_time_from_sec(1), 10, NULL));
    ck_assert(!pp_throttle_allow(&t, t0 + apr_time_from_sec(9), 10, NULL));
    ck_assert(pp_throttle_allow(&t, t0 + apr_time_from_sec(10), 10, &suppressed));
    ck_assert_uint_eq(suppressed, 2);
    ck_assert(!pp_throttle_allow(&t, t0 + apr_time_from_sec(11), 10, NULL));
    /* resetting next lets the next event through at once */
    t.next = 0;
    ck_assert(pp_throttle_allow(&t, t0 + apr_time_from_sec(12), 10, &suppressed));
    ck_assert_uint_eq(suppressed, 1);
}
END_TEST

Suite *unit_dbguard_suite(void)
{
    Suite *s = suite_create("dbguard");
    TCase *tc = tcase_create("dbguard");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_sqlstate_from_verbose_messages);
    tcase_add_test(tc, test_sqlstate_classes);
    tcase_add_test(tc, test_gate_admits_any_concurrency_while_calls_are_fast);
    tcase_add_test(tc, test_gate_bounds_a_stuck_endpoint);
    tcase_add_test(tc, test_gate_remembers_a_timeout);
    tcase_add_test(tc, test_gate_unbounded_and_out_of_range);
    tcase_add_test(tc, test_throttle_once_per_interval);
    suite_add_tcase(s, tc);
    return s;
}
