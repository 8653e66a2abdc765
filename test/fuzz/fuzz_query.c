/* The trades query string (r->args). On success the result must be within
 * the documented bounds. */
#include <apr_pools.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pp_query.h"

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
    apr_pool_destroy(p);
    return 0;
}
