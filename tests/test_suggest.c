/*
 * test_suggest.c - candidate name variants learned from an index
 * (ndx_suggester, ndx_index_each_passage, newsdex-index
 * --suggest-variants).
 *
 * What tests/fixtures/suggest/names.jsonl says (read by eye): one source
 * writes "Oleksandr Turchynov" twice, another "Oleksandr Turchinov"
 * twice, each time after "president" or "speaker" and "Oleksandr" and
 * before "said" or "told": one man, two transliterations, in no variant
 * table.  "Kyiv" (twice) and "Kiev" (twice) follow "in" and precede
 * "would": a pair the built-in table holds.  "Varna" (a port, three times:
 * "of/in Varna waited/complained/stayed") and "Varga" (a mayor, twice:
 * "Ellen Varga said/told") are one letter apart but share no neighbour.
 * "Russia" and "Russian" (twice each) are a name and its adjective.
 * "François" and "Francois" (twice each) are one word once accents are
 * folded, as searches fold them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/newsdex.h"
#include "newsdex/sys/engine.h"
#include "support.h"

#define FIXTURE "tests/fixtures/suggest/names.jsonl"

static int
feed(void *ctx, const char *article_id, const char *text, size_t len)
{
    (void)article_id;
    return ndx_suggester_text(ctx, text, len);
}

static const ndx_variant_suggestion *
find(const ndx_variant_suggestion *v, size_t n, const char *a, const char *b)
{
    size_t i;

    for (i = 0; i < n; i++)
        if ((!strcmp(v[i].a, a) && !strcmp(v[i].b, b)) ||
            (!strcmp(v[i].a, b) && !strcmp(v[i].b, a)))
            return &v[i];
    return NULL;
}

/* Indexes the fixture with engine and checks the suggestions read from
 * it. */
static void
check_engine(const char *engine)
{
    const char *paths[] = {FIXTURE};
    const char *dir = t_tmpdir();
    ndx_engine_config cfg;
    ndx_index *ix = NULL;
    ndx_suggester *s = NULL;
    const ndx_variant_suggestion *v, *p;
    size_t n;
    int more, passes = 0;

    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    CU_ASSERT_EQUAL_FATAL(t_index_paths(dir, engine, &cfg, 0, paths, 1),
                          NDX_OK);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL,
                                         NULL), NDX_OK);
    CU_ASSERT_EQUAL_FATAL(ndx_suggester_new(&s, 2), NDX_OK);
    do {
        CU_ASSERT_EQUAL_FATAL(ndx_index_each_passage(ix, feed, s), 0);
        more = ndx_suggester_end_pass(s);
        CU_ASSERT(more >= 0);
        passes++;
    } while (more > 0 && passes < 5);
    CU_ASSERT_EQUAL(passes, 2);
    v = ndx_suggester_results(s, &n, NULL, NULL);

    p = find(v, n, "Turchynov", "Turchinov");
    CU_ASSERT_PTR_NOT_NULL(p);
    if (p) {
        CU_ASSERT_EQUAL(p->edits, 1);
        CU_ASSERT_EQUAL(p->a_count, 2);
        CU_ASSERT_EQUAL(p->b_count, 2);
        CU_ASSERT_FALSE(p->known);
        /* oleksandr _, _ said, _ told */
        CU_ASSERT_EQUAL(p->shared_count, 3);
        CU_ASSERT_PTR_NOT_NULL(strstr(p->shared, "oleksandr _"));
        CU_ASSERT(p->similarity > 0.5 && p->similarity <= 1.0 + 1e-9);
    }
    p = find(v, n, "Kyiv", "Kiev");
    CU_ASSERT_PTR_NOT_NULL(p);
    if (p) {
        CU_ASSERT_TRUE(p->known);
        CU_ASSERT_EQUAL(p->edits, 2);
    }
    CU_ASSERT_PTR_NULL(find(v, n, "Varna", "Varga"));
    CU_ASSERT_PTR_NULL(find(v, n, "Russia", "Russian"));
    CU_ASSERT_PTR_NULL(find(v, n, "François", "Francois"));
    CU_ASSERT_EQUAL(n, 2);
    ndx_suggester_free(s);
    ndx_index_close(ix);
}

static void
test_suggest_finds_a_transliteration_pair_native(void)
{
    check_engine("native");
}

static void
test_suggest_finds_a_transliteration_pair_xapian(void)
{
    if (t_without_xapian())
        return;
    check_engine("xapian");
}

/* The program prints the pair and says how to add it. */
static void
test_suggest_report_says_how_to_add_a_pair(void)
{
    const char *paths[] = {FIXTURE};
    const char *dir = t_tmpdir();
    char cmd[1024];
    char *out = NULL;

    CU_ASSERT_EQUAL_FATAL(t_index_paths(dir, "native", NULL, 0, paths, 1),
                          NDX_OK);
    snprintf(cmd, sizeof cmd, "%s --suggest-variants %s --min-count 2",
             t_prog("newsdex-index"), dir);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT(strstr(out, "Turchynov ~ Turchinov") ||
              strstr(out, "Turchinov ~ Turchynov"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--variants FILE"));
    /* Kyiv ~ Kiev is listed as known, not suggested. */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Already variants of one name"));
    CU_ASSERT_EQUAL(t_count(out, "similarity"), 1);
    free(out);
    snprintf(cmd, sizeof cmd, "%s --suggest-variants %s/nothing-here 2>&1",
             t_prog("newsdex-index"), dir);
    CU_ASSERT_EQUAL(t_run(cmd, &out, NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "nothing-here"));
    free(out);
}

CU_TestInfo suggest_tests[] = {
    {"test_suggest_finds_a_transliteration_pair_native",
     test_suggest_finds_a_transliteration_pair_native},
    {"test_suggest_finds_a_transliteration_pair_xapian",
     test_suggest_finds_a_transliteration_pair_xapian},
    {"test_suggest_report_says_how_to_add_a_pair",
     test_suggest_report_says_how_to_add_a_pair},
    CU_TEST_INFO_NULL,
};
