#include "pp_decimal.h"

#include <string.h>

int pp_decimal_is_plain(const char *s, int max_int_digits, int max_scale)
{
    int int_digits = 0, scale = 0;

    while (*s >= '0' && *s <= '9') {
        int_digits++;
        s++;
    }
    if (int_digits == 0 || int_digits > max_int_digits) {
        return 0;
    }
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') {
            scale++;
            s++;
        }
        if (scale == 0 || scale > max_scale) {
            return 0;
        }
    }
    return *s == '\0';
}

static void pp_decimal_split(const char *s, const char **ip, size_t *ilen, const char **fp,
                             size_t *flen)
{
    const char *dot = strchr(s, '.');

    while (*s == '0' && s[1] >= '0' && s[1] <= '9') s++; /* leading zeros */
    *ip = s;
    *ilen = dot ? (size_t)(dot - s) : strlen(s);
    *fp = dot ? dot + 1 : "";
    *flen = strlen(*fp);
}

int pp_decimal_cmp(const char *a, const char *b)
{
    const char *ai, *af, *bi, *bf;
    size_t ail, afl, bil, bfl, i, n;
    int c;

    pp_decimal_split(a, &ai, &ail, &af, &afl);
    pp_decimal_split(b, &bi, &bil, &bf, &bfl);
    if (ail != bil) {
        return ail < bil ? -1 : 1;
    }
    if ((c = memcmp(ai, bi, ail)) != 0) {
        return c < 0 ? -1 : 1;
    }
    n = afl > bfl ? afl : bfl;
    for (i = 0; i < n; i++) {
        char x = i < afl ? af[i] : '0', y = i < bfl ? bf[i] : '0';
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    return 0;
}
