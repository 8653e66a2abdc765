#include "pp_users.h"
#include "pp_email.h"
#include "pp_json.h"

#include <string.h>

#include "pp_redirect.h"

int pp_users_parse_registration(apr_pool_t *p, const char *body, apr_size_t len,
                                pp_user_registration_t *out, const char **message)
{
    json_object *root, *metadata;
    const char *raw_email;

    memset(out, 0, sizeof(*out));
    /* unknown top-level fields are ignored, as by the reference service
     * (only PATCH forbids them), so clients written against it work */
    if ((*message = pp_json_parse_object(p, body, len, &root)) != NULL
        || (*message = pp_json_string_field(p, root, "external_id", 1, 1, 255, &out->external_id,
                                            NULL))
               != NULL
        || (*message = pp_json_string_field(p, root, "email", 1, 3, 320, &raw_email, NULL)) != NULL
        || (*message = pp_json_object_field(p, root, "metadata", &metadata)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    out->email = pp_email_normalize(p, raw_email);
    if (!out->email || (*message = pp_email_check(out->email)) != NULL) {
        if (!out->email) {
            *message = "email is not valid UTF-8";
        }
        return PP_ERR_INVALID_EMAIL;
    }
    out->metadata = metadata ? pp_json_serialize(p, metadata, NULL) : "{}";
    return -1;
}

int pp_users_parse_login_link(apr_pool_t *p, const char *body, apr_size_t len,
                              const apr_array_header_t *allow, const char **redirect_url,
                              const char **message)
{
    json_object *root;

    *redirect_url = NULL;
    if (!body || len == 0) {
        *message = "a JSON object body is required ({} at least)";
        return PP_ERR_VALIDATION_FAILED;
    }
    if ((*message = pp_json_parse_object(p, body, len, &root)) != NULL
        || (*message = pp_json_string_field(p, root, "redirect_url", 0, 1, 2048, redirect_url,
                                            NULL))
               != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    if (*redirect_url && (*message = pp_redirect_check(p, allow, *redirect_url)) != NULL) {
        return PP_ERR_REDIRECT_NOT_ALLOWED;
    }
    return -1;
}

int pp_users_parse_id(const char *s, const char **canonical)
{
    apr_size_t n = strlen(s), i;

    if (n == 0 || n > 19 || s[0] == '0') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    if (n == 19 && strcmp(s, "9223372036854775807") > 0) {
        return 0;
    }
    *canonical = s;
    return 1;
}
