/*
 * test_parity.c - the native and the Xapian engine answer alike: the same
 * corpus indexed by both, then hundreds of queries of every kind (words,
 * AND, OR, NOT, phrases, prefixes, title:, source and date filters, sorted
 * by relevance and by date, grouped by article and by passage) must give
 * the same top-10 articles and passages in the same order, the same match
 * counts, and scores equal to 1e-6 relative (DESIGN section 6: both use
 * Xapian 1.4's BM25Weight; docs/ranking.md).
 *
 * Queries are generated deterministically from the corpus text (a fixed
 * linear congruential sequence picks passages and words) and, when the
 * shared corpora are present, also taken from reuters21578-queries.tsv
 * over the Reuters sample; without them only corpus/ is compared (noted).
 * The Reuters sample is compared a second time built in several --add
 * steps with replacements and deletions, and the allsides sample (in date
 * order) a second time with its articles out of date order, where date
 * ranges seek through the articles sorted by date.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <zlib.h>

#include "newsdex/newsdex.h"
#include "newsdex/sys/engine.h"
#include "support.h"

#define TOP 10

typedef struct corpus_words {
    /* every passage as its folded tokens, space-separated */
    char **passages;
    size_t passage_count, passage_cap;
    char **titles;     /* folded title tokens of each article, or "" */
    char **sources;    /* source display names per article */
    int32_t *dates;    /* per article */
    size_t article_count, article_cap;
    size_t *article_of; /* per passage */
} corpus_words;

typedef struct query {
    char *text;
    const char *source;  /* option filter, or NULL */
    int32_t from_days, to_days;
} query;

typedef struct qlist {
    query *q;
    size_t n, cap;
} qlist;

static uint64_t lcg_state;

static uint32_t
lcg(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(lcg_state >> 33);
}

static void
qadd(qlist *l, const char *text, const char *source, int32_t from,
     int32_t to)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->q = realloc(l->q, l->cap * sizeof *l->q);
    }
    l->q[l->n].text = strdup(text);
    l->q[l->n].source = source;
    l->q[l->n].from_days = from;
    l->q[l->n].to_days = to;
    l->n++;
}

static void
qfree(qlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->q[i].text);
    free(l->q);
    memset(l, 0, sizeof *l);
}

/* ---- reading the corpus into words ---------------------------------- */

typedef struct tokbuf {
    char *s;
    size_t len, cap;
} tokbuf;

static int
collect_token(void *ctx, const ndx_token *tok)
{
    tokbuf *b = ctx;

    if (b->len + tok->text_len + 2 > b->cap) {
        b->cap = (b->len + tok->text_len + 2) * 2;
        b->s = realloc(b->s, b->cap);
    }
    if (b->len)
        b->s[b->len++] = ' ';
    memcpy(b->s + b->len, tok->text, tok->text_len);
    b->len += tok->text_len;
    b->s[b->len] = '\0';
    return 0;
}

static char *
fold_words(ndx_analyzer *an, const char *text, size_t len)
{
    tokbuf b = {NULL, 0, 0};

    ndx_analyze(an, text, len, 0, collect_token, &b, NULL);
    return b.s ? b.s : strdup("");
}

/* Keeps an article's folded title, source and date and its passages'
 * folded words (t_each_article's callback). */
static int
keep_words(void *ctx, ndx_analyzer *an, const ndx_article *a,
           const ndx_passages *ps)
{
    corpus_words *cw = ctx;
    size_t i;

    if (ps->count == 0)
        return 0;
    if (cw->article_count == cw->article_cap) {
        cw->article_cap = cw->article_cap ? 2 * cw->article_cap : 64;
        cw->titles = realloc(cw->titles,
                             cw->article_cap * sizeof *cw->titles);
        cw->sources = realloc(cw->sources,
                              cw->article_cap * sizeof *cw->sources);
        cw->dates = realloc(cw->dates, cw->article_cap * sizeof *cw->dates);
    }
    cw->titles[cw->article_count] = fold_words(an, a->title, strlen(a->title));
    cw->sources[cw->article_count] = strdup(a->source);
    cw->dates[cw->article_count] = a->date_days;
    for (i = 0; i < ps->count; i++) {
        if (cw->passage_count == cw->passage_cap) {
            cw->passage_cap = cw->passage_cap ? 2 * cw->passage_cap : 256;
            cw->passages = realloc(cw->passages, cw->passage_cap *
                                                     sizeof *cw->passages);
            cw->article_of = realloc(cw->article_of,
                                     cw->passage_cap *
                                         sizeof *cw->article_of);
        }
        cw->passages[cw->passage_count] =
            fold_words(an, a->text + ps->items[i].off, ps->items[i].len);
        cw->article_of[cw->passage_count] = cw->article_count;
        cw->passage_count++;
    }
    cw->article_count++;
    return 0;
}

static int
read_words(const char *path, corpus_words *cw)
{
    const char *paths[1];

    memset(cw, 0, sizeof *cw);
    paths[0] = path;
    return t_each_article(paths, 1, keep_words, cw);
}

static void
free_words(corpus_words *cw)
{
    size_t i;

    for (i = 0; i < cw->passage_count; i++)
        free(cw->passages[i]);
    for (i = 0; i < cw->article_count; i++) {
        free(cw->titles[i]);
        free(cw->sources[i]);
    }
    free(cw->passages);
    free(cw->article_of);
    free(cw->titles);
    free(cw->sources);
    free(cw->dates);
}

/* The n-th word of a space-separated list into out; 0 when absent. */
static int
nth_word(const char *s, size_t n, char *out, size_t cap)
{
    const char *p = s, *e;

    while (n--) {
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    e = strchr(p, ' ');
    if (!e)
        e = p + strlen(p);
    if (e == p || (size_t)(e - p) >= cap)
        return 0;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 1;
}

static size_t
word_count(const char *s)
{
    size_t n = *s ? 1 : 0;

    for (; *s; s++)
        n += *s == ' ';
    return n;
}

/* A word fit to stand alone in a query: letters only (so no digit group
 * or apostrophe form), at least 3 bytes, and not an operator. */
static int
plain_word(const char *w)
{
    const char *p;

    if (strlen(w) < 3 || strcmp(w, "and") == 0 || strcmp(w, "not") == 0)
        return 0;
    for (p = w; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (unsigned char)*p >= 0x80))
            return 0;
    return 1;
}

/* A random plain word of a random passage; the passage index in *pi. */
static int
pick_word(const corpus_words *cw, char *out, size_t cap, size_t *pi)
{
    int tries;

    for (tries = 0; tries < 50; tries++) {
        size_t p = lcg() % cw->passage_count;
        size_t n = word_count(cw->passages[p]);
        if (n == 0)
            continue;
        if (nth_word(cw->passages[p], lcg() % n, out, cap) &&
            plain_word(out)) {
            if (pi)
                *pi = p;
            return 1;
        }
    }
    return 0;
}

/* Generates about 40 * scale queries of every kind from the corpus. */
static void
generate(const corpus_words *cw, uint64_t seed, size_t scale, qlist *l)
{
    char a[80], b[80], c[80], q[400];
    size_t i, p, n, k;

    lcg_state = seed;
    for (i = 0; i < 6 * scale; i++) /* words */
        if (pick_word(cw, a, sizeof a, NULL))
            qadd(l, a, NULL, NDX_DATE_NONE, NDX_DATE_NONE);
    for (i = 0; i < 5 * scale; i++) { /* AND of two words of one passage */
        if (!pick_word(cw, a, sizeof a, &p))
            continue;
        n = word_count(cw->passages[p]);
        if (nth_word(cw->passages[p], lcg() % n, b, sizeof b) &&
            plain_word(b)) {
            snprintf(q, sizeof q, "%s %s", a, b);
            qadd(l, q, NULL, NDX_DATE_NONE, NDX_DATE_NONE);
        }
    }
    for (i = 0; i < 5 * scale; i++) /* OR */
        if (pick_word(cw, a, sizeof a, NULL) &&
            pick_word(cw, b, sizeof b, NULL)) {
            snprintf(q, sizeof q, "%s OR %s", a, b);
            qadd(l, q, NULL, NDX_DATE_NONE, NDX_DATE_NONE);
        }
    for (i = 0; i < 4 * scale; i++) /* NOT */
        if (pick_word(cw, a, sizeof a, NULL) &&
            pick_word(cw, b, sizeof b, NULL) && strcmp(a, b) != 0) {
            snprintf(q, sizeof q, "%s -%s", a, b);
            qadd(l, q, NULL, NDX_DATE_NONE, NDX_DATE_NONE);
        }
    for (i = 0; i < 6 * scale; i++) { /* phrases of 2 or 3 words in a row */
        p = lcg() % cw->passage_count;
        n = word_count(cw->passages[p]);
        k = 2 + lcg() % 2;
        if (n < k + 1)
            continue;
        size_t at = lcg() % (n - k);
        if (!nth_word(cw->passages[p], at, a, sizeof a) ||
            !nth_word(cw->passages[p], at + 1, b, sizeof b))
            continue;
        if (k == 3 && nth_word(cw->passages[p], at + 2, c, sizeof c))
            snprintf(q, sizeof q, "\"%s %s %s\"", a, b, c);
        else
            snprintf(q, sizeof q, "\"%s %s\"", a, b);
        qadd(l, q, NULL, NDX_DATE_NONE, NDX_DATE_NONE);
    }
    for (i = 0; i < 4 * scale; i++) /* prefixes of 3 to 5 letters */
        if (pick_word(cw, a, sizeof a, NULL) && strlen(a) >= 4 &&
            (unsigned char)a[0] < 0x80) {
            size_t cut = 3 + lcg() % 3;
            if (cut >= strlen(a))
                cut = strlen(a) - 1;
            a[cut] = '\0';
            snprintf(q, sizeof q, "%s*", a);
            qadd(l, q, NULL, NDX_DATE_NONE, NDX_DATE_NONE);
        }
    for (i = 0; i < 4 * scale; i++) { /* title: */
        size_t art = lcg() % cw->article_count;
        n = word_count(cw->titles[art]);
        if (n && nth_word(cw->titles[art], lcg() % n, a, sizeof a) &&
            plain_word(a)) {
            snprintf(q, sizeof q, "title:%s", a);
            qadd(l, q, NULL, NDX_DATE_NONE, NDX_DATE_NONE);
        }
    }
    for (i = 0; i < 6 * scale; i++) { /* source and date filters */
        if (!pick_word(cw, a, sizeof a, &p))
            continue;
        size_t art = cw->article_of[p];
        if (i % 3 == 0) {
            snprintf(q, sizeof q, "%s source:\"%s\"", a, cw->sources[art]);
        } else if (cw->dates[art] != NDX_DATE_NONE) {
            int y, m, d;
            ndx_date_to_ymd(cw->dates[art], &y, &m, &d);
            if (i % 3 == 1)
                snprintf(q, sizeof q, "%s date:%04d-%02d", a, y, m);
            else
                snprintf(q, sizeof q, "%s after:%04d-%02d-%02d", a, y, m, d);
        } else {
            continue;
        }
        qadd(l, q, NULL, NDX_DATE_NONE, NDX_DATE_NONE);
    }
}

/* Lines of a <name>-queries.tsv: kind, query, source, date_from, date_to. */
static void
read_tsv(const char *path, qlist *l, char ***keep, size_t *keep_n)
{
    char *data = t_slurp(path, NULL), *line, *save = NULL;
    char q[600];

    if (!data)
        return;
    for (line = strtok_r(data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[5] = {NULL}, *p = line;
        int nf = 0;
        while (nf < 5) {
            f[nf++] = p;
            p = strchr(p, '\t');
            if (!p)
                break;
            *p++ = '\0';
        }
        if (nf < 2 || strcmp(f[0], "kind") == 0)
            continue;
        if (strcmp(f[0], "phrase") == 0) {
            snprintf(q, sizeof q, "\"%s\"", f[1]);
        } else if (strcmp(f[0], "or") == 0) {
            size_t o = 0;
            char *w, *ws = NULL;
            q[0] = '\0';
            for (w = strtok_r(f[1], " ", &ws); w && o < sizeof q - 80;
                 w = strtok_r(NULL, " ", &ws))
                o += (size_t)snprintf(q + o, sizeof q - o, "%s%s",
                                      o ? " OR " : "", w);
        } else {
            snprintf(q, sizeof q, "%s", f[1]);
        }
        {
            int32_t from = NDX_DATE_NONE, to = NDX_DATE_NONE, x;
            const char *src = NULL;
            if (nf > 2 && f[2][0]) {
                *keep = realloc(*keep, (*keep_n + 1) * sizeof **keep);
                (*keep)[(*keep_n)++] = strdup(f[2]);
                src = (*keep)[*keep_n - 1];
            }
            if (nf > 3 && f[3][0])
                ndx_date_parse_range(f[3], strlen(f[3]), &from, &x);
            if (nf > 4 && f[4][0])
                ndx_date_parse_range(f[4], strlen(f[4]), &x, &to);
            qadd(l, q, src, from, to);
        }
    }
    free(data);
}

/* ---- indexing and comparing --------------------------------------------- */

static ndx_status
index_with(const char *engine, const char *dir, const char *path)
{
    const char *paths[1];

    paths[0] = path;
    return t_index_paths(dir, engine, NULL, 0, paths, 1);
}

/* The articles of path, copied (ndx_reader lends each until the next). */
static size_t
read_articles(const char *path, ndx_article **out)
{
    const char *paths[1];
    ndx_reader *r = NULL;
    const ndx_article *a;
    ndx_article *v = NULL;
    size_t n = 0, cap = 0;

    paths[0] = path;
    *out = NULL;
    if (ndx_reader_open(&r, paths, 1, 0, NULL, NULL))
        return 0;
    while (ndx_reader_next(r, &a) == NDX_OK && a) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            v = realloc(v, cap * sizeof *v);
        }
        v[n] = *a;
        v[n].id = strdup(a->id);
        v[n].source = strdup(a->source);
        v[n].title = strdup(a->title);
        v[n].url = strdup(a->url);
        v[n].lang = strdup(a->lang ? a->lang : "");
        v[n].text = strdup(a->text);
        v[n].file = NULL;
        n++;
    }
    ndx_reader_close(r);
    *out = v;
    return n;
}

#define STEPS 6

/*
 * Builds dir with engine from path in STEPS commits: each adds the next
 * slice of the articles, replaces (adds again, unchanged) every tenth
 * article of the slice before and deletes every seventh of it, and
 * deletes an id the index never held.  Both engines get the same steps,
 * so they must end with the same articles in the same order.
 */
static ndx_status
index_in_steps(const char *engine, const char *dir, const char *path)
{
    ndx_article *v = NULL;
    size_t n = read_articles(path, &v), s, i;
    ndx_status st = n ? NDX_OK : NDX_ENOTFOUND;

    for (s = 0; s < STEPS && !st; s++) {
        size_t lo = n * s / STEPS, hi = n * (s + 1) / STEPS;
        size_t plo = s ? n * (s - 1) / STEPS : lo;
        ndx_index *ix = NULL;

        if ((st = ndx_index_open(&ix, dir, NDX_OPEN_WRITE |
                                 (s ? NDX_OPEN_ADD : 0), engine, NULL)))
            break;
        for (i = lo; i < hi && !st; i++)
            st = ndx_index_add(ix, &v[i], NULL);
        for (i = plo; s && i < lo && !st; i++)
            if (i % 10 == 5)
                st = ndx_index_add(ix, &v[i], NULL);
        for (i = plo; s && i < lo && !st; i++) {
            if (i % 7 != 3)
                continue;
            st = ndx_index_delete(ix, v[i].id);
            if (st == NDX_ENOTFOUND) /* an article without text */
                st = NDX_OK;
        }
        if (!st && ndx_index_delete(ix, "no-such-article") != NDX_ENOTFOUND)
            st = ndx_error(NDX_EINVAL, "deleting an unknown id succeeded");
        if (!st)
            st = ndx_index_commit(ix);
        ndx_index_close(ix);
    }
    for (i = 0; i < n; i++) {
        free(v[i].id);
        free(v[i].source);
        free(v[i].title);
        free(v[i].url);
        free(v[i].lang);
        free(v[i].text);
    }
    free(v);
    return st;
}

static int
close_enough(double x, double y, double rel)
{
    double m = fabs(x) > fabs(y) ? fabs(x) : fabs(y);

    return fabs(x - y) <= rel * (m > 1e-300 ? m : 1);
}

typedef struct tally {
    size_t queries;   /* query runs compared */
    size_t with_hits; /* runs where the engines found something */
    size_t ties;      /* hits swapped between exactly tied scores */
    size_t bad;       /* runs that differ */
    size_t pruned_runs; /* pruned runs compared with exhaustive ones */
    size_t bounded;     /* of those, runs whose total was a bound */
    size_t collapsed;   /* hits compared that carry same-title hits */
} tally;

/* Whether two facets hold the same buckets in the same order; says how
 * they differ when not. */
static int
same_facet(const ndx_facet *a, const ndx_facet *b, const char *q,
           const char *label)
{
    size_t i;

    if (strcmp(a->name, b->name) || a->count != b->count ||
        a->other != b->other || a->undated != b->undated) {
        printf("\n  [%s] %s: facet %s: native %zu buckets (other %llu, "
               "undated %llu), xapian %s %zu (%llu, %llu)", label, q,
               a->name, a->count, (unsigned long long)a->other,
               (unsigned long long)a->undated, b->name, b->count,
               (unsigned long long)b->other, (unsigned long long)b->undated);
        return 0;
    }
    for (i = 0; i < a->count; i++) {
        const ndx_facet_bucket *x = &a->buckets[i], *y = &b->buckets[i];

        if (strcmp(x->value, y->value) || x->count != y->count ||
            x->all != y->all) {
            printf("\n  [%s] %s: facet %s bucket %zu: native %s %llu/%llu, "
                   "xapian %s %llu/%llu", label, q, a->name, i, x->value,
                   (unsigned long long)x->count, (unsigned long long)x->all,
                   y->value, (unsigned long long)y->count,
                   (unsigned long long)y->all);
            return 0;
        }
    }
    return 1;
}

/* Whether two hits list the same same-title hits (ids and dates), in
 * the same order unless any_order (hits of equal score may swap). */
static int
same_titles_alike(const ndx_hit *a, const ndx_hit *b, int any_order)
{
    size_t i, j;

    if (a->same_title_count != b->same_title_count)
        return 0;
    for (i = 0; i < a->same_title_count; i++) {
        const ndx_same_title *x = &a->same_title[i];

        for (j = any_order ? 0 : i; j < (any_order ? b->same_title_count
                                                   : i + 1); j++)
            if (!strcmp(x->article, b->same_title[j].article) &&
                x->date_days == b->same_title[j].date_days)
                break;
        if (j == (any_order ? b->same_title_count : i + 1))
            return 0;
    }
    return 1;
}

/* Runs q on both indexes with options o and compares the top hits (with
 * the same-title hits collapsed into them) and the facets. */
static void
compare_one(ndx_index *nat, ndx_index *xap, const query *q,
            const ndx_search_opts *o, const char *label, tally *t)
{
    ndx_results *rn = NULL, *rx = NULL;
    ndx_status sn, sx;
    size_t i;
    int bad = 0;

    sn = ndx_index_search(nat, q->text, o, &rn, NULL);
    sx = ndx_index_search(xap, q->text, o, &rx, NULL);
    t->queries++;
    if (sn != sx) {
        printf("\n  [%s] %s: native %s, xapian %s", label, q->text,
               ndx_status_name(sn), ndx_status_name(sx));
        t->bad++;
        goto done;
    }
    if (sn != NDX_OK)
        goto done; /* both refuse alike (e.g. a syntax error) */
    if (rn->count)
        t->with_hits++;
    /* Totals are exact in both, or a bound of at least exact_upto. */
    if ((rn->total_exact && rx->total_exact && rn->total != rx->total) ||
        (!rn->total_exact && rn->total < o->exact_upto) ||
        (!rx->total_exact && rx->total < o->exact_upto) ||
        rn->count != rx->count) {
        printf("\n  [%s] %s: native total %llu count %zu, xapian total "
               "%llu count %zu", label, q->text,
               (unsigned long long)rn->total, rn->count,
               (unsigned long long)rx->total, rx->count);
        bad = 1;
    }
    for (i = 0; i < rn->count && i < rx->count; i++) {
        const ndx_hit *a = &rn->hits[i], *b = &rx->hits[i];
        int same_hit = strcmp(a->article, b->article) == 0 &&
                       a->passage == b->passage;
        if (same_hit && close_enough(a->score, b->score, 1e-6) &&
            a->matches == b->matches) {
            t->collapsed += a->same_title_count > 0;
            if (same_titles_alike(a, b, 1))
                continue;
            printf("\n  [%s] %s: hit %zu %s lists %zu same-title hits in "
                   "native, %zu in xapian", label, q->text, i, a->article,
                   a->same_title_count, b->same_title_count);
            bad = 1;
            break;
        }
        /* Equal scores (to rounding) may only swap places. */
        if (!same_hit && close_enough(a->score, b->score, 1e-12)) {
            t->ties++;
            continue;
        }
        printf("\n  [%s] %s: hit %zu native %s/%u %.12g (%u) xapian "
               "%s/%u %.12g (%u)", label, q->text, i, a->article,
               a->passage, a->score, a->matches, b->article, b->passage,
               b->score, b->matches);
        bad = 1;
        break;
    }
    if (rn->facet_count != rx->facet_count) {
        printf("\n  [%s] %s: native %zu facets, xapian %zu", label,
               q->text, rn->facet_count, rx->facet_count);
        bad = 1;
    }
    for (i = 0; !bad && i < rn->facet_count; i++)
        bad = !same_facet(&rn->facets[i], &rx->facets[i], q->text, label);
    t->bad += bad;
done:
    ndx_results_free(rn);
    ndx_results_free(rx);
}

/* Runs q on the native index pruned from the first match on (exact_upto
 * 0) and exhaustively (exact_total): the hits, their scores (to the bit),
 * their order and their match counts must be the same, and the pruned
 * total a lower bound of the exhaustive one. */
static void
compare_pruned(ndx_index *nat, const query *q, const ndx_search_opts *base,
               const char *label, tally *t)
{
    ndx_search_opts o = *base;
    ndx_results *rp = NULL, *re = NULL;
    ndx_status sp, se;
    size_t i;
    int bad = 0;

    o.exact_upto = 0;
    o.exact_total = 0;
    sp = ndx_index_search(nat, q->text, &o, &rp, NULL);
    o.exact_total = 1;
    se = ndx_index_search(nat, q->text, &o, &re, NULL);
    t->pruned_runs++;
    if (sp != se) {
        printf("\n  [%s pruned] %s: %s against %s", label, q->text,
               ndx_status_name(sp), ndx_status_name(se));
        t->bad++;
        goto done;
    }
    if (sp != NDX_OK)
        goto done;
    if (!re->total_exact || rp->total > re->total ||
        (rp->total_exact && rp->total != re->total) ||
        rp->count != re->count) {
        printf("\n  [%s pruned] %s: total %llu (%s) count %zu, exhaustive "
               "%llu (%s) count %zu", label, q->text,
               (unsigned long long)rp->total,
               rp->total_exact ? "exact" : "bound", rp->count,
               (unsigned long long)re->total,
               re->total_exact ? "exact" : "bound", re->count);
        bad = 1;
    }
    if (!rp->total_exact)
        t->bounded++;
    for (i = 0; !bad && i < rp->count && i < re->count; i++) {
        const ndx_hit *a = &rp->hits[i], *b = &re->hits[i];

        if (strcmp(a->article, b->article) == 0 && a->passage == b->passage &&
            a->score == b->score && a->matches == b->matches &&
            a->order == b->order && same_titles_alike(a, b, 0))
            continue;
        printf("\n  [%s pruned] %s (k %zu, offset %zu, sort %d, group %d): "
               "hit %zu %s/%u %.17g (%u) exhaustive %s/%u %.17g (%u)",
               label, q->text, o.k, o.offset, (int)o.sort, (int)o.group, i,
               a->article, a->passage, a->score, a->matches, b->article,
               b->passage, b->score, b->matches);
        bad = 1;
    }
    t->bad += bad;
done:
    ndx_results_free(rp);
    ndx_results_free(re);
}

/* Options for query q: k TOP, no snippets, its filters. */
static void
query_opts(const query *q, ndx_search_opts *o)
{
    ndx_search_opts_init(o);
    o->k = TOP;
    o->snippets = 0;
    o->from_days = q->from_days;
    o->to_days = q->to_days;
    if (q->source) {
        o->sources = &q->source;
        o->source_count = 1;
    }
}

static void
compare_all(const char *nat_dir, const char *xap_dir, const qlist *l,
            const char *label, tally *t)
{
    ndx_index *nat = NULL, *xap = NULL;
    ndx_search_opts o;
    size_t i;

    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&nat, nat_dir, NDX_OPEN_READ,
                                         NULL, NULL), NDX_OK);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&xap, xap_dir, NDX_OPEN_READ,
                                         NULL, NULL), NDX_OK);
    CU_ASSERT_STRING_EQUAL(ndx_index_engine(nat), "native");
    CU_ASSERT_STRING_EQUAL(ndx_index_engine(xap), "xapian");
    for (i = 0; i < l->n; i++) {
        const query *q = &l->q[i];
        query_opts(q, &o);
        compare_one(nat, xap, q, &o, label, t);
        compare_pruned(nat, q, &o, label, t);
        o.k = 1 + i % 3;
        compare_pruned(nat, q, &o, label, t);
        o.group = NDX_GROUP_PASSAGE;
        compare_pruned(nat, q, &o, label, t);
        o.group = NDX_GROUP_ARTICLE;
        o.k = TOP;
        if (i % 3 == 0) {
            o.sort = NDX_SORT_NEWEST;
            compare_one(nat, xap, q, &o, label, t);
            compare_pruned(nat, q, &o, label, t);
            o.sort = NDX_SORT_OLDEST;
            compare_pruned(nat, q, &o, label, t);
            o.sort = NDX_SORT_RELEVANCE;
        }
        if (i % 4 == 1) {
            o.group = NDX_GROUP_PASSAGE;
            compare_one(nat, xap, q, &o, label, t);
            o.group = NDX_GROUP_ARTICLE;
        }
        if (i % 7 == 2) {
            o.offset = 5;
            compare_one(nat, xap, q, &o, label, t);
            compare_pruned(nat, q, &o, label, t);
            o.offset = 0;
        }
        if (i % 6 == 5) {
            /* Same-title hits shown each. */
            o.collapse_titles = 0;
            compare_one(nat, xap, q, &o, label, t);
            compare_pruned(nat, q, &o, label, t);
            o.collapse_titles = 1;
        }
        if (i % 5 == 3) {
            /* Facets: every source (no limit) and each granularity. */
            o.facets = NDX_FACET_SOURCE |
                       (i % 3 == 0 ? NDX_FACET_DAY
                                   : i % 3 == 1 ? NDX_FACET_MONTH
                                                : NDX_FACET_YEAR);
            o.facet_limit = i % 2 ? 0 : 3;
            compare_one(nat, xap, q, &o, label, t);
            o.facets = 0;
        }
    }
    ndx_index_close(nat);
    ndx_index_close(xap);
}

static int
have_both(void)
{
    if (t_without_xapian())
        return 0;
    return 1;
}

/* Words with name variants (each a SYN node, which the Xapian engine
 * runs as OP_SYNONYM), alone and with other words and operators. */
static const char *const variant_queries[] = {
    "Kiev", "Kyiv", "Zelensky", "Zelenskyy talks", "Kiev OR Moscow",
    "Ukraine -Kiev", "Kyiv Kiev", "Gaddafi", "Qaddafi Libya", "Beijing",
    "Peking", "Taliban", "Qaeda", "Hezbollah", "Mohammed", "Burma",
    "Myanmar", "Bombay", "Odessa", "Kharkiv", "Tehran", "Moscow talks",
    "Crimea", "Donbas", "Hussein", "Mumbai attacks", "Isis OR Isil",
};

static void
run_parity(const char *path, const char *tsv, uint64_t seed, size_t scale,
           size_t min_q, const char *label, int steps)
{
    char nat[512], xap[512];
    corpus_words cw;
    qlist l = {NULL, 0, 0};
    char **keep = NULL;
    size_t keep_n = 0, i;
    tally t = {0, 0, 0, 0, 0, 0, 0};
    const char *tmp = t_tmpdir();
    ndx_status st;

    snprintf(nat, sizeof nat, "%s/native", tmp);
    snprintf(xap, sizeof xap, "%s/xapian", tmp);
    st = (steps ? index_in_steps : index_with)("native", nat, path);
    if (st != NDX_OK)
        printf("\n  native indexing %s: %s", path, ndx_errmsg());
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    st = (steps ? index_in_steps : index_with)("xapian", xap, path);
    if (st != NDX_OK)
        printf("\n  xapian indexing %s: %s", path, ndx_errmsg());
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    CU_ASSERT_EQUAL_FATAL(read_words(path, &cw), 0);
    CU_ASSERT_FATAL(cw.passage_count > 0);
    generate(&cw, seed, scale, &l);
    for (i = 0; i < sizeof variant_queries / sizeof variant_queries[0]; i++)
        qadd(&l, variant_queries[i], NULL, NDX_DATE_NONE, NDX_DATE_NONE);
    if (tsv)
        read_tsv(tsv, &l, &keep, &keep_n);
    CU_ASSERT(l.n >= min_q);
    compare_all(nat, xap, &l, label, &t);
    printf("\n  %s: %zu queries, %zu runs compared, %zu with hits, %zu tie "
           "swaps, %zu pruned runs against exhaustive (%zu with a bounded "
           "total), %zu hits with same-title hits collapsed into them, %zu "
           "differ\n", label, l.n, t.queries, t.with_hits, t.ties,
           t.pruned_runs, t.bounded, t.collapsed, t.bad);
    CU_ASSERT(t.bounded > 0); /* pruning really ran */
    CU_ASSERT_EQUAL(t.bad, 0);
    CU_ASSERT(t.with_hits * 2 > t.queries); /* most queries find something */
    for (i = 0; i < keep_n; i++)
        free(keep[i]);
    free(keep);
    qfree(&l);
    free_words(&cw);
}

static void
test_parity_seed_corpus_ranks_alike(void)
{
    if (!have_both())
        return;
    run_parity("corpus", NULL, 20250404, 6, 200, "corpus", 0);
}

/* path: the shared corpus file `file`, tsv: the query set `queries` beside
 * it; 0 (the test skipped, saying so) when the corpora are absent. */
static int
corpus_paths(const char *file, const char *queries, char path[600],
             char tsv[600])
{
    const char *dir = t_corpora();

    if (!dir) {
        t_skip("no shared corpora at ../shared/corpora");
        return 0;
    }
    snprintf(path, 600, "%s/%s", dir, file);
    snprintf(tsv, 600, "%s/%s", dir, queries);
    return 1;
}

/* A sample of the shared corpora (NAME-sample-1k.jsonl.gz with its
 * NAME-queries.tsv), built at once or in steps; skipped, saying so, when
 * the corpora are absent. */
static void
sample_parity(const char *name, uint64_t seed, const char *label, int steps)
{
    char path[600], tsv[600], file[300], queries[300];

    if (!have_both())
        return;
    snprintf(file, sizeof file, "%s-sample-1k.jsonl.gz", name);
    snprintf(queries, sizeof queries, "%s-queries.tsv", name);
    if (!corpus_paths(file, queries, path, tsv))
        return;
    run_parity(path, tsv, seed, 5, 600, label, steps);
}

static void
test_parity_reuters_sample_ranks_alike(void)
{
    sample_parity("reuters21578", 19870226, "reuters sample", 0);
}

static void
test_parity_allsides_sample_ranks_alike(void)
{
    sample_parity("allsides", 20120601, "allsides sample", 0);
}

/* The Reuters sample indexed in six --add steps with replacements and
 * deletions: the engines still answer alike. */
static void
test_parity_steps_with_deletions_rank_alike(void)
{
    sample_parity("reuters21578", 19870227, "reuters sample in steps", 1);
}

/* The allsides sample with its articles out of date order (article i of
 * the copy is article (i * 389) mod n of the sample, 389 prime to 1000):
 * the native segment is not in date order, so a date range gives its
 * articles' runs from the articles sorted by date. */
static void
test_parity_articles_out_of_date_order_rank_alike(void)
{
    char path[600], tsv[600], out[600], **lines = NULL;
    size_t n = 0, cap = 0, i, late = 0;
    gzFile gz;
    FILE *f;
    char line[1 << 16];

    if (!have_both() || !corpus_paths("allsides-sample-1k.jsonl.gz",
                                      "allsides-queries.tsv", path, tsv))
        return;
    snprintf(out, sizeof out, "%s/out-of-order.jsonl", t_tmpdir());
    gz = gzopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
    while (gzgets(gz, line, sizeof line)) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            lines = realloc(lines, cap * sizeof *lines);
            CU_ASSERT_PTR_NOT_NULL_FATAL(lines);
        }
        lines[n] = strdup(line);
        CU_ASSERT_PTR_NOT_NULL_FATAL(lines[n]);
        n++;
    }
    gzclose(gz);
    CU_ASSERT_FATAL(n > 100 && n % 389 != 0);
    f = fopen(out, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (i = 0; i < n; i++) {
        size_t j = (i * 389) % n;

        fputs(lines[j], f);
        /* The sample is in date order: a later line of the copy taken
         * from an earlier line of the sample puts a date before one
         * already seen. */
        late += i && j < ((i - 1) * 389) % n;
    }
    CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
    CU_ASSERT(late > 100);
    run_parity(out, tsv, 20120602, 5, 600, "allsides sample out of date "
                                           "order", 0);
    for (i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

/* Threads searching one fresh index handle at once (CONC_THREADS, each
 * every CONC_STEP-th query twice, from its own start): they build the
 * view's block tables as they race, and every answer must equal the one a
 * single thread got on another handle. */
#define CONC_THREADS 3
#define CONC_STEP 10

typedef struct conc_job {
    ndx_index *ix;
    const qlist *l;
    ndx_results **want;
    size_t start;
    size_t runs, bad;
} conc_job;

static int
same_hits(const ndx_results *a, const ndx_results *b)
{
    size_t i;

    if (a->count != b->count || a->total != b->total)
        return 0;
    for (i = 0; i < a->count; i++)
        if (strcmp(a->hits[i].article, b->hits[i].article) != 0 ||
            a->hits[i].passage != b->hits[i].passage ||
            a->hits[i].score != b->hits[i].score)
            return 0;
    return 1;
}

static void *
conc_run(void *arg)
{
    conc_job *j = arg;
    size_t r, i, n = j->l->n;

    for (r = 0; r < 2; r++)
        for (i = 0; i < n; i += CONC_STEP) {
            size_t q = (i + j->start * 7 * CONC_STEP) % n;
            ndx_search_opts o;
            ndx_results *res = NULL;

            q -= q % CONC_STEP;
            if (!j->want[q])
                continue;
            query_opts(&j->l->q[q], &o);
            j->runs++;
            if (ndx_index_search(j->ix, j->l->q[q].text, &o, &res, NULL) !=
                    NDX_OK ||
                !same_hits(res, j->want[q]))
                j->bad++;
            ndx_results_free(res);
        }
    return NULL;
}

/* The concurrent half of test_parity_pruned_long_lists_equal_exhaustive:
 * 0 when every answer matched. */
static size_t
concurrent_searches(const char *dir, const qlist *l, size_t *runs)
{
    ndx_index *one = NULL, *shared = NULL;
    ndx_results **want = calloc(l->n, sizeof *want);
    conc_job jobs[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    size_t i, bad = 0;

    *runs = 0;
    CU_ASSERT_FATAL(want != NULL);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&one, dir, NDX_OPEN_READ, NULL,
                                         NULL), NDX_OK);
    for (i = 0; i < l->n; i += CONC_STEP) {
        ndx_search_opts o;

        query_opts(&l->q[i], &o);
        if (ndx_index_search(one, l->q[i].text, &o, &want[i], NULL) !=
            NDX_OK)
            want[i] = NULL;
    }
    ndx_index_close(one);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&shared, dir, NDX_OPEN_READ, NULL,
                                         NULL), NDX_OK);
    CU_ASSERT_FATAL(ndx_index_thread_safe(shared));
    for (i = 0; i < CONC_THREADS; i++) {
        jobs[i].ix = shared;
        jobs[i].l = l;
        jobs[i].want = want;
        jobs[i].start = i;
        jobs[i].runs = jobs[i].bad = 0;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, conc_run,
                                             &jobs[i]), 0);
    }
    for (i = 0; i < CONC_THREADS; i++) {
        pthread_join(th[i], NULL);
        *runs += jobs[i].runs;
        bad += jobs[i].bad;
    }
    ndx_index_close(shared);
    for (i = 0; i < l->n; i++)
        ndx_results_free(want[i]);
    free(want);
    return bad;
}

/* Pruning on long lists: the whole allsides corpus (about 500,000
 * passages, lists of thousands of blocks) indexed natively, and every
 * query of allsides-queries.tsv run pruned from the first match and
 * exhaustively, by article with k 10 and 1 to 3, and by passage, every
 * fourth also with k1 0.5 and b 0.9 on the same open index: the same hits
 * in the same order (compare_pruned).  The samples' lists are
 * mostly one block long, where skipping inside a list is never tried. */
static void
test_parity_pruned_long_lists_equal_exhaustive(void)
{
    char path[600], tsv[600], dir_nat[600];
    qlist l = {NULL, 0, 0};
    char **keep = NULL;
    size_t keep_n = 0, i;
    tally t = {0, 0, 0, 0, 0, 0, 0};
    ndx_index *nat = NULL;
    ndx_search_opts o;
    ndx_status st;
    size_t conc_runs = 0, conc_bad;

    if (!corpus_paths("allsides.jsonl.gz", "allsides-queries.tsv", path,
                      tsv))
        return;
    snprintf(dir_nat, sizeof dir_nat, "%s/allsides-native", t_tmpdir());
    st = index_with("native", dir_nat, path);
    if (st != NDX_OK)
        printf("\n  native indexing %s: %s", path, ndx_errmsg());
    CU_ASSERT_EQUAL_FATAL(st, NDX_OK);
    read_tsv(tsv, &l, &keep, &keep_n);
    CU_ASSERT_FATAL(l.n >= 400);
    CU_ASSERT_EQUAL_FATAL(ndx_index_open(&nat, dir_nat, NDX_OPEN_READ, NULL,
                                         NULL), NDX_OK);
    for (i = 0; i < l.n; i++) {
        const query *q = &l.q[i];

        query_opts(q, &o);
        o.collapse_titles = 0;
        o.fold_clusters = 0;
        compare_pruned(nat, q, &o, "allsides", &t);
        o.k = 1 + i % 3;
        compare_pruned(nat, q, &o, "allsides", &t);
        o.k = TOP;
        o.group = NDX_GROUP_PASSAGE;
        compare_pruned(nat, q, &o, "allsides", &t);
        if (i % 4 == 0) {
            /* Another BM25 setting on the same open index: the block
             * tables the other searches built bound scores for theirs. */
            o.group = NDX_GROUP_ARTICLE;
            o.bm25.k1 = 0.5;
            o.bm25.b = 0.9;
            compare_pruned(nat, q, &o, "allsides k1 0.5 b 0.9", &t);
        }
    }
    ndx_index_close(nat);
    conc_bad = concurrent_searches(dir_nat, &l, &conc_runs);
    printf("\n  allsides: %zu queries, %zu pruned runs against exhaustive "
           "(%zu with a bounded total), %zu differ; %zu runs from %d "
           "threads at once on a fresh handle, %zu differ from one "
           "thread's\n", l.n, t.pruned_runs, t.bounded, t.bad, conc_runs,
           CONC_THREADS, conc_bad);
    CU_ASSERT(conc_runs > 0);
    CU_ASSERT_EQUAL(conc_bad, 0);
    CU_ASSERT(t.bounded * 4 > t.pruned_runs); /* pruning really ran */
    CU_ASSERT_EQUAL(t.bad, 0);
    for (i = 0; i < keep_n; i++)
        free(keep[i]);
    free(keep);
    qfree(&l);
}

CU_TestInfo parity_tests[] = {
    {"test_parity_seed_corpus_ranks_alike",
     test_parity_seed_corpus_ranks_alike},
    {"test_parity_reuters_sample_ranks_alike",
     test_parity_reuters_sample_ranks_alike},
    {"test_parity_allsides_sample_ranks_alike",
     test_parity_allsides_sample_ranks_alike},
    {"test_parity_steps_with_deletions_rank_alike",
     test_parity_steps_with_deletions_rank_alike},
    {"test_parity_articles_out_of_date_order_rank_alike",
     test_parity_articles_out_of_date_order_rank_alike},
    {"test_parity_pruned_long_lists_equal_exhaustive",
     test_parity_pruned_long_lists_equal_exhaustive},
    CU_TEST_INFO_NULL,
};
