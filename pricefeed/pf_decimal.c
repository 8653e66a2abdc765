#include "pf_decimal.h"
#include "pp_decimal.h"

#include <stdio.h>
#include <string.h>

/* ---- plain decimals: shared with the module (common/pp_decimal.c) -------- */

int pf_decimal_is_plain(const char *s, int max_int_digits, int max_scale)
{
    return pp_decimal_is_plain(s, max_int_digits, max_scale);
}

int pf_decimal_cmp(const char *a, const char *b)
{
    return pp_decimal_cmp(a, b);
}

/* ---- canonical form ----------------------------------------------------- */

static int pf_isdigit(char c)
{
    return c >= '0' && c <= '9';
}

int pf_decimal_canon(const char *s, size_t len, int max_int_digits, int max_scale, char *out,
                     size_t outsz)
{
    char digits[PF_DECIMAL_MAX_INPUT];
    size_t nd = 0, i = 0, int_len = 0, frac_len = 0, first, last, k, o = 0;
    long point, exp = 0;
    int exp_neg = 0;

    if (len == 0 || len > PF_DECIMAL_MAX_INPUT) {
        return 0;
    }
    while (i < len && pf_isdigit(s[i])) {
        digits[nd++] = s[i++];
        int_len++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && pf_isdigit(s[i])) {
            digits[nd++] = s[i++];
            frac_len++;
        }
        if (frac_len == 0) {
            return 0; /* "5." and a lone "." */
        }
    }
    if (nd == 0) {
        return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e_digits = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            exp_neg = (s[i] == '-');
            i++;
        }
        while (i < len && pf_isdigit(s[i])) {
            if (++e_digits > 3) {
                return 0;
            }
            exp = exp * 10 + (s[i++] - '0');
        }
        if (e_digits == 0) {
            return 0;
        }
        if (exp_neg) {
            exp = -exp;
        }
    }
    if (i != len) {
        return 0;
    }
    /* the decimal point falls after the first `point` digits */
    point = (long)int_len + exp;
    first = 0;
    while (first < nd && digits[first] == '0') first++;
    if (first == nd) {
        if (outsz < 2) return 0;
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }
    last = nd;
    while (last > first && digits[last - 1] == '0') last--;
    /* significant digits are digits[first..last); the point falls after
     * the first `point` of them (point <= 0: zeros come first) */
    point -= (long)first;
    {
        long sig = (long)(last - first);
        long int_digits = point > 0 ? point : 0;
        long scale = sig - point > 0 ? sig - point : 0;
        size_t need = (size_t)(int_digits > 0 ? int_digits : 1) + (scale ? (size_t)scale + 1 : 0)
                      + 1;
        if (int_digits > max_int_digits || scale > max_scale || need > outsz) {
            return 0;
        }
        if (int_digits == 0) {
            out[o++] = '0';
        }
        else {
            for (k = 0; k < (size_t)int_digits; k++) {
                size_t idx = first + k;
                out[o++] = idx < last ? digits[idx] : '0';
            }
        }
        if (scale) {
            out[o++] = '.';
            for (k = 0; k < (size_t)scale; k++) {
                long idx = point + (long)k; /* negative: zeros after the point */
                out[o++] = idx >= 0 ? digits[first + (size_t)idx] : '0';
            }
        }
        out[o] = '\0';
    }
    return 1;
}

int pf_decimal_is_zero(const char *canon)
{
    return canon[0] == '0' && canon[1] == '\0';
}

int pf_decimal_parse(pf_dec_kind_t kind, const char *s, size_t len, char *out, size_t outsz)
{
    switch (kind) {
    case PF_DEC_SIZE:
        return pf_decimal_canon(s, len, PF_SIZE_INT_DIGITS, PF_SIZE_SCALE, out, outsz);
    case PF_DEC_PRICE:
        return pf_decimal_canon(s, len, 1, PF_PRICE_SCALE, out, outsz)
               && pf_decimal_cmp(out, "1") <= 0;
    case PF_DEC_LEVEL_PRICE:
        return pf_decimal_canon(s, len, 1, PF_PRICE_SCALE, out, outsz) && !pf_decimal_is_zero(out)
               && pf_decimal_cmp(out, "1") < 0;
    case PF_DEC_TICK:
        return pf_decimal_canon(s, len, 1, PF_TICK_SCALE, out, outsz) && !pf_decimal_is_zero(out)
               && pf_decimal_cmp(out, "1") < 0;
    }
    return 0;
}

int pf_price_units(const char *canon, uint64_t *out)
{
    uint64_t v = 0;
    int scale = 0;
    const char *s = canon;

    if (!pf_decimal_is_plain(canon, 1, PF_PRICE_SCALE)) {
        return 0;
    }
    v = (uint64_t)(*s++ - '0');
    if (*s == '.') {
        s++;
        while (*s) {
            v = v * 10 + (uint64_t)(*s++ - '0');
            scale++;
        }
    }
    while (scale++ < PF_PRICE_SCALE) {
        v *= 10;
    }
    if (v > 10000000000ULL) {
        return 0; /* above 1 */
    }
    *out = v;
    return 1;
}

int pf_price_midpoint4(const char *a, const char *b, char *out, size_t outsz)
{
    uint64_t ua, ub, mid;

    if (outsz < 7 || !pf_price_units(a, &ua) || !pf_price_units(b, &ub)) {
        return 0;
    }
    /* (ua + ub) / 2 in units of 1e-10, rounded half up to units of 1e-4 */
    mid = (ua + ub + 1000000ULL) / 2000000ULL;
    snprintf(out, outsz, "%u.%04u", (unsigned)(mid / 10000), (unsigned)(mid % 10000));
    return 1;
}
