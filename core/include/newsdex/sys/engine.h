/*
 * newsdex/sys/engine.h - for engine authors: the table of functions an
 * engine implements, and the helpers with which it fills results.
 *
 * A program that only uses an index needs newsdex/newsdex.h; this header
 * is for code that adds an engine (as libgit2's git2/sys/ headers are for
 * backends).  The front (ndx_index_*) calls the table; the engine stores,
 * ranks with BM25 over passages and groups by article, and fills the
 * results it is given with ndx_results_push and ndx_results_strdup.
 */
#ifndef NEWSDEX_SYS_ENGINE_H
#define NEWSDEX_SYS_ENGINE_H

#include <stddef.h>

#include "newsdex/index.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NDX_ENGINE_OPS_VERSION 2

typedef struct ndx_engine_ops {
    unsigned version; /* NDX_ENGINE_OPS_VERSION */
    const char *name; /* "native" or "xapian" */
    /* Whether path holds an index of this engine (1) or not (0). */
    int (*probe)(const char *path);
    ndx_status (*open)(void **out, const char *path, unsigned flags,
                       const ndx_engine_config *cfg);
    /* Adds an article; an article with an id already present replaces it. */
    ndx_status (*add)(void *eng, const ndx_article *a, const ndx_passages *p,
                      ndx_analyzer *an);
    ndx_status (*commit)(void *eng);
    ndx_status (*search)(void *eng, const ndx_query *q,
                         const ndx_search_opts *o, ndx_results *into);
    ndx_status (*get)(void *eng, const char *article_id, ndx_doc **out);
    ndx_status (*stats)(void *eng, ndx_stats *out);
    /* Reopens at the newest commit when there is one (readers). 1 if it
     * moved, 0 if not, or an error. */
    int (*refresh)(void *eng);
    int thread_safe;  /* 1: search may run in several threads at once */
    void (*close)(void *eng);
    /* Verifies every file of the index at path (may be NULL: then
     * ndx_index_check answers NDX_ENOTSUP for this engine). */
    ndx_status (*check)(const char *path);
    /* Like add, with the passages' term sets already built (ts[i] for
     * passage i, title terms in ts[0]); lets the front analyze in worker
     * threads.  May be NULL: then the front calls add. */
    ndx_status (*add_analyzed)(void *eng, const ndx_article *a,
                               const ndx_passages *p, const ndx_termset *ts);
    /* Deletes the article with this id, committed or added since open: at
     * commit it leaves results, get and statistics.  NDX_ENOTFOUND when
     * the index holds no such article.  May be NULL: then
     * ndx_index_delete answers NDX_ENOTSUP. */
    ndx_status (*remove)(void *eng, const char *article_id);
    /* Makes the next commit merge the whole index into one segment.  May
     * be NULL: then ndx_index_optimize answers NDX_ENOTSUP. */
    ndx_status (*optimize)(void *eng);
    /* Calls fn with the stored text of every live passage, an article's
     * passages together; stops at fn's first non-zero return (which it
     * then returns).  May be NULL: then ndx_index_each_passage answers
     * NDX_ENOTSUP. */
    int (*each_passage)(void *eng, ndx_passage_fn fn, void *ctx);
    /* What the last commit, once durable, failed to do (native: the
     * merges that follow it), or NULL: such a commit returns NDX_OK.
     * Borrowed until the next commit or close.  May be NULL (no such
     * work). */
    const char *(*commit_warning)(void *eng);
    /* Tells a writer how many bytes of its memory budget the front holds
     * besides it (near-duplicate tables): the writer keeps within the
     * rest.  May be NULL. */
    void (*memory_outside)(void *eng, size_t bytes);
} ndx_engine_ops;

extern const ndx_engine_ops ndx_native_engine;
/* NULL when built without Xapian (XAPIAN=0). */
const ndx_engine_ops *ndx_xapian_engine(void);

/* Empty results for an engine to fill; freed with ndx_results_free.
 * NDX_ENOMEM. */
ndx_status ndx_results_new(ndx_results **out);

/* Copies a string into the results' memory, freed with them.  NULL on
 * ENOMEM. */
char *ndx_results_strdup(ndx_results *r, const char *s, size_t len);

/* Appends one zeroed hit to the results.  NULL on ENOMEM. */
ndx_hit *ndx_results_push(ndx_results *r);

/*
 * For engines counting facets (ndx_search_opts.facets): adds count
 * matching articles of the source called name (borrowed), or, for a day
 * (NDX_DATE_NONE: undated), count matching articles and all the articles
 * that pass the search's filters.  The same name or day may be given
 * several times: the counts add up; sources are grouped by
 * ndx_source_key.  NDX_ENOMEM.
 */
ndx_status ndx_results_facet_source(ndx_results *r, const char *name,
                                    uint64_t count);
ndx_status ndx_results_facet_day(ndx_results *r, int32_t days,
                                 uint64_t count, uint64_t all);

/* Zeroed memory in the results' arena (len bytes), freed with them.
 * NULL on ENOMEM. */
void *ndx_results_alloc(ndx_results *r, size_t len);

#ifdef __cplusplus
}
#endif
#endif
