/*
 * http.h - the HTTP/1.1 pieces of the server, free of sockets: parsing a
 * request head, decoding a query string, writing a response head.
 *
 * The server speaks HTTP only as far as its API needs: GET and HEAD of a
 * path with a query string, keep-alive, no request bodies it would read
 * (a body is skipped when its length is given and small).  Everything
 * here works on bytes in memory, so that it can be fuzzed alone
 * (tests/fuzz/fuzz_http.c).
 */
#ifndef NDX_SEARCHER_HTTP_H
#define NDX_SEARCHER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define HTTP_MAX_HEADERS 100 /* header lines in one request */

typedef struct http_req {
    char method[16];        /* "GET", "HEAD", ... (NUL-terminated) */
    const char *target;     /* the request target, in the parsed buffer */
    size_t target_len;      /* bytes */
    int minor;              /* HTTP/1.minor: 0 or 1 */
    int keep_alive;         /* 1: the connection stays open after */
    uint64_t content_length; /* bytes of body that follow the head */
    const char *if_none_match; /* the If-None-Match value, in the parsed
                                  buffer, or NULL (the last one given) */
    size_t if_none_match_len;  /* bytes */
    size_t head_len;        /* bytes of the head, blank line included */
} http_req;

enum { HTTP_DONE = 0, HTTP_MORE = 1, HTTP_BAD = -1 };

/*
 * Parses the request head at the start of buf (len bytes; leading blank
 * lines are skipped and counted in head_len).  HTTP_DONE: *r is filled.
 * HTTP_MORE: the head is not complete yet and no more than max_head bytes
 * long.  HTTP_BAD: *status is the status to answer (400, 414 request
 * line over max_head, 431 head over max_head, 501, 505) and *why a
 * message (static).
 */
int http_parse(const char *buf, size_t len, size_t max_head, http_req *r,
               int *status, const char **why);

/*
 * Splits the next name=value pair off the query string [*p, end) (the
 * part after '?'), percent-decoding both ('+' is a space) into name and
 * val, which it empties first.  1: a pair; 0: nothing left; -1: a bad %
 * escape or out of memory.
 */
int http_query_next(const char **p, const char *end, ndx_buf *name,
                    ndx_buf *val);

/* Percent-decodes s (len bytes) into out (emptied first); '+' becomes a
 * space when plus.  0, or -1 on a bad escape or out of memory. */
int http_unescape(const char *s, size_t len, int plus, ndx_buf *out);

/* 1 when the entity tag etag (quotes included) is one of the list of an
 * If-None-Match value (len bytes): "*", or tags compared weakly (a "W/"
 * prefix is ignored). */
int http_etag_matches(const char *list, size_t len, const char *etag);

/* The reason phrase of a status ("Not Found"), or "Unknown". */
const char *http_reason(int status);

/*
 * Appends a response head: status line, Date, Content-Type (when ctype is not
 * NULL), Content-Length (or chunked transfer when body_len is
 * HTTP_CHUNKED, or neither when it is HTTP_UNTIL_CLOSE: the body ends
 * when the connection closes, for HTTP/1.0), Connection, the extra
 * header lines (each ending in "\r\n"; may be NULL), the blank line.
 */
#define HTTP_CHUNKED SIZE_MAX
#define HTTP_UNTIL_CLOSE (SIZE_MAX - 1)
ndx_status http_head(ndx_buf *b, int status, const char *ctype,
                     size_t body_len, int keep_alive, const char *extra);

/* Appends one chunk of a chunked body (len 0: the last chunk). */
ndx_status http_chunk(ndx_buf *b, const void *data, size_t len);

#endif
