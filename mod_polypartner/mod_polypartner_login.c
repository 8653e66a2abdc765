/* The login-link endpoint. The token is created unusable ('pending'), the
 * email is sent, and only then is the token made usable; a failed send
 * marks it 'failed' for good. So a 502 never leaves a working link behind,
 * and a link never arrives before its token exists. */
#include "mod_polypartner_login.h"
#include "mod_polypartner_db.h"
#include "mod_polypartner_endpoint.h"
#include "pp_email.h"
#include "pp_mail.h"
#include "pp_session.h"
#include "pp_users.h"

#include <apr_strings.h>

APLOG_USE_MODULE(polypartner);

static apr_status_t pp_login_curl_cleanup(void *data)
{
    (void)data;
    pp_mail_global_cleanup();
    return APR_SUCCESS;
}

void pp_login_child_init(apr_pool_t *pchild, server_rec *s)
{
    const char *err = pp_mail_global_init();

    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     PP_LOGNO(0507) "%s: login-link emails "
                                    "cannot be sent from this process",
                     err);
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, pp_login_curl_cleanup, apr_pool_cleanup_null);
}

/* Marks the token's fate after the send. Returns 1; or 0 when the database
 * failed and its error (503/500) has been answered: the token then stays
 * pending, which is unusable, so nothing works that should not. */
static int pp_login_settle(pp_req_t *rq, const char *hash_hex, int sent, int *rc)
{
    const char *args[1] = { hash_hex }, *cols[1];

    if (!pp_db_row(rq,
                   sent ? "SELECT api.pp_login_link_sent(decode(%s, 'hex'))"
                        : "SELECT api.pp_login_link_failed(decode(%s, 'hex'))",
                   1, args, 1, cols, rc)) {
        pp_rlog(rq, APLOG_ERR, 0,
                PP_LOGNO(0508) "could not mark a login link %s: it stays "
                               "unusable",
                sent ? "sent" : "failed");
        return 0;
    }
    if (!cols[0] || cols[0][0] != 't') {
        pp_rlog(rq, APLOG_ERR, 0,
                PP_LOGNO(0506) "login link token was not pending when "
                               "marking it %s",
                sent ? "sent" : "failed");
    }
    return 1;
}

static const char *pp_login_msgid_domain(apr_pool_t *p, const char *from)
{
    const char *addr = pp_mail_address(p, from), *at = addr ? strrchr(addr, '@') : NULL;
    return at ? at + 1 : "localhost";
}

/* The 502 message: "retry" only where a retry can help. */
static const char *pp_login_failure(apr_pool_t *p, pp_mail_fail_t fail, const char *why)
{
    switch (fail) {
    case PP_MAIL_FAIL_ADDRESS:
        return apr_pstrcat(p, "the trader's email address can never receive mail (",
                           why ? why : "invalid address", "); retrying will not help", NULL);
    case PP_MAIL_FAIL_NO_SMTPUTF8:
        return "the mail relay cannot deliver to this address: its local part is not ASCII "
               "and the relay does not support SMTPUTF8 (RFC 6531); retrying will not help "
               "until the relay does";
    default:
        return "the login email could not be sent; retry later";
    }
}

int pp_login_handle_link(pp_req_t *rq)
{
    apr_pool_t *p = rq->r->pool;
    const pp_mail_conf_t *mail;
    const char *id, *message, *token, *hash, *cols[4], *link, *text;
    const char *undeliverable;
    pp_mail_msg_t msg;
    pp_mail_fail_t fail = PP_MAIL_FAIL_TEMPORARY;
    int rc = OK, status, ttl = pp_config_login_ttl(rq->conf);

    if (!pp_endpoint_prepare(rq, &rc)) {
        return rc;
    }
    id = apr_table_get(rq->values, "user_id");
    mail = pp_config_mail(p, rq->conf);
    if (!mail || !rq->conf->public_url) {
        pp_rlog(rq, APLOG_ERR, 0,
                PP_LOGNO(0503) "login links need PolyPartnerPublicURL, "
                               "PolyPartnerMailRelay and PolyPartnerMailFrom");
        return pp_http_send_error(rq, PP_ERR_MAGIC_LINK_FAILED,
                                  "email dispatch is not configured on this server");
    }
    if (!apr_table_get(rq->values, "redirect_url")) {
        apr_table_setn(rq->values, "redirect_url",
                       rq->tenant->default_redirect
                           ? rq->tenant->default_redirect
                           : apr_pstrcat(p, rq->conf->public_url, "/", NULL));
    }
    if (!(token = pp_secret_new(p))) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0504) "no random bytes for a login token");
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    hash = pp_secret_hash_hex(p, token);

    apr_table_setn(rq->values, "token_hash", hash);
    if (!pp_endpoint_call(rq, 4, cols, &rc)) {
        return rc;
    }
    status = pp_db_status(cols[0]);
    if (status == 429 && cols[3]) {
        apr_table_setn(rq->r->headers_out, "Retry-After", cols[3]);
    }
    if (status != 202 || !cols[2]) {
        return pp_db_send_row(rq, cols);
    }

    link = apr_pstrcat(p, rq->conf->public_url, "/auth/login?token=", token, NULL);
    /* an address registered before the delivery rules may never be deliverable */
    undeliverable = pp_email_check(cols[2]);
    if (undeliverable) {
        message = undeliverable;
        fail = PP_MAIL_FAIL_ADDRESS;
    }
    else {
        pp_mail_login_link(p, cols[2], link, (ttl + 59) / 60, &msg);
        message = pp_mail_format(p, mail, &msg, pp_login_msgid_domain(p, mail->from),
                                 apr_time_now(), &text);
        if (!message) {
            message = pp_mail_send(p, mail, cols[2], text, &fail);
        }
    }
    if (message) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0505) "login link for user %s not sent: %s", id,
                message);
        if (!pp_login_settle(rq, hash, 0, &rc)) {
            return rc;
        }
        return pp_http_send_error(rq, PP_ERR_MAGIC_LINK_FAILED,
                                  pp_login_failure(p, fail, undeliverable));
    }
    if (!pp_login_settle(rq, hash, 1, &rc)) {
        return rc;
    }
    return pp_http_send_json(rq, 202, "{\"status\":\"accepted\"}", 21);
}
