#include "unit_suites.h"
#include "pp_cursor.h"

#include <apr_strings.h>
#include <openssl/evp.h>
#include <string.h>

static const unsigned char key[] = "unit-test-cursor-key-0123456789ab";
#define KEY_LEN (sizeof(key) - 1)

#define ACCOUNT_A "0b1d8e2a-3c4f-5a6b-7c8d-9e0f1a2b3c4d"
#define ACCOUNT_B "6a2f0c4e-1b7d-4e2a-9f3c-1a2b3c4d5e6f"

static const char *encode(const char *account, const char *side, const char *market,
                          const char *filled_at_us, const char *order_id)
{
    pp_cursor_t c = { account, side, market, filled_at_us, order_id };
    return pp_cursor_encode(unit_pool, key, KEY_LEN, &c);
}

static const char *decode(const char *text, const char *account, const char *side,
                          const char *market)
{
    pp_cursor_t out;
    return pp_cursor_decode(unit_pool, key, KEY_LEN, text, account, side, market, &out);
}

/* A cursor for a hand-made payload, signed the way the format says (so the
 * checks behind the signature can be reached). Also pins the format. */
static const char *b64url(const unsigned char *in, apr_size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(unit_pool, n * 2 + 4);
    apr_size_t i, k = 0;
    unsigned bits = 0, nbits = 0;

    for (i = 0; i < n; i++) {
        bits = (bits << 8) | in[i];
        nbits += 8;
        while (nbits >= 6) {
            out[k++] = abc[(bits >> (nbits - 6)) & 63];
            nbits -= 6;
        }
    }
    if (nbits) {
        out[k++] = abc[(bits << (6 - nbits)) & 63];
    }
    out[k] = '\0';
    return out;
}

static const char *sign_payload(const void *payload, apr_size_t n)
{
    static const char context[] = "polypartner/trades-cursor";
    unsigned char *data = apr_palloc(unit_pool, sizeof(context) + n);
    unsigned char mac[32];
    size_t mac_len;

    memcpy(data, context, sizeof(context) - 1);
    memcpy(data + sizeof(context) - 1, payload, n);
    ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, KEY_LEN, data,
                                    sizeof(context) - 1 + n, mac, sizeof(mac), &mac_len));
    return apr_pstrcat(unit_pool, b64url(payload, n), ".", b64url(mac, mac_len), NULL);
}

/* Computed independently (Python hmac/base64) from the format in pp_cursor.h. */
START_TEST(test_golden_vector)
{
    const char *golden =
        "djEkMGIxZDhlMmEtM2M0Zi01YTZiLTdjOGQtOWUwZjFhMmIzYzRkA0JVWQgweGFiYzEyMxAxNzk1MDAwMDAw"
        "MTIzNDU2BDg4ODE.Ad2k2NH83-q2hZIZh_Rw0TFTOswrkWJ1pl2wMAiQ8fI";
    pp_cursor_t out;

    ck_assert_str_eq(encode(ACCOUNT_A, "BUY", "0xabc123", "1795000000123456", "8881"), golden);
    ck_assert_ptr_null(pp_cursor_decode(unit_pool, key, KEY_LEN, golden, ACCOUNT_A, "BUY",
                                        "0xabc123", &out));
    ck_assert_str_eq(out.filled_at_us, "1795000000123456");
    ck_assert_str_eq(out.order_id, "8881");
    ck_assert_str_eq(out.account_id, ACCOUNT_A);
    ck_assert_str_eq(out.side, "BUY");
    ck_assert_str_eq(out.market_id, "0xabc123");
}
END_TEST

static const char *long_market(void)
{
    char *s = apr_palloc(unit_pool, PP_CURSOR_MAX_MARKET + 1);
    memset(s, 'm', PP_CURSOR_MAX_MARKET);
    s[PP_CURSOR_MAX_MARKET] = '\0';
    return s;
}

/* Bytes 0x01..0xff in order: not UTF-8, but the cursor must not care. */
static const char *binary_market(void)
{
    char *s = apr_palloc(unit_pool, 256);
    int i;
    for (i = 1; i < 256; i++) {
        s[i - 1] = (char)i;
    }
    s[255] = '\0';
    return s;
}

static const struct {
    const char *account, *side, *market, *filled_at_us, *order_id;
} round_trips[] = {
    { ACCOUNT_A, "", "", "1795000000123456", "8881" },
    { ACCOUNT_A, "BUY", "", "1795000000123456", "1" },
    { ACCOUNT_A, "SELL", "", "0", "9223372036854775807" },
    { ACCOUNT_B, "", "0x1f3c5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081",
      "9223372036854775807", "42" },
    { ACCOUNT_B, "BUY", "a.b.c", "1", "10" },
    { ACCOUNT_B, "SELL", "a|b|c", "100", "100" },
    { ACCOUNT_A, "", "100%25 %zz %", "1795000000000000", "7" },
    { ACCOUNT_A, "BUY", "&=?#/+ \\\"'", "1795000000000001", "8" },
    { ACCOUNT_A, "", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "12", "13" },
    { ACCOUNT_A, "SELL", ".", "5", "5" },
    { ACCOUNT_A, "", "v1", "5", "5" },
    { "x", "", "", "5", "5" }, /* the cursor does not insist on UUIDs */
    { "0123456789012345678901234567890123456789012345678901234567890123", "SELL",
      NULL /* long_market() */, "9223372036854775807", "9223372036854775807" },
    { ACCOUNT_A, "BUY", NULL /* binary_market() */, "1", "1" },
};

START_TEST(test_round_trip)
{
    const char *market = round_trips[_i].market;
    const char *text, *again, *c, *err;
    pp_cursor_t out;
    int dots = 0;

    if (market == NULL) {
        market = _i == 12 ? long_market() : binary_market();
    }
    text = encode(round_trips[_i].account, round_trips[_i].side, market,
                  round_trips[_i].filled_at_us, round_trips[_i].order_id);
    ck_assert_msg(text != NULL, "case %d not encoded", _i);
    ck_assert_uint_le(strlen(text), PP_CURSOR_MAX_TEXT);
    for (c = text; *c; c++) {
        if (*c == '.') {
            dots++;
        }
        else {
            ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-_",
                                 *c)
                              != NULL,
                          "'%c' in %s", *c, text);
        }
    }
    ck_assert_int_eq(dots, 1);
    err = pp_cursor_decode(unit_pool, key, KEY_LEN, text, round_trips[_i].account,
                           round_trips[_i].side, market, &out);
    ck_assert_msg(err == NULL, "case %d: %s", _i, err);
    ck_assert_str_eq(out.filled_at_us, round_trips[_i].filled_at_us);
    ck_assert_str_eq(out.order_id, round_trips[_i].order_id);
    ck_assert_str_eq(out.market_id, market);
    /* deterministic: the same fields always give the same text */
    again = encode(out.account_id, out.side, out.market_id, out.filled_at_us, out.order_id);
    ck_assert_str_eq(again, text);
}
END_TEST

START_TEST(test_many_round_trips)
{
    static const char *const sides[] = { "", "BUY", "SELL" };
    int i;

    for (i = 0; i < 3000; i++) {
        const char *fa = apr_psprintf(unit_pool, "%" APR_UINT64_T_FMT,
                                      (apr_uint64_t)1795000000000000ULL + (apr_uint64_t)i * 7919);
        const char *oid = apr_psprintf(unit_pool, "%d", i + 1);
        const char *market = i % 4 ? apr_psprintf(unit_pool, "m.%d|%%", i) : "";
        const char *text = encode(ACCOUNT_A, sides[i % 3], market, fa, oid);
        pp_cursor_t out;
        ck_assert_ptr_nonnull(text);
        ck_assert_ptr_null(pp_cursor_decode(unit_pool, key, KEY_LEN, text, ACCOUNT_A, sides[i % 3],
                                            market, &out));
        ck_assert_str_eq(out.filled_at_us, fa);
        ck_assert_str_eq(out.order_id, oid);
    }
}
END_TEST

static const char *sample(void)
{
    return encode(ACCOUNT_A, "SELL", "0xabc.def|1", "1795000000123456", "8881");
}

START_TEST(test_every_byte_changed)
{
    const char *orig = sample();
    apr_size_t n = strlen(orig), i;
    char *text = apr_pstrdup(unit_pool, orig);
    int b;

    ck_assert_ptr_null(decode(orig, ACCOUNT_A, "SELL", "0xabc.def|1"));
    for (i = 0; i < n; i++) {
        for (b = 1; b < 256; b++) {
            if (b == (unsigned char)orig[i]) {
                continue;
            }
            text[i] = (char)b;
            ck_assert_msg(decode(text, ACCOUNT_A, "SELL", "0xabc.def|1") != NULL,
                          "byte %d changed to %d accepted", (int)i, b);
        }
        text[i] = orig[i];
    }
}
END_TEST

START_TEST(test_every_truncation_and_deletion)
{
    const char *orig = sample();
    apr_size_t n = strlen(orig), i;

    for (i = 0; i < n; i++) {
        const char *prefix = apr_pstrndup(unit_pool, orig, i);
        const char *suffix = orig + i + 1;
        const char *deleted = apr_pstrcat(unit_pool, prefix, suffix, NULL);
        ck_assert_msg(decode(prefix, ACCOUNT_A, "SELL", "0xabc.def|1") != NULL,
                      "prefix of %d accepted", (int)i);
        ck_assert_msg(decode(suffix, ACCOUNT_A, "SELL", "0xabc.def|1") != NULL,
                      "suffix from %d accepted", (int)i + 1);
        ck_assert_msg(decode(deleted, ACCOUNT_A, "SELL", "0xabc.def|1") != NULL,
                      "deletion at %d accepted", (int)i);
    }
}
END_TEST

START_TEST(test_every_insertion)
{
    static const char extra[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=% +/\n";
    const char *orig = sample();
    apr_size_t n = strlen(orig), i, j;

    for (i = 0; i <= n; i++) {
        for (j = 0; j < sizeof(extra) - 1; j++) {
            const char *text = apr_psprintf(unit_pool, "%.*s%c%s", (int)i, orig, extra[j],
                                            orig + i);
            ck_assert_msg(decode(text, ACCOUNT_A, "SELL", "0xabc.def|1") != NULL,
                          "'%c' inserted at %d accepted", extra[j], (int)i);
        }
    }
    ck_assert_ptr_nonnull(decode(apr_pstrcat(unit_pool, orig, "==", NULL), ACCOUNT_A, "SELL",
                                 "0xabc.def|1"));
    ck_assert_ptr_nonnull(decode(apr_pstrcat(unit_pool, orig, orig, NULL), ACCOUNT_A, "SELL",
                                 "0xabc.def|1"));
}
END_TEST

/* Issued for one account and filter set, replayed against another. */
static const struct {
    const char *side, *market; /* what it was issued for */
    const char *want_side, *want_market;
    const char *says;
} wrong_filters[] = {
    { "BUY", "", "", "", "side" },       { "BUY", "", "SELL", "", "side" },
    { "BUY", "", "buy", "", "side" },    { "", "", "BUY", "", "side" },
    { "SELL", "", "BUY", "", "side" },   { "", "m1", "", "", "market_id" },
    { "", "m1", "", "m2", "market_id" }, { "", "m1", "", "m1 ", "market_id" },
    { "", "m1", "", "m", "market_id" },  { "", "m1", "", "M1", "market_id" },
    { "", "", "", "m1", "market_id" },   { "BUY", "m1", "BUY", "m1\xc2\xa0", "market_id" },
};

START_TEST(test_wrong_filters)
{
    const char *text = encode(ACCOUNT_A, wrong_filters[_i].side, wrong_filters[_i].market,
                              "1795000000123456", "8881");
    const char *err = decode(text, ACCOUNT_A, wrong_filters[_i].want_side,
                             wrong_filters[_i].want_market);
    ck_assert_ptr_null(decode(text, ACCOUNT_A, wrong_filters[_i].side, wrong_filters[_i].market));
    ck_assert_msg(err != NULL, "case %d accepted", _i);
    ck_assert_msg(strstr(err, wrong_filters[_i].says) != NULL, "case %d: '%s'", _i, err);
}
END_TEST

START_TEST(test_wrong_account_or_key)
{
    static const unsigned char other_key[] = "unit-test-cursor-key-0123456789ac";
    const char *text = encode(ACCOUNT_A, "", "", "1795000000123456", "8881");
    pp_cursor_t out;
    const char *err;

    err = decode(text, ACCOUNT_B, "", "");
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "account"));
    ck_assert_ptr_nonnull(decode(text, "0B1D8E2A-3C4F-5A6B-7C8D-9E0F1A2B3C4D", "", ""));
    ck_assert_ptr_nonnull(decode(text, ACCOUNT_A "0", "", ""));
    ck_assert_ptr_nonnull(decode(text, "", "", ""));
    ck_assert_ptr_nonnull(decode(text, NULL, "", ""));
    /* NULL filters mean "" */
    ck_assert_ptr_null(decode(text, ACCOUNT_A, NULL, NULL));

    err = pp_cursor_decode(unit_pool, other_key, sizeof(other_key) - 1, text, ACCOUNT_A, "", "",
                           &out);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "signature"));
    ck_assert_ptr_null(out.filled_at_us);
    ck_assert_ptr_nonnull(pp_cursor_decode(unit_pool, key, KEY_LEN - 1, text, ACCOUNT_A, "", "",
                                           &out));
    ck_assert_ptr_nonnull(pp_cursor_decode(unit_pool, key, 0, text, ACCOUNT_A, "", "", &out));
    ck_assert_ptr_nonnull(pp_cursor_decode(unit_pool, NULL, 0, text, ACCOUNT_A, "", "", &out));
}
END_TEST

/* Field values encode refuses (and decode would refuse behind a valid MAC). */
static const struct {
    const char *account, *side, *market, *filled_at_us, *order_id;
} bad_fields[] = {
    { NULL, "", "", "1", "1" },
    { "", "", "", "1", "1" },
    { "01234567890123456789012345678901234567890123456789012345678901234", "", "", "1", "1" },
    { ACCOUNT_A, "buy", "", "1", "1" },
    { ACCOUNT_A, "Sell", "", "1", "1" },
    { ACCOUNT_A, "BUYS", "", "1", "1" },
    { ACCOUNT_A, " ", "", "1", "1" },
    { ACCOUNT_A, "", "", NULL, "1" },
    { ACCOUNT_A, "", "", "", "1" },
    { ACCOUNT_A, "", "", "01", "1" },
    { ACCOUNT_A, "", "", "00", "1" },
    { ACCOUNT_A, "", "", "-1", "1" },
    { ACCOUNT_A, "", "", "+1", "1" },
    { ACCOUNT_A, "", "", "1.5", "1" },
    { ACCOUNT_A, "", "", "1e6", "1" },
    { ACCOUNT_A, "", "", " 1", "1" },
    { ACCOUNT_A, "", "", "9223372036854775808", "1" },
    { ACCOUNT_A, "", "", "10000000000000000000", "1" },
    { ACCOUNT_A, "", "", "1", NULL },
    { ACCOUNT_A, "", "", "1", "" },
    { ACCOUNT_A, "", "", "1", "0" },
    { ACCOUNT_A, "", "", "1", "007" },
    { ACCOUNT_A, "", "", "1", "x" },
    { ACCOUNT_A, "", "", "1", "9223372036854775808" },
    { ACCOUNT_A, "", "", "1", "99999999999999999999999999" },
};

START_TEST(test_encode_rejects)
{
    ck_assert_msg(encode(bad_fields[_i].account, bad_fields[_i].side, bad_fields[_i].market,
                         bad_fields[_i].filled_at_us, bad_fields[_i].order_id)
                      == NULL,
                  "case %d encoded", _i);
}
END_TEST

START_TEST(test_encode_rejects_limits)
{
    pp_cursor_t c = { ACCOUNT_A, "", "", "1", "1" };
    char *market = apr_palloc(unit_pool, 1000);

    ck_assert_ptr_nonnull(pp_cursor_encode(unit_pool, key, KEY_LEN, &c));
    ck_assert_ptr_null(pp_cursor_encode(unit_pool, key, 0, &c));
    ck_assert_ptr_null(pp_cursor_encode(unit_pool, NULL, 0, &c));
    ck_assert_ptr_null(pp_cursor_encode(unit_pool, key, KEY_LEN, NULL));
    memset(market, 'm', 999);
    market[999] = '\0';
    c.market_id = market;
    ck_assert_ptr_null(pp_cursor_encode(unit_pool, key, KEY_LEN, &c));
    market[PP_CURSOR_MAX_MARKET + 1] = '\0';
    ck_assert_ptr_null(pp_cursor_encode(unit_pool, key, KEY_LEN, &c));
    market[PP_CURSOR_MAX_MARKET] = '\0';
    ck_assert_ptr_nonnull(pp_cursor_encode(unit_pool, key, KEY_LEN, &c));
}
END_TEST

/* Payloads carrying a valid signature that decode must still refuse. */
#define A36 "\x24" ACCOUNT_A
/* one case per line: clang-format would give each adjacent literal a line of its own */
/* clang-format off */
static const struct {
    const char *payload;
    apr_size_t len;
    const char *says;
} signed_payloads[] = {
#define P(s, says) { s, sizeof(s) - 1, says }
    P("", "version"),
    P("v", "version"),
    P("v1", "truncated"),
    P("v2" A36 "\0\0\x01" "1" "\x01" "1", "version"),
    P("V1" A36 "\0\0\x01" "1" "\x01" "1", "version"),
    P("v1" A36 "\0\0\x01" "1", "truncated"),
    P("v1" A36 "\0\0\x01" "1" "\x02" "1", "truncated"),
    P("v1" A36 "\0\0\x01" "1" "\x01" "1" "x", "trailing"),
    P("v1" A36 "\0\0\x01" "1" "\x01" "1" "\0", "trailing"),
    P("v1" A36 "\x03" "buy" "\0\x01" "1" "\x01" "1", "side"),
    P("v1" A36 "\0\x02" "m\0" "\x01" "1" "\x01" "1", "NUL"),
    P("v1" A36 "\0\0\x02" "01" "\x01" "1", "filled_at_us"),
    P("v1" A36 "\0\0\x00" "\x01" "1", "filled_at_us"),
    P("v1" A36 "\0\0\x02" "-1" "\x01" "1", "filled_at_us"),
    P("v1" A36 "\0\0\x13" "9223372036854775808" "\x01" "1", "filled_at_us"),
    P("v1" A36 "\0\0\x01" "1" "\x01" "0", "order_id"),
    P("v1" A36 "\0\0\x01" "1" "\x00", "order_id"),
    P("v1" A36 "\0\0\x01" "1" "\x02" "1a", "order_id"),
    P("v1" "\0" "\0\0\x01" "1" "\x01" "1", "account"),
#undef P
};
/* clang-format on */

START_TEST(test_signed_but_invalid_payloads)
{
    const char *text = sign_payload(signed_payloads[_i].payload, signed_payloads[_i].len);
    const char *err = decode(text, ACCOUNT_A, "", "");
    ck_assert_msg(err != NULL, "case %d accepted", _i);
    ck_assert_msg(strstr(err, signed_payloads[_i].says) != NULL, "case %d: '%s'", _i, err);
}
END_TEST

START_TEST(test_signer_matches)
{
    /* clang-format off */
    static const char payload[] = "v1" A36 "\x04" "SELL" "\x01" "m" "\x01" "0" "\x01" "9";
    /* clang-format on */
    const char *text = sign_payload(payload, sizeof(payload) - 1);
    pp_cursor_t out;

    ck_assert_str_eq(text, encode(ACCOUNT_A, "SELL", "m", "0", "9"));
    ck_assert_ptr_null(pp_cursor_decode(unit_pool, key, KEY_LEN, text, ACCOUNT_A, "SELL", "m",
                                        &out));
    ck_assert_str_eq(out.filled_at_us, "0");
    ck_assert_str_eq(out.order_id, "9");
}
END_TEST

/* The same 6-bit value with its lowest bit flipped. */
static char flip_low_bit(char c)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    return abc[(strchr(abc, c) - abc) ^ 1];
}

START_TEST(test_malformed_text)
{
    const char *good = sample();
    const char *dot = strchr(good, '.');
    const char *spare = encode(ACCOUNT_A, "", "m", "1", "1"); /* 46-byte payload */
    apr_size_t spare_len = (apr_size_t)(strchr(spare, '.') - spare);
    char *flipped, *big;
    const char *err;

    ck_assert_ptr_nonnull(decode(NULL, ACCOUNT_A, "SELL", "0xabc.def|1"));
    ck_assert_ptr_nonnull(decode("", ACCOUNT_A, "SELL", "0xabc.def|1"));
    ck_assert_ptr_nonnull(decode(".", ACCOUNT_A, "SELL", "0xabc.def|1"));
    ck_assert_ptr_nonnull(decode("..", ACCOUNT_A, "SELL", "0xabc.def|1"));
    ck_assert_ptr_nonnull(decode("djE", ACCOUNT_A, "SELL", "0xabc.def|1"));
    ck_assert_ptr_nonnull(decode(dot, ACCOUNT_A, "SELL", "0xabc.def|1"));
    ck_assert_ptr_nonnull(decode(apr_pstrndup(unit_pool, good, (apr_size_t)(dot - good) + 1),
                                 ACCOUNT_A, "SELL", "0xabc.def|1"));
    /* same bytes, other spare bits: the one-encoding rule, on both parts */
    ck_assert_ptr_null(decode(spare, ACCOUNT_A, "", "m"));
    ck_assert_uint_eq(spare_len % 4, 2);
    flipped = apr_pstrdup(unit_pool, spare);
    flipped[spare_len - 1] = flip_low_bit(flipped[spare_len - 1]);
    err = decode(flipped, ACCOUNT_A, "", "m");
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "base64url"));
    flipped = apr_pstrdup(unit_pool, spare);
    flipped[strlen(flipped) - 1] = flip_low_bit(flipped[strlen(flipped) - 1]);
    err = decode(flipped, ACCOUNT_A, "", "m");
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "base64url"));
    /* standard base64 characters instead of URL-safe ones */
    ck_assert_ptr_nonnull(decode("djE+.Ad2k2NH83-q2hZIZh_Rw0TFTOswrkWJ1pl2wMAiQ8fI", ACCOUNT_A, "",
                                 ""));
    ck_assert_ptr_nonnull(decode("djE/.Ad2k2NH83-q2hZIZh_Rw0TFTOswrkWJ1pl2wMAiQ8fI", ACCOUNT_A, "",
                                 ""));
    /* over-long input is refused before any work */
    big = apr_palloc(unit_pool, PP_CURSOR_MAX_TEXT + 100);
    memset(big, 'A', PP_CURSOR_MAX_TEXT + 99);
    big[PP_CURSOR_MAX_TEXT + 99] = '\0';
    err = decode(big, ACCOUNT_A, "", "");
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

Suite *unit_cursor_suite(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("cursor");
    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, test_golden_vector);
    tcase_add_loop_test(tc, test_round_trip, 0, sizeof(round_trips) / sizeof(round_trips[0]));
    tcase_add_test(tc, test_many_round_trips);
    tcase_add_test(tc, test_every_byte_changed);
    tcase_add_test(tc, test_every_truncation_and_deletion);
    tcase_add_test(tc, test_every_insertion);
    tcase_add_loop_test(tc, test_wrong_filters, 0,
                        sizeof(wrong_filters) / sizeof(wrong_filters[0]));
    tcase_add_test(tc, test_wrong_account_or_key);
    tcase_add_loop_test(tc, test_encode_rejects, 0, sizeof(bad_fields) / sizeof(bad_fields[0]));
    tcase_add_test(tc, test_encode_rejects_limits);
    tcase_add_loop_test(tc, test_signed_but_invalid_payloads, 0,
                        sizeof(signed_payloads) / sizeof(signed_payloads[0]));
    tcase_add_test(tc, test_signer_matches);
    tcase_add_test(tc, test_malformed_text);
    suite_add_tcase(s, tc);
    return s;
}
