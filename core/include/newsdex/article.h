/*
 * newsdex/article.h - the article record, passages, dates and sources.
 *
 * An article is what a corpus reader yields and what an engine indexes.
 * Passages are byte ranges of the article text; a passage never contains
 * page furniture, so the stored passage text is exactly text[off, off+len).
 */
#ifndef NEWSDEX_ARTICLE_H
#define NEWSDEX_ARTICLE_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Days since 1970-01-01 for "no date known". */
#define NDX_DATE_NONE INT32_MIN

typedef struct ndx_article {
    char *id;          /* unique, stable; never NULL after reading */
    char *source;      /* display name, "unknown" when not known */
    char *title;       /* "" when none */
    char *url;         /* "" when none */
    char *lang;        /* Snowball language name or "" for the default */
    int32_t date_days; /* days since 1970-01-01 or NDX_DATE_NONE */
    int32_t time_secs; /* seconds into the day, -1 when not known */
    char *text;        /* body, valid UTF-8, NUL-terminated */
    size_t text_len;   /* bytes of text, not counting the NUL */
    const char *file;  /* where it was read, for messages; may be NULL */
    long line;         /* 1-based line in file (JSON Lines) or 0 */
} ndx_article;

/* One passage: a byte range of the article text. */
typedef struct ndx_span {
    uint32_t off; /* bytes from the start of the text */
    uint32_t len; /* bytes */
} ndx_span;

typedef struct ndx_passages {
    ndx_span *items; /* owned */
    size_t count;    /* passages */
    size_t cap;      /* allocated items */
} ndx_passages;

/* Frees what the passage list owns and empties it; accepts NULL. */
void ndx_passages_clear(ndx_passages *p);

/* Appends one span; NDX_ENOMEM on failure. */
ndx_status ndx_passages_push(ndx_passages *p, uint32_t off, uint32_t len);

/* ---- dates (core/date.c) ---------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date; month 1-12. */
int32_t ndx_date_from_ymd(int year, int month, int day);

/* Splits days into year, month (1-12) and day (1-31). */
void ndx_date_to_ymd(int32_t days, int *year, int *month, int *day);

/* Writes "YYYY-MM-DD" (11 bytes with the NUL) or "" for NDX_DATE_NONE. */
void ndx_date_format(int32_t days, char out[11]);

/*
 * Parses a whole string as a date: ISO 8601 ("2025-04-04",
 * "2025-04-04T10:00:00", with or without zone), "April 17, 2025",
 * "17 April 2025", "Friday, April 18, 2025", "4/4/25" (US order),
 * RFC 2822 ("Fri, 18 Apr 2025 10:00:00 GMT").  On success stores days and
 * seconds into the day (-1 when no time) and returns NDX_OK; otherwise
 * NDX_EINVAL with a message naming the text.
 */
ndx_status ndx_date_parse(const char *s, size_t len, int32_t *days,
                          int32_t *secs);

/*
 * Parses a date or a partial date for a query range: "2025", "2025-04",
 * "2025-04-01".  *first and *last receive the first and last day covered.
 */
ndx_status ndx_date_parse_range(const char *s, size_t len, int32_t *first,
                                int32_t *last);

/*
 * Finds the first date expression in free text (any form ndx_date_parse
 * accepts, starting at a word boundary; a weekday before it is allowed
 * but not needed), for guessing an article's date.  NDX_OK with *days set,
 * or NDX_ENOTFOUND when the text holds none.
 */
ndx_status ndx_date_find(const char *text, size_t len, int32_t *days);

/* ---- sources (core/source.c) ------------------------------------------- */

/*
 * Writes the normalised key of a source name into out (at most out_cap
 * bytes with the NUL): case folded, "www." and a trailing top-level domain
 * dropped, punctuation and spaces removed, aliases applied ("USA TODAY",
 * "usatoday.com" and "usa today" all give "usatoday").  Returns the length.
 */
size_t ndx_source_key(const char *name, char *out, size_t out_cap);

/* Adds an alias: keys of `alias` map to the key of `canonical`.  Process
 * wide; call before indexing or searching starts. */
ndx_status ndx_source_alias_add(const char *alias, const char *canonical);

/* Loads aliases from a file of lines "alias<TAB>canonical"; '#' comments. */
ndx_status ndx_source_alias_load(const char *path);

#ifdef __cplusplus
}
#endif
#endif
