/*
 * exec.c - evaluates a query tree over the native engine's segments and
 * ranks passages with BM25.
 *
 * Evaluation is document-at-a-time: per segment, a tree of cursors (term,
 * AND, OR, NOT, phrase, all) walks passage ids in increasing order; each
 * candidate passes the article filters (deleted, source, date) before it
 * is scored.  Scores are Xapian 1.4's BM25Weight with collection
 * statistics taken over every segment, so that the ranking does not depend
 * on how the index is split.  Passages of an article are contiguous, so
 * grouping by article needs only the current article's accumulator; a
 * bounded heap keeps the best offset + k.  Parsing, snippets and the
 * strings of the results' articles are left to other modules.
 */
#include "exec.h"
#include "facets.h"
#include "filter.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/ids.h"

#define PREFIX_MAX_TERMS 10000 /* expansions of one word* */
/* Positions a phrase reads per word and passage at first; a passage
 * where a word stands more often grows the buffer. */
#define PHRASE_POS_FIRST 256
/* A prefix with more expansions than this is scored window by window
 * (C_UNION) rather than as an OR of cursors, whose every step visits each
 * of its kids: "th*" (about 2,000 words on 500,000 news passages) took
 * 1.5 s as an OR and takes a few tens of ms as a union.  Below it the OR
 * is as fast and reads nothing it does not need. */
#define UNION_MIN_TERMS 32
/* Passages per union window (a power of two): the window's scores and
 * length terms take 16 bytes a passage, so 16,384 keep them at 256 KB,
 * in the cache. */
#define UNION_WINDOW 16384

typedef enum ckind {
    C_NONE, C_TERM, C_AND, C_OR, C_NOT, C_PHRASE, C_ALL, C_UNION, C_FILTER,
    C_SYN /* name variants: an OR of term cursors scored as one term */
} ckind;

typedef struct ectx ectx;

typedef struct cur cur;
struct cur {
    ckind kind;
    uint32_t id;   /* current passage or NDX_PID_END */
    ndx_pcur pc;   /* C_TERM */
    double tw;     /* C_TERM, C_SYN: BM25 term weight */
    cur **kids;
    size_t n;
    uint32_t all_n;   /* C_ALL, C_UNION: passages in the segment */
    uint32_t *posbuf; /* C_PHRASE: n * poscap positions */
    uint32_t poscap;  /* C_PHRASE: positions per word posbuf holds */
    /* C_UNION: the kids' scores summed per passage of the current window
     * [win, win + UNION_WINDOW), and which passages of it match. */
    const ndx_seg *seg;
    ectx *e;          /* C_UNION, C_PHRASE, C_TERM */
    uint32_t win;      /* first passage of the window; NDX_PID_END: none */
    double *acc;       /* UNION_WINDOW scores */
    double *kw;        /* UNION_WINDOW passage_k values, where bits says */
    uint64_t *bits;    /* UNION_WINDOW / 64 words */
    /* Pruning (see cur_advance). */
    uint64_t df;       /* C_TERM: postings in this segment */
    double max;        /* bound on the cursor's score anywhere in the
                          segment, once max_ok */
    int max_ok;
    size_t *ord;       /* C_AND, C_PHRASE: kids rarest first; C_OR: kids
                          by ascending max (scores still sum in kid
                          order, as an exhaustive walk sums them) */
    double *pre;       /* C_OR: pre[i] = sum of the max of ord[0..i] */
    uint32_t reg_upto; /* C_OR: the region up to here was found able to
                          beat reg_theta */
    double reg_theta;
    cur *req;          /* C_OR: the kids every passage able to beat
                          req_theta matches, as one cursor (or_required) */
    unsigned char *isreq; /* C_OR: per kid, whether req has it */
    unsigned char *wess;  /* C_OR: per kid of ord, whether it is essential
                             in the region up to reg_upto (or_window) */
    uint32_t *rc;         /* C_OR: the region's candidates (or_sweep), in
                             order, rn of them, the next at ri */
    double *rub;          /* C_OR: their bounds */
    size_t rn, ri;
    int swept;            /* C_OR: the region's candidates are rc */
    uint64_t sweep_df;    /* C_OR: its kids' postings in the segment when
                             they are at most OR_WINDOW_MAX words, else 0:
                             no sweep (or_prepare) */
    double req_theta, req_rest;
    double kmin;       /* C_TERM: passage_k of the shortest passage of
                          the block cur_shallow last bounded */
    double ub;         /* C_TERM: that block's bound */
    uint32_t ub_last;  /* C_TERM: that block's last passage id */
    int ub_ok;
    uint32_t imp[2 * NDX_SEG_IMPACTS]; /* C_TERM: that block's impacts */
    uint32_t nimp;
    int imp_ok;        /* C_TERM: imp, nimp and kmin are that block's (not
                          yet when its bound came from the block table) */
    uint32_t ub_t;     /* C_TERM: the target it was bounded for (its bound
                          holds from there to ub_last) */
    const uint32_t *runs; /* C_FILTER: pairs [first, end) of passages
                             that pass, in order */
    size_t nruns;      /* C_FILTER: pairs in runs */
    size_t run;        /* C_FILTER: the run at or after id */
    int scan;          /* C_TERM at the root: its postings that cannot
                          beat theta are passed by their packed wdfs
                          (ndx_pcur_scan_wdf); under a disjunction, where
                          it is advanced candidate by candidate, one by
                          one (measured fewer instructions there) */
    int unchecked;     /* C_PHRASE: aligned on its words, positions not
                          yet checked (the caller checks them only when
                          the score can enter the top k) */
    const struct btab *tab; /* C_TERM: its list's block table, once
                               tab_tried (NULL: none) */
    int tab_tried;
    int merge_first;   /* C_AND at the root: with every wdf of its lead
                          able to beat theta, its common passages are
                          found first (lead_pass passes nothing) */
};

/* Global statistics of one term. */
typedef struct tstat {
    const char *term;
    size_t len;
    uint64_t df;
    /* term_df's dictionary look-ups, one per segment of the view, which
     * the cursors reuse (NULL: none kept); found[i] is 0 when segment i
     * lacks the term. */
    ndx_seg_term *seg_terms;
    unsigned char *found;
} tstat;

/* Expansions of one PREFIX node. */
typedef struct pexp {
    const ndx_qnode *node;
    tstat *terms;
    size_t count;
} pexp;

struct ectx {
    const nview *v;
    const ndx_search_opts *o;
    ndx_arena *arena;
    tstat *stats;
    size_t stat_count, stat_cap;
    pexp *exps;
    size_t exp_count, exp_cap;
    double avlen;
    uint32_t lim;     /* cur_advance passes nothing at or after lim: from
                         there it returns true matches (UINT32_MAX: no
                         limit; every search runs without one today) */
    /* The arrays of sweeps (sweep_alloc), kept from one tree of cursors
     * to the next (segment by segment): a tree's disjunctions take them
     * in turn, and each tree starts again at the first (sweep_used). */
    struct sweepbuf *sweeps;
    size_t sweep_count, sweep_used;
    double and_share; /* of the root conjunction's lead postings, the
                         share in common passages, as the walk found
                         them before it pruned (NAN: not known) */
    int nomem;        /* a cursor could not grow a buffer */
    int corrupt;
    const char *corrupt_path;
};

/* ---- statistics ----------------------------------------------------------- */

static uint64_t dead_postings(const nview *v, size_t segi,
                              const ndx_seg_term *t);

static ndx_status
term_df(ectx *e, const char *term, size_t len, uint64_t *df)
{
    size_t i;
    uint64_t sum = 0;
    ndx_seg_term *seg_terms;
    unsigned char *found;

    for (i = 0; i < e->stat_count; i++)
        if (e->stats[i].len == len && memcmp(e->stats[i].term, term, len) == 0) {
            *df = e->stats[i].df;
            return NDX_OK;
        }
    seg_terms = ndx_arena_alloc(e->arena,
                                (e->v->count + 1) * sizeof *seg_terms);
    found = ndx_arena_alloc(e->arena, e->v->count + 1);
    if (!seg_terms || !found)
        return ndx_error(NDX_ENOMEM, "out of memory (query statistics)");
    for (i = 0; i < e->v->count; i++) {
        int r = ndx_seg_lookup(e->v->segs[i], term, len, &seg_terms[i]);

        if (r < 0)
            return (ndx_status)r;
        found[i] = (unsigned char)r;
        if (r)
            sum += seg_terms[i].df - dead_postings(e->v, i, &seg_terms[i]);
    }
    if (ndx_grow((void **)&e->stats, &e->stat_cap, e->stat_count + 1,
                 sizeof *e->stats, 16))
        return ndx_error(NDX_ENOMEM, "out of memory (query statistics)");
    e->stats[e->stat_count].term = term;
    e->stats[e->stat_count].len = len;
    e->stats[e->stat_count].df = sum;
    e->stats[e->stat_count].seg_terms = seg_terms;
    e->stats[e->stat_count].found = found;
    e->stat_count++;
    *df = sum;
    return NDX_OK;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* A table of 16-byte entries (u64 key, u64 value) that the searches of
 * one view share under a mutex: the view's caches below. */
typedef struct vcache {
    pthread_mutex_t mu;
    ndx_htab t;
    size_t bytes; /* of what the values point to, when they do */
} vcache;

static vcache *
vcache_new(size_t first)
{
    vcache *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    ndx_htab_init(&c->t, 16, first, 50);
    return c;
}

/* Frees the cache, and with each (when not NULL) what every value points
 * to. */
static void
vcache_free(vcache *c, void (*each)(void *value))
{
    size_t i;

    if (!c)
        return;
    for (i = 0; each && i < c->t.cap; i++) {
        unsigned char *en = ndx_htab_slot(&c->t, i);
        void *value;

        if (en) {
            memcpy(&value, en + 8, sizeof value);
            each(value);
        }
    }
    ndx_htab_free(&c->t);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* A view's count of deleted articles' postings per term list: counting
 * them costs a seek per deleted article (or a read of the whole list), and
 * the same words come back query after query.  Keyed by the list's offset
 * in its segment and the segment's place in the view (lists shared by
 * several terms have one count). */
#define DEAD_CACHE_MAX (1u << 20) /* entries; past it, counted each time */

void *
ndx_exec_dead_cache_new(void)
{
    return vcache_new(256);
}

void
ndx_exec_dead_cache_free(void *p)
{
    vcache_free(p, NULL);
}

/* A view's block tables of long lists (see tab_pass): a table costs one
 * read of the list's skip entries, and the same words come back query
 * after query.  Keyed by the segment's uid and the list's offset, so
 * lists shared by several terms have one table; a table holds for the
 * BM25 setting and average length it was built with. */
typedef struct btab_block {
    uint32_t last, skip_off, data_off; /* as ndx_pblock's */
} btab_block;

typedef struct btab {
    double k1, b, min_normlen, avlen; /* the setting its bounds hold for */
    uint64_t n;                       /* blocks */
    btab_block *blk;
    float *bnd; /* per block: its impacts' largest wdf / (K + wdf), where
                   K is passage_k of the impact's length, rounded up */
    float max;  /* the largest of bnd */
} btab;

/* Lists of fewer blocks are bounded block by block as they are read. */
#define BTAB_MIN_BLOCKS 32
/* Bytes of tables a view keeps (16 a block); past it lists are bounded
 * block by block. */
#define BTAB_BYTES_MAX ((size_t)64 << 20)

static void
btab_free(void *p)
{
    btab *t = p;

    if (!t)
        return;
    free(t->blk);
    free(t->bnd);
    free(t);
}

void *
ndx_exec_bound_cache_new(void)
{
    return vcache_new(64);
}

void
ndx_exec_bound_cache_free(void *p)
{
    vcache_free(p, btab_free);
}

static uint64_t count_dead(const nview *v, size_t segi,
                           const ndx_seg_term *t);

/* Postings of a term that belong to deleted articles: statistics count
 * live passages only, as Xapian's do. */
static uint64_t
dead_postings(const nview *v, size_t segi, const ndx_seg_term *t)
{
    vcache *c = v->dead_cache;
    uint64_t key, dead;
    unsigned char *e;

    if (!v->dead[segi])
        return 0;
    if (!c || segi >= 0xFFFF || t->post_off >= (1ULL << 47))
        return count_dead(v, segi, t);
    key = (t->post_off + 1) << 16 | segi;
    pthread_mutex_lock(&c->mu);
    e = ndx_htab_get(&c->t, key);
    if (e) {
        memcpy(&dead, e + 8, 8);
        pthread_mutex_unlock(&c->mu);
        return dead;
    }
    pthread_mutex_unlock(&c->mu);
    dead = count_dead(v, segi, t);
    pthread_mutex_lock(&c->mu);
    if (c->t.count < DEAD_CACHE_MAX) {
        int added;

        e = ndx_htab_put(&c->t, key, &added);
        if (e)
            memcpy(e + 8, &dead, 8);
    }
    pthread_mutex_unlock(&c->mu);
    return dead;
}

static uint64_t
count_dead(const nview *v, size_t segi, const ndx_seg_term *t)
{
    const ndx_seg *s = v->segs[segi];
    ndx_pcur c;
    uint64_t dead = 0;

    /* Few deleted articles against a long list (near-duplicate folding
     * leaves a few in most indexes): seek to each of their passages
     * instead of reading the article of every posting. */
    if (v->del_count[segi] && v->del_count[segi] * 16 < t->df) {
        size_t n = v->del_count[segi], k;
        uint32_t *arts = malloc(n * sizeof *arts);

        if (arts) {
            memcpy(arts, v->del[segi], n * sizeof *arts);
            qsort(arts, n, sizeof *arts, cmp_u32);
            ndx_pcur_init(&c, s, t);
            for (k = 0; k < n && c.id != NDX_PID_END; k++) {
                ndx_seg_article a;

                if ((k && arts[k] == arts[k - 1]) ||
                    ndx_seg_article_get(s, arts[k], &a) != 0)
                    continue;
                ndx_pcur_seek(&c, a.first);
                for (; c.id != NDX_PID_END && c.id - a.first < a.passages;
                     ndx_pcur_next(&c))
                    dead++;
            }
            free(arts);
            return dead;
        }
    }
    ndx_pcur_init(&c, s, t);
    while (c.id != NDX_PID_END) {
        uint32_t a;

        /* The column comes from disk: an article past the table is damage
         * that the walk reports later, not an index into the bitmap. */
        if (ndx_seg_passage(s, c.id, &a, NULL) == 0 && a < s->articles &&
            nview_dead(v, segi, a))
            dead++;
        ndx_pcur_next(&c);
    }
    return dead;
}

/* Xapian 1.4 BM25Weight::init: the part of the weight fixed per term. */
static double
term_weight(const ectx *e, uint64_t df, uint32_t wqf)
{
    const ndx_bm25 *p = &e->o->bm25;
    double N = (double)e->v->passages, n = (double)df;
    double tw = (N - n + 0.5) / (n + 0.5);
    double w;

    if (tw < 2)
        tw = tw * 0.5 + 1;
    w = log(tw);
    if (p->k3 != 0)
        w *= (p->k3 + 1) * wqf / (p->k3 + wqf);
    w *= (p->k1 + 1);
    return w;
}

typedef struct pcollect {
    ectx *e;
    size_t segi;
    pexp *x;
    size_t cap;
    int too_many;
} pcollect;

static int
collect_prefix(void *ctx, const char *term, size_t len, const ndx_seg_term *t)
{
    pcollect *pc = ctx;
    pexp *x = pc->x;
    size_t i;

    uint64_t df = t->df - dead_postings(pc->e->v, pc->segi, t);

    for (i = 0; i < x->count; i++)
        if (x->terms[i].len == len && memcmp(x->terms[i].term, term, len) == 0) {
            x->terms[i].df += df;
            return 0;
        }
    if (x->count == PREFIX_MAX_TERMS) {
        pc->too_many = 1;
        return 1;
    }
    if (ndx_grow((void **)&x->terms, &pc->cap, x->count + 1,
                 sizeof *x->terms, 16))
        return 2;
    x->terms[x->count].term = ndx_arena_strdup(pc->e->arena, term, len);
    if (!x->terms[x->count].term)
        return 2;
    x->terms[x->count].len = len;
    x->terms[x->count].df = df;
    x->terms[x->count].seg_terms = NULL;
    x->terms[x->count].found = NULL;
    x->count++;
    return 0;
}

static int
cmp_tstat(const void *a, const void *b)
{
    const tstat *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->term, y->term, n);

    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static ndx_status
expand_prefix(ectx *e, const ndx_qnode *node, pexp **out)
{
    pcollect pc;
    size_t i;
    pexp *x;
    char *pfx = node->terms[0];

    for (i = 0; i < e->exp_count; i++)
        if (e->exps[i].node == node) {
            *out = &e->exps[i];
            return NDX_OK;
        }
    if (ndx_grow((void **)&e->exps, &e->exp_cap, e->exp_count + 1,
                 sizeof *e->exps, 4))
        return ndx_error(NDX_ENOMEM, "out of memory (prefix)");
    x = &e->exps[e->exp_count++];
    memset(x, 0, sizeof *x);
    x->node = node;
    memset(&pc, 0, sizeof pc);
    pc.e = e;
    pc.x = x;
    if (node->title) {
        size_t n = strlen(node->terms[0]);

        pfx = ndx_arena_alloc(e->arena, n + 2);
        if (!pfx)
            return ndx_error(NDX_ENOMEM, "out of memory (prefix)");
        pfx[0] = NDX_PREFIX_TITLE;
        memcpy(pfx + 1, node->terms[0], n + 1);
    }
    for (i = 0; i < e->v->count; i++) {
        int r;

        pc.segi = i;
        r = ndx_seg_prefix(e->v->segs[i], pfx, strlen(pfx), collect_prefix,
                           &pc);
        if (pc.too_many)
            return ndx_error(NDX_ELIMIT,
                             "'%s*' matches more than %d words; make the "
                             "prefix longer",
                             node->terms[0], PREFIX_MAX_TERMS);
        if (r == 2)
            return ndx_error(NDX_ENOMEM, "out of memory (prefix)");
        if (r < 0)
            return (ndx_status)r;
    }
    if (x->count > 1)
        qsort(x->terms, x->count, sizeof *x->terms, cmp_tstat);
    *out = x;
    return NDX_OK;
}

/* k1 * (normlen * b + 1 - b) for a passage of len terms: the part of
 * BM25's denominator that depends on the passage. */
static double
passage_k(const ectx *e, uint32_t len)
{
    const ndx_bm25 *p = &e->o->bm25;
    double normlen = (double)len / e->avlen;

    if (normlen < p->min_normlen)
        normlen = p->min_normlen;
    return p->k1 * (normlen * p->b + (1 - p->b));
}

/* ---- cursors ------------------------------------------------------------ */

static cur *
cur_new(ectx *e, ckind kind, size_t kids)
{
    cur *c = ndx_arena_alloc(e->arena, sizeof *c);

    if (!c)
        return NULL;
    c->kind = kind;
    c->id = NDX_PID_END;
    if (kids) {
        c->kids = ndx_arena_alloc(e->arena, kids * sizeof *c->kids);
        if (!c->kids)
            return NULL;
    }
    return c;
}

static void cur_seek(cur *c, uint32_t t);
static void cur_next(cur *c);
static int tab_skip(cur *c, uint32_t t);

/* Puts term cursor c on posting k of its decoded block. */
static inline void
term_at(cur *c, uint32_t k)
{
    ndx_pcur_back_to(&c->pc, k);
    c->id = c->pc.id;
}

/* Moves term cursors a and b to the first passage at or after a's that
 * both match (NDX_PID_END: none, the cursor that ended at its end).
 * Within the blocks the two stand in, their ids are intersected as two
 * sorted arrays (ndx_ids_first_common); when one block is spent, its
 * cursor seeks (by skip entries or its block table) to the other's id.
 * Two words of like frequency, as most conjunctions have, agree on few
 * passages: seeking each in turn posting by posting cost about 30 ns a
 * step where the arrays cost a few. */
static uint32_t
pair_align(cur *a, cur *b)
{
    for (;;) {
        const uint32_t *ia, *ib;
        uint32_t na, nb, i, j;

        if (a->id == NDX_PID_END)
            return NDX_PID_END;
        cur_seek(b, a->id);
        if (b->id == NDX_PID_END)
            return NDX_PID_END;
        if (b->id == a->id)
            return a->id;
        if (!(na = ndx_pcur_block_ids(&a->pc, &ia))) {
            a->id = a->pc.id;
            return NDX_PID_END;
        }
        if (!(nb = ndx_pcur_block_ids(&b->pc, &ib))) {
            b->id = b->pc.id;
            return NDX_PID_END;
        }
        i = a->pc.i;
        j = b->pc.i;
        if (ndx_ids_first_common(ia, &i, na, ib, &j, nb)) {
            term_at(a, i);
            term_at(b, j);
            return ia[i];
        }
        if (i < na) {
            /* b's block is spent: b seeks to a's id. */
            term_at(a, i);
            term_at(b, nb - 1);
        } else {
            /* a's block is spent: a seeks to b's id. */
            term_at(b, j < nb ? j : nb - 1);
            term_at(a, na - 1);
            cur_seek(a, b->id);
        }
    }
}

/* Aligns a conjunction on its first common passage at or after t; the
 * rarest kid leads (c->ord), so the others seek to what it proposes.
 * When the two rarest are words, pair_align finds their common passages
 * and the others are sought to each. */
static void
and_align(cur *c, uint32_t t)
{
    size_t j;

    if (c->ord && c->n >= 2 && c->kids[c->ord[0]]->kind == C_TERM &&
        c->kids[c->ord[1]]->kind == C_TERM) {
        cur *a = c->kids[c->ord[0]], *b = c->kids[c->ord[1]];

        for (;;) {
            uint32_t id;

            cur_seek(a, t);
            if ((id = pair_align(a, b)) == NDX_PID_END) {
                c->id = NDX_PID_END;
                return;
            }
            for (j = 2; j < c->n; j++) {
                cur *k = c->kids[c->ord[j]];

                cur_seek(k, id);
                if (k->id == NDX_PID_END) {
                    c->id = NDX_PID_END;
                    return;
                }
                if (k->id > id)
                    break;
            }
            if (j == c->n) {
                c->id = id;
                return;
            }
            t = c->kids[c->ord[j]]->id;
        }
    }
    for (;;) {
        int agreed = 1;

        for (j = 0; j < c->n; j++) {
            cur *k = c->kids[c->ord ? c->ord[j] : j];

            cur_seek(k, t);
            if (k->id == NDX_PID_END) {
                c->id = NDX_PID_END;
                return;
            }
            if (k->id > t) {
                t = k->id;
                agreed = 0;
                break;
            }
        }
        if (agreed) {
            c->id = t;
            return;
        }
    }
}

static int
has_pos(const uint32_t *p, int n, uint32_t want)
{
    int lo = 0, hi = n - 1;

    while (lo <= hi) {
        int mid = (lo + hi) / 2;

        if (p[mid] == want)
            return 1;
        if (p[mid] < want)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

/* Whether the phrase's terms stand at consecutive positions. */
static int
phrase_ok(cur *c)
{
    int counts[16];
    size_t i;
    uint32_t need = 0;
    int k;

    /* Every position of every word is read, however many. */
    for (i = 0; i < c->n; i++)
        if (ndx_pcur_wdf(&c->kids[i]->pc) > need)
            need = ndx_pcur_wdf(&c->kids[i]->pc);
    if (need > c->poscap) {
        uint32_t cap = need > 2 * c->poscap ? need : 2 * c->poscap;
        uint32_t *buf = ndx_arena_alloc(c->e->arena,
                                        c->n * (size_t)cap * sizeof *buf);

        if (!buf) {
            c->e->nomem = 1;
            return 0;
        }
        c->posbuf = buf;
        c->poscap = cap;
    }
    for (i = 0; i < c->n; i++) {
        counts[i] = ndx_pcur_positions(&c->kids[i]->pc,
                                       c->posbuf + i * c->poscap,
                                       c->poscap);
        if (counts[i] <= 0)
            return 0;
    }
    for (k = 0; k < counts[0]; k++) {
        uint32_t p = c->posbuf[k];

        for (i = 1; i < c->n; i++)
            if (!has_pos(c->posbuf + i * c->poscap, counts[i],
                         p + (uint32_t)i))
                break;
        if (i == c->n)
            return 1;
    }
    return 0;
}

static void
phrase_align(cur *c, uint32_t t)
{
    for (;;) {
        and_align(c, t);
        if (c->id == NDX_PID_END || phrase_ok(c))
            return;
        t = c->id + 1;
    }
}

/* Scores the window of passages that holds t: every kid adds, in kid
 * order (the order an OR sums them), its score at each of its passages
 * there. */
static void
union_fill(cur *c, uint32_t t)
{
    uint32_t w0 = t & ~(uint32_t)(UNION_WINDOW - 1), w1 = w0 + UNION_WINDOW;
    size_t i;

    memset(c->bits, 0, UNION_WINDOW / 8);
    c->win = w0;
    for (i = 0; i < c->n; i++) {
        ndx_pcur *pc = &c->kids[i]->pc;
        double tw = c->kids[i]->tw;

        if (pc->id < w0)
            ndx_pcur_seek(pc, w0);
        for (; pc->id < w1; ndx_pcur_next(pc)) {
            uint32_t at = pc->id - w0;
            double wdf = (double)ndx_pcur_wdf(pc);

            /* A passage's length term is worked out by the first word
             * that matches it and kept for the others. */
            if (!(c->bits[at >> 6] & (1ULL << (at & 63)))) {
                uint32_t len = 0;

                ndx_seg_passage(c->seg, pc->id, NULL, &len);
                c->bits[at >> 6] |= 1ULL << (at & 63);
                c->kw[at] = passage_k(c->e, len);
                c->acc[at] = tw * (wdf / (c->kw[at] + wdf));
            } else {
                c->acc[at] += tw * (wdf / (c->kw[at] + wdf));
            }
        }
    }
}

/* Moves a union to its first passage at or after t. */
static void
union_seek(cur *c, uint32_t t)
{
    while (t < c->all_n) {
        uint32_t at, w;

        if (c->win == NDX_PID_END || t - c->win >= UNION_WINDOW ||
            t < c->win)
            union_fill(c, t);
        at = t - c->win;
        for (w = at >> 6; w < UNION_WINDOW / 64; w++) {
            uint64_t word = c->bits[w];

            if (w == at >> 6)
                word &= ~0ULL << (at & 63);
            if (word) {
                c->id = c->win + w * 64 + (uint32_t)__builtin_ctzll(word);
                if (c->id < c->all_n)
                    return;
                c->id = NDX_PID_END;
                return;
            }
        }
        t = c->win + UNION_WINDOW;
        if (t < c->win) /* past the last passage id */
            break;
    }
    c->id = NDX_PID_END;
}

/* Moves a filter to its first passing passage at or after t: a gallop
 * then a binary search over the runs still ahead. */
static void
filter_seek(cur *c, uint32_t t)
{
    size_t lo = c->run, step = 1, hi;

    while (lo + step < c->nruns && c->runs[2 * (lo + step) + 1] <= t) {
        lo += step;
        step *= 2;
    }
    hi = lo + step + 1 < c->nruns ? lo + step + 1 : c->nruns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (c->runs[2 * mid + 1] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    c->run = lo;
    if (lo == c->nruns) {
        c->id = NDX_PID_END;
        return;
    }
    c->id = t > c->runs[2 * lo] ? t : c->runs[2 * lo];
}

static void
or_min(cur *c)
{
    uint32_t m = NDX_PID_END;
    size_t i;

    for (i = 0; i < c->n; i++)
        if (c->kids[i]->id < m)
            m = c->kids[i]->id;
    c->id = m;
}

static void
not_settle(cur *c)
{
    cur *pos = c->kids[0], *neg = c->kids[1];

    while (pos->id != NDX_PID_END) {
        cur_seek(neg, pos->id);
        if (neg->id != pos->id)
            break;
        cur_next(pos);
    }
    c->id = pos->id;
}

static void
cur_next(cur *c)
{
    size_t i;

    if (c->id == NDX_PID_END)
        return;
    switch (c->kind) {
    case C_NONE:
        break;
    case C_TERM:
        ndx_pcur_next(&c->pc);
        c->id = c->pc.id;
        break;
    case C_AND:
        and_align(c, c->id + 1);
        break;
    case C_PHRASE:
        phrase_align(c, c->id + 1);
        break;
    case C_OR:
    case C_SYN: {
        uint32_t cur_id = c->id;

        for (i = 0; i < c->n; i++)
            if (c->kids[i]->id == cur_id)
                cur_next(c->kids[i]);
        or_min(c);
        break;
    }
    case C_NOT:
        cur_next(c->kids[0]);
        not_settle(c);
        break;
    case C_ALL:
        c->id = c->id + 1 < c->all_n ? c->id + 1 : NDX_PID_END;
        break;
    case C_UNION:
        union_seek(c, c->id + 1);
        break;
    case C_FILTER:
        filter_seek(c, c->id + 1);
        break;
    }
}

static void
cur_seek(cur *c, uint32_t t)
{
    size_t i;

    if (c->id == NDX_PID_END || c->id >= t)
        return;
    switch (c->kind) {
    case C_NONE:
        break;
    case C_TERM:
        if (t <= c->pc.block_last || tab_skip(c, t) == 0)
            ndx_pcur_seek(&c->pc, t);
        c->id = c->pc.id;
        break;
    case C_AND:
        and_align(c, t);
        break;
    case C_PHRASE:
        phrase_align(c, t);
        break;
    case C_OR:
    case C_SYN:
        for (i = 0; i < c->n; i++)
            cur_seek(c->kids[i], t);
        or_min(c);
        break;
    case C_NOT:
        cur_seek(c->kids[0], t);
        not_settle(c);
        break;
    case C_ALL:
        c->id = t < c->all_n ? t : NDX_PID_END;
        break;
    case C_UNION:
        union_seek(c, t);
        break;
    case C_FILTER:
        filter_seek(c, t);
        break;
    }
}

/* Positions a fresh cursor on its first match at or after t: a walk or
 * a recount that starts within a segment aligns its conjunctions there,
 * not from the segment's first passage on (for rare conjunctions, a merge
 * of most of their words' lists). */
static void
cur_start(cur *c, uint32_t t)
{
    size_t i;

    switch (c->kind) {
    case C_NONE:
        c->id = NDX_PID_END;
        break;
    case C_TERM:
        c->id = c->pc.id;
        cur_seek(c, t);
        break;
    case C_AND:
    case C_PHRASE:
        for (i = 0; i < c->n; i++)
            cur_start(c->kids[i], t);
        c->id = 0;
        if (c->kind == C_AND)
            and_align(c, t);
        else
            phrase_align(c, t);
        break;
    case C_OR:
    case C_SYN:
        for (i = 0; i < c->n; i++)
            cur_start(c->kids[i], t);
        or_min(c);
        break;
    case C_NOT:
        cur_start(c->kids[0], t);
        cur_start(c->kids[1], t);
        not_settle(c);
        break;
    case C_ALL:
        c->id = t < c->all_n ? t : NDX_PID_END;
        break;
    case C_UNION:
        c->win = NDX_PID_END;
        union_seek(c, t);
        break;
    case C_FILTER:
        c->run = 0;
        filter_seek(c, t);
        break;
    }
}

/* Readies a fresh tree for cur_matches_at: its words and filters stand
 * on their first postings; nothing is aligned. */
static void
cur_start_leaves(cur *c)
{
    size_t i;

    c->id = 0;
    switch (c->kind) {
    case C_NONE:
        c->id = NDX_PID_END;
        break;
    case C_TERM:
        c->id = c->pc.id;
        break;
    case C_UNION:
        c->win = NDX_PID_END;
        break;
    case C_FILTER:
        c->run = 0;
        break;
    default:
        for (i = 0; i < c->n; i++)
            cur_start_leaves(c->kids[i]);
        break;
    }
}

/* Whether the tree matches passage t, its words moved to their first
 * postings at or after t and no further (t may only grow from call to
 * call).  A recount asks passage by passage within an article: aligning
 * a rare conjunction on its next match instead may cross much of its
 * words' lists. */
static int
cur_matches_at(cur *c, uint32_t t)
{
    size_t i;
    int any = 0;

    switch (c->kind) {
    case C_NONE:
        return 0;
    case C_TERM:
    case C_UNION:
    case C_FILTER:
        cur_seek(c, t);
        return c->id == t;
    case C_AND:
        for (i = 0; i < c->n; i++)
            if (!cur_matches_at(c->kids[c->ord ? c->ord[i] : i], t))
                return 0;
        return 1;
    case C_PHRASE:
        for (i = 0; i < c->n; i++)
            if (!cur_matches_at(c->kids[c->ord ? c->ord[i] : i], t))
                return 0;
        /* Every word stands on t: their positions decide. */
        return phrase_ok(c);
    case C_OR:
    case C_SYN:
        for (i = 0; i < c->n; i++)
            any |= cur_matches_at(c->kids[i], t);
        return any;
    case C_NOT:
        return cur_matches_at(c->kids[0], t) &&
               !cur_matches_at(c->kids[1], t);
    case C_ALL:
        return t < c->all_n;
    }
    return 0;
}

/* The BM25 sum of the cursor's matching terms at its passage; K is
 * k1 * (normlen * b + 1 - b) for that passage. */
static double
cur_score(const cur *c, double K)
{
    double s = 0;
    size_t i;

    switch (c->kind) {
    case C_TERM: {
        double wdf = (double)ndx_pcur_wdf(&c->pc);

        return c->tw * (wdf / (K + wdf));
    }
    case C_AND:
    case C_PHRASE:
        for (i = 0; i < c->n; i++)
            s += cur_score(c->kids[i], K);
        return s;
    case C_OR:
        for (i = 0; i < c->n; i++)
            if (c->kids[i]->id == c->id)
                s += cur_score(c->kids[i], K);
        return s;
    case C_SYN: {
        /* Xapian's SynonymPostList: the wdfs add up, one BM25 term (the
         * sum never exceeds the passage length, which Xapian clamps to:
         * the stems are distinct terms of the passage). */
        double wdf = 0;

        for (i = 0; i < c->n; i++)
            if (c->kids[i]->id == c->id)
                wdf += (double)ndx_pcur_wdf(&c->kids[i]->pc);
        return c->tw * (wdf / (K + wdf));
    }
    case C_NOT:
        return cur_score(c->kids[0], K);
    case C_UNION:
        return c->acc[c->id - c->win];
    default:
        return 0;
    }
}

static int
cur_corrupt(const cur *c)
{
    size_t i;

    if (c->kind == C_TERM)
        return c->pc.corrupt;
    for (i = 0; i < c->n; i++)
        if (cur_corrupt(c->kids[i]))
            return 1;
    return 0;
}


/* ---- pruning --------------------------------------------------------------
 *
 * Once the top k is full (and NDX_TOTAL_EXACT_UPTO matches are counted),
 * its worst score theta is what a passage must beat: ties lose, since a
 * later passage ranks after an earlier one of equal score.  Each postings
 * block records its largest wdf and its shortest passage, which bound
 * the score of any of its postings; cur_shallow sums such bounds over a
 * cursor tree without decoding postings, and cur_advance moves a cursor
 * past every region whose bound cannot beat theta (block-max pruning).
 * A disjunction is evaluated region by region (where every kid's block
 * bound holds): its kids are sorted by those bounds, and those whose
 * bounds together cannot beat theta only supply scores to candidates the
 * others propose (block-max MaxScore); where those others hold many of
 * the region's postings, the region is swept instead, every posting
 * adding its bound to its passage's sum (or_sweep).  A phrase at the
 * root is aligned on its words and scored; its positions are read only
 * when that score can enter the top k.  Scores are always computed as
 * the exhaustive walk computes them, so the ranking does not change.
 */

/* No limit on where a bound holds (cur_shallow). */
#define UPTO_ANY (NDX_PID_END - 1)

/* A bound sums the same terms as a score, perhaps in another order: the
 * slack keeps a last-bit difference in rounding from pruning a passage
 * that ties or beats theta. */
static int
cannot_beat(double bound, double theta)
{
    return bound * (1 + 1e-9) <= theta;
}

/* Bound on a term's score over a block from its impacts: BM25 grows
 * with wdf and falls with length, and every posting has a wdf at most and
 * a length at least those of one impact. */
static double
tbound(const ectx *e, double tw, const uint32_t *imp, uint32_t nimp)
{
    double b = 0;
    uint32_t k;

    for (k = 0; k < nimp; k++) {
        double w = (double)imp[2 * k];
        double x = tw * (w / (passage_k(e, imp[2 * k + 1]) + w));

        if (x > b)
            b = x;
    }
    return b;
}

typedef struct maxctx {
    const ectx *e;
    double tw, max;
} maxctx;

static void
max_block(void *ctx, const ndx_pblock *pb, const uint32_t *imp,
          uint32_t nimp)
{
    maxctx *m = ctx;
    double b = tbound(m->e, m->tw, imp, nimp);

    (void)pb;
    if (b > m->max)
        m->max = b;
}

typedef struct tabctx {
    const ectx *e;
    btab *t;
    int bad;
} tabctx;

static void
tab_block(void *ctx, const ndx_pblock *pb, const uint32_t *imp, uint32_t nimp)
{
    tabctx *x = ctx;
    btab *t = x->t;
    /* tbound with a weight of 1: tw * this rounds as tbound's largest
     * product does or above it, since the float is rounded up. */
    double m = tbound(x->e, 1, imp, nimp);
    float f = (float)m;

    if ((double)f < m)
        f = nextafterf(f, INFINITY);
    if (pb->index >= t->n || pb->skip_off > UINT32_MAX ||
        pb->data_off > UINT32_MAX) {
        x->bad = 1;
        return;
    }
    t->blk[pb->index].last = pb->last;
    t->blk[pb->index].skip_off = (uint32_t)pb->skip_off;
    t->blk[pb->index].data_off = (uint32_t)pb->data_off;
    t->bnd[pb->index] = f;
    if (f > t->max)
        t->max = f;
}

/* The block table of a term cursor's list, from the view's cache or built
 * now (NULL: the list is short, the cache full or lacking, the setting
 * another than the table's, or memory short). */
static const btab *
cur_tab(const ectx *e, cur *c)
{
    vcache *bc = e->v->bound_cache;
    const ndx_bm25 *p = &e->o->bm25;
    uint64_t key;
    unsigned char *en;
    btab *t = NULL, *had = NULL;
    tabctx x;
    size_t bytes, used;
    int added;

    if (c->tab_tried)
        return c->tab;
    c->tab_tried = 1;
    if (!bc || c->pc.corrupt || c->pc.blocks_total < BTAB_MIN_BLOCKS ||
        c->pc.seg->uid >= (1u << 23) || c->pc.post_off >= (1ULL << 40))
        return NULL;
    key = (uint64_t)(c->pc.seg->uid + 1) << 40 | c->pc.post_off;
    bytes = sizeof *t + c->pc.blocks_total * (sizeof *t->blk +
                                              sizeof *t->bnd);
    pthread_mutex_lock(&bc->mu);
    en = ndx_htab_get(&bc->t, key);
    if (en)
        memcpy(&had, en + 8, sizeof had);
    used = bc->bytes;
    pthread_mutex_unlock(&bc->mu);
    if (!had) {
        if (used + bytes > BTAB_BYTES_MAX)
            return NULL; /* checked again when the table is put */
        if (!(t = calloc(1, sizeof *t)))
            return NULL;
        t->k1 = p->k1;
        t->b = p->b;
        t->min_normlen = p->min_normlen;
        t->avlen = e->avlen;
        t->n = c->pc.blocks_total;
        t->blk = malloc(t->n * sizeof *t->blk);
        t->bnd = malloc(t->n * sizeof *t->bnd);
        x.e = e;
        x.t = t;
        x.bad = 0;
        if (!t->blk || !t->bnd ||
            ndx_pcur_each_block(&c->pc, tab_block, &x) != 0 || x.bad) {
            btab_free(t);
            return NULL;
        }
        pthread_mutex_lock(&bc->mu);
        en = ndx_htab_get(&bc->t, key);
        if (en) {
            /* Another search built it meanwhile. */
            memcpy(&had, en + 8, sizeof had);
        } else if (bc->bytes + bytes <= BTAB_BYTES_MAX &&
                   (en = ndx_htab_put(&bc->t, key, &added)) != NULL) {
            memcpy(en + 8, &t, sizeof t);
            bc->bytes += bytes;
            had = t;
            t = NULL;
        }
        pthread_mutex_unlock(&bc->mu);
        btab_free(t);
        if (!had)
            return NULL;
    }
    if (had->k1 != p->k1 || had->b != p->b ||
        had->min_normlen != p->min_normlen || had->avlen != e->avlen)
        return NULL;
    c->tab = had;
    return had;
}

/* cur_tab, without a call once the cursor has asked. */
static inline const btab *
term_tab(const ectx *e, cur *c)
{
    return c->tab_tried ? c->tab : cur_tab(e, c);
}

/* The first block of the table at or after b whose last id is at least
 * t (tb->n: none). */
static uint64_t
tab_find(const btab *tb, uint64_t b, uint32_t t)
{
    uint64_t lo = b, hi = b + 1, step = 1;

    if (b >= tb->n || tb->blk[b].last >= t)
        return b;
    /* Galloping: the block sought is most often a few blocks on. */
    while (hi < tb->n && tb->blk[hi].last < t) {
        lo = hi;
        step *= 2;
        hi = lo + step;
    }
    if (hi > tb->n)
        hi = tb->n;
    lo++;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;

        if (tb->blk[mid].last < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Moves the cursor to the start of block b of its table (b past the
 * next block it would read), or to its end when b is tb->n: -1 then. */
static int
tab_jump(cur *c, const btab *tb, uint64_t b)
{
    ndx_pblock pb;

    if (b >= tb->n) {
        ndx_pcur_finish(&c->pc);
        c->id = NDX_PID_END;
        return -1;
    }
    pb.index = b;
    pb.last = tb->blk[b].last;
    pb.prev_last = tb->blk[b - 1].last;
    pb.skip_off = tb->blk[b].skip_off;
    pb.data_off = tb->blk[b].data_off;
    ndx_pcur_jump(&c->pc, &pb);
    return 0;
}

/* The next block a term cursor would read (the first not taken). */
static uint64_t
tab_next(const cur *c)
{
    return c->pc.blocks_total - c->pc.left_blocks;
}

/* Moves a term cursor with a block table straight to the block holding
 * its first posting at or after t when that block is past the next one:
 * where ndx_pcur_seek or ndx_pcur_shallow would arrive reading every
 * skip entry in between.  -1 when no block holds such a posting (the
 * cursor is then at its end). */
static int
tab_skip(cur *c, uint32_t t)
{
    const btab *tb = term_tab(c->e, c);
    uint64_t b, to;

    if (!tb || c->pc.id == NDX_PID_END || t <= c->pc.block_last)
        return 0;
    b = tab_next(c);
    to = tab_find(tb, b, t);
    return to > b ? tab_jump(c, tb, to) : 0;
}

/* Passes, by the cursor's block table, the blocks from the one holding
 * the first posting at or after *t on whose bounds cannot beat theta, and
 * moves *t to the first block that can: what cur_shallow would find
 * block by block, without reading the skip entries in between.  Does
 * nothing when *t is in the block the cursor has decoded.  -1 when no
 * block is left (the cursor is then at its end). */
static int
tab_pass(cur *c, const btab *tb, uint32_t *t, double theta)
{
    uint64_t b = tab_next(c), from;

    if (c->pc.id == NDX_PID_END || *t <= c->pc.block_last || b >= tb->n)
        return 0;
    from = b = tab_find(tb, b, *t);
    while (b < tb->n && cannot_beat(c->tw * (double)tb->bnd[b], theta))
        b++;
    if (b > tab_next(c) && tab_jump(c, tb, b) != 0)
        return -1;
    if (b > from && *t <= tb->blk[b - 1].last)
        *t = tb->blk[b - 1].last + 1;
    return 0;
}

/* Bound on the cursor's score anywhere in the segment (computed once). */
static double
cur_max(const ectx *e, cur *c)
{
    size_t i;
    double m = 0;

    if (c->max_ok)
        return c->max;
    switch (c->kind) {
    case C_TERM: {
        maxctx mc = {e, c->tw, 0};
        const btab *tb = term_tab(e, c);

        /* Damage is reported by the walk; here it only stops pruning. */
        if (tb)
            m = c->tw * (double)tb->max;
        else
            m = ndx_pcur_each_block(&c->pc, max_block, &mc) == 0 ? mc.max
                                                                 : INFINITY;
        break;
    }
    case C_AND:
    case C_PHRASE:
    case C_OR:
        for (i = 0; i < c->n; i++)
            m += cur_max(e, c->kids[i]);
        break;
    case C_NOT:
        m = cur_max(e, c->kids[0]);
        break;
    case C_UNION:
        m = INFINITY;
        break;
    case C_SYN:
        m = c->tw; /* wdf / (K + wdf) < 1 */
        break;
    case C_NONE:
    case C_ALL:
    case C_FILTER:
        m = 0;
        break;
    }
    c->max = m;
    c->max_ok = 1;
    return m;
}

static uint32_t cur_shallow_any(const ectx *e, cur *c, uint32_t t,
                                double *ub);

/* cur_shallow_any, answered at once for a word whose block bounded last
 * spans t: its bound holds there.  A disjunction or conjunction asks its
 * words candidate after candidate within the same blocks. */
static inline uint32_t
cur_shallow(const ectx *e, cur *c, uint32_t t, double *ub)
{
    if (c->kind == C_TERM && c->ub_ok && t >= c->ub_t && t <= c->ub_last &&
        c->id != NDX_PID_END) {
        *ub = c->ub;
        return c->ub_last;
    }
    return cur_shallow_any(e, c, t, ub);
}

/* Bound *ub on the cursor's score at its first match at or after t, and
 * the last passage id up to which that bound holds; NDX_PID_END when the
 * cursor cannot match at or after t.  Moves term cursors past whole
 * blocks before t, so t may only grow from call to call. */
static uint32_t
cur_shallow_any(const ectx *e, cur *c, uint32_t t, double *ub)
{
    uint32_t upto = UPTO_ANY, u, nimp;
    const uint32_t *imp;
    size_t i;
    double b;
    int any = 0;

    *ub = 0;
    if (c->id == NDX_PID_END)
        return NDX_PID_END;
    switch (c->kind) {
    case C_TERM:
        if (t > c->pc.block_last && tab_skip(c, t) != 0)
            return NDX_PID_END;
        if (c->tab && c->pc.id != NDX_PID_END) {
            /* The block from the table: its impacts are read only when a
             * posting of it is weighed (cur_impacts). */
            uint64_t bi = tab_next(c);

            if (c->pc.id >= t || c->pc.block_last >= t)
                bi--;
            if (bi < c->tab->n) {
                u = c->tab->blk[bi].last;
                if (u != c->ub_last || !c->ub_ok) {
                    c->ub = c->tw * (double)c->tab->bnd[bi];
                    c->ub_last = u;
                    c->ub_ok = 1;
                    c->imp_ok = 0;
                    c->ub_t = t;
                }
                *ub = c->ub;
                return u;
            }
        }
        u = ndx_pcur_shallow(&c->pc, t, &imp, &nimp);
        if (u == NDX_PID_END) {
            c->id = NDX_PID_END;
            return NDX_PID_END;
        }
        /* A block is bounded once: its last id names it. */
        if (u != c->ub_last || !c->ub_ok) {
            c->ub = tbound(e, c->tw, imp, nimp);
            c->nimp = nimp < NDX_SEG_IMPACTS ? nimp : NDX_SEG_IMPACTS;
            memcpy(c->imp, imp, 2 * c->nimp * sizeof *c->imp);
            /* The first impact has the block's shortest passage. */
            c->kmin = passage_k(e, nimp ? imp[1] : 0);
            c->ub_last = u;
            c->ub_ok = 1;
            c->imp_ok = 1;
            c->ub_t = t;
        }
        *ub = c->ub;
        return u;
    case C_AND:
    case C_PHRASE:
        for (i = 0; i < c->n; i++) {
            if ((u = cur_shallow(e, c->kids[i], t, &b)) == NDX_PID_END)
                return NDX_PID_END;
            *ub += b;
            if (u < upto)
                upto = u;
        }
        return upto;
    case C_OR:
        for (i = 0; i < c->n; i++) {
            if ((u = cur_shallow(e, c->kids[i], t, &b)) == NDX_PID_END)
                continue;
            any = 1;
            *ub += b;
            if (u < upto)
                upto = u;
        }
        return any ? upto : NDX_PID_END;
    case C_NOT:
        return cur_shallow(e, c->kids[0], t, ub);
    case C_SYN:
        *ub = c->tw;
        return UPTO_ANY;
    case C_UNION:
        *ub = INFINITY;
        return UPTO_ANY;
    case C_ALL:
    case C_FILTER:
        return UPTO_ANY;
    case C_NONE:
        break;
    }
    return NDX_PID_END;
}

/* Makes c->imp, c->nimp and c->kmin those of the block cur_shallow
 * bounded last, when it took the bound from the block table. */
static void
cur_impacts(const ectx *e, cur *c)
{
    const uint32_t *imp;
    uint32_t nimp;

    if (c->imp_ok)
        return;
    c->imp_ok = 1;
    if (ndx_pcur_shallow(&c->pc, c->ub_t, &imp, &nimp) == NDX_PID_END ||
        nimp == 0) {
        /* Damage (reported by the walk): bounds that prune nothing. */
        c->imp[0] = UINT32_MAX;
        c->imp[1] = 0;
        c->nimp = 1;
        c->kmin = 0;
        return;
    }
    c->nimp = nimp < NDX_SEG_IMPACTS ? nimp : NDX_SEG_IMPACTS;
    memcpy(c->imp, imp, 2 * c->nimp * sizeof *c->imp);
    c->kmin = passage_k(e, imp[1]);
}

/* Bound on the cursor's score at its current passage, from the postings
 * it stands on (the blocks holding them bounded by cur_shallow last). */
static double
here_bound(const ectx *e, cur *c)
{
    double b = 0, w;
    size_t i;

    switch (c->kind) {
    case C_TERM:
        cur_impacts(e, c);
        w = (double)ndx_pcur_wdf(&c->pc);
        return c->tw * (w / (c->kmin + w));
    case C_AND:
    case C_PHRASE:
        for (i = 0; i < c->n; i++)
            b += here_bound(e, c->kids[i]);
        return b;
    case C_OR:
        for (i = 0; i < c->n; i++)
            if (c->kids[i]->id == c->id)
                b += here_bound(e, c->kids[i]);
        return b;
    case C_NOT:
        return here_bound(e, c->kids[0]);
    case C_SYN:
        return c->tw; /* wdf / (K + wdf) < 1 */
    case C_ALL:
    case C_FILTER:
        return 0;
    default:
        return INFINITY;
    }
}

/* Passes the regions from *t on whose bound cannot beat theta: returns
 * the last passage of the first region that can (its bound holds up to
 * there), or NDX_PID_END with c at its end. */
static uint32_t
skip_regions(const ectx *e, cur *c, uint32_t *t, double theta)
{
    double ub;

    for (;;) {
        uint32_t upto;

        /* At the limit nothing more is passed: the caller finds its
         * region "ends" before *t and seeks a true match. */
        if (*t >= e->lim)
            return *t - 1;
        if (c->kind == C_TERM && e->lim == UINT32_MAX && term_tab(e, c) &&
            tab_pass(c, c->tab, t, theta) != 0)
            return NDX_PID_END;
        upto = cur_shallow(e, c, *t, &ub);
        if (upto == NDX_PID_END) {
            c->id = NDX_PID_END;
            return NDX_PID_END;
        }
        if (!cannot_beat(ub, theta))
            return upto;
        if (upto >= UPTO_ANY && e->lim == UINT32_MAX) {
            c->id = NDX_PID_END;
            return NDX_PID_END;
        }
        *t = upto >= e->lim ? e->lim : upto + 1;
    }
}

static int
cmp_max(const void *a, const void *b, void *ctx)
{
    cur *const *kids = ctx;
    double x = kids[*(const size_t *)a]->max, y = kids[*(const size_t *)b]->max;

    return (x > y) - (x < y);
}

/* Kids of a disjunction that or_window sorts by their blocks' bounds
 * (more: the essential ones are those of the list-wide maxima, and no
 * region is swept). */
#define OR_WINDOW_MAX 16

/* Orders a disjunction's kids for MaxScore (once per segment). */
static int
or_prepare(ectx *e, cur *c)
{
    size_t j;

    if (c->pre)
        return 0;
    c->ord = ndx_arena_alloc(e->arena, c->n * sizeof *c->ord);
    c->pre = ndx_arena_alloc(e->arena, c->n * sizeof *c->pre);
    c->isreq = ndx_arena_alloc(e->arena, c->n);
    c->wess = ndx_arena_alloc(e->arena, c->n);
    c->req_theta = -INFINITY;
    c->reg_theta = NAN; /* no region split yet */
    if (!c->ord || !c->pre || !c->isreq || !c->wess) {
        c->pre = NULL;
        return -1;
    }
    for (j = 0; j < c->n; j++) {
        c->ord[j] = j;
        cur_max(e, c->kids[j]);
    }
    qsort_r(c->ord, c->n, sizeof *c->ord, cmp_max, c->kids);
    for (j = 0; j < c->n; j++)
        c->pre[j] = (j ? c->pre[j - 1] : 0) + c->kids[c->ord[j]]->max;
    c->sweep_df = 0;
    for (j = 0; j < c->n && c->n <= OR_WINDOW_MAX; j++) {
        if (c->kids[j]->kind != C_TERM) {
            c->sweep_df = 0;
            break;
        }
        c->sweep_df += c->kids[j]->df;
    }
    return 0;
}

static void cur_advance(ectx *e, cur *c, uint32_t t, double theta,
                        int defer);

static int cmp_df(const void *a, const void *b, void *ctx);
static uint64_t cur_cost(cur *c);

/* Kids of a disjunction whose conjunction or_required may build (more:
 * candidates come from the essential kids alone). */
#define OR_REQUIRED_MAX 8

/* The kids of a disjunction that every passage able to beat theta
 * matches: those without which the others' maxima together cannot beat
 * it.  When there are some, c->req is a conjunction of them (rarest
 * first) and c->req_rest what the other kids may add at most; else
 * c->req is NULL.  Theta only grows, so the set only grows; it is worked
 * out again when theta changes; a new conjunction starts aligned at t. */
static int
or_required(ectx *e, cur *c, uint32_t t, double theta)
{
    size_t i, j, r = 0;
    double rest = 0;
    cur *a;

    if (theta == c->req_theta || c->n > OR_REQUIRED_MAX)
        return 0;
    c->req_theta = theta;
    for (i = 0; i < c->n; i++) {
        double others = 0;

        for (j = 0; j < c->n; j++)
            if (j != i)
                others += c->kids[j]->max;
        c->isreq[i] = cannot_beat(others, theta);
        if (c->isreq[i])
            r++;
        else
            rest += c->kids[i]->max;
    }
    if (r == 0 || (c->req && r == c->req->n))
        return 0;
    c->req_rest = rest;
    if (r == 1) {
        for (i = 0; !c->isreq[i]; i++)
            ;
        c->req = c->kids[i];
        return 0;
    }
    if (!(a = cur_new(e, C_AND, r)) ||
        !(a->ord = ndx_arena_alloc(e->arena, r * sizeof *a->ord)))
        return -1;
    for (i = 0; i < c->n; i++)
        if (c->isreq[i]) {
            a->ord[a->n] = a->n;
            a->kids[a->n] = c->kids[i];
            a->kids[a->n]->df = cur_cost(c->kids[i]);
            a->n++;
        }
    qsort_r(a->ord, a->n, sizeof *a->ord, cmp_df, a->kids);
    and_align(a, t);
    c->req = a;
    return 0;
}

/* Whether or_advance's kid ord[j] stands on its candidates by its own
 * postings: a required kid, or without any one essential in the region
 * (or_window). */
static int
or_found(const cur *c, size_t j)
{
    return c->req ? c->isreq[c->ord[j]] : c->wess[j];
}

/* Splits a disjunction's kids for the region from t to c->reg_upto, where
 * each kid's block bound holds: the kids whose bounds there, smallest
 * first, together cannot beat theta are not essential in it (a passage
 * only they match cannot enter the top k), the others are (c->wess).  A
 * common word whose blocks here hold no strong posting then proposes no
 * candidates, where its list-wide maximum would make it essential
 * throughout (block-max MaxScore).  m kids are not essential by their
 * list-wide maxima: with more kids than OR_WINDOW_MAX, the split. */
static void
or_window(const ectx *e, cur *c, uint32_t t, double theta, size_t m)
{
    double b[OR_WINDOW_MAX], sum = 0;
    size_t idx[OR_WINDOW_MAX], j, i;

    if (c->n > OR_WINDOW_MAX) {
        for (j = 0; j < c->n; j++)
            c->wess[j] = j >= m;
        return;
    }
    for (j = 0; j < c->n; j++) {
        double x;

        if (cur_shallow(e, c->kids[c->ord[j]], t, &x) == NDX_PID_END)
            x = 0;
        /* Insertion by bound, ascending. */
        for (i = j; i > 0 && b[i - 1] > x; i--) {
            b[i] = b[i - 1];
            idx[i] = idx[i - 1];
        }
        b[i] = x;
        idx[i] = j;
    }
    for (i = 0; i < c->n; i++) {
        sum += b[i];
        c->wess[idx[i]] = !cannot_beat(sum, theta);
    }
}

/* Regions at most this many passages wide are swept (or_sweep). */
#define OR_SWEEP_SPAN 16384
/* Postings a region must hold (by density) per word of its bitmap. */
#define OR_SWEEP_DENSE 1
/* A region is swept when its essential kids hold at least one posting
 * in this many of all its kids' (or_sweep_pays).  On the 50 OR queries
 * over 5,000,000 passages (two rounds in turn, thread CPU, 10 passes):
 * 8 gave p99 19.9-22.1 ms, 4 29.1-32.7, 32 20.2-27.6; in instructions
 * 4 was 7% above 8, 16 2%, sweeping every region 11%. */
#define OR_SWEEP_SHARE 8

/* Whether sweeping a region (or_sweep) costs less than MaxScore there:
 * a sweep reads every posting of the region, MaxScore proposes the
 * essential kids' postings (c->wess) and weighs each against the others;
 * by the lists' densities, a sweep pays once the essential kids hold one
 * posting in OR_SWEEP_SHARE of the region's. */
static int
or_sweep_pays(const cur *c)
{
    uint64_t ess = 0;
    size_t j;

    if (!c->sweep_df)
        return 0;
    for (j = 0; j < c->n; j++)
        if (c->wess[j])
            ess += c->kids[c->ord[j]]->df;
    return ess * OR_SWEEP_SHARE >= c->sweep_df;
}

/* Disjunctions of one tree of cursors that sweep (more: MaxScore). */
#define SWEEPS_MAX 16

typedef struct sweepbuf {
    uint32_t *rc;
    double *rub, *acc;
    uint64_t *bits;
} sweepbuf;

/* Gives disjunction c the next arrays of e's sweeps, made on first use: a
 * region's candidates are postings of its kids, each kid within one
 * block (OR_WINDOW_MAX kids at most); the sums need no zeroing (bits says
 * which hold one).  Kept for the trees of the next segments, where 128 KB
 * of sums for each disjunction of each segment cost their page faults. */
static int
sweep_alloc(ectx *e, cur *c)
{
    sweepbuf *b;

    if (!e->sweeps &&
        !(e->sweeps = ndx_arena_alloc(e->arena,
                                      SWEEPS_MAX * sizeof *e->sweeps)))
        return -1;
    if (e->sweep_used == SWEEPS_MAX)
        return -1;
    b = &e->sweeps[e->sweep_used];
    if (e->sweep_used == e->sweep_count) {
        size_t cap = OR_WINDOW_MAX * NDX_SEG_BLOCK;

        b->rc = ndx_arena_alloc_raw(e->arena, cap * sizeof *b->rc);
        b->rub = ndx_arena_alloc_raw(e->arena, cap * sizeof *b->rub);
        b->acc = ndx_arena_alloc_raw(e->arena,
                                     OR_SWEEP_SPAN * sizeof *b->acc);
        b->bits = ndx_arena_alloc_raw(e->arena, OR_SWEEP_SPAN / 64 *
                                                    sizeof *b->bits);
        if (!b->rc || !b->rub || !b->acc || !b->bits)
            return -1;
        e->sweep_count++;
    }
    e->sweep_used++;
    c->rc = b->rc;
    c->rub = b->rub;
    c->acc = b->acc;
    c->bits = b->bits;
    return 0;
}

/* Sweeps the region from t to c->reg_upto of a disjunction of words:
 * every posting of every kid there (each kid within one block, which its
 * bound covers) adds its bound (its wdf at the block's shortest passage)
 * to its passage's sum, and the passages whose sums can beat theta are
 * the region's candidates (c->rc), in order.  One pass over the packed
 * postings where MaxScore would seek the other kids candidate by
 * candidate: on common words most candidates fail only once those are
 * sought.  0 when the region is not swept (kids other than words, too
 * wide or sparse, out of memory), and candidates come from MaxScore. */
static int
or_sweep(ectx *e, cur *c, uint32_t t, double theta)
{
    uint32_t upto = c->reg_upto, span, nw, w;
    size_t j, n = 0;
    double *acc;
    uint64_t *bits;

    if (!c->sweep_df || upto >= e->lim || upto < t ||
        upto - t >= OR_SWEEP_SPAN)
        return 0;
    /* The region's postings by the lists' densities: a sparse region
     * costs more in its bitmap than in its postings. */
    span = upto - t + 1;
    if ((double)c->sweep_df * span * OR_SWEEP_DENSE <
        (double)c->kids[0]->pc.seg->passages * ((span + 63) / 64))
        return 0;
    if (!c->rc && sweep_alloc(e, c) != 0)
        return 0;
    acc = c->acc;
    bits = c->bits;
    nw = (span + 63) / 64;
    memset(bits, 0, nw * sizeof *bits);
    for (j = 0; j < c->n; j++) {
        cur *k = c->kids[j];
        const uint32_t *ids;
        uint32_t nb, i;

        cur_seek(k, t);
        if (k->id > upto)
            continue;
        if (!(nb = ndx_pcur_block_ids(&k->pc, &ids)))
            return 0;
        cur_impacts(e, k);
        for (i = k->pc.i; i < nb && ids[i] <= upto; i++) {
            uint32_t d = ids[i] - t, wdf = ndx_pcur_wdf_at(&k->pc, i);
            double b = k->tw * (wdf / (k->kmin + wdf));
            uint64_t m = 1ULL << (d & 63), had = bits[d >> 6] & m;
            double prev = acc[d];

            /* Without a branch: whether another kid was there is as
             * likely as not, and a mispredicted branch a posting made
             * the sweep slower than MaxScore (p99 30 ms against 25). */
            bits[d >> 6] |= m;
            acc[d] = (had ? prev : 0.0) + b;
        }
    }
    for (w = 0; w < nw; w++) {
        uint64_t x = bits[w];

        while (x) {
            uint32_t d = w * 64 + (uint32_t)__builtin_ctzll(x);

            /* Written whether or not the passage is kept, the count
             * moving only when it is: no branch to mispredict. */
            x &= x - 1;
            c->rc[n] = t + d;
            c->rub[n] = acc[d];
            n += !cannot_beat(acc[d], theta);
        }
    }
    c->rn = n;
    c->ri = 0;
    return 1;
}

/* MaxScore step of a disjunction: the next passage at or after t that an
 * essential kid matches and whose bound can beat theta.  When some kids
 * are required (or_required), candidates come from their conjunction,
 * which passes its own hopeless postings as a conjunction query does. */
static void
or_advance(ectx *e, cur *c, uint32_t t, double theta)
{
    size_t j, m = 0;
    double all;

    if (or_prepare(e, c) != 0 || or_required(e, c, t, theta) != 0) {
        cur_seek(c, t);
        return;
    }
    while (m < c->n && cannot_beat(c->pre[m], theta))
        m++;
    if (m == c->n) {
        if (e->lim == UINT32_MAX)
            c->id = NDX_PID_END;
        else
            cur_seek(c, t > e->lim ? t : e->lim);
        return;
    }
    all = c->pre[c->n - 1];
    for (;;) {
        uint32_t cand = NDX_PID_END;
        double ub = 0, b;

        /* Regions where the blocks of all kids together cannot beat
         * theta are passed whole; a region found able to is not bounded
         * again while theta stands.  A swept region keeps its
         * candidates when theta rises: each is held against theta as it
         * is taken below. */
        if (t > c->reg_upto || (theta != c->reg_theta && !c->swept)) {
            uint32_t upto = skip_regions(e, c, &t, theta);

            if (upto == NDX_PID_END)
                return;
            c->reg_upto = upto;
            c->reg_theta = theta;
            c->swept = 0;
            if (!c->req) {
                or_window(e, c, t, theta, m);
                c->swept = or_sweep_pays(c) && or_sweep(e, c, t, theta);
            }
        }

        if (c->swept) {
            while (c->ri < c->rn &&
                   (c->rc[c->ri] < t || cannot_beat(c->rub[c->ri], theta)))
                c->ri++;
            if (c->ri == c->rn) {
                /* Nothing in the region can beat theta: the next. */
                if (c->reg_upto >= UPTO_ANY) {
                    c->id = NDX_PID_END;
                    return;
                }
                t = c->reg_upto + 1;
                continue;
            }
            cand = c->rc[c->ri++];
            for (j = 0; j < c->n; j++)
                cur_seek(c->kids[j], cand);
            c->id = cand;
            return;
        }
        if (c->req) {
            cur_advance(e, c->req, t, theta - c->req_rest * (1 + 1e-9), 0);
            cand = c->req->id;
        } else {
            for (j = 0; j < c->n; j++) {
                cur *k = c->kids[c->ord[j]];
                /* Whatever the others add, this kid must supply the
                 * rest (the list-wide maxima: the kid may be passed
                 * beyond the region). */
                double rest = all - k->max;

                if (!c->wess[j])
                    continue;
                cur_advance(e, k, t, theta - rest * (1 + 1e-9), 0);
                if (k->id < cand)
                    cand = k->id;
            }
            /* No essential kid matches in the region: the next one. */
            if (cand > c->reg_upto && c->reg_upto < UPTO_ANY &&
                c->reg_upto + 1 < e->lim) {
                t = c->reg_upto + 1;
                continue;
            }
        }
        if (cand >= e->lim) {
            /* Past the limit every kid counts, essential or not: the
             * essential ones stand at their first match from there. */
            cur_seek(c, t > e->lim ? t : e->lim);
            return;
        }
        if (cand == NDX_PID_END) {
            c->id = NDX_PID_END;
            return;
        }
        /* The kids that found cand at cand by their postings, the others
         * by their blocks; then the others are sought one by one, largest
         * first, each trading its block's bound for its posting's. */
        for (j = 0; j < c->n; j++) {
            cur *k = c->kids[c->ord[j]];
            int found = or_found(c, j);

            if (found && k->id != cand)
                continue;
            if (cur_shallow(e, k, cand, &b) == NDX_PID_END)
                continue;
            ub += found ? here_bound(e, k) : b;
        }
        for (j = c->n; j-- > 0 && !cannot_beat(ub, theta);) {
            cur *k = c->kids[c->ord[j]];

            if (or_found(c, j))
                continue;
            if (cur_shallow(e, k, cand, &b) == NDX_PID_END)
                continue;
            ub -= b;
            cur_seek(k, cand);
            if (k->id == cand)
                ub += here_bound(e, k);
        }
        if (cannot_beat(ub, theta)) {
            t = cand + 1;
            continue;
        }
        for (j = 0; j < c->n; j++)
            cur_seek(c->kids[j], cand);
        c->id = cand;
        return;
    }
}

/* Kids of a conjunction whose bounds lead_pass keeps (more: it does not
 * pass postings before aligning). */
#define LEAD_KIDS_MAX 16
/* Postings whose lengths lead_pass reads together. */
#define LEAD_BATCH 16

/* Bound on a term's score at a passage of length len (K its passage_k)
 * in the block cur_shallow bounded last: a posting of wdf w there has an
 * impact of wdf at least w and length at most len; 0 when none does (the
 * word cannot stand in that passage). */
static double
len_bound(const cur *c, uint32_t len, double K)
{
    double b = 0;
    uint32_t k;

    for (k = 0; k < c->nimp; k++)
        if (c->imp[2 * k + 1] <= len) {
            double w = (double)c->imp[2 * k];
            double x = c->tw * (w / (K + w));

            if (x > b)
                b = x;
        }
    return b;
}

/* The least wdf at which the term's score, at its block's shortest
 * passage, plus rest may beat theta: every smaller wdf fails the same
 * test that lead_pass applies to each posting (UINT32_MAX: none passes). */
static uint32_t
lead_wdf_min(const cur *lead, double rest, double theta)
{
    double r = (theta - rest) / lead->tw, w;
    uint32_t m;

    if (!(lead->tw > 0) || r <= 0)
        return 1;
    if (r >= 1)
        return UINT32_MAX;
    /* tw * w / (kmin + w) > theta - rest  <=>  w > r * kmin / (1 - r) */
    w = r * lead->kmin / (1 - r);
    if (w >= 4e9)
        return UINT32_MAX;
    m = (uint32_t)w + 1;
    /* Rounding may put the exact test's boundary one lower. */
    while (m > 1 &&
           !cannot_beat(lead->tw * ((m - 1) / (lead->kmin + (m - 1))) + rest,
                        theta))
        m--;
    return m;
}

/* Of a root conjunction's lead postings, the share in common passages
 * below which its candidates come from the merge of its lists rather
 * than from the lead's postings weighed one by one (lead_pass): on the
 * 5m corpus the 100 AND queries whose words share few passages ran
 * 20-37% faster merging first, those of words that go together ("trump
 * tariff", "democrats senate") 5-14% slower. */
#define MERGE_FIRST_SHARE 0.25

/* Whether the root conjunction finds its common passages before it weighs
 * them (see MERGE_FIRST_SHARE; NAN share: not yet known, no). */
static int
merge_first(const ectx *e)
{
    return e->and_share < MERGE_FIRST_SHARE;
}

/* Before a conjunction aligns at or after *t within a region bounded up
 * to upto, its leading (rarest) word passes its postings whose own wdf,
 * with its block's shortest passage, and the other kids' block bounds
 * cannot beat theta: those are never sought in the other lists.  *t
 * becomes the lead's first posting that may; returns 1 when none is left
 * up to upto (*t is then past it, or c is at its end). */
static int
lead_pass(const ectx *e, cur *c, uint32_t *t, uint32_t upto, double theta)
{
    cur *lead = c->kids[c->ord ? c->ord[0] : 0];
    double rest = 0, b, kb[LEAD_KIDS_MAX];
    uint32_t wmin;
    size_t j;

    if (lead->kind != C_TERM || upto >= e->lim || c->n > LEAD_KIDS_MAX)
        return 0;
    for (j = 0; j < c->n; j++) {
        if (c->kids[j] == lead)
            continue;
        if (cur_shallow(e, c->kids[j], *t, &kb[j]) == NDX_PID_END)
            return 0;
        rest += kb[j];
    }
    if (cur_shallow(e, lead, *t, &b) == NDX_PID_END)
        return 0;
    cur_impacts(e, lead);
    wmin = lead_wdf_min(lead, rest, theta);
    /* When every wdf of a conjunction's lead may beat theta, the passages
     * its words share are found first (and_align merges the lists), and
     * only those are weighed: reading the length of each of the lead's
     * postings cost more (5m corpus, 100 AND queries: CPU mean 0.92, p99
     * 0.95).  A phrase's candidates still pass here: each that the
     * lengths let through costs a reading of positions. */
    if (wmin <= 1 && c->merge_first)
        return 0;
    ndx_pcur_seek(&lead->pc, *t);
    while (lead->pc.id <= upto) {
        uint32_t bk[LEAD_BATCH], nb = 0, i;
        double bw[LEAD_BATCH];
        int more = 1;

        /* A batch of the block's postings whose wdf, with the block's
         * shortest passage, may beat theta (smaller wdfs are passed in
         * their packed form); their lengths are then read, the reads
         * started together. */
        while (nb < LEAD_BATCH) {
            /* The wdf bound holds only up to upto: the postings after it
             * are not passed here.  A posting of wdf wmin or more passes
             * the test with the block's shortest passage (lead_wdf_min);
             * its own length decides below. */
            if (!ndx_pcur_scan_wdf(&lead->pc, wmin, upto)) {
                more = 0;
                break;
            }
            ndx_seg_passage_prefetch(lead->pc.seg, lead->pc.id);
            bk[nb] = lead->pc.i;
            bw[nb++] = (double)ndx_pcur_wdf(&lead->pc);
            if (lead->pc.i + 1 >= lead->pc.n) {
                more = 0; /* the region ends with the block */
                break;
            }
            ndx_pcur_next(&lead->pc);
        }
        for (i = 0; i < nb; i++) {
            /* With the passage's own length: the lead's exact score, and
             * each other word's best impact that a passage this long can
             * have. */
            uint32_t len = 0, pid = lead->pc.ids[bk[i]];
            double K;

            ndx_seg_passage(lead->pc.seg, pid, NULL, &len);
            K = passage_k(e, len);
            b = lead->tw * (bw[i] / (K + bw[i]));
            for (j = 0; j < c->n; j++)
                if (c->kids[j] != lead) {
                    if (c->kids[j]->kind == C_TERM) {
                        cur_impacts(e, c->kids[j]);
                        b += len_bound(c->kids[j], len, K);
                    } else {
                        b += kb[j];
                    }
                }
            if (!cannot_beat(b, theta)) {
                ndx_pcur_back_to(&lead->pc, bk[i]);
                lead->id = pid;
                *t = pid;
                return 0;
            }
        }
        if (lead->pc.corrupt)
            break;
        if (!more) {
            /* Nothing more in the region: the lead goes to its first
             * posting after it. */
            ndx_pcur_seek(&lead->pc, upto + 1);
            lead->id = lead->pc.id;
            if (lead->id == NDX_PID_END) {
                c->id = NDX_PID_END;
                return 1;
            }
            /* No passage before the lead's next posting has every word:
             * the next region starts there. */
            *t = lead->id;
            return 1;
        }
    }
    lead->id = lead->pc.id;
    if (lead->id == NDX_PID_END) {
        c->id = NDX_PID_END;
        return 1;
    }
    if (lead->id > upto) {
        *t = lead->id;
        return 1;
    }
    *t = lead->id;
    return 0;
}

/* Moves c to its first passage at or after t whose score may beat theta
 * (with theta = -INFINITY: to its first match, as cur_seek).  With defer
 * a phrase is left unchecked (c->unchecked) for the caller. */
static void
cur_advance(ectx *e, cur *c, uint32_t t, double theta, int defer)
{
    uint32_t upto, wmin;

    /* Scores are never negative: below 0 nothing can be passed over. */
    if (theta < 0 || c->id == NDX_PID_END || t >= e->lim) {
        cur_seek(c, t);
        return;
    }
    switch (c->kind) {
    case C_TERM:
    case C_AND:
    case C_PHRASE:
        for (;;) {
            if (c->id == NDX_PID_END)
                return;
            if (t >= e->lim) {
                /* A phrase may stand on a passage aligned but not yet
                 * checked: from the limit on only true matches count. */
                if (c->kind == C_PHRASE && c->id >= t)
                    phrase_align(c, c->id);
                else
                    cur_seek(c, t);
                return;
            }
            if ((upto = skip_regions(e, c, &t, theta)) == NDX_PID_END)
                return;
            if (c->kind == C_TERM) {
                /* Within the block, a posting's own wdf with the block's
                 * shortest passage bounds its score: postings that cannot
                 * beat theta are passed without reading their length. */
                ndx_pcur_seek(&c->pc, t);
                cur_impacts(e, c);
                wmin = c->scan && upto < e->lim ? lead_wdf_min(c, 0, theta)
                                                : 1;
                while (c->pc.id <= upto && c->pc.id < e->lim) {
                    double w;

                    /* Smaller wdfs are passed in their packed form, up
                     * to the region's end (the bound holds there). */
                    if (wmin > 1 && !ndx_pcur_scan_wdf(&c->pc, wmin, upto)) {
                        if (!c->pc.corrupt)
                            ndx_pcur_seek(&c->pc, upto + 1);
                        break;
                    }
                    w = (double)ndx_pcur_wdf(&c->pc);
                    if (!cannot_beat(c->tw * (w / (c->kmin + w)), theta))
                        break;
                    ndx_pcur_next(&c->pc);
                }
                c->id = c->pc.id;
                if (c->id != NDX_PID_END && c->id > upto) {
                    t = c->id;
                    continue;
                }
                return;
            }
            if (c->id < t && lead_pass(e, c, &t, upto, theta)) {
                /* The lead's postings up to the region's end cannot beat
                 * theta whatever the others add: bound the next region. */
                continue;
            }
            if (c->id < t)
                and_align(c, t);
            if (c->id == NDX_PID_END)
                return;
            if (c->id >= e->lim || c->id > upto) {
                /* Past the limit a match is taken whatever its bound;
                 * past the region bounded, it is bounded anew. */
                t = c->id;
                continue;
            }
            if (cannot_beat(here_bound(e, c), theta)) {
                t = c->id + 1;
                continue;
            }
            if (c->kind == C_PHRASE) {
                if (defer) {
                    c->unchecked = 1;
                } else if (!phrase_ok(c)) {
                    t = c->id + 1;
                    continue;
                }
            }
            return;
        }
    case C_OR:
        or_advance(e, c, t, theta);
        return;
    case C_ALL:
        /* Every passage scores 0: once theta is reached none can beat
         * it. */
        if (!cannot_beat(0, theta))
            cur_seek(c, t);
        else if (e->lim == UINT32_MAX)
            c->id = NDX_PID_END;
        else
            cur_seek(c, e->lim);
        return;
    case C_NOT:
        for (;;) {
            cur_advance(e, c->kids[0], t, theta, 0);
            if (c->kids[0]->id == NDX_PID_END) {
                c->id = NDX_PID_END;
                return;
            }
            cur_seek(c->kids[1], c->kids[0]->id);
            if (c->kids[1]->id != c->kids[0]->id) {
                c->id = c->kids[0]->id;
                return;
            }
            t = c->kids[0]->id + 1;
        }
    default:
        cur_seek(c, t);
        return;
    }
}

static int
cmp_df(const void *a, const void *b, void *ctx)
{
    cur *const *kids = ctx;
    uint64_t x = kids[*(const size_t *)a]->df, y = kids[*(const size_t *)b]->df;

    return (x > y) - (x < y);
}

/* Estimated matches of a cursor in its segment, for ordering a
 * conjunction rarest first. */
static uint64_t
cur_cost(cur *c)
{
    uint64_t m = 0;
    size_t i;

    switch (c->kind) {
    case C_TERM:
        return c->df;
    case C_AND:
    case C_PHRASE:
        m = UINT64_MAX;
        for (i = 0; i < c->n; i++)
            if (cur_cost(c->kids[i]) < m)
                m = cur_cost(c->kids[i]);
        return m;
    case C_OR:
    case C_UNION:
    case C_SYN:
        for (i = 0; i < c->n; i++)
            m += cur_cost(c->kids[i]);
        return m;
    case C_NOT:
        return cur_cost(c->kids[0]);
    case C_ALL:
        return c->all_n;
    case C_FILTER:
        for (i = 0; i < c->nruns; i++)
            m += c->runs[2 * i + 1] - c->runs[2 * i];
        return m;
    default:
        return 0;
    }
}

/* Orders every conjunction of the tree rarest first. */
static int
order_ands(ectx *e, cur *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        if (order_ands(e, c->kids[i]) != 0)
            return -1;
    if ((c->kind != C_AND && c->kind != C_PHRASE) || c->n < 2)
        return 0;
    c->ord = ndx_arena_alloc(e->arena, c->n * sizeof *c->ord);
    if (!c->ord)
        return -1;
    for (i = 0; i < c->n; i++) {
        c->ord[i] = i;
        c->kids[i]->df = cur_cost(c->kids[i]);
    }
    qsort_r(c->ord, c->n, sizeof *c->ord, cmp_df, c->kids);
    return 0;
}

/* ndx_seg_lookup, answered from term_df's look-ups when it made them. */
static int
seg_lookup(const ectx *e, const ndx_seg *s, const char *term, size_t len,
           ndx_seg_term *out)
{
    size_t i, j;

    for (i = 0; i < e->stat_count; i++) {
        const tstat *st = &e->stats[i];

        if (st->seg_terms && st->len == len &&
            memcmp(st->term, term, len) == 0) {
            for (j = 0; j < e->v->count; j++)
                if (e->v->segs[j] == s) {
                    if (st->found[j])
                        *out = st->seg_terms[j];
                    return st->found[j];
                }
            break;
        }
    }
    return ndx_seg_lookup(s, term, len, out);
}

static ndx_status
term_cursor(ectx *e, const ndx_seg *s, const char *term, uint64_t df,
            uint32_t wqf, cur **out)
{
    ndx_seg_term t;
    int r = seg_lookup(e, s, term, strlen(term), &t);
    cur *c;

    if (r < 0)
        return (ndx_status)r;
    c = cur_new(e, r ? C_TERM : C_NONE, 0);
    if (!c)
        return ndx_error(NDX_ENOMEM, "out of memory (cursor)");
    if (r) {
        ndx_pcur_init(&c->pc, s, &t);
        c->e = e;
        c->tw = term_weight(e, df, wqf);
        c->df = t.df;
    }
    *out = c;
    return NDX_OK;
}

/*
 * The term frequency Xapian 1.4 gives an OP_SYNONYM: its OR tree is built
 * as a Huffman tree (the two rarest subterms first, then the result with
 * the next rarest...), and each OR estimates its frequency from its two
 * sides assuming independence, rounded to a whole count:
 * n = (unsigned)(l + r - l * r / N + 0.5)  (OrPostList::
 * get_termfreq_est_using_stats).  df holds the subterms' frequencies and
 * is used up.
 */
static uint64_t
synonym_df(const ectx *e, uint64_t *df, size_t n)
{
    double N = (double)e->v->passages;

    while (n > 1) {
        size_t i, a = 0, b = 1, lo, hi;
        double l, r;

        /* The two smallest: df[a] <= df[b]. */
        if (df[b] < df[a])
            a = 1, b = 0;
        for (i = 2; i < n; i++) {
            if (df[i] < df[a]) {
                b = a;
                a = i;
            } else if (df[i] < df[b]) {
                b = i;
            }
        }
        r = (double)df[a];
        l = (double)df[b];
        lo = a < b ? a : b;
        hi = a < b ? b : a;
        df[lo] = N == 0 ? 0 : (uint64_t)(l + r - (l * r / N) + 0.5);
        df[hi] = df[--n];
    }
    return n ? df[0] : 0;
}

/* A SYN node: an OR of its terms' cursors, weighted as one term. */
static ndx_status
synonym_cursor(ectx *e, const ndx_seg *s, const ndx_qnode *q, cur **out)
{
    uint64_t *dfs = ndx_arena_alloc(e->arena, q->term_count * sizeof *dfs);
    cur *c = cur_new(e, C_SYN, q->term_count);
    ndx_status st;
    size_t i;

    if (!dfs || !c)
        return ndx_error(NDX_ENOMEM, "out of memory (cursor)");
    for (i = 0; i < q->term_count; i++) {
        cur *k;

        if ((st = term_df(e, q->terms[i], strlen(q->terms[i]), &dfs[i])) ||
            (st = term_cursor(e, s, q->terms[i], dfs[i], 1, &k)))
            return st;
        if (k->kind != C_NONE)
            c->kids[c->n++] = k;
    }
    if (c->n == 0)
        c->kind = C_NONE;
    /* Conceptually one term: wqf 1, as Xapian's synonym weight. */
    c->tw = term_weight(e, synonym_df(e, dfs, q->term_count), 1);
    *out = c;
    return NDX_OK;
}

/* Turns c, a disjunction of term cursors, into a union scored window by
 * window (C_UNION).  -1 when out of memory. */
static int
to_union(ectx *e, const ndx_seg *s, cur *c)
{
    c->kind = C_UNION;
    c->seg = s;
    c->e = e;
    c->all_n = (uint32_t)s->passages;
    c->win = NDX_PID_END;
    c->acc = ndx_arena_alloc(e->arena, UNION_WINDOW * sizeof *c->acc);
    c->kw = ndx_arena_alloc(e->arena, UNION_WINDOW * sizeof *c->kw);
    c->bits = ndx_arena_alloc(e->arena, UNION_WINDOW / 8);
    return c->acc && c->kw && c->bits ? 0 : -1;
}

/* 1 when every kid of the disjunction c is a word. */
static int
or_of_terms(const cur *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        if (c->kids[i]->kind != C_TERM)
            return 0;
    return 1;
}

static ndx_status
build(ectx *e, size_t segi, const ndx_qnode *q, cur **out)
{
    const ndx_seg *s = e->v->segs[segi];
    ndx_status st;
    uint64_t df;
    size_t i;
    cur *c;

    *out = NULL;
    switch (q->kind) {
    case NDX_Q_TERM:
        if ((st = term_df(e, q->terms[0], strlen(q->terms[0]), &df)))
            return st;
        return term_cursor(e, s, q->terms[0], df, q->wqf ? q->wqf : 1, out);
    case NDX_Q_PHRASE:
        if (q->term_count == 1) {
            if ((st = term_df(e, q->terms[0], strlen(q->terms[0]), &df)))
                return st;
            return term_cursor(e, s, q->terms[0], df, 1, out);
        }
        if (q->term_count > 16)
            return ndx_error(NDX_ELIMIT,
                             "phrase at column %u has more than 16 words",
                             q->col);
        c = cur_new(e, C_PHRASE, q->term_count);
        if (!c)
            return ndx_error(NDX_ENOMEM, "out of memory (cursor)");
        c->n = q->term_count;
        for (i = 0; i < q->term_count; i++) {
            if ((st = term_df(e, q->terms[i], strlen(q->terms[i]), &df)) ||
                (st = term_cursor(e, s, q->terms[i], df, 1, &c->kids[i])))
                return st;
            if (c->kids[i]->kind == C_NONE) {
                *out = c->kids[i];
                return NDX_OK;
            }
        }
        c->e = e;
        c->poscap = PHRASE_POS_FIRST;
        c->posbuf = ndx_arena_alloc(e->arena, c->n * PHRASE_POS_FIRST *
                                                  sizeof(uint32_t));
        if (!c->posbuf)
            return ndx_error(NDX_ENOMEM, "out of memory (phrase)");
        *out = c;
        return NDX_OK;
    case NDX_Q_PREFIX: {
        pexp *x = NULL;

        if ((st = expand_prefix(e, q, &x)))
            return st;
        c = cur_new(e, C_OR, x->count);
        if (!c)
            return ndx_error(NDX_ENOMEM, "out of memory (cursor)");
        for (i = 0; i < x->count; i++) {
            cur *k;

            if ((st = term_cursor(e, s, x->terms[i].term, x->terms[i].df, 1,
                                  &k)))
                return st;
            if (k->kind != C_NONE)
                c->kids[c->n++] = k;
        }
        if (c->n == 0) {
            c->kind = C_NONE;
        } else if (c->n > UNION_MIN_TERMS && to_union(e, s, c) != 0) {
            return ndx_error(NDX_ENOMEM, "out of memory (prefix)");
        }
        *out = c;
        return NDX_OK;
    }
    case NDX_Q_AND:
    case NDX_Q_OR:
        c = cur_new(e, q->kind == NDX_Q_AND ? C_AND : C_OR, q->kid_count);
        if (!c)
            return ndx_error(NDX_ENOMEM, "out of memory (cursor)");
        for (i = 0; i < q->kid_count; i++) {
            cur *k;

            if ((st = build(e, segi, q->kids[i], &k)))
                return st;
            if (k->kind == C_NONE) {
                if (q->kind == NDX_Q_AND) {
                    /* Still build the rest: their statistics are needed
                     * by no one, so stop here. */
                    *out = k;
                    return NDX_OK;
                }
                continue;
            }
            c->kids[c->n++] = k;
        }
        if (c->n == 0)
            c->kind = C_NONE;
        else if (c->n == 1)
            c = c->kids[0];
        *out = c;
        return NDX_OK;
    case NDX_Q_NOT: {
        cur *pos, *neg;

        if (q->kid_count != 2)
            return ndx_error(NDX_EINVAL, "NOT node needs two parts");
        if ((st = build(e, segi, q->kids[0], &pos)))
            return st;
        if (pos->kind == C_NONE) {
            *out = pos;
            return NDX_OK;
        }
        if ((st = build(e, segi, q->kids[1], &neg)))
            return st;
        if (neg->kind == C_NONE) {
            *out = pos;
            return NDX_OK;
        }
        c = cur_new(e, C_NOT, 2);
        if (!c)
            return ndx_error(NDX_ENOMEM, "out of memory (cursor)");
        c->n = 2;
        c->kids[0] = pos;
        c->kids[1] = neg;
        *out = c;
        return NDX_OK;
    }
    case NDX_Q_ALL:
        c = cur_new(e, C_ALL, 0);
        if (!c)
            return ndx_error(NDX_ENOMEM, "out of memory (cursor)");
        c->all_n = (uint32_t)s->passages;
        *out = c;
        return NDX_OK;
    case NDX_Q_SYN:
        return synonym_cursor(e, s, q, out);
    }
    return ndx_error(NDX_EINVAL, "unknown query node");
}

/* ---- top-k --------------------------------------------------------------- */

typedef struct cand {
    double score;
    int32_t date;     /* NDX_DATE_NONE sorts as the earliest */
    uint32_t seg;
    uint32_t pid;
    uint32_t matches;
    uint32_t pruned;  /* 1: the article was walked while pruning, so
                         matches counts only the passages that could
                         enter the top k (recounted for the hits) */
    uint64_t order;   /* global passage ordinal */
    uint64_t tkey;    /* hash of the article's title key (ndx_title_key)
                         once a titled top k has made it; 0: none */
} cand;

/* The matching passages of the article being walked (passage grouping). */
typedef struct cbuf {
    cand *v;
    size_t n, cap;
} cbuf;

typedef struct topk {
    cand *h;
    size_t n, cap;
    ndx_sort sort;
    const cand *after; /* keyset: only candidates ranked after this one
                          enter (ndx_search_opts.after), or NULL */
    /* Ranking by title (ndx_search_opts.distinct_titles, titles_start):
     * once titled, h holds one article per title key, the best, and
     * members the others of those keys that may rank above the worst
     * of h; when clipped, only those better than floor. */
    const nview *v;
    int titled;
    cbuf members;
    size_t members_max;
    int clipped;
    cand floor;        /* with clipped: the best member left out */
} topk;

/* 1 when a ranks before b. */
static int
better(const topk *t, const cand *a, const cand *b)
{
    /* NDX_DATE_NONE is INT32_MIN: undated sorts as the earliest. */
    if (t->sort != NDX_SORT_RELEVANCE && a->date != b->date)
        return t->sort == NDX_SORT_NEWEST ? a->date > b->date
                                          : a->date < b->date;
    if (a->score != b->score)
        return a->score > b->score;
    return a->order < b->order;
}

/* Sifts h[i] down the heap h[0, n) whose root is the worst (best_root
 * 0: the top k's, which keeps the worst of the kept there) or the best
 * (1: titles_start's, which takes the articles in rank order). */
static void
sift_down(const topk *t, cand *h, size_t n, size_t i, int best_root)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        cand tmp;

        if (l < n && (best_root ? better(t, &h[l], &h[w])
                                : better(t, &h[w], &h[l])))
            w = l;
        if (r < n && (best_root ? better(t, &h[r], &h[w])
                                : better(t, &h[w], &h[r])))
            w = r;
        if (w == i)
            return;
        tmp = h[i];
        h[i] = h[w];
        h[w] = tmp;
        i = w;
    }
}

/* The top k's heap keeps the worst of the kept at its root. */
static void
heap_sift_down(topk *t, size_t i)
{
    sift_down(t, t->h, t->n, i, 0);
}

static void
topk_add(topk *t, const cand *c)
{
    size_t i;

    if (t->cap == 0 || (t->after && !better(t, t->after, c)))
        return;
    if (t->n < t->cap) {
        i = t->n++;
        t->h[i] = *c;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            cand tmp;

            if (!better(t, &t->h[p], &t->h[i]))
                break;
            tmp = t->h[p];
            t->h[p] = t->h[i];
            t->h[i] = tmp;
            i = p;
        }
        return;
    }
    if (better(t, c, &t->h[0])) {
        t->h[0] = *c;
        heap_sift_down(t, 0);
    }
}

static int
cmp_cand(const void *a, const void *b, void *ctx)
{
    const topk *t = ctx;

    if (better(t, a, b))
        return -1;
    if (better(t, b, a))
        return 1;
    return 0;
}

static ndx_status
abuf_push(cbuf *b, const cand *c)
{
    if (ndx_grow((void **)&b->v, &b->cap, b->n + 1, sizeof *b->v, 16))
        return ndx_error(NDX_ENOMEM, "out of memory (search)");
    b->v[b->n++] = *c;
    return NDX_OK;
}

/* ---- top k by title ------------------------------------------------------ */

/* A titled top k holds at most this many articles (its look-up of a key
 * among them is linear); a larger k ranks by article. */
#define TITLED_K_MAX 64

/* The title key of c's article (ndx_title_key) in out (NDX_TITLE_KEY_MAX
 * bytes): its length, 0 for none (an article the table cannot give has
 * none; reading its hit reports the damage). */
static size_t
cand_title(const nview *v, const cand *c, const ndx_seg_article *known,
           char *out)
{
    const ndx_seg *s = v->segs[c->seg];
    ndx_seg_article a;
    const char *id, *title;
    uint32_t art;

    if (known)
        a = *known;
    else if (ndx_seg_passage(s, c->pid, &art, NULL) != 0 ||
             ndx_seg_article_get(s, art, &a) != 0)
        return 0;
    if (ndx_seg_article_strings(s, &a, &id, &title, NULL) != 0 ||
        a.source >= s->source_count)
        return 0;
    return ndx_title_key(s->sources[a.source].name, title, out);
}

/* Sets c->tkey: the hash of its title key, never 0, or 0 for none; known
 * is c's article when the caller has it, else NULL. */
static void
cand_key(const nview *v, cand *c, const ndx_seg_article *known)
{
    char key[NDX_TITLE_KEY_MAX];
    size_t len = cand_title(v, c, known, key);

    c->tkey = len ? ndx_fnv1a64(key, len) : 0;
    c->tkey += len && !c->tkey;
}

/* Whether a and b, of one tkey, have one title key (hashes collide). */
static int
same_title(const nview *v, const cand *a, const cand *b)
{
    char x[NDX_TITLE_KEY_MAX], y[NDX_TITLE_KEY_MAX];
    size_t n = cand_title(v, a, NULL, x);

    return n && cand_title(v, b, NULL, y) == n && memcmp(x, y, n) == 0;
}

/* Keeps c, ranked below the article of its key in h, as a member, unless
 * it cannot rank above the worst of a full h (nor then above the k-th
 * key).  Members past members_max: those that cannot are dropped, then,
 * if still more than half, the worse half, which clips the listing at
 * the best of them (floor). */
static ndx_status
member_keep(topk *t, const cand *c)
{
    cbuf *m = &t->members;

    if ((t->n == t->cap && !better(t, c, &t->h[0])) ||
        (t->clipped && !better(t, c, &t->floor)))
        return NDX_OK;
    if (m->n >= t->members_max) {
        size_t i, n = 0;

        for (i = 0; i < m->n; i++)
            if (t->n < t->cap || better(t, &m->v[i], &t->h[0]))
                m->v[n++] = m->v[i];
        m->n = n;
        if (n > t->members_max / 2) {
            qsort_r(m->v, n, sizeof *m->v, cmp_cand, t);
            m->n = t->members_max / 4;
            t->floor = m->v[m->n];
            t->clipped = 1;
            if (!better(t, c, &t->floor))
                return NDX_OK;
        }
    }
    return abuf_push(m, c);
}

/* Hands c to a titled top k: the article of its key in h when it ranks
 * above the one there (which becomes a member), a member when it ranks
 * below, else as topk_add does.  The key is made only for an article
 * that can enter (from its record a when not NULL: one read less). */
static ndx_status
titled_add(topk *t, const cand *c, const ndx_seg_article *a)
{
    cand x = *c;
    size_t i = t->n;

    if (t->n == t->cap && !better(t, c, &t->h[0]))
        return NDX_OK;
    cand_key(t->v, &x, a);
    if (x.tkey)
        for (i = 0; i < t->n; i++)
            if (t->h[i].tkey == x.tkey && same_title(t->v, &t->h[i], &x))
                break;
    if (i == t->n) {
        topk_add(t, &x);
        return NDX_OK;
    }
    if (better(t, &x, &t->h[i])) {
        cand was = t->h[i];

        t->h[i] = x;
        heap_sift_down(t, i);
        return member_keep(t, &was);
    }
    return member_keep(t, &x);
}

/* Hands the finished article to the heap: its best passage, or each of
 * its matching passages, all with the article's match count. */
static ndx_status
flush_article(topk *top, cand *best, const ndx_seg_article *art, cbuf *b,
              ndx_group group,
              uint64_t *total)
{
    size_t i;

    if (best->matches == 0)
        return NDX_OK;
    if (group == NDX_GROUP_ARTICLE) {
        ndx_status st = NDX_OK;

        if (top->titled)
            st = titled_add(top, best, art);
        else
            topk_add(top, best);
        (*total)++;
        if (st)
            return st;
    } else {
        for (i = 0; i < b->n; i++) {
            b->v[i].matches = best->matches;
            topk_add(top, &b->v[i]);
        }
        *total += b->n;
    }
    best->matches = 0;
    b->n = 0;
    return NDX_OK;
}

/* ---- search ----------------------------------------------------------- */

static int
key_in(const char *key, const char *const *keys, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return 1;
    return 0;
}

/* *out: the passage text of pid, copied into r (text: scratch). */
static ndx_status
hit_text(const ndx_seg *s, uint32_t pid, ndx_results *r, ndx_buf *text,
         const char **out)
{
    ndx_status st;

    if ((st = ndx_seg_text(s, pid, text)))
        return st;
    *out = ndx_results_strdup(r, (const char *)text->data, text->len);
    return *out ? NDX_OK : ndx_error(NDX_ENOMEM, "out of memory (results)");
}

/* Adds the hit of c to into, with its passage text when text is not
 * NULL. */
static ndx_status
fill_hit(const nview *v, const cand *c, ndx_results *into, ndx_buf *text)
{
    const ndx_seg *s = v->segs[c->seg];
    ndx_seg_article a;
    const char *id, *title, *url;
    uint32_t art;
    ndx_hit *h;
    ndx_status st;

    if (ndx_seg_passage(s, c->pid, &art, NULL) != 0)
        return ndx_error(NDX_ECORRUPT, "%s: damaged article table; rebuild "
                                       "the index",
                         s->path);
    if ((st = ndx_seg_article_read(s, art, &a, &id, &title, &url)))
        return st;
    h = ndx_results_push(into);
    if (!h)
        return ndx_error(NDX_ENOMEM, "out of memory (results)");
    h->article = ndx_results_strdup(into, id, strlen(id));
    h->title = ndx_results_strdup(into, title, strlen(title));
    h->url = ndx_results_strdup(into, url, strlen(url));
    h->source = ndx_results_strdup(into, s->sources[a.source].name,
                                   strlen(s->sources[a.source].name));
    if (!h->article || !h->title || !h->url || !h->source)
        return ndx_error(NDX_ENOMEM, "out of memory (results)");
    if (text && (st = hit_text(s, c->pid, into, text, &h->text)))
        return st;
    h->passage = c->pid - a.first;
    h->score = c->score;
    h->date_days = a.date_days;
    h->matches = c->matches;
    h->order = c->order;
    return NDX_OK;
}


/* Adds the hits of c[0, n), the first text_n with their passage text.
 * The hits' articles and texts lie at random places of the maps: each
 * level of their reads is started for every hit before the next, so that
 * the cache misses overlap. */
static ndx_status
fill_hits(const nview *v, const cand *c, size_t n, ndx_results *into,
          ndx_buf *text, size_t text_n)
{
    size_t i;
    int stage;
    ndx_status st;

    for (stage = 0; stage < 3; stage++)
        for (i = 0; i < n; i++)
            ndx_seg_prefetch_hit(v->segs[c[i].seg], c[i].pid, stage);
    for (i = 0; i < n; i++)
        if ((st = fill_hit(v, &c[i], into, i < text_n ? text : NULL)))
            return st;
    return NDX_OK;
}

/* Counts every matching passage of the hits' articles: a walk that
 * pruned counted only those that could enter the top k.  The hits are
 * visited in index order so that one cursor tree serves each segment. */
static int
cmp_seg_pid(const void *a, const void *b)
{
    const cand *const *x = a, *const *y = b;

    if ((*x)->seg != (*y)->seg)
        return (*x)->seg < (*y)->seg ? -1 : 1;
    return ((*x)->pid > (*y)->pid) - ((*x)->pid < (*y)->pid);
}

static ndx_status
recount(ectx *e, const ndx_query *q, cand *hits, size_t n)
{
    cand **by = malloc(n * sizeof *by);
    cur *root = NULL;
    size_t i, seg = SIZE_MAX;
    uint32_t first = 0, end = 0, matches = 0, pid;
    ndx_status st = NDX_OK;
    int fresh = 0;

    if (!by)
        return ndx_error(NDX_ENOMEM, "out of memory (search)");
    for (i = 0; i < n; i++)
        by[i] = &hits[i];
    qsort(by, n, sizeof *by, cmp_seg_pid);
    for (i = 0; i < n; i++) {
        const ndx_seg *s = e->v->segs[by[i]->seg];
        ndx_seg_article a;
        uint32_t art;

        if (!by[i]->pruned)
            continue;
        /* Passage hits of one article share its count. */
        if (by[i]->seg == seg && by[i]->pid >= first && by[i]->pid < end) {
            by[i]->matches = matches;
            continue;
        }
        if (by[i]->seg != seg) {
            seg = by[i]->seg;
            e->sweep_used = 0; /* the last tree's sweeps are done */
            if ((st = build(e, seg, q->root, &root)))
                goto done;
            fresh = 1;
        }
        if (ndx_seg_passage(s, by[i]->pid, &art, NULL) != 0 ||
            ndx_seg_article_get(s, art, &a) != 0) {
            st = ndx_error(NDX_ECORRUPT, "%s: damaged article table; "
                                         "rebuild the index",
                           s->path);
            goto done;
        }
        first = a.first;
        end = a.first + a.passages;
        matches = 0;
        /* Hits in passage order: the tree moves forward only. */
        if (fresh)
            cur_start_leaves(root);
        fresh = 0;
        for (pid = first; pid < end; pid++)
            matches += (uint32_t)cur_matches_at(root, pid);
        by[i]->matches = matches;
    }
    if (e->nomem)
        st = ndx_error(NDX_ENOMEM, "out of memory (phrase positions)");
done:
    free(by);
    return st;
}

/* Articles a search keeps for ndx_search_opts.more at most: past them
 * it offers none. */
#define SPARE_MAX 1024

/* One search's state across the segments and ranges it walks. */
typedef struct walker {
    ectx *e;
    const ndx_query *q;
    const ndx_search_opts *o;
    topk top;
    cbuf abuf;
    cbuf spare;        /* with ndx_search_opts.more, the best passage of
                          every article counted, in walk order, while the
                          search has not pruned (spare_on) */
    int spare_on;
    int titles;        /* 1: the top k is to be titled where pruning
                          starts (titles_start) */
    uint64_t total, seen;
    /* Pruning needs a full top k to beat and, unless every match must be
     * counted, exact_upto matches counted first.  Date orders rank by
     * date before score, so score bounds do not apply there. */
    uint64_t exact_upto;
    int can_prune;
    int pruned;        /* theta was in force: total is a lower bound */
    int stopped;       /* a walk in date order stopped early: likewise */
    int stopped_any;
    double theta;      /* what a passage must beat, or -INFINITY */
    double deadline;   /* ndx_now_ms() past which the search fails, or 0 */
    int32_t from, to;  /* the date filter (NDX_DATE_NONE: open) */
    char **opt_keys;   /* the options' source keys */
    uint8_t *allowed;  /* per source of the current segment, with
                          filter_src */
    int filter_src;
    nfacets *fac;      /* facet counts, or NULL */
} walker;

static int
cmp_run(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* A date range over articles out of date order gives a filter cursor
 * when at most 1/DATE_RUNS_SHARE of a segment's articles pass it. */
#define DATE_RUNS_SHARE 4

/* The runs both a[0..na) and b[0..nb) hold (each list in passage order,
 * without overlaps), into *out. */
static ndx_status
intersect_runs(walker *w, const uint32_t *a, size_t na, const uint32_t *b,
               size_t nb, const uint32_t **out, size_t *count)
{
    uint32_t *r = ndx_arena_alloc(w->e->arena,
                                  (na + nb ? na + nb : 1) * 2 * sizeof *r);
    size_t i = 0, j = 0, n = 0;

    if (!r)
        return ndx_error(NDX_ENOMEM, "out of memory (filter)");
    while (i < na && j < nb) {
        uint32_t lo = a[2 * i] > b[2 * j] ? a[2 * i] : b[2 * j];
        uint32_t hi = a[2 * i + 1] < b[2 * j + 1] ? a[2 * i + 1]
                                                  : b[2 * j + 1];

        if (lo < hi) {
            r[2 * n] = lo;
            r[2 * n + 1] = hi;
            n++;
        }
        if (a[2 * i + 1] < b[2 * j + 1])
            i++;
        else
            j++;
    }
    *out = r;
    *count = n;
    return NDX_OK;
}

/* The passage runs that a segment's source and date filters let through,
 * for a filter cursor: *runs NULL when no filter can seek (none given, or
 * a wide date range over articles out of date order, which the walk tests
 * article by article); *empty when nothing passes. */
static ndx_status
filter_runs(walker *w, const ndx_seg *s, const uint32_t **runs,
            size_t *count, int *empty)
{
    const ndx_segfilter *f = s->filter;
    const uint32_t *src = NULL, *d = NULL;
    uint32_t *buf;
    size_t nsrc = 0, nd = 0, i, n = 0;
    int have_src = w->filter_src && f, have_date = 0;
    int range = w->from != NDX_DATE_NONE || w->to != NDX_DATE_NONE;
    ndx_status st;

    *runs = NULL;
    *count = 0;
    *empty = 0;
    if (have_src) {
        size_t allowed = 0, only = 0;

        for (i = 0; i < s->source_count; i++)
            if (w->allowed[i]) {
                allowed++;
                only = i;
                nsrc += f->run_off[i + 1] - f->run_off[i];
            }
        if (allowed == 1) {
            src = f->runs + 2 * f->run_off[only];
        } else if (nsrc) {
            /* Runs of different sources never overlap: sorted by their
             * first passage they are in passage order. */
            buf = ndx_arena_alloc(w->e->arena, nsrc * 2 * sizeof *buf);
            if (!buf)
                return ndx_error(NDX_ENOMEM, "out of memory (filter)");
            for (i = 0; i < s->source_count; i++)
                if (w->allowed[i]) {
                    size_t m = f->run_off[i + 1] - f->run_off[i];

                    memcpy(buf + 2 * n, f->runs + 2 * f->run_off[i],
                           m * 2 * sizeof *buf);
                    n += m;
                }
            qsort(buf, nsrc, 2 * sizeof *buf, cmp_run);
            src = buf;
        }
    }
    if (range && f && f->date_sorted) {
        /* Articles in date order: the range is one run. */
        if (!(buf = ndx_arena_alloc(w->e->arena, 2 * sizeof *buf)))
            return ndx_error(NDX_ENOMEM, "out of memory (filter)");
        ndx_segfilter_dates(s, w->from, w->to, &buf[0], &buf[1]);
        d = buf;
        nd = buf[0] < buf[1];
        have_date = 1;
    } else if (range && f && f->by_date) {
        const uint32_t *arts;
        size_t na = ndx_segfilter_date_slice(s, w->from, w->to, &arts);

        /* Articles out of date order: the range's articles give runs when
         * they are few enough for seeking to pay (a wide range is tested
         * article by article). */
        if (na <= s->articles / DATE_RUNS_SHARE) {
            uint64_t *bits = ndx_arena_alloc(
                w->e->arena, ((s->articles + 63) / 64) * sizeof *bits);

            buf = ndx_arena_alloc(w->e->arena,
                                  (na ? na : 1) * 2 * sizeof *buf);
            if (!bits || !buf)
                return ndx_error(NDX_ENOMEM, "out of memory (filter)");
            nd = ndx_segfilter_article_runs(s, arts, na, bits, buf);
            d = buf;
            have_date = 1;
        }
    }
    if (!have_src && !have_date)
        return NDX_OK;
    if (!have_date) {
        *runs = src;
        *count = nsrc;
    } else if (!have_src) {
        *runs = d;
        *count = nd;
    } else if ((st = intersect_runs(w, src, nsrc, d, nd, runs, count))) {
        return st;
    }
    *empty = *count == 0;
    return NDX_OK;
}

/* Keeps the finished article's best passage for ndx_search_opts.more
 * (see walker.spare). */
static ndx_status
spare_keep(walker *w, const cand *best)
{
    if (!w->spare_on || best->matches == 0)
        return NDX_OK;
    if (w->spare.n == SPARE_MAX) {
        w->spare_on = 0;
        return NDX_OK;
    }
    return abuf_push(&w->spare, best);
}

/* Titles the top k (topk.titled) where pruning would start: from then
 * on it holds one article per source and title and keeps the others of
 * those keys that rank high enough as members, so that the k-th key's
 * article is the bar.  That needs every article counted so far at hand:
 * in h, when none has left it, or in the spare; else the search ranks by
 * article.  When h holds two articles of one key, the top k is made again
 * from the spare, in rank order, until it holds k keys or the spare ends
 * (then h is not full and pruning waits for more keys). */
static ndx_status
titles_start(walker *w)
{
    topk *t = &w->top;
    cand *from;
    size_t n, i, j;
    int dup = 0;
    ndx_status st;

    w->titles = 0;
    if (w->total == t->n) {
        from = t->h;
        n = t->n;
    } else if (w->spare_on && w->spare.n == w->total) {
        from = w->spare.v;
        n = w->spare.n;
    } else {
        return NDX_OK;
    }
    for (i = 0; i < t->n; i++)
        cand_key(t->v, &t->h[i], NULL);
    for (i = 0; i < t->n && !dup; i++)
        for (j = 0; j < i && !dup; j++)
            dup = t->h[i].tkey && t->h[i].tkey == t->h[j].tkey &&
                  same_title(t->v, &t->h[i], &t->h[j]);
    t->titled = 1;
    t->members_max = 16 * t->cap + 256;
    w->spare_on = 0;
    if (!dup)
        return NDX_OK;
    if (from == t->h) {
        /* h is all there is: its articles go through titled_add again,
         * from a copy in rank order. */
        if (!(from = malloc(n * sizeof *from)))
            return ndx_error(NDX_ENOMEM, "out of memory (search)");
        memcpy(from, t->h, n * sizeof *from);
    }
    /* The articles in rank order, as many as the top k takes: from as a
     * heap with the best at its root (a search of the 5m corpus takes a
     * few dozen of its thousand, where sorting them all cost a tenth of
     * a median conjunction). */
    for (i = n / 2; i-- > 0;)
        sift_down(t, from, n, i, 1);
    t->n = 0;
    st = NDX_OK;
    while (n > 0 && !st) {
        cand c = from[0];

        from[0] = from[--n];
        sift_down(t, from, n, 0, 1);
        /* Past a full h, an article ranks below its k-th key. */
        if (t->n == t->cap && !better(t, &c, &t->h[0]))
            break;
        c.tkey = 0;
        st = titled_add(t, &c, NULL);
    }
    if (from != w->spare.v)
        free(from);
    w->spare.n = 0;
    return st;
}

/* Learns e->and_share when the walk starts to prune: the matches it has
 * walked in this segment against the lead postings it passed to find
 * them (the walk counts every match before it prunes). */
static void
and_share_learn(ectx *e, cur *root, uint32_t matched)
{
    const cur *lead;
    uint64_t passed;

    if (root->kind != C_AND || !root->ord || !isnan(e->and_share))
        return;
    lead = root->kids[root->ord[0]];
    if (lead->kind != C_TERM || lead->pc.id == NDX_PID_END)
        return;
    passed = lead->pc.block_index * NDX_SEG_BLOCK + lead->pc.i + 1;
    e->and_share = (double)matched / (double)passed;
    root->merge_first = merge_first(e);
}

/* Walks the passages [lo, hi) of segment segi (both at article starts),
 * handing each matching article to the top k. */
static ndx_status
walk(walker *w, size_t segi, uint32_t lo, uint32_t hi, const uint32_t *runs,
     size_t nruns)
{
    ectx *e = w->e;
    const nview *v = e->v;
    const ndx_seg *s = v->segs[segi];
    const ndx_search_opts *o = w->o;
    uint32_t cur_art = UINT32_MAX, matched = 0;
    ndx_seg_article art;
    int art_ok = 0;
    cand best;
    cur *root;
    ndx_status st;

    memset(&art, 0, sizeof art);
    e->sweep_used = 0; /* the last tree's sweeps are done */
    if ((st = build(e, segi, w->q->root, &root)))
        return st;
    /* A walk that never prunes (every match counted, or a date order)
     * visits every passage of a disjunction of words: scored window by
     * window, as a union, instead of a step of every word per passage. */
    if (!w->can_prune && root->kind == C_OR && or_of_terms(root) &&
        to_union(e, s, root) != 0)
        return ndx_error(NDX_ENOMEM, "out of memory (search)");
    if (runs && root->kind != C_NONE) {
        /* Filters seek with the query's cursors: a conjunction with a
         * cursor over the passing runs, which scores nothing. */
        cur *f = cur_new(e, C_FILTER, 0), *both = cur_new(e, C_AND, 2);

        if (!f || !both)
            return ndx_error(NDX_ENOMEM, "out of memory (cursor)");
        f->runs = runs;
        f->nruns = nruns;
        both->n = 2;
        both->kids[0] = root;
        both->kids[1] = f;
        root = both;
    }
    if (order_ands(e, root) != 0)
        return ndx_error(NDX_ENOMEM, "out of memory (search)");
    root->scan = root->kind == C_TERM;
    root->merge_first = merge_first(e);
    cur_start(root, lo);
    memset(&best, 0, sizeof best);
    while (root->id < hi) {
        uint32_t pid = root->id, a = 0, len = 0;
        double score = 0;
        int scored = 0;
        cand c;

        if (w->deadline && (++w->seen & 1023) == 0 &&
            ndx_now_ms() > w->deadline)
            return ndx_error(NDX_ETIMEOUT,
                             "the query ran past its time budget of %.0f "
                             "ms; make it more specific",
                             o->budget_ms);
        /* While pruning most candidates fail theta: score them before
         * anything else is read. */
        if (w->theta != -INFINITY) {
            ndx_seg_passage(s, pid, NULL, &len);
            score = cur_score(root, passage_k(e, len));
            if (cannot_beat(score, w->theta) ||
                (root->unchecked && !phrase_ok(root))) {
                root->unchecked = 0;
                cur_advance(e, root, pid + 1, w->theta, 1);
                continue;
            }
            root->unchecked = 0;
            scored = 1;
        }
        /* Passages of an article are contiguous: the columns are read
         * only when the walk leaves the current article. */
        if (cur_art == UINT32_MAX || pid < art.first ||
            pid - art.first >= art.passages) {
            if (ndx_seg_passage(s, pid, &a, NULL) != 0)
                return ndx_error(NDX_ECORRUPT,
                                 "%s: passage id out of range; rebuild "
                                 "the index",
                                 s->path);
            if ((st = spare_keep(w, &best)) ||
                (st = flush_article(&w->top, &best, &art, &w->abuf, o->group,
                                    &w->total)))
                return st;
            /* The top k and the count change only here, between
             * articles, so an article is walked in one mode. */
            if (w->titles && w->can_prune && w->top.n == w->top.cap &&
                w->total >= w->exact_upto && (st = titles_start(w)))
                return st;
            if (w->can_prune && w->top.n == w->top.cap &&
                w->total >= w->exact_upto) {
                w->spare_on = 0;
                w->theta = w->top.h[0].score;
                and_share_learn(e, root, matched);
                w->pruned = 1;
            }
            cur_art = a;
            if (ndx_seg_article_get(s, a, &art) != 0 || pid < art.first ||
                pid - art.first >= art.passages)
                return ndx_error(NDX_ECORRUPT, "%s: damaged article "
                                               "table; rebuild the index",
                                 s->path);
            /* Oldest first over articles in date order: once the top k
             * is full and the count past its exact range, an article
             * dated after the worst kept, and all after it, are out. */
            if (o->sort == NDX_SORT_OLDEST && !o->exact_total &&
                s->filter && s->filter->date_sorted &&
                w->top.n == w->top.cap && w->top.cap &&
                w->total >= w->exact_upto &&
                art.date_days > w->top.h[0].date) {
                w->stopped = 1;
                return NDX_OK;
            }
            art_ok = !nview_dead(v, segi, a) &&
                     (!w->filter_src || w->allowed[art.source]) &&
                     (w->from == NDX_DATE_NONE ||
                      (art.date_days != NDX_DATE_NONE &&
                       art.date_days >= w->from)) &&
                     (w->to == NDX_DATE_NONE ||
                      (art.date_days != NDX_DATE_NONE &&
                       art.date_days <= w->to));
        }
        if (!art_ok) {
            /* Jump past the article's passages. */
            cur_advance(e, root, art.first + art.passages, w->theta, 1);
            continue;
        }
        if (!scored) {
            if (root->kind != C_ALL)
                ndx_seg_passage(s, pid, NULL, &len);
            score = cur_score(root, passage_k(e, len));
        }
        matched++;
        c.score = score;
        c.date = art.date_days;
        c.seg = (uint32_t)segi;
        c.pid = pid;
        c.matches = 1;
        c.pruned = w->theta != -INFINITY;
        c.order = v->pass_base[segi] + pid;
        if (best.matches == 0)
            nfacets_count(w->fac, &art);
        if (best.matches == 0) {
            best = c;
        } else {
            uint32_t m = best.matches + 1;

            if (c.score > best.score) {
                uint32_t pr = best.pruned;

                best = c;
                best.pruned |= pr;
            }
            best.matches = m;
        }
        if (o->group == NDX_GROUP_PASSAGE && (st = abuf_push(&w->abuf, &c)))
            return st;
        /* While the first exact_upto articles are counted every match is
         * scored: passing the passages of a counted article that cannot
         * reach the top k (bounded, then recounted for the hits) was
         * measured slower on allsides at every percentile (p50 term
         * 0.12 -> 0.08 ms without it, and 0.105 -> 0.088, phrase 0.29 ->
         * 0.25; p99 lower too). */
        if (w->theta != -INFINITY)
            cur_advance(e, root, pid + 1, w->theta, 1);
        else
            cur_next(root);
    }
    if (cur_corrupt(root))
        return ndx_error(NDX_ECORRUPT, "%s: damaged postings; rebuild the "
                                       "index",
                         s->path);
    if (e->nomem)
        return ndx_error(NDX_ENOMEM, "out of memory (phrase positions)");
    if ((st = spare_keep(w, &best)))
        return st;
    return flush_article(&w->top, &best, &art, &w->abuf, o->group, &w->total);
}

/* Newest first over articles in date order: the segment is walked from
 * hi (its end, or where keyset_range starts) down in ranges that double, and the walk stops once the top k is
 * full, the count past its exact range, and every article left is dated
 * before the worst kept. */
static ndx_status
walk_newest(walker *w, size_t segi, uint32_t hi, const uint32_t *runs,
            size_t nruns)
{
    const ndx_seg *s = w->e->v->segs[segi];
    uint32_t span = 4096;

    while (hi > 0) {
        uint32_t lo = hi > span ? hi - span : 0;
        uint32_t art = ndx_segfilter_article_at(s, lo);
        ndx_seg_article a;
        ndx_status st;

        /* Ranges start at an article: the one that holds lo. */
        if (art == s->articles || ndx_seg_article_get(s, art, &a) != 0 ||
            a.first > lo)
            art = art ? art - 1 : 0;
        lo = art && ndx_seg_article_get(s, art, &a) == 0 ? a.first : 0;
        if ((st = walk(w, segi, lo, hi, runs, nruns)))
            return st;
        hi = lo;
        span *= 2;
        if (hi && w->top.n == w->top.cap && w->top.cap &&
            w->total >= w->exact_upto && art > 0 &&
            ndx_seg_article_get(s, art - 1, &a) == 0 &&
            a.date_days < w->top.h[0].date) {
            w->stopped = 1;
            return NDX_OK;
        }
    }
    return NDX_OK;
}

/* ---- keyset paging (ndx_search_opts.after) ------------------------------ */

/* The key of o->after as a candidate that the top k compares with: the
 * walk is the usual one, and what ranks at or before the key never
 * enters the top k (topk_add), so the top k holds one page however far
 * in the page is, and total and facets count as without a key. */
static void
keyset_start(walker *w, cand *key)
{
    const ndx_search_opts *o = w->o;

    if (!o->after)
        return;
    memset(key, 0, sizeof *key);
    key->date = o->after->date_days;
    key->score = o->after->score;
    key->order = o->after->order;
    w->top.after = key;
}

/* The passages [*lo, *hi) of segment s that may hold hits after the key,
 * in date order over articles in date order: the articles dated before
 * the key's date (oldest first) or after it (newest first) rank before
 * the key and are not walked.  Only when the total need not be exact
 * (the count is then a lower bound); else the whole segment. */
static void
keyset_range(walker *w, const ndx_seg *s, uint32_t *lo, uint32_t *hi)
{
    const ndx_search_opts *o = w->o;
    int32_t d = o->after ? o->after->date_days : NDX_DATE_NONE;
    uint32_t dlo, dhi;

    *lo = 0;
    *hi = (uint32_t)s->passages;
    if (!o->after || o->sort == NDX_SORT_RELEVANCE || o->exact_total ||
        d == NDX_DATE_NONE || !s->filter || !s->filter->date_sorted)
        return;
    /* Undated articles sort first in the segment, and as the earliest. */
    if (o->sort == NDX_SORT_OLDEST) {
        ndx_segfilter_dates(s, d, NDX_DATE_NONE, &dlo, &dhi);
        *lo = dlo;
    } else {
        ndx_segfilter_dates(s, NDX_DATE_NONE, d, &dlo, &dhi);
        *hi = dhi;
    }
    if (*lo > 0 || *hi < (uint32_t)s->passages)
        w->stopped_any = 1;
}

/* The hits past the first offset + k of a search that counted every
 * match (ndx_search_opts.more): its articles in rank order, the next
 * offset + k at a time with their text, while more asks; the hits before
 * them (into's from base on) get their text first. */
static ndx_status
fill_more(const nview *v, walker *w, ndx_results *into, size_t base,
          ndx_buf *text)
{
    const ndx_search_opts *o = w->o;
    size_t want = o->offset + o->k, filled = want, i;
    ndx_status st;

    /* Sorted, the articles begin with the top k (one order: score, then
     * the passage's order). */
    qsort_r(w->spare.v, w->spare.n, sizeof *w->spare.v, cmp_cand, &w->top);
    for (i = base; i < into->count; i++) {
        const cand *c = &w->spare.v[o->offset + (i - base)];

        if (!into->hits[i].text &&
            (st = hit_text(v->segs[c->seg], c->pid, into, text,
                           &into->hits[i].text)))
            return st;
    }
    do {
        size_t end = filled + want < w->spare.n ? filled + want
                                                : w->spare.n;

        if ((st = fill_hits(v, w->spare.v + filled, end - filled, into, text,
                            SIZE_MAX)))
            return st;
        filled = end;
    } while (filled < w->spare.n && o->more(o->more_ctx, into));
    return NDX_OK;
}

/* The hits of a titled top k (offset 0): the article of each key and the
 * members that rank above the worst of them (all when the top k is not
 * full), clipped at floor, in rank order.  Clipped, they are more than k
 * (members_max / 4 members are kept), so that the index front, short of
 * hits after collapsing, asks for more.  The text_hits-th key and those
 * before it have their text and their matches recounted, and so do the
 * members among them (folding may put one in the page). */
static ndx_status
titled_hits(ectx *e, walker *w, ndx_results *into, ndx_buf *text)
{
    topk *t = &w->top;
    const ndx_search_opts *o = w->o;
    cand *all, worst;
    size_t n = 0, i, j = 0, keys = 0, text_n;
    int full = t->n == t->cap;
    ndx_status st;

    memset(&worst, 0, sizeof worst);
    if (t->n)
        worst = t->h[0];
    all = malloc((t->n + t->members.n + 1) * sizeof *all);
    if (!all)
        return ndx_error(NDX_ENOMEM, "out of memory (search)");
    qsort_r(t->h, t->n, sizeof *t->h, cmp_cand, t);
    if (t->members.n)
        qsort_r(t->members.v, t->members.n, sizeof *t->members.v, cmp_cand,
                t);
    text_n = t->n + t->members.n;
    for (i = 0; i < t->n; i++) {
        if (t->clipped && !better(t, &t->h[i], &t->floor))
            break;
        for (; j < t->members.n && better(t, &t->members.v[j], &t->h[i]);
             j++)
            if ((!full || better(t, &t->members.v[j], &worst)) &&
                (!t->clipped || better(t, &t->members.v[j], &t->floor)))
                all[n++] = t->members.v[j];
        all[n++] = t->h[i];
        if (++keys == o->text_hits)
            text_n = n;
    }
    /* Members below the worst key: only when h is not full. */
    for (; j < t->members.n && !full; j++)
        if (!t->clipped || better(t, &t->members.v[j], &t->floor))
            all[n++] = t->members.v[j];
    if (text_n > n)
        text_n = n;
    st = NDX_OK;
    if (w->pruned && text_n)
        st = recount(e, w->q, all, text_n);
    into->total = w->total;
    into->total_exact = !w->pruned && !w->stopped_any;
    if (!st && n)
        st = fill_hits(e->v, all, n, into, text, text_n);
    free(all);
    return st;
}

ndx_status
ndx_exec_search(const nview *v, const ndx_query *q, const ndx_search_opts *o,
                ndx_results *into)
{
    ectx e;
    walker w;
    ndx_status st = NDX_OK;
    size_t segi, i, want, base;
    ndx_buf text;
    ndx_search_opts all;
    cand after_key;

    /* Facets count every match: the search is then exhaustive, as with
     * exact_total. */
    if (o->facets && !o->exact_total) {
        all = *o;
        all.exact_total = 1;
        o = &all;
    }
    memset(&e, 0, sizeof e);
    e.lim = UINT32_MAX;
    e.and_share = NAN;
    memset(&w, 0, sizeof w);
    ndx_buf_init(&text);
    e.v = v;
    e.o = o;
    e.arena = ndx_arena_new();
    e.avlen = v->passages ? (double)v->total_len / (double)v->passages : 1;
    if (e.avlen <= 0)
        e.avlen = 1;
    w.e = &e;
    w.q = q;
    w.o = o;
    w.exact_upto = o->exact_upto;
    w.can_prune = !o->exact_total && o->sort == NDX_SORT_RELEVANCE &&
                  o->k > 0;
    w.theta = -INFINITY;
    w.deadline = o->budget_ms > 0 ? ndx_now_ms() + o->budget_ms : 0;
    w.filter_src = q->source_count || o->source_count;
    if (o->offset > SIZE_MAX / 2 || o->k > SIZE_MAX / 2 - o->offset) {
        st = ndx_error(NDX_EINVAL, "offset + k is too large");
        goto fail;
    }
    want = o->offset + o->k;
    w.top.sort = o->sort;
    w.top.cap = want;
    w.spare_on = o->more && o->sort == NDX_SORT_RELEVANCE &&
                 o->group == NDX_GROUP_ARTICLE && !o->after && want;
    keyset_start(&w, &after_key);
    w.top.v = v;
    w.titles = o->distinct_titles && w.can_prune && !o->after &&
               o->offset == 0 && o->group == NDX_GROUP_ARTICLE &&
               want <= TITLED_K_MAX;
    w.top.h = malloc((want ? want : 1) * sizeof *w.top.h);
    if (!e.arena || !w.top.h) {
        st = ndx_error(NDX_ENOMEM, "out of memory (search)");
        goto fail;
    }
    if ((st = nfacets_new(&w.fac, o)))
        goto fail;
    /* Date range: the intersection of the query's and the options'. */
    w.from = q->from_days;
    w.to = q->to_days;
    if (o->from_days != NDX_DATE_NONE &&
        (w.from == NDX_DATE_NONE || o->from_days > w.from))
        w.from = o->from_days;
    if (o->to_days != NDX_DATE_NONE &&
        (w.to == NDX_DATE_NONE || o->to_days < w.to))
        w.to = o->to_days;
    if (o->source_count) {
        w.opt_keys = ndx_arena_alloc(e.arena,
                                     o->source_count * sizeof *w.opt_keys);
        if (!w.opt_keys) {
            st = ndx_error(NDX_ENOMEM, "out of memory (search)");
            goto fail;
        }
        for (i = 0; i < o->source_count; i++) {
            char key[256];
            size_t n = ndx_source_key(o->sources[i], key, sizeof key);

            w.opt_keys[i] = ndx_arena_strdup(e.arena, key, n);
            if (!w.opt_keys[i]) {
                st = ndx_error(NDX_ENOMEM, "out of memory (search)");
                goto fail;
            }
        }
    }

    for (segi = 0; segi < v->count; segi++) {
        const ndx_seg *s = v->segs[segi];
        const uint32_t *runs;
        size_t nruns;
        uint32_t lo, hi;
        int empty;

        if (w.from != NDX_DATE_NONE && w.to != NDX_DATE_NONE &&
            w.from > w.to)
            break;
        /* Skip segments whose dates cannot pass. */
        if ((w.from != NDX_DATE_NONE && s->last_days != NDX_DATE_NONE &&
             s->last_days < w.from && s->first_days != NDX_DATE_NONE) ||
            (w.to != NDX_DATE_NONE && s->first_days != NDX_DATE_NONE &&
             s->first_days > w.to))
            continue;
        if (w.filter_src) {
            int any = 0;

            free(w.allowed);
            w.allowed = calloc(s->source_count ? s->source_count : 1, 1);
            if (!w.allowed) {
                st = ndx_error(NDX_ENOMEM, "out of memory (search)");
                goto fail;
            }
            for (i = 0; i < s->source_count; i++) {
                const char *k = s->sources[i].key;

                w.allowed[i] =
                    (!q->source_count ||
                     key_in(k, (const char *const *)q->sources,
                            q->source_count)) &&
                    (!o->source_count ||
                     key_in(k, (const char *const *)w.opt_keys,
                            o->source_count));
                any |= w.allowed[i];
            }
            if (!any)
                continue;
        }
        if ((st = filter_runs(&w, s, &runs, &nruns, &empty)))
            goto fail;
        if (empty)
            continue;
        if ((st = nfacets_segment_begin(w.fac, s)))
            goto fail;
        keyset_range(&w, s, &lo, &hi);
        if (o->sort == NDX_SORT_NEWEST && !o->exact_total && o->k > 0 &&
            s->filter && s->filter->date_sorted)
            st = walk_newest(&w, segi, hi, runs, nruns);
        else
            st = walk(&w, segi, lo, hi, runs, nruns);
        if (st || (st = nfacets_segment_end(w.fac, into)))
            goto fail;
        w.stopped_any |= w.stopped;
        w.stopped = 0;
    }

    if ((st = nfacets_finish(w.fac, v, (const char *const *)q->sources,
                             q->source_count,
                             (const char *const *)w.opt_keys,
                             o->source_count, w.from, w.to, into)))
        goto fail;
    if (w.top.titled) {
        st = titled_hits(&e, &w, into, &text);
        goto fail;
    }
    qsort_r(w.top.h, w.top.n, sizeof *w.top.h, cmp_cand, &w.top);
    if (w.pruned && w.top.n > o->offset) {
        /* Hits past text_hits come without text, and without their
         * matches recounted. */
        size_t n = w.top.n - o->offset;

        if (o->text_hits && o->text_hits < n)
            n = o->text_hits;
        if ((st = recount(&e, q, w.top.h + o->offset, n)))
            goto fail;
    }
    into->total = w.total;
    into->total_exact = !w.pruned && !w.stopped_any;
    base = into->count;
    if (w.top.n > o->offset &&
        (st = fill_hits(v, w.top.h + o->offset, w.top.n - o->offset, into,
                        &text, o->text_hits ? o->text_hits : SIZE_MAX)))
        goto fail;
    if (w.spare_on && !w.pruned && !w.stopped_any && w.spare.n > want &&
        o->more(o->more_ctx, into))
        st = fill_more(v, &w, into, base, &text);
fail:
    nfacets_free(w.fac);
    free(w.abuf.v);
    free(w.spare.v);
    free(w.top.members.v);
    free(w.allowed);
    free(w.top.h);
    for (i = 0; i < e.exp_count; i++)
        free(e.exps[i].terms);
    free(e.exps);
    free(e.stats);
    ndx_arena_free(e.arena);
    ndx_buf_free(&text);
    return st;
}
