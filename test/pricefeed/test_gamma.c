#include <check.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <string.h>

#include "pf_gamma.h"
#include "pf_json.h"

extern apr_pool_t *pf_test_pool;
void pf_test_setup(void);
void pf_test_teardown(void);
const char *pf_test_fixture_page(const char *name, const char *next_cursor);
const char *pf_test_fixture_array(const char *name);
const char *pf_test_fixture_text(const char *name);

#define CID_01 "0x8da652bbc317f920e09dfac75051c0279a96de6ac946a9dd22c695b85069afac"
#define YES_01 "21385994114023021512400530102266083579235915568060829493542345131067844826511"
#define NO_01  "37130064060700614639770746809654854432154239732903913772701496505119668518431"
#define CID_04 "0x62770627aaaead190d83915f931374035151336d7ddc21ce2497f8494059da9b"
#define YES_04 "175884671368481597679802369852748308713510218042372742750072047425375028264941"
#define NO_04  "13442343409114254275317067893059386478332388709067136598120680361997829635334"

static pf_gamma_page_t page_of(const char *body)
{
    pf_gamma_page_t pg;
    const char *err = pf_gamma_parse_page(pf_test_pool, body, strlen(body), &pg);
    ck_assert_msg(err == NULL, "%s", err ? err : "");
    return pg;
}

static pf_market_t *market_at(const pf_gamma_page_t *pg, int i)
{
    ck_assert_int_lt(i, pg->markets->nelts);
    return APR_ARRAY_IDX(pg->markets, i, pf_market_t *);
}

static pf_market_t *fixture_market(const char *file, int i)
{
    pf_gamma_page_t pg = page_of(pf_test_fixture_page(file, NULL));
    return market_at(&pg, i);
}

/* Every fixture: the README's list of tracked and skipped markets. */
START_TEST(test_fixtures_tradability)
{
    static const struct {
        const char *file;
        const char *gid;
        int tradable;
        const char *reason;
    } want[] = {
        { "01-binary.json", "600101", 1, NULL },
        { "02-negrisk-event.json", "600201", 1, NULL },
        { "02-negrisk-event.json", "600202", 1, NULL },
        { "02-negrisk-event.json", "600203", 0, "neg-risk \"Other\" placeholder" },
        { "03-closed-unresolved.json", "600301", 0, "closed" },
        { "04-resolved-yes.json", "600401", 0, "closed" },
        { "05-resolved-void.json", "600501", 0, "closed" },
        { "06-orderbook-disabled.json", "600601", 0, "order book disabled" },
        { "07-legacy-3-outcome.json", "600701", 0, "3 outcomes (only binary markets are tracked)" },
        { "08-more-binaries.json", "600801", 1, NULL },
        { "08-more-binaries.json", "600802", 1, NULL },
    };
    const char *files[] = {
        "01-binary.json",           "02-negrisk-event.json", "03-closed-unresolved.json",
        "04-resolved-yes.json",     "05-resolved-void.json", "06-orderbook-disabled.json",
        "07-legacy-3-outcome.json", "08-more-binaries.json"
    };
    size_t f, w;
    int found = 0, tradable = 0;

    for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        pf_gamma_page_t pg = page_of(pf_test_fixture_page(files[f], f % 2 ? "Mw==" : NULL));
        int i;
        ck_assert_int_eq(pg.next_cursor != NULL, f % 2);
        if (pg.next_cursor) ck_assert_str_eq(pg.next_cursor, "Mw==");
        tradable += pg.n_tradable;
        for (i = 0; i < pg.markets->nelts; i++) {
            pf_market_t *m = market_at(&pg, i);
            for (w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
                if (strcmp(want[w].gid, m->gamma_id) != 0) continue;
                found++;
                ck_assert_msg(m->tradable == want[w].tradable, "%s tradable %d", m->gamma_id,
                              m->tradable);
                if (want[w].reason) {
                    ck_assert_str_eq(m->skip_reason, want[w].reason);
                }
                else {
                    ck_assert_ptr_null(m->skip_reason);
                    ck_assert_int_eq(m->n_tokens, 2);
                }
            }
        }
    }
    ck_assert_int_eq(found, 11);
    ck_assert_int_eq(tradable, 5);
}
END_TEST

START_TEST(test_binary_fields)
{
    pf_market_t *m = fixture_market("01-binary.json", 0);

    ck_assert_str_eq(m->gamma_id, "600101");
    ck_assert_str_eq(m->condition_id, CID_01);
    ck_assert_str_eq(m->question, "Will the Fake City Marathon 2026 be won in under 2h05m?");
    ck_assert_str_eq(m->slug, "fake-city-marathon-under-2h05m");
    ck_assert_int_eq(m->closed, 0);
    ck_assert_int_eq(m->active, 1);
    ck_assert_int_eq(m->enable_order_book, 1);
    ck_assert_int_eq(m->accepting_orders, 1);
    ck_assert_int_eq(m->neg_risk, 0);
    ck_assert_int_eq(m->neg_risk_other, PF_FLAG_ABSENT);
    /* JSON inside JSON, decoded */
    ck_assert_int_eq(m->n_outcomes, 2);
    ck_assert_str_eq(m->outcomes[0], "Yes");
    ck_assert_str_eq(m->outcomes[1], "No");
    ck_assert_int_eq(m->n_tokens, 2);
    ck_assert_str_eq(m->token_ids[0], YES_01); /* 77 digits, kept as text */
    ck_assert_str_eq(m->token_ids[1], NO_01);
    ck_assert_int_eq(m->n_prices, 2);
    ck_assert_str_eq(m->outcome_prices[0], "0.535");
    ck_assert_str_eq(m->outcome_prices[1], "0.465");
    ck_assert_str_eq(m->uma_status, "");
    ck_assert_str_eq(m->tick_size, "0.01"); /* a JSON number */
    ck_assert(m->binary);
    ck_assert(m->tradable);
    ck_assert_str_eq(m->tokens_json,
                     "[{\"token_id\":\"" YES_01 "\",\"outcome\":\"Yes\",\"tick_size\":\"0.01\"},"
                     "{\"token_id\":\"" NO_01 "\",\"outcome\":\"No\",\"tick_size\":\"0.01\"}]");
}
END_TEST

/* Numbers sent as strings (04, 600801) and as numbers (01, 600802). */
START_TEST(test_numbers_both_ways)
{
    pf_market_t *m4 = fixture_market("04-resolved-yes.json", 0);
    pf_gamma_page_t pg = page_of(pf_test_fixture_page("08-more-binaries.json", NULL));
    pf_market_t *m81 = market_at(&pg, 0), *m82 = market_at(&pg, 1);

    ck_assert_str_eq(m4->tick_size, "0.01");
    ck_assert_str_eq(m81->tick_size, "0.001");
    ck_assert_str_eq(m82->tick_size, "0.01");
    ck_assert_str_eq(m81->outcome_prices[0], "0.035");
    ck_assert(strstr(m81->tokens_json, "\"tick_size\":\"0.001\"") != NULL);
    /* 78-digit token ids */
    ck_assert_uint_eq(strlen(m81->token_ids[1]), 78);
}
END_TEST

START_TEST(test_legacy_array_and_pages)
{
    const char *arr = pf_test_fixture_array("02-negrisk-event.json");
    pf_gamma_page_t pg = page_of(arr);

    ck_assert_int_eq(pg.markets->nelts, 3);
    ck_assert_int_eq(pg.n_tradable, 2);
    ck_assert_ptr_null(pg.next_cursor);
    pg = page_of("{\"markets\":[],\"next_cursor\":\"eyJpZCI6NTEyMzQ1fQ\"}");
    ck_assert_str_eq(pg.next_cursor, "eyJpZCI6NTEyMzQ1fQ");
    pg = page_of("{\"markets\":[]}");
    ck_assert_ptr_null(pg.next_cursor); /* absent on the last page */
    pg = page_of("{\"markets\":[],\"next_cursor\":\"\"}");
    ck_assert_ptr_null(pg.next_cursor);
    pg = page_of("{\"markets\":[],\"next_cursor\":null}");
    ck_assert_ptr_null(pg.next_cursor);
    pg = page_of("{\"markets\":[1,\"x\",null,{}]}");
    ck_assert_int_eq(pg.n_not_objects, 3);
    ck_assert_int_eq(pg.markets->nelts, 1);
    ck_assert_str_eq(market_at(&pg, 0)->skip_reason, "missing or malformed condition id");
}
END_TEST

START_TEST(test_page_errors)
{
    pf_gamma_page_t pg;
    const char *bad[] = {
        "<html><title>Attention Required! | Cloudflare</title></html>",
        "{\"type\":\"validation error\",\"error\":\"offset too large, use /markets/keyset for deeper pagination\"}",
        "{\"markets\":{}}",
        "{\"data\":[]}",
        "\"markets\"",
        "{\"markets\":[],\"next_cursor\":5}",
        "{\"markets\":[],\"markets\":[]}",
        "",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *err = pf_gamma_parse_page(pf_test_pool, bad[i], strlen(bad[i]), &pg);
        ck_assert_msg(err != NULL, "'%s' should fail", bad[i]);
        ck_assert_int_eq(pg.markets->nelts, 0);
    }
    ck_assert_str_eq(pf_gamma_parse_page(pf_test_pool, bad[1], strlen(bad[1]), &pg),
                     "error response: offset too large, use /markets/keyset for deeper pagination");
}
END_TEST

static pf_market_t *market_json(const char *fmt_fields)
{
    /* active, closed and enableOrderBook default to a live market unless
     * the fields set them (a repeated key would be rejected as JSON) */
    const char *body = apr_psprintf(
        pf_test_pool,
        "{\"id\":\"1\",\"conditionId\":\"" CID_01 "\",\"question\":\"Q?\",\"slug\":\"q\""
        "%s%s%s%s}",
        strstr(fmt_fields, "\"active\"") ? "" : ",\"active\":true",
        strstr(fmt_fields, "\"closed\"") ? "" : ",\"closed\":false",
        strstr(fmt_fields, "\"enableOrderBook\"") ? "" : ",\"enableOrderBook\":true", fmt_fields);
    pf_market_t *m;
    const char *err = pf_gamma_parse_market(pf_test_pool, body, strlen(body), &m);
    ck_assert_msg(err == NULL, "%s", err ? err : "");
    return m;
}

#define TOKENS_ENC                                                                \
    ",\"outcomes\":\"[\\\"Yes\\\", \\\"No\\\"]\",\"clobTokenIds\":\"[\\\"" YES_01 \
    "\\\", \\\"" NO_01 "\\\"]\""

START_TEST(test_market_variants)
{
    pf_market_t *m;

    /* mirrors send real arrays */
    m = market_json(",\"outcomes\":[\"Up\",\"Down\"],\"clobTokenIds\":[\"" YES_01 "\",\"" NO_01
                    "\"],\"outcomePrices\":[0.5,\"0.5\"]");
    ck_assert(m->tradable);
    ck_assert_str_eq(m->outcomes[0], "Up");
    ck_assert_str_eq(m->outcome_prices[0], "0.5");
    ck_assert_ptr_null(m->tick_size);
    ck_assert_str_eq(m->tokens_json, "[{\"token_id\":\"" YES_01 "\",\"outcome\":\"Up\"},"
                                     "{\"token_id\":\"" NO_01 "\",\"outcome\":\"Down\"}]");
    /* labels are escaped */
    m = market_json(",\"outcomes\":[\"Say \\\"hi\\\"\",\"C:\\\\\"],\"clobTokenIds\":[\"" YES_01
                    "\",\"" NO_01 "\"]");
    ck_assert(strstr(m->tokens_json, "\"outcome\":\"Say \\\"hi\\\"\"") != NULL);
    ck_assert(strstr(m->tokens_json, "\"outcome\":\"C:\\\\\"") != NULL);
    /* token ids as JSON numbers are refused (they would lose digits) */
    m = market_json(",\"outcomes\":[\"Yes\",\"No\"],\"clobTokenIds\":[1,2]");
    ck_assert(!m->tradable);
    ck_assert_str_eq(m->skip_reason, "clobTokenIds missing or malformed");
    /* a JSON-in-a-string that does not decode */
    m = market_json(",\"outcomes\":\"[\\\"Yes\\\", \\\"No\\\"\",\"clobTokenIds\":\"[]\"");
    ck_assert_str_eq(m->skip_reason, "outcomes missing or malformed");
    /* one token id for two outcomes */
    m = market_json(",\"outcomes\":[\"Yes\",\"No\"],\"clobTokenIds\":\"[\\\"" YES_01 "\\\"]\"");
    ck_assert_str_eq(m->skip_reason, "1 token ids for 2 outcomes");
    ck_assert_ptr_null(m->tokens_json);
    m = market_json(",\"outcomes\":[\"Yes\",\"No\"],\"clobTokenIds\":[\"" YES_01 "\",\"" YES_01
                    "\"]");
    ck_assert_str_eq(m->skip_reason, "both outcomes have the same token id");
    /* positionIds when clobTokenIds is missing */
    m = market_json(",\"outcomes\":[\"Yes\",\"No\"],\"positionIds\":\"[\\\"" YES_01
                    "\\\",\\\"" NO_01 "\\\"]\"");
    ck_assert(m->tradable);
    /* flags as strings; a malformed flag is not guessed */
    m = market_json(TOKENS_ENC ",\"negRiskOther\":\"false\"");
    ck_assert(m->tradable);
    m = market_json(TOKENS_ENC ",\"negRiskOther\":1");
    ck_assert_str_eq(m->skip_reason, "malformed negRiskOther flag");
    /* a neg-risk placeholder without prices */
    m = market_json(TOKENS_ENC ",\"negRisk\":true,\"outcomePrices\":null");
    ck_assert_str_eq(m->skip_reason, "neg-risk placeholder without outcome prices");
    /* outcomePrices null alone is fine */
    m = market_json(TOKENS_ENC ",\"outcomePrices\":null");
    ck_assert(m->tradable);
    ck_assert_int_eq(m->n_prices, -1);
    /* bad tick size is dropped, not fatal */
    m = market_json(TOKENS_ENC ",\"orderPriceMinTickSize\":\"abc\"");
    ck_assert(m->tradable);
    ck_assert_ptr_null(m->tick_size);
    /* "active" stays true on closed markets: closed decides */
    m = market_json(TOKENS_ENC ",\"closed\":true");
    ck_assert(!m->tradable);
    ck_assert(m->binary);
    ck_assert_ptr_nonnull(m->tokens_json); /* still upserted (closed = true) */
    m = market_json(TOKENS_ENC ",\"active\":false");
    ck_assert_str_eq(m->skip_reason, "not active");
}
END_TEST

START_TEST(test_market_bad_ids)
{
    const char *body =
        "{\"id\":600999,\"conditionId\":\"\",\"outcomes\":\"[\\\"Yes\\\", \\\"No\\\"]\","
        "\"clobTokenIds\":\"[\\\"1\\\", \\\"2\\\"]\",\"active\":true,\"closed\":false}";
    pf_market_t *m;

    ck_assert_ptr_null(pf_gamma_parse_market(pf_test_pool, body, strlen(body), &m));
    ck_assert_str_eq(m->gamma_id, "600999");
    ck_assert_ptr_null(m->condition_id);
    ck_assert(!m->binary);
    ck_assert(!m->tradable);
    ck_assert_str_eq(m->skip_reason, "missing or malformed condition id");
    ck_assert_ptr_nonnull(pf_gamma_parse_market(pf_test_pool, "[]", 2, &m));
    {
        const char *e = "{\"error\":\"not found\"}";
        ck_assert_str_eq(pf_gamma_parse_market(pf_test_pool, e, strlen(e), &m),
                         "error response: not found");
    }
}
END_TEST

START_TEST(test_new_market_event)
{
    const char *ev = "{\"event_type\":\"new_market\",\"id\":\"512399\",\"question\":\"Q?\","
                     "\"market\":\"" CID_01 "\",\"slug\":\"q\",\"assets_ids\":[\"" YES_01
                     "\",\"" NO_01 "\"],"
                     "\"outcomes\":[\"Yes\",\"No\"],\"condition_id\":\"" CID_01
                     "\",\"active\":true,"
                     "\"clob_token_ids\":[\"" YES_01 "\",\"" NO_01
                     "\"],\"order_price_min_tick_size\":\"0.01\"}";
    json_object *o;
    pf_market_t *m;

    ck_assert_ptr_null(pf_json_parse(pf_test_pool, ev, strlen(ev), &o));
    m = pf_market_from_new_market_event(pf_test_pool, o);
    ck_assert_str_eq(m->condition_id, CID_01);
    ck_assert_int_eq(m->n_tokens, 2);
    ck_assert_str_eq(m->tick_size, "0.01");
    ck_assert(m->binary);
    ck_assert(m->tradable);
    ck_assert_int_eq(m->enable_order_book, PF_FLAG_ABSENT);
}
END_TEST

/* ---- resolution -------------------------------------------------------------- */

START_TEST(test_gamma_resolution_fixtures)
{
    pf_resolution_t r;

    pf_gamma_resolution(fixture_market("04-resolved-yes.json", 0), &r);
    ck_assert_int_eq(r.kind, PF_RES_WINNER);
    ck_assert_str_eq(r.winning_token_id, YES_04);
    pf_gamma_resolution(fixture_market("05-resolved-void.json", 0), &r);
    ck_assert_int_eq(r.kind, PF_RES_VOID);
    ck_assert_ptr_null(r.winning_token_id);
    /* closed at 0.5/0.5 but only "proposed": NOT a void */
    pf_gamma_resolution(fixture_market("03-closed-unresolved.json", 0), &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    pf_gamma_resolution(fixture_market("01-binary.json", 0), &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    ck_assert_str_eq(r.reason, "not closed");
    pf_gamma_resolution(fixture_market("07-legacy-3-outcome.json", 0), &r);
    ck_assert_int_eq(r.kind, PF_RES_INVALID);
    ck_assert_str_eq(pf_res_kind_name(PF_RES_VOID), "void");
}
END_TEST

START_TEST(test_gamma_resolution_variants)
{
    pf_resolution_t r;
    pf_market_t *m;

    m = market_json(TOKENS_ENC ",\"closed\":true,\"umaResolutionStatus\":\"resolved\","
                               "\"outcomePrices\":\"[\\\"0\\\", \\\"1\\\"]\"");
    pf_gamma_resolution(m, &r);
    ck_assert_int_eq(r.kind, PF_RES_WINNER);
    ck_assert_str_eq(r.winning_token_id, NO_01); /* NO won */
    m = market_json(TOKENS_ENC ",\"closed\":true,\"umaResolutionStatus\":\"resolved\","
                               "\"outcomePrices\":[1.0,0]");
    pf_gamma_resolution(m, &r);
    ck_assert_int_eq(r.kind, PF_RES_WINNER);
    ck_assert_str_eq(r.winning_token_id, YES_01);
    m = market_json(TOKENS_ENC ",\"closed\":true,\"umaResolutionStatus\":\"resolved\","
                               "\"outcomePrices\":\"[\\\"0.50\\\", \\\".5\\\"]\"");
    pf_gamma_resolution(m, &r);
    ck_assert_int_eq(r.kind, PF_RES_VOID);
    /* never argmax */
    m = market_json(TOKENS_ENC ",\"closed\":true,\"umaResolutionStatus\":\"resolved\","
                               "\"outcomePrices\":\"[\\\"0.999\\\", \\\"0.001\\\"]\"");
    pf_gamma_resolution(m, &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    m = market_json(TOKENS_ENC ",\"closed\":true,\"umaResolutionStatus\":\"disputed\","
                               "\"outcomePrices\":\"[\\\"1\\\", \\\"0\\\"]\"");
    pf_gamma_resolution(m, &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    /* resolved prices but market not closed */
    m = market_json(TOKENS_ENC ",\"umaResolutionStatus\":\"resolved\","
                               "\"outcomePrices\":\"[\\\"1\\\", \\\"0\\\"]\"");
    pf_gamma_resolution(m, &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    m = market_json(TOKENS_ENC ",\"closed\":true,\"umaResolutionStatus\":\"resolved\","
                               "\"outcomePrices\":null");
    pf_gamma_resolution(m, &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
}
END_TEST

static pf_clob_market_t *clob(const char *cid, const char *closed, const char *is5050,
                              const char *w0, const char *p0, const char *w1, const char *p1)
{
    const char *body = apr_psprintf(
        pf_test_pool,
        "{\"enable_order_book\":true,\"active\":true,\"closed\":%s,\"archived\":false,"
        "\"accepting_orders\":false,\"minimum_order_size\":5,\"minimum_tick_size\":0.01,"
        "\"condition_id\":\"%s\",\"question\":\"Q?\",\"market_slug\":\"q\","
        "\"neg_risk\":false,\"rewards\":{\"rates\":null,\"min_size\":0,\"max_spread\":0},"
        "\"is_50_50_outcome\":%s,\"tokens\":["
        "{\"token_id\":\"%s\",\"outcome\":\"Yes\",\"price\":%s,\"winner\":%s},"
        "{\"token_id\":\"%s\",\"outcome\":\"No\",\"price\":%s,\"winner\":%s}],\"tags\":[]}",
        closed, cid, is5050, YES_04, p0, w0, NO_04, p1, w1);
    pf_clob_market_t *c;
    const char *err = pf_clob_parse_market(pf_test_pool, body, strlen(body), &c);
    ck_assert_msg(err == NULL, "%s", err ? err : "");
    return c;
}

START_TEST(test_clob_resolution)
{
    pf_resolution_t r;
    pf_clob_market_t *c;

    /* resolved YES (fixture 04 as the fake server derives it) */
    c = clob(CID_04, "true", "false", "true", "1", "false", "0");
    ck_assert_str_eq(c->tick_size, "0.01");
    ck_assert_str_eq(c->tokens[0].price, "1");
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_WINNER);
    ck_assert_str_eq(r.winning_token_id, YES_04);
    /* resolved NO */
    c = clob(CID_04, "true", "false", "false", "0", "true", "1");
    pf_clob_resolution(c, NULL, &r);
    ck_assert_int_eq(r.kind, PF_RES_WINNER);
    ck_assert_str_eq(r.winning_token_id, NO_04);
    /* void */
    c = clob(CID_04, "true", "true", "false", "0.5", "false", "0.5");
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_VOID);
    ck_assert_ptr_null(r.winning_token_id);
    /* closed at 0.5/0.5 without the flag (fixture 03): pending, not void */
    c = clob(CID_04, "true", "false", "false", "0.5", "false", "0.5");
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    /* closed, prices 0.999/0.001, no winner: no argmax */
    c = clob(CID_04, "true", "false", "false", "0.999", "false", "0.001");
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    /* live */
    c = clob(CID_04, "false", "false", "false", "0.53", "false", "0.47");
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    ck_assert_str_eq(r.reason, "not closed");
    /* contradictions */
    c = clob(CID_04, "true", "false", "true", "1", "true", "1");
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_INVALID);
    c = clob(CID_04, "true", "true", "true", "1", "false", "0");
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_INVALID);
    c = clob(CID_04, "true", "false", "\"yes\"", "1", "false", "0");
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_INVALID);
    /* another market's answer */
    c = clob(CID_04, "true", "false", "true", "1", "false", "0");
    pf_clob_resolution(c, CID_01, &r);
    ck_assert_int_eq(r.kind, PF_RES_INVALID);
}
END_TEST

START_TEST(test_clob_parse_edges)
{
    pf_clob_market_t *c;
    pf_resolution_t r;
    const char *nulltok = "{\"condition_id\":\"" CID_04 "\",\"closed\":true,\"tokens\":null}";
    const char *nowin = "{\"condition_id\":\"" CID_04 "\",\"closed\":true,\"tokens\":["
                        "{\"token_id\":\"" YES_04 "\",\"outcome\":\"Yes\",\"price\":0.5},"
                        "{\"token_id\":\"" NO_04 "\",\"outcome\":\"No\",\"price\":0.5}]}";
    const char *err = "{\"error\":\"market not found\"}";

    ck_assert_ptr_null(pf_clob_parse_market(pf_test_pool, nulltok, strlen(nulltok), &c));
    ck_assert_int_eq(c->n_tokens, 0);
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_INVALID);
    ck_assert_ptr_null(pf_clob_parse_market(pf_test_pool, nowin, strlen(nowin), &c));
    ck_assert_int_eq(c->tokens[0].winner, 0);
    ck_assert_int_eq(c->is_50_50_outcome, PF_FLAG_ABSENT);
    pf_clob_resolution(c, CID_04, &r);
    ck_assert_int_eq(r.kind, PF_RES_PENDING);
    ck_assert_str_eq(pf_clob_parse_market(pf_test_pool, err, strlen(err), &c),
                     "error response: market not found");
    ck_assert_ptr_nonnull(pf_clob_parse_market(pf_test_pool, "<html>", 6, &c));
}
END_TEST

Suite *pf_gamma_suite(void)
{
    Suite *s = suite_create("pf_gamma");
    TCase *tc = tcase_create("gamma");
    tcase_add_checked_fixture(tc, pf_test_setup, pf_test_teardown);
    tcase_add_test(tc, test_fixtures_tradability);
    tcase_add_test(tc, test_binary_fields);
    tcase_add_test(tc, test_numbers_both_ways);
    tcase_add_test(tc, test_legacy_array_and_pages);
    tcase_add_test(tc, test_page_errors);
    tcase_add_test(tc, test_market_variants);
    tcase_add_test(tc, test_market_bad_ids);
    tcase_add_test(tc, test_new_market_event);
    tcase_add_test(tc, test_gamma_resolution_fixtures);
    tcase_add_test(tc, test_gamma_resolution_variants);
    tcase_add_test(tc, test_clob_resolution);
    tcase_add_test(tc, test_clob_parse_edges);
    suite_add_tcase(s, tc);
    return s;
}
