/*
 * test_passages.c - splitting articles into passages: offsets, headings
 * joined to what follows, long paragraphs split at sentence ends (not at
 * abbreviations), fragments merged (never across furniture), and no
 * furniture inside any passage of the seed articles.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/ingest.h"
#include "support.h"

static const char *const seeds[] = {
    "corpus/000_5286196f00fcb6ee.txt", "corpus/001_b6ab9d925da0c223.txt",
    "corpus/002_59a3440c063501ba.txt", "corpus/003_0036f894b85e4f95.txt",
    "corpus/004_0d195e7965c4b621.txt",
};

static size_t
words_in(const char *s, size_t len)
{
    size_t i, n = 0;
    int in = 0;

    for (i = 0; i < len; i++) {
        int sp = s[i] == ' ' || s[i] == '\n' || s[i] == '\t';
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

/* Appends a sentence of n words, "Wk word ... word." (k its number). */
static void
sentence(char *buf, size_t cap, int k, int n)
{
    size_t len = strlen(buf);
    int i;

    len += (size_t)snprintf(buf + len, cap - len, "%sW%d", len ? " " : "", k);
    for (i = 1; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, " word");
    snprintf(buf + len, cap - len, ".");
}

/* Appends sentences W1 and W2, of n words each. */
static void
two_sentences(char *buf, size_t cap, int n)
{
    sentence(buf, cap, 1, n);
    sentence(buf, cap, 2, n);
}

static void
split(ndx_passages *p, const char *text)
{
    CU_ASSERT_EQUAL_FATAL(ndx_passages_split(p, text, strlen(text), NULL,
                                             NULL), NDX_OK);
}

/* Formats the text into text (cap bytes) and splits it into p. */
static void __attribute__((format(printf, 4, 5)))
split_formatted(ndx_passages *p, char *text, size_t cap, const char *fmt,
                ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, cap, fmt, ap);
    va_end(ap);
    split(p, text);
}

/* Checks that p holds exactly one passage, of len bytes from off. */
static void
expect_one(const ndx_passages *p, size_t off, size_t len)
{
    CU_ASSERT_EQUAL_FATAL(p->count, 1);
    CU_ASSERT_EQUAL(p->items[0].off, off);
    CU_ASSERT_EQUAL(p->items[0].len, len);
}

/* Checks that p holds exactly two passages: len0 bytes from off0, len1
 * bytes from off1. */
static void
expect_two(const ndx_passages *p, size_t off0, size_t len0, size_t off1,
           size_t len1)
{
    CU_ASSERT_EQUAL_FATAL(p->count, 2);
    CU_ASSERT_EQUAL(p->items[0].off, off0);
    CU_ASSERT_EQUAL(p->items[0].len, len0);
    CU_ASSERT_EQUAL(p->items[1].off, off1);
    CU_ASSERT_EQUAL(p->items[1].len, len1);
}

static void
test_passages_heading_joins_next_paragraph(void)
{
    char text[2048] = "Ukraine's Red Lines\n";
    char body[1024] = "";
    ndx_passages p = {NULL, 0, 0};

    two_sentences(body, sizeof body, 20);
    strcat(text, body);
    strcat(text, "\n");
    split(&p, text);
    expect_one(&p, 0, strlen(text) - 1);

    /* Across a blank line too. */
    split_formatted(&p, text, sizeof text,
                    "Europe Steps In to Salvage Talks\n\n%s\n", body);
    expect_one(&p, 0, strlen(text) - 1);
    ndx_passages_clear(&p);
}

static void
test_passages_seed_headings_join_following_paragraph(void)
{
    static const struct {
        const char *file, *heading, *next;
    } cases[] = {
        {"corpus/000_5286196f00fcb6ee.txt", "Ukraine's Red Lines",
         "Ukraine has said no decisions"},
        {"corpus/003_0036f894b85e4f95.txt", "Europe Steps In to Salvage Talks",
         "European nations, particularly"},
        {"corpus/004_0d195e7965c4b621.txt", "Diplomatic Ultimatum",
         "President Donald Trump also emphasized"},
    };
    size_t c, i;

    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len, hoff, noff;
        char *text = t_slurp(cases[c].file, &len);
        char pat[128];
        ndx_passages p = {NULL, 0, 0};
        int found = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        snprintf(pat, sizeof pat, "\n%s\n", cases[c].heading);
        CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(text, pat));
        hoff = (size_t)(strstr(text, pat) - text) + 1;
        noff = (size_t)(strstr(text, cases[c].next) - text);
        CU_ASSERT_EQUAL_FATAL(ndx_passages_split(&p, text, len, NULL, NULL),
                              NDX_OK);
        for (i = 0; i < p.count; i++) {
            if (p.items[i].off == hoff) {
                found = 1;
                /* The heading's passage holds the next paragraph. */
                CU_ASSERT(p.items[i].off + p.items[i].len > noff);
            }
            /* No passage ends with the heading. */
            CU_ASSERT(p.items[i].off + p.items[i].len
                      != hoff + strlen(cases[c].heading));
        }
        CU_ASSERT(found);
        ndx_passages_clear(&p);
        free(text);
    }
}

static void
test_passages_seed_passages_hold_no_furniture(void)
{
    static const char *const banned[] = {
        "Voice is AI-generated", "fairness meter", "About the writer",
        "Shane Croucher", "Previous Article", "Next Article",
        "Iran Nuclear Talks", "Yemen Oil Port", "How useful",
        "Click on a star", "No votes so far", "Latest News", "Top StoryUS",
        "More on US News", "Read more", "Sign up", "sign up",
        "Top European leaders will be shuttling", "Impotent fury",
        "JD Vance marked one month", "Average rating",
    };
    static const char *const kept[] = {
        "Contributing: Reuters", "Update, 4/4/25",
        "Rubio said the Trump administration expects",
        "Diplomatic efforts have been complicated",
        "Ukraine Peace Negotiations", "Deep Looks",
    };
    size_t f, i, b, k;
    int kept_found[sizeof kept / sizeof kept[0]] = {0};

    for (f = 0; f < sizeof seeds / sizeof seeds[0]; f++) {
        size_t len, prev_end = 0;
        char *text = t_slurp(seeds[f], &len);
        ndx_passages p = {NULL, 0, 0};

        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_EQUAL_FATAL(ndx_passages_split(&p, text, len, NULL, NULL),
                              NDX_OK);
        CU_ASSERT(p.count >= 5);
        for (i = 0; i < p.count; i++) {
            const char *s = text + p.items[i].off;
            size_t n = p.items[i].len, ls = 0, j;

            CU_ASSERT_FATAL(p.items[i].off + n <= len && n > 0);
            CU_ASSERT(p.items[i].off >= prev_end);
            prev_end = p.items[i].off + n;
            CU_ASSERT(s[0] != ' ' && s[0] != '\n' && s[n - 1] != ' '
                      && s[n - 1] != '\n');
            for (b = 0; b < sizeof banned / sizeof banned[0]; b++) {
                CU_ASSERT(memmem(s, n, banned[b], strlen(banned[b]))
                          == NULL);
                if (memmem(s, n, banned[b], strlen(banned[b])))
                    fprintf(stderr, "%s: passage %zu holds '%s'\n",
                            seeds[f], i, banned[b]);
            }
            for (k = 0; k < sizeof kept / sizeof kept[0]; k++)
                if (memmem(s, n, kept[k], strlen(kept[k])))
                    kept_found[k] = 1;
            /* No line inside a passage is furniture. */
            for (j = 0; j <= n; j++) {
                if (j == n || s[j] == '\n') {
                    CU_ASSERT(!ndx_clean_is_furniture(s + ls, j - ls)
                              || j == ls);
                    ls = j + 1;
                }
            }
        }
        ndx_passages_clear(&p);
        free(text);
    }
    for (k = 0; k < sizeof kept / sizeof kept[0]; k++) {
        CU_ASSERT(kept_found[k]);
        if (!kept_found[k])
            fprintf(stderr, "lost: %s\n", kept[k]);
    }
}

static void
test_passages_seed_leading_and_trailing_furniture_dropped(void)
{
    size_t len;
    char *text = t_slurp(seeds[0], &len);
    ndx_passages p = {NULL, 0, 0};
    const char *first = "Secretary of State Marco Rubio gave assurances";
    const char *last = "A comment by a State Department spokesperson was "
                       "added.";

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL_FATAL(ndx_passages_split(&p, text, len, NULL, NULL),
                          NDX_OK);
    CU_ASSERT_FATAL(p.count > 2);
    /* The audio notice line is dropped: the first passage starts at the
     * first sentence. */
    CU_ASSERT_EQUAL(p.items[0].off, (size_t)(strstr(text, first) - text));
    /* The last passage ends with the update note, before "fairness
     * meter". */
    CU_ASSERT_EQUAL(p.items[p.count - 1].off + p.items[p.count - 1].len,
                    (size_t)(strstr(text, last) - text) + strlen(last));
    ndx_passages_clear(&p);
    free(text);
}

static void
test_passages_long_paragraph_splits_at_sentences(void)
{
    char text[8192] = "";
    ndx_passages p = {NULL, 0, 0};
    size_t i;
    int k;

    for (k = 1; k <= 30; k++)
        sentence(text, sizeof text, k, 10);
    split(&p, text);
    CU_ASSERT_EQUAL_FATAL(p.count, 3);
    for (i = 0; i < p.count; i++) {
        const char *s = text + p.items[i].off;
        CU_ASSERT_EQUAL(words_in(s, p.items[i].len), 100);
        CU_ASSERT_EQUAL(s[0], 'W');
        CU_ASSERT_EQUAL(s[p.items[i].len - 1], '.');
    }
    /* Sentences 1-10, 11-20, 21-30. */
    CU_ASSERT(strncmp(text + p.items[1].off, "W11 ", 4) == 0);
    CU_ASSERT(strncmp(text + p.items[2].off, "W21 ", 4) == 0);
    ndx_passages_clear(&p);
}

/* 9 sentences of 10 words, a 20-word sentence with `trap` as its 10th word
 * (word 100 overall) followed by a capitalised word, then 19 sentences of
 * 10 words: 300 words whose best cut would be right after the trap. */
static void
build_trap(char *text, size_t cap, const char *trap)
{
    size_t len;
    int k, i;

    text[0] = '\0';
    for (k = 1; k <= 9; k++)
        sentence(text, cap, k, 10);
    len = strlen(text);
    len += (size_t)snprintf(text + len, cap - len,
                            " W10 word word word word 3.5 word word word %s"
                            " Treasury", trap);
    for (i = 12; i < 20; i++)
        len += (size_t)snprintf(text + len, cap - len, " word");
    snprintf(text + len, cap - len, " word.");
    for (k = 11; k <= 29; k++)
        sentence(text, cap, k, 10);
}

static void
test_passages_no_split_at_abbreviations(void)
{
    static const char *const traps[] = {"U.S.", "Mr.", "J.", "Jan."};
    char text[8192];
    ndx_passages p = {NULL, 0, 0};
    size_t t;

    for (t = 0; t < sizeof traps / sizeof traps[0]; t++) {
        build_trap(text, sizeof text, traps[t]);
        CU_ASSERT_EQUAL_FATAL(words_in(text, strlen(text)), 300);
        split(&p, text);
        /* Cuts after sentence 9 (90 words) and sentence 19 (190 words). */
        CU_ASSERT_EQUAL_FATAL(p.count, 3);
        CU_ASSERT_EQUAL(words_in(text + p.items[0].off, p.items[0].len), 90);
        CU_ASSERT_EQUAL(words_in(text + p.items[1].off, p.items[1].len),
                        100);
        CU_ASSERT_EQUAL(words_in(text + p.items[2].off, p.items[2].len),
                        110);
        CU_ASSERT(strncmp(text + p.items[1].off, "W10 ", 4) == 0);
    }
    ndx_passages_clear(&p);
}

static void
test_passages_run_without_sentence_end_is_cut(void)
{
    char text[4096] = "";
    ndx_passages p = {NULL, 0, 0};
    size_t i;

    for (i = 0; i < 400; i++)
        strcat(text, i ? " word" : "Word");
    split(&p, text);
    CU_ASSERT_EQUAL_FATAL(p.count, 4);
    for (i = 0; i < p.count; i++)
        CU_ASSERT_EQUAL(words_in(text + p.items[i].off, p.items[i].len),
                        100);
    ndx_passages_clear(&p);
}

static void
test_passages_fragments_merge_with_neighbour(void)
{
    char body[1024] = "", text[2048];
    ndx_passages p = {NULL, 0, 0};

    two_sentences(body, sizeof body, 25);
    /* Two leading fragments merge forward. */
    split_formatted(&p, text, sizeof text,
                    "Short line one.\nAnother short one.\n%s\n", body);
    expect_one(&p, 0, strlen(text) - 1);
    /* A trailing fragment merges backward. */
    split_formatted(&p, text, sizeof text, "%s\n\nThe end.\n", body);
    expect_one(&p, 0, strlen(text) - 1);
    /* Two full paragraphs stay apart. */
    split_formatted(&p, text, sizeof text, "%s\n\n%s\n", body, body);
    expect_two(&p, 0, strlen(body), strlen(body) + 2, strlen(body));
    ndx_passages_clear(&p);
}

static void
test_passages_fragments_never_merge_across_furniture(void)
{
    static const char text[] = "First fragment is here.\nAdvertisement\n"
                               "Second fragment is here.\n";
    ndx_passages p = {NULL, 0, 0};
    ndx_split_opts o;

    split(&p, text);
    expect_two(&p, 0, 23, 38, 24);

    /* Kept furniture is ordinary text: one passage. */
    ndx_split_opts_init(&o);
    o.drop_furniture = 0;
    CU_ASSERT_EQUAL_FATAL(ndx_passages_split(&p, text, strlen(text), NULL,
                                             &o), NDX_OK);
    expect_one(&p, 0, strlen(text) - 1);
    ndx_passages_clear(&p);
}

static void
test_passages_navigation_lines_before_furniture_dropped(void)
{
    char body[1024] = "", text[2048];
    ndx_passages p = {NULL, 0, 0};

    two_sentences(body, sizeof body, 20);
    /* Short lines leading into "Menu" are navigation. */
    split_formatted(&p, text, sizeof text,
                    "%s\nHome\nWorld News\nMenu\n", body);
    expect_one(&p, 0, strlen(body));
    /* A list of short lines at the end loses only its last line. */
    split_formatted(&p, text, sizeof text, "%s\nApples\nPears\nPlums\n", body);
    expect_one(&p, 0, strlen(body) + strlen("\nApples\nPears"));
    ndx_passages_clear(&p);
}

static void
test_passages_trimmed_and_empty(void)
{
    ndx_passages p = {NULL, 0, 0};
    ndx_split_opts o;

    split(&p, "  \n  Hello world this is text.  \n\n");
    expect_one(&p, 5, 25);
    split(&p, "");
    CU_ASSERT_EQUAL(p.count, 0);
    split(&p, "Menu\n\nAdvertisement\n  \n");
    CU_ASSERT_EQUAL(p.count, 0);
    CU_ASSERT_EQUAL(ndx_passages_split(&p, NULL, 0, NULL, NULL), NDX_OK);
    CU_ASSERT_EQUAL(p.count, 0);
    ndx_split_opts_init(&o);
    CU_ASSERT_EQUAL(o.min_words, 30);
    CU_ASSERT_EQUAL(o.target_words, 100);
    CU_ASSERT_EQUAL(o.max_words, 150);
    CU_ASSERT_EQUAL(o.drop_furniture, 1);
    CU_ASSERT_PTR_NULL(o.cleaner);
    ndx_passages_clear(&p);
}

static void
test_passages_push_and_clear(void)
{
    ndx_passages p = {NULL, 0, 0};
    uint32_t i;

    for (i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(ndx_passages_push(&p, i * 10, i), NDX_OK);
    CU_ASSERT_EQUAL(p.count, 100);
    CU_ASSERT(p.cap >= 100);
    CU_ASSERT_EQUAL(p.items[57].off, 570);
    CU_ASSERT_EQUAL(p.items[57].len, 57);
    ndx_passages_clear(&p);
    CU_ASSERT_EQUAL(p.count, 0);
    CU_ASSERT_PTR_NULL(p.items);
    ndx_passages_clear(NULL);
}

CU_TestInfo passages_tests[] = {
    {"test_passages_heading_joins_next_paragraph",
     test_passages_heading_joins_next_paragraph},
    {"test_passages_seed_headings_join_following_paragraph",
     test_passages_seed_headings_join_following_paragraph},
    {"test_passages_seed_passages_hold_no_furniture",
     test_passages_seed_passages_hold_no_furniture},
    {"test_passages_seed_leading_and_trailing_furniture_dropped",
     test_passages_seed_leading_and_trailing_furniture_dropped},
    {"test_passages_long_paragraph_splits_at_sentences",
     test_passages_long_paragraph_splits_at_sentences},
    {"test_passages_no_split_at_abbreviations",
     test_passages_no_split_at_abbreviations},
    {"test_passages_run_without_sentence_end_is_cut",
     test_passages_run_without_sentence_end_is_cut},
    {"test_passages_fragments_merge_with_neighbour",
     test_passages_fragments_merge_with_neighbour},
    {"test_passages_fragments_never_merge_across_furniture",
     test_passages_fragments_never_merge_across_furniture},
    {"test_passages_navigation_lines_before_furniture_dropped",
     test_passages_navigation_lines_before_furniture_dropped},
    {"test_passages_trimmed_and_empty", test_passages_trimmed_and_empty},
    {"test_passages_push_and_clear", test_passages_push_and_clear},
    CU_TEST_INFO_NULL,
};
