/*
 * filter.c - the per-segment filter index (filter.h): source runs and the
 * date order of the articles.  One pass over the article table counts the
 * runs of each source, a second fills them; a run grows while the next
 * article of the segment has the same source.
 */
#include "filter.h"

#include <stdlib.h>
#include <string.h>

void
ndx_segfilter_free(ndx_segfilter *f)
{
    if (!f)
        return;
    free(f->run_off);
    free(f->runs);
    free(f);
}

ndx_status
ndx_segfilter_build(const ndx_seg *s, ndx_segfilter **out)
{
    ndx_segfilter *f = calloc(1, sizeof *f);
    uint32_t *fill = NULL, last_src = UINT32_MAX, a;
    int32_t last_date = NDX_DATE_NONE;
    size_t runs = 0, i;
    ndx_status st = NDX_OK;

    *out = NULL;
    if (!f)
        return ndx_error(NDX_ENOMEM, "out of memory (filter index)");
    f->date_sorted = 1;
    f->run_off = calloc(s->source_count + 1, sizeof *f->run_off);
    fill = calloc(s->source_count + 1, sizeof *fill);
    if (!f->run_off || !fill) {
        st = ndx_error(NDX_ENOMEM, "out of memory (filter index)");
        goto fail;
    }
    for (a = 0; a < s->articles; a++) {
        ndx_seg_article art;

        if (ndx_seg_article_get(s, a, &art) != 0 ||
            art.source >= s->source_count) {
            st = ndx_error(NDX_ECORRUPT, "%s: article %u names no source; "
                                         "rebuild the index", s->path, a);
            goto fail;
        }
        if (art.date_days < last_date)
            f->date_sorted = 0;
        last_date = art.date_days;
        if (art.source != last_src) {
            f->run_off[art.source + 1]++;
            runs++;
        }
        last_src = art.source;
    }
    for (i = 0; i < s->source_count; i++)
        f->run_off[i + 1] += f->run_off[i];
    f->runs = malloc((runs ? runs : 1) * 2 * sizeof *f->runs);
    if (!f->runs) {
        st = ndx_error(NDX_ENOMEM, "out of memory (filter index)");
        goto fail;
    }
    memcpy(fill, f->run_off, s->source_count * sizeof *fill);
    last_src = UINT32_MAX;
    for (a = 0; a < s->articles; a++) {
        ndx_seg_article art;
        uint32_t *r;

        ndx_seg_article_get(s, a, &art);
        if (art.source != last_src) {
            r = f->runs + 2 * fill[art.source]++;
            r[0] = art.first;
        } else {
            r = f->runs + 2 * (fill[art.source] - 1);
        }
        r[1] = art.first + art.passages;
        last_src = art.source;
    }
    free(fill);
    *out = f;
    return NDX_OK;
fail:
    free(fill);
    ndx_segfilter_free(f);
    return st;
}

uint32_t
ndx_segfilter_article_at(const ndx_seg *s, uint32_t pid)
{
    uint32_t lo = 0, hi = (uint32_t)s->articles;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        ndx_seg_article a;

        ndx_seg_article_get(s, mid, &a);
        if (a.first < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The first article dated after `day` (strictly, with after) or on or
 * after it. */
static uint32_t
first_dated(const ndx_seg *s, int32_t day, int after)
{
    uint32_t lo = 0, hi = (uint32_t)s->articles;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        ndx_seg_article a;

        ndx_seg_article_get(s, mid, &a);
        if (after ? a.date_days <= day : a.date_days < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t
first_passage(const ndx_seg *s, uint32_t art)
{
    ndx_seg_article a;

    if (art >= s->articles)
        return (uint32_t)s->passages;
    ndx_seg_article_get(s, art, &a);
    return a.first;
}

void
ndx_segfilter_dates(const ndx_seg *s, int32_t from, int32_t to,
                    uint32_t *lo, uint32_t *hi)
{
    /* Undated articles sort first and pass no date filter. */
    uint32_t a0 = first_dated(s, from == NDX_DATE_NONE ? NDX_DATE_NONE
                                                       : from, from == NDX_DATE_NONE);
    uint32_t a1 = to == NDX_DATE_NONE ? (uint32_t)s->articles
                                      : first_dated(s, to, 1);

    *lo = first_passage(s, a0);
    *hi = a1 > a0 ? first_passage(s, a1) : *lo;
}
