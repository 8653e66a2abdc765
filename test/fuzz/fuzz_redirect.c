/* The redirect_url parser and allowlist check. Input: an optional extra
 * allowlist entry, a newline, then the URL (no newline: the whole input is
 * the URL). Properties:
 *   - nothing crashes; what parses satisfies the pp_url_t promises and
 *     prints back to a URL that parses to the same parts;
 *   - a URL pp_redirect_check accepts re-parses to the same host, that host
 *     is exactly one entry's host (with the same scheme, port and a path
 *     prefix on a segment boundary), and a naive reading of the text (what
 *     follows "://" up to the first '/', '?' or '#') finds that host too;
 *   - IPv6 and IPv4 literals are accepted exactly when libc's inet_pton
 *     accepts them, and name the same address. */
#define _POSIX_C_SOURCE 200809L

#include <apr_pools.h>
#include <apr_strings.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pp_redirect.h"
#include "pp_tenant.h"

static const char *const fixed_allow[] = {
    "https://allowed.com/app", "http://127.0.0.1:8080/", "https://root.example/",
    "https://[::1]:8443/v6/",  "https://[2001:db8::1]/",
};

static void check(int ok)
{
    if (!ok) {
        abort();
    }
}

static int has_dot_segment(const char *path)
{
    const char *seg = path + 1;
    for (;;) {
        apr_size_t n = strcspn(seg, "/;");
        const char *end = seg + strcspn(seg, "/");
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            return 1;
        }
        if (*end == '\0') {
            return 0;
        }
        seg = end + 1;
    }
}

static int same_opt(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int same_address(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    return inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1
           && memcmp(x, y, 16) == 0;
}

/* The promises of pp_url_t, and a printed form that parses back the same. */
static void check_parsed(apr_pool_t *p, const pp_url_t *u)
{
    const char *c, *text;
    int v6 = strchr(u->host, ':') != NULL;
    pp_url_t again;

    check(strcmp(u->scheme, "https") == 0
          || (strcmp(u->scheme, "http") == 0 && pp_url_host_is_loopback(u->host)));
    check(*u->host != '\0');
    for (c = u->host; *c; c++) {
        check((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.'
              || (v6 ? *c == ':' : *c == '-'));
    }
    check(u->port >= 1 && u->port <= 65535);
    check(u->path[0] == '/' && strstr(u->path, "//") == NULL && !has_dot_segment(u->path));
    check(strcspn(u->path, "?#\\ ") == strlen(u->path));
    for (c = u->path; *c; c++) {
        check(*c > 0x20 && *c < 0x7f);
        if (*c == '%') {
            check(strncmp(c + 1, "2f", 2) && strncmp(c + 1, "2F", 2) && strncmp(c + 1, "2e", 2)
                  && strncmp(c + 1, "2E", 2) && strncmp(c + 1, "5c", 2) && strncmp(c + 1, "5C", 2)
                  && strncmp(c + 1, "00", 2));
        }
    }
    check(u->query == NULL || strchr(u->query, '#') == NULL);
    check(u->fragment == NULL || strchr(u->fragment, '#') == NULL);

    text = apr_psprintf(p, "%s://%s%s%s:%d%s%s%s%s%s", u->scheme, v6 ? "[" : "", u->host,
                        v6 ? "]" : "", u->port, u->path, u->query ? "?" : "",
                        u->query ? u->query : "", u->fragment ? "#" : "",
                        u->fragment ? u->fragment : "");
    if (strlen(text) > PP_URL_MAX_LEN) {
        return; /* an explicit port can make the printed form longer */
    }
    check(pp_url_parse(p, text, &again) == NULL);
    check(strcmp(again.scheme, u->scheme) == 0 && strcmp(again.host, u->host) == 0
          && again.port == u->port && strcmp(again.path, u->path) == 0
          && same_opt(again.query, u->query) && same_opt(again.fragment, u->fragment));
}

static int path_within(const char *entry, const char *path)
{
    apr_size_t n = strlen(entry);
    if (strncmp(entry, path, n) != 0) {
        return 0;
    }
    return entry[n - 1] == '/' || path[n] == '\0' || path[n] == '/';
}

/* An accepted URL: the host every reading of it agrees on is an entry's. */
static void check_accepted(apr_pool_t *p, const apr_array_header_t *allow, const char *url)
{
    pp_url_t u, e;
    const char *auth, *naive;
    apr_size_t auth_len;
    int i, matches = 0;

    check(pp_url_parse(p, url, &u) == NULL);
    for (i = 0; i < allow->nelts; i++) {
        if (pp_url_parse(p, APR_ARRAY_IDX(allow, i, const char *), &e) == NULL
            && strcmp(e.scheme, u.scheme) == 0 && strcmp(e.host, u.host) == 0 && e.port == u.port
            && path_within(e.path, u.path)) {
            matches++;
        }
    }
    check(matches > 0);

    auth = strstr(url, "://");
    check(auth != NULL && (apr_size_t)(auth - url) == strlen(u.scheme));
    auth += 3;
    auth_len = strcspn(auth, "/?#");
    check(memchr(auth, '@', auth_len) == NULL && memchr(auth, '\\', auth_len) == NULL);
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', auth_len);
        check(close != NULL);
        check(same_address(apr_pstrmemdup(p, auth + 1, (apr_size_t)(close - auth - 1)), u.host));
    }
    else {
        char *h;
        naive = apr_pstrmemdup(p, auth, strcspn(auth, ":/?#"));
        for (h = (char *)naive; *h; h++) {
            if (*h >= 'A' && *h <= 'Z') {
                *h = (char)(*h - 'A' + 'a');
            }
        }
        check(strcmp(naive, u.host) == 0);
    }
}

/* The input as an address literal, against inet_pton. */
static void check_literals(apr_pool_t *p, const char *text)
{
    unsigned char a[16];
    pp_url_t u;
    int libc6 = inet_pton(AF_INET6, text, a) == 1, libc4 = inet_pton(AF_INET, text, a) == 1;
    int ours6 = pp_url_parse(p, apr_pstrcat(p, "https://[", text, "]/", NULL), &u) == NULL;

    check(ours6 == libc6);
    if (ours6) {
        check(same_address(u.host, text));
        check(pp_url_host_is_loopback(u.host) == pp_url_host_is_loopback(text));
    }
    if (strspn(text, "0123456789.") == strlen(text) && *text) {
        int ours4 = pp_url_parse(p, apr_pstrcat(p, "https://", text, "/", NULL), &u) == NULL;
        check(ours4 == libc4);
        if (ours4) {
            check(strcmp(u.host, text) == 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    pp_tenants_t *reg;
    pp_tenant_t *t;
    const char *text, *url, *nl;
    pp_url_t u;
    size_t i;

    if ((p = pp_fuzz_pool()) == NULL) {
        return 0;
    }
    reg = pp_tenants_make(p);
    if (pp_tenants_add(reg, "fuzz", &t) != NULL) {
        abort();
    }
    for (i = 0; i < sizeof(fixed_allow) / sizeof(fixed_allow[0]); i++) {
        check(pp_tenant_add_redirect(p, t, fixed_allow[i]) == NULL);
    }

    /* NUL ends the text, as it would in a JSON string after decoding */
    text = apr_pstrmemdup(p, (const char *)data, size);
    nl = strchr(text, '\n');
    url = text;
    if (nl) {
        const char *entry = apr_pstrmemdup(p, text, (apr_size_t)(nl - text));
        url = nl + 1;
        if (pp_tenant_add_redirect(p, t, entry) == NULL) {
            /* what config accepts parses, without query or fragment */
            check(pp_url_parse(p, entry, &u) == NULL && !u.query && !u.fragment);
            check_parsed(p, &u);
        }
    }

    if (pp_url_parse(p, url, &u) == NULL) {
        check_parsed(p, &u);
    }
    if (pp_redirect_check(p, t->redirect_allow, url) == NULL) {
        check_accepted(p, t->redirect_allow, url);
    }
    if (!nl && strlen(text) < 64) {
        check_literals(p, text);
    }
    apr_pool_destroy(p);
    return 0;
}
