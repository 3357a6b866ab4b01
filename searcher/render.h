/*
 * render.h - turning search results into JSON (the socket protocol and
 * `newsdex-search --json`) and into text for a terminal.
 */
#ifndef NDX_SEARCHER_RENDER_H
#define NDX_SEARCHER_RENDER_H

#include <stdio.h>

#include "newsdex/newsdex.h"
#include "util/buf.h"

/*
 * Appends the members `"total":N,"took_ms":T,"hits":[...]` (no braces) of
 * a search response to b: each hit is {"article","passage","score","date",
 * "source","title","url","snippet","matches"} as in DESIGN section 8,
 * then the facets when there are (render_facets_json).
 */
ndx_status render_results_json(ndx_buf *b, const ndx_results *r);

/* Appends `,"facets":{NAME:{"buckets":[{"value","count"[,"all"]}],
 * "other"|"undated":N},...}` when r has facets (else nothing): "all" and
 * "undated" for dates, "other" for sources. */
ndx_status render_facets_json(ndx_buf *b, const ndx_results *r);

/* NDX_FACET_* of a facet name ("source", "year", "month", "day") of len
 * bytes, or 0 when it is none of them. */
unsigned render_facet_kind(const char *name, size_t len);

/* CSV of matching articles (RFC 4180, CRLF): the header line, then one
 * line per hit: id, date, source, title, url. */
ndx_status render_csv_header(ndx_buf *b);
ndx_status render_csv_rows(ndx_buf *b, const ndx_results *r);

/* Appends the members of a `get` response: `"article":{"id",...,
 * "passages":[...]}`. */
ndx_status render_doc_json(ndx_buf *b, const ndx_doc *d);

/* Appends the members of a `stats` response: `"stats":{...}`. */
ndx_status render_stats_json(ndx_buf *b, const ndx_stats *s);

/* Appends `"error":{"code":C,"message":M}`. */
ndx_status render_error_json(ndx_buf *b, const char *code, const char *msg);

/* Prints results for a person: rank, score, date, source, title, the
 * snippet with matches in bold when color is set (else in [brackets]). */
void render_results_text(FILE *out, const ndx_results *r, size_t offset,
                         int color);

#endif
