#include "pf_batch.h"
#include "pf_json.h"

#include <apr_strings.h>

static void pf_batch_value(pf_buf_t *b, const char *key, const char *val)
{
    pf_buf_puts(b, ",\"");
    pf_buf_puts(b, key);
    pf_buf_puts(b, "\":");
    if (val) {
        pf_buf_quote(b, val);
    }
    else {
        pf_buf_puts(b, "null");
    }
}

int pf_batch_build(pf_book_store_t *s, apr_pool_t *p, const pf_batch_opts_t *opts, pf_batch_t *out)
{
    int max = opts && opts->max_tokens > 0 ? opts->max_tokens : PF_BATCH_DEFAULT_MAX;
    int levels = opts && opts->max_levels > 0 ? opts->max_levels : 0;
    int avail = pf_book_store_dirty_count(s);
    pf_buf_t b;
    pf_book_t *book;
    unsigned mask;

    if (avail > max) {
        avail = max;
    }
    out->count = 0;
    out->items = apr_palloc(p, (apr_size_t)(avail + 1) * sizeof(*out->items));
    pf_buf_init(&b, p, 256 + (apr_size_t)avail * 256);
    pf_buf_puts(&b, "[");
    while (out->count < max && (book = pf_book_store_pop_dirty(s, &mask)) != NULL) {
        pf_quote_t q;
        pf_book_quote(book, &q);
        mask &= q.known;
        if (!(mask & PF_DIRTY_ALL)) {
            continue;
        }
        if (!q.tick_size) {
            mask &= ~PF_DIRTY_TICK;
        }
        if (!q.has_snapshot) {
            mask &= ~(PF_DIRTY_BIDS | PF_DIRTY_ASKS);
        }
        if (!mask) {
            continue;
        }
        pf_buf_puts(&b, out->count ? ",{\"token_id\":" : "{\"token_id\":");
        pf_buf_quote(&b, q.token_id);
        if (mask & PF_DIRTY_BEST) {
            pf_batch_value(&b, "best_bid", q.best_bid);
            pf_batch_value(&b, "best_ask", q.best_ask);
            pf_batch_value(&b, "midpoint", q.midpoint);
        }
        if (mask & PF_DIRTY_LAST) {
            pf_batch_value(&b, "last_trade_price", q.last_trade_price);
        }
        if (mask & PF_DIRTY_TICK) {
            pf_batch_value(&b, "tick_size", q.tick_size);
        }
        if (mask & PF_DIRTY_BIDS) {
            pf_buf_puts(&b, ",\"bids\":");
            pf_book_depth_json(book, PF_SIDE_BID, levels, &b);
        }
        if (mask & PF_DIRTY_ASKS) {
            pf_buf_puts(&b, ",\"asks\":");
            pf_book_depth_json(book, PF_SIDE_ASK, levels, &b);
        }
        pf_buf_puts(&b, "}");
        out->items[out->count].token_id = apr_pstrdup(p, q.token_id);
        out->items[out->count].mask = mask;
        out->items[out->count].since_ms = q.dirty_since_ms;
        out->count++;
    }
    pf_buf_puts(&b, "]");
    out->json = pf_buf_str(&b);
    out->len = b.len;
    return out->count;
}

void pf_batch_restore(pf_book_store_t *s, const pf_batch_t *b)
{
    int i;

    for (i = b->count - 1; i >= 0; i--) {
        pf_book_store_requeue(s, b->items[i].token_id, b->items[i].mask, b->items[i].since_ms);
    }
}
