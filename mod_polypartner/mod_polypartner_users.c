#include "mod_polypartner_users.h"
#include "mod_polypartner_db.h"
#include "pp_users.h"

int pp_users_handle_create(pp_req_t *rq)
{
    pp_user_registration_t reg;
    const char *body, *message, *args[4];
    apr_size_t len;
    int rc, err;

    if (!pp_http_read_body(rq, &body, &len, &rc)) {
        return rc;
    }
    err = pp_users_parse_registration(rq->r->pool, body, len, &reg, &message);
    if (err >= 0) {
        return pp_http_send_error(rq, (pp_error_t)err, message);
    }
    args[0] = rq->tenant->name;
    args[1] = reg.external_id;
    args[2] = reg.email;
    args[3] = reg.metadata;
    return pp_db_respond(rq, "SELECT status, body FROM api.pp_register_user(%s, %s, %s, %s::jsonb)",
                         4, args);
}

int pp_users_handle_get(pp_req_t *rq)
{
    const char *id, *args[2];

    if (!pp_users_parse_id(rq->route.param, &id)) {
        return pp_http_send_error(rq, PP_ERR_USER_NOT_FOUND,
                                  "no user with this user_id is registered by your tenant");
    }
    args[0] = rq->tenant->name;
    args[1] = id;
    return pp_db_respond(rq, "SELECT status, body FROM api.pp_get_user(%s, %s::bigint)", 2, args);
}
