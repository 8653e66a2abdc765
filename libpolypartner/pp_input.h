/* What an endpoint reads from the request besides its path: a JSON body or
 * a query string, checked and turned into named values for its statement
 * (see pp_routes.def). */
#ifndef PP_INPUT_H
#define PP_INPUT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "pp_tenant.h"

typedef struct {
    apr_pool_t *pool;
    const char *body; /* inputs that read a body: NUL-terminated */
    apr_size_t body_len;
    const char *query;         /* the raw query string, or NULL */
    const pp_tenant_t *tenant; /* the caller's tenant, or NULL (public, trader me) */
    apr_table_t *values;       /* out: name -> value; an absent name binds SQL NULL */
    const char *message;       /* out, on failure: for the client */
    /* out, paged inputs: the cursor given (NULL: the first page), what it
     * must have been issued for (NULL scope: the path's account_id) */
    const char *cursor;
    const char *cursor_scope;
    const char *cursor_filter[2];
} pp_input_req_t;

typedef struct {
    int body;                 /* reads a JSON body */
    const char *const *names; /* the values parse may set, NULL-terminated */
    /* -1 on success; else the error (a pp_error_t) with in->message */
    int (*parse)(pp_input_req_t *in);
    /* paged inputs: the label of the cursor's signing key ("" the server's
     * cursor key itself) and the message for a cursor that is not theirs;
     * NULL for the others */
    const char *cursor_key;
    const char *cursor_refused;
} pp_input_t;

extern const pp_input_t pp_input_none;
extern const pp_input_t pp_input_json_body; /* any JSON object, as :body */
extern const pp_input_t pp_input_user_registration;
extern const pp_input_t pp_input_login_link;
extern const pp_input_t pp_input_account_creation;
extern const pp_input_t pp_input_account_patch;
extern const pp_input_t pp_input_order;
extern const pp_input_t pp_input_trades_query;
extern const pp_input_t pp_input_orders_query;
extern const pp_input_t pp_input_days_query;
extern const pp_input_t pp_input_markets_query;
extern const pp_input_t pp_input_events_query;  /* GET /v1/partner/events */
extern const pp_input_t pp_input_events_stream; /* its stream */

/* Runs input's parse with the request's parts; -1 or the error. */
int pp_input_read(const pp_input_t *input, pp_input_req_t *in);

#endif
