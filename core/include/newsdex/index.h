/*
 * newsdex/index.h - an index: open, add articles, commit, search, get,
 * stats.  Engine authors also need newsdex/sys/engine.h (the engine table
 * and the helpers that fill results).
 *
 * ndx_index is the front: it splits articles into passages, picks the
 * analyzer for the article's language, hands both to the engine, and after
 * a search turns each hit's passage text into a highlighted snippet.  The
 * engine (native or xapian) stores, ranks with BM25 over passages and
 * groups by article.  An index opened for reading is immutable and may be
 * searched from several threads only if ndx_index_thread_safe() says so;
 * otherwise open one per thread (the Xapian engine).
 */
#ifndef NEWSDEX_INDEX_H
#define NEWSDEX_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/analyze.h"
#include "newsdex/article.h"
#include "newsdex/ingest.h"
#include "newsdex/query.h"
#include "newsdex/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    NDX_OPEN_READ = 0,        /* search only */
    NDX_OPEN_WRITE = 1u << 0, /* create, or replace the content on commit */
    NDX_OPEN_ADD = 1u << 1    /* with WRITE: keep what is there, add to it */
};

typedef enum ndx_sort {
    NDX_SORT_RELEVANCE = 0, /* score, then passage order */
    NDX_SORT_NEWEST,        /* date descending, then score */
    NDX_SORT_OLDEST         /* date ascending, then score */
} ndx_sort;

typedef enum ndx_group {
    NDX_GROUP_ARTICLE = 0, /* best passage per article */
    NDX_GROUP_PASSAGE      /* every matching passage */
} ndx_group;

/* BM25 parameters (DESIGN section 6). */
typedef struct ndx_bm25 {
    double k1;          /* 1.2 */
    double k2;          /* 0: no extra part */
    double k3;          /* 1 */
    double b;           /* 0.75 */
    double min_normlen; /* 0.5 */
} ndx_bm25;

void ndx_bm25_init(ndx_bm25 *p);

/* A search keeps the best offset + k candidates in memory: these bound
 * what one call may ask for (NDX_EINVAL beyond), whatever the program
 * lets its users ask (newsdex-search: k <= 1000, offset <= 100000). */
#define NDX_SEARCH_K_MAX 100000
#define NDX_SEARCH_OFFSET_MAX 1000000
#define NDX_SNIPPET_LEN_MAX 65536

/* Facets a search may count (ndx_search_opts.facets, a set of these). */
enum {
    NDX_FACET_SOURCE = 1u << 0, /* matching articles by source */
    NDX_FACET_YEAR = 1u << 1,   /* ... by year of their date */
    NDX_FACET_MONTH = 1u << 2,  /* ... by month */
    NDX_FACET_DAY = 1u << 3     /* ... by day */
};

/* Where a listing stands: the sort key of one of its hits (the hit's
 * date_days, score and order), for keyset paging (ndx_search_opts.after).
 * The hits after it are those that rank after it in the search's order:
 * by relevance, a lower score, or the same score and a greater order; by
 * date, an earlier (newest) or later (oldest) date, or the same date and
 * then as by relevance. */
typedef struct ndx_search_key {
    int32_t date_days;  /* the hit's date_days (NDX_DATE_NONE: undated) */
    double score;       /* the hit's score */
    uint64_t order;     /* the hit's order */
} ndx_search_key;

struct ndx_results; /* below */

typedef struct ndx_search_opts {
    size_t k;               /* hits to return (10), <= NDX_SEARCH_K_MAX */
    size_t offset;          /* hits to skip (0), <= NDX_SEARCH_OFFSET_MAX */
    ndx_sort sort;
    ndx_group group;
    int32_t from_days;      /* extra filter, NDX_DATE_NONE = open */
    int32_t to_days;        /* extra filter, NDX_DATE_NONE = open */
    const char *const *sources; /* extra filter: display names or keys; OR */
    size_t source_count;
    ndx_bm25 bm25;
    int snippets;           /* 1: fill ndx_hit.snippet (default 1) */
    size_t snippet_len;     /* bytes of passage text around matches (240) */
    double budget_ms;       /* 0: no limit; else NDX_ETIMEOUT past it */
    int exact_total;        /* 1: count every match (no pruning); 0: the
                               total is exact up to exact_upto and a
                               lower bound beyond (default 0) */
    uint64_t exact_upto;    /* matches counted exactly before pruning
                               starts (NDX_TOTAL_EXACT_UPTO) */
    unsigned facets;        /* NDX_FACET_* to count (0: none) */
    size_t facet_limit;     /* sources listed at most (20); 0: all */
    size_t text_hits;       /* 0: every hit carries its passage text (and
                               snippet); else only the first text_hits
                               hits of the page need to, and an engine
                               may leave the text of the others NULL and
                               count fewer than all of their matches */
    int collapse_titles;    /* 1 (default): grouped by article, the hits
                               of one source with one title (compared
                               folded: case, accents, spaces and
                               punctuation aside; empty titles never) are
                               shown once, the first, which lists the
                               others in same_title; 0: each shown */
    int fold_clusters;      /* 1 (default): grouped by article, a cluster of
                               near-identical articles of several sources
                               is shown once, its first hit, which lists
                               the others' sources in also_in; 0: every
                               matching article is a hit */
    int (*more)(void *ctx, struct ndx_results *r); /* NULL (default):
                               offset + k hits.  Else, grouped by article
                               and by relevance without a key, a search
                               that counted every match (it never
                               pruned) and found more may, after the
                               first offset + k hits, call it and, while
                               it returns 1, append the next offset + k
                               with their text (and give the earlier hits
                               theirs).  When it returns 0 the search
                               ends and leaves the hits as more left them.
                               ndx_index_search sets its own when it
                               folds or collapses (fold_clusters or
                               collapse_titles, grouped by article): it
                               folds and collapses the hits there when
                               the page is full. */
    void *more_ctx;
    int distinct_titles;    /* 0 (default).  1: grouped by article, by
                               relevance, from the start of the listing
                               (offset 0, no key), an engine may rank one
                               article per collapse_titles key: the k best
                               keys' articles, each with the others of
                               its key that rank above the k-th (so more
                               than k hits), which folding and collapsing
                               make the same page as without it, at the
                               cost of a search for k keys instead of one
                               for as many hits as collapsing needs.
                               ndx_index_search asks for it when it
                               collapses titles; an engine may ignore it
                               (the Xapian engine does) */
    const ndx_search_key *after; /* NULL (default): the listing from its
                               start; else only the hits that rank after
                               this key (offset then counts from there),
                               each page costing about what the first
                               does however far in: keyset paging with
                               the key of the last hit of the page before
                               (ndx_search_key_of).  Needs fold_clusters
                               and collapse_titles 0 when grouped by
                               article, as both look at the hits before
                               the page (NDX_EINVAL otherwise).  total
                               and facets count the matches as without
                               a key.  A key is only good for the index
                               (commit) it came from: a commit between
                               two pages may change scores and orders. */
} ndx_search_opts;

/* Matching articles (passages with NDX_GROUP_PASSAGE) counted exactly
 * before a search may skip what cannot reach the top k; beyond it the
 * total is a lower bound (ndx_results.total_exact = 0). */
#define NDX_TOTAL_EXACT_UPTO 1000

void ndx_search_opts_init(ndx_search_opts *o);

/* A hit collapsed into an earlier one of its source and title
 * (ndx_search_opts.collapse_titles). */
typedef struct ndx_same_title {
    const char *article;  /* article id */
    int32_t date_days;    /* NDX_DATE_NONE when unknown */
} ndx_same_title;

typedef struct ndx_hit {
    const char *article;  /* article id */
    uint32_t passage;     /* passage number within the article, from 0 */
    double score;         /* BM25 */
    int32_t date_days;    /* NDX_DATE_NONE when unknown */
    const char *source;   /* display name */
    const char *title;
    const char *url;
    const char *text;     /* the passage text (engine fills) */
    const char *snippet;  /* highlighted with <b>..</b>, or NULL */
    uint32_t matches;     /* matching passages of the article */
    uint64_t order;       /* engine-wide passage ordinal (tie-break) */
    const char *const *also_in; /* sources of the near-identical articles
                                   of other sources folded into this hit
                                   (grouping by article), or NULL */
    size_t also_in_count;
    const ndx_same_title *same_title; /* the matching articles of this
                                         hit's source with its title that
                                         the listing collapsed into it, in
                                         the listing's order, or NULL */
    size_t same_title_count;
} ndx_hit;

/* The key of a hit, for the search that asks for the hits after it
 * (ndx_search_opts.after). */
void ndx_search_key_of(const ndx_hit *h, ndx_search_key *out);

/* One bucket of a facet. */
typedef struct ndx_facet_bucket {
    const char *value;   /* source display name, or "2025", "2025-04",
                            "2025-04-18" */
    int32_t first_days;  /* date facets: the bucket's first day */
    int32_t last_days;   /* date facets: the bucket's last day */
    uint64_t count;      /* matching articles */
    uint64_t all;        /* date facets: articles in the bucket that pass
                            the filters, matching the words or not */
} ndx_facet_bucket;

/* Counts of the matching articles (every one, not only the hits
 * returned), by source or by date. */
typedef struct ndx_facet {
    const char *name;           /* "source", "year", "month" or "day" */
    ndx_facet_bucket *buckets;  /* source: by count descending, then name;
                                   dates: chronological, buckets with
                                   count or all above 0 */
    size_t count;
    uint64_t other;    /* source: matching articles of the sources past
                          facet_limit */
    uint64_t undated;  /* dates: matching articles without a date */
} ndx_facet;

typedef struct ndx_results {
    ndx_hit *hits;       /* count hits, best first */
    size_t count;
    uint64_t total;      /* matching articles (or passages by passage) */
    int total_exact;     /* 1: total is the exact count; 0: a lower bound
                            (at least NDX_TOTAL_EXACT_UPTO) */
    double took_ms;      /* wall time of the search */
    unsigned searches;   /* times the engine searched for this answer:
                            1, more when a page short after folding or
                            collapsing was asked for again */
    int partial;         /* 1: some shards did not answer (allow_partial) */
    const char *warning; /* which shards, or NULL (in the results' memory) */
    ndx_facet *facets;   /* in the order source, year, month, day, those
                            asked for (in the results' memory) */
    size_t facet_count;
} ndx_results;

/* Frees results with the strings of their hits; accepts NULL. */
void ndx_results_free(ndx_results *r);

typedef struct ndx_source_count {
    char *name;      /* display name */
    uint64_t count;  /* articles */
} ndx_source_count;

typedef struct ndx_stats {
    const char *engine;        /* "native" or "xapian" */
    uint64_t generation;       /* commits so far */
    uint64_t articles;
    uint64_t passages;
    uint64_t terms;            /* distinct terms (surface + stems + title) */
    uint64_t tokens;           /* sum of passage lengths */
    int32_t first_days;        /* earliest date or NDX_DATE_NONE */
    int32_t last_days;         /* latest date or NDX_DATE_NONE */
    uint64_t undated;          /* articles without a date */
    ndx_source_count *sources; /* by count descending, then name */
    size_t source_count;
    uint64_t segments;         /* live segments / shards */
    uint64_t bytes_postings;   /* postings, positions and dictionary */
    uint64_t bytes_text;       /* stored text */
    uint64_t bytes_other;      /* columns, article table, manifest */
} ndx_stats;

/* Frees what stats own (not the struct); accepts NULL. */
void ndx_stats_clear(ndx_stats *s);

/* A whole article as stored. */
typedef struct ndx_doc {
    char *id, *source, *title, *url;
    int32_t date_days;
    char **passages;     /* stored passage texts */
    size_t passage_count;
} ndx_doc;

void ndx_doc_free(ndx_doc *d);

/* ---- open-time configuration --------------------------------------------- */

/* The native engine's merge factor when the configuration gives none. */
#define NDX_MERGE_FACTOR 4

/* Open-time options of an index (ndx_engine_config_init sets the
 * defaults); the engine uses what concerns it. */
typedef struct ndx_engine_config {
    const char *language;   /* default analyzer language */
    size_t memory_mb;       /* writer buffer before flushing a segment */
    unsigned threads;       /* writer threads */
    unsigned shards;        /* xapian: databases to split into (1) */
    const char *const *remotes; /* xapian: "tcp:HOST:PORT" shards to search */
    size_t remote_count;
    int allow_partial;      /* xapian: answer when some shards are down */
    unsigned merge_factor;  /* native: segments of one tier merged at once
                               (0: NDX_MERGE_FACTOR; see the README's
                               merge policy) */
    uint64_t merge_floor;   /* native: live passages below which a segment
                               is in the first tier (0: 4096) */
    int keep_duplicates;    /* writers: 1 turns near-duplicate folding and
                               clustering off (see ndx_index_add) */
} ndx_engine_config;

void ndx_engine_config_init(ndx_engine_config *c);

/* ---- the front -------------------------------------------------------- */

typedef struct ndx_index ndx_index;

/*
 * Opens or creates an index.  engine NULL means: for reading, detect it
 * from the files; for writing, "native".  NDX_ENOTFOUND when reading a path
 * with no index, NDX_ELOCKED when another writer holds it, NDX_ENOTSUP for
 * an engine not built in, NDX_EVERSION/NDX_ECORRUPT for bad files.
 */
ndx_status ndx_index_open(ndx_index **out, const char *path, unsigned flags,
                          const char *engine, const ndx_engine_config *cfg);

/* Name of the engine of an open index.  Static storage. */
const char *ndx_index_engine(const ndx_index *ix);

/*
 * Splits, analyzes and adds one article (an article whose id is already in
 * the index replaces it).  Unless cfg->keep_duplicates, an article nearly
 * identical to an earlier article of its source (core/ingest/neardup.c)
 * is added under that article's id and so replaces it (the later copy is
 * kept), and one nearly identical to another source's article joins its
 * cluster: searches grouped by article show a cluster once, the other
 * sources in ndx_hit.also_in.  The article is copied where needed: it may be
 * freed after the call.  With cfg->threads > 1 the analysis runs in worker
 * threads and the article reaches the engine a little later (commit waits
 * for all); then *passages is 0.  Otherwise *passages (may be NULL)
 * receives the number of passages it gave; 0 means nothing was indexed (no
 * text after cleaning).  An error from an earlier article analyzed in a
 * worker may be returned by a later call or by commit.
 */
ndx_status ndx_index_add(ndx_index *ix, const ndx_article *a,
                         size_t *passages);

/* The same, given the article's near-duplicate sketch made already
 * (`words = ndx_neardup_sketch(a->text, a->text_len, sketch)`, e.g. in
 * another thread while the input is read), which indexing then does not
 * make again.  The article is indexed exactly as ndx_index_add would. */
ndx_status ndx_index_add_sketched(ndx_index *ix, const ndx_article *a,
                                  const unsigned char *sketch,
                                  uint32_t words, size_t *passages);

/* Near-duplicates since open: articles folded into an earlier copy of
 * their source, and articles joined to another source's cluster.  Returns
 * NULL, or a warning (borrowed until _close) when the index committed but
 * its clusters could not be written. */
const char *ndx_index_neardup_counts(const ndx_index *ix, uint64_t *folded,
                                     uint64_t *clustered);

/* Articles handed to the engine since open, their passages, and those that
 * had no text left after cleaning. */
void ndx_index_counts(const ndx_index *ix, uint64_t *articles,
                      uint64_t *passages, uint64_t *empty);

/* Whether articles in lang get their own stemmer (1) or fall back to the
 * index's default language (0). */
int ndx_index_language_known(ndx_index *ix, const char *lang);

/* Sets split options and a cleaner used by later _add calls (borrowed). */
void ndx_index_set_split(ndx_index *ix, const ndx_split_opts *o);

/*
 * Makes everything added so far durable and visible to new readers.
 * NDX_OK means they are, even when work that follows the commit failed:
 * see ndx_index_commit_warning.  On an error nothing more is committed
 * (the index is as its last commit left it).
 */
ndx_status ndx_index_commit(ndx_index *ix);

/*
 * NULL, or what the last commit, after it returned NDX_OK with its
 * articles durable, could not do: for the native engine, merging
 * segments ("merging segments failed: <why>; the index is intact (N
 * segments) and will merge at the next commit").  Borrowed until the
 * next commit or ndx_index_close.
 */
const char *ndx_index_commit_warning(const ndx_index *ix);

/*
 * Deletes an article by id (after every article added before the call):
 * at the next commit it leaves results, snippets, get and statistics.
 * NDX_ENOTFOUND (a message naming the id) when the index holds no such
 * article, which leaves the index unchanged: a caller deleting many may
 * count these and go on.  NDX_ENOTSUP for an engine without deletion.
 */
ndx_status ndx_index_delete(ndx_index *ix, const char *article_id);

/* Makes the next commit merge the index into one segment (native engine;
 * NDX_ENOTSUP for the others). */
ndx_status ndx_index_optimize(ndx_index *ix);

/*
 * Parses and runs a query.  Filters in opts are combined (AND) with those
 * in the text.  *out belongs to the caller (ndx_results_free).  A syntax
 * error is NDX_ESYNTAX with the column in the message (and in *err_col
 * when not NULL).
 */
ndx_status ndx_index_search(ndx_index *ix, const char *text,
                            const ndx_search_opts *o, ndx_results **out,
                            size_t *err_col);

/* Runs an already parsed query (opts filters still apply). */
ndx_status ndx_index_search_query(ndx_index *ix, const ndx_query *q,
                                  const ndx_search_opts *o,
                                  ndx_results **out);

/* An article by id; NDX_ENOTFOUND if absent. */
ndx_status ndx_index_get(ndx_index *ix, const char *article_id,
                         ndx_doc **out);

ndx_status ndx_index_stats(ndx_index *ix, ndx_stats *out);

/* Called with the stored text of one passage (not NUL-terminated) and the
 * id of its article; a non-zero return stops the walk (return a positive
 * value: errors are the negative ndx_status values). */
typedef int (*ndx_passage_fn)(void *ctx, const char *article_id,
                              const char *text, size_t len);

/*
 * Calls fn with the stored text of every live passage of the index (an
 * article's passages one after another, in no promised order of
 * articles); returns 0 when every passage was given, fn's first non-zero
 * return, or an error (NDX_ENOTSUP for an engine that cannot list its
 * passages, NDX_ECORRUPT naming the damaged file).
 */
int ndx_index_each_passage(ndx_index *ix, ndx_passage_fn fn, void *ctx);

/* For readers: move to the newest commit if there is one (1), else 0. */
int ndx_index_refresh(ndx_index *ix);

/* Whether several threads may search this index at once. */
int ndx_index_thread_safe(const ndx_index *ix);

/* The analyzer of the index's default language (borrowed until _close).
 * It belongs to one thread; ndx_index_search and ndx_index_search_query
 * use analyzers of their own, so searches may run in several threads. */
ndx_analyzer *ndx_index_analyzer(ndx_index *ix);

/* Closes; an index opened for writing and not committed loses its adds. */
void ndx_index_close(ndx_index *ix);

/* Verifies every checksum and structure of an index; NDX_ECORRUPT with a
 * message naming the file and what is wrong. */
ndx_status ndx_index_check(const char *path);

#ifdef __cplusplus
}
#endif
#endif
