/*
 * query.c - the query language (DESIGN section 5): text to a tree of
 * terms, phrases, prefixes, AND, OR and NOT, plus source and date filters
 * and the list of words to highlight.
 *
 * Grammar (whitespace separates; OR binds tighter than the implicit AND):
 *   seq    := item*                       AND of the items
 *   item   := '-' atom | NOT atom | or
 *   or     := atom (OR atom)*
 *   atom   := '(' seq ')' | '"' text '"' | field ':' value | word ['*']
 *   field  := title | source | date | after | before   (any case)
 *   value  := word | '"' text '"'
 * "OR" and "NOT" are operators only in upper case.  A '-' starts an
 * exclusion only at the start of a word; "a-b" is a word.  Straight and
 * curly double quotes both delimit phrases.  Exclusions of a sequence are
 * gathered into one NOT node: NOT(AND of the rest, OR of the excluded);
 * a group's exclusions join those of the sequence around it.
 *
 * Words are analyzed with the caller's analyzer: one token gives a TERM
 * on its "Z" stem, several tokens ("Russia-Ukraine") a PHRASE of their
 * surface forms, none (punctuation) nothing.  Columns in messages count
 * characters from 1.  Every byte of a parsed query lives in one arena.
 * Executing the tree is left to the engines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newsdex/article.h"
#include "newsdex/query.h"
#include "util/buf.h"
#include "util/text.h"

/* Parentheses nested deeper than this are refused, which bounds the
 * recursion of the parser and of every engine walking the tree. */
#define MAX_DEPTH 64

#define FIELDS "fields are title:, source:, date:, after:, before:"

typedef struct nlist {
    ndx_qnode **v;
    size_t n, cap;
} nlist;

typedef struct qtok {
    char *text; /* folded surface form */
    char *stem; /* Snowball stem */
} qtok;

typedef struct parser {
    const char *s;      /* the query text */
    size_t len;         /* bytes */
    size_t i;           /* next byte to read */
    ndx_analyzer *an;
    ndx_arena *ar;
    ndx_query *q;
    int depth;          /* open parentheses */
    int excl;           /* > 0 inside an excluded atom */
    size_t filters;     /* filters seen */
    qtok *toks;         /* tokens of the word being read */
    size_t tok_count, tok_cap;
    char **hl;          /* highlight entries, in order, with repeats */
    size_t hl_count, hl_cap;
    size_t err_col;
} parser;

typedef struct part {
    ndx_qnode *pos; /* what must match, or NULL */
    ndx_qnode *neg; /* what to exclude (one node), or NULL */
    int filter;     /* 1 when the atom was a filter */
    uint32_t col;
} part;

enum kind { K_EOF, K_LPAREN, K_RPAREN, K_QUOTE, K_MINUS, K_OR, K_NOT,
            K_WORD };

static ndx_status parse_seq(parser *p, part *out, int in_group);

/* ---- helpers ------------------------------------------------------------- */

static uint32_t
column(const parser *p, size_t at)
{
    uint32_t col = 1;
    size_t i;

    for (i = 0; i < at && i < p->len; i++)
        if (((unsigned char)p->s[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static ndx_status
fail_at(parser *p, uint32_t col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Records a syntax error; fmt receives the column as its last argument. */
static ndx_status
fail_at(parser *p, uint32_t col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->err_col = col;
    return ndx_error(NDX_ESYNTAX, "%s", msg);
}

static ndx_status
nomem(void)
{
    return ndx_error(NDX_ENOMEM, "out of memory parsing a query");
}

static int
grow_arena(parser *p, void **v, size_t *cap, size_t need, size_t size)
{
    size_t ncap = *cap ? *cap * 2 : 8;
    void *nv;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    nv = ndx_arena_alloc(p->ar, ncap * size);
    if (!nv)
        return -1;
    if (*cap)
        memcpy(nv, *v, *cap * size);
    *v = nv;
    *cap = ncap;
    return 0;
}

static int
nl_push(parser *p, nlist *l, ndx_qnode *x)
{
    if (grow_arena(p, (void **)&l->v, &l->cap, l->n + 1, sizeof *l->v))
        return -1;
    l->v[l->n++] = x;
    return 0;
}

/* Bytes of a double quote (straight or curly) at i, or 0. */
static size_t
quote_len(const parser *p, size_t i)
{
    const unsigned char *u = (const unsigned char *)p->s + i;

    if (i >= p->len)
        return 0;
    if (u[0] == '"')
        return 1;
    if (i + 2 < p->len && u[0] == 0xE2 && u[1] == 0x80 &&
        (u[2] == 0x9C || u[2] == 0x9D))
        return 3;
    return 0;
}

/* End of the word lexeme starting at i. */
static size_t
lexeme_end(const parser *p, size_t i)
{
    while (i < p->len && !ndx_is_space((unsigned char)p->s[i]) &&
           p->s[i] != '(' && p->s[i] != ')' && !quote_len(p, i))
        i++;
    return i;
}

static void
skip_space(parser *p)
{
    while (p->i < p->len && ndx_is_space((unsigned char)p->s[p->i]))
        p->i++;
}

static enum kind
peek(parser *p)
{
    size_t e;
    char c;

    skip_space(p);
    if (p->i >= p->len)
        return K_EOF;
    c = p->s[p->i];
    if (c == '(')
        return K_LPAREN;
    if (c == ')')
        return K_RPAREN;
    if (quote_len(p, p->i))
        return K_QUOTE;
    if (c == '-' && p->i + 1 < p->len &&
        !ndx_is_space((unsigned char)p->s[p->i + 1]) && p->s[p->i + 1] != ')')
        return K_MINUS;
    e = lexeme_end(p, p->i);
    if (e - p->i == 2 && memcmp(p->s + p->i, "OR", 2) == 0)
        return K_OR;
    if (e - p->i == 3 && memcmp(p->s + p->i, "NOT", 3) == 0)
        return K_NOT;
    return K_WORD;
}

static ndx_qnode *
new_node(parser *p, ndx_qkind kind, uint32_t col)
{
    ndx_qnode *n = ndx_arena_alloc(p->ar, sizeof *n);

    if (n) {
        n->kind = kind;
        n->col = col;
        n->wqf = 1;
    }
    return n;
}

/* Adds prefix + s + suffix to the words to highlight (not inside an
 * exclusion). */
static int
add_highlight(parser *p, const char *prefix, const char *s,
              const char *suffix)
{
    size_t plen = strlen(prefix), slen = strlen(s), xlen = strlen(suffix);
    char *h;

    if (p->excl)
        return 0;
    if (grow_arena(p, (void **)&p->hl, &p->hl_cap, p->hl_count + 1,
                   sizeof *p->hl))
        return -1;
    h = ndx_arena_alloc(p->ar, plen + slen + xlen + 1);
    if (!h)
        return -1;
    memcpy(h, prefix, plen);
    memcpy(h + plen, s, slen);
    memcpy(h + plen + slen, suffix, xlen + 1);
    p->hl[p->hl_count++] = h;
    return 0;
}

/* Combines kids into an AND or OR: nested nodes of the same kind are
 * flattened, identical TERM leaves merged (wqf adds up), and a single kid
 * stands for itself.  NULL (no kid) is a valid answer; *err is set on
 * ENOMEM. */
static ndx_qnode *
combine(parser *p, ndx_qkind kind, nlist *in, int *err)
{
    nlist out = {NULL, 0, 0};
    ndx_qnode *n;
    size_t i, j, k;

    *err = 0;
    for (i = 0; i < in->n; i++) {
        ndx_qnode *x = in->v[i];
        size_t m = x->kind == kind ? x->kid_count : 1;

        for (k = 0; k < m; k++) {
            ndx_qnode *y = x->kind == kind ? x->kids[k] : x;
            int merged = 0;

            if (y->kind == NDX_Q_TERM) {
                for (j = 0; j < out.n; j++) {
                    ndx_qnode *z = out.v[j];
                    if (z->kind == NDX_Q_TERM &&
                        strcmp(z->terms[0], y->terms[0]) == 0) {
                        /* a merged leaf is a new node: kids may be shared */
                        ndx_qnode *c = new_node(p, NDX_Q_TERM, z->col);
                        if (!c) {
                            *err = 1;
                            return NULL;
                        }
                        *c = *z;
                        c->wqf = z->wqf + y->wqf;
                        out.v[j] = c;
                        merged = 1;
                        break;
                    }
                }
            }
            if (!merged && nl_push(p, &out, y)) {
                *err = 1;
                return NULL;
            }
        }
    }
    if (out.n == 0)
        return NULL;
    if (out.n == 1)
        return out.v[0];
    n = new_node(p, kind, out.v[0]->col);
    if (!n) {
        *err = 1;
        return NULL;
    }
    for (i = 0; i < out.n; i++)
        if (out.v[i]->col < n->col)
            n->col = out.v[i]->col;
    n->kids = out.v;
    n->kid_count = out.n;
    return n;
}

/* The node of a part: NOT(pos, neg), pos alone, or NULL for nothing. */
static ndx_status
part_node(parser *p, const part *a, ndx_qnode **out)
{
    ndx_qnode *n;

    *out = NULL;
    if (!a->pos && a->neg)
        return fail_at(p, a->col,
                       "only exclusions inside the group at column %u: "
                       "it needs a word to look for",
                       (unsigned)a->col);
    if (!a->neg) {
        *out = a->pos;
        return NDX_OK;
    }
    n = new_node(p, NDX_Q_NOT, a->pos->col < a->neg->col ? a->pos->col
                                                         : a->neg->col);
    if (!n || !(n->kids = ndx_arena_alloc(p->ar, 2 * sizeof *n->kids)))
        return nomem();
    n->kids[0] = a->pos;
    n->kids[1] = a->neg;
    n->kid_count = 2;
    *out = n;
    return NDX_OK;
}

/* ---- words --------------------------------------------------------------- */

static int
collect_token(void *ctx, const ndx_token *tok)
{
    parser *p = ctx;
    qtok *t;

    if (grow_arena(p, (void **)&p->toks, &p->tok_cap, p->tok_count + 1,
                   sizeof *p->toks))
        return NDX_ENOMEM;
    t = &p->toks[p->tok_count];
    t->text = ndx_arena_strdup(p->ar, tok->text, tok->text_len);
    t->stem = ndx_arena_strdup(p->ar, tok->stem, tok->stem_len);
    if (!t->text || !t->stem)
        return NDX_ENOMEM;
    p->tok_count++;
    return 0;
}

static ndx_status
analyze_span(parser *p, size_t b, size_t e)
{
    int rc;

    p->tok_count = 0;
    rc = ndx_analyze(p->an, p->s + b, e - b, 0, collect_token, p, NULL);
    if (rc != 0)
        return rc == NDX_ENOMEM ? nomem() : (ndx_status)rc;
    return NDX_OK;
}

/* Highlights the surface forms and stems of the tokens just read. */
static ndx_status
highlight_tokens(parser *p)
{
    size_t i;

    for (i = 0; i < p->tok_count; i++)
        if (add_highlight(p, "", p->toks[i].text, "") ||
            add_highlight(p, "Z", p->toks[i].stem, ""))
            return nomem();
    return NDX_OK;
}

/* A PHRASE of the surface forms of the tokens just read. */
static ndx_status
phrase_node(parser *p, uint32_t col, int title, ndx_qnode **out)
{
    ndx_qnode *n = new_node(p, NDX_Q_PHRASE, col);
    size_t i;

    if (!n || !(n->terms = ndx_arena_alloc(p->ar, p->tok_count *
                                                      sizeof *n->terms)))
        return nomem();
    for (i = 0; i < p->tok_count; i++)
        n->terms[i] = p->toks[i].text;
    n->term_count = p->tok_count;
    n->title = title;
    *out = n;
    /* A phrase matches unstemmed words: highlight those, not every word
     * with the same stem. */
    for (i = 0; i < p->tok_count; i++)
        if (add_highlight(p, "", p->toks[i].text, ""))
            return nomem();
    return NDX_OK;
}

/* A quoted phrase starting at p->i (on the opening quote). */
static ndx_status
read_phrase(parser *p, int title, ndx_qnode **out)
{
    size_t open = p->i, q = quote_len(p, p->i), b = p->i + q, e;
    uint32_t col = column(p, open);
    ndx_status rc;

    *out = NULL;
    for (e = b; e < p->len && !quote_len(p, e); e++)
        ;
    if (e >= p->len)
        return fail_at(p, col, "unclosed quote at column %u", (unsigned)col);
    p->i = e + quote_len(p, e);
    rc = analyze_span(p, b, e);
    if (rc != NDX_OK || p->tok_count == 0)
        return rc;
    return phrase_node(p, col, title, out);
}

static size_t
utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static char *
prefixed(parser *p, char prefix, const char *s)
{
    char *t = ndx_arena_alloc(p->ar, strlen(s) + 2);

    if (t) {
        t[0] = prefix;
        strcpy(t + 1, s);
    }
    return t;
}

typedef struct stem_out {
    parser *p;
    char *stem; /* the first token's stem, in the arena */
} stem_out;

static int
first_stem(void *ctx, const ndx_token *tok)
{
    stem_out *o = ctx;

    if (!o->stem &&
        !(o->stem = ndx_arena_strdup(o->p->ar, tok->stem, tok->stem_len)))
        return NDX_ENOMEM;
    return 0;
}

/*
 * The one token just read as a word: a TERM of its stem, or, when the
 * word has name variants, a SYN of the stems of every spelling (the
 * word's own first, no stem twice), all of them highlighted.
 */
static ndx_status
variant_node(parser *p, uint32_t col, ndx_qnode **out)
{
    const char *const *members = NULL;
    size_t count = ndx_variants_lookup(p->toks[0].text, &members), i, j;
    ndx_qnode *n;
    ndx_status st;

    n = new_node(p, NDX_Q_TERM, col);
    if (!n || !(n->terms = ndx_arena_alloc(p->ar, (count ? count : 1) *
                                                      sizeof *n->terms)))
        return nomem();
    if (!(n->terms[0] = prefixed(p, NDX_PREFIX_STEM, p->toks[0].stem)))
        return nomem();
    n->term_count = 1;
    *out = n;
    if ((st = highlight_tokens(p)))
        return st;
    for (i = 0; i < count; i++) {
        stem_out so = {p, NULL};
        char *z;
        int seen = 0;

        if (strcmp(members[i], p->toks[0].text) == 0)
            continue;
        if (ndx_analyze(p->an, members[i], strlen(members[i]), 0, first_stem,
                        &so, NULL) != 0)
            return nomem();
        if (!so.stem)
            continue;
        if (!(z = prefixed(p, NDX_PREFIX_STEM, so.stem)))
            return nomem();
        if (add_highlight(p, "", members[i], "") ||
            add_highlight(p, "", z, ""))
            return nomem();
        for (j = 0; j < n->term_count; j++)
            seen |= strcmp(n->terms[j], z) == 0;
        if (!seen)
            n->terms[n->term_count++] = z;
    }
    if (n->term_count > 1)
        n->kind = NDX_Q_SYN;
    return NDX_OK;
}

/* A plain word s[b, e) (possibly ending in '*'). */
static ndx_status
read_word(parser *p, size_t b, size_t e, uint32_t col, int title,
          ndx_qnode **out)
{
    size_t stars = 0;
    ndx_qnode *n;
    ndx_status rc;

    *out = NULL;
    while (e - stars > b && p->s[e - stars - 1] == '*')
        stars++;
    rc = analyze_span(p, b, e - stars);
    if (rc != NDX_OK)
        return rc;
    if (stars) {
        if (p->tok_count > 1)
            return fail_at(p, col, "a prefix (word*) must be a single word "
                           "at column %u", (unsigned)col);
        if (p->tok_count == 0 || utf8_chars(p->toks[0].text) < 2)
            return fail_at(p, col, "a prefix needs at least 2 characters "
                           "before '*' at column %u", (unsigned)col);
        n = new_node(p, NDX_Q_PREFIX, col);
        if (!n || !(n->terms = ndx_arena_alloc(p->ar, sizeof *n->terms)))
            return nomem();
        n->terms[0] = p->toks[0].text;
        n->term_count = 1;
        n->title = title;
        if (add_highlight(p, "", p->toks[0].text, "*"))
            return nomem();
        *out = n;
        return NDX_OK;
    }
    if (p->tok_count == 0)
        return NDX_OK;
    if (p->tok_count > 1)
        return phrase_node(p, col, title, out);
    if (!title)
        return variant_node(p, col, out);
    n = new_node(p, NDX_Q_TERM, col);
    if (!n || !(n->terms = ndx_arena_alloc(p->ar, sizeof *n->terms)))
        return nomem();
    if (!(n->terms[0] = prefixed(p, NDX_PREFIX_TITLE, p->toks[0].stem)))
        return nomem();
    n->term_count = 1;
    n->title = title;
    *out = n;
    return highlight_tokens(p);
}

/* ---- filters ------------------------------------------------------------- */

static ndx_status
add_source(parser *p, const char *v, size_t vlen, uint32_t col)
{
    char *name, key[256];
    size_t klen, i;

    name = ndx_arena_strdup(p->ar, v, vlen);
    if (!name)
        return nomem();
    klen = ndx_source_key(name, key, sizeof key);
    if (klen == 0)
        return fail_at(p, col, "source: needs a name with letters or "
                       "digits at column %u", (unsigned)col);
    for (i = 0; i < p->q->source_count; i++)
        if (strcmp(p->q->sources[i], key) == 0)
            return NDX_OK;
    if (p->q->source_count >= NDX_QUERY_MAX_SOURCES)
        return fail_at(p, col, "too many sources (at most %d) at column %u",
                       NDX_QUERY_MAX_SOURCES, (unsigned)col);
    if (!p->q->sources) {
        p->q->sources = ndx_arena_alloc(p->ar, NDX_QUERY_MAX_SOURCES *
                                                   sizeof *p->q->sources);
        if (!p->q->sources)
            return nomem();
    }
    p->q->sources[p->q->source_count] = ndx_arena_strdup(p->ar, key, klen);
    if (!p->q->sources[p->q->source_count])
        return nomem();
    p->q->source_count++;
    return NDX_OK;
}

static ndx_status
bad_date(parser *p, const char *v, size_t vlen, uint32_t col)
{
    return fail_at(p, col, "bad date '%.*s' at column %u (use YYYY, YYYY-MM "
                   "or YYYY-MM-DD; date: also takes a range A..B)",
                   (int)(vlen > 60 ? 60 : vlen), v, (unsigned)col);
}

/* Narrows the query's dates to [first, last] (NDX_DATE_NONE = open). */
static void
narrow_dates(ndx_query *q, int32_t first, int32_t last)
{
    if (first != NDX_DATE_NONE &&
        (q->from_days == NDX_DATE_NONE || first > q->from_days))
        q->from_days = first;
    if (last != NDX_DATE_NONE &&
        (q->to_days == NDX_DATE_NONE || last < q->to_days))
        q->to_days = last;
}

static ndx_status
add_date(parser *p, const char *field, const char *v, size_t vlen,
         uint32_t col)
{
    int32_t a, b, c, d, first = NDX_DATE_NONE, last = NDX_DATE_NONE;
    size_t i;

    if (strcmp(field, "date") == 0) {
        for (i = 0; i + 1 < vlen; i++)
            if (v[i] == '.' && v[i + 1] == '.')
                break;
        if (i + 1 < vlen) {
            size_t rlen = vlen - i - 2;
            if (i == 0 && rlen == 0)
                return bad_date(p, v, vlen, col);
            if (i > 0) {
                if (ndx_date_parse_range(v, i, &a, &b) != NDX_OK)
                    return bad_date(p, v, vlen, col);
                first = a;
            }
            if (rlen > 0) {
                if (ndx_date_parse_range(v + i + 2, rlen, &c, &d) != NDX_OK)
                    return bad_date(p, v, vlen, col);
                last = d;
            }
            if (first != NDX_DATE_NONE && last != NDX_DATE_NONE &&
                last < first)
                return fail_at(p, col, "date range '%.*s' ends before it "
                               "starts at column %u",
                               (int)(vlen > 60 ? 60 : vlen), v,
                               (unsigned)col);
        } else {
            if (ndx_date_parse_range(v, vlen, &first, &last) != NDX_OK)
                return bad_date(p, v, vlen, col);
        }
    } else {
        /* after: and before: take one date, not a range */
        for (i = 0; i + 1 < vlen; i++)
            if (v[i] == '.' && v[i + 1] == '.')
                return bad_date(p, v, vlen, col);
        if (ndx_date_parse_range(v, vlen, &a, &b) != NDX_OK)
            return bad_date(p, v, vlen, col);
        if (strcmp(field, "after") == 0)
            first = a;
        else
            last = a - 1;
    }
    narrow_dates(p->q, first, last);
    return NDX_OK;
}

/* ---- atoms and sequences ------------------------------------------------- */

/* Reads a field whose name is s[b, colon) and whose value follows. */
static ndx_status
read_field(parser *p, const char *name, size_t b, size_t colon, size_t e,
           part *out)
{
    uint32_t col = column(p, b);
    size_t vb = colon + 1, ve = e;
    int quoted = 0;

    if (vb == e) {
        if (!quote_len(p, e))
            return fail_at(p, col, "field '%s:' at column %u needs a value "
                           "right after the colon", name, (unsigned)col);
        quoted = 1;
    }
    if (strcmp(name, "title") == 0) {
        if (quoted) {
            p->i = e;
            return read_phrase(p, 1, &out->pos);
        }
        p->i = e;
        return read_word(p, vb, ve, col, 1, &out->pos);
    }
    if (p->excl)
        return fail_at(p, col, "a filter cannot be excluded ('%s:' at "
                       "column %u)", name, (unsigned)col);
    if (quoted) {
        size_t ql = quote_len(p, e), qe;
        for (qe = e + ql; qe < p->len && !quote_len(p, qe); qe++)
            ;
        if (qe >= p->len) {
            uint32_t qc = column(p, e);
            return fail_at(p, qc, "unclosed quote at column %u",
                           (unsigned)qc);
        }
        vb = e + ql;
        ve = qe;
        p->i = qe + quote_len(p, qe);
    } else {
        p->i = e;
    }
    out->filter = 1;
    p->filters++;
    if (strcmp(name, "source") == 0)
        return add_source(p, p->s + vb, ve - vb, col);
    return add_date(p, name, p->s + vb, ve - vb, col);
}

/* The known field named by p->s[b..k) in any case (its name as written
 * in lower case goes to name), or NULL. */
static const char *
known_field(const parser *p, size_t b, size_t k, char name[16])
{
    static const char *const known[] = {"title", "source", "date", "after",
                                        "before"};
    size_t n = k - b, j;

    if (n >= 16)
        return NULL;
    for (j = 0; j < n; j++)
        name[j] = (char)(p->s[b + j] | 0x20);
    name[n] = '\0';
    for (j = 0; j < sizeof known / sizeof *known; j++)
        if (strcmp(name, known[j]) == 0)
            return known[j];
    return NULL;
}

static ndx_status
parse_atom(parser *p, part *out)
{
    size_t b, e, k;
    uint32_t col;
    char name[16];

    memset(out, 0, sizeof *out);
    skip_space(p);
    b = p->i;
    col = column(p, b);
    out->col = col;
    if (b >= p->len)
        return fail_at(p, col, "a word is missing at column %u",
                       (unsigned)col);
    if (p->s[b] == '(') {
        ndx_status rc;
        if (p->depth >= MAX_DEPTH)
            return fail_at(p, col, "parentheses nested too deeply at "
                           "column %u (at most %d)", (unsigned)col,
                           MAX_DEPTH);
        p->i++;
        if (peek(p) == K_RPAREN)
            return fail_at(p, col, "empty group at column %u",
                           (unsigned)col);
        p->depth++;
        rc = parse_seq(p, out, 1);
        p->depth--;
        out->col = col;
        if (rc != NDX_OK)
            return rc;
        if (p->i >= p->len || p->s[p->i] != ')')
            return fail_at(p, col, "unbalanced parenthesis at column %u: "
                           "this '(' is never closed", (unsigned)col);
        p->i++;
        return NDX_OK;
    }
    if (p->s[b] == ')')
        return fail_at(p, col, "unbalanced parenthesis at column %u",
                       (unsigned)col);
    if (quote_len(p, b))
        return read_phrase(p, 0, &out->pos);
    e = lexeme_end(p, b);
    /* A field is letters, a colon, and a value. */
    for (k = b; k < e && ((p->s[k] >= 'a' && p->s[k] <= 'z') ||
                          (p->s[k] >= 'A' && p->s[k] <= 'Z'));
         k++)
        ;
    if (k > b && k < e && p->s[k] == ':' && (k + 1 < e || quote_len(p, e))) {
        const char *field = known_field(p, b, k, name);
        size_t n = k - b;

        if (field)
            return read_field(p, field, b, k, e, out);
        return fail_at(p, col, "unknown field '%.*s' at column %u; " FIELDS,
                       (int)(n > 40 ? 40 : n), p->s + b, (unsigned)col);
    }
    if (k > b && k + 1 == e && p->s[k] == ':' && known_field(p, b, k, name))
        return fail_at(p, col, "field '%s:' at column %u needs a value right "
                       "after the colon", name, (unsigned)col);
    p->i = e;
    return read_word(p, b, e, col, 0, &out->pos);
}

static ndx_status
parse_or(parser *p, part *out)
{
    nlist ops = {NULL, 0, 0};
    part a;
    ndx_qnode *n;
    ndx_status rc;
    int err;

    rc = parse_atom(p, out);
    if (rc != NDX_OK || peek(p) != K_OR)
        return rc;
    rc = part_node(p, out, &n);
    if (rc != NDX_OK)
        return rc;
    if (n && nl_push(p, &ops, n))
        return nomem();
    while (peek(p) == K_OR) {
        uint32_t col = column(p, p->i);
        enum kind k;

        p->i += 2;
        k = peek(p);
        if (k == K_EOF || k == K_RPAREN || k == K_OR || k == K_NOT ||
            k == K_MINUS)
            return fail_at(p, col, "dangling OR at column %u (OR needs a "
                           "word on each side)", (unsigned)col);
        rc = parse_atom(p, &a);
        if (rc != NDX_OK)
            return rc;
        rc = part_node(p, &a, &n);
        if (rc != NDX_OK)
            return rc;
        if (n && nl_push(p, &ops, n))
            return nomem();
        out->filter |= a.filter;
    }
    out->pos = combine(p, NDX_Q_OR, &ops, &err);
    out->neg = NULL;
    return err ? nomem() : NDX_OK;
}

/* Reads items up to the end or (in a group) up to the closing ')'. */
static ndx_status
parse_seq(parser *p, part *out, int in_group)
{
    nlist pos = {NULL, 0, 0}, neg = {NULL, 0, 0};
    uint32_t neg_col = 0;
    ndx_status rc;
    int err;

    memset(out, 0, sizeof *out);
    out->col = column(p, p->i);
    for (;;) {
        enum kind k = peek(p);
        uint32_t col = column(p, p->i);
        part a;
        ndx_qnode *n;

        if (k == K_EOF)
            break;
        if (k == K_RPAREN) {
            if (in_group)
                break;
            return fail_at(p, col, "unbalanced parenthesis at column %u: "
                           "nothing to close", (unsigned)col);
        }
        if (k == K_OR)
            return fail_at(p, col, "dangling OR at column %u (OR needs a "
                           "word on each side)", (unsigned)col);
        if (k == K_MINUS || k == K_NOT) {
            if (k == K_NOT) {
                enum kind k2;
                p->i += 3;
                k2 = peek(p);
                if (k2 == K_EOF || k2 == K_RPAREN || k2 == K_OR ||
                    k2 == K_NOT || k2 == K_MINUS)
                    return fail_at(p, col, "dangling NOT at column %u (NOT "
                                   "needs a word after it)", (unsigned)col);
            } else {
                p->i++;
            }
            p->excl++;
            rc = parse_atom(p, &a);
            p->excl--;
            if (rc != NDX_OK)
                return rc;
            if (!a.pos && a.neg)
                return fail_at(p, col, "nothing to exclude at column %u: "
                               "the group has only exclusions",
                               (unsigned)col);
            rc = part_node(p, &a, &n);
            if (rc != NDX_OK)
                return rc;
            if (n) {
                if (nl_push(p, &neg, n))
                    return nomem();
                if (!neg_col)
                    neg_col = col;
            }
            continue;
        }
        rc = parse_or(p, &a);
        if (rc != NDX_OK)
            return rc;
        if (a.pos && nl_push(p, &pos, a.pos))
            return nomem();
        if (a.neg) {
            if (nl_push(p, &neg, a.neg))
                return nomem();
            if (!neg_col)
                neg_col = a.neg->col;
        }
    }
    out->pos = combine(p, NDX_Q_AND, &pos, &err);
    if (err)
        return nomem();
    out->neg = combine(p, NDX_Q_OR, &neg, &err);
    if (err)
        return nomem();
    if (!out->pos && out->neg)
        out->col = neg_col;
    return NDX_OK;
}

/* ---- the query ----------------------------------------------------------- */

typedef struct hl_ent {
    char *s;
    size_t idx;
} hl_ent;

static int
hl_cmp(const void *pa, const void *pb)
{
    const hl_ent *x = pa, *y = pb;
    int c = strcmp(x->s, y->s);

    if (c)
        return c;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int
idx_cmp(const void *pa, const void *pb)
{
    const hl_ent *x = pa, *y = pb;

    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Keeps the first of each highlight entry, in the order they came. */
static ndx_status
finish_highlight(parser *p)
{
    hl_ent *e;
    size_t i, n = 0;

    if (p->hl_count == 0)
        return NDX_OK;
    e = ndx_arena_alloc(p->ar, p->hl_count * sizeof *e);
    if (!e)
        return nomem();
    for (i = 0; i < p->hl_count; i++) {
        e[i].s = p->hl[i];
        e[i].idx = i;
    }
    qsort(e, p->hl_count, sizeof *e, hl_cmp);
    for (i = 0; i < p->hl_count; i++)
        if (i == 0 || strcmp(e[i].s, e[n - 1].s) != 0)
            e[n++] = e[i];
    qsort(e, n, sizeof *e, idx_cmp);
    for (i = 0; i < n; i++)
        p->hl[i] = e[i].s;
    p->q->highlight = p->hl;
    p->q->highlight_count = n;
    return NDX_OK;
}

ndx_status
ndx_query_parse(ndx_query **out, const char *text, ndx_analyzer *a,
                size_t *err_col)
{
    parser p;
    part top;
    ndx_status rc;

    *out = NULL;
    if (err_col)
        *err_col = 0;
    if (!text)
        text = "";
    memset(&p, 0, sizeof p);
    p.s = text;
    p.len = strlen(text);
    p.an = a;
    p.ar = ndx_arena_new();
    if (!p.ar)
        return nomem();
    p.q = ndx_arena_alloc(p.ar, sizeof *p.q);
    if (!p.q) {
        rc = nomem();
        goto fail;
    }
    p.q->arena = p.ar;
    p.q->from_days = NDX_DATE_NONE;
    p.q->to_days = NDX_DATE_NONE;

    rc = parse_seq(&p, &top, 0);
    if (rc != NDX_OK)
        goto fail;
    if (!top.pos && top.neg) {
        rc = fail_at(&p, top.col, "a query needs at least one word to look "
                     "for (not only exclusions)");
        goto fail;
    }
    if (!top.pos && !p.filters) {
        rc = fail_at(&p, 1, "%s", p.len ? "the query has no word to look "
                     "for at column 1" : "empty query: nothing to look for "
                     "at column 1");
        goto fail;
    }
    if (!top.pos) {
        p.q->root = new_node(&p, NDX_Q_ALL, 1);
        if (!p.q->root) {
            rc = nomem();
            goto fail;
        }
    } else {
        rc = part_node(&p, &top, &p.q->root);
        if (rc != NDX_OK)
            goto fail;
    }
    rc = finish_highlight(&p);
    if (rc != NDX_OK)
        goto fail;
    *out = p.q;
    return NDX_OK;

fail:
    if (err_col && rc == NDX_ESYNTAX)
        *err_col = p.err_col;
    ndx_arena_free(p.ar);
    return rc;
}

void
ndx_query_free(ndx_query *q)
{
    if (q)
        ndx_arena_free(q->arena);
}

/* ---- describe ------------------------------------------------------------ */

typedef struct sink {
    char *out;
    size_t cap, len;
} sink;

static void
put(sink *k, const char *s)
{
    size_t n = strlen(s);

    if (k->len < k->cap) {
        size_t room = k->cap - k->len;
        memcpy(k->out + k->len, s, n < room ? n : room);
    }
    k->len += n;
}

static void
describe_node(sink *k, const ndx_qnode *n)
{
    static const char *const names[] = {
        "TERM", "PHRASE", "PREFIX", "AND", "OR", "NOT", "ALL", "SYN"};
    char num[24];
    size_t i;

    switch (n->kind) {
    case NDX_Q_TERM:
        put(k, n->terms[0]);
        if (n->wqf > 1) {
            snprintf(num, sizeof num, "^%u", (unsigned)n->wqf);
            put(k, num);
        }
        return;
    case NDX_Q_ALL:
        put(k, "ALL");
        return;
    case NDX_Q_PHRASE:
    case NDX_Q_PREFIX:
    case NDX_Q_SYN:
        put(k, n->title ? "(T" : "(");
        put(k, names[n->kind]);
        for (i = 0; i < n->term_count; i++) {
            put(k, " ");
            put(k, n->terms[i]);
        }
        put(k, ")");
        return;
    default:
        put(k, "(");
        put(k, names[n->kind]);
        for (i = 0; i < n->kid_count; i++) {
            put(k, " ");
            describe_node(k, n->kids[i]);
        }
        put(k, ")");
        return;
    }
}

size_t
ndx_query_describe(const ndx_query *q, char *out, size_t out_cap)
{
    sink k = {out, out_cap, 0};
    char d[11];
    size_t i;

    if (q && q->root)
        describe_node(&k, q->root);
    for (i = 0; q && i < q->source_count; i++) {
        put(&k, " source=");
        put(&k, q->sources[i]);
    }
    if (q && q->from_days != NDX_DATE_NONE) {
        ndx_date_format(q->from_days, d);
        put(&k, " from=");
        put(&k, d);
    }
    if (q && q->to_days != NDX_DATE_NONE) {
        ndx_date_format(q->to_days, d);
        put(&k, " to=");
        put(&k, d);
    }
    if (out_cap > 0)
        out[k.len < out_cap ? k.len : out_cap - 1] = '\0';
    return k.len;
}
