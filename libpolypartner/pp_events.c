#include "pp_events.h"
#include "pp_codec.h"
#include "pp_token.h"

#include <apr_strings.h>
#include <apr_tables.h>
#include <stdlib.h>
#include <string.h>

const char *const pp_events_types[] = {
    "account.created", "account.updated", "account.closed",   "account.reset", "order.placed",
    "order.cancelled", "trade.filled",    "position.settled", "day.started",   NULL
};

static int pp_events_is_type(const char *s, apr_size_t n)
{
    int i;
    for (i = 0; pp_events_types[i]; i++) {
        if (strlen(pp_events_types[i]) == n && memcmp(pp_events_types[i], s, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int pp_events_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *pp_events_parse_types(apr_pool_t *p, const char *list, const char **canonical)
{
    apr_array_header_t *seen = apr_array_make(p, 8, sizeof(const char *));
    const char *s = list, **items;
    char *out;
    int i, n = 0;

    *canonical = "";
    if (!list || !*list) {
        return NULL;
    }
    for (;;) {
        const char *end = strchr(s, ',');
        apr_size_t len = end ? (apr_size_t)(end - s) : strlen(s);
        if (!pp_events_is_type(s, len)) {
            return apr_psprintf(p,
                                "types must be a comma-separated list of event types "
                                "(account.created, account.updated, account.closed, "
                                "account.reset, order.placed, order.cancelled, trade.filled, "
                                "position.settled, day.started); \"%.*s\" is not one",
                                (int)(len > 64 ? 64 : len), s);
        }
        APR_ARRAY_PUSH(seen, const char *) = apr_pstrmemdup(p, s, len);
        if (!end) {
            break;
        }
        s = end + 1;
    }
    items = (const char **)seen->elts;
    qsort(items, (size_t)seen->nelts, sizeof(*items), pp_events_cmp);
    out = apr_palloc(p, strlen(list) + 1);
    out[0] = '\0';
    for (i = 0; i < seen->nelts; i++) {
        if (i > 0 && strcmp(items[i], items[i - 1]) == 0) {
            continue;
        }
        if (n++) {
            strcat(out, ",");
        }
        strcat(out, items[i]);
    }
    *canonical = out;
    return NULL;
}

const char *pp_events_scope(apr_pool_t *p, const char *tenant, const char *types,
                            const char *account_id)
{
    unsigned char digest[PP_SHA256_LEN];
    /* the parts cannot hold a newline: names, type lists and UUIDs */
    const char *text = apr_pstrcat(p, "events\n", tenant ? tenant : "", "\n", types ? types : "",
                                   "\n", account_id ? account_id : "", NULL);

    pp_token_sha256(text, strlen(text), digest);
    return pp_hex_encode(p, digest, 16);
}

static apr_size_t pp_events_skip_ws(const char *a, apr_size_t len, apr_size_t i)
{
    while (i < len && (a[i] == ' ' || a[i] == '\n' || a[i] == '\r' || a[i] == '\t')) {
        i++;
    }
    return i;
}

/* The end (one past the closing brace) of the object starting at a[i], or 0. */
static apr_size_t pp_events_object_end(const char *a, apr_size_t len, apr_size_t i)
{
    apr_size_t depth = 0;
    int in_string = 0, escaped = 0;

    for (; i < len; i++) {
        char c = a[i];
        if (in_string) {
            if (escaped) {
                escaped = 0;
            }
            else if (c == '\\') {
                escaped = 1;
            }
            else if (c == '"') {
                in_string = 0;
            }
            continue;
        }
        if (c == '"') {
            in_string = 1;
        }
        else if (c == '{' || c == '[') {
            depth++;
        }
        else if (c == '}' || c == ']') {
            if (depth == 0) {
                return 0;
            }
            if (--depth == 0) {
                return i + 1;
            }
        }
    }
    return 0;
}

int pp_events_next(apr_pool_t *p, const char *a, apr_size_t len, apr_size_t *pos, pp_event_t *out)
{
    static const char prefix[] = "{\"event_id\":";
    const apr_size_t plen = sizeof(prefix) - 1;
    apr_size_t i = pp_events_skip_ws(a, len, *pos), end, d;

    if (*pos == 0) {
        if (i >= len || a[i] != '[') {
            return -1;
        }
        i = pp_events_skip_ws(a, len, i + 1);
        if (i < len && a[i] == ']') {
            *pos = i;
            return 0;
        }
    }
    else {
        if (i < len && a[i] == ']') {
            *pos = i;
            return 0;
        }
        if (i >= len || a[i] != ',') {
            return -1;
        }
        i = pp_events_skip_ws(a, len, i + 1);
    }
    if (i >= len || a[i] != '{' || (end = pp_events_object_end(a, len, i)) == 0) {
        return -1;
    }
    if (end - i < plen + 2 || memcmp(a + i, prefix, plen) != 0) {
        return -1;
    }
    for (d = i + plen; d < end && a[d] >= '0' && a[d] <= '9'; d++) {
    }
    if (d == i + plen || d - (i + plen) > 19 || a[d] != ',') {
        return -1;
    }
    out->json = a + i;
    out->len = end - i;
    out->event_id = apr_pstrmemdup(p, a + i + plen, d - (i + plen));
    *pos = end;
    return 1;
}

const char *pp_events_sse_message(apr_pool_t *p, const char *id, const char *data, apr_size_t len,
                                  apr_size_t *out_len)
{
    apr_size_t idlen = strlen(id), lines = 1, i, k;
    char *out;

    for (i = 0; i < len; i++) {
        if (data[i] == '\n' || data[i] == '\r') {
            lines++;
        }
    }
    /* "id: " id "\n", per line "data: " ... "\n", and the blank line */
    out = apr_palloc(p, 4 + idlen + 1 + lines * 7 + len + 2);
    memcpy(out, "id: ", 4);
    memcpy(out + 4, id, idlen);
    k = 4 + idlen;
    out[k++] = '\n';
    memcpy(out + k, "data: ", 6);
    k += 6;
    for (i = 0; i < len; i++) {
        if (data[i] == '\r' || data[i] == '\n') {
            if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') {
                i++;
            }
            memcpy(out + k, "\ndata: ", 7);
            k += 7;
            continue;
        }
        out[k++] = data[i];
    }
    out[k++] = '\n';
    out[k++] = '\n';
    out[k] = '\0';
    *out_len = k;
    return out;
}
