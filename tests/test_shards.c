/*
 * test_shards.c - the Xapian engine split into shards: local shards and
 * shards served by xapian-tcpsrv rank exactly like one database (same
 * articles, passages, scores, counts), articles land on the shard that
 * FNV-1a names, a shard that is down is an error naming it, and with
 * allow_partial the others still answer.
 *
 * Two xapian-tcpsrv processes are started on free loopback ports and
 * stopped at the end; without xapian-tcpsrv the remote cases are skipped
 * with a note.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <CUnit/CUnit.h>

#include "newsdex/newsdex.h"
#include "newsdex/sys/engine.h"
#include "support.h"

#define ARTICLES 5

static char sharded[512]; /* corpus/ in 2 shards */
static char single[512];  /* corpus/ in one database */
static int built;         /* 1 built, -1 failed */

typedef struct server {
    pid_t pid;       /* process group leader, 0 when not running */
    unsigned port;
    char spec[64];   /* tcp:127.0.0.1:PORT */
} server;

static server servers[2];
static int have_tcpsrv = -1;

static ndx_status
index_corpus(const char *dir, unsigned shards)
{
    ndx_engine_config cfg;

    ndx_engine_config_init(&cfg);
    cfg.shards = shards;
    return t_index_corpus(dir, "xapian", &cfg);
}

/* Builds both indexes once; 0 when this build has no Xapian. */
static int
setup(void)
{
    if (t_without_xapian())
        return 0;
    if (!built) {
        const char *tmp = t_tmpdir();
        snprintf(sharded, sizeof sharded, "%s/sharded", tmp);
        snprintf(single, sizeof single, "%s/single", tmp);
        built = index_corpus(sharded, 2) == NDX_OK &&
                        index_corpus(single, 1) == NDX_OK
                    ? 1
                    : -1;
        if (built < 0)
            printf("\n  indexing corpus/: %s\n", ndx_errmsg());
    }
    CU_ASSERT_EQUAL_FATAL(built, 1);
    return 1;
}

/* ---- xapian-tcpsrv ------------------------------------------------------ */

static unsigned
free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    unsigned port = 0;

    if (fd < 0)
        return 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static int
port_answers(unsigned port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    if (fd < 0)
        return 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static void
server_stop(server *s)
{
    if (s->pid > 0) {
        /* The server forks one process per connection, all in its group. */
        kill(-s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

static void
stop_all(void)
{
    server_stop(&servers[0]);
    server_stop(&servers[1]);
}

/* Serves db on port (a free one when port is 0); 0 on success. */
static int
server_start(server *s, const char *db, unsigned port)
{
    char portstr[16];
    struct timespec ts = {0, 50 * 1000 * 1000};
    pid_t pid;
    int i;

    s->port = port ? port : free_port();
    if (!s->port)
        return -1;
    snprintf(portstr, sizeof portstr, "%u", s->port);
    snprintf(s->spec, sizeof s->spec, "tcp:127.0.0.1:%u", s->port);
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        if (!freopen("/dev/null", "w", stdout) ||
            !freopen("/dev/null", "w", stderr))
            _exit(127);
        execlp("xapian-tcpsrv", "xapian-tcpsrv", "--port", portstr,
               "--interface", "127.0.0.1", "--quiet", db, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    s->pid = pid;
    for (i = 0; i < 200; i++) { /* up to 10 s */
        if (port_answers(s->port))
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            s->pid = 0;
            return -1;
        }
        nanosleep(&ts, NULL);
    }
    server_stop(s);
    return -1;
}

/* Starts both servers once; 0 (with a note) without xapian-tcpsrv. */
static int
servers_up(void)
{
    char db[600];
    int i;

    if (have_tcpsrv < 0) {
        have_tcpsrv = t_run("command -v xapian-tcpsrv >/dev/null", NULL,
                            NULL) == 0;
        if (have_tcpsrv)
            atexit(stop_all);
    }
    if (!have_tcpsrv) {
        t_skip("xapian-tcpsrv is not installed (Debian package "
               "xapian-tools)");
        return 0;
    }
    for (i = 0; i < 2; i++) {
        if (servers[i].pid)
            continue;
        snprintf(db, sizeof db, "%s/shard-%03d", sharded, i);
        CU_ASSERT_EQUAL_FATAL(server_start(&servers[i], db, 0), 0);
    }
    return 1;
}

/* ---- comparing results -------------------------------------------------- */

static ndx_index *
open_remote(const char *const *specs, size_t n, int allow_partial,
            ndx_status *st)
{
    ndx_engine_config cfg;
    ndx_index *ix = NULL;

    ndx_engine_config_init(&cfg);
    cfg.remotes = specs;
    cfg.remote_count = n;
    cfg.allow_partial = allow_partial;
    *st = ndx_index_open(&ix, NULL, NDX_OPEN_READ, "xapian", &cfg);
    return ix;
}

static ndx_index *
open_local(const char *dir)
{
    ndx_index *ix = NULL;

    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL,
                                         NULL), NDX_OK);
    return ix;
}

static const char *queries[] = {
    "ukraine",
    "security guarantee",
    "\"security guarantee\"",
    "\"nothing about Ukraine without Ukraine\"",
    "ceasefire OR truce",
    "rubio -nato",
    "negot*",
    "title:rubio",
    "peace talks source:unknown",
    "russia date:2025-04",
    "source:newsweek",
    "(trump OR putin) war",
};

/* Runs every query on a and b under several options; every hit must be
 * the same: article, passage, score (1e-9), counts, stored fields. */
static void
compare(ndx_index *a, ndx_index *b)
{
    ndx_search_opts o;
    size_t qi, i;
    int variant;

    for (qi = 0; qi < sizeof queries / sizeof queries[0]; qi++) {
        for (variant = 0; variant < 4; variant++) {
            ndx_results *ra = NULL, *rb = NULL;
            ndx_search_opts_init(&o);
            o.k = 20;
            o.group = variant & 1 ? NDX_GROUP_PASSAGE : NDX_GROUP_ARTICLE;
            o.sort = variant & 2 ? NDX_SORT_NEWEST : NDX_SORT_RELEVANCE;
            CU_ASSERT_EQUAL_FATAL(
                ndx_index_search(a, queries[qi], &o, &ra, NULL), NDX_OK);
            CU_ASSERT_EQUAL_FATAL(
                ndx_index_search(b, queries[qi], &o, &rb, NULL), NDX_OK);
            /* Exact totals agree; a total beyond the exact range is a
             * bound that each matcher may stop at differently. */
            if (ra->total_exact && rb->total_exact)
                CU_ASSERT_EQUAL(ra->total, rb->total);
            CU_ASSERT(ra->total_exact || ra->total >= o.exact_upto);
            CU_ASSERT(rb->total_exact || rb->total >= o.exact_upto);
            CU_ASSERT_EQUAL(ra->count, rb->count);
            CU_ASSERT(ra->count > 0);
            for (i = 0; i < ra->count && i < rb->count; i++) {
                const ndx_hit *x = &ra->hits[i], *y = &rb->hits[i];
                int same = strcmp(x->article, y->article) == 0 &&
                           x->passage == y->passage &&
                           fabs(x->score - y->score) <= 1e-9 &&
                           x->matches == y->matches &&
                           x->order == y->order &&
                           x->date_days == y->date_days &&
                           strcmp(x->source, y->source) == 0 &&
                           strcmp(x->title, y->title) == 0 &&
                           strcmp(x->text, y->text) == 0;
                if (!same)
                    printf("\n  [%s] variant %d hit %zu: %s/%u %.12f vs "
                           "%s/%u %.12f\n", queries[qi], variant, i,
                           x->article, x->passage, x->score, y->article,
                           y->passage, y->score);
                CU_ASSERT(same);
            }
            ndx_results_free(ra);
            ndx_results_free(rb);
        }
    }
}

/* The article ids an index answers "ukraine" with (every article has it). */
static size_t
ids_of(ndx_index *ix, char ids[][64], ndx_results **keep)
{
    ndx_search_opts o;
    ndx_results *r = NULL;
    size_t i;

    ndx_search_opts_init(&o);
    o.k = 100;
    CU_ASSERT_EQUAL_FATAL(ndx_index_search(ix, "ukraine", &o, &r, NULL),
                          NDX_OK);
    for (i = 0; i < r->count && i < ARTICLES; i++)
        snprintf(ids[i], 64, "%s", r->hits[i].article);
    *keep = r;
    return i;
}

/* FNV-1a 64 (offset 0xcbf29ce484222325, prime 0x100000001b3), written here
 * from its definition. */
static unsigned
shard_of(const char *id, unsigned n)
{
    uint64_t h = 14695981039346656037ULL;

    for (; *id; id++) {
        h ^= (unsigned char)*id;
        h *= 1099511628211ULL;
    }
    return (unsigned)(h % n);
}

/* ---- cases --------------------------------------------------------------- */

static void
test_shards_layout_has_engine_file_and_two_databases(void)
{
    char path[600], *engine;

    if (!setup())
        return;
    snprintf(path, sizeof path, "%s/ENGINE", sharded);
    engine = t_slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(engine);
    CU_ASSERT_STRING_EQUAL(engine, "xapian\nshards 2\n");
    free(engine);
    snprintf(path, sizeof path, "%s/shard-001/iamglass", sharded);
    CU_ASSERT_EQUAL(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/db", sharded);
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
}

static void
test_shards_local_shards_rank_like_one_database(void)
{
    ndx_index *a, *b;
    ndx_stats sa, sb;

    if (!setup())
        return;
    a = open_local(sharded);
    b = open_local(single);
    compare(a, b);
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    CU_ASSERT_EQUAL(ndx_index_stats(a, &sa), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_stats(b, &sb), NDX_OK);
    CU_ASSERT_EQUAL(sa.segments, 2);
    CU_ASSERT_EQUAL(sa.articles, ARTICLES);
    CU_ASSERT_EQUAL(sa.passages, sb.passages);
    CU_ASSERT_EQUAL(sa.tokens, sb.tokens);
    CU_ASSERT_EQUAL(sa.terms, sb.terms);
    CU_ASSERT_EQUAL(sa.source_count, sb.source_count);
    ndx_stats_clear(&sa);
    ndx_stats_clear(&sb);
    ndx_index_close(a);
    ndx_index_close(b);
}

static void
test_shards_remote_shards_rank_like_one_database(void)
{
    const char *specs[2];
    ndx_index *a, *b;
    ndx_status st;
    ndx_stats s;

    if (!setup() || !servers_up())
        return;
    specs[0] = servers[0].spec;
    specs[1] = servers[1].spec;
    a = open_remote(specs, 2, 0, &st);
    if (st)
        printf("\n  open remotes: %s\n", ndx_errmsg());
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    CU_ASSERT_STRING_EQUAL(ndx_index_engine(a), "xapian");
    b = open_local(single);
    compare(a, b);
    memset(&s, 0, sizeof s);
    CU_ASSERT_EQUAL(ndx_index_stats(a, &s), NDX_OK);
    CU_ASSERT_EQUAL(s.articles, ARTICLES);
    CU_ASSERT_EQUAL(s.segments, 2);
    ndx_stats_clear(&s);
    {
        ndx_doc *d = NULL;
        CU_ASSERT_EQUAL(ndx_index_get(a, "002_59a3440c063501ba", &d),
                        NDX_OK);
        if (d)
            CU_ASSERT_STRING_EQUAL(d->source, "USA TODAY");
        ndx_doc_free(d);
    }
    ndx_index_close(a);
    ndx_index_close(b);
}

static void
test_shards_each_shard_holds_the_articles_fnv1a_names(void)
{
    char ids[ARTICLES][64];
    ndx_results *r;
    size_t i, n, total = 0;
    int s;

    if (!setup() || !servers_up())
        return;
    for (s = 0; s < 2; s++) {
        const char *spec = servers[s].spec;
        ndx_status st;
        ndx_index *ix = open_remote(&spec, 1, 0, &st);
        CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
        n = ids_of(ix, ids, &r);
        for (i = 0; i < n; i++)
            CU_ASSERT_EQUAL(shard_of(ids[i], 2), (unsigned)s);
        total += n;
        ndx_results_free(r);
        ndx_index_close(ix);
    }
    CU_ASSERT_EQUAL(total, ARTICLES);
}

static void
test_shards_a_shard_that_is_down_is_named(void)
{
    char dead[64];
    const char *specs[2];
    ndx_index *ix;
    ndx_results *r;
    ndx_status st;
    size_t i;

    if (!setup() || !servers_up())
        return;
    snprintf(dead, sizeof dead, "tcp:127.0.0.1:%u", free_port());
    specs[0] = servers[0].spec;
    specs[1] = dead;
    ix = open_remote(specs, 2, 0, &st);
    CU_ASSERT_EQUAL(st, NDX_EIO);
    CU_ASSERT_PTR_NULL(ix);
    CU_ASSERT(strstr(ndx_errmsg(), dead) != NULL);

    /* allow_partial: the live shard answers, and the results say so. */
    ix = open_remote(specs, 2, 1, &st);
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    r = NULL;
    CU_ASSERT_EQUAL_FATAL(ndx_index_search(ix, "ukraine", NULL, &r, NULL),
                          NDX_OK);
    CU_ASSERT(r->count > 0 && r->count < ARTICLES);
    for (i = 0; i < r->count; i++)
        CU_ASSERT_EQUAL(shard_of(r->hits[i].article, 2), 0);
    CU_ASSERT_EQUAL(r->partial, 1);
    CU_ASSERT(r->warning && strstr(r->warning, dead) != NULL);
    ndx_results_free(r);
    ndx_index_close(ix);

    /* Every shard down is an error even with allow_partial. */
    specs[0] = dead;
    ix = open_remote(specs, 1, 1, &st);
    CU_ASSERT_EQUAL(st, NDX_EIO);
}

static void
test_shards_a_shard_lost_after_open_is_named_or_skipped(void)
{
    const char *specs[2];
    char db[600], spec1[64];
    ndx_index *strict, *lenient;
    ndx_results *r = NULL;
    ndx_status st;
    unsigned port1;

    if (!setup() || !servers_up())
        return;
    specs[0] = servers[0].spec;
    specs[1] = servers[1].spec;
    snprintf(spec1, sizeof spec1, "%s", servers[1].spec);
    port1 = servers[1].port;
    strict = open_remote(specs, 2, 0, &st);
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    lenient = open_remote(specs, 2, 1, &st);
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_search(strict, "ukraine", NULL, &r, NULL),
                    NDX_OK);
    CU_ASSERT_EQUAL(r->total, ARTICLES);
    ndx_results_free(r);

    server_stop(&servers[1]);
    r = NULL;
    CU_ASSERT_EQUAL(ndx_index_search(strict, "ukraine", NULL, &r, NULL),
                    NDX_EIO);
    CU_ASSERT(strstr(ndx_errmsg(), spec1) != NULL);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(ndx_index_search(lenient, "ukraine", NULL, &r, NULL),
                    NDX_OK);
    if (r) {
        CU_ASSERT(r->total > 0 && r->total < ARTICLES);
        CU_ASSERT_EQUAL(r->partial, 1);
        CU_ASSERT(r->warning && strstr(r->warning, spec1) != NULL);
    }
    ndx_results_free(r);

    /* The shard comes back on its port: a refresh brings it in again. */
    snprintf(db, sizeof db, "%s/shard-001", sharded);
    if (server_start(&servers[1], db, port1) == 0) {
        CU_ASSERT_EQUAL(ndx_index_refresh(lenient), 1);
        r = NULL;
        CU_ASSERT_EQUAL(ndx_index_search(lenient, "ukraine", NULL, &r,
                                         NULL), NDX_OK);
        if (r) {
            CU_ASSERT_EQUAL(r->total, ARTICLES);
            CU_ASSERT_EQUAL(r->partial, 0);
        }
        ndx_results_free(r);
    } else {
        printf("\n  [port %u not free again; restart not checked]\n",
               port1);
    }
    ndx_index_close(strict);
    ndx_index_close(lenient);
}

static void
test_shards_bad_address_is_invalid(void)
{
    const char *specs[] = {"tcp:localhost"};
    ndx_status st;

    if (!setup())
        return;
    CU_ASSERT_PTR_NULL(open_remote(specs, 1, 0, &st));
    CU_ASSERT_EQUAL(st, NDX_EINVAL);
    CU_ASSERT(strstr(ndx_errmsg(), "tcp:localhost") != NULL);
    specs[0] = "tcp:127.0.0.1:99999";
    CU_ASSERT_PTR_NULL(open_remote(specs, 1, 0, &st));
    CU_ASSERT_EQUAL(st, NDX_EINVAL);
}

static void
test_shards_servers_stop(void)
{
    stop_all();
    CU_ASSERT_EQUAL(servers[0].pid, 0);
    CU_ASSERT_EQUAL(servers[1].pid, 0);
}

CU_TestInfo shards_tests[] = {
    {"test_shards_layout_has_engine_file_and_two_databases",
     test_shards_layout_has_engine_file_and_two_databases},
    {"test_shards_local_shards_rank_like_one_database",
     test_shards_local_shards_rank_like_one_database},
    {"test_shards_remote_shards_rank_like_one_database",
     test_shards_remote_shards_rank_like_one_database},
    {"test_shards_each_shard_holds_the_articles_fnv1a_names",
     test_shards_each_shard_holds_the_articles_fnv1a_names},
    {"test_shards_a_shard_that_is_down_is_named",
     test_shards_a_shard_that_is_down_is_named},
    {"test_shards_a_shard_lost_after_open_is_named_or_skipped",
     test_shards_a_shard_lost_after_open_is_named_or_skipped},
    {"test_shards_bad_address_is_invalid",
     test_shards_bad_address_is_invalid},
    {"test_shards_servers_stop", test_shards_servers_stop},
    CU_TEST_INFO_NULL,
};
