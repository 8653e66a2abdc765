/* The daemon's shared state and the three threads that use it:
 *
 *   stream (main thread)  libwebsockets: sharded market-channel connections,
 *                         frames into the book store, heartbeats, watchdogs
 *   rest                  libcurl: Gamma discovery, /books snapshots,
 *                         closed-market lookups and resolution checks
 *   writer                libpq: the advisory lock (leadership), market
 *                         upserts, batched price writes, settlement, touches,
 *                         the health report
 *
 * Everything in pf_feed_t below `lock` is protected by it. Cross-thread work
 * travels in small malloc'd queues (pf_job_t, pf_strlist_t); each item has
 * one owner at a time. */
#ifndef PF_FEED_H
#define PF_FEED_H

#include <apr_pools.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pf_book.h"
#include "pf_config.h"
#include "pf_latency.h"
#include "pf_ws.h"

typedef enum {
    PF_ROLE_STARTING = 0,
    PF_ROLE_STANDBY,    /* another instance holds the lock */
    PF_ROLE_ACTIVE,     /* holds the lock */
    PF_ROLE_RECOVERING, /* was active, lost the database: keeps streaming, retries */
    PF_ROLE_STOPPING
} pf_role_t;

const char *pf_role_name(pf_role_t r);

/* A list of strings (token or condition ids). */
typedef struct pf_strlist {
    char **v;
    int n, cap;
} pf_strlist_t;

void pf_strlist_push(pf_strlist_t *l, const char *s);
void pf_strlist_clear(pf_strlist_t *l);
/* Moves src's items to the end of dst, leaving src empty. */
void pf_strlist_take(pf_strlist_t *dst, pf_strlist_t *src);

typedef enum { PF_JOB_UPSERT, PF_JOB_SETTLE, PF_JOB_TOUCH } pf_job_kind_t;

typedef struct pf_job {
    pf_job_kind_t kind;
    char *condition_id;    /* UPSERT, SETTLE */
    char *question, *slug; /* UPSERT */
    int closed;            /* UPSERT */
    char *json;            /* UPSERT: tokens; TOUCH: token ids */
    char *winner;          /* SETTLE: winning token id, NULL for a void market */
    struct pf_job *next;
} pf_job_t;

void pf_job_free(pf_job_t *j);

/* A connection that went silent: its books are compared with REST. */
typedef struct pf_verify {
    int shard;
    int generation; /* the shard's connection count when asked */
    pf_strlist_t tokens;
    int changed; /* result: some book differed (the socket missed updates) */
    struct pf_verify *next;
} pf_verify_t;

void pf_verify_free(pf_verify_t *v);

typedef struct {
    uint64_t frames, events, level_updates, tokens_written, batches, fills, settlements,
        write_failures, discoveries, snapshots, rest_errors, rate_limited, reconnects, touches,
        verifications;
} pf_counters_t;

typedef struct pf_feed {
    const pf_config_t *cfg;
    atomic_int stopping;

    pthread_mutex_t lock;
    pthread_cond_t wake_writer;
    pthread_cond_t wake_rest;

    pf_book_store_t *books; /* pool: books_pool */
    apr_pool_t *books_pool;
    pf_role_t role;
    int db_up;
    int64_t leader_since_ms; /* 0 when not active */
    int leader_epoch;        /* increments on every acquisition of the lock */

    /* rest -> stream: the tokens to subscribe (sorted), bumped version */
    pf_strlist_t desired;
    int desired_version;
    /* stream -> rest: tokens to re-read with POST /books */
    pf_strlist_t snapshot_wanted;
    /* stream -> rest -> stream: silent connections to check */
    pf_verify_t *verify_requests;
    pf_verify_t *verify_results;
    /* stream -> rest: market_resolved / new_market hints */
    pf_strlist_t resolved_hints;
    int new_market_hint;
    /* writer -> rest: markets the database holds unresolved, loaded on taking
     * the lock ("C:<id>" closed, "O:<id>" open); settled condition ids */
    pf_strlist_t db_markets;
    int db_markets_epoch;
    pf_strlist_t settled;
    /* anyone -> writer */
    pf_job_t *jobs_head, *jobs_tail;

    /* health */
    pf_counters_t c;
    pf_latency_t latency;
    int64_t started_ms;
    int64_t last_write_ms;
    int markets_tracked;
    int pending_resolutions;
    char *connections_json; /* malloc'd, from the stream thread */
} pf_feed_t;

/* Milliseconds since the epoch. */
int64_t pf_now_ms(void);

/* Queues a job for the writer (takes ownership) and wakes it. Call with
 * feed->lock held. */
void pf_feed_push_job_locked(pf_feed_t *f, pf_job_t *j);

/* Threads. */
void *pf_rest_main(void *feed);
void *pf_writer_main(void *feed);
/* Runs the stream loop on the calling thread until feed->stopping. Returns
 * 0, or -1 when libwebsockets cannot start. */
int pf_stream_run(pf_feed_t *f);
/* Wakes the stream loop (from any thread). */
void pf_stream_wake(void);

/* Writes the health report (writer thread). */
void pf_health_write(pf_feed_t *f, apr_pool_t *scratch);

#endif
