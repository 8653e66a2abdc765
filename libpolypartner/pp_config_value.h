/* Whole-number values of httpd directives (seconds, bytes, counts), parsed
 * here rather than in the httpd glue so that they are unit-tested and
 * fuzzed. Tenant settings are parsed by pp_tenant.h. */
#ifndef PP_CONFIG_VALUE_H
#define PP_CONFIG_VALUE_H

/* Non-zero when text is one or more ASCII digits (nothing else: no sign,
 * no spaces) whose value is within [min, max] (0 <= min <= max); the value
 * is then stored in *out. Never overflows, however long the text. */
int pp_config_number(const char *text, long min, long max, long *out);

#endif
