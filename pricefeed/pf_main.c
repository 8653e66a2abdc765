/* polypartner-pricefeed: command line, configuration, logging, signals and
 * the threads (see pf_feed.h). */
#include "pf_feed.h"

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "pp_log.h"

static pf_feed_t *pf_the_feed;

static void pf_log_stderr(void *baton, pp_log_level_t level, const char *msg)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    struct timespec ts;
    struct tm tm;
    char when[32];

    (void)baton;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    /* one write per line, so threads never interleave within a line */
    fprintf(stderr, "%s.%03ldZ [%s] %s\n", when, ts.tv_nsec / 1000000L, names[level], msg);
}

static void pf_log_syslog(void *baton, pp_log_level_t level, const char *msg)
{
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

    (void)baton;
    syslog(prio[level], "%s", msg);
}

static void pf_on_signal(int sig)
{
    (void)sig;
    if (pf_the_feed) {
        atomic_store(&pf_the_feed->stopping, 1);
    }
}

static void pf_usage(FILE *to)
{
    fputs("usage: polypartner-pricefeed -c FILE [--set key=value]... [--check]\n"
          "  -c, --config FILE   configuration file (see docs/pricefeed.md)\n"
          "  --set key=value     override one setting (repeatable)\n"
          "  --check             parse the configuration, print it and exit\n"
          "  -h, --help          this text\n",
          to);
}

static const char *pf_read_file(apr_pool_t *p, const char *path, const char **out)
{
    apr_file_t *fd;
    apr_finfo_t fi;
    apr_status_t rv;
    char *buf;
    apr_size_t n;

    rv = apr_file_open(&fd, path, APR_FOPEN_READ, 0, p);
    if (rv != APR_SUCCESS) {
        char err[256];
        return apr_psprintf(p, "%s: cannot open: %s", path, apr_strerror(rv, err, sizeof(err)));
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, fd) != APR_SUCCESS || fi.size > 1024 * 1024) {
        apr_file_close(fd);
        return apr_psprintf(p, "%s: not a readable configuration file (at most 1 MB)", path);
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    n = (apr_size_t)fi.size;
    rv = apr_file_read_full(fd, buf, n, &n);
    apr_file_close(fd);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(p, "%s: read error", path);
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        return apr_psprintf(p, "%s: contains a NUL byte", path);
    }
    *out = buf;
    return NULL;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    pf_config_t cfg;
    pf_feed_t feed;
    const char *config_path = NULL, *err;
    apr_array_header_t *sets;
    int check = 0, i;
    pthread_t rest_thread, writer_thread;
    struct sigaction sa;

    if (apr_app_initialize(&argc, (const char *const **)&argv, NULL) != APR_SUCCESS) {
        fputs("polypartner-pricefeed: cannot initialise APR\n", stderr);
        return 1;
    }
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    sets = apr_array_make(pool, 4, sizeof(const char *));

    for (i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            config_path = argv[++i];
        }
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            APR_ARRAY_PUSH(sets, const char *) = argv[++i];
        }
        else if (strcmp(argv[i], "--check") == 0) {
            check = 1;
        }
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            pf_usage(stdout);
            return 0;
        }
        else {
            fprintf(stderr, "polypartner-pricefeed: unexpected argument '%s'\n", argv[i]);
            pf_usage(stderr);
            return 2;
        }
    }

    pf_config_defaults(&cfg);
    if (config_path) {
        const char *text = NULL;
        if ((err = pf_read_file(pool, config_path, &text)) != NULL
            || (err = pf_config_parse(pool, &cfg, text, config_path)) != NULL) {
            fprintf(stderr, "polypartner-pricefeed: %s\n", err);
            return 2;
        }
    }
    for (i = 0; i < sets->nelts; i++) {
        const char *kv = APR_ARRAY_IDX(sets, i, const char *);
        const char *eq = strchr(kv, '=');
        if (!eq) {
            fprintf(stderr, "polypartner-pricefeed: --set expects key=value, got '%s'\n", kv);
            return 2;
        }
        err = pf_config_set(pool, &cfg, apr_pstrndup(pool, kv, (apr_size_t)(eq - kv)), eq + 1,
                            "--set", 0);
        if (err) {
            fprintf(stderr, "polypartner-pricefeed: %s\n", err);
            return 2;
        }
    }
    if ((err = pf_config_finish(pool, &cfg)) != NULL) {
        fprintf(stderr, "polypartner-pricefeed: %s%s%s\n", config_path ? config_path : "",
                config_path ? ": " : "", err);
        return 2;
    }
    if (check) {
        fputs(pf_config_dump(pool, &cfg), stdout);
        return 0;
    }

    if (cfg.log_syslog) {
        openlog("polypartner-pricefeed", LOG_PID, LOG_DAEMON);
        pp_log_set(pf_log_syslog, NULL, cfg.log_level);
    }
    else {
        setvbuf(stderr, NULL, _IOLBF, 0);
        pp_log_set(pf_log_stderr, NULL, cfg.log_level);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pp_log(PP_LOG_ERR, "libcurl: global initialisation failed");
        return 1;
    }
    srand((unsigned)(time(NULL) ^ getpid()));

    memset(&feed, 0, sizeof(feed));
    feed.cfg = &cfg;
    atomic_init(&feed.stopping, 0);
    pthread_mutex_init(&feed.lock, NULL);
    pthread_cond_init(&feed.wake_writer, NULL);
    pthread_cond_init(&feed.wake_rest, NULL);
    apr_pool_create(&feed.books_pool, NULL);
    feed.books = pf_book_store_create(feed.books_pool);
    feed.role = PF_ROLE_STARTING;
    feed.started_ms = pf_now_ms();
    pf_the_feed = &feed;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = pf_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    pp_log(PP_LOG_INFO, "starting: gamma %s, clob %s, ws %s, lock %" APR_INT64_T_FMT, cfg.gamma_url,
           cfg.clob_url, cfg.ws_url, cfg.lock_key);
    if (pthread_create(&writer_thread, NULL, pf_writer_main, &feed) != 0
        || pthread_create(&rest_thread, NULL, pf_rest_main, &feed) != 0) {
        pp_log(PP_LOG_ERR, "cannot start threads");
        return 1;
    }
    int rc = pf_stream_run(&feed);

    atomic_store(&feed.stopping, 1);
    pthread_mutex_lock(&feed.lock);
    pthread_cond_broadcast(&feed.wake_rest);
    pthread_cond_broadcast(&feed.wake_writer);
    pthread_mutex_unlock(&feed.lock);
    pthread_join(rest_thread, NULL);
    pthread_join(writer_thread, NULL);
    pp_log(PP_LOG_INFO, "stopped");

    pf_strlist_clear(&feed.desired);
    free(feed.desired.v);
    pf_strlist_clear(&feed.snapshot_wanted);
    free(feed.snapshot_wanted.v);
    pf_strlist_clear(&feed.resolved_hints);
    free(feed.resolved_hints.v);
    pf_strlist_clear(&feed.db_markets);
    free(feed.db_markets.v);
    pf_strlist_clear(&feed.settled);
    free(feed.settled.v);
    while (feed.jobs_head) {
        pf_job_t *j = feed.jobs_head;
        feed.jobs_head = j->next;
        pf_job_free(j);
    }
    free(feed.connections_json);
    apr_pool_destroy(feed.books_pool);
    curl_global_cleanup();
    pp_log_set(NULL, NULL, PP_LOG_ERR);
    return rc == 0 ? 0 : 1;
}
