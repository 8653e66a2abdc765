/* The CLOB market WebSocket, parsing side: frames in, book updates and
 * market notifications out; subscription messages and the heartbeat text.
 * No I/O here: the daemon's connection code passes each text frame in.
 *
 * A frame is the text "PONG" (the reply to the client's "PING"), one JSON
 * event object, or a JSON array of them (the initial dump arrives as one
 * array of book events). Events are dispatched by event_type; unknown types
 * are counted and dropped, never fatal. */
#ifndef PF_WS_H
#define PF_WS_H

#include <apr_pools.h>
#include <stdint.h>

#include "pf_book.h"
#include "pf_gamma.h"

/* The heartbeat the client sends every ~10 s, and the server's reply. */
#define PF_WS_PING "PING"
#define PF_WS_PONG "PONG"

typedef enum {
    PF_EV_BOOK = 0,
    PF_EV_PRICE_CHANGE,
    PF_EV_LAST_TRADE_PRICE,
    PF_EV_TICK_SIZE_CHANGE,
    PF_EV_BEST_BID_ASK,
    PF_EV_NEW_MARKET,
    PF_EV_MARKET_RESOLVED,
    PF_EV_UNKNOWN, /* any other or missing event_type */
    PF_EV__COUNT
} pf_event_type_t;

pf_event_type_t pf_ws_event_type(const char *name);
const char *pf_ws_event_name(pf_event_type_t t);

typedef enum {
    PF_FRAME_EVENTS = 0, /* JSON object or array (possibly empty) */
    PF_FRAME_PONG,
    PF_FRAME_EMPTY,  /* nothing but whitespace */
    PF_FRAME_INVALID /* not JSON, or JSON that is not an object/array */
} pf_frame_kind_t;

/* Running totals the caller owns (one per connection or per daemon). */
typedef struct {
    uint64_t frames;
    uint64_t pongs;
    uint64_t invalid_frames;
    uint64_t events[PF_EV__COUNT]; /* by type; [PF_EV_UNKNOWN] = dropped unknown */
    uint64_t applied;
    uint64_t ignored; /* unknown tokens, stale snapshots */
    uint64_t malformed;
} pf_ws_stats_t;

/* A market_resolved event: a hint to confirm through REST (pf_clob_* /
 * pf_gamma_resolution); missed events are never replayed. */
typedef struct {
    const char *condition_id;     /* "market"; NULL when missing or malformed */
    const char *winning_asset_id; /* NULL when absent, "" or malformed */
    const char *winning_outcome;  /* a display label: never settle by it */
    /* WINNER when winning_asset_id is a token id (and one of assets_ids when
     * those are given); PENDING otherwise */
    pf_resolution_t hint;
} pf_ws_resolved_t;

typedef struct {
    int64_t now_ms; /* stamped on the books an event touches */
    /* new_market arrives for every market, subscribed or not */
    void (*on_new_market)(void *baton, const pf_market_t *m);
    void (*on_market_resolved)(void *baton, const pf_ws_resolved_t *r);
    void *baton;
    pf_ws_stats_t *stats; /* may be NULL */
} pf_ws_ctx_t;

/* What one frame held. */
typedef struct {
    pf_frame_kind_t kind;
    int events; /* objects seen */
    int applied;
    int ignored;
    int unknown; /* unknown event_type */
    int malformed;
} pf_frame_result_t;

/* Parses one text frame and applies its events to store. Temporary memory
 * (the JSON tree, callback arguments) comes from scratch: clear it after
 * each frame. ctx and res may be NULL. Returns res->kind. */
pf_frame_kind_t pf_ws_handle_frame(pf_book_store_t *store, apr_pool_t *scratch, const char *buf,
                                   apr_size_t len, const pf_ws_ctx_t *ctx, pf_frame_result_t *res);

/* Non-zero when the frame is the heartbeat reply (surrounding whitespace
 * allowed, any case). */
int pf_ws_is_pong(const char *buf, apr_size_t len);

/* The first message after connecting:
 * {"assets_ids":[…],"type":"market","initial_dump":true,"custom_feature_enabled":true}
 * NULL when an id is not a token id, or when n is 0 (with custom features an
 * empty list reportedly subscribes to every market). */
const char *pf_ws_subscribe_msg(apr_pool_t *p, const char *const *asset_ids, int n);

/* A later change on the same socket:
 * {"operation":"subscribe","assets_ids":[…],"custom_feature_enabled":true} or
 * {"operation":"unsubscribe","assets_ids":[…]}. NULL when an id is bad or n is 0. */
const char *pf_ws_operation_msg(apr_pool_t *p, int subscribe, const char *const *asset_ids, int n);

#endif
