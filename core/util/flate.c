/*
 * flate.c - raw deflate streams of stored and fixed-code blocks decoded
 * against a dictionary read in place (see flate.h).
 *
 * Bits are read from the low end of a 64-bit buffer, refilled eight bytes
 * at a time while eight remain, else one byte at a time; past the end of
 * the input the refill counts the bytes it would have read (`over`) and
 * shifts in zeros, and a block that ends inside them makes the stream
 * damaged.  A symbol with its extra bits takes at most 32 bits (9 for the
 * literal/length code, 5 extra, 5 for the distance code, 13 extra), so
 * one refill per symbol is enough.
 *
 * The fixed codes (RFC 1951, 3.2.6): literal/length symbols 0-143 have
 * the 8-bit codes 00110000-10111111, 144-255 the 9-bit codes
 * 110010000-111111111, 256-279 the 7-bit codes 0000000-0010111, 280-287
 * the 8-bit codes 11000000-11000111; distances 0-31 have 5-bit codes equal
 * to themselves.  Codes are sent from their high bit, so a table indexed
 * by the next 9 bits of the stream (low bit first) holds each symbol at
 * every index whose low bits are its code reversed.
 */
#include "util/flate.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* Next 9 stream bits -> symbol | code bits << 9. */
static uint16_t lit_table[512];
/* Next 5 stream bits -> distance code. */
static uint8_t dist_table[32];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Lengths of symbols 257-285 and distances of codes 0-29: base and extra
 * bits (RFC 1951, 3.2.5). */
static const uint16_t len_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
    16385, 24577};
static const uint8_t dist_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static unsigned
reverse_bits(unsigned v, unsigned bits)
{
    unsigned r = 0;

    while (bits--) {
        r = r << 1 | (v & 1);
        v >>= 1;
    }
    return r;
}

/* The fixed code of literal/length symbol s (0-287), reversed (first
 * bit low, as the stream sends it); *bits gets its length. */
static unsigned
fixed_code(unsigned s, unsigned *bits)
{
    if (s < 144) {
        *bits = 8;
        return reverse_bits(0x30 + s, 8);
    }
    if (s < 256) {
        *bits = 9;
        return reverse_bits(0x190 + (s - 144), 9);
    }
    if (s < 280) {
        *bits = 7;
        return reverse_bits(s - 256, 7);
    }
    *bits = 8;
    return reverse_bits(0xc0 + (s - 280), 8);
}

static void
tables_make(void)
{
    unsigned s, i;

    for (s = 0; s < 288; s++) {
        unsigned bits, code = fixed_code(s, &bits);

        for (i = code; i < 512; i += 1u << bits)
            lit_table[i] = (uint16_t)(s | bits << 9);
    }
    for (s = 0; s < 32; s++)
        dist_table[s] = (uint8_t)reverse_bits(s, 5);
}

typedef struct bitin {
    const unsigned char *p, *end;
    uint64_t bb;   /* unread bits, from the low end */
    unsigned nb;   /* how many of bb's bits are counted */
    unsigned over; /* zero bytes shifted in past the end of the input */
} bitin;

/* At least 56 bits counted afterwards. */
static inline void
refill(bitin *r)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (r->end - r->p >= 8) {
        uint64_t v;

        /* Bits past the counted ones are the next bytes' own, and are
         * shifted in again, the same, by the next refill. */
        memcpy(&v, r->p, 8);
        r->bb |= v << r->nb;
        r->p += (63 - r->nb) >> 3;
        r->nb |= 56;
        return;
    }
#endif
    while (r->nb <= 56) {
        if (r->p < r->end)
            r->bb |= (uint64_t)*r->p++ << r->nb;
        else
            r->over++;
        r->nb += 8;
    }
}

static inline unsigned
take(bitin *r, unsigned n)
{
    unsigned v = (unsigned)(r->bb & ((1u << n) - 1));

    r->bb >>= n;
    r->nb -= n;
    return v;
}

/* Copies n bytes from s to d in 16-byte pieces, writing up to 15 bytes
 * past d + n and reading up to 15 past s + n; s at least 16 bytes before
 * d when they overlap, so that every piece reads bytes already written. */
static inline void
copy16(unsigned char *d, const unsigned char *s, size_t n)
{
    unsigned char *e = d + n;

    do {
        memcpy(d, s, 16);
        d += 16;
        s += 16;
    } while (d < e);
}

/* A match: len bytes from dist back, the part before out's start read from
 * the dictionary.  -1 when it reaches past the dictionary or past out_len.
 * Copies in 16-byte pieces where the pieces' overrun stays inside out and
 * the dictionary, byte by byte where the match overlaps itself closely. */
static inline int
copy_match(unsigned char *out, size_t *o, size_t out_len, size_t dist,
           size_t len, const unsigned char *dict, size_t dict_len)
{
    unsigned char *d;
    const unsigned char *s;
    size_t k;

    if (len > out_len - *o)
        return -1;
    if (dist > *o) {
        size_t back = dist - *o, n = back < len ? back : len;

        if (back > dict_len)
            return -1;
        if (back >= n + 16 && out_len - *o >= n + 16)
            copy16(out + *o, dict + dict_len - back, n);
        else
            memcpy(out + *o, dict + dict_len - back, n);
        *o += n;
        len -= n;
        if (!len)
            return 0;
    }
    d = out + *o;
    s = d - dist;
    if (dist >= 16 && out_len - *o >= len + 16) {
        copy16(d, s, len);
    } else if (dist >= len) {
        memcpy(d, s, len);
    } else {
        for (k = 0; k < len; k++)
            d[k] = s[k];
    }
    *o += len;
    return 0;
}

int
ndx_flate_fixed(const unsigned char *dict, size_t dict_len,
                const unsigned char *in, size_t in_len, unsigned char *out,
                size_t out_len)
{
    bitin r;
    size_t o = 0;
    unsigned final;

    pthread_once(&tables_once, tables_make);
    r.p = in;
    r.end = in + in_len;
    r.bb = 0;
    r.nb = 0;
    r.over = 0;
    do {
        unsigned type;

        refill(&r);
        final = take(&r, 1);
        type = take(&r, 2);
        if (type == 0) {
            /* Stored: from the next byte, LEN, NLEN (its complement) and
             * LEN bytes.  The buffer is emptied and reading goes on from
             * the byte after them. */
            size_t pos;
            unsigned len, nlen;

            take(&r, r.nb & 7);
            if (r.over * 8 > r.nb)
                return NDX_FLATE_BAD;
            pos = (size_t)(r.p - in) - (r.nb / 8 - r.over);
            if (in_len - pos < 4)
                return NDX_FLATE_BAD;
            len = in[pos] | (unsigned)in[pos + 1] << 8;
            nlen = in[pos + 2] | (unsigned)in[pos + 3] << 8;
            pos += 4;
            if ((len ^ 0xffffu) != nlen || len > in_len - pos ||
                len > out_len - o)
                return NDX_FLATE_BAD;
            memcpy(out + o, in + pos, len);
            o += len;
            r.p = in + pos + len;
            r.bb = 0;
            r.nb = 0;
            r.over = 0;
            continue;
        }
        if (type == 2)
            return NDX_FLATE_DYNAMIC;
        if (type != 1)
            return NDX_FLATE_BAD;
        for (;;) {
            unsigned e, sym, dc;
            size_t len, dist;

            if (r.nb < 32)
                refill(&r);
            e = lit_table[r.bb & 511];
            take(&r, e >> 9);
            sym = e & 511;
            if (sym < 256) {
                if (o >= out_len)
                    return NDX_FLATE_BAD;
                out[o++] = (unsigned char)sym;
                continue;
            }
            if (sym == 256)
                break;
            sym -= 257;
            if (sym >= 29)
                return NDX_FLATE_BAD;
            len = len_base[sym] + take(&r, len_extra[sym]);
            dc = dist_table[take(&r, 5)];
            if (dc >= 30)
                return NDX_FLATE_BAD;
            dist = dist_base[dc] + take(&r, dist_extra[dc]);
            if (copy_match(out, &o, out_len, dist, len, dict, dict_len) != 0)
                return NDX_FLATE_BAD;
        }
        /* The block ended in the bytes past the input's end. */
        if (r.over * 8 > r.nb)
            return NDX_FLATE_BAD;
    } while (!final);
    return o == out_len ? NDX_FLATE_OK : NDX_FLATE_BAD;
}

/* ---- encoder ----------------------------------------------------------
 *
 * Greedy LZ77 over the dictionary followed by the passage, in one buffer
 * (the dictionary copied in once, each passage after it), with matches of
 * 4 to 258 bytes found through two hash tables of 4-byte sequences: the
 * dictionary's, built once when it is loaded, and the passage's, built as
 * the passage is read.  Each table keeps a chain of earlier positions
 * with the same hash; a few links of each are tried and the longest match
 * taken (the nearest of equals).  The tokens go out in one final block
 * with the fixed codes, or as stored blocks when those are no larger. */

#define ENC_DHASH_BITS 15
#define ENC_DCHAIN 8   /* dictionary candidates tried per position */
#define ENC_PCHAIN 4   /* passage candidates tried per position */
#define ENC_NICE 32    /* a match this long ends the search */
#define ENC_INSERT 16   /* positions of a match put in the table */
#define ENC_WINDOW 32768
#define ENC_MIN 4
#define ENC_MAX 258

struct ndx_flate_enc {
    unsigned char *buf; /* dictionary, then the passage being encoded */
    size_t dict_len, cap;
    uint16_t *dhead;    /* hash -> dictionary position + 1 (0: none) */
    uint16_t *dprev;    /* position -> earlier position + 1, same hash */
    uint32_t *phead;    /* the passage's: hash -> position + 1 */
    uint32_t *pprev;
    size_t pcap;        /* positions pprev holds */
    unsigned pbits;     /* bits of phead's hash for this passage */
    unsigned pbits_cap; /* bits phead has room for */
};

/* Reversed fixed codes: literal/length symbol -> code | bits << 16; and
 * the distance codes' 5 bits. */
static uint32_t enc_lit[286];
static uint8_t enc_dist[30];
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;

static void
enc_tables(void)
{
    unsigned s;

    for (s = 0; s < 286; s++) {
        unsigned bits, code = fixed_code(s, &bits);

        enc_lit[s] = code | bits << 16;
    }
    for (s = 0; s < 30; s++)
        enc_dist[s] = (uint8_t)reverse_bits(s, 5);
}

static inline uint32_t
load32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static inline unsigned
enc_hash(uint32_t x, unsigned bits)
{
    return (unsigned)((x * 2654435761u) >> (32 - bits));
}

ndx_flate_enc *
ndx_flate_enc_new(void)
{
    ndx_flate_enc *e = calloc(1, sizeof *e);

    pthread_once(&enc_once, enc_tables);
    if (!e)
        return NULL;
    e->dhead = calloc((size_t)1 << ENC_DHASH_BITS, sizeof *e->dhead);
    e->dprev = calloc(ENC_WINDOW, sizeof *e->dprev);
    if (!e->dhead || !e->dprev) {
        ndx_flate_enc_free(e);
        return NULL;
    }
    return e;
}

void
ndx_flate_enc_free(ndx_flate_enc *e)
{
    if (!e)
        return;
    free(e->buf);
    free(e->dhead);
    free(e->dprev);
    free(e->phead);
    free(e->pprev);
    free(e);
}

/* Room in buf for the dictionary and len bytes of passage (and 8 bytes
 * of slack for the 8-byte compares). */
static int
enc_room(ndx_flate_enc *e, size_t dict_len, size_t len)
{
    size_t need = dict_len + len + 8;
    unsigned char *b;

    if (need <= e->cap)
        return 0;
    if (need < 2 * e->cap)
        need = 2 * e->cap;
    if (!(b = realloc(e->buf, need)))
        return -1;
    e->buf = b;
    e->cap = need;
    return 0;
}

int
ndx_flate_enc_dict(ndx_flate_enc *e, const unsigned char *dict, size_t len)
{
    size_t i;

    if (len > ENC_WINDOW) {
        dict += len - ENC_WINDOW;
        len = ENC_WINDOW;
    }
    if (enc_room(e, len, 0) != 0)
        return -1;
    if (len)
        memcpy(e->buf, dict, len);
    e->dict_len = len;
    memset(e->dhead, 0, ((size_t)1 << ENC_DHASH_BITS) * sizeof *e->dhead);
    for (i = 0; i + ENC_MIN <= len; i++) {
        unsigned h = enc_hash(load32(e->buf + i), ENC_DHASH_BITS);

        e->dprev[i] = e->dhead[h];
        e->dhead[h] = (uint16_t)(i + 1);
    }
    return 0;
}

size_t
ndx_flate_bound(size_t len)
{
    /* Stored blocks: 5 bytes of header for each 65,535 bytes or part. */
    return len + 5 * (len ? (len + 65534) / 65535 : 1);
}

/* Bytes equal at a and b, up to max (b's bytes run past max by 8 or more
 * readable bytes, a precedes b). */
static inline size_t
match_len(const unsigned char *a, const unsigned char *b, size_t max)
{
    size_t n = 0;

    while (n + 8 <= max) {
        uint64_t x, y;

        memcpy(&x, a + n, 8);
        memcpy(&y, b + n, 8);
        if (x != y) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return n + ((unsigned)__builtin_ctzll(x ^ y) >> 3);
#else
            break;
#endif
        }
        n += 8;
    }
    while (n < max && a[n] == b[n])
        n++;
    return n;
}

typedef struct bitout {
    unsigned char *p, *end; /* end: 8 bytes before the limit */
    uint64_t bb;
    unsigned nb;
} bitout;

static inline void
put_bits(bitout *w, uint32_t v, unsigned n)
{
    w->bb |= (uint64_t)v << w->nb;
    w->nb += n;
    if (w->nb >= 32) {
        uint32_t lo = (uint32_t)w->bb;
        unsigned char b[4] = {(unsigned char)lo, (unsigned char)(lo >> 8),
                              (unsigned char)(lo >> 16),
                              (unsigned char)(lo >> 24)};

        memcpy(w->p, b, 4);
        w->p += 4;
        w->bb >>= 32;
        w->nb -= 32;
    }
}

static inline void
put_lit(bitout *w, unsigned s)
{
    put_bits(w, enc_lit[s] & 0xffff, enc_lit[s] >> 16);
}

/* A match of len (4-258) bytes, dist (1-32768) back. */
static inline void
put_match(bitout *w, unsigned len, unsigned dist)
{
    unsigned l = len - 3, x = dist - 1, sym, eb, dc, db;

    if (l < 8) {
        sym = 257 + l;
        eb = 0;
    } else if (l == 255) {
        sym = 285;
        eb = 0;
    } else {
        unsigned nb = 31 - (unsigned)__builtin_clz(l);

        eb = nb - 2;
        sym = 257 + 4 * (nb - 1) + ((l >> eb) & 3);
    }
    put_lit(w, sym);
    if (eb)
        put_bits(w, l & ((1u << eb) - 1), eb);
    if (x < 4) {
        dc = x;
        db = 0;
    } else {
        unsigned nb = 31 - (unsigned)__builtin_clz(x);

        db = nb - 1;
        dc = 2 * nb + ((x >> db) & 1);
    }
    put_bits(w, enc_dist[dc], 5);
    if (db)
        put_bits(w, x & ((1u << db) - 1), db);
}

/* The passage as stored blocks; cap >= ndx_flate_bound(len). */
static size_t
put_stored(const unsigned char *in, size_t len, unsigned char *out)
{
    size_t o = 0;

    do {
        size_t n = len > 65535 ? 65535 : len;

        out[o++] = n == len ? 1 : 0; /* BFINAL, BTYPE 00, then aligned */
        out[o++] = (unsigned char)n;
        out[o++] = (unsigned char)(n >> 8);
        out[o++] = (unsigned char)~n;
        out[o++] = (unsigned char)(~n >> 8);
        memcpy(out + o, in, n);
        o += n;
        in += n;
        len -= n;
    } while (len);
    return o;
}

/* The passage's own table and chains, sized to it. */
static int
enc_passage_tables(ndx_flate_enc *e, size_t len)
{
    unsigned bits = 8;

    while (bits < 14 && ((size_t)1 << bits) < len)
        bits++;
    if (!e->phead || bits > e->pbits_cap) {
        uint32_t *h = realloc(e->phead, ((size_t)1 << bits) * sizeof *h);

        if (!h)
            return -1;
        e->phead = h;
        e->pbits_cap = bits;
    }
    if (len > e->pcap) {
        uint32_t *p = realloc(e->pprev, len * sizeof *p);

        if (!p)
            return -1;
        e->pprev = p;
        e->pcap = len;
    }
    e->pbits = bits;
    memset(e->phead, 0, ((size_t)1 << bits) * sizeof *e->phead);
    return 0;
}

size_t
ndx_flate_encode(ndx_flate_enc *e, const unsigned char *in, size_t len,
                 unsigned char *out, size_t cap)
{
    size_t stored = ndx_flate_bound(len), d, i = 0;
    unsigned char *s;
    bitout w;

    if (cap < stored || enc_room(e, e->dict_len, len) != 0 ||
        enc_passage_tables(e, len) != 0)
        return 0;
    d = e->dict_len;
    s = e->buf + d;
    memcpy(s, in, len);
    memset(s + len, 0, 8);
    w.p = out;
    w.end = out + (stored > 8 ? stored - 8 : 0);
    w.bb = 0;
    w.nb = 0;
    put_bits(&w, 3, 3); /* BFINAL 1, BTYPE 01 (fixed codes) */
    while (i < len) {
        size_t best = 0, best_dist = 0, max = len - i;

        if (w.p > w.end)
            return put_stored(in, len, out);
        if (max >= ENC_MIN) {
            uint32_t x = load32(s + i);
            unsigned hp = enc_hash(x, e->pbits);
            uint32_t c = e->phead[hp];
            int steps = ENC_PCHAIN;

            if (max > ENC_MAX)
                max = ENC_MAX;
            for (; c && steps--; c = e->pprev[c - 1]) {
                size_t q = c - 1, n;

                if (i - q > ENC_WINDOW)
                    break;
                if (s[q + best] != s[i + best])
                    continue;
                n = match_len(s + q, s + i, max);
                if (n > best) {
                    best = n;
                    best_dist = i - q;
                    if (n >= ENC_NICE || n == max)
                        break;
                }
            }
            if (best < ENC_NICE && best < max) {
                uint16_t dc = e->dhead[enc_hash(x, ENC_DHASH_BITS)];

                steps = ENC_DCHAIN;
                for (; dc && steps--; dc = e->dprev[dc - 1]) {
                    size_t q = (size_t)dc - 1, dist = d - q + i, n;

                    if (dist > ENC_WINDOW)
                        break;
                    if (e->buf[q + best] != s[i + best])
                        continue;
                    n = match_len(e->buf + q, s + i, max);
                    if (n > best) {
                        best = n;
                        best_dist = dist;
                        if (n >= ENC_NICE || n == max)
                            break;
                    }
                }
            }
            e->pprev[i] = e->phead[hp];
            e->phead[hp] = (uint32_t)(i + 1);
        }
        if (best >= ENC_MIN) {
            size_t k;

            put_match(&w, (unsigned)best, (unsigned)best_dist);
            /* The positions inside a match join the passage's table (a
             * long match's first ENC_INSERT only: the rest would mostly
             * find that same match again). */
            for (k = i + 1; k < i + (best < ENC_INSERT ? best : ENC_INSERT)
                            && k + ENC_MIN <= len; k++) {
                unsigned h = enc_hash(load32(s + k), e->pbits);

                e->pprev[k] = e->phead[h];
                e->phead[h] = (uint32_t)(k + 1);
            }
            i += best;
        } else {
            put_lit(&w, s[i]);
            i++;
        }
    }
    if (w.p > w.end)
        return put_stored(in, len, out);
    put_lit(&w, 256);
    while (w.nb > 0) {
        *w.p++ = (unsigned char)w.bb;
        w.bb >>= 8;
        w.nb = w.nb > 8 ? w.nb - 8 : 0;
    }
    /* Each token was begun 8 bytes or more short of the stored size and
     * writes at most 4 (31 bits); the end code and the last bits at most
     * 8: the block is never larger than the stored one. */
    return (size_t)(w.p - out);
}
