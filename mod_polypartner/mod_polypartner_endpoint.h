/* The generic half of every endpoint: its row's path parameters, caller
 * and input turned into named values, and its statement run with them.
 * Handlers named in pp_routes.def are declared here. */
#ifndef MOD_POLYPARTNER_ENDPOINT_H
#define MOD_POLYPARTNER_ENDPOINT_H

#include "mod_polypartner_http.h"

/* Checks the path parameters, resolves the trader's account (trader
 * surface), reads the row's input, and fills rq->values. Returns 1; or 0
 * when an answer has been sent and the handler returns *rc. */
int pp_endpoint_prepare(pp_req_t *rq, int *rc);

/* Runs the row's statement with rq->values bound by name; as pp_db_row. */
int pp_endpoint_call(pp_req_t *rq, int ncols, const char **cols, int *rc);

/* The paged lists' signed cursor (pp_cursor), bound to rq->in's scope and
 * filters with the input's key. _in: text (NULL: none) becomes the values
 * after_1 and after_2; 0 when a 400 INVALID_CURSOR was sent (*rc). _out:
 * the text for a next position, or NULL (logged) when it cannot be made. */
int pp_endpoint_cursor_in(pp_req_t *rq, const char *text, int *rc);
const char *pp_endpoint_cursor_out(pp_req_t *rq, const char *next1, const char *next2);
/* Sends 200 {"data": <data>, "next_cursor": <cursor or null>}. */
int pp_endpoint_send_page(pp_req_t *rq, const char *data, const char *cursor);

/* The handlers of pp_routes.def. */
int pp_endpoint_respond(pp_req_t *rq);  /* prepare, call, send (status, body) */
int pp_endpoint_page(pp_req_t *rq);     /* the same for a paged list */
int pp_login_handle_link(pp_req_t *rq); /* mod_polypartner_login.c */
int pp_trader_me(pp_req_t *rq);         /* mod_polypartner_trader.c */
int pp_trader_logout(pp_req_t *rq);
int pp_signin_show(pp_req_t *rq); /* mod_polypartner_signin.c */
int pp_signin_redeem(pp_req_t *rq);
int pp_events_page(pp_req_t *rq); /* mod_polypartner_events.c */
int pp_events_stream(pp_req_t *rq);

#endif
