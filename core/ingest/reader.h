/*
 * reader.h - what the corpus reader (reader.c: file walk, duplicates,
 * counters, warnings) gives the per-format readers reader_jsonl.c and
 * reader_text.c: the current file and record (ndx_rin) and the functions
 * that report, repair and assemble an article.
 */
#ifndef NDX_CORE_READER_H
#define NDX_CORE_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <zlib.h>

#include "newsdex/ingest.h"
#include "util/buf.h"

/* A record (JSON line or text file) above this many bytes is skipped as
 * too_large without ever being held whole in memory. */
#define NDX_RECORD_MAX ((size_t)16 << 20)

/* Bytes asked of zlib at a time. */
#define NDX_READ_BLOCK ((size_t)256 << 10)

typedef struct ndx_reader_file {
    char *path;     /* owned */
    uint64_t size;  /* bytes on disk */
    size_t dir_len; /* bytes of the directory part of path ("" = 0) */
    int is_text;    /* .txt or .txt.gz (else JSON Lines) */
} ndx_reader_file;

/* Article fields while a record is assembled; see ndx_reader_field. */
enum {
    NDX_F_ID,
    NDX_F_SOURCE,
    NDX_F_TITLE,
    NDX_F_URL,
    NDX_F_LANG,
    NDX_F_TEXT,
    NDX_F_COUNT
};

typedef struct ndx_text_meta ndx_text_meta;

/*
 * What a format reader sees of the reader: the file at hand and its bytes,
 * the record being read, the article being assembled, the counters.
 * struct ndx_reader (reader.c) begins with it; the walk, the duplicate
 * table, the warning callback and the assembled fields stay private to
 * reader.c, reached through the functions below.
 */
typedef struct ndx_rin {
    ndx_ingest_stats stats;

    gzFile gz;                   /* current file or NULL */
    const ndx_reader_file *cur;  /* current file */
    long line_no;                /* lines read from cur */
    uint64_t cur_articles;       /* articles yielded from cur */
    unsigned char *blk;          /* decompressed block */
    size_t blk_len;              /* bytes in blk */
    size_t blk_pos;              /* bytes of blk consumed */
    int blk_eof;                 /* zlib said end of data */

    ndx_buf line;  /* the current record */
    ndx_buf fixed; /* its repaired copy when needed */
    ndx_buf jdec;  /* its strings as reader_jsonl.c decoded them */

    ndx_article art; /* what next() lends out */

    ndx_text_meta *manifest; /* of the current text directory, or NULL */
    char *manifest_dir;      /* directory the manifest belongs to */
} ndx_rin;

/* The part of r a format reader works on. */
static inline ndx_rin *
ndx_reader_in(ndx_reader *r)
{
    return (ndx_rin *)(void *)r; /* struct ndx_reader begins with it */
}

/*
 * Reports a bad record: counts it under why, sends msg to the warning
 * callback with the current file and line, and in strict mode returns
 * NDX_EINVAL with "file:line: msg".  NDX_OK otherwise.
 */
ndx_status ndx_reader_bad(ndx_reader *r, ndx_skip_reason why, long line,
                          const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Sends a warning that counts nothing and is never fatal. */
void ndx_reader_note(ndx_reader *r, long line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/*
 * Repairs len bytes of text: invalid UTF-8 becomes U+FFFD, NUL bytes are
 * dropped.  *out points either at s (nothing to repair) or into in->fixed;
 * *changed says which.
 */
ndx_status ndx_reader_repair(ndx_reader *r, const char *s, size_t len,
                             const char **out, size_t *out_len,
                             int *changed);

/* Whether the start of a file (len bytes at data) is binary data rather
 * than text (the rule is in reader.c): such a file is skipped whole. */
int ndx_reader_binary(const void *data, size_t len);

/* Starts a new article: all fields unset, date unknown. */
void ndx_reader_begin(ndx_reader *r);

/* Sets a field of the article being assembled (copied). */
ndx_status ndx_reader_field(ndx_reader *r, int field, const char *s,
                            size_t len);

/* Whether a field is set. */
int ndx_reader_has(const ndx_reader *r, int field);

/*
 * Completes the article: fills defaults, checks duplicates (which may
 * change the id or skip the article), and counts it.  *keep is 1 when the
 * article is to be yielded.
 */
ndx_status ndx_reader_finish(ndx_reader *r, long line, int *keep);

/*
 * Reads the next line of the current file into in->line (without '\n'
 * or "\r\n").  Returns 1 with a line, 0 at the end of the file, and sets
 * *too_large to 1 when the line was above NDX_RECORD_MAX (its bytes were
 * discarded), to 2 when there was no memory for it (an error).  A zlib
 * error ends the file like an end of data; ndx_reader_gz_error tells
 * them apart.
 */
int ndx_reader_getline(ndx_reader *r, int *too_large);

/* zlib's message when the current file ended on an error, else NULL. */
const char *ndx_reader_gz_error(ndx_reader *r);

/* The fast JSON Lines scanner of reader_jsonl.c alone, for the
 * differential fuzz target (tests/fuzz/fuzz_jsonl_diff.c): reads one line
 * of valid UTF-8 as jansson would, or declines.  Returns 1 when it read
 * the line, filling out[] for each key the reader uses ("text", "id",
 * "source", "title", "url", "lang", "date"): kind 0 absent, 's' a string
 * (s, len: decoded bytes, in jdec), 'n' null, 'b' true or false; 0 when
 * it leaves the line to jansson; -1 out of memory. */
#define NDX_JSONL_KEYS 7
typedef struct ndx_jsonl_value {
    const char *key;
    int kind;
    const char *s;
    size_t len;
} ndx_jsonl_value;
int ndx_jsonl_scan(ndx_buf *jdec, const char *line, size_t len,
                   ndx_jsonl_value out[NDX_JSONL_KEYS]);

/* Format readers: each returns NDX_OK with *got = 1 when in->art holds an
 * article, *got = 0 when the current file is finished. */
ndx_status ndx_jsonl_next(ndx_reader *r, int *got);
ndx_status ndx_text_next(ndx_reader *r, int *got);

/* Manifests (reader_text.c). */
void ndx_text_meta_free(ndx_text_meta *m);

#endif
