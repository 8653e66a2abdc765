/* JSON in and out of request bodies (shared with the price feed: common/).
 *
 * json-c 0.16 in STRICT mode still accepts NaN/Infinity, duplicate keys and
 * silently clamps oversized integers; PostgreSQL's jsonb rejects \u0000 and
 * lone surrogates. pp_json_check is an RFC 8259 validator that rejects all of
 * these first, so json-c only ever builds trees from input we accept. */
#ifndef PP_JSON_H
#define PP_JSON_H

#include <apr_pools.h>
#include <json-c/json.h>

/* Deepest nesting a body may have (the top-level object is level 1). */
#define PP_JSON_MAX_DEPTH 16

/* NULL when buf[0..len) is one JSON object obeying our limits, otherwise a
 * message for the client naming the problem (and the field, where known). */
const char *pp_json_check(apr_pool_t *p, const char *buf, apr_size_t len, int max_depth);

/* The same rules for any top-level JSON value (arrays and scalars too), for
 * data that is not a request body (the price feed's upstream payloads),
 * except that \u0000 is accepted: whoever reads a string checks it. */
const char *pp_json_check_value(apr_pool_t *p, const char *buf, apr_size_t len, int max_depth);

/* Checks and parses a request body that must be a JSON object. The tree is
 * released by a cleanup on p. Returns NULL or a client-facing message. */
const char *pp_json_parse_object(apr_pool_t *p, const char *buf, apr_size_t len, json_object **out);

/* A JSON string literal (quotes included) for s, allocated in p. */
const char *pp_json_quote(apr_pool_t *p, const char *s);

/* Compact serialisation copied into p (json-c reuses its own buffer). */
const char *pp_json_serialize(apr_pool_t *p, json_object *o, apr_size_t *len);

/* Unicode code points in a valid UTF-8 string. */
apr_size_t pp_json_utf8_length(const char *s, apr_size_t len);

/* Field readers for a parsed object. Each returns NULL on success or a
 * client-facing message naming the field. */
const char *pp_json_string_field(apr_pool_t *p, json_object *obj, const char *name, int required,
                                 apr_size_t min_chars, apr_size_t max_chars, const char **out,
                                 apr_size_t *out_len);
/* An optional object member; absent or null leaves *out NULL. */
const char *pp_json_object_field(apr_pool_t *p, json_object *obj, const char *name,
                                 json_object **out);
/* Rejects members whose names are not in the NULL-terminated list. */
const char *pp_json_only_fields(apr_pool_t *p, json_object *obj, const char *const *allowed);

#endif
