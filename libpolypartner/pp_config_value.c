#include "pp_config_value.h"

int pp_config_number(const char *text, long min, long max, long *out)
{
    long n = 0;
    const char *c;

    if (*text == '\0') {
        return 0;
    }
    for (c = text; *c; c++) {
        int d = *c - '0';
        if (d < 0 || d > 9) {
            return 0;
        }
        if (n > max / 10 || n * 10 > max - d) {
            return 0; /* above max, found before n * 10 + d could overflow */
        }
        n = n * 10 + d;
    }
    if (n < min) {
        return 0;
    }
    *out = n;
    return 1;
}
