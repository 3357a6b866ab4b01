/*
 * export.c - CSV of every matching article of a query.
 *
 * The rows come from ordinary searches, a page of EXPORT_PAGE articles at
 * a time in the order asked for (relevance, newest, oldest), so that the
 * memory used stays that of one page however many articles match.  The
 * columns and quoting are render.c's.
 */
#include "export.h"

#include "render.h"

/* Articles a page.  Each page repeats the walk over the matches, so
 * bigger pages cost fewer walks and more memory: 2,000 keeps a page near
 * a megabyte of passage text. */
#define EXPORT_PAGE 2000

ndx_status
export_csv(ndx_index *ix, const char *text, const ndx_search_opts *o,
           ndx_status (*emit)(void *ctx, const ndx_buf *b), void *ctx,
           size_t *err_col, int *truncated)
{
    ndx_search_opts po = *o;
    ndx_results *r = NULL;
    ndx_buf b;
    ndx_status st;
    size_t done = 0;

    *truncated = 0;
    ndx_buf_init(&b);
    po.group = NDX_GROUP_ARTICLE;
    po.snippets = 0;
    po.facets = 0;
    if ((st = render_csv_header(&b)))
        goto fail;
    for (;;) {
        po.offset = done;
        po.k = EXPORT_PAGE;
        if (done + po.k > EXPORT_MAX_ROWS)
            po.k = EXPORT_MAX_ROWS - done;
        if ((st = ndx_index_search(ix, text, &po, &r, err_col)) ||
            (st = render_csv_rows(&b, r)) || (st = emit(ctx, &b)))
            goto fail;
        b.len = 0;
        done += r->count;
        if (r->count < po.k || done >= r->total) {
            ndx_results_free(r);
            r = NULL;
            break;
        }
        ndx_results_free(r);
        r = NULL;
        if (done >= EXPORT_MAX_ROWS) {
            *truncated = 1;
            break;
        }
    }
fail:
    ndx_results_free(r);
    ndx_buf_free(&b);
    return st;
}
