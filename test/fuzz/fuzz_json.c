/* The request-body reader: strict validation, then json-c. Also checks that
 * whatever is accepted serialises to something the validator accepts. */
#include <apr_pools.h>
#include <stdlib.h>

#include "fuzz.h"
#include "pp_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_object *o;
    const char *out;
    apr_size_t len;

    if ((p = pp_fuzz_pool()) == NULL) {
        return 0;
    }
    if (pp_json_parse_object(p, (const char *)data, size, &o) == NULL) {
        out = pp_json_serialize(p, o, &len);
        if (pp_json_check(p, out, len, PP_JSON_MAX_DEPTH + 1) != NULL) {
            abort(); /* we produced JSON our own reader rejects */
        }
    }
    apr_pool_destroy(p);
    return 0;
}
