/*
 * reader_text.c - plain text corpora (.txt, .txt.gz): one article a file,
 * exactly as scraped.
 *
 * Metadata, first source first (a field set by an earlier source is kept):
 *   1. manifest.tsv in the file's directory.  FORMAT: UTF-8, tab-separated,
 *      a header line naming the columns - "file id date source title url"
 *      (any order; missing columns are unknown) - then one line a file,
 *      "file" being the file's name in the directory ("x.txt" also serves
 *      "x.txt.gz").  An empty cell is unknown.
 *   2. Header lines at the top of the file: "date: ...", "source: ...",
 *      "title: ...", "url: ...", "id: ...", "lang: ..." (keys in any case),
 *      one a line, ended by the first other line; they and one blank line
 *      after them are removed from the text.
 *   3. The inline form " date 2025-11-27 " at the very start of the first
 *      line; removed from the text.
 *   4. Guesses: the title is the first line that is not blank or furniture
 *      when it is short (under 20 words) and does not end with a period;
 *      the date is the first date expression in the text (ndx_date_find);
 *      the id is the file name without .txt/.txt.gz; the source "unknown".
 * A file above NDX_RECORD_MAX bytes is too_large; an empty one is no_text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "util/text.h"

/* Manifest columns after "file". */
enum { M_ID, M_DATE, M_SOURCE, M_TITLE, M_URL, M_COUNT };

typedef struct manifest_row {
    char *file;          /* name in the directory, owned */
    char *cell[M_COUNT]; /* owned, "" when unknown */
    long line;           /* line in manifest.tsv */
} manifest_row;

struct ndx_text_meta {
    manifest_row *rows; /* sorted by file */
    size_t count;       /* rows */
    char *path;         /* manifest.tsv path, for messages */
};

/* Title guesses longer than this many words are body text. */
#define TITLE_MAX_WORDS 20

void
ndx_text_meta_free(ndx_text_meta *m)
{
    size_t i, k;

    if (!m)
        return;
    for (i = 0; i < m->count; i++) {
        free(m->rows[i].file);
        for (k = 0; k < M_COUNT; k++)
            free(m->rows[i].cell[k]);
    }
    free(m->rows);
    free(m->path);
    free(m);
}

static int
cmp_rows(const void *a, const void *b)
{
    return strcmp(((const manifest_row *)a)->file,
                  ((const manifest_row *)b)->file);
}

/* Splits line at tabs into at most max cells (pointers into line). */
static size_t
split_tabs(char *line, char **cells, size_t max)
{
    size_t n = 0;
    char *p = line;

    while (n < max) {
        char *tab = strchr(p, '\t');
        cells[n++] = p;
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

/* Loads dir/manifest.tsv; *out is NULL when there is none. */
static ndx_status
manifest_load(ndx_reader *r, const char *dir, ndx_text_meta **out)
{
    static const char *const names[M_COUNT] = {"id", "date", "source",
                                               "title", "url"};
    char *path, *text = NULL, *line, *next;
    FILE *f;
    ndx_text_meta *m = NULL;
    size_t cap = 0, plen = strlen(dir) + 16, k;
    int col_of[16], file_col = -1, ncols;
    long lineno = 0;
    ndx_status st = NDX_OK;
    long size;

    *out = NULL;
    path = malloc(plen);
    if (!path)
        return ndx_error(NDX_ENOMEM, "out of memory (manifest)");
    snprintf(path, plen, "%s%smanifest.tsv", dir, *dir ? "/" : "");
    f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT)
            ndx_reader_note(r, 0, "cannot read %s: %s; metadata from the "
                            "files only", path, strerror(errno));
        free(path);
        return NDX_OK;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        free(path);
        return NDX_OK;
    }
    text = malloc((size_t)size + 1);
    m = calloc(1, sizeof *m);
    if (!text || !m) {
        st = ndx_error(NDX_ENOMEM, "out of memory (manifest)");
        goto fail;
    }
    m->path = path;
    path = NULL;
    if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        ndx_reader_note(r, 0, "cannot read %s; metadata from the files only",
                        m->path);
        goto fail;
    }
    text[size] = '\0';

    ncols = 0;
    for (line = text; line && *line; line = next) {
        char *cells[16];
        size_t n, len;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        lineno++;
        if (len == 0)
            continue;
        n = split_tabs(line, cells, 16);
        if (ncols == 0) {
            /* The header names the columns. */
            ncols = (int)n;
            for (k = 0; k < n; k++) {
                size_t c;
                col_of[k] = -1;
                if (strcmp(cells[k], "file") == 0)
                    file_col = (int)k;
                for (c = 0; c < M_COUNT; c++)
                    if (strcmp(cells[k], names[c]) == 0)
                        col_of[k] = (int)c;
            }
            if (file_col < 0) {
                ndx_reader_note(r, 0,
                                "%s has no \"file\" column in its header; "
                                "ignored (the header is \"file id date "
                                "source title url\", tab-separated)",
                                m->path);
                goto fail;
            }
            continue;
        }
        if (ndx_grow((void **)&m->rows, &cap, m->count + 1,
                     sizeof *m->rows, 64)) {
            st = ndx_error(NDX_ENOMEM, "out of memory (manifest)");
            goto fail;
        }
        {
            manifest_row *row = &m->rows[m->count];
            memset(row, 0, sizeof *row);
            row->line = lineno;
            row->file = strdup((size_t)file_col < n ? cells[file_col] : "");
            for (k = 0; k < M_COUNT; k++)
                row->cell[k] = NULL;
            for (k = 0; k < n && (int)k < ncols; k++)
                if (col_of[k] >= 0 && !row->cell[col_of[k]])
                    row->cell[col_of[k]] = strdup(cells[k]);
            for (k = 0; k < M_COUNT; k++)
                if (!row->cell[k])
                    row->cell[k] = strdup("");
            m->count++;
            if (!row->file) {
                st = ndx_error(NDX_ENOMEM, "out of memory (manifest)");
                goto fail;
            }
            for (k = 0; k < M_COUNT; k++)
                if (!row->cell[k]) {
                    st = ndx_error(NDX_ENOMEM, "out of memory (manifest)");
                    goto fail;
                }
        }
    }
    if (m->rows)
        qsort(m->rows, m->count, sizeof *m->rows, cmp_rows);
    fclose(f);
    free(text);
    *out = m;
    return NDX_OK;
fail:
    fclose(f);
    free(text);
    free(path);
    ndx_text_meta_free(m);
    return st;
}

static const manifest_row *
manifest_find(const ndx_text_meta *m, const char *name)
{
    manifest_row key;
    const manifest_row *row;
    char alt[1024];
    size_t n;

    if (!m || !m->count)
        return NULL;
    key.file = (char *)name;
    row = bsearch(&key, m->rows, m->count, sizeof *m->rows, cmp_rows);
    if (row)
        return row;
    n = strlen(name);
    if (n > 3 && n < sizeof alt && strcmp(name + n - 3, ".gz") == 0) {
        memcpy(alt, name, n - 3);
        alt[n - 3] = '\0';
        key.file = alt;
        return bsearch(&key, m->rows, m->count, sizeof *m->rows, cmp_rows);
    }
    return NULL;
}

/* Makes sure in->manifest belongs to the current file's directory. */
static ndx_status
manifest_for_current(ndx_reader *r)
{
    ndx_rin *in = ndx_reader_in(r);
    const char *path = in->cur->path;
    size_t dlen = in->cur->dir_len;
    ndx_status st;
    char *dir;

    if (in->manifest_dir && strlen(in->manifest_dir) == dlen
        && strncmp(in->manifest_dir, path, dlen) == 0)
        return NDX_OK;
    ndx_text_meta_free(in->manifest);
    free(in->manifest_dir);
    in->manifest = NULL;
    in->manifest_dir = NULL;
    dir = strndup(path, dlen);
    if (!dir)
        return ndx_error(NDX_ENOMEM, "out of memory (manifest)");
    in->manifest_dir = dir;
    if (dlen == 0 && path[0] == '/')
        return manifest_load(r, "/", &in->manifest);
    st = manifest_load(r, dlen ? dir : ".", &in->manifest);
    return st;
}

/* Sets the date from s unless one is set; bad dates are reported. */
static ndx_status
take_date(ndx_reader *r, const char *s, size_t len, int *have,
          const char *where)
{
    ndx_rin *in = ndx_reader_in(r);
    int32_t days, secs;

    while (len && ndx_is_space((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && ndx_is_space((unsigned char)s[len - 1]))
        len--;
    if (*have || len == 0)
        return NDX_OK;
    if (ndx_date_parse(s, len, &days, &secs) != NDX_OK)
        return ndx_reader_bad(r, NDX_SKIP_BAD_DATE, 0,
                              "cannot read date \"%.*s\" in %s; the article "
                              "is kept without it; write dates as "
                              "YYYY-MM-DD",
                              (int)(len > 40 ? 40 : len), s, where);
    in->art.date_days = days;
    in->art.time_secs = secs;
    *have = 1;
    return NDX_OK;
}

static ndx_status
take_field(ndx_reader *r, int field, const char *s, size_t len)
{
    while (len && ndx_is_space((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && ndx_is_space((unsigned char)s[len - 1]))
        len--;
    if (len == 0 || ndx_reader_has(r, field))
        return NDX_OK;
    return ndx_reader_field(r, field, s, len);
}

/* A header line "key: value": the field it sets (NDX_F_*), -2 for date,
 * -1 when it is no header; *val receives the value's offset. */
static int
header_key(const char *s, size_t len, size_t *val)
{
    static const struct {
        const char *key;
        int field;
    } keys[] = {{"date", -2},        {"source", NDX_F_SOURCE},
                {"title", NDX_F_TITLE}, {"url", NDX_F_URL},
                {"id", NDX_F_ID},    {"lang", NDX_F_LANG}};
    size_t i, k;

    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t n = strlen(keys[i].key);
        if (len <= n || s[n] != ':')
            continue;
        for (k = 0; k < n; k++)
            if ((s[k] | 0x20) != keys[i].key[k])
                break;
        if (k == n) {
            *val = n + 1;
            return keys[i].field;
        }
    }
    return -1;
}

ndx_status
ndx_text_next(ndx_reader *r, int *got)
{
    ndx_rin *in = ndx_reader_in(r);
    const char *text, *name, *p, *end;
    size_t len, n;
    int repaired = 0, have_date = 0, too_large = 0;
    const manifest_row *row;
    ndx_status st;

    *got = 0;
    if (in->line_no > 0)
        return NDX_OK; /* one article a file, already read */

    /* The whole file, in blocks, up to the record limit. */
    in->line.len = 0;
    for (;;) {
        if (in->blk_pos == in->blk_len) {
            int nread = gzread(in->gz, in->blk, (unsigned)NDX_READ_BLOCK);
            if (nread <= 0)
                break;
            in->stats.bytes_text += (uint64_t)nread;
            in->blk_len = (size_t)nread;
            in->blk_pos = 0;
        }
        if (in->line.len + in->blk_len > NDX_RECORD_MAX) {
            too_large = 1;
            break;
        }
        if ((st = ndx_buf_put(&in->line, in->blk, in->blk_len)) != NDX_OK)
            return st;
        in->blk_pos = in->blk_len;
    }
    in->line_no = 1;
    if (too_large)
        return ndx_reader_bad(r, NDX_SKIP_TOO_LARGE, 0,
                              "article file of more than %zu MiB; skipped; "
                              "split it",
                              NDX_RECORD_MAX >> 20);
    if (ndx_reader_gz_error(r)) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", ndx_reader_gz_error(r));
        in->stats.files_unread++;
        return ndx_reader_bad(r, NDX_SKIP_UNREADABLE, 0,
                              "compressed data ends early or is damaged "
                              "(%s); skipped; re-create the file",
                              msg);
    }
    if ((st = ndx_buf_cstr(&in->line)) != NDX_OK)
        return st;
    if (ndx_reader_binary(in->line.data, in->line.len))
        return ndx_reader_bad(r, NDX_SKIP_BINARY, 0,
                              "binary data, not text; skipped; give only "
                              "text files");
    if ((st = ndx_reader_repair(r, (const char *)in->line.data, in->line.len,
                                &text, &len, &repaired)) != NDX_OK)
        return st;
    p = text;
    end = text + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* byte order mark */

    ndx_reader_begin(r);

    /* 1. The manifest. */
    if ((st = manifest_for_current(r)) != NDX_OK)
        return st;
    name = in->cur->path + in->cur->dir_len + (in->cur->dir_len ? 1 : 0);
    row = manifest_find(in->manifest, name);
    if (row) {
        char where[300];
        snprintf(where, sizeof where, "manifest.tsv line %ld", row->line);
        if ((st = take_field(r, NDX_F_ID, row->cell[M_ID],
                             strlen(row->cell[M_ID])))
            || (st = take_field(r, NDX_F_SOURCE, row->cell[M_SOURCE],
                                strlen(row->cell[M_SOURCE])))
            || (st = take_field(r, NDX_F_TITLE, row->cell[M_TITLE],
                                strlen(row->cell[M_TITLE])))
            || (st = take_field(r, NDX_F_URL, row->cell[M_URL],
                                strlen(row->cell[M_URL])))
            || (st = take_date(r, row->cell[M_DATE], strlen(row->cell[M_DATE]),
                               &have_date, where)))
            return st;
    }

    /* 2. Header lines. */
    {
        const char *q = p;
        int headers = 0;
        while (q < end) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            const char *le = nl ? nl : end;
            size_t val;
            int field = header_key(q, (size_t)(le - q), &val);
            if (field == -1)
                break;
            if (field == -2)
                st = take_date(r, q + val, (size_t)(le - q) - val,
                               &have_date, "a date: line");
            else
                st = take_field(r, field, q + val, (size_t)(le - q) - val);
            if (st)
                return st;
            headers++;
            q = nl ? nl + 1 : end;
        }
        if (headers) {
            /* One blank line after the headers goes with them. */
            const char *b = q;
            while (b < end && (*b == ' ' || *b == '\t' || *b == '\r'))
                b++;
            if (b < end && *b == '\n')
                q = b + 1;
            p = q;
        }
    }

    /* 3. The inline " date 2025-11-27 " at the start of the first line. */
    {
        const char *q = p, *tok, *te;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (end - q > 5 && (q[0] | 0x20) == 'd' && (q[1] | 0x20) == 'a'
            && (q[2] | 0x20) == 't' && (q[3] | 0x20) == 'e'
            && (q[4] == ' ' || q[4] == '\t')) {
            int32_t days, secs;
            tok = q + 5;
            while (tok < end && (*tok == ' ' || *tok == '\t'))
                tok++;
            te = tok;
            while (te < end && !ndx_is_space((unsigned char)*te))
                te++;
            if (te > tok
                && ndx_date_parse(tok, (size_t)(te - tok), &days, &secs)
                       == NDX_OK) {
                if (!have_date) {
                    in->art.date_days = days;
                    in->art.time_secs = secs;
                    have_date = 1;
                }
                while (te < end && (*te == ' ' || *te == '\t'))
                    te++;
                p = te;
            }
        }
    }

    /* The text that is left. */
    n = (size_t)(end - p);
    {
        const char *q = p;
        while (q < end && ndx_is_space((unsigned char)*q))
            q++;
        if (q == end)
            return ndx_reader_bad(r, NDX_SKIP_NO_TEXT, 0,
                                  "%s; skipped; add the article text or "
                                  "remove the file",
                                  len == 0 ? "empty file" : "no article text");
    }
    if ((st = ndx_reader_field(r, NDX_F_TEXT, p, n)) != NDX_OK)
        return st;

    /* 4. Guesses. */
    if (!ndx_reader_has(r, NDX_F_TITLE)) {
        const char *q = p;
        st = NDX_OK;
        while (q < end) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            const char *le = nl ? nl : end, *s = q, *e = le;
            while (s < e && ndx_is_space((unsigned char)*s))
                s++;
            while (e > s && ndx_is_space((unsigned char)e[-1]))
                e--;
            if (s < e && !ndx_clean_is_furniture(s, (size_t)(e - s))) {
                unsigned words = 0;
                const char *w = s;
                int in_word = 0;
                for (; w < e; w++) {
                    if (!ndx_is_space((unsigned char)*w) && !in_word)
                        words++;
                    in_word = !ndx_is_space((unsigned char)*w);
                }
                if (words < TITLE_MAX_WORDS && e[-1] != '.')
                    st = ndx_reader_field(r, NDX_F_TITLE, s, (size_t)(e - s));
                break;
            }
            q = nl ? nl + 1 : end;
        }
        if (st)
            return st;
    }
    if (!have_date) {
        int32_t days;
        if (ndx_date_find(p, n, &days) == NDX_OK)
            in->art.date_days = days;
    }
    if (!ndx_reader_has(r, NDX_F_ID)) {
        size_t nl = strlen(name);
        if (nl > 7 && strcmp(name + nl - 7, ".txt.gz") == 0)
            nl -= 7;
        else if (nl > 4 && strcmp(name + nl - 4, ".txt") == 0)
            nl -= 4;
        if ((st = ndx_reader_field(r, NDX_F_ID, name, nl)) != NDX_OK)
            return st;
    }
    if (repaired) {
        st = ndx_reader_bad(r, NDX_SKIP_BAD_UTF8, 0,
                            "invalid UTF-8 replaced by U+FFFD or NUL bytes "
                            "dropped; the article is kept; save the file as "
                            "UTF-8");
        if (st)
            return st;
    }
    return ndx_reader_finish(r, 0, got);
}
