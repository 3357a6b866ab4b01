/*
 * server.c - the query socket of `newsdex-search --listen`:
 * newline-delimited JSON over TCP or a Unix socket (DESIGN section 8; the
 * whole protocol is in the README, "Query socket").
 *
 * This file holds the event loop and the server's start and stop.  One
 * event-loop thread (epoll) waits on the listeners, the connections
 * (srv_conn.c), the workers' wake-up (srv_pool.c) and a self-pipe for
 * SIGTERM and SIGINT (stop) and SIGHUP (look for a new commit now, as
 * the refresher does every --refresh-ms); a pool of worker threads runs
 * the requests
 * (srv_protocol.c).  srv.h lists the parts.
 *
 * Left to others: the query language and the search (core), the JSON of
 * hits, articles, stats and errors (render.c), the one-shot command line
 * (main.c).  Nothing here can change the index.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "srv.h"

static int sig_pipe_wr = -1;

/* ---- messages ------------------------------------------------------------ */

/* One line on standard error: "newsdex-search: " and the message. */
static void
say_line(const char *fmt, va_list ap)
{
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void
srv_say(const server *s, const char *fmt, ...)
{
    va_list ap;

    if (s && s->o.quiet)
        return;
    va_start(ap, fmt);
    say_line(fmt, ap);
    va_end(ap);
}

void
srv_complain(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say_line(fmt, ap);
    va_end(ap);
}

/* ---- the event loop ------------------------------------------------------ */

/* Takes the finished jobs from the workers. */
static void
on_wake(server *s)
{
    uint64_t n;
    job *j, *next;

    if (read(s->wake.fd, &n, sizeof n) < 0 && errno != EAGAIN)
        srv_complain("event loop wake-up: %s", strerror(errno));
    for (j = srv_pool_take_done(s); j; j = next) {
        next = j->next;
        srv_conn_job_done(s, j);
    }
}

static void
begin_stop(server *s)
{
    conn *c, *next;
    size_t i;

    s->stopping = 1;
    s->stop_deadline = ndx_now_ms() + SRV_STOP_GRACE_MS;
    for (i = 0; i < s->lis_count; i++)
        srv_listener_close(&s->lis[i]);
    srv_say(s, "stopping: answering %zu request%s in flight", s->inflight,
        s->inflight == 1 ? "" : "s");
    for (c = s->conns; c; c = next) {
        next = c->next;
        srv_conn_stop(s, c);
    }
}

static void
on_signal(int sig)
{
    int saved = errno;
    char b = (char)sig;

    if (sig_pipe_wr >= 0 && write(sig_pipe_wr, &b, 1) < 0)
        errno = saved;
    errno = saved;
}

static void
run_loop(server *s)
{
    struct epoll_event evs[SRV_EVENTS];
    double next_tick = ndx_now_ms() + SRV_TICK_MS;

    while (!s->stopping || s->conns) {
        double now;
        int n, i, wait_ms;

        now = ndx_now_ms();
        wait_ms = next_tick > now ? (int)(next_tick - now) + 1 : 0;
        n = epoll_wait(s->ep, evs, SRV_EVENTS, wait_ms);
        if (n < 0 && errno != EINTR) {
            srv_complain("epoll_wait: %s", strerror(errno));
            break;
        }
        for (i = 0; i < n; i++) {
            ev_src *e = evs[i].data.ptr;

            switch (e->kind) {
            case EV_LISTEN:
                break;
            case EV_WAKE:
                on_wake(s);
                break;
            case EV_SIGNAL: {
                char b[16];
                ssize_t got = read(e->fd, b, sizeof b), k;

                for (k = 0; k < got; k++) {
                    if (b[k] == SIGHUP) {
                        srv_say(s, "SIGHUP: looking for a new commit");
                        srv_pool_reload(s);
                    } else if (!s->stopping) {
                        begin_stop(s);
                    } else {
                        /* A second signal: stop waiting for slow
                         * readers. */
                        s->stop_deadline = 0;
                        next_tick = 0;
                    }
                }
                break;
            }
            case EV_CONN:
                srv_conn_event(s, (conn *)e, evs[i].events);
                break;
            }
        }
        /* New connections last, after the hang-ups of this turn have
         * freed their places. */
        for (i = 0; i < n; i++) {
            ev_src *e = evs[i].data.ptr;

            if (e->kind == EV_LISTEN && !s->stopping && e->fd >= 0)
                srv_conn_accept(s, (listener *)e);
        }
        now = ndx_now_ms();
        if (now >= next_tick) {
            srv_conn_sweep(s, now);
            next_tick = now + SRV_TICK_MS;
        }
        srv_conn_resume(s);
        while (s->graveyard) {
            conn *c = s->graveyard;

            s->graveyard = c->next;
            srv_conn_free(c);
        }
    }
}

/* ---- start and stop ------------------------------------------------------ */

static void
raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > 1048576 ? 1048576 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int
setup_events(server *s)
{
    struct epoll_event ev;
    int sp[2];
    size_t i;

    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->wake.kind = EV_WAKE;
    s->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->sig.kind = EV_SIGNAL;
    s->sig.fd = -1;
    if (s->ep < 0 || s->wake.fd < 0 || pipe2(sp, O_NONBLOCK | O_CLOEXEC)) {
        srv_complain("cannot set up the event loop: %s", strerror(errno));
        return -1;
    }
    s->sig.fd = sp[0];
    sig_pipe_wr = sp[1];
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = &s->wake;
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake.fd, &ev) != 0) {
        srv_complain("cannot watch the workers' wake-up: %s",
                     strerror(errno));
        return -1;
    }
    ev.data.ptr = &s->sig;
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sig.fd, &ev) != 0) {
        srv_complain("cannot watch for signals: %s", strerror(errno));
        return -1;
    }
    for (i = 0; i < s->lis_count; i++) {
        ev.data.ptr = &s->lis[i].ev;
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lis[i].ev.fd, &ev)) {
            srv_complain("cannot watch %s: %s", s->lis[i].name,
                         strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void
server_free(server *s)
{
    size_t i;

    for (i = 0; i < s->lis_count; i++)
        srv_listener_close(&s->lis[i]);
    while (s->conns) {
        conn *c = s->conns;

        s->conns = c->next;
        if (!c->dead)
            close(c->ev.fd);
        srv_conn_free(c);
    }
    while (s->graveyard) {
        conn *c = s->graveyard;

        s->graveyard = c->next;
        srv_conn_free(c);
    }
    srv_pool_free(s);
    if (sig_pipe_wr >= 0) {
        close(sig_pipe_wr);
        sig_pipe_wr = -1;
    }
    if (s->sig.fd >= 0)
        close(s->sig.fd);
    if (s->wake.fd >= 0)
        close(s->wake.fd);
    if (s->ep >= 0)
        close(s->ep);
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    pthread_mutex_destroy(&s->q_lock);
    pthread_cond_destroy(&s->q_cond);
    pthread_mutex_destroy(&s->done_lock);
    pthread_mutex_destroy(&s->rf_lock);
    pthread_cond_destroy(&s->rf_cond);
    free(s);
}

int
server_main(int argc, char **argv)
{
    srv_addr addrs[SRV_MAX_LISTEN];
    struct sigaction sa;
    server *s = calloc(1, sizeof *s);
    int rc = 1;
    size_t i;

    if (!s) {
        srv_complain("out of memory");
        return 1;
    }
    s->ep = s->wake.fd = s->sig.fd = s->spare_fd = -1;
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_cond_init(&s->q_cond, NULL);
    pthread_mutex_init(&s->done_lock, NULL);
    pthread_mutex_init(&s->rf_lock, NULL);
    pthread_cond_init(&s->rf_cond, NULL);
    atomic_init(&s->commits, 0);
    rc = srv_options_parse(&s->o, argc, argv);
    if (rc >= 0)
        goto out;
    rc = 2;
    for (i = 0; i < s->o.listen_count; i++) {
        if (srv_addr_parse(s->o.listen[i], &addrs[i]))
            goto out;
    }
    rc = 1;
    s->depth = s->o.max_inflight < SRV_PIPELINE ? s->o.max_inflight
                                                : SRV_PIPELINE;
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    if (srv_pool_open(s))
        goto out;
    for (i = 0; i < s->o.listen_count; i++) {
        listener *l = &s->lis[s->lis_count];

        if (srv_listen(l, &addrs[i]))
            goto out;
        s->lis_count++;
    }
    if (setup_events(s))
        goto out;
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (srv_pool_start(s))
        goto out;
    for (i = 0; i < s->lis_count; i++)
        srv_say(s, "listening on %s", s->lis[i].name);
    srv_say(s, "serving %s (%s engine) with %u thread%s", s->o.index_path,
        srv_pool_engine(s), s->o.threads,
        s->o.threads == 1 ? "" : "s");
    fflush(stderr);
    run_loop(s);
    srv_say(s, "stopped after %llu request%s", (unsigned long long)s->requests,
        s->requests == 1 ? "" : "s");
    rc = 0;
out:
    if (s->worker_count || s->refresher_started)
        srv_pool_stop(s);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    server_free(s);
    return rc;
}
