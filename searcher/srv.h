/*
 * srv.h - the parts of the query socket server and what they share.
 *
 * The server (`newsdex-search --listen`, server.h) is split by job:
 *   srv_options.c   the command line (getopt_long) and --help
 *   srv_listen.c    listening addresses: parse, bind, close
 *   srv_protocol.c  one request line in, one response line out (jansson
 *                   and render.c); the only part that knows the protocol
 *   srv_pool.c      the open index, the worker threads that run requests
 *                   and the refresher that moves to new commits
 *   srv_conn.c      connections: reading lines, queueing requests in
 *                   arrival order, writing responses, limits, closing
 *   server.c        the event loop, start and stop, messages
 * Only the event-loop thread touches listeners and connections; workers
 * see a job's line and response and nothing else of its connection.
 */
#ifndef NDX_SEARCHER_SRV_H
#define NDX_SEARCHER_SRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include <jansson.h>

#include "newsdex/newsdex.h"
#include "util/buf.h"

#define PROG "newsdex-search"

#define SRV_MAX_LISTEN 8
#define SRV_MAX_SHARDS 64
#define SRV_MAX_THREADS 256
#define SRV_MAX_K 1000            /* hits in one response */
#define SRV_MAX_OFFSET 100000     /* hits skipped */
#define SRV_MAX_SNIPPET 4096      /* bytes of snippet */
#define SRV_PIPELINE 16           /* requests of one connection at once */
#define SRV_READ_CHUNK 65536      /* bytes per read */
#define SRV_WBUF_HIGH (1u << 20)  /* answers held for one connection that
                                     pause its reading and its requests */
#define SRV_STREAM_LOW (256u << 10) /* a streamed response's next piece
                                     is made once fewer of its bytes than
                                     this wait to be sent */
#define SRV_MAX_OUTPUT_DEFAULT ((size_t)256 << 20) /* --max-output */
#define SRV_MAX_REQUEST_MAX (1u << 20) /* --max-request at most: each
                                     connection may buffer this much */
#define SRV_STALL_MS 1000.0       /* a connection that took no byte for
                                     this long while the server's answer
                                     budget is spent may be closed */
#define SRV_EVICT_IDLE_MS 1000.0  /* an idle connection may give its
                                     place to a new one after this long */
#define SRV_REJECT_MAX 64         /* refused connections held at once */
#define SRV_LINGER_MS 2000.0      /* time a closing peer has to read */
#define SRV_STOP_GRACE_MS 10000.0 /* on stop, time to deliver answers */
#define SRV_TICK_MS 250           /* idle checks */
#define SRV_EVENTS 128

typedef struct srv_opts {
    const char *index_path;
    const char *engine;                  /* NULL: detect */
    const char *listen[SRV_MAX_LISTEN];
    size_t listen_count;
    unsigned threads;
    size_t max_request;                  /* bytes of one line */
    size_t max_connections;
    size_t max_inflight;                 /* requests queued or running */
    size_t max_output;                   /* bytes of answers held, all
                                            connections */
    double timeout_ms;                   /* per query; 0 = none */
    double idle_ms;                      /* 0 = never */
    double refresh_ms;                   /* 0 = never */
    const char *shards[SRV_MAX_SHARDS];
    size_t shard_count;
    int allow_partial;
    int quiet;
} srv_opts;

typedef enum ev_kind { EV_LISTEN, EV_WAKE, EV_SIGNAL, EV_CONN } ev_kind;

/* The head of everything registered with epoll. */
typedef struct ev_src {
    ev_kind kind;
    int fd;
} ev_src;

typedef struct listener {
    ev_src ev;
    char name[320];   /* "tcp:127.0.0.1:7878", "http:..." or "unix:/path" */
    char *unix_path;  /* removed at exit; NULL for TCP */
    int tcp;
    int http;         /* speaks HTTP/1.1 (srv_http.c), not JSON lines */
} listener;

/* A parsed --listen address. */
typedef struct srv_addr {
    int tcp;
    int http;          /* "http:HOST:PORT": TCP speaking HTTP */
    char host[256];
    char port[16];
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} srv_addr;

typedef struct conn conn;

/* One request line, from its arrival to its response leaving. */
typedef struct job {
    struct job *next;  /* worker queue, then done queue */
    struct job *after; /* next request of the same connection */
    conn *c;           /* touched by the event loop only */
    char *line;        /* the request (not NUL-terminated) */
    size_t line_len;   /* bytes */
    ndx_buf out;       /* the response without its "\n" (HTTP: the
                          whole response) */
    int done;
    int http;          /* line is an HTTP request head (srv_http.c) */
    int close_after;   /* HTTP: close the connection after this response */
    /* A streamed response (HTTP /api/export) is made a piece at a time:
     * the worker leaves more set and out holding a piece; the event loop
     * sends it and, once the peer has read most of it, hands the job to
     * the workers again for the next piece.  done is set after the last. */
    void *stream;      /* what the next piece needs (srv_http.c), or NULL */
    int more;          /* set by the worker: pieces are left to make */
    int parked;        /* event loop's: back from the worker with more,
                          waiting to be sent and run again */
    int streamed;      /* a piece went out: an empty out at the end means
                          cut short, not out of memory */
} job;

struct conn {
    ev_src ev;
    conn *prev, *next;  /* live connections, or the graveyard */
    ndx_buf in;         /* bytes read */
    size_t in_off;      /* bytes of in consumed */
    size_t scan_off;    /* bytes of in known to hold no newline */
    ndx_buf out;        /* responses to send */
    size_t out_off;     /* bytes of out sent */
    job *first, *last;  /* requests in arrival order */
    size_t pending;     /* requests queued or running */
    size_t held;        /* bytes of answers held: unsent, or finished and
                           waiting behind an earlier request */
    double active_ms;   /* last read or write progress */
    double partial_ms;  /* when the unfinished line began, or 0 */
    unsigned events;    /* epoll interest now */
    int tcp;
    int http;           /* requests are HTTP/1.1 (srv_http.c) */
    int discarding;     /* dropping the rest of an oversized line */
    int eof;            /* the peer will send nothing more */
    int reject;         /* refused for the connection limit */
    int linger;         /* closing: send what is left, shut our side,
                           discard input until the peer closes */
    double linger_ms;   /* when lingering began */
    int shut;           /* our sending side is shut down */
    int dead;           /* fd closed; freed once its jobs are back */
    int buried;         /* in the graveyard */
};

typedef struct server {
    srv_opts o;
    ndx_engine_config cfg;
    /* the index (srv_pool.c) */
    ndx_index *ix;                /* shared by all workers, or NULL */
    ndx_index **own;              /* not shared: one per worker */
    uint64_t *own_seen;           /* commits each own index has seen */
    ndx_index *probe;             /* not shared: the refresher's */
    atomic_uint_fast64_t commits; /* commits the probe has seen */

    /* the worker pool (srv_pool.c) */
    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;
    job *q_head, *q_tail;
    int q_stop;
    pthread_mutex_t done_lock;
    job *done_head, *done_tail;
    pthread_t *workers;
    size_t worker_count;          /* started */
    pthread_t refresher;
    int refresher_started;
    pthread_mutex_t rf_lock;
    pthread_cond_t rf_cond;
    int rf_stop;

    /* the event loop (server.c, srv_conn.c) */
    ev_src wake;                  /* eventfd: jobs are done */
    ev_src sig;                   /* self-pipe: SIGTERM or SIGINT */
    int ep;
    listener lis[SRV_MAX_LISTEN];
    size_t lis_count;
    conn *conns;                  /* live and dead-with-jobs */
    conn *graveyard;              /* freed after each loop turn */
    size_t conn_count;            /* open, not refused */
    size_t reject_count;          /* open, refused */
    size_t inflight;              /* jobs given to workers */
    size_t held;                  /* bytes of answers held, all conns */
    int held_back;                /* some connection waits for the
                                     answer budget (--max-output) */
    size_t depth;                 /* requests of one connection at once */
    int spare_fd;                 /* released to refuse at EMFILE */
    int stopping;
    double stop_deadline;
    uint64_t requests;            /* lines answered */
} server;

/* ---- server.c: messages on stderr ---------------------------------------- */

#if defined(__GNUC__)
#define SRV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SRV_PRINTF(f, a)
#endif

/* A message unless --quiet (s may be NULL). */
void srv_say(const server *s, const char *fmt, ...) SRV_PRINTF(2, 3);
/* An error message, always. */
void srv_complain(const char *fmt, ...) SRV_PRINTF(1, 2);

/* ---- srv_options.c ------------------------------------------------------- */

/* Parses the command line (argv[0] included) into o.  Returns -1 to go
 * on, else the exit code (0 after --help, 2 on a usage error). */
int srv_options_parse(srv_opts *o, int argc, char **argv);

/* ---- srv_listen.c -------------------------------------------------------- */

/* Splits "tcp:HOST:PORT", "tcp:PORT", "HOST:PORT", "PORT", "unix:/PATH"
 * or "/PATH".  0, or -1 after a message. */
int srv_addr_parse(const char *spec, srv_addr *a);
/* Binds and listens (non-blocking); fills l.  0, or -1 after a message. */
int srv_listen(listener *l, const srv_addr *a);
/* Stops listening; a Unix socket's file is removed.  Idempotent. */
void srv_listener_close(listener *l);

/* ---- srv_protocol.c ------------------------------------------------------ */

/* The line sent when even an error response cannot be built. */
extern const char srv_oom_line[];
/* Runs one request line on ix in a worker; fills j->out. */
void srv_protocol_run(const server *s, ndx_index *ix, job *j);
/* Fills j->out with the answer to a line over --max-request. */
void srv_protocol_too_large(const server *s, job *j);
/* Fills j->out with the answer to a line refused for --max-inflight. */
void srv_protocol_overloaded(const server *s, job *j, const char *line,
                             size_t len);
/* Runs a JSON request already parsed (the HTTP API's); fills out and
 * returns the error code of the response ("invalid", "not_found"...), or
 * NULL when it succeeded. */
const char *srv_protocol_request(const server *s, ndx_index *ix,
                                 json_t *req, ndx_buf *out);

/* ---- srv_http.c ---------------------------------------------------------- */

/* Runs one HTTP request (j->line holds its head) in a worker; fills j->out
 * with the whole response and sets j->close_after, or, for a streamed
 * response, with its first piece and sets j->more; run again on such a
 * job, makes its next piece. */
void srv_http_run(const server *s, ndx_index *ix, job *j);
/* Fills j->out with an HTTP error response (the error object as body) and
 * closes after it. */
void srv_http_error(job *j, int status, const char *code, const char *msg);
/* Ends a streamed response that will get no more pieces (the peer left,
 * or the server stops): frees j->stream, clears more, sets done and
 * close_after.  The event loop's, for a job no worker holds. */
void srv_http_stream_abort(job *j);

/* ---- srv_pool.c ---------------------------------------------------------- */

/* Opens the index (one shared, or one per worker).  0 or -1. */
int srv_pool_open(server *s);
/* Starts the workers and the refresher.  0 or -1. */
int srv_pool_start(server *s);
/* Looks for a new commit now (SIGHUP): wakes the refresher, or without
 * one refreshes here. */
void srv_pool_reload(server *s);
/* Hands a job to the workers; once run it is queued as done and s->wake
 * is signalled. */
void srv_pool_submit(server *s, job *j);
/* Takes every done job (a list through ->next). */
job *srv_pool_take_done(server *s);
/* Stops and joins the threads (after the jobs in the queue). */
void srv_pool_stop(server *s);
/* Closes the indexes. */
void srv_pool_free(server *s);
/* The engine's name, for messages. */
const char *srv_pool_engine(const server *s);

/* ---- srv_conn.c ---------------------------------------------------------- */

/* Accepts what waits on l (refusing beyond --max-connections). */
void srv_conn_accept(server *s, listener *l);
/* Handles epoll events on c. */
void srv_conn_event(server *s, conn *c, unsigned events);
/* Takes a job back from the workers. */
void srv_conn_job_done(server *s, job *j);
/* Closes connections idle too long, lingering too long, or past the stop
 * deadline. */
void srv_conn_sweep(server *s, double now);
/* Starts the requests held back while the answer budget (--max-output)
 * was spent, once it is no longer. */
void srv_conn_resume(server *s);
/* On stop: read no more from c, close it once its answers are sent. */
void srv_conn_stop(server *s, conn *c);
/* Frees a connection and its jobs (the socket is closed already). */
void srv_conn_free(conn *c);

#endif
