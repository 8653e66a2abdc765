#include "pp_redirect.h"
#include "pp_codec.h"

#include <apr_strings.h>
#include <string.h>

#define PP_HOST_MAX_LEN  253
#define PP_LABEL_MAX_LEN 63

static int pp_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int pp_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 3986 pchar without pct-encoded (handled by the caller). */
static int pp_is_pchar(char c)
{
    return pp_is_alpha(c) || pp_is_digit(c) || strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

/* A canonical dotted quad: four decimal parts 0-255 without leading zeros.
 * Browsers also read "127.1", "0x7f.0.0.1" or "2130706433" as IPv4; those
 * forms are refused by the caller, never reinterpreted. */
static int pp_ipv4_parse(const char *s, apr_size_t n, unsigned char out[4])
{
    apr_size_t i = 0;
    int part;

    for (part = 0; part < 4; part++) {
        unsigned val = 0;
        apr_size_t start = i;
        if (part > 0) {
            if (i >= n || s[i] != '.') {
                return 0;
            }
            start = ++i;
        }
        while (i < n && pp_is_digit(s[i]) && i - start < 3) {
            val = val * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || val > 255 || (s[start] == '0' && i - start > 1)) {
            return 0;
        }
        out[part] = (unsigned char)val;
    }
    return i == n;
}

/* RFC 4291 text form (hex groups, one "::", optional trailing dotted quad);
 * no zone identifiers. */
static int pp_ipv6_parse(const char *s, apr_size_t n, unsigned char out[16])
{
    unsigned char tmp[16];
    apr_size_t i = 0, tp = 0, curtok;
    int colonp = -1, saw_digit = 0, ndigits = 0;
    unsigned val = 0;

    memset(tmp, 0, sizeof(tmp));
    if (n == 0) {
        return 0;
    }
    if (s[0] == ':') {
        if (n < 2 || s[1] != ':') {
            return 0;
        }
        i = 1;
    }
    curtok = i;
    for (; i < n; i++) {
        int h = pp_hex_value((unsigned char)s[i]);
        if (h >= 0) {
            if (++ndigits > 4) {
                return 0;
            }
            val = (val << 4) | (unsigned)h;
            saw_digit = 1;
            continue;
        }
        if (s[i] == ':') {
            curtok = i + 1;
            if (!saw_digit) {
                if (colonp >= 0) {
                    return 0; /* a second "::" */
                }
                colonp = (int)tp;
                continue;
            }
            if (i + 1 == n || tp + 2 > 16) {
                return 0;
            }
            tmp[tp++] = (unsigned char)(val >> 8);
            tmp[tp++] = (unsigned char)(val & 0xff);
            saw_digit = 0;
            ndigits = 0;
            val = 0;
            continue;
        }
        if (s[i] == '.' && tp + 4 <= 16 && pp_ipv4_parse(s + curtok, n - curtok, tmp + tp)) {
            tp += 4;
            saw_digit = 0;
            break;
        }
        return 0;
    }
    if (saw_digit) {
        if (tp + 2 > 16) {
            return 0;
        }
        tmp[tp++] = (unsigned char)(val >> 8);
        tmp[tp++] = (unsigned char)(val & 0xff);
    }
    if (colonp >= 0) {
        apr_size_t moved = tp - (apr_size_t)colonp;
        if (tp == 16) {
            return 0; /* "::" must stand for at least one group */
        }
        memmove(tmp + 16 - moved, tmp + colonp, moved);
        memset(tmp + colonp, 0, 16 - moved - (apr_size_t)colonp);
        tp = 16;
    }
    if (tp != 16) {
        return 0;
    }
    memcpy(out, tmp, 16);
    return 1;
}

/* RFC 5952: lowercase, no leading zeros, the first longest run of two or
 * more zero groups as "::". One spelling per address, so hosts compare as
 * strings. */
static const char *pp_ipv6_format(apr_pool_t *p, const unsigned char a[16])
{
    unsigned g[8];
    int i, best = -1, best_len = 0, run = -1, run_len = 0;
    char buf[40], *o = buf;

    for (i = 0; i < 8; i++) {
        g[i] = ((unsigned)a[2 * i] << 8) | a[2 * i + 1];
        if (g[i] == 0) {
            if (run < 0) {
                run = i;
                run_len = 0;
            }
            if (++run_len > best_len) {
                best = run;
                best_len = run_len;
            }
        }
        else {
            run = -1;
        }
    }
    if (best_len < 2) {
        best = -1;
        best_len = 0;
    }
    for (i = 0; i < 8; i++) {
        if (i == best) {
            *o++ = ':';
            *o++ = ':';
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len) {
            *o++ = ':';
        }
        o += apr_snprintf(o, (apr_size_t)(buf + sizeof(buf) - o), "%x", g[i]);
    }
    *o = '\0';
    return apr_pstrdup(p, buf);
}

int pp_url_host_is_loopback(const char *host)
{
    static const unsigned char v6_loopback[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    unsigned char a[16];
    apr_size_t n;

    if (host == NULL) {
        return 0;
    }
    n = strlen(host);
    if (n == 9) {
        static const char lh[] = "localhost";
        apr_size_t i;
        for (i = 0; i < 9; i++) {
            char c = host[i];
            if ((c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c) != lh[i]) {
                break;
            }
        }
        if (i == 9) {
            return 1;
        }
    }
    if (pp_ipv4_parse(host, n, a)) {
        return a[0] == 127;
    }
    return pp_ipv6_parse(host, n, a) && memcmp(a, v6_loopback, 16) == 0;
}

/* Lowercases a registered name and checks it is a plain DNS name (or a
 * canonical dotted quad). */
static const char *pp_host_check(apr_pool_t *p, const char *s, apr_size_t n, const char **out)
{
    char *host = apr_pstrmemdup(p, s, n), *c, *label;
    unsigned char quad[4];

    if (n == 0) {
        return "the URL has no host";
    }
    if (n > PP_HOST_MAX_LEN) {
        return "the host name is too long";
    }
    for (c = host; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
        if (!((*c >= 'a' && *c <= 'z') || pp_is_digit(*c) || *c == '.' || *c == '-')) {
            return "the host may contain only letters, digits, '.' and '-'";
        }
    }
    if (host[n - 1] == '.') {
        return "the host must not end with a dot";
    }
    label = host;
    for (c = host;; c++) {
        if (*c == '.' || *c == '\0') {
            if (c == label) {
                return "the host has an empty label";
            }
            if (c - label > PP_LABEL_MAX_LEN) {
                return "a label of the host is longer than 63 characters";
            }
            if (*label == '-' || c[-1] == '-') {
                return "a label of the host starts or ends with '-'";
            }
            if (*c == '\0') {
                break;
            }
            label = c + 1;
        }
    }
    /* a numeric last label makes browsers read the whole host as IPv4 */
    if (pp_is_digit(*label) && !pp_ipv4_parse(host, n, quad)) {
        return "the host is neither a DNS name nor an IPv4 address in dotted-quad form";
    }
    *out = host;
    return NULL;
}

static const char *pp_port_parse(const char *s, apr_size_t n, int *port)
{
    apr_size_t i;
    long val = 0;

    if (n == 0 || n > 5 || s[0] == '0') {
        return "invalid port: expected a number from 1 to 65535 without leading zeros";
    }
    for (i = 0; i < n; i++) {
        if (!pp_is_digit(s[i])) {
            return "invalid port: expected a number from 1 to 65535 without leading zeros";
        }
        val = val * 10 + (s[i] - '0');
    }
    if (val > 65535) {
        return "invalid port: expected a number from 1 to 65535 without leading zeros";
    }
    *port = (int)val;
    return NULL;
}

static const char *pp_authority_parse(apr_pool_t *p, const char *s, apr_size_t n, pp_url_t *out)
{
    const char *port_text = NULL;
    apr_size_t host_len, port_len = 0;
    const char *err;

    if (n == 0) {
        return "the URL has no host";
    }
    if (memchr(s, '@', n)) {
        return "credentials (user@ or user:password@) are not allowed in the URL";
    }
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        unsigned char a[16];
        if (!close || !pp_ipv6_parse(s + 1, (apr_size_t)(close - s - 1), a)) {
            return "invalid IPv6 address in the host";
        }
        out->host = pp_ipv6_format(p, a);
        host_len = (apr_size_t)(close - s) + 1;
        if (host_len < n && s[host_len] != ':') {
            return "invalid characters after the IPv6 address";
        }
    }
    else {
        const char *colon = memchr(s, ':', n);
        host_len = colon ? (apr_size_t)(colon - s) : n;
        if (colon && memchr(colon + 1, ':', n - host_len - 1)) {
            return "an IPv6 address in the host must be in brackets";
        }
        if ((err = pp_host_check(p, s, host_len, &out->host)) != NULL) {
            return err;
        }
    }
    if (host_len < n) {
        port_text = s + host_len + 1;
        port_len = n - host_len - 1;
        if ((err = pp_port_parse(port_text, port_len, &out->port)) != NULL) {
            return err;
        }
    }
    return NULL;
}

/* The characters of a query or fragment: pchars, '/', '?' and well-formed
 * %XY escapes. */
static const char *pp_tail_check(apr_pool_t *p, const char *s, apr_size_t n, const char *what)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (pp_pct_escape(s, n, i) < 0) {
                return apr_psprintf(p, "the %s has a '%%' not followed by two hex digits", what);
            }
            i += 2;
        }
        else if (!pp_is_pchar(s[i]) && s[i] != '/' && s[i] != '?') {
            return apr_psprintf(p, "the %s contains '%c', which must be percent-encoded", what,
                                s[i]);
        }
    }
    return NULL;
}

/* A segment a server may resolve as "." or "..": also "..;x", since some
 * servers drop path parameters before resolving. */
static int pp_is_dot_segment(const char *seg, apr_size_t n)
{
    const char *semi = memchr(seg, ';', n);
    if (semi) {
        n = (apr_size_t)(semi - seg);
    }
    return (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.');
}

static const char *pp_path_check(apr_pool_t *p, const char *s, apr_size_t n)
{
    apr_size_t i, seg = 1; /* s[0] is '/' */

    for (i = 1; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (pp_is_dot_segment(s + seg, i - seg)) {
                return "'.' and '..' segments are not allowed in the path";
            }
            if (i < n && i == seg) {
                return "empty segments ('//') are not allowed in the path";
            }
            seg = i + 1;
            continue;
        }
        if (s[i] == '%') {
            int c = pp_pct_escape(s, n, i);
            if (c < 0) {
                return "the path has a '%' not followed by two hex digits";
            }
            /* decoded, these change how the path splits into segments, or
             * decode again (%25) into one of them */
            if (c == '/' || c == '\\' || c == '.' || c == '%' || c < 0x20 || c == 0x7f) {
                return apr_psprintf(p,
                                    "percent-encoded '/', '\\', '.', '%%' and control "
                                    "characters are not allowed in the path (found %%%c%c)",
                                    s[i + 1], s[i + 2]);
            }
            i += 2;
        }
        else if (!pp_is_pchar(s[i])) {
            return apr_psprintf(p, "the path contains '%c', which must be percent-encoded", s[i]);
        }
    }
    return NULL;
}

const char *pp_url_parse(apr_pool_t *p, const char *text, pp_url_t *out)
{
    const char *c, *rest, *auth_end, *path_end, *hash, *err;
    apr_size_t n, i;
    char *scheme, *s;

    memset(out, 0, sizeof(*out));
    if (text == NULL || *text == '\0') {
        return "the URL is empty";
    }
    n = strlen(text);
    if (n > PP_URL_MAX_LEN) {
        return apr_psprintf(p, "the URL is longer than %d bytes", PP_URL_MAX_LEN);
    }
    for (c = text; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u == ' ') {
            return "spaces are not allowed in the URL";
        }
        if (u < 0x20 || u == 0x7f) {
            return "control characters (tab, CR, LF, ...) are not allowed in the URL";
        }
        if (u > 0x7e) {
            return "non-ASCII characters are not allowed in the URL (percent-encode them)";
        }
        if (u == '\\') {
            return "backslashes are not allowed in the URL";
        }
    }

    /* scheme ":" "//" */
    for (i = 0;
         i < n
         && (pp_is_alpha(text[i])
             || (i > 0
                 && (pp_is_digit(text[i]) || text[i] == '+' || text[i] == '-' || text[i] == '.')));
         i++) {
    }
    if (i == 0 || i == n || text[i] != ':') {
        return "the URL must be absolute, starting with https://";
    }
    scheme = apr_pstrmemdup(p, text, i);
    for (s = scheme; *s; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            *s = (char)(*s - 'A' + 'a');
        }
    }
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
        return "only https URLs are allowed (http only for localhost in development)";
    }
    out->scheme = scheme;
    out->port = scheme[4] == 's' ? 443 : 80;
    rest = text + i + 1;
    if (rest[0] != '/' || rest[1] != '/') {
        return "the URL must be absolute, starting with https://";
    }
    rest += 2;

    auth_end = rest + strcspn(rest, "/?#");
    if ((err = pp_authority_parse(p, rest, (apr_size_t)(auth_end - rest), out)) != NULL) {
        return err;
    }
    if (strcmp(out->scheme, "http") == 0 && !pp_url_host_is_loopback(out->host)) {
        return "plain http is allowed only for localhost (127.0.0.1, ::1) in development: "
               "use https";
    }

    path_end = auth_end + strcspn(auth_end, "?#");
    if (path_end == auth_end) {
        out->path = "/";
    }
    else {
        if ((err = pp_path_check(p, auth_end, (apr_size_t)(path_end - auth_end))) != NULL) {
            return err;
        }
        out->path = apr_pstrmemdup(p, auth_end, (apr_size_t)(path_end - auth_end));
    }

    hash = strchr(path_end, '#');
    if (*path_end == '?') {
        const char *q = path_end + 1;
        apr_size_t qn = hash ? (apr_size_t)(hash - q) : strlen(q);
        if ((err = pp_tail_check(p, q, qn, "query")) != NULL) {
            return err;
        }
        out->query = apr_pstrmemdup(p, q, qn);
    }
    if (hash) {
        if ((err = pp_tail_check(p, hash + 1, strlen(hash + 1), "fragment")) != NULL) {
            return err;
        }
        out->fragment = apr_pstrdup(p, hash + 1);
    }
    return NULL;
}

/* The entry's path is a prefix of path ending on a segment boundary. */
static int pp_path_within(const char *entry, const char *path)
{
    apr_size_t n = strlen(entry);

    if (strncmp(entry, path, n) != 0) {
        return 0;
    }
    return entry[n - 1] == '/' || path[n] == '\0' || path[n] == '/';
}

const char *pp_redirect_check(apr_pool_t *p, const apr_array_header_t *allow, const char *url)
{
    pp_url_t u, e;
    const char *err;
    int i;

    if ((err = pp_url_parse(p, url, &u)) != NULL) {
        return apr_pstrcat(p, "redirect_url is not allowed: ", err, NULL);
    }
    for (i = 0; allow && i < allow->nelts; i++) {
        const char *entry = APR_ARRAY_IDX(allow, i, const char *);
        /* entries were validated at config time; one that no longer parses
         * matches nothing */
        if (pp_url_parse(p, entry, &e) != NULL || e.query || e.fragment) {
            continue;
        }
        if (strcmp(u.scheme, e.scheme) == 0 && strcmp(u.host, e.host) == 0 && u.port == e.port
            && pp_path_within(e.path, u.path)) {
            return NULL;
        }
    }
    return "redirect_url is not in the tenant's redirect allowlist (scheme, host, port and "
           "path prefix must match an allowed URL)";
}
