/* httpd configuration: the <PolyPartnerTenant> sections and server-level
 * settings. Values are parsed into the core's pp_tenants_t registry. */
#ifndef MOD_POLYPARTNER_CONFIG_H
#define MOD_POLYPARTNER_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include "pp_mail.h"
#include "pp_tenant.h"

#define PP_DEFAULT_MAX_BODY             (1024 * 1024)
#define PP_DEFAULT_RETRY_AFTER          1
#define PP_DEFAULT_CANCEL_BATCH         500
#define PP_DEFAULT_MAX_PRICE_AGE        60
#define PP_CURSOR_KEY_LEN               32
#define PP_DEFAULT_LOGIN_TTL            900
#define PP_DEFAULT_LINK_LIMIT           5
#define PP_DEFAULT_LINK_WINDOW          3600
#define PP_DEFAULT_SESSION_TTL          43200
#define PP_DEFAULT_MAIL_TIMEOUT         10
#define PP_DEFAULT_DB_READ_MS           2000
#define PP_DEFAULT_DB_WRITE_MS          5000
#define PP_DEFAULT_DB_LOCK_MS           1000
#define PP_DEFAULT_DB_RECONNECT_WAIT_MS 3000
#define PP_DEFAULT_EVENT_HEARTBEAT      15
#define PP_DEFAULT_EVENT_RETENTION      604800

typedef struct {
    pp_tenants_t *tenants;           /* shared by the main server and every vhost */
    pp_tenant_t *section;            /* tenant whose section is being read, or NULL */
    apr_off_t max_body;              /* -1: unset */
    int retry_after;                 /* -1: unset */
    int cancel_batch;                /* -1: unset */
    int max_price_age;               /* -1: unset; 0: quotes never go stale */
    const unsigned char *cursor_key; /* HMAC key of pagination cursors, or NULL */
    /* login links and sessions */
    const char *public_url;    /* PolyPartnerPublicURL without a trailing '/', or NULL */
    int public_url_secure;     /* not plain http on a loopback host: cookies get Secure */
    const char *public_origin; /* scheme://host[:port] of public_url */
    pp_mail_conf_t mail;       /* mail.url NULL: no relay; other fields NULL / -1: unset */
    int login_ttl;             /* each -1: unset */
    int link_limit;
    int link_window;
    int session_ttl;
    /* database time budgets and the bound on requests waiting on it */
    int db_read_ms; /* each -1: unset */
    int db_write_ms;
    int db_lock_ms;
    int db_queue_limit; /* -1: unset (a quarter of MaxRequestWorkers); 0: none */
    int db_slow_ms;
    int db_reconnect_wait_ms;
    /* the event feed: requests waiting for events (streams, long-polls) per
     * tenant and per server, the stream's heartbeat, how long events are kept */
    int event_tenant_limit; /* each -1: unset */
    int event_server_limit;
    int event_heartbeat_s;
    int event_retention_s;
} pp_server_conf_t;

extern module AP_MODULE_DECLARE_DATA polypartner_module;
extern const command_rec pp_config_cmds[];

void *pp_config_create_server(apr_pool_t *p, server_rec *s);
void *pp_config_merge_server(apr_pool_t *p, void *base, void *add);

const pp_server_conf_t *pp_config_get(const server_rec *s);
apr_off_t pp_config_max_body(const pp_server_conf_t *conf);
int pp_config_retry_after(const pp_server_conf_t *conf);
int pp_config_cancel_batch(const pp_server_conf_t *conf);
int pp_config_max_price_age(const pp_server_conf_t *conf);
int pp_config_login_ttl(const pp_server_conf_t *conf);
int pp_config_link_limit(const pp_server_conf_t *conf);
int pp_config_link_window(const pp_server_conf_t *conf);
int pp_config_session_ttl(const pp_server_conf_t *conf);
int pp_config_db_read_ms(const pp_server_conf_t *conf);
int pp_config_db_write_ms(const pp_server_conf_t *conf);
int pp_config_db_lock_ms(const pp_server_conf_t *conf);
int pp_config_db_slow_ms(const pp_server_conf_t *conf);
int pp_config_db_reconnect_wait_ms(const pp_server_conf_t *conf);
/* default_limit: what an unset PolyPartnerDBQueueLimit means on this server */
int pp_config_db_queue_limit(const pp_server_conf_t *conf, int default_limit);
int pp_config_event_heartbeat(const pp_server_conf_t *conf);
int pp_config_event_retention(const pp_server_conf_t *conf);
/* default_limit: what an unset per-server bound means on this server; an
 * unset per-tenant bound is half the per-server one (at least 1) */
int pp_config_event_server_limit(const pp_server_conf_t *conf, int default_limit);
int pp_config_event_tenant_limit(const pp_server_conf_t *conf, int default_limit);
/* An error message when the merged database budgets contradict each other
 * (a lock wait must be shorter than a statement), else NULL. */
const char *pp_config_check_db(apr_pool_t *p, const pp_server_conf_t *conf);
/* The relay settings with defaults applied; NULL when no relay or sender is
 * configured (login links then answer 502 MAGIC_LINK_FAILED). */
const pp_mail_conf_t *pp_config_mail(apr_pool_t *p, const pp_server_conf_t *conf);

/* Gives every server without PolyPartnerCursorSecret a random key (logged as
 * a warning: cursors then die with a restart and differ between servers). */
void pp_config_ensure_cursor_keys(apr_pool_t *pconf, server_rec *s);

/* A key of PP_SHA256_LEN bytes derived from the cursor key for one purpose
 * ("orders-list", ...), so a cursor of one list is never valid in another. */
const unsigned char *pp_config_derived_key(apr_pool_t *p, const pp_server_conf_t *conf,
                                           const char *purpose);

#endif
