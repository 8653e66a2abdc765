/* The account endpoints: POST /v1/partner/accounts, GET and PATCH
 * /v1/partner/accounts/{id}, POST .../close and .../reset, and the accounts
 * listed by GET /v1/partner/users/{id}. Creation rules and idempotency (also
 * under concurrency), the state envelope marked to market, close and reset
 * with open orders (rested through the engine's SQL functions) and the
 * cancel-batch limit, tenant isolation, and after every scenario the ledger
 * invariants. */
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
/* the module's default PolyPartnerCancelBatchSize */
#define CANCEL_BATCH 500

static const char *const created_keys[] = {
    "account_id", "wallet_id",        "user_id", "external_id", "stage",
    "status",     "starting_balance", "rules",   "metadata",    NULL
};
static const char *const envelope_keys[] = { "account_id",
                                             "external_id",
                                             "stage",
                                             "status",
                                             "balance",
                                             "reserved_cash",
                                             "starting_balance",
                                             "equity",
                                             "unrealized_pnl",
                                             "realized_pnl",
                                             "open_positions",
                                             "rules",
                                             "metadata",
                                             "updated_at",
                                             "risk",
                                             NULL };
static const char *const risk_keys[] = { "trading_day",
                                         "day_started_at",
                                         "day_start_equity",
                                         "day_start_balance",
                                         "day_high_equity",
                                         "day_high_at",
                                         "day_low_equity",
                                         "day_low_at",
                                         "high_water_mark",
                                         "high_water_mark_at",
                                         "low_water_mark",
                                         "low_water_mark_at",
                                         "max_drawdown",
                                         "trading_days",
                                         "as_of",
                                         NULL };
static const char *const position_keys[] = { "market_id",      "outcome",
                                             "quantity",       "avg_entry_price",
                                             "current_price",  "market_value",
                                             "unrealized_pnl", NULL };
static const char *const summary_keys[] = {
    "account_id",       "external_id", "stage",      "status",
    "starting_balance", "wallet_id",   "created_at", NULL
};

/* ---- small helpers ------------------------------------------------------------ */

/* tmpl with every occurrence of from replaced by to (malloc'd). */
static char *subst(const char *tmpl, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    const char *p;
    char *out, *o;

    for (p = tmpl; (p = strstr(p, from)) != NULL; p += fl) n++;
    out = malloc(strlen(tmpl) + n * tl + 1);
    ck_assert_ptr_nonnull(out);
    for (o = out, p = tmpl;;) {
        const char *hit = strstr(p, from);
        if (!hit) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, to, tl);
        o += tl;
        p = hit + fl;
    }
    return out;
}

static long long int_member(const it_response_t *r, const char *key)
{
    json_object *v = it_json_get(r->json, key);
    ck_assert_msg(v && json_object_is_type(v, json_type_int), "%s must be a JSON integer: %s", key,
                  it_describe(r));
    return (long long)json_object_get_int64(v);
}

/* A string member equals want exactly. */
/* clang-format 14 misreads `a && f(...)` in a macro body as a reference */
/* clang-format off */
#define assert_member(resp, key, want) do {                                          \
        const char *am_v_ = it_json_str((resp).json, (key));                          \
        ck_assert_msg(am_v_ && strcmp(am_v_, (want)) == 0,                            \
                      "\"%s\" must be \"%s\": %s", (key), (want), it_describe(&(resp)));\
    } while (0)
/* clang-format on */

/* ---- API helpers -------------------------------------------------------------- */

static it_response_t call(const char *key, const char *method, const char *path, const char *body)
{
    return it_request(method, path, IT_HEADERS(it_key_header(key)), body);
}

static char *account_path(const char *id, const char *suffix)
{
    return it_printf(ACCOUNTS "/%s%s", id, suffix ? suffix : "");
}

static it_response_t get_account(const char *key, const char *id)
{
    return call(key, "GET", account_path(id, NULL), NULL);
}

static it_response_t patch_account(const char *key, const char *id, const char *body)
{
    return call(key, "PATCH", account_path(id, NULL), body);
}

static it_response_t close_account(const char *key, const char *id)
{
    return call(key, "POST", account_path(id, "/close"), NULL);
}

static it_response_t reset_account(const char *key, const char *id)
{
    return call(key, "POST", account_path(id, "/reset"), NULL);
}

static it_response_t get_user(const char *key, long long uid)
{
    return call(key, "GET", it_printf("/v1/partner/users/%lld", uid), NULL);
}

/* A creation body; rules/metadata are inserted verbatim when not NULL. */
static char *create_body(long long uid, const char *x, const char *stage, const char *balance,
                         const char *rules, const char *metadata)
{
    char *b = it_printf("{\"user_id\":%lld,\"external_id\":%s,\"stage\":%s,"
                        "\"starting_balance\":%s",
                        uid, it_json_quote(x), it_json_quote(stage), it_json_quote(balance));
    if (rules) b = it_printf("%s,\"rules\":%s", b, rules);
    if (metadata) b = it_printf("%s,\"metadata\":%s", b, metadata);
    return it_printf("%s}", b);
}

static it_response_t create(const char *key, long long uid, const char *x, const char *stage,
                            const char *balance, const char *rules, const char *metadata)
{
    return call(key, "POST", ACCOUNTS, create_body(uid, x, stage, balance, rules, metadata));
}

/* A trader registered through key. */
static long long new_user(const char *key)
{
    char *x = it_unique("acctuser");
    return it_register(key, x, it_printf("%s@example.com", x), NULL);
}

typedef struct {
    char *id; /* account_id */
    char *x;  /* external_id */
    long long uid;
    long long wallet;
    char *wallet_text;
} account_t;

/* A new account of a new trader of key's tenant. */
static account_t new_account(const char *key, const char *balance)
{
    account_t a;
    it_response_t r;

    a.uid = new_user(key);
    a.x = it_unique("acct");
    r = create(key, a.uid, a.x, "challenge", balance, NULL, NULL);
    it_assert_status(r, 201);
    a.id = it_printf("%s", it_json_str(r.json, "account_id"));
    ck_assert_msg(it_is_uuid(a.id), "%s", it_describe(&r));
    a.wallet = int_member(&r, "wallet_id");
    a.wallet_text = it_lltext(a.wallet);
    it_response_free(&r);
    return a;
}

/* ---- database fixtures ---------------------------------------------------------- */

/* A market and one of its tokens; prices are text ("" for NULL). Returns the
 * token id; *condition receives the market's condition id. */
static char *new_token(const char *outcome, const char *bid, const char *ask, const char *mid,
                       const char *last, char **condition)
{
    char *cond = it_unique("0xcond"), *tok = it_token_id();
    bid = bid ? bid : "";
    ask = ask ? ask : "";
    mid = mid ? mid : "";
    last = last ? last : "";
    it_db_scalar("insert into markets (condition_id, question) values ($1, 'Q') "
                 "returning condition_id",
                 cond);
    it_db_scalar("insert into market_tokens (token_id, condition_id, outcome, best_bid, "
                 "best_ask, midpoint, last_trade_price) values ($1, $2, $3, "
                 "nullif($4, '')::numeric, nullif($5, '')::numeric, nullif($6, '')::numeric, "
                 "nullif($7, '')::numeric) returning token_id",
                 tok, cond, outcome, bid, ask, mid, last);
    if (condition) *condition = cond;
    return tok;
}

/* A second token of an existing market. */
static char *add_token(const char *cond, const char *outcome)
{
    char *tok = it_token_id();
    it_db_scalar("insert into market_tokens (token_id, condition_id, outcome) values "
                 "($1, $2, $3) returning token_id",
                 tok, cond, outcome);
    return tok;
}

static void set_prices(const char *tok, const char *bid, const char *ask, const char *mid,
                       const char *last)
{
    char *n;
    bid = bid ? bid : "";
    ask = ask ? ask : "";
    mid = mid ? mid : "";
    last = last ? last : "";
    n = it_db_scalar("update market_tokens set best_bid = nullif($2, '')::numeric, "
                     "best_ask = nullif($3, '')::numeric, "
                     "midpoint = nullif($4, '')::numeric, "
                     "last_trade_price = nullif($5, '')::numeric "
                     "where token_id = $1 returning token_id",
                     tok, bid, ask, mid, last);
    ck_assert_msg(n != NULL, "token %s not updated", tok);
}

static long long rest_order(const account_t *a, const char *tok, const char *side, const char *qty,
                            const char *price)
{
    return it_db_int("select pp_engine_rest_limit_order($1::bigint, $2, $3, $4::numeric, "
                     "$5::numeric)",
                     a->wallet_text, tok, side, qty, price);
}

/* n BUY orders of 1 share at 0.01 (0.01 reserved each), in one statement. */
static void rest_many_orders(const account_t *a, const char *tok, int n)
{
    char *nt = it_printf("%d", n);
    ck_assert_int_eq(it_db_int("select count(pp_engine_rest_limit_order($1::bigint, $2, 'BUY', "
                               "1, 0.01)) from generate_series(1, $3::int)",
                               a->wallet_text, tok, nt),
                     n);
}

static void insert_position(const account_t *a, const char *tok, const char *qty, const char *avg)
{
    it_db_scalar("insert into positions (wallet_id, token_id, quantity, avg_entry_price) "
                 "values ($1::bigint, $2, $3::numeric, $4::numeric) returning id",
                 a->wallet_text, tok, qty, avg);
}

/* A cash movement with its ledger entry, as the fill engine will post them. */
static void post_cash(const account_t *a, const char *amount, const char *cause)
{
    it_db_scalar("select pp_wallet_post($1::bigint, $2::numeric, $3)", a->wallet_text, amount,
                 cause);
}

static char *wallet_balance(const account_t *a)
{
    return it_db_scalar("select balance::text from wallets where id = $1::bigint", a->wallet_text);
}

static long long open_orders(const account_t *a)
{
    return it_db_int("select count(*) from orders where wallet_id = $1::bigint and "
                     "status = 'open'",
                     a->wallet_text);
}

static long long ledger_rows(const account_t *a)
{
    return it_db_int("select count(*) from ledger where wallet_id = $1::bigint", a->wallet_text);
}

static char *account_status(const account_t *a)
{
    return it_db_scalar("select status from accounts where id = $1::uuid", a->id);
}

/* Everything about an account and its wallet that a request could change. */
static char *snapshot(const char *account_id)
{
    return it_db_scalar(
        "select format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', a.status, a.stage, "
        "a.starting_balance, a.rules, a.metadata, a.reset_count, a.closed_at, a.created_at, "
        "w.balance, (select count(*) || '/' || coalesce(sum(amount), 0) from ledger l "
        "where l.wallet_id = w.id), (select string_agg(o.id || o.status, ',' order by o.id) "
        "from orders o where o.wallet_id = w.id), (select string_agg(p.id || ':' || "
        "p.reserved_quantity || ':' || coalesce(p.archived_at::text, '-'), ',' order by p.id) "
        "from positions p where p.wallet_id = w.id)) "
        "from accounts a join wallets w on w.id = a.wallet_id where a.id = $1::uuid",
        account_id);
}

/* ---- invariants ------------------------------------------------------------------ */

/* For every wallet: balance = sum of its ledger; no negative balance; no
 * reservation without an open order and no open order without one. */
static void assert_invariants(void)
{
    long long n = it_db_int("select count(*) from wallets w where balance <> (select "
                            "coalesce(sum(amount), 0) from ledger l where l.wallet_id = w.id)");
    ck_assert_msg(n == 0, "%lld wallet(s) whose balance is not the sum of their ledger", n);
    ck_assert_int_eq(it_db_int("select count(*) from wallets where balance < 0"), 0);
    /* reserved shares of open positions = what their open SELL orders hold */
    n = it_db_int("select count(*) from positions p where p.closed_at is null and "
                  "p.archived_at is null and p.reserved_quantity <> (select "
                  "coalesce(sum(o.reserved_shares), 0) from orders o where o.wallet_id = "
                  "p.wallet_id and o.token_id = p.token_id and o.status = 'open')");
    ck_assert_msg(n == 0,
                  "%lld open position(s) whose reserved_quantity does not match "
                  "their open SELL orders",
                  n);
    /* every account's wallet is a tenant wallet of its trader, used once */
    ck_assert_int_eq(it_db_int("select count(*) from accounts a join wallets w on "
                               "w.id = a.wallet_id where w.kind <> 'tenant' or "
                               "w.user_id <> a.user_id"),
                     0);
}

/* The trader's personal wallet holds its opening deposit and nothing else. */
static void assert_personal_untouched(long long uid)
{
    char *u = it_lltext(uid);
    char *s = it_db_scalar("select format('%s|%s', w.balance, (select string_agg(cause || ':' "
                           "|| amount, ',' order by id) from ledger l where l.wallet_id = "
                           "w.id)) from wallets w where w.user_id = $1::bigint and "
                           "w.kind = 'personal'",
                           u);
    ck_assert_msg(s && strcmp(s, "1000.00|deposit:1000.00") == 0,
                  "the personal wallet of user %s changed: %s", u, s ? s : "(none)");
}

static void assert_account_invariants(const account_t *a)
{
    assert_invariants();
    assert_personal_untouched(a->uid);
}

/* ---- response shapes --------------------------------------------------------------- */

static void assert_created(const it_response_t *r, long status, long long uid, const char *x,
                           const char *stage, const char *balance, const char *rules,
                           const char *metadata)
{
    json_object *want;

    it_assert_status(*r, status);
    ck_assert_msg(it_json_keys_are(r->json, created_keys),
                  "the create response must have exactly account_id, wallet_id, user_id, "
                  "external_id, stage, status, starting_balance, rules, metadata: %s",
                  it_describe(r));
    ck_assert_msg(it_is_uuid(it_json_str(r->json, "account_id")), "account_id: %s", it_describe(r));
    ck_assert_msg(int_member(r, "wallet_id") > 0, "%s", it_describe(r));
    ck_assert_msg(int_member(r, "user_id") == uid, "user_id must be %lld: %s", uid, it_describe(r));
    assert_member(*r, "external_id", x);
    assert_member(*r, "stage", stage);
    assert_member(*r, "status", "active");
    assert_member(*r, "starting_balance", balance);
    want = it_json_parse(rules, strlen(rules));
    ck_assert_msg(want && json_object_equal(it_json_get(r->json, "rules"), want),
                  "rules must be %s: %s", rules, it_describe(r));
    json_object_put(want);
    want = it_json_parse(metadata, strlen(metadata));
    ck_assert_msg(want && json_object_equal(it_json_get(r->json, "metadata"), want),
                  "metadata must be %s: %s", metadata, it_describe(r));
    json_object_put(want);
}

/* The account-state envelope: exactly the documented keys, their types and
 * formats, and the given values (NULL: not checked). */
static void assert_envelope(const it_response_t *r, const char *id, const char *x,
                            const char *status, const char *balance, const char *starting,
                            const char *equity, const char *upnl, int npositions)
{
    static const char *const money[] = { "balance", "reserved_cash",  "starting_balance",
                                         "equity",  "unrealized_pnl", NULL };
    json_object *pos;
    int i;

    it_assert_status(*r, 200);
    ck_assert_msg(it_json_keys_are(r->json, envelope_keys),
                  "the envelope must have exactly the documented keys: %s", it_describe(r));
    for (i = 0; money[i]; i++) {
        ck_assert_msg(it_matches(it_json_str(r->json, money[i]), "^-?[0-9]+\\.[0-9]{2}$"),
                      "%s must be a money string with 2 decimals: %s", money[i], it_describe(r));
    }
    ck_assert_msg(it_json_has(r->json, "realized_pnl") && !it_json_get(r->json, "realized_pnl"),
                  "realized_pnl must be null: %s", it_describe(r));
    ck_assert_msg(json_object_is_type(it_json_get(r->json, "rules"), json_type_object)
                      && json_object_is_type(it_json_get(r->json, "metadata"), json_type_object),
                  "rules and metadata must be objects: %s", it_describe(r));
    ck_assert_msg(it_matches(it_json_str(r->json, "updated_at"),
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"),
                  "updated_at must be YYYY-MM-DDTHH:MM:SSZ: %s", it_describe(r));
    ck_assert_msg(it_matches(it_json_str(r->json, "stage"), "^(demo|challenge|funded)$"), "%s",
                  it_describe(r));
    pos = it_json_get(r->json, "open_positions");
    ck_assert_msg(pos && json_object_is_type(pos, json_type_array),
                  "open_positions must be "
                  "an array: %s",
                  it_describe(r));
    for (i = 0; i < (int)json_object_array_length(pos); i++) {
        json_object *p = json_object_array_get_idx(pos, (size_t)i);
        ck_assert_msg(it_json_keys_are(p, position_keys),
                      "open_positions[%d] must have exactly the documented keys: %s", i,
                      it_describe(r));
        ck_assert_msg(it_matches(it_json_str(p, "quantity"), "^[0-9]+\\.[0-9]{4}$")
                          && it_matches(it_json_str(p, "avg_entry_price"), "^[0-9]+\\.[0-9]{4}$")
                          && it_matches(it_json_str(p, "current_price"), "^[0-9]+\\.[0-9]{4}$")
                          && it_matches(it_json_str(p, "market_value"), "^[0-9]+\\.[0-9]{2}$")
                          && it_matches(it_json_str(p, "unrealized_pnl"), "^-?[0-9]+\\.[0-9]{2}$"),
                      "open_positions[%d]: 4 decimals for quantities and prices, 2 for "
                      "money: %s",
                      i, it_describe(r));
    }
    if (id) assert_member(*r, "account_id", id);
    if (x) assert_member(*r, "external_id", x);
    if (status) assert_member(*r, "status", status);
    if (balance) assert_member(*r, "balance", balance);
    if (starting) assert_member(*r, "starting_balance", starting);
    if (equity) assert_member(*r, "equity", equity);
    if (upnl) assert_member(*r, "unrealized_pnl", upnl);
    if (npositions >= 0) {
        ck_assert_msg((int)json_object_array_length(pos) == npositions,
                      "expected %d open position(s): %s", npositions, it_describe(r));
    }
}

/* The open position with this outcome in the envelope. */
static json_object *position_of(const it_response_t *r, const char *market, const char *outcome)
{
    json_object *pos = it_json_get(r->json, "open_positions");
    size_t i;
    for (i = 0; pos && i < json_object_array_length(pos); i++) {
        json_object *p = json_object_array_get_idx(pos, i);
        const char *m = it_json_str(p, "market_id"), *o = it_json_str(p, "outcome");
        if (m && o && strcmp(m, market) == 0 && strcmp(o, outcome) == 0) {
            return p;
        }
    }
    ck_abort_msg("no open position %s/%s: %s", market, outcome, it_describe(r));
    return NULL;
}

static void assert_position(const it_response_t *r, const char *market, const char *outcome,
                            const char *qty, const char *avg, const char *price, const char *value,
                            const char *pnl)
{
    json_object *p = position_of(r, market, outcome);
    const char *const want[][2] = {
        { "quantity", qty },       { "avg_entry_price", avg }, { "current_price", price },
        { "market_value", value }, { "unrealized_pnl", pnl },
    };
    size_t i;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *v = it_json_str(p, want[i][0]);
        ck_assert_msg(v && strcmp(v, want[i][1]) == 0, "position %s: %s must be \"%s\": %s",
                      outcome, want[i][0], want[i][1], it_describe(r));
    }
}

/* The creation time as the envelope renders it. */
static char *created_at_text(const char *account_id)
{
    return it_db_scalar("select to_char(created_at at time zone 'UTC', "
                        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') from accounts where id = $1::uuid",
                        account_id);
}

/* ---- concurrency ------------------------------------------------------------------ */

typedef struct {
    pthread_barrier_t *barrier;
    const char *key;
    const char *method;
    const char *path;
    const char *body;
    it_response_t resp;
} job_t;

static void expect_mpm_saturation(void)
{
    it_expect_log("\\[mpm_(event|worker|prefork):error\\].*(AH00484|AH00161)");
}

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
    expect_mpm_saturation();
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

/* ================================================================================== */
/* POST /v1/partner/accounts                                                           */
/* ================================================================================== */

START_TEST(test_create_account)
{
    static const char *const rules = "{\"profit_target_pct\":20,\"max_drawdown_pct\":10,"
                                     "\"nested\":{\"a\":[1,2.5,null,\"x\"],\"b\":true}}";
    static const char *const metadata = "{\"plan\":\"10k\",\"attempt\":1,\"name\":"
                                        "\"Zo\xC3\xAB \xF0\x9F\x98\x80\",\"empty\":{}}";
    long long uid = new_user(DEMO);
    char *x = it_unique("create"), *id, *w, *u = it_lltext(uid), *row;
    it_response_t r = create(DEMO, uid, x, "challenge", "10000", rules, metadata);

    /* "10000" comes back with 2 decimals */
    assert_created(&r, 201, uid, x, "challenge", "10000.00", rules, metadata);
    id = it_printf("%s", it_json_str(r.json, "account_id"));
    w = it_lltext(int_member(&r, "wallet_id"));

    /* one account, backed by a new tenant wallet of the trader funded by one deposit */
    ck_assert_int_eq(it_db_int("select count(*) from accounts where tenant = 'demo' and "
                               "external_id = $1",
                               x),
                     1);
    row = it_db_scalar("select format('%s|%s|%s|%s|%s|%s|%s', a.id, a.tenant, a.user_id, "
                       "a.wallet_id, a.stage, a.status, a.starting_balance) from accounts a "
                       "where a.external_id = $1 and a.tenant = 'demo'",
                       x);
    ck_assert_str_eq(row, it_printf("%s|demo|%s|%s|challenge|active|10000.00", id, u, w));
    ck_assert_str_eq(it_db_scalar("select format('%s|%s|%s', kind, user_id, balance) from "
                                  "wallets where id = $1::bigint",
                                  w),
                     it_printf("tenant|%s|10000.00", u));
    ck_assert_str_eq(it_db_scalar("select string_agg(cause || ':' || amount, ',' order by id) "
                                  "from ledger where wallet_id = $1::bigint",
                                  w),
                     "deposit:10000.00");
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               u),
                     1);
    ck_assert_str_eq(it_db_scalar("select (rules = $2::jsonb and metadata = $3::jsonb)::text "
                                  "from accounts where id = $1::uuid",
                                  id, rules, metadata),
                     "true");
    it_response_free(&r);
    assert_invariants();
    assert_personal_untouched(uid);
}
END_TEST

START_TEST(test_create_defaults_and_stages)
{
    static const char *const stages[] = { "demo", "challenge", "funded", NULL };
    long long uid = new_user(DEMO);
    int i;

    for (i = 0; stages[i]; i++) {
        char *x = it_unique("stage");
        it_response_t r = create(DEMO, uid, x, stages[i], "2500.50", NULL, NULL);
        assert_created(&r, 201, uid, x, stages[i], "2500.50", "{}", "{}");
        it_response_free(&r);
    }
    /* null is the same as absent */
    {
        char *x = it_unique("nulls");
        it_response_t r = create(DEMO, uid, x, "demo", "100.5", "null", "null");
        assert_created(&r, 201, uid, x, "demo", "100.50", "{}", "{}");
        ck_assert_str_eq(it_db_scalar("select rules::text || metadata::text from accounts "
                                      "where external_id = $1",
                                      x),
                         "{}{}");
        it_response_free(&r);
        x = it_unique("empties");
        r = create(DEMO, uid, x, "demo", "100.00", "{}", "{}");
        assert_created(&r, 201, uid, x, "demo", "100.00", "{}", "{}");
        it_response_free(&r);
    }
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               it_lltext(uid)),
                     5);
    assert_invariants();
    assert_personal_untouched(uid);
}
END_TEST

START_TEST(test_create_replay)
{
    long long uid = new_user(DEMO);
    char *x = it_unique("replay"), *u = it_lltext(uid), *first_body;
    it_response_t r = create(DEMO, uid, x, "funded", "10000", "{\"r\":1}", "{\"m\":1}");
    const char *const balances[] = { "10000", "10000.00", "10000.0", NULL };
    long long wallets, ledger;
    int i;

    assert_created(&r, 201, uid, x, "funded", "10000.00", "{\"r\":1}", "{\"m\":1}");
    first_body = it_printf("%s", r.body);
    it_response_free(&r);
    wallets = it_db_int("select count(*) from wallets");
    ledger = it_db_int("select count(*) from ledger");

    for (i = 0; balances[i]; i++) {
        r = create(DEMO, uid, x, "funded", balances[i], "{\"r\":1}", "{\"m\":1}");
        assert_created(&r, 200, uid, x, "funded", "10000.00", "{\"r\":1}", "{\"m\":1}");
        ck_assert_msg(strcmp(r.body, first_body) == 0,
                      "a replay (balance \"%s\") must return "
                      "the same body: <%s> vs <%s>",
                      balances[i], r.body, first_body);
        it_response_free(&r);
    }
    /* rules and metadata are not part of the comparison: the stored account comes back */
    r = create(DEMO, uid, x, "funded", "10000.00", "{\"r\":2}", NULL);
    assert_created(&r, 200, uid, x, "funded", "10000.00", "{\"r\":1}", "{\"m\":1}");
    ck_assert_str_eq(r.body, first_body);
    it_response_free(&r);

    ck_assert_int_eq(it_db_int("select count(*) from wallets"), wallets);
    ck_assert_int_eq(it_db_int("select count(*) from ledger"), ledger);
    ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 1);
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               u),
                     1);
    ck_assert_str_eq(it_db_scalar("select rules::text from accounts where external_id = $1", x),
                     "{\"r\": 1}");
    assert_invariants();
    assert_personal_untouched(uid);
}
END_TEST

START_TEST(test_create_conflict)
{
    long long uid = new_user(DEMO), uid2 = new_user(DEMO);
    char *x = it_unique("conflict"), *snap;
    it_response_t r = create(DEMO, uid, x, "challenge", "5000.00", NULL, NULL), c;
    long long wallets, ledger;
    int i;
    struct {
        long long uid;
        const char *stage, *balance;
    } diff[] = {
        { 0, "challenge", "5000.00" },                                /* other user */
        { 0, "funded", "5000.00" },                                   /* other stage */
        { 0, "demo", "5000.00" },      { 0, "challenge", "5000.01" }, /* other balance */
        { 0, "challenge", "500" },     { 0, "funded", "6000" },       /* everything differs */
    };

    assert_created(&r, 201, uid, x, "challenge", "5000.00", "{}", "{}");
    snap = snapshot(it_json_str(r.json, "account_id"));
    wallets = it_db_int("select count(*) from wallets");
    ledger = it_db_int("select count(*) from ledger");
    diff[0].uid = uid2;
    for (i = 1; i < (int)(sizeof(diff) / sizeof(diff[0])); i++) diff[i].uid = uid;
    diff[5].uid = uid2;
    for (i = 0; i < (int)(sizeof(diff) / sizeof(diff[0])); i++) {
        c = create(DEMO, diff[i].uid, x, diff[i].stage, diff[i].balance, NULL, NULL);
        {
            char *p = it_error_problem(&c, 409, "ACCOUNT_EXTERNAL_ID_CONFLICT");
            ck_assert_msg(p == NULL, "case %d (%s, %s): %s", i, diff[i].stage, diff[i].balance,
                          p ? p : "");
        }
        it_response_free(&c);
    }
    ck_assert_int_eq(it_db_int("select count(*) from wallets"), wallets);
    ck_assert_int_eq(it_db_int("select count(*) from ledger"), ledger);
    ck_assert_str_eq(snapshot(it_json_str(r.json, "account_id")), snap);
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               it_lltext(uid2)),
                     0);
    /* the same external_id under another tenant is another account */
    {
        long long ouid = new_user(OTHER);
        it_response_t o = create(OTHER, ouid, x, "funded", "6000", NULL, NULL);
        assert_created(&o, 201, ouid, x, "funded", "6000.00", "{}", "{}");
        ck_assert_str_ne(it_json_str(o.json, "account_id"), it_json_str(r.json, "account_id"));
        it_response_free(&o);
    }
    it_response_free(&r);
    assert_invariants();
    assert_personal_untouched(uid);
    assert_personal_untouched(uid2);
}
END_TEST

/* Bodies that fail the schema: 422 VALIDATION_FAILED; @U@ is a valid user_id,
 * @X@ a fresh external_id; field is what the message must name (or NULL). */
static const struct {
    const char *body;
    const char *field;
} schema_cases[] = {
    { "{\"user_id\":\"@U@\",\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "user_id" },
    { "{\"user_id\":@U@.0,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "user_id" },
    { "{\"user_id\":@U@e0,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "user_id" },
    { "{\"user_id\":true,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "user_id" },
    { "{\"user_id\":null,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "user_id" },
    { "{\"user_id\":[@U@],\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "user_id" },
    { "{\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\"}", "user_id" },
    { "{\"user_id\":@U@,\"stage\":\"demo\",\"starting_balance\":\"1000\"}", "external_id" },
    { "{\"user_id\":@U@,\"external_id\":\"\",\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "external_id" },
    { "{\"user_id\":@U@,\"external_id\":123,\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "external_id" },
    { "{\"user_id\":@U@,\"external_id\":null,\"stage\":\"demo\",\"starting_balance\":\"1000\"}",
      "external_id" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"starting_balance\":\"1000\"}", "stage" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":5,\"starting_balance\":\"1000\"}",
      "stage" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":null,\"starting_balance\":\"1000\"}",
      "stage" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":[\"demo\"],\"starting_balance\":\"1000\"}",
      "stage" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\"}", "starting_balance" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":1000}",
      "starting_balance" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":1000.00}",
      "starting_balance" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":null}",
      "starting_balance" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":true}",
      "starting_balance" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":{}}",
      "starting_balance" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\",\"rules\":[]}",
      "rules" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\",\"rules\":\"{}\"}",
      "rules" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\",\"rules\":5}",
      "rules" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\",\"rules\":false}",
      "rules" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\",\"metadata\":[1]}",
      "metadata" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\",\"metadata\":\"x\"}",
      "metadata" },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\",\"metadata\":0}",
      "metadata" },
    { "[]", NULL },
    { "null", NULL },
    { "\"@X@\"", NULL },
    { "", NULL },
    { "{", NULL },
    { "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1000\"",
      NULL },
};

START_TEST(test_create_schema_errors)
{
    char *u = it_lltext(new_user(DEMO));
    long long accounts = it_db_int("select count(*) from accounts");
    size_t i;

    for (i = 0; i < sizeof(schema_cases) / sizeof(schema_cases[0]); i++) {
        char *x = it_unique("schema");
        char *body = subst(subst(schema_cases[i].body, "@U@", u), "@X@", x);
        it_response_t r = call(DEMO, "POST", ACCOUNTS, body);
        char *p = it_error_problem(&r, 422, "VALIDATION_FAILED");
        ck_assert_msg(p == NULL, "body <%s>: %s", body, p ? p : "");
        if (schema_cases[i].field) {
            ck_assert_msg(it_message_mentions(&r, schema_cases[i].field),
                          "body <%s>: the message should name \"%s\": %s", body,
                          schema_cases[i].field, it_describe(&r));
        }
        it_response_free(&r);
        ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 0);
    }
    ck_assert_int_eq(it_db_int("select count(*) from accounts"), accounts);
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               u),
                     0);
    assert_invariants();
}
END_TEST

START_TEST(test_create_external_id_length)
{
    long long uid = new_user(DEMO);
    char *base = it_unique("len"), *x255, *x256;
    it_response_t r;

    x255 = malloc(256);
    ck_assert_ptr_nonnull(x255);
    memset(x255, 'x', 255);
    x255[255] = '\0';
    memcpy(x255, base, strlen(base));
    x256 = it_printf("%sy", x255);

    r = create(DEMO, uid, x256, "demo", "1000", NULL, NULL);
    it_assert_error(r, 422, "VALIDATION_FAILED");
    ck_assert_msg(it_message_mentions(&r, "external_id"), "%s", it_describe(&r));
    it_response_free(&r);
    ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x256), 0);

    r = create(DEMO, uid, x255, "demo", "1000", NULL, NULL);
    assert_created(&r, 201, uid, x255, "demo", "1000.00", "{}", "{}");
    it_response_free(&r);
    /* a single (multi-byte) character is enough */
    {
        char *one = "\xE6\x9D\xB1";
        long long uid2 = new_user(DEMO);
        it_response_t o = create(DEMO, uid2, one, "demo", "1000", NULL, NULL);
        assert_created(&o, 201, uid2, one, "demo", "1000.00", "{}", "{}");
        it_response_free(&o);
    }
    assert_invariants();
}
END_TEST

START_TEST(test_schema_errors_come_before_value_errors)
{
    long long uid = new_user(DEMO);
    char *u = it_lltext(uid);
    /* each body has a schema error and a value error (or an unknown user) */
    const char *const bodies[] = {
        "{\"user_id\":\"@U@\",\"external_id\":\"@X@\",\"stage\":\"bogus\",\"starting_balance\":\"1000\"}",
        "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"bogus\",\"starting_balance\":1000}",
        "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1e4\",\"metadata\":[]}",
        "{\"user_id\":@U@,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":\"1\",\"rules\":1}",
        "{\"user_id\":@U@,\"external_id\":\"\",\"stage\":\"bogus\",\"starting_balance\":\"x\"}",
        "{\"user_id\":999999999999,\"external_id\":\"@X@\",\"stage\":\"demo\",\"starting_balance\":1000}",
        "{\"user_id\":-1,\"external_id\":\"@X@\",\"stage\":\"demo\"}",
        "{\"external_id\":\"@X@\",\"stage\":\"bogus\",\"starting_balance\":\"99\"}",
        NULL
    };
    int i;

    for (i = 0; bodies[i]; i++) {
        char *x = it_unique("order");
        char *body = subst(subst(bodies[i], "@U@", u), "@X@", x);
        it_response_t r = call(DEMO, "POST", ACCOUNTS, body);
        char *p = it_error_problem(&r, 422, "VALIDATION_FAILED");
        ck_assert_msg(p == NULL, "body <%s>: %s", body, p ? p : "");
        it_response_free(&r);
    }
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               u),
                     0);
}
END_TEST

START_TEST(test_create_invalid_stage)
{
    long long uid = new_user(DEMO);
    const char *const stages[] = {
        "Demo",  "DEMO",        "Challenge",   "FUNDED",      "",        " demo", "demo ",
        "trial", "demo,funded", "d\xC3\xA9mo", "challenge\n", "fundedd", NULL
    };
    int i;

    for (i = 0; stages[i]; i++) {
        char *x = it_unique("badstage");
        it_response_t r = create(DEMO, uid, x, stages[i], "1000.00", NULL, NULL);
        char *p = it_error_problem(&r, 400, "INVALID_STAGE");
        ck_assert_msg(p == NULL, "stage \"%s\": %s", stages[i], p ? p : "");
        it_response_free(&r);
        ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 0);
    }
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               it_lltext(uid)),
                     0);
}
END_TEST

/* A long string is still a string: a bad value (400), not a schema error. */
START_TEST(test_create_long_stage_is_invalid_stage)
{
    long long uid = new_user(DEMO);
    char *x = it_unique("longstage"), *stage = malloc(301);
    it_response_t r;

    ck_assert_ptr_nonnull(stage);
    memset(stage, 'd', 300);
    stage[300] = '\0';
    r = create(DEMO, uid, x, stage, "1000.00", NULL, NULL);
    it_assert_error(r, 400, "INVALID_STAGE");
    it_response_free(&r);
    ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 0);
}
END_TEST

START_TEST(test_create_invalid_balance)
{
    long long uid = new_user(DEMO);
    const char *const bad[] = {
        /* the decided list */
        "1e4", "+5", " 100", "NaN", "Infinity", "0x10", "-100", "", "1,000", ".", "100.001",
        /* more of the same kinds */
        "100 ", "nan", "-Infinity", "inf", "-0", "1 000", "1_000", "..", "100.0000", "1.2.3", "abc",
        "10000.00$", "$10000", "1e+4", "\xD9\xA1\xD9\xA0\xD9\xA0", "--1", "100\n", NULL
    };
    int i;

    for (i = 0; bad[i]; i++) {
        char *x = it_unique("badbal");
        it_response_t r = create(DEMO, uid, x, "demo", bad[i], NULL, NULL);
        char *p = it_error_problem(&r, 400, "INVALID_BALANCE");
        ck_assert_msg(p == NULL, "starting_balance \"%s\": %s", bad[i], p ? p : "");
        it_response_free(&r);
        ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 0);
    }
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               it_lltext(uid)),
                     0);
}
END_TEST

START_TEST(test_create_balance_bounds)
{
    long long uid = new_user(DEMO);
    const char *const out[] = { "99.99",      "0",       "0.00",     "99",
                                "1000000.01", "1000001", "99999999", "100000000000000000000000000",
                                NULL };
    const struct {
        const char *sent, *echoed;
    } in[] = {
        { "100", "100.00" },         { "100.00", "100.00" },       { "1000000.00", "1000000.00" },
        { "1000000", "1000000.00" }, { "999999.99", "999999.99" }, { "100.1", "100.10" },
    };
    size_t i;

    for (i = 0; out[i]; i++) {
        char *x = it_unique("bounds");
        it_response_t r = create(DEMO, uid, x, "demo", out[i], NULL, NULL);
        char *p = it_error_problem(&r, 400, "BALANCE_OUT_OF_BOUNDS");
        ck_assert_msg(p == NULL, "starting_balance \"%s\": %s", out[i], p ? p : "");
        it_response_free(&r);
        ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 0);
    }
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               it_lltext(uid)),
                     0);
    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char *x = it_unique("inbounds");
        it_response_t r = create(DEMO, uid, x, "demo", in[i].sent, NULL, NULL);
        assert_created(&r, 201, uid, x, "demo", in[i].echoed, "{}", "{}");
        ck_assert_str_eq(it_db_scalar("select w.balance::text from accounts a join wallets w "
                                      "on w.id = a.wallet_id where a.external_id = $1",
                                      x),
                         in[i].echoed);
        ck_assert_str_eq(it_db_scalar("select string_agg(l.cause || ':' || l.amount, ',') from "
                                      "accounts a join ledger l on l.wallet_id = a.wallet_id "
                                      "where a.external_id = $1",
                                      x),
                         it_printf("deposit:%s", in[i].echoed));
        it_response_free(&r);
    }
    assert_invariants();
    assert_personal_untouched(uid);
}
END_TEST

/* Long strings are still strings: a plain decimal of 301 digits is out of
 * bounds, a long non-number is an invalid balance; neither is a schema error. */
START_TEST(test_create_long_balance_strings)
{
    long long uid = new_user(DEMO);
    char *huge = malloc(302), *junk = malloc(302);
    it_response_t r;

    ck_assert_ptr_nonnull(huge);
    ck_assert_ptr_nonnull(junk);
    memset(huge, '0', 301);
    huge[0] = '1';
    huge[301] = '\0';
    memset(junk, '9', 301);
    junk[150] = 'x';
    junk[301] = '\0';
    r = create(DEMO, uid, it_unique("huge"), "demo", huge, NULL, NULL);
    it_assert_error(r, 400, "BALANCE_OUT_OF_BOUNDS");
    it_response_free(&r);
    r = create(DEMO, uid, it_unique("junk"), "demo", junk, NULL, NULL);
    it_assert_error(r, 400, "INVALID_BALANCE");
    it_response_free(&r);
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               it_lltext(uid)),
                     0);
}
END_TEST

START_TEST(test_create_user_not_found)
{
    long long foreign = new_user(OTHER);
    long long own = new_user(DEMO);
    const char *const ids[] = { it_lltext(foreign),     "999999999999",        "0", "-1",
                                "-9223372036854775808", "9223372036854775807", NULL };
    long long wallets = it_db_int("select count(*) from wallets");
    char *ref = NULL;
    int i;

    for (i = 0; ids[i]; i++) {
        char *x = it_unique("nouser");
        char *body = it_printf("{\"user_id\":%s,\"external_id\":%s,\"stage\":\"demo\","
                               "\"starting_balance\":\"1000\"}",
                               ids[i], it_json_quote(x));
        it_response_t r = call(DEMO, "POST", ACCOUNTS, body);
        char *p = it_error_problem(&r, 404, "USER_NOT_FOUND");
        ck_assert_msg(p == NULL, "user_id %s: %s", ids[i], p ? p : "");
        /* another tenant's user looks exactly like one that does not exist */
        if (!ref) {
            ref = it_printf("%s", r.body);
        }
        else {
            ck_assert_msg(strcmp(ref, r.body) == 0,
                          "user_id %s: 404 body differs: <%s> vs "
                          "<%s>",
                          ids[i], r.body, ref);
        }
        it_response_free(&r);
        ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 0);
    }
    ck_assert_int_eq(it_db_int("select count(*) from wallets"), wallets);
    /* and the other tenant cannot open an account for demo's trader */
    {
        it_response_t r = create(OTHER, own, it_unique("nouser"), "demo", "1000", NULL, NULL);
        it_assert_error(r, 404, "USER_NOT_FOUND");
        it_response_free(&r);
    }
    ck_assert_int_eq(it_db_int("select count(*) from wallets where kind = 'tenant' and "
                               "user_id in ($1::bigint, $2::bigint)",
                               it_lltext(foreign), it_lltext(own)),
                     0);
    assert_personal_untouched(foreign);
    assert_personal_untouched(own);
}
END_TEST

START_TEST(test_create_requires_accounts_write)
{
    long long uid = new_user(DEMO);
    char *x = it_unique("ro");
    it_response_t r = create(READONLY, uid, x, "demo", "1000", NULL, NULL);
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    r = call(READONLY, "POST", ACCOUNTS, "{not json");
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 0);
}
END_TEST

#define RACE 32

START_TEST(test_create_concurrent_identical)
{
    long long uid = new_user(DEMO);
    char *x = it_unique("race"), *u = it_lltext(uid);
    char *body = create_body(uid, x, "challenge", "10000", "{\"k\":1}", NULL);
    job_t jobs[RACE];
    const char *id = NULL;
    long long wallet = 0;
    int i, created = 0, replayed = 0;

    memset(jobs, 0, sizeof(jobs));
    for (i = 0; i < RACE; i++) {
        jobs[i].key = DEMO;
        jobs[i].method = "POST";
        jobs[i].path = ACCOUNTS;
        /* half send the balance in another spelling */
        jobs[i].body = (i % 2) ? body
                               : create_body(uid, x, "challenge", "10000.00", "{\"k\":1}", NULL);
    }
    run_jobs(jobs, RACE);
    for (i = 0; i < RACE; i++) {
        it_response_t *r = &jobs[i].resp;
        ck_assert_msg(r->status == 201 || r->status == 200, "request %d: %s", i, it_describe(r));
        assert_created(r, r->status, uid, x, "challenge", "10000.00", "{\"k\":1}", "{}");
        created += r->status == 201;
        replayed += r->status == 200;
        if (!id) {
            id = it_json_str(r->json, "account_id");
            wallet = int_member(r, "wallet_id");
        }
        ck_assert_str_eq(it_json_str(r->json, "account_id"), id);
        ck_assert_msg(int_member(r, "wallet_id") == wallet, "request %d: another wallet: %s", i,
                      it_describe(r));
    }
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(replayed, RACE - 1);
    ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", x), 1);
    ck_assert_int_eq(it_db_int("select count(*) from wallets where user_id = $1::bigint and "
                               "kind = 'tenant'",
                               u),
                     1);
    ck_assert_str_eq(it_db_scalar("select string_agg(cause || ':' || amount, ',') from ledger "
                                  "where wallet_id = $1::bigint",
                                  it_lltext(wallet)),
                     "deposit:10000.00");
    assert_invariants();
    assert_personal_untouched(uid);
}
END_TEST

/* ================================================================================== */
/* GET /v1/partner/accounts/{account_id}                                               */
/* ================================================================================== */

START_TEST(test_get_envelope)
{
    static const char *const rules = "{\"profit_target_pct\":20,\"max_drawdown_pct\":10}";
    static const char *const metadata = "{\"plan\":\"10k\",\"attempt\":1}";
    long long uid = new_user(DEMO);
    char *x = it_unique("get"), *id, *created, *fresh;
    it_response_t c = create(DEMO, uid, x, "challenge", "10000", rules, metadata), g, ro;
    json_object *want;

    assert_created(&c, 201, uid, x, "challenge", "10000.00", rules, metadata);
    id = it_printf("%s", it_json_str(c.json, "account_id"));
    g = get_account(DEMO, id);
    assert_envelope(&g, id, x, "active", "10000.00", "10000.00", "10000.00", "0.00", 0);
    assert_member(g, "stage", "challenge");
    want = it_json_parse(rules, strlen(rules));
    ck_assert_msg(json_object_equal(it_json_get(g.json, "rules"), want), "%s", it_describe(&g));
    want = it_json_parse(metadata, strlen(metadata));
    ck_assert_msg(json_object_equal(it_json_get(g.json, "metadata"), want), "%s", it_describe(&g));
    /* updated_at is the creation time, and recent */
    created = created_at_text(id);
    assert_member(g, "updated_at", created);
    fresh = it_db_scalar("select (abs(extract(epoch from now() - $1::timestamptz)) < 600)::text",
                         it_json_str(g.json, "updated_at"));
    ck_assert_str_eq(fresh, "true");

    /* the readonly key reads the same; an uppercase UUID names the same account */
    ro = get_account(READONLY, id);
    it_assert_status(ro, 200);
    ck_assert_str_eq(ro.body, g.body);
    it_response_free(&ro);
    {
        char *upper = it_printf("%s", id), *p;
        for (p = upper; *p; p++) {
            if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
        }
        ro = get_account(DEMO, upper);
        it_assert_status(ro, 200);
        ck_assert_str_eq(ro.body, g.body);
        it_response_free(&ro);
    }
    it_response_free(&c);
    it_response_free(&g);
    assert_invariants();
}
END_TEST

/* The risk object: its fields, a fresh account's values, and the trading day
 * of a tenant whose day begins at 17:00 New York (the harness's "other"). */
START_TEST(test_risk_object)
{
    account_t a = new_account(DEMO, "2500");
    account_t b = new_account(OTHER, "2500");
    it_response_t g = get_account(DEMO, a.id), h;
    json_object *risk = it_json_get(g.json, "risk");
    char *started;

    it_assert_status(g, 200);
    ck_assert_msg(risk && it_json_keys_are(risk, risk_keys), "%s", it_describe(&g));
    ck_assert_str_eq(it_json_str(risk, "day_start_equity"), "2500.00");
    ck_assert_str_eq(it_json_str(risk, "high_water_mark"), "2500.00");
    ck_assert_str_eq(it_json_str(risk, "low_water_mark"), "2500.00");
    ck_assert_str_eq(it_json_str(risk, "max_drawdown"), "0.00");
    ck_assert_int_eq(json_object_get_int(it_json_get(risk, "trading_days")), 0);
    /* the default boundary: 00:00 UTC today */
    ck_assert_str_eq(it_json_str(risk, "day_started_at"),
                     it_db_scalar("select to_char(date_trunc('day', now() at time zone 'UTC'), "
                                  "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"));

    h = get_account(OTHER, b.id);
    it_assert_status(h, 200);
    risk = it_json_get(h.json, "risk");
    started =
        it_db_scalar("select to_char(((date_trunc('day', now() at time zone 'America/New_York' - "
                     "interval '17 hours') + interval '17 hours') at time zone 'America/New_York') "
                     "at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    ck_assert_msg(risk && strcmp(it_json_str(risk, "day_started_at"), started) == 0,
                  "17:00 New York began at %s: %s", started, it_describe(&h));
    ck_assert_str_eq(it_json_str(risk, "trading_day"),
                     it_db_scalar("select ((now() at time zone 'America/New_York' - "
                                  "interval '17 hours')::date + 1)::text"));
    it_response_free(&g);
    it_response_free(&h);
}
END_TEST

/* The day list through httpd: today's row for a fresh account, paging
 * parameters checked, a foreign account 404. */
START_TEST(test_days_list)
{
    account_t a = new_account(DEMO, "2500");
    it_response_t r = call(DEMO, "GET", it_printf("%s/%s/days", ACCOUNTS, a.id), NULL);
    json_object *data = it_json_get(r.json, "data"), *day;

    it_assert_status(r, 200);
    ck_assert_msg(data && json_object_array_length(data) == 1, "%s", it_describe(&r));
    day = json_object_array_get_idx(data, 0);
    ck_assert_str_eq(it_json_str(day, "start_equity"), "2500.00");
    ck_assert_str_eq(it_json_str(day, "close_equity"), "2500.00");
    ck_assert_int_eq(json_object_get_int(it_json_get(day, "fills")), 0);
    ck_assert_msg(it_json_has(r.json, "next_cursor") && !it_json_get(r.json, "next_cursor"), "%s",
                  it_describe(&r));
    it_response_free(&r);

    r = call(DEMO, "GET", it_printf("%s/%s/days?side=BUY", ACCOUNTS, a.id), NULL);
    it_assert_error(r, 422, "VALIDATION_FAILED");
    it_response_free(&r);
    r = call(OTHER, "GET", it_printf("%s/%s/days", ACCOUNTS, a.id), NULL);
    it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
    it_response_free(&r);
    r = call(READONLY, "GET", it_printf("%s/%s/days", ACCOUNTS, a.id), NULL);
    it_assert_status(r, 200);
    it_response_free(&r);
}
END_TEST

/* Path ids that are not UUIDs (for sample own id a valid one of length 36). */
static const char *const *malformed_ids(const char *own)
{
    static const char *ids[16];
    char *nodash = it_printf("%.8s%.4s%.4s%.4s%s", own, own + 9, own + 14, own + 19, own + 24);
    int n = 0;

    ids[n++] = "abc";
    ids[n++] = "123";
    ids[n++] = nodash;                  /* uuid without dashes */
    ids[n++] = it_printf("%sa", own);   /* uuid + an extra char */
    ids[n++] = it_printf("%.35s", own); /* one char short */
    ids[n++] = it_printf("{%s}", own);
    ids[n++] = it_printf("%.35sg", own);           /* not hex */
    ids[n++] = it_printf("%.8s_%s", own, own + 9); /* wrong separator */
    ids[n++] = it_printf("%%20%s", own);
    ids[n++] = "00000000-0000-0000-0000-00000000000";
    ids[n++] = "null";
    ids[n] = NULL;
    return ids;
}

START_TEST(test_invalid_account_ids)
{
    account_t a = new_account(DEMO, "1000");
    const char *const *bad = malformed_ids(a.id);
    char *snap = snapshot(a.id);
    int i;

    for (i = 0; bad[i]; i++) {
        it_response_t r[4];
        int k;
        r[0] = get_account(DEMO, bad[i]);
        r[1] = patch_account(DEMO, bad[i], "{\"rules\":{\"x\":1}}");
        r[2] = close_account(DEMO, bad[i]);
        r[3] = reset_account(DEMO, bad[i]);
        for (k = 0; k < 4; k++) {
            char *p = it_error_problem(&r[k], 422, "INVALID_ACCOUNT_ID");
            ck_assert_msg(p == NULL, "id \"%s\": %s", bad[i], p ? p : "");
            it_response_free(&r[k]);
        }
    }
    ck_assert_str_eq(snapshot(a.id), snap);
}
END_TEST

START_TEST(test_account_not_found_is_uniform)
{
    account_t mine = new_account(DEMO, "1000");
    account_t theirs = new_account(OTHER, "1000");
    char *snap = snapshot(theirs.id);
    const char *const unknown[] = { IT_SAMPLE_ACCOUNT, "00000000-0000-0000-0000-000000000000",
                                    "ffffffff-ffff-ffff-ffff-ffffffffffff", NULL };
    int i, k;

    (void)mine;
    for (k = 0; k < 4; k++) {
        it_response_t ref;
        switch (k) {
        case 0:
            ref = get_account(DEMO, theirs.id);
            break;
        case 1:
            ref = patch_account(DEMO, theirs.id, "{\"metadata\":{\"x\":1}}");
            break;
        case 2:
            ref = close_account(DEMO, theirs.id);
            break;
        default:
            ref = reset_account(DEMO, theirs.id);
            break;
        }
        it_assert_error(ref, 404, "ACCOUNT_NOT_FOUND");
        for (i = 0; unknown[i]; i++) {
            it_response_t r;
            switch (k) {
            case 0:
                r = get_account(DEMO, unknown[i]);
                break;
            case 1:
                r = patch_account(DEMO, unknown[i], "{\"metadata\":{\"x\":1}}");
                break;
            case 2:
                r = close_account(DEMO, unknown[i]);
                break;
            default:
                r = reset_account(DEMO, unknown[i]);
                break;
            }
            it_assert_error(r, 404, "ACCOUNT_NOT_FOUND");
            ck_assert_msg(strcmp(r.body, ref.body) == 0,
                          "%s: the 404 for an unknown account "
                          "differs from the 404 for another tenant's: <%s> vs <%s>",
                          r.path, r.body, ref.body);
            it_response_free(&r);
        }
        it_response_free(&ref);
    }
    /* the readonly key reading another tenant's account: the same 404 */
    {
        it_response_t a = get_account(READONLY, theirs.id),
                      b = get_account(READONLY, IT_SAMPLE_ACCOUNT);
        it_assert_error(a, 404, "ACCOUNT_NOT_FOUND");
        ck_assert_str_eq(a.body, b.body);
        it_response_free(&a);
        it_response_free(&b);
    }
    ck_assert_str_eq(snapshot(theirs.id), snap);
}
END_TEST

START_TEST(test_equity_with_open_orders)
{
    account_t a = new_account(DEMO, "10000");
    char *cond, *tok = new_token("Yes", "0.43", "0.44", NULL, NULL, &cond);
    it_response_t g;
    long long o1, o2;

    o1 = rest_order(&a, tok, "BUY", "100", "0.41"); /* reserves 41.00 */
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9959.00", "10000.00", "10000.00", "0.00", 0);
    it_response_free(&g);
    o2 = rest_order(&a, tok, "BUY", "3.3333", "0.37"); /* reserves round(1.233321) */
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9957.77", "10000.00", "10000.00", "0.00", 0);
    it_response_free(&g);
    ck_assert_str_eq(wallet_balance(&a), "9957.77");

    /* a cancelled order's cash is back in the balance and no longer reserved */
    ck_assert_str_eq(it_db_scalar("select pp_engine_cancel_order($1::bigint)::text", it_lltext(o1)),
                     "true");
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9998.77", "10000.00", "10000.00", "0.00", 0);
    it_response_free(&g);

    /* a loss (a fill's cash movement) shows as negative unrealized P&L */
    post_cash(&a, "-250.25", "fill");
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9748.52", "10000.00", "9749.75", "-250.25", 0);
    it_response_free(&g);
    (void)o2;
    assert_account_invariants(&a);
}
END_TEST

START_TEST(test_equity_marks_positions)
{
    account_t a = new_account(DEMO, "10000");
    char *cond, *cond2, *yes = new_token("Yes", "0.43", "0.44", NULL, NULL, &cond);
    char *no = add_token(cond, "No"); /* no prices at all */
    char *other = new_token("Maybe", "0.5", "0.6", NULL, NULL, &cond2);
    it_response_t g;

    rest_order(&a, yes, "BUY", "100", "0.41");    /* 41.00 reserved */
    rest_order(&a, yes, "BUY", "3.3333", "0.37"); /* 1.23 reserved */
    insert_position(&a, yes, "100", "0.41");
    /* mark = (0.43 + 0.44) / 2 = 0.435: 43.50, cost 41.00 */
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9957.77", "10000.00", "10043.50", "43.50", 1);
    assert_position(&g, cond, "Yes", "100.0000", "0.4100", "0.4350", "43.50", "2.50");
    it_response_free(&g);

    /* without any price a position is marked at its entry price; 3.3333 x 0.5 = 1.67 */
    insert_position(&a, no, "3.3333", "0.5");
    /* positions with no quantity, closed or archived are not open */
    insert_position(&a, other, "0", "0.3");
    it_db_scalar("insert into positions (wallet_id, token_id, quantity, avg_entry_price, "
                 "closed_at) values ($1::bigint, $2, 50, 0.2, now()) returning id",
                 a.wallet_text, other);
    it_db_scalar("insert into positions (wallet_id, token_id, quantity, avg_entry_price, "
                 "archived_at) values ($1::bigint, $2, 70, 0.2, now()) returning id",
                 a.wallet_text, no);
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9957.77", "10000.00", "10045.17", "45.17", 2);
    assert_position(&g, cond, "Yes", "100.0000", "0.4100", "0.4350", "43.50", "2.50");
    assert_position(&g, cond, "No", "3.3333", "0.5000", "0.5000", "1.67", "0.00");
    it_response_free(&g);

    /* only one side of the book: the midpoint */
    set_prices(yes, "", "0.44", "0.50", "0.20");
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9957.77", "10000.00", "10051.67", "51.67", 2);
    assert_position(&g, cond, "Yes", "100.0000", "0.4100", "0.5000", "50.00", "9.00");
    it_response_free(&g);

    /* no midpoint either: the last trade */
    set_prices(yes, "0.44", "", "", "0.30");
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9957.77", "10000.00", "10031.67", "31.67", 2);
    assert_position(&g, cond, "Yes", "100.0000", "0.4100", "0.3000", "30.00", "-11.00");
    it_response_free(&g);

    /* nothing: the entry price */
    set_prices(yes, "", "", "", "");
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9957.77", "10000.00", "10042.67", "42.67", 2);
    assert_position(&g, cond, "Yes", "100.0000", "0.4100", "0.4100", "41.00", "0.00");
    it_response_free(&g);

    /* both sides win over midpoint and last trade */
    set_prices(yes, "0.2", "0.3", "0.9", "0.1");
    g = get_account(DEMO, a.id);
    assert_envelope(&g, a.id, a.x, "active", "9957.77", "10000.00", "10026.67", "26.67", 2);
    assert_position(&g, cond, "Yes", "100.0000", "0.4100", "0.2500", "25.00", "-16.00");
    it_response_free(&g);

    /* each position's value is rounded to cents before summing */
    set_prices(no, "0.43", "0.44", NULL, NULL);
    g = get_account(DEMO, a.id);
    /* 3.3333 x 0.435 = 1.44998... -> 1.45 */
    assert_envelope(&g, a.id, a.x, "active", "9957.77", "10000.00", "10026.45", "26.45", 2);
    assert_position(&g, cond, "No", "3.3333", "0.5000", "0.4350", "1.45", "-0.22");
    it_response_free(&g);
    assert_account_invariants(&a);
}
END_TEST

/* ================================================================================== */
/* PATCH /v1/partner/accounts/{account_id}                                             */
/* ================================================================================== */

static void assert_config(const it_response_t *r, const char *id, const char *rules,
                          const char *metadata)
{
    json_object *wr = it_json_parse(rules, strlen(rules));
    json_object *wm = it_json_parse(metadata, strlen(metadata));
    ck_assert_msg(wr && json_object_equal(it_json_get(r->json, "rules"), wr),
                  "rules must be %s: %s", rules, it_describe(r));
    ck_assert_msg(wm && json_object_equal(it_json_get(r->json, "metadata"), wm),
                  "metadata must be %s: %s", metadata, it_describe(r));
    ck_assert_str_eq(it_db_scalar("select (rules = $2::jsonb and metadata = $3::jsonb)::text "
                                  "from accounts where id = $1::uuid",
                                  id, rules, metadata),
                     "true");
    json_object_put(wr);
    json_object_put(wm);
}

START_TEST(test_patch_replaces_wholesale)
{
    long long uid = new_user(DEMO);
    char *x = it_unique("patch"), *id, *created, *bal;
    it_response_t c = create(DEMO, uid, x, "challenge", "10000",
                             "{\"profit_target_pct\":20,\"max_drawdown_pct\":10}",
                             "{\"plan\":\"10k\",\"attempt\":1}"),
                  r, g;
    const char *r1 = "{\"profit_target_pct\":20,\"max_drawdown_pct\":10}";
    const char *m1 = "{\"plan\":\"10k\",\"attempt\":1}";
    const char *r2 = "{\"profit_target_pct\":8,\"max_daily_loss_pct\":4}";
    const char *m2 = "{\"cohort\":\"2026Q3\",\"nested\":{\"a\":[1,{\"b\":null}]}}";
    account_t a;

    it_assert_status(c, 201);
    id = it_printf("%s", it_json_str(c.json, "account_id"));
    a.id = id;
    a.x = x;
    a.uid = uid;
    a.wallet = int_member(&c, "wallet_id");
    a.wallet_text = it_lltext(a.wallet);
    created = created_at_text(id);
    bal = wallet_balance(&a);

    /* rules only: replaced wholesale (max_drawdown_pct is gone), metadata untouched */
    r = patch_account(DEMO, id, it_printf("{\"rules\":%s}", r2));
    assert_envelope(&r, id, x, "active", "10000.00", "10000.00", "10000.00", "0.00", 0);
    assert_config(&r, id, r2, m1);
    assert_member(r, "updated_at", created);
    g = get_account(DEMO, id);
    ck_assert_str_eq(g.body, r.body);
    it_response_free(&g);
    it_response_free(&r);

    /* metadata only, with rules null: rules untouched */
    r = patch_account(DEMO, id, it_printf("{\"metadata\":%s,\"rules\":null}", m2));
    assert_envelope(&r, id, x, "active", "10000.00", "10000.00", "10000.00", "0.00", 0);
    assert_config(&r, id, r2, m2);
    it_response_free(&r);

    /* both, including emptying one */
    r = patch_account(DEMO, id, it_printf("{\"rules\":{},\"metadata\":%s}", m1));
    assert_config(&r, id, "{}", m1);
    it_response_free(&r);
    r = patch_account(DEMO, id, it_printf("{\"rules\":%s,\"metadata\":{}}", r1));
    assert_config(&r, id, r1, "{}");
    it_response_free(&r);

    /* {} and all-null bodies are no-ops that echo the state */
    g = get_account(DEMO, id);
    it_assert_status(g, 200);
    r = patch_account(DEMO, id, "{}");
    assert_envelope(&r, id, x, "active", "10000.00", "10000.00", "10000.00", "0.00", 0);
    ck_assert_str_eq(r.body, g.body);
    it_response_free(&r);
    r = patch_account(DEMO, id, "{\"rules\":null,\"metadata\":null}");
    it_assert_status(r, 200);
    ck_assert_str_eq(r.body, g.body);
    assert_config(&r, id, r1, "{}");
    it_response_free(&r);
    it_response_free(&g);

    /* nothing but the config changed */
    ck_assert_str_eq(it_db_scalar("select format('%s|%s|%s|%s', stage, starting_balance, "
                                  "status, external_id) from accounts where id = $1::uuid",
                                  id),
                     it_printf("challenge|10000.00|active|%s", x));
    ck_assert_str_eq(wallet_balance(&a), bal);
    ck_assert_str_eq(created_at_text(id), created);
    it_response_free(&c);
    assert_account_invariants(&a);
}
END_TEST

START_TEST(test_patch_rejects)
{
    account_t a = new_account(DEMO, "1000");
    char *snap;
    it_response_t r;
    static const struct {
        const char *body, *field;
    } cases[] = {
        { "{\"stage\":\"funded\"}", "stage" },
        { "{\"starting_balance\":\"5000.00\"}", "starting_balance" },
        { "{\"user_id\":1}", "user_id" },
        { "{\"external_id\":\"new\"}", "external_id" },
        { "{\"stage\":\"challenge\"}", "stage" }, /* even the current value */
        { "{\"rules\":{\"a\":1},\"stage\":\"demo\"}", "stage" },
        { "{\"metadata\":{},\"external_id\":null}", "external_id" },
        { "{\"rulez\":{\"a\":1}}", "rulez" },
        { "{\"status\":\"closed\"}", "status" },
        { "{\"account_id\":\"x\"}", "account_id" },
        { "{\"rules\":[]}", "rules" },
        { "{\"rules\":\"{}\"}", "rules" },
        { "{\"rules\":1}", "rules" },
        { "{\"rules\":true}", "rules" },
        { "{\"metadata\":[{\"a\":1}]}", "metadata" },
        { "{\"metadata\":\"x\"}", "metadata" },
        { "{\"metadata\":0.5}", "metadata" },
        { "{\"rules\":{},\"metadata\":false}", "metadata" },
        { "", NULL },
        { "[]", NULL },
        { "null", NULL },
        { "\"rules\"", NULL },
        { "{\"rules\":", NULL },
        { "{\"rules\":{}} {}", NULL },
    };
    size_t i;

    /* give it a config to keep */
    r = patch_account(DEMO, a.id, "{\"rules\":{\"keep\":1},\"metadata\":{\"keep\":2}}");
    it_assert_status(r, 200);
    it_response_free(&r);
    snap = snapshot(a.id);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p;
        r = patch_account(DEMO, a.id, cases[i].body);
        p = it_error_problem(&r, 422, "VALIDATION_FAILED");
        ck_assert_msg(p == NULL, "PATCH <%s>: %s", cases[i].body, p ? p : "");
        if (cases[i].field) {
            ck_assert_msg(it_message_mentions(&r, cases[i].field),
                          "PATCH <%s>: the message "
                          "should name \"%s\": %s",
                          cases[i].body, cases[i].field, it_describe(&r));
        }
        it_response_free(&r);
    }
    /* no body at all */
    r = call(DEMO, "PATCH", account_path(a.id, NULL), NULL);
    it_assert_error(r, 422, "VALIDATION_FAILED");
    it_response_free(&r);
    ck_assert_str_eq(snapshot(a.id), snap);

    /* the readonly key may not patch */
    r = patch_account(READONLY, a.id, "{\"rules\":{\"ro\":1}}");
    it_assert_error(r, 403, "INSUFFICIENT_PERMISSION");
    it_response_free(&r);
    ck_assert_str_eq(snapshot(a.id), snap);
    assert_account_invariants(&a);
}
END_TEST

/* ================================================================================== */
/* POST .../close                                                                      */
/* ================================================================================== */

START_TEST(test_close_is_idempotent_and_reads_keep_working)
{
    account_t a = new_account(DEMO, "2500.00");
    char *created = created_at_text(a.id), *first;
    long long ledger = ledger_rows(&a);
    it_response_t r, g, u;
    json_object *accs, *entry;

    r = close_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "closed", "2500.00", "2500.00", "2500.00", "0.00", 0);
    assert_member(r, "updated_at", created);
    first = it_printf("%s", r.body);
    it_response_free(&r);
    ck_assert_str_eq(account_status(&a), "closed");
    ck_assert_str_eq(it_db_scalar("select (closed_at is not null)::text from accounts "
                                  "where id = $1::uuid",
                                  a.id),
                     "true");

    /* a second close: 200, the same state, nothing written */
    r = close_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "closed", "2500.00", "2500.00", "2500.00", "0.00", 0);
    ck_assert_str_eq(r.body, first);
    it_response_free(&r);
    ck_assert_int_eq(ledger_rows(&a), ledger);

    /* every read still works */
    g = get_account(DEMO, a.id);
    ck_assert_str_eq(g.body, first);
    it_response_free(&g);
    g = get_account(READONLY, a.id);
    ck_assert_str_eq(g.body, first);
    it_response_free(&g);
    u = get_user(DEMO, a.uid);
    it_assert_status(u, 200);
    accs = it_json_get(u.json, "accounts");
    ck_assert_msg(accs && json_object_array_length(accs) == 1, "%s", it_describe(&u));
    entry = json_object_array_get_idx(accs, 0);
    ck_assert_str_eq(it_json_str(entry, "account_id"), a.id);
    ck_assert_str_eq(it_json_str(entry, "status"), "closed");
    it_response_free(&u);
    /* and PATCH on a closed account keeps it closed */
    r = patch_account(DEMO, a.id, "{\"metadata\":{\"after\":\"close\"}}");
    assert_envelope(&r, a.id, a.x, "closed", "2500.00", "2500.00", "2500.00", "0.00", 0);
    it_response_free(&r);
    assert_account_invariants(&a);
}
END_TEST

START_TEST(test_close_cancels_orders)
{
    account_t a = new_account(DEMO, "10000");
    char *cond, *tok = new_token("Yes", "0.43", "0.44", NULL, NULL, &cond);
    long long ledger;
    it_response_t r;

    rest_order(&a, tok, "BUY", "100", "0.41"); /* 41.00 */
    rest_order(&a, tok, "BUY", "10", "0.555"); /* 5.55 */
    insert_position(&a, tok, "100", "0.41");
    rest_order(&a, tok, "SELL", "40", "0.60"); /* reserves 40 shares */
    ck_assert_str_eq(wallet_balance(&a), "9953.45");
    ck_assert_str_eq(it_db_scalar("select reserved_quantity::text from positions where "
                                  "wallet_id = $1::bigint",
                                  a.wallet_text),
                     "40.0000");
    ledger = ledger_rows(&a);

    r = close_account(DEMO, a.id);
    /* cash is back, positions stay (closing is not destructive) */
    assert_envelope(&r, a.id, a.x, "closed", "10000.00", "10000.00", "10043.50", "43.50", 1);
    assert_position(&r, cond, "Yes", "100.0000", "0.4100", "0.4350", "43.50", "2.50");
    it_response_free(&r);
    ck_assert_int_eq(open_orders(&a), 0);
    ck_assert_int_eq(it_db_int("select count(*) from orders where wallet_id = $1::bigint and "
                               "status = 'cancelled'",
                               a.wallet_text),
                     3);
    ck_assert_str_eq(wallet_balance(&a), "10000.00");
    ck_assert_str_eq(it_db_scalar("select format('%s|%s', reserved_quantity, quantity) from "
                                  "positions where wallet_id = $1::bigint and archived_at is "
                                  "null and closed_at is null",
                                  a.wallet_text),
                     "0.0000|100.0000");
    /* two releases, nothing deleted */
    ck_assert_int_eq(ledger_rows(&a), ledger + 2);
    ck_assert_str_eq(it_db_scalar("select string_agg(amount::text, ',' order by id) from ledger "
                                  "where wallet_id = $1::bigint and cause = 'release'",
                                  a.wallet_text),
                     "41.00,5.55");
    assert_account_invariants(&a);
}
END_TEST

START_TEST(test_close_over_the_batch_limit)
{
    account_t a = new_account(DEMO, "10000");
    char *tok = new_token("Yes", NULL, NULL, NULL, NULL, NULL);
    char *snapshot_cfg;
    it_response_t r;

    rest_many_orders(&a, tok, CANCEL_BATCH + 7);
    ck_assert_str_eq(wallet_balance(&a), "9994.93");
    snapshot_cfg = it_db_scalar("select status from accounts where id = $1::uuid", a.id);
    ck_assert_str_eq(snapshot_cfg, "active");

    r = close_account(DEMO, a.id);
    it_assert_error(r, 409, "ORDERS_NOT_CANCELLED");
    it_response_free(&r);
    /* one batch was cancelled, the rest is still open, the account still active */
    ck_assert_int_eq(open_orders(&a), 7);
    ck_assert_int_eq(it_db_int("select count(*) from orders where wallet_id = $1::bigint and "
                               "status = 'cancelled'",
                               a.wallet_text),
                     CANCEL_BATCH);
    ck_assert_str_eq(account_status(&a), "active");
    ck_assert_str_eq(wallet_balance(&a), "9999.93");
    assert_invariants();
    r = get_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "active", "9999.93", "10000.00", "10000.00", "0.00", 0);
    it_response_free(&r);

    /* the retry drains the rest and closes */
    r = close_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "closed", "10000.00", "10000.00", "10000.00", "0.00", 0);
    it_response_free(&r);
    ck_assert_int_eq(open_orders(&a), 0);
    ck_assert_str_eq(account_status(&a), "closed");
    assert_account_invariants(&a);
}
END_TEST

START_TEST(test_close_exactly_the_batch_limit)
{
    account_t a = new_account(DEMO, "10000");
    char *tok = new_token("Yes", NULL, NULL, NULL, NULL, NULL);
    it_response_t r;

    rest_many_orders(&a, tok, CANCEL_BATCH);
    r = close_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "closed", "10000.00", "10000.00", "10000.00", "0.00", 0);
    it_response_free(&r);
    ck_assert_int_eq(open_orders(&a), 0);
    assert_account_invariants(&a);
}
END_TEST

/* ================================================================================== */
/* POST .../reset                                                                      */
/* ================================================================================== */

START_TEST(test_reset_restores_starting_state)
{
    account_t a = new_account(DEMO, "10000");
    char *cond, *tok = new_token("Yes", "0.43", "0.44", NULL, NULL, &cond);
    char *tok2 = add_token(cond, "No");
    char *created = created_at_text(a.id), *wallet_id_before;
    long long ledger, positions;
    it_response_t r, u;

    r = patch_account(DEMO, a.id, "{\"rules\":{\"keep\":true}}");
    it_assert_status(r, 200);
    it_response_free(&r);
    insert_position(&a, tok, "100", "0.41");
    insert_position(&a, tok2, "20", "0.55");
    post_cash(&a, "-123.45", "fill");         /* a losing journey */
    rest_order(&a, tok, "BUY", "10", "0.40"); /* 4.00 */
    rest_order(&a, tok2, "SELL", "5", "0.60");
    ck_assert_str_eq(wallet_balance(&a), "9872.55");
    ledger = ledger_rows(&a);
    positions = it_db_int("select count(*) from positions where wallet_id = $1::bigint",
                          a.wallet_text);
    wallet_id_before = it_db_scalar("select wallet_id::text from accounts where id = $1::uuid",
                                    a.id);

    r = reset_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "active", "10000.00", "10000.00", "10000.00", "0.00", 0);
    assert_member(r, "updated_at", created);
    ck_assert_msg(json_object_equal(it_json_get(r.json, "rules"),
                                    it_json_parse("{\"keep\":true}", strlen("{\"keep\":true}"))),
                  "reset keeps the config: %s", it_describe(&r));
    it_response_free(&r);

    /* same account, external_id and wallet */
    ck_assert_str_eq(it_db_scalar("select wallet_id::text from accounts where id = $1::uuid", a.id),
                     wallet_id_before);
    ck_assert_str_eq(wallet_id_before, a.wallet_text);
    ck_assert_int_eq(it_db_int("select count(*) from accounts where external_id = $1", a.x), 1);
    ck_assert_int_eq(it_db_int("select reset_count from accounts where id = $1::uuid", a.id), 1);
    /* orders cancelled, positions archived (not deleted) */
    ck_assert_int_eq(open_orders(&a), 0);
    ck_assert_int_eq(it_db_int("select count(*) from orders where wallet_id = $1::bigint and "
                               "status = 'cancelled'",
                               a.wallet_text),
                     2);
    ck_assert_int_eq(it_db_int("select count(*) from positions where wallet_id = $1::bigint",
                               a.wallet_text),
                     positions);
    ck_assert_int_eq(it_db_int("select count(*) from positions where wallet_id = $1::bigint "
                               "and archived_at is null",
                               a.wallet_text),
                     0);
    /* the ledger only grew: a release of 4.00 and a reset of +123.45 */
    ck_assert_int_eq(ledger_rows(&a), ledger + 2);
    ck_assert_str_eq(it_db_scalar("select string_agg(cause || ':' || amount, ',' order by id) "
                                  "from ledger where wallet_id = $1::bigint",
                                  a.wallet_text),
                     "deposit:10000.00,fill:-123.45,reserve:-4.00,release:4.00,"
                     "reset:123.45");
    ck_assert_str_eq(wallet_balance(&a), "10000.00");

    /* a winning journey is brought back down the same way */
    post_cash(&a, "500.00", "fill");
    r = reset_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "active", "10000.00", "10000.00", "10000.00", "0.00", 0);
    it_response_free(&r);
    ck_assert_str_eq(it_db_scalar("select cause || ':' || amount from ledger where "
                                  "wallet_id = $1::bigint order by id desc limit 1",
                                  a.wallet_text),
                     "reset:-500.00");
    ck_assert_int_eq(ledger_rows(&a), ledger + 4);

    /* listed under the trader as active, with the same ids */
    u = get_user(DEMO, a.uid);
    it_assert_status(u, 200);
    {
        json_object *e = json_object_array_get_idx(it_json_get(u.json, "accounts"), 0);
        ck_assert_msg(e && strcmp(it_json_str(e, "account_id"), a.id) == 0
                          && strcmp(it_json_str(e, "status"), "active") == 0
                          && json_object_get_int64(it_json_get(e, "wallet_id")) == a.wallet,
                      "%s", it_describe(&u));
    }
    it_response_free(&u);
    assert_account_invariants(&a);
}
END_TEST

START_TEST(test_reset_reopens_a_closed_account)
{
    account_t a = new_account(DEMO, "750.25");
    char *tok = new_token("Yes", NULL, NULL, NULL, NULL, NULL);
    it_response_t r;

    rest_order(&a, tok, "BUY", "10", "0.5");
    r = close_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "closed", "750.25", "750.25", "750.25", "0.00", 0);
    it_response_free(&r);
    post_cash(&a, "-0.25", "fee");
    r = reset_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "active", "750.25", "750.25", "750.25", "0.00", 0);
    it_response_free(&r);
    ck_assert_str_eq(it_db_scalar("select format('%s|%s', status, closed_at) from accounts "
                                  "where id = $1::uuid",
                                  a.id),
                     "active|");
    /* and it can be closed again */
    r = close_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "closed", "750.25", "750.25", "750.25", "0.00", 0);
    it_response_free(&r);
    assert_account_invariants(&a);
}
END_TEST

START_TEST(test_reset_over_the_batch_limit)
{
    account_t a = new_account(DEMO, "10000");
    char *cond, *tok = new_token("Yes", "0.43", "0.44", NULL, NULL, &cond);
    it_response_t r;

    insert_position(&a, tok, "100", "0.41");
    post_cash(&a, "-10.00", "fill");
    rest_many_orders(&a, tok, CANCEL_BATCH + 3);
    r = close_account(DEMO, a.id); /* closes nothing: 409 */
    it_assert_error(r, 409, "ORDERS_NOT_CANCELLED");
    it_response_free(&r);
    ck_assert_int_eq(open_orders(&a), 3);
    rest_many_orders(&a, tok, CANCEL_BATCH + 2);
    ck_assert_int_eq(open_orders(&a), CANCEL_BATCH + 5);

    r = reset_account(DEMO, a.id);
    it_assert_error(r, 409, "ORDERS_NOT_CANCELLED");
    it_response_free(&r);
    /* a batch cancelled; nothing else of the reset happened */
    ck_assert_int_eq(open_orders(&a), 5);
    ck_assert_str_eq(wallet_balance(&a), "9989.95");
    ck_assert_int_eq(it_db_int("select count(*) from positions where wallet_id = $1::bigint "
                               "and archived_at is null",
                               a.wallet_text),
                     1);
    ck_assert_int_eq(it_db_int("select count(*) from ledger where wallet_id = $1::bigint and "
                               "cause = 'reset'",
                               a.wallet_text),
                     0);
    ck_assert_int_eq(it_db_int("select reset_count from accounts where id = $1::uuid", a.id), 0);
    ck_assert_str_eq(account_status(&a), "active");
    assert_invariants();

    r = reset_account(DEMO, a.id);
    assert_envelope(&r, a.id, a.x, "active", "10000.00", "10000.00", "10000.00", "0.00", 0);
    it_response_free(&r);
    ck_assert_int_eq(open_orders(&a), 0);
    ck_assert_int_eq(it_db_int("select count(*) from positions where wallet_id = $1::bigint "
                               "and archived_at is null",
                               a.wallet_text),
                     0);
    ck_assert_str_eq(it_db_scalar("select string_agg(amount::text, ',') from ledger where "
                                  "wallet_id = $1::bigint and cause = 'reset'",
                                  a.wallet_text),
                     "10.00");
    assert_account_invariants(&a);
}
END_TEST

/* ================================================================================== */
/* GET /v1/partner/users/{user_id}: the trader's accounts                              */
/* ================================================================================== */

START_TEST(test_user_lists_accounts_newest_first)
{
    char *xu = it_unique("lister"), *email = it_printf("%s@example.com", xu);
    long long uid = it_register(DEMO, xu, email, NULL);
    long long ouid = it_register(OTHER, xu, email, NULL); /* the same native user */
    const char *const stages[] = { "demo", "challenge", "funded" };
    const char *const balances[] = { "100", "2000.5", "1000000" };
    const char *const shown[] = { "100.00", "2000.50", "1000000.00" };
    char *ids[3], *xs[3], *other_id;
    long long wallets[3];
    it_response_t r, o;
    json_object *accs;
    int i;

    ck_assert_msg(uid == ouid, "one native user expected");
    for (i = 0; i < 3; i++) {
        xs[i] = it_unique("listed");
        r = create(DEMO, uid, xs[i], stages[i], balances[i], "{\"i\":1}", "{\"j\":2}");
        assert_created(&r, 201, uid, xs[i], stages[i], shown[i], "{\"i\":1}", "{\"j\":2}");
        ids[i] = it_printf("%s", it_json_str(r.json, "account_id"));
        wallets[i] = int_member(&r, "wallet_id");
        it_response_free(&r);
        it_sleep_ms(20);
    }
    /* the other tenant's account of the same trader */
    r = create(OTHER, uid, xs[0], "demo", "100", NULL, NULL);
    it_assert_status(r, 201);
    other_id = it_printf("%s", it_json_str(r.json, "account_id"));
    it_response_free(&r);
    r = close_account(DEMO, ids[1]);
    it_assert_status(r, 200);
    it_response_free(&r);

    r = get_user(DEMO, uid);
    it_assert_status(r, 200);
    accs = it_json_get(r.json, "accounts");
    ck_assert_msg(accs && json_object_is_type(accs, json_type_array)
                      && json_object_array_length(accs) == 3,
                  "exactly demo's 3 accounts expected: %s", it_describe(&r));
    for (i = 0; i < 3; i++) {
        int k = 2 - i; /* newest first */
        json_object *e = json_object_array_get_idx(accs, (size_t)i);
        ck_assert_msg(it_json_keys_are(e, summary_keys),
                      "accounts[%d] must have exactly "
                      "account_id, external_id, stage, status, starting_balance, wallet_id, "
                      "created_at: %s",
                      i, it_describe(&r));
        ck_assert_msg(strcmp(it_json_str(e, "account_id"), ids[k]) == 0,
                      "accounts[%d] must be %s (newest first): %s", i, ids[k], it_describe(&r));
        ck_assert_str_eq(it_json_str(e, "external_id"), xs[k]);
        ck_assert_str_eq(it_json_str(e, "stage"), stages[k]);
        ck_assert_str_eq(it_json_str(e, "status"), k == 1 ? "closed" : "active");
        ck_assert_str_eq(it_json_str(e, "starting_balance"), shown[k]);
        ck_assert_msg(json_object_is_type(it_json_get(e, "wallet_id"), json_type_int)
                          && json_object_get_int64(it_json_get(e, "wallet_id")) == wallets[k],
                      "%s", it_describe(&r));
        ck_assert_str_eq(it_json_str(e, "created_at"), created_at_text(ids[k]));
        ck_assert_str_ne(it_json_str(e, "account_id"), other_id);
    }
    /* the readonly key sees the same */
    o = get_user(READONLY, uid);
    it_assert_status(o, 200);
    ck_assert_str_eq(o.body, r.body);
    it_response_free(&o);

    /* the other tenant sees only its own account */
    o = get_user(OTHER, uid);
    it_assert_status(o, 200);
    accs = it_json_get(o.json, "accounts");
    ck_assert_msg(accs && json_object_array_length(accs) == 1
                      && strcmp(it_json_str(json_object_array_get_idx(accs, 0), "account_id"),
                                other_id)
                             == 0,
                  "other must see only its account: %s", it_describe(&o));
    it_response_free(&o);
    it_response_free(&r);
    assert_invariants();
    assert_personal_untouched(uid);
}
END_TEST

/* ================================================================================== */
/* Concurrency: close, reset and reads on one account                                  */
/* ================================================================================== */

#define MIX    12
#define ROUNDS 6

START_TEST(test_concurrent_close_reset_get)
{
    account_t a = new_account(DEMO, "10000");
    char *tok = new_token("Yes", NULL, NULL, NULL, NULL, NULL);
    int round, resets = 0;

    for (round = 0; round < ROUNDS; round++) {
        job_t jobs[MIX];
        long long releases = it_db_int("select count(*) from ledger where wallet_id = "
                                       "$1::bigint and cause = 'release'",
                                       a.wallet_text);
        long long reset_entries = it_db_int("select count(*) from ledger where wallet_id = "
                                            "$1::bigint and cause = 'reset'",
                                            a.wallet_text);
        int i, round_resets = 0;
        /* odd rounds have no open orders: then nothing but the account and
         * wallet locks keeps two resets from both restoring the loss */
        int with_orders = round % 2 == 0;
        const char *initial = with_orders ? "9894.00" : "9900.00";

        /* a 100.00 loss and three open orders (6.00 reserved) */
        post_cash(&a, "-100.00", "fill");
        if (with_orders) {
            rest_order(&a, tok, "BUY", "10", "0.1");
            rest_order(&a, tok, "BUY", "10", "0.2");
            rest_order(&a, tok, "BUY", "10", "0.3");
        }
        ck_assert_str_eq(wallet_balance(&a), initial);

        memset(jobs, 0, sizeof(jobs));
        for (i = 0; i < MIX; i++) {
            jobs[i].key = DEMO;
            switch ((i + round) % 3) {
            case 0:
                jobs[i].method = "POST";
                jobs[i].path = account_path(a.id, "/close");
                break;
            case 1:
                jobs[i].method = "POST";
                jobs[i].path = account_path(a.id, "/reset");
                round_resets++;
                break;
            default:
                jobs[i].method = "GET";
                jobs[i].path = account_path(a.id, NULL);
                break;
            }
        }
        run_jobs(jobs, MIX);
        resets += round_resets;

        for (i = 0; i < MIX; i++) {
            it_response_t *r = &jobs[i].resp;
            const char *st, *bal, *eq;
            assert_envelope(r, a.id, a.x, NULL, NULL, "10000.00", NULL, NULL, 0);
            st = it_json_str(r->json, "status");
            bal = it_json_str(r->json, "balance");
            eq = it_json_str(r->json, "equity");
            if (strstr(r->path, "/reset")) {
                ck_assert_msg(strcmp(st, "active") == 0 && strcmp(bal, "10000.00") == 0
                                  && strcmp(eq, "10000.00") == 0,
                              "round %d: %s", round, it_describe(r));
            }
            else if (strstr(r->path, "/close")) {
                /* closed, before or after a reset */
                ck_assert_msg(strcmp(st, "closed") == 0
                                  && ((strcmp(bal, "9900.00") == 0 && strcmp(eq, "9900.00") == 0)
                                      || (strcmp(bal, "10000.00") == 0
                                          && strcmp(eq, "10000.00") == 0)),
                              "round %d: %s", round, it_describe(r));
            }
            else {
                /* any state some serial order passes through */
                ck_assert_msg((strcmp(bal, initial) == 0 && strcmp(eq, "9900.00") == 0
                               && strcmp(st, "active") == 0)
                                  || (strcmp(bal, "9900.00") == 0 && strcmp(eq, "9900.00") == 0
                                      && strcmp(st, "closed") == 0)
                                  || (strcmp(bal, "10000.00") == 0 && strcmp(eq, "10000.00") == 0),
                              "round %d: a state no serial order produces: %s", round,
                              it_describe(r));
            }
            it_response_free(r);
        }
        /* the final state of some serial order */
        ck_assert_str_eq(wallet_balance(&a), "10000.00");
        ck_assert_int_eq(open_orders(&a), 0);
        ck_assert_int_eq(it_db_int("select count(*) from ledger where wallet_id = $1::bigint "
                                   "and cause = 'release'",
                                   a.wallet_text),
                         releases + (with_orders ? 3 : 0));
        /* only the first reset had anything to restore */
        ck_assert_int_eq(it_db_int("select count(*) from ledger where wallet_id = $1::bigint "
                                   "and cause = 'reset'",
                                   a.wallet_text),
                         reset_entries + 1);
        ck_assert_str_eq(it_db_scalar("select amount::text from ledger where wallet_id = "
                                      "$1::bigint and cause = 'reset' order by id desc limit 1",
                                      a.wallet_text),
                         "100.00");
        ck_assert_int_eq(it_db_int("select reset_count from accounts where id = $1::uuid", a.id),
                         resets);
        {
            char *s = it_db_scalar("select status || '|' || (closed_at is not null)::text "
                                   "from accounts where id = $1::uuid",
                                   a.id);
            ck_assert_msg(strcmp(s, "active|false") == 0 || strcmp(s, "closed|true") == 0,
                          "status and closed_at disagree: %s", s);
        }
        assert_account_invariants(&a);
        /* start the next round active */
        {
            it_response_t r = reset_account(DEMO, a.id);
            assert_envelope(&r, a.id, a.x, "active", "10000.00", "10000.00", "10000.00", "0.00", 0);
            it_response_free(&r);
            resets++;
        }
    }
}
END_TEST

/* ================================================================================== */
/* The tenant-isolation matrix                                                         */
/* ================================================================================== */

enum { EP_GET, EP_PATCH, EP_CLOSE, EP_RESET, EP_TRADES, EP_COUNT };
static const char *const ep_names[] = { "GET", "PATCH", "close", "reset", "trades" };

static it_response_t endpoint(int ep, const char *key, const char *id)
{
    switch (ep) {
    case EP_GET:
        return get_account(key, id);
    case EP_PATCH:
        return patch_account(key, id,
                             "{\"rules\":{\"hijacked\":true},"
                             "\"metadata\":{\"hijacked\":true}}");
    case EP_CLOSE:
        return close_account(key, id);
    case EP_RESET:
        return reset_account(key, id);
    default:
        return call(key, "GET", account_path(id, "/trades"), NULL);
    }
}

/* An account with state that any write would visibly change. */
static account_t busy_account(const char *key)
{
    account_t a = new_account(key, "5000");
    char *cond, *tok = new_token("Yes", "0.43", "0.44", NULL, NULL, &cond);
    it_response_t r = patch_account(key, a.id, "{\"rules\":{\"own\":1},\"metadata\":{\"own\":2}}");
    it_assert_status(r, 200);
    it_response_free(&r);
    insert_position(&a, tok, "10", "0.40");
    post_cash(&a, "-42.00", "fill");
    rest_order(&a, tok, "BUY", "10", "0.40");
    return a;
}

START_TEST(test_isolation_matrix)
{
    account_t demo_acc = busy_account(DEMO), other_acc = busy_account(OTHER);
    const char *malformed = "not-a-uuid";
    const char *unknown = IT_SAMPLE_ACCOUNT;
    const char *keys[] = { DEMO, READONLY, OTHER };
    const char *key_names[] = { "DEMO", "READONLY", "OTHER" };
    char *snap_demo = snapshot(demo_acc.id), *snap_other = snapshot(other_acc.id);
    int k, ep;

    /* 1. everything that must fail, and so change nothing anywhere */
    for (k = 0; k < 3; k++) {
        const char *own = k == 2 ? other_acc.id : demo_acc.id;
        const char *foreign = k == 2 ? demo_acc.id : other_acc.id;
        for (ep = 0; ep < EP_COUNT; ep++) {
            int write = ep == EP_PATCH || ep == EP_CLOSE || ep == EP_RESET;
            it_response_t rf = endpoint(ep, keys[k], foreign);
            it_response_t ru = endpoint(ep, keys[k], unknown);
            it_response_t rm = endpoint(ep, keys[k], malformed);
            char *p;

            if (k == 1 && write) {
                /* no permission: 403 before anything else, even on its own account */
                it_response_t ro = endpoint(ep, keys[k], own);
                const it_response_t *all[] = { &ro, &rf, &ru, &rm };
                int j;
                for (j = 0; j < 4; j++) {
                    p = it_error_problem(all[j], 403, "INSUFFICIENT_PERMISSION");
                    ck_assert_msg(p == NULL, "%s %s: %s", key_names[k], ep_names[ep], p ? p : "");
                }
                it_response_free(&ro);
            }
            else if (ep == EP_TRADES) {
                p = it_error_problem(&rf, 404, "ACCOUNT_NOT_FOUND");
                ck_assert_msg(p == NULL, "%s trades foreign: %s", key_names[k], p ? p : "");
                p = it_error_problem(&rm, 422, "INVALID_ACCOUNT_ID");
                ck_assert_msg(p == NULL, "%s trades malformed: %s", key_names[k], p ? p : "");
                ck_assert_msg(rf.status == ru.status && strcmp(rf.body, ru.body) == 0,
                              "%s trades: another tenant's account must look unknown: <%s> vs "
                              "<%s>",
                              key_names[k], rf.body, ru.body);
            }
            else {
                p = it_error_problem(&rf, 404, "ACCOUNT_NOT_FOUND");
                ck_assert_msg(p == NULL, "%s %s foreign: %s", key_names[k], ep_names[ep],
                              p ? p : "");
                p = it_error_problem(&ru, 404, "ACCOUNT_NOT_FOUND");
                ck_assert_msg(p == NULL, "%s %s unknown: %s", key_names[k], ep_names[ep],
                              p ? p : "");
                ck_assert_msg(strcmp(rf.body, ru.body) == 0,
                              "%s %s: another tenant's account "
                              "must look unknown: <%s> vs <%s>",
                              key_names[k], ep_names[ep], rf.body, ru.body);
                p = it_error_problem(&rm, 422, "INVALID_ACCOUNT_ID");
                ck_assert_msg(p == NULL, "%s %s malformed: %s", key_names[k], ep_names[ep],
                              p ? p : "");
            }
            it_response_free(&rf);
            it_response_free(&ru);
            it_response_free(&rm);
        }
    }
    /* the disabled tenant sees nothing at all */
    for (ep = 0; ep < EP_COUNT; ep++) {
        it_response_t r = endpoint(ep, PENDING, demo_acc.id);
        it_assert_error(r, 404, "NOT_FOUND");
        it_response_free(&r);
    }
    ck_assert_str_eq(snapshot(demo_acc.id), snap_demo);
    ck_assert_str_eq(snapshot(other_acc.id), snap_other);
    assert_invariants();

    /* 2. each tenant on its own account works, and never touches the other's */
    for (k = 0; k < 3; k++) {
        const account_t *own = k == 2 ? &other_acc : &demo_acc;
        const char *foreign_id = k == 2 ? demo_acc.id : other_acc.id;
        char *foreign_snap = snapshot(foreign_id);
        for (ep = 0; ep < EP_COUNT; ep++) {
            int write = ep == EP_PATCH || ep == EP_CLOSE || ep == EP_RESET;
            it_response_t r;
            if (k == 1 && write) {
                continue; /* covered above */
            }
            r = endpoint(ep, keys[k], own->id);
            switch (ep) {
            case EP_GET:
                assert_envelope(&r, own->id, own->x, NULL, NULL, "5000.00", NULL, NULL, -1);
                break;
            case EP_PATCH:
                assert_envelope(&r, own->id, own->x, "active", NULL, "5000.00", NULL, NULL, 1);
                assert_config(&r, own->id, "{\"hijacked\":true}", "{\"hijacked\":true}");
                break;
            case EP_CLOSE:
                assert_envelope(&r, own->id, own->x, "closed", "4958.00", "5000.00", "4962.35",
                                "-37.65", 1);
                break;
            case EP_RESET:
                assert_envelope(&r, own->id, own->x, "active", "5000.00", "5000.00", "5000.00",
                                "0.00", 0);
                break;
            default:
                ck_assert_msg(r.status == 200
                                  && json_object_is_type(it_json_get(r.json, "data"),
                                                         json_type_array),
                              "%s trades own: %s", key_names[k], it_describe(&r));
                break;
            }
            it_response_free(&r);
        }
        ck_assert_msg(strcmp(snapshot(foreign_id), foreign_snap) == 0,
                      "%s's requests on its own account changed the other tenant's account",
                      key_names[k]);
    }
    assert_account_invariants(&demo_acc);
    assert_account_invariants(&other_acc);
}
END_TEST

Suite *it_accounts_suite(void)
{
    Suite *s = suite_create("accounts");
    TCase *create_tc = tcase_create("create");
    TCase *get_tc = tcase_create("get");
    TCase *patch_tc = tcase_create("patch");
    TCase *close_tc = tcase_create("close");
    TCase *reset_tc = tcase_create("reset");
    TCase *users_tc = tcase_create("users");
    TCase *race_tc = tcase_create("concurrency");
    TCase *iso_tc = tcase_create("isolation");

    tcase_set_timeout(create_tc, 120);
    tcase_add_test(create_tc, test_create_account);
    tcase_add_test(create_tc, test_create_defaults_and_stages);
    tcase_add_test(create_tc, test_create_replay);
    tcase_add_test(create_tc, test_create_conflict);
    tcase_add_test(create_tc, test_create_schema_errors);
    tcase_add_test(create_tc, test_create_external_id_length);
    tcase_add_test(create_tc, test_schema_errors_come_before_value_errors);
    tcase_add_test(create_tc, test_create_invalid_stage);
    tcase_add_test(create_tc, test_create_long_stage_is_invalid_stage);
    tcase_add_test(create_tc, test_create_invalid_balance);
    tcase_add_test(create_tc, test_create_balance_bounds);
    tcase_add_test(create_tc, test_create_long_balance_strings);
    tcase_add_test(create_tc, test_create_user_not_found);
    tcase_add_test(create_tc, test_create_requires_accounts_write);
    suite_add_tcase(s, create_tc);

    tcase_set_timeout(get_tc, 120);
    tcase_add_test(get_tc, test_get_envelope);
    tcase_add_test(get_tc, test_risk_object);
    tcase_add_test(get_tc, test_days_list);
    tcase_add_test(get_tc, test_invalid_account_ids);
    tcase_add_test(get_tc, test_account_not_found_is_uniform);
    tcase_add_test(get_tc, test_equity_with_open_orders);
    tcase_add_test(get_tc, test_equity_marks_positions);
    suite_add_tcase(s, get_tc);

    tcase_set_timeout(patch_tc, 120);
    tcase_add_test(patch_tc, test_patch_replaces_wholesale);
    tcase_add_test(patch_tc, test_patch_rejects);
    suite_add_tcase(s, patch_tc);

    tcase_set_timeout(close_tc, 120);
    tcase_add_test(close_tc, test_close_is_idempotent_and_reads_keep_working);
    tcase_add_test(close_tc, test_close_cancels_orders);
    tcase_add_test(close_tc, test_close_over_the_batch_limit);
    tcase_add_test(close_tc, test_close_exactly_the_batch_limit);
    suite_add_tcase(s, close_tc);

    tcase_set_timeout(reset_tc, 120);
    tcase_add_test(reset_tc, test_reset_restores_starting_state);
    tcase_add_test(reset_tc, test_reset_reopens_a_closed_account);
    tcase_add_test(reset_tc, test_reset_over_the_batch_limit);
    suite_add_tcase(s, reset_tc);

    tcase_set_timeout(users_tc, 120);
    tcase_add_test(users_tc, test_user_lists_accounts_newest_first);
    suite_add_tcase(s, users_tc);

    tcase_set_timeout(race_tc, 180);
    tcase_add_test(race_tc, test_create_concurrent_identical);
    tcase_add_test(race_tc, test_concurrent_close_reset_get);
    suite_add_tcase(s, race_tc);

    tcase_set_timeout(iso_tc, 180);
    tcase_add_test(iso_tc, test_isolation_matrix);
    suite_add_tcase(s, iso_tc);
    return s;
}
