/*
 * native.c - the native engine: an index directory of immutable segments
 * named by a manifest, behind the engine table of index.h.
 *
 * Directory layout:
 *   ENGINE            the line "native" (written once, durably)
 *   MANIFEST          the live segments and their deletion files
 *                     (manifest.h); replaced atomically on commit
 *   LOCK              flock'ed by the one writer
 *   seg-NNNNNN.ndx    segments (segment.h)
 *   seg-NNNNNN.del-M  deletion files (manifest.h)
 *
 * Writing: articles are analyzed into term sets and buffered in a segment
 * writer; past the memory budget a segment is written (fsynced) but stays
 * invisible until commit.  An article whose id is already present replaces
 * it: the older copy is marked deleted.  Commit writes the remaining
 * segment and the deletion files, then the new manifest, then removes the
 * files no manifest names.  A crash at any point leaves the previous
 * manifest and everything it names intact.
 *
 * Reading: a view (view.h) maps the manifest's segments; refresh swaps
 * in a newer view while searches holding the old one finish.  Query
 * evaluation is exec.c's.
 */
#include "exec.h"
#include "facets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "util/file.h"

/* The merge policy's defaults (see "merging" below; ndx_engine_config
 * may set the first two). */
/* Segments of one tier merged at once (NDX_MERGE_FACTOR, 4): up to 3
 * segments of each tier, a passage rewritten about once per tier.  At a
 * million passages with 100 daily additions of 1%, queries then take
 * 1.01-1.07 times as long as on an index built at once, and a day costs
 * 1.8% of a full build on average (bench/results/updates-1m.md); 8
 * rewrites less but leaves up to 7 segments a tier. */
#define MERGE_FACTOR NDX_MERGE_FACTOR
/* Live passages below which a segment is in tier 0 (about a day of a
 * small news feed). */
#define MERGE_FLOOR 4096
/* Bytes of postings (or of stored text) a merge reads between letting go
 * of its sources' pages (ndx_seg_release). */
#define MERGE_RELEASE (8u << 20)
#define MERGE_DEAD_SEGMENT 0.5
#define MERGE_DEAD_INDEX 0.2

typedef struct idslot {
    uint64_t hash;   /* ndx_hash64 of the id (0 is stored as 1): the key */
    uint32_t where;  /* new segment index, or UINT32_MAX: the writer */
    uint32_t ord;    /* article ordinal */
} idslot;

typedef struct u32list {
    uint32_t *v;
    size_t n, cap;
} u32list;

typedef struct native {
    char *dir;
    unsigned flags;
    int lock_fd;
    pthread_mutex_t mu;
    nview *view;           /* committed state */
    /* writing */
    ndx_segw *w;
    ndx_termset *ts;
    size_t ts_cap;
    size_t memory_bytes;
    size_t outside_bytes;  /* the front's share of the budget */
    size_t resident_check; /* writer's count at which to read the resident
                              memory next (resident_full) */
    uint64_t flush_extra;  /* what writing a segment adds to it */
    ndx_manifest man;      /* as read at open (or empty) */
    ndx_seg **fresh;       /* segments written since the last commit */
    char (*fresh_names)[64];
    size_t fresh_count;
    u32list *fresh_del;    /* deletions in fresh segments */
    u32list w_del;         /* deletions in the writer's segment */
    u32list *view_del;     /* new deletions in view segments */
    uint8_t **view_pend;   /* the same as bitmaps (NULL: none yet) */
    int optimize;          /* merge into one segment at commit */
    unsigned merge_factor; /* segments of one tier merged at once */
    uint64_t merge_floor;  /* passages: smaller segments are tier 0 */
    ndx_htab ids;          /* idslot: ids added since the last commit */
    ndx_status broken;     /* an add or commit failed half-way: no more
                              commits from this writer */
    char warning[640];     /* the last commit's merge failure, or "" */
} native;

static ndx_status
u32list_add(u32list *l, uint32_t x)
{
    if (ndx_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, 16))
        return ndx_error(NDX_ENOMEM, "out of memory (deletions)");
    l->v[l->n++] = x;
    return NDX_OK;
}

/* ---- views -------------------------------------------------------------- */

static void
view_free(nview *v)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < v->count; i++) {
        ndx_seg_close(v->segs[i]);
        free(v->dead[i]);
        free(v->del[i]);
    }
    free(v->segs);
    free(v->dead);
    free(v->del);
    free(v->del_count);
    free(v->pass_base);
    nfacets_cov_free(v->facet_cov);
    ndx_exec_dead_cache_free(v->dead_cache);
    ndx_exec_bound_cache_free(v->bound_cache);
    free(v);
}

static ndx_status
view_load(const char *dir, const ndx_manifest *m, int verify, nview **out)
{
    nview *v = calloc(1, sizeof *v);
    ndx_status st = NDX_OK;
    size_t i, k;
    uint64_t base = 0;
    char path[4096];

    *out = NULL;
    if (!v)
        return ndx_error(NDX_ENOMEM, "out of memory (view)");
    v->refs = 1;
    v->generation = m->generation;
    /* NULL (out of memory) only makes searches slower. */
    v->bound_cache = ndx_exec_bound_cache_new();
    if (m->count) {
        v->segs = calloc(m->count, sizeof *v->segs);
        v->dead = calloc(m->count, sizeof *v->dead);
        v->del = calloc(m->count, sizeof *v->del);
        v->del_count = calloc(m->count, sizeof *v->del_count);
        v->pass_base = calloc(m->count, sizeof *v->pass_base);
        if (!v->segs || !v->dead || !v->del || !v->del_count ||
            !v->pass_base) {
            st = ndx_error(NDX_ENOMEM, "out of memory (view)");
            goto fail;
        }
    }
    for (i = 0; i < m->count; i++) {
        ndx_seg *s;

        snprintf(path, sizeof path, "%s/%s", dir, m->segs[i].name);
        if ((st = ndx_seg_open(&s, path, verify))) {
            if (st == NDX_ENOTFOUND)
                st = ndx_error(NDX_ECORRUPT,
                               "%s: the manifest names a missing segment; "
                               "rebuild the index",
                               path);
            goto fail;
        }
        v->segs[i] = s;
        v->count = i + 1;
        v->pass_base[i] = base;
        base += s->passages;
        v->passages += s->passages;
        v->articles += s->articles;
        v->total_len += s->total_len;
        if (m->segs[i].del[0]) {
            snprintf(path, sizeof path, "%s/%s", dir, m->segs[i].del);
            if ((st = ndx_del_read(path, &v->del[i], &v->del_count[i])))
                goto fail;
            v->dead[i] = calloc(s->articles / 8 + 1, 1);
            if (!v->dead[i]) {
                st = ndx_error(NDX_ENOMEM, "out of memory (view)");
                goto fail;
            }
            for (k = 0; k < v->del_count[i]; k++) {
                uint32_t a = v->del[i][k], p;
                ndx_seg_article art;

                if (ndx_seg_article_get(s, a, &art) != 0) {
                    st = ndx_error(NDX_ECORRUPT,
                                   "%s: deletion of an article that does "
                                   "not exist; rebuild the index",
                                   path);
                    goto fail;
                }
                if (nview_dead(v, i, a))
                    continue;
                v->dead[i][a >> 3] |= (uint8_t)(1u << (a & 7));
                v->articles--;
                v->passages -= art.passages;
                for (p = 0; p < art.passages; p++) {
                    uint32_t len = 0;

                    ndx_seg_passage(s, art.first + p, NULL, &len);
                    v->total_len -= len;
                }
            }
            if (!v->dead_cache)
                v->dead_cache = ndx_exec_dead_cache_new();
        }
    }
    *out = v;
    return NDX_OK;
fail:
    view_free(v);
    return st;
}

/* Reads the manifest and loads its view.  A writer may commit and remove
 * the files of the generation just read before they are opened; then the
 * manifest has moved on, and the newer generation is loaded instead. */
static ndx_status
view_load_current(const char *dir, nview **out)
{
    ndx_manifest m;
    ndx_status st = NDX_OK;
    int tries;

    *out = NULL;
    for (tries = 0; tries < 20; tries++) {
        uint64_t gen;

        if ((st = ndx_manifest_read(dir, &m)))
            return st;
        gen = m.generation;
        /* Checksums verified: a damaged segment is refused, not served. */
        st = view_load(dir, &m, 1, out);
        ndx_manifest_clear(&m);
        if (st == NDX_OK)
            return NDX_OK;
        if (ndx_manifest_read(dir, &m) != NDX_OK)
            return st;
        if (m.generation == gen) {
            ndx_manifest_clear(&m);
            return st;
        }
        ndx_manifest_clear(&m);
    }
    return st;
}

static nview *
view_acquire(native *n)
{
    nview *v;

    pthread_mutex_lock(&n->mu);
    v = n->view;
    if (v)
        v->refs++;
    pthread_mutex_unlock(&n->mu);
    return v;
}

static void
view_release(native *n, nview *v)
{
    int last;

    if (!v)
        return;
    pthread_mutex_lock(&n->mu);
    last = --v->refs == 0;
    pthread_mutex_unlock(&n->mu);
    if (last)
        view_free(v);
}

static void
view_swap(native *n, nview *v)
{
    nview *old;

    pthread_mutex_lock(&n->mu);
    old = n->view;
    n->view = v;
    pthread_mutex_unlock(&n->mu);
    view_release(n, old);
}

/* NDX_ECORRUPT naming the first segment of v found damaged since it was
 * opened (util/mapguard.h, ndx_seg_recheck): checked after every read
 * operation, so that what it read is never answered. */
static ndx_status
view_damage(const nview *v)
{
    size_t i;
    ndx_status st;

    for (i = 0; v && i < v->count; i++)
        if ((st = ndx_seg_damage(v->segs[i])))
            return st;
    return NDX_OK;
}

/* ---- engine table ---------------------------------------------------- */

static int
native_probe(const char *path)
{
    char p[4096];
    struct stat sb;

    snprintf(p, sizeof p, "%s/MANIFEST", path);
    if (stat(p, &sb) != 0)
        return 0;
    snprintf(p, sizeof p, "%s/ENGINE", path);
    {
        FILE *f = fopen(p, "r");
        char line[32] = "";

        if (!f)
            return 1;
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
        return strncmp(line, "native", 6) == 0;
    }
}

static void native_close(void *eng);
static ndx_status pend_alloc(size_t count, u32list **del, uint8_t ***pend);
static void pend_install(native *n, size_t old_count, u32list *del,
                         uint8_t **pend);

static ndx_status
mkdir_p(const char *path)
{
    char tmp[4096];
    char *p;

    snprintf(tmp, sizeof tmp, "%s", path);
    for (p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return ndx_error(NDX_EIO, "mkdir %s: %s", tmp,
                                 strerror(errno));
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return ndx_error(NDX_EIO, "mkdir %s: %s", tmp, strerror(errno));
    return NDX_OK;
}

static ndx_status
native_open(void **out, const char *path, unsigned flags,
            const ndx_engine_config *cfg)
{
    native *n = calloc(1, sizeof *n);
    ndx_status st = NDX_OK;
    char p[4096];

    *out = NULL;
    if (!n || !(n->dir = strdup(path))) {
        free(n);
        return ndx_error(NDX_ENOMEM, "out of memory");
    }
    n->lock_fd = -1;
    n->flags = flags;
    ndx_htab_init(&n->ids, sizeof(idslot), 1024, 50);
    pthread_mutex_init(&n->mu, NULL);
    n->memory_bytes = (cfg && cfg->memory_mb ? cfg->memory_mb : 512) << 20;
    /* Until a write is measured: an eighth of the memory. */
    n->flush_extra = n->memory_bytes / 8;
    n->merge_factor = cfg && cfg->merge_factor > 1 ? cfg->merge_factor
                                                   : MERGE_FACTOR;
    n->merge_floor = cfg && cfg->merge_floor ? cfg->merge_floor : MERGE_FLOOR;
    if (flags & NDX_OPEN_WRITE) {
        struct stat sb;

        if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
            st = ndx_error(NDX_EINVAL,
                           "%s exists and is not a directory; choose "
                           "another index path",
                           path);
            goto fail;
        }
        if ((st = mkdir_p(path)) || (st = ndx_lock_take(path, &n->lock_fd)))
            goto fail;
        /* A native index keeps its ENGINE file: rewriting it here would
         * leave it empty if the writer died before its commit. */
        snprintf(p, sizeof p, "%s/ENGINE", path);
        if (!native_probe(path) &&
            (st = ndx_write_durable(path, p, "native\n", 7)))
            goto fail;
        if ((st = ndx_segw_new(&n->w)))
            goto fail;
        /* Without a spill file the text stays in memory: slower to reach
         * the memory budget's end, never wrong. */
        (void)ndx_segw_spill(n->w, path);
        /* With more than one thread, text compression leaves the thread
         * that reads and inverts. */
        if (cfg && cfg->threads > 1)
            (void)ndx_segw_background(n->w);
        st = ndx_manifest_read(path, &n->man);
        if (st == NDX_ENOTFOUND) {
            memset(&n->man, 0, sizeof n->man);
            st = NDX_OK;
        } else if (st) {
            goto fail;
        }
        if (!(flags & NDX_OPEN_ADD))
            n->man.count = 0; /* replaced at commit; numbering goes on */
        /* Verified, so that --add never carries damage into a merge. */
        if ((st = view_load(path, &n->man, 1, &n->view)) ||
            (st = pend_alloc(n->view->count, &n->view_del, &n->view_pend)))
            goto fail;
    } else {
        st = view_load_current(path, &n->view);
        if (st == NDX_ENOTFOUND)
            st = ndx_error(NDX_ENOTFOUND,
                           "no newsdex index at %s; build one with "
                           "newsdex-index -o %s FILES",
                           path, path);
        if (st)
            goto fail;
    }
    *out = n;
    return NDX_OK;
fail:
    native_close(n);
    return st;
}

/* Marks a view segment's article deleted at the next commit; *found is 0
 * when it already was. */
static ndx_status
view_mark(native *n, size_t seg, uint32_t art, int *found)
{
    uint8_t **pend = &n->view_pend[seg];

    if (!*pend &&
        !(*pend = calloc(n->view->segs[seg]->articles / 8 + 1, 1)))
        return ndx_error(NDX_ENOMEM, "out of memory (deletions)");
    if ((*pend)[art >> 3] & (1u << (art & 7)))
        return NDX_OK;
    (*pend)[art >> 3] |= (uint8_t)(1u << (art & 7));
    *found = 1;
    return u32list_add(&n->view_del[seg], art);
}

/* New, empty lists of pending deletions for a view of count segments. */
static ndx_status
pend_alloc(size_t count, u32list **del, uint8_t ***pend)
{
    *del = calloc(count + 1, sizeof **del);
    *pend = calloc(count + 1, sizeof **pend);
    if (!*del || !*pend) {
        free(*del);
        free(*pend);
        *del = NULL;
        *pend = NULL;
        return ndx_error(NDX_ENOMEM, "out of memory (deletions)");
    }
    return NDX_OK;
}

/* Frees the pending deletions kept for the old_count segments of the
 * view just replaced, and installs new ones (from pend_alloc, so that
 * nothing fails once a manifest is written). */
static void
pend_install(native *n, size_t old_count, u32list *del, uint8_t **pend)
{
    size_t i;

    for (i = 0; n->view_del && i < old_count; i++) {
        free(n->view_del[i].v);
        free(n->view_pend[i]);
    }
    free(n->view_del);
    free(n->view_pend);
    n->view_del = del;
    n->view_pend = pend;
}

/* Marks the live copy of id, if any, as deleted; *found says whether
 * there was one. */
static ndx_status
delete_existing(native *n, const char *id, int *found)
{
    uint64_t h = ndx_hash64(id, strlen(id));
    size_t pos = NDX_HTAB_START, i;
    ndx_status st;
    idslot *e;

    *found = 0;
    if (!h)
        h = 1;
    while ((e = ndx_htab_find(&n->ids, h, &pos)) != NULL) {
        int same = 0;

        if (e->where == UINT32_MAX) {
            same = ndx_segw_find(n->w, id) == (long)e->ord;
        } else {
            ndx_seg_article a;
            const char *aid;
            const ndx_seg *s = n->fresh[e->where];

            same = ndx_seg_article_get(s, e->ord, &a) == 0 &&
                   ndx_seg_article_strings(s, &a, &aid, NULL, NULL) == 0 &&
                   strcmp(aid, id) == 0;
        }
        if (same) {
            st = e->where == UINT32_MAX
                     ? u32list_add(&n->w_del, e->ord)
                     : u32list_add(&n->fresh_del[e->where], e->ord);
            ndx_htab_del(&n->ids, pos);
            *found = 1;
            return st;
        }
    }
    for (i = n->view->count; i-- > 0;) {
        long a = ndx_seg_find(n->view->segs[i], id);

        if (a >= 0 && !nview_dead(n->view, i, (uint32_t)a))
            return view_mark(n, i, (uint32_t)a, found);
    }
    return NDX_OK;
}

static ndx_status
ids_put(native *n, const char *id, uint32_t where, uint32_t ord)
{
    uint64_t h = ndx_hash64(id, strlen(id));
    idslot *e = ndx_htab_add(&n->ids, h ? h : 1);

    if (!e)
        return ndx_error(NDX_ENOMEM, "out of memory (ids)");
    e->where = where;
    e->ord = ord;
    return NDX_OK;
}

static ndx_status
flush_segment(native *n)
{
    char name[64], path[4200];
    ndx_status st;
    ndx_seg *s;
    size_t k, i;
    void *p;

    if (ndx_segw_articles(n->w) == 0)
        return NDX_OK;
    snprintf(name, sizeof name, "seg-%06llu.ndx",
             (unsigned long long)++n->man.next);
    snprintf(path, sizeof path, "%s/%s", n->dir, name);
    if ((st = ndx_segw_flush(n->w, path)) || (st = ndx_seg_open(&s, path, 0)))
        return st;
#if defined(__GLIBC__)
    /* The writer held its terms' lists in many small buffers, now freed;
     * glibc keeps such memory in its heap, and the next segment's terms,
     * other sizes at other places, do not fill it all again: indexing
     * 5,000,000 passages, the resident memory between two segments rose
     * from 255 to 413 MB; given back, it stays near 170-250 MB. */
    malloc_trim(0);
#endif
    k = n->fresh_count;
    if (!(p = realloc(n->fresh, (k + 1) * sizeof *n->fresh))) {
        ndx_seg_close(s);
        return ndx_error(NDX_ENOMEM, "out of memory");
    }
    n->fresh = p;
    n->fresh[k] = s;
    if (!(p = realloc(n->fresh_names, (k + 1) * sizeof *n->fresh_names)))
        return ndx_error(NDX_ENOMEM, "out of memory");
    n->fresh_names = p;
    snprintf(n->fresh_names[k], 64, "%s", name);
    if (!(p = realloc(n->fresh_del, (k + 1) * sizeof *n->fresh_del)))
        return ndx_error(NDX_ENOMEM, "out of memory");
    n->fresh_del = p;
    n->fresh_del[k] = n->w_del;
    memset(&n->w_del, 0, sizeof n->w_del);
    n->fresh_count = k + 1;
    for (i = 0; i < n->ids.cap; i++) {
        idslot *e = ndx_htab_slot(&n->ids, i);

        if (e && e->where == UINT32_MAX)
            e->where = (uint32_t)k;
    }
    return NDX_OK;
}

/* NDX_EINVAL unless n was opened for writing. */
static ndx_status
writable(const native *n)
{
    return n->w ? NDX_OK
                : ndx_error(NDX_EINVAL, "index %s is open for reading only",
                            n->dir);
}

/* Bytes of the table of ids added since the last commit. */
static size_t
ids_memory(const native *n)
{
    return n->ids.cap * n->ids.size;
}

/* Whether the process's resident memory, with what writing a segment
 * adds to it, would pass the memory allowed, held being what the writer
 * counts.  The writer's count leaves out what it does not hold: the
 * libraries, the heap's slack, the front's tables, and what writing the
 * segment takes on top (at 1,000,000 passages, two threads, --memory
 * 128: the resident memory at the start of a write rose from 115 to 141
 * MB over the run with the count near 127, and each write added 4-5 MB,
 * so that the run peaked at 151 MB).  So the resident memory is read when
 * the count has grown by half the room left at the last reading, and what
 * a write adds is taken from the peak the system records: when a write
 * sets a new peak, that peak less the resident memory at its start
 * (flush_measured). */
static int
resident_full(native *n, size_t held)
{
    uint64_t now, peak, room, writer;

    if (held < n->resident_check ||
        ndx_segw_memory(n->w) < n->memory_bytes / 4)
        return 0;
    if (ndx_resident(&now, &peak) != 0) {
        n->resident_check = SIZE_MAX; /* unknown: the count alone */
        return 0;
    }
    writer = ndx_segw_memory(n->w);
    if ((now > writer ? now - writer : 0) + n->flush_extra >
        n->memory_bytes / 2) {
        /* What the writer does not hold takes half the memory: segments
         * small enough to fit beside it would cost more in writes and
         * merges than they save (allsides, --memory 64: 40% more time
         * for the same peak, which the final merge sets). */
        n->resident_check = held + n->memory_bytes / 8;
        return 0;
    }
    if (now + n->flush_extra >= n->memory_bytes)
        return 1;
    room = n->memory_bytes - now - n->flush_extra;
    n->resident_check = held + (room / 2 > (1u << 20) ? room / 2 : 1u << 20);
    return 0;
}

/* Writes the segment, measuring what the write adds to the resident
 * memory (resident_full). */
static ndx_status
flush_measured(native *n)
{
    uint64_t now0 = 0, peak0 = 0, now1, peak1;
    int known = ndx_resident(&now0, &peak0) == 0;
    ndx_status st = flush_segment(n);

    if (known && ndx_resident(&now1, &peak1) == 0 && peak1 > peak0 &&
        peak1 > now0)
        n->flush_extra = peak1 - now0;
    n->resident_check = 0;
    return st;
}

/* Records the id of the article just added as ord, and writes the
 * segment out when the writer, with the ids and what the front holds
 * (native_memory_outside), takes more than the memory allows: these grow
 * with the articles of the run (at 5,000,000 passages, 100 MB), and the
 * writer makes room for them by writing smaller segments; or when the
 * process's resident memory would (resident_full). */
static ndx_status
added(native *n, const char *id, uint32_t ord)
{
    ndx_status st = ids_put(n, id, UINT32_MAX, ord);
    size_t held;

    if (st)
        return st;
    held = ndx_segw_memory(n->w) + ids_memory(n) + n->outside_bytes;
    if (held > n->memory_bytes || resident_full(n, held))
        st = flush_measured(n);
    return st;
}

static void
native_memory_outside(void *eng, size_t bytes)
{
    ((native *)eng)->outside_bytes = bytes;
}

static ndx_status
native_add_analyzed(void *eng, const ndx_article *a, const ndx_passages *p,
                    const ndx_termset *ts)
{
    native *n = eng;
    ndx_status st;
    uint32_t ord;
    int found;

    if ((st = writable(n)) || p->count == 0)
        return st;
    /* A failure below may leave the article half added (its old copy
     * deleted, its postings written, its id not yet recorded): the
     * writer then refuses to commit. */
    if ((st = delete_existing(n, a->id, &found)) ||
        (st = ndx_segw_add(n->w, a, p, ts, &ord)) ||
        (st = added(n, a->id, ord)))
        n->broken = st;
    return st;
}

/* Analyzes and adds one passage at a time, with one term set: memory
 * stays that of a passage however long the article (a 15 MB paragraph
 * splits into thousands of passages). */
static ndx_status
native_add(void *eng, const ndx_article *a, const ndx_passages *p,
           ndx_analyzer *an)
{
    native *n = eng;
    ndx_status st;
    uint32_t ord;
    size_t i;
    int found;

    if ((st = writable(n)) || p->count == 0)
        return st;
    if (n->ts_cap == 0) {
        if (!(n->ts = malloc(sizeof *n->ts)))
            return ndx_error(NDX_ENOMEM, "out of memory (term sets)");
        ndx_termset_init(&n->ts[0]);
        n->ts_cap = 1;
    }
    /* As in native_add_analyzed: a failure half-way breaks the writer. */
    if ((st = delete_existing(n, a->id, &found)) ||
        (st = ndx_segw_add_article(n->w, a, p->count, &ord)))
        goto fail;
    for (i = 0; i < p->count; i++) {
        const char *title = i == 0 && a->title && *a->title ? a->title : NULL;

        if ((st = ndx_termset_build(&n->ts[0], an, title,
                                    title ? strlen(title) : 0,
                                    a->text + p->items[i].off,
                                    p->items[i].len)) ||
            (st = ndx_segw_add_passage(n->w, ord, &n->ts[0],
                                       a->text + p->items[i].off,
                                       p->items[i].len)))
            goto fail;
    }
    if ((st = added(n, a->id, ord)))
        goto fail;
    return NDX_OK;
fail:
    n->broken = st;
    return st;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Writes a deletion file holding old + extra, names it in ms->del. */
static ndx_status
write_del(native *n, ndx_mseg *ms, const uint32_t *old, size_t old_n,
          const u32list *extra)
{
    uint32_t *all;
    size_t k, m = 0;
    char path[4200];
    ndx_status st;

    if (!extra->n)
        return NDX_OK;
    all = malloc((old_n + extra->n) * sizeof *all);
    if (!all)
        return ndx_error(NDX_ENOMEM, "out of memory (deletions)");
    if (old_n) /* old is NULL for a segment with no deletions yet */
        memcpy(all, old, old_n * sizeof *all);
    memcpy(all + old_n, extra->v, extra->n * sizeof *all);
    qsort(all, old_n + extra->n, sizeof *all, cmp_u32);
    for (k = 0; k < old_n + extra->n; k++)
        if (m == 0 || all[m - 1] != all[k])
            all[m++] = all[k];
    snprintf(ms->del, sizeof ms->del, "%.40s.del-%llu", ms->name,
             (unsigned long long)++n->man.next);
    snprintf(path, sizeof path, "%s/%s", n->dir, ms->del);
    st = ndx_del_write(path, all, m);
    free(all);
    return st;
}

/* Removes files of the index that the manifest does not name. */
static void
remove_garbage(const char *dir, const ndx_manifest *m)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4200];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        size_t i;
        int live = 0;

        if (strncmp(e->d_name, "seg-", 4) != 0)
            continue;
        for (i = 0; i < m->count && !live; i++)
            live = strcmp(m->segs[i].name, e->d_name) == 0 ||
                   strcmp(m->segs[i].del, e->d_name) == 0;
        if (!live) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

/* ---- merging ------------------------------------------------------------ *
 *
 * The merge policy is tiered, as Lucene's and tantivy's log merge policies
 * are, with one difference: only adjacent segments merge, and a merge
 * writes their live articles in order, so that the index keeps its passage
 * order (ties between equal scores follow it) and equals, passage for
 * passage, an index built at once from the surviving articles in the
 * order they were last added.
 *
 * A segment's tier comes from its live passages: tier 0 below MERGE_FLOOR,
 * then one tier per factor MERGE_FACTOR (tier t holds MERGE_FLOOR *
 * MERGE_FACTOR^(t-1) to MERGE_FLOOR * MERGE_FACTOR^t - 1 passages).  When
 * MERGE_FACTOR adjacent segments share a tier, the oldest MERGE_FACTOR of
 * them merge into one of the next tier.  New segments arrive at the end, so
 * tiers fall from the oldest segment to the newest and at most
 * MERGE_FACTOR - 1 segments of each tier remain: the segment count grows
 * with the logarithm of the index size, and a passage is rewritten about
 * once per tier.  Dead passages (deleted or replaced articles) are
 * reclaimed by rewriting: a segment with no live article is dropped, one
 * with more than MERGE_DEAD_SEGMENT of its passages dead is rewritten,
 * and while more than MERGE_DEAD_INDEX of all passages are dead the
 * segment with the most dead passages is rewritten; so at most a fifth of
 * the index is dead space.  `--optimize` merges everything into one
 * segment.
 *
 * Each merge is a commit of its own, after the commit that added: the new
 * segment is written and fsynced, then the manifest is replaced.  Readers
 * keep the generation they mapped; a crash leaves the previous manifest.
 */


/*
 * A source's passage map (old id -> new), read by a merge for every
 * posting: a bitmap of the passages kept and the count of kept ones
 * before each word of it.  The kept passages are renumbered in order
 * from base, so that is the whole map in 1.5 bits a passage instead of
 * 32: for the postings of a sparse list, which fall anywhere in it, a
 * look-up stays in the cache instead of missing it (a table of 4 bytes
 * a passage made --optimize of the 5m index take 1.25 times as long).
 */
typedef struct pmap {
    uint64_t *kept;    /* bit i: passage i is kept */
    uint32_t *before;  /* kept passages before word w of kept */
    uint32_t base;     /* new id of the first kept passage */
    uint32_t count;    /* kept passages */
} pmap;

static inline uint32_t
pmap_get(const pmap *p, uint32_t old)
{
    uint64_t w = p->kept[old >> 6];
    unsigned b = old & 63;

    if (!(w >> b & 1))
        return UINT32_MAX;
    return p->base + p->before[old >> 6] +
           (uint32_t)__builtin_popcountll(w & ((1ULL << b) - 1));
}

static void
pmap_free(pmap *p)
{
    free(p->kept);
    free(p->before);
    memset(p, 0, sizeof *p);
}

/* An empty map of n passages: NDX_OK or NDX_ENOMEM. */
static ndx_status
pmap_init(pmap *p, uint64_t n)
{
    size_t words = (size_t)(n / 64) + 1;

    memset(p, 0, sizeof *p);
    p->kept = calloc(words, sizeof *p->kept);
    p->before = calloc(words, sizeof *p->before);
    if (!p->kept || !p->before) {
        pmap_free(p);
        return ndx_error(NDX_ENOMEM, "out of memory (merge)");
    }
    return NDX_OK;
}

/* Keeps passages old..old+n-1, which the writer numbered from to on:
 * the kept passages of a source are given in order, so to follows the
 * ones kept before. */
static ndx_status
pmap_keep(pmap *p, uint32_t old, uint32_t n, uint32_t to)
{
    uint32_t i;

    if (p->count == 0)
        p->base = to;
    if (to != p->base + p->count)
        return ndx_error(NDX_EINVAL, "merge: passages renumbered out of "
                                     "order");
    for (i = old; i < old + n; i++)
        p->kept[i >> 6] |= 1ULL << (i & 63);
    p->count += n;
    return NDX_OK;
}

/* Counts the kept passages before each word, once all are kept. */
static void
pmap_done(pmap *p, uint64_t n)
{
    size_t words = (size_t)(n / 64) + 1, w;
    uint32_t count = 0;

    for (w = 0; w < words; w++) {
        p->before[w] = count;
        count += (uint32_t)__builtin_popcountll(p->kept[w]);
    }
}

typedef struct merge_ctx {
    ndx_segw *w;
    const ndx_seg *s;
    int fd;                /* s's file, read with pread */
    ndx_seg_window *post, *pos_win; /* what is read of its lists */
    const pmap *map;       /* old passage id -> new, UINT32_MAX: dropped */
    uint32_t *pos;
    size_t pos_cap;
    ndx_status st;
} merge_ctx;

/* Gives the writer a term's postings in segment m->s, renumbered; pos_len
 * is the bytes of its positions. */
static int
merge_term(merge_ctx *m, const ndx_seg_term *t, uint64_t pos_len)
{
    ndx_pcur c;

    if ((m->st = ndx_pcur_init_read(&c, m->s, m->fd, t, pos_len, m->post,
                                    m->pos_win)))
        return 1;
    for (; c.id != NDX_PID_END; ndx_pcur_next(&c)) {
        uint32_t np = pmap_get(m->map, c.id), wdf = ndx_pcur_wdf(&c);
        int npos = 0;

        if (np == UINT32_MAX)
            continue;
        if (c.has_pos) {
            if (ndx_grow((void **)&m->pos, &m->pos_cap, wdf, sizeof *m->pos,
                         64) != 0) {
                m->st = ndx_error(NDX_ENOMEM, "out of memory (merge)");
                return 1;
            }
            npos = ndx_pcur_positions(&c, m->pos, wdf);
            if (npos < 0) {
                m->st = ndx_error(NDX_ECORRUPT, "%s: damaged positions",
                                  m->s->path);
                return 1;
            }
        }
        if ((m->st = ndx_segw_term_posting(m->w, np, wdf, m->pos,
                                           (uint32_t)npos)))
            return 1;
    }
    if (c.corrupt) {
        m->st = ndx_error(NDX_ECORRUPT, "%s: damaged postings", m->s->path);
        return 1;
    }
    return 0;
}

/* Opens segment s's file for reading, checking that it is the file
 * mapped. */
static ndx_status
merge_open(const ndx_seg *s, int *fd)
{
    struct stat sb;

    *fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return ndx_error(NDX_EIO, "open %s: %s", s->path, strerror(errno));
    if (fstat(*fd, &sb) != 0 || (uint64_t)sb.st_dev != s->file_dev ||
        (uint64_t)sb.st_ino != s->file_ino ||
        (uint64_t)sb.st_size != s->map_len) {
        close(*fd);
        *fd = -1;
        return ndx_error(NDX_ECORRUPT,
                         "%s: segment replaced while the index was open; "
                         "run the command again",
                         s->path);
    }
    return NDX_OK;
}

/* One source of a merge, its dictionary read one entry ahead: a term's
 * positions end where the next entry's begin. */
typedef struct msrc {
    ndx_seg_walk w;
    ndx_seg_term t, next;        /* the current entry, the one after */
    char term[NDX_SEG_TERM_MAX]; /* the current entry's term */
    size_t len;
    int live, next_live;
    int fd;
    ndx_seg_window post, pos;    /* read ahead in its lists */
} msrc;

/* The entry read ahead becomes the current one, and the next is read:
 * 0, or NDX_ECORRUPT naming the segment. */
static int
msrc_advance(msrc *x)
{
    int r;

    x->t = x->next;
    x->live = x->next_live;
    x->len = x->w.len;
    memcpy(x->term, x->w.term, x->len);
    r = x->live ? ndx_seg_walk_next(&x->w, &x->next) : 0;
    if (r < 0)
        return r;
    x->next_live = r;
    return 0;
}

/* Gives the writer every term of segments first..first+count-1 of v in
 * order, each with its postings from all of them (renumbered by maps),
 * reading their dictionaries side by side as a merge sort does: the
 * writer encodes each term as it ends, so a merge holds one term's
 * postings, not the merged segment's (each source an msrc).  The lists
 * are read with pread (merge_term), so that what the process holds of a
 * source is its dictionary's pages, let go as it goes. */
static ndx_status
merge_terms(merge_ctx *m, const nview *v, size_t first, size_t count,
            const pmap *maps)
{
    msrc *src = calloc(count, sizeof *src);
    char term[NDX_SEG_TERM_MAX];
    uint64_t read_bytes = 0;
    size_t k, len;
    ndx_status st = NDX_OK;
    int r;

    if (!src)
        return ndx_error(NDX_ENOMEM, "out of memory (merge)");
    for (k = 0; k < count; k++)
        src[k].fd = -1;
    for (k = 0; k < count; k++) {
        msrc *x = &src[k];

        if ((st = merge_open(v->segs[first + k], &x->fd)))
            goto done;
        ndx_seg_walk_start(&x->w, v->segs[first + k]);
        r = ndx_seg_walk_next(&x->w, &x->next);
        if (r >= 0) {
            x->next_live = r;
            r = msrc_advance(x);
        }
        if (r < 0) {
            st = (ndx_status)r;
            goto done;
        }
    }
    for (;;) {
        const msrc *low = NULL;

        for (k = 0; k < count; k++) {
            size_t n;
            int c;

            if (!src[k].live)
                continue;
            if (!low) {
                low = &src[k];
                continue;
            }
            n = src[k].len < low->len ? src[k].len : low->len;
            c = memcmp(src[k].term, low->term, n);
            if (c < 0 || (c == 0 && src[k].len < low->len))
                low = &src[k];
        }
        if (!low)
            break;
        len = low->len;
        memcpy(term, low->term, len);
        if ((st = ndx_segw_term_begin(m->w, term, (uint32_t)len)))
            goto done;
        /* Segments in order: their passages were renumbered in order. */
        for (k = 0; k < count; k++) {
            msrc *x = &src[k];
            const ndx_seg *s = v->segs[first + k];
            uint64_t pos_end;

            if (!x->live || x->len != len || memcmp(x->term, term, len) != 0)
                continue;
            pos_end = x->next_live ? x->next.pos_off
                                   : s->sec_len[SEC_POSITIONS];
            if (pos_end < x->t.pos_off) {
                st = ndx_error(NDX_ECORRUPT, "%s: damaged dictionary",
                               s->path);
                goto done;
            }
            m->s = s;
            m->fd = x->fd;
            m->post = &x->post;
            m->pos_win = &x->pos;
            m->map = &maps[k];
            if (merge_term(m, &x->t, pos_end - x->t.pos_off)) {
                st = m->st;
                goto done;
            }
            read_bytes += x->t.post_len;
            if ((r = msrc_advance(x)) < 0) {
                st = (ndx_status)r;
                goto done;
            }
        }
        if ((st = ndx_segw_term_end(m->w)))
            goto done;
        /* The dictionaries are read front to back: what is behind is
         * let go. */
        if (read_bytes > MERGE_RELEASE) {
            for (k = 0; k < count; k++)
                ndx_seg_release(v->segs[first + k]);
            read_bytes = 0;
        }
    }
done:
    for (k = 0; k < count; k++) {
        ndx_seg_release(v->segs[first + k]);
        if (src[k].fd >= 0)
            close(src[k].fd);
        ndx_seg_window_free(&src[k].post);
        ndx_seg_window_free(&src[k].pos);
    }
    free(src);
    return st;
}

/* A dictionary for the passages of segments first..first+count-1 of v
 * that have none: the first one of theirs (NULL when none has one; the
 * merge then compresses all its text again, as a build would). */
static void
merge_dict(const nview *v, size_t first, size_t count,
           const unsigned char **dict, uint32_t *len)
{
    size_t k;

    *dict = NULL;
    *len = 0;
    for (k = 0; k < count && !*dict; k++)
        ndx_seg_text_dict_any(v->segs[first + k], dict, len);
}

/* Reads the n streams of an article's passages, sp[0..n), which lie back
 * to back in s's map, from its file (fd) into b, and points sp at the
 * copies: as for the lists (merge_term), the text a merge copies stays
 * out of the process's resident memory. */
static ndx_status
merge_read_streams(const ndx_seg *s, int fd, ndx_segw_stored *sp, size_t n,
                   ndx_buf *b)
{
    const unsigned char *start = n ? sp[0].stream : NULL, *end = start;
    size_t p, len;
    ssize_t got;

    if (!start)
        return NDX_OK;
    for (p = 0; p < n; p++) {
        if (sp[p].stream != end)
            return NDX_OK; /* not back to back: read through the map */
        end += sp[p].stream_len;
    }
    len = (size_t)(end - start);
    b->len = 0;
    if (ndx_buf_reserve(b, len + 1))
        return ndx_error(NDX_ENOMEM, "out of memory (merge)");
    got = ndx_pread_full(fd, b->data, len, (uint64_t)(start - s->map));
    if (got < 0 || (size_t)got < len)
        return ndx_error(NDX_EIO, "read %s: %s", s->path,
                         got < 0 ? strerror(errno) : "file shortened");
    for (p = 0; p < n; p++)
        sp[p].stream = b->data + (sp[p].stream - start);
    return NDX_OK;
}

/* Writes the live articles of segments first..first+count-1 of v, in
 * order, into one new segment at path.  Their passages' text is copied as
 * it is stored, with its dictionary; passages stored without one are
 * compressed again against a dictionary of the others (merge_dict). */
static ndx_status
merge_run(const nview *v, size_t first, size_t count, const char *dir,
          const char *path)
{
    merge_ctx m;
    pmap *maps = calloc(count, sizeof *maps);
    ndx_seg_textcache tc;
    ndx_buf texts;          /* one article's passage texts, end to end */
    ndx_buf streams;        /* one article's streams as read */
    int fd = -1;            /* the source read, for its streams */
    size_t *toff = NULL;
    const char **tp = NULL;
    uint32_t *tl = NULL, *lens = NULL;
    ndx_segw_stored *sp = NULL;
    const unsigned char *mdict = NULL;
    uint32_t mdict_len = 0;
    size_t cap = 0, k, text_read = 0;
    ndx_status st = NDX_OK;

    memset(&m, 0, sizeof m);
    memset(&tc, 0, sizeof tc);
    ndx_buf_init(&texts);
    ndx_buf_init(&streams);
    if (!maps || (st = ndx_segw_new(&m.w))) {
        st = st ? st : ndx_error(NDX_ENOMEM, "out of memory (merge)");
        goto fail;
    }
    /* As for a build: without the spill file the text stays in memory. */
    (void)ndx_segw_spill(m.w, dir);
    merge_dict(v, first, count, &mdict, &mdict_len);
    for (k = 0; k < count && !st; k++) {
        size_t si = first + k;
        const ndx_seg *s = v->segs[si];
        uint64_t art;

        if (fd >= 0)
            close(fd);
        fd = -1;
        if (mdict && (st = merge_open(s, &fd)))
            goto fail;
        if ((st = pmap_init(&maps[k], s->passages)))
            goto fail;
        for (art = 0; art < s->articles; art++) {
            ndx_seg_article sa;
            ndx_article a;
            const char *id, *title, *url;
            const unsigned char *dict = NULL;
            uint32_t p, fp = 0, dict_len = 0;
            int copy = mdict != NULL;

            if (nview_dead(v, si, (uint32_t)art))
                continue;
            if ((st = ndx_seg_article_read(s, (uint32_t)art, &sa, &id,
                                           &title, &url)))
                goto fail;
            if (sa.passages > cap) {
                size_t nc = sa.passages;

                cap = nc;
                free(tp);
                free(tl);
                free(lens);
                free(toff);
                free(sp);
                tp = malloc(nc * sizeof *tp);
                tl = malloc(nc * sizeof *tl);
                lens = malloc(nc * sizeof *lens);
                toff = malloc(nc * sizeof *toff);
                sp = malloc(nc * sizeof *sp);
                if (!tp || !tl || !lens || !toff || !sp) {
                    st = ndx_error(NDX_ENOMEM, "out of memory (merge)");
                    goto fail;
                }
            }
            /* Streams are copied when the article's passages share one
             * dictionary (a run never splits an article); else, or
             * without a dictionary, the text is compressed again. */
            for (p = 0; p < sa.passages && copy; p++) {
                ndx_seg_stream ss;

                if ((st = ndx_seg_text_stream(s, sa.first + p, &ss)))
                    goto fail;
                if (p == 0) {
                    dict = ss.dict;
                    dict_len = ss.dict_len;
                }
                if (ss.dict_len == 0 || ss.dict != dict) {
                    copy = 0;
                    break;
                }
                memset(&sp[p], 0, sizeof sp[p]);
                sp[p].stream = ss.stream;
                sp[p].stream_len = ss.stream_len;
                sp[p].text_len = ss.text_len;
                ndx_seg_passage(s, sa.first + p, NULL, &sp[p].length);
            }
            if (copy && (st = merge_read_streams(s, fd, sp, sa.passages,
                                                 &streams)))
                goto fail;
            if (!copy) {
                /* Passages are read in order, so each is inflated once;
                 * an article's texts are copied out, as they are given
                 * together. */
                texts.len = 0;
                for (p = 0; p < sa.passages; p++) {
                    const char *t;

                    if ((st = ndx_seg_text_cached(s, sa.first + p, &tc, &t,
                                                  &tl[p])))
                        goto fail;
                    toff[p] = texts.len;
                    if ((st = ndx_buf_put(&texts, t, tl[p])) ||
                        (st = ndx_buf_putc(&texts, '\0')))
                        goto fail;
                    ndx_seg_passage(s, sa.first + p, NULL, &lens[p]);
                }
                for (p = 0; p < sa.passages; p++) {
                    tp[p] = (const char *)texts.data + toff[p];
                    memset(&sp[p], 0, sizeof sp[p]);
                    sp[p].text = tp[p];
                    sp[p].text_len = tl[p];
                    sp[p].length = lens[p];
                }
            }
            memset(&a, 0, sizeof a);
            a.id = (char *)id;
            a.title = (char *)title;
            a.url = (char *)url;
            a.source = (char *)s->sources[sa.source].name;
            a.date_days = sa.date_days;
            a.time_secs = sa.time_secs;
            if (!mdict)
                st = ndx_segw_add_raw(m.w, &a, sa.passages, tp, tl, lens,
                                      &fp);
            else if (copy)
                st = ndx_segw_add_stored(m.w, &a, sa.passages, sp, dict,
                                         dict_len, &fp);
            else
                st = ndx_segw_add_stored(m.w, &a, sa.passages, sp, mdict,
                                         mdict_len, &fp);
            if (st)
                goto fail;
            if ((st = pmap_keep(&maps[k], sa.first, sa.passages, fp)))
                goto fail;
            /* The source's text is read once, in order: let go of its
             * pages as it is read (a large source holds hundreds of MB). */
            for (p = 0; p < sa.passages; p++)
                text_read += 64 + sp[p].text_len / 2;
            if (text_read > MERGE_RELEASE) {
                ndx_seg_release(s);
                text_read = 0;
            }
        }
        ndx_seg_release(s);
    }
    for (k = 0; k < count; k++)
        pmap_done(&maps[k], v->segs[first + k]->passages);
    if ((st = merge_terms(&m, v, first, count, maps)))
        goto fail;
    st = ndx_segw_flush(m.w, path);
fail:
    for (k = 0; maps && k < count; k++)
        pmap_free(&maps[k]);
    free(maps);
    ndx_buf_free(&texts);
    ndx_buf_free(&streams);
    if (fd >= 0)
        close(fd);
    ndx_buf_free(&tc.raw);
    free(toff);
    free(tp);
    free(tl);
    free(lens);
    free(sp);
    free(m.pos);
    ndx_segw_free(m.w);
    return st;
}

/* Passages of segment i of v whose articles are deleted. */
static uint64_t
view_dead_passages(const nview *v, size_t i)
{
    uint64_t dead = 0;
    size_t k;

    for (k = 0; k < v->del_count[i]; k++) {
        ndx_seg_article art;

        if (ndx_seg_article_get(v->segs[i], v->del[i][k], &art) == 0)
            dead += art.passages;
    }
    return dead;
}

static unsigned
merge_tier(const native *n, uint64_t live)
{
    unsigned t = 0;
    uint64_t bound = n->merge_floor;

    while (live >= bound && t < 60) {
        t++;
        bound *= n->merge_factor;
    }
    return t;
}

/* Picks the next merge for view v: segments [*first, *first + *count)
 * to be replaced by one holding their live articles (*count of 0: none).
 * See the policy above. */
static ndx_status
merge_plan(const native *n, const nview *v, size_t *first, size_t *count)
{
    uint64_t *live, *dead, dead_all = 0, all = 0, worst = 0;
    size_t i, k;

    *first = *count = 0;
    if (v->count == 0)
        return NDX_OK;
    live = calloc(v->count, sizeof *live);
    dead = calloc(v->count, sizeof *dead);
    if (!live || !dead) {
        free(live);
        free(dead);
        return ndx_error(NDX_ENOMEM, "out of memory (merge)");
    }
    for (i = 0; i < v->count; i++) {
        dead[i] = view_dead_passages(v, i);
        live[i] = v->segs[i]->passages - dead[i];
        dead_all += dead[i];
        all += v->segs[i]->passages;
    }
    if (n->optimize) {
        if (v->count > 1 || dead_all)
            *count = v->count;
        goto done;
    }
    for (i = 0; i < v->count; i++) {
        if (live[i] == 0 ||
            (double)dead[i] > MERGE_DEAD_SEGMENT * (double)(live[i] + dead[i])) {
            *first = i;
            *count = 1;
            goto done;
        }
    }
    /* Dead space below a tier-0 segment's worth is not worth a rewrite. */
    if (dead_all >= n->merge_floor &&
        (double)dead_all > MERGE_DEAD_INDEX * (double)all) {
        for (i = 0; i < v->count; i++)
            if (dead[i] > worst) {
                worst = dead[i];
                *first = i;
                *count = 1;
            }
        goto done;
    }
    for (i = 0; i < v->count; i = k) {
        unsigned t = merge_tier(n, live[i]);

        for (k = i + 1; k < v->count && merge_tier(n, live[k]) == t; k++)
            ;
        if (k - i >= n->merge_factor) {
            *first = i;
            *count = n->merge_factor;
            goto done;
        }
    }
done:
    free(live);
    free(dead);
    return NDX_OK;
}

/* After a commit: merges as the policy (or --optimize) asks, each merge a
 * commit of its own.  As in commit, everything the new state needs is
 * made before the manifest is written.  On failure the index is as the
 * last commit left it. */
static ndx_status
merge_all(native *n)
{
    ndx_status st = NDX_OK;
    int rounds;

    for (rounds = 0; rounds < 1000; rounds++) {
        nview *v = n->view, *nv = NULL;
        size_t first, count, i, old_count = v->count;
        char name[64] = "", path[4200];
        uint64_t live = 0;
        ndx_manifest m;
        u32list *del = NULL;
        uint8_t **pend = NULL;

        if ((st = merge_plan(n, v, &first, &count)))
            return st;
        if (count == 0)
            break;
        for (i = first; i < first + count; i++)
            live += v->segs[i]->passages - view_dead_passages(v, i);
        /* A run with nothing live is dropped without writing anything. */
        if (live) {
            snprintf(name, sizeof name, "seg-%06llu.ndx",
                     (unsigned long long)++n->man.next);
            snprintf(path, sizeof path, "%s/%s", n->dir, name);
            st = merge_run(v, first, count, n->dir, path);
#if defined(__GLIBC__)
            /* As after writing a segment (flush_segment): the merge's
             * buffers go back to the system, not to the next merge's
             * heap. */
            malloc_trim(0);
#endif
            if (st)
                return st;
            if ((st = view_damage(v))) {
                unlink(path); /* made from a segment truncated under it */
                return st;
            }
        }
        memset(&m, 0, sizeof m);
        for (i = 0; i < v->count && !st; i++) {
            if (i == first && live)
                st = ndx_manifest_push(&m, name, NULL);
            else if (i < first || i >= first + count)
                st = ndx_manifest_push(&m, n->man.segs[i].name,
                                       n->man.segs[i].del);
        }
        m.generation = n->man.generation + 1;
        m.next = n->man.next;
        if (st || (st = pend_alloc(m.count, &del, &pend)) ||
            (st = view_load(n->dir, &m, 0, &nv)) ||
            (st = ndx_manifest_write(n->dir, &m))) {
            view_free(nv);
            free(del);
            free(pend);
            ndx_manifest_clear(&m);
            return st;
        }
        remove_garbage(n->dir, &m);
        view_swap(n, nv);
        pend_install(n, old_count, del, pend);
        ndx_manifest_clear(&n->man);
        n->man = m;
        n->optimize = 0;
    }
    return st;
}

/* Closes the segments written since the last commit and forgets them. */
static void
fresh_free(native *n)
{
    size_t i;

    for (i = 0; i < n->fresh_count; i++) {
        ndx_seg_close(n->fresh[i]);
        free(n->fresh_del[i].v);
    }
    free(n->fresh);
    free(n->fresh_names);
    free(n->fresh_del);
    n->fresh = NULL;
    n->fresh_names = NULL;
    n->fresh_del = NULL;
    n->fresh_count = 0;
}

static ndx_status
native_commit(void *eng)
{
    native *n = eng;
    ndx_manifest m;
    ndx_status st;
    size_t i, old_count;
    nview *v = NULL;
    u32list *view_del = NULL;
    uint8_t **view_pend = NULL;

    if ((st = writable(n)))
        return st;
    n->warning[0] = '\0';
    if (n->broken)
        return ndx_error(n->broken,
                         "%s: an earlier add or commit failed, so nothing "
                         "more is committed from this writer; the index is "
                         "as its last commit left it: open it again and "
                         "add again",
                         n->dir);
    memset(&m, 0, sizeof m);
    old_count = n->view->count;
    if ((st = flush_segment(n)))
        goto fail;
    for (i = 0; i < n->view->count; i++) {
        if ((st = ndx_manifest_push(&m, n->man.segs[i].name,
                                    n->man.segs[i].del)) ||
            (st = write_del(n, &m.segs[m.count - 1], n->view->del[i],
                            n->view->del_count[i], &n->view_del[i])))
            goto fail;
    }
    for (i = 0; i < n->fresh_count; i++) {
        if ((st = ndx_manifest_push(&m, n->fresh_names[i], NULL)) ||
            (st = write_del(n, &m.segs[m.count - 1], NULL, 0,
                            &n->fresh_del[i])))
            goto fail;
    }
    m.generation = n->man.generation + 1;
    m.next = n->man.next;
    /* Everything the new state needs is made before the manifest is
     * written: after it, nothing may fail, or this writer and the index
     * on disk would disagree (a next commit reusing the generation). */
    if ((st = pend_alloc(m.count, &view_del, &view_pend)) ||
        (st = view_load(n->dir, &m, 0, &v)) ||
        (st = ndx_manifest_write(n->dir, &m)))
        goto fail;
    remove_garbage(n->dir, &m);
    /* The committed state becomes the base for what comes next. */
    view_swap(n, v);
    fresh_free(n);
    pend_install(n, old_count, view_del, view_pend);
    ndx_htab_free(&n->ids);
    ndx_manifest_clear(&n->man);
    n->man = m;
    /* The commit above is durable; merging commits again, or on failure
     * leaves the index as that commit left it: the commit succeeded, and
     * the failure is a warning (the next commit plans the merges anew). */
    if (merge_all(n) != NDX_OK)
        snprintf(n->warning, sizeof n->warning,
                 "merging segments failed: %s; the index is intact (%zu "
                 "segment%s) and %s",
                 ndx_errmsg(), n->view->count,
                 n->view->count == 1 ? "" : "s",
                 n->optimize ? "is not merged into one segment"
                             : "will merge at the next commit");
    n->optimize = 0;
    return NDX_OK;
fail:
    /* Segments, deletions and ids may be half moved: this writer commits
     * no more (the index keeps its last commit). */
    n->broken = st;
    view_free(v);
    free(view_del);
    free(view_pend);
    ndx_manifest_clear(&m);
    return st;
}

static const char *
native_commit_warning(void *eng)
{
    native *n = eng;

    return n->warning[0] ? n->warning : NULL;
}

static ndx_status
native_remove(void *eng, const char *id)
{
    native *n = eng;
    ndx_status st;
    int found;

    if ((st = writable(n)))
        return st;
    /* A failure half-way may leave the deletion half recorded: the
     * writer then refuses to commit, as for an add. */
    if ((st = delete_existing(n, id, &found))) {
        n->broken = st;
        return st;
    }
    if (!found)
        return ndx_error(NDX_ENOTFOUND, "no article with id '%s'", id);
    return NDX_OK;
}

static ndx_status
native_optimize(void *eng)
{
    native *n = eng;
    ndx_status st = writable(n);

    if (!st)
        n->optimize = 1;
    return st;
}



static ndx_status
native_search(void *eng, const ndx_query *q, const ndx_search_opts *o,
              ndx_results *into)
{
    native *n = eng;
    nview *v = view_acquire(n);
    ndx_status st, dst;

    if (!v)
        return ndx_error(NDX_EINVAL, "index %s has no committed data",
                         n->dir);
    st = ndx_exec_search(v, q, o, into);
    if ((dst = view_damage(v)))
        st = dst;
    view_release(n, v);
    return st;
}

static ndx_status
native_get(void *eng, const char *id, ndx_doc **out)
{
    native *n = eng;
    nview *v = view_acquire(n);
    ndx_status st = NDX_OK, dst;
    ndx_doc *d = NULL;
    ndx_buf b;
    size_t i;

    *out = NULL;
    ndx_buf_init(&b);
    for (i = v ? v->count : 0; i-- > 0;) {
        const ndx_seg *s = v->segs[i];
        long a = ndx_seg_find(s, id);
        ndx_seg_article art;
        const char *aid, *title, *url;
        uint32_t p;

        if (a < 0 || nview_dead(v, i, (uint32_t)a))
            continue;
        if ((st = ndx_seg_article_read(s, (uint32_t)a, &art, &aid, &title,
                                       &url)))
            goto fail;
        d = calloc(1, sizeof *d);
        if (!d || !(d->passages = calloc(art.passages + 1, sizeof(char *))) ||
            !(d->id = strdup(aid)) || !(d->title = strdup(title)) ||
            !(d->url = strdup(url)) ||
            !(d->source = strdup(s->sources[art.source].name))) {
            st = ndx_error(NDX_ENOMEM, "out of memory");
            goto fail;
        }
        d->date_days = art.date_days;
        for (p = 0; p < art.passages; p++) {
            if ((st = ndx_seg_text(s, art.first + p, &b)))
                goto fail;
            d->passages[p] = strdup((const char *)b.data);
            if (!d->passages[p]) {
                st = ndx_error(NDX_ENOMEM, "out of memory");
                goto fail;
            }
            d->passage_count = p + 1;
        }
        break;
    }
    if (!d)
        st = ndx_error(NDX_ENOTFOUND, "no article with id '%s'", id);
fail:
    if ((dst = view_damage(v)))
        st = dst; /* what was read (or not found) came from a damaged map */
    ndx_buf_free(&b);
    view_release(n, v);
    if (st) {
        ndx_doc_free(d);
        return st;
    }
    *out = d;
    return NDX_OK;
}

static int
native_each_passage(void *eng, ndx_passage_fn fn, void *ctx)
{
    native *n = eng;
    nview *v = view_acquire(n);
    ndx_seg_textcache tc;
    int rc = 0;
    size_t i;

    memset(&tc, 0, sizeof tc);
    for (i = 0; v && i < v->count && !rc; i++) {
        const ndx_seg *s = v->segs[i];
        uint32_t a, p;

        for (a = 0; a < s->articles && !rc; a++) {
            ndx_seg_article art;
            const char *aid, *title, *url, *text;
            uint32_t len;

            if (nview_dead(v, i, a))
                continue;
            if ((rc = ndx_seg_article_read(s, a, &art, &aid, &title, &url)))
                break;
            for (p = 0; p < art.passages && !rc; p++) {
                if ((rc = ndx_seg_text_cached(s, art.first + p, &tc, &text,
                                              &len)))
                    break;
                rc = fn(ctx, aid, text, len);
            }
        }
    }
    if (rc >= 0) {
        ndx_status dst = view_damage(v);

        if (dst)
            rc = dst;
    }
    ndx_buf_free(&tc.raw);
    view_release(n, v);
    return rc;
}

typedef struct srcacc {
    char *key, *name;
    uint64_t count;
} srcacc;

static int
cmp_src(const void *a, const void *b)
{
    const ndx_source_count *x = a, *y = b;

    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

static uint64_t
file_size(const char *dir, const char *name)
{
    char p[4200];
    struct stat sb;

    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static ndx_status
native_stats(void *eng, ndx_stats *out)
{
    native *n = eng;
    nview *v = view_acquire(n);
    ndx_status st = NDX_OK, dst;
    srcacc *acc = NULL;
    size_t acc_n = 0, i, k;
    int counted;

    memset(out, 0, sizeof *out);
    out->engine = "native";
    out->first_days = out->last_days = NDX_DATE_NONE;
    if (!v)
        return NDX_OK;
    out->generation = v->generation;
    out->articles = v->articles;
    out->passages = v->passages;
    out->tokens = v->total_len;
    out->segments = v->count;
    out->bytes_other = file_size(n->dir, "MANIFEST");
    /* A term in several segments counts once: the count walks every
     * dictionary, once per generation. */
    pthread_mutex_lock(&n->mu);
    counted = v->distinct_ok;
    out->terms = v->distinct_terms;
    pthread_mutex_unlock(&n->mu);
    if (!counted && v->count) {
        if ((st = ndx_seg_distinct_terms(v->segs, v->count, &out->terms)))
            goto fail;
        pthread_mutex_lock(&n->mu);
        v->distinct_terms = out->terms;
        v->distinct_ok = 1;
        pthread_mutex_unlock(&n->mu);
    }
    for (i = 0; i < v->count; i++) {
        const ndx_seg *s = v->segs[i];
        uint32_t *map;
        uint64_t a;

        out->bytes_postings += s->sec_len[SEC_DICT] +
                               s->sec_len[SEC_DICTIDX] +
                               s->sec_len[SEC_POSTINGS] +
                               s->sec_len[SEC_POSITIONS];
        out->bytes_text += s->sec_len[SEC_TEXT] + s->sec_len[SEC_TEXTIDX] +
                           s->sec_len[SEC_TEXTDICT] +
                           s->sec_len[SEC_TEXTDICTS];
        out->bytes_other += s->map_len - s->sec_len[SEC_DICT] -
                            s->sec_len[SEC_DICTIDX] -
                            s->sec_len[SEC_POSTINGS] -
                            s->sec_len[SEC_POSITIONS] -
                            s->sec_len[SEC_TEXT] - s->sec_len[SEC_TEXTIDX] -
                            s->sec_len[SEC_TEXTDICT] -
                            s->sec_len[SEC_TEXTDICTS];
        if (n->man.count > i && n->man.segs[i].del[0])
            out->bytes_other += file_size(n->dir, n->man.segs[i].del);
        map = calloc(s->source_count + 1, sizeof *map);
        if (!map) {
            st = ndx_error(NDX_ENOMEM, "out of memory");
            goto fail;
        }
        for (k = 0; k < s->source_count; k++) {
            size_t j;

            for (j = 0; j < acc_n; j++)
                if (strcmp(acc[j].key, s->sources[k].key) == 0)
                    break;
            if (j == acc_n) {
                srcacc *na = realloc(acc, (acc_n + 1) * sizeof *na);

                if (!na) {
                    free(map);
                    st = ndx_error(NDX_ENOMEM, "out of memory");
                    goto fail;
                }
                acc = na;
                acc[j].key = (char *)s->sources[k].key;
                acc[j].name = (char *)s->sources[k].name;
                acc[j].count = 0;
                acc_n++;
            }
            map[k] = (uint32_t)j;
        }
        for (a = 0; a < s->articles; a++) {
            ndx_seg_article art;

            if (nview_dead(v, i, (uint32_t)a) ||
                ndx_seg_article_get(s, (uint32_t)a, &art) != 0)
                continue;
            acc[map[art.source]].count++;
            if (art.date_days == NDX_DATE_NONE) {
                out->undated++;
                continue;
            }
            if (out->first_days == NDX_DATE_NONE ||
                art.date_days < out->first_days)
                out->first_days = art.date_days;
            if (out->last_days == NDX_DATE_NONE ||
                art.date_days > out->last_days)
                out->last_days = art.date_days;
        }
        free(map);
    }
    out->sources = calloc(acc_n + 1, sizeof *out->sources);
    if (!out->sources) {
        st = ndx_error(NDX_ENOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < acc_n; i++) {
        if (!acc[i].count)
            continue;
        out->sources[out->source_count].name = strdup(acc[i].name);
        out->sources[out->source_count].count = acc[i].count;
        if (!out->sources[out->source_count].name) {
            st = ndx_error(NDX_ENOMEM, "out of memory");
            goto fail;
        }
        out->source_count++;
    }
    qsort(out->sources, out->source_count, sizeof *out->sources, cmp_src);
fail:
    if ((dst = view_damage(v)))
        st = dst;
    free(acc);
    view_release(n, v);
    if (st)
        ndx_stats_clear(out);
    return st;
}

static int
native_refresh(void *eng)
{
    native *n = eng;
    ndx_manifest m;
    nview *v;
    ndx_status st;
    uint64_t gen, newest;
    size_t i;

    if (n->w)
        return 0;
    /* The open segments are still the files that were verified (a copy
     * over a live index is caught here even when no new commit came). */
    v = view_acquire(n);
    for (i = 0; v && i < v->count; i++)
        (void)ndx_seg_recheck(v->segs[i]);
    view_release(n, v);
    st = ndx_manifest_read(n->dir, &m);
    if (st)
        return st;
    pthread_mutex_lock(&n->mu);
    gen = n->view ? n->view->generation : 0;
    pthread_mutex_unlock(&n->mu);
    newest = m.generation;
    ndx_manifest_clear(&m);
    if (newest == gen)
        return 0;
    if ((st = view_load_current(n->dir, &v)))
        return st;
    view_swap(n, v);
    return 1;
}

static void
native_close(void *eng)
{
    native *n = eng;
    size_t i;

    if (!n)
        return;
    if (n->view_del && n->view_pend) {
        for (i = 0; n->view && i < n->view->count; i++) {
            free(n->view_del[i].v);
            free(n->view_pend[i]);
        }
    }
    free(n->view_del);
    free(n->view_pend);
    view_release(n, n->view);
    ndx_segw_free(n->w);
    for (i = 0; i < n->ts_cap; i++)
        ndx_termset_free(&n->ts[i]);
    free(n->ts);
    fresh_free(n);
    free(n->w_del.v);
    ndx_htab_free(&n->ids);
    ndx_manifest_clear(&n->man);
    ndx_lock_release(n->lock_fd);
    pthread_mutex_destroy(&n->mu);
    free(n->dir);
    free(n);
}

static ndx_status
native_check(const char *path)
{
    ndx_manifest m;
    nview *v;
    ndx_status st;
    size_t i;

    if ((st = ndx_manifest_read(path, &m)))
        return st;
    st = view_load(path, &m, 1, &v);
    ndx_manifest_clear(&m);
    if (st)
        return st;
    for (i = 0; i < v->count && !st; i++)
        st = ndx_seg_check(v->segs[i]);
    view_free(v);
    return st;
}

const ndx_engine_ops ndx_native_engine = {
    .version = NDX_ENGINE_OPS_VERSION,
    .name = "native",
    .probe = native_probe,
    .open = native_open,
    .add = native_add,
    .commit = native_commit,
    .search = native_search,
    .get = native_get,
    .stats = native_stats,
    .refresh = native_refresh,
    .thread_safe = 1,
    .close = native_close,
    .check = native_check,
    .add_analyzed = native_add_analyzed,
    .remove = native_remove,
    .optimize = native_optimize,
    .commit_warning = native_commit_warning,
    .each_passage = native_each_passage,
    .memory_outside = native_memory_outside,
};
