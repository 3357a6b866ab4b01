/*
 * fuzz_http.c - libFuzzer target for the server's HTTP request parser
 * (searcher/http.c, compiled in here as it is not part of libnewsdex):
 * any bytes are parsed as a request head with a small head limit; a
 * complete head must lie inside the input with its target inside it, and
 * its query string must decode without overflow; the same bytes cut
 * shorter must never parse as a longer head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../searcher/http.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data, *why = NULL;
    http_req r, cut;
    int status = 0, rc;
    ndx_buf name, val, out;

    rc = http_parse(buf, size, 2048, &r, &status, &why);
    if (rc == HTTP_BAD && (status < 400 || status > 505 || !why))
        abort();
    if (rc != HTTP_DONE)
        return 0;
    if (r.head_len > size || r.head_len > 2048 + 2 || !r.target ||
        r.target < buf || r.target + r.target_len > buf + r.head_len ||
        strlen(r.method) == 0 || r.minor < 0 || r.minor > 1)
        abort();
    if (r.head_len > 1 &&
        http_parse(buf, r.head_len - 1, 2048, &cut, &status, &why) ==
            HTTP_DONE)
        abort();
    ndx_buf_init(&name);
    ndx_buf_init(&val);
    ndx_buf_init(&out);
    {
        const char *q = memchr(r.target, '?', r.target_len);
        const char *end = r.target + r.target_len;

        if (q) {
            q++;
            while (http_query_next(&q, end, &name, &val) == 1)
                if (name.len > r.target_len || val.len > r.target_len)
                    abort();
        }
        if (http_unescape(r.target, r.target_len, 0, &out) == 0 &&
            out.len > r.target_len)
            abort();
    }
    if (http_head(&out, 200, "text/plain", 3, r.keep_alive, NULL) ||
        http_chunk(&out, "abc", 3) || http_chunk(&out, NULL, 0))
        abort();
    ndx_buf_free(&name);
    ndx_buf_free(&val);
    ndx_buf_free(&out);
    return 0;
}
