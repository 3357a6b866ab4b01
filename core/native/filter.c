/*
 * filter.c - the per-segment filter index (filter.h): source runs and the
 * date order of the articles.  One pass over the article table counts the
 * runs of each source, a second fills them; a run grows while the next
 * article of the segment has the same source.  Articles out of date order
 * are also sorted by date (a stable radix sort on the date's two halves,
 * so each date keeps its articles in segment order).
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
    free(f->by_date);
    free(f);
}

/* A date as an unsigned key in the same order (NDX_DATE_NONE first). */
static uint32_t
date_key(int32_t d)
{
    return (uint32_t)d ^ 0x80000000u;
}

/* f->by_date: the articles by date key, in two stable counting passes of
 * 16 bits.  -1 when out of memory. */
static int
sort_by_date(const ndx_seg *s, ndx_segfilter *f)
{
    size_t n = s->articles, i;
    uint32_t *key = malloc((n ? n : 1) * sizeof *key);
    uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    uint32_t *out = malloc((n ? n : 1) * sizeof *out);
    size_t *count = calloc(65537, sizeof *count);
    int pass;

    if (!key || !tmp || !out || !count) {
        free(key);
        free(tmp);
        free(out);
        free(count);
        return -1;
    }
    for (i = 0; i < n; i++) {
        ndx_seg_article art;

        ndx_seg_article_get(s, (uint32_t)i, &art);
        key[i] = date_key(art.date_days);
        out[i] = (uint32_t)i;
    }
    for (pass = 0; pass < 2; pass++) {
        unsigned shift = pass * 16;
        uint32_t *from = pass ? tmp : out, *to = pass ? out : tmp;

        memset(count, 0, 65537 * sizeof *count);
        for (i = 0; i < n; i++)
            count[((key[from[i]] >> shift) & 0xffffu) + 1]++;
        for (i = 1; i <= 65536; i++)
            count[i] += count[i - 1];
        for (i = 0; i < n; i++)
            to[count[(key[from[i]] >> shift) & 0xffffu]++] = from[i];
    }
    free(key);
    free(tmp);
    free(count);
    f->by_date = out;
    return 0;
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
    if (!f->date_sorted && sort_by_date(s, f) != 0) {
        ndx_segfilter_free(f);
        return ndx_error(NDX_ENOMEM, "out of memory (filter index)");
    }
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

/* In date order, the first of the segment's articles (by NULL) or of
 * by_date's entries dated after `day` (strictly, with after) or on or
 * after it. */
static size_t
first_dated(const ndx_seg *s, const uint32_t *by, int32_t day, int after)
{
    size_t lo = 0, hi = s->articles;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        ndx_seg_article a;

        ndx_seg_article_get(s, by ? by[mid] : (uint32_t)mid, &a);
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

/* The slice [*a0, *a1) of the articles in date order (by: by_date, or
 * NULL for the segment's own order) dated from `from` to `to`. */
static void
dated_slice(const ndx_seg *s, const uint32_t *by, int32_t from, int32_t to,
            size_t *a0, size_t *a1)
{
    /* Undated articles sort first and pass no date filter. */
    *a0 = first_dated(s, by, from, from == NDX_DATE_NONE);
    *a1 = to == NDX_DATE_NONE ? s->articles : first_dated(s, by, to, 1);
    if (*a1 < *a0)
        *a1 = *a0;
}

void
ndx_segfilter_dates(const ndx_seg *s, int32_t from, int32_t to,
                    uint32_t *lo, uint32_t *hi)
{
    size_t a0, a1;

    dated_slice(s, NULL, from, to, &a0, &a1);
    *lo = first_passage(s, (uint32_t)a0);
    *hi = a1 > a0 ? first_passage(s, (uint32_t)a1) : *lo;
}

size_t
ndx_segfilter_date_slice(const ndx_seg *s, int32_t from, int32_t to,
                         const uint32_t **arts)
{
    size_t a0, a1;

    dated_slice(s, s->filter->by_date, from, to, &a0, &a1);
    *arts = s->filter->by_date + a0;
    return a1 - a0;
}

size_t
ndx_segfilter_article_runs(const ndx_seg *s, const uint32_t *arts, size_t n,
                           uint64_t *bits, uint32_t *runs)
{
    size_t words = (s->articles + 63) / 64, i, nr = 0;

    memset(bits, 0, words * sizeof *bits);
    for (i = 0; i < n; i++)
        bits[arts[i] >> 6] |= 1ULL << (arts[i] & 63);
    /* Each stretch of set bits is a stretch of adjacent articles, whose
     * passages are contiguous. */
    for (i = 0; i < words; i++) {
        uint64_t w = bits[i];

        while (w) {
            unsigned b = (unsigned)__builtin_ctzll(w);
            uint64_t ones = ~(w >> b);
            unsigned len = ones ? (unsigned)__builtin_ctzll(ones) : 64 - b;
            uint32_t a = (uint32_t)(i * 64 + b), last = a + len - 1;
            ndx_seg_article x, y;

            ndx_seg_article_get(s, a, &x);
            ndx_seg_article_get(s, last, &y);
            if (nr && runs[2 * nr - 1] == x.first) {
                runs[2 * nr - 1] = y.first + y.passages;
            } else {
                runs[2 * nr] = x.first;
                runs[2 * nr + 1] = y.first + y.passages;
                nr++;
            }
            w = b + len >= 64 ? 0 : w & ~((((uint64_t)1 << len) - 1) << b);
        }
    }
    return nr;
}
