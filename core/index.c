/*
 * index.c - the front of libnewsdex: opens an index with the right engine,
 * splits and analyzes articles on their way in, parses queries, and turns
 * the engine's hits into highlighted snippets on the way out.
 *
 * Engines (native.c, xapian/) do the storing and ranking; ingestion
 * (reader*.c, passages.c, clean.c), analysis (analyze.c) and the query
 * language (query.c) are their own modules.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/variants.h"
#include "ingest/neardup.h"
#include "newsdex/newsdex.h"
#include "facets.h"
#include "newsdex/sys/engine.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/hash.h"

#define MAX_LANGS 32
#define RING_SLOTS 32 /* articles in flight between reader and writer */
/* Idle workers are woken when this many articles wait (or when the writer
 * waits for one), not for each: a wake-up per article cost two context
 * switches an article. */
#define RING_BATCH 8
#define MAX_WORKERS 64
#define PIPE_TEXT_MAX (256u << 10) /* longer articles skip the pipeline */

/* One article on its way through the analysis workers.  Its strings are
 * copies; passages and term sets are reused from one article to the next. */
typedef struct slot {
    ndx_article a;
    ndx_buf strs;          /* id, source, title, url, lang, text */
    ndx_passages pass;
    ndx_termset *ts;
    size_t ts_cap;
    int state;             /* 0 free, 1 queued, 2 taken, 3 done */
    ndx_status st;
    char err[256];
    int sketched;          /* 1: sketch and words are the article's */
    int presketched;       /* 1: they came with it (not made by a worker) */
    uint32_t words;        /* for the near-duplicate check */
    unsigned char sketch[NDX_ND_HASHES];
} slot;

/* Analyzers by language, made on first use: the index's for articles
 * analyzed in the caller, one per analysis worker. */
typedef struct langcache {
    ndx_analyzer *def;           /* the default language's (not owned) */
    char *lang[MAX_LANGS];
    ndx_analyzer *an[MAX_LANGS]; /* NULL: no stemmer, def serves */
    size_t count;
} langcache;

typedef struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t work;   /* a slot was queued, or stop */
    pthread_cond_t done;   /* a slot was analyzed */
    pthread_t threads[MAX_WORKERS];
    size_t nthreads;
    slot slots[RING_SLOTS];
    size_t head, tail, next; /* queue: [tail, head); next: first not taken */
    int stop;
    int hurry;             /* the writer waits: take any article */
    const char *language;
    ndx_split_opts split;
} pipeline;

struct ndx_index {
    const ndx_engine_ops *ops;
    void *eng;
    unsigned flags;
    ndx_analyzer *an;                  /* the default language */
    langcache langs;                   /* the others, for _add */
    ndx_split_opts split;
    ndx_passages pass;
    pipeline *pipe;                    /* analysis threads, or NULL */
    pthread_mutex_t pool_mu;           /* guards the analyzers below */
    ndx_analyzer *pool[MAX_WORKERS];   /* idle analyzers for searches */
    size_t pool_count;
    char *language;                    /* the default language */
    uint64_t added, added_passages, added_empty; /* handed to the engine */
    char *path;                        /* the index directory */
    ndx_neardup *nd;                   /* near-duplicates, or NULL */
    int nd_pending;                    /* nd is empty until the index's
                                          NEARDUP is read: at the first
                                          article added (neardup_ready) */
    char nd_warning[512];              /* NEARDUP not written, or "" */
};

static ndx_status pipeline_start(ndx_index *ix, unsigned workers,
                                 const char *language);
static void pipeline_stop(pipeline *p);

/* 1 when path is a directory holding files but no index (no ENGINE file):
 * writing an index there would mix it with someone else's files. */
static int
foreign_directory(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int foreign = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, "ENGINE") == 0) {
            /* Ours, from a run that stopped before its first commit. */
            foreign = 0;
            break;
        }
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            foreign = 1;
    }
    closedir(d);
    return foreign;
}

static const ndx_engine_ops *
engine_by_name(const char *name)
{
    if (strcmp(name, "native") == 0)
        return &ndx_native_engine;
    if (strcmp(name, "xapian") == 0)
        return ndx_xapian_engine();
    return NULL;
}

/*
 * Near-duplicates: a writer judges every article against those indexed
 * before (the NEARDUP file of an index it adds to, then this run's); a
 * reader loads the clusters to fold them at search time.  A reader that
 * cannot read the file searches without folding rather than failing.
 */
static ndx_status
neardup_open(ndx_index *ix, const char *path, unsigned flags,
             const ndx_engine_config *cfg)
{
    ndx_status st;

    if ((flags & NDX_OPEN_WRITE) && cfg->keep_duplicates)
        return NDX_OK;
    if (cfg->remote_count)
        return NDX_OK; /* remote shards: no directory of ours */
    if ((st = ndx_neardup_new(&ix->nd)))
        return st;
    if ((flags & NDX_OPEN_WRITE) && !(flags & NDX_OPEN_ADD))
        return NDX_OK;
    if (flags & NDX_OPEN_WRITE) {
        /* Read when a run adds its first article: a run that only deletes
         * or merges neither needs the tables nor changes the file, and its
         * merges do not hold them. */
        ix->nd_pending = 1;
        return NDX_OK;
    }
    st = ndx_neardup_load(ix->nd, path);
    if (st == NDX_OK && !(flags & NDX_OPEN_WRITE))
        st = ndx_neardup_prepare(ix->nd);
    if (st == NDX_ENOMEM || (st && st != NDX_ENOTFOUND
                             && (flags & NDX_OPEN_WRITE)))
        return st;
    if (st) {
        /* No file (an index built with --keep-duplicates, or before
         * clusters existed), or a damaged one: no folding. */
        ndx_neardup_free(ix->nd);
        ix->nd = NULL;
        if (flags & NDX_OPEN_WRITE)
            return ndx_neardup_new(&ix->nd);
    }
    return NDX_OK;
}

/* Reads the NEARDUP of the index a writer adds to, once, before its first
 * article is judged (see neardup_open): a damaged file fails the run, a
 * missing one starts empty. */
static ndx_status
neardup_ready(ndx_index *ix)
{
    ndx_status st;

    if (!ix->nd_pending)
        return NDX_OK;
    ix->nd_pending = 0;
    st = ndx_neardup_load(ix->nd, ix->path);
    if (st != NDX_ENOTFOUND)
        return st;
    ndx_neardup_free(ix->nd);
    ix->nd = NULL;
    return ndx_neardup_new(&ix->nd);
}

/*
 * The variant groups an index keeps (INDEX/VARIANTS, written by a run with
 * --variants FILE) join the process's table, so that searches of the
 * index, and runs adding to it, use them.  A file of another version is
 * left alone: searches then use the built-in table only.
 */
static ndx_status
variants_open(const char *path)
{
    char file[4096], first[64];
    FILE *f;
    ndx_status st;

    snprintf(file, sizeof file, "%s/VARIANTS", path);
    if (!(f = fopen(file, "r")))
        return NDX_OK;
    if (!fgets(first, sizeof first, f) ||
        strcmp(first, NDX_VARIANTS_HEADER) != 0) {
        fclose(f);
        return NDX_OK;
    }
    fclose(f);
    st = ndx_variants_load(file);
    return st == NDX_ENOMEM ? st : NDX_OK;
}

/* Keeps the variant groups loaded from files in the index (or removes a
 * rebuilt index's old ones). */
static ndx_status
variants_save(const char *path)
{
    char file[4096];
    ndx_buf b;
    ndx_status st;

    ndx_buf_init(&b);
    snprintf(file, sizeof file, "%s/VARIANTS", path);
    if ((st = ndx_variants_added(&b)) == NDX_OK) {
        if (b.len)
            st = ndx_write_durable(path, file, b.data, b.len);
        else if (remove(file) != 0 && errno != ENOENT)
            st = ndx_error(NDX_EIO, "remove %s: %s", file, strerror(errno));
    }
    ndx_buf_free(&b);
    return st;
}

ndx_status
ndx_index_open(ndx_index **out, const char *path, unsigned flags,
               const char *engine, const ndx_engine_config *cfg)
{
    ndx_index *ix;
    ndx_engine_config defcfg;
    const ndx_engine_ops *ops = NULL;
    const ndx_engine_ops *xap = ndx_xapian_engine();
    ndx_status st;

    *out = NULL;
    if (!cfg) {
        ndx_engine_config_init(&defcfg);
        cfg = &defcfg;
    }
    if (engine && *engine) {
        if (strcmp(engine, "native") != 0 && strcmp(engine, "xapian") != 0)
            return ndx_error(NDX_EINVAL,
                             "unknown engine '%s'; use native or xapian",
                             engine);
        ops = engine_by_name(engine);
        if (!ops)
            return ndx_error(NDX_ENOTSUP,
                             "this newsdex was built without the %s engine; "
                             "rebuild with XAPIAN=1",
                             engine);
    } else if (ndx_native_engine.probe(path)) {
        ops = &ndx_native_engine;
    } else if (xap && xap->probe(path)) {
        ops = xap;
    } else if (cfg->remote_count && xap) {
        ops = xap;
    } else if (flags & NDX_OPEN_WRITE) {
        ops = &ndx_native_engine;
    } else {
        return ndx_error(NDX_ENOTFOUND,
                         "no newsdex index at %s; build one with "
                         "newsdex-index -o %s FILES",
                         path, path);
    }
    if ((flags & NDX_OPEN_WRITE) && !cfg->remote_count &&
        !ndx_native_engine.probe(path) && !(xap && xap->probe(path)) &&
        foreign_directory(path))
        return ndx_error(NDX_EINVAL,
                         "%s is a directory with files but no newsdex index; "
                         "give -o a new or empty directory",
                         path);
    ix = calloc(1, sizeof *ix);
    if (!ix)
        return ndx_error(NDX_ENOMEM, "out of memory");
    ix->ops = ops;
    ix->flags = flags;
    pthread_mutex_init(&ix->pool_mu, NULL);
    ix->language = strdup(cfg->language && *cfg->language ? cfg->language
                                                          : "english");
    ix->path = cfg->remote_count ? NULL : strdup(path);
    if (!ix->language || (!cfg->remote_count && !ix->path)) {
        st = ndx_error(NDX_ENOMEM, "out of memory");
        goto fail;
    }
    ndx_split_opts_init(&ix->split);
    if ((st = ndx_analyzer_new(&ix->an, cfg->language)))
        goto fail;
    ix->langs.def = ix->an;
    if ((st = ops->open(&ix->eng, path, flags, cfg)))
        goto fail;
    if ((st = neardup_open(ix, path, flags, cfg)))
        goto fail;
    if ((!(flags & NDX_OPEN_WRITE) || (flags & NDX_OPEN_ADD)) &&
        !cfg->remote_count && (st = variants_open(path)))
        goto fail;
    if ((flags & NDX_OPEN_WRITE) && cfg->threads > 1 && ops->add_analyzed &&
        (st = pipeline_start(ix, cfg->threads - 1, cfg->language)))
        goto fail;
    *out = ix;
    return NDX_OK;
fail:
    ndx_index_close(ix);
    return st;
}

const char *
ndx_index_engine(const ndx_index *ix)
{
    return ix->ops->name;
}

void
ndx_index_set_split(ndx_index *ix, const ndx_split_opts *o)
{
    ix->split = *o;
    if (ix->pipe) {
        pthread_mutex_lock(&ix->pipe->mu);
        ix->pipe->split = *o;
        pthread_mutex_unlock(&ix->pipe->mu);
    }
}

/* The analyzer for lang: the default one for none or for the default's
 * language, else one made on first use; the default one for a language
 * without a stemmer or when the cache is full (NULL only when there is no
 * default and lang's cannot be made). */
static ndx_analyzer *
cache_get(langcache *c, const char *lang)
{
    size_t i;

    if (!lang || !*lang ||
        (c->def && strcmp(lang, ndx_analyzer_language(c->def)) == 0))
        return c->def;
    for (i = 0; i < c->count; i++)
        if (strcmp(c->lang[i], lang) == 0)
            return c->an[i] ? c->an[i] : c->def;
    if (c->count == MAX_LANGS || !(c->lang[c->count] = strdup(lang)))
        return c->def;
    if (ndx_analyzer_new(&c->an[c->count], lang) != NDX_OK)
        c->an[c->count] = NULL;
    c->count++;
    return c->an[c->count - 1] ? c->an[c->count - 1] : c->def;
}

static void
cache_free(langcache *c)
{
    size_t i;

    for (i = 0; i < c->count; i++) {
        free(c->lang[i]);
        ndx_analyzer_free(c->an[i]);
    }
    c->count = 0;
}

int
ndx_index_language_known(ndx_index *ix, const char *lang)
{
    ndx_analyzer *an = cache_get(&ix->langs, lang);

    return !lang || !*lang || an != ix->an ||
           strcmp(lang, ndx_analyzer_language(ix->an)) == 0;
}

/* ---- analysis in worker threads ------------------------------------- */

/* Splits and analyzes one article in place (and sketches it for the
 * near-duplicate check when s->sketched asks it). */
static ndx_status
analyze_slot(slot *s, ndx_analyzer *an, const ndx_split_opts *split)
{
    ndx_status st;
    size_t i;

    if (s->sketched && !s->presketched)
        s->words = ndx_neardup_sketch(s->a.text, s->a.text_len, s->sketch);
    if (!an)
        return ndx_error(NDX_ENOMEM, "no analyzer");
    if ((st = ndx_passages_split(&s->pass, s->a.text, s->a.text_len,
                                 s->a.source, split)))
        return st;
    if (s->pass.count > s->ts_cap) {
        ndx_termset *nt = realloc(s->ts, s->pass.count * sizeof *nt);

        if (!nt)
            return ndx_error(NDX_ENOMEM, "out of memory (term sets)");
        for (i = s->ts_cap; i < s->pass.count; i++)
            ndx_termset_init(&nt[i]);
        s->ts = nt;
        s->ts_cap = s->pass.count;
    }
    for (i = 0; i < s->pass.count; i++) {
        const char *title = i == 0 && *s->a.title ? s->a.title : NULL;

        if ((st = ndx_termset_build(&s->ts[i], an, title,
                                    title ? strlen(title) : 0,
                                    s->a.text + s->pass.items[i].off,
                                    s->pass.items[i].len)))
            return st;
    }
    return NDX_OK;
}

/* Analyzes a taken slot (state 2), keeping a failure's message in it. */
static void
slot_run(slot *s, ndx_analyzer *an, const ndx_split_opts *split)
{
    s->st = analyze_slot(s, an, split);
    if (s->st)
        snprintf(s->err, sizeof s->err, "%s", ndx_errmsg());
}

static void *
worker_main(void *arg)
{
    pipeline *p = arg;
    langcache cache;
    int awake = 0;

    memset(&cache, 0, sizeof cache);
    if (ndx_analyzer_new(&cache.def, p->language) != NDX_OK)
        cache.def = NULL;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        slot *s;

        /* Asleep, a worker waits for a batch (or the writer's hurry, or
         * the stop); awake, it takes articles while there are any. */
        while (p->next == p->head
                   ? !p->stop
                   : !p->stop && !p->hurry && !awake &&
                         p->head - p->next < RING_BATCH) {
            awake = 0;
            pthread_cond_wait(&p->work, &p->mu);
        }
        if (p->next == p->head && p->stop)
            break;
        awake = 1;
        s = &p->slots[p->next % RING_SLOTS];
        p->next++;
        s->state = 2;
        pthread_mutex_unlock(&p->mu);
        slot_run(s, cache_get(&cache, s->a.lang), &p->split);
        pthread_mutex_lock(&p->mu);
        s->state = 3;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    cache_free(&cache);
    ndx_analyzer_free(cache.def);
    return NULL;
}

static void
pipeline_stop(pipeline *p)
{
    size_t i, k;

    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    for (i = 0; i < RING_SLOTS; i++) {
        ndx_buf_free(&p->slots[i].strs);
        ndx_passages_clear(&p->slots[i].pass);
        for (k = 0; k < p->slots[i].ts_cap; k++)
            ndx_termset_free(&p->slots[i].ts[k]);
        free(p->slots[i].ts);
    }
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static ndx_status
pipeline_start(ndx_index *ix, unsigned workers, const char *language)
{
    pipeline *p = calloc(1, sizeof *p);
    size_t i;

    if (!p)
        return ndx_error(NDX_ENOMEM, "out of memory (pipeline)");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->language = language && *language ? language : "english";
    p->split = ix->split;
    if (workers > MAX_WORKERS)
        workers = MAX_WORKERS;
    for (i = 0; i < workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
            break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        pipeline_stop(p);
        return NDX_OK; /* no threads: analyze in the caller */
    }
    ix->pipe = p;
    return NDX_OK;
}

/* What a slot keeps for the next article.  A slot keeps the buffers of
 * the largest article it has carried, and over a long run each of the
 * RING_SLOTS slots meets a long article: at 1,000,000 passages the slots
 * came to hold 200 MB, beside a writer told to use 128.  Past these sizes
 * a slot lets go after its article is handed on: of its term sets, those
 * past the first SLOT_KEEP_TERMSETS.  (Letting go of them all, as it
 * did, freed the term sets of most articles in the writer's thread,
 * memory of a worker's malloc arena, which the worker allocated again:
 * the two threads fought over that arena's lock, some 7,000 futex waits
 * a second on allsides.) */
#define SLOT_KEEP_TERMSETS 8
#define SLOT_KEEP_BYTES (256 * 1024)

static void
slot_trim(slot *s)
{
    size_t i;

    if (s->ts_cap > SLOT_KEEP_TERMSETS) {
        ndx_termset *nt;

        for (i = SLOT_KEEP_TERMSETS; i < s->ts_cap; i++)
            ndx_termset_free(&s->ts[i]);
        s->ts_cap = SLOT_KEEP_TERMSETS;
        /* Shrinking; should it fail, the block stays as it was. */
        if ((nt = realloc(s->ts, s->ts_cap * sizeof *nt)))
            s->ts = nt;
    }
    if (s->strs.cap > SLOT_KEEP_BYTES)
        ndx_buf_free(&s->strs);
    if (s->pass.cap > SLOT_KEEP_BYTES / sizeof *s->pass.items)
        ndx_passages_clear(&s->pass);
}

/* The near-duplicate verdict of a slot's article, in the order of the
 * articles, from the sketch its worker made: a copy of an earlier
 * article of its source takes that article's id. */
static ndx_status
slot_neardup(ndx_index *ix, slot *s)
{
    int verdict;
    const char *earlier;
    ndx_status st;

    if ((st = ndx_neardup_add_sketched(ix->nd, s->a.id, s->a.source,
                                       s->a.date_days, s->sketch, s->words,
                                       &verdict, &earlier)))
        return st;
    if (ix->ops->memory_outside)
        ix->ops->memory_outside(ix->eng, ndx_neardup_memory(ix->nd));
    if (verdict == NDX_ND_SAME_SOURCE)
        s->a.id = (char *)earlier; /* borrowed until the next verdict */
    return NDX_OK;
}

/* Hands finished articles, in order, to the engine.  With wait, blocks
 * until the oldest one is finished (or everything, with all). */
static ndx_status
pipeline_drain(ndx_index *ix, int wait, int all)
{
    pipeline *p = ix->pipe;
    ndx_status st = NDX_OK;

    pthread_mutex_lock(&p->mu);
    while (p->tail != p->head) {
        slot *s = &p->slots[p->tail % RING_SLOTS];

        if (s->state != 3) {
            if (!wait)
                break;
            if (p->next != p->head) {
                /* Rather than wait, the writer analyzes the next article
                 * no worker has taken (its own analyzers). */
                slot *o = &p->slots[p->next % RING_SLOTS];

                p->next++;
                o->state = 2;
                pthread_mutex_unlock(&p->mu);
                slot_run(o, cache_get(&ix->langs, o->a.lang), &p->split);
                pthread_mutex_lock(&p->mu);
                o->state = 3;
                continue;
            }
            p->hurry = 1;
            pthread_cond_broadcast(&p->work);
            pthread_cond_wait(&p->done, &p->mu);
            p->hurry = 0;
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        if (s->st)
            st = ndx_error(s->st, "%s", s->err);
        else if (s->sketched)
            st = slot_neardup(ix, s);
        if (!st && s->pass.count)
            st = ix->ops->add_analyzed(ix->eng, &s->a, &s->pass, s->ts);
        if (!st) {
            ix->added++;
            ix->added_passages += s->pass.count;
            ix->added_empty += s->pass.count == 0;
        }
        slot_trim(s);
        pthread_mutex_lock(&p->mu);
        s->state = 0;
        p->tail++;
        if (st)
            break;
        if (!all)
            wait = 0;
    }
    pthread_mutex_unlock(&p->mu);
    return st;
}

static ndx_status
copy_into_slot(slot *s, const ndx_article *a)
{
    const char *f[6];
    size_t off[6], i;
    ndx_status st = NDX_OK;

    f[0] = a->id;
    f[1] = a->source ? a->source : "unknown";
    f[2] = a->title ? a->title : "";
    f[3] = a->url ? a->url : "";
    f[4] = a->lang ? a->lang : "";
    s->strs.len = 0;
    for (i = 0; i < 5 && !st; i++) {
        off[i] = s->strs.len;
        st = ndx_buf_put(&s->strs, f[i], strlen(f[i]) + 1);
    }
    off[5] = s->strs.len;
    if (!st)
        st = ndx_buf_put(&s->strs, a->text, a->text_len);
    if (!st)
        st = ndx_buf_putc(&s->strs, '\0');
    if (st)
        return st;
    s->a = *a;
    s->a.id = (char *)s->strs.data + off[0];
    s->a.source = (char *)s->strs.data + off[1];
    s->a.title = (char *)s->strs.data + off[2];
    s->a.url = (char *)s->strs.data + off[3];
    s->a.lang = (char *)s->strs.data + off[4];
    s->a.text = (char *)s->strs.data + off[5];
    return NDX_OK;
}

static ndx_status
pipeline_add(ndx_index *ix, const ndx_article *a,
             const unsigned char *sketch, uint32_t words)
{
    pipeline *p = ix->pipe;
    ndx_status st;
    slot *s;

    /* Make room: hand finished articles to the engine first. */
    if ((st = pipeline_drain(ix, p->head - p->tail >= RING_SLOTS, 0)))
        return st;
    s = &p->slots[p->head % RING_SLOTS];
    if ((st = copy_into_slot(s, a)))
        return st;
    s->sketched = ix->nd != NULL;
    s->presketched = s->sketched && sketch;
    if (s->presketched) {
        memcpy(s->sketch, sketch, NDX_ND_HASHES);
        s->words = words;
    }
    pthread_mutex_lock(&p->mu);
    s->state = 1;
    s->st = NDX_OK;
    p->head++;
    if (p->head - p->next >= RING_BATCH)
        pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return NDX_OK;
}

static ndx_status index_add(ndx_index *ix, const ndx_article *a,
                            size_t *passages);

ndx_status
ndx_index_add(ndx_index *ix, const ndx_article *a, size_t *passages)
{
    return ndx_index_add_sketched(ix, a, NULL, 0, passages);
}

ndx_status
ndx_index_add_sketched(ndx_index *ix, const ndx_article *a,
                       const unsigned char *sketch, uint32_t words,
                       size_t *passages)
{
    ndx_status st;

    if (passages)
        *passages = 0;
    if (!(ix->flags & NDX_OPEN_WRITE))
        return ndx_error(NDX_EINVAL, "the index is open for reading only");
    if (!a->id || !*a->id)
        return ndx_error(NDX_EINVAL, "an article needs an id");
    if ((st = neardup_ready(ix)))
        return st;
    /* In the pipeline a worker sketches the article for the near-duplicate
     * check, and its verdict is taken in order when it is handed on. */
    if (ix->pipe && a->text_len <= PIPE_TEXT_MAX)
        return pipeline_add(ix, a, sketch, words);
    if (ix->pipe && (st = pipeline_drain(ix, 1, 1)))
        return st;
    if (ix->nd) {
        unsigned char own[NDX_ND_HASHES];
        int verdict;
        const char *earlier;

        if (!sketch) {
            words = ndx_neardup_sketch(a->text, a->text_len, own);
            sketch = own;
        }
        if ((st = ndx_neardup_add_sketched(ix->nd, a->id, a->source,
                                           a->date_days, sketch, words,
                                           &verdict, &earlier)))
            return st;
        if (ix->ops->memory_outside)
            ix->ops->memory_outside(ix->eng, ndx_neardup_memory(ix->nd));
        if (verdict == NDX_ND_SAME_SOURCE) {
            /* The later copy replaces the earlier under its id. */
            ndx_article copy = *a;

            copy.id = (char *)earlier;
            return index_add(ix, &copy, passages);
        }
    }
    return index_add(ix, a, passages);
}

static ndx_status
index_add(ndx_index *ix, const ndx_article *a, size_t *passages)
{
    ndx_status st;

    /* A long article is analyzed here, a passage at a time, after those
     * before it (ndx_index_add drained the pipeline): in the pipeline its
     * term sets would all be held at once (hundreds of MB for a 15 MB
     * record). */
    if ((st = ndx_passages_split(&ix->pass, a->text, a->text_len, a->source,
                                 &ix->split)))
        return st;
    if (ix->pass.count &&
        (st = ix->ops->add(ix->eng, a, &ix->pass,
                                cache_get(&ix->langs, a->lang))))
        return st;
    ix->added++;
    ix->added_passages += ix->pass.count;
    ix->added_empty += ix->pass.count == 0;
    if (passages)
        *passages = ix->pass.count;
    return NDX_OK;
}

void
ndx_index_counts(const ndx_index *ix, uint64_t *articles, uint64_t *passages,
                 uint64_t *empty)
{
    if (articles)
        *articles = ix->added;
    if (passages)
        *passages = ix->added_passages;
    if (empty)
        *empty = ix->added_empty;
}

ndx_status
ndx_index_commit(ndx_index *ix)
{
    ndx_status st;

    if (!(ix->flags & NDX_OPEN_WRITE))
        return ndx_error(NDX_EINVAL, "the index is open for reading only");
    if (ix->pipe && (st = pipeline_drain(ix, 1, 1)))
        return st;
    if ((st = ix->ops->commit(ix->eng)))
        return st;
    /* Written after the commit: a failure leaves a good index whose
     * newest articles are not folded at search time. */
    if (ix->nd && !ix->nd_pending &&
        (st = ndx_neardup_save(ix->nd, ix->path)) != NDX_OK)
        snprintf(ix->nd_warning, sizeof ix->nd_warning,
                 "%s; the index is committed, but searches show its new "
                 "near-identical articles separately",
                 ndx_errmsg());
    if (ix->path && (st = variants_save(ix->path)) != NDX_OK)
        snprintf(ix->nd_warning, sizeof ix->nd_warning,
                 "%s; the index is committed, but its searches will not "
                 "know the variants of --variants",
                 ndx_errmsg());
    return NDX_OK;
}

const char *
ndx_index_commit_warning(const ndx_index *ix)
{
    if (!(ix->flags & NDX_OPEN_WRITE) || !ix->ops->commit_warning)
        return NULL;
    return ix->ops->commit_warning(ix->eng);
}

const char *
ndx_index_neardup_counts(const ndx_index *ix, uint64_t *folded,
                         uint64_t *clustered)
{
    ndx_neardup_counts(ix->nd, folded, clustered);
    return ix->nd_warning[0] ? ix->nd_warning : NULL;
}

ndx_status
ndx_index_delete(ndx_index *ix, const char *article_id)
{
    ndx_status st;

    if (!(ix->flags & NDX_OPEN_WRITE))
        return ndx_error(NDX_EINVAL, "the index is open for reading only");
    if (!article_id || !*article_id)
        return ndx_error(NDX_EINVAL, "delete: an empty article id");
    if (!ix->ops->remove)
        return ndx_error(NDX_ENOTSUP, "the %s engine cannot delete articles",
                         ix->ops->name);
    /* Articles added before the call are the engine's before it deletes:
     * an add then a delete of one id leaves nothing. */
    if (ix->pipe && (st = pipeline_drain(ix, 1, 1)))
        return st;
    return ix->ops->remove(ix->eng, article_id);
}

ndx_status
ndx_index_optimize(ndx_index *ix)
{
    if (!(ix->flags & NDX_OPEN_WRITE))
        return ndx_error(NDX_EINVAL, "the index is open for reading only");
    if (!ix->ops->optimize)
        return ndx_error(NDX_ENOTSUP,
                         "the %s engine has no segments to merge",
                         ix->ops->name);
    return ix->ops->optimize(ix->eng);
}

/* Searches may run in several threads at once, and an analyzer belongs
 * to one thread: each search borrows one from a small pool. */
static ndx_analyzer *
analyzer_take(ndx_index *ix)
{
    ndx_analyzer *an = NULL;

    pthread_mutex_lock(&ix->pool_mu);
    if (ix->pool_count)
        an = ix->pool[--ix->pool_count];
    pthread_mutex_unlock(&ix->pool_mu);
    if (!an && ndx_analyzer_new(&an, ix->language) != NDX_OK)
        an = NULL;
    return an;
}

static void
analyzer_give(ndx_index *ix, ndx_analyzer *an)
{
    if (!an)
        return;
    pthread_mutex_lock(&ix->pool_mu);
    if (ix->pool_count < MAX_WORKERS) {
        ix->pool[ix->pool_count++] = an;
        an = NULL;
    }
    pthread_mutex_unlock(&ix->pool_mu);
    ndx_analyzer_free(an);
}

/* Sources listed in a hit's also_in at most. */
#define ALSO_IN_MAX 64

/*
 * Shows each cluster of near-identical articles once: the first hit of a
 * cluster stays and lists the sources of the cluster's other members in
 * also_in; later hits of the cluster go.  *removed receives how many hits
 * went.  The hits are the *count of hits; their lists are made in r.
 */
static ndx_status
fold_clusters(const ndx_index *ix, ndx_hit *hits, size_t *count,
              ndx_results *r, size_t *removed)
{
    uint32_t seen[1024];
    size_t seen_count = 0, i, kept = 0, j;

    *removed = 0;
    {
        /* The look-ups read at random places: their misses overlap. */
        const char *ids[32];
        size_t n = *count < 32 ? *count : 32;

        for (i = 0; i < n; i++)
            ids[i] = hits[i].article;
        ndx_neardup_prefetch(ix->nd, ids, n);
    }
    for (i = 0; i < *count; i++) {
        ndx_hit h = hits[i];
        uint32_t c = ndx_neardup_cluster(ix->nd, h.article);
        int dup = 0;

        for (j = 0; c && j < seen_count; j++)
            dup = dup || seen[j] == c;
        if (dup) {
            (*removed)++;
            continue;
        }
        if (c) {
            const char *names[ALSO_IN_MAX];
            size_t n = ndx_neardup_sources(ix->nd, c, h.source, names,
                                           ALSO_IN_MAX);
            const char **copy;

            if (n > ALSO_IN_MAX)
                n = ALSO_IN_MAX;
            if (seen_count < sizeof seen / sizeof seen[0])
                seen[seen_count++] = c;
            if (n) {
                copy = ndx_results_alloc(r, n * sizeof *copy);
                if (!copy)
                    return ndx_error(NDX_ENOMEM, "out of memory");
                for (j = 0; j < n; j++)
                    if (!(copy[j] = ndx_results_strdup(r, names[j],
                                                      strlen(names[j]))))
                        return ndx_error(NDX_ENOMEM, "out of memory");
                h.also_in = copy;
                h.also_in_count = n;
            }
        }
        hits[kept++] = h;
    }
    *count = kept;
    return NDX_OK;
}

/* The key a hit collapses by (ndx_title_key). */
static size_t
title_key(const ndx_hit *h, char *out)
{
    return ndx_title_key(h->source, h->title, out);
}

/* Hits a listing collapses without a hash table (a linear look among the
 * earlier keys costs less for a page's few dozen). */
#define TITLE_SCAN_MAX 64

typedef struct title_ent {
    uint64_t key;  /* hash of the title key (never 0) */
    size_t head;   /* the first hit with the key */
} title_ent;

/*
 * Shows the hits of one source with one title once: the first stays and
 * lists the later ones (id and date) in same_title, in the listing's
 * order; the later ones go.  Whether a hit goes depends only on the hits
 * before it, so pages cut from longer listings agree.  *removed receives
 * how many went.  The hits are the *nhits of hits; their lists are made
 * in r.
 */
static ndx_status
collapse_titles(ndx_hit *hits, size_t *nhits, ndx_results *r,
                size_t *removed)
{
    size_t n = *nhits, i, j, kept = 0, start = 0, *head, *count, *at;
    uint64_t *hash;
    char key[NDX_TITLE_KEY_MAX], other[NDX_TITLE_KEY_MAX];
    void *mem;
    ndx_same_title *lists;
    ndx_htab seen;
    ndx_status st = NDX_OK;

    *removed = 0;
    if (n < 2)
        return NDX_OK;
    /* head, count, at: n each; hash: n (0: no key). */
    mem = calloc(n, 3 * sizeof(size_t) + sizeof(uint64_t));
    if (!mem)
        return ndx_error(NDX_ENOMEM, "out of memory (collapsing titles)");
    head = mem;
    count = head + n;
    at = count + n;
    hash = (uint64_t *)(at + n);
    ndx_htab_init(&seen, sizeof(title_ent), 256, 50);
    for (i = 0; i < n; i++) {
        size_t len = title_key(&hits[i], key), pos = NDX_HTAB_START;
        title_ent *e = NULL;

        head[i] = i;
        if (!len)
            continue;
        hash[i] = ndx_fnv1a64(key, len);
        hash[i] += !hash[i];
        /* The earlier head with this key: same hash, and the same key
         * (made again: a match is rare and hashes seldom collide). */
        for (j = n <= TITLE_SCAN_MAX ? 0 : i; j < i; j++)
            if (head[j] == j && hash[j] == hash[i] &&
                title_key(&hits[j], other) == len &&
                !memcmp(other, key, len))
                break;
        while (j == i && n > TITLE_SCAN_MAX &&
               (e = ndx_htab_find(&seen, hash[i], &pos)))
            if (title_key(&hits[e->head], other) == len &&
                !memcmp(other, key, len)) {
                j = e->head;
                break;
            }
        if (j < i) {
            head[i] = j;
            count[j]++;
            (*removed)++;
        } else if (n > TITLE_SCAN_MAX &&
                   !(e = ndx_htab_add(&seen, hash[i]))) {
            st = ndx_error(NDX_ENOMEM, "out of memory (collapsing titles)");
            goto done;
        } else if (e) {
            e->head = i;
        }
    }
    if (!*removed)
        goto done;
    lists = ndx_results_alloc(r, *removed * sizeof *lists);
    if (!lists) {
        st = ndx_error(NDX_ENOMEM, "out of memory (collapsing titles)");
        goto done;
    }
    for (i = 0; i < n; i++) {
        at[i] = start;
        start += count[i];
        if (count[i]) {
            hits[i].same_title = lists + at[i];
            hits[i].same_title_count = count[i];
        }
    }
    for (i = 0; i < n; i++) {
        const ndx_hit *h = &hits[i];

        if (head[i] == i) {
            hits[kept++] = *h;
            continue;
        }
        lists[at[head[i]]].article = h->article;
        lists[at[head[i]]++].date_days = h->date_days;
    }
    *nhits = kept;
done:
    ndx_htab_free(&seen);
    free(mem);
    return st;
}

/* The same-title lists of the hits of r from offset on, copied from
 * those of an earlier, wider search (from) whose hits there are the same
 * ones. */
static ndx_status
same_titles_from(ndx_results *r, const ndx_results *from, size_t offset)
{
    size_t i, j;

    for (i = offset; i < r->count && i < from->count; i++) {
        const ndx_hit *f = &from->hits[i];
        ndx_same_title *copy;

        if (strcmp(f->article, r->hits[i].article) ||
            f->same_title_count <= r->hits[i].same_title_count)
            continue;
        copy = ndx_results_alloc(r, f->same_title_count * sizeof *copy);
        if (!copy)
            return ndx_error(NDX_ENOMEM, "out of memory (collapsing titles)");
        for (j = 0; j < f->same_title_count; j++) {
            copy[j].date_days = f->same_title[j].date_days;
            copy[j].article = ndx_results_strdup(
                r, f->same_title[j].article, strlen(f->same_title[j].article));
            if (!copy[j].article)
                return ndx_error(NDX_ENOMEM,
                                 "out of memory (collapsing titles)");
        }
        r->hits[i].same_title = copy;
        r->hits[i].same_title_count = f->same_title_count;
    }
    return NDX_OK;
}

/* search_folded's first search, as ndx_search_opts.more asks it. */
typedef struct page_check {
    const ndx_index *ix;
    size_t want;          /* offset + k */
    int fold, collapse;
    size_t folded, collapsed;
    int done;             /* the hits are folded and collapsed */
    ndx_status st;        /* a failure while checking */
} page_check;

/* Folds the *n hits (pc->fold) and collapses them (pc->collapse), their
 * lists made in r; *folded and *collapsed receive how many went. */
static ndx_status
fold_hits(const page_check *pc, ndx_hit *hits, size_t *n, ndx_results *r,
          size_t *folded, size_t *collapsed)
{
    ndx_status st;

    *folded = *collapsed = 0;
    if (pc->fold && (st = fold_clusters(pc->ix, hits, n, r, folded)))
        return st;
    return pc->collapse ? collapse_titles(hits, n, r, collapsed) : NDX_OK;
}

/* Whether the hits so far, folded and collapsed, leave the page short
 * (1: the engine adds more).  Else they are folded and collapsed in
 * place, from a copy that was (their lists lie in r either way). */
static int
page_short(void *ctx, ndx_results *r)
{
    page_check *pc = ctx;
    ndx_hit *copy;
    size_t n = r->count;

    if (pc->st)
        return 0;
    copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy) {
        pc->st = ndx_error(NDX_ENOMEM, "out of memory (results)");
        return 0;
    }
    memcpy(copy, r->hits, n * sizeof *copy);
    if ((pc->st = fold_hits(pc, copy, &n, r, &pc->folded,
                            &pc->collapsed))) {
        free(copy);
        return 0;
    }
    if (n < pc->want) {
        free(copy);
        return 1;
    }
    memcpy(r->hits, copy, n * sizeof *copy);
    r->count = n;
    pc->done = 1;
    free(copy);
    return 0;
}

/* search_folded asks the engine for at most this many hits again to fill
 * a page that folding left short (a larger k already asked for stands). */
#define FOLD_ASK_MAX 100000

/*
 * The engine's search, clusters folded and same-title hits collapsed:
 * grouped by article, the engine is asked for more hits than the page
 * needs (clusters hold a few articles), and again while folding leaves
 * the page short and the engine had more: for twice as many, or for as
 * many as the share of hits kept says the page needs when that is more.
 * total counts every matching article, folded or not.
 *
 * The first search counts (total, facets) and, when it counts every
 * match, adds the hits past the page it found while folding leaves the
 * page short (ndx_search_opts.more: page_short).  A search again only
 * needs the hits, so it prunes from the start and counts nothing, and the
 * first one's total and facets are kept.  A search for more gives
 * every hit its text (which come into the page is known only once they
 * are folded), so that no third search is needed for the text.
 */
static ndx_status
search_folded(ndx_index *ix, const ndx_query *q, const ndx_search_opts *o,
              ndx_results **rp)
{
    ndx_search_opts wide = *o;
    size_t want = o->offset + o->k, folded = 0, collapsed = 0, i;
    ndx_results *first = NULL;
    ndx_status st;
    int fold = ix->nd && o->fold_clusters;
    unsigned searches = 0;
    page_check pc;

    if ((!fold && !o->collapse_titles) || o->group != NDX_GROUP_ARTICLE ||
        o->k == 0) {
        (*rp)->searches = 1;
        return ix->ops->search(ix->eng, q, o, *rp);
    }
    wide.offset = 0;
    /* A few hits more than the page: every one asked for weakens the
     * engine's pruning (its k-th best score is the bar) and costs a
     * look-up, so the margin covers the common case (a hit or two folded
     * or collapsed) and a page left short asks again.  On allsides a
     * margin of 2 instead of half the page and 8 took term queries' p50
     * from 0.124 to 0.097 ms and or's from 0.56 to 0.50. */
    wide.k = want + 2 + want / 16;
    /* The hits past the page are asked for only in case folding takes
     * some out: they need no text unless it does. */
    wide.text_hits = o->text_hits && o->text_hits < o->k ? o->offset +
                                                               o->text_hits
                                                         : want;
    memset(&pc, 0, sizeof pc);
    pc.ix = ix;
    pc.want = want;
    pc.fold = fold;
    pc.collapse = o->collapse_titles;
    wide.more = page_short;
    wide.more_ctx = &pc;
    /* The engine may rank by title key: the k-th key's article is then
     * the bar, where k articles of a few titles would leave the page
     * short and ask again. */
    wide.distinct_titles = o->collapse_titles;
    for (;;) {
        ndx_results *r = *rp;
        size_t got, page_end;
        int short_of_text = 0, again = 0;

        pc.done = 0;
        searches++;
        if ((st = ix->ops->search(ix->eng, q, &wide, r)) || (st = pc.st))
            goto done;
        got = pc.done ? r->count + pc.folded + pc.collapsed : r->count;
        if (pc.done) {
            folded = pc.folded;
            collapsed = pc.collapsed;
        } else if ((st = fold_hits(&pc, r->hits, &r->count, r, &folded,
                                   &collapsed)))
            goto done;
        page_end = r->count < want ? r->count : want;
        for (i = o->offset; i < page_end && wide.text_hits; i++)
            if (!r->hits[i].text &&
                (!o->text_hits || i - o->offset < o->text_hits))
                short_of_text = 1;
        if (r->count < want && got >= wide.k && wide.k < FOLD_ASK_MAX &&
            !(r->total_exact && got >= r->total)) {
            /* Short after folding, and the engine had more: ask again
             * for twice as many, each with its text, or for as many as
             * the share kept says the page needs (and a quarter more)
             * when that is more, but never more than eight times as many
             * nor, so, past FOLD_ASK_MAX (every hit asked for again comes
             * with its text). */
            size_t was = got > wide.k ? got : wide.k;
            double need = 1.25 * (double)got * (double)want /
                          (double)(r->count ? r->count : 1);

            if (need > 8.0 * (double)was)
                need = 8.0 * (double)was;
            if (need > (double)FOLD_ASK_MAX)
                need = (double)FOLD_ASK_MAX;
            wide.k = 2 * was;
            if (need > (double)wide.k)
                wide.k = (size_t)need + 1;
            wide.text_hits = 0;
            again = 1;
        } else if (short_of_text && wide.text_hits) {
            /* Folding moved hits without text into the page: again, for
             * the hits up to the page's last one (at most page_end +
             * folded + collapsed in the engine's order), all with text.
             * The same hits come first, so the page is the same (by
             * article: k hits, and the lists of the first search). */
            wide.k = page_end + folded + collapsed;
            wide.text_hits = 0;
            wide.distinct_titles = 0;
            again = 1;
        }
        if (!again)
            break;
        /* The total, facets and same-title lists are kept from the
         * first search. */
        if (first)
            ndx_results_free(r);
        else
            first = r;
        *rp = NULL;
        if ((st = ndx_results_new(rp)))
            goto done;
        wide.exact_total = 0;
        wide.exact_upto = 0;
        wide.facets = 0;
        wide.more = NULL;
    }
    if (first) {
        void **raw = ndx_results_facet_raw(*rp);
        void **was = ndx_results_facet_raw(first), *swap = *raw;

        if ((st = same_titles_from(*rp, first, o->offset)))
            goto done;
        (*rp)->total = first->total;
        (*rp)->total_exact = first->total_exact;
        *raw = *was;
        *was = swap;
    }
    /* The page: drop the offset, keep k. */
    {
        ndx_results *r = *rp;
        size_t start = o->offset < r->count ? o->offset : r->count;
        size_t n = r->count - start < o->k ? r->count - start : o->k;

        r->searches = searches;
        for (i = 0; i < n; i++)
            r->hits[i] = r->hits[start + i];
        r->count = n;
    }
done:
    ndx_results_free(first);
    return st;
}

ndx_status
ndx_index_search_query(ndx_index *ix, const ndx_query *q,
                       const ndx_search_opts *o, ndx_results **out)
{
    ndx_results *r = NULL;
    ndx_analyzer *an = NULL;
    ndx_search_opts defo;
    double t0 = ndx_now_ms();
    ndx_status st;
    size_t i;

    *out = NULL;
    if ((st = ndx_results_new(&r)))
        return st;
    if (!o) {
        ndx_search_opts_init(&defo);
        o = &defo;
    }
    /* Checked here, for every engine, before anything is sized from
     * them. */
    if (o->k > NDX_SEARCH_K_MAX || o->offset > NDX_SEARCH_OFFSET_MAX ||
        o->snippet_len > NDX_SNIPPET_LEN_MAX) {
        st = ndx_error(NDX_EINVAL,
                       "search: k %zu, offset %zu or snippet_len %zu over "
                       "the limits (%d, %d, %d)",
                       o->k, o->offset, o->snippet_len, NDX_SEARCH_K_MAX,
                       NDX_SEARCH_OFFSET_MAX, NDX_SNIPPET_LEN_MAX);
        goto fail;
    }
    /* Folding and collapsing keep a hit or not by the hits before it,
     * which a page after a key does not see. */
    if (o->after && o->group == NDX_GROUP_ARTICLE &&
        (o->fold_clusters || o->collapse_titles)) {
        st = ndx_error(NDX_EINVAL, "search: a page after a key lists every "
                                   "article: set fold_clusters and "
                                   "collapse_titles to 0");
        goto fail;
    }
    if ((st = search_folded(ix, q, o, &r)) ||
        (st = ndx_results_facets_finish(r, o)))
        goto fail;
    if (o->snippets && r->count && !(an = analyzer_take(ix))) {
        st = ndx_error(NDX_ENOMEM, "out of memory (analyzer)");
        goto fail;
    }
    if (o->snippets) {
        for (i = 0; i < r->count; i++) {
            ndx_hit *h = &r->hits[i];
            char *s;

            if (!h->text)
                continue;
            s = ndx_snippet_make(an, q, h->text, strlen(h->text),
                                 o->snippet_len ? o->snippet_len : 240);
            if (!s) {
                st = ndx_error(NDX_ENOMEM, "out of memory (snippet)");
                goto fail;
            }
            h->snippet = ndx_results_strdup(r, s, strlen(s));
            free(s);
            if (!h->snippet) {
                st = ndx_error(NDX_ENOMEM, "out of memory (snippet)");
                goto fail;
            }
        }
    }
    analyzer_give(ix, an);
    r->took_ms = ndx_now_ms() - t0;
    *out = r;
    return NDX_OK;
fail:
    analyzer_give(ix, an);
    ndx_results_free(r);
    return st;
}

ndx_status
ndx_index_search(ndx_index *ix, const char *text, const ndx_search_opts *o,
                 ndx_results **out, size_t *err_col)
{
    ndx_query *q = NULL;
    double t0 = ndx_now_ms();
    ndx_status st;

    ndx_analyzer *an = analyzer_take(ix);

    *out = NULL;
    if (!an)
        return ndx_error(NDX_ENOMEM, "out of memory (analyzer)");
    st = ndx_query_parse(&q, text, an, err_col);
    analyzer_give(ix, an);
    if (st)
        return st;
    st = ndx_index_search_query(ix, q, o, out);
    ndx_query_free(q);
    if (!st)
        (*out)->took_ms = ndx_now_ms() - t0;
    return st;
}

ndx_status
ndx_index_get(ndx_index *ix, const char *article_id, ndx_doc **out)
{
    return ix->ops->get(ix->eng, article_id, out);
}

ndx_status
ndx_index_stats(ndx_index *ix, ndx_stats *out)
{
    return ix->ops->stats(ix->eng, out);
}

int
ndx_index_each_passage(ndx_index *ix, ndx_passage_fn fn, void *ctx)
{
    if (!ix->ops->each_passage)
        return ndx_error(NDX_ENOTSUP, "the %s engine cannot list its "
                         "passages", ix->ops->name);
    return ix->ops->each_passage(ix->eng, fn, ctx);
}

int
ndx_index_refresh(ndx_index *ix)
{
    return ix->ops->refresh ? ix->ops->refresh(ix->eng) : 0;
}

int
ndx_index_thread_safe(const ndx_index *ix)
{
    return ix->ops->thread_safe;
}

ndx_analyzer *
ndx_index_analyzer(ndx_index *ix)
{
    return ix->an;
}

void
ndx_index_close(ndx_index *ix)
{
    size_t i;

    if (!ix)
        return;
    pipeline_stop(ix->pipe);
    if (ix->eng)
        ix->ops->close(ix->eng);
    cache_free(&ix->langs);
    ndx_analyzer_free(ix->an);
    for (i = 0; i < ix->pool_count; i++)
        ndx_analyzer_free(ix->pool[i]);
    pthread_mutex_destroy(&ix->pool_mu);
    free(ix->language);
    free(ix->path);
    ndx_neardup_free(ix->nd);
    ndx_passages_clear(&ix->pass);
    free(ix);
}

/* The learned furniture lines (FURNITURE, both engines) are read as an
 * --add run reads them: damage is NDX_ECORRUPT naming the file; no file
 * is fine (nothing learned yet, or --no-learn). */
static ndx_status
check_furniture(const char *path)
{
    ndx_cleaner *c = NULL;
    ndx_status st;

    if ((st = ndx_cleaner_new(&c)))
        return st;
    ndx_cleaner_freeze(c, 5, 0.2);
    st = ndx_cleaner_load(c, path);
    ndx_cleaner_free(c);
    if (st == NDX_ENOTFOUND)
        return NDX_OK;
    if (st == NDX_ECORRUPT) {
        char why[512];

        snprintf(why, sizeof why, "%s", ndx_errmsg());
        return ndx_error(NDX_ECORRUPT,
                         "%s; restore it from a copy, or remove it (the "
                         "next runs learn the furniture anew)",
                         why);
    }
    return st;
}

ndx_status
ndx_index_check(const char *path)
{
    const ndx_engine_ops *xap = ndx_xapian_engine();
    const ndx_engine_ops *ops = NULL;
    ndx_status st;

    if (ndx_native_engine.probe(path))
        ops = &ndx_native_engine;
    else if (xap && xap->probe(path))
        ops = xap;
    if (!ops)
        return ndx_error(NDX_ENOTFOUND, "no newsdex index at %s", path);
    if (!ops->check)
        return ndx_error(NDX_ENOTSUP, "the %s engine has no check",
                         ops->name);
    if ((st = ops->check(path)))
        return st;
    return check_furniture(path);
}
