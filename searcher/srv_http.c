/*
 * srv_http.c - the server's HTTP side, run in the worker threads: routes
 * one request (its head parsed by http.c) to the search page, the API or
 * an error, and writes the whole response, or for /api/export its pieces
 * one at a time (see "export" below).
 *
 * The API is the query socket's protocol over GET: a request's query
 * parameters become the members of a socket request, srv_protocol.c runs
 * it, and the body is exactly the socket's response line; the status
 * follows the error code (syntax and invalid 400, not_found 404,
 * too_large 413, overloaded 503, timeout 504, internal 500).
 *
 *   GET /                   the search page (searcher/web/, embedded)
 *   GET /api/search?q=&k=&offset=&source=&from=&to=&sort=&group=
 *                  &facets=&facet_limit=&snippets=&snippet_len=
 *                  &exact_total=&collapse_titles=
 *   GET /api/article/ID     the article (the socket's get)
 *   GET /api/stats          the index statistics
 *   GET /api/export?q=&source=&from=&to=&sort=   every match as CSV,
 *                           streamed
 *   GET /healthz            the socket's ping
 * HEAD is answered like GET without the body; other methods get 405.
 * Cutting requests out of a connection is srv_conn.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "http.h"
#include "render.h"
#include "srv.h"
#include "web.h"

/* Page and API responses may not be framed by other sites, and the page
 * runs only its own script: article text that slipped through escaping
 * still could not run. */
static const char page_headers[] =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cache-Control: no-cache\r\n";
static const char api_headers[] =
    "Cache-Control: no-store\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n";

typedef struct hreq {
    const server *s;
    ndx_index *ix;
    job *j;
    http_req r;
    int head_only;   /* HEAD: no body */
    const char *path, *query; /* in j->line; query NULL when none */
    size_t path_len, query_len;
} hreq;

/* Writes a whole response: head and body (not for HEAD). */
static void
respond(hreq *h, int status, const char *ctype, const void *body,
        size_t len, const char *extra)
{
    ndx_buf *b = &h->j->out;
    ndx_status st;

    b->len = 0;
    st = http_head(b, status, ctype, len, h->r.keep_alive, extra);
    if (!st && !h->head_only && len)
        st = ndx_buf_put(b, body, len);
    if (st)
        b->len = 0; /* srv_conn.c sends its own answer to out of memory */
}

static int
status_of(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {{"syntax", 400},    {"invalid", 400},   {"not_found", 404},
               {"too_large", 413}, {"overloaded", 503}, {"timeout", 504}};
    size_t i;

    if (!code)
        return 200;
    for (i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].code, code) == 0)
            return map[i].status;
    return 500;
}

/* The error object of the socket as a response body. */
static void
respond_error(hreq *h, int status, const char *code, const char *msg,
              const char *extra)
{
    ndx_buf body;

    ndx_buf_init(&body);
    if (ndx_buf_puts(&body, "{\"id\":null,\"ok\":false,") ||
        render_error_json(&body, code, msg) || ndx_buf_putc(&body, '}'))
        body.len = 0;
    respond(h, status, "application/json", body.data, body.len, extra);
    ndx_buf_free(&body);
}

void
srv_http_error(job *j, int status, const char *code, const char *msg)
{
    hreq h;

    memset(&h, 0, sizeof h);
    h.j = j;
    h.r.keep_alive = 0;
    j->close_after = 1;
    respond_error(&h, status, code, msg, api_headers);
}

/* Runs a socket request and answers with its response line. */
static void
run_json(hreq *h, json_t *req)
{
    ndx_buf body;
    const char *code;

    ndx_buf_init(&body);
    code = srv_protocol_request(h->s, h->ix, req, &body);
    if (!body.len) {
        respond_error(h, 500, "internal", "out of memory", api_headers);
    } else {
        respond(h, status_of(code), "application/json", body.data,
                body.len, api_headers);
    }
    ndx_buf_free(&body);
}

/* Sets member name of req to the decoded value: a whole number when the
 * parameter is one (else the string, which the protocol refuses with its
 * message), a boolean for true/false, else a string.  -1 when the value
 * is not UTF-8. */
static int
set_param(json_t *req, const char *name, const ndx_buf *v, int numeric,
          int boolean)
{
    const char *s = (const char *)v->data;
    json_t *val = NULL;

    if (numeric && v->len > 0 && v->len <= 9 &&
        strspn(s, "0123456789") == v->len)
        val = json_integer(atol(s));
    else if (boolean && (!strcmp(s, "true") || !strcmp(s, "1")))
        val = json_true();
    else if (boolean && (!strcmp(s, "false") || !strcmp(s, "0")))
        val = json_false();
    else
        val = json_stringn(s, v->len);
    if (!val)
        return -1;
    json_object_set_new(req, name, val);
    return 0;
}

/* Appends the comma-separated parts of v to array member name. */
static int
add_list(json_t *req, const char *name, const ndx_buf *v, int split)
{
    json_t *arr = json_object_get(req, name);
    const char *s = (const char *)v->data, *end = s + v->len;

    if (!arr) {
        arr = json_array();
        json_object_set_new(req, name, arr);
    }
    while (s <= end) {
        const char *c = split ? memchr(s, ',', (size_t)(end - s)) : NULL;
        const char *e = c ? c : end;
        json_t *str;

        if (e > s || !split) {
            if (!(str = json_stringn(s, (size_t)(e - s))))
                return -1;
            json_array_append_new(arr, str);
        }
        s = e + 1;
    }
    return 0;
}

/* The socket request of /api/search's parameters; NULL after answering
 * a parameter that cannot be read. */
static json_t *
search_request(hreq *h)
{
    static const char *const numbers[] = {"k", "offset", "snippet_len",
                                          "facet_limit", NULL};
    static const char *const strings[] = {"q", "from", "to", "sort", "group",
                                          NULL};
    static const char *const booleans[] = {"snippets", "exact_total",
                                           "collapse_titles", NULL};
    json_t *req = json_object();
    const char *p = h->query ? h->query : "", *end = p + h->query_len;
    ndx_buf name, val;
    int rc = 0, i;

    ndx_buf_init(&name);
    ndx_buf_init(&val);
    json_object_set_new(req, "op", json_string("search"));
    while ((rc = http_query_next(&p, end, &name, &val)) == 1) {
        const char *n = (const char *)name.data;

        for (i = 0; numbers[i] && strcmp(n, numbers[i]); i++)
            ;
        if (numbers[i]) {
            rc = set_param(req, n, &val, 1, 0);
            goto next;
        }
        for (i = 0; strings[i] && strcmp(n, strings[i]); i++)
            ;
        if (strings[i]) {
            rc = set_param(req, n, &val, 0, 0);
            goto next;
        }
        for (i = 0; booleans[i] && strcmp(n, booleans[i]); i++)
            ;
        if (booleans[i])
            rc = set_param(req, n, &val, 0, 1);
        else if (!strcmp(n, "source"))
            rc = add_list(req, "sources", &val, 0);
        else if (!strcmp(n, "facets"))
            rc = add_list(req, "facets", &val, 1);
        /* Other parameters are ignored, as unknown members are. */
    next:
        if (rc < 0)
            break;
    }
    ndx_buf_free(&name);
    ndx_buf_free(&val);
    if (rc < 0) {
        respond_error(h, 400, "invalid",
                      "a query parameter is not percent-encoded UTF-8",
                      api_headers);
        json_decref(req);
        return NULL;
    }
    return req;
}

/* ---- export ------------------------------------------------------------- */

/*
 * /api/export streams: each page of rows (export.c, EXPORT_PAGE articles,
 * one search) is one piece of the response, made by a job of its own
 * when the client has read most of the one before (srv_conn.c), so that
 * the server holds about one page per export however many rows match,
 * and a long export takes a worker for one page at a time.
 *
 * HTTP/1.1 gets chunked transfer: each page one chunk, the end the last
 * chunk "0\r\n\r\n", and the connection stays open for the next request
 * (keep-alive and pipelining go on as for every other answer; a body
 * running until the close would end them).  HTTP/1.0 knows no chunks:
 * its body runs until the close.  The status comes from the first page:
 * a query that cannot be read is a 400, a first page over the time budget
 * a 504, both with the error object.  A later page that fails (its own
 * --timeout-ms budget spent, say) cannot change the status any more: the
 * server closes the connection without the last chunk, which a client
 * reading chunks sees as an incomplete body (curl: "transfer closed with
 * outstanding read data remaining", exit 18).  The headers say how many
 * articles match (X-Newsdex-Matches, counted exactly by the first page's
 * search) and, when that is more than EXPORT_MAX_ROWS, that the rows stop
 * there (X-Newsdex-Export-Limit).
 */
typedef struct hstream {
    export_cursor *x;
    int chunked;     /* HTTP/1.1: chunks; 1.0: the body ends at the close */
} hstream;

/* Frees what the next piece would have needed. */
static void
stream_release(job *j)
{
    hstream *hs = j->stream;

    if (hs)
        export_free(hs->x);
    free(hs);
    j->stream = NULL;
    j->more = 0;
}

void
srv_http_stream_abort(job *j)
{
    stream_release(j);
    j->parked = 0;
    j->done = 1;
    j->close_after = 1;
}

/* Appends a page of rows to out as the response's body. */
static ndx_status
put_piece(ndx_buf *out, const ndx_buf *rows, int chunked)
{
    if (!rows->len)
        return NDX_OK;
    return chunked ? http_chunk(out, rows->data, rows->len)
                   : ndx_buf_put(out, rows->data, rows->len);
}

/* Makes the next piece of a streamed export into j->out (emptied by the
 * event loop); on its end the last chunk, on failure nothing and the
 * connection closes. */
static void
export_more(const server *s, ndx_index *ix, job *j)
{
    hstream *hs = j->stream;
    ndx_buf rows;
    ndx_status st;
    int finished = 0;

    ndx_buf_init(&rows);
    j->more = 0;
    ndx_error_clear();
    st = export_next(hs->x, ix, &rows, NULL, &finished);
    if (!st)
        st = put_piece(&j->out, &rows, hs->chunked);
    if (!st && finished && hs->chunked)
        st = http_chunk(&j->out, NULL, 0);
    ndx_buf_free(&rows);
    if (st) {
        srv_say(s, "an export was cut short: %s", ndx_errmsg());
        j->out.len = 0;
        stream_release(j);
        j->close_after = 1;
    } else if (finished) {
        stream_release(j);
    } else {
        j->more = 1;
    }
}

/* Reads /api/export's parameters into o (sources copied into kept, the
 * query into *q); a message for the client when one is wrong. */
static const char *
export_params(hreq *h, ndx_search_opts *o, char **q, char **kept,
              size_t *nkept)
{
    static const char *const sorts[] = {"relevance", "newest", "oldest",
                                        NULL};
    const char *p = h->query ? h->query : "", *end = p + h->query_len;
    const char *bad = NULL;
    ndx_buf name, val;
    int rc = 0, i;

    ndx_buf_init(&name);
    ndx_buf_init(&val);
    while (!bad && (rc = http_query_next(&p, end, &name, &val)) == 1) {
        const char *n = (const char *)name.data, *v = (const char *)val.data;
        int32_t first, last;

        if (!strcmp(n, "q")) {
            free(*q);
            if (!(*q = strdup(v)))
                bad = "out of memory";
        } else if (!strcmp(n, "source")) {
            if (*nkept == NDX_QUERY_MAX_SOURCES)
                bad = "at most 64 sources in one request";
            else if (!(kept[*nkept] = strdup(v)))
                bad = "out of memory";
            else
                (*nkept)++;
        } else if (!strcmp(n, "from") || !strcmp(n, "to")) {
            if (ndx_date_parse_range(v, val.len, &first, &last))
                bad = "\"from\" or \"to\" is not a date; use YYYY-MM-DD, "
                      "YYYY-MM or YYYY";
            else if (n[0] == 'f')
                o->from_days = first;
            else
                o->to_days = last;
        } else if (!strcmp(n, "sort")) {
            for (i = 0; sorts[i] && strcmp(v, sorts[i]); i++)
                ;
            if (!sorts[i])
                bad = "\"sort\" must be one of \"relevance\", \"newest\", "
                      "\"oldest\"";
            else
                o->sort = (ndx_sort)i;
        }
    }
    if (rc < 0)
        bad = "a query parameter is not percent-encoded";
    if (!bad && !*q)
        bad = "an export needs \"q\", the query text";
    ndx_buf_free(&name);
    ndx_buf_free(&val);
    return bad;
}

static void
do_export(hreq *h)
{
    char *q = NULL, *kept[NDX_QUERY_MAX_SOURCES];
    ndx_search_opts o;
    ndx_buf rows;
    hstream *hs = NULL;
    export_cursor *x = NULL;
    size_t nkept = 0, i;
    const char *bad;
    char extra[512];
    int finished = 0;
    ndx_status st;

    ndx_search_opts_init(&o);
    ndx_buf_init(&rows);
    o.budget_ms = h->s->o.timeout_ms;
    if ((bad = export_params(h, &o, &q, kept, &nkept))) {
        respond_error(h, 400, "invalid", bad, api_headers);
        goto done;
    }
    o.sources = nkept ? (const char *const *)kept : NULL;
    o.source_count = nkept;
    ndx_error_clear();
    if ((st = export_open(&x, q, &o)) ||
        (st = export_next(x, h->ix, &rows, NULL, &finished))) {
        char msg[160];

        /* The words of the search's answer to the same timeout. */
        if (st == NDX_ETIMEOUT)
            snprintf(msg, sizeof msg, "the query ran past the server's "
                     "limit of %g ms; make it narrower", o.budget_ms);
        respond_error(h, st == NDX_ESYNTAX ? 400
                         : st == NDX_ETIMEOUT ? 504
                         : st == NDX_EINVAL || st == NDX_ELIMIT ? 400
                                                                : 500,
                      st == NDX_ESYNTAX ? "syntax"
                      : st == NDX_ETIMEOUT ? "timeout"
                      : st == NDX_EINVAL || st == NDX_ELIMIT ? "invalid"
                                                             : "internal",
                      st == NDX_ETIMEOUT ? msg : ndx_errmsg(), api_headers);
        goto done;
    }
    snprintf(extra, sizeof extra,
             "Content-Disposition: attachment; "
             "filename=\"newsdex-export.csv\"\r\n"
             "Cache-Control: no-store\r\n"
             "X-Newsdex-Matches: %llu\r\n",
             (unsigned long long)export_matches(x));
    if (export_matches(x) > EXPORT_MAX_ROWS)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                 "X-Newsdex-Export-Limit: %d\r\n", EXPORT_MAX_ROWS);
    hs = calloc(1, sizeof *hs);
    h->j->out.len = 0;
    if (hs)
        hs->chunked = h->r.minor == 1;
    if (!hs ||
        http_head(&h->j->out, 200, "text/csv; charset=utf-8",
                  hs->chunked ? HTTP_CHUNKED : HTTP_UNTIL_CLOSE,
                  h->r.keep_alive && hs->chunked, extra) ||
        (!h->head_only && put_piece(&h->j->out, &rows, hs->chunked)) ||
        (!h->head_only && finished && hs->chunked &&
         http_chunk(&h->j->out, NULL, 0))) {
        h->j->out.len = 0; /* srv_conn.c answers out of memory */
        goto done;
    }
    if (!hs->chunked)
        h->j->close_after = 1;
    if (!finished && !h->head_only) {
        hs->x = x;
        x = NULL;
        h->j->stream = hs;
        hs = NULL;
        h->j->more = 1;
    }
done:
    export_free(x);
    free(hs);
    free(q);
    for (i = 0; i < nkept; i++)
        free(kept[i]);
    ndx_buf_free(&rows);
}

/* ---- routing ------------------------------------------------------------ */

/* A file of the page, or 304 when the browser's copy (If-None-Match) is
 * this one: the page is revalidated on each load (no-cache) and sent
 * again only when the server's files changed. */
static void
serve_asset(hreq *h, const web_asset *a)
{
    char extra[sizeof page_headers + 64];

    snprintf(extra, sizeof extra, "%sETag: %s\r\n", page_headers, a->etag);
    if (h->r.if_none_match &&
        http_etag_matches(h->r.if_none_match, h->r.if_none_match_len,
                          a->etag)) {
        /* No body; its Content-Length is the file's (RFC 9110 8.6). */
        h->j->out.len = 0;
        if (http_head(&h->j->out, 304, a->ctype, a->len, h->r.keep_alive,
                      extra))
            h->j->out.len = 0;
        return;
    }
    respond(h, 200, a->ctype, a->data, a->len, extra);
}

static int
path_is(const hreq *h, const char *p)
{
    return h->path_len == strlen(p) && memcmp(h->path, p, h->path_len) == 0;
}

void
srv_http_run(const server *s, ndx_index *ix, job *j)
{
    hreq h;
    int status = 0;
    const char *why = NULL, *qm;
    const web_asset *asset;
    json_t *req = NULL;

    if (j->stream) {
        export_more(s, ix, j);
        return;
    }
    memset(&h, 0, sizeof h);
    h.s = s;
    h.ix = ix;
    h.j = j;
    if (http_parse(j->line, j->line_len, j->line_len, &h.r, &status,
                   &why) != HTTP_DONE) {
        srv_http_error(j, status ? status : 400, "invalid",
                       why ? why : "malformed request");
        return;
    }
    j->close_after = !h.r.keep_alive;
    h.head_only = !strcmp(h.r.method, "HEAD");
    if (strcmp(h.r.method, "GET") && !h.head_only) {
        respond_error(&h, 405, "invalid",
                      "only GET and HEAD are served: the API reads the "
                      "index and never changes it",
                      "Allow: GET, HEAD\r\nCache-Control: no-store\r\n");
        return;
    }
    h.path = h.r.target;
    qm = memchr(h.r.target, '?', h.r.target_len);
    h.path_len = qm ? (size_t)(qm - h.r.target) : h.r.target_len;
    if (qm) {
        h.query = qm + 1;
        h.query_len = h.r.target_len - h.path_len - 1;
    }
    if ((asset = web_asset_find(h.path, h.path_len))) {
        serve_asset(&h, asset);
        return;
    }
    if (path_is(&h, "/api/search")) {
        if ((req = search_request(&h)))
            run_json(&h, req);
    } else if (path_is(&h, "/api/stats")) {
        req = json_pack("{s:s}", "op", "stats");
        run_json(&h, req);
    } else if (path_is(&h, "/healthz")) {
        req = json_pack("{s:s}", "op", "ping");
        run_json(&h, req);
    } else if (path_is(&h, "/api/export")) {
        do_export(&h);
    } else if (h.path_len > 13 && !memcmp(h.path, "/api/article/", 13)) {
        ndx_buf id;

        ndx_buf_init(&id);
        if (http_unescape(h.path + 13, h.path_len - 13, 0, &id) ||
            !(req = json_pack("{s:s,s:s%}", "op", "get", "article",
                              (const char *)id.data, id.len)))
            respond_error(&h, 400, "invalid",
                          "the article id is not percent-encoded UTF-8",
                          api_headers);
        else
            run_json(&h, req);
        ndx_buf_free(&id);
    } else {
        respond_error(&h, 404, "not_found",
                      "no such page; the API is /api/search, "
                      "/api/article/ID, /api/stats, /api/export, /healthz",
                      api_headers);
    }
    json_decref(req);
}
