/*
 * test_e2e.c - end to end through the programs: index corpus/ with
 * newsdex-index, search it with newsdex-search, and check results worked
 * out by reading the five seed articles; bad input and bad queries; and,
 * when the shared corpora are present, their 1k samples checked against
 * an independent reading of the files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <CUnit/CUnit.h>
#include <jansson.h>

#include "support.h"
#include "util/buf.h"

#define A000 "000_5286196f00fcb6ee"
#define A001 "001_b6ab9d925da0c223"
#define A002 "002_59a3440c063501ba"
#define A003 "003_0036f894b85e4f95"
#define A004 "004_0d195e7965c4b621"

static char corpus_index[400];

/* Builds the corpus index once for the suite. */
static const char *
corpus_idx(void)
{
    char cmd[1200];
    char *err = NULL;
    int rc;

    if (corpus_index[0])
        return corpus_index;
    snprintf(corpus_index, sizeof corpus_index, "%s/corpus.idx", t_tmpdir());
    snprintf(cmd, sizeof cmd, "%s -o %s corpus", t_prog("newsdex-index"),
             corpus_index);
    rc = t_run(cmd, NULL, &err);
    if (rc != 0)
        fprintf(stderr, "indexing corpus failed (%d): %s\n", rc,
                err ? err : "");
    free(err);
    CU_ASSERT_FATAL(rc == 0);
    return corpus_index;
}

/* Runs newsdex-search --json with extra arguments and a query; returns the
 * parsed response (caller decrefs) or NULL. */
static json_t *
search_json(const char *index, const char *args, const char *query, int *rc)
{
    char cmd[2000], qfile[400];
    char *out = NULL;
    json_t *j;
    json_error_t e;
    int r;

    /* The query goes through a file to keep the shell out of it. */
    snprintf(qfile, sizeof qfile, "%s/q", t_tmpdir());
    t_write(qfile, query, strlen(query));
    snprintf(cmd, sizeof cmd, "%s -i %s --json -k 50 %s -- \"$(cat %s)\"",
             t_prog("newsdex-search"), index, args ? args : "", qfile);
    r = t_run(cmd, &out, NULL);
    if (rc)
        *rc = r;
    j = out ? json_loads(out, 0, &e) : NULL;
    free(out);
    return j;
}

/* The sorted, comma-joined article ids of a response's hits. */
static void
hit_ids(json_t *resp, char *out, size_t cap)
{
    json_t *hits = json_object_get(resp, "hits");
    const char *ids[64];
    size_t n = 0, i, j;

    out[0] = '\0';
    for (i = 0; i < json_array_size(hits) && n < 64; i++)
        ids[n++] = json_string_value(
            json_object_get(json_array_get(hits, i), "article"));
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && strcmp(ids[j - 1], ids[j]) > 0; j--) {
            const char *t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    for (i = 0; i < n; i++) {
        strncat(out, i ? "," : "", cap - strlen(out) - 1);
        strncat(out, ids[i] ? ids[i] : "?", cap - strlen(out) - 1);
    }
}

/* Searches index for query and checks the hits' articles (sorted, comma
 * joined: hit_ids) and that the total counts them. */
static void
expect_ids_in(const char *index, const char *query, const char *want)
{
    char got[2000];
    int rc = -1;
    json_t *r = search_json(index, NULL, query, &rc);

    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    hit_ids(r, got, sizeof got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\nquery %s: got [%s], want [%s]\n", query, got,
                want);
    CU_ASSERT_STRING_EQUAL(got, want);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "total")),
                    json_array_size(json_object_get(r, "hits")));
    json_decref(r);
}

/* expect_ids_in on the corpus index. */
static void
expect_ids(const char *query, const char *want)
{
    expect_ids_in(corpus_idx(), query, want);
}

/* Indexes first into idx, then adds later to it with --add. */
static void
index_then_add(const char *idx, const char *first, const char *later)
{
    char cmd[2400];

    snprintf(cmd, sizeof cmd, "%s -q -o %s %s && %s -q --add -o %s %s",
             t_prog("newsdex-index"), idx, first, t_prog("newsdex-index"),
             idx, later);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, NULL, NULL), 0);
}

static void
test_e2e_phrase_nothing_about_ukraine_matches_newsweek_only(void)
{
    int rc;
    json_t *r = search_json(corpus_idx(), NULL,
                            "\"nothing about Ukraine without Ukraine\"", &rc);
    json_t *h;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(r, "hits")), 1);
    h = json_array_get(json_object_get(r, "hits"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(h, "article")),
                           A000);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(h, "source")),
                           "Newsweek");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(h, "date")),
                           "2025-04-04");
    json_decref(r);
}

static void
test_e2e_phrase_is_unstemmed_but_words_are_stemmed(void)
{
    /* Only 002 says "security guarantee" (singular); 001, 002 and 003
     * all say "security guarantees". */
    expect_ids("\"security guarantee\"", A002);
    expect_ids("security guarantee", A001 "," A002 "," A003);
    expect_ids("\"security guarantees\"", A001 "," A002 "," A003);
}

static void
test_e2e_source_and_date_filters(void)
{
    /* "minerals" is in 003 only (Newslooks); Witkoff is in 001
     * (2025-11-27) and 004 (2025-04-29). */
    expect_ids("minerals source:newslooks", A003);
    expect_ids("minerals source:newsweek", "");
    expect_ids("Witkoff", A001 "," A004);
    expect_ids("Witkoff date:2025-04", A004);
    expect_ids("Witkoff after:2025-05-01", A001);
    expect_ids("Witkoff before:2025-05-01", A004);
    expect_ids("source:\"usa today\"", A002);
}

static void
test_e2e_boolean_operators(void)
{
    /* Witkoff: 001, 004; minerals: 003. */
    expect_ids("Witkoff OR minerals", A001 "," A003 "," A004);
    expect_ids("Witkoff -minerals", A001 "," A004);
    /* 001 mentions Driscoll alongside Witkoff; 004 does not. */
    expect_ids("Witkoff -Driscoll", A004);
    expect_ids("Witkoff NOT Driscoll", A004);
    expect_ids("(Witkoff OR minerals) source:newslooks", A003);
}

static void
test_e2e_numbers_are_searchable(void)
{
    /* 001: "reduce its armed forces to 600,000 personnel" */
    expect_ids("600,000", A001);
    expect_ids("600000 personnel", A001);
}

static void
test_e2e_every_snippet_highlights_a_query_word(void)
{
    const char *queries[] = {"Ukraine", "security guarantee", "\"red lines\"",
                             "Rubio OR Kallas", "negotiat*", "title:rubio"};
    size_t i, k;

    for (i = 0; i < sizeof queries / sizeof *queries; i++) {
        json_t *r = search_json(corpus_idx(), NULL, queries[i], NULL);
        json_t *hits;

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        hits = json_object_get(r, "hits");
        CU_ASSERT_TRUE(json_array_size(hits) > 0);
        for (k = 0; k < json_array_size(hits); k++) {
            const char *s = json_string_value(
                json_object_get(json_array_get(hits, k), "snippet"));

            CU_ASSERT_PTR_NOT_NULL_FATAL(s);
            if (!strstr(s, "<b>"))
                fprintf(stderr, "\nno highlight for %s: %s\n", queries[i], s);
            CU_ASSERT_PTR_NOT_NULL(strstr(s, "<b>"));
        }
        json_decref(r);
    }
}

static void
test_e2e_json_has_every_protocol_field(void)
{
    json_t *r = search_json(corpus_idx(), NULL, "Rubio", NULL);
    const char *fields[] = {"article", "passage", "score", "date", "source",
                            "title", "url", "snippet", "matches"};
    json_t *h;
    size_t i;
    double prev = 1e300;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_TRUE(json_is_true(json_object_get(r, "ok")));
    CU_ASSERT_TRUE(json_is_integer(json_object_get(r, "total")));
    CU_ASSERT_TRUE(json_is_number(json_object_get(r, "took_ms")));
    /* Rubio is named in all five articles. */
    CU_ASSERT_EQUAL(json_array_size(json_object_get(r, "hits")), 5);
    for (i = 0; i < json_array_size(json_object_get(r, "hits")); i++) {
        size_t f;

        h = json_array_get(json_object_get(r, "hits"), i);
        for (f = 0; f < sizeof fields / sizeof *fields; f++)
            CU_ASSERT_PTR_NOT_NULL(json_object_get(h, fields[f]));
        CU_ASSERT_TRUE(json_real_value(json_object_get(h, "score")) <= prev);
        prev = json_real_value(json_object_get(h, "score"));
        CU_ASSERT_TRUE(json_integer_value(json_object_get(h, "matches")) >= 1);
    }
    json_decref(r);
}

static void
test_e2e_sort_newest_orders_by_date(void)
{
    json_t *r = search_json(corpus_idx(), "--sort newest", "Rubio", NULL);
    json_t *hits;
    const char *want[] = {"2025-11-27", "2025-04-29", "2025-04-18",
                          "2025-04-04", "2025-02-18"};
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    hits = json_object_get(r, "hits");
    CU_ASSERT_EQUAL_FATAL(json_array_size(hits), 5);
    for (i = 0; i < 5; i++)
        CU_ASSERT_STRING_EQUAL(
            json_string_value(
                json_object_get(json_array_get(hits, i), "date")),
            want[i]);
    json_decref(r);
}

static void
test_e2e_furniture_is_not_indexed(void)
{
    /* "Sign up to our free breaking news emails" (002), "How useful was
     * this article?" (003), "fairness meter" (000). */
    expect_ids("\"sign up\"", "");
    expect_ids("\"fairness meter\"", "");
    expect_ids("\"how useful was this article\"", "");
    /* The same articles' own text is there, found by phrase: a line of
     * each, read off the files (and in no other corpus file). */
    expect_ids("\"gulfs between both sides\"", A000);
    expect_ids("\"disavow a 2008 promise\"", A002);
    expect_ids("\"abandon its peace efforts\"", A003);
}

static void
test_e2e_bad_queries_point_at_the_column(void)
{
    char cmd[1000];
    char *err = NULL;
    int rc;

    snprintf(cmd, sizeof cmd, "%s -i %s '\"security guarantee'",
             t_prog("newsdex-search"), corpus_idx());
    t_expect_run(cmd, 2, "column 1");
    snprintf(cmd, sizeof cmd, "%s -i %s 'Rubio foo:bar'",
             t_prog("newsdex-search"), corpus_idx());
    rc = t_run(cmd, NULL, &err);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "foo"));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "column 7"));
    free(err);
}

static void
test_e2e_bad_paths_are_named(void)
{
    char cmd[1200];
    const char *dir = t_tmpdir();

    snprintf(cmd, sizeof cmd, "%s -o %s/i1 /nonexistent/news.jsonl",
             t_prog("newsdex-index"), dir);
    t_expect_run(cmd, 1, "/nonexistent/news.jsonl");
    /* An empty directory. */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/empty && %s -o %s/i2 %s/empty",
             dir, t_prog("newsdex-index"), dir, dir);
    t_expect_run(cmd, 1, "empty");
    /* A directory of someone else's files is not turned into an index. */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/mine && echo keep > %s/mine/notes "
             "&& %s -o %s/mine corpus", dir, dir, t_prog("newsdex-index"), dir);
    t_expect_run(cmd, 1, "no newsdex index");
    snprintf(cmd, sizeof cmd, "ls %s/mine", dir);
    {
        char *out = NULL;

        CU_ASSERT_EQUAL(t_run(cmd, &out, NULL), 0);
        CU_ASSERT_STRING_EQUAL(out ? out : "", "notes\n");
        free(out);
    }
    /* Searching where there is no index. */
    snprintf(cmd, sizeof cmd, "%s -i %s/nothing Rubio",
             t_prog("newsdex-search"), dir);
    t_expect_run(cmd, 1, "no newsdex index");
}

static void
test_e2e_bad_json_line_is_skipped_with_file_and_line(void)
{
    const char *dir = t_tmpdir();
    char path[400], cmd[1200], idx[400];
    const char *data =
        "{\"id\":\"a1\",\"source\":\"S\",\"date\":\"2024-01-02\","
        "\"title\":\"First\",\"url\":\"\",\"text\":\"The zebra crossed "
        "the road.\"}\n"
        "{\"id\":\"a2\",\"source\":\"S\",\"date\":\n"
        "{\"id\":\"a3\",\"source\":\"S\",\"date\":\"2024-01-03\","
        "\"title\":\"Third\",\"url\":\"\",\"text\":\"A zebra again, "
        "bad \xff byte.\"}\n";

    snprintf(path, sizeof path, "%s/news.jsonl", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    t_write(path, data, strlen(data));
    snprintf(cmd, sizeof cmd, "%s -o %s %s", t_prog("newsdex-index"), idx,
             path);
    t_expect_run(cmd, 0, "news.jsonl:2");
    expect_ids_in(idx, "zebra", "a1,a3");
    /* --strict makes the bad line fatal. */
    snprintf(cmd, sizeof cmd, "%s --strict -o %s/strict %s",
             t_prog("newsdex-index"), dir, path);
    t_expect_run(cmd, 1, "news.jsonl:2");
}

static void
test_e2e_add_replaces_by_id_and_keeps_the_rest(void)
{
    const char *dir = t_tmpdir();
    char p1[400], p2[400], cmd[2400], idx[400];
    char *out = NULL;
    const char *d1 =
        "{\"id\":\"x1\",\"source\":\"S\",\"date\":\"2024-01-02\","
        "\"title\":\"\",\"url\":\"\",\"text\":\"The walrus swam north along the "
        "coast, keepers said.\"}\n"
        "{\"id\":\"x2\",\"source\":\"S\",\"date\":\"2024-01-02\","
        "\"title\":\"\",\"url\":\"\",\"text\":\"A second walrus rested on the "
        "ice, keepers said.\"}\n";
    const char *d2 =
        "{\"id\":\"x2\",\"source\":\"S\",\"date\":\"2024-01-05\","
        "\"title\":\"\",\"url\":\"\",\"text\":\"In its place a narwhal was seen "
        "near the shore.\"}\n";

    snprintf(p1, sizeof p1, "%s/one.jsonl", dir);
    snprintf(p2, sizeof p2, "%s/two.jsonl", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    t_write(p1, d1, strlen(d1));
    t_write(p2, d2, strlen(d2));
    index_then_add(idx, p1, p2);
    expect_ids_in(idx, "walrus", "x1");
    expect_ids_in(idx, "narwhal", "x2");
    snprintf(cmd, sizeof cmd, "%s --info %s --json", t_prog("newsdex-index"),
             idx);
    CU_ASSERT_EQUAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "\"articles\":2,"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s --check %s", t_prog("newsdex-index"), idx);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, NULL), 0);
}

/* Articles of one outlet whose pages all end with the same line. */
static void
write_outlet(const char *path, int first, int count)
{
    char buf[8192];
    size_t n = 0;
    int i;

    for (i = first; i < first + count; i++)
        n += (size_t)snprintf(
            buf + n, sizeof buf - n,
            "{\"id\":\"w%d\",\"source\":\"Wire Desk\","
            "\"date\":\"2024-03-%02d\",\"text\":\"Story %d: the harbour "
            "board approved plan number %d after a long debate.\\n\\n"
            "Catch our weekend podcast wherever you listen\"}\n",
            i, 1 + i % 28, i, i);
    t_write(path, buf, n);
}

static void
test_e2e_added_articles_lose_furniture_learned_before(void)
{
    const char *dir = t_tmpdir();
    char p1[400], p2[400], idx[400], bare[400], cmd[3000], got[200];
    json_t *r;

    /* Ten articles teach the line; a later --add brings two more, too few
     * to learn it from. */
    snprintf(p1, sizeof p1, "%s/first.jsonl", dir);
    snprintf(p2, sizeof p2, "%s/later.jsonl", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    snprintf(bare, sizeof bare, "%s/bare", dir);
    write_outlet(p1, 0, 10);
    write_outlet(p2, 10, 2);
    index_then_add(idx, p1, p2);
    expect_ids_in(idx, "\"weekend podcast\"", "");
    r = search_json(idx, NULL, "harbour", NULL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "total")), 12);
    json_decref(r);

    /* The same runs with the kept lines removed in between: the added
     * articles keep the line. */
    snprintf(cmd, sizeof cmd,
             "%s -q -o %s %s && rm %s/FURNITURE && %s -q --add -o %s %s",
             t_prog("newsdex-index"), bare, p1, bare,
             t_prog("newsdex-index"), bare, p2);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, NULL, NULL), 0);
    r = search_json(bare, NULL, "\"weekend podcast\"", NULL);
    hit_ids(r, got, sizeof got);
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "w10"));
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "w11"));
    json_decref(r);
}

/* A word of letters only, different for each i ("kq" + base-26 digits). */
static void
word_of(int i, char *out)
{
    int k = 0;

    out[k++] = 'k';
    out[k++] = 'q';
    do {
        out[k++] = (char)('a' + i % 26);
        i /= 26;
    } while (i);
    out[k] = '\0';
}

/* Counts the occurrences of needle in hay. */
static int
count_in(const char *hay, const char *needle)
{
    int n = 0;

    while (hay && (hay = strstr(hay, needle))) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

static void
test_e2e_input_past_the_kept_memory_gives_the_same_index(void)
{
    const char *dir = t_tmpdir();
    char path[400], small[400], big[400], one[400], word[16], where[500];
    char q[64], cmd[1700];
    char *err_small = NULL, *err_big = NULL;
    const int count = 2200, bad_early = 100, bad_late = 2100;
    ndx_buf b;
    int i;
    json_t *r;

    /* About 11 MB of articles: more than the 8 MB that --memory 16 keeps
     * while the furniture is learned, so that run reads the end of the
     * input again; the default run keeps everything. A broken line early
     * (read while kept) and one late (read again) must each be warned
     * about once. */
    ndx_buf_init(&b);
    for (i = 0; i < count; i++) {
        int k;

        if (i == bad_early || i == bad_late)
            CU_ASSERT_FATAL(ndx_buf_printf(&b, "{\"id\": broken\n") == 0);
        word_of(i, word);
        CU_ASSERT_FATAL(ndx_buf_printf(
                            &b,
                            "{\"id\":\"m%d\",\"source\":\"Wire Desk\","
                            "\"date\":\"2024-03-%02d\",\"text\":\"Story %s "
                            "opens the harbour report.",
                            i, 1 + i % 28, word) == 0);
        /* Words of their own in every sentence: no two articles are
         * near-duplicates. */
        for (k = 0; k < 200; k++) {
            char w2[16];

            word_of(count + i * 200 + k, w2);
            CU_ASSERT_FATAL(ndx_buf_printf(&b, " The board heard %s.", w2)
                            == 0);
        }
        CU_ASSERT_FATAL(ndx_buf_printf(&b, "\\n\\nCatch our weekend podcast "
                                           "wherever you listen\"}\n") == 0);
    }
    CU_ASSERT(b.len > 10 * 1024 * 1024);
    snprintf(path, sizeof path, "%s/many.jsonl", dir);
    t_write(path, (const char *)b.data, b.len);
    ndx_buf_free(&b);
    snprintf(small, sizeof small, "%s/small", dir);
    snprintf(big, sizeof big, "%s/big", dir);
    /* Two threads: the kept articles are learned from in a thread of
     * their own, then (small) the rest by the reader; one thread learns
     * from everything itself.  The lines learned are the same. */
    snprintf(one, sizeof one, "%s/one", dir);
    CU_ASSERT_EQUAL_FATAL(
        t_run_prog("newsdex-index", NULL, &err_small,
                   "--threads 2 --memory 16 -o %s %s", small, path),
        0);
    CU_ASSERT_EQUAL_FATAL(t_run_prog("newsdex-index", NULL, &err_big,
                                     "--threads 2 -o %s %s", big, path),
                          0);
    CU_ASSERT_EQUAL_FATAL(t_run_prog("newsdex-index", NULL, NULL,
                                     "-q --threads 1 -o %s %s", one, path),
                          0);
    snprintf(cmd, sizeof cmd, "cmp %s/FURNITURE %s/FURNITURE && "
             "cmp %s/FURNITURE %s/FURNITURE", one, small, one, big);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, NULL), 0);
    /* The learner also sketches the kept articles for the near-duplicate
     * check (the pipeline then does not): the tables of sketches are the
     * ones a single thread makes. */
    snprintf(cmd, sizeof cmd, "cmp %s/NEARDUP %s/NEARDUP && "
             "cmp %s/NEARDUP %s/NEARDUP", one, small, one, big);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, NULL), 0);
    /* One segment each (11 MB against --memory 512), of 440,000 words:
     * two threads (big) and one (one) write the same bytes. */
    snprintf(cmd, sizeof cmd, "cmp %s/seg-000001.ndx %s/seg-000001.ndx",
             one, big);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, NULL), 0);
    /* Line numbers: articles before the first broken line, then one more
     * line for each broken line passed. */
    snprintf(where, sizeof where, "%s:%d:", path, bad_early + 1);
    CU_ASSERT_EQUAL(count_in(err_small, where), 1);
    CU_ASSERT_EQUAL(count_in(err_big, where), 1);
    snprintf(where, sizeof where, "%s:%d:", path, bad_late + 2);
    CU_ASSERT_EQUAL(count_in(err_small, where), 1);
    CU_ASSERT_EQUAL(count_in(err_big, where), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_small, "learned furniture lines 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err_big, "learned furniture lines 1"));
    free(err_small);
    free(err_big);
    /* Every article indexed once, the line learned from all of them gone
     * from the first article and the last alike. */
    expect_ids_in(small, "\"weekend podcast\"", "");
    expect_ids_in(big, "\"weekend podcast\"", "");
    for (i = 0; i < count; i += count - 1) {
        word_of(i, word);
        snprintf(q, sizeof q, "\"%s\"", word); /* kqas stems as kqa */
        snprintf(where, sizeof where, "m%d", i);
        expect_ids_in(small, q, where);
        expect_ids_in(big, q, where);
    }
    r = search_json(small, "--exact-total", "harbour", NULL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "total")), count);
    json_decref(r);
    r = search_json(big, "--exact-total", "harbour", NULL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "total")), count);
    json_decref(r);
}

/* ---- the shared corpora ---------------------------------------------- */

typedef struct sample_facts {
    long articles;       /* lines with a distinct text */
    char first[11], last[11];
    char **sources;
    size_t source_count;
    unsigned long *texts; /* hashes of the texts seen */
    size_t text_count;
} sample_facts;

/* Reads a .jsonl.gz with zlib and jansson: count, date range, sources. */
static int
read_sample(const char *path, sample_facts *f)
{
    gzFile gz = gzopen(path, "rb");
    static char line[1 << 20];
    size_t i;

    memset(f, 0, sizeof *f);
    if (!gz)
        return -1;
    strcpy(f->first, "9999-99-99");
    strcpy(f->last, "0000-00-00");
    while (gzgets(gz, line, sizeof line)) {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        const char *d, *s;

        if (!j)
            continue;
        {
            const char *t = json_string_value(json_object_get(j, "text"));
            unsigned long h = 5381;
            size_t k;

            for (; t && *t; t++)
                h = h * 33 + (unsigned char)*t;
            for (k = 0; k < f->text_count && f->texts[k] != h; k++)
                ;
            if (k < f->text_count) {
                /* The same text under another id is one article. */
                json_decref(j);
                continue;
            }
            f->texts = realloc(f->texts, (f->text_count + 1) * sizeof h);
            f->texts[f->text_count++] = h;
        }
        f->articles++;
        d = json_string_value(json_object_get(j, "date"));
        s = json_string_value(json_object_get(j, "source"));
        if (d && strlen(d) >= 10) {
            if (strncmp(d, f->first, 10) < 0)
                memcpy(f->first, d, 10);
            if (strncmp(d, f->last, 10) > 0)
                memcpy(f->last, d, 10);
        }
        for (i = 0; s && i < f->source_count; i++)
            if (strcmp(f->sources[i], s) == 0)
                break;
        if (s && i == f->source_count) {
            f->sources = realloc(f->sources,
                                 (f->source_count + 1) * sizeof(char *));
            f->sources[f->source_count++] = strdup(s);
        }
        json_decref(j);
    }
    gzclose(gz);
    return 0;
}

#define SAMPLE_MAX 4

/* The index of the shared corpus sample name, built on first use by
 * whichever test needs it first; NULL after a counted skip when the
 * shared corpora are absent. */
static const char *
sample_index(const char *name)
{
    static struct {
        const char *name;
        char idx[400];
    } built[SAMPLE_MAX];
    const char *dir = t_corpora();
    char cmd[2400];
    size_t i;

    if (!dir) {
        t_skip("no shared corpora at ../shared/corpora");
        return NULL;
    }
    for (i = 0; i < SAMPLE_MAX && built[i].name; i++)
        if (strcmp(built[i].name, name) == 0)
            return built[i].idx;
    CU_ASSERT_FATAL(i < SAMPLE_MAX);
    snprintf(built[i].idx, sizeof built[i].idx, "%s/sample.idx",
             t_tmpdir());
    snprintf(cmd, sizeof cmd, "%s -q -o %s %s/%s", t_prog("newsdex-index"),
             built[i].idx, dir, name);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, NULL, NULL), 0);
    built[i].name = name;
    return built[i].idx;
}

static void
check_sample(const char *name)
{
    const char *idx = sample_index(name);
    char path[600], cmd[2400];
    char *out = NULL;
    sample_facts f;
    json_t *info, *srcs;
    json_error_t e;
    size_t i;
    long sum = 0;

    if (!idx)
        return;
    snprintf(path, sizeof path, "%s/%s", t_corpora(), name);
    CU_ASSERT_FATAL(read_sample(path, &f) == 0);
    snprintf(cmd, sizeof cmd, "%s --info %s --json", t_prog("newsdex-index"),
             idx);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, &out, NULL), 0);
    info = json_loads(out, 0, &e);
    free(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(info);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(info, "articles")),
                    f.articles);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(info, "first_date")), f.first);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(info, "last_date")), f.last);
    srcs = json_object_get(info, "sources");
    CU_ASSERT_EQUAL(json_array_size(srcs), f.source_count);
    for (i = 0; i < json_array_size(srcs); i++)
        sum += (long)json_integer_value(
            json_object_get(json_array_get(srcs, i), "articles"));
    CU_ASSERT_EQUAL(sum, f.articles);
    for (i = 0; i < f.source_count; i++) {
        size_t k;
        int found = 0;

        for (k = 0; k < json_array_size(srcs); k++)
            found |= strcmp(json_string_value(json_object_get(
                                json_array_get(srcs, k), "name")),
                            f.sources[i]) == 0;
        if (!found)
            fprintf(stderr, "\nsource %s missing from --info\n",
                    f.sources[i]);
        CU_ASSERT_TRUE(found);
        free(f.sources[i]);
    }
    free(f.sources);
    free(f.texts);
    json_decref(info);
}

static void
test_e2e_reuters_sample_counts_match_the_file(void)
{
    check_sample("reuters21578-sample-1k.jsonl.gz");
}

static void
test_e2e_allsides_sample_counts_match_the_file(void)
{
    check_sample("allsides-sample-1k.jsonl.gz");
}

static void
test_e2e_lines_repeated_across_a_source_are_gone(void)
{
    /* Lines that recur across one source's articles in the sample (read
     * off the file: "Story Continued Below" in 83 Politico articles, the
     * reprint notice in 82 Washington Times ones, the newsletter box in 47,
     * the Monitor's sign-up line in 32) must not be found. */
    const char *lines[] = {"\"story continued below\"",
                           "\"click here for reprint permission\"",
                           "\"sign up for daily newsletters\"",
                           "\"get the monitor stories you care about\""};
    const char *allsides_index = sample_index("allsides-sample-1k.jsonl.gz");
    size_t i;

    if (!allsides_index)
        return;
    for (i = 0; i < sizeof lines / sizeof *lines; i++) {
        json_t *r = search_json(allsides_index, NULL, lines[i], NULL);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        if (json_integer_value(json_object_get(r, "total")) != 0)
            fprintf(stderr, "\n%s still found\n", lines[i]);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(r, "total")), 0);
        json_decref(r);
    }
    /* Real text of the same articles is still there. */
    {
        json_t *r = search_json(allsides_index, "--source politico",
                                "president", NULL);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_TRUE(json_integer_value(json_object_get(r, "total")) > 0);
        json_decref(r);
    }
}

/* The buckets of one facet of a response as "value count/all ..." (all
 * only for dates), then "+N" for other or undated when not 0. */
static void
facet_text(json_t *resp, const char *name, char *out, size_t cap)
{
    json_t *f = json_object_get(json_object_get(resp, "facets"), name);
    json_t *b = json_object_get(f, "buckets");
    size_t i;
    long long rest;

    out[0] = '\0';
    for (i = 0; i < json_array_size(b); i++) {
        json_t *k = json_array_get(b, i);
        char one[200];

        if (json_object_get(k, "all"))
            snprintf(one, sizeof one, "%s%s %lld/%lld", i ? " " : "",
                     json_string_value(json_object_get(k, "value")),
                     json_integer_value(json_object_get(k, "count")),
                     json_integer_value(json_object_get(k, "all")));
        else
            snprintf(one, sizeof one, "%s%s %lld", i ? " " : "",
                     json_string_value(json_object_get(k, "value")),
                     json_integer_value(json_object_get(k, "count")));
        strncat(out, one, cap - strlen(out) - 1);
    }
    rest = json_integer_value(json_object_get(f, "other")) +
           json_integer_value(json_object_get(f, "undated"));
    if (rest) {
        char one[40];

        snprintf(one, sizeof one, " +%lld", rest);
        strncat(out, one, cap - strlen(out) - 1);
    }
}

static void
expect_facet(const char *args, const char *query, const char *name,
             const char *want)
{
    char got[2000];
    json_t *r = search_json(corpus_idx(), args, query, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    facet_text(r, name, got, sizeof got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "\n%s %s facet %s: got [%s], want [%s]\n", args,
                query, name, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
    json_decref(r);
}

static void
test_e2e_facets_count_matching_articles(void)
{
    /* From corpus/manifest.tsv: 000 2025-04-04 Newsweek, 001 2025-11-27
     * unknown, 002 2025-02-18 USA TODAY, 003 2025-04-18 Newslooks, 004
     * 2025-04-29 unknown.  "Witkoff" is in 001 and 004 only; "Rubio" in
     * every article. */
    expect_facet("--facets source,month", "witkoff", "source", "unknown 2");
    expect_facet("--facets source,month", "witkoff", "month",
                 "2025-02 0/1 2025-04 1/3 2025-11 1/1");
    expect_facet("--facets year", "witkoff", "year", "2025 2/5");
    expect_facet("--facets day", "witkoff", "day",
                 "2025-02-18 0/1 2025-04-04 0/1 2025-04-18 0/1 "
                 "2025-04-29 1/1 2025-11-27 1/1");
    /* Filters apply to the counts and to the coverage. */
    expect_facet("--facets source,month --from 2025-04-10", "rubio",
                 "month", "2025-04 2/2 2025-11 1/1");
    expect_facet("--facets source,month --source newsweek", "ukraine",
                 "month", "2025-04 1/1");
    expect_facet("--facets source,month", "rubio source:unknown", "month",
                 "2025-04 1/1 2025-11 1/1");
    /* Sources by count, then name; the rest past --facet-limit. */
    expect_facet("--facets source", "rubio", "source",
                 "unknown 2 Newslooks 1 Newsweek 1 USA TODAY 1");
    expect_facet("--facets source --facet-limit 2", "rubio", "source",
                 "unknown 2 Newslooks 1 +2");
}

static void
test_e2e_csv_lists_every_matching_article(void)
{
    char cmd[1000];
    char *out = NULL;

    snprintf(cmd, sizeof cmd, "%s -i %s --csv --sort oldest witkoff",
             t_prog("newsdex-search"), corpus_idx());
    CU_ASSERT_EQUAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_STRING_EQUAL(out,
                           "id,date,source,title,url\r\n" A004
                           ",2025-04-29,unknown,US may exit Russia-Ukraine "
                           "peace talks if progress stalls: Rubio,\r\n" A001
                           ",2025-11-27,unknown,,\r\n");
    free(out);
    /* A title with a comma is quoted. */
    snprintf(cmd, sizeof cmd, "%s -i %s --csv 'title:disavow'",
             t_prog("newsdex-search"), corpus_idx());
    CU_ASSERT_EQUAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, A002 ",2025-02-18,USA TODAY,\"In "
                                       "meeting with US, Russia said NATO "
                                       "must disavow promise to Ukraine\","));
    free(out);
}

CU_TestInfo e2e_tests[] = {
    {"facets count matching articles", test_e2e_facets_count_matching_articles},
    {"csv lists every matching article",
     test_e2e_csv_lists_every_matching_article},
    {"phrase 'nothing about Ukraine without Ukraine' matches Newsweek only",
     test_e2e_phrase_nothing_about_ukraine_matches_newsweek_only},
    {"phrase is unstemmed but words are stemmed",
     test_e2e_phrase_is_unstemmed_but_words_are_stemmed},
    {"source and date filters", test_e2e_source_and_date_filters},
    {"boolean operators", test_e2e_boolean_operators},
    {"numbers are searchable", test_e2e_numbers_are_searchable},
    {"every snippet highlights a query word",
     test_e2e_every_snippet_highlights_a_query_word},
    {"json has every protocol field", test_e2e_json_has_every_protocol_field},
    {"sort newest orders by date", test_e2e_sort_newest_orders_by_date},
    {"furniture is not indexed", test_e2e_furniture_is_not_indexed},
    {"bad queries point at the column",
     test_e2e_bad_queries_point_at_the_column},
    {"bad paths are named", test_e2e_bad_paths_are_named},
    {"bad json line is skipped with file and line",
     test_e2e_bad_json_line_is_skipped_with_file_and_line},
    {"--add replaces by id and keeps the rest",
     test_e2e_add_replaces_by_id_and_keeps_the_rest},
    {"added articles lose furniture learned before",
     test_e2e_added_articles_lose_furniture_learned_before},
    {"an input past the kept memory gives the same index",
     test_e2e_input_past_the_kept_memory_gives_the_same_index},
    {"reuters sample counts match the file",
     test_e2e_reuters_sample_counts_match_the_file},
    {"allsides sample counts match the file",
     test_e2e_allsides_sample_counts_match_the_file},
    {"lines repeated across a source are gone",
     test_e2e_lines_repeated_across_a_source_are_gone},
    CU_TEST_INFO_NULL,
};
