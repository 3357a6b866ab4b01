/*
 * buf.h - growable byte buffers, varints and a bump arena.
 *
 * Small pieces every module uses.  A buffer owns its bytes; on allocation
 * failure the functions return NDX_ENOMEM and leave the buffer as it was.
 * Varints are LEB128 (7 bits a byte, low first, high bit = more).
 */
#ifndef NDX_UTIL_BUF_H
#define NDX_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/status.h"

typedef struct ndx_buf {
    unsigned char *data; /* owned */
    size_t len;          /* bytes used */
    size_t cap;          /* bytes allocated */
} ndx_buf;

void ndx_buf_init(ndx_buf *b);
void ndx_buf_free(ndx_buf *b);
ndx_status ndx_buf_reserve(ndx_buf *b, size_t extra);

/* ndx_grow when the array must grow. */
int ndx_grow_to(void **p, size_t *cap, size_t need, size_t size,
                size_t first);

/* Grows the array *p of *cap elements of size bytes to hold at least need,
 * doubling from first (or from *cap); *p and *cap change only on success.
 * 0, or -1 when out of memory (or when the size would overflow).  Inline:
 * the inverter and the analyzer call it for every term and posting, and
 * nearly always the array has room. */
static inline int
ndx_grow(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
    return need <= *cap ? 0 : ndx_grow_to(p, cap, need, size, first);
}
ndx_status ndx_buf_put(ndx_buf *b, const void *p, size_t len);
ndx_status ndx_buf_putc(ndx_buf *b, int c);
ndx_status ndx_buf_puts(ndx_buf *b, const char *s);
ndx_status ndx_buf_printf(ndx_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
ndx_status ndx_buf_put_u32le(ndx_buf *b, uint32_t v);
ndx_status ndx_buf_put_u64le(ndx_buf *b, uint64_t v);
ndx_status ndx_buf_put_varint_slow(ndx_buf *b, uint64_t v);

/* Writes v as a varint at p (room for 10 bytes); returns its length. */
static inline size_t
ndx_varint_encode(unsigned char *p, uint64_t v)
{
    unsigned char *q = p;

    while (v >= 0x80) {
        *q++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *q++ = (unsigned char)v;
    return (size_t)(q - p);
}

/* Appends v as a varint; inline because postings are written a byte or
 * two at a time. */
static inline ndx_status
ndx_buf_put_varint(ndx_buf *b, uint64_t v)
{
    if (b->cap - b->len < 11)
        return ndx_buf_put_varint_slow(b, v);
    b->len += ndx_varint_encode(b->data + b->len, v);
    return NDX_OK;
}
/* Appends s as the body of a JSON string (no quotes), escaping as needed;
 * invalid UTF-8 becomes U+FFFD. */
ndx_status ndx_buf_put_json_str(ndx_buf *b, const char *s, size_t len);
/* Makes data a NUL-terminated string (the NUL is not counted in len). */
ndx_status ndx_buf_cstr(ndx_buf *b);

/* Decodes a varint from [*p, end); returns 0 and advances *p, or -1 when
 * the bytes end early or the value overflows 64 bits.  Inline: it is the
 * inner loop of every postings cursor. */
static inline int
ndx_varint_get(const unsigned char **pp, const unsigned char *end,
               uint64_t *v)
{
    const unsigned char *p = *pp;
    uint64_t r = 0;
    unsigned shift = 0;

    if (p < end && !(*p & 0x80)) {
        *v = *p;
        *pp = p + 1;
        return 0;
    }
    while (p < end) {
        unsigned c = *p++;

        if (shift == 63 && (c & 0x7E))
            return -1;
        r |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *v = r;
            *pp = p;
            return 0;
        }
        shift += 7;
        if (shift > 63)
            return -1;
    }
    return -1;
}

static inline uint32_t
ndx_get_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t
ndx_get_u64le(const unsigned char *p)
{
    return (uint64_t)ndx_get_u32le(p) | (uint64_t)ndx_get_u32le(p + 4) << 32;
}

/* Overwrites 4 bytes at p with v, little-endian. */
static inline void
ndx_set_u32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Overwrites 8 bytes at p with v, little-endian. */
static inline void
ndx_set_u64le(unsigned char *p, uint64_t v)
{
    ndx_set_u32le(p, (uint32_t)v);
    ndx_set_u32le(p + 4, (uint32_t)(v >> 32));
}

/* A bump allocator: many small allocations freed in one call. */
typedef struct ndx_arena ndx_arena;
ndx_arena *ndx_arena_new(void);
void ndx_arena_free(ndx_arena *a);
void *ndx_arena_alloc(ndx_arena *a, size_t len);   /* 16-byte aligned, zeroed */
void *ndx_arena_alloc_raw(ndx_arena *a, size_t len); /* the same, not zeroed */
char *ndx_arena_strdup(ndx_arena *a, const char *s, size_t len);

/* Monotonic time in milliseconds. */
double ndx_now_ms(void);

#endif
