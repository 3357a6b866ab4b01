/*
 * test_variants.c - name variants over corpus/: a query word finds every
 * spelling, scored as one term; quoted it stays exact; snippets highlight
 * every spelling; files add groups and report bad lines.
 *
 * What corpus/ says (read with grep): Zelensky is written "Zelensky" in
 * 001 and 004 and "Zelenskyy" in 002 and 003.  Kyiv is written "Kyiv" in
 * 000, 001 and 003 (002's one "Kyiv" stands in a teaser line that is
 * cleaned away as furniture) and "Kiev" in 004.  "Witkoff" is in
 * 001 and 004 only, each time in a paragraph that names Kyiv or Kiev;
 * nobody writes "Vitkoff".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/newsdex.h"
#include "support.h"

static const char *
corpus_index(void)
{
    static char dir[512];
    ndx_engine_config cfg;

    if (dir[0])
        return dir;
    snprintf(dir, sizeof dir, "%s", t_tmpdir());
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    CU_ASSERT_EQUAL(t_index_corpus(dir, "native", &cfg), NDX_OK);
    return dir;
}

/* The matching articles' numbers (the 3 digits of the id), sorted. */
static void
articles(const char *q, char *out, size_t cap)
{
    ndx_index *ix = NULL;
    ndx_results *res = NULL;
    ndx_search_opts o;
    int seen[1000] = {0};
    size_t i;

    out[0] = '\0';
    ndx_search_opts_init(&o);
    o.k = 100;
    if (ndx_index_open(&ix, corpus_index(), NDX_OPEN_READ, NULL, NULL) ||
        ndx_index_search(ix, q, &o, &res, NULL)) {
        snprintf(out, cap, "error: %s", ndx_errmsg());
        ndx_index_close(ix);
        return;
    }
    for (i = 0; i < res->count; i++)
        seen[atoi(res->hits[i].article) % 1000] = 1;
    for (i = 0; i < 1000; i++)
        if (seen[i])
            snprintf(out + strlen(out), cap - strlen(out), "%s%03zu",
                     out[0] ? "," : "", i);
    ndx_results_free(res);
    ndx_index_close(ix);
}

static void
expect(const char *q, const char *want)
{
    char got[256];

    articles(q, got, sizeof got);
    if (strcmp(got, want) != 0)
        printf("\n    %s: got [%s], want [%s]", q, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
}

static void
test_variants_a_name_finds_every_spelling(void)
{
    expect("Zelensky", "001,002,003,004");
    expect("Zelenskyy", "001,002,003,004");
    expect("Kyiv", "000,001,003,004");
    expect("Kiev", "000,001,003,004");
    /* Quoted, a spelling is exact. */
    expect("\"Kiev\"", "004");
    expect("\"Kyiv\"", "000,001,003");
    expect("\"Zelenskyy\"", "002,003");
    /* With other words and operators. */
    expect("Kiev Witkoff", "001,004");
    expect("Witkoff -Kiev", "");
}

static void
test_variants_parse_as_one_synonym(void)
{
    ndx_analyzer *an = NULL;
    ndx_query *q = NULL;
    char d[256];
    size_t i;
    int kiev = 0;

    CU_ASSERT_EQUAL_FATAL(ndx_analyzer_new(&an, "english"), NDX_OK);
    CU_ASSERT_EQUAL_FATAL(ndx_query_parse(&q, "Kiev talks", an, NULL),
                          NDX_OK);
    ndx_query_describe(q, d, sizeof d);
    CU_ASSERT_STRING_EQUAL(d, "(AND (SYN Zkiev Zkyiv) Ztalk)");
    for (i = 0; i < q->highlight_count; i++)
        kiev += strcmp(q->highlight[i], "kyiv") == 0;
    CU_ASSERT_EQUAL(kiev, 1);
    ndx_query_free(q);
    CU_ASSERT_EQUAL_FATAL(ndx_query_parse(&q, "title:Kiev \"Kiev\"", an,
                                          NULL), NDX_OK);
    ndx_query_describe(q, d, sizeof d);
    CU_ASSERT_STRING_EQUAL(d, "(AND Tkiev (PHRASE kiev))");
    ndx_query_free(q);
    ndx_analyzer_free(an);
    CU_ASSERT(ndx_variants_builtin_count() >= 200);
}

static void
test_variants_snippet_highlights_the_other_spelling(void)
{
    ndx_index *ix = NULL;
    ndx_results *res = NULL;
    size_t i;
    int found = 0;

    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, corpus_index(), NDX_OPEN_READ,
                                         NULL, NULL), NDX_OK);
    CU_ASSERT_EQUAL_FATAL(ndx_index_search(ix, "Kyiv", NULL, &res, NULL),
                          NDX_OK);
    for (i = 0; i < res->count; i++)
        if (strncmp(res->hits[i].article, "004", 3) == 0)
            found = res->hits[i].snippet &&
                    strstr(res->hits[i].snippet, "<b>Kiev</b>") != NULL;
    CU_ASSERT(found);
    ndx_results_free(res);
    ndx_index_close(ix);
}

static void
test_variants_file_adds_a_group_and_names_bad_lines(void)
{
    const char *const *m = NULL;

    expect("Vitkoff", "");
    CU_ASSERT_EQUAL_FATAL(
        ndx_variants_load("tests/fixtures/variants/extra.txt"), NDX_OK);
    CU_ASSERT_EQUAL(ndx_variants_lookup("vitkoff", &m), 2);
    expect("Vitkoff", "001,004");
    CU_ASSERT_EQUAL(ndx_variants_load("tests/fixtures/variants/bad.txt"),
                    NDX_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(ndx_errmsg(), "bad.txt:1"));
    CU_ASSERT_EQUAL(ndx_variants_load("tests/fixtures/variants/none.txt"),
                    NDX_ENOTFOUND);
}

CU_TestInfo variants_tests[] = {
    {"test_variants_a_name_finds_every_spelling",
     test_variants_a_name_finds_every_spelling},
    {"test_variants_parse_as_one_synonym",
     test_variants_parse_as_one_synonym},
    {"test_variants_snippet_highlights_the_other_spelling",
     test_variants_snippet_highlights_the_other_spelling},
    {"test_variants_file_adds_a_group_and_names_bad_lines",
     test_variants_file_adds_a_group_and_names_bad_lines},
    CU_TEST_INFO_NULL,
};
