/*
 * fuzz_jsonl.c - libFuzzer target for the JSON Lines reader: the input is
 * written as a .jsonl file (read through zlib, so gzip input is inflated)
 * and read with the corpus reader in normal and strict mode; every article
 * is split into passages and its source keyed.  Whatever the bytes, the
 * reader must not crash, leak or read out of bounds, and what it yields
 * must keep its promises: valid UTF-8 text without NUL, passages inside
 * the text, in order, trimmed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../files.h"
#include "newsdex/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[300];

static int
valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return 0;
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 4;
        else
            return 0;
        if (i + k > n)
            return 0;
        if (c == 0xE0 && s[i + 1] < 0xA0)
            return 0;
        if (c == 0xED && s[i + 1] > 0x9F)
            return 0;
        if (c == 0xF0 && s[i + 1] < 0x90)
            return 0;
        if (c == 0xF4 && s[i + 1] > 0x8F)
            return 0;
        while (--k)
            if ((s[++i] & 0xC0) != 0x80)
                return 0;
        i++;
    }
    return 1;
}

static void
check_article(const ndx_article *a)
{
    ndx_passages p = {NULL, 0, 0};
    char key[64];
    size_t i, prev = 0;

    if (!a->id || !a->source || !a->title || !a->url || !a->lang || !a->text)
        abort();
    if (strlen(a->text) != a->text_len)
        abort();
    if (!valid_utf8((const unsigned char *)a->text, a->text_len))
        abort();
    ndx_source_key(a->source, key, sizeof key);
    if (ndx_passages_split(&p, a->text, a->text_len, a->source, NULL))
        abort();
    for (i = 0; i < p.count; i++) {
        const char *s = a->text + p.items[i].off;
        size_t n = p.items[i].len;
        if (n == 0 || p.items[i].off < prev
            || (size_t)p.items[i].off + n > a->text_len)
            abort();
        if (s[0] == ' ' || s[0] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\n')
            abort();
        prev = p.items[i].off + n;
    }
    ndx_passages_clear(&p);
}

static void
read_file(unsigned flags)
{
    const char *paths[1] = {path};
    ndx_reader *r = NULL;
    const ndx_article *a;
    uint64_t n = 0;

    if (ndx_reader_open(&r, paths, 1, flags, NULL, NULL) != NDX_OK)
        abort();
    while (ndx_reader_next(r, &a) == NDX_OK && a) {
        check_article(a);
        n++;
    }
    if (ndx_reader_stats(r)->articles != n)
        abort();
    ndx_reader_close(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        const char *dir = t_scratch_root("fuzzjsonl");

        if (!dir)
            abort();
        snprintf(path, sizeof path, "%s/input.jsonl", dir);
    }
    if (t_write(path, data, size))
        abort();
    read_file(0);
    read_file(NDX_INGEST_STRICT);
    return 0;
}
