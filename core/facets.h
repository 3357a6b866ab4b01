/*
 * facets.h - the front's side of facet counting (core/facets.c): turning
 * what an engine counted into a result set's facets, and freeing it.
 * Engines count through newsdex/sys/engine.h.
 */
#ifndef NDX_FACETS_H
#define NDX_FACETS_H

#include <stddef.h>

#include "newsdex/index.h"

/* Zeroed memory in the results' arena (results.c); NULL on ENOMEM. */
void *ndx_results_alloc(ndx_results *r, size_t len);

/* Where the results keep the engine's counts (results.c). */
void **ndx_results_facet_raw(ndx_results *r);

/* Frees what ndx_results_facet_raw holds; accepts NULL. */
void ndx_facet_raw_free(void *raw);

/* Turns what the engine counted into r->facets as o asks (the front calls
 * it after the engine's search).  NDX_ENOMEM. */
ndx_status ndx_results_facets_finish(ndx_results *r,
                                     const ndx_search_opts *o);

#endif
