/*
 * clean.h - private hooks between the furniture cleaner (clean.c) and the
 * passage splitter (passages.c).
 *
 * The splitter asks the cleaner about every line of an article; to avoid
 * normalising the source name once per line it resolves the source once
 * with ndx_cleaner_source_id and then hashes lines.
 */
#ifndef NDX_CORE_CLEAN_H
#define NDX_CORE_CLEAN_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/ingest.h"

/* Hash of a line as the cleaner compares lines: ASCII case folded, white
 * space collapsed and trimmed, curly apostrophes made straight.  0 for a
 * line with nothing but white space. */
uint64_t ndx_clean_line_hash(const char *line, size_t len);

/* The cleaner's identifier for a source name (its normalised key). */
uint64_t ndx_cleaner_source_id(const char *source);

/* Lines of more words than this (ndx_clean_word_count) are article text:
 * the cleaner never learns them, so a caller need not hash them to ask. */
#define NDX_CLEAN_LEARN_MAX_WORDS 64

/* Whether the cleaner learned the line (by hash) for the source (by id). */
int ndx_cleaner_has_line(const ndx_cleaner *c, uint64_t source_id,
                         uint64_t line_hash);

/* What the built-in rules make of one line. */
enum {
    NDX_LINE_TEXT = 0,      /* not furniture */
    NDX_LINE_FURNITURE = 1, /* furniture */
    NDX_LINE_BIO_NEXT = 2,  /* furniture ("About the writer") introducing
                               a bio on the next line */
    NDX_LINE_LINK_NEXT = 3  /* furniture ("Next Article") introducing a
                               linked headline on the next line */
};
int ndx_clean_line_kind(const char *line, size_t len);

/* The same for a line whose word count (ndx_clean_word_count) the caller
 * has already taken. */
int ndx_clean_line_kind_words(const char *line, size_t len, unsigned words);

/* Counts the words of a line: runs of non-blank bytes holding a letter or
 * digit (a bullet or a dash is no word). */
unsigned ndx_clean_word_count(const char *line, size_t len);

#endif
