/*
 * test_reader.c - corpus readers: JSON Lines fields and defaults,
 * duplicates, text files with manifest / header / inline / guessed
 * metadata, every kind of bad input in tests/fixtures/bad/ (and a 50 MB
 * line and a symlink loop made at test time), strict mode, the seed
 * corpus with and without its manifest, and the shared corpora samples
 * against an independent reading with zlib and jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <zlib.h>

#include "newsdex/ingest.h"
#include "support.h"

#define FIX "tests/fixtures/"

/* AddressSanitizer keeps freed memory in quarantine, so peak memory says
 * nothing under it. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif
#define MAXW 64
#define MAXA 64

typedef struct warns {
    int count;
    char file[MAXW][256];
    long line[MAXW];
    char msg[MAXW][512];
} warns;

typedef struct art {
    char id[64], source[64], title[128], url[128], lang[32];
    char text[256];
    size_t text_len;
    int32_t days, secs;
    long line;
} art;

typedef struct got {
    art a[MAXA];
    int n;
    ndx_status end; /* what the last next() returned */
    ndx_ingest_stats stats;
} got;

static void
on_warn(void *ctx, const char *file, long line, const char *msg)
{
    warns *w = ctx;

    if (w->count < MAXW) {
        snprintf(w->file[w->count], sizeof w->file[0], "%s",
                 file ? file : "");
        w->line[w->count] = line;
        snprintf(w->msg[w->count], sizeof w->msg[0], "%s", msg);
    }
    w->count++;
}

/* Reads every article of paths; returns the open status. */
static ndx_status
read_all(const char *const *paths, size_t n, unsigned flags, warns *w,
         got *g)
{
    ndx_reader *r = NULL;
    const ndx_article *a;
    ndx_status st;

    memset(g, 0, sizeof *g);
    if (w)
        memset(w, 0, sizeof *w);
    st = ndx_reader_open(&r, paths, n, flags, w ? on_warn : NULL, w);
    if (st)
        return st;
    while ((st = ndx_reader_next(r, &a)) == NDX_OK && a) {
        if (g->n < MAXA) {
            art *x = &g->a[g->n];
            snprintf(x->id, sizeof x->id, "%s", a->id);
            snprintf(x->source, sizeof x->source, "%s", a->source);
            snprintf(x->title, sizeof x->title, "%s", a->title);
            snprintf(x->url, sizeof x->url, "%s", a->url);
            snprintf(x->lang, sizeof x->lang, "%s", a->lang);
            snprintf(x->text, sizeof x->text, "%s", a->text);
            x->text_len = a->text_len;
            x->days = a->date_days;
            x->secs = a->time_secs;
            x->line = a->line;
            CU_ASSERT_EQUAL(strlen(a->text), a->text_len);
        }
        g->n++;
    }
    g->end = st;
    g->stats = *ndx_reader_stats(r);
    ndx_reader_close(r);
    return NDX_OK;
}

/* read_all for the one path, which the reader must open. */
static void
read_one(const char *path, warns *w, got *g)
{
    const char *paths[] = {path};

    CU_ASSERT_EQUAL_FATAL(read_all(paths, 1, 0, w, g), NDX_OK);
}

/* read_one, and the reader must reach the end without an error. */
static void
read_to_end(const char *path, warns *w, got *g)
{
    read_one(path, w, g);
    CU_ASSERT_EQUAL(g->end, NDX_OK);
}

/* Checks that g holds exactly the n articles of ids, in that order. */
static void
expect_ids(const got *g, const char *const *ids, int n)
{
    int i;

    CU_ASSERT_EQUAL_FATAL(g->n, n);
    for (i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(g->a[i].id, ids[i]);
}

static void
test_reader_jsonl_fields_and_defaults(void)
{
    warns w;
    got g;

    read_to_end(FIX "ingest/good.jsonl", &w, &g);
    CU_ASSERT_EQUAL(w.count, 0);
    CU_ASSERT_EQUAL_FATAL(g.n, 5);
    CU_ASSERT_EQUAL(g.stats.articles, 5);
    CU_ASSERT_EQUAL(g.stats.files, 1);

    CU_ASSERT_STRING_EQUAL(g.a[0].id, "g1");
    CU_ASSERT_STRING_EQUAL(g.a[0].source, "Newsweek");
    CU_ASSERT_STRING_EQUAL(g.a[0].title, "Rubio gives assurances");
    CU_ASSERT_STRING_EQUAL(g.a[0].url, "https://www.newsweek.com/rubio-1");
    CU_ASSERT_STRING_EQUAL(g.a[0].text, "Rubio gave assurances in Brussels."
                                        "\n\nKallas said so on Friday.");
    CU_ASSERT_EQUAL(g.a[0].days, 20182);
    CU_ASSERT_EQUAL(g.a[0].secs, -1);
    CU_ASSERT_STRING_EQUAL(g.a[0].lang, "");
    CU_ASSERT_EQUAL(g.a[0].line, 1);

    /* Unknown fields are ignored; "April 17, 2025" is read. */
    CU_ASSERT_STRING_EQUAL(g.a[1].id, "g2");
    CU_ASSERT_STRING_EQUAL(g.a[1].lang, "english");
    CU_ASSERT_EQUAL(g.a[1].days, 20195);

    /* A numeric id; an empty source is unknown. */
    CU_ASSERT_STRING_EQUAL(g.a[2].id, "7");
    CU_ASSERT_STRING_EQUAL(g.a[2].source, "unknown");
    CU_ASSERT_EQUAL(g.a[2].days, 20196);
    CU_ASSERT_EQUAL(g.a[2].secs, 36000);

    /* No id: file name and line. */
    CU_ASSERT_STRING_EQUAL(g.a[3].id, "good.jsonl:4");
    CU_ASSERT_STRING_EQUAL(g.a[3].source, "Reuters");
    CU_ASSERT_EQUAL(g.a[3].days, 6265);

    /* After a blank line 5: null date, no title, url or source. */
    CU_ASSERT_STRING_EQUAL(g.a[4].id, "g5");
    CU_ASSERT_EQUAL(g.a[4].line, 6);
    CU_ASSERT_EQUAL(g.a[4].days, NDX_DATE_NONE);
    CU_ASSERT_STRING_EQUAL(g.a[4].title, "");
    CU_ASSERT_STRING_EQUAL(g.a[4].url, "");
    CU_ASSERT_STRING_EQUAL(g.a[4].source, "unknown");
    /* An ISO code becomes the Snowball name. */
    CU_ASSERT_STRING_EQUAL(g.a[4].lang, "french");
}

static void
test_reader_duplicates_last_wins(void)
{
    /* d1, d2, d1 again (same id), d3 under d2 (same url), d4 skipped
     * (same text as d2), d5. */
    static const char *const ids[] = {"d1", "d2", "d1", "d2", "d5"};
    warns w;
    got g;

    read_one(FIX "ingest/dups.jsonl", &w, &g);
    expect_ids(&g, ids, 5);
    CU_ASSERT_STRING_EQUAL(g.a[2].text, "Second version of story one.");
    CU_ASSERT_STRING_EQUAL(g.a[3].text, "Story two, corrected.");
    CU_ASSERT_EQUAL(g.stats.replaced, 2);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_DUPLICATE], 1);
    CU_ASSERT_EQUAL(g.stats.articles, 5);
    CU_ASSERT_EQUAL_FATAL(w.count, 3);
    CU_ASSERT_EQUAL(w.line[2], 5);
    CU_ASSERT(strstr(w.msg[2], "\"d4\"") && strstr(w.msg[2], "\"d2\""));
    CU_ASSERT(strstr(w.file[2], "dups.jsonl") != NULL);
}

static void
test_reader_text_metadata_order(void)
{
    warns w;
    got g;
    int i;

    read_one(FIX "ingest/text", &w, &g);
    CU_ASSERT_EQUAL(w.count, 0);
    CU_ASSERT_EQUAL_FATAL(g.n, 4);
    /* a.txt: the manifest wins over the header lines; the header title
     * fills the manifest's empty cell; headers leave the text. */
    CU_ASSERT_STRING_EQUAL(g.a[0].id, "art-a");
    CU_ASSERT_EQUAL(g.a[0].days, 20182);
    CU_ASSERT_STRING_EQUAL(g.a[0].source, "Newsweek");
    CU_ASSERT_STRING_EQUAL(g.a[0].title, "Header Title A");
    CU_ASSERT_STRING_EQUAL(g.a[0].url, "https://newsweek.com/a");
    CU_ASSERT_STRING_EQUAL(g.a[0].text,
                           "Header Title A\nThe body of article A starts "
                           "here and talks about talks.\n");
    /* b.txt: inline date removed, manifest title, id from the name. */
    CU_ASSERT_STRING_EQUAL(g.a[1].id, "b");
    CU_ASSERT_EQUAL(g.a[1].days, 20419);
    CU_ASSERT_STRING_EQUAL(g.a[1].source, "unknown");
    CU_ASSERT_STRING_EQUAL(g.a[1].title, "Manifest Title B");
    CU_ASSERT(strncmp(g.a[1].text, "The first sentence of article B", 31)
              == 0);
    /* c.txt.gz: guesses; "Menu" is no title. */
    CU_ASSERT_STRING_EQUAL(g.a[2].id, "c");
    CU_ASSERT_STRING_EQUAL(g.a[2].title, "Short Title For C");
    CU_ASSERT_EQUAL(g.a[2].days, 20196);
    CU_ASSERT_STRING_EQUAL(g.a[2].source, "unknown");
    /* d.txt: header source and url, no date, a sentence is no title. */
    CU_ASSERT_STRING_EQUAL(g.a[3].id, "d");
    CU_ASSERT_STRING_EQUAL(g.a[3].source, "Only Header");
    CU_ASSERT_STRING_EQUAL(g.a[3].url, "https://x.example/d");
    CU_ASSERT_EQUAL(g.a[3].days, NDX_DATE_NONE);
    CU_ASSERT_STRING_EQUAL(g.a[3].title, "");
    CU_ASSERT_STRING_EQUAL(g.a[3].text, "The text of D has no date.\n");
    for (i = 0; i < g.n; i++)
        CU_ASSERT_EQUAL(g.a[i].line, 0);
}

static void
test_reader_bad_records_skipped_good_kept(void)
{
    static const long warn_lines[] = {2, 3, 4, 5, 6, 7, 8, 9, 10};
    static const char *const ids[] = {"m1", "m6",  "m7", "m8",
                                      "m9", "m10", "m11"};
    warns w;
    got g;
    int i;

    read_to_end(FIX "bad/mixed.jsonl", &w, &g);
    expect_ids(&g, ids, 7);
    /* Unparseable dates: kept, undated. */
    CU_ASSERT_EQUAL(g.a[1].days, NDX_DATE_NONE);
    CU_ASSERT_EQUAL(g.a[2].days, NDX_DATE_NONE);
    /* Invalid bytes become U+FFFD; NUL bytes go. */
    CU_ASSERT_STRING_EQUAL(g.a[3].text, "Bad byte \xef\xbf\xbd here and "
                                        "\xef\xbf\xbd there.");
    CU_ASSERT_STRING_EQUAL(g.a[4].text, "NUL byte raw.");
    CU_ASSERT_EQUAL(g.a[4].text_len, 13);
    CU_ASSERT_STRING_EQUAL(g.a[5].text, "Escaped  NUL.");
    CU_ASSERT_EQUAL(g.a[6].line, 11);

    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_JSON], 2);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_NO_TEXT], 2);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_BAD_DATE], 2);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_BAD_UTF8], 3);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_TOO_LARGE], 0);
    CU_ASSERT_EQUAL(g.stats.articles, 7);
    CU_ASSERT_EQUAL_FATAL(w.count, 9);
    for (i = 0; i < 9; i++) {
        CU_ASSERT_EQUAL(w.line[i], warn_lines[i]);
        CU_ASSERT(strstr(w.file[i], "mixed.jsonl") != NULL);
    }
    /* Messages say what happened and what to do. */
    CU_ASSERT(strstr(w.msg[0], "not valid JSON") != NULL);
    CU_ASSERT(strstr(w.msg[0], "fix or remove the line") != NULL);
    CU_ASSERT(strstr(w.msg[1], "text") != NULL);
    CU_ASSERT(strstr(w.msg[4], "the day after tomorrow") != NULL);
    CU_ASSERT(strstr(w.msg[6], "UTF-8") != NULL);
}

static void
test_reader_truncated_gzip_keeps_articles_before(void)
{
    warns w;
    got g;
    int i;

    read_to_end(FIX "bad/truncated.jsonl.gz", &w, &g);
    /* The first gzip member holds t1..t10 whole; the second is cut off
     * inside its first line. */
    CU_ASSERT_EQUAL_FATAL(g.n, 10);
    for (i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%d", i + 1);
        CU_ASSERT_STRING_EQUAL(g.a[i].id, id);
    }
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_UNREADABLE], 1);
    CU_ASSERT_EQUAL_FATAL(w.count, 1);
    CU_ASSERT(strstr(w.file[0], "truncated.jsonl.gz") != NULL);
    CU_ASSERT_EQUAL(w.line[0], 10);
    CU_ASSERT(strstr(w.msg[0], "after line 10") != NULL);
}

static void
test_reader_empty_files_warn(void)
{
    const char *jsonl[] = {FIX "bad/empty.jsonl"};
    const char *txt[] = {FIX "bad/empty.txt"};
    warns w;
    got g;

    CU_ASSERT_EQUAL_FATAL(read_all(jsonl, 1, 0, &w, &g), NDX_OK);
    CU_ASSERT_EQUAL(g.n, 0);
    CU_ASSERT_EQUAL(g.end, NDX_OK);
    CU_ASSERT_EQUAL_FATAL(w.count, 1);
    CU_ASSERT(strstr(w.msg[0], "empty") != NULL);
    CU_ASSERT(strstr(w.file[0], "empty.jsonl") != NULL);

    CU_ASSERT_EQUAL_FATAL(read_all(txt, 1, 0, &w, &g), NDX_OK);
    CU_ASSERT_EQUAL(g.n, 0);
    CU_ASSERT_EQUAL_FATAL(w.count, 1);
    CU_ASSERT(strstr(w.msg[0], "empty") != NULL);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_NO_TEXT], 1);
}

static void
test_reader_bad_directory_reads_every_good_article(void)
{
    warns w;
    got g;
    int i;

    read_to_end(FIX "bad", &w, &g);
    /* bad_utf8.txt 1 + mixed.jsonl 7 + truncated.jsonl.gz 10, in name
     * order. */
    CU_ASSERT_EQUAL_FATAL(g.n, 18);
    CU_ASSERT_STRING_EQUAL(g.a[0].id, "bad_utf8");
    CU_ASSERT_STRING_EQUAL(g.a[0].title, "Title with bad \xef\xbf\xbd byte");
    CU_ASSERT(strstr(g.a[0].text, "a NUL byte and more") != NULL);
    CU_ASSERT_STRING_EQUAL(g.a[1].id, "m1");
    CU_ASSERT_STRING_EQUAL(g.a[7].id, "m11");
    CU_ASSERT_STRING_EQUAL(g.a[8].id, "t1");
    CU_ASSERT_STRING_EQUAL(g.a[17].id, "t10");
    CU_ASSERT_EQUAL(g.stats.files, 5);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_BAD_UTF8], 4);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_NO_TEXT], 3);
    /* 1 + 1 (empty.jsonl) + 1 + 9 + 1 warnings. */
    CU_ASSERT_EQUAL(w.count, 13);
    for (i = 0; i < w.count && i < MAXW; i++)
        CU_ASSERT(strncmp(w.file[i], FIX "bad/", strlen(FIX "bad/")) == 0);
}

static void
test_reader_strict_mode_stops_at_first_bad_record(void)
{
    const char *paths[] = {FIX "bad/mixed.jsonl"};
    ndx_reader *r = NULL;
    const ndx_article *a = NULL;
    warns w;

    memset(&w, 0, sizeof w);
    CU_ASSERT_EQUAL_FATAL(ndx_reader_open(&r, paths, 1, NDX_INGEST_STRICT,
                                          on_warn, &w), NDX_OK);
    CU_ASSERT_EQUAL(ndx_reader_next(r, &a), NDX_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(a->id, "m1");
    CU_ASSERT_EQUAL(ndx_reader_next(r, &a), NDX_EINVAL);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT(strstr(ndx_errmsg(), "mixed.jsonl:2:") != NULL);
    CU_ASSERT(strstr(ndx_errmsg(), "not valid JSON") != NULL);
    /* It stays stopped. */
    CU_ASSERT_EQUAL(ndx_reader_next(r, &a), NDX_EINVAL);
    CU_ASSERT_EQUAL(w.count, 0);
    ndx_reader_close(r);
}

/* Writes good / 50 MB / good lines into dir/big.jsonl. */
static int
write_big(const char *path)
{
    FILE *f = fopen(path, "wb");
    static char chunk[1 << 16];
    size_t i;

    if (!f)
        return -1;
    memset(chunk, 'x', sizeof chunk);
    fputs("{\"id\":\"before\",\"text\":\"The article before.\"}\n", f);
    fputs("{\"id\":\"big\",\"text\":\"", f);
    for (i = 0; i < (50u << 20) / sizeof chunk; i++)
        fwrite(chunk, 1, sizeof chunk, f);
    fputs("\"}\n", f);
    fputs("{\"id\":\"after\",\"text\":\"The article after.\"}\n", f);
    return fclose(f);
}

static void
test_reader_huge_line_skipped_in_bounded_memory(void)
{
    char path[512];
    const char *paths[1];
    warns w;
    got g;
    pid_t pid;
    int status = -1;

    snprintf(path, sizeof path, "%s/big.jsonl", t_tmpdir());
    CU_ASSERT_EQUAL_FATAL(write_big(path), 0);
    paths[0] = path;
    CU_ASSERT_EQUAL_FATAL(read_all(paths, 1, 0, &w, &g), NDX_OK);
    CU_ASSERT_EQUAL_FATAL(g.n, 2);
    CU_ASSERT_STRING_EQUAL(g.a[0].id, "before");
    CU_ASSERT_STRING_EQUAL(g.a[1].id, "after");
    CU_ASSERT_EQUAL(g.a[1].line, 3);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_TOO_LARGE], 1);
    CU_ASSERT_EQUAL_FATAL(w.count, 1);
    CU_ASSERT_EQUAL(w.line[0], 2);
    CU_ASSERT(strstr(w.msg[0], "16 MiB") != NULL);

    /* In a fresh process, reading the file peaks well below the 50 MB the
     * line would need whole. */
    if (UNDER_ASAN) {
        printf("\n    peak memory not checked under AddressSanitizer ");
        unlink(path);
        return;
    }
    pid = fork();
    if (pid == 0) {
        struct rusage ru;
        ndx_reader *r = NULL;
        const ndx_article *a;
        int n = 0;
        long base_kb;

        /* The child starts with the parent's pages: measure the growth
         * over what it has at the start, as the peak. */
        getrusage(RUSAGE_SELF, &ru);
        base_kb = ru.ru_maxrss;
        if (ndx_reader_open(&r, paths, 1, 0, NULL, NULL) != NDX_OK)
            _exit(2);
        while (ndx_reader_next(r, &a) == NDX_OK && a)
            n++;
        ndx_reader_close(r);
        getrusage(RUSAGE_SELF, &ru);
        _exit(n == 2 && ru.ru_maxrss - base_kb < 45 * 1024 ? 0 : 1);
    }
    CU_ASSERT_FATAL(pid > 0);
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(path);
}

static void
test_reader_symlink_loop_warned_once(void)
{
    const char *dir = t_tmpdir();
    char d[512], sub[512], p[600];
    static const char one[] = "{\"id\":\"a\",\"text\":\"Article a.\"}\n";
    static const char two[] = "{\"id\":\"b\",\"text\":\"Article b.\"}\n";
    static const char *const ab[] = {"a", "b"};
    warns w;
    got g;

    snprintf(d, sizeof d, "%s/d", dir);
    snprintf(sub, sizeof sub, "%s/d/sub", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(d, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0);
    snprintf(p, sizeof p, "%s/a.jsonl", d);
    CU_ASSERT_EQUAL_FATAL(t_write(p, one, sizeof one - 1), 0);
    snprintf(p, sizeof p, "%s/b.jsonl", sub);
    CU_ASSERT_EQUAL_FATAL(t_write(p, two, sizeof two - 1), 0);
    snprintf(p, sizeof p, "%s/loop", sub);
    CU_ASSERT_EQUAL_FATAL(symlink("..", p), 0);
    read_one(d, &w, &g);
    expect_ids(&g, ab, 2);
    CU_ASSERT_EQUAL_FATAL(w.count, 1);
    CU_ASSERT(strstr(w.msg[0], "loop") != NULL);
    CU_ASSERT(strstr(w.msg[0], "sub/loop") != NULL);
    /* The same file given twice is read once. */
    {
        const char *twice[] = {d, p};
        snprintf(p, sizeof p, "%s/a.jsonl", d);
        CU_ASSERT_EQUAL_FATAL(read_all(twice, 2, 0, NULL, &g), NDX_OK);
        CU_ASSERT_EQUAL(g.n, 2);
    }
}

static void
test_reader_open_errors_name_the_path(void)
{
    const char *missing[] = {"tests/fixtures/no-such-dir"};
    const char *plain[] = {"tests/fixtures/ingest/text/manifest.tsv"};
    const char *dir = t_tmpdir();
    const char *empty[] = {dir};
    ndx_reader *r = (ndx_reader *)1;

    CU_ASSERT_EQUAL(ndx_reader_open(&r, missing, 1, 0, NULL, NULL),
                    NDX_ENOTFOUND);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT(strstr(ndx_errmsg(), "no-such-dir") != NULL);
    CU_ASSERT_EQUAL(ndx_reader_open(&r, empty, 1, 0, NULL, NULL),
                    NDX_ENOTFOUND);
    CU_ASSERT(strstr(ndx_errmsg(), "no .txt or .jsonl files in") != NULL);
    CU_ASSERT_EQUAL(ndx_reader_open(&r, plain, 1, 0, NULL, NULL),
                    NDX_EINVAL);
    CU_ASSERT_EQUAL(ndx_reader_open(&r, plain, 0, 0, NULL, NULL),
                    NDX_EINVAL);
    ndx_reader_close(NULL);
}

static void
test_reader_progress_bytes(void)
{
    const char *paths[] = {FIX "ingest/good.jsonl", FIX "ingest/dups.jsonl"};
    struct stat a, b;
    ndx_reader *r = NULL;
    const ndx_article *item;

    CU_ASSERT_EQUAL_FATAL(stat(paths[0], &a), 0);
    CU_ASSERT_EQUAL_FATAL(stat(paths[1], &b), 0);
    CU_ASSERT_EQUAL_FATAL(ndx_reader_open(&r, paths, 2, 0, NULL, NULL),
                          NDX_OK);
    CU_ASSERT_EQUAL(ndx_reader_total_bytes(r),
                    (uint64_t)a.st_size + (uint64_t)b.st_size);
    CU_ASSERT_EQUAL(ndx_reader_done_bytes(r), 0);
    while (ndx_reader_next(r, &item) == NDX_OK && item)
        ;
    CU_ASSERT_EQUAL(ndx_reader_done_bytes(r), ndx_reader_total_bytes(r));
    CU_ASSERT_EQUAL(ndx_reader_stats(r)->bytes_in,
                    (uint64_t)a.st_size + (uint64_t)b.st_size);
    /* Plain files: decompressed bytes are the file bytes. */
    CU_ASSERT_EQUAL(ndx_reader_stats(r)->bytes_text,
                    (uint64_t)a.st_size + (uint64_t)b.st_size);
    ndx_reader_close(r);
}

static void
test_reader_skip_reason_names(void)
{
    CU_ASSERT_STRING_EQUAL(ndx_skip_reason_name(NDX_SKIP_JSON), "bad_json");
    CU_ASSERT_STRING_EQUAL(ndx_skip_reason_name(NDX_SKIP_NO_TEXT),
                           "no_text");
    CU_ASSERT_STRING_EQUAL(ndx_skip_reason_name(NDX_SKIP_TOO_LARGE),
                           "too_large");
    CU_ASSERT_STRING_EQUAL(ndx_skip_reason_name(NDX_SKIP_UNREADABLE),
                           "unreadable");
    CU_ASSERT_STRING_EQUAL(ndx_skip_reason_name(NDX_SKIP_DUPLICATE),
                           "duplicate");
    CU_ASSERT_STRING_EQUAL(ndx_skip_reason_name(NDX_SKIP_BAD_DATE),
                           "bad_date");
    CU_ASSERT_STRING_EQUAL(ndx_skip_reason_name(NDX_SKIP_BAD_UTF8),
                           "bad_utf8");
    CU_ASSERT_STRING_EQUAL(ndx_skip_reason_name(NDX_SKIP_REASON_COUNT),
                           "unknown");
}

static const char *const seed_ids[5] = {
    "000_5286196f00fcb6ee", "001_b6ab9d925da0c223", "002_59a3440c063501ba",
    "003_0036f894b85e4f95", "004_0d195e7965c4b621",
};

static void
test_reader_seed_corpus_takes_manifest_metadata(void)
{
    /* From corpus/manifest.tsv (and seeds/README.md). */
    static const int32_t days[5] = {20182, 20419, 20137, 20196, 20207};
    static const char *const sources[5] = {"Newsweek", "unknown", "USA TODAY",
                                           "Newslooks", "unknown"};
    static const char *const titles[5] = {
        "", "",
        "In meeting with US, Russia said NATO must disavow promise to "
        "Ukraine",
        "Rubio: U.S. Will End Ukraine-Russia Negotiations Without Quick "
        "Progress",
        "US may exit Russia-Ukraine peace talks if progress stalls: Rubio"};
    warns w;
    got g;
    int i;

    read_one("corpus", &w, &g);
    CU_ASSERT_EQUAL(w.count, 0);
    expect_ids(&g, seed_ids, 5);
    for (i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(g.a[i].days, days[i]);
        CU_ASSERT_STRING_EQUAL(g.a[i].source, sources[i]);
        CU_ASSERT_STRING_EQUAL(g.a[i].title, titles[i]);
    }
    /* The inline " date 2025-11-27 " is not article text. */
    CU_ASSERT(strncmp(g.a[1].text, "The United States is seeking", 28) == 0);
    /* The other files keep their text as it is. */
    CU_ASSERT(strncmp(g.a[2].text, "In meeting with US", 18) == 0);
}

static void
test_reader_seed_corpus_without_manifest_guesses(void)
{
    const char *dir = t_tmpdir();
    char cmd[600];
    warns w;
    got g;
    int i;

    snprintf(cmd, sizeof cmd, "cp corpus/*.txt '%s'/", dir);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, NULL, NULL), 0);
    read_one(dir, &w, &g);
    expect_ids(&g, seed_ids, 5);
    for (i = 0; i < 5; i++)
        CU_ASSERT_STRING_EQUAL(g.a[i].source, "unknown");
    /* 001 keeps its inline date. */
    CU_ASSERT_EQUAL(g.a[1].days, 20419);
    /* Guesses: "Update, 4/4/25" in 000; no date expression in 002; the
     * first photo caption ("Thursday, April 17, 2025") in 003 and 004. */
    CU_ASSERT_EQUAL(g.a[0].days, 20182);
    CU_ASSERT_EQUAL(g.a[2].days, NDX_DATE_NONE);
    CU_ASSERT_EQUAL(g.a[3].days, 20195);
    CU_ASSERT_EQUAL(g.a[4].days, 20195);
    /* Titles: the audio notice in 000 and "Top StoryUS" in 003 are
     * furniture; 000's first text line and 001's are long sentences. */
    CU_ASSERT_STRING_EQUAL(g.a[0].title, "");
    CU_ASSERT_STRING_EQUAL(g.a[1].title, "");
    CU_ASSERT_STRING_EQUAL(g.a[2].title,
                           "In meeting with US, Russia said NATO must "
                           "disavow promise to Ukraine");
    CU_ASSERT_STRING_EQUAL(g.a[3].title,
                           "Rubio: U.S. Will End Ukraine-Russia Negotiations "
                           "Without Quick Progress");
    CU_ASSERT_STRING_EQUAL(g.a[4].title,
                           "US may exit Russia-Ukraine peace talks if "
                           "progress stalls: Rubio");
}

/* ---- the shared corpora -------------------------------------------------- */

typedef struct truth {
    size_t lines;         /* JSON lines */
    size_t articles;      /* lines whose text was not seen before */
    char **sources;       /* distinct, sorted */
    size_t source_count;  /* entries */
    char min_date[11];    /* first 10 characters, smallest */
    char max_date[11];    /* largest */
} truth;

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
unique_sorted(char **v, size_t n)
{
    size_t i, k = 0;

    qsort(v, n, sizeof *v, cmp_str);
    for (i = 0; i < n; i++) {
        if (k && strcmp(v[k - 1], v[i]) == 0) {
            free(v[i]);
            continue;
        }
        v[k++] = v[i];
    }
    return k;
}

/* Reads a .jsonl.gz the plain way: zlib, lines, jansson. */
static int
independent_read(const char *path, truth *t)
{
    gzFile gz = gzopen(path, "rb");
    size_t cap = 1 << 20, len = 0, i, n_texts = 0;
    char *buf = malloc(cap), **texts = malloc(4096 * sizeof *texts);
    char **srcs = malloc(4096 * sizeof *srcs);
    int c;

    memset(t, 0, sizeof *t);
    if (!gz || !buf || !texts || !srcs)
        return -1;
    for (;;) {
        c = gzgetc(gz);
        if (c != '\n' && c != -1) {
            if (len + 1 >= cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                if (!buf)
                    return -1;
            }
            buf[len++] = (char)c;
            continue;
        }
        if (len > 0 && t->lines < 4096) {
            json_error_t err;
            json_t *o = json_loadb(buf, len, 0, &err), *v;
            const char *d;
            if (!o)
                return -1;
            t->lines++;
            texts[n_texts++] = strdup(json_string_value(
                json_object_get(o, "text")));
            srcs[t->source_count++] = strdup(json_string_value(
                json_object_get(o, "source")));
            v = json_object_get(o, "date");
            d = json_string_value(v);
            if (!t->min_date[0] || strncmp(d, t->min_date, 10) < 0)
                snprintf(t->min_date, sizeof t->min_date, "%.10s", d);
            if (strncmp(d, t->max_date, 10) > 0)
                snprintf(t->max_date, sizeof t->max_date, "%.10s", d);
            json_decref(o);
        }
        len = 0;
        if (c == -1)
            break;
    }
    gzclose(gz);
    free(buf);
    t->articles = unique_sorted(texts, n_texts);
    for (i = 0; i < t->articles; i++)
        free(texts[i]);
    free(texts);
    t->source_count = unique_sorted(srcs, t->source_count);
    t->sources = srcs;
    return 0;
}

static void
check_sample(const char *dir, const char *name)
{
    char path[600];
    const char *paths[1];
    truth t;
    ndx_reader *r = NULL;
    const ndx_article *a;
    char **srcs = malloc(4096 * sizeof *srcs);
    size_t n = 0, ns = 0, i;
    int32_t min_days = INT32_MAX, max_days = INT32_MIN;
    char min_s[11], max_s[11];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    paths[0] = path;
    CU_ASSERT_EQUAL_FATAL(independent_read(path, &t), 0);
    CU_ASSERT_FATAL(srcs != NULL);

    CU_ASSERT_EQUAL_FATAL(ndx_reader_open(&r, paths, 1, 0, NULL, NULL),
                          NDX_OK);
    while (ndx_reader_next(r, &a) == NDX_OK && a) {
        n++;
        if (ns < 4096)
            srcs[ns++] = strdup(a->source);
        CU_ASSERT(a->date_days != NDX_DATE_NONE);
        if (a->date_days < min_days)
            min_days = a->date_days;
        if (a->date_days > max_days)
            max_days = a->date_days;
    }
    CU_ASSERT_EQUAL(ndx_reader_stats(r)->skipped[NDX_SKIP_DUPLICATE],
                    t.lines - t.articles);
    ndx_reader_close(r);

    printf("\n    %s: %zu lines, %zu articles, %zu sources, %s..%s ", name,
           t.lines, n, t.source_count, t.min_date, t.max_date);
    CU_ASSERT_EQUAL(n, t.articles);
    ns = unique_sorted(srcs, ns);
    CU_ASSERT_EQUAL_FATAL(ns, t.source_count);
    for (i = 0; i < ns; i++)
        CU_ASSERT_STRING_EQUAL(srcs[i], t.sources[i]);
    ndx_date_format(min_days, min_s);
    ndx_date_format(max_days, max_s);
    CU_ASSERT_STRING_EQUAL(min_s, t.min_date);
    CU_ASSERT_STRING_EQUAL(max_s, t.max_date);
    for (i = 0; i < ns; i++) {
        free(srcs[i]);
        free(t.sources[i]);
    }
    free(srcs);
    free(t.sources);
}

static void
test_reader_corpora_samples_match_independent_reading(void)
{
    const char *dir = t_corpora();

    if (!dir) {
        t_skip("no shared corpora at ../shared/corpora");
        return;
    }
    check_sample(dir, "allsides-sample-1k.jsonl.gz");
    check_sample(dir, "reuters21578-sample-1k.jsonl.gz");
}

/* Flat lines of strings take the reader's own scanner, everything else
 * jansson; both must read a line the same way. */
static void
test_reader_jsonl_escapes_repeats_and_odd_values(void)
{
    static const char lines[] =
        "{\"id\": \"e1\", \"text\": \"caf\\u00e9 \\ud83d\\ude00 a\\/b "
        "\\\"q\\\" back\\\\slash\\ttab\"}\n"
        "{\"id\":\"e2\",\"title\":\"first\",\"title\":\"second\","
        "\"text\":\"repeated key\"}\n"
        "{\"id\": 42, \"text\": \"numeric id\"}\n"
        "{\"id\":\"e4\",\"date\":null,\"text\":\"null date\","
        "\"extra\":[1,{\"a\":2}]}\n"
        "{\"id\":\"e5\",\"date\":true,\"text\":\"bool date\"}\n"
        "{\"id\":\"e6\",\"text\":\"lone \\ud83d surrogate\"}\n"
        "{\"id\":\"e7\",\"text\":\"trailing\"} x\n"
        "{\"id\":\"e8\",\"text\":\"nul\\u0000byte\"}\n"
        " {\"text\" : \"spaced\" , \"id\" : \"e9\" , \"source\":\"S\", "
        "\"url\":\"u\", \"lang\":\"EN\", \"date\":\"2020-01-02\"} \n"
        "{\"id\":\"e10\",\"text\":\"   \"}\n"
        "{\"id\":\"e11\",\"text\":\"fine\",\"flag\":false,\"n\":null}\n";
    char path[512];
    warns w;
    got g;

    snprintf(path, sizeof path, "%s/odd.jsonl", t_tmpdir());
    CU_ASSERT_EQUAL_FATAL(t_write(path, lines, sizeof lines - 1), 0);
    read_to_end(path, &w, &g);
    CU_ASSERT_EQUAL_FATAL(g.n, 8);
    CU_ASSERT_STRING_EQUAL(g.a[0].id, "e1");
    CU_ASSERT_STRING_EQUAL(g.a[0].text, "caf\xc3\xa9 \xf0\x9f\x98\x80 a/b "
                                        "\"q\" back\\slash\ttab");
    CU_ASSERT_STRING_EQUAL(g.a[1].title, "second");
    CU_ASSERT_STRING_EQUAL(g.a[2].id, "42");
    CU_ASSERT_STRING_EQUAL(g.a[3].id, "e4");
    CU_ASSERT_EQUAL(g.a[3].days, NDX_DATE_NONE);
    CU_ASSERT_STRING_EQUAL(g.a[4].id, "e5");
    CU_ASSERT_EQUAL(g.a[4].days, NDX_DATE_NONE);
    CU_ASSERT_STRING_EQUAL(g.a[5].id, "e8");
    CU_ASSERT_STRING_EQUAL(g.a[5].text, "nulbyte");
    CU_ASSERT_STRING_EQUAL(g.a[6].id, "e9");
    CU_ASSERT_STRING_EQUAL(g.a[6].text, "spaced");
    CU_ASSERT_STRING_EQUAL(g.a[6].source, "S");
    CU_ASSERT_STRING_EQUAL(g.a[6].url, "u");
    CU_ASSERT_STRING_EQUAL(g.a[6].lang, "english");
    CU_ASSERT_EQUAL(g.a[6].days, 18263); /* 2020-01-02 */
    CU_ASSERT_STRING_EQUAL(g.a[7].id, "e11");
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_JSON], 2);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_NO_TEXT], 1);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_BAD_DATE], 1);
    CU_ASSERT_EQUAL(g.stats.skipped[NDX_SKIP_BAD_UTF8], 1);
    CU_ASSERT_EQUAL_FATAL(w.count, 5);
    CU_ASSERT_EQUAL(w.line[0], 5);
    CU_ASSERT(strstr(w.msg[0], "(not a string)") != NULL);
    CU_ASSERT_EQUAL(w.line[1], 6);
    CU_ASSERT(strstr(w.msg[1], "not valid JSON") != NULL);
    CU_ASSERT_EQUAL(w.line[2], 7);
    CU_ASSERT(strstr(w.msg[2], "not valid JSON") != NULL);
    CU_ASSERT_EQUAL(w.line[3], 8);
    CU_ASSERT(strstr(w.msg[3], "NUL bytes dropped") != NULL);
    CU_ASSERT_EQUAL(w.line[4], 10);
    CU_ASSERT(strstr(w.msg[4], "no \"text\"") != NULL);
}

CU_TestInfo reader_tests[] = {
    {"test_reader_jsonl_fields_and_defaults",
     test_reader_jsonl_fields_and_defaults},
    {"test_reader_jsonl_escapes_repeats_and_odd_values",
     test_reader_jsonl_escapes_repeats_and_odd_values},
    {"test_reader_duplicates_last_wins", test_reader_duplicates_last_wins},
    {"test_reader_text_metadata_order", test_reader_text_metadata_order},
    {"test_reader_bad_records_skipped_good_kept",
     test_reader_bad_records_skipped_good_kept},
    {"test_reader_truncated_gzip_keeps_articles_before",
     test_reader_truncated_gzip_keeps_articles_before},
    {"test_reader_empty_files_warn", test_reader_empty_files_warn},
    {"test_reader_bad_directory_reads_every_good_article",
     test_reader_bad_directory_reads_every_good_article},
    {"test_reader_strict_mode_stops_at_first_bad_record",
     test_reader_strict_mode_stops_at_first_bad_record},
    {"test_reader_huge_line_skipped_in_bounded_memory",
     test_reader_huge_line_skipped_in_bounded_memory},
    {"test_reader_symlink_loop_warned_once",
     test_reader_symlink_loop_warned_once},
    {"test_reader_open_errors_name_the_path",
     test_reader_open_errors_name_the_path},
    {"test_reader_progress_bytes", test_reader_progress_bytes},
    {"test_reader_skip_reason_names", test_reader_skip_reason_names},
    {"test_reader_seed_corpus_takes_manifest_metadata",
     test_reader_seed_corpus_takes_manifest_metadata},
    {"test_reader_seed_corpus_without_manifest_guesses",
     test_reader_seed_corpus_without_manifest_guesses},
    {"test_reader_corpora_samples_match_independent_reading",
     test_reader_corpora_samples_match_independent_reading},
    CU_TEST_INFO_NULL,
};
