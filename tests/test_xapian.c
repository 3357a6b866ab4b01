/*
 * test_xapian.c - the Xapian engine through the index front: phrases,
 * words, filters, sorting, grouping, replacing an article, get, stats,
 * locking, missing indexes, damaged files, and one BM25 score worked out
 * here from term counts taken independently of the engine.
 *
 * Expected hits come from reading corpus/ (the seed articles and their
 * manifest): "nothing about Ukraine without Ukraine" stands only in 000,
 * "security guarantee" (singular) only in 002, while 001 and 003 say
 * "security guarantees"; "ceasefire" is in every article but 001.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/CUnit.h>

#include "newsdex/newsdex.h"
#include "newsdex/sys/engine.h"
#include "support.h"

#define A000 "000_5286196f00fcb6ee"
#define A001 "001_b6ab9d925da0c223"
#define A002 "002_59a3440c063501ba"
#define A003 "003_0036f894b85e4f95"
#define A004 "004_0d195e7965c4b621"

/* Skips (with a note) when this build has no Xapian engine. */
static int
have_xapian(void)
{
    if (ndx_xapian_engine())
        return 1;
    t_skip("built without Xapian");
    return 0;
}

static ndx_status
index_dir_threads(const char *dir, const char *const *paths,
                  size_t path_count, unsigned flags, unsigned shards,
                  unsigned threads)
{
    ndx_engine_config cfg;

    ndx_engine_config_init(&cfg);
    cfg.shards = shards;
    cfg.threads = threads;
    return t_index_paths(dir, "xapian", &cfg, flags, paths, path_count);
}

static ndx_status
index_dir(const char *dir, const char *const *paths, size_t path_count,
          unsigned flags, unsigned shards)
{
    return index_dir_threads(dir, paths, path_count, flags, shards, 1);
}

/* The corpus indexed once into a fresh directory (one database). */
static const char *
corpus_index(void)
{
    static char dir[512];
    const char *paths[] = {"corpus"};

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/corpus", t_tmpdir());
        if (index_dir(dir, paths, 1, 0, 1) != NDX_OK) {
            printf("\n  indexing corpus/: %s\n", ndx_errmsg());
            dir[0] = '\0';
            return NULL;
        }
    }
    return dir;
}

static ndx_index *
open_read(const char *dir)
{
    ndx_index *ix = NULL;
    ndx_status st = ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL);

    if (st)
        printf("\n  open %s: %s\n", dir, ndx_errmsg());
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    CU_ASSERT_STRING_EQUAL(ndx_index_engine(ix), "xapian");
    return ix;
}

static ndx_results *
search(ndx_index *ix, const char *q, const ndx_search_opts *o)
{
    ndx_results *r = NULL;
    ndx_status st = ndx_index_search(ix, q, o, &r, NULL);

    if (st)
        printf("\n  search [%s]: %s\n", q, ndx_errmsg());
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    return r;
}

/* Whether the results hold exactly these article ids, in any order. */
static int
same_articles(const ndx_results *r, const char *const *ids, size_t n)
{
    size_t i, j;

    if (r->count != n || r->total != n)
        return 0;
    for (i = 0; i < n; i++) {
        for (j = 0; j < r->count; j++)
            if (strcmp(r->hits[j].article, ids[i]) == 0)
                break;
        if (j == r->count)
            return 0;
    }
    return 1;
}

/* The number of articles matching q in ix. */
static uint64_t
total_of(ndx_index *ix, const char *q)
{
    ndx_results *r = search(ix, q, NULL);
    uint64_t n = r->total;

    ndx_results_free(r);
    return n;
}

/* Searches ix for q and checks that exactly the n articles of ids match. */
static void
expect_articles(ndx_index *ix, const char *q, const char *const *ids,
                size_t n)
{
    ndx_results *r = search(ix, q, NULL);

    CU_ASSERT(same_articles(r, ids, n));
    ndx_results_free(r);
}

/* The shared corpus index, or NULL (with a failure recorded) when this
 * build has no Xapian (a note, no failure) or indexing failed. */
static const char *
setup(void)
{
    const char *dir;

    if (!have_xapian())
        return NULL;
    dir = corpus_index();
    CU_ASSERT_PTR_NOT_NULL(dir);
    return dir;
}

/* The shared corpus index open for reading, or NULL as setup says. */
static ndx_index *
open_corpus(void)
{
    const char *dir = setup();

    return dir ? open_read(dir) : NULL;
}

static void
test_xapian_phrase_nothing_about_ukraine_only_in_000(void)
{
    const char *want[] = {A000};
    ndx_index *ix;
    ndx_results *r;

    if (!(ix = open_corpus()))
        return;
    r = search(ix, "\"nothing about Ukraine without Ukraine\"", NULL);
    CU_ASSERT(same_articles(r, want, 1));
    /* The article says it twice, in two paragraphs far apart. */
    CU_ASSERT_EQUAL(r->hits[0].matches, 2);
    CU_ASSERT(strstr(r->hits[0].text, "nothing about Ukraine without "
                                      "Ukraine") != NULL);
    CU_ASSERT(r->hits[0].score > 0);
    ndx_results_free(r);
    /* NOT drops the passage that also names Kallas ("...Kallas told
     * reporters"); the one that calls it a refrain stays. */
    r = search(ix, "\"nothing about Ukraine without Ukraine\" -kallas", NULL);
    CU_ASSERT(same_articles(r, want, 1));
    CU_ASSERT_EQUAL(r->hits[0].matches, 1);
    CU_ASSERT(strstr(r->hits[0].text, "refrain") != NULL);
    ndx_results_free(r);
    ndx_index_close(ix);
}

static void
test_xapian_phrase_is_unstemmed_words_are_stemmed(void)
{
    const char *phrase[] = {A002}, *words[] = {A001, A002, A003};
    ndx_index *ix;

    if (!(ix = open_corpus()))
        return;
    expect_articles(ix, "\"security guarantee\"", phrase, 1);
    expect_articles(ix, "security guarantee", words, 3);
    expect_articles(ix, "\"security guarantees\"", words, 3);
    ndx_index_close(ix);
}

static void
test_xapian_filters_by_source_and_date_without_changing_scores(void)
{
    const char *newsweek[] = {A000};
    const char *april[] = {A000, A003, A004};
    const char *usa[] = {"USA TODAY"};
    ndx_search_opts o;
    ndx_index *ix;
    ndx_results *all, *r;
    size_t i, j;

    if (!(ix = open_corpus()))
        return;
    all = search(ix, "ceasefire", NULL);
    {
        const char *ids[] = {A000, A002, A003, A004};
        CU_ASSERT(same_articles(all, ids, 4));
    }
    r = search(ix, "ceasefire source:newsweek", NULL);
    CU_ASSERT(same_articles(r, newsweek, 1));
    for (j = 0; j < all->count; j++)
        if (strcmp(all->hits[j].article, A000) == 0) {
            CU_ASSERT_EQUAL(r->hits[0].passage, all->hits[j].passage);
            CU_ASSERT_DOUBLE_EQUAL(r->hits[0].score, all->hits[j].score,
                                   1e-12);
        }
    CU_ASSERT_STRING_EQUAL(r->hits[0].source, "Newsweek");
    ndx_results_free(r);

    r = search(ix, "ceasefire date:2025-04", NULL);
    CU_ASSERT(same_articles(r, april, 3));
    for (i = 0; i < r->count; i++)
        for (j = 0; j < all->count; j++)
            if (strcmp(all->hits[j].article, r->hits[i].article) == 0)
                CU_ASSERT_DOUBLE_EQUAL(r->hits[i].score, all->hits[j].score,
                                       1e-12);
    ndx_results_free(r);

    /* Options filters combine with the query's (AND). */
    ndx_search_opts_init(&o);
    o.sources = usa;
    o.source_count = 1;
    r = search(ix, "ceasefire", &o);
    {
        const char *ids[] = {A002};
        CU_ASSERT(same_articles(r, ids, 1));
    }
    ndx_results_free(r);
    o.from_days = ndx_date_from_ymd(2025, 4, 10);
    r = search(ix, "ceasefire", &o); /* 002 is from February */
    CU_ASSERT_EQUAL(r->count, 0);
    CU_ASSERT_EQUAL(r->total, 0);
    ndx_results_free(r);
    /* Options 04-10..04-20 and after:04-01 leave 04-10..04-20: 003
     * (04-18); 000 (04-04) and 004 (04-29) fall outside. */
    o.source_count = 0;
    o.to_days = ndx_date_from_ymd(2025, 4, 20);
    r = search(ix, "ceasefire after:2025-04-01", &o);
    {
        const char *ids[] = {A003};
        CU_ASSERT(same_articles(r, ids, 1));
    }
    ndx_results_free(r);
    r = search(ix, "source:\"usa today\"", NULL); /* filter only */
    {
        const char *ids[] = {A002};
        CU_ASSERT(same_articles(r, ids, 1));
        CU_ASSERT_DOUBLE_EQUAL(r->hits[0].score, 0.0, 0);
        CU_ASSERT_EQUAL(r->hits[0].passage, 0);
    }
    ndx_results_free(r);
    ndx_results_free(all);
    ndx_index_close(ix);
}

static void
test_xapian_sorts_newest_and_oldest_by_manifest_date(void)
{
    /* Every article mentions Ukraine; manifest dates: 001 2025-11-27,
     * 004 04-29, 003 04-18, 000 04-04, 002 02-18. */
    const char *newest[] = {A001, A004, A003, A000, A002};
    ndx_search_opts o;
    ndx_index *ix;
    ndx_results *r;
    size_t i;

    if (!(ix = open_corpus()))
        return;
    ndx_search_opts_init(&o);
    o.sort = NDX_SORT_NEWEST;
    r = search(ix, "ukraine", &o);
    CU_ASSERT_EQUAL_FATAL(r->count, 5);
    for (i = 0; i < 5; i++)
        CU_ASSERT_STRING_EQUAL(r->hits[i].article, newest[i]);
    CU_ASSERT_EQUAL(r->hits[0].date_days, ndx_date_from_ymd(2025, 11, 27));
    ndx_results_free(r);
    o.sort = NDX_SORT_OLDEST;
    r = search(ix, "ukraine", &o);
    CU_ASSERT_EQUAL_FATAL(r->count, 5);
    for (i = 0; i < 5; i++)
        CU_ASSERT_STRING_EQUAL(r->hits[i].article, newest[4 - i]);
    ndx_results_free(r);
    /* Relevance: scores never increase down the list. */
    r = search(ix, "ukraine", NULL);
    for (i = 1; i < r->count; i++)
        CU_ASSERT(r->hits[i].score <= r->hits[i - 1].score);
    ndx_results_free(r);
    ndx_index_close(ix);
}

/* ---- independent term counts ------------------------------------------ */

typedef struct counted {
    char id[64];
    uint32_t passage;
    uint32_t len;   /* sum of wdf */
    uint32_t wdf;   /* of the counted term */
} counted;

typedef struct counts {
    counted *p;
    size_t n, cap;
    uint64_t total_len;
} counts;

/* What count_passages counts: the term, and where. */
typedef struct count_job {
    const char *term;
    counts *c;
    ndx_termset ts;
} count_job;

/* Records the length of each passage of an article and the wdf of the
 * job's term in it (t_each_article's callback). */
static int
count_passages(void *ctx, ndx_analyzer *an, const ndx_article *a,
               const ndx_passages *ps)
{
    count_job *j = ctx;
    counts *c = j->c;
    size_t i, t;

    for (i = 0; i < ps->count; i++) {
        const char *title = i == 0 && a->title[0] ? a->title : NULL;
        counted *x;

        if (ndx_termset_build(&j->ts, an, title, title ? strlen(title) : 0,
                              a->text + ps->items[i].off, ps->items[i].len))
            return -1;
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 64;
            c->p = realloc(c->p, c->cap * sizeof *c->p);
        }
        x = &c->p[c->n++];
        snprintf(x->id, sizeof x->id, "%s", a->id);
        x->passage = (uint32_t)i;
        x->len = 0;
        x->wdf = 0;
        for (t = 0; t < j->ts.term_count; t++) {
            x->len += j->ts.terms[t].wdf;
            if (strcmp(j->ts.terms[t].term, j->term) == 0)
                x->wdf = j->ts.terms[t].wdf;
        }
        c->total_len += x->len;
    }
    return 0;
}

/*
 * Splits and analyzes the corpus as the front does (default split, title
 * on the first passage) and records, for each passage, its length and the
 * wdf of term.
 */
static int
count_corpus(const char *term, counts *c)
{
    const char *paths[] = {"corpus"};
    count_job j;
    int rc;

    memset(c, 0, sizeof *c);
    j.term = term;
    j.c = c;
    ndx_termset_init(&j.ts);
    rc = t_each_article(paths, 1, count_passages, &j);
    ndx_termset_free(&j.ts);
    return rc;
}

static void
test_xapian_bm25_score_equals_hand_computation(void)
{
    const char *dir;
    ndx_search_opts o;
    ndx_index *ix;
    ndx_results *r;
    ndx_stats st;
    counts c;
    size_t i, j, n = 0;
    double N, avlen, tw, termweight;

    if (!(dir = setup()))
        return;
    /* "ceasefire" stems to "ceasefir" (Porter2 drops the final e). */
    CU_ASSERT_EQUAL_FATAL(count_corpus("Zceasefir", &c), 0);
    for (i = 0; i < c.n; i++)
        n += c.p[i].wdf > 0;
    CU_ASSERT(n >= 4); /* four articles say it */
    N = (double)c.n;
    avlen = (double)c.total_len / N;

    ix = open_read(dir);
    memset(&st, 0, sizeof st);
    CU_ASSERT_EQUAL_FATAL(ndx_index_stats(ix, &st), NDX_OK);
    CU_ASSERT_EQUAL(st.passages, c.n);
    CU_ASSERT_EQUAL(st.tokens, c.total_len); /* doclength = termset length */
    ndx_stats_clear(&st);

    ndx_search_opts_init(&o);
    o.group = NDX_GROUP_PASSAGE;
    o.k = 1000;
    r = search(ix, "ceasefire", &o);
    CU_ASSERT_EQUAL(r->total, n);
    CU_ASSERT_EQUAL(r->count, n);
    /* Xapian 1.4 BM25Weight, k1 1.2, k3 1, b 0.75, min_normlen 0.5, wqf 1. */
    tw = (N - n + 0.5) / (n + 0.5);
    if (tw < 2)
        tw = tw * 0.5 + 1;
    termweight = log(tw) * (1.0 + 1) * 1 / (1.0 + 1) * (1.2 + 1);
    for (j = 0; j < r->count; j++) {
        const ndx_hit *h = &r->hits[j];
        for (i = 0; i < c.n; i++)
            if (strcmp(c.p[i].id, h->article) == 0 &&
                c.p[i].passage == h->passage)
                break;
        CU_ASSERT_FATAL(i < c.n);
        {
            double normlen = c.p[i].len / avlen;
            double wdf = c.p[i].wdf, want;
            if (normlen < 0.5)
                normlen = 0.5;
            want = termweight * wdf / (1.2 * (normlen * 0.75 + 0.25) + wdf);
            CU_ASSERT(wdf > 0);
            CU_ASSERT_DOUBLE_EQUAL(h->score, want, 1e-9);
        }
    }
    ndx_results_free(r);
    free(c.p);
    ndx_index_close(ix);
}

static void
test_xapian_groups_by_article_with_exact_match_counts(void)
{
    const char *dir;
    ndx_search_opts o;
    ndx_index *ix;
    ndx_results *by_art, *by_pass, *page;
    counts c;
    size_t i, j;

    if (!(dir = setup()))
        return;
    CU_ASSERT_EQUAL_FATAL(count_corpus("Zukrain", &c), 0);
    ix = open_read(dir);
    ndx_search_opts_init(&o);
    o.k = 1000;
    by_art = search(ix, "ukraine", &o);
    o.group = NDX_GROUP_PASSAGE;
    by_pass = search(ix, "ukraine", &o);
    CU_ASSERT_EQUAL(by_art->total, 5);
    for (i = 0, j = 0; i < c.n; i++)
        j += c.p[i].wdf > 0;
    CU_ASSERT_EQUAL(by_pass->total, j);
    CU_ASSERT_EQUAL(by_pass->count, j);
    for (i = 0; i < by_art->count; i++) {
        const ndx_hit *h = &by_art->hits[i];
        uint32_t want = 0, k;
        double best = 0;
        for (j = 0; j < c.n; j++)
            want += strcmp(c.p[j].id, h->article) == 0 && c.p[j].wdf > 0;
        CU_ASSERT_EQUAL(h->matches, want);
        /* The article's hit is its best passage. */
        for (k = 0; k < by_pass->count; k++)
            if (strcmp(by_pass->hits[k].article, h->article) == 0 &&
                by_pass->hits[k].score > best)
                best = by_pass->hits[k].score;
        CU_ASSERT_DOUBLE_EQUAL(h->score, best, 0);
    }
    /* Paging: offset 2, k 2 gives the third and fourth articles. */
    o.group = NDX_GROUP_ARTICLE;
    o.offset = 2;
    o.k = 2;
    page = search(ix, "ukraine", &o);
    CU_ASSERT_EQUAL(page->total, 5);
    CU_ASSERT_EQUAL_FATAL(page->count, 2);
    CU_ASSERT_STRING_EQUAL(page->hits[0].article, by_art->hits[2].article);
    CU_ASSERT_STRING_EQUAL(page->hits[1].article, by_art->hits[3].article);
    ndx_results_free(page);
    ndx_results_free(by_art);
    ndx_results_free(by_pass);
    free(c.p);
    ndx_index_close(ix);
}

static void
test_xapian_get_returns_the_whole_article(void)
{
    ndx_index *ix;
    ndx_doc *d = NULL;
    size_t i, len = 0;

    if (!(ix = open_corpus()))
        return;
    CU_ASSERT_EQUAL_FATAL(ndx_index_get(ix, A002, &d), NDX_OK);
    CU_ASSERT_STRING_EQUAL(d->id, A002);
    CU_ASSERT_STRING_EQUAL(d->source, "USA TODAY");
    CU_ASSERT_STRING_EQUAL(d->title, "In meeting with US, Russia said NATO "
                                     "must disavow promise to Ukraine");
    CU_ASSERT_EQUAL(d->date_days, ndx_date_from_ymd(2025, 2, 18));
    CU_ASSERT(d->passage_count >= 2);
    for (i = 0; i < d->passage_count; i++)
        len += strlen(d->passages[i]);
    CU_ASSERT(len > 3000); /* most of the 5.5 kB file */
    {
        int found = 0;
        for (i = 0; i < d->passage_count; i++)
            found |= strstr(d->passages[i], "security guarantee ") != NULL ||
                     strstr(d->passages[i], "security guarantee,") != NULL ||
                     strstr(d->passages[i], "security guarantee.") != NULL;
        CU_ASSERT(found);
    }
    ndx_doc_free(d);
    d = NULL;
    CU_ASSERT_EQUAL(ndx_index_get(ix, "no-such-article", &d), NDX_ENOTFOUND);
    CU_ASSERT_PTR_NULL(d);
    ndx_index_close(ix);
}

static void
test_xapian_stats_count_articles_sources_and_dates(void)
{
    ndx_index *ix;
    ndx_stats st;

    if (!(ix = open_corpus()))
        return;
    memset(&st, 0, sizeof st);
    CU_ASSERT_EQUAL_FATAL(ndx_index_stats(ix, &st), NDX_OK);
    CU_ASSERT_STRING_EQUAL(st.engine, "xapian");
    CU_ASSERT_EQUAL(st.generation, 1);
    CU_ASSERT_EQUAL(st.articles, 5);
    CU_ASSERT(st.passages >= 10);
    CU_ASSERT(st.terms > 500);
    CU_ASSERT_EQUAL(st.first_days, ndx_date_from_ymd(2025, 2, 18));
    CU_ASSERT_EQUAL(st.last_days, ndx_date_from_ymd(2025, 11, 27));
    CU_ASSERT_EQUAL(st.undated, 0);
    CU_ASSERT_EQUAL(st.segments, 1);
    CU_ASSERT(st.bytes_postings > 0 && st.bytes_text > 0);
    /* manifest: unknown twice, then one each, by name. */
    CU_ASSERT_EQUAL_FATAL(st.source_count, 4);
    CU_ASSERT_STRING_EQUAL(st.sources[0].name, "unknown");
    CU_ASSERT_EQUAL(st.sources[0].count, 2);
    CU_ASSERT_STRING_EQUAL(st.sources[1].name, "Newslooks");
    CU_ASSERT_STRING_EQUAL(st.sources[2].name, "Newsweek");
    CU_ASSERT_STRING_EQUAL(st.sources[3].name, "USA TODAY");
    CU_ASSERT_EQUAL(st.sources[3].count, 1);
    ndx_stats_clear(&st);
    ndx_index_close(ix);
}

/* Writes one small JSON Lines article into dir/name. */
static void
write_article(const char *dir, const char *name, const char *id,
              const char *text)
{
    char path[600], line[1024];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(line, sizeof line,
             "{\"id\":\"%s\",\"source\":\"Test Wire\",\"date\":\"2024-01-02\","
             "\"title\":\"Zebra crossing\",\"url\":\"\",\"text\":\"%s\"}\n",
             id, text);
    CU_ASSERT_EQUAL_FATAL(t_write(path, line, strlen(line)), 0);
}

static void
test_xapian_readding_an_id_replaces_the_article(void)
{
    char dir[512], src[512];
    const char *paths[] = {"corpus"}, *more[1];
    ndx_index *ix;
    ndx_results *r;
    ndx_stats st;

    if (!have_xapian())
        return;
    snprintf(dir, sizeof dir, "%s/idx", t_tmpdir());
    CU_ASSERT_EQUAL_FATAL(index_dir(dir, paths, 1, 0, 1), NDX_OK);
    snprintf(src, sizeof src, "%s", t_tmpdir());
    write_article(src, "a.jsonl", A000,
                  "A zebra crossed the road in a quiet town on Tuesday, and "
                  "the drivers waited while the zebra walked slowly across "
                  "the wide road near the old market square.");
    more[0] = src;
    CU_ASSERT_EQUAL_FATAL(index_dir(dir, more, 1, NDX_OPEN_ADD, 1), NDX_OK);

    ix = open_read(dir);
    r = search(ix, "zebra", NULL);
    CU_ASSERT_EQUAL_FATAL(r->count, 1);
    CU_ASSERT_STRING_EQUAL(r->hits[0].article, A000);
    CU_ASSERT_STRING_EQUAL(r->hits[0].source, "Test Wire");
    CU_ASSERT_STRING_EQUAL(r->hits[0].title, "Zebra crossing");
    ndx_results_free(r);
    r = search(ix, "\"nothing about Ukraine without Ukraine\"", NULL);
    CU_ASSERT_EQUAL(r->count, 0);
    CU_ASSERT_EQUAL(r->total, 0);
    ndx_results_free(r);
    memset(&st, 0, sizeof st);
    CU_ASSERT_EQUAL(ndx_index_stats(ix, &st), NDX_OK);
    CU_ASSERT_EQUAL(st.articles, 5);
    CU_ASSERT_EQUAL(st.generation, 2);
    ndx_stats_clear(&st);
    ndx_index_close(ix);
}

static void
test_xapian_writer_without_add_replaces_content_at_commit(void)
{
    char dir[512], src[512];
    const char *paths[] = {"corpus"}, *more[1];
    ndx_engine_config cfg;
    ndx_index *reader, *w = NULL;

    if (!have_xapian())
        return;
    snprintf(dir, sizeof dir, "%s/idx", t_tmpdir());
    CU_ASSERT_EQUAL_FATAL(index_dir(dir, paths, 1, 0, 1), NDX_OK);
    snprintf(src, sizeof src, "%s", t_tmpdir());
    write_article(src, "a.jsonl", "z1",
                  "A zebra crossed the road in a quiet town on Tuesday, and "
                  "the drivers waited while the zebra walked slowly across "
                  "the wide road near the old market square.");
    more[0] = src;
    reader = open_read(dir);

    ndx_engine_config_init(&cfg);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&w, dir, NDX_OPEN_WRITE, "xapian",
                                         &cfg), NDX_OK);
    CU_ASSERT_EQUAL(t_add_corpus(w, more, 1, NULL), NDX_OK);

    /* Before the commit a reader still sees the five articles. */
    CU_ASSERT_EQUAL(ndx_index_refresh(reader), 0);
    CU_ASSERT_EQUAL(total_of(reader, "ukraine"), 5);

    CU_ASSERT_EQUAL(ndx_index_commit(w), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_refresh(reader), 1);
    CU_ASSERT_EQUAL(total_of(reader, "ukraine"), 0);
    CU_ASSERT_EQUAL(total_of(reader, "zebra"), 1);
    ndx_index_close(w);
    ndx_index_close(reader);
}

static void
test_xapian_uncommitted_adds_are_lost_on_close(void)
{
    char dir[512], src[512];
    const char *paths[] = {"corpus"};
    ndx_engine_config cfg;
    ndx_index *w = NULL, *ix;
    const char *more[1];

    if (!have_xapian())
        return;
    snprintf(dir, sizeof dir, "%s/idx", t_tmpdir());
    CU_ASSERT_EQUAL_FATAL(index_dir(dir, paths, 1, 0, 1), NDX_OK);
    snprintf(src, sizeof src, "%s", t_tmpdir());
    write_article(src, "a.jsonl", "z1", "A zebra crossed the road.");
    more[0] = src;
    ndx_engine_config_init(&cfg);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&w, dir, NDX_OPEN_WRITE |
                                         NDX_OPEN_ADD, "xapian", &cfg),
                          NDX_OK);
    CU_ASSERT_EQUAL(t_add_corpus(w, more, 1, NULL), NDX_OK);
    ndx_index_close(w); /* no commit */
    ix = open_read(dir);
    CU_ASSERT_EQUAL(total_of(ix, "zebra"), 0);
    CU_ASSERT_EQUAL(total_of(ix, "ukraine"), 5);
    ndx_index_close(ix);
}

static void
test_xapian_second_writer_is_locked_out(void)
{
    char dir[512];
    ndx_engine_config cfg;
    ndx_index *w1 = NULL, *w2 = NULL;

    if (!have_xapian())
        return;
    snprintf(dir, sizeof dir, "%s/idx", t_tmpdir());
    ndx_engine_config_init(&cfg);
    cfg.shards = 2;
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&w1, dir, NDX_OPEN_WRITE, "xapian",
                                         &cfg), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_open(&w2, dir, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "xapian", &cfg), NDX_ELOCKED);
    CU_ASSERT_PTR_NULL(w2);
    CU_ASSERT(strstr(ndx_errmsg(), "shard-000") != NULL);
    ndx_index_close(w1);
    /* Once the first writer is gone, a second one gets in. */
    CU_ASSERT_EQUAL(ndx_index_open(&w2, dir, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "xapian", &cfg), NDX_OK);
    ndx_index_close(w2);
}

static void
test_xapian_missing_or_foreign_index_is_not_found(void)
{
    char dir[512], path[600];
    ndx_index *ix = NULL;

    if (!have_xapian())
        return;
    snprintf(dir, sizeof dir, "%s/nothing-here", t_tmpdir());
    CU_ASSERT_EQUAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, "xapian", NULL),
                    NDX_ENOTFOUND);
    CU_ASSERT_PTR_NULL(ix);
    CU_ASSERT(strstr(ndx_errmsg(), "nothing-here") != NULL);
    /* A directory with other files is not a xapian index either, and a
     * writer does not take it over. */
    snprintf(dir, sizeof dir, "%s", t_tmpdir());
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    CU_ASSERT_EQUAL_FATAL(t_write(path, "hello\n", 6), 0);
    CU_ASSERT_EQUAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, "xapian", NULL),
                    NDX_ENOTFOUND);
    CU_ASSERT_EQUAL(ndx_index_open(&ix, dir, NDX_OPEN_WRITE, "xapian", NULL),
                    NDX_EINVAL);
    CU_ASSERT_PTR_NULL(ix);
    /* The database gone from under ENGINE. */
    snprintf(path, sizeof path, "%s/ENGINE", dir);
    CU_ASSERT_EQUAL_FATAL(t_write(path, "xapian\nshards 1\n", 16), 0);
    CU_ASSERT_EQUAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, "xapian", NULL),
                    NDX_ENOTFOUND);
}

static void
test_xapian_check_finds_a_damaged_table(void)
{
    char dir[512], path[600];
    const char *paths[] = {"corpus"};
    size_t len;
    char *data;

    if (!have_xapian())
        return;
    snprintf(dir, sizeof dir, "%s/idx", t_tmpdir());
    CU_ASSERT_EQUAL_FATAL(index_dir(dir, paths, 1, 0, 1), NDX_OK);
    CU_ASSERT_EQUAL(ndx_index_check(dir), NDX_OK);
    /* Overwrite the header of every block of the postlist table (glass
     * blocks are 8 kB), so the root block is damaged whatever it is. */
    snprintf(path, sizeof path, "%s/db/postlist.glass", dir);
    data = t_slurp(path, &len);
    CU_ASSERT_FATAL(data != NULL && len >= 8192);
    for (size_t off = 0; off + 8192 <= len; off += 8192)
        memset(data + off, 0x5a, 12);
    CU_ASSERT_EQUAL_FATAL(t_write(path, data, len), 0);
    free(data);
    CU_ASSERT_EQUAL(ndx_index_check(dir), NDX_ECORRUPT);
    CU_ASSERT(strstr(ndx_errmsg(), "db") != NULL);
}

static void
test_xapian_threaded_indexing_builds_the_same_index(void)
{
    const char *dir, *paths[] = {"corpus"};
    const char *qs[] = {"ukraine", "\"security guarantee\"",
                        "ceasefire OR talks", "negot*", "title:rubio"};
    char tdir[512];
    ndx_search_opts o;
    ndx_index *one, *many;
    size_t q, i;

    if (!(dir = setup()))
        return;
    /* Analysis in worker threads hands ready term sets to the engine. */
    snprintf(tdir, sizeof tdir, "%s/threads", t_tmpdir());
    CU_ASSERT_EQUAL_FATAL(index_dir_threads(tdir, paths, 1, 0, 1, 3), NDX_OK);
    one = open_read(dir);
    many = open_read(tdir);
    ndx_search_opts_init(&o);
    o.group = NDX_GROUP_PASSAGE;
    o.k = 50;
    for (q = 0; q < sizeof qs / sizeof qs[0]; q++) {
        ndx_results *a = search(one, qs[q], &o), *b = search(many, qs[q], &o);
        CU_ASSERT(a->count > 0);
        CU_ASSERT_EQUAL(a->total, b->total);
        CU_ASSERT_EQUAL_FATAL(a->count, b->count);
        for (i = 0; i < a->count; i++) {
            CU_ASSERT_STRING_EQUAL(a->hits[i].article, b->hits[i].article);
            CU_ASSERT_EQUAL(a->hits[i].passage, b->hits[i].passage);
            CU_ASSERT_DOUBLE_EQUAL(a->hits[i].score, b->hits[i].score, 0);
            CU_ASSERT_STRING_EQUAL(a->hits[i].title, b->hits[i].title);
        }
        ndx_results_free(a);
        ndx_results_free(b);
    }
    ndx_index_close(one);
    ndx_index_close(many);
}

static void
test_xapian_title_field_and_time_budget(void)
{
    ndx_search_opts o;
    ndx_index *ix;
    ndx_results *r = NULL;
    size_t i;
    int has003 = 0, has004 = 0;

    if (!(ix = open_corpus()))
        return;
    /* Rubio is in the titles of 003 and 004, not in 002's, though 002's
     * text names him. */
    r = search(ix, "title:rubio", NULL);
    for (i = 0; i < r->count; i++) {
        has003 |= strcmp(r->hits[i].article, A003) == 0;
        has004 |= strcmp(r->hits[i].article, A004) == 0;
        CU_ASSERT_STRING_NOT_EQUAL(r->hits[i].article, A002);
        CU_ASSERT_EQUAL(r->hits[i].passage, 0); /* titles go to passage 0 */
    }
    CU_ASSERT(has003 && has004);
    ndx_results_free(r);
    r = search(ix, "rubio", NULL);
    for (i = 0, has003 = 0; i < r->count; i++)
        has003 |= strcmp(r->hits[i].article, A002) == 0;
    CU_ASSERT(has003);
    ndx_results_free(r);

    /* A budget no search can meet. */
    ndx_search_opts_init(&o);
    o.budget_ms = 1e-6;
    r = NULL;
    CU_ASSERT_EQUAL(ndx_index_search(ix, "ukraine", &o, &r, NULL),
                    NDX_ETIMEOUT);
    CU_ASSERT_PTR_NULL(r);
    o.budget_ms = 60000;
    r = search(ix, "ukraine", &o);
    CU_ASSERT_EQUAL(r->total, 5);
    ndx_results_free(r);
    ndx_index_close(ix);
}

CU_TestInfo xapian_tests[] = {
    {"test_xapian_phrase_nothing_about_ukraine_only_in_000",
     test_xapian_phrase_nothing_about_ukraine_only_in_000},
    {"test_xapian_phrase_is_unstemmed_words_are_stemmed",
     test_xapian_phrase_is_unstemmed_words_are_stemmed},
    {"test_xapian_filters_by_source_and_date_without_changing_scores",
     test_xapian_filters_by_source_and_date_without_changing_scores},
    {"test_xapian_sorts_newest_and_oldest_by_manifest_date",
     test_xapian_sorts_newest_and_oldest_by_manifest_date},
    {"test_xapian_bm25_score_equals_hand_computation",
     test_xapian_bm25_score_equals_hand_computation},
    {"test_xapian_groups_by_article_with_exact_match_counts",
     test_xapian_groups_by_article_with_exact_match_counts},
    {"test_xapian_get_returns_the_whole_article",
     test_xapian_get_returns_the_whole_article},
    {"test_xapian_stats_count_articles_sources_and_dates",
     test_xapian_stats_count_articles_sources_and_dates},
    {"test_xapian_readding_an_id_replaces_the_article",
     test_xapian_readding_an_id_replaces_the_article},
    {"test_xapian_writer_without_add_replaces_content_at_commit",
     test_xapian_writer_without_add_replaces_content_at_commit},
    {"test_xapian_uncommitted_adds_are_lost_on_close",
     test_xapian_uncommitted_adds_are_lost_on_close},
    {"test_xapian_second_writer_is_locked_out",
     test_xapian_second_writer_is_locked_out},
    {"test_xapian_missing_or_foreign_index_is_not_found",
     test_xapian_missing_or_foreign_index_is_not_found},
    {"test_xapian_check_finds_a_damaged_table",
     test_xapian_check_finds_a_damaged_table},
    {"test_xapian_threaded_indexing_builds_the_same_index",
     test_xapian_threaded_indexing_builds_the_same_index},
    {"test_xapian_title_field_and_time_budget",
     test_xapian_title_field_and_time_budget},
    CU_TEST_INFO_NULL,
};
