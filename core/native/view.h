/*
 * view.h - the native engine's read view (private to core/native/): the
 * data a search reads.  native.c loads, shares and swaps views; exec.c
 * searches them.
 *
 * A view is one generation of the index as the manifest named it: its
 * segments mapped read-only, their deletions, and the collection
 * statistics BM25 needs.  Views are reference counted so that a reader can
 * move to a newer generation while searches on the old one finish.
 */
#ifndef NDX_NATIVE_VIEW_H
#define NDX_NATIVE_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "segment.h"

typedef struct nview {
    int refs;               /* guarded by the engine's mutex */
    uint64_t generation;
    ndx_seg **segs;         /* oldest first */
    size_t count;
    uint8_t **dead;         /* per segment: bitmap of deleted articles, or NULL */
    uint32_t **del;         /* per segment: deleted article ordinals */
    size_t *del_count;
    uint64_t *pass_base;    /* per segment: global ordinal of passage 0 */
    uint64_t passages;      /* live passages (N) */
    uint64_t articles;      /* live articles */
    uint64_t total_len;     /* sum of live passage lengths */
    uint64_t distinct_terms; /* terms over all segments, counted once;
                                valid when distinct_ok (engine's mutex) */
    int distinct_ok;
    void *facet_cov;        /* facets.c: articles by source and day, built
                               at the first search that needs it (atomic) */
    void *dead_cache;       /* exec.c: postings of deleted articles per
                               term list, filled by the searches; NULL
                               when no segment has deletions */
    void *bound_cache;      /* exec.c: block tables of long lists, filled
                               by the searches */
} nview;

static inline int
nview_dead(const nview *v, size_t seg, uint32_t art)
{
    return v->dead[seg] && (v->dead[seg][art >> 3] >> (art & 7)) & 1;
}

#endif
