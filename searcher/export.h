/*
 * export.h - every matching article of a query as CSV (`newsdex-search
 * --csv` and the HTTP server's /api/export), produced page by page so
 * that neither holds all the rows at once.
 */
#ifndef NDX_SEARCHER_EXPORT_H
#define NDX_SEARCHER_EXPORT_H

#include "newsdex/newsdex.h"
#include "util/buf.h"

/* Rows an export gives at most; past it the export stops (and says so in
 * *truncated). */
#define EXPORT_MAX_ROWS 100000

/*
 * Runs the query text with the options of o (its k, offset, snippets and
 * facets are ignored; group is by article) and hands the CSV, header
 * first, to emit a page at a time (the buffer is borrowed for the call).
 * An error from emit stops the export and is returned.  NDX_ESYNTAX with
 * *err_col as ndx_index_search.
 */
ndx_status export_csv(ndx_index *ix, const char *text,
                      const ndx_search_opts *o,
                      ndx_status (*emit)(void *ctx, const ndx_buf *b),
                      void *ctx, size_t *err_col, int *truncated);

#endif
