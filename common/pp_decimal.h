/* Plain decimal strings for money and prices. C never turns them into
 * floating point: they are validated here and computed in PostgreSQL. */
#ifndef PP_DECIMAL_H
#define PP_DECIMAL_H

/* Non-zero for a plain non-negative decimal: digits without a sign, an
 * optional '.' followed by 1..max_scale digits, at most max_int_digits
 * before the point. Rejects exponents, signs, spaces, separators, "NaN",
 * "Infinity", hex and lone dots. */
int pp_decimal_is_plain(const char *s, int max_int_digits, int max_scale);

/* Compares two strings accepted by pp_decimal_is_plain as numbers:
 * negative, zero or positive like strcmp ("10" equals "10.00"). */
int pp_decimal_cmp(const char *a, const char *b);

#endif
