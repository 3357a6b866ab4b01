/*
 * srv_protocol.c - the query socket's protocol: one request line in, one
 * response line out (DESIGN section 8; the whole protocol is in the
 * README, "Query socket").  Parses a request with jansson, checks every
 * member, runs it on the index (ndx_index_search, _get, _stats) and
 * writes the response, the hits, articles, stats and errors rendered by
 * render.c.  Runs in the worker threads; reading and writing sockets is
 * srv_conn.c's.
 *
 * FORMAT (bytes written on a connection): one line per request line, in
 * request order, each a JSON object ended by "\n":
 *   {"id":ID,"ok":true,MEMBERS}
 *       search: "total":N,"took_ms":T,"hits":[...]     (render.c)
 *               [,"facets":{...}]                      (render.c)
 *       get:    "article":{...}                        (render.c)
 *       stats:  "stats":{...}                          (render.c)
 *       ping:   "pong":true
 *   {"id":ID,"ok":false,"error":{"code":C,"message":M}}
 * ID is the request's "id" as sent (null when absent or unreadable); C is
 * one of too_large, overloaded, timeout, syntax, invalid, not_found,
 * internal.  A connection refused for the connection limit receives one
 * overloaded line and is closed (srv_conn.c).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "render.h"
#include "srv.h"

/* The code of the last error response this thread wrote (for the HTTP
 * status), or NULL. */
static _Thread_local const char *last_code;

const char srv_oom_line[] =
    "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"internal\","
    "\"message\":\"out of memory\"}}";

static ndx_status
reply_begin(ndx_buf *b, json_t *id, int ok)
{
    char *ids = id ? json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    ndx_status st = ndx_buf_printf(b, "{\"id\":%s,\"ok\":%s",
                                   ids ? ids : "null", ok ? "true" : "false");

    free(ids);
    return st;
}

/* Begins a successful response, up to where its members go. */
static ndx_status
reply_ok(ndx_buf *b, json_t *id)
{
    ndx_status st = reply_begin(b, id, 1);

    return st ? st : ndx_buf_putc(b, ',');
}

/* Ends a response; after a failure, leaves an empty buffer (the event
 * loop then sends srv_oom_line). */
static void
reply_end(ndx_buf *b, ndx_status st)
{
    if (!st)
        st = ndx_buf_putc(b, '}');
    if (st)
        b->len = 0;
}

static void
reply_error(ndx_buf *b, json_t *id, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void
reply_error(ndx_buf *b, json_t *id, const char *code, const char *fmt, ...)
{
    char msg[1024];
    ndx_status st;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    last_code = code;
    b->len = 0;
    st = reply_begin(b, id, 0);
    if (!st)
        st = ndx_buf_putc(b, ',');
    if (!st)
        st = render_error_json(b, code, msg);
    reply_end(b, st);
}

/* Answers a failed index call with the stable code for st. */
static void
reply_status(const server *s, ndx_buf *b, json_t *id, ndx_status st)
{
    const char *msg = ndx_errmsg();

    switch (st) {
    case NDX_ESYNTAX:
        reply_error(b, id, "syntax", "%s", *msg ? msg : "bad query");
        break;
    case NDX_ETIMEOUT:
        reply_error(b, id, "timeout",
                    "the query ran past the server's limit of %g ms; "
                    "make it narrower", s->o.timeout_ms);
        break;
    case NDX_ENOTFOUND:
        reply_error(b, id, "not_found", "%s", *msg ? msg : "not found");
        break;
    case NDX_EINVAL:
    case NDX_ELIMIT:
        reply_error(b, id, "invalid", "%s", *msg ? msg : "invalid request");
        break;
    default:
        srv_complain("internal error: %s: %s", ndx_status_name(st), msg);
        reply_error(b, id, "internal", "%s: %s", ndx_status_name(st),
                    *msg ? msg : "unexpected failure");
        break;
    }
}

/* ---- requests ------------------------------------------------------------ */

/* Reads an optional whole number member; 0, or -1 after an error reply. */
static int
get_size(json_t *req, json_t *id, ndx_buf *out, const char *name,
         size_t min, size_t max, size_t *val)
{
    json_t *v = json_object_get(req, name);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
        json_integer_value(v) > (json_int_t)max) {
        reply_error(out, id, "invalid",
                    "\"%s\" must be a whole number from %zu to %zu", name,
                    min, max);
        return -1;
    }
    *val = (size_t)json_integer_value(v);
    return 0;
}

/* Reads an optional string member; 0, or -1 after an error reply. */
static int
get_str(json_t *req, json_t *id, ndx_buf *out, const char *name,
        const char **val)
{
    json_t *v = json_object_get(req, name);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        reply_error(out, id, "invalid", "\"%s\" must be a string", name);
        return -1;
    }
    *val = json_string_value(v);
    return 0;
}

/* Reads an optional true/false member into 1/0; 0, or -1 after an error
 * reply. */
static int
get_bool(json_t *req, json_t *id, ndx_buf *out, const char *name, int *val)
{
    json_t *v = json_object_get(req, name);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        reply_error(out, id, "invalid", "\"%s\" must be true or false",
                    name);
        return -1;
    }
    *val = json_is_true(v);
    return 0;
}

/* Reads a date member into its first (from) or last (to) day. */
static int
get_date(json_t *req, json_t *id, ndx_buf *out, const char *name,
         int last, int32_t *days)
{
    const char *s = NULL;
    int32_t first_days, last_days;

    if (get_str(req, id, out, name, &s))
        return -1;
    if (!s)
        return 0;
    if (ndx_date_parse_range(s, strlen(s), &first_days, &last_days)) {
        reply_error(out, id, "invalid",
                    "\"%s\": cannot read '%.100s' as a date; use "
                    "YYYY-MM-DD, YYYY-MM or YYYY", name, s);
        return -1;
    }
    *days = last ? last_days : first_days;
    return 0;
}

/* Adds the strings of member name (a string or an array of strings). */
static int
get_sources(json_t *req, json_t *id, ndx_buf *out, const char *name,
            const char **srcs, size_t *count)
{
    json_t *v = json_object_get(req, name), *e;
    size_t i;

    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        if (*count == NDX_QUERY_MAX_SOURCES)
            goto too_many;
        srcs[(*count)++] = json_string_value(v);
        return 0;
    }
    if (!json_is_array(v))
        goto bad;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            goto bad;
        if (*count == NDX_QUERY_MAX_SOURCES)
            goto too_many;
        srcs[(*count)++] = json_string_value(e);
    }
    return 0;
bad:
    reply_error(out, id, "invalid",
                "\"%s\" must be a string or an array of strings", name);
    return -1;
too_many:
    reply_error(out, id, "invalid", "at most %d sources in one request",
                NDX_QUERY_MAX_SOURCES);
    return -1;
}

static int
get_choice(json_t *req, json_t *id, ndx_buf *out, const char *name,
           const char *const *names, int *val)
{
    const char *s = NULL;
    int i;

    if (get_str(req, id, out, name, &s))
        return -1;
    if (!s)
        return 0;
    for (i = 0; names[i]; i++) {
        if (!strcmp(s, names[i])) {
            *val = i;
            return 0;
        }
    }
    {
        char list[128];
        size_t len = 0;

        list[0] = '\0';
        for (i = 0; names[i] && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len,
                                    "%s\"%s\"", i ? ", " : "", names[i]);
        reply_error(out, id, "invalid", "\"%s\" must be one of %s", name,
                    list);
    }
    return -1;
}

/* Reads "facets": a facet name or an array of them. */
static int
get_facets(json_t *req, json_t *id, ndx_buf *out, unsigned *facets)
{
    json_t *v = json_object_get(req, "facets"), *e;
    size_t i;

    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        *facets = render_facet_kind(json_string_value(v),
                                    json_string_length(v));
        if (*facets)
            return 0;
        goto bad;
    }
    if (!json_is_array(v))
        goto bad;
    json_array_foreach(v, i, e) {
        unsigned k = json_is_string(e)
                         ? render_facet_kind(json_string_value(e),
                                             json_string_length(e))
                         : 0;

        if (!k)
            goto bad;
        *facets |= k;
    }
    return 0;
bad:
    reply_error(out, id, "invalid",
                "\"facets\" must be an array of \"source\", \"year\", "
                "\"month\", \"day\"");
    return -1;
}

static void
op_search(const server *s, ndx_index *ix, json_t *req, json_t *id,
          ndx_buf *out)
{
    static const char *const sorts[] = {"relevance", "newest", "oldest",
                                        NULL};
    static const char *const groups[] = {"article", "passage", NULL};
    const char *srcs[NDX_QUERY_MAX_SOURCES];
    ndx_results *res = NULL;
    ndx_search_opts o;
    const char *q = NULL;
    int sort = 0, group = 0;
    ndx_status st;

    ndx_search_opts_init(&o);
    o.budget_ms = s->o.timeout_ms;
    if (get_str(req, id, out, "q", &q))
        return;
    if (!q) {
        reply_error(out, id, "invalid",
                    "a search needs \"q\", the query text");
        return;
    }
    o.source_count = 0;
    if (get_size(req, id, out, "k", 0, SRV_MAX_K, &o.k) ||
        get_size(req, id, out, "offset", 0, SRV_MAX_OFFSET, &o.offset) ||
        get_sources(req, id, out, "sources", srcs, &o.source_count) ||
        get_sources(req, id, out, "source", srcs, &o.source_count) ||
        get_date(req, id, out, "from", 0, &o.from_days) ||
        get_date(req, id, out, "to", 1, &o.to_days) ||
        get_choice(req, id, out, "sort", sorts, &sort) ||
        get_choice(req, id, out, "group", groups, &group) ||
        get_size(req, id, out, "snippet_len", 1, SRV_MAX_SNIPPET,
                 &o.snippet_len) ||
        get_facets(req, id, out, &o.facets) ||
        get_size(req, id, out, "facet_limit", 0, SRV_MAX_K, &o.facet_limit) ||
        get_bool(req, id, out, "snippets", &o.snippets) ||
        get_bool(req, id, out, "exact_total", &o.exact_total) ||
        get_bool(req, id, out, "collapse_titles", &o.collapse_titles))
        return;
    if (o.from_days != NDX_DATE_NONE && o.to_days != NDX_DATE_NONE &&
        o.from_days > o.to_days) {
        reply_error(out, id, "invalid", "\"from\" is after \"to\"");
        return;
    }
    o.sources = o.source_count ? srcs : NULL;
    o.sort = (ndx_sort)sort;
    o.group = (ndx_group)group;
    ndx_error_clear();
    st = ndx_index_search(ix, q, &o, &res, NULL);
    if (st) {
        reply_status(s, out, id, st);
        return;
    }
    st = reply_ok(out, id);
    if (!st)
        st = render_results_json(out, res);
    reply_end(out, st);
    ndx_results_free(res);
}

static void
op_get(const server *s, ndx_index *ix, json_t *req, json_t *id, ndx_buf *out)
{
    const char *art = NULL;
    ndx_doc *d = NULL;
    ndx_status st;

    if (get_str(req, id, out, "article", &art))
        return;
    if (!art) {
        reply_error(out, id, "invalid",
                    "a get needs \"article\", the article id");
        return;
    }
    ndx_error_clear();
    st = ndx_index_get(ix, art, &d);
    if (st == NDX_ENOTFOUND) {
        reply_error(out, id, "not_found", "no article with id '%.200s'",
                    art);
        return;
    }
    if (st) {
        reply_status(s, out, id, st);
        return;
    }
    st = reply_ok(out, id);
    if (!st)
        st = render_doc_json(out, d);
    reply_end(out, st);
    ndx_doc_free(d);
}

static void
op_stats(const server *s, ndx_index *ix, json_t *id, ndx_buf *out)
{
    ndx_stats stats;
    ndx_status st;

    memset(&stats, 0, sizeof stats);
    ndx_error_clear();
    st = ndx_index_stats(ix, &stats);
    if (st) {
        reply_status(s, out, id, st);
        ndx_stats_clear(&stats);
        return;
    }
    st = reply_ok(out, id);
    if (!st)
        st = render_stats_json(out, &stats);
    reply_end(out, st);
    ndx_stats_clear(&stats);
}

void
srv_protocol_run(const server *s, ndx_index *ix, job *j)
{
    json_error_t jerr;
    json_t *req;

    if (j->http) {
        srv_http_run(s, ix, j);
        return;
    }
    req = json_loadb(j->line, j->line_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        reply_error(&j->out, NULL, "invalid",
                    "malformed JSON at column %d: %s", jerr.column,
                    jerr.text);
        return;
    }
    srv_protocol_request(s, ix, req, &j->out);
    json_decref(req);
}

const char *
srv_protocol_request(const server *s, ndx_index *ix, json_t *req,
                     ndx_buf *out)
{
    json_t *id = NULL, *op;
    const char *ops = NULL;

    last_code = NULL;
    if (!json_is_object(req)) {
        reply_error(out, NULL, "invalid",
                    "a request must be a JSON object");
        goto done;
    }
    id = json_object_get(req, "id");
    op = json_object_get(req, "op");
    if (op && !json_is_string(op)) {
        reply_error(out, id, "invalid", "\"op\" must be a string");
        goto done;
    }
    ops = op ? json_string_value(op)
             : (json_object_get(req, "q") ? "search" : NULL);
    if (!ops) {
        reply_error(out, id, "invalid",
                    "missing \"op\": search, get, stats or ping");
        goto done;
    }
    if (!strcmp(ops, "ping")) {
        ndx_status st = reply_ok(out, id);

        if (!st)
            st = ndx_buf_puts(out, "\"pong\":true");
        reply_end(out, st);
        goto done;
    }
    if (strcmp(ops, "search") && strcmp(ops, "get") && strcmp(ops, "stats")) {
        reply_error(out, id, "invalid",
                    "unknown op \"%.64s\": use search, get, stats or ping",
                    ops);
        goto done;
    }
    if (!strcmp(ops, "search"))
        op_search(s, ix, req, id, out);
    else if (!strcmp(ops, "get"))
        op_get(s, ix, req, id, out);
    else
        op_stats(s, ix, id, out);
done:
    return last_code;
}

void
srv_protocol_too_large(const server *s, job *j)
{
    reply_error(&j->out, NULL, "too_large",
                "request line longer than %zu bytes (--max-request); the "
                "line was skipped", s->o.max_request);
}

/* The "id" of a request refused unread, found without parsing the line:
 * the first "id" key in its first QUICK_ID_SCAN bytes, when its value is
 * a string, a number, true, false or null of at most QUICK_ID_MAX bytes;
 * else NULL (the answer then says "id":null).  An overloaded server must
 * not spend on each refused line what a search would cost it. */
#define QUICK_ID_SCAN 1024
#define QUICK_ID_MAX 256

static json_t *
quick_id(const char *line, size_t len)
{
    size_t n = len < QUICK_ID_SCAN ? len : QUICK_ID_SCAN, i, v, e;

    for (i = 1; i + 4 <= n; i++) {
        if (memcmp(line + i, "\"id\"", 4) != 0 ||
            (line[i - 1] != '{' && line[i - 1] != ',' &&
             line[i - 1] != ' ' && line[i - 1] != '\t'))
            continue;
        v = i + 4;
        while (v < n && (line[v] == ' ' || line[v] == '\t'))
            v++;
        if (v >= n || line[v] != ':')
            continue;
        v++;
        while (v < n && (line[v] == ' ' || line[v] == '\t'))
            v++;
        e = v;
        if (e < n && line[e] == '"') {
            for (e++; e < n && line[e] != '"'; e++)
                if (line[e] == '\\')
                    e++;
            e++;
        } else {
            while (e < n && strchr("-+.0123456789eEtruefalsn", line[e]))
                e++;
        }
        if (e > n || e == v || e - v > QUICK_ID_MAX)
            return NULL;
        return json_loadb(line + v, e - v, JSON_DECODE_ANY, NULL);
    }
    return NULL;
}

void
srv_protocol_overloaded(const server *s, job *j, const char *line,
                        size_t len)
{
    json_t *id = quick_id(line, len);

    reply_error(&j->out, id, "overloaded",
                "too many requests queued or running (--max-inflight "
                "%zu); retry shortly", s->o.max_inflight);
    json_decref(id);
}
