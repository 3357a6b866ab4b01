/*
 * facets.c - counts of the matching articles by source and by day for the
 * native engine, and each day's coverage (articles passing the filters).
 *
 * Sources are counted by the segment's source ordinal in an array, days
 * in an open-addressing table keyed by the day; both cost a few
 * nanoseconds per matching article.  Coverage is a walk over the
 * segment's article table, which the executor does not otherwise read.
 * Rolling days up into months or years, grouping sources by key and
 * sorting is left to the front (core/facets.c).
 */
#include "facets.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

typedef struct dslot {
    int32_t days;   /* NDX_DATE_NONE: empty slot */
    uint64_t count; /* matching articles */
    uint64_t all;   /* articles passing the filters */
} dslot;

struct nfacets {
    unsigned want;           /* NDX_FACET_* */
    unsigned gran;           /* the finest date facet asked for */
    const ndx_seg *seg;      /* segment being walked */
    uint64_t *src;           /* per source ordinal of seg */
    size_t src_cap;
    dslot *tab;              /* power-of-two slots */
    size_t tab_cap, tab_n;
    uint64_t undated, undated_all;
};

#define DATE_FACETS (NDX_FACET_YEAR | NDX_FACET_MONTH | NDX_FACET_DAY)

ndx_status
nfacets_new(nfacets **out, const ndx_search_opts *o)
{
    nfacets *f;
    size_t i;

    *out = NULL;
    if (!o->facets)
        return NDX_OK;
    f = calloc(1, sizeof *f);
    if (!f)
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    f->want = o->facets;
    f->gran = f->want & NDX_FACET_DAY     ? NDX_FACET_DAY
              : f->want & NDX_FACET_MONTH ? NDX_FACET_MONTH
                                          : NDX_FACET_YEAR;
    if (f->want & DATE_FACETS) {
        f->tab_cap = 1024;
        f->tab = malloc(f->tab_cap * sizeof *f->tab);
        if (!f->tab) {
            free(f);
            return ndx_error(NDX_ENOMEM, "out of memory (facets)");
        }
        for (i = 0; i < f->tab_cap; i++)
            f->tab[i].days = NDX_DATE_NONE;
    }
    *out = f;
    return NDX_OK;
}

void
nfacets_free(nfacets *f)
{
    if (!f)
        return;
    free(f->src);
    free(f->tab);
    free(f);
}

ndx_status
nfacets_segment_begin(nfacets *f, const ndx_seg *s)
{
    if (!f)
        return NDX_OK;
    f->seg = s;
    if (!(f->want & NDX_FACET_SOURCE))
        return NDX_OK;
    if (ndx_grow((void **)&f->src, &f->src_cap, s->source_count + 1,
                 sizeof *f->src, 16))
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    memset(f->src, 0, (s->source_count + 1) * sizeof *f->src);
    return NDX_OK;
}

static size_t
day_hash(int32_t days, size_t mask)
{
    return ((uint32_t)days * 2654435761u) & mask;
}

/* Doubles the day table; -1 when out of memory (the counts stay). */
static int
tab_grow(nfacets *f)
{
    size_t cap = f->tab_cap * 2, i;
    dslot *nt = malloc(cap * sizeof *nt);

    if (!nt)
        return -1;
    for (i = 0; i < cap; i++)
        nt[i].days = NDX_DATE_NONE;
    for (i = 0; i < f->tab_cap; i++) {
        size_t h;

        if (f->tab[i].days == NDX_DATE_NONE)
            continue;
        h = day_hash(f->tab[i].days, cap - 1);
        while (nt[h].days != NDX_DATE_NONE)
            h = (h + 1) & (cap - 1);
        nt[h] = f->tab[i];
    }
    free(f->tab);
    f->tab = nt;
    f->tab_cap = cap;
    return 0;
}

/* The first day of the bucket that holds days at the finest granularity
 * asked for: the table then holds months (or years), not every day of
 * the archive, and the front rolls up fewer entries. */
static int32_t
bucket_start(const nfacets *f, int32_t days)
{
    int y, m, d;

    if (f->gran == NDX_FACET_DAY)
        return days;
    ndx_date_to_ymd(days, &y, &m, &d);
    return ndx_date_from_ymd(y, f->gran == NDX_FACET_MONTH ? m : 1, 1);
}

/* The slot of a day, made when absent; NULL when out of memory. */
static dslot *
day_slot(nfacets *f, int32_t days)
{
    size_t h;

    if (2 * (f->tab_n + 1) > f->tab_cap && tab_grow(f))
        return NULL;
    h = day_hash(days, f->tab_cap - 1);
    while (f->tab[h].days != days) {
        if (f->tab[h].days == NDX_DATE_NONE) {
            f->tab[h].days = days;
            f->tab[h].count = f->tab[h].all = 0;
            f->tab_n++;
            break;
        }
        h = (h + 1) & (f->tab_cap - 1);
    }
    return &f->tab[h];
}

/* A day count that cannot be kept for want of memory is lost, not
 * wrong: nfacets_segment_end notices the table is short and fails. */
void
nfacets_count(nfacets *f, const ndx_seg_article *a)
{
    if (!f)
        return;
    if (f->src && a->source < f->seg->source_count)
        f->src[a->source]++;
    if (f->tab) {
        dslot *d;

        if (a->date_days == NDX_DATE_NONE)
            f->undated++;
        else if ((d = day_slot(f, bucket_start(f, a->date_days))))
            d->count++;
        else
            f->tab_n = SIZE_MAX / 4; /* remembered as a failure */
    }
}

ndx_status
nfacets_segment_end(nfacets *f, ndx_results *into)
{
    const ndx_seg *s;
    ndx_status st;
    size_t i;

    if (!f)
        return NDX_OK;
    if (f->tab && f->tab_n == SIZE_MAX / 4)
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    s = f->seg;
    for (i = 0; f->src && s && i < s->source_count; i++)
        if (f->src[i] &&
            (st = ndx_results_facet_source(into, s->sources[i].name,
                                           f->src[i])))
            return st;
    return NDX_OK;
}

/* ---- coverage ----------------------------------------------------------- */

/* Articles by day, days ascending; undated apart. */
typedef struct cov_list {
    int32_t *days;
    uint64_t *counts;
    size_t n;
    uint64_t undated;
} cov_list;

typedef struct fcov {
    cov_list all;      /* every source */
    char **keys;       /* source keys (borrowed from the view's segments) */
    cov_list *by_src;  /* per key */
    size_t src_n;
} fcov;

typedef struct cov_item {
    uint32_t src; /* key index */
    int32_t days;
} cov_item;

static void
cov_list_free(cov_list *l)
{
    free(l->days);
    free(l->counts);
}

void
nfacets_cov_free(void *cov)
{
    fcov *c = cov;
    size_t i;

    if (!c)
        return;
    cov_list_free(&c->all);
    for (i = 0; c->by_src && i < c->src_n; i++)
        cov_list_free(&c->by_src[i]);
    free(c->by_src);
    free(c->keys);
    free(c);
}

static int
cmp_item_src_day(const void *a, const void *b)
{
    const cov_item *x = a, *y = b;

    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    return (x->days > y->days) - (x->days < y->days);
}

static int
cmp_item_day(const void *a, const void *b)
{
    const cov_item *x = a, *y = b;

    return (x->days > y->days) - (x->days < y->days);
}

/* Turns items [0, n), sorted by day, into a list; -1 on ENOMEM. */
static int
cov_list_make(cov_list *l, const cov_item *it, size_t n)
{
    size_t i;

    l->days = malloc((n ? n : 1) * sizeof *l->days);
    l->counts = malloc((n ? n : 1) * sizeof *l->counts);
    if (!l->days || !l->counts)
        return -1;
    for (i = 0; i < n; i++) {
        if (it[i].days == NDX_DATE_NONE) {
            l->undated++;
            continue;
        }
        if (l->n && l->days[l->n - 1] == it[i].days) {
            l->counts[l->n - 1]++;
            continue;
        }
        l->days[l->n] = it[i].days;
        l->counts[l->n++] = 1;
    }
    return 0;
}

static ndx_status
cov_build(const nview *v, fcov **out)
{
    fcov *c = calloc(1, sizeof *c);
    cov_item *it = NULL;
    uint32_t *map = NULL;
    size_t n = 0, cap = 0, keys_cap = 0, segi, i;

    if (!c)
        goto nomem;
    for (segi = 0; segi < v->count; segi++) {
        const ndx_seg *s = v->segs[segi];
        uint32_t a;

        free(map);
        map = malloc((s->source_count + 1) * sizeof *map);
        if (!map)
            goto nomem;
        for (i = 0; i < s->source_count; i++) {
            size_t j;

            for (j = 0; j < c->src_n; j++)
                if (strcmp(c->keys[j], s->sources[i].key) == 0)
                    break;
            if (j == c->src_n) {
                if (ndx_grow((void **)&c->keys, &keys_cap, c->src_n + 1,
                             sizeof *c->keys, 16))
                    goto nomem;
                c->keys[c->src_n++] = (char *)s->sources[i].key;
            }
            map[i] = (uint32_t)j;
        }
        for (a = 0; a < s->articles; a++) {
            ndx_seg_article art;

            if (nview_dead(v, segi, a) || ndx_seg_article_get(s, a, &art))
                continue;
            if (ndx_grow((void **)&it, &cap, n + 1, sizeof *it, 1024))
                goto nomem;
            it[n].src = map[art.source];
            it[n].days = art.date_days;
            n++;
        }
    }
    c->by_src = calloc(c->src_n + 1, sizeof *c->by_src);
    if (!c->by_src)
        goto nomem;
    if (n)
        qsort(it, n, sizeof *it, cmp_item_src_day);
    for (i = 0; i < n;) {
        size_t j = i;

        while (j < n && it[j].src == it[i].src)
            j++;
        if (cov_list_make(&c->by_src[it[i].src], it + i, j - i))
            goto nomem;
        i = j;
    }
    if (n)
        qsort(it, n, sizeof *it, cmp_item_day);
    if (cov_list_make(&c->all, it, n))
        goto nomem;
    free(it);
    free(map);
    *out = c;
    return NDX_OK;
nomem:
    free(it);
    free(map);
    nfacets_cov_free(c);
    return ndx_error(NDX_ENOMEM, "out of memory (facets)");
}

/* The view's table, built by the first search that needs it; searches
 * racing to build it keep the first one installed. */
static ndx_status
cov_get(const nview *v, const fcov **out)
{
    void **slot = (void **)&((nview *)v)->facet_cov;
    void *cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    fcov *mine = NULL;
    ndx_status st;

    if (!cur) {
        if ((st = cov_build(v, &mine)))
            return st;
        if (__atomic_compare_exchange_n(slot, &cur, mine, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            cur = mine;
        else
            nfacets_cov_free(mine);
    }
    *out = cur;
    return NDX_OK;
}

/* Adds the days of l in [from, to] to the coverage. */
static ndx_status
cov_add(nfacets *f, const cov_list *l, int32_t from, int32_t to)
{
    size_t lo = 0, hi = l->n, i;

    if (from != NDX_DATE_NONE)
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (l->days[mid] < from)
                lo = mid + 1;
            else
                hi = mid;
        }
    /* Days come in order: a bucket's days are summed before its slot
     * is looked up. */
    for (i = lo; i < l->n && (to == NDX_DATE_NONE || l->days[i] <= to);) {
        int32_t b = bucket_start(f, l->days[i]);
        uint64_t sum = 0;
        dslot *d;

        for (; i < l->n && (to == NDX_DATE_NONE || l->days[i] <= to) &&
               (f->gran == NDX_FACET_DAY ? l->days[i] == b
                                         : bucket_start(f, l->days[i]) == b);
             i++)
            sum += l->counts[i];
        if (!(d = day_slot(f, b)))
            return ndx_error(NDX_ENOMEM, "out of memory (facets)");
        d->all += sum;
    }
    if (from == NDX_DATE_NONE && to == NDX_DATE_NONE)
        f->undated_all += l->undated;
    return NDX_OK;
}

static int
key_listed(const char *key, const char *const *keys, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return 1;
    return 0;
}

ndx_status
nfacets_finish(nfacets *f, const nview *v, const char *const *qkeys,
               size_t qkey_count, const char *const *okeys,
               size_t okey_count, int32_t from, int32_t to,
               ndx_results *into)
{
    const fcov *c;
    ndx_status st;
    size_t i;

    if (!f || !f->tab)
        return NDX_OK;
    if (f->tab_n == SIZE_MAX / 4)
        return ndx_error(NDX_ENOMEM, "out of memory (facets)");
    if (from == NDX_DATE_NONE || to == NDX_DATE_NONE || from <= to) {
        if ((st = cov_get(v, &c)))
            return st;
        if (!qkey_count && !okey_count) {
            if ((st = cov_add(f, &c->all, from, to)))
                return st;
        } else {
            for (i = 0; i < c->src_n; i++)
                if ((!qkey_count ||
                     key_listed(c->keys[i], qkeys, qkey_count)) &&
                    (!okey_count ||
                     key_listed(c->keys[i], okeys, okey_count)) &&
                    (st = cov_add(f, &c->by_src[i], from, to)))
                    return st;
        }
    }
    for (i = 0; i < f->tab_cap; i++)
        if (f->tab[i].days != NDX_DATE_NONE &&
            (st = ndx_results_facet_day(into, f->tab[i].days,
                                        f->tab[i].count, f->tab[i].all)))
            return st;
    if (f->undated || f->undated_all)
        return ndx_results_facet_day(into, NDX_DATE_NONE, f->undated,
                                     f->undated_all);
    return NDX_OK;
}
