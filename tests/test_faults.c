/*
 * test_faults.c - every allocation made to fail in turn: reading and
 * indexing files, committing, opening, searching, getting and counting.
 * Each run must end in an error returned (or in the result a run without
 * faults gives, when the failed allocation was one the code can do
 * without), never in a crash, and the index on disk must remain whole:
 * the last commit, or the new one.  Leaks show under `make SAN=1 test`.
 *
 * The allocations pass through the counter of tests/support.c (the test
 * binary is linked with --wrap).  `make test` fails a sample of the
 * allocation points of each operation (the first ones, then evenly spread
 * over the rest); NDX_FAULTS=all (`make faults`) fails every one.
 * NDX_FAULT_ONLY=K fails only the K-th, and NDX_FAULT_TRACE=1 prints the
 * stack of the allocation that fails (for finding it in the code).
 *
 * Also here: the limits of the search front (k, offset, snippet length),
 * which no allocation is sized from unchecked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "newsdex/newsdex.h"
#include "support.h"
#include "util/buf.h"

#define FIX "tests/fixtures/"
#define SAMPLE_FIRST 60  /* allocation points always tried */
#define SAMPLE_SPREAD 90 /* and this many spread over the rest */

static const char *const base_files[] = {"corpus"};
static const char *const add_files[] = {FIX "ingest/good.jsonl",
                                        FIX "ingest/dups.jsonl"};
static const char *const queries[] = {
    "peace talks", "\"security guarantees\"", "rubio OR kallas",
    "ukrain* -nato", "source:newsweek date:2025", "title:rubio",
};

static char base_dir[400];
static uint64_t base_articles, base_gen, new_articles;

/* Whether the whole sweep runs (NDX_FAULTS=all), else a sample. */
static int
full_sweep(void)
{
    const char *e = getenv("NDX_FAULTS");

    return e && strcmp(e, "all") == 0;
}

/* The allocation points to fail, out of count: all of them, or the first
 * SAMPLE_FIRST and SAMPLE_SPREAD more evenly spread. */
static int
tried(long k, long count)
{
    const char *only = getenv("NDX_FAULT_ONLY");
    long step;

    if (only)
        return k == atol(only);
    if (full_sweep() || k < SAMPLE_FIRST)
        return 1;
    step = (count - SAMPLE_FIRST) / SAMPLE_SPREAD;
    return step <= 1 || (k - SAMPLE_FIRST) % step == 0;
}

/* Reads paths and adds every article to dir, then commits: the first
 * failure is returned; *committed says whether commit returned NDX_OK.
 * ix_out (may be NULL) keeps the writer open for the caller. */
static ndx_status
index_files(const char *dir, unsigned flags, const char *const *paths,
            size_t n, int *committed, ndx_index **ix_out)
{
    ndx_engine_config cfg;
    ndx_index *ix = NULL;
    ndx_status st;

    *committed = 0;
    if (ix_out)
        *ix_out = NULL;
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    if ((st = ndx_index_open(&ix, dir, NDX_OPEN_WRITE | flags, "native",
                             &cfg)))
        return st;
    if ((st = t_add_corpus(ix, paths, n, NULL)))
        goto done;
    st = ndx_index_commit(ix);
    *committed = st == NDX_OK;
done:
    if (ix_out && st)
        *ix_out = ix;
    else
        ndx_index_close(ix);
    return st;
}

static int
disk_state(const char *dir, uint64_t *articles, uint64_t *gen)
{
    ndx_index *ix = NULL;
    ndx_stats s;
    int rc = -1;

    if (ndx_index_check(dir) != NDX_OK) {
        fprintf(stderr, "\n  check: %s", ndx_errmsg());
        return -1;
    }
    if (ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL) == NDX_OK &&
        ndx_index_stats(ix, &s) == NDX_OK) {
        *articles = s.articles;
        *gen = s.generation;
        ndx_stats_clear(&s);
        rc = 0;
    }
    ndx_index_close(ix);
    return rc;
}

static void
copy_dir(const char *from, const char *to)
{
    char cmd[1200];

    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s' && rm -f '%s/LOCK'",
             to, from, to, to);
    CU_ASSERT_FATAL(t_run(cmd, NULL, NULL) == 0);
}

static void
make_base(void)
{
    int committed;
    char dir[400];
    uint64_t a, g;

    if (base_dir[0])
        return;
    snprintf(base_dir, sizeof base_dir, "%s/base", t_tmpdir());
    CU_ASSERT_FATAL(index_files(base_dir, 0, base_files, 1, &committed,
                                NULL) == NDX_OK);
    CU_ASSERT_FATAL(disk_state(base_dir, &base_articles, &base_gen) == 0);
    CU_ASSERT_FATAL(base_articles == 5); /* corpus/ holds five articles */
    /* What a fault-free --add of add_files gives. */
    snprintf(dir, sizeof dir, "%s/clean", t_tmpdir());
    copy_dir(base_dir, dir);
    CU_ASSERT_FATAL(index_files(dir, NDX_OPEN_ADD, add_files, 2, &committed,
                                NULL) == NDX_OK);
    CU_ASSERT_FATAL(disk_state(dir, &new_articles, &g) == 0);
    CU_ASSERT_FATAL(new_articles > base_articles && g == base_gen + 1);
    (void)a;
}

static void
test_faults_indexing_and_commit_leave_the_last_commit(void)
{
    char dir[400];
    long count, k, runs = 0, errors = 0, bad = 0;
    int committed;

    make_base();
    snprintf(dir, sizeof dir, "%s/work", t_tmpdir());
    copy_dir(base_dir, dir);
    t_fault_arm(-1);
    CU_ASSERT_FATAL(index_files(dir, NDX_OPEN_ADD, add_files, 2, &committed,
                                NULL) == NDX_OK);
    count = t_fault_disarm();
    CU_ASSERT_FATAL(count > 100);
    for (k = 0; k < count; k++) {
        ndx_index *ix = NULL;
        ndx_status st;
        uint64_t articles = 0, gen = 0, articles2 = 0, gen2 = 0;

        if (!tried(k, count))
            continue;
        runs++;
        copy_dir(base_dir, dir);
        t_fault_arm(k);
        st = index_files(dir, NDX_OPEN_ADD, add_files, 2, &committed, &ix);
        t_fault_disarm();
        if (!t_fault_fired())
            continue;
        errors += st != NDX_OK;
        /* On disk: the old commit, or the new one whole. */
        if (disk_state(dir, &articles, &gen) != 0 ||
            !((articles == base_articles && gen == base_gen) ||
              (articles == new_articles && gen == base_gen + 1)) ||
            (committed && gen != base_gen + 1)) {
            if (bad++ < 10)
                fprintf(stderr, "\n  allocation %ld of %ld failed: %s; on "
                                "disk %llu articles, generation %llu",
                        k, count, ndx_status_name(st),
                        (unsigned long long)articles,
                        (unsigned long long)gen);
        }
        /* A writer that failed half-way either commits again, in step
         * with what is on disk (a newer generation), or refuses, leaving
         * the disk as it was. */
        if (ix) {
            st = ndx_index_commit(ix);
            ndx_index_close(ix);
            if (disk_state(dir, &articles2, &gen2) != 0 ||
                (st == NDX_OK && gen2 <= gen) ||
                (st != NDX_OK && (gen2 != gen || articles2 != articles)) ||
                articles2 < base_articles || articles2 > new_articles) {
                if (bad++ < 10)
                    fprintf(stderr, "\n  allocation %ld of %ld failed, then "
                                    "commit again: %s, generation %llu after "
                                    "%llu, %llu articles",
                            k, count, ndx_status_name(st),
                            (unsigned long long)gen2,
                            (unsigned long long)gen,
                            (unsigned long long)articles2);
            }
        }
    }
    printf("\n    %ld of %ld allocation points failed in turn, %ld errors "
           "returned ", runs, count, errors);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(errors > 0);
}

/* Every query's hits, one article's passages and the statistics, as text;
 * the first failure is returned. */
static ndx_status
read_all(ndx_index *ix, ndx_buf *out)
{
    ndx_search_opts o;
    ndx_status st;
    ndx_stats s;
    ndx_doc *d = NULL;
    size_t q, i;

    ndx_search_opts_init(&o);
    for (q = 0; q < sizeof queries / sizeof *queries; q++) {
        ndx_results *r = NULL;

        if ((st = ndx_index_search(ix, queries[q], &o, &r, NULL)))
            return st;
        ndx_buf_printf(out, "%s: %llu\n", queries[q],
                       (unsigned long long)r->total);
        for (i = 0; i < r->count; i++)
            ndx_buf_printf(out, "  %s#%u %.9f %s\n", r->hits[i].article,
                           r->hits[i].passage, r->hits[i].score,
                           r->hits[i].snippet ? r->hits[i].snippet : "-");
        ndx_results_free(r);
    }
    if ((st = ndx_index_get(ix, "g1", &d)))
        return st;
    for (i = 0; i < d->passage_count; i++)
        ndx_buf_printf(out, "g1 %s\n", d->passages[i]);
    ndx_doc_free(d);
    if ((st = ndx_index_stats(ix, &s)))
        return st;
    ndx_buf_printf(out, "%llu %llu %llu %zu\n",
                   (unsigned long long)s.articles,
                   (unsigned long long)s.passages,
                   (unsigned long long)s.terms, s.source_count);
    ndx_stats_clear(&s);
    return NDX_OK;
}

static void
test_faults_open_and_search_answer_or_fail_cleanly(void)
{
    char dir[400];
    ndx_buf want, got;
    ndx_index *ix = NULL;
    long count, k, runs = 0, errors = 0, bad = 0;
    int committed;

    make_base();
    snprintf(dir, sizeof dir, "%s/read", t_tmpdir());
    copy_dir(base_dir, dir);
    CU_ASSERT_FATAL(index_files(dir, NDX_OPEN_ADD, add_files, 2, &committed,
                                NULL) == NDX_OK);
    ndx_buf_init(&want);
    ndx_buf_init(&got);
    t_fault_arm(-1);
    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(read_all(ix, &want) == NDX_OK);
    count = t_fault_disarm();
    ndx_index_close(ix);
    CU_ASSERT_FATAL(count > 50 && want.len > 100);
    for (k = 0; k < count; k++) {
        ndx_status st;

        if (!tried(k, count))
            continue;
        runs++;
        got.len = 0;
        ix = NULL;
        t_fault_arm(k);
        st = ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL);
        if (st == NDX_OK)
            st = read_all(ix, &got);
        t_fault_disarm();
        ndx_index_close(ix);
        if (!t_fault_fired())
            continue;
        errors += st != NDX_OK;
        /* An answer given is the right answer. */
        if (st == NDX_OK &&
            (got.len != want.len || memcmp(got.data, want.data, want.len))) {
            if (bad++ < 10)
                fprintf(stderr, "\n  allocation %ld of %ld failed: wrong "
                                "answer without an error", k, count);
        }
    }
    printf("\n    %ld of %ld allocation points failed in turn, %ld errors "
           "returned ", runs, count, errors);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_TRUE(errors > 0);
    ndx_buf_free(&want);
    ndx_buf_free(&got);
}

static void
test_faults_search_window_over_the_limits_is_refused(void)
{
    ndx_index *ix = NULL;
    ndx_search_opts o;
    ndx_results *r = NULL;
    struct {
        size_t k, offset, snippet_len;
    } cases[] = {
        {1, SIZE_MAX, 240},           /* offset + k wraps */
        {SIZE_MAX, 0, 240},
        {SIZE_MAX / 2, SIZE_MAX / 2, 240},
        {NDX_SEARCH_K_MAX + 1, 0, 240},
        {10, NDX_SEARCH_OFFSET_MAX + 1, 240},
        {10, 0, SIZE_MAX},
    };
    size_t i;

    make_base();
    CU_ASSERT_FATAL(ndx_index_open(&ix, base_dir, NDX_OPEN_READ, NULL,
                                   NULL) == NDX_OK);
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        ndx_search_opts_init(&o);
        o.k = cases[i].k;
        o.offset = cases[i].offset;
        o.snippet_len = cases[i].snippet_len;
        CU_ASSERT_EQUAL(ndx_index_search(ix, "peace", &o, &r, NULL),
                        NDX_EINVAL);
        CU_ASSERT_PTR_NULL(r);
        CU_ASSERT_PTR_NOT_NULL(strstr(ndx_errmsg(), "limit"));
    }
    /* At the limits: answered (the corpus has fewer hits). */
    ndx_search_opts_init(&o);
    o.k = NDX_SEARCH_K_MAX;
    o.offset = 0;
    CU_ASSERT_EQUAL(ndx_index_search(ix, "peace", &o, &r, NULL), NDX_OK);
    CU_ASSERT_TRUE(r && r->count > 0 && r->count < 10);
    ndx_results_free(r);
    ndx_index_close(ix);
}

CU_TestInfo faults_tests[] = {
    {"indexing and commit leave the last commit",
     test_faults_indexing_and_commit_leave_the_last_commit},
    {"open and search answer or fail cleanly",
     test_faults_open_and_search_answer_or_fail_cleanly},
    {"search window over the limits is refused",
     test_faults_search_window_over_the_limits_is_refused},
    CU_TEST_INFO_NULL,
};
