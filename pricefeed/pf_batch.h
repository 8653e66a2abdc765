/* The writer's batch: the argument of pp_apply_price_updates(jsonb) for the
 * books that changed since the last batch, oldest change first:
 *
 *   [{"token_id":"…","best_bid":"0.53","best_ask":"0.54","midpoint":"0.5350",
 *     "last_trade_price":"0.53","tick_size":"0.01",
 *     "bids":[["0.53","75"],…],"asks":[["0.54","60"],…]},…]
 *
 * Only the groups that changed are present (an absent key leaves the stored
 * value); null clears a value (an empty side of the book). Depth arrays are
 * best level first. Building a batch clears the dirty flags of the books in
 * it; if the write fails, pf_batch_restore puts them back in front. */
#ifndef PF_BATCH_H
#define PF_BATCH_H

#include <apr_pools.h>

#include "pf_book.h"

/* Default number of tokens per batch. */
#define PF_BATCH_DEFAULT_MAX 500

typedef struct {
    int max_tokens; /* tokens per batch; <= 0: PF_BATCH_DEFAULT_MAX */
    int max_levels; /* depth levels per side; <= 0: all */
} pf_batch_opts_t;

typedef struct {
    const char *token_id;
    unsigned mask;    /* PF_DIRTY_* groups written */
    int64_t since_ms; /* origin time of the oldest change written */
} pf_batch_item_t;

typedef struct {
    const char *json; /* "[]" when nothing was dirty */
    apr_size_t len;
    int count; /* tokens in json */
    pf_batch_item_t *items;
} pf_batch_t;

/* Takes up to max_tokens dirty books off the queue into *out (memory from
 * p). Returns out->count. More may remain: pf_book_store_dirty_count. */
int pf_batch_build(pf_book_store_t *s, apr_pool_t *p, const pf_batch_opts_t *opts, pf_batch_t *out);

/* The write of b failed: mark its tokens dirty again, ahead of newer ones. */
void pf_batch_restore(pf_book_store_t *s, const pf_batch_t *b);

#endif
