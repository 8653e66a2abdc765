#include "pp_json.h"
#include "pp_codec.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <string.h>

/* ---- validator ---------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    const unsigned char *s;
    apr_size_t len;
    apr_size_t pos;
    int depth;
    int max_depth;
    const char *field; /* the top-level member being scanned, for messages */
    const char *what;  /* "request body" or "input", for messages */
    int allow_nul;     /* accept \u0000 (callers check each string they use) */
    const char *err;
} pp_jscan_t;

static int pp_jscan_value(pp_jscan_t *sc);

static int pp_jscan_fail(pp_jscan_t *sc, const char *what)
{
    if (!sc->err) {
        if (sc->field) {
            sc->err = apr_psprintf(sc->p, "field \"%s\": %s", sc->field, what);
        }
        else {
            sc->err = apr_psprintf(sc->p, "%s is not valid JSON: %s at byte %" APR_SIZE_T_FMT,
                                   sc->what, what, sc->pos);
        }
    }
    return 0;
}

static void pp_jscan_ws(pp_jscan_t *sc)
{
    while (sc->pos < sc->len) {
        unsigned char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        sc->pos++;
    }
}

static int pp_jscan_hex4(pp_jscan_t *sc, unsigned *out)
{
    unsigned char b[2];
    apr_size_t bad;
    if (sc->len - sc->pos < 4) {
        return pp_jscan_fail(sc, "truncated \\u escape");
    }
    if (!pp_hex_decode((const char *)sc->s + sc->pos, 4, b, &bad)) {
        return pp_jscan_fail(sc, "invalid \\u escape");
    }
    sc->pos += 4;
    *out = ((unsigned)b[0] << 8) | b[1];
    return 1;
}

static void pp_utf8_put(char *buf, apr_size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        buf[(*n)++] = (char)cp;
    }
    else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xE0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    else {
        buf[(*n)++] = (char)(0xF0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static apr_size_t pp_utf8_seq(const unsigned char *s, apr_size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        return (avail >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = (c == 0xE0) ? 0xA0 : 0x80, hi = (c == 0xED) ? 0x9F : 0xBF;
        return (avail >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = (c == 0xF0) ? 0x90 : 0x80, hi = (c == 0xF4) ? 0x8F : 0xBF;
        return (avail >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80
                && (s[3] & 0xC0) == 0x80)
                   ? 4
                   : 0;
    }
    return 0;
}

/* Scans a string at sc->pos (the opening quote). With out != NULL the
 * decoded bytes are returned (keys need them to detect duplicates). */
static int pp_jscan_string(pp_jscan_t *sc, const char **out, apr_size_t *out_len)
{
    char *buf = NULL;
    apr_size_t n = 0;
    apr_size_t start;

    sc->pos++; /* opening quote */
    start = sc->pos;
    if (out) {
        /* decoded text is never longer than the encoded text */
        apr_size_t i = start;
        while (i < sc->len && sc->s[i] != '"') {
            i += (sc->s[i] == '\\') ? 2 : 1;
        }
        buf = apr_palloc(sc->p, (i < sc->len ? i : sc->len) - start + 1);
    }
    for (;;) {
        unsigned char c;
        if (sc->pos >= sc->len) {
            return pp_jscan_fail(sc, "unterminated string");
        }
        c = sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            break;
        }
        if (c < 0x20) {
            return pp_jscan_fail(sc, "control character in string");
        }
        if (c == '\\') {
            unsigned char e;
            sc->pos++;
            if (sc->pos >= sc->len) {
                return pp_jscan_fail(sc, "unterminated string");
            }
            e = sc->s[sc->pos++];
            switch (e) {
            case '"':
            case '\\':
            case '/':
                if (buf) buf[n++] = (char)e;
                break;
            case 'b':
                if (buf) buf[n++] = '\b';
                break;
            case 'f':
                if (buf) buf[n++] = '\f';
                break;
            case 'n':
                if (buf) buf[n++] = '\n';
                break;
            case 'r':
                if (buf) buf[n++] = '\r';
                break;
            case 't':
                if (buf) buf[n++] = '\t';
                break;
            case 'u': {
                unsigned cp, lo;
                if (!pp_jscan_hex4(sc, &cp)) return 0;
                if (cp == 0 && !sc->allow_nul) {
                    return pp_jscan_fail(sc, "the NUL character (\\u0000) is not allowed");
                }
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return pp_jscan_fail(sc, "lone low surrogate in \\u escape");
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (sc->len - sc->pos < 2 || sc->s[sc->pos] != '\\'
                        || sc->s[sc->pos + 1] != 'u') {
                        return pp_jscan_fail(sc, "lone high surrogate in \\u escape");
                    }
                    sc->pos += 2;
                    if (!pp_jscan_hex4(sc, &lo)) return 0;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        return pp_jscan_fail(sc, "lone high surrogate in \\u escape");
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (buf) pp_utf8_put(buf, &n, cp);
                break;
            }
            default:
                return pp_jscan_fail(sc, "invalid escape in string");
            }
            continue;
        }
        {
            apr_size_t k = pp_utf8_seq(sc->s + sc->pos, sc->len - sc->pos);
            if (!k) {
                return pp_jscan_fail(sc, "invalid UTF-8 in string");
            }
            if (buf) {
                memcpy(buf + n, sc->s + sc->pos, k);
                n += k;
            }
            sc->pos += k;
        }
    }
    if (out) {
        buf[n] = '\0';
        *out = buf;
        *out_len = n;
    }
    return 1;
}

static int pp_isdigit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int pp_jscan_number(pp_jscan_t *sc)
{
    apr_size_t start = sc->pos, int_start, int_len;
    int negative = 0, integral = 1;

    if (sc->s[sc->pos] == '-') {
        negative = 1;
        sc->pos++;
    }
    int_start = sc->pos;
    if (sc->pos >= sc->len || !pp_isdigit(sc->s[sc->pos])) {
        return pp_jscan_fail(sc, "invalid number");
    }
    if (sc->s[sc->pos] == '0') {
        sc->pos++;
        if (sc->pos < sc->len && pp_isdigit(sc->s[sc->pos])) {
            return pp_jscan_fail(sc, "number with a leading zero");
        }
    }
    else {
        while (sc->pos < sc->len && pp_isdigit(sc->s[sc->pos])) sc->pos++;
    }
    int_len = sc->pos - int_start;
    if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
        integral = 0;
        sc->pos++;
        if (sc->pos >= sc->len || !pp_isdigit(sc->s[sc->pos])) {
            return pp_jscan_fail(sc, "invalid number");
        }
        while (sc->pos < sc->len && pp_isdigit(sc->s[sc->pos])) sc->pos++;
    }
    if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
        integral = 0;
        sc->pos++;
        if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-')) sc->pos++;
        if (sc->pos >= sc->len || !pp_isdigit(sc->s[sc->pos])) {
            return pp_jscan_fail(sc, "invalid number");
        }
        while (sc->pos < sc->len && pp_isdigit(sc->s[sc->pos])) sc->pos++;
    }
    if (integral) {
        /* json-c 0.16 clamps integers outside int64 without telling anyone */
        const char *limit = negative ? "9223372036854775808" : "9223372036854775807";
        if (int_len > 19 || (int_len == 19 && memcmp(sc->s + int_start, limit, 19) > 0)) {
            sc->pos = start;
            return pp_jscan_fail(sc, "integer out of the 64-bit range");
        }
    }
    return 1;
}

static int pp_jscan_literal(pp_jscan_t *sc, const char *lit)
{
    apr_size_t n = strlen(lit);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, lit, n) != 0) {
        return pp_jscan_fail(sc, "unexpected token");
    }
    sc->pos += n;
    return 1;
}

static int pp_jscan_enter(pp_jscan_t *sc)
{
    if (++sc->depth > sc->max_depth) {
        return pp_jscan_fail(sc,
                             apr_psprintf(sc->p, "nesting deeper than %d levels", sc->max_depth));
    }
    return 1;
}

static int pp_jscan_object(pp_jscan_t *sc)
{
    apr_pool_t *outer = sc->p, *scratch;
    apr_hash_t *seen;
    int ok = 0;

    if (!pp_jscan_enter(sc)) return 0;
    sc->pos++; /* { */
    pp_jscan_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
        sc->pos++;
        sc->depth--;
        return 1;
    }
    /* key sets live only while their object is scanned */
    if (apr_pool_create(&scratch, outer) != APR_SUCCESS) {
        return pp_jscan_fail(sc, "out of memory");
    }
    seen = apr_hash_make(scratch);
    for (;;) {
        const char *key;
        apr_size_t key_len;
        int top = (sc->depth == 1);

        pp_jscan_ws(sc);
        if (sc->pos >= sc->len) {
            pp_jscan_fail(sc, "unexpected end of input");
            goto done;
        }
        if (sc->s[sc->pos] != '"') {
            pp_jscan_fail(sc, "expected a member name");
            goto done;
        }
        sc->p = scratch;
        if (!pp_jscan_string(sc, &key, &key_len)) {
            sc->p = outer;
            goto done;
        }
        sc->p = outer;
        if (top) {
            sc->field = NULL;
        }
        if (apr_hash_get(seen, key, (apr_ssize_t)key_len)) {
            pp_jscan_fail(sc, apr_psprintf(outer, "duplicate key \"%s\"", key));
            goto done;
        }
        apr_hash_set(seen, key, (apr_ssize_t)key_len, "");
        pp_jscan_ws(sc);
        if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
            pp_jscan_fail(sc, "expected ':'");
            goto done;
        }
        sc->pos++;
        if (top) {
            sc->field = apr_pstrmemdup(outer, key, key_len);
        }
        if (!pp_jscan_value(sc)) goto done;
        if (top) {
            sc->field = NULL;
        }
        pp_jscan_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
            sc->pos++;
            continue;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
            sc->pos++;
            break;
        }
        pp_jscan_fail(sc, "expected ',' or '}'");
        goto done;
    }
    sc->depth--;
    ok = 1;
done:
    apr_pool_destroy(scratch);
    return ok;
}

static int pp_jscan_array(pp_jscan_t *sc)
{
    if (!pp_jscan_enter(sc)) return 0;
    sc->pos++; /* [ */
    pp_jscan_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
        sc->pos++;
        sc->depth--;
        return 1;
    }
    for (;;) {
        if (!pp_jscan_value(sc)) return 0;
        pp_jscan_ws(sc);
        if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
            sc->pos++;
            continue;
        }
        if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
            sc->pos++;
            break;
        }
        return pp_jscan_fail(sc, "expected ',' or ']'");
    }
    sc->depth--;
    return 1;
}

static int pp_jscan_value(pp_jscan_t *sc)
{
    pp_jscan_ws(sc);
    if (sc->pos >= sc->len) {
        return pp_jscan_fail(sc, "unexpected end of input");
    }
    switch (sc->s[sc->pos]) {
    case '{':
        return pp_jscan_object(sc);
    case '[':
        return pp_jscan_array(sc);
    case '"':
        return pp_jscan_string(sc, NULL, NULL);
    case 't':
        return pp_jscan_literal(sc, "true");
    case 'f':
        return pp_jscan_literal(sc, "false");
    case 'n':
        return pp_jscan_literal(sc, "null");
    default:
        if (sc->s[sc->pos] == '-' || pp_isdigit(sc->s[sc->pos])) {
            return pp_jscan_number(sc);
        }
        return pp_jscan_fail(sc, "unexpected token (NaN, Infinity and comments are not JSON)");
    }
}

static const char *pp_json_check_input(apr_pool_t *p, const char *buf, apr_size_t len,
                                       int max_depth, int require_object)
{
    pp_jscan_t sc;

    memset(&sc, 0, sizeof(sc));
    sc.p = p;
    sc.s = (const unsigned char *)buf;
    sc.len = len;
    sc.max_depth = max_depth;
    sc.what = require_object ? "request body" : "input";
    /* jsonb cannot store \u0000, so bodies refuse it; upstream data may
     * carry one in a string nobody reads, which must not sink the rest */
    sc.allow_nul = !require_object;

    pp_jscan_ws(&sc);
    if (sc.pos >= sc.len) {
        return require_object ? "request body is empty: a JSON object is required"
                              : "input is empty";
    }
    if (require_object && sc.s[sc.pos] != '{') {
        return "request body must be a JSON object";
    }
    if (!pp_jscan_value(&sc)) {
        return sc.err;
    }
    pp_jscan_ws(&sc);
    if (sc.pos != sc.len) {
        pp_jscan_fail(&sc, require_object ? "trailing characters after the JSON object"
                                          : "trailing characters after the JSON value");
        return sc.err;
    }
    return NULL;
}

const char *pp_json_check(apr_pool_t *p, const char *buf, apr_size_t len, int max_depth)
{
    return pp_json_check_input(p, buf, len, max_depth, 1);
}

const char *pp_json_check_value(apr_pool_t *p, const char *buf, apr_size_t len, int max_depth)
{
    return pp_json_check_input(p, buf, len, max_depth, 0);
}

/* ---- parse, serialise --------------------------------------------------- */

static apr_status_t pp_json_release(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

const char *pp_json_parse_object(apr_pool_t *p, const char *buf, apr_size_t len, json_object **out)
{
    const char *err;
    json_tokener *tok;
    json_object *o;
    enum json_tokener_error jerr;
    char *copy;

    *out = NULL;
    if ((err = pp_json_check(p, buf, len, PP_JSON_MAX_DEPTH)) != NULL) {
        return err;
    }
    /* json-c needs the terminating NUL in the length to know input ended */
    copy = apr_pstrmemdup(p, buf, len);
    tok = json_tokener_new_ex(PP_JSON_MAX_DEPTH + 1);
    if (!tok) {
        return "request body could not be parsed";
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, copy, (int)len + 1);
    jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success || !o) {
        json_object_put(o);
        return apr_psprintf(p, "request body is not valid JSON: %s", json_tokener_error_desc(jerr));
    }
    apr_pool_cleanup_register(p, o, pp_json_release, apr_pool_cleanup_null);
    if (!json_object_is_type(o, json_type_object)) {
        return "request body must be a JSON object";
    }
    *out = o;
    return NULL;
}

const char *pp_json_quote(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0, len = strlen(s), i;
    char *out = apr_palloc(p, len * 6 + 3);

    out[n++] = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            out[n++] = '\\';
            out[n++] = '"';
            break;
        case '\\':
            out[n++] = '\\';
            out[n++] = '\\';
            break;
        case '\n':
            out[n++] = '\\';
            out[n++] = 'n';
            break;
        case '\r':
            out[n++] = '\\';
            out[n++] = 'r';
            break;
        case '\t':
            out[n++] = '\\';
            out[n++] = 't';
            break;
        default:
            if (c < 0x20 || c == 0x7F) {
                out[n++] = '\\';
                out[n++] = 'u';
                out[n++] = '0';
                out[n++] = '0';
                pp_hex_byte(c, out + n);
                n += 2;
            }
            else {
                out[n++] = (char)c;
            }
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    return out;
}

const char *pp_json_serialize(apr_pool_t *p, json_object *o, apr_size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (len) {
        *len = n;
    }
    return apr_pstrmemdup(p, s, n);
}

apr_size_t pp_json_utf8_length(const char *s, apr_size_t len)
{
    apr_size_t i, n = 0;
    for (i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* ---- field readers ------------------------------------------------------ */

static const char *pp_json_type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
    case json_type_int:
        return "a number";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "unknown";
}

const char *pp_json_string_field(apr_pool_t *p, json_object *obj, const char *name, int required,
                                 apr_size_t min_chars, apr_size_t max_chars, const char **out,
                                 apr_size_t *out_len)
{
    json_object *v = NULL;
    const char *s;
    apr_size_t len, chars;

    *out = NULL;
    if (out_len) *out_len = 0;
    if (!json_object_object_get_ex(obj, name, &v) || v == NULL) {
        return required ? apr_psprintf(p, "field \"%s\" is required", name) : NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        return apr_psprintf(p, "field \"%s\" must be a string, not %s", name, pp_json_type_name(v));
    }
    s = json_object_get_string(v);
    len = (apr_size_t)json_object_get_string_len(v);
    chars = pp_json_utf8_length(s, len);
    if (chars < min_chars || chars > max_chars) {
        return apr_psprintf(p,
                            "field \"%s\" must be %" APR_SIZE_T_FMT "-%" APR_SIZE_T_FMT
                            " characters long",
                            name, min_chars, max_chars);
    }
    *out = apr_pstrmemdup(p, s, len);
    if (out_len) *out_len = len;
    return NULL;
}

const char *pp_json_object_field(apr_pool_t *p, json_object *obj, const char *name,
                                 json_object **out)
{
    json_object *v = NULL;

    *out = NULL;
    if (!json_object_object_get_ex(obj, name, &v) || v == NULL) {
        return NULL;
    }
    if (!json_object_is_type(v, json_type_object)) {
        return apr_psprintf(p, "field \"%s\" must be a JSON object, not %s", name,
                            pp_json_type_name(v));
    }
    *out = v;
    return NULL;
}

const char *pp_json_only_fields(apr_pool_t *p, json_object *obj, const char *const *allowed)
{
    json_object_object_foreach(obj, key, val) {
        const char *const *a;
        int known = 0;
        (void)val;
        for (a = allowed; *a; a++) {
            if (strcmp(*a, key) == 0) {
                known = 1;
                break;
            }
        }
        if (!known) {
            return apr_psprintf(p, "unknown field \"%s\"", key);
        }
    }
    return NULL;
}
