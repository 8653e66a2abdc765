/* Per-token order-book state fed by WebSocket events and REST snapshots.
 *
 * Levels are kept sorted by price (exact integer units of 1e-10), so the
 * best bid is the highest bid and the best ask the lowest ask whatever
 * order the wire used (Polymarket sends the best level LAST on both
 * sides). Prices and sizes stay canonical decimal text. A size of zero
 * removes a level; malformed levels (non-numeric, negative, outside (0, 1),
 * too many digits) are counted and skipped, never fatal.
 *
 * Each book exports what pp_apply_price_updates takes: best bid, best ask,
 * midpoint ((bid + ask) / 2 at 4 decimals, null unless both sides exist),
 * last trade price, tick size and depth arrays [[price, size], ...]. A dirty
 * mask says which of those changed since the last batch; dirty books sit in
 * a FIFO queue that pf_batch drains.
 *
 * Until a token has had a snapshot (a book event or a REST /book), its best
 * bid and ask come from the best_bid/best_ask hints of price_change and
 * best_bid_ask events, and level updates are not applied (a partial book
 * would give a wrong best price). With a snapshot, levels are authoritative;
 * a hint that disagrees with them marks the token for a REST re-snapshot. */
#ifndef PF_BOOK_H
#define PF_BOOK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>
#include <stdint.h>

#include "pf_decimal.h"
#include "pf_json.h"

typedef enum { PF_SIDE_BID = 0, PF_SIDE_ASK = 1 } pf_side_t;

/* Dirty (and "known") bits of a book. */
#define PF_DIRTY_BEST 0x01u /* best_bid, best_ask, midpoint */
#define PF_DIRTY_LAST 0x02u /* last_trade_price */
#define PF_DIRTY_TICK 0x04u /* tick_size */
#define PF_DIRTY_BIDS 0x08u
#define PF_DIRTY_ASKS 0x10u
#define PF_DIRTY_ALL  0x1Fu

/* Longest ids kept (a token id has at most 78 digits). */
#define PF_TOKEN_ID_BUF     80
#define PF_CONDITION_ID_BUF 68

typedef struct pf_book pf_book_t;
typedef struct pf_book_store pf_book_store_t;

typedef struct {
    uint64_t snapshots;     /* book snapshots applied */
    uint64_t level_updates; /* price_change entries applied to levels */
    uint64_t last_trades;
    uint64_t tick_changes;
    uint64_t best_bid_asks;
    uint64_t unknown_asset;   /* events or entries for tokens not in the store */
    uint64_t rejected;        /* malformed levels, entries and values skipped */
    uint64_t malformed;       /* events rejected whole */
    uint64_t stale_snapshots; /* snapshots older than the one applied */
    uint64_t hint_mismatches; /* best_bid/best_ask hints that disagreed with the levels */
} pf_book_stats_t;

typedef enum {
    PF_APPLY_OK = 0,
    PF_APPLY_IGNORED,  /* unknown token, stale snapshot */
    PF_APPLY_MALFORMED /* rejected; state unchanged */
} pf_apply_t;

/* Exported state of one token. Decimal fields are canonical text, NULL
 * meaning null (or, for tick_size, unknown); pointers live in the book. */
typedef struct {
    const char *token_id;
    const char *condition_id; /* "" when not given */
    const char *best_bid;
    const char *best_ask;
    const char *midpoint; /* four decimals, e.g. "0.5350" */
    const char *last_trade_price;
    const char *tick_size;
    int has_snapshot;
    int n_bids;
    int n_asks;
    unsigned dirty;
    unsigned known;         /* PF_DIRTY_* groups that have a value */
    int resync;             /* a hint disagreed with the levels */
    int64_t updated_ms;     /* now_ms of the last applied event */
    int64_t dirty_since_ms; /* origin of the oldest unwritten change (while dirty) */
} pf_quote_t;

/* All memory comes from p, which must outlive the store. Removed books are
 * recycled, so the store does not grow with churn. */
pf_book_store_t *pf_book_store_create(apr_pool_t *p);

/* Adds a token (or returns the existing book). NULL when token_id is not a
 * token id. condition_id may be NULL. */
pf_book_t *pf_book_store_add(pf_book_store_t *s, const char *token_id, const char *condition_id);
pf_book_t *pf_book_store_get(pf_book_store_t *s, const char *token_id);
/* Returns 1 when the token was present. */
int pf_book_store_remove(pf_book_store_t *s, const char *token_id);
int pf_book_store_count(const pf_book_store_t *s);
int pf_book_store_dirty_count(const pf_book_store_t *s);
const pf_book_stats_t *pf_book_store_stats(const pf_book_store_t *s);

/* Calls cb for every book until it returns non-zero. Do not add or remove
 * books from cb. */
void pf_book_store_foreach(pf_book_store_t *s, int (*cb)(void *baton, pf_book_t *b), void *baton);

/* Marks every known field of every book dirty (a new leader, or the
 * database came back empty-handed, and must rewrite everything). */
void pf_book_store_mark_all_dirty(pf_book_store_t *s);

/* The origin time (ms since the epoch) stamped on books that become dirty
 * from now on: the event's own "timestamp" for WebSocket events (set by
 * pf_ws_handle_frame), the receive time for REST snapshots. The writer
 * measures the delay from it to the commit. */
void pf_book_store_set_origin(pf_book_store_t *s, int64_t origin_ms);

/* Token ids (const char *, copied into p) whose hints disagreed with their
 * levels since the last call, and clears the flags: re-snapshot them. */
apr_array_header_t *pf_book_store_take_resync(pf_book_store_t *s, apr_pool_t *p);

void pf_book_quote(const pf_book_t *b, pf_quote_t *q);

/* Appends the side's depth as [["0.53","75"],...], best level first; at most
 * max_levels levels (0: all). */
void pf_book_depth_json(const pf_book_t *b, pf_side_t side, int max_levels, pf_buf_t *out);

/* ---- events (parsed JSON objects) ------------------------------------------ */

/* A WebSocket "book" event or a REST /book summary: replaces both sides
 * ("bids"/"asks", also the old "buys"/"sells"; levels as {"price","size"}
 * objects or [price, size] pairs), and tick_size / last_trade_price when
 * present. Ignored when its timestamp is older than the applied snapshot. */
pf_apply_t pf_book_apply_snapshot(pf_book_store_t *s, json_object *ev, int64_t now_ms);

/* "price_change": entries in "price_changes" (each with its asset_id, so
 * one event may update sibling tokens) or the pre-2025-09 "changes" with a
 * top-level asset_id. side BUY = bids, SELL = asks; size is the new
 * aggregate ("0" removes the level). OK when at least one entry applied. */
pf_apply_t pf_book_apply_price_change(pf_book_store_t *s, json_object *ev, int64_t now_ms);

/* "last_trade_price": price in [0, 1]. */
pf_apply_t pf_book_apply_last_trade(pf_book_store_t *s, json_object *ev, int64_t now_ms);

/* "tick_size_change": new_tick_size. */
pf_apply_t pf_book_apply_tick_size_change(pf_book_store_t *s, json_object *ev, int64_t now_ms);

/* "best_bid_ask": the top of book as a hint (see above). */
pf_apply_t pf_book_apply_best_bid_ask(pf_book_store_t *s, json_object *ev, int64_t now_ms);

/* A REST /books body (array of summaries) or /book body (one summary).
 * Returns NULL (with *applied snapshots counted) or a message. */
const char *pf_book_apply_rest_books(pf_book_store_t *s, apr_pool_t *scratch, const char *buf,
                                     apr_size_t len, int64_t now_ms, int *applied);

/* ---- text-level updates (REST, tests) -------------------------------------- */

/* Sets one level (size "0" removes it) on a book that has a snapshot.
 * Returns 1 when applied, 0 when price or size is malformed or the book has
 * no snapshot yet. */
int pf_book_set_level(pf_book_t *b, pf_side_t side, const char *price, const char *size);

/* ---- the dirty queue (used by pf_batch) ------------------------------------ */

/* Takes the oldest dirty book off the queue and clears its mask, returned
 * in *mask. NULL when nothing is dirty. */
pf_book_t *pf_book_store_pop_dirty(pf_book_store_t *s, unsigned *mask);

/* Puts mask back on token_id's book at the front of the queue (a failed
 * write), keeping the older origin time of since_ms and any newer change.
 * Bits already dirty stay; a removed token is skipped. */
void pf_book_store_requeue(pf_book_store_t *s, const char *token_id, unsigned mask,
                           int64_t since_ms);

#endif
