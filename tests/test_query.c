/*
 * test_query.c - the query parser: tree shapes, merging, fields, filters,
 * highlights, and every kind of syntax error with its column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "newsdex/article.h"
#include "newsdex/query.h"
#include "support.h"

/* The suite's English analyzer (support.h), made by its set-up and freed
 * by its tear-down. */
int query_suite_init(void);
int query_suite_cleanup(void);

int
query_suite_init(void)
{
    return t_english_open();
}

int
query_suite_cleanup(void)
{
    return t_english_close();
}


/* Parses text and checks its description. */
static void
expect(const char *text, const char *want)
{
    ndx_query *q = NULL;
    size_t col = 99;
    char got[512];
    ndx_status rc = ndx_query_parse(&q, text, t_english(), &col);

    if (rc != NDX_OK)
        fprintf(stderr, "\n  %s: %s\n", text, ndx_errmsg());
    CU_ASSERT_EQUAL_FATAL(rc, NDX_OK);
    CU_ASSERT_EQUAL(col, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q->root);
    ndx_query_describe(q, got, sizeof got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n  %s: got %s want %s\n", text, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
    ndx_query_free(q);
}

/* Parses text, which must parse; the caller frees the query. */
static ndx_query *
parsed(const char *text)
{
    ndx_query *q = NULL;

    CU_ASSERT_EQUAL_FATAL(ndx_query_parse(&q, text, t_english(), NULL),
                          NDX_OK);
    return q;
}

/* Parses text, expecting NDX_ESYNTAX at col with msg inside the message. */
static void
expect_err(const char *text, size_t col, const char *msg)
{
    ndx_query *q = (ndx_query *)&q;
    size_t got_col = 0;
    ndx_status rc = ndx_query_parse(&q, text, t_english(), &got_col);

    CU_ASSERT_EQUAL(rc, NDX_ESYNTAX);
    CU_ASSERT_PTR_NULL(q);
    if (got_col != col || !strstr(ndx_errmsg(), msg))
        fprintf(stderr, "\n  %s: col %zu (want %zu): %s\n", text, got_col,
                col, ndx_errmsg());
    CU_ASSERT_EQUAL(got_col, col);
    CU_ASSERT_PTR_NOT_NULL(strstr(ndx_errmsg(), msg));
    if (rc == NDX_OK)
        ndx_query_free(q);
}

/* A query and its description, for expect(). */
typedef struct parse_case {
    const char *text;
    const char *want;
} parse_case;

/* A query, the column of its error and words of the message, for
 * expect_err(). */
typedef struct err_case {
    const char *text;
    size_t col;
    const char *msg;
} err_case;

/* expect() for each of count cases. */
static void
expect_each(const parse_case *cases, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        expect(cases[i].text, cases[i].want);
}

/* expect_err() for each of count cases. */
static void
expect_errs(const err_case *cases, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        expect_err(cases[i].text, cases[i].col, cases[i].msg);
}

static void
test_query_words_are_anded_stems(void)
{
    static const parse_case cases[] = {
        {"security", "Zsecur"},
        {"Security guarantees", "(AND Zsecur Zguarante)"},
        {"  spaced\tout\n", "(AND Zspace Zout)"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_phrase_keeps_surface_forms(void)
{
    static const parse_case cases[] = {
        {"security \"security guarantees\"",
         "(AND Zsecur (PHRASE security guarantees))"},
        {"\"Caf\xC3\xA9 talks\"", "(PHRASE cafe talks)"},
        /* curly quotes work as straight ones */
        {"\xE2\x80\x9C" "a b" "\xE2\x80\x9D", "(PHRASE a b)"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_one_word_phrase_is_unstemmed(void)
{
    ndx_query *q = NULL;

    q = parsed("\"Talks\"");
    CU_ASSERT_EQUAL(q->root->kind, NDX_Q_PHRASE);
    CU_ASSERT_EQUAL_FATAL(q->root->term_count, 1);
    CU_ASSERT_STRING_EQUAL(q->root->terms[0], "talks");
    CU_ASSERT_EQUAL(q->root->title, 0);
    ndx_query_free(q);
}

static void
test_query_or_binds_tighter_than_and(void)
{
    static const parse_case cases[] = {
        {"a OR b", "(OR Za Zb)"},
        {"a b OR c", "(AND Za (OR Zb Zc))"},
        {"a OR b c OR d", "(AND (OR Za Zb) (OR Zc Zd))"},
        {"a OR b OR c", "(OR Za Zb Zc)"},
        /* lower-case or is a word */
        {"a or b", "(AND Za Zor Zb)"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_groups_flatten_into_same_kind(void)
{
    static const parse_case cases[] = {
        {"(a b) c", "(AND Za Zb Zc)"},
        {"(a OR b) OR c", "(OR Za Zb Zc)"},
        {"(a OR b) c", "(AND (OR Za Zb) Zc)"},
        {"((a))", "Za"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_identical_terms_merge_with_wqf(void)
{
    ndx_query *q = NULL;

    /* talk, talks and talking all stem to "talk" */
    static const parse_case cases[] = {
        {"talk talks talking", "Ztalk^3"},
        {"a b a", "(AND Za^2 Zb)"},
        {"a OR b OR a", "(OR Za^2 Zb)"},
        /* a term in an AND and the same term inside an OR stay apart */
        {"a (a OR b)", "(AND Za (OR Za Zb))"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
    q = parsed("x y x");
    CU_ASSERT_EQUAL(q->root->kind, NDX_Q_AND);
    CU_ASSERT_EQUAL_FATAL(q->root->kid_count, 2);
    CU_ASSERT_STRING_EQUAL(q->root->kids[0]->terms[0], "Zx");
    CU_ASSERT_EQUAL(q->root->kids[0]->wqf, 2);
    CU_ASSERT_EQUAL(q->root->kids[1]->wqf, 1);
    ndx_query_free(q);
}

static void
test_query_exclusions_make_one_not(void)
{
    static const parse_case cases[] = {
        {"a -b", "(NOT Za Zb)"},
        {"a NOT b", "(NOT Za Zb)"},
        {"-b a", "(NOT Za Zb)"},
        {"a -b -c NOT d", "(NOT Za (OR Zb Zc Zd))"},
        {"a -b -b", "(NOT Za Zb^2)"},
        {"a -\"b c\"", "(NOT Za (PHRASE b c))"},
        {"a -(b c)", "(NOT Za (AND Zb Zc))"},
        {"a -(b OR c)", "(NOT Za (OR Zb Zc))"},
        {"a b -c", "(NOT (AND Za Zb) Zc)"},
        /* a group's exclusions join the sequence around it */
        {"a (b -c)", "(NOT (AND Za Zb) Zc)"},
        /* inside OR a group keeps its own NOT */
        {"a OR (b -c)", "(OR Za (NOT Zb Zc))"},
        /* a hyphen inside a word is no exclusion; a lone one is
         * punctuation */
        {"a - b", "(AND Za Zb)"},
        {"a -", "Za"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_not_node_shape_and_columns(void)
{
    ndx_query *q = NULL;

    q = parsed("a -b");
    CU_ASSERT_EQUAL(q->root->kind, NDX_Q_NOT);
    CU_ASSERT_EQUAL_FATAL(q->root->kid_count, 2);
    CU_ASSERT_EQUAL(q->root->col, 1);
    CU_ASSERT_EQUAL(q->root->kids[0]->col, 1);
    CU_ASSERT_EQUAL(q->root->kids[1]->col, 4); /* the b after '-' */
    CU_ASSERT_STRING_EQUAL(q->root->kids[1]->terms[0], "Zb");
    ndx_query_free(q);
}

static void
test_query_words_with_several_tokens_become_phrases(void)
{
    static const parse_case cases[] = {
        {"Russia-Ukraine", "(PHRASE russia ukraine)"},
        {"U.S. aid", "(AND (PHRASE u s) Zaid)"},
        {"Ukraine's", "Zukrain"},
        {"600,000", "Z600000"},
        /* punctuation-only words and empty quotes are skipped */
        {"!!! a ... \"\" --", "Za"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_prefix(void)
{
    ndx_query *q = NULL;

    static const parse_case cases[] = {
        {"ukr*", "(PREFIX ukr)"},
        {"Ukr*", "(PREFIX ukr)"},
        {"\xC3\x89" "co*", "(PREFIX eco)"},
        {"ab**", "(PREFIX ab)"},
        {"a ukr*", "(AND Za (PREFIX ukr))"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
    q = parsed("ukr*");
    CU_ASSERT_EQUAL(q->root->kind, NDX_Q_PREFIX);
    CU_ASSERT_EQUAL(q->root->term_count, 1);
    ndx_query_free(q);
}

static void
test_query_title_field(void)
{
    ndx_query *q = NULL;

    static const parse_case cases[] = {
        {"title:Rubio", "Trubio"},
        {"TITLE:talks", "Ttalk"},
        {"title:\"Rubio talks\"", "(TPHRASE rubio talks)"},
        {"title:ukr*", "(TPREFIX ukr)"},
        {"title:Russia-Ukraine", "(TPHRASE russia ukraine)"},
        {"talks title:talks", "(AND Ztalk Ttalk)"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
    q = parsed("title:Rubio");
    CU_ASSERT_EQUAL(q->root->kind, NDX_Q_TERM);
    CU_ASSERT_EQUAL(q->root->title, 1);
    CU_ASSERT_STRING_EQUAL(q->root->terms[0], "Trubio");
    ndx_query_free(q);
}

static void
test_query_source_filters(void)
{
    ndx_query *q = NULL;
    char key[64], want[128];

    static const parse_case cases[] = {
        {"source:newsweek", "ALL source=newsweek"},
        {"talks source:newsweek", "Ztalk source=newsweek"},
        {"source:newsweek OR source:reuters",
         "ALL source=newsweek source=reuters"},
        {"source:newsweek source:reuters",
         "ALL source=newsweek source=reuters"},
        {"source:newsweek source:newsweek", "ALL source=newsweek"},
        /* a filter inside a group still applies to the whole query */
        {"a (b source:newsweek)", "(AND Za Zb) source=newsweek"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
    /* names with spaces are quoted; the key is ndx_source_key's */
    ndx_source_key("USA Today", key, sizeof key);
    snprintf(want, sizeof want, "Zaid source=%s", key);
    expect("aid source:\"USA Today\"", want);
    q = parsed("source:\"USA Today\" x");
    CU_ASSERT_EQUAL_FATAL(q->source_count, 1);
    CU_ASSERT_STRING_EQUAL(q->sources[0], key);
    CU_ASSERT_EQUAL(q->from_days, NDX_DATE_NONE);
    CU_ASSERT_EQUAL(q->to_days, NDX_DATE_NONE);
    ndx_query_free(q);
}

static void
test_query_date_filters(void)
{
    ndx_query *q = NULL;

    static const parse_case cases[] = {
        {"date:2025-04", "ALL from=2025-04-01 to=2025-04-30"},
        {"date:2025", "ALL from=2025-01-01 to=2025-12-31"},
        {"date:2025-04-04", "ALL from=2025-04-04 to=2025-04-04"},
        {"talks date:2025-04-01..2025-04-30",
         "Ztalk from=2025-04-01 to=2025-04-30"},
        {"date:2025-03..2025-04", "ALL from=2025-03-01 to=2025-04-30"},
        {"date:2025-04..", "ALL from=2025-04-01"},
        {"date:..2025-04", "ALL to=2025-04-30"},
        {"after:2025-04-10", "ALL from=2025-04-10"},
        {"after:2025-04", "ALL from=2025-04-01"},
        {"before:2025-05", "ALL to=2025-04-30"},
        {"before:2025-03-01", "ALL to=2025-02-28"},
        {"before:2024-03-01", "ALL to=2024-02-29"},
        /* several date filters intersect */
        {"date:2025 after:2025-03-15 before:2025-05",
         "ALL from=2025-03-15 to=2025-04-30"},
        {"after:2025-04-10 after:2025-04-05", "ALL from=2025-04-10"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
    q = parsed("x date:2025-04");
    CU_ASSERT_EQUAL(q->from_days, ndx_date_from_ymd(2025, 4, 1));
    CU_ASSERT_EQUAL(q->to_days, ndx_date_from_ymd(2025, 4, 30));
    ndx_query_free(q);
}

static void
test_query_filters_only_match_all(void)
{
    ndx_query *q = NULL;

    q = parsed("date:2025 !!");
    CU_ASSERT_EQUAL(q->root->kind, NDX_Q_ALL);
    CU_ASSERT_EQUAL(q->highlight_count, 0);
    ndx_query_free(q);
}

static void
test_query_highlight_lists_positive_words_once(void)
{
    ndx_query *q = NULL;
    /* Phrase words are highlighted by surface form only: a phrase does
     * not match other words with the same stem. */
    static const char *const want[] = {"security", "Zsecur", "guarantees",
                                       "ukr*", "rubio", "Zrubio"};
    size_t i;

    q = parsed("security \"security guarantees\" -russia "
               "NOT (war peace) ukr* title:Rubio");
    CU_ASSERT_EQUAL_FATAL(q->highlight_count, 6);
    for (i = 0; i < 6; i++)
        CU_ASSERT_STRING_EQUAL(q->highlight[i], want[i]);
    ndx_query_free(q);
}

static void
test_query_errors_quotes(void)
{
    static const err_case cases[] = {
        {"\"abc", 1, "unclosed quote at column 1"},
        {"a \"b c", 3, "unclosed quote at column 3"},
        {"source:\"usa today", 8, "unclosed quote at column 8"},
        /* columns count characters: e-acute is one */
        {"\xC3\xA9 \"x", 3, "unclosed quote at column 3"},
        {"\xE2\x80\x9C" "a", 1, "unclosed quote at column 1"},
    };

    expect_errs(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_errors_parentheses(void)
{
    static const err_case cases[] = {
        {"(a", 1, "unbalanced parenthesis at column 1"},
        {"a (b (c)", 3, "unbalanced parenthesis at column 3"},
        {"a)", 2, "unbalanced parenthesis at column 2"},
        {"(a))", 4, "unbalanced parenthesis at column 4"},
        {"()", 1, "empty group at column 1"},
        {"a ( )", 3, "empty group at column 3"},
    };

    expect_errs(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_errors_dangling_operators(void)
{
    static const err_case cases[] = {
        {"a OR", 3, "dangling OR at column 3"},
        {"OR a", 1, "dangling OR at column 1"},
        {"a OR OR b", 3, "dangling OR at column 3"},
        {"(a OR) b", 4, "dangling OR at column 4"},
        {"a OR -b", 3, "dangling OR at column 3"},
        {"a NOT", 3, "dangling NOT at column 3"},
        {"NOT", 1, "dangling NOT at column 1"},
        {"a NOT OR b", 3, "dangling NOT at column 3"},
    };

    expect_errs(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_errors_fields(void)
{
    static const err_case cases[] = {
        {"foo:bar", 1,
         "unknown field 'foo' at column 1; fields are title:, "
         "source:, date:, after:, before:"},
        {"a Foo:bar", 3, "unknown field 'Foo' at column 3"},
        {"title:", 1, "field 'title:' at column 1 needs a value"},
        {"x source:", 3, "field 'source:' at column 3 needs a value"},
        {"-source:x a", 2, "a filter cannot be excluded"},
        {"a -(b date:2025)", 7, "a filter cannot be excluded"},
        {"a source:!!", 3, "source: needs a name"},
    };

    expect_errs(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_errors_dates(void)
{
    static const err_case cases[] = {
        {"date:2025-13", 1, "bad date '2025-13' at column 1"},
        {"x after:yesterday", 3, "bad date 'yesterday' at column 3"},
        {"before:2025-04..2025-05", 1, "bad date"},
        {"date:..", 1, "bad date"},
        {"date:2025-05..2025-04", 1,
         "date range '2025-05..2025-04' ends before it starts at "
         "column 1"},
    };

    expect_errs(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_errors_exclusions_only(void)
{
    static const char msg[] =
        "a query needs at least one word to look for (not only exclusions)";

    static const err_case cases[] = {
        {"-a", 1, msg},
        {"NOT a -b", 1, msg},
        {"source:x -a", 10, msg},
        {"a OR (-b)", 6, "only exclusions inside the group"},
        {"a -(-b)", 3, "nothing to exclude"},
    };

    expect_errs(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_errors_prefix(void)
{
    static const err_case cases[] = {
        {"u*", 1, "a prefix needs at least 2 characters"},
        {"a \xC3\xA9*", 3, "a prefix needs at least 2 characters"},
        {"*", 1, "a prefix needs at least 2 characters"},
        {"ab-cd*", 1, "a prefix (word*) must be a single word"},
    };

    expect_errs(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_errors_empty(void)
{
    static const err_case cases[] = {
        {"", 1, "empty query"},
        {"   ", 1, "no word to look for"},
        {"!!! ...", 1, "no word to look for"},
    };

    expect_errs(cases, sizeof cases / sizeof cases[0]);
}

static void
test_query_errors_deep_nesting(void)
{
    char text[201];

    memset(text, '(', 100);
    memset(text + 100, ')', 100);
    text[200] = '\0';
    expect_err(text, 65, "nested too deeply at column 65");
    /* 64 levels are fine */
    memset(text, '(', 64);
    text[64] = 'a';
    memset(text + 65, ')', 64);
    text[129] = '\0';
    expect(text, "Za");
}

static void
test_query_survives_odd_bytes(void)
{
    ndx_query *q = NULL;
    char longword[300];

    /* invalid UTF-8 separates words */
    static const parse_case cases[] = {
        {"a\xFF" "b", "(PHRASE a b)"},
        {"a\xFF b", "(AND Za Zb)"},
    };

    expect_each(cases, sizeof cases / sizeof cases[0]);
    memset(longword, 'x', sizeof longword - 1);
    longword[sizeof longword - 1] = '\0';
    CU_ASSERT_EQUAL_FATAL(ndx_query_parse(&q, longword, t_english(), NULL),
                          NDX_OK);
    CU_ASSERT_EQUAL(q->root->kind, NDX_Q_TERM);
    CU_ASSERT_EQUAL(strlen(q->root->terms[0]), 1 + NDX_TERM_MAX);
    ndx_query_free(q);
    CU_ASSERT_EQUAL(ndx_query_parse(&q, "\"\xE2\x80", t_english(), NULL),
                    NDX_ESYNTAX);
    CU_ASSERT_EQUAL(ndx_query_parse(&q, NULL, t_english(), NULL),
                    NDX_ESYNTAX);
    ndx_query_free(NULL);
}

static void
test_query_describe_reports_needed_length(void)
{
    ndx_query *q = NULL;
    char out[16];

    q = parsed("a OR b");
    /* "(OR Za Zb)" is 10 bytes */
    CU_ASSERT_EQUAL(ndx_query_describe(q, NULL, 0), 10);
    CU_ASSERT_EQUAL(ndx_query_describe(q, out, 5), 10);
    CU_ASSERT_STRING_EQUAL(out, "(OR ");
    CU_ASSERT_EQUAL(ndx_query_describe(q, out, sizeof out), 10);
    CU_ASSERT_STRING_EQUAL(out, "(OR Za Zb)");
    ndx_query_free(q);
}

CU_TestInfo query_tests[] = {
    {"query_words_are_anded_stems", test_query_words_are_anded_stems},
    {"query_phrase_keeps_surface_forms",
     test_query_phrase_keeps_surface_forms},
    {"query_one_word_phrase_is_unstemmed",
     test_query_one_word_phrase_is_unstemmed},
    {"query_or_binds_tighter_than_and",
     test_query_or_binds_tighter_than_and},
    {"query_groups_flatten_into_same_kind",
     test_query_groups_flatten_into_same_kind},
    {"query_identical_terms_merge_with_wqf",
     test_query_identical_terms_merge_with_wqf},
    {"query_exclusions_make_one_not", test_query_exclusions_make_one_not},
    {"query_not_node_shape_and_columns",
     test_query_not_node_shape_and_columns},
    {"query_words_with_several_tokens_become_phrases",
     test_query_words_with_several_tokens_become_phrases},
    {"query_prefix", test_query_prefix},
    {"query_title_field", test_query_title_field},
    {"query_source_filters", test_query_source_filters},
    {"query_date_filters", test_query_date_filters},
    {"query_filters_only_match_all", test_query_filters_only_match_all},
    {"query_highlight_lists_positive_words_once",
     test_query_highlight_lists_positive_words_once},
    {"query_errors_quotes", test_query_errors_quotes},
    {"query_errors_parentheses", test_query_errors_parentheses},
    {"query_errors_dangling_operators",
     test_query_errors_dangling_operators},
    {"query_errors_fields", test_query_errors_fields},
    {"query_errors_dates", test_query_errors_dates},
    {"query_errors_exclusions_only", test_query_errors_exclusions_only},
    {"query_errors_prefix", test_query_errors_prefix},
    {"query_errors_empty", test_query_errors_empty},
    {"query_errors_deep_nesting", test_query_errors_deep_nesting},
    {"query_survives_odd_bytes", test_query_survives_odd_bytes},
    {"query_describe_reports_needed_length",
     test_query_describe_reports_needed_length},
    CU_TEST_INFO_NULL,
};
