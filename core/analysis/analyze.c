/*
 * analyze.c - the analyzer: UTF-8 text to folded, stemmed tokens, and the
 * term set of one passage.
 *
 * Tokenizing.  A token is a run of letters and digits (Unicode categories
 * L* and N*).  Marks (M*) continue a word.  An apostrophe (' or U+2019,
 * stored as ') stays inside a word when a letter follows it ("don't"); a
 * ',' or '.' between two decimal digits joins them, the comma dropped and
 * the dot kept ("600,000" -> "600000", "3.5" -> "3.5").  Soft hyphen, ZWJ,
 * ZWNJ and word joiner inside a word are dropped without splitting it.
 * Everything else (hyphens, other punctuation, symbols, emoji, spaces and
 * bytes that are not valid UTF-8) separates tokens.
 *
 * Folding.  Unicode case fold, compatibility decomposition, marks stripped,
 * then canonical composition (NFKC of the case-folded, unaccented text),
 * keeping only letters and digits plus the joined apostrophe and dot.  Pure
 * ASCII tokens, the common case, are folded without utf8proc.  A folded
 * token is cut to NDX_TERM_MAX bytes at a UTF-8 boundary.
 *
 * Stemming.  Snowball (libstemmer, UTF-8), behind a small direct-mapped
 * cache of recent words: news text repeats its words, and the cache saves
 * most of the stemmer's work on the indexing hot path.
 *
 * Term sets.  ndx_termset_build turns a passage (and the article title for
 * the first passage) into the terms both engines index; see analyze.h.
 * Storage, lexicons and postings are left to the engines.
 */
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "newsdex/analyze.h"
#include "util/buf.h"
#include "util/hash.h"

/* Code points of one token kept for folding: folding may compose at most
 * three code points into one of at least one byte, so 256 always yield
 * more than NDX_TERM_MAX bytes; the rest of a longer token is skipped. */
#define CP_CAP 256
/* Code points after decomposition (a compatibility decomposition gives at
 * most 18 code points for one). */
#define DECOMP_CAP 1024
/* Stem cache slots (a power of two).  Tuned on 30 MB of news: 2048 slots
 * missed 32% of lookups, 8192 slots 15%, which took tokenizing from 51 to
 * 67 MB/s.  On the 200 MB of allsides 8192 slots missed 13% and 32768
 * fewer than 3%: a miss costs a Snowball call, about 5% of indexing.  A
 * slot is 64 bytes, words and stems of up to STEM_SLOT_WORD bytes (longer
 * ones are stemmed each time): 2 MB per analyzer, allocated untouched. */
#define STEM_CACHE 32768
#define STEM_SLOT_WORD 29

enum cls {
    C_OTHER = 0, /* separates tokens */
    C_LETTER,    /* L* */
    C_DIGIT,     /* Nd */
    C_NUMBER,    /* Nl, No */
    C_MARK,      /* M*: continues a word */
    C_JOINER     /* format characters that do not split a word */
};

/* Buffers of one token; in the analyzer, or on the stack for ndx_fold. */
typedef struct scratch {
    int32_t cps[CP_CAP];           /* code points as written, joins applied */
    int32_t decomp[DECOMP_CAP];    /* folded code points */
    char text[NDX_TERM_MAX + 1];   /* folded token, NUL-terminated */
} scratch;

typedef struct stem_slot {
    uint32_t stem_hash; /* term_hash of the stem with NDX_PREFIX_STEM */
    uint8_t text_len; /* bytes; 0 for an empty slot */
    uint8_t stem_len; /* bytes */
    char text[STEM_SLOT_WORD];
    char stem[STEM_SLOT_WORD];
} stem_slot;

struct ndx_analyzer {
    struct sb_stemmer *stemmer;
    char language[32];
    scratch sc;
    char stem[NDX_TERM_MAX + 1];
    uint32_t text_hash; /* term_hash of the last word stemmed */
    uint32_t stem_hash; /* term_hash of its stem with NDX_PREFIX_STEM */
    stem_slot *cache;   /* STEM_CACHE slots */
};

/* A token with the term hashes of its surface form and prefixed stem, which
 * the stem cache has at hand: the term set would otherwise hash both again.
 * ndx_analyze passes &tok to its callback; termset_token, called only from
 * there, reads the hashes back. */
typedef struct token_ex {
    ndx_token tok;      /* first, so that &tok converts back */
    uint32_t text_hash; /* term_hash of tok.text */
    uint32_t stem_hash; /* term_hash of NDX_PREFIX_STEM and tok.stem */
} token_ex;

/* ---- character classes --------------------------------------------------- */

static inline int
ascii_class(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return C_LETTER;
    if (c >= '0' && c <= '9')
        return C_DIGIT;
    return C_OTHER;
}

static int
unicode_class(int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return C_NUMBER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    default:
        break;
    }
    if (cp == 0x00AD || cp == 0x200C || cp == 0x200D || cp == 0x2060)
        return C_JOINER;
    return C_OTHER;
}

/* Decodes the character at s[i] (i < len): stores the code point (-1 for an
 * invalid byte) and its class, returns its length in bytes (>= 1). */
static size_t
decode(const unsigned char *s, size_t len, size_t i, int32_t *cp, int *cls)
{
    utf8proc_ssize_t n;

    if (s[i] < 0x80) {
        *cp = s[i];
        *cls = ascii_class(s[i]);
        return 1;
    }
    n = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), cp);
    if (n <= 0) {
        *cp = -1;
        *cls = C_OTHER;
        return 1;
    }
    *cls = unicode_class(*cp);
    return (size_t)n;
}

static int
is_word(int cls)
{
    return cls == C_LETTER || cls == C_DIGIT || cls == C_NUMBER;
}

/* ---- tokens -------------------------------------------------------------- */

/* Cuts a UTF-8 string of len bytes to at most max bytes at a character
 * boundary; returns the new length. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    len = max;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return len;
}

/* Folds the code points sc->cps[0..n) into sc->text; returns its length
 * (0 when nothing letter-like remains). */
static size_t
fold_cps(scratch *sc, size_t n, int ascii)
{
    const utf8proc_option_t opts = UTF8PROC_CASEFOLD | UTF8PROC_COMPAT |
                                   UTF8PROC_COMPOSE | UTF8PROC_STRIPMARK;
    size_t i, k = 0, out = 0;

    if (ascii) {
        if (n > NDX_TERM_MAX)
            n = NDX_TERM_MAX;
        for (i = 0; i < n; i++) {
            int32_t c = sc->cps[i];
            sc->text[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        sc->text[n] = '\0';
        return n;
    }
    for (i = 0; i < n; i++) {
        int32_t c = sc->cps[i];
        utf8proc_ssize_t m, j, kept;
        int boundclass = 0;

        if (c == '\'' || c == '.') {
            if (k < DECOMP_CAP)
                sc->decomp[k++] = c;
            continue;
        }
        m = utf8proc_decompose_char(c, sc->decomp + k,
                                    (utf8proc_ssize_t)(DECOMP_CAP - k), opts,
                                    &boundclass);
        if (m < 0 || (size_t)m > DECOMP_CAP - k)
            break;
        /* Keep letters and digits only: a compatibility decomposition may
         * bring spaces or punctuation ("1/2" from a fraction). */
        for (j = 0, kept = 0; j < m; j++) {
            int32_t d = sc->decomp[k + (size_t)j];
            if (is_word(unicode_class(d)))
                sc->decomp[k + (size_t)kept++] = d;
        }
        k += (size_t)kept;
    }
    if (k == 0) {
        sc->text[0] = '\0';
        return 0;
    }
    {
        utf8proc_ssize_t m = utf8proc_normalize_utf32(
            sc->decomp, (utf8proc_ssize_t)k, UTF8PROC_COMPOSE);
        if (m > 0)
            k = (size_t)m;
    }
    for (i = 0; i < k; i++) {
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t m = utf8proc_encode_char(sc->decomp[i], enc);
        if (m <= 0)
            continue;
        if (out + (size_t)m > NDX_TERM_MAX)
            break;
        memcpy(sc->text + out, enc, (size_t)m);
        out += (size_t)m;
    }
    sc->text[out] = '\0';
    return out;
}

/*
 * Finds the next token at or after *i: returns 1 and sets *off and *end (the
 * token's bytes in s) and *text_len (folded length in sc->text, possibly 0),
 * or 0 when the text has no more tokens.  *i moves past the token.
 */
static int
next_token(const unsigned char *s, size_t len, size_t *i, scratch *sc,
           size_t *off, size_t *end, size_t *text_len)
{
    size_t p = *i, n, ncp = 0;
    int32_t cp;
    int cls, last, ascii = 1;

    for (;;) {
        if (p >= len) {
            *i = p;
            return 0;
        }
        /* ASCII spaces and punctuation between words skip decode. */
        if (s[p] < 0x80 && ascii_class(s[p]) == C_OTHER) {
            p++;
            continue;
        }
        n = decode(s, len, p, &cp, &cls);
        if (is_word(cls))
            break;
        p += n;
    }
    *off = p;
    if (cp < 0x80) {
        /* A word of ASCII letters and digits that ends at the end of the
         * text or at an ASCII character that cannot join it (any but ' , .)
         * is folded here, as fold_cps would fold it: lower case, cut at
         * NDX_TERM_MAX bytes. */
        size_t q = p + 1, k, j;

        while (q < len && s[q] < 0x80 && ascii_class(s[q]) != C_OTHER)
            q++;
        if (q == len ||
            (s[q] < 0x80 && s[q] != '\'' && s[q] != ',' && s[q] != '.')) {
            k = q - p < NDX_TERM_MAX ? q - p : NDX_TERM_MAX;
            for (j = 0; j < k; j++) {
                unsigned char c = s[p + j];

                sc->text[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            }
            sc->text[k] = '\0';
            *end = q;
            *i = q;
            *text_len = k;
            return 1;
        }
    }
    sc->cps[ncp++] = cp;
    ascii = cp < 0x80;
    last = cls;
    p += n;
    while (p < len) {
        int32_t cp2, cp3;
        unsigned char c = s[p];

        /* ASCII letters and digits, the bulk of news text, skip decode. */
        if (c < 0x80 && ascii_class(c) != C_OTHER) {
            if (ncp < CP_CAP)
                sc->cps[ncp++] = c;
            last = c <= '9' ? C_DIGIT : C_LETTER;
            p++;
            continue;
        }
        /* An ASCII character other than these three ends the word
         * whatever follows it (the joiners are not ASCII). */
        if (c < 0x80 && c != '\'' && c != ',' && c != '.')
            break;
        int cls2, cls3;
        size_t n2 = decode(s, len, p, &cp2, &cls2), n3;

        if (is_word(cls2) || cls2 == C_MARK) {
            if (ncp < CP_CAP) {
                sc->cps[ncp++] = cp2;
                if (cp2 >= 0x80)
                    ascii = 0;
            }
            if (cls2 != C_MARK)
                last = cls2;
            p += n2;
            continue;
        }
        if (p + n2 >= len)
            break;
        n3 = decode(s, len, p + n2, &cp3, &cls3);
        (void)n3;
        if (cls2 == C_JOINER && (is_word(cls3) || cls3 == C_MARK)) {
            p += n2;
            continue;
        }
        if ((cp2 == '\'' || cp2 == 0x2019) && cls3 == C_LETTER) {
            if (ncp < CP_CAP)
                sc->cps[ncp++] = '\'';
            p += n2;
            continue;
        }
        if ((cp2 == ',' || cp2 == '.') && last == C_DIGIT &&
            cls3 == C_DIGIT) {
            if (cp2 == '.' && ncp < CP_CAP)
                sc->cps[ncp++] = '.';
            p += n2;
            continue;
        }
        break;
    }
    *end = p;
    *i = p;
    *text_len = fold_cps(sc, ncp, ascii);
    return 1;
}

/* ---- stems --------------------------------------------------------------- */

/* FNV-1a 64 of prefix (when not 0) and s[0..len), folded to 32 bits: the
 * hash of the term prefix+s in the stem cache and in term sets alike. */
static uint32_t
term_hash(char prefix, const char *s, size_t len)
{
    uint64_t h = ndx_fnv1a64_more(NDX_FNV1A64_BASIS, &prefix, prefix != 0);

    h = ndx_fnv1a64_more(h, s, len);
    return (uint32_t)(h ^ (h >> 32));
}

/* Stems text into a->stem; returns its length, or -1 on ENOMEM. */
static int
stem_word(ndx_analyzer *a, const char *text, size_t len)
{
    stem_slot *slot = NULL;
    const sb_symbol *st;
    size_t st_len;

    a->text_hash = term_hash(0, text, len);
    if (a->cache && len <= STEM_SLOT_WORD) {
        slot = &a->cache[a->text_hash & (STEM_CACHE - 1)];
        if (slot->text_len == len && memcmp(slot->text, text, len) == 0) {
            memcpy(a->stem, slot->stem, slot->stem_len);
            a->stem[slot->stem_len] = '\0';
            a->stem_hash = slot->stem_hash;
            return slot->stem_len;
        }
    }
    st = sb_stemmer_stem(a->stemmer, (const sb_symbol *)text, (int)len);
    if (!st)
        return -1;
    st_len = (size_t)sb_stemmer_length(a->stemmer);
    st_len = utf8_cut((const char *)st, st_len, NDX_TERM_MAX);
    if (st_len == 0) {
        /* A stemmer never should empty a word; keep the word if it does. */
        st = (const sb_symbol *)text;
        st_len = len;
    }
    memcpy(a->stem, st, st_len);
    a->stem[st_len] = '\0';
    a->stem_hash = term_hash(NDX_PREFIX_STEM, a->stem, st_len);
    if (slot && st_len <= STEM_SLOT_WORD) {
        slot->stem_hash = a->stem_hash;
        slot->text_len = (uint8_t)len;
        slot->stem_len = (uint8_t)st_len;
        memcpy(slot->text, text, len);
        memcpy(slot->stem, a->stem, st_len);
    }
    return (int)st_len;
}

/* ---- the analyzer -------------------------------------------------------- */

ndx_status
ndx_analyzer_new(ndx_analyzer **out, const char *language)
{
    ndx_analyzer *a;

    *out = NULL;
    if (!language || !*language)
        language = "english";
    if (strlen(language) >= sizeof a->language)
        return ndx_error(NDX_ENOTFOUND, "unknown language '%.40s'",
                         language);
    a = calloc(1, sizeof *a);
    if (!a)
        return ndx_error(NDX_ENOMEM, "out of memory for an analyzer");
    a->stemmer = sb_stemmer_new(language, "UTF_8");
    if (!a->stemmer) {
        free(a);
        return ndx_error(NDX_ENOTFOUND,
                         "unknown language '%s' (Snowball has no stemmer "
                         "for it)", language);
    }
    strcpy(a->language, language);
    /* The cache only saves time; without memory for it we stem each word. */
    a->cache = calloc(STEM_CACHE, sizeof *a->cache);
    *out = a;
    return NDX_OK;
}

void
ndx_analyzer_free(ndx_analyzer *a)
{
    if (!a)
        return;
    if (a->stemmer)
        sb_stemmer_delete(a->stemmer);
    free(a->cache);
    free(a);
}

const char *
ndx_analyzer_language(const ndx_analyzer *a)
{
    return a->language;
}

int
ndx_analyze(ndx_analyzer *a, const char *text, size_t len,
            uint32_t first_pos, ndx_token_fn fn, void *ctx,
            uint32_t *next_pos)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, off, end, text_len;
    uint32_t pos = first_pos;
    int rc = NDX_OK;

    if (len > UINT32_MAX)
        len = UINT32_MAX;
    while (next_token(s, len, &i, &a->sc, &off, &end, &text_len)) {
        token_ex ex;
        ndx_token *tok = &ex.tok;
        int stem_len;

        if (text_len == 0)
            continue;
        stem_len = stem_word(a, a->sc.text, text_len);
        if (stem_len < 0) {
            rc = ndx_error(NDX_ENOMEM, "out of memory while stemming");
            break;
        }
        tok->text = a->sc.text;
        tok->text_len = (uint32_t)text_len;
        tok->stem = a->stem;
        tok->stem_len = (uint32_t)stem_len;
        tok->pos = pos++;
        tok->byte_off = (uint32_t)off;
        tok->byte_len = (uint32_t)(end - off);
        ex.text_hash = a->text_hash;
        ex.stem_hash = a->stem_hash;
        rc = fn(ctx, tok);
        if (rc != 0)
            break;
    }
    if (next_pos)
        *next_pos = pos;
    return rc;
}

size_t
ndx_fold(const char *word, size_t len, char *out, size_t out_cap)
{
    const unsigned char *s = (const unsigned char *)word;
    size_t i = 0, off, end, text_len, used = 0;
    scratch *sc;

    if (out_cap == 0)
        return 0;
    out[0] = '\0';
    sc = malloc(sizeof *sc);
    if (!sc)
        return 0;
    while (next_token(s, len, &i, sc, &off, &end, &text_len)) {
        size_t n = utf8_cut(sc->text, text_len, out_cap - 1 - used);
        memcpy(out + used, sc->text, n);
        used += n;
        if (n < text_len)
            break;
    }
    out[used] = '\0';
    free(sc);
    return used;
}

/* ---- term sets ----------------------------------------------------------- */

typedef struct tentry {
    uint32_t str_off;  /* into pool.strs */
    uint32_t len;      /* bytes, without the NUL */
    uint32_t wdf;
    uint32_t hash;
    uint32_t pos_count;
    uint32_t pos_next; /* where its next position goes in positions */
} tentry;

typedef struct occ {
    uint32_t entry; /* tentry index */
    uint32_t pos;
} occ;

typedef struct tpool {
    char *strs;          /* term bytes, each NUL-terminated */
    size_t strs_len, strs_cap;
    tentry *ents;
    size_t ent_count, ent_cap;
    uint32_t *slots;     /* hash table: entry index + 1, 0 = empty */
    size_t slot_cap;     /* power of two */
    occ *occs;           /* surface occurrences in position order */
    size_t occ_count, occ_cap;
    ndx_term *terms;
    size_t terms_cap;
    uint32_t *positions;
    size_t positions_cap;
} tpool;

static int
pool_rehash(tpool *tp, size_t cap)
{
    uint32_t *slots = calloc(cap, sizeof *slots);
    size_t i;

    if (!slots)
        return -1;
    for (i = 0; i < tp->ent_count; i++) {
        size_t h = tp->ents[i].hash & (cap - 1);
        while (slots[h])
            h = (h + 1) & (cap - 1);
        slots[h] = (uint32_t)i + 1;
    }
    free(tp->slots);
    tp->slots = slots;
    tp->slot_cap = cap;
    return 0;
}

/* Finds or adds the term prefix+s[0..len), whose term_hash is h, and
 * counts one occurrence; returns its entry index or -1 on ENOMEM. */
static long
pool_add(tpool *tp, char prefix, const char *s, size_t len, uint32_t h)
{
    size_t tlen = len + (prefix ? 1 : 0);
    size_t slot;
    tentry *e;

    if ((tp->ent_count + 1) * 2 > tp->slot_cap &&
        pool_rehash(tp, tp->slot_cap ? tp->slot_cap * 2 : 256) != 0)
        return -1;
    slot = h & (tp->slot_cap - 1);
    while (tp->slots[slot]) {
        e = &tp->ents[tp->slots[slot] - 1];
        if (e->hash == h && e->len == tlen) {
            const char *t = tp->strs + e->str_off;
            if ((!prefix || t[0] == prefix) &&
                memcmp(t + (prefix ? 1 : 0), s, len) == 0) {
                e->wdf++;
                return (long)(tp->slots[slot] - 1);
            }
        }
        slot = (slot + 1) & (tp->slot_cap - 1);
    }
    if (ndx_grow((void **)&tp->ents, &tp->ent_cap, tp->ent_count + 1,
                 sizeof *tp->ents, 64) != 0 ||
        ndx_grow((void **)&tp->strs, &tp->strs_cap, tp->strs_len + tlen + 1,
                 1, 64) != 0)
        return -1;
    e = &tp->ents[tp->ent_count];
    e->str_off = (uint32_t)tp->strs_len;
    e->len = (uint32_t)tlen;
    e->wdf = 1;
    e->hash = h;
    e->pos_count = 0;
    e->pos_next = 0;
    if (prefix)
        tp->strs[tp->strs_len++] = prefix;
    memcpy(tp->strs + tp->strs_len, s, len);
    tp->strs_len += len;
    tp->strs[tp->strs_len++] = '\0';
    tp->slots[slot] = (uint32_t)tp->ent_count + 1;
    return (long)tp->ent_count++;
}

typedef struct build_ctx {
    tpool *tp;
    int title; /* 1 while analyzing the title */
} build_ctx;

static int
termset_token(void *ctx, const ndx_token *tok)
{
    build_ctx *bc = ctx;
    const token_ex *ex = (const token_ex *)tok;
    tpool *tp = bc->tp;
    long e;

    e = pool_add(tp, 0, tok->text, tok->text_len, ex->text_hash);
    if (e < 0)
        return NDX_ENOMEM;
    if (ndx_grow((void **)&tp->occs, &tp->occ_cap, tp->occ_count + 1,
                 sizeof *tp->occs, 64) != 0)
        return NDX_ENOMEM;
    tp->occs[tp->occ_count].entry = (uint32_t)e;
    tp->occs[tp->occ_count].pos = tok->pos;
    tp->occ_count++;
    tp->ents[e].pos_count++;
    if (pool_add(tp, NDX_PREFIX_STEM, tok->stem, tok->stem_len,
                 ex->stem_hash) < 0)
        return NDX_ENOMEM;
    if (bc->title
        && pool_add(tp, NDX_PREFIX_TITLE, tok->stem, tok->stem_len,
                    term_hash(NDX_PREFIX_TITLE, tok->stem, tok->stem_len))
               < 0)
        return NDX_ENOMEM;
    return 0;
}

uint32_t
ndx_term_hash(const char *term, size_t len)
{
    return term_hash(0, term, len);
}

void
ndx_termset_init(ndx_termset *ts)
{
    memset(ts, 0, sizeof *ts);
}

void
ndx_termset_free(ndx_termset *ts)
{
    tpool *tp;

    if (!ts)
        return;
    tp = ts->pool;
    if (tp) {
        free(tp->strs);
        free(tp->ents);
        free(tp->slots);
        free(tp->occs);
        free(tp->terms);
        free(tp->positions);
        free(tp);
    }
    memset(ts, 0, sizeof *ts);
}

ndx_status
ndx_termset_build(ndx_termset *ts, ndx_analyzer *a, const char *title,
                  size_t title_len, const char *text, size_t text_len)
{
    tpool *tp = ts->pool;
    build_ctx bc;
    uint32_t pos = 0, next = 0, length = 0;
    size_t i, npos = 0;
    int rc;

    if (!tp) {
        tp = calloc(1, sizeof *tp);
        if (!tp)
            return ndx_error(NDX_ENOMEM, "out of memory for a term set");
        ts->pool = tp;
    }
    tp->strs_len = 0;
    tp->ent_count = 0;
    tp->occ_count = 0;
    if (tp->slots)
        memset(tp->slots, 0, tp->slot_cap * sizeof *tp->slots);
    ts->terms = NULL;
    ts->term_count = 0;
    ts->positions = NULL;
    ts->position_count = 0;
    ts->length = 0;

    bc.tp = tp;
    if (title) {
        bc.title = 1;
        rc = ndx_analyze(a, title, title_len, 0, termset_token, &bc, &next);
        if (rc != 0)
            goto fail;
        pos = next + 1;
    }
    bc.title = 0;
    if (text) {
        rc = ndx_analyze(a, text, text_len, pos, termset_token, &bc, &next);
        if (rc != 0)
            goto fail;
    }

    rc = NDX_ENOMEM;
    if (ndx_grow((void **)&tp->terms, &tp->terms_cap, tp->ent_count + 1,
                 sizeof *tp->terms, 64) != 0 ||
        ndx_grow((void **)&tp->positions, &tp->positions_cap,
                 tp->occ_count + 1, sizeof *tp->positions, 64) != 0)
        goto fail;
    /* Lay out positions term by term, then fill them in position order
     * so that each term's list is ascending. */
    for (i = 0; i < tp->ent_count; i++) {
        tentry *e = &tp->ents[i];
        ndx_term *t = &tp->terms[i];

        t->term = tp->strs + e->str_off;
        t->term_len = e->len;
        t->wdf = e->wdf;
        t->pos_count = e->pos_count;
        t->pos_off = (uint32_t)npos;
        t->hash = e->hash;
        e->pos_next = (uint32_t)npos;
        npos += e->pos_count;
        length += e->wdf;
    }
    for (i = 0; i < tp->occ_count; i++) {
        tentry *e = &tp->ents[tp->occs[i].entry];

        tp->positions[e->pos_next++] = tp->occs[i].pos;
    }
    ts->terms = tp->terms;
    ts->term_count = tp->ent_count;
    ts->positions = tp->positions;
    ts->position_count = npos;
    ts->length = length;
    return NDX_OK;

fail:
    tp->ent_count = 0;
    tp->occ_count = 0;
    if (rc == NDX_ENOMEM)
        return ndx_error(NDX_ENOMEM, "out of memory building a term set");
    return (ndx_status)rc;
}

size_t
ndx_title_key(const char *source, const char *title, char *out)
{
    size_t n = source ? strlen(source) : 0, t = 0;
    const unsigned char *p = (const unsigned char *)title;

    if (!p || !*p || n + 2 >= NDX_TITLE_KEY_MAX)
        return 0;
    memcpy(out, source, n);
    out[n++] = '\0';
    for (; *p && *p < 0x80 && n + t + 1 < NDX_TITLE_KEY_MAX; p++)
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'))
            out[n + t++] = (char)*p;
        else if (*p >= 'A' && *p <= 'Z')
            out[n + t++] = (char)(*p - 'A' + 'a');
    if (*p && *p >= 0x80)
        t = ndx_fold(title, strlen(title), out + n, NDX_TITLE_KEY_MAX - n);
    return t ? n + t : 0;
}
