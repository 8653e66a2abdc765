#include "pp_accounts.h"
#include "pp_decimal.h"
#include "pp_error.h"
#include "pp_json.h"

#include <apr_strings.h>
#include <string.h>

/* No length limit of their own on stage and starting_balance (the body cap
 * bounds them): a long value is then INVALID_STAGE, or a number out of
 * bounds, rather than a schema error. */
#define PP_UNBOUNDED_CHARS      ((apr_size_t)-1)
#define PP_BALANCE_PARSE_DIGITS (64 * 1024 * 1024)

static const char *pp_accounts_object_text(apr_pool_t *p, json_object *o)
{
    return o ? pp_json_serialize(p, o, NULL) : "{}";
}

int pp_accounts_parse_creation(apr_pool_t *p, const char *body, apr_size_t len,
                               const pp_tenant_t *tenant, pp_account_creation_t *out,
                               const char **message)
{
    json_object *root, *user_id = NULL, *rules, *metadata;

    memset(out, 0, sizeof(*out));
    /* unknown top-level fields are ignored (only PATCH forbids them) */
    if ((*message = pp_json_parse_object(p, body, len, &root)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    if (!json_object_object_get_ex(root, "user_id", &user_id) || !user_id) {
        *message = "field \"user_id\" is required";
        return PP_ERR_VALIDATION_FAILED;
    }
    if (!json_object_is_type(user_id, json_type_int)) {
        *message = "field \"user_id\" must be an integer";
        return PP_ERR_VALIDATION_FAILED;
    }
    out->user_id = apr_psprintf(p, "%" APR_INT64_T_FMT,
                                (apr_int64_t)json_object_get_int64(user_id));
    if ((*message = pp_json_string_field(p, root, "external_id", 1, 1, 255, &out->external_id,
                                         NULL))
            != NULL
        || (*message = pp_json_string_field(p, root, "stage", 1, 0, PP_UNBOUNDED_CHARS, &out->stage,
                                            NULL))
               != NULL
        || (*message = pp_json_string_field(p, root, "starting_balance", 1, 0, PP_UNBOUNDED_CHARS,
                                            &out->starting_balance, NULL))
               != NULL
        || (*message = pp_json_object_field(p, root, "rules", &rules)) != NULL
        || (*message = pp_json_object_field(p, root, "metadata", &metadata)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    if (strcmp(out->stage, "demo") != 0 && strcmp(out->stage, "challenge") != 0
        && strcmp(out->stage, "funded") != 0) {
        *message = "stage must be one of demo, challenge, funded";
        return PP_ERR_INVALID_STAGE;
    }
    if (!pp_decimal_is_plain(out->starting_balance, PP_BALANCE_PARSE_DIGITS, PP_BALANCE_SCALE)) {
        *message = "starting_balance must be a decimal string such as \"10000.00\" with at "
                   "most 2 decimal places";
        return PP_ERR_INVALID_BALANCE;
    }
    if (pp_decimal_cmp(out->starting_balance, tenant->min_balance) < 0
        || pp_decimal_cmp(out->starting_balance, tenant->max_balance) > 0) {
        *message = apr_psprintf(p, "starting_balance must be between %s and %s",
                                tenant->min_balance, tenant->max_balance);
        return PP_ERR_BALANCE_OUT_OF_BOUNDS;
    }
    out->rules = pp_accounts_object_text(p, rules);
    out->metadata = pp_accounts_object_text(p, metadata);
    return -1;
}

int pp_accounts_parse_patch(apr_pool_t *p, const char *body, apr_size_t len,
                            pp_account_patch_t *out, const char **message)
{
    static const char *const immutable[] = { "stage", "starting_balance", "user_id", "external_id",
                                             NULL };
    static const char *const fields[] = { "rules", "metadata", NULL };
    const char *const *f;
    json_object *root, *rules, *metadata, *v;

    memset(out, 0, sizeof(*out));
    if ((*message = pp_json_parse_object(p, body, len, &root)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    for (f = immutable; *f; f++) {
        if (json_object_object_get_ex(root, *f, &v)) {
            *message = apr_psprintf(p,
                                    "field \"%s\" cannot be changed; only rules and "
                                    "metadata can",
                                    *f);
            return PP_ERR_VALIDATION_FAILED;
        }
    }
    if ((*message = pp_json_only_fields(p, root, fields)) != NULL
        || (*message = pp_json_object_field(p, root, "rules", &rules)) != NULL
        || (*message = pp_json_object_field(p, root, "metadata", &metadata)) != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    out->rules = rules ? pp_json_serialize(p, rules, NULL) : NULL;
    out->metadata = metadata ? pp_json_serialize(p, metadata, NULL) : NULL;
    return -1;
}

int pp_accounts_is_uuid(const char *s)
{
    int i;
    for (i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return 0;
        }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}
