/* The trading engine over HTTP: the filled-trade feed GET .../trades (shape,
 * ordering, filters, limits, keyset pagination while fills arrive, every
 * cursor attack), order placement, listing and cancellation (market orders
 * at the book, limit orders resting and matched by price updates, every
 * rejection with nothing written, idempotency also under concurrency),
 * permissions and tenant isolation of the new paths, the envelope marked to
 * market and settlement, and the public GET /v1/markets. Markets and prices
 * are seeded through the SQL functions the price feed calls; after every
 * scenario the ledger invariants hold. */
#include "it.h"

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEMO     it_env("DEMO_KEY")
#define READONLY it_env("DEMO_READONLY_KEY")
#define OTHER    it_env("OTHER_KEY")
#define PENDING  it_env("PENDING_KEY")

#define ACCOUNTS "/v1/partner/accounts"

static const char *const trade_keys[] = { "trade_id",  "order_id",        "market_id",
                                          "side",      "outcome",         "price",
                                          "quantity",  "notional",        "fee",
                                          "filled_at", "client_order_id", "realized_pnl",
                                          NULL };
static const char *const order_keys[] = {
    "order_id",      "account_id", "client_order_id", "market_id",   "token_id",    "outcome",
    "side",          "type",       "quantity",        "limit_price", "worst_price", "status",
    "reserved_cash", "created_at", "cancelled_at",    "fill",        NULL
};
static const char *const page_keys[] = { "data", "next_cursor", NULL };
static const char *const market_keys[] = { "market_id", "question", "slug", "outcomes", NULL };
static const char *const outcome_keys[] = { "token_id",  "outcome",    "best_bid",
                                            "best_ask",  "midpoint",   "last_trade_price",
                                            "tick_size", "updated_at", NULL };
static const char *const position_keys[] = { "market_id",      "outcome",
                                             "quantity",       "avg_entry_price",
                                             "current_price",  "market_value",
                                             "unrealized_pnl", NULL };

/* ---- small helpers ------------------------------------------------------------ */

static long long int_member(const it_response_t *r, json_object *o, const char *key)
{
    json_object *v = it_json_get(o, key);
    ck_assert_msg(v && json_object_is_type(v, json_type_int), "%s must be a JSON integer: %s", key,
                  it_describe(r));
    return (long long)json_object_get_int64(v);
}

/* A string member of o equals want exactly. */
/* clang-format 14 misreads `a && f(...)` in a macro body as a reference */
/* clang-format off */
#define assert_str(resp, o, key, want) do {                                            \
        const char *as_v_ = it_json_str((o), (key));                                    \
        ck_assert_msg(as_v_ && strcmp(as_v_, (want)) == 0,                              \
                      "\"%s\" must be \"%s\", got %s: %s", (key), (want),               \
                      as_v_ ? as_v_ : "(none)", it_describe(&(resp)));                  \
    } while (0)
/* clang-format on */

/* A member of o is JSON null (present). */
#define assert_null(resp, o, key)                                                 \
    do {                                                                          \
        ck_assert_msg(it_json_has((o), (key)) && it_json_get((o), (key)) == NULL, \
                      "\"%s\" must be null: %s", (key), it_describe(&(resp)));    \
    } while (0)

/* ---- API helpers -------------------------------------------------------------- */

static it_response_t call(const char *key, const char *method, const char *path, const char *body)
{
    return it_request(method, path, IT_HEADERS(it_key_header(key)), body);
}

static char *account_path(const char *id, const char *suffix)
{
    return it_printf(ACCOUNTS "/%s%s", id, suffix ? suffix : "");
}

typedef struct {
    char *id; /* account_id */
    char *x;  /* external_id */
    long long uid;
    long long wallet;
    char *wallet_text;
} account_t;

static long long new_user(const char *key)
{
    char *x = it_unique("tradeuser");
    return it_register(key, x, it_printf("%s@example.com", x), NULL);
}

/* A new account for user uid (0: a new trader) of key's tenant. */
static account_t new_account_of(const char *key, long long uid, const char *balance)
{
    account_t a;
    it_response_t r;

    a.uid = uid ? uid : new_user(key);
    a.x = it_unique("tacct");
    r = call(key, "POST", ACCOUNTS,
             it_printf("{\"user_id\":%lld,\"external_id\":%s,\"stage\":\"challenge\","
                       "\"starting_balance\":%s}",
                       a.uid, it_json_quote(a.x), it_json_quote(balance)));
    it_assert_status(r, 201);
    a.id = it_printf("%s", it_json_str(r.json, "account_id"));
    ck_assert_msg(it_is_uuid(a.id), "%s", it_describe(&r));
    a.wallet = int_member(&r, r.json, "wallet_id");
    a.wallet_text = it_lltext(a.wallet);
    it_response_free(&r);
    return a;
}

static account_t new_account(const char *key, const char *balance)
{
    return new_account_of(key, 0, balance);
}

static it_response_t get_account(const char *key, const account_t *a)
{
    return call(key, "GET", account_path(a->id, NULL), NULL);
}

/* GET .../trades with a query string ("" or "limit=5&side=BUY"). */
static it_response_t get_trades_id(const char *key, const char *account_id, const char *query)
{
    return call(key, "GET",
                it_printf(ACCOUNTS "/%s/trades%s%s", account_id, query && *query ? "?" : "",
                          query ? query : ""),
                NULL);
}

static it_response_t get_trades(const account_t *a, const char *query)
{
    return get_trades_id(DEMO, a->id, query);
}

static it_response_t get_orders_q(const char *key, const account_t *a, const char *query)
{
    return call(key, "GET",
                it_printf(ACCOUNTS "/%s/orders%s%s", a->id, query && *query ? "?" : "",
                          query ? query : ""),
                NULL);
}

static it_response_t post_order_key(const char *key, const char *account_id, const char *body)
{
    return call(key, "POST", account_path(account_id, "/orders"), body);
}

static it_response_t post_order(const account_t *a, const char *body)
{
    return post_order_key(DEMO, a->id, body);
}

static it_response_t cancel_order_key(const char *key, const char *account_id, const char *order_id)
{
    return call(key, "POST", it_printf(ACCOUNTS "/%s/orders/%s/cancel", account_id, order_id),
                NULL);
}

/* An order body; NULL members are omitted. */
static char *order_body(const char *tok, const char *side, const char *type, const char *qty,
                        const char *limit_price, const char *worst_price, const char *coid)
{
    char *b = it_printf("{\"token_id\":%s,\"side\":%s,\"type\":%s,\"quantity\":%s",
                        it_json_quote(tok), it_json_quote(side), it_json_quote(type),
                        it_json_quote(qty));
    if (limit_price) b = it_printf("%s,\"limit_price\":%s", b, it_json_quote(limit_price));
    if (worst_price) b = it_printf("%s,\"worst_price\":%s", b, it_json_quote(worst_price));
    if (coid) b = it_printf("%s,\"client_order_id\":%s", b, it_json_quote(coid));
    return it_printf("%s}", b);
}

/* A market order that must fill; returns its order id. */
static long long market_order(const account_t *a, const char *tok, const char *side,
                              const char *qty, const char *coid)
{
    it_response_t r = post_order(a, order_body(tok, side, "market", qty, NULL, NULL, coid));
    long long id;
    it_assert_status(r, 201);
    assert_str(r, r.json, "status", "filled");
    id = int_member(&r, r.json, "order_id");
    it_response_free(&r);
    return id;
}

/* A limit order; returns its order id, *status the resulting status. */
static long long limit_order(const account_t *a, const char *tok, const char *side, const char *qty,
                             const char *price, const char *coid, const char *want_status)
{
    it_response_t r = post_order(a, order_body(tok, side, "limit", qty, price, NULL, coid));
    long long id;
    it_assert_status(r, 201);
    if (want_status) assert_str(r, r.json, "status", want_status);
    id = int_member(&r, r.json, "order_id");
    it_response_free(&r);
    return id;
}

/* ---- market fixtures ------------------------------------------------------------- */

typedef struct {
    char *cond;
    char *yes;
    char *no;
} market_t;

/* A new open market with two outcomes on tick (NULL: 0.01), no prices yet. */
static market_t new_market_q(const char *question, const char *slug, const char *tick)
{
    market_t m;
    m.cond = it_unique("0xcond");
    m.yes = it_token_id();
    m.no = it_token_id();
    it_db_scalar("select pp_upsert_market($1, $2, $3, false, $4::jsonb)::text", m.cond, question,
                 slug,
                 it_printf("[{\"token_id\":\"%s\",\"outcome\":\"Yes\",\"tick_size\":\"%s\"},"
                           "{\"token_id\":\"%s\",\"outcome\":\"No\",\"tick_size\":\"%s\"}]",
                           m.yes, tick ? tick : "0.01", m.no, tick ? tick : "0.01"));
    return m;
}

static market_t new_market(void)
{
    return new_market_q("Q", it_unique("slug"), NULL);
}

/* Applies one price update (raw JSON members after token_id); returns the
 * number of resting orders it filled. */
static long long price_update(const char *tok, const char *members)
{
    return it_db_int("select pp_apply_price_updates($1::jsonb)",
                     it_printf("[{\"token_id\":\"%s\"%s%s}]", tok, members && *members ? "," : "",
                               members ? members : ""));
}

/* Top of book without depth. */
static long long quote(const char *tok, const char *bid, const char *ask)
{
    return price_update(tok, it_printf("\"best_bid\":\"%s\",\"best_ask\":\"%s\"", bid, ask));
}

/* A market with Yes quoted bid/ask (no depth) and No quoted too. */
static market_t quoted_market(const char *bid, const char *ask)
{
    market_t m = new_market();
    quote(m.yes, bid, ask);
    quote(m.no, "0.50", "0.55");
    return m;
}

/* ---- database views ---------------------------------------------------------------- */

static char *wallet_balance(const account_t *a)
{
    return it_db_scalar("select balance::text from wallets where id = $1::bigint", a->wallet_text);
}

static long long count_orders(const account_t *a)
{
    return it_db_int("select count(*) from orders where wallet_id = $1::bigint", a->wallet_text);
}

static long long count_fills(const account_t *a)
{
    return it_db_int("select count(*) from fills where wallet_id = $1::bigint", a->wallet_text);
}

static long long count_ledger(const account_t *a)
{
    return it_db_int("select count(*) from ledger where wallet_id = $1::bigint", a->wallet_text);
}

/* Everything a rejected order must leave alone. */
static char *wallet_snapshot(const account_t *a)
{
    return it_db_scalar(
        "select format('%s|%s|%s|%s|%s', w.balance, "
        "(select count(*) || '/' || coalesce(sum(amount), 0) from ledger l where l.wallet_id = w.id), "
        "(select count(*) || '/' || coalesce(string_agg(o.id || o.status, ',' order by o.id), '') "
        " from orders o where o.wallet_id = w.id), "
        "(select count(*) from fills f where f.wallet_id = w.id), "
        "(select coalesce(string_agg(p.id || ':' || p.quantity || ':' || p.reserved_quantity || "
        " ':' || coalesce(p.closed_at::text, '-'), ',' order by p.id), '') from positions p "
        " where p.wallet_id = w.id)) from wallets w where w.id = $1::bigint",
        a->wallet_text);
}

/* ---- invariants ------------------------------------------------------------------ */

/* For every wallet: balance = sum of its ledger; none negative; reserved
 * shares match open SELL orders; every fill belongs to a filled order. */
static void assert_invariants(void)
{
    long long n = it_db_int("select count(*) from wallets w where balance <> (select "
                            "coalesce(sum(amount), 0) from ledger l where l.wallet_id = w.id)");
    ck_assert_msg(n == 0, "%lld wallet(s) whose balance is not the sum of their ledger", n);
    ck_assert_int_eq(it_db_int("select count(*) from wallets where balance < 0"), 0);
    n = it_db_int("select count(*) from positions p where p.closed_at is null and "
                  "p.archived_at is null and p.reserved_quantity <> (select "
                  "coalesce(sum(o.reserved_shares), 0) from orders o where o.wallet_id = "
                  "p.wallet_id and o.token_id = p.token_id and o.status = 'open')");
    ck_assert_msg(n == 0,
                  "%lld open position(s) whose reserved_quantity does not match "
                  "their open SELL orders",
                  n);
    n = it_db_int("select count(*) from fills f join orders o on o.id = f.order_id "
                  "where o.status <> 'filled'");
    ck_assert_msg(n == 0, "%lld fill(s) of orders that are not filled", n);
    n = it_db_int("select count(*) from orders o where o.status = 'filled' and not exists "
                  "(select 1 from fills f where f.order_id = o.id)");
    ck_assert_msg(n == 0, "%lld filled order(s) without a fill", n);
}

/* ---- trades feed helpers ------------------------------------------------------------- */

static json_object *page_data(const it_response_t *r)
{
    json_object *d = it_json_get(r->json, "data");
    ck_assert_msg(d && json_object_is_type(d, json_type_array), "data must be an array: %s",
                  it_describe(r));
    return d;
}

static const char *page_cursor(const it_response_t *r)
{
    ck_assert_msg(it_json_has(r->json, "next_cursor"), "no next_cursor: %s", it_describe(r));
    return it_json_str(r->json, "next_cursor");
}

/* A 200 page with exactly {data, next_cursor}. */
static void assert_page(const it_response_t *r)
{
    it_assert_status(*r, 200);
    ck_assert_msg(it_json_keys_are(r->json, page_keys), "page keys: %s", it_describe(r));
    page_data(r);
    {
        json_object *c = it_json_get(r->json, "next_cursor");
        ck_assert_msg(c == NULL
                          || (json_object_is_type(c, json_type_string)
                              && json_object_get_string_len(c) > 0),
                      "next_cursor must be null or a non-empty string: %s", it_describe(r));
    }
}

#define RE_QTY     "^(0|[1-9][0-9]*)\\.[0-9]{4}$"
#define RE_MONEY   "^(0|[1-9][0-9]*)\\.[0-9]{2}$"
#define RE_PRICE   "^0\\.[0-9]{4}$"
#define RE_TIME_US "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"

/* One trade item is exactly as the spec shows it. */
static void assert_trade_shape(const it_response_t *r, json_object *t)
{
    json_object *v;
    ck_assert_msg(it_json_keys_are(t, trade_keys), "trade keys: %s", json_object_to_json_string(t));
    ck_assert_msg(int_member(r, t, "trade_id") == int_member(r, t, "order_id"),
                  "trade_id != order_id: %s", json_object_to_json_string(t));
    ck_assert_msg(it_matches(it_json_str(t, "price"), RE_PRICE), "price: %s",
                  json_object_to_json_string(t));
    ck_assert_msg(it_matches(it_json_str(t, "quantity"), RE_QTY), "quantity: %s",
                  json_object_to_json_string(t));
    ck_assert_msg(it_matches(it_json_str(t, "notional"), RE_MONEY), "notional: %s",
                  json_object_to_json_string(t));
    ck_assert_msg(it_matches(it_json_str(t, "fee"), RE_MONEY), "fee: %s",
                  json_object_to_json_string(t));
    ck_assert_msg(it_matches(it_json_str(t, "filled_at"), RE_TIME_US), "filled_at: %s",
                  json_object_to_json_string(t));
    ck_assert_msg(it_matches(it_json_str(t, "side"), "^(BUY|SELL)$"), "side: %s",
                  json_object_to_json_string(t));
    ck_assert_msg(it_json_str(t, "market_id") != NULL, "market_id: %s",
                  json_object_to_json_string(t));
    ck_assert_msg(it_json_str(t, "outcome") != NULL, "outcome: %s", json_object_to_json_string(t));
    v = it_json_get(t, "client_order_id");
    ck_assert_msg(v == NULL || json_object_is_type(v, json_type_string),
                  "client_order_id must be a string or null: %s", json_object_to_json_string(t));
    ck_assert_msg(it_json_has(t, "realized_pnl") && it_json_get(t, "realized_pnl") == NULL,
                  "realized_pnl must be null: %s", json_object_to_json_string(t));
}

static long long item_id(json_object *t)
{
    return (long long)json_object_get_int64(json_object_object_get(t, "order_id"));
}

/* The ids of a page's items, in order, as "id,id,..." ("" when empty). */
static char *page_ids(const it_response_t *r)
{
    json_object *d = page_data(r);
    size_t i, n = json_object_array_length(d);
    char *s = it_printf("%s", "");
    for (i = 0; i < n; i++) {
        s = it_printf("%s%s%lld", s, i ? "," : "", item_id(json_object_array_get_idx(d, i)));
    }
    return s;
}

/* What the feed must show for a wallet and filter, straight from the table. */
static char *expected_ids(const account_t *a, const char *side, const char *cond)
{
    char *s = it_db_scalar("select coalesce(string_agg(order_id::text, ',' order by filled_at "
                           "desc, order_id desc), '') from fills where wallet_id = $1::bigint "
                           "and ($2 = '' or side = $2) and ($3 = '' or condition_id = $3)",
                           a->wallet_text, side ? side : "", cond ? cond : "");
    return s ? s : it_printf("%s", "");
}

/* All pages of a feed (query without cursor), checking each; the ids joined. */
static char *all_pages(const account_t *a, const char *query, int *pages)
{
    char *ids = it_printf("%s", ""), *cursor = NULL;
    int n = 0;
    for (;;) {
        it_response_t r = get_trades(a, cursor ? it_printf("%s%scursor=%s", query,
                                                           *query ? "&" : "", cursor)
                                               : query);
        const char *c;
        char *p;
        assert_page(&r);
        p = page_ids(&r);
        if (*p) ids = it_printf("%s%s%s", ids, *ids ? "," : "", p);
        c = page_cursor(&r);
        n++;
        ck_assert_msg(n < 1000, "paging does not end");
        if (!c) break;
        cursor = it_printf("%s", c);
        it_response_free(&r);
    }
    if (pages) *pages = n;
    return ids;
}

/* ---- bulk fills through the engine ------------------------------------------------- */

/* n resting limit orders of 1 share each (BUY at 0.30, SELL at 0.60, with
 * optional client order ids "<coid>-<i>"), then a price update that crosses
 * them all: n fills in one transaction. A SELL batch needs the shares. */
static void fill_batch(const account_t *a, const char *tok, const char *side, int n)
{
    char *nt = it_printf("%d", n);
    ck_assert_int_eq(it_db_int("select count(pp_engine_rest_limit_order($1::bigint, $2, $3, 1, "
                               "case when $3 = 'BUY' then 0.30 else 0.60 end)) from "
                               "generate_series(1, $4::int)",
                               a->wallet_text, tok, side, nt),
                     n);
    if (strcmp(side, "BUY") == 0) {
        ck_assert_int_ge(quote(tok, "0.29", "0.30"), n);
    }
    else {
        ck_assert_int_ge(quote(tok, "0.60", "0.61"), n);
    }
}

/* The page is ordered filled_at DESC, order_id DESC and every item is well formed. */
static void assert_page_order(const it_response_t *r)
{
    json_object *d = page_data(r);
    size_t i, n = json_object_array_length(d);
    for (i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(d, i);
        assert_trade_shape(r, t);
        if (i > 0) {
            json_object *p = json_object_array_get_idx(d, i - 1);
            int c = strcmp(it_json_str(p, "filled_at"), it_json_str(t, "filled_at"));
            ck_assert_msg(c > 0 || (c == 0 && item_id(p) > item_id(t)),
                          "items %zu and %zu out of order: %s / %s", i - 1, i,
                          json_object_to_json_string(p), json_object_to_json_string(t));
        }
    }
}

static char *cursor_of(const account_t *a, const char *key, const char *query)
{
    it_response_t r = get_trades_id(key, a->id, query);
    const char *c;
    assert_page(&r);
    c = page_cursor(&r);
    ck_assert_msg(c != NULL, "expected a next_cursor: %s", it_describe(&r));
    return it_printf("%s", c);
}

START_TEST(test_trades_only_fills)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.42");
    long long filled = market_order(&a, m.yes, "BUY", "5", NULL);
    long long open = limit_order(&a, m.yes, "BUY", "5", "0.30", NULL, "open");
    long long cancelled = limit_order(&a, m.yes, "BUY", "5", "0.31", NULL, "open");
    it_response_t c = cancel_order_key(DEMO, a.id, it_lltext(cancelled)), r;

    it_assert_status(c, 200);
    r = get_trades(&a, "");
    assert_page(&r);
    ck_assert_str_eq(page_ids(&r), it_lltext(filled));
    ck_assert_ptr_null(page_cursor(&r));
    ck_assert_int_ne(open, filled);
    assert_invariants();
}
END_TEST

START_TEST(test_trades_empty)
{
    account_t a = new_account(DEMO, "1000");
    it_response_t r = get_trades(&a, "");
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 0);
    ck_assert_ptr_null(page_cursor(&r));
    it_response_free(&r);
    r = get_trades(&a, "side=sell&market_id=nothing&limit=500");
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 0);
    ck_assert_ptr_null(page_cursor(&r));
}
END_TEST

START_TEST(test_trades_order_and_filters)
{
    account_t a = new_account(DEMO, "10000");
    account_t b = new_account(DEMO, "10000");
    market_t m1 = quoted_market("0.40", "0.42"), m2 = quoted_market("0.20", "0.25");
    static const char *const queries[][3] = {
        /* query, side, market (1/2 for m1/m2) */
        { "", "", "" },
        { "side=buy", "BUY", "" },
        { "side=SELL", "SELL", "" },
        { "side=Sell", "SELL", "" },
        { "market_id=1", "", "1" },
        { "market_id=2", "", "2" },
        { "side=BUY&market_id=2", "BUY", "2" },
        { "market_id=1&side=sell", "SELL", "1" },
    };
    size_t i;

    /* interleaved fills: HTTP market orders and batches matched by price updates */
    market_order(&a, m1.yes, "BUY", "10", "a-1");
    market_order(&a, m2.no, "BUY", "3", NULL);
    fill_batch(&a, m2.yes, "BUY", 6);
    market_order(&a, m1.yes, "SELL", "4", NULL);
    fill_batch(&a, m2.yes, "SELL", 3);
    market_order(&a, m1.no, "BUY", "2.5", "a-2");
    market_order(&b, m1.yes, "BUY", "1", NULL); /* another account's fill */
    ck_assert_int_eq(count_fills(&a), 13);

    for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        const char *cond = *queries[i][2] == '1' ? m1.cond : *queries[i][2] == '2' ? m2.cond : "";
        char *q = it_printf("%s", queries[i][0]);
        it_response_t r;
        if (*cond) {
            char *at = strstr(q, "market_id=");
            q = it_printf("%.*smarket_id=%s%s", (int)(at - q), q, cond, at + strlen("market_id=1"));
        }
        r = get_trades(&a, q);
        assert_page(&r);
        assert_page_order(&r);
        ck_assert_msg(strcmp(page_ids(&r), expected_ids(&a, queries[i][1], cond)) == 0,
                      "query %s: got %s, want %s", q, page_ids(&r),
                      expected_ids(&a, queries[i][1], cond));
        ck_assert_msg(page_cursor(&r) == NULL, "query %s: next_cursor must be null", q);
        {
            json_object *d = page_data(&r);
            size_t k;
            for (k = 0; k < json_object_array_length(d); k++) {
                json_object *t = json_object_array_get_idx(d, k);
                if (*queries[i][1]) assert_str(r, t, "side", queries[i][1]);
                if (*cond) assert_str(r, t, "market_id", cond);
            }
        }
        it_response_free(&r);
    }
    /* an unknown market matches nothing; the feed never shows b's fill */
    {
        it_response_t r = get_trades(&a, "market_id=0xnomarket");
        assert_page(&r);
        ck_assert_int_eq(json_object_array_length(page_data(&r)), 0);
        ck_assert_ptr_null(page_cursor(&r));
        it_response_free(&r);
        r = get_trades(&b, "");
        ck_assert_str_eq(page_ids(&r), expected_ids(&b, NULL, NULL));
        ck_assert_int_eq(json_object_array_length(page_data(&r)), 1);
    }
    assert_invariants();
}
END_TEST

START_TEST(test_trades_default_limit_and_bounds)
{
    account_t a = new_account(DEMO, "10000");
    market_t m = new_market();
    it_response_t r;
    char *want = NULL, *got;
    const char *c;

    fill_batch(&a, m.yes, "BUY", 105);
    want = expected_ids(&a, NULL, NULL);

    r = get_trades(&a, ""); /* default 100 */
    assert_page(&r);
    assert_page_order(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 100);
    c = page_cursor(&r);
    ck_assert_ptr_nonnull(c);
    got = page_ids(&r);
    ck_assert_msg(strncmp(want, got, strlen(got)) == 0, "first page is not the newest 100");
    r = get_trades(&a, it_printf("cursor=%s", c));
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 5);
    ck_assert_ptr_null(page_cursor(&r));
    ck_assert_str_eq(it_printf("%s,%s", got, page_ids(&r)), want);

    r = get_trades(&a, "limit=500");
    assert_page(&r);
    ck_assert_str_eq(page_ids(&r), want);
    ck_assert_ptr_null(page_cursor(&r));

    r = get_trades(&a, "limit=105"); /* exactly all: no further page */
    assert_page(&r);
    ck_assert_str_eq(page_ids(&r), want);
    ck_assert_ptr_null(page_cursor(&r));

    r = get_trades(&a, "limit=104");
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 104);
    ck_assert_ptr_nonnull(page_cursor(&r));

    r = get_trades(&a, "limit=1");
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 1);
    ck_assert_ptr_nonnull(page_cursor(&r));

    assert_invariants();
}
END_TEST

START_TEST(test_trades_paging)
{
    account_t a = new_account(DEMO, "10000");
    market_t m = quoted_market("0.40", "0.42"), m2 = new_market();
    char *want, *got;
    int pages = 0, i;

    for (i = 0; i < 8; i++) {
        market_order(&a, m.yes, "BUY", "1", i % 2 ? it_printf("p-%d", i) : NULL);
    }
    fill_batch(&a, m2.yes, "BUY", 10);
    for (i = 0; i < 5; i++) {
        market_order(&a, m.yes, "SELL", "1", NULL);
    }
    ck_assert_int_eq(count_fills(&a), 23);
    want = expected_ids(&a, NULL, NULL);

    got = all_pages(&a, "limit=5", &pages);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(pages, 5);
    got = all_pages(&a, "limit=23", &pages);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(pages, 1);
    got = all_pages(&a, "limit=1", &pages);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(pages, 23);
    got = all_pages(&a, "limit=22", &pages);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(pages, 2);
    /* with filters, through their own cursors */
    ck_assert_str_eq(all_pages(&a, "limit=2&side=sell", NULL), expected_ids(&a, "SELL", NULL));
    ck_assert_str_eq(all_pages(&a, "limit=3&side=BUY", NULL), expected_ids(&a, "BUY", NULL));
    ck_assert_str_eq(all_pages(&a, it_printf("limit=4&market_id=%s", m2.cond), NULL),
                     expected_ids(&a, NULL, m2.cond));
    ck_assert_str_eq(all_pages(&a, it_printf("limit=4&side=buy&market_id=%s", m.cond), NULL),
                     expected_ids(&a, "BUY", m.cond));
    /* the empty cursor is the first page */
    {
        it_response_t r = get_trades(&a, "limit=5&cursor=");
        it_response_t f = get_trades(&a, "limit=5");
        assert_page(&r);
        ck_assert_str_eq(page_ids(&r), page_ids(&f));
    }
    assert_invariants();
}
END_TEST

START_TEST(test_trades_paging_while_fills_arrive)
{
    account_t a = new_account(DEMO, "10000");
    market_t m = quoted_market("0.40", "0.42"), m2 = new_market();
    char *want, *got = it_printf("%s", ""), *cursor = NULL, *newer;
    int i, pages = 0;

    for (i = 0; i < 12; i++) {
        market_order(&a, m.yes, "BUY", "1", NULL);
    }
    want = expected_ids(&a, NULL, NULL);
    for (;;) {
        it_response_t r = get_trades(&a,
                                     cursor ? it_printf("limit=5&cursor=%s", cursor) : "limit=5");
        const char *c;
        char *p;
        assert_page(&r);
        assert_page_order(&r);
        p = page_ids(&r);
        if (*p) got = it_printf("%s%s%s", got, *got ? "," : "", p);
        c = page_cursor(&r);
        pages++;
        if (!c) break;
        cursor = it_printf("%s", c);
        /* new fills between the pages: by HTTP, and a batch by a price update */
        market_order(&a, m.yes, "BUY", "1", NULL);
        market_order(&a, m.yes, "SELL", "1", NULL);
        fill_batch(&a, m2.yes, "BUY", 2);
        it_response_free(&r);
    }
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(pages, 3);
    /* the new fills are on a fresh first page, all before the old ones */
    newer = expected_ids(&a, NULL, NULL);
    ck_assert_int_eq(count_fills(&a), 12 + 2 * 4); /* two interludes */
    ck_assert_str_eq(all_pages(&a, "limit=7", NULL), newer);
    ck_assert_msg(strlen(newer) > strlen(want)
                      && strcmp(newer + strlen(newer) - strlen(want), want) == 0
                      && newer[strlen(newer) - strlen(want) - 1] == ',',
                  "new fills must sort before the old ones: %s / %s", newer, want);
    assert_invariants();
}
END_TEST

/* A cursor with one character at position i changed. */
static char *tamper(const char *c, size_t i)
{
    char *t = it_printf("%s", c);
    t[i] = t[i] == 'A' ? 'B' : 'A';
    return t;
}

static void expect_invalid_cursor(const account_t *a, const char *query)
{
    it_response_t r = get_trades(a, query);
    it_assert_error(r, 400, "INVALID_CURSOR");
    it_response_free(&r);
}

START_TEST(test_trades_cursor_attacks)
{
    account_t a = new_account(DEMO, "10000");
    account_t b = new_account_of(DEMO, a.uid, "10000"); /* same trader, same tenant */
    account_t o = new_account(OTHER, "10000");
    market_t m = quoted_market("0.40", "0.42"), m2 = new_market();
    char *c, *cb, *cs, *cm, *ord = NULL, *cother;
    size_t i, n;
    static const char *const garbage[] = {
        "abc",
        "x",
        ".",
        "..",
        "a.b",
        "!!!!",
        "%2e",
        "eyJmaWxsZWRfYXQiOjF9",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAA",
        "null",
        "0",
        "-1",
        "%E2%82%AC",
        NULL
    };

    for (i = 0; i < 4; i++) {
        market_order(&a, m.yes, i % 2 ? "SELL" : "BUY", "1", NULL);
        market_order(&b, m.yes, "BUY", "1", NULL);
    }
    fill_batch(&a, m2.yes, "BUY", 4);
    fill_batch(&b, m2.yes, "BUY", 4);
    {
        /* another tenant's account with fills, through the engine directly */
        char *p;
        it_db_scalar("select pp_engine_rest_limit_order($1::bigint, $2, 'BUY', 1, 0.30)::text "
                     "from generate_series(1, 3)",
                     o.wallet_text, m2.yes);
        p = it_db_scalar("select pp_apply_price_updates($1::jsonb)::text",
                         it_printf("[{\"token_id\":\"%s\",\"best_bid\":\"0.20\","
                                   "\"best_ask\":\"0.25\"}]",
                                   m2.yes));
        ck_assert_ptr_nonnull(p);
    }

    c = cursor_of(&a, DEMO, "limit=2");
    /* the genuine cursor works */
    {
        it_response_t r = get_trades(&a, it_printf("limit=2&cursor=%s", c));
        assert_page(&r);
        ck_assert_int_eq(json_object_array_length(page_data(&r)), 2);
    }
    /* every single changed character */
    n = strlen(c);
    for (i = 0; i < n; i++) {
        it_response_t r = get_trades(&a, it_printf("limit=2&cursor=%s", tamper(c, i)));
        ck_assert_msg(r.status == 400, "cursor changed at %zu/%zu (%s -> %s) accepted: %s", i, n, c,
                      tamper(c, i), it_describe(&r));
        it_assert_error(r, 400, "INVALID_CURSOR");
        it_response_free(&r);
    }
    /* truncated, extended, its halves swapped */
    for (i = 1; i < n; i += (n / 8 ? n / 8 : 1)) {
        expect_invalid_cursor(&a, it_printf("limit=2&cursor=%.*s", (int)(n - i), c));
    }
    expect_invalid_cursor(&a, it_printf("limit=2&cursor=%.*s", (int)(n - 1), c));
    expect_invalid_cursor(&a, it_printf("limit=2&cursor=%sA", c));
    expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s.", c));
    expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s%s", c, c));
    {
        const char *dot = strchr(c, '.');
        ck_assert_ptr_nonnull(dot);
        expect_invalid_cursor(&a, it_printf("limit=2&cursor=%.*s", (int)(dot - c), c));
        expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s", dot + 1));
        expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s.%.*s", dot + 1, (int)(dot - c), c));
    }
    for (i = 0; garbage[i]; i++) {
        expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s", garbage[i]));
    }
    /* another account of the same tenant (same trader) */
    cb = cursor_of(&b, DEMO, "limit=2");
    expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s", cb));
    /* another tenant's account */
    cother = cursor_of(&o, OTHER, "limit=1");
    expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s", cother));
    /* another filter set */
    cs = cursor_of(&a, DEMO, "limit=2&side=buy");
    expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s", cs));
    expect_invalid_cursor(&a, it_printf("limit=2&side=sell&cursor=%s", cs));
    expect_invalid_cursor(&a, it_printf("limit=2&market_id=%s&side=buy&cursor=%s", m.cond, cs));
    expect_invalid_cursor(&a, it_printf("limit=2&side=sell&cursor=%s", c));
    expect_invalid_cursor(&a, it_printf("limit=2&side=BUY&cursor=%s", c));
    expect_invalid_cursor(&a, it_printf("limit=2&market_id=%s&cursor=%s", m.cond, c));
    cm = cursor_of(&a, DEMO, it_printf("limit=2&market_id=%s", m.cond));
    expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s", cm));
    expect_invalid_cursor(&a, it_printf("limit=2&market_id=%s&cursor=%s", m2.cond, cm));
    /* side case does not matter: BUY and buy are one filter */
    {
        it_response_t r = get_trades(&a, it_printf("limit=2&side=BUY&cursor=%s", cs));
        assert_page(&r);
        it_response_free(&r);
        /* a different limit is fine: it is not a filter */
        r = get_trades(&a, it_printf("limit=3&cursor=%s", c));
        assert_page(&r);
        ck_assert_int_eq(json_object_array_length(page_data(&r)), 3);
    }
    /* an orders-list cursor here, a trades cursor there */
    {
        it_response_t r = get_orders_q(DEMO, &a, "limit=1");
        assert_page(&r);
        ck_assert_ptr_nonnull(page_cursor(&r));
        ord = it_printf("%s", page_cursor(&r));
        expect_invalid_cursor(&a, it_printf("limit=2&cursor=%s", ord));
        it_response_free(&r);
        r = get_orders_q(DEMO, &a, it_printf("limit=1&cursor=%s", c));
        it_assert_error(r, 400, "INVALID_CURSOR");
        it_response_free(&r);
    }
    /* a cursor is no key: the wrong-account cursor through the right key still fails,
     * and a cursor never turns a foreign account into a readable one */
    {
        it_response_t r = get_trades_id(DEMO, o.id, it_printf("limit=2&cursor=%s", cother));
        it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
    }
    assert_invariants();
}
END_TEST

typedef struct {
    const char *account_id;
    const char *body_buy;
    const char *body_sell;
    atomic_int stop;
    int placed;
} writer_t;

static void *writer_run(void *arg)
{
    writer_t *w = arg;
    while (!atomic_load(&w->stop)) {
        it_response_t r = it_request("POST", account_path(w->account_id, "/orders"),
                                     IT_HEADERS(it_key_header(DEMO)),
                                     w->placed % 2 ? w->body_sell : w->body_buy);
        if (r.status == 201) w->placed++;
        it_response_free(&r);
    }
    return NULL;
}

/* Fills committed by another client while this one pages: the pages never
 * repeat or skip a row at or older than the first row it saw. */
START_TEST(test_trades_paging_under_concurrent_fills)
{
    account_t a = new_account(DEMO, "10000");
    market_t m = quoted_market("0.40", "0.42");
    writer_t w;
    pthread_t th;
    char *got = it_printf("%s", ""), *cursor = NULL, *top_at = NULL, *top_id = NULL, *want;
    int i, pages = 0;

    fill_batch(&a, m.yes, "BUY", 30);
    for (i = 0; i < 5; i++) {
        market_order(&a, m.yes, "BUY", "1", NULL);
    }
    memset(&w, 0, sizeof(w));
    w.account_id = a.id;
    w.body_buy = order_body(m.yes, "BUY", "market", "1", NULL, NULL, NULL);
    w.body_sell = order_body(m.yes, "SELL", "market", "1", NULL, NULL, NULL);
    ck_assert_int_eq(pthread_create(&th, NULL, writer_run, &w), 0);
    it_sleep_ms(50);
    for (;;) {
        it_response_t r = get_trades(&a,
                                     cursor ? it_printf("limit=3&cursor=%s", cursor) : "limit=3");
        const char *c;
        char *p;
        assert_page(&r);
        assert_page_order(&r);
        if (!top_at) {
            json_object *t = json_object_array_get_idx(page_data(&r), 0);
            top_at = it_printf("%s", it_json_str(t, "filled_at"));
            top_id = it_lltext(item_id(t));
        }
        p = page_ids(&r);
        if (*p) got = it_printf("%s%s%s", got, *got ? "," : "", p);
        pages++;
        ck_assert_int_lt(pages, 1000);
        c = page_cursor(&r);
        if (!c) break;
        cursor = it_printf("%s", c);
        it_response_free(&r);
        it_sleep_ms(5);
    }
    atomic_store(&w.stop, 1);
    pthread_join(th, NULL);
    ck_assert_msg(w.placed > 0, "the writer placed nothing");
    want = it_db_scalar("select string_agg(order_id::text, ',' order by filled_at desc, "
                        "order_id desc) from fills where wallet_id = $1::bigint and "
                        "(filled_at, order_id) <= ($2::timestamptz, $3::bigint)",
                        a.wallet_text, top_at, top_id);
    ck_assert_str_eq(got, want);
    ck_assert_int_ge(pages, 12);
    /* and everything, new rows included, once on a fresh walk */
    ck_assert_str_eq(all_pages(&a, "limit=7", NULL), expected_ids(&a, NULL, NULL));
    assert_invariants();
}
END_TEST

START_TEST(test_trades_query_rules)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.42");
    char *long_market = malloc(257);
    it_response_t r;

    market_order(&a, m.yes, "BUY", "1", NULL);
    memset(long_market, 'm', 256);
    long_market[256] = 0;
    /* a parameter given twice */
    r = get_trades(&a, "limit=5&limit=5");
    it_assert_error(r, 422, "VALIDATION_FAILED");
    r = get_trades(&a, "side=buy&side=buy");
    it_assert_error(r, 422, "VALIDATION_FAILED");
    r = get_trades(&a, it_printf("market_id=%s&market_id=%s", m.cond, m.cond));
    it_assert_error(r, 422, "VALIDATION_FAILED");
    r = get_trades(&a, "cursor=&cursor=");
    it_assert_error(r, 422, "VALIDATION_FAILED");
    /* market_id: 1-255 bytes */
    r = get_trades(&a, it_printf("market_id=%s", long_market));
    it_assert_error(r, 422, "VALIDATION_FAILED");
    long_market[255] = 0;
    r = get_trades(&a, it_printf("market_id=%s", long_market));
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 0);
    /* percent-encoded values are decoded */
    r = get_trades(&a, "side=%42uy");
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 1);
    /* unknown parameters are ignored */
    r = get_trades(&a, "offset=10&page=2");
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 1);
}
END_TEST

START_TEST(test_trades_survive_close_and_reset)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.42");
    char *want;
    it_response_t r;

    market_order(&a, m.yes, "BUY", "10", NULL);
    market_order(&a, m.yes, "SELL", "3", "close-1");
    want = expected_ids(&a, NULL, NULL);

    r = call(DEMO, "POST", account_path(a.id, "/close"), NULL);
    it_assert_status(r, 200);
    ck_assert_str_eq(all_pages(&a, "", NULL), want);
    ck_assert_str_eq(all_pages(&a, "limit=1", NULL), want);
    r = get_trades_id(READONLY, a.id, "");
    assert_page(&r);
    ck_assert_str_eq(page_ids(&r), want);

    r = call(DEMO, "POST", account_path(a.id, "/reset"), NULL);
    it_assert_status(r, 200);
    ck_assert_str_eq(all_pages(&a, "", NULL), want);
    ck_assert_str_eq(all_pages(&a, "limit=1", NULL), want);
    /* trading after the reset adds to the same feed */
    market_order(&a, m.yes, "BUY", "1", NULL);
    ck_assert_int_eq(count_fills(&a), 3);
    ck_assert_str_eq(all_pages(&a, "limit=2", NULL), expected_ids(&a, NULL, NULL));
    assert_invariants();
}
END_TEST

/* ================================================================================== */
/* GET .../trades                                                                       */
/* ================================================================================== */

START_TEST(test_trades_shape)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.42");
    long long buy = market_order(&a, m.yes, "BUY", "10", "coid-shape-1");
    long long sell = market_order(&a, m.yes, "SELL", "4", NULL);
    it_response_t r = get_trades(&a, "");
    json_object *d, *t;

    assert_page(&r);
    d = page_data(&r);
    ck_assert_int_eq(json_object_array_length(d), 2);
    ck_assert_ptr_null(page_cursor(&r));
    /* newest first */
    t = json_object_array_get_idx(d, 0);
    assert_trade_shape(&r, t);
    ck_assert_int_eq(item_id(t), sell);
    assert_str(r, t, "market_id", m.cond);
    assert_str(r, t, "side", "SELL");
    assert_str(r, t, "outcome", "Yes");
    assert_str(r, t, "price", "0.4000");
    assert_str(r, t, "quantity", "4.0000");
    assert_str(r, t, "notional", "1.60");
    assert_str(r, t, "fee", "0.00");
    assert_null(r, t, "client_order_id");

    t = json_object_array_get_idx(d, 1);
    assert_trade_shape(&r, t);
    ck_assert_int_eq(item_id(t), buy);
    ck_assert_int_eq(int_member(&r, t, "trade_id"), buy);
    assert_str(r, t, "side", "BUY");
    assert_str(r, t, "price", "0.4200");
    assert_str(r, t, "quantity", "10.0000");
    assert_str(r, t, "notional", "4.20");
    assert_str(r, t, "client_order_id", "coid-shape-1");
    /* filled_at is the stored instant, with its microseconds */
    assert_str(r, t, "filled_at",
               it_db_scalar("select to_char(filled_at at time zone 'UTC', "
                            "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') from fills where order_id = "
                            "$1::bigint",
                            it_lltext(buy)));
    assert_invariants();
}
END_TEST

START_TEST(test_trades_limit_validation)
{
    static const char *const bad[] = { "limit=0",   "limit=501", "limit=abc", "limit=-1",
                                       "limit=1.5", "limit=",    "limit=1e2", "limit=%201",
                                       "side=hold", "side=",     "side=BUYX", "side=buy%20",
                                       NULL };
    account_t a = new_account(DEMO, "1000");
    int i;
    for (i = 0; bad[i]; i++) {
        it_response_t r = get_trades(&a, bad[i]);
        it_assert_error(r, 422, "VALIDATION_FAILED");
        it_response_free(&r);
    }
    {
        static const char *const ok[] = { "limit=1",   "limit=500", "side=buy",  "side=SELL",
                                          "side=Sell", "side=bUy",  "unknown=1", NULL };
        for (i = 0; ok[i]; i++) {
            it_response_t r = get_trades(&a, ok[i]);
            assert_page(&r);
            it_response_free(&r);
        }
    }
}
END_TEST

START_TEST(test_order_market_buy_at_best_ask)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t r = post_order(&a, order_body(m.yes, "buy", "market", "100", NULL, NULL, NULL));
    json_object *f;

    it_assert_status(r, 201);
    ck_assert_msg(it_json_keys_are(r.json, order_keys), "order keys: %s", it_describe(&r));
    assert_str(r, r.json, "account_id", a.id);
    assert_str(r, r.json, "market_id", m.cond);
    assert_str(r, r.json, "token_id", m.yes);
    assert_str(r, r.json, "outcome", "Yes");
    assert_str(r, r.json, "side", "BUY");
    assert_str(r, r.json, "type", "market");
    assert_str(r, r.json, "quantity", "100.0000");
    assert_str(r, r.json, "status", "filled");
    assert_str(r, r.json, "reserved_cash", "0.00");
    assert_null(r, r.json, "limit_price");
    assert_null(r, r.json, "worst_price");
    assert_null(r, r.json, "client_order_id");
    assert_null(r, r.json, "cancelled_at");
    ck_assert_msg(it_matches(it_json_str(r.json, "created_at"), RE_TIME_US), "%s", it_describe(&r));
    f = it_json_get(r.json, "fill");
    ck_assert_msg(f != NULL, "fill: %s", it_describe(&r));
    assert_trade_shape(&r, f);
    ck_assert_int_eq(int_member(&r, f, "order_id"), int_member(&r, r.json, "order_id"));
    assert_str(r, f, "price", "0.4300");
    assert_str(r, f, "notional", "43.00");
    ck_assert_str_eq(wallet_balance(&a), "957.00");
    assert_invariants();
}
END_TEST

/* ================================================================================== */
/* POST .../orders                                                                      */
/* ================================================================================== */

/* The body of a fill inside an order response. */
static json_object *order_fill(const it_response_t *r)
{
    json_object *f = it_json_get(r->json, "fill");
    ck_assert_msg(f != NULL && json_object_is_type(f, json_type_object), "fill: %s",
                  it_describe(r));
    assert_trade_shape(r, f);
    return f;
}

/* Places body, expects the error, and checks nothing on the wallet changed. */
static void expect_rejected(const account_t *a, const char *body, long status, const char *code)
{
    char *before = wallet_snapshot(a);
    long long orders = it_db_int("select count(*) from orders"),
              fills = it_db_int("select count(*) from fills"),
              ledger = it_db_int("select count(*) from ledger");
    it_response_t r = post_order(a, body);
    ck_assert_msg(r.status == status, "body %s: %s", body ? body : "(none)", it_describe(&r));
    it_assert_error(r, status, code);
    ck_assert_msg(strcmp(wallet_snapshot(a), before) == 0,
                  "a rejected order (%s) changed the wallet: %s -> %s", code, before,
                  wallet_snapshot(a));
    /* nothing anywhere (the tests run one at a time and no price feed runs) */
    ck_assert_int_eq(it_db_int("select count(*) from orders"), orders);
    ck_assert_int_eq(it_db_int("select count(*) from fills"), fills);
    ck_assert_int_eq(it_db_int("select count(*) from ledger"), ledger);
    it_response_free(&r);
}

START_TEST(test_order_book_walk)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = new_market();
    it_response_t r;
    json_object *f;

    /* depth stored out of order: the engine takes the best level first */
    price_update(m.yes, "\"best_bid\":\"0.40\",\"best_ask\":\"0.42\","
                        "\"asks\":[[\"0.45\",\"1000\"],[\"0.42\",\"100\"]],"
                        "\"bids\":[[\"0.38\",\"100\"],[\"0.40\",\"50\"]]");
    r = post_order(&a, order_body(m.yes, "BUY", "market", "130", NULL, NULL, NULL));
    it_assert_status(r, 201);
    f = order_fill(&r);
    /* 100 @ 0.42 + 30 @ 0.45 = 55.50; VWAP 0.426923 -> 0.4269 */
    assert_str(r, f, "price", "0.4269");
    assert_str(r, f, "quantity", "130.0000");
    assert_str(r, f, "notional", "55.50");
    ck_assert_str_eq(wallet_balance(&a), "944.50");
    /* exactly the first level */
    r = post_order(&a, order_body(m.yes, "BUY", "market", "100", NULL, "0.42", NULL));
    it_assert_status(r, 201);
    f = order_fill(&r);
    assert_str(r, f, "price", "0.4200");
    assert_str(r, f, "notional", "42.00");
    assert_str(r, r.json, "worst_price", "0.4200");
    /* no self-impact: the same walk again gives the same price */
    r = post_order(&a, order_body(m.yes, "BUY", "market", "130", NULL, "0.45", NULL));
    it_assert_status(r, 201);
    assert_str(r, order_fill(&r), "price", "0.4269");
    ck_assert_str_eq(wallet_balance(&a), "847.00");
    /* a fractional quantity: 0.0001 @ 0.42 = 0.000042 -> 0.00 */
    r = post_order(&a, order_body(m.yes, "BUY", "market", "0.0001", NULL, NULL, NULL));
    it_assert_status(r, 201);
    assert_str(r, order_fill(&r), "notional", "0.00");
    assert_str(r, order_fill(&r), "quantity", "0.0001");

    /* beyond the cap or beyond the depth: refused, nothing written */
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "130", NULL, "0.44", NULL), 409,
                    "NO_EXECUTABLE_PRICE");
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "1100.0001", NULL, NULL, NULL), 409,
                    "NO_EXECUTABLE_PRICE");
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "1", NULL, "0.41", NULL), 409,
                    "NO_EXECUTABLE_PRICE");

    /* SELL walks the bids: 50 @ 0.40 + 30 @ 0.38 = 31.40; VWAP 0.3925 */
    r = post_order(&a, order_body(m.yes, "sell", "market", "80", NULL, NULL, NULL));
    it_assert_status(r, 201);
    f = order_fill(&r);
    assert_str(r, f, "side", "SELL");
    assert_str(r, f, "price", "0.3925");
    assert_str(r, f, "notional", "31.40");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "60", NULL, "0.39", NULL), 409,
                    "NO_EXECUTABLE_PRICE");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "150.0001", NULL, NULL, NULL), 409,
                    "NO_EXECUTABLE_PRICE");
    r = post_order(&a, order_body(m.yes, "SELL", "market", "50", NULL, "0.40", NULL));
    it_assert_status(r, 201);
    assert_str(r, order_fill(&r), "price", "0.4000");
    assert_invariants();
}
END_TEST

START_TEST(test_order_top_of_book)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t r, g;
    json_object *pos;

    /* no depth: the best price at any size */
    r = post_order(&a, order_body(m.yes, "BUY", "market", "1000", NULL, "0.43", NULL));
    it_assert_status(r, 201);
    assert_str(r, order_fill(&r), "price", "0.4300");
    assert_str(r, order_fill(&r), "notional", "430.00");
    ck_assert_str_eq(wallet_balance(&a), "570.00");
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "1", NULL, "0.42", NULL), 409,
                    "NO_EXECUTABLE_PRICE");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "1", NULL, "0.41", NULL), 409,
                    "NO_EXECUTABLE_PRICE");

    /* SELL at the best bid, then the position is in the envelope */
    r = post_order(&a, order_body(m.yes, "SELL", "market", "400", NULL, NULL, NULL));
    it_assert_status(r, 201);
    assert_str(r, order_fill(&r), "price", "0.4000");
    assert_str(r, order_fill(&r), "notional", "160.00");
    ck_assert_str_eq(wallet_balance(&a), "730.00");
    g = get_account(DEMO, &a);
    it_assert_status(g, 200);
    pos = it_json_get(g.json, "open_positions");
    ck_assert_int_eq(json_object_array_length(pos), 1);
    pos = json_object_array_get_idx(pos, 0);
    ck_assert_msg(it_json_keys_are(pos, position_keys), "%s", it_describe(&g));
    assert_str(g, pos, "market_id", m.cond);
    assert_str(g, pos, "outcome", "Yes");
    assert_str(g, pos, "quantity", "600.0000");
    assert_str(g, pos, "avg_entry_price", "0.4300");
    assert_str(g, pos, "current_price", "0.4150");
    assert_str(g, pos, "market_value", "249.00");
    assert_str(g, pos, "unrealized_pnl", "-9.00");
    assert_str(g, g.json, "balance", "730.00");
    assert_str(g, g.json, "equity", "979.00");
    assert_str(g, g.json, "unrealized_pnl", "-21.00");

    /* selling everything closes the position */
    r = post_order(&a, order_body(m.yes, "SELL", "market", "600", NULL, NULL, NULL));
    it_assert_status(r, 201);
    ck_assert_str_eq(wallet_balance(&a), "970.00");
    g = get_account(DEMO, &a);
    ck_assert_int_eq(json_object_array_length(it_json_get(g.json, "open_positions")), 0);
    assert_str(g, g.json, "equity", "970.00");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "1", NULL, NULL, NULL), 400,
                    "INSUFFICIENT_SHARES");
    assert_invariants();
}
END_TEST

START_TEST(test_order_market_rejections)
{
    account_t a = new_account(DEMO, "100");
    market_t m = quoted_market("0.40", "0.43"), unpriced = new_market(),
             stale = quoted_market("0.40", "0.43"), closed = quoted_market("0.40", "0.43"),
             resolved = quoted_market("0.40", "0.43");

    /* hold a few shares of the markets that will close, so SELLs are well formed */
    market_order(&a, closed.yes, "BUY", "2", NULL);
    market_order(&a, resolved.yes, "BUY", "2", NULL);
    market_order(&a, stale.yes, "BUY", "2", NULL);
    it_db_scalar("select pp_upsert_market($1, 'Q', 'closed', true, '[]')::text", closed.cond);
    ck_assert_int_eq(it_db_int("select pp_settle_market($1, $2)", resolved.cond, resolved.no), 1);
    it_db_scalar("update market_tokens set updated_at = now() - interval '2 minutes' "
                 "where token_id = $1 returning token_id",
                 stale.yes);

    /* never priced: no quote at all counts as stale */
    expect_rejected(&a, order_body(unpriced.yes, "BUY", "market", "1", NULL, NULL, NULL), 409,
                    "STALE_QUOTE");
    /* a fresh quote without an ask: nothing to buy from; without a bid nothing to sell to */
    price_update(unpriced.yes, "\"best_bid\":\"0.40\",\"best_ask\":null");
    expect_rejected(&a, order_body(unpriced.yes, "BUY", "market", "1", NULL, NULL, NULL), 409,
                    "NO_EXECUTABLE_PRICE");
    price_update(unpriced.yes, "\"best_bid\":null,\"best_ask\":\"0.20\"");
    market_order(&a, unpriced.yes, "BUY", "1", NULL);
    expect_rejected(&a, order_body(unpriced.yes, "SELL", "market", "1", NULL, NULL, NULL), 409,
                    "NO_EXECUTABLE_PRICE");
    expect_rejected(&a, order_body(stale.yes, "BUY", "market", "1", NULL, NULL, NULL), 409,
                    "STALE_QUOTE");
    expect_rejected(&a, order_body(stale.yes, "SELL", "market", "1", NULL, NULL, NULL), 409,
                    "STALE_QUOTE");
    expect_rejected(&a, order_body(closed.yes, "BUY", "market", "1", NULL, NULL, NULL), 400,
                    "MARKET_CLOSED");
    expect_rejected(&a, order_body(closed.yes, "SELL", "market", "1", NULL, NULL, NULL), 400,
                    "MARKET_CLOSED");
    expect_rejected(&a, order_body(closed.no, "BUY", "limit", "1", "0.30", NULL, NULL), 400,
                    "MARKET_CLOSED");
    expect_rejected(&a, order_body(resolved.yes, "BUY", "market", "1", NULL, NULL, NULL), 400,
                    "MARKET_CLOSED");
    expect_rejected(&a, order_body(resolved.no, "BUY", "limit", "1", "0.30", NULL, NULL), 400,
                    "MARKET_CLOSED");
    expect_rejected(&a,
                    order_body("99999999999999999999999", "BUY", "market", "1", NULL, NULL, NULL),
                    404, "MARKET_NOT_FOUND");
    expect_rejected(&a, order_body(it_token_id(), "BUY", "limit", "1", "0.30", NULL, NULL), 404,
                    "MARKET_NOT_FOUND");
    /* cash: 100 - 3 * 0.86 - 0.20 = 97.22 left; 227 @ 0.43 = 97.61 */
    ck_assert_str_eq(wallet_balance(&a), "97.22");
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "227", NULL, NULL, NULL), 400,
                    "INSUFFICIENT_FUNDS");
    expect_rejected(&a, order_body(m.yes, "BUY", "limit", "1000", "0.10", NULL, NULL), 400,
                    "INSUFFICIENT_FUNDS");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "1", NULL, NULL, NULL), 400,
                    "INSUFFICIENT_SHARES");
    expect_rejected(&a, order_body(m.yes, "SELL", "limit", "1", "0.50", NULL, NULL), 400,
                    "INSUFFICIENT_SHARES");
    /* 226 @ 0.43 = 97.18 fits */
    market_order(&a, m.yes, "BUY", "226", NULL);
    ck_assert_str_eq(wallet_balance(&a), "0.04");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "226.0001", NULL, NULL, NULL), 400,
                    "INSUFFICIENT_SHARES");
    /* shares reserved by a resting SELL are not available */
    limit_order(&a, m.yes, "SELL", "200", "0.90", NULL, "open");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "27", NULL, NULL, NULL), 400,
                    "INSUFFICIENT_SHARES");
    expect_rejected(&a, order_body(m.yes, "SELL", "limit", "27", "0.80", NULL, NULL), 400,
                    "INSUFFICIENT_SHARES");
    market_order(&a, m.yes, "SELL", "26", NULL);
    assert_invariants();
}
END_TEST

START_TEST(test_order_price_rules)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    market_t fine = new_market_q("Q", it_unique("slug"), "0.001");
    it_response_t r;

    quote(fine.yes, "0.400", "0.430");
    expect_rejected(&a, order_body(m.yes, "BUY", "limit", "1", "0.425", NULL, NULL), 400,
                    "INVALID_PRICE");
    expect_rejected(&a, order_body(m.yes, "SELL", "limit", "1", "0.4501", NULL, NULL), 400,
                    "INVALID_PRICE");
    expect_rejected(&a, order_body(fine.yes, "BUY", "limit", "1", "0.4255", NULL, NULL), 400,
                    "INVALID_PRICE");
    r = post_order(&a, order_body(fine.yes, "BUY", "limit", "10", "0.425", NULL, NULL));
    it_assert_status(r, 201);
    assert_str(r, r.json, "status", "open"); /* 0.425 < ask 0.430: rests */
    assert_str(r, r.json, "limit_price", "0.4250");
    assert_str(r, r.json, "reserved_cash", "4.25");
    assert_null(r, r.json, "fill");
    r = post_order(&a, order_body(m.yes, "BUY", "limit", "10", "0.3", NULL, NULL));
    it_assert_status(r, 201);
    assert_str(r, r.json, "limit_price", "0.3000");
    assert_invariants();
}
END_TEST

START_TEST(test_order_body_validation)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    char *t = m.yes, *long_coid = malloc(257);
    static const char *const invalid_side[] = { "hold", "", "B", "BUYS", " BUY", NULL };
    static const char *const invalid_type[] = { "stop", "", "MARKETS", "fok", NULL };
    static const char *const invalid_qty[] = { "0",  "-1", "1.23456", "abc", "",    "1e2",
                                               "+1", " 1", "0.00001", "NaN", "1,5", NULL };
    static const char *const invalid_price[] = { "0",   "1", "1.5",  "-0.5",    "0.00001",
                                                 "abc", "",  "1e-1", "0.12345", NULL };
    int i;

    memset(long_coid, 'k', 256);
    long_coid[256] = 0;
    /* type, presence and shape: 422 */
    expect_rejected(&a, NULL, 422, "VALIDATION_FAILED");
    expect_rejected(&a, "", 422, "VALIDATION_FAILED");
    expect_rejected(&a, "not json", 422, "VALIDATION_FAILED");
    expect_rejected(&a, "[]", 422, "VALIDATION_FAILED");
    expect_rejected(&a, "{}", 422, "VALIDATION_FAILED");
    expect_rejected(&a, it_printf("{\"side\":\"BUY\",\"type\":\"market\",\"quantity\":\"1\"}"), 422,
                    "VALIDATION_FAILED");
    expect_rejected(&a,
                    it_printf("{\"token_id\":\"%s\",\"type\":\"market\",\"quantity\":\"1\"}", t),
                    422, "VALIDATION_FAILED");
    expect_rejected(&a, it_printf("{\"token_id\":\"%s\",\"side\":\"BUY\",\"quantity\":\"1\"}", t),
                    422, "VALIDATION_FAILED");
    expect_rejected(&a, it_printf("{\"token_id\":\"%s\",\"side\":\"BUY\",\"type\":\"market\"}", t),
                    422, "VALIDATION_FAILED");
    expect_rejected(&a,
                    it_printf("{\"token_id\":\"%s\",\"side\":\"BUY\",\"type\":\"market\","
                              "\"quantity\":1}",
                              t),
                    422, "VALIDATION_FAILED");
    expect_rejected(&a,
                    it_printf("{\"token_id\":%s,\"side\":\"BUY\",\"type\":\"market\","
                              "\"quantity\":\"1\"}",
                              t),
                    422, "VALIDATION_FAILED");
    expect_rejected(&a,
                    it_printf("{\"token_id\":\"%s\",\"side\":null,\"type\":\"market\","
                              "\"quantity\":\"1\"}",
                              t),
                    422, "VALIDATION_FAILED");
    expect_rejected(&a,
                    it_printf("{\"token_id\":\"%s\",\"side\":\"BUY\",\"type\":\"market\","
                              "\"quantity\":\"1\",\"price\":\"0.5\"}",
                              t),
                    422, "VALIDATION_FAILED");
    expect_rejected(&a,
                    it_printf("{\"token_id\":\"%s\",\"side\":\"BUY\",\"type\":\"limit\","
                              "\"quantity\":\"1\",\"limit_price\":0.5}",
                              t),
                    422, "VALIDATION_FAILED");
    expect_rejected(&a,
                    it_printf("{\"token_id\":\"%s\",\"side\":\"BUY\",\"type\":\"market\","
                              "\"quantity\":\"1\",\"client_order_id\":7}",
                              t),
                    422, "VALIDATION_FAILED");
    /* values: 400 INVALID_ORDER */
    for (i = 0; invalid_side[i]; i++) {
        expect_rejected(&a, order_body(t, invalid_side[i], "market", "1", NULL, NULL, NULL), 400,
                        "INVALID_ORDER");
    }
    for (i = 0; invalid_type[i]; i++) {
        expect_rejected(&a, order_body(t, "BUY", invalid_type[i], "1", NULL, NULL, NULL), 400,
                        "INVALID_ORDER");
    }
    for (i = 0; invalid_qty[i]; i++) {
        expect_rejected(&a, order_body(t, "BUY", "market", invalid_qty[i], NULL, NULL, NULL), 400,
                        "INVALID_ORDER");
    }
    for (i = 0; invalid_price[i]; i++) {
        expect_rejected(&a, order_body(t, "BUY", "limit", "1", invalid_price[i], NULL, NULL), 400,
                        "INVALID_ORDER");
        expect_rejected(&a, order_body(t, "BUY", "market", "1", NULL, invalid_price[i], NULL), 400,
                        "INVALID_ORDER");
    }
    expect_rejected(&a, order_body("abc", "BUY", "market", "1", NULL, NULL, NULL), 400,
                    "INVALID_ORDER");
    /* lengths are schema rules (422), as for every other string field */
    expect_rejected(&a, order_body("", "BUY", "market", "1", NULL, NULL, NULL), 422,
                    "VALIDATION_FAILED");
    expect_rejected(&a, order_body("0x12", "BUY", "market", "1", NULL, NULL, NULL), 400,
                    "INVALID_ORDER");
    expect_rejected(&a, order_body(t, "BUY", "market", "1", NULL, NULL, ""), 422,
                    "VALIDATION_FAILED");
    expect_rejected(&a, order_body(t, "BUY", "market", "1", NULL, NULL, long_coid), 422,
                    "VALIDATION_FAILED");
    /* a market order with a limit price, a limit order without one or with a worst price */
    expect_rejected(&a, order_body(t, "BUY", "market", "1", "0.43", NULL, NULL), 400,
                    "INVALID_ORDER");
    expect_rejected(&a, order_body(t, "BUY", "limit", "1", NULL, NULL, NULL), 400, "INVALID_ORDER");
    expect_rejected(&a, order_body(t, "BUY", "limit", "1", "0.30", "0.40", NULL), 400,
                    "INVALID_ORDER");
    /* 255 characters is fine */
    long_coid[255] = 0;
    {
        it_response_t r = post_order(&a,
                                     order_body(t, "BUY", "market", "1", NULL, NULL, long_coid));
        it_assert_status(r, 201);
        assert_str(r, r.json, "client_order_id", long_coid);
        assert_str(r, order_fill(&r), "client_order_id", long_coid);
    }
    ck_assert_int_eq(count_orders(&a), 1);
    assert_invariants();
}
END_TEST

START_TEST(test_order_closed_account)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t r, replay;

    r = post_order(&a, order_body(m.yes, "BUY", "market", "10", NULL, NULL, "before-close"));
    it_assert_status(r, 201);
    {
        it_response_t x = call(DEMO, "POST", account_path(a.id, "/close"), NULL);
        it_assert_status(x, 200);
    }
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "1", NULL, NULL, NULL), 409,
                    "ACCOUNT_CLOSED");
    expect_rejected(&a, order_body(m.yes, "BUY", "limit", "1", "0.30", NULL, NULL), 409,
                    "ACCOUNT_CLOSED");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "1", NULL, NULL, NULL), 409,
                    "ACCOUNT_CLOSED");
    /* a replay of an order placed before the close still answers the original */
    replay = post_order(&a, order_body(m.yes, "BUY", "market", "10", NULL, NULL, "before-close"));
    it_assert_status(replay, 200);
    ck_assert_str_eq(replay.body, r.body);
    /* reset reopens it */
    {
        it_response_t x = call(DEMO, "POST", account_path(a.id, "/reset"), NULL);
        it_assert_status(x, 200);
    }
    market_order(&a, m.yes, "BUY", "1", NULL);
    assert_invariants();
}
END_TEST

START_TEST(test_order_idempotency)
{
    account_t a = new_account(DEMO, "1000"), b = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t first, again;
    char *body = order_body(m.yes, "BUY", "market", "10", NULL, NULL, "idem-1");

    first = post_order(&a, body);
    it_assert_status(first, 201);
    assert_str(first, first.json, "client_order_id", "idem-1");
    /* the price moves: a replay still returns the original, executing nothing */
    quote(m.yes, "0.50", "0.55");
    again = post_order(&a, body);
    it_assert_status(again, 200);
    ck_assert_str_eq(again.body, first.body);
    /* the same order spelled differently is the same order */
    again = post_order(&a, order_body(m.yes, "buy", "market", "10.0000", NULL, NULL, "idem-1"));
    it_assert_status(again, 200);
    ck_assert_str_eq(again.body, first.body);
    ck_assert_int_eq(count_orders(&a), 1);
    ck_assert_str_eq(wallet_balance(&a), "995.70");
    /* a different order under the same key */
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "11", NULL, NULL, "idem-1"), 409,
                    "IDEMPOTENCY_KEY_REUSE");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "10", NULL, NULL, "idem-1"), 409,
                    "IDEMPOTENCY_KEY_REUSE");
    expect_rejected(&a, order_body(m.no, "BUY", "market", "10", NULL, NULL, "idem-1"), 409,
                    "IDEMPOTENCY_KEY_REUSE");
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "10", NULL, "0.60", "idem-1"), 409,
                    "IDEMPOTENCY_KEY_REUSE");
    expect_rejected(&a, order_body(m.yes, "BUY", "limit", "10", "0.43", NULL, "idem-1"), 409,
                    "IDEMPOTENCY_KEY_REUSE");
    /* keys are per account */
    again = post_order(&b, body);
    it_assert_status(again, 201);
    assert_str(again, order_fill(&again), "price", "0.5500");
    /* keys are case-sensitive and exact */
    again = post_order(&a, order_body(m.yes, "BUY", "market", "10", NULL, NULL, "IDEM-1"));
    it_assert_status(again, 201);
    /* a resting limit order replays too, also after it was cancelled */
    {
        char *lb = order_body(m.yes, "BUY", "limit", "5", "0.20", NULL, "idem-limit");
        it_response_t l = post_order(&a, lb), c;
        it_assert_status(l, 201);
        assert_str(l, l.json, "status", "open");
        again = post_order(&a, lb);
        it_assert_status(again, 200);
        ck_assert_str_eq(again.body, l.body);
        c = cancel_order_key(DEMO, a.id, it_lltext(int_member(&l, l.json, "order_id")));
        it_assert_status(c, 200);
        again = post_order(&a, lb);
        it_assert_status(again, 200);
        ck_assert_str_eq(again.body, c.body);
        assert_str(again, again.json, "status", "cancelled");
    }
    assert_invariants();
}
END_TEST

typedef struct {
    pthread_barrier_t *barrier;
    const char *key;
    const char *method;
    const char *path;
    const char *body;
    it_response_t resp;
} job_t;

static void *job_run(void *arg)
{
    job_t *j = arg;
    pthread_barrier_wait(j->barrier);
    j->resp = it_request(j->method, j->path, IT_HEADERS(it_key_header(j->key)), j->body);
    return NULL;
}

static void run_jobs(job_t *jobs, int n)
{
    pthread_t *th = calloc((size_t)n, sizeof(*th));
    pthread_barrier_t barrier;
    int i;

    ck_assert_ptr_nonnull(th);
    it_expect_log("\\[mpm_(event|worker|prefork):error\\].*(AH00484|AH00161)");
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (i = 0; i < n; i++) {
        jobs[i].barrier = &barrier;
        ck_assert_int_eq(pthread_create(&th[i], NULL, job_run, &jobs[i]), 0);
    }
    for (i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_barrier_destroy(&barrier);
    free(th);
}

START_TEST(test_order_idempotency_concurrent)
{
    enum { N = 16 };
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    job_t jobs[N];
    char *body = order_body(m.yes, "BUY", "market", "10", NULL, NULL, "race-1");
    const char *created = NULL;
    int i, n201 = 0, n200 = 0;

    memset(jobs, 0, sizeof(jobs));
    for (i = 0; i < N; i++) {
        jobs[i].key = DEMO;
        jobs[i].method = "POST";
        jobs[i].path = account_path(a.id, "/orders");
        jobs[i].body = body;
    }
    run_jobs(jobs, N);
    for (i = 0; i < N; i++) {
        if (jobs[i].resp.status == 201) {
            n201++;
            created = jobs[i].resp.body;
        }
        else if (jobs[i].resp.status == 200) {
            n200++;
        }
        else {
            ck_abort_msg("unexpected answer: %s", it_describe(&jobs[i].resp));
        }
    }
    ck_assert_int_eq(n201, 1);
    ck_assert_int_eq(n200, N - 1);
    for (i = 0; i < N; i++) {
        ck_assert_str_eq(jobs[i].resp.body, created);
    }
    ck_assert_int_eq(count_orders(&a), 1);
    ck_assert_int_eq(count_fills(&a), 1);
    ck_assert_str_eq(wallet_balance(&a), "995.70");
    assert_invariants();
}
END_TEST

/* Concurrent different orders on one account never overdraw it. */
START_TEST(test_order_concurrent_no_overdraft)
{
    enum { N = 12 };
    account_t a = new_account(DEMO, "100");
    market_t m = quoted_market("0.40", "0.50");
    job_t jobs[N];
    int i, ok = 0;

    memset(jobs, 0, sizeof(jobs));
    for (i = 0; i < N; i++) {
        jobs[i].key = DEMO;
        jobs[i].method = "POST";
        jobs[i].path = account_path(a.id, "/orders");
        /* 30.00 each: only 3 fit into 100.00 */
        jobs[i].body = order_body(m.yes, "BUY", i % 2 ? "market" : "limit", "60",
                                  i % 2 ? NULL : "0.50", NULL, NULL);
    }
    run_jobs(jobs, N);
    for (i = 0; i < N; i++) {
        if (jobs[i].resp.status == 201) {
            ok++;
        }
        else {
            it_assert_error(jobs[i].resp, 400, "INSUFFICIENT_FUNDS");
        }
    }
    ck_assert_int_eq(ok, 3);
    ck_assert_str_eq(wallet_balance(&a), "10.00");
    ck_assert_int_eq(count_fills(&a), 3);
    assert_invariants();
}
END_TEST

/* ================================================================================== */
/* Limit orders, matching, cancel                                                       */
/* ================================================================================== */

START_TEST(test_limit_buy_rests_and_fills_on_update)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t r, g, t;
    long long id;
    json_object *item;

    r = post_order(&a, order_body(m.yes, "BUY", "limit", "100", "0.35", NULL, "rest-1"));
    it_assert_status(r, 201);
    ck_assert_msg(it_json_keys_are(r.json, order_keys), "%s", it_describe(&r));
    assert_str(r, r.json, "status", "open");
    assert_str(r, r.json, "type", "limit");
    assert_str(r, r.json, "limit_price", "0.3500");
    assert_str(r, r.json, "reserved_cash", "35.00");
    assert_null(r, r.json, "fill");
    assert_null(r, r.json, "worst_price");
    id = int_member(&r, r.json, "order_id");
    ck_assert_str_eq(wallet_balance(&a), "965.00");
    g = get_account(DEMO, &a);
    assert_str(g, g.json, "balance", "965.00");
    assert_str(g, g.json, "equity", "1000.00");
    assert_str(g, g.json, "unrealized_pnl", "0.00");
    t = get_trades(&a, "");
    ck_assert_int_eq(json_object_array_length(page_data(&t)), 0);

    /* an update that does not cross leaves it */
    ck_assert_int_eq(quote(m.yes, "0.30", "0.36"), 0);
    ck_assert_str_eq(it_db_scalar("select status from orders where id = $1::bigint", it_lltext(id)),
                     "open");
    /* the ask drops through the limit: it fills at the limit price */
    ck_assert_int_eq(quote(m.yes, "0.30", "0.33"), 1);
    ck_assert_str_eq(wallet_balance(&a), "965.00");
    t = get_trades(&a, "");
    assert_page(&t);
    ck_assert_int_eq(json_object_array_length(page_data(&t)), 1);
    item = json_object_array_get_idx(page_data(&t), 0);
    assert_trade_shape(&t, item);
    ck_assert_int_eq(item_id(item), id);
    assert_str(t, item, "price", "0.3500");
    assert_str(t, item, "quantity", "100.0000");
    assert_str(t, item, "notional", "35.00");
    assert_str(t, item, "side", "BUY");
    assert_str(t, item, "client_order_id", "rest-1");
    /* the order now shows filled in the list, with its fill */
    g = get_orders_q(DEMO, &a, "");
    assert_page(&g);
    item = json_object_array_get_idx(page_data(&g), 0);
    assert_str(g, item, "status", "filled");
    assert_str(g, item, "reserved_cash", "0.00");
    ck_assert_int_eq(item_id(item), id);
    ck_assert_ptr_nonnull(it_json_get(item, "fill"));
    assert_str(g, it_json_get(item, "fill"), "price", "0.3500");
    /* the position: 100 @ 0.35, marked at (0.30 + 0.33) / 2 = 0.315 */
    g = get_account(DEMO, &a);
    assert_str(g, g.json, "balance", "965.00");
    assert_str(g, g.json, "equity", "996.50");
    assert_invariants();
}
END_TEST

START_TEST(test_limit_sell_rests_and_fills_on_update)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t r;
    long long id;

    market_order(&a, m.yes, "BUY", "100", NULL); /* 43.00 */
    r = post_order(&a, order_body(m.yes, "SELL", "limit", "60", "0.50", NULL, NULL));
    it_assert_status(r, 201);
    assert_str(r, r.json, "status", "open");
    assert_str(r, r.json, "reserved_cash", "0.00");
    id = int_member(&r, r.json, "order_id");
    ck_assert_str_eq(it_db_scalar("select reserved_quantity::text from positions where "
                                  "wallet_id = $1::bigint and closed_at is null",
                                  a.wallet_text),
                     "60.0000");
    ck_assert_int_eq(quote(m.yes, "0.49", "0.52"), 0);
    ck_assert_int_eq(quote(m.yes, "0.55", "0.57"), 1); /* fills at 0.50, not 0.55 */
    ck_assert_str_eq(wallet_balance(&a), "987.00");
    ck_assert_str_eq(it_db_scalar("select price::text || '/' || notional from fills where "
                                  "order_id = $1::bigint",
                                  it_lltext(id)),
                     "0.5000/30.00");
    ck_assert_str_eq(it_db_scalar("select quantity::text || '/' || reserved_quantity from "
                                  "positions where wallet_id = $1::bigint and closed_at is null",
                                  a.wallet_text),
                     "40.0000/0.0000");
    assert_invariants();
}
END_TEST

START_TEST(test_limit_crossed_at_placement_fills_at_once)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t r;
    json_object *f;

    r = post_order(&a, order_body(m.yes, "BUY", "limit", "10", "0.45", NULL, NULL));
    it_assert_status(r, 201);
    assert_str(r, r.json, "status", "filled");
    assert_str(r, r.json, "reserved_cash", "0.00");
    f = order_fill(&r);
    assert_str(r, f, "price", "0.4500");
    assert_str(r, f, "notional", "4.50");
    ck_assert_str_eq(wallet_balance(&a), "995.50");
    r = post_order(&a, order_body(m.yes, "SELL", "limit", "4", "0.39", NULL, NULL));
    it_assert_status(r, 201);
    assert_str(r, r.json, "status", "filled");
    assert_str(r, order_fill(&r), "price", "0.3900");
    assert_str(r, order_fill(&r), "notional", "1.56");
    ck_assert_str_eq(wallet_balance(&a), "997.06");
    ck_assert_int_eq(count_fills(&a), 2);
    assert_invariants();
}
END_TEST

START_TEST(test_cancel)
{
    account_t a = new_account(DEMO, "1000"), b = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t r, c;
    long long id, sell, filled, bid;
    char *ids;
    static const char *const bad_ids[] = {
        "abc", "0", "-1", "1.5", "99999999999999999999", "999999999999", "%20", NULL
    };
    int i;

    r = post_order(&a, order_body(m.yes, "BUY", "limit", "100", "0.35", NULL, NULL));
    it_assert_status(r, 201);
    id = int_member(&r, r.json, "order_id");
    ck_assert_str_eq(wallet_balance(&a), "965.00");
    c = cancel_order_key(DEMO, a.id, it_lltext(id));
    it_assert_status(c, 200);
    ck_assert_msg(it_json_keys_are(c.json, order_keys), "%s", it_describe(&c));
    ck_assert_int_eq(int_member(&c, c.json, "order_id"), id);
    assert_str(c, c.json, "status", "cancelled");
    assert_str(c, c.json, "reserved_cash", "0.00");
    ck_assert_msg(it_matches(it_json_str(c.json, "cancelled_at"), RE_TIME_US), "%s",
                  it_describe(&c));
    assert_null(c, c.json, "fill");
    ck_assert_str_eq(wallet_balance(&a), "1000.00");
    ck_assert_str_eq(it_db_scalar("select cause || ':' || amount from ledger where wallet_id = "
                                  "$1::bigint order by id desc limit 1",
                                  a.wallet_text),
                     "release:35.00");
    /* again */
    c = cancel_order_key(DEMO, a.id, it_lltext(id));
    it_assert_error(c, 409, "ORDER_NOT_OPEN");
    /* a crossing update no longer fills it */
    ck_assert_int_eq(quote(m.yes, "0.20", "0.30"), 0);
    quote(m.yes, "0.40", "0.43");

    /* a SELL releases its shares */
    market_order(&a, m.yes, "BUY", "10", NULL);
    sell = limit_order(&a, m.yes, "SELL", "10", "0.90", NULL, "open");
    expect_rejected(&a, order_body(m.yes, "SELL", "market", "1", NULL, NULL, NULL), 400,
                    "INSUFFICIENT_SHARES");
    c = cancel_order_key(DEMO, a.id, it_lltext(sell));
    it_assert_status(c, 200);
    assert_str(c, c.json, "status", "cancelled");
    market_order(&a, m.yes, "SELL", "10", NULL);

    /* a filled order */
    filled = market_order(&a, m.yes, "BUY", "1", NULL);
    c = cancel_order_key(DEMO, a.id, it_lltext(filled));
    it_assert_error(c, 409, "ORDER_NOT_OPEN");

    /* another account's order, also of the same tenant, and malformed ids */
    bid = limit_order(&b, m.yes, "BUY", "1", "0.10", NULL, "open");
    ids = wallet_snapshot(&b);
    c = cancel_order_key(DEMO, a.id, it_lltext(bid));
    it_assert_error(c, 404, "ORDER_NOT_FOUND");
    ck_assert_str_eq(wallet_snapshot(&b), ids);
    for (i = 0; bad_ids[i]; i++) {
        c = cancel_order_key(DEMO, a.id, bad_ids[i]);
        ck_assert_msg(c.status == 404, "order id %s: %s", bad_ids[i], it_describe(&c));
        it_assert_error(c, 404, "ORDER_NOT_FOUND");
    }
    /* other methods on the cancel path */
    c = call(DEMO, "GET", it_printf(ACCOUNTS "/%s/orders/%lld/cancel", a.id, bid), NULL);
    it_assert_error(c, 405, "METHOD_NOT_ALLOWED");
    assert_invariants();
}
END_TEST

START_TEST(test_orders_list)
{
    account_t a = new_account(DEMO, "1000"), b = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    long long ids[7];
    char *want = it_printf("%s", ""), *got = it_printf("%s", ""), *cursor = NULL, *first;
    int i, pages = 0;
    it_response_t r;

    ids[0] = market_order(&a, m.yes, "BUY", "5", NULL);
    ids[1] = limit_order(&a, m.yes, "BUY", "5", "0.30", "lim-1", "open");
    ids[2] = limit_order(&a, m.yes, "BUY", "5", "0.31", NULL, "open");
    ids[3] = market_order(&a, m.yes, "SELL", "2", NULL);
    ids[4] = limit_order(&a, m.yes, "SELL", "1", "0.80", NULL, "open");
    ids[5] = limit_order(&a, m.no, "BUY", "3", "0.60", NULL, "filled");
    ids[6] = market_order(&a, m.no, "BUY", "1", NULL);
    {
        it_response_t x = cancel_order_key(DEMO, a.id, it_lltext(ids[2]));
        it_assert_status(x, 200);
    }
    market_order(&b, m.yes, "BUY", "1", NULL);
    for (i = 6; i >= 0; i--) {
        want = it_printf("%s%s%lld", want, i < 6 ? "," : "", ids[i]);
    }

    r = get_orders_q(DEMO, &a, "");
    assert_page(&r);
    first = page_ids(&r);
    ck_assert_str_eq(first, want);
    ck_assert_ptr_null(page_cursor(&r));
    {
        json_object *d = page_data(&r);
        for (i = 0; i < (int)json_object_array_length(d); i++) {
            json_object *o = json_object_array_get_idx(d, i);
            ck_assert_msg(it_json_keys_are(o, order_keys), "%s", json_object_to_json_string(o));
            assert_str(r, o, "account_id", a.id);
        }
        assert_str(r, json_object_array_get_idx(d, 4), "status", "cancelled");
        assert_str(r, json_object_array_get_idx(d, 5), "status", "open");
        assert_str(r, json_object_array_get_idx(d, 5), "client_order_id", "lim-1");
        assert_str(r, json_object_array_get_idx(d, 6), "status", "filled");
    }
    for (;;) {
        const char *c;
        char *p;
        r = get_orders_q(DEMO, &a, cursor ? it_printf("limit=3&cursor=%s", cursor) : "limit=3");
        assert_page(&r);
        p = page_ids(&r);
        if (*p) got = it_printf("%s%s%s", got, *got ? "," : "", p);
        pages++;
        c = page_cursor(&r);
        ck_assert_int_lt(pages, 10);
        if (!c) break;
        cursor = it_printf("%s", c);
        if (pages == 1) {
            /* a new order while paging is newer than the cursor */
            market_order(&a, m.yes, "BUY", "1", NULL);
        }
    }
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(pages, 3);
    r = get_orders_q(DEMO, &a, "limit=7&cursor=");
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 7);
    ck_assert_ptr_nonnull(page_cursor(&r));

    /* limits and cursors as for the feed */
    {
        static const char *const bad[] = { "limit=0",  "limit=501", "limit=abc",
                                           "limit=-1", "limit=1.5", NULL };
        for (i = 0; bad[i]; i++) {
            r = get_orders_q(DEMO, &a, bad[i]);
            it_assert_error(r, 422, "VALIDATION_FAILED");
        }
    }
    r = get_orders_q(DEMO, &a, "limit=2");
    cursor = it_printf("%s", page_cursor(&r));
    for (i = 0; i < (int)strlen(cursor); i++) {
        r = get_orders_q(DEMO, &a, it_printf("limit=2&cursor=%s", tamper(cursor, (size_t)i)));
        ck_assert_msg(r.status == 400, "orders cursor changed at %d accepted: %s", i,
                      it_describe(&r));
        it_assert_error(r, 400, "INVALID_CURSOR");
    }
    r = get_orders_q(DEMO, &a, it_printf("limit=2&cursor=%.*s", (int)strlen(cursor) - 1, cursor));
    it_assert_error(r, 400, "INVALID_CURSOR");
    r = get_orders_q(DEMO, &a, "limit=2&cursor=garbage");
    it_assert_error(r, 400, "INVALID_CURSOR");
    /* another account's orders cursor */
    market_order(&b, m.yes, "BUY", "1", NULL);
    r = get_orders_q(DEMO, &b, "limit=1");
    ck_assert_ptr_nonnull(page_cursor(&r));
    r = get_orders_q(DEMO, &a, it_printf("limit=2&cursor=%s", page_cursor(&r)));
    it_assert_error(r, 400, "INVALID_CURSOR");
    /* a trades cursor there, an orders cursor here */
    r = get_trades(&a, "limit=1");
    ck_assert_ptr_nonnull(page_cursor(&r));
    r = get_orders_q(DEMO, &a, it_printf("limit=2&cursor=%s", page_cursor(&r)));
    it_assert_error(r, 400, "INVALID_CURSOR");
    r = get_trades(&a, it_printf("limit=2&cursor=%s", cursor));
    it_assert_error(r, 400, "INVALID_CURSOR");
    assert_invariants();
}
END_TEST

/* ================================================================================== */
/* Permissions and isolation                                                            */
/* ================================================================================== */

/* The error body without anything request-specific. */
static char *error_of(const it_response_t *r)
{
    return it_printf("%ld %s", r->status, r->body);
}

START_TEST(test_orders_need_orders_write)
{
    account_t a = new_account(DEMO, "1000");
    account_t o = new_account(OTHER, "1000");
    market_t m = quoted_market("0.40", "0.43");
    long long open = limit_order(&a, m.yes, "BUY", "10", "0.30", NULL, "open");
    char *body = order_body(m.yes, "BUY", "market", "1", NULL, NULL, NULL);
    char *snap = wallet_snapshot(&a), *osnap = wallet_snapshot(&o);
    const char *keys[] = { "DEMO_READONLY_KEY", "OTHER_KEY" };
    size_t k;
    it_response_t r;

    for (k = 0; k < 2; k++) {
        const char *key = it_env(keys[k]);
        r = post_order_key(key, a.id, body);
        it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
        r = post_order_key(key, a.id, "not json");
        it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
        r = post_order_key(key, "not-a-uuid", body);
        it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
        r = cancel_order_key(key, a.id, it_lltext(open));
        it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
        r = cancel_order_key(key, a.id, "abc");
        it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    }
    /* OTHER_KEY cannot trade on its own tenant's account either */
    r = post_order_key(OTHER, o.id, body);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    /* the read-only key reads orders and trades */
    r = get_orders_q(READONLY, &a, "");
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 1);
    r = get_trades_id(READONLY, a.id, "");
    assert_page(&r);
    /* no key */
    r = it_request("GET", account_path(a.id, "/trades"), NULL, NULL);
    it_assert_error(r, 401, "MISSING_API_KEY");
    r = it_request("POST", account_path(a.id, "/orders"), NULL, body);
    it_assert_error(r, 401, "MISSING_API_KEY");
    r = it_request("GET", account_path(a.id, "/orders"), IT_HEADERS(it_key_header("nope")), NULL);
    it_assert_error(r, 401, "INVALID_API_KEY");
    ck_assert_str_eq(wallet_snapshot(&a), snap);
    ck_assert_str_eq(wallet_snapshot(&o), osnap);
    /* the full key does it */
    r = cancel_order_key(DEMO, a.id, it_lltext(open));
    it_assert_status(r, 200);
    assert_invariants();
}
END_TEST

START_TEST(test_isolation_matrix)
{
    account_t a = new_account(DEMO, "1000");
    account_t o = new_account(OTHER, "1000");
    market_t m = quoted_market("0.40", "0.43");
    long long mine = limit_order(&a, m.yes, "BUY", "10", "0.30", NULL, "open");
    long long theirs = it_db_int("select pp_engine_rest_limit_order($1::bigint, $2, 'BUY', 10, "
                                 "0.30)",
                                 o.wallet_text, m.yes);
    char *body = order_body(m.yes, "BUY", "market", "1", NULL, NULL, NULL);
    char *osnap, *unknown_err, *foreign_err;
    it_response_t r, u;
    struct {
        const char *method;
        const char *suffix;
        const char *body;
    } paths[] = {
        { "GET", "/trades", NULL },  { "GET", "/trades?limit=5&side=buy", NULL },
        { "GET", "/orders", NULL },  { "GET", "/orders?limit=1", NULL },
        { "POST", "/orders", NULL }, { "POST", "/orders/1/cancel", NULL },
    };
    size_t i;

    paths[4].body = body;
    paths[5].suffix = it_printf("/orders/%lld/cancel", theirs);
    osnap = wallet_snapshot(&o);
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        /* another tenant's account: exactly like an unknown one */
        r = call(DEMO, paths[i].method, account_path(o.id, paths[i].suffix), paths[i].body);
        it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
        u = call(DEMO, paths[i].method, account_path(IT_SAMPLE_ACCOUNT, paths[i].suffix),
                 paths[i].body);
        it_assert_error(u, 404, "ACCOUNT_NOT_FOUND");
        foreign_err = error_of(&r);
        unknown_err = error_of(&u);
        ck_assert_str_eq(foreign_err, unknown_err);
        /* a malformed id */
        r = call(DEMO, paths[i].method, account_path("not-a-uuid", paths[i].suffix), paths[i].body);
        it_assert_error(r, 422, "INVALID_ACCOUNT_ID");
        r = call(DEMO, paths[i].method,
                 account_path("0b1d8e2a3c4f4a6b8c8d9e0f1a2b3c4d0", paths[i].suffix), paths[i].body);
        it_assert_error(r, 422, "INVALID_ACCOUNT_ID");
        /* a disabled tenant: an unknown path */
        r = call(PENDING, paths[i].method, account_path(a.id, paths[i].suffix), paths[i].body);
        it_assert_error(r, 404, "NOT_FOUND");
        r = call(PENDING, paths[i].method, account_path(o.id, paths[i].suffix), paths[i].body);
        it_assert_error(r, 404, "NOT_FOUND");
    }
    /* OTHER reading demo's account is the same 404 */
    r = get_trades_id(OTHER, a.id, "");
    it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
    u = get_trades_id(OTHER, IT_SAMPLE_ACCOUNT, "");
    ck_assert_str_eq(error_of(&r), error_of(&u));
    r = call(OTHER, "GET", account_path(a.id, "/orders"), NULL);
    it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
    /* another tenant's order through my own account */
    r = cancel_order_key(DEMO, a.id, it_lltext(theirs));
    it_assert_error(r, 404, "ORDER_NOT_FOUND");
    ck_assert_str_eq(wallet_snapshot(&o), osnap);
    /* the other tenant still sees its order, mine is untouched */
    r = call(OTHER, "GET", account_path(o.id, "/orders"), NULL);
    assert_page(&r);
    ck_assert_str_eq(page_ids(&r), it_lltext(theirs));
    ck_assert_str_eq(it_db_scalar("select status from orders where id = $1::bigint",
                                  it_lltext(mine)),
                     "open");
    /* HEAD is GET */
    r = call(DEMO, "HEAD", account_path(a.id, "/trades"), NULL);
    ck_assert_msg(r.status == 200, "%s", it_describe(&r));
    /* methods */
    r = call(DEMO, "POST", account_path(a.id, "/trades"), "{}");
    it_assert_error(r, 405, "METHOD_NOT_ALLOWED");
    ck_assert(it_allow_has(it_header(&r, "Allow"), "GET"));
    r = call(DEMO, "DELETE", account_path(a.id, "/orders"), NULL);
    it_assert_error(r, 405, "METHOD_NOT_ALLOWED");
    ck_assert(it_allow_has(it_header(&r, "Allow"), "GET"));
    ck_assert(it_allow_has(it_header(&r, "Allow"), "POST"));
    assert_invariants();
}
END_TEST

/* ================================================================================== */
/* The envelope marked to market, settlement                                            */
/* ================================================================================== */

static json_object *position_of(const it_response_t *g, const char *cond, const char *outcome)
{
    json_object *ps = it_json_get(g->json, "open_positions");
    size_t i;
    ck_assert_ptr_nonnull(ps);
    for (i = 0; i < json_object_array_length(ps); i++) {
        json_object *p = json_object_array_get_idx(ps, i);
        ck_assert_msg(it_json_keys_are(p, position_keys), "%s", it_describe(g));
        if (strcmp(it_json_str(p, "market_id"), cond) == 0
            && strcmp(it_json_str(p, "outcome"), outcome) == 0) {
            return p;
        }
    }
    return NULL;
}

START_TEST(test_envelope_marks_to_market)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t g;
    json_object *p;

    market_order(&a, m.yes, "BUY", "100", NULL);               /* 43.00 */
    market_order(&a, m.no, "BUY", "50", NULL);                 /* 27.50 */
    limit_order(&a, m.yes, "BUY", "10", "0.10", NULL, "open"); /* 1.00 reserved */
    g = get_account(DEMO, &a);
    it_assert_status(g, 200);
    ck_assert_int_eq(json_object_array_length(it_json_get(g.json, "open_positions")), 2);
    p = position_of(&g, m.cond, "Yes");
    ck_assert_ptr_nonnull(p);
    assert_str(g, p, "quantity", "100.0000");
    assert_str(g, p, "avg_entry_price", "0.4300");
    assert_str(g, p, "current_price", "0.4150");
    assert_str(g, p, "market_value", "41.50");
    assert_str(g, p, "unrealized_pnl", "-1.50");
    p = position_of(&g, m.cond, "No");
    ck_assert_ptr_nonnull(p);
    assert_str(g, p, "current_price", "0.5250");
    assert_str(g, p, "market_value", "26.25");
    assert_str(g, g.json, "balance", "928.50");
    /* 928.50 + 1.00 reserved + 41.50 + 26.25 */
    assert_str(g, g.json, "equity", "997.25");
    assert_str(g, g.json, "unrealized_pnl", "-2.75");
    assert_null(g, g.json, "realized_pnl");

    /* prices move, equity follows */
    quote(m.yes, "0.50", "0.60");
    quote(m.no, "0.35", "0.40");
    g = get_account(DEMO, &a);
    p = position_of(&g, m.cond, "Yes");
    assert_str(g, p, "current_price", "0.5500");
    assert_str(g, p, "market_value", "55.00");
    assert_str(g, p, "unrealized_pnl", "12.00");
    p = position_of(&g, m.cond, "No");
    assert_str(g, p, "current_price", "0.3750");
    assert_str(g, p, "market_value", "18.75");
    assert_str(g, p, "unrealized_pnl", "-8.75");
    assert_str(g, g.json, "balance", "928.50");
    assert_str(g, g.json, "equity", "1003.25");
    assert_str(g, g.json, "unrealized_pnl", "3.25");

    /* a second buy moves the size-weighted average: (100 * 0.43 + 100 * 0.60) / 200 */
    market_order(&a, m.yes, "BUY", "100", NULL);
    g = get_account(DEMO, &a);
    p = position_of(&g, m.cond, "Yes");
    assert_str(g, p, "quantity", "200.0000");
    assert_str(g, p, "avg_entry_price", "0.5150");
    assert_str(g, p, "market_value", "110.00");
    /* placing and cancelling orders never changes equity */
    {
        char *before = it_printf("%s", it_json_str(g.json, "equity"));
        long long id = limit_order(&a, m.no, "BUY", "100", "0.20", NULL, "open");
        it_response_t c;
        g = get_account(DEMO, &a);
        assert_str(g, g.json, "equity", before);
        c = cancel_order_key(DEMO, a.id, it_lltext(id));
        it_assert_status(c, 200);
        g = get_account(DEMO, &a);
        assert_str(g, g.json, "equity", before);
    }
    assert_invariants();
}
END_TEST

/* A money string "-?D+.DD" as cents, exactly (never through a double). */
static long long money_cents(const it_response_t *r, const char *s)
{
    long long v = 0;
    const char *p = s;
    int neg = 0;

    ck_assert_msg(s && it_matches(s, "^-?[0-9]{1,15}\\.[0-9]{2}$"),
                  "expected a money string, got %s: %s", s ? s : "(none)", it_describe(r));
    if (*p == '-') {
        neg = 1;
        p++;
    }
    for (; *p; p++) {
        if (*p != '.') v = v * 10 + (*p - '0');
    }
    return neg ? -v : v;
}

/* equity = balance + reserved_cash + sum of open_positions[].market_value,
 * from the body alone. */
static void assert_equity_reconciles(const it_response_t *g)
{
    json_object *ps = it_json_get(g->json, "open_positions");
    long long sum;
    size_t i;

    ck_assert_msg(ps && json_object_is_type(ps, json_type_array), "%s", it_describe(g));
    sum = money_cents(g, it_json_str(g->json, "balance"))
          + money_cents(g, it_json_str(g->json, "reserved_cash"));
    for (i = 0; i < json_object_array_length(ps); i++) {
        sum += money_cents(g, it_json_str(json_object_array_get_idx(ps, i), "market_value"));
    }
    ck_assert_msg(sum == money_cents(g, it_json_str(g->json, "equity")),
                  "equity must be balance + reserved_cash + sum of market_value "
                  "(%lld cents): %s",
                  sum, it_describe(g));
}

START_TEST(test_envelope_reserved_cash_reconciles)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t g;
    long long o1;

    g = get_account(DEMO, &a);
    assert_str(g, g.json, "reserved_cash", "0.00");
    assert_equity_reconciles(&g);

    market_order(&a, m.yes, "BUY", "100", NULL);                    /* 43.00 */
    o1 = limit_order(&a, m.yes, "BUY", "10", "0.10", NULL, "open"); /* 1.00 reserved */
    limit_order(&a, m.no, "BUY", "7", "0.37", NULL, "open");        /* 2.59 reserved */
    limit_order(&a, m.yes, "SELL", "50", "0.90", NULL, "open");     /* shares only */
    g = get_account(DEMO, &a);
    it_assert_status(g, 200);
    assert_str(g, g.json, "balance", "953.41");
    assert_str(g, g.json, "reserved_cash", "3.59");
    /* 953.41 + 3.59 + 100 x 0.4150 */
    assert_str(g, g.json, "equity", "998.50");
    assert_equity_reconciles(&g);
    ck_assert_str_eq(it_db_scalar("select sum(reserved_cash)::text from orders "
                                  "where wallet_id = $1::bigint and status = 'open'",
                                  a.wallet_text),
                     "3.59");

    ck_assert_int_eq(cancel_order_key(DEMO, a.id, it_lltext(o1)).status, 200);
    g = get_account(DEMO, &a);
    assert_str(g, g.json, "reserved_cash", "2.59");
    assert_str(g, g.json, "equity", "998.50");
    assert_equity_reconciles(&g);

    g = call(DEMO, "PATCH", account_path(a.id, NULL), "{\"metadata\":{\"k\":1}}");
    it_assert_status(g, 200);
    assert_str(g, g.json, "reserved_cash", "2.59");
    assert_equity_reconciles(&g);

    /* close cancels the rest: nothing reserved, the cash is back in the balance */
    g = call(DEMO, "POST", account_path(a.id, "/close"), NULL);
    it_assert_status(g, 200);
    assert_str(g, g.json, "reserved_cash", "0.00");
    assert_str(g, g.json, "balance", "957.00");
    assert_equity_reconciles(&g);
    assert_invariants();
}
END_TEST

START_TEST(test_settlement_pays_winners)
{
    account_t a = new_account(DEMO, "1000"), b = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    market_t other = quoted_market("0.40", "0.43");
    it_response_t g, r;
    long long resting, fills_before, ledger_before;
    char *trades_before;

    market_order(&a, m.yes, "BUY", "100", NULL);    /* 43.00 */
    market_order(&a, m.no, "BUY", "50", NULL);      /* 27.50 */
    market_order(&a, other.yes, "BUY", "10", NULL); /* 4.30 */
    market_order(&b, m.yes, "BUY", "20", NULL);     /* 8.60 */
    market_order(&b, m.yes, "SELL", "20", NULL);    /* closed before settlement */
    resting = limit_order(&a, m.yes, "BUY", "10", "0.10", NULL, "open");
    ck_assert_str_eq(wallet_balance(&a), "924.20");
    fills_before = count_fills(&a);
    trades_before = expected_ids(&a, NULL, NULL);
    ledger_before = count_ledger(&a);

    ck_assert_int_eq(it_db_int("select pp_settle_market($1, $2)", m.cond, m.yes), 2);
    /* 924.20 + 1.00 released + 100 * 1.00 */
    ck_assert_str_eq(wallet_balance(&a), "1025.20");
    ck_assert_str_eq(it_db_scalar("select string_agg(cause || ':' || amount, ',' order by id) "
                                  "from ledger where wallet_id = $1::bigint and id > (select "
                                  "max(id) from ledger where wallet_id = $1::bigint and cause = "
                                  "'reserve')",
                                  a.wallet_text),
                     "release:1.00,settlement:100.00");
    ck_assert_int_eq(count_ledger(&a), ledger_before + 2);
    ck_assert_str_eq(it_db_scalar("select status from orders where id = $1::bigint",
                                  it_lltext(resting)),
                     "cancelled");
    g = get_account(DEMO, &a);
    ck_assert_int_eq(json_object_array_length(it_json_get(g.json, "open_positions")), 1);
    ck_assert_ptr_null(position_of(&g, m.cond, "Yes"));
    ck_assert_ptr_null(position_of(&g, m.cond, "No"));
    ck_assert_ptr_nonnull(position_of(&g, other.cond, "Yes"));
    assert_str(g, g.json, "balance", "1025.20");
    /* 1025.20 + 10 * 0.415 */
    assert_str(g, g.json, "equity", "1029.35");
    /* settlement is not a trade */
    ck_assert_int_eq(count_fills(&a), fills_before);
    ck_assert_str_eq(all_pages(&a, "", NULL), trades_before);
    /* exactly once */
    ck_assert_int_eq(it_db_int("select pp_settle_market($1, $2)", m.cond, m.yes), 0);
    ck_assert_int_eq(it_db_int("select pp_settle_market($1, NULL)", m.cond), 0);
    ck_assert_str_eq(wallet_balance(&a), "1025.20");
    /* the market is closed to orders now */
    expect_rejected(&a, order_body(m.yes, "BUY", "market", "1", NULL, NULL, NULL), 400,
                    "MARKET_CLOSED");
    r = get_trades(&a, it_printf("market_id=%s", m.cond));
    assert_page(&r);
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 2);
    assert_invariants();
}
END_TEST

START_TEST(test_settlement_void_pays_half)
{
    account_t a = new_account(DEMO, "1000");
    market_t m = quoted_market("0.40", "0.43");
    it_response_t g;

    market_order(&a, m.yes, "BUY", "100", NULL);     /* 43.00 */
    market_order(&a, m.no, "BUY", "51", NULL);       /* 28.05 */
    market_order(&a, m.yes, "SELL", "0.0001", NULL); /* 0.00 */
    limit_order(&a, m.yes, "SELL", "50", "0.90", NULL, "open");
    ck_assert_str_eq(wallet_balance(&a), "928.95");
    ck_assert_int_eq(it_db_int("select pp_settle_market($1, NULL)", m.cond), 2);
    /* 99.9999 * 0.5 = 50.00 (rounded), 51 * 0.5 = 25.50 */
    ck_assert_str_eq(wallet_balance(&a), "1004.45");
    ck_assert_str_eq(it_db_scalar("select string_agg(amount::text, ',' order by id) from ledger "
                                  "where wallet_id = $1::bigint and cause = 'settlement'",
                                  a.wallet_text),
                     "50.00,25.50");
    ck_assert_int_eq(it_db_int("select count(*) from orders where wallet_id = $1::bigint and "
                               "status = 'open'",
                               a.wallet_text),
                     0);
    g = get_account(DEMO, &a);
    ck_assert_int_eq(json_object_array_length(it_json_get(g.json, "open_positions")), 0);
    assert_str(g, g.json, "equity", "1004.45");
    assert_str(g, g.json, "unrealized_pnl", "4.45");
    ck_assert_int_eq(it_db_int("select pp_settle_market($1, NULL)", m.cond), 0);
    ck_assert_int_eq(it_db_int("select pp_settle_market($1, $2)", m.cond, m.yes), 0);
    ck_assert_str_eq(wallet_balance(&a), "1004.45");
    assert_invariants();
}
END_TEST

/* ================================================================================== */
/* GET /v1/markets                                                                      */
/* ================================================================================== */

static it_response_t get_markets(const char *query)
{
    return it_request("GET",
                      it_printf("/v1/markets%s%s", query && *query ? "?" : "", query ? query : ""),
                      NULL, NULL);
}

/* The condition ids of a markets page, joined by ",". */
static char *market_ids(const it_response_t *r)
{
    json_object *d = page_data(r);
    size_t i;
    char *s = it_printf("%s", "");
    for (i = 0; i < json_object_array_length(d); i++) {
        s = it_printf("%s%s%s", s, i ? "," : "",
                      it_json_str(json_object_array_get_idx(d, i), "market_id"));
    }
    return s;
}

static char *upper(const char *s)
{
    char *u = it_printf("%s", s), *p;
    for (p = u; *p; p++) {
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    }
    return u;
}

START_TEST(test_markets_shape_and_filters)
{
    char *u = it_unique("mkt");
    market_t m1 = new_market_q(it_printf("Will %s happen?", u), it_printf("%s-first", u), NULL);
    market_t m2 = new_market_q(it_printf("%s rate 50%% up", u), it_printf("%s-second", u), "0.001");
    market_t m3 = new_market_q(it_printf("%s rate 50x up", u), it_printf("%s-third", u), NULL);
    market_t m4 = new_market_q(it_printf("%s a_b", u), it_printf("%s-fourth", u), NULL);
    market_t m5 = new_market_q(it_printf("%s axb", u), it_printf("%s-fifth-slugonly", u), NULL);
    market_t closed = new_market_q(it_printf("%s closed", u), it_printf("%s-closed", u), NULL);
    market_t settled = new_market_q(it_printf("%s settled", u), it_printf("%s-settled", u), NULL);
    it_response_t r, k;
    json_object *mk, *outs, *o;

    price_update(m1.yes, "\"best_bid\":\"0.41\",\"best_ask\":\"0.43\",\"last_trade_price\":"
                         "\"0.42\"");
    it_db_scalar("select pp_upsert_market($1, 'Q', 's', true, '[]')::text", closed.cond);
    ck_assert_int_eq(it_db_int("select pp_settle_market($1, NULL)", settled.cond), 0);

    r = get_markets(it_printf("search=%s", u));
    assert_page(&r);
    ck_assert_str_eq(market_ids(&r),
                     it_printf("%s,%s,%s,%s,%s", m1.cond, m2.cond, m3.cond, m4.cond, m5.cond));
    ck_assert_ptr_null(page_cursor(&r));
    mk = json_object_array_get_idx(page_data(&r), 0);
    ck_assert_msg(it_json_keys_are(mk, market_keys), "%s", it_describe(&r));
    assert_str(r, mk, "question", it_printf("Will %s happen?", u));
    assert_str(r, mk, "slug", it_printf("%s-first", u));
    outs = it_json_get(mk, "outcomes");
    ck_assert_int_eq(json_object_array_length(outs), 2);
    o = json_object_array_get_idx(outs, 0);
    ck_assert_msg(it_json_keys_are(o, outcome_keys), "%s", it_describe(&r));
    {
        /* find Yes */
        size_t i;
        for (i = 0; i < 2; i++) {
            o = json_object_array_get_idx(outs, i);
            if (strcmp(it_json_str(o, "token_id"), m1.yes) == 0) break;
        }
        ck_assert_int_lt(i, 2);
    }
    assert_str(r, o, "outcome", "Yes");
    assert_str(r, o, "best_bid", "0.4100");
    assert_str(r, o, "best_ask", "0.4300");
    assert_null(r, o, "midpoint");
    assert_str(r, o, "last_trade_price", "0.4200");
    assert_str(r, o, "tick_size", "0.0100");
    ck_assert_msg(it_json_str(o, "updated_at") != NULL
                      && it_matches(it_json_str(o, "updated_at"),
                                    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$"),
                  "%s", it_describe(&r));
    mk = json_object_array_get_idx(page_data(&r), 1);
    o = json_object_array_get_idx(it_json_get(mk, "outcomes"), 0);
    assert_str(r, o, "tick_size", "0.0010");
    assert_null(r, o, "best_bid");

    /* a key is ignored, even a wrong one */
    k = it_request("GET", it_printf("/v1/markets?search=%s", u), IT_HEADERS(it_key_header(DEMO)),
                   NULL);
    assert_page(&k);
    ck_assert_str_eq(k.body, r.body);
    k = it_request("GET", it_printf("/v1/markets?search=%s", u),
                   IT_HEADERS(it_key_header("not-a-key")), NULL);
    assert_page(&k);
    ck_assert_str_eq(k.body, r.body);

    /* case-insensitive, in the question or the slug; % and _ are literal */
    r = get_markets(it_printf("search=%s", upper(u)));
    ck_assert_int_eq(json_object_array_length(page_data(&r)), 5);
    r = get_markets(it_printf("search=WILL%%20%s%%20HAPPEN", upper(u)));
    ck_assert_str_eq(market_ids(&r), m1.cond);
    r = get_markets(it_printf("search=%s%%20rate%%2050%%25", u));
    ck_assert_str_eq(market_ids(&r), m2.cond);
    r = get_markets(it_printf("search=%s%%20a_b", u));
    ck_assert_str_eq(market_ids(&r), m4.cond);
    r = get_markets(it_printf("search=%s-fifth-SLUGONLY", u));
    ck_assert_str_eq(market_ids(&r), m5.cond);
    r = get_markets(it_printf("search=%s%%25", u));
    ck_assert_str_eq(market_ids(&r), "");
    r = get_markets(it_printf("search=%s%%20closed", u));
    ck_assert_str_eq(market_ids(&r), "");
    r = get_markets(it_printf("search=%s%%20settled", u));
    ck_assert_str_eq(market_ids(&r), "");

    /* market_id */
    r = get_markets(it_printf("market_id=%s", m3.cond));
    assert_page(&r);
    ck_assert_str_eq(market_ids(&r), m3.cond);
    r = get_markets(it_printf("market_id=%s", closed.cond));
    ck_assert_str_eq(market_ids(&r), "");
    r = get_markets(it_printf("market_id=%s&search=%s%%20a_b", m3.cond, u));
    ck_assert_str_eq(market_ids(&r), "");
    r = get_markets("market_id=0xnosuchmarket");
    assert_page(&r);
    ck_assert_str_eq(market_ids(&r), "");
    ck_assert_ptr_null(page_cursor(&r));
}
END_TEST

START_TEST(test_markets_pagination)
{
    char *u = it_unique("mktpage"), *cursor = NULL, *got = it_printf("%s", ""), *c2, *cs;
    market_t m[5];
    int i, pages = 0;
    it_response_t r;

    for (i = 0; i < 5; i++) {
        m[i] = new_market_q(it_printf("%s number %d", u, i), it_printf("%s-%d", u, i), NULL);
    }
    for (;;) {
        const char *c;
        char *p;
        r = get_markets(cursor ? it_printf("search=%s&limit=2&cursor=%s", u, cursor)
                               : it_printf("search=%s&limit=2", u));
        assert_page(&r);
        p = market_ids(&r);
        if (*p) got = it_printf("%s%s%s", got, *got ? "," : "", p);
        pages++;
        ck_assert_int_lt(pages, 10);
        c = page_cursor(&r);
        if (!c) break;
        cursor = it_printf("%s", c);
        if (pages == 1) {
            /* a market closing while paging just disappears from later pages */
            it_db_scalar("select pp_upsert_market($1, 'Q', 's', true, '[]')::text", m[3].cond);
        }
    }
    ck_assert_str_eq(got, it_printf("%s,%s,%s,%s", m[0].cond, m[1].cond, m[2].cond, m[4].cond));
    ck_assert_int_eq(pages, 2);

    r = get_markets(it_printf("search=%s&limit=1", u));
    c2 = it_printf("%s", page_cursor(&r));
    r = get_markets(it_printf("search=%s&limit=1&cursor=%s", u, c2));
    assert_page(&r);
    ck_assert_str_eq(market_ids(&r), m[1].cond);
    r = get_markets(it_printf("search=%s&limit=1&cursor=", u));
    ck_assert_str_eq(market_ids(&r), m[0].cond);
    /* cursors of other filters, tampered, garbage */
    r = get_markets(it_printf("limit=1&cursor=%s", c2));
    it_assert_error(r, 400, "INVALID_CURSOR");
    r = get_markets(it_printf("search=%sx&limit=1&cursor=%s", u, c2));
    it_assert_error(r, 400, "INVALID_CURSOR");
    r = get_markets(it_printf("search=%s&market_id=%s&limit=1&cursor=%s", u, m[0].cond, c2));
    it_assert_error(r, 400, "INVALID_CURSOR");
    for (i = 0; i < (int)strlen(c2); i++) {
        r = get_markets(it_printf("search=%s&limit=1&cursor=%s", u, tamper(c2, (size_t)i)));
        ck_assert_msg(r.status == 400, "markets cursor changed at %d accepted: %s", i,
                      it_describe(&r));
        it_assert_error(r, 400, "INVALID_CURSOR");
    }
    r = get_markets(it_printf("search=%s&limit=1&cursor=garbage", u));
    it_assert_error(r, 400, "INVALID_CURSOR");
    /* a trades cursor is not a markets cursor, and the other way round */
    {
        account_t a = new_account(DEMO, "1000");
        market_t q = quoted_market("0.40", "0.43");
        market_order(&a, q.yes, "BUY", "1", NULL);
        market_order(&a, q.yes, "BUY", "1", NULL);
        cs = cursor_of(&a, DEMO, "limit=1");
        r = get_markets(it_printf("limit=1&cursor=%s", cs));
        it_assert_error(r, 400, "INVALID_CURSOR");
        r = get_markets("limit=1");
        ck_assert_ptr_nonnull(page_cursor(&r));
        r = get_trades(&a, it_printf("limit=1&cursor=%s", page_cursor(&r)));
        it_assert_error(r, 400, "INVALID_CURSOR");
    }
    /* limits */
    {
        static const char *const bad[] = { "limit=0", "limit=501", "limit=abc", "limit=-1", NULL };
        for (i = 0; bad[i]; i++) {
            r = get_markets(bad[i]);
            it_assert_error(r, 422, "VALIDATION_FAILED");
        }
    }
    /* methods */
    r = it_request("POST", "/v1/markets", NULL, "{}");
    it_assert_error(r, 405, "METHOD_NOT_ALLOWED");
    ck_assert(it_allow_has(it_header(&r, "Allow"), "GET"));
    r = it_request("DELETE", "/v1/markets", IT_HEADERS(it_key_header(DEMO)), NULL);
    it_assert_error(r, 405, "METHOD_NOT_ALLOWED");
    r = it_request("HEAD", "/v1/markets", NULL, NULL);
    ck_assert_msg(r.status == 200, "%s", it_describe(&r));
}
END_TEST

Suite *it_trading_suite(void)
{
    Suite *s = suite_create("trading");
    TCase *feed_tc = tcase_create("trades");
    TCase *orders_tc = tcase_create("orders");
    TCase *iso_tc = tcase_create("isolation");
    TCase *env_tc = tcase_create("envelope");
    TCase *markets_tc = tcase_create("markets");

    tcase_set_timeout(feed_tc, 180);
    tcase_add_test(feed_tc, test_trades_shape);
    tcase_add_test(feed_tc, test_trades_limit_validation);
    tcase_add_test(feed_tc, test_trades_only_fills);
    tcase_add_test(feed_tc, test_trades_empty);
    tcase_add_test(feed_tc, test_trades_order_and_filters);
    tcase_add_test(feed_tc, test_trades_default_limit_and_bounds);
    tcase_add_test(feed_tc, test_trades_paging);
    tcase_add_test(feed_tc, test_trades_paging_while_fills_arrive);
    tcase_add_test(feed_tc, test_trades_cursor_attacks);
    tcase_add_test(feed_tc, test_trades_survive_close_and_reset);
    tcase_add_test(feed_tc, test_trades_paging_under_concurrent_fills);
    tcase_add_test(feed_tc, test_trades_query_rules);
    suite_add_tcase(s, feed_tc);

    tcase_set_timeout(orders_tc, 180);
    tcase_add_test(orders_tc, test_order_market_buy_at_best_ask);
    tcase_add_test(orders_tc, test_order_book_walk);
    tcase_add_test(orders_tc, test_order_top_of_book);
    tcase_add_test(orders_tc, test_order_market_rejections);
    tcase_add_test(orders_tc, test_order_price_rules);
    tcase_add_test(orders_tc, test_order_body_validation);
    tcase_add_test(orders_tc, test_order_closed_account);
    tcase_add_test(orders_tc, test_order_idempotency);
    tcase_add_test(orders_tc, test_order_idempotency_concurrent);
    tcase_add_test(orders_tc, test_order_concurrent_no_overdraft);
    tcase_add_test(orders_tc, test_limit_buy_rests_and_fills_on_update);
    tcase_add_test(orders_tc, test_limit_sell_rests_and_fills_on_update);
    tcase_add_test(orders_tc, test_limit_crossed_at_placement_fills_at_once);
    tcase_add_test(orders_tc, test_cancel);
    tcase_add_test(orders_tc, test_orders_list);
    suite_add_tcase(s, orders_tc);

    tcase_set_timeout(iso_tc, 180);
    tcase_add_test(iso_tc, test_orders_need_orders_write);
    tcase_add_test(iso_tc, test_isolation_matrix);
    suite_add_tcase(s, iso_tc);

    tcase_set_timeout(env_tc, 180);
    tcase_add_test(env_tc, test_envelope_marks_to_market);
    tcase_add_test(env_tc, test_envelope_reserved_cash_reconciles);
    tcase_add_test(env_tc, test_settlement_pays_winners);
    tcase_add_test(env_tc, test_settlement_void_pays_half);
    suite_add_tcase(s, env_tc);

    tcase_set_timeout(markets_tc, 180);
    tcase_add_test(markets_tc, test_markets_shape_and_filters);
    tcase_add_test(markets_tc, test_markets_pagination);
    suite_add_tcase(s, markets_tc);
    return s;
}
