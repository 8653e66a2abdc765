/* The login-link email: composing an RFC 5322/MIME message and sending it
 * over SMTP with libcurl. Core library (APR, OpenSSL, libcurl; no httpd).
 *
 * Every function here may see the secret link: none of them logs, and error
 * messages never contain the message, the link or the password. */
#ifndef PP_MAIL_H
#define PP_MAIL_H

#include <apr_pools.h>
#include <apr_time.h>

/* starttls: how a smtp:// relay must protect the session (smtps:// is always
 * TLS from the first byte). */
#define PP_MAIL_TLS_NONE     0 /* plain SMTP (loopback test relays only) */
#define PP_MAIL_TLS_TRY      1 /* STARTTLS when offered, else plain */
#define PP_MAIL_TLS_REQUIRED 2 /* STARTTLS or fail */

typedef struct {
    const char *url;      /* smtp://host:port or smtps://host:port (relay) */
    int starttls;         /* PP_MAIL_TLS_NONE | PP_MAIL_TLS_TRY | PP_MAIL_TLS_REQUIRED */
    const char *username; /* NULL: no AUTH */
    const char *password;
    const char *from;    /* "Name <addr>" or "addr" */
    const char *ca_file; /* NULL: system CAs */
    int verify_peer;     /* default 1 */
    long timeout_ms;     /* whole transaction; <= 0: 30 s */
} pp_mail_conf_t;

typedef struct {
    const char *to, *subject, *text, *html; /* html NULL: a text/plain message */
} pp_mail_msg_t;

/* Once per process before any pp_mail_send (curl_global_init). In httpd: the
 * child_init hook, or post_config before children fork. NULL on success. */
const char *pp_mail_global_init(void);
void pp_mail_global_cleanup(void);

/* The login-link email: subject, a plain-text and an HTML part (link
 * HTML-escaped; exactly once in each part), stating the expiry in minutes and
 * that the link works once. */
void pp_mail_login_link(apr_pool_t *p, const char *to, const char *link, int ttl_minutes,
                        pp_mail_msg_t *out);

/* RFC 5322 + MIME multipart/alternative message: CRLF line ends, Date (from
 * now), Message-ID @msgid_domain, From, To, Subject (RFC 2047 encoded when not
 * plain ASCII), MIME-Version, Auto-Submitted, quoted-printable UTF-8 parts.
 * The headers are ASCII, except To when the recipient's local part is not
 * ASCII: such a message can only travel with SMTPUTF8, so To is the UTF-8
 * address (RFC 6532); otherwise To has the domain in A-labels (xn--...);
 * lines <= 78 octets (76 in the parts), only a very long address can make
 * its header line longer (never past 998). Returns NULL and sets *out, or
 * returns a message (and sets *out to NULL) when a header value contains
 * CR/LF or another control character, an address is invalid, or text is not
 * UTF-8: header injection is refused, never sanitised silently. */
const char *pp_mail_format(apr_pool_t *p, const pp_mail_conf_t *c, const pp_mail_msg_t *m,
                           const char *msgid_domain, apr_time_t now, const char **out);

/* Why pp_mail_send failed. */
typedef enum {
    PP_MAIL_FAIL_TEMPORARY = 0, /* relay unreachable, refusing, misconfigured: may pass later */
    PP_MAIL_FAIL_ADDRESS,       /* the recipient address can never be delivered */
    PP_MAIL_FAIL_NO_SMTPUTF8    /* its local part is not ASCII and the relay lacks SMTPUTF8 */
} pp_mail_fail_t;

/* Sends a message from pp_mail_format (CRLF line ends; curl does the SMTP
 * dot-stuffing) to one recipient through c->url with libcurl; MAIL FROM is
 * the bare address of c->from, RCPT TO the recipient with its domain in
 * A-labels. A recipient whose local part is not ASCII needs SMTPUTF8 (RFC
 * 6531): the relay's EHLO is checked first on a separate connection, and
 * without SMTPUTF8 nothing is sent. Blocks for at most c->timeout_ms in all.
 * NULL on success, else a message with curl's error and the SMTP response
 * code, and *fail (when not NULL) says whether a retry can help. Only smtp://
 * and smtps:// URLs without userinfo are accepted. */
const char *pp_mail_send(apr_pool_t *p, const pp_mail_conf_t *c, const char *to,
                         const char *message, pp_mail_fail_t *fail);

/* The bare address of a "Name <addr>" or "addr" sender, or NULL when it is
 * not a valid ASCII address (what MAIL FROM uses). */
const char *pp_mail_address(apr_pool_t *p, const char *from);

#endif
