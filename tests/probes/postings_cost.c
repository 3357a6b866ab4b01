/* ndx-postings-cost: what a segment's postings lists cost, and what other
 * encodings of the same postings would cost.
 *
 *   ndx-postings-cost SEGMENT...
 *
 * Decodes every postings list of each segment file given (an index's
 * seg-*.ndx; a list that several terms share is counted once) and prints:
 *
 *   postings        lists, postings, and their bytes in POSTINGS
 *   gaps            the gaps as written (each block's gaps at its widest
 *                   gap's width) and as PFOR would write them (each block
 *                   at the width that costs least when the gaps wider than
 *                   it are written apart, 8 bits of index and the rest of
 *                   the widest width each, plus a byte of width)
 *   wdf             the wdfs - 1 likewise, and as a bit per posting
 *                   (wdf > 1) with the wdfs - 2 of those packed at their
 *                   widest width
 *   surface         the lists of surface forms (terms without a prefix)
 *                   whose stem ('Z' + the Snowball stem) has a list of its
 *                   own: their gaps as written, and as gaps between their
 *                   postings' ranks in the stem's list (at each block's
 *                   widest width)
 *
 * Estimates in bytes, from the decoded postings; white-box (it opens
 * segment files directly), hence under tests/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "native/segment.h"
#include "util/hash.h"

typedef struct cost {
    double lists, postings, bytes;
    double gaps_max, gaps_pfor, wdf_max, wdf_pfor, wdf_map;
    double surf_postings, surf_gaps, surf_ranks;
} cost;

static unsigned
bits_of(uint32_t v)
{
    return v ? 32u - (unsigned)__builtin_clz(v) : 0u;
}

/* Bits of n values at their widest width, plus a byte of width. */
static double
bits_max(const uint32_t *v, uint32_t n)
{
    unsigned w = 0;
    uint32_t i;

    for (i = 0; i < n; i++)
        if (bits_of(v[i]) > w)
            w = bits_of(v[i]);
    return (double)n * w + 8;
}

/* Bits of n values with PFOR: the cheapest width b, each value wider
 * than b written apart (8 bits of index, the widest width - b bits). */
static double
bits_pfor(const uint32_t *v, uint32_t n)
{
    unsigned w = 0, b;
    uint32_t i;
    double best = 0;

    for (i = 0; i < n; i++)
        if (bits_of(v[i]) > w)
            w = bits_of(v[i]);
    for (b = 0; b <= w; b++) {
        double c = (double)n * b + 8;

        for (i = 0; i < n; i++)
            if (bits_of(v[i]) > b)
                c += 8 + (w - b);
        if (b == 0 || c < best)
            best = c;
    }
    return best;
}

/* Bits of n wdfs - 1: a bit each, then those above 0 less one packed at
 * their widest width (nothing when every wdf is 1). */
static double
bits_map(const uint32_t *v, uint32_t n)
{
    unsigned w = 0;
    uint32_t i, more = 0;

    for (i = 0; i < n; i++)
        if (v[i]) {
            more++;
            if (bits_of(v[i] - 1) > w)
                w = bits_of(v[i] - 1);
        }
    return more ? (double)n + (double)more * w + 8 : 8;
}

/* The ids of a list, in *n (malloc'd; NULL when out of memory). */
static uint32_t *
list_ids(const ndx_seg *s, const ndx_seg_term *t, uint32_t *n,
         uint32_t **wdfs)
{
    uint32_t *ids = malloc((t->df + 1) * sizeof *ids);
    uint32_t *w = malloc((t->df + 1) * sizeof *w);
    ndx_pcur c;
    uint32_t k = 0;

    if (!ids || !w) {
        free(ids);
        free(w);
        return NULL;
    }
    ndx_pcur_init(&c, s, t);
    for (; c.id != NDX_PID_END && k < t->df; ndx_pcur_next(&c)) {
        ids[k] = c.id;
        w[k++] = ndx_pcur_wdf(&c) - 1;
    }
    *n = k;
    *wdfs = w;
    return ids;
}

/* Bits of the gaps of n ascending values in blocks of NDX_SEG_BLOCK,
 * each block's first value apart (as the skip entries carry it), by f. */
static double
gap_bits(const uint32_t *v, uint32_t n,
         double (*f)(const uint32_t *, uint32_t))
{
    uint32_t g[NDX_SEG_BLOCK];
    uint32_t i, m;
    double b = 0;

    for (i = 0; i < n; i += m) {
        m = n - i < NDX_SEG_BLOCK ? n - i : NDX_SEG_BLOCK;
        for (uint32_t k = 1; k < m; k++)
            g[k - 1] = v[i + k] - v[i + k - 1] - 1;
        b += f(g, m - 1);
    }
    return b;
}

static double
wdf_bits(const uint32_t *w, uint32_t n,
         double (*f)(const uint32_t *, uint32_t))
{
    uint32_t i, m;
    double b = 0;

    for (i = 0; i < n; i += m) {
        m = n - i < NDX_SEG_BLOCK ? n - i : NDX_SEG_BLOCK;
        b += f(w + i, m);
    }
    return b;
}

/* The surface form's list against its stem's: gaps as they are and as
 * gaps between ranks in the stem's list. */
static void
surface_cost(const ndx_seg *s, struct sb_stemmer *st, const char *term,
             size_t len, const ndx_seg_term *t, const uint32_t *ids,
             uint32_t n, cost *c)
{
    char z[NDX_SEG_TERM_MAX + 1];
    const sb_symbol *sy;
    ndx_seg_term zt;
    uint32_t *zids, *zw, zn, *ranks, i, j = 0;
    int sl;

    if (!len || term[0] < '0' || (term[0] >= 'A' && term[0] <= 'Z'))
        return; /* a prefixed term */
    sy = sb_stemmer_stem(st, (const sb_symbol *)term, (int)len);
    sl = sy ? sb_stemmer_length(st) : 0;
    if (sl <= 0 || (size_t)sl >= sizeof z - 1)
        return;
    z[0] = 'Z';
    memcpy(z + 1, sy, (size_t)sl);
    if (ndx_seg_lookup(s, z, (size_t)sl + 1, &zt) != 1 ||
        zt.post_off == t->post_off)
        return; /* no stem, or the same list */
    if (!(zids = list_ids(s, &zt, &zn, &zw)))
        return;
    ranks = malloc((n + 1) * sizeof *ranks);
    if (ranks) {
        for (i = 0; i < n; i++) {
            while (j < zn && zids[j] < ids[i])
                j++;
            ranks[i] = j;
        }
        c->surf_postings += n;
        c->surf_gaps += gap_bits(ids, n, bits_max) / 8;
        c->surf_ranks += gap_bits(ranks, n, bits_max) / 8;
    }
    free(ranks);
    free(zids);
    free(zw);
}

static int
cost_segment(const char *path, struct sb_stemmer *st, cost *c)
{
    ndx_seg *s;
    ndx_seg_walk w;
    ndx_seg_term t;
    ndx_htab seen; /* offsets + 1 of the lists counted */
    int r, fresh, oom = 0;

    if (ndx_seg_open(&s, path, 1) != NDX_OK) {
        fprintf(stderr, "ndx-postings-cost: %s: %s\n", path, ndx_errmsg());
        return -1;
    }
    ndx_htab_init(&seen, sizeof(uint64_t), 1024, 50);
    ndx_seg_walk_start(&w, s);
    while ((r = ndx_seg_walk_next(&w, &t)) == 1) {
        uint32_t n, *wdfs, *ids;

        /* A list shared by several terms (a stem and its one surface
         * form) is counted once. */
        if (!ndx_htab_put(&seen, t.post_off + 1, &fresh) ||
            !(ids = list_ids(s, &t, &n, &wdfs))) {
            fprintf(stderr, "ndx-postings-cost: out of memory\n");
            oom = 1;
            break;
        }
        if (fresh) {
            c->lists++;
            c->postings += n;
            c->bytes += (double)t.post_len;
            c->gaps_max += gap_bits(ids, n, bits_max) / 8;
            c->gaps_pfor += gap_bits(ids, n, bits_pfor) / 8;
            c->wdf_max += wdf_bits(wdfs, n, bits_max) / 8;
            c->wdf_pfor += wdf_bits(wdfs, n, bits_pfor) / 8;
            c->wdf_map += wdf_bits(wdfs, n, bits_map) / 8;
        }
        surface_cost(s, st, w.term, w.len, &t, ids, n, c);
        free(ids);
        free(wdfs);
    }
    ndx_seg_close(s);
    ndx_htab_free(&seen);
    if (oom)
        return -1;
    if (r < 0) {
        fprintf(stderr, "ndx-postings-cost: %s: %s\n", path, ndx_errmsg());
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct sb_stemmer *st;
    cost c;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: ndx-postings-cost SEGMENT...\n");
        return 2;
    }
    if (!(st = sb_stemmer_new("english", "UTF_8"))) {
        fprintf(stderr, "ndx-postings-cost: no English stemmer\n");
        return 1;
    }
    memset(&c, 0, sizeof c);
    for (i = 1; i < argc; i++)
        if (cost_segment(argv[i], st, &c) != 0) {
            sb_stemmer_delete(st);
            return 1;
        }
    sb_stemmer_delete(st);
    printf("postings  %.0f lists, %.0f postings, %.0f bytes\n", c.lists,
           c.postings, c.bytes);
    printf("gaps      %.0f bytes as written, %.0f with PFOR\n", c.gaps_max,
           c.gaps_pfor);
    printf("wdf       %.0f bytes as written, %.0f with PFOR, %.0f as a map "
           "of wdf > 1\n", c.wdf_max, c.wdf_pfor, c.wdf_map);
    printf("surface   %.0f postings of surface forms with a stem list: gaps "
           "%.0f bytes as written, %.0f as ranks in the stem's list\n",
           c.surf_postings, c.surf_gaps, c.surf_ranks);
    return 0;
}
