/*
 * filter.h - what lets a search seek through a segment by source and by
 * date instead of testing every article: per source, the runs of
 * consecutive passages of its articles; and whether the articles stand in
 * date order, so that a date range is one run of passages.  Built from the
 * article table when a segment is opened (nothing is stored on disk);
 * exec.c turns them into filter cursors.
 */
#ifndef NDX_NATIVE_FILTER_H
#define NDX_NATIVE_FILTER_H

#include <stdint.h>

#include "segment.h"

typedef struct ndx_segfilter {
    int date_sorted;   /* 1: article dates never decrease (undated first) */
    uint32_t *run_off; /* source_count + 1 entries: the runs of source i
                          are runs[2 * run_off[i] .. 2 * run_off[i + 1]) */
    uint32_t *runs;    /* pairs: first passage, passage after the run */
    uint32_t *by_date; /* without date_sorted: the article ordinals by
                          date (undated first), each date's in segment
                          order; NULL otherwise */
} ndx_segfilter;

/* Builds the filter index of a segment whose article table was checked.
 * NDX_OK, NDX_ENOMEM, or NDX_ECORRUPT (an article names no source). */
ndx_status ndx_segfilter_build(const ndx_seg *s, ndx_segfilter **out);
void ndx_segfilter_free(ndx_segfilter *f);

/* With date_sorted: the passages [*lo, *hi) of the articles dated from
 * `from` to `to` (both inclusive; NDX_DATE_NONE: open). */
void ndx_segfilter_dates(const ndx_seg *s, int32_t from, int32_t to,
                         uint32_t *lo, uint32_t *hi);

/* Without date_sorted: the articles dated from `from` to `to` (as
 * ndx_segfilter_dates), as a slice *arts of by_date; returns its length. */
size_t ndx_segfilter_date_slice(const ndx_seg *s, int32_t from, int32_t to,
                                const uint32_t **arts);

/* The passage runs of the articles arts[0..n) (any order): pairs
 * [first, end) in passage order, adjacent articles in one run, written to
 * runs (room for 2 * n); bits is scratch of (s->articles + 63) / 64
 * words.  Returns the number of runs. */
size_t ndx_segfilter_article_runs(const ndx_seg *s, const uint32_t *arts,
                                  size_t n, uint64_t *bits, uint32_t *runs);

/* The first article whose first passage is at or after pid (binary search
 * of the article table); s->articles when none. */
uint32_t ndx_segfilter_article_at(const ndx_seg *s, uint32_t pid);

#endif
