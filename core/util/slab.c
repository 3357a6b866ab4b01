/*
 * slab.c - growable buffers carved from huge-page chunks (see slab.h).
 */
#include "slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "newsdex/status.h"

#define HUGE_PAGE ((size_t)2 << 20)
#define SMALL_PAGE ((size_t)4096)

static size_t
huge_len(size_t bytes)
{
    size_t unit = bytes >= HUGE_PAGE ? HUGE_PAGE : SMALL_PAGE;

    return (bytes + unit - 1) / unit * unit;
}

void *
ndx_huge_alloc(size_t bytes)
{
    size_t len = huge_len(bytes ? bytes : 1), extra = 0, head;
    unsigned char *p;

    if (len >= HUGE_PAGE)
        extra = HUGE_PAGE; /* room to start on a huge page's boundary */
    p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (extra) {
        head = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
        if (head)
            munmap(p, head);
        if (extra - head)
            munmap(p + head + len, extra - head);
        p += head;
#ifdef MADV_HUGEPAGE
        /* Advice only: without transparent huge pages the map stays. */
        (void)madvise(p, len, MADV_HUGEPAGE);
#endif
    }
    return p;
}

void
ndx_huge_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, huge_len(bytes ? bytes : 1));
}

void
ndx_slab_init(ndx_slab *s)
{
    memset(s, 0, sizeof *s);
}

void
ndx_slab_free(ndx_slab *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->chunk_count; i++)
        ndx_huge_free(s->chunks[i], NDX_SLAB_CHUNK);
    free(s->chunks);
    /* Large blocks belong to their buffers, which the caller lets go of
     * with ndx_slab_release before this (or leaks). */
    ndx_slab_init(s);
}

/* The class of a block of cap bytes (a power of two from NDX_SLAB_MIN). */
static unsigned
class_of(size_t cap)
{
    unsigned k = 0;

    while (((size_t)NDX_SLAB_MIN << k) < cap)
        k++;
    return k;
}

static void
push_free(ndx_slab *s, unsigned k, void *block)
{
    *(void **)block = s->free_list[k];
    s->free_list[k] = block;
}

/* A block of class k: from its free list, from the current chunk, or from
 * a new chunk (what the old one has left goes to the free lists). */
static void *
block_get(ndx_slab *s, unsigned k)
{
    size_t size = (size_t)NDX_SLAB_MIN << k;
    void *p = s->free_list[k];

    if (p) {
        s->free_list[k] = *(void **)p;
        return p;
    }
    if (s->left < size) {
        unsigned char *c;
        unsigned j;

        for (j = NDX_SLAB_CLASSES; j-- > 0;)
            while (s->left >= ((size_t)NDX_SLAB_MIN << j)) {
                push_free(s, j, s->next);
                s->next += (size_t)NDX_SLAB_MIN << j;
                s->left -= (size_t)NDX_SLAB_MIN << j;
            }
        if (s->chunk_count == s->chunk_cap) {
            size_t cap = s->chunk_cap ? s->chunk_cap * 2 : 16;
            unsigned char **nc = realloc(s->chunks, cap * sizeof *nc);

            if (!nc)
                return NULL;
            s->chunks = nc;
            s->chunk_cap = cap;
        }
        if (!(c = ndx_huge_alloc(NDX_SLAB_CHUNK)))
            return NULL;
        s->chunks[s->chunk_count++] = c;
        s->next = c;
        s->left = NDX_SLAB_CHUNK;
    }
    p = s->next;
    s->next += size;
    s->left -= size;
    return p;
}

ndx_status
ndx_slab_reserve_slow(ndx_slab *s, ndx_buf *b, size_t extra)
{
    size_t need = b->len + extra, cap = b->cap ? b->cap : NDX_SLAB_MIN;
    unsigned char *p;

    if (need < b->len)
        return ndx_error(NDX_ENOMEM, "out of memory (list of %zu bytes)",
                         b->len);
    if (need <= b->cap)
        return NDX_OK;
    while (cap < need)
        cap *= 2;
    if (cap > NDX_SLAB_MAX) {
        if (b->cap > NDX_SLAB_MAX) {
            if (!(p = realloc(b->data, cap)))
                goto nomem;
            s->large_bytes += cap - b->cap;
            b->data = p;
            b->cap = cap;
            return NDX_OK;
        }
        if (!(p = malloc(cap)))
            goto nomem;
        s->large_bytes += cap;
    } else if (!(p = block_get(s, class_of(cap)))) {
        goto nomem;
    }
    if (b->len)
        memcpy(p, b->data, b->len);
    if (b->data)
        push_free(s, class_of(b->cap), b->data);
    b->data = p;
    b->cap = cap;
    return NDX_OK;
nomem:
    return ndx_error(NDX_ENOMEM, "out of memory (list of %zu bytes)", cap);
}

void
ndx_slab_release(ndx_slab *s, ndx_buf *b)
{
    if (b->data) {
        if (b->cap > NDX_SLAB_MAX) {
            free(b->data);
            s->large_bytes -= b->cap;
        } else {
            push_free(s, class_of(b->cap), b->data);
        }
    }
    ndx_buf_init(b);
}

size_t
ndx_slab_memory(const ndx_slab *s)
{
    return s->chunk_count * (size_t)NDX_SLAB_CHUNK + s->large_bytes;
}
