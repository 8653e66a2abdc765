#include "unit_suites.h"
#include "pp_redirect.h"
#include "pp_tenant.h"

#include <apr_strings.h>
#include <string.h>

/* URLs the parser accepts, and their parts (NULL query/fragment: absent). */
static const struct {
    const char *url, *scheme, *host;
    int port;
    const char *path, *query, *fragment;
} parsed[] = {
    { "https://allowed.com/app", "https", "allowed.com", 443, "/app", NULL, NULL },
    { "HTTPS://ALLOWED.COM/app", "https", "allowed.com", 443, "/app", NULL, NULL },
    { "HtTpS://Allowed.Com/App", "https", "allowed.com", 443, "/App", NULL, NULL },
    { "https://allowed.com:443/app", "https", "allowed.com", 443, "/app", NULL, NULL },
    { "https://allowed.com:8443/app", "https", "allowed.com", 8443, "/app", NULL, NULL },
    { "https://allowed.com", "https", "allowed.com", 443, "/", NULL, NULL },
    { "https://allowed.com?x=1", "https", "allowed.com", 443, "/", "x=1", NULL },
    { "https://allowed.com/?", "https", "allowed.com", 443, "/", "", NULL },
    { "https://allowed.com/#", "https", "allowed.com", 443, "/", NULL, "" },
    { "https://allowed.com/a/b/?q=/x?y&z=%2F#f/?", "https", "allowed.com", 443, "/a/b/",
      "q=/x?y&z=%2F", "f/?" },
    { "https://evil.com#@allowed.com", "https", "evil.com", 443, "/", NULL, "@allowed.com" },
    { "https://a.com/x:y@z;p=1/~u_-.v%20w%C3%A9", "https", "a.com", 443,
      "/x:y@z;p=1/~u_-.v%20w%C3%A9", NULL, NULL },
    { "https://a.com/.well-known/..x/x..", "https", "a.com", 443, "/.well-known/..x/x..", NULL,
      NULL },
    { "https://xn--bcher-kva.example/", "https", "xn--bcher-kva.example", 443, "/", NULL, NULL },
    { "https://a-b.c0m:1/", "https", "a-b.c0m", 1, "/", NULL, NULL },
    { "https://a.com:65535/", "https", "a.com", 65535, "/", NULL, NULL },
    { "https://93.184.216.34/", "https", "93.184.216.34", 443, "/", NULL, NULL },
    { "http://localhost:3000/cb?a=1&b=%20#top", "http", "localhost", 3000, "/cb", "a=1&b=%20",
      "top" },
    { "http://LocalHost/", "http", "localhost", 80, "/", NULL, NULL },
    { "http://127.0.0.1:8080/x", "http", "127.0.0.1", 8080, "/x", NULL, NULL },
    { "http://127.255.0.1/", "http", "127.255.0.1", 80, "/", NULL, NULL },
    { "http://[::1]:8080/", "http", "::1", 8080, "/", NULL, NULL },
    { "http://[0:0:0:0:0:0:0:1]/", "http", "::1", 80, "/", NULL, NULL },
    /* IPv6 in one spelling (RFC 5952), so hosts compare as strings */
    { "https://[2001:DB8:0:0:0:0:0:1]:8443/x", "https", "2001:db8::1", 8443, "/x", NULL, NULL },
    { "https://[1:0:0:2:0:0:0:3]/", "https", "1:0:0:2::3", 443, "/", NULL, NULL },
    { "https://[1:0:0:2:0:0:3:4]/", "https", "1::2:0:0:3:4", 443, "/", NULL, NULL },
    { "https://[1:2:3:4:5:6:7:0]/", "https", "1:2:3:4:5:6:7:0", 443, "/", NULL, NULL },
    { "https://[0001:0db8::]/", "https", "1:db8::", 443, "/", NULL, NULL },
    { "https://[::ffff:192.0.2.1]/", "https", "::ffff:c000:201", 443, "/", NULL, NULL },
};

/* URLs the parser rejects, and a word of the reason it must give. */
static const struct {
    const char *url, *reason;
} rejected[] = {
    { "", "empty" },
    { "//evil.com", "absolute" },
    { "/apple", "absolute" },
    { "allowed.com/app", "absolute" },
    { "javascript:alert(1)", "only https" },
    { "JavaScript://allowed.com/%0aalert(1)", "only https" },
    { "data:text/html,x", "only https" },
    { "ftp://allowed.com/app", "only https" },
    { "https:allowed.com/app", "absolute" },
    { "https:/allowed.com/app", "absolute" },
    { "https:/\\evil.com", "backslash" },
    { "https://evil.com\\@allowed.com", "backslash" },
    { "https://allowed.com\\", "backslash" },
    { "https://allowed.com/app\\..\\admin", "backslash" },
    { "https://user@allowed.com/app", "credentials" },
    { "https://user:pw@allowed.com/app", "credentials" },
    { "https://allowed.com@evil.com/app", "credentials" },
    { "https://@allowed.com/", "credentials" },
    { "https://allowed.com%2f@evil.com", "credentials" },
    { "https://allowed.com%2f.evil.com/", "letters, digits" },
    { "https://allowed.com%2Eevil.com/", "letters, digits" },
    { "https://allowed.com\t/app", "control" },
    { "https://allowed.com/a\tpp", "control" },
    { "https://allowed.com/app\r", "control" },
    { "https://allowed.com/app\n", "control" },
    { "https://allo\r\nwed.com/app", "control" },
    { "\thttps://allowed.com/app", "control" },
    { "https://allowed.com/app\x7f", "control" },
    { "https://allowed.com/app\x01", "control" },
    { " https://allowed.com/app", "spaces" },
    { "https://allowed.com/a pp", "spaces" },
    { "https://allowed.com/caf\xc3\xa9", "non-ASCII" },
    { "https://\xe2\x80\xae"
      "allowed.com/",
      "non-ASCII" },
    { "http://allowed.com/", "http" },
    { "http://allowed.com:8080/app", "http" },
    { "http://localhost.evil.com/", "http" },
    { "http://foo.localhost/", "http" },
    { "http://128.0.0.1/", "http" },
    { "http://[::2]/", "http" },
    { "http://[::ffff:127.0.0.1]/", "http" },
    { "https:///app", "no host" },
    { "https://", "no host" },
    { "https://?x", "no host" },
    { "https://:443/", "no host" },
    { "https://allowed.com:/app", "port" },
    { "https://allowed.com:0/app", "port" },
    { "https://allowed.com:65536/app", "port" },
    { "https://allowed.com:99999999999999999999/app", "port" },
    { "https://allowed.com:44a/app", "port" },
    { "https://allowed.com:-1/app", "port" },
    { "https://allowed.com:+443/app", "port" },
    { "https://allowed.com:0443/app", "port" },
    { "https://allowed.com:443:443/app", "brackets" },
    { "https://allowed.com./app", "end with a dot" },
    { "https://allowed..com/", "empty label" },
    { "https://.allowed.com/", "empty label" },
    { "https://allowed_com/", "letters, digits" },
    { "https://allowed.com*/", "letters, digits" },
    { "https://all%6Fwed.com/", "letters, digits" },
    { "https://-allowed.com/", "'-'" },
    { "https://allowed-.com/", "'-'" },
    { "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com/", "63" },
    /* numbers browsers would read as 127.0.0.1 */
    { "https://2130706433/", "dotted-quad" },
    { "https://127.1/", "dotted-quad" },
    { "https://0x7f.0.0.1/", "dotted-quad" },
    { "https://0177.0.0.1/", "dotted-quad" },
    { "https://127.0.0.01/", "dotted-quad" },
    { "https://256.0.0.1/", "dotted-quad" },
    { "https://1.2.3.4.5/", "dotted-quad" },
    { "https://evil.com.1/", "dotted-quad" },
    { "https://::1/", "brackets" },
    { "https://[::1/", "IPv6" },
    { "https://[::1]x/", "after the IPv6" },
    { "https://[::g]/", "IPv6" },
    { "https://[]/", "IPv6" },
    { "https://[fe80::1%25eth0]/", "IPv6" },
    { "https://[v1.fe80::1]/", "IPv6" },
    { "https://[1:2:3:4:5:6:7:8:9]/", "IPv6" },
    { "https://[1:2:3:4:5:6:7]/", "IPv6" },
    { "https://[1::2::3]/", "IPv6" },
    { "https://[:::1]/", "IPv6" },
    { "https://[1:2:3:4:5:6:7::8]/", "IPv6" },
    { "https://[12345::]/", "IPv6" },
    { "https://[::1.2.3]/", "IPv6" },
    { "https://[::1.2.3.04]/", "IPv6" },
    { "https://[1:]/", "IPv6" },
    { "https://[:1]/", "IPv6" },
    { "https://[::1]:0/", "port" },
    /* path: dot segments, encoded separators and dots, empty segments */
    { "https://allowed.com/app/../admin", "'..'" },
    { "https://allowed.com/app/..", "'..'" },
    { "https://allowed.com/app/./admin", "'..'" },
    { "https://allowed.com/.", "'..'" },
    { "https://allowed.com/app/..;/admin", "'..'" },
    { "https://allowed.com/app/.;x/admin", "'..'" },
    { "https://allowed.com/app/%2e%2e/admin", "percent-encoded" },
    { "https://allowed.com/app/%2E%2E/admin", "percent-encoded" },
    { "https://allowed.com/app/.%2e/admin", "percent-encoded" },
    { "https://allowed.com/app%2f..%2fadmin", "percent-encoded" },
    { "https://allowed.com/app%2F", "percent-encoded" },
    { "https://allowed.com/app%5c..%5cadmin", "percent-encoded" },
    { "https://allowed.com/app%00", "percent-encoded" },
    { "https://allowed.com/app%0d%0aSet-Cookie:x", "percent-encoded" },
    { "https://allowed.com/app%7F", "percent-encoded" },
    { "https://allowed.com/app%252e%252e", "percent-encoded" },
    { "https://allowed.com/app%", "hex digits" },
    { "https://allowed.com/app%2", "hex digits" },
    { "https://allowed.com/app%g0", "hex digits" },
    { "https://allowed.com//evil.com", "empty segments" },
    { "https://allowed.com/app//x", "empty segments" },
    { "https://allowed.com/a<script>", "'<'" },
    { "https://allowed.com/a\"b", "'\"'" },
    { "https://allowed.com/a|b", "'|'" },
    { "https://allowed.com/a[b]", "'['" },
    { "https://allowed.com/?a=<x>", "query" },
    { "https://allowed.com/?a=%zz", "query" },
    { "https://allowed.com/#a#b", "fragment" },
    { "https://allowed.com/#%", "fragment" },
};

/* The allowlist the check tests use. */
static const char *const allow_entries[] = {
    "https://allowed.com/app",  "http://127.0.0.1:8080/", "https://root.example/",
    "https://dir.example/app/", "https://[::1]:8443/v6",  "https://Mixed.Example:443/Case",
};

static const struct {
    const char *url;
    int allowed;
} checks[] = {
    { "https://allowed.com/app", 1 },
    { "https://allowed.com/app/", 1 },
    { "https://allowed.com/app/x/y", 1 },
    { "https://allowed.com/app?next=/x#frag", 1 },
    { "https://allowed.com/app#@evil.com", 1 },
    { "https://allowed.com/app;v=1/x", 0 }, /* ";" is no segment boundary */
    { "HTTPS://ALLOWED.COM/app", 1 },
    { "https://allowed.com:443/app", 1 },
    { "https://allowed.com:8443/app", 0 },
    { "http://allowed.com/app", 0 },
    { "https://allowed.com/apple", 0 },
    { "https://allowed.com/App", 0 },
    { "https://allowed.com/%61pp", 0 },
    { "https://allowed.com/", 0 },
    { "https://allowed.com", 0 },
    { "https://allowed.com/ap", 0 },
    { "https://allowed.com/app/../admin", 0 },
    { "https://allowed.com/app/%2e%2e/admin", 0 },
    { "https://allowed.com/app/..;/admin", 0 },
    { "https://allowed.com/app%2f..%2fadmin", 0 },
    { "https://allowed.com.evil.com/app", 0 },
    { "https://evil-allowed.com/app", 0 },
    { "https://evilallowed.com/app", 0 },
    { "https://llowed.com/app", 0 },
    { "https://sub.allowed.com/app", 0 },
    { "https://allowed.co/app", 0 },
    { "https://allowed.com@evil.com/app", 0 },
    { "https://evil.com#@allowed.com/app", 0 },
    { "https://evil.com?@allowed.com/app", 0 },
    { "https://evil.com/app#https://allowed.com/app", 0 },
    { "https://evil.com\\@allowed.com/app", 0 },
    { "https:/\\evil.com", 0 },
    { "https://allowed.com%2f@evil.com", 0 },
    { "https://allowed.com%2f.evil.com/app", 0 },
    { "//evil.com", 0 },
    { "//allowed.com/app", 0 },
    { "/app", 0 },
    { "/apple", 0 },
    { "javascript:alert(1)", 0 },
    { "javascript://allowed.com/app%0aalert(1)", 0 },
    { "https://allowed.com/app\t", 0 },
    { "https://allowed.com/a\rpp", 0 },
    { "https://allowed.com/app\n", 0 },
    { "https://allowed.com/app\r\nLocation: https://evil.com", 0 },
    { "http://127.0.0.1:8080/x", 1 },
    { "http://127.0.0.1:8080", 1 },
    { "http://127.0.0.1/x", 0 },
    { "https://127.0.0.1:8080/x", 0 },
    { "http://localhost:8080/x", 0 },
    { "http://127.0.0.2:8080/x", 0 },
    { "http://2130706433:8080/x", 0 },
    { "http://127.1:8080/x", 0 },
    { "https://root.example", 1 },
    { "https://root.example/", 1 },
    { "https://root.example/anything/at/all?x#y", 1 },
    { "https://ROOT.example:443/a", 1 },
    { "https://root.example:444/", 0 },
    { "https://root.example.evil.com/", 0 },
    { "https://dir.example/app/", 1 },
    { "https://dir.example/app/x", 1 },
    { "https://dir.example/app", 0 },
    { "https://dir.example/apple", 0 },
    { "https://[::1]:8443/v6", 1 },
    { "https://[0:0:0:0:0:0:0:1]:8443/v6/x", 1 },
    { "https://[::1]/v6", 0 },
    { "https://[::2]:8443/v6", 0 },
    { "https://mixed.example/Case", 1 },
    { "https://MIXED.EXAMPLE/Case/x", 1 },
    { "https://mixed.example/case", 0 },
    { "", 0 },
};

static apr_array_header_t *make_allow(void)
{
    apr_array_header_t *allow = apr_array_make(unit_pool, 8, sizeof(const char *));
    size_t i;
    for (i = 0; i < sizeof(allow_entries) / sizeof(allow_entries[0]); i++) {
        APR_ARRAY_PUSH(allow, const char *) = allow_entries[i];
    }
    return allow;
}

#define ck_assert_opt_str_eq(got, want)              \
    do {                                             \
        if ((want) == NULL) ck_assert_ptr_null(got); \
        else {                                       \
            ck_assert_ptr_nonnull(got);              \
            ck_assert_str_eq(got, want);             \
        }                                            \
    } while (0)

START_TEST(test_parse_accepts)
{
    pp_url_t u;
    const char *err = pp_url_parse(unit_pool, parsed[_i].url, &u);

    ck_assert_msg(err == NULL, "%s rejected: %s", parsed[_i].url, err);
    ck_assert_str_eq(u.scheme, parsed[_i].scheme);
    ck_assert_str_eq(u.host, parsed[_i].host);
    ck_assert_int_eq(u.port, parsed[_i].port);
    ck_assert_str_eq(u.path, parsed[_i].path);
    ck_assert_opt_str_eq(u.query, parsed[_i].query);
    ck_assert_opt_str_eq(u.fragment, parsed[_i].fragment);
}
END_TEST

START_TEST(test_parse_rejects)
{
    pp_url_t u;
    const char *err = pp_url_parse(unit_pool, rejected[_i].url, &u);

    ck_assert_msg(err != NULL, "accepted: %s", rejected[_i].url);
    ck_assert_msg(strstr(err, rejected[_i].reason) != NULL, "%s: reason '%s', expected '%s'",
                  rejected[_i].url, err, rejected[_i].reason);
}
END_TEST

START_TEST(test_check_table)
{
    const char *err = pp_redirect_check(unit_pool, make_allow(), checks[_i].url);

    if (checks[_i].allowed) {
        ck_assert_msg(err == NULL, "%s not allowed: %s", checks[_i].url, err);
    }
    else {
        ck_assert_msg(err != NULL, "%s allowed", checks[_i].url);
        ck_assert_ptr_nonnull(strstr(err, "redirect_url"));
    }
}
END_TEST

START_TEST(test_check_edges)
{
    apr_array_header_t *none = apr_array_make(unit_pool, 1, sizeof(const char *));
    char *longest = apr_palloc(unit_pool, PP_URL_MAX_LEN + 2);
    size_t prefix = strlen("https://root.example/");
    pp_url_t u;

    /* nothing is allowed by an empty or absent allowlist */
    ck_assert_ptr_nonnull(pp_redirect_check(unit_pool, none, "https://root.example/"));
    ck_assert_ptr_nonnull(pp_redirect_check(unit_pool, NULL, "https://root.example/"));
    ck_assert_ptr_nonnull(pp_redirect_check(unit_pool, make_allow(), NULL));
    ck_assert_ptr_nonnull(pp_url_parse(unit_pool, NULL, &u));

    /* the length cap: 2048 bytes pass, 2049 do not */
    memcpy(longest, "https://root.example/", prefix);
    memset(longest + prefix, 'a', PP_URL_MAX_LEN - prefix);
    longest[PP_URL_MAX_LEN] = '\0';
    ck_assert_ptr_null(pp_redirect_check(unit_pool, make_allow(), longest));
    longest[PP_URL_MAX_LEN] = 'a';
    longest[PP_URL_MAX_LEN + 1] = '\0';
    ck_assert_ptr_nonnull(strstr(pp_url_parse(unit_pool, longest, &u), "longer than 2048"));
    ck_assert_ptr_nonnull(pp_redirect_check(unit_pool, make_allow(), longest));

    /* a parse failure explains itself */
    ck_assert_ptr_nonnull(strstr(pp_redirect_check(unit_pool, make_allow(),
                                                   "https://u@allowed.com/app"),
                                 "credentials"));
    ck_assert_ptr_nonnull(strstr(pp_redirect_check(unit_pool, make_allow(), "https://evil.com/app"),
                                 "allowlist"));
}
END_TEST

START_TEST(test_loopback)
{
    ck_assert(pp_url_host_is_loopback("localhost"));
    ck_assert(pp_url_host_is_loopback("LOCALHOST"));
    ck_assert(pp_url_host_is_loopback("127.0.0.1"));
    ck_assert(pp_url_host_is_loopback("127.1.2.3"));
    ck_assert(pp_url_host_is_loopback("127.255.255.255"));
    ck_assert(pp_url_host_is_loopback("::1"));
    ck_assert(pp_url_host_is_loopback("0:0:0:0:0:0:0:1"));
    ck_assert(!pp_url_host_is_loopback("128.0.0.1"));
    ck_assert(!pp_url_host_is_loopback("126.255.255.255"));
    ck_assert(!pp_url_host_is_loopback("127.0.0.256"));
    ck_assert(!pp_url_host_is_loopback("127.1"));
    ck_assert(!pp_url_host_is_loopback("2130706433"));
    ck_assert(!pp_url_host_is_loopback("::2"));
    ck_assert(!pp_url_host_is_loopback("::"));
    ck_assert(!pp_url_host_is_loopback("[::1]"));
    ck_assert(!pp_url_host_is_loopback("localhost.evil.com"));
    ck_assert(!pp_url_host_is_loopback("evil.localhost"));
    ck_assert(!pp_url_host_is_loopback("localhos"));
    ck_assert(!pp_url_host_is_loopback("localhostx"));
    ck_assert(!pp_url_host_is_loopback(""));
    ck_assert(!pp_url_host_is_loopback(NULL));
}
END_TEST

/* Config-time validation uses the same parser: what it refuses could
 * never be matched safely, what it keeps matches exactly. */
START_TEST(test_tenant_entries)
{
    pp_tenants_t *reg = pp_tenants_make(unit_pool);
    pp_tenant_t *t;
    static const char *const bad[] = {
        "https://example.com/?q=1",    "https://example.com/#top",
        "https://example.com/?",       "https://u:p@example.com/",
        "http://example.com/",         "https://example.com/a/../b",
        "https://example.com/%2e%2e/", "https://example.com./",
        "https://example.com:0/",      "//example.com/",
        "https://exa mple.com/",       "https://[::1/",
        "https://example.com//x",
    };
    size_t i;

    ck_assert_ptr_null(pp_tenants_add(reg, "t", &t));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *err = pp_tenant_add_redirect(unit_pool, t, bad[i]);
        ck_assert_msg(err != NULL, "entry accepted: %s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "invalid redirect URL"));
    }
    ck_assert_ptr_nonnull(strstr(pp_tenant_add_redirect(unit_pool, t, "https://e.com/?q"),
                                 "no query or fragment"));
    ck_assert_int_eq(t->redirect_allow->nelts, 0);

    ck_assert_ptr_null(pp_tenant_add_redirect(unit_pool, t, "HTTPS://Portal.Example.com/app"));
    ck_assert_ptr_null(pp_tenant_add_redirect(unit_pool, t, "http://[::1]:3000"));
    ck_assert_int_eq(t->redirect_allow->nelts, 2);
    ck_assert_ptr_null(pp_redirect_check(unit_pool, t->redirect_allow,
                                         "https://portal.example.com/app/x"));
    ck_assert_ptr_null(pp_redirect_check(unit_pool, t->redirect_allow,
                                         "http://[::1]:3000/anything"));
    ck_assert_ptr_nonnull(pp_redirect_check(unit_pool, t->redirect_allow,
                                            "https://portal.example.com/apple"));
    ck_assert_ptr_nonnull(pp_redirect_check(unit_pool, t->redirect_allow,
                                            "http://localhost:3000/"));
}
END_TEST

Suite *unit_redirect_suite(void)
{
    Suite *s = suite_create("redirect");
    TCase *tc = tcase_create("redirect");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(tc, test_parse_accepts, 0, (int)(sizeof(parsed) / sizeof(parsed[0])));
    tcase_add_loop_test(tc, test_parse_rejects, 0, (int)(sizeof(rejected) / sizeof(rejected[0])));
    tcase_add_loop_test(tc, test_check_table, 0, (int)(sizeof(checks) / sizeof(checks[0])));
    tcase_add_test(tc, test_check_edges);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_tenant_entries);
    suite_add_tcase(s, tc);
    return s;
}
