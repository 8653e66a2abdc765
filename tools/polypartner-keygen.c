/* polypartner-keygen: prints a new tenant API key and the config line that
 * holds its hash. The key itself is never stored by the server.
 *
 *   polypartner-keygen [PERMISSION...]   new key (default: all permissions)
 *   polypartner-keygen --hash            hash of a key read from stdin */
#include <apr_general.h>
#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

#include "pp_apikey.h"

static int usage(void)
{
    fprintf(stderr, "usage: polypartner-keygen [PERMISSION...]\n"
                    "       polypartner-keygen --hash < keyfile\n"
                    "permissions: users:write accounts:read accounts:write (default: all three)\n"
                    "Line 1 of the output is the secret key: give it to the tenant once.\n"
                    "Line 2 goes inside that tenant's <PolyPartnerTenant> section.\n");
    return 2;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    const char *perms = "users:write accounts:read accounts:write";
    const char *key;
    int i;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);

    if (argc == 2 && strcmp(argv[1], "--hash") == 0) {
        char line[4096];
        apr_size_t len;
        if (!fgets(line, sizeof(line), stdin)) {
            return usage();
        }
        len = strcspn(line, "\r\n");
        printf("sha256:%s\n", pp_apikey_hash_spec(p, line, len) + 7);
        return 0;
    }
    if (argc > 1) {
        perms = "";
        for (i = 1; i < argc; i++) {
            if (!pp_apikey_perm_bit(argv[i])) {
                fprintf(stderr, "polypartner-keygen: unknown permission '%s'\n", argv[i]);
                return usage();
            }
            perms = *perms ? apr_pstrcat(p, perms, " ", argv[i], NULL) : argv[i];
        }
    }
    key = pp_apikey_generate(p);
    if (!key) {
        fprintf(stderr, "polypartner-keygen: the random number generator failed\n");
        return 1;
    }
    printf("%s\n", key);
    printf("PolyPartnerTenantKey %s %s\n", pp_apikey_hash_spec(p, key, strlen(key)), perms);
    return 0;
}
