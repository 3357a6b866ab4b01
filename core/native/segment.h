/*
 * segment.h - the native engine's immutable segment files: writing one
 * from analyzed passages, and reading one through a read-only map.
 *
 * FORMAT (version 7), as segment_writer.c writes it; segment_reader.c
 * reads it and tests/test_format.c decodes a small segment by hand
 * against this description.  All integers little-endian; "varint" is
 * LEB128 (7 bits a byte, low first, high bit = more).
 *
 *   header   8 bytes magic "NDXSEG\r\n", u32 version, u32 zero
 *   sections 1 to 16 below, in that order, back to back from offset 16
 *   toc      per section, 24 bytes: u32 id, u32 crc32 of its bytes,
 *            u64 offset in the file, u64 bytes
 *   trailer  u32 section count (16), u32 crc32 of the toc, u64 offset of
 *            the toc, 8 bytes magic "NDXEND\r\n"; it ends the file
 *
 * Sections (id: content):
 *   1 META      u64 passages, u64 articles, u64 total length (sum of
 *               passage lengths), u64 terms, i64 first day, i64 last day
 *               (NDX_DATE_NONE when no article is dated), u64 dictionary
 *               blocks, u64 text blocks, u64 sources
 *   2 DICT      terms in bytewise order, in blocks of 64
 *               (NDX_SEG_DICT_BLOCK); an entry: varint bytes shared with
 *               the previous term (0 for a block's first term), varint
 *               bytes of the rest, the rest, varint df * 2 + (1 if the
 *               term has positions), varint zigzag(postings offset -
 *               expected offset), varint postings bytes, varint positions
 *               offset - the previous entry's positions offset.  Within a
 *               block the expected postings offset is the previous
 *               entry's offset + bytes; at a block's first term both the
 *               expected postings offset and the previous positions
 *               offset are 0, so its offsets are absolute.  Offsets are
 *               in POSTINGS and POSITIONS.
 *   3 DICTIDX   per dictionary block, 16 bytes: u64 offset of the block
 *               in DICT, u32 offset in DICT of its first term's bytes,
 *               u32 their length
 *   4 POSTINGS  per term, its list; a list byte for byte equal to an
 *               earlier term's of the same df is not written again (the
 *               entry points at the earlier bytes).  A list: when df > 128
 *               (NDX_SEG_BLOCK), first varint bytes of the skip entries,
 *               then the skip entries, one per block of 128 postings:
 *               varint the block's last passage id - the previous
 *               block's (the first whole), varint its data bytes, varint
 *               its impact bytes, then the impacts: varint count (at
 *               most NDX_SEG_IMPACTS), per
 *               impact varint wdf and varint passage length, each minus
 *               the previous impact's (the first whole): the block's
 *               (wdf, length) pairs that no posting of it beats with a
 *               larger wdf and a shorter passage, by increasing wdf, the
 *               longest merged into one pair of their largest wdf and
 *               shortest length.  Then the blocks' data; a block of n
 *               postings: varint its first gap, u8 gap bits G, u8 wdf
 *               bits W (G <= 32, W <= 31), the other n - 1 gaps in G bits
 *               each, then the n wdfs - 1 in W bits each, bit-packed from
 *               the low bit of the first byte up, each run padded to a
 *               whole byte (0 bits: every value is 0).  A gap is the
 *               passage id - (the previous posting's id + 1); the first
 *               gap of a block is from the previous block's last id + 1,
 *               or the id itself in the first block.
 *   5 POSITIONS per term with positions: when its list has more than
 *               one block, first a table of where each block's positions
 *               start: u8 width W (1 to 4), then for every block but the
 *               first, W bytes little-endian: its offset from the table's
 *               end (a block's positions are found without reading the
 *               others' entries).  Then per posting, in postings order:
 *               wdf varints, each position - the previous one (the first
 *               from 0).  A list holds no positions, so a stem with one
 *               surface form has the same list as that form, written
 *               once (see POSTINGS)
 *   6 COLUMNS   per passage, 8 bytes: u32 its article, u32 its length
 *               (the sum of the wdf of all its terms); side by side, so
 *               that a candidate's article and length cost one cache miss
 *   7 ARTICLES  per article, 32 bytes: u32 first passage, u32 passages,
 *               i32 date days, u32 source, u64 offset in ASTR, u32 bytes
 *               in ASTR, i32 seconds into the day (-1 unknown)
 *   8 ASTR      per article: id NUL title NUL url NUL
 *   9 IDS       per article, 16 bytes, sorted by (hash, article): u64
 *               ndx_hash64 of the id (FNV-1a 64 from the offset basis
 *               NDX_SEG_HASH_BASIS, below), u32 article, u32 zero
 *  10 SOURCES   per source: u32 bytes, display name, u32 bytes, key
 *               (ndx_source_key)
 *  11 TEXTIDX   per text block, 16 bytes: u64 offset in TEXT, u32
 *               compressed bytes, u32 raw bytes
 *  12 TEXT      per text block, the texts of consecutive passages, each
 *               one raw deflate stream (RFC 1951: no zlib header, no
 *               adler32) compressed alone against the block's preset
 *               dictionary (TEXTDICTS) when that is not empty, back to
 *               back; a block is closed before a passage would take it
 *               past 2 KB (NDX_SEG_TEXT_BLOCK) of raw bytes
 *  13 LENGTHS   empty (lengths are in COLUMNS since version 5)
 *  14 TEXTLOC   per passage, 3 x u32: text block, offset of its stream
 *               in the block's compressed bytes, raw bytes (a block's
 *               passages in order hold its raw bytes)
 *  15 TEXTDICT  the preset dictionaries of the text blocks, back to back.
 *               A segment written from analyzed passages has one: up to
 *               NDX_SEG_TEXT_DICT bytes of pieces of its first
 *               NDX_SEG_TEXT_SAMPLE bytes of text, chosen for the byte
 *               strings most passages there share (none in a segment
 *               with less text than NDX_SEG_TEXT_MIN); any bytes would
 *               do for a reader.  A merged segment keeps
 *               its sources' streams as they are, and so their
 *               dictionaries, each once.
 *  16 TEXTDICTS per run of text blocks sharing a dictionary, 16 bytes:
 *               u32 the run's first text block, u32 the dictionary's
 *               bytes (0: none), u64 its offset in TEXTDICT.  At least one
 *               entry; the first run starts at block 0, each later one
 *               after the previous one's start, and a run lasts until the
 *               next one starts.
 *
 * Older versions are refused with a message to rebuild the index: version
 * 6 gave each block's positions bytes in its skip entry, so that a stem's
 * list and its one surface form's differed and were both written (the
 * allsides segment, one thread, is 4.4 MB smaller in version 7, of 224);
 * version 5 had one dictionary (TEXTDICT) and no TEXTDICTS, so a merge
 * inflated and compressed again every passage; version 4 wrote a block's postings
 * as varints (gap * 2 + 1 if wdf is 1, then the wdf when it is not),
 * skip entries without their impact bytes and passage lengths in LENGTHS
 * apart from the articles in COLUMNS; version 3 compressed a text block
 * as one stream (a hit inflated the passages before its own); version 2
 * had 8 KB text blocks and no TEXTDICT; version 1 neither, and a skip
 * entry of one maximum wdf and one minimum length instead of impacts.
 *
 * A passage id is its ordinal in the segment; articles and sources are
 * numbered the same way.  What leaves the segment (hits) is converted to
 * strings by the caller.
 */
#ifndef NDX_SEGMENT_H
#define NDX_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/analyze.h"
#include "newsdex/article.h"
#include "newsdex/ingest.h"
#include "newsdex/status.h"
#include "util/buf.h"
#include "util/hash.h"

#define NDX_SEG_VERSION 7
/* Impacts kept per postings block: the (wdf, passage length) pairs that no
 * other posting of the block beats on both (see FORMAT).  Past this many,
 * the longest are merged into one bounding pair. */
#define NDX_SEG_IMPACTS 8
#define NDX_SEG_BLOCK 128      /* postings per block */
#define NDX_SEG_DICT_BLOCK 64  /* terms per dictionary block */
/* Stored text.  A hit inflates its passage alone: each passage is its
 * own stream, and the preset dictionary gives back much of what short
 * streams lose.  Blocks only group the streams so that TEXTIDX stays
 * small.  With 2 KB blocks inflated whole (format 3) `bench/run --small`
 * measured stored text at 0.404 of the raw text; with a stream per
 * passage against 32 KB it measures 0.447 (bench/results/small.md), and
 * the hits' text no longer dominates a query's time.  zlib's levels and
 * codes, measured on allsides (bench/run's native build, one thread; a
 * passage's text: 200,000 passages drawn at random, read through
 * ndx_seg_text):
 *
 *   zlib level, codes     stored text / raw   indexing CPU   a passage's text
 *   6, dynamic Huffman    0.477               37.3 s         about 4.8 us
 *   3, dynamic Huffman    0.493               33.9 s         4.8 us
 *   6, fixed (Z_FIXED)    0.497               38.1 s         3.2 us
 *   3, fixed (Z_FIXED)    0.533               27.2 s         3.0 us
 *
 * A passage is short, so a dynamic block's header (its code tables) is a
 * large part of its stream, and building those tables a large part of
 * inflating it; fixed codes need neither, and the matches against the
 * dictionary carry most of the compression.  Any raw deflate stream
 * inflates, so readers never depend on how a stream was made.
 *
 * Segments are now written by util/flate.h's encoder: fixed codes, greedy
 * matches against the dictionary loaded once per segment (zlib had to
 * copy a stream holding it, some 200 KB, for every passage), and read by
 * its decoder, which reads matches into the dictionary in place (zlib
 * copies the 32 KB dictionary into its window at every passage; streams
 * with dynamic codes still go to zlib).  `build/ndx-text-cost` on the
 * allsides segment, 200,000 random passages of 391 bytes on average,
 * each way on the same passages:
 *
 *   way                                 per passage   stored text / raw
 *   zlib level 3, fixed, deflateCopy    16.5 us       0.536
 *   ndx_flate_encode                     5.2 us       0.523
 *   read through zlib                    2.5 us
 *   read through ndx_flate_fixed         1.7 us (1.8 through ndx_seg_text)
 *
 * Indexing allsides on one thread (ndx-bench build): 25.8 s before the
 * encoder, 19.2-20.0 s with it.  Since the decoder copies matches in
 * 16-byte pieces where the pieces stay inside the output and the
 * dictionary, ndx-text-cost's flate-fixed reads 1.42-1.69 us per passage
 * against 1.62-1.74 with byte-exact copies (three rounds in turn), and
 * the same 4,000 passages read 100 times over (input in cache) 1.03-1.07
 * us against 1.24-1.26. */
#define NDX_SEG_TEXT_BLOCK (2 * 1024)
#define NDX_SEG_TEXT_DICT (32 * 1024)
#define NDX_SEG_TEXT_SAMPLE (4 * 1024 * 1024)
/* Less text than this in a segment: no dictionary (it would cost more
 * than it saves). */
#define NDX_SEG_TEXT_MIN (128 * 1024)

enum {
    SEC_META = 1, SEC_DICT, SEC_DICTIDX, SEC_POSTINGS, SEC_POSITIONS,
    SEC_COLUMNS, SEC_ARTICLES, SEC_ASTR, SEC_IDS, SEC_SOURCES, SEC_TEXTIDX,
    SEC_TEXT, SEC_LENGTHS, SEC_TEXTLOC, SEC_TEXTDICT, SEC_TEXTDICTS,
    SEC_COUNT_PLUS_ONE
};

/* The segment's hash of ids and terms: FNV-1a 64 from the offset basis
 * 1469598103934665603 (not FNV's 14695981039346656037: a digit was lost
 * when the format was made, and the IDS section keeps it). */
#define NDX_SEG_HASH_BASIS 1469598103934665603ULL

static inline uint64_t
ndx_hash64(const void *p, size_t len)
{
    return ndx_fnv1a64_more(NDX_SEG_HASH_BASIS, p, len);
}

/* ---- writer ------------------------------------------------------------ */

typedef struct ndx_segw ndx_segw;

ndx_status ndx_segw_new(ndx_segw **out);
void ndx_segw_free(ndx_segw *w);
/* Sends the compressed passage text to an unlinked temporary file in dir
 * instead of memory, from the first article on (the writer must be new):
 * the text is the largest part of a segment and is not needed again until
 * the segment is written.  NDX_OK, NDX_EINVAL (text already added) or
 * NDX_EIO (the writer then keeps the text in memory). */
ndx_status ndx_segw_spill(ndx_segw *w, const char *dir);

/* Compresses the passage text in a thread of the writer's own from now
 * on, while the caller goes on adding, and at each flush encodes the
 * terms' lists in a second thread beside the caller's: the same bytes
 * are written.
 * NDX_OK or NDX_ENOMEM (the writer then compresses in the caller). */
ndx_status ndx_segw_background(ndx_segw *w);

/* Adds an article with its passages' term sets (ts[i] for passage i) and
 * texts.  Returns the article's ordinal through *ordinal. */
ndx_status ndx_segw_add(ndx_segw *w, const ndx_article *a,
                        const ndx_passages *p, const ndx_termset *ts,
                        uint32_t *ordinal);

/* The same, a passage at a time, so that a caller holds one term set at
 * once however long the article: ndx_segw_add_article, then exactly
 * `passages` calls of ndx_segw_add_passage (the article's passages in
 * order) before anything else is added. */
ndx_status ndx_segw_add_article(ndx_segw *w, const ndx_article *a,
                                size_t passages, uint32_t *ordinal);
ndx_status ndx_segw_add_passage(ndx_segw *w, uint32_t art,
                                const ndx_termset *t, const char *text,
                                size_t len);

/* For merging: appends an article with already stored passages (texts
 * and lengths), without postings; *first_pid receives its first passage
 * id.  Postings follow with ndx_segw_term_begin (below). */
ndx_status ndx_segw_add_raw(ndx_segw *w, const ndx_article *a,
                            size_t passages, const char *const *texts,
                            const uint32_t *text_lens,
                            const uint32_t *lengths, uint32_t *first_pid);
/* For merging without recompressing: appends an article whose passages'
 * text is given compressed, as stored by a segment (p[i].stream, a raw
 * deflate stream against dict), or raw (p[i].stream NULL: p[i].text is
 * compressed against dict here).  A writer takes either these or
 * analyzed and raw passages, never both (NDX_EINVAL).  Postings follow
 * as for ndx_segw_add_raw. */
typedef struct ndx_segw_stored {
    const unsigned char *stream; /* compressed text, or NULL */
    uint32_t stream_len;         /* its bytes */
    const char *text;            /* raw text when stream is NULL */
    uint32_t text_len;           /* raw bytes (of the stream's text too) */
    uint32_t length;             /* passage length (sum of term wdfs) */
} ndx_segw_stored;
ndx_status ndx_segw_add_stored(ndx_segw *w, const ndx_article *a,
                               size_t passages, const ndx_segw_stored *p,
                               const unsigned char *dict, size_t dict_len,
                               uint32_t *first_pid);
/* For merging, once every article is added: each term whole, in increasing bytewise order
 * and once, its postings in increasing passage order between
 * ndx_segw_term_begin and ndx_segw_term_end.  The term is encoded at its
 * end, so that the writer holds one term's postings at a time (a term
 * left without postings is not written).  NDX_EINVAL when out of
 * order. */
ndx_status ndx_segw_term_begin(ndx_segw *w, const char *term, uint32_t len);
ndx_status ndx_segw_term_posting(ndx_segw *w, uint32_t pid, uint32_t wdf,
                                 const uint32_t *pos, uint32_t npos);
ndx_status ndx_segw_term_end(ndx_segw *w);

/* Looks an article id up among those added; -1 if absent (always for a
 * writer given stored passages, which may have sent its articles to
 * temporary files). */
long ndx_segw_find(const ndx_segw *w, const char *id);

size_t ndx_segw_articles(const ndx_segw *w);
size_t ndx_segw_passages(const ndx_segw *w);

/* Bytes of memory the writer holds (for --memory). */
size_t ndx_segw_memory(const ndx_segw *w);

/* Writes the segment to path (write, fsync, close) and resets the writer.
 * The file is written under path + ".tmp" and renamed. */
ndx_status ndx_segw_flush(ndx_segw *w, const char *path);

/* ---- reader ------------------------------------------------------------ */

typedef struct ndx_seg_article {
    uint32_t first;    /* first passage id */
    uint32_t passages; /* count */
    int32_t date_days;
    uint32_t source;   /* source ordinal */
    uint64_t str_off;  /* in ASTR */
    uint32_t str_len;
    int32_t time_secs;
} ndx_seg_article;

typedef struct ndx_seg_source {
    const char *name; /* display name (malloc'd copy) */
    const char *key;  /* normalised key (malloc'd copy) */
} ndx_seg_source;

typedef struct ndx_seg {
    char *path;
    const unsigned char *map;  /* whole file, read-only */
    size_t map_len;
    const unsigned char *sec[SEC_COUNT_PLUS_ONE]; /* section starts */
    uint64_t sec_len[SEC_COUNT_PLUS_ONE];
    uint32_t sec_crc[SEC_COUNT_PLUS_ONE];
    uint64_t passages, articles, total_len, terms;
    int32_t first_days, last_days;
    uint64_t dict_blocks, text_blocks;
    uint64_t uid;              /* unique among the segments opened by this
                                  process (keys the inflated-block cache) */
    ndx_seg_source *sources;
    size_t source_count;
    struct ndx_segfilter *filter; /* source runs, date order (filter.h) */
    /* The file as it was verified: a change seen by ndx_seg_recheck, or a
     * read past a truncation (util/mapguard.h), sets damaged, and every
     * operation that read the segment then fails naming it. */
    volatile int damaged;
    int guard_slot;            /* mapguard slot, or -1 */
    uint64_t file_dev, file_ino;
    int64_t file_mtime_ns;
} ndx_seg;

/* Maps and validates a segment file (structure, table of contents, section
 * bounds; with verify also every section checksum).  NDX_ECORRUPT or
 * NDX_EVERSION with a message naming the file. */
ndx_status ndx_seg_open(ndx_seg **out, const char *path, int verify);
void ndx_seg_close(ndx_seg *s);

/* Lets go of the pages of the segment's map that this process has read
 * (they stay in the page cache, and a later read maps them again): a
 * merge reads its sources once through, and would otherwise hold them
 * all as resident memory until it ends. */
void ndx_seg_release(const ndx_seg *s);

/* Looks at the file again (for a reader's refresh): when it is no longer
 * the file that was verified at open (shorter, or modified in place: its
 * checksums are then verified again over the map), marks the segment
 * damaged.  A file replaced by another (rename) leaves the map intact.
 * Returns NDX_OK, or NDX_ECORRUPT naming the file when damaged. */
ndx_status ndx_seg_recheck(ndx_seg *s);

/* NDX_ECORRUPT naming the file when the segment was found damaged after
 * it was opened (ndx_seg_recheck, or a read past a truncation); else
 * NDX_OK. */
ndx_status ndx_seg_damage(const ndx_seg *s);

/* Dictionary entry of a term. */
typedef struct ndx_seg_term {
    uint64_t df;
    int has_pos;
    uint64_t post_off, post_len; /* in POSTINGS */
    uint64_t pos_off;            /* in POSITIONS */
} ndx_seg_term;

/* Finds a term: 1 found, 0 not, or NDX_ECORRUPT. */
int ndx_seg_lookup(const ndx_seg *s, const char *term, size_t len,
                   ndx_seg_term *out);

/* Calls fn for every term starting with prefix, in order; stops when fn
 * returns non-zero (and returns that).  NDX_ECORRUPT on damage. */
typedef int (*ndx_seg_term_fn)(void *ctx, const char *term, size_t len,
                               const ndx_seg_term *t);
int ndx_seg_prefix(const ndx_seg *s, const char *prefix, size_t len,
                   ndx_seg_term_fn fn, void *ctx);

/* A walk over a segment's whole dictionary in term order (merging reads
 * the dictionaries of several segments side by side): ndx_seg_walk_start,
 * then ndx_seg_walk_next until it returns 0.  The fields are the walk's. */
#define NDX_SEG_TERM_MAX 1024 /* bytes of a term, at most */
typedef struct ndx_seg_walk {
    const ndx_seg *s;
    const unsigned char *p, *end; /* rest of the DICT section */
    uint64_t block;               /* current block */
    unsigned in_block;            /* entries read in this block */
    char term[NDX_SEG_TERM_MAX];  /* the term read last */
    size_t len;                   /* its bytes */
    uint64_t exp_post;            /* where the next list would start */
    uint64_t prev_pos;            /* positions offset of the last entry */
    int bad;                      /* the dictionary index is damaged */
} ndx_seg_walk;
void ndx_seg_walk_start(ndx_seg_walk *w, const ndx_seg *s);
/* The next term (w->term, w->len) and its entry in *t: 1, 0 after the
 * last, or NDX_ECORRUPT naming the segment. */
int ndx_seg_walk_next(ndx_seg_walk *w, ndx_seg_term *t);

/* Counts the distinct terms of segs[0..count) (a term in several segments
 * counts once) into *out.  0, NDX_ENOMEM or NDX_ECORRUPT. */
int ndx_seg_distinct_terms(ndx_seg *const *segs, size_t count,
                           uint64_t *out);

/* Columns and the article table.  ndx_seg_passage is inline: the
 * executor calls it for every candidate passage. */
static inline int
ndx_seg_passage(const ndx_seg *s, uint32_t pid, uint32_t *article,
                uint32_t *length)
{
    const unsigned char *c;

    if (pid >= s->passages)
        return -1;
    c = s->sec[SEC_COLUMNS] + (size_t)pid * 8;
    if (article)
        *article = ndx_get_u32le(c);
    if (length)
        *length = ndx_get_u32le(c + 4);
    return 0;
}
/* Starts reading ndx_seg_passage's columns of pid (a hint). */
static inline void
ndx_seg_passage_prefetch(const ndx_seg *s, uint32_t pid)
{
    if (pid < s->passages)
        __builtin_prefetch(s->sec[SEC_COLUMNS] + (size_t)pid * 8);
}
int ndx_seg_article_get(const ndx_seg *s, uint32_t art, ndx_seg_article *out);
/* The id, title and url of an article (borrowed from the map). */
int ndx_seg_article_strings(const ndx_seg *s, const ndx_seg_article *a,
                            const char **id, const char **title,
                            const char **url);
/* ndx_seg_article_get and ndx_seg_article_strings, or NDX_ECORRUPT
 * naming the segment. */
ndx_status ndx_seg_article_read(const ndx_seg *s, uint32_t art,
                                ndx_seg_article *a, const char **id,
                                const char **title, const char **url);
/* Article ordinal of an id, or -1. */
long ndx_seg_find(const ndx_seg *s, const char *id);

/* Starts reading, into the cache, what a hit of passage pid will read:
 * stage 0 its column and text location, 1 (those read) its article entry
 * and text block entry, 2 its article's strings and its stream's first
 * bytes.  Calling a stage for every hit before the next stage lets the
 * hits' cache misses overlap.  Reads only what is in bounds; never fails. */
void ndx_seg_prefetch_hit(const ndx_seg *s, uint32_t pid, int stage);

/* Decompresses a passage's text into b (replacing its contents).  The
 * last passage inflated is kept per thread. */
ndx_status ndx_seg_text(const ndx_seg *s, uint32_t pid, ndx_buf *b);

/* For reading many passages (merging): the last passage inflated, in
 * memory of the caller's.  Zero it to start; free raw with ndx_buf_free. */
typedef struct ndx_seg_textcache {
    ndx_buf raw;          /* the passage's raw bytes */
    const ndx_seg *seg;   /* whose passage */
    uint32_t pid;
    int valid;
} ndx_seg_textcache;

/* A passage's text (not NUL-terminated) in the cache's memory, valid
 * until the next call with c. */
ndx_status ndx_seg_text_cached(const ndx_seg *s, uint32_t pid,
                               ndx_seg_textcache *c, const char **text,
                               uint32_t *text_len);

/* A passage's stored text as it is in the segment: its raw deflate
 * stream, exactly, and the preset dictionary it was compressed against
 * (borrowed from the map; dict_len 0: none). */
typedef struct ndx_seg_stream {
    const unsigned char *stream;
    uint32_t stream_len;
    uint32_t text_len;           /* raw bytes */
    const unsigned char *dict;
    uint32_t dict_len;
} ndx_seg_stream;
ndx_status ndx_seg_text_stream(const ndx_seg *s, uint32_t pid,
                               ndx_seg_stream *out);
/* The first non-empty text dictionary of the segment (*dict NULL and
 * *len 0 when it has none). */
void ndx_seg_text_dict_any(const ndx_seg *s, const unsigned char **dict,
                           uint32_t *len);

/* Verifies every section checksum and walks every postings list. */
ndx_status ndx_seg_check(const ndx_seg *s);

/* ---- postings cursor ------------------------------------------------- */

#define NDX_PID_END UINT32_MAX

typedef struct ndx_pcur {
    const ndx_seg *seg;
    const unsigned char *skip, *skip_end; /* skip entries not yet read */
    const unsigned char *data;            /* next block's data */
    uint64_t df, left_blocks;
    int has_pos;
    /* current block */
    uint32_t ids[NDX_SEG_BLOCK];  /* the first dec decoded */
    uint32_t dec;
    const unsigned char *gap_p;   /* its gaps, bit-packed */
    uint32_t gap_bits;
    const unsigned char *wdf_p;   /* its wdfs - 1, bit-packed */
    uint32_t wdf_bits;            /* bits per wdf - 1 (0: every wdf is 1) */
    uint32_t n, i;                /* postings in block, current index */
    uint32_t block_last;          /* last id of current block */
    uint32_t block_imp[2 * NDX_SEG_IMPACTS]; /* impacts of the current
                                                  block: wdf, length */
    uint32_t block_nimp;
    const unsigned char *block_imp_p; /* ... still encoded unless read */
    uint32_t block_imp_len;
    int block_imp_read;
    uint64_t block_index;            /* the current block's number */
    const unsigned char *block_pos;  /* positions of the current block
                                        (NULL: not located yet) */
    uint32_t pos_decoded_upto;       /* postings whose positions skipped */
    const unsigned char *pos_cursor;
    /* pending skip entry for the next block; its impacts are read only
     * when asked for */
    uint32_t next_last, next_len;
    uint32_t next_imp[2 * NDX_SEG_IMPACTS], next_nimp;
    const unsigned char *next_imp_p;
    uint32_t next_imp_len;
    int next_imp_read;
    int has_next;
    uint32_t skip_last;           /* last id of the last entry read */
    uint64_t blocks_total;        /* blocks in the list */
    uint32_t base;                /* first gap base of the next block */
    uint32_t id;                  /* current passage or NDX_PID_END */
    int corrupt;
    uint64_t post_off;            /* the list's offset in POSTINGS */
    const unsigned char *skip_start; /* the first skip entry */
    const unsigned char *data_start; /* end of the skip entries */
    const unsigned char *pos_start;  /* the list's first positions */
    const unsigned char *post_lim;   /* no block's bytes pass this */
    const unsigned char *pos_lim;    /* nor its positions' */
} ndx_pcur;

/* Starts a cursor on a term's postings; positioned on the first posting. */
void ndx_pcur_init(ndx_pcur *c, const ndx_seg *s, const ndx_seg_term *t);
/* The same on a copy of the term's lists: reads its postings and its
 * pos_len bytes of positions (where its entry's positions offset and the
 * next entry's differ) from s's file, open as fd, with read calls, through
 * the windows post and pos (zeroed at first, ndx_seg_window_free after),
 * which must outlive the cursor.  A merge reads its sources this way:
 * read calls leave the bytes in the page cache, where a map would add
 * them to the process's resident memory a large folio at a time.
 * NDX_ECORRUPT, NDX_EIO or NDX_ENOMEM naming the segment. */
#define NDX_SEG_WINDOW (1u << 20) /* bytes read at once, at least */
typedef struct ndx_seg_window {
    ndx_buf buf;  /* the file's bytes from off (then 8 zero bytes) */
    uint64_t off;
    ndx_buf back; /* a list behind off or longer than the window, read
                     alone */
    int back_big; /* back holds a long list: freed at the next read */
} ndx_seg_window;
ndx_status ndx_pcur_init_read(ndx_pcur *c, const ndx_seg *s, int fd,
                              const ndx_seg_term *t, uint64_t pos_len,
                              ndx_seg_window *post, ndx_seg_window *pos);
void ndx_seg_window_free(ndx_seg_window *w);
/* Moves to the next posting (id becomes NDX_PID_END at the end). */
void ndx_pcur_next(ndx_pcur *c);
/* Moves to the first posting with id >= target. */
void ndx_pcur_seek(ndx_pcur *c, uint32_t target);
/* Block-max access for pruning: finds, without decoding postings, the
 * block that holds the first posting at or after target, and points *imp
 * at its impacts (*nimp pairs of wdf and passage length, by increasing
 * wdf and length): every posting of the block has a wdf at most and a
 * length at least those of one pair, which bounds any score in it.
 * Returns that block's last passage id, or NDX_PID_END when no posting
 * is left at or after target (the cursor is then at its end).  Blocks
 * passed over are skipped, so the cursor may only move forward after;
 * *imp lives until the cursor moves. */
uint32_t ndx_pcur_shallow(ndx_pcur *c, uint32_t target,
                          const uint32_t **imp, uint32_t *nimp);
/* Where a block of a list starts, for a cursor to resume there:
 * ndx_pcur_each_block gives it, ndx_pcur_jump takes it. */
typedef struct ndx_pblock {
    uint64_t index;     /* the block's number in the list */
    uint32_t last;      /* its last passage id */
    uint32_t prev_last; /* the previous block's last id (0: first block) */
    uint64_t skip_off;  /* its skip entry, from the list's first entry */
    uint64_t data_off;  /* its data, from the end of the skip entries */
} ndx_pblock;
/* Calls fn with where every block of the list starts and its impacts, in
 * order (for list-wide bounds; a list of one block has no skip entry and
 * gives its decoded block).  0, or -1 on damage.  Does not move the
 * cursor. */
int ndx_pcur_each_block(const ndx_pcur *c,
                        void (*fn)(void *ctx, const ndx_pblock *b,
                                   const uint32_t *imp, uint32_t nimp),
                        void *ctx);
/* Moves the cursor forward to the start of block b (as
 * ndx_pcur_each_block gave it for this list) without reading the blocks
 * before: the cursor then stands, as after a shallow pass, before b with
 * nothing of b decoded; a seek or ndx_pcur_shallow at or past b's first
 * passage goes on from there.  Does nothing unless b comes after the
 * block the cursor has decoded. */
void ndx_pcur_jump(ndx_pcur *c, const ndx_pblock *b);
/* Ends the cursor (id NDX_PID_END) as if its postings were read. */
void ndx_pcur_finish(ndx_pcur *c);
/* The impacts of n postings (wdfs[i] of a passage of lens[i] terms) into
 * out (2 * NDX_SEG_IMPACTS); returns the pair count. */
uint32_t ndx_seg_impacts(const uint32_t *wdfs, const uint32_t *lens,
                         uint32_t n, uint32_t *out);
/* The wdf of the block's posting k: packed values are read with one
 * 8-byte load, which may pass the block's end by up to 7 bytes; every
 * section is followed inside the map by at least the table of contents
 * and the 24-byte trailer, so the load stays in the map. */
/* The bit-packed field at bit `bit` of p (mask: its width's ones), read
 * with one 8-byte load (see ndx_pcur_wdf_at). */
static inline uint64_t
ndx_packed_at(const unsigned char *p, uint64_t bit, uint64_t mask)
{
    return (ndx_get_u64le(p + (bit >> 3)) >> (bit & 7)) & mask;
}
static inline uint32_t
ndx_pcur_wdf_at(const ndx_pcur *c, uint32_t k)
{
    if (!c->wdf_bits)
        return 1;
    return 1 + (uint32_t)ndx_packed_at(c->wdf_p, (uint64_t)k * c->wdf_bits,
                                       (1ULL << c->wdf_bits) - 1);
}
static inline uint32_t
ndx_pcur_wdf(const ndx_pcur *c)
{
    return ndx_pcur_wdf_at(c, c->i);
}
/* Moves the cursor within its current block, from its current posting,
 * to the first whose wdf is at least wmin: 1 when that posting's id is at
 * most upto; else 0 with the cursor on the first posting past upto, or on
 * the block's last (every posting up to there has a smaller wdf).  The
 * wdfs are compared in their packed form. */
int ndx_pcur_scan_wdf(ndx_pcur *c, uint32_t wmin, uint32_t upto);
/* Decodes the ids of the cursor's block to its end: *ids gets them, and
 * the count of the block is returned (the cursor stands on c->i); 0 at
 * the end or on damage. */
uint32_t ndx_pcur_block_ids(ndx_pcur *c, const uint32_t **ids);
/* Moves the cursor back to posting k of its current block, one it has
 * stood on (k at most the current index). */
static inline void
ndx_pcur_back_to(ndx_pcur *c, uint32_t k)
{
    c->i = k;
    c->id = c->ids[k];
}
/* Positions of the current posting, into out (up to cap); returns count,
 * or -1 on damage. */
int ndx_pcur_positions(ndx_pcur *c, uint32_t *out, uint32_t cap);

#endif
