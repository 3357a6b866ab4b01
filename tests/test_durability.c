/*
 * test_durability.c - the native index against damaged files and crashes:
 * every region of a segment flipped in turn, truncated and missing files,
 * damaged deletion files, another format version, stray files in the
 * directory, writers that die before commit (or are killed at random
 * moments), readers that keep their generation while a writer replaces it
 * and searches that go on while a refresh swaps it, readers that open
 * while commits remove files, the writer lock, and BM25 statistics after
 * articles are replaced and segments merged.
 *
 * Whatever may crash runs in a forked child with a time limit, so that a
 * crash or a hang is a failure that names the case instead of the end of
 * the test run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <zlib.h>

#include "native/manifest.h"
#include "newsdex/newsdex.h"
#include "native/segment.h"
#include "support.h"
#include "util/buf.h"
#include "util/mapguard.h"

#define CHILD_SECS 20  /* a child running longer than this is hung */

/* Child exit codes; anything else (a signal, a sanitizer's exit 1) is a
 * crash. */
enum {
    CHILD_OK = 0,
    CHILD_CHECK_MISSED = 20,  /* check passed a damaged index */
    CHILD_CHECK_CODE = 21,    /* check failed with an unexpected code */
    CHILD_OP_CODE = 22,       /* open/search/get/stats: unexpected code */
    CHILD_OPEN_OK = 23,       /* open succeeded where it must not */
    CHILD_SETUP = 24,         /* the child could not do its job */
    CHILD_SERVED = 25,        /* a damaged index was opened for reading */
    CHILD_UNNAMED = 26        /* the error did not name the segment */
};

static const char *const corpus_ids[] = {
    "000_5286196f00fcb6ee", "001_b6ab9d925da0c223", "002_59a3440c063501ba",
    "003_0036f894b85e4f95", "004_0d195e7965c4b621",
};
#define CORPUS_COUNT 5

/* A term, a phrase, a prefix, OR, NOT, a field, source and date filters. */
static const char *const queries[] = {
    "Ukraine",
    "\"security guarantees\"",
    "rub*",
    "NATO OR Kyiv",
    "Russia -Rubio",
    "title:rubio",
    "peace source:newsweek",
    "talks date:2025-04",
    "Ukraine after:2025-04-01 before:2025-05-01",
};
#define QUERY_COUNT (sizeof queries / sizeof queries[0])

/* ---- helpers ------------------------------------------------------------ */

static char *
path_in(const char *dir, const char *name)
{
    static char p[4][1200];
    static int which;

    which = (which + 1) % 4;
    snprintf(p[which], sizeof p[which], "%s/%s", dir, name);
    return p[which];
}

/* Runs fn(arg) in a child with a time limit.  Returns the child's exit
 * code, or minus the signal that ended it (-SIGALRM: it hung). */
static int
in_child(int (*fn)(void *), void *arg)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1000;
    if (pid == 0) {
        alarm(CHILD_SECS);
        _exit(fn(arg));
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1000;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return -1000;
}

static int
copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = t_slurp(from, &len);
    int rc;

    if (!data)
        return -1;
    rc = t_write(to, data, len);
    free(data);
    return rc;
}

/* Copies the regular files of an index directory (not LOCK). */
static void
copy_index(const char *from, const char *to)
{
    DIR *d = opendir(from);
    struct dirent *e;

    CU_ASSERT_FATAL(d != NULL);
    mkdir(to, 0755);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0)
            continue;
        CU_ASSERT_FATAL(copy_file(path_in(from, e->d_name),
                                  path_in(to, e->d_name)) == 0);
    }
    closedir(d);
}

/* Name of the only segment of a one-segment index, from its manifest. */
static const char *
only_segment(const char *dir)
{
    static char name[64];
    ndx_manifest m;

    CU_ASSERT_FATAL(ndx_manifest_read(dir, &m) == NDX_OK);
    CU_ASSERT_FATAL(m.count == 1);
    snprintf(name, sizeof name, "%s", m.segs[0].name);
    ndx_manifest_clear(&m);
    return name;
}

/* Counts the seg-* files of dir that the manifest does not name. */
static size_t
unnamed_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    ndx_manifest m;
    size_t n = 0, i;

    if (!d || ndx_manifest_read(dir, &m) != NDX_OK) {
        if (d)
            closedir(d);
        return (size_t)-1;
    }
    while ((e = readdir(d)) != NULL) {
        int named = 0;

        if (strncmp(e->d_name, "seg-", 4) != 0)
            continue;
        for (i = 0; i < m.count; i++)
            named |= strcmp(m.segs[i].name, e->d_name) == 0 ||
                     strcmp(m.segs[i].del, e->d_name) == 0;
        n += !named;
    }
    closedir(d);
    ndx_manifest_clear(&m);
    return n;
}

/* Indexes corpus/ into dir (created or replaced). */
static void
index_corpus(const char *dir)
{
    const char *paths[] = {"corpus"};
    ndx_index *ix = NULL;
    size_t n = 0;

    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_WRITE, "native",
                                   NULL) == NDX_OK);
    CU_ASSERT_FATAL(t_add_corpus(ix, paths, 1, &n) == NDX_OK);
    CU_ASSERT_FATAL(n == CORPUS_COUNT);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
}

/* The corpus index, built once and copied by the tests that damage it. */
static const char *
pristine(void)
{
    static char dir[400];

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/pristine", t_tmpdir());
        index_corpus(dir);
    }
    return dir;
}

/* Copies the pristine index to dir/name, whose path goes to out (size
 * bytes). */
static void
copy_pristine(char *out, size_t size, const char *dir, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
    copy_index(pristine(), out);
}

/* Copies the pristine index to ix in a fresh temporary directory, whose
 * path goes to out (size bytes). */
static void
copy_pristine_fresh(char *out, size_t size)
{
    copy_pristine(out, size, t_tmpdir(), "ix");
}

/* Copies the pristine index to a fresh directory (copy_pristine_fresh)
 * and reads one of its files whole, name or (NULL) the only segment:
 * *path receives the file's path (path_in's storage), *len its length.
 * The bytes are the caller's to free. */
static char *
copy_and_read(char *work, size_t size, const char *name, const char **path,
              size_t *len)
{
    char *data;

    copy_pristine_fresh(work, size);
    *path = path_in(work, name ? name : only_segment(work));
    data = t_slurp(*path, len);
    CU_ASSERT_FATAL(data != NULL);
    return data;
}

/* An article made of our own words. */
static void
make_article(ndx_article *a, const char *id, const char *source,
             const char *title, int32_t days, const char *text)
{
    memset(a, 0, sizeof *a);
    a->id = (char *)id;
    a->source = (char *)source;
    a->title = (char *)title;
    a->url = (char *)"";
    a->lang = (char *)"";
    a->date_days = days;
    a->time_secs = -1;
    a->text = (char *)text;
    a->text_len = strlen(text);
}

/* Filler article i: forty words of its own, and a few shared ones so that
 * the statistics of the test queries depend on it. */
static void
filler_text(char *out, size_t cap, const char *tag, unsigned i)
{
    size_t len = 0;
    unsigned k;

    for (k = 0; k < 40 && len + 32 < cap; k++)
        len += (size_t)snprintf(out + len, cap - len, "%sq%ux%u ", tag, i, k);
    if (i % 3 == 0)
        snprintf(out + len, cap - len, "Ukraine peace talks with Russia.");
    else if (i % 3 == 1)
        snprintf(out + len, cap - len, "Security guarantees for Kyiv.");
    else
        snprintf(out + len, cap - len, "Rubio spoke about NATO.");
}

/* Adds filler i under the id ID_TAG-i with the text of TEXT_TAG. */
static ndx_status
add_filler_as(ndx_index *ix, const char *id_tag, const char *text_tag,
              unsigned i)
{
    char id[64], text[1200];
    ndx_article a;

    snprintf(id, sizeof id, "%s-%u", id_tag, i);
    filler_text(text, sizeof text, text_tag, i);
    make_article(&a, id, i % 2 ? "Filler Wire" : "Newsweek", "",
                 20180 + (int32_t)(i % 30), text);
    return ndx_index_add(ix, &a, NULL);
}

static ndx_status
add_filler(ndx_index *ix, const char *tag, unsigned i)
{
    return add_filler_as(ix, tag, tag, i);
}

/*
 * Everything a reader can observe, as text: for each query the total and
 * every hit (article, passage, score to 17 digits, source, date); each
 * corpus article's passages; and the statistics.  Two indexes that answer
 * alike give the same text.  Returns the first unexpected status, or
 * NDX_OK.
 */
static ndx_status
observe(ndx_index *ix, ndx_buf *out)
{
    ndx_search_opts o;
    ndx_stats s;
    ndx_status st, first = NDX_OK;
    size_t q, i;

    ndx_search_opts_init(&o);
    o.k = 20;
    for (q = 0; q < QUERY_COUNT; q++) {
        ndx_results *r = NULL;

        st = ndx_index_search(ix, queries[q], &o, &r, NULL);
        ndx_buf_printf(out, "q%zu %d", q, (int)st);
        if (st == NDX_OK) {
            ndx_buf_printf(out, " total %llu\n",
                           (unsigned long long)r->total);
            for (i = 0; i < r->count; i++)
                ndx_buf_printf(out, "  %s#%u %.17g %s %d %u\n",
                               r->hits[i].article, r->hits[i].passage,
                               r->hits[i].score, r->hits[i].source,
                               (int)r->hits[i].date_days,
                               r->hits[i].matches);
        } else {
            ndx_buf_puts(out, "\n");
            if (!first)
                first = st;
        }
        ndx_results_free(r);
    }
    /* Passage grouping, newest first, with a source filter. */
    {
        const char *srcs[] = {"newsweek", "USA Today"};
        ndx_results *r = NULL;

        o.group = NDX_GROUP_PASSAGE;
        o.sort = NDX_SORT_NEWEST;
        o.sources = srcs;
        o.source_count = 2;
        st = ndx_index_search(ix, "ukraine OR russia", &o, &r, NULL);
        ndx_buf_printf(out, "passages %d\n", (int)st);
        for (i = 0; st == NDX_OK && i < r->count; i++)
            ndx_buf_printf(out, "  %s#%u %.17g\n", r->hits[i].article,
                           r->hits[i].passage, r->hits[i].score);
        if (st && !first)
            first = st;
        ndx_results_free(r);
    }
    for (q = 0; q < CORPUS_COUNT; q++) {
        ndx_doc *d = NULL;

        st = ndx_index_get(ix, corpus_ids[q], &d);
        ndx_buf_printf(out, "get %s %d", corpus_ids[q], (int)st);
        if (st == NDX_OK) {
            ndx_buf_printf(out, " %s %d %zu\n", d->source, (int)d->date_days,
                           d->passage_count);
            for (i = 0; i < d->passage_count; i++)
                ndx_buf_printf(out, "  %zu %s\n", i, d->passages[i]);
        } else {
            ndx_buf_puts(out, "\n");
            if (st != NDX_ENOTFOUND && !first)
                first = st;
        }
        ndx_doc_free(d);
    }
    st = ndx_index_stats(ix, &s);
    ndx_buf_printf(out, "stats %d", (int)st);
    if (st == NDX_OK) {
        ndx_buf_printf(out, " gen %llu art %llu pass %llu tok %llu seg %llu"
                            " days %d..%d\n",
                       (unsigned long long)s.generation,
                       (unsigned long long)s.articles,
                       (unsigned long long)s.passages,
                       (unsigned long long)s.tokens,
                       (unsigned long long)s.segments, (int)s.first_days,
                       (int)s.last_days);
        for (i = 0; i < s.source_count; i++)
            ndx_buf_printf(out, "  %s %llu\n", s.sources[i].name,
                           (unsigned long long)s.sources[i].count);
        ndx_stats_clear(&s);
    } else {
        ndx_buf_puts(out, "\n");
        if (!first)
            first = st;
    }
    ndx_buf_cstr(out);
    return first;
}

/* What a fresh reader of dir observes (malloc'd), or NULL if it cannot
 * open. */
static char *
observe_path(const char *dir)
{
    ndx_index *ix = NULL;
    ndx_buf b;
    char *s;

    if (ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL) != NDX_OK)
        return NULL;
    ndx_buf_init(&b);
    observe(ix, &b);
    ndx_index_close(ix);
    s = strdup((const char *)b.data);
    ndx_buf_free(&b);
    return s;
}

/* A fresh reader of dir observes want. */
static void
expect_observed(const char *dir, const char *want)
{
    char *got = observe_path(dir);

    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
}

/* ---- damaged files ----------------------------------------------------- */

typedef struct damage {
    const char *dir;     /* the damaged index */
    int check_code;      /* what ndx_index_check must say */
} damage;

/* A damaged index is never served: opening it for reading must fail with
 * NDX_ECORRUPT or NDX_EVERSION, naming the segment (every byte of a
 * segment is under a checksum, the magic or the version); then
 * ndx_index_check must fail with the expected code. */
static int
probe_damaged(void *arg)
{
    const damage *d = arg;
    ndx_index *ix = NULL;
    ndx_status st;

    st = ndx_index_open(&ix, d->dir, NDX_OPEN_READ, NULL, NULL);
    if (st == NDX_OK) {
        ndx_index_close(ix);
        return CHILD_SERVED;
    }
    if (st != NDX_ECORRUPT && st != NDX_EVERSION)
        return CHILD_OP_CODE;
    if (!strstr(ndx_errmsg(), "seg-"))
        return CHILD_UNNAMED;
    st = ndx_index_check(d->dir);
    if (st == NDX_OK)
        return CHILD_CHECK_MISSED;
    if (st != d->check_code)
        return CHILD_CHECK_CODE;
    return CHILD_OK;
}

static const char *
child_outcome(int rc)
{
    static char s[64];

    switch (rc) {
    case CHILD_OK: return "ok";
    case CHILD_CHECK_MISSED: return "check passed the damaged index";
    case CHILD_CHECK_CODE: return "check gave an unexpected code";
    case CHILD_OP_CODE: return "an operation gave an unexpected code";
    case CHILD_OPEN_OK: return "open succeeded";
    case CHILD_SETUP: return "child setup failed";
    case CHILD_SERVED: return "the damaged index was served";
    case CHILD_UNNAMED: return "the error did not name the segment";
    }
    if (rc == -SIGALRM)
        snprintf(s, sizeof s, "hung (more than %d s)", CHILD_SECS);
    else if (rc < 0)
        snprintf(s, sizeof s, "crashed with signal %d", -rc);
    else
        snprintf(s, sizeof s, "crashed (exit %d)", rc);
    return s;
}

/* Whether a child ended with CHILD_OK (rc from in_child); if not and show
 * is set, says on stderr which case failed (fmt, printf style) and how. */
static int
child_ok(int rc, int show, const char *fmt, ...)
{
    va_list ap;

    if (rc == CHILD_OK)
        return 1;
    if (show) {
        fputs("\n  ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %s", child_outcome(rc));
    }
    return 0;
}

static int
cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return (x > y) - (x < y);
}

/* Offsets to damage: every 97th byte, the whole header and trailer, and
 * the first, middle and last byte of every section in the table of
 * contents (segment.h). */
static size_t
damage_offsets(const unsigned char *seg, size_t len, size_t **out)
{
    size_t cap = len / 97 + 200, n = 0, i, m = 0;
    size_t *v = malloc(cap * sizeof *v);
    uint64_t toc_off = 0;
    uint32_t count;

    CU_ASSERT_FATAL(v != NULL && len > 64);
    for (i = 0; i < len; i += 97)
        v[n++] = i;
    for (i = 0; i < 16; i++)
        v[n++] = i;
    for (i = len - 24; i < len; i++)
        v[n++] = i;
    count = (uint32_t)seg[len - 24] | (uint32_t)seg[len - 23] << 8;
    for (i = 0; i < 8; i++)
        toc_off |= (uint64_t)seg[len - 16 + i] << (8 * i);
    CU_ASSERT_FATAL(count == SEC_COUNT_PLUS_ONE - 1 &&
                    toc_off + count * 24 + 24 == len);
    for (i = 0; i < count; i++) {
        const unsigned char *e = seg + toc_off + i * 24;
        uint64_t off = 0, slen = 0;
        int k;

        for (k = 0; k < 8; k++) {
            off |= (uint64_t)e[8 + k] << (8 * k);
            slen |= (uint64_t)e[16 + k] << (8 * k);
        }
        v[n++] = (size_t)(toc_off + i * 24 + 4); /* its checksum */
        if (slen == 0)
            continue;
        v[n++] = (size_t)off;
        v[n++] = (size_t)(off + slen / 2);
        v[n++] = (size_t)(off + slen - 1);
    }
    qsort(v, n, sizeof *v, cmp_size);
    for (i = 0; i < n; i++)
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    *out = v;
    return m;
}

static void
test_durability_every_flipped_segment_byte_is_caught_without_crash(void)
{
    char work[500], seg_path[600];
    const char *path;
    unsigned char *seg, *bad;
    size_t len, n, i, failures = 0;
    size_t *offs = NULL;
    damage d;

    seg = (unsigned char *)copy_and_read(work, sizeof work, NULL, &path, &len);
    snprintf(seg_path, sizeof seg_path, "%s", path);
    bad = malloc(len);
    CU_ASSERT_FATAL(bad != NULL);
    n = damage_offsets(seg, len, &offs);
    d.dir = work;
    for (i = 0; i < n; i++) {
        size_t off = offs[i];

        memcpy(bad, seg, len);
        /* A varying pattern, never zero, so that each case differs. */
        bad[off] ^= (unsigned char)(0x01u << (off % 8)) | 0x80u;
        if (bad[off] == seg[off])
            bad[off] ^= 0xFF;
        CU_ASSERT_FATAL(t_write(seg_path, bad, len) == 0);
        /* The version field: a different version is refused as such. */
        d.check_code = off >= 8 && off < 12 ? NDX_EVERSION : NDX_ECORRUPT;
        if (!child_ok(in_child(probe_damaged, &d), failures < 20,
                      "flipped byte at offset %zu of %zu", off, len))
            failures++;
    }
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT_TRUE(n > len / 97);
    free(offs);
    free(bad);
    free(seg);
}

typedef struct cut {
    const char *dir;
    int want;           /* the code open must give */
    const char *words;  /* the message must contain this */
} cut;

/* Opening must fail with want and a message holding words; check too. */
static int
probe_unopenable(void *arg)
{
    const cut *c = arg;
    ndx_index *ix = NULL;
    ndx_status st = ndx_index_open(&ix, c->dir, NDX_OPEN_READ, NULL, NULL);

    if (st == NDX_OK) {
        ndx_index_close(ix);
        return CHILD_OPEN_OK;
    }
    if (st != c->want || !strstr(ndx_errmsg(), c->words))
        return CHILD_OP_CODE;
    st = ndx_index_check(c->dir);
    if (st == NDX_OK)
        return CHILD_CHECK_MISSED;
    if (st != c->want)
        return CHILD_CHECK_CODE;
    return CHILD_OK;
}

/* A reader whose segment is cut short under it (a copy over a live
 * index): reads past the new end would raise SIGBUS.  Every operation
 * must answer NDX_OK (what it read was intact) or NDX_ECORRUPT naming
 * the segment, at least one must have run into the cut, and after a
 * refresh every operation must fail so. */
static int
probe_cut_under_reader(void *arg)
{
    const cut *c = arg;
    ndx_index *ix = NULL;
    ndx_search_opts o;
    ndx_stats s;
    ndx_doc *d = NULL;
    ndx_status st;
    unsigned long faults = ndx_mapguard_faults();
    size_t q, pass;

    if (ndx_index_open(&ix, c->dir, NDX_OPEN_READ, NULL, NULL) != NDX_OK)
        return CHILD_SETUP;
    if (truncate(c->words, 4096) != 0)
        return CHILD_SETUP;
    ndx_search_opts_init(&o);
    o.k = 20;
    for (pass = 0; pass < 2; pass++) {
        size_t failed = 0, ops = 0;

        for (q = 0; q < QUERY_COUNT; q++) {
            ndx_results *r = NULL;

            st = ndx_index_search(ix, queries[q], &o, &r, NULL);
            ndx_results_free(r);
            ops++;
            if (st == NDX_OK)
                continue;
            if (st != NDX_ECORRUPT || !strstr(ndx_errmsg(), c->words)) {
                fprintf(stderr, "\n  %s: %s", queries[q], ndx_errmsg());
                return CHILD_OP_CODE;
            }
            failed++;
        }
        st = ndx_index_get(ix, corpus_ids[0], &d);
        ndx_doc_free(d);
        d = NULL;
        ops++;
        if (st != NDX_OK && st != NDX_ECORRUPT)
            return CHILD_OP_CODE;
        failed += st != NDX_OK;
        st = ndx_index_stats(ix, &s);
        ndx_stats_clear(&s);
        ops++;
        if (st != NDX_OK && st != NDX_ECORRUPT)
            return CHILD_OP_CODE;
        failed += st != NDX_OK;
        if (pass == 0 && (failed == 0 || ndx_mapguard_faults() == faults))
            return CHILD_OPEN_OK;
        if (pass == 1 && failed != ops)
            return CHILD_OPEN_OK;
        if (ndx_index_refresh(ix) < 0)
            return CHILD_OP_CODE;
    }
    ndx_index_close(ix);
    return CHILD_OK;
}

static void
test_durability_segment_cut_under_a_reader_gives_errors_not_sigbus(void)
{
    char work[500];
    cut c;
    int rc;

    copy_pristine_fresh(work, sizeof work);
    c.dir = work;
    c.want = NDX_ECORRUPT;
    c.words = path_in(work, only_segment(work));
    rc = in_child(probe_cut_under_reader, &c);
    if (rc != CHILD_OK)
        fprintf(stderr, "\n  segment cut under a reader: %s%s",
                child_outcome(rc),
                rc == CHILD_OPEN_OK ? " (damage not reported)" : "");
    CU_ASSERT_EQUAL(rc, CHILD_OK);
}

static void
test_durability_truncated_segment_is_refused(void)
{
    char work[500];
    const char *seg_path;
    char *seg;
    size_t len, k;
    cut c;

    seg = copy_and_read(work, sizeof work, NULL, &seg_path, &len);
    CU_ASSERT_FATAL(len > 1000);
    {
        /* Empty, inside the header, just past it, half, without the last
         * byte, and without the trailer. */
        size_t keep[] = {0, 10, 17, len / 2, len - 1, len - 24};

        c.dir = work;
        c.want = NDX_ECORRUPT;
        c.words = seg_path;
        for (k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            CU_ASSERT_FATAL(t_write(seg_path, seg, keep[k]) == 0);
            CU_ASSERT(child_ok(in_child(probe_unopenable, &c), 1,
                               "segment cut to %zu bytes", keep[k]));
        }
    }
    free(seg);
}

static void
test_durability_truncated_manifest_is_refused(void)
{
    char work[500];
    const char *man_path;
    char *man;
    size_t len, keep;
    cut c;

    man = copy_and_read(work, sizeof work, "MANIFEST", &man_path, &len);
    CU_ASSERT_FATAL(len > 40);
    c.dir = work;
    c.want = NDX_ECORRUPT;
    c.words = "MANIFEST";
    /* Every length short of the checksum's last digit: the final newline
     * alone may go. */
    for (keep = 0; keep + 1 < len; keep++) {
        CU_ASSERT_FATAL(t_write(man_path, man, keep) == 0);
        CU_ASSERT(child_ok(in_child(probe_unopenable, &c), 1,
                           "MANIFEST cut to %zu bytes", keep));
    }
    free(man);
}

static int
probe_flipped_manifest(void *arg)
{
    const char *const *v = arg; /* dir, expected observation */
    ndx_index *ix = NULL;
    ndx_status st = ndx_index_open(&ix, v[0], NDX_OPEN_READ, NULL, NULL);
    ndx_buf b;
    int same;

    /* The version digit may turn into another version. */
    if (st != NDX_OK)
        return st == NDX_ECORRUPT || st == NDX_EVERSION ? CHILD_OK
                                                        : CHILD_OP_CODE;
    /* A flip the checksum cannot see must change nothing. */
    ndx_buf_init(&b);
    observe(ix, &b);
    ndx_index_close(ix);
    same = strcmp((const char *)b.data, v[1]) == 0;
    ndx_buf_free(&b);
    return same ? CHILD_OK : CHILD_CHECK_MISSED;
}

static void
test_durability_flipped_manifest_bytes_are_caught(void)
{
    char work[500], *want, *man;
    const char *man_path, *arg[2];
    size_t len, i, failures = 0;

    man = copy_and_read(work, sizeof work, "MANIFEST", &man_path, &len);
    want = observe_path(work);
    CU_ASSERT_FATAL(want != NULL);
    arg[0] = work;
    arg[1] = want;
    for (i = 0; i < len; i++) {
        man[i] ^= 0x04;
        CU_ASSERT_FATAL(t_write(man_path, man, len) == 0);
        man[i] ^= 0x04;
        if (!child_ok(in_child(probe_flipped_manifest, (void *)arg),
                      failures < 10, "MANIFEST byte %zu flipped", i))
            failures++;
    }
    CU_ASSERT_EQUAL(failures, 0);
    free(man);
    free(want);
}

static void
test_durability_manifest_naming_a_missing_segment_is_refused(void)
{
    const char *dir = t_tmpdir();
    char work[500];
    ndx_manifest m;
    cut c;

    copy_pristine(work, sizeof work, dir, "ix");
    /* A well-formed manifest whose second segment is not there. */
    CU_ASSERT_FATAL(ndx_manifest_read(work, &m) == NDX_OK);
    CU_ASSERT_FATAL(ndx_manifest_push(&m, "seg-000777.ndx", NULL) == 0);
    m.generation++;
    CU_ASSERT_FATAL(ndx_manifest_write(work, &m) == NDX_OK);
    ndx_manifest_clear(&m);
    c.dir = work;
    c.want = NDX_ECORRUPT;
    c.words = "seg-000777.ndx";
    CU_ASSERT_EQUAL(in_child(probe_unopenable, &c), CHILD_OK);
    c.words = "missing";
    CU_ASSERT_EQUAL(in_child(probe_unopenable, &c), CHILD_OK);
    /* The only segment removed. */
    copy_pristine(work, sizeof work, dir, "ix2");
    CU_ASSERT_FATAL(unlink(path_in(work, only_segment(work))) == 0);
    CU_ASSERT_EQUAL(in_child(probe_unopenable, &c), CHILD_OK);
}

/* Replaces one corpus article in dir with a short one of our own words;
 * the commit writes a deletion file for the first segment. */
static void
replace_one(const char *dir, const char *id)
{
    ndx_index *ix = NULL;
    ndx_article a;

    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", NULL) == NDX_OK);
    make_article(&a, id, "Newsweek", "Replaced", 20200,
                 "A replacement text about Ukraine and its security "
                 "guarantees, with talks planned in Geneva next week.");
    CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
}

static void
test_durability_deletion_file_with_bad_checksum_is_refused(void)
{
    char work[500], *del, *want;
    const char *del_path;
    ndx_manifest m;
    size_t len, i, failures = 0;
    cut c;

    copy_pristine_fresh(work, sizeof work);
    replace_one(work, corpus_ids[2]);
    want = observe_path(work);
    CU_ASSERT_FATAL(want != NULL);
    /* The replacement, one passage from Newsweek, stands for the old. */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(want, "get 002_59a3440c063501ba 0 Newsweek 20200 1\n"));
    CU_ASSERT_FATAL(ndx_manifest_read(work, &m) == NDX_OK);
    CU_ASSERT_FATAL(m.count == 2 && m.segs[0].del[0] && !m.segs[1].del[0]);
    del_path = path_in(work, m.segs[0].del);
    ndx_manifest_clear(&m);
    CU_ASSERT_EQUAL(ndx_index_check(work), NDX_OK);
    del = t_slurp(del_path, &len);
    /* magic, version, count 1, one ordinal (2), crc */
    CU_ASSERT_FATAL(del != NULL);
    CU_ASSERT_EQUAL(len, 8 + 4 + 4 + 4 + 4);
    CU_ASSERT_EQUAL((unsigned char)del[16], 2);
    c.dir = work;
    c.want = NDX_ECORRUPT;
    for (i = 0; i < len; i++) {
        del[i] ^= 0x10;
        CU_ASSERT_FATAL(t_write(del_path, del, len) == 0);
        del[i] ^= 0x10;
        c.words = del_path;
        if (!child_ok(in_child(probe_unopenable, &c), failures < 10,
                      "deletion file byte %zu flipped", i))
            failures++;
    }
    CU_ASSERT_EQUAL(failures, 0);
    /* Restored, the index answers as before. */
    CU_ASSERT_FATAL(t_write(del_path, del, len) == 0);
    expect_observed(work, want);
    free(del);
    free(want);
}

static void
test_durability_other_format_version_says_rebuild(void)
{
    char work[500], cmd[1400], newer[32], *seg;
    const char *seg_path;
    size_t len;
    cut c;

    seg = copy_and_read(work, sizeof work, NULL, &seg_path, &len);
    /* A newer version of an otherwise well-formed segment (the version
     * is the u32 after the magic). */
    CU_ASSERT_EQUAL((unsigned char)seg[8], NDX_SEG_VERSION);
    seg[8] = NDX_SEG_VERSION + 1;
    CU_ASSERT_FATAL(t_write(seg_path, seg, len) == 0);
    c.dir = work;
    c.want = NDX_EVERSION;
    c.words = "rebuild";
    CU_ASSERT_EQUAL(in_child(probe_unopenable, &c), CHILD_OK);
    snprintf(newer, sizeof newer, "version %d", NDX_SEG_VERSION + 1);
    c.words = newer;
    CU_ASSERT_EQUAL(in_child(probe_unopenable, &c), CHILD_OK);
    /* The programs say so too, and fail. */
    snprintf(cmd, sizeof cmd, "%s --check %s", t_prog("newsdex-index"), work);
    t_expect_run(cmd, 1, "rebuild");
    snprintf(cmd, sizeof cmd, "%s -i %s Ukraine", t_prog("newsdex-search"),
             work);
    t_expect_run(cmd, 1, "rebuild");
    /* A manifest of another version too. */
    copy_pristine_fresh(work, sizeof work);
    {
        ndx_buf b;
        char line[64];

        ndx_buf_init(&b);
        ndx_buf_puts(&b, "newsdex-manifest 9\ngeneration 1\nnext 1\n"
                         "segment seg-000001.ndx -\n");
        snprintf(line, sizeof line, "crc %08lx\n",
                 (unsigned long)crc32(0, b.data, (unsigned)b.len));
        ndx_buf_puts(&b, line);
        CU_ASSERT_FATAL(t_write(path_in(work, "MANIFEST"), b.data, b.len) ==
                        0);
        ndx_buf_free(&b);
    }
    c.dir = work;
    c.words = "rebuild";
    CU_ASSERT_EQUAL(in_child(probe_unopenable, &c), CHILD_OK);
    free(seg);
}

static void
test_durability_stray_files_in_the_index_are_ignored(void)
{
    const char *dir = t_tmpdir();
    char work[500], *want;
    ndx_index *ix = NULL;
    struct stat sb;

    copy_pristine(work, sizeof work, dir, "ix");
    want = observe_path(work);
    CU_ASSERT_FATAL(want != NULL);
    /* Files a user, an editor or an interrupted writer may leave. */
    CU_ASSERT_FATAL(t_write(path_in(work, "notes.txt"), "my notes\n", 9) ==
                    0);
    CU_ASSERT_FATAL(t_write(path_in(work, "MANIFEST.tmp"), "garbage", 7) ==
                    0);
    CU_ASSERT_FATAL(t_write(path_in(work, "seg-000099.ndx"), "NDXSEG\r\nxx",
                            10) == 0);
    CU_ASSERT_FATAL(t_write(path_in(work, "seg-000100.ndx.tmp"), "x", 1) ==
                    0);
    CU_ASSERT_FATAL(t_write(path_in(work, "seg-000001.ndx.del-7"),
                            "NDXDEL\r\n", 8) == 0);
    CU_ASSERT_FATAL(mkdir(path_in(work, "subdir"), 0755) == 0);
    expect_observed(work, want);
    CU_ASSERT_EQUAL(ndx_index_check(work), NDX_OK);
    /* The next commit removes the index's own leftovers, and only those. */
    CU_ASSERT_FATAL(ndx_index_open(&ix, work, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    CU_ASSERT_EQUAL(stat(path_in(work, "seg-000099.ndx"), &sb), -1);
    CU_ASSERT_EQUAL(stat(path_in(work, "seg-000100.ndx.tmp"), &sb), -1);
    CU_ASSERT_EQUAL(stat(path_in(work, "seg-000001.ndx.del-7"), &sb), -1);
    CU_ASSERT_EQUAL(stat(path_in(work, "notes.txt"), &sb), 0);
    CU_ASSERT_EQUAL(stat(path_in(work, "subdir"), &sb), 0);
    CU_ASSERT_EQUAL(unnamed_files(work), 0);
    CU_ASSERT_EQUAL(ndx_index_check(work), NDX_OK);
    free(want);
}

/* ---- crashes and concurrency -------------------------------------------- */

typedef struct writer_job {
    const char *dir;
    int fd;        /* pipe: one byte when the segments are on disk */
    int how;       /* 0: _exit, 1: wait to be killed */
} writer_job;

/* Adds enough text to flush segments to disk, replaces a corpus article,
 * and dies without committing. */
static int
writer_dies(void *arg)
{
    const writer_job *j = arg;
    ndx_engine_config cfg;
    ndx_index *ix = NULL;
    ndx_article a;
    unsigned i;

    ndx_engine_config_init(&cfg);
    cfg.memory_mb = 1;
    if (ndx_index_open(&ix, j->dir, NDX_OPEN_WRITE | NDX_OPEN_ADD, "native",
                       &cfg) != NDX_OK)
        return CHILD_SETUP;
    make_article(&a, corpus_ids[0], "Newsweek", "Gone", 20000,
                 "This replacement of the first article about Ukraine is "
                 "never committed.");
    if (ndx_index_add(ix, &a, NULL) != NDX_OK)
        return CHILD_SETUP;
    for (i = 0; i < 400; i++)
        if (add_filler(ix, "lost", i) != NDX_OK)
            return CHILD_SETUP;
    if (write(j->fd, "x", 1) != 1)
        return CHILD_SETUP;
    if (j->how == 0)
        _exit(0);
    for (;;)
        pause();
}

/* The identity of a file: a commit that rewrites it changes it. */
static int
file_id(const char *path, char *out, size_t cap)
{
    struct stat sb;

    if (stat(path, &sb) != 0)
        return -1;
    snprintf(out, cap, "%llu %lld %lld.%09ld",
             (unsigned long long)sb.st_ino, (long long)sb.st_size,
             (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
    return 0;
}

static void
writer_death_case(int how)
{
    char work[500], *want, before[3][128], after[3][128];
    const char *files[3];
    writer_job j;
    int fds[2], rc, k;
    pid_t pid;
    char c;
    ndx_index *ix = NULL;

    copy_pristine_fresh(work, sizeof work);
    want = observe_path(work);
    CU_ASSERT_FATAL(want != NULL);
    files[0] = path_in(work, "MANIFEST");
    files[1] = path_in(work, "ENGINE");
    files[2] = path_in(work, only_segment(work));
    for (k = 0; k < 3; k++)
        CU_ASSERT_FATAL(file_id(files[k], before[k], sizeof before[k]) == 0);
    CU_ASSERT_FATAL(pipe(fds) == 0);
    j.dir = work;
    j.fd = fds[1];
    j.how = how;
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_SECS);
        _exit(writer_dies(&j));
    }
    close(fds[1]);
    rc = (int)read(fds[0], &c, 1);
    close(fds[0]);
    CU_ASSERT_EQUAL(rc, 1);
    if (how == 1)
        kill(pid, SIGKILL);
    while (waitpid(pid, &rc, 0) < 0 && errno == EINTR)
        ;
    if (how == 0) {
        CU_ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    } else {
        CU_ASSERT_TRUE(WIFSIGNALED(rc) && WTERMSIG(rc) == SIGKILL);
    }
    /* Its segments reached the disk, but nothing the manifest names was
     * touched. */
    CU_ASSERT_TRUE(unnamed_files(work) >= 1);
    for (k = 0; k < 3; k++) {
        CU_ASSERT_FATAL(file_id(files[k], after[k], sizeof after[k]) == 0);
        if (strcmp(before[k], after[k]) != 0)
            fprintf(stderr, "\n  %s changed before any commit", files[k]);
        CU_ASSERT_STRING_EQUAL(before[k], after[k]);
    }
    /* Readers see exactly the previous generation. */
    expect_observed(work, want);
    CU_ASSERT_EQUAL(ndx_index_check(work), NDX_OK);
    /* The lock died with the writer; the next commit clears its files. */
    CU_ASSERT_FATAL(ndx_index_open(&ix, work, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", NULL) == NDX_OK);
    CU_ASSERT_EQUAL(add_filler(ix, "kept", 1), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_commit(ix), NDX_OK);
    ndx_index_close(ix);
    CU_ASSERT_EQUAL(unnamed_files(work), 0);
    CU_ASSERT_EQUAL(ndx_index_check(work), NDX_OK);
    {
        ndx_index *r = NULL;
        ndx_stats s;
        ndx_doc *d = NULL;

        CU_ASSERT_FATAL(ndx_index_open(&r, work, NDX_OPEN_READ, NULL,
                                       NULL) == NDX_OK);
        CU_ASSERT_EQUAL(ndx_index_stats(r, &s), NDX_OK);
        CU_ASSERT_EQUAL(s.articles, CORPUS_COUNT + 1);
        CU_ASSERT_EQUAL(s.generation, 2);
        ndx_stats_clear(&s);
        /* The uncommitted replacement never happened. */
        CU_ASSERT_EQUAL(ndx_index_get(r, corpus_ids[0], &d), NDX_OK);
        if (d) {
            CU_ASSERT_STRING_EQUAL(d->source, "Newsweek");
            CU_ASSERT_TRUE(d->passage_count > 1);
        }
        ndx_doc_free(d);
        CU_ASSERT_EQUAL(ndx_index_get(r, "lost-3", &d), NDX_ENOTFOUND);
        ndx_index_close(r);
    }
    free(want);
}

static void
test_durability_writer_exiting_before_commit_changes_nothing(void)
{
    writer_death_case(0);
}

static void
test_durability_writer_killed_before_commit_changes_nothing(void)
{
    writer_death_case(1);
}

typedef struct loop_job {
    const char *dir;
    unsigned round;  /* names the articles apart from other rounds' */
} loop_job;

/* Commits batches of three new fillers until killed. */
static int
writer_loop(void *arg)
{
    const loop_job *j = arg;
    unsigned batch, i;

    for (batch = 0;; batch++) {
        ndx_index *ix = NULL;
        char tag[32];

        if (ndx_index_open(&ix, j->dir, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                           "native", NULL) != NDX_OK)
            return CHILD_SETUP;
        snprintf(tag, sizeof tag, "r%ub%u", j->round, batch);
        for (i = 0; i < 3; i++)
            if (add_filler(ix, tag, i) != NDX_OK)
                return CHILD_SETUP;
        if (ndx_index_commit(ix) != NDX_OK)
            return CHILD_SETUP;
        ndx_index_close(ix);
    }
}

/* The fillers the loops of rounds 0..rounds committed, if every batch is
 * whole and the batches of each round are a prefix; else -1. */
static long
whole_batches(ndx_index *ix, unsigned rounds)
{
    unsigned r, b, i;
    long total = 0;

    for (r = 0; r <= rounds; r++) {
        int gap = 0;

        for (b = 0; b < 100000; b++) {
            int present = 0;

            for (i = 0; i < 3; i++) {
                char id[64];
                ndx_doc *d = NULL;

                snprintf(id, sizeof id, "r%ub%u-%u", r, b, i);
                present += ndx_index_get(ix, id, &d) == NDX_OK;
                ndx_doc_free(d);
            }
            if (present == 0 && gap)
                break;
            if (present == 0) {
                gap = 1;  /* one more batch is looked at past the end */
                continue;
            }
            if (present != 3 || gap)
                return -1;
            total += 3;
        }
    }
    return total;
}

static void
test_durability_writer_killed_at_random_points_leaves_a_whole_commit(void)
{
    const char *dir = t_tmpdir();
    char work[500];
    unsigned round, seed = (unsigned)time(NULL), batch_us;
    uint64_t last_gen = 1, last_articles = CORPUS_COUNT;

    copy_pristine(work, sizeof work, dir, "ix");
    srand(seed);
    /* Kills land within three batches' time, measured here: a commit's
     * fsyncs take from a millisecond to a hundred, by machine and load. */
    {
        char scratch[520];
        ndx_index *ix = NULL;
        double t0;

        copy_pristine(scratch, sizeof scratch, dir, "timing");
        t0 = ndx_now_ms();
        CU_ASSERT_FATAL(ndx_index_open(&ix, scratch, NDX_OPEN_WRITE |
                                       NDX_OPEN_ADD, "native", NULL) ==
                        NDX_OK);
        CU_ASSERT_FATAL(add_filler(ix, "timing", 0) == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        ndx_index_close(ix);
        batch_us = (unsigned)((ndx_now_ms() - t0) * 1000);
        if (batch_us < 13000)
            batch_us = 13000;
    }
    for (round = 0; round < 20; round++) {
        pid_t pid;
        int status;
        ndx_index *ix = NULL;
        ndx_stats s;
        ndx_status st;
        loop_job j = {work, round};
        long whole;

        fflush(NULL);
        pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            alarm(CHILD_SECS);
            _exit(writer_loop(&j));
        }
        usleep((useconds_t)(1000 + (unsigned)rand() % (3 * batch_us)));
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        CU_ASSERT_TRUE(WIFSIGNALED(status));
        /* Whatever the moment, the index is whole: the articles are
         * those of the corpus plus three per commit. */
        st = ndx_index_check(work);
        if (st != NDX_OK)
            fprintf(stderr, "\n  round %u (seed %u): %s", round, seed,
                    ndx_errmsg());
        CU_ASSERT_EQUAL(st, NDX_OK);
        st = ndx_index_open(&ix, work, NDX_OPEN_READ, NULL, NULL);
        if (st != NDX_OK)
            fprintf(stderr, "\n  round %u (seed %u): %s", round, seed,
                    ndx_errmsg());
        CU_ASSERT_FATAL(st == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_stats(ix, &s) == NDX_OK);
        CU_ASSERT_TRUE(s.generation >= last_gen);
        whole = whole_batches(ix, round);
        if (whole < 0 || s.articles != CORPUS_COUNT + (uint64_t)whole)
            fprintf(stderr, "\n  round %u (seed %u): generation %llu with "
                            "%llu articles; whole batches hold %ld",
                    round, seed, (unsigned long long)s.generation,
                    (unsigned long long)s.articles, whole);
        CU_ASSERT_TRUE(whole >= 0);
        CU_ASSERT_EQUAL(s.articles, CORPUS_COUNT + (uint64_t)whole);
        CU_ASSERT_TRUE(s.articles >= last_articles);
        last_articles = s.articles;
        last_gen = s.generation;
        ndx_stats_clear(&s);
        ndx_index_close(ix);
    }
    /* Some rounds did commit; the next commit clears what the killed
     * writers left. */
    CU_ASSERT_TRUE(last_gen > 1);
    {
        ndx_index *ix = NULL;

        CU_ASSERT_FATAL(ndx_index_open(&ix, work, NDX_OPEN_WRITE |
                                       NDX_OPEN_ADD, "native", NULL) ==
                        NDX_OK);
        CU_ASSERT_EQUAL(ndx_index_commit(ix), NDX_OK);
        ndx_index_close(ix);
        CU_ASSERT_EQUAL(unnamed_files(work), 0);
    }
}

/* Replaces the whole index with two corpus articles. */
static int
writer_replaces(void *arg)
{
    const char *dir = arg;
    const char *paths[] = {"corpus"};
    ndx_reader *r = NULL;
    ndx_index *ix = NULL;
    const ndx_article *a;

    if (ndx_index_open(&ix, dir, NDX_OPEN_WRITE, "native", NULL) != NDX_OK ||
        ndx_reader_open(&r, paths, 1, 0, NULL, NULL) != NDX_OK)
        return CHILD_SETUP;
    while (ndx_reader_next(r, &a) == NDX_OK && a)
        if ((strcmp(a->id, corpus_ids[1]) == 0 ||
             strcmp(a->id, corpus_ids[3]) == 0) &&
            ndx_index_add(ix, a, NULL) != NDX_OK)
            return CHILD_SETUP;
    if (ndx_index_commit(ix) != NDX_OK)
        return CHILD_SETUP;
    ndx_index_close(ix);
    ndx_reader_close(r);
    return CHILD_OK;
}

/* Replaces the whole index with the whole corpus. */
static int
writer_restores(void *arg)
{
    const char *dir = arg;

    return t_index_corpus(dir, "native", NULL) == NDX_OK
               ? CHILD_OK
               : CHILD_SETUP;
}

static void
test_durability_reader_keeps_its_generation_until_refresh(void)
{
    char work[500], old_seg[600], *next;
    ndx_index *ix = NULL;
    ndx_buf before, during, after;
    ndx_stats s;
    struct stat sb;

    copy_pristine_fresh(work, sizeof work);
    snprintf(old_seg, sizeof old_seg, "%s", path_in(work, only_segment(work)));
    ndx_buf_init(&before);
    ndx_buf_init(&during);
    ndx_buf_init(&after);
    CU_ASSERT_FATAL(ndx_index_open(&ix, work, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_EQUAL(observe(ix, &before), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_refresh(ix), 0);
    /* Another process replaces the content; generation 1's segment goes. */
    CU_ASSERT_EQUAL(in_child(writer_replaces, work), CHILD_OK);
    CU_ASSERT_EQUAL(stat(old_seg, &sb), -1);
    CU_ASSERT_EQUAL(observe(ix, &during), NDX_OK);
    CU_ASSERT_STRING_EQUAL(during.data, before.data);
    /* Refresh moves to generation 2: what a new reader sees. */
    CU_ASSERT_EQUAL(ndx_index_refresh(ix), 1);
    CU_ASSERT_EQUAL(ndx_index_refresh(ix), 0);
    CU_ASSERT_EQUAL(observe(ix, &after), NDX_OK);
    next = observe_path(work);
    CU_ASSERT_PTR_NOT_NULL_FATAL(next);
    CU_ASSERT_STRING_EQUAL(after.data, next);
    CU_ASSERT_STRING_NOT_EQUAL(after.data, before.data);
    CU_ASSERT_EQUAL(ndx_index_stats(ix, &s), NDX_OK);
    CU_ASSERT_EQUAL(s.generation, 2);
    CU_ASSERT_EQUAL(s.articles, 2);
    ndx_stats_clear(&s);
    {
        ndx_doc *d = NULL;

        CU_ASSERT_EQUAL(ndx_index_get(ix, corpus_ids[0], &d), NDX_ENOTFOUND);
        CU_ASSERT_EQUAL(ndx_index_get(ix, corpus_ids[3], &d), NDX_OK);
        ndx_doc_free(d);
    }
    ndx_index_close(ix);
    free(next);
    ndx_buf_free(&before);
    ndx_buf_free(&during);
    ndx_buf_free(&after);
}

typedef struct search_loop {
    ndx_index *ix;
    int front;         /* 1: ndx_index_search with snippets */
    atomic_int *stop;
    unsigned searches;
    unsigned saw[2];   /* answers from the whole corpus, from two articles */
    unsigned bad;      /* failures and answers from neither */
} search_loop;

/* Searches "Ukraine" until told to stop: through the front, or with an
 * analyzer of its own as the query server's workers do. */
static void *
search_until_stopped(void *arg)
{
    search_loop *l = arg;
    ndx_analyzer *an = NULL;
    ndx_query *q = NULL;
    ndx_search_opts o;

    if (ndx_analyzer_new(&an, "english") != NDX_OK ||
        ndx_query_parse(&q, "Ukraine", an, NULL) != NDX_OK) {
        l->bad++;
        ndx_analyzer_free(an);
        return NULL;
    }
    ndx_search_opts_init(&o);
    o.snippets = l->front;
    while (!atomic_load(l->stop)) {
        ndx_results *r = NULL;
        ndx_status st = l->front
                            ? ndx_index_search(l->ix, "Ukraine", &o, &r, NULL)
                            : ndx_index_search_query(l->ix, q, &o, &r);
        size_t i;

        l->searches++;
        if (st != NDX_OK || (r->total != 5 && r->total != 2) ||
            r->count != r->total) {
            l->bad++;
        } else {
            l->saw[r->total == 2]++;
            for (i = 0; i < r->count; i++)
                if (!r->hits[i].text || !strstr(r->hits[i].text, "Ukrain") ||
                    (l->front && (!r->hits[i].snippet ||
                                  !strstr(r->hits[i].snippet, "<b>"))))
                    l->bad++;
        }
        ndx_results_free(r);
    }
    ndx_query_free(q);
    ndx_analyzer_free(an);
    return NULL;
}

typedef struct writer_server_job {
    const char *dir;
    int cmd, ack;  /* pipes: a byte per commit asked for, its status */
} writer_server_job;

/* Commits on request: 'r' replaces the content with two articles, any
 * other byte with the whole corpus; answers each with its status. */
static int
writer_server(void *arg)
{
    const writer_server_job *j = arg;
    char c;

    while (read(j->cmd, &c, 1) == 1) {
        char rc = (char)(c == 'r' ? writer_replaces((void *)j->dir)
                                  : writer_restores((void *)j->dir));

        if (write(j->ack, &rc, 1) != 1)
            return CHILD_SETUP;
    }
    return CHILD_OK;
}

static void
test_durability_searches_go_on_while_refresh_swaps_generations(void)
{
    char work[500];
    ndx_index *ix = NULL;
    search_loop loops[2];
    pthread_t th[2];
    atomic_int stop;
    int round, k, cmd[2], ack[2], status;
    writer_server_job j;
    pid_t pid;

    copy_pristine_fresh(work, sizeof work);
    /* The writer process is forked before any thread starts: a child of
     * a threaded process may find a lock held forever. */
    CU_ASSERT_FATAL(pipe(cmd) == 0 && pipe(ack) == 0);
    j.dir = work;
    j.cmd = cmd[0];
    j.ack = ack[1];
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(cmd[1]);
        close(ack[0]);
        alarm(CHILD_SECS);
        _exit(writer_server(&j));
    }
    close(cmd[0]);
    close(ack[1]);
    CU_ASSERT_FATAL(ndx_index_open(&ix, work, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_index_thread_safe(ix));
    atomic_init(&stop, 0);
    for (k = 0; k < 2; k++) {
        memset(&loops[k], 0, sizeof loops[k]);
        loops[k].ix = ix;
        loops[k].front = k;
        loops[k].stop = &stop;
        CU_ASSERT_FATAL(pthread_create(&th[k], NULL, search_until_stopped,
                                       &loops[k]) == 0);
    }
    /* The writer alternates two contents; each refresh swaps the
     * generation under the searching threads, whose searches finish on
     * the one they started with. */
    for (round = 0; round < 6; round++) {
        char c = round % 2 ? 'a' : 'r', rc = -1;

        CU_ASSERT_EQUAL(write(cmd[1], &c, 1), 1);
        CU_ASSERT_EQUAL(read(ack[0], &rc, 1), 1);
        CU_ASSERT_EQUAL(rc, CHILD_OK);
        CU_ASSERT_EQUAL(ndx_index_refresh(ix), 1);
        usleep(20000);
    }
    atomic_store(&stop, 1);
    for (k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
        CU_ASSERT_EQUAL(loops[k].bad, 0);
        CU_ASSERT_TRUE(loops[k].searches > 0);
    }
    CU_ASSERT_TRUE(loops[0].saw[0] + loops[1].saw[0] > 0);
    CU_ASSERT_TRUE(loops[0].saw[1] + loops[1].saw[1] > 0);
    ndx_index_close(ix);
    close(cmd[1]);
    close(ack[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK);
}

/* Replaces the content again and again until killed. */
static int
writer_churns(void *arg)
{
    unsigned i;

    for (i = 0;; i++)
        if ((i % 2 ? writer_restores : writer_replaces)(arg) != CHILD_OK)
            return CHILD_SETUP;
}

static void
test_durability_readers_opening_during_commits_always_open(void)
{
    char work[500];
    pid_t pid;
    int status, opens = 0, failures = 0;
    double end;

    copy_pristine_fresh(work, sizeof work);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_SECS);
        _exit(writer_churns(work));
    }
    /* Each commit removes the files of the generation before it: an open
     * that read the old manifest must still end on a whole generation. */
    end = ndx_now_ms() + 1500;
    while (ndx_now_ms() < end) {
        ndx_index *ix = NULL;
        ndx_status st = ndx_index_open(&ix, work, NDX_OPEN_READ, NULL, NULL);
        ndx_stats s;

        opens++;
        if (st == NDX_OK && ndx_index_stats(ix, &s) == NDX_OK) {
            if (s.articles != 5 && s.articles != 2)
                failures++;
            ndx_stats_clear(&s);
        } else {
            if (failures++ < 5)
                fprintf(stderr, "\n  open %d: %s", opens, ndx_errmsg());
        }
        ndx_index_close(ix);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    CU_ASSERT_TRUE(WIFSIGNALED(status));
    CU_ASSERT_TRUE(opens > 10);
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT_EQUAL(ndx_index_check(work), NDX_OK);
}

static int
second_writer(void *arg)
{
    ndx_index *ix = NULL;
    ndx_status st = ndx_index_open(&ix, arg, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", NULL);

    ndx_index_close(ix);
    if (st == NDX_ELOCKED && strstr(ndx_errmsg(), "another process"))
        return CHILD_OK;
    return st == NDX_OK ? CHILD_OPEN_OK : CHILD_OP_CODE;
}

static void
test_durability_second_writer_is_locked_out(void)
{
    char work[500], cmd[1400], *want, *got;
    ndx_index *w = NULL, *w2 = NULL, *r = NULL;

    copy_pristine_fresh(work, sizeof work);
    want = observe_path(work);
    CU_ASSERT_FATAL(want != NULL);
    CU_ASSERT_FATAL(ndx_index_open(&w, work, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", NULL) == NDX_OK);
    CU_ASSERT_EQUAL(add_filler(w, "first", 0), NDX_OK);
    /* In this process, in another, and through the program. */
    CU_ASSERT_EQUAL(ndx_index_open(&w2, work, NDX_OPEN_WRITE, "native", NULL),
                    NDX_ELOCKED);
    CU_ASSERT_PTR_NULL(w2);
    CU_ASSERT_EQUAL(in_child(second_writer, work), CHILD_OK);
    snprintf(cmd, sizeof cmd, "%s -o %s --add --quiet corpus",
             t_prog("newsdex-index"), work);
    t_expect_run(cmd, 1, "another process");
    /* Readers are not locked out, and see the committed state. */
    CU_ASSERT_FATAL(ndx_index_open(&r, work, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    ndx_index_close(r);
    got = observe_path(work);
    CU_ASSERT_PTR_NOT_NULL(got);
    if (got) {
        CU_ASSERT_STRING_EQUAL(got, want);
    }
    free(got);
    CU_ASSERT_EQUAL(ndx_index_commit(w), NDX_OK);
    ndx_index_close(w);
    /* Released on close. */
    CU_ASSERT_EQUAL(ndx_index_open(&w2, work, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", NULL),
                    NDX_OK);
    ndx_index_close(w2);
    free(want);
}

/* ---- replacement and BM25 statistics ------------------------------------ */

typedef struct art_copy {
    ndx_article a;
} art_copy;

/* The corpus articles, copied. */
static size_t
read_corpus(art_copy *out, size_t cap)
{
    const char *paths[] = {"corpus"};
    ndx_reader *r = NULL;
    const ndx_article *a;
    size_t n = 0;

    CU_ASSERT_FATAL(ndx_reader_open(&r, paths, 1, 0, NULL, NULL) == NDX_OK);
    while (n < cap && ndx_reader_next(r, &a) == NDX_OK && a) {
        out[n].a = *a;
        out[n].a.id = strdup(a->id);
        out[n].a.source = strdup(a->source ? a->source : "unknown");
        out[n].a.title = strdup(a->title ? a->title : "");
        out[n].a.url = strdup(a->url ? a->url : "");
        out[n].a.lang = strdup(a->lang ? a->lang : "");
        out[n].a.text = malloc(a->text_len + 1);
        CU_ASSERT_FATAL(out[n].a.text != NULL);
        memcpy(out[n].a.text, a->text, a->text_len + 1);
        out[n].a.file = NULL;
        n++;
    }
    ndx_reader_close(r);
    return n;
}

static void
free_corpus(art_copy *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].a.id);
        free(v[i].a.source);
        free(v[i].a.title);
        free(v[i].a.url);
        free(v[i].a.lang);
        free(v[i].a.text);
    }
}

static const char replacement_1[] =
    "Ukraine and Russia met again for peace talks. Rubio did not attend, "
    "and the security guarantees that Kyiv asked for were left for a "
    "later round.";
static const char replacement_3[] =
    "NATO ministers discussed Ukraine. Nothing was decided about the "
    "talks.";
static const char twice_v1[] =
    "A first draft about Russia and Ukraine that is replaced before the "
    "commit.";
static const char twice_v2[] =
    "The second draft: peace talks, Rubio, and security guarantees.";

/* One score per (article, passage) of a query's passage hits. */
static void
compare_scores(ndx_index *a, ndx_index *b, const char *q)
{
    ndx_search_opts o;
    ndx_results *ra = NULL, *rb = NULL;
    size_t i, j, matched = 0;

    ndx_search_opts_init(&o);
    o.k = 1000;
    o.group = NDX_GROUP_PASSAGE;
    o.snippets = 0;
    CU_ASSERT_FATAL(ndx_index_search(a, q, &o, &ra, NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_search(b, q, &o, &rb, NULL) == NDX_OK);
    CU_ASSERT_EQUAL(ra->total, rb->total);
    CU_ASSERT_EQUAL(ra->count, rb->count);
    CU_ASSERT_TRUE(ra->count > 0);
    for (i = 0; i < ra->count; i++) {
        for (j = 0; j < rb->count; j++) {
            if (strcmp(ra->hits[i].article, rb->hits[j].article) != 0 ||
                ra->hits[i].passage != rb->hits[j].passage)
                continue;
            if (fabs(ra->hits[i].score - rb->hits[j].score) > 1e-9)
                fprintf(stderr, "\n  %s: %s#%u scores %.12f vs %.12f", q,
                        ra->hits[i].article, ra->hits[i].passage,
                        ra->hits[i].score, rb->hits[j].score);
            CU_ASSERT_DOUBLE_EQUAL(ra->hits[i].score, rb->hits[j].score,
                                   1e-9);
            matched++;
            break;
        }
    }
    CU_ASSERT_EQUAL(matched, ra->count);
    ndx_results_free(ra);
    ndx_results_free(rb);
}

static void
test_durability_replaced_articles_leave_the_bm25_statistics(void)
{
    const char *dir = t_tmpdir();
    char a_dir[500], b_dir[500];
    art_copy corpus[8];
    size_t n, i;
    ndx_index *ix = NULL, *ib = NULL;
    ndx_engine_config cfg;
    ndx_article x;
    ndx_stats sa, sb;
    const char *qs[] = {"Ukraine", "peace talks", "\"security guarantees\"",
                        "Rubio OR NATO", "Russia -Kyiv", "rub*",
                        "title:rubio OR Ukraine", "redoq3x7 OR lateq3x7",
                        "\"peace talks with russia\""};

    n = read_corpus(corpus, 8);
    CU_ASSERT_FATAL(n == CORPUS_COUNT);
    snprintf(a_dir, sizeof a_dir, "%s/a", dir);
    snprintf(b_dir, sizeof b_dir, "%s/b", dir);
    /* A: the corpus and fifty fillers, committed; then, with a small
     * memory budget so that segments are flushed between adds:
     * replacements of a committed article (deleted in a committed
     * segment), of an article flushed in this session (a fresh segment)
     * and of one still in the writer. */
    CU_ASSERT_FATAL(ndx_index_open(&ix, a_dir, NDX_OPEN_WRITE, "native",
                                   NULL) == NDX_OK);
    for (i = 0; i < n; i++)
        CU_ASSERT_FATAL(ndx_index_add(ix, &corpus[i].a, NULL) == NDX_OK);
    for (i = 0; i < 50; i++)
        CU_ASSERT_FATAL(add_filler(ix, "early", (unsigned)i) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);

    ndx_engine_config_init(&cfg);
    cfg.memory_mb = 1;
    CU_ASSERT_FATAL(ndx_index_open(&ix, a_dir, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", &cfg) == NDX_OK);
    make_article(&x, corpus_ids[1], "Politico", "Talks resume", 20230,
                 replacement_1);
    CU_ASSERT_FATAL(ndx_index_add(ix, &x, NULL) == NDX_OK);
    make_article(&x, "twice-a", "Wire", "", 20200, twice_v1);
    CU_ASSERT_FATAL(ndx_index_add(ix, &x, NULL) == NDX_OK);
    for (i = 0; i < 300; i++)
        CU_ASSERT_FATAL(add_filler(ix, "late", (unsigned)i) == NDX_OK);
    make_article(&x, "twice-a", "Wire", "", 20201, twice_v2);
    CU_ASSERT_FATAL(ndx_index_add(ix, &x, NULL) == NDX_OK);
    make_article(&x, "twice-b", "Wire", "", 20200, twice_v1);
    CU_ASSERT_FATAL(ndx_index_add(ix, &x, NULL) == NDX_OK);
    make_article(&x, "twice-b", "Wire", "", 20202, twice_v2);
    CU_ASSERT_FATAL(ndx_index_add(ix, &x, NULL) == NDX_OK);
    make_article(&x, corpus_ids[3], "Newslooks", "NATO", 20210,
                 replacement_3);
    CU_ASSERT_FATAL(ndx_index_add(ix, &x, NULL) == NDX_OK);
    /* Early fillers replaced by themselves: same text, same statistics. */
    for (i = 0; i < 10; i++)
        CU_ASSERT_FATAL(add_filler(ix, "early", (unsigned)i) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    /* Eight more commits, each replacing a filler with new words: past
     * eight segments the commit merges, dropping the deleted copies. */
    for (i = 0; i < 8; i++) {
        CU_ASSERT_FATAL(ndx_index_open(&ix, a_dir, NDX_OPEN_WRITE |
                                       NDX_OPEN_ADD, "native", NULL) ==
                        NDX_OK);
        CU_ASSERT_FATAL(add_filler_as(ix, "late", "redo", (unsigned)i) ==
                        NDX_OK);
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        ndx_index_close(ix);
    }

    /* B: the final set, from scratch, in another order. */
    CU_ASSERT_FATAL(ndx_index_open(&ib, b_dir, NDX_OPEN_WRITE, "native",
                                   NULL) == NDX_OK);
    make_article(&x, "twice-b", "Wire", "", 20202, twice_v2);
    CU_ASSERT_FATAL(ndx_index_add(ib, &x, NULL) == NDX_OK);
    for (i = 300; i-- > 0;)
        CU_ASSERT_FATAL(add_filler_as(ib, "late", i < 8 ? "redo" : "late",
                                      (unsigned)i) == NDX_OK);
    for (i = 0; i < 50; i++)
        CU_ASSERT_FATAL(add_filler(ib, "early", (unsigned)i) == NDX_OK);
    for (i = 0; i < n; i++)
        if (i != 1 && i != 3)
            CU_ASSERT_FATAL(ndx_index_add(ib, &corpus[i].a, NULL) == NDX_OK);
    make_article(&x, corpus_ids[3], "Newslooks", "NATO", 20210,
                 replacement_3);
    CU_ASSERT_FATAL(ndx_index_add(ib, &x, NULL) == NDX_OK);
    make_article(&x, "twice-a", "Wire", "", 20201, twice_v2);
    CU_ASSERT_FATAL(ndx_index_add(ib, &x, NULL) == NDX_OK);
    make_article(&x, corpus_ids[1], "Politico", "Talks resume", 20230,
                 replacement_1);
    CU_ASSERT_FATAL(ndx_index_add(ib, &x, NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ib) == NDX_OK);
    ndx_index_close(ib);

    CU_ASSERT_EQUAL(ndx_index_check(a_dir), NDX_OK);
    CU_ASSERT_FATAL(ndx_index_open(&ix, a_dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_index_open(&ib, b_dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_index_stats(ix, &sa) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_stats(ib, &sb) == NDX_OK);
    /* 5 corpus + 350 fillers + 2 drafts; A was committed as more than
     * twelve segments (one, at least three flushed and the last, then
     * eight) and merged down to at most eight. */
    CU_ASSERT_EQUAL(sa.articles, 5 + 350 + 2);
    CU_ASSERT_EQUAL(sb.articles, sa.articles);
    CU_ASSERT_EQUAL(sa.passages, sb.passages);
    CU_ASSERT_EQUAL(sa.tokens, sb.tokens);
    CU_ASSERT_TRUE(sa.segments >= 2 && sa.segments <= 8);
    CU_ASSERT_EQUAL(sb.segments, 1);
    ndx_stats_clear(&sa);
    ndx_stats_clear(&sb);
    for (i = 0; i < sizeof qs / sizeof qs[0]; i++)
        compare_scores(ix, ib, qs[i]);
    /* The replaced texts are gone. */
    {
        ndx_doc *d = NULL;

        CU_ASSERT_FATAL(ndx_index_get(ix, "twice-a", &d) == NDX_OK);
        CU_ASSERT_EQUAL(d->date_days, 20201);
        ndx_doc_free(d);
        CU_ASSERT_FATAL(ndx_index_get(ix, corpus_ids[1], &d) == NDX_OK);
        CU_ASSERT_STRING_EQUAL(d->source, "Politico");
        CU_ASSERT_EQUAL(d->passage_count, 1);
        ndx_doc_free(d);
    }
    ndx_index_close(ix);
    ndx_index_close(ib);
    free_corpus(corpus, n);
}

/* ---- the fuzz target's seed -------------------------------------------- */

#define FUZZ_SEED "tests/fixtures/durability/seg-small.ndx"
#define SEED_ARTICLES 30
#define SEED_PASSAGES 10  /* per article */

/* Not "peace": it stands exactly where the builder puts it. */
static const char *const seed_words[] = {
    "ukraine", "russia", "talks", "security", "guarantee", "kyiv",
    "border", "sanctions", "energy", "grain", "city",
};

/* Writes the segment that tests/fuzz/fuzz_segment.c edits: 30 articles
 * (art-0 .. art-29) of ten passages of five or six words, so small that
 * the whole file is a seed under the fuzzer's input limit; "ukraine" in
 * every passage (three postings blocks), "peace" in every second one,
 * unique<N> in the last passage of article N, three sources, titles,
 * dates from 2024-01-01 thirteen days apart (art-7 undated).  Built with
 * the segment writer, passage by passage: the splitter would join them. */
static void
build_fuzz_seed(const char *path)
{
    static const char *const sources[] = {"Wire", "Newsweek", "USA Today"};
    static const char *const titles[] = {"", "Summit talks",
                                         "Grain and energy"};
    ndx_analyzer *an = NULL;
    ndx_segw *w = NULL;
    ndx_termset ts[SEED_PASSAGES];
    uint32_t seed = 12345;
    unsigned a, p, k;
    ndx_buf text;

    CU_ASSERT_FATAL(ndx_analyzer_new(&an, "english") == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_new(&w) == NDX_OK);
    for (p = 0; p < SEED_PASSAGES; p++)
        ndx_termset_init(&ts[p]);
    ndx_buf_init(&text);
    for (a = 0; a < SEED_ARTICLES; a++) {
        ndx_passages ps;
        ndx_article art;
        char id[16];

        memset(&ps, 0, sizeof ps);
        text.len = 0;
        for (p = 0; p < SEED_PASSAGES; p++) {
            size_t off = text.len;

            ndx_buf_puts(&text, p % 2 ? "ukraine" : "ukraine peace");
            for (k = 0; k < 4; k++) {
                seed = seed * 1103515245u + 12345u;
                ndx_buf_printf(&text, " %s",
                               seed_words[(seed >> 16) %
                                          (sizeof seed_words /
                                           sizeof seed_words[0])]);
            }
            if (p == SEED_PASSAGES - 1)
                ndx_buf_printf(&text, " unique%u", a);
            CU_ASSERT_FATAL(ndx_passages_push(&ps, (uint32_t)off,
                                              (uint32_t)(text.len - off)) ==
                            NDX_OK);
            ndx_buf_puts(&text, "\n\n");
        }
        ndx_buf_cstr(&text);
        snprintf(id, sizeof id, "art-%u", a);
        make_article(&art, id, sources[a % 3], titles[a % 3],
                     a == 7 ? NDX_DATE_NONE : 19723 + (int32_t)a * 13,
                     (const char *)text.data);
        art.url = (char *)(a % 2 ? "https://example.org/a" : "");
        art.time_secs = a % 2 ? 3600 : -1;
        for (p = 0; p < SEED_PASSAGES; p++)
            CU_ASSERT_FATAL(ndx_termset_build(
                                &ts[p], an, p ? NULL : art.title,
                                p ? 0 : strlen(art.title),
                                art.text + ps.items[p].off,
                                ps.items[p].len) == NDX_OK);
        CU_ASSERT_FATAL(ndx_segw_add(w, &art, &ps, ts, NULL) == NDX_OK);
        ndx_passages_clear(&ps);
    }
    CU_ASSERT_FATAL(ndx_segw_flush(w, path) == NDX_OK);
    ndx_buf_free(&text);
    for (p = 0; p < SEED_PASSAGES; p++)
        ndx_termset_free(&ts[p]);
    ndx_segw_free(w);
    ndx_analyzer_free(an);
}

static void
test_durability_fuzz_seed_segment_is_current(void)
{
    const char *update = getenv("NDX_UPDATE_FIXTURES");
    ndx_seg *s = NULL;
    ndx_seg_term t;
    ndx_status st;
    struct stat sb;

    if (update && strcmp(update, "1") == 0)
        build_fuzz_seed(FUZZ_SEED);
    st = ndx_seg_open(&s, FUZZ_SEED, 1);
    if (st != NDX_OK)
        fprintf(stderr, "\n  %s\n  the fuzz seed is out of date: rewrite it "
                        "with NDX_UPDATE_FIXTURES=1 %s durability",
                ndx_errmsg(), t_prog("newsdex-tests"));
    CU_ASSERT_FATAL(st == NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_check(s), NDX_OK);
    CU_ASSERT_EQUAL(s->articles, SEED_ARTICLES);
    CU_ASSERT_EQUAL(s->passages, SEED_ARTICLES * SEED_PASSAGES);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "ukraine", 7, &t), 1);
    CU_ASSERT_EQUAL(t.df, 300);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "peace", 5, &t), 1);
    CU_ASSERT_EQUAL(t.df, 150);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "unique25", 8, &t), 1);
    CU_ASSERT_EQUAL(t.df, 1);
    CU_ASSERT_EQUAL(ndx_seg_find(s, "art-29"), 29);
    ndx_seg_close(s);
    /* Whole, it must fit the fuzzer's input limit (scripts/fuzz-smoke). */
    CU_ASSERT_FATAL(stat(FUZZ_SEED, &sb) == 0);
    CU_ASSERT_TRUE(sb.st_size <= 32768);
}

/* ---- the programs ------------------------------------------------------ */

static void
test_durability_programs_report_damage_and_exit_1(void)
{
    const char *dir = t_tmpdir();
    char work[500], cmd[1400], *seg;
    const char *seg_path;
    size_t len;

    snprintf(work, sizeof work, "%s/ix", dir);
    snprintf(cmd, sizeof cmd, "%s -o %s --quiet corpus",
             t_prog("newsdex-index"), work);
    CU_ASSERT_FATAL(t_run(cmd, NULL, NULL) == 0);
    snprintf(cmd, sizeof cmd, "%s --check %s", t_prog("newsdex-index"), work);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, NULL), 0);
    /* A flipped byte in the stored text: searches still run, --check
     * names the file and fails. */
    seg_path = path_in(work, only_segment(work));
    seg = t_slurp(seg_path, &len);
    CU_ASSERT_FATAL(seg != NULL);
    seg[len / 2] ^= 0x20;
    CU_ASSERT_FATAL(t_write(seg_path, seg, len) == 0);
    t_expect_run(cmd, 1, seg_path);
    /* A damaged manifest: the searcher says so and fails. */
    seg[len / 2] ^= 0x20;
    CU_ASSERT_FATAL(t_write(seg_path, seg, len) == 0);
    CU_ASSERT_FATAL(t_write(path_in(work, "MANIFEST"),
                            "newsdex-manifest 1\ngeneration 1\n", 32) == 0);
    snprintf(cmd, sizeof cmd, "%s -i %s Ukraine", t_prog("newsdex-search"),
             work);
    t_expect_run(cmd, 1, "MANIFEST");
    free(seg);
}

CU_TestInfo durability_tests[] = {
    {"every flipped segment byte is caught without a crash",
     test_durability_every_flipped_segment_byte_is_caught_without_crash},
    {"truncated segment is refused",
     test_durability_truncated_segment_is_refused},
    {"segment cut under a reader gives errors, not SIGBUS",
     test_durability_segment_cut_under_a_reader_gives_errors_not_sigbus},
    {"truncated MANIFEST is refused",
     test_durability_truncated_manifest_is_refused},
    {"flipped MANIFEST bytes are caught",
     test_durability_flipped_manifest_bytes_are_caught},
    {"MANIFEST naming a missing segment is refused",
     test_durability_manifest_naming_a_missing_segment_is_refused},
    {"deletion file with a bad checksum is refused",
     test_durability_deletion_file_with_bad_checksum_is_refused},
    {"another format version says to rebuild",
     test_durability_other_format_version_says_rebuild},
    {"stray files in the index are ignored",
     test_durability_stray_files_in_the_index_are_ignored},
    {"writer exiting before commit changes nothing",
     test_durability_writer_exiting_before_commit_changes_nothing},
    {"writer killed before commit changes nothing",
     test_durability_writer_killed_before_commit_changes_nothing},
    {"writer killed at random points leaves a whole commit",
     test_durability_writer_killed_at_random_points_leaves_a_whole_commit},
    {"reader keeps its generation until refresh",
     test_durability_reader_keeps_its_generation_until_refresh},
    {"searches go on while refresh swaps generations",
     test_durability_searches_go_on_while_refresh_swaps_generations},
    {"readers opening during commits always open",
     test_durability_readers_opening_during_commits_always_open},
    {"second writer is locked out",
     test_durability_second_writer_is_locked_out},
    {"replaced articles leave the BM25 statistics",
     test_durability_replaced_articles_leave_the_bm25_statistics},
    {"fuzz seed segment is current",
     test_durability_fuzz_seed_segment_is_current},
    {"programs report damage and exit 1",
     test_durability_programs_report_damage_and_exit_1},
    CU_TEST_INFO_NULL,
};
