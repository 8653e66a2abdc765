/* JSON in: a strict validator in front of json-c, and typed readers that
 * never coerce. JSON out: a small pool-backed string builder.
 *
 * json-c 0.16 in STRICT mode still accepts duplicate keys (the last one
 * wins) and clamps integers outside the 64-bit range; its getters coerce
 * (json_object_get_string of a number returns its text, get_double of a
 * string parses it). pf_json_parse therefore validates the text first
 * (RFC 8259, well-formed UTF-8, no duplicate keys, no out-of-range
 * integers, bounded nesting), and the readers below check JSON types
 * before reading. Decimals are read as text: a JSON number's value is taken
 * from the text json-c kept while parsing, never through a double. */
#ifndef PF_JSON_H
#define PF_JSON_H

#include <apr_pools.h>
#include <json-c/json.h>
#include <stdint.h>

#include "pf_decimal.h"

/* Deepest nesting accepted (the top-level value is level 1). */
#define PF_JSON_MAX_DEPTH 32

/* NULL when buf[0..len) is one JSON value obeying the rules above, else a
 * message naming the problem and its byte offset (allocated in p). */
const char *pf_json_check(apr_pool_t *p, const char *buf, apr_size_t len, int max_depth);

/* Checks then parses buf[0..len). The tree is released by a cleanup on p.
 * Returns NULL, or a message. */
const char *pf_json_parse(apr_pool_t *p, const char *buf, apr_size_t len, json_object **out);

/* Outcome of reading an optional value. */
typedef enum {
    PF_VAL_ABSENT = 0, /* key missing */
    PF_VAL_NULL,       /* JSON null, or "" where a decimal was expected */
    PF_VAL_OK,
    PF_VAL_INVALID /* present with the wrong type or an unacceptable value */
} pf_val_t;

/* The member, or NULL when obj is not an object or has no such key
 * (a JSON null member is returned as NULL too: use pf_json_has to tell). */
json_object *pf_json_get(json_object *obj, const char *key);
int pf_json_has(json_object *obj, const char *key);

/* A JSON string's value when it holds no NUL byte, else NULL (numbers,
 * booleans and the rest are not turned into strings). */
const char *pf_json_string(json_object *v);
const char *pf_json_str_field(json_object *obj, const char *key);

/* A boolean member: PF_VAL_OK with *out 0/1 for true/false or the strings
 * "true"/"false" (third-party mirrors send them); ABSENT, NULL or INVALID. */
pf_val_t pf_json_bool_field(json_object *obj, const char *key, int *out);

/* A decimal from a JSON string or a JSON number, canonicalised and checked
 * for the kind (pf_decimal_parse). "" and null are PF_VAL_NULL. v may be
 * NULL (absent). */
pf_val_t pf_json_decimal(json_object *v, pf_dec_kind_t kind, char *out, apr_size_t outsz);
pf_val_t pf_json_decimal_field(json_object *obj, const char *key, pf_dec_kind_t kind, char *out,
                               apr_size_t outsz);

/* A non-negative integer (epoch milliseconds and the like) from a string of
 * 1..18 digits or a JSON integer. "" and null are PF_VAL_NULL. */
pf_val_t pf_json_uint_field(json_object *obj, const char *key, int64_t *out);

/* A list that Gamma sends as a JSON-encoded string ("[\"Yes\", \"No\"]") and
 * mirrors as a real array: both are accepted. null and "" are PF_VAL_NULL;
 * a string that does not decode to an array is PF_VAL_INVALID. Decoded
 * trees are released by a cleanup on p. */
pf_val_t pf_json_inner_array(apr_pool_t *p, json_object *v, json_object **out);

/* Identifiers. Token ids: 1..78 decimal digits (uint256 as text). Condition
 * ids: "0x" + 64 hex digits, or 62 for the newer bytes31 ids. */
int pf_is_token_id(const char *s);
int pf_is_condition_id(const char *s);

/* ---- output --------------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    char *s;
    apr_size_t len;
    apr_size_t cap;
} pf_buf_t;

void pf_buf_init(pf_buf_t *b, apr_pool_t *p, apr_size_t cap);
void pf_buf_add(pf_buf_t *b, const char *s, apr_size_t n);
void pf_buf_puts(pf_buf_t *b, const char *s);
/* Appends s as a JSON string literal (quotes, escapes; UTF-8 kept as is). */
void pf_buf_quote(pf_buf_t *b, const char *s);
/* The NUL-terminated text (valid until the next append). */
const char *pf_buf_str(pf_buf_t *b);

#endif
