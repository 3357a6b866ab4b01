/*
 * test_server.c - the query socket over real sockets.
 *
 * Each case runs `newsdex-search --listen` as a child process on a free
 * loopback port (and, for most, a Unix socket) over an index of corpus/
 * built with newsdex-index, and talks to it as a client would: results
 * equal to the command line's --json, every error code, the limits, slow
 * and vanishing clients, many connections, new commits seen without a
 * restart, and a clean stop on SIGTERM under load.
 */
#include <CUnit/CUnit.h>
#include <jansson.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"
#include "util/buf.h"
#include "util/net.h"

/* Articles of corpus/ (manifest.tsv): id, source, date. */
#define ART0 "000_5286196f00fcb6ee" /* Newsweek   2025-04-04 */
#define ART1 "001_b6ab9d925da0c223" /* unknown    2025-11-27 */
#define ART2 "002_59a3440c063501ba" /* USA TODAY  2025-02-18 */
#define ART3 "003_0036f894b85e4f95" /* Newslooks  2025-04-18 */
#define ART4 "004_0d195e7965c4b621" /* unknown    2025-04-29 */

#define IO_MS 10000 /* longest wait for one response */

/* ---- time and child processes -------------------------------------------- */

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

typedef struct proc {
    pid_t pid;
    int port;         /* TCP port it listens on */
    char sock[200];   /* Unix socket path, or "" */
    char log[320];    /* its stdout and stderr */
} proc;

#define MAX_PROCS 16
static pid_t live[MAX_PROCS];
static int atexit_set;

static void
kill_leftovers(void)
{
    size_t i;

    for (i = 0; i < MAX_PROCS; i++) {
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
    }
}

static void
track(pid_t pid, int on)
{
    size_t i;

    if (!atexit_set) {
        atexit(kill_leftovers);
        atexit_set = 1;
    }
    for (i = 0; i < MAX_PROCS; i++) {
        if (on && live[i] == 0) {
            live[i] = pid;
            return;
        }
        if (!on && live[i] == pid) {
            live[i] = 0;
            return;
        }
    }
}

static void
show_log(const proc *p)
{
    char *log = t_slurp(p->log, NULL);

    fprintf(stderr, "\n--- server log %s ---\n%s---\n", p->log,
            log ? log : "(none)");
    free(log);
}

/* Waits for the child to exit: its exit code, 128+signal, or -1 when it
 * is still running after timeout_ms (it is then killed). */
static int
proc_wait(proc *p, int timeout_ms)
{
    double end = ndx_now_ms() + timeout_ms;
    int status;

    while (ndx_now_ms() < end) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);

        if (r == p->pid) {
            track(p->pid, 0);
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
        }
        sleep_ms(10);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    track(p->pid, 0);
    p->pid = 0;
    return -1;
}

static int
proc_stop(proc *p)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    return proc_wait(p, 15000);
}

/*
 * Starts newsdex-search -i index --listen tcp:127.0.0.1:0 (and a Unix
 * socket when with_unix) plus the options in extra (NULL-terminated), and
 * waits until it says where it listens.  0, or -1 with the log shown.
 */
static int
proc_start(proc *p, const char *index, int with_unix,
           const char *const *extra)
{
    char prog[300], dir[160], unix_arg[260];
    const char *argv[40];
    size_t n = 0;
    double end;

    memset(p, 0, sizeof *p);
    snprintf(prog, sizeof prog, "%s", t_prog("newsdex-search"));
    snprintf(dir, sizeof dir, "%s", t_tmpdir());
    snprintf(p->log, sizeof p->log, "%s/server.log", dir);
    argv[n++] = prog;
    argv[n++] = "-i";
    argv[n++] = index;
    argv[n++] = "--listen";
    argv[n++] = "tcp:127.0.0.1:0";
    if (with_unix) {
        snprintf(p->sock, sizeof p->sock, "%s/s.sock", dir);
        snprintf(unix_arg, sizeof unix_arg, "unix:%s", p->sock);
        argv[n++] = "--listen";
        argv[n++] = unix_arg;
    }
    while (extra && *extra && n < 38)
        argv[n++] = *extra++;
    argv[n] = NULL;
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_RDONLY);

        /* The server goes with the test program, even if that crashes. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd < 0 || nul < 0)
            _exit(127);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    track(p->pid, 1);
    end = ndx_now_ms() + 15000;
    while (ndx_now_ms() < end) {
        char *log = t_slurp(p->log, NULL);
        const char *t = log ? strstr(log, "listening on tcp:127.0.0.1:")
                            : NULL;
        int ready = t && (!with_unix || strstr(log, "listening on unix:"));

        if (ready)
            p->port = atoi(t + strlen("listening on tcp:127.0.0.1:"));
        free(log);
        if (ready && p->port > 0)
            return 0;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            track(p->pid, 0);
            p->pid = 0;
            fprintf(stderr, "\nserver %s exited at start\n", prog);
            show_log(p);
            return -1;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "\nserver %s did not say where it listens\n", prog);
    show_log(p);
    proc_wait(p, 0);
    return -1;
}

/* ---- clients ------------------------------------------------------------- */

typedef struct client {
    int fd;
    char *buf;     /* bytes received, not yet returned */
    size_t len;    /* bytes in buf */
    size_t cap;    /* bytes allocated */
} client;

enum { LINE_OK, LINE_EOF, LINE_TIMEOUT, LINE_ERROR, LINE_PARTIAL };

/* When set, the receive buffer of the next TCP client (bytes): a small
 * one makes the server's answers wait on its side. */
static int client_rcvbuf;

static int
client_tcp(client *c, int port)
{
    struct sockaddr_in a;
    int one = 1;

    memset(c, 0, sizeof *c);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (client_rcvbuf)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &client_rcvbuf,
                   sizeof client_rcvbuf);
    client_rcvbuf = 0;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

static int
client_unix(client *c, const char *path)
{
    struct sockaddr_un a;

    memset(c, 0, sizeof *c);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    c->fd = ndx_dial((struct sockaddr *)&a, sizeof a);
    return c->fd < 0 ? -1 : 0;
}

static void
client_close(client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

static int
client_send(client *c, const void *data, size_t len)
{
    return ndx_send_all(c->fd, data, len);
}

static int
client_sends(client *c, const char *s)
{
    return client_send(c, s, strlen(s));
}

/* The next line (malloc'd, without "\n"), or NULL with *why saying why. */
static char *
client_line(client *c, int timeout_ms, int *why)
{
    double end = ndx_now_ms() + timeout_ms;

    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        struct pollfd pf;
        double left;
        ssize_t n;
        int r;

        if (nl) {
            size_t l = (size_t)(nl - c->buf);
            char *line = malloc(l + 1);

            if (!line) {
                *why = LINE_ERROR;
                return NULL;
            }
            memcpy(line, c->buf, l);
            line[l] = '\0';
            memmove(c->buf, nl + 1, c->len - l - 1);
            c->len -= l + 1;
            *why = LINE_OK;
            return line;
        }
        left = end - ndx_now_ms();
        if (left <= 0) {
            *why = LINE_TIMEOUT;
            return NULL;
        }
        pf.fd = c->fd;
        pf.events = POLLIN;
        pf.revents = 0;
        r = poll(&pf, 1, (int)left + 1);
        if (r <= 0)
            continue;
        if (c->cap - c->len < 65536) {
            char *b = realloc(c->buf, c->cap + 131072);

            if (!b) {
                *why = LINE_ERROR;
                return NULL;
            }
            c->buf = b;
            c->cap += 131072;
        }
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        *why = c->len ? LINE_PARTIAL : n == 0 ? LINE_EOF : LINE_ERROR;
        return NULL;
    }
}

/* The next response, parsed; NULL when none came or it is not JSON. */
static json_t *
client_read(client *c)
{
    json_error_t e;
    json_t *r;
    char *line;
    int why;

    line = client_line(c, IO_MS, &why);
    if (!line)
        return NULL;
    r = json_loads(line, 0, &e);
    if (!r)
        fprintf(stderr, "\nnot JSON: %.300s\n", line);
    free(line);
    return r;
}

/* Sends one request and its "\n" in one piece. */
static int
client_request(client *c, const char *req)
{
    size_t len = strlen(req);
    char *line = malloc(len + 1);
    int rc;

    if (!line)
        return -1;
    memcpy(line, req, len);
    line[len] = '\n';
    rc = client_send(c, line, len + 1);
    free(line);
    return rc;
}

/* Sends one request line and reads its response. */
static json_t *
client_call(client *c, const char *req)
{
    if (client_request(c, req))
        return NULL;
    return client_read(c);
}

/* A string member, or "(none)" so that comparisons never see NULL. */
static const char *
jstr(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v ? v : "(none)";
}

/* "ok" for a success, the error code for a failure, "?" otherwise. */
static const char *
resp_code(const json_t *r)
{
    json_t *ok = json_object_get(r, "ok");
    const char *code;

    if (json_is_true(ok))
        return "ok";
    code = json_string_value(
        json_object_get(json_object_get(r, "error"), "code"));
    return json_is_false(ok) && code ? code : "?";
}

static const char *
resp_message(const json_t *r)
{
    const char *m = json_string_value(
        json_object_get(json_object_get(r, "error"), "message"));

    return m ? m : "";
}

/* Whether one call answers pong. */
static int
pings(client *c)
{
    json_t *r = client_call(c, "{\"id\":\"p\",\"op\":\"ping\"}");
    const char *id = jstr(r, "id");
    int ok = r && json_is_true(json_object_get(r, "pong")) &&
             !strcmp(resp_code(r), "ok") && id && !strcmp(id, "p");

    json_decref(r);
    return ok;
}

static int
ping_tcp(int port)
{
    client c;
    int ok;

    if (client_tcp(&c, port))
        return 0;
    ok = pings(&c);
    client_close(&c);
    return ok;
}

/* ---- the index and the shared server ------------------------------------- */

static int
run_indexer(const char *dir, const char *path, int add)
{
    char cmd[1200];
    char *out = NULL, *err = NULL;
    int rc;

    snprintf(cmd, sizeof cmd, "%s -o '%s' %s--quiet '%s'",
             t_prog("newsdex-index"), dir, add ? "--add " : "", path);
    rc = t_run(cmd, &out, &err);
    if (rc)
        fprintf(stderr, "\n%s: exit %d\n%s\n", cmd, rc, err ? err : "");
    free(out);
    free(err);
    return rc;
}

/* An index of corpus/ in a fresh directory; NULL on failure. */
static const char *
new_corpus_index(char *dir, size_t dir_len)
{
    snprintf(dir, dir_len, "%s/index", t_tmpdir());
    return run_indexer(dir, "corpus", 0) ? NULL : dir;
}

static const char *
corpus_index(void)
{
    static char dir[300];
    static int state; /* 0 not built, 1 built, -1 failed */

    if (!state)
        state = new_corpus_index(dir, sizeof dir) ? 1 : -1;
    return state > 0 ? dir : NULL;
}

static proc shared;
static int shared_state;

/* The server most cases use: 4 threads, TCP and Unix socket. */
static proc *
shared_server(void)
{
    static const char *const extra[] = {"--threads", "4", NULL};
    const char *ix;

    if (shared_state)
        return shared_state > 0 ? &shared : NULL;
    shared_state = -1;
    ix = corpus_index();
    if (!ix || proc_start(&shared, ix, 1, extra))
        return NULL;
    shared_state = 1;
    return &shared;
}

/* Connects c to the shared server, over TCP (tcp) or its Unix socket;
 * the test stops when there is none. */
static void
connect_shared(client *c, int tcp)
{
    proc *p = shared_server();

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_FATAL((tcp ? client_tcp(c, p->port) : client_unix(c, p->sock))
                    == 0);
}

/* ---- the same results as the command line -------------------------------- */

typedef struct qcase {
    const char *q;
    const char *cli; /* newsdex-search options */
    const char *req; /* the same options as request members */
} qcase;

static const qcase cases[] = {
    {"ukraine", "", "{}"},
    {"ukraine", "-k 3", "{\"k\":3}"},
    {"\"red lines\"", "", "{}"},
    {"kallas OR putin", "--passages", "{\"group\":\"passage\"}"},
    {"ukraine", "--from 2025-04-01 --to 2025-04-30",
     "{\"from\":\"2025-04-01\",\"to\":\"2025-04-30\"}"},
    {"ukraine", "--source Newsweek", "{\"source\":\"Newsweek\"}"},
    {"ceasefire", "--sort newest", "{\"sort\":\"newest\"}"},
    {"peace talk*", "-k 4 --offset 1", "{\"k\":4,\"offset\":1}"},
    {"rubio negotiations", "", "{}"},
    {"witkoff", "--facets source,month --facet-limit 1",
     "{\"facets\":[\"source\",\"month\"],\"facet_limit\":1}"},
    {"rubio", "--facets day --to 2025-04-20",
     "{\"facets\":\"day\",\"to\":\"2025-04-20\"}"},
};
#define NCASES (sizeof cases / sizeof cases[0])

static json_t *expected[NCASES]; /* the command line's answers */

/* Runs every case through `newsdex-search --json`; 0 or -1. */
static int
cli_expectations(void)
{
    const char *ix = corpus_index();
    size_t i;

    if (!ix)
        return -1;
    for (i = 0; i < NCASES; i++) {
        char cmd[1200];
        char *out = NULL, *err = NULL;
        json_error_t e;
        int rc;

        if (expected[i])
            continue;
        snprintf(cmd, sizeof cmd, "%s -i '%s' --json %s '%s'",
                 t_prog("newsdex-search"), ix, cases[i].cli, cases[i].q);
        rc = t_run(cmd, &out, &err);
        expected[i] = rc == 0 && out ? json_loads(out, 0, &e) : NULL;
        if (!json_is_array(json_object_get(expected[i], "hits"))) {
            fprintf(stderr, "\n%s: exit %d, no hits in: %.300s\n%s\n", cmd,
                    rc, out ? out : "", err ? err : "");
            json_decref(expected[i]);
            expected[i] = NULL;
        }
        free(out);
        free(err);
        if (!expected[i])
            return -1;
    }
    return 0;
}

static char *
case_request(size_t i, long id)
{
    json_t *r = json_loads(cases[i].req, 0, NULL);
    char *s;

    json_object_set_new(r, "id", json_integer(id));
    json_object_set_new(r, "op", json_string("search"));
    json_object_set_new(r, "q", json_string(cases[i].q));
    s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return s;
}

/* Compares total, and article, passage and score of every hit. */
static int
same_results(const json_t *want, const json_t *got, char *why,
             size_t why_len)
{
    json_t *wh = json_object_get(want, "hits");
    json_t *gh = json_object_get(got, "hits");
    size_t i;

    if (!json_is_array(gh) ||
        json_array_size(wh) != json_array_size(gh) ||
        !json_equal(json_object_get(want, "total"),
                    json_object_get(got, "total"))) {
        snprintf(why, why_len, "hit count or total differs");
        return 0;
    }
    for (i = 0; i < json_array_size(wh); i++) {
        json_t *a = json_array_get(wh, i), *b = json_array_get(gh, i);
        const char *aa = json_string_value(json_object_get(a, "article"));
        const char *ba = json_string_value(json_object_get(b, "article"));
        double as = json_number_value(json_object_get(a, "score"));
        double bs = json_number_value(json_object_get(b, "score"));

        if (!aa || !ba || strcmp(aa, ba) ||
            !json_equal(json_object_get(a, "passage"),
                        json_object_get(b, "passage")) ||
            fabs(as - bs) > 1e-6 * (1 + fabs(as))) {
            snprintf(why, why_len, "hit %zu differs: %s#%lld %.6f vs "
                     "%s#%lld %.6f", i, aa ? aa : "?",
                     (long long)json_integer_value(
                         json_object_get(a, "passage")),
                     as, ba ? ba : "?",
                     (long long)json_integer_value(
                         json_object_get(b, "passage")),
                     bs);
            return 0;
        }
    }
    if ((json_object_get(want, "facets") || json_object_get(got, "facets")) &&
        !json_equal(json_object_get(want, "facets"),
                    json_object_get(got, "facets"))) {
        snprintf(why, why_len, "facets differ");
        return 0;
    }
    return 1;
}

/* Whether the hits are exactly the given articles, in any order. */
static int
hit_articles_are(const json_t *r, const char *const *ids, size_t n)
{
    json_t *hits = json_object_get(r, "hits");
    size_t i, j;

    if (json_array_size(hits) != n)
        return 0;
    for (i = 0; i < n; i++) {
        int found = 0;

        for (j = 0; j < n; j++) {
            const char *a = json_string_value(
                json_object_get(json_array_get(hits, j), "article"));

            found |= a && !strcmp(a, ids[i]);
        }
        if (!found)
            return 0;
    }
    return 1;
}

typedef struct load_arg {
    const proc *p;
    int use_unix;
    int rounds;
    int failures;
    long answered;
    char why[300];
} load_arg;

static void
load_fail(load_arg *a, const char *fmt, const char *detail)
{
    if (!a->failures++)
        snprintf(a->why, sizeof a->why, fmt, detail);
}

/* One client: every case, one at a time and then four pipelined. */
static void *
load_client(void *arg)
{
    load_arg *a = arg;
    client c;
    long id = 0;
    int r;

    if (a->use_unix ? client_unix(&c, a->p->sock)
                    : client_tcp(&c, a->p->port)) {
        load_fail(a, "cannot connect%s", "");
        return NULL;
    }
    for (r = 0; r < a->rounds && !a->failures; r++) {
        size_t depth = r % 2 ? 4 : 1, i, k;

        for (i = 0; i < NCASES && !a->failures; i += depth) {
            size_t m = i + depth > NCASES ? NCASES - i : depth;

            for (k = 0; k < m; k++) {
                char *req = case_request(i + k, id + (long)k);

                if (!req || client_request(&c, req))
                    load_fail(a, "cannot send%s", "");
                free(req);
            }
            for (k = 0; k < m && !a->failures; k++) {
                json_t *resp = client_read(&c);
                char why[200];

                if (!resp) {
                    load_fail(a, "no response%s", "");
                } else if (json_integer_value(json_object_get(resp, "id")) !=
                           id + (long)k) {
                    load_fail(a, "response out of order%s", "");
                } else if (strcmp(resp_code(resp), "ok")) {
                    load_fail(a, "error %s", resp_message(resp));
                } else if (!same_results(expected[i + k], resp, why,
                                         sizeof why)) {
                    load_fail(a, "differs from the command line: %s", why);
                } else {
                    a->answered++;
                }
                json_decref(resp);
            }
            id += (long)m;
        }
    }
    client_close(&c);
    return NULL;
}

static void
test_server_answers_concurrent_clients_like_the_command_line(void)
{
    static const char *const april[] = {ART0, ART3, ART4};
    static const char *const only0[] = {ART0};
    load_arg args[6];
    pthread_t th[6];
    proc *p = shared_server();
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_FATAL(cli_expectations() == 0);
    /* What the corpus says, so that equal answers are not equally empty:
     * "Ukraine" is in all five articles; "red lines" only in the Newsweek
     * one; three articles are dated April 2025. */
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(expected[0], "total")),
                    5);
    CU_ASSERT(hit_articles_are(expected[2], only0, 1));
    CU_ASSERT(hit_articles_are(expected[4], april, 3));
    CU_ASSERT(hit_articles_are(expected[5], only0, 1));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(expected[1], "hits")),
                    3);
    for (i = 0; i < 6; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].p = p;
        args[i].use_unix = i >= 4;
        args[i].rounds = 12;
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, load_client,
                                       &args[i]) == 0);
    }
    for (i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        if (args[i].failures)
            fprintf(stderr, "\nclient %zu: %s\n", i, args[i].why);
        CU_ASSERT_EQUAL(args[i].failures, 0);
        CU_ASSERT_EQUAL(args[i].answered, (long)(12 * NCASES));
    }
}

/* ---- errors -------------------------------------------------------------- */

static void
test_server_answers_malformed_json_with_its_position(void)
{
    client c;
    json_t *r;

    connect_shared(&c, 1);
    r = client_call(&c, "{\"op\":\"search\",\"q\":}");
    CU_ASSERT_STRING_EQUAL(resp_code(r), "invalid");
    CU_ASSERT_PTR_NOT_NULL(strstr(resp_message(r), "column 20"));
    CU_ASSERT(json_is_null(json_object_get(r, "id")));
    json_decref(r);
    r = client_call(&c, "[\"search\",\"ukraine\"]");
    CU_ASSERT_STRING_EQUAL(resp_code(r), "invalid");
    json_decref(r);
    CU_ASSERT(pings(&c));
    client_close(&c);
}

static void
test_server_rejects_an_unknown_op(void)
{
    client c;
    json_t *r;

    connect_shared(&c, 0);
    r = client_call(&c, "{\"id\":3,\"op\":\"delete\",\"article\":\"" ART0
                        "\"}");
    CU_ASSERT_STRING_EQUAL(resp_code(r), "invalid");
    CU_ASSERT_PTR_NOT_NULL(strstr(resp_message(r), "delete"));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "id")), 3);
    json_decref(r);
    r = client_call(&c, "{\"id\":4}");
    CU_ASSERT_STRING_EQUAL(resp_code(r), "invalid");
    json_decref(r);
    client_close(&c);
}

static void
test_server_rejects_members_of_the_wrong_type(void)
{
    static const char *const bad[] = {
        "{\"op\":\"search\"}",
        "{\"op\":\"search\",\"q\":5}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"k\":\"ten\"}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"k\":-1}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"k\":2.5}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"k\":1000000}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"offset\":\"1\"}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"sources\":[\"cnn\",1]}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"source\":{}}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"from\":\"yesterday\"}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"to\":20250401}",
        ("{\"op\":\"search\",\"q\":\"ukraine\",\"from\":\"2025-05-01\","
         "\"to\":\"2025-04-01\"}"),
        "{\"op\":\"search\",\"q\":\"ukraine\",\"sort\":\"best\"}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"group\":\"site\"}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"snippets\":\"yes\"}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"exact_total\":1}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"collapse_titles\":\"no\"}",
        "{\"op\":\"search\",\"q\":\"ukraine\",\"snippet_len\":0}",
        "{\"op\":\"get\"}",
        "{\"op\":\"get\",\"article\":7}",
        "{\"op\":7}",
        "{\"op\":\"ping\",\"op\":\"ping\"}",
    };
    client c;
    size_t i;

    connect_shared(&c, 1);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *r = client_call(&c, bad[i]);

        if (strcmp(resp_code(r), "invalid"))
            fprintf(stderr, "\n%s -> %s\n", bad[i], resp_code(r));
        CU_ASSERT_STRING_EQUAL(resp_code(r), "invalid");
        CU_ASSERT(strlen(resp_message(r)) > 0);
        json_decref(r);
    }
    CU_ASSERT(pings(&c));
    client_close(&c);
}

static void
test_server_answers_a_bad_query_with_syntax_and_column(void)
{
    client c;
    json_t *r;

    connect_shared(&c, 1);
    r = client_call(&c, "{\"id\":{\"n\":1},\"op\":\"search\","
                        "\"q\":\"ukraine \\\"red lines\"}");
    CU_ASSERT_STRING_EQUAL(resp_code(r), "syntax");
    CU_ASSERT_PTR_NOT_NULL(strstr(resp_message(r), "column 9"));
    CU_ASSERT_EQUAL(
        json_integer_value(json_object_get(json_object_get(r, "id"), "n")),
        1);
    json_decref(r);
    client_close(&c);
}

static void
test_server_gets_articles_and_stats(void)
{
    client c;
    json_t *r, *a;

    connect_shared(&c, 1);
    r = client_call(&c, "{\"id\":1,\"op\":\"get\",\"article\":\"" ART2
                        "\"}");
    a = json_object_get(r, "article");
    CU_ASSERT_STRING_EQUAL(resp_code(r), "ok");
    CU_ASSERT_STRING_EQUAL(jstr(a, "id"),
                           ART2);
    CU_ASSERT_STRING_EQUAL(jstr(a, "title"),
                           "In meeting with US, Russia said NATO must "
                           "disavow promise to Ukraine");
    CU_ASSERT_STRING_EQUAL(jstr(a, "date"),
                           "2025-02-18");
    CU_ASSERT(json_array_size(json_object_get(a, "passages")) > 1);
    json_decref(r);
    r = client_call(&c, "{\"id\":2,\"op\":\"get\",\"article\":\"nope\"}");
    CU_ASSERT_STRING_EQUAL(resp_code(r), "not_found");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "id")), 2);
    json_decref(r);
    r = client_call(&c, "{\"op\":\"stats\"}");
    CU_ASSERT_STRING_EQUAL(resp_code(r), "ok");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(
                        json_object_get(r, "stats"), "articles")),
                    5);
    json_decref(r);
    r = client_call(&c, "{\"id\":\"\xc3\xa9t\xc3\xa9\",\"op\":\"ping\"}");
    CU_ASSERT(json_is_true(json_object_get(r, "pong")));
    CU_ASSERT_STRING_EQUAL(jstr(r, "id"),
                           "\xc3\xa9t\xc3\xa9");
    json_decref(r);
    client_close(&c);
}

/* ---- limits -------------------------------------------------------------- */

/* A ping request padded to exactly len bytes. */
static char *
padded_ping(size_t len)
{
    static const char head[] = "{\"op\":\"ping\",\"pad\":\"";
    char *s = malloc(len + 1);

    if (!s || len < sizeof head + 2)
        return s;
    memcpy(s, head, sizeof head - 1);
    memset(s + sizeof head - 1, 'x', len - (sizeof head - 1) - 2);
    memcpy(s + len - 2, "\"}", 2);
    s[len] = '\0';
    return s;
}

static void
test_server_answers_an_oversized_line_and_goes_on(void)
{
    proc *p = shared_server();
    char *big = padded_ping(200000), *fits = padded_ping(65000);
    client c;
    json_t *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_FATAL(big && fits);
    CU_ASSERT_FATAL(client_tcp(&c, p->port) == 0);
    /* Over the default 65536 bytes, sent in pieces. */
    CU_ASSERT(client_send(&c, big, 70000) == 0);
    sleep_ms(50);
    CU_ASSERT(client_send(&c, big + 70000, 130000) == 0);
    CU_ASSERT(client_sends(&c, "\n") == 0);
    r = client_read(&c);
    CU_ASSERT_STRING_EQUAL(resp_code(r), "too_large");
    json_decref(r);
    CU_ASSERT(pings(&c));
    r = client_call(&c, fits);
    CU_ASSERT(json_is_true(json_object_get(r, "pong")));
    json_decref(r);
    client_close(&c);
    CU_ASSERT(ping_tcp(p->port));
    free(big);
    free(fits);
}

static void
test_server_limits_line_size_connections_and_idle_time(void)
{
    static const char *const extra[] = {
        "--max-request", "1000", "--max-connections", "2",
        "--idle-timeout", "1", NULL};
    const char *ix = corpus_index();
    char *at = padded_ping(1000), *over = padded_ping(1001);
    client c1, c2, c3, c4;
    double t0, end;
    json_t *r;
    proc p;
    int why, ok = 0;
    char *line;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(proc_start(&p, ix, 0, extra) == 0);
    CU_ASSERT_FATAL(client_tcp(&c1, p.port) == 0);
    CU_ASSERT_FATAL(client_tcp(&c2, p.port) == 0);
    CU_ASSERT(pings(&c1));
    CU_ASSERT(pings(&c2));
    /* The line limit counts the bytes before "\n". */
    r = client_call(&c2, at);
    CU_ASSERT(json_is_true(json_object_get(r, "pong")));
    json_decref(r);
    r = client_call(&c2, over);
    CU_ASSERT_STRING_EQUAL(resp_code(r), "too_large");
    json_decref(r);
    /* A third connection is told why and closed. */
    CU_ASSERT_FATAL(client_tcp(&c3, p.port) == 0);
    r = client_read(&c3);
    CU_ASSERT_STRING_EQUAL(resp_code(r), "overloaded");
    json_decref(r);
    line = client_line(&c3, IO_MS, &why);
    CU_ASSERT_PTR_NULL(line);
    CU_ASSERT_EQUAL(why, LINE_EOF);
    free(line);
    client_close(&c3);
    /* A freed place is taken again. */
    client_close(&c1);
    for (end = ndx_now_ms() + 3000; !ok && ndx_now_ms() < end;) {
        if (client_tcp(&c4, p.port) == 0) {
            ok = pings(&c4);
            client_close(&c4);
        }
        if (!ok)
            sleep_ms(50);
    }
    CU_ASSERT(ok);
    /* An idle connection is closed after about a second. */
    CU_ASSERT(pings(&c2));
    t0 = ndx_now_ms();
    line = client_line(&c2, 5000, &why);
    CU_ASSERT_PTR_NULL(line);
    CU_ASSERT_EQUAL(why, LINE_EOF);
    CU_ASSERT(ndx_now_ms() - t0 > 800);
    CU_ASSERT(ndx_now_ms() - t0 < 3000);
    free(line);
    client_close(&c2);
    /* So is a line that keeps arriving a byte at a time for longer. */
    CU_ASSERT_FATAL(client_tcp(&c2, p.port) == 0);
    t0 = ndx_now_ms();
    ok = 0;
    while (!ok && ndx_now_ms() - t0 < 5000) {
        struct pollfd pf = {c2.fd, POLLIN, 0};
        char b;

        if (client_send(&c2, "{", 1) != 0 ||
            (poll(&pf, 1, 250) == 1 && recv(c2.fd, &b, 1, 0) <= 0))
            ok = 1;
    }
    CU_ASSERT(ok);
    CU_ASSERT(ndx_now_ms() - t0 > 800);
    CU_ASSERT(ndx_now_ms() - t0 < 3000);
    client_close(&c2);
    CU_ASSERT(ping_tcp(p.port));
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
    free(at);
    free(over);
}

/* ---- slow, vanishing and many clients ------------------------------------ */

typedef struct trickle_arg {
    int port;
    volatile int done;
    int ok;
} trickle_arg;

/* Sends a ping a few bytes at 400 ms apart, then the rest. */
static void *
trickle_client(void *arg)
{
    static const char req[] = "{\"id\":\"slow\",\"op\":\"ping\"}\n";
    trickle_arg *a = arg;
    client c;
    json_t *r;
    size_t i;

    if (client_tcp(&c, a->port)) {
        a->done = 1;
        return NULL;
    }
    for (i = 0; i < 5; i++) {
        client_send(&c, req + i, 1);
        sleep_ms(400);
    }
    client_sends(&c, req + 5);
    r = client_read(&c);
    a->ok = r && json_is_true(json_object_get(r, "pong"));
    json_decref(r);
    client_close(&c);
    a->done = 1;
    return NULL;
}

static void
test_server_serves_others_while_a_client_trickles(void)
{
    proc *p = shared_server();
    trickle_arg ta;
    pthread_t th;
    client c;
    double t0, took;
    int i, answered = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_FATAL(cli_expectations() == 0);
    memset(&ta, 0, sizeof ta);
    ta.port = p->port;
    CU_ASSERT_FATAL(pthread_create(&th, NULL, trickle_client, &ta) == 0);
    sleep_ms(300);
    CU_ASSERT_FATAL(client_tcp(&c, p->port) == 0);
    t0 = ndx_now_ms();
    for (i = 0; i < 40; i++) {
        char *req = case_request((size_t)i % NCASES, i), why[200];
        json_t *r = client_call(&c, req);

        answered += r && same_results(expected[i % (int)NCASES], r, why,
                                      sizeof why);
        json_decref(r);
        free(req);
    }
    took = ndx_now_ms() - t0;
    /* All answered while the slow request was still coming in. */
    CU_ASSERT_EQUAL(answered, 40);
    CU_ASSERT(!ta.done);
    CU_ASSERT(took < 1500);
    client_close(&c);
    pthread_join(th, NULL);
    CU_ASSERT(ta.ok);
}

static void
test_server_survives_clients_that_vanish(void)
{
    proc *p = shared_server();
    client c;
    char *line;
    int i, why;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_FATAL(cli_expectations() == 0);
    /* Connects and goes. */
    CU_ASSERT_FATAL(client_tcp(&c, p->port) == 0);
    client_close(&c);
    /* Half a request, then gone. */
    CU_ASSERT_FATAL(client_unix(&c, p->sock) == 0);
    client_sends(&c, "{\"op\":\"search\",\"q\":\"ukr");
    client_close(&c);
    /* Many requests, gone before the answers. */
    CU_ASSERT_FATAL(client_tcp(&c, p->port) == 0);
    for (i = 0; i < 64; i++) {
        char *req = case_request((size_t)i % NCASES, i);

        client_request(&c, req);
        free(req);
    }
    client_close(&c);
    /* Resets the connection with a request unread. */
    CU_ASSERT_FATAL(client_tcp(&c, p->port) == 0);
    {
        struct linger lg = {1, 0};

        client_sends(&c, "{\"op\":\"stats\"}\n{\"op\":\"st");
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    client_close(&c);
    /* Sends its request and its end: still gets the answer. */
    CU_ASSERT_FATAL(client_tcp(&c, p->port) == 0);
    client_sends(&c, "{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"ping\"}");
    shutdown(c.fd, SHUT_WR);
    for (i = 1; i <= 2; i++) {
        json_t *r = client_read(&c);

        CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "id")), i);
        CU_ASSERT(json_is_true(json_object_get(r, "pong")));
        json_decref(r);
    }
    line = client_line(&c, IO_MS, &why);
    CU_ASSERT_PTR_NULL(line);
    CU_ASSERT_EQUAL(why, LINE_EOF);
    free(line);
    client_close(&c);
    CU_ASSERT(ping_tcp(p->port));
}

static void
test_server_handles_a_thousand_quick_connections(void)
{
    enum { HELD = 200 };
    proc *p = shared_server();
    client *held;
    double end = ndx_now_ms() + 20000;
    int i, opened = 0, answered = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* 200 open at once, each answered. */
    held = calloc(HELD, sizeof *held);
    CU_ASSERT_PTR_NOT_NULL_FATAL(held);
    for (i = 0; i < HELD; i++) {
        held[i].fd = -1;
        opened += client_tcp(&held[i], p->port) == 0;
    }
    for (i = 0; i < HELD; i++)
        answered += held[i].fd >= 0 && pings(&held[i]);
    for (i = 0; i < HELD; i++)
        client_close(&held[i]);
    free(held);
    CU_ASSERT_EQUAL(opened, HELD);
    CU_ASSERT_EQUAL(answered, HELD);
    /* Then 1000 opened and closed one after the other. */
    opened = answered = 0;
    for (i = 0; i < 1000 && ndx_now_ms() < end; i++) {
        client c;

        if ((i % 2 ? client_unix(&c, p->sock) : client_tcp(&c, p->port)))
            continue;
        opened++;
        if (i % 50 == 0)
            answered += pings(&c);
        client_close(&c);
    }
    CU_ASSERT_EQUAL(opened, 1000);
    CU_ASSERT_EQUAL(answered, 20);
    CU_ASSERT(ping_tcp(p->port));
}

/* ---- new commits --------------------------------------------------------- */

static long long
total_of(client *c, const char *q)
{
    char req[300];
    json_t *r;
    long long n;

    snprintf(req, sizeof req, "{\"op\":\"search\",\"q\":\"%s\"}", q);
    r = client_call(c, req);
    n = strcmp(resp_code(r), "ok") ? -1
        : json_integer_value(json_object_get(r, "total"));
    json_decref(r);
    return n;
}

/* The total of q once it is no longer was (the server picks up a new
 * commit within its refresh period), or was after 10 s. */
static long long
total_once_changed(client *c, const char *q, long long was)
{
    double end = ndx_now_ms() + 10000;
    long long n;

    while ((n = total_of(c, q)) == was && ndx_now_ms() < end)
        sleep_ms(50);
    return n;
}

static void
test_server_sees_a_new_commit_without_restart(void)
{
    static const char *const extra[] = {"--refresh-ms", "100", NULL};
    char dir[300];
    const char *ix = new_corpus_index(dir, sizeof dir);
    double end;
    long long n = 0;
    client c;
    json_t *r;
    proc p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(proc_start(&p, ix, 0, extra) == 0);
    CU_ASSERT_FATAL(client_tcp(&c, p.port) == 0);
    CU_ASSERT_EQUAL(total_of(&c, "quokka"), 0);
    CU_ASSERT_EQUAL(total_of(&c, "ukraine"), 5);
    CU_ASSERT_FATAL(run_indexer(ix, "tests/fixtures/server/extra", 1) == 0);
    n = total_once_changed(&c, "quokka", 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(total_of(&c, "ukraine"), 5);
    r = client_call(&c, "{\"op\":\"search\",\"q\":\"census\"}");
    CU_ASSERT_STRING_EQUAL(
        jstr(json_array_get(json_object_get(r, "hits"), 0), "title"),
        "Volunteers finish the spring quokka census");
    json_decref(r);
    r = client_call(&c, "{\"op\":\"stats\"}");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(
                        json_object_get(r, "stats"), "articles")),
                    6);
    json_decref(r);
    /* Rebuilt from corpus/ alone: the added article is gone again. */
    CU_ASSERT_FATAL(run_indexer(ix, "corpus", 0) == 0);
    n = total_once_changed(&c, "quokka", 1);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(total_of(&c, "ukraine"), 5);
    /* One article deleted, then the index merged into one segment: the
     * server follows both. */
    {
        char cmd[1200], *out = NULL, *g;
        long long gen = -1;

        snprintf(cmd, sizeof cmd, "%s -o '%s' -q --delete "
                 "000_5286196f00fcb6ee", t_prog("newsdex-index"), ix);
        CU_ASSERT_FATAL(t_run(cmd, NULL, NULL) == 0);
        n = total_once_changed(&c, "ukraine", 5);
        CU_ASSERT_EQUAL(n, 4);
        snprintf(cmd, sizeof cmd, "%s -o '%s' -q --optimize",
                 t_prog("newsdex-index"), ix);
        CU_ASSERT_FATAL(t_run(cmd, NULL, NULL) == 0);
        snprintf(cmd, sizeof cmd, "%s -i '%s' --stats",
                 t_prog("newsdex-search"), ix);
        CU_ASSERT_FATAL(t_run(cmd, &out, NULL) == 0);
        g = out ? strstr(out, "\"generation\":") : NULL;
        CU_ASSERT_FATAL(g != NULL);
        gen = atoll(g + 13);
        free(out);
        for (end = ndx_now_ms() + 10000; ndx_now_ms() < end; sleep_ms(50)) {
            r = client_call(&c, "{\"op\":\"stats\"}");
            n = json_integer_value(json_object_get(
                json_object_get(r, "stats"), "generation"));
            json_decref(r);
            if (n == gen)
                break;
        }
        CU_ASSERT_EQUAL(n, gen);
        r = client_call(&c, "{\"op\":\"stats\"}");
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(
                            json_object_get(r, "stats"), "articles")),
                        4);
        json_decref(r);
        CU_ASSERT_EQUAL(total_of(&c, "ukraine"), 4);
    }
    client_close(&c);
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
}

/* ---- the command line ---------------------------------------------------- */

static int
run_status(const char *args, char **err)
{
    char cmd[1200];
    int rc;

    snprintf(cmd, sizeof cmd, "timeout 20 %s %s",
             t_prog("newsdex-search"), args);
    rc = t_run(cmd, NULL, err);
    return rc;
}

static void
test_server_exits_1_when_it_cannot_listen_and_2_on_usage(void)
{
    proc *p = shared_server();
    const char *ix = corpus_index();
    char args[600], addr[64];
    char *err = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    snprintf(addr, sizeof addr, "tcp:127.0.0.1:%d", p->port);
    snprintf(args, sizeof args, "-i '%s' --listen %s", ix, addr);
    CU_ASSERT_EQUAL(run_status(args, &err), 1);
    CU_ASSERT(err && strstr(err, addr));
    free(err);
    snprintf(args, sizeof args, "-i '%s' --listen unix:%s", ix, p->sock);
    CU_ASSERT_EQUAL(run_status(args, &err), 1);
    free(err);
    snprintf(args, sizeof args,
             "-i '%s/missing' --listen tcp:127.0.0.1:0", ix);
    CU_ASSERT_EQUAL(run_status(args, &err), 1);
    free(err);
    snprintf(args, sizeof args, "-i '%s' --listen tcp:127.0.0.1:notaport",
             ix);
    CU_ASSERT_EQUAL(run_status(args, &err), 2);
    free(err);
    CU_ASSERT_EQUAL(run_status("--listen tcp:127.0.0.1:0", &err), 2);
    free(err);
    snprintf(args, sizeof args, "-i '%s' --listen tcp:0 --threads 0", ix);
    CU_ASSERT_EQUAL(run_status(args, &err), 2);
    free(err);
    snprintf(args, sizeof args, "-i '%s' --listen tcp:0 ukraine", ix);
    CU_ASSERT_EQUAL(run_status(args, &err), 2);
    free(err);
    snprintf(args, sizeof args, "-i '%s' --listen tcp:0 --idle-timeout-ms -5",
             ix);
    CU_ASSERT_EQUAL(run_status(args, &err), 2);
    CU_ASSERT(err && strstr(err, "--idle-timeout-ms"));
    free(err);
    snprintf(args, sizeof args, "-i '%s' --listen tcp:0 --quiet=yes", ix);
    CU_ASSERT_EQUAL(run_status(args, &err), 2);
    CU_ASSERT(err && strstr(err, "--quiet takes no value"));
    free(err);
    CU_ASSERT(ping_tcp(p->port));
}

/* ---- stopping ------------------------------------------------------------ */

typedef struct term_arg {
    const proc *p;
    int use_unix;
    int failures;
    long answered;
    char why[300];
} term_arg;

/* Pipelines searches until the server closes; every response that came
 * must be whole and right. */
static void *
term_client(void *arg)
{
    term_arg *a = arg;
    double end = ndx_now_ms() + 20000;
    client c;
    long id = 0;
    int closed = 0;

    if (a->use_unix ? client_unix(&c, a->p->sock)
                    : client_tcp(&c, a->p->port)) {
        a->failures++;
        snprintf(a->why, sizeof a->why, "cannot connect");
        return NULL;
    }
    while (!closed && ndx_now_ms() < end) {
        long k, sent = 0;

        for (k = 0; k < 4; k++) {
            char *req = case_request((size_t)(id + k) % NCASES, id + k);
            int bad = !req || client_request(&c, req);

            free(req);
            if (bad)
                break;
            sent++;
        }
        for (k = 0; k < 4 && !closed; k++) {
            char *line, why_s[200];
            json_t *r;
            int why;

            line = client_line(&c, IO_MS, &why);
            if (!line) {
                closed = 1;
                if (why == LINE_PARTIAL || why == LINE_TIMEOUT) {
                    a->failures++;
                    snprintf(a->why, sizeof a->why, "%s after %ld answers",
                             why == LINE_PARTIAL ? "partial line"
                                                 : "no answer, no close",
                             a->answered);
                }
                break;
            }
            r = json_loads(line, 0, NULL);
            if (!r || strcmp(resp_code(r), "ok") ||
                json_integer_value(json_object_get(r, "id")) != id + k ||
                !same_results(expected[(size_t)(id + k) % NCASES], r, why_s,
                              sizeof why_s)) {
                if (!a->failures++)
                    snprintf(a->why, sizeof a->why, "bad answer: %.200s",
                             line);
            } else {
                a->answered++;
            }
            json_decref(r);
            free(line);
        }
        if (sent < 4)
            closed = 1;
        id += 4;
    }
    client_close(&c);
    return NULL;
}

static void
test_server_stops_on_sigterm_without_losing_answers(void)
{
    proc *p = shared_server();
    term_arg args[4];
    pthread_t th[4];
    struct stat sb;
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_FATAL(cli_expectations() == 0);
    for (i = 0; i < 4; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].p = p;
        args[i].use_unix = i == 3;
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, term_client,
                                       &args[i]) == 0);
    }
    sleep_ms(400);
    CU_ASSERT_EQUAL(proc_stop(p), 0);
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (args[i].failures)
            fprintf(stderr, "\nclient %zu: %s\n", i, args[i].why);
        CU_ASSERT_EQUAL(args[i].failures, 0);
        CU_ASSERT(args[i].answered > 0);
    }
    /* Gone: the socket file removed, the port closed. */
    CU_ASSERT(stat(p->sock, &sb) != 0);
    CU_ASSERT(!ping_tcp(p->port));
    shared_state = 0;
}


/* ---- abuse: clients that do not read, idle crowds, signals ---------------- */

/* An index of n one-passage articles that all say "harbour", each about
 * 80 words: a k=1000 search without snippets answers about 600 KB. */
static const char *
harbour_index(size_t n)
{
    static char dir[300];
    static int state;
    char path[400];
    FILE *f;
    size_t i, w;

    if (state)
        return state > 0 ? dir : NULL;
    state = -1;
    snprintf(path, sizeof path, "%s/harbour.jsonl", t_tmpdir());
    snprintf(dir, sizeof dir, "%s/harbour-index", t_tmpdir());
    if (!(f = fopen(path, "w")))
        return NULL;
    for (i = 0; i < n; i++) {
        fprintf(f, "{\"id\":\"h%zu\",\"source\":\"Gazette\",\"text\":\"The "
                   "harbour", i);
        for (w = 0; w < 80; w++)
            fprintf(f, " word%zu", (i * 7 + w * 13) % 5000);
        fprintf(f, ".\"}\n");
    }
    if (fclose(f) != 0 || run_indexer(dir, path, 0))
        return NULL;
    state = 1;
    return dir;
}

/* Resident memory of a process in KB, from /proc; -1 if unknown. */
static long
rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* Sends count copies of line without waiting (the peer may stop reading
 * them); returns how many were sent whole. */
static size_t
flood(client *c, const char *line, size_t count, double for_ms)
{
    size_t len = strlen(line), sent = 0, off = 0;
    double end = ndx_now_ms() + for_ms;

    while (sent < count && ndx_now_ms() < end) {
        ssize_t n = send(c->fd, line + off, len - off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            off += (size_t)n;
            if (off == len) {
                off = 0;
                sent++;
            }
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            sleep_ms(5);
        } else if (n < 0 && errno != EINTR) {
            break;
        }
    }
    return sent;
}

/* Median of the round trips of count pings on a fresh connection, in ms
 * (a ping that fails counts as IO_MS). */
static double
ping_median_ms(int port, int count)
{
    double t[64], x;
    client c;
    int i, k;

    if (count > 64)
        count = 64;
    if (client_tcp(&c, port))
        return IO_MS;
    for (i = 0; i < count; i++) {
        double t0 = ndx_now_ms();

        t[i] = pings(&c) ? ndx_now_ms() - t0 : IO_MS;
    }
    client_close(&c);
    for (i = 1; i < count; i++)
        for (k = i; k > 0 && t[k - 1] > t[k]; k--) {
            x = t[k];
            t[k] = t[k - 1];
            t[k - 1] = x;
        }
    return t[count / 2];
}

static void
test_server_memory_stays_bounded_when_clients_do_not_read(void)
{
    static const char *const extra[] = {"--threads", "2", NULL};
    static const char req[] =
        "{\"q\":\"harbour\",\"k\":1000,\"snippets\":false}\n";
    const char *ix = harbour_index(2000);
    client c[4];
    long before, after;
    double p50;
    size_t i;
    proc p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(proc_start(&p, ix, 0, extra) == 0);
    before = rss_kb(p.pid);
    /* Four clients send 64 KiB of large searches each and read nothing:
     * the answers would take about 1.5 GB. */
    for (i = 0; i < 4; i++) {
        CU_ASSERT_FATAL(client_tcp(&c[i], p.port) == 0);
        flood(&c[i], req, 65536 / (sizeof req - 1), 2000);
    }
    sleep_ms(3000);
    after = rss_kb(p.pid);
    p50 = ping_median_ms(p.port, 20);
    printf("\n    server RSS %ld KB before, %ld KB under 4 clients that do "
           "not read; ping p50 %.2f ms ", before, after, p50);
    if (T_UNDER_ASAN)
        t_skip("the memory bound is not checked under AddressSanitizer");
    else
        CU_ASSERT_TRUE(after > 0 && after - before < 120 * 1024);
    CU_ASSERT_TRUE(p50 < 200);
    for (i = 0; i < 4; i++)
        client_close(&c[i]);
    CU_ASSERT(ping_tcp(p.port));
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
}

static void
test_server_answer_budget_closes_stalled_readers(void)
{
    static const char *const extra[] = {"--threads", "2", "--max-output",
                                        "3000000", NULL};
    static const char req[] =
        "{\"q\":\"harbour\",\"k\":1000,\"snippets\":false}\n";
    const char *ix = harbour_index(2000);
    client c[6];
    char *log;
    int why, closed = 0;
    size_t i;
    proc p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(proc_start(&p, ix, 0, extra) == 0);
    for (i = 0; i < 6; i++) {
        CU_ASSERT_FATAL(client_tcp(&c[i], p.port) == 0);
        flood(&c[i], req, 40, 1000);
    }
    /* The budget (3 MB) is spent by the answers no one reads; those who
     * hold it without reading are closed after a second and others are
     * served. */
    CU_ASSERT(ping_median_ms(p.port, 5) < 3000);
    sleep_ms(500);
    for (i = 0; i < 6; i++) {
        char *line;

        /* Drain what was sent; a closed connection ends in EOF. */
        while ((line = client_line(&c[i], 200, &why)) != NULL)
            free(line);
        closed += why == LINE_EOF || why == LINE_ERROR || why == LINE_PARTIAL;
        client_close(&c[i]);
    }
    CU_ASSERT_TRUE(closed > 0);
    log = t_slurp(p.log, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(log ? log : "", "--max-output"));
    free(log);
    CU_ASSERT(ping_tcp(p.port));
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
}

static void
test_server_idle_connections_give_way_to_new_ones(void)
{
    static const char *const extra[] = {"--max-connections", "3", NULL};
    const char *ix = corpus_index();
    client idle[3], c;
    int why, evicted = 0;
    size_t i;
    proc p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(proc_start(&p, ix, 0, extra) == 0);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_FATAL(client_tcp(&idle[i], p.port) == 0);
        CU_ASSERT(pings(&idle[i]));
    }
    sleep_ms(1300);
    /* The table is full of connections idle for over a second: the
     * newcomer is served, and the one idle longest (the first) closed. */
    CU_ASSERT_FATAL(client_tcp(&c, p.port) == 0);
    CU_ASSERT(pings(&c));
    CU_ASSERT(pings(&c));
    client_line(&idle[0], 2000, &why);
    evicted = why == LINE_EOF || why == LINE_ERROR;
    CU_ASSERT(evicted);
    CU_ASSERT(pings(&idle[2]));
    client_close(&c);
    for (i = 0; i < 3; i++)
        client_close(&idle[i]);
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
}

static void
test_server_refused_lines_keep_their_id_unparsed(void)
{
    static const char *const extra[] = {"--threads", "1", "--max-inflight",
                                        "1", NULL};
    const char *ix = harbour_index(2000);
    client c, busy;
    json_t *r;
    int i, refused = 0, with_id = 0;
    proc p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(proc_start(&p, ix, 0, extra) == 0);
    CU_ASSERT_FATAL(client_tcp(&busy, p.port) == 0);
    CU_ASSERT_FATAL(client_tcp(&c, p.port) == 0);
    /* Slow searches on one connection, then on another lines that are
     * not even JSON after their id: refused while a search runs, they
     * answer with their id all the same (nothing parsed them whole). */
    for (i = 0; i < 100; i++)
        CU_ASSERT_FATAL(client_sends(&busy, "{\"q\":\"harbour\",\"k\":1000,"
                                            "\"snippets\":false}\n") == 0);
    sleep_ms(20);
    CU_ASSERT_FATAL(client_sends(&c, "{\"id\":0,\"op\":\"ping\"}\n"
                                     "{\"id\":1, \"q\":[[[[ not json\n"
                                     "{\"id\":\"two\",\"q\":{{{\n"
                                     "{\"id\":3,\"op\":\"ping\"}\n") == 0);
    for (i = 0; i < 4; i++) {
        r = client_read(&c);
        if (r && !strcmp(resp_code(r), "overloaded")) {
            json_t *id = json_object_get(r, "id");

            refused++;
            with_id += (json_is_integer(id) && json_integer_value(id) == i) ||
                       (i == 2 && !strcmp(jstr(r, "id"), "two"));
        }
        json_decref(r);
    }
    CU_ASSERT_TRUE(refused >= 2);
    CU_ASSERT_EQUAL(with_id, refused);
    client_close(&c);
    client_close(&busy);
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
}

static void
test_server_sighup_looks_for_a_new_commit_and_does_not_kill(void)
{
    static const char *const extra[] = {"--refresh-ms", "0", NULL};
    char dir[300];
    const char *ix = new_corpus_index(dir, sizeof dir);
    struct stat sb;
    double end;
    long long n = 0;
    client c;
    proc p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(proc_start(&p, ix, 1, extra) == 0);
    CU_ASSERT_FATAL(client_tcp(&c, p.port) == 0);
    CU_ASSERT_EQUAL(total_of(&c, "quokka"), 0);
    CU_ASSERT_FATAL(run_indexer(ix, "tests/fixtures/server/extra", 1) == 0);
    /* Never refreshed by itself (--refresh-ms 0); SIGHUP moves it. */
    sleep_ms(300);
    CU_ASSERT_EQUAL(total_of(&c, "quokka"), 0);
    CU_ASSERT_FATAL(kill(p.pid, SIGHUP) == 0);
    for (end = ndx_now_ms() + 5000; ndx_now_ms() < end; sleep_ms(50))
        if ((n = total_of(&c, "quokka")) != 0)
            break;
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT(pings(&c));
    client_close(&c);
    /* Still the same process, which then stops cleanly. */
    CU_ASSERT_EQUAL(waitpid(p.pid, NULL, WNOHANG), 0);
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
    CU_ASSERT(stat(p.sock, &sb) != 0);
}

static void
test_server_max_request_is_bounded(void)
{
    char *err = NULL;
    char args[400];

    snprintf(args, sizeof args, "-i %s --listen tcp:127.0.0.1:0 "
             "--max-request 1073741824", corpus_index());
    CU_ASSERT_EQUAL(run_status(args, &err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err ? err : "", "--max-request"));
    free(err);
}

/* ---- HTTP ---------------------------------------------------------------- */

/* Starts a server on index with an HTTP listener too; its port in
 * *http_port. */
static int
http_start_on(proc *p, const char *index, const char *const *extra_in,
              int *http_port)
{
    const char *extra[24];
    size_t n = 0;
    char *log;
    const char *t;

    extra[n++] = "--listen";
    extra[n++] = "http:127.0.0.1:0";
    while (extra_in && *extra_in && n < 22)
        extra[n++] = *extra_in++;
    extra[n] = NULL;
    if (!index || proc_start(p, index, 0, extra))
        return -1;
    log = t_slurp(p->log, NULL);
    t = log ? strstr(log, "listening on http:127.0.0.1:") : NULL;
    *http_port = t ? atoi(t + strlen("listening on http:127.0.0.1:")) : 0;
    free(log);
    return *http_port > 0 ? 0 : -1;
}

/* The same on the index of corpus/. */
static int
http_start(proc *p, const char *const *extra_in, int *http_port)
{
    return http_start_on(p, corpus_index(), extra_in, http_port);
}

typedef struct hresp {
    int status;
    char head[4096];  /* status line and headers, NUL-terminated */
    char *body;       /* malloc'd, NUL-terminated (chunks joined) */
    size_t body_len;
    size_t chunks;    /* chunks of a chunked body, the last one too */
    size_t max_chunk; /* bytes of the longest */
} hresp;

/* Receives more bytes into c->buf; 1, 0 at EOF, -1 on error or timeout. */
static int
client_more(client *c)
{
    struct pollfd pf;
    ssize_t n;

    pf.fd = c->fd;
    pf.events = POLLIN;
    pf.revents = 0;
    if (poll(&pf, 1, IO_MS) <= 0)
        return -1;
    if (c->cap - c->len < 65536) {
        char *b = realloc(c->buf, c->cap + 131072);

        if (!b)
            return -1;
        c->buf = b;
        c->cap += 131072;
    }
    n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n > 0 ? 1 : n == 0 ? 0 : -1;
}

/* Drops the first n bytes of c->buf. */
static void
client_eat(client *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Reads one response (Content-Length, chunked, or a body up to the close
 * when it has neither); 0, or -1 (a chunked body cut short too). */
static int
http_read(client *c, hresp *r, int head_only)
{
    char *end, *cl, *te;
    size_t hl, want;

    memset(r, 0, sizeof *r);
    while (!(c->len && (end = memmem(c->buf, c->len, "\r\n\r\n", 4))))
        if (client_more(c) != 1)
            return -1;
    hl = (size_t)(end - c->buf) + 4;
    if (hl >= sizeof r->head)
        return -1;
    memcpy(r->head, c->buf, hl);
    r->head[hl] = '\0';
    client_eat(c, hl);
    r->status = atoi(r->head + 9);
    r->body = calloc(1, 1);
    cl = strcasestr(r->head, "\r\nContent-Length:");
    te = strcasestr(r->head, "\r\nTransfer-Encoding: chunked");
    if (head_only || r->status == 304)
        return 0;
    if (te) {
        for (;;) {
            char *crlf;
            size_t n;

            while (!(c->len && (crlf = memmem(c->buf, c->len, "\r\n", 2))))
                if (client_more(c) != 1)
                    return -1;
            n = strtoul(c->buf, NULL, 16);
            hl = (size_t)(crlf - c->buf) + 2;
            while (c->len < hl + n + 2)
                if (client_more(c) != 1)
                    return -1;
            r->body = realloc(r->body, r->body_len + n + 1);
            memcpy(r->body + r->body_len, c->buf + hl, n);
            r->body_len += n;
            r->body[r->body_len] = '\0';
            client_eat(c, hl + n + 2);
            r->chunks++;
            if (n > r->max_chunk)
                r->max_chunk = n;
            if (n == 0)
                return 0;
        }
    }
    if (!cl) {
        int rc;

        while ((rc = client_more(c)) == 1)
            ;
        if (rc)
            return -1;
    }
    want = cl ? strtoul(cl + 17, NULL, 10) : c->len;
    while (c->len < want)
        if (client_more(c) != 1)
            return -1;
    r->body = realloc(r->body, want + 1);
    memcpy(r->body, c->buf, want);
    r->body[want] = '\0';
    r->body_len = want;
    client_eat(c, want);
    return 0;
}

/* One request on a new connection; the response in *r (free r->body). */
static int
http_once(int port, const char *req, hresp *r)
{
    client c;
    int rc;

    if (client_tcp(&c, port))
        return -1;
    rc = client_sends(&c, req) ? -1 : http_read(&c, r, 0);
    client_close(&c);
    return rc;
}

static json_t *
http_json(int port, const char *target, int *status)
{
    char req[4096];
    hresp r;
    json_t *j = NULL;

    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
    *status = 0;
    if (http_once(port, req, &r) == 0) {
        *status = r.status;
        if (!strstr(r.head, "Content-Type: application/json"))
            fprintf(stderr, "\n%s: not JSON:\n%s", target, r.head);
        j = json_loads(r.body, 0, NULL);
    }
    free(r.body);
    return j;
}

/* Reads one response on c: the error object with status and code, a JSON
 * body, and "Connection: <connection>"; its message is copied to msg. */
static void
expect_error(client *c, int status, const char *code, const char *connection,
             char *msg, size_t msg_len)
{
    char want[64];
    hresp r;
    json_t *j;

    *msg = '\0';
    CU_ASSERT_FATAL(http_read(c, &r, 0) == 0);
    CU_ASSERT_EQUAL(r.status, status);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "Content-Type: application/json"));
    snprintf(want, sizeof want, "Connection: %s\r\n", connection);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, want));
    j = json_loads(r.body, 0, NULL);
    CU_ASSERT(json_is_false(json_object_get(j, "ok")));
    CU_ASSERT_STRING_EQUAL(resp_code(j), code);
    snprintf(msg, msg_len, "%s", resp_message(j));
    json_decref(j);
    free(r.body);
}

static void
test_http_api_answers_like_the_command_line(void)
{
    /* The same searches as cases[] (the command line's answers), as GET
     * parameters. */
    static const struct {
        size_t c;
        const char *target;
    } gets[] = {
        {0, "/api/search?q=ukraine"},
        {1, "/api/search?q=ukraine&k=3"},
        {2, "/api/search?q=%22red+lines%22"},
        {3, "/api/search?q=kallas%20OR%20putin&group=passage"},
        {4, "/api/search?q=ukraine&from=2025-04-01&to=2025-04-30"},
        {5, "/api/search?q=ukraine&source=Newsweek"},
        {6, "/api/search?q=ceasefire&sort=newest"},
        {7, "/api/search?q=peace+talk*&k=4&offset=1"},
        {9, "/api/search?q=witkoff&facets=source,month&facet_limit=1"},
        {10, "/api/search?q=rubio&facets=day&to=2025-04-20"},
    };
    proc p;
    int port, status;
    size_t i;

    CU_ASSERT_FATAL(cli_expectations() == 0);
    CU_ASSERT_FATAL(http_start(&p, NULL, &port) == 0);
    for (i = 0; i < sizeof gets / sizeof gets[0]; i++) {
        json_t *r = http_json(port, gets[i].target, &status);
        char why[300] = "";

        CU_ASSERT_EQUAL(status, 200);
        CU_ASSERT_PTR_NOT_NULL(r);
        CU_ASSERT(json_is_true(json_object_get(r, "ok")));
        if (!same_results(expected[gets[i].c], r, why, sizeof why)) {
            fprintf(stderr, "\n%s: %s", gets[i].target, why);
            CU_FAIL("HTTP answer differs from the command line's");
        }
        json_decref(r);
    }
    proc_stop(&p);
}

static void
test_http_answers_errors_with_fitting_status(void)
{
    static const char *const extra[] = {"--max-request", "2048", NULL};
    static const struct {
        const char *req;
        int status;
        const char *code;
    } bad[] = {
        {"GET /api/search?q=%22open HTTP/1.1\r\n\r\n", 400, "syntax"},
        {"GET /api/search?q=x&k=lots HTTP/1.1\r\n\r\n", 400, "invalid"},
        {"GET /api/search?q=x&from=2025-05&to=2025-04 HTTP/1.1\r\n\r\n", 400,
         "invalid"},
        {"GET /api/search?q=%ZZ HTTP/1.1\r\n\r\n", 400, "invalid"},
        {"GET /api/search HTTP/1.1\r\n\r\n", 400, "invalid"},
        {"GET /api/article/no-such-article HTTP/1.1\r\n\r\n", 404,
         "not_found"},
        {"GET /nowhere HTTP/1.1\r\n\r\n", 404, "not_found"},
        {"POST /api/search HTTP/1.1\r\nContent-Length: 3\r\n\r\nq=x", 405,
         "invalid"},
        {"GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413,
         "too_large"},
        {"GET / HTTP/2.0\r\n\r\n", 505, "invalid"},
        {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
         "invalid"},
        {"GET /\r\n\r\n", 400, "invalid"},
    };
    char *longreq;
    hresp r;
    proc p;
    int port;
    size_t i;

    CU_ASSERT_FATAL(http_start(&p, extra, &port) == 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j;

        CU_ASSERT_FATAL(http_once(port, bad[i].req, &r) == 0);
        j = json_loads(r.body, 0, NULL);
        if (r.status != bad[i].status || strcmp(resp_code(j), bad[i].code))
            fprintf(stderr, "\n%.40s: %d %s, want %d %s", bad[i].req,
                    r.status, resp_code(j), bad[i].status, bad[i].code);
        CU_ASSERT_EQUAL(r.status, bad[i].status);
        CU_ASSERT_STRING_EQUAL(resp_code(j), bad[i].code);
        CU_ASSERT(json_is_false(json_object_get(j, "ok")));
        json_decref(j);
        free(r.body);
    }
    /* A target longer than --max-request: 414. */
    longreq = malloc(5000);
    CU_ASSERT_FATAL(longreq != NULL);
    memcpy(longreq, "GET /api/search?q=", 18);
    memset(longreq + 18, 'a', 3000);
    strcpy(longreq + 3018, " HTTP/1.1\r\n\r\n");
    CU_ASSERT_FATAL(http_once(port, longreq, &r) == 0);
    CU_ASSERT_EQUAL(r.status, 414);
    free(r.body);
    /* A short target with header lines longer than --max-request: 431,
     * with the error object, and the connection closes after it. */
    {
        client c;
        char msg[200];
        size_t n;

        strcpy(longreq, "GET /healthz HTTP/1.1\r\nX-Filler: ");
        n = strlen(longreq);
        memset(longreq + n, 'b', 3000);
        strcpy(longreq + n + 3000, "\r\n\r\n");
        CU_ASSERT_FATAL(client_tcp(&c, port) == 0);
        CU_ASSERT_FATAL(client_sends(&c, longreq) == 0);
        expect_error(&c, 431, "too_large", "close", msg, sizeof msg);
        CU_ASSERT(*msg != '\0');
        CU_ASSERT_EQUAL(client_more(&c), 0);
        client_close(&c);
    }
    free(longreq);
    /* And the server goes on. */
    CU_ASSERT_FATAL(http_once(port, "GET /healthz HTTP/1.1\r\n\r\n",
                              &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"pong\":true"));
    free(r.body);
    proc_stop(&p);
}

static void
test_http_keeps_connections_alive_and_in_order(void)
{
    static const char *const extra[] = {"--max-connections", "1", NULL};
    client c, c2;
    hresp r;
    proc p;
    int port;
    json_t *j;

    CU_ASSERT_FATAL(http_start(&p, extra, &port) == 0);
    CU_ASSERT_FATAL(client_tcp(&c, port) == 0);
    /* Three requests in one write: three answers in their order. */
    CU_ASSERT_FATAL(client_sends(&c,
                                 "GET /api/search?q=witkoff&k=0 HTTP/1.1\r\n"
                                 "Host: t\r\n\r\n"
                                 "GET /api/article/" ART3 " HTTP/1.1\r\n\r\n"
                                 "GET /healthz HTTP/1.1\r\n\r\n") == 0);
    CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
    j = json_loads(r.body, 0, NULL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "total")), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "Connection: keep-alive"));
    json_decref(j);
    free(r.body);
    CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
    j = json_loads(r.body, 0, NULL);
    CU_ASSERT_STRING_EQUAL(
        jstr(json_object_get(j, "article"), "source"), "Newslooks");
    json_decref(j);
    free(r.body);
    CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"pong\":true"));
    free(r.body);
    /* The one place is taken: another connection gets 503 and the
     * socket's overloaded object. */
    CU_ASSERT_FATAL(client_tcp(&c2, port) == 0);
    CU_ASSERT_FATAL(http_read(&c2, &r, 0) == 0);
    CU_ASSERT_EQUAL(r.status, 503);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"overloaded\""));
    free(r.body);
    client_close(&c2);
    /* Connection: close is honoured after the answer. */
    CU_ASSERT_FATAL(client_sends(&c, "GET /healthz HTTP/1.1\r\n"
                                     "Connection: close\r\n\r\n") == 0);
    CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "Connection: close"));
    free(r.body);
    CU_ASSERT_EQUAL(client_more(&c), 0);
    client_close(&c);
    proc_stop(&p);
}

static void
test_http_serves_the_page_and_csv(void)
{
    char *js;
    hresp r;
    proc p;
    int port;

    CU_ASSERT_FATAL(http_start(&p, NULL, &port) == 0);
    CU_ASSERT_FATAL(http_once(port, "GET / HTTP/1.1\r\n\r\n", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "Content-Type: text/html"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "script-src 'self'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<script src=\"/app.js\""));
    free(r.body);
    /* The page is the one in searcher/web/, byte for byte. */
    js = t_slurp("searcher/web/app.js", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    CU_ASSERT_FATAL(http_once(port, "GET /app.js HTTP/1.1\r\n\r\n", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, js);
    /* Article text reaches the page only as text. */
    CU_ASSERT_PTR_NULL(strstr(js, "innerHTML"));
    CU_ASSERT_PTR_NULL(strstr(js, "outerHTML"));
    CU_ASSERT_PTR_NULL(strstr(js, "insertAdjacentHTML"));
    CU_ASSERT_PTR_NULL(strstr(js, "document.write"));
    free(js);
    free(r.body);
    /* HEAD: the head alone (the next answer on the connection follows
     * it directly). */
    {
        client c;

        CU_ASSERT_FATAL(client_tcp(&c, port) == 0);
        CU_ASSERT_FATAL(client_sends(&c, "HEAD / HTTP/1.1\r\n\r\n"
                                         "GET /healthz HTTP/1.1\r\n\r\n") ==
                        0);
        CU_ASSERT_FATAL(http_read(&c, &r, 1) == 0);
        CU_ASSERT_EQUAL(r.status, 200);
        free(r.body);
        CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"pong\":true"));
        free(r.body);
        client_close(&c);
    }
    /* The files carry a Date and an entity tag, their CRC and length
     * (cksum); a browser whose copy has that tag gets 304 and no body,
     * and the connection goes on. */
    {
        char *sum = NULL, etag[64], req[256];
        unsigned long crc = 0, len = 0;
        client c;

        CU_ASSERT_EQUAL(t_run("cksum < searcher/web/app.js", &sum, NULL), 0);
        CU_ASSERT_FATAL(sum && sscanf(sum, "%lu %lu", &crc, &len) == 2);
        free(sum);
        snprintf(etag, sizeof etag, "ETag: \"%lu-%lu\"\r\n", crc, len);
        CU_ASSERT_FATAL(http_once(port, "GET /app.js HTTP/1.1\r\n\r\n",
                                  &r) == 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.head, etag));
        CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\nDate: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(r.head, " GMT\r\n"));
        free(r.body);
        snprintf(req, sizeof req,
                 "GET /app.js HTTP/1.1\r\nIf-None-Match: W/\"%lu-%lu\"\r\n"
                 "\r\nGET /app.js HTTP/1.1\r\nIf-None-Match: \"0-1\"\r\n"
                 "\r\n", crc, len);
        CU_ASSERT_FATAL(client_tcp(&c, port) == 0);
        CU_ASSERT_FATAL(client_sends(&c, req) == 0);
        CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
        CU_ASSERT_EQUAL(r.status, 304);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.head, etag));
        free(r.body);
        /* Another tag: the file itself, right after the 304's head. */
        CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_EQUAL(r.body_len, len);
        free(r.body);
        client_close(&c);
    }
    /* Every match as CSV, in chunks (from corpus/manifest.tsv). */
    CU_ASSERT_FATAL(http_once(port,
                              "GET /api/export?q=witkoff&sort=oldest "
                              "HTTP/1.1\r\n\r\n",
                              &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "Content-Type: text/csv"));
    CU_ASSERT_STRING_EQUAL(r.body,
                           "id,date,source,title,url\r\n" ART4
                           ",2025-04-29,unknown,US may exit Russia-Ukraine "
                           "peace talks if progress stalls: Rubio,\r\n" ART1
                           ",2025-11-27,unknown,,\r\n");
    free(r.body);
    proc_stop(&p);
}

/* ---- HTTP export ------------------------------------------------------- */

/* The export corpus: EXP_MATCH articles that say "harbour" (two and a
 * half pages of 2,000 rows, EXPORT_PAGE in searcher/export.h) and
 * EXP_OTHER that do not, with dates (some missing), three sources, titles
 * that need CSV quoting and URLs. */
#define EXP_MATCH 5000
#define EXP_OTHER 300
#define EXP_PAGE 2000

static char exp_jsonl[400];

static const char *
export_index(void)
{
    static const char *const sources[] = {"Gazette", "Dock Post",
                                          "Coast Herald"};
    static char dir[400];
    static int state;
    FILE *f;
    size_t i;

    if (state)
        return state > 0 ? dir : NULL;
    state = -1;
    snprintf(exp_jsonl, sizeof exp_jsonl, "%s/export.jsonl", t_tmpdir());
    snprintf(dir, sizeof dir, "%s/export-index", t_tmpdir());
    if (!(f = fopen(exp_jsonl, "w")))
        return NULL;
    for (i = 0; i < EXP_MATCH + EXP_OTHER; i++) {
        int match = i < EXP_MATCH;

        fprintf(f, "{\"id\":\"x%05zu\",\"source\":\"%s\",", i, sources[i % 3]);
        if (i % 50 != 7)
            fprintf(f, "\"date\":\"%04zu-%02zu-%02zu\",", 2000 + i % 25,
                    1 + i % 12, 1 + (i * 7) % 28);
        if (!match)
            fprintf(f, "\"title\":\"Airport note %zu\",", i);
        else if (i % 2)
            fprintf(f, "\"title\":\"Harbour, \\\"report\\\" %zu\",", i);
        else
            fprintf(f, "\"title\":\"Harbour report %zu\",", i);
        fprintf(f, "\"url\":\"https://example.org/x/%zu\",\"text\":\"%s "
                   "%zu moved along.\"}\n",
                i, match ? "The harbour crane" : "The airport tower", i);
    }
    if (fclose(f) != 0 || run_indexer(dir, exp_jsonl, 0))
        return NULL;
    state = 1;
    return dir;
}

/* The rows an export of "harbour" must give, read from the corpus file:
 * id -> [date, source, title, url], only of the source when not NULL. */
static json_t *
export_expected(const char *source)
{
    json_t *want = json_object();
    char *text = t_slurp(exp_jsonl, NULL), *line, *save = NULL;

    for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *a = json_loads(line, 0, NULL);
        const char *src = jstr(a, "source");
        const char *date = json_string_value(json_object_get(a, "date"));

        if (strstr(jstr(a, "text"), "harbour") &&
            (!source || !strcmp(src, source)))
            json_object_set_new(want, jstr(a, "id"),
                                json_pack("[s,s,s,s]", date ? date : "", src,
                                          jstr(a, "title"), jstr(a, "url")));
        json_decref(a);
    }
    free(text);
    return want;
}

/* Splits CSV (RFC 4180, CRLF) into an array of rows, each an array of
 * fields; NULL when it is malformed. */
static json_t *
csv_parse(const char *p, size_t len)
{
    const char *end = p + len;
    json_t *rows = json_array(), *row = json_array();
    char *field = malloc(len + 1);
    size_t n = 0;

    while (p < end) {
        if (*p == '"') {
            for (p++; p < end; p++) {
                if (*p == '"' && p + 1 < end && p[1] == '"')
                    field[n++] = *p++;
                else if (*p == '"')
                    break;
                else
                    field[n++] = *p;
            }
            if (p++ >= end)
                goto bad;
        }
        while (p < end && *p != ',' && *p != '\r')
            field[n++] = *p++;
        json_array_append_new(row, json_stringn(field, n));
        n = 0;
        if (p < end && *p == ',') {
            p++;
        } else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            json_array_append_new(rows, row);
            row = json_array();
            p += 2;
        } else {
            goto bad;
        }
    }
    json_decref(row);
    free(field);
    return rows;
bad:
    json_decref(row);
    json_decref(rows);
    free(field);
    return NULL;
}

/* Checks the CSV of an export against want (emptied): the header, every
 * row once with the corpus's fields, dated rows in date order when
 * oldest.  The number of rows, or -1 after saying why. */
static long
check_export(const char *csv, size_t len, json_t *want, int oldest)
{
    json_t *rows = csv_parse(csv, len), *row;
    const char *last = "";
    long count = 0;
    size_t i, f;

    if (!rows || json_array_size(rows) < 1) {
        fprintf(stderr, "\nexport: not CSV\n");
        json_decref(rows);
        return -1;
    }
    row = json_array_get(rows, 0);
    if (json_array_size(row) != 5 ||
        strcmp(json_string_value(json_array_get(row, 0)), "id") ||
        strcmp(json_string_value(json_array_get(row, 4)), "url")) {
        fprintf(stderr, "\nexport: no header line\n");
        count = -1;
    }
    json_array_foreach(rows, i, row) {
        const char *id = json_string_value(json_array_get(row, 0));
        const char *date = json_string_value(json_array_get(row, 1));
        json_t *w = id && i ? json_object_get(want, id) : NULL;

        if (!i || count < 0)
            continue;
        if (!w || json_array_size(row) != 5) {
            fprintf(stderr, "\nexport: row %zu (%s) unexpected or twice\n",
                    i, id ? id : "?");
            count = -1;
            continue;
        }
        for (f = 0; f < 4; f++)
            if (strcmp(json_string_value(json_array_get(row, f + 1)),
                       json_string_value(json_array_get(w, f)))) {
                fprintf(stderr, "\nexport: %s column %zu is '%s', not '%s'\n",
                        id, f + 1,
                        json_string_value(json_array_get(row, f + 1)),
                        json_string_value(json_array_get(w, f)));
                count = -1;
            }
        if (oldest && *date) {
            if (strcmp(date, last) < 0) {
                fprintf(stderr, "\nexport: %s (%s) after %s\n", id, date,
                        last);
                count = -1;
            }
            last = date;
        }
        json_object_del(want, id);
        if (count >= 0)
            count++;
    }
    if (count >= 0 && json_object_size(want)) {
        fprintf(stderr, "\nexport: %zu articles missing\n",
                json_object_size(want));
        count = -1;
    }
    json_decref(rows);
    return count;
}

static void
test_http_export_streams_every_match_in_pages(void)
{
    const char *ix = export_index();
    json_t *want;
    char cmd[1200], *out = NULL, matches[64];
    hresp r, r10;
    client c;
    proc p;
    int port;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(http_start_on(&p, ix, NULL, &port) == 0);
    /* The export and a request behind it on the same connection. */
    CU_ASSERT_FATAL(client_tcp(&c, port) == 0);
    CU_ASSERT_FATAL(client_sends(&c, "GET /api/export?q=harbour&sort=oldest "
                                     "HTTP/1.1\r\nHost: t\r\n\r\n"
                                     "GET /healthz HTTP/1.1\r\n\r\n") == 0);
    CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "Transfer-Encoding: chunked"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "Connection: keep-alive"));
    snprintf(matches, sizeof matches, "X-Newsdex-Matches: %d\r\n",
             EXP_MATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.head, matches));
    CU_ASSERT_PTR_NULL(strstr(r.head, "X-Newsdex-Export-Limit"));
    /* A chunk a page: three pages of rows and the last chunk, none
     * longer than a page of the corpus's longest rows (under 100 bytes:
     * id, date, source, a 25-byte title, a 27-byte URL). */
    CU_ASSERT(r.chunks >= (EXP_MATCH + EXP_PAGE - 1) / EXP_PAGE + 1);
    CU_ASSERT(r.max_chunk <= (size_t)EXP_PAGE * 100 + 64);
    want = export_expected(NULL);
    CU_ASSERT_EQUAL(json_object_size(want), EXP_MATCH);
    CU_ASSERT_EQUAL(check_export(r.body, r.body_len, want, 1), EXP_MATCH);
    json_decref(want);
    {
        hresp pong;

        CU_ASSERT_FATAL(http_read(&c, &pong, 0) == 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(pong.body, "\"pong\":true"));
        free(pong.body);
    }
    client_close(&c);
    /* HTTP/1.0 has no chunks: the same bytes, up to the close. */
    CU_ASSERT_FATAL(http_once(port, "GET /api/export?q=harbour&sort=oldest "
                                    "HTTP/1.0\r\n\r\n", &r10) == 0);
    CU_ASSERT_EQUAL(r10.status, 200);
    CU_ASSERT_PTR_NULL(strstr(r10.head, "Transfer-Encoding"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r10.head, "Connection: close"));
    CU_ASSERT(r10.body_len == r.body_len &&
              memcmp(r10.body, r.body, r.body_len) == 0);
    free(r10.body);
    /* The command line's --csv gives the same bytes. */
    snprintf(cmd, sizeof cmd, "%s -i '%s' --csv --sort oldest harbour",
             t_prog("newsdex-search"), ix);
    CU_ASSERT_EQUAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT(out && strlen(out) == r.body_len &&
              memcmp(out, r.body, r.body_len) == 0);
    free(out);
    free(r.body);
    /* Filters apply: one source, newest first. */
    CU_ASSERT_FATAL(http_once(port, "GET /api/export?q=harbour&sort=newest"
                                    "&source=Dock+Post HTTP/1.1\r\n\r\n",
                              &r) == 0);
    want = export_expected("Dock Post");
    CU_ASSERT_EQUAL(json_object_size(want), (EXP_MATCH + 1) / 3);
    CU_ASSERT_EQUAL(check_export(r.body, r.body_len, want, 0),
                    (EXP_MATCH + 1) / 3);
    json_decref(want);
    free(r.body);
    proc_stop(&p);
}

/* Sends an export request on a new connection and leaves it: after
 * reading some of the answer when read_some, with a reset when reset. */
static void
export_and_leave(int port, int read_some, int reset)
{
    client c;

    if (client_tcp(&c, port))
        return;
    client_sends(&c, "GET /api/export?q=harbour HTTP/1.1\r\n\r\n");
    if (read_some)
        client_more(&c);
    if (reset) {
        struct linger lg = {1, 0};

        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    client_close(&c);
}

static void
test_http_export_survives_clients_that_leave_or_stall(void)
{
    const char *ix = export_index();
    client stalled;
    json_t *want;
    hresp r;
    proc p;
    int port, i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(http_start_on(&p, ix, NULL, &port) == 0);
    /* One client asks for an export and does not read for a while: with
     * a small receive buffer, most of it waits on the server's side. */
    client_rcvbuf = 4096;
    CU_ASSERT_FATAL(client_tcp(&stalled, port) == 0);
    CU_ASSERT_FATAL(client_sends(&stalled, "GET /api/export?q=harbour"
                                           "&sort=oldest HTTP/1.1\r\n\r\n") ==
                    0);
    /* Others leave in the middle of theirs, some with a reset. */
    for (i = 0; i < 12; i++)
        export_and_leave(port, i % 2, i % 3 == 2);
    /* Everyone else is served meanwhile, exports too. */
    CU_ASSERT_FATAL(http_once(port, "GET /healthz HTTP/1.1\r\n\r\n", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    free(r.body);
    CU_ASSERT_FATAL(http_once(port, "GET /api/export?q=harbour "
                                    "HTTP/1.1\r\n\r\n", &r) == 0);
    want = export_expected(NULL);
    CU_ASSERT_EQUAL(check_export(r.body, r.body_len, want, 0), EXP_MATCH);
    json_decref(want);
    free(r.body);
    /* The stalled client gets all of its export once it reads. */
    sleep_ms(300);
    CU_ASSERT_FATAL(http_read(&stalled, &r, 0) == 0);
    want = export_expected(NULL);
    CU_ASSERT_EQUAL(check_export(r.body, r.body_len, want, 1), EXP_MATCH);
    json_decref(want);
    free(r.body);
    client_close(&stalled);
    CU_ASSERT_EQUAL(kill(p.pid, 0), 0);
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
}

/* An export whose first page is too long to sit in the socket's buffers
 * (the kernel holds at most 4 MB on the server's side and a few KB on a
 * client's that asks for a small receive buffer): CUT_MATCH articles whose
 * URLs are CUT_URL bytes long, so that page 1 is about 6 MB and page 2 is
 * searched only once the client has read most of page 1. */
#define CUT_MATCH (EXP_PAGE + 100)
#define CUT_URL 3000

static const char *
cut_index(void)
{
    static char dir[400], path[400];
    char *url = malloc(CUT_URL + 1);
    FILE *f;
    size_t i;

    snprintf(path, sizeof path, "%s/cut.jsonl", t_tmpdir());
    snprintf(dir, sizeof dir, "%s/cut-index", t_tmpdir());
    if (!url || !(f = fopen(path, "w"))) {
        free(url);
        return NULL;
    }
    memset(url, 'u', CUT_URL);
    url[CUT_URL] = '\0';
    for (i = 0; i < CUT_MATCH; i++)
        fprintf(f, "{\"id\":\"c%05zu\",\"source\":\"Gazette\",\"date\":"
                   "\"2020-01-%02zu\",\"title\":\"Harbour %zu\",\"url\":"
                   "\"https://example.org/%05zu/%s\",\"text\":\"The harbour "
                   "crane %zu moved along.\"}\n",
                i, 1 + i % 28, i, i, url, i);
    free(url);
    if (fclose(f) != 0 || run_indexer(dir, path, 0))
        return NULL;
    return dir;
}

/* Joins the chunks of a chunked body in raw into *body; the number of
 * whole chunks, with *last 1 when the last chunk (size 0) was among
 * them. */
static size_t
dechunk(const char *raw, size_t len, ndx_buf *body, int *last)
{
    const char *p = raw, *end = raw + len, *eol;
    size_t chunks = 0;

    *last = 0;
    while (!*last && (eol = memmem(p, (size_t)(end - p), "\r\n", 2))) {
        size_t n = strtoul(p, NULL, 16);

        if ((size_t)(end - eol) < 2 + n + 2 ||
            memcmp(eol + 2 + n, "\r\n", 2) != 0)
            break;
        ndx_buf_put(body, eol + 2, n);
        p = eol + 2 + n + 2;
        chunks++;
        *last = n == 0;
    }
    return chunks;
}

/* A page of an export that fails after the headers went out (here: the
 * index file truncated under the server, which then reads zeros and
 * finds damage) cannot change the status: the connection closes without
 * the last chunk, after the pages already made, and the server goes on
 * answering. */
static void
test_http_export_cut_short_after_the_headers_closes_without_last_chunk(void)
{
    const char *ix = cut_index();
    char seg[600], *log, *end;
    ndx_buf body;
    client c;
    hresp r;
    proc p;
    json_t *rows;
    size_t hl, chunks;
    int port, last = 1, more;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(http_start_on(&p, ix, NULL, &port) == 0);
    client_rcvbuf = 4096;
    CU_ASSERT_FATAL(client_tcp(&c, port) == 0);
    client_rcvbuf = 0;
    CU_ASSERT_FATAL(client_sends(&c, "GET /api/export?q=harbour&sort=oldest "
                                     "HTTP/1.1\r\n\r\n") == 0);
    while (!(c.len && (end = memmem(c.buf, c.len, "\r\n\r\n", 4))))
        CU_ASSERT_FATAL(client_more(&c) == 1);
    hl = (size_t)(end - c.buf) + 4;
    CU_ASSERT(strncmp(c.buf, "HTTP/1.1 200", 12) == 0);
    CU_ASSERT_PTR_NOT_NULL(memmem(c.buf, hl, "Transfer-Encoding: chunked",
                                  26));
    /* Page 1 is made and mostly unsent; every later page reads the
     * segment, now cut to nothing. */
    snprintf(seg, sizeof seg, "%s/seg-000001.ndx", ix);
    CU_ASSERT_FATAL(truncate(seg, 0) == 0);
    while ((more = client_more(&c)) == 1)
        ;
    CU_ASSERT_EQUAL(more, 0); /* the server closed the connection */
    ndx_buf_init(&body);
    chunks = dechunk(c.buf + hl, c.len - hl, &body, &last);
    CU_ASSERT_EQUAL(last, 0);
    /* What came is page 1, whole: the header line and EXP_PAGE rows. */
    CU_ASSERT_EQUAL(chunks, 1);
    rows = csv_parse((const char *)body.data, body.len);
    CU_ASSERT_PTR_NOT_NULL(rows);
    CU_ASSERT_EQUAL(json_array_size(rows), 1 + EXP_PAGE);
    json_decref(rows);
    ndx_buf_free(&body);
    client_close(&c);
    /* The server is up and answers. */
    CU_ASSERT_EQUAL(kill(p.pid, 0), 0);
    CU_ASSERT_FATAL(http_once(port, "GET /healthz HTTP/1.1\r\n\r\n", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    free(r.body);
    log = t_slurp(p.log, NULL);
    CU_ASSERT_PTR_NOT_NULL(log && strstr(log, "an export was cut short"));
    free(log);
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
}

static void
test_http_answers_504_past_the_time_budget_and_goes_on(void)
{
    /* A budget of a tenth of a microsecond: a search walks 1,024
     * candidates before it looks at the clock, so the 5,000 articles
     * that say "harbour" run past it and the 300 that say "airport" do
     * not. */
    static const char *const extra[] = {"--timeout-ms", "0.0001", NULL};
    static const char *const slow[] = {
        "GET /api/search?q=harbour&exact_total=true HTTP/1.1\r\n\r\n",
        "GET /api/search?q=harbour&facets=source HTTP/1.1\r\n\r\n",
        "GET /api/export?q=harbour HTTP/1.1\r\n\r\n",
    };
    const char *ix = export_index();
    char msg[200];
    client c;
    hresp r;
    proc p;
    json_t *j;
    int port;
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    CU_ASSERT_FATAL(http_start_on(&p, ix, extra, &port) == 0);
    CU_ASSERT_FATAL(client_tcp(&c, port) == 0);
    for (i = 0; i < sizeof slow / sizeof slow[0]; i++) {
        CU_ASSERT_FATAL(client_sends(&c, slow[i]) == 0);
        expect_error(&c, 504, "timeout", "keep-alive", msg, sizeof msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, "limit of 0.0001 ms"));
    }
    /* The same connection goes on: a narrow search is answered. */
    CU_ASSERT_FATAL(client_sends(&c, "GET /api/search?q=airport&k=1 "
                                     "HTTP/1.1\r\n\r\n") == 0);
    CU_ASSERT_FATAL(http_read(&c, &r, 0) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    CU_ASSERT(json_is_true(json_object_get(j, "ok")));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "total")),
                    EXP_OTHER);
    json_decref(j);
    free(r.body);
    client_close(&c);
    CU_ASSERT_FATAL(http_once(port, "GET /healthz HTTP/1.1\r\n\r\n", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    free(r.body);
    CU_ASSERT_EQUAL(proc_stop(&p), 0);
}

CU_TestInfo server_tests[] = {
    {"test_server_answers_concurrent_clients_like_the_command_line",
     test_server_answers_concurrent_clients_like_the_command_line},
    {"test_server_answers_malformed_json_with_its_position",
     test_server_answers_malformed_json_with_its_position},
    {"test_server_rejects_an_unknown_op", test_server_rejects_an_unknown_op},
    {"test_server_rejects_members_of_the_wrong_type",
     test_server_rejects_members_of_the_wrong_type},
    {"test_server_answers_a_bad_query_with_syntax_and_column",
     test_server_answers_a_bad_query_with_syntax_and_column},
    {"test_server_gets_articles_and_stats",
     test_server_gets_articles_and_stats},
    {"test_server_answers_an_oversized_line_and_goes_on",
     test_server_answers_an_oversized_line_and_goes_on},
    {"test_server_limits_line_size_connections_and_idle_time",
     test_server_limits_line_size_connections_and_idle_time},
    {"test_server_serves_others_while_a_client_trickles",
     test_server_serves_others_while_a_client_trickles},
    {"test_server_survives_clients_that_vanish",
     test_server_survives_clients_that_vanish},
    {"test_server_handles_a_thousand_quick_connections",
     test_server_handles_a_thousand_quick_connections},
    {"test_server_sees_a_new_commit_without_restart",
     test_server_sees_a_new_commit_without_restart},
    {"test_server_exits_1_when_it_cannot_listen_and_2_on_usage",
     test_server_exits_1_when_it_cannot_listen_and_2_on_usage},
    {"test_server_stops_on_sigterm_without_losing_answers",
     test_server_stops_on_sigterm_without_losing_answers},
    {"test_server_memory_stays_bounded_when_clients_do_not_read",
     test_server_memory_stays_bounded_when_clients_do_not_read},
    {"test_server_answer_budget_closes_stalled_readers",
     test_server_answer_budget_closes_stalled_readers},
    {"test_server_idle_connections_give_way_to_new_ones",
     test_server_idle_connections_give_way_to_new_ones},
    {"test_server_refused_lines_keep_their_id_unparsed",
     test_server_refused_lines_keep_their_id_unparsed},
    {"test_server_sighup_looks_for_a_new_commit_and_does_not_kill",
     test_server_sighup_looks_for_a_new_commit_and_does_not_kill},
    {"test_server_max_request_is_bounded",
     test_server_max_request_is_bounded},
    {"test_http_api_answers_like_the_command_line",
     test_http_api_answers_like_the_command_line},
    {"test_http_answers_errors_with_fitting_status",
     test_http_answers_errors_with_fitting_status},
    {"test_http_keeps_connections_alive_and_in_order",
     test_http_keeps_connections_alive_and_in_order},
    {"test_http_serves_the_page_and_csv", test_http_serves_the_page_and_csv},
    {"test_http_export_streams_every_match_in_pages",
     test_http_export_streams_every_match_in_pages},
    {"test_http_export_survives_clients_that_leave_or_stall",
     test_http_export_survives_clients_that_leave_or_stall},
    {"test_http_export_cut_short_after_the_headers_closes_without_last_chunk",
     test_http_export_cut_short_after_the_headers_closes_without_last_chunk},
    {"test_http_answers_504_past_the_time_budget_and_goes_on",
     test_http_answers_504_past_the_time_budget_and_goes_on},
    CU_TEST_INFO_NULL,
};
