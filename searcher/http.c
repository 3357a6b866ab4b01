/*
 * http.c - HTTP/1.1 request heads, query strings and response heads for
 * the server (RFC 9112), in memory only; sockets, routing and what a
 * response says are the server's (srv_conn.c, srv_http.c).
 *
 * The parser is strict where leniency would let two readers of the same
 * bytes disagree (request smuggling): one Content-Length, digits only; no
 * Transfer-Encoding on requests; no folded header lines; no bytes below
 * 0x20 but tab in a header value.  It is lenient where that is harmless:
 * a bare "\n" ends a line like "\r\n", and blank lines before a request
 * are skipped.
 */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 9110 tchar: the characters of a method or header name. */
static int
is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The end of the line that starts at p (the byte after its "\n"), or
 * NULL when there is no "\n" before end; *eol is where the line's text
 * ends ("\r" excluded). */
static const char *
line_end(const char *p, const char *end, const char **eol)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));

    if (!nl)
        return NULL;
    *eol = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
    return nl + 1;
}

static int
bad(int *status, const char **why, int code, const char *msg)
{
    *status = code;
    *why = msg;
    return HTTP_BAD;
}

/* The next item of the comma-separated list v (n bytes) from *i on,
 * trimmed: [*b, *e).  0 when the list is done. */
static int
list_next(const char *v, size_t n, size_t *i, size_t *b, size_t *e)
{
    size_t j = *i, k;

    if (*i >= n)
        return 0;
    while (j < n && v[j] != ',')
        j++;
    k = j;
    while (*i < k && (v[*i] == ' ' || v[*i] == '\t'))
        (*i)++;
    while (k > *i && (v[k - 1] == ' ' || v[k - 1] == '\t'))
        k--;
    *b = *i;
    *e = k;
    *i = j + 1;
    return 1;
}

/* Whether header value v (n bytes, trimmed) lists token tok (comma
 * separated, case-insensitive). */
static int
has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok), i = 0, b, e;

    while (list_next(v, n, &i, &b, &e))
        if (e - b == tl && strncasecmp(v + b, tok, tl) == 0)
            return 1;
    return 0;
}

static int
parse_request_line(const char *p, const char *eol, http_req *r, int *status,
                   const char **why)
{
    const char *sp1, *sp2;
    size_t mlen;

    for (sp1 = p; sp1 < eol && is_tchar((unsigned char)*sp1); sp1++)
        ;
    mlen = (size_t)(sp1 - p);
    if (mlen == 0 || sp1 == eol || *sp1 != ' ')
        return bad(status, why, 400, "malformed request line");
    if (mlen >= sizeof r->method)
        return bad(status, why, 501, "unknown method");
    memcpy(r->method, p, mlen);
    r->method[mlen] = '\0';
    r->target = sp1 + 1;
    for (sp2 = r->target; sp2 < eol && *sp2 != ' '; sp2++)
        if ((unsigned char)*sp2 <= 0x20 || (unsigned char)*sp2 >= 0x7f)
            return bad(status, why, 400, "bad character in the target");
    r->target_len = (size_t)(sp2 - r->target);
    if (r->target_len == 0 || sp2 == eol)
        return bad(status, why, 400, "malformed request line");
    sp2++;
    if (eol - sp2 != 8 || memcmp(sp2, "HTTP/", 5) != 0 || sp2[6] != '.' ||
        sp2[5] < '0' || sp2[5] > '9' || sp2[7] < '0' || sp2[7] > '9')
        return bad(status, why, 400, "malformed HTTP version");
    if (sp2[5] != '1' || sp2[7] > '1')
        return bad(status, why, 505, "only HTTP/1.0 and HTTP/1.1 are spoken");
    r->minor = sp2[7] - '0';
    r->keep_alive = r->minor == 1;
    return HTTP_DONE;
}

int
http_parse(const char *buf, size_t len, size_t max_head, http_req *r,
           int *status, const char **why)
{
    const char *p = buf, *end = buf + len, *eol, *next;
    int headers = 0, seen_length = 0, conn_close = 0, conn_keep = 0;
    int st;

    memset(r, 0, sizeof *r);
    /* Blank lines before a request are ignored (RFC 9112 2.2). */
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    next = line_end(p, end, &eol);
    if (!next) {
        if (len > max_head)
            return bad(status, why, 414, "request line too long");
        return HTTP_MORE;
    }
    if ((size_t)(next - buf) > max_head)
        return bad(status, why, 414, "request line too long");
    if ((st = parse_request_line(p, eol, r, status, why)) != HTTP_DONE)
        return st;
    for (p = next;; p = next) {
        const char *colon, *v, *ve;
        size_t nlen;

        next = line_end(p, end, &eol);
        if (!next) {
            if (len > max_head)
                return bad(status, why, 431, "request head too large");
            return HTTP_MORE;
        }
        if ((size_t)(next - buf) > max_head)
            return bad(status, why, 431, "request head too large");
        if (eol == p)
            break; /* the blank line */
        if (++headers > HTTP_MAX_HEADERS)
            return bad(status, why, 431, "too many header lines");
        if (*p == ' ' || *p == '\t')
            return bad(status, why, 400, "folded header lines are refused");
        for (colon = p; colon < eol && is_tchar((unsigned char)*colon);
             colon++)
            ;
        nlen = (size_t)(colon - p);
        if (nlen == 0 || colon == eol || *colon != ':')
            return bad(status, why, 400, "malformed header line");
        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
            ;
        for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
            ;
        for (colon = v; colon < ve; colon++)
            if (((unsigned char)*colon < 0x20 && *colon != '\t') ||
                *colon == 0x7f)
                return bad(status, why, 400, "control byte in a header");
        if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            uint64_t n = 0;
            const char *d;

            if (v == ve)
                return bad(status, why, 400, "empty Content-Length");
            for (d = v; d < ve; d++) {
                if (*d < '0' || *d > '9' || n > (UINT64_MAX - 9) / 10)
                    return bad(status, why, 400, "bad Content-Length");
                n = n * 10 + (uint64_t)(*d - '0');
            }
            if (seen_length && n != r->content_length)
                return bad(status, why, 400, "two different Content-Length");
            seen_length = 1;
            r->content_length = n;
        } else if (nlen == 17 &&
                   strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            return bad(status, why, 501,
                       "request bodies with Transfer-Encoding are not "
                       "accepted");
        } else if (nlen == 13 && strncasecmp(p, "If-None-Match", 13) == 0) {
            r->if_none_match = v;
            r->if_none_match_len = (size_t)(ve - v);
        } else if (nlen == 10 && strncasecmp(p, "Connection", 10) == 0) {
            conn_close |= has_token(v, (size_t)(ve - v), "close");
            conn_keep |= has_token(v, (size_t)(ve - v), "keep-alive");
        }
    }
    if (conn_close)
        r->keep_alive = 0;
    else if (conn_keep)
        r->keep_alive = 1;
    r->head_len = (size_t)(next - buf);
    return HTTP_DONE;
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
http_unescape(const char *s, size_t len, int plus, ndx_buf *out)
{
    size_t i;

    out->len = 0;
    if (ndx_buf_reserve(out, len + 1))
        return -1;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= len)
                return -1;
            hi = hex_value(s[i + 1]);
            lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        out->data[out->len++] = (unsigned char)c;
    }
    out->data[out->len] = '\0';
    return 0;
}

int
http_query_next(const char **p, const char *end, ndx_buf *name,
                ndx_buf *val)
{
    while (*p < end) {
        const char *s = *p, *amp = memchr(s, '&', (size_t)(end - s));
        const char *e = amp ? amp : end, *eq;

        *p = amp ? amp + 1 : end;
        if (e == s)
            continue; /* "&&" */
        eq = memchr(s, '=', (size_t)(e - s));
        if (http_unescape(s, (size_t)((eq ? eq : e) - s), 1, name) ||
            http_unescape(eq ? eq + 1 : e, eq ? (size_t)(e - eq - 1) : 0, 1,
                          val))
            return -1;
        return 1;
    }
    return 0;
}

int
http_etag_matches(const char *list, size_t len, const char *etag)
{
    size_t tl = strlen(etag), i = 0, b, e;

    while (list_next(list, len, &i, &b, &e)) {
        if (e - b == 1 && list[b] == '*')
            return 1;
        if (e - b > 2 && list[b] == 'W' && list[b + 1] == '/')
            b += 2;
        if (e - b == tl && memcmp(list + b, etag, tl) == 0)
            return 1;
    }
    return 0;
}

const char *
http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

ndx_status
http_head(ndx_buf *b, int status, const char *ctype, size_t body_len,
          int keep_alive, const char *extra)
{
    ndx_status st = ndx_buf_printf(b, "HTTP/1.1 %d %s\r\n", status,
                                   http_reason(status));
    char date[64];
    time_t now = time(NULL);
    struct tm tm;

    /* An origin server with a clock sends Date (RFC 9110 6.6.1). */
    if (!st && gmtime_r(&now, &tm) &&
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        st = ndx_buf_printf(b, "Date: %s\r\n", date);

    if (!st && ctype)
        st = ndx_buf_printf(b, "Content-Type: %s\r\n", ctype);
    if (!st && body_len == HTTP_CHUNKED)
        st = ndx_buf_puts(b, "Transfer-Encoding: chunked\r\n");
    else if (!st && body_len != HTTP_UNTIL_CLOSE)
        st = ndx_buf_printf(b, "Content-Length: %zu\r\n", body_len);
    if (!st)
        st = ndx_buf_puts(b, keep_alive ? "Connection: keep-alive\r\n"
                                        : "Connection: close\r\n");
    if (!st)
        st = ndx_buf_puts(b, "X-Content-Type-Options: nosniff\r\n");
    if (!st && extra)
        st = ndx_buf_puts(b, extra);
    return st ? st : ndx_buf_puts(b, "\r\n");
}

ndx_status
http_chunk(ndx_buf *b, const void *data, size_t len)
{
    ndx_status st = ndx_buf_printf(b, "%zx\r\n", len);

    if (!st && len)
        st = ndx_buf_put(b, data, len);
    /* The last chunk, "0\r\n\r\n", has no trailers. */
    return st ? st : ndx_buf_puts(b, "\r\n");
}
