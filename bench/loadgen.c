/*
 * loadgen.c - ndx-loadgen, a load generator for the query socket.
 *
 * Opens N connections to a `newsdex-search --listen` on this machine (TCP
 * loopback or a Unix socket); each sends searches one after the other (or
 * P at a time with --pipeline) for T seconds, cycling over a query file,
 * and the run reports requests per second and latency percentiles, overall
 * and by query kind.  With -i INDEX it then times the same queries in
 * process (ndx_index_search, one thread): what the command line pays per
 * query apart from starting the program.
 *
 * Query files: one query per line in newsdex syntax ('#' starts a comment
 * line), or a query set in the form of ../shared/corpora/ *-queries.tsv
 * (header `kind query source date_from date_to`), translated as
 * bench/queries.py does: term and and -> the words, or -> a OR b, phrase
 * -> "a b", filtered -> the words plus source:"S" date:FROM..TO.
 *
 * Bounds: loopback addresses only; at most 1024 connections, 600 seconds
 * and 50 million recorded requests.  It prints; it changes nothing.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "newsdex/newsdex.h"
#include "util/buf.h"
#include "util/net.h"

#define BENCH_PROG "ndx-loadgen"
#include "common.h"

#define LG_MAX_CONNS 1024
#define LG_MAX_SECONDS 600
#define LG_MAX_RECORDS 50000000u
#define LG_MAX_KINDS 8

typedef struct lg_query {
    char *text;     /* newsdex query */
    char *line;     /* the request line, "\n" included */
    size_t line_len;
    int kind;       /* index into kinds[] */
} lg_query;

typedef struct lg_opts {
    const char *addr;
    const char *queries;
    const char *index;
    unsigned conns;
    double seconds;
    double warmup;
    unsigned pipeline;
    size_t k;
    size_t max_queries;
    int no_snippets;
} lg_opts;

typedef struct lg_sample {
    float ms;          /* latency */
    float cpu_ms;      /* thread CPU time (in process only) */
    unsigned char kind;
} lg_sample;

typedef struct lg_thread {
    pthread_t th;
    unsigned n;
    int fd;
    size_t next;           /* next query */
    lg_sample *s;          /* recorded latencies */
    size_t s_count, s_cap;
    uint64_t answered;     /* responses after the warm-up */
    uint64_t failed;       /* "ok":false after the warm-up */
    char first_error[200];
    int broken;            /* connection lost */
} lg_thread;

static lg_opts opt;
static lg_query *qs;
static size_t q_count;
static char kinds[LG_MAX_KINDS][16];
static int kind_count;
static double t_start, t_record, t_end;
static struct addrinfo *tcp_addr;
static struct sockaddr_un unix_addr;
static int use_unix;

static int
kind_of(const char *name)
{
    int i;

    for (i = 0; i < kind_count; i++)
        if (!strcmp(kinds[i], name))
            return i;
    if (kind_count == LG_MAX_KINDS)
        return LG_MAX_KINDS - 1;
    snprintf(kinds[kind_count], sizeof kinds[0], "%s", name);
    return kind_count++;
}

/* Splits a line at tabs into at most n fields (in place). */
static size_t
split_tabs(char *line, char **f, size_t n)
{
    size_t i = 0;

    while (i < n) {
        char *t = strchr(line, '\t');

        f[i++] = line;
        if (!t)
            break;
        *t = '\0';
        line = t + 1;
    }
    return i;
}

/* Turns one row of a query set into newsdex syntax. */
static void
translate(ndx_buf *b, char **f, size_t nf)
{
    const char *kind = f[0], *words = nf > 1 ? f[1] : "";

    if (!strcmp(kind, "or")) {
        const char *p = words;

        while (*p) {
            const char *sp = strchr(p, ' ');
            size_t l = sp ? (size_t)(sp - p) : strlen(p);

            if (b->len)
                ndx_buf_puts(b, " OR ");
            ndx_buf_put(b, p, l);
            p += l;
            while (*p == ' ')
                p++;
        }
    } else if (!strcmp(kind, "phrase")) {
        ndx_buf_printf(b, "\"%s\"", words);
    } else {
        ndx_buf_puts(b, words);
    }
    if (!strcmp(kind, "filtered")) {
        if (nf > 2 && f[2][0])
            ndx_buf_printf(b, " source:\"%s\"", f[2]);
        if (nf > 4 && f[3][0] && f[4][0])
            ndx_buf_printf(b, " date:%s..%s", f[3], f[4]);
        else if (nf > 3 && f[3][0])
            ndx_buf_printf(b, " after:%s", f[3]);
        else if (nf > 4 && f[4][0])
            ndx_buf_printf(b, " before:%s", f[4]);
    }
}

static void
load_queries(void)
{
    FILE *f = fopen(opt.queries, "r");
    char line[8192];
    int tsv = -1;
    size_t cap = 0;

    if (!f)
        die("cannot read %s: %s", opt.queries, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        ndx_buf q, r;
        char *fields[5];
        size_t nf, len = strcspn(line, "\r\n");
        int kind;

        line[len] = '\0';
        if (tsv < 0) {
            tsv = strncmp(line, "kind\tquery", 10) == 0;
            if (tsv)
                continue;
        }
        if (!line[0] || (!tsv && line[0] == '#'))
            continue;
        if (opt.max_queries && q_count == opt.max_queries)
            break;
        ndx_buf_init(&q);
        ndx_buf_init(&r);
        if (tsv) {
            nf = split_tabs(line, fields, 5);
            kind = kind_of(fields[0]);
            translate(&q, fields, nf);
        } else {
            kind = kind_of("query");
            ndx_buf_puts(&q, line);
        }
        if (ndx_buf_cstr(&q))
            die("out of memory");
        ndx_buf_printf(&r, "{\"id\":%zu,\"op\":\"search\",\"k\":%zu,%s"
                           "\"q\":\"",
                       q_count, opt.k,
                       opt.no_snippets ? "\"snippets\":false," : "");
        ndx_buf_put_json_str(&r, (char *)q.data, q.len);
        ndx_buf_puts(&r, "\"}\n");
        if (ndx_grow((void **)&qs, &cap, q_count + 1, sizeof *qs, 256))
            die("out of memory");
        qs[q_count].text = (char *)q.data;
        qs[q_count].line = (char *)r.data;
        qs[q_count].line_len = r.len;
        qs[q_count].kind = kind;
        q_count++;
    }
    fclose(f);
    if (!q_count)
        die("no queries in %s", opt.queries);
}

static int
is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a =
            &((const struct sockaddr_in6 *)sa)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a) ||
               (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

static void
resolve(void)
{
    const char *a = opt.addr;
    char host[256] = "127.0.0.1", port[16] = "7878";
    struct addrinfo hints;
    const char *colon;
    int rc;

    if (!strncmp(a, "unix:", 5) || a[0] == '/') {
        const char *path = a[0] == '/' ? a : a + 5;

        if (strlen(path) >= sizeof unix_addr.sun_path)
            die("socket path too long: %s", path);
        unix_addr.sun_family = AF_UNIX;
        memcpy(unix_addr.sun_path, path, strlen(path) + 1);
        use_unix = 1;
        return;
    }
    if (!strncmp(a, "tcp:", 4))
        a += 4;
    colon = strrchr(a, ':');
    if (colon && colon != a) {
        snprintf(host, sizeof host, "%.*s", (int)(colon - a), a);
        snprintf(port, sizeof port, "%s", colon + 1);
    } else if (*a) {
        snprintf(port, sizeof port, "%s", colon ? colon + 1 : a);
    }
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &tcp_addr);
    if (rc)
        die("cannot resolve %s: %s", opt.addr, gai_strerror(rc));
    if (!is_loopback(tcp_addr->ai_addr))
        die("%s is not a loopback address; this tool only loads a server "
            "on this machine", opt.addr);
}

static int
dial(void)
{
    if (use_unix)
        return ndx_dial((struct sockaddr *)&unix_addr, sizeof unix_addr);
    return ndx_dial(tcp_addr->ai_addr, tcp_addr->ai_addrlen);
}

static void
record(lg_thread *t, double ms, int kind)
{
    /* Samples past a thread's share of LG_MAX_RECORDS are not kept. */
    if (t->s_count == t->s_cap &&
        ((t->s_cap ? t->s_cap * 2 : 4096) > LG_MAX_RECORDS / opt.conns ||
         ndx_grow((void **)&t->s, &t->s_cap, t->s_count + 1, sizeof *t->s,
                  4096)))
        return;
    t->s[t->s_count].ms = (float)ms;
    t->s[t->s_count].kind = (unsigned char)kind;
    t->s_count++;
}

/* One connection: batches of opt.pipeline requests until t_end. */
static void *
client_main(void *arg)
{
    lg_thread *t = arg;
    size_t cap = 1 << 20, have = 0, batch[64];
    char *buf = malloc(cap);
    double sent_at;
    unsigned i;

    if (!buf || (t->fd = dial()) < 0) {
        t->broken = 1;
        free(buf);
        return NULL;
    }
    while (ndx_now_ms() < t_end && !t->broken) {
        sent_at = ndx_now_ms();
        for (i = 0; i < opt.pipeline; i++) {
            batch[i] = t->next;
            if (ndx_send_all(t->fd, qs[t->next].line,
                             qs[t->next].line_len)) {
                t->broken = 1;
                break;
            }
            t->next = (t->next + 1) % q_count;
        }
        for (i = 0; i < opt.pipeline && !t->broken; i++) {
            char *nl;

            while (!(nl = memchr(buf, '\n', have))) {
                ssize_t n;

                if (ndx_grow((void **)&buf, &cap, have + 1, 1, cap)) {
                    t->broken = 1;
                    break;
                }
                n = recv(t->fd, buf + have, cap - have, 0);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    t->broken = 1;
                    break;
                }
                have += (size_t)n;
            }
            if (t->broken)
                break;
            if (ndx_now_ms() >= t_record) {
                double now = ndx_now_ms();

                if (!memmem(buf, (size_t)(nl - buf), "\"ok\":true", 9)) {
                    if (!t->failed++)
                        snprintf(t->first_error, sizeof t->first_error,
                                 "%.*s", (int)(nl - buf < 190 ? nl - buf
                                                              : 190),
                                 buf);
                }
                t->answered++;
                record(t, now - sent_at, qs[batch[i]].kind);
            }
            have -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, have);
        }
    }
    close(t->fd);
    free(buf);
    return NULL;
}

static int
cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return x < y ? -1 : x > y;
}

static double
pct(const float *v, size_t n, double q)
{
    size_t i;

    if (!n)
        return 0;
    i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i];
}

/* Prints p50/p90/p99/max of v (sorted here). */
static void
print_latency(const char *label, float *v, size_t n)
{
    double sum = 0;
    size_t i;

    qsort(v, n, sizeof *v, cmp_float);
    for (i = 0; i < n; i++)
        sum += v[i];
    printf("  %-10s %9zu   mean %7.3f  p50 %7.3f  p90 %7.3f  p99 %7.3f  "
           "max %8.3f\n",
           label, n, n ? sum / (double)n : 0, pct(v, n, 0.5), pct(v, n, 0.9),
           pct(v, n, 0.99), n ? v[n - 1] : 0);
}

static void
report_server(lg_thread *th)
{
    size_t total = 0, i, j, n;
    uint64_t answered = 0, failed = 0;
    unsigned broken = 0;
    float *v;
    int k;

    for (i = 0; i < opt.conns; i++) {
        total += th[i].s_count;
        answered += th[i].answered;
        failed += th[i].failed;
        broken += th[i].broken;
    }
    printf("server: %u connection%s x %.0f s (after %.1f s warm-up), "
           "pipeline %u, k=%zu, %zu queries from %s\n",
           opt.conns, opt.conns == 1 ? "" : "s", opt.seconds, opt.warmup,
           opt.pipeline, opt.k, q_count, opt.queries);
    printf("  %llu responses, %llu errors, %.0f requests/s, %u connection%s "
           "lost\n",
           (unsigned long long)answered, (unsigned long long)failed,
           (double)answered / opt.seconds, broken, broken == 1 ? "" : "s");
    for (i = 0; i < opt.conns; i++) {
        if (th[i].failed) {
            printf("  first error: %s\n", th[i].first_error);
            break;
        }
    }
    v = malloc((total ? total : 1) * sizeof *v);
    if (!v)
        return;
    printf("  latency ms   requests\n");
    for (k = -1; k < kind_count; k++) {
        n = 0;
        for (i = 0; i < opt.conns; i++)
            for (j = 0; j < th[i].s_count; j++)
                if (k < 0 || th[i].s[j].kind == k)
                    v[n++] = th[i].s[j].ms;
        if (k >= 0 && kind_count == 1)
            break;
        print_latency(k < 0 ? "all" : kinds[k], v, n);
    }
    free(v);
}

/* Prints the samples' latency (or CPU time), overall and by kind; v is
 * scratch room for n values. */
static void
print_samples(const char *title, const lg_sample *s, size_t n, float *v,
              int cpu)
{
    size_t i;
    int k;

    printf("  %s   queries\n", title);
    for (k = -1; k < kind_count; k++) {
        size_t m = 0;

        for (i = 0; i < n; i++)
            if (k < 0 || s[i].kind == k)
                v[m++] = cpu ? s[i].cpu_ms : s[i].ms;
        if (k >= 0 && kind_count == 1)
            break;
        print_latency(k < 0 ? "all" : kinds[k], v, m);
    }
}

/* This thread's CPU time in milliseconds. */
static double
cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The same queries in process, one thread: a warm-up pass, then passes
 * until about opt.seconds have gone (at least one). */
static void
report_in_process(void)
{
    ndx_search_opts o;
    ndx_index *ix = NULL;
    size_t i, n = 0, cap, errors = 0, passes = 0;
    lg_sample *s;
    float *v;
    double t0, stop;

    if (ndx_index_open(&ix, opt.index, NDX_OPEN_READ, NULL, NULL)) {
        fprintf(stderr, "ndx-loadgen: cannot open %s: %s\n", opt.index,
                ndx_errmsg());
        return;
    }
    ndx_search_opts_init(&o);
    o.k = opt.k;
    o.snippets = !opt.no_snippets;
    cap = q_count * 4 > 1000000 ? q_count * 4 : 1000000;
    s = malloc(cap * sizeof *s);
    v = malloc(cap * sizeof *v);
    if (!s || !v) {
        free(s);
        free(v);
        ndx_index_close(ix);
        return;
    }
    for (i = 0; i < q_count; i++) {
        ndx_results *r = NULL;

        if (ndx_index_search(ix, qs[i].text, &o, &r, NULL))
            errors++;
        ndx_results_free(r);
    }
    t0 = ndx_now_ms();
    stop = t0 + opt.seconds * 1000;
    while (n + q_count <= cap && (passes == 0 || ndx_now_ms() < stop)) {
        for (i = 0; i < q_count; i++) {
            ndx_results *r = NULL;
            double a = ndx_now_ms(), c = cpu_ms();

            ndx_index_search(ix, qs[i].text, &o, &r, NULL);
            s[n].ms = (float)(ndx_now_ms() - a);
            s[n].cpu_ms = (float)(cpu_ms() - c);
            s[n].kind = (unsigned char)qs[i].kind;
            n++;
            ndx_results_free(r);
        }
        passes++;
    }
    printf("in process: ndx_index_search, 1 thread, %zu pass%s over the "
           "same queries (%zu failed to parse or run): %.0f queries/s\n",
           passes, passes == 1 ? "" : "es", errors,
           (double)n / ((ndx_now_ms() - t0) / 1000));
    print_samples("latency ms", s, n, v, 0);
    /* CPU time leaves out the waits for a core, which dominate wall time
     * on a shared machine. */
    print_samples("CPU ms    ", s, n, v, 1);
    free(s);
    free(v);
    ndx_index_close(ix);
}

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: ndx-loadgen --queries FILE [--addr ADDR] [-c N] [-t S]\n"
            "                   [--warmup S] [--pipeline P] [-k K] "
            "[--no-snippets]\n"
            "                   [--max-queries N] [-i INDEX]\n"
            "\n"
            "Loads a newsdex-search --listen on this machine and reports "
            "requests/s and\n"
            "latency; with -i also times the same queries in process.\n"
            "\n"
            "  --addr ADDR       tcp:127.0.0.1:7878 (default), tcp:PORT or "
            "unix:/PATH\n"
            "  -c N              connections (8; at most %d)\n"
            "  -t S              seconds of measured load (5; at most %d)\n"
            "  --warmup S        seconds of load before measuring (1)\n"
            "  --pipeline P      requests in flight per connection (1; "
            "at most 64)\n"
            "  -k K              hits per query (10)\n"
            "  --no-snippets     hits without snippets (text only)\n"
            "  --queries FILE    one query a line, or a *-queries.tsv set\n"
            "  --max-queries N   use the first N queries\n"
            "  -i INDEX          also time the queries in process\n",
            LG_MAX_CONNS, LG_MAX_SECONDS);
}

static double
num_arg(int argc, char **argv, int *i, double min, double max)
{
    char *end;
    double d;

    if (*i + 1 >= argc) {
        fprintf(stderr, "ndx-loadgen: %s needs a value\n", argv[*i]);
        exit(2);
    }
    d = strtod(argv[++*i], &end);
    if (*end || d < min || d > max) {
        fprintf(stderr, "ndx-loadgen: %s: a number from %g to %g\n",
                argv[*i - 1], min, max);
        exit(2);
    }
    return d;
}

int
main(int argc, char **argv)
{
    lg_thread *th;
    unsigned i;
    int a;

    opt.addr = "tcp:127.0.0.1:7878";
    opt.conns = 8;
    opt.seconds = 5;
    opt.warmup = 1;
    opt.pipeline = 1;
    opt.k = 10;
    for (a = 1; a < argc; a++) {
        const char *s = argv[a];

        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(s, "--addr") && a + 1 < argc) {
            opt.addr = argv[++a];
        } else if (!strcmp(s, "--queries") && a + 1 < argc) {
            opt.queries = argv[++a];
        } else if (!strcmp(s, "-i") && a + 1 < argc) {
            opt.index = argv[++a];
        } else if (!strcmp(s, "-c")) {
            opt.conns = (unsigned)num_arg(argc, argv, &a, 1, LG_MAX_CONNS);
        } else if (!strcmp(s, "-t")) {
            opt.seconds = num_arg(argc, argv, &a, 0.1, LG_MAX_SECONDS);
        } else if (!strcmp(s, "--warmup")) {
            opt.warmup = num_arg(argc, argv, &a, 0, 60);
        } else if (!strcmp(s, "--pipeline")) {
            opt.pipeline = (unsigned)num_arg(argc, argv, &a, 1, 64);
        } else if (!strcmp(s, "-k")) {
            opt.k = (size_t)num_arg(argc, argv, &a, 0, 1000);
        } else if (!strcmp(s, "--no-snippets")) {
            opt.no_snippets = 1;
        } else if (!strcmp(s, "--max-queries")) {
            opt.max_queries = (size_t)num_arg(argc, argv, &a, 1, 1e9);
        } else {
            fprintf(stderr, "ndx-loadgen: unknown argument %s\n", s);
            usage(stderr);
            return 2;
        }
    }
    if (!opt.queries) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    load_queries();
    resolve();
    th = calloc(opt.conns, sizeof *th);
    if (!th)
        die("out of memory");
    t_start = ndx_now_ms();
    t_record = t_start + opt.warmup * 1000;
    t_end = t_record + opt.seconds * 1000;
    for (i = 0; i < opt.conns; i++) {
        th[i].n = i;
        th[i].fd = -1;
        th[i].next = (size_t)i * q_count / opt.conns;
        if (pthread_create(&th[i].th, NULL, client_main, &th[i]) != 0)
            die("cannot start threads");
    }
    for (i = 0; i < opt.conns; i++)
        pthread_join(th[i].th, NULL);
    if (th[0].broken && th[0].answered == 0 && !th[0].s_count)
        fprintf(stderr, "ndx-loadgen: no answers from %s; is "
                        "newsdex-search --listen running there?\n",
                opt.addr);
    report_server(th);
    for (i = 0; i < opt.conns; i++)
        free(th[i].s);
    free(th);
    if (opt.index)
        report_in_process();
    if (tcp_addr)
        freeaddrinfo(tcp_addr);
    return 0;
}
