/* The byte codecs every part shares: hex, percent-escapes, base64url, and
 * HMAC-SHA256. APR and OpenSSL (libcrypto) only; no caller keeps its own
 * copy. Where callers differ (e.g. '+' as space), the difference is a flag. */
#ifndef PP_CODEC_H
#define PP_CODEC_H

#include <apr_pools.h>

#define PP_HMAC_SHA256_LEN 32

/* ---- hex: decoding accepts both cases, encoding is lowercase ------------ */

/* 0..15 for a hex digit ('0'-'9', 'a'-'f', 'A'-'F'), else -1. */
int pp_hex_value(int c);

/* The two lowercase hex digits of byte c into out[0], out[1] (no NUL). */
void pp_hex_byte(unsigned char c, char out[2]);

/* Lowercase hex of len bytes, NUL-terminated, in p. */
const char *pp_hex_encode(apr_pool_t *p, const unsigned char *bytes, apr_size_t len);

/* Decodes exactly n hex digits into n / 2 bytes of out. 1 on success; 0
 * with *bad_at = the index of the first non-hex digit, or n when n is odd
 * (out then holds garbage). */
int pp_hex_decode(const char *s, apr_size_t n, unsigned char *out, apr_size_t *bad_at);

/* ---- percent-escapes (RFC 3986 %XY) --------------------------------------- */

/* The byte of the escape at s[i] (which is '%') within s[0..n), or -1 when
 * it is not followed by two hex digits (including when it is cut off by the
 * end of the input). */
int pp_pct_escape(const char *s, apr_size_t n, apr_size_t i);

/* '+' decodes to a space (query strings and form bodies, not paths). */
#define PP_PCT_PLUS_SPACE 0x1
/* A NUL byte, literal or as %00, fails the decode. */
#define PP_PCT_REFUSE_NUL 0x2

/* Percent-decodes s[0..n) into a new NUL-terminated string in p; NULL for a
 * malformed escape, or for a NUL byte under PP_PCT_REFUSE_NUL. */
char *pp_pct_decode(apr_pool_t *p, const char *s, apr_size_t n, unsigned flags);

/* ---- base64url (RFC 4648 section 5), always unpadded ------------------- */

/* 0..63 for a base64url alphabet character, else -1 ('=' included). */
int pp_b64url_value(int c);

/* Unpadded base64url of n bytes, NUL-terminated, in p. */
char *pp_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t n);

/* Strict unpadded base64url: only the 64 alphabet characters, no '=', a
 * length that is not 1 mod 4, and zero spare bits in a final partial group,
 * so each byte string has exactly one encoding. 1 with *out (in p) and
 * *out_len on success, 0 on any violation. */
int pp_b64url_decode(apr_pool_t *p, const char *s, apr_size_t n, unsigned char **out,
                     apr_size_t *out_len);

/* ---- HMAC ------------------------------------------------------------------ */

/* HMAC-SHA256(key, data) into out. 1 on success, 0 if OpenSSL failed. */
int pp_hmac_sha256(const unsigned char *key, apr_size_t key_len, const void *data, apr_size_t len,
                   unsigned char out[PP_HMAC_SHA256_LEN]);

#endif
