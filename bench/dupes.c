/*
 * dupes - counts the result pages of a query set that hold two hits of
 * the same source with the same title (a re-crawled copy shown twice):
 * the target for near-duplicate folding and same-title
 * collapsing, reported by bench/run for the native engine: before (an
 * index built with --keep-duplicates, searched with --no-collapse-titles),
 * folded only (the default index, --no-collapse-titles) and after (the
 * default index and search).
 *
 *   build/ndx-dupes INDEX QUERIES [-k K] [--no-collapse-titles]
 *
 * QUERIES is bench/run's query file (queries.bench.tsv: kind, newsdex
 * query with its source: and date: filters, ...; see ndx_bench.c).  Each
 * query is searched with k hits (10) grouped by article, as newsdex-search
 * shows them (same-title hits collapsed unless --no-collapse-titles);
 * hits without a title are not compared.  Prints one JSON object:
 * {"index", "k", "collapse_titles", "pages", "pages_with_same_title",
 * "examples"} (the labels of the first five such pages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newsdex/newsdex.h"

#define EXAMPLES 5

/* Whether two hits of the page share source and title. */
static int
same_title_pair(const ndx_results *r)
{
    size_t i, j;

    for (i = 0; i < r->count; i++)
        for (j = i + 1; j < r->count; j++)
            if (r->hits[i].title && r->hits[i].title[0] &&
                r->hits[j].title && r->hits[i].source && r->hits[j].source &&
                strcmp(r->hits[i].title, r->hits[j].title) == 0 &&
                strcmp(r->hits[i].source, r->hits[j].source) == 0)
                return 1;
    return 0;
}

static void
json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

int
main(int argc, char **argv)
{
    char line[8192], examples[EXAMPLES][512];
    unsigned long pages = 0, same = 0, k = 10, lineno = 0;
    int collapse = 1, a, bad = argc < 3;
    ndx_index *ix;
    ndx_search_opts o;
    FILE *f;
    size_t i;

    for (a = 3; a < argc && !bad; a++) {
        if (strcmp(argv[a], "-k") == 0 && a + 1 < argc)
            k = strtoul(argv[++a], NULL, 10);
        else if (strcmp(argv[a], "--no-collapse-titles") == 0)
            collapse = 0;
        else
            bad = 1;
    }
    if (bad) {
        fprintf(stderr, "usage: ndx-dupes INDEX QUERIES [-k K] "
                        "[--no-collapse-titles]\n");
        return 2;
    }
    if (k < 1 || k > 1000) {
        fprintf(stderr, "ndx-dupes: -k takes 1..1000\n");
        return 2;
    }
    if (!(f = fopen(argv[2], "r"))) {
        perror(argv[2]);
        return 1;
    }
    if (ndx_index_open(&ix, argv[1], NDX_OPEN_READ, NULL, NULL)) {
        fprintf(stderr, "ndx-dupes: %s\n", ndx_errmsg());
        return 1;
    }
    ndx_search_opts_init(&o);
    o.k = k;
    o.snippets = 0;
    o.collapse_titles = collapse;
    while (fgets(line, sizeof line, f)) {
        char *cells[8], *p = line, *nl = strchr(line, '\n');
        ndx_results *r = NULL;
        size_t n = 0;

        lineno++;
        if (nl)
            *nl = 0;
        while (n < 8) {
            cells[n++] = p;
            if (!(p = strchr(p, '\t')))
                break;
            *p++ = 0;
        }
        if (n < 7) {
            fprintf(stderr, "%s:%lu: expected bench/run's query line (kind, "
                            "query, ..., label)\n", argv[2], lineno);
            return 1;
        }
        if (ndx_index_search(ix, cells[1], &o, &r, NULL)) {
            fprintf(stderr, "ndx-dupes: %s:%lu: %s\n", argv[2], lineno,
                    ndx_errmsg());
            return 1;
        }
        pages++;
        if (same_title_pair(r)) {
            if (same < EXAMPLES)
                snprintf(examples[same], sizeof examples[same], "%s",
                         cells[6]);
            same++;
        }
        ndx_results_free(r);
    }
    fclose(f);
    ndx_index_close(ix);
    printf("{\"index\": ");
    json_str(argv[1]);
    printf(", \"k\": %lu, \"collapse_titles\": %s, \"pages\": %lu, "
           "\"pages_with_same_title\": %lu, \"examples\": [", k,
           collapse ? "true" : "false", pages, same);
    for (i = 0; i < same && i < EXAMPLES; i++) {
        if (i)
            printf(", ");
        json_str(examples[i]);
    }
    printf("]}\n");
    return 0;
}
