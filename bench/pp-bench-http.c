/* bench/pp-bench-http.c: a small HTTP load driver for bench/trades-feed.
 *
 * Sends N requests (after W warm-up requests that are not measured) to one
 * URL over C keep-alive connections (one libcurl easy handle per thread, so
 * each thread reuses its connection) and prints the latency distribution.
 * Any response whose status is not the expected one is an error: the run
 * exits 1 after printing the first such response.
 *
 *   pp-bench-http [-n N] [-c C] [-w W] [-X METHOD] [-H HEADER]... [-d BODY]
 *                 [-e STATUS] [-l LABEL] URL
 *
 * Output (one line; times in milliseconds):
 *   LABEL  n=N c=C  p50=...  p99=...  mean=...  max=...  req/s=...
 *
 * Built by bench/trades-feed:  gcc -O2 -o pp-bench-http pp-bench-http.c -lcurl -lpthread -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 16

static const char *url, *method = "GET", *body, *label = "";
static const char *headers[MAX_HEADERS];
static int nheaders, total = 300, conc = 1, warmup = 20;
static long expected = 200;

static double *lat;   /* per request, ms */
static int next_slot; /* next measured request to run */
static int failed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t warmed; /* the threads and main: measuring starts */

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    buf_t *b = ud;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = (b->len + add + 1) * 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One request; returns its latency in ms, or -1 after reporting a failure. */
static double one(CURL *h, buf_t *b)
{
    long status = 0;
    double t0, t1;
    CURLcode rc;

    b->len = 0;
    t0 = now_ms();
    rc = curl_easy_perform(h);
    t1 = now_ms();
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    if (rc != CURLE_OK || status != expected) {
        pthread_mutex_lock(&mu);
        if (!failed) {
            fprintf(stderr, "pp-bench-http: %s %s: %s, status %ld (want %ld): %.300s\n", method,
                    url, rc == CURLE_OK ? "ok" : curl_easy_strerror(rc), status, expected,
                    b->data ? b->data : "");
        }
        failed = 1;
        pthread_mutex_unlock(&mu);
        return -1;
    }
    return t1 - t0;
}

static void *worker(void *arg)
{
    struct curl_slist *hl = NULL;
    buf_t b = { 0 };
    CURL *h = curl_easy_init();
    int i, slot;
    (void)arg;

    if (!h) {
        pthread_mutex_lock(&mu);
        failed = 1;
        pthread_mutex_unlock(&mu);
        pthread_barrier_wait(&warmed);
        return NULL;
    }
    for (i = 0; i < nheaders; i++) {
        hl = curl_slist_append(hl, headers[i]);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);

    for (i = 0; i < warmup && !failed; i++) {
        if (one(h, &b) < 0) {
            break;
        }
    }
    pthread_barrier_wait(&warmed);
    for (;;) {
        double ms;
        pthread_mutex_lock(&mu);
        slot = failed || next_slot >= total ? -1 : next_slot++;
        pthread_mutex_unlock(&mu);
        if (slot < 0 || (ms = one(h, &b)) < 0) {
            break;
        }
        lat[slot] = ms;
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    free(b.data);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank percentile of the sorted array */
static double pct(const double *v, int n, double p)
{
    int k = (int)ceil(p * n / 100.0 - 1e-9); /* 99% of 300 is 297, not 298 */
    return v[k < 1 ? 0 : k - 1];
}

int main(int argc, char **argv)
{
    pthread_t th[64];
    double t0, wall, sum = 0;
    int opt, i;

    while ((opt = getopt(argc, argv, "n:c:w:X:H:d:e:l:")) != -1) {
        switch (opt) {
        case 'n':
            total = atoi(optarg);
            break;
        case 'c':
            conc = atoi(optarg);
            break;
        case 'w':
            warmup = atoi(optarg);
            break;
        case 'X':
            method = optarg;
            break;
        case 'H':
            if (nheaders == MAX_HEADERS) {
                fprintf(stderr, "pp-bench-http: too many -H\n");
                return 2;
            }
            headers[nheaders++] = optarg;
            break;
        case 'd':
            body = optarg;
            break;
        case 'e':
            expected = atol(optarg);
            break;
        case 'l':
            label = optarg;
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-n N] [-c C] [-w W] [-X METHOD] [-H HEADER]... [-d BODY] "
                    "[-e STATUS] [-l LABEL] URL\n",
                    argv[0]);
            return 2;
        }
    }
    if (optind != argc - 1 || total < 1 || conc < 1 || conc > 64 || warmup < 0) {
        fprintf(stderr, "pp-bench-http: bad arguments (one URL, n >= 1, 1 <= c <= 64)\n");
        return 2;
    }
    url = argv[optind];
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(lat = calloc(total, sizeof(*lat)))) {
        fprintf(stderr, "pp-bench-http: initialisation failed\n");
        return 1;
    }
    /* Each thread opens its connection and sends its warm-up requests; the
     * clock starts when all of them are done. */
    if (pthread_barrier_init(&warmed, NULL, (unsigned)conc + 1) != 0) {
        fprintf(stderr, "pp-bench-http: pthread_barrier_init failed\n");
        return 1;
    }
    for (i = 0; i < conc; i++) {
        if (pthread_create(&th[i], NULL, worker, NULL) != 0) {
            fprintf(stderr, "pp-bench-http: pthread_create failed\n");
            return 1;
        }
    }
    pthread_barrier_wait(&warmed);
    t0 = now_ms();
    for (i = 0; i < conc; i++) {
        pthread_join(th[i], NULL);
    }
    wall = now_ms() - t0;
    if (failed) {
        return 1;
    }
    for (i = 0; i < total; i++) {
        sum += lat[i];
    }
    qsort(lat, total, sizeof(*lat), cmp);
    printf("%-44s n=%-4d c=%-2d p50=%7.2f  p99=%7.2f  mean=%7.2f  max=%7.2f ms  req/s=%7.1f\n",
           label, total, conc, pct(lat, total, 50), pct(lat, total, 99), sum / total,
           lat[total - 1], total * 1000.0 / wall);
    curl_global_cleanup();
    return 0;
}
