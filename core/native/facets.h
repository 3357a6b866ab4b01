/*
 * facets.h - facet counting for the native executor (core/native/exec.c).
 *
 * The executor calls nfacets_segment_begin before each segment it walks,
 * nfacets_count once for each matching article (after the filters),
 * nfacets_segment_end after the segment, and nfacets_finish at the end;
 * this module keeps the counts and the coverage of each day, and hands
 * both to the results.
 */
#ifndef NDX_NATIVE_FACETS_H
#define NDX_NATIVE_FACETS_H

#include "newsdex/sys/engine.h"
#include "view.h"

typedef struct nfacets nfacets;

/* Counts for the facets o asks for; *out is NULL when it asks for none. */
ndx_status nfacets_new(nfacets **out, const ndx_search_opts *o);
void nfacets_free(nfacets *f);

/* Prepares the source counts of a segment before its walk. */
ndx_status nfacets_segment_begin(nfacets *f, const ndx_seg *s);

/* One matching article (NULL f: nothing to count). */
void nfacets_count(nfacets *f, const ndx_seg_article *a);

/* After the walk of a segment: hands its source counts to into. */
ndx_status nfacets_segment_end(nfacets *f, ndx_results *into);

/*
 * Hands the day counts to into, each with its coverage: the live articles
 * of the view that pass the filters (source keys in both lists when they
 * are not empty; from/to: days or NDX_DATE_NONE), matching or not.  The
 * coverage comes from a table of the view built at the first call that
 * needs it and kept with the view (v->facet_cov).
 */
ndx_status nfacets_finish(nfacets *f, const nview *v,
                          const char *const *qkeys, size_t qkey_count,
                          const char *const *okeys, size_t okey_count,
                          int32_t from, int32_t to, ndx_results *into);

/* Frees a view's coverage table; accepts NULL. */
void nfacets_cov_free(void *cov);

#endif
