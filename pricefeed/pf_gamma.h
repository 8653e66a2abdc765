/* Market discovery and resolution: Gamma market objects (the keyset page,
 * a bare array, or one market), the CLOB market object, and the decision
 * of whether a market is tracked and how it resolved.
 *
 * Gamma sends outcomes, outcomePrices and clobTokenIds as JSON-encoded
 * strings inside the JSON; real arrays (third-party mirrors, the WebSocket)
 * are accepted too. Decimals may be strings or numbers and are kept as
 * canonical text. */
#ifndef PF_GAMMA_H
#define PF_GAMMA_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

/* Tri-state flags: 1 true, 0 false, or one of these. */
#define PF_FLAG_ABSENT  (-1) /* missing or null */
#define PF_FLAG_INVALID (-2) /* present but not a boolean */

typedef struct {
    const char *gamma_id;     /* Gamma "id" as text; NULL when absent */
    const char *condition_id; /* NULL when missing or malformed */
    const char *question;     /* "" when absent */
    const char *slug;         /* NULL when absent */
    int closed;
    int active;
    int enable_order_book;
    int accepting_orders;
    int neg_risk;
    int neg_risk_other;
    int n_outcomes; /* -1 when missing or malformed */
    const char **outcomes;
    int n_tokens;                /* -1 when missing or malformed */
    const char **token_ids;      /* clobTokenIds, else positionIds */
    int n_prices;                /* -1 when null, missing or malformed */
    const char **outcome_prices; /* canonical decimals in [0, 1] */
    const char *uma_status;      /* umaResolutionStatus; "" when absent */
    const char *tick_size;       /* orderPriceMinTickSize, canonical; NULL when unknown */
    /* a valid condition id, exactly two outcomes and two distinct token ids */
    int binary;
    /* binary, active, order book enabled, not closed, not a neg-risk
     * placeholder: subscribe it and list it */
    int tradable;
    const char *skip_reason; /* NULL when tradable */
    /* pp_upsert_market's p_tokens when binary (else NULL):
     * [{"token_id":"…","outcome":"Yes","tick_size":"0.01"},…] in outcome
     * order; tick_size only when known */
    const char *tokens_json;
} pf_market_t;

typedef struct {
    apr_array_header_t *markets; /* pf_market_t *, in page order */
    const char *next_cursor;     /* NULL on the last page (absent, null or "") */
    int n_tradable;
    int n_not_objects; /* array entries that were not objects */
} pf_gamma_page_t;

/* A /markets/keyset page {"markets":[…],"next_cursor":"…"} or a bare array
 * (legacy /markets). Returns NULL, or a message when the body is not JSON
 * or has neither shape (a {"error":…} body is reported with its message).
 * Individual malformed markets never fail the page: they come back with
 * tradable 0 and a skip_reason. */
const char *pf_gamma_parse_page(apr_pool_t *p, const char *buf, apr_size_t len,
                                pf_gamma_page_t *out);

/* One Gamma market object (GET /markets/{id}, /markets/slug/{slug}). */
const char *pf_gamma_parse_market(apr_pool_t *p, const char *buf, apr_size_t len,
                                  pf_market_t **out);

/* The record for one parsed Gamma market object. */
pf_market_t *pf_gamma_market_from_json(apr_pool_t *p, json_object *obj);

/* The record for a WebSocket new_market event (real arrays, snake_case,
 * "market" or "condition_id"). Fields the event does not carry stay
 * PF_FLAG_ABSENT; confirm tradability through Gamma before relying on it. */
pf_market_t *pf_market_from_new_market_event(apr_pool_t *p, json_object *ev);

/* ---- resolution ------------------------------------------------------------ */

typedef enum {
    PF_RES_PENDING = 0, /* not resolved (yet): do not settle */
    PF_RES_WINNER,      /* settle: winning_token_id pays 1.00, the other 0.00 */
    PF_RES_VOID,        /* settle 50/50: pp_settle_market(condition_id, NULL) */
    PF_RES_INVALID      /* the source contradicts itself: do not settle, log */
} pf_res_kind_t;

typedef struct {
    pf_res_kind_t kind;
    const char *winning_token_id; /* PF_RES_WINNER only */
    const char *reason;           /* human-readable, never NULL */
} pf_resolution_t;

const char *pf_res_kind_name(pf_res_kind_t kind);

/* From Gamma: WINNER when closed, umaResolutionStatus "resolved" and the
 * outcome prices are exactly 1 and 0 (the winner is the token at the "1");
 * VOID when resolved with 0.5 and 0.5. A closed market at 0.5/0.5 that is
 * not "resolved" is PENDING, and prices are never "argmaxed". */
void pf_gamma_resolution(const pf_market_t *m, pf_resolution_t *r);

typedef struct {
    const char *token_id; /* NULL when malformed */
    const char *outcome;  /* label, display only */
    const char *price;    /* canonical, NULL when absent or malformed */
    int winner;           /* 1, 0, or PF_FLAG_* */
} pf_clob_token_t;

typedef struct {
    const char *condition_id; /* NULL when missing or malformed */
    int closed;
    int active;
    int accepting_orders;
    int enable_order_book;
    int is_50_50_outcome;
    const char *tick_size; /* minimum_tick_size, canonical; NULL when unknown */
    int n_tokens;          /* 0 for "tokens": null */
    pf_clob_token_t *tokens;
    int tokens_valid; /* every token has an id and a boolean winner flag */
} pf_clob_market_t;

/* The CLOB GET /markets/{condition_id} object. A {"error":…} body is
 * returned as the message. */
const char *pf_clob_parse_market(apr_pool_t *p, const char *buf, apr_size_t len,
                                 pf_clob_market_t **out);

/* From the CLOB: WINNER when closed with exactly one tokens[].winner (by
 * token id, never by label); VOID when closed with is_50_50_outcome and no
 * winner; PENDING otherwise (a closed market without a winner flag is not
 * argmaxed by price). expected_condition_id, when not NULL, must match. */
void pf_clob_resolution(const pf_clob_market_t *c, const char *expected_condition_id,
                        pf_resolution_t *r);

#endif
