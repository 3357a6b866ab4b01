/*
 * slab.h - growable buffers carved from large huge-page chunks, for the
 * hundreds of thousands of small lists a segment writer appends to.
 *
 * Each term's postings grow a few bytes at a time, and the terms of a
 * passage are scattered over all of them: every append is a cache miss,
 * and with buffers spread over a heap of small pages a TLB miss too (on a
 * virtual machine, a walk of two page tables).  The slab keeps these
 * buffers in 4 MB chunks that the kernel is asked to back with 2 MB pages
 * (madvise MADV_HUGEPAGE; where transparent huge pages are off, they are
 * ordinary pages and only the misses' cost stays as it was).  A buffer
 * grows by doubling into a block of the next size class; the block it
 * leaves goes to that class's free list for the next buffer of its size.
 * Blocks past NDX_SLAB_MAX bytes are ordinary heap memory.  Everything is
 * let go at once by ndx_slab_free.  The buffers are ndx_buf records whose
 * data the slab owns: never ndx_buf_free or ndx_buf_reserve them.
 */
#ifndef NDX_UTIL_SLAB_H
#define NDX_UTIL_SLAB_H

#include <stddef.h>

#include "util/buf.h"

#define NDX_SLAB_MIN 16                 /* bytes of the smallest block */
#define NDX_SLAB_CLASSES 14             /* 16 B to 128 KB, by doubling */
#define NDX_SLAB_MAX (NDX_SLAB_MIN << (NDX_SLAB_CLASSES - 1))
#define NDX_SLAB_CHUNK (4u << 20)       /* bytes mapped at once */

typedef struct ndx_slab {
    unsigned char **chunks;   /* mapped chunks */
    size_t chunk_count, chunk_cap;
    unsigned char *next;      /* unused bytes of the last chunk */
    size_t left;              /* their count */
    void *free_list[NDX_SLAB_CLASSES]; /* blocks given back, per class */
    size_t large_bytes;       /* heap bytes of blocks past NDX_SLAB_MAX */
} ndx_slab;

void ndx_slab_init(ndx_slab *s);
/* Lets go of every chunk and every large block: the buffers made from s
 * are then invalid (the caller forgets them). */
void ndx_slab_free(ndx_slab *s);

/* Makes room in b (data from s, or NULL) for extra more bytes, moving its
 * bytes into a larger block when needed.  NDX_OK or NDX_ENOMEM (b is then
 * as it was). */
ndx_status ndx_slab_reserve_slow(ndx_slab *s, ndx_buf *b, size_t extra);
static inline ndx_status
ndx_slab_reserve(ndx_slab *s, ndx_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return NDX_OK;
    return ndx_slab_reserve_slow(s, b, extra);
}

/* Appends v to b as a varint (see buf.h). */
static inline ndx_status
ndx_slab_put_varint(ndx_slab *s, ndx_buf *b, uint64_t v)
{
    ndx_status st;

    if (b->cap - b->len < 10 && (st = ndx_slab_reserve_slow(s, b, 10)))
        return st;
    b->len += ndx_varint_encode(b->data + b->len, v);
    return NDX_OK;
}

/* Gives b's block back to s (for the next buffer of its size) and empties
 * b. */
void ndx_slab_release(ndx_slab *s, ndx_buf *b);

/* Bytes of memory the slab holds: its chunks and its large blocks. */
size_t ndx_slab_memory(const ndx_slab *s);

/* Memory for a large array that is read at random (a hash table): mapped
 * and asked to be backed by huge pages, zeroed.  NULL when out of memory.
 * Free with ndx_huge_free and the same byte count. */
void *ndx_huge_alloc(size_t bytes);
void ndx_huge_free(void *p, size_t bytes);

#endif
