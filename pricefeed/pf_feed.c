#include "pf_feed.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *pf_role_name(pf_role_t r)
{
    switch (r) {
    case PF_ROLE_STARTING:
        return "starting";
    case PF_ROLE_STANDBY:
        return "standby";
    case PF_ROLE_ACTIVE:
        return "active";
    case PF_ROLE_RECOVERING:
        return "recovering";
    case PF_ROLE_STOPPING:
        return "stopping";
    }
    return "?";
}

int64_t pf_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *pf_xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static void pf_strlist_reserve(pf_strlist_t *l, int n)
{
    int cap = l->cap ? l->cap : 16;
    char **v;

    if (n <= l->cap) {
        return;
    }
    while (cap < n) cap *= 2;
    v = realloc(l->v, (size_t)cap * sizeof(*v));
    if (!v) abort();
    l->v = v;
    l->cap = cap;
}

void pf_strlist_push(pf_strlist_t *l, const char *s)
{
    pf_strlist_reserve(l, l->n + 1);
    l->v[l->n++] = pf_xstrdup(s);
}

void pf_strlist_clear(pf_strlist_t *l)
{
    int i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    l->n = 0;
}

void pf_strlist_take(pf_strlist_t *dst, pf_strlist_t *src)
{
    if (!src->n) {
        return;
    }
    pf_strlist_reserve(dst, dst->n + src->n);
    memcpy(dst->v + dst->n, src->v, (size_t)src->n * sizeof(*src->v));
    dst->n += src->n;
    src->n = 0;
}

void pf_job_free(pf_job_t *j)
{
    if (!j) return;
    free(j->condition_id);
    free(j->question);
    free(j->slug);
    free(j->json);
    free(j->winner);
    free(j);
}

void pf_feed_push_job_locked(pf_feed_t *f, pf_job_t *j)
{
    j->next = NULL;
    if (f->jobs_tail) f->jobs_tail->next = j;
    else f->jobs_head = j;
    f->jobs_tail = j;
    pthread_cond_signal(&f->wake_writer);
}

void pf_verify_free(pf_verify_t *v)
{
    if (!v) return;
    pf_strlist_clear(&v->tokens);
    free(v->tokens.v);
    free(v);
}
