/*
 * snippet.c - a short highlighted extract of a passage for a result list.
 *
 * The passage is analyzed again with the index's analyzer, so that a token
 * matches exactly when the query would find it: its surface form or its
 * "Z" stem is in the query's highlight list, or its surface form starts
 * with a "prefix*" entry.  Matches count per query word (tokens with the
 * same stem are one word).  The extract is the window of at most max_len
 * bytes with the most distinct query words (then the most matches, then
 * the earliest), widened around its matches so that some text stands
 * before the first one; it starts and ends on word boundaries, "… " and
 * " …" mark cut text, runs of white space become one space, and matches
 * are wrapped in <b>..</b>.  Cuts fall only between tokens or on white
 * space, so a UTF-8 sequence is never split.  Escaping for HTML, JSON or
 * a terminal is left to the layer that prints.
 */
#include <stdlib.h>
#include <string.h>

#include "newsdex/query.h"
#include "util/buf.h"
#include "util/text.h"

#define ELLIPSIS "\xE2\x80\xA6"
/* Punctuation glued to the last word ("talks.", "Kyiv,\"") is kept even
 * past max_len when it is this short. */
#define TAIL_PUNCT 8

typedef struct stok {
    uint32_t off, end; /* bytes in the passage */
    long key;          /* highlight entry matched, or -1 */
} stok;

typedef struct sctx {
    const ndx_query *q;
    stok *v;
    size_t n, cap;
} sctx;

/* Which highlight entry a token matches: a stem first (so that "talks" and
 * "talk" count as one word), then the surface form, then a prefix. */
static long
match_key(const ndx_query *q, const ndx_token *tok)
{
    long surface = -1, prefix = -1;
    size_t i;

    if (!q)
        return -1;
    for (i = 0; i < q->highlight_count; i++) {
        const char *h = q->highlight[i];
        size_t hl = strlen(h);

        if (h[0] == NDX_PREFIX_STEM) {
            if (hl - 1 == tok->stem_len &&
                memcmp(h + 1, tok->stem, tok->stem_len) == 0)
                return (long)i;
        } else if (hl > 0 && h[hl - 1] == '*') {
            if (prefix < 0 && hl - 1 <= tok->text_len &&
                memcmp(h, tok->text, hl - 1) == 0)
                prefix = (long)i;
        } else if (surface < 0 && hl == tok->text_len &&
                   memcmp(h, tok->text, hl) == 0) {
            surface = (long)i;
        }
    }
    return surface >= 0 ? surface : prefix;
}

static int
collect(void *ctx, const ndx_token *tok)
{
    sctx *c = ctx;

    if (ndx_grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v, 64))
        return NDX_ENOMEM;
    c->v[c->n].off = tok->byte_off;
    c->v[c->n].end = tok->byte_off + tok->byte_len;
    c->v[c->n].key = match_key(c->q, tok);
    c->n++;
    return 0;
}

/* Largest cut <= at that does not split a UTF-8 sequence. */
static size_t
utf8_back(const char *s, size_t at, size_t lo)
{
    while (at > lo && ((unsigned char)s[at] & 0xC0) == 0x80)
        at--;
    return at;
}

/*
 * Finds the tokens [*first, *last] of the best window: the one with the
 * most distinct keys, then the most matches, then the earliest.
 */
static int
best_window(const stok *t, size_t n, size_t max_len, size_t key_count,
            size_t *first, size_t *last)
{
    size_t *count = calloc(key_count + 1, sizeof *count);
    size_t i, j = 0, distinct = 0, total = 0;
    size_t best_d = 0, best_t = 0;

    if (!count)
        return -1;
    *first = 0;
    *last = 0;
    for (i = 0; i < n; i++) {
        /* window [i, j): extend j while it fits (token i always counts) */
        while (j < n && (j == i || t[j].end - t[i].off <= max_len)) {
            if (t[j].key >= 0) {
                if (count[t[j].key]++ == 0)
                    distinct++;
                total++;
            }
            j++;
        }
        if (distinct > best_d || (distinct == best_d && total > best_t)) {
            best_d = distinct;
            best_t = total;
            *first = i;
            *last = j - 1;
        }
        if (t[i].key >= 0) {
            if (--count[t[i].key] == 0)
                distinct--;
            total--;
        }
    }
    free(count);
    return 0;
}

static ndx_status
emit(ndx_buf *b, const char *text, const stok *t, size_t n, size_t k,
     size_t start, size_t end)
{
    size_t p = start;
    int space = 0;
    ndx_status st = NDX_OK;

    while (p < end && st == NDX_OK) {
        while (k < n && t[k].end <= p)
            k++;
        if (k < n && t[k].off == p && t[k].key >= 0) {
            size_t e = t[k].end < end ? t[k].end : end;
            if ((st = ndx_buf_puts(b, "<b>")) != NDX_OK ||
                (st = ndx_buf_put(b, text + p, e - p)) != NDX_OK ||
                (st = ndx_buf_puts(b, "</b>")) != NDX_OK)
                break;
            p = e;
            space = 0;
            continue;
        }
        if (ndx_is_space((unsigned char)text[p])) {
            if (!space)
                st = ndx_buf_putc(b, ' ');
            space = 1;
        } else {
            st = ndx_buf_putc(b, (unsigned char)text[p]);
            space = 0;
        }
        p++;
    }
    return st;
}

char *
ndx_snippet_make(ndx_analyzer *a, const ndx_query *q, const char *text,
                 size_t text_len, size_t max_len)
{
    sctx c = {q, NULL, 0, 0};
    ndx_buf b;
    size_t first = 0, last = 0, si, ei, start, end, cs, ce, budget, left;
    int cut_left = 0, cut_right = 0, giant = 0;
    char *out = NULL;

    ndx_buf_init(&b);
    if (!text)
        text_len = 0;
    if (max_len == 0)
        max_len = text_len;
    if (text_len > 0 &&
        ndx_analyze(a, text, text_len, 0, collect, &c, NULL) != NDX_OK)
        goto fail;

    if (c.n == 0) {
        /* nothing to match: the start of the text */
        start = 0;
        end = text_len;
        if (end > max_len) {
            end = utf8_back(text, max_len, 0);
            while (end > 0 && !ndx_is_space((unsigned char)text[end - 1]) &&
                   end > max_len / 2)
                end--;
            if (end <= max_len / 2)
                end = utf8_back(text, max_len, 0);
            cut_right = 1;
        }
        ei = si = 0;
        goto write;
    }
    if (text_len <= max_len) {
        start = 0;
        end = text_len;
        si = ei = 0;
        goto write;
    }
    if (best_window(c.v, c.n, max_len, q ? q->highlight_count : 0, &first,
                    &last) != 0)
        goto fail;

    /* the matches inside the window, or its first token */
    cs = c.v[first].off;
    ce = c.v[first].end;
    for (si = first; si <= last; si++)
        if (c.v[si].key >= 0)
            break;
    if (si <= last) {
        cs = c.v[si].off;
        for (ei = last; ei > si && c.v[ei].key < 0; ei--)
            ;
        ce = c.v[ei].end;
    }
    /* widen: up to half the spare room before, the rest after */
    budget = ce - cs < max_len ? max_len - (ce - cs) : 0;
    left = budget / 2;
    if (c.v[c.n - 1].end - ce < budget - left)
        left = budget - (c.v[c.n - 1].end - ce);
    for (si = 0; si < c.n && c.v[si].off < cs &&
                 (size_t)(cs - c.v[si].off) > left;
         si++)
        ;
    for (ei = si; ei + 1 < c.n && c.v[ei + 1].end - c.v[si].off <= max_len;
         ei++)
        ;
    start = c.v[si].off;
    end = c.v[ei].end;
    if (end - start > max_len) {
        /* one token longer than max_len */
        end = utf8_back(text, start + max_len, start);
        if (end == start)
            end = c.v[ei].end;
        cut_right = 1;
        giant = 1;
    }
    cut_left = si > 0;
    if (si == 0 && end <= max_len)
        start = 0;
    if (ei + 1 < c.n) {
        cut_right = 1;
    } else if (!cut_right && text_len - start <= max_len + TAIL_PUNCT) {
        end = text_len;
    }
    if (!giant) {
        /* keep punctuation glued to the last word */
        size_t lim = ei + 1 < c.n ? c.v[ei + 1].off : text_len, e = end;
        while (e < lim && e - end < TAIL_PUNCT &&
               !ndx_is_space((unsigned char)text[e]))
            e++;
        if (e == lim || ndx_is_space((unsigned char)text[e]))
            end = e;
    }

write:
    while (start < end && ndx_is_space((unsigned char)text[start]))
        start++;
    while (end > start && ndx_is_space((unsigned char)text[end - 1]))
        end--;
    if (cut_left && ndx_buf_puts(&b, ELLIPSIS " ") != NDX_OK)
        goto fail;
    if (emit(&b, text, c.v, c.n, si, start, end) != NDX_OK)
        goto fail;
    if (cut_right && ndx_buf_puts(&b, " " ELLIPSIS) != NDX_OK)
        goto fail;
    if (ndx_buf_cstr(&b) != NDX_OK)
        goto fail;
    out = (char *)b.data;
    free(c.v);
    return out;

fail:
    free(c.v);
    ndx_buf_free(&b);
    return NULL;
}
