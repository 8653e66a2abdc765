/* The trades query string (r->args), and the event feed's. On success the
 * result must be within the documented bounds. */
#include <apr_pools.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pp_events.h"
#include "pp_query.h"

/* The event feed's parameters: bounds, a canonical type set, a lowercase
 * UUID. */
static void pp_fuzz_events(apr_pool_t *p, const char *args)
{
    pp_events_query_t q;
    const char *err = pp_query_parse_events(p, args, &q), *again;
    apr_size_t i, n;

    if (err != NULL) {
        if (*err == '\0') {
            abort();
        }
        return;
    }
    if (q.limit < 1 || q.limit > 500 || q.wait < 0 || q.wait > 30
        || (q.cursor != NULL && *q.cursor == '\0')) {
        abort();
    }
    if (pp_events_parse_types(p, q.types, &again) != NULL || strcmp(again, q.types) != 0) {
        abort();
    }
    n = strlen(q.account_id);
    if (n != 0 && n != 36) {
        abort();
    }
    for (i = 0; i < n; i++) {
        char c = q.account_id[i];
        if (!(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    pp_trades_query_t q;
    const char *err;

    if ((p = pp_fuzz_pool()) == NULL) {
        return 0;
    }
    err = pp_query_parse_trades(p, apr_pstrmemdup(p, (const char *)data, size), &q);
    if (err == NULL) {
        apr_size_t n = strlen(q.market_id), i;
        if (q.limit < 1 || q.limit > 500
            || (strcmp(q.side, "") != 0 && strcmp(q.side, "BUY") != 0
                && strcmp(q.side, "SELL") != 0)
            || n > 255 || (q.cursor != NULL && *q.cursor == '\0')) {
            abort();
        }
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)q.market_id[i];
            if (c < 0x20 || c == 0x7f) {
                abort();
            }
        }
    }
    else if (*err == '\0') {
        abort();
    }
    pp_fuzz_events(p, apr_pstrmemdup(p, (const char *)data, size));
    apr_pool_destroy(p);
    return 0;
}
