/* Mail addresses from arbitrary bytes: normalisation, the deliverability
 * check, the SMTP envelope form and the message headers built from it. */
#include <apr_pools.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "fuzz.h"
#include "pp_email.h"
#include "pp_mail.h"

static int utf8_ok(const char *s)
{
    return u8_check((const uint8_t *)s, strlen(s)) == NULL;
}

static int ascii_only(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

/* The headers of a formatted message: CRLF only, ASCII except a UTF-8 To
 * line when the local part needs SMTPUTF8, and To is the expected value. */
static void check_message(apr_pool_t *p, const char *msg, const pp_email_parts_t *to)
{
    const char *line = msg, *eol, *want;
    int to_lines = 0;

    if (!utf8_ok(msg)) {
        abort();
    }
    want = apr_pstrcat(p, "To: ",
                       to->utf8_local ? apr_pstrcat(p, to->local, "@", to->domain, NULL)
                                      : to->envelope,
                       NULL);
    for (; (eol = strstr(line, "\r\n")) != NULL && eol != line; line = eol + 2) {
        const char *text = apr_pstrmemdup(p, line, (apr_size_t)(eol - line));
        if (strchr(text, '\r') || strchr(text, '\n')) {
            abort(); /* a bare CR or LF would end or inject a header */
        }
        if (strncmp(text, "To: ", 4) == 0) {
            to_lines++;
            if (strcmp(text, want) != 0) {
                abort();
            }
        }
        else if (!ascii_only(text)) {
            abort();
        }
    }
    if (to_lines != 1 || (!to->utf8_local && !ascii_only(msg))) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    pp_email_parts_t parts;
    pp_mail_conf_t conf;
    pp_mail_msg_t m;
    const char *raw, *why, *out = NULL, *err;
    char *norm;

    if (size > 4096 || (p = pp_fuzz_pool()) == NULL) {
        return 0;
    }
    raw = apr_pstrmemdup(p, (const char *)data, size);
    norm = pp_email_normalize(p, raw);
    if (!norm) {
        if (utf8_ok(raw)) {
            abort(); /* only invalid UTF-8 has no normal form */
        }
        apr_pool_destroy(p);
        return 0;
    }
    if (!utf8_ok(norm) || strcmp(pp_email_normalize(p, norm), norm) != 0) {
        abort(); /* valid UTF-8, and idempotent */
    }

    why = pp_email_split(p, norm, &parts);
    if ((why == NULL) != pp_email_is_valid(norm)) {
        abort();
    }
    memset(&conf, 0, sizeof(conf));
    conf.from = "Poly Sim <noreply@polysim.example>";
    pp_mail_login_link(p, norm, "https://x.example/auth/login?token=t", 15, &m);
    err = pp_mail_format(p, &conf, &m, "polysim.example", 0, &out);
    if (why) {
        /* refused with a reason, by the check and by the mailer alike */
        if (strncmp(why, "email", 5) != 0 || !err || out) {
            abort();
        }
        apr_pool_destroy(p);
        return 0;
    }
    /* a deliverable address: an ASCII A-label domain, an envelope within
     * RFC 5321's limit that is itself deliverable, and a sound message */
    if (!ascii_only(parts.ascii_domain)
        || strcmp(parts.envelope, apr_pstrcat(p, parts.local, "@", parts.ascii_domain, NULL))
        || strlen(parts.envelope) > PP_EMAIL_MAX_OCTETS || !pp_email_is_valid(parts.envelope)
        || parts.utf8_local == ascii_only(parts.local)
        || strcmp(apr_pstrcat(p, parts.local, "@", parts.domain, NULL), norm) != 0) {
        abort();
    }
    if (err || !out) {
        abort();
    }
    check_message(p, out, &parts);
    apr_pool_destroy(p);
    return 0;
}
