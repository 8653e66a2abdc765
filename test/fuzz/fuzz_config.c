/* Values of the httpd directives: the core parsers behind them, fed a
 * config-like text, one directive per line, words separated by blanks
 * (httpd's own tokenizer is not ours to fuzz):
 *   <PolyPartnerTenant NAME>        starts a tenant (pp_tenants_add)
 *   </PolyPartnerTenant>            ends it
 *   PolyPartnerTenantKey SPEC PERM...          pp_tenant_add_key
 *   PolyPartnerTenantBalanceBounds MIN MAX     pp_tenant_set_bounds
 *   PolyPartnerTenantFeeRate RATE              pp_tenant_set_fee_rate
 *   PolyPartnerTenantRedirectAllow URL...      pp_tenant_add_redirect
 *   PolyPartnerTenantDefaultRedirect URL       pp_tenant_set_default_redirect
 *   Number MIN MAX TEXT     pp_config_number, the parser of the directives
 *                           taking seconds, bytes or counts
 * Tenant directives outside a section are skipped, as are unknown lines.
 * Each result is compared with a plain reference reading of the rules in
 * the headers; accepted values must also be usable (an allowlist entry
 * allows its own URL, a key's permissions print back to the same bits). */
#include <apr_pools.h>
#include <apr_strings.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pp_apikey.h"
#include "pp_config_value.h"
#include "pp_decimal.h"
#include "pp_redirect.h"
#include "pp_tenant.h"

#define MAX_WORDS 16

static void check(int ok)
{
    if (!ok) {
        abort();
    }
}

/* A refusal always explains itself. */
static void check_refusal(const char *err)
{
    check(err != NULL && *err != '\0');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* ---- references ------------------------------------------------------- */

static int ref_tenant_name(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* digits{1,int_max} ( '.' digits{1,scale_max} )? */
static int ref_plain(const char *s, size_t int_max, size_t scale_max)
{
    size_t i = strspn(s, "0123456789"), f;
    if (i == 0 || i > int_max) {
        return 0;
    }
    if (s[i] == '\0') {
        return 1;
    }
    f = strspn(s + i + 1, "0123456789");
    return s[i] == '.' && f >= 1 && f <= scale_max && s[i + 1 + f] == '\0';
}

/* Compares two plain decimals: without leading zeros the longer integer
 * part is larger, then digit by digit, missing fraction digits being 0. */
static int ref_cmp(const char *a, const char *b)
{
    size_t al, bl, i;
    const char *ad, *bd;
    while (a[0] == '0' && is_digit(a[1])) a++;
    while (b[0] == '0' && is_digit(b[1])) b++;
    al = strspn(a, "0123456789");
    bl = strspn(b, "0123456789");
    if (al != bl) {
        return al < bl ? -1 : 1;
    }
    for (i = 0; i < al; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    ad = a[al] == '.' ? a + al + 1 : "";
    bd = b[bl] == '.' ? b + bl + 1 : "";
    while (*ad || *bd) {
        char x = *ad ? *ad++ : '0', y = *bd ? *bd++ : '0';
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    return 0;
}

/* Whether s is a digit string; its value in *out, or -1 above LONG_MAX. */
static int ref_number(const char *s, long long *out)
{
    unsigned long long n = 0;
    size_t len = strlen(s);
    if (len == 0 || strspn(s, "0123456789") != len) {
        return 0;
    }
    while (*s == '0' && s[1]) s++;
    if (strlen(s) > 19) {
        *out = -1;
        return 1;
    }
    for (; *s; s++) {
        n = n * 10 + (unsigned long long)(*s - '0'); /* 19 digits fit */
    }
    *out = n > (unsigned long long)LONG_MAX ? -1 : (long long)n;
    return 1;
}

/* ---- one directive each ----------------------------------------------- */

static void do_key(apr_pool_t *p, pp_tenants_t *reg, pp_tenant_t *t, int argc, char **argv)
{
    unsigned char digest[PP_SHA256_LEN];
    unsigned perms = 0;
    int i, known = 1, dup = 0, count = t->key_count, nkeys = reg->keys->nelts;
    int spec_ok = strncmp(argv[0], "sha256:", 7) == 0 && strlen(argv[0]) == 71;
    const char *err, *names, *word;
    char *words, *state;
    unsigned again = 0;
    const pp_tenant_key_t *k;

    for (i = 0; spec_ok && i < PP_SHA256_LEN; i++) {
        int hi = hex_value(argv[0][7 + 2 * i]), lo = hex_value(argv[0][8 + 2 * i]);
        spec_ok = hi >= 0 && lo >= 0;
        digest[i] = (unsigned char)(hi * 16 + lo);
    }
    for (i = 1; i < argc; i++) {
        unsigned bit = pp_apikey_perm_bit(argv[i]);
        known = known && bit != 0;
        perms |= bit;
    }
    for (i = 0; spec_ok && i < reg->keys->nelts; i++) {
        dup = dup
              || memcmp(APR_ARRAY_IDX(reg->keys, i, pp_tenant_key_t *)->digest, digest,
                        PP_SHA256_LEN)
                     == 0;
    }
    err = pp_tenant_add_key(reg, t, argv[0], argc - 1, (const char *const *)argv + 1);
    if (!spec_ok || argc < 2 || !known || dup) {
        check_refusal(err);
        check(t->key_count == count && reg->keys->nelts == nkeys);
        return;
    }
    check(err == NULL && t->key_count == count + 1 && reg->keys->nelts == nkeys + 1);
    k = APR_ARRAY_IDX(reg->keys, nkeys, pp_tenant_key_t *);
    check(k->tenant == t && k->perms == perms && memcmp(k->digest, digest, PP_SHA256_LEN) == 0);
    for (i = 0; i < 12; i++) {
        check(k->fingerprint[i] == "0123456789abcdef"[(digest[i / 2] >> (i % 2 ? 0 : 4)) & 15]);
    }
    check(k->fingerprint[12] == '\0');
    /* the names logged for these permissions read back to the same bits */
    names = pp_apikey_perm_names(p, k->perms);
    words = apr_pstrdup(p, names);
    for (word = apr_strtok(words, " ", &state); word; word = apr_strtok(NULL, " ", &state)) {
        check(pp_apikey_perm_bit(word) != 0);
        again |= pp_apikey_perm_bit(word);
    }
    check(again == k->perms);
}

static void do_bounds(apr_pool_t *p, pp_tenant_t *t, const char *min, const char *max)
{
    const char *old_min = t->min_balance, *old_max = t->max_balance;
    const char *err = pp_tenant_set_bounds(p, t, min, max);
    int plain = ref_plain(min, PP_BALANCE_INT_DIGITS, PP_BALANCE_SCALE)
                && ref_plain(max, PP_BALANCE_INT_DIGITS, PP_BALANCE_SCALE);

    check(pp_decimal_is_plain(min, PP_BALANCE_INT_DIGITS, PP_BALANCE_SCALE)
          == ref_plain(min, PP_BALANCE_INT_DIGITS, PP_BALANCE_SCALE));
    if (plain) {
        int c = ref_cmp(min, max);
        check(pp_decimal_cmp(min, max) == c && pp_decimal_cmp(max, min) == -c);
        check(pp_decimal_cmp(min, min) == 0);
    }
    if (plain && ref_cmp(min, max) <= 0) {
        check(err == NULL && strcmp(t->min_balance, min) == 0 && strcmp(t->max_balance, max) == 0);
    }
    else {
        check_refusal(err);
        check(t->min_balance == old_min && t->max_balance == old_max);
    }
}

static void do_fee_rate(apr_pool_t *p, pp_tenant_t *t, const char *rate)
{
    const char *old = t->fee_rate, *err = pp_tenant_set_fee_rate(p, t, rate);

    /* [0, 1) with up to 6 decimals: the integer part is a single 0 */
    if (ref_plain(rate, 1, 6) && rate[0] == '0') {
        check(err == NULL && strcmp(t->fee_rate, rate) == 0);
    }
    else {
        check_refusal(err);
        check(t->fee_rate == old);
    }
}

static void do_redirect(apr_pool_t *p, pp_tenant_t *t, const char *url)
{
    int n = t->redirect_allow->nelts;
    const char *err = pp_tenant_add_redirect(p, t, url);
    pp_url_t u;

    if (err) {
        check_refusal(err);
        check(t->redirect_allow->nelts == n);
        return;
    }
    check(t->redirect_allow->nelts == n + 1);
    check(pp_url_parse(p, url, &u) == NULL && !u.query && !u.fragment);
    /* an entry allows its own URL */
    check(pp_redirect_check(p, t->redirect_allow, url) == NULL);
}

static void do_default_redirect(apr_pool_t *p, pp_tenant_t *t, const char *url)
{
    const char *old = t->default_redirect, *err = pp_tenant_set_default_redirect(p, t, url);
    pp_url_t u;

    if (pp_url_parse(p, url, &u) == NULL) {
        check(err == NULL && strcmp(t->default_redirect, url) == 0);
    }
    else {
        check_refusal(err);
        check(t->default_redirect == old);
    }
}

static void do_number(const char *min_text, const char *max_text, const char *text)
{
    long min = strtol(min_text, NULL, 10), max = strtol(max_text, NULL, 10), out = -7;
    long long want;
    int ok;

    if (min < 0 || max < min) {
        return; /* outside the function's contract */
    }
    ok = pp_config_number(text, min, max, &out);
    if (ref_number(text, &want) && want != -1 && want >= min && want <= max) {
        check(ok && out == want);
    }
    else {
        check(!ok && out == -7);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    pp_tenants_t *reg;
    pp_tenant_t *t = NULL;
    char *text, *line, *next;

    if ((p = pp_fuzz_pool()) == NULL) {
        return 0;
    }
    reg = pp_tenants_make(p);
    /* NUL ends the text, as it ends a directive's argument in httpd */
    text = apr_pstrmemdup(p, (const char *)data, size);
    for (line = text; line; line = next) {
        char *argv[MAX_WORDS], *state, *w;
        int argc = 0;

        if ((next = strchr(line, '\n')) != NULL) {
            *next++ = '\0';
        }
        for (w = apr_strtok(line, " \t\r", &state); w && argc < MAX_WORDS;
             w = apr_strtok(NULL, " \t\r", &state)) {
            argv[argc++] = w;
        }
        if (argc == 0) {
            continue;
        }
        if (strcmp(argv[0], "<PolyPartnerTenant") == 0 && argc == 2) {
            char *name = argv[1];
            size_t n = strlen(name);
            const char *err;
            int exists;
            pp_tenant_t *found;

            if (n > 0 && name[n - 1] == '>') {
                name[n - 1] = '\0';
            }
            exists = pp_tenants_find(reg, name) != NULL;
            err = pp_tenants_add(reg, name, &t);
            if (ref_tenant_name(name) && !exists) {
                check(err == NULL && t != NULL && (found = pp_tenants_find(reg, name)) == t);
                check(t->enabled && t->key_count == 0 && strcmp(t->fee_rate, "0") == 0);
            }
            else {
                check_refusal(err);
                check(t == NULL);
            }
        }
        else if (strcmp(argv[0], "</PolyPartnerTenant>") == 0) {
            t = NULL;
        }
        else if (strcmp(argv[0], "Number") == 0 && argc == 4) {
            do_number(argv[1], argv[2], argv[3]);
        }
        else if (t == NULL) {
            continue;
        }
        else if (strcmp(argv[0], "PolyPartnerTenantKey") == 0 && argc >= 2) {
            do_key(p, reg, t, argc - 1, argv + 1);
        }
        else if (strcmp(argv[0], "PolyPartnerTenantBalanceBounds") == 0 && argc == 3) {
            do_bounds(p, t, argv[1], argv[2]);
        }
        else if (strcmp(argv[0], "PolyPartnerTenantFeeRate") == 0 && argc == 2) {
            do_fee_rate(p, t, argv[1]);
        }
        else if (strcmp(argv[0], "PolyPartnerTenantRedirectAllow") == 0) {
            int i;
            for (i = 1; i < argc; i++) {
                do_redirect(p, t, argv[i]);
            }
        }
        else if (strcmp(argv[0], "PolyPartnerTenantDefaultRedirect") == 0 && argc == 2) {
            do_default_redirect(p, t, argv[1]);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
