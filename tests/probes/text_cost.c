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
 * and checks that the three give the same bytes.  Prints one line per
 * way: microseconds per passage and raw megabytes per second.  White-box
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
report(const char *way, double secs, size_t n, uint64_t bytes)
{
    printf("%-12s %8.3f us per passage  %8.1f MB/s raw\n", way,
           secs * 1e6 / (double)n, (double)bytes / 1e6 / secs);
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
        bytes += st.text_len;
    }

    t0 = cpu_now();
    for (i = 0; i < count; i++)
        if (ndx_seg_text(segs[pick_seg[i]], pick_pid[i], &b))
            return 1;
    report("stored-text", cpu_now() - t0, count, bytes);

    t0 = cpu_now();
    for (i = 0; i < count; i++) {
        ndx_seg_stream st;

        ndx_seg_text_stream(segs[pick_seg[i]], pick_pid[i], &st);
        if (ndx_flate_fixed(st.dict, st.dict_len, st.stream, st.stream_len,
                            out, st.text_len) == NDX_FLATE_BAD)
            return 1;
    }
    report("flate-fixed", cpu_now() - t0, count, bytes);

    t0 = cpu_now();
    for (i = 0; i < count; i++) {
        ndx_seg_stream st;

        ndx_seg_text_stream(segs[pick_seg[i]], pick_pid[i], &st);
        if (!zlib_read(&z, &st, out))
            return 1;
    }
    report("zlib", cpu_now() - t0, count, bytes);
    printf("%zu passages, %.0f bytes each on average\n", count,
           (double)bytes / (double)count);

    inflateEnd(&z);
    ndx_buf_free(&b);
    free(out);
    free(ref);
    free(pick_seg);
    free(pick_pid);
    for (i = 0; i < nseg; i++)
        ndx_seg_close(segs[i]);
    free(segs);
    return 0;
}
