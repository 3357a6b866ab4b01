/*
 * newsdex/query.h - the query language (DESIGN section 5) as a tree.
 *
 *   word word         AND of stems          a OR b     OR
 *   -word, NOT word   exclusion             "a b c"    phrase (surface forms)
 *   word*             prefix (surface)      title:word title stem
 *   source:x, source:"usa today"            filter (several: OR)
 *   date:2025-04, date:2025-04-01..2025-04-30, after:D, before:D
 *   ( )               grouping
 *
 * Precedence: OR binds tighter than the implicit AND ("a b OR c" means
 * a AND (b OR c)), as in most web search syntaxes.  Filters apply to the
 * whole query wherever they stand.  A query of only filters matches every
 * passage that passes them (NDX_Q_ALL).  Words that analyze into several
 * tokens ("Russia-Ukraine", "U.S.") become a phrase; words of punctuation
 * only are skipped.  Identical terms in one AND or OR are merged into one
 * leaf with wqf = occurrences.  A quoted single word is a PHRASE of one
 * term: it matches that surface form only (unstemmed), which engines look
 * up as the surface term.  A bare word that has name variants
 * (ndx_variants_lookup: "Kiev", "Kyiv") becomes a SYN of the stems of all
 * its spellings, scored as one term whose wdf is the sum of theirs;
 * quoted, it stays exact ("\"Kiev\"" finds Kiev only); with title: it
 * stays a TERM.  SYN nodes are never merged with one another.  title: marks a TERM ("T"stem), or a PHRASE or
 * PREFIX to be matched in the title's positions only.
 *
 * Exclusions.  The words of a sequence and its exclusions ("-word",
 * "-\"phrase\"", "-(group)", "NOT word") become NOT(kids[0] = AND of the
 * rest, kids[1] = OR of the excluded).  A query with only exclusions is an
 * error; filters cannot be excluded.
 *
 * Describe form (ndx_query_describe), stable for tests and --explain:
 *   TERM     the term itself, "^wqf" appended when wqf > 1: Zsecur^2
 *   PHRASE   (PHRASE security guarantee), title: (TPHRASE a b)
 *   PREFIX   (PREFIX ukr), title: (TPREFIX ukr)
 *   AND OR   (AND k1 k2 ...), (OR Za Zb)
 *   NOT      (NOT positive excluded), e.g. (NOT Za (OR Zb Zc))
 *   ALL      ALL
 *   SYN      (SYN Zkyiv Zkiev): the word first, then its variants
 * followed by the filters that are set, in this order:
 *   " source=KEY" for each source, " from=YYYY-MM-DD", " to=YYYY-MM-DD".
 * Columns in error messages and in ndx_qnode.col count characters from 1.
 */
#ifndef NEWSDEX_QUERY_H
#define NEWSDEX_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/analyze.h"
#include "newsdex/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ndx_qkind {
    NDX_Q_TERM,   /* one index term: "Z"stem or "T"stem; terms[0] */
    NDX_Q_PHRASE, /* surface terms in order, consecutive positions */
    NDX_Q_PREFIX, /* surface terms starting with terms[0] */
    NDX_Q_AND,    /* all kids */
    NDX_Q_OR,     /* any kid */
    NDX_Q_NOT,    /* kids[0] and not kids[1] (exactly two kids) */
    NDX_Q_ALL,    /* every passage (a filter-only query) */
    NDX_Q_SYN     /* one word with name variants: "Z"stems terms[0..n),
                     scored as one term (Xapian's OP_SYNONYM) */
} ndx_qkind;

typedef struct ndx_qnode ndx_qnode;
struct ndx_qnode {
    ndx_qkind kind;
    char **terms;       /* TERM 1, PHRASE >= 1, PREFIX 1 (folded prefix) */
    size_t term_count;
    uint32_t wqf;       /* TERM: times the term stands in its AND/OR (>= 1) */
    int title;          /* 1 when written with title: */
    ndx_qnode **kids;   /* AND, OR, NOT */
    size_t kid_count;
    uint32_t col;       /* 1-based column where the node starts in the text */
};

#define NDX_QUERY_MAX_SOURCES 64

typedef struct ndx_query {
    ndx_qnode *root;        /* never NULL after a successful parse */
    char **sources;         /* normalised source keys (ndx_source_key); OR */
    size_t source_count;
    int32_t from_days;      /* first day allowed or NDX_DATE_NONE */
    int32_t to_days;        /* last day allowed or NDX_DATE_NONE */
    char **highlight;       /* surface forms, "Z" stems and "prefix*"
                               of the positive words, without repeats */
    size_t highlight_count;
    void *arena;            /* private: all the query's memory */
} ndx_query;

/*
 * Parses text with analyzer a (for folding and stemming).  On a syntax
 * error returns NDX_ESYNTAX with a message such as
 * "unclosed quote at column 12" and, when err_col is not NULL, the 1-based
 * column; an unknown field ("foo:bar") is NDX_ESYNTAX naming the field and
 * the known ones.  A query with only exclusions is NDX_ESYNTAX too.
 * *out belongs to the caller (ndx_query_free).
 */
ndx_status ndx_query_parse(ndx_query **out, const char *text,
                           ndx_analyzer *a, size_t *err_col);

/* Frees a query; accepts NULL. */
void ndx_query_free(ndx_query *q);

/*
 * Writes the tree in a stable prefix form, e.g.
 * (AND Zsecur (PHRASE security guarantee) (NOT ...)) - for tests and
 * --explain.  Returns the length it needed (like snprintf).
 */
size_t ndx_query_describe(const ndx_query *q, char *out, size_t out_cap);

/* ---- snippets (core/query/snippet.c) ------------------------------------ */

/*
 * Makes a snippet of at most about max_len bytes from passage text: the
 * window with the most query words, cut at word boundaries, "…" where text
 * was cut, every token whose surface form or "Z"stem is in q->highlight
 * wrapped in <b>..</b>.  HTML-significant characters are not escaped (the
 * JSON and terminal layers escape as they need).  Returns a malloc'd
 * string (caller frees) or NULL on ENOMEM.
 */
char *ndx_snippet_make(ndx_analyzer *a, const ndx_query *q,
                       const char *text, size_t text_len, size_t max_len);

#ifdef __cplusplus
}
#endif
#endif
