/* The router: input is "METHOD PATH". */
#include <apr_pools.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pp_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *input, *space;
    pp_route_t rt;

    if ((p = pp_fuzz_pool()) == NULL) {
        return 0;
    }
    input = apr_pstrmemdup(p, (const char *)data, size);
    space = strchr(input, ' ');
    if (space) {
        *space = '\0';
        pp_route_match(p, input, space + 1, &rt);
        if ((rt.status == PP_ROUTE_MATCHED) != (rt.name != NULL)
            || (rt.status == PP_ROUTE_METHOD_NOT_ALLOWED) != (rt.allow != NULL)
            || (rt.param && (!*rt.param || strchr(rt.param, '/')))) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
