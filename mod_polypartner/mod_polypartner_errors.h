/* httpd's own error responses (a request refused before any handler runs,
 * e.g. an encoded NUL or slash in the path) under the API's paths are
 * rewritten into the JSON envelope, so every answer there is JSON. */
#ifndef MOD_POLYPARTNER_ERRORS_H
#define MOD_POLYPARTNER_ERRORS_H

#include <httpd.h>

void pp_errors_register_hooks(apr_pool_t *p);

/* Is r under the JSON API paths (/v1/partner/, /v1/trader/, /v1/markets)?
 * Judged on the raw path, also for a request line httpd refused. */
int pp_errors_is_api_path(const request_rec *r);

#endif
