/*
 * test_live.c - a live archive: many small batches of additions,
 * replacements and deletions (with merges along the way) must leave an
 * index that answers exactly as one built at once from the surviving
 * articles, in the order they were last added (both engines); the merge
 * policy keeps the segment count logarithmic and reclaims dead space;
 * readers see each commit after a refresh and keep their generation until
 * then; a writer killed in the middle of a merge leaves the index as one
 * of its commits; and the command line deletes (by argument and from a
 * file or standard input) and reads articles from standard input.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <CUnit/CUnit.h>

#include "native/segment.h"
#include "newsdex/newsdex.h"
#include "newsdex/sys/engine.h"
#include "support.h"
#include "util/buf.h"
#include "util/hash.h"

/* ---- a synthetic archive ------------------------------------------------ */

static const char *const vocab[] = {
    "harbor", "ferry", "council", "budget", "schools", "storm", "bridge",
    "election", "mayor", "river", "market", "farmers", "railway", "strike",
    "hospital", "nurses", "festival", "museum", "police", "court", "tax",
    "housing", "rent", "drought", "wheat", "energy", "prices", "coast",
    "island", "fishing", "tourism", "airport", "runway", "protest", "union",
};
#define VOCAB (sizeof vocab / sizeof vocab[0])

static const char *const sources[] = {"Coast Daily", "Harbor News",
                                      "The Island Post"};

typedef struct art {
    char id[32];
    char title[64];
    char source[32];
    char text[4096];
    int32_t date;
} art;

static uint32_t
mix(uint32_t x)
{
    return (uint32_t)ndx_mix64(x);
}

/* The marker word of version v of article k: "zz", k in letters a-j
 * (one per decimal digit), "q", v as a letter; no other version has it. */
static void
marker(unsigned k, unsigned v, char *out)
{
    char digits[16];
    size_t i, n = (size_t)snprintf(digits, sizeof digits, "%u", k);

    *out++ = 'z';
    *out++ = 'z';
    for (i = 0; i < n; i++)
        *out++ = (char)('a' + digits[i] - '0');
    *out++ = 'q';
    *out++ = (char)('a' + v % 10);
    *out = '\0';
}

/* Version v of article k: two or three paragraphs of 35 to 60 words drawn
 * from vocab by a hash of (k, v) (a third of them from its first seven
 * words, so that those are common), and its marker word in the first. */
static void
make_art(unsigned k, unsigned v, art *out)
{
    uint32_t h = mix(k * 7919u + v * 104729u + 1);
    unsigned paras = 2 + h % 2, p, w;
    size_t len = 0;

    snprintf(out->id, sizeof out->id, "live-%u", k);
    snprintf(out->title, sizeof out->title, "%s %s, report %u",
             vocab[h % VOCAB], vocab[(h >> 8) % VOCAB], k);
    snprintf(out->source, sizeof out->source, "%s", sources[k % 3]);
    out->date = 19000 + (int32_t)(k * 3 + v) % 400;
    for (p = 0; p < paras; p++) {
        unsigned words = 35 + mix(h + p) % 26;

        if (p)
            len += (size_t)snprintf(out->text + len, sizeof out->text - len,
                                    "\n\n");
        for (w = 0; w < words; w++) {
            uint32_t r = mix(h * 31 + p * 1000 + w);

            len += (size_t)snprintf(out->text + len, sizeof out->text - len,
                                    "%s%s", w ? " " : "",
                                    vocab[(r % VOCAB) * (r % 3 ? 1 : 0) +
                                          (r % 3 ? 0 : (r >> 8) % 7)]);
        }
        if (p == 0) {
            char mk[32];

            marker(k, v, mk);
            len += (size_t)snprintf(out->text + len, sizeof out->text - len,
                                    " %s", mk);
        }
        len += (size_t)snprintf(out->text + len, sizeof out->text - len,
                                ".");
    }
}

static void
to_article(const art *x, ndx_article *a)
{
    memset(a, 0, sizeof *a);
    a->id = (char *)x->id;
    a->title = (char *)x->title;
    a->source = (char *)x->source;
    a->url = (char *)"";
    a->text = (char *)x->text;
    a->text_len = strlen(x->text);
    a->date_days = x->date;
    a->time_secs = -1;
}

static ndx_status
add_art(ndx_index *ix, unsigned k, unsigned v)
{
    art x;
    ndx_article a;

    make_art(k, v, &x);
    to_article(&x, &a);
    return ndx_index_add(ix, &a, NULL);
}

/* Opens dir for writing with engine and cfg, flags added to
 * NDX_OPEN_WRITE; the test stops if it cannot. */
static ndx_index *
open_writer(const char *dir, const char *engine, const ndx_engine_config *cfg,
            unsigned flags)
{
    ndx_index *ix = NULL;

    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_WRITE | flags, engine,
                                   cfg) == NDX_OK);
    return ix;
}

/* Adds the first version of articles from to to - 1. */
static void
add_range(ndx_index *ix, unsigned from, unsigned to)
{
    unsigned k;

    for (k = from; k < to; k++)
        CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
}

/* The surviving articles in the order they were last added. */
typedef struct model {
    unsigned k[2048];
    unsigned v[2048];
    size_t n;
} model;

static long
model_find(const model *m, unsigned k)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        if (m->k[i] == k)
            return (long)i;
    return -1;
}

static void
model_drop(model *m, unsigned k)
{
    long i = model_find(m, k);

    if (i < 0)
        return;
    memmove(&m->k[i], &m->k[i + 1], (m->n - (size_t)i - 1) * sizeof *m->k);
    memmove(&m->v[i], &m->v[i + 1], (m->n - (size_t)i - 1) * sizeof *m->v);
    m->n--;
}

static void
model_add(model *m, unsigned k, unsigned v)
{
    model_drop(m, k);
    m->k[m->n] = k;
    m->v[m->n] = v;
    m->n++;
}

static unsigned
model_version(const model *m, unsigned k)
{
    long i = model_find(m, k);

    return i < 0 ? 0 : m->v[i];
}

/* ---- comparing two indexes ---------------------------------------------- */

static const char *const queries[] = {
    "harbor", "ferry council", "storm OR bridge", "\"river market\"",
    "election -mayor", "hosp*", "title:harbor", "tax source:\"Coast Daily\"",
    "energy date:2022", "wheat after:2022-01-01 before:2022-06-01",
    "fishing tourism island", "source:\"The Island Post\"", "rent OR housing",
    "\"nurses strike\" OR \"railway strike\"", "museum festival -police",
};
#define QUERY_COUNT (sizeof queries / sizeof queries[0])

/* Every hit of q in both indexes, in order: article, passage, score (to
 * the last bit), matching passages; and the totals. */
static int
same_results(ndx_index *a, ndx_index *b, const char *q, ndx_sort sort,
             ndx_group group, const char *label)
{
    ndx_results *ra = NULL, *rb = NULL;
    ndx_search_opts o;
    size_t i;
    int same = 1;

    ndx_search_opts_init(&o);
    o.k = 1000;
    o.sort = sort;
    o.group = group;
    CU_ASSERT_FATAL(ndx_index_search(a, q, &o, &ra, NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_search(b, q, &o, &rb, NULL) == NDX_OK);
    if (ra->total != rb->total || ra->count != rb->count) {
        printf("\n  [%s] %s: total %llu/%llu count %zu/%zu", label, q,
               (unsigned long long)ra->total, (unsigned long long)rb->total,
               ra->count, rb->count);
        same = 0;
    }
    for (i = 0; same && i < ra->count; i++) {
        const ndx_hit *x = &ra->hits[i], *y = &rb->hits[i];

        if (strcmp(x->article, y->article) != 0 || x->passage != y->passage ||
            x->score != y->score || x->matches != y->matches ||
            strcmp(x->snippet ? x->snippet : "",
                   y->snippet ? y->snippet : "") != 0) {
            printf("\n  [%s] %s: hit %zu %s/%u %.17g (%u) against %s/%u "
                   "%.17g (%u)", label, q, i, x->article, x->passage,
                   x->score, x->matches, y->article, y->passage, y->score,
                   y->matches);
            same = 0;
        }
    }
    ndx_results_free(ra);
    ndx_results_free(rb);
    return same;
}

static void
compare_indexes(const char *inc_dir, const char *one_dir, const char *label)
{
    ndx_index *a = NULL, *b = NULL;
    ndx_stats sa, sb;
    size_t q, i;

    CU_ASSERT_FATAL(ndx_index_open(&a, inc_dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_index_open(&b, one_dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    for (q = 0; q < QUERY_COUNT; q++) {
        CU_ASSERT(same_results(a, b, queries[q], NDX_SORT_RELEVANCE,
                               NDX_GROUP_ARTICLE, label));
        CU_ASSERT(same_results(a, b, queries[q], NDX_SORT_RELEVANCE,
                               NDX_GROUP_PASSAGE, label));
        CU_ASSERT(same_results(a, b, queries[q], NDX_SORT_NEWEST,
                               NDX_GROUP_ARTICLE, label));
    }
    CU_ASSERT_FATAL(ndx_index_stats(a, &sa) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_stats(b, &sb) == NDX_OK);
    CU_ASSERT_EQUAL(sa.articles, sb.articles);
    CU_ASSERT_EQUAL(sa.passages, sb.passages);
    CU_ASSERT_EQUAL(sa.tokens, sb.tokens);
    CU_ASSERT_EQUAL(sa.first_days, sb.first_days);
    CU_ASSERT_EQUAL(sa.last_days, sb.last_days);
    CU_ASSERT_EQUAL(sa.undated, sb.undated);
    CU_ASSERT_EQUAL_FATAL(sa.source_count, sb.source_count);
    for (i = 0; i < sa.source_count; i++) {
        CU_ASSERT_STRING_EQUAL(sa.sources[i].name, sb.sources[i].name);
        CU_ASSERT_EQUAL(sa.sources[i].count, sb.sources[i].count);
    }
    ndx_stats_clear(&sa);
    ndx_stats_clear(&sb);
    ndx_index_close(a);
    ndx_index_close(b);
}

/* Hits of the marker of version v of article k (0 or 1). */
static uint64_t
marker_hits(ndx_index *ix, unsigned k, unsigned v)
{
    char q[64];
    ndx_results *r = NULL;
    uint64_t n;

    marker(k, v, q);
    CU_ASSERT_FATAL(ndx_index_search(ix, q, NULL, &r, NULL) == NDX_OK);
    n = r->total;
    ndx_results_free(r);
    return n;
}

/* ---- many small batches against one build ------------------------------ */

#define BATCHES 30

/*
 * Thirty commits, each: four new articles; one or two replacements (a new
 * version of a live article); one deletion of a live article; a deletion
 * of an id never added (NDX_ENOTFOUND, nothing changes); and in turns an
 * article added and deleted in the same batch, or deleted and added again
 * in it.  The model keeps the survivors in the order of their last
 * addition, which is the order of the one-shot build.
 */
static void
run_batches(const char *engine, const char *inc_dir, const char *one_dir,
            model *m, unsigned *next_k)
{
    ndx_engine_config cfg;
    ndx_index *ix;
    unsigned b, j;
    uint32_t seed = 12345;

    ndx_engine_config_init(&cfg);
    cfg.threads = 2;
    /* Small tiers, so that thirty commits of a few passages merge at
     * several tiers and rewrite segments that lost most passages. */
    cfg.merge_factor = 3;
    cfg.merge_floor = 16;
    m->n = 0;
    *next_k = 0;
    for (b = 0; b < BATCHES; b++) {
        ix = open_writer(inc_dir, engine, &cfg, b ? NDX_OPEN_ADD : 0);
        for (j = 0; j < 4; j++) {
            CU_ASSERT_FATAL(add_art(ix, *next_k, 1) == NDX_OK);
            model_add(m, *next_k, 1);
            ++*next_k;
        }
        for (j = 0; j < 1 + b % 2 && m->n > 4; j++) {
            unsigned k = m->k[(seed = mix(seed)) % (m->n - 2)];
            unsigned v = model_version(m, k) + 1;

            CU_ASSERT_FATAL(add_art(ix, k, v) == NDX_OK);
            model_add(m, k, v);
        }
        if (m->n > 6) {
            unsigned k = m->k[(seed = mix(seed)) % m->n];
            char id[32];

            snprintf(id, sizeof id, "live-%u", k);
            CU_ASSERT_EQUAL(ndx_index_delete(ix, id), NDX_OK);
            /* Twice: the second finds nothing. */
            CU_ASSERT_EQUAL(ndx_index_delete(ix, id), NDX_ENOTFOUND);
            model_drop(m, k);
        }
        CU_ASSERT_EQUAL(ndx_index_delete(ix, "never-added"), NDX_ENOTFOUND);
        if (b % 3 == 1) {
            char id[32];

            /* Added and deleted in one batch: never visible. */
            CU_ASSERT_FATAL(add_art(ix, *next_k, 1) == NDX_OK);
            snprintf(id, sizeof id, "live-%u", *next_k);
            CU_ASSERT_EQUAL(ndx_index_delete(ix, id), NDX_OK);
            ++*next_k;
        } else if (b % 3 == 2 && m->n > 2) {
            unsigned k = m->k[0], v = model_version(m, k) + 1;
            char id[32];

            /* Deleted, then added again: it moves to the end. */
            snprintf(id, sizeof id, "live-%u", k);
            CU_ASSERT_EQUAL(ndx_index_delete(ix, id), NDX_OK);
            CU_ASSERT_FATAL(add_art(ix, k, v) == NDX_OK);
            model_add(m, k, v);
        }
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        ndx_index_close(ix);
    }
    /* The survivors at once, in the order of their last addition. */
    ix = open_writer(one_dir, engine, &cfg, 0);
    for (j = 0; j < m->n; j++)
        CU_ASSERT_FATAL(add_art(ix, m->k[j], m->v[j]) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
}

static void
batches_equal_one_build(const char *engine)
{
    const char *dir = t_tmpdir();
    char inc[600], one[600];
    static model m;
    unsigned next_k, k, v;
    ndx_index *ix;
    ndx_stats st;

    snprintf(inc, sizeof inc, "%s/inc", dir);
    snprintf(one, sizeof one, "%s/one", dir);
    run_batches(engine, inc, one, &m, &next_k);
    CU_ASSERT(m.n > 60);
    compare_indexes(inc, one, engine);
    CU_ASSERT_EQUAL(ndx_index_check(inc), NDX_OK);

    /* Every version that is not the surviving one is gone: from results
     * (its marker), from get, and the survivor's marker is found. */
    CU_ASSERT_FATAL(ndx_index_open(&ix, inc, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    for (k = 0; k < next_k; k++) {
        unsigned live = model_version(&m, k);
        char id[32];
        ndx_doc *d = NULL;

        for (v = 1; v <= 4; v++)
            CU_ASSERT_EQUAL(marker_hits(ix, k, v), v == live ? 1 : 0);
        snprintf(id, sizeof id, "live-%u", k);
        if (live) {
            art x;

            make_art(k, live, &x);
            CU_ASSERT_FATAL(ndx_index_get(ix, id, &d) == NDX_OK);
            CU_ASSERT_EQUAL(d->date_days, x.date);
            ndx_doc_free(d);
        } else {
            CU_ASSERT_EQUAL(ndx_index_get(ix, id, &d), NDX_ENOTFOUND);
        }
    }
    CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
    CU_ASSERT_EQUAL(st.articles, m.n);
    if (strcmp(engine, "native") == 0)
        printf("\n  native: %zu survivors of %u articles, %llu segments",
               m.n, next_k, (unsigned long long)st.segments);
    ndx_stats_clear(&st);
    ndx_index_close(ix);
}

static void
test_live_native_batches_equal_one_build(void)
{
    batches_equal_one_build("native");
}

static void
test_live_xapian_batches_equal_one_build(void)
{
    if (t_without_xapian())
        return;
    batches_equal_one_build("xapian");
}

/* ---- the merge policy ----------------------------------------------------- */

static uint64_t
index_bytes(const char *dir)
{
    ndx_index *ix;
    ndx_stats st;
    uint64_t n;

    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
    n = st.bytes_postings + st.bytes_text + st.bytes_other;
    ndx_stats_clear(&st);
    ndx_index_close(ix);
    return n;
}

/* One article a commit, 120 commits: with factor 3 and floor 8 passages,
 * after every commit at most 2 segments per tier, the tiers being those
 * the passages can fill: the count grows with the logarithm. */
static void
test_live_segment_count_stays_logarithmic(void)
{
    const char *dir = t_tmpdir();
    char ix_dir[600];
    ndx_engine_config cfg;
    ndx_index *ix;
    ndx_stats st;
    unsigned k, most = 0;

    snprintf(ix_dir, sizeof ix_dir, "%s/ix", dir);
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    cfg.merge_factor = 3;
    cfg.merge_floor = 8;
    for (k = 0; k < 120; k++) {
        unsigned tiers = 1;
        uint64_t bound = 8;

        ix = open_writer(ix_dir, "native", &cfg, k ? NDX_OPEN_ADD : 0);
        CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
        while (bound <= st.passages) {
            tiers++;
            bound *= 3;
        }
        CU_ASSERT(st.segments <= 2 * tiers);
        if (st.segments > most)
            most = (unsigned)st.segments;
        CU_ASSERT_EQUAL(st.articles, k + 1);
        ndx_stats_clear(&st);
        ndx_index_close(ix);
    }
    /* 120 articles of two or three passages: tiers of 8, 24, 72 and 216
     * passages; never more than 10 segments, and some merging happened. */
    CU_ASSERT(most <= 10 && most >= 3);
    CU_ASSERT_EQUAL(ndx_index_check(ix_dir), NDX_OK);
}

/* Re-adding the same articles ten times leaves the index the size of one
 * build (each run kills the previous copy whole, which is dropped); and
 * --optimize of a multi-segment index gives one segment, same answers. */
static void
test_live_readding_reclaims_space(void)
{
    const char *dir = t_tmpdir();
    char inc[600], one[600];
    ndx_engine_config cfg;
    ndx_index *ix;
    ndx_stats st;
    uint64_t one_bytes, inc_bytes;
    unsigned run, k;

    snprintf(inc, sizeof inc, "%s/inc", dir);
    snprintf(one, sizeof one, "%s/one", dir);
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    for (run = 0; run <= 10; run++) {
        ix = open_writer(run ? inc : one, "native", &cfg,
                         run > 1 ? NDX_OPEN_ADD : 0);
        add_range(ix, 0, 60);
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        ndx_index_close(ix);
    }
    one_bytes = index_bytes(one);
    inc_bytes = index_bytes(inc);
    printf("\n  one build %llu bytes, after ten re-adds %llu",
           (unsigned long long)one_bytes, (unsigned long long)inc_bytes);
    CU_ASSERT(inc_bytes * 10 <= one_bytes * 13);
    compare_indexes(inc, one, "re-added");

    /* Half the articles re-added in three runs, then --optimize. */
    for (run = 0; run < 3; run++) {
        ix = open_writer(inc, "native", &cfg, NDX_OPEN_ADD);
        for (k = run; k < 60; k += 2)
            CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        ndx_index_close(ix);
    }
    ix = open_writer(inc, "native", &cfg, NDX_OPEN_ADD);
    CU_ASSERT_FATAL(ndx_index_optimize(ix) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
    CU_ASSERT_EQUAL(st.segments, 1);
    CU_ASSERT_EQUAL(st.articles, 60);
    ndx_stats_clear(&st);
    ndx_index_close(ix);
    /* The same order in one build: run 0 re-added the even k, run 1 the
     * odd ones, run 2 the even ones from 2; so 0, the odd, the even. */
    ix = open_writer(one, "native", &cfg, 0);
    CU_ASSERT_FATAL(add_art(ix, 0, 1) == NDX_OK);
    for (k = 1; k < 60; k += 2)
        CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
    for (k = 2; k < 60; k += 2)
        CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    compare_indexes(inc, one, "optimized");
    /* The Xapian engine has no segments to merge, and says so. */
    if (ndx_xapian_engine()) {
        char x[600];

        snprintf(x, sizeof x, "%s/x", dir);
        ix = open_writer(x, "xapian", &cfg, 0);
        CU_ASSERT_EQUAL(ndx_index_optimize(ix), NDX_ENOTSUP);
        ndx_index_close(ix);
    }
}

/* The path of the one segment file of a native index in *out. */
static void
only_segment(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    CU_ASSERT_FATAL(d != NULL);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);

        if (strncmp(e->d_name, "seg-", 4) == 0 && l > 4 &&
            strcmp(e->d_name + l - 4, ".ndx") == 0) {
            snprintf(out, cap, "%s/%s", dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    CU_ASSERT_EQUAL_FATAL(n, 1);
}

/* Every article's stored passages are the same in both indexes. */
static void
same_texts(const char *a_dir, const char *b_dir, unsigned ks)
{
    ndx_index *a, *b;
    unsigned k, i, differ = 0;

    CU_ASSERT_FATAL(ndx_index_open(&a, a_dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_index_open(&b, b_dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    for (k = 0; k < ks; k++) {
        char id[32];
        ndx_doc *x = NULL, *y = NULL;

        snprintf(id, sizeof id, "live-%u", k);
        CU_ASSERT_FATAL(ndx_index_get(a, id, &x) == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_get(b, id, &y) == NDX_OK);
        if (x->passage_count != y->passage_count)
            differ++;
        for (i = 0; i < x->passage_count && i < y->passage_count; i++)
            differ += strcmp(x->passages[i], y->passages[i]) != 0;
        ndx_doc_free(x);
        ndx_doc_free(y);
    }
    CU_ASSERT_EQUAL(differ, 0);
    ndx_index_close(a);
    ndx_index_close(b);
}

/* A merge copies the passages' compressed text with the dictionary each
 * was compressed against, and compresses again, against one of those,
 * the text of a segment too small to have one: three commits (600
 * articles, 10 with a replacement, 600), then --optimize, equal one build
 * of the same articles in the same order, text for text; the merged
 * segment has two runs of blocks, each with its dictionary. */
static void
test_live_merge_copies_text_with_its_dictionaries(void)
{
    const char *dir = t_tmpdir();
    char inc[600], one[600], seg[900];
    ndx_engine_config cfg;
    ndx_index *ix;
    ndx_seg *s;
    unsigned k;

    snprintf(inc, sizeof inc, "%s/inc", dir);
    snprintf(one, sizeof one, "%s/one", dir);
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    ix = open_writer(inc, "native", &cfg, 0);
    add_range(ix, 0, 600);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    ix = open_writer(inc, "native", &cfg, NDX_OPEN_ADD);
    CU_ASSERT_FATAL(add_art(ix, 5, 2) == NDX_OK);
    add_range(ix, 600, 609);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    ix = open_writer(inc, "native", &cfg, NDX_OPEN_ADD);
    add_range(ix, 609, 1209);
    CU_ASSERT_FATAL(ndx_index_optimize(ix) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);

    ix = open_writer(one, "native", &cfg, 0);
    for (k = 0; k < 600; k++)
        if (k != 5)
            CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
    CU_ASSERT_FATAL(add_art(ix, 5, 2) == NDX_OK);
    add_range(ix, 600, 1209);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);

    compare_indexes(inc, one, "merged with copied text");
    same_texts(inc, one, 1209);
    only_segment(inc, seg, sizeof seg);
    CU_ASSERT_FATAL(ndx_seg_open(&s, seg, 1) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_check(s), NDX_OK);
    CU_ASSERT_EQUAL_FATAL(s->sec_len[SEC_TEXTDICTS], 32);
    CU_ASSERT_EQUAL(ndx_get_u32le(s->sec[SEC_TEXTDICTS]), 0);
    CU_ASSERT(ndx_get_u32le(s->sec[SEC_TEXTDICTS] + 16) > 0);
    CU_ASSERT(ndx_get_u32le(s->sec[SEC_TEXTDICTS] + 4) > 0);
    CU_ASSERT(ndx_get_u32le(s->sec[SEC_TEXTDICTS] + 20) > 0);
    CU_ASSERT_EQUAL(s->sec_len[SEC_TEXTDICT],
                    ndx_get_u32le(s->sec[SEC_TEXTDICTS] + 4) +
                        ndx_get_u32le(s->sec[SEC_TEXTDICTS] + 20));
    ndx_seg_close(s);
}

/* ---- readers ---------------------------------------------------------------- */

/* A reader sees a deletion and a merge after a refresh, and until then
 * keeps answering from the generation it mapped. */
static void
test_live_reader_sees_commits_after_refresh(void)
{
    const char *dir = t_tmpdir();
    char ix_dir[600];
    ndx_engine_config cfg;
    ndx_index *w, *r;
    ndx_stats st;
    unsigned k;

    snprintf(ix_dir, sizeof ix_dir, "%s/ix", dir);
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    cfg.merge_factor = 8; /* four commits, four segments */
    for (k = 0; k < 40; k += 10) {
        w = open_writer(ix_dir, "native", &cfg, k ? NDX_OPEN_ADD : 0);
        add_range(w, k, k + 10);
        CU_ASSERT_FATAL(ndx_index_commit(w) == NDX_OK);
        ndx_index_close(w);
    }
    CU_ASSERT_FATAL(ndx_index_open(&r, ix_dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_EQUAL(marker_hits(r, 7, 1), 1);

    w = open_writer(ix_dir, "native", &cfg, NDX_OPEN_ADD);
    CU_ASSERT_EQUAL(ndx_index_delete(w, "live-7"), NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(w) == NDX_OK);
    /* Not refreshed: the old generation still answers. */
    CU_ASSERT_EQUAL(marker_hits(r, 7, 1), 1);
    CU_ASSERT_EQUAL(ndx_index_refresh(r), 1);
    CU_ASSERT_EQUAL(marker_hits(r, 7, 1), 0);
    CU_ASSERT_FATAL(ndx_index_stats(r, &st) == NDX_OK);
    CU_ASSERT_EQUAL(st.articles, 39);
    CU_ASSERT_EQUAL(st.segments, 4);
    ndx_stats_clear(&st);

    /* A merge removes the files the reader mapped; it goes on. */
    CU_ASSERT_FATAL(ndx_index_optimize(w) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(w) == NDX_OK);
    ndx_index_close(w);
    CU_ASSERT_EQUAL(marker_hits(r, 8, 1), 1);
    CU_ASSERT_EQUAL(ndx_index_refresh(r), 1);
    CU_ASSERT_EQUAL(marker_hits(r, 8, 1), 1);
    CU_ASSERT_EQUAL(marker_hits(r, 7, 1), 0);
    CU_ASSERT_FATAL(ndx_index_stats(r, &st) == NDX_OK);
    CU_ASSERT_EQUAL(st.articles, 39);
    CU_ASSERT_EQUAL(st.segments, 1);
    ndx_stats_clear(&st);
    ndx_index_close(r);
}

/* ---- a writer killed while it merges ------------------------------------------ */

/* In a child: --optimize of dir (exit 0 when it committed). */
static pid_t
start_optimize(const char *dir)
{
    pid_t pid = fork();

    if (pid == 0) {
        ndx_index *ix;
        ndx_engine_config cfg;

        ndx_engine_config_init(&cfg);
        cfg.threads = 1;
        if (ndx_index_open(&ix, dir, NDX_OPEN_WRITE | NDX_OPEN_ADD, "native",
                           &cfg) != NDX_OK ||
            ndx_index_optimize(ix) != NDX_OK || ndx_index_commit(ix) != NDX_OK)
            _exit(3);
        ndx_index_close(ix);
        _exit(0);
    }
    return pid;
}

/*
 * An index of 600 articles in six segments with deletions is merged into
 * one by a child that is killed (SIGKILL) at moments spread over the time
 * a whole merge takes.  Whatever the moment, the index must pass --check
 * and answer exactly as the one-shot build of its articles (before and
 * after the merge the content is the same); a last run completes it.
 */
static void
test_live_kill_during_merge_leaves_a_commit(void)
{
    const char *dir = t_tmpdir();
    char ix_dir[600], one[600], cmd[2000];
    ndx_engine_config cfg;
    ndx_index *ix;
    ndx_stats st;
    unsigned k, i, done = 0, killed = 0;
    double full_ms;
    pid_t pid;
    int status;

    snprintf(ix_dir, sizeof ix_dir, "%s/ix", dir);
    snprintf(one, sizeof one, "%s/one", dir);
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    for (k = 0; k < 600; k += 100) {
        ix = open_writer(ix_dir, "native", &cfg, k ? NDX_OPEN_ADD : 0);
        add_range(ix, k, k + 100);
        if (k) {
            char id[32];

            snprintf(id, sizeof id, "live-%u", k - 50);
            CU_ASSERT_EQUAL(ndx_index_delete(ix, id), NDX_OK);
        }
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        ndx_index_close(ix);
    }
    ix = open_writer(one, "native", &cfg, 0);
    for (k = 0; k < 600; k++)
        if (k % 100 != 50 || k == 550)
            CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);

    /* How long a whole merge takes, on a copy. */
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s/probe'", ix_dir, dir);
    CU_ASSERT_FATAL(t_run(cmd, NULL, NULL) == 0);
    snprintf(cmd, sizeof cmd, "%s/probe", dir);
    full_ms = ndx_now_ms();
    pid = start_optimize(cmd);
    CU_ASSERT_FATAL(pid > 0);
    waitpid(pid, &status, 0);
    full_ms = ndx_now_ms() - full_ms;
    CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    for (i = 0; i < 12 && !done; i++) {
        struct timespec d;
        double at = full_ms * i / 10.0;

        pid = start_optimize(ix_dir);
        CU_ASSERT_FATAL(pid > 0);
        d.tv_sec = (time_t)(at / 1e3);
        d.tv_nsec = (long)((at - (double)d.tv_sec * 1e3) * 1e6);
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (WIFEXITED(status)) {
            CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
            done = 1;
        } else {
            killed++;
        }
        CU_ASSERT_EQUAL(ndx_index_check(ix_dir), NDX_OK);
        compare_indexes(ix_dir, one, "killed merge");
    }
    printf("\n  merge of %.0f ms: %u runs killed before the end", full_ms,
           killed);
    CU_ASSERT(killed >= 1);
    pid = start_optimize(ix_dir);
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_FATAL(ndx_index_open(&ix, ix_dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
    CU_ASSERT_EQUAL(st.segments, 1);
    CU_ASSERT_EQUAL(st.articles, 595);
    ndx_stats_clear(&st);
    ndx_index_close(ix);
    compare_indexes(ix_dir, one, "merged");
    /* Nothing a killed merge wrote is left behind. */
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '^seg-'", ix_dir);
    {
        char *out = NULL;

        t_run(cmd, &out, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(out);
        CU_ASSERT_EQUAL(atoi(out), 1);
        free(out);
    }
}

/* ---- a merge that fails after its commit ------------------------------- */

/* Makes dir anew with articles 0-9 in one commit and returns a writer
 * holding articles 10-19 added, not committed: with factor 2 and a floor
 * of 1,000 passages, its commit leaves two segments of tier 0, which it
 * then merges. */
static ndx_index *
two_batches(const char *dir, const ndx_engine_config *cfg)
{
    ndx_index *ix;
    unsigned k;

    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_WRITE, "native",
                                   cfg) == NDX_OK);
    for (k = 0; k < 10; k++)
        CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    CU_ASSERT_FATAL(ndx_index_open(&ix, dir, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", cfg) == NDX_OK);
    for (k = 10; k < 20; k++)
        CU_ASSERT_FATAL(add_art(ix, k, 1) == NDX_OK);
    return ix;
}

/* Articles of dir, its segments, and whether articles 5 and 15 are found
 * (1 each) or not (0). */
static void
expect_index(const char *dir, uint64_t articles, uint64_t segments,
             uint64_t found15)
{
    ndx_index *r;
    ndx_stats st;

    CU_ASSERT_EQUAL(ndx_index_check(dir), NDX_OK);
    CU_ASSERT_FATAL(ndx_index_open(&r, dir, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_index_stats(r, &st) == NDX_OK);
    CU_ASSERT_EQUAL(st.articles, articles);
    CU_ASSERT_EQUAL(st.segments, segments);
    ndx_stats_clear(&st);
    CU_ASSERT_EQUAL(marker_hits(r, 5, 1), 1);
    CU_ASSERT_EQUAL(marker_hits(r, 15, 1), found15);
    ndx_index_close(r);
}

/*
 * Each allocation of a commit that merges made to fail in turn (a sample
 * of them): a failure before the commit's manifest is an error and leaves
 * the first ten articles alone; one in the merge after it is no error: the
 * twenty articles are committed and found after reopening, in the two
 * segments the merge did not replace, and ndx_index_commit_warning says
 * so; the next commit merges them.
 */
static void
test_live_failed_merge_keeps_the_commit(void)
{
    const char *dir = t_tmpdir();
    char ix_dir[600];
    ndx_engine_config cfg;
    ndx_index *ix;
    long count, k, step;
    unsigned warned = 0, failed = 0;

    snprintf(ix_dir, sizeof ix_dir, "%s/ix", dir);
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    cfg.merge_factor = 2;
    cfg.merge_floor = 1000;
    ix = two_batches(ix_dir, &cfg);
    t_fault_arm(-1);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    count = t_fault_disarm();
    CU_ASSERT_PTR_NULL(ndx_index_commit_warning(ix));
    ndx_index_close(ix);
    expect_index(ix_dir, 20, 1, 1);

    step = count / 200 + 1;
    for (k = 0; k < count; k += step) {
        ndx_status st;
        const char *w;
        uint64_t segments;

        ix = two_batches(ix_dir, &cfg);
        t_fault_arm(k);
        st = ndx_index_commit(ix);
        t_fault_disarm();
        w = ndx_index_commit_warning(ix);
        if (st != NDX_OK) {
            CU_ASSERT_PTR_NULL(w);
            ndx_index_close(ix);
            expect_index(ix_dir, 10, 1, 0);
            failed++;
            continue;
        }
        segments = 1;
        if (w) {
            const char *intact = strstr(w, "; the index is intact (");

            /* The merge failed (2 segments), or the planning of a next
             * one after it (1). */
            CU_ASSERT(strncmp(w, "merging segments failed: out of memory",
                              38) == 0);
            CU_ASSERT_PTR_NOT_NULL_FATAL(intact);
            segments = strtoull(intact + 23, NULL, 10);
            CU_ASSERT(segments == 1 || segments == 2);
            CU_ASSERT_PTR_NOT_NULL(strstr(intact, segments == 2 ?
                                          " segments) and will merge at "
                                          "the next commit" :
                                          " segment) and will merge at "
                                          "the next commit"));
            warned++;
        }
        ndx_index_close(ix);
        expect_index(ix_dir, 20, segments, 1);
        if (w) {
            CU_ASSERT_FATAL(ndx_index_open(&ix, ix_dir, NDX_OPEN_WRITE |
                                           NDX_OPEN_ADD, "native", &cfg) ==
                            NDX_OK);
            CU_ASSERT_EQUAL(ndx_index_commit(ix), NDX_OK);
            CU_ASSERT_PTR_NULL(ndx_index_commit_warning(ix));
            ndx_index_close(ix);
            expect_index(ix_dir, 20, 1, 1);
        }
    }
    printf("\n  %ld allocations in the commit, every %ld failed: %u "
           "errors before the manifest, %u failed merges after it",
           count, step, failed, warned);
    CU_ASSERT(failed >= 1);
    CU_ASSERT(warned >= 1);
}

/* The command line under a file size limit that the new segment fits and
 * the merged one does not (a full disk, as far as the writer can tell):
 * the NDX_MERGE_FACTOR-th run commits its article, says that the merge failed and
 * that the index is intact, and succeeds; --optimize under the limit fails
 * (its merge was the point) saying the same; a run without the limit
 * merges. */
static void
test_live_cli_reports_a_failed_merge_as_committed(void)
{
    const char *dir = t_tmpdir();
    char cmd[4000], path[700], *out = NULL, *err = NULL;
    ndx_buf b;
    unsigned d, w;

    ndx_buf_init(&b);
    /* NDX_MERGE_FACTOR - 1 articles of 1,500 words that do not compress
     * much (about 30 KB a segment), then one of a sentence: its segment
     * makes NDX_MERGE_FACTOR of the first tier. */
    for (d = 0; d < NDX_MERGE_FACTOR; d++) {
        b.len = 0;
        CU_ASSERT_FATAL(ndx_buf_printf(&b, "{\"id\":\"big%u\",\"source\":"
                                       "\"Wire\",\"date\":\"2024-05-0%u\","
                                       "\"title\":\"Day %u\",\"text\":\"",
                                       d, d + 1, d) == NDX_OK);
        for (w = 0; w < (d < NDX_MERGE_FACTOR - 1 ? 1500u : 0u); w++)
            CU_ASSERT_FATAL(ndx_buf_printf(&b, "w%05x ",
                                           mix(d * 100000 + w) & 0xfffff) ==
                            NDX_OK);
        CU_ASSERT_FATAL(ndx_buf_printf(&b, "%s\"}\n",
                                       d < NDX_MERGE_FACTOR - 1 ? "filler." :
                                       "The latecomer story came in after "
                                       "the storm, when the ferry was back "
                                       "in the harbor and the council met "
                                       "again.") == NDX_OK);
        snprintf(path, sizeof path, "%s/d%u.jsonl", dir, d);
        CU_ASSERT_FATAL(t_write(path, b.data, b.len) == 0);
        if (d < NDX_MERGE_FACTOR - 1) {
            snprintf(cmd, sizeof cmd, "%s -q -o '%s/ix' %s '%s'",
                     t_prog("newsdex-index"), dir, d ? "--add" : "", path);
            CU_ASSERT_FATAL(t_run(cmd, NULL, NULL) == 0);
        }
    }
    ndx_buf_free(&b);
    /* 64 KB: SIGXFSZ ignored, a write past it fails with EFBIG. */
    snprintf(cmd, sizeof cmd,
             "trap '' XFSZ; ulimit -f 64; %s -o '%s/ix' --add '%s/d%u.jsonl'",
             t_prog("newsdex-index"), dir, dir, NDX_MERGE_FACTOR - 1);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, &err), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "warning: 1 articles added, "
                                       "committed to "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "; merging segments failed: "));
    snprintf(path, sizeof path, "; the index is intact (%u segments) and "
             "will merge at the next commit", NDX_MERGE_FACTOR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    CU_ASSERT_PTR_NULL(strstr(err, "nothing was committed"));
    free(err);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-search", &out, NULL,
                               "-i '%s/ix' --json latecomer", dir), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"total\":1"));
    free(out);

    snprintf(cmd, sizeof cmd,
             "trap '' XFSZ; ulimit -f 64; %s -o '%s/ix' --optimize",
             t_prog("newsdex-index"), dir);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, &err), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "newsdex-index: merging segments "
                                       "failed: "));
    snprintf(path, sizeof path, "; the index is intact (%u segments) and "
             "is not merged into one segment", NDX_MERGE_FACTOR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    CU_ASSERT_PTR_NULL(strstr(err, "merged into one segment in"));
    free(err);

    CU_ASSERT_EQUAL(t_run_prog("newsdex-index", NULL, NULL,
                               "-q -o '%s/ix' --delete nosuch", dir), 0);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-index", &out, NULL,
                               "--info '%s/ix' --json", dir), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    snprintf(path, sizeof path, "\"articles\":%u,", NDX_MERGE_FACTOR);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"segments\":1,"));
    free(out);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-index", NULL, NULL,
                               "--check '%s/ix'", dir), 0);
}

/* ---- the command line ----------------------------------------------------- */

/* --add - reads JSON Lines from standard input; --delete takes ids as
 * arguments, --delete-from a file or standard input, one id a line; ids
 * not in the index are reported and counted, and the run succeeds. */
static void
test_live_cli_delete_and_stdin(void)
{
    const char *dir = t_tmpdir();
    char cmd[4000], ids[600], *out = NULL, *err = NULL;
    const char *lines =
        "{\"id\":\"a1\",\"source\":\"Wire\",\"date\":\"2024-05-01\","
        "\"title\":\"Harbor\",\"text\":\"The harbor ferry crossed the bay "
        "twice on Monday while the council argued about the budget for the "
        "new bridge and the schools.\"}\n"
        "{\"id\":\"a2\",\"source\":\"Wire\",\"date\":\"2024-05-02\","
        "\"title\":\"Storm\",\"text\":\"A storm closed the harbor for a day "
        "and the fishing boats stayed in, the mayor said, while farmers "
        "counted the damage to the wheat.\"}\n"
        "{\"id\":\"a3\",\"source\":\"Post\",\"date\":\"2024-05-03\","
        "\"title\":\"Market\",\"text\":\"The river market opened again after "
        "the storm, with prices for wheat and fish higher than last week, "
        "and nurses held a festival.\"}\n";
    char in[700];

    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    CU_ASSERT_FATAL(t_write(in, lines, strlen(lines)) == 0);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-index", NULL, NULL,
                               "-q -o '%s/ix' --add - < '%s'", dir, in), 0);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-search", &out, NULL,
                               "-i '%s/ix' --json harbor", dir), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"total\":2"));
    free(out);

    CU_ASSERT_EQUAL(t_run_prog("newsdex-index", NULL, &err,
                               "-o '%s/ix' --delete a1 nosuch", dir), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no article with id 'nosuch'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "deleted 1 articles"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "1 ids not in the index"));
    free(err);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-search", &out, NULL,
                               "-i '%s/ix' --json harbor", dir), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"total\":1"));
    CU_ASSERT_PTR_NULL(strstr(out, "\"a1\""));
    free(out);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-search", NULL, NULL,
                               "-i '%s/ix' --get a1", dir), 1);

    /* From standard input: a2, a blank line, an unknown id, a3 with a
     * carriage return. */
    snprintf(cmd, sizeof cmd,
             "printf 'a2\\n\\nzz\\na3\\r\\n' | %s -o '%s/ix' --delete-from -",
             t_prog("newsdex-index"), dir);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "standard input:3: no article with "
                                       "id 'zz'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "deleted 2 articles"));
    free(err);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-search", &out, NULL,
                               "-i '%s/ix' --stats", dir), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"articles\":0"));
    free(out);

    /* From a file, with additions after the deletions in the same run. */
    snprintf(ids, sizeof ids, "%s/ids", dir);
    CU_ASSERT_FATAL(t_write(ids, "a1\n", 3) == 0);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-index", NULL, NULL,
                               "-q -o '%s/ix' --delete-from '%s' --add '%s'",
                               dir, ids, in), 0);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-search", &out, NULL,
                               "-i '%s/ix' --stats", dir), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"articles\":3"));
    free(out);

    /* Usage errors: no ids; deleting from an index that does not exist. */
    CU_ASSERT_EQUAL(t_run_prog("newsdex-index", NULL, NULL,
                               "-o '%s/ix' --delete", dir), 2);
    CU_ASSERT_EQUAL(t_run_prog("newsdex-index", NULL, &err,
                               "-o '%s/none' --delete a1", dir), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no newsdex index"));
    free(err);
}

CU_TestInfo live_tests[] = {
    {"native batches equal one build",
     test_live_native_batches_equal_one_build},
    {"xapian batches equal one build",
     test_live_xapian_batches_equal_one_build},
    {"segment count stays logarithmic",
     test_live_segment_count_stays_logarithmic},
    {"re-adding reclaims space", test_live_readding_reclaims_space},
    {"merge copies text with its dictionaries",
     test_live_merge_copies_text_with_its_dictionaries},
    {"reader sees commits after refresh",
     test_live_reader_sees_commits_after_refresh},
    {"kill during merge leaves a commit",
     test_live_kill_during_merge_leaves_a_commit},
    {"failed merge keeps the commit", test_live_failed_merge_keeps_the_commit},
    {"cli reports a failed merge as committed",
     test_live_cli_reports_a_failed_merge_as_committed},
    {"cli delete and stdin", test_live_cli_delete_and_stdin},
    CU_TEST_INFO_NULL,
};
