/*
 * render.c - JSON and terminal renderings of results, articles and stats.
 *
 * The JSON here is the wire format of the query socket (DESIGN section 8);
 * the command line's --json prints the same members, so that a program can
 * switch between the two without changing its parser.
 */
#include "render.h"

#include <string.h>

static ndx_status
put_str_member(ndx_buf *b, const char *name, const char *val, int comma)
{
    ndx_status st = ndx_buf_printf(b, "%s\"%s\":\"", comma ? "," : "", name);

    if (!st)
        st = ndx_buf_put_json_str(b, val ? val : "", val ? strlen(val) : 0);
    if (!st)
        st = ndx_buf_putc(b, '"');
    return st;
}

static ndx_status
put_date_member(ndx_buf *b, int32_t days)
{
    char d[11];

    if (days == NDX_DATE_NONE)
        return ndx_buf_puts(b, ",\"date\":null");
    ndx_date_format(days, d);
    return ndx_buf_printf(b, ",\"date\":\"%s\"", d);
}

/* ,"date":D,"source":S,"title":T,"url":U: what a hit and a document
 * say of their article. */
static ndx_status
put_article_members(ndx_buf *b, int32_t days, const char *source,
                    const char *title, const char *url)
{
    ndx_status st = put_date_member(b, days);

    if (!st)
        st = put_str_member(b, "source", source, 1);
    if (!st)
        st = put_str_member(b, "title", title, 1);
    if (!st)
        st = put_str_member(b, "url", url, 1);
    return st;
}

/* ,"name":["s",...]: count strings. */
static ndx_status
put_str_array_member(ndx_buf *b, const char *name,
                     const char *const *strs, size_t count)
{
    ndx_status st = ndx_buf_printf(b, ",\"%s\":[", name);
    size_t i;

    for (i = 0; !st && i < count; i++) {
        st = ndx_buf_puts(b, i ? ",\"" : "\"");
        if (!st)
            st = ndx_buf_put_json_str(b, strs[i], strlen(strs[i]));
        if (!st)
            st = ndx_buf_putc(b, '"');
    }
    return st ? st : ndx_buf_putc(b, ']');
}

/* ,"same_title":[{"article":ID,"date":D},...]: the hits of the same
 * source and title collapsed into h. */
static ndx_status
put_same_title(ndx_buf *b, const ndx_hit *h)
{
    ndx_status st = ndx_buf_puts(b, ",\"same_title\":[");
    size_t j;

    for (j = 0; !st && j < h->same_title_count; j++) {
        st = ndx_buf_puts(b, j ? ",{" : "{");
        if (!st)
            st = put_str_member(b, "article", h->same_title[j].article, 0);
        if (!st)
            st = put_date_member(b, h->same_title[j].date_days);
        if (!st)
            st = ndx_buf_putc(b, '}');
    }
    return st ? st : ndx_buf_putc(b, ']');
}

ndx_status
render_results_json(ndx_buf *b, const ndx_results *r)
{
    ndx_status st;
    size_t i;

    st = ndx_buf_printf(b, "\"total\":%llu,\"total_exact\":%s,"
                           "\"took_ms\":%.3f,",
                        (unsigned long long)r->total,
                        r->total_exact ? "true" : "false", r->took_ms);
    if (!st && r->partial) {
        /* Some shards did not answer (--allow-partial): say which. */
        st = ndx_buf_puts(b, "\"partial\":true,");
        if (!st)
            st = put_str_member(b, "warning", r->warning ? r->warning : "", 0);
        if (!st)
            st = ndx_buf_putc(b, ',');
    }
    if (!st)
        st = ndx_buf_puts(b, "\"hits\":[");
    for (i = 0; !st && i < r->count; i++) {
        const ndx_hit *h = &r->hits[i];

        st = ndx_buf_puts(b, i ? ",{" : "{");
        if (!st)
            st = put_str_member(b, "article", h->article, 0);
        if (!st)
            st = ndx_buf_printf(b, ",\"passage\":%u,\"score\":%.6f",
                                h->passage, h->score);
        if (!st)
            st = put_article_members(b, h->date_days, h->source, h->title,
                                     h->url);
        if (!st)
            st = put_str_member(b, "snippet",
                                h->snippet ? h->snippet : h->text, 1);
        if (!st)
            st = ndx_buf_printf(b, ",\"matches\":%u", h->matches);
        if (!st && h->also_in_count)
            st = put_str_array_member(b, "also_in", h->also_in,
                                      h->also_in_count);
        if (!st && h->same_title_count)
            st = put_same_title(b, h);
        if (!st)
            st = ndx_buf_putc(b, '}');
    }
    if (!st)
        st = ndx_buf_putc(b, ']');
    return st ? st : render_facets_json(b, r);
}

ndx_status
render_facets_json(ndx_buf *b, const ndx_results *r)
{
    ndx_status st = NDX_OK;
    size_t i, j;

    if (!r->facet_count)
        return NDX_OK;
    st = ndx_buf_puts(b, ",\"facets\":{");
    for (i = 0; !st && i < r->facet_count; i++) {
        const ndx_facet *f = &r->facets[i];
        int dates = strcmp(f->name, "source") != 0;

        st = ndx_buf_printf(b, "%s\"%s\":{\"buckets\":[", i ? "," : "",
                            f->name);
        for (j = 0; !st && j < f->count; j++) {
            const ndx_facet_bucket *k = &f->buckets[j];

            st = ndx_buf_puts(b, j ? ",{" : "{");
            if (!st)
                st = put_str_member(b, "value", k->value, 0);
            if (!st)
                st = ndx_buf_printf(b, ",\"count\":%llu",
                                    (unsigned long long)k->count);
            if (!st && dates)
                st = ndx_buf_printf(b, ",\"all\":%llu",
                                    (unsigned long long)k->all);
            if (!st)
                st = ndx_buf_putc(b, '}');
        }
        if (!st)
            st = ndx_buf_printf(b, "],\"%s\":%llu}",
                                dates ? "undated" : "other",
                                (unsigned long long)(dates ? f->undated
                                                           : f->other));
    }
    return st ? st : ndx_buf_putc(b, '}');
}

unsigned
render_facet_kind(const char *name, size_t len)
{
    static const struct {
        const char *name;
        unsigned kind;
    } kinds[] = {{"source", NDX_FACET_SOURCE},
                 {"year", NDX_FACET_YEAR},
                 {"month", NDX_FACET_MONTH},
                 {"day", NDX_FACET_DAY}};
    size_t i;

    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i].name) == len &&
            memcmp(kinds[i].name, name, len) == 0)
            return kinds[i].kind;
    return 0;
}

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote or a
 * line break.  Article text is untrusted: a field that a spreadsheet
 * would run as a formula (=, +, -, @ first) gets a leading '. */
static ndx_status
put_csv_field(ndx_buf *b, const char *v, int comma)
{
    ndx_status st = comma ? ndx_buf_putc(b, ',') : NDX_OK;
    int quote;
    const char *p;

    v = v ? v : "";
    quote = strpbrk(v, ",\"\r\n") != NULL;
    if (!st && quote)
        st = ndx_buf_putc(b, '"');
    if (!st && v[0] && strchr("=+-@\t", v[0]))
        st = ndx_buf_putc(b, '\'');
    for (p = v; !st && *p; p++)
        st = *p == '"' ? ndx_buf_puts(b, "\"\"") : ndx_buf_putc(b, *p);
    if (!st && quote)
        st = ndx_buf_putc(b, '"');
    return st;
}

ndx_status
render_csv_header(ndx_buf *b)
{
    return ndx_buf_puts(b, "id,date,source,title,url\r\n");
}

ndx_status
render_csv_rows(ndx_buf *b, const ndx_results *r)
{
    ndx_status st = NDX_OK;
    size_t i;

    for (i = 0; !st && i < r->count; i++) {
        const ndx_hit *h = &r->hits[i];
        char d[11];

        ndx_date_format(h->date_days, d);
        st = put_csv_field(b, h->article, 0);
        if (!st)
            st = put_csv_field(b, d, 1);
        if (!st)
            st = put_csv_field(b, h->source, 1);
        if (!st)
            st = put_csv_field(b, h->title, 1);
        if (!st)
            st = put_csv_field(b, h->url, 1);
        if (!st)
            st = ndx_buf_puts(b, "\r\n");
    }
    return st;
}

ndx_status
render_doc_json(ndx_buf *b, const ndx_doc *d)
{
    ndx_status st = ndx_buf_puts(b, "\"article\":{");

    if (!st)
        st = put_str_member(b, "id", d->id, 0);
    if (!st)
        st = put_article_members(b, d->date_days, d->source, d->title,
                                 d->url);
    if (!st)
        st = put_str_array_member(b, "passages",
                                  (const char *const *)d->passages,
                                  d->passage_count);
    return st ? st : ndx_buf_putc(b, '}');
}

ndx_status
render_stats_json(ndx_buf *b, const ndx_stats *s)
{
    char first[11], last[11];
    ndx_status st;
    size_t i;

    ndx_date_format(s->first_days, first);
    ndx_date_format(s->last_days, last);
    st = ndx_buf_printf(
        b,
        "\"stats\":{\"engine\":\"%s\",\"generation\":%llu,"
        "\"articles\":%llu,\"passages\":%llu,\"terms\":%llu,"
        "\"tokens\":%llu,\"first_date\":\"%s\",\"last_date\":\"%s\","
        "\"undated\":%llu,\"segments\":%llu,\"bytes_postings\":%llu,"
        "\"bytes_text\":%llu,\"bytes_other\":%llu,\"sources\":[",
        s->engine ? s->engine : "", (unsigned long long)s->generation,
        (unsigned long long)s->articles, (unsigned long long)s->passages,
        (unsigned long long)s->terms, (unsigned long long)s->tokens, first,
        last, (unsigned long long)s->undated,
        (unsigned long long)s->segments,
        (unsigned long long)s->bytes_postings,
        (unsigned long long)s->bytes_text,
        (unsigned long long)s->bytes_other);
    for (i = 0; !st && i < s->source_count; i++) {
        st = ndx_buf_puts(b, i ? ",{" : "{");
        if (!st)
            st = put_str_member(b, "name", s->sources[i].name, 0);
        if (!st)
            st = ndx_buf_printf(b, ",\"articles\":%llu}",
                                (unsigned long long)s->sources[i].count);
    }
    return st ? st : ndx_buf_puts(b, "]}");
}

ndx_status
render_error_json(ndx_buf *b, const char *code, const char *msg)
{
    ndx_status st = ndx_buf_puts(b, "\"error\":{");

    if (!st)
        st = put_str_member(b, "code", code, 0);
    if (!st)
        st = put_str_member(b, "message", msg, 1);
    return st ? st : ndx_buf_putc(b, '}');
}

/* Writes a snippet, turning <b>..</b> into bold or brackets. */
static void
print_snippet(FILE *out, const char *s, int color)
{
    while (*s) {
        if (strncmp(s, "<b>", 3) == 0) {
            fputs(color ? "\033[1;33m" : "[", out);
            s += 3;
        } else if (strncmp(s, "</b>", 4) == 0) {
            fputs(color ? "\033[0m" : "]", out);
            s += 4;
        } else {
            fputc(*s++, out);
        }
    }
}

/* n with thousands separators ("1,000"), in buf (32 bytes). */
static const char *
thousands(uint64_t n, char *buf)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    int i, o = 0;

    for (i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* Dates of the same-title hits listed at most on the line. */
#define SAME_TITLE_DATES 10

/* "   also 2 more from Reuters with this title: 1987-03-02, 1987-03-05". */
static void
print_same_title(FILE *out, const ndx_hit *h)
{
    size_t j;

    fprintf(out, "   also %zu more from %s with this title:",
            h->same_title_count, h->source ? h->source : "this source");
    for (j = 0; j < h->same_title_count && j < SAME_TITLE_DATES; j++) {
        char d[11];

        ndx_date_format(h->same_title[j].date_days, d);
        fprintf(out, "%s %s", j ? "," : "", d[0] ? d : "undated");
    }
    if (h->same_title_count > SAME_TITLE_DATES)
        fputs(", ...", out);
    fputc('\n', out);
}

void
render_results_text(FILE *out, const ndx_results *r, size_t offset,
                    int color)
{
    size_t i;
    char n[32];

    for (i = 0; i < r->count; i++) {
        const ndx_hit *h = &r->hits[i];
        char d[11];

        ndx_date_format(h->date_days, d);
        fprintf(out, "%s%zu. %s%s  %.3f  %s  %s  %s#%u", color ? "\033[1m" : "",
                offset + i + 1, h->title && *h->title ? h->title : "(untitled)",
                color ? "\033[0m" : "", h->score, d[0] ? d : "undated",
                h->source ? h->source : "unknown", h->article, h->passage);
        if (h->matches > 1)
            fprintf(out, "  (%u passages match)", h->matches);
        if (h->also_in_count == 1)
            fprintf(out, "  also in %s", h->also_in[0]);
        else if (h->also_in_count > 1)
            fprintf(out, "  also in %zu sources", h->also_in_count);
        fputc('\n', out);
        fputs("   ", out);
        print_snippet(out, h->snippet ? h->snippet : (h->text ? h->text : ""),
                      color);
        fputc('\n', out);
        if (h->same_title_count)
            print_same_title(out, h);
        fputc('\n', out);
    }
    if (r->total_exact)
        fprintf(out, "%s match%s, %.2f ms\n", thousands(r->total, n),
                r->total == 1 ? "" : "es", r->took_ms);
    else
        fprintf(out, "%s+ matches, %.2f ms\n", thousands(r->total, n),
                r->took_ms);
    for (i = 0; i < r->facet_count; i++) {
        const ndx_facet *f = &r->facets[i];
        int dates = strcmp(f->name, "source") != 0;
        size_t j;

        fprintf(out, "%s:", f->name);
        for (j = 0; j < f->count; j++) {
            fprintf(out, "  %s %llu", f->buckets[j].value,
                    (unsigned long long)f->buckets[j].count);
            if (dates)
                fprintf(out, "/%llu", (unsigned long long)f->buckets[j].all);
        }
        if (dates ? f->undated : f->other)
            fprintf(out, "  (%s %llu)", dates ? "undated" : "other sources",
                    (unsigned long long)(dates ? f->undated : f->other));
        fputc('\n', out);
    }
    if (r->partial)
        fprintf(stderr, "newsdex-search: partial results: %s\n",
                r->warning ? r->warning : "some shards did not answer");
}
