/* pp_mail: the login-link message (structure, encodings, header injection)
 * and delivery with libcurl against test/smtp_sink/smtp_sink.py. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "unit_suites.h"
#include "pp_mail.h"

#include <apr_base64.h>
#include <apr_strings.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FROM "Poly Sim <noreply@polysim.example>"
#define TO   "trader@example.com"
#define LINK "https://trade.example.test/auth/login?token=AbC-_0123456789xyz&next=/m?a=1&b=2"

/* ---- helpers: a small MIME reader ------------------------------------------ */

static pp_mail_conf_t conf(void)
{
    pp_mail_conf_t c;
    memset(&c, 0, sizeof(c));
    c.from = FROM;
    c.verify_peer = 1;
    c.timeout_ms = 10000;
    return c;
}

/* 2026-05-31 12:34:56 UTC, a Sunday */
static apr_time_t fixed_now(void)
{
    apr_time_exp_t t;
    apr_time_t now;
    memset(&t, 0, sizeof(t));
    t.tm_year = 126;
    t.tm_mon = 4;
    t.tm_mday = 31;
    t.tm_hour = 12;
    t.tm_min = 34;
    t.tm_sec = 56;
    ck_assert_int_eq(apr_time_exp_gmt_get(&now, &t), APR_SUCCESS);
    return now;
}

static const char *format_ok(const pp_mail_msg_t *m)
{
    pp_mail_conf_t c = conf();
    const char *out = "unset";
    const char *err = pp_mail_format(unit_pool, &c, m, "polysim.example", fixed_now(), &out);
    ck_assert_msg(err == NULL, "pp_mail_format: %s", err);
    ck_assert_ptr_nonnull(out);
    return out;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += len;
    }
    return n;
}

/* Every line ends in CRLF: no bare CR, no bare LF, and a final CRLF. */
static void assert_crlf(const char *s)
{
    const char *c;
    for (c = s; *c; c++) {
        if (*c == '\r') ck_assert_msg(c[1] == '\n', "bare CR at offset %d", (int)(c - s));
        if (*c == '\n') ck_assert_msg(c > s && c[-1] == '\r', "bare LF at offset %d", (int)(c - s));
    }
    ck_assert_msg(c - s >= 2 && c[-2] == '\r' && c[-1] == '\n', "no final CRLF");
}

static void assert_lines_at_most(const char *s, size_t max)
{
    const char *line = s, *eol;
    while ((eol = strstr(line, "\r\n")) != NULL) {
        ck_assert_msg((size_t)(eol - line) <= max, "line of %d octets > %d: %.40s...",
                      (int)(eol - line), (int)max, line);
        line = eol + 2;
    }
}

typedef struct {
    const char *headers; /* unfolded, each line ends in CRLF */
    const char *body;
} mime_t;

static mime_t split(const char *s)
{
    mime_t m;
    const char *sep = strstr(s, "\r\n\r\n");
    char *h, *o;
    const char *c;
    ck_assert_ptr_nonnull(sep);
    h = apr_pstrmemdup(unit_pool, s, (apr_size_t)(sep - s) + 2);
    /* unfold: CRLF followed by white space is not a line end */
    for (o = h, c = h; *c; c++) {
        if (c[0] == '\r' && c[1] == '\n' && (c[2] == ' ' || c[2] == '\t')) {
            c += 1;
            continue;
        }
        *o++ = *c;
    }
    *o = '\0';
    m.headers = h;
    m.body = sep + 4;
    return m;
}

/* The value of a header that must occur exactly once. */
static const char *header(const mime_t *m, const char *name)
{
    const char *line = m->headers, *found = NULL, *eol;
    size_t n = strlen(name);
    int seen = 0;
    for (; *line; line = eol + 2) {
        eol = strstr(line, "\r\n");
        ck_assert_ptr_nonnull(eol);
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            found = apr_pstrmemdup(unit_pool, line + n + 1, (apr_size_t)(eol - line - n - 1));
            seen++;
        }
    }
    ck_assert_msg(seen == 1, "header %s occurs %d times", name, seen);
    while (*found == ' ') found++;
    return found;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1; /* RFC 2045: encoders emit upper case */
}

/* Strict quoted-printable decoder: fails the test on malformed input, lines
 * over 76 octets, or trailing white space. */
static const char *qp_decode(const char *s)
{
    char *out = apr_palloc(unit_pool, strlen(s) + 1), *o = out;
    assert_lines_at_most(s, 76);
    while (*s) {
        if (*s == '=') {
            if (s[1] == '\r' && s[2] == '\n') {
                s += 3;
                continue;
            }
            ck_assert_msg(hexval(s[1]) >= 0 && hexval(s[2]) >= 0, "bad QP escape: %.8s", s);
            *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 3;
            continue;
        }
        if ((*s == ' ' || *s == '\t') && s[1] == '\r') {
            ck_abort_msg("white space before a QP line end");
        }
        ck_assert_msg(*s == '\r' || *s == '\n' || *s == '\t'
                          || (*s >= 32 && *s <= 126 && *s != '='),
                      "byte %d must be encoded", (unsigned char)*s);
        *o++ = *s++;
    }
    *o = '\0';
    return out;
}

typedef struct {
    mime_t head;
    const char *boundary;
    const char *preamble;
    mime_t parts[4];
    const char *raw[4]; /* encoded part bodies */
    int nparts;
} multipart_t;

static multipart_t parse_multipart(const char *msg)
{
    multipart_t mp;
    const char *ct, *b, *delim, *close, *cur, *next;

    memset(&mp, 0, sizeof(mp));
    mp.head = split(msg);
    ct = header(&mp.head, "Content-Type");
    ck_assert_msg(strncmp(ct, "multipart/alternative;", 22) == 0, "Content-Type %s", ct);
    b = strstr(ct, "boundary=\"");
    ck_assert_ptr_nonnull(b);
    b += 10;
    mp.boundary = apr_pstrmemdup(unit_pool, b, strcspn(b, "\""));
    ck_assert_int_ge(strlen(mp.boundary), 16);
    ck_assert_int_le(strlen(mp.boundary), 70);

    delim = apr_pstrcat(unit_pool, "\r\n--", mp.boundary, NULL);
    close = apr_pstrcat(unit_pool, "\r\n--", mp.boundary, "--\r\n", NULL);
    /* preamble, then the first delimiter */
    cur = strstr(mp.head.body, delim + 2);
    ck_assert_ptr_nonnull(cur);
    mp.preamble = apr_pstrmemdup(unit_pool, mp.head.body, (apr_size_t)(cur - mp.head.body));
    cur += strlen(delim) - 2;
    for (;;) {
        ck_assert_msg(cur[0] == '\r' && cur[1] == '\n', "no CRLF after a delimiter");
        cur += 2;
        next = strstr(cur, delim);
        ck_assert_ptr_nonnull(next);
        ck_assert_int_lt(mp.nparts, 4);
        mp.parts[mp.nparts] = split(apr_pstrmemdup(unit_pool, cur, (apr_size_t)(next - cur)));
        mp.raw[mp.nparts] = mp.parts[mp.nparts].body;
        mp.nparts++;
        if (strcmp(next, close) == 0) {
            break; /* the close delimiter ends the message, no epilogue */
        }
        cur = next + strlen(delim);
        ck_assert_msg(cur[0] != '-', "close delimiter not at the end");
    }
    return mp;
}

static const char *part_text(const multipart_t *mp, int i, const char *type)
{
    const char *ct = header(&mp->parts[i], "Content-Type");
    ck_assert_msg(strncmp(ct, type, strlen(type)) == 0 && strstr(ct, "charset=UTF-8"),
                  "part %d is %s, expected %s; charset=UTF-8", i, ct, type);
    ck_assert_str_eq(header(&mp->parts[i], "Content-Transfer-Encoding"), "quoted-printable");
    return qp_decode(mp->raw[i]);
}

/* Decodes a header made of RFC 2047 B words (and plain text between them). */
static const char *ew_decode(const char *v)
{
    char *out = apr_palloc(unit_pool, strlen(v) + 1), *o = out;
    while (*v) {
        if (strncmp(v, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(v + 10, "?=");
            char *enc, *dec;
            int n;
            ck_assert_ptr_nonnull(end);
            ck_assert_int_le(end + 2 - v, 75);
            enc = apr_pstrmemdup(unit_pool, v + 10, (apr_size_t)(end - v - 10));
            dec = apr_palloc(unit_pool, (apr_size_t)apr_base64_decode_len(enc));
            n = apr_base64_decode(dec, enc);
            /* RFC 2047 5: each word holds whole characters */
            ck_assert_msg(n == 0 || ((unsigned char)dec[0] & 0xC0) != 0x80,
                          "encoded word starts inside a character");
            {
                int i = n - 1, need;
                while (i > 0 && ((unsigned char)dec[i] & 0xC0) == 0x80) i--;
                need = (unsigned char)dec[i] >= 0xF0   ? 4
                       : (unsigned char)dec[i] >= 0xE0 ? 3
                       : (unsigned char)dec[i] >= 0xC0 ? 2
                                                       : 1;
                ck_assert_msg(n == 0 || n - i == need, "encoded word ends inside a character");
            }
            memcpy(o, dec, (size_t)n);
            o += n;
            v = end + 2;
            while (*v == ' ') v++; /* white space between encoded words is ignored */
            continue;
        }
        *o++ = *v++;
    }
    *o = '\0';
    return out;
}

/* ---- message structure ----------------------------------------------------- */

START_TEST(test_login_link_structure)
{
    pp_mail_msg_t m;
    multipart_t mp;
    const char *msg, *id, *text, *html;

    pp_mail_login_link(unit_pool, TO, LINK, 15, &m);
    msg = format_ok(&m);
    assert_crlf(msg);
    assert_lines_at_most(msg, 78);
    mp = parse_multipart(msg);

    ck_assert_str_eq(header(&mp.head, "Date"), "Sun, 31 May 2026 12:34:56 +0000");
    ck_assert_str_eq(header(&mp.head, "From"), "\"Poly Sim\" <noreply@polysim.example>");
    ck_assert_str_eq(header(&mp.head, "To"), TO);
    ck_assert_str_eq(header(&mp.head, "Subject"), m.subject);
    ck_assert_str_eq(header(&mp.head, "MIME-Version"), "1.0");
    ck_assert_str_eq(header(&mp.head, "Auto-Submitted"), "auto-generated");
    id = header(&mp.head, "Message-ID");
    ck_assert_msg(id[0] == '<' && strlen(id) > 20 && !strchr(id + 1, '<')
                      && strcmp(id + strlen(id) - 17, "@polysim.example>") == 0,
                  "Message-ID %s", id);

    ck_assert_int_eq(mp.nparts, 2);
    text = part_text(&mp, 0, "text/plain");
    html = part_text(&mp, 1, "text/html");
    ck_assert_int_eq(count(mp.preamble, mp.boundary), 0);
    ck_assert_int_eq(count(mp.raw[0], mp.boundary), 0);
    ck_assert_int_eq(count(mp.raw[1], mp.boundary), 0);

    /* what the trader must be told, in both parts */
    ck_assert_ptr_nonnull(strstr(text, "15 minutes"));
    ck_assert_ptr_nonnull(strstr(html, "15 minutes"));
    ck_assert_ptr_nonnull(strstr(text, "only once"));
    ck_assert_ptr_nonnull(strstr(html, "only once"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\""));
}
END_TEST

START_TEST(test_each_message_is_unique)
{
    pp_mail_msg_t m;
    multipart_t a, b;
    pp_mail_login_link(unit_pool, TO, LINK, 15, &m);
    a = parse_multipart(format_ok(&m));
    b = parse_multipart(format_ok(&m));
    ck_assert_str_ne(header(&a.head, "Message-ID"), header(&b.head, "Message-ID"));
    ck_assert_str_ne(a.boundary, b.boundary);
}
END_TEST

START_TEST(test_link_once_per_part_html_escaped)
{
    /* every character HTML escaping must handle */
    const char *link = "https://trade.example.test/auth/login?t=Ab&x=\"<script>'&y=1";
    const char *escaped =
        "https://trade.example.test/auth/login?t=Ab&amp;x=&quot;&lt;script&gt;&#39;&amp;y=1";
    pp_mail_msg_t m;
    multipart_t mp;
    const char *text, *html;

    pp_mail_login_link(unit_pool, TO, link, 15, &m);
    mp = parse_multipart(format_ok(&m));
    text = part_text(&mp, 0, "text/plain");
    html = part_text(&mp, 1, "text/html");
    ck_assert_int_eq(count(text, link), 1);
    ck_assert_int_eq(count(html, escaped), 1);
    ck_assert_int_eq(count(html, "<script>"), 0);
    ck_assert_int_eq(count(html, "\"<"), 0);
    ck_assert_ptr_nonnull(strstr(html, apr_pstrcat(unit_pool, "href=\"", escaped, "\"", NULL)));
}
END_TEST

START_TEST(test_one_minute_is_singular)
{
    pp_mail_msg_t m;
    pp_mail_login_link(unit_pool, TO, LINK, 1, &m);
    ck_assert_ptr_nonnull(strstr(m.text, "1 minute and"));
    ck_assert_ptr_nonnull(strstr(m.html, "1 minute and"));
}
END_TEST

START_TEST(test_long_link_is_wrapped_losslessly)
{
    /* 600 characters with '=' signs and a dot right where a soft break falls */
    char link[700];
    pp_mail_msg_t m;
    multipart_t mp;
    const char *msg, *text, *html;
    int i, n = snprintf(link, sizeof(link), "https://trade.example.test/auth/login?token=");
    for (i = 0; n < 600; i++) {
        link[n++] = (i % 7 == 0) ? '=' : (i % 5 == 0) ? '.' : (char)('a' + i % 26);
    }
    link[n] = '\0';

    pp_mail_login_link(unit_pool, TO, link, 15, &m);
    msg = format_ok(&m);
    assert_crlf(msg);
    mp = parse_multipart(msg);
    text = part_text(&mp, 0, "text/plain"); /* also asserts QP lines <= 76 */
    html = part_text(&mp, 1, "text/html");
    ck_assert_int_eq(count(text, link), 1);
    ck_assert_int_eq(count(html, link), 1); /* nothing in it needs HTML escaping */
    ck_assert_msg(count(mp.raw[0], "=\r\n") >= 7, "the link line was not soft-wrapped");
    ck_assert_int_eq(count(msg, link), 0);
}
END_TEST

START_TEST(test_text_only_and_line_handling)
{
    /* LF and CRLF become CRLF; a bare CR, '=', trailing blanks, a leading dot
     * and a leading "From " survive the round trip without raw exposure */
    const char *text = "one\ntwo \r\n.dot\nFrom here\nx=1\ttab\t\nbare\rcr\n";
    const char *want = "one\r\ntwo \r\n.dot\r\nFrom here\r\nx=1\ttab\t\r\nbare\rcr\r\n";
    pp_mail_msg_t m = { TO, "Plain", text, NULL };
    mime_t mm;
    const char *msg = format_ok(&m), *line;

    assert_crlf(msg);
    mm = split(msg);
    ck_assert_str_eq(header(&mm, "Content-Type"), "text/plain; charset=UTF-8");
    ck_assert_str_eq(header(&mm, "Content-Transfer-Encoding"), "quoted-printable");
    ck_assert_ptr_null(strstr(mm.headers, "multipart"));
    ck_assert_str_eq(qp_decode(mm.body), want);
    for (line = mm.body; *line; line = strstr(line, "\r\n") + 2) {
        ck_assert_msg(line[0] != '.' && strncmp(line, "From ", 5) != 0, "unsafe line: %.10s", line);
    }
}
END_TEST

START_TEST(test_boundary_never_in_content)
{
    /* content that imitates the boundary's shape */
    pp_mail_msg_t m = { TO, "Boundary", "--=_pp_0123456789abcdef\n--=_pp_\n=_pp_--\n",
                        "<p>--=_pp_ffff</p>\n" };
    multipart_t mp = parse_multipart(format_ok(&m));
    ck_assert_int_eq(mp.nparts, 2);
    ck_assert_str_eq(part_text(&mp, 0, "text/plain"),
                     "--=_pp_0123456789abcdef\r\n--=_pp_\r\n=_pp_--\r\n");
    ck_assert_int_eq(count(mp.raw[0], mp.boundary), 0);
    ck_assert_int_eq(count(mp.raw[0], "=_"), 0);
    ck_assert_int_eq(count(mp.raw[1], "=_"), 0);
}
END_TEST

START_TEST(test_non_ascii_subject_is_encoded)
{
    const char *subject =
        "Dein Anmeldelink \xe2\x80\x93 g\xc3\xbcltig f\xc3\xbcr 15 Minuten \xe2\x9c\x93, "
        "ein langer Betreff, der gefaltet werden muss \xf0\x9f\x94\x91";
    pp_mail_msg_t m = { TO, subject, "x", "<p>x</p>" };
    const char *msg = format_ok(&m), *raw, *c;
    mime_t head = split(msg);

    assert_lines_at_most(msg, 78);
    raw = header(&head, "Subject");
    for (c = raw; *c; c++) ck_assert_int_lt((unsigned char)*c, 0x80);
    ck_assert_ptr_nonnull(strstr(raw, "=?UTF-8?B?"));
    ck_assert_str_eq(ew_decode(raw), subject);
}
END_TEST

START_TEST(test_encoded_words_keep_characters_whole)
{
    /* one ASCII byte, then two-byte characters: a naive 36-byte split would
     * cut a character in half */
    char subject[128];
    pp_mail_msg_t m = { TO, subject, "x", NULL };
    mime_t head;
    int i;
    subject[0] = 'a';
    for (i = 0; i < 50; i++) {
        subject[1 + 2 * i] = '\xc3';
        subject[2 + 2 * i] = '\xbc';
    }
    subject[101] = '\0';
    head = split(format_ok(&m));
    ck_assert_int_ge(count(header(&head, "Subject"), "=?UTF-8?B?"), 3);
    ck_assert_str_eq(ew_decode(header(&head, "Subject")), subject);
}
END_TEST

START_TEST(test_ascii_subject_that_looks_encoded_is_encoded)
{
    pp_mail_msg_t m = { TO, "=?UTF-8?B?SGk=?=", "x", NULL };
    mime_t head = split(format_ok(&m));
    ck_assert_str_ne(header(&head, "Subject"), "=?UTF-8?B?SGk=?=");
    ck_assert_str_eq(ew_decode(header(&head, "Subject")), "=?UTF-8?B?SGk=?=");
}
END_TEST

static const struct {
    const char *from, *header;
} senders[] = {
    { "noreply@polysim.example", "noreply@polysim.example" },
    { "<noreply@polysim.example>", "noreply@polysim.example" },
    { "  Poly Sim   <noreply@polysim.example> ", "\"Poly Sim\" <noreply@polysim.example>" },
    { "\"Poly \\\"Sim\\\"\" <noreply@polysim.example>",
      "\"Poly \\\"Sim\\\"\" <noreply@polysim.example>" },
    { "Zo\xc3\xab <noreply@polysim.example>", "=?UTF-8?B?Wm/Dqw==?= <noreply@polysim.example>" },
};

START_TEST(test_from_header)
{
    pp_mail_conf_t c = conf();
    pp_mail_msg_t m = { TO, "s", "x", NULL };
    const char *out;
    mime_t head;
    c.from = senders[_i].from;
    ck_assert_ptr_null(pp_mail_format(unit_pool, &c, &m, "polysim.example", fixed_now(), &out));
    head = split(out);
    ck_assert_str_eq(header(&head, "From"), senders[_i].header);
    ck_assert_str_eq(pp_mail_address(unit_pool, senders[_i].from), "noreply@polysim.example");
}
END_TEST

/* ---- internationalised recipients ------------------------------------------ */

static const struct {
    const char *to, *header;
    int ascii; /* the whole message is ASCII */
} recipients[] = {
    { "trader@example.com", "trader@example.com", 1 },
    /* IDNA: the A-label, so the message needs no SMTPUTF8 */
    { "u@b\xc3\xbc"
      "cher.de",
      "u@xn--bcher-kva.de", 1 },
    { "\"a b\"@example.com", "\"a b\"@example.com", 1 },
    { "\"a@b\"@example.com", "\"a@b\"@example.com", 1 },
    /* a UTF-8 local part can only travel with SMTPUTF8: To is UTF-8 (RFC 6532) */
    { "jos\xc3\xa9@example.com", "jos\xc3\xa9@example.com", 0 },
    { "jos\xc3\xa9@b\xc3\xbc"
      "cher.de",
      "jos\xc3\xa9@b\xc3\xbc"
      "cher.de",
      0 },
};

START_TEST(test_to_header)
{
    pp_mail_msg_t m;
    mime_t head;
    const char *msg, *c, *line;

    pp_mail_login_link(unit_pool, recipients[_i].to, LINK, 15, &m);
    msg = format_ok(&m);
    head = split(msg);
    ck_assert_str_eq(header(&head, "To"), recipients[_i].header);
    /* every byte is ASCII, except in the To line of a SMTPUTF8 message */
    for (c = msg, line = msg; *c; c++) {
        if (*c == '\n') {
            line = c + 1;
        }
        if ((unsigned char)*c >= 0x80) {
            ck_assert_msg(!recipients[_i].ascii, "non-ASCII byte at %d", (int)(c - msg));
            ck_assert_msg(strncmp(line, "To: ", 4) == 0, "non-ASCII outside To: %.40s", line);
        }
    }
}
END_TEST

/* ---- refusals -------------------------------------------------------------- */

enum { F_FROM, F_TO, F_SUBJECT, F_DOMAIN, F_TEXT, F_HTML };

static const struct {
    int field;
    const char *value;
    const char *why; /* substring of the error */
} refusals[] = {
    { F_SUBJECT, "Hi\r\nBcc: victim@example.com", "injection" },
    { F_SUBJECT, "Hi\nBcc: victim@example.com", "injection" },
    { F_SUBJECT, "Hi\rBcc: victim@example.com", "injection" },
    { F_SUBJECT, "Hi\r\n Bcc: folded", "injection" },
    { F_TO, "trader@example.com\r\nBcc: victim@example.com", "injection" },
    { F_TO, "trader@example.com\n", "injection" },
    { F_FROM, "Poly <noreply@polysim.example>\r\nBcc: victim@example.com", "injection" },
    { F_FROM, "Poly\n <noreply@polysim.example>", "injection" },
    { F_DOMAIN, "polysim.example\r\nBcc: victim@example.com", "injection" },
    { F_SUBJECT, "tab\there", "control" },
    { F_SUBJECT, "nul-free but \x1b escape", "control" },
    { F_TO, "not-an-address", "recipient" },
    { F_TO, "a@example.com, b@example.com", "recipient" },
    { F_TO, "<a@example.com>", "recipient" },
    { F_TO, "Name <a@example.com>", "recipient" },
    { F_TO, "a(comment)@example.com", "comments" },
    { F_TO, "u@[192.0.2.1]", "literal" },
    { F_TO, "u@xn--zz.example", "IDNA2008" },
    { F_TO, "", "recipient" },
    { F_FROM, "Poly <not-an-address>", "sender" },
    { F_FROM, "Poly <noreply@polysim.example", "sender" },
    { F_FROM, "noreply@polysim.example>", "sender" },
    { F_FROM, "", "sender" },
    { F_DOMAIN, "", "Message-ID" },
    { F_DOMAIN, "poly sim.example", "Message-ID" },
    { F_DOMAIN, "polysim.example>", "Message-ID" },
    { F_SUBJECT, "bad \xc3\x28 utf-8", "UTF-8" },
    { F_TEXT, "overlong \xc0\xaf slash", "UTF-8" },
    { F_TEXT, "overlong \xe0\x80\xaf slash", "UTF-8" },
    { F_TEXT, "past U+10FFFF \xf4\x90\x80\x80", "UTF-8" },
    { F_HTML, "surrogate \xed\xa0\x80", "UTF-8" },
};

START_TEST(test_refused)
{
    pp_mail_conf_t c = conf();
    pp_mail_msg_t m;
    const char *domain = "polysim.example", *out = "unset", *err;

    pp_mail_login_link(unit_pool, TO, LINK, 15, &m);
    switch (refusals[_i].field) {
    case F_FROM:
        c.from = refusals[_i].value;
        break;
    case F_TO:
        m.to = refusals[_i].value;
        break;
    case F_SUBJECT:
        m.subject = refusals[_i].value;
        break;
    case F_DOMAIN:
        domain = refusals[_i].value;
        break;
    case F_TEXT:
        m.text = refusals[_i].value;
        break;
    case F_HTML:
        m.html = refusals[_i].value;
        break;
    }
    err = pp_mail_format(unit_pool, &c, &m, domain, fixed_now(), &out);
    ck_assert_msg(err != NULL, "case %d accepted", _i);
    ck_assert_msg(strstr(err, refusals[_i].why) != NULL, "case %d: %s", _i, err);
    ck_assert_ptr_null(out);
}
END_TEST

/* ---- delivery through the SMTP sink ---------------------------------------- */

#define PYTHON "/usr/bin/python3"

/* Check ends a failed test with _exit(): neither checked teardown nor atexit
 * runs then. So each sink dies with its test process (PR_SET_PDEATHSIG), and
 * the temp tree of all sinks belongs to the parent (an unchecked fixture). */
static char sink_root[] = "/tmp/pp-mail-test-XXXXXX";

static struct {
    pid_t pid;
    char *maildir;
    char url[64];
} sink;

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    if (d) {
        while ((e = readdir(d)) != NULL) {
            char sub[4096];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            struct stat st;
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(sub);
            else unlink(sub);
        }
        closedir(d);
        rmdir(path);
    }
}

static void sink_root_create(void)
{
    if (!mkdtemp(sink_root)) {
        perror("mkdtemp");
        abort();
    }
}

static void sink_root_remove(void)
{
    struct timespec ts = { 0, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL); /* the last sink may still be exiting */
    remove_tree(sink_root);
}

static void sink_stop(void)
{
    if (sink.pid > 0) {
        int status;
        kill(sink.pid, SIGTERM);
        waitpid(sink.pid, &status, 0);
        sink.pid = 0;
    }
}

static int run_quiet(char *const argv[])
{
    int status;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* 0: the sink cannot run here and the test should be skipped. In CI (CI or
 * PP_REQUIRE_SMTP_SINK set) a missing sink is a failure: the test command
 * installs python3-aiosmtpd. */
static int sink_available(void)
{
    char *const argv[] = { PYTHON, "-c", "import aiosmtpd", NULL };
    if (access(PYTHON, X_OK) == 0 && run_quiet(argv) == 0) {
        return 1;
    }
    ck_assert_msg(getenv("CI") == NULL && getenv("PP_REQUIRE_SMTP_SINK") == NULL,
                  "python3-aiosmtpd is missing (apt-get install python3-aiosmtpd)");
    fprintf(stderr, "SKIP: pp_mail_send tests need /usr/bin/python3 with python3-aiosmtpd "
                    "(apt-get install python3-aiosmtpd)\n");
    return 0;
}

/* Starts the sink with extra options (NULL-terminated); returns 0 to skip. */
static int sink_start(const char *opt1, const char *opt2, const char *opt3)
{
    char *dir;
    const char *ready;
    char *argv[16];
    int argc = 0, waited;
    FILE *f;

    if (!sink_available()) {
        return 0;
    }
    dir = apr_pstrcat(unit_pool, sink_root, "/sinkXXXXXX", NULL);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sink.maildir = apr_pstrcat(unit_pool, dir, "/mail", NULL);
    ready = apr_pstrcat(unit_pool, dir, "/ready.json", NULL);

    argv[argc++] = PYTHON;
    argv[argc++] = PP_SMTP_SINK;
    argv[argc++] = "--dir";
    argv[argc++] = sink.maildir;
    argv[argc++] = "--ready-file";
    argv[argc++] = (char *)ready;
    if (opt1) argv[argc++] = (char *)opt1;
    if (opt2) argv[argc++] = (char *)opt2;
    if (opt3) argv[argc++] = (char *)opt3;
    argv[argc] = NULL;

    sink.pid = fork();
    ck_assert_int_ge(sink.pid, 0);
    if (sink.pid == 0) {
        /* and if the test process is killed (timeout), the sink goes too */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execv(PYTHON, argv);
        _exit(127);
    }
    for (waited = 0; access(ready, R_OK) != 0; waited += 20) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        int status;
        ck_assert_msg(waitpid(sink.pid, &status, WNOHANG) == 0, "the SMTP sink exited early");
        ck_assert_msg(waited < 10000, "the SMTP sink was not ready within 10 s");
        nanosleep(&ts, NULL);
    }
    f = fopen(ready, "r");
    ck_assert_ptr_nonnull(f);
    {
        char buf[512];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        const char *port;
        buf[n] = '\0';
        port = strstr(buf, "\"port\": ");
        ck_assert_ptr_nonnull(port);
        snprintf(sink.url, sizeof(sink.url), "smtp://127.0.0.1:%d", atoi(port + 8));
    }
    fclose(f);
    return 1;
}

/* The received messages, oldest first (names sort by arrival). */
static int sink_messages(const char **out, int max)
{
    struct dirent **names;
    int n = scandir(sink.maildir, &names, NULL, alphasort), i, k = 0;
    ck_assert_int_ge(n, 0);
    for (i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);
        if (len > 4 && strcmp(names[i]->d_name + len - 4, ".eml") == 0 && k < max) {
            const char *path = apr_pstrcat(unit_pool, sink.maildir, "/", names[i]->d_name, NULL);
            FILE *f = fopen(path, "rb");
            struct stat st;
            char *buf;
            ck_assert_ptr_nonnull(f);
            ck_assert_int_eq(fstat(fileno(f), &st), 0);
            buf = apr_palloc(unit_pool, (apr_size_t)st.st_size + 1);
            ck_assert_int_eq(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
            buf[st.st_size] = '\0';
            fclose(f);
            out[k++] = buf;
        }
        free(names[i]);
    }
    free(names);
    return k;
}

static pp_mail_conf_t sink_conf(void)
{
    pp_mail_conf_t c = conf();
    c.url = sink.url;
    c.starttls = PP_MAIL_TLS_NONE;
    return c;
}

static const char *login_message(void)
{
    pp_mail_msg_t m;
    pp_mail_login_link(unit_pool, TO, LINK, 15, &m);
    return format_ok(&m);
}

static void send_setup(void)
{
    unit_pool_setup();
    ck_assert_ptr_null(pp_mail_global_init());
}

static void send_teardown(void)
{
    sink_stop();
    pp_mail_global_cleanup();
    unit_pool_teardown();
}

START_TEST(test_send_delivers_exactly)
{
    pp_mail_conf_t c;
    const char *msg = login_message(), *got[4], *err;
    if (!sink_start(NULL, NULL, NULL)) return;
    c = sink_conf();
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(sink_messages(got, 4), 1);
    /* envelope sender is the bare From address; the bytes arrive unchanged */
    ck_assert_str_eq(got[0], apr_pstrcat(unit_pool,
                                         "Return-Path: <noreply@polysim.example>\r\n"
                                         "Delivered-To: " TO "\r\n",
                                         msg, NULL));
}
END_TEST

START_TEST(test_send_survives_dot_lines)
{
    /* a raw message whose lines would end the SMTP DATA phase unescaped */
    const char *msg = "Subject: dots\r\n\r\nbefore\r\n.\r\n..two\r\n.\r\nafter\r\n";
    const char *got[4], *err;
    pp_mail_conf_t c;
    if (!sink_start(NULL, NULL, NULL)) return;
    c = sink_conf();
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(sink_messages(got, 4), 1);
    ck_assert_ptr_nonnull(strstr(got[0], msg));
}
END_TEST

START_TEST(test_send_with_auth)
{
    const char *msg = login_message(), *got[4], *err;
    pp_mail_conf_t c;
    if (!sink_start("--require-auth", "mailer:s3cret pass", NULL)) return;
    c = sink_conf();

    /* without credentials the sink refuses MAIL FROM */
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "530") != NULL, "%s", err);

    c.username = "mailer";
    c.password = "wrong-password";
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "535") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "wrong-password") == NULL, "password in the error: %s", err);
    ck_assert_int_eq(sink_messages(got, 4), 0);

    c.password = "s3cret pass";
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(sink_messages(got, 4), 1);
}
END_TEST

static const struct {
    const char *code, *stage;
} failures[] = {
    { "550", "rcpt" },
    { "451", "rcpt" },
    { "554", "data" },
    { "451", "data" },
};

START_TEST(test_send_reports_smtp_failures)
{
    const char *msg = login_message(), *got[4], *err;
    pp_mail_fail_t fail = PP_MAIL_FAIL_ADDRESS;
    pp_mail_conf_t c;
    if (!sink_start("--fail", failures[_i].code,
                    strcmp(failures[_i].stage, "data") == 0 ? "--fail-stage=data" : NULL)) {
        return;
    }
    c = sink_conf();
    err = pp_mail_send(unit_pool, &c, TO, msg, &fail);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(fail, PP_MAIL_FAIL_TEMPORARY);
    ck_assert_msg(strstr(err, apr_pstrcat(unit_pool, "SMTP response ", failures[_i].code, NULL)),
                  "%s", err);
    ck_assert_msg(strstr(err, "token=") == NULL, "message content in the error: %s", err);
    ck_assert_int_eq(sink_messages(got, 4), 0);
}
END_TEST

START_TEST(test_send_outage_via_fail_file)
{
    const char *msg = login_message(), *got[4], *err;
    const char *fail;
    pp_mail_conf_t c;
    FILE *f;
    if (!sink_start(NULL, NULL, NULL)) return;
    c = sink_conf();
    fail = apr_pstrcat(unit_pool, sink.maildir, "/.fail", NULL);
    f = fopen(fail, "w");
    ck_assert_ptr_nonnull(f);
    fputs("451\n", f);
    fclose(f);
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "SMTP response 451") != NULL, "%s", err);
    unlink(fail);
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(sink_messages(got, 4), 1);
}
END_TEST

START_TEST(test_send_starttls_modes)
{
    const char *msg = login_message(), *got[4], *err;
    pp_mail_conf_t c;
    if (!sink_start(NULL, NULL, NULL)) return;
    c = sink_conf();
    /* the sink offers no STARTTLS: required must fail before any mail moves */
    c.starttls = PP_MAIL_TLS_REQUIRED;
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(sink_messages(got, 4), 0);
    c.starttls = PP_MAIL_TLS_TRY;
    err = pp_mail_send(unit_pool, &c, TO, msg, NULL);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(sink_messages(got, 4), 1);
}
END_TEST

static int listening_socket(int *port, int do_listen)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    if (do_listen) ck_assert_int_eq(listen(s, 4), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return s;
}

START_TEST(test_send_refused_port_fails_fast)
{
    pp_mail_conf_t c = conf();
    int port, s = listening_socket(&port, 0); /* bound, not listening: refused */
    char url[64];
    apr_time_t t0;
    const char *err;

    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
    c.url = url;
    c.timeout_ms = 20000;
    t0 = apr_time_now();
    err = pp_mail_send(unit_pool, &c, TO, login_message(), NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(apr_time_now() - t0 < apr_time_from_sec(2), "took %d ms",
                  (int)apr_time_as_msec(apr_time_now() - t0));
    ck_assert_msg(strstr(err, "no SMTP response") != NULL, "%s", err);
    close(s);
}
END_TEST

/* A relay that stalls: 0 never greets (connect phase), 1 greets and answers
 * EHLO, then never answers MAIL FROM (transfer phase). */
static void stalling_relay(int s, int stage)
{
    int c = accept(s, NULL, NULL);
    char buf[512];
    if (c < 0) _exit(1);
    if (stage == 1) {
        const char *greet = "220 stall.test ESMTP\r\n", *ehlo = "250 stall.test\r\n";
        if (write(c, greet, strlen(greet)) < 0 || read(c, buf, sizeof(buf)) <= 0
            || write(c, ehlo, strlen(ehlo)) < 0) {
            _exit(1);
        }
    }
    while (read(c, buf, sizeof(buf)) > 0) {
        /* swallow MAIL FROM and whatever follows, answer nothing */
    }
    _exit(0);
}

START_TEST(test_send_stalled_relay_times_out)
{
    pp_mail_conf_t c = conf();
    int port, s = listening_socket(&port, 1), status;
    char url[64];
    apr_time_t t0, took;
    const char *err;
    pid_t relay = fork();

    ck_assert_int_ge(relay, 0);
    if (relay == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        stalling_relay(s, _i);
    }
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
    c.url = url;
    c.timeout_ms = 700;
    t0 = apr_time_now();
    err = pp_mail_send(unit_pool, &c, TO, login_message(), NULL);
    took = apr_time_now() - t0;
    kill(relay, SIGKILL);
    waitpid(relay, &status, 0);
    close(s);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(took >= apr_time_from_msec(600) && took < apr_time_from_sec(3), "took %d ms",
                  (int)apr_time_as_msec(took));
    ck_assert_msg(strstr(err, "Timeout") != NULL || strstr(err, "timed out") != NULL, "%s", err);
}
END_TEST

/* ---- internationalised delivery --------------------------------------------- */

static const struct {
    const char *to, *envelope;
    int smtputf8; /* MAIL FROM must carry SMTPUTF8 */
} deliveries[] = {
    { "jos\xc3\xa9@example.com", "jos\xc3\xa9@example.com", 1 },
    { "u@b\xc3\xbc"
      "cher.de",
      "u@xn--bcher-kva.de", 0 },
    { "jos\xc3\xa9@b\xc3\xbc"
      "cher.de",
      "jos\xc3\xa9@xn--bcher-kva.de", 1 },
    { "\"a b\"@example.com", "\"a b\"@example.com", 0 },
    { "\"a@b\"@example.com", "\"a@b\"@example.com", 0 },
};

static const char *message_to(const char *to)
{
    pp_mail_msg_t m;
    pp_mail_login_link(unit_pool, to, LINK, 15, &m);
    return format_ok(&m);
}

START_TEST(test_send_international)
{
    const char *msg = message_to(deliveries[_i].to), *got[4], *err;
    pp_mail_fail_t fail = PP_MAIL_FAIL_ADDRESS;
    pp_mail_conf_t c;
    if (!sink_start(NULL, NULL, NULL)) return;
    c = sink_conf();
    err = pp_mail_send(unit_pool, &c, deliveries[_i].to, msg, &fail);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(sink_messages(got, 4), 1);
    /* the envelope as the sink read it, byte for byte, and the message unchanged */
    ck_assert_str_eq(got[0], apr_pstrcat(unit_pool,
                                         "Return-Path: <noreply@polysim.example>\r\n"
                                         "Delivered-To: ",
                                         deliveries[_i].envelope, "\r\n",
                                         deliveries[_i].smtputf8
                                             ? "Received: by smtp-sink.localhost with UTF8SMTP\r\n"
                                             : "",
                                         msg, NULL));
}
END_TEST

START_TEST(test_send_without_smtputf8)
{
    const char *got[4], *err;
    pp_mail_fail_t fail = PP_MAIL_FAIL_TEMPORARY;
    pp_mail_conf_t c;
    if (!sink_start("--no-smtputf8", NULL, NULL)) return;
    c = sink_conf();
    /* a UTF-8 local part: permanently undeliverable through this relay */
    err = pp_mail_send(unit_pool, &c, "jos\xc3\xa9@example.com",
                       message_to("jos\xc3\xa9@example.com"), &fail);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(fail, PP_MAIL_FAIL_NO_SMTPUTF8);
    ck_assert_msg(strstr(err, "SMTPUTF8") != NULL, "%s", err);
    ck_assert_int_eq(sink_messages(got, 4), 0);
    /* an IDNA domain needs no SMTPUTF8: the A-label goes through */
    err = pp_mail_send(unit_pool, &c,
                       "u@b\xc3\xbc"
                       "cher.de",
                       message_to("u@b\xc3\xbc"
                                  "cher.de"),
                       &fail);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_int_eq(sink_messages(got, 4), 1);
    ck_assert_ptr_nonnull(strstr(got[0], "Delivered-To: u@xn--bcher-kva.de\r\n"));
}
END_TEST

static int is_ascii_text(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80) return 0;
    }
    return 1;
}

/* A relay that answers every connection's EHLO with the capability line
 * caps[i] (connection i; the last one repeats), accepts everything else, and
 * appends every command it reads to log (one per line). Like a strict relay,
 * it refuses a non-ASCII command when it did not offer SMTPUTF8. */
static void scripted_relay(int s, const char *const *caps, int ncaps, const char *log)
{
    int i;
    for (i = 0;; i++) {
        int c = accept(s, NULL, NULL);
        FILE *in, *rec;
        char line[1024];
        if (c < 0) _exit(1);
        in = fdopen(dup(c), "r");
        rec = fopen(log, "a");
        if (!in || !rec || write(c, "220 relay.test ESMTP\r\n", 22) < 0) _exit(1);
        while (fgets(line, sizeof(line), in)) {
            const char *reply = "250 OK\r\n";
            char ehlo[256];
            fputs(line, rec);
            fflush(rec);
            if (strncasecmp(line, "EHLO", 4) == 0) {
                snprintf(ehlo, sizeof(ehlo), "250-relay.test\r\n250 %s\r\n",
                         caps[i < ncaps ? i : ncaps - 1]);
                reply = ehlo;
            }
            else if (strncasecmp(line, "DATA", 4) == 0) {
                reply = "354 go on\r\n";
            }
            else if (strncasecmp(line, "QUIT", 4) == 0) {
                reply = "221 bye\r\n";
            }
            else if (!strstr(caps[i < ncaps ? i : ncaps - 1], "SMTPUTF8") && !is_ascii_text(line)) {
                reply = "553 5.6.7 a non-ASCII address needs SMTPUTF8\r\n";
            }
            else if (strcmp(line, ".\r\n") != 0 && strncasecmp(line, "MAIL", 4) != 0
                     && strncasecmp(line, "RCPT", 4) != 0) {
                continue; /* message content */
            }
            if (write(c, reply, strlen(reply)) < 0) break;
        }
        fclose(in);
        fclose(rec);
        close(c);
    }
}

static const char *run_against_relay(const char *const *caps, int ncaps, const char *log,
                                     pp_mail_fail_t *fail)
{
    pp_mail_conf_t c = conf();
    int port, s = listening_socket(&port, 1), status;
    char url[64];
    const char *err;
    pid_t relay = fork();

    ck_assert_int_ge(relay, 0);
    if (relay == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        scripted_relay(s, caps, ncaps, log);
    }
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
    c.url = url;
    err = pp_mail_send(unit_pool, &c, "jos\xc3\xa9@example.com",
                       message_to("jos\xc3\xa9@example.com"), fail);
    kill(relay, SIGKILL);
    waitpid(relay, &status, 0);
    close(s);
    return err;
}

static char *read_log(const char *log)
{
    FILE *f = fopen(log, "r");
    char *buf = apr_pcalloc(unit_pool, 65536);
    if (f) {
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

START_TEST(test_send_never_offers_utf8_to_a_relay_without_smtputf8)
{
    static const char *const caps[] = { "8BITMIME" };
    char log[] = "/tmp/pp-relay-log-XXXXXX";
    pp_mail_fail_t fail = PP_MAIL_FAIL_TEMPORARY;
    const char *err, *seen;
    int fd = mkstemp(log);

    ck_assert_int_ge(fd, 0);
    close(fd);
    err = run_against_relay(caps, 1, log, &fail);
    seen = read_log(log);
    unlink(log);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(fail, PP_MAIL_FAIL_NO_SMTPUTF8);
    /* one EHLO (the probe), and no MAIL or RCPT: no UTF-8 ever left */
    ck_assert_msg(strstr(seen, "EHLO") && !strstr(seen, "MAIL") && !strstr(seen, "RCPT"),
                  "relay saw:\n%s", seen);
}
END_TEST

START_TEST(test_send_utf8_via_relay_with_smtputf8)
{
    /* the probe and the delivery each see SMTPUTF8; the second connection of
     * a relay that loses it is a permanent failure too */
    static const char *const offered[] = { "SMTPUTF8" }, *const lost[] = { "SMTPUTF8",
                                                                           "SIZE 1000" };
    char log[] = "/tmp/pp-relay-log-XXXXXX";
    pp_mail_fail_t fail = PP_MAIL_FAIL_ADDRESS;
    const char *err, *seen;
    int fd = mkstemp(log);

    ck_assert_int_ge(fd, 0);
    close(fd);
    err = run_against_relay(offered, 1, log, &fail);
    seen = read_log(log);
    ck_assert_msg(err == NULL, "%s", err);
    ck_assert_msg(strstr(seen, "MAIL FROM:<noreply@polysim.example> SMTPUTF8\r\n")
                      && strstr(seen, "RCPT TO:<jos\xc3\xa9@example.com>\r\n"),
                  "relay saw:\n%s", seen);

    err = run_against_relay(lost, 2, log, &fail);
    unlink(log);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(fail, PP_MAIL_FAIL_NO_SMTPUTF8);
}
END_TEST

START_TEST(test_send_refuses_undeliverable_recipients)
{
    static const char *const bad[] = { "a(b)@example.com", "u@[192.0.2.1]", "u@localhost",
                                       "a b@example.com" };
    pp_mail_conf_t c = conf();
    pp_mail_fail_t fail = PP_MAIL_FAIL_TEMPORARY;
    const char *err;
    c.url = "smtp://127.0.0.1:9";
    err = pp_mail_send(unit_pool, &c, bad[_i], "Subject: x\r\n\r\nx\r\n", &fail);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(fail, PP_MAIL_FAIL_ADDRESS);
    ck_assert_msg(strstr(err, "recipient") && strstr(err, "delivery") == NULL, "%s", err);
}
END_TEST

static const struct {
    const char *url, *to, *from;
} bad_sends[] = {
    { "http://127.0.0.1:9/", TO, FROM },
    { "smtp://user:pw@127.0.0.1:9", TO, FROM },
    { "smtp://", TO, FROM },
    { "file:///etc/passwd", TO, FROM },
    { "smtp://127.0.0.1:9", "a@example.com\r\nRCPT TO:<b@example.com>", FROM },
    { "smtp://127.0.0.1:9", "<a@example.com>", FROM },
    { "smtp://127.0.0.1:9", TO, "noreply@polysim.example\r\nRSET" },
    { "smtp://127.0.0.1:9", TO, "Poly <nope>" },
};

START_TEST(test_send_refuses_bad_arguments)
{
    pp_mail_conf_t c = conf();
    const char *err;
    c.url = bad_sends[_i].url;
    c.from = bad_sends[_i].from;
    err = pp_mail_send(unit_pool, &c, bad_sends[_i].to, "Subject: x\r\n\r\nx\r\n", NULL);
    ck_assert_ptr_nonnull(err);
    /* refused before connecting: no curl error in the message */
    ck_assert_msg(strstr(err, "delivery") == NULL, "case %d reached curl: %s", _i, err);
}
END_TEST

Suite *unit_mail_suite(void)
{
    Suite *s = suite_create("mail");
    TCase *tc = tcase_create("format");
    TCase *ts = tcase_create("send");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_login_link_structure);
    tcase_add_test(tc, test_each_message_is_unique);
    tcase_add_test(tc, test_link_once_per_part_html_escaped);
    tcase_add_test(tc, test_one_minute_is_singular);
    tcase_add_test(tc, test_long_link_is_wrapped_losslessly);
    tcase_add_test(tc, test_text_only_and_line_handling);
    tcase_add_test(tc, test_boundary_never_in_content);
    tcase_add_test(tc, test_non_ascii_subject_is_encoded);
    tcase_add_test(tc, test_encoded_words_keep_characters_whole);
    tcase_add_test(tc, test_ascii_subject_that_looks_encoded_is_encoded);
    tcase_add_loop_test(tc, test_from_header, 0, sizeof(senders) / sizeof(senders[0]));
    tcase_add_loop_test(tc, test_to_header, 0, sizeof(recipients) / sizeof(recipients[0]));
    tcase_add_loop_test(tc, test_refused, 0, sizeof(refusals) / sizeof(refusals[0]));
    suite_add_tcase(s, tc);

    tcase_add_unchecked_fixture(ts, sink_root_create, sink_root_remove);
    tcase_add_checked_fixture(ts, send_setup, send_teardown);
    tcase_set_timeout(ts, 30);
    tcase_add_test(ts, test_send_delivers_exactly);
    tcase_add_test(ts, test_send_survives_dot_lines);
    tcase_add_test(ts, test_send_with_auth);
    tcase_add_loop_test(ts, test_send_reports_smtp_failures, 0,
                        sizeof(failures) / sizeof(failures[0]));
    tcase_add_test(ts, test_send_outage_via_fail_file);
    tcase_add_test(ts, test_send_starttls_modes);
    tcase_add_test(ts, test_send_refused_port_fails_fast);
    tcase_add_loop_test(ts, test_send_stalled_relay_times_out, 0, 2);
    tcase_add_loop_test(ts, test_send_refuses_bad_arguments, 0,
                        sizeof(bad_sends) / sizeof(bad_sends[0]));
    tcase_add_loop_test(ts, test_send_international, 0, sizeof(deliveries) / sizeof(deliveries[0]));
    tcase_add_test(ts, test_send_without_smtputf8);
    tcase_add_test(ts, test_send_never_offers_utf8_to_a_relay_without_smtputf8);
    tcase_add_test(ts, test_send_utf8_via_relay_with_smtputf8);
    tcase_add_loop_test(ts, test_send_refuses_undeliverable_recipients, 0, 4);
    suite_add_tcase(s, ts);
    return s;
}
