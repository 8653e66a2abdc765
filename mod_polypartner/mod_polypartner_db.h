/* PostgreSQL through mod_dbd. Every endpoint is one call of a PL/pgSQL
 * function returning (status integer, body text): one round trip.
 *
 * Each statement is prepared under a name once per connection (the server
 * then parses and plans it once, not at every request) and remembered with
 * the backend it was prepared on: the pgsql driver's PQreset after a lost
 * connection silently drops named statements, so a new backend starts an
 * empty cache. */
#ifndef MOD_POLYPARTNER_DB_H
#define MOD_POLYPARTNER_DB_H

#include "mod_polypartner_http.h"

/* Looks up mod_dbd's optional functions and sets up the shared bound on
 * requests waiting on the database; non-zero when mod_dbd is loaded. */
int pp_db_init(apr_pool_t *pconf, server_rec *s);

/* Runs sql (apr_dbd format, %s placeholders; NULL arguments bind SQL NULL)
 * and copies the first row's ncols columns into cols (NULL for SQL NULL).
 * The call runs under the read (GET/HEAD) or write time budget and the lock
 * budget; a database that is unreachable (after a brief wait for it), too
 * slow, busy, or already holding too many requests of this endpoint gets
 * 503 with Retry-After; any other failure 500. Returns 1; or 0 when the
 * response has been sent and the handler returns *rc. */
int pp_db_row(pp_req_t *rq, const char *sql, int nargs, const char **args, int ncols,
              const char **cols, int *rc);

/* For functions returning (status, body, ...): sends status and body. */
int pp_db_respond(pp_req_t *rq, const char *sql, int nargs, const char **args);

/* Sends the (status, body) of a row pp_db_row returned (500 if malformed). */
int pp_db_send_row(pp_req_t *rq, const char **cols);

/* Parses the status column of such a row; 0 if it is not an HTTP status. */
int pp_db_status(const char *text);

/* The request's own connection (mod_dbd's, the one pp_db_row uses; held
 * until the request ends), or NULL when there is none that works. */
struct pg_conn *pp_db_request_conn(pp_req_t *rq);

/* Has the database been found unreachable (and not answered since)? */
int pp_db_is_down(void);

#endif
