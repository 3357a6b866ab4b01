/*
 * test_neardup.c - near-duplicate articles: sketches, folding of one
 * source's re-crawled copies, clusters across sources shown once with
 * also_in, --add joining an earlier cluster, and keep_duplicates.
 *
 * Fixtures (tests/fixtures/neardup/): recrawl.jsonl holds two crawls of
 * one Riverton Post article (rc-1; rc-2 adds a breadcrumb line and comes
 * through a redirect URL) and a different article on the ferry (rc-3,
 * which mentions neither girders nor corrosion).  syndicated-1.jsonl is
 * the same story from Wire Service (sy-1); syndicated-2.jsonl prints it in
 * Northern Echo (sy-2, with a dateline line) and Coast Daily (sy-3, with a
 * credit line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "ingest/neardup.h"
#include "newsdex/newsdex.h"
#include "newsdex/sys/engine.h"
#include "support.h"

#define FIX "tests/fixtures/neardup/"

/* Indexes the n paths into dir with engine, one thread, and keep_duplicates
 * as keep; the indexing must succeed. */
static void
index_files(const char *dir, const char *engine, const char *const *paths,
            size_t n, unsigned flags, int keep)
{
    ndx_engine_config cfg;

    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    cfg.keep_duplicates = keep;
    CU_ASSERT_EQUAL_FATAL(t_index_paths(dir, engine, &cfg, flags, paths, n),
                          NDX_OK);
}

/* The results of q on the index in dir, which must open and answer; the
 * caller frees them. */
static ndx_results *
search(const char *dir, const char *q)
{
    ndx_index *ix = NULL;
    ndx_results *res = NULL;

    if (ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL) == NDX_OK &&
        ndx_index_search(ix, q, NULL, &res, NULL) != NDX_OK)
        res = NULL;
    ndx_index_close(ix);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    return res;
}

static void
test_neardup_sketch_sees_a_breadcrumb_copy_as_near(void)
{
    static const char a[] =
        "The city council voted on Tuesday to close the old harbour bridge "
        "to lorries after engineers found that two of its steel girders had "
        "lost a third of their strength to corrosion, and the mayor said "
        "the bridge would stay open to cars, bicycles and buses while the "
        "council looks for money to replace the girders.";
    static const char other[] =
        "A ferry will carry lorries across the harbour from next month, the "
        "council said on Wednesday, while the old bridge is closed to heavy "
        "traffic; the boat can take six lorries at a time and will run "
        "every half hour from six in the morning until ten at night.";
    unsigned char s1[NDX_ND_HASHES], s2[NDX_ND_HASHES], s3[NDX_ND_HASHES];
    char b[600];

    snprintf(b, sizeof b, "Home > News > Local\n\n%s", a);
    CU_ASSERT(ndx_neardup_sketch(a, strlen(a), s1) >= NDX_ND_MIN_WORDS);
    ndx_neardup_sketch(b, strlen(b), s2);
    ndx_neardup_sketch(other, strlen(other), s3);
    CU_ASSERT_DOUBLE_EQUAL(ndx_neardup_similarity(s1, s1), 1.0, 1e-9);
    CU_ASSERT(ndx_neardup_similarity(s1, s2) >= NDX_ND_MIN_SIMILARITY);
    CU_ASSERT(ndx_neardup_similarity(s1, s3) < 0.3);
}

/* An id added again moves to the chains of its new text: re-adding ids,
 * as --add runs do, neither loops nor leaves the old text findable. */
static void
test_neardup_readded_id_is_judged_by_its_new_text(void)
{
    char a[600], b[600], c[700];
    ndx_neardup *d = NULL;
    const char *earlier;
    int verdict, round;

    snprintf(a, sizeof a, "%s", "The city council voted on Tuesday to close "
             "the old harbour bridge to lorries after engineers found that "
             "two of its steel girders had lost a third of their strength "
             "to corrosion, and the mayor said the bridge would stay open "
             "to cars, bicycles and buses while the council looks for money "
             "to replace the girders.");
    snprintf(b, sizeof b, "%s", "A ferry will carry lorries across the "
             "harbour from next month, the council said on Wednesday, while "
             "the old bridge is closed to heavy traffic; the boat can take "
             "six lorries at a time and will run every half hour from six in "
             "the morning until ten at night, and haulage firms asked who "
             "would pay the fares.");
    snprintf(c, sizeof c, "Home > News\n\n%s", a);
    CU_ASSERT_EQUAL_FATAL(ndx_neardup_new(&d), NDX_OK);
    for (round = 0; round < 5; round++) {
        CU_ASSERT_EQUAL(ndx_neardup_add(d, "x-1", "Post", NDX_DATE_NONE,
                                        round % 2 ? b : a,
                                        strlen(round % 2 ? b : a), &verdict,
                                        &earlier), NDX_OK);
        CU_ASSERT_EQUAL(verdict, NDX_ND_NEW);
    }
    /* x-1 holds text a now: a copy of a folds into it, under its id. */
    CU_ASSERT_EQUAL(ndx_neardup_add(d, "x-2", "Post", NDX_DATE_NONE, c,
                                    strlen(c), &verdict, &earlier), NDX_OK);
    CU_ASSERT_EQUAL(verdict, NDX_ND_SAME_SOURCE);
    if (verdict == NDX_ND_SAME_SOURCE)
        CU_ASSERT_STRING_EQUAL(earlier, "x-1");
    /* Text b is x-1's no more: it is new under another id. */
    CU_ASSERT_EQUAL(ndx_neardup_add(d, "x-3", "Post", NDX_DATE_NONE, b,
                                    strlen(b), &verdict, &earlier), NDX_OK);
    CU_ASSERT_EQUAL(verdict, NDX_ND_NEW);
    ndx_neardup_free(d);
}

static void
test_neardup_recrawled_copy_indexes_to_one_article(void)
{
    const char *paths[] = {FIX "recrawl.jsonl"};
    const char *engines[] = {"native", "xapian"};
    size_t e;

    for (e = 0; e < 2; e++) {
        const char *dir;
        ndx_results *res;

        if (e == 1 && t_without_xapian())
            continue;
        dir = t_tmpdir();
        index_files(dir, engines[e], paths, 1, 0, 0);
        /* The story is indexed once, under the first crawl's id, with the
         * later crawl's text (its breadcrumb line). */
        res = search(dir, "girders corrosion");
        CU_ASSERT_EQUAL(res->count, 1);
        CU_ASSERT_EQUAL(res->total, 1);
        if (res->count)
            CU_ASSERT_STRING_EQUAL(res->hits[0].article, "rc-1");
        ndx_results_free(res);
        /* The ferry article is another article: both show. */
        res = search(dir, "ferry");
        CU_ASSERT_EQUAL(res->count, 2);
        ndx_results_free(res);

        /* keep_duplicates indexes both crawls; a search shows them once
         * (one source, one title), the other listed in same_title. */
        dir = t_tmpdir();
        index_files(dir, engines[e], paths, 1, 0, 1);
        res = search(dir, "girders corrosion");
        CU_ASSERT_EQUAL(res->total, 2);
        CU_ASSERT_EQUAL_FATAL(res->count, 1);
        CU_ASSERT_EQUAL(res->hits[0].same_title_count, 1);
        ndx_results_free(res);
        {
            ndx_index *ix = NULL;
            ndx_search_opts o;

            ndx_search_opts_init(&o);
            o.collapse_titles = 0;
            CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ,
                                                 NULL, NULL), NDX_OK);
            res = NULL;
            CU_ASSERT_EQUAL(ndx_index_search(ix, "girders corrosion", &o,
                                             &res, NULL), NDX_OK);
            CU_ASSERT_PTR_NOT_NULL_FATAL(res);
            CU_ASSERT_EQUAL(res->count, 2);
            ndx_results_free(res);
            ndx_index_close(ix);
        }
    }
}

/* Whether the hit's also_in holds exactly the two sources other than its
 * own among the three that printed the story. */
static int
also_in_the_other_two(const ndx_hit *h)
{
    static const char *const all[] = {"Wire Service", "Northern Echo",
                                      "Coast Daily"};
    size_t i, j, found = 0;

    if (h->also_in_count != 2)
        return 0;
    for (i = 0; i < 3; i++) {
        if (strcmp(all[i], h->source) == 0)
            continue;
        for (j = 0; j < h->also_in_count; j++)
            found += strcmp(all[i], h->also_in[j]) == 0;
    }
    return found == 2;
}

static void
test_neardup_syndicated_story_shows_once_with_also_in(void)
{
    const char *first[] = {FIX "syndicated-1.jsonl"};
    const char *rest[] = {FIX "syndicated-2.jsonl"};
    const char *engines[] = {"native", "xapian"};
    size_t e;

    for (e = 0; e < 2; e++) {
        const char *dir;
        ndx_results *res;
        ndx_search_opts o;
        ndx_index *ix = NULL;

        if (e == 1 && t_without_xapian())
            continue;
        dir = t_tmpdir();
        /* The wire's copy first, the two outlets in a later --add run:
         * they join the earlier cluster. */
        index_files(dir, engines[e], first, 1, 0, 0);
        index_files(dir, engines[e], rest, 1, NDX_OPEN_ADD, 0);
        res = search(dir, "girders corrosion");
        CU_ASSERT_EQUAL(res->count, 1);
        if (res->count)
            CU_ASSERT(also_in_the_other_two(&res->hits[0]));
        ndx_results_free(res);

        /* Grouped by passage, every copy shows. */
        CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL,
                                             NULL), NDX_OK);
        ndx_search_opts_init(&o);
        o.group = NDX_GROUP_PASSAGE;
        CU_ASSERT_EQUAL(ndx_index_search(ix, "girders corrosion", &o, &res,
                                         NULL), NDX_OK);
        if (res)
            CU_ASSERT_EQUAL(res->count, 3);
        ndx_results_free(res);
        ndx_index_close(ix);
    }
}

/* A writer reads NEARDUP when it adds its first article: a run that only
 * deletes or merges neither reads it nor writes it (its merges do not hold
 * the tables), so it commits even when the file is damaged and leaves the
 * file as it was; a run that adds fails on the damaged file, naming it,
 * and commits nothing. */
static void
test_neardup_read_only_by_runs_that_add(void)
{
    const char *first[] = {FIX "syndicated-1.jsonl"};
    const char *rest[] = {FIX "syndicated-2.jsonl"};
    static const char junk[] = "NDXNDUP\nnot a near-duplicate file";
    const char *dir = t_tmpdir();
    char path[512];
    ndx_index *ix = NULL;
    ndx_article a;
    ndx_results *res;
    size_t len = 0;
    char *now;
    FILE *f;

    index_files(dir, "native", first, 1, 0, 0);
    index_files(dir, "native", rest, 1, NDX_OPEN_ADD, 0);
    snprintf(path, sizeof path, "%s/NEARDUP", dir);
    f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(junk, 1, sizeof junk - 1, f);
    fclose(f);

    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, dir,
                                         NDX_OPEN_WRITE | NDX_OPEN_ADD, NULL,
                                         NULL), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_delete(ix, "sy-3"), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_optimize(ix), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_commit(ix), NDX_OK);
    ndx_index_close(ix);
    now = t_slurp(path, &len);
    CU_ASSERT(now && len == sizeof junk - 1 && memcmp(now, junk, len) == 0);
    free(now);
    res = search(dir, "girders corrosion");
    CU_ASSERT_EQUAL(res->total, 2); /* sy-3 is gone */
    ndx_results_free(res);

    memset(&a, 0, sizeof a);
    a.id = "new-1";
    a.source = "Coast Daily";
    a.text = "A new article about the zyxwvut.";
    a.text_len = strlen(a.text);
    a.date_days = NDX_DATE_NONE;
    a.time_secs = -1;
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, dir,
                                         NDX_OPEN_WRITE | NDX_OPEN_ADD, NULL,
                                         NULL), NDX_OK);
    CU_ASSERT_NOT_EQUAL(ndx_index_add(ix, &a, NULL), NDX_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(ndx_errmsg(), "NEARDUP"));
    ndx_index_close(ix);
    res = search(dir, "zyxwvut");
    CU_ASSERT_EQUAL(res->total, 0);
    ndx_results_free(res);
}

/* Only the page's hits carry text (and recounted matches) when clusters
 * are folded (the extra hits asked of the engine have neither), so a fold
 * inside the page must fetch the hits it moves up again: every page,
 * whatever k and offset, has the text and match count of every hit, the
 * same as in a search of all hits at once. */
static void
test_neardup_folded_pages_carry_every_hit_text(void)
{
    const char *files[] = {FIX "syndicated-1.jsonl", FIX "syndicated-2.jsonl",
                           FIX "recrawl.jsonl"};
    const char *queries[] = {"lorries", "bridge council", "girders OR ferry",
                             "harbour"};
    const char *dir = t_tmpdir();
    ndx_index *ix = NULL;
    size_t q, k, off, i, j;

    index_files(dir, "native", files, 3, 0, 0);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL,
                                         NULL), NDX_OK);
    for (q = 0; q < sizeof queries / sizeof *queries; q++) {
        ndx_search_opts o;
        ndx_results *all = NULL;

        ndx_search_opts_init(&o);
        o.k = 50;
        o.snippets = 0;
        CU_ASSERT_EQUAL_FATAL(ndx_index_search(ix, queries[q], &o, &all,
                                               NULL), NDX_OK);
        /* The fixture's clusters leave two or three articles: the rc-3
         * ferry story and the bridge story once (more when a query
         * misses some copies). */
        CU_ASSERT(all->count >= 1);
        for (k = 1; k <= 3; k++) {
            for (off = 0; off < 3; off++) {
                ndx_results *page = NULL;

                o.k = k;
                o.offset = off;
                CU_ASSERT_EQUAL_FATAL(ndx_index_search(ix, queries[q], &o,
                                                       &page, NULL),
                                      NDX_OK);
                for (i = 0; i < page->count; i++) {
                    const ndx_hit *h = &page->hits[i];

                    CU_ASSERT_PTR_NOT_NULL_FATAL(h->text);
                    CU_ASSERT(off + i < all->count);
                    if (off + i >= all->count)
                        continue;
                    j = off + i;
                    CU_ASSERT_STRING_EQUAL(h->article, all->hits[j].article);
                    CU_ASSERT_STRING_EQUAL(h->text, all->hits[j].text);
                    CU_ASSERT_EQUAL(h->matches, all->hits[j].matches);
                }
                ndx_results_free(page);
            }
        }
        o.k = 50;
        o.offset = 0;
        ndx_results_free(all);
    }
    ndx_index_close(ix);
}

static void
test_neardup_search_json_lists_also_in(void)
{
    const char *dir = t_tmpdir();
    char cmd[2048], *out = NULL;

    snprintf(cmd, sizeof cmd,
             "%s -q -o %s " FIX "syndicated-1.jsonl " FIX "syndicated-2.jsonl"
             " && %s -i %s --json girders",
             t_prog("newsdex-index"), dir, t_prog("newsdex-search"), dir);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_EQUAL(t_count(out, "\"article\":"), 1);
    CU_ASSERT_EQUAL(t_count(out, "\"also_in\":["), 1);
    free(out);
    out = NULL;
    snprintf(cmd, sizeof cmd, "%s -i %s girders", t_prog("newsdex-search"),
             dir);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_EQUAL(t_count(out, "also in 2 sources"), 1);
    free(out);
}

CU_TestInfo neardup_tests[] = {
    {"test_neardup_sketch_sees_a_breadcrumb_copy_as_near",
     test_neardup_sketch_sees_a_breadcrumb_copy_as_near},
    {"test_neardup_readded_id_is_judged_by_its_new_text",
     test_neardup_readded_id_is_judged_by_its_new_text},
    {"test_neardup_recrawled_copy_indexes_to_one_article",
     test_neardup_recrawled_copy_indexes_to_one_article},
    {"test_neardup_syndicated_story_shows_once_with_also_in",
     test_neardup_syndicated_story_shows_once_with_also_in},
    {"NEARDUP read only by runs that add",
     test_neardup_read_only_by_runs_that_add},
    {"test_neardup_search_json_lists_also_in",
     test_neardup_search_json_lists_also_in},
    {"test_neardup_folded_pages_carry_every_hit_text",
     test_neardup_folded_pages_carry_every_hit_text},
    CU_TEST_INFO_NULL,
};
