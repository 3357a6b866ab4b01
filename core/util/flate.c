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

static void
tables_make(void)
{
    unsigned s, i;

    for (s = 0; s < 288; s++) {
        unsigned code, bits;

        if (s < 144) {
            code = 0x30 + s;
            bits = 8;
        } else if (s < 256) {
            code = 0x190 + (s - 144);
            bits = 9;
        } else if (s < 280) {
            code = s - 256;
            bits = 7;
        } else {
            code = 0xc0 + (s - 280);
            bits = 8;
        }
        for (i = reverse_bits(code, bits); i < 512; i += 1u << bits)
            lit_table[i] = (uint16_t)(s | bits << 9);
    }
    for (s = 0; s < 32; s++)
        dist_table[s] = (uint8_t)reverse_bits(s, 5);
}

typedef struct bits {
    const unsigned char *p, *end;
    uint64_t bb;   /* unread bits, from the low end */
    unsigned nb;   /* how many of bb's bits are counted */
    unsigned over; /* zero bytes shifted in past the end of the input */
} bits;

/* At least 56 bits counted afterwards. */
static inline void
refill(bits *r)
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
take(bits *r, unsigned n)
{
    unsigned v = (unsigned)(r->bb & ((1u << n) - 1));

    r->bb >>= n;
    r->nb -= n;
    return v;
}

/* A match: len bytes from dist back, the part before out's start read from
 * the dictionary.  -1 when it reaches past the dictionary or past out_len. */
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
        memcpy(out + *o, dict + dict_len - back, n);
        *o += n;
        len -= n;
    }
    d = out + *o;
    s = d - dist;
    if (dist >= len) {
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
    bits r;
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
