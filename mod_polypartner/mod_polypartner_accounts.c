#include "mod_polypartner_accounts.h"
#include "mod_polypartner_db.h"
#include "pp_accounts.h"

#include <apr_strings.h>

const char *pp_accounts_path_id(pp_req_t *rq, int *rc)
{
    char *id, *c;

    if (!pp_accounts_is_uuid(rq->route.param)) {
        *rc = pp_http_send_error(rq, PP_ERR_INVALID_ACCOUNT_ID,
                                 "account_id in the path must be a UUID");
        return NULL;
    }
    /* canonical lowercase: cursors bind to it byte for byte */
    id = apr_pstrdup(rq->r->pool, rq->route.param);
    for (c = id; *c; c++) {
        if (*c >= 'A' && *c <= 'F') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    return id;
}

int pp_accounts_handle_create(pp_req_t *rq)
{
    pp_account_creation_t acc;
    const char *body, *message, *args[7];
    apr_size_t len;
    int rc = OK, err;

    if (!pp_http_read_body(rq, &body, &len, &rc)) {
        return rc;
    }
    err = pp_accounts_parse_creation(rq->r->pool, body, len, rq->tenant, &acc, &message);
    if (err >= 0) {
        return pp_http_send_error(rq, (pp_error_t)err, message);
    }
    args[0] = rq->tenant->name;
    args[1] = acc.user_id;
    args[2] = acc.external_id;
    args[3] = acc.stage;
    args[4] = acc.starting_balance;
    args[5] = acc.rules;
    args[6] = acc.metadata;
    return pp_db_respond(rq, "SELECT status, body FROM api.pp_create_account(%s, %s::bigint, %s, "
                         "%s, %s::numeric, %s::jsonb, %s::jsonb)", 7, args);
}

int pp_accounts_handle_get(pp_req_t *rq)
{
    const char *args[2];
    int rc = OK;

    if (!(args[1] = pp_accounts_path_id(rq, &rc))) {
        return rc;
    }
    args[0] = rq->tenant->name;
    return pp_db_respond(rq, "SELECT status, body FROM api.pp_get_account(%s, %s::uuid)", 2, args);
}

int pp_accounts_handle_patch(pp_req_t *rq)
{
    pp_account_patch_t patch;
    const char *body, *message, *args[4];
    apr_size_t len;
    int rc = OK, err;

    if (!(args[1] = pp_accounts_path_id(rq, &rc))) {
        return rc;
    }
    if (!pp_http_read_body(rq, &body, &len, &rc)) {
        return rc;
    }
    err = pp_accounts_parse_patch(rq->r->pool, body, len, &patch, &message);
    if (err >= 0) {
        return pp_http_send_error(rq, (pp_error_t)err, message);
    }
    args[0] = rq->tenant->name;
    args[2] = patch.rules;       /* NULL binds SQL NULL: leave untouched */
    args[3] = patch.metadata;
    return pp_db_respond(rq, "SELECT status, body FROM api.pp_patch_account(%s, %s::uuid, "
                         "%s::jsonb, %s::jsonb)", 4, args);
}

static int pp_accounts_lifecycle(pp_req_t *rq, const char *sql)
{
    const char *args[3];
    int rc = OK;

    if (!(args[1] = pp_accounts_path_id(rq, &rc))) {
        return rc;
    }
    args[0] = rq->tenant->name;
    args[2] = apr_itoa(rq->r->pool, pp_config_cancel_batch(rq->conf));
    return pp_db_respond(rq, sql, 3, args);
}

int pp_accounts_handle_close(pp_req_t *rq)
{
    return pp_accounts_lifecycle(
        rq, "SELECT status, body FROM api.pp_close_account(%s, %s::uuid, %s::integer)");
}

int pp_accounts_handle_reset(pp_req_t *rq)
{
    return pp_accounts_lifecycle(
        rq, "SELECT status, body FROM api.pp_reset_account(%s, %s::uuid, %s::integer)");
}
