/* The tenant event feed, independent of httpd: the event types, the scope a
 * feed cursor is bound to, walking the events of a page the database
 * rendered, and Server-Sent Events framing. */
#ifndef PP_EVENTS_H
#define PP_EVENTS_H

#include <apr_pools.h>

/* Every type the feed may carry (day.started is accepted in filters but
 * not emitted yet), NULL-terminated. */
extern const char *const pp_events_types[];

/* A `types` filter: comma-separated known types. On success returns NULL
 * with *canonical the set sorted and without duplicates ("" when list is
 * NULL or empty: no filter); otherwise a message for the client. */
const char *pp_events_parse_types(apr_pool_t *p, const char *list, const char **canonical);

/* What a feed cursor is bound to: the tenant and the filters (canonical
 * types, lowercase account_id or ""), as 32 hex digits. */
const char *pp_events_scope(apr_pool_t *p, const char *tenant, const char *types,
                            const char *account_id);

/* One event of a page: the bytes of its JSON object and its event_id. */
typedef struct {
    const char *json;
    apr_size_t len;
    const char *event_id; /* decimal digits, NUL-terminated (in the pool) */
} pp_event_t;

/* Walks a page's data, a JSON array of event objects as the database
 * renders them (each begins with {"event_id":<digits>,). *pos starts at 0.
 * Returns 1 with the next event in *out, 0 at the end of the array, -1 when
 * the text is not such an array. */
int pp_events_next(apr_pool_t *p, const char *array, apr_size_t len, apr_size_t *pos,
                   pp_event_t *out);

/* An SSE message "id: <id>\ndata: <data>\n\n" (a line break inside data,
 * which our JSON never has, starts another data line, so the client
 * rebuilds the same text). *out_len gets its length. */
const char *pp_events_sse_message(apr_pool_t *p, const char *id, const char *data, apr_size_t len,
                                  apr_size_t *out_len);

#endif
