#include "pp_dberror.h"

#include <string.h>

static int pp_dberror_state_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

int pp_dberror_sqlstate(const char *message, char out[6])
{
    const char *c;

    out[0] = '\0';
    if (!message) {
        return 0;
    }
    /* "SEVERITY:  XXXXX: text": the severity is localised, so find the
     * first "XXXXX:" that follows a ":  " rather than matching words */
    c = strstr(message, ":  ");
    if (!c) {
        return 0;
    }
    c += 3;
    for (int i = 0; i < 5; i++) {
        if (!pp_dberror_state_char(c[i])) {
            return 0;
        }
    }
    if (c[5] != ':') {
        return 0;
    }
    memcpy(out, c, 5);
    out[5] = '\0';
    return 1;
}

pp_dberror_t pp_dberror_classify(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5) {
        return PP_DBERROR_INTERNAL;
    }
    /* query_canceled (statement_timeout) and lock_not_available (lock_timeout) */
    if (strcmp(sqlstate, "57014") == 0 || strcmp(sqlstate, "55P03") == 0) {
        return PP_DBERROR_TIMEOUT;
    }
    /* serialization failure, deadlock; insufficient resources (too many
     * connections, out of memory, disk full); operator intervention
     * (admin/crash shutdown, cannot connect now); connection exceptions */
    if (strncmp(sqlstate, "40", 2) == 0 || strncmp(sqlstate, "53", 2) == 0
        || strncmp(sqlstate, "57P", 3) == 0 || strncmp(sqlstate, "08", 2) == 0) {
        return PP_DBERROR_TRANSIENT;
    }
    return PP_DBERROR_INTERNAL;
}
