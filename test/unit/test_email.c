#include "unit_suites.h"
#include "pp_email.h"

#include <apr_strings.h>
#include <string.h>

/* adjacent literals ("\xc3\xbc" "ber" ends a hex escape) stay on one line: clang-format
 * would give each literal a line of its own */
/* clang-format off */
static const struct {
    const char *raw, *normalised;
} normalised[] = {
    {"  Mixed.Case@Example.COM \t\n", "mixed.case@example.com"},
    {"a@b.co", "a@b.co"},
    {"   ", ""},
    {"", ""},
    /* full Unicode lowercase, not just ASCII */
    {"J\xc3\x89@X.io", "j\xc3\xa9@x.io"},
    {"\xc3\x9c" "BER.x@Example.com", "\xc3\xbc" "ber.x@example.com"},
    {"\xc3\xbc" "ber.x@example.com", "\xc3\xbc" "ber.x@example.com"},
    {"u@B\xc3\x9c" "CHER.DE", "u@b\xc3\xbc" "cher.de"},
    /* Greek: final sigma in context, Cyrillic, the capital sharp s */
    {"\xce\x9f\xce\x94\xce\x9f\xce\xa3@x.gr", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82@x.gr"},
    {"\xd0\x98\xd0\x92\xd0\x90\xd0\x9d@x.ru", "\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd@x.ru"},
    {"STRA\xe1\xba\x9e" "E@x.de", "stra\xc3\x9f" "e@x.de"},
    /* U+0130 has a full lowercase mapping of two code points: i U+0307 */
    {"\xc4\xb0@x.tr", "i\xcc\x87@x.tr"},
    /* NFC: a decomposed e + U+0301 becomes the composed U+00E9 */
    {"jose\xcc\x81@example.com", "jos\xc3\xa9@example.com"},
    {"JOSE\xcc\x81@example.com", "jos\xc3\xa9@example.com"},
    /* Unicode white space is trimmed at both ends: U+00A0, U+2003, U+3000,
     * U+2028, U+0085 */
    {"\xc2\xa0trader@example.com\xc2\xa0", "trader@example.com"},
    {"\xe2\x80\x83\xe3\x80\x80 Trader@Example.com\xe2\x80\xa8\xc2\x85",
     "trader@example.com"},
    /* ... but not inside */
    {"a\xc2\xa0" "b@example.com", "a\xc2\xa0" "b@example.com"},
    /* quoted local parts are kept as written, lowercased like the rest */
    {" \"A B\"@Example.com ", "\"a b\"@example.com"},
};
/* clang-format on */

START_TEST(test_normalize)
{
    const char *got = pp_email_normalize(unit_pool, normalised[_i].raw);
    ck_assert_msg(got != NULL, "case %d: NULL", _i);
    ck_assert_msg(strcmp(got, normalised[_i].normalised) == 0,
                  "case %d: \"%s\" -> \"%s\", "
                  "expected \"%s\"",
                  _i, normalised[_i].raw, got, normalised[_i].normalised);
    /* idempotent */
    ck_assert_str_eq(pp_email_normalize(unit_pool, got), got);
}
END_TEST

START_TEST(test_normalize_refuses_invalid_utf8)
{
    ck_assert_ptr_null(pp_email_normalize(unit_pool, "a\xc3@example.com"));
    ck_assert_ptr_null(pp_email_normalize(unit_pool, "a\xed\xa0\x80@example.com"));
    ck_assert_ptr_null(pp_email_normalize(unit_pool, "\xc0\xaf@example.com"));
}
END_TEST

/* Deliverable, so accepted (after normalisation). */
/* clang-format off */
static const char *const valid[] = {
    "a@b.co", "trader@example.com", "first.last+tag@sub.example.co.uk", "x@localhost.localdomain",
    "j\xc3\xa9@example.com", "jos\xc3\xa9@example.com", "u@b\xc3\xbc" "cher.de",
    "jos\xc3\xa9@b\xc3\xbc" "cher.de", "u@xn--bcher-kva.de",
    "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a",
    "\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
    "u@fa\xc3\x9f.de",
    /* quoted local parts: valid RFC 5321, deliverable */
    "\"a b\"@example.com", "\"a@b\"@example.com", "\"a\\\"b\"@example.com",
    "\"a\\\\b\"@example.com", "\"\"@example.com", "\"j\xc3\xa9 r\"@example.com",
    "\"a..b\"@example.com", "\".a\"@example.com",
    /* atext in full */
    "!#$%&'*+-/=?^_`{|}~@example.com",
    /* LDH labels with inner hyphens, digits */
    "u@a-b.example", "u@123.example", "u@ab--cd.example",
    /* lengths at their limits */
    "llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll@example.com",
    "u@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.com",
};
/* clang-format on */

START_TEST(test_valid)
{
    const char *why = pp_email_check(valid[_i]);
    ck_assert_msg(why == NULL, "%s should be valid: %s", valid[_i], why);
    ck_assert(pp_email_is_valid(valid[_i]));
}
END_TEST

/* Never deliverable: refused, with a reason that names the email field. */
static const struct {
    const char *email, *why;
} invalid[] = {
    { "", "'@'" },
    { "a", "'@'" },
    { "a@b", "dot" },
    { "no-at-sign.example.com", "'@'" },
    { "a@@b.com", "'@'" },
    { "a@b@c.com", "'@'" },
    { "a b@c.com", "white space" },
    { "a\tb@c.com", "white space" },
    { "@example.com", "empty local part" },
    { "user@.com", "dot" },
    { "user@example.", "dot" },
    { "user@example..com", "dot" },
    { "user@", "no domain" },
    { "a\x01@b.com", "control" },
    { ".a@example.com", "dot" },
    { "a.@example.com", "dot" },
    { "a..b@example.com", "dot" },
    /* comments are not part of an envelope address */
    { "a(b)@example.com", "comments" },
    { "(x)a@example.com", "comments" },
    { "a@example.com(x)", "comments" },
    { "a@(x)example.com", "comments" },
    /* quoted strings: as a whole, closed, escapes of printable ASCII only */
    { "\"a\"b@example.com", "quoted as a whole" },
    { "a\"b\"@example.com", "unquoted" },
    { "\"ab@example.com", "closing quote" },
    { "\"a\tb\"@example.com", "control" },
    { "\"a\\\tb\"@example.com", "backslash" },
    { "\"a\xc2\xa0"
      "b\"@example.com",
      "control" },
    /* characters outside atext need quotes */
    { "a<b@example.com", "unquoted" },
    { "a,b@example.com", "unquoted" },
    { "a\\b@example.com", "unquoted" },
    { "<a@example.com>", "unquoted" },
    /* Unicode white space, C1 controls and bidi controls inside */
    { "a\xc2\xa0"
      "b@example.com",
      "white space" },
    { "a\xc2\x85"
      "b@example.com",
      "white space" },
    { "a\xe2\x80\xae"
      "b@example.com",
      "white space" },
    /* domains */
    { "u@[192.0.2.1]", "literal" },
    { "u@[ipv6:2001:db8::1]", "literal" },
    { "u@192.0.2.1", "all digits" },
    { "u@localhost", "dot" },
    { "u@-a.example", "hyphen" },
    { "u@a-.example", "hyphen" },
    { "u@a_b.example", "only letters" },
    { "u@exa mple.com", "white space" },
    { "u@\xe2\x98\x83.net", "IDNA2008" },       /* a snowman: DISALLOWED */
    { "u@\xef\xbd\x85xample.com", "IDNA2008" }, /* fullwidth e: not mapped, refused */
    { "u@B\xc3\x9c"
      "CHER.de",
      "IDNA2008" },                 /* not normalised: upper case U-label */
    { "u@xn--zz.com", "IDNA2008" }, /* a fake A-label */
    { "u@a\xe2\x80\xae"
      "b.com",
      "IDNA2008" },
    /* lengths, in octets */
    { "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll@example.com",
      "64 octets" },
    { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
      "\xc3\xa9\xc3\xa9\xc3\xa9@example.com",
      "64 octets" }, /* 33 characters, 66 octets */
    { "u@dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.com", "63 octets" },
    /* 57 "d" and a "\xc3\xbc": 59 octets of UTF-8, 65 as an A-label */
    { "u@ddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\xc3\xbc.de", "63 octets" },
    { "bad\xc3@example.com", "UTF-8" },
};

START_TEST(test_invalid)
{
    const char *why = pp_email_check(invalid[_i].email);
    ck_assert_msg(why != NULL, "%s should be invalid", invalid[_i].email);
    ck_assert_msg(strncmp(why, "email", 5) == 0, "%s: the reason must name the email: %s",
                  invalid[_i].email, why);
    ck_assert_msg(strstr(why, invalid[_i].why) != NULL, "%s: \"%s\" does not say \"%s\"",
                  invalid[_i].email, why, invalid[_i].why);
    ck_assert(!pp_email_is_valid(invalid[_i].email));
}
END_TEST

/* The whole address: 254 octets of local "@" A-label domain (RFC 5321 path). */
START_TEST(test_total_length)
{
    char local[65], domain[256], *email;
    memset(local, 'l', 64);
    local[64] = '\0';
    /* 63 + 1 + 63 + 1 + 57 + 4 = 189 octets: 64 + 1 + 189 = 254 */
    memset(domain, 'd', sizeof(domain));
    domain[63] = '.';
    domain[127] = '.';
    strcpy(domain + 185, ".com");
    email = apr_pstrcat(unit_pool, local, "@", domain, NULL);
    ck_assert_uint_eq(strlen(email), 254);
    ck_assert_msg(pp_email_check(email) == NULL, "%s", pp_email_check(email));
    /* one more "d" in the third label: 255 */
    strcpy(domain + 185, "d.com");
    email = apr_pstrcat(unit_pool, local, "@", domain, NULL);
    ck_assert_uint_eq(strlen(email), 255);
    ck_assert_ptr_nonnull(pp_email_check(email));
    ck_assert_ptr_nonnull(strstr(pp_email_check(email), "254 octets"));

    /* counted with the domain in A-labels: 50 "d" and a "\xc3\xbc" are 52
     * octets of UTF-8 but 58 as an A-label, so this 249-octet address is 255
     * octets in the envelope */
    domain[128] = '\0';
    email = apr_pstrcat(unit_pool, local, "@", domain,
                        "dddddddddddddddddddddddddddddddddddddddddddddddddd\xc3\xbc.com", NULL);
    ck_assert_uint_eq(strlen(email), 249);
    ck_assert_ptr_nonnull(pp_email_check(email));
}
END_TEST

static const struct {
    const char *email, *local, *domain, *ascii_domain, *envelope;
    int utf8_local;
} splits[] = {
    { "trader@example.com", "trader", "example.com", "example.com", "trader@example.com", 0 },
    { "jos\xc3\xa9@example.com", "jos\xc3\xa9", "example.com", "example.com",
      "jos\xc3\xa9@example.com", 1 },
    { "u@b\xc3\xbc"
      "cher.de",
      "u",
      "b\xc3\xbc"
      "cher.de",
      "xn--bcher-kva.de", "u@xn--bcher-kva.de", 0 },
    { "\xc3\xbc@b\xc3\xbc"
      "cher.de",
      "\xc3\xbc",
      "b\xc3\xbc"
      "cher.de",
      "xn--bcher-kva.de", "\xc3\xbc@xn--bcher-kva.de", 1 },
    { "\"a@b c\"@mail.example", "\"a@b c\"", "mail.example", "mail.example",
      "\"a@b c\"@mail.example", 0 },
    { "u@xn--bcher-kva.de", "u", "xn--bcher-kva.de", "xn--bcher-kva.de", "u@xn--bcher-kva.de", 0 },
};

START_TEST(test_split)
{
    pp_email_parts_t parts;
    const char *why = pp_email_split(unit_pool, splits[_i].email, &parts);
    ck_assert_msg(why == NULL, "%s: %s", splits[_i].email, why);
    ck_assert_str_eq(parts.local, splits[_i].local);
    ck_assert_str_eq(parts.domain, splits[_i].domain);
    ck_assert_str_eq(parts.ascii_domain, splits[_i].ascii_domain);
    ck_assert_str_eq(parts.envelope, splits[_i].envelope);
    ck_assert_int_eq(parts.utf8_local, splits[_i].utf8_local);
}
END_TEST

START_TEST(test_split_refuses)
{
    pp_email_parts_t parts;
    memset(&parts, 0, sizeof(parts));
    ck_assert_ptr_nonnull(pp_email_split(unit_pool, "a(b)@example.com", &parts));
    ck_assert_ptr_null(parts.envelope);
}
END_TEST

Suite *unit_email_suite(void)
{
    Suite *s = suite_create("email");
    TCase *tc = tcase_create("email");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_loop_test(tc, test_normalize, 0, sizeof(normalised) / sizeof(normalised[0]));
    tcase_add_test(tc, test_normalize_refuses_invalid_utf8);
    tcase_add_loop_test(tc, test_valid, 0, sizeof(valid) / sizeof(valid[0]));
    tcase_add_loop_test(tc, test_invalid, 0, sizeof(invalid) / sizeof(invalid[0]));
    tcase_add_test(tc, test_total_length);
    tcase_add_loop_test(tc, test_split, 0, sizeof(splits) / sizeof(splits[0]));
    tcase_add_test(tc, test_split_refuses);
    suite_add_tcase(s, tc);
    return s;
}
