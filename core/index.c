/*
 * index.c - the front of libnewsdex: opens an index with the right engine,
 * splits and analyzes articles on their way in, parses queries, and turns
 * the engine's hits into highlighted snippets on the way out.
 *
 * Engines (native.c, xapian/) do the storing and ranking; ingestion
 * (reader*.c, passages.c, clean.c), analysis (analyze.c) and the query
 * language (query.c) are their own modules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newsdex/newsdex.h"
#include "util/buf.h"

#define MAX_LANGS 32

struct ndx_index {
    const ndx_engine_ops *ops;
    void *eng;
    unsigned flags;
    ndx_analyzer *an;                  /* the default language */
    struct {
        char *lang;
        ndx_analyzer *an;              /* NULL: unknown, use the default */
    } langs[MAX_LANGS];
    size_t lang_count;
    ndx_split_opts split;
    ndx_passages pass;
};

static const ndx_engine_ops *
engine_by_name(const char *name)
{
    if (strcmp(name, "native") == 0)
        return &ndx_native_engine;
    if (strcmp(name, "xapian") == 0)
        return ndx_xapian_engine();
    return NULL;
}

ndx_status
ndx_index_open(ndx_index **out, const char *path, unsigned flags,
               const char *engine, const ndx_engine_config *cfg)
{
    ndx_index *ix;
    ndx_engine_config defcfg;
    const ndx_engine_ops *ops = NULL;
    const ndx_engine_ops *xap = ndx_xapian_engine();
    ndx_status st;

    *out = NULL;
    if (!cfg) {
        ndx_engine_config_init(&defcfg);
        cfg = &defcfg;
    }
    if (engine && *engine) {
        if (strcmp(engine, "native") != 0 && strcmp(engine, "xapian") != 0)
            return ndx_error(NDX_EINVAL,
                             "unknown engine '%s'; use native or xapian",
                             engine);
        ops = engine_by_name(engine);
        if (!ops)
            return ndx_error(NDX_ENOTSUP,
                             "this newsdex was built without the %s engine; "
                             "rebuild with XAPIAN=1",
                             engine);
    } else if (ndx_native_engine.probe(path)) {
        ops = &ndx_native_engine;
    } else if (xap && xap->probe(path)) {
        ops = xap;
    } else if (cfg->remote_count && xap) {
        ops = xap;
    } else if (flags & NDX_OPEN_WRITE) {
        ops = &ndx_native_engine;
    } else {
        return ndx_error(NDX_ENOTFOUND,
                         "no newsdex index at %s; build one with "
                         "newsdex-index -o %s FILES",
                         path, path);
    }
    ix = calloc(1, sizeof *ix);
    if (!ix)
        return ndx_error(NDX_ENOMEM, "out of memory");
    ix->ops = ops;
    ix->flags = flags;
    ndx_split_opts_init(&ix->split);
    if ((st = ndx_analyzer_new(&ix->an, cfg->language)))
        goto fail;
    if ((st = ops->open(&ix->eng, path, flags, cfg)))
        goto fail;
    *out = ix;
    return NDX_OK;
fail:
    ndx_index_close(ix);
    return st;
}

const char *
ndx_index_engine(const ndx_index *ix)
{
    return ix->ops->name;
}

void
ndx_index_set_split(ndx_index *ix, const ndx_split_opts *o)
{
    ix->split = *o;
}

/* The analyzer for a language: created on first use; unknown languages
 * fall back to the default (ndx_index_unknown_language tells). */
static ndx_analyzer *
analyzer_for(ndx_index *ix, const char *lang)
{
    size_t i;

    if (!lang || !*lang ||
        strcmp(lang, ndx_analyzer_language(ix->an)) == 0)
        return ix->an;
    for (i = 0; i < ix->lang_count; i++)
        if (strcmp(ix->langs[i].lang, lang) == 0)
            return ix->langs[i].an ? ix->langs[i].an : ix->an;
    if (ix->lang_count == MAX_LANGS)
        return ix->an;
    ix->langs[ix->lang_count].lang = strdup(lang);
    if (!ix->langs[ix->lang_count].lang)
        return ix->an;
    if (ndx_analyzer_new(&ix->langs[ix->lang_count].an, lang) != NDX_OK)
        ix->langs[ix->lang_count].an = NULL;
    ix->lang_count++;
    return ix->langs[ix->lang_count - 1].an
               ? ix->langs[ix->lang_count - 1].an
               : ix->an;
}

int
ndx_index_language_known(ndx_index *ix, const char *lang)
{
    size_t i;

    analyzer_for(ix, lang);
    if (!lang || !*lang || strcmp(lang, ndx_analyzer_language(ix->an)) == 0)
        return 1;
    for (i = 0; i < ix->lang_count; i++)
        if (strcmp(ix->langs[i].lang, lang) == 0)
            return ix->langs[i].an != NULL;
    return 0;
}

ndx_status
ndx_index_add(ndx_index *ix, const ndx_article *a, size_t *passages)
{
    ndx_status st;

    if (passages)
        *passages = 0;
    if (!(ix->flags & NDX_OPEN_WRITE))
        return ndx_error(NDX_EINVAL, "the index is open for reading only");
    if (!a->id || !*a->id)
        return ndx_error(NDX_EINVAL, "an article needs an id");
    if ((st = ndx_passages_split(&ix->pass, a->text, a->text_len, a->source,
                                 &ix->split)))
        return st;
    if (ix->pass.count == 0)
        return NDX_OK;
    if ((st = ix->ops->add(ix->eng, a, &ix->pass, analyzer_for(ix, a->lang))))
        return st;
    if (passages)
        *passages = ix->pass.count;
    return NDX_OK;
}

ndx_status
ndx_index_commit(ndx_index *ix)
{
    if (!(ix->flags & NDX_OPEN_WRITE))
        return ndx_error(NDX_EINVAL, "the index is open for reading only");
    return ix->ops->commit(ix->eng);
}

ndx_status
ndx_index_search_query(ndx_index *ix, const ndx_query *q,
                       const ndx_search_opts *o, ndx_results **out)
{
    ndx_results *r = calloc(1, sizeof *r);
    ndx_search_opts defo;
    double t0 = ndx_now_ms();
    ndx_status st;
    size_t i;

    *out = NULL;
    if (!r)
        return ndx_error(NDX_ENOMEM, "out of memory");
    if (!o) {
        ndx_search_opts_init(&defo);
        o = &defo;
    }
    if ((st = ix->ops->search(ix->eng, q, o, r)))
        goto fail;
    if (o->snippets) {
        for (i = 0; i < r->count; i++) {
            ndx_hit *h = &r->hits[i];
            char *s;

            if (!h->text)
                continue;
            s = ndx_snippet_make(ix->an, q, h->text, strlen(h->text),
                                 o->snippet_len ? o->snippet_len : 240);
            if (!s) {
                st = ndx_error(NDX_ENOMEM, "out of memory (snippet)");
                goto fail;
            }
            h->snippet = ndx_results_strdup(r, s, strlen(s));
            free(s);
            if (!h->snippet) {
                st = ndx_error(NDX_ENOMEM, "out of memory (snippet)");
                goto fail;
            }
        }
    }
    r->took_ms = ndx_now_ms() - t0;
    *out = r;
    return NDX_OK;
fail:
    ndx_results_free(r);
    return st;
}

ndx_status
ndx_index_search(ndx_index *ix, const char *text, const ndx_search_opts *o,
                 ndx_results **out, size_t *err_col)
{
    ndx_query *q = NULL;
    double t0 = ndx_now_ms();
    ndx_status st;

    *out = NULL;
    if ((st = ndx_query_parse(&q, text, ix->an, err_col)))
        return st;
    st = ndx_index_search_query(ix, q, o, out);
    ndx_query_free(q);
    if (!st)
        (*out)->took_ms = ndx_now_ms() - t0;
    return st;
}

ndx_status
ndx_index_get(ndx_index *ix, const char *article_id, ndx_doc **out)
{
    return ix->ops->get(ix->eng, article_id, out);
}

ndx_status
ndx_index_stats(ndx_index *ix, ndx_stats *out)
{
    return ix->ops->stats(ix->eng, out);
}

int
ndx_index_refresh(ndx_index *ix)
{
    return ix->ops->refresh ? ix->ops->refresh(ix->eng) : 0;
}

int
ndx_index_thread_safe(const ndx_index *ix)
{
    return ix->ops->thread_safe;
}

ndx_analyzer *
ndx_index_analyzer(ndx_index *ix)
{
    return ix->an;
}

void
ndx_index_close(ndx_index *ix)
{
    size_t i;

    if (!ix)
        return;
    if (ix->eng)
        ix->ops->close(ix->eng);
    for (i = 0; i < ix->lang_count; i++) {
        free(ix->langs[i].lang);
        ndx_analyzer_free(ix->langs[i].an);
    }
    ndx_analyzer_free(ix->an);
    ndx_passages_clear(&ix->pass);
    free(ix);
}

ndx_status
ndx_index_check(const char *path)
{
    const ndx_engine_ops *xap = ndx_xapian_engine();
    const ndx_engine_ops *ops = NULL;

    if (ndx_native_engine.probe(path))
        ops = &ndx_native_engine;
    else if (xap && xap->probe(path))
        ops = xap;
    if (!ops)
        return ndx_error(NDX_ENOTFOUND, "no newsdex index at %s", path);
    if (!ops->check)
        return ndx_error(NDX_ENOTSUP, "the %s engine has no check",
                         ops->name);
    return ops->check(path);
}
