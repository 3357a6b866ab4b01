/*
 * test_native.c - the native engine's segment format, cursors, manifest,
 * deletions and crash safety, below the index front.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "manifest.h"
#include "native.h"
#include "segment.h"
#include "support.h"

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
        ndx_passages p = {0};

        for (k = 0; k < i % 5 + 1; k++)
            strcat(text, "alpha ");
        if (i % 7 == 0)
            strcat(text, "beta ");
        strcat(text, "gamma");
        snprintf(id, sizeof id, "art-%u", i);
        memset(&a, 0, sizeof a);
        a.id = id;
        a.source = i % 2 ? "Odd Times" : "Even Post";
        a.title = "";
        a.url = "";
        a.text = text;
        a.text_len = strlen(text);
        a.date_days = 20000 + (int32_t)i;
        a.time_secs = -1;
        CU_ASSERT_FATAL(ndx_passages_push(&p, 0, (uint32_t)a.text_len) ==
                        NDX_OK);
        CU_ASSERT_FATAL(ndx_termset_build(&ts, an, NULL, 0, text,
                                          a.text_len) == NDX_OK);
        CU_ASSERT_FATAL(ndx_segw_add(w, &a, &p, &ts, NULL) == NDX_OK);
        ndx_passages_clear(&p);
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
        ndx_passages p = {0};
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
        CU_ASSERT_FATAL(ndx_passages_push(&p, 0, (uint32_t)a.text_len) == 0);
        CU_ASSERT_FATAL(ndx_termset_build(&ts, an, NULL, 0, text,
                                          a.text_len) == NDX_OK);
        CU_ASSERT_FATAL(ndx_segw_add(w, &a, &p, &ts, NULL) == NDX_OK);
        ndx_passages_clear(&p);
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

CU_TestInfo native_tests[] = {
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
    CU_TEST_INFO_NULL,
};
