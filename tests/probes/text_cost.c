/* ndx-text-cost: what a hit's passage text costs to read.
 *
 *   ndx-text-cost [--count N] [--seed S] SEGMENT...
 *
 * Draws N passages at random (default 200,000) from the segment files
 * given (an index's seg-*.ndx) and reads each three ways, timing each
 * pass in CPU time:
 *
 *   stored-text   ndx_seg_text, as a hit reads it (the segment's own
 *                 decoder for fixed-code streams, zlib for the others)
 *   flate-fixed   the passage's stream through ndx_flate_fixed alone
 *   zlib          the same stream through zlib: inflateReset,
 *                 inflateSetDictionary (a copy of the 32 KB dictionary
 *                 into zlib's window), inflate
 *
 * and checks that the three give the same bytes; then compresses the same
 * passages again against their dictionaries two ways
 * (in the order of their dictionaries, each loaded once, as a writer
 * meets them):
 *
 *   flate-encode  ndx_flate_encode (the writer's way)
 *   zlib-deflate  zlib level 3 with the fixed codes, the dictionary set
 *                 once and the stream copied (deflateCopy) per passage
 *
 * checking that each stream reads back.  Prints one line per way:
 * microseconds per passage, raw megabytes per second, and for the
 * compressors the compressed bytes over the raw ones.  White-box
 * (it opens segment files directly), hence under tests/; the format's
 * notes in core/native/segment.h quote it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "native/segment.h"
#include "util/buf.h"
#include "util/flate.h"

#define SLACK 64

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
next_rand(uint64_t *x)
{
    /* splitmix64 */
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void
usage(void)
{
    fprintf(stderr, "usage: ndx-text-cost [--count N] [--seed S] "
                    "SEGMENT...\n");
    exit(2);
}

/* The passage's stream through zlib, as readers did before flate.c:
 * 1 when it ends with exactly the passage's bytes. */
static int
zlib_read(z_stream *z, const ndx_seg_stream *st, unsigned char *out)
{
    inflateReset(z);
    if (st->dict_len)
        inflateSetDictionary(z, st->dict, st->dict_len);
    z->next_in = (Bytef *)st->stream;
    z->avail_in = st->stream_len;
    z->next_out = out;
    z->avail_out = st->text_len + SLACK;
    return inflate(z, Z_FINISH) == Z_STREAM_END && z->avail_out == SLACK;
}

static void
report(const char *way, double secs, size_t n, uint64_t bytes,
       uint64_t packed)
{
    printf("%-12s %8.3f us per passage  %8.1f MB/s raw", way,
           secs * 1e6 / (double)n, (double)bytes / 1e6 / secs);
    if (packed)
        printf("  %.3f of the raw bytes", (double)packed / (double)bytes);
    printf("\n");
}

/* The raw texts of the sample, one after another. */
typedef struct sample {
    unsigned char *raw;
    size_t *off; /* count + 1 offsets */
    const unsigned char **dict;
    uint32_t *dict_len;
    size_t *order; /* by dictionary, as a writer meets them */
} sample;

static const sample *sort_sample;

static int
by_dict(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const unsigned char *dx = sort_sample->dict[x], *dy = sort_sample->dict[y];

    if (dx != dy)
        return dx < dy ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Compresses every passage of the sample (zlib: 0 for ndx_flate_encode,
 * 1 for zlib's deflate as the writer used it), then checks that each
 * stream reads back; the CPU seconds of the compressing, *packed the
 * compressed bytes. */
static double
compress_all(const sample *sm, size_t count, int zlib, uint64_t *packed)
{
    ndx_flate_enc *e = ndx_flate_enc_new();
    unsigned char *out, *back;
    size_t *at = calloc(count + 1, sizeof *at), cap = 0, j, o = 0, most = 0;
    const unsigned char *loaded = NULL;
    z_stream base, c;
    double t0, t;

    for (j = 0; j < count; j++) {
        size_t len = sm->off[j + 1] - sm->off[j];

        cap += compressBound((uLong)len) + 64;
        if (len > most)
            most = len;
    }
    out = malloc(cap);
    back = malloc(most + 1);
    memset(&base, 0, sizeof base);
    if (!e || !at || !out || !back ||
        deflateInit2(&base, 3, Z_DEFLATED, -15, 8, Z_FIXED) != Z_OK)
        exit(1);
    t0 = cpu_now();
    for (j = 0; j < count; j++) {
        size_t i = sm->order[j], got;
        const unsigned char *in = sm->raw + sm->off[i];
        size_t len = sm->off[i + 1] - sm->off[i];
        size_t room = compressBound((uLong)len) + 64;

        if (sm->dict[i] != loaded) {
            loaded = sm->dict[i];
            if (zlib ? deflateReset(&base) != Z_OK ||
                           (sm->dict_len[i] &&
                            deflateSetDictionary(&base, loaded,
                                                 sm->dict_len[i]) != Z_OK)
                     : ndx_flate_enc_dict(e, loaded, sm->dict_len[i]) != 0)
                exit(1);
        }
        if (zlib) {
            if (deflateCopy(&c, &base) != Z_OK)
                exit(1);
            c.next_in = (Bytef *)in;
            c.avail_in = (uInt)len;
            c.next_out = out + o;
            c.avail_out = (uInt)room;
            if (deflate(&c, Z_FINISH) != Z_STREAM_END)
                exit(1);
            got = c.total_out;
            deflateEnd(&c);
        } else if (!(got = ndx_flate_encode(e, in, len, out + o, room))) {
            exit(1);
        }
        o += got;
        at[j + 1] = o;
    }
    t = cpu_now() - t0;
    *packed = o;
    for (j = 0; j < count; j++) {
        size_t i = sm->order[j], len = sm->off[i + 1] - sm->off[i];

        if (ndx_flate_fixed(sm->dict[i], sm->dict_len[i], out + at[j],
                            at[j + 1] - at[j], back, len) != NDX_FLATE_OK ||
            memcmp(back, sm->raw + sm->off[i], len)) {
            fprintf(stderr, "ndx-text-cost: a %s stream does not read "
                    "back\n", zlib ? "zlib" : "flate");
            exit(1);
        }
    }
    deflateEnd(&base);
    ndx_flate_enc_free(e);
    free(at);
    free(out);
    free(back);
    return t;
}

int
main(int argc, char **argv)
{
    size_t count = 200000, nseg = 0, i;
    uint64_t seed = 1, total = 0, bytes = 0;
    ndx_seg **segs;
    uint32_t *pick_seg, *pick_pid;
    unsigned char *out = NULL, *ref = NULL;
    size_t out_cap = 0;
    ndx_buf b = {0};
    sample sm;
    z_stream z;
    double t0;
    int a;

    segs = calloc((size_t)argc, sizeof *segs);
    if (!segs)
        return 1;
    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--count") && a + 1 < argc)
            count = strtoul(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
            seed = strtoull(argv[++a], NULL, 10);
        else if (argv[a][0] == '-')
            usage();
        else if (ndx_seg_open(&segs[nseg], argv[a], 0)) {
            fprintf(stderr, "ndx-text-cost: %s\n", ndx_errmsg());
            return 1;
        } else {
            total += segs[nseg++]->passages;
        }
    }
    if (nseg == 0 || count == 0 || total == 0)
        usage();
    pick_seg = malloc(count * sizeof *pick_seg);
    pick_pid = malloc(count * sizeof *pick_pid);
    if (!pick_seg || !pick_pid)
        return 1;
    for (i = 0; i < count; i++) {
        uint64_t r = next_rand(&seed) % total;
        size_t s = 0;

        while (r >= segs[s]->passages)
            r -= segs[s++]->passages;
        pick_seg[i] = (uint32_t)s;
        pick_pid[i] = (uint32_t)r;
    }
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return 1;
    memset(&sm, 0, sizeof sm);
    sm.off = calloc(count + 1, sizeof *sm.off);
    sm.dict = calloc(count, sizeof *sm.dict);
    sm.dict_len = calloc(count, sizeof *sm.dict_len);
    sm.order = calloc(count, sizeof *sm.order);
    if (!sm.off || !sm.dict || !sm.dict_len || !sm.order)
        return 1;

    /* Check first (and fault the pages in): the three ways agree. */
    for (i = 0; i < count; i++) {
        ndx_seg_stream st;

        if (ndx_seg_text_stream(segs[pick_seg[i]], pick_pid[i], &st) ||
            ndx_seg_text(segs[pick_seg[i]], pick_pid[i], &b)) {
            fprintf(stderr, "ndx-text-cost: %s\n", ndx_errmsg());
            return 1;
        }
        if (st.text_len + SLACK > out_cap) {
            out_cap = (st.text_len + SLACK) * 2;
            out = realloc(out, out_cap);
            ref = realloc(ref, out_cap);
            if (!out || !ref)
                return 1;
        }
        if (!zlib_read(&z, &st, ref) || b.len != st.text_len ||
            memcmp(ref, b.data, st.text_len) ||
            (ndx_flate_fixed(st.dict, st.dict_len, st.stream, st.stream_len,
                             out, st.text_len) == NDX_FLATE_OK &&
             memcmp(ref, out, st.text_len))) {
            fprintf(stderr, "ndx-text-cost: %s passage %u: the ways "
                    "disagree\n", segs[pick_seg[i]]->path, pick_pid[i]);
            return 1;
        }
        sm.raw = realloc(sm.raw, bytes + st.text_len + 1);
        if (!sm.raw)
            return 1;
        memcpy(sm.raw + bytes, ref, st.text_len);
        sm.dict[i] = st.dict;
        sm.dict_len[i] = st.dict_len;
        bytes += st.text_len;
        sm.off[i + 1] = bytes;
    }

    t0 = cpu_now();
    for (i = 0; i < count; i++)
        if (ndx_seg_text(segs[pick_seg[i]], pick_pid[i], &b))
            return 1;
    report("stored-text", cpu_now() - t0, count, bytes, 0);

    t0 = cpu_now();
    for (i = 0; i < count; i++) {
        ndx_seg_stream st;

        ndx_seg_text_stream(segs[pick_seg[i]], pick_pid[i], &st);
        if (ndx_flate_fixed(st.dict, st.dict_len, st.stream, st.stream_len,
                            out, st.text_len) == NDX_FLATE_BAD)
            return 1;
    }
    report("flate-fixed", cpu_now() - t0, count, bytes, 0);

    t0 = cpu_now();
    for (i = 0; i < count; i++) {
        ndx_seg_stream st;

        ndx_seg_text_stream(segs[pick_seg[i]], pick_pid[i], &st);
        if (!zlib_read(&z, &st, out))
            return 1;
    }
    report("zlib", cpu_now() - t0, count, bytes, 0);
    for (i = 0; i < count; i++)
        sm.order[i] = i;
    sort_sample = &sm;
    qsort(sm.order, count, sizeof *sm.order, by_dict);
    {
        uint64_t packed;
        double t = compress_all(&sm, count, 0, &packed);

        report("flate-encode", t, count, bytes, packed);
        t = compress_all(&sm, count, 1, &packed);
        report("zlib-deflate", t, count, bytes, packed);
    }
    printf("%zu passages, %.0f bytes each on average\n", count,
           (double)bytes / (double)count);

    inflateEnd(&z);
    ndx_buf_free(&b);
    free(out);
    free(ref);
    free(sm.raw);
    free(sm.off);
    free(sm.dict);
    free(sm.dict_len);
    free(sm.order);
    free(pick_seg);
    free(pick_pid);
    for (i = 0; i < nseg; i++)
        ndx_seg_close(segs[i]);
    free(segs);
    return 0;
}
