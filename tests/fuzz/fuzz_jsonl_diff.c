/*
 * fuzz_jsonl_diff.c - differential libFuzzer target: the JSON Lines
 * reader's fast scanner (core/ingest/reader_jsonl.c) against jansson on
 * the same line.  Each line of the input that is valid UTF-8 (what the
 * reader gives the scanner, after its repair) goes to both; whenever the
 * scanner says it read the line, jansson must read it too, as an object,
 * and agree on every key the reader uses: absent, null, true/false, or a
 * string of the same bytes.  A disagreement aborts with both readings.
 * Lines the scanner declines are jansson's alone, as in the reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest/reader.h"
#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether s[0..n) is valid UTF-8 by the library's validator (a NUL is a
 * valid byte here: jansson is called with JSON_ALLOW_NUL). */
static int
valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, k;

    for (; i < n; i += k)
        if (!(k = ndx_utf8_len(s + i, n - i)))
            return 0;
    return 1;
}

static void
disagree(const char *line, size_t len, const char *key, const char *why)
{
    fprintf(stderr, "scanner and jansson disagree on key \"%s\": %s\n"
                    "line (%zu bytes): %.*s\n",
            key, why, len, (int)(len > 2000 ? 2000 : len), line);
    abort();
}

static void
compare_line(ndx_buf *jdec, const char *line, size_t len)
{
    ndx_jsonl_value v[NDX_JSONL_KEYS];
    json_error_t e;
    json_t *root;
    int i;

    if (!valid_utf8((const unsigned char *)line, len))
        return;
    if (ndx_jsonl_scan(jdec, line, len, v) != 1)
        return;
    /* The reader calls jansson with these flags. */
    root = json_loadb(line, len, JSON_ALLOW_NUL, &e);
    if (!root)
        disagree(line, len, "(line)", e.text);
    if (!json_is_object(root))
        disagree(line, len, "(line)", "jansson reads no object");
    for (i = 0; i < NDX_JSONL_KEYS; i++) {
        json_t *j = json_object_get(root, v[i].key);

        switch (v[i].kind) {
        case 0:
            if (j)
                disagree(line, len, v[i].key, "absent for the scanner");
            break;
        case 'n':
            if (!json_is_null(j))
                disagree(line, len, v[i].key, "null for the scanner");
            break;
        case 'b':
            if (!json_is_boolean(j))
                disagree(line, len, v[i].key, "a boolean for the scanner");
            break;
        case 's':
            if (!json_is_string(j) || json_string_length(j) != v[i].len ||
                memcmp(json_string_value(j), v[i].s, v[i].len) != 0)
                disagree(line, len, v[i].key, "another string");
            break;
        default:
            disagree(line, len, v[i].key, "unknown kind");
        }
    }
    json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    ndx_buf jdec;

    ndx_buf_init(&jdec);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

        compare_line(&jdec, p, len);
        p += len + (nl ? 1 : 0);
    }
    ndx_buf_free(&jdec);
    return 0;
}
