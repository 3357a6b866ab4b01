/*
 * server.c - the query socket of `newsdex-search --listen`:
 * newline-delimited JSON over TCP or a Unix socket (DESIGN section 8; the
 * whole protocol is in the README, "Query socket").
 *
 * One event-loop thread (epoll) accepts connections, reads request lines,
 * enforces the limits that need no index (line size, connections, requests
 * in flight, idle time) and writes responses.  A pool of worker threads
 * parses each request with jansson, runs it on the index and renders the
 * response with render.c.  Each connection keeps its requests in a queue in
 * arrival order and a response leaves only after all those before it, so
 * that responses come back in request order while several requests of one
 * connection may run on different workers at once.
 *
 * The index: when the engine allows concurrent searches, every worker
 * shares one open index, held by reference counts (a "generation").  A
 * refresher thread watches for new commits through a private probe index;
 * when one appears it opens the new generation for the requests that start
 * from then on, while running requests finish on the generation they began
 * with.  When the engine does not allow it, each worker opens its own index
 * and refreshes it between two requests once the probe has seen a commit.
 * Either way each worker parses queries and makes snippets with its own
 * analyzer, since an analyzer serves one thread at a time (analyze.h).
 *
 * Left to others: the query language and the search (core), the JSON of
 * hits, articles, stats and errors (render.c), the one-shot command line
 * (main.c).  Nothing here can change the index.
 *
 * FORMAT (bytes written on a connection): one line per request line, in
 * request order, each a JSON object ended by "\n":
 *   {"id":ID,"ok":true,MEMBERS}
 *       search: "total":N,"took_ms":T,"hits":[...]     (render.c)
 *       get:    "article":{...}                        (render.c)
 *       stats:  "stats":{...}                          (render.c)
 *       ping:   "pong":true
 *   {"id":ID,"ok":false,"error":{"code":C,"message":M}}
 * ID is the request's "id" as sent (null when absent or unreadable); C is
 * one of too_large, overloaded, timeout, syntax, invalid, not_found,
 * internal.  A connection refused for the connection limit receives one
 * overloaded line and is closed.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "newsdex/newsdex.h"
#include "render.h"
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
#define SRV_WBUF_HIGH (1u << 20)  /* unsent bytes that pause reading */
#define SRV_REJECT_MAX 64         /* refused connections held at once */
#define SRV_LINGER_MS 2000.0      /* time a closing peer has to read */
#define SRV_STOP_GRACE_MS 10000.0 /* on stop, time to deliver answers */
#define SRV_TICK_MS 250           /* idle checks */
#define SRV_EVENTS 128

/* The line sent when even an error response cannot be built. */
static const char oom_line[] =
    "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"internal\","
    "\"message\":\"out of memory\"}}";

typedef struct srv_opts {
    const char *index_path;
    const char *engine;                  /* NULL: detect */
    const char *listen[SRV_MAX_LISTEN];
    size_t listen_count;
    unsigned threads;
    size_t max_request;                  /* bytes of one line */
    size_t max_connections;
    size_t max_inflight;                 /* requests queued or running */
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
    char name[320];   /* "tcp:127.0.0.1:7878" or "unix:/path" */
    char *unix_path;  /* removed at exit; NULL for TCP */
    int tcp;
} listener;

typedef struct conn conn;

/* One request line, from its arrival to its response leaving. */
typedef struct job {
    struct job *next;  /* worker queue, then done queue */
    struct job *after; /* next request of the same connection */
    conn *c;           /* touched by the event loop only */
    char *line;        /* the request (not NUL-terminated) */
    size_t line_len;   /* bytes */
    ndx_buf out;       /* the response without its "\n" */
    int done;
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
    double active_ms;   /* last read or write progress */
    double partial_ms;  /* when the unfinished line began, or 0 */
    unsigned events;    /* epoll interest now */
    int tcp;
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

/* One open index and the requests using it. */
typedef struct gen {
    ndx_index *ix;
    unsigned refs; /* the current pointer + running requests */
} gen;

typedef struct server {
    srv_opts o;
    ndx_engine_config cfg;
    int shared;                   /* one index for all workers */
    pthread_mutex_t gen_lock;
    gen *cur;                     /* shared: the newest generation */
    ndx_index **own;              /* not shared: one per worker */
    ndx_analyzer **an;            /* one per worker */
    uint64_t *own_seen;           /* commits each own index has seen */
    ndx_index *probe;             /* the refresher's */
    atomic_uint_fast64_t commits; /* commits the probe has seen */
    int reload;                   /* shared: a generation to open */

    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;
    job *q_head, *q_tail;
    int q_stop;

    pthread_mutex_t done_lock;
    job *done_head, *done_tail;
    ev_src wake;                  /* eventfd: jobs are done */
    ev_src sig;                   /* self-pipe: SIGTERM or SIGINT */

    pthread_t *workers;
    size_t worker_count;          /* started */
    pthread_t refresher;
    int refresher_started;
    pthread_mutex_t rf_lock;
    pthread_cond_t rf_cond;
    int rf_stop;

    int ep;
    listener lis[SRV_MAX_LISTEN];
    size_t lis_count;
    conn *conns;                  /* live and dead-with-jobs */
    conn *graveyard;              /* freed after each loop turn */
    size_t conn_count;            /* open, not refused */
    size_t reject_count;          /* open, refused */
    size_t inflight;              /* jobs given to workers */
    size_t depth;                 /* requests of one connection at once */
    int spare_fd;                 /* released to refuse at EMFILE */
    int stopping;
    double stop_deadline;
    uint64_t requests;            /* lines answered */
} server;

typedef struct worker_arg {
    server *s;
    size_t n;
} worker_arg;

static int sig_pipe_wr = -1;

/* ---- messages ------------------------------------------------------------ */

static void
say(const server *s, const char *fmt, ...)
{
    va_list ap;

    if (s && s->o.quiet)
        return;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void
complain(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void
usage(FILE *f)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    fprintf(f,
            "usage: " PROG " -i INDEX --listen ADDR [options]\n"
            "\n"
            "Serves searches over newline-delimited JSON: one request a "
            "line, one\n"
            "response a line (ops search, get, stats, ping).\n"
            "\n"
            "  -i, --index INDEX      the index to serve (required)\n"
            "  --listen ADDR          tcp:HOST:PORT, tcp:PORT or unix:/PATH;"
            " repeatable\n"
            "                         (host 127.0.0.1, port 7878 by "
            "default; port 0 picks one)\n"
            "  --threads N            worker threads (default: cores, %ld)\n"
            "  --max-request BYTES    longest request line (65536)\n"
            "  --max-connections N    connections at once (256)\n"
            "  --max-inflight N       requests queued or running (256)\n"
            "  --timeout-ms MS        time budget of one query, 0 = none "
            "(5000)\n"
            "  --idle-timeout S       close connections idle this long, "
            "0 = never (60)\n"
            "  --refresh-ms MS        how often to look for new commits, "
            "0 = never (500)\n"
            "  --engine E             native or xapian (default: detect)\n"
            "  --shard tcp:HOST:PORT  a Xapian shard served by "
            "xapian-tcpsrv; repeatable\n"
            "  --allow-partial        answer when some shards are down\n"
            "  --quiet                print errors only\n"
            "  -h, --help             this help\n"
            "\n"
            "Stops on SIGTERM or SIGINT after answering the requests in "
            "flight.\n"
            "Exit status: 0 after a stop, 1 on failure, 2 on a usage "
            "error.\n",
            cores > 0 ? cores : 1);
}

/* ---- options ------------------------------------------------------------- */

static int
parse_count(const char *opt, const char *v, double min, double max,
            double *out)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (!*v || *end || errno || d != d || d < min || d > max) {
        complain("%s needs a number from %.0f to %.0f, not '%s'", opt, min,
                 max, v);
        return -1;
    }
    *out = d;
    return 0;
}

static int
parse_size(const char *opt, const char *v, double min, double max,
           size_t *out)
{
    double d;

    if (parse_count(opt, v, min, max, &d))
        return -1;
    if (d != (double)(size_t)d) {
        complain("%s needs a whole number, not '%s'", opt, v);
        return -1;
    }
    *out = (size_t)d;
    return 0;
}

/*
 * Parses the command line into o.  Returns -1 to go on, else the exit
 * code (0 after --help, 2 on a usage error).
 */
static int
parse_args(srv_opts *o, int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = 0;
    int i;

    memset(o, 0, sizeof *o);
    o->max_request = 65536;
    o->max_connections = 256;
    o->max_inflight = 256;
    o->timeout_ms = 5000;
    o->idle_ms = 60000;
    o->refresh_ms = 500;
    for (i = 1; i < argc; i++) {
        char name[64];
        const char *a = argv[i], *v = NULL, *eq;
        int takes;

        eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        if (eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            v = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
            usage(stdout);
            return 0;
        }
        takes = !strcmp(name, "-i") || !strcmp(name, "--index") ||
                !strcmp(name, "--listen") || !strcmp(name, "--threads") ||
                !strcmp(name, "--max-request") ||
                !strcmp(name, "--max-connections") ||
                !strcmp(name, "--max-inflight") ||
                !strcmp(name, "--timeout-ms") ||
                !strcmp(name, "--idle-timeout") ||
                !strcmp(name, "--refresh-ms") ||
                !strcmp(name, "--engine") || !strcmp(name, "--shard");
        if (takes && !v) {
            if (i + 1 >= argc) {
                complain("%s needs a value; see --help", name);
                return 2;
            }
            v = argv[++i];
        } else if (!takes && v) {
            complain("%s takes no value; see --help", name);
            return 2;
        }
        if (!strcmp(name, "-i") || !strcmp(name, "--index")) {
            o->index_path = v;
        } else if (!strcmp(name, "--listen")) {
            if (o->listen_count == SRV_MAX_LISTEN) {
                complain("at most %d --listen addresses", SRV_MAX_LISTEN);
                return 2;
            }
            o->listen[o->listen_count++] = v;
        } else if (!strcmp(name, "--threads")) {
            if (parse_size(name, v, 1, SRV_MAX_THREADS, &threads))
                return 2;
        } else if (!strcmp(name, "--max-request")) {
            if (parse_size(name, v, 64, 1 << 30, &o->max_request))
                return 2;
        } else if (!strcmp(name, "--max-connections")) {
            if (parse_size(name, v, 1, 1000000, &o->max_connections))
                return 2;
        } else if (!strcmp(name, "--max-inflight")) {
            if (parse_size(name, v, 1, 1000000, &o->max_inflight))
                return 2;
        } else if (!strcmp(name, "--timeout-ms")) {
            if (parse_count(name, v, 0, 86400000, &o->timeout_ms))
                return 2;
        } else if (!strcmp(name, "--idle-timeout")) {
            if (parse_count(name, v, 0, 86400 * 7, &o->idle_ms))
                return 2;
            o->idle_ms *= 1000;
        } else if (!strcmp(name, "--refresh-ms")) {
            if (parse_count(name, v, 0, 86400000, &o->refresh_ms))
                return 2;
        } else if (!strcmp(name, "--engine")) {
            o->engine = v;
        } else if (!strcmp(name, "--shard")) {
            if (o->shard_count == SRV_MAX_SHARDS) {
                complain("at most %d --shard addresses", SRV_MAX_SHARDS);
                return 2;
            }
            o->shards[o->shard_count++] = v;
        } else if (!strcmp(name, "--allow-partial")) {
            o->allow_partial = 1;
        } else if (!strcmp(name, "--quiet") || !strcmp(name, "-q")) {
            o->quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            complain("unknown option %s with --listen; see --help", a);
            return 2;
        } else {
            complain("unexpected argument '%s': with --listen, queries "
                     "come over the socket; see --help", a);
            return 2;
        }
    }
    if (!o->index_path) {
        complain("--listen needs the index to serve: -i INDEX");
        return 2;
    }
    if (!o->listen_count) {
        complain("--listen needs an address, e.g. tcp:127.0.0.1:7878");
        return 2;
    }
    o->threads = threads ? (unsigned)threads
                 : (unsigned)(cores > 0 ? (cores > SRV_MAX_THREADS
                                               ? SRV_MAX_THREADS
                                               : cores)
                                        : 1);
    return -1;
}

/* ---- addresses and listening --------------------------------------------- */

typedef struct srv_addr {
    int tcp;
    char host[256];
    char port[16];
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} srv_addr;

static int
all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Splits "tcp:HOST:PORT", "tcp:PORT", "HOST:PORT", "PORT", "unix:/PATH"
 * or "/PATH".  0 or -1 with a message. */
static int
parse_addr(const char *spec, srv_addr *a)
{
    const char *s = spec, *colon;
    size_t hl;

    memset(a, 0, sizeof *a);
    if (strncmp(s, "unix:", 5) == 0 || s[0] == '/' || s[0] == '.') {
        if (strncmp(s, "unix:", 5) == 0)
            s += 5;
        if (!*s || strlen(s) >= sizeof a->path) {
            complain("bad --listen %s: a Unix socket path of 1 to %zu bytes",
                     spec, sizeof a->path - 1);
            return -1;
        }
        strcpy(a->path, s);
        return 0;
    }
    a->tcp = 1;
    if (strncmp(s, "tcp:", 4) == 0)
        s += 4;
    strcpy(a->host, "127.0.0.1");
    strcpy(a->port, "7878");
    if (!*s)
        return 0;
    if (all_digits(s)) {
        if (strlen(s) > 5 || atol(s) > 65535)
            goto bad;
        strcpy(a->port, s);
        return 0;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close || (close[1] && close[1] != ':'))
            goto bad;
        hl = (size_t)(close - s - 1);
        colon = close[1] ? close + 1 : NULL;
        s++;
    } else {
        colon = strrchr(s, ':');
        hl = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (hl == 0 || hl >= sizeof a->host)
        goto bad;
    memcpy(a->host, s, hl);
    a->host[hl] = '\0';
    if (colon) {
        if (!all_digits(colon + 1) || strlen(colon + 1) > 5 ||
            atol(colon + 1) > 65535)
            goto bad;
        strcpy(a->port, colon + 1);
    }
    return 0;
bad:
    complain("bad --listen %s: use tcp:HOST:PORT, tcp:PORT or unix:/PATH",
             spec);
    return -1;
}

static int
listen_tcp(listener *l, const srv_addr *a)
{
    struct addrinfo hints, *res = NULL, *ai;
    char host[NI_MAXHOST], port[NI_MAXSERV];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = -1, rc, err = 0, one = 1;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(a->host, a->port, &hints, &res);
    if (rc) {
        complain("cannot listen on tcp:%s:%s: %s; check the host name",
                 a->host, a->port, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
                                       SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, 1024) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        complain("cannot listen on tcp:%s:%s: %s; %s", a->host, a->port,
                 strerror(err),
                 err == EADDRINUSE
                     ? "another program holds the port: stop it or pass "
                       "another --listen address"
                 : err == EACCES
                     ? "ports below 1024 need privileges: pick a higher port"
                     : "check that the address belongs to this machine");
        return -1;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port,
                    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(l->name, sizeof l->name,
                 ss.ss_family == AF_INET6 ? "tcp:[%s]:%s" : "tcp:%s:%s",
                 host, port);
    else
        snprintf(l->name, sizeof l->name, "tcp:%s:%s", a->host, a->port);
    l->ev.kind = EV_LISTEN;
    l->ev.fd = fd;
    l->tcp = 1;
    return 0;
}

static int
listen_unix(listener *l, const srv_addr *a)
{
    struct sockaddr_un sun;
    struct stat sb;
    int fd = -1;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
    if (lstat(a->path, &sb) == 0) {
        int probe;

        if (!S_ISSOCK(sb.st_mode)) {
            complain("cannot listen on unix:%s: the path exists and is not "
                     "a socket; pick another path", a->path);
            return -1;
        }
        /* A socket file nobody answers on is left by a server that did
         * not stop cleanly: take its place. */
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 &&
            connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
            close(probe);
            complain("cannot listen on unix:%s: another server is "
                     "listening there; stop it or pick another path",
                     a->path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        unlink(a->path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
        listen(fd, 1024) != 0) {
        complain("cannot listen on unix:%s: %s; check that the directory "
                 "exists and is writable", a->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    l->unix_path = strdup(a->path);
    snprintf(l->name, sizeof l->name, "unix:%s", a->path);
    l->ev.kind = EV_LISTEN;
    l->ev.fd = fd;
    l->tcp = 0;
    return 0;
}

static void
listener_close(listener *l)
{
    if (l->ev.fd >= 0) {
        if (l->unix_path)
            unlink(l->unix_path);
        close(l->ev.fd);
        l->ev.fd = -1;
    }
    free(l->unix_path);
    l->unix_path = NULL;
}

/* ---- responses ----------------------------------------------------------- */

static ndx_status
reply_begin(ndx_buf *b, json_t *id, int ok)
{
    char *ids = id ? json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    ndx_status st = ndx_buf_printf(b, "{\"id\":%s,\"ok\":%s",
                                   ids ? ids : "null", ok ? "true" : "false");

    free(ids);
    return st;
}

/* Ends a response; after a failure, leaves an empty buffer (the event
 * loop then sends oom_line). */
static void
reply_end(ndx_buf *b, ndx_status st)
{
    if (!st)
        st = ndx_buf_putc(b, '}');
    if (st)
        b->len = 0;
}

static void
reply_error(ndx_buf *b, json_t *id, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void
reply_error(ndx_buf *b, json_t *id, const char *code, const char *fmt, ...)
{
    char msg[1024];
    ndx_status st;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->len = 0;
    st = reply_begin(b, id, 0);
    if (!st)
        st = ndx_buf_putc(b, ',');
    if (!st)
        st = render_error_json(b, code, msg);
    reply_end(b, st);
}

/* Answers a failed index call with the stable code for st. */
static void
reply_status(server *s, ndx_buf *b, json_t *id, ndx_status st)
{
    const char *msg = ndx_errmsg();

    switch (st) {
    case NDX_ESYNTAX:
        reply_error(b, id, "syntax", "%s", *msg ? msg : "bad query");
        break;
    case NDX_ETIMEOUT:
        reply_error(b, id, "timeout",
                    "the query ran past the server's limit of %.0f ms; "
                    "make it narrower", s->o.timeout_ms);
        break;
    case NDX_ENOTFOUND:
        reply_error(b, id, "not_found", "%s", *msg ? msg : "not found");
        break;
    case NDX_EINVAL:
    case NDX_ELIMIT:
        reply_error(b, id, "invalid", "%s", *msg ? msg : "invalid request");
        break;
    default:
        complain("internal error: %s: %s", ndx_status_name(st), msg);
        reply_error(b, id, "internal", "%s: %s", ndx_status_name(st),
                    *msg ? msg : "unexpected failure");
        break;
    }
}

/* ---- requests ------------------------------------------------------------ */

/* Reads an optional whole number member; 0, or -1 after an error reply. */
static int
get_size(json_t *req, json_t *id, ndx_buf *out, const char *name,
         size_t min, size_t max, size_t *val)
{
    json_t *v = json_object_get(req, name);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
        json_integer_value(v) > (json_int_t)max) {
        reply_error(out, id, "invalid",
                    "\"%s\" must be a whole number from %zu to %zu", name,
                    min, max);
        return -1;
    }
    *val = (size_t)json_integer_value(v);
    return 0;
}

/* Reads an optional string member; 0, or -1 after an error reply. */
static int
get_str(json_t *req, json_t *id, ndx_buf *out, const char *name,
        const char **val)
{
    json_t *v = json_object_get(req, name);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        reply_error(out, id, "invalid", "\"%s\" must be a string", name);
        return -1;
    }
    *val = json_string_value(v);
    return 0;
}

/* Reads a date member into its first (from) or last (to) day. */
static int
get_date(json_t *req, json_t *id, ndx_buf *out, const char *name,
         int last, int32_t *days)
{
    const char *s = NULL;
    int32_t first_days, last_days;

    if (get_str(req, id, out, name, &s))
        return -1;
    if (!s)
        return 0;
    if (ndx_date_parse_range(s, strlen(s), &first_days, &last_days)) {
        reply_error(out, id, "invalid",
                    "\"%s\": cannot read '%.100s' as a date; use "
                    "YYYY-MM-DD, YYYY-MM or YYYY", name, s);
        return -1;
    }
    *days = last ? last_days : first_days;
    return 0;
}

/* Adds the strings of member name (a string or an array of strings). */
static int
get_sources(json_t *req, json_t *id, ndx_buf *out, const char *name,
            const char **srcs, size_t *count)
{
    json_t *v = json_object_get(req, name), *e;
    size_t i;

    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        if (*count == NDX_QUERY_MAX_SOURCES)
            goto too_many;
        srcs[(*count)++] = json_string_value(v);
        return 0;
    }
    if (!json_is_array(v))
        goto bad;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            goto bad;
        if (*count == NDX_QUERY_MAX_SOURCES)
            goto too_many;
        srcs[(*count)++] = json_string_value(e);
    }
    return 0;
bad:
    reply_error(out, id, "invalid",
                "\"%s\" must be a string or an array of strings", name);
    return -1;
too_many:
    reply_error(out, id, "invalid", "at most %d sources in one request",
                NDX_QUERY_MAX_SOURCES);
    return -1;
}

static int
get_choice(json_t *req, json_t *id, ndx_buf *out, const char *name,
           const char *const *names, int *val)
{
    const char *s = NULL;
    int i;

    if (get_str(req, id, out, name, &s))
        return -1;
    if (!s)
        return 0;
    for (i = 0; names[i]; i++) {
        if (!strcmp(s, names[i])) {
            *val = i;
            return 0;
        }
    }
    {
        char list[128];
        size_t len = 0;

        list[0] = '\0';
        for (i = 0; names[i] && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len,
                                    "%s\"%s\"", i ? ", " : "", names[i]);
        reply_error(out, id, "invalid", "\"%s\" must be one of %s", name,
                    list);
    }
    return -1;
}

/*
 * ndx_index_search with the worker's analyzer: parses, runs the query
 * without snippets, then makes them here.  *out belongs to the caller.
 */
static ndx_status
worker_search(ndx_index *ix, ndx_analyzer **an, const char *text,
              ndx_search_opts *o, ndx_results **out)
{
    const char *lang = ndx_analyzer_language(ndx_index_analyzer(ix));
    int snippets = o->snippets;
    double t0 = ndx_now_ms();
    ndx_query *q = NULL;
    ndx_status st;
    size_t i;

    *out = NULL;
    if (!*an || strcmp(ndx_analyzer_language(*an), lang)) {
        ndx_analyzer_free(*an);
        *an = NULL;
        if ((st = ndx_analyzer_new(an, lang)))
            return st;
    }
    if ((st = ndx_query_parse(&q, text, *an, NULL)))
        return st;
    o->snippets = 0;
    st = ndx_index_search_query(ix, q, o, out);
    o->snippets = snippets;
    for (i = 0; !st && snippets && i < (*out)->count; i++) {
        ndx_hit *h = &(*out)->hits[i];
        char *snip;

        if (!h->text)
            continue;
        snip = ndx_snippet_make(*an, q, h->text, strlen(h->text),
                                o->snippet_len ? o->snippet_len : 240);
        h->snippet = snip ? ndx_results_strdup(*out, snip, strlen(snip))
                          : NULL;
        free(snip);
        if (!h->snippet)
            st = ndx_error(NDX_ENOMEM, "out of memory (snippet)");
    }
    if (st) {
        ndx_results_free(*out);
        *out = NULL;
    } else {
        (*out)->took_ms = ndx_now_ms() - t0;
    }
    ndx_query_free(q);
    return st;
}

static void
op_search(server *s, size_t w, ndx_index *ix, json_t *req, json_t *id,
          ndx_buf *out)
{
    static const char *const sorts[] = {"relevance", "newest", "oldest",
                                        NULL};
    static const char *const groups[] = {"article", "passage", NULL};
    const char *srcs[NDX_QUERY_MAX_SOURCES];
    ndx_results *res = NULL;
    ndx_search_opts o;
    const char *q = NULL;
    json_t *sn;
    int sort = 0, group = 0;
    ndx_status st;

    ndx_search_opts_init(&o);
    o.budget_ms = s->o.timeout_ms;
    if (get_str(req, id, out, "q", &q))
        return;
    if (!q) {
        reply_error(out, id, "invalid",
                    "a search needs \"q\", the query text");
        return;
    }
    o.source_count = 0;
    if (get_size(req, id, out, "k", 0, SRV_MAX_K, &o.k) ||
        get_size(req, id, out, "offset", 0, SRV_MAX_OFFSET, &o.offset) ||
        get_sources(req, id, out, "sources", srcs, &o.source_count) ||
        get_sources(req, id, out, "source", srcs, &o.source_count) ||
        get_date(req, id, out, "from", 0, &o.from_days) ||
        get_date(req, id, out, "to", 1, &o.to_days) ||
        get_choice(req, id, out, "sort", sorts, &sort) ||
        get_choice(req, id, out, "group", groups, &group) ||
        get_size(req, id, out, "snippet_len", 1, SRV_MAX_SNIPPET,
                 &o.snippet_len))
        return;
    sn = json_object_get(req, "snippets");
    if (sn && !json_is_null(sn)) {
        if (!json_is_boolean(sn)) {
            reply_error(out, id, "invalid",
                        "\"snippets\" must be true or false");
            return;
        }
        o.snippets = json_is_true(sn);
    }
    if (o.from_days != NDX_DATE_NONE && o.to_days != NDX_DATE_NONE &&
        o.from_days > o.to_days) {
        reply_error(out, id, "invalid", "\"from\" is after \"to\"");
        return;
    }
    o.sources = o.source_count ? srcs : NULL;
    o.sort = (ndx_sort)sort;
    o.group = (ndx_group)group;
    ndx_error_clear();
    st = worker_search(ix, &s->an[w], q, &o, &res);
    if (st) {
        reply_status(s, out, id, st);
        return;
    }
    st = reply_begin(out, id, 1);
    if (!st)
        st = ndx_buf_putc(out, ',');
    if (!st)
        st = render_results_json(out, res);
    reply_end(out, st);
    ndx_results_free(res);
}

static void
op_get(server *s, ndx_index *ix, json_t *req, json_t *id, ndx_buf *out)
{
    const char *art = NULL;
    ndx_doc *d = NULL;
    ndx_status st;

    if (get_str(req, id, out, "article", &art))
        return;
    if (!art) {
        reply_error(out, id, "invalid",
                    "a get needs \"article\", the article id");
        return;
    }
    ndx_error_clear();
    st = ndx_index_get(ix, art, &d);
    if (st == NDX_ENOTFOUND) {
        reply_error(out, id, "not_found", "no article with id '%.200s'",
                    art);
        return;
    }
    if (st) {
        reply_status(s, out, id, st);
        return;
    }
    st = reply_begin(out, id, 1);
    if (!st)
        st = ndx_buf_putc(out, ',');
    if (!st)
        st = render_doc_json(out, d);
    reply_end(out, st);
    ndx_doc_free(d);
}

static void
op_stats(server *s, ndx_index *ix, json_t *id, ndx_buf *out)
{
    ndx_stats stats;
    ndx_status st;

    memset(&stats, 0, sizeof stats);
    ndx_error_clear();
    st = ndx_index_stats(ix, &stats);
    if (st) {
        reply_status(s, out, id, st);
        ndx_stats_clear(&stats);
        return;
    }
    st = reply_begin(out, id, 1);
    if (!st)
        st = ndx_buf_putc(out, ',');
    if (!st)
        st = render_stats_json(out, &stats);
    reply_end(out, st);
    ndx_stats_clear(&stats);
}

/* The index a worker uses for one request; *g is the generation to give
 * back with index_release (NULL when the worker owns its index). */
static ndx_index *
index_acquire(server *s, size_t w, gen **g)
{
    uint_fast64_t seen;

    if (s->shared) {
        pthread_mutex_lock(&s->gen_lock);
        *g = s->cur;
        (*g)->refs++;
        pthread_mutex_unlock(&s->gen_lock);
        return (*g)->ix;
    }
    *g = NULL;
    seen = atomic_load(&s->commits);
    if (seen != s->own_seen[w]) {
        if (ndx_index_refresh(s->own[w]) >= 0)
            s->own_seen[w] = seen;
        else
            complain("cannot move to the new commit yet: %s", ndx_errmsg());
    }
    return s->own[w];
}

static void
index_release(server *s, gen *g)
{
    int last;

    if (!g)
        return;
    pthread_mutex_lock(&s->gen_lock);
    last = --g->refs == 0;
    pthread_mutex_unlock(&s->gen_lock);
    if (last) {
        ndx_index_close(g->ix);
        free(g);
    }
}

/* Runs one request line in a worker; fills j->out. */
static void
job_run(server *s, size_t w, job *j)
{
    json_error_t jerr;
    json_t *req, *id = NULL, *op;
    const char *ops = NULL;
    ndx_index *ix;
    gen *g;

    req = json_loadb(j->line, j->line_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        reply_error(&j->out, NULL, "invalid",
                    "malformed JSON at column %d: %s", jerr.column,
                    jerr.text);
        return;
    }
    if (!json_is_object(req)) {
        reply_error(&j->out, NULL, "invalid",
                    "a request must be a JSON object");
        goto done;
    }
    id = json_object_get(req, "id");
    op = json_object_get(req, "op");
    if (op && !json_is_string(op)) {
        reply_error(&j->out, id, "invalid", "\"op\" must be a string");
        goto done;
    }
    ops = op ? json_string_value(op)
             : (json_object_get(req, "q") ? "search" : NULL);
    if (!ops) {
        reply_error(&j->out, id, "invalid",
                    "missing \"op\": search, get, stats or ping");
        goto done;
    }
    if (!strcmp(ops, "ping")) {
        ndx_status st = reply_begin(&j->out, id, 1);

        if (!st)
            st = ndx_buf_puts(&j->out, ",\"pong\":true");
        reply_end(&j->out, st);
        goto done;
    }
    if (strcmp(ops, "search") && strcmp(ops, "get") && strcmp(ops, "stats")) {
        reply_error(&j->out, id, "invalid",
                    "unknown op \"%.64s\": use search, get, stats or ping",
                    ops);
        goto done;
    }
    ix = index_acquire(s, w, &g);
    if (!strcmp(ops, "search"))
        op_search(s, w, ix, req, id, &j->out);
    else if (!strcmp(ops, "get"))
        op_get(s, ix, req, id, &j->out);
    else
        op_stats(s, ix, id, &j->out);
    index_release(s, g);
done:
    json_decref(req);
}

/* ---- workers and the refresher ------------------------------------------- */

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
        job_run(s, w, j);
        pthread_mutex_lock(&s->done_lock);
        if (s->done_tail)
            s->done_tail->next = j;
        else
            s->done_head = j;
        s->done_tail = j;
        pthread_mutex_unlock(&s->done_lock);
        if (write(s->wake.fd, &one, sizeof one) < 0 && errno != EAGAIN)
            complain("cannot wake the event loop: %s", strerror(errno));
    }
    return NULL;
}

static void
open_new_generation(server *s)
{
    ndx_index *ix = NULL;
    ndx_stats st;
    gen *g, *old;

    if (ndx_index_open(&ix, s->o.index_path, NDX_OPEN_READ, s->o.engine,
                       &s->cfg)) {
        complain("a new commit appeared in %s but cannot be opened yet: %s",
                 s->o.index_path, ndx_errmsg());
        return;
    }
    g = calloc(1, sizeof *g);
    if (!g) {
        ndx_index_close(ix);
        return;
    }
    g->ix = ix;
    g->refs = 1;
    pthread_mutex_lock(&s->gen_lock);
    old = s->cur;
    s->cur = g;
    pthread_mutex_unlock(&s->gen_lock);
    index_release(s, old);
    s->reload = 0;
    memset(&st, 0, sizeof st);
    if (!s->o.quiet && ndx_index_stats(ix, &st) == NDX_OK)
        say(s, "serving a new commit: generation %llu, %llu articles",
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
        r = ndx_index_refresh(s->probe);
        if (r < 0 && !failing)
            complain("cannot look for new commits in %s: %s",
                     s->o.index_path, ndx_errmsg());
        failing = r < 0;
        if (r > 0) {
            atomic_fetch_add(&s->commits, 1);
            if (s->shared)
                s->reload = 1;
            else
                say(s, "a new commit appeared; each worker moves to it "
                    "before its next request");
        }
        if (s->shared && s->reload)
            open_new_generation(s);
        pthread_mutex_lock(&s->rf_lock);
    }
    pthread_mutex_unlock(&s->rf_lock);
    return NULL;
}

/* ---- connections --------------------------------------------------------- */

static void
job_free(job *j)
{
    if (!j)
        return;
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

/* Closes the socket; the memory goes when no job refers to it. */
static void
conn_close(server *s, conn *c)
{
    if (c->dead)
        return;
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->ev.fd, NULL);
    close(c->ev.fd);
    c->ev.fd = -1;
    c->dead = 1;
    if (c->reject)
        s->reject_count--;
    else
        s->conn_count--;
    if (!c->first)
        conn_bury(s, c);
}

static void
conn_free(conn *c)
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
    return c->pending < s->depth && conn_unsent(c) < SRV_WBUF_HIGH;
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

/* Moves the finished responses at the head of the queue to c->out. */
static void
conn_flush_ready(server *s, conn *c)
{
    while (c->first && c->first->done) {
        job *j = c->first;

        c->first = j->after;
        if (!c->first)
            c->last = NULL;
        if (!c->dead) {
            ndx_status st = j->out.len
                                ? ndx_buf_put(&c->out, j->out.data, j->out.len)
                                : ndx_buf_puts(&c->out, oom_line);

            if (!st)
                st = ndx_buf_putc(&c->out, '\n');
            if (st)
                conn_close(s, c);
            s->requests++;
        }
        job_free(j);
    }
    if (c->dead) {
        if (!c->first)
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

/* Closes when nothing is left to do, else sets the epoll interest. */
static void
conn_settle(server *s, conn *c)
{
    struct epoll_event ev;
    unsigned want = 0;

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
conn_answer_now(conn *c, job *j)
{
    j->done = 1;
    if (c->last)
        c->last->after = j;
    else
        c->first = j;
    c->last = j;
}

static void
reply_too_large(server *s, job *j)
{
    reply_error(&j->out, NULL, "too_large",
                "request line longer than %zu bytes (--max-request); the "
                "line was skipped", s->o.max_request);
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
        reply_too_large(s, j);
        conn_answer_now(c, j);
        return;
    }
    if (s->inflight >= s->o.max_inflight) {
        json_t *req = json_loadb(line, len, 0, NULL);
        json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;

        reply_error(&j->out, id, "overloaded",
                    "too many requests queued or running (--max-inflight "
                    "%zu); retry shortly", s->o.max_inflight);
        json_decref(req);
        conn_answer_now(c, j);
        return;
    }
    j->line = malloc(len);
    if (!j->line) {
        job_free(j);
        conn_close(s, c);
        return;
    }
    memcpy(j->line, line, len);
    j->line_len = len;
    if (c->last)
        c->last->after = j;
    else
        c->first = j;
    c->last = j;
    c->pending++;
    s->inflight++;
    pthread_mutex_lock(&s->q_lock);
    if (s->q_tail)
        s->q_tail->next = j;
    else
        s->q_head = j;
    s->q_tail = j;
    pthread_cond_signal(&s->q_cond);
    pthread_mutex_unlock(&s->q_lock);
}

/* Cuts what was read into request lines while the connection may have
 * more requests running, then sends what is ready. */
static void
conn_process(server *s, conn *c)
{
    while (!c->dead && !c->linger && !s->stopping &&
           c->pending < s->depth) {
        size_t avail = c->in.len - c->in_off, len;
        char *p = (char *)c->in.data + c->in_off, *nl;

        if (!avail)
            break;
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
                reply_too_large(s, j);
                conn_answer_now(c, j);
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

/* Answers a connection over the limit with one overloaded line. */
static void
conn_refuse(server *s, int fd, int tcp)
{
    char line[256];
    conn *c;
    int n;

    n = snprintf(line, sizeof line,
                 "{\"id\":null,\"ok\":false,\"error\":{\"code\":"
                 "\"overloaded\",\"message\":\"too many connections (%zu, "
                 "--max-connections); retry shortly\"}}\n",
                 s->o.max_connections);
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
    if (conn_write(s, c) == 0)
        conn_settle(s, c);
}

static void
on_accept(server *s, listener *l)
{
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
        if (s->conn_count >= s->o.max_connections) {
            conn_refuse(s, fd, l->tcp);
            continue;
        }
        conn_new(s, fd, l->tcp, 0);
    }
}

/* Takes the finished jobs from the workers. */
static void
on_wake(server *s)
{
    uint64_t n;
    job *j, *next;

    if (read(s->wake.fd, &n, sizeof n) < 0 && errno != EAGAIN)
        complain("event loop wake-up: %s", strerror(errno));
    pthread_mutex_lock(&s->done_lock);
    j = s->done_head;
    s->done_head = s->done_tail = NULL;
    pthread_mutex_unlock(&s->done_lock);
    for (; j; j = next) {
        conn *c = j->c;

        next = j->next;
        j->done = 1;
        c->pending--;
        s->inflight--;
        if (c->dead) {
            conn_flush_ready(s, c);
            continue;
        }
        conn_process(s, c);
        conn_settle(s, c);
    }
}

static void
on_conn(server *s, conn *c, unsigned events)
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
    conn_settle(s, c);
}

static void
sweep_idle(server *s, double now)
{
    conn *c, *next;

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

static void
begin_stop(server *s)
{
    conn *c, *next;
    size_t i;

    s->stopping = 1;
    s->stop_deadline = ndx_now_ms() + SRV_STOP_GRACE_MS;
    for (i = 0; i < s->lis_count; i++)
        listener_close(&s->lis[i]);
    say(s, "stopping: answering %zu request%s in flight", s->inflight,
        s->inflight == 1 ? "" : "s");
    for (c = s->conns; c; c = next) {
        next = c->next;
        if (c->dead)
            continue;
        c->in_off = c->in.len;
        conn_settle(s, c);
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
            complain("epoll_wait: %s", strerror(errno));
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

                if (read(e->fd, b, sizeof b) <= 0)
                    break;
                if (!s->stopping) {
                    begin_stop(s);
                } else {
                    /* A second signal: stop waiting for slow readers. */
                    s->stop_deadline = 0;
                    next_tick = 0;
                }
                break;
            }
            case EV_CONN:
                on_conn(s, (conn *)e, evs[i].events);
                break;
            }
        }
        /* New connections last, after the hang-ups of this turn have
         * freed their places. */
        for (i = 0; i < n; i++) {
            ev_src *e = evs[i].data.ptr;

            if (e->kind == EV_LISTEN && !s->stopping && e->fd >= 0)
                on_accept(s, (listener *)e);
        }
        now = ndx_now_ms();
        if (now >= next_tick) {
            sweep_idle(s, now);
            next_tick = now + SRV_TICK_MS;
        }
        while (s->graveyard) {
            conn *c = s->graveyard;

            s->graveyard = c->next;
            conn_free(c);
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
open_indexes(server *s)
{
    ndx_index *first = NULL;
    unsigned i;

    ndx_engine_config_init(&s->cfg);
    s->cfg.remotes = s->o.shard_count ? s->o.shards : NULL;
    s->cfg.remote_count = s->o.shard_count;
    s->cfg.allow_partial = s->o.allow_partial;
    if (ndx_index_open(&first, s->o.index_path, NDX_OPEN_READ, s->o.engine,
                       &s->cfg)) {
        complain("cannot open the index %s: %s", s->o.index_path,
                 ndx_errmsg());
        return -1;
    }
    s->an = calloc(s->o.threads, sizeof *s->an);
    if (!s->an) {
        ndx_index_close(first);
        complain("out of memory");
        return -1;
    }
    s->shared = ndx_index_thread_safe(first);
    if (s->shared) {
        s->cur = calloc(1, sizeof *s->cur);
        if (!s->cur) {
            ndx_index_close(first);
            complain("out of memory");
            return -1;
        }
        s->cur->ix = first;
        s->cur->refs = 1;
    } else {
        s->own = calloc(s->o.threads, sizeof *s->own);
        s->own_seen = calloc(s->o.threads, sizeof *s->own_seen);
        if (!s->own || !s->own_seen) {
            ndx_index_close(first);
            complain("out of memory");
            return -1;
        }
        s->own[0] = first;
        for (i = 1; i < s->o.threads; i++) {
            if (ndx_index_open(&s->own[i], s->o.index_path, NDX_OPEN_READ,
                               s->o.engine, &s->cfg)) {
                complain("cannot open the index %s for worker %u: %s",
                         s->o.index_path, i + 1, ndx_errmsg());
                return -1;
            }
        }
    }
    if (s->o.refresh_ms > 0 &&
        ndx_index_open(&s->probe, s->o.index_path, NDX_OPEN_READ,
                       s->o.engine, &s->cfg)) {
        complain("cannot open the index %s: %s", s->o.index_path,
                 ndx_errmsg());
        return -1;
    }
    return 0;
}

static int
start_threads(server *s)
{
    sigset_t block, old;
    unsigned i;
    int rc = 0;

    s->workers = calloc(s->o.threads, sizeof *s->workers);
    if (!s->workers) {
        complain("out of memory");
        return -1;
    }
    /* Signals go to the event loop's thread, not to the workers. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
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
    if (!rc && s->probe) {
        rc = pthread_create(&s->refresher, NULL, refresher_main, s);
        s->refresher_started = rc == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        complain("cannot start threads: %s", strerror(rc));
        return -1;
    }
    return 0;
}

static void
stop_threads(server *s)
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
        complain("cannot set up the event loop: %s", strerror(errno));
        return -1;
    }
    s->sig.fd = sp[0];
    sig_pipe_wr = sp[1];
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = &s->wake;
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake.fd, &ev);
    ev.data.ptr = &s->sig;
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sig.fd, &ev);
    for (i = 0; i < s->lis_count; i++) {
        ev.data.ptr = &s->lis[i].ev;
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lis[i].ev.fd, &ev)) {
            complain("cannot watch %s: %s", s->lis[i].name, strerror(errno));
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
        listener_close(&s->lis[i]);
    while (s->conns) {
        conn *c = s->conns;

        s->conns = c->next;
        if (!c->dead)
            close(c->ev.fd);
        conn_free(c);
    }
    while (s->graveyard) {
        conn *c = s->graveyard;

        s->graveyard = c->next;
        conn_free(c);
    }
    if (s->cur)
        index_release(s, s->cur);
    if (s->own)
        for (i = 0; i < s->o.threads; i++)
            if (s->own[i])
                ndx_index_close(s->own[i]);
    free(s->own);
    free(s->own_seen);
    if (s->an)
        for (i = 0; i < s->o.threads; i++)
            ndx_analyzer_free(s->an[i]);
    free(s->an);
    if (s->probe)
        ndx_index_close(s->probe);
    free(s->workers);
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
    pthread_mutex_destroy(&s->gen_lock);
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
        complain("out of memory");
        return 1;
    }
    s->ep = s->wake.fd = s->sig.fd = s->spare_fd = -1;
    pthread_mutex_init(&s->gen_lock, NULL);
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_cond_init(&s->q_cond, NULL);
    pthread_mutex_init(&s->done_lock, NULL);
    pthread_mutex_init(&s->rf_lock, NULL);
    pthread_cond_init(&s->rf_cond, NULL);
    atomic_init(&s->commits, 0);
    rc = parse_args(&s->o, argc, argv);
    if (rc >= 0)
        goto out;
    rc = 2;
    for (i = 0; i < s->o.listen_count; i++) {
        if (parse_addr(s->o.listen[i], &addrs[i]))
            goto out;
    }
    rc = 1;
    s->depth = s->o.max_inflight < SRV_PIPELINE ? s->o.max_inflight
                                                : SRV_PIPELINE;
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    if (open_indexes(s))
        goto out;
    for (i = 0; i < s->o.listen_count; i++) {
        listener *l = &s->lis[s->lis_count];

        l->ev.fd = -1;
        if (addrs[i].tcp ? listen_tcp(l, &addrs[i])
                         : listen_unix(l, &addrs[i]))
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
    if (start_threads(s))
        goto out;
    for (i = 0; i < s->lis_count; i++)
        say(s, "listening on %s", s->lis[i].name);
    say(s, "serving %s (%s engine) with %u thread%s", s->o.index_path,
        ndx_index_engine(s->shared ? s->cur->ix : s->own[0]), s->o.threads,
        s->o.threads == 1 ? "" : "s");
    fflush(stderr);
    run_loop(s);
    say(s, "stopped after %llu request%s", (unsigned long long)s->requests,
        s->requests == 1 ? "" : "s");
    rc = 0;
out:
    if (s->worker_count || s->refresher_started)
        stop_threads(s);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    server_free(s);
    return rc;
}
