/*
 * test_abuse.c - the indexer against input and index files a careless or
 * unfriendly user gives it: one huge single-paragraph record, binaries
 * named .txt, a byte order mark, a truncated .gz among many bad lines, a
 * file that cannot be read at all, a damaged FURNITURE file; and the
 * indexer killed at random moments (tests/kill-check, a few seconds here,
 * as long as asked in `make soak`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "support.h"

#define FIX "tests/fixtures/"

/* Runs argv (no shell), stdout and stderr to /dev/null; returns the exit
 * status (128 + signal) and the child's peak RSS in KB. */
static int
run_peak(char *const argv[], long *peak_kb)
{
    struct rusage ru;
    int status;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) ||
            !freopen("/dev/null", "w", stderr))
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid)
        return -1;
    *peak_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Number of articles of an index, from --info --json; -1 if unreadable. */
static long
index_articles(const char *idx)
{
    char cmd[600], *out = NULL, *p;
    long n = -1;

    snprintf(cmd, sizeof cmd, "%s --info %s --json",
             t_prog("newsdex-index"), idx);
    if (t_run(cmd, &out, NULL) == 0 && out &&
        (p = strstr(out, "\"articles\":")) != NULL)
        n = strtol(p + 11, NULL, 10);
    free(out);
    return n;
}

/* One JSON Lines record whose text is one paragraph of about len bytes:
 * sentences of twelve words, never a blank line. */
static void
write_one_paragraph(const char *path, size_t len)
{
    static const char *const words[] = {
        "harbour", "ferry", "council", "budget", "minister", "talks",
        "strike", "court", "election", "flood", "bridge", "market",
    };
    FILE *f = fopen(path, "w");
    size_t n = 0;
    unsigned i = 0;

    CU_ASSERT_FATAL(f != NULL);
    fputs("{\"id\":\"huge\",\"source\":\"Wire\",\"date\":\"2025-01-02\","
          "\"title\":\"One long paragraph\",\"text\":\"", f);
    while (n < len) {
        int k;

        for (k = 0; k < 12; k++, i++)
            n += (size_t)fprintf(f, "%s%u ", words[i % 12], i % 997);
        n += (size_t)fprintf(f, "end. ");
    }
    fputs("\"}\n", f);
    CU_ASSERT_FATAL(fclose(f) == 0);
}

static void
test_abuse_huge_single_paragraph_record_in_bounded_memory(void)
{
    const char *dir = t_tmpdir();
    char path[400], idx[400], prog[400];
    char *argv[8];
    long peak_kb = 0;
    size_t len = 3u << 20;

    snprintf(path, sizeof path, "%s/huge.jsonl", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    snprintf(prog, sizeof prog, "%s", t_prog("newsdex-index"));
    write_one_paragraph(path, len);
    argv[0] = prog;
    argv[1] = "-q";
    argv[2] = "-o";
    argv[3] = idx;
    argv[4] = path;
    argv[5] = NULL;
    CU_ASSERT_EQUAL_FATAL(run_peak(argv, &peak_kb), 0);
    CU_ASSERT_EQUAL(index_articles(idx), 1);
    /* The record is 3 MiB; the program itself, the record's copies and
     * the segment being written fit in 64 MiB (every passage's term set
     * held at once took 20 times the record). */
    printf("\n    3 MiB record: peak RSS %ld KB ", peak_kb);
    if (T_UNDER_ASAN)
        t_skip("the memory bound is not checked under AddressSanitizer");
    else
        CU_ASSERT_TRUE(peak_kb > 0 && peak_kb < 64 * 1024);
}

static void
test_abuse_binary_files_are_skipped_with_their_own_reason(void)
{
    const char *dir = t_tmpdir();
    char cmd[2000], rnd[400], exe[400], idx[400], *err = NULL;
    unsigned char buf[20000];
    size_t i;
    uint32_t x = 12345;

    snprintf(rnd, sizeof rnd, "%s/random.txt", dir);
    snprintf(exe, sizeof exe, "%s/program.txt", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    for (i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    CU_ASSERT_FATAL(t_write(rnd, buf, sizeof buf) == 0);
    snprintf(cmd, sizeof cmd, "cp %s %s", t_prog("newsdex-index"), exe);
    CU_ASSERT_FATAL(t_run(cmd, NULL, NULL) == 0);
    snprintf(cmd, sizeof cmd, "%s -o %s %s %s %s", t_prog("newsdex-index"),
             idx, rnd, exe, FIX "ingest/good.jsonl");
    CU_ASSERT_EQUAL(t_run(cmd, NULL, &err), 0);
    CU_ASSERT_FATAL(err != NULL);
    /* Each named, the summary counts them under their reason, and only
     * the five articles of good.jsonl are indexed. */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "random.txt: binary data"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "program.txt: binary data"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "binary 2"));
    CU_ASSERT_EQUAL(index_articles(idx), 5);
    free(err);
}

static void
test_abuse_byte_order_mark_before_the_first_line_is_accepted(void)
{
    const char *dir = t_tmpdir();
    static const char data[] =
        "\xef\xbb\xbf{\"id\":\"b1\",\"text\":\"The first line follows a "
        "byte order mark.\"}\n"
        "{\"id\":\"b2\",\"text\":\"The second line.\"}\n";
    char path[400], idx[400], cmd[1200], *err = NULL, *out = NULL;

    snprintf(path, sizeof path, "%s/bom.jsonl", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    CU_ASSERT_FATAL(t_write(path, data, sizeof data - 1) == 0);
    snprintf(cmd, sizeof cmd, "%s -o %s %s", t_prog("newsdex-index"), idx,
             path);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, &err), 0);
    CU_ASSERT_PTR_NULL(strstr(err ? err : "", "warning"));
    CU_ASSERT_EQUAL(index_articles(idx), 2);
    snprintf(cmd, sizeof cmd, "%s -i %s --get b1", t_prog("newsdex-search"),
             idx);
    CU_ASSERT_EQUAL(t_run(cmd, &out, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out ? out : "", "byte order mark"));
    free(err);
    free(out);
}

static void
test_abuse_truncated_gz_warning_is_never_hidden_by_the_cap(void)
{
    const char *dir = t_tmpdir();
    char bad[400], idx[400], cmd[1200], *err = NULL;
    FILE *f;
    int i;

    /* Forty bad lines first: more warnings than are shown. */
    snprintf(bad, sizeof bad, "%s/bad.jsonl", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    f = fopen(bad, "w");
    CU_ASSERT_FATAL(f != NULL);
    for (i = 0; i < 40; i++)
        fprintf(f, "{not json %d\n", i);
    fprintf(f, "{\"id\":\"ok\",\"text\":\"One good line.\"}\n");
    CU_ASSERT_FATAL(fclose(f) == 0);
    snprintf(cmd, sizeof cmd, "%s -o %s %s %s", t_prog("newsdex-index"),
             idx, bad, FIX "bad/truncated.jsonl.gz");
    CU_ASSERT_EQUAL(t_run(cmd, NULL, &err), 0);
    CU_ASSERT_FATAL(err != NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "more warnings not shown"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated.jsonl.gz:10: compressed "
                                       "data ends early"));
    free(err);
}

static void
test_abuse_a_file_not_read_at_all_exits_1_and_keeps_the_rest(void)
{
    const char *dir = t_tmpdir();
    char cut[400], idx[400], cmd[1200], *whole = NULL, *err = NULL;
    size_t len;

    /* The gzip header and the first bytes of the stream: nothing of it
     * can be read. */
    snprintf(cut, sizeof cut, "%s/cut.jsonl.gz", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    whole = t_slurp(FIX "bad/truncated.jsonl.gz", &len);
    CU_ASSERT_FATAL(whole != NULL && len > 40);
    CU_ASSERT_FATAL(t_write(cut, whole, 30) == 0);
    snprintf(cmd, sizeof cmd, "%s -o %s %s %s", t_prog("newsdex-index"),
             idx, FIX "ingest/good.jsonl", cut);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err ? err : "", "cut.jsonl.gz: "
                                                  "compressed data damaged "
                                                  "from the start"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err ? err : "", "could not be read at "
                                                  "all"));
    CU_ASSERT_EQUAL(index_articles(idx), 5);
    free(whole);
    free(err);
}

/* Ten articles of one outlet sharing a line, so that it is learned. */
static void
write_outlet(const char *path)
{
    FILE *f = fopen(path, "w");
    int i;

    CU_ASSERT_FATAL(f != NULL);
    for (i = 0; i < 10; i++)
        fprintf(f, "{\"id\":\"h%d\",\"source\":\"Harbour Gazette\","
                   "\"text\":\"Ferry %d ran late again on the north route "
                   "past the breakwater, said the harbour office, and the "
                   "council will meet about it.\\n\\nListen to our weekend "
                   "podcast about the harbour every Saturday morning.\"}\n",
                i, i);
    CU_ASSERT_FATAL(fclose(f) == 0);
}

static void
test_abuse_damaged_furniture_is_found_and_never_replaced(void)
{
    const char *dir = t_tmpdir();
    char src[400], idx[400], furn[500], cmd[1500], *good = NULL, *now;
    char *err;
    size_t len, off, missed = 0, replaced = 0;
    unsigned char *bad;

    snprintf(src, sizeof src, "%s/outlet.jsonl", dir);
    snprintf(idx, sizeof idx, "%s/idx", dir);
    snprintf(furn, sizeof furn, "%s/FURNITURE", idx);
    write_outlet(src);
    snprintf(cmd, sizeof cmd, "%s -q -o %s %s", t_prog("newsdex-index"), idx,
             src);
    CU_ASSERT_EQUAL_FATAL(t_run(cmd, NULL, NULL), 0);
    good = t_slurp(furn, &len);
    /* Header, one learned line, checksum. */
    CU_ASSERT_FATAL(good != NULL && len >= 24 + 8 + 4);
    bad = malloc(len);
    CU_ASSERT_FATAL(bad != NULL);
    for (off = 0; off < len; off++) {
        memcpy(bad, good, len);
        bad[off] ^= (unsigned char)(1u << (off % 8));
        CU_ASSERT_FATAL(t_write(furn, bad, len) == 0);
        snprintf(cmd, sizeof cmd, "%s --check %s", t_prog("newsdex-index"),
                 idx);
        err = NULL;
        if ((t_run(cmd, NULL, &err) != 1 || !strstr(err, "FURNITURE")) &&
            missed++ < 5)
            fprintf(stderr, "\n  FURNITURE byte %zu flipped: --check "
                            "passed or did not name it", off);
        free(err);
        /* --add refuses, leaving the file and the index as they were. */
        if (off % 7 == 0) {
            snprintf(cmd, sizeof cmd, "%s -q --add -o %s %s 2>/dev/null",
                     t_prog("newsdex-index"), idx, FIX "ingest/good.jsonl");
            now = NULL;
            if (t_run(cmd, NULL, NULL) != 1 ||
                !(now = t_slurp(furn, NULL)) || memcmp(now, bad, len) != 0 ||
                index_articles(idx) != 10)
                replaced++;
            free(now);
        }
    }
    CU_ASSERT_EQUAL(missed, 0);
    CU_ASSERT_EQUAL(replaced, 0);
    /* Restored, it passes again. */
    CU_ASSERT_FATAL(t_write(furn, good, len) == 0);
    snprintf(cmd, sizeof cmd, "%s --check %s >/dev/null",
             t_prog("newsdex-index"), idx);
    CU_ASSERT_EQUAL(t_run(cmd, NULL, NULL), 0);
    free(bad);
    free(good);
}

static void
test_abuse_indexer_killed_at_random_moments_leaves_a_whole_commit(void)
{
    char cmd[600], *out = NULL;
    const char *b = getenv("NDX_BUILD_DIR");

    snprintf(cmd, sizeof cmd, "tests/kill-check 3 %s", b ? b : "build");
    CU_ASSERT_EQUAL(t_run(cmd, &out, NULL), 0);
    if (out) {
        char *nl = strrchr(out, '\n');

        if (nl)
            *nl = '\0';
        printf("\n    %s ", strrchr(out, '\n') ? strrchr(out, '\n') + 1
                                               : out);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(out ? out : "", "every index whole"));
    free(out);
}

CU_TestInfo abuse_tests[] = {
    {"huge single-paragraph record in bounded memory",
     test_abuse_huge_single_paragraph_record_in_bounded_memory},
    {"binary files are skipped with their own reason",
     test_abuse_binary_files_are_skipped_with_their_own_reason},
    {"byte order mark before the first line is accepted",
     test_abuse_byte_order_mark_before_the_first_line_is_accepted},
    {"truncated .gz warning is never hidden by the cap",
     test_abuse_truncated_gz_warning_is_never_hidden_by_the_cap},
    {"a file not read at all exits 1 and keeps the rest",
     test_abuse_a_file_not_read_at_all_exits_1_and_keeps_the_rest},
    {"damaged FURNITURE is found and never replaced",
     test_abuse_damaged_furniture_is_found_and_never_replaced},
    {"indexer killed at random moments leaves a whole commit",
     test_abuse_indexer_killed_at_random_moments_leaves_a_whole_commit},
    CU_TEST_INFO_NULL,
};
