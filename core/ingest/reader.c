/*
 * reader.c - the corpus reader: finds the corpus files under the given
 * paths, streams them one at a time through zlib, hands each record to its
 * format reader (reader_jsonl.c, reader_text.c), and settles duplicates.
 *
 * Walk.  A path is a file or a directory; directories are read
 * recursively in byte order of names, hidden entries (".name") skipped,
 * and .jsonl, .jsonl.gz, .txt and .txt.gz files kept.  Every directory and
 * file is remembered by (device, inode): a symlink that leads back to a
 * directory already read is reported once and not followed, and a file
 * reached twice is read once.
 *
 * Languages given as ISO 639-1 codes ("en", "fr-FR") become the Snowball
 * names the analyzer takes ("english", "french").
 *
 * Duplicates.  An id seen before is yielded again and counted as replaced
 * (the index keeps the later article).  A URL seen before under another id
 * is yielded with the first article's id, so that it replaces that
 * article, and counted as replaced.  A text equal to an earlier article's
 * (compared case folded with white space collapsed, by a 64-bit hash)
 * under another id is skipped as a duplicate.  Only hashes and ids are
 * kept, never texts or URLs.
 *
 * Bad input is counted per reason, reported through the warning callback
 * with file and line and what to do, and skipped; in strict mode the first
 * one is returned as NDX_EINVAL.  Turning articles into passages and
 * indexes is left to the callers.
 */
#include "reader.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clean.h"
#include "util/text.h"
#include "util/hash.h"

typedef struct ndx_seen {
    uint64_t key;    /* salted hash of an id, url or text; 0 = empty */
    uint64_t id_off; /* offset of the first article's id in ids */
} ndx_seen;

struct ndx_reader {
    ndx_rin in;           /* first: what the format readers see */
    unsigned flags;       /* NDX_INGEST_* */
    ndx_warn_fn warn;     /* may be NULL */
    void *warn_ctx;       /* for warn */

    ndx_reader_file *files; /* sorted walk order */
    size_t file_count;      /* entries */
    size_t file_cap;        /* allocated entries */
    size_t next_file;       /* index of the next file to open */
    uint64_t total_bytes;   /* sum of file sizes */
    uint64_t done_closed;   /* bytes of files finished */
    uint64_t polls;         /* articles read (for bytes_in's updates) */

    ndx_buf strs;              /* article strings, NUL-separated */
    size_t field[NDX_F_COUNT]; /* offsets into strs, (size_t)-1 = unset */

    ndx_htab seen;       /* ndx_seen entries by key */
    ndx_buf ids;         /* every distinct id once, NUL-terminated */

    ndx_status failed; /* a strict-mode error already returned */
};

/* ndx_reader_in (reader.h) relies on it. */
_Static_assert(offsetof(struct ndx_reader, in) == 0,
               "struct ndx_reader must begin with its ndx_rin");

/* Salts that keep ids, URLs and texts apart in one table. */
#define SALT_ID 0x1d1d1d1d1d1d1d1dULL
#define SALT_URL 0x5eed5eed5eed5eedULL
#define SALT_TEXT 0x7e717e717e717e71ULL

/* Binary input: of the first BINARY_SAMPLE bytes, more than BINARY_SHARE
 * percent are control characters (not tab, newline, carriage return, form
 * feed, vertical tab or escape) or bytes of invalid UTF-8.  Text in a
 * legacy 8-bit encoding is mostly ASCII and stays under it; random bytes
 * (about 60 %), executables, images and archives (NUL bytes and binary
 * headers) go over it. */
#define BINARY_SAMPLE 8192
#define BINARY_SHARE 10

static const char *const reason_names[NDX_SKIP_REASON_COUNT] = {
    "bad_json",  "no_text",  "too_large", "unreadable",
    "duplicate", "bad_date", "bad_utf8",  "binary",
};

const char *
ndx_skip_reason_name(ndx_skip_reason r)
{
    if ((unsigned)r >= NDX_SKIP_REASON_COUNT)
        return "unknown";
    return reason_names[r];
}

/* ---- warnings ------------------------------------------------------------ */

static void
vwarn(ndx_reader *r, long line, const char *fmt, va_list ap)
{
    char msg[1024];

    if (!r->warn)
        return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    r->warn(r->warn_ctx, r->in.cur ? r->in.cur->path : NULL, line, msg);
}

void
ndx_reader_note(ndx_reader *r, long line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vwarn(r, line, fmt, ap);
    va_end(ap);
}

ndx_status
ndx_reader_bad(ndx_reader *r, ndx_skip_reason why, long line,
               const char *fmt, ...)
{
    va_list ap;
    char msg[1024];

    r->in.stats.skipped[why]++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->flags & NDX_INGEST_STRICT) {
        const char *file = r->in.cur ? r->in.cur->path : "(input)";
        if (line > 0)
            return ndx_error(NDX_EINVAL, "%s:%ld: %s", file, line, msg);
        return ndx_error(NDX_EINVAL, "%s: %s", file, msg);
    }
    if (r->warn)
        r->warn(r->warn_ctx, r->in.cur ? r->in.cur->path : NULL, line, msg);
    return NDX_OK;
}

/* ---- UTF-8 repair -------------------------------------------------------- */

int
ndx_reader_binary(const void *data, size_t len)
{
    const unsigned char *u = data;
    size_t n = len < BINARY_SAMPLE ? len : BINARY_SAMPLE, i = 0, odd = 0;

    while (i < n) {
        unsigned char c = u[i];
        size_t k;

        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
            c != '\v' && c != 0x1b) {
            odd++;
            i++;
            continue;
        }
        k = ndx_utf8_len(u + i, n - i);
        if (k == 0) {
            /* A sequence cut by the end of the sample is not counted. */
            if (n < len && n - i < 4)
                break;
            odd++;
            k = 1;
        }
        i += k;
    }
    return n > 0 && odd * 100 > n * BINARY_SHARE;
}

ndx_status
ndx_reader_repair(ndx_reader *r, const char *s, size_t len,
                  const char **out, size_t *out_len, int *changed)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k;
    ndx_status st;

    /* Most text is valid: find the first fault before copying anything. */
    while (i < len) {
        if (u[i] >= 0x20 && u[i] < 0x80) {
            i++;
            continue;
        }
        if (u[i] == 0 || (k = ndx_utf8_len(u + i, len - i)) == 0)
            break;
        i += k;
    }
    if (i == len) {
        *out = s;
        *out_len = len;
        *changed = 0;
        return NDX_OK;
    }
    r->in.fixed.len = 0;
    if ((st = ndx_buf_reserve(&r->in.fixed, len + 16)) != NDX_OK)
        return st;
    if ((st = ndx_buf_put(&r->in.fixed, s, i)) != NDX_OK)
        return st;
    while (i < len) {
        if (u[i] == 0) {
            i++;
            continue;
        }
        k = ndx_utf8_len(u + i, len - i);
        if (k == 0) {
            st = ndx_buf_put(&r->in.fixed, "\xef\xbf\xbd", 3);
            i++;
        } else {
            st = ndx_buf_put(&r->in.fixed, s + i, k);
            i += k;
        }
        if (st)
            return st;
    }
    if ((st = ndx_buf_cstr(&r->in.fixed)) != NDX_OK)
        return st;
    *out = (const char *)r->in.fixed.data;
    *out_len = r->in.fixed.len;
    *changed = 1;
    return NDX_OK;
}

/* ---- article assembly ---------------------------------------------------- */

void
ndx_reader_begin(ndx_reader *r)
{
    size_t i;

    r->strs.len = 0;
    for (i = 0; i < NDX_F_COUNT; i++)
        r->field[i] = (size_t)-1;
    memset(&r->in.art, 0, sizeof r->in.art);
    r->in.art.date_days = NDX_DATE_NONE;
    r->in.art.time_secs = -1;
}

ndx_status
ndx_reader_field(ndx_reader *r, int field, const char *s, size_t len)
{
    size_t off = r->strs.len;
    ndx_status st;

    if ((st = ndx_buf_put(&r->strs, s, len)) != NDX_OK
        || (st = ndx_buf_putc(&r->strs, 0)) != NDX_OK)
        return st;
    r->field[field] = off;
    return NDX_OK;
}

int
ndx_reader_has(const ndx_reader *r, int field)
{
    return r->field[field] != (size_t)-1;
}

static const char *
field_str(const ndx_reader *r, int field)
{
    return (const char *)r->strs.data + r->field[field];
}

static uint64_t
hash_bytes(const char *s, size_t len, uint64_t salt)
{
    uint64_t h = ndx_mix64(ndx_fnv1a64_more(NDX_FNV1A64_BASIS ^ salt, s, len)
                           ^ salt);

    return h ? h : 1;
}

/* A URL compared without scheme, "www.", case of the host, or a final '/'. */
static uint64_t
url_hash(const char *url)
{
    size_t len = strlen(url), host, i;
    char buf[2048];

    while (len && (*url == ' ' || *url == '\t')) {
        url++;
        len--;
    }
    while (len && (url[len - 1] == ' ' || url[len - 1] == '\t'
                   || url[len - 1] == '/'))
        len--;
    if (len == 0)
        return 0;
    if (len >= 8 && strncmp(url, "https://", 8) == 0) {
        url += 8;
        len -= 8;
    } else if (len >= 7 && strncmp(url, "http://", 7) == 0) {
        url += 7;
        len -= 7;
    }
    if (len >= 4 && strncmp(url, "www.", 4) == 0) {
        url += 4;
        len -= 4;
    }
    if (len > sizeof buf)
        return hash_bytes(url, len, SALT_URL);
    memcpy(buf, url, len);
    for (host = 0; host < len && buf[host] != '/'; host++)
        ;
    for (i = 0; i < host; i++)
        if (buf[i] >= 'A' && buf[i] <= 'Z')
            buf[i] = (char)(buf[i] + 32);
    return hash_bytes(buf, len, SALT_URL);
}

static const ndx_seen *
seen_find(ndx_reader *r, uint64_t key)
{
    return ndx_htab_get(&r->seen, key);
}

static ndx_status
seen_add(ndx_reader *r, uint64_t key, uint64_t id_off)
{
    ndx_seen *e;
    int added;

    if (!key)
        return NDX_OK;
    e = ndx_htab_put(&r->seen, key, &added);
    if (!e)
        return ndx_error(NDX_ENOMEM, "out of memory (duplicate table)");
    if (added)
        e->id_off = id_off;
    return NDX_OK;
}

/* Snowball names for the ISO 639-1 codes that corpora often carry. */
static const char *const iso_langs[][2] = {
    {"ar", "arabic"},     {"da", "danish"},     {"de", "german"},
    {"el", "greek"},      {"en", "english"},    {"es", "spanish"},
    {"fi", "finnish"},    {"fr", "french"},     {"hu", "hungarian"},
    {"id", "indonesian"}, {"it", "italian"},    {"nl", "dutch"},
    {"no", "norwegian"},  {"pt", "portuguese"}, {"ro", "romanian"},
    {"ru", "russian"},    {"sv", "swedish"},    {"tr", "turkish"},
};

/* Writes the language field as a lower-case Snowball name when it is a
 * known ISO code ("en", "EN", "en-US"); other values are lower-cased. */
static ndx_status
normalise_lang(ndx_reader *r)
{
    const char *lang = field_str(r, NDX_F_LANG);
    char low[32];
    size_t n = strlen(lang), i;

    if (n == 0 || n >= sizeof low)
        return NDX_OK;
    for (i = 0; i < n; i++)
        low[i] = (char)((lang[i] >= 'A' && lang[i] <= 'Z') ? lang[i] + 32
                                                           : lang[i]);
    low[n] = '\0';
    if (n >= 2 && (n == 2 || low[2] == '-' || low[2] == '_')) {
        for (i = 0; i < sizeof iso_langs / sizeof iso_langs[0]; i++)
            if (strncmp(low, iso_langs[i][0], 2) == 0)
                return ndx_reader_field(r, NDX_F_LANG, iso_langs[i][1],
                                        strlen(iso_langs[i][1]));
    }
    if (strcmp(low, lang) == 0)
        return NDX_OK;
    return ndx_reader_field(r, NDX_F_LANG, low, n);
}

ndx_status
ndx_reader_finish(ndx_reader *r, long line, int *keep)
{
    static const char *const empty = "";
    uint64_t id_h, url_h, text_h, id_off;
    const ndx_seen *hit;
    ndx_status st;
    size_t i;

    *keep = 0;
    if (!ndx_reader_has(r, NDX_F_SOURCE) || !field_str(r, NDX_F_SOURCE)[0])
        if ((st = ndx_reader_field(r, NDX_F_SOURCE, "unknown", 7)) != NDX_OK)
            return st;
    for (i = 0; i < NDX_F_COUNT; i++)
        if (!ndx_reader_has(r, (int)i)
            && (st = ndx_reader_field(r, (int)i, empty, 0)) != NDX_OK)
            return st;

    if ((st = normalise_lang(r)) != NDX_OK)
        return st;

    id_h = hash_bytes(field_str(r, NDX_F_ID), strlen(field_str(r, NDX_F_ID)),
                      SALT_ID);
    url_h = url_hash(field_str(r, NDX_F_URL));
    text_h = ndx_clean_line_hash(field_str(r, NDX_F_TEXT),
                                 strlen(field_str(r, NDX_F_TEXT)));
    text_h = text_h ? ndx_mix64(text_h ^ SALT_TEXT) | 1 : 0;

    if ((hit = seen_find(r, id_h)) != NULL) {
        r->in.stats.replaced++;
        ndx_reader_note(r, line,
                        "article id \"%s\" was read before; this later "
                        "article replaces it",
                        field_str(r, NDX_F_ID));
        id_off = hit->id_off;
    } else if ((hit = seen_find(r, url_h)) != NULL) {
        char first[512];
        snprintf(first, sizeof first, "%s",
                 (const char *)r->ids.data + hit->id_off);
        ndx_reader_note(r, line,
                        "url %s was read before as article \"%s\"; article "
                        "\"%s\" replaces it under that id",
                        field_str(r, NDX_F_URL), first,
                        field_str(r, NDX_F_ID));
        r->in.stats.replaced++;
        id_off = hit->id_off;
        if ((st = ndx_reader_field(r, NDX_F_ID, first, strlen(first))))
            return st;
    } else if ((hit = seen_find(r, text_h)) != NULL) {
        return ndx_reader_bad(r, NDX_SKIP_DUPLICATE, line,
                              "article \"%s\" has the same text as article "
                              "\"%s\"; skipped as a duplicate (remove one "
                              "of them)",
                              field_str(r, NDX_F_ID),
                              (const char *)r->ids.data + hit->id_off);
    } else {
        id_off = r->ids.len;
        if ((st = ndx_buf_puts(&r->ids, field_str(r, NDX_F_ID))) != NDX_OK
            || (st = ndx_buf_putc(&r->ids, 0)) != NDX_OK)
            return st;
        if ((st = seen_add(r, id_h, id_off)) != NDX_OK)
            return st;
    }
    if ((st = seen_add(r, url_h, id_off)) != NDX_OK
        || (st = seen_add(r, text_h, id_off)) != NDX_OK)
        return st;

    r->in.art.id = (char *)field_str(r, NDX_F_ID);
    r->in.art.source = (char *)field_str(r, NDX_F_SOURCE);
    r->in.art.title = (char *)field_str(r, NDX_F_TITLE);
    r->in.art.url = (char *)field_str(r, NDX_F_URL);
    r->in.art.lang = (char *)field_str(r, NDX_F_LANG);
    r->in.art.text = (char *)field_str(r, NDX_F_TEXT);
    r->in.art.text_len = strlen(r->in.art.text);
    r->in.art.file = r->in.cur ? r->in.cur->path : NULL;
    r->in.art.line = line;
    r->in.stats.articles++;
    r->in.cur_articles++;
    *keep = 1;
    return NDX_OK;
}

/* ---- streaming ----------------------------------------------------------- */

const char *
ndx_reader_gz_error(ndx_reader *r)
{
    int err = Z_OK;
    const char *msg;

    if (!r->in.gz)
        return NULL;
    msg = gzerror(r->in.gz, &err);
    if (err == Z_OK || err == Z_STREAM_END)
        return NULL;
    if (err == Z_ERRNO)
        return strerror(errno);
    return msg && *msg ? msg : "damaged compressed data";
}

/* Refills the block; 0 at the end of data (or on a zlib error). */
static int
refill(ndx_reader *r)
{
    int n;

    if (r->in.blk_eof)
        return 0;
    n = gzread(r->in.gz, r->in.blk, (unsigned)NDX_READ_BLOCK);
    if (n <= 0) {
        r->in.blk_eof = 1;
        r->in.blk_len = r->in.blk_pos = 0;
        return 0;
    }
    r->in.stats.bytes_text += (uint64_t)n;
    r->in.blk_len = (size_t)n;
    r->in.blk_pos = 0;
    return 1;
}

int
ndx_reader_getline(ndx_reader *r, int *too_large)
{
    int any = 0;

    *too_large = 0;
    r->in.line.len = 0;
    for (;;) {
        const unsigned char *start, *nl;
        size_t take;

        if (r->in.blk_pos == r->in.blk_len && !refill(r)) {
            if (ndx_reader_gz_error(r)) {
                /* A line cut by damaged data is not a record. */
                r->in.line.len = 0;
                return 0;
            }
            if (!any)
                return 0;
            break;
        }
        any = 1;
        start = r->in.blk + r->in.blk_pos;
        nl = memchr(start, '\n', r->in.blk_len - r->in.blk_pos);
        take = nl ? (size_t)(nl - start) : r->in.blk_len - r->in.blk_pos;
        if (!*too_large) {
            if (r->in.line.len + take > NDX_RECORD_MAX) {
                *too_large = 1;
                r->in.line.len = 0;
            } else if (ndx_buf_put(&r->in.line, start, take) != NDX_OK) {
                /* Out of memory: an error, not a line skipped. */
                *too_large = 2;
                r->in.line.len = 0;
            }
        }
        r->in.blk_pos += take + (nl ? 1 : 0);
        if (nl)
            break;
    }
    r->in.line_no++;
    if (r->in.line.len && r->in.line.data[r->in.line.len - 1] == '\r')
        r->in.line.len--;
    if (!*too_large && ndx_buf_cstr(&r->in.line) != NDX_OK) {
        *too_large = 2;
        r->in.line.len = 0;
    }
    return 1;
}

/* ---- the walk ------------------------------------------------------------ */

/* A file reached by the walk, by device and inode, so that a link loop
 * or a file named twice is read once. */
typedef struct walk_entry {
    uint64_t key; /* mix of dev and ino, never 0 */
    dev_t dev;
    ino_t ino;
} walk_entry;

/* Adds (dev, ino); returns 1 if new, 0 if seen, -1 out of memory. */
static int
walk_mark(ndx_htab *w, dev_t dev, ino_t ino)
{
    uint64_t key = ndx_mix64((uint64_t)dev * 0x9e3779b97f4a7c15ULL
                             ^ (uint64_t)ino) | 1;
    size_t pos = NDX_HTAB_START;
    walk_entry *e;

    while ((e = ndx_htab_find(w, key, &pos)) != NULL)
        if (e->dev == dev && e->ino == ino)
            return 0;
    e = ndx_htab_add(w, key);
    if (!e)
        return -1;
    e->dev = dev;
    e->ino = ino;
    return 1;
}

static int
has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);

    return n > m && strcmp(s + n - m, suf) == 0;
}

/* 1 for JSON Lines, 2 for text, 0 for anything else. */
static int
corpus_kind(const char *name)
{
    if (has_suffix(name, ".jsonl") || has_suffix(name, ".jsonl.gz"))
        return 1;
    if (has_suffix(name, ".txt") || has_suffix(name, ".txt.gz"))
        return 2;
    return 0;
}

static ndx_status
add_file(ndx_reader *r, const char *path, const struct stat *sb, int kind)
{
    ndx_reader_file *f;
    const char *slash;

    if (ndx_grow((void **)&r->files, &r->file_cap, r->file_count + 1,
                 sizeof *r->files, 64))
        return ndx_error(NDX_ENOMEM, "out of memory (file list)");
    f = &r->files[r->file_count];
    f->path = strdup(path);
    if (!f->path)
        return ndx_error(NDX_ENOMEM, "out of memory (file list)");
    f->size = (uint64_t)sb->st_size;
    slash = strrchr(path, '/');
    f->dir_len = slash ? (size_t)(slash - path) : 0;
    f->is_text = kind == 2;
    r->file_count++;
    r->total_bytes += f->size;
    return NDX_OK;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ndx_status
walk_dir(ndx_reader *r, ndx_htab *w, const char *dir)
{
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t count = 0, cap = 0, i;
    ndx_status st = NDX_OK;

    d = opendir(dir);
    if (!d) {
        ndx_reader_note(r, 0, "cannot read directory %s: %s; skipped", dir,
                        strerror(errno));
        return NDX_OK;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (ndx_grow((void **)&names, &cap, count + 1, sizeof *names, 64)) {
            st = ndx_error(NDX_ENOMEM, "out of memory (directory %s)", dir);
            goto fail;
        }
        names[count] = strdup(e->d_name);
        if (!names[count]) {
            st = ndx_error(NDX_ENOMEM, "out of memory (directory %s)", dir);
            goto fail;
        }
        count++;
    }
    if (names)
        qsort(names, count, sizeof *names, cmp_names);
    for (i = 0; i < count; i++) {
        size_t dlen = strlen(dir);
        size_t plen = dlen + strlen(names[i]) + 2;
        char *path = malloc(plen);
        struct stat sb;
        int kind, fresh;

        if (!path) {
            st = ndx_error(NDX_ENOMEM, "out of memory (directory %s)", dir);
            goto fail;
        }
        snprintf(path, plen, "%s%s%s", dir,
                 dlen && dir[dlen - 1] == '/' ? "" : "/", names[i]);
        if (stat(path, &sb) != 0) {
            ndx_reader_note(r, 0, "cannot read %s: %s; skipped", path,
                            strerror(errno));
            free(path);
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            fresh = walk_mark(w, sb.st_dev, sb.st_ino);
            if (fresh < 0) {
                free(path);
                st = ndx_error(NDX_ENOMEM, "out of memory (directory walk)");
                goto fail;
            }
            if (!fresh)
                ndx_reader_note(r, 0,
                                "%s leads to a directory already read "
                                "(symlink loop?); not followed",
                                path);
            else
                st = walk_dir(r, w, path);
        } else if (S_ISREG(sb.st_mode)
                   && (kind = corpus_kind(names[i])) != 0) {
            fresh = walk_mark(w, sb.st_dev, sb.st_ino);
            if (fresh < 0)
                st = ndx_error(NDX_ENOMEM, "out of memory (directory walk)");
            else if (fresh)
                st = add_file(r, path, &sb, kind);
        }
        free(path);
        if (st)
            goto fail;
    }
fail:
    for (i = 0; i < count; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return st;
}

ndx_status
ndx_reader_open(ndx_reader **out, const char *const *paths,
                size_t path_count, unsigned flags, ndx_warn_fn warn,
                void *warn_ctx)
{
    ndx_reader *r;
    ndx_htab w;
    ndx_status st = NDX_OK;
    size_t i;

    *out = NULL;
    ndx_htab_init(&w, sizeof(walk_entry), 256, 50);
    r = calloc(1, sizeof *r);
    if (!r)
        return ndx_error(NDX_ENOMEM, "out of memory (reader)");
    ndx_htab_init(&r->seen, sizeof(ndx_seen), 4096, 70);
    r->flags = flags;
    r->warn = warn;
    r->warn_ctx = warn_ctx;
    ndx_buf_init(&r->in.line);
    ndx_buf_init(&r->in.fixed);
    ndx_buf_init(&r->in.jdec);
    ndx_buf_init(&r->strs);
    ndx_buf_init(&r->ids);
    ndx_reader_begin(r);

    if (path_count == 0) {
        st = ndx_error(NDX_EINVAL, "no corpus path given");
        goto fail;
    }
    for (i = 0; i < path_count; i++) {
        struct stat sb;
        size_t before = r->file_count;
        int kind;

        if (stat(paths[i], &sb) != 0) {
            st = ndx_error(errno == ENOENT ? NDX_ENOTFOUND : NDX_EIO,
                           "%s: %s", paths[i], strerror(errno));
            goto fail;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (walk_mark(&w, sb.st_dev, sb.st_ino) < 0) {
                st = ndx_error(NDX_ENOMEM, "out of memory (directory walk)");
                goto fail;
            }
            if ((st = walk_dir(r, &w, paths[i])) != NDX_OK)
                goto fail;
            if (r->file_count == before) {
                st = ndx_error(NDX_ENOTFOUND,
                               "no .txt or .jsonl files in %s", paths[i]);
                goto fail;
            }
            continue;
        }
        kind = corpus_kind(paths[i]);
        if (!kind) {
            st = ndx_error(NDX_EINVAL,
                           "%s: not a corpus file (expected .jsonl, "
                           ".jsonl.gz, .txt or .txt.gz)",
                           paths[i]);
            goto fail;
        }
        switch (walk_mark(&w, sb.st_dev, sb.st_ino)) {
        case -1:
            st = ndx_error(NDX_ENOMEM, "out of memory (file list)");
            goto fail;
        case 1:
            if ((st = add_file(r, paths[i], &sb, kind)) != NDX_OK)
                goto fail;
            break;
        default:
            break;
        }
    }
    r->in.blk = malloc(NDX_READ_BLOCK);
    if (!r->in.blk) {
        st = ndx_error(NDX_ENOMEM, "out of memory (read buffer)");
        goto fail;
    }
    ndx_htab_free(&w);
    *out = r;
    return NDX_OK;
fail:
    ndx_htab_free(&w);
    ndx_reader_close(r);
    return st;
}

static void
close_current(ndx_reader *r)
{
    if (r->in.gz) {
        gzclose(r->in.gz);
        r->in.gz = NULL;
        r->done_closed += r->in.cur->size;
    }
}

uint64_t
ndx_reader_total_bytes(const ndx_reader *r)
{
    return r->total_bytes;
}

uint64_t
ndx_reader_done_bytes(const ndx_reader *r)
{
    uint64_t done = r->done_closed;

    if (r->in.gz) {
        z_off_t off = gzoffset(r->in.gz);
        if (off > 0)
            done += (uint64_t)off < r->in.cur->size ? (uint64_t)off
                                                 : r->in.cur->size;
    }
    return done;
}

const ndx_ingest_stats *
ndx_reader_stats(const ndx_reader *r)
{
    return &r->in.stats;
}

ndx_status
ndx_reader_next(ndx_reader *r, const ndx_article **out)
{
    ndx_status st;
    int got;

    *out = NULL;
    if (r->failed)
        return r->failed;
    for (;;) {
        if (!r->in.gz) {
            if (r->next_file >= r->file_count) {
                r->in.cur = NULL;
                r->in.stats.bytes_in = r->done_closed;
                return NDX_OK;
            }
            r->in.cur = &r->files[r->next_file++];
            r->in.line_no = 0;
            r->in.cur_articles = 0;
            r->in.blk_len = r->in.blk_pos = 0;
            r->in.blk_eof = 0;
            r->in.gz = gzopen(r->in.cur->path, "rb");
            if (!r->in.gz) {
                r->in.stats.files_unread++;
                st = ndx_reader_bad(r, NDX_SKIP_UNREADABLE, 0,
                                    "cannot open: %s; skipped (check that "
                                    "the file is readable)",
                                    errno ? strerror(errno) : "out of memory");
                r->done_closed += r->in.cur->size;
                if (st)
                    goto fail;
                continue;
            }
            gzbuffer(r->in.gz, 128u << 10);
            r->in.stats.files++;
        }
        got = 0;
        st = r->in.cur->is_text ? ndx_text_next(r, &got)
                             : ndx_jsonl_next(r, &got);
        if (st)
            goto fail;
        /* Asking the file where it is costs a system call: every 64
         * articles is enough for progress, and the end of the input sets
         * the exact figure. */
        if (!got || (++r->polls & 63) == 0)
            r->in.stats.bytes_in = ndx_reader_done_bytes(r);
        if (got) {
            *out = &r->in.art;
            return NDX_OK;
        }
        close_current(r);
    }
fail:
    close_current(r);
    r->failed = st;
    return st;
}

void
ndx_reader_close(ndx_reader *r)
{
    size_t i;

    if (!r)
        return;
    if (r->in.gz)
        gzclose(r->in.gz);
    for (i = 0; i < r->file_count; i++)
        free(r->files[i].path);
    free(r->files);
    free(r->in.blk);
    ndx_buf_free(&r->in.line);
    ndx_buf_free(&r->in.fixed);
    ndx_buf_free(&r->in.jdec);
    ndx_buf_free(&r->strs);
    ndx_buf_free(&r->ids);
    ndx_text_meta_free(r->in.manifest);
    free(r->in.manifest_dir);
    ndx_htab_free(&r->seen);
    free(r);
}
