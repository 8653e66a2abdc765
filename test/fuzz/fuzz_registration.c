/* POST /v1/partner/users body validation, including email normalisation. */
#include <apr_pools.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pp_email.h"
#include "pp_users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    pp_user_registration_t reg;
    const char *msg = NULL;

    if ((p = pp_fuzz_pool()) == NULL) {
        return 0;
    }
    if (pp_users_parse_registration(p, (const char *)data, size, &reg, &msg) == -1) {
        /* accepted input must be normalised, valid and carry object metadata */
        if (!pp_email_is_valid(reg.email) || reg.metadata[0] != '{' || !*reg.external_id
            || strcmp(pp_email_normalize(p, reg.email), reg.email) != 0) {
            abort();
        }
    }
    else if (!msg || !*msg) {
        abort(); /* every rejection explains itself */
    }
    apr_pool_destroy(p);
    return 0;
}
