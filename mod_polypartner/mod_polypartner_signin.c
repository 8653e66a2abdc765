/* The sign-in pages a login link opens: GET /auth/login shows a
 * confirmation (consuming nothing, so mail scanners that prefetch links
 * burn no tokens); POST /auth/login consumes the token, starts the session
 * and redirects to the link's redirect_url. */
#include "mod_polypartner_db.h"
#include "mod_polypartner_endpoint.h"
#include "mod_polypartner_session.h"
#include "pp_json.h"
#include "pp_session.h"

#include <apr_strings.h>
#include <http_protocol.h>

APLOG_USE_MODULE(polypartner);

static void pp_signin_headers(request_rec *r)
{
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    /* the token is in the URL: never leak it to another site (same-origin,
     * not no-referrer: under no-referrer a browser posts the form with
     * Origin: null, which the Origin check must refuse) */
    apr_table_setn(r->headers_out, "Referrer-Policy", "same-origin");
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'self'; base-uri 'none'; "
                   "frame-ancestors 'none'");
    apr_table_setn(r->headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
}

/* A small HTML page; title and text are plain text (escaped here), form is
 * trusted markup or NULL. */
static int pp_signin_page(pp_req_t *rq, int status, const char *title, const char *text,
                          const char *form)
{
    request_rec *r = rq->r;
    apr_pool_t *p = r->pool;
    const char *html =
        apr_pstrcat(p,
                    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>",
                    pp_html_escape(p, title),
                    "</title>"
                    "<link rel=\"stylesheet\" href=\"/app.css\"></head>\n"
                    "<body class=\"signin\"><main class=\"signin-card\"><h1>",
                    pp_html_escape(p, title), "</h1>\n<p>", pp_html_escape(p, text), "</p>\n",
                    form ? form : "", "</main></body></html>\n", NULL);

    pp_http_finish_body(rq);
    r->status = status;
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_set_content_length(r, (apr_off_t)strlen(html));
    apr_table_setn(r->headers_out, "X-Request-Id", rq->request_id);
    pp_signin_headers(r);
    if (!r->header_only) {
        ap_rwrite(html, (int)strlen(html), r);
    }
    return OK;
}

/* A string member of a body the database returned, or fallback. */
static const char *pp_signin_field(pp_req_t *rq, const char *body, const char *name,
                                   const char *fallback)
{
    json_object *o;
    const char *v = NULL;

    if (body && !pp_json_parse_object(rq->r->pool, body, strlen(body), &o)
        && !pp_json_string_field(rq->r->pool, o, name, 1, 1, 4096, &v, NULL)) {
        return v;
    }
    return fallback;
}

static int pp_signin_invalid(pp_req_t *rq, const char *why)
{
    char *text = apr_pstrcat(rq->r->pool, why, ". Ask for a new sign-in link.", NULL);

    if (*text >= 'a' && *text <= 'z') {
        *text = (char)(*text - 'a' + 'A');
    }
    return pp_signin_page(rq, 410, "This sign-in link does not work", text, NULL);
}

int pp_signin_show(pp_req_t *rq)
{
    apr_pool_t *p = rq->r->pool;
    const char *token = rq->r->args ? pp_form_get(p, rq->r->args, "token") : NULL;
    const char *cols[2], *email;
    int rc = OK;

    if (!pp_endpoint_prepare(rq, &rc)) {
        return rc;
    }
    if (!pp_secret_is_wellformed(token)) {
        return pp_signin_invalid(rq, "This sign-in link is not valid");
    }
    apr_table_setn(rq->values, "token_hash", pp_secret_hash_hex(p, token));
    if (!pp_endpoint_call(rq, 2, cols, &rc)) {
        return rc;
    }
    if (pp_db_status(cols[0]) != 200) {
        return pp_signin_invalid(rq, pp_signin_field(rq, cols[1], "message",
                                                     "This sign-in link is not valid"));
    }
    email = pp_signin_field(rq, cols[1], "email", "the trader this link was sent to");
    return pp_signin_page(
        rq, 200, "Sign in", apr_pstrcat(p, "Sign in as ", email, ". The link works once.", NULL),
        apr_pstrcat(p,
                    "<form method=\"post\" action=\"/auth/login\">"
                    "<input type=\"hidden\" name=\"token\" value=\"",
                    pp_html_escape(p, token),
                    "\"><button type=\"submit\" autofocus>Sign in</button></form>\n", NULL));
}

int pp_signin_redeem(pp_req_t *rq)
{
    request_rec *r = rq->r;
    apr_pool_t *p = r->pool;
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    const char *body, *token, *secret, *cols[2], *redirect;
    apr_size_t len;
    int rc = OK, ttl = pp_config_session_ttl(rq->conf);

    if (!pp_endpoint_prepare(rq, &rc)) {
        return rc;
    }
    if (!pp_session_origin_ok(rq)) {
        pp_rlog(rq, APLOG_INFO, 0, PP_LOGNO(0521) "sign-in POST from a foreign Origin refused");
        return pp_signin_page(rq, 403, "Sign-in refused",
                              "This sign-in form was sent from another site.", NULL);
    }
    if (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0
        || (ctype[33] != '\0' && ctype[33] != ';' && ctype[33] != ' ')) {
        return pp_signin_page(rq, 400, "Sign-in refused",
                              "Open the sign-in link from your email and press Sign in.", NULL);
    }
    if (!pp_http_read_body(rq, &body, &len, &rc)) {
        return rc;
    }
    token = pp_form_get(p, body, "token");
    if (!pp_secret_is_wellformed(token)) {
        return pp_signin_invalid(rq, "This sign-in link is not valid");
    }
    if (!(secret = pp_secret_new(p))) {
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    apr_table_setn(rq->values, "token_hash", pp_secret_hash_hex(p, token));
    apr_table_setn(rq->values, "new_session_hash", pp_secret_hash_hex(p, secret));
    if (!pp_endpoint_call(rq, 2, cols, &rc)) {
        return rc;
    }
    if (pp_db_status(cols[0]) != 200) {
        return pp_signin_invalid(rq, pp_signin_field(rq, cols[1], "message",
                                                     "This sign-in link is not valid"));
    }
    if (!(redirect = pp_signin_field(rq, cols[1], "redirect_url", NULL))) {
        pp_rlog(rq, APLOG_ERR, 0, PP_LOGNO(0522) "redeemed a token without a redirect_url");
        return pp_http_send_error(rq, PP_ERR_INTERNAL_ERROR, "internal server error");
    }
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   pp_session_cookie(p, secret, ttl, rq->conf->public_url_secure));
    apr_table_setn(r->headers_out, "Location", redirect);
    return pp_signin_page(rq, 303, "Signed in", "You are signed in.",
                          apr_pstrcat(p, "<p><a href=\"", pp_html_escape(p, redirect),
                                      "\">Continue</a></p>\n", NULL));
}
