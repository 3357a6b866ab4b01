/*
 * fuzz_text.c - libFuzzer target for the plain text reader and the text
 * helpers behind it.  The input is one article file; when it holds the
 * bytes "\n\n\n\n", what comes before them is written as the directory's
 * manifest.tsv and what follows as the article.  The article is read
 * (reader, manifest, header lines, inline date, guesses), split into
 * passages with and without furniture dropping, and every line is judged
 * by the furniture rules; the whole input also goes through the date
 * parser, the date finder and the source key.  Nothing may crash, leak or
 * break the promises of the API.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../files.h"
#include "newsdex/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *dir;
static char art_path[300];
static char man_path[300];

/* Writes an input's part to a file of the scratch directory. */
static void
write_file(const char *path, const uint8_t *data, size_t size)
{
    if (t_write(path, data, size))
        abort();
}

static void
check_passages(const char *text, size_t len, int drop)
{
    ndx_passages p = {NULL, 0, 0};
    ndx_split_opts o;
    size_t i, prev = 0;

    ndx_split_opts_init(&o);
    o.drop_furniture = drop;
    if (ndx_passages_split(&p, text, len, "Fuzz Source", &o) != NDX_OK)
        abort();
    for (i = 0; i < p.count; i++) {
        const char *s = text + p.items[i].off;
        size_t n = p.items[i].len, j, ls;
        if (n == 0 || p.items[i].off < prev
            || (size_t)p.items[i].off + n > len)
            abort();
        prev = p.items[i].off + n;
        /* No furniture line inside a passage (whole lines only: the
         * first and last may be parts of a split paragraph). */
        for (j = 0, ls = 0; drop && j < n; j++) {
            if (s[j] == '\n') {
                if (ls > 0 && j > ls && ndx_clean_is_furniture(s + ls, j - ls))
                    abort();
                ls = j + 1;
            }
        }
    }
    ndx_passages_clear(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *paths[1];
    const uint8_t *art = data;
    size_t art_size = size, i;
    ndx_reader *r = NULL;
    const ndx_article *a;
    int32_t d, t, d2;
    char key[32];

    if (!dir) {
        if (!(dir = t_scratch_root("fuzztext")))
            abort();
        snprintf(art_path, sizeof art_path, "%s/article.txt", dir);
        snprintf(man_path, sizeof man_path, "%s/manifest.tsv", dir);
    }
    unlink(man_path);
    for (i = 0; i + 4 <= size; i++) {
        if (memcmp(data + i, "\n\n\n\n", 4) == 0) {
            write_file(man_path, data, i);
            art = data + i + 4;
            art_size = size - i - 4;
            break;
        }
    }
    write_file(art_path, art, art_size);

    paths[0] = dir;
    if (ndx_reader_open(&r, paths, 1, 0, NULL, NULL) != NDX_OK)
        abort();
    while (ndx_reader_next(r, &a) == NDX_OK && a) {
        if (strlen(a->text) != a->text_len || !a->id[0] || !a->source[0])
            abort();
        check_passages(a->text, a->text_len, 1);
        check_passages(a->text, a->text_len, 0);
    }
    ndx_reader_close(r);

    /* The helpers on the raw bytes. */
    ndx_date_parse((const char *)data, size, &d, &t);
    ndx_date_parse_range((const char *)data, size, &d, &d2);
    ndx_date_find((const char *)data, size, &d);
    if (memchr(data, 0, size) == NULL) {
        char *s = malloc(size + 1);
        if (!s)
            return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        if (ndx_source_key(s, key, sizeof key) >= sizeof key)
            abort();
        free(s);
    }
    return 0;
}
