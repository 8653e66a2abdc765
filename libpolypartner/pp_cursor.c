#include "pp_cursor.h"
#include "pp_codec.h"
#include "pp_token.h"

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <string.h>

/* Prepended to the payload under the MAC, so a key shared with some other
 * signed thing can never make one of its signatures pass as a cursor. */
static const char pp_cursor_context[] = "polypartner/trades-cursor";
#define PP_CURSOR_CONTEXT_LEN (sizeof(pp_cursor_context) - 1)

static const char pp_cursor_version[] = "v1";
#define PP_CURSOR_VERSION_LEN (sizeof(pp_cursor_version) - 1)

#define PP_CURSOR_FIELDS 5
/* base64url of a 32-byte MAC, unpadded */
#define PP_CURSOR_SIG_TEXT 43

/* HMAC-SHA256(key, context || payload). 0 if OpenSSL failed. */
static int pp_cursor_mac(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                         const unsigned char *payload, apr_size_t len,
                         unsigned char mac[PP_SHA256_LEN])
{
    unsigned char *data = apr_palloc(p, PP_CURSOR_CONTEXT_LEN + len + 1);

    memcpy(data, pp_cursor_context, PP_CURSOR_CONTEXT_LEN);
    if (len) {
        memcpy(data + PP_CURSOR_CONTEXT_LEN, payload, len);
    }
    return pp_hmac_sha256(key, key_len, data, PP_CURSOR_CONTEXT_LEN + len, mac);
}

/* Canonical decimal of a value in [min_value, 2^63-1], min_value 0 or 1:
 * digits only, no sign, no leading zero ("0" itself only when allowed). */
static int pp_cursor_is_decimal(const char *s, apr_size_t n, int min_value)
{
    apr_size_t i;

    if (n == 0 || n > 19) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    if (s[0] == '0') {
        return n == 1 && min_value == 0;
    }
    return n < 19 || memcmp(s, "9223372036854775807", 19) <= 0;
}

/* strlen, but never looking past max bytes (returns max + 1 then). */
static apr_size_t pp_cursor_strlen(const char *s, apr_size_t max)
{
    apr_size_t n = 0;
    while (n <= max && s[n]) {
        n++;
    }
    return n;
}

static int pp_cursor_is_side(const char *s, apr_size_t n)
{
    return n == 0 || (n == 3 && memcmp(s, "BUY", 3) == 0) || (n == 4 && memcmp(s, "SELL", 4) == 0);
}

/* The value checks shared by encode and decode (fields as byte strings). */
static const char *pp_cursor_check_fields(const char *const f[PP_CURSOR_FIELDS],
                                          const apr_size_t n[PP_CURSOR_FIELDS])
{
    int i;

    for (i = 0; i < PP_CURSOR_FIELDS; i++) {
        if (memchr(f[i], '\0', n[i]) != NULL) {
            return "NUL byte in a field";
        }
    }
    if (n[0] == 0 || n[0] > PP_CURSOR_MAX_ACCOUNT) {
        return "account_id is empty or too long";
    }
    if (!pp_cursor_is_side(f[1], n[1])) {
        return "side is not BUY, SELL or empty";
    }
    if (n[2] > PP_CURSOR_MAX_MARKET) {
        return "market_id too long";
    }
    if (!pp_cursor_is_decimal(f[3], n[3], 0)) {
        return "filled_at_us is not a canonical decimal";
    }
    if (!pp_cursor_is_decimal(f[4], n[4], 1)) {
        return "order_id is not a canonical positive decimal";
    }
    return NULL;
}

const char *pp_cursor_encode(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                             const pp_cursor_t *c)
{
    const char *f[PP_CURSOR_FIELDS];
    apr_size_t n[PP_CURSOR_FIELDS], len = PP_CURSOR_VERSION_LEN, k;
    unsigned char *payload, mac[PP_SHA256_LEN];
    int i;

    if (key == NULL || key_len == 0 || c == NULL || c->account_id == NULL || c->filled_at_us == NULL
        || c->order_id == NULL) {
        return NULL;
    }
    f[0] = c->account_id;
    f[1] = c->side ? c->side : "";
    f[2] = c->market_id ? c->market_id : "";
    f[3] = c->filled_at_us;
    f[4] = c->order_id;
    for (i = 0; i < PP_CURSOR_FIELDS; i++) {
        /* every limit is below 256, so never scan further */
        n[i] = pp_cursor_strlen(f[i], 255);
        len += 1 + n[i];
    }
    if (pp_cursor_check_fields(f, n) != NULL) {
        return NULL;
    }
    payload = apr_palloc(p, len);
    memcpy(payload, pp_cursor_version, PP_CURSOR_VERSION_LEN);
    k = PP_CURSOR_VERSION_LEN;
    for (i = 0; i < PP_CURSOR_FIELDS; i++) {
        payload[k++] = (unsigned char)n[i];
        memcpy(payload + k, f[i], n[i]);
        k += n[i];
    }
    if (!pp_cursor_mac(p, key, key_len, payload, len, mac)) {
        return NULL;
    }
    return apr_pstrcat(p, pp_b64url_encode(p, payload, len), ".",
                       pp_b64url_encode(p, mac, sizeof(mac)), NULL);
}

const char *pp_cursor_decode(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                             const char *text, const char *account_id, const char *side,
                             const char *market_id, pp_cursor_t *out)
{
    const char *dot, *f[PP_CURSOR_FIELDS], *reason;
    apr_size_t n[PP_CURSOR_FIELDS], text_len, payload_len, sig_len, k;
    unsigned char *payload, *sig, mac[PP_SHA256_LEN];
    int i;

    memset(out, 0, sizeof(*out));
    if (key == NULL || key_len == 0) {
        return "no cursor key";
    }
    if (account_id == NULL) {
        return "no account to check the cursor against";
    }
    side = side ? side : "";
    market_id = market_id ? market_id : "";
    if (text == NULL || *text == '\0') {
        return "empty cursor";
    }
    if ((text_len = pp_cursor_strlen(text, PP_CURSOR_MAX_TEXT)) > PP_CURSOR_MAX_TEXT) {
        return "cursor too long";
    }
    if ((dot = memchr(text, '.', text_len)) == NULL) {
        return "no signature separator";
    }
    if (text_len - (apr_size_t)(dot - text) - 1 != PP_CURSOR_SIG_TEXT) {
        return "signature has the wrong length";
    }
    if (!pp_b64url_decode(p, dot + 1, PP_CURSOR_SIG_TEXT, &sig, &sig_len)
        || sig_len != PP_SHA256_LEN) {
        return "signature is not base64url";
    }
    if (!pp_b64url_decode(p, text, (apr_size_t)(dot - text), &payload, &payload_len)) {
        return "payload is not base64url";
    }
    if (!pp_cursor_mac(p, key, key_len, payload, payload_len, mac)) {
        return "HMAC failed";
    }
    if (CRYPTO_memcmp(mac, sig, PP_SHA256_LEN) != 0) {
        return "bad signature";
    }

    /* Signed by us: from here on the payload is ours, but still parsed as
     * if it were not. */
    if (payload_len < PP_CURSOR_VERSION_LEN
        || memcmp(payload, pp_cursor_version, PP_CURSOR_VERSION_LEN) != 0) {
        return "unknown cursor version";
    }
    k = PP_CURSOR_VERSION_LEN;
    for (i = 0; i < PP_CURSOR_FIELDS; i++) {
        if (k >= payload_len || payload_len - k - 1 < payload[k]) {
            return "truncated payload";
        }
        n[i] = payload[k++];
        f[i] = (const char *)payload + k;
        k += n[i];
    }
    if (k != payload_len) {
        return "trailing bytes in payload";
    }
    if ((reason = pp_cursor_check_fields(f, n)) != NULL) {
        return reason;
    }
    if (strlen(account_id) != n[0] || memcmp(account_id, f[0], n[0]) != 0) {
        return "cursor was issued for another account";
    }
    if (strlen(side) != n[1] || memcmp(side, f[1], n[1]) != 0) {
        return "cursor was issued for another side filter";
    }
    if (strlen(market_id) != n[2] || memcmp(market_id, f[2], n[2]) != 0) {
        return "cursor was issued for another market_id filter";
    }
    out->account_id = account_id;
    out->side = side;
    out->market_id = market_id;
    out->filled_at_us = apr_pstrmemdup(p, f[3], n[3]);
    out->order_id = apr_pstrmemdup(p, f[4], n[4]);
    return NULL;
}
