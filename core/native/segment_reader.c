/*
 * segment_reader.c - maps a native segment read-only and reads it: the
 * dictionary, postings cursors with skipping, positions, columns, the
 * article table and stored text.
 *
 * Every read is bounds-checked against its section, so a damaged file
 * gives NDX_ECORRUPT (or a cursor that stops and says so), never a crash.
 * Opening checks the header, trailer, table of contents and section
 * bounds, and when asked every section checksum (readers ask: a damaged
 * segment is never served; verifying runs crc32 at several GB/s over the
 * map, which also brings the file into the page cache).  ndx_seg_check
 * (`--check`) also walks every structure.  A file truncated or modified
 * after it was opened is caught by the map guard (util/mapguard.h) and by
 * ndx_seg_recheck.  The layout is documented in segment.h.
 */
#include "segment.h"
#include "filter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/ids.h"
#include "util/file.h"
#include "util/flate.h"
#include "util/mapguard.h"

#define TERM_BYTES_MAX NDX_SEG_TERM_MAX

static ndx_status
corrupt(const char *path, const char *what)
{
    return ndx_error(NDX_ECORRUPT,
                     "%s: damaged segment (%s); rebuild the index or "
                     "restore it from a copy",
                     path, what);
}

static uint32_t
crc_of(const unsigned char *p, uint64_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);

    while (len) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}

/* The crc32 of len bytes at off of fd, read with read calls into buf
 * (cap bytes): -1 when the file is shorter or cannot be read. */
static int
crc_read(int fd, uint64_t off, uint64_t len, unsigned char *buf, size_t cap,
         uint32_t *out)
{
    uLong crc = crc32(0L, Z_NULL, 0);

    while (len) {
        size_t want = len < cap ? (size_t)len : cap;

        if (ndx_pread_full(fd, buf, want, off) != (ssize_t)want)
            return -1;
        crc = crc32(crc, buf, (uInt)want);
        off += want;
        len -= want;
    }
    *out = (uint32_t)crc;
    return 0;
}

#define VERIFY_CHUNK (1u << 20) /* bytes read at a time to verify */

void
ndx_seg_close(ndx_seg *s)
{
    size_t i;

    if (!s)
        return;
    ndx_mapguard_remove(s->guard_slot);
    if (s->map && s->map_len)
        munmap((void *)s->map, s->map_len);
    for (i = 0; i < s->source_count; i++) {
        free((char *)s->sources[i].name);
        free((char *)s->sources[i].key);
    }
    free(s->sources);
    ndx_segfilter_free(s->filter);
    free(s->path);
    free(s);
}

static ndx_status
parse_sources(ndx_seg *s, uint64_t count)
{
    const unsigned char *p = s->sec[SEC_SOURCES];
    const unsigned char *end = p + s->sec_len[SEC_SOURCES];
    size_t i;

    if (count > s->sec_len[SEC_SOURCES] / 8)
        return corrupt(s->path, "source count");
    s->sources = calloc(count ? count : 1, sizeof *s->sources);
    if (!s->sources)
        return ndx_error(NDX_ENOMEM, "out of memory (sources)");
    for (i = 0; i < count; i++) {
        uint32_t n;
        char *str[2];
        int k;

        /* Counted before its strings, so that closing after a failure
         * half-way frees what was copied. */
        s->source_count = i + 1;
        for (k = 0; k < 2; k++) {
            if (end - p < 4)
                return corrupt(s->path, "sources");
            n = ndx_get_u32le(p);
            p += 4;
            if ((uint64_t)(end - p) < n)
                return corrupt(s->path, "sources");
            str[k] = malloc(n + 1);
            if (!str[k])
                return ndx_error(NDX_ENOMEM, "out of memory (sources)");
            memcpy(str[k], p, n);
            str[k][n] = '\0';
            p += n;
            if (k == 0)
                s->sources[i].name = str[0];
            else
                s->sources[i].key = str[1];
        }
    }
    return NDX_OK;
}

/* The runs of text blocks and their dictionaries (TEXTDICTS): the first
 * from block 0, each later one after the one before, each dictionary
 * inside TEXTDICT and no longer than a writer makes one. */
static ndx_status
check_text_runs(const ndx_seg *s)
{
    uint64_t n = s->sec_len[SEC_TEXTDICTS] / 16, i;

    for (i = 0; i < n; i++) {
        const unsigned char *e = s->sec[SEC_TEXTDICTS] + i * 16;
        uint32_t first = ndx_get_u32le(e), len = ndx_get_u32le(e + 4);
        uint64_t off = ndx_get_u64le(e + 8);

        if ((i == 0 ? first != 0
                    : first <= ndx_get_u32le(e - 16) ||
                          first >= s->text_blocks) ||
            len > NDX_SEG_TEXT_DICT || off > s->sec_len[SEC_TEXTDICT] ||
            len > s->sec_len[SEC_TEXTDICT] - off)
            return corrupt(s->path, "text dictionaries");
    }
    return NDX_OK;
}

/* The preset dictionary of text block `block` (checked at open). */
static inline void
text_dict(const ndx_seg *s, uint32_t block, const unsigned char **dict,
          uint32_t *len)
{
    const unsigned char *e = s->sec[SEC_TEXTDICTS];
    size_t lo = 0, hi = s->sec_len[SEC_TEXTDICTS] / 16;

    /* The last run starting at or before the block. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (ndx_get_u32le(e + mid * 16) <= block)
            lo = mid;
        else
            hi = mid;
    }
    e += lo * 16;
    *len = ndx_get_u32le(e + 4);
    *dict = s->sec[SEC_TEXTDICT] + ndx_get_u64le(e + 8);
}

void
ndx_seg_text_dict_any(const ndx_seg *s, const unsigned char **dict,
                      uint32_t *len)
{
    uint64_t n = s->sec_len[SEC_TEXTDICTS] / 16, i;

    *dict = NULL;
    *len = 0;
    for (i = 0; i < n; i++) {
        const unsigned char *e = s->sec[SEC_TEXTDICTS] + i * 16;

        if (ndx_get_u32le(e + 4)) {
            *dict = s->sec[SEC_TEXTDICT] + ndx_get_u64le(e + 8);
            *len = ndx_get_u32le(e + 4);
            return;
        }
    }
}

/* Numbers the segments opened, for the inflated-block cache: a segment
 * closed and another opened at the same address must not share entries. */
static atomic_uint_fast64_t seg_uids;

ndx_status
ndx_seg_open(ndx_seg **out, const char *path, int verify)
{
    ndx_seg *s = calloc(1, sizeof *s);
    struct stat sb;
    int fd = -1;
    ndx_status st = NDX_OK;
    const unsigned char *m, *toc, *tr;
    unsigned char *verify_buf = NULL;
    uint64_t toc_off, n, i;
    uint32_t crc;

    *out = NULL;
    if (s)
        s->guard_slot = -1;
    if (!s || !(s->path = strdup(path))) {
        st = ndx_error(NDX_ENOMEM, "out of memory");
        goto fail;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = ndx_error(errno == ENOENT ? NDX_ENOTFOUND : NDX_EIO,
                       "open %s: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &sb) != 0) {
        st = ndx_error(NDX_EIO, "stat %s: %s", path, strerror(errno));
        goto fail;
    }
    if (sb.st_size < 16 + 24) {
        st = corrupt(path, "file too short");
        goto fail;
    }
    s->map_len = (size_t)sb.st_size;
    /* Verifying reads every byte, with read calls (verify_buf): through
     * the map, every page of the segment would stay in the process's
     * resident memory (adding 50 articles to an index of 441 MB peaked at
     * 482 MB). */
    if (verify && !(verify_buf = malloc(VERIFY_CHUNK))) {
        st = ndx_error(NDX_ENOMEM, "out of memory");
        goto fail;
    }
    s->map = mmap(NULL, s->map_len, PROT_READ, MAP_SHARED, fd, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        st = ndx_error(NDX_EIO, "mmap %s: %s", path, strerror(errno));
        goto fail;
    }
    s->file_dev = (uint64_t)sb.st_dev;
    s->file_ino = (uint64_t)sb.st_ino;
    s->file_mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
                       sb.st_mtim.tv_nsec;
    s->guard_slot = ndx_mapguard_add(s->map, s->map_len, &s->damaged);
    m = s->map;
    if (memcmp(m, "NDXSEG\r\n", 8) != 0) {
        st = corrupt(path, "bad magic");
        goto fail;
    }
    if (ndx_get_u32le(m + 8) != NDX_SEG_VERSION) {
        st = ndx_error(NDX_EVERSION,
                       "%s: segment format version %u, this newsdex reads "
                       "version %u; rebuild the index with this version",
                       path, ndx_get_u32le(m + 8), NDX_SEG_VERSION);
        goto fail;
    }
    /* No checksum covers the header: its zero field is checked here. */
    if (ndx_get_u32le(m + 12) != 0) {
        st = corrupt(path, "header");
        goto fail;
    }
    tr = m + s->map_len - 24;
    if (memcmp(tr + 16, "NDXEND\r\n", 8) != 0) {
        st = corrupt(path, "bad trailer (file truncated?)");
        goto fail;
    }
    n = ndx_get_u32le(tr);
    toc_off = ndx_get_u64le(tr + 8);
    if (n != SEC_COUNT_PLUS_ONE - 1 || toc_off > s->map_len - 24 ||
        (s->map_len - 24 - toc_off) != n * 24) {
        st = corrupt(path, "table of contents");
        goto fail;
    }
    toc = m + toc_off;
    if (crc_of(toc, n * 24) != ndx_get_u32le(tr + 4)) {
        st = corrupt(path, "table of contents checksum");
        goto fail;
    }
    for (i = 0; i < n; i++) {
        const unsigned char *e = toc + i * 24;
        uint32_t id = ndx_get_u32le(e);
        uint64_t off = ndx_get_u64le(e + 8), len = ndx_get_u64le(e + 16);

        if (id != i + 1 || off < 16 || off > toc_off || len > toc_off - off) {
            st = corrupt(path, "section bounds");
            goto fail;
        }
        s->sec[id] = m + off;
        s->sec_len[id] = len;
        s->sec_crc[id] = ndx_get_u32le(e + 4);
        if (verify && (crc_read(fd, off, len, verify_buf, VERIFY_CHUNK,
                                &crc) != 0 ||
                       crc != s->sec_crc[id])) {
            st = corrupt(path, "section checksum");
            goto fail;
        }
    }
    if (s->sec_len[SEC_META] < 72) {
        st = corrupt(path, "meta section");
        goto fail;
    }
    if (crc_of(s->sec[SEC_META], s->sec_len[SEC_META]) !=
        s->sec_crc[SEC_META]) {
        st = corrupt(path, "meta checksum");
        goto fail;
    }
    m = s->sec[SEC_META];
    s->passages = ndx_get_u64le(m);
    s->articles = ndx_get_u64le(m + 8);
    s->total_len = ndx_get_u64le(m + 16);
    s->terms = ndx_get_u64le(m + 24);
    s->first_days = (int32_t)(int64_t)ndx_get_u64le(m + 32);
    s->last_days = (int32_t)(int64_t)ndx_get_u64le(m + 40);
    s->dict_blocks = ndx_get_u64le(m + 48);
    s->text_blocks = ndx_get_u64le(m + 56);
    /* Counts are bounded first so that the products below cannot wrap. */
    if (s->passages >= UINT32_MAX || s->articles >= UINT32_MAX ||
        s->dict_blocks > s->map_len || s->text_blocks > s->map_len ||
        s->sec_len[SEC_COLUMNS] != s->passages * 8 ||
        s->sec_len[SEC_LENGTHS] != 0 ||
        s->sec_len[SEC_TEXTLOC] != s->passages * 12 ||
        s->sec_len[SEC_ARTICLES] != s->articles * 32 ||
        s->sec_len[SEC_IDS] != s->articles * 16 ||
        s->sec_len[SEC_DICTIDX] != s->dict_blocks * 16 ||
        s->sec_len[SEC_TEXTIDX] != s->text_blocks * 16 ||
        s->sec_len[SEC_TEXTDICTS] % 16 != 0 ||
        s->sec_len[SEC_TEXTDICTS] == 0) {
        st = corrupt(path, "section sizes disagree with the meta section");
        goto fail;
    }
    if ((st = check_text_runs(s)))
        goto fail;
    if ((st = parse_sources(s, ndx_get_u64le(m + 64))) ||
        (st = ndx_segfilter_build(s, &s->filter)))
        goto fail;
    s->uid = atomic_fetch_add(&seg_uids, 1) + 1;
    close(fd);
    free(verify_buf);
    *out = s;
    return NDX_OK;
fail:
    if (fd >= 0)
        close(fd);
    free(verify_buf);
    ndx_seg_close(s);
    return st;
}

void
ndx_seg_release(const ndx_seg *s)
{
    if (s->map && s->map_len)
        (void)madvise((void *)s->map, s->map_len, MADV_DONTNEED);
}

/* Verifies the table of contents and every section checksum over the
 * map: 0 when they all match. */
static int
verify_map(const ndx_seg *s)
{
    const unsigned char *tr = s->map + s->map_len - 24;
    uint64_t toc_off = ndx_get_u64le(tr + 8), n = ndx_get_u32le(tr), i;

    if (memcmp(tr + 16, "NDXEND\r\n", 8) != 0 ||
        n != SEC_COUNT_PLUS_ONE - 1 || toc_off > s->map_len - 24 ||
        crc_of(s->map + toc_off, n * 24) != ndx_get_u32le(tr + 4))
        return -1;
    for (i = 1; i <= n; i++)
        if (crc_of(s->sec[i], s->sec_len[i]) != s->sec_crc[i])
            return -1;
    return 0;
}

ndx_status
ndx_seg_damage(const ndx_seg *s)
{
    if (!s->damaged)
        return NDX_OK;
    return ndx_error(NDX_ECORRUPT,
                     "%s: segment changed or truncated while in use; "
                     "restore the index from a copy or rebuild it (never "
                     "copy over a live index: copy to a new directory)",
                     s->path);
}

ndx_status
ndx_seg_recheck(ndx_seg *s)
{
    struct stat sb;
    int64_t mtime_ns;

    if (s->damaged)
        return ndx_seg_damage(s);
    /* Gone or replaced by another file: the map still holds the old one,
     * intact (the manifest says whether it is still wanted). */
    if (stat(s->path, &sb) != 0 || (uint64_t)sb.st_dev != s->file_dev ||
        (uint64_t)sb.st_ino != s->file_ino)
        return NDX_OK;
    mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    if ((uint64_t)sb.st_size == s->map_len && mtime_ns == s->file_mtime_ns)
        return NDX_OK;
    if ((uint64_t)sb.st_size < s->map_len || verify_map(s) != 0 ||
        s->damaged) {
        s->damaged = 1;
        return ndx_seg_damage(s);
    }
    /* Touched, or grown past what is mapped, with the same bytes. */
    s->file_mtime_ns = mtime_ns;
    return NDX_OK;
}

/* ---- dictionary --------------------------------------------------------- */

typedef ndx_seg_walk dict_iter;

static int
term_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = memcmp(a, b, n);

    if (c)
        return c;
    return (al > bl) - (al < bl);
}

/* Positions the iterator at the start of block b. */
static int
dict_seek_block(dict_iter *it, uint64_t b)
{
    const unsigned char *e;
    uint64_t off;

    if (b >= it->s->dict_blocks)
        return 0;
    e = it->s->sec[SEC_DICTIDX] + b * 16;
    off = ndx_get_u64le(e);
    if (off >= it->s->sec_len[SEC_DICT])
        return -1;
    it->p = it->s->sec[SEC_DICT] + off;
    it->end = it->s->sec[SEC_DICT] + it->s->sec_len[SEC_DICT];
    it->block = b;
    it->in_block = 0;
    it->len = 0;
    it->exp_post = 0;
    it->prev_pos = 0;
    return 1;
}

/* Reads the start of an entry: the bytes it shares with the previous
 * term (of prev_len bytes; none at a block's first) and the length of the
 * rest, which it->p is left at.  0, or -1 on damage. */
static int
dict_head(dict_iter *it, uint64_t prev_len, int first, uint64_t *shared,
          uint64_t *suffix)
{
    if (ndx_varint_get(&it->p, it->end, shared) ||
        ndx_varint_get(&it->p, it->end, suffix))
        return -1;
    if (*shared > prev_len || *shared + *suffix > TERM_BYTES_MAX ||
        *suffix > (uint64_t)(it->end - it->p) || (first && *shared != 0))
        return -1;
    return 0;
}

/* Reads the rest of an entry after its term: its statistics and where
 * its lists lie.  0, or -1 on damage. */
static int
dict_payload(dict_iter *it, ndx_seg_term *t)
{
    uint64_t v, zz, dpos;
    int64_t d;

    if (ndx_varint_get(&it->p, it->end, &v) ||
        ndx_varint_get(&it->p, it->end, &zz) ||
        ndx_varint_get(&it->p, it->end, &t->post_len) ||
        ndx_varint_get(&it->p, it->end, &dpos))
        return -1;
    t->df = v >> 1;
    t->has_pos = (int)(v & 1);
    d = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
    if ((d < 0 && (uint64_t)-d > it->exp_post) ||
        dpos > UINT64_MAX - it->prev_pos)
        return -1;
    t->post_off = it->exp_post + (uint64_t)d;
    t->pos_off = it->prev_pos + dpos;
    it->exp_post = t->post_off + t->post_len;
    it->prev_pos = t->pos_off;
    if (t->post_off > it->s->sec_len[SEC_POSTINGS] ||
        t->post_len > it->s->sec_len[SEC_POSTINGS] - t->post_off ||
        t->pos_off > it->s->sec_len[SEC_POSITIONS] || t->df == 0 ||
        t->df > it->s->passages)
        return -1;
    return 0;
}

/* Reads the next entry: 1, 0 at the end, -1 on damage. */
static int
dict_next(dict_iter *it, ndx_seg_term *t)
{
    uint64_t shared, suffix;

    if (it->in_block == NDX_SEG_DICT_BLOCK || it->p >= it->end) {
        int r = dict_seek_block(it, it->block + 1);

        if (r <= 0)
            return r;
    }
    if (dict_head(it, it->len, it->in_block == 0, &shared, &suffix) != 0)
        return -1;
    memcpy(it->term + shared, it->p, suffix);
    it->len = shared + suffix;
    it->p += suffix;
    if (dict_payload(it, t) != 0)
        return -1;
    it->in_block++;
    return 1;
}

/* Index of the last block whose first term is <= term, or -1. */
static long
dict_find_block(const ndx_seg *s, const char *term, size_t len)
{
    long lo = 0, hi = (long)s->dict_blocks - 1, best = -1;

    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        const unsigned char *e = s->sec[SEC_DICTIDX] + (size_t)mid * 16;
        uint32_t off = ndx_get_u32le(e + 8), n = ndx_get_u32le(e + 12);
        int c;

        if ((uint64_t)off + n > s->sec_len[SEC_DICT])
            return -2;
        c = term_cmp((const char *)s->sec[SEC_DICT] + off, n, term, len);
        if (c <= 0) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

/*
 * Looks a term up in the dictionary block that dict_find_block chose,
 * comparing by the entries' shared prefixes: m is how many bytes the term
 * shares with the last entry read, which it follows.  An entry sharing
 * more than m bytes with that one agrees with it where the term is
 * larger, so it precedes the term too; one sharing fewer is larger than
 * the term, which ends the look-up; only one sharing exactly m is
 * compared, from byte m on.  Most entries are passed without a compare
 * and no entry's term is put together.
 */
int
ndx_seg_lookup(const ndx_seg *s, const char *term, size_t len,
               ndx_seg_term *out)
{
    dict_iter it;
    long b = dict_find_block(s, term, len);
    const unsigned char *t = (const unsigned char *)term;
    size_t m = 0, prev_len = 0, k;

    if (b == -2)
        return corrupt(s->path, "dictionary index");
    if (b < 0)
        return 0;
    it.s = s;
    if (dict_seek_block(&it, (uint64_t)b) < 0)
        return corrupt(s->path, "dictionary index");
    for (k = 0; k < NDX_SEG_DICT_BLOCK && it.p < it.end; k++) {
        uint64_t shared, suffix;
        const unsigned char *sfx;
        int c;

        if (dict_head(&it, prev_len, k == 0, &shared, &suffix) != 0)
            return corrupt(s->path, "dictionary");
        sfx = it.p;
        it.p += suffix;
        if (dict_payload(&it, out) != 0)
            return corrupt(s->path, "dictionary");
        if (shared > m) {
            c = -1;
        } else if (shared < m) {
            c = 1;
        } else {
            size_t j = 0, rest = len - m;

            while (j < suffix && j < rest && sfx[j] == t[m + j])
                j++;
            if (j < suffix && j < rest)
                c = sfx[j] < t[m + j] ? -1 : 1;
            else
                c = suffix < rest ? -1 : suffix > rest;
            m += j;
        }
        if (c == 0)
            return 1;
        if (c > 0)
            return 0;
        prev_len = shared + suffix;
    }
    return 0;
}

int
ndx_seg_prefix(const ndx_seg *s, const char *prefix, size_t len,
               ndx_seg_term_fn fn, void *ctx)
{
    dict_iter it;
    ndx_seg_term t;
    long b = dict_find_block(s, prefix, len);
    int r;

    if (b == -2)
        return corrupt(s->path, "dictionary index");
    memset(&it, 0, sizeof it);
    it.s = s;
    if (dict_seek_block(&it, b < 0 ? 0 : (uint64_t)b) < 0)
        return corrupt(s->path, "dictionary index");
    while ((r = dict_next(&it, &t)) == 1) {
        int c = term_cmp(it.term, it.len < len ? it.len : len, prefix, len);

        if (c < 0 || it.len < len)
            continue;
        if (c > 0)
            return 0;
        if ((r = fn(ctx, it.term, it.len, &t)) != 0)
            return r;
    }
    if (r < 0)
        return corrupt(s->path, "dictionary");
    return 0;
}

void
ndx_seg_walk_start(ndx_seg_walk *w, const ndx_seg *s)
{
    int r;

    memset(w, 0, sizeof *w);
    w->s = s;
    r = dict_seek_block(w, 0);
    if (r < 0)
        w->bad = 1;
    if (r <= 0)
        w->block = s->dict_blocks; /* the next step ends the walk */
}

int
ndx_seg_walk_next(ndx_seg_walk *w, ndx_seg_term *t)
{
    int r = w->bad ? -1 : dict_next(w, t);

    if (r < 0)
        return corrupt(w->s->path, "dictionary");
    return r;
}

/* Moves a dictionary walk of ndx_seg_distinct_terms to its next term:
 * 0, or NDX_ECORRUPT; *live goes to 0 (and *left down) at the end. */
static int
distinct_step(dict_iter *it, int *live, size_t *left)
{
    ndx_seg_term t;
    int r = dict_next(it, &t);

    if (r < 0)
        return corrupt(it->s->path, "dictionary");
    if (r == 0) {
        *live = 0;
        (*left)--;
    }
    return 0;
}

/* Walks the sorted dictionaries of all the segments side by side, like
 * the merge step of a merge sort, counting each term once. */
int
ndx_seg_distinct_terms(ndx_seg *const *segs, size_t count, uint64_t *out)
{
    dict_iter *it;
    int *live;
    size_t i, left = 0;
    uint64_t n = 0;
    int r = 0;

    *out = 0;
    if (count == 1) {
        *out = segs[0]->terms;
        return 0;
    }
    it = calloc(count ? count : 1, sizeof *it);
    live = calloc(count ? count : 1, sizeof *live);
    if (!it || !live) {
        free(it);
        free(live);
        return ndx_error(NDX_ENOMEM, "out of memory (term count)");
    }
    for (i = 0; i < count && r >= 0; i++) {
        ndx_seg_term t;

        it[i].s = segs[i];
        r = dict_seek_block(&it[i], 0);
        if (r > 0)
            r = dict_next(&it[i], &t);
        if (r < 0)
            r = corrupt(segs[i]->path, "dictionary");
        live[i] = r > 0;
        left += r > 0;
    }
    while (r >= 0 && left > 0) {
        size_t m = count;

        for (i = 0; i < count; i++)
            if (live[i] && (m == count || term_cmp(it[i].term, it[i].len,
                                                   it[m].term,
                                                   it[m].len) < 0))
                m = i;
        n++;
        /* Step past the smallest term in every dictionary that holds
         * it; the one at m last, since the others compare with it. */
        for (i = 0; i < count && r >= 0; i++)
            if (i != m && live[i] &&
                term_cmp(it[i].term, it[i].len, it[m].term, it[m].len) == 0)
                r = distinct_step(&it[i], &live[i], &left);
        if (r >= 0)
            r = distinct_step(&it[m], &live[m], &left);
    }
    free(it);
    free(live);
    if (r < 0)
        return r;
    *out = n;
    return 0;
}

/* ---- columns and articles ---------------------------------------------- */

int
ndx_seg_article_get(const ndx_seg *s, uint32_t art, ndx_seg_article *out)
{
    const unsigned char *e;

    if (art >= s->articles)
        return -1;
    e = s->sec[SEC_ARTICLES] + (size_t)art * 32;
    out->first = ndx_get_u32le(e);
    out->passages = ndx_get_u32le(e + 4);
    out->date_days = (int32_t)ndx_get_u32le(e + 8);
    out->source = ndx_get_u32le(e + 12);
    out->str_off = ndx_get_u64le(e + 16);
    out->str_len = ndx_get_u32le(e + 24);
    out->time_secs = (int32_t)ndx_get_u32le(e + 28);
    if ((uint64_t)out->first + out->passages > s->passages ||
        out->source >= s->source_count ||
        out->str_off > s->sec_len[SEC_ASTR] ||
        out->str_len > s->sec_len[SEC_ASTR] - out->str_off)
        return -1;
    return 0;
}

int
ndx_seg_article_strings(const ndx_seg *s, const ndx_seg_article *a,
                        const char **id, const char **title, const char **url)
{
    const char *p = (const char *)s->sec[SEC_ASTR] + a->str_off;
    const char *end = p + a->str_len;
    const char *f[3];
    int k;

    for (k = 0; k < 3; k++) {
        const char *z = memchr(p, '\0', (size_t)(end - p));

        if (!z)
            return -1;
        f[k] = p;
        p = z + 1;
    }
    *id = f[0];
    if (title)
        *title = f[1];
    if (url)
        *url = f[2];
    return 0;
}

ndx_status
ndx_seg_article_read(const ndx_seg *s, uint32_t art, ndx_seg_article *a,
                     const char **id, const char **title, const char **url)
{
    if (ndx_seg_article_get(s, art, a) != 0 ||
        ndx_seg_article_strings(s, a, id, title, url) != 0)
        return ndx_error(NDX_ECORRUPT,
                         "%s: damaged article table; rebuild the index",
                         s->path);
    return NDX_OK;
}

long
ndx_seg_find(const ndx_seg *s, const char *id)
{
    uint64_t h = ndx_hash64(id, strlen(id));
    long lo = 0, hi = (long)s->articles - 1, first = -1;

    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        uint64_t v = ndx_get_u64le(s->sec[SEC_IDS] + (size_t)mid * 16);

        if (v >= h) {
            if (v == h)
                first = mid;
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    for (; first >= 0 && (uint64_t)first < s->articles; first++) {
        const unsigned char *e = s->sec[SEC_IDS] + (size_t)first * 16;
        ndx_seg_article a;
        const char *aid;
        long found = -1;

        if (ndx_get_u64le(e) != h)
            break;
        if (ndx_seg_article_get(s, ndx_get_u32le(e + 8), &a) == 0 &&
            ndx_seg_article_strings(s, &a, &aid, NULL, NULL) == 0 &&
            strcmp(aid, id) == 0)
            found = (long)ndx_get_u32le(e + 8);
        if (found >= 0) {
            /* The newest duplicate wins within a segment. */
            long best = found;
            const unsigned char *f = e + 16;

            while ((uint64_t)(f - s->sec[SEC_IDS]) < s->sec_len[SEC_IDS] &&
                   ndx_get_u64le(f) == h) {
                if (ndx_seg_article_get(s, ndx_get_u32le(f + 8), &a) == 0 &&
                    ndx_seg_article_strings(s, &a, &aid, NULL, NULL) == 0 &&
                    strcmp(aid, id) == 0)
                    best = (long)ndx_get_u32le(f + 8);
                f += 16;
            }
            return best;
        }
    }
    return -1;
}

/* One inflate state per thread, reset for each passage: setting one up
 * costs more than inflating a short passage.  Beside it, the last passage
 * this thread inflated: a hit's snippet and its text, or an article's
 * passages shown again, come back to it.  Both are freed when the thread
 * ends (a thread-local variable would leak them). */
/* Passages a thread keeps inflated (a power of two): a search that looks
 * again for its page (folding or collapsing left it short) asks for the
 * same hits' text twice, and the dictionary a passage was compressed
 * against costs a 32 KB copy into zlib's window each time. */
#define TEXT_SLOTS 64

typedef struct tslot {
    uint64_t uid;       /* segment of the cached passage; 0: none */
    uint32_t pid;       /* its id */
    ndx_buf raw;        /* its raw bytes */
} tslot;

typedef struct tstate {
    z_stream z;
    tslot slot[TEXT_SLOTS];
} tstate;

static pthread_key_t z_key;
static pthread_once_t z_once = PTHREAD_ONCE_INIT;
static int z_key_ok;

static void
z_free(void *p)
{
    tstate *t = p;
    size_t i;

    inflateEnd(&t->z);
    for (i = 0; i < TEXT_SLOTS; i++)
        ndx_buf_free(&t->slot[i].raw);
    free(t);
}

static void
z_key_make(void)
{
    z_key_ok = pthread_key_create(&z_key, z_free) == 0;
}

/* This thread's state; NULL when none can be made. */
static tstate *
thread_state(void)
{
    tstate *t;
    size_t i;

    pthread_once(&z_once, z_key_make);
    if (!z_key_ok)
        return NULL;
    t = pthread_getspecific(z_key);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (inflateInit2(&t->z, -15) != Z_OK) {
        free(t);
        return NULL;
    }
    for (i = 0; i < TEXT_SLOTS; i++)
        ndx_buf_init(&t->slot[i].raw);
    if (pthread_setspecific(z_key, t) != 0) {
        z_free(t);
        return NULL;
    }
    return t;
}

/* Where a passage's text lies: its stream's first byte in TEXT, the bytes
 * left in its block from there, and its raw bytes; checked against the
 * TEXTIDX and TEXT sections. */
static ndx_status
text_where(const ndx_seg *s, uint32_t pid, const unsigned char **in,
           uint32_t *in_len, uint32_t *raw_len, uint32_t *block_out)
{
    const unsigned char *c, *e;
    uint64_t toff;
    uint32_t block, coff, clen;

    if (pid >= s->passages)
        return corrupt(s->path, "passage id");
    c = s->sec[SEC_TEXTLOC] + (size_t)pid * 12;
    block = ndx_get_u32le(c);
    coff = ndx_get_u32le(c + 4);
    *raw_len = ndx_get_u32le(c + 8);
    if (block >= s->text_blocks)
        return corrupt(s->path, "text block number");
    e = s->sec[SEC_TEXTIDX] + (size_t)block * 16;
    toff = ndx_get_u64le(e);
    clen = ndx_get_u32le(e + 8);
    if (toff > s->sec_len[SEC_TEXT] || clen > s->sec_len[SEC_TEXT] - toff ||
        coff > clen || *raw_len > ndx_get_u32le(e + 12))
        return corrupt(s->path, "text block bounds");
    *in = s->sec[SEC_TEXT] + toff + coff;
    *in_len = clen - coff;
    *block_out = block;
    return NDX_OK;
}

ndx_status
ndx_seg_text_stream(const ndx_seg *s, uint32_t pid, ndx_seg_stream *out)
{
    const unsigned char *in = NULL;
    uint32_t in_len = 0, len = 0, block = 0;
    ndx_status st;

    if ((st = text_where(s, pid, &in, &in_len, &len, &block)))
        return st;
    /* The stream ends where the block's next passage's begins. */
    if (pid + 1 < s->passages) {
        const unsigned char *c = s->sec[SEC_TEXTLOC] + (size_t)(pid + 1) * 12;
        uint32_t coff = ndx_get_u32le(s->sec[SEC_TEXTLOC] +
                                      (size_t)pid * 12 + 4);

        if (ndx_get_u32le(c) == block) {
            uint32_t next = ndx_get_u32le(c + 4);

            if (next < coff || next - coff > in_len)
                return corrupt(s->path, "text locations");
            in_len = next - coff;
        }
    }
    out->stream = in;
    out->stream_len = in_len;
    out->text_len = len;
    text_dict(s, block, &out->dict, &out->dict_len);
    return NDX_OK;
}

void
ndx_seg_prefetch_hit(const ndx_seg *s, uint32_t pid, int stage)
{
    const unsigned char *loc;
    uint32_t art, block, coff, clen, k;
    uint64_t toff;

    if (pid >= s->passages)
        return;
    loc = s->sec[SEC_TEXTLOC] + (size_t)pid * 12;
    if (stage == 0) {
        __builtin_prefetch(loc);
        __builtin_prefetch(s->sec[SEC_COLUMNS] + (size_t)pid * 8);
        return;
    }
    art = ndx_get_u32le(s->sec[SEC_COLUMNS] + (size_t)pid * 8);
    block = ndx_get_u32le(loc);
    if (art >= s->articles || block >= s->text_blocks)
        return;
    if (stage == 1) {
        __builtin_prefetch(s->sec[SEC_ARTICLES] + (size_t)art * 32);
        __builtin_prefetch(s->sec[SEC_TEXTIDX] + (size_t)block * 16);
        return;
    }
    /* The article's strings and the first bytes of the stream (most
     * passages compress to a few hundred). */
    toff = ndx_get_u64le(s->sec[SEC_ARTICLES] + (size_t)art * 32 + 16);
    if (toff < s->sec_len[SEC_ASTR])
        __builtin_prefetch(s->sec[SEC_ASTR] + toff);
    toff = ndx_get_u64le(s->sec[SEC_TEXTIDX] + (size_t)block * 16);
    clen = ndx_get_u32le(s->sec[SEC_TEXTIDX] + (size_t)block * 16 + 8);
    coff = ndx_get_u32le(loc + 4);
    if (toff > s->sec_len[SEC_TEXT] || clen > s->sec_len[SEC_TEXT] - toff ||
        coff >= clen)
        return;
    clen -= coff;
    for (k = 0; k < clen && k < 256; k += 64)
        __builtin_prefetch(s->sec[SEC_TEXT] + toff + coff + k);
}

/* Output room past a passage's length: zlib decodes on its fast path
 * only while 258 bytes of output are free, so without it the last 258
 * bytes of every passage (most of a short one) take its slower
 * bit-at-a-time path. */
#define INFLATE_ROOM 258

/* Inflates passage pid's text into *raw (replacing its contents), with
 * z: its raw-deflate stream, compressed against the segment's preset
 * dictionary, must end exactly at the passage's length. */
static ndx_status
inflate_passage(const ndx_seg *s, z_stream *z, uint32_t pid, ndx_buf *raw)
{
    const unsigned char *in = NULL, *dict;
    uint32_t in_len = 0, len = 0, block = 0, dict_len;
    ndx_status st;

    raw->len = 0;
    if ((st = text_where(s, pid, &in, &in_len, &len, &block)) ||
        (st = ndx_buf_reserve(raw, (size_t)len + INFLATE_ROOM + 1)))
        return st;
    text_dict(s, block, &dict, &dict_len);
    /* The writer's streams use the fixed codes: decoded without zlib's
     * window, the dictionary read in place.  A stream with dynamic codes
     * (any raw deflate stream is valid) goes to zlib. */
    switch (ndx_flate_fixed(dict, dict_len, in, in_len, raw->data, len)) {
    case NDX_FLATE_OK:
        raw->len = len;
        return NDX_OK;
    case NDX_FLATE_DYNAMIC:
        break;
    default:
        return corrupt(s->path, "compressed text");
    }
    if (inflateReset(z) != Z_OK ||
        (dict_len && inflateSetDictionary(z, dict, dict_len) != Z_OK))
        return corrupt(s->path, "compressed text");
    z->next_in = (Bytef *)in;
    z->avail_in = in_len;
    z->next_out = raw->data;
    z->avail_out = (uInt)len + INFLATE_ROOM;
    /* Damage shows as a stream that does not end at the passage's
     * length. */
    if (inflate(z, Z_FINISH) != Z_STREAM_END || z->avail_out != INFLATE_ROOM)
        return corrupt(s->path, "compressed text");
    raw->len = len;
    return NDX_OK;
}

/* The raw bytes of a passage's text, from this thread's cache or inflated
 * into it; *raw is valid until the thread's next call. */
static ndx_status
text_passage(const ndx_seg *s, uint32_t pid, const unsigned char **raw,
             uint32_t *raw_len)
{
    tstate *t = thread_state();
    tslot *c;
    ndx_status st;

    if (!t)
        return ndx_error(NDX_ENOMEM, "out of memory (inflate)");
    c = &t->slot[(pid ^ (uint32_t)s->uid) & (TEXT_SLOTS - 1)];
    if (c->uid != s->uid || c->pid != pid) {
        c->uid = 0;
        if ((st = inflate_passage(s, &t->z, pid, &c->raw)))
            return st;
        c->uid = s->uid;
        c->pid = pid;
    }
    *raw = c->raw.data;
    *raw_len = (uint32_t)c->raw.len;
    return NDX_OK;
}

ndx_status
ndx_seg_text(const ndx_seg *s, uint32_t pid, ndx_buf *b)
{
    const unsigned char *raw;
    uint32_t len;
    ndx_status st;

    if ((st = text_passage(s, pid, &raw, &len)))
        return st;
    b->len = 0;
    st = ndx_buf_put(b, raw, len);
    if (!st)
        st = ndx_buf_cstr(b);
    return st;
}

ndx_status
ndx_seg_text_cached(const ndx_seg *s, uint32_t pid, ndx_seg_textcache *c,
                    const char **text, uint32_t *text_len)
{
    tstate *t = thread_state();
    ndx_status st;

    if (!t)
        return ndx_error(NDX_ENOMEM, "out of memory (inflate)");
    if (!c->valid || c->seg != s || c->pid != pid) {
        c->valid = 0;
        if ((st = inflate_passage(s, &t->z, pid, &c->raw)))
            return st;
        c->seg = s;
        c->pid = pid;
        c->valid = 1;
    }
    *text = (const char *)c->raw.data;
    *text_len = (uint32_t)c->raw.len;
    return NDX_OK;
}

/* ---- postings cursor ---------------------------------------------------- */

/* Reads one skip entry's impacts at *p: -1 on damage (a count out of
 * range, pairs not increasing). */
static int
read_impacts(const unsigned char **p, const unsigned char *end,
             uint32_t *imp, uint32_t *nimp)
{
    uint64_t n, w, l, pw = 0, pl = 0;
    uint32_t k;

    if (ndx_varint_get(p, end, &n) || n == 0 || n > NDX_SEG_IMPACTS)
        return -1;
    for (k = 0; k < n; k++) {
        if (ndx_varint_get(p, end, &w) || ndx_varint_get(p, end, &l) ||
            (k && (w == 0 || l == 0)) || w > UINT32_MAX - pw ||
            l > UINT32_MAX - pl)
            return -1;
        pw += w;
        pl += l;
        imp[2 * k] = (uint32_t)pw;
        imp[2 * k + 1] = (uint32_t)pl;
    }
    *nimp = (uint32_t)n;
    return 0;
}

/* Reads the next skip entry; its impacts are stepped over (read_imp
 * reads them when a bound is asked for). */
static int
read_skip(ndx_pcur *c)
{
    uint64_t v[3];
    int k;

    for (k = 0; k < 3; k++)
        if (ndx_varint_get(&c->skip, c->skip_end, &v[k]) || v[k] > UINT32_MAX)
            return -1;
    if (v[0] > (uint64_t)UINT32_MAX - c->skip_last ||
        v[2] > (uint64_t)(c->skip_end - c->skip))
        return -1;
    c->next_last = c->skip_last + (uint32_t)v[0];
    c->skip_last = c->next_last;
    c->next_len = (uint32_t)v[1];
    c->next_imp_p = c->skip;
    c->next_imp_len = (uint32_t)v[2];
    c->next_imp_read = 0;
    c->skip += v[2];
    c->has_next = 1;
    return 0;
}

/* Reads encoded impacts of len bytes at p into imp: -1 on damage. */
static int
read_imp(const unsigned char *p, uint32_t len, uint32_t *imp, uint32_t *nimp)
{
    const unsigned char *q = p;

    return read_impacts(&q, p + len, imp, nimp) || q != p + len ? -1 : 0;
}

/* Reads a skip entry's impacts unless *read says they are: -1 on
 * damage. */
static int
imp_ready(const unsigned char *p, uint32_t len, uint32_t *imp, uint32_t *nimp,
          int *read)
{
    if (*read)
        return 0;
    if (read_imp(p, len, imp, nimp))
        return -1;
    *read = 1;
    return 0;
}

uint32_t
ndx_seg_impacts(const uint32_t *wdfs, const uint32_t *lens, uint32_t n,
                uint32_t *out)
{
    uint32_t w[NDX_SEG_BLOCK], l[NDX_SEG_BLOCK], d = 0, k, m = 0, best;

    /* The least length of each wdf present: a block holds few distinct
     * wdfs (most postings have 1 or 2), so a linear look-up is short. */
    for (k = 0; k < n && k < NDX_SEG_BLOCK; k++) {
        uint32_t j = 0;

        while (j < d && w[j] != wdfs[k])
            j++;
        if (j == d) {
            w[d] = wdfs[k];
            l[d++] = lens[k];
        } else if (lens[k] < l[j]) {
            l[j] = lens[k];
        }
    }
    /* By wdf descending (the wdfs are distinct). */
    for (k = 1; k < d; k++) {
        uint32_t x = w[k], y = l[k], j = k;

        while (j > 0 && w[j - 1] < x) {
            w[j] = w[j - 1];
            l[j] = l[j - 1];
            j--;
        }
        w[j] = x;
        l[j] = y;
    }
    /* The frontier: a wdf counts when its least length is shorter than
     * that of every larger wdf. */
    best = UINT32_MAX;
    for (k = 0; k < d; k++) {
        if (l[k] >= best)
            continue;
        best = l[k];
        w[m] = w[k];
        l[m] = l[k];
        m++;
    }
    /* Out by increasing wdf (and length); the longest past the limit
     * merge into one pair that bounds them all. */
    for (k = 0; k < m; k++) {
        out[2 * k] = w[m - 1 - k];
        out[2 * k + 1] = l[m - 1 - k];
        if (k == NDX_SEG_IMPACTS - 1)
            break;
    }
    if (m > NDX_SEG_IMPACTS) {
        out[2 * (NDX_SEG_IMPACTS - 1)] = w[0];
        return NDX_SEG_IMPACTS;
    }
    return m;
}

static void
cur_fail(ndx_pcur *c)
{
    c->corrupt = 1;
    c->id = NDX_PID_END;
    c->n = 0;
    c->i = 0;
    c->left_blocks = 0;
}

/* Decodes the block's ids from c->dec on until one at or past target is
 * decoded or the block ends (at least one; the whole block when
 * ndx_ids_unpack unpacks it).  The packed gaps are read 8
 * bytes at a time, which may pass the block's end (see
 * ndx_pcur_wdf_at).  -1 on damage: an id past the segment's passages, or
 * a last id other than the skip entry's (block_last; UINT32_MAX when
 * unknown). */
static int
decode_ids(ndx_pcur *c, uint32_t target)
{
    uint32_t k = c->dec, n = c->n;
    uint64_t id = c->ids[k - 1];

    if (c->gap_bits == 0) {
        /* Consecutive ids: the one at or past target is known. */
        uint64_t upto = k - 1 + (target > id ? target - id : 1);

        if (upto > n - 1)
            upto = n - 1;
        for (; k <= upto; k++)
            c->ids[k] = (uint32_t)++id;
    } else {
        uint64_t mask = (1ULL << c->gap_bits) - 1;
        uint64_t bit = (uint64_t)(k - 1) * c->gap_bits;
        uint32_t m = 0;

        /* Eight at a time where the CPU can (groups start on a byte every
         * eight gaps): then the whole block, which costs less than the
         * field-by-field loop's way to an id halfway (every section is
         * followed by 8 readable bytes at least, see ndx_packed_at). */
        if (((k - 1) & 7) == 0 && n - k >= 8 &&
            (m = ndx_ids_unpack(c->gap_p + bit / 8, c->post_lim + 8,
                                c->gap_bits, n - k, (uint32_t)id,
                                c->ids + k)) != 0) {
            k += m;
            id = c->ids[k - 1];
            bit += (uint64_t)m * c->gap_bits;
            while (k < n) {
                id += 1 + ndx_packed_at(c->gap_p, bit, mask);
                bit += c->gap_bits;
                c->ids[k++] = (uint32_t)id;
            }
        } else {
            do {
                id += 1 + ndx_packed_at(c->gap_p, bit, mask);
                bit += c->gap_bits;
                c->ids[k++] = (uint32_t)id;
            } while (k < n && id < target);
        }
    }
    c->dec = k;
    if (id >= c->seg->passages ||
        (k == n && c->block_last != UINT32_MAX && id != c->block_last))
        return -1;
    return 0;
}

/* Consumes the pending block: decodes it when decode, else skips it. */
static void
take_block(ndx_pcur *c, int decode)
{
    const unsigned char *post_end = c->post_lim;
    uint64_t consumed;
    uint32_t n;

    if (!c->has_next && read_skip(c) != 0) {
        cur_fail(c);
        return;
    }
    c->has_next = 0;
    c->left_blocks--;
    consumed = (uint64_t)(c->blocks_total - c->left_blocks - 1) *
               NDX_SEG_BLOCK;
    n = (uint32_t)(c->df - consumed < NDX_SEG_BLOCK ? c->df - consumed
                                                    : NDX_SEG_BLOCK);
    if (c->next_len > (uint64_t)(post_end - c->data)) {
        cur_fail(c);
        return;
    }
    if (decode) {
        const unsigned char *p = c->data, *end = c->data + c->next_len;
        uint64_t first;
        unsigned gb, wb;
        size_t gbytes, wbytes;

        if (ndx_varint_get(&p, end, &first) || end - p < 2) {
            cur_fail(c);
            return;
        }
        gb = p[0];
        wb = p[1];
        p += 2;
        gbytes = ((size_t)(n - 1) * gb + 7) / 8;
        wbytes = ((size_t)n * wb + 7) / 8;
        if (gb > 32 || wb > 31 || (size_t)(end - p) != gbytes + wbytes ||
            first >= c->seg->passages) {
            cur_fail(c);
            return;
        }
        /* The ids are decoded as the cursor reaches them (decode_ids): a
         * seek into a long list wants one id of the block, not 128. */
        c->ids[0] = (uint32_t)(c->base + first);
        c->dec = 1;
        c->n = n;
        c->gap_p = p;
        c->gap_bits = gb;
        c->wdf_p = p + gbytes;
        c->wdf_bits = wb;
        c->block_last = c->next_last;
        if (c->blocks_total == 1) {
            /* One block has no skip entry: its last id is learnt here. */
            c->block_last = UINT32_MAX;
            if (n > 1 && decode_ids(c, UINT32_MAX) != 0) {
                cur_fail(c);
                return;
            }
            c->next_last = c->ids[n - 1];
        }
        if (c->next_last >= c->seg->passages ||
            c->ids[0] > c->next_last || (n == 1 && c->ids[0] != c->next_last)) {
            cur_fail(c);
            return;
        }
        c->i = 0;
        c->id = c->ids[0];
        c->block_index = c->blocks_total - c->left_blocks - 1;
        c->block_pos = NULL;
        c->pos_decoded_upto = 0;
    }
    c->block_last = c->next_last;
    c->block_imp_p = c->next_imp_p;
    c->block_imp_len = c->next_imp_len;
    c->block_imp_read = c->next_imp_read;
    if (c->next_imp_read) {
        memcpy(c->block_imp, c->next_imp,
               2 * c->next_nimp * sizeof *c->block_imp);
        c->block_nimp = c->next_nimp;
    }
    c->data += c->next_len;
    c->base = c->next_last + 1;
}

/* Starts c on a list whose bytes are at post and its positions at pos,
 * neither to be read past post_lim and pos_lim. */
static void
pcur_start(ndx_pcur *c, const ndx_seg *s, const ndx_seg_term *t,
           const unsigned char *post, const unsigned char *post_lim,
           const unsigned char *pos, const unsigned char *pos_lim)
{
    memset(c, 0, sizeof *c);
    c->seg = s;
    c->df = t->df;
    c->has_pos = t->has_pos;
    c->blocks_total = (t->df + NDX_SEG_BLOCK - 1) / NDX_SEG_BLOCK;
    c->left_blocks = c->blocks_total;
    c->post_off = t->post_off;
    c->skip = post;
    c->skip_end = c->skip + t->post_len;
    c->post_lim = post_lim;
    c->pos_start = pos;
    c->pos_lim = pos_lim;
    c->id = NDX_PID_END;
    /* The data starts after every skip entry (none for one block), whose
     * length leads the list. */
    {
        const unsigned char *p = c->skip;
        uint64_t v;

        if (c->blocks_total > 1) {
            if (ndx_varint_get(&p, c->skip_end, &v) ||
                v > (uint64_t)(c->skip_end - p)) {
                cur_fail(c);
                return;
            }
            c->skip = p;
            c->skip_start = p;
            p += v;
        }
        c->data = p;
        c->data_start = p;
        c->skip_end = p;
        if (c->blocks_total == 1) {
            /* A single block has no skip entry: its data is the list. */
            c->has_next = 1;
            c->next_len = (uint32_t)t->post_len;
            c->next_last = UINT32_MAX;
            c->next_nimp = 0;
            c->next_imp_read = 1;
        }
    }
    if (c->left_blocks)
        take_block(c, 1);
    /* A single block has no skip entry to carry its maxima: work them out
     * from the decoded postings and the length column. */
    if (c->blocks_total == 1 && !c->corrupt) {
        uint32_t k, lens[NDX_SEG_BLOCK], wdfs[NDX_SEG_BLOCK];

        for (k = 0; k < c->n; k++) {
            lens[k] = ndx_get_u32le(s->sec[SEC_COLUMNS] +
                                    (size_t)c->ids[k] * 8 + 4);
            wdfs[k] = ndx_pcur_wdf_at(c, k);
        }
        c->block_nimp = ndx_seg_impacts(wdfs, lens, c->n, c->block_imp);
        c->block_imp_read = 1;
    }
}

void
ndx_pcur_init(ndx_pcur *c, const ndx_seg *s, const ndx_seg_term *t)
{
    pcur_start(c, s, t, s->sec[SEC_POSTINGS] + t->post_off,
               s->sec[SEC_POSTINGS] + s->sec_len[SEC_POSTINGS],
               s->sec[SEC_POSITIONS] + t->pos_off,
               s->sec[SEC_POSITIONS] + s->sec_len[SEC_POSITIONS]);
}

/* Points *out at the len bytes at off of s's file (fd), read into window
 * w: from what it holds when it holds them, else read afresh from off,
 * NDX_SEG_WINDOW bytes at least (a merge reads each section front to
 * back, so most lists come from the window; a list behind it is read
 * alone, into w->back).  What w holds is followed by
 * 8 zero bytes: ndx_packed_at reads up to 7 bytes past a list's last. */
static ndx_status
window_get(const ndx_seg *s, int fd, ndx_seg_window *w, uint64_t off,
           uint64_t len, const unsigned char **out)
{
    uint64_t want = len > NDX_SEG_WINDOW ? len : NDX_SEG_WINDOW;
    ndx_buf *b = &w->buf;
    size_t done;
    ssize_t got;

    if (w->back_big) {
        ndx_buf_free(&w->back);
        w->back_big = 0;
    }
    if (w->buf.len && off >= w->off && off - w->off <= w->buf.len &&
        len <= w->buf.len - (off - w->off)) {
        *out = w->buf.data + (off - w->off);
        return NDX_OK;
    }
    if (off > s->map_len || len > s->map_len - off)
        return corrupt(s->path, "list out of the file");
    if (want > s->map_len - off)
        want = s->map_len - off;
    if ((w->buf.len && off < w->off) || len > NDX_SEG_WINDOW) {
        /* Behind the window (a list written once for two terms), or
         * longer than the window: read alone; a long one is let go of at
         * the next read (a window kept at its size would hold the longest
         * list's bytes to the end of the merge). */
        b = &w->back;
        want = len;
        w->back_big = len > NDX_SEG_WINDOW;
    }
    b->len = 0;
    if (ndx_buf_reserve(b, (size_t)want + 8))
        return ndx_error(NDX_ENOMEM, "out of memory (reading %s)", s->path);
    got = ndx_pread_full(fd, b->data, (size_t)want, off);
    if (got < 0)
        return ndx_error(NDX_EIO, "read %s: %s", s->path, strerror(errno));
    done = (size_t)got;
    if (done < len)
        return corrupt(s->path, "file shorter than its map");
    memset(b->data + done, 0, 8);
    b->len = done;
    if (b == &w->buf)
        w->off = off;
    *out = b->data;
    return NDX_OK;
}

void
ndx_seg_window_free(ndx_seg_window *w)
{
    ndx_buf_free(&w->buf);
    ndx_buf_free(&w->back);
    memset(w, 0, sizeof *w);
}

ndx_status
ndx_pcur_init_read(ndx_pcur *c, const ndx_seg *s, int fd,
                   const ndx_seg_term *t, uint64_t pos_len,
                   ndx_seg_window *post, ndx_seg_window *pos)
{
    uint64_t post_at = (uint64_t)(s->sec[SEC_POSTINGS] - s->map);
    uint64_t pos_at = (uint64_t)(s->sec[SEC_POSITIONS] - s->map);
    const unsigned char *pp, *qp;
    ndx_status st;

    if (t->post_off > s->sec_len[SEC_POSTINGS] ||
        t->post_len > s->sec_len[SEC_POSTINGS] - t->post_off ||
        t->pos_off > s->sec_len[SEC_POSITIONS] ||
        pos_len > s->sec_len[SEC_POSITIONS] - t->pos_off)
        return corrupt(s->path, "dictionary entry out of its sections");
    if (!t->has_pos)
        pos_len = 0;
    if ((st = window_get(s, fd, post, post_at + t->post_off, t->post_len,
                         &pp)) ||
        (st = window_get(s, fd, pos, pos_at + t->pos_off, pos_len, &qp)))
        return st;
    pcur_start(c, s, t, pp, pp + t->post_len, qp, qp + pos_len);
    return NDX_OK;
}

uint32_t
ndx_pcur_shallow(ndx_pcur *c, uint32_t target, const uint32_t **imp,
                 uint32_t *nimp)
{
    if (c->id == NDX_PID_END)
        return NDX_PID_END;
    /* The decoded block holds the first posting at or after target. */
    if (c->id >= target || c->block_last >= target) {
        if (imp_ready(c->block_imp_p, c->block_imp_len, c->block_imp,
                      &c->block_nimp, &c->block_imp_read)) {
            cur_fail(c);
            return NDX_PID_END;
        }
        *imp = c->block_imp;
        *nimp = c->block_nimp;
        return c->block_last;
    }
    for (;;) {
        if (c->left_blocks == 0) {
            c->id = NDX_PID_END;
            return NDX_PID_END;
        }
        if (!c->has_next && read_skip(c) != 0) {
            cur_fail(c);
            return NDX_PID_END;
        }
        if (c->next_last >= target) {
            if (imp_ready(c->next_imp_p, c->next_imp_len, c->next_imp,
                          &c->next_nimp, &c->next_imp_read)) {
                cur_fail(c);
                return NDX_PID_END;
            }
            *imp = c->next_imp;
            *nimp = c->next_nimp;
            return c->next_last;
        }
        /* Passed over without decoding: the next seek decodes what it
         * needs. */
        take_block(c, 0);
        if (c->corrupt)
            return NDX_PID_END;
    }
}

int
ndx_pcur_each_block(const ndx_pcur *c,
                    void (*fn)(void *ctx, const ndx_pblock *b,
                               const uint32_t *imp, uint32_t nimp),
                    void *ctx)
{
    const unsigned char *p;
    uint32_t imp[2 * NDX_SEG_IMPACTS], nimp;
    uint64_t v[3], data_room;
    ndx_pblock b = {0, 0, 0, 0, 0};
    int k;

    if (c->corrupt)
        return -1;
    if (c->blocks_total <= 1) {
        if (c->blocks_total == 1) {
            b.last = c->block_last;
            fn(ctx, &b, c->block_imp, c->block_nimp);
        }
        return 0;
    }
    /* Where a block starts must lie in its section: a cursor that jumps
     * there reads from it. */
    data_room = (uint64_t)(c->post_lim - c->data_start);
    p = c->skip_start;
    for (b.index = 0; b.index < c->blocks_total; b.index++) {
        b.skip_off = (uint64_t)(p - c->skip_start);
        for (k = 0; k < 3; k++)
            if (ndx_varint_get(&p, c->data_start, &v[k]) || v[k] > UINT32_MAX)
                return -1;
        if (v[2] > (uint64_t)(c->data_start - p) ||
            v[0] > (uint64_t)UINT32_MAX - b.last ||
            v[1] > data_room - b.data_off ||
            read_imp(p, (uint32_t)v[2], imp, &nimp))
            return -1;
        p += v[2];
        b.prev_last = b.last;
        b.last += (uint32_t)v[0];
        fn(ctx, &b, imp, nimp);
        b.data_off += v[1];
    }
    return 0;
}

void
ndx_pcur_jump(ndx_pcur *c, const ndx_pblock *b)
{
    if (c->corrupt || c->id == NDX_PID_END || b->index == 0 ||
        b->index >= c->blocks_total ||
        b->index < c->blocks_total - c->left_blocks)
        return;
    c->skip = c->skip_start + b->skip_off;
    c->has_next = 0;
    c->skip_last = b->prev_last;
    c->data = c->data_start + b->data_off;
    c->left_blocks = c->blocks_total - b->index;
    c->base = b->prev_last + 1;
}

void
ndx_pcur_finish(ndx_pcur *c)
{
    c->id = NDX_PID_END;
    c->n = 0;
    c->i = 0;
    c->left_blocks = 0;
    c->has_next = 0;
}

void
ndx_pcur_next(ndx_pcur *c)
{
    if (c->id == NDX_PID_END)
        return;
    if (++c->i < c->n) {
        /* A cursor stepping through a block reads all of it: the rest
         * is decoded at once. */
        if (c->i >= c->dec && decode_ids(c, UINT32_MAX) != 0) {
            cur_fail(c);
            return;
        }
        c->id = c->ids[c->i];
        return;
    }
    if (c->left_blocks == 0) {
        c->id = NDX_PID_END;
        return;
    }
    take_block(c, 1);
}

/* Decodes the ids of the cursor's block to its end: 0, or -1 on damage
 * (the cursor then fails). */
static int
decode_rest(ndx_pcur *c)
{
    if (c->dec < c->n && decode_ids(c, UINT32_MAX) != 0) {
        cur_fail(c);
        return -1;
    }
    return 0;
}

uint32_t
ndx_pcur_block_ids(ndx_pcur *c, const uint32_t **ids)
{
    if (c->id == NDX_PID_END || decode_rest(c) != 0)
        return 0;
    *ids = c->ids;
    return c->n;
}

int
ndx_pcur_scan_wdf(ndx_pcur *c, uint32_t wmin, uint32_t upto)
{
    uint32_t k = c->i, n = c->n;
    uint64_t mask, need, bit;

    if (c->id == NDX_PID_END || c->id > upto)
        return 0;
    if (wmin <= 1)
        return 1;
    /* The ids to the block's end at once (a run of adds), then one pass
     * that stops at the first id past upto or wdf of wmin. */
    if (decode_rest(c) != 0)
        return 0;
    mask = c->wdf_bits ? (1ULL << c->wdf_bits) - 1 : 0;
    need = wmin - 1;
    bit = (uint64_t)k * c->wdf_bits;
    while (k < n && c->ids[k] <= upto &&
           (!c->wdf_bits || ndx_packed_at(c->wdf_p, bit, mask) < need)) {
        k++;
        bit += c->wdf_bits;
    }
    if (k == n) {
        /* All up to the block's end are passed. */
        c->i = n - 1;
        c->id = c->ids[n - 1];
        return 0;
    }
    c->i = k;
    c->id = c->ids[k];
    return c->ids[k] <= upto;
}

/* The first of ids[i, n) at or past target (n: none): a linear scan,
 * measured faster than a branchless binary search on blocks decoded
 * whole (most seeks land a few ids on). */
static uint32_t
first_at_or_past(const uint32_t *ids, uint32_t i, uint32_t n,
                 uint32_t target)
{
    while (i < n && ids[i] < target)
        i++;
    return i;
}

void
ndx_pcur_seek(ndx_pcur *c, uint32_t target)
{
    if (c->id == NDX_PID_END || c->id >= target)
        return;
    if (c->block_last < target) {
        for (;;) {
            if (c->left_blocks == 0) {
                c->id = NDX_PID_END;
                return;
            }
            if (!c->has_next && read_skip(c) != 0) {
                cur_fail(c);
                return;
            }
            if (c->next_last >= target) {
                take_block(c, 1);
                break;
            }
            take_block(c, 0);
            if (c->corrupt)
                return;
        }
        if (c->id == NDX_PID_END)
            return;
    }
    c->i = first_at_or_past(c->ids, c->i, c->dec, target);
    if (c->i == c->dec && c->dec < c->n) {
        /* decode_ids decodes at least up to the first id at or past
         * target, or to the block's end (further when it unpacks the
         * block whole). */
        if (decode_ids(c, target) != 0) {
            cur_fail(c);
            return;
        }
        c->i = first_at_or_past(c->ids, c->i, c->dec, target);
    }
    c->id = c->i < c->n ? c->ids[c->i] : NDX_PID_END;
}

/* Moves *p past n varints without decoding them: a varint ends at a
 * byte under 0x80, and eight bytes at a time are counted with one
 * multiplication (a phrase reads the positions of a word's posting far
 * into its block, past thousands of others).  -1 when the section ends
 * first. */
static int
skip_varints(const unsigned char **p, const unsigned char *end, uint64_t n)
{
    const unsigned char *q = *p;

    while (n >= 8 && end - q >= 8) {
        uint64_t w, stops;
        unsigned ends;

        memcpy(&w, q, 8);
        stops = ~w & 0x8080808080808080ULL;
        /* One bit a byte: their sum lands in the top byte (without the
         * popcnt instruction the builtin is a call). */
        ends = (unsigned)(((stops >> 7) * 0x0101010101010101ULL) >> 56);
        if (ends > n)
            break;
        n -= ends;
        q += 8;
    }
    while (n > 0) {
        if (q >= end)
            return -1;
        if (!(*q++ & 0x80))
            n--;
    }
    *p = q;
    return 0;
}

/* Points block_pos at the current block's positions: in a list of more
 * than one block, its entry in the table that leads the list's positions
 * says where they start.  -1 on damage. */
static int
locate_pos(ndx_pcur *c)
{
    const unsigned char *at = c->pos_start;

    if (c->blocks_total > 1) {
        uint64_t room = (uint64_t)(c->pos_lim - c->pos_start), tab, off = 0;
        unsigned width, j;

        if (room < 1 || (width = c->pos_start[0]) < 1 || width > 4 ||
            c->blocks_total - 1 > (room - 1) / width)
            return -1;
        tab = 1 + (c->blocks_total - 1) * width;
        if (c->block_index) {
            const unsigned char *e =
                c->pos_start + 1 + (c->block_index - 1) * width;

            for (j = 0; j < width; j++)
                off |= (uint64_t)e[j] << (8 * j);
        }
        if (off > room - tab)
            return -1;
        at = c->pos_start + tab + off;
    }
    c->block_pos = at;
    c->pos_cursor = at;
    c->pos_decoded_upto = 0;
    return 0;
}

int
ndx_pcur_positions(ndx_pcur *c, uint32_t *out, uint32_t cap)
{
    const unsigned char *end = c->pos_lim;
    uint64_t v;
    uint32_t k, m, pos = 0, n;

    if (!c->has_pos || c->id == NDX_PID_END)
        return 0;
    if (!c->block_pos && locate_pos(c) != 0)
        return -1;
    if (c->pos_decoded_upto > c->i) {
        c->pos_cursor = c->block_pos;
        c->pos_decoded_upto = 0;
    }
    {
        /* The positions of the postings before: wdf each, that is one
         * each plus their packed wdf - 1 (none when every wdf is 1). */
        uint64_t skip = c->i - c->pos_decoded_upto;

        if (c->wdf_bits) {
            uint64_t mask = (1ULL << c->wdf_bits) - 1;
            uint64_t bit = (uint64_t)c->pos_decoded_upto * c->wdf_bits;

            for (k = c->pos_decoded_upto; k < c->i; k++) {
                skip += ndx_packed_at(c->wdf_p, bit, mask);
                bit += c->wdf_bits;
            }
        }
        if (skip_varints(&c->pos_cursor, end, skip) != 0)
            return -1;
    }
    c->pos_decoded_upto = c->i;
    n = ndx_pcur_wdf(c);
    {
        const unsigned char *p = c->pos_cursor;

        for (m = 0; m < n; m++) {
            if (ndx_varint_get(&p, end, &v) || v > UINT32_MAX - pos)
                return -1;
            pos += (uint32_t)v;
            if (m < cap)
                out[m] = pos;
        }
    }
    return (int)(n < cap ? n : cap);
}

/* ---- check -------------------------------------------------------------- */

static void
impacts_ignore(void *ctx, const ndx_pblock *b, const uint32_t *imp,
               uint32_t nimp)
{
    (void)ctx;
    (void)b;
    (void)imp;
    (void)nimp;
}

/* Bytes a check reads between letting go of the segment's pages: a
 * check reads the whole segment, and its pages would otherwise all stay
 * in the process's resident memory. */
#define CHECK_LET_GO (8u << 20)

/* crc_of over part of s's map, letting go of its pages as it goes. */
static uint32_t
crc_let_go(const ndx_seg *s, const unsigned char *p, uint64_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);

    while (len) {
        uInt n = len > CHECK_LET_GO ? CHECK_LET_GO : (uInt)len;

        crc = crc32(crc, p, n);
        p += n;
        len -= n;
        ndx_seg_release(s);
    }
    return (uint32_t)crc;
}

ndx_status
ndx_seg_check(const ndx_seg *s)
{
    dict_iter it;
    ndx_seg_term t;
    uint64_t terms = 0, i, read = 0;
    int r;
    char prev[TERM_BYTES_MAX];
    size_t prev_len = 0;

    for (i = 1; i < SEC_COUNT_PLUS_ONE; i++)
        if (crc_let_go(s, s->sec[i], s->sec_len[i]) != s->sec_crc[i])
            return ndx_error(NDX_ECORRUPT,
                             "%s: section %u fails its checksum; rebuild "
                             "the index",
                             s->path, (unsigned)i);
    memset(&it, 0, sizeof it);
    it.s = s;
    if (s->dict_blocks && dict_seek_block(&it, 0) < 0)
        return corrupt(s->path, "dictionary index");
    while (s->dict_blocks && (r = dict_next(&it, &t)) == 1) {
        ndx_pcur c;
        uint64_t n = 0;

        if (terms && term_cmp(prev, prev_len, it.term, it.len) >= 0)
            return corrupt(s->path, "dictionary order");
        memcpy(prev, it.term, it.len);
        prev_len = it.len;
        terms++;
        ndx_pcur_init(&c, s, &t);
        /* Cursors read impacts only when asked for a bound. */
        if (ndx_pcur_each_block(&c, impacts_ignore, NULL) != 0)
            return corrupt(s->path, "skip entries");
        while (c.id != NDX_PID_END) {
            uint32_t pos[8];

            if (c.has_pos && ndx_pcur_positions(&c, pos, 8) < 0)
                return corrupt(s->path, "positions");
            n++;
            ndx_pcur_next(&c);
        }
        if (c.corrupt || n != t.df)
            return corrupt(s->path, "postings");
        /* Lists are read front to back: what is behind is let go. */
        read += t.post_len;
        if (read > CHECK_LET_GO) {
            ndx_seg_release(s);
            read = 0;
        }
    }
    ndx_seg_release(s);
    if (s->dict_blocks && r < 0)
        return corrupt(s->path, "dictionary");
    if (terms != s->terms)
        return corrupt(s->path, "term count");
    for (i = 0; i < s->articles; i++) {
        ndx_seg_article a;
        const char *id;

        if (ndx_seg_article_get(s, (uint32_t)i, &a) != 0 ||
            ndx_seg_article_strings(s, &a, &id, NULL, NULL) != 0)
            return corrupt(s->path, "article table");
    }
    /* Every passage's text inflates, and a block's passages, in order,
     * hold its raw bytes. */
    {
        uint64_t block = 0, raw = 0;

        for (i = 0; i < s->passages; i++) {
            const unsigned char *c = s->sec[SEC_TEXTLOC] + i * 12, *tx;
            uint32_t art = ndx_get_u32le(s->sec[SEC_COLUMNS] + i * 8);
            uint32_t len;
            ndx_status st;

            if (art >= s->articles)
                return corrupt(s->path, "passage columns");
            if (ndx_get_u32le(c) != block) {
                if (ndx_get_u32le(c) != block + 1 ||
                    raw != ndx_get_u32le(s->sec[SEC_TEXTIDX] + block * 16 +
                                         12))
                    return corrupt(s->path, "text locations");
                block++;
                raw = 0;
            }
            if ((st = text_passage(s, (uint32_t)i, &tx, &len)))
                return st;
            raw += len;
            read += len / 2;
            if (read > CHECK_LET_GO) {
                ndx_seg_release(s);
                read = 0;
            }
        }
        ndx_seg_release(s);
        if (s->passages && (block + 1 != s->text_blocks ||
                            raw != ndx_get_u32le(s->sec[SEC_TEXTIDX] +
                                                 block * 16 + 12)))
            return corrupt(s->path, "text locations");
    }
    return NDX_OK;
}
