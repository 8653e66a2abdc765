/* The keyset cursor of the trades feed: (filled_at, order_id) of the last row
 * of a page, bound to the account and the filters it was issued for and
 * signed with HMAC-SHA256, so any cursor we did not issue is rejected.
 *
 * Text form (URL-safe, no padding, nothing needs percent-encoding):
 *
 *     base64url(payload) "." base64url(HMAC-SHA256(key, context || payload))
 *
 * where context is the fixed string "polypartner/trades-cursor" and payload
 * is "v1" followed by five fields, each one length byte and then that many
 * bytes: account_id, side, market_id, filled_at_us, order_id. The version is
 * inside the signed part, so a later format can be told apart; the length
 * prefixes mean no field can smuggle in a separator. Base64url is decoded
 * strictly (no padding, zero spare bits), so every payload has exactly one
 * text form and a decoded cursor re-encodes to the identical text. */
#ifndef PP_CURSOR_H
#define PP_CURSOR_H

#include <apr_pools.h>

/* Longest cursor text decode looks at; encode never produces more (about
 * 540 characters at the field limits below). */
#define PP_CURSOR_MAX_TEXT 1024

/* Field limits, enforced by encode and again after decode. */
#define PP_CURSOR_MAX_ACCOUNT 64
#define PP_CURSOR_MAX_MARKET  255

typedef struct {
    const char *account_id;   /* lowercase canonical UUID (1-64 bytes, compared exactly) */
    const char *side;         /* "BUY", "SELL" or "" (no filter) */
    const char *market_id;    /* "" when not filtered; at most 255 bytes */
    const char *filled_at_us; /* microseconds since the Unix epoch: canonical decimal
                               * ("0" or no leading zero), at most 2^63-1 */
    const char *order_id;     /* positive canonical decimal, at most 2^63-1 */
} pp_cursor_t;

/* The cursor text for c, allocated in p. NULL when the key is empty, a field
 * is missing or breaks the limits above, or the MAC could not be computed.
 * A NULL side or market_id means "". */
const char *pp_cursor_encode(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                             const pp_cursor_t *c);

/* NULL on success (out->filled_at_us and out->order_id set, validated as
 * digit strings; out's other fields are set to the, equal, expected values);
 * otherwise a short reason for the log (never shown to clients; the caller
 * answers 400 INVALID_CURSOR). Verifies the HMAC-SHA256 in constant time
 * (CRYPTO_memcmp) BEFORE parsing the payload, then requires account_id, side
 * and market_id to equal the expected ones (NULL side or market_id means "").
 * Everything decoded is in p. */
const char *pp_cursor_decode(apr_pool_t *p, const unsigned char *key, apr_size_t key_len,
                             const char *text, const char *account_id, const char *side,
                             const char *market_id, pp_cursor_t *out);

#endif
