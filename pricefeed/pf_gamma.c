#include "pf_gamma.h"
#include "pf_json.h"
#include "pp_log.h"

#include <apr_strings.h>
#include <string.h>

static int pf_flag(json_object *obj, const char *key)
{
    int v = 0;

    switch (pf_json_bool_field(obj, key, &v)) {
    case PF_VAL_OK:
        return v;
    case PF_VAL_INVALID:
        return PF_FLAG_INVALID;
    default:
        return PF_FLAG_ABSENT;
    }
}

/* An id sent as a string or an integer, as text. */
static const char *pf_id_text(apr_pool_t *p, json_object *v)
{
    if (!v) {
        return NULL;
    }
    if (json_object_is_type(v, json_type_int)) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_object_get_int64(v));
    }
    return pf_json_string(v);
}

/* A list of non-empty strings (JSON-in-a-string or a real array); the
 * element check decides what else is acceptable. -1 when malformed. */
static int pf_string_list(apr_pool_t *p, json_object *v, int (*ok)(const char *), const char ***out)
{
    json_object *arr;
    size_t i, n;
    const char **items;

    *out = NULL;
    if (pf_json_inner_array(p, v, &arr) != PF_VAL_OK) {
        return -1;
    }
    n = json_object_array_length(arr);
    if (n > 1000) {
        return -1;
    }
    items = apr_pcalloc(p, (n + 1) * sizeof(*items));
    for (i = 0; i < n; i++) {
        const char *s = pf_json_string(json_object_array_get_idx(arr, i));
        if (!s || !s[0] || (ok && !ok(s))) {
            return -1;
        }
        items[i] = s;
    }
    *out = items;
    return (int)n;
}

static int pf_price_list(apr_pool_t *p, json_object *v, const char ***out)
{
    json_object *arr;
    size_t i, n;
    const char **items;

    *out = NULL;
    if (pf_json_inner_array(p, v, &arr) != PF_VAL_OK) {
        return -1;
    }
    n = json_object_array_length(arr);
    if (n > 1000) {
        return -1;
    }
    items = apr_pcalloc(p, (n + 1) * sizeof(*items));
    for (i = 0; i < n; i++) {
        char buf[PF_PRICE_BUF];
        if (pf_json_decimal(json_object_array_get_idx(arr, i), PF_DEC_PRICE, buf, sizeof(buf))
            != PF_VAL_OK) {
            return -1;
        }
        items[i] = apr_pstrdup(p, buf);
    }
    *out = items;
    return (int)n;
}

static const char *pf_tick(apr_pool_t *p, json_object *obj, const char *key)
{
    char buf[PF_PRICE_BUF];

    if (pf_json_decimal_field(obj, key, PF_DEC_TICK, buf, sizeof(buf)) == PF_VAL_OK) {
        return apr_pstrdup(p, buf);
    }
    return NULL;
}

static const char *pf_flag_problem(apr_pool_t *p, const pf_market_t *m)
{
    struct {
        const char *name;
        int v;
    } f[] = {
        { "closed", m->closed },
        { "active", m->active },
        { "enableOrderBook", m->enable_order_book },
        { "negRiskOther", m->neg_risk_other },
    };
    size_t i;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (f[i].v == PF_FLAG_INVALID) {
            return apr_psprintf(p, "malformed %s flag", f[i].name);
        }
    }
    return NULL;
}

/* Fills binary, tradable, skip_reason and tokens_json from the fields. */
static void pf_market_classify(apr_pool_t *p, pf_market_t *m)
{
    const char *structural = NULL;

    if (!m->condition_id) {
        structural = "missing or malformed condition id";
    }
    else if (m->n_outcomes < 0) {
        structural = "outcomes missing or malformed";
    }
    else if (m->n_outcomes != 2) {
        structural = apr_psprintf(p, "%d outcomes (only binary markets are tracked)",
                                  m->n_outcomes);
    }
    else if (m->n_tokens < 0) {
        structural = "clobTokenIds missing or malformed";
    }
    else if (m->n_tokens != 2) {
        structural = apr_psprintf(p, "%d token ids for 2 outcomes", m->n_tokens);
    }
    else if (strcmp(m->token_ids[0], m->token_ids[1]) == 0) {
        structural = "both outcomes have the same token id";
    }
    m->binary = (structural == NULL);

    if (m->binary) {
        pf_buf_t b;
        int i;
        pf_buf_init(&b, p, 256);
        pf_buf_puts(&b, "[");
        for (i = 0; i < 2; i++) {
            pf_buf_puts(&b, i ? ",{\"token_id\":" : "{\"token_id\":");
            pf_buf_quote(&b, m->token_ids[i]);
            pf_buf_puts(&b, ",\"outcome\":");
            pf_buf_quote(&b, m->outcomes[i]);
            if (m->tick_size) {
                pf_buf_puts(&b, ",\"tick_size\":");
                pf_buf_quote(&b, m->tick_size);
            }
            pf_buf_puts(&b, "}");
        }
        pf_buf_puts(&b, "]");
        m->tokens_json = pf_buf_str(&b);
    }

    if (!m->condition_id) {
        m->skip_reason = structural;
    }
    else if ((m->skip_reason = pf_flag_problem(p, m)) != NULL) {
        /* set */
    }
    else if (m->closed == 1) {
        m->skip_reason = "closed";
    }
    else if (m->active == 0) {
        m->skip_reason = "not active";
    }
    else if (m->enable_order_book == 0) {
        m->skip_reason = "order book disabled";
    }
    else if (m->neg_risk_other == 1) {
        m->skip_reason = "neg-risk \"Other\" placeholder";
    }
    else if (structural) {
        m->skip_reason = structural;
    }
    else if (m->neg_risk == 1 && m->n_prices < 0) {
        m->skip_reason = "neg-risk placeholder without outcome prices";
    }
    m->tradable = (m->skip_reason == NULL);
}

static pf_market_t *pf_market_new(apr_pool_t *p)
{
    pf_market_t *m = apr_pcalloc(p, sizeof(*m));

    m->closed = m->active = m->enable_order_book = m->accepting_orders = PF_FLAG_ABSENT;
    m->neg_risk = m->neg_risk_other = PF_FLAG_ABSENT;
    m->n_outcomes = m->n_tokens = m->n_prices = -1;
    m->question = "";
    m->uma_status = "";
    return m;
}

pf_market_t *pf_gamma_market_from_json(apr_pool_t *p, json_object *obj)
{
    pf_market_t *m = pf_market_new(p);
    const char *s;
    json_object *tokens;

    if (!obj || !json_object_is_type(obj, json_type_object)) {
        m->skip_reason = "not a JSON object";
        return m;
    }
    m->gamma_id = pf_id_text(p, pf_json_get(obj, "id"));
    s = pf_json_str_field(obj, "conditionId");
    m->condition_id = pf_is_condition_id(s) ? s : NULL;
    if ((s = pf_json_str_field(obj, "question")) != NULL) {
        m->question = s;
    }
    m->slug = pf_json_str_field(obj, "slug");
    m->closed = pf_flag(obj, "closed");
    m->active = pf_flag(obj, "active");
    m->enable_order_book = pf_flag(obj, "enableOrderBook");
    m->accepting_orders = pf_flag(obj, "acceptingOrders");
    m->neg_risk = pf_flag(obj, "negRisk");
    m->neg_risk_other = pf_flag(obj, "negRiskOther");
    m->n_outcomes = pf_string_list(p, pf_json_get(obj, "outcomes"), NULL, &m->outcomes);
    /* PolyV2 markets may expose only positionIds, which the CLOB also takes */
    tokens = pf_json_get(obj, "clobTokenIds");
    if (!tokens) {
        tokens = pf_json_get(obj, "positionIds");
    }
    m->n_tokens = pf_string_list(p, tokens, pf_is_token_id, &m->token_ids);
    m->n_prices = pf_price_list(p, pf_json_get(obj, "outcomePrices"), &m->outcome_prices);
    if ((s = pf_json_str_field(obj, "umaResolutionStatus")) != NULL) {
        m->uma_status = s;
    }
    m->tick_size = pf_tick(p, obj, "orderPriceMinTickSize");
    pf_market_classify(p, m);
    return m;
}

pf_market_t *pf_market_from_new_market_event(apr_pool_t *p, json_object *ev)
{
    pf_market_t *m = pf_market_new(p);
    const char *s;
    json_object *tokens;

    if (!ev || !json_object_is_type(ev, json_type_object)) {
        m->skip_reason = "not a JSON object";
        return m;
    }
    m->gamma_id = pf_id_text(p, pf_json_get(ev, "id"));
    s = pf_json_str_field(ev, "condition_id");
    if (!s) {
        s = pf_json_str_field(ev, "market");
    }
    m->condition_id = pf_is_condition_id(s) ? s : NULL;
    if ((s = pf_json_str_field(ev, "question")) != NULL) {
        m->question = s;
    }
    m->slug = pf_json_str_field(ev, "slug");
    m->active = pf_flag(ev, "active");
    m->closed = pf_flag(ev, "closed");
    m->n_outcomes = pf_string_list(p, pf_json_get(ev, "outcomes"), NULL, &m->outcomes);
    tokens = pf_json_get(ev, "clob_token_ids");
    if (!tokens) {
        tokens = pf_json_get(ev, "assets_ids");
    }
    m->n_tokens = pf_string_list(p, tokens, pf_is_token_id, &m->token_ids);
    m->tick_size = pf_tick(p, ev, "order_price_min_tick_size");
    pf_market_classify(p, m);
    return m;
}

static const char *pf_error_body(apr_pool_t *p, json_object *root)
{
    const char *e = pf_json_str_field(root, "error");

    return e ? apr_psprintf(p, "error response: %s", e) : NULL;
}

const char *pf_gamma_parse_page(apr_pool_t *p, const char *buf, apr_size_t len,
                                pf_gamma_page_t *out)
{
    json_object *root, *arr;
    const char *err;
    size_t i, n;

    memset(out, 0, sizeof(*out));
    out->markets = apr_array_make(p, 0, sizeof(pf_market_t *));
    if ((err = pf_json_parse(p, buf, len, &root)) != NULL) {
        return err;
    }
    if (root && json_object_is_type(root, json_type_array)) {
        arr = root;
    }
    else if (root && json_object_is_type(root, json_type_object)) {
        json_object *cur;
        if ((err = pf_error_body(p, root)) != NULL) {
            return err;
        }
        arr = pf_json_get(root, "markets");
        if (!arr || !json_object_is_type(arr, json_type_array)) {
            return "Gamma page without a \"markets\" array";
        }
        cur = pf_json_get(root, "next_cursor");
        if (cur) {
            const char *c = pf_json_string(cur);
            if (!c) {
                return "Gamma page with a malformed \"next_cursor\"";
            }
            out->next_cursor = c[0] ? c : NULL;
        }
    }
    else {
        return "Gamma page is neither an object nor an array";
    }
    n = json_object_array_length(arr);
    for (i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        pf_market_t *m;
        if (!o || !json_object_is_type(o, json_type_object)) {
            out->n_not_objects++;
            continue;
        }
        m = pf_gamma_market_from_json(p, o);
        if (m->tradable) {
            out->n_tradable++;
        }
        else {
            pp_log(PP_LOG_DEBUG, "gamma: skipping market %s (%s): %s",
                   m->gamma_id ? m->gamma_id : "?",
                   m->condition_id ? m->condition_id : "no condition id", m->skip_reason);
        }
        APR_ARRAY_PUSH(out->markets, pf_market_t *) = m;
    }
    return NULL;
}

const char *pf_gamma_parse_market(apr_pool_t *p, const char *buf, apr_size_t len, pf_market_t **out)
{
    json_object *root;
    const char *err;

    *out = NULL;
    if ((err = pf_json_parse(p, buf, len, &root)) != NULL) {
        return err;
    }
    if (!root || !json_object_is_type(root, json_type_object)) {
        return "Gamma market is not an object";
    }
    if ((err = pf_error_body(p, root)) != NULL) {
        return err;
    }
    *out = pf_gamma_market_from_json(p, root);
    return NULL;
}

/* ---- resolution ------------------------------------------------------------ */

const char *pf_res_kind_name(pf_res_kind_t kind)
{
    switch (kind) {
    case PF_RES_PENDING:
        return "pending";
    case PF_RES_WINNER:
        return "winner";
    case PF_RES_VOID:
        return "void";
    case PF_RES_INVALID:
        return "invalid";
    }
    return "?";
}

static void pf_res_set(pf_resolution_t *r, pf_res_kind_t kind, const char *winner,
                       const char *reason)
{
    r->kind = kind;
    r->winning_token_id = winner;
    r->reason = reason;
}

void pf_gamma_resolution(const pf_market_t *m, pf_resolution_t *r)
{
    const char *a, *b;

    if (!m->binary) {
        pf_res_set(r, PF_RES_INVALID, NULL, "not a binary market");
        return;
    }
    if (m->closed != 1) {
        pf_res_set(r, PF_RES_PENDING, NULL, "not closed");
        return;
    }
    if (strcmp(m->uma_status, "resolved") != 0) {
        pf_res_set(r, PF_RES_PENDING, NULL, "closed, umaResolutionStatus is not \"resolved\"");
        return;
    }
    if (m->n_prices != 2) {
        pf_res_set(r, PF_RES_PENDING, NULL, "resolved without two outcome prices");
        return;
    }
    a = m->outcome_prices[0];
    b = m->outcome_prices[1];
    if (pf_decimal_cmp(a, "1") == 0 && pf_decimal_is_zero(b)) {
        pf_res_set(r, PF_RES_WINNER, m->token_ids[0], "resolved: outcome prices 1/0");
    }
    else if (pf_decimal_is_zero(a) && pf_decimal_cmp(b, "1") == 0) {
        pf_res_set(r, PF_RES_WINNER, m->token_ids[1], "resolved: outcome prices 0/1");
    }
    else if (pf_decimal_cmp(a, "0.5") == 0 && pf_decimal_cmp(b, "0.5") == 0) {
        pf_res_set(r, PF_RES_VOID, NULL, "resolved 50/50: outcome prices 0.5/0.5");
    }
    else {
        pf_res_set(r, PF_RES_PENDING, NULL,
                   "resolved, but the outcome prices are neither 1/0 nor 0.5/0.5");
    }
}

const char *pf_clob_parse_market(apr_pool_t *p, const char *buf, apr_size_t len,
                                 pf_clob_market_t **out)
{
    json_object *root, *tokens;
    pf_clob_market_t *c;
    const char *err, *s;
    size_t i, n;

    *out = NULL;
    if ((err = pf_json_parse(p, buf, len, &root)) != NULL) {
        return err;
    }
    if (!root || !json_object_is_type(root, json_type_object)) {
        return "CLOB market is not an object";
    }
    if ((err = pf_error_body(p, root)) != NULL) {
        return err;
    }
    c = apr_pcalloc(p, sizeof(*c));
    s = pf_json_str_field(root, "condition_id");
    c->condition_id = pf_is_condition_id(s) ? s : NULL;
    c->closed = pf_flag(root, "closed");
    c->active = pf_flag(root, "active");
    c->accepting_orders = pf_flag(root, "accepting_orders");
    c->enable_order_book = pf_flag(root, "enable_order_book");
    c->is_50_50_outcome = pf_flag(root, "is_50_50_outcome");
    c->tick_size = pf_tick(p, root, "minimum_tick_size");
    c->tokens_valid = 1;
    tokens = pf_json_get(root, "tokens");
    if (tokens && !json_object_is_type(tokens, json_type_array)) {
        c->tokens_valid = 0;
        tokens = NULL;
    }
    n = tokens ? json_object_array_length(tokens) : 0;
    if (n > 1000) {
        c->tokens_valid = 0;
        n = 0;
    }
    c->n_tokens = (int)n;
    c->tokens = apr_pcalloc(p, (n + 1) * sizeof(*c->tokens));
    for (i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(tokens, i);
        pf_clob_token_t *ct = &c->tokens[i];
        char price[PF_PRICE_BUF];
        s = pf_json_str_field(t, "token_id");
        ct->token_id = pf_is_token_id(s) ? s : NULL;
        ct->outcome = pf_json_str_field(t, "outcome");
        if (pf_json_decimal_field(t, "price", PF_DEC_PRICE, price, sizeof(price)) == PF_VAL_OK) {
            ct->price = apr_pstrdup(p, price);
        }
        ct->winner = pf_flag(t, "winner");
        if (ct->winner == PF_FLAG_ABSENT) {
            ct->winner = 0; /* live markets may leave it out */
        }
        if (!ct->token_id || ct->winner == PF_FLAG_INVALID) {
            c->tokens_valid = 0;
        }
    }
    *out = c;
    return NULL;
}

void pf_clob_resolution(const pf_clob_market_t *c, const char *expected_condition_id,
                        pf_resolution_t *r)
{
    int i, winners = 0, w = -1;

    if (expected_condition_id
        && (!c->condition_id || strcmp(c->condition_id, expected_condition_id) != 0)) {
        pf_res_set(r, PF_RES_INVALID, NULL, "condition id does not match the request");
        return;
    }
    if (!c->tokens_valid || c->closed == PF_FLAG_INVALID
        || c->is_50_50_outcome == PF_FLAG_INVALID) {
        pf_res_set(r, PF_RES_INVALID, NULL, "malformed CLOB market");
        return;
    }
    if (c->closed != 1) {
        pf_res_set(r, PF_RES_PENDING, NULL, "not closed");
        return;
    }
    if (c->n_tokens != 2) {
        pf_res_set(r, PF_RES_INVALID, NULL, "closed market without exactly two tokens");
        return;
    }
    for (i = 0; i < c->n_tokens; i++) {
        if (c->tokens[i].winner == 1) {
            winners++;
            w = i;
        }
    }
    if (winners > 1) {
        pf_res_set(r, PF_RES_INVALID, NULL, "more than one winner");
    }
    else if (winners == 1 && c->is_50_50_outcome == 1) {
        pf_res_set(r, PF_RES_INVALID, NULL, "a winner and is_50_50_outcome at once");
    }
    else if (winners == 1) {
        pf_res_set(r, PF_RES_WINNER, c->tokens[w].token_id, "closed with a winner token");
    }
    else if (c->is_50_50_outcome == 1) {
        pf_res_set(r, PF_RES_VOID, NULL, "closed with is_50_50_outcome");
    }
    else {
        pf_res_set(r, PF_RES_PENDING, NULL, "closed, no winner yet");
    }
}
