/*
 * test_keyset.c - keyset paging (ndx_search_opts.after): pages that each
 * ask for the hits after the last hit of the page before give, one after
 * the other, the listing of one search, in every order, on both engines,
 * across segments and with ties on score and on date; a key with folding
 * or collapsing on is refused.
 *
 * Corpus (written by the test): KS_ARTICLES articles of one line each,
 * "Harbour crane N moved along." or, for every fifth, "Harbour harbour
 * crane N moved." (as many words, one of them twice: a higher score); titles "Item N", so that the passages' lengths are all the
 * same and the scores tie within each of the two kinds.  Dates: every
 * fourth article has none, the others fall on one of three days, so that
 * dates tie too.  Three sources.  Indexed in two commits (two segments
 * for the native engine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/newsdex.h"
#include "newsdex/sys/engine.h"
#include "support.h"

#define KS_ARTICLES 61
#define KS_PAGE 4

static int
ks_twice(size_t i)
{
    return i % 5 == 0;
}

static int
ks_dated(size_t i)
{
    return i % 4 != 3;
}

/* Day of the month of a dated article: 1, 2 or 3 (January 2021). */
static int
ks_day(size_t i)
{
    return 1 + (int)(i % 3);
}

/* Writes articles [from, to) to path; 0 on success. */
static int
ks_write(const char *path, size_t from, size_t to)
{
    static const char *const sources[] = {"Gazette", "Dock Post",
                                          "Coast Herald"};
    FILE *f = fopen(path, "w");
    size_t i;

    if (!f)
        return -1;
    for (i = from; i < to; i++) {
        fprintf(f, "{\"id\":\"k%02zu\",\"source\":\"%s\",", i, sources[i % 3]);
        if (ks_dated(i))
            fprintf(f, "\"date\":\"2021-01-%02d\",", ks_day(i));
        fprintf(f, "\"title\":\"Item %zu\",\"url\":\"https://example.org/%zu\","
                   "\"text\":\"%s %zu %s\"}\n",
                i, i, ks_twice(i) ? "Harbour harbour crane" : "Harbour crane",
                i, ks_twice(i) ? "moved." : "moved along.");
    }
    return fclose(f);
}

static const char *
ks_index(const char *engine)
{
    static char dirs[2][512];
    char a[600], b[600];
    const char *pa[1] = {a}, *pb[1] = {b};
    int x = strcmp(engine, "xapian") == 0;

    if (dirs[x][0])
        return dirs[x];
    snprintf(a, sizeof a, "%s/ks-a.jsonl", t_tmpdir());
    snprintf(b, sizeof b, "%s/ks-b.jsonl", t_tmpdir());
    snprintf(dirs[x], sizeof dirs[x], "%s/ks-%s", t_tmpdir(), engine);
    if (ks_write(a, 0, KS_ARTICLES / 2) ||
        ks_write(b, KS_ARTICLES / 2, KS_ARTICLES) ||
        t_index_paths(dirs[x], engine, NULL, 0, pa, 1) != NDX_OK ||
        t_index_paths(dirs[x], engine, NULL, NDX_OPEN_ADD, pb, 1) !=
            NDX_OK) {
        printf("\n  indexing with %s: %s", engine, ndx_errmsg());
        dirs[x][0] = '\0';
        return NULL;
    }
    return dirs[x];
}

static size_t
ks_engines(const char **out)
{
    size_t n = 0;

    out[n++] = "native";
    if (ndx_xapian_engine())
        out[n++] = "xapian";
    else
        t_skip("built without Xapian: keyset paging checked on the native "
               "engine only");
    return n;
}

/* The article number of a hit ("k07" -> 7). */
static size_t
ks_num(const ndx_hit *h)
{
    return (size_t)atoi(h->article + 1);
}

/* Where an article must stand relative to another in sort order s, from
 * the corpus alone: -1 before, 1 after, 0 when only the tie-break (the
 * engine's order) decides. */
static int
ks_cmp(ndx_sort s, size_t a, size_t b)
{
    if (s != NDX_SORT_RELEVANCE) {
        /* Undated sorts as the earliest. */
        int da = ks_dated(a) ? ks_day(a) : 0, db = ks_dated(b) ? ks_day(b) : 0;

        if (da != db)
            return (s == NDX_SORT_NEWEST) == (da > db) ? -1 : 1;
    }
    if (ks_twice(a) != ks_twice(b))
        return ks_twice(a) ? -1 : 1;
    return 0;
}

static void
ks_opts(ndx_search_opts *o, ndx_sort s)
{
    ndx_search_opts_init(o);
    o->sort = s;
    o->snippets = 0;
    o->fold_clusters = 0;
    o->collapse_titles = 0;
}

/* Checks that the search with o gives the hits of the listing all from
 * 2 * KS_PAGE on, a page of them. */
static void
ks_page_3(ndx_index *ix, const ndx_search_opts *o, const ndx_results *all)
{
    ndx_results *r = NULL;
    size_t i;

    CU_ASSERT_FATAL(ndx_index_search(ix, "harbour", o, &r, NULL) == NDX_OK);
    CU_ASSERT_EQUAL(r->count, KS_PAGE);
    for (i = 0; i < r->count; i++)
        CU_ASSERT_STRING_EQUAL(r->hits[i].article,
                               all->hits[2 * KS_PAGE + i].article);
    ndx_results_free(r);
}

static void
test_keyset_pages_give_the_listing_of_one_search(void)
{
    static const ndx_sort sorts[] = {NDX_SORT_RELEVANCE, NDX_SORT_NEWEST,
                                     NDX_SORT_OLDEST};
    const char *eng[2];
    size_t ne = ks_engines(eng), e, si, i;

    for (e = 0; e < ne; e++) {
        const char *dir = ks_index(eng[e]);
        ndx_index *ix = NULL;

        CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
        CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL) ==
                        NDX_OK);
        for (si = 0; si < 3; si++) {
            ndx_search_opts o;
            ndx_search_key key;
            ndx_results *all = NULL;
            char seen[KS_ARTICLES] = {0};
            size_t got = 0, pages = 0;
            int exact;

            /* The whole listing in one search. */
            ks_opts(&o, sorts[si]);
            o.k = 1000;
            CU_ASSERT_FATAL(ndx_index_search(ix, "harbour", &o, &all, NULL) ==
                            NDX_OK);
            CU_ASSERT_EQUAL_FATAL(all->count, KS_ARTICLES);
            for (i = 0; i < all->count; i++) {
                size_t n = ks_num(&all->hits[i]);

                CU_ASSERT_FATAL(n < KS_ARTICLES && !seen[n]);
                seen[n] = 1;
                if (i)
                    CU_ASSERT(ks_cmp(sorts[si], ks_num(&all->hits[i - 1]),
                                     n) <= 0);
            }
            /* Pages after keys, then one page by offset for comparison:
             * the same hits, with the same scores. */
            for (;;) {
                ndx_results *r = NULL;

                ks_opts(&o, sorts[si]);
                o.k = KS_PAGE;
                o.after = got ? &key : NULL;
                CU_ASSERT_FATAL(ndx_index_search(ix, "harbour", &o, &r,
                                                 NULL) == NDX_OK);
                exact = 1;
                for (i = 0; i < r->count && got + i < all->count; i++)
                    exact &= !strcmp(r->hits[i].article,
                                     all->hits[got + i].article) &&
                             r->hits[i].score == all->hits[got + i].score;
                CU_ASSERT(exact);
                CU_ASSERT(r->count <= KS_PAGE);
                if (!exact)
                    printf("\n  %s, sort %d: page %zu differs", eng[e],
                           (int)sorts[si], pages);
                if (r->count)
                    ndx_search_key_of(&r->hits[r->count - 1], &key);
                got += r->count;
                pages++;
                i = r->count;
                ndx_results_free(r);
                if (i < KS_PAGE || pages > KS_ARTICLES)
                    break;
            }
            CU_ASSERT_EQUAL(got, KS_ARTICLES);
            /* Page 3 by offset, and by an offset after page 1's key. */
            ks_opts(&o, sorts[si]);
            o.k = KS_PAGE;
            o.offset = 2 * KS_PAGE;
            ks_page_3(ix, &o, all);
            ndx_search_key_of(&all->hits[KS_PAGE - 1], &key);
            o.after = &key;
            o.offset = KS_PAGE;
            ks_page_3(ix, &o, all);
            ndx_results_free(all);
        }
        ndx_index_close(ix);
    }
}

static void
test_keyset_refuses_a_key_with_folding_or_collapsing(void)
{
    const char *dir = ks_index("native");
    ndx_index *ix = NULL;
    ndx_search_opts o;
    ndx_search_key key = {NDX_DATE_NONE, 1.0, 1};
    ndx_results *r = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    ks_opts(&o, NDX_SORT_RELEVANCE);
    o.after = &key;
    o.fold_clusters = 1;
    CU_ASSERT_EQUAL(ndx_index_search(ix, "harbour", &o, &r, NULL), NDX_EINVAL);
    CU_ASSERT_PTR_NULL(r);
    o.fold_clusters = 0;
    o.collapse_titles = 1;
    CU_ASSERT_EQUAL(ndx_index_search(ix, "harbour", &o, &r, NULL), NDX_EINVAL);
    CU_ASSERT_PTR_NULL(r);
    /* By passage nothing folds: a key is fine. */
    o.group = NDX_GROUP_PASSAGE;
    CU_ASSERT_EQUAL(ndx_index_search(ix, "harbour", &o, &r, NULL), NDX_OK);
    ndx_results_free(r);
    ndx_index_close(ix);
}

CU_TestInfo keyset_tests[] = {
    {"test_keyset_pages_give_the_listing_of_one_search",
     test_keyset_pages_give_the_listing_of_one_search},
    {"test_keyset_refuses_a_key_with_folding_or_collapsing",
     test_keyset_refuses_a_key_with_folding_or_collapsing},
    CU_TEST_INFO_NULL,
};
