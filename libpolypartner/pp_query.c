#include "pp_query.h"
#include "pp_accounts.h"
#include "pp_codec.h"
#include "pp_events.h"

#include <apr_strings.h>
#include <string.h>

/* Names and values: '+' is a space, and a NUL (literal or %00) is refused. */
#define PP_QUERY_PCT_FLAGS (PP_PCT_PLUS_SPACE | PP_PCT_REFUSE_NUL)

/* ASCII-only case-insensitive equality (no locale). */
static int pp_query_eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y - 'A' + 'a');
        if (x != y) {
            return 0;
        }
    }
    return *a == *b;
}

/* Well-formed UTF-8 (RFC 3629: no overlongs, surrogates or values past
 * U+10FFFF) without control characters (C0, DEL, C1). */
static int pp_query_is_clean_utf8(const unsigned char *s, apr_size_t n)
{
    apr_size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        unsigned cp;
        apr_size_t len, j;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                return 0;
            }
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1fu;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0fu;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07u;
        }
        else return 0;
        if (n - i < len) {
            return 0;
        }
        for (j = 1; j < len; j++) {
            if ((s[i + j] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + j] & 0x3fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f)) {
            return 0;
        }
        i += len;
    }
    return 1;
}

/* A plain decimal in [1, PP_TRADES_LIMIT_MAX]: digits only (leading zeros
 * allowed, no sign, space, point or exponent), without overflow. */
static int pp_query_parse_limit(const char *s, int *out)
{
    long v = 0;

    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
        v = v * 10 + (*s - '0');
        if (v > PP_TRADES_LIMIT_MAX) {
            return 0; /* stop before any overflow */
        }
    }
    if (v < 1) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

enum {
    PP_Q_LIMIT,
    PP_Q_CURSOR,
    PP_Q_SIDE,
    PP_Q_MARKET,
    PP_Q_SEARCH,
    PP_Q_TYPES,
    PP_Q_ACCOUNT,
    PP_Q_WAIT,
    PP_Q_COUNT
};
static const char *const pp_query_names[PP_Q_COUNT] = { "limit",      "cursor", "side",
                                                        "market_id",  "search", "types",
                                                        "account_id", "wait" };

typedef struct {
    int limit, wait;
    const char *side, *market_id, *cursor, *search, *types, *account_id;
} pp_query_all_t;

/* wait: whole seconds 0..PP_EVENTS_WAIT_MAX, digits only. */
static int pp_query_parse_wait(const char *s, int *out)
{
    int v = 0;

    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || (v = v * 10 + (*s - '0')) > PP_EVENTS_WAIT_MAX) {
            return 0;
        }
    }
    *out = v;
    return 1;
}

/* Parses the parameters whose bit is in known; all others are unknown. */
static const char *pp_query_parse(apr_pool_t *p, const char *args, unsigned known,
                                  pp_query_all_t *out)
{
    int seen[PP_Q_COUNT] = { 0 };
    const char *s = args;

    out->limit = PP_TRADES_LIMIT_DEFAULT;
    out->side = "";
    out->market_id = "";
    out->cursor = NULL;
    out->search = "";
    out->types = "";
    out->account_id = "";
    out->wait = 0;
    if (s == NULL) {
        return NULL;
    }
    while (*s) {
        const char *end = strchr(s, '&'), *eq;
        apr_size_t len = end ? (apr_size_t)(end - s) : strlen(s);
        const char *name, *value;
        int which;

        if (len == 0) { /* "a=1&&b=2", a trailing '&' */
            s = end + 1;
            continue;
        }
        eq = memchr(s, '=', len);
        if ((name = pp_pct_decode(p, s, eq ? (apr_size_t)(eq - s) : len, PP_QUERY_PCT_FLAGS))
            == NULL) {
            return "malformed percent-encoding in a query parameter name";
        }
        for (which = 0; which < PP_Q_COUNT; which++) {
            if ((known & (1u << which)) && strcmp(name, pp_query_names[which]) == 0) {
                break;
            }
        }
        if (which < PP_Q_COUNT) {
            if (seen[which]++) {
                return apr_psprintf(p, "query parameter \"%s\" is given more than once", name);
            }
            if (eq == NULL) {
                return apr_psprintf(p, "query parameter \"%s\" needs a value (%s=...)", name, name);
            }
            value = pp_pct_decode(p, eq + 1, len - (apr_size_t)(eq + 1 - s), PP_QUERY_PCT_FLAGS);
            if (value == NULL) {
                return apr_psprintf(p,
                                    "query parameter \"%s\" has malformed percent-encoding "
                                    "or a NUL byte",
                                    name);
            }
            switch (which) {
            case PP_Q_LIMIT:
                if (!pp_query_parse_limit(value, &out->limit)) {
                    return "limit must be an integer from 1 to 500";
                }
                break;
            case PP_Q_SIDE:
                if (pp_query_eq_nocase(value, "buy")) {
                    out->side = "BUY";
                }
                else if (pp_query_eq_nocase(value, "sell")) {
                    out->side = "SELL";
                }
                else {
                    return "side must be BUY or SELL";
                }
                break;
            case PP_Q_MARKET: {
                apr_size_t n = strlen(value);
                if (n == 0 || n > PP_TRADES_MARKET_MAX) {
                    return "market_id must be 1-255 bytes";
                }
                if (!pp_query_is_clean_utf8((const unsigned char *)value, n)) {
                    return "market_id must be UTF-8 text without control characters";
                }
                out->market_id = value;
                break;
            }
            case PP_Q_SEARCH: {
                apr_size_t n = strlen(value);
                if (n == 0 || n > PP_QUERY_SEARCH_MAX) {
                    return "search must be 1-200 bytes";
                }
                if (!pp_query_is_clean_utf8((const unsigned char *)value, n)) {
                    return "search must be UTF-8 text without control characters";
                }
                out->search = value;
                break;
            }
            case PP_Q_TYPES: {
                const char *err = pp_events_parse_types(p, value, &out->types);
                if (err) {
                    return err;
                }
                break;
            }
            case PP_Q_ACCOUNT: {
                char *id, *c;
                if (!pp_accounts_is_uuid(value)) {
                    return "account_id must be a UUID";
                }
                /* canonical lowercase: cursors bind to it byte for byte */
                for (c = id = apr_pstrdup(p, value); *c; c++) {
                    if (*c >= 'A' && *c <= 'F') {
                        *c = (char)(*c - 'A' + 'a');
                    }
                }
                out->account_id = id;
                break;
            }
            case PP_Q_WAIT:
                if (!pp_query_parse_wait(value, &out->wait)) {
                    return "wait must be a whole number of seconds from 0 to 30";
                }
                break;
            case PP_Q_CURSOR:
                /* "cursor=" reads as no cursor, i.e. the first page, as
                 * clients building the URL from an empty next_cursor
                 * would mean; any other value is checked by pp_cursor. */
                out->cursor = *value ? value : NULL;
                break;
            }
        }
        /* unknown names are ignored, values and all */
        s = end ? end + 1 : s + len;
    }
    return NULL;
}

const char *pp_query_parse_trades(apr_pool_t *p, const char *args, pp_trades_query_t *out)
{
    pp_query_all_t all;
    const char *err = pp_query_parse(p, args,
                                     (1u << PP_Q_LIMIT) | (1u << PP_Q_CURSOR) | (1u << PP_Q_SIDE)
                                         | (1u << PP_Q_MARKET),
                                     &all);
    out->limit = all.limit;
    out->side = all.side;
    out->market_id = all.market_id;
    out->cursor = all.cursor;
    return err;
}

const char *pp_query_parse_markets(apr_pool_t *p, const char *args, pp_markets_query_t *out)
{
    pp_query_all_t all;
    const char *err = pp_query_parse(p, args,
                                     (1u << PP_Q_LIMIT) | (1u << PP_Q_CURSOR) | (1u << PP_Q_MARKET)
                                         | (1u << PP_Q_SEARCH),
                                     &all);
    out->limit = all.limit;
    out->search = all.search;
    out->market_id = all.market_id;
    out->cursor = all.cursor;
    return err;
}

const char *pp_query_parse_events(apr_pool_t *p, const char *args, pp_events_query_t *out)
{
    pp_query_all_t all;
    const char *err = pp_query_parse(p, args,
                                     (1u << PP_Q_LIMIT) | (1u << PP_Q_CURSOR) | (1u << PP_Q_TYPES)
                                         | (1u << PP_Q_ACCOUNT) | (1u << PP_Q_WAIT),
                                     &all);
    out->limit = all.limit;
    out->cursor = all.cursor;
    out->types = all.types;
    out->account_id = all.account_id;
    out->wait = all.wait;
    return err;
}
