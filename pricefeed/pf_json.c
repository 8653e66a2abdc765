#include "pf_json.h"
#include "pp_codec.h"
#include "pp_json.h"

#include <apr_strings.h>
#include <string.h>

/* ---- validation: the module's strict reader, shared (common/pp_json.c) ---- */

const char *pf_json_check(apr_pool_t *p, const char *buf, apr_size_t len, int max_depth)
{
    return pp_json_check_value(p, buf, len, max_depth);
}

static apr_status_t pf_json_release(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

const char *pf_json_parse(apr_pool_t *p, const char *buf, apr_size_t len, json_object **out)
{
    const char *err;
    struct json_tokener *tok;
    json_object *obj;

    *out = NULL;
    if (len > (apr_size_t)INT32_MAX) {
        return "invalid JSON: too long";
    }
    if ((err = pf_json_check(p, buf, len, PF_JSON_MAX_DEPTH)) != NULL) {
        return err;
    }
    tok = json_tokener_new_ex(PF_JSON_MAX_DEPTH + 1);
    if (!tok) {
        return "out of memory";
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    if (!obj && json_tokener_get_error(tok) == json_tokener_continue) {
        /* a number at the top level ends only at the end of input */
        obj = json_tokener_parse_ex(tok, "", 1);
    }
    if (json_tokener_get_error(tok) != json_tokener_success) {
        err = apr_psprintf(p, "invalid JSON: %s",
                           json_tokener_error_desc(json_tokener_get_error(tok)));
        json_tokener_free(tok);
        if (obj) json_object_put(obj);
        return err;
    }
    json_tokener_free(tok);
    /* a validated "null" parses to NULL, which callers treat as not an
     * object or array anyway */
    if (obj) {
        apr_pool_cleanup_register(p, obj, pf_json_release, apr_pool_cleanup_null);
    }
    *out = obj;
    return NULL;
}

/* ---- readers -------------------------------------------------------------- */

json_object *pf_json_get(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!obj || !json_object_is_type(obj, json_type_object)) {
        return NULL;
    }
    if (!json_object_object_get_ex(obj, key, &v)) {
        return NULL;
    }
    return v;
}

int pf_json_has(json_object *obj, const char *key)
{
    return obj && json_object_is_type(obj, json_type_object)
           && json_object_object_get_ex(obj, key, NULL);
}

const char *pf_json_string(json_object *v)
{
    const char *s;

    if (!v || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    s = json_object_get_string(v);
    if (!s || strlen(s) != (size_t)json_object_get_string_len(v)) {
        return NULL;
    }
    return s;
}

const char *pf_json_str_field(json_object *obj, const char *key)
{
    return pf_json_string(pf_json_get(obj, key));
}

pf_val_t pf_json_bool_field(json_object *obj, const char *key, int *out)
{
    json_object *v;

    if (!pf_json_has(obj, key)) {
        return PF_VAL_ABSENT;
    }
    v = pf_json_get(obj, key);
    if (!v) {
        return PF_VAL_NULL;
    }
    if (json_object_is_type(v, json_type_boolean)) {
        *out = json_object_get_boolean(v) ? 1 : 0;
        return PF_VAL_OK;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = pf_json_string(v);
        if (s && strcmp(s, "true") == 0) {
            *out = 1;
            return PF_VAL_OK;
        }
        if (s && strcmp(s, "false") == 0) {
            *out = 0;
            return PF_VAL_OK;
        }
    }
    return PF_VAL_INVALID;
}

pf_val_t pf_json_decimal(json_object *v, pf_dec_kind_t kind, char *out, apr_size_t outsz)
{
    const char *text;

    if (!v) {
        return PF_VAL_NULL;
    }
    switch (json_object_get_type(v)) {
    case json_type_string:
        text = pf_json_string(v);
        if (!text) {
            return PF_VAL_INVALID;
        }
        if (text[0] == '\0') {
            return PF_VAL_NULL;
        }
        break;
    case json_type_int:
    case json_type_double:
        /* the text as parsed: json-c keeps it for doubles, and integers are
         * in range (pf_json_check) so their text is exact */
        text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        if (!text) {
            return PF_VAL_INVALID;
        }
        break;
    default:
        return PF_VAL_INVALID;
    }
    return pf_decimal_parse(kind, text, strlen(text), out, outsz) ? PF_VAL_OK : PF_VAL_INVALID;
}

pf_val_t pf_json_decimal_field(json_object *obj, const char *key, pf_dec_kind_t kind, char *out,
                               apr_size_t outsz)
{
    if (!pf_json_has(obj, key)) {
        return PF_VAL_ABSENT;
    }
    return pf_json_decimal(pf_json_get(obj, key), kind, out, outsz);
}

pf_val_t pf_json_uint_field(json_object *obj, const char *key, int64_t *out)
{
    json_object *v;
    const char *s;
    int64_t n = 0;
    size_t i;

    if (!pf_json_has(obj, key)) {
        return PF_VAL_ABSENT;
    }
    v = pf_json_get(obj, key);
    if (!v) {
        return PF_VAL_NULL;
    }
    if (json_object_is_type(v, json_type_int)) {
        n = json_object_get_int64(v);
        if (n < 0) {
            return PF_VAL_INVALID;
        }
        *out = n;
        return PF_VAL_OK;
    }
    s = pf_json_string(v);
    if (!s) {
        return PF_VAL_INVALID;
    }
    if (s[0] == '\0') {
        return PF_VAL_NULL;
    }
    for (i = 0; s[i]; i++) {
        if (i >= 18 || s[i] < '0' || s[i] > '9') {
            return PF_VAL_INVALID;
        }
        n = n * 10 + (s[i] - '0');
    }
    *out = n;
    return PF_VAL_OK;
}

pf_val_t pf_json_inner_array(apr_pool_t *p, json_object *v, json_object **out)
{
    const char *s;
    json_object *inner;

    *out = NULL;
    if (!v) {
        return PF_VAL_NULL;
    }
    if (json_object_is_type(v, json_type_array)) {
        *out = v;
        return PF_VAL_OK;
    }
    s = pf_json_string(v);
    if (!s) {
        return PF_VAL_INVALID;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    if (*s == '\0') {
        return PF_VAL_NULL;
    }
    if (pf_json_parse(p, s, strlen(s), &inner) != NULL || !inner
        || !json_object_is_type(inner, json_type_array)) {
        return PF_VAL_INVALID;
    }
    *out = inner;
    return PF_VAL_OK;
}

int pf_is_token_id(const char *s)
{
    size_t n = 0;

    if (!s) return 0;
    for (; s[n]; n++) {
        if (n >= 78 || s[n] < '0' || s[n] > '9') {
            return 0;
        }
    }
    return n > 0;
}

int pf_is_condition_id(const char *s)
{
    size_t n = 0;

    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
        return 0;
    }
    for (s += 2; s[n]; n++) {
        if (n >= 64 || pp_hex_value((unsigned char)s[n]) < 0) {
            return 0;
        }
    }
    return n == 64 || n == 62;
}

/* ---- output --------------------------------------------------------------- */

void pf_buf_init(pf_buf_t *b, apr_pool_t *p, apr_size_t cap)
{
    b->p = p;
    b->cap = cap < 64 ? 64 : cap;
    b->s = apr_palloc(p, b->cap);
    b->len = 0;
    b->s[0] = '\0';
}

static void pf_buf_reserve(pf_buf_t *b, apr_size_t more)
{
    apr_size_t cap = b->cap;
    char *s;

    if (b->len + more + 1 <= b->cap) {
        return;
    }
    while (b->len + more + 1 > cap) {
        cap *= 2;
    }
    s = apr_palloc(b->p, cap);
    memcpy(s, b->s, b->len + 1);
    b->s = s;
    b->cap = cap;
}

void pf_buf_add(pf_buf_t *b, const char *s, apr_size_t n)
{
    pf_buf_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void pf_buf_puts(pf_buf_t *b, const char *s)
{
    pf_buf_add(b, s, strlen(s));
}

void pf_buf_quote(pf_buf_t *b, const char *s)
{
    const char *start = s, *q;

    pf_buf_add(b, "\"", 1);
    for (q = s; *q; q++) {
        unsigned char c = (unsigned char)*q;
        if (c != '"' && c != '\\' && c >= 0x20) {
            continue;
        }
        pf_buf_add(b, start, (apr_size_t)(q - start));
        start = q + 1;
        switch (c) {
        case '"':
            pf_buf_add(b, "\\\"", 2);
            break;
        case '\\':
            pf_buf_add(b, "\\\\", 2);
            break;
        case '\n':
            pf_buf_add(b, "\\n", 2);
            break;
        case '\r':
            pf_buf_add(b, "\\r", 2);
            break;
        case '\t':
            pf_buf_add(b, "\\t", 2);
            break;
        default: {
            char e[6] = { '\\', 'u', '0', '0', 0, 0 };
            pp_hex_byte(c, e + 4);
            pf_buf_add(b, e, 6);
        }
        }
    }
    pf_buf_add(b, start, (apr_size_t)(q - start));
    pf_buf_add(b, "\"", 1);
}

const char *pf_buf_str(pf_buf_t *b)
{
    return b->s;
}
