/*
 * newsdex/ingest.h - reading corpora into articles, cleaning page
 * furniture, and splitting articles into passages.
 *
 * A reader walks the given paths (directories recursively, following no
 * symlink loop), opens .jsonl, .jsonl.gz, .txt and .txt.gz files, streams
 * them, and yields one article at a time.  Bad records never stop it: each
 * is reported through the warning callback with file and line, counted, and
 * skipped (with NDX_INGEST_STRICT the first one is returned as an error).
 */
#ifndef NEWSDEX_INGEST_H
#define NEWSDEX_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/article.h"
#include "newsdex/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reason a record was skipped or altered; indexes ndx_ingest_stats.skipped. */
typedef enum ndx_skip_reason {
    NDX_SKIP_JSON = 0,     /* line is not a JSON object */
    NDX_SKIP_NO_TEXT,      /* no usable "text" */
    NDX_SKIP_TOO_LARGE,    /* record above the size limit */
    NDX_SKIP_UNREADABLE,   /* file cannot be opened or decompressed */
    NDX_SKIP_DUPLICATE,    /* same id, url or text as an earlier article */
    NDX_SKIP_BAD_DATE,     /* date present but unparseable (kept, undated) */
    NDX_SKIP_BAD_UTF8,     /* invalid UTF-8 repaired (kept) */
    NDX_SKIP_BINARY,       /* file of binary data, not text */
    NDX_SKIP_REASON_COUNT
} ndx_skip_reason;

/* Stable short names for the reasons, e.g. "bad_json". */
const char *ndx_skip_reason_name(ndx_skip_reason r);

typedef struct ndx_ingest_stats {
    uint64_t files;       /* files opened */
    uint64_t articles;    /* articles yielded */
    uint64_t bytes_in;    /* bytes read from disk (compressed size) */
    uint64_t bytes_text;  /* bytes of raw input after decompression */
    uint64_t skipped[NDX_SKIP_REASON_COUNT]; /* records per reason */
    uint64_t replaced;    /* articles yielded again under an earlier id
                             (same id or same url): the later one wins */
    uint64_t files_unread; /* files of which nothing could be read: not
                              opened, or damaged before the first record */
} ndx_ingest_stats;

/* Warning callback: file may be NULL, line 0 when not known. */
typedef void (*ndx_warn_fn)(void *ctx, const char *file, long line,
                            const char *msg);

enum {
    NDX_INGEST_STRICT = 1u << 0 /* the first bad record is an error */
};

typedef struct ndx_reader ndx_reader;

/*
 * Opens a reader over paths (files or directories).  Paths that do not
 * exist are an error here (NDX_ENOTFOUND naming the path); a directory with
 * no readable corpus file is NDX_ENOTFOUND too ("no .txt or .jsonl files
 * in DIR").  warn may be NULL.
 */
ndx_status ndx_reader_open(ndx_reader **out, const char *const *paths,
                           size_t path_count, unsigned flags,
                           ndx_warn_fn warn, void *warn_ctx);

/*
 * Yields the next article into *out (borrowed until the next call or
 * _close).  Returns NDX_OK with *out set, NDX_OK with *out NULL at the end,
 * or an error (strict mode, out of memory).
 */
ndx_status ndx_reader_next(ndx_reader *r, const ndx_article **out);

/* Counters so far.  Borrowed until _close. */
const ndx_ingest_stats *ndx_reader_stats(const ndx_reader *r);

/* Total bytes of input files found (for progress), and bytes read so far. */
uint64_t ndx_reader_total_bytes(const ndx_reader *r);
uint64_t ndx_reader_done_bytes(const ndx_reader *r);

void ndx_reader_close(ndx_reader *r);

/* ---- passages (core/passages.c) ---------------------------------------- */

typedef struct ndx_cleaner ndx_cleaner;

typedef struct ndx_split_opts {
    unsigned min_words;         /* fragments below this merge with a neighbour */
    unsigned target_words;      /* long paragraphs split near this */
    unsigned max_words;         /* a paragraph above this splits at sentences */
    int drop_furniture;         /* 1: furniture lines never enter a passage */
    const ndx_cleaner *cleaner; /* learned furniture, or NULL: built-in only */
} ndx_split_opts;

/* Defaults: min 30, target 100, max 150 words, furniture dropped, no
 * learned lines. */
void ndx_split_opts_init(ndx_split_opts *o);

/*
 * Splits an article's text into passages (into is emptied first).
 * Paragraphs are lines or blank-line separated blocks; a short heading line
 * joins the paragraph that follows; long paragraphs split at sentence ends;
 * tiny fragments merge.  Every passage is a byte range of text with no
 * furniture line inside it, trimmed of surrounding white space.  An article
 * with no text left yields no passage.  source may be NULL.
 */
ndx_status ndx_passages_split(ndx_passages *into, const char *text,
                              size_t text_len, const char *source,
                              const ndx_split_opts *o);

/* ---- page furniture (core/clean.c) ------------------------------------- */

/*
 * Whether one line (without its newline) is page furniture by the built-in
 * rules: newsletter boxes, rating widgets, "Read more", "Previous Article",
 * menus, audio notices, "Story Continued Below", author bios, very short
 * navigation lines.
 */
int ndx_clean_is_furniture(const char *line, size_t len);

/*
 * A cleaner learns lines that repeat across many articles of one source
 * (feed every article with _learn, then _freeze) and answers whether a
 * line is furniture for a source (built-in rules or learned).
 */
ndx_status ndx_cleaner_new(ndx_cleaner **out);
void ndx_cleaner_free(ndx_cleaner *c);
ndx_status ndx_cleaner_learn(ndx_cleaner *c, const char *source,
                             const char *text, size_t text_len);
/* Lines seen in at least min_articles articles of a source, and in at least
 * share (0..1) of that source's articles, become furniture; so do lines of
 * at least 6 words seen in at least 10 articles of one source, whatever
 * its size (a large source's promotions and credit lines). */
void ndx_cleaner_freeze(ndx_cleaner *c, unsigned min_articles, double share);

/*
 * The i-th most frequent learned line (from 0) after _freeze: returns the
 * number of articles of its source that hold it and sets *source and *line
 * (borrowed until _free), or returns 0 past the last one.  Only lines
 * learned by this cleaner are listed (not those added by _load), and only
 * while their text was kept (the first few thousand frequent lines).
 */
size_t ndx_cleaner_top_line(const ndx_cleaner *c, size_t i,
                            const char **source, const char **line);
int ndx_cleaner_is_furniture(const ndx_cleaner *c, const char *source,
                             const char *line, size_t len);
/* Number of learned lines after _freeze. */
size_t ndx_cleaner_learned_count(const ndx_cleaner *c);

/*
 * Keeps the learned lines of a frozen cleaner in dir (an index directory,
 * file FURNITURE, replaced atomically), so that a later run adding to that
 * index can apply them: NDX_OK, NDX_ENOMEM or NDX_EIO.
 */
ndx_status ndx_cleaner_save(const ndx_cleaner *c, const char *dir);

/*
 * Adds the lines kept in dir by ndx_cleaner_save to a frozen cleaner:
 * NDX_OK, NDX_ENOTFOUND (no file), NDX_ECORRUPT (damaged or another
 * format version; the cleaner is unchanged), NDX_EIO, NDX_ENOMEM.
 */
ndx_status ndx_cleaner_load(ndx_cleaner *c, const char *dir);

/* ---- near-duplicate sketches (core/ingest/neardup.c) ------------------- */

/* Bytes of a MinHash sketch. */
#define NDX_ND_HASHES 64
/* Estimated Jaccard similarity of the word 3-shingles at or above which
 * two articles are near-identical (docs/neardup.md). */
#define NDX_ND_MIN_SIMILARITY 0.8
/* Articles dated further apart are never near-duplicates (a weekly
 * notice repeats its text with new figures). */
#define NDX_ND_MAX_DAYS 3
/* Articles with fewer words are never judged near-duplicates. */
#define NDX_ND_MIN_WORDS 40

/*
 * The MinHash sketch of a text's word 3-shingles into sketch; returns the
 * number of words (a text of fewer than 3 words has an empty sketch).
 */
uint32_t ndx_neardup_sketch(const char *text, size_t len,
                            unsigned char sketch[NDX_ND_HASHES]);

/* The Jaccard similarity (0..1) two sketches estimate. */
double ndx_neardup_similarity(const unsigned char *a, const unsigned char *b);

#ifdef __cplusplus
}
#endif
#endif
