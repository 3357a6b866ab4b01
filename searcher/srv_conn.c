/*
 * srv_conn.c - the server's connections, run by the event loop's thread:
 * accepting (and refusing beyond --max-connections with one overloaded
 * line), reading and cutting request lines, queueing each request in
 * arrival order and handing it to the worker pool, writing responses in
 * request order, and closing: idle, too slow, at stop, or lingering so
 * that a peer still sending receives every response before the close.
 *
 * Each connection keeps its requests in a queue in arrival order and a
 * response leaves only after all those before it, so that responses come
 * back in request order while several requests of one connection may run
 * on different workers at once.  Limits that need no index (line size,
 * requests in flight, idle time) are enforced here; what a response says
 * is srv_protocol.c's.
 *
 * Memory held for answers is bounded twice.  A connection holds its
 * answers until the peer reads them (unsent bytes, and finished answers
 * waiting behind an earlier request); while it holds SRV_WBUF_HIGH or
 * more, nothing more is read from it and none of its requests start, so
 * a client that does not read costs at most that plus the answers of the
 * requests already running.  Over all connections, --max-output bounds
 * what is held: beyond it no request starts anywhere until answers are
 * read, and the connection holding the most that has taken no byte for
 * SRV_STALL_MS is closed.  When the connection table is full, the
 * connection idle the longest (nothing running, nothing to send, idle for
 * SRV_EVICT_IDLE_MS) gives its place to the newcomer.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "srv.h"

/* The answer to an HTTP request whose response could not be built. */
static const char http_oom[] =
    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";

/* Bytes an answer takes in c->out, its newline included (HTTP answers
 * have none). */
static size_t
answer_bytes(const job *j)
{
    if (j->http)
        return j->out.len ? j->out.len
                          : j->streamed ? 0 : sizeof http_oom - 1;
    return (j->out.len ? j->out.len : strlen(srv_oom_line)) + 1;
}

/* Counts bytes of answers c takes (taken) or releases. */
static void
conn_hold(server *s, conn *c, size_t bytes, int taken)
{
    if (taken) {
        c->held += bytes;
        s->held += bytes;
        /* Reading and requests stop everywhere: srv_conn_resume starts
         * them again once answers are read. */
        if (s->held >= s->o.max_output)
            s->held_back = 1;
    } else {
        c->held -= bytes;
        s->held -= bytes;
    }
}

static void
job_free(job *j)
{
    if (!j)
        return;
    if (j->stream)
        srv_http_stream_abort(j);
    free(j->line);
    ndx_buf_free(&j->out);
    free(j);
}

static void
conn_bury(server *s, conn *c)
{
    if (c->buried)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->buried = 1;
    c->prev = NULL;
    c->next = s->graveyard;
    s->graveyard = c;
}

/* 1 when a worker holds one of c's jobs. */
static int
conn_running(const conn *c)
{
    const job *j;

    for (j = c->first; j; j = j->after)
        if (!j->done && !j->parked)
            return 1;
    return 0;
}

/* Closes the socket; the memory goes when no job refers to it. */
static void
conn_close(server *s, conn *c)
{
    job *j;

    if (c->dead)
        return;
    /* A streamed response waiting for its next piece gets none. */
    for (j = c->first; j; j = j->after)
        if (j->parked)
            srv_http_stream_abort(j);
    conn_hold(s, c, c->held, 0);
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->ev.fd, NULL);
    close(c->ev.fd);
    c->ev.fd = -1;
    c->dead = 1;
    if (c->reject)
        s->reject_count--;
    else
        s->conn_count--;
    if (!conn_running(c))
        conn_bury(s, c);
}

void
srv_conn_free(conn *c)
{
    job *j, *next;

    for (j = c->first; j; j = next) {
        next = j->after;
        job_free(j);
    }
    ndx_buf_free(&c->in);
    ndx_buf_free(&c->out);
    free(c);
}

static size_t
conn_unsent(const conn *c)
{
    return c->out.len - c->out_off;
}

static int
conn_can_read(const server *s, const conn *c)
{
    if (c->dead || c->eof)
        return 0;
    if (c->linger)
        return 1;
    if (s->stopping)
        return 0;
    return c->pending < s->depth && c->held < SRV_WBUF_HIGH &&
           s->held < s->o.max_output;
}

/* Sends what it can of c->out; 0, or -1 when the connection broke. */
static int
conn_write(server *s, conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->ev.fd, c->out.data + c->out_off,
                         c->out.len - c->out_off, MSG_NOSIGNAL);

        if (n > 0) {
            c->out_off += (size_t)n;
            c->active_ms = ndx_now_ms();
            conn_hold(s, c, (size_t)n, 0);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        conn_close(s, c);
        return -1;
    }
    c->out.len = c->out_off = 0;
    if (c->out.cap > 4 * SRV_WBUF_HIGH) {
        ndx_buf_free(&c->out);
        ndx_buf_init(&c->out);
    }
    return 0;
}

static void conn_linger(conn *c);

/* Moves the finished responses at the head of the queue to c->out, and
 * the piece made of a streamed response there. */
static void
conn_flush_ready(server *s, conn *c)
{
    while (c->first && (c->first->done || c->first->parked)) {
        job *j = c->first;

        if (!j->done) {
            if (c->dead || !j->out.len)
                break;
            if (ndx_buf_put(&c->out, j->out.data, j->out.len)) {
                conn_close(s, c); /* which ends j */
                continue;
            }
            j->out.len = 0;
            j->streamed = 1;
            break;
        }
        c->first = j->after;
        if (!c->first)
            c->last = NULL;
        if (!c->dead) {
            ndx_status st;

            if (j->out.len)
                st = ndx_buf_put(&c->out, j->out.data, j->out.len);
            else if (j->http && j->streamed)
                st = NDX_OK; /* cut short: the close tells the peer */
            else if (j->http)
                st = ndx_buf_puts(&c->out, http_oom);
            else
                st = ndx_buf_puts(&c->out, srv_oom_line);
            if (!st && !j->http)
                st = ndx_buf_putc(&c->out, '\n');
            if (j->http && !j->out.len)
                j->close_after = 1;
            if (st)
                conn_close(s, c);
            else if (j->close_after)
                conn_linger(c);
            s->requests++;
        }
        job_free(j);
    }
    if (c->dead) {
        if (!conn_running(c))
            conn_bury(s, c);
        return;
    }
    conn_write(s, c);
}

/*
 * Starts closing a connection whose peer may still be sending: closing a
 * socket with unread input makes the kernel reset the connection and drop
 * the responses not yet delivered, so the server first sends everything,
 * shuts its sending side and reads until the peer closes (or time is up).
 */
static void
conn_linger(conn *c)
{
    if (c->linger)
        return;
    c->linger = 1;
    c->linger_ms = ndx_now_ms();
    c->in_off = c->in.len;
}

/*
 * Hands a streamed response at the head of c's queue to the workers for
 * its next piece once the peer has read most of the last one: a client
 * that reads slowly gets the pieces as slowly, and no more than about
 * SRV_STREAM_LOW plus a piece waits for it.  On stop, the response is cut
 * short instead.
 */
static void
conn_stream_on(server *s, conn *c)
{
    job *j = c->first;

    if (c->dead || !j || !j->parked || j->out.len)
        return;
    if (s->stopping) {
        srv_http_stream_abort(j);
        conn_flush_ready(s, c);
        return;
    }
    if (conn_unsent(c) >= SRV_STREAM_LOW || s->held >= s->o.max_output)
        return; /* conn_write's progress or srv_conn_resume come back */
    j->parked = 0;
    c->pending++;
    s->inflight++;
    srv_pool_submit(s, j);
}

/* Closes when nothing is left to do, else sets the epoll interest. */
static void
conn_settle(server *s, conn *c)
{
    struct epoll_event ev;
    unsigned want = 0;

    conn_stream_on(s, c);
    if (c->dead)
        return;
    if (!c->first && !conn_unsent(c)) {
        if (c->eof) {
            conn_close(s, c);
            return;
        }
        if (s->stopping)
            conn_linger(c);
    }
    if (c->linger && !conn_unsent(c) && !c->shut) {
        shutdown(c->ev.fd, SHUT_WR);
        c->shut = 1;
    }
    if (conn_can_read(s, c))
        want |= EPOLLIN;
    if (conn_unsent(c))
        want |= EPOLLOUT;
    if (want != c->events) {
        memset(&ev, 0, sizeof ev);
        ev.events = want;
        ev.data.ptr = &c->ev;
        if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->ev.fd, &ev) == 0)
            c->events = want;
        else
            conn_close(s, c);
    }
}

/* Queues a response that needs no worker. */
static void
conn_answer_now(server *s, conn *c, job *j)
{
    conn_hold(s, c, answer_bytes(j), 1);
    j->done = 1;
    if (c->last)
        c->last->after = j;
    else
        c->first = j;
    c->last = j;
}

/* Queues j with a copy of its request for the workers; -1 when out of
 * memory (then c is closed and j freed). */
static int
conn_submit(server *s, conn *c, job *j, const char *req, size_t len)
{
    j->line = malloc(len ? len : 1);
    if (!j->line) {
        job_free(j);
        conn_close(s, c);
        return -1;
    }
    memcpy(j->line, req, len);
    j->line_len = len;
    if (c->last)
        c->last->after = j;
    else
        c->first = j;
    c->last = j;
    c->pending++;
    s->inflight++;
    srv_pool_submit(s, j);
    return 0;
}

/* Takes one complete request line (without its "\n"). */
static void
conn_take_line(server *s, conn *c, const char *line, size_t len)
{
    size_t full = len;
    job *j;

    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
                   line[len - 1] == '\t'))
        len--;
    while (len && (line[0] == ' ' || line[0] == '\t')) {
        line++;
        len--;
    }
    if (!len)
        return;
    j = calloc(1, sizeof *j);
    if (!j) {
        conn_close(s, c);
        return;
    }
    ndx_buf_init(&j->out);
    j->c = c;
    if (full > s->o.max_request) {
        srv_protocol_too_large(s, j);
        conn_answer_now(s, c, j);
        return;
    }
    if (s->inflight >= s->o.max_inflight) {
        srv_protocol_overloaded(s, j, line, len);
        conn_answer_now(s, c, j);
        return;
    }
    conn_submit(s, c, j, line, len);
}

/* Drops what was read and not yet taken. */
static void
conn_drop_input(conn *c)
{
    c->in_off = c->scan_off = c->in.len;
}

/*
 * Takes one HTTP request from what c has read, when it is all there (the
 * head, and the body that Content-Length announces, which no route reads
 * and which is skipped).  1: taken, look for the next; 0: wait for more
 * bytes, or stop (after a response that closes the connection).
 */
static int
conn_take_http(server *s, conn *c)
{
    const char *p = (const char *)c->in.data + c->in_off, *why = NULL;
    size_t avail = c->in.len - c->in_off;
    http_req r;
    int status = 0, rc;
    job *j;

    if (c->last && c->last->close_after) {
        conn_drop_input(c);
        return 0;
    }
    rc = http_parse(p, avail, s->o.max_request, &r, &status, &why);
    if (rc == HTTP_MORE || (rc == HTTP_DONE && r.content_length <=
                                                   s->o.max_request &&
                            avail < r.head_len + r.content_length)) {
        if (!c->partial_ms)
            c->partial_ms = ndx_now_ms();
        if (c->eof)
            conn_drop_input(c); /* a request cut short by the peer */
        return 0;
    }
    j = calloc(1, sizeof *j);
    if (!j) {
        conn_close(s, c);
        return 0;
    }
    ndx_buf_init(&j->out);
    j->c = c;
    j->http = 1;
    c->partial_ms = 0;
    if (rc == HTTP_BAD || r.content_length > s->o.max_request) {
        if (rc == HTTP_BAD)
            srv_http_error(j, status,
                           status == 414 || status == 431 ? "too_large"
                                                          : "invalid",
                           why);
        else
            srv_http_error(j, 413, "too_large",
                           "request body longer than --max-request");
        conn_answer_now(s, c, j);
        conn_drop_input(c);
        return 0;
    }
    c->in_off += r.head_len + (size_t)r.content_length;
    c->scan_off = c->in_off;
    if (s->inflight >= s->o.max_inflight) {
        srv_http_error(j, 503, "overloaded",
                       "too many requests queued or running "
                       "(--max-inflight); retry shortly");
        conn_answer_now(s, c, j);
        return 1;
    }
    j->close_after = !r.keep_alive;
    return conn_submit(s, c, j, p, r.head_len) == 0;
}

/* Cuts what was read into request lines while the connection may have
 * more requests running, then sends what is ready. */
static void
conn_process(server *s, conn *c)
{
    while (!c->dead && !c->linger && !s->stopping &&
           c->pending < s->depth && c->held < SRV_WBUF_HIGH) {
        size_t avail = c->in.len - c->in_off, len;
        char *p = (char *)c->in.data + c->in_off, *nl;

        if (!avail)
            break;
        /* The answer budget is spent: this line waits, unparsed, until
         * answers are read (srv_conn_resume). */
        if (s->held >= s->o.max_output) {
            s->held_back = 1;
            break;
        }
        if (c->http) {
            if (conn_take_http(s, c))
                continue;
            break;
        }
        nl = memchr((char *)c->in.data + c->scan_off, '\n',
                    c->in.len - c->scan_off);
        if (!nl) {
            c->scan_off = c->in.len;
            if (!c->partial_ms)
                c->partial_ms = ndx_now_ms();
            if (c->discarding) {
                c->in_off = c->in.len;
            } else if (avail > s->o.max_request) {
                job *j = calloc(1, sizeof *j);

                if (!j) {
                    conn_close(s, c);
                    return;
                }
                ndx_buf_init(&j->out);
                j->c = c;
                srv_protocol_too_large(s, j);
                conn_answer_now(s, c, j);
                c->discarding = 1;
                c->in_off = c->in.len;
            } else if (c->eof) {
                c->in_off = c->in.len;
                conn_take_line(s, c, p, avail);
            }
            break;
        }
        len = (size_t)(nl - p);
        c->in_off += len + 1;
        c->scan_off = c->in_off;
        c->partial_ms = 0;
        if (c->discarding) {
            c->discarding = 0;
            continue;
        }
        conn_take_line(s, c, p, len);
    }
    if (c->dead)
        return;
    if (c->in_off == c->in.len) {
        c->in.len = c->in_off = c->scan_off = 0;
        if (c->in.cap > 4 * SRV_READ_CHUNK &&
            c->in.cap > 2 * s->o.max_request) {
            ndx_buf_free(&c->in);
            ndx_buf_init(&c->in);
        }
    } else if (c->in_off >= SRV_READ_CHUNK) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->scan_off -= c->in_off;
        c->in_off = 0;
    }
    conn_flush_ready(s, c);
}

static void
conn_read(server *s, conn *c)
{
    int i;

    for (i = 0; i < 4 && conn_can_read(s, c); i++) {
        ssize_t n;

        if (ndx_buf_reserve(&c->in, SRV_READ_CHUNK)) {
            conn_close(s, c);
            return;
        }
        n = recv(c->ev.fd, c->in.data + c->in.len, SRV_READ_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            conn_close(s, c);
            return;
        }
        if (n == 0) {
            c->eof = 1;
        } else if (c->linger) {
            continue;
        } else {
            c->active_ms = ndx_now_ms();
            c->in.len += (size_t)n;
        }
        conn_process(s, c);
    }
}

static conn *
conn_new(server *s, int fd, int tcp, int reject)
{
    struct epoll_event ev;
    conn *c = calloc(1, sizeof *c);
    int one = 1;

    if (!c) {
        close(fd);
        return NULL;
    }
    c->ev.kind = EV_CONN;
    c->ev.fd = fd;
    c->tcp = tcp;
    c->reject = reject;
    if (reject)
        conn_linger(c);
    c->active_ms = ndx_now_ms();
    ndx_buf_init(&c->in);
    ndx_buf_init(&c->out);
    if (tcp)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = &c->ev;
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        free(c);
        return NULL;
    }
    c->events = EPOLLIN;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    if (reject)
        s->reject_count++;
    else
        s->conn_count++;
    return c;
}

/* Answers a connection over the limit with one overloaded line (over
 * HTTP, a 503 response with it as the body). */
static void
conn_refuse(server *s, int fd, int tcp, int http)
{
    char line[512], body[256];
    conn *c;
    int n;

    n = snprintf(body, sizeof body,
                 "{\"id\":null,\"ok\":false,\"error\":{\"code\":"
                 "\"overloaded\",\"message\":\"too many connections (%zu, "
                 "--max-connections); retry shortly\"}}",
                 s->o.max_connections);
    if (http)
        n = snprintf(line, sizeof line,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                     "application/json\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n%s",
                     n, body);
    else
        n = snprintf(line, sizeof line, "%s\n", body);
    if (s->reject_count >= SRV_REJECT_MAX) {
        if (send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            errno = 0;
        close(fd);
        return;
    }
    c = conn_new(s, fd, tcp, 1);
    if (!c)
        return;
    if (ndx_buf_put(&c->out, line, (size_t)n)) {
        conn_close(s, c);
        return;
    }
    conn_hold(s, c, (size_t)n, 1);
    if (conn_write(s, c) == 0)
        conn_settle(s, c);
}

/* Closes the connection idle the longest (nothing running, nothing to
 * send, no line begun, idle for SRV_EVICT_IDLE_MS at least) to make room
 * for a new one: idle connections cannot keep everyone else out.  1 if
 * one was closed. */
static int
conn_evict_idle(server *s)
{
    double now = ndx_now_ms();
    conn *c, *best = NULL;

    for (c = s->conns; c; c = c->next) {
        if (c->dead || c->reject || c->linger || c->pending || c->first ||
            conn_unsent(c) || c->partial_ms ||
            now - c->active_ms < SRV_EVICT_IDLE_MS)
            continue;
        if (!best || c->active_ms < best->active_ms)
            best = c;
    }
    if (!best)
        return 0;
    conn_close(s, best);
    return 1;
}

void
srv_conn_accept(server *s, listener *l)
{
    conn *c;
    int i;

    for (i = 0; i < 64; i++) {
        int fd = accept4(l->ev.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && s->spare_fd >= 0) {
                /* Out of descriptors: free the spare one to take the
                 * waiting peer off the queue and tell it why. */
                close(s->spare_fd);
                fd = accept4(l->ev.fd, NULL, NULL,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd >= 0) {
                    static const char line[] =
                        "{\"id\":null,\"ok\":false,\"error\":{\"code\":"
                        "\"overloaded\",\"message\":\"the server is out of "
                        "file descriptors; retry shortly\"}}\n";

                    if (send(fd, line, sizeof line - 1,
                             MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                        errno = 0;
                    close(fd);
                }
                s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            }
            break;
        }
        if (s->conn_count >= s->o.max_connections && !conn_evict_idle(s)) {
            conn_refuse(s, fd, l->tcp, l->http);
            continue;
        }
        if ((c = conn_new(s, fd, l->tcp, 0)) != NULL)
            c->http = l->http;
    }
}

void
srv_conn_job_done(server *s, job *j)
{
    conn *c = j->c;

    if (!j->more)
        j->done = 1;
    else if (c->dead)
        srv_http_stream_abort(j);
    else
        j->parked = 1;
    c->pending--;
    s->inflight--;
    if (!c->dead)
        conn_hold(s, c, answer_bytes(j), 1);
    if (c->dead) {
        conn_flush_ready(s, c);
        return;
    }
    conn_process(s, c);
    conn_settle(s, c);
}

void
srv_conn_event(server *s, conn *c, unsigned events)
{
    if (c->dead)
        return;
    /* Hang-up or error: the peer can no longer read what we would send
     * (a peer that only shut its sending side gives EPOLLIN and EOF). */
    if (events & (EPOLLERR | EPOLLHUP)) {
        conn_close(s, c);
        return;
    }
    if ((events & EPOLLOUT) && conn_write(s, c))
        return;
    if (events & EPOLLIN)
        conn_read(s, c);
    /* Answers sent may have made room for lines already read. */
    if (!c->dead && c->in_off < c->in.len)
        conn_process(s, c);
    conn_settle(s, c);
}

void
srv_conn_resume(server *s)
{
    conn *c, *next;

    if (!s->held_back || s->held >= s->o.max_output)
        return;
    s->held_back = 0;
    for (c = s->conns; c; c = next) {
        next = c->next;
        if (c->dead)
            continue;
        conn_process(s, c);
        conn_settle(s, c);
    }
}

/* While the answer budget is spent, closes the connections holding the
 * most that have taken no byte for SRV_STALL_MS: they would hold it
 * until the idle timeout while every other client waits. */
static void
conn_evict_stalled(server *s, double now)
{
    while (s->held >= s->o.max_output) {
        conn *c, *worst = NULL;

        for (c = s->conns; c; c = c->next)
            if (!c->dead && c->held && now - c->active_ms >= SRV_STALL_MS &&
                (!worst || c->held > worst->held))
                worst = c;
        if (!worst)
            return;
        srv_say(s, "closing a connection that read none of its %zu bytes "
                "of answers for %.0f ms while --max-output (%zu) is spent",
                worst->held, now - worst->active_ms, s->o.max_output);
        conn_close(s, worst);
    }
}

void
srv_conn_sweep(server *s, double now)
{
    conn *c, *next;

    conn_evict_stalled(s, now);

    for (c = s->conns; c; c = next) {
        next = c->next;
        if (c->dead)
            continue;
        if (c->linger) {
            if (now - c->linger_ms > SRV_LINGER_MS)
                conn_close(s, c);
        } else if (s->stopping && now > s->stop_deadline) {
            conn_close(s, c);
        } else if (s->o.idle_ms > 0 &&
                   ((!c->pending && now - c->active_ms > s->o.idle_ms) ||
                    (c->partial_ms && now - c->partial_ms > s->o.idle_ms))) {
            /* Idle, or a line that has been arriving for longer than
             * the idle time: a client sending a byte now and then does
             * not hold its place forever. */
            conn_close(s, c);
        }
    }
}

void
srv_conn_stop(server *s, conn *c)
{
    if (c->dead)
        return;
    c->in_off = c->in.len;
    conn_settle(s, c);
}
