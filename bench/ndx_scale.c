/*
 * ndx_scale.c - grows a real JSON Lines news corpus to a given number of
 * passages, deterministically, for benchmarks at millions of passages.
 *
 The seed corpus is streamed as many times as needed.  The first pass
 * ("epoch 0") copies it verbatim, so that query sets made from the seed
 * keep matching, and learns its statistics: passages, tokens, vocabulary,
 * the exponent of Heaps' law V = K n^beta, and its span of years.  Each
 * later epoch e turns every seed article into a new one:
 *
 *   id      seed id + "-s<e>"; url gets "?s=<e>" so that no reader sees a
 *           duplicate
 *   source  the seed article's (so the source distribution is kept)
 *   date    the seed date moved back by e * span whole years (an archive
 *           that reaches further into the past), month, day and time kept
 *   text    the same paragraphs (so the passage length distribution is
 *           kept); inside a paragraph of several sentences each sentence is
 *           kept with probability --keep, else replaced by a sentence drawn
 *           from a reservoir of recently seen sentences (topics stay local,
 *           since corpora are sorted by date)
 *   words   a share of the words (capitalised words, i.e. mostly names,
 *           more often) is replaced by new words.  New words are created
 *           only while the vocabulary is below K n^beta for the n tokens
 *           written so far; otherwise an earlier new word is reused, drawn
 *           log-uniformly, which gives the new words Zipfian frequencies
 *           (and, since early words are short, Zipf's law of abbreviation).
 *           New words are syllable strings ("koslin", "bredan"), a
 *           bijection of their rank, so no table is kept.
 *
 * Memory is constant in the size of the output: the sentence reservoir is
 * a fixed ring, and the vocabulary set is only built over the seed.  The
 * number of passages is estimated with the rules of the passage splitter
 * (paragraphs, fragments under 30 words merge, paragraphs over 150 words
 * split near 100); the benchmark reports the exact count the engines saw.
 *
 * Input lines are decoded by a small JSON reader that knows only what a
 * corpus line needs (an object of strings; other values are skipped);
 * gzip is left to zlib.  The output is JSON Lines with the six fields of
 * the shared corpora, gzip-compressed when the output name ends in ".gz".
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#define BENCH_PROG "ndx-scale"
#include "common.h"

#define RESERVOIR_COUNT 32768u  /* sentences; about 4 MB of text */
#define LINE_MAX_LEN (64u << 20) /* bytes; longer input lines are skipped */
#define HEAPS_POINTS 64
#define YEAR_MAX 4000

/* ---- small utilities ---------------------------------------------------- */

typedef struct sbuf {
    char *data;
    size_t len;
    size_t cap;
} sbuf;

static void
sb_reserve(sbuf *b, size_t extra)
{
    size_t cap;

    if (b->len + extra + 1 <= b->cap)
        return;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = realloc(b->data, cap);
    if (!b->data)
        die("out of memory");
    b->cap = cap;
}

static void
sb_put(sbuf *b, const char *p, size_t len)
{
    sb_reserve(b, len);
    memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void
sb_putc(sbuf *b, char c)
{
    sb_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

static void
sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Appends s as a JSON string body: quote, backslash and control
 * characters escaped; UTF-8 passes through. */
static void
sb_put_json(sbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    sb_reserve(b, len + 2);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sb_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': sb_put(b, "\\\"", 2); break;
        case '\\': sb_put(b, "\\\\", 2); break;
        case '\n': sb_put(b, "\\n", 2); break;
        case '\t': sb_put(b, "\\t", 2); break;
        case '\r': sb_put(b, "\\r", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

            sb_put(b, u, 6);
        }
        }
    }
    sb_put(b, s + run, len - run);
}

/* splitmix64: a fast, well mixed 64-bit generator. */
static uint64_t
mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t
rng_next(rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}

/* Uniform in [0, 1). */
static double
rng_unit(rng *r)
{
    return (rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- input ------------------------------------------------------------- */

typedef struct input {
    gzFile gz;
    const char *path;
    sbuf line;
    long line_no;
} input;

static void
input_open(input *in, const char *path)
{
    in->gz = gzopen(path, "rb");
    if (!in->gz)
        die("open %s: %s", path, strerror(errno));
    gzbuffer(in->gz, 1u << 20);
    in->path = path;
    in->line_no = 0;
}

/* Reads one line (without its newline) into in->line; 0 at the end. */
static int
input_line(input *in)
{
    in->line.len = 0;
    for (;;) {
        char *got;
        size_t n;

        sb_reserve(&in->line, 65536);
        got = gzgets(in->gz, in->line.data + in->line.len,
                     (int)(in->line.cap - in->line.len));
        if (!got)
            break;
        n = strlen(in->line.data + in->line.len);
        in->line.len += n;
        if (in->line.len && in->line.data[in->line.len - 1] == '\n') {
            in->line.data[--in->line.len] = '\0';
            break;
        }
        if (in->line.len > LINE_MAX_LEN)
            die("%s:%ld: line longer than %u bytes", in->path,
                in->line_no + 1, LINE_MAX_LEN);
    }
    if (in->line.len == 0 && gzeof(in->gz))
        return 0;
    in->line_no++;
    return 1;
}

/* ---- JSON ------------------------------------------------------------- */

enum { F_ID, F_SOURCE, F_DATE, F_TITLE, F_URL, F_TEXT, F_COUNT };

static const char *const field_names[F_COUNT] = {
    "id", "source", "date", "title", "url", "text"
};

typedef struct article {
    const char *f[F_COUNT];   /* decoded, NUL-terminated; "" when absent */
    size_t len[F_COUNT];      /* bytes */
    sbuf store;               /* the decoded strings */
    sbuf key;
} article;

static const char *
skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static int
hex4(const char *p, const char *e, unsigned *v)
{
    int i;

    *v = 0;
    if (e - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        char c = p[i];

        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

static void
put_utf8(sbuf *b, unsigned cp)
{
    char u[4];

    if (cp < 0x80) {
        sb_putc(b, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        sb_put(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        sb_put(b, u, 3);
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        sb_put(b, u, 4);
    }
}

/* Decodes the JSON string at p (on its opening quote) onto out; returns
 * the position after the closing quote, or NULL when it is malformed. */
static const char *
read_string(const char *p, const char *e, sbuf *out)
{
    p++;
    for (;;) {
        const char *q = p;
        unsigned cp, lo;

        while (q < e && *q != '"' && *q != '\\')
            q++;
        sb_put(out, p, (size_t)(q - p));
        if (q >= e)
            return NULL;
        if (*q == '"')
            return q + 1;
        if (q + 1 >= e)
            return NULL;
        p = q + 2;
        switch (q[1]) {
        case '"': sb_putc(out, '"'); break;
        case '\\': sb_putc(out, '\\'); break;
        case '/': sb_putc(out, '/'); break;
        case 'b': sb_putc(out, '\b'); break;
        case 'f': sb_putc(out, '\f'); break;
        case 'n': sb_putc(out, '\n'); break;
        case 'r': sb_putc(out, '\r'); break;
        case 't': sb_putc(out, '\t'); break;
        case 'u':
            if (hex4(p, e, &cp))
                return NULL;
            p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && e - p >= 6 && p[0] == '\\' &&
                p[1] == 'u' && !hex4(p + 2, e, &lo) && lo >= 0xdc00 &&
                lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd; /* a lone surrogate */
            }
            put_utf8(out, cp);
            break;
        default:
            return NULL;
        }
    }
}

/* Skips any JSON value; returns the position after it or NULL. */
static const char *
skip_value(const char *p, const char *e, sbuf *scratch)
{
    int depth = 0;

    do {
        p = skip_ws(p, e);
        if (p >= e)
            return NULL;
        if (*p == '"') {
            scratch->len = 0;
            if (!(p = read_string(p, e, scratch)))
                return NULL;
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            if (--depth < 0)
                return NULL;
            p++;
        } else if (*p == ',' || *p == ':') {
            if (depth == 0)
                return NULL;
            p++;
        } else {
            while (p < e && *p != ',' && *p != '}' && *p != ']' &&
                   *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                p++;
        }
    } while (depth > 0);
    return p;
}

/*
 * Decodes one corpus line: an object whose six known fields are strings.
 * Returns 0 (with a warning) when the line is not such an object or has no
 * text.
 */
static int
article_parse(article *a, const char *line, size_t len, const char *path,
              long line_no)
{
    const char *p = line, *e = line + len;
    size_t off[F_COUNT];
    int i, found[F_COUNT] = {0};

    a->store.len = 0;
    p = skip_ws(p, e);
    if (p >= e)
        return 0;
    if (*p != '{')
        goto bad;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}')
        goto bad;
    for (;;) {
        if (p >= e || *p != '"')
            goto bad;
        a->key.len = 0;
        if (!(p = read_string(p, e, &a->key)))
            goto bad;
        p = skip_ws(p, e);
        if (p >= e || *p != ':')
            goto bad;
        p = skip_ws(p + 1, e);
        for (i = 0; i < F_COUNT; i++)
            if (a->key.len == strlen(field_names[i]) &&
                !memcmp(a->key.data, field_names[i], a->key.len))
                break;
        if (i < F_COUNT && p < e && *p == '"') {
            off[i] = a->store.len;
            if (!(p = read_string(p, e, &a->store)))
                goto bad;
            a->len[i] = a->store.len - off[i];
            sb_putc(&a->store, '\0');
            found[i] = 1;
        } else if (!(p = skip_value(p, e, &a->key))) {
            goto bad;
        }
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}')
            break;
        goto bad;
    }
    for (i = 0; i < F_COUNT; i++) {
        a->f[i] = found[i] ? a->store.data + off[i] : "";
        if (!found[i])
            a->len[i] = 0;
    }
    return a->len[F_TEXT] > 0;

bad:
    fprintf(stderr, "ndx-scale: %s:%ld: skipped: not a JSON object of "
            "strings\n", path, line_no);
    return 0;
}

/* ---- tokens, words, passages -------------------------------------------- */

static unsigned char word_bytes[256]; /* 1: letter, digit or non-ASCII */

static void
word_bytes_init(void)
{
    int c;

    for (c = 0; c < 256; c++)
        word_bytes[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static inline int
is_word_byte(unsigned char c)
{
    return word_bytes[c];
}

/* Hash set of 64-bit word hashes, for the seed vocabulary only. */
typedef struct hset {
    uint64_t *slots;
    size_t cap; /* power of two */
    size_t count;
} hset;

static void
hset_add(hset *h, uint64_t k)
{
    size_t i;

    if (k == 0)
        k = 1;
    if ((h->count + 1) * 2 > h->cap) {
        size_t old_cap = h->cap, j;
        uint64_t *old = h->slots;

        h->cap = old_cap ? old_cap * 2 : 1u << 16;
        h->slots = calloc(h->cap, sizeof *h->slots);
        if (!h->slots)
            die("out of memory");
        h->count = 0;
        for (j = 0; j < old_cap; j++)
            if (old[j])
                hset_add(h, old[j]);
        free(old);
    }
    for (i = k & (h->cap - 1); h->slots[i]; i = (i + 1) & (h->cap - 1))
        if (h->slots[i] == k)
            return;
    h->slots[i] = k;
    h->count++;
}

/* FNV-1a over a lower-cased word. */
static uint64_t
word_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)tolower((unsigned char)s[i]);
        h *= 1099511628211ULL;
    }
    return h;
}

/* Counts the tokens (runs of letters, digits or non-ASCII bytes) of s,
 * adding each to vocab when it is not NULL. */
static size_t
count_tokens(const char *s, size_t len, hset *vocab)
{
    size_t i = 0, n = 0;

    while (i < len) {
        size_t start;

        while (i < len && !is_word_byte((unsigned char)s[i]))
            i++;
        if (i >= len)
            break;
        start = i;
        while (i < len && is_word_byte((unsigned char)s[i]))
            i++;
        n++;
        if (vocab)
            hset_add(vocab, word_hash(s + start, i - start));
    }
    return n;
}

static inline int
is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' ||
           c == '\v';
}

static size_t
count_words(const char *s, size_t len)
{
    size_t i = 0, n = 0;

    while (i < len) {
        while (i < len && is_space(s[i]))
            i++;
        if (i >= len)
            break;
        n++;
        while (i < len && !is_space(s[i]))
            i++;
    }
    return n;
}

/* Whether a paragraph ends a sentence (. ! ? maybe before a closing quote
 * or bracket). */
static int
ends_sentence(const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '"' ||
                       s[len - 1] == '\'' || s[len - 1] == ')'))
        len--;
    /* U+201D RIGHT DOUBLE QUOTATION MARK */
    if (len >= 3 && (unsigned char)s[len - 3] == 0xe2 &&
        (unsigned char)s[len - 2] == 0x80 && (unsigned char)s[len - 1] == 0x9d)
        len -= 3;
    return len > 0 && (s[len - 1] == '.' || s[len - 1] == '!' ||
                       s[len - 1] == '?');
}

/*
 * Estimates the passages the splitter makes of a text, by its rules for
 * the default options: blank-line separated paragraphs; a heading (at most
 * 16 words, no final punctuation) joins the paragraph after it; a
 * paragraph above 150 words splits at sentences into pieces near 100
 * words; a fragment below 30 words merges with the passage before it (the
 * first one with the one after it) while the sum stays within 150 words.
 * Furniture lines are not recognised, so news with much page furniture
 * gets a few passages too many.
 */
static size_t
estimate_passages(const char *text, size_t len)
{
    size_t count = 0, last = 0, heading = 0, i = 0;

    while (i < len) {
        const char *end = memmem(text + i, len - i, "\n\n", 2);
        size_t plen = end ? (size_t)(end - (text + i)) : len - i;
        size_t w = count_words(text + i, plen);

        i += plen + (end ? 2 : 0);
        if (w == 0)
            continue;
        if (w <= 16 && !ends_sentence(text + i - plen - (end ? 2 : 0),
                                      plen) && i < len) {
            heading += w;
            continue;
        }
        w += heading;
        heading = 0;
        if (w > 150) {
            size_t pieces = (w + 50) / 100;

            count += pieces < 2 ? 2 : pieces;
            last = w / (pieces < 2 ? 2 : pieces);
        } else if (count > 0 && (w < 30 || last < 30) && last + w <= 150) {
            last += w;
        } else {
            count++;
            last = w;
        }
    }
    if (heading > 0) {
        if (count > 0 && last + heading <= 150)
            last += heading;
        else
            count++;
    }
    return count;
}

/* ---- new words -------------------------------------------------------- */

static const char *const onsets[] = {
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r",
    "s", "t", "v", "w", "z", "br", "ch", "dr", "gr", "kr", "st", "th", "tr"
};
static const char *const vowels[] = {"a", "e", "i", "o", "u", "ia"};
static const char *const codas[] = {"", "", "n", "r", "l", "s", "t", "m"};

#define N_ONSETS (sizeof onsets / sizeof *onsets)
#define N_VOWELS (sizeof vowels / sizeof *vowels)
#define N_CODAS (sizeof codas / sizeof *codas)
#define N_SYLL ((uint64_t)(N_ONSETS * N_VOWELS * N_CODAS))

/*
 * Spells new word number v (from 1): two syllables while there are enough
 * two-syllable words, then three, then four.  Within a length the rank is
 * scrambled by multiplying with a prime that shares no factor with the
 * count, a bijection, so that every v gets its own spelling.
 */
static size_t
new_word(uint64_t v, char *out)
{
    uint64_t space = N_SYLL * N_SYLL, idx = v - 1;
    unsigned sylls = 2, k;
    size_t len = 0;

    while (idx >= space && sylls < 4) {
        idx -= space;
        space *= N_SYLL;
        sylls++;
    }
    /* space <= N_SYLL^4 < 2^42, so the product fits in 64 bits. */
    idx = (idx % space) * 1000003u % space;
    for (k = 0; k < sylls; k++) {
        uint64_t s = idx % N_SYLL;
        const char *parts[3];
        unsigned j;

        idx /= N_SYLL;
        parts[0] = onsets[s % N_ONSETS];
        parts[1] = vowels[(s / N_ONSETS) % N_VOWELS];
        parts[2] = codas[s / (N_ONSETS * N_VOWELS)];
        for (j = 0; j < 3; j++) {
            size_t l = strlen(parts[j]);

            memcpy(out + len, parts[j], l);
            len += l;
        }
    }
    out[len] = '\0';
    return len;
}

/* ---- the generator ----------------------------------------------------- */

typedef struct params {
    uint64_t target_passages;
    uint64_t seed;
    double p_name;       /* chance a capitalised word is replaced */
    double p_word;       /* chance another word of 4+ letters is */
    double keep;         /* chance a sentence stays in its paragraph */
    double beta;         /* Heaps exponent; <= 0: fit on the seed */
    int quiet;
} params;

typedef struct seedstats {
    uint64_t articles;
    uint64_t passages;
    uint64_t tokens;
    uint64_t vocab;
    int first_year, last_year;
    double beta, k;
} seedstats;

typedef struct gen {
    params p;
    seedstats seed;
    rng r;
    uint64_t tokens;         /* written so far */
    uint64_t new_words;      /* created so far */
    uint64_t passages;       /* estimated, written so far */
    uint64_t articles;
    uint64_t bytes;          /* JSON bytes written */
    double t_start;          /* seconds, when writing began */
    char *ring[RESERVOIR_COUNT];
    size_t ring_next, ring_fill;
    size_t *cuts;            /* sentence offset and length pairs */
    size_t cuts_count, cuts_cap;
    sbuf text, para, title, word, out;
    article art;
} gen;

static int
year_of(const char *date)
{
    if (strlen(date) >= 4 && isdigit((unsigned char)date[0]) &&
        isdigit((unsigned char)date[1]) && isdigit((unsigned char)date[2]) &&
        isdigit((unsigned char)date[3]))
        return atoi(date) ? atoi(date) : -1;
    return -1;
}

/*
 * Least-squares slope of log V against log n over the second half (on a
 * log scale) of the seed's growth curve, where Heaps' law holds best.
 */
static double
fit_heaps(const double *n, const double *v, int count)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, beta;
    int i, used = 0;

    for (i = count / 2; i < count; i++) {
        double x = log(n[i]), y = log(v[i]);

        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        used++;
    }
    if (used < 3)
        return 0.55;
    beta = (used * sxy - sx * sy) / (used * sxx - sx * sx);
    if (!(beta >= 0.35))
        beta = 0.35;
    if (beta > 0.85)
        beta = 0.85;
    return beta;
}

/* What epoch 0 gathers about the seed while it copies it. */
typedef struct learner {
    hset vocab;
    double pn[HEAPS_POINTS], pv[HEAPS_POINTS];
    int points;
    uint64_t next_point;
    uint64_t years[YEAR_MAX];
    uint64_t dated;
} learner;

static void
learn_article(gen *g, learner *l, const article *a, size_t passages)
{
    int y;

    g->seed.articles++;
    g->seed.passages += passages;
    g->seed.tokens += count_tokens(a->f[F_TITLE], a->len[F_TITLE], &l->vocab);
    g->seed.tokens += count_tokens(a->f[F_TEXT], a->len[F_TEXT], &l->vocab);
    while (g->seed.tokens >= l->next_point && l->points < HEAPS_POINTS) {
        l->pn[l->points] = (double)g->seed.tokens;
        l->pv[l->points] = (double)l->vocab.count;
        l->points++;
        l->next_point += l->next_point / 2;
    }
    y = year_of(a->f[F_DATE]);
    if (y > 0 && y < YEAR_MAX) {
        l->years[y]++;
        l->dated++;
    }
}

static void
learn_finish(gen *g, learner *l)
{
    uint64_t seen;
    int y;

    g->seed.vocab = l->vocab.count;
    free(l->vocab.slots);
    l->vocab.slots = NULL;
    if (l->points < HEAPS_POINTS) {
        l->pn[l->points] = (double)g->seed.tokens;
        l->pv[l->points] = (double)g->seed.vocab;
        l->points++;
    }
    g->seed.beta = g->p.beta > 0 ? g->p.beta
                                 : fit_heaps(l->pn, l->pv, l->points);
    g->seed.k = g->seed.vocab / pow((double)g->seed.tokens, g->seed.beta);
    /* The span of years that holds all but the outer 0.5 % on each side,
     * so that a few stray old articles do not stretch it. */
    g->seed.first_year = g->seed.last_year = 2000;
    for (y = 1, seen = 0; l->dated && y < YEAR_MAX; y++) {
        if (seen <= l->dated / 200 && seen + l->years[y] > l->dated / 200)
            g->seed.first_year = y;
        seen += l->years[y];
        if (l->years[y] && seen - l->years[y] < l->dated - l->dated / 200)
            g->seed.last_year = y;
    }
}

static void
ring_push(gen *g, const char *s, size_t len)
{
    char *copy = malloc(len + 1);

    if (!copy)
        die("out of memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    free(g->ring[g->ring_next]);
    g->ring[g->ring_next] = copy;
    g->ring_next = (g->ring_next + 1) % RESERVOIR_COUNT;
    if (g->ring_fill < RESERVOIR_COUNT)
        g->ring_fill++;
}

static void
cuts_push(gen *g, size_t off, size_t len)
{
    if (g->cuts_count == g->cuts_cap) {
        g->cuts_cap = g->cuts_cap ? g->cuts_cap * 2 : 64;
        g->cuts = realloc(g->cuts, 2 * g->cuts_cap * sizeof *g->cuts);
        if (!g->cuts)
            die("out of memory");
    }
    g->cuts[2 * g->cuts_count] = off;
    g->cuts[2 * g->cuts_count + 1] = len;
    g->cuts_count++;
}

/* Length of the sentence starting at s (up to and including its end mark
 * and closing quotes), not counting the spaces after it. */
static size_t
sentence_len(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        size_t j;

        if (s[i] != '.' && s[i] != '!' && s[i] != '?')
            continue;
        j = i + 1;
        while (j < len && (s[j] == '"' || s[j] == '\'' || s[j] == ')'))
            j++;
        if (j + 1 < len && s[j] == ' ' &&
            (isupper((unsigned char)s[j + 1]) || s[j + 1] == '"' ||
             (unsigned char)s[j + 1] >= 0x80))
            return j;
        /* UTF-8 closing quote (U+201D) after the mark. */
        if (j + 4 < len && (unsigned char)s[j] == 0xe2 &&
            (unsigned char)s[j + 1] == 0x80 &&
            (unsigned char)s[j + 2] == 0x9d && s[j + 3] == ' ')
            return j + 3;
    }
    return len;
}

/* The current number of new words Heaps' law allows after n tokens. */
static uint64_t
new_word_budget(const gen *g)
{
    double v = g->seed.k * pow((double)g->tokens, g->seed.beta);

    return v > (double)g->seed.vocab ? (uint64_t)(v - g->seed.vocab) : 0;
}

/* Writes a replacement for the word w[0..len) into g->word, keeping its
 * case pattern. */
static void
replace_word(gen *g, const char *w, size_t len)
{
    char spelled[64];
    uint64_t v;
    size_t n, i;
    int all_upper = len > 1;

    if (g->new_words < new_word_budget(g)) {
        v = ++g->new_words;
    } else {
        double u = rng_unit(&g->r);

        v = (uint64_t)exp(u * log((double)g->new_words + 1.0));
        if (v < 1)
            v = 1;
        if (v > g->new_words)
            v = g->new_words;
    }
    n = new_word(v, spelled);
    for (i = 0; i < len; i++)
        if (!isupper((unsigned char)w[i]))
            all_upper = 0;
    for (i = 0; i < n; i++) {
        if (all_upper || (i == 0 && isupper((unsigned char)w[0])))
            spelled[i] = (char)toupper((unsigned char)spelled[i]);
    }
    sb_put(&g->word, spelled, n);
}

/*
 * Appends s[0..len) to out, replacing some words (when mutate is set) and
 * counting tokens.  Returns the number of words replaced.  With force, the
 * first eligible word is replaced whatever the dice say.
 */
static size_t
emit_words(gen *g, sbuf *out, const char *s, size_t len, int mutate,
           int force)
{
    size_t i = 0, done = 0, run = 0;
    int sentence_start = 1;

    while (i < len) {
        size_t start;
        int letters = 1, cap;
        double p;

        if (!is_word_byte((unsigned char)s[i])) {
            if (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == '\n')
                sentence_start = 1;
            i++;
            continue;
        }
        start = i;
        while (i < len && is_word_byte((unsigned char)s[i])) {
            if (!isalpha((unsigned char)s[i]))
                letters = 0;
            i++;
        }
        g->tokens++;
        if (!mutate || !letters || i - start < 4 ||
            (i < len && s[i] == '\'') || (start > 0 && s[start - 1] == '\'')) {
            sentence_start = 0;
            continue;
        }
        cap = isupper((unsigned char)s[start]);
        p = cap && !sentence_start ? g->p.p_name : g->p.p_word;
        sentence_start = 0;
        if (!(force && done == 0) && rng_unit(&g->r) >= p)
            continue;
        sb_put(out, s + run, start - run);
        g->word.len = 0;
        replace_word(g, s + start, i - start);
        sb_put(out, g->word.data, g->word.len);
        run = i;
        done++;
    }
    sb_put(out, s + run, len - run);
    return done;
}

/* Builds the text of a synthetic article from a seed article. */
static void
make_text(gen *g, const article *a)
{
    const char *text = a->f[F_TEXT];
    size_t text_len = a->len[F_TEXT];
    size_t i = 0, changed = 0;

    g->text.len = 0;
    while (i < text_len) {
        const char *p = text + i;
        const char *end = memmem(p, text_len - i, "\n\n", 2);
        size_t plen = end ? (size_t)(end - p) : text_len - i;
        size_t off = 0, k;

        /* Sentence boundaries first: one-sentence paragraphs (headings,
         * table rows, captions) are kept whole. */
        g->cuts_count = 0;
        while (off < plen) {
            size_t sl = sentence_len(p + off, plen - off);

            cuts_push(g, off, sl);
            off += sl;
            while (off < plen && p[off] == ' ')
                off++;
        }
        g->para.len = 0;
        for (k = 0; k < g->cuts_count; k++) {
            size_t so = g->cuts[2 * k], sl = g->cuts[2 * k + 1];

            if (g->para.len)
                sb_putc(&g->para, ' ');
            if (g->cuts_count > 1 && g->ring_fill > 0 &&
                rng_unit(&g->r) >= g->p.keep) {
                const char *s = g->ring[rng_next(&g->r) % g->ring_fill];

                sb_puts(&g->para, s);
                changed++;
            } else {
                sb_put(&g->para, p + so, sl);
            }
            if (g->cuts_count > 1 && sl > 20)
                ring_push(g, p + so, sl);
        }
        if (g->text.len)
            sb_put(&g->text, "\n\n", 2);
        changed += emit_words(g, &g->text, g->para.data ? g->para.data : "",
                              g->para.len, 1, 0);
        i += plen + (end ? 2 : 0);
    }
    if (!changed) {
        /* Make sure no reader drops the article as a duplicate text. */
        sbuf keep = g->text;

        g->text = (sbuf){0};
        g->tokens -= count_tokens(keep.data, keep.len, NULL);
        emit_words(g, &g->text, keep.data, keep.len, 1, 1);
        free(keep.data);
    }
}

static void
put_field(sbuf *o, const char *name, const char *v, size_t len, int last)
{
    sb_putc(o, '"');
    sb_puts(o, name);
    sb_puts(o, "\": \"");
    sb_put_json(o, v, len);
    sb_puts(o, last ? "\"}\n" : "\", ");
}

/* Moves an ISO date back by years (the rest of the string kept). */
static void
shift_date(char *out, size_t cap, const char *date, int years)
{
    int y, m, d;
    size_t len = strlen(date);

    if (len >= 10 && sscanf(date, "%4d-%2d-%2d", &y, &m, &d) == 3 &&
        date[4] == '-' && date[7] == '-') {
        int leap;

        y -= years;
        leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (m == 2 && d == 29 && !leap)
            d = 28;
        snprintf(out, cap, "%04d-%02d-%02d%s", y, m, d, date + 10);
    } else {
        snprintf(out, cap, "%s", date);
    }
}

typedef struct output {
    FILE *f;
    gzFile gz;
} output;

static void
out_write(output *o, const char *p, size_t len)
{
    if (o->gz) {
        if (gzwrite(o->gz, p, (unsigned)len) != (int)len)
            die("write: %s", gzerror(o->gz, NULL));
    } else if (fwrite(p, 1, len, o->f) != len) {
        die("write: %s", strerror(errno));
    }
}

static void
progress(const gen *g, int force)
{
    static double last;
    double t = now_s(), t0 = g->t_start;

    if (last < t0)
        last = t0;
    if (g->p.quiet || (!force && t - last < 2.0))
        return;
    last = t;
    fprintf(stderr, "\rndx-scale: %llu articles, ~%llu passages, %.0f MB, "
            "%.1f MB/s   ", (unsigned long long)g->articles,
            (unsigned long long)g->passages, g->bytes / 1e6,
            g->bytes / 1e6 / (t - t0 > 1e-9 ? t - t0 : 1e-9));
    if (force)
        fputc('\n', stderr);
}

/* Writes one epoch; returns 1 when the target was reached. */
/* Writes one epoch; returns 1 when the target was reached. */
static int
run_epoch(gen *g, const char *path, unsigned epoch, output *o, learner *l)
{
    input in = {0};
    article *a = &g->art;
    int span = g->seed.last_year - g->seed.first_year + 1;
    int reached = 0;

    input_open(&in, path);
    while (!reached && input_line(&in)) {
        char date[64], suffix[32];
        size_t np;

        if (!article_parse(a, in.line.data, in.line.len, path, in.line_no))
            continue;
        g->r.s = mix64(g->p.seed ^ mix64(((uint64_t)epoch << 32) ^
                                         (uint64_t)in.line_no));
        g->out.len = 0;
        if (epoch == 0) {
            np = estimate_passages(a->f[F_TEXT], a->len[F_TEXT]);
            learn_article(g, l, a, np);
            g->tokens = g->seed.tokens;
            sb_put(&g->out, in.line.data, in.line.len);
            sb_putc(&g->out, '\n');
        } else {
            snprintf(suffix, sizeof suffix, "-s%u", epoch);
            sb_puts(&g->out, "{\"id\": \"");
            sb_put_json(&g->out, a->f[F_ID], a->len[F_ID]);
            sb_puts(&g->out, suffix);
            sb_puts(&g->out, "\", ");
            put_field(&g->out, "source", a->f[F_SOURCE], a->len[F_SOURCE], 0);
            shift_date(date, sizeof date, a->f[F_DATE], (int)epoch * span);
            put_field(&g->out, "date", date, strlen(date), 0);
            g->title.len = 0;
            emit_words(g, &g->title, a->f[F_TITLE], a->len[F_TITLE], 1, 0);
            put_field(&g->out, "title", g->title.data ? g->title.data : "",
                      g->title.len, 0);
            sb_puts(&g->out, "\"url\": \"");
            if (a->len[F_URL]) {
                sb_put_json(&g->out, a->f[F_URL], a->len[F_URL]);
                snprintf(suffix, sizeof suffix, "%cs=%u",
                         strchr(a->f[F_URL], '?') ? '&' : '?', epoch);
                sb_puts(&g->out, suffix);
            }
            sb_puts(&g->out, "\", ");
            make_text(g, a);
            np = estimate_passages(g->text.data, g->text.len);
            put_field(&g->out, "text", g->text.data, g->text.len, 1);
        }
        out_write(o, g->out.data, g->out.len);
        g->bytes += g->out.len;
        g->articles++;
        g->passages += np;
        if (g->passages >= g->p.target_passages)
            reached = 1;
        progress(g, 0);
    }
    gzclose(in.gz);
    free(in.line.data);
    return reached;
}

static void
usage(void)
{
    fputs("usage: ndx-scale -n PASSAGES [-o OUT.jsonl[.gz]] [--seed S]\n"
          "                 [--names P] [--words P] [--keep P] [--beta B]\n"
          "                 [--quiet] SEED.jsonl[.gz]\n"
          "Grows a JSON Lines news corpus to about PASSAGES passages.\n",
          stderr);
    exit(2);
}

int
main(int argc, char **argv)
{
    gen *g = calloc(1, sizeof *g);
    const char *in_path = NULL, *out_path = NULL;
    output o = {stdout, NULL};
    learner *l = NULL;
    unsigned epoch;
    double t0 = now_s();
    int i;

    if (!g)
        die("out of memory");
    word_bytes_init();
    g->p.seed = 1;
    g->p.p_name = 0.12;
    g->p.p_word = 0.01;
    g->p.keep = 0.5;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            g->p.quiet = 1;
            continue;
        }
        if (a[0] != '-') {
            if (in_path)
                usage();
            in_path = a;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "-n") || !strcmp(a, "--passages"))
            g->p.target_passages = strtoull(v, NULL, 10);
        else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
            out_path = v;
        else if (!strcmp(a, "--seed"))
            g->p.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--names"))
            g->p.p_name = atof(v);
        else if (!strcmp(a, "--words"))
            g->p.p_word = atof(v);
        else if (!strcmp(a, "--keep"))
            g->p.keep = atof(v);
        else if (!strcmp(a, "--beta"))
            g->p.beta = atof(v);
        else
            usage();
    }
    if (!in_path || g->p.target_passages == 0)
        usage();
    if (out_path && strcmp(out_path, "-")) {
        size_t name_len = strlen(out_path);

        if (name_len > 3 && !strcmp(out_path + name_len - 3, ".gz")) {
            o.gz = gzopen(out_path, "wb1");
            if (!o.gz)
                die("create %s: %s", out_path, strerror(errno));
            gzbuffer(o.gz, 1u << 20);
        } else if (!(o.f = fopen(out_path, "wb"))) {
            die("create %s: %s", out_path, strerror(errno));
        }
    }
    g->t_start = t0;
    if (!(l = calloc(1, sizeof *l)))
        die("out of memory");
    l->next_point = 4096;
    for (epoch = 0;; epoch++) {
        if (run_epoch(g, in_path, epoch, &o, l))
            break;
        if (epoch > 0)
            continue;
        if (g->seed.passages == 0)
            die("%s: no article with text", in_path);
        learn_finish(g, l);
        if (!g->p.quiet)
            fprintf(stderr, "\nndx-scale: seed %s: %llu articles, "
                    "~%llu passages, %llu tokens, %llu words "
                    "(Heaps beta %.3f, K %.2f), years %d-%d\n", in_path,
                    (unsigned long long)g->seed.articles,
                    (unsigned long long)g->seed.passages,
                    (unsigned long long)g->seed.tokens,
                    (unsigned long long)g->seed.vocab, g->seed.beta,
                    g->seed.k, g->seed.first_year, g->seed.last_year);
    }
    progress(g, 1);
    if (!g->p.quiet)
        fprintf(stderr, "ndx-scale: %u epochs, %llu new words "
                "(vocabulary ~%llu), %.1f s\n", epoch + 1,
                (unsigned long long)g->new_words,
                (unsigned long long)(g->seed.vocab + g->new_words),
                now_s() - t0);
    if (o.gz) {
        if (gzclose(o.gz) != Z_OK)
            die("close %s", out_path);
    } else if (fflush(o.f) || (o.f != stdout && fclose(o.f))) {
        die("write %s: %s", out_path ? out_path : "stdout", strerror(errno));
    }
    for (i = 0; i < (int)RESERVOIR_COUNT; i++)
        free(g->ring[i]);
    free(g->text.data);
    free(g->para.data);
    free(g->title.data);
    free(g->word.data);
    free(g->out.data);
    free(g->cuts);
    free(g->art.store.data);
    free(g->art.key.data);
    free(l->vocab.slots);
    free(l);
    free(g);
    return 0;
}
