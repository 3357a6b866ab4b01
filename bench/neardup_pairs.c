/*
 * neardup_pairs - lists the pairs of articles whose MinHash sketches
 * (core/ingest/neardup.c) estimate a similarity of at least 0.4, to choose
 * the threshold at which articles are folded or clustered
 * (docs/neardup.md; bench/neardup_measure.py reads this output).
 *
 *   build/ndx-neardup-pairs CORPUS... > pairs.tsv
 *
 * Output: one line a pair, tab-separated: estimated similarity, 1 if
 * same source, 1 if same title, words of each, id of each, days apart
 * (-1 when one is undated).  Articles shorter than
 * NDX_ND_MIN_WORDS are left out, as the indexer leaves them out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newsdex/newsdex.h"
#include "util/buf.h"

typedef struct art {
    unsigned char sketch[NDX_ND_HASHES];
    uint32_t words;
    int32_t days;
    char *id, *source, *title;
} art;

int
main(int argc, char **argv)
{
    ndx_reader *r;
    const ndx_article *a;
    art *arts = NULL;
    size_t n = 0, cap = 0, i, j;

    if (argc < 2) {
        fprintf(stderr, "usage: ndx-neardup-pairs CORPUS...\n");
        return 2;
    }
    if (ndx_reader_open(&r, (const char *const *)argv + 1, (size_t)argc - 1,
                        0, NULL, NULL)) {
        fprintf(stderr, "ndx-neardup-pairs: %s\n", ndx_errmsg());
        return 1;
    }
    while (ndx_reader_next(r, &a) == NDX_OK && a) {
        uint32_t w;

        if (ndx_grow((void **)&arts, &cap, n + 1, sizeof *arts, 4096)) {
            fprintf(stderr, "ndx-neardup-pairs: out of memory\n");
            return 1;
        }
        w = ndx_neardup_sketch(a->text, a->text_len, arts[n].sketch);
        if (w < NDX_ND_MIN_WORDS)
            continue;
        arts[n].words = w;
        arts[n].days = a->date_days;
        arts[n].id = strdup(a->id);
        arts[n].source = strdup(a->source);
        arts[n].title = strdup(a->title);
        n++;
    }
    ndx_reader_close(r);
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) {
            double d = ndx_neardup_similarity(arts[i].sketch, arts[j].sketch);
            if (d < 0.4)
                continue;
            long apart = arts[i].days == NDX_DATE_NONE
                                 || arts[j].days == NDX_DATE_NONE
                             ? -1
                             : labs((long)arts[i].days - arts[j].days);
            printf("%.2f\t%d\t%d\t%u\t%u\t%s\t%s\t%ld\n", d,
                   strcmp(arts[i].source, arts[j].source) == 0,
                   strcmp(arts[i].title, arts[j].title) == 0, arts[i].words,
                   arts[j].words, arts[i].id, arts[j].id, apart);
        }
    return 0;
}
