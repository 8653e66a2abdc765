#include "pf_book.h"
#include "pp_log.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t units;
    char price[PF_PRICE_BUF];
    char size[PF_SIZE_BUF];
} pf_level_t;

typedef struct {
    pf_level_t *v; /* ascending by units */
    int n;
    int cap;
} pf_levels_t;

struct pf_book {
    pf_book_store_t *store;
    char token_id[PF_TOKEN_ID_BUF];
    char condition_id[PF_CONDITION_ID_BUF];
    pf_levels_t side[2];
    int has_snapshot;
    int64_t snapshot_ts;        /* -1 when unknown */
    char hint[2][PF_PRICE_BUF]; /* best bid/ask hints, "" = null */
    int hint_known;
    char best[2][PF_PRICE_BUF]; /* exported, "" = null */
    char mid[PF_PRICE_BUF];
    char last[PF_PRICE_BUF];
    char tick[PF_PRICE_BUF];
    unsigned known;
    unsigned dirty;
    int queued;
    int resync;
    int64_t updated_ms;
    int64_t dirty_since_ms; /* origin time of the oldest unwritten change */
    pf_book_t *prev, *next; /* dirty queue; next also links the free list */
};

typedef struct {
    pf_level_t l;
    int side;
    int seq;
} pf_tmp_level_t;

struct pf_book_store {
    apr_pool_t *pool;
    apr_hash_t *books;
    pf_book_t *free_list;
    pf_book_t *head, *tail;
    int n_dirty;
    pf_tmp_level_t *tmp;
    int tmp_cap;
    int64_t origin_ms; /* see pf_book_store_set_origin */
    pf_book_stats_t stats;
};

/* ---- store --------------------------------------------------------------- */

pf_book_store_t *pf_book_store_create(apr_pool_t *p)
{
    pf_book_store_t *s = apr_pcalloc(p, sizeof(*s));

    s->pool = p;
    s->books = apr_hash_make(p);
    return s;
}

static void pf_queue_unlink(pf_book_store_t *s, pf_book_t *b)
{
    if (!b->queued) {
        return;
    }
    if (b->prev) b->prev->next = b->next;
    else s->head = b->next;
    if (b->next) b->next->prev = b->prev;
    else s->tail = b->prev;
    b->prev = b->next = NULL;
    b->queued = 0;
    s->n_dirty--;
}

static void pf_queue_push_back(pf_book_store_t *s, pf_book_t *b)
{
    if (b->queued) {
        return;
    }
    b->prev = s->tail;
    b->next = NULL;
    if (s->tail) s->tail->next = b;
    else s->head = b;
    s->tail = b;
    b->queued = 1;
    s->n_dirty++;
}

static void pf_queue_push_front(pf_book_store_t *s, pf_book_t *b)
{
    if (b->queued) {
        return;
    }
    b->prev = NULL;
    b->next = s->head;
    if (s->head) s->head->prev = b;
    else s->tail = b;
    s->head = b;
    b->queued = 1;
    s->n_dirty++;
}

static void pf_mark(pf_book_t *b, unsigned bits)
{
    if (!bits) {
        return;
    }
    if (!b->queued) {
        b->dirty_since_ms = b->store->origin_ms;
    }
    b->dirty |= bits;
    pf_queue_push_back(b->store, b);
}

void pf_book_store_set_origin(pf_book_store_t *s, int64_t origin_ms)
{
    s->origin_ms = origin_ms;
}

pf_book_t *pf_book_store_add(pf_book_store_t *s, const char *token_id, const char *condition_id)
{
    pf_book_t *b;
    pf_levels_t keep[2];

    if (!pf_is_token_id(token_id)) {
        return NULL;
    }
    if ((b = apr_hash_get(s->books, token_id, APR_HASH_KEY_STRING)) != NULL) {
        if (condition_id && !b->condition_id[0] && strlen(condition_id) < sizeof(b->condition_id)) {
            strcpy(b->condition_id, condition_id);
        }
        return b;
    }
    if (s->free_list) {
        b = s->free_list;
        s->free_list = b->next;
        keep[0] = b->side[0];
        keep[1] = b->side[1];
        memset(b, 0, sizeof(*b));
        b->side[0] = keep[0];
        b->side[1] = keep[1];
        b->side[0].n = b->side[1].n = 0;
    }
    else {
        b = apr_pcalloc(s->pool, sizeof(*b));
    }
    b->store = s;
    b->snapshot_ts = -1;
    strcpy(b->token_id, token_id);
    if (condition_id && strlen(condition_id) < sizeof(b->condition_id)) {
        strcpy(b->condition_id, condition_id);
    }
    apr_hash_set(s->books, b->token_id, APR_HASH_KEY_STRING, b);
    return b;
}

pf_book_t *pf_book_store_get(pf_book_store_t *s, const char *token_id)
{
    if (!token_id) {
        return NULL;
    }
    return apr_hash_get(s->books, token_id, APR_HASH_KEY_STRING);
}

int pf_book_store_remove(pf_book_store_t *s, const char *token_id)
{
    pf_book_t *b = pf_book_store_get(s, token_id);

    if (!b) {
        return 0;
    }
    apr_hash_set(s->books, b->token_id, APR_HASH_KEY_STRING, NULL);
    pf_queue_unlink(s, b);
    b->next = s->free_list;
    s->free_list = b;
    return 1;
}

int pf_book_store_count(const pf_book_store_t *s)
{
    return (int)apr_hash_count(s->books);
}

int pf_book_store_dirty_count(const pf_book_store_t *s)
{
    return s->n_dirty;
}

const pf_book_stats_t *pf_book_store_stats(const pf_book_store_t *s)
{
    return &s->stats;
}

void pf_book_store_foreach(pf_book_store_t *s, int (*cb)(void *baton, pf_book_t *b), void *baton)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, s->books); hi; hi = apr_hash_next(hi)) {
        void *v;
        apr_hash_this(hi, NULL, NULL, &v);
        if (cb(baton, v)) {
            break;
        }
    }
}

void pf_book_store_mark_all_dirty(pf_book_store_t *s)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, s->books); hi; hi = apr_hash_next(hi)) {
        void *v;
        pf_book_t *b;
        apr_hash_this(hi, NULL, NULL, &v);
        b = v;
        pf_mark(b, b->known);
    }
}

apr_array_header_t *pf_book_store_take_resync(pf_book_store_t *s, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 0, sizeof(const char *));
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, s->books); hi; hi = apr_hash_next(hi)) {
        void *v;
        pf_book_t *b;
        apr_hash_this(hi, NULL, NULL, &v);
        b = v;
        if (b->resync) {
            b->resync = 0;
            APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, b->token_id);
        }
    }
    return out;
}

pf_book_t *pf_book_store_pop_dirty(pf_book_store_t *s, unsigned *mask)
{
    pf_book_t *b = s->head;

    if (!b) {
        return NULL;
    }
    pf_queue_unlink(s, b);
    *mask = b->dirty;
    b->dirty = 0;
    return b;
}

void pf_book_store_requeue(pf_book_store_t *s, const char *token_id, unsigned mask,
                           int64_t since_ms)
{
    pf_book_t *b = pf_book_store_get(s, token_id);

    if (!b || !(mask & b->known)) {
        return;
    }
    if (!b->queued || since_ms < b->dirty_since_ms) {
        b->dirty_since_ms = since_ms;
    }
    b->dirty |= mask & b->known;
    pf_queue_push_front(s, b);
}

/* ---- exported values ------------------------------------------------------ */

void pf_book_quote(const pf_book_t *b, pf_quote_t *q)
{
    q->token_id = b->token_id;
    q->condition_id = b->condition_id;
    q->best_bid = b->best[PF_SIDE_BID][0] ? b->best[PF_SIDE_BID] : NULL;
    q->best_ask = b->best[PF_SIDE_ASK][0] ? b->best[PF_SIDE_ASK] : NULL;
    q->midpoint = b->mid[0] ? b->mid : NULL;
    q->last_trade_price = b->last[0] ? b->last : NULL;
    q->tick_size = b->tick[0] ? b->tick : NULL;
    q->has_snapshot = b->has_snapshot;
    q->n_bids = b->side[PF_SIDE_BID].n;
    q->n_asks = b->side[PF_SIDE_ASK].n;
    q->dirty = b->dirty;
    q->known = b->known;
    q->resync = b->resync;
    q->updated_ms = b->updated_ms;
    q->dirty_since_ms = b->dirty_since_ms;
}

void pf_book_depth_json(const pf_book_t *b, pf_side_t side, int max_levels, pf_buf_t *out)
{
    const pf_levels_t *lv = &b->side[side];
    int i, n = lv->n;

    if (max_levels > 0 && n > max_levels) {
        n = max_levels;
    }
    pf_buf_add(out, "[", 1);
    for (i = 0; i < n; i++) {
        /* best first: the highest bid, the lowest ask */
        const pf_level_t *l = side == PF_SIDE_BID ? &lv->v[lv->n - 1 - i] : &lv->v[i];
        pf_buf_add(out, i ? ",[\"" : "[\"", i ? 3 : 2);
        pf_buf_puts(out, l->price);
        pf_buf_add(out, "\",\"", 3);
        pf_buf_puts(out, l->size);
        pf_buf_add(out, "\"]", 2);
    }
    pf_buf_add(out, "]", 1);
}

/* Recomputes best bid, best ask and midpoint; marks them dirty when they
 * changed or first became known. */
static void pf_book_refresh(pf_book_t *b)
{
    const char *bid, *ask;
    char mid[PF_PRICE_BUF] = "";
    int changed;

    if (b->has_snapshot) {
        const pf_levels_t *bids = &b->side[PF_SIDE_BID], *asks = &b->side[PF_SIDE_ASK];
        bid = bids->n ? bids->v[bids->n - 1].price : "";
        ask = asks->n ? asks->v[0].price : "";
    }
    else if (b->hint_known) {
        bid = b->hint[PF_SIDE_BID];
        ask = b->hint[PF_SIDE_ASK];
    }
    else {
        return;
    }
    if (bid[0] && ask[0] && !pf_price_midpoint4(bid, ask, mid, sizeof(mid))) {
        mid[0] = '\0';
    }
    changed = !(b->known & PF_DIRTY_BEST) || strcmp(bid, b->best[PF_SIDE_BID]) != 0
              || strcmp(ask, b->best[PF_SIDE_ASK]) != 0 || strcmp(mid, b->mid) != 0;
    if (changed) {
        strcpy(b->best[PF_SIDE_BID], bid);
        strcpy(b->best[PF_SIDE_ASK], ask);
        strcpy(b->mid, mid);
        b->known |= PF_DIRTY_BEST;
        pf_mark(b, PF_DIRTY_BEST);
    }
}

static void pf_book_set_text(pf_book_t *b, unsigned bit, char *dst, const char *val)
{
    if (!(b->known & bit) || strcmp(dst, val) != 0) {
        strcpy(dst, val);
        b->known |= bit;
        pf_mark(b, bit);
    }
}

/* ---- levels --------------------------------------------------------------- */

static int pf_levels_reserve(pf_book_store_t *s, pf_levels_t *lv, int need)
{
    pf_level_t *v;
    int cap;

    if (need <= lv->cap) {
        return 1;
    }
    cap = lv->cap ? lv->cap * 2 : 16;
    while (cap < need) cap *= 2;
    v = apr_palloc(s->pool, (apr_size_t)cap * sizeof(*v));
    if (lv->n) {
        memcpy(v, lv->v, (size_t)lv->n * sizeof(*v));
    }
    lv->v = v;
    lv->cap = cap;
    return 1;
}

/* Index of units in lv, or -(insertion point) - 1. */
static int pf_levels_find(const pf_levels_t *lv, uint64_t units)
{
    int lo = 0, hi = lv->n - 1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (lv->v[mid].units == units) return mid;
        if (lv->v[mid].units < units) lo = mid + 1;
        else hi = mid - 1;
    }
    return -lo - 1;
}

/* Applies a validated level; returns 1 when the side changed. */
static int pf_levels_put(pf_book_store_t *s, pf_levels_t *lv, const pf_level_t *l)
{
    int i = pf_levels_find(lv, l->units);

    if (pf_decimal_is_zero(l->size)) {
        if (i < 0) {
            return 0;
        }
        memmove(&lv->v[i], &lv->v[i + 1], (size_t)(lv->n - i - 1) * sizeof(*l));
        lv->n--;
        return 1;
    }
    if (i >= 0) {
        if (strcmp(lv->v[i].size, l->size) == 0 && strcmp(lv->v[i].price, l->price) == 0) {
            return 0;
        }
        lv->v[i] = *l;
        return 1;
    }
    i = -i - 1;
    pf_levels_reserve(s, lv, lv->n + 1);
    memmove(&lv->v[i + 1], &lv->v[i], (size_t)(lv->n - i) * sizeof(*l));
    lv->v[i] = *l;
    lv->n++;
    return 1;
}

static int pf_level_make(const char *price, apr_size_t plen, const char *size, apr_size_t slen,
                         pf_level_t *l)
{
    return pf_decimal_parse(PF_DEC_LEVEL_PRICE, price, plen, l->price, sizeof(l->price))
           && pf_decimal_parse(PF_DEC_SIZE, size, slen, l->size, sizeof(l->size))
           && pf_price_units(l->price, &l->units);
}

/* A level from JSON values (strings or numbers). */
static int pf_level_from_json(json_object *price, json_object *size, pf_level_t *l)
{
    return pf_json_decimal(price, PF_DEC_LEVEL_PRICE, l->price, sizeof(l->price)) == PF_VAL_OK
           && pf_json_decimal(size, PF_DEC_SIZE, l->size, sizeof(l->size)) == PF_VAL_OK
           && pf_price_units(l->price, &l->units);
}

int pf_book_set_level(pf_book_t *b, pf_side_t side, const char *price, const char *size)
{
    pf_level_t l;

    if (!b->has_snapshot || !price || !size
        || !pf_level_make(price, strlen(price), size, strlen(size), &l)) {
        return 0;
    }
    if (pf_levels_put(b->store, &b->side[side], &l)) {
        pf_mark(b, side == PF_SIDE_BID ? PF_DIRTY_BIDS : PF_DIRTY_ASKS);
        pf_book_refresh(b);
    }
    return 1;
}

/* ---- events --------------------------------------------------------------- */

static pf_book_t *pf_event_book(pf_book_store_t *s, json_object *ev, const char *key,
                                pf_apply_t *why)
{
    const char *id = pf_json_str_field(ev, key);
    pf_book_t *b;

    if (!pf_is_token_id(id)) {
        *why = PF_APPLY_MALFORMED;
        return NULL;
    }
    if ((b = pf_book_store_get(s, id)) == NULL) {
        s->stats.unknown_asset++;
        *why = PF_APPLY_IGNORED;
        return NULL;
    }
    return b;
}

static pf_apply_t pf_malformed(pf_book_store_t *s, const char *what, const char *detail)
{
    s->stats.malformed++;
    pp_log(PP_LOG_WARN, "book: malformed %s event skipped: %s", what, detail);
    return PF_APPLY_MALFORMED;
}

static json_object *pf_levels_json(json_object *ev, const char *name, const char *old_name, int *ok)
{
    json_object *v = pf_json_get(ev, name);

    if (!v && !pf_json_has(ev, name)) {
        v = pf_json_get(ev, old_name);
    }
    *ok = !v || json_object_is_type(v, json_type_array);
    return v;
}

static int pf_tmp_cmp(const void *a, const void *b)
{
    const pf_tmp_level_t *x = a, *y = b;

    if (x->side != y->side) return x->side < y->side ? -1 : 1;
    if (x->l.units != y->l.units) return x->l.units < y->l.units ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

pf_apply_t pf_book_apply_snapshot(pf_book_store_t *s, json_object *ev, int64_t now_ms)
{
    pf_apply_t why;
    pf_book_t *b = pf_event_book(s, ev, "asset_id", &why);
    json_object *arr[2];
    int ok[2], side, n = 0, i;
    size_t total;
    int64_t ts = -1;
    char val[PF_PRICE_BUF];

    if (!b) {
        return why == PF_APPLY_MALFORMED ? pf_malformed(s, "book", "missing or bad asset_id") : why;
    }
    arr[PF_SIDE_BID] = pf_levels_json(ev, "bids", "buys", &ok[0]);
    arr[PF_SIDE_ASK] = pf_levels_json(ev, "asks", "sells", &ok[1]);
    if (!ok[0] || !ok[1]) {
        return pf_malformed(s, "book", "bids or asks is not an array");
    }
    if (pf_json_uint_field(ev, "timestamp", &ts) != PF_VAL_OK) {
        ts = -1;
    }
    if (ts >= 0 && b->has_snapshot && b->snapshot_ts > ts) {
        s->stats.stale_snapshots++;
        return PF_APPLY_IGNORED;
    }
    total = (arr[0] ? json_object_array_length(arr[0]) : 0)
            + (arr[1] ? json_object_array_length(arr[1]) : 0);
    if (total > 1000000) {
        return pf_malformed(s, "book", "too many levels");
    }
    if ((int)total > s->tmp_cap) {
        int cap = s->tmp_cap ? s->tmp_cap : 64;
        while (cap < (int)total) cap *= 2;
        s->tmp = apr_palloc(s->pool, (apr_size_t)cap * sizeof(*s->tmp));
        s->tmp_cap = cap;
    }
    for (side = 0; side < 2; side++) {
        size_t j, m = arr[side] ? json_object_array_length(arr[side]) : 0;
        for (j = 0; j < m; j++) {
            json_object *lv = json_object_array_get_idx(arr[side], j), *pj = NULL, *sj = NULL;
            pf_tmp_level_t *t = &s->tmp[n];
            if (lv && json_object_is_type(lv, json_type_object)) {
                pj = pf_json_get(lv, "price");
                sj = pf_json_get(lv, "size");
            }
            else if (lv && json_object_is_type(lv, json_type_array)
                     && json_object_array_length(lv) == 2) {
                pj = json_object_array_get_idx(lv, 0);
                sj = json_object_array_get_idx(lv, 1);
            }
            if (!pj || !sj || !pf_level_from_json(pj, sj, &t->l)) {
                s->stats.rejected++;
                pp_log(PP_LOG_DEBUG, "book: %s: malformed level skipped", b->token_id);
                continue;
            }
            if (pf_decimal_is_zero(t->l.size)) {
                continue;
            }
            t->side = side;
            t->seq = n;
            n++;
        }
    }
    if (n > 1) {
        qsort(s->tmp, (size_t)n, sizeof(*s->tmp), pf_tmp_cmp);
    }
    b->side[0].n = b->side[1].n = 0;
    for (i = 0; i < n; i++) {
        pf_levels_t *lv = &b->side[s->tmp[i].side];
        /* equal prices: the later level on the wire wins */
        if (i + 1 < n && s->tmp[i + 1].side == s->tmp[i].side
            && s->tmp[i + 1].l.units == s->tmp[i].l.units) {
            continue;
        }
        pf_levels_reserve(s, lv, lv->n + 1);
        lv->v[lv->n++] = s->tmp[i].l;
    }
    if (!b->has_snapshot) {
        b->known &= ~PF_DIRTY_BEST; /* levels take over from hints: rewrite */
    }
    b->has_snapshot = 1;
    b->snapshot_ts = ts >= 0 ? ts : b->snapshot_ts;
    b->known |= PF_DIRTY_BIDS | PF_DIRTY_ASKS;
    pf_mark(b, PF_DIRTY_BIDS | PF_DIRTY_ASKS);
    pf_book_refresh(b);

    switch (pf_json_decimal_field(ev, "tick_size", PF_DEC_TICK, val, sizeof(val))) {
    case PF_VAL_OK:
        pf_book_set_text(b, PF_DIRTY_TICK, b->tick, val);
        break;
    case PF_VAL_INVALID:
        s->stats.rejected++;
        break;
    default:
        break;
    }
    switch (pf_json_decimal_field(ev, "last_trade_price", PF_DEC_PRICE, val, sizeof(val))) {
    case PF_VAL_OK:
        pf_book_set_text(b, PF_DIRTY_LAST, b->last, val);
        break;
    case PF_VAL_NULL:
        pf_book_set_text(b, PF_DIRTY_LAST, b->last, "");
        break;
    case PF_VAL_INVALID:
        s->stats.rejected++;
        break;
    default:
        break;
    }
    b->updated_ms = now_ms;
    s->stats.snapshots++;
    return PF_APPLY_OK;
}

/* Reads a best_bid/best_ask hint pair. Returns a mask: 1 bid given, 2 ask
 * given ("" is given as null). */
static int pf_read_hints(pf_book_store_t *s, json_object *o, char bid[PF_PRICE_BUF],
                         char ask[PF_PRICE_BUF])
{
    const char *names[2] = { "best_bid", "best_ask" };
    char *out[2] = { bid, ask };
    int i, got = 0;

    for (i = 0; i < 2; i++) {
        switch (pf_json_decimal_field(o, names[i], PF_DEC_PRICE, out[i], PF_PRICE_BUF)) {
        case PF_VAL_OK:
            got |= 1 << i;
            break;
        case PF_VAL_NULL:
            out[i][0] = '\0';
            got |= 1 << i;
            break;
        case PF_VAL_INVALID:
            s->stats.rejected++;
            break;
        default:
            break;
        }
    }
    return got;
}

/* Hints on a book without a snapshot set its top of book; with one, they
 * are checked against the levels. */
static void pf_apply_hints(pf_book_t *b, int got, const char *bid, const char *ask)
{
    const char *vals[2] = { bid, ask };
    int i;

    if (!got) {
        return;
    }
    if (!b->has_snapshot) {
        for (i = 0; i < 2; i++) {
            if (got & (1 << i)) {
                strcpy(b->hint[i], vals[i]);
            }
        }
        b->hint_known = 1;
        pf_book_refresh(b);
        return;
    }
    for (i = 0; i < 2; i++) {
        if ((got & (1 << i)) && strcmp(vals[i], b->best[i]) != 0) {
            if (!b->resync) {
                pp_log(PP_LOG_INFO,
                       "book: %s: %s hint %s disagrees with the book's %s;"
                       " re-snapshot needed",
                       b->token_id, i ? "best_ask" : "best_bid", vals[i][0] ? vals[i] : "null",
                       b->best[i][0] ? b->best[i] : "null");
            }
            b->store->stats.hint_mismatches++;
            b->resync = 1;
            return;
        }
    }
}

#define PF_MAX_HINTED 64

pf_apply_t pf_book_apply_price_change(pf_book_store_t *s, json_object *ev, int64_t now_ms)
{
    json_object *entries = pf_json_get(ev, "price_changes");
    const char *top_asset = pf_json_str_field(ev, "asset_id");
    struct {
        pf_book_t *b;
        int got;
        char bid[PF_PRICE_BUF], ask[PF_PRICE_BUF];
    } hinted[PF_MAX_HINTED];
    int n_hinted = 0, applied = 0, unknown = 0, i;
    size_t j, n;

    if (!entries && !pf_json_has(ev, "price_changes")) {
        entries = pf_json_get(ev, "changes"); /* before 2025-09-15 */
    }
    if (!entries || !json_object_is_type(entries, json_type_array)) {
        return pf_malformed(s, "price_change", "no price_changes array");
    }
    n = json_object_array_length(entries);
    for (j = 0; j < n; j++) {
        json_object *e = json_object_array_get_idx(entries, j);
        const char *asset, *side_s;
        pf_book_t *b;
        pf_level_t l;
        int side, got, k;
        char bid[PF_PRICE_BUF], ask[PF_PRICE_BUF];

        if (!e || !json_object_is_type(e, json_type_object)) {
            s->stats.rejected++;
            continue;
        }
        asset = pf_json_str_field(e, "asset_id");
        if (!asset && !pf_json_has(e, "asset_id")) {
            asset = top_asset;
        }
        if (!pf_is_token_id(asset)) {
            s->stats.rejected++;
            continue;
        }
        if ((b = pf_book_store_get(s, asset)) == NULL) {
            s->stats.unknown_asset++;
            unknown++;
            continue;
        }
        side_s = pf_json_str_field(e, "side");
        if (side_s && (strcmp(side_s, "BUY") == 0 || strcmp(side_s, "buy") == 0)) {
            side = PF_SIDE_BID;
        }
        else if (side_s && (strcmp(side_s, "SELL") == 0 || strcmp(side_s, "sell") == 0)) {
            side = PF_SIDE_ASK;
        }
        else {
            side = -1;
        }
        if (side < 0 || !pf_level_from_json(pf_json_get(e, "price"), pf_json_get(e, "size"), &l)) {
            s->stats.rejected++;
            pp_log(PP_LOG_DEBUG, "book: %s: malformed price_change entry skipped", asset);
            continue;
        }
        if (b->has_snapshot) {
            if (pf_levels_put(s, &b->side[side], &l)) {
                pf_mark(b, side == PF_SIDE_BID ? PF_DIRTY_BIDS : PF_DIRTY_ASKS);
                pf_book_refresh(b);
            }
            s->stats.level_updates++;
        }
        b->updated_ms = now_ms;
        applied++;
        /* hints describe the top of book after the whole message: keep the
         * last ones per token and check them at the end */
        got = pf_read_hints(s, e, bid, ask);
        if (!got) {
            continue;
        }
        for (k = 0; k < n_hinted && hinted[k].b != b; k++) {
        }
        if (k == n_hinted) {
            if (n_hinted == PF_MAX_HINTED) {
                continue;
            }
            n_hinted++;
            hinted[k].b = b;
            hinted[k].got = 0;
        }
        if (got & 1) strcpy(hinted[k].bid, bid);
        if (got & 2) strcpy(hinted[k].ask, ask);
        hinted[k].got |= got;
    }
    for (i = 0; i < n_hinted; i++) {
        pf_apply_hints(hinted[i].b, hinted[i].got, hinted[i].bid, hinted[i].ask);
    }
    if (applied) {
        return PF_APPLY_OK;
    }
    return unknown ? PF_APPLY_IGNORED : pf_malformed(s, "price_change", "no usable entry");
}

pf_apply_t pf_book_apply_last_trade(pf_book_store_t *s, json_object *ev, int64_t now_ms)
{
    pf_apply_t why;
    pf_book_t *b = pf_event_book(s, ev, "asset_id", &why);
    char price[PF_PRICE_BUF];

    if (!b) {
        return why == PF_APPLY_MALFORMED
                   ? pf_malformed(s, "last_trade_price", "missing or bad asset_id")
                   : why;
    }
    if (pf_json_decimal_field(ev, "price", PF_DEC_PRICE, price, sizeof(price)) != PF_VAL_OK) {
        return pf_malformed(s, "last_trade_price", "missing or bad price");
    }
    pf_book_set_text(b, PF_DIRTY_LAST, b->last, price);
    b->updated_ms = now_ms;
    s->stats.last_trades++;
    return PF_APPLY_OK;
}

pf_apply_t pf_book_apply_tick_size_change(pf_book_store_t *s, json_object *ev, int64_t now_ms)
{
    pf_apply_t why;
    pf_book_t *b = pf_event_book(s, ev, "asset_id", &why);
    char tick[PF_PRICE_BUF];

    if (!b) {
        return why == PF_APPLY_MALFORMED
                   ? pf_malformed(s, "tick_size_change", "missing or bad asset_id")
                   : why;
    }
    if (pf_json_decimal_field(ev, "new_tick_size", PF_DEC_TICK, tick, sizeof(tick)) != PF_VAL_OK) {
        return pf_malformed(s, "tick_size_change", "missing or bad new_tick_size");
    }
    pf_book_set_text(b, PF_DIRTY_TICK, b->tick, tick);
    b->updated_ms = now_ms;
    s->stats.tick_changes++;
    return PF_APPLY_OK;
}

pf_apply_t pf_book_apply_best_bid_ask(pf_book_store_t *s, json_object *ev, int64_t now_ms)
{
    pf_apply_t why;
    pf_book_t *b = pf_event_book(s, ev, "asset_id", &why);
    char bid[PF_PRICE_BUF], ask[PF_PRICE_BUF];
    int got;

    if (!b) {
        return why == PF_APPLY_MALFORMED
                   ? pf_malformed(s, "best_bid_ask", "missing or bad asset_id")
                   : why;
    }
    got = pf_read_hints(s, ev, bid, ask);
    if (!got) {
        return pf_malformed(s, "best_bid_ask", "no usable best_bid or best_ask");
    }
    pf_apply_hints(b, got, bid, ask);
    b->updated_ms = now_ms;
    s->stats.best_bid_asks++;
    return PF_APPLY_OK;
}

const char *pf_book_apply_rest_books(pf_book_store_t *s, apr_pool_t *scratch, const char *buf,
                                     apr_size_t len, int64_t now_ms, int *applied)
{
    json_object *root;
    const char *err;
    size_t i, n;

    *applied = 0;
    if ((err = pf_json_parse(scratch, buf, len, &root)) != NULL) {
        return err;
    }
    if (root && json_object_is_type(root, json_type_object)) {
        const char *e = pf_json_str_field(root, "error");
        if (e) {
            return apr_psprintf(scratch, "error response: %s", e);
        }
        *applied = pf_book_apply_snapshot(s, root, now_ms) == PF_APPLY_OK;
        return NULL;
    }
    if (!root || !json_object_is_type(root, json_type_array)) {
        return "book response is neither an object nor an array";
    }
    n = json_object_array_length(root);
    for (i = 0; i < n; i++) {
        if (pf_book_apply_snapshot(s, json_object_array_get_idx(root, i), now_ms) == PF_APPLY_OK) {
            (*applied)++;
        }
    }
    return NULL;
}
