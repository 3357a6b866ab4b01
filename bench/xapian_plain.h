/*
 * xapian_plain.h - the benchmark's "xapian-plain" peer: libxapian used
 * directly, as a Xapian user would, without anything of newsdex (see
 * xapian_plain.cc).  Plain C so that ndx_bench.c can drive it beside the
 * other engines; built into ndx-bench only, never into libnewsdex.
 *
 * Every function returns 0, or -1 with a message in err (err_cap bytes).
 */
#ifndef NDX_BENCH_XAPIAN_PLAIN_H
#define NDX_BENCH_XAPIAN_PLAIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How dates are indexed and filtered. */
enum {
    XP_DATES_TERMS = 0,  /* boolean terms Y/M/D; a range is an OR of them */
    XP_DATES_VALUES = 1, /* a value slot; a range is OP_VALUE_RANGE */
    XP_DATES_BOTH = 2    /* indexing only: both, to compare the two */
};

typedef struct xp_writer xp_writer;
typedef struct xp_searcher xp_searcher;

/* Creates the database DIR/db (DIR is made if missing); *out is NULL on
 * failure. */
int xp_writer_open(xp_writer **out, const char *dir, int dates, char *err,
                   size_t err_cap);

/* Records an article (what a hit shows besides its passage) under its id. */
int xp_add_article(xp_writer *w, const char *id, const char *title,
                   const char *url, char *err, size_t err_cap);

/* Adds one passage as one document.  title is the article's title for its
 * first passage, else NULL; date_days is days since 1970-01-01, or
 * has_date = 0. */
int xp_add_passage(xp_writer *w, const char *article_id, const char *title,
                   const char *text, size_t text_len, const char *source,
                   int has_date, int32_t date_days, char *err,
                   size_t err_cap);

/* Commits, closes and compacts the database (as xapian-compact does):
 * DIR/db is replaced by its compacted copy.  *compact_s receives the
 * seconds the compaction took.  Frees w whatever happens. */
int xp_writer_finish(xp_writer *w, double *compact_s, char *err,
                     size_t err_cap);

/* Bytes of the database's tables: postlist, position and termlist
 * (postings), docdata (stored text), the rest. */
int xp_sizes(const char *dir, uint64_t *postings, uint64_t *text,
             uint64_t *other, char *err, size_t err_cap);

int xp_searcher_open(xp_searcher **out, const char *dir, int dates,
                     size_t k, char *err, size_t err_cap);

/* Runs one query: text in QueryParser syntax, an optional source (NULL:
 * none) and date range (has_from/has_to).  Reads each hit's passage text
 * and article; calls on_hit(ctx, article id) per hit in rank order.
 * *count receives the hits, *total Xapian's estimate of the matches. */
int xp_search(xp_searcher *s, const char *text, const char *source,
              int has_from, int32_t from_days, int has_to, int32_t to_days,
              void (*on_hit)(void *ctx, const char *article_id), void *ctx,
              size_t *count, uint64_t *total, char *err, size_t err_cap);

void xp_searcher_close(xp_searcher *s);

#ifdef __cplusplus
}
#endif

#endif
