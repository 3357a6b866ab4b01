/*
 * suggest.c - candidate name variants learned from a collection of texts,
 * for a person to review (newsdex-index --suggest-variants): nothing here
 * changes the variant table.
 *
 * A name is a word written capitalised, away from the start of a
 * sentence, at least min_count times, and seldom in lower case (at most a
 * fifth as often: "Bill" the name against "bill" the law).  Two names are
 * a candidate pair when their folded spellings are close: at most two
 * edits (insertions, deletions, substitutions, swaps of neighbours), which
 * covers the transliteration pairs of the built-in table (Kyiv/Kiev,
 * Zelensky/Zelenskyy, Qaddafi/Kadhafi, Odesa/Odessa), found without
 * comparing every name with every other through shared deletion keys (the
 * word with one letter removed, and for words of six letters or more with
 * two).  An inflection is not a variant: a pair whose longer word is the
 * shorter plus "s", "es", "n", "an", "i" and the like (Russia/Russian,
 * Israel/Israeli) is dropped, and so is a pair that searches already
 * fold to one word (François/Francois).  Names of days and months are
 * not names here.
 *
 * Spelling alone pairs many different people (Mark/Mike), so a second
 * pass over the same texts collects the words right before and right
 * after each candidate name ("President _", "_ said"), and a pair is
 * ranked by the cosine of the two names' neighbour profiles: a word is
 * weighted (1 + ln count) * ln(names / names with that neighbour), so
 * that neighbours every name has ("_ said") count little and telling ones
 * ("Volodymyr _") much.  Pairs sharing fewer than two neighbours, or below
 * a cosine of 0.05, are not reported.
 *
 * Words are runs of ASCII letters and digits and non-ASCII letters;
 * general punctuation (U+2000..U+206F: curly quotes, dashes), the
 * no-break space and guillemets separate them.  Folding here lowers ASCII
 * letters only: the suggestions are shown as written.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "newsdex/analyze.h"
#include "newsdex/status.h"
#include "util/buf.h"
#include "util/hash.h"

#define WORD_MIN 4       /* bytes of a name */
#define WORD_MAX 40
#define RUN_MAX 64       /* names sharing one deletion key, beyond: skipped
                            (keys of short words shared by too many) */
#define SHARED_MIN 2     /* neighbours a reported pair shares at least */
#define COSINE_MIN 0.05
#define LOWER_SHARE 4    /* a name is capitalised >= 4x as often as not */

typedef struct wentry {
    uint64_t key;
    uint32_t off;      /* folded word in s->strs */
    uint32_t disp;     /* first capitalised spelling in s->strs */
    uint32_t cap;      /* capitalised, not at a sentence start */
    uint32_t lower;    /* written in lower case */
    int32_t cand;      /* index among candidate names, -1 */
    uint32_t len;      /* bytes of the word */
} wentry;

typedef struct dkey {
    uint64_t hash;     /* of the deletion key */
    uint32_t name;     /* index in s->names */
} dkey;

typedef struct pentry {
    uint64_t key;
    uint32_t a, b;     /* indices in s->names, a < b */
} pentry;

typedef struct nentry {
    uint64_t key;
    uint64_t word;     /* fnv1a64 of the folded neighbour */
    uint32_t cand_side; /* candidate index * 2 + (1: after the name) */
    uint32_t count;
} nentry;

typedef struct sentry {
    uint64_t key;      /* fnv1a64 of the folded word, never 0 */
    uint32_t off;      /* folded neighbour in s->strs */
} sentry;

typedef struct fentry {
    uint64_t key;
    uint32_t df;       /* candidate names with this neighbour */
} fentry;

typedef struct feat {
    uint32_t cand;
    uint32_t side;
    uint64_t word;
    double weight;
    uint32_t count;
} feat;

struct ndx_suggester {
    unsigned min_count;
    int pass;            /* 1, 2, then 3 when done */
    ndx_buf strs;        /* NUL-terminated strings; offset 0 is "" */
    ndx_htab words;      /* wentry */
    wentry **names;      /* candidate pair members come from these */
    size_t name_count;
    pentry *pairs;
    size_t pair_count;
    wentry **cands;      /* names in some pair, by cand index */
    size_t cand_count;
    ndx_htab nbrs;       /* nentry: (candidate, side, neighbour) counts */
    ndx_htab nstrs;      /* sentry: neighbour strings */
    ndx_variant_suggestion *out;
    size_t out_count;
    ndx_buf shared;      /* the results' shared-neighbour strings */
};

static uint64_t
word_key(uint64_t h)
{
    h = ndx_mix64(h);
    return h ? h : 1;
}

static const char *
str_at(const ndx_suggester *s, uint32_t off)
{
    return (const char *)s->strs.data + off;
}

static ndx_status
str_add(ndx_suggester *s, const char *p, size_t len, uint32_t *off)
{
    if (s->strs.len + len + 1 > UINT32_MAX)
        return ndx_error(NDX_ENOMEM, "suggestions: too many words");
    *off = (uint32_t)s->strs.len;
    if (ndx_buf_put(&s->strs, p, len) || ndx_buf_putc(&s->strs, 0))
        return NDX_ENOMEM;
    return NDX_OK;
}

ndx_status
ndx_suggester_new(ndx_suggester **out, unsigned min_count)
{
    ndx_suggester *s = calloc(1, sizeof *s);

    *out = NULL;
    if (!s)
        return ndx_error(NDX_ENOMEM, "out of memory");
    s->min_count = min_count ? min_count : 1;
    s->pass = 1;
    ndx_buf_init(&s->strs);
    ndx_buf_init(&s->shared);
    ndx_htab_init(&s->words, sizeof(wentry), 1u << 14, 70);
    ndx_htab_init(&s->nbrs, sizeof(nentry), 1u << 12, 70);
    ndx_htab_init(&s->nstrs, sizeof(sentry), 1u << 12, 70);
    if (ndx_buf_putc(&s->strs, 0)) {
        ndx_suggester_free(s);
        return ndx_error(NDX_ENOMEM, "out of memory");
    }
    *out = s;
    return NDX_OK;
}

void
ndx_suggester_free(ndx_suggester *s)
{
    if (!s)
        return;
    ndx_buf_free(&s->strs);
    ndx_buf_free(&s->shared);
    ndx_htab_free(&s->words);
    ndx_htab_free(&s->nbrs);
    ndx_htab_free(&s->nstrs);
    free(s->names);
    free(s->pairs);
    free(s->cands);
    free(s->out);
    free(s);
}

/* ---- tokens -------------------------------------------------------------- */

typedef struct token {
    const char *p;
    size_t len;
    int initial;   /* at the start of the text or of a sentence */
    char fold[WORD_MAX + 1];
    size_t fold_len; /* 0 when longer than WORD_MAX */
    uint64_t hash;   /* fnv1a64 of the folded token (any length) */
} token;

/* Bytes of a separator starting at p (0: a word byte). */
static size_t
sep_len(const unsigned char *p, const unsigned char *end)
{
    if (*p < 0x80)
        return ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9')) ? 0 : 1;
    if (*p == 0xE2 && end - p >= 3 && (p[1] == 0x80 || p[1] == 0x81))
        return 3; /* U+2000..U+207F: spaces, dashes, quotes, ellipsis */
    if (*p == 0xC2 && end - p >= 2 &&
        (p[1] == 0xA0 || p[1] == 0xAB || p[1] == 0xBB))
        return 2; /* no-break space, guillemets */
    return 0;
}

/* The next token from *pp; 0 at the end. */
static int
next_token(const unsigned char **pp, const unsigned char *end, int first,
           token *t)
{
    const unsigned char *p = *pp;
    int initial = first;
    size_t n, i;
    uint64_t h = NDX_FNV1A64_BASIS;

    while (p < end && (n = sep_len(p, end)) > 0) {
        if (n == 1 && strchr(".!?:;\"(\n", *p))
            initial = 1;
        else if (n == 3)
            initial = 1; /* a dash or an opening quote may start one */
        p += n;
    }
    if (p >= end)
        return 0;
    t->p = (const char *)p;
    while (p < end && sep_len(p, end) == 0)
        p++;
    t->len = (size_t)((const char *)p - t->p);
    t->initial = initial;
    t->fold_len = t->len <= WORD_MAX ? t->len : 0;
    for (i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->p[i];

        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (i < WORD_MAX)
            t->fold[i] = (char)c;
        h = ndx_fnv1a64_more(h, &c, 1);
    }
    t->fold[t->fold_len] = 0;
    t->hash = h;
    *pp = p;
    return 1;
}

/* A candidate name: letters only, WORD_MIN..WORD_MAX bytes. */
static int
nameish(const token *t)
{
    size_t i;

    if (t->len < WORD_MIN || !t->fold_len)
        return 0;
    for (i = 0; i < t->len; i++)
        if (t->p[i] >= '0' && t->p[i] <= '9')
            return 0;
    return 1;
}

/* Capitalised: an ASCII capital first and some lower-case letter after
 * (so not an acronym). */
static int
capitalised(const token *t)
{
    size_t i;

    if (t->p[0] < 'A' || t->p[0] > 'Z')
        return 0;
    for (i = 1; i < t->len; i++)
        if (t->p[i] >= 'a' && t->p[i] <= 'z')
            return 1;
    return 0;
}

static wentry *
word_find(const ndx_suggester *s, const token *t)
{
    size_t pos = NDX_HTAB_START;
    uint64_t key = word_key(t->hash);
    wentry *w;

    while ((w = ndx_htab_find(&s->words, key, &pos)))
        if (w->len == t->fold_len &&
            memcmp(str_at(s, w->off), t->fold, t->fold_len) == 0)
            return w;
    return NULL;
}

static ndx_status
count_word(ndx_suggester *s, const token *t)
{
    int cap = capitalised(t);
    wentry *w;

    if (!nameish(t) || (cap && t->initial))
        return NDX_OK;
    if (!cap && !(t->p[0] >= 'a' && t->p[0] <= 'z'))
        return NDX_OK;
    if (!(w = word_find(s, t))) {
        uint32_t off;

        if (str_add(s, t->fold, t->fold_len, &off))
            return NDX_ENOMEM;
        if (!(w = ndx_htab_add(&s->words, word_key(t->hash))))
            return ndx_error(NDX_ENOMEM, "out of memory");
        w->off = off;
        w->len = (uint32_t)t->fold_len;
        w->cand = -1;
    }
    if (cap) {
        if (!w->disp) {
            uint32_t off;

            if (str_add(s, t->p, t->len, &off))
                return NDX_ENOMEM;
            w->disp = off;
        }
        w->cap++;
    } else {
        w->lower++;
    }
    return NDX_OK;
}

static ndx_status
count_neighbour(ndx_suggester *s, int32_t cand, int after, const token *n)
{
    uint32_t cs = (uint32_t)cand * 2 + (after ? 1 : 0);
    uint64_t key = word_key(n->hash ^ ((uint64_t)cs * 0x9E3779B97F4A7C15ULL));
    size_t pos = NDX_HTAB_START;
    nentry *e;
    sentry *se;
    int added;

    while ((e = ndx_htab_find(&s->nbrs, key, &pos)))
        if (e->word == n->hash && e->cand_side == cs) {
            e->count++;
            return NDX_OK;
        }
    if (!(e = ndx_htab_add(&s->nbrs, key)))
        return ndx_error(NDX_ENOMEM, "out of memory");
    e->word = n->hash;
    e->cand_side = cs;
    e->count = 1;
    if (!(se = ndx_htab_put(&s->nstrs, word_key(n->hash), &added)))
        return ndx_error(NDX_ENOMEM, "out of memory");
    if (added) {
        size_t len = n->fold_len ? n->fold_len : WORD_MAX;

        if (str_add(s, n->fold, len, &se->off))
            return NDX_ENOMEM;
    }
    return NDX_OK;
}

/* The candidate index of a token that is a capitalised candidate name,
 * else -1. */
static int32_t
cand_of(const ndx_suggester *s, const token *t)
{
    const wentry *w;

    if (!nameish(t) || !capitalised(t))
        return -1;
    w = word_find(s, t);
    return w ? w->cand : -1;
}

ndx_status
ndx_suggester_text(ndx_suggester *s, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    token prev, cur;
    int32_t prev_cand = -1, cur_cand;
    int have_prev = 0;
    ndx_status st;

    if (s->pass == 1) {
        while (next_token(&p, end, !have_prev, &cur)) {
            have_prev = 1;
            if ((st = count_word(s, &cur)))
                return st;
        }
        return NDX_OK;
    }
    if (s->pass != 2)
        return NDX_OK;
    while (next_token(&p, end, !have_prev, &cur)) {
        cur_cand = cand_of(s, &cur);
        if (have_prev) {
            if (prev_cand >= 0 && (st = count_neighbour(s, prev_cand, 1,
                                                        &cur)))
                return st;
            if (cur_cand >= 0 && (st = count_neighbour(s, cur_cand, 0,
                                                       &prev)))
                return st;
        }
        prev = cur;
        prev_cand = cur_cand;
        have_prev = 1;
    }
    return NDX_OK;
}

/* ---- pairs ---------------------------------------------------------------- */

/* Optimal string alignment distance of a and b, or limit + 1 when above
 * limit. */
static unsigned
edits(const char *a, size_t la, const char *b, size_t lb, unsigned limit)
{
    unsigned d[WORD_MAX + 1][WORD_MAX + 1];
    size_t i, j;

    if ((la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    for (i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (i = 1; i <= la; i++) {
        unsigned row_min = limit + 1;

        for (j = 1; j <= lb; j++) {
            unsigned c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
                c = d[i - 2][j - 2] + 1;
            d[i][j] = c;
            if (c < row_min)
                row_min = c;
        }
        if (row_min > limit)
            return limit + 1;
    }
    return d[la][lb] <= limit ? d[la][lb] : limit + 1;
}

/* Whether the longer word is the shorter plus an inflection's ending. */
static int
inflection(const char *a, size_t la, const char *b, size_t lb)
{
    static const char *const tails[] = {"s", "es", "n", "an", "i", "ns",
                                        "is", "er", "ers", "ed", "ing"};
    size_t k;

    if (la > lb) {
        const char *t = a;
        size_t tl = la;

        a = b, la = lb, b = t, lb = tl;
    }
    if (la == lb || memcmp(a, b, la) != 0)
        return 0;
    for (k = 0; k < sizeof tails / sizeof tails[0]; k++)
        if (strlen(tails[k]) == lb - la && memcmp(b + la, tails[k],
                                                 lb - la) == 0)
            return 1;
    return 0;
}

static int
cmp_dkey(const void *x, const void *y)
{
    const dkey *a = x, *b = y;

    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->name < b->name ? -1 : a->name > b->name;
}

static ndx_status
push_key(dkey **keys, size_t *count, size_t *cap, const char *k, size_t len,
         uint32_t name)
{
    if (ndx_grow((void **)keys, cap, *count + 1, sizeof **keys, 1024))
        return ndx_error(NDX_ENOMEM, "out of memory");
    (*keys)[*count].hash = ndx_fnv1a64(k, len);
    (*keys)[*count].name = name;
    (*count)++;
    return NDX_OK;
}

/* The word itself, each one-letter deletion, and for words of six
 * letters or more each two-letter deletion. */
static ndx_status
deletion_keys(const char *w, size_t len, uint32_t name, dkey **keys,
              size_t *count, size_t *cap)
{
    char k[WORD_MAX];
    size_t i, j, n;

    if (push_key(keys, count, cap, w, len, name))
        return NDX_ENOMEM;
    for (i = 0; i < len; i++) {
        memcpy(k, w, i);
        memcpy(k + i, w + i + 1, len - i - 1);
        if (push_key(keys, count, cap, k, len - 1, name))
            return NDX_ENOMEM;
        if (len < 6)
            continue;
        for (j = i + 1; j < len; j++) {
            n = 0;
            memcpy(k, w, i);
            n = i;
            memcpy(k + n, w + i + 1, j - i - 1);
            n += j - i - 1;
            memcpy(k + n, w + j + 1, len - j - 1);
            n += len - j - 1;
            if (push_key(keys, count, cap, k, n, name))
                return NDX_ENOMEM;
        }
    }
    return NDX_OK;
}

/* Whether searches fold the two spellings to one word already (accents:
 * Francois and François). */
static int
same_folded(const ndx_suggester *s, const wentry *a, const wentry *b)
{
    char fa[4 * WORD_MAX + 1], fb[4 * WORD_MAX + 1];
    const char *da = str_at(s, a->disp), *db = str_at(s, b->disp);
    size_t la = ndx_fold(da, strlen(da), fa, sizeof fa);
    size_t lb = ndx_fold(db, strlen(db), fb, sizeof fb);

    return la && la == lb && memcmp(fa, fb, la) == 0;
}

static ndx_status
add_pair(ndx_suggester *s, ndx_htab *seen, uint32_t a, uint32_t b,
         size_t *cap)
{
    const wentry *wa = s->names[a], *wb = s->names[b];
    uint64_t key = word_key(((uint64_t)a << 32) | b);
    size_t pos = NDX_HTAB_START;
    pentry *e;

    while ((e = ndx_htab_find(seen, key, &pos)))
        if (e->a == a && e->b == b)
            return NDX_OK;
    if (!(e = ndx_htab_add(seen, key)))
        return ndx_error(NDX_ENOMEM, "out of memory");
    e->a = a;
    e->b = b;
    if (edits(str_at(s, wa->off), wa->len, str_at(s, wb->off), wb->len, 2) >
            2 ||
        inflection(str_at(s, wa->off), wa->len, str_at(s, wb->off), wb->len) ||
        same_folded(s, wa, wb))
        return NDX_OK;
    if (ndx_grow((void **)&s->pairs, cap, s->pair_count + 1,
                 sizeof *s->pairs, 256))
        return ndx_error(NDX_ENOMEM, "out of memory");
    s->pairs[s->pair_count++] = *e;
    return NDX_OK;
}

/* Days and months are capitalised and used alike (Tuesday, Thursday) but
 * are never one another's variants. */
static int
calendar_word(const char *w)
{
    static const char *const words[] = {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "january", "february", "march", "april", "june", "july",
        "august", "september", "october", "november", "december"};
    size_t i;

    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(w, words[i]) == 0)
            return 1;
    return 0;
}

/* After pass 1: the names, their close pairs, the candidate names. */
static ndx_status
find_pairs(ndx_suggester *s)
{
    dkey *keys = NULL;
    size_t key_count = 0, key_cap = 0, pair_cap = 0, i, j, k, names_cap = 0;
    ndx_htab seen;
    ndx_status st = NDX_OK;

    ndx_htab_init(&seen, sizeof(pentry), 1u << 10, 70);
    for (i = 0; i < s->words.cap; i++) {
        wentry *w = ndx_htab_slot(&s->words, i);

        if (!w || w->cap < s->min_count ||
            (uint64_t)w->lower * LOWER_SHARE > w->cap ||
            calendar_word(str_at(s, w->off)))
            continue;
        if (ndx_grow((void **)&s->names, &names_cap, s->name_count + 1,
                     sizeof *s->names, 256)) {
            st = ndx_error(NDX_ENOMEM, "out of memory");
            goto fail;
        }
        s->names[s->name_count] = w;
        if ((st = deletion_keys(str_at(s, w->off), w->len,
                                (uint32_t)s->name_count, &keys, &key_count,
                                &key_cap)))
            goto fail;
        s->name_count++;
    }
    if (key_count)
        qsort(keys, key_count, sizeof *keys, cmp_dkey);
    for (i = 0; i < key_count; i = j) {
        for (j = i + 1; j < key_count && keys[j].hash == keys[i].hash; j++)
            ;
        if (j - i > RUN_MAX)
            continue;
        for (k = i; k < j; k++) {
            size_t m;

            for (m = k + 1; m < j; m++)
                if (keys[k].name != keys[m].name &&
                    (st = add_pair(s, &seen, keys[k].name, keys[m].name,
                                   &pair_cap)))
                    goto fail;
        }
    }
    for (i = 0; i < s->pair_count; i++) {
        wentry *ws[2] = {s->names[s->pairs[i].a], s->names[s->pairs[i].b]};

        for (k = 0; k < 2; k++) {
            if (ws[k]->cand >= 0)
                continue;
            ws[k]->cand = (int32_t)s->cand_count++;
        }
    }
    if (s->cand_count &&
        !(s->cands = calloc(s->cand_count, sizeof *s->cands))) {
        st = ndx_error(NDX_ENOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < s->name_count; i++)
        if (s->names[i]->cand >= 0)
            s->cands[s->names[i]->cand] = s->names[i];
fail:
    free(keys);
    ndx_htab_free(&seen);
    return st;
}

/* ---- scores --------------------------------------------------------------- */

static int
cmp_feat(const void *x, const void *y)
{
    const feat *a = x, *b = y;

    if (a->cand != b->cand)
        return a->cand < b->cand ? -1 : 1;
    if (a->word != b->word)
        return a->word < b->word ? -1 : 1;
    return a->side < b->side ? -1 : a->side > b->side;
}

static int
cmp_suggestion(const void *x, const void *y)
{
    const ndx_variant_suggestion *a = x, *b = y;
    uint64_t ma = a->a_count < a->b_count ? a->a_count : a->b_count;
    uint64_t mb = b->a_count < b->b_count ? b->a_count : b->b_count;

    if (a->similarity != b->similarity)
        return a->similarity > b->similarity ? -1 : 1;
    if (ma != mb)
        return ma > mb ? -1 : 1;
    return strcmp(a->a, b->a);
}

static uint64_t
feat_key(uint64_t word, uint32_t side)
{
    return word_key(word ^ (side ? 0xA5A5A5A5A5A5A5A5ULL : 0));
}

typedef struct shared_nb {
    double w;
    uint64_t word;
    uint32_t side;
} shared_nb;

/* Appends "word _" or "_ word" (with both counts) for one shared
 * neighbour to the shared strings. */
static ndx_status
put_shared(ndx_suggester *s, const shared_nb *n, int first)
{
    const sentry *e = ndx_htab_get(&s->nstrs, word_key(n->word));
    const char *w = e ? str_at(s, e->off) : "?";

    if (!first && ndx_buf_puts(&s->shared, ", "))
        return NDX_ENOMEM;
    return ndx_buf_printf(&s->shared, n->side ? "_ %s" : "%s _", w);
}

/* Whether the variant table (built in, or loaded from files) already
 * holds the two words in one group. */
static int
known_pair(const ndx_suggester *s, const wentry *a, const wentry *b)
{
    const char *const *members;
    size_t n = ndx_variants_lookup(str_at(s, a->off), &members), i;

    for (i = 0; i < n; i++)
        if (strcmp(members[i], str_at(s, b->off)) == 0)
            return 1;
    return 0;
}

/* After pass 2: each pair's cosine and shared neighbours, best first. */
static ndx_status
score_pairs(ndx_suggester *s)
{
    feat *fs = NULL;
    size_t fcount = 0, i, *start = NULL, *offs = NULL;
    double *norm = NULL;
    ndx_htab df;
    ndx_status st = NDX_OK;

    ndx_htab_init(&df, sizeof(fentry), 1u << 12, 70);
    if (s->nbrs.count &&
        !(fs = malloc(s->nbrs.count * sizeof *fs)))
        goto nomem;
    start = calloc(s->cand_count + 1, sizeof *start);
    norm = calloc(s->cand_count + 1, sizeof *norm);
    if (!start || !norm)
        goto nomem;
    for (i = 0; i < s->nbrs.cap; i++) {
        const nentry *e = ndx_htab_slot(&s->nbrs, i);
        fentry *f;
        int added;

        if (!e)
            continue;
        fs[fcount].cand = e->cand_side >> 1;
        fs[fcount].side = e->cand_side & 1;
        fs[fcount].word = e->word;
        fs[fcount].count = e->count;
        fcount++;
        if (!(f = ndx_htab_put(&df, feat_key(e->word, e->cand_side & 1),
                               &added)))
            goto nomem;
        f->df++;
    }
    if (fcount)
        qsort(fs, fcount, sizeof *fs, cmp_feat);
    for (i = 0; i < fcount; i++) {
        const fentry *f = ndx_htab_get(&df, feat_key(fs[i].word, fs[i].side));
        double idf = log((double)s->cand_count / (double)f->df);

        fs[i].weight = (1.0 + log((double)fs[i].count)) * idf;
        norm[fs[i].cand] += fs[i].weight * fs[i].weight;
        start[fs[i].cand + 1] = i + 1;
    }
    for (i = 1; i <= s->cand_count; i++)
        if (start[i] < start[i - 1])
            start[i] = start[i - 1];
    if (s->pair_count &&
        !(s->out = calloc(s->pair_count, sizeof *s->out)))
        goto nomem;
    if (s->pair_count && !(offs = calloc(s->pair_count, sizeof *offs)))
        goto nomem;
    for (i = 0; i < s->pair_count; i++) {
        const wentry *wa = s->names[s->pairs[i].a];
        const wentry *wb = s->names[s->pairs[i].b];
        size_t x = start[wa->cand], xe = start[wa->cand + 1];
        size_t y = start[wb->cand], ye = start[wb->cand + 1];
        shared_nb top[4];
        size_t ntop = 0, shared = 0, t;
        double dot = 0, cos;
        ndx_variant_suggestion *o;

        while (x < xe && y < ye) {
            int c = fs[x].word != fs[y].word
                        ? (fs[x].word < fs[y].word ? -1 : 1)
                        : (int)fs[x].side - (int)fs[y].side;
            double w;

            if (c < 0) {
                x++;
                continue;
            }
            if (c > 0) {
                y++;
                continue;
            }
            w = fs[x].weight * fs[y].weight;
            dot += w;
            if (w > 0) {
                shared++;
                if (ntop < 4 || w > top[3].w) {
                    if (ntop < 4)
                        ntop++;
                    for (t = ntop - 1; t > 0 && top[t - 1].w < w; t--)
                        top[t] = top[t - 1];
                    top[t].w = w;
                    top[t].word = fs[x].word;
                    top[t].side = fs[x].side;
                }
            }
            x++;
            y++;
        }
        if (shared < SHARED_MIN || norm[wa->cand] <= 0 ||
            norm[wb->cand] <= 0)
            continue;
        cos = dot / sqrt(norm[wa->cand] * norm[wb->cand]);
        if (cos < COSINE_MIN)
            continue;
        o = &s->out[s->out_count];
        /* The more frequent spelling first. */
        if (wb->cap > wa->cap) {
            const wentry *tw = wa;

            wa = wb;
            wb = tw;
        }
        o->a = str_at(s, wa->disp);
        o->b = str_at(s, wb->disp);
        o->a_count = wa->cap;
        o->b_count = wb->cap;
        o->a_lower = wa->lower;
        o->b_lower = wb->lower;
        o->edits = edits(str_at(s, wa->off), wa->len, str_at(s, wb->off),
                         wb->len, 2);
        o->similarity = cos;
        o->known = known_pair(s, wa, wb);
        o->shared_count = shared;
        offs[s->out_count] = s->shared.len;
        for (t = 0; t < ntop; t++)
            if ((st = put_shared(s, &top[t], t == 0)))
                goto fail;
        if (ndx_buf_putc(&s->shared, 0))
            goto nomem;
        s->out_count++;
    }
    /* The shared strings moved as the buffer grew: point at them now. */
    for (i = 0; i < s->out_count; i++)
        s->out[i].shared = (const char *)s->shared.data + offs[i];
    if (s->out_count)
        qsort(s->out, s->out_count, sizeof *s->out, cmp_suggestion);
    goto fail;
nomem:
    st = ndx_error(NDX_ENOMEM, "out of memory");
fail:
    free(fs);
    free(start);
    free(norm);
    free(offs);
    ndx_htab_free(&df);
    return st;
}

int
ndx_suggester_end_pass(ndx_suggester *s)
{
    ndx_status st;

    if (s->pass == 1) {
        if ((st = find_pairs(s)))
            return st;
        s->pass = 2;
        return s->pair_count ? 1 : (s->pass = 3, 0);
    }
    if (s->pass == 2) {
        s->pass = 3;
        if ((st = score_pairs(s)))
            return st;
    }
    return 0;
}

const ndx_variant_suggestion *
ndx_suggester_results(const ndx_suggester *s, size_t *count,
                      uint64_t *names, uint64_t *pairs)
{
    if (names)
        *names = s->name_count;
    if (pairs)
        *pairs = s->pair_count;
    *count = s->out_count;
    return s->out;
}
