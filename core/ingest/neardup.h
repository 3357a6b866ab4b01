/*
 * neardup.h - near-duplicate articles: a re-crawled copy of one source's
 * article is folded into it, and near-identical articles of different
 * sources (a syndicated wire story) form a cluster that a search shows
 * once.  See neardup.c for the signature, the threshold and the format.
 */
#ifndef NDX_CORE_NEARDUP_H
#define NDX_CORE_NEARDUP_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/ingest.h"
#include "newsdex/status.h"

typedef struct ndx_neardup ndx_neardup;

/* What ndx_neardup_add found for an article. */
enum {
    NDX_ND_NEW = 0,         /* like no earlier article (or too short) */
    NDX_ND_SAME_SOURCE = 1, /* a copy of an earlier article of its source:
                               index it under that article's id */
    NDX_ND_CLUSTER = 2      /* near-identical to another source's article:
                               indexed, and shown once with it */
};

ndx_status ndx_neardup_new(ndx_neardup **out);
void ndx_neardup_free(ndx_neardup *d);

/*
 * Judges an article (date_days may be NDX_DATE_NONE) against those added
 * before and records it.  Returns
 * NDX_OK and sets *verdict; for NDX_ND_SAME_SOURCE *earlier is the id to
 * index the article under (borrowed until the next call or _free), so
 * that the later copy replaces the earlier.  An id added before is
 * re-judged (its text may have changed) and never folded.  NDX_ENOMEM.
 */
ndx_status ndx_neardup_add(ndx_neardup *d, const char *id,
                           const char *source, int32_t date_days,
                           const char *text, size_t len, int *verdict,
                           const char **earlier);

/* ndx_neardup_add with the article's sketch and word count made already
 * (ndx_neardup_sketch), e.g. in another thread: the same verdicts. */
ndx_status ndx_neardup_add_sketched(ndx_neardup *d, const char *id,
                                    const char *source, int32_t date_days,
                                    const unsigned char *sketch,
                                    uint32_t words, int *verdict,
                                    const char **earlier);

/* Articles folded and articles joined to a cluster by _add so far. */
void ndx_neardup_counts(const ndx_neardup *d, uint64_t *folded,
                        uint64_t *clustered);

/* Writes INDEX/NEARDUP durably: NDX_OK, NDX_ENOMEM or NDX_EIO. */
ndx_status ndx_neardup_save(const ndx_neardup *d, const char *dir);

/*
 * Reads INDEX/NEARDUP into an empty ndx_neardup: NDX_OK, NDX_ENOTFOUND
 * (no file), NDX_ECORRUPT (damaged, or another version: the message says
 * to rebuild), NDX_EIO, NDX_ENOMEM.
 */
ndx_status ndx_neardup_load(ndx_neardup *d, const char *dir);

/* Bytes the tables hold (they grow with the articles added). */
size_t ndx_neardup_memory(const ndx_neardup *d);

/* Lists the clusters' members for ndx_neardup_sources: call once after
 * _load or the last _add, before the object is shared between threads.
 * NDX_OK or NDX_ENOMEM. */
ndx_status ndx_neardup_prepare(ndx_neardup *d);

/*
 * The cluster of an article: 0 when the article is alone (or unknown),
 * else a number shared by every member of its cluster.
 */
/* Starts reading, into the cache, what ndx_neardup_cluster will read for
 * each of ids (the first 32), level by level, so that the look-ups' cache
 * misses overlap.  Never fails. */
void ndx_neardup_prefetch(const ndx_neardup *d, const char *const *ids,
                          size_t n);
uint32_t ndx_neardup_cluster(const ndx_neardup *d, const char *id);

/*
 * The display names of the sources of cluster's members, without
 * except_source (compared by source key) and without repeats, in the
 * order the members were indexed (after _prepare): up to cap of them into out (borrowed
 * until _free).  Returns how many there are in all.
 */
size_t ndx_neardup_sources(const ndx_neardup *d, uint32_t cluster,
                           const char *except_source, const char **out,
                           size_t cap);

#endif
