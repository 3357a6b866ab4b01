/*
 * export.c - CSV of every matching article of a query.
 *
 * The rows come from ordinary searches through the index API, a page of
 * EXPORT_PAGE articles at a time in the order asked for (relevance,
 * newest, oldest): page n + 1 is the search for the articles that rank
 * after the last row of page n (keyset paging: ndx_search_opts.after),
 * so that the engine keeps one page's candidates however far in the page
 * is, and the memory an export holds is one page's whatever the number
 * of matches.  Every matching article is a row: near-identical articles
 * of other sources are not folded into one, nor same-title articles
 * collapsed, so the rows are as many as the matches.  The first page's
 * search counts every match exactly (export_matches), which the server
 * sends as a header.
 * A commit that lands between two pages of a shared index may move rows
 * across the page boundary (a row twice or not at all); an export that
 * must be one snapshot is taken from the command line.
 *
 * The columns and quoting are render.c's.  How the pages reach a client
 * (stdout, or a job per page in the server) is the caller's.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"

#include "render.h"

struct export_cursor {
    ndx_search_opts o;   /* the caller's, with sources pointing below */
    char *text;          /* the query */
    char **sources;      /* copies of o.sources */
    size_t done;         /* rows given */
    ndx_search_key last; /* the key of the last row given, once done */
    uint64_t matches;    /* exact count from the first page */
    int started;         /* the header line is out */
    int finished;
    int truncated;
};

void
export_free(export_cursor *x)
{
    size_t i;

    if (!x)
        return;
    for (i = 0; x->sources && i < x->o.source_count; i++)
        free(x->sources[i]);
    free(x->sources);
    free(x->text);
    free(x);
}

ndx_status
export_open(export_cursor **out, const char *text, const ndx_search_opts *o)
{
    export_cursor *x = calloc(1, sizeof *x);
    size_t i;

    *out = NULL;
    if (!x)
        return ndx_error(NDX_ENOMEM, "out of memory starting an export");
    x->o = *o;
    x->o.group = NDX_GROUP_ARTICLE;
    x->o.collapse_titles = 0; /* a row for every article */
    x->o.fold_clusters = 0;
    x->o.after = NULL;
    x->o.snippets = 0;
    x->o.facets = 0;
    x->text = strdup(text);
    if (!x->text)
        goto fail;
    if (o->source_count) {
        x->sources = calloc(o->source_count, sizeof *x->sources);
        if (!x->sources)
            goto fail;
        for (i = 0; i < o->source_count; i++)
            if (!(x->sources[i] = strdup(o->sources[i])))
                goto fail;
        x->o.sources = (const char *const *)x->sources;
    }
    *out = x;
    return NDX_OK;
fail:
    export_free(x);
    return ndx_error(NDX_ENOMEM, "out of memory starting an export");
}

ndx_status
export_next(export_cursor *x, ndx_index *ix, ndx_buf *b, size_t *err_col,
            int *finished)
{
    ndx_search_opts po = x->o;
    ndx_results *r = NULL;
    size_t before = b->len, col = 0;
    ndx_status st;

    *finished = x->finished;
    if (x->finished)
        return NDX_OK;
    po.offset = 0;
    po.after = x->done ? &x->last : NULL;
    po.k = EXPORT_PAGE;
    if (x->done + po.k > EXPORT_MAX_ROWS)
        po.k = EXPORT_MAX_ROWS - x->done;
    /* The first page counts every match, so that the count can be told
     * before the rows; the later ones may prune. */
    po.exact_total = !x->started;
    if ((st = ndx_index_search(ix, x->text, &po, &r, err_col ? err_col
                                                             : &col)))
        goto fail;
    if ((!x->started && (st = render_csv_header(b))) ||
        (st = render_csv_rows(b, r)))
        goto fail;
    if (!x->started)
        x->matches = r->total;
    x->started = 1;
    x->done += r->count;
    if (r->count)
        ndx_search_key_of(&r->hits[r->count - 1], &x->last);
    if (r->count < po.k || (r->total_exact && x->done >= r->total)) {
        x->finished = 1;
    } else if (x->done >= EXPORT_MAX_ROWS) {
        x->finished = 1;
        x->truncated = 1;
    }
    *finished = x->finished;
    ndx_results_free(r);
    return NDX_OK;
fail:
    b->len = before;
    ndx_results_free(r);
    return st;
}

uint64_t
export_matches(const export_cursor *x)
{
    return x->matches;
}

int
export_truncated(const export_cursor *x)
{
    return x->truncated;
}

ndx_status
export_csv(ndx_index *ix, const char *text, const ndx_search_opts *o,
           ndx_status (*emit)(void *ctx, const ndx_buf *b), void *ctx,
           size_t *err_col, int *truncated)
{
    export_cursor *x = NULL;
    ndx_buf b;
    ndx_status st;
    int finished = 0;

    *truncated = 0;
    ndx_buf_init(&b);
    if ((st = export_open(&x, text, o)))
        goto fail;
    while (!finished) {
        b.len = 0;
        if ((st = export_next(x, ix, &b, err_col, &finished)) ||
            (b.len && (st = emit(ctx, &b))))
            goto fail;
    }
    *truncated = export_truncated(x);
fail:
    export_free(x);
    ndx_buf_free(&b);
    return st;
}
