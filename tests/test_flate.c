/*
 * test_flate.c - util/flate.h against zlib: the bundled articles cut into
 * passages, each deflated alone against a 32 KB dictionary as segments
 * store them (level 3, fixed codes), and also stored (level 0), at level
 * 9, and with dynamic codes; then damaged streams, where the decoder must
 * agree with zlib's inflate on whether the stream is whole and on what it
 * holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <zlib.h>

#include "files.h"
#include "support.h"
#include "util/flate.h"

#define DICT (32 * 1024)

static const char *const seeds[] = {
    "corpus/000_5286196f00fcb6ee.txt", "corpus/001_b6ab9d925da0c223.txt",
    "corpus/002_59a3440c063501ba.txt", "corpus/003_0036f894b85e4f95.txt",
    "corpus/004_0d195e7965c4b621.txt",
};

/* The seeds back to back, then synthetic text: a run of one byte
 * (matches overlapping themselves), every byte value, a phrase repeated. */
static unsigned char *
material(size_t *len)
{
    size_t cap = 1 << 20, n = 0, i, k;
    unsigned char *m = malloc(cap);

    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    for (i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        size_t fl = 0;
        char *f = t_slurp(seeds[i], &fl);

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        if (fl > 200000)
            fl = 200000;
        memcpy(m + n, f, fl);
        n += fl;
        free(f);
    }
    /* Sentences of the seeds' words drawn at random, to have text well
     * past the dictionary's 32 KB that shares its words. */
    {
        size_t words = 0, w, start = 0;
        size_t *at = malloc(sizeof *at * (n / 2 + 1));
        uint32_t seed = 7;

        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        for (i = 0; i < n; i++) {
            int sp = m[i] == ' ' || m[i] == '\n';

            if (!sp && (i == 0 || m[i - 1] == ' ' || m[i - 1] == '\n'))
                at[words++] = i;
        }
        CU_ASSERT_FATAL(words > 100);
        start = n;
        while (n - start < 200000) {
            size_t e;

            seed = seed * 1103515245u + 12345u;
            w = at[(seed >> 8) % words];
            for (e = w; e < start && m[e] != ' ' && m[e] != '\n'; e++)
                ;
            memcpy(m + n, m + w, e - w);
            n += e - w;
            m[n++] = (seed >> 4) % 13 == 0 ? '\n' : ' ';
        }
        free(at);
    }
    memset(m + n, 'a', 3000);
    n += 3000;
    for (k = 0; k < 4; k++)
        for (i = 0; i < 256; i++)
            m[n++] = (unsigned char)(i * 7 + k);
    for (k = 0; k < 200; k++) {
        memcpy(m + n, "the court said on Tuesday. ", 27);
        n += 27;
    }
    *len = n;
    return m;
}

/* in deflated alone as one raw stream against dict; its length. */
static size_t
deflate_one(const unsigned char *dict, size_t dict_len,
            const unsigned char *in, size_t len, int level, int strategy,
            unsigned char *out, size_t cap)
{
    z_stream z;
    size_t n;

    memset(&z, 0, sizeof z);
    CU_ASSERT_FATAL(deflateInit2(&z, level, Z_DEFLATED, -15, 8, strategy) ==
                    Z_OK);
    if (dict_len)
        CU_ASSERT_FATAL(deflateSetDictionary(&z, dict, (uInt)dict_len) ==
                        Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    CU_ASSERT_FATAL(deflate(&z, Z_FINISH) == Z_STREAM_END);
    n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

/* zlib's verdict, as segment_reader.c asks it: 1 when the stream ends with
 * exactly len bytes out (written to out, which has room for more). */
static int
zlib_inflate(const unsigned char *dict, size_t dict_len,
             const unsigned char *in, size_t in_len, unsigned char *out,
             size_t len)
{
    z_stream z;
    int ok;

    memset(&z, 0, sizeof z);
    CU_ASSERT_FATAL(inflateInit2(&z, -15) == Z_OK);
    if (dict_len && inflateSetDictionary(&z, dict, (uInt)dict_len) != Z_OK) {
        inflateEnd(&z);
        return 0;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)in_len;
    z.next_out = out;
    z.avail_out = (uInt)len + 300;
    ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.avail_out == 300;
    inflateEnd(&z);
    return ok;
}

static void
test_flate_reads_what_zlib_wrote(void)
{
    static const struct {
        int level, strategy, dict, must_decode;
    } kinds[] = {
        {3, Z_FIXED, 1, 1}, {9, Z_FIXED, 1, 1}, {1, Z_FIXED, 0, 1},
        {0, Z_DEFAULT_STRATEGY, 1, 1}, {6, Z_DEFAULT_STRATEGY, 1, 0},
    };
    static const size_t sizes[] = {0, 1, 17, 300, 700, 2047, 5000, 70000};
    size_t len = 0, cap = 200000, k, s, off, passages = 0, dynamic = 0;
    size_t back_in_dict = 0, edges = 0, g;
    unsigned char *m = material(&len);
    unsigned char *z = malloc(cap), *out = malloc(cap);
    /* The dictionary alone in a buffer of its size (a sanitized build
     * reports a read past it). */
    unsigned char *d = malloc(DICT);

    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_FATAL(len > DICT + 100000);
    memcpy(d, m, DICT);
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        const unsigned char *dict = kinds[k].dict ? d : NULL;
        size_t dict_len = kinds[k].dict ? DICT : 0;

        for (s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            /* Passages from past the dictionary to the end, and one
             * from inside it. */
            for (off = DICT; off + sizes[s] <= len;
                 off += sizes[s] * 3 + 1111) {
                size_t zl = deflate_one(dict, dict_len, m + off, sizes[s],
                                        kinds[k].level, kinds[k].strategy,
                                        z, cap);
                int r;

                /* Nothing is written past out_len. */
                memset(out + sizes[s], 0xA5, 64);
                r = ndx_flate_fixed(dict, dict_len, z, zl, out, sizes[s]);
                for (g = 0; g < 64 && out[sizes[s] + g] == 0xA5; g++)
                    ;
                CU_ASSERT_EQUAL(g, 64);
                passages++;
                if (r == NDX_FLATE_DYNAMIC && !kinds[k].must_decode) {
                    dynamic++;
                    continue;
                }
                CU_ASSERT_EQUAL(r, NDX_FLATE_OK);
                if (r == NDX_FLATE_OK)
                    CU_ASSERT(memcmp(out, m + off, sizes[s]) == 0);
                /* One byte short or over is damage. */
                if (sizes[s]) {
                    CU_ASSERT_EQUAL(ndx_flate_fixed(dict, dict_len, z, zl,
                                                    out, sizes[s] - 1),
                                    NDX_FLATE_BAD);
                }
                CU_ASSERT_EQUAL(ndx_flate_fixed(dict, dict_len, z, zl, out,
                                                sizes[s] + 1),
                                NDX_FLATE_BAD);
                /* Without its dictionary a stream that needs it fails. */
                if (dict_len && kinds[k].must_decode && sizes[s] >= 300 &&
                    !zlib_inflate(NULL, 0, z, zl, out, sizes[s])) {
                    back_in_dict++;
                    CU_ASSERT_EQUAL(ndx_flate_fixed(dict, 0, z, zl, out,
                                                    sizes[s]),
                                    NDX_FLATE_BAD);
                }
            }
        }
    }
    /* The dictionary's edge: the shortest end of it with which zlib
     * inflates a stream must do for this decoder, one byte less must
     * not. */
    for (off = DICT + 5000; off + 2000 <= len; off += 20011) {
        size_t zl = deflate_one(m, DICT, m + off, 2000, 3, Z_FIXED, z, cap);
        size_t lo = 0, hi = DICT;

        if (zlib_inflate(NULL, 0, z, zl, out, 2000))
            continue;
        while (lo + 1 < hi) {
            size_t mid = (lo + hi) / 2;

            if (zlib_inflate(m + DICT - mid, mid, z, zl, out, 2000))
                hi = mid;
            else
                lo = mid;
        }
        CU_ASSERT_EQUAL(ndx_flate_fixed(m + DICT - hi, hi, z, zl, out, 2000),
                        NDX_FLATE_OK);
        CU_ASSERT_EQUAL(ndx_flate_fixed(m + DICT - lo, lo, z, zl, out, 2000),
                        NDX_FLATE_BAD);
        edges++;
    }
    CU_ASSERT(edges >= 5);
    /* The cases this test is about were met. */
    CU_ASSERT(passages > 500);
    CU_ASSERT(dynamic > 10);
    CU_ASSERT(back_in_dict > 50);
    free(d);
    free(m);
    free(z);
    free(out);
}

static void
test_flate_agrees_with_zlib_on_damage(void)
{
    size_t len = 0, cap = 20000, off, bit, zl, cut, agree = 0, whole = 0;
    unsigned char *m = material(&len);
    unsigned char *z = malloc(cap), *bad = malloc(cap);
    unsigned char *a = malloc(cap), *b = malloc(cap);
    uint32_t seed = 12345;

    CU_ASSERT_PTR_NOT_NULL_FATAL(z && bad && a && b);
    for (off = DICT; off + 600 <= len; off += 7777) {
        zl = deflate_one(m, DICT, m + off, 600, 3, Z_FIXED, z, cap);
        /* Every single bit flipped in turn. */
        for (bit = 0; bit < zl * 8; bit++) {
            int r, zr;

            memcpy(bad, z, zl);
            bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            r = ndx_flate_fixed(m, DICT, bad, zl, a, 600);
            if (r == NDX_FLATE_DYNAMIC)
                continue;
            zr = zlib_inflate(m, DICT, bad, zl, b, 600);
            CU_ASSERT_EQUAL(r == NDX_FLATE_OK, zr);
            if (r == NDX_FLATE_OK && zr) {
                whole++;
                CU_ASSERT(memcmp(a, b, 600) == 0);
            }
            agree++;
        }
        /* Cut short anywhere. */
        for (cut = 0; cut < zl; cut++) {
            int r = ndx_flate_fixed(m, DICT, z, cut, a, 600);

            CU_ASSERT_EQUAL(r == NDX_FLATE_OK,
                            zlib_inflate(m, DICT, z, cut, b, 600));
        }
        /* Random bytes in place of a stream's middle. */
        for (cut = 0; cut < 200; cut++) {
            size_t j;
            int r;

            memcpy(bad, z, zl);
            for (j = zl / 3; j < zl / 3 + 8 && j < zl; j++) {
                seed = seed * 1103515245u + 12345u;
                bad[j] = (unsigned char)(seed >> 16);
            }
            r = ndx_flate_fixed(m, DICT, bad, zl, a, 600);
            if (r != NDX_FLATE_DYNAMIC)
                CU_ASSERT_EQUAL(r == NDX_FLATE_OK,
                                zlib_inflate(m, DICT, bad, zl, b, 600));
        }
    }
    CU_ASSERT(agree > 10000);
    /* Some flips land in literals and leave a whole stream of other
     * bytes: both decoders must read the same ones. */
    CU_ASSERT(whole > 0);
    free(m);
    free(z);
    free(bad);
    free(a);
    free(b);
}

/* The encoder against zlib's inflate: every length of the material's
 * pieces (text past the dictionary, the synthetic runs, bytes that do not
 * compress, more than one stored block's 65,535 bytes), against no
 * dictionary, part of one and a whole 32 KB one, and against one longer
 * than the window (its last 32 KB count).  Each stream must inflate to its
 * input in zlib and in ndx_flate_fixed, fit ndx_flate_bound, and over the
 * text be no larger than zlib's level 3 with the fixed codes (what segments
 * held before) by more than 2%; bytes that do not compress go out stored,
 * at the bound exactly (from 258 bytes, below which the fixed codes may
 * still win). */
static void
test_flate_encoder_round_trip(void)
{
    static const size_t sizes[] = {0, 1, 3, 4, 5, 17, 258, 300, 700, 2047,
                                   5000, 40000, 65535, 65536, 140000};
    static const size_t dicts[] = {0, 100, DICT, DICT + 5000};
    size_t mlen = 0, s, d, start;
    unsigned char *m = material(&mlen);
    unsigned char *rnd = malloc(150000), *z = malloc(300000);
    unsigned char *a = malloc(150001);
    ndx_flate_enc *e = ndx_flate_enc_new();
    uint64_t ours = 0, theirs = 0;
    uint32_t x = 99;

    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_FATAL(rnd && z && a && mlen > DICT + 5000 + 140000);
    for (s = 0; s < 150000; s++) {
        x = x * 1103515245u + 12345u;
        rnd[s] = (unsigned char)(x >> 16);
    }
    for (d = 0; d < sizeof dicts / sizeof *dicts; d++) {
        /* The dictionary is the material's first bytes; the text comes
         * after it (sharing its words), or from the synthetic end. */
        const unsigned char *dict = m;
        size_t dl = dicts[d], dl_read = dl > DICT ? DICT : dl;
        const unsigned char *dict_read = dict + dl - dl_read;

        CU_ASSERT_FATAL(ndx_flate_enc_dict(e, dict, dl) == 0);
        for (s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            for (start = 0; start < 3; start++) {
                size_t len = sizes[s], n, zl;
                const unsigned char *in =
                    start == 0   ? m + DICT + 5000
                    : start == 1 ? m + mlen - (len < 7000 ? len : 7000)
                                 : rnd;

                if (start == 1 && len > 7000)
                    continue;
                n = ndx_flate_encode(e, in, len, z, ndx_flate_bound(len));
                CU_ASSERT_FATAL(n > 0);
                CU_ASSERT(n <= ndx_flate_bound(len));
                CU_ASSERT_FATAL(zlib_inflate(dict_read, dl_read, z, n, a,
                                             len));
                CU_ASSERT(memcmp(a, in, len) == 0);
                CU_ASSERT(ndx_flate_fixed(dict_read, dl_read, z, n, a,
                                          len) == NDX_FLATE_OK);
                CU_ASSERT(memcmp(a, in, len) == 0);
                if (start == 2 && len >= 258)
                    CU_ASSERT_EQUAL(n, ndx_flate_bound(len));
                if (start == 0 && dl == DICT && len >= 300) {
                    zl = deflate_one(dict_read, dl_read, in, len, 3,
                                     Z_FIXED, a, 150001);
                    ours += n;
                    theirs += zl;
                }
            }
        }
    }
    CU_ASSERT(theirs > 0);
    CU_ASSERT(ours * 100 <= theirs * 102);
    /* Short of room, it says so rather than write past it. */
    CU_ASSERT_EQUAL(ndx_flate_encode(e, m, 1000, z, ndx_flate_bound(1000) - 1),
                    0);
    ndx_flate_enc_free(e);
    free(m);
    free(rnd);
    free(z);
    free(a);
}

CU_TestInfo flate_tests[] = {
    {"test_flate_encoder_round_trip", test_flate_encoder_round_trip},
    {"test_flate_reads_what_zlib_wrote", test_flate_reads_what_zlib_wrote},
    {"test_flate_agrees_with_zlib_on_damage",
     test_flate_agrees_with_zlib_on_damage},
    CU_TEST_INFO_NULL,
};
