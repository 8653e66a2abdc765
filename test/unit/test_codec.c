#include "unit_suites.h"
#include "pp_codec.h"

#include <string.h>

/* ---- hex ----------------------------------------------------------------- */

START_TEST(test_hex_value)
{
    int c;
    for (c = 0; c < 256; c++) {
        int want = (c >= '0' && c <= '9')   ? c - '0'
                   : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                   : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                            : -1;
        ck_assert_int_eq(pp_hex_value(c), want);
    }
}
END_TEST

START_TEST(test_hex_encode)
{
    static const unsigned char b[] = { 0x00, 0x09, 0xab, 0xff, 0x10 };
    char two[2];

    ck_assert_str_eq(pp_hex_encode(unit_pool, b, sizeof(b)), "0009abff10");
    ck_assert_str_eq(pp_hex_encode(unit_pool, b, 0), "");
    pp_hex_byte(0x7f, two);
    ck_assert(two[0] == '7' && two[1] == 'f');
    pp_hex_byte(0xC3, two);
    ck_assert(two[0] == 'c' && two[1] == '3'); /* lowercase */
}
END_TEST

START_TEST(test_hex_decode)
{
    unsigned char out[4] = { 0 };
    apr_size_t bad = 99;

    ck_assert(pp_hex_decode("", 0, out, &bad));
    ck_assert(pp_hex_decode("00aBfF7e", 8, out, &bad)); /* both cases */
    ck_assert(out[0] == 0x00 && out[1] == 0xab && out[2] == 0xff && out[3] == 0x7e);
    ck_assert(!pp_hex_decode("abc", 3, out, &bad)); /* odd length */
    ck_assert_uint_eq(bad, 3);
    ck_assert(!pp_hex_decode("0g", 2, out, &bad));
    ck_assert_uint_eq(bad, 1);
    ck_assert(!pp_hex_decode("g0", 2, out, &bad));
    ck_assert_uint_eq(bad, 0);
    ck_assert(!pp_hex_decode("00 1", 4, out, &bad));
    ck_assert_uint_eq(bad, 2);
    ck_assert(!pp_hex_decode("0x00", 4, out, &bad));
    ck_assert_uint_eq(bad, 1);
    ck_assert(!pp_hex_decode("a\0", 2, out, &bad)); /* NUL is no digit */
    ck_assert_uint_eq(bad, 1);
    ck_assert(!pp_hex_decode("zz1", 3, out, &bad)); /* first bad digit wins */
    ck_assert_uint_eq(bad, 0);
}
END_TEST

/* ---- percent-escapes ------------------------------------------------------ */

START_TEST(test_pct_escape)
{
    ck_assert_int_eq(pp_pct_escape("%41", 3, 0), 0x41);
    ck_assert_int_eq(pp_pct_escape("x%aF", 4, 1), 0xaf);
    ck_assert_int_eq(pp_pct_escape("%00", 3, 0), 0);
    ck_assert_int_eq(pp_pct_escape("%", 1, 0), -1);   /* at the end */
    ck_assert_int_eq(pp_pct_escape("%4", 2, 0), -1);  /* cut off */
    ck_assert_int_eq(pp_pct_escape("%41", 2, 0), -1); /* cut off by n, not NUL */
    ck_assert_int_eq(pp_pct_escape("%4g", 3, 0), -1);
    ck_assert_int_eq(pp_pct_escape("%g4", 3, 0), -1);
    ck_assert_int_eq(pp_pct_escape("%+1", 3, 0), -1);
}
END_TEST

static const unsigned both = PP_PCT_PLUS_SPACE | PP_PCT_REFUSE_NUL;

START_TEST(test_pct_decode)
{
    ck_assert_str_eq(pp_pct_decode(unit_pool, "", 0, both), "");
    ck_assert_str_eq(pp_pct_decode(unit_pool, "a%20b%2Bc%2bd", 13, both), "a b+c+d");
    ck_assert_str_eq(pp_pct_decode(unit_pool, "%C3%A9", 6, both), "\xc3\xa9");
    ck_assert_str_eq(pp_pct_decode(unit_pool, "%25", 3, both), "%"); /* decoded once */
    ck_assert_str_eq(pp_pct_decode(unit_pool, "%2541", 5, both), "%41");
    /* only n bytes are read */
    ck_assert_str_eq(pp_pct_decode(unit_pool, "ab&c", 2, both), "ab");
    /* malformed escapes, wherever they are */
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "%", 1, both));
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "abc%", 4, both));
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "abc%4", 5, both));
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "%zz", 3, 0));
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "%4x1", 4, 0));
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "%41%", 4, 0));
}
END_TEST

START_TEST(test_pct_decode_plus)
{
    /* '+' is a space in query strings and form bodies, a '+' elsewhere */
    ck_assert_str_eq(pp_pct_decode(unit_pool, "a+b++", 5, PP_PCT_PLUS_SPACE), "a b  ");
    ck_assert_str_eq(pp_pct_decode(unit_pool, "a+b++", 5, 0), "a+b++");
    ck_assert_str_eq(pp_pct_decode(unit_pool, "a+b", 3, PP_PCT_REFUSE_NUL), "a+b");
}
END_TEST

START_TEST(test_pct_decode_nul)
{
    char *s;

    /* refused: %00 anywhere, and a literal NUL inside the n bytes */
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "%00", 3, both));
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "ab%00", 5, both));
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "a\0b", 3, both));
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "a%00", 4, PP_PCT_REFUSE_NUL));
    /* kept without the flag: the caller gets the byte */
    s = pp_pct_decode(unit_pool, "a%00b", 5, 0);
    ck_assert_ptr_nonnull(s);
    ck_assert(memcmp(s, "a\0b", 4) == 0);
    /* %0 followed by a non-digit is malformed, not a NUL */
    ck_assert_ptr_null(pp_pct_decode(unit_pool, "%0", 2, 0));
}
END_TEST

/* ---- base64url ------------------------------------------------------------ */

/* RFC 4648 section 10, unpadded, plus the two characters that differ from
 * base64 ('-' and '_' for '+' and '/'). */
static const struct {
    const char *bytes;
    apr_size_t n;
    const char *text;
} b64_vectors[] = {
    { "", 0, "" },
    { "f", 1, "Zg" },
    { "fo", 2, "Zm8" },
    { "foo", 3, "Zm9v" },
    { "foob", 4, "Zm9vYg" },
    { "fooba", 5, "Zm9vYmE" },
    { "foobar", 6, "Zm9vYmFy" },
    { "\xfb\xff", 2, "-_8" },
    { "\xff\xff\xff", 3, "____" },
    { "\0\0\0\0", 4, "AAAAAA" },
};

START_TEST(test_b64url_vectors)
{
    unsigned char *out = NULL;
    apr_size_t out_len = 99;

    ck_assert_str_eq(pp_b64url_encode(unit_pool, (const unsigned char *)b64_vectors[_i].bytes,
                                      b64_vectors[_i].n),
                     b64_vectors[_i].text);
    ck_assert(pp_b64url_decode(unit_pool, b64_vectors[_i].text, strlen(b64_vectors[_i].text), &out,
                               &out_len));
    ck_assert_uint_eq(out_len, b64_vectors[_i].n);
    ck_assert(memcmp(out, b64_vectors[_i].bytes, out_len) == 0);
}
END_TEST

START_TEST(test_b64url_value)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int c;

    for (c = 0; c < 256; c++) {
        const char *at = c ? strchr(alphabet, c) : NULL;
        ck_assert_int_eq(pp_b64url_value(c), at ? (int)(at - alphabet) : -1);
    }
}
END_TEST

/* Encodings the decoder refuses, so each byte string has exactly one. */
static const char *const b64_refused[] = {
    "Zg==",                        /* padding */
    "Zm8=",  "Zm9v====", "=", "Z", /* 1 mod 4: no whole byte */
    "Zm9vY", "Zh",                 /* spare bits set */
    "Zm9",   "+/8",                /* base64, not base64url */
    "Zm 9v", "Zm9v\n",
};

START_TEST(test_b64url_refused)
{
    unsigned char *out;
    apr_size_t out_len;

    ck_assert_msg(!pp_b64url_decode(unit_pool, b64_refused[_i], strlen(b64_refused[_i]), &out,
                                    &out_len),
                  "accepted \"%s\"", b64_refused[_i]);
}
END_TEST

START_TEST(test_b64url_decode_bounds)
{
    unsigned char *out;
    apr_size_t out_len;

    /* a NUL inside n is not in the alphabet */
    ck_assert(!pp_b64url_decode(unit_pool, "Zm\0v", 4, &out, &out_len));
    /* only n bytes are read: "Zm9v" of "Zm9v.sig" */
    ck_assert(pp_b64url_decode(unit_pool, "Zm9v.sig", 4, &out, &out_len));
    ck_assert_uint_eq(out_len, 3);
    ck_assert(memcmp(out, "foo", 3) == 0);
}
END_TEST

/* ---- HMAC-SHA256 (RFC 4231 test cases 1 and 2, and the empty key) -------- */

START_TEST(test_hmac_sha256)
{
    unsigned char key1[20], mac[PP_HMAC_SHA256_LEN];

    memset(key1, 0x0b, sizeof(key1));
    ck_assert(pp_hmac_sha256(key1, sizeof(key1), "Hi There", 8, mac));
    ck_assert_str_eq(pp_hex_encode(unit_pool, mac, sizeof(mac)),
                     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    ck_assert(pp_hmac_sha256((const unsigned char *)"Jefe", 4, "what do ya want for nothing?", 28,
                             mac));
    ck_assert_str_eq(pp_hex_encode(unit_pool, mac, sizeof(mac)),
                     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    ck_assert(pp_hmac_sha256((const unsigned char *)"", 0, "", 0, mac));
    ck_assert_str_eq(pp_hex_encode(unit_pool, mac, sizeof(mac)),
                     "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}
END_TEST

Suite *unit_codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_hex_value);
    tcase_add_test(tc, test_hex_encode);
    tcase_add_test(tc, test_hex_decode);
    tcase_add_test(tc, test_pct_escape);
    tcase_add_test(tc, test_pct_decode);
    tcase_add_test(tc, test_pct_decode_plus);
    tcase_add_test(tc, test_pct_decode_nul);
    tcase_add_loop_test(tc, test_b64url_vectors, 0, sizeof(b64_vectors) / sizeof(b64_vectors[0]));
    tcase_add_test(tc, test_b64url_value);
    tcase_add_loop_test(tc, test_b64url_refused, 0, sizeof(b64_refused) / sizeof(b64_refused[0]));
    tcase_add_test(tc, test_b64url_decode_bounds);
    tcase_add_test(tc, test_hmac_sha256);
    suite_add_tcase(s, tc);
    return s;
}
