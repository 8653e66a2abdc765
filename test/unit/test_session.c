/* pp_session: login/session secrets, the session cookie, CSRF tokens, and
 * the sign-in page's parsers. */
#include "unit_suites.h"
#include "pp_session.h"

#include <string.h>

static const unsigned char key[] = "unit-test-csrf-key-0123456789abcd";
#define KEY_LEN (sizeof(key) - 1)

START_TEST(test_secrets_are_random_256_bit_base64url)
{
    const char *a = pp_secret_new(unit_pool), *b = pp_secret_new(unit_pool);

    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(strlen(a), PP_SECRET_CHARS);
    ck_assert(pp_secret_is_wellformed(a));
    ck_assert_str_ne(a, b);
    ck_assert(!pp_secret_is_wellformed(NULL));
    ck_assert(!pp_secret_is_wellformed(""));
    ck_assert(!pp_secret_is_wellformed("abc"));
    /* one character too many, a padding '=', a '+' from plain base64 */
    ck_assert(!pp_secret_is_wellformed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    ck_assert(!pp_secret_is_wellformed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    ck_assert(!pp_secret_is_wellformed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));
    ck_assert(pp_secret_is_wellformed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_"));
}
END_TEST

START_TEST(test_hash_is_sha256_hex)
{
    /* sha256("abc") */
    ck_assert_str_eq(pp_secret_hash_hex(unit_pool, "abc"),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_cookie_header)
{
    ck_assert_str_eq(pp_cookie_get(unit_pool, "pp_session=abc", "pp_session"), "abc");
    ck_assert_str_eq(pp_cookie_get(unit_pool, "a=1; pp_session=abc ; b=2", "pp_session"), "abc");
    ck_assert_ptr_null(pp_cookie_get(unit_pool, "xpp_session=abc", "pp_session"));
    ck_assert_ptr_null(pp_cookie_get(unit_pool, "pp_sessionx=abc", "pp_session"));
    ck_assert_ptr_null(pp_cookie_get(unit_pool, "pp_session=", "pp_session"));
    ck_assert_ptr_null(pp_cookie_get(unit_pool, NULL, "pp_session"));
    /* a second, planted cookie of the same name: refused, not guessed */
    ck_assert_ptr_null(pp_cookie_get(unit_pool, "pp_session=a; pp_session=b", "pp_session"));
}
END_TEST

START_TEST(test_session_cookie_attributes)
{
    const char *c = pp_session_cookie(unit_pool, "SECRET", 3600, 1);

    ck_assert_str_eq(c, "pp_session=SECRET; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure");
    ck_assert_str_eq(pp_session_cookie(unit_pool, "S", 60, 0),
                     "pp_session=S; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
    ck_assert_str_eq(pp_session_cookie_clear(unit_pool, 1),
                     "pp_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure");
}
END_TEST

START_TEST(test_csrf_token_is_bound_to_the_session_and_key)
{
    const char *s1 = pp_secret_new(unit_pool), *s2 = pp_secret_new(unit_pool);
    const char *t1 = pp_csrf_token(unit_pool, key, KEY_LEN, s1);
    static const unsigned char other_key[] = "another-key-0123456789abcdefghij";

    ck_assert_ptr_nonnull(t1);
    ck_assert_int_eq(strlen(t1), 43);
    ck_assert(pp_csrf_check(unit_pool, key, KEY_LEN, s1, t1));
    ck_assert(!pp_csrf_check(unit_pool, key, KEY_LEN, s2, t1));
    ck_assert(!pp_csrf_check(unit_pool, other_key, sizeof(other_key) - 1, s1, t1));
    ck_assert(!pp_csrf_check(unit_pool, key, KEY_LEN, s1, NULL));
    ck_assert(!pp_csrf_check(unit_pool, key, KEY_LEN, s1, ""));
    ck_assert(!pp_csrf_check(unit_pool, key, KEY_LEN, s1, s1));
}
END_TEST

START_TEST(test_form_body)
{
    ck_assert_str_eq(pp_form_get(unit_pool, "token=abc", "token"), "abc");
    ck_assert_str_eq(pp_form_get(unit_pool, "a=1&token=a%2Db+c&b=2", "token"), "a-b c");
    ck_assert_str_eq(pp_form_get(unit_pool, "token=", "token"), "");
    ck_assert_ptr_null(pp_form_get(unit_pool, "tokens=abc", "token"));
    ck_assert_ptr_null(pp_form_get(unit_pool, "token=a&token=b", "token"));
    ck_assert_ptr_null(pp_form_get(unit_pool, "token=%4", "token"));
    ck_assert_ptr_null(pp_form_get(unit_pool, "token=%zz", "token"));
    ck_assert_ptr_null(pp_form_get(unit_pool, "token=a%00b", "token"));
    ck_assert_ptr_null(pp_form_get(unit_pool, "", "token"));
}
END_TEST

START_TEST(test_html_escape)
{
    ck_assert_str_eq(pp_html_escape(unit_pool, "<a href=\"x\">'&'</a>"),
                     "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;");
    ck_assert_str_eq(pp_html_escape(unit_pool, "plain@example.com"), "plain@example.com");
}
END_TEST

Suite *unit_session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("session");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_secrets_are_random_256_bit_base64url);
    tcase_add_test(tc, test_hash_is_sha256_hex);
    tcase_add_test(tc, test_cookie_header);
    tcase_add_test(tc, test_session_cookie_attributes);
    tcase_add_test(tc, test_csrf_token_is_bound_to_the_session_and_key);
    tcase_add_test(tc, test_form_body);
    tcase_add_test(tc, test_html_escape);
    suite_add_tcase(s, tc);
    return s;
}
