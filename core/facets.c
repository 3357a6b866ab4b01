/*
 * facets.c - facet counts of a search: what the engine counted (articles
 * by source, articles by day with the day's coverage) turned into the
 * buckets a caller reads (ndx_results.facets).
 *
 * Engines count the way their storage makes cheap and hand the counts
 * over unsorted, a name or a day possibly several times (once per
 * segment); this module adds them up, groups sources by their key (one
 * outlet, several spellings), rolls days up into years or months, sorts
 * and cuts the source list at facet_limit.  Counting itself (walking the
 * matches) is the engines' job.
 */
#include <stdlib.h>
#include <string.h>

#include "facets.h"
#include "newsdex/sys/engine.h"
#include "util/buf.h"

typedef struct src_count {
    char *key;       /* ndx_source_key of the name (malloc) */
    char *name;      /* display name (malloc) */
    uint64_t count;  /* matching articles */
} src_count;

typedef struct day_count {
    int32_t days;
    uint64_t count; /* matching articles */
    uint64_t all;   /* articles passing the filters */
} day_count;

typedef struct facet_raw {
    src_count *src;
    size_t src_n, src_cap;
    day_count *day;
    size_t day_n, day_cap;
} facet_raw;

void
ndx_facet_raw_free(void *raw)
{
    facet_raw *f = raw;
    size_t i;

    if (!f)
        return;
    for (i = 0; i < f->src_n; i++) {
        free(f->src[i].key);
        free(f->src[i].name);
    }
    free(f->src);
    free(f->day);
    free(f);
}

static facet_raw *
raw_of(ndx_results *r)
{
    void **slot = ndx_results_facet_raw(r);

    if (!*slot)
        *slot = calloc(1, sizeof(facet_raw));
    return *slot;
}

ndx_status
ndx_results_facet_source(ndx_results *r, const char *name, uint64_t count)
{
    facet_raw *f = raw_of(r);
    src_count *s;
    char key[256];

    if (!f || ndx_grow((void **)&f->src, &f->src_cap, f->src_n + 1,
                       sizeof *f->src, 16))
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    ndx_source_key(name ? name : "", key, sizeof key);
    s = &f->src[f->src_n];
    s->key = strdup(key);
    s->name = strdup(name ? name : "");
    s->count = count;
    if (!s->key || !s->name) {
        free(s->key);
        free(s->name);
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    }
    f->src_n++;
    return NDX_OK;
}

ndx_status
ndx_results_facet_day(ndx_results *r, int32_t days, uint64_t count,
                      uint64_t all)
{
    facet_raw *f = raw_of(r);

    if (!f || ndx_grow((void **)&f->day, &f->day_cap, f->day_n + 1,
                       sizeof *f->day, 64))
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    f->day[f->day_n].days = days;
    f->day[f->day_n].count = count;
    f->day[f->day_n].all = all;
    f->day_n++;
    return NDX_OK;
}

static int
cmp_src_key(const void *a, const void *b)
{
    const src_count *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c)
        return c;
    /* Within one key, the spelling with the most articles first, so that
     * it names the group (as in the index's statistics). */
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int
cmp_bucket_count(const void *a, const void *b)
{
    const ndx_facet_bucket *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->value, y->value);
}

static int
cmp_day(const void *a, const void *b)
{
    const day_count *x = a, *y = b;

    return (x->days > y->days) - (x->days < y->days);
}

static ndx_status
finish_sources(ndx_results *r, facet_raw *f, size_t limit, ndx_facet *out)
{
    size_t i, n = 0;

    if (f->src_n)
        qsort(f->src, f->src_n, sizeof *f->src, cmp_src_key);
    out->buckets = ndx_results_alloc(r, (f->src_n ? f->src_n : 1) *
                                            sizeof *out->buckets);
    if (!out->buckets)
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    for (i = 0; i < f->src_n; i++) {
        ndx_facet_bucket *b;

        if (n && strcmp(f->src[i].key, f->src[i - 1].key) == 0) {
            out->buckets[n - 1].count += f->src[i].count;
            continue;
        }
        b = &out->buckets[n++];
        memset(b, 0, sizeof *b);
        b->value = f->src[i].name;
        b->first_days = b->last_days = NDX_DATE_NONE;
        b->count = f->src[i].count;
    }
    /* Sources that no matching article has are not listed. */
    qsort(out->buckets, n, sizeof *out->buckets, cmp_bucket_count);
    while (n && out->buckets[n - 1].count == 0)
        n--;
    if (limit && n > limit) {
        for (i = limit; i < n; i++)
            out->other += out->buckets[i].count;
        n = limit;
    }
    for (i = 0; i < n; i++) {
        const char *v = out->buckets[i].value;

        out->buckets[i].value = ndx_results_strdup(r, v, strlen(v));
        if (!out->buckets[i].value)
            return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    }
    out->count = n;
    return NDX_OK;
}

/* The bucket of a day: its first and last day and its label. */
static void
bucket_of(int32_t days, unsigned kind, int32_t *first, int32_t *last,
          char label[11])
{
    int y, m, d;

    ndx_date_to_ymd(days, &y, &m, &d);
    if (kind == NDX_FACET_YEAR) {
        *first = ndx_date_from_ymd(y, 1, 1);
        *last = ndx_date_from_ymd(y + 1, 1, 1) - 1;
    } else if (kind == NDX_FACET_MONTH) {
        *first = ndx_date_from_ymd(y, m, 1);
        *last = (m == 12 ? ndx_date_from_ymd(y + 1, 1, 1)
                         : ndx_date_from_ymd(y, m + 1, 1)) - 1;
    } else {
        *first = *last = days;
    }
    ndx_date_format(*first, label);
    label[kind == NDX_FACET_YEAR ? 4 : kind == NDX_FACET_MONTH ? 7 : 10] = 0;
}

/* Days must be sorted. */
static ndx_status
finish_dates(ndx_results *r, const facet_raw *f, unsigned kind,
             ndx_facet *out)
{
    size_t i, n = 0;

    out->buckets = ndx_results_alloc(r, (f->day_n ? f->day_n : 1) *
                                            sizeof *out->buckets);
    if (!out->buckets)
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    for (i = 0; i < f->day_n; i++) {
        const day_count *d = &f->day[i];
        int32_t first, last;
        char label[11];
        ndx_facet_bucket *b;

        if (d->days == NDX_DATE_NONE) {
            out->undated += d->count;
            continue;
        }
        if (d->count == 0 && d->all == 0)
            continue;
        if (n && d->days <= out->buckets[n - 1].last_days) {
            out->buckets[n - 1].count += d->count;
            out->buckets[n - 1].all += d->all;
            continue;
        }
        bucket_of(d->days, kind, &first, &last, label);
        b = &out->buckets[n++];
        b->value = ndx_results_strdup(r, label, strlen(label));
        if (!b->value)
            return ndx_error(NDX_ENOMEM, "out of memory (facets)");
        b->first_days = first;
        b->last_days = last;
        b->count = d->count;
        b->all = d->all;
    }
    out->count = n;
    return NDX_OK;
}

ndx_status
ndx_results_facets_finish(ndx_results *r, const ndx_search_opts *o)
{
    static const struct {
        unsigned kind;
        const char *name;
    } kinds[] = {{NDX_FACET_SOURCE, "source"},
                 {NDX_FACET_YEAR, "year"},
                 {NDX_FACET_MONTH, "month"},
                 {NDX_FACET_DAY, "day"}};
    facet_raw *f;
    ndx_status st;
    size_t i;

    if (!o->facets)
        return NDX_OK;
    if (!(f = raw_of(r)))
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    r->facets = ndx_results_alloc(r, 4 * sizeof *r->facets);
    if (!r->facets)
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    if (f->day_n)
        qsort(f->day, f->day_n, sizeof *f->day, cmp_day);
    for (i = 0; i < 4; i++) {
        ndx_facet *out;

        if (!(o->facets & kinds[i].kind))
            continue;
        out = &r->facets[r->facet_count++];
        memset(out, 0, sizeof *out);
        out->name = kinds[i].name;
        st = kinds[i].kind == NDX_FACET_SOURCE
                 ? finish_sources(r, f, o->facet_limit, out)
                 : finish_dates(r, f, kinds[i].kind, out);
        if (st)
            return st;
    }
    return NDX_OK;
}
