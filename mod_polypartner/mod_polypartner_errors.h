/* httpd's own error responses (a request refused before any handler runs,
 * e.g. an encoded NUL or slash in the path) under the API's paths are
 * rewritten into the JSON envelope, so every answer there is JSON. */
#ifndef MOD_POLYPARTNER_ERRORS_H
#define MOD_POLYPARTNER_ERRORS_H

#include <httpd.h>

void pp_errors_register_hooks(apr_pool_t *p);

#endif
