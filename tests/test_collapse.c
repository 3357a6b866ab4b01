/*
 * test_collapse.c - same-title collapsing at search time: the hits of one
 * source with one title (folded: case, spaces, punctuation aside) show
 * once, the first carrying the others in same_title; pages cut from the
 * collapsed listing; sorting, filters, passage grouping, the off switch,
 * both engines, and the command line's JSON and text.
 *
 * Fixture (tests/fixtures/collapse/titles.jsonl), all about grain:
 *   Harbor Wire's weekly "Grain shipments report", three different
 *   articles: hw-1 (2024-03-01), hw-2 (03-08, "GRAIN SHIPMENTS REPORT"),
 *   hw-3 (03-15, "Grain shipments: report");
 *   a strike story and its update, all 2024-03-04: hw-4 "Port strike
 *   halts grain loading", hw-6 "PORT STRIKE HALTS GRAIN  LOADING." (the
 *   story twice as long), and hw-5, the same story under a longer title
 *   "... loading; mediator called" (another title: not collapsed);
 *   Coast Daily's cd-1 "Grain shipments report" (another source);
 *   hw-7 and hw-8 without a title (never collapsed); hw-9 its own title.
 * Every article holds "grain"; none is a near-copy of another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/newsdex.h"
#include "newsdex/sys/engine.h"
#include "support.h"

#define FIX "tests/fixtures/collapse/titles.jsonl"
#define ARTICLES 10

/* The fixture's articles by id: date and title group (0: alone). */
static const struct {
    const char *id;
    const char *date;
    int group;
} fixture[ARTICLES] = {
    {"hw-1", "2024-03-01", 1}, {"hw-2", "2024-03-08", 1},
    {"hw-3", "2024-03-15", 1}, {"hw-4", "2024-03-04", 2},
    {"hw-5", "2024-03-04", 0}, {"hw-6", "2024-03-04", 2},
    {"cd-1", "2024-03-08", 0}, {"hw-7", "2024-03-10", 0},
    {"hw-8", "2024-03-11", 0}, {"hw-9", "2024-03-12", 0},
};

static int
fixture_at(const char *id)
{
    int i;

    for (i = 0; i < ARTICLES; i++)
        if (strcmp(fixture[i].id, id) == 0)
            return i;
    return -1;
}

/* The fixture indexed with engine, once per engine for the suite. */
static const char *
fixture_index(const char *engine)
{
    static char dirs[2][512];
    const char *paths[1] = {FIX};
    int x = strcmp(engine, "xapian") == 0;

    if (!dirs[x][0]) {
        snprintf(dirs[x], sizeof dirs[x], "%s/%s", t_tmpdir(), engine);
        if (t_index_paths(dirs[x], engine, NULL, 0, paths, 1) != NDX_OK) {
            printf("\n  indexing %s with %s: %s", FIX, engine, ndx_errmsg());
            dirs[x][0] = '\0';
            return NULL;
        }
    }
    return dirs[x];
}

static ndx_results *
run(ndx_index *ix, const char *q, const ndx_search_opts *o)
{
    ndx_results *r = NULL;

    if (ndx_index_search(ix, q, o, &r, NULL) != NDX_OK) {
        printf("\n  search %s: %s", q, ndx_errmsg());
        return NULL;
    }
    return r;
}

static ndx_index *
open_fixture(const char *engine)
{
    const char *dir = fixture_index(engine);
    ndx_index *ix = NULL;

    if (!dir || ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL))
        return NULL;
    return ix;
}

/* The engines to run: native, and xapian when built in. */
static size_t
engines(const char **out)
{
    size_t n = 0;

    out[n++] = "native";
    if (ndx_xapian_engine())
        out[n++] = "xapian";
    else
        t_skip("built without Xapian: same-title collapsing checked on "
               "the native engine only");
    return n;
}

/*
 * What the collapsed listing must be, derived from the uncollapsed one
 * (all): its hits in order, less those whose fixture group an earlier hit
 * holds; each kept hit lists the later ones of its group, in order, with
 * their fixture dates.
 */
static void
check_collapsed(const ndx_results *all, const ndx_results *col)
{
    size_t i, j, n = 0, listed;

    CU_ASSERT_EQUAL(col->total, all->total);
    for (i = 0; i < all->count; i++) {
        int f = fixture_at(all->hits[i].article), dup = 0;
        const ndx_hit *h;

        CU_ASSERT_FATAL(f >= 0);
        CU_ASSERT_EQUAL(all->hits[i].same_title_count, 0);
        for (j = 0; j < i && fixture[f].group; j++)
            dup |= fixture[fixture_at(all->hits[j].article)].group ==
                   fixture[f].group;
        if (dup)
            continue;
        CU_ASSERT_FATAL(n < col->count);
        h = &col->hits[n++];
        CU_ASSERT_STRING_EQUAL(h->article, all->hits[i].article);
        listed = 0;
        for (j = i + 1; j < all->count; j++) {
            int g = fixture_at(all->hits[j].article);
            char d[11];

            if (!fixture[f].group || fixture[g].group != fixture[f].group)
                continue;
            CU_ASSERT_FATAL(listed < h->same_title_count);
            CU_ASSERT_STRING_EQUAL(h->same_title[listed].article,
                                   fixture[g].id);
            ndx_date_format(h->same_title[listed].date_days, d);
            CU_ASSERT_STRING_EQUAL(d, fixture[g].date);
            listed++;
        }
        CU_ASSERT_EQUAL(h->same_title_count, listed);
    }
    CU_ASSERT_EQUAL(col->count, n);
}

static void
test_collapse_same_title_hits_show_once(void)
{
    const char *eng[2];
    size_t ne = engines(eng), e;

    for (e = 0; e < ne; e++) {
        ndx_index *ix = open_fixture(eng[e]);
        ndx_results *all, *col;
        ndx_search_opts o;
        size_t i;

        CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
        ndx_search_opts_init(&o);
        o.k = 20;
        o.collapse_titles = 0;
        all = run(ix, "grain", &o);
        o.collapse_titles = 1;
        col = run(ix, "grain", &o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(all);
        CU_ASSERT_PTR_NOT_NULL_FATAL(col);
        /* Off: every article, none listing others. */
        CU_ASSERT_EQUAL(all->count, ARTICLES);
        CU_ASSERT_EQUAL(all->total, ARTICLES);
        /* On: the weekly reports once (two more listed), the strike story
         * and its update once (one more), the rest as they are. */
        CU_ASSERT_EQUAL(col->count, ARTICLES - 3);
        check_collapsed(all, col);
        for (i = 0; i < col->count; i++) {
            int f = fixture_at(col->hits[i].article);

            CU_ASSERT_EQUAL(col->hits[i].same_title_count,
                            f >= 0 && fixture[f].group == 1   ? 2u
                            : f >= 0 && fixture[f].group == 2 ? 1u
                                                              : 0u);
            /* Every hit of the page has its text and snippet. */
            CU_ASSERT_PTR_NOT_NULL(col->hits[i].text);
            CU_ASSERT_PTR_NOT_NULL(col->hits[i].snippet);
        }
        ndx_results_free(all);
        ndx_results_free(col);
        ndx_index_close(ix);
    }
}

/* Pages of k (1..3) from offset 0 on are the k=20 listing cut up: no hit
 * twice, none left out, each with its text and its matching passages
 * counted.  A page's lists hold the same-title hits among
 * the matches the search looked at, at least (offset + k) + 2 of the
 * listing: a prefix of the full listing's list, all of it once the search
 * looks at all ten matches (offset + k >= 8). */
static void
test_collapse_pages_cut_the_collapsed_listing(void)
{
    static const ndx_sort sorts[] = {NDX_SORT_RELEVANCE, NDX_SORT_NEWEST,
                                     NDX_SORT_OLDEST};
    const char *eng[2];
    size_t ne = engines(eng), e, s, k;

    for (e = 0; e < ne; e++) {
        ndx_index *ix = open_fixture(eng[e]);

        CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
        for (s = 0; s < 3; s++) {
            ndx_search_opts o;
            ndx_results *full;

            ndx_search_opts_init(&o);
            o.sort = sorts[s];
            o.k = 20;
            full = run(ix, "grain", &o);
            CU_ASSERT_PTR_NOT_NULL_FATAL(full);
            CU_ASSERT_EQUAL(full->count, ARTICLES - 3);
            for (k = 1; k <= 3; k++) {
                size_t at = 0, i, j;

                o.k = k;
                o.facets = NDX_FACET_SOURCE;
                for (o.offset = 0; o.offset <= full->count; o.offset += k) {
                    ndx_results *p = run(ix, "grain", &o);

                    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
                    CU_ASSERT_EQUAL(p->total, ARTICLES);
                    /* Facets count every match, collapsed or not: nine
                     * Harbor Wire articles, one of Coast Daily. */
                    CU_ASSERT_EQUAL_FATAL(p->facet_count, 1);
                    CU_ASSERT_EQUAL_FATAL(p->facets[0].count, 2);
                    CU_ASSERT_STRING_EQUAL(p->facets[0].buckets[0].value,
                                           "Harbor Wire");
                    CU_ASSERT_EQUAL(p->facets[0].buckets[0].count, 9);
                    CU_ASSERT_EQUAL(p->facets[0].buckets[1].count, 1);
                    for (i = 0; i < p->count; i++, at++) {
                        const ndx_hit *a = &p->hits[i], *b;

                        CU_ASSERT_FATAL(at < full->count);
                        b = &full->hits[at];
                        CU_ASSERT_STRING_EQUAL(a->article, b->article);
                        /* A page asked again past the collapsing (the
                         * engine prunes from the first match then) has
                         * every hit's text, snippet and matches. */
                        CU_ASSERT_PTR_NOT_NULL(a->text);
                        CU_ASSERT_PTR_NOT_NULL(a->snippet);
                        CU_ASSERT_EQUAL(a->matches, b->matches);
                        CU_ASSERT_FATAL(a->same_title_count <=
                                        b->same_title_count);
                        if (o.offset + k >= 8)
                            CU_ASSERT_EQUAL(a->same_title_count,
                                            b->same_title_count);
                        for (j = 0; j < a->same_title_count; j++)
                            CU_ASSERT_STRING_EQUAL(a->same_title[j].article,
                                                   b->same_title[j].article);
                    }
                    ndx_results_free(p);
                }
                CU_ASSERT_EQUAL(at, full->count);
            }
            ndx_results_free(full);
        }
        ndx_index_close(ix);
    }
}

/* "shipments" in the order o asks: Harbor Wire's reports as head with
 * the other two listed, then Coast Daily's (hw-1, hw-2, hw-3 and cd-1
 * say "shipments"; cd-1 is dated between hw-1 and hw-3). */
static void
check_reports(ndx_index *ix, const ndx_search_opts *o, const char *head,
              const char *second, const char *third)
{
    ndx_results *r = run(ix, "shipments", o);

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(r->count, 2);
    CU_ASSERT_STRING_EQUAL(r->hits[0].article, head);
    CU_ASSERT_EQUAL_FATAL(r->hits[0].same_title_count, 2);
    CU_ASSERT_STRING_EQUAL(r->hits[0].same_title[0].article, second);
    CU_ASSERT_STRING_EQUAL(r->hits[0].same_title[1].article, third);
    CU_ASSERT_STRING_EQUAL(r->hits[1].article, "cd-1");
    CU_ASSERT_EQUAL(r->hits[1].same_title_count, 0);
    ndx_results_free(r);
}

/* The hit a group shows as is the first in the listing's order: the
 * oldest report by date ascending, the newest by date descending, and
 * under a date filter only the matching reports count. */
static void
test_collapse_follows_sort_and_filters(void)
{
    const char *eng[2];
    size_t ne = engines(eng), e, i;

    for (e = 0; e < ne; e++) {
        ndx_index *ix = open_fixture(eng[e]);
        ndx_search_opts o;
        ndx_results *r;
        const char *src[1] = {"Coast Daily"};
        int seen;

        CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
        ndx_search_opts_init(&o);
        o.k = 20;
        o.sort = NDX_SORT_OLDEST;
        check_reports(ix, &o, "hw-1", "hw-2", "hw-3");
        o.sort = NDX_SORT_NEWEST;
        check_reports(ix, &o, "hw-3", "hw-2", "hw-1");

        /* From March 5: hw-1 is filtered out, hw-2 and hw-3 remain. */
        o.sort = NDX_SORT_RELEVANCE;
        CU_ASSERT_EQUAL(ndx_date_parse("2024-03-05", 10, &o.from_days, NULL),
                        NDX_OK);
        r = run(ix, "shipments", &o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(r->total, 3);
        CU_ASSERT_EQUAL_FATAL(r->count, 2);
        seen = 0;
        for (i = 0; i < r->count; i++) {
            const ndx_hit *h = &r->hits[i];

            if (strcmp(h->article, "cd-1") == 0) {
                CU_ASSERT_EQUAL(h->same_title_count, 0);
                continue;
            }
            seen++;
            CU_ASSERT(strcmp(h->article, "hw-2") == 0 ||
                      strcmp(h->article, "hw-3") == 0);
            CU_ASSERT_EQUAL_FATAL(h->same_title_count, 1);
            CU_ASSERT_STRING_EQUAL(h->same_title[0].article,
                                   strcmp(h->article, "hw-2") == 0 ? "hw-3"
                                                                   : "hw-2");
        }
        CU_ASSERT_EQUAL(seen, 1);
        ndx_results_free(r);

        /* A source filter: Coast Daily's report alone. */
        o.from_days = NDX_DATE_NONE;
        o.sources = src;
        o.source_count = 1;
        r = run(ix, "shipments", &o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL_FATAL(r->count, 1);
        CU_ASSERT_STRING_EQUAL(r->hits[0].article, "cd-1");
        CU_ASSERT_EQUAL(r->hits[0].same_title_count, 0);
        ndx_results_free(r);

        /* Grouped by passage nothing collapses: hw-6's three passages and
         * hw-5's two hold "grain", the others one each (13 in all). */
        o.sources = NULL;
        o.source_count = 0;
        o.group = NDX_GROUP_PASSAGE;
        r = run(ix, "grain", &o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(r->count, 13);
        for (i = 0; i < r->count; i++)
            CU_ASSERT_EQUAL(r->hits[i].same_title_count, 0);
        ndx_results_free(r);
        ndx_index_close(ix);
    }
}

/* Both engines collapse alike: the same hits and lists for each order. */
static void
test_collapse_engines_agree(void)
{
    static const char *const queries[] = {"grain", "shipments", "strike",
                                          "port OR silo", "harbour board"};
    ndx_index *nat, *xap;
    ndx_search_opts o;
    size_t q, s, i, j;

    if (t_without_xapian())
        return;
    nat = open_fixture("native");
    xap = open_fixture("xapian");
    CU_ASSERT_PTR_NOT_NULL_FATAL(nat);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xap);
    for (q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        for (s = 0; s < 3; s++) {
            ndx_results *a, *b;

            ndx_search_opts_init(&o);
            o.k = 4;
            o.offset = s == 2 ? 2 : 0;
            o.sort = s == 1 ? NDX_SORT_OLDEST : NDX_SORT_RELEVANCE;
            a = run(nat, queries[q], &o);
            b = run(xap, queries[q], &o);
            CU_ASSERT_PTR_NOT_NULL_FATAL(a);
            CU_ASSERT_PTR_NOT_NULL_FATAL(b);
            CU_ASSERT_EQUAL(a->total, b->total);
            CU_ASSERT_EQUAL_FATAL(a->count, b->count);
            for (i = 0; i < a->count; i++) {
                CU_ASSERT_STRING_EQUAL(a->hits[i].article,
                                       b->hits[i].article);
                CU_ASSERT_EQUAL_FATAL(a->hits[i].same_title_count,
                                      b->hits[i].same_title_count);
                for (j = 0; j < a->hits[i].same_title_count; j++)
                    CU_ASSERT_STRING_EQUAL(a->hits[i].same_title[j].article,
                                           b->hits[i].same_title[j].article);
            }
            ndx_results_free(a);
            ndx_results_free(b);
        }
    }
    ndx_index_close(nat);
    ndx_index_close(xap);
}

/* newsdex-search: "same_title" in --json, the "also N more" line in text,
 * and neither with --no-collapse-titles. */
static void
test_collapse_search_prints_the_list(void)
{
    const char *dir = fixture_index("native");
    char cmd[2048], *out = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    snprintf(cmd, sizeof cmd, "%s -i %s --json --sort oldest shipments",
             t_prog("newsdex-search"), dir);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_EQUAL(t_count(out, "\"article\":"), 4);
    CU_ASSERT_EQUAL(t_count(out, "\"same_title\":[{\"article\":\"hw-2\","
                                 "\"date\":\"2024-03-08\"},{\"article\":"
                                 "\"hw-3\",\"date\":\"2024-03-15\"}]"), 1);
    free(out);
    out = NULL;
    snprintf(cmd, sizeof cmd, "%s -i %s --sort oldest shipments",
             t_prog("newsdex-search"), dir);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_EQUAL(t_count(out, "also 2 more from Harbor Wire with this "
                                 "title: 2024-03-08, 2024-03-15\n"), 1);
    CU_ASSERT_EQUAL(t_count(out, "also "), 1);
    free(out);
    out = NULL;
    snprintf(cmd, sizeof cmd,
             "%s -i %s --json --no-collapse-titles --sort oldest shipments",
             t_prog("newsdex-search"), dir);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_EQUAL(t_count(out, "\"article\":"), 4);
    CU_ASSERT_EQUAL(t_count(out, "same_title"), 0);
    free(out);
}

/* ndx_search_opts.more: a native search that counted every match (the
 * ten "grain" articles) hands over the hits past the page, the next k at
 * a time with their text, while more answers 1: the same hits, in the
 * same order, as a page that long; a search that prunes, none. */
typedef struct more_calls {
    int calls, yes;  /* calls so far; answers 1 to the first yes */
} more_calls;

static int
more_answer(void *ctx, ndx_results *r)
{
    more_calls *m = ctx;

    (void)r;
    return m->calls++ < m->yes;
}

static void
test_collapse_engine_hands_over_more_hits(void)
{
    ndx_index *ix = open_fixture("native");
    ndx_results *all, *r;
    ndx_search_opts o;
    more_calls m;
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
    ndx_search_opts_init(&o);
    o.collapse_titles = 0;
    o.fold_clusters = 0;
    o.k = ARTICLES;
    all = run(ix, "grain", &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    CU_ASSERT_EQUAL_FATAL(all->count, ARTICLES);
    o.k = 3;
    o.text_hits = 1;
    o.more = more_answer;
    o.more_ctx = &m;
    memset(&m, 0, sizeof m);
    m.yes = 2;
    r = run(ix, "grain", &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* Asked after 3, 6 and 9 hits; the tenth is left. */
    CU_ASSERT_EQUAL(m.calls, 3);
    CU_ASSERT_EQUAL_FATAL(r->count, 9);
    CU_ASSERT_EQUAL(r->total, ARTICLES);
    CU_ASSERT(r->total_exact);
    for (i = 0; i < r->count; i++) {
        CU_ASSERT_STRING_EQUAL(r->hits[i].article, all->hits[i].article);
        CU_ASSERT_EQUAL(r->hits[i].score, all->hits[i].score);
        CU_ASSERT_EQUAL(r->hits[i].matches, all->hits[i].matches);
        CU_ASSERT_PTR_NOT_NULL(r->hits[i].text);
    }
    ndx_results_free(r);
    /* Answered 0 at once: the page alone, text as text_hits says. */
    memset(&m, 0, sizeof m);
    r = run(ix, "grain", &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(m.calls, 1);
    CU_ASSERT_EQUAL(r->count, 3);
    CU_ASSERT_PTR_NULL(r->hits[2].text);
    ndx_results_free(r);
    /* Pruning from the first match: nothing more to hand over. */
    memset(&m, 0, sizeof m);
    m.yes = 5;
    o.exact_upto = 0;
    r = run(ix, "grain", &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(m.calls, 0);
    CU_ASSERT_EQUAL(r->count, 3);
    ndx_results_free(r);
    ndx_results_free(all);
    ndx_index_close(ix);
}

/*
 * A page that few of the first hits survive: GROUPS titles of one source,
 * PER articles each, every article of group g holding "grain" 8 - g times
 * among 20 words (the rest its own words, so that no two are near-copies
 * and every article has the length of the others).  Searching "grain" for
 * a page of 5 from the first match pruning, 7 hits ranked by article would
 * all be of group 0, of which one survives collapsing.  The native engine
 * ranks by title (distinct_titles): one search finds the first 7 titles,
 * each with its other articles ranked above the 7th; the page is the first
 * hit of each of the first five groups, as in the uncollapsed listing,
 * each listing the other PER - 1 of its group.  An engine that ranks by
 * article (the search without distinct_titles, as the Xapian engine does)
 * asks again once, for as many as the share kept says the page needs
 * (with the old doubling it took four searches: 7, 14, 28 and 56 hits).
 */
#define GROUPS 8
#define PER 8

/* Writes that corpus to a new file, whose path it puts in path. */
static void
short_page_corpus(char *path, size_t cap)
{
    FILE *f;
    int g, a, w;

    snprintf(path, cap, "%s/short-page.jsonl", t_tmpdir());
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (g = 0; g < GROUPS; g++)
        for (a = 0; a < PER; a++) {
            fprintf(f, "{\"id\": \"g%d-%d\", \"source\": \"Wire\", "
                       "\"date\": \"2024-05-%02d\", \"title\": \"Report "
                       "number %d\", \"text\": \"",
                    g, a, 1 + a, g);
            for (w = 0; w < 20; w++) {
                if (w < 8 - g)
                    fprintf(f, "grain ");
                else
                    fprintf(f, "w%cq%cz%c ", 'a' + g, 'a' + a, 'a' + w);
            }
            fprintf(f, "\"}\n");
        }
    CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
}

/* The corpus at path indexed with engine into a new directory, opened. */
static ndx_index *
index_open(const char *engine, const char *path)
{
    char dir[512];
    const char *paths[1] = {path};
    ndx_index *ix = NULL;

    snprintf(dir, sizeof dir, "%s/%s", t_tmpdir(), engine);
    CU_ASSERT_EQUAL_FATAL(t_index_paths(dir, engine, NULL, 0, paths, 1),
                          NDX_OK);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL,
                                         NULL),
                          NDX_OK);
    return ix;
}

static void
test_collapse_short_page_asks_again_once(void)
{
    char path[600];
    ndx_index *ix = NULL;
    ndx_results *all, *r;
    ndx_search_opts o;
    int g, seen[GROUPS], n = 0;
    size_t i;

    short_page_corpus(path, sizeof path);
    ix = index_open("native", path);
    ndx_search_opts_init(&o);
    o.collapse_titles = 0;
    o.fold_clusters = 0;
    o.k = GROUPS * PER;
    all = run(ix, "grain", &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    CU_ASSERT_EQUAL_FATAL(all->count, GROUPS * PER);
    CU_ASSERT_EQUAL(all->searches, 1);
    /* Groups in order of score: every hit of group g before group g + 1. */
    for (i = 0; i < all->count; i++)
        CU_ASSERT_EQUAL(all->hits[i].article[1] - '0', (int)(i / PER));
    ndx_search_opts_init(&o);
    o.k = 5;
    o.exact_upto = 0;
    r = run(ix, "grain", &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->searches, 1);
    CU_ASSERT_EQUAL_FATAL(r->count, 5);
    memset(seen, 0, sizeof seen);
    for (i = 0; i < all->count && n < 5; i++) {
        g = all->hits[i].article[1] - '0';
        if (seen[g]++)
            continue;
        CU_ASSERT_STRING_EQUAL(r->hits[n].article, all->hits[i].article);
        CU_ASSERT_EQUAL(r->hits[n].same_title_count, PER - 1);
        n++;
    }
    ndx_results_free(r);
    ndx_results_free(all);
    ndx_index_close(ix);
}

/* The corpus of test_collapse_short_page_asks_again_once with the Xapian
 * engine, which ranks by article (it leaves distinct_titles aside): the
 * index front asks again once, and the page is the native engine's. */
static void
test_collapse_by_article_asks_again_once(void)
{
    char path[600];
    ndx_index *ix = NULL, *xx = NULL;
    ndx_results *r, *ref;
    ndx_search_opts o;
    size_t i;

    if (!ndx_xapian_engine()) {
        t_skip("built without Xapian: a search ranked by article asking "
               "again is not checked");
        return;
    }
    short_page_corpus(path, sizeof path);
    ix = index_open("native", path);
    xx = index_open("xapian", path);
    ndx_search_opts_init(&o);
    o.k = 5;
    o.exact_upto = 0;
    ref = run(ix, "grain", &o);
    r = run(xx, "grain", &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(ref->searches, 1);
    CU_ASSERT_EQUAL(r->searches, 2);
    CU_ASSERT_EQUAL_FATAL(r->count, ref->count);
    for (i = 0; i < r->count; i++) {
        CU_ASSERT_STRING_EQUAL(r->hits[i].article, ref->hits[i].article);
        CU_ASSERT_EQUAL(r->hits[i].same_title_count,
                        ref->hits[i].same_title_count);
    }
    ndx_results_free(r);
    ndx_results_free(ref);
    ndx_index_close(xx);
    ndx_index_close(ix);
}

/* Writes lines to a new file named name in a new directory; its path in
 * path. */
static void
write_corpus(char *path, size_t cap, const char *name, const char *lines)
{
    FILE *f;

    snprintf(path, cap, "%s/%s", t_tmpdir(), name);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(lines, f);
    CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
}

/* Searches q on the corpus at path, indexed, for a page of k, pruning
 * from the first match (ranked by title), and again counting every match
 * (ranked by article); both pages must be want's ids, in order. */
static void
check_page(const char *path, const char *q, size_t k,
           const char *const *want, size_t nwant, unsigned *searches)
{
    ndx_index *ix = index_open("native", path);
    ndx_results *r, *ref;
    ndx_search_opts o;
    size_t i;

    ndx_search_opts_init(&o);
    o.k = k;
    o.exact_upto = 0;
    r = run(ix, q, &o);
    o.exact_total = 1;
    ref = run(ix, q, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    CU_ASSERT_EQUAL_FATAL(r->count, nwant);
    CU_ASSERT_EQUAL_FATAL(ref->count, nwant);
    for (i = 0; i < nwant; i++) {
        CU_ASSERT_STRING_EQUAL(r->hits[i].article, want[i]);
        CU_ASSERT_STRING_EQUAL(ref->hits[i].article, want[i]);
        CU_ASSERT_PTR_NOT_NULL(r->hits[i].text);
    }
    *searches = r->searches;
    ndx_results_free(r);
    ndx_results_free(ref);
    ndx_index_close(ix);
}

/* One paragraph of the bridge story: "girders" once in 43 words. */
#define BRIDGE                                                              \
    "The city council of Riverton voted on Tuesday to close the old "      \
    "harbour bridge to lorries from the first of March, after engineers "  \
    "found that two of its steel girders had lost a third of their "       \
    "strength to corrosion, and asked for money to mend them soon."

/*
 * The article of a title that folding takes out leaves the next of its
 * title in the page.  tz (Coast Daily) and tx (Harbor Wire) print one
 * story, "girders" once in 47 words, tx under a dateline (50 words): one
 * cluster, tz first.  ty is Harbor Wire's other article under tx's title,
 * "girders" once in 52 words; tf-1, tf-2 and tf-3 hold it once in 71, 81
 * and 99.  So "girders" ranks tz, tx, ty, tf-1, tf-2, tf-3 by article:
 * folding drops tx, and ty, no longer under a title shown before, is the
 * second hit.  Ranked by title (3 + 2 titles for a page of 3), ty is a
 * member of tx's title, kept because it ranks above the fifth title, and
 * with its text because it ranks above the page's third (tf-1): one search
 * makes the page.
 */
static void
test_collapse_folded_title_leaves_the_next(void)
{
    static const char *const want[] = {"tz", "ty", "tf-1"};
    char path[600];
    unsigned searches;

    write_corpus(path, sizeof path, "folded.jsonl",
        "{\"id\": \"tz\", \"source\": \"Coast Daily\", \"date\": "
        "\"2024-02-14\", \"title\": \"Corroded bridge shuts\", \"text\": \""
        BRIDGE "\"}\n"
        "{\"id\": \"tx\", \"source\": \"Harbor Wire\", \"date\": "
        "\"2024-02-14\", \"title\": \"Bridge closed\", \"text\": "
        "\"RIVERTON (Wire) -\\n\\n" BRIDGE "\"}\n"
        "{\"id\": \"ty\", \"source\": \"Harbor Wire\", \"date\": "
        "\"2024-02-20\", \"title\": \"Bridge closed\", \"text\": \"Work "
        "on the harbour bridge stopped again this week when the crane "
        "that lifts the new girders broke down, and the contractor said "
        "the repairs would now run into the summer, well past the date "
        "that the council had promised to the haulage firms and the "
        "chamber of commerce in the spring.\"}\n"
        "{\"id\": \"tf-1\", \"source\": \"Harbor Wire\", \"date\": "
        "\"2024-02-21\", \"title\": \"Ferry fares\", \"text\": \"The "
        "ferry company raised its fares by a tenth on Monday, blaming the "
        "price of fuel and the queues of lorries that wait at the "
        "landing since the bridge closed, and the council said it would "
        "look again at the subsidy it pays for the early crossings that "
        "carry workers to the yards where the girders are cut, while "
        "the unions asked for a cheaper weekly ticket for the shift "
        "workers.\"}\n"
        "{\"id\": \"tf-2\", \"source\": \"Harbor Wire\", \"date\": "
        "\"2024-02-22\", \"title\": \"Yard jobs\", \"text\": \"The "
        "shipyard on the east bank will hire forty welders this spring, "
        "its manager said on Wednesday, as orders for barges and small "
        "tankers come back after two slow years, and the first of the "
        "new hands will start on the girders for the bridge repair "
        "before moving on to the hulls, which the yard builds for owners "
        "in three countries, while the training centre in the town "
        "opens an evening course for the apprentices who want to learn "
        "the trade.\"}\n"
        "{\"id\": \"tf-3\", \"source\": \"Harbor Wire\", \"date\": "
        "\"2024-02-23\", \"title\": \"Steel prices\", \"text\": \"The "
        "price of structural steel rose for the third month running, the "
        "builders' federation said on Thursday, and firms that bid for "
        "public work last year now face losses on contracts signed at the "
        "old prices, among them the repair of the harbour bridge, where "
        "the girders alone will cost a fifth more than the council "
        "budgeted, while the federation asked the ministry to let "
        "councils reopen such contracts once prices move by more than a "
        "tenth, as they may in other countries, and warned that smaller "
        "firms could close before the summer if nothing is done about "
        "it.\"}\n");
    check_page(path, "girders", 3, want, 3, &searches);
    CU_ASSERT_EQUAL(searches, 1);
}

/*
 * More articles of one title rank above the k-th title than a titled
 * search keeps: 400 Wire articles "Daily digest" ("grain" 5 times in 20
 * words, each with its own other words), then "Weekly digest" (4 times)
 * and "Monthly digest" (3 times), one article each.  A page of 2 is the
 * first daily digest and the weekly one; the titled search keeps a share
 * of the daily digests and leaves the rest out, with the weekly one, so
 * the index front asks again (by article: 400 hits and more).
 */
static void
test_collapse_many_of_one_title_ask_again(void)
{
    static const char *const want[] = {"d-0", "w-0"};
    char path[600];
    unsigned searches;
    FILE *f;
    int a, w;

    snprintf(path, sizeof path, "%s/digests.jsonl", t_tmpdir());
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (a = 0; a < 402; a++) {
        int grain = a < 400 ? 5 : a == 400 ? 4 : 3;

        fprintf(f, "{\"id\": \"%s-%d\", \"source\": \"Wire\", \"date\": "
                   "\"2024-06-01\", \"title\": \"%s digest\", \"text\": \"",
                a < 400 ? "d" : a == 400 ? "w" : "m", a < 400 ? a : 0,
                a < 400 ? "Daily" : a == 400 ? "Weekly" : "Monthly");
        for (w = 0; w < 20; w++)
            if (w < grain)
                fprintf(f, "grain ");
            else
                fprintf(f, "x%cy%cz%c ", 'a' + a / 26 % 26, 'a' + a % 26,
                        'a' + w);
        fprintf(f, "\"}\n");
    }
    CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
    check_page(path, "grain", 2, want, 2, &searches);
    CU_ASSERT(searches >= 2);
}

CU_TestInfo collapse_tests[] = {
    {"test_collapse_same_title_hits_show_once",
     test_collapse_same_title_hits_show_once},
    {"test_collapse_short_page_asks_again_once",
     test_collapse_short_page_asks_again_once},
    {"test_collapse_by_article_asks_again_once",
     test_collapse_by_article_asks_again_once},
    {"test_collapse_folded_title_leaves_the_next",
     test_collapse_folded_title_leaves_the_next},
    {"test_collapse_many_of_one_title_ask_again",
     test_collapse_many_of_one_title_ask_again},
    {"test_collapse_pages_cut_the_collapsed_listing",
     test_collapse_pages_cut_the_collapsed_listing},
    {"test_collapse_follows_sort_and_filters",
     test_collapse_follows_sort_and_filters},
    {"test_collapse_engines_agree", test_collapse_engines_agree},
    {"test_collapse_search_prints_the_list",
     test_collapse_search_prints_the_list},
    {"test_collapse_engine_hands_over_more_hits",
     test_collapse_engine_hands_over_more_hits},
    CU_TEST_INFO_NULL,
};
