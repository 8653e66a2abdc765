#include "pp_input.h"
#include "pp_accounts.h"
#include "pp_codec.h"
#include "pp_error.h"
#include "pp_events.h"
#include "pp_json.h"
#include "pp_orders.h"
#include "pp_query.h"
#include "pp_token.h"
#include "pp_users.h"

#include <apr_strings.h>
#include <string.h>

/* Sets name unless value is NULL (absent stays SQL NULL). */
static void pp_input_set(pp_input_req_t *in, const char *name, const char *value)
{
    if (value) {
        apr_table_setn(in->values, name, value);
    }
}

static const char *pp_input_nonempty(const char *s)
{
    return (s && *s) ? s : NULL;
}

int pp_input_read(const pp_input_t *input, pp_input_req_t *in)
{
    in->message = NULL;
    in->cursor = NULL;
    in->cursor_scope = NULL;
    in->cursor_filter[0] = in->cursor_filter[1] = "";
    return input->parse ? input->parse(in) : -1;
}

const pp_input_t pp_input_none = { 0, (const char *const[]){ NULL }, NULL, NULL, NULL };

/* ---- bodies ------------------------------------------------------------------------------ */

/* Any JSON object, bound whole as :body (compact text) for a function that
 * validates its fields itself (SQL casts it ::jsonb). */
static int pp_input_parse_json_body(pp_input_req_t *in)
{
    json_object *root;

    if ((in->message = pp_json_parse_object(in->pool, in->body, in->body_len, &root)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    pp_input_set(in, "body", pp_json_serialize(in->pool, root, NULL));
    return -1;
}

const pp_input_t pp_input_json_body = { 1, (const char *const[]){ "body", NULL },
                                        pp_input_parse_json_body, NULL, NULL };

static int pp_input_parse_user_registration(pp_input_req_t *in)
{
    pp_user_registration_t reg;
    int err = pp_users_parse_registration(in->pool, in->body, in->body_len, &reg, &in->message);

    if (err < 0) {
        pp_input_set(in, "external_id", reg.external_id);
        pp_input_set(in, "email", reg.email);
        pp_input_set(in, "metadata", reg.metadata);
    }
    return err;
}

const pp_input_t pp_input_user_registration = {
    1, (const char *const[]){ "external_id", "email", "metadata", NULL },
    pp_input_parse_user_registration, NULL, NULL
};

static int pp_input_parse_login_link(pp_input_req_t *in)
{
    const char *redirect;
    int err = pp_users_parse_login_link(in->pool, in->body, in->body_len,
                                        in->tenant->redirect_allow, &redirect, &in->message);
    if (err < 0) {
        pp_input_set(in, "redirect_url", redirect);
    }
    return err;
}

const pp_input_t pp_input_login_link = { 1, (const char *const[]){ "redirect_url", NULL },
                                         pp_input_parse_login_link, NULL, NULL };

static int pp_input_parse_account_creation(pp_input_req_t *in)
{
    pp_account_creation_t acc;
    int err = pp_accounts_parse_creation(in->pool, in->body, in->body_len, in->tenant, &acc,
                                         &in->message);
    if (err < 0) {
        pp_input_set(in, "user_id", acc.user_id);
        pp_input_set(in, "external_id", acc.external_id);
        pp_input_set(in, "stage", acc.stage);
        pp_input_set(in, "starting_balance", acc.starting_balance);
        pp_input_set(in, "rules", acc.rules);
        pp_input_set(in, "metadata", acc.metadata);
    }
    return err;
}

const pp_input_t pp_input_account_creation = { 1,
                                               (const char *const[]){ "user_id", "external_id",
                                                                      "stage", "starting_balance",
                                                                      "rules", "metadata", NULL },
                                               pp_input_parse_account_creation, NULL, NULL };

static int pp_input_parse_account_patch(pp_input_req_t *in)
{
    pp_account_patch_t patch;
    int err = pp_accounts_parse_patch(in->pool, in->body, in->body_len, &patch, &in->message);

    if (err < 0) {
        /* an absent field binds NULL: left untouched */
        pp_input_set(in, "rules", patch.rules);
        pp_input_set(in, "metadata", patch.metadata);
    }
    return err;
}

const pp_input_t pp_input_account_patch = { 1, (const char *const[]){ "rules", "metadata", NULL },
                                            pp_input_parse_account_patch, NULL, NULL };

static int pp_input_parse_order(pp_input_req_t *in)
{
    pp_order_request_t order;
    int err = pp_orders_parse(in->pool, in->body, in->body_len, &order, &in->message);

    if (err < 0) {
        pp_input_set(in, "token_id", order.token_id);
        pp_input_set(in, "side", order.side);
        pp_input_set(in, "type", order.type);
        pp_input_set(in, "quantity", order.quantity);
        pp_input_set(in, "limit_price", order.limit_price);
        pp_input_set(in, "worst_price", order.worst_price);
        pp_input_set(in, "client_order_id", order.client_order_id);
    }
    return err;
}

const pp_input_t pp_input_order = { 1,
                                    (const char *const[]){ "token_id", "side", "type", "quantity",
                                                           "limit_price", "worst_price",
                                                           "client_order_id", NULL },
                                    pp_input_parse_order, NULL, NULL };

/* ---- query strings of the paged lists ------------------------------------------------------ */

static int pp_input_parse_trades_query(pp_input_req_t *in)
{
    pp_trades_query_t q;

    if ((in->message = pp_query_parse_trades(in->pool, in->query, &q)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    pp_input_set(in, "limit", apr_itoa(in->pool, q.limit));
    pp_input_set(in, "side", pp_input_nonempty(q.side));
    pp_input_set(in, "market_id", pp_input_nonempty(q.market_id));
    in->cursor = q.cursor;
    in->cursor_filter[0] = q.side;
    in->cursor_filter[1] = q.market_id;
    return -1;
}

/* "" : the trades feed signs with the cursor key itself (its cursors
 * predate the derived keys and stay valid) */
const pp_input_t pp_input_trades_query = {
    0, (const char *const[]){ "limit", "side", "market_id", NULL }, pp_input_parse_trades_query, "",
    "cursor is not one this endpoint issued for this account and these filters; start "
    "again without a cursor"
};

static int pp_input_parse_orders_query(pp_input_req_t *in)
{
    pp_trades_query_t q;

    if ((in->message = pp_query_parse_trades(in->pool, in->query, &q)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    if (*q.side || *q.market_id) {
        in->message = "the order list takes only limit and cursor";
        return PP_ERR_VALIDATION_FAILED;
    }
    pp_input_set(in, "limit", apr_itoa(in->pool, q.limit));
    in->cursor = q.cursor;
    return -1;
}

const pp_input_t pp_input_orders_query = {
    0, (const char *const[]){ "limit", NULL }, pp_input_parse_orders_query, "orders-list",
    "cursor is not one this endpoint issued for this account"
};

/* A market-list cursor continues only the listing it came from: its scope
 * is a digest of the filters. */
static int pp_input_parse_markets_query(pp_input_req_t *in)
{
    pp_markets_query_t q;
    unsigned char digest[PP_SHA256_LEN];
    const char *filters;

    if ((in->message = pp_query_parse_markets(in->pool, in->query, &q)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    pp_input_set(in, "search", pp_input_nonempty(q.search));
    pp_input_set(in, "market_id", pp_input_nonempty(q.market_id));
    pp_input_set(in, "limit", apr_itoa(in->pool, q.limit));
    filters = apr_pstrcat(in->pool, q.search, "\n", q.market_id, NULL);
    pp_token_sha256(filters, strlen(filters), digest);
    in->cursor = q.cursor;
    in->cursor_scope = pp_hex_encode(in->pool, digest, 16);
    return -1;
}

const pp_input_t pp_input_markets_query = {
    0, (const char *const[]){ "search", "market_id", "limit", NULL }, pp_input_parse_markets_query,
    "markets-list", "cursor is not one this endpoint issued for these filters"
};

static int pp_input_parse_days_query(pp_input_req_t *in)
{
    pp_trades_query_t q;

    if ((in->message = pp_query_parse_trades(in->pool, in->query, &q)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    if (*q.side || *q.market_id) {
        in->message = "the day list takes only limit and cursor";
        return PP_ERR_VALIDATION_FAILED;
    }
    pp_input_set(in, "limit", apr_itoa(in->pool, q.limit));
    in->cursor = q.cursor;
    return -1;
}

const pp_input_t pp_input_days_query = {
    0, (const char *const[]){ "limit", NULL }, pp_input_parse_days_query, "days-list",
    "cursor is not one this endpoint issued for this account"
};

/* The event feed and its stream: one cursor for both (the same scope and
 * key), bound to the tenant and the filters. */
static int pp_input_parse_events(pp_input_req_t *in, int stream)
{
    pp_events_query_t q;

    if ((in->message = pp_query_parse_events(in->pool, in->query, &q)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    /* the stream reads in pages of the largest size and never long-polls */
    pp_input_set(in, "limit", apr_itoa(in->pool, stream ? PP_TRADES_LIMIT_MAX : q.limit));
    pp_input_set(in, "types", pp_input_nonempty(q.types));
    pp_input_set(in, "account_id", pp_input_nonempty(q.account_id));
    pp_input_set(in, "wait", apr_itoa(in->pool, stream ? 0 : q.wait));
    in->cursor = q.cursor;
    in->cursor_scope = pp_events_scope(in->pool, in->tenant ? in->tenant->name : "", q.types,
                                       q.account_id);
    return -1;
}

static int pp_input_parse_events_query(pp_input_req_t *in)
{
    return pp_input_parse_events(in, 0);
}

static int pp_input_parse_events_stream(pp_input_req_t *in)
{
    return pp_input_parse_events(in, 1);
}

#define PP_INPUT_EVENTS_REFUSED                                                               \
    "cursor is not one the event feed issued for this tenant and these filters; start again " \
    "without a cursor"

const pp_input_t pp_input_events_query = {
    0, (const char *const[]){ "limit", "types", "account_id", "wait", NULL },
    pp_input_parse_events_query, "events-feed", PP_INPUT_EVENTS_REFUSED
};

const pp_input_t pp_input_events_stream = {
    0, (const char *const[]){ "limit", "types", "account_id", "wait", NULL },
    pp_input_parse_events_stream, "events-feed", PP_INPUT_EVENTS_REFUSED
};
