/*
 * fuzz_segment.c - libFuzzer target for the native index reader on
 * damaged files.  Each input becomes the one segment of an index directory
 * (with a valid MANIFEST naming it), which is then opened, searched with
 * every kind of query and filter, read article by article, summarised and
 * checked.  Any of these may fail with NDX_ECORRUPT or NDX_EVERSION, but
 * none may crash, leak, hang or read out of bounds, and none may fail with
 * a code that does not describe damage.
 *
 * Input: an input that starts with the segment magic is the segment file
 * itself.  Any other input edits a real segment (30 articles of ten short
 * passages, a term in every passage so that its postings span three
 * blocks and a seek skips one): its first byte chooses the mode, then
 * come 4-byte operations: byte 0 & 3 the kind (0 set, 1 xor, 2 truncate,
 * 3 insert), bytes 1-2 the offset (little-endian, modulo the length),
 * byte 3 the value.  Mode bits:
 *   bit 1  recompute every section checksum and the table of contents'
 *          checksum after editing, so that the reader's structure checks
 *          rather than the checksums meet the damage;
 *   bit 2  the manifest also names a deletion file removing articles 1
 *          and 3.
 *
 * The real segment is tests/fixtures/durability/seg-small.ndx, written by
 * the durability suite (which says how to rewrite it after a format
 * change); it is also the seed for whole-file inputs.  The fuzzer runs
 * from the top of the tree.  Without a current one only whole-file inputs
 * are tried.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../files.h"
#include "native/manifest.h"
#include "newsdex/newsdex.h"
#include "native/segment.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIXTURE "tests/fixtures/durability/seg-small.ndx"

static const char *dir;         /* the index the inputs become */
static unsigned char *tmpl;     /* the real segment */
static size_t tmpl_len;
static ndx_buf manifest_plain;  /* MANIFEST naming the segment */
static ndx_buf manifest_del;    /* ... and its deletion file */
static ndx_buf del_file;        /* the deletion file's bytes */

/* The articles of the real segment, and one it does not hold. */
static const char *const ids[] = {
    "art-0",  "art-1",  "art-2",  "art-3",  "art-4",  "art-5",
    "art-6",  "art-7",  "art-8",  "art-9",  "art-10", "art-11",
    "art-12", "art-13", "art-14", "art-15", "art-16", "art-17",
    "art-18", "art-19", "art-20", "art-21", "art-22", "art-23",
    "art-24", "art-25", "art-26", "art-27", "art-28", "art-29",
    "art-30",
};

static void
rm_entries(const char *d)
{
    DIR *dh = opendir(d);
    struct dirent *e;
    char p[1024];

    if (!dh)
        return;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        unlink(p);
    }
    closedir(dh);
}

static int
put_file(const char *name, const void *p, size_t len)
{
    char path[1024];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return t_write(path, p, len);
}

/* The bytes of the file at path, into a new buffer. */
static void
keep_file(ndx_buf *into, const char *path)
{
    size_t len;
    char *b = t_slurp(path, &len);

    ndx_buf_init(into);
    if (!b || ndx_buf_put(into, b, len))
        abort();
    free(b);
}

/* Loads the real segment, if it is there and reads cleanly, and makes the
 * manifests and deletion file that go with it. */
static void
setup(void)
{
    char build[600], path[1200];
    ndx_manifest m;
    ndx_seg *s = NULL;
    uint32_t del[2] = {1, 3};

    if (!(dir = t_scratch_root("ndxfuzzseg")))
        abort();
    snprintf(build, sizeof build, "%s/build", dir);
    if (mkdir(build, 0755) != 0)
        abort();
    if (ndx_seg_open(&s, FIXTURE, 1) == NDX_OK && ndx_seg_check(s) == NDX_OK)
        tmpl = (unsigned char *)t_slurp(FIXTURE, &tmpl_len);
    ndx_seg_close(s);
    if (!tmpl || tmpl_len > 65535) {
        fprintf(stderr, "fuzz_segment: %s is missing or out of date (rewrite "
                        "it with NDX_UPDATE_FIXTURES=1 build/newsdex-tests "
                        "durability); only whole-file inputs are tried\n",
                FIXTURE);
        free(tmpl);
        tmpl = NULL;
    }
    /* The manifests and the deletion file, written once the durable way,
     * kept as bytes. */
    memset(&m, 0, sizeof m);
    m.generation = 1;
    m.next = 2;
    if (ndx_manifest_push(&m, "seg-000001.ndx", NULL) ||
        ndx_manifest_write(build, &m))
        abort();
    snprintf(path, sizeof path, "%s/MANIFEST", build);
    keep_file(&manifest_plain, path);
    snprintf(m.segs[0].del, sizeof m.segs[0].del, "seg-000001.ndx.del-2");
    if (ndx_manifest_write(build, &m))
        abort();
    ndx_manifest_clear(&m);
    keep_file(&manifest_del, path);
    snprintf(path, sizeof path, "%s/del", build);
    if (ndx_del_write(path, del, 2))
        abort();
    keep_file(&del_file, path);
    rm_entries(build);
    rmdir(build);
}

static uint64_t
get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void
put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Recomputes the section checksums and the table of contents' checksum
 * when the trailer and table of contents can be found. */
static void
repair(unsigned char *s, size_t len)
{
    uint64_t toc, i, count;

    if (len < 40 || memcmp(s + len - 8, "NDXEND\r\n", 8) != 0)
        return;
    count = (uint64_t)s[len - 24] | (uint64_t)s[len - 23] << 8;
    toc = get_u64(s + len - 16);
    if (count > 64 || toc > len - 24 || len - 24 - toc != count * 24)
        return;
    for (i = 0; i < count; i++) {
        unsigned char *e = s + toc + i * 24;
        uint64_t off = get_u64(e + 8), n = get_u64(e + 16);

        if (off <= toc && n <= toc - off)
            put_u32(e + 4, (uint32_t)crc32(0L, s + off, (uInt)n));
    }
    put_u32(s + len - 20, (uint32_t)crc32(0L, s + toc, (uInt)(count * 24)));
}

/* Whether an input is a whole segment file rather than edits. */
static int
is_whole(const uint8_t *data, size_t size)
{
    return size >= 8 && memcmp(data, "NDXSEG\r\n", 8) == 0;
}

/* The segment an input describes (malloc'd). */
static unsigned char *
make_segment(const uint8_t *data, size_t size, size_t *len)
{
    unsigned char *s;
    size_t n, i;

    if (is_whole(data, size)) {
        s = malloc(size);
        if (!s)
            abort();
        memcpy(s, data, size);
        *len = size;
        return s;
    }
    /* Room for one insertion per operation. */
    s = malloc(tmpl_len + size);
    if (!s)
        abort();
    memcpy(s, tmpl, tmpl_len);
    n = tmpl_len;
    for (i = 1; i + 4 <= size; i += 4) {
        size_t off = n ? (size_t)(data[i + 1] | data[i + 2] << 8) % n : 0;

        switch (data[i] & 3) {
        case 0:
            if (n)
                s[off] = data[i + 3];
            break;
        case 1:
            if (n)
                s[off] ^= data[i + 3];
            break;
        case 2:
            n = off;
            break;
        case 3:
            memmove(s + off + 1, s + off, n - off);
            s[off] = data[i + 3];
            n++;
            break;
        }
    }
    if (data[0] & 2)
        repair(s, n);
    *len = n;
    return s;
}

/* Codes that describe damage (or a record that is absent). */
static void
expect_damage(ndx_status st, int allow_not_found)
{
    if (st == NDX_OK || st == NDX_ECORRUPT || st == NDX_EVERSION ||
        st == NDX_ENOMEM || (allow_not_found && st == NDX_ENOTFOUND))
        return;
    fprintf(stderr, "unexpected status %s: %s\n", ndx_status_name(st),
            ndx_errmsg());
    abort();
}

static const char *const queries[] = {
    "ukraine",
    "\"ukraine peace\"",
    "sanc*",
    "kyiv OR border",
    "ukraine -security",
    "title:summit OR uniq*",
    "ukraine source:wire",
    "talks date:2024-03",
    "peace after:2024-06-01 before:2024-12-31",
    "(grain OR energy) \"ukraine peace\" -kyiv",
    "ukraine unique25",
    "ukraine (unique28 OR unique2)",
    "\"ukraine peace talks\" OR ru*",
    "nowhereword",
    "source:newsweek date:2024",
};

static void
search_all(ndx_index *ix)
{
    const char *srcs[] = {"wire", "Newsweek"};
    ndx_search_opts o;
    size_t q, i;

    for (q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        ndx_results *r = NULL;

        ndx_search_opts_init(&o);
        o.k = 12;
        /* Snippets read the stored text of every hit; a few suffice. */
        o.snippets = q % 3 == 0;
        if (q % 2) {
            o.group = NDX_GROUP_PASSAGE;
            o.sort = q % 4 == 1 ? NDX_SORT_NEWEST : NDX_SORT_OLDEST;
            o.sources = srcs;
            o.source_count = 2;
            o.from_days = 19700;
            o.to_days = 20200;
            o.offset = 2;
        }
        expect_damage(ndx_index_search(ix, queries[q], &o, &r, NULL), 0);
        for (i = 0; r && i < r->count; i++)
            if (!r->hits[i].article || !r->hits[i].source)
                abort();
        ndx_results_free(r);
    }
}

static void
read_all(ndx_index *ix)
{
    ndx_stats st;
    size_t i;

    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        ndx_doc *d = NULL;

        expect_damage(ndx_index_get(ix, ids[i], &d), 1);
        ndx_doc_free(d);
    }
    expect_damage(ndx_index_stats(ix, &st), 0);
    ndx_stats_clear(&st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *seg;
    size_t len;
    ndx_index *ix = NULL;
    ndx_status st;
    int with_del;

    if (!dir)
        setup();
    if (size < 1 || (!tmpl && !is_whole(data, size)))
        return 0;
    with_del = !is_whole(data, size) && (data[0] & 4) != 0;
    seg = make_segment(data, size, &len);
    rm_entries(dir);
    if (put_file("ENGINE", "native\n", 7) ||
        put_file("seg-000001.ndx", seg, len) ||
        put_file("MANIFEST", with_del ? manifest_del.data
                                      : manifest_plain.data,
                 with_del ? manifest_del.len : manifest_plain.len) ||
        (with_del &&
         put_file("seg-000001.ndx.del-2", del_file.data, del_file.len)))
        abort();
    free(seg);

    st = ndx_index_open(&ix, dir, NDX_OPEN_READ, NULL, NULL);
    expect_damage(st, 0);
    if (st == NDX_OK) {
        search_all(ix);
        read_all(ix);
        ndx_index_refresh(ix);
        ndx_index_close(ix);
    }
    expect_damage(ndx_index_check(dir), 0);
    return 0;
}
