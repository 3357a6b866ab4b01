/*
 * test_clean.c - page furniture: every furniture line of the seed articles
 * is recognised, headings and article text are not, and the cleaner learns
 * lines that repeat across one source's articles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "ingest/clean.h"
#include "newsdex/ingest.h"
#include "support.h"

static int
furn(const char *line)
{
    return ndx_clean_is_furniture(line, strlen(line));
}

/* Line n (1-based) of a seed file, without its newline; malloc'd. */
static char *
seed_line(const char *file, int n)
{
    char path[256];
    char *text, *p, *end, *line = NULL;

    snprintf(path, sizeof path, "corpus/%s", file);
    text = t_slurp(path, NULL);
    if (!text)
        return NULL;
    for (p = text; n > 1 && p; n--) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (p) {
        end = strchr(p, '\n');
        line = end ? strndup(p, (size_t)(end - p)) : strdup(p);
    }
    free(text);
    return line;
}

static void
test_clean_seed_furniture_lines_are_furniture(void)
{
    static const char *const lines[] = {
        /* 000 */
        "\xf0\x9f\x8e\x99\xef\xb8\x8f Voice is AI-generated. "
        "Inconsistencies may occur.",
        "fairness meter",
        "About the writer",
        /* 003 */
        "Top StoryUS",
        "More on US News",
        "Previous Article",
        "Next Article",
        "How useful was this article?",
        "Click on a star to rate it!",
        "Average rating 0 / 5. Vote count: 0",
        "No votes so far! Be the first to rate this article.",
        "Latest News",
        "Menu",
        /* 004 */
        "-",
        "Read more: Putin seeks halt to Ukraine arms as condition for "
        "ceasefire: Bloomberg",
        /* other common forms */
        "Sign up to our free breaking news emails",
        "Story Continued Below",
        "Read more",
        "READ MORE:",
        "Advertisement",
        "  \xe2\x80\xa2 \xe2\x80\xa2 \xe2\x80\xa2",
        "***",
        "6 years ago",
        "Enlarge this image toggle caption Alex Wong/Getty Images",
        "Copyright \xc2\xa9 2019 The Washington Times, LLC. Click here for "
        "reprint permission.",
        "Slideshow (2 images)",
        "Sign up for Daily Newsletters Manage Newsletters",
    };
    size_t i;
    char *bio, *box;

    for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        CU_ASSERT(furn(lines[i]));
        if (!furn(lines[i]))
            fprintf(stderr, "not furniture: %s\n", lines[i]);
    }
    /* The author bio that ends in "... Read more" (000, last line). */
    bio = seed_line("000_5286196f00fcb6ee.txt", 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bio);
    CU_ASSERT(strncmp(bio, "Shane Croucher", 14) == 0);
    CU_ASSERT(furn(bio));
    /* The sign-up box (002, last line). */
    box = seed_line("002_59a3440c063501ba.txt", 25);
    CU_ASSERT_PTR_NOT_NULL_FATAL(box);
    CU_ASSERT(strncmp(box, "For free real time breaking news", 32) == 0);
    CU_ASSERT(furn(box));
    free(bio);
    free(box);
}

static void
test_clean_headings_and_text_are_not_furniture(void)
{
    static const char *const lines[] = {
        "Ukraine's Red Lines",
        "Europe Steps In to Salvage Talks",
        "Diplomatic Ultimatum",
        "Rubio Reassures NATO\xe2\x80\x94With a Condition",
        "Deep Looks",
        "Update, 4/4/25, 3:05 p.m. ET: A comment by a State Department "
        "spokesperson was added.",
        "Contributing: Reuters, USA TODAY reporter Francesca Chambers",
        "Rubio said the Trump administration expects to make a decision "
        "within a matter of days.",
        "Impotent fury. European leaders are frothing. Trump sparked the "
        "fury with a menu of insults.",
        "The menu",
        "Readers read more news than ever.",
        "In meeting with US, Russia said NATO must disavow promise to "
        "Ukraine",
        "Net profit 5.6 mln vs 4.3 mln",
        "",
        "   ",
    };
    size_t i;

    for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        CU_ASSERT(!furn(lines[i]));
        if (furn(lines[i]))
            fprintf(stderr, "furniture: %s\n", lines[i]);
    }
    /* Only len bytes count: "Menu" cut to "Men" is text. */
    CU_ASSERT(!ndx_clean_is_furniture("Menu", 3));
    CU_ASSERT(ndx_clean_is_furniture("Menu and more", 4));
}

static void
add_article(ndx_cleaner *c, const char *source, int n, int with_line,
            int with_pair)
{
    char text[512];

    snprintf(text, sizeof text,
             "Article number %d of %s reports on a council vote.\n\n"
             "%s"
             "%s"
             "The council met on day %d and voted on the budget.\n",
             n, source,
             with_line ? "Example Daily is a member of the Trust Project\n\n"
                       : "",
             with_pair ? "A line that two articles share by chance\n\n" : "",
             n);
    CU_ASSERT_EQUAL(ndx_cleaner_learn(c, source, text, strlen(text)),
                    NDX_OK);
}

/* A cleaner that learned from n articles of Example Daily, the first
 * with_line of them carrying its Trust Project line, frozen with min and
 * share. */
static ndx_cleaner *
daily_cleaner(int n, int with_line, unsigned min, double share)
{
    ndx_cleaner *c = NULL;
    int i;

    CU_ASSERT_EQUAL_FATAL(ndx_cleaner_new(&c), NDX_OK);
    for (i = 0; i < n; i++)
        add_article(c, "Example Daily", i, i < with_line, 0);
    ndx_cleaner_freeze(c, min, share);
    return c;
}

static void
test_clean_cleaner_learns_repeated_lines_per_source(void)
{
    ndx_cleaner *c = NULL;
    static const char line[] = "EXAMPLE DAILY  is a member of the trust "
                               "project";
    int i;

    CU_ASSERT_EQUAL_FATAL(ndx_cleaner_new(&c), NDX_OK);
    /* 8 of 10 Example Daily articles carry the line; 2 share another. */
    for (i = 0; i < 10; i++)
        add_article(c, i % 2 ? "Example Daily" : "EXAMPLE DAILY", i, i < 8,
                    i < 2);
    /* Other Gazette carries the same line once in 5 articles. */
    for (i = 0; i < 5; i++)
        add_article(c, "Other Gazette", 100 + i, i == 0, 0);
    CU_ASSERT(!ndx_cleaner_is_furniture(c, "Example Daily", line,
                                        strlen(line)));
    ndx_cleaner_freeze(c, 3, 0.5);
    CU_ASSERT_EQUAL(ndx_cleaner_learned_count(c), 1);
    CU_ASSERT(ndx_cleaner_is_furniture(c, "Example Daily", line,
                                       strlen(line)));
    CU_ASSERT(ndx_cleaner_is_furniture(c, "exampledaily.com", line,
                                       strlen(line)));
    CU_ASSERT(!ndx_cleaner_is_furniture(c, "Other Gazette", line,
                                        strlen(line)));
    CU_ASSERT(!ndx_cleaner_is_furniture(
        c, "Example Daily", "A line that two articles share by chance", 40));
    /* Built-in rules still apply through the cleaner. */
    CU_ASSERT(ndx_cleaner_is_furniture(c, "Other Gazette", "Menu", 4));
    CU_ASSERT(ndx_cleaner_is_furniture(NULL, "Other Gazette", "Menu", 4));
    /* Learning after freeze is refused. */
    CU_ASSERT_EQUAL(ndx_cleaner_learn(c, "x", "y", 1), NDX_EINVAL);
    ndx_cleaner_free(c);
    ndx_cleaner_free(NULL);
}

static void
test_clean_learned_lines_survive_save_and_load(void)
{
    static const char line[] = "Example Daily is a member of the Trust "
                               "Project";
    const char *dir = t_tmpdir();
    ndx_cleaner *c = NULL, *d = NULL;
    char path[500];
    char *raw;
    size_t len = 0;

    c = daily_cleaner(10, 8, 3, 0.5);
    CU_ASSERT_EQUAL(ndx_cleaner_learned_count(c), 1);
    CU_ASSERT_EQUAL(ndx_cleaner_save(c, dir), NDX_OK);

    /* A later run that learns nothing itself (two articles). */
    CU_ASSERT_EQUAL_FATAL(ndx_cleaner_new(&d), NDX_OK);
    add_article(d, "Example Daily", 50, 1, 0);
    add_article(d, "Other Gazette", 51, 1, 0);
    ndx_cleaner_freeze(d, 3, 0.5);
    CU_ASSERT_EQUAL(ndx_cleaner_learned_count(d), 0);
    CU_ASSERT(!ndx_cleaner_is_furniture(d, "Example Daily", line,
                                        strlen(line)));
    CU_ASSERT_EQUAL(ndx_cleaner_load(d, dir), NDX_OK);
    CU_ASSERT_EQUAL(ndx_cleaner_learned_count(d), 1);
    CU_ASSERT(ndx_cleaner_is_furniture(d, "Example Daily", line,
                                       strlen(line)));
    /* Learned for its source only. */
    CU_ASSERT(!ndx_cleaner_is_furniture(d, "Other Gazette", line,
                                        strlen(line)));
    /* Loading twice adds nothing new. */
    CU_ASSERT_EQUAL(ndx_cleaner_load(d, dir), NDX_OK);
    CU_ASSERT_EQUAL(ndx_cleaner_learned_count(d), 1);

    /* A flipped byte, a short file, no file: refused, cleaner unchanged. */
    snprintf(path, sizeof path, "%s/FURNITURE", dir);
    raw = t_slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
    CU_ASSERT_EQUAL(len, 8 + 4 + 4 + 8 + 8 + 4); /* one key */
    raw[26] ^= 0x10;
    t_write(path, raw, len);
    CU_ASSERT_EQUAL(ndx_cleaner_load(d, dir), NDX_ECORRUPT);
    t_write(path, raw, len - 3);
    CU_ASSERT_EQUAL(ndx_cleaner_load(d, dir), NDX_ECORRUPT);
    remove(path);
    CU_ASSERT_EQUAL(ndx_cleaner_load(d, dir), NDX_ENOTFOUND);
    CU_ASSERT_EQUAL(ndx_cleaner_learned_count(d), 1);
    free(raw);
    ndx_cleaner_free(c);
    ndx_cleaner_free(d);
}

static void
test_clean_cleaner_share_threshold(void)
{
    ndx_cleaner *c = NULL;

    /* 4 of 10 articles: enough for min 3, below a share of 0.5. */
    c = daily_cleaner(10, 4, 3, 0.5);
    CU_ASSERT_EQUAL(ndx_cleaner_learned_count(c), 0);
    ndx_cleaner_free(c);

    c = daily_cleaner(10, 4, 3, 0.4);
    CU_ASSERT_EQUAL(ndx_cleaner_learned_count(c), 1);
    ndx_cleaner_free(c);
}

/* A large source's promotion: in 12 of 200 articles (6%, far below the
 * share), 14 words long; a short line in as many articles stays. */
static void
test_clean_cleaner_repeat_rule_catches_a_large_sources_promotion(void)
{
    static const char promo[] = "Check out the Example Electoral Map and "
                                "calculator and game out your own strategy";
    static const char shortl[] = "Record April 15";
    const char *source = NULL, *line = NULL;
    ndx_cleaner *c = NULL;
    char text[512];
    int i;

    CU_ASSERT_EQUAL_FATAL(ndx_cleaner_new(&c), NDX_OK);
    for (i = 0; i < 200; i++) {
        snprintf(text, sizeof text,
                 "Story %d about the vote.\n\n%s\n\n%s\n\nThe end %d.\n", i,
                 i < 12 ? promo : "", i < 12 ? shortl : "", i);
        CU_ASSERT_EQUAL(ndx_cleaner_learn(c, "Big Network", text,
                                          strlen(text)), NDX_OK);
    }
    /* The same promotion in 9 of 100 articles of another source: too
     * few. */
    for (i = 0; i < 100; i++) {
        snprintf(text, sizeof text, "Note %d.\n\n%s\n\nEnd %d.\n", i,
                 i < 9 ? promo : "", i);
        CU_ASSERT_EQUAL(ndx_cleaner_learn(c, "Other Network", text,
                                          strlen(text)), NDX_OK);
    }
    ndx_cleaner_freeze(c, 5, 0.2);
    CU_ASSERT(ndx_cleaner_is_furniture(c, "Big Network", promo,
                                       strlen(promo)));
    CU_ASSERT(!ndx_cleaner_is_furniture(c, "Big Network", shortl,
                                        strlen(shortl)));
    CU_ASSERT(!ndx_cleaner_is_furniture(c, "Other Network", promo,
                                        strlen(promo)));
    /* The summary lists it with its count, source and text. */
    CU_ASSERT_EQUAL(ndx_cleaner_top_line(c, 0, &source, &line), 12);
    CU_ASSERT_STRING_EQUAL(source, "Big Network");
    CU_ASSERT_STRING_EQUAL(line, promo);
    CU_ASSERT_EQUAL(ndx_cleaner_top_line(c, 1, &source, &line), 0);
    ndx_cleaner_free(c);
}

static void
test_clean_cleaner_drops_learned_lines_from_passages(void)
{
    ndx_cleaner *c = NULL;
    ndx_split_opts o;
    ndx_passages p = {NULL, 0, 0};
    static const char text[] =
        "Article number 42 of Example Daily reports on a council vote.\n\n"
        "Example Daily is a member of the Trust Project\n\n"
        "The council met on day 42 and voted on the budget.\n";
    size_t i;

    c = daily_cleaner(6, 6, 3, 0.5);
    ndx_split_opts_init(&o);
    o.cleaner = c;
    CU_ASSERT_EQUAL_FATAL(ndx_passages_split(&p, text, strlen(text),
                                             "Example Daily", &o), NDX_OK);
    /* Two fragments that cannot merge across the learned line. */
    CU_ASSERT_EQUAL(p.count, 2);
    for (i = 0; i < p.count; i++)
        CU_ASSERT(memmem(text + p.items[i].off, p.items[i].len, "Trust",
                         5) == NULL);
    /* Another source keeps the line. */
    CU_ASSERT_EQUAL(ndx_passages_split(&p, text, strlen(text), "Other",
                                       &o), NDX_OK);
    CU_ASSERT_EQUAL(p.count, 1);
    ndx_passages_clear(&p);
    ndx_cleaner_free(c);
}

/* n words: the first word, then "wordK" for K from 1. */
static void
words_line(char *out, size_t cap, const char *first, int n)
{
    size_t len = (size_t)snprintf(out, cap, "%s", first);
    int k;

    for (k = 1; k < n && len < cap; k++)
        len += (size_t)snprintf(out + len, cap - len, " word%d", k);
}

/* The splitter asks the cleaner only about lines of at most
 * NDX_CLEAN_LEARN_MAX_WORDS words, the longest it learns: a repeated line
 * of exactly that many words, padded with blanks where it is found, is
 * learned and dropped; one word more, and it is article text. */
static void
test_clean_learned_lines_at_the_word_limit(void)
{
    ndx_cleaner *c = NULL;
    ndx_split_opts o;
    ndx_passages p = {NULL, 0, 0};
    char at[1024], over[1024], text[4096];
    size_t i;
    int n, found_at = 0, found_over = 0;

    words_line(at, sizeof at, "atlimit", NDX_CLEAN_LEARN_MAX_WORDS);
    words_line(over, sizeof over, "overlimit",
               NDX_CLEAN_LEARN_MAX_WORDS + 1);
    CU_ASSERT_EQUAL(ndx_clean_word_count(at, strlen(at)),
                    NDX_CLEAN_LEARN_MAX_WORDS);
    CU_ASSERT_EQUAL(ndx_clean_word_count(over, strlen(over)),
                    NDX_CLEAN_LEARN_MAX_WORDS + 1);
    CU_ASSERT_EQUAL_FATAL(ndx_cleaner_new(&c), NDX_OK);
    for (n = 0; n < 12; n++) {
        snprintf(text, sizeof text,
                 "Article number %d of Example Daily reports on a vote.\n\n"
                 "%s\n\n%s\n\nThe council met on day %d and voted.\n",
                 n, at, over, n);
        CU_ASSERT_EQUAL(ndx_cleaner_learn(c, "Example Daily", text,
                                          strlen(text)), NDX_OK);
    }
    ndx_cleaner_freeze(c, 3, 0.5);
    CU_ASSERT(ndx_cleaner_is_furniture(c, "Example Daily", at, strlen(at)));
    CU_ASSERT(!ndx_cleaner_is_furniture(c, "Example Daily", over,
                                        strlen(over)));
    snprintf(text, sizeof text,
             "Article number 99 of Example Daily reports on a vote.\n\n"
             " \t%s  \n\n%s\n\nThe council met on day 99 and voted.\n",
             at, over);
    ndx_split_opts_init(&o);
    o.cleaner = c;
    CU_ASSERT_EQUAL_FATAL(ndx_passages_split(&p, text, strlen(text),
                                             "Example Daily", &o), NDX_OK);
    for (i = 0; i < p.count; i++) {
        found_at |= memmem(text + p.items[i].off, p.items[i].len,
                           "atlimit", 7) != NULL;
        found_over |= memmem(text + p.items[i].off, p.items[i].len,
                             "overlimit", 9) != NULL;
    }
    CU_ASSERT(!found_at);
    CU_ASSERT(found_over);
    ndx_passages_clear(&p);
    ndx_cleaner_free(c);
}

static uint64_t
line_hash(const char *s)
{
    return ndx_clean_line_hash(s, strlen(s));
}

/* Lines hash eight bytes at a time where they can, so the same text is
 * compared at every alignment, with blank runs, capitals, no-break spaces
 * and curly apostrophes landing inside and across the eight-byte runs. */
static void
test_clean_line_hash_normalises_at_every_alignment(void)
{
    static const char messy[] =
        "  The Quick  Brown\tfox JUMPS over the lazy dog\xc2\xa0" "again, "
        "DON\xe2\x80\x99T  you   think?\t \n";
    static const char tidy[] =
        "the quick brown fox jumps over the lazy dog again, don't you "
        "think?";
    size_t k;

    for (k = 0; k < 17; k++) {
        char a[256], b[256];

        snprintf(a, sizeof a, "%.*s%s", (int)k, "XyZXyZXyZXyZXyZXyZ", messy);
        snprintf(b, sizeof b, "%.*s%s", (int)k, "xyzxyzxyzxyzxyzxyz", tidy);
        if (k)
            /* Without the padding the leading blanks are trimmed; with
             * it they collapse into the space that now stands there. */
            snprintf(b, sizeof b, "%.*s %s", (int)k, "xyzxyzxyzxyzxyzxyz",
                     tidy);
        CU_ASSERT_EQUAL(line_hash(a), line_hash(b));
        CU_ASSERT_NOT_EQUAL(line_hash(a), 0);
    }
}

static void
test_clean_line_hash_tells_different_lines_apart(void)
{
    CU_ASSERT_EQUAL(line_hash(""), 0);
    CU_ASSERT_EQUAL(line_hash(" \t \xc2\xa0 "), 0);
    CU_ASSERT_EQUAL(line_hash("abcdefgh"), line_hash("abcdefgh \t"));
    CU_ASSERT_NOT_EQUAL(line_hash("the quick brown fox"),
                        line_hash("the quick brown fax"));
    CU_ASSERT_NOT_EQUAL(line_hash("abcdefgh"), line_hash("abcdefghi"));
    CU_ASSERT_NOT_EQUAL(line_hash("abcdefgh"), line_hash("abcdefg"));
    CU_ASSERT_NOT_EQUAL(line_hash("ab cdefgh"), line_hash("abcdefgh"));
    CU_ASSERT_NOT_EQUAL(line_hash("abcdefghabcdefgh"),
                        line_hash("abcdefgh abcdefgh"));
    /* '@' and '[' sit either side of A-Z and are not folded. */
    CU_ASSERT_NOT_EQUAL(line_hash("@[@[@[@[@["), line_hash("`{`{`{`{`{"));
    CU_ASSERT_EQUAL(line_hash("AZAZAZAZAZ"), line_hash("azazazazaz"));
}

static unsigned
words(const char *s)
{
    return ndx_clean_word_count(s, strlen(s));
}

static void
test_clean_word_count_counts_runs_with_a_letter_or_digit(void)
{
    CU_ASSERT_EQUAL(words(""), 0);
    CU_ASSERT_EQUAL(words(" \t\n "), 0);
    CU_ASSERT_EQUAL(words("one"), 1);
    CU_ASSERT_EQUAL(words("  one two\tthree\n"), 3);
    /* A dash, a bullet, an em dash and an ellipsis are no words. */
    CU_ASSERT_EQUAL(words("a - b \xe2\x80\xa2 c \xe2\x80\x94 d ..."), 4);
    /* Punctuation inside or around a word keeps it one word. */
    CU_ASSERT_EQUAL(words("\"U.S.\" (1,000) don't"), 3);
    /* A no-break space separates; an accented letter is a letter. */
    CU_ASSERT_EQUAL(words("caf\xc3\xa9\xc2\xa0" "cr\xc3\xa8me"), 2);
    CU_ASSERT_EQUAL(words("\xc3\xa9"), 1);
    /* 0xC2 not followed by 0xA0 is a lead byte like any other. */
    CU_ASSERT_EQUAL(words("\xc2\xb5m x"), 2);
}

CU_TestInfo clean_tests[] = {
    {"test_clean_seed_furniture_lines_are_furniture",
     test_clean_seed_furniture_lines_are_furniture},
    {"test_clean_headings_and_text_are_not_furniture",
     test_clean_headings_and_text_are_not_furniture},
    {"test_clean_cleaner_learns_repeated_lines_per_source",
     test_clean_cleaner_learns_repeated_lines_per_source},
    {"test_clean_learned_lines_survive_save_and_load",
     test_clean_learned_lines_survive_save_and_load},
    {"test_clean_cleaner_share_threshold",
     test_clean_cleaner_share_threshold},
    {"test_clean_cleaner_repeat_rule_catches_a_large_sources_promotion",
     test_clean_cleaner_repeat_rule_catches_a_large_sources_promotion},
    {"test_clean_cleaner_drops_learned_lines_from_passages",
     test_clean_cleaner_drops_learned_lines_from_passages},
    {"test_clean_learned_lines_at_the_word_limit",
     test_clean_learned_lines_at_the_word_limit},
    {"test_clean_line_hash_normalises_at_every_alignment",
     test_clean_line_hash_normalises_at_every_alignment},
    {"test_clean_line_hash_tells_different_lines_apart",
     test_clean_line_hash_tells_different_lines_apart},
    {"test_clean_word_count_counts_runs_with_a_letter_or_digit",
     test_clean_word_count_counts_runs_with_a_letter_or_digit},
    CU_TEST_INFO_NULL,
};
