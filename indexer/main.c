/*
 * newsdex-index - builds, extends, inspects and verifies an index.
 *
 *   newsdex-index -o INDEX [options] PATH...     index files and directories
 *   newsdex-index -o INDEX --delete ID...        delete articles by id
 *   newsdex-index --info INDEX [--json]          what the index holds
 *   newsdex-index --check INDEX                  verify every checksum
 *   newsdex-index --suggest-variants INDEX       candidate name variants
 *
 * Reading, cleaning, splitting and storing are libnewsdex's; this program
 * parses options, reads the input (learning repeated page furniture as it
 * goes, see hold_list), indexes it, draws the progress bar and prints
 * warnings and the summary.
 * Exit codes: 0 success, 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#if defined(__GLIBC__)
#include <malloc.h>
#include <pthread.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suggest.h"
#include "newsdex/newsdex.h"
#include "util/buf.h"

#define WARN_SHOWN_MAX 20

static const char usage_text[] =
    "usage: newsdex-index -o INDEX [options] PATH...\n"
    "       newsdex-index -o INDEX --delete ID...\n"
    "       newsdex-index -o INDEX --delete-from FILE [--add PATH...]\n"
    "       newsdex-index -o INDEX --optimize\n"
    "       newsdex-index --info INDEX [--json]\n"
    "       newsdex-index --check INDEX\n"
    "       newsdex-index --suggest-variants INDEX [--min-count N] "
    "[--limit N]\n"
    "\n"
    "Indexes news articles: JSON Lines (.jsonl, .jsonl.gz; one article a\n"
    "line with id, source, date, title, url, text) and plain text (.txt,\n"
    ".txt.gz; one article a file, metadata from a manifest.tsv beside it).\n"
    "Directories are read recursively; - reads JSON Lines from standard\n"
    "input.\n"
    "\n"
    "options:\n"
    "  -o, --output INDEX     the index directory to build (replaced on\n"
    "                         success unless --add)\n"
    "      --add              add to the index; an article whose id is\n"
    "                         already there replaces it\n"
    "      --delete           the arguments are ids of articles to delete\n"
    "      --delete-from FILE delete the ids in FILE, one a line (- for\n"
    "                         standard input), before adding any PATH\n"
    "      --optimize         merge the index into one segment at commit\n"
    "      --engine E         native (default) or xapian\n"
    "      --shards N         xapian: split into N databases by article id\n"
    "      --language L       Snowball stemmer for articles without \"lang\"\n"
    "                         (default english)\n"
    "      --memory MB        memory the run may hold (default 512):\n"
    "                         segments are written to stay within it\n"
    "      --threads N        threads (default: the number of cores); the\n"
    "                         others analyze while one reads and writes\n"
    "      --aliases FILE     source aliases: lines \"alias<TAB>canonical\"\n"
    "      --variants FILE    more name variants (lines of spellings of one\n"
    "                         name, e.g. \"Kyiv Kiev\"), kept in the index\n"
    "                         for its searches\n"
    "      --keep-furniture   index page furniture lines too\n"
    "      --no-learn         do not learn lines repeated across a source\n"
    "      --keep-duplicates  index near-identical copies as they are: no\n"
    "                         folding of a source's re-crawled copies, no\n"
    "                         clusters across sources\n"
    "      --strict           stop at the first bad record\n"
    "  -q, --quiet            no progress bar, no warnings, no summary\n"
    "      --info INDEX       print articles, passages, terms, sources,\n"
    "                         dates and sizes\n"
    "      --json             with --info: print JSON\n"
    "      --check INDEX      verify every checksum and structure\n"
    "      --suggest-variants INDEX\n"
    "                         list candidate name variants learned from\n"
    "                         the index (close spellings of names used\n"
    "                         alike), for review: nothing is applied\n"
    "      --min-count N      with --suggest-variants: names written at\n"
    "                         least N times (default 3)\n"
    "      --limit N          with --suggest-variants: pairs shown\n"
    "                         (default 50)\n"
    "  -h, --help             this text\n";

typedef struct warn_state {
    int quiet;
    int enabled;
    unsigned long shown, total;
    const ndx_reader *r;   /* the indexing pass's reader, once open */
    uint64_t unreadable;   /* its unreadable count at the last warning */
    const char *stdin_path; /* the copy of standard input, or NULL */
} warn_state;

/* Where a copy of standard input is kept while it is read (what does not
 * fit in memory while the furniture is learned is read again, see
 * hold_list); removed at exit. */
static char stdin_copy[4200];

static void
remove_stdin_copy(void)
{
    if (stdin_copy[0])
        unlink(stdin_copy);
}

static void
on_fatal_signal(int sig)
{
    remove_stdin_copy();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Copies standard input to a file in $TMPDIR (default /tmp) that the
 * reader can read twice; gzip-compressed input stays compressed (the
 * reader inflates either).  NDX_OK or NDX_EIO with a message. */
static ndx_status
copy_stdin(void)
{
    const char *tmp = getenv("TMPDIR");
    char buf[1 << 16];
    size_t n;
    FILE *f;
    int fd;

    if (isatty(STDIN_FILENO))
        return ndx_error(NDX_EINVAL, "standard input is a terminal; pipe "
                                     "JSON Lines into newsdex-index");
    snprintf(stdin_copy, sizeof stdin_copy, "%s/newsdex-stdin-XXXXXX.jsonl",
             tmp && *tmp ? tmp : "/tmp");
    fd = mkstemps(stdin_copy, 6);
    if (fd < 0) {
        int e = errno;

        stdin_copy[0] = '\0';
        return ndx_error(NDX_EIO, "cannot create a copy of standard input "
                                  "in %s: %s; set TMPDIR to a writable "
                                  "directory", tmp && *tmp ? tmp : "/tmp",
                         strerror(e));
    }
    atexit(remove_stdin_copy);
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        return ndx_error(NDX_EIO, "%s: %s", stdin_copy, strerror(errno));
    }
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (fwrite(buf, 1, n, f) != n)
            break;
    if (ferror(stdin) || ferror(f) || fclose(f) != 0)
        return ndx_error(NDX_EIO, "copying standard input to %s: %s",
                         stdin_copy, strerror(errno));
    return NDX_OK;
}

/* Deletes the ids of a file, one a line ("-": standard input); an empty
 * line is skipped.  Unknown ids are warned about and counted. */
static ndx_status
delete_from_file(ndx_index *ix, const char *path, void (*warn)(void *,
                 const char *, long, const char *), void *ws,
                 uint64_t *deleted, uint64_t *unknown)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    const char *name = f == stdin ? "standard input" : path;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    ndx_status st = NDX_OK;

    if (!f)
        return ndx_error(NDX_ENOTFOUND, "--delete-from %s: %s", path,
                         strerror(errno));
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (strlen(line) != (size_t)len) {
            warn(ws, name, lineno, "a NUL byte in the id; line skipped");
            (*unknown)++;
            continue;
        }
        st = ndx_index_delete(ix, line);
        if (st == NDX_ENOTFOUND) {
            warn(ws, name, lineno, ndx_errmsg());
            (*unknown)++;
            st = NDX_OK;
            continue;
        }
        if (st)
            break;
        (*deleted)++;
    }
    if (!st && ferror(f))
        st = ndx_error(NDX_EIO, "--delete-from %s: read error: %s", name,
                       strerror(errno));
    free(line);
    if (f != stdin)
        fclose(f);
    return st;
}

static void
on_warn(void *ctx, const char *file, long line, const char *msg)
{
    warn_state *w = ctx;
    int whole_file = 0;

    if (!w->enabled)
        return;
    if (file && w->stdin_path && strcmp(file, w->stdin_path) == 0)
        file = "standard input";
    w->total++;
    /* A file that could not be read (or read to its end) is always
     * shown: it is not one bad record among many. */
    if (w->r) {
        uint64_t u = ndx_reader_stats(w->r)->skipped[NDX_SKIP_UNREADABLE];

        whole_file = u != w->unreadable;
        w->unreadable = u;
    }
    if (w->quiet || (w->shown >= WARN_SHOWN_MAX && !whole_file))
        return;
    w->shown++;
    if (isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
    if (file && line > 0)
        fprintf(stderr, "newsdex-index: warning: %s:%ld: %s\n", file, line,
                msg);
    else if (file)
        fprintf(stderr, "newsdex-index: warning: %s: %s\n", file, msg);
    else
        fprintf(stderr, "newsdex-index: warning: %s\n", msg);
}

/*
 * Articles read while the furniture is learned, kept in memory until the
 * learning is done.  Lines are furniture only when they repeat across a
 * share of a source's articles, so nothing can be indexed before the whole
 * input has been seen.  Keeping what was read spares reading the input a
 * second time: an input that fits in the budget (half of --memory) is
 * read once; past it, the learning reads on to the end without keeping,
 * and only the articles after the kept ones are read again.  Either way
 * the articles are indexed in the order read, with the lines learned from
 * all of them: the index is the one two full passes would build.
 */
typedef struct held {
    ndx_article a;      /* its strings follow the struct */
    size_t size;        /* bytes in the chunk, the struct included */
    int sketched;       /* 1: the learner made sketch and words */
    uint32_t words;     /* the near-duplicate sketch of a's text */
    unsigned char sketch[NDX_ND_HASHES];
} held;

/* Kept articles lie back to back in chunks of HOLD_CHUNK bytes (or one
 * article's size), which are read in order and freed as soon as their last
 * article is indexed: allocated large, they go back to the system, where
 * articles freed one by one would leave the heap at its largest for the
 * rest of the run. */
#define HOLD_CHUNK (8u << 20)

typedef struct hold_chunk {
    struct hold_chunk *next;
    size_t used, cap, taken;  /* bytes after the header */
} hold_chunk;

typedef struct hold_list {
    hold_chunk *head, *tail;
    size_t bytes, budget;
    uint64_t count;      /* articles kept */
    int full;            /* an article did not fit: the rest was not kept */
} hold_list;

/* Copies s (NULL as "") to *at, returns the copy. */
static char *
hold_str(char **at, const char *s, size_t len)
{
    char *c = *at;

    if (s)
        memcpy(c, s, len);
    c[len] = '\0';
    *at += len + 1;
    return c;
}

/* Keeps a copy of a.  The article past the budget is kept too (and marks
 * the list full), so that the articles read again start right after the
 * last kept one.  NDX_ENOMEM. */
static ndx_status
hold_article(hold_list *h, const ndx_article *a)
{
    size_t lid = strlen(a->id), lsrc = a->source ? strlen(a->source) : 0;
    size_t lt = a->title ? strlen(a->title) : 0;
    size_t lu = a->url ? strlen(a->url) : 0;
    size_t ll = a->lang ? strlen(a->lang) : 0;
    size_t lf = a->file ? strlen(a->file) : 0;
    size_t n = sizeof(held) + lid + lsrc + lt + lu + ll + lf + a->text_len + 7;
    hold_chunk *c = h->tail;
    held *k;
    char *at;

    n = (n + 7) & ~(size_t)7;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > HOLD_CHUNK ? n : HOLD_CHUNK;

        if (!(c = malloc(sizeof *c + cap)))
            return ndx_error(NDX_ENOMEM, "out of memory (articles read "
                                         "while learning furniture; a "
                                         "smaller --memory keeps fewer)");
        c->next = NULL;
        c->used = c->taken = 0;
        c->cap = cap;
        if (h->tail)
            h->tail->next = c;
        else
            h->head = c;
        h->tail = c;
        h->bytes += sizeof *c + cap;
    }
    k = (held *)((char *)(c + 1) + c->used);
    c->used += n;
    k->size = n;
    k->sketched = 0;
    at = (char *)(k + 1);
    k->a = *a;
    k->a.id = hold_str(&at, a->id, lid);
    k->a.source = hold_str(&at, a->source, lsrc);
    k->a.title = hold_str(&at, a->title, lt);
    k->a.url = hold_str(&at, a->url, lu);
    k->a.lang = hold_str(&at, a->lang, ll);
    k->a.file = a->file ? hold_str(&at, a->file, lf) : NULL;
    k->a.text = hold_str(&at, a->text, a->text_len);
    h->count++;
    h->full = h->bytes > h->budget;
    return NDX_OK;
}

/* The oldest kept article not yet taken, or NULL; valid until the next
 * call (a chunk is freed when it is passed). */
static const held *
hold_take(hold_list *h)
{
    hold_chunk *c;

    while ((c = h->head) && c->taken == c->used) {
        h->head = c->next;
        if (!h->head)
            h->tail = NULL;
        free(c);
    }
    if (!c)
        return NULL;
    {
        held *k = (held *)((char *)(c + 1) + c->taken);

        c->taken += k->size;
        return k;
    }
}

static void
hold_free(hold_list *h)
{
    while (hold_take(h))
        ;
}

/*
 * With more than one thread, the kept articles are learned from in a
 * thread of their own while the reading goes on (reading and learning
 * each took about half of the first phase, on one core, while the other
 * waited).  The learner takes the kept articles in order, one at a time
 * under the lock that hold_article is called under; an article that is
 * not kept (the budget is full) is learned from by the reader once the
 * learner has caught up and stopped.  The cleaner is the learner's alone
 * until then, and the articles are learned from in the order read, as
 * before.
 */
typedef struct learner {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t more;   /* an article was kept, or stop */
    hold_list *hold;       /* kept articles; count is guarded by mu */
    ndx_cleaner *cleaner;
    int sketch;            /* 1: also make each kept article's
                              near-duplicate sketch (which indexing would
                              make, one article at a time, later) */
    hold_chunk *c;         /* where the next article to learn lies */
    size_t off;
    uint64_t done;         /* articles learned from */
    int stop, running;
    ndx_status st;         /* the first failure, and its message */
    char err[512];
} learner;

static void *
learner_main(void *arg)
{
    learner *l = arg;

    pthread_mutex_lock(&l->mu);
    for (;;) {
        held *k;
        ndx_status st;

        while (l->done == l->hold->count && !l->stop && !l->st)
            pthread_cond_wait(&l->more, &l->mu);
        if (l->done == l->hold->count || l->st)
            break;
        if (!l->c) {
            l->c = l->hold->head;
            l->off = 0;
        }
        while (l->off == l->c->used) {
            l->c = l->c->next;
            l->off = 0;
        }
        k = (held *)((char *)(l->c + 1) + l->off);
        l->off += k->size;
        pthread_mutex_unlock(&l->mu);
        st = ndx_cleaner_learn(l->cleaner, k->a.source, k->a.text,
                               k->a.text_len);
        if (l->sketch) {
            /* The reader does not touch a kept article again, and
             * indexing reads it after the learner has ended. */
            k->words = ndx_neardup_sketch(k->a.text, k->a.text_len,
                                          k->sketch);
            k->sketched = 1;
        }
        pthread_mutex_lock(&l->mu);
        if (st && !l->st) {
            l->st = st;
            snprintf(l->err, sizeof l->err, "%s", ndx_errmsg());
        }
        l->done++;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Starts the learner; 0, or -1 when no thread could start (the reader
 * then learns itself). */
static int
learner_start(learner *l, hold_list *h, ndx_cleaner *cleaner, int sketch)
{
    memset(l, 0, sizeof *l);
    l->hold = h;
    l->cleaner = cleaner;
    l->sketch = sketch;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->more, NULL);
    if (pthread_create(&l->th, NULL, learner_main, l) != 0) {
        pthread_cond_destroy(&l->more);
        pthread_mutex_destroy(&l->mu);
        return -1;
    }
    l->running = 1;
    return 0;
}

/* Keeps a (hold_article) for the learner. */
static ndx_status
learner_keep(learner *l, const ndx_article *a)
{
    ndx_status st;

    pthread_mutex_lock(&l->mu);
    st = l->st ? ndx_error(l->st, "%s", l->err) : hold_article(l->hold, a);
    pthread_cond_signal(&l->more);
    pthread_mutex_unlock(&l->mu);
    return st;
}

/* Waits until every kept article is learned from and ends the thread;
 * returns its first failure.  Does nothing for a learner not running. */
static ndx_status
learner_finish(learner *l)
{
    ndx_status st;

    if (!l->running)
        return NDX_OK;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->more);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    l->running = 0;
    st = l->st ? ndx_error(l->st, "%s", l->err) : NDX_OK;
    pthread_cond_destroy(&l->more);
    pthread_mutex_destroy(&l->mu);
    return st;
}

/* Indexes one article, warning first when its language has no stemmer;
 * k: the kept article a is (with the learner's sketch when it made one),
 * or NULL. */
static ndx_status
index_one(ndx_index *ix, const ndx_article *a, const held *k,
          const ndx_engine_config *cfg, warn_state *ws, size_t *np)
{
    if (a->lang && *a->lang && !ndx_index_language_known(ix, a->lang)) {
        char msg[200];

        snprintf(msg, sizeof msg, "no stemmer for language '%.60s'; using %s",
                 a->lang, cfg->language);
        on_warn(ws, a->file, a->line, msg);
    }
    /* No sketch given: indexing makes it. */
    return ndx_index_add_sketched(ix, a, k && k->sketched ? k->sketch : NULL,
                                  k && k->sketched ? k->words : 0, np);
}

/* One progress line for a pass that started at t0: the share of the input
 * files read, the articles, the rate of text read (bytes after
 * decompression, as in the summary) and the time left at that pace. */
static void
progress(const char *what, ndx_reader *r, double t0, uint64_t articles,
         int final)
{
    uint64_t done = ndx_reader_done_bytes(r), total = ndx_reader_total_bytes(r);
    double secs = (ndx_now_ms() - t0) / 1000.0;
    double text_mb = (double)ndx_reader_stats(r)->bytes_text / 1e6;
    double mbs = secs > 0 ? text_mb / secs : 0;
    double frac = total ? (double)done / (double)total : 0;
    int width = 30, fill = (int)(frac * width), i;
    char bar[64];

    if (frac > 1)
        frac = 1;
    for (i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[K%s [%s] %3.0f%%  %llu articles  %.1f MB/s", what,
            bar, frac * 100, (unsigned long long)articles, mbs);
    if (!final && frac > 0.01 && secs > 0)
        fprintf(stderr, "  ETA %.0fs", secs * (1 - frac) / frac);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Counts one more article of a pass, and on a terminal redraws its
 * progress line every 256 articles. */
static void
progress_step(int tty, const char *what, ndx_reader *r, double t0,
              uint64_t *articles)
{
    ++*articles;
    if (tty && (*articles & 255) == 0)
        progress(what, r, t0, *articles, 0);
}

/* The learned furniture lines that stand in the most articles, so that a
 * person can see what the cleaner removed. */
static void
print_top_furniture(const ndx_cleaner *c)
{
    const char *source, *line;
    size_t i, n;

    for (i = 0; i < 10 && (n = ndx_cleaner_top_line(c, i, &source, &line));
         i++) {
        if (i == 0)
            fprintf(stderr, "newsdex-index: most repeated furniture lines "
                            "removed (articles, source, line):\n");
        fprintf(stderr, "  %6zu  %s  \"%.100s\"\n", n, source, line);
    }
}

/* A commit that is durable but whose merges failed: what is committed,
 * then why the merge failed and that the index is intact.  An error when
 * the merge was what the run was for (--optimize), else a warning. */
static void
say_merge_failure(const char *out, uint64_t articles, uint64_t deleted,
                  const char *why, int as_error)
{
    fprintf(stderr, "newsdex-index: %s", as_error ? "" : "warning: ");
    if (articles && deleted)
        fprintf(stderr, "%llu articles added and %llu deleted, committed "
                        "to %s; ",
                (unsigned long long)articles, (unsigned long long)deleted,
                out);
    else if (articles || deleted)
        fprintf(stderr, "%llu articles %s, committed to %s; ",
                (unsigned long long)(articles ? articles : deleted),
                articles ? "added" : "deleted", out);
    fprintf(stderr, "%s\n", why);
}

static int
do_check(const char *path)
{
    ndx_status st = ndx_index_check(path);

    if (st) {
        fprintf(stderr, "newsdex-index: %s\n", ndx_errmsg());
        return 1;
    }
    printf("%s: ok\n", path);
    return 0;
}

static void
print_bytes(const char *label, uint64_t n)
{
    printf("%-16s %.2f MB (%llu bytes)\n", label, (double)n / 1e6,
           (unsigned long long)n);
}

static int
do_info(const char *path, int json)
{
    ndx_index *ix;
    ndx_stats s;
    char first[11], last[11];
    size_t i;

    if (ndx_index_open(&ix, path, NDX_OPEN_READ, NULL, NULL) ||
        ndx_index_stats(ix, &s)) {
        fprintf(stderr, "newsdex-index: %s\n", ndx_errmsg());
        return 1;
    }
    ndx_date_format(s.first_days, first);
    ndx_date_format(s.last_days, last);
    if (json) {
        ndx_buf b;

        ndx_buf_init(&b);
        ndx_buf_printf(
            &b,
            "{\"engine\":\"%s\",\"generation\":%llu,\"articles\":%llu,"
            "\"passages\":%llu,\"terms\":%llu,\"tokens\":%llu,"
            "\"first_date\":%s%s%s,\"last_date\":%s%s%s,\"undated\":%llu,"
            "\"segments\":%llu,\"bytes_postings\":%llu,\"bytes_text\":%llu,"
            "\"bytes_other\":%llu,\"sources\":[",
            s.engine, (unsigned long long)s.generation,
            (unsigned long long)s.articles, (unsigned long long)s.passages,
            (unsigned long long)s.terms, (unsigned long long)s.tokens,
            first[0] ? "\"" : "", first[0] ? first : "null",
            first[0] ? "\"" : "", last[0] ? "\"" : "",
            last[0] ? last : "null", last[0] ? "\"" : "",
            (unsigned long long)s.undated, (unsigned long long)s.segments,
            (unsigned long long)s.bytes_postings,
            (unsigned long long)s.bytes_text,
            (unsigned long long)s.bytes_other);
        for (i = 0; i < s.source_count; i++) {
            ndx_buf_puts(&b, i ? ",{\"name\":\"" : "{\"name\":\"");
            ndx_buf_put_json_str(&b, s.sources[i].name,
                                 strlen(s.sources[i].name));
            ndx_buf_printf(&b, "\",\"articles\":%llu}",
                           (unsigned long long)s.sources[i].count);
        }
        ndx_buf_puts(&b, "]}\n");
        fwrite(b.data, 1, b.len, stdout);
        ndx_buf_free(&b);
    } else {
        printf("index            %s\n", path);
        printf("engine           %s (generation %llu, %llu segment%s)\n",
               s.engine, (unsigned long long)s.generation,
               (unsigned long long)s.segments, s.segments == 1 ? "" : "s");
        printf("articles         %llu\n", (unsigned long long)s.articles);
        printf("passages         %llu\n", (unsigned long long)s.passages);
        printf("terms            %llu\n", (unsigned long long)s.terms);
        printf("tokens           %llu\n", (unsigned long long)s.tokens);
        printf("dates            %s .. %s", first[0] ? first : "-",
               last[0] ? last : "-");
        if (s.undated)
            printf(" (%llu undated)", (unsigned long long)s.undated);
        printf("\n");
        print_bytes("postings", s.bytes_postings);
        print_bytes("stored text", s.bytes_text);
        print_bytes("other", s.bytes_other);
        printf("sources          %zu\n", s.source_count);
        for (i = 0; i < s.source_count; i++)
            printf("  %8llu  %s\n", (unsigned long long)s.sources[i].count,
                   s.sources[i].name);
    }
    ndx_stats_clear(&s);
    ndx_index_close(ix);
    return 0;
}

int
main(int argc, char **argv)
{
    enum {
        O_ADD = 256, O_ENGINE, O_SHARDS, O_LANG, O_MEM, O_THREADS, O_ALIASES,
        O_KEEP, O_NOLEARN, O_STRICT, O_INFO, O_JSON, O_CHECK, O_DELETE,
        O_DELETE_FROM, O_OPTIMIZE, O_KEEPDUP,
        O_VARIANTS, O_SUGGEST, O_MIN_COUNT, O_LIMIT
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"add", no_argument, NULL, O_ADD},
        {"engine", required_argument, NULL, O_ENGINE},
        {"shards", required_argument, NULL, O_SHARDS},
        {"language", required_argument, NULL, O_LANG},
        {"memory", required_argument, NULL, O_MEM},
        {"threads", required_argument, NULL, O_THREADS},
        {"aliases", required_argument, NULL, O_ALIASES},
        {"keep-furniture", no_argument, NULL, O_KEEP},
        {"no-learn", no_argument, NULL, O_NOLEARN},
        {"keep-duplicates", no_argument, NULL, O_KEEPDUP},
        {"variants", required_argument, NULL, O_VARIANTS},
        {"strict", no_argument, NULL, O_STRICT},
        {"quiet", no_argument, NULL, 'q'},
        {"info", required_argument, NULL, O_INFO},
        {"json", no_argument, NULL, O_JSON},
        {"check", required_argument, NULL, O_CHECK},
        {"delete", no_argument, NULL, O_DELETE},
        {"delete-from", required_argument, NULL, O_DELETE_FROM},
        {"optimize", no_argument, NULL, O_OPTIMIZE},
        {"suggest-variants", required_argument, NULL, O_SUGGEST},
        {"min-count", required_argument, NULL, O_MIN_COUNT},
        {"limit", required_argument, NULL, O_LIMIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *engine = NULL, *info = NULL, *check = NULL;
    const char *aliases = NULL, *delete_from = NULL, *variants = NULL;
    const char *suggest = NULL;
    unsigned long min_count = 3, limit = 50;
    const char **paths = NULL;
    size_t path_count = 0, i;
    int add = 0, quiet = 0, strict = 0, json = 0, keep = 0, learn = 1, c;
    int delete_args = 0, optimize = 0, stdin_paths = 0;
    uint64_t deleted = 0, unknown = 0;
    ndx_engine_config cfg;
    ndx_split_opts split;
    ndx_cleaner *cleaner = NULL;
    ndx_reader *r = NULL;
    ndx_index *ix = NULL;
    warn_state ws;
    const ndx_article *a;
    uint64_t articles = 0, passages = 0, empty = 0, folded = 0, clustered = 0;
    const char *nd_warning, *merge_warning = NULL;
    double t0, t1;
    int tty, rc = 1, unread = 0, committed = 0, unmerged = 0, eof = 0;
    hold_list hold;
    learner lrn;
    ndx_status st;

#if defined(__GLIBC__)
    /* glibc raises its mmap threshold each time a large block is freed, up
     * to 32 MB; the writer's buffers, grown and freed segment after
     * segment, then come from the heap and leave it fragmented (at
     * 1,000,000 passages with --memory 128, 30 MB more at the peak).
     * A fixed threshold keeps large buffers in maps that free returns.
     * Fixing it fixes the trim threshold too, at 128 KB: the text thread
     * allocating and freeing zlib's 256 KB of state per passage would
     * then give the top of its heap back to the system each time (half a
     * million madvise calls for 100 MB of text); 4 MB stops that. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
#endif
    ndx_engine_config_init(&cfg);
    {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);

        cfg.threads = nc > 1 ? (unsigned)(nc > 64 ? 64 : nc) : 1;
    }
    memset(&ws, 0, sizeof ws);
    memset(&hold, 0, sizeof hold);
    memset(&lrn, 0, sizeof lrn);
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        char *end;

        switch (c) {
        case 'o': out = optarg; break;
        case O_ADD: add = 1; break;
        case O_ENGINE: engine = optarg; break;
        case O_SHARDS:
            cfg.shards = (unsigned)strtoul(optarg, &end, 10);
            if (*end || cfg.shards < 1 || cfg.shards > 1024) {
                fprintf(stderr, "newsdex-index: --shards takes 1..1024\n");
                return 2;
            }
            break;
        case O_LANG: cfg.language = optarg; break;
        case O_MEM:
            cfg.memory_mb = strtoul(optarg, &end, 10);
            if (*end || cfg.memory_mb < 16) {
                fprintf(stderr, "newsdex-index: --memory takes megabytes, "
                                "at least 16\n");
                return 2;
            }
            break;
        case O_THREADS:
            cfg.threads = (unsigned)strtoul(optarg, &end, 10);
            if (*end || cfg.threads < 1) {
                fprintf(stderr, "newsdex-index: --threads takes a number "
                                ">= 1\n");
                return 2;
            }
            break;
        case O_ALIASES: aliases = optarg; break;
        case O_VARIANTS: variants = optarg; break;
        case O_KEEP: keep = 1; break;
        case O_NOLEARN: learn = 0; break;
        case O_KEEPDUP: cfg.keep_duplicates = 1; break;
        case O_STRICT: strict = 1; break;
        case 'q': quiet = 1; break;
        case O_INFO: info = optarg; break;
        case O_JSON: json = 1; break;
        case O_CHECK: check = optarg; break;
        case O_DELETE: delete_args = 1; break;
        case O_DELETE_FROM: delete_from = optarg; break;
        case O_OPTIMIZE: optimize = 1; break;
        case O_SUGGEST: suggest = optarg; break;
        case O_MIN_COUNT:
        case O_LIMIT: {
            unsigned long v = strtoul(optarg, &end, 10);

            if (*end || !*optarg || v < 1 || v > 1000000) {
                fprintf(stderr, "newsdex-index: --%s takes a number "
                                "1..1000000\n",
                        c == O_LIMIT ? "limit" : "min-count");
                return 2;
            }
            *(c == O_LIMIT ? &limit : &min_count) = v;
            break;
        }
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (aliases && ndx_source_alias_load(aliases)) {
        fprintf(stderr, "newsdex-index: %s\n", ndx_errmsg());
        return 1;
    }
    if (variants && ndx_variants_load(variants)) {
        fprintf(stderr, "newsdex-index: %s\n", ndx_errmsg());
        return 1;
    }
    if (check)
        return do_check(check);
    if (info)
        return do_info(info, json);
    if (suggest)
        return suggest_variants(suggest, (unsigned)min_count,
                                (size_t)limit);
    if (!out || (optind >= argc && !delete_from && !optimize)) {
        fprintf(stderr, "newsdex-index: %s\n%s",
                !out ? "missing -o INDEX"
                     : delete_args ? "missing ID to delete"
                                   : "missing PATH to index",
                usage_text);
        return 2;
    }
    if (delete_args && delete_from) {
        fprintf(stderr, "newsdex-index: --delete takes the ids as "
                        "arguments, --delete-from from a file: use one\n");
        return 2;
    }
    if (!delete_args) {
        paths = (const char **)argv + optind;
        path_count = (size_t)(argc - optind);
    }
    for (i = 0; i < path_count; i++)
        stdin_paths += strcmp(paths[i], "-") == 0;
    if (stdin_paths > 1 ||
        (stdin_paths && delete_from && strcmp(delete_from, "-") == 0)) {
        fprintf(stderr, "newsdex-index: standard input (-) can be read "
                        "only once\n");
        return 2;
    }
    /* Deleting and merging work on an index that exists. */
    if (delete_args || delete_from || optimize) {
        if (!add && path_count) {
            fprintf(stderr, "newsdex-index: --delete-from and --optimize "
                            "with PATHs need --add (a run without --add "
                            "replaces the whole index)\n");
            return 2;
        }
        if ((st = ndx_index_open(&ix, out, NDX_OPEN_READ, NULL, NULL))) {
            fprintf(stderr, "newsdex-index: %s\n", ndx_errmsg());
            return 1;
        }
        if (!engine)
            engine = ndx_index_engine(ix);
        ndx_index_close(ix);
        ix = NULL;
        add = 1;
    }
    ws.quiet = quiet;
    tty = !quiet && isatty(STDERR_FILENO);
    t0 = ndx_now_ms();
    if (stdin_paths) {
        if ((st = copy_stdin()))
            goto fail;
        for (i = 0; i < path_count; i++)
            if (strcmp(paths[i], "-") == 0)
                paths[i] = stdin_copy;
        ws.stdin_path = stdin_copy;
    }

    /* Read the input, learning the lines that repeat across one source's
     * articles and keeping what fits in memory (see hold_list). */
    ndx_split_opts_init(&split);
    split.drop_furniture = !keep;
    ws.enabled = 1;
    if (learn && !keep && path_count) {
        hold.budget = (size_t)cfg.memory_mb * 1024 * 1024 / 2;
        if ((st = ndx_cleaner_new(&cleaner)) ||
            (st = ndx_reader_open(&r, paths, path_count,
                                  strict ? NDX_INGEST_STRICT : 0, on_warn,
                                  &ws)))
            goto fail;
        ws.r = r;
        if (cfg.threads > 1)
            (void)learner_start(&lrn, &hold, cleaner,
                                !cfg.keep_duplicates);
        while ((st = ndx_reader_next(r, &a)) == NDX_OK && a) {
            if (hold.full || !lrn.running) {
                /* Learned from here, after every article before it. */
                if ((st = learner_finish(&lrn)) ||
                    (st = ndx_cleaner_learn(cleaner, a->source, a->text,
                                            a->text_len)))
                    goto fail;
            }
            if (!hold.full) {
                if ((st = lrn.running ? learner_keep(&lrn, a)
                                      : hold_article(&hold, a)))
                    goto fail;
                /* What follows is read again: warn about it then. */
                ws.enabled = !hold.full;
            }
            progress_step(tty, "reading", r, t0, &articles);
        }
        if (st)
            goto fail;
        if ((st = learner_finish(&lrn)))
            goto fail;
        if (tty)
            progress("reading", r, t0, articles, 1);
        articles = 0;
        ndx_cleaner_freeze(cleaner, 5, 0.2);
        split.cleaner = cleaner;
        if (hold.full) {
            ws.r = NULL;
            ndx_reader_close(r);
            r = NULL;
        }
    }

    /* Index: what was kept, then what is read (again) after it. */
    t1 = ndx_now_ms();
    if (path_count && !r &&
        (st = ndx_reader_open(&r, paths, path_count,
                              strict ? NDX_INGEST_STRICT : 0, on_warn, &ws)))
        goto fail;
    ws.r = r;
    if ((st = ndx_index_open(&ix, out, NDX_OPEN_WRITE | (add ? NDX_OPEN_ADD : 0),
                             engine, &cfg)))
        goto fail;
    /* Deletions first, then additions, all in one commit. */
    for (i = 0; delete_args && (int)i < argc - optind; i++) {
        st = ndx_index_delete(ix, argv[optind + (int)i]);
        if (st == NDX_ENOTFOUND) {
            on_warn(&ws, NULL, 0, ndx_errmsg());
            unknown++;
            st = NDX_OK;
            continue;
        }
        if (st)
            goto fail;
        deleted++;
    }
    if (delete_from &&
        (st = delete_from_file(ix, delete_from, on_warn, &ws, &deleted,
                               &unknown)))
        goto fail;
    if (optimize && (st = ndx_index_optimize(ix)))
        goto fail;
    /* Lines that earlier runs learned apply to the added articles too. */
    if (cleaner && add) {
        st = ndx_cleaner_load(cleaner, out);
        if (st && st != NDX_ENOTFOUND) {
            char why[512];

            /* Going on would save over it only what this run learns. */
            snprintf(why, sizeof why, "%s", ndx_errmsg());
            st = ndx_error(st, "%s; --add stops rather than replace the "
                               "furniture learned by earlier runs: restore "
                               "FURNITURE from a copy, or remove it (later "
                               "runs learn anew), or rebuild without --add",
                           why);
            goto fail;
        }
        st = NDX_OK;
    }
    ndx_index_set_split(ix, &split);
    {
        const held *k;
        size_t np;

        while ((k = hold_take(&hold))) {
            if ((st = index_one(ix, &k->a, k, &cfg, &ws, &np)))
                goto fail;
            progress_step(tty, "indexing", r, t1, &articles);
        }
    }
    if (hold.full) {
        /* The kept articles are indexed: skip them, warnings already
         * given, and read on. */
        uint64_t skip = hold.count;

        ws.enabled = 0;
        while (skip && (st = ndx_reader_next(r, &a)) == NDX_OK && a)
            skip--;
        if (st)
            goto fail;
        ws.enabled = 1;
        hold.full = 0;
        ws.unreadable =
            ndx_reader_stats(r)->skipped[NDX_SKIP_UNREADABLE];
    } else if (cleaner) {
        eof = 1; /* everything was kept, and is indexed */
    }
    while (r && !eof && (st = ndx_reader_next(r, &a)) == NDX_OK && a) {
        size_t np;

        if ((st = index_one(ix, a, NULL, &cfg, &ws, &np)))
            goto fail;
        progress_step(tty, "indexing", r, t1, &articles);
    }
    if (st)
        goto fail;
    if (tty && r)
        progress("indexing", r, t1, articles, 1);
    if ((st = ndx_index_commit(ix)))
        goto fail;
    committed = 1;
    merge_warning = ndx_index_commit_warning(ix);
    if (cleaner && (st = ndx_cleaner_save(cleaner, out)) != NDX_OK) {
        if (!quiet)
            fprintf(stderr, "newsdex-index: warning: %s; the index is "
                            "committed, but a later --add run will not know "
                            "the furniture learned now\n", ndx_errmsg());
        st = NDX_OK;
    }
    ndx_index_counts(ix, &articles, &passages, &empty);
    if (ix) {
        nd_warning = ndx_index_neardup_counts(ix, &folded, &clustered);
        if (nd_warning && !quiet)
            fprintf(stderr, "newsdex-index: warning: %s\n", nd_warning);
    }
    if (!quiet && (delete_args || delete_from))
        fprintf(stderr, "newsdex-index: deleted %llu articles from %s (%llu "
                        "ids not in the index)\n",
                (unsigned long long)deleted, out, (unsigned long long)unknown);
    if (!quiet && !r) {
        if (optimize && !merge_warning)
            fprintf(stderr, "newsdex-index: %s merged into one segment in "
                            "%.2f s\n",
                    out, (ndx_now_ms() - t0) / 1000.0);
        if (ws.total > ws.shown)
            fprintf(stderr, "newsdex-index: %lu more warnings not shown\n",
                    ws.total - ws.shown);
    } else if (!quiet) {
        const ndx_ingest_stats *is = ndx_reader_stats(r);
        double secs = (ndx_now_ms() - t0) / 1000.0;
        int k, any = 0;

        fprintf(stderr,
                "newsdex-index: %llu articles, %llu passages from %llu "
                "files (%.1f MB) in %.2f s (%.1f MB/s) into %s",
                (unsigned long long)articles, (unsigned long long)passages,
                (unsigned long long)is->files, (double)is->bytes_text / 1e6,
                secs, secs > 0 ? (double)is->bytes_text / 1e6 / secs : 0,
                out);
        for (k = 0; k < NDX_SKIP_REASON_COUNT; k++) {
            if (!is->skipped[k])
                continue;
            fprintf(stderr, "%s%s %llu", any ? ", " : "; ",
                    ndx_skip_reason_name((ndx_skip_reason)k),
                    (unsigned long long)is->skipped[k]);
            any = 1;
        }
        if (is->replaced)
            fprintf(stderr, "%sreplaced %llu", any ? ", " : "; ",
                    (unsigned long long)is->replaced), any = 1;
        if (folded)
            fprintf(stderr, "%snear-duplicates folded %llu",
                    any ? ", " : "; ", (unsigned long long)folded), any = 1;
        if (clustered)
            fprintf(stderr, "%sclustered with another source %llu",
                    any ? ", " : "; ", (unsigned long long)clustered), any = 1;
        if (empty)
            fprintf(stderr, "%sno text after cleaning %llu",
                    any ? ", " : "; ", (unsigned long long)empty), any = 1;
        if (cleaner && ndx_cleaner_learned_count(cleaner))
            fprintf(stderr, "%slearned furniture lines %zu",
                    any ? ", " : "; ", ndx_cleaner_learned_count(cleaner));
        fputc('\n', stderr);
        if (cleaner)
            print_top_furniture(cleaner);
        if (ws.total > ws.shown)
            fprintf(stderr, "newsdex-index: %lu more warnings not shown\n",
                    ws.total - ws.shown);
    }
    rc = 0;
    /* The articles are committed; the merges that follow failed.  With
     * --optimize that was the point of the run: it fails. */
    if (merge_warning && (optimize || !quiet))
        say_merge_failure(out, articles, deleted, merge_warning, optimize);
    unmerged = merge_warning && optimize;
    /* The rest is committed, but a file that gave nothing at all is a
     * failure of the run (a script must notice it). */
    if (r && ndx_reader_stats(r)->files_unread) {
        fprintf(stderr, "newsdex-index: %llu input file(s) could not be "
                        "read at all (named in the warnings above); the "
                        "other files are committed\n",
                (unsigned long long)ndx_reader_stats(r)->files_unread);
        unread = 1;
    }
fail:
    if (rc) {
        if (tty)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "newsdex-index: %s\n", ndx_errmsg());
        if (ix && !committed)
            fprintf(stderr, "newsdex-index: nothing was committed; %s is "
                            "as it was before\n",
                    out);
    }
    /* A run that failed while reading lets the learner end first: it
     * reads the kept articles and the cleaner. */
    (void)learner_finish(&lrn);
    ndx_index_close(ix);
    ndx_reader_close(r);
    ndx_cleaner_free(cleaner);
    hold_free(&hold);
    return rc ? rc : unread || unmerged;
}
