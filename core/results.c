/*
 * results.c - the small value types of index.h: search options, BM25
 * parameters, results (hits with their strings in one arena), stats and
 * documents.  No I/O; engines and the front fill these.
 */
#include <stdlib.h>
#include <string.h>

#include "facets.h"
#include "newsdex/sys/engine.h"
#include "util/buf.h"

/* Results as allocated: what users see, then what only this file sees. */
typedef struct results_impl {
    ndx_results pub;  /* first: an ndx_results * is a results_impl * */
    ndx_arena *arena; /* strings of the hits, created on first use */
    void *facet_raw;  /* facets.c: counts as the engine gave them */
} results_impl;

void
ndx_bm25_init(ndx_bm25 *p)
{
    p->k1 = 1.2;
    p->k2 = 0;
    p->k3 = 1;
    p->b = 0.75;
    p->min_normlen = 0.5;
}

void
ndx_search_opts_init(ndx_search_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k = 10;
    o->sort = NDX_SORT_RELEVANCE;
    o->group = NDX_GROUP_ARTICLE;
    o->from_days = NDX_DATE_NONE;
    o->to_days = NDX_DATE_NONE;
    o->exact_upto = NDX_TOTAL_EXACT_UPTO;
    ndx_bm25_init(&o->bm25);
    o->snippets = 1;
    o->snippet_len = 240;
    o->facet_limit = 20;
    o->collapse_titles = 1;
    o->fold_clusters = 1;
}

void
ndx_search_key_of(const ndx_hit *h, ndx_search_key *out)
{
    out->date_days = h->date_days;
    out->score = h->score;
    out->order = h->order;
}

void
ndx_engine_config_init(ndx_engine_config *c)
{
    memset(c, 0, sizeof *c);
    c->language = "english";
    c->memory_mb = 512;
    c->threads = 1;
    c->shards = 1;
}

ndx_status
ndx_results_new(ndx_results **out)
{
    results_impl *ri = calloc(1, sizeof *ri);

    *out = ri ? &ri->pub : NULL;
    return ri ? NDX_OK : ndx_error(NDX_ENOMEM, "out of memory (results)");
}

/* The arena behind a result set, created on first use. */
static ndx_arena *
results_arena(ndx_results *r)
{
    results_impl *ri = (results_impl *)r;

    if (!ri->arena)
        ri->arena = ndx_arena_new();
    return ri->arena;
}

char *
ndx_results_strdup(ndx_results *r, const char *s, size_t len)
{
    ndx_arena *a = results_arena(r);

    return a ? ndx_arena_strdup(a, s ? s : "", s ? len : 0) : NULL;
}

void **
ndx_results_facet_raw(ndx_results *r)
{
    return &((results_impl *)r)->facet_raw;
}

void *
ndx_results_alloc(ndx_results *r, size_t len)
{
    ndx_arena *a = results_arena(r);

    return a ? ndx_arena_alloc(a, len) : NULL;
}

/* Hits live in their own array, grown by doubling; its capacity is not
 * stored: it is the smallest power of two, at least 8, that holds count. */
ndx_hit *
ndx_results_push(ndx_results *r)
{
    /* The capacity is not kept: it is the power of two (8 at least) that
     * count reached, and none before the first push. */
    size_t cap = r->count ? 8 : 0;

    while (cap < r->count)
        cap *= 2;
    if (ndx_grow((void **)&r->hits, &cap, r->count + 1, sizeof *r->hits, 8))
        return NULL;
    memset(&r->hits[r->count], 0, sizeof r->hits[0]);
    return &r->hits[r->count++];
}

void
ndx_results_free(ndx_results *r)
{
    if (!r)
        return;
    free(r->hits);
    ndx_facet_raw_free(((results_impl *)r)->facet_raw);
    ndx_arena_free(((results_impl *)r)->arena);
    free(r);
}

void
ndx_stats_clear(ndx_stats *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->source_count; i++)
        free(s->sources[i].name);
    free(s->sources);
    s->sources = NULL;
    s->source_count = 0;
}

void
ndx_doc_free(ndx_doc *d)
{
    size_t i;

    if (!d)
        return;
    free(d->id);
    free(d->source);
    free(d->title);
    free(d->url);
    for (i = 0; d->passages && i < d->passage_count; i++)
        free(d->passages[i]);
    free(d->passages);
    free(d);
}
