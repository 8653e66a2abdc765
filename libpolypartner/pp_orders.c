#include "pp_orders.h"
#include "pp_decimal.h"
#include "pp_error.h"
#include "pp_json.h"
#include "pp_users.h"

#include <apr_strings.h>
#include <string.h>
#include <strings.h>

/* Prices are probabilities: strictly between 0 and 1, at most 4 decimals. */
static int pp_orders_price_ok(const char *s)
{
    return pp_decimal_is_plain(s, 1, 4) && pp_decimal_cmp(s, "0") > 0 && pp_decimal_cmp(s, "1") < 0;
}

static int pp_orders_digits(const char *s, apr_size_t max)
{
    apr_size_t n = strlen(s), i;
    if (n == 0 || n > max) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

int pp_orders_parse(apr_pool_t *p, const char *body, apr_size_t len, pp_order_request_t *out,
                    const char **message)
{
    static const char *const fields[] = { "token_id",        "side",        "type",
                                          "quantity",        "limit_price", "worst_price",
                                          "client_order_id", NULL };
    json_object *root;
    const char *side;

    memset(out, 0, sizeof(*out));
    if ((*message = pp_json_parse_object(p, body, len, &root)) != NULL
        || (*message = pp_json_only_fields(p, root, fields)) != NULL
        || (*message = pp_json_string_field(p, root, "token_id", 1, 1, 78, &out->token_id, NULL))
               != NULL
        || (*message = pp_json_string_field(p, root, "side", 1, 0, 16, &side, NULL)) != NULL
        || (*message = pp_json_string_field(p, root, "type", 1, 0, 16, &out->type, NULL)) != NULL
        || (*message = pp_json_string_field(p, root, "quantity", 1, 0, 64, &out->quantity, NULL))
               != NULL
        || (*message = pp_json_string_field(p, root, "limit_price", 0, 0, 64, &out->limit_price,
                                            NULL))
               != NULL
        || (*message = pp_json_string_field(p, root, "worst_price", 0, 0, 64, &out->worst_price,
                                            NULL))
               != NULL
        || (*message = pp_json_string_field(p, root, "client_order_id", 0, 1, 255,
                                            &out->client_order_id, NULL))
               != NULL) {
        return PP_ERR_VALIDATION_FAILED;
    }
    if (!pp_orders_digits(out->token_id, 78)) {
        *message = "token_id must be the decimal id of an outcome token";
        return PP_ERR_INVALID_ORDER;
    }
    if (strcasecmp(side, "BUY") == 0) {
        out->side = "BUY";
    }
    else if (strcasecmp(side, "SELL") == 0) {
        out->side = "SELL";
    }
    else {
        *message = "side must be BUY or SELL";
        return PP_ERR_INVALID_ORDER;
    }
    if (strcmp(out->type, "market") != 0 && strcmp(out->type, "limit") != 0) {
        *message = "type must be market or limit";
        return PP_ERR_INVALID_ORDER;
    }
    if (!pp_decimal_is_plain(out->quantity, 12, 4) || pp_decimal_cmp(out->quantity, "0") <= 0) {
        *message = "quantity must be a positive decimal string with at most 12 digits before "
                   "and 4 after the point";
        return PP_ERR_INVALID_ORDER;
    }
    if (strcmp(out->type, "limit") == 0) {
        if (!out->limit_price) {
            *message = "a limit order needs limit_price";
            return PP_ERR_INVALID_ORDER;
        }
        if (out->worst_price) {
            *message = "worst_price applies to market orders only";
            return PP_ERR_INVALID_ORDER;
        }
        if (!pp_orders_price_ok(out->limit_price)) {
            *message = "limit_price must be a decimal string between 0 and 1 (exclusive) "
                       "with at most 4 decimal places";
            return PP_ERR_INVALID_ORDER;
        }
    }
    else {
        if (out->limit_price) {
            *message = "limit_price applies to limit orders only (use worst_price to cap a "
                       "market order)";
            return PP_ERR_INVALID_ORDER;
        }
        if (out->worst_price && !pp_orders_price_ok(out->worst_price)) {
            *message = "worst_price must be a decimal string between 0 and 1 (exclusive) "
                       "with at most 4 decimal places";
            return PP_ERR_INVALID_ORDER;
        }
    }
    return -1;
}

int pp_orders_is_id(const char *s)
{
    const char *canonical;
    return pp_users_parse_id(s, &canonical);
}
