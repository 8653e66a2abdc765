/* PostgreSQL through mod_dbd. Every endpoint is one call of a PL/pgSQL
 * function returning (status integer, body text): one round trip.
 *
 * Statements are prepared without a server-side name (apr_dbd then uses
 * PQexecParams), because the pgsql driver's PQreset after a lost connection
 * silently drops named prepared statements. */
#ifndef MOD_POLYPARTNER_DB_H
#define MOD_POLYPARTNER_DB_H

#include "mod_polypartner_http.h"

/* Looks up mod_dbd's optional functions; non-zero when mod_dbd is loaded. */
int pp_db_init(void);

/* Runs sql (apr_dbd format, %s placeholders) with nargs string arguments
 * and sends the function's (status, body) as the response; answers 503 when
 * the database is unreachable and 500 when the call itself fails. */
int pp_db_respond(pp_req_t *rq, const char *sql, int nargs, const char **args);

#endif
