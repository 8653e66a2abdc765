#include "pp_email.h"

#include <apr_strings.h>
#include <string.h>

static int pp_email_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *pp_email_normalize(apr_pool_t *p, const char *raw)
{
    const char *start = raw, *end = raw + strlen(raw);
    char *out, *c;

    while (start < end && pp_email_space((unsigned char)*start)) start++;
    while (end > start && pp_email_space((unsigned char)end[-1])) end--;
    out = apr_pstrmemdup(p, start, (apr_size_t)(end - start));
    for (c = out; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    return out;
}

int pp_email_is_valid(const char *email)
{
    const char *at = strchr(email, '@'), *c, *domain, *label;
    apr_size_t len = strlen(email);

    if (len < 3 || len > 320 || !at || strchr(at + 1, '@')) {
        return 0;
    }
    for (c = email; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u == 0x7F) {
            return 0;
        }
    }
    if (at == email || at - email > 64) {
        return 0;
    }
    domain = at + 1;
    if (!strchr(domain, '.') || strlen(domain) > 255) {
        return 0;
    }
    /* every dot-separated label of the domain must be non-empty */
    label = domain;
    for (c = domain;; c++) {
        if (*c == '.' || *c == '\0') {
            if (c == label) {
                return 0;
            }
            if (*c == '\0') {
                break;
            }
            label = c + 1;
        }
    }
    return 1;
}
