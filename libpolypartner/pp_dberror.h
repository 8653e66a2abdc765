/* What a failed database call means for the client. apr_dbd keeps only
 * libpq's error text, so the module asks libpq for verbose messages, which
 * carry the SQLSTATE ("ERROR:  57014: canceling statement ..."), and
 * classifies that code here. */
#ifndef PP_DBERROR_H
#define PP_DBERROR_H

typedef enum {
    PP_DBERROR_INTERNAL = 0, /* a defect or an unmigrated schema: 500 */
    PP_DBERROR_TIMEOUT,      /* statement or lock time budget exceeded: 503 */
    PP_DBERROR_TRANSIENT     /* contention, overload, shutdown, connection: 503 */
} pp_dberror_t;

/* The five-character SQLSTATE in a verbose libpq message, copied into
 * out[6]; returns 0 (and out = "") when the text carries none. */
int pp_dberror_sqlstate(const char *message, char out[6]);

/* The class of a SQLSTATE ("" or NULL: internal). */
pp_dberror_t pp_dberror_classify(const char *sqlstate);

#endif
