/*
 * probe_grid - known-item probes over a grid of BM25 parameters: opens an
 * index once and, for every (k1, b), searches each probe of a
 * bench/probes.py file (article id TAB the words, searched as typed, as
 * newsdex-search does) and counts the probes whose article comes first.
 *
 *   build/ndx-probe-grid INDEX PROBES.tsv [K1,K1,...] [B,B,...]
 *
 * Defaults: k1 0.6,0.9,1.2,1.5,2.0 and b 0.3,0.5,0.75,0.9.  Prints a
 * Markdown table: a row per k1, a column per b, each cell the top-1 count
 * out of the probes (the default k1 = 1.2, b = 0.75 marked with *).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newsdex/newsdex.h"

#define GRID_MAX 32

typedef struct probe {
    char *id, *q;
} probe;

static size_t
parse_list(const char *s, double *out)
{
    size_t n = 0;
    char *end;

    while (*s && n < GRID_MAX) {
        out[n++] = strtod(s, &end);
        if (end == s) {
            fprintf(stderr, "ndx-probe-grid: bad number list '%s'\n", s);
            exit(2);
        }
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static probe *
read_probes(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    probe *p = NULL;
    size_t n = 0, cap = 0;
    long lineno = 0;

    if (!f) {
        perror(path);
        exit(1);
    }
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');

        lineno++;
        if (nl)
            *nl = 0;
        if (!line[0])
            continue;
        if (!tab) {
            fprintf(stderr, "%s:%ld: expected 'article-id<TAB>words' (make "
                            "the file with bench/probes.py build)\n",
                    path, lineno);
            exit(1);
        }
        *tab = 0;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            if (!(p = realloc(p, cap * sizeof *p))) {
                perror("realloc");
                exit(1);
            }
        }
        if (!(p[n].id = strdup(line)) || !(p[n].q = strdup(tab + 1))) {
            perror("strdup");
            exit(1);
        }
        n++;
    }
    fclose(f);
    *count = n;
    return p;
}

int
main(int argc, char **argv)
{
    double k1s[GRID_MAX] = {0.6, 0.9, 1.2, 1.5, 2.0};
    double bs[GRID_MAX] = {0.3, 0.5, 0.75, 0.9};
    size_t nk = 5, nb = 4, np, i, j, k;
    probe *p;
    ndx_index *ix;

    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: ndx-probe-grid INDEX PROBES.tsv "
                        "[K1,K1,...] [B,B,...]\n");
        return 2;
    }
    if (argc > 3)
        nk = parse_list(argv[3], k1s);
    if (argc > 4)
        nb = parse_list(argv[4], bs);
    p = read_probes(argv[2], &np);
    if (ndx_index_open(&ix, argv[1], NDX_OPEN_READ, NULL, NULL)) {
        fprintf(stderr, "ndx-probe-grid: %s\n", ndx_errmsg());
        return 1;
    }
    printf("top-1 of %zu probes (%s, %s engine)\n\n| k1 \\ b |", np,
           argv[2], ndx_index_engine(ix));
    for (j = 0; j < nb; j++)
        printf(" %g |", bs[j]);
    printf("\n| --- |");
    for (j = 0; j < nb; j++)
        printf(" ---: |");
    printf("\n");
    for (i = 0; i < nk; i++) {
        printf("| %g |", k1s[i]);
        for (j = 0; j < nb; j++) {
            ndx_search_opts o;
            size_t top1 = 0;

            ndx_search_opts_init(&o);
            o.k = 1;
            o.snippets = 0;
            o.bm25.k1 = k1s[i];
            o.bm25.b = bs[j];
            for (k = 0; k < np; k++) {
                ndx_results *r = NULL;

                if (ndx_index_search(ix, p[k].q, &o, &r, NULL)) {
                    fprintf(stderr, "ndx-probe-grid: '%s': %s\n", p[k].q,
                            ndx_errmsg());
                    return 1;
                }
                if (r->count && strcmp(r->hits[0].article, p[k].id) == 0)
                    top1++;
                ndx_results_free(r);
            }
            printf(" %zu%s |", top1,
                   k1s[i] == 1.2 && bs[j] == 0.75 ? "*" : "");
            fflush(stdout);
        }
        printf("\n");
    }
    ndx_index_close(ix);
    for (k = 0; k < np; k++) {
        free(p[k].id);
        free(p[k].q);
    }
    free(p);
    return 0;
}
