#include "mod_polypartner_config.h"

#include <apr_strings.h>
#include <http_log.h>
#include <openssl/rand.h>

#include "pp_codec.h"
#include "pp_config_value.h"
#include "pp_redirect.h"
#include "pp_token.h"

APLOG_USE_MODULE(polypartner);

void *pp_config_create_server(apr_pool_t *p, server_rec *s)
{
    pp_server_conf_t *conf = apr_pcalloc(p, sizeof(*conf));
    (void)s;
    conf->tenants = pp_tenants_make(p);
    conf->max_body = -1;
    conf->retry_after = -1;
    conf->cancel_batch = -1;
    conf->max_price_age = -1;
    conf->mail.starttls = -1;
    conf->mail.verify_peer = -1;
    conf->mail.timeout_ms = -1;
    conf->login_ttl = -1;
    conf->link_limit = -1;
    conf->link_window = -1;
    conf->session_ttl = -1;
    conf->db_read_ms = -1;
    conf->db_write_ms = -1;
    conf->db_lock_ms = -1;
    conf->db_queue_limit = -1;
    conf->db_slow_ms = -1;
    conf->db_reconnect_wait_ms = -1;
    conf->event_tenant_limit = -1;
    conf->event_server_limit = -1;
    conf->event_heartbeat_s = -1;
    conf->event_retention_s = -1;
    return conf;
}

void *pp_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    const pp_server_conf_t *base = basev, *add = addv;
    pp_server_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    /* tenants are global: <PolyPartnerTenant> is refused inside vhosts */
    conf->tenants = base->tenants;
    conf->section = NULL;
    conf->max_body = add->max_body != -1 ? add->max_body : base->max_body;
    conf->retry_after = add->retry_after != -1 ? add->retry_after : base->retry_after;
    conf->cancel_batch = add->cancel_batch != -1 ? add->cancel_batch : base->cancel_batch;
    conf->max_price_age = add->max_price_age != -1 ? add->max_price_age : base->max_price_age;
    conf->cursor_key = add->cursor_key ? add->cursor_key : base->cursor_key;
    if (add->public_url) {
        conf->public_url = add->public_url;
        conf->public_url_secure = add->public_url_secure;
        conf->public_origin = add->public_origin;
    }
    else {
        conf->public_url = base->public_url;
        conf->public_url_secure = base->public_url_secure;
        conf->public_origin = base->public_origin;
    }
/* The tz database PostgreSQL reads too (Debian builds it with the system's). */
#define PP_ZONEINFO_DIR "/usr/share/zoneinfo"

#define PP_PICK(f, unset) conf->f = add->f != (unset) ? add->f : base->f
    PP_PICK(mail.url, NULL);
    PP_PICK(mail.starttls, -1);
    PP_PICK(mail.username, NULL);
    PP_PICK(mail.password, NULL);
    PP_PICK(mail.from, NULL);
    PP_PICK(mail.ca_file, NULL);
    PP_PICK(mail.verify_peer, -1);
    PP_PICK(mail.timeout_ms, -1);
    PP_PICK(login_ttl, -1);
    PP_PICK(link_limit, -1);
    PP_PICK(link_window, -1);
    PP_PICK(session_ttl, -1);
    PP_PICK(db_read_ms, -1);
    PP_PICK(db_write_ms, -1);
    PP_PICK(db_lock_ms, -1);
    PP_PICK(db_queue_limit, -1);
    PP_PICK(db_slow_ms, -1);
    PP_PICK(db_reconnect_wait_ms, -1);
    PP_PICK(event_tenant_limit, -1);
    PP_PICK(event_server_limit, -1);
    PP_PICK(event_heartbeat_s, -1);
    PP_PICK(event_retention_s, -1);
#undef PP_PICK
    return conf;
}

const pp_server_conf_t *pp_config_get(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &polypartner_module);
}

apr_off_t pp_config_max_body(const pp_server_conf_t *conf)
{
    return conf->max_body != -1 ? conf->max_body : PP_DEFAULT_MAX_BODY;
}

int pp_config_retry_after(const pp_server_conf_t *conf)
{
    return conf->retry_after != -1 ? conf->retry_after : PP_DEFAULT_RETRY_AFTER;
}

#define PP_CONFIG_GETTER(name, field, dflt)              \
    int name(const pp_server_conf_t *conf)               \
    {                                                    \
        return conf->field != -1 ? conf->field : (dflt); \
    }
PP_CONFIG_GETTER(pp_config_db_read_ms, db_read_ms, PP_DEFAULT_DB_READ_MS)
PP_CONFIG_GETTER(pp_config_db_write_ms, db_write_ms, PP_DEFAULT_DB_WRITE_MS)
PP_CONFIG_GETTER(pp_config_db_lock_ms, db_lock_ms, PP_DEFAULT_DB_LOCK_MS)
/* a call older than the lock budget is waiting on more than a lock */
PP_CONFIG_GETTER(pp_config_db_slow_ms, db_slow_ms, pp_config_db_lock_ms(conf))
PP_CONFIG_GETTER(pp_config_db_reconnect_wait_ms, db_reconnect_wait_ms,
                 PP_DEFAULT_DB_RECONNECT_WAIT_MS)
PP_CONFIG_GETTER(pp_config_event_heartbeat, event_heartbeat_s, PP_DEFAULT_EVENT_HEARTBEAT)
PP_CONFIG_GETTER(pp_config_event_retention, event_retention_s, PP_DEFAULT_EVENT_RETENTION)
#undef PP_CONFIG_GETTER

int pp_config_event_server_limit(const pp_server_conf_t *conf, int default_limit)
{
    return conf->event_server_limit != -1 ? conf->event_server_limit : default_limit;
}

int pp_config_event_tenant_limit(const pp_server_conf_t *conf, int default_limit)
{
    int server = pp_config_event_server_limit(conf, default_limit);
    if (conf->event_tenant_limit != -1) {
        return conf->event_tenant_limit;
    }
    return server / 2 > 1 ? server / 2 : 1;
}

int pp_config_db_queue_limit(const pp_server_conf_t *conf, int default_limit)
{
    return conf->db_queue_limit != -1 ? conf->db_queue_limit : default_limit;
}

const char *pp_config_check_db(apr_pool_t *p, const pp_server_conf_t *conf)
{
    int lock = pp_config_db_lock_ms(conf);
    int read = pp_config_db_read_ms(conf), write = pp_config_db_write_ms(conf);

    if (lock >= read || lock >= write) {
        return apr_psprintf(p,
                            "PolyPartnerDBLockTimeout (%d ms) must be shorter than "
                            "PolyPartnerDBReadTimeout (%d ms) and PolyPartnerDBWriteTimeout "
                            "(%d ms): a lock wait must never be a request's whole budget",
                            lock, read, write);
    }
    return NULL;
}

int pp_config_cancel_batch(const pp_server_conf_t *conf)
{
    return conf->cancel_batch != -1 ? conf->cancel_batch : PP_DEFAULT_CANCEL_BATCH;
}

int pp_config_max_price_age(const pp_server_conf_t *conf)
{
    return conf->max_price_age != -1 ? conf->max_price_age : PP_DEFAULT_MAX_PRICE_AGE;
}

int pp_config_login_ttl(const pp_server_conf_t *conf)
{
    return conf->login_ttl != -1 ? conf->login_ttl : PP_DEFAULT_LOGIN_TTL;
}

int pp_config_link_limit(const pp_server_conf_t *conf)
{
    return conf->link_limit != -1 ? conf->link_limit : PP_DEFAULT_LINK_LIMIT;
}

int pp_config_link_window(const pp_server_conf_t *conf)
{
    return conf->link_window != -1 ? conf->link_window : PP_DEFAULT_LINK_WINDOW;
}

int pp_config_session_ttl(const pp_server_conf_t *conf)
{
    return conf->session_ttl != -1 ? conf->session_ttl : PP_DEFAULT_SESSION_TTL;
}

const pp_mail_conf_t *pp_config_mail(apr_pool_t *p, const pp_server_conf_t *conf)
{
    pp_mail_conf_t *m;

    if (!conf->mail.url || !conf->mail.from) {
        return NULL;
    }
    m = apr_pmemdup(p, &conf->mail, sizeof(*m));
    if (m->starttls == -1) m->starttls = PP_MAIL_TLS_REQUIRED;
    if (m->verify_peer == -1) m->verify_peer = 1;
    if (m->timeout_ms == -1) m->timeout_ms = PP_DEFAULT_MAIL_TIMEOUT * 1000L;
    return m;
}

void pp_config_ensure_cursor_keys(apr_pool_t *pconf, server_rec *s)
{
    unsigned char *key = NULL;
    server_rec *vs;

    for (vs = s; vs; vs = vs->next) {
        pp_server_conf_t *conf = ap_get_module_config(vs->module_config, &polypartner_module);
        if (conf->cursor_key) {
            continue;
        }
        if (!key) {
            key = apr_palloc(pconf, PP_CURSOR_KEY_LEN);
            if (RAND_bytes(key, PP_CURSOR_KEY_LEN) != 1) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "PP0303: no random cursor key");
                continue;
            }
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "PP0304: PolyPartnerCursorSecret "
                         "is not set: using a random key, so trade-feed cursors stop working "
                         "after a restart and between servers behind one load balancer");
        }
        conf->cursor_key = key;
    }
}

const unsigned char *pp_config_derived_key(apr_pool_t *p, const pp_server_conf_t *conf,
                                           const char *purpose)
{
    unsigned char *key = apr_palloc(p, PP_SHA256_LEN);
    const char *material = apr_pstrcat(p, purpose, ":",
                                       pp_hex_encode(p, conf->cursor_key, PP_CURSOR_KEY_LEN), NULL);
    pp_token_sha256(material, strlen(material), key);
    return key;
}

static pp_server_conf_t *pp_config_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &polypartner_module);
}

/* The tenant section a directive appears in, or an error. */
static const char *pp_config_section(cmd_parms *cmd, pp_tenant_t **t)
{
    *t = pp_config_of(cmd)->section;
    if (!*t) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " is only allowed inside a <PolyPartnerTenant> section", NULL);
    }
    return NULL;
}

static const char *pp_cmd_tenant_section(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    const char *err, *endp, *name;
    pp_tenant_t *tenant;

    (void)dconf;
    if ((err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) != NULL) {
        return err;
    }
    if (conf->section) {
        return "<PolyPartnerTenant> sections cannot be nested";
    }
    endp = ap_strrchr_c(arg, '>');
    if (!endp) {
        return "<PolyPartnerTenant> directive missing closing '>'";
    }
    arg = apr_pstrmemdup(cmd->temp_pool, arg, (apr_size_t)(endp - arg));
    name = ap_getword_conf(cmd->temp_pool, &arg);
    if (!*name) {
        return "<PolyPartnerTenant> needs a tenant name, e.g. <PolyPartnerTenant acme>";
    }
    if (*arg) {
        return "<PolyPartnerTenant> takes exactly one argument, the tenant name";
    }
    if ((err = pp_tenants_add(conf->tenants, name, &tenant)) != NULL) {
        return err;
    }
    conf->section = tenant;
    err = ap_walk_config(cmd->directive->first_child, cmd, cmd->context);
    conf->section = NULL;
    if (!err && tenant->key_count == 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     "tenant '%s' (%s:%d) has no PolyPartnerTenantKey: nobody can use it",
                     tenant->name, cmd->directive->filename, cmd->directive->line_num);
    }
    return err;
}

static const char *pp_cmd_tenant_enabled(cmd_parms *cmd, void *dconf, int on)
{
    pp_tenant_t *t;
    const char *err = pp_config_section(cmd, &t);
    (void)dconf;
    if (!err) {
        t->enabled = on;
    }
    return err;
}

static const char *pp_cmd_tenant_key(cmd_parms *cmd, void *dconf, int argc, char *const argv[])
{
    pp_tenant_t *t;
    const char *err = pp_config_section(cmd, &t);
    (void)dconf;
    if (err) {
        return err;
    }
    if (argc < 2) {
        return "PolyPartnerTenantKey needs a key hash and at least one permission, e.g. "
               "PolyPartnerTenantKey sha256:<hex> users:write accounts:read accounts:write";
    }
    return pp_tenant_add_key(pp_config_of(cmd)->tenants, t, argv[0], argc - 1,
                             (const char *const *)argv + 1);
}

static const char *pp_cmd_tenant_redirect(cmd_parms *cmd, void *dconf, const char *url)
{
    pp_tenant_t *t;
    const char *err = pp_config_section(cmd, &t);
    (void)dconf;
    return err ? err : pp_tenant_add_redirect(cmd->pool, t, url);
}

static const char *pp_cmd_tenant_bounds(cmd_parms *cmd, void *dconf, const char *min,
                                        const char *max)
{
    pp_tenant_t *t;
    const char *err = pp_config_section(cmd, &t);
    (void)dconf;
    return err ? err : pp_tenant_set_bounds(cmd->pool, t, min, max);
}

static const char *pp_cmd_max_body(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    long n;
    (void)dconf;
    if (!pp_config_number(arg, 2, 64 * 1024 * 1024, &n)) {
        return "PolyPartnerMaxBodySize must be a number of bytes between 2 and 67108864";
    }
    conf->max_body = n;
    return NULL;
}

static const char *pp_cmd_retry_after(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    long n;
    (void)dconf;
    if (!pp_config_number(arg, 1, 3600, &n)) {
        return "PolyPartnerRetryAfter must be a number of seconds between 1 and 3600";
    }
    conf->retry_after = (int)n;
    return NULL;
}

static const char *pp_cmd_tenant_fee_rate(cmd_parms *cmd, void *dconf, const char *rate)
{
    pp_tenant_t *t;
    const char *err = pp_config_section(cmd, &t);
    (void)dconf;
    return err ? err : pp_tenant_set_fee_rate(cmd->pool, t, rate);
}

static const char *pp_cmd_tenant_day_boundary(cmd_parms *cmd, void *dconf, const char *hhmm,
                                              const char *zone)
{
    pp_tenant_t *t;
    const char *err = pp_config_section(cmd, &t);
    (void)dconf;
    return err ? err
               : pp_tenant_set_day_boundary(cmd->pool, t, hhmm, zone ? zone : "UTC",
                                            PP_ZONEINFO_DIR);
}

static const char *pp_cmd_cursor_secret(cmd_parms *cmd, void *dconf, const char *secret)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    unsigned char *key;
    (void)dconf;
    if (strlen(secret) < 32) {
        return "PolyPartnerCursorSecret must be at least 32 characters (e.g. the output of "
               "openssl rand -hex 32); every server behind one load balancer needs the same";
    }
    /* a fixed-size key however long the secret */
    key = apr_palloc(cmd->pool, PP_CURSOR_KEY_LEN);
    pp_token_sha256(secret, strlen(secret), key);
    conf->cursor_key = key;
    return NULL;
}

static const char *pp_cmd_max_price_age(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    long n;
    (void)dconf;
    if (!pp_config_number(arg, 0, 86400, &n)) {
        return "PolyPartnerMaxPriceAge must be a number of seconds between 0 (never stale) "
               "and 86400";
    }
    conf->max_price_age = (int)n;
    return NULL;
}

static const char *pp_cmd_cancel_batch(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    long n;
    (void)dconf;
    if (!pp_config_number(arg, 1, 100000, &n)) {
        return "PolyPartnerCancelBatchSize must be a number of orders between 1 and 100000";
    }
    conf->cancel_batch = (int)n;
    return NULL;
}

/* A whole number of units (seconds, milliseconds) in [min, max], or an
 * error naming the directive. */
static const char *pp_config_whole(cmd_parms *cmd, const char *arg, long min, long max,
                                   const char *unit, int *out)
{
    long n;

    if (!pp_config_number(arg, min, max, &n)) {
        return apr_psprintf(cmd->pool, "%s must be a number of %s between %ld and %ld",
                            cmd->cmd->name, unit, min, max);
    }
    *out = (int)n;
    return NULL;
}

static const char *pp_config_ms(cmd_parms *cmd, const char *arg, long min, long max, int *out)
{
    return pp_config_whole(cmd, arg, min, max, "milliseconds", out);
}

static const char *pp_cmd_db_timeout(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    int *field = (int *)((char *)conf + (apr_size_t)cmd->info);
    (void)dconf;
    return pp_config_ms(cmd, arg, 10, 600000, field);
}

static const char *pp_cmd_db_queue_limit(cmd_parms *cmd, void *dconf, const char *limit,
                                         const char *slow)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    long n;
    (void)dconf;
    if (!pp_config_number(limit, 0, 100000, &n)) {
        return "PolyPartnerDBQueueLimit must be a number of requests between 0 (no bound) "
               "and 100000, optionally followed by milliseconds after which a call counts "
               "as slow";
    }
    conf->db_queue_limit = (int)n;
    return slow ? pp_config_ms(cmd, slow, 1, 600000, &conf->db_slow_ms) : NULL;
}

static const char *pp_cmd_db_reconnect_wait(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    (void)dconf;
    return pp_config_ms(cmd, arg, 0, 60000, &conf->db_reconnect_wait_ms);
}

static const char *pp_config_seconds(cmd_parms *cmd, const char *arg, long min, long max, int *out)
{
    return pp_config_whole(cmd, arg, min, max, "seconds", out);
}

static const char *pp_cmd_public_url(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    pp_url_t u;
    const char *err = pp_url_parse(cmd->pool, arg, &u);
    char *url;
    size_t n;
    (void)dconf;

    if (!err && (u.query || u.fragment)) {
        err = "no query or fragment";
    }
    if (!err && strcmp(u.scheme, "https") != 0 && !pp_url_host_is_loopback(u.host)) {
        err = "https is required (http only for a loopback host in development)";
    }
    if (err) {
        return apr_psprintf(cmd->pool,
                            "PolyPartnerPublicURL '%s': %s (the address traders "
                            "open, e.g. https://trade.example.com)",
                            arg, err);
    }
    url = apr_pstrdup(cmd->pool, arg);
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/') {
        url[--n] = '\0';
    }
    conf->public_url = url;
    conf->public_url_secure = strcmp(u.scheme, "https") == 0;
    conf->public_origin = apr_psprintf(cmd->pool, "%s://%s%s%s%s", u.scheme,
                                       strchr(u.host, ':') ? "[" : "", u.host,
                                       strchr(u.host, ':') ? "]" : "",
                                       (u.port == 443 && conf->public_url_secure)
                                               || (u.port == 80 && !conf->public_url_secure)
                                           ? ""
                                           : apr_psprintf(cmd->pool, ":%d", u.port));
    return NULL;
}

static const char *pp_cmd_mail_relay(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    (void)dconf;
    if ((strncmp(arg, "smtp://", 7) != 0 && strncmp(arg, "smtps://", 8) != 0)
        || strchr(arg + 7, '@')) {
        return "PolyPartnerMailRelay must be smtp://host[:port] or smtps://host[:port] "
               "(credentials go in PolyPartnerMailAuth)";
    }
    conf->mail.url = arg;
    return NULL;
}

static const char *pp_cmd_mail_starttls(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    (void)dconf;
    if (apr_strnatcasecmp(arg, "none") == 0) conf->mail.starttls = PP_MAIL_TLS_NONE;
    else if (apr_strnatcasecmp(arg, "try") == 0) conf->mail.starttls = PP_MAIL_TLS_TRY;
    else if (apr_strnatcasecmp(arg, "required") == 0) conf->mail.starttls = PP_MAIL_TLS_REQUIRED;
    else return "PolyPartnerMailStartTLS must be none, try or required (default required)";
    return NULL;
}

static const char *pp_cmd_mail_auth(cmd_parms *cmd, void *dconf, const char *user,
                                    const char *password)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    (void)dconf;
    if (!*user || !*password) {
        return "PolyPartnerMailAuth needs a user name and a password";
    }
    conf->mail.username = user;
    conf->mail.password = password;
    return NULL;
}

static const char *pp_cmd_mail_from(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    (void)dconf;
    if (!pp_mail_address(cmd->temp_pool, arg)) {
        return apr_psprintf(cmd->pool,
                            "PolyPartnerMailFrom '%s' is not an address (use "
                            "addr@example.com or \"Name <addr@example.com>\")",
                            arg);
    }
    conf->mail.from = arg;
    return NULL;
}

static const char *pp_cmd_mail_ca_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    (void)dconf;
    conf->mail.ca_file = ap_server_root_relative(cmd->pool, arg);
    return conf->mail.ca_file ? NULL : "PolyPartnerMailCAFile: invalid path";
}

static const char *pp_cmd_mail_verify(cmd_parms *cmd, void *dconf, int on)
{
    (void)dconf;
    pp_config_of(cmd)->mail.verify_peer = on;
    return NULL;
}

static const char *pp_cmd_mail_timeout(cmd_parms *cmd, void *dconf, const char *arg)
{
    int n = 0;
    const char *err = pp_config_seconds(cmd, arg, 1, 300, &n);
    (void)dconf;
    if (!err) pp_config_of(cmd)->mail.timeout_ms = n * 1000L;
    return err;
}

static const char *pp_cmd_login_ttl(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    return pp_config_seconds(cmd, arg, 60, 86400, &pp_config_of(cmd)->login_ttl);
}

static const char *pp_cmd_session_ttl(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    return pp_config_seconds(cmd, arg, 300, 30 * 86400, &pp_config_of(cmd)->session_ttl);
}

static const char *pp_cmd_link_limit(cmd_parms *cmd, void *dconf, const char *count,
                                     const char *window)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    long n;
    (void)dconf;
    if (!pp_config_number(count, 0, 10000, &n)) {
        return "PolyPartnerLoginLinkLimit needs a number of links (0: no limit, up to 10000) "
               "and a window in seconds, e.g. PolyPartnerLoginLinkLimit 5 3600";
    }
    conf->link_limit = (int)n;
    return pp_config_seconds(cmd, window, 1, 30 * 86400, &conf->link_window);
}

static const char *pp_cmd_event_wait_limit(cmd_parms *cmd, void *dconf, const char *tenant,
                                           const char *server)
{
    pp_server_conf_t *conf = pp_config_of(cmd);
    const char *err;
    (void)dconf;
    if ((err = pp_config_whole(cmd, tenant, 1, 100000, "requests", &conf->event_tenant_limit))
        != NULL) {
        return err;
    }
    return server ? pp_config_whole(cmd, server, 1, 100000, "requests", &conf->event_server_limit)
                  : NULL;
}

static const char *pp_cmd_event_heartbeat(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    return pp_config_seconds(cmd, arg, 1, 300, &pp_config_of(cmd)->event_heartbeat_s);
}

static const char *pp_cmd_event_retention(cmd_parms *cmd, void *dconf, const char *arg)
{
    (void)dconf;
    /* at least a minute (the database refuses less), at most ten years */
    return pp_config_seconds(cmd, arg, 60, 315360000, &pp_config_of(cmd)->event_retention_s);
}

static const char *pp_cmd_tenant_default_redirect(cmd_parms *cmd, void *dconf, const char *url)
{
    pp_tenant_t *t;
    const char *err = pp_config_section(cmd, &t);
    (void)dconf;
    return err ? err : pp_tenant_set_default_redirect(cmd->pool, t, url);
}

const command_rec pp_config_cmds[] = {
    AP_INIT_RAW_ARGS("<PolyPartnerTenant", pp_cmd_tenant_section, NULL, RSRC_CONF,
                     "a tenant: <PolyPartnerTenant name> ... </PolyPartnerTenant>"),
    AP_INIT_FLAG("PolyPartnerTenantEnabled", pp_cmd_tenant_enabled, NULL, RSRC_CONF,
                 "On (default) or Off: a disabled tenant gets 404 on the whole API"),
    AP_INIT_TAKE_ARGV("PolyPartnerTenantKey", pp_cmd_tenant_key, NULL, RSRC_CONF,
                      "sha256:<hex of the key's SHA-256> followed by permissions"),
    AP_INIT_ITERATE("PolyPartnerTenantRedirectAllow", pp_cmd_tenant_redirect, NULL, RSRC_CONF,
                    "URLs that login links may redirect to"),
    AP_INIT_TAKE2("PolyPartnerTenantBalanceBounds", pp_cmd_tenant_bounds, NULL, RSRC_CONF,
                  "minimum and maximum starting balance (default 100.00 1000000.00)"),
    AP_INIT_TAKE1("PolyPartnerTenantFeeRate", pp_cmd_tenant_fee_rate, NULL, RSRC_CONF,
                  "fee charged on each fill as a fraction of its notional (default 0)"),
    AP_INIT_TAKE12("PolyPartnerTenantDayBoundary", pp_cmd_tenant_day_boundary, NULL, RSRC_CONF,
                   "local time and IANA zone where the tenant's trading day begins "
                   "(default 00:00 UTC)"),
    AP_INIT_TAKE1("PolyPartnerCursorSecret", pp_cmd_cursor_secret, NULL, RSRC_CONF,
                  "secret that signs pagination cursors (32+ characters)"),
    AP_INIT_TAKE1("PolyPartnerMaxPriceAge", pp_cmd_max_price_age, NULL, RSRC_CONF,
                  "seconds after which a quote is too old for a market order (default 60, "
                  "0: never)"),
    AP_INIT_TAKE1("PolyPartnerMaxBodySize", pp_cmd_max_body, NULL, RSRC_CONF,
                  "largest accepted request body in bytes (default 1048576)"),
    AP_INIT_TAKE1("PolyPartnerRetryAfter", pp_cmd_retry_after, NULL, RSRC_CONF,
                  "Retry-After seconds sent with 503 when the database is unavailable"),
    AP_INIT_TAKE1("PolyPartnerDBReadTimeout", pp_cmd_db_timeout,
                  (void *)APR_OFFSETOF(pp_server_conf_t, db_read_ms), RSRC_CONF,
                  "milliseconds a database call of a GET may take (default 2000)"),
    AP_INIT_TAKE1("PolyPartnerDBWriteTimeout", pp_cmd_db_timeout,
                  (void *)APR_OFFSETOF(pp_server_conf_t, db_write_ms), RSRC_CONF,
                  "milliseconds a database call of a write may take (default 5000)"),
    AP_INIT_TAKE1("PolyPartnerDBLockTimeout", pp_cmd_db_timeout,
                  (void *)APR_OFFSETOF(pp_server_conf_t, db_lock_ms), RSRC_CONF,
                  "milliseconds a database call may wait for a lock (default 1000)"),
    AP_INIT_TAKE12("PolyPartnerDBQueueLimit", pp_cmd_db_queue_limit, NULL, RSRC_CONF,
                   "requests of one endpoint that may wait on a slow database at once "
                   "(default: a quarter of MaxRequestWorkers; 0: no bound), and after how "
                   "many milliseconds a call is slow (default: PolyPartnerDBLockTimeout)"),
    AP_INIT_TAKE1("PolyPartnerDBReconnectWait", pp_cmd_db_reconnect_wait, NULL, RSRC_CONF,
                  "milliseconds a request waits for an unreachable database to come back "
                  "before 503 (default 3000)"),
    AP_INIT_TAKE1("PolyPartnerCancelBatchSize", pp_cmd_cancel_batch, NULL, RSRC_CONF,
                  "open orders one close or reset call cancels at most (default 500)"),
    AP_INIT_TAKE1("PolyPartnerTenantDefaultRedirect", pp_cmd_tenant_default_redirect, NULL,
                  RSRC_CONF,
                  "where a login link lands without a redirect_url (default: "
                  "PolyPartnerPublicURL/)"),
    AP_INIT_TAKE1("PolyPartnerPublicURL", pp_cmd_public_url, NULL, RSRC_CONF,
                  "the address traders open (login links, the trader page)"),
    AP_INIT_TAKE1("PolyPartnerMailRelay", pp_cmd_mail_relay, NULL, RSRC_CONF,
                  "SMTP relay for login links: smtp://host:port or smtps://host:port"),
    AP_INIT_TAKE1("PolyPartnerMailStartTLS", pp_cmd_mail_starttls, NULL, RSRC_CONF,
                  "none, try or required (default required) for an smtp:// relay"),
    AP_INIT_TAKE2("PolyPartnerMailAuth", pp_cmd_mail_auth, NULL, RSRC_CONF,
                  "user name and password for the relay"),
    AP_INIT_TAKE1("PolyPartnerMailFrom", pp_cmd_mail_from, NULL, RSRC_CONF,
                  "sender of login-link emails"),
    AP_INIT_TAKE1("PolyPartnerMailCAFile", pp_cmd_mail_ca_file, NULL, RSRC_CONF,
                  "CA bundle for the relay's certificate (default: the system's)"),
    AP_INIT_FLAG("PolyPartnerMailVerifyPeer", pp_cmd_mail_verify, NULL, RSRC_CONF,
                 "verify the relay's certificate (default On)"),
    AP_INIT_TAKE1("PolyPartnerMailTimeout", pp_cmd_mail_timeout, NULL, RSRC_CONF,
                  "seconds one email may take (default 10)"),
    AP_INIT_TAKE1("PolyPartnerLoginLinkTTL", pp_cmd_login_ttl, NULL, RSRC_CONF,
                  "seconds a login link stays valid (default 900)"),
    AP_INIT_TAKE2("PolyPartnerLoginLinkLimit", pp_cmd_link_limit, NULL, RSRC_CONF,
                  "login links per trader and tenant within a window of seconds (default 5 3600)"),
    AP_INIT_TAKE1("PolyPartnerSessionTTL", pp_cmd_session_ttl, NULL, RSRC_CONF,
                  "seconds a trader session lasts (default 43200)"),
    AP_INIT_TAKE12("PolyPartnerEventWaitLimit", pp_cmd_event_wait_limit, NULL, RSRC_CONF,
                   "event streams and waiting long-polls one tenant may hold at once (default: "
                   "half the server's), and the whole server (default: a quarter of "
                   "MaxRequestWorkers)"),
    AP_INIT_TAKE1("PolyPartnerEventHeartbeat", pp_cmd_event_heartbeat, NULL, RSRC_CONF,
                  "seconds between heartbeat comments on an idle event stream (default 15)"),
    AP_INIT_TAKE1("PolyPartnerEventRetention", pp_cmd_event_retention, NULL, RSRC_CONF,
                  "seconds events are kept for the feed (default 604800, 7 days)"),
    { NULL }
};
