/*
 * suggest.c - newsdex-index --suggest-variants INDEX: reads every stored
 * passage of an index twice (libnewsdex's suggester counts names, then
 * their neighbours) and prints the candidate pairs of name variants, most
 * alike first, with their evidence, for a person to review.  Nothing is
 * applied: the report ends by saying how to add a pair (--variants FILE).
 */
#include <stdio.h>
#include <stdlib.h>

#include "suggest.h"
#include "newsdex/newsdex.h"

static int
feed(void *ctx, const char *article_id, const char *text, size_t len)
{
    (void)article_id;
    return ndx_suggester_text(ctx, text, len);
}

/* n with thousands separators, into buf. */
static const char *
thousands(char *buf, size_t cap, uint64_t n)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n), i;
    size_t o = 0;

    for (i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

static void
print_pair(size_t rank, const ndx_variant_suggestion *v)
{
    char ca[32], cb[32];

    printf("%4zu. %s ~ %s  similarity %.2f  edits %u  written %s / %s "
           "(lower case %llu / %llu)\n"
           "      %zu shared neighbours: %s\n",
           rank, v->a, v->b, v->similarity, v->edits,
           thousands(ca, sizeof ca, v->a_count),
           thousands(cb, sizeof cb, v->b_count),
           (unsigned long long)v->a_lower, (unsigned long long)v->b_lower,
           v->shared_count, v->shared);
}

int
suggest_variants(const char *path, unsigned min_count, size_t limit)
{
    ndx_index *ix = NULL;
    ndx_suggester *s = NULL;
    const ndx_variant_suggestion *v;
    const ndx_variant_suggestion *first = NULL;
    size_t count, i, shown = 0, known = 0;
    uint64_t names, pairs;
    int more, rc = 1;

    if (ndx_index_open(&ix, path, NDX_OPEN_READ, NULL, NULL) ||
        ndx_suggester_new(&s, min_count))
        goto fail;
    do {
        int st = ndx_index_each_passage(ix, feed, s);

        if (st)
            goto fail;
        if ((more = ndx_suggester_end_pass(s)) < 0)
            goto fail;
    } while (more);
    v = ndx_suggester_results(s, &count, &names, &pairs);
    printf("Candidate name variants in %s (suggestions only: nothing is "
           "applied)\n"
           "%llu names (capitalised at least %u times, mostly so), %llu "
           "pairs of close spellings compared, %zu alike in their "
           "neighbours\n\n",
           path, (unsigned long long)names, min_count ? min_count : 1,
           (unsigned long long)pairs, count);
    for (i = 0; i < count; i++) {
        if (v[i].known) {
            known++;
            continue;
        }
        if (!first)
            first = &v[i];
        if (shown < limit)
            print_pair(++shown, &v[i]);
    }
    if (!shown)
        printf("No new candidate pairs.\n");
    if (known) {
        size_t k = 0;

        printf("\nAlready variants of one name (found again, not "
               "suggested): ");
        for (i = 0; i < count; i++)
            if (v[i].known)
                printf("%s%s ~ %s (%.2f)", k++ ? ", " : "", v[i].a, v[i].b,
                       v[i].similarity);
        printf("\n");
    }
    printf("\nTo add a pair after review, write its spellings on one line "
           "of a file,\noptionally followed by a TAB and the reason:\n\n"
           "    %s %s\tsame name, two spellings\n\n"
           "and give the file to newsdex-index --variants FILE (kept in the "
           "index for\nits searches) or to newsdex-search --variants FILE "
           "(for one search).\n",
           first ? first->a : "Kyiv", first ? first->b : "Kiev");
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "newsdex-index: --suggest-variants %s: %s\n", path,
                ndx_errmsg());
    ndx_suggester_free(s);
    if (ix)
        ndx_index_close(ix);
    return rc;
}
