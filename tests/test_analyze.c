/*
 * test_analyze.c - the analyzer: tokenizing, folding, stemming, offsets,
 * positions, malformed input, and the term set of a passage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/analyze.h"

#define MAXTOK 64

typedef struct got {
    char text[NDX_TERM_MAX + 1];
    char stem[NDX_TERM_MAX + 1];
    uint32_t pos, off, len;
} got;

typedef struct gots {
    got t[MAXTOK];
    size_t n;
    size_t stop_after; /* return 99 after this many tokens (0 = never) */
} gots;

static int
collect(void *ctx, const ndx_token *tok)
{
    gots *g = ctx;

    CU_ASSERT_EQUAL(strlen(tok->text), tok->text_len);
    CU_ASSERT_EQUAL(strlen(tok->stem), tok->stem_len);
    if (g->n < MAXTOK) {
        got *x = &g->t[g->n];
        snprintf(x->text, sizeof x->text, "%s", tok->text);
        snprintf(x->stem, sizeof x->stem, "%s", tok->stem);
        x->pos = tok->pos;
        x->off = tok->byte_off;
        x->len = tok->byte_len;
    }
    g->n++;
    if (g->stop_after && g->n == g->stop_after)
        return 99;
    return 0;
}

static ndx_analyzer *
english(void)
{
    ndx_analyzer *a = NULL;

    CU_ASSERT_EQUAL_FATAL(ndx_analyzer_new(&a, "english"), NDX_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    return a;
}

/* Analyzes s from position 0 into g; returns what ndx_analyze returned. */
static int
run(ndx_analyzer *a, const char *s, size_t len, gots *g)
{
    memset(g, 0, sizeof *g);
    return ndx_analyze(a, s, len, 0, collect, g, NULL);
}

/* Checks token i: folded text, byte offset and byte length. */
#define TOK(g, i, txt, o, l)                                   \
    do {                                                       \
        CU_ASSERT_STRING_EQUAL((g).t[i].text, txt);            \
        CU_ASSERT_EQUAL((g).t[i].off, (uint32_t)(o));          \
        CU_ASSERT_EQUAL((g).t[i].len, (uint32_t)(l));          \
        CU_ASSERT_EQUAL((g).t[i].pos, (uint32_t)(i));          \
    } while (0)

/* A token an input must yield: folded text, byte offset, byte length. */
typedef struct tok_want {
    const char *text;
    uint32_t off, len;
} tok_want;

/* Analyzes s (len bytes) with the English analyzer into g and checks that
 * it yields exactly the n tokens of want, at positions 0, 1, ... */
static void
expect_tokens(gots *g, const char *s, size_t len, const tok_want *want,
              size_t n)
{
    ndx_analyzer *a = english();
    size_t i;

    CU_ASSERT_EQUAL(run(a, s, len, g), NDX_OK);
    ndx_analyzer_free(a);
    CU_ASSERT_EQUAL_FATAL(g->n, n);
    for (i = 0; i < n; i++)
        TOK(*g, i, want[i].text, want[i].off, want[i].len);
}

static void
test_analyze_splits_words_with_offsets_and_positions(void)
{
    const char *s = "Hello,  world!";
    static const tok_want want[] = {
        {"hello", 0, 5},
        {"world", 8, 5},
    };
    gots g;

    expect_tokens(&g, s, strlen(s), want, 2);
    CU_ASSERT_STRING_EQUAL(g.t[0].stem, "hello");
}

static void
test_analyze_stems_with_snowball_english(void)
{
    ndx_analyzer *a = english();
    const char *s = "talks talked guarantees security";
    gots g;

    run(a, s, strlen(s), &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 4);
    CU_ASSERT_STRING_EQUAL(g.t[0].text, "talks");
    CU_ASSERT_STRING_EQUAL(g.t[0].stem, "talk");
    CU_ASSERT_STRING_EQUAL(g.t[1].stem, "talk");
    CU_ASSERT_STRING_EQUAL(g.t[2].stem, "guarante");
    CU_ASSERT_STRING_EQUAL(g.t[3].stem, "secur");
    ndx_analyzer_free(a);
}

static void
test_analyze_keeps_apostrophe_before_letter(void)
{
    /* U+2019 is 3 bytes and becomes ' in the folded form. */
    const char *s = "Ukraine's don\xE2\x80\x99t students' 'quoted' rock'90";
    static const tok_want want[] = {
        {"ukraine's", 0, 9},
        {"don't", 10, 7},
        {"students", 18, 8},
        {"quoted", 29, 6},
        {"rock", 37, 4},
        {"90", 42, 2},
    };
    gots g;

    expect_tokens(&g, s, strlen(s), want, 6);
    CU_ASSERT_STRING_EQUAL(g.t[0].stem, "ukrain");
}

static void
test_analyze_joins_digits_across_comma_and_dot(void)
{
    const char *s = "600,000 troops, 3.5% 1,000.50 5. a,b 1,,2";
    static const tok_want want[] = {
        {"600000", 0, 7},
        {"troops", 8, 6},
        {"3.5", 16, 3},
        {"1000.50", 21, 8},
        {"5", 30, 1},
        {"a", 33, 1},
        {"b", 35, 1},
        {"1", 37, 1},
        {"2", 40, 1},
    };
    gots g;

    expect_tokens(&g, s, strlen(s), want, 9);
}

static void
test_analyze_splits_hyphens_and_abbreviations(void)
{
    const char *s = "Russia-Ukraine U.S. 2025-04-01";
    static const tok_want want[] = {
        {"russia", 0, 6},
        {"ukraine", 7, 7},
        {"u", 15, 1},
        {"s", 17, 1},
        {"2025", 20, 4},
        {"04", 25, 2},
        {"01", 28, 2},
    };
    gots g;

    expect_tokens(&g, s, strlen(s), want, 7);
}

static void
test_analyze_folds_case_accents_and_compatibility_forms(void)
{
    /* Café (é = 2 bytes), ÉCOLE, Straße (ß -> ss), the ligature fi (3
     * bytes), fullwidth ＡＢＣ (3 bytes each), e + combining acute. */
    const char *s = "Caf\xC3\xA9 \xC3\x89" "COLE Stra\xC3\x9F" "e "
                    "\xEF\xAC\x81le \xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3 "
                    "e\xCC\x81t\xC3\xA9";
    static const tok_want want[] = {
        {"cafe", 0, 5},
        {"ecole", 6, 6},
        {"strasse", 13, 7},
        {"file", 21, 5},
        {"abc", 27, 9},
        {"ete", 37, 6},
    };
    gots g;

    expect_tokens(&g, s, strlen(s), want, 6);
}

static void
test_analyze_separates_at_emoji_and_symbols(void)
{
    /* U+1F600 is 4 bytes; U+200B (zero width space) separates; U+00AD
     * (soft hyphen) inside a word does not. */
    const char *s = "war\xF0\x9F\x98\x80peace a+b "
                    "x\xE2\x80\x8By co\xC2\xADoperate";
    static const tok_want want[] = {
        {"war", 0, 3},
        {"peace", 7, 5},
        {"a", 13, 1},
        {"b", 15, 1},
        {"x", 17, 1},
        {"y", 21, 1},
        {"cooperate", 23, 11},
    };
    gots g;

    expect_tokens(&g, s, strlen(s), want, 7);
}

static void
test_analyze_skips_invalid_utf8_as_separators(void)
{
    /* a stray byte, a lone continuation byte, an overlong '/', a surrogate
     * (ED A0 80) and a sequence cut by the end of the input */
    const char s[] = "ab\xFF" "cd \x80x \xC0\xAFy z\xED\xA0\x80w v\xE2\x80";
    static const tok_want want[] = {
        {"ab", 0, 2},
        {"cd", 3, 2},
        {"x", 7, 1},
        {"y", 11, 1},
        {"z", 13, 1},
        {"w", 17, 1},
        {"v", 19, 1},
    };
    gots g;

    expect_tokens(&g, s, sizeof s - 1, want, 7);
}

static void
test_analyze_cuts_long_tokens_at_utf8_boundary(void)
{
    ndx_analyzer *a = english();
    char s[400], want[NDX_TERM_MAX + 1];
    gots g;
    int i;

    /* 100 ASCII letters: 64 kept, the token still spans 100 bytes. */
    memset(s, 'a', 100);
    memset(want, 'a', NDX_TERM_MAX);
    want[NDX_TERM_MAX] = '\0';
    run(a, s, 100, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 1);
    TOK(g, 0, want, 0, 100);

    /* 30 x U+4E2D (3 bytes each, 90 bytes): 21 characters = 63 bytes. */
    for (i = 0; i < 30; i++)
        memcpy(s + 3 * i, "\xE4\xB8\xAD", 3);
    for (i = 0; i < 21; i++)
        memcpy(want + 3 * i, "\xE4\xB8\xAD", 3);
    want[63] = '\0';
    run(a, s, 90, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 1);
    TOK(g, 0, want, 0, 90);
    CU_ASSERT_EQUAL(strlen(g.t[0].text), 63);

    /* 40 x Cyrillic ZHE (2 bytes each): 32 characters = 64 bytes. */
    for (i = 0; i < 40; i++)
        memcpy(s + 2 * i, "\xD0\xB6", 2);
    run(a, s, 80, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 1);
    CU_ASSERT_EQUAL(strlen(g.t[0].text), 64);
    CU_ASSERT_EQUAL(g.t[0].len, 80);
    CU_ASSERT(strlen(g.t[0].stem) <= NDX_TERM_MAX);
    ndx_analyzer_free(a);
}

static void
test_analyze_survives_a_huge_token(void)
{
    ndx_analyzer *a = english();
    size_t n = 200000, i;
    char *s = malloc(n + 4);
    gots g;

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* "é" repeated (2 bytes), then " ok" */
    for (i = 0; i < n; i += 2)
        memcpy(s + i, "\xC3\xA9", 2);
    memcpy(s + n, " ok", 3);
    run(a, s, n + 3, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 2);
    CU_ASSERT_EQUAL(strlen(g.t[0].text), 64); /* 64 x 'e' */
    CU_ASSERT_EQUAL(g.t[0].text[0], 'e');
    CU_ASSERT_EQUAL(g.t[0].len, n);
    TOK(g, 1, "ok", n + 1, 2);
    free(s);
    ndx_analyzer_free(a);
}

static void
test_analyze_empty_and_punctuation_only_input(void)
{
    ndx_analyzer *a = english();
    uint32_t next = 0;
    gots g;

    memset(&g, 0, sizeof g);
    CU_ASSERT_EQUAL(ndx_analyze(a, "", 0, 5, collect, &g, &next), NDX_OK);
    CU_ASSERT_EQUAL(g.n, 0);
    CU_ASSERT_EQUAL(next, 5);
    CU_ASSERT_EQUAL(ndx_analyze(a, NULL, 0, 0, collect, &g, NULL), NDX_OK);
    CU_ASSERT_EQUAL(ndx_analyze(a, " -- ... !?", 10, 3, collect, &g, &next),
                    NDX_OK);
    CU_ASSERT_EQUAL(g.n, 0);
    CU_ASSERT_EQUAL(next, 3);
    ndx_analyzer_free(a);
}

static void
test_analyze_counts_from_first_pos(void)
{
    ndx_analyzer *a = english();
    uint32_t next = 0;
    gots g;

    memset(&g, 0, sizeof g);
    CU_ASSERT_EQUAL(ndx_analyze(a, "a b", 3, 10, collect, &g, &next),
                    NDX_OK);
    CU_ASSERT_EQUAL_FATAL(g.n, 2);
    CU_ASSERT_EQUAL(g.t[0].pos, 10);
    CU_ASSERT_EQUAL(g.t[1].pos, 11);
    CU_ASSERT_EQUAL(next, 12);
    ndx_analyzer_free(a);
}

static void
test_analyze_stops_when_callback_says_so(void)
{
    ndx_analyzer *a = english();
    uint32_t next = 0;
    gots g;

    memset(&g, 0, sizeof g);
    g.stop_after = 2;
    CU_ASSERT_EQUAL(ndx_analyze(a, "one two three four", 18, 0, collect,
                                &g, &next), 99);
    CU_ASSERT_EQUAL(g.n, 2);
    CU_ASSERT_EQUAL(next, 2);
    ndx_analyzer_free(a);
}

static void
test_analyzer_languages(void)
{
    ndx_analyzer *a = NULL;

    CU_ASSERT_EQUAL(ndx_analyzer_new(&a, NULL), NDX_OK);
    CU_ASSERT_STRING_EQUAL(ndx_analyzer_language(a), "english");
    ndx_analyzer_free(a);
    CU_ASSERT_EQUAL(ndx_analyzer_new(&a, ""), NDX_OK);
    CU_ASSERT_STRING_EQUAL(ndx_analyzer_language(a), "english");
    ndx_analyzer_free(a);
    CU_ASSERT_EQUAL(ndx_analyzer_new(&a, "french"), NDX_OK);
    CU_ASSERT_STRING_EQUAL(ndx_analyzer_language(a), "french");
    ndx_analyzer_free(a);
    a = (ndx_analyzer *)&a;
    CU_ASSERT_EQUAL(ndx_analyzer_new(&a, "klingon"), NDX_ENOTFOUND);
    CU_ASSERT_PTR_NULL(a);
    ndx_analyzer_free(NULL);
}

static void
test_analyze_stem_cache_gives_same_stems(void)
{
    ndx_analyzer *a = english();
    char s[8192];
    size_t n = 0;
    gots g;
    int i;

    /* The same words many times over: every "running" stems to "run". */
    for (i = 0; i < 40 && n + 20 < sizeof s; i++)
        n += (size_t)snprintf(s + n, sizeof s - n, "running ran ");
    run(a, s, n, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 80); /* the collector keeps MAXTOK */
    for (i = 0; i < MAXTOK; i += 2) {
        CU_ASSERT_STRING_EQUAL(g.t[i].stem, "run");
        CU_ASSERT_STRING_EQUAL(g.t[i + 1].stem, "ran");
    }
    ndx_analyzer_free(a);
}

static void
test_fold_words(void)
{
    char out[16];

    CU_ASSERT_EQUAL(ndx_fold("Caf\xC3\xA9", 5, out, sizeof out), 4);
    CU_ASSERT_STRING_EQUAL(out, "cafe");
    CU_ASSERT_EQUAL(ndx_fold("USA Today", 9, out, sizeof out), 8);
    CU_ASSERT_STRING_EQUAL(out, "usatoday");
    CU_ASSERT_EQUAL(ndx_fold("!!!", 3, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    /* room for 3 bytes and the NUL */
    CU_ASSERT_EQUAL(ndx_fold("abcdef", 6, out, 4), 3);
    CU_ASSERT_STRING_EQUAL(out, "abc");
    /* ZHE is 2 bytes: only one fits in 3 */
    CU_ASSERT_EQUAL(ndx_fold("\xD0\x96\xD0\x96", 4, out, 4), 2);
    CU_ASSERT_STRING_EQUAL(out, "\xD0\xB6");
    CU_ASSERT_EQUAL(ndx_fold("abc", 3, out, 0), 0);
}

/* ---- term sets ---------------------------------------------------------- */

static const ndx_term *
find_term(const ndx_termset *ts, const char *term)
{
    size_t i;

    for (i = 0; i < ts->term_count; i++)
        if (strcmp(ts->terms[i].term, term) == 0)
            return &ts->terms[i];
    return NULL;
}

/* Bytewise order of terms, a shorter one before a longer it begins. */
static int
cmp_term(const void *a, const void *b)
{
    const ndx_term *x = *(const ndx_term *const *)a;
    const ndx_term *y = *(const ndx_term *const *)b;
    size_t n = x->term_len < y->term_len ? x->term_len : y->term_len;
    int c = memcmp(x->term, y->term, n);

    if (c)
        return c;
    return (x->term_len > y->term_len) - (x->term_len < y->term_len);
}

/* Checks that ts holds exactly the listed terms, given in bytewise order
 * (a term set keeps them in the order they first occur), each as
 * "term:wdf" or "term:wdf@p,p,..." */
static void
expect_terms(const ndx_termset *ts, const char *const *want, size_t n)
{
    const ndx_term *sorted[64];
    size_t i;

    CU_ASSERT_EQUAL_FATAL(ts->term_count, n);
    CU_ASSERT_FATAL(n <= sizeof sorted / sizeof sorted[0]);
    for (i = 0; i < n; i++)
        sorted[i] = &ts->terms[i];
    qsort(sorted, n, sizeof sorted[0], cmp_term);
    for (i = 0; i < n; i++) {
        char buf[256];
        size_t len = 0, j;
        const ndx_term *t = sorted[i];

        len += (size_t)snprintf(buf, sizeof buf, "%s:%u", t->term, t->wdf);
        for (j = 0; j < t->pos_count; j++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%c%u",
                                    j ? ',' : '@',
                                    ts->positions[t->pos_off + j]);
        CU_ASSERT_EQUAL(strlen(t->term), t->term_len);
        if (strcmp(buf, want[i]) != 0)
            fprintf(stderr, "\n  term %zu: got %s want %s\n", i, buf,
                    want[i]);
        CU_ASSERT_STRING_EQUAL(buf, want[i]);
    }
}

/* Builds the term set of a passage (title NULL: none) with the English
 * analyzer into ts (initialised here, freed by the caller) and checks its
 * terms against want and its length. */
static void
build_terms(ndx_termset *ts, const char *title, const char *text,
            const char *const *want, size_t n, uint32_t length)
{
    ndx_analyzer *a = english();
    ndx_status st;

    ndx_termset_init(ts);
    st = ndx_termset_build(ts, a, title, title ? strlen(title) : 0, text,
                           strlen(text));
    ndx_analyzer_free(a);
    CU_ASSERT_EQUAL(st, NDX_OK);
    expect_terms(ts, want, n);
    CU_ASSERT_EQUAL(ts->length, length);
}

static void
test_termset_title_and_text(void)
{
    ndx_termset ts;
    /* Title: rubio@0 talks@1 (t = 2); text from 3: talks@3 talk@4.
     * Z terms count title and text; T terms only the title. */
    static const char *const want[] = {
        "Trubio:1", "Ttalk:1", "Zrubio:1", "Ztalk:3",
        "rubio:1@0", "talk:1@4", "talks:2@1,3",
    };

    build_terms(&ts, "Rubio talks", "Talks talk.", want, 7, 10);
    CU_ASSERT_EQUAL(ts.position_count, 4);
    ndx_termset_free(&ts);
}

static void
test_termset_text_only(void)
{
    ndx_termset ts;
    static const char *const want[] = {
        "Zand:1", "Zcat:1", "Zhat:1", "Zthe:2",
        "and:1@2", "cat:1@1", "hat:1@4", "the:2@0,3",
    };

    build_terms(&ts, NULL, "The cat and the hat", want, 8, 10);
    ndx_termset_free(&ts);
}

static void
test_termset_keeps_the_order_of_first_occurrence(void)
{
    ndx_analyzer *a = english();
    ndx_termset ts;
    /* Per token its surface term, its stem, and in a title its title
     * stem, each where it first occurs: "talks" of the text is the
     * title's, "talk" a new surface of a known stem. */
    static const char *const want[] = {
        "rubio", "Zrubio", "Trubio", "talks", "Ztalk", "Ttalk", "talk",
    };
    size_t i;

    ndx_termset_init(&ts);
    CU_ASSERT_EQUAL_FATAL(ndx_termset_build(&ts, a, "Rubio talks", 11,
                                            "Talks talk.", 11),
                          NDX_OK);
    CU_ASSERT_EQUAL_FATAL(ts.term_count, 7);
    for (i = 0; i < 7; i++) {
        CU_ASSERT_STRING_EQUAL(ts.terms[i].term, want[i]);
        /* The segment writer finds terms by this hash. */
        CU_ASSERT_EQUAL(ts.terms[i].hash,
                        ndx_term_hash(want[i], strlen(want[i])));
    }
    CU_ASSERT_NOT_EQUAL(ndx_term_hash("talk", 4), ndx_term_hash("Ztalk", 5));
    ndx_termset_free(&ts);
    ndx_analyzer_free(a);
}

static void
test_termset_tells_terms_sharing_eight_bytes_apart(void)
{
    ndx_termset ts;
    /* Eighteen terms; "Zqqqqqqq" and "Zqqqqqqqq" agree in their first
     * eight bytes, as do all the "qqqqqqqq" words: each is its own term
     * with its own positions. */
    static const char *const want[] = {
        "Za:1",         "Zqqqqqqq:1",   "Zqqqqqqqq:1",   "Zqqqqqqqq0:1",
        "Zqqqqqqqq1:1", "Zqqqqqqqq10:1", "Zqqqqqqqq9:1", "Zqqqqqqqqq:1",
        "Zzz:1",        "a:1@8",        "qqqqqqq:1@4",   "qqqqqqqq:1@3",
        "qqqqqqqq0:1@6", "qqqqqqqq1:1@2", "qqqqqqqq10:1@1", "qqqqqqqq9:1@0",
        "qqqqqqqqq:1@5", "zz:1@7",
    };
    static const char text[] = "qqqqqqqq9 qqqqqqqq10 qqqqqqqq1 qqqqqqqq "
                               "qqqqqqq qqqqqqqqq qqqqqqqq0 zz a";

    build_terms(&ts, NULL, text, want, 18, 18);
    ndx_termset_free(&ts);
}

static void
test_termset_empty_title_still_shifts_text(void)
{
    ndx_termset ts;
    static const char *const want[] = {"Zx:1", "x:1@1"};

    build_terms(&ts, "", "x", want, 2, 2);
    ndx_termset_free(&ts);
}

static void
test_termset_rebuild_replaces_content(void)
{
    ndx_analyzer *a = english();
    ndx_termset ts;
    static const char *const want[] = {"Zdog:1", "dogs:1@0"};
    static const char *const none[] = {NULL};
    char big[6000];
    size_t i;

    ndx_termset_init(&ts);
    /* a large passage first, so that the pool grows and is then reused */
    for (i = 0; i + 6 < sizeof big; i += 6)
        snprintf(big + i, 7, "w%04zu ", i / 6);
    CU_ASSERT_EQUAL(ndx_termset_build(&ts, a, "Title words", 11, big, i),
                    NDX_OK);
    /* 999 distinct text words x 2 terms + title: 2 surface, 2 Z, 2 T */
    CU_ASSERT_EQUAL(ts.term_count, 999 * 2 + 6);
    CU_ASSERT_EQUAL(ts.length, 999 * 2 + 6);
    CU_ASSERT_PTR_NOT_NULL(find_term(&ts, "w0998"));
    CU_ASSERT_EQUAL(find_term(&ts, "w0998")->pos_count, 1);
    CU_ASSERT_EQUAL(ts.positions[find_term(&ts, "w0998")->pos_off],
                    3 + 998);
    CU_ASSERT_EQUAL(ndx_termset_build(&ts, a, NULL, 0, "dogs", 4), NDX_OK);
    expect_terms(&ts, want, 2);
    CU_ASSERT_EQUAL(ts.length, 2);
    CU_ASSERT_EQUAL(ndx_termset_build(&ts, a, NULL, 0, "...", 3), NDX_OK);
    expect_terms(&ts, none, 0);
    CU_ASSERT_EQUAL(ts.length, 0);
    ndx_termset_free(&ts);
    ndx_termset_free(&ts);
    ndx_termset_free(NULL);
    ndx_analyzer_free(a);
}

static void
test_termset_positions_ascend_per_term(void)
{
    ndx_termset ts;
    const ndx_term *t;
    /* "a" at 0, 2, 4, 5; b at 1; c at 3 */
    static const char *const want[] = {
        "Za:4", "Zb:1", "Zc:1", "a:4@0,2,4,5", "b:1@1", "c:1@3",
    };

    build_terms(&ts, NULL, "a b a c a a", want, 6, 12);
    t = find_term(&ts, "Za");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->pos_count, 0);
    ndx_termset_free(&ts);
}

CU_TestInfo analyze_tests[] = {
    {"analyze_splits_words_with_offsets_and_positions",
     test_analyze_splits_words_with_offsets_and_positions},
    {"analyze_stems_with_snowball_english",
     test_analyze_stems_with_snowball_english},
    {"analyze_keeps_apostrophe_before_letter",
     test_analyze_keeps_apostrophe_before_letter},
    {"analyze_joins_digits_across_comma_and_dot",
     test_analyze_joins_digits_across_comma_and_dot},
    {"analyze_splits_hyphens_and_abbreviations",
     test_analyze_splits_hyphens_and_abbreviations},
    {"analyze_folds_case_accents_and_compatibility_forms",
     test_analyze_folds_case_accents_and_compatibility_forms},
    {"analyze_separates_at_emoji_and_symbols",
     test_analyze_separates_at_emoji_and_symbols},
    {"analyze_skips_invalid_utf8_as_separators",
     test_analyze_skips_invalid_utf8_as_separators},
    {"analyze_cuts_long_tokens_at_utf8_boundary",
     test_analyze_cuts_long_tokens_at_utf8_boundary},
    {"analyze_survives_a_huge_token", test_analyze_survives_a_huge_token},
    {"analyze_empty_and_punctuation_only_input",
     test_analyze_empty_and_punctuation_only_input},
    {"analyze_counts_from_first_pos", test_analyze_counts_from_first_pos},
    {"analyze_stops_when_callback_says_so",
     test_analyze_stops_when_callback_says_so},
    {"analyzer_languages", test_analyzer_languages},
    {"analyze_stem_cache_gives_same_stems",
     test_analyze_stem_cache_gives_same_stems},
    {"fold_words", test_fold_words},
    {"termset_title_and_text", test_termset_title_and_text},
    {"termset_text_only", test_termset_text_only},
    {"termset_keeps_the_order_of_first_occurrence",
     test_termset_keeps_the_order_of_first_occurrence},
    {"termset_tells_terms_sharing_eight_bytes_apart",
     test_termset_tells_terms_sharing_eight_bytes_apart},
    {"termset_empty_title_still_shifts_text",
     test_termset_empty_title_still_shifts_text},
    {"termset_rebuild_replaces_content",
     test_termset_rebuild_replaces_content},
    {"termset_positions_ascend_per_term",
     test_termset_positions_ascend_per_term},
    CU_TEST_INFO_NULL,
};
