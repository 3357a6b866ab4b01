/*
 * buf.c - growable buffers, varints, JSON string escaping and an arena.
 */
#include "buf.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
ndx_buf_init(ndx_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
ndx_buf_free(ndx_buf *b)
{
    if (!b)
        return;
    free(b->data);
    ndx_buf_init(b);
}

ndx_status
ndx_buf_reserve(ndx_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t cap;
    unsigned char *p;

    if (need <= b->cap)
        return NDX_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return ndx_error(NDX_ENOMEM, "out of memory (buffer of %zu bytes)",
                         cap);
    b->data = p;
    b->cap = cap;
    return NDX_OK;
}

ndx_status
ndx_buf_put(ndx_buf *b, const void *p, size_t len)
{
    ndx_status st = ndx_buf_reserve(b, len);

    if (st)
        return st;
    if (len)
        memcpy(b->data + b->len, p, len);
    b->len += len;
    return NDX_OK;
}

ndx_status
ndx_buf_putc(ndx_buf *b, int c)
{
    unsigned char ch = (unsigned char)c;

    return ndx_buf_put(b, &ch, 1);
}

ndx_status
ndx_buf_puts(ndx_buf *b, const char *s)
{
    return ndx_buf_put(b, s, strlen(s));
}

ndx_status
ndx_buf_printf(ndx_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    ndx_status st;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ndx_error(NDX_EINVAL, "bad format string");
    st = ndx_buf_reserve(b, (size_t)n + 1);
    if (st)
        return st;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return NDX_OK;
}

ndx_status
ndx_buf_put_u32le(ndx_buf *b, uint32_t v)
{
    unsigned char p[4];

    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
    return ndx_buf_put(b, p, 4);
}

ndx_status
ndx_buf_put_u64le(ndx_buf *b, uint64_t v)
{
    ndx_status st = ndx_buf_put_u32le(b, (uint32_t)v);

    return st ? st : ndx_buf_put_u32le(b, (uint32_t)(v >> 32));
}

ndx_status
ndx_buf_put_varint_slow(ndx_buf *b, uint64_t v)
{
    unsigned char p[10];

    return ndx_buf_put(b, p, ndx_varint_encode(p, v));
}

ndx_status
ndx_buf_put_json_str(ndx_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;
    ndx_status st = NDX_OK;

    while (p < end && !st) {
        unsigned c = *p;
        size_t n;

        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            st = ndx_buf_put(b, e, 2);
            p++;
        } else if (c < 0x20) {
            char e[8];
            switch (c) {
            case '\n': st = ndx_buf_put(b, "\\n", 2); break;
            case '\t': st = ndx_buf_put(b, "\\t", 2); break;
            case '\r': st = ndx_buf_put(b, "\\r", 2); break;
            default:
                snprintf(e, sizeof e, "\\u%04x", c);
                st = ndx_buf_put(b, e, 6);
            }
            p++;
        } else if ((n = ndx_utf8_len(p, (size_t)(end - p))) == 0) {
            st = ndx_buf_put(b, "\xEF\xBF\xBD", 3);
            p++;
        } else {
            st = ndx_buf_put(b, p, n);
            p += n;
        }
    }
    return st;
}

ndx_status
ndx_buf_cstr(ndx_buf *b)
{
    ndx_status st = ndx_buf_reserve(b, 1);

    if (st)
        return st;
    b->data[b->len] = '\0';
    return NDX_OK;
}

/* ---- arena -------------------------------------------------------------- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_chunk;

struct ndx_arena {
    arena_chunk *head;
};

ndx_arena *
ndx_arena_new(void)
{
    return calloc(1, sizeof(ndx_arena));
}

void
ndx_arena_free(ndx_arena *a)
{
    arena_chunk *c, *next;

    if (!a)
        return;
    for (c = a->head; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *
ndx_arena_alloc(ndx_arena *a, size_t len)
{
    void *p = ndx_arena_alloc_raw(a, len);

    if (p)
        memset(p, 0, len);
    return p;
}

void *
ndx_arena_alloc_raw(ndx_arena *a, size_t len)
{
    arena_chunk *c = a->head;
    void *p;

    len = (len + 15) & ~(size_t)15;
    if (!c || c->cap - c->used < len) {
        size_t cap = len > 16384 ? len : 16384;
        c = malloc(sizeof(arena_chunk) + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    p = c->data + c->used;
    c->used += len;
    return p;
}

char *
ndx_arena_strdup(ndx_arena *a, const char *s, size_t len)
{
    char *p = ndx_arena_alloc(a, len + 1);

    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

double
ndx_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int
ndx_grow_to(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
    size_t ncap = *cap ? *cap : first;
    void *np;

    if (need <= *cap)
        return 0;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (size && ncap > SIZE_MAX / size)
        return -1;
    np = realloc(*p, ncap * size);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}
