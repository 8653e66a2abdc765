/* The trades cursor. The first byte picks what the input is:
 *   '!' then a raw payload: signed here with the fixed key and decoded, so
 *       the checks behind the signature get fuzzed too;
 *   '#' then NUL-separated fields (account, side, market_id, filled_at_us,
 *       order_id): whatever encodes must decode back to the same fields;
 *   anything else: cursor text, decoded with the fixed key.
 * Whatever decodes must re-encode to the identical text. */
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pp_cursor.h"

static const unsigned char key[] = "fuzz-cursor-key-not-a-secret-000";
#define KEY_LEN (sizeof(key) - 1)
#define ACCOUNT "0b1d8e2a-3c4f-5a6b-7c8d-9e0f1a2b3c4d"

static int is_digits(const char *s)
{
    if (s == NULL || *s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}

/* Decodes text against one filter set; on success checks the result and
 * that it re-encodes to text itself. */
static void decode_and_check(apr_pool_t *p, const char *text, const char *account, const char *side,
                             const char *market)
{
    pp_cursor_t out;
    const char *again;

    if (pp_cursor_decode(p, key, KEY_LEN, text, account, side, market, &out) != NULL) {
        return;
    }
    if (!is_digits(out.filled_at_us) || !is_digits(out.order_id)
        || strcmp(out.account_id, account) != 0 || strcmp(out.side, side) != 0
        || strcmp(out.market_id, market) != 0) {
        abort();
    }
    again = pp_cursor_encode(p, key, KEY_LEN, &out);
    if (again == NULL || strcmp(again, text) != 0) {
        abort(); /* two texts for one cursor, or one we cannot reissue */
    }
}

static char *b64url(apr_pool_t *p, const unsigned char *in, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, n * 2 + 4);
    size_t i, k = 0;
    unsigned bits = 0, nbits = 0;

    for (i = 0; i < n; i++) {
        bits = ((bits << 8) | in[i]) & 0xffffu;
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

/* The text our key would give this payload (see pp_cursor.h). */
static const char *sign(apr_pool_t *p, const uint8_t *payload, size_t n)
{
    static const char context[] = "polypartner/trades-cursor";
    unsigned char *data = apr_palloc(p, sizeof(context) + n), mac[32];
    size_t mac_len;

    memcpy(data, context, sizeof(context) - 1);
    if (n) {
        memcpy(data + sizeof(context) - 1, payload, n);
    }
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, KEY_LEN, data, sizeof(context) - 1 + n,
                  mac, sizeof(mac), &mac_len)
        == NULL) {
        return NULL;
    }
    return apr_pstrcat(p, b64url(p, payload, n), ".", b64url(p, mac, mac_len), NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;

    if ((p = pp_fuzz_pool()) == NULL) {
        return 0;
    }
    if (size > 0 && data[0] == '!') {
        const char *text = sign(p, data + 1, size - 1);
        if (text) {
            decode_and_check(p, text, ACCOUNT, "", "");
            decode_and_check(p, text, ACCOUNT, "SELL", "0xabc123");
        }
    }
    else if (size > 0 && data[0] == '#') {
        /* five NUL-terminated fields; missing ones are NULL */
        char *buf = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
        const char *end = buf + (size - 1), *f[5] = { NULL };
        const char *text;
        char *s = buf;
        int i;

        for (i = 0; i < 5 && s <= end; i++) {
            f[i] = s;
            s += strlen(s) + 1;
        }
        {
            pp_cursor_t c = { f[0], f[1], f[2], f[3], f[4] };
            pp_cursor_t out;
            text = pp_cursor_encode(p, key, KEY_LEN, &c);
            if (text != NULL) {
                if (strlen(text) > PP_CURSOR_MAX_TEXT
                    || pp_cursor_decode(p, key, KEY_LEN, text, c.account_id, c.side, c.market_id,
                                        &out)
                           != NULL
                    || strcmp(out.filled_at_us, c.filled_at_us) != 0
                    || strcmp(out.order_id, c.order_id) != 0) {
                    abort(); /* issued a cursor we then refuse */
                }
                decode_and_check(p, text, c.account_id, c.side ? c.side : "",
                                 c.market_id ? c.market_id : "");
            }
        }
    }
    else {
        const char *text = apr_pstrmemdup(p, (const char *)data, size);
        decode_and_check(p, text, ACCOUNT, "", "");
        decode_and_check(p, text, ACCOUNT, "SELL", "0xabc123");
    }
    apr_pool_destroy(p);
    return 0;
}
