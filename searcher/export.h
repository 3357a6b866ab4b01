/*
 * export.h - every matching article of a query as CSV (`newsdex-search
 * --csv` and the HTTP server's /api/export), produced page by page so
 * that neither holds all the rows at once.
 */
#ifndef NDX_SEARCHER_EXPORT_H
#define NDX_SEARCHER_EXPORT_H

#include "newsdex/newsdex.h"
#include "util/buf.h"

/* Rows an export gives at most; past it the export stops (and says so:
 * export_truncated). */
#define EXPORT_MAX_ROWS 100000

/* Articles in one page of rows: one search, one piece of output. */
#define EXPORT_PAGE 2000

/* Where an export is: the query and its options (copied), the rows given
 * so far.  Belongs to one thread at a time; it may move between threads
 * between two calls (the server runs each page as a job of its own). */
typedef struct export_cursor export_cursor;

/*
 * Starts an export of the query text with the options of o (its k,
 * offset, after, snippets and facets are ignored; group is by article,
 * every matching article a row: nothing folded or collapsed).  Text and
 * the sources of o are copied.  NDX_ENOMEM.
 */
ndx_status export_open(export_cursor **out, const char *text,
                       const ndx_search_opts *o);

/*
 * Appends the next page of CSV to b: on the first call the header line,
 * then at most EXPORT_PAGE rows, from one search on ix.  *finished is 1
 * when nothing is left (the last page may be empty).  Errors of the
 * search (NDX_ESYNTAX with *err_col as ndx_index_search, NDX_ETIMEOUT
 * past the options' budget, which applies to each page) leave the cursor
 * as it was; err_col may be NULL.
 */
ndx_status export_next(export_cursor *x, ndx_index *ix, ndx_buf *b,
                       size_t *err_col, int *finished);

/* Matching articles counted by the first page's search (exact); 0 before
 * it. */
uint64_t export_matches(const export_cursor *x);

/* 1 when the export stopped at EXPORT_MAX_ROWS with matches left. */
int export_truncated(const export_cursor *x);

/* Frees; accepts NULL. */
void export_free(export_cursor *x);

/*
 * The whole export in one call: runs export_next until finished and hands
 * each page to emit (the buffer is borrowed for the call).  An error from
 * emit stops the export and is returned.  *truncated as export_truncated.
 */
ndx_status export_csv(ndx_index *ix, const char *text,
                      const ndx_search_opts *o,
                      ndx_status (*emit)(void *ctx, const ndx_buf *b),
                      void *ctx, size_t *err_col, int *truncated);

#endif
