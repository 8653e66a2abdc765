/* Each fuzz target defines LLVMFuzzerTestOneInput. Built with standalone.c
 * it replays a corpus in `make check`; built with clang -fsanitize=fuzzer
 * (build.sh) it fuzzes. */
#ifndef PP_FUZZ_H
#define PP_FUZZ_H

#include <apr_pools.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fresh pool for one input (APR is initialised on first use); NULL if
 * none could be made. The caller destroys it. */
static inline apr_pool_t *pp_fuzz_pool(void)
{
    static int initialized;
    apr_pool_t *p;

    if (!initialized) {
        apr_pool_initialize();
        initialized = 1;
    }
    return apr_pool_create(&p, NULL) == APR_SUCCESS ? p : NULL;
}

#endif
