/* Decimal strings for prices and sizes. The price feed never turns them
 * into floating point: every value is validated and kept as canonical text,
 * compared exactly, and the one computation it needs (the midpoint) is done
 * in integer units of 1e-10. PostgreSQL parses the text as numeric. */
#ifndef PF_DECIMAL_H
#define PF_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

/* Most fractional digits a price or hint may have. */
#define PF_PRICE_SCALE 10
/* Most fractional digits a tick size may have: Polymarket's are 0.1 down to
 * 0.0001 (also 0.005, 0.0025), and market_tokens.tick_size is numeric(6, 4)
 * with tick_size > 0, so a finer one would fail the whole write. */
#define PF_TICK_SCALE 4
/* Buffer for a canonical price: "0." + 10 digits + NUL. */
#define PF_PRICE_BUF 16
/* Sizes: at most this many integer and fractional digits. */
#define PF_SIZE_INT_DIGITS 15
#define PF_SIZE_SCALE      12
/* Buffer for a canonical size: 15 + "." + 12 + NUL. */
#define PF_SIZE_BUF 32
/* Longest decimal text accepted as input (before canonicalisation). */
#define PF_DECIMAL_MAX_INPUT 64

/* Non-zero for a plain non-negative decimal: digits without a sign, an
 * optional '.' followed by 1..max_scale digits, at most max_int_digits
 * before the point (the module's pp_decimal_is_plain). */
int pf_decimal_is_plain(const char *s, int max_int_digits, int max_scale);

/* Compares two strings accepted by pf_decimal_is_plain as numbers:
 * negative, zero or positive like strcmp ("10" equals "10.00"). */
int pf_decimal_cmp(const char *a, const char *b);

/* Canonical text of a non-negative decimal written liberally: "0.50" ->
 * "0.5", ".48" -> "0.48", "007" -> "7", "1e-3" -> "0.001", "0.000" -> "0".
 * Rejects signs (also "-0"), spaces, "5.", NaN, Infinity, hex, "" and input
 * longer than PF_DECIMAL_MAX_INPUT. Returns 1 and writes out (NUL ended)
 * when the value has at most max_int_digits integer digits and max_scale
 * fractional digits once trailing zeros are dropped and the result fits in
 * outsz; 0 otherwise. */
int pf_decimal_canon(const char *s, size_t len, int max_int_digits, int max_scale, char *out,
                     size_t outsz);

/* Non-zero when canonical text is zero. */
int pf_decimal_is_zero(const char *canon);

typedef enum {
    PF_DEC_PRICE,       /* 0 <= x <= 1: quotes, hints, last trade, outcome prices */
    PF_DEC_LEVEL_PRICE, /* 0 <  x <  1: a price level of a book */
    PF_DEC_TICK,        /* 0 <  x <  1, at most PF_TICK_SCALE decimals: a tick size */
    PF_DEC_SIZE         /* x >= 0, PF_SIZE_INT_DIGITS.PF_SIZE_SCALE */
} pf_dec_kind_t;

/* pf_decimal_canon plus the range of the kind. out needs PF_PRICE_BUF bytes
 * for prices and ticks, PF_SIZE_BUF for sizes. Returns 1 when valid. */
int pf_decimal_parse(pf_dec_kind_t kind, const char *s, size_t len, char *out, size_t outsz);

/* A canonical price (<= 1, at most PF_PRICE_SCALE decimals) in integer units
 * of 1e-10. Returns 1, or 0 when the text is not such a price. */
int pf_price_units(const char *canon, uint64_t *out);

/* (a + b) / 2 rounded half up to 4 decimals, written with exactly four
 * ("0.5350"), computed exactly. a and b are canonical prices. Returns 1, or
 * 0 when either is not a price or outsz < 7. */
int pf_price_midpoint4(const char *a, const char *b, char *out, size_t outsz);

#endif
