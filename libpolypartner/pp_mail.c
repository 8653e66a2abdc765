#include "pp_mail.h"
#include "pp_codec.h"
#include "pp_email.h"
#include "pp_token.h"

#include <apr_base64.h>
#include <apr_cstr.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include <openssl/rand.h>
#include <string.h>

/* Folding target for header lines (RFC 5322 2.1.1 recommends 78). */
#define PP_MAIL_LINE 78
/* Quoted-printable lines, soft-break '=' included (RFC 2045 6.7). */
#define PP_MAIL_QP_LINE 76
/* Raw bytes per RFC 2047 encoded word: 36 bytes -> 48 base64 characters,
 * 60 with the "=?UTF-8?B?" and "?=" wrapping, so "Subject: " + word fits. */
#define PP_MAIL_EW_BYTES 36

/* ---- a growable string in a pool ------------------------------------------ */

typedef struct {
    apr_pool_t *p;
    char *s;
    apr_size_t len, cap;
} pp_sb_t;

static void sb_init(pp_sb_t *b, apr_pool_t *p, apr_size_t cap)
{
    b->p = p;
    b->cap = cap < 64 ? 64 : cap;
    b->s = apr_palloc(p, b->cap);
    b->len = 0;
    b->s[0] = '\0';
}

static void sb_addn(pp_sb_t *b, const char *s, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap * 2;
        char *s2;
        while (cap < b->len + n + 1) cap *= 2;
        s2 = apr_palloc(b->p, cap);
        memcpy(s2, b->s, b->len);
        b->s = s2;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_add(pp_sb_t *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

/* Length of the line being written, for folding decisions. */
static apr_size_t sb_col(const pp_sb_t *b)
{
    apr_size_t i = b->len;
    while (i > 0 && b->s[i - 1] != '\n') i--;
    return b->len - i;
}

/* ---- checks ---------------------------------------------------------------- */

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static int has_ctl(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7F) {
            return 1;
        }
    }
    return 0;
}

static int is_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF): the
 * parts declare charset=UTF-8 and must not lie. */
static int is_utf8(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    while (*s) {
        unsigned c = *s;
        int n, i;
        unsigned cp;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        }
        else return 0;
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))
            || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        s += n + 1;
    }
    return 1;
}

/* A sender address we put into headers and the SMTP envelope as is: a valid
 * address, ASCII only (no SMTPUTF8) and none of the characters that would
 * need quoting or could end the address early. */
static int addr_ok(const char *a)
{
    return a && pp_email_is_valid(a) && is_ascii(a) && !strpbrk(a, "<>()[]\\,;:\"");
}

static int domain_ok(const char *d)
{
    const char *c;
    if (!*d || *d == '.' || *d == '-' || strlen(d) > 253) {
        return 0;
    }
    for (c = d; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
              || *c == '.' || *c == '-')) {
            return 0;
        }
    }
    return c[-1] != '.' && !strstr(d, "..");
}

static const char *trim(apr_pool_t *p, const char *s, apr_size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return apr_pstrmemdup(p, s, n);
}

/* Splits "Name <addr>", "\"Name\" <addr>" or "addr". */
static int parse_from(apr_pool_t *p, const char *from, const char **name, const char **addr)
{
    const char *s = trim(p, from, strlen(from));
    apr_size_t n = strlen(s);

    *name = NULL;
    if (n && s[n - 1] == '>') {
        const char *lt = strrchr(s, '<');
        const char *nm;
        if (!lt) {
            return 0;
        }
        *addr = apr_pstrmemdup(p, lt + 1, (apr_size_t)(s + n - 1 - (lt + 1)));
        nm = trim(p, s, (apr_size_t)(lt - s));
        apr_size_t nl = strlen(nm);
        if (nl >= 2 && nm[0] == '"' && nm[nl - 1] == '"') {
            /* unquote; quoted-pair backslashes are dropped */
            char *u = apr_palloc(p, nl), *o = u;
            const char *c;
            for (c = nm + 1; c < nm + nl - 1; c++) {
                if (*c == '\\' && c + 1 < nm + nl - 1) c++;
                *o++ = *c;
            }
            *o = '\0';
            nm = u;
        }
        if (*nm) {
            *name = nm;
        }
    }
    else {
        *addr = s;
    }
    return addr_ok(*addr);
}

const char *pp_mail_address(apr_pool_t *p, const char *from)
{
    const char *name, *addr;
    if (!from || has_ctl(from) || !parse_from(p, from, &name, &addr)) {
        return NULL;
    }
    return addr;
}

/* ---- encodings ------------------------------------------------------------- */

static const char hexdig[] = "0123456789ABCDEF";

/* Appends a header value as RFC 2047 B encoded words, folded one word per
 * line; never splits a UTF-8 sequence across words (RFC 2047 5). */
static void add_encoded_words(pp_sb_t *b, const char *s)
{
    apr_size_t n = strlen(s), i = 0;
    int first = 1;

    while (i < n || first) {
        apr_size_t take = n - i;
        char enc[PP_MAIL_EW_BYTES * 2];
        if (take > PP_MAIL_EW_BYTES) {
            take = PP_MAIL_EW_BYTES;
            /* back off to the start of a character */
            while (take > 0 && ((unsigned char)s[i + take] & 0xC0) == 0x80) take--;
        }
        apr_base64_encode(enc, s + i, (int)take);
        sb_add(b, first ? "=?UTF-8?B?" : "\r\n =?UTF-8?B?");
        sb_add(b, enc);
        sb_add(b, "?=");
        i += take;
        first = 0;
    }
}

/* RFC 2045 quoted-printable of UTF-8 text. LF or CRLF become hard CRLF line
 * breaks; longer lines get soft breaks. A '.' or "From " at the start of a
 * line is encoded too, so neither SMTP dot-stuffing nor mbox quoting can
 * alter the content. */
static void add_qp(pp_sb_t *b, const char *s)
{
    apr_size_t col = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char tok[4];
        apr_size_t tl;
        int at_eol;

        if (c == '\r' && s[1] == '\n') {
            continue;
        }
        if (c == '\n') {
            sb_add(b, "\r\n");
            col = 0;
            continue;
        }
        at_eol = s[1] == '\0' || s[1] == '\n' || (s[1] == '\r' && s[2] == '\n');
        if (((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol))
            && !(col == 0 && (c == '.' || (c == 'F' && strncmp(s, "From ", 5) == 0)))) {
            tok[0] = (char)c;
            tl = 1;
        }
        else {
            tok[0] = '=';
            tok[1] = hexdig[c >> 4];
            tok[2] = hexdig[c & 15];
            tl = 3;
        }
        /* room for the token and, unless the line ends here, a soft break */
        if (col + tl > (at_eol ? PP_MAIL_QP_LINE : PP_MAIL_QP_LINE - 1)) {
            sb_add(b, "=\r\n");
            col = 0;
            if (c == '.' || (c == 'F' && strncmp(s, "From ", 5) == 0)) {
                tok[0] = '=';
                tok[1] = hexdig[c >> 4];
                tok[2] = hexdig[c & 15];
                tl = 3;
            }
        }
        sb_addn(b, tok, tl);
        col += tl;
    }
}

static const char *html_escape(apr_pool_t *p, const char *s)
{
    pp_sb_t b;
    sb_init(&b, p, strlen(s) + 32);
    for (; *s; s++) {
        switch (*s) {
        case '&':
            sb_add(&b, "&amp;");
            break;
        case '<':
            sb_add(&b, "&lt;");
            break;
        case '>':
            sb_add(&b, "&gt;");
            break;
        case '"':
            sb_add(&b, "&quot;");
            break;
        case '\'':
            sb_add(&b, "&#39;");
            break;
        default:
            sb_addn(&b, s, 1);
        }
    }
    return b.s;
}

static const char *random_hex(apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char raw[32];
    if (nbytes > sizeof(raw) || RAND_bytes(raw, (int)nbytes) != 1) {
        return NULL;
    }
    return pp_hex_encode(p, raw, nbytes);
}

/* ---- the login-link email -------------------------------------------------- */

void pp_mail_login_link(apr_pool_t *p, const char *to, const char *link, int ttl_minutes,
                        pp_mail_msg_t *out)
{
    /* Short source lines, so quoted-printable soft breaks fall only inside
     * the link and the raw message stays readable. */
    const char *expiry = apr_psprintf(p, "It expires in %d minute%s and works only once.",
                                      ttl_minutes, ttl_minutes == 1 ? "" : "s");
    const char *ignore = "If you did not ask to sign in, you can ignore this\n"
                         "email: nobody can sign in without the link.";

    out->to = to;
    out->subject = "Your sign-in link";
    out->text = apr_pstrcat(p,
                            "Hello,\n"
                            "\n"
                            "Use the link below to sign in to your trading account.\n",
                            expiry,
                            "\n"
                            "\n",
                            link,
                            "\n"
                            "\n",
                            ignore, "\n", NULL);
    out->html = apr_pstrcat(p,
                            "<!DOCTYPE html>\n"
                            "<html lang=\"en\">\n"
                            "<head>\n"
                            "<meta charset=\"utf-8\">\n"
                            "<meta name=\"viewport\"\n"
                            " content=\"width=device-width, initial-scale=1\">\n"
                            "<title>Your sign-in link</title>\n"
                            "</head>\n"
                            "<body style=\"font-family: sans-serif; line-height: 1.5;\n"
                            " color: #1a1a1a;\">\n"
                            "<p>Hello,</p>\n"
                            "<p>Use the button below to sign in to your trading account.\n",
                            expiry,
                            "</p>\n"
                            "<p><a href=\"",
                            html_escape(p, link),
                            "\"\n"
                            " style=\"display: inline-block; padding: 10px 18px;\n"
                            " background: #1f5fd6; color: #ffffff; text-decoration: none;\n"
                            " border-radius: 4px;\">Sign in</a></p>\n"
                            "<p>",
                            ignore,
                            "</p>\n"
                            "</body>\n"
                            "</html>\n",
                            NULL);
}

/* ---- formatting ------------------------------------------------------------ */

static void add_part_headers(pp_sb_t *b, const char *type)
{
    sb_add(b, "Content-Type: ");
    sb_add(b, type);
    sb_add(b, "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
}

const char *pp_mail_format(apr_pool_t *p, const pp_mail_conf_t *c, const pp_mail_msg_t *m,
                           const char *msgid_domain, apr_time_t now, const char **out)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    const char *name, *from_addr, *subject, *boundary = NULL, *id, *err;
    pp_email_parts_t to;
    apr_time_exp_t t;
    pp_sb_t b;

    *out = NULL;
    if (!c || !m || !c->from || !m->to || !m->subject || !m->text || !msgid_domain) {
        return "mail: from, to, subject, text and the Message-ID domain are required";
    }
    /* Header values first: a CR or LF there is an injection attempt. */
    if (has_crlf(c->from) || has_crlf(m->to) || has_crlf(m->subject) || has_crlf(msgid_domain)) {
        return "mail: header injection refused (CR or LF in a header value)";
    }
    if (has_ctl(c->from) || has_ctl(m->to) || has_ctl(m->subject)) {
        return "mail: control character in a header value";
    }
    if ((err = pp_email_split(p, m->to, &to)) != NULL) {
        return apr_pstrcat(p, "mail: invalid recipient address: ", err, NULL);
    }
    if (!is_utf8(c->from) || !parse_from(p, c->from, &name, &from_addr)) {
        return "mail: invalid sender (expected \"Name <addr>\" or \"addr\", ASCII address)";
    }
    if (!domain_ok(msgid_domain)) {
        return "mail: invalid Message-ID domain";
    }
    subject = m->subject;
    if (!is_utf8(subject) || !is_utf8(m->text) || (m->html && !is_utf8(m->html))) {
        return "mail: subject or body is not valid UTF-8";
    }
    id = random_hex(p, 16);
    if (m->html) {
        boundary = random_hex(p, 16);
    }
    if (!id || (m->html && !boundary)) {
        return "mail: no random bytes for the Message-ID";
    }
    /* "=_" can occur neither in quoted-printable output nor in base64, so the
     * boundary cannot collide with any encoded content. */
    if (boundary) {
        boundary = apr_pstrcat(p, "=_pp_", boundary, NULL);
    }

    sb_init(&b, p, 2048 + 3 * (strlen(m->text) + (m->html ? strlen(m->html) : 0)));
    apr_time_exp_gmt(&t, now);
    sb_add(&b, apr_psprintf(p, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[t.tm_wday],
                            t.tm_mday, months[t.tm_mon], t.tm_year + 1900, t.tm_hour, t.tm_min,
                            t.tm_sec));

    sb_add(&b, "From: ");
    if (name) {
        int plain = 1;
        const char *n;
        for (n = name; *n; n++) {
            if ((unsigned char)*n < 0x20 || (unsigned char)*n > 0x7E) plain = 0;
        }
        if (plain && !strstr(name, "=?") && strlen(name) + 8 < PP_MAIL_LINE) {
            sb_add(&b, "\"");
            for (n = name; *n; n++) {
                if (*n == '"' || *n == '\\') sb_add(&b, "\\");
                sb_addn(&b, n, 1);
            }
            sb_add(&b, "\"");
        }
        else {
            add_encoded_words(&b, name);
        }
        sb_add(&b, sb_col(&b) + strlen(from_addr) + 3 > PP_MAIL_LINE ? "\r\n <" : " <");
        sb_add(&b, from_addr);
        sb_add(&b, ">");
    }
    else {
        sb_add(&b, from_addr);
    }
    sb_add(&b, "\r\nTo: ");
    /* ASCII unless the message must travel with SMTPUTF8 anyway (RFC 6532) */
    sb_add(&b, to.utf8_local ? apr_pstrcat(p, to.local, "@", to.domain, NULL) : to.envelope);
    sb_add(&b, "\r\nSubject: ");
    {
        const char *s;
        int plain = strlen(subject) + 9 <= PP_MAIL_LINE && !strstr(subject, "=?");
        for (s = subject; *s && plain; s++) {
            if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E) plain = 0;
        }
        if (plain) {
            sb_add(&b, subject);
        }
        else {
            add_encoded_words(&b, subject);
        }
    }
    sb_add(&b, apr_psprintf(p, "\r\nMessage-ID: <%" APR_TIME_T_FMT ".%s@%s>\r\n", apr_time_sec(now),
                            id, msgid_domain));
    sb_add(&b, "MIME-Version: 1.0\r\n"
               /* RFC 3834: no vacation auto-replies to a login link */
               "Auto-Submitted: auto-generated\r\n");
    if (!m->html) {
        add_part_headers(&b, "text/plain");
        add_qp(&b, m->text);
        if (b.len < 2 || b.s[b.len - 1] != '\n') {
            sb_add(&b, "\r\n");
        }
        *out = b.s;
        return NULL;
    }
    sb_add(&b, "Content-Type: multipart/alternative;\r\n boundary=\"");
    sb_add(&b, boundary);
    sb_add(&b, "\"\r\n\r\nThis is a multi-part message in MIME format.\r\n--");
    sb_add(&b, boundary);
    sb_add(&b, "\r\n");
    add_part_headers(&b, "text/plain");
    add_qp(&b, m->text);
    sb_add(&b, "\r\n--");
    sb_add(&b, boundary);
    sb_add(&b, "\r\n");
    add_part_headers(&b, "text/html");
    add_qp(&b, m->html);
    sb_add(&b, "\r\n--");
    sb_add(&b, boundary);
    sb_add(&b, "--\r\n");
    *out = b.s;
    return NULL;
}

/* ---- sending --------------------------------------------------------------- */

const char *pp_mail_global_init(void)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    return rc == CURLE_OK ? NULL : curl_easy_strerror(rc);
}

void pp_mail_global_cleanup(void)
{
    curl_global_cleanup();
}

typedef struct {
    const char *data;
    size_t len, pos;
} pp_mail_upload_t;

static size_t upload_read(char *buf, size_t size, size_t nitems, void *baton)
{
    pp_mail_upload_t *u = baton;
    size_t n = size * nitems;
    if (n > u->len - u->pos) {
        n = u->len - u->pos;
    }
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/* smtp:// or smtps:// with a host and no userinfo (credentials have their own
 * fields and must never end up in an error message). */
static int url_ok(const char *url)
{
    const char *rest, *end;
    if (apr_cstr_casecmpn(url, "smtp://", 7) == 0) rest = url + 7;
    else if (apr_cstr_casecmpn(url, "smtps://", 8) == 0) rest = url + 8;
    else return 0;
    end = rest + strcspn(rest, "/?#");
    return end > rest && !memchr(rest, '@', (size_t)(end - rest)) && !has_ctl(url)
           && !strchr(url, ' ');
}

/* What the relay said it supports in its last EHLO answer (after STARTTLS
 * the client says EHLO again and earlier answers no longer count). */
typedef struct {
    int in_ehlo;  /* the last command sent was EHLO */
    int smtputf8; /* that EHLO was answered with SMTPUTF8 (RFC 6531) */
} pp_mail_caps_t;

static int ehlo_keyword(const char *line, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    return n >= 4 + k && strncmp(line, "250", 3) == 0 && (line[3] == '-' || line[3] == ' ')
           && apr_cstr_casecmpn(line + 4, kw, k) == 0
           && (n == 4 + k || line[4 + k] == ' ' || line[4 + k] == '\r' || line[4 + k] == '\n');
}

/* libcurl's protocol trace: commands out, response lines in. Only EHLO and
 * its answer are looked at; nothing is kept (AUTH lines carry secrets). */
static int caps_trace(CURL *h, curl_infotype type, char *data, size_t size, void *baton)
{
    pp_mail_caps_t *caps = baton;
    (void)h;
    if (type == CURLINFO_HEADER_OUT) {
        caps->in_ehlo = size >= 4 && apr_cstr_casecmpn(data, "EHLO", 4) == 0;
        if (caps->in_ehlo) {
            caps->smtputf8 = 0;
        }
    }
    else if (type == CURLINFO_HEADER_IN && caps->in_ehlo) {
        while (size > 0) {
            const char *eol = memchr(data, '\n', size);
            size_t n = eol ? (size_t)(eol - data) + 1 : size;
            if (ehlo_keyword(data, n, "SMTPUTF8")) {
                caps->smtputf8 = 1;
            }
            data += n;
            size -= n;
        }
    }
    return 0;
}

/* A handle with the relay settings (URL, TLS, AUTH, time budget). */
static CURL *relay_handle(const pp_mail_conf_t *c, long timeout_ms, char *errbuf)
{
    CURL *h = curl_easy_init();

    if (!h) {
        return NULL;
    }
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, c->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     c->starttls == PP_MAIL_TLS_REQUIRED ? (long)CURLUSESSL_ALL
                     : c->starttls == PP_MAIL_TLS_TRY    ? (long)CURLUSESSL_TRY
                                                         : (long)CURLUSESSL_NONE);
    if (c->username) {
        curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    if (c->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->verify_peer ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->verify_peer ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 1L);
    /* httpd threads: no SIGALRM-based DNS timeouts */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    return h;
}

static void trace_caps(CURL *h, pp_mail_caps_t *caps)
{
    /* the debug function runs only in verbose mode; it replaces the stderr trace */
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, caps_trace);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, caps);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
}

static const char *curl_failure(apr_pool_t *p, CURL *h, const pp_mail_conf_t *c, CURLcode rc,
                                const char *errbuf)
{
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return apr_psprintf(p, "mail: SMTP delivery via %s failed: %s%s%s (%s)", c->url,
                        curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf,
                        code ? apr_psprintf(p, "SMTP response %ld", code)
                             : "no SMTP response code");
}

#define NO_SMTPUTF8                                                  \
    "mail: the relay does not offer SMTPUTF8 (RFC 6531), which the " \
    "recipient's non-ASCII local part needs: it cannot deliver to this address"

/* Connects, says EHLO (and STARTTLS, AUTH) and hangs up: does the relay
 * offer SMTPUTF8? libcurl would otherwise send a UTF-8 RCPT TO to a relay
 * that did not ask for one. NULL, or a connection failure. */
static const char *probe_smtputf8(apr_pool_t *p, const pp_mail_conf_t *c, long timeout_ms,
                                  pp_mail_caps_t *caps)
{
    char errbuf[CURL_ERROR_SIZE];
    const char *err = NULL;
    CURL *h = relay_handle(c, timeout_ms, errbuf);
    CURLcode rc;

    if (!h) {
        return "mail: curl_easy_init failed";
    }
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    trace_caps(h, caps);
    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        err = curl_failure(p, h, c, rc, errbuf);
    }
    curl_easy_cleanup(h);
    return err;
}

const char *pp_mail_send(apr_pool_t *p, const pp_mail_conf_t *c, const char *to,
                         const char *message, pp_mail_fail_t *fail)
{
    char errbuf[CURL_ERROR_SIZE];
    pp_mail_upload_t up;
    pp_mail_caps_t caps = { 0, 0 };
    pp_email_parts_t rcpt_to;
    struct curl_slist *rcpt = NULL;
    const char *from, *err = NULL;
    long timeout = c && c->timeout_ms > 0 ? c->timeout_ms : 30000L;
    apr_time_t deadline = apr_time_now() + apr_time_from_msec(timeout);
    CURL *h;
    CURLcode rc;

    if (fail) {
        *fail = PP_MAIL_FAIL_TEMPORARY;
    }
    if (!c || !c->url || !url_ok(c->url)) {
        return "mail: the relay URL must be smtp:// or smtps://host[:port] without userinfo";
    }
    if (!to || has_ctl(to) || (err = pp_email_split(p, to, &rcpt_to)) != NULL) {
        if (fail) {
            *fail = PP_MAIL_FAIL_ADDRESS;
        }
        return apr_pstrcat(p, "mail: invalid recipient address", err ? ": " : "", err, NULL);
    }
    from = c->from ? pp_mail_address(p, c->from) : NULL;
    if (!from) {
        return "mail: invalid sender address";
    }
    if (!message) {
        return "mail: no message";
    }
    if (rcpt_to.utf8_local) {
        if ((err = probe_smtputf8(p, c, timeout, &caps)) != NULL) {
            return err;
        }
        if (!caps.smtputf8) {
            if (fail) {
                *fail = PP_MAIL_FAIL_NO_SMTPUTF8;
            }
            return NO_SMTPUTF8;
        }
        timeout = (long)apr_time_as_msec(deadline - apr_time_now());
    }
    h = relay_handle(c, timeout, errbuf);
    if (!h) {
        return "mail: curl_easy_init failed";
    }
    /* the domain in A-labels: libcurl's own IDN conversion depends on the
     * process locale, and the A-label form needs no SMTPUTF8 */
    rcpt = curl_slist_append(NULL, rcpt_to.envelope);
    if (!rcpt) {
        curl_easy_cleanup(h);
        return "mail: out of memory";
    }
    up.data = message;
    up.len = strlen(message);
    up.pos = 0;

    /* libcurl adds SMTPUTF8 to MAIL FROM when the relay offers it and a
     * recipient is not ASCII (RFC 6531 3.4) */
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    if (rcpt_to.utf8_local) {
        trace_caps(h, &caps);
    }

    rc = curl_easy_perform(h);
    if (rc != CURLE_OK && rcpt_to.utf8_local && !caps.smtputf8 && !caps.in_ehlo) {
        /* this connection's EHLO was answered in full, without SMTPUTF8 (a
         * different relay behind the same name than the probe's) */
        if (fail) {
            *fail = PP_MAIL_FAIL_NO_SMTPUTF8;
        }
        err = NO_SMTPUTF8;
    }
    else if (rc != CURLE_OK) {
        err = curl_failure(p, h, c, rc, errbuf);
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    return err;
}
