/*
 * test_native.c - the native engine's segment format, cursors, manifest,
 * deletions and crash safety, below the index front.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "native/manifest.h"
#include "native/segment.h"
#include "newsdex/newsdex.h"
#include "support.h"
#include "util/file.h"

/* An untitled article without a url, of one passage-worthy text. */
static void
set_article(ndx_article *a, char *id, char *source, char *text,
            int32_t date_days)
{
    memset(a, 0, sizeof *a);
    a->id = id;
    a->source = source;
    a->title = "";
    a->url = "";
    a->text = text;
    a->text_len = strlen(text);
    a->date_days = date_days;
    a->time_secs = -1;
}

/* Adds article a, its whole text one passage, to the segment writer w
 * (ts: a term set to build into). */
static void
add_one_passage(ndx_segw *w, ndx_analyzer *an, ndx_termset *ts,
                const ndx_article *a)
{
    ndx_passages p = {0};

    CU_ASSERT_FATAL(ndx_passages_push(&p, 0, (uint32_t)a->text_len) ==
                    NDX_OK);
    CU_ASSERT_FATAL(ndx_termset_build(ts, an, NULL, 0, a->text,
                                      a->text_len) == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_add(w, a, &p, ts, NULL) == NDX_OK);
    ndx_passages_clear(&p);
}

/* Builds a segment of n one-passage articles: passage i says "alpha"
 * (i % 5 + 1) times, then "beta" when i % 7 == 0, then "gamma". */
static char *
build_alpha_segment(unsigned n)
{
    static char path[400];
    ndx_analyzer *an;
    ndx_segw *w;
    ndx_termset ts;
    unsigned i, k;

    snprintf(path, sizeof path, "%s/seg-000001.ndx", t_tmpdir());
    CU_ASSERT_FATAL(ndx_analyzer_new(&an, "english") == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_new(&w) == NDX_OK);
    ndx_termset_init(&ts);
    for (i = 0; i < n; i++) {
        char text[200] = "", id[32];
        ndx_article a;

        for (k = 0; k < i % 5 + 1; k++)
            strcat(text, "alpha ");
        if (i % 7 == 0)
            strcat(text, "beta ");
        strcat(text, "gamma");
        snprintf(id, sizeof id, "art-%u", i);
        set_article(&a, id, i % 2 ? "Odd Times" : "Even Post", text,
                    20000 + (int32_t)i);
        add_one_passage(w, an, &ts, &a);
    }
    CU_ASSERT_FATAL(ndx_segw_flush(w, path) == NDX_OK);
    ndx_termset_free(&ts);
    ndx_segw_free(w);
    ndx_analyzer_free(an);
    return path;
}

static void
test_native_postings_round_trip_across_blocks(void)
{
    char *path = build_alpha_segment(1000);
    ndx_seg *s;
    ndx_seg_term t;
    ndx_pcur c;
    uint32_t expect = 0, count = 0;

    CU_ASSERT_FATAL(ndx_seg_open(&s, path, 1) == NDX_OK);
    CU_ASSERT_EQUAL(s->passages, 1000);
    CU_ASSERT_EQUAL(s->articles, 1000);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "alpha", 5, &t), 1);
    CU_ASSERT_EQUAL(t.df, 1000);
    CU_ASSERT_TRUE(t.has_pos);
    ndx_pcur_init(&c, s, &t);
    while (c.id != NDX_PID_END) {
        CU_ASSERT_EQUAL(c.id, expect);
        CU_ASSERT_EQUAL(ndx_pcur_wdf(&c), expect % 5 + 1);
        expect++;
        count++;
        ndx_pcur_next(&c);
    }
    CU_ASSERT_EQUAL(count, 1000);
    CU_ASSERT_FALSE(c.corrupt);
    /* beta: passages 0, 7, 14, ..., 994: 143 of them */
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "beta", 4, &t), 1);
    CU_ASSERT_EQUAL(t.df, 143);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "Zalpha", 6, &t), 1);
    CU_ASSERT_FALSE(t.has_pos);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "delta", 5, &t), 0);
    ndx_seg_close(s);
}

static void
test_native_seek_skips_blocks_and_finds_positions(void)
{
    char *path = build_alpha_segment(1000);
    ndx_seg *s;
    ndx_seg_term t;
    ndx_pcur c;
    uint32_t pos[8];

    CU_ASSERT_FATAL(ndx_seg_open(&s, path, 0) == NDX_OK);
    CU_ASSERT_FATAL(ndx_seg_lookup(s, "beta", 4, &t) == 1);
    ndx_pcur_init(&c, s, &t);
    ndx_pcur_seek(&c, 500);          /* next multiple of 7 is 504 */
    CU_ASSERT_EQUAL(c.id, 504);
    /* passage 504: 504 % 5 + 1 = 5 alphas, so beta stands at 5 */
    CU_ASSERT_EQUAL(ndx_pcur_positions(&c, pos, 8), 1);
    CU_ASSERT_EQUAL(pos[0], 5);
    ndx_pcur_seek(&c, 504);          /* no move backwards or in place */
    CU_ASSERT_EQUAL(c.id, 504);
    ndx_pcur_seek(&c, 995);
    CU_ASSERT_EQUAL(c.id, NDX_PID_END);

    CU_ASSERT_FATAL(ndx_seg_lookup(s, "gamma", 5, &t) == 1);
    ndx_pcur_init(&c, s, &t);
    ndx_pcur_seek(&c, 333);
    CU_ASSERT_EQUAL(c.id, 333);
    /* 333 % 5 + 1 = 4 alphas; 333 % 7 = 4, no beta: gamma at 4 */
    CU_ASSERT_EQUAL(ndx_pcur_positions(&c, pos, 8), 1);
    CU_ASSERT_EQUAL(pos[0], 4);
    ndx_pcur_next(&c);
    /* 334: 5 alphas, 334 % 7 = 5, no beta: gamma at 5 */
    CU_ASSERT_EQUAL(c.id, 334);
    CU_ASSERT_EQUAL(ndx_pcur_positions(&c, pos, 8), 1);
    CU_ASSERT_EQUAL(pos[0], 5);
    ndx_seg_close(s);
}

static int
count_term(void *ctx, const char *term, size_t len, const ndx_seg_term *t)
{
    (void)term;
    (void)len;
    (void)t;
    (*(int *)ctx)++;
    return 0;
}

static void
test_native_dictionary_prefix_walks_only_matches(void)
{
    char path[400];
    ndx_analyzer *an;
    ndx_segw *w;
    ndx_termset ts;
    ndx_seg *s;
    ndx_seg_term t;
    unsigned i;
    int n = 0;
    char text[32];

    snprintf(path, sizeof path, "%s/seg-000001.ndx", t_tmpdir());
    CU_ASSERT_FATAL(ndx_analyzer_new(&an, "english") == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_new(&w) == NDX_OK);
    ndx_termset_init(&ts);
    /* 300 words "wa000".."wa299" and "wb000".."wb099": 400 passages */
    for (i = 0; i < 400; i++) {
        ndx_article a;
        char id[16];

        snprintf(text, sizeof text, "w%c%03u", i < 300 ? 'a' : 'b',
                 i < 300 ? i : i - 300);
        snprintf(id, sizeof id, "%u", i);
        memset(&a, 0, sizeof a);
        a.id = id;
        a.source = "x";
        a.text = text;
        a.text_len = strlen(text);
        a.date_days = NDX_DATE_NONE;
        add_one_passage(w, an, &ts, &a);
    }
    CU_ASSERT_FATAL(ndx_segw_flush(w, path) == NDX_OK);
    CU_ASSERT_FATAL(ndx_seg_open(&s, path, 1) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_check(s), NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "wa150", 5, &t), 1);
    CU_ASSERT_EQUAL(t.df, 1);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "wb099", 5, &t), 1);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "wb100", 5, &t), 0);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "a", 1, &t), 0);
    CU_ASSERT_EQUAL(ndx_seg_prefix(s, "wa1", 3, count_term, &n), 0);
    CU_ASSERT_EQUAL(n, 100);         /* wa100..wa199 */
    n = 0;
    CU_ASSERT_EQUAL(ndx_seg_prefix(s, "wb", 2, count_term, &n), 0);
    CU_ASSERT_EQUAL(n, 100);
    n = 0;
    CU_ASSERT_EQUAL(ndx_seg_prefix(s, "wc", 2, count_term, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    ndx_seg_close(s);
    ndx_termset_free(&ts);
    ndx_segw_free(w);
    ndx_analyzer_free(an);
}

/* The walk's terms as a flat list, for test_native_lookup_... */
typedef struct termlist {
    char (*t)[NDX_SEG_TERM_MAX];
    size_t *len;
    ndx_seg_term *e;
    size_t n, cap;
} termlist;

static long
termlist_find(const termlist *l, const char *t, size_t len)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (l->len[i] == len && memcmp(l->t[i], t, len) == 0)
            return (long)i;
    return -1;
}

/*
 * Look-ups compare by the entries' shared prefixes: every term of a
 * dictionary full of shared prefixes (the 363 words of one to five of the
 * letters k, q and x, and their stems) is found with the entry the walk
 * reads, and of all 5,460 strings of one to six of k, q, x and Z exactly
 * those the walk lists are found.
 */
static void
test_native_lookup_finds_every_term_and_nothing_else(void)
{
    static const char letters[] = "kqxZ";
    char path[400], text[64], probe[8];
    ndx_analyzer *an;
    ndx_segw *w;
    ndx_termset ts;
    ndx_seg *s;
    ndx_seg_term t;
    ndx_seg_walk wk;
    termlist l = {0};
    unsigned i, len, words = 0, passages = 0, found = 0;
    size_t tl = 0;
    int r;

    snprintf(path, sizeof path, "%s/seg-lookup.ndx", t_tmpdir());
    CU_ASSERT_FATAL(ndx_analyzer_new(&an, "english") == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_new(&w) == NDX_OK);
    ndx_termset_init(&ts);
    for (len = 1; len <= 5; len++) {
        unsigned count = 1, v;

        for (i = 0; i < len; i++)
            count *= 3;
        for (v = 0; v < count; v++) {
            unsigned x = v;

            for (i = 0; i < len; i++, x /= 3)
                text[tl + i] = letters[x % 3];
            text[tl + len] = ' ';
            tl += len + 1;
            words++;
            if (words % 8 == 0 || (len == 5 && v == count - 1)) {
                ndx_article a;
                char id[16];

                text[tl - 1] = '\0';
                snprintf(id, sizeof id, "p%u", passages++);
                set_article(&a, id, "x", text, NDX_DATE_NONE);
                add_one_passage(w, an, &ts, &a);
                tl = 0;
            }
        }
    }
    CU_ASSERT_EQUAL(words, 363);
    CU_ASSERT_FATAL(ndx_segw_flush(w, path) == NDX_OK);
    CU_ASSERT_FATAL(ndx_seg_open(&s, path, 1) == NDX_OK);
    ndx_seg_walk_start(&wk, s);
    while ((r = ndx_seg_walk_next(&wk, &t)) == 1) {
        CU_ASSERT_FATAL(ndx_grow((void **)&l.t, &l.cap, l.n + 1,
                                 sizeof *l.t, 64) == 0);
        l.len = realloc(l.len, l.cap * sizeof *l.len);
        l.e = realloc(l.e, l.cap * sizeof *l.e);
        CU_ASSERT_FATAL(l.len && l.e);
        memcpy(l.t[l.n], wk.term, wk.len);
        l.len[l.n] = wk.len;
        l.e[l.n] = t;
        l.n++;
    }
    CU_ASSERT_EQUAL(r, 0);
    /* Each word and its stem ("Z" and the word: the stemmer keeps them). */
    CU_ASSERT_EQUAL(l.n, 2 * 363);
    CU_ASSERT(s->dict_blocks > 8);
    for (i = 0; i < l.n; i++) {
        CU_ASSERT_EQUAL(ndx_seg_lookup(s, l.t[i], l.len[i], &t), 1);
        CU_ASSERT_EQUAL(t.post_off, l.e[i].post_off);
        CU_ASSERT_EQUAL(t.post_len, l.e[i].post_len);
        CU_ASSERT_EQUAL(t.pos_off, l.e[i].pos_off);
        CU_ASSERT_EQUAL(t.df, l.e[i].df);
        CU_ASSERT_EQUAL(t.has_pos, l.e[i].has_pos);
    }
    for (len = 1; len <= 6; len++) {
        unsigned count = 1u << (2 * len), v;

        for (v = 0; v < count; v++) {
            unsigned x = v;
            long at;

            for (i = 0; i < len; i++, x >>= 2)
                probe[i] = letters[x & 3];
            at = termlist_find(&l, probe, len);
            r = ndx_seg_lookup(s, probe, len, &t);
            CU_ASSERT_EQUAL(r, at >= 0);
            if (r == 1 && at >= 0) {
                CU_ASSERT_EQUAL(t.post_off, l.e[at].post_off);
                found++;
            }
        }
    }
    CU_ASSERT_EQUAL(found, l.n);
    free(l.t);
    free(l.len);
    free(l.e);
    ndx_seg_close(s);
    ndx_termset_free(&ts);
    ndx_segw_free(w);
    ndx_analyzer_free(an);
}

static void
flip_byte(const char *path, long off)
{
    FILE *f = fopen(path, "r+b");
    int ch;

    CU_ASSERT_FATAL(f != NULL);
    fseek(f, off, off < 0 ? SEEK_END : SEEK_SET);
    ch = fgetc(f);
    fseek(f, -1, SEEK_CUR);
    fputc(ch ^ 0x5A, f);
    fclose(f);
}

static void
test_native_damaged_segment_is_reported_not_crashed(void)
{
    char *path = build_alpha_segment(300);
    ndx_seg *s;
    struct stat sb;

    /* A flipped byte in the middle: open (no full verify) may succeed;
     * the check must fail. */
    flip_byte(path, 200);
    if (ndx_seg_open(&s, path, 0) == NDX_OK) {
        CU_ASSERT_EQUAL(ndx_seg_check(s), NDX_ECORRUPT);
        ndx_seg_close(s);
    }
    CU_ASSERT_EQUAL(ndx_seg_open(&s, path, 1), NDX_ECORRUPT);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(ndx_errmsg(), path));

    /* Truncated: the trailer is gone. */
    path = build_alpha_segment(300);
    CU_ASSERT_FATAL(stat(path, &sb) == 0);
    CU_ASSERT_FATAL(truncate(path, sb.st_size - 10) == 0);
    CU_ASSERT_EQUAL(ndx_seg_open(&s, path, 0), NDX_ECORRUPT);

    /* Another format version. */
    path = build_alpha_segment(10);
    flip_byte(path, 8);
    CU_ASSERT_EQUAL(ndx_seg_open(&s, path, 0), NDX_EVERSION);
}

static void
test_native_manifest_round_trip_and_checksum(void)
{
    const char *dir = t_tmpdir();
    ndx_manifest m, r;
    char path[400];

    memset(&m, 0, sizeof m);
    m.generation = 7;
    m.next = 12;
    CU_ASSERT_FATAL(ndx_manifest_push(&m, "seg-000003.ndx", NULL) == 0);
    CU_ASSERT_FATAL(ndx_manifest_push(&m, "seg-000009.ndx",
                                      "seg-000009.ndx.del-11") == 0);
    CU_ASSERT_FATAL(ndx_manifest_write(dir, &m) == NDX_OK);
    CU_ASSERT_FATAL(ndx_manifest_read(dir, &r) == NDX_OK);
    CU_ASSERT_EQUAL(r.generation, 7);
    CU_ASSERT_EQUAL(r.next, 12);
    CU_ASSERT_EQUAL(r.count, 2);
    CU_ASSERT_STRING_EQUAL(r.segs[0].name, "seg-000003.ndx");
    CU_ASSERT_STRING_EQUAL(r.segs[0].del, "");
    CU_ASSERT_STRING_EQUAL(r.segs[1].del, "seg-000009.ndx.del-11");
    ndx_manifest_clear(&r);
    /* "generation 7" -> "generation 8": the checksum catches it */
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    {
        char *text = t_slurp(path, NULL);
        char *g = strstr(text, "generation 7");

        CU_ASSERT_FATAL(g != NULL);
        g[11] = '8';
        t_write(path, text, strlen(text));
        free(text);
    }
    CU_ASSERT_EQUAL(ndx_manifest_read(dir, &r), NDX_ECORRUPT);
    ndx_manifest_clear(&m);
}

static void
test_native_writer_lock_excludes_second_writer(void)
{
    const char *dir = t_tmpdir();
    int fd1 = -1, fd2 = -1;

    CU_ASSERT_EQUAL(ndx_lock_take(dir, &fd1), NDX_OK);
    CU_ASSERT_EQUAL(ndx_lock_take(dir, &fd2), NDX_ELOCKED);
    ndx_lock_release(fd1);
    CU_ASSERT_EQUAL(ndx_lock_take(dir, &fd2), NDX_OK);
    ndx_lock_release(fd2);
}

/* Article i of a small synthetic archive: words chosen by i so that
 * "harbor" is in every third article and "ferry" in every fourth. */
static void
synthetic_article(unsigned i, unsigned version, char *text, size_t cap,
                  ndx_article *a, char *id)
{
    snprintf(text, cap,
             "Report number %u from the coast, edition %u. %s %s The council "
             "met again on Tuesday to discuss the budget and the schools.",
             i, version, i % 3 == 0 ? "The harbor was busy all week." : "",
             i % 4 == 0 ? "A ferry crossed twice, and the ferry was late."
                        : "");
    sprintf(id, "syn-%u", i);
    set_article(a, id, i % 2 ? "Coast Daily" : "Harbor News", text,
                19000 + (int32_t)i);
}

static void
search_ids(ndx_index *ix, const char *q, char *out, size_t cap)
{
    ndx_results *r;
    ndx_search_opts o;
    size_t i;

    ndx_search_opts_init(&o);
    o.k = 100;
    out[0] = '\0';
    CU_ASSERT_FATAL(ndx_index_search(ix, q, &o, &r, NULL) == NDX_OK);
    for (i = 0; i < r->count; i++) {
        char one[64];

        snprintf(one, sizeof one, "%s:%.9f ", r->hits[i].article,
                 r->hits[i].score);
        strncat(out, one, cap - strlen(out) - 1);
    }
    ndx_results_free(r);
}

static void
test_native_many_commits_merge_and_rank_like_one_build(void)
{
    const char *dir = t_tmpdir();
    char inc[400], one[400], text[400], id[32];
    char a_res[4000], b_res[4000];
    const char *queries[] = {"harbor", "ferry", "council budget", "harbor OR ferry",
                             "\"the ferry\"", "edition -harbor"};
    ndx_engine_config cfg;
    ndx_index *ix;
    ndx_stats st;
    ndx_article a;
    unsigned i;
    size_t q;

    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    /* Four segments of one tier merge: the 15 commits below leave three
     * (merges at commits 4, 7, 10 and 13). */
    cfg.merge_factor = 4;
    snprintf(inc, sizeof inc, "%s/inc", dir);
    snprintf(one, sizeof one, "%s/one", dir);
    /* 14 commits of 2 articles each, then article 5 replaced. */
    for (i = 0; i < 28; i += 2) {
        unsigned k;

        CU_ASSERT_FATAL(ndx_index_open(&ix, inc, NDX_OPEN_WRITE |
                                       (i ? NDX_OPEN_ADD : 0), "native",
                                       &cfg) == NDX_OK);
        for (k = i; k < i + 2; k++) {
            synthetic_article(k, 1, text, sizeof text, &a, id);
            CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
        }
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
        CU_ASSERT(st.segments <= 8);
        ndx_stats_clear(&st);
        ndx_index_close(ix);
    }
    CU_ASSERT_FATAL(ndx_index_open(&ix, inc, NDX_OPEN_WRITE | NDX_OPEN_ADD,
                                   "native", &cfg) == NDX_OK);
    synthetic_article(5, 2, text, sizeof text, &a, id);
    CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);

    /* The same final archive in one build: article 5 last, as version 2. */
    CU_ASSERT_FATAL(ndx_index_open(&ix, one, NDX_OPEN_WRITE, "native",
                                   &cfg) == NDX_OK);
    for (i = 0; i < 28; i++) {
        if (i == 5)
            continue;
        synthetic_article(i, 1, text, sizeof text, &a, id);
        CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    }
    synthetic_article(5, 2, text, sizeof text, &a, id);
    CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);

    for (q = 0; q < sizeof queries / sizeof *queries; q++) {
        CU_ASSERT_FATAL(ndx_index_open(&ix, inc, NDX_OPEN_READ, NULL,
                                       NULL) == NDX_OK);
        search_ids(ix, queries[q], a_res, sizeof a_res);
        CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
        CU_ASSERT_EQUAL(st.articles, 28);
        CU_ASSERT(st.segments <= 8);
        ndx_stats_clear(&st);
        ndx_index_close(ix);
        CU_ASSERT_FATAL(ndx_index_open(&ix, one, NDX_OPEN_READ, NULL,
                                       NULL) == NDX_OK);
        search_ids(ix, queries[q], b_res, sizeof b_res);
        ndx_index_close(ix);
        if (strcmp(a_res, b_res) != 0)
            fprintf(stderr, "\n%s:\n inc %s\n one %s\n", queries[q], a_res,
                    b_res);
        CU_ASSERT_STRING_EQUAL(a_res, b_res);
    }
    /* Distinct terms count each term once over the segments: the
     * incremental index (several segments; the words of article 5's first
     * version all occur in other articles too) has as many as the one
     * built at once. */
    {
        uint64_t inc_terms, inc_segs;

        CU_ASSERT_FATAL(ndx_index_open(&ix, inc, NDX_OPEN_READ, NULL,
                                       NULL) == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
        inc_terms = st.terms;
        inc_segs = st.segments;
        ndx_stats_clear(&st);
        ndx_index_close(ix);
        CU_ASSERT_FATAL(ndx_index_open(&ix, one, NDX_OPEN_READ, NULL,
                                       NULL) == NDX_OK);
        CU_ASSERT_FATAL(ndx_index_stats(ix, &st) == NDX_OK);
        CU_ASSERT(inc_segs > 1);
        CU_ASSERT_EQUAL(st.segments, 1);
        CU_ASSERT_EQUAL(inc_terms, st.terms);
        ndx_stats_clear(&st);
        ndx_index_close(ix);
    }
    /* "harbor": articles 0, 3, ..., 27: ten of them. */
    CU_ASSERT_FATAL(ndx_index_open(&ix, inc, NDX_OPEN_READ, NULL, NULL) == 0);
    search_ids(ix, "harbor", a_res, sizeof a_res);
    CU_ASSERT_EQUAL(t_count(a_res, "syn-"), 10);
    CU_ASSERT_EQUAL(ndx_index_check(inc), NDX_OK);
    ndx_index_close(ix);
}

/* The j-th of 40 words that share the prefix "zq": zqaa, zqab, ... */
static void
zq_word(unsigned j, char *out)
{
    sprintf(out, "zq%c%c", 'a' + j / 26, 'a' + j % 26);
}

/* Search results as "id:score " pairs after the total, for comparing. */
static void
search_total_ids(ndx_index *ix, const char *q, char *out, size_t cap)
{
    ndx_results *r;
    ndx_search_opts o;
    size_t i, n;

    ndx_search_opts_init(&o);
    o.k = 50;
    o.exact_total = 1; /* the totals below count every article */
    CU_ASSERT_FATAL(ndx_index_search(ix, q, &o, &r, NULL) == NDX_OK);
    CU_ASSERT(r->total_exact);
    n = (size_t)snprintf(out, cap, "%llu ", (unsigned long long)r->total);
    for (i = 0; i < r->count && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s:%.12f ",
                              r->hits[i].article, r->hits[i].score);
    ndx_results_free(r);
}

static void
test_native_wide_prefix_scores_as_the_or_of_its_words(void)
{
    const char *dir = t_tmpdir();
    char path[400], text[200], id[32], w1[8], w2[8];
    char ors[800], q[1000], a_res[4000], b_res[4000];
    ndx_engine_config cfg;
    ndx_index *ix;
    ndx_article a;
    unsigned i, j, commit;
    size_t n = 0;

    /* 20,000 one-passage articles in two commits, so that one segment
     * spans two union windows and the other is a second segment.
     * Article i holds the words zq(i % 40) and zq(i * 7 % 40), and
     * "ferry" when i is even. */
    ndx_engine_config_init(&cfg);
    cfg.threads = 1;
    snprintf(path, sizeof path, "%s/wide", dir);
    for (commit = 0; commit < 2; commit++) {
        unsigned lo = commit ? 18000 : 0, hi = commit ? 20000 : 18000;

        CU_ASSERT_FATAL(ndx_index_open(&ix, path, NDX_OPEN_WRITE |
                                       (commit ? NDX_OPEN_ADD : 0),
                                       "native", &cfg) == NDX_OK);
        for (i = lo; i < hi; i++) {
            zq_word(i % 40, w1);
            zq_word(i * 7 % 40, w2);
            snprintf(text, sizeof text, "Item %u says %s and %s%s.", i, w1,
                     w2, i % 2 ? "" : " by ferry");
            sprintf(id, "wide-%u", i);
            set_article(&a, id, "Wire", text, 19000);
            CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
        }
        CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
        ndx_index_close(ix);
    }
    /* The same words as an OR of one-word phrases (surface forms, as a
     * prefix matches them), in the prefix's sorted order. */
    for (j = 0; j < 40; j++) {
        zq_word(j, w1);
        n += (size_t)snprintf(ors + n, sizeof ors - n, "%s\"%s\"",
                              j ? " OR " : "", w1);
    }
    CU_ASSERT_FATAL(ndx_index_open(&ix, path, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    search_total_ids(ix, "zq*", a_res, sizeof a_res);
    snprintf(q, sizeof q, "(%s)", ors);
    search_total_ids(ix, q, b_res, sizeof b_res);
    CU_ASSERT_STRING_EQUAL(a_res, b_res);
    CU_ASSERT(strncmp(a_res, "20000 ", 6) == 0); /* every article */

    search_total_ids(ix, "zq* ferry", a_res, sizeof a_res);
    snprintf(q, sizeof q, "(%s) ferry", ors);
    search_total_ids(ix, q, b_res, sizeof b_res);
    CU_ASSERT_STRING_EQUAL(a_res, b_res);
    CU_ASSERT(strncmp(a_res, "10000 ", 6) == 0); /* the even ones */

    /* zqab is word 1: i % 40 == 1 or i * 7 % 40 == 1 (i % 40 == 23),
     * 1,000 articles; the other 19,000 remain. */
    search_total_ids(ix, "zq* -zqab", a_res, sizeof a_res);
    snprintf(q, sizeof q, "(%s) -zqab", ors);
    search_total_ids(ix, q, b_res, sizeof b_res);
    CU_ASSERT_STRING_EQUAL(a_res, b_res);
    CU_ASSERT(strncmp(a_res, "19000 ", 6) == 0);
    ndx_index_close(ix);
}

/* Bytes of file a when file b holds the same ones, else 0. */
static size_t
same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0, same;
    char *x = t_slurp(a, &la), *y = t_slurp(b, &lb);

    same = x && y && la == lb && memcmp(x, y, la) == 0 ? la : 0;
    free(x);
    free(y);
    return same;
}

/* The text add_text_articles gives passage i. */
static void
text_article_want(char *out, size_t cap, unsigned i)
{
    snprintf(out, cap, "This is passage %u of the spill series, and its "
             "words run on for a while so that blocks of stored text fill "
             "up and many of them are written, number %u.", i, i * 7);
}

/* Adds articles first..first+n-1 of a text-heavy series to w: article i
 * says "passage i" in a sentence long enough to fill text blocks. */
static void
add_text_articles(ndx_segw *w, ndx_analyzer *an, unsigned first, unsigned n)
{
    ndx_termset ts;
    unsigned i;

    ndx_termset_init(&ts);
    for (i = first; i < first + n; i++) {
        char text[300], id[32];
        ndx_article a;

        text_article_want(text, sizeof text, i);
        snprintf(id, sizeof id, "sp-%u", i);
        set_article(&a, id, "Spill Wire", text, 20000);
        add_one_passage(w, an, &ts, &a);
    }
    ndx_termset_free(&ts);
}

static void
test_native_spilled_text_writes_the_same_segments(void)
{
    const char *dir = t_tmpdir();
    char mem1[400], mem2[400], sp1[400], sp2[400], want[300];
    ndx_analyzer *an;
    ndx_segw *wm, *ws;
    ndx_seg *s;
    ndx_buf b;

    snprintf(mem1, sizeof mem1, "%s/seg-000001.ndx", dir);
    snprintf(mem2, sizeof mem2, "%s/seg-000002.ndx", dir);
    snprintf(sp1, sizeof sp1, "%s/seg-000003.ndx", dir);
    snprintf(sp2, sizeof sp2, "%s/seg-000004.ndx", dir);
    CU_ASSERT_FATAL(ndx_analyzer_new(&an, "english") == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_new(&wm) == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_new(&ws) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_segw_spill(ws, dir), NDX_OK);
    CU_ASSERT_EQUAL(ndx_segw_spill(ws, dir), NDX_EINVAL); /* only once */
    /* The spilling writer compresses in its own thread as well, and so
     * encodes the terms of a segment of more than 4,096 in two threads
     * (the first segment below; the second has fewer). */
    CU_ASSERT_EQUAL(ndx_segw_background(ws), NDX_OK);
    /* Two segments from each writer: the second one starts over in the
     * spill file that the first one emptied. */
    add_text_articles(wm, an, 0, 3000);
    add_text_articles(ws, an, 0, 3000);
    CU_ASSERT_FATAL(ndx_segw_flush(wm, mem1) == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_flush(ws, sp1) == NDX_OK);
    add_text_articles(wm, an, 3000, 500);
    add_text_articles(ws, an, 3000, 500);
    CU_ASSERT_FATAL(ndx_segw_flush(wm, mem2) == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_flush(ws, sp2) == NDX_OK);
    CU_ASSERT(same_file(mem1, sp1) > 100000); /* many text blocks */
    CU_ASSERT(same_file(mem2, sp2) > 0);
    CU_ASSERT_FATAL(ndx_seg_open(&s, sp1, 1) == NDX_OK);
    CU_ASSERT(s->terms > 4096);
    ndx_seg_close(s);
    /* The last passage of the second segment reads back whole. */
    CU_ASSERT_FATAL(ndx_seg_open(&s, sp2, 1) == NDX_OK);
    CU_ASSERT_EQUAL(s->passages, 500);
    ndx_buf_init(&b);
    CU_ASSERT_EQUAL_FATAL(ndx_seg_text(s, 499, &b), NDX_OK);
    text_article_want(want, sizeof want, 3499);
    CU_ASSERT(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
    ndx_buf_free(&b);
    ndx_seg_close(s);
    ndx_segw_free(wm);
    ndx_segw_free(ws);
    ndx_analyzer_free(an);
}

/* Gives the writer the stored passages of a merge: 2,000 articles of 70
 * passages, each article with a url of some 6,000 bytes, so that the
 * passages' columns and text locations (8 and 12 bytes each, 1.1 and 1.7
 * MB) pass the 1 MB a spool holds in memory, and the articles' strings
 * (12 MB) pass it many times over. */
static void
add_stored_series(ndx_segw *w)
{
    enum { ARTS = 2000, PER = 70 };
    ndx_segw_stored p[PER];
    static char url[6100];
    char texts[PER][48], id[32];
    ndx_article a;
    uint32_t first, k, i;

    for (i = 0; i < ARTS; i++) {
        snprintf(id, sizeof id, "st-%u", i);
        snprintf(url, sizeof url, "https://example.com/%06000u", i);
        set_article(&a, id, i % 3 ? "Wire" : "Other Wire", "", 19000 + i);
        a.url = url;
        a.title = "A title that every article of the series has";
        memset(p, 0, sizeof p);
        for (k = 0; k < PER; k++) {
            snprintf(texts[k], sizeof texts[k], "passage %u of article %u",
                     k, i);
            p[k].text = texts[k];
            p[k].text_len = (uint32_t)strlen(texts[k]);
            p[k].length = 5 + k % 7;
        }
        CU_ASSERT_FATAL(ndx_segw_add_stored(w, &a, PER, p, NULL, 0,
                                            &first) == NDX_OK);
    }
    CU_ASSERT_FATAL(ndx_segw_term_begin(w, "passag", 6) == NDX_OK);
    for (k = 0; k < ARTS * PER; k += 3)
        CU_ASSERT_FATAL(ndx_segw_term_posting(w, k, 1 + k % 2, NULL, 0) ==
                        NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_term_end(w) == NDX_OK);
}

/* A merge's writer sends its passages' and articles' tables to temporary
 * files as it goes (a writer that may spill does): the segment is byte
 * for byte the one a writer holding them in memory writes, twice over
 * (the second segment reuses the emptied files), and reads back. */
static void
test_native_merge_tables_spooled_write_the_same_segments(void)
{
    const char *dir = t_tmpdir();
    char path[3][400], want[48];
    ndx_segw *w[2];
    ndx_seg *s;
    ndx_seg_article art;
    const char *id, *title, *url;
    ndx_buf b;
    int i;

    for (i = 0; i < 3; i++)
        snprintf(path[i], sizeof path[i], "%s/seg-00000%d.ndx", dir, i + 1);
    /* w[0] holds its tables, w[1] may send them to files. */
    for (i = 0; i < 2; i++) {
        CU_ASSERT_FATAL(ndx_segw_new(&w[i]) == NDX_OK);
        if (i == 1)
            CU_ASSERT_EQUAL(ndx_segw_spill(w[i], dir), NDX_OK);
        add_stored_series(w[i]);
    }
    /* w[1] holds less: the strings are in its file but for the last
     * megabyte or two. */
    CU_ASSERT(ndx_segw_memory(w[1]) + 8000000 < ndx_segw_memory(w[0]));
    /* Its articles may be in files: it looks none up. */
    CU_ASSERT_EQUAL(ndx_segw_find(w[1], "st-5"), -1);
    CU_ASSERT_FATAL(ndx_segw_flush(w[0], path[0]) == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_flush(w[1], path[1]) == NDX_OK);
    add_stored_series(w[1]);
    CU_ASSERT_FATAL(ndx_segw_flush(w[1], path[2]) == NDX_OK);
    CU_ASSERT(same_file(path[0], path[1]) > 14000000);
    CU_ASSERT(same_file(path[0], path[2]) > 14000000);
    CU_ASSERT_FATAL(ndx_seg_open(&s, path[2], 1) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_check(s), NDX_OK);
    CU_ASSERT_EQUAL(s->passages, 140000);
    CU_ASSERT_EQUAL(s->articles, 2000);
    CU_ASSERT_EQUAL(ndx_seg_find(s, "st-1999"), 1999);
    CU_ASSERT_EQUAL_FATAL(ndx_seg_article_read(s, 1999, &art, &id, &title,
                                               &url), NDX_OK);
    CU_ASSERT_STRING_EQUAL(id, "st-1999");
    CU_ASSERT(strlen(url) > 6000 &&
              strcmp(url + strlen(url) - 4, "1999") == 0);
    CU_ASSERT_EQUAL(art.first, 1999 * 70);
    CU_ASSERT_EQUAL(art.date_days, 19000 + 1999);
    ndx_buf_init(&b);
    CU_ASSERT_EQUAL_FATAL(ndx_seg_text(s, 139999, &b), NDX_OK);
    snprintf(want, sizeof want, "passage 69 of article 1999");
    CU_ASSERT(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
    ndx_buf_free(&b);
    ndx_seg_close(s);
    ndx_segw_free(w[0]);
    ndx_segw_free(w[1]);
}

static void
test_native_stored_text_reads_back_through_the_dictionary(void)
{
    const char *dir = t_tmpdir();
    char big[400], small[400], want[300];
    ndx_analyzer *an;
    ndx_segw *w;
    ndx_seg *a, *b;
    ndx_buf t;
    uint64_t raw = 0, i;

    snprintf(big, sizeof big, "%s/seg-000001.ndx", dir);
    snprintf(small, sizeof small, "%s/seg-000002.ndx", dir);
    CU_ASSERT_FATAL(ndx_analyzer_new(&an, "english") == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_new(&w) == NDX_OK);
    /* 30,000 passages of about 150 bytes: more than the sample the
     * dictionary is chosen from (NDX_SEG_TEXT_SAMPLE), so that blocks are
     * compressed both when it is chosen and after. */
    CU_ASSERT_FATAL(30000 * 140 > NDX_SEG_TEXT_SAMPLE);
    add_text_articles(w, an, 0, 30000);
    CU_ASSERT_FATAL(ndx_segw_flush(w, big) == NDX_OK);
    add_text_articles(w, an, 100000, 300);
    CU_ASSERT_FATAL(ndx_segw_flush(w, small) == NDX_OK);
    CU_ASSERT_FATAL(ndx_seg_open(&a, big, 1) == NDX_OK);
    CU_ASSERT_FATAL(ndx_seg_open(&b, small, 1) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_check(a), NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_check(b), NDX_OK);
    /* A full dictionary in the large segment, none in the small one. */
    CU_ASSERT_EQUAL(a->sec_len[SEC_TEXTDICT], NDX_SEG_TEXT_DICT);
    CU_ASSERT_EQUAL(b->sec_len[SEC_TEXTDICT], 0);
    for (i = 0; i < a->text_blocks; i++) {
        uint32_t rlen = ndx_get_u32le(a->sec[SEC_TEXTIDX] + i * 16 + 12);

        CU_ASSERT(rlen > 0 && rlen <= NDX_SEG_TEXT_BLOCK);
        raw += rlen;
    }
    CU_ASSERT(a->text_blocks >= raw / NDX_SEG_TEXT_BLOCK);
    /* The sentences differ only in their numbers: against the dictionary
     * they shrink to under a third (its pieces are 32 bytes long, so a
     * sentence takes a match per piece). */
    CU_ASSERT(a->sec_len[SEC_TEXT] * 3 < raw);
    /* Reads alternate between the segments, so that the block kept from
     * one read is never the next one's. */
    ndx_buf_init(&t);
    for (i = 0; i < 30000; i += 7) {
        text_article_want(want, sizeof want, (unsigned)i);
        CU_ASSERT_EQUAL_FATAL(ndx_seg_text(a, (uint32_t)i, &t), NDX_OK);
        CU_ASSERT(t.len == strlen(want) && memcmp(t.data, want, t.len) == 0);
        text_article_want(want, sizeof want, 100000 + (unsigned)(i % 300));
        CU_ASSERT_EQUAL_FATAL(ndx_seg_text(b, (uint32_t)(i % 300), &t),
                              NDX_OK);
        CU_ASSERT(t.len == strlen(want) && memcmp(t.data, want, t.len) == 0);
    }
    ndx_buf_free(&t);
    ndx_seg_close(a);
    ndx_seg_close(b);
    ndx_segw_free(w);
    ndx_analyzer_free(an);
}

/* Terms given whole (as a merge gives them) are taken in bytewise order
 * only, once each, their postings in passage order; they read back. */
static void
test_native_terms_given_whole_in_order(void)
{
    const char *dir = t_tmpdir();
    char path[400];
    ndx_segw *w;
    ndx_seg *s;
    ndx_article a;
    ndx_segw_stored p[3];
    ndx_seg_term t;
    ndx_pcur c;
    uint32_t first = 99, pos[2] = {0, 3}, k;
    static const char *const texts[] = {"one b", "two bb bb", "three"};

    snprintf(path, sizeof path, "%s/seg-000001.ndx", dir);
    CU_ASSERT_FATAL(ndx_segw_new(&w) == NDX_OK);
    set_article(&a, "w1", "Wire", "", 19000);
    memset(p, 0, sizeof p);
    for (k = 0; k < 3; k++) {
        p[k].text = texts[k];
        p[k].text_len = (uint32_t)strlen(texts[k]);
        p[k].length = 2;
    }
    CU_ASSERT_FATAL(ndx_segw_add_stored(w, &a, 3, p, NULL, 0, &first) ==
                    NDX_OK);
    CU_ASSERT_EQUAL(first, 0);
    CU_ASSERT_EQUAL(ndx_segw_term_end(w), NDX_EINVAL); /* none begun */
    CU_ASSERT_FATAL(ndx_segw_term_begin(w, "b", 1) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_segw_term_begin(w, "c", 1), NDX_EINVAL); /* open */
    CU_ASSERT_EQUAL(ndx_segw_term_posting(w, 0, 1, pos, 1), NDX_OK);
    CU_ASSERT_EQUAL(ndx_segw_term_posting(w, 3, 1, pos, 1), NDX_EINVAL);
    CU_ASSERT_EQUAL(ndx_segw_term_end(w), NDX_OK);
    CU_ASSERT_EQUAL(ndx_segw_term_begin(w, "a", 1), NDX_EINVAL);
    CU_ASSERT_EQUAL(ndx_segw_term_begin(w, "b", 1), NDX_EINVAL);
    CU_ASSERT_FATAL(ndx_segw_term_begin(w, "bb", 2) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_segw_term_posting(w, 1, 2, pos, 2), NDX_OK);
    CU_ASSERT_EQUAL(ndx_segw_term_end(w), NDX_OK);
    /* A term whose postings all went (dropped passages) is left out. */
    CU_ASSERT_FATAL(ndx_segw_term_begin(w, "gone", 4) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_segw_term_end(w), NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_flush(w, path) == NDX_OK);
    ndx_segw_free(w);

    CU_ASSERT_FATAL(ndx_seg_open(&s, path, 1) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_check(s), NDX_OK);
    CU_ASSERT_EQUAL(s->terms, 2);
    CU_ASSERT_EQUAL(ndx_seg_lookup(s, "gone", 4, &t), 0);
    CU_ASSERT_FATAL(ndx_seg_lookup(s, "bb", 2, &t) == 1);
    CU_ASSERT_EQUAL(t.df, 1);
    ndx_pcur_init(&c, s, &t);
    CU_ASSERT_EQUAL(c.id, 1);
    CU_ASSERT_EQUAL(ndx_pcur_wdf(&c), 2);
    CU_ASSERT_EQUAL(ndx_pcur_positions(&c, pos, 2), 2);
    CU_ASSERT(pos[0] == 0 && pos[1] == 3);
    ndx_seg_close(s);
}

/* Position j of the posting of passage k in the test below: increasing,
 * and of one, two and three bytes as varints. */
static uint32_t
long_pos(uint32_t k, uint32_t j)
{
    return j * 70000 + (k * 7919) % 60000 + (k % 3 == 0 ? 0 : 200);
}

/* Where a list's blocks start, as ndx_pcur_each_block gives them. */
typedef struct kept_blocks {
    ndx_pblock b[8];
    size_t n;
} kept_blocks;

static void
keep_block(void *ctx, const ndx_pblock *b, const uint32_t *imp,
           uint32_t nimp)
{
    kept_blocks *k = ctx;

    (void)imp;
    (void)nimp;
    if (k->n < sizeof k->b / sizeof k->b[0])
        k->b[k->n] = *b;
    k->n++;
}

static void
test_native_positions_of_many_blocks_read_back(void)
{
    enum { N = 300 };
    const char *dir = t_tmpdir();
    char path[400];
    ndx_segw *w;
    ndx_seg *s;
    ndx_article a;
    ndx_segw_stored *p = calloc(N, sizeof *p);
    ndx_seg_term t, z;
    ndx_pcur c;
    uint32_t first = 0, pos[8], k, j;
    int same = 1;
    kept_blocks blocks;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    snprintf(path, sizeof path, "%s/seg-000002.ndx", dir);
    CU_ASSERT_FATAL(ndx_segw_new(&w) == NDX_OK);
    set_article(&a, "many", "Wire", "", 19000);
    for (k = 0; k < N; k++) {
        p[k].text = "x";
        p[k].text_len = 1;
        p[k].length = 8;
    }
    CU_ASSERT_FATAL(ndx_segw_add_stored(w, &a, N, p, NULL, 0, &first) ==
                    NDX_OK);
    /* Every passage holds the word 1 to 5 times (wdf k % 5 + 1): three
     * blocks of postings, each block's positions found through the table
     * that leads them.  Its stem "Zw" has the same postings and no
     * positions: the two terms share one list. */
    CU_ASSERT_FATAL(ndx_segw_term_begin(w, "Zw", 2) == NDX_OK);
    for (k = 0; k < N; k++)
        CU_ASSERT_FATAL(ndx_segw_term_posting(w, k, k % 5 + 1, NULL, 0) ==
                        NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_term_end(w) == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_term_begin(w, "w", 1) == NDX_OK);
    for (k = 0; k < N; k++) {
        for (j = 0; j <= k % 5; j++)
            pos[j] = long_pos(k, j);
        CU_ASSERT_FATAL(ndx_segw_term_posting(w, k, k % 5 + 1, pos,
                                              k % 5 + 1) == NDX_OK);
    }
    CU_ASSERT_FATAL(ndx_segw_term_end(w) == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_flush(w, path) == NDX_OK);
    ndx_segw_free(w);
    free(p);

    CU_ASSERT_FATAL(ndx_seg_open(&s, path, 1) == NDX_OK);
    CU_ASSERT_EQUAL(ndx_seg_check(s), NDX_OK);
    CU_ASSERT_FATAL(ndx_seg_lookup(s, "w", 1, &t) == 1);
    CU_ASSERT_EQUAL(t.df, N);
    ndx_pcur_init(&c, s, &t);
    for (k = 0; k < N; k++, ndx_pcur_next(&c)) {
        int n;

        same &= c.id == k && ndx_pcur_wdf(&c) == k % 5 + 1;
        n = ndx_pcur_positions(&c, pos, 8);
        same &= n == (int)(k % 5 + 1);
        for (j = 0; n > 0 && j < (uint32_t)n; j++)
            same &= pos[j] == long_pos(k, j);
    }
    CU_ASSERT(same);
    CU_ASSERT_EQUAL(c.id, NDX_PID_END);

    /* A seek into the second block, and a jump to the third, read their
     * postings' positions without the earlier blocks'. */
    ndx_pcur_init(&c, s, &t);
    ndx_pcur_seek(&c, 200);
    CU_ASSERT_EQUAL(c.id, 200);
    CU_ASSERT_EQUAL(ndx_pcur_positions(&c, pos, 8), 200 % 5 + 1);
    CU_ASSERT_EQUAL(pos[200 % 5], long_pos(200, 200 % 5));
    blocks.n = 0;
    CU_ASSERT_EQUAL(ndx_pcur_each_block(&c, keep_block, &blocks), 0);
    CU_ASSERT_EQUAL_FATAL(blocks.n, 3);
    ndx_pcur_init(&c, s, &t);
    ndx_pcur_jump(&c, &blocks.b[2]);
    ndx_pcur_seek(&c, 293);
    CU_ASSERT_EQUAL(c.id, 293);
    CU_ASSERT_EQUAL(ndx_pcur_positions(&c, pos, 8), 293 % 5 + 1);
    for (j = 0; j <= 293 % 5; j++)
        CU_ASSERT_EQUAL(pos[j], long_pos(293, j));

    CU_ASSERT_FATAL(ndx_seg_lookup(s, "Zw", 2, &z) == 1);
    CU_ASSERT_EQUAL(z.df, N);
    CU_ASSERT_FALSE(z.has_pos);
    CU_ASSERT_TRUE(t.has_pos);
    CU_ASSERT_EQUAL(z.post_off, t.post_off);
    CU_ASSERT_EQUAL(z.post_len, t.post_len);
    ndx_seg_close(s);
}

/* Indexes corpus/ with the given number of threads into dir. */
static void
index_corpus(const char *dir, unsigned threads)
{
    ndx_engine_config cfg;

    ndx_engine_config_init(&cfg);
    cfg.threads = threads;
    CU_ASSERT_FATAL(t_index_corpus(dir, "native", &cfg) == NDX_OK);
}

static void
test_native_threaded_indexing_writes_the_same_bytes(void)
{
    char one[400], three[400], p1[500], p3[500];
    char *a, *b;
    size_t la = 0, lb = 0;

    snprintf(one, sizeof one, "%s/one", t_tmpdir());
    snprintf(three, sizeof three, "%s/three", t_tmpdir());
    index_corpus(one, 1);
    index_corpus(three, 3);
    snprintf(p1, sizeof p1, "%s/seg-000001.ndx", one);
    snprintf(p3, sizeof p3, "%s/seg-000001.ndx", three);
    a = t_slurp(p1, &la);
    b = t_slurp(p3, &lb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(la, lb);
    CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
    free(a);
    free(b);
}

/* A phrase whose words stand thousands of times in one passage is found
 * at its last place: every position is read. */
static void
test_native_phrase_reads_every_position(void)
{
    const char *dir = t_tmpdir();
    char path[400], *text;
    size_t n = 0, i;
    ndx_index *ix;
    ndx_results *r;
    ndx_search_opts o;
    ndx_article a;

    /* 6,000 times "alpha", then "alpha omega": no sentence ends, so the
     * paragraph stays one passage of 6,002 words. */
    text = malloc(6 * 6000 + 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    for (i = 0; i < 6000; i++) {
        memcpy(text + n, "alpha ", 6);
        n += 6;
    }
    strcpy(text + n, "alpha omega");
    snprintf(path, sizeof path, "%s/longphrase", dir);
    CU_ASSERT_FATAL(ndx_index_open(&ix, path, NDX_OPEN_WRITE, "native",
                                   NULL) == NDX_OK);
    set_article(&a, "long-1", "Wire", text, 19000);
    CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    set_article(&a, "short-1", "Wire", "omega alpha, said once", 19000);
    CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    CU_ASSERT_FATAL(ndx_index_open(&ix, path, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    ndx_search_opts_init(&o);
    o.snippets = 0;
    CU_ASSERT_FATAL(ndx_index_search(ix, "\"alpha omega\"", &o, &r, NULL) ==
                    NDX_OK);
    CU_ASSERT_EQUAL(r->total, 1);
    CU_ASSERT(r->count == 1 && strcmp(r->hits[0].article, "long-1") == 0);
    ndx_results_free(r);
    CU_ASSERT_FATAL(ndx_index_search(ix, "\"omega alpha\"", &o, &r, NULL) ==
                    NDX_OK);
    CU_ASSERT(r->count == 1 && strcmp(r->hits[0].article, "short-1") == 0);
    ndx_results_free(r);
    ndx_index_close(ix);
    free(text);
}

/* Words of passage i of the conjunction test: each word stands where its
 * own rule says, with densities that change along the segment so that
 * either list may run out of its block first. */
static int
conj_has(unsigned w, unsigned i)
{
    switch (w) {
    case 0: /* every third, then every other */
        return i < 3000 ? i % 3 == 0 : i % 2 == 0;
    case 1: /* every fifth, then one in 97, then every passage */
        return i < 2500 ? i % 5 == 0 : i < 4500 ? i % 97 == 0 : 1;
    case 2: /* every fourth, then every passage */
        return i < 4000 ? i % 4 == 0 : 1;
    default:
        /* As many as gneiss up to 4,000, none in common, then every
         * passage: both lists' blocks end on the same passages. */
        return i < 4000 ? i % 4 == 1 : 1;
    }
}

/* Conjunctions of two to four words over lists of several blocks and
 * unlike densities count exactly the passages that hold every word, and
 * the pruned search returns the same best hits as the exhaustive one. */
static void
test_native_conjunctions_find_every_common_passage(void)
{
    static const char *const words[] = {"quartz", "basalt", "gneiss",
                                        "schist"};
    static const char *const queries[] = {
        "quartz basalt", "basalt quartz", "quartz gneiss", "basalt schist",
        "quartz basalt gneiss", "quartz basalt gneiss schist",
        "gneiss schist"};
    static const unsigned masks[] = {0x3, 0x3, 0x5, 0xa, 0x7, 0xf, 0xc};
    const unsigned n = 6000;
    char path[400];
    ndx_engine_config cfg;
    ndx_index *ix;
    ndx_search_opts o;
    unsigned i, q, w;

    snprintf(path, sizeof path, "%s/conj", t_tmpdir());
    /* Texts alike but for their words are not folded as duplicates. */
    ndx_engine_config_init(&cfg);
    cfg.keep_duplicates = 1;
    CU_ASSERT_FATAL(ndx_index_open(&ix, path, NDX_OPEN_WRITE, "native",
                                   &cfg) == NDX_OK);
    for (i = 0; i < n; i++) {
        char text[200] = "", id[32];
        ndx_article a;

        for (w = 0; w < 4; w++)
            if (conj_has(w, i)) {
                strcat(text, words[w]);
                /* Unlike wdfs, so that bounds differ block by block. */
                if ((i * 7 + w) % 13 == 0)
                    strcat(text, " "), strcat(text, words[w]);
                strcat(text, " ");
            }
        /* A line of its own: a line repeated across a source's articles
         * would be taken for page furniture. */
        snprintf(id, sizeof id, "c-%u", i);
        strcat(text, "rock ");
        strcat(text, id);
        set_article(&a, id, "Wire", text, 19000 + (int32_t)(i % 300));
        CU_ASSERT_FATAL(ndx_index_add(ix, &a, NULL) == NDX_OK);
    }
    CU_ASSERT_FATAL(ndx_index_commit(ix) == NDX_OK);
    ndx_index_close(ix);
    CU_ASSERT_FATAL(ndx_index_open(&ix, path, NDX_OPEN_READ, NULL, NULL) ==
                    NDX_OK);
    for (q = 0; q < sizeof queries / sizeof *queries; q++) {
        ndx_results *all, *top;
        uint64_t expect = 0;
        size_t h;

        for (i = 0; i < n; i++) {
            int every = 1;

            for (w = 0; w < 4; w++)
                if ((masks[q] >> w & 1) && !conj_has(w, i))
                    every = 0;
            expect += (uint64_t)every;
        }
        ndx_search_opts_init(&o);
        o.snippets = 0;
        o.exact_total = 1;
        CU_ASSERT_FATAL(ndx_index_search(ix, queries[q], &o, &all, NULL) ==
                        NDX_OK);
        CU_ASSERT_EQUAL(all->total, expect);
        CU_ASSERT_TRUE(all->total_exact);
        o.exact_total = 0;
        o.exact_upto = 5;
        CU_ASSERT_FATAL(ndx_index_search(ix, queries[q], &o, &top, NULL) ==
                        NDX_OK);
        CU_ASSERT_EQUAL_FATAL(top->count, all->count);
        for (h = 0; h < top->count; h++) {
            CU_ASSERT_STRING_EQUAL(top->hits[h].article,
                                   all->hits[h].article);
            CU_ASSERT_DOUBLE_EQUAL(top->hits[h].score, all->hits[h].score,
                                   1e-12);
        }
        ndx_results_free(all);
        ndx_results_free(top);
    }
    ndx_index_close(ix);
}

/* A merge reads lists with read calls (ndx_pcur_init_read): every term of
 * a segment reads the same postings, wdfs and positions that way as
 * through the map, including lists written once for two terms (alpha's is
 * Zalpha's, behind the window) and lists of several blocks. */
static void
test_native_lists_read_with_read_calls_match_the_map(void)
{
    char *path = build_alpha_segment(1000);
    ndx_seg *s;
    ndx_seg_walk wk;
    ndx_seg_term t, next;
    ndx_seg_window post, pos;
    int fd, r, live, alpha_seen = 0;
    unsigned terms = 0;

    memset(&post, 0, sizeof post);
    memset(&pos, 0, sizeof pos);
    CU_ASSERT_FATAL(ndx_seg_open(&s, path, 1) == NDX_OK);
    fd = open(path, O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    ndx_seg_walk_start(&wk, s);
    live = ndx_seg_walk_next(&wk, &t);
    CU_ASSERT_FATAL(live == 1);
    while (live) {
        char term[NDX_SEG_TERM_MAX];
        size_t len = wk.len;
        uint64_t pos_end;
        ndx_pcur a, b;

        memcpy(term, wk.term, len);
        r = ndx_seg_walk_next(&wk, &next);
        CU_ASSERT_FATAL(r >= 0);
        pos_end = r ? next.pos_off : s->sec_len[SEC_POSITIONS];
        ndx_pcur_init(&a, s, &t);
        CU_ASSERT_FATAL(ndx_pcur_init_read(&b, s, fd, &t, pos_end - t.pos_off,
                                           &post, &pos) == NDX_OK);
        while (a.id != NDX_PID_END) {
            uint32_t pa[8], pb[8];
            int na, nb;

            CU_ASSERT_EQUAL_FATAL(b.id, a.id);
            CU_ASSERT_EQUAL(ndx_pcur_wdf(&b), ndx_pcur_wdf(&a));
            if (len == 5 && memcmp(term, "alpha", 5) == 0) {
                CU_ASSERT_EQUAL(ndx_pcur_wdf(&b), b.id % 5 + 1);
                alpha_seen++;
            }
            na = ndx_pcur_positions(&a, pa, 8);
            nb = ndx_pcur_positions(&b, pb, 8);
            CU_ASSERT_EQUAL_FATAL(nb, na);
            CU_ASSERT(na <= 0 || memcmp(pa, pb, (size_t)na * 4) == 0);
            ndx_pcur_next(&a);
            ndx_pcur_next(&b);
        }
        CU_ASSERT_EQUAL(b.id, NDX_PID_END);
        CU_ASSERT_FALSE(a.corrupt || b.corrupt);
        terms++;
        t = next;
        live = r;
    }
    CU_ASSERT_EQUAL(alpha_seen, 1000);
    CU_ASSERT(terms >= 6); /* alpha beta gamma, and their stems */
    /* A dictionary entry pointing past its section is refused. */
    {
        ndx_seg_term bad = t;
        ndx_pcur c;

        bad.post_off = s->sec_len[SEC_POSTINGS];
        bad.post_len = 1;
        CU_ASSERT_EQUAL(ndx_pcur_init_read(&c, s, fd, &bad, 0, &post, &pos),
                        NDX_ECORRUPT);
    }
    close(fd);
    ndx_seg_window_free(&post);
    ndx_seg_window_free(&pos);
    ndx_seg_close(s);
}

/* A list byte for byte another's with the same df is written once; one
 * with the same bytes and another df is not shared: passage 5 alone and
 * passages 5 and 6 pack into the same bytes. */
static void
test_native_equal_lists_written_once_unless_df_differs(void)
{
    static const char *texts[] = {"filler", "filler", "filler", "filler",
                                  "filler", "kiwi mango", "mango"};
    char path[400];
    ndx_analyzer *an;
    ndx_segw *w;
    ndx_termset ts;
    ndx_seg *s;
    ndx_seg_term kiwi, zkiwi, mango, zmango;
    ndx_pcur c;
    unsigned i, n = 0;

    snprintf(path, sizeof path, "%s/seg-alias.ndx", t_tmpdir());
    CU_ASSERT_FATAL(ndx_analyzer_new(&an, "english") == NDX_OK);
    CU_ASSERT_FATAL(ndx_segw_new(&w) == NDX_OK);
    ndx_termset_init(&ts);
    for (i = 0; i < 7; i++) {
        char id[32];
        ndx_article a;

        snprintf(id, sizeof id, "a-%u", i);
        set_article(&a, id, "Post", (char *)texts[i], 20000);
        add_one_passage(w, an, &ts, &a);
    }
    CU_ASSERT_FATAL(ndx_segw_flush(w, path) == NDX_OK);
    ndx_termset_free(&ts);
    ndx_segw_free(w);
    ndx_analyzer_free(an);
    CU_ASSERT_FATAL(ndx_seg_open(&s, path, 1) == NDX_OK);
    CU_ASSERT_FATAL(ndx_seg_lookup(s, "kiwi", 4, &kiwi) == 1);
    CU_ASSERT_FATAL(ndx_seg_lookup(s, "Zkiwi", 5, &zkiwi) == 1);
    CU_ASSERT_FATAL(ndx_seg_lookup(s, "mango", 5, &mango) == 1);
    CU_ASSERT_FATAL(ndx_seg_lookup(s, "Zmango", 6, &zmango) == 1);
    CU_ASSERT_EQUAL(kiwi.post_off, zkiwi.post_off);
    CU_ASSERT_EQUAL(mango.post_off, zmango.post_off);
    CU_ASSERT_EQUAL(kiwi.df, 1);
    CU_ASSERT_EQUAL(mango.df, 2);
    CU_ASSERT_EQUAL(kiwi.post_len, mango.post_len);
    CU_ASSERT_NOT_EQUAL(kiwi.post_off, mango.post_off);
    for (ndx_pcur_init(&c, s, &mango); c.id != NDX_PID_END;
         ndx_pcur_next(&c))
        CU_ASSERT_EQUAL(c.id, 5 + n++);
    CU_ASSERT_EQUAL(n, 2);
    ndx_seg_close(s);
}

/* The resident memory the writer reads: touching 32 MB of fresh pages
 * (mapped here: the heap may hand out pages already resident) raises it
 * by about as much, and the peak is never below it. */
static void
test_native_resident_memory_follows_what_is_touched(void)
{
    uint64_t now0, peak0, now1, peak1;
    size_t len = 32u << 20;
    char *p;

    if (ndx_resident(&now0, &peak0) != 0) {
        t_skip("this system does not report its resident memory");
        return;
    }
    CU_ASSERT(now0 > 0 && peak0 >= now0);
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    CU_ASSERT_FATAL(p != MAP_FAILED);
    memset(p, 1, len);
    CU_ASSERT_FATAL(ndx_resident(&now1, &peak1) == 0);
    CU_ASSERT(now1 >= now0 + len - len / 8);
    CU_ASSERT(peak1 >= now1);
    CU_ASSERT(p[len - 1] == 1);
    munmap(p, len);
}

CU_TestInfo native_tests[] = {
    {"look-ups find every term and nothing else",
     test_native_lookup_finds_every_term_and_nothing_else},
    {"conjunctions find every common passage",
     test_native_conjunctions_find_every_common_passage},
    {"threaded indexing writes the same bytes",
     test_native_threaded_indexing_writes_the_same_bytes},
    {"many commits merge and rank like one build",
     test_native_many_commits_merge_and_rank_like_one_build},
    {"wide prefix scores as the OR of its words",
     test_native_wide_prefix_scores_as_the_or_of_its_words},
    {"spilled text compressed in a thread writes the same segments",
     test_native_spilled_text_writes_the_same_segments},
    {"a merge's tables spooled to files write the same segments",
     test_native_merge_tables_spooled_write_the_same_segments},
    {"terms given whole in order", test_native_terms_given_whole_in_order},
    {"positions of many blocks read back; a stem shares its form's list",
     test_native_positions_of_many_blocks_read_back},
    {"stored text reads back through the dictionary",
     test_native_stored_text_reads_back_through_the_dictionary},
    {"postings round trip across blocks",
     test_native_postings_round_trip_across_blocks},
    {"seek skips blocks and finds positions",
     test_native_seek_skips_blocks_and_finds_positions},
    {"dictionary prefix walks only matches",
     test_native_dictionary_prefix_walks_only_matches},
    {"damaged segment is reported, not crashed",
     test_native_damaged_segment_is_reported_not_crashed},
    {"manifest round trip and checksum",
     test_native_manifest_round_trip_and_checksum},
    {"writer lock excludes a second writer",
     test_native_writer_lock_excludes_second_writer},
    {"phrase reads every position",
     test_native_phrase_reads_every_position},
    {"lists read with read calls match the map",
     test_native_lists_read_with_read_calls_match_the_map},
    {"equal lists written once unless their df differs",
     test_native_equal_lists_written_once_unless_df_differs},
    {"resident memory follows what is touched",
     test_native_resident_memory_follows_what_is_touched},
    CU_TEST_INFO_NULL,
};
