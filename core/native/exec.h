/*
 * exec.h - query evaluation over a native view (exec.c).
 */
#ifndef NDX_NATIVE_EXEC_H
#define NDX_NATIVE_EXEC_H

#include "newsdex/sys/engine.h"
#include "view.h"

/* Runs a parsed query over a view (DESIGN sections 5 and 6): fills into
 * with the hits of the page asked for and the total. */
ndx_status ndx_exec_search(const nview *v, const ndx_query *q,
                           const ndx_search_opts *o, ndx_results *into);

/* The cache of a view's postings of deleted articles (nview.dead_cache):
 * NULL when out of memory, which only makes searches count them again. */
void *ndx_exec_dead_cache_new(void);
void ndx_exec_dead_cache_free(void *c);
/* The cache of a view's block tables of long lists (nview.bound_cache):
 * NULL when out of memory, which only makes searches bound those lists
 * block by block. */
void *ndx_exec_bound_cache_new(void);
void ndx_exec_bound_cache_free(void *c);

#endif
