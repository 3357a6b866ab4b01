/*
 * ndx_bench.c - the in-process half of the benchmark: builds an index with
 * one engine and times a query set against it, every engine the same way.
 * The engines: newsdex native, newsdex on Xapian (both through
 * ndx_index_*), SQLite FTS5 in two set-ups, and libxapian used directly
 * ("xapian-plain", xapian_plain.cc; only in a build with Xapian).
 *
 *   ndx-bench build --engine E -o DIR [--threads N] [--memory MB]
 *                   [--dates terms|values] CORPUS...
 *   ndx-bench query --engine E -i DIR --queries FILE [--passes P]
 *                   [--warmup W] [-k K] [--dates terms|values] [--hits FILE]
 *                   [--times FILE]
 *                   [--facets source,month]  (newsdex engines: count facets)
 *                   [--exact-total]  (newsdex engines: count every match)
 *   ndx-bench dump CORPUS...
 *
 * Every engine reads the corpus through the same ndx_reader, so it sees the
 * same articles; the newsdex engines split them into passages inside
 * ndx_index_add, and the peers get the passages of ndx_passages_split with
 * the same default options, one row or document per passage.  One process
 * builds one index, so that its peak resident memory is that engine's (the
 * driver reads it from wait4 as well; this program prints its own
 * getrusage).  Queries run on one thread, k hits grouped by article, with
 * snippets off for the newsdex engines (the peers make none).
 *
 * FTS5 layout ("fts5"): a table p(title, body, source UNINDEXED,
 * date UNINDEXED) with tokenize='porter unicode61'; a passage's rowid is
 * (article number << 16) | passage number, so that grouping by article
 * needs no column read; the article's title goes with its first passage,
 * as newsdex counts title words towards the first passage; a plain table
 * articles(art, id, title, url) holds what a hit shows.  Queries rank by
 * bm25() and keep the best passage of each article, like newsdex:
 *
 *   SELECT a, r, min(s) AS ms FROM (SELECT rowid >> 16 AS a, rowid AS r,
 *       bm25(p) AS s FROM p WHERE p MATCH ?1 [AND source = ?2]
 *       [AND date BETWEEN ?3 AND ?4] LIMIT -1)
 *   GROUP BY a ORDER BY ms LIMIT ?5
 *
 * "fts5-match" is FTS5 as its documentation suggests for filters: the
 * source is an indexed column, filtered inside MATCH with a column filter
 * ({title body} : (QUERY) AND source : "NAME"), and the date is in a
 * plain table meta(rowid, date) with an index on date, joined on rowid:
 *
 *   SELECT a, r, min(s) AS ms FROM (SELECT p.rowid >> 16 AS a,
 *       p.rowid AS r, bm25(p) AS s FROM p [JOIN meta m ON m.rowid =
 *       p.rowid] WHERE p MATCH ?1 [AND m.date BETWEEN ?3 AND ?4] LIMIT -1)
 *   GROUP BY a ORDER BY ms LIMIT ?5
 *
 * Both then read the passage text and article of each of the k hits, as
 * the newsdex engines do.
 *
 * The query file is tab-separated, one query a line, made by bench/run:
 *   kind  newsdex-query  fts5-match  source  from-days  to-days  label
 *   [xapian-query]
 * (empty cells: no filter; the last, in QueryParser syntax, is needed by
 * xapian-plain only).  Output is one JSON object on stdout; --hits writes
 * one line per query, tab-separated: label, ok|failed, hits, total,
 * article ids of the hits (space-separated), and what the total is: exact,
 * bound (a lower bound: newsdex stopped counting), estimate (Xapian's) or
 * none (FTS5 counts nothing).  --times writes one line per query: label,
 * kind, and the median and largest thread CPU ms of its timed passes (to
 * find the slowest queries).
 *
 * This program prints and exits as programs do; it reads no environment.
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "newsdex/newsdex.h"
#include "util/buf.h"
#include "xapian_plain.h"

#define BENCH_PROG "ndx-bench"
#include "common.h"

#define MAX_PASSAGES_PER_ARTICLE 65535u
#define MAX_KINDS 16

/* The engines: the two of newsdex go through ndx_index_*, the peers are
 * driven here. */
typedef enum engine_kind {
    ENGINE_NDX,         /* "native" or "xapian" */
    ENGINE_FTS5,        /* FTS5, filters in WHERE on UNINDEXED columns */
    ENGINE_FTS5_MATCH,  /* FTS5, source in MATCH, date in an indexed table */
    ENGINE_XAPIAN_PLAIN /* libxapian directly */
} engine_kind;

#define ENGINE_NAMES "native|xapian|fts5|fts5-match|xapian-plain"

/* xapian-plain's dates unless --dates says otherwise: the faster of the
 * two on Reuters (docs/bench.md, bench/results/small-xapian-values.md). */
#define DATES_DEFAULT XP_DATES_TERMS

/* ---- small helpers ------------------------------------------------------ */

static const char *
dates_name(int dates)
{
    return dates == XP_DATES_VALUES ? "values"
           : dates == XP_DATES_BOTH ? "both"
                                    : "terms";
}

/* CPU seconds this thread has used. */
static double
thread_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds (user and system) the process has used, all threads. */
static double
process_cpu_s(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long
maxrss_kb(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

static uint64_t disk_total;

static int
add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F)
        disk_total += (uint64_t)st->st_size;
    return 0;
}

/* Bytes of all regular files under path. */
static uint64_t
disk_bytes(const char *path)
{
    disk_total = 0;
    if (nftw(path, add_size, 16, FTW_PHYS) != 0)
        return 0;
    return disk_total;
}

static void
json_str(FILE *f, const char *s)
{
    ndx_buf b;

    ndx_buf_init(&b);
    if (ndx_buf_put_json_str(&b, s, strlen(s)) != NDX_OK)
        die("out of memory");
    fputc('"', f);
    fwrite(b.data, 1, b.len, f);
    fputc('"', f);
    ndx_buf_free(&b);
}

#define WARNINGS_SHOWN 3

static void
warn_cb(void *ctx, const char *file, long line, const char *msg)
{
    unsigned long *count = ctx;

    if ((*count)++ < WARNINGS_SHOWN)
        fprintf(stderr, "ndx-bench: %s:%ld: %s\n", file ? file : "?", line,
                msg);
}

static void
warn_summary(unsigned long count)
{
    if (count > WARNINGS_SHOWN)
        fprintf(stderr, "ndx-bench: %lu more warnings like these\n",
                count - WARNINGS_SHOWN);
}

/* ---- building ------------------------------------------------------------ */

typedef struct build_args {
    const char *engine;
    const char *out;
    unsigned threads;
    size_t memory_mb;
    int quiet;
    engine_kind kind;
    int dates; /* xapian-plain: XP_DATES_TERMS or XP_DATES_VALUES */
    const char *const *paths;
    size_t path_count;
} build_args;

typedef struct build_result {
    uint64_t articles, passages, raw_bytes, input_bytes, skipped;
    double seconds, read_seconds, commit_seconds, cpu_seconds;
    uint64_t bytes_postings, bytes_text, bytes_other, disk;
    uint64_t terms;
} build_result;

/* The writer of a peer: FTS5 (either set-up) or xapian-plain. */
typedef struct peer_writer {
    engine_kind kind;
    sqlite3 *db;
    sqlite3_stmt *ins_p, *ins_a, *ins_meta;
#ifdef NDX_WITH_XAPIAN
    xp_writer *xp;
#endif
    ndx_passages ps;
    ndx_split_opts so;
    double compact_seconds; /* xapian-plain: the compaction alone */
} peer_writer;

static void
sql_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die("sqlite: %s: %s", sql, err ? err : sqlite3_errmsg(db));
}

static sqlite3_stmt *
sql_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                           NULL) != SQLITE_OK)
        die("sqlite: %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static void
sql_step_done(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die("sqlite: %s", sqlite3_errmsg(db));
    sqlite3_reset(st);
}

static void
fts_create(peer_writer *w, const char *dir, size_t memory_mb)
{
    char path[4096], sql[256];
    int match = w->kind == ENGINE_FTS5_MATCH;

    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        die("mkdir %s: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/fts5.db", dir);
    unlink(path);
    if (sqlite3_open(path, &w->db) != SQLITE_OK)
        die("sqlite open %s: %s", path, sqlite3_errmsg(w->db));
    sql_exec(w->db, "PRAGMA cache_size = -65536");
    sql_exec(w->db, "CREATE TABLE articles(art INTEGER PRIMARY KEY, id TEXT,"
                    " title TEXT, url TEXT)");
    if (match)
        sql_exec(w->db,
                 "CREATE TABLE meta(rowid INTEGER PRIMARY KEY, date INTEGER);"
                 "CREATE INDEX meta_date ON meta(date);"
                 "CREATE VIRTUAL TABLE p USING fts5(title, body, source, "
                 "tokenize = 'porter unicode61');");
    else
        sql_exec(w->db,
                 "CREATE VIRTUAL TABLE p USING fts5(title, body, "
                 "source UNINDEXED, date UNINDEXED, "
                 "tokenize = 'porter unicode61');");
    /* The same in-memory buffer before a segment is written as the
     * newsdex writers get. */
    snprintf(sql, sizeof sql,
             "INSERT INTO p(p, rank) VALUES('hashsize', %zu)",
             memory_mb << 20);
    sql_exec(w->db, sql);
    sql_exec(w->db, "BEGIN");
    if (match) {
        w->ins_p = sql_prepare(w->db, "INSERT INTO p(rowid, title, body, "
                                      "source) VALUES(?, ?, ?, ?)");
        w->ins_meta = sql_prepare(w->db, "INSERT INTO meta(rowid, date) "
                                         "VALUES(?, ?)");
    } else {
        w->ins_p = sql_prepare(w->db, "INSERT INTO p(rowid, title, body, "
                                      "source, date) VALUES(?, ?, ?, ?, ?)");
    }
    w->ins_a = sql_prepare(w->db, "INSERT INTO articles(art, id, title, url)"
                                  " VALUES(?, ?, ?, ?)");
}

static void
fts_add_passage(peer_writer *w, const ndx_article *a, size_t i,
                sqlite3_int64 rowid)
{
    const ndx_span *sp = &w->ps.items[i];

    sqlite3_bind_int64(w->ins_p, 1, rowid);
    if (i == 0 && a->title[0])
        sqlite3_bind_text(w->ins_p, 2, a->title, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(w->ins_p, 2);
    sqlite3_bind_text(w->ins_p, 3, a->text + sp->off, (int)sp->len,
                      SQLITE_STATIC);
    sqlite3_bind_text(w->ins_p, 4, a->source, -1, SQLITE_STATIC);
    if (w->kind == ENGINE_FTS5) {
        if (a->date_days == NDX_DATE_NONE)
            sqlite3_bind_null(w->ins_p, 5);
        else
            sqlite3_bind_int(w->ins_p, 5, a->date_days);
    }
    sql_step_done(w->db, w->ins_p);
    if (w->kind == ENGINE_FTS5_MATCH) {
        sqlite3_bind_int64(w->ins_meta, 1, rowid);
        if (a->date_days == NDX_DATE_NONE)
            sqlite3_bind_null(w->ins_meta, 2);
        else
            sqlite3_bind_int(w->ins_meta, 2, a->date_days);
        sql_step_done(w->db, w->ins_meta);
    }
}

#ifdef NDX_WITH_XAPIAN
static void
xp_add(peer_writer *w, const ndx_article *a, size_t count)
{
    char err[512];
    size_t i;

    if (xp_add_article(w->xp, a->id, a->title, a->url, err, sizeof err) != 0)
        die("%s", err);
    for (i = 0; i < count; i++) {
        const ndx_span *sp = &w->ps.items[i];

        if (xp_add_passage(w->xp, a->id, i == 0 ? a->title : NULL,
                           a->text + sp->off, sp->len, a->source,
                           a->date_days != NDX_DATE_NONE, a->date_days, err,
                           sizeof err) != 0)
            die("%s", err);
    }
}
#endif

static void
peer_create(peer_writer *w, engine_kind kind, const char *dir,
            size_t memory_mb, int dates)
{
    w->kind = kind;
    ndx_split_opts_init(&w->so);
    if (kind == ENGINE_XAPIAN_PLAIN) {
#ifdef NDX_WITH_XAPIAN
        char err[512];

        if (xp_writer_open(&w->xp, dir, dates, err, sizeof err) != 0)
            die("%s", err);
#else
        (void)dates;
#endif
        return;
    }
    fts_create(w, dir, memory_mb);
}

/* Gives the passages of one article to a peer; returns how many. */
static size_t
peer_add(peer_writer *w, const ndx_article *a, uint64_t art)
{
    size_t i, count;
    ndx_status st;

    st = ndx_passages_split(&w->ps, a->text, a->text_len, a->source, &w->so);
    if (st != NDX_OK)
        die("split %s: %s", a->id, ndx_errmsg());
    count = w->ps.count;
    if (count == 0)
        return 0;
    if (count > MAX_PASSAGES_PER_ARTICLE)
        count = MAX_PASSAGES_PER_ARTICLE;
#ifdef NDX_WITH_XAPIAN
    if (w->kind == ENGINE_XAPIAN_PLAIN) {
        xp_add(w, a, count);
        return count;
    }
#endif
    sqlite3_bind_int64(w->ins_a, 1, (sqlite3_int64)art);
    sqlite3_bind_text(w->ins_a, 2, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->ins_a, 3, a->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->ins_a, 4, a->url, -1, SQLITE_STATIC);
    sql_step_done(w->db, w->ins_a);
    for (i = 0; i < count; i++)
        fts_add_passage(w, a, i, (sqlite3_int64)((art << 16) | i));
    return count;
}

/* Commits and ends the bulk load as each peer's documentation advises:
 * FTS5 merges its segments into one, Xapian compacts the database.  Closes
 * the writer. */
static void
peer_finish(peer_writer *w)
{
    if (w->kind == ENGINE_XAPIAN_PLAIN) {
#ifdef NDX_WITH_XAPIAN
        char err[512];
        double compact_s;

        if (xp_writer_finish(w->xp, &compact_s, err, sizeof err) != 0)
            die("%s", err);
        w->xp = NULL;
        w->compact_seconds = compact_s;
#endif
        ndx_passages_clear(&w->ps);
        return;
    }
    sql_exec(w->db, "COMMIT");
    sql_exec(w->db, "INSERT INTO p(p) VALUES('optimize')");
    sqlite3_finalize(w->ins_p);
    sqlite3_finalize(w->ins_a);
    sqlite3_finalize(w->ins_meta);
    if (sqlite3_close(w->db) != SQLITE_OK)
        die("sqlite close: %s", sqlite3_errmsg(w->db));
    ndx_passages_clear(&w->ps);
}

static void
fts_sizes(const char *dir, build_result *r)
{
    char path[4096];
    sqlite3 *db;
    sqlite3_stmt *st;
    struct stat sb;

    snprintf(path, sizeof path, "%s/fts5.db", dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("sqlite open %s: %s", path, sqlite3_errmsg(db));
    st = sql_prepare(db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name");
    r->bytes_postings = r->bytes_text = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        uint64_t bytes = (uint64_t)sqlite3_column_int64(st, 1);

        if (!strcmp(name, "p_data") || !strcmp(name, "p_idx"))
            r->bytes_postings += bytes;
        else if (!strcmp(name, "p_content"))
            r->bytes_text += bytes;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (stat(path, &sb) == 0)
        r->bytes_other = (uint64_t)sb.st_size - r->bytes_postings -
                         r->bytes_text;
}

/* Progress on stderr: a line redrawn every second on a terminal, a new
 * line every 30 seconds in a log. */
static void
progress(const build_args *ba, const build_result *r, double t0, int last)
{
    static double shown;
    static int tty = -1;
    double t;

    if (ba->quiet)
        return;
    if (tty < 0)
        tty = isatty(2);
    t = now_s();
    if (shown == 0)
        shown = t0;
    if (ba->quiet || (!last && t - shown < (tty ? 1.0 : 30.0)) ||
        (last && !tty))
        return;
    shown = t;
    fprintf(stderr, "%s%s: %llu articles, %llu passages, %.1f MB, "
            "%.2f MB/s   %s", tty ? "\r" : "", ba->engine,
            (unsigned long long)r->articles,
            (unsigned long long)r->passages, r->raw_bytes / 1e6,
            r->raw_bytes / 1e6 / (t - t0 > 1e-9 ? t - t0 : 1e-9),
            last || !tty ? "\n" : "");
}

static int
cmd_build(const build_args *ba)
{
    ndx_reader *rd = NULL;
    ndx_index *ix = NULL;
    peer_writer pw = {0};
    build_result r = {0};
    unsigned long warnings = 0;
    int peer = ba->kind != ENGINE_NDX;
    double t0, t;
    long build_rss;
    ndx_status st;
    size_t i;

    t0 = now_s();
    st = ndx_reader_open(&rd, ba->paths, ba->path_count, 0, warn_cb,
                         &warnings);
    if (st != NDX_OK)
        die("%s", ndx_errmsg());
    if (peer) {
        peer_create(&pw, ba->kind, ba->out, ba->memory_mb, ba->dates);
    } else {
        ndx_engine_config cfg;

        ndx_engine_config_init(&cfg);
        if (ba->threads)
            cfg.threads = ba->threads;
        if (ba->memory_mb)
            cfg.memory_mb = ba->memory_mb;
        st = ndx_index_open(&ix, ba->out, NDX_OPEN_WRITE, ba->engine, &cfg);
        if (st != NDX_OK)
            die("open %s (%s): %s", ba->out, ba->engine, ndx_errmsg());
    }
    for (;;) {
        const ndx_article *a;
        double tr = now_s();
        size_t np = 0;

        st = ndx_reader_next(rd, &a);
        r.read_seconds += now_s() - tr;
        if (st != NDX_OK)
            die("read: %s", ndx_errmsg());
        if (!a)
            break;
        if (peer) {
            np = peer_add(&pw, a, r.articles);
        } else {
            st = ndx_index_add(ix, a, &np);
            if (st != NDX_OK)
                die("add %s: %s", a->id, ndx_errmsg());
        }
        r.articles++;
        r.passages += np;
        r.raw_bytes += a->text_len + strlen(a->title);
        progress(ba, &r, t0, 0);
    }
    t = now_s();
    if (peer) {
        peer_finish(&pw);
    } else {
        st = ndx_index_commit(ix);
        if (st != NDX_OK)
            die("commit: %s", ndx_errmsg());
        {
            /* With analysis threads, ndx_index_add hands an article on
             * later and says 0 passages: the index counts them all. */
            uint64_t np = 0;

            ndx_index_counts(ix, NULL, &np, NULL);
            r.passages = np;
        }
        ndx_index_close(ix);
        ix = NULL;
    }
    r.commit_seconds = now_s() - t;
    r.seconds = now_s() - t0;
    r.cpu_seconds = process_cpu_s();
    /* The build's peak, before the sizes are read: opening the index
     * again checks and so reads all of it, whose pages would count. */
    build_rss = maxrss_kb();
    progress(ba, &r, t0, 1);
    {
        const ndx_ingest_stats *is = ndx_reader_stats(rd);

        r.input_bytes = is->bytes_text;
        for (i = 0; i < NDX_SKIP_REASON_COUNT; i++)
            if (i != NDX_SKIP_BAD_DATE && i != NDX_SKIP_BAD_UTF8)
                r.skipped += is->skipped[i];
    }
    ndx_reader_close(rd);
    warn_summary(warnings);

    /* Sizes are read after the clock stopped, from a fresh reader. */
    if (ba->kind == ENGINE_XAPIAN_PLAIN) {
#ifdef NDX_WITH_XAPIAN
        char err[512];

        if (xp_sizes(ba->out, &r.bytes_postings, &r.bytes_text,
                     &r.bytes_other, err, sizeof err) != 0)
            die("%s", err);
#endif
    } else if (peer) {
        fts_sizes(ba->out, &r);
    } else {
        ndx_stats s;

        memset(&s, 0, sizeof s);
        st = ndx_index_open(&ix, ba->out, NDX_OPEN_READ, ba->engine, NULL);
        if (st != NDX_OK)
            die("reopen %s: %s", ba->out, ndx_errmsg());
        st = ndx_index_stats(ix, &s);
        if (st != NDX_OK)
            die("stats: %s", ndx_errmsg());
        r.bytes_postings = s.bytes_postings;
        r.bytes_text = s.bytes_text;
        r.bytes_other = s.bytes_other;
        r.terms = s.terms;
        ndx_stats_clear(&s);
        ndx_index_close(ix);
    }
    r.disk = disk_bytes(ba->out);

    printf("{\"engine\": ");
    json_str(stdout, ba->engine);
    printf(", \"articles\": %llu, \"passages\": %llu, \"raw_bytes\": %llu, "
           "\"input_bytes\": %llu, \"skipped\": %llu, \"seconds\": %.4f, "
           "\"read_seconds\": %.4f, \"commit_seconds\": %.4f, "
           "\"cpu_seconds\": %.4f, \"compact_seconds\": %.4f, "
           "\"bytes_postings\": %llu, \"bytes_text\": %llu, "
           "\"bytes_other\": %llu, \"disk_bytes\": %llu, \"terms\": %llu, "
           "\"threads\": %u, \"maxrss_kb\": %ld",
           (unsigned long long)r.articles, (unsigned long long)r.passages,
           (unsigned long long)r.raw_bytes,
           (unsigned long long)r.input_bytes,
           (unsigned long long)r.skipped, r.seconds, r.read_seconds,
           r.commit_seconds, r.cpu_seconds, pw.compact_seconds,
           (unsigned long long)r.bytes_postings,
           (unsigned long long)r.bytes_text,
           (unsigned long long)r.bytes_other, (unsigned long long)r.disk,
           (unsigned long long)r.terms, ba->threads, build_rss);
    if (ba->kind == ENGINE_XAPIAN_PLAIN)
        printf(", \"dates\": \"%s\"", dates_name(ba->dates));
    printf("}\n");
    return 0;
}

/* ---- queries ----------------------------------------------------------- */

typedef struct bq {
    char *kind;
    char *ndx;
    char *fts;
    char *xq;     /* QueryParser syntax; NULL when the file has none */
    char *source; /* NULL: no filter */
    int has_from, has_to;
    int32_t from_days, to_days;
    char *label;
    int kind_no;
    double *times; /* seconds, one per timed pass */
    double *cpu;   /* thread CPU seconds, one per timed pass */
    int failed;
    size_t count;     /* hits returned in the last pass */
    uint64_t total;   /* matching articles reported by the engine */
    const char *total_kind; /* "exact", "bound", "estimate" or "none" */
    char *top;        /* article ids of the last pass, space separated */
} bq;

typedef struct qset {
    bq *q;
    size_t count, cap;
    char *kinds[MAX_KINDS];
    size_t kind_count;
} qset;

static char *
xstrdup(const char *s)
{
    char *d = strdup(s);

    if (!d)
        die("out of memory");
    return d;
}

static int
kind_number(qset *qs, const char *kind)
{
    size_t i;

    for (i = 0; i < qs->kind_count; i++)
        if (!strcmp(qs->kinds[i], kind))
            return (int)i;
    if (qs->kind_count == MAX_KINDS)
        die("more than %d query kinds", MAX_KINDS);
    qs->kinds[qs->kind_count] = xstrdup(kind);
    return (int)qs->kind_count++;
}

static void
load_queries(qset *qs, const char *path, int passes)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long line_no = 0;

    if (!f)
        die("open %s: %s", path, strerror(errno));
    while ((n = getline(&line, &cap, f)) >= 0) {
        char *cells[8] = {0};
        char *p = line;
        int c = 0;
        bq *q;

        line_no++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        for (c = 0; c < 8; c++) {
            char *tab = strchr(p, '\t');

            cells[c] = p;
            if (!tab) {
                c++;
                break;
            }
            *tab = '\0';
            p = tab + 1;
        }
        if (c < 7)
            die("%s:%ld: need 7 or 8 tab-separated cells", path, line_no);
        if (ndx_grow((void **)&qs->q, &qs->cap, qs->count + 1,
                     sizeof *qs->q, 512))
            die("out of memory");
        q = &qs->q[qs->count++];
        memset(q, 0, sizeof *q);
        q->kind = xstrdup(cells[0]);
        q->kind_no = kind_number(qs, cells[0]);
        q->ndx = xstrdup(cells[1]);
        q->fts = xstrdup(cells[2]);
        q->xq = c > 7 ? xstrdup(cells[7]) : NULL;
        q->source = cells[3][0] ? xstrdup(cells[3]) : NULL;
        q->has_from = cells[4][0] != '\0';
        q->from_days = (int32_t)atol(cells[4]);
        q->has_to = cells[5][0] != '\0';
        q->to_days = (int32_t)atol(cells[5]);
        q->label = xstrdup(cells[6]);
        q->times = calloc((size_t)passes, sizeof *q->times);
        q->cpu = calloc((size_t)passes, sizeof *q->cpu);
        if (!q->times || !q->cpu)
            die("out of memory");
    }
    free(line);
    fclose(f);
    if (qs->count == 0)
        die("%s: no queries", path);
}

/* Facets every newsdex query counts (--facets), NDX_FACET_*. */
static unsigned facet_set;
/* --exact-total: newsdex queries count every match (no pruning). */
static int exact_totals;

typedef struct searcher {
    engine_kind kind;
    ndx_index *ix;
    ndx_search_opts opts;
    sqlite3 *db;
    sqlite3_stmt *by_filter[4]; /* bit 0: source, bit 1: dates */
    sqlite3_stmt *get_passage, *get_article;
#ifdef NDX_WITH_XAPIAN
    xp_searcher *xp;
#endif
    ndx_buf match; /* fts5-match: the MATCH expression with its filter */
    const char *total_kind; /* what the last query's total is */
    size_t k;
    ndx_buf top;
} searcher;

static void
fts_open(searcher *s, const char *dir)
{
    char path[4096];
    int i, match = s->kind == ENGINE_FTS5_MATCH;

    snprintf(path, sizeof path, "%s/fts5.db", dir);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK)
        die("sqlite open %s: %s", path, sqlite3_errmsg(s->db));
    /* Map the file as the newsdex engines map theirs. */
    sql_exec(s->db, "PRAGMA mmap_size = 1099511627776");
    sql_exec(s->db, "PRAGMA cache_size = -65536");
    for (i = 0; i < 4; i++) {
        char sql[512];

        /* fts5: both filters in WHERE; fts5-match: the source is in the
         * MATCH expression, the date in the joined table. */
        const char *join = match && (i & 2) ? " JOIN meta m ON m.rowid = "
                                              "p.rowid"
                                            : "";
        const char *by_source = !match && (i & 1) ? " AND source = ?2" : "";
        const char *by_date = !(i & 2) ? ""
                              : match  ? " AND m.date BETWEEN ?3 AND ?4"
                                       : " AND date BETWEEN ?3 AND ?4";

        snprintf(sql, sizeof sql,
                 "SELECT a, r, min(s) AS ms FROM (SELECT p.rowid >> 16 AS a, "
                 "p.rowid AS r, bm25(p) AS s FROM p%s WHERE p MATCH ?1%s%s "
                 "LIMIT -1) GROUP BY a ORDER BY ms LIMIT ?5",
                 join, by_source, by_date);
        s->by_filter[i] = sql_prepare(s->db, sql);
    }
    s->get_passage = sql_prepare(s->db,
                                 match ? "SELECT body, source FROM p "
                                         "WHERE rowid = ?"
                                       : "SELECT body, source, date FROM p "
                                         "WHERE rowid = ?");
    s->get_article = sql_prepare(s->db, "SELECT id, title, url FROM "
                                        "articles WHERE art = ?");
}

static void
searcher_open(searcher *s, engine_kind kind, const char *engine,
              const char *dir, size_t k, int dates)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->k = k;
    ndx_buf_init(&s->top);
    ndx_buf_init(&s->match);
    (void)dates;
    if (kind == ENGINE_FTS5 || kind == ENGINE_FTS5_MATCH) {
        fts_open(s, dir);
    } else if (kind == ENGINE_XAPIAN_PLAIN) {
#ifdef NDX_WITH_XAPIAN
        char err[512];

        if (xp_searcher_open(&s->xp, dir, dates, k, err, sizeof err) != 0)
            die("%s", err);
#endif
    } else {
        ndx_status st = ndx_index_open(&s->ix, dir, NDX_OPEN_READ, engine,
                                       NULL);

        if (st != NDX_OK)
            die("open %s (%s): %s", dir, engine, ndx_errmsg());
        /* The settings of every run: k hits grouped by article, by
         * relevance, no snippets (the peers make none); the search itself
         * runs on the calling thread. */
        ndx_search_opts_init(&s->opts);
        s->opts.k = k;
        s->opts.group = NDX_GROUP_ARTICLE;
        s->opts.sort = NDX_SORT_RELEVANCE;
        s->opts.snippets = 0;
        s->opts.facets = facet_set;
        s->opts.exact_total = exact_totals;
    }
}

static void
searcher_close(searcher *s)
{
    int i;

    if (s->kind == ENGINE_FTS5 || s->kind == ENGINE_FTS5_MATCH) {
        for (i = 0; i < 4; i++)
            sqlite3_finalize(s->by_filter[i]);
        sqlite3_finalize(s->get_passage);
        sqlite3_finalize(s->get_article);
        sqlite3_close(s->db);
    } else if (s->kind == ENGINE_XAPIAN_PLAIN) {
#ifdef NDX_WITH_XAPIAN
        xp_searcher_close(s->xp);
#endif
    } else {
        ndx_index_close(s->ix);
    }
    ndx_buf_free(&s->top);
    ndx_buf_free(&s->match);
}

static void
top_add(searcher *s, const char *id)
{
    if (s->top.len)
        ndx_buf_putc(&s->top, ' ');
    ndx_buf_puts(&s->top, id ? id : "?");
}

/* The MATCH expression of fts5-match: the query restricted to the text
 * columns, and the source as a phrase in its own column. */
static const char *
fts_match_expr(searcher *s, const bq *q)
{
    const char *c;

    s->match.len = 0;
    ndx_buf_puts(&s->match, "{title body} : (");
    ndx_buf_puts(&s->match, q->fts);
    ndx_buf_puts(&s->match, ")");
    if (q->source) {
        ndx_buf_puts(&s->match, " AND source : \"");
        for (c = q->source; *c; c++) {
            if (*c == '"')
                ndx_buf_putc(&s->match, '"');
            ndx_buf_putc(&s->match, *c);
        }
        ndx_buf_putc(&s->match, '"');
    }
    if (ndx_buf_cstr(&s->match) != NDX_OK)
        die("out of memory");
    return (const char *)s->match.data;
}

/* Runs one query; returns 0, or -1 with a message when the engine refused
 * it.  *count receives the hits returned, *total what the engine counted
 * (0 when it does not count). */
static int
run_fts(searcher *s, const bq *q, size_t *count, uint64_t *total,
        char *err, size_t err_cap)
{
    int which = (q->source ? 1 : 0) | (q->has_from || q->has_to ? 2 : 0);
    sqlite3_stmt *st = s->by_filter[which];
    sqlite3_int64 rows[256];
    size_t n = 0, i;
    int rc;

    if (s->kind == ENGINE_FTS5_MATCH) {
        sqlite3_bind_text(st, 1, fts_match_expr(s, q), -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_text(st, 1, q->fts, -1, SQLITE_STATIC);
        if (which & 1)
            sqlite3_bind_text(st, 2, q->source, -1, SQLITE_STATIC);
    }
    if (which & 2) {
        sqlite3_bind_int(st, 3, q->has_from ? q->from_days : INT32_MIN);
        sqlite3_bind_int(st, 4, q->has_to ? q->to_days : INT32_MAX);
    }
    sqlite3_bind_int64(st, 5, (sqlite3_int64)s->k);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (n < sizeof rows / sizeof *rows)
            rows[n++] = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, err_cap, "%s", sqlite3_errmsg(s->db));
        return -1;
    }
    s->top.len = 0;
    for (i = 0; i < n; i++) {
        const char *id = NULL;
        size_t sum = 0;

        sqlite3_bind_int64(s->get_passage, 1, rows[i]);
        if (sqlite3_step(s->get_passage) == SQLITE_ROW)
            sum += (size_t)sqlite3_column_bytes(s->get_passage, 0);
        sqlite3_bind_int64(s->get_article, 1, rows[i] >> 16);
        if (sqlite3_step(s->get_article) == SQLITE_ROW) {
            id = (const char *)sqlite3_column_text(s->get_article, 0);
            top_add(s, id);
        }
        sqlite3_reset(s->get_passage);
        sqlite3_reset(s->get_article);
        (void)sum;
    }
    *count = n;
    *total = 0;
    s->total_kind = "none";
    return 0;
}

#ifdef NDX_WITH_XAPIAN
static void
xp_on_hit(void *ctx, const char *article_id)
{
    top_add(ctx, article_id);
}

static int
run_xp(searcher *s, const bq *q, size_t *count, uint64_t *total, char *err,
       size_t err_cap)
{
    s->top.len = 0;
    if (!q->xq) {
        snprintf(err, err_cap, "the query file has no Xapian query column; "
                               "make it again with bench/run");
        return -1;
    }
    s->total_kind = "estimate";
    return xp_search(s->xp, q->xq, q->source, q->has_from, q->from_days,
                     q->has_to, q->to_days, xp_on_hit, s, count, total, err,
                     err_cap);
}
#endif

static int
run_ndx(searcher *s, const bq *q, size_t *count, uint64_t *total,
        char *err, size_t err_cap)
{
    ndx_results *res = NULL;
    ndx_status st;
    size_t i;

    st = ndx_index_search(s->ix, q->ndx, &s->opts, &res, NULL);
    if (st != NDX_OK) {
        snprintf(err, err_cap, "%s", ndx_errmsg());
        ndx_results_free(res);
        return -1;
    }
    s->top.len = 0;
    for (i = 0; i < res->count; i++)
        top_add(s, res->hits[i].article);
    *count = res->count;
    *total = res->total;
    s->total_kind = res->total_exact ? "exact" : "bound";
    ndx_results_free(res);
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double
percentile(const double *v, size_t n, double pct)
{
    size_t rank;

    if (n == 0)
        return 0;
    rank = (size_t)ceil(pct / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static void
print_kind(const char *name, double *v, double *cpu, size_t n, size_t failed,
           size_t zero, int first)
{
    double sum = 0, cpu_sum = 0;
    size_t i;

    qsort(v, n, sizeof *v, cmp_double);
    qsort(cpu, n, sizeof *cpu, cmp_double);
    for (i = 0; i < n; i++) {
        sum += v[i];
        cpu_sum += cpu[i];
    }
    printf("%s\"%s\": {\"samples\": %zu, \"failed\": %zu, \"zero_hits\": %zu,"
           " \"p50_ms\": %.4f, \"p95_ms\": %.4f, \"p99_ms\": %.4f, "
           "\"mean_ms\": %.4f, \"max_ms\": %.4f, \"qps\": %.2f, "
           "\"cpu_p50_ms\": %.4f, \"cpu_p99_ms\": %.4f, "
           "\"cpu_mean_ms\": %.4f}",
           first ? "" : ", ", name, n, failed, zero,
           percentile(v, n, 50) * 1e3, percentile(v, n, 95) * 1e3,
           percentile(v, n, 99) * 1e3, n ? sum / n * 1e3 : 0,
           n ? v[n - 1] * 1e3 : 0, sum > 0 ? n / sum : 0,
           percentile(cpu, n, 50) * 1e3, percentile(cpu, n, 99) * 1e3,
           n ? cpu_sum / n * 1e3 : 0);
}

static int
run_query(searcher *s, const bq *q, size_t *count, uint64_t *total,
          char *err, size_t err_cap)
{
    switch (s->kind) {
    case ENGINE_FTS5:
    case ENGINE_FTS5_MATCH:
        return run_fts(s, q, count, total, err, err_cap);
    case ENGINE_XAPIAN_PLAIN:
#ifdef NDX_WITH_XAPIAN
        return run_xp(s, q, count, total, err, err_cap);
#else
        break;
#endif
    case ENGINE_NDX:
        return run_ndx(s, q, count, total, err, err_cap);
    }
    snprintf(err, err_cap, "engine not built in");
    return -1;
}

static const char *
query_text(const searcher *s, const bq *q)
{
    if (s->kind == ENGINE_FTS5 || s->kind == ENGINE_FTS5_MATCH)
        return q->fts;
    if (s->kind == ENGINE_XAPIAN_PLAIN)
        return q->xq ? q->xq : "";
    return q->ndx;
}

static int
cmd_query(const char *engine, engine_kind kind, int dates, const char *dir,
          const char *qpath, int passes, int warmup, size_t k,
          const char *hits_path, const char *times_path)
{
    qset qs = {0};
    searcher s;
    double t_all0, t_all;
    size_t i, kno;
    int pass;
    char err[512];

    if (passes < 1)
        passes = 1;
    load_queries(&qs, qpath, passes);
    searcher_open(&s, kind, engine, dir, k, dates);
    t_all0 = now_s();
    for (pass = -warmup; pass < passes; pass++) {
        for (i = 0; i < qs.count; i++) {
            bq *q = &qs.q[i];
            size_t count = 0;
            uint64_t total = 0;
            double t0, t1, c0, c1;
            int rc;

            if (q->failed)
                continue;
            c0 = thread_cpu_s();
            t0 = now_s();
            rc = run_query(&s, q, &count, &total, err, sizeof err);
            t1 = now_s();
            c1 = thread_cpu_s();
            if (rc != 0) {
                fprintf(stderr, "ndx-bench: %s: query %s [%s]: %s\n", engine,
                        q->label, query_text(&s, q), err);
                q->failed = 1;
                continue;
            }
            if (pass >= 0) {
                q->times[pass] = t1 - t0;
                q->cpu[pass] = c1 - c0;
            }
            if (pass == passes - 1) {
                q->count = count;
                q->total = total;
                q->total_kind = s.total_kind;
                ndx_buf_cstr(&s.top);
                free(q->top);
                q->top = xstrdup(s.top.len ? (char *)s.top.data : "");
            }
        }
    }
    t_all = now_s() - t_all0;

    printf("{\"engine\": ");
    json_str(stdout, engine);
    printf(", \"queries\": %zu, \"passes\": %d, \"warmup\": %d, \"k\": %zu, "
           "\"threads\": 1, \"group\": \"article\", \"snippets\": false, "
           "\"wall_seconds\": %.3f, \"maxrss_kb\": %ld, ",
           qs.count, passes, warmup, k, t_all, maxrss_kb());
    if (kind == ENGINE_XAPIAN_PLAIN)
        printf("\"dates\": \"%s\", ", dates_name(dates));
    printf("\"kinds\": {");
    for (kno = 0; kno <= qs.kind_count; kno++) {
        double *v = calloc(qs.count * (size_t)passes + 1, sizeof *v);
        double *cpu = calloc(qs.count * (size_t)passes + 1, sizeof *cpu);
        size_t n = 0, failed = 0, zero = 0;

        if (!v || !cpu)
            die("out of memory");
        for (i = 0; i < qs.count; i++) {
            bq *q = &qs.q[i];

            if (kno < qs.kind_count && q->kind_no != (int)kno)
                continue;
            if (q->failed) {
                failed++;
                continue;
            }
            if (q->count == 0)
                zero++;
            memcpy(v + n, q->times, (size_t)passes * sizeof *v);
            memcpy(cpu + n, q->cpu, (size_t)passes * sizeof *cpu);
            n += (size_t)passes;
        }
        print_kind(kno < qs.kind_count ? qs.kinds[kno] : "all", v, cpu, n,
                   failed, zero, kno == 0);
        free(v);
        free(cpu);
    }
    printf("}}\n");

    if (hits_path) {
        FILE *f = fopen(hits_path, "w");

        if (!f)
            die("create %s: %s", hits_path, strerror(errno));
        for (i = 0; i < qs.count; i++) {
            bq *q = &qs.q[i];

            fprintf(f, "%s\t%s\t%zu\t%llu\t%s\t%s\n", q->label,
                    q->failed ? "failed" : "ok", q->count,
                    (unsigned long long)q->total, q->top ? q->top : "",
                    q->total_kind ? q->total_kind : "none");
        }
        if (fclose(f) != 0)
            die("write %s: %s", hits_path, strerror(errno));
    }
    if (times_path) {
        FILE *f = fopen(times_path, "w");

        if (!f)
            die("create %s: %s", times_path, strerror(errno));
        for (i = 0; i < qs.count; i++) {
            bq *q = &qs.q[i];

            if (q->failed) {
                fprintf(f, "%s\t%s\tfailed\tfailed\n", q->label, q->kind);
                continue;
            }
            qsort(q->cpu, (size_t)passes, sizeof *q->cpu, cmp_double);
            fprintf(f, "%s\t%s\t%.4f\t%.4f\n", q->label, q->kind,
                    1e3 * q->cpu[(passes - 1) / 2], 1e3 * q->cpu[passes - 1]);
        }
        if (fclose(f) != 0)
            die("write %s: %s", times_path, strerror(errno));
    }
    searcher_close(&s);
    for (i = 0; i < qs.count; i++) {
        free(qs.q[i].kind);
        free(qs.q[i].ndx);
        free(qs.q[i].fts);
        free(qs.q[i].xq);
        free(qs.q[i].source);
        free(qs.q[i].label);
        free(qs.q[i].times);
        free(qs.q[i].cpu);
        free(qs.q[i].top);
    }
    for (i = 0; i < qs.kind_count; i++)
        free(qs.kinds[i]);
    free(qs.q);
    return 0;
}

/* ---- dump --------------------------------------------------------------- */

static void
put_field(ndx_buf *b, const char *name, const char *v, int last)
{
    ndx_buf_printf(b, "\"%s\": \"", name);
    ndx_buf_put_json_str(b, v, strlen(v));
    ndx_buf_puts(b, last ? "\"}\n" : "\", ");
}

/* Writes what the engines index as JSON Lines with the six fields of the
 * shared corpora, so that scripts can read any corpus format: the articles
 * the reader yields, with text = their passages separated by blank lines
 * (page furniture left out). */
static int
cmd_dump(const char *const *paths, size_t count)
{
    ndx_reader *rd = NULL;
    unsigned long warnings = 0;
    ndx_passages ps = {0};
    ndx_split_opts so;
    ndx_buf b;
    ndx_status st;
    size_t i;

    st = ndx_reader_open(&rd, paths, count, 0, warn_cb, &warnings);
    if (st != NDX_OK)
        die("%s", ndx_errmsg());
    ndx_buf_init(&b);
    ndx_split_opts_init(&so);
    for (;;) {
        const ndx_article *a;
        char date[11];

        st = ndx_reader_next(rd, &a);
        if (st != NDX_OK)
            die("read: %s", ndx_errmsg());
        if (!a)
            break;
        st = ndx_passages_split(&ps, a->text, a->text_len, a->source, &so);
        if (st != NDX_OK)
            die("split %s: %s", a->id, ndx_errmsg());
        if (ps.count == 0)
            continue;
        b.len = 0;
        ndx_date_format(a->date_days, date);
        ndx_buf_puts(&b, "{");
        put_field(&b, "id", a->id, 0);
        put_field(&b, "source", a->source, 0);
        put_field(&b, "date", date, 0);
        put_field(&b, "title", a->title, 0);
        put_field(&b, "url", a->url, 0);
        ndx_buf_puts(&b, "\"text\": \"");
        for (i = 0; i < ps.count; i++) {
            if (i)
                ndx_buf_puts(&b, "\\n\\n");
            ndx_buf_put_json_str(&b, a->text + ps.items[i].off,
                                 ps.items[i].len);
        }
        if (ndx_buf_puts(&b, "\"}\n") != NDX_OK)
            die("out of memory");
        if (fwrite(b.data, 1, b.len, stdout) != b.len)
            die("write: %s", strerror(errno));
    }
    ndx_buf_free(&b);
    ndx_passages_clear(&ps);
    ndx_reader_close(rd);
    warn_summary(warnings);
    if (fflush(stdout) != 0)
        die("write: %s", strerror(errno));
    return 0;
}

/* ---- main -------------------------------------------------------------- */

static void
usage(void)
{
    fputs("usage: ndx-bench build --engine ENGINE -o DIR [--threads N]\n"
          "                 [--memory MB] [--dates terms|values] [--quiet]\n"
          "                 CORPUS...\n"
          "       ndx-bench query --engine ENGINE -i DIR --queries FILE\n"
          "                 [--passes P] [--warmup W] [-k K]\n"
          "                 [--dates terms|values] [--hits FILE]\n"
          "                 [--times FILE] [--facets source,month]\n"
          "                 [--exact-total]\n"
          "       ndx-bench dump CORPUS...\n"
          "ENGINE: " ENGINE_NAMES "; --dates: how xapian-plain indexes\n"
          "and filters dates (give the same to build and query; build\n"
          "--dates both indexes both, to compare them on one index)\n",
          stderr);
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *cmd, *engine = "native", *out = NULL, *in = NULL;
    const char *queries = NULL, *hits = NULL, *times = NULL, *facets = NULL;
    const char **paths;
    size_t path_count = 0, k = 10, memory_mb = 0;
    unsigned threads = 1;
    int passes = 3, warmup = 1, quiet = 0, rc = 2, i;
    int dates = DATES_DEFAULT;
    engine_kind kind = ENGINE_NDX;

    if (argc < 2)
        usage();
    cmd = argv[1];
    paths = calloc((size_t)argc, sizeof *paths);
    if (!paths)
        die("out of memory");
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (!strcmp(a, "--exact-total") && !strcmp(cmd, "query")) {
            exact_totals = 1;
            continue;
        }
        if (a[0] != '-' || !strcmp(a, "-")) {
            paths[path_count++] = a;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--engine"))
            engine = v;
        else if (!strcmp(a, "-o"))
            out = v;
        else if (!strcmp(a, "-i"))
            in = v;
        else if (!strcmp(a, "--queries"))
            queries = v;
        else if (!strcmp(a, "--hits"))
            hits = v;
        else if (!strcmp(a, "--times"))
            times = v;
        else if (!strcmp(a, "--threads"))
            threads = (unsigned)atoi(v);
        else if (!strcmp(a, "--memory"))
            memory_mb = (size_t)atol(v);
        else if (!strcmp(a, "--passes"))
            passes = atoi(v);
        else if (!strcmp(a, "--warmup"))
            warmup = atoi(v);
        else if (!strcmp(a, "-k"))
            k = (size_t)atol(v);
        else if (!strcmp(a, "--facets"))
            facets = v;
        else if (!strcmp(a, "--dates") && !strcmp(v, "terms"))
            dates = XP_DATES_TERMS;
        else if (!strcmp(a, "--dates") && !strcmp(v, "values"))
            dates = XP_DATES_VALUES;
        else if (!strcmp(a, "--dates") && !strcmp(v, "both") &&
                 !strcmp(cmd, "build"))
            dates = XP_DATES_BOTH;
        else
            usage();
    }
    if (!strcmp(engine, "fts5"))
        kind = ENGINE_FTS5;
    else if (!strcmp(engine, "fts5-match"))
        kind = ENGINE_FTS5_MATCH;
    else if (!strcmp(engine, "xapian-plain"))
        kind = ENGINE_XAPIAN_PLAIN;
    else if (strcmp(engine, "native") && strcmp(engine, "xapian"))
        usage();
#ifndef NDX_WITH_XAPIAN
    if (kind == ENGINE_XAPIAN_PLAIN)
        die("xapian-plain: this ndx-bench was built without Xapian "
            "(XAPIAN=0); build it with XAPIAN=1");
#endif
    if (!strcmp(cmd, "build")) {
        build_args ba = {engine, out, threads, memory_mb, quiet, kind, dates,
                         paths, path_count};

        if (!out || path_count == 0)
            usage();
        if (ba.memory_mb == 0) {
            ndx_engine_config cfg;

            ndx_engine_config_init(&cfg);
            ba.memory_mb = cfg.memory_mb ? cfg.memory_mb : 256;
        }
        rc = cmd_build(&ba);
    } else if (!strcmp(cmd, "query")) {
        if (!in || !queries || path_count || k == 0 || k > 256)
            usage();
        if (facets) {
            if (kind != ENGINE_NDX)
                die("--facets: the newsdex engines only");
            facet_set = (strstr(facets, "source") ? NDX_FACET_SOURCE : 0) |
                        (strstr(facets, "year") ? NDX_FACET_YEAR : 0) |
                        (strstr(facets, "month") ? NDX_FACET_MONTH : 0) |
                        (strstr(facets, "day") ? NDX_FACET_DAY : 0);
        }
        rc = cmd_query(engine, kind, dates, in, queries, passes,
                       warmup < 0 ? 0 : warmup, k, hits, times);
    } else if (!strcmp(cmd, "dump")) {
        if (path_count == 0)
            usage();
        rc = cmd_dump(paths, path_count);
    } else {
        usage();
    }
    free(paths);
    return rc;
}
