/*
 * test_snippet.c - snippets: which window is chosen, where it is cut, what
 * is highlighted, and that UTF-8 is never split.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/index.h"
#include "support.h"

/* The suite's English analyzer (support.h), made by its set-up and freed
 * by its tear-down. */
int snippet_suite_init(void);
int snippet_suite_cleanup(void);

int
snippet_suite_init(void)
{
    return t_english_open();
}

int
snippet_suite_cleanup(void)
{
    return t_english_close();
}


/* Snippet of text for query qtext (NULL: no query) within max_len. */
static void
expect(const char *qtext, const char *text, size_t max_len,
       const char *want)
{
    ndx_query *q = NULL;
    char *got;

    if (qtext)
        CU_ASSERT_EQUAL_FATAL(ndx_query_parse(&q, qtext, t_english(), NULL),
                              NDX_OK);
    got = ndx_snippet_make(t_english(), q, text, text ? strlen(text) : 0,
                           max_len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n  got  [%s]\n  want [%s]\n", got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
    ndx_query_free(q);
}

static void
test_snippet_short_text_is_whole_and_highlighted(void)
{
    expect("security", "short security text", 240,
           "short <b>security</b> text");
    /* runs of white space become one space; the ends are trimmed */
    expect("security guarantees", "Line one\n\n  security\tguarantees  ",
           240, "Line one <b>security</b> <b>guarantees</b>");
}

static void
test_snippet_matches_stems_and_surface_forms(void)
{
    expect("talks", "He talked. They talk.", 240,
           "He <b>talked</b>. They <b>talk</b>.");
    /* phrase words are highlighted by surface form only */
    expect("\"security guarantees\"", "guarantee of security", 240,
           "guarantee of <b>security</b>");
    /* the original spelling is kept inside the tags */
    expect("cafe", "Caf\xC3\xA9 talks", 240,
           "<b>Caf\xC3\xA9</b> talks");
}

static void
test_snippet_prefix_and_exclusions(void)
{
    expect("ukr*", "The Ukrainian side", 240,
           "The <b>Ukrainian</b> side");
    expect("a -russia", "a russia", 240, "<b>a</b> russia");
}

static void
test_snippet_prefers_distinct_words_over_repeats(void)
{
    /* alpha x3 at the start fits a window of 20 bytes, but beta and
     * gamma (two distinct words) win; the window then reaches the end. */
    expect("beta gamma alpha",
           "alpha alpha alpha xxxxxxxxxx yyyyyyyyyy beta gamma zz", 20,
           "\xE2\x80\xA6 <b>beta</b> <b>gamma</b> zz");
}

static void
test_snippet_centres_match_and_cuts_both_sides(void)
{
    /* target at 49..55; 24 bytes to spare, 12 before: nine (40) is the
     * first word within reach, and the window ends with twelve (69). */
    expect("target",
           "one two three four five six seven eight nine ten target "
           "eleven twelve thirteen fourteen fifteen",
           30,
           "\xE2\x80\xA6 nine ten <b>target</b> eleven twelve "
           "\xE2\x80\xA6");
}

static void
test_snippet_without_match_shows_the_start(void)
{
    expect("zebra",
           "one two three four five six seven eight nine ten target", 30,
           "one two three four five six \xE2\x80\xA6");
    expect(NULL, "one two three four five six seven eight", 30,
           "one two three four five six \xE2\x80\xA6");
}

static void
test_snippet_keeps_punctuation_glued_to_last_word(void)
{
    expect("target", "the target, said others", 10,
           "\xE2\x80\xA6 <b>target</b>, \xE2\x80\xA6");
    expect("target", "target, and then more words follow here", 12,
           "<b>target</b>, and \xE2\x80\xA6");
}

static void
test_snippet_long_token_is_cut_on_a_character(void)
{
    char text[128], want[64];
    int i;

    /* 50 x U+00E9 (100 bytes), max 21: the cut backs off to byte 20 */
    for (i = 0; i < 50; i++)
        memcpy(text + 2 * i, "\xC3\xA9", 2);
    text[100] = '\0';
    for (i = 0; i < 10; i++)
        memcpy(want + 2 * i, "\xC3\xA9", 2);
    strcpy(want + 20, " \xE2\x80\xA6");
    expect("x", text, 21, want);
    /* a giant word before the match is skipped */
    memset(text, 'a', 50);
    strcpy(text + 50, " x");
    expect("x", text, 20, "\xE2\x80\xA6 <b>x</b>");
}

static void
test_snippet_empty_and_odd_input(void)
{
    expect("x", "", 240, "");
    expect("x", NULL, 240, "");
    expect("x", "  ...  ", 240, "...");
    /* invalid bytes are copied, never a crash */
    expect("security", "bad \xFF security", 240,
           "bad \xFF <b>security</b>");
    /* max_len 0 means the whole passage */
    expect("b", "a b c", 0, "a <b>b</b> c");
}

/* Whether s is valid UTF-8. */
static int
valid_utf8(const unsigned char *s)
{
    while (*s) {
        int n = *s < 0x80 ? 1 : (*s & 0xE0) == 0xC0 ? 2
                              : (*s & 0xF0) == 0xE0 ? 3
                              : (*s & 0xF8) == 0xF0 ? 4 : 0;
        int i;
        if (!n)
            return 0;
        for (i = 1; i < n; i++)
            if ((s[i] & 0xC0) != 0x80)
                return 0;
        s += n;
    }
    return 1;
}

static void
test_snippet_never_splits_utf8_at_any_length(void)
{
    static const char text[] =
        "\xC3\x89lections \xC3\xA0 Kyiv \xE2\x80\x94 \xE2\x80\x9CLa "
        "s\xC3\xA9" "curit\xC3\xA9\xE2\x80\x9D, dit-il \xF0\x9F\x98\x80 "
        "\xE4\xB8\xAD\xE5\x9B\xBD \xD0\x9A\xD0\xB8\xD0\xB5\xD0\xB2 "
        "garanties de s\xC3\xA9" "curit\xC3\xA9.";
    ndx_query *q = NULL;
    size_t max;

    CU_ASSERT_EQUAL_FATAL(ndx_query_parse(&q, "securite kyiv", t_english(),
                                          NULL), NDX_OK);
    for (max = 1; max < sizeof text + 4; max++) {
        char *s = ndx_snippet_make(t_english(), q, text, sizeof text - 1,
                                   max);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT(valid_utf8((const unsigned char *)s));
        CU_ASSERT_EQUAL(t_count(s, "<b>"), t_count(s, "</b>"));
        free(s);
    }
    ndx_query_free(q);
}

CU_TestInfo snippet_tests[] = {
    {"snippet_short_text_is_whole_and_highlighted",
     test_snippet_short_text_is_whole_and_highlighted},
    {"snippet_matches_stems_and_surface_forms",
     test_snippet_matches_stems_and_surface_forms},
    {"snippet_prefix_and_exclusions", test_snippet_prefix_and_exclusions},
    {"snippet_prefers_distinct_words_over_repeats",
     test_snippet_prefers_distinct_words_over_repeats},
    {"snippet_centres_match_and_cuts_both_sides",
     test_snippet_centres_match_and_cuts_both_sides},
    {"snippet_without_match_shows_the_start",
     test_snippet_without_match_shows_the_start},
    {"snippet_keeps_punctuation_glued_to_last_word",
     test_snippet_keeps_punctuation_glued_to_last_word},
    {"snippet_long_token_is_cut_on_a_character",
     test_snippet_long_token_is_cut_on_a_character},
    {"snippet_empty_and_odd_input", test_snippet_empty_and_odd_input},
    {"snippet_never_splits_utf8_at_any_length",
     test_snippet_never_splits_utf8_at_any_length},
    CU_TEST_INFO_NULL,
};
