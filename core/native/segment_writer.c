/*
 * segment_writer.c - builds one native segment in memory and writes it.
 *
 * Terms are gathered in an open-addressing hash table; each term keeps its
 * postings as varint (gap, wdf) pairs and its positions as varint gaps in
 * growable buffers, so memory grows with the compressed size of the data.
 * Passage texts are gathered into small blocks and each passage of a
 * block is compressed alone, as one zlib stream against a preset
 * dictionary: the first megabyte of text is held until the dictionary is
 * sampled from it, every later block is compressed as soon as it is full
 * (in a thread of the writer's own after ndx_segw_background).
 * At flush the terms are sorted, the postings re-cut into blocks with skip
 * entries (by two threads after ndx_segw_background, see flush_parallel),
 * and the file is written as segment.h describes, then fsynced
 * and renamed into place.  Analysis, deletion and the manifest are other
 * modules' work.
 */
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "util/flate.h"
#include "util/slab.h"

typedef struct wterm {
    uint64_t key;       /* first 8 bytes of term, zero padded */
    char *term;         /* in the writer's term arena */
    uint32_t len;       /* bytes */
    uint32_t df;        /* passages */
    uint32_t last;      /* last passage id + 1 (0: none yet) */
    int has_pos;
    ndx_buf post;       /* varint gap, varint wdf */
    ndx_buf pos;        /* varint position gaps */
} wterm;

typedef struct wsource {
    char *name, *key;
} wsource;

/* A section encoded in order and written at flush: its bytes stay in mem
 * until they pass SPOOL_CHUNK, then go to an unlinked temporary file (when
 * the writer has one), so that writing a segment does not hold the
 * encoded postings in memory beside the terms they come from. */
#define SPOOL_CHUNK (1u << 20)

typedef struct spool {
    ndx_buf mem;       /* bytes not in the file (all of them without one) */
    int fd;            /* the file, or -1 */
    uint64_t filed;    /* bytes in the file */
    uLong crc;         /* crc32 of the bytes in the file */
} spool;

static uint64_t
spool_len(const spool *sp)
{
    return sp->filed + sp->mem.len;
}

/* Raw text blocks on their way to the compressing thread.  The thread is
 * woken when TQ_BATCH blocks wait (or to drain or stop), not for each:
 * a 2 KB block takes it a few microseconds, and waking it for every one
 * cost two context switches a block (some 200,000 on allsides). */
#define TQ_SLOTS 64
#define TQ_BATCH 16

typedef struct textq {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t work;     /* a block was queued, or stop */
    pthread_cond_t room;     /* a block was compressed */
    ndx_buf slot[TQ_SLOTS];  /* raw blocks */
    ndx_buf lens[TQ_SLOTS];  /* u32 raw bytes of each of their passages */
    size_t head, tail;       /* queued: [tail, head) */
    int stop;
    int drain;               /* 1: compress what waits, however little */
    ndx_status st;           /* first failure of the thread */
    char err[256];           /* its message */
} textq;

struct ndx_segw {
    wterm *terms;            /* term records */
    size_t term_count, term_cap;
    uint64_t *slots;         /* hash slots: high 32 bits of the term's
                                hash, then its index + 1; 0 = empty */
    size_t slot_cap;
    uint64_t *hashes;        /* hashes of one passage's terms */
    size_t hash_cap;         /* entries of hashes */
    ndx_arena *strs;         /* term strings */
    size_t strs_bytes;
    /* The tables below that grow with the segment are spools: a writer
     * given stored passages (a merge) knows each entry once it appends
     * it and sends them to temporary files as it goes (copy_spools), so
     * that a merge into a segment of millions of passages does not hold
     * them; a writer of analyzed passages patches textloc at flush and
     * looks up articles, so its tables stay in memory (fd -1). */
    spool columns;           /* u32 article, u32 length per passage */
    ndx_buf lengths;         /* u32 length per passage (for impacts) */
    spool textloc;           /* 3 x u32 text location per passage; the
                                second is the offset in the block's raw
                                bytes until flush makes it the offset of
                                the passage's stream in the block's
                                compressed bytes */
    spool articles;          /* 32 bytes per article */
    spool astr;              /* id NUL title NUL url NUL */
    ndx_buf ids;             /* u64 hash, u32 ordinal, u32 0 per article */
    wsource *sources;
    size_t source_count, source_cap;
    spool textidx;           /* per block: u64 off, u32 clen, u32 rlen */
    ndx_buf text;            /* compressed blocks */
    ndx_buf raw;             /* the block being filled */
    ndx_buf raw_lens;        /* u32 raw bytes of each of its passages */
    ndx_buf clens;           /* u32 compressed bytes of each passage
                                compressed so far, in passage order */
    uint32_t blocks;         /* text blocks closed so far */
    ndx_buf dict;            /* the preset dictionary, once chosen */
    int dict_done;           /* 1 once dict is chosen (it may be empty) */
    ndx_buf pend;            /* closed blocks waiting for the dictionary */
    ndx_buf pend_lens;       /* u32 raw bytes of each block in pend */
    ndx_flate_enc *enc;      /* compresses the passages against the
                                dictionary it holds; NULL until needed */
    int enc_ready;           /* 1 once enc holds the current dict */
    int spill_fd;            /* unlinked file taking the compressed text
                                blocks, or -1: they stay in text */
    uint64_t spill_len;      /* bytes written to spill_fd */
    uLong spill_crc;         /* crc32 of those bytes */
    char *spill_dir;         /* where ndx_segw_spill makes its files (for
                                copy_spools), or NULL */
    textq *tq;               /* compressing thread, or NULL: text blocks
                                are compressed by the caller.  While it
                                runs, z, text, textidx and the spill
                                fields are the thread's */
    atomic_size_t text_mem;  /* bytes of text, textidx and spill */
    ndx_buf ranges;          /* TEXTDICTS entries, 16 bytes each */
    int copying;             /* 1 once ndx_segw_add_stored took passages:
                                raw then holds the compressed streams of
                                the block being filled */
    uint32_t block_raw;      /* copying: raw bytes of that block */
    uint32_t block_passages; /* copying: its passages */
    ndx_buf zout;            /* copying: one passage compressed here */
    spool sp_post, sp_pos;   /* POSTINGS and POSITIONS as they are
                                encoded (spilled with the text) */
    int streaming;           /* 1 once ndx_segw_term_begin was called:
                                terms come whole, in order, through cur */
    wterm cur;               /* streaming: the term being given */
    ndx_buf cur_term;        /* its bytes */
    int cur_open;            /* between term_begin and term_end */
    ndx_buf prev_term;       /* the term encoded last */
    uint64_t terms_out;      /* terms encoded */
    struct emitter *em;      /* the sections being encoded, or NULL */
    uint64_t passages, article_count, total_len;
    int32_t first_days, last_days;
    ndx_slab lists;          /* the terms' lists as they are built
                                (terms[i].post and .pos, cur.post and
                                .pos) */
};

ndx_status
ndx_segw_new(ndx_segw **out)
{
    ndx_segw *w = calloc(1, sizeof *w);

    *out = NULL;
    if (!w || !(w->strs = ndx_arena_new())) {
        free(w);
        return ndx_error(NDX_ENOMEM, "out of memory (segment writer)");
    }
    w->first_days = NDX_DATE_NONE;
    w->last_days = NDX_DATE_NONE;
    w->spill_fd = -1;
    w->spill_crc = crc32(0L, Z_NULL, 0);
    w->sp_post.fd = w->sp_pos.fd = -1;
    w->columns.fd = w->textloc.fd = w->articles.fd = w->astr.fd = -1;
    w->textidx.fd = -1;
    w->sp_post.crc = w->sp_pos.crc = crc32(0L, Z_NULL, 0);
    *out = w;
    return NDX_OK;
}

/* The spools of the tables a writer given stored passages sends to files
 * (see struct ndx_segw). */
#define COPY_TABLES 5
static spool *
copy_table(ndx_segw *w, size_t i)
{
    spool *const t[COPY_TABLES] = {&w->columns, &w->textloc, &w->articles,
                                   &w->astr, &w->textidx};

    return t[i];
}

/* Creates an unlinked temporary file in dir. */
static ndx_status
spill_open(const char *dir, int *out)
{
    char *tmpl = malloc(strlen(dir) + 32);
    int fd;

    *out = -1;
    if (!tmpl)
        return ndx_error(NDX_ENOMEM, "out of memory");
    sprintf(tmpl, "%s/seg-spill-XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0) {
        ndx_status st = ndx_error(NDX_EIO, "create %s: %s", tmpl,
                                  strerror(errno));

        free(tmpl);
        return st;
    }
    /* Unlinked at once: a writer that dies leaves nothing behind. */
    unlink(tmpl);
    free(tmpl);
    *out = fd;
    return NDX_OK;
}

ndx_status
ndx_segw_spill(ndx_segw *w, const char *dir)
{
    ndx_status st;

    if (w->spill_fd >= 0 || w->text.len || spool_len(&w->textidx) ||
        w->blocks)
        return ndx_error(NDX_EINVAL, "spill: the writer holds text already");
    if ((st = spill_open(dir, &w->spill_fd)))
        return st;
    free(w->spill_dir);
    if (!(w->spill_dir = strdup(dir)))
        return ndx_error(NDX_ENOMEM, "out of memory");
    /* Without these the encoded postings stay in memory: still correct. */
    if (!spill_open(dir, &w->sp_post.fd))
        (void)spill_open(dir, &w->sp_pos.fd);
    return NDX_OK;
}

/* Empties a spool for the next segment (its file kept, emptied). */
static void
spool_reset(spool *sp)
{
    ndx_buf_free(&sp->mem);
    if (sp->fd >= 0 && sp->filed) {
        int rc = ftruncate(sp->fd, 0);

        (void)rc;
    }
    sp->filed = 0;
    sp->crc = crc32(0L, Z_NULL, 0);
}

struct emitter;
static void emitter_free(struct emitter *e);

static void
segw_reset(ndx_segw *w)
{
    size_t i;

    for (i = 0; i < w->term_count; i++) {
        ndx_slab_release(&w->lists, &w->terms[i].post);
        ndx_slab_release(&w->lists, &w->terms[i].pos);
    }
    ndx_slab_release(&w->lists, &w->cur.post);
    ndx_slab_release(&w->lists, &w->cur.pos);
    ndx_slab_free(&w->lists);
    ndx_huge_free(w->terms, w->term_cap * sizeof *w->terms);
    ndx_huge_free(w->slots, w->slot_cap * sizeof *w->slots);
    free(w->hashes);
    w->terms = NULL;
    w->slots = NULL;
    w->hashes = NULL;
    w->hash_cap = 0;
    w->term_count = w->term_cap = w->slot_cap = 0;
    ndx_arena_free(w->strs);
    w->strs = ndx_arena_new();
    w->strs_bytes = 0;
    for (i = 0; i < COPY_TABLES; i++)
        spool_reset(copy_table(w, i));
    ndx_buf_free(&w->lengths);
    ndx_buf_free(&w->ids);
    for (i = 0; i < w->source_count; i++) {
        free(w->sources[i].name);
        free(w->sources[i].key);
    }
    free(w->sources);
    w->sources = NULL;
    w->source_count = w->source_cap = 0;
    ndx_buf_free(&w->text);
    ndx_buf_free(&w->raw);
    ndx_buf_free(&w->raw_lens);
    ndx_buf_free(&w->clens);
    ndx_buf_free(&w->dict);
    ndx_buf_free(&w->pend);
    ndx_buf_free(&w->pend_lens);
    ndx_buf_free(&w->ranges);
    ndx_buf_free(&w->zout);
    spool_reset(&w->sp_post);
    spool_reset(&w->sp_pos);
    ndx_buf_free(&w->cur_term);
    ndx_buf_free(&w->prev_term);
    w->streaming = w->cur_open = 0;
    w->terms_out = 0;
    if (w->em) {
        emitter_free(w->em);
        free(w->em);
        w->em = NULL;
    }
    w->copying = 0;
    w->block_raw = w->block_passages = 0;
    w->blocks = 0;
    w->dict_done = 0;
    w->enc_ready = 0;
    w->passages = w->article_count = w->total_len = 0;
    /* The spilled blocks went into the segment just written; the next ones
     * are written over them from offset 0, and emptying the file gives its
     * disk space back meanwhile.  If it cannot be emptied, nothing past
     * spill_len is ever read. */
    if (w->spill_fd >= 0 && w->spill_len) {
        int rc = ftruncate(w->spill_fd, 0);

        (void)rc;
    }
    w->spill_len = 0;
    atomic_store(&w->text_mem, 0);
    w->spill_crc = crc32(0L, Z_NULL, 0);
    w->first_days = w->last_days = NDX_DATE_NONE;
}

static void textq_stop(ndx_segw *w);

void
ndx_segw_free(ndx_segw *w)
{
    size_t i;

    if (!w)
        return;
    textq_stop(w);
    segw_reset(w);
    ndx_flate_enc_free(w->enc);
    if (w->spill_fd >= 0)
        close(w->spill_fd);
    if (w->sp_post.fd >= 0)
        close(w->sp_post.fd);
    if (w->sp_pos.fd >= 0)
        close(w->sp_pos.fd);
    for (i = 0; i < COPY_TABLES; i++)
        if (copy_table(w, i)->fd >= 0)
            close(copy_table(w, i)->fd);
    free(w->spill_dir);
    ndx_arena_free(w->strs);
    free(w);
}

size_t
ndx_segw_articles(const ndx_segw *w)
{
    return w->article_count;
}

size_t
ndx_segw_passages(const ndx_segw *w)
{
    return w->passages;
}

size_t
ndx_segw_memory(const ndx_segw *w)
{
    size_t m = w->term_cap * sizeof(wterm) + w->slot_cap * 8 + w->strs_bytes;

    /* The lists' chunks, slack and all. */
    m += ndx_slab_memory(&w->lists);
    m += w->columns.mem.cap + w->lengths.cap + w->textloc.mem.cap +
         w->articles.mem.cap + w->astr.mem.cap + w->ids.cap +
         w->raw.cap + w->raw_lens.cap + w->clens.cap + w->dict.cap +
         w->pend.cap + w->pend_lens.cap + w->ranges.cap + w->zout.cap +
         w->sp_post.mem.cap + w->sp_pos.mem.cap;
    if (w->tq)
        m += TQ_SLOTS * (NDX_SEG_TEXT_BLOCK + 256);
    /* Spilled text counts as if it were held: segments end where they
     * would without the spill file, and the budget's share of the text is
     * memory the writer does not use.  Counting the postings alone would
     * let them grow into the whole budget, and writing a segment holds
     * them twice (as built and as encoded): 1 million passages of news
     * then peaked at 695 MB against 632 MB with the text in memory. */
    m += atomic_load(&w->text_mem);
    return m;
}

/* How far ahead passage_postings prefetches a term's hash slot and its
 * record (in terms of the passage).  Measured on Reuters-21578 at one
 * thread by profile samples in the posting loop: 16% of indexing time
 * without prefetching, 11-12% with 8 and 4; 4 and 2, or 16 and 8, were no
 * better, and prefetching the ends of the term's lists two terms ahead as
 * well gained nothing measurable. */
#define SLOT_AHEAD 8
#define RECORD_AHEAD 4

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* A term's hash in the writer's table: from its term set hash, spread
 * over 64 bits (the low ones pick its slot, the high ones are kept in
 * it). */
static inline uint64_t
table_hash(uint32_t term_hash)
{
    return ndx_mix64(term_hash);
}

static ndx_status
grow_slots(ndx_segw *w)
{
    size_t cap = w->slot_cap ? w->slot_cap * 2 : 4096;
    uint64_t *slots = ndx_huge_alloc(cap * sizeof *slots);
    size_t i;

    if (!slots)
        return ndx_error(NDX_ENOMEM, "out of memory (term table)");
    for (i = 0; i < w->term_count; i++) {
        uint64_t h = table_hash(ndx_term_hash(w->terms[i].term,
                                              w->terms[i].len));
        size_t j = h & (cap - 1);

        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = (h & 0xFFFFFFFF00000000ULL) | (uint64_t)(i + 1);
    }
    ndx_huge_free(w->slots, w->slot_cap * sizeof *slots);
    w->slots = slots;
    w->slot_cap = cap;
    return NDX_OK;
}

/* Makes room for more new terms: after it, term_get_hashed adds up to
 * more terms without growing the table or the records, so that slot
 * positions and records prefetched for a passage stay where they are. */
static ndx_status
terms_reserve(ndx_segw *w, size_t more)
{
    ndx_status st;

    while ((w->term_count + more) * 2 > w->slot_cap)
        if ((st = grow_slots(w)))
            return st;
    if (w->term_count + more > w->term_cap) {
        size_t cap = w->term_cap ? w->term_cap : 4096;
        wterm *t;

        while (cap < w->term_count + more)
            cap *= 2;
        if (!(t = ndx_huge_alloc(cap * sizeof *t)))
            return ndx_error(NDX_ENOMEM, "out of memory (terms)");
        if (w->term_count)
            memcpy(t, w->terms, w->term_count * sizeof *t);
        ndx_huge_free(w->terms, w->term_cap * sizeof *t);
        w->terms = t;
        w->term_cap = cap;
    }
    return NDX_OK;
}

static inline uint64_t
term_key(const char *term, uint32_t len)
{
    uint64_t k = 0;
    uint32_t i, n = len < 8 ? len : 8;

    for (i = 0; i < n; i++)
        k |= (uint64_t)(unsigned char)term[i] << (8 * i);
    return k;
}

/* Finds or creates the record of a term whose table_hash is h; room for
 * a new one was made by terms_reserve. */
static inline ndx_status
term_get_hashed(ndx_segw *w, const char *term, uint32_t len, uint64_t h,
                wterm **out)
{
    uint64_t key = term_key(term, len);
    size_t j = h & (w->slot_cap - 1);
    wterm *t;

    while (w->slots[j]) {
        /* The stored hash bits settle most probes without touching the
         * term record, and the record's first bytes most of the rest
         * without touching the term's string. */
        if ((w->slots[j] >> 32) == (h >> 32)) {
            t = &w->terms[(uint32_t)w->slots[j] - 1];
            if (t->key == key && t->len == len
                && (len <= 8
                    || memcmp(t->term + 8, term + 8, len - 8) == 0)) {
                *out = t;
                return NDX_OK;
            }
        }
        j = (j + 1) & (w->slot_cap - 1);
    }
    t = &w->terms[w->term_count];
    memset(t, 0, sizeof *t);
    t->term = ndx_arena_strdup(w->strs, term, len);
    if (!t->term)
        return ndx_error(NDX_ENOMEM, "out of memory (term strings)");
    w->strs_bytes += len + 16;
    t->key = key;
    t->len = len;
    w->slots[j] = (h & 0xFFFFFFFF00000000ULL) | (uint64_t)(++w->term_count);
    *out = t;
    return NDX_OK;
}

static ndx_status
source_get(ndx_segw *w, const char *name, uint32_t *out)
{
    char key[256];
    size_t i;

    ndx_source_key(name, key, sizeof key);
    for (i = 0; i < w->source_count; i++) {
        if (strcmp(w->sources[i].key, key) == 0) {
            *out = (uint32_t)i;
            return NDX_OK;
        }
    }
    if (ndx_grow((void **)&w->sources, &w->source_cap, w->source_count + 1,
                 sizeof *w->sources, 16))
        return ndx_error(NDX_ENOMEM, "out of memory (sources)");
    w->sources[w->source_count].name = strdup(name);
    w->sources[w->source_count].key = strdup(key);
    if (!w->sources[w->source_count].name ||
        !w->sources[w->source_count].key) {
        /* Not counted yet: freed here, not by the writer's free. */
        free(w->sources[w->source_count].name);
        free(w->sources[w->source_count].key);
        return ndx_error(NDX_ENOMEM, "out of memory (sources)");
    }
    *out = (uint32_t)w->source_count++;
    return NDX_OK;
}

static ndx_status write_all(int fd, const void *p, size_t len,
                            const char *path);

/* Writes len bytes at off of a spill file. */
static ndx_status
pwrite_all(int fd, const unsigned char *p, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ndx_error(NDX_EIO, "write a temporary file of the "
                                      "segment being written: %s; free "
                                      "disk space in the index directory",
                             n < 0 ? strerror(errno) : "no progress");
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return NDX_OK;
}

/* Copies the first len bytes of the temporary file src into the segment
 * file being written. */
static ndx_status
copy_file(int src, uint64_t len, int fd, const char *path)
{
    unsigned char *buf = malloc(1 << 20);
    uint64_t at = 0;
    ndx_status st = NDX_OK;

    if (!buf)
        return ndx_error(NDX_ENOMEM, "out of memory");
    while (at < len && !st) {
        size_t want = len - at < (1 << 20) ? (size_t)(len - at)
                                           : (size_t)1 << 20;
        ssize_t n = pread(src, buf, want, (off_t)at);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            st = ndx_error(NDX_EIO, "read a temporary file of the segment "
                                    "being written: %s",
                           n < 0 ? strerror(errno) : "it is short");
            break;
        }
        st = write_all(fd, buf, (size_t)n, path);
        at += (uint64_t)n;
    }
    free(buf);
    return st;
}

/* crc32 over any length. */
static uLong
crc_more(uLong crc, const unsigned char *p, size_t len)
{
    while (len) {
        size_t n = len > (1u << 30) ? (1u << 30) : len;

        crc = crc32(crc, p, (uInt)n);
        p += n;
        len -= n;
    }
    return crc;
}

/* Moves the bytes held to the file once they pass SPOOL_CHUNK (all of
 * them with force). */
static ndx_status
spool_drain(spool *sp, int force)
{
    ndx_status st;

    if (sp->fd < 0 || sp->mem.len == 0 ||
        (!force && sp->mem.len < SPOOL_CHUNK))
        return NDX_OK;
    if ((st = pwrite_all(sp->fd, sp->mem.data, sp->mem.len, sp->filed)))
        return st;
    sp->crc = crc_more(sp->crc, sp->mem.data, sp->mem.len);
    sp->filed += sp->mem.len;
    sp->mem.len = 0;
    return NDX_OK;
}

/* 1 when the len bytes at off of the spool equal bytes, else 0 (*st set
 * when the file could not be read). */
static int
spool_equal(const spool *sp, uint64_t off, const unsigned char *bytes,
            size_t len, ndx_status *st)
{
    unsigned char buf[4096];

    while (len && off < sp->filed) {
        size_t n = len < sizeof buf ? len : sizeof buf;
        ssize_t r;

        if (n > sp->filed - off)
            n = (size_t)(sp->filed - off);
        r = pread(sp->fd, buf, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r != (ssize_t)n) {
            *st = ndx_error(NDX_EIO, "read a temporary file of the segment "
                                     "being written: %s",
                            r < 0 ? strerror(errno) : "it is short");
            return 0;
        }
        if (memcmp(buf, bytes, n) != 0)
            return 0;
        off += n;
        bytes += n;
        len -= n;
    }
    return len == 0 ||
           memcmp(sp->mem.data + (off - sp->filed), bytes, len) == 0;
}

/* Writes a spool's bytes into the segment file; *crc gets their crc32. */
static ndx_status
spool_write(const spool *sp, int fd, const char *path, uLong *crc)
{
    ndx_status st;

    if (sp->filed && (st = copy_file(sp->fd, sp->filed, fd, path)))
        return st;
    if (sp->mem.len && (st = write_all(fd, sp->mem.data, sp->mem.len, path)))
        return st;
    *crc = crc_more(sp->crc, sp->mem.data, sp->mem.len);
    return NDX_OK;
}

/* The spool that holds section i of the segment being written, or NULL
 * when the section is in memory. */
static const spool *
section_spool(const ndx_segw *w, size_t i)
{
    switch (i) {
    case SEC_POSTINGS: return &w->sp_post;
    case SEC_POSITIONS: return &w->sp_pos;
    case SEC_COLUMNS: return &w->columns;
    case SEC_TEXTLOC: return &w->textloc;
    case SEC_ARTICLES: return &w->articles;
    case SEC_ASTR: return &w->astr;
    case SEC_TEXTIDX: return &w->textidx;
    default: return NULL;
    }
}

/* A writer given stored passages: the tables that grow with the segment
 * go to temporary files of their own (without them, or when one cannot
 * be made, they stay in memory: still correct). */
static void
copy_spools_open(ndx_segw *w)
{
    size_t i;

    for (i = 0; w->spill_dir && i < COPY_TABLES; i++)
        if (copy_table(w, i)->fd < 0)
            (void)spill_open(w->spill_dir, &copy_table(w, i)->fd);
}

/* Moves what those tables hold past SPOOL_CHUNK to their files. */
static ndx_status
copy_spools_drain(ndx_segw *w)
{
    ndx_status st;
    size_t i;

    for (i = 0; i < COPY_TABLES; i++)
        if ((st = spool_drain(copy_table(w, i), 0)))
            return st;
    return NDX_OK;
}

/* Records the compressed block of raw_len raw bytes that ends w->text
 * (clen bytes): sends it to the spill file when there is one (text then
 * held just this block), and appends its TEXTIDX entry. */
static ndx_status
block_done(ndx_segw *w, size_t clen, size_t raw_len)
{
    uint64_t off = w->spill_fd >= 0 ? w->spill_len : w->text.len - clen;
    ndx_status st;

    if (w->spill_fd >= 0) {
        if ((st = pwrite_all(w->spill_fd, w->text.data, clen, w->spill_len)))
            return st;
        w->spill_crc = crc32(w->spill_crc, w->text.data, (uInt)clen);
        w->spill_len += clen;
        w->text.len = 0;
    }
    if ((st = ndx_buf_put_u64le(&w->textidx.mem, off)) ||
        (st = ndx_buf_put_u32le(&w->textidx.mem, (uint32_t)clen)) ||
        (st = ndx_buf_put_u32le(&w->textidx.mem, (uint32_t)raw_len)))
        return st;
    atomic_store(&w->text_mem, w->text.cap + w->textidx.mem.cap +
                                   w->clens.cap +
                                   (size_t)w->spill_len);
    return NDX_OK;
}

/* Makes w->enc hold dict (len bytes), unless it holds the current
 * dictionary already (enc_ready; cleared when that changes). */
static ndx_status
enc_load(ndx_segw *w, const unsigned char *dict, size_t len)
{
    if (!w->enc && !(w->enc = ndx_flate_enc_new()))
        return ndx_error(NDX_ENOMEM, "out of memory (text compressor)");
    if (!w->enc_ready) {
        if (ndx_flate_enc_dict(w->enc, dict, len) != 0)
            return ndx_error(NDX_ENOMEM, "out of memory (text dictionary)");
        w->enc_ready = 1;
    }
    return NDX_OK;
}

/* Compresses one passage alone, against the dictionary w->enc holds,
 * into out (cap bytes, at least ndx_flate_bound(len)); *out_len gets its
 * bytes. */
static ndx_status
deflate_passage(ndx_segw *w, const unsigned char *in, uint32_t len,
                unsigned char *out, size_t cap, size_t *out_len)
{
    if (!(*out_len = ndx_flate_encode(w->enc, in, len, out, cap)))
        return ndx_error(NDX_ENOMEM, "out of memory (compressing a "
                                     "passage)");
    return NDX_OK;
}

/* Compresses the passages of one block of text, each alone (raw deflate
 * against the preset dictionary), into the text section or the spill
 * file; lens holds the raw bytes of each of its n passages. */
static ndx_status
block_compress(ndx_segw *w, const unsigned char *raw, size_t raw_len,
               const unsigned char *lens, size_t n)
{
    uLongf cap;
    ndx_status st;
    size_t clen = 0, at = 0, i;

    /* Each stream adds a few bytes to deflateBound's margin. */
    cap = compressBound((uLong)raw_len) + 16 * (uLong)n + 64;
    if ((st = ndx_buf_reserve(&w->text, cap)) ||
        (st = ndx_buf_reserve(&w->clens, 4 * n)))
        return st;
    /* Raw deflate (no zlib header or adler32): the section checksum
     * already covers these bytes, and readers inflate them often.  Loading
     * the dictionary into a stream costs more than compressing a short
     * passage, so it is loaded once per segment into w->z, and each
     * passage is compressed by a copy of that stream. */
    if ((st = enc_load(w, w->dict.data, w->dict.len)))
        return st;
    for (i = 0; i < n; i++) {
        uint32_t len = ndx_get_u32le(lens + 4 * i);
        size_t out;

        if (len > raw_len - at)
            return ndx_error(NDX_EINVAL, "text block shorter than its "
                                         "passages");
        if ((st = deflate_passage(w, raw + at, len,
                                  w->text.data + w->text.len + clen,
                                  cap - clen, &out)) ||
            (st = ndx_buf_put_u32le(&w->clens, (uint32_t)out)))
            return st;
        clen += out;
        at += len;
    }
    if (at != raw_len)
        return ndx_error(NDX_EINVAL, "text block longer than its passages");
    w->text.len += clen;
    return block_done(w, clen, raw_len);
}

/* The compressing thread: takes the queued blocks in order.  After a
 * failure it only empties the queue; the writer reports the failure. */
static void *
textq_main(void *arg)
{
    ndx_segw *w = arg;
    textq *q = w->tq;
    int awake = 0;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        ndx_buf *b;
        ndx_status st = NDX_OK;

        /* Asleep, it waits for a batch (or a drain, or the stop); awake,
         * it compresses until the queue is empty. */
        while (q->tail == q->head
                   ? !q->stop
                   : !q->stop && !q->drain && !awake &&
                         q->head - q->tail < TQ_BATCH) {
            awake = 0;
            pthread_cond_wait(&q->work, &q->mu);
        }
        if (q->tail == q->head)
            break; /* stopped, and nothing left */
        awake = 1;
        b = &q->slot[q->tail % TQ_SLOTS];
        if (!q->st) {
            ndx_buf *l = &q->lens[q->tail % TQ_SLOTS];

            pthread_mutex_unlock(&q->mu);
            st = block_compress(w, b->data, b->len, l->data, l->len / 4);
            pthread_mutex_lock(&q->mu);
            if (st) {
                q->st = st;
                snprintf(q->err, sizeof q->err, "%s", ndx_errmsg());
            }
        }
        q->tail++;
        pthread_cond_broadcast(&q->room);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* The thread's failure, as an error of this thread. */
static ndx_status
textq_failed(textq *q)
{
    return ndx_error(q->st, "%s", q->err);
}

/* Compresses a block, or queues a copy of it for the compressing thread
 * (waiting while the queue is full). */
static ndx_status
block_submit(ndx_segw *w, const unsigned char *raw, size_t raw_len,
             const unsigned char *lens, size_t n)
{
    textq *q = w->tq;
    ndx_status st = NDX_OK;

    if (!q)
        return block_compress(w, raw, raw_len, lens, n);
    pthread_mutex_lock(&q->mu);
    while (!q->st && q->head - q->tail == TQ_SLOTS)
        pthread_cond_wait(&q->room, &q->mu);
    if (q->st) {
        st = textq_failed(q);
    } else {
        ndx_buf *b = &q->slot[q->head % TQ_SLOTS];
        ndx_buf *l = &q->lens[q->head % TQ_SLOTS];

        b->len = 0;
        l->len = 0;
        if (!(st = ndx_buf_put(b, raw, raw_len)) &&
            !(st = ndx_buf_put(l, lens, 4 * n))) {
            q->head++;
            if (q->head - q->tail >= TQ_BATCH)
                pthread_cond_signal(&q->work);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return st;
}

/* Waits until every queued block is compressed. */
static ndx_status
textq_drain(ndx_segw *w)
{
    textq *q = w->tq;
    ndx_status st = NDX_OK;

    if (!q)
        return NDX_OK;
    pthread_mutex_lock(&q->mu);
    q->drain = 1;
    pthread_cond_signal(&q->work);
    while (q->tail != q->head)
        pthread_cond_wait(&q->room, &q->mu);
    q->drain = 0;
    if (q->st)
        st = textq_failed(q);
    pthread_mutex_unlock(&q->mu);
    return st;
}

static void
textq_stop(ndx_segw *w)
{
    textq *q = w->tq;
    size_t i;

    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->th, NULL);
    for (i = 0; i < TQ_SLOTS; i++) {
        ndx_buf_free(&q->slot[i]);
        ndx_buf_free(&q->lens[i]);
    }
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->room);
    pthread_mutex_destroy(&q->mu);
    free(q);
    w->tq = NULL;
}

ndx_status
ndx_segw_background(ndx_segw *w)
{
    textq *q;

    if (w->tq)
        return NDX_OK;
    q = calloc(1, sizeof *q);
    if (!q)
        return ndx_error(NDX_ENOMEM, "out of memory (text thread)");
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->room, NULL);
    w->tq = q;
    if (pthread_create(&q->th, NULL, textq_main, w) != 0) {
        pthread_cond_destroy(&q->work);
        pthread_cond_destroy(&q->room);
        pthread_mutex_destroy(&q->mu);
        free(q);
        w->tq = NULL;
        return ndx_error(NDX_ENOMEM, "cannot start the text thread");
    }
    return NDX_OK;
}

/* Preset dictionary choice (dict_build).  K-mers are counted by passage
 * (a k-mer counts once per passage that holds it) in a table of hashed
 * counts; a candidate segment of DICT_SEG bytes scores the counts of its
 * k-mers; the best segments are taken greedily, each taking its k-mers'
 * counts to 0 so that the next ones bring what it lacks.  The first
 * taken goes last, nearest the passage, where a match costs the fewest
 * distance bits.  On allsides (one thread, one segment) stored text took
 * 102.3 MB with whole passages taken at a stride through the first
 * megabyte; with this choice from the first megabyte, k-mers of 4, 5, 6
 * and 8 bytes and segments of 64 bytes 98.3, 97.1, 97.2 and 99.3 MB, 5
 * bytes and segments of 32, 96 and 256 bytes 97.0, 97.8 and 99.8 MB (6
 * bytes); from the first 4 MB (NDX_SEG_TEXT_SAMPLE), 5 and 32: 97.0 MB
 * with the candidate segments side by side, 96.4 MB with them
 * overlapping by half, but choosing then took some 0.4 s a segment
 * (0.13 s side by side). */
#define DICT_K 5
#define DICT_SEG 32
#define DICT_HASH_BITS 20

static inline uint32_t
kmer_hash(const unsigned char *p)
{
    uint64_t v = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
                 (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                 (uint64_t)p[4] << 32;

    return (uint32_t)((v * 0x9E3779B97F4A7C15ULL) >> (64 - DICT_HASH_BITS));
}

typedef struct dseg {
    uint64_t score;
    uint32_t off;   /* in the sample */
} dseg;

static void
dseg_down(dseg *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        dseg t;

        if (l < n && h[l].score > h[m].score)
            m = l;
        if (r < n && h[r].score > h[m].score)
            m = r;
        if (m == i)
            return;
        t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static uint64_t
dseg_score(const uint32_t *cnt, const unsigned char *p)
{
    uint64_t sc = 0;
    size_t j;

    for (j = 0; j + DICT_K <= DICT_SEG; j++)
        sc += cnt[kmer_hash(p + j)];
    return sc;
}

/* Fills w->dict from the n passages of the sample (starts[i] bytes from
 * text, lens[i] long). */
static ndx_status
dict_build(ndx_segw *w, const unsigned char *text, const uint64_t *starts,
           const uint32_t *lens, size_t n)
{
    uint32_t *cnt = calloc((size_t)1 << DICT_HASH_BITS, sizeof *cnt);
    uint32_t *last = calloc((size_t)1 << DICT_HASH_BITS, sizeof *last);
    dseg *heap = NULL, *picked = NULL;
    size_t nh = 0, cap = 0, np = 0, i, j, total = 0;
    ndx_status st = NDX_OK;

    if (!cnt || !last) {
        st = ndx_error(NDX_ENOMEM, "out of memory (text dictionary)");
        goto done;
    }
    for (i = 0; i < n; i++) {
        const unsigned char *p = text + starts[i];

        for (j = 0; j + DICT_K <= lens[i]; j++) {
            uint32_t h = kmer_hash(p + j);

            if (last[h] != i + 1) {
                last[h] = (uint32_t)(i + 1);
                cnt[h]++;
            }
        }
        for (j = 0; j + DICT_SEG <= lens[i] || (j == 0 && lens[i] >= DICT_K);
             j += DICT_SEG) {
            if (nh == cap) {
                size_t c = cap ? cap * 2 : 4096;
                dseg *g = realloc(heap, c * sizeof *g);

                if (!g) {
                    st = ndx_error(NDX_ENOMEM,
                                   "out of memory (text dictionary)");
                    goto done;
                }
                heap = g;
                cap = c;
            }
            heap[nh].off = (uint32_t)(starts[i] + j);
            heap[nh++].score = 0;
            if (j + DICT_SEG > lens[i])
                break;
        }
    }
    /* A segment short of DICT_SEG bytes (a short passage) is scored on
     * the bytes that follow it too; they are the next passage's. */
    for (i = 0; i < nh;) {
        if (heap[i].off + DICT_SEG > starts[n - 1] + lens[n - 1]) {
            heap[i] = heap[--nh];
            continue;
        }
        heap[i].score = dseg_score(cnt, text + heap[i].off);
        i++;
    }
    for (i = nh / 2; i-- > 0;)
        dseg_down(heap, nh, i);
    if (!(picked = malloc((NDX_SEG_TEXT_DICT / DICT_SEG + 1) *
                          sizeof *picked))) {
        st = ndx_error(NDX_ENOMEM, "out of memory (text dictionary)");
        goto done;
    }
    while (nh > 0 && total + DICT_SEG <= NDX_SEG_TEXT_DICT) {
        uint64_t sc = dseg_score(cnt, text + heap[0].off);

        if (sc == 0) {
            /* Nothing left to bring (a copy of one taken). */
            heap[0] = heap[--nh];
            dseg_down(heap, nh, 0);
            continue;
        }
        if (sc < heap[0].score) {
            /* Lazy greedy: scores only fall; rescored, it goes back. */
            heap[0].score = sc;
            dseg_down(heap, nh, 0);
            continue;
        }
        picked[np++] = heap[0];
        total += DICT_SEG;
        for (j = 0; j + DICT_K <= DICT_SEG; j++)
            cnt[kmer_hash(text + heap[0].off + j)] = 0;
        heap[0] = heap[--nh];
        dseg_down(heap, nh, 0);
    }
    for (i = np; i-- > 0;)
        if ((st = ndx_buf_put(&w->dict, text + picked[i].off, DICT_SEG)))
            goto done;
done:
    free(cnt);
    free(last);
    free(heap);
    free(picked);
    return st;
}

/*
 * Chooses the preset dictionary from the text held in pend (every passage
 * so far lies in it; see dict_build), then compresses the held blocks.
 * A segment with less text than NDX_SEG_TEXT_MIN has none: the
 * dictionary is stored in the segment and would cost more than it saves.
 */
static ndx_status
dict_choose(ndx_segw *w)
{
    ndx_buf starts;             /* u64 offset in pend of each block */
    ndx_buf pstarts, plens;     /* per passage: offset in pend, bytes */
    uint64_t at = 0;
    size_t i, nblocks = w->pend_lens.len / 4;
    ndx_status st = NDX_OK;

    w->dict_done = 1;
    w->dict.len = 0;
    ndx_buf_init(&starts);
    ndx_buf_init(&pstarts);
    ndx_buf_init(&plens);
    if (w->pend.len >= NDX_SEG_TEXT_MIN) {
        for (i = 0; i < nblocks; i++) {
            if ((st = ndx_buf_put_u64le(&starts, at)))
                goto done;
            at += ndx_get_u32le(w->pend_lens.data + i * 4);
        }
        for (i = 0; i < w->passages; i++) {
            const unsigned char *c = w->textloc.mem.data + i * 12;
            uint32_t block = ndx_get_u32le(c), len = ndx_get_u32le(c + 8);
            uint64_t off;

            if (block >= nblocks)
                break;
            off = ndx_get_u64le(starts.data + (size_t)block * 8) +
                  ndx_get_u32le(c + 4);
            if ((st = ndx_buf_put(&pstarts, &off, sizeof off)) ||
                (st = ndx_buf_put(&plens, &len, sizeof len)))
                goto done;
        }
        if (plens.len &&
            (st = dict_build(w, w->pend.data,
                             (const uint64_t *)(void *)pstarts.data,
                             (const uint32_t *)(void *)plens.data,
                             plens.len / sizeof(uint32_t))))
            goto done;
    }
    /* The held blocks are the first ones, their passages the first
     * passages: each block's passage lengths come from textloc. */
    at = 0;
    {
        size_t p = 0;

        for (i = 0; i < nblocks; i++) {
            uint32_t len = ndx_get_u32le(w->pend_lens.data + i * 4);

            starts.len = 0;
            for (; p < w->passages &&
                   ndx_get_u32le(w->textloc.mem.data + p * 12) == i;
                 p++)
                if ((st = ndx_buf_put_u32le(
                         &starts, ndx_get_u32le(w->textloc.mem.data + p * 12 +
                                                8))))
                    goto done;
            if ((st = block_submit(w, w->pend.data + at, len, starts.data,
                                   starts.len / 4)))
                goto done;
            at += len;
        }
    }
    ndx_buf_free(&w->pend);
    ndx_buf_free(&w->pend_lens);
done:
    ndx_buf_free(&starts);
    ndx_buf_free(&pstarts);
    ndx_buf_free(&plens);
    return st;
}

/* Closes the block being filled: compresses it, or holds it until the
 * dictionary is chosen. */
static ndx_status
text_block_close(ndx_segw *w)
{
    ndx_status st;

    if (w->raw.len == 0)
        return NDX_OK;
    if (w->dict_done) {
        if ((st = block_submit(w, w->raw.data, w->raw.len, w->raw_lens.data,
                               w->raw_lens.len / 4)))
            return st;
    } else {
        if ((st = ndx_buf_put(&w->pend, w->raw.data, w->raw.len)) ||
            (st = ndx_buf_put_u32le(&w->pend_lens, (uint32_t)w->raw.len)))
            return st;
        if (w->pend.len >= NDX_SEG_TEXT_SAMPLE && (st = dict_choose(w)))
            return st;
    }
    w->blocks++;
    w->raw.len = 0;
    w->raw_lens.len = 0;
    return NDX_OK;
}

/* Appends the article record; its passages follow with passage_put. */
static ndx_status
article_put(ndx_segw *w, const ndx_article *a, size_t passages,
            uint32_t *ordinal)
{
    ndx_status st;
    uint32_t art = (uint32_t)w->article_count;
    uint32_t src = 0;
    uint64_t before = spool_len(&w->astr);
    const char *id = a->id ? a->id : "";
    const char *title = a->title ? a->title : "";
    const char *url = a->url ? a->url : "";

    if (w->passages + passages >= UINT32_MAX - 1)
        return ndx_error(NDX_ELIMIT, "segment full (4 billion passages)");
    if ((st = source_get(w, a->source && *a->source ? a->source : "unknown",
                         &src)))
        return st;
    if ((st = ndx_buf_put_u32le(&w->articles.mem, (uint32_t)w->passages)) ||
        (st = ndx_buf_put_u32le(&w->articles.mem, (uint32_t)passages)) ||
        (st = ndx_buf_put_u32le(&w->articles.mem, (uint32_t)a->date_days)) ||
        (st = ndx_buf_put_u32le(&w->articles.mem, src)) ||
        (st = ndx_buf_put_u64le(&w->articles.mem, before)))
        return st;
    if ((st = ndx_buf_put(&w->astr.mem, id, strlen(id) + 1)) ||
        (st = ndx_buf_put(&w->astr.mem, title, strlen(title) + 1)) ||
        (st = ndx_buf_put(&w->astr.mem, url, strlen(url) + 1)))
        return st;
    if ((st = ndx_buf_put_u32le(&w->articles.mem,
                                (uint32_t)(spool_len(&w->astr) - before))) ||
        (st = ndx_buf_put_u32le(&w->articles.mem, (uint32_t)a->time_secs)))
        return st;
    if ((st = ndx_buf_put_u64le(&w->ids, ndx_hash64(id, strlen(id)))) ||
        (st = ndx_buf_put_u32le(&w->ids, art)) ||
        (st = ndx_buf_put_u32le(&w->ids, 0)))
        return st;
    if (a->date_days != NDX_DATE_NONE) {
        if (w->first_days == NDX_DATE_NONE || a->date_days < w->first_days)
            w->first_days = a->date_days;
        if (w->last_days == NDX_DATE_NONE || a->date_days > w->last_days)
            w->last_days = a->date_days;
    }
    w->article_count++;
    if (ordinal)
        *ordinal = art;
    return NDX_OK;
}

/* Appends one passage's columns and text; returns its id. */
static ndx_status
passage_put(ndx_segw *w, uint32_t art, uint32_t length, const char *text,
            uint32_t len, uint32_t *pid)
{
    ndx_status st;

    if (w->copying)
        return ndx_error(NDX_EINVAL, "a writer given stored passages takes "
                                     "no others");
    if (w->raw.len > 0 && w->raw.len + len > NDX_SEG_TEXT_BLOCK &&
        (st = text_block_close(w)))
        return st;
    if ((st = ndx_buf_put_u32le(&w->columns.mem, art)) ||
        (st = ndx_buf_put_u32le(&w->columns.mem, length)) ||
        (st = ndx_buf_put_u32le(&w->lengths, length)) ||
        (st = ndx_buf_put_u32le(&w->textloc.mem,
                                w->blocks)) ||
        (st = ndx_buf_put_u32le(&w->textloc.mem, (uint32_t)w->raw.len)) ||
        (st = ndx_buf_put_u32le(&w->textloc.mem, len)) ||
        (st = ndx_buf_put_u32le(&w->raw_lens, len)) ||
        (st = ndx_buf_put(&w->raw, text, len)))
        return st;
    *pid = (uint32_t)w->passages++;
    w->total_len += length;
    return NDX_OK;
}

/* Appends one posting (and its positions) to a term's lists. */
static inline ndx_status
posting_put(ndx_segw *w, wterm *wt, uint32_t pid, uint32_t wdf,
            const uint32_t *pos, uint32_t npos)
{
    uint32_t k, prev = 0;
    ndx_status st;

    if (wt->last > pid)
        return ndx_error(NDX_EINVAL, "postings out of order");
    if ((st = ndx_slab_put_varint(&w->lists, &wt->post, pid + 1 - wt->last)) ||
        (st = ndx_slab_put_varint(&w->lists, &wt->post, wdf)))
        return st;
    wt->last = pid + 1;
    wt->df++;
    if (npos) {
        wt->has_pos = 1;
        for (k = 0; k < npos; k++) {
            if ((st = ndx_slab_put_varint(&w->lists, &wt->pos,
                                          pos[k] - prev)))
                return st;
            prev = pos[k];
        }
    }
    return NDX_OK;
}

/*
 * Appends one passage's postings.  Each term costs a few cache misses (its
 * hash slot, its record), and the terms of a passage are scattered over
 * the whole table; so the hashes are taken first, and the slot of the term
 * SLOT_AHEAD places on and the record of the one RECORD_AHEAD places on
 * are prefetched, which lets the misses of several terms overlap.
 */
static ndx_status
passage_postings(ndx_segw *w, const ndx_termset *t, uint32_t pid)
{
    size_t n = t->term_count, j, mask;
    ndx_status st;

    if ((st = terms_reserve(w, n)))
        return st;
    if (ndx_grow((void **)&w->hashes, &w->hash_cap, n, sizeof *w->hashes,
                 256) != 0)
        return ndx_error(NDX_ENOMEM, "out of memory (term hashes)");
    for (j = 0; j < n; j++)
        w->hashes[j] = table_hash(t->terms[j].hash);
    mask = w->slot_cap - 1;
    for (j = 0; j < n && j < SLOT_AHEAD; j++)
        PREFETCH(&w->slots[w->hashes[j] & mask]);
    for (j = 0; j < n; j++) {
        const ndx_term *tm = &t->terms[j];
        wterm *wt = NULL;

        if (j + SLOT_AHEAD < n)
            PREFETCH(&w->slots[w->hashes[j + SLOT_AHEAD] & mask]);
        if (j + RECORD_AHEAD < n) {
            uint64_t slot = w->slots[w->hashes[j + RECORD_AHEAD] & mask];

            if (slot)
                PREFETCH(&w->terms[(uint32_t)slot - 1]);
        }
        if ((st = term_get_hashed(w, tm->term, tm->term_len, w->hashes[j],
                                  &wt)) ||
            (st = posting_put(w, wt, pid, tm->wdf,
                              tm->pos_count ? t->positions + tm->pos_off
                                            : NULL,
                              tm->pos_count)))
            return st;
    }
    return NDX_OK;
}

ndx_status
ndx_segw_add_article(ndx_segw *w, const ndx_article *a, size_t passages,
                     uint32_t *ordinal)
{
    return article_put(w, a, passages, ordinal);
}

ndx_status
ndx_segw_add_passage(ndx_segw *w, uint32_t art, const ndx_termset *t,
                     const char *text, size_t len)
{
    ndx_status st;
    uint32_t pid;

    if ((st = passage_put(w, art, t->length, text, (uint32_t)len, &pid)))
        return st;
    return passage_postings(w, t, pid);
}

ndx_status
ndx_segw_add(ndx_segw *w, const ndx_article *a, const ndx_passages *p,
             const ndx_termset *ts, uint32_t *ordinal)
{
    ndx_status st;
    uint32_t art;
    size_t i;

    if ((st = ndx_segw_add_article(w, a, p->count, &art)))
        return st;
    for (i = 0; i < p->count; i++)
        if ((st = ndx_segw_add_passage(w, art, &ts[i],
                                       a->text + p->items[i].off,
                                       p->items[i].len)))
            return st;
    if (ordinal)
        *ordinal = art;
    return NDX_OK;
}

ndx_status
ndx_segw_add_raw(ndx_segw *w, const ndx_article *a, size_t passages,
                 const char *const *texts, const uint32_t *text_lens,
                 const uint32_t *lengths, uint32_t *first_pid)
{
    ndx_status st;
    uint32_t art, pid = 0;
    size_t i;

    if ((st = article_put(w, a, passages, &art)))
        return st;
    for (i = 0; i < passages; i++) {
        if ((st = passage_put(w, art, lengths[i], texts[i], text_lens[i],
                              &pid)))
            return st;
        if (i == 0 && first_pid)
            *first_pid = pid;
    }
    return NDX_OK;
}

/* ---- stored passages (merging) ----------------------------------------- *
 *
 * A merge gives the passages' streams as its sources stored them.  Each
 * source's dictionary comes along: the blocks are cut into runs, one per
 * dictionary (TEXTDICTS), and a dictionary shared by several runs is
 * stored once.  A stream never moves into a block of another dictionary. */

/* Closes the block being filled with copied streams. */
static ndx_status
copy_block_close(ndx_segw *w)
{
    ndx_status st;

    if (w->block_passages == 0)
        return NDX_OK;
    if ((st = ndx_buf_put(&w->text, w->raw.data, w->raw.len)) ||
        (st = block_done(w, w->raw.len, w->block_raw)))
        return st;
    w->blocks++;
    w->raw.len = 0;
    w->block_raw = w->block_passages = 0;
    return NDX_OK;
}

/* Makes dict the dictionary of the blocks to come: the current run goes
 * on when it has the same one, else a new run starts with the next
 * block. */
static ndx_status
copy_run(ndx_segw *w, const unsigned char *dict, size_t len)
{
    size_t n = w->ranges.len / 16, i;
    uint64_t off = 0;
    unsigned char *last = n ? w->ranges.data + (n - 1) * 16 : NULL;
    int found = len == 0;
    ndx_status st;

    if (last && ndx_get_u32le(last + 4) == len &&
        (len == 0 ||
         memcmp(w->dict.data + ndx_get_u64le(last + 8), dict, len) == 0))
        return NDX_OK;
    if ((st = copy_block_close(w)))
        return st;
    for (i = 0; i < n && !found; i++) {
        const unsigned char *e = w->ranges.data + i * 16;

        if (ndx_get_u32le(e + 4) == len &&
            memcmp(w->dict.data + ndx_get_u64le(e + 8), dict, len) == 0) {
            off = ndx_get_u64le(e + 8);
            found = 1;
        }
    }
    if (!found) {
        off = w->dict.len;
        if ((st = ndx_buf_put(&w->dict, dict, len)))
            return st;
    }
    w->enc_ready = 0;
    if (last && ndx_get_u32le(last) == w->blocks) {
        /* The current run has no block: the new one replaces it. */
        ndx_set_u32le(last + 4, (uint32_t)len);
        ndx_set_u64le(last + 8, off);
        return NDX_OK;
    }
    if ((st = ndx_buf_put_u32le(&w->ranges, w->blocks)) ||
        (st = ndx_buf_put_u32le(&w->ranges, (uint32_t)len)) ||
        (st = ndx_buf_put_u64le(&w->ranges, off)))
        return st;
    return NDX_OK;
}

/* Compresses one passage's text against the current run's dictionary
 * into w->zout. */
static ndx_status
copy_deflate(ndx_segw *w, const char *text, uint32_t len)
{
    const unsigned char *e = w->ranges.data + w->ranges.len - 16;
    uLong cap = compressBound((uLong)len) + 64;
    ndx_status st;

    if ((st = enc_load(w, w->dict.data + ndx_get_u64le(e + 8),
                     ndx_get_u32le(e + 4))))
        return st;
    w->zout.len = 0;
    if ((st = ndx_buf_reserve(&w->zout, cap)))
        return st;
    return deflate_passage(w, (const unsigned char *)text, len, w->zout.data,
                           cap, &w->zout.len);
}

ndx_status
ndx_segw_add_stored(ndx_segw *w, const ndx_article *a, size_t passages,
                    const ndx_segw_stored *p, const unsigned char *dict,
                    size_t dict_len, uint32_t *first_pid)
{
    ndx_status st;
    uint32_t art;
    size_t i;

    if (!w->copying) {
        if (w->passages || w->raw.len || w->blocks || w->tq)
            return ndx_error(NDX_EINVAL, "stored passages go to a writer "
                                         "of their own");
        w->copying = 1;
        w->dict_done = 1;
        copy_spools_open(w);
    }
    if (dict_len > NDX_SEG_TEXT_DICT)
        return ndx_error(NDX_EINVAL, "text dictionary too long");
    if ((st = copy_run(w, dict, dict_len)) ||
        (st = article_put(w, a, passages, &art)))
        return st;
    for (i = 0; i < passages; i++) {
        const unsigned char *sb = p[i].stream;
        uint32_t sl = p[i].stream_len;

        if (!sb) {
            if ((st = copy_deflate(w, p[i].text, p[i].text_len)))
                return st;
            sb = w->zout.data;
            sl = (uint32_t)w->zout.len;
        }
        if (w->block_passages &&
            w->block_raw + (uint64_t)p[i].text_len > NDX_SEG_TEXT_BLOCK &&
            (st = copy_block_close(w)))
            return st;
        if ((st = ndx_buf_put_u32le(&w->columns.mem, art)) ||
            (st = ndx_buf_put_u32le(&w->columns.mem, p[i].length)) ||
            (st = ndx_buf_put_u32le(&w->lengths, p[i].length)) ||
            (st = ndx_buf_put_u32le(&w->textloc.mem, w->blocks)) ||
            (st = ndx_buf_put_u32le(&w->textloc.mem, (uint32_t)w->raw.len)) ||
            (st = ndx_buf_put_u32le(&w->textloc.mem, p[i].text_len)) ||
            (st = ndx_buf_put(&w->raw, sb, sl)))
            return st;
        w->block_raw += p[i].text_len;
        w->block_passages++;
        if (i == 0 && first_pid)
            *first_pid = (uint32_t)w->passages;
        w->passages++;
        w->total_len += p[i].length;
    }
    return copy_spools_drain(w);
}

long
ndx_segw_find(const ndx_segw *w, const char *id)
{
    uint64_t h = ndx_hash64(id, strlen(id));
    size_t i, n = w->ids.len / 16;

    /* A writer of stored passages may have sent its articles to files. */
    if (w->copying)
        return -1;

    /* Newest first: the last article with this id is the live one. */
    for (i = n; i-- > 0;) {
        const unsigned char *e = w->ids.data + i * 16;

        if (ndx_get_u64le(e) == h) {
            uint32_t art = ndx_get_u32le(e + 8);
            uint64_t off = ndx_get_u64le(w->articles.mem.data + art * 32 + 16);

            if (strcmp((const char *)w->astr.mem.data + off, id) == 0)
                return (long)art;
        }
    }
    return -1;
}

/* ---- flush ------------------------------------------------------------- */

static int
cmp_term(const void *a, const void *b)
{
    const wterm *x = *(const wterm *const *)a;
    const wterm *y = *(const wterm *const *)b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->term, y->term, n);

    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int
cmp_ids(const void *a, const void *b)
{
    uint64_t x = ndx_get_u64le(a), y = ndx_get_u64le(b);
    uint32_t p = ndx_get_u32le((const unsigned char *)a + 8);
    uint32_t q = ndx_get_u32le((const unsigned char *)b + 8);

    if (x != y)
        return x < y ? -1 : 1;
    return (p > q) - (p < q);
}

/* Bits needed for the largest of n values (0 when all are 0). */
static unsigned
bits_for(const uint32_t *v, uint32_t n)
{
    uint32_t k, all = 0;

    for (k = 0; k < n; k++)
        all |= v[k];
    return all ? 32u - (unsigned)__builtin_clz(all) : 0u;
}

/* Appends n values of bits bits each, least significant bit first. */
static ndx_status
put_packed(ndx_buf *b, const uint32_t *v, uint32_t n, unsigned bits)
{
    unsigned char out[NDX_SEG_BLOCK * 4 + 8];
    uint64_t acc = 0;
    unsigned have = 0;
    size_t o = 0;
    uint32_t k;

    if (!bits)
        return NDX_OK;
    for (k = 0; k < n; k++) {
        acc |= (uint64_t)v[k] << have;
        have += bits;
        while (have >= 8) {
            out[o++] = (unsigned char)acc;
            acc >>= 8;
            have -= 8;
        }
    }
    if (have)
        out[o++] = (unsigned char)acc;
    return ndx_buf_put(b, out, o);
}

/* The end of the count varints from p (a varint ends with the first
 * byte below 0x80), or NULL when end comes first.  Eight bytes at a
 * time: the positions of a long list are most of what a segment's write
 * reads, and each is a byte or two. */
static const unsigned char *
skip_varints(const unsigned char *p, const unsigned char *end, uint64_t count)
{
    while (count >= 8 && end - p >= 8) {
        uint64_t x = ndx_get_u64le(p);
        unsigned ends = (unsigned)__builtin_popcountll(~x &
                                                       0x8080808080808080ULL);

        /* Fewer ends than wanted: all eight bytes are passed, whatever
         * the last varint begun among them. */
        if (ends >= count)
            break;
        count -= ends;
        p += 8;
    }
    while (count) {
        if (p >= end)
            return NULL;
        count -= !(*p++ & 0x80);
    }
    return p;
}

/* Puts the table of where a list's blocks' positions start before them,
 * at offset at of b (moving them): offs holds, as u32, where the blocks
 * after the first start, from at; the table holds them from its end, in
 * the fewest bytes each that the largest needs. */
static ndx_status
put_pos_table(ndx_buf *b, size_t at, const ndx_buf *offs)
{
    size_t n = offs->len / 4, k, tab;
    uint32_t last = n ? ndx_get_u32le(offs->data + (n - 1) * 4) : 0;
    unsigned width = 1, j;
    unsigned char *q;
    ndx_status st;

    while (width < 4 && last >> (8 * width))
        width++;
    tab = 1 + n * width;
    if ((st = ndx_buf_reserve(b, tab)))
        return st;
    memmove(b->data + at + tab, b->data + at, b->len - at);
    q = b->data + at;
    *q++ = (unsigned char)width;
    for (k = 0; k < n; k++) {
        uint32_t v = ndx_get_u32le(offs->data + k * 4);

        for (j = 0; j < width; j++)
            *q++ = (unsigned char)(v >> (8 * j));
    }
    b->len += tab;
    return NDX_OK;
}

/* Re-cuts one term's raw postings into blocks: skip entries (only when
 * there is more than one block) into post, block data into scratch, the
 * positions into pos, led by the table of where each block's positions
 * start (built in pos_starts) when there is more than one block.  The caller
 * appends scratch after the skips. */
static ndx_status
encode_postings(ndx_segw *w, const wterm *t, ndx_buf *post, ndx_buf *pos,
                ndx_buf *scratch, ndx_buf *pos_starts)
{
    const unsigned char *p = t->post.data, *end = p + t->post.len;
    const unsigned char *pp = t->pos.data, *pend = pp + t->pos.len;
    uint32_t ids[NDX_SEG_BLOCK], wdfs[NDX_SEG_BLOCK], lens[NDX_SEG_BLOCK];
    uint32_t gaps[NDX_SEG_BLOCK], wm1[NDX_SEG_BLOCK];
    uint32_t imp[2 * NDX_SEG_IMPACTS], nimp, prev = 0, base = 0;
    uint32_t prev_last = 0;
    unsigned char ib[2 * NDX_SEG_IMPACTS * 10 + 10];
    int multi = t->df > NDX_SEG_BLOCK;
    size_t term_pos = pos->len;
    ndx_status st;

    scratch->len = 0;
    pos_starts->len = 0;
    while (p < end) {
        uint32_t n = 0, k;
        size_t data_start = scratch->len;
        unsigned gb, wb;
        uint64_t v;

        while (p < end && n < NDX_SEG_BLOCK) {
            if (ndx_varint_get(&p, end, &v))
                return ndx_error(NDX_ECORRUPT, "postings buffer damaged");
            prev += (uint32_t)v;
            ids[n] = prev - 1;
            /* Its passage's length is read below, at random in a table
             * of 4 bytes a passage: started now, the reads overlap. */
            if (multi)
                PREFETCH(w->lengths.data + (size_t)(prev - 1) * 4);
            if (ndx_varint_get(&p, end, &v))
                return ndx_error(NDX_ECORRUPT, "postings buffer damaged");
            wdfs[n] = (uint32_t)v;
            n++;
        }
        for (k = 0; k < n; k++) {
            gaps[k] = ids[k] - (k ? ids[k - 1] + 1 : base);
            wm1[k] = wdfs[k] - 1;
            if (multi)
                lens[k] = ndx_get_u32le(w->lengths.data +
                                        (size_t)ids[k] * 4);
        }
        gb = bits_for(gaps + 1, n - 1);
        wb = bits_for(wm1, n);
        if ((st = ndx_buf_put_varint(scratch, gaps[0])) ||
            (st = ndx_buf_putc(scratch, (int)gb)) ||
            (st = ndx_buf_putc(scratch, (int)wb)) ||
            (st = put_packed(scratch, gaps + 1, n - 1, gb)) ||
            (st = put_packed(scratch, wm1, n, wb)))
            return st;
        if (t->has_pos) {
            /* Copy this block's positions: wdf varints per posting. */
            const unsigned char *q;
            uint64_t m = 0;

            for (k = 0; k < n; k++)
                m += wdfs[k];
            if (!(q = skip_varints(pp, pend, m)))
                return ndx_error(NDX_ECORRUPT, "positions buffer damaged");
            if ((st = ndx_buf_put(pos, pp, (size_t)(q - pp))))
                return st;
            pp = q;
            if (multi && p < end) {
                /* Where the next block's positions start. */
                if (pos->len - term_pos > UINT32_MAX)
                    return ndx_error(NDX_EINVAL, "a term with more than "
                                                 "4 GB of positions");
                if ((st = ndx_buf_put_u32le(pos_starts,
                                            (uint32_t)(pos->len - term_pos))))
                    return st;
            }
        }
        if (multi) {
            /* The impacts go first into ib: the entry gives their bytes
             * so that a seek steps over them without reading them. */
            unsigned char *q = ib;

            nimp = ndx_seg_impacts(wdfs, lens, n, imp);
            q += ndx_varint_encode(q, nimp);
            for (k = 0; k < nimp; k++) {
                q += ndx_varint_encode(q, imp[2 * k] -
                                              (k ? imp[2 * k - 2] : 0));
                q += ndx_varint_encode(q, imp[2 * k + 1] -
                                              (k ? imp[2 * k - 1] : 0));
            }
            if ((st = ndx_buf_put_varint(post, ids[n - 1] - prev_last)) ||
                (st = ndx_buf_put_varint(post, scratch->len - data_start)) ||
                (st = ndx_buf_put_varint(post, (uint64_t)(q - ib))) ||
                (st = ndx_buf_put(post, ib, (size_t)(q - ib))))
                return st;
        }
        prev_last = ids[n - 1];
        base = ids[n - 1] + 1;
    }
    if (t->has_pos && multi)
        return put_pos_table(pos, term_pos, pos_starts);
    return NDX_OK;
}

/* Postings lists already written, by hash of their bytes, so that a term
 * whose list is byte for byte another's with the same df (a stem with one
 * surface form) points at the same bytes.  The df must match too: a
 * one-block list does not say how many postings it holds (ids 5 and 5, 6
 * both pack into the same three bytes), and readers key what they cache
 * about a list by its offset. */
typedef struct alias_slot {
    uint64_t off_tag; /* offset in POSTINGS, and 24 bits of the hash above
                         ALIAS_OFF_BITS */
    uint32_t len;     /* bytes; 0: an empty slot */
    uint32_t df;
} alias_slot;
/* A slot is 16 bytes and the table at most three quarters full: at a
 * merge of 1,000,000 passages (some 700,000 lists), 16 MB; four arrays of
 * u64 at half full took 64 MB, the most of what writing a segment adds
 * to the writer's memory.  Lists past these bounds are not looked for. */
#define ALIAS_OFF_BITS 40
#define ALIAS_OFF_MAX ((1ULL << ALIAS_OFF_BITS) - 1)

typedef struct alias_map {
    alias_slot *slots;
    size_t cap, count;
} alias_map;

static void
alias_free(alias_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* A slot's place: from the 24 bits of the hash it keeps (so that the
 * table grows without the lists' bytes). */
static size_t
alias_home(uint64_t tag, size_t cap)
{
    return (size_t)ndx_mix64(tag >> ALIAS_OFF_BITS) & (cap - 1);
}

/* Looks for an earlier list of postings with the same df and bytes: its
 * offset in *found, else UINT64_MAX and the list (at off) is recorded. */
static ndx_status
alias_find_or_put(alias_map *m, const spool *postings,
                  const unsigned char *bytes, size_t len, uint64_t df,
                  uint64_t off, uint64_t *found)
{
    ndx_status st = NDX_OK;
    uint64_t tag = (ndx_hash64(bytes, len) >> 40) << ALIAS_OFF_BITS;
    size_t j;

    *found = UINT64_MAX;
    if (len == 0 || len > UINT32_MAX || df > UINT32_MAX ||
        off > ALIAS_OFF_MAX)
        return NDX_OK;
    if ((m->count + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap * 2 : 4096, i;
        alias_slot *t = calloc(cap, sizeof *t);

        if (!t)
            return ndx_error(NDX_ENOMEM, "out of memory (aliases)");
        for (i = 0; i < m->cap; i++) {
            const alias_slot *e = &m->slots[i];

            if (!e->len)
                continue;
            j = alias_home(e->off_tag & ~ALIAS_OFF_MAX, cap);
            while (t[j].len)
                j = (j + 1) & (cap - 1);
            t[j] = *e;
        }
        free(m->slots);
        m->slots = t;
        m->cap = cap;
    }
    for (j = alias_home(tag, m->cap); m->slots[j].len;
         j = (j + 1) & (m->cap - 1)) {
        const alias_slot *e = &m->slots[j];

        if ((e->off_tag & ~ALIAS_OFF_MAX) == tag && e->len == len &&
            e->df == df &&
            spool_equal(postings, e->off_tag & ALIAS_OFF_MAX, bytes, len,
                        &st)) {
            *found = e->off_tag & ALIAS_OFF_MAX;
            return NDX_OK;
        }
        if (st)
            return st;
    }
    m->slots[j].off_tag = tag | off;
    m->slots[j].len = (uint32_t)len;
    m->slots[j].df = (uint32_t)df;
    m->count++;
    return NDX_OK;
}

static uint64_t
zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static ndx_status
write_all(int fd, const void *p, size_t len, const char *path)
{
    const char *s = p;

    while (len) {
        ssize_t n = write(fd, s, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ndx_error(NDX_EIO, "write %s: %s", path, strerror(errno));
        }
        s += n;
        len -= (size_t)n;
    }
    return NDX_OK;
}

/* Once every block is compressed: the second field of each passage's
 * TEXTLOC entry becomes the offset of its stream in its block's compressed
 * bytes. */
static ndx_status
textloc_streams(ndx_segw *w)
{
    uint64_t p;
    uint32_t block = UINT32_MAX, at = 0;

    if (w->clens.len / 4 != w->passages)
        return ndx_error(NDX_EINVAL, "text of %llu passages compressed for "
                                     "%llu",
                         (unsigned long long)(w->clens.len / 4),
                         (unsigned long long)w->passages);
    for (p = 0; p < w->passages; p++) {
        unsigned char *c = w->textloc.mem.data + p * 12;

        if (ndx_get_u32le(c) != block) {
            block = ndx_get_u32le(c);
            at = 0;
        }
        ndx_set_u32le(c + 4, at);
        at += ndx_get_u32le(w->clens.data + p * 4);
    }
    return NDX_OK;
}

/* One term's list encoded (encode_term), ready to be appended: its
 * POSTINGS bytes (skip entries, when any, led by their length, then the
 * blocks) and its POSITIONS bytes (led by the table of its blocks'
 * starts, which counts from the table's end, so the bytes are the same
 * wherever they go). */
typedef struct encoded {
    ndx_buf post, pos;
    ndx_buf scratch, pos_starts; /* encode_postings' work buffers */
} encoded;

static void
encoded_free(encoded *x)
{
    ndx_buf_free(&x->post);
    ndx_buf_free(&x->pos);
    ndx_buf_free(&x->scratch);
    ndx_buf_free(&x->pos_starts);
}

/* The dictionary as terms are encoded, in order (flush sorts the
 * terms of a segment built from passages; a merge gives them in order):
 * DICT and DICTIDX here, the lists in the writer's spools. */
typedef struct emitter {
    ndx_buf dict, dictidx;
    encoded one;            /* the term being encoded, in one thread */
    alias_map aliases;
    uint64_t exp_post, prev_pos;
} emitter;

static void
emitter_free(struct emitter *e)
{
    ndx_buf_free(&e->dict);
    ndx_buf_free(&e->dictidx);
    encoded_free(&e->one);
    alias_free(&e->aliases);
    memset(e, 0, sizeof *e);
}

/* Encodes term t's lists into x.  Reads only t, its lists and the
 * writer's passage lengths: terms are encoded in two threads at once
 * (flush_parallel). */
static ndx_status
encode_term(ndx_segw *w, const wterm *t, encoded *x)
{
    ndx_status st;

    x->post.len = 0;
    x->pos.len = 0;
    if ((st = encode_postings(w, t, &x->post, &x->pos, &x->scratch,
                              &x->pos_starts)))
        return st;
    if (t->df > NDX_SEG_BLOCK) {
        /* The skip entries' length leads, so that a reader finds the
         * data without reading every entry. */
        size_t n = x->post.len, vlen;
        unsigned char vb[10];

        if ((st = ndx_buf_put_varint(&x->post, n)))
            return st;
        vlen = x->post.len - n;
        memcpy(vb, x->post.data + n, vlen);
        memmove(x->post.data + vlen, x->post.data, n);
        memcpy(x->post.data, vb, vlen);
    }
    return ndx_buf_put(&x->post, x->scratch.data, x->scratch.len);
}

/* Appends term t (the next in bytewise order), encoded in x, to the
 * sections. */
static ndx_status
emit_encoded(ndx_segw *w, emitter *e, const wterm *t, const encoded *x)
{
    uint64_t post_off = spool_len(&w->sp_post);
    uint64_t pos_off = spool_len(&w->sp_pos);
    uint64_t post_len = x->post.len, found;
    uint32_t shared = 0;
    ndx_status st;

    if ((st = ndx_buf_put(&w->sp_pos.mem, x->pos.data, x->pos.len)))
        return st;
    if ((st = alias_find_or_put(&e->aliases, &w->sp_post, x->post.data,
                                x->post.len, t->df, post_off, &found)))
        return st;
    if (found != UINT64_MAX)
        post_off = found;
    else if ((st = ndx_buf_put(&w->sp_post.mem, x->post.data, x->post.len)))
        return st;
    if (w->terms_out % NDX_SEG_DICT_BLOCK == 0) {
        /* Block start: index entry; first term stored whole, offsets
         * relative to 0. */
        if ((st = ndx_buf_put_u64le(&e->dictidx, e->dict.len)) ||
            (st = ndx_buf_put_varint(&e->dict, 0)) ||
            (st = ndx_buf_put_varint(&e->dict, t->len)) ||
            (st = ndx_buf_put_u32le(&e->dictidx, (uint32_t)e->dict.len)) ||
            (st = ndx_buf_put_u32le(&e->dictidx, t->len)) ||
            (st = ndx_buf_put(&e->dict, t->term, t->len)))
            return st;
        e->exp_post = 0;
        e->prev_pos = 0;
    } else {
        const char *pv = (const char *)w->prev_term.data;
        uint32_t n = w->prev_term.len < t->len ? (uint32_t)w->prev_term.len
                                               : t->len;

        while (shared < n && pv[shared] == t->term[shared])
            shared++;
        if ((st = ndx_buf_put_varint(&e->dict, shared)) ||
            (st = ndx_buf_put_varint(&e->dict, t->len - shared)) ||
            (st = ndx_buf_put(&e->dict, t->term + shared, t->len - shared)))
            return st;
    }
    if ((st = ndx_buf_put_varint(&e->dict,
                                 (uint64_t)t->df * 2 + (t->has_pos != 0))) ||
        (st = ndx_buf_put_varint(&e->dict, zigzag((int64_t)post_off -
                                                  (int64_t)e->exp_post))) ||
        (st = ndx_buf_put_varint(&e->dict, post_len)) ||
        (st = ndx_buf_put_varint(&e->dict, pos_off - e->prev_pos)))
        return st;
    e->exp_post = post_off + post_len;
    e->prev_pos = pos_off;
    w->prev_term.len = 0;
    if ((st = ndx_buf_put(&w->prev_term, t->term, t->len)))
        return st;
    w->terms_out++;
    if ((st = spool_drain(&w->sp_post, 0)) ||
        (st = spool_drain(&w->sp_pos, 0)))
        return st;
    return NDX_OK;
}

/* Encodes term t (the next in bytewise order) into the sections. */
static ndx_status
emit_term(ndx_segw *w, emitter *e, const wterm *t)
{
    ndx_status st;

    if ((st = encode_term(w, t, &e->one)))
        return st;
    return emit_encoded(w, e, t, &e->one);
}

/*
 * Encoding the sorted terms of a segment built from passages takes most
 * of writing it, and the other threads of a run wait meanwhile; so where
 * the writer may use a thread of its own (ndx_segw_background), a helper
 * encodes terms ahead while the caller's thread appends them in order
 * (and encodes too when it finds the next term not yet taken).  A ring of
 * PAR_RING encoded terms bounds what is held ahead; the bytes written are
 * the same as encoding them one by one.
 */
#define PAR_RING 256
#define PAR_CHUNK 16       /* terms taken at once */
#define PAR_MIN_TERMS 4096 /* fewer terms: not worth a thread */
#define PAR_KEEP (64u << 10) /* a ring entry lets go of buffers past this */

typedef struct par_flush {
    ndx_segw *w;
    wterm **sorted;
    size_t n;
    encoded ring[PAR_RING];
    unsigned char done[PAR_RING]; /* 1: ring[i % PAR_RING] holds term i */
    size_t next;                  /* the first term not taken */
    size_t emitted;               /* terms appended so far */
    int stop;
    int waiting;                  /* the appending thread waits on cv */
    ndx_status st;                /* the helper's failure (it stops) */
    size_t fail_at;               /* on this term */
    char err[512];
    pthread_mutex_t mu;
    pthread_cond_t cv;            /* a term is encoded (for the caller) */
    pthread_cond_t room;          /* terms were appended (for the helper) */
} par_flush;

static void *
par_main(void *arg)
{
    par_flush *f = arg;

    pthread_mutex_lock(&f->mu);
    for (;;) {
        size_t i, end;

        while (!f->stop && f->next < f->n &&
               f->next + PAR_CHUNK > f->emitted + PAR_RING)
            pthread_cond_wait(&f->room, &f->mu);
        if (f->stop || f->next >= f->n)
            break;
        i = f->next;
        end = i + PAR_CHUNK < f->n ? i + PAR_CHUNK : f->n;
        f->next = end;
        for (; i < end; i++) {
            ndx_status st;

            pthread_mutex_unlock(&f->mu);
            st = encode_term(f->w, f->sorted[i], &f->ring[i % PAR_RING]);
            pthread_mutex_lock(&f->mu);
            f->done[i % PAR_RING] = 1;
            if (f->waiting)
                pthread_cond_signal(&f->cv);
            if (st) {
                f->st = st;
                snprintf(f->err, sizeof f->err, "%s", ndx_errmsg());
                f->fail_at = i;
                f->stop = 1;
                break;
            }
        }
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* Encodes and appends sorted[0..n) with the helper.  *alone is set when
 * the helper could not start: nothing was appended, and the caller goes
 * on by itself. */
static ndx_status
flush_parallel(ndx_segw *w, emitter *e, wterm **sorted, size_t n,
               int *alone)
{
    par_flush *f = calloc(1, sizeof *f);
    pthread_t th;
    ndx_status st = NDX_OK;
    size_t i, k;

    *alone = 1;
    if (!f)
        return NDX_OK;
    f->w = w;
    f->sorted = sorted;
    f->n = n;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    pthread_cond_init(&f->room, NULL);
    if (pthread_create(&th, NULL, par_main, f) != 0) {
        pthread_cond_destroy(&f->cv);
        pthread_cond_destroy(&f->room);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return NDX_OK;
    }
    *alone = 0;
    for (i = 0; i < n && !st; i++) {
        encoded *x = &f->ring[i % PAR_RING];

        pthread_mutex_lock(&f->mu);
        if (f->next == i) {
            /* Not taken yet: take a chunk and encode it here. */
            size_t end = i + PAR_CHUNK < n ? i + PAR_CHUNK : n;

            f->next = end;
            pthread_mutex_unlock(&f->mu);
            for (k = i; k < end && !st; k++)
                st = encode_term(w, sorted[k], &f->ring[k % PAR_RING]);
            pthread_mutex_lock(&f->mu);
            for (k = i; k < end; k++)
                f->done[k % PAR_RING] = 1;
        }
        f->waiting = 1;
        while (!f->done[i % PAR_RING])
            pthread_cond_wait(&f->cv, &f->mu);
        f->waiting = 0;
        if (!st && f->st && f->fail_at == i)
            st = ndx_error(f->st, "%s", f->err);
        pthread_mutex_unlock(&f->mu);
        if (!st)
            st = emit_encoded(w, e, sorted[i], x);
        ndx_slab_release(&w->lists, &sorted[i]->post);
        ndx_slab_release(&w->lists, &sorted[i]->pos);
        if (x->post.cap > PAR_KEEP || x->pos.cap > PAR_KEEP ||
            x->scratch.cap > PAR_KEEP)
            encoded_free(x);
        pthread_mutex_lock(&f->mu);
        f->done[i % PAR_RING] = 0;
        f->emitted = i + 1;
        if (st)
            f->stop = 1;
        if (st || f->emitted % PAR_CHUNK == 0)
            pthread_cond_signal(&f->room);
        pthread_mutex_unlock(&f->mu);
    }
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_signal(&f->room);
    pthread_mutex_unlock(&f->mu);
    pthread_join(th, NULL);
    for (k = 0; k < PAR_RING; k++)
        encoded_free(&f->ring[k]);
    pthread_cond_destroy(&f->cv);
    pthread_cond_destroy(&f->room);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return st;
}

ndx_status
ndx_segw_term_begin(ndx_segw *w, const char *term, uint32_t len)
{
    const ndx_buf *pv = &w->prev_term;
    size_t n = pv->len < len ? pv->len : len;
    int c;
    ndx_status st;

    if (w->cur_open || (!w->streaming && w->term_count))
        return ndx_error(NDX_EINVAL, "terms given whole go to a writer "
                                     "without other terms, one at a time");
    if (len == 0 || len > NDX_SEG_TERM_MAX)
        return ndx_error(NDX_EINVAL, "term of %u bytes", len);
    c = memcmp(pv->data ? (const char *)pv->data : "", term, n);
    if (w->terms_out && (c > 0 || (c == 0 && pv->len >= len)))
        return ndx_error(NDX_EINVAL, "terms out of order");
    if (!w->em && !(w->em = calloc(1, sizeof *w->em)))
        return ndx_error(NDX_ENOMEM, "out of memory");
    w->streaming = 1;
    w->cur_term.len = 0;
    if ((st = ndx_buf_put(&w->cur_term, term, len)))
        return st;
    w->cur.term = (char *)w->cur_term.data;
    w->cur.len = len;
    w->cur.df = 0;
    w->cur.last = 0;
    w->cur.has_pos = 0;
    w->cur.post.len = 0;
    w->cur.pos.len = 0;
    w->cur_open = 1;
    return NDX_OK;
}

ndx_status
ndx_segw_term_posting(ndx_segw *w, uint32_t pid, uint32_t wdf,
                      const uint32_t *pos, uint32_t npos)
{
    if (!w->cur_open)
        return ndx_error(NDX_EINVAL, "a posting without its term");
    if (pid >= w->passages || wdf == 0)
        return ndx_error(NDX_EINVAL, "posting of passage %u, wdf %u", pid,
                         wdf);
    return posting_put(w, &w->cur, pid, wdf, pos, npos);
}

ndx_status
ndx_segw_term_end(ndx_segw *w)
{
    if (!w->cur_open)
        return ndx_error(NDX_EINVAL, "no term to end");
    w->cur_open = 0;
    /* A term whose postings were all of dropped passages is left out. */
    if (w->cur.df == 0)
        return NDX_OK;
    return emit_term(w, w->em, &w->cur);
}

ndx_status
ndx_segw_flush(ndx_segw *w, const char *path)
{
    ndx_buf sec[SEC_COUNT_PLUS_ONE], toc, head;
    wterm **sorted = NULL;
    emitter *e = w->em;
    char *tmp = NULL;
    int fd = -1;
    size_t i;
    uint64_t off;
    int alone;
    ndx_status st = NDX_OK;

    for (i = 0; i < SEC_COUNT_PLUS_ONE; i++)
        ndx_buf_init(&sec[i]);
    ndx_buf_init(&toc);
    ndx_buf_init(&head);
    if (w->cur_open) {
        st = ndx_error(NDX_EINVAL, "a term was begun and not ended");
        goto fail;
    }
    if (!e && !(e = w->em = calloc(1, sizeof *e))) {
        st = ndx_error(NDX_ENOMEM, "out of memory");
        goto fail;
    }
    if (w->copying) {
        if ((st = copy_block_close(w)))
            goto fail;
    } else if ((st = text_block_close(w)) ||
               (!w->dict_done && (st = dict_choose(w))) ||
               (st = textq_drain(w)) || (st = textloc_streams(w)) ||
               (st = ndx_buf_put_u32le(&w->ranges, 0)) ||
               (st = ndx_buf_put_u32le(&w->ranges, (uint32_t)w->dict.len)) ||
               (st = ndx_buf_put_u64le(&w->ranges, 0))) {
        goto fail;
    }
    if (w->ranges.len == 0 && /* copying, no passage */
        ((st = ndx_buf_put_u32le(&w->ranges, 0)) ||
         (st = ndx_buf_put_u32le(&w->ranges, 0)) ||
         (st = ndx_buf_put_u64le(&w->ranges, 0))))
        goto fail;
    if (!w->streaming) {
        sorted = malloc((w->term_count + 1) * sizeof *sorted);
        if (!sorted) {
            st = ndx_error(NDX_ENOMEM, "out of memory (sorting terms)");
            goto fail;
        }
        for (i = 0; i < w->term_count; i++)
            sorted[i] = &w->terms[i];
        qsort(sorted, w->term_count, sizeof *sorted, cmp_term);
        /* DICT, DICTIDX, POSTINGS, POSITIONS; a term's lists as built are
         * let go once encoded. */
        alone = 1;
        if (w->tq && w->term_count >= PAR_MIN_TERMS &&
            (st = flush_parallel(w, e, sorted, w->term_count, &alone)))
            goto fail;
        for (i = 0; alone && i < w->term_count; i++) {
            if ((st = emit_term(w, e, sorted[i])))
                goto fail;
            ndx_slab_release(&w->lists, &sorted[i]->post);
            ndx_slab_release(&w->lists, &sorted[i]->pos);
        }
    }

    /* META */
    {
        ndx_buf *m = &sec[SEC_META];

        if ((st = ndx_buf_put_u64le(m, w->passages)) ||
            (st = ndx_buf_put_u64le(m, w->article_count)) ||
            (st = ndx_buf_put_u64le(m, w->total_len)) ||
            (st = ndx_buf_put_u64le(m, w->terms_out)) ||
            (st = ndx_buf_put_u64le(m, (uint64_t)(int64_t)w->first_days)) ||
            (st = ndx_buf_put_u64le(m, (uint64_t)(int64_t)w->last_days)) ||
            (st = ndx_buf_put_u64le(m, (w->terms_out + NDX_SEG_DICT_BLOCK -
                                        1) / NDX_SEG_DICT_BLOCK)) ||
            (st = ndx_buf_put_u64le(m, spool_len(&w->textidx) / 16)) ||
            (st = ndx_buf_put_u64le(m, w->source_count)))
            goto fail;
    }
    qsort(w->ids.data, w->ids.len / 16, 16, cmp_ids);
    for (i = 0; i < w->source_count; i++) {
        ndx_buf *s = &sec[SEC_SOURCES];
        size_t nl = strlen(w->sources[i].name), kl = strlen(w->sources[i].key);

        if ((st = ndx_buf_put_u32le(s, (uint32_t)nl)) ||
            (st = ndx_buf_put(s, w->sources[i].name, nl)) ||
            (st = ndx_buf_put_u32le(s, (uint32_t)kl)) ||
            (st = ndx_buf_put(s, w->sources[i].key, kl)))
            goto fail;
    }

    /* Assemble: header, sections (borrowed from the writer where they are
     * built already), toc, trailer. */
    {
        const ndx_buf *parts[SEC_COUNT_PLUS_ONE];
        const spool *sp;

        for (i = 1; i < SEC_COUNT_PLUS_ONE; i++)
            parts[i] = &sec[i];
        parts[SEC_DICT] = &e->dict;
        parts[SEC_DICTIDX] = &e->dictidx;
        parts[SEC_IDS] = &w->ids;
        parts[SEC_TEXT] = &w->text;
        parts[SEC_TEXTDICT] = &w->dict;
        parts[SEC_TEXTDICTS] = &w->ranges;

        tmp = malloc(strlen(path) + 8);
        if (!tmp) {
            st = ndx_error(NDX_ENOMEM, "out of memory");
            goto fail;
        }
        sprintf(tmp, "%s.tmp", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            st = ndx_error(NDX_EIO, "create %s: %s", tmp, strerror(errno));
            goto fail;
        }
        if ((st = ndx_buf_put(&head, "NDXSEG\r\n", 8)) ||
            (st = ndx_buf_put_u32le(&head, NDX_SEG_VERSION)) ||
            (st = ndx_buf_put_u32le(&head, 0)) ||
            (st = write_all(fd, head.data, head.len, tmp)))
            goto fail;
        off = head.len;
        for (i = 1; i < SEC_COUNT_PLUS_ONE; i++) {
            const ndx_buf *b = parts[i];
            uLong crc = crc32(0L, Z_NULL, 0);

            if (i == SEC_TEXT && w->spill_fd >= 0) {
                if ((st = ndx_buf_put_u32le(&toc, (uint32_t)i)) ||
                    (st = ndx_buf_put_u32le(&toc, (uint32_t)w->spill_crc)) ||
                    (st = ndx_buf_put_u64le(&toc, off)) ||
                    (st = ndx_buf_put_u64le(&toc, w->spill_len)) ||
                    (st = copy_file(w->spill_fd, w->spill_len, fd, tmp)))
                    goto fail;
                off += w->spill_len;
                continue;
            }
            if ((sp = section_spool(w, i)) != NULL) {
                uint64_t n = spool_len(sp);

                if ((st = spool_write(sp, fd, tmp, &crc)) ||
                    (st = ndx_buf_put_u32le(&toc, (uint32_t)i)) ||
                    (st = ndx_buf_put_u32le(&toc, (uint32_t)crc)) ||
                    (st = ndx_buf_put_u64le(&toc, off)) ||
                    (st = ndx_buf_put_u64le(&toc, n)))
                    goto fail;
                off += n;
                continue;
            }
            {
                size_t done = 0;

                while (done < b->len) {
                    size_t n = b->len - done;

                    if (n > (1u << 30))
                        n = 1u << 30;
                    crc = crc32(crc, b->data + done, (uInt)n);
                    done += n;
                }
            }
            if ((st = ndx_buf_put_u32le(&toc, (uint32_t)i)) ||
                (st = ndx_buf_put_u32le(&toc, (uint32_t)crc)) ||
                (st = ndx_buf_put_u64le(&toc, off)) ||
                (st = ndx_buf_put_u64le(&toc, b->len)))
                goto fail;
            if (b->len && (st = write_all(fd, b->data, b->len, tmp)))
                goto fail;
            off += b->len;
        }
        {
            uLong tcrc = crc32(crc32(0L, Z_NULL, 0), toc.data, (uInt)toc.len);

            if ((st = ndx_buf_put_u32le(&toc, SEC_COUNT_PLUS_ONE - 1)) ||
                (st = ndx_buf_put_u32le(&toc, (uint32_t)tcrc)) ||
                (st = ndx_buf_put_u64le(&toc, off)) ||
                (st = ndx_buf_put(&toc, "NDXEND\r\n", 8)))
                goto fail;
        }
        if ((st = write_all(fd, toc.data, toc.len, tmp)))
            goto fail;
    }
    if (fsync(fd) != 0) {
        st = ndx_error(NDX_EIO, "fsync %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = ndx_error(NDX_EIO, "close %s: %s", tmp, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = ndx_error(NDX_EIO, "rename %s: %s", tmp, strerror(errno));
        goto fail;
    }
    segw_reset(w);
fail:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    free(sorted);
    for (i = 0; i < SEC_COUNT_PLUS_ONE; i++)
        ndx_buf_free(&sec[i]);
    ndx_buf_free(&toc);
    ndx_buf_free(&head);
    return st;
}
