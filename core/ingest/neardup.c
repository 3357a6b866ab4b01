/*
 * neardup.c - near-duplicate articles, found at indexing time.
 *
 * Scrapers fetch one article twice (through a redirect and directly, once
 * with a breadcrumb line), and wire stories are printed by many outlets
 * with a line changed here and there.  The exact-text check of the reader
 * misses both.  This module gives each article a signature and finds
 * earlier articles whose signature is within a small Hamming distance:
 *   - of the same source: the article is a copy; the caller indexes it
 *     under the earlier article's id, so that the later copy replaces the
 *     earlier one (one article remains, counted as folded);
 *   - of another source: both are indexed, and the article joins the
 *     earlier one's cluster; a search shows a cluster once, the others'
 *     sources listed in "also_in".
 *
 * SKETCH.  MinHash over word 3-shingles: words are runs of ASCII letters
 * and digits and of non-ASCII bytes (ASCII case folded; a cheap tokenizer,
 * not the analyzer, since only sameness matters); each run of three
 * consecutive words is hashed to 64 bits, and the sketch keeps, for each
 * of NDX_ND_HASHES hash functions, one byte of the smallest hash.  The
 * share of equal bytes of two sketches (corrected for the 1 in 256 chance
 * agreement) estimates the Jaccard similarity of the two shingle sets.
 * Articles of fewer than NDX_ND_MIN_WORDS words are too short to judge and
 * are not recorded.  Two articles are near-identical when the estimate is
 * at least NDX_ND_MIN_SIMILARITY, their word counts are within 20% of
 * each other and their dates at most NDX_ND_MAX_DAYS apart (undated
 * articles match any date).  The threshold was chosen by measurement on the shared
 * corpora (docs/neardup.md: SimHash was tried first and rejected, as it
 * puts templated columns of one source, which share 40% of their
 * shingles, as close as true copies).
 *
 * LOOKUP.  Locality-sensitive hashing: the sketch is cut into ND_BANDS
 * bands of ND_ROWS bytes; articles that agree on a whole band are
 * candidates, and are compared on the whole sketch.  Two articles of
 * similarity 0.8 share a band with probability 1 - (1 - 0.8^4)^16 =
 * 0.9998.  The chains live only while indexing.
 *
 * FORMAT of INDEX/NEARDUP (binary, version 1): magic "NDXNDUP\n",
 * u32 version, u32 source_count, u64 record_count; source_count times
 * (u32 length, bytes) display names; record_count times (NDX_ND_HASHES
 * bytes sketch, u32 words, i32 date in days (INT32_MIN undated), u32
 * source index, u32 cluster (0 alone, else
 * 1 + the index of the record that began the cluster), u32 id length, id
 * bytes); u32 crc32 of everything before it; integers little-endian.  It
 * is written after the engine commits (NEARDUP.tmp, fsync, rename): if
 * that fails the index is good and only the newest clusters are missing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "neardup.h"
#include "newsdex/article.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/hash.h"

#define ND_MAGIC "NDXNDUP\n"
#define ND_VERSION 1
#define ND_BANDS 16
#define ND_ROWS 4 /* ND_BANDS * ND_ROWS == NDX_ND_HASHES */
#define ND_BUCKET_BITS_MIN 10 /* chain heads per band, as a power of two, */
#define ND_BUCKET_BITS_MAX 20 /* grown with the records (one per record) */

typedef struct nd_record {
    unsigned char sketch[NDX_ND_HASHES]; /* MinHash bytes */
    uint32_t words;   /* words of the text */
    int32_t date_days;/* NDX_DATE_NONE when undated */
    uint32_t source;  /* index into sources */
    uint32_t cluster; /* 0 alone, else 1 + index of the cluster's first */
    uint32_t id_off;  /* offset of the NUL-terminated id in ids */
} nd_record;

typedef struct nd_source {
    uint64_t key;     /* hash of the source key */
    uint32_t name_off;/* offset of the display name in names */
} nd_source;

struct ndx_neardup {
    nd_record *recs;
    size_t rec_count, rec_cap;
    uint32_t *next;          /* ND_BANDS per record: chain links, idx+1 */
    uint32_t *heads;         /* ND_BANDS x 2^bucket_bits chain heads,
                                idx+1; NULL until the first _add */
    unsigned bucket_bits;    /* log2 of the heads per band */
    uint32_t *id_map;        /* open addressing on id hash: idx+1 */
    size_t id_slots;         /* power of two */
    ndx_buf ids;             /* NUL-terminated ids */
    nd_source *sources;
    size_t source_count, source_cap;
    ndx_buf names;           /* NUL-terminated display names */
    uint32_t *members;       /* records with a cluster, by (cluster, index);
                                built lazily for ndx_neardup_sources */
    size_t member_count;
    int members_built;
    uint64_t folded, clustered;
};

static uint64_t
hash_str(const char *s, size_t len)
{
    return ndx_mix64(ndx_fnv1a64(s, len));
}

static int
word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z');
}

/* The hash functions of the sketch: odd multipliers, taken from a fixed
 * generator so that sketches stay comparable across runs (a change is a
 * new NEARDUP version). */
static uint64_t mult[NDX_ND_HASHES];
static pthread_once_t mult_once = PTHREAD_ONCE_INIT;

static void
mult_init(void)
{
    uint64_t x = 0x6e6561726475700aULL;
    unsigned k;

    for (k = 0; k < NDX_ND_HASHES; k++) {
        x += 0x9e3779b97f4a7c15ULL;
        mult[k] = ndx_mix64(x) | 1;
    }
}

/* Lowers each minimum by the shingle hash sh under hash function k.  The
 * 64 products are the sketch's cost; on x86-64 a copy of this loop built
 * for AVX2 (chosen at load time when the processor has it) does four at
 * once, with the same results. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void
mins_lower(uint32_t mins[NDX_ND_HASHES], uint64_t sh)
{
    unsigned k;

    for (k = 0; k < NDX_ND_HASHES; k++) {
        uint32_t v = (uint32_t)((sh * mult[k]) >> 32);
        mins[k] = v < mins[k] ? v : mins[k];
    }
}

uint32_t
ndx_neardup_sketch(const char *text, size_t len,
                   unsigned char sketch[NDX_ND_HASHES])
{
    const unsigned char *p = (const unsigned char *)text;
    uint32_t mins[NDX_ND_HASHES];
    uint64_t w0 = 0, w1 = 0, w2 = 0;
    uint32_t n = 0;
    size_t i = 0;
    unsigned k;

    pthread_once(&mult_once, mult_init);
    for (k = 0; k < NDX_ND_HASHES; k++)
        mins[k] = UINT32_MAX;
    while (i < len) {
        uint64_t h = 0xcbf29ce484222325ULL;

        while (i < len && !word_byte(p[i]))
            i++;
        if (i >= len)
            break;
        while (i < len && word_byte(p[i])) {
            unsigned char c = p[i++];
            h ^= (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
            h *= 0x100000001b3ULL;
        }
        w0 = w1;
        w1 = w2;
        w2 = h;
        if (++n >= 3) {
            mins_lower(mins, ndx_mix64(w0 ^ ((w1 << 21) | (w1 >> 43))
                                       ^ ((w2 << 42) | (w2 >> 22))));
        }
    }
    /* One byte of each minimum: two sketches agree on a byte by chance
     * 1 time in 256, which ndx_neardup_similarity corrects for. */
    for (k = 0; k < NDX_ND_HASHES; k++)
        sketch[k] = (unsigned char)(mins[k] >> 24 ^ mins[k]);
    return n;
}

double
ndx_neardup_similarity(const unsigned char *a, const unsigned char *b)
{
    unsigned k, same = 0;
    double f;

    for (k = 0; k < NDX_ND_HASHES; k++)
        same += a[k] == b[k];
    f = ((double)same / NDX_ND_HASHES - 1.0 / 256) / (1 - 1.0 / 256);
    return f < 0 ? 0 : f;
}

ndx_status
ndx_neardup_new(ndx_neardup **out)
{
    ndx_neardup *d = calloc(1, sizeof *d);

    *out = NULL;
    if (!d)
        return ndx_error(NDX_ENOMEM, "out of memory (near-duplicates)");
    ndx_buf_init(&d->ids);
    ndx_buf_init(&d->names);
    *out = d;
    return NDX_OK;
}

size_t
ndx_neardup_memory(const ndx_neardup *d)
{
    if (!d)
        return 0;
    return d->rec_cap * (sizeof *d->recs + ND_BANDS * sizeof *d->next) +
           (d->heads ? (size_t)ND_BANDS << d->bucket_bits : 0) *
               sizeof *d->heads +
           d->id_slots * sizeof *d->id_map + d->ids.cap + d->names.cap +
           d->source_cap * sizeof *d->sources +
           d->member_count * sizeof *d->members;
}

void
ndx_neardup_free(ndx_neardup *d)
{
    if (!d)
        return;
    free(d->recs);
    free(d->next);
    free(d->heads);
    free(d->id_map);
    free(d->sources);
    free(d->members);
    ndx_buf_free(&d->ids);
    ndx_buf_free(&d->names);
    free(d);
}

static const char *
rec_id(const ndx_neardup *d, const nd_record *r)
{
    return (const char *)d->ids.data + r->id_off;
}

/* The record of id, or -1. */
static long
find_id(const ndx_neardup *d, const char *id)
{
    size_t s;

    if (!d->id_slots)
        return -1;
    s = (size_t)hash_str(id, strlen(id)) & (d->id_slots - 1);
    while (d->id_map[s]) {
        const nd_record *r = &d->recs[d->id_map[s] - 1];
        if (strcmp(rec_id(d, r), id) == 0)
            return (long)d->id_map[s] - 1;
        s = (s + 1) & (d->id_slots - 1);
    }
    return -1;
}

static void
id_insert(ndx_neardup *d, uint32_t idx)
{
    const char *id = rec_id(d, &d->recs[idx]);
    size_t s = (size_t)hash_str(id, strlen(id)) & (d->id_slots - 1);

    while (d->id_map[s])
        s = (s + 1) & (d->id_slots - 1);
    d->id_map[s] = idx + 1;
}

/* Rebuilds the id map with room for twice the records. */
static ndx_status
id_map_rebuild(ndx_neardup *d)
{
    size_t slots = 1024, i;
    uint32_t *map;

    while (slots < d->rec_count * 4)
        slots *= 2;
    map = calloc(slots, sizeof *map);

    if (!map)
        return ndx_error(NDX_ENOMEM, "out of memory (near-duplicates)");
    free(d->id_map);
    d->id_map = map;
    d->id_slots = slots;
    for (i = 0; i < d->rec_count; i++)
        id_insert(d, (uint32_t)i);
    return NDX_OK;
}

/* The index of a source by its key, added when new; -1 on ENOMEM. */
static long
source_index(ndx_neardup *d, const char *name)
{
    char key[256];
    size_t n = ndx_source_key(name, key, sizeof key), i;
    uint64_t k = hash_str(key, n);

    /* Archives have hundreds of sources, not millions: a scan will do,
     * from the end since articles of one source tend to come together. */
    for (i = d->source_count; i-- > 0;)
        if (d->sources[i].key == k)
            return (long)i;
    if (ndx_grow((void **)&d->sources, &d->source_cap, d->source_count + 1,
                 sizeof *d->sources, 64)) {
        ndx_error(NDX_ENOMEM, "out of memory (near-duplicates)");
        return -1;
    }
    d->sources[d->source_count].key = k;
    d->sources[d->source_count].name_off = (uint32_t)d->names.len;
    if (ndx_buf_put(&d->names, name, strlen(name) + 1))
        return -1;
    return (long)d->source_count++;
}

static size_t
band_bucket(const ndx_neardup *d, const unsigned char *sketch, unsigned band)
{
    const unsigned char *q = sketch + band * ND_ROWS;
    uint64_t v = (uint64_t)q[0] | (uint64_t)q[1] << 8 | (uint64_t)q[2] << 16
                 | (uint64_t)q[3] << 24;

    return ((size_t)band << d->bucket_bits)
           | (size_t)(ndx_mix64(v ^ (uint64_t)band << 40)
                      & ((1u << d->bucket_bits) - 1));
}

static void
chain_insert(ndx_neardup *d, uint32_t idx)
{
    unsigned b;

    for (b = 0; b < ND_BANDS; b++) {
        uint32_t *head = &d->heads[band_bucket(d, d->recs[idx].sketch, b)];

        d->next[(size_t)idx * ND_BANDS + b] = *head;
        *head = idx + 1;
    }
}

/* Takes a record out of its chains (before its sketch changes). */
static void
chain_remove(ndx_neardup *d, uint32_t idx)
{
    unsigned b;

    for (b = 0; b < ND_BANDS; b++) {
        uint32_t *link = &d->heads[band_bucket(d, d->recs[idx].sketch, b)];

        while (*link && *link != idx + 1)
            link = &d->next[(size_t)(*link - 1) * ND_BANDS + b];
        if (*link)
            *link = d->next[(size_t)idx * ND_BANDS + b];
    }
}

/* Builds the chains (for _add) the first time they are needed, and again
 * with more heads each time the records outnumber the heads of a band, so
 * that a small index does not pay for a large table and chains stay
 * short. */
static ndx_status
chains_build(ndx_neardup *d)
{
    unsigned bits = ND_BUCKET_BITS_MIN;
    uint32_t *heads, *next;
    size_t i;

    while (bits < ND_BUCKET_BITS_MAX && ((size_t)1 << bits) < d->rec_count + 1)
        bits++;
    if (d->heads && bits <= d->bucket_bits)
        return NDX_OK;
    heads = calloc((size_t)ND_BANDS << bits, sizeof *heads);
    next = realloc(d->next, (d->rec_cap ? d->rec_cap : 1) * ND_BANDS
                                * sizeof *next);
    if (!heads || !next) {
        free(heads);
        if (next)
            d->next = next;
        return ndx_error(NDX_ENOMEM, "out of memory (near-duplicates)");
    }
    free(d->heads);
    d->heads = heads;
    d->next = next;
    d->bucket_bits = bits;
    for (i = 0; i < d->rec_count; i++)
        chain_insert(d, (uint32_t)i);
    return NDX_OK;
}

/* Appends a record (not yet in the chains or the id map). */
static long
push_record(ndx_neardup *d, const char *id, uint32_t source,
            const unsigned char *sketch, uint32_t words, int32_t date_days,
            uint32_t cluster)
{
    size_t cap = d->rec_cap;
    nd_record *r;

    if (d->rec_count >= UINT32_MAX - 1) {
        ndx_error(NDX_ENOMEM, "too many articles for near-duplicates");
        return -1;
    }
    if (ndx_grow((void **)&d->recs, &d->rec_cap, d->rec_count + 1,
                 sizeof *d->recs, 1024)) {
        ndx_error(NDX_ENOMEM, "out of memory (near-duplicates)");
        return -1;
    }
    if (d->rec_cap != cap && d->heads) {
        uint32_t *nx = realloc(d->next, d->rec_cap * ND_BANDS * sizeof *nx);
        if (!nx) {
            ndx_error(NDX_ENOMEM, "out of memory (near-duplicates)");
            return -1;
        }
        d->next = nx;
    }
    r = &d->recs[d->rec_count];
    memcpy(r->sketch, sketch, NDX_ND_HASHES);
    r->words = words;
    r->date_days = date_days;
    r->source = source;
    r->cluster = cluster;
    r->id_off = (uint32_t)d->ids.len;
    if (ndx_buf_put(&d->ids, id, strlen(id) + 1))
        return -1;
    d->members_built = 0;
    return (long)d->rec_count++;
}

/* The most similar earlier record at or above the threshold (skipping
 * self), the same source preferred at equal similarity; -1 when none. */
static long
nearest(const ndx_neardup *d, const unsigned char *sketch, uint32_t words,
        int32_t date_days, uint32_t source, long self)
{
    long best = -1;
    double best_sim = 0;
    unsigned b;

    for (b = 0; b < ND_BANDS; b++) {
        uint32_t at = d->heads[band_bucket(d, sketch, b)];

        while (at) {
            const nd_record *r = &d->recs[at - 1];
            long idx = (long)at - 1;
            uint32_t lo = r->words < words ? r->words : words;
            uint32_t hi = r->words < words ? words : r->words;
            double sim;

            at = d->next[(size_t)idx * ND_BANDS + b];
            if (idx == self || (uint64_t)lo * 5 < (uint64_t)hi * 4)
                continue;
            if (date_days != NDX_DATE_NONE && r->date_days != NDX_DATE_NONE
                && llabs((long long)date_days - r->date_days)
                       > NDX_ND_MAX_DAYS)
                continue;
            sim = ndx_neardup_similarity(r->sketch, sketch);
            if (sim < NDX_ND_MIN_SIMILARITY)
                continue;
            if (best < 0 || sim > best_sim
                || (sim == best_sim && r->source == source
                    && d->recs[best].source != source)) {
                best = idx;
                best_sim = sim;
            }
        }
    }
    return best;
}

ndx_status
ndx_neardup_add(ndx_neardup *d, const char *id, const char *source,
                int32_t date_days, const char *text, size_t len,
                int *verdict, const char **earlier)
{
    unsigned char sketch[NDX_ND_HASHES];
    uint32_t words = ndx_neardup_sketch(text, len, sketch);

    return ndx_neardup_add_sketched(d, id, source, date_days, sketch, words,
                                    verdict, earlier);
}

ndx_status
ndx_neardup_add_sketched(ndx_neardup *d, const char *id, const char *source,
                         int32_t date_days, const unsigned char *sketch,
                         uint32_t words, int *verdict, const char **earlier)
{
    long src, self, near;
    ndx_status st;

    *verdict = NDX_ND_NEW;
    *earlier = NULL;
    if (words < NDX_ND_MIN_WORDS)
        return NDX_OK;
    if ((st = chains_build(d)))
        return st;
    if ((src = source_index(d, source ? source : "unknown")) < 0)
        return NDX_ENOMEM;
    self = find_id(d, id);
    near = nearest(d, sketch, words, date_days, (uint32_t)src, self);
    if (self < 0 && near >= 0 && d->recs[near].source == (uint32_t)src) {
        /* A copy: it replaces the earlier article under that id. */
        d->recs[near].words = words;
        d->recs[near].date_days = date_days;
        *verdict = NDX_ND_SAME_SOURCE;
        *earlier = rec_id(d, &d->recs[near]);
        d->folded++;
        return NDX_OK;
    }
    if (near >= 0 && d->recs[near].source != (uint32_t)src) {
        if (!d->recs[near].cluster)
            d->recs[near].cluster = (uint32_t)near + 1;
        *verdict = NDX_ND_CLUSTER;
        d->clustered++;
    }
    if (self >= 0) {
        /* The same id again: re-judged with its new text, and moved to
         * the chains of its new sketch. */
        nd_record *r = &d->recs[self];

        chain_remove(d, (uint32_t)self);
        memcpy(r->sketch, sketch, NDX_ND_HASHES);
        r->words = words;
        r->date_days = date_days;
        r->source = (uint32_t)src;
        r->cluster = *verdict == NDX_ND_CLUSTER ? d->recs[near].cluster : 0;
        d->members_built = 0;
        chain_insert(d, (uint32_t)self);
        return NDX_OK;
    }
    if ((self = push_record(d, id, (uint32_t)src, sketch, words, date_days,
                            *verdict == NDX_ND_CLUSTER
                                ? d->recs[near].cluster : 0)) < 0)
        return NDX_ENOMEM;
    if (d->rec_count > ((size_t)1 << d->bucket_bits)
        && d->bucket_bits < ND_BUCKET_BITS_MAX) {
        d->rec_count--; /* rebuilt without it, then inserted below */
        st = chains_build(d);
        d->rec_count++;
        if (st)
            return st;
    }
    chain_insert(d, (uint32_t)self);
    if (d->rec_count * 2 > d->id_slots)
        return id_map_rebuild(d); /* inserts every record, this one too */
    id_insert(d, (uint32_t)self);
    return NDX_OK;
}

void
ndx_neardup_counts(const ndx_neardup *d, uint64_t *folded,
                   uint64_t *clustered)
{
    *folded = d ? d->folded : 0;
    *clustered = d ? d->clustered : 0;
}

ndx_status
ndx_neardup_save(const ndx_neardup *d, const char *dir)
{
    ndx_buf b;
    ndx_status st = NDX_OK;
    size_t i;
    char path[4096];

    ndx_buf_init(&b);
    if (ndx_buf_put(&b, ND_MAGIC, 8) || ndx_buf_put_u32le(&b, ND_VERSION)
        || ndx_buf_put_u32le(&b, (uint32_t)d->source_count)
        || ndx_buf_put_u64le(&b, d->rec_count))
        goto nomem;
    for (i = 0; i < d->source_count; i++) {
        const char *name = (const char *)d->names.data + d->sources[i].name_off;
        size_t n = strlen(name);
        if (ndx_buf_put_u32le(&b, (uint32_t)n) || ndx_buf_put(&b, name, n))
            goto nomem;
    }
    for (i = 0; i < d->rec_count; i++) {
        const nd_record *r = &d->recs[i];
        const char *id = rec_id(d, r);
        size_t n = strlen(id);
        if (ndx_buf_put(&b, r->sketch, NDX_ND_HASHES)
            || ndx_buf_put_u32le(&b, r->words)
            || ndx_buf_put_u32le(&b, (uint32_t)r->date_days)
            || ndx_buf_put_u32le(&b, r->source)
            || ndx_buf_put_u32le(&b, r->cluster)
            || ndx_buf_put_u32le(&b, (uint32_t)n) || ndx_buf_put(&b, id, n))
            goto nomem;
    }
    if (ndx_buf_put_u32le(&b, (uint32_t)crc32(0L, b.data, (uInt)b.len)))
        goto nomem;
    snprintf(path, sizeof path, "%s/NEARDUP", dir);
    st = ndx_write_durable(dir, path, b.data, b.len);
    ndx_buf_free(&b);
    return st;
nomem:
    ndx_buf_free(&b);
    return ndx_error(NDX_ENOMEM, "out of memory (near-duplicates)");
}

static ndx_status
corrupt(const char *path, const char *what)
{
    return ndx_error(NDX_ECORRUPT,
                     "%s: %s; rebuild the index (newsdex-index -o without "
                     "--add) or remove the file to search without clusters",
                     path, what);
}

ndx_status
ndx_neardup_load(ndx_neardup *d, const char *dir)
{
    char path[4096];
    unsigned char *raw = NULL;
    const unsigned char *p, *end;
    size_t len = 0, cap = 0, n;
    uint32_t sources, i;
    uint64_t recs, k;
    ndx_status st = NDX_OK;
    FILE *f;

    snprintf(path, sizeof path, "%s/NEARDUP", dir);
    if (!(f = fopen(path, "rb")))
        return ndx_error(NDX_ENOTFOUND, "%s: no such file", path);
    for (;;) {
        if (ndx_grow((void **)&raw, &cap, len + 1, 1, 65536)) {
            fclose(f);
            free(raw);
            return ndx_error(NDX_ENOMEM, "out of memory (%s)", path);
        }
        n = fread(raw + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fclose(f);
        free(raw);
        return ndx_error(NDX_EIO, "read %s failed", path);
    }
    fclose(f);
    end = raw + len;
    if (len < 28 || memcmp(raw, ND_MAGIC, 8) != 0) {
        st = corrupt(path, "not a near-duplicate file");
        goto out;
    }
    if (ndx_get_u32le(raw + 8) != ND_VERSION) {
        st = corrupt(path, "written by another version of newsdex");
        goto out;
    }
    if (ndx_get_u32le(end - 4) != (uint32_t)crc32(0L, raw, (uInt)(len - 4))) {
        st = corrupt(path, "checksum mismatch");
        goto out;
    }
    end -= 4;
    sources = ndx_get_u32le(raw + 12);
    recs = ndx_get_u64le(raw + 16);
    p = raw + 24;
    for (i = 0; i < sources; i++) {
        uint32_t sl;
        char name[1024];
        if (end - p < 4 || (sl = ndx_get_u32le(p)) > (size_t)(end - p - 4)
            || sl >= sizeof name) {
            st = corrupt(path, "truncated source table");
            goto out;
        }
        memcpy(name, p + 4, sl);
        name[sl] = '\0';
        p += 4 + sl;
        if (source_index(d, name) != (long)i) {
            st = d->source_count > i ? corrupt(path, "repeated source")
                                     : NDX_ENOMEM;
            goto out;
        }
    }
    for (k = 0; k < recs; k++) {
        const size_t fixed = NDX_ND_HASHES + 20;
        uint32_t il, src, cl, words;
        int32_t days;
        const unsigned char *sketch = p;
        char id[4096];
        long idx;
        if ((size_t)(end - p) < fixed
            || (il = ndx_get_u32le(p + fixed - 4)) > (size_t)(end - p) - fixed
            || il >= sizeof id) {
            st = corrupt(path, "truncated record");
            goto out;
        }
        words = ndx_get_u32le(p + NDX_ND_HASHES);
        days = (int32_t)ndx_get_u32le(p + NDX_ND_HASHES + 4);
        src = ndx_get_u32le(p + NDX_ND_HASHES + 8);
        cl = ndx_get_u32le(p + NDX_ND_HASHES + 12);
        memcpy(id, p + fixed, il);
        id[il] = '\0';
        p += fixed + il;
        if (src >= sources || cl > recs) {
            st = corrupt(path, "record out of range");
            goto out;
        }
        if ((idx = push_record(d, id, src, sketch, words, days, cl)) < 0) {
            st = NDX_ENOMEM;
            goto out;
        }
    }
    if (p != end) {
        st = corrupt(path, "trailing bytes");
        goto out;
    }
    st = id_map_rebuild(d);
out:
    free(raw);
    return st;
}

void
ndx_neardup_prefetch(const ndx_neardup *d, const char *const *ids, size_t n)
{
    size_t slots[32], i;

    if (!d || !d->id_slots)
        return;
    if (n > 32)
        n = 32;
    for (i = 0; i < n; i++) {
        slots[i] = (size_t)hash_str(ids[i], strlen(ids[i])) &
                   (d->id_slots - 1);
        __builtin_prefetch(&d->id_map[slots[i]]);
    }
    for (i = 0; i < n; i++)
        if (d->id_map[slots[i]])
            __builtin_prefetch(&d->recs[d->id_map[slots[i]] - 1]);
    for (i = 0; i < n; i++)
        if (d->id_map[slots[i]])
            __builtin_prefetch(rec_id(d, &d->recs[d->id_map[slots[i]] - 1]));
}

uint32_t
ndx_neardup_cluster(const ndx_neardup *d, const char *id)
{
    long idx = d ? find_id(d, id) : -1;

    return idx < 0 ? 0 : d->recs[idx].cluster;
}

static int
cmp_member(const void *a, const void *b, void *ctx)
{
    const ndx_neardup *d = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint32_t cx = d->recs[x].cluster, cy = d->recs[y].cluster;

    if (cx != cy)
        return cx < cy ? -1 : 1;
    return x < y ? -1 : x > y;
}

ndx_status
ndx_neardup_prepare(ndx_neardup *d)
{
    size_t i, n = 0;
    uint32_t *m;

    for (i = 0; i < d->rec_count; i++)
        n += d->recs[i].cluster != 0;
    if (!(m = malloc((n ? n : 1) * sizeof *m)))
        return ndx_error(NDX_ENOMEM, "out of memory (near-duplicates)");
    n = 0;
    for (i = 0; i < d->rec_count; i++)
        if (d->recs[i].cluster)
            m[n++] = (uint32_t)i;
    qsort_r(m, n, sizeof *m, cmp_member, d);
    free(d->members);
    d->members = m;
    d->member_count = n;
    d->members_built = 1;
    return NDX_OK;
}

size_t
ndx_neardup_sources(const ndx_neardup *d, uint32_t cluster,
                    const char *except_source, const char **out, size_t cap)
{
    char key[256];
    uint64_t except;
    size_t lo = 0, hi, total = 0, i, j;

    if (!d || !cluster || !d->members_built)
        return 0;
    except = hash_str(key, ndx_source_key(except_source ? except_source : "",
                                          key, sizeof key));
    hi = d->member_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->recs[d->members[mid]].cluster < cluster)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (i = lo; i < d->member_count
                 && d->recs[d->members[i]].cluster == cluster; i++) {
        const nd_source *s = &d->sources[d->recs[d->members[i]].source];
        int seen = s->key == except;

        for (j = lo; !seen && j < i; j++)
            seen = d->recs[d->members[j]].source
                   == d->recs[d->members[i]].source;
        if (seen)
            continue;
        if (total < cap)
            out[total] = (const char *)d->names.data + s->name_off;
        total++;
    }
    return total;
}
