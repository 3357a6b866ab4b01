/*
 * newsdex/analyze.h - the one analyzer shared by indexing, querying,
 * snippets and both engines.
 *
 * Text is cut into tokens: runs of letters and digits (Unicode), with an
 * apostrophe kept inside a word ("ukraine's"), and digits joined across
 * ',' and '.' when a digit follows ("600,000" -> "600000", "3.5" -> "3.5").
 * Each token is folded (Unicode case fold, accents stripped, NFKC) and
 * stemmed with Snowball.  A hyphen or any other punctuation separates tokens.
 *
 * TERMS.  A passage is indexed as this set of terms (the same for both
 * engines, so passage lengths agree):
 *   surface   the folded token itself, e.g. "talks"     (with positions)
 *   "Z"stem   the Snowball stem, e.g. "Ztalk"           (no positions)
 *   "T"stem   a title word's stem, e.g. "Trubio"        (no positions)
 * Folded tokens are lower case, so the upper-case prefixes never collide.
 * Title words belong to the article's first passage: they take positions
 * 0..t-1 and get surface, Z and T terms; the passage text then starts at
 * position t+1, so that no phrase spans title and text.  A passage's length
 * is the sum of the wdf of all its terms (what Xapian calls doclen).
 */
#ifndef NEWSDEX_ANALYZE_H
#define NEWSDEX_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NDX_TERM_MAX 64 /* bytes; longer tokens are cut at a UTF-8 boundary */

#define NDX_PREFIX_STEM 'Z'
#define NDX_PREFIX_TITLE 'T'

typedef struct ndx_analyzer ndx_analyzer;

typedef struct ndx_token {
    const char *text;  /* folded surface form, NUL-terminated */
    uint32_t text_len; /* bytes */
    const char *stem;  /* Snowball stem of text, NUL-terminated */
    uint32_t stem_len; /* bytes */
    uint32_t pos;      /* token ordinal, counting from first_pos */
    uint32_t byte_off; /* bytes from the start of the analyzed input */
    uint32_t byte_len; /* bytes of the original token in the input */
} ndx_token;

/* Called once per token; the token's strings are borrowed for the call.
 * A non-zero return stops the analysis and is returned by ndx_analyze. */
typedef int (*ndx_token_fn)(void *ctx, const ndx_token *tok);

/*
 * Creates an analyzer for a Snowball language ("english", "french", ...;
 * NULL or "" means "english").  NDX_ENOTFOUND if libstemmer does not know
 * the language.  The analyzer belongs to one thread.
 */
ndx_status ndx_analyzer_new(ndx_analyzer **out, const char *language);

/* Frees an analyzer; accepts NULL. */
void ndx_analyzer_free(ndx_analyzer *a);

/* The language the analyzer stems for.  Borrowed until _free. */
const char *ndx_analyzer_language(const ndx_analyzer *a);

/*
 * Tokenizes len bytes of UTF-8 text (invalid sequences are skipped as
 * separators), calling fn for each token with positions counting from
 * first_pos.  Returns NDX_OK, NDX_ENOMEM, or fn's non-zero result cast.
 * *next_pos (may be NULL) receives the position after the last token.
 */
int ndx_analyze(ndx_analyzer *a, const char *text, size_t len,
                uint32_t first_pos, ndx_token_fn fn, void *ctx,
                uint32_t *next_pos);

/*
 * Folds one word (case, accents) into out, at most out_cap bytes with the
 * NUL; returns the length, 0 when the word has no letter or digit.  The
 * word is tokenized as text is and its folded tokens are written one after
 * the other, so separators vanish: "USA Today" gives "usatoday".
 */
size_t ndx_fold(const char *word, size_t len, char *out, size_t out_cap);

/* Bytes of a title key at most (longer titles compare by their first
 * folded bytes). */
#define NDX_TITLE_KEY_MAX 1024

/*
 * The key by which hits of one source with one title are shown once
 * (ndx_search_opts.collapse_titles): the source's display name, a NUL,
 * then the title folded as words are (ndx_fold: case and accents folded,
 * spaces and punctuation dropped; an ASCII title has its letters and
 * digits lower-cased, which is the same, without the tokenizer), written
 * to out (NDX_TITLE_KEY_MAX bytes).  Returns its length, or 0 when the
 * title folds to nothing or the source name is too long (such hits never
 * collapse).  source and title may be NULL.
 */
size_t ndx_title_key(const char *source, const char *title, char *out);

/* ---- name variants (core/analysis/variants.c) --------------------------- */

/*
 * The variants of a folded word (e.g. "kiev": "kyiv", "kiev"): returns the
 * number of words in its group, the word itself included, and sets
 * *members (borrowed for the life of the process), or returns 0 when the
 * word has no variants.  The built-in table holds a few hundred groups of
 * places and people that news spells several ways.
 */
size_t ndx_variants_lookup(const char *word, const char *const **members);

/* Groups in the built-in table. */
size_t ndx_variants_builtin_count(void);

/*
 * Adds the groups of a file: lines of words (spaces or commas between
 * them), optionally a TAB and the reason; '#' starts a comment.  A group
 * sharing a word with a known group joins it.  Process-wide: load before
 * searching from several threads.  NDX_ENOTFOUND, NDX_EIO, NDX_ENOMEM,
 * or NDX_EINVAL naming file and line (a hyphenated "word", a group of one,
 * a word already in another group).
 */
ndx_status ndx_variants_load(const char *path);

/* ---- variant suggestions (core/analysis/suggest.c) ---------------------- */

/*
 * Candidate name variants learned from texts, for a person to review
 * (newsdex-index --suggest-variants): pairs of capitalised names at most
 * two edits apart whose neighbouring words are alike.  Feed every text
 * with ndx_suggester_text, then call ndx_suggester_end_pass; while it
 * returns 1, feed the same texts again and call it again.  Nothing is
 * added to the variant table.
 */
typedef struct ndx_suggester ndx_suggester;

typedef struct ndx_variant_suggestion {
    const char *a, *b;       /* spellings as first written capitalised; a
                                is the more frequent */
    uint64_t a_count, b_count; /* capitalised, not at a sentence start */
    uint64_t a_lower, b_lower; /* written in lower case */
    unsigned edits;          /* insertions, deletions, substitutions,
                                swaps between the folded words (1 or 2) */
    double similarity;       /* cosine of the neighbour profiles, 0..1 */
    size_t shared_count;     /* neighbours (word and side) in common */
    const char *shared;      /* the most telling of them: "president _,
                                _ said" (_ is the name) */
    int known;               /* 1: already one group of the variant table */
} ndx_variant_suggestion;

/* A suggester counting names written at least min_count times (0: 1).
 * NDX_ENOMEM. */
ndx_status ndx_suggester_new(ndx_suggester **out, unsigned min_count);
void ndx_suggester_free(ndx_suggester *s);

/* Reads one text (a passage) in the current pass.  NDX_ENOMEM. */
ndx_status ndx_suggester_text(ndx_suggester *s, const char *text,
                              size_t len);

/* Ends a pass: 1 when the same texts must be given once more, 0 when the
 * suggestions are ready, or NDX_ENOMEM. */
int ndx_suggester_end_pass(ndx_suggester *s);

/* The suggestions, most alike first (borrowed until _free); *names
 * receives the names counted and *pairs the pairs of close spellings
 * compared (either may be NULL). */
const ndx_variant_suggestion *ndx_suggester_results(const ndx_suggester *s,
                                                    size_t *count,
                                                    uint64_t *names,
                                                    uint64_t *pairs);

/* ---- the term set of one passage ---------------------------------------- */

typedef struct ndx_term {
    const char *term;  /* NUL-terminated, with its prefix if any */
    uint32_t term_len; /* bytes */
    uint32_t wdf;      /* occurrences in the passage */
    uint32_t pos_off;  /* index of its first position in ndx_termset.positions */
    uint32_t pos_count;/* positions stored (wdf for surface terms, else 0) */
    uint32_t hash;     /* ndx_term_hash of the term */
} ndx_term;

typedef struct ndx_termset {
    ndx_term *terms;      /* in the order of their first occurrence */
    size_t term_count;    /* distinct terms */
    uint32_t *positions;  /* ascending within each surface term */
    size_t position_count;
    uint32_t length;      /* sum of wdf over all terms */
    void *pool;           /* private storage */
} ndx_termset;

/* Zeroes a term set for first use. */
/* The hash a term set gives each term (FNV-1a 64 of its bytes, prefix
 * included, folded to 32 bits), for tables of terms that take term sets'
 * terms and others alike. */
uint32_t ndx_term_hash(const char *term, size_t len);

void ndx_termset_init(ndx_termset *ts);

/* Frees what a term set holds; accepts NULL. */
void ndx_termset_free(ndx_termset *ts);

/*
 * Builds (replacing what ts held) the term set of one passage: title may be
 * NULL (only the article's first passage has one).  NDX_OK or NDX_ENOMEM.
 */
ndx_status ndx_termset_build(ndx_termset *ts, ndx_analyzer *a,
                             const char *title, size_t title_len,
                             const char *text, size_t text_len);

#ifdef __cplusplus
}
#endif
#endif
