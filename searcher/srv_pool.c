/*
 * srv_pool.c - the server's index and the threads that use it: a pool of
 * workers that run request lines (srv_protocol.c) taken from one queue,
 * and a refresher that moves to new commits.
 *
 * When the engine allows concurrent searches (ndx_index_thread_safe),
 * every worker shares one open index, and the refresher calls
 * ndx_index_refresh on it every --refresh-ms: the engine swaps in the new
 * commit for the searches that start from then on while running ones
 * finish on the commit they began with (the native engine's views).  When
 * it does not, each worker opens its own index; the refresher watches a
 * private probe index and each worker refreshes its own between two
 * requests once the probe has seen a commit.
 *
 * Each finished job goes on the done queue and the event loop is woken
 * through s->wake; connections are srv_conn.c's.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "srv.h"

typedef struct worker_arg {
    server *s;
    size_t n;
} worker_arg;

static void
queue_push(job **head, job **tail, job *j)
{
    /* A streamed response's job goes back to the workers while the event
     * loop walks the done list through ->next: cut it from that list. */
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* The index worker w uses for its next request. */
static ndx_index *
index_for(server *s, size_t w)
{
    uint_fast64_t seen;

    if (s->ix)
        return s->ix;
    seen = atomic_load(&s->commits);
    if (seen != s->own_seen[w]) {
        if (ndx_index_refresh(s->own[w]) >= 0)
            s->own_seen[w] = seen;
        else
            srv_complain("cannot move to the new commit yet: %s",
                         ndx_errmsg());
    }
    return s->own[w];
}

static void *
worker_main(void *arg)
{
    worker_arg *wa = arg;
    server *s = wa->s;
    size_t w = wa->n;
    uint64_t one = 1;

    free(wa);
    for (;;) {
        job *j;

        pthread_mutex_lock(&s->q_lock);
        while (!s->q_head && !s->q_stop)
            pthread_cond_wait(&s->q_cond, &s->q_lock);
        j = s->q_head;
        if (j) {
            s->q_head = j->next;
            if (!s->q_head)
                s->q_tail = NULL;
        }
        pthread_mutex_unlock(&s->q_lock);
        if (!j)
            break;
        j->next = NULL;
        srv_protocol_run(s, index_for(s, w), j);
        pthread_mutex_lock(&s->done_lock);
        queue_push(&s->done_head, &s->done_tail, j);
        pthread_mutex_unlock(&s->done_lock);
        if (write(s->wake.fd, &one, sizeof one) < 0 && errno != EAGAIN)
            srv_complain("cannot wake the event loop: %s", strerror(errno));
    }
    return NULL;
}

static void
say_new_commit(const server *s)
{
    ndx_stats st;

    if (s->o.quiet)
        return;
    memset(&st, 0, sizeof st);
    if (ndx_index_stats(s->ix, &st) == NDX_OK)
        srv_say(s, "serving a new commit: generation %llu, %llu articles",
                (unsigned long long)st.generation,
                (unsigned long long)st.articles);
    ndx_stats_clear(&st);
}

static void *
refresher_main(void *arg)
{
    server *s = arg;
    int failing = 0;

    pthread_mutex_lock(&s->rf_lock);
    while (!s->rf_stop) {
        struct timespec ts;
        long long ns;
        int r;

        clock_gettime(CLOCK_REALTIME, &ts);
        ns = (long long)ts.tv_nsec + (long long)(s->o.refresh_ms * 1e6);
        ts.tv_sec += (time_t)(ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
        pthread_cond_timedwait(&s->rf_cond, &s->rf_lock, &ts);
        if (s->rf_stop)
            break;
        pthread_mutex_unlock(&s->rf_lock);
        r = ndx_index_refresh(s->ix ? s->ix : s->probe);
        if (r < 0 && !failing)
            srv_complain("cannot look for new commits in %s: %s",
                         s->o.index_path, ndx_errmsg());
        failing = r < 0;
        if (r > 0 && s->ix) {
            say_new_commit(s);
        } else if (r > 0) {
            atomic_fetch_add(&s->commits, 1);
            srv_say(s, "a new commit appeared; each worker moves to it "
                    "before its next request");
        }
        pthread_mutex_lock(&s->rf_lock);
    }
    pthread_mutex_unlock(&s->rf_lock);
    return NULL;
}

int
srv_pool_open(server *s)
{
    ndx_index *first = NULL;
    unsigned i;

    ndx_engine_config_init(&s->cfg);
    s->cfg.remotes = s->o.shard_count ? s->o.shards : NULL;
    s->cfg.remote_count = s->o.shard_count;
    s->cfg.allow_partial = s->o.allow_partial;
    if (ndx_index_open(&first, s->o.index_path, NDX_OPEN_READ, s->o.engine,
                       &s->cfg)) {
        srv_complain("cannot open the index %s: %s", s->o.index_path,
                     ndx_errmsg());
        return -1;
    }
    if (ndx_index_thread_safe(first)) {
        s->ix = first;
        return 0;
    }
    s->own = calloc(s->o.threads, sizeof *s->own);
    s->own_seen = calloc(s->o.threads, sizeof *s->own_seen);
    if (!s->own || !s->own_seen) {
        ndx_index_close(first);
        srv_complain("out of memory");
        return -1;
    }
    s->own[0] = first;
    for (i = 1; i < s->o.threads; i++) {
        if (ndx_index_open(&s->own[i], s->o.index_path, NDX_OPEN_READ,
                           s->o.engine, &s->cfg)) {
            srv_complain("cannot open the index %s for worker %u: %s",
                         s->o.index_path, i + 1, ndx_errmsg());
            return -1;
        }
    }
    if (s->o.refresh_ms > 0 &&
        ndx_index_open(&s->probe, s->o.index_path, NDX_OPEN_READ,
                       s->o.engine, &s->cfg)) {
        srv_complain("cannot open the index %s: %s", s->o.index_path,
                     ndx_errmsg());
        return -1;
    }
    return 0;
}

int
srv_pool_start(server *s)
{
    sigset_t block, old;
    unsigned i;
    int rc = 0;

    s->workers = calloc(s->o.threads, sizeof *s->workers);
    if (!s->workers) {
        srv_complain("out of memory");
        return -1;
    }
    /* Signals go to the event loop's thread, not to the workers. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (i = 0; i < s->o.threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);

        if (!wa) {
            rc = ENOMEM;
            break;
        }
        wa->s = s;
        wa->n = i;
        rc = pthread_create(&s->workers[i], NULL, worker_main, wa);
        if (rc) {
            free(wa);
            break;
        }
        s->worker_count++;
    }
    if (!rc && s->o.refresh_ms > 0) {
        rc = pthread_create(&s->refresher, NULL, refresher_main, s);
        s->refresher_started = rc == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        srv_complain("cannot start threads: %s", strerror(rc));
        return -1;
    }
    return 0;
}

void
srv_pool_reload(server *s)
{
    int r;

    if (s->refresher_started) {
        pthread_mutex_lock(&s->rf_lock);
        pthread_cond_signal(&s->rf_cond);
        pthread_mutex_unlock(&s->rf_lock);
        return;
    }
    /* No refresher (--refresh-ms 0): here, in the event loop. */
    if (!s->ix) {
        atomic_fetch_add(&s->commits, 1);
        return;
    }
    r = ndx_index_refresh(s->ix);
    if (r < 0)
        srv_complain("cannot look for new commits in %s: %s",
                     s->o.index_path, ndx_errmsg());
    else if (r > 0)
        say_new_commit(s);
}

void
srv_pool_submit(server *s, job *j)
{
    pthread_mutex_lock(&s->q_lock);
    queue_push(&s->q_head, &s->q_tail, j);
    pthread_cond_signal(&s->q_cond);
    pthread_mutex_unlock(&s->q_lock);
}

job *
srv_pool_take_done(server *s)
{
    job *j;

    pthread_mutex_lock(&s->done_lock);
    j = s->done_head;
    s->done_head = s->done_tail = NULL;
    pthread_mutex_unlock(&s->done_lock);
    return j;
}

void
srv_pool_stop(server *s)
{
    size_t i;

    pthread_mutex_lock(&s->q_lock);
    s->q_stop = 1;
    pthread_cond_broadcast(&s->q_cond);
    pthread_mutex_unlock(&s->q_lock);
    for (i = 0; i < s->worker_count; i++)
        pthread_join(s->workers[i], NULL);
    if (s->refresher_started) {
        pthread_mutex_lock(&s->rf_lock);
        s->rf_stop = 1;
        pthread_cond_signal(&s->rf_cond);
        pthread_mutex_unlock(&s->rf_lock);
        pthread_join(s->refresher, NULL);
    }
}

void
srv_pool_free(server *s)
{
    size_t i;

    ndx_index_close(s->ix);
    if (s->own)
        for (i = 0; i < s->o.threads; i++)
            ndx_index_close(s->own[i]);
    free(s->own);
    free(s->own_seen);
    ndx_index_close(s->probe);
    free(s->workers);
}

const char *
srv_pool_engine(const server *s)
{
    return ndx_index_engine(s->ix ? s->ix : s->own[0]);
}
