#include "pf_ws.h"
#include "pf_json.h"
#include "pp_log.h"

#include <string.h>

static const char *const pf_ev_names[PF_EV__COUNT] = {
    "book",         "price_change", "last_trade_price", "tick_size_change",
    "best_bid_ask", "new_market",   "market_resolved",  "unknown"
};

pf_event_type_t pf_ws_event_type(const char *name)
{
    int i;

    if (name) {
        for (i = 0; i < PF_EV_UNKNOWN; i++) {
            if (strcmp(name, pf_ev_names[i]) == 0) {
                return (pf_event_type_t)i;
            }
        }
    }
    return PF_EV_UNKNOWN;
}

const char *pf_ws_event_name(pf_event_type_t t)
{
    return (unsigned)t < (unsigned)PF_EV__COUNT ? pf_ev_names[t] : "unknown";
}

static int pf_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int pf_ws_is_pong(const char *buf, apr_size_t len)
{
    apr_size_t i = 0, j = len, k;

    while (i < j && pf_is_space(buf[i])) i++;
    while (j > i && pf_is_space(buf[j - 1])) j--;
    if (j - i != 4) {
        return 0;
    }
    for (k = 0; k < 4; k++) {
        char c = buf[i + k];
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (c != PF_WS_PONG[k]) return 0;
    }
    return 1;
}

/* A printable excerpt of a frame for the log. */
static void pf_excerpt(const char *buf, apr_size_t len, char *out, size_t outsz)
{
    size_t i, n = len < outsz - 4 ? len : outsz - 4;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static void pf_market_resolved(apr_pool_t *p, json_object *ev, const pf_ws_ctx_t *ctx)
{
    pf_ws_resolved_t r;
    const char *s = pf_json_str_field(ev, "market");
    json_object *assets = pf_json_get(ev, "assets_ids");

    (void)p;
    memset(&r, 0, sizeof(r));
    r.condition_id = pf_is_condition_id(s) ? s : NULL;
    s = pf_json_str_field(ev, "winning_asset_id");
    r.winning_asset_id = pf_is_token_id(s) ? s : NULL;
    r.winning_outcome = pf_json_str_field(ev, "winning_outcome");
    r.hint.kind = PF_RES_PENDING;
    r.hint.reason = "market_resolved without a usable winning_asset_id: confirm through REST";
    if (r.winning_asset_id) {
        int listed = !assets;
        if (assets && json_object_is_type(assets, json_type_array)) {
            size_t i, n = json_object_array_length(assets);
            for (i = 0; i < n && !listed; i++) {
                const char *a = pf_json_string(json_object_array_get_idx(assets, i));
                listed = a && strcmp(a, r.winning_asset_id) == 0;
            }
        }
        if (listed) {
            r.hint.kind = PF_RES_WINNER;
            r.hint.winning_token_id = r.winning_asset_id;
            r.hint.reason = "market_resolved names a winning asset: confirm through REST";
        }
        else {
            r.hint.reason = "winning_asset_id is not one of assets_ids";
        }
    }
    pp_log(PP_LOG_INFO, "ws: market_resolved %s: %s", r.condition_id ? r.condition_id : "?",
           r.hint.reason);
    if (ctx && ctx->on_market_resolved) {
        ctx->on_market_resolved(ctx->baton, &r);
    }
}

/* An event's own timestamp (ms) when it has a plausible one (within a day
 * of now), else now: the delay to the commit is then measured from the
 * moment the event left the server. */
static int64_t pf_ws_event_origin(json_object *ev, int64_t now)
{
    int64_t ts;

    if (pf_json_uint_field(ev, "timestamp", &ts) == PF_VAL_OK && ts > now - 86400000
        && ts < now + 86400000) {
        return ts;
    }
    return now;
}

static pf_apply_t pf_ws_event(pf_book_store_t *store, apr_pool_t *scratch, json_object *ev,
                              const pf_ws_ctx_t *ctx, pf_event_type_t *type)
{
    int64_t now = ctx ? ctx->now_ms : 0;
    const char *name;

    if (!ev || !json_object_is_type(ev, json_type_object)) {
        *type = PF_EV_UNKNOWN;
        return PF_APPLY_MALFORMED;
    }
    name = pf_json_str_field(ev, "event_type");
    *type = pf_ws_event_type(name);
    pf_book_store_set_origin(store, pf_ws_event_origin(ev, now));
    switch (*type) {
    case PF_EV_BOOK:
        return pf_book_apply_snapshot(store, ev, now);
    case PF_EV_PRICE_CHANGE:
        return pf_book_apply_price_change(store, ev, now);
    case PF_EV_LAST_TRADE_PRICE:
        return pf_book_apply_last_trade(store, ev, now);
    case PF_EV_TICK_SIZE_CHANGE:
        return pf_book_apply_tick_size_change(store, ev, now);
    case PF_EV_BEST_BID_ASK:
        return pf_book_apply_best_bid_ask(store, ev, now);
    case PF_EV_NEW_MARKET: {
        pf_market_t *m = pf_market_from_new_market_event(scratch, ev);
        if (!m->condition_id) {
            return PF_APPLY_MALFORMED;
        }
        if (ctx && ctx->on_new_market) {
            ctx->on_new_market(ctx->baton, m);
        }
        return PF_APPLY_OK;
    }
    case PF_EV_MARKET_RESOLVED:
        pf_market_resolved(scratch, ev, ctx);
        return PF_APPLY_OK;
    default:
        pp_log(PP_LOG_DEBUG, "ws: unknown event_type \"%s\" dropped", name ? name : "(none)");
        return PF_APPLY_IGNORED;
    }
}

pf_frame_kind_t pf_ws_handle_frame(pf_book_store_t *store, apr_pool_t *scratch, const char *buf,
                                   apr_size_t len, const pf_ws_ctx_t *ctx, pf_frame_result_t *res)
{
    pf_frame_result_t local;
    pf_ws_stats_t *st = ctx ? ctx->stats : NULL;
    json_object *root;
    const char *err;
    apr_size_t i = 0;
    size_t k, n;

    if (!res) {
        res = &local;
    }
    memset(res, 0, sizeof(*res));
    if (st) st->frames++;
    while (i < len && pf_is_space(buf[i])) i++;
    if (i == len) {
        res->kind = PF_FRAME_EMPTY;
        return res->kind;
    }
    if (pf_ws_is_pong(buf, len)) {
        if (st) st->pongs++;
        res->kind = PF_FRAME_PONG;
        return res->kind;
    }
    err = pf_json_parse(scratch, buf, len, &root);
    if (err || !root
        || (!json_object_is_type(root, json_type_object)
            && !json_object_is_type(root, json_type_array))) {
        char ex[96];
        pf_excerpt(buf, len, ex, sizeof(ex));
        pp_log(PP_LOG_WARN, "ws: frame skipped (%s): %s", err ? err : "not an object or array", ex);
        if (st) st->invalid_frames++;
        res->kind = PF_FRAME_INVALID;
        return res->kind;
    }
    res->kind = PF_FRAME_EVENTS;
    n = json_object_is_type(root, json_type_array) ? json_object_array_length(root) : 1;
    for (k = 0; k < n; k++) {
        json_object *ev = json_object_is_type(root, json_type_array)
                              ? json_object_array_get_idx(root, k)
                              : root;
        pf_event_type_t type;
        pf_apply_t r = pf_ws_event(store, scratch, ev, ctx, &type);

        res->events++;
        if (type == PF_EV_UNKNOWN && r != PF_APPLY_MALFORMED) {
            res->unknown++;
            if (st) st->events[PF_EV_UNKNOWN]++;
            continue;
        }
        if (st && type != PF_EV_UNKNOWN) st->events[type]++;
        switch (r) {
        case PF_APPLY_OK:
            res->applied++;
            if (st) st->applied++;
            break;
        case PF_APPLY_IGNORED:
            res->ignored++;
            if (st) st->ignored++;
            break;
        case PF_APPLY_MALFORMED:
            res->malformed++;
            if (st) st->malformed++;
            break;
        }
    }
    return res->kind;
}

static const char *pf_ids_json(apr_pool_t *p, pf_buf_t *b, const char *const *ids, int n)
{
    int i;

    pf_buf_puts(b, "[");
    for (i = 0; i < n; i++) {
        if (!pf_is_token_id(ids[i])) {
            return NULL;
        }
        if (i) pf_buf_puts(b, ",");
        pf_buf_quote(b, ids[i]);
    }
    pf_buf_puts(b, "]");
    (void)p;
    return pf_buf_str(b);
}

const char *pf_ws_subscribe_msg(apr_pool_t *p, const char *const *asset_ids, int n)
{
    pf_buf_t b;

    if (n <= 0) {
        return NULL; /* an empty list reportedly subscribes to every market */
    }
    pf_buf_init(&b, p, 64 + (apr_size_t)n * 82);
    pf_buf_puts(&b, "{\"assets_ids\":");
    if (!pf_ids_json(p, &b, asset_ids, n)) {
        return NULL;
    }
    pf_buf_puts(&b, ",\"type\":\"market\",\"initial_dump\":true,\"custom_feature_enabled\":true}");
    return pf_buf_str(&b);
}

const char *pf_ws_operation_msg(apr_pool_t *p, int subscribe, const char *const *asset_ids, int n)
{
    pf_buf_t b;

    if (n <= 0) {
        return NULL;
    }
    pf_buf_init(&b, p, 64 + (apr_size_t)n * 82);
    pf_buf_puts(&b, subscribe ? "{\"operation\":\"subscribe\",\"assets_ids\":"
                              : "{\"operation\":\"unsubscribe\",\"assets_ids\":");
    if (!pf_ids_json(p, &b, asset_ids, n)) {
        return NULL;
    }
    pf_buf_puts(&b, subscribe ? ",\"custom_feature_enabled\":true}" : "}");
    return pf_buf_str(&b);
}
