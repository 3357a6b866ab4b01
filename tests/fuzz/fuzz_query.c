/*
 * fuzz_query.c - libFuzzer target for the query parser: any bytes are
 * parsed as a query with an English analyzer, described, then freed.  A
 * parse may fail with a syntax error but must never crash, leak or read
 * out of bounds; a successful parse must describe without overflow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "newsdex/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ndx_analyzer *an;
    ndx_query *q = NULL;
    ndx_status rc;
    size_t col = 0, need, got;
    char small[16], *text, *big;

    if (!an && ndx_analyzer_new(&an, "english") != NDX_OK)
        abort();
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    rc = ndx_query_parse(&q, text, an, &col);
    if (rc == NDX_ESYNTAX && (col < 1 || col > size + 1))
        abort();
    if (rc == NDX_OK) {
        if (!q || !q->root)
            abort();
        need = ndx_query_describe(q, small, sizeof small);
        if (strlen(small) != (need < sizeof small ? need
                                                  : sizeof small - 1))
            abort();
        big = malloc(need + 1);
        if (big) {
            got = ndx_query_describe(q, big, need + 1);
            if (got != need || strlen(big) != need)
                abort();
            free(big);
        }
        ndx_query_free(q);
    } else if (q) {
        abort();
    }
    free(text);
    return 0;
}
