/*
 * reader_jsonl.c - JSON Lines corpora (.jsonl, .jsonl.gz): one article a
 * line, {"id","source","date","title","url","text"} plus optional "lang";
 * other fields are ignored.
 *
 * Each line is read on its own (never the whole file), repaired (invalid
 * UTF-8 becomes U+FFFD, NUL bytes are dropped; the article is kept and
 * counted as bad_utf8) and parsed.  A line that is not a JSON object is
 * bad_json; one without a non-blank string "text" is no_text;
 * one above NDX_RECORD_MAX bytes is too_large and is discarded in blocks
 * as it streams past.  A missing id becomes "<file name>:<line>"; an
 * unreadable date leaves the article undated (bad_date).  Blank lines are
 * allowed.  Data that ends early (a truncated .gz) is reported with the
 * last line read; the articles before it stand.
 *
 * Parsing.  Corpus lines are nearly always flat objects of strings, and
 * jansson, which builds a tree of every line, was an eighth of indexing
 * time.  So a line is first read by a small scanner that accepts only
 * what it can read exactly as jansson would: one object whose keys have
 * no escapes, whose values are strings (escapes decoded, surrogate pairs
 * joined), true, false or null, and no key of interest twice.  Anything
 * else (numbers, nested values, \u0000, a lone surrogate, any syntax
 * error) goes to jansson, which reads it or reports what is wrong.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "reader.h"

/* The keys parse_line reads. */
enum { K_TEXT, K_ID, K_SOURCE, K_TITLE, K_URL, K_LANG, K_DATE, K_COUNT };

static const char *const key_names[K_COUNT] = {
    "text", "id", "source", "title", "url", "lang", "date",
};

/* A value of one of those keys, from either parser. */
enum { V_ABSENT = 0, V_STRING, V_INTEGER, V_NULL, V_OTHER };

typedef struct jvalue {
    int kind;         /* V_* */
    const char *s;    /* V_STRING: the bytes, which may hold NULs */
    size_t len;       /* V_STRING: bytes */
    json_int_t num;   /* V_INTEGER */
} jvalue;

/* ---- the scanner --------------------------------------------------------- */

static const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int
hex4(const char *p, const char *end, unsigned *out)
{
    unsigned v = 0;
    int i;

    if (end - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/*
 * Reads the string whose opening quote is at *pp, decoding it to *out and
 * a NUL after it (room for as many bytes as the line has was made by the
 * caller: a string never decodes to more bytes than its quoted form);
 * moves *pp past the closing quote and *out past the NUL.  -1 for anything
 * the scanner leaves to jansson.
 */
static int
scan_string(const char **pp, const char *end, char **out)
{
    const char *p = *pp + 1;
    char *o = *out;

    for (;;) {
        const char *q = p;
        unsigned cp, lo;

        /* Plain bytes in bulk: the line is valid UTF-8 already. */
        while (q < end && *q != '"' && *q != '\\'
               && (unsigned char)*q >= 0x20)
            q++;
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        p = q;
        if (p >= end || (unsigned char)*p < 0x20)
            return -1;
        if (*p == '"')
            break;
        if (++p >= end)
            return -1;
        switch (*p++) {
        case '"': *o++ = '"'; continue;
        case '\\': *o++ = '\\'; continue;
        case '/': *o++ = '/'; continue;
        case 'b': *o++ = '\b'; continue;
        case 'f': *o++ = '\f'; continue;
        case 'n': *o++ = '\n'; continue;
        case 'r': *o++ = '\r'; continue;
        case 't': *o++ = '\t'; continue;
        case 'u': break;
        default: return -1;
        }
        if (hex4(p, end, &cp))
            return -1;
        p += 4;
        if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
            return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || hex4(p + 2, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                return -1;
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp < 0x80) {
            *o++ = (char)cp;
        } else if (cp < 0x800) {
            *o++ = (char)(0xC0 | cp >> 6);
            *o++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *o++ = (char)(0xE0 | cp >> 12);
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *o++ = (char)(0x80 | (cp & 0x3F));
        } else {
            *o++ = (char)(0xF0 | cp >> 18);
            *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *o++ = (char)(0x80 | (cp & 0x3F));
        }
    }
    *o++ = '\0';
    *pp = p + 1;
    *out = o;
    return 0;
}

/* Whether the literal word (true, false, null) is at p and ends there. */
static int
scan_literal(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
        return 0;
    p += n;
    return p == end || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'
           || *p == ',' || *p == '}';
}

/*
 * Reads a flat object as described in the file comment, filling v (K_COUNT
 * entries, all V_ABSENT on entry) with the keys of interest; decoded
 * strings go to jdec.  1 when the line was read, 0 to let jansson read
 * it, -1 out of memory.
 */
static int
scan_object(ndx_buf *jdec, const char *line, size_t len, jvalue *v)
{
    const char *p = line, *end = line + len;
    char *o;

    if (ndx_buf_reserve(jdec, len + 1) != NDX_OK)
        return -1;
    o = (char *)jdec->data;
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
        goto close;
    }
    for (;;) {
        const char *key, *key_end;
        int k = -1, i;

        if (p >= end || *p != '"')
            return 0;
        key = ++p;
        while (p < end && *p != '"' && *p != '\\'
               && (unsigned char)*p >= 0x20)
            p++;
        if (p >= end || *p != '"')
            return 0;
        key_end = p++;
        for (i = 0; i < K_COUNT; i++)
            if (strlen(key_names[i]) == (size_t)(key_end - key)
                && memcmp(key_names[i], key, (size_t)(key_end - key)) == 0)
                k = i;
        if (k >= 0 && v[k].kind != V_ABSENT)
            return 0; /* jansson keeps the last of repeated keys */
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return 0;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return 0;
        if (*p == '"') {
            char *start = o;

            if (scan_string(&p, end, &o))
                return 0;
            if (k >= 0) {
                v[k].kind = V_STRING;
                v[k].s = start;
                v[k].len = (size_t)(o - start) - 1;
            }
        } else if (scan_literal(p, end, "null")) {
            p += 4;
            if (k >= 0)
                v[k].kind = V_NULL;
        } else if (scan_literal(p, end, "true")) {
            p += 4;
            if (k >= 0)
                v[k].kind = V_OTHER;
        } else if (scan_literal(p, end, "false")) {
            p += 5;
            if (k >= 0)
                v[k].kind = V_OTHER;
        } else {
            return 0;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        return 0;
    }
close:
    return skip_ws(p, end) == end;
}

int
ndx_jsonl_scan(ndx_buf *jdec, const char *line, size_t len,
               ndx_jsonl_value out[NDX_JSONL_KEYS])
{
    jvalue v[K_COUNT];
    int rc, i;

    memset(v, 0, sizeof v);
    rc = scan_object(jdec, line, len, v);
    for (i = 0; i < K_COUNT; i++) {
        out[i].key = key_names[i];
        out[i].kind = v[i].kind == V_STRING ? 's'
                      : v[i].kind == V_NULL ? 'n'
                      : v[i].kind == V_OTHER ? 'b'
                                             : 0;
        out[i].s = v[i].s;
        out[i].len = v[i].len;
    }
    return rc;
}

/* ---- fields -------------------------------------------------------------- */

/* Fills v from a jansson object. */
static void
from_jansson(json_t *root, jvalue *v)
{
    int i;

    for (i = 0; i < K_COUNT; i++) {
        json_t *j = json_object_get(root, key_names[i]);

        if (!j) {
            v[i].kind = V_ABSENT;
        } else if (json_is_string(j)) {
            v[i].kind = V_STRING;
            v[i].s = json_string_value(j);
            v[i].len = json_string_length(j);
        } else if (json_is_integer(j)) {
            v[i].kind = V_INTEGER;
            v[i].num = json_integer_value(j);
        } else if (json_is_null(j)) {
            v[i].kind = V_NULL;
        } else {
            v[i].kind = V_OTHER;
        }
    }
}

/* The string value of a field with NUL characters ("\u0000") removed;
 * *had_nul is set when any was removed. */
static ndx_status
set_string(ndx_reader *r, int field, const jvalue *v, int *had_nul)
{
    ndx_rin *in = ndx_reader_in(r);
    const char *s = v->s;
    size_t len = v->len, i, n = 0;
    ndx_status st;

    if (memchr(s, 0, len) == NULL)
        return ndx_reader_field(r, field, s, len);
    *had_nul = 1;
    in->fixed.len = 0;
    for (i = 0; i < len; i++) {
        if (s[i] && (st = ndx_buf_putc(&in->fixed, s[i])) != NDX_OK)
            return st;
        n += s[i] != 0;
    }
    return ndx_reader_field(r, field, n ? (const char *)in->fixed.data : "",
                            n);
}

static int
blank(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (!(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            return 0;
    return 1;
}

/* Parses one line into in->art; *keep says whether it is an article. */
static ndx_status
parse_line(ndx_reader *r, int *keep)
{
    ndx_rin *in = ndx_reader_in(r);
    const char *line;
    size_t len;
    int repaired = 0, had_nul = 0, scanned;
    json_error_t jerr;
    json_t *root = NULL;
    jvalue v[K_COUNT];
    long ln = in->line_no;
    ndx_status st;

    *keep = 0;
    st = ndx_reader_repair(r, (const char *)in->line.data, in->line.len, &line,
                           &len, &repaired);
    if (st)
        return st;
    if (blank(line, len))
        return NDX_OK;
    memset(v, 0, sizeof v);
    scanned = scan_object(&in->jdec, line, len, v);
    if (scanned < 0)
        return NDX_ENOMEM;
    if (!scanned) {
        memset(v, 0, sizeof v);
        root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
        if (!root)
            return ndx_reader_bad(r, NDX_SKIP_JSON, ln,
                                  "not valid JSON (%s at column %d); "
                                  "skipped; fix or remove the line",
                                  jerr.text, jerr.column);
        if (!json_is_object(root)) {
            st = ndx_reader_bad(r, NDX_SKIP_JSON, ln,
                                "not a JSON object; skipped; each line "
                                "must be one {\"id\":...,\"text\":...} "
                                "object");
            goto done;
        }
        from_jansson(root, v);
    }
    if (v[K_TEXT].kind != V_STRING || blank(v[K_TEXT].s, v[K_TEXT].len)) {
        st = ndx_reader_bad(r, NDX_SKIP_NO_TEXT, ln,
                            "no \"text\" or an empty one; skipped; add the "
                            "article body or remove the line");
        goto done;
    }

    ndx_reader_begin(r);
    if ((st = set_string(r, NDX_F_TEXT, &v[K_TEXT], &had_nul)) != NDX_OK)
        goto done;
    if (v[K_ID].kind == V_STRING && v[K_ID].len > 0) {
        st = set_string(r, NDX_F_ID, &v[K_ID], &had_nul);
    } else if (v[K_ID].kind == V_INTEGER) {
        char num[32];
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                         v[K_ID].num);
        st = ndx_reader_field(r, NDX_F_ID, num, (size_t)n);
    } else {
        char id[512];
        const char *base = strrchr(in->cur->path, '/');
        int n = snprintf(id, sizeof id, "%s:%ld",
                         base ? base + 1 : in->cur->path, ln);
        st = ndx_reader_field(r, NDX_F_ID, id,
                              n < (int)sizeof id ? (size_t)n
                                                 : sizeof id - 1);
    }
    if (st)
        goto done;
    if (v[K_SOURCE].kind == V_STRING
        && (st = set_string(r, NDX_F_SOURCE, &v[K_SOURCE], &had_nul)))
        goto done;
    if (v[K_TITLE].kind == V_STRING
        && (st = set_string(r, NDX_F_TITLE, &v[K_TITLE], &had_nul)))
        goto done;
    if (v[K_URL].kind == V_STRING
        && (st = set_string(r, NDX_F_URL, &v[K_URL], &had_nul)))
        goto done;
    if (v[K_LANG].kind == V_STRING
        && (st = set_string(r, NDX_F_LANG, &v[K_LANG], &had_nul)))
        goto done;

    if (v[K_DATE].kind != V_ABSENT && v[K_DATE].kind != V_NULL) {
        const char *ds = v[K_DATE].kind == V_STRING ? v[K_DATE].s : NULL;
        size_t dl = ds ? v[K_DATE].len : 0;
        int32_t days, secs;

        if (ds && blank(ds, dl)) {
            /* An empty date is an unknown one. */
        } else if (ds && ndx_date_parse(ds, dl, &days, &secs) == NDX_OK) {
            in->art.date_days = days;
            in->art.time_secs = secs;
        } else {
            st = ndx_reader_bad(r, NDX_SKIP_BAD_DATE, ln,
                                "cannot read date \"%.40s\"; the article is "
                                "kept without a date; write dates as "
                                "YYYY-MM-DD",
                                ds ? ds : "(not a string)");
            if (st)
                goto done;
        }
    }
    if (repaired || had_nul) {
        st = ndx_reader_bad(r, NDX_SKIP_BAD_UTF8, ln,
                            "invalid UTF-8 replaced by U+FFFD or NUL bytes "
                            "dropped; the article is kept; save the file as "
                            "UTF-8");
        if (st)
            goto done;
    }
    st = ndx_reader_finish(r, ln, keep);
done:
    json_decref(root);
    return st;
}

ndx_status
ndx_jsonl_next(ndx_reader *r, int *got)
{
    ndx_rin *in = ndx_reader_in(r);
    int too_large, keep;
    ndx_status st;
    const char *zerr;

    *got = 0;
    while (ndx_reader_getline(r, &too_large)) {
        if (too_large == 2)
            return ndx_error(NDX_ENOMEM, "%s:%ld: out of memory for the line",
                             in->cur->path, in->line_no);
        if (in->line_no == 1 && !too_large) {
            /* A byte order mark is not part of the first record. */
            if (in->line.len >= 3 &&
                memcmp(in->line.data, "\xef\xbb\xbf", 3) == 0) {
                memmove(in->line.data, in->line.data + 3, in->line.len - 3 + 1);
                in->line.len -= 3;
            }
            if (ndx_reader_binary(in->line.data, in->line.len))
                return ndx_reader_bad(r, NDX_SKIP_BINARY, 0,
                                      "binary data, not JSON Lines text; "
                                      "the file is skipped; give only "
                                      "text files");
        }
        if (too_large) {
            st = ndx_reader_bad(r, NDX_SKIP_TOO_LARGE, in->line_no,
                                "record of more than %zu MiB; skipped; "
                                "split the article or remove the line",
                                NDX_RECORD_MAX >> 20);
            if (st)
                return st;
            continue;
        }
        if ((st = parse_line(r, &keep)) != NDX_OK)
            return st;
        if (keep) {
            *got = 1;
            return NDX_OK;
        }
    }
    if ((zerr = ndx_reader_gz_error(r)) != NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", zerr);
        if (in->cur_articles == 0 && in->line_no == 0) {
            in->stats.files_unread++;
            return ndx_reader_bad(r, NDX_SKIP_UNREADABLE, 0,
                                  "compressed data damaged from the start "
                                  "(%s); nothing could be read; re-create "
                                  "the file",
                                  msg);
        }
        return ndx_reader_bad(r, NDX_SKIP_UNREADABLE, in->line_no,
                              "compressed data ends early or is damaged "
                              "after line %ld (%s); the %llu articles "
                              "before it were kept; re-create the file",
                              in->line_no, msg,
                              (unsigned long long)in->cur_articles);
    }
    if (in->line_no == 0)
        ndx_reader_note(r, 0, "empty file; no articles in it");
    return NDX_OK;
}
