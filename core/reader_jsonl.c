/*
 * reader_jsonl.c - JSON Lines corpora (.jsonl, .jsonl.gz): one article a
 * line, {"id","source","date","title","url","text"} plus optional "lang";
 * other fields are ignored.
 *
 * Each line is read on its own (never the whole file), repaired (invalid
 * UTF-8 becomes U+FFFD, NUL bytes are dropped; the article is kept and
 * counted as bad_utf8) and parsed with jansson.  A line that is not a JSON
 * object is bad_json; one without a non-blank string "text" is no_text;
 * one above NDX_RECORD_MAX bytes is too_large and is discarded in blocks
 * as it streams past.  A missing id becomes "<file name>:<line>"; an
 * unreadable date leaves the article undated (bad_date).  Blank lines are
 * allowed.  Data that ends early (a truncated .gz) is reported with the
 * last line read; the articles before it stand.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "reader.h"

/* The string value of a field with NUL characters ("\u0000") removed;
 * *len receives its length and *had_nul whether any was removed. */
static ndx_status
set_string(ndx_reader *r, int field, json_t *v, int *had_nul)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), i, n = 0;
    ndx_status st;

    if (memchr(s, 0, len) == NULL)
        return ndx_reader_field(r, field, s, len);
    *had_nul = 1;
    r->fixed.len = 0;
    for (i = 0; i < len; i++) {
        if (s[i] && (st = ndx_buf_putc(&r->fixed, s[i])) != NDX_OK)
            return st;
        n += s[i] != 0;
    }
    return ndx_reader_field(r, field, n ? (const char *)r->fixed.data : "",
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

/* Parses one line into r->art; *keep says whether it is an article. */
static ndx_status
parse_line(ndx_reader *r, int *keep)
{
    const char *line;
    size_t len;
    int repaired = 0, had_nul = 0;
    json_error_t jerr;
    json_t *root = NULL, *v;
    long ln = r->line_no;
    ndx_status st;

    *keep = 0;
    st = ndx_reader_repair(r, (const char *)r->line.data, r->line.len, &line,
                           &len, &repaired);
    if (st)
        return st;
    if (blank(line, len))
        return NDX_OK;
    root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    if (!root)
        return ndx_reader_bad(r, NDX_SKIP_JSON, ln,
                              "not valid JSON (%s at column %d); skipped; "
                              "fix or remove the line",
                              jerr.text, jerr.column);
    if (!json_is_object(root)) {
        st = ndx_reader_bad(r, NDX_SKIP_JSON, ln,
                            "not a JSON object; skipped; each line must be "
                            "one {\"id\":...,\"text\":...} object");
        goto done;
    }
    v = json_object_get(root, "text");
    if (!json_is_string(v)
        || blank(json_string_value(v), json_string_length(v))) {
        st = ndx_reader_bad(r, NDX_SKIP_NO_TEXT, ln,
                            "no \"text\" or an empty one; skipped; add the "
                            "article body or remove the line");
        goto done;
    }

    ndx_reader_begin(r);
    if ((st = set_string(r, NDX_F_TEXT, v, &had_nul)) != NDX_OK)
        goto done;
    v = json_object_get(root, "id");
    if (json_is_string(v) && json_string_length(v) > 0) {
        st = set_string(r, NDX_F_ID, v, &had_nul);
    } else if (json_is_integer(v)) {
        char num[32];
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
        st = ndx_reader_field(r, NDX_F_ID, num, (size_t)n);
    } else {
        char id[512];
        const char *base = strrchr(r->cur->path, '/');
        int n = snprintf(id, sizeof id, "%s:%ld",
                         base ? base + 1 : r->cur->path, ln);
        st = ndx_reader_field(r, NDX_F_ID, id,
                              n < (int)sizeof id ? (size_t)n
                                                 : sizeof id - 1);
    }
    if (st)
        goto done;
    if (json_is_string(v = json_object_get(root, "source"))
        && (st = set_string(r, NDX_F_SOURCE, v, &had_nul)) != NDX_OK)
        goto done;
    if (json_is_string(v = json_object_get(root, "title"))
        && (st = set_string(r, NDX_F_TITLE, v, &had_nul)) != NDX_OK)
        goto done;
    if (json_is_string(v = json_object_get(root, "url"))
        && (st = set_string(r, NDX_F_URL, v, &had_nul)) != NDX_OK)
        goto done;
    if (json_is_string(v = json_object_get(root, "lang"))
        && (st = set_string(r, NDX_F_LANG, v, &had_nul)) != NDX_OK)
        goto done;

    v = json_object_get(root, "date");
    if (v && !json_is_null(v)) {
        const char *ds = json_is_string(v) ? json_string_value(v) : NULL;
        size_t dl = ds ? json_string_length(v) : 0;
        int32_t days, secs;

        if (ds && blank(ds, dl)) {
            /* An empty date is an unknown one. */
        } else if (ds && ndx_date_parse(ds, dl, &days, &secs) == NDX_OK) {
            r->art.date_days = days;
            r->art.time_secs = secs;
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
    int too_large, keep;
    ndx_status st;
    const char *zerr;

    *got = 0;
    while (ndx_reader_getline(r, &too_large)) {
        if (too_large) {
            st = ndx_reader_bad(r, NDX_SKIP_TOO_LARGE, r->line_no,
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
        return ndx_reader_bad(r, NDX_SKIP_UNREADABLE, r->line_no,
                              "compressed data ends early or is damaged "
                              "after line %ld (%s); the %llu articles "
                              "before it were kept; re-create the file",
                              r->line_no, msg,
                              (unsigned long long)r->cur_articles);
    }
    if (r->line_no == 0)
        ndx_reader_note(r, 0, "empty file; no articles in it");
    return NDX_OK;
}
