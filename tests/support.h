/*
 * support.h - helpers shared by the test suites: temporary directories,
 * running the programs, finding the shared corpora (reading and writing
 * files: files.h, which the fuzz targets share).
 */
#ifndef NDX_TESTS_SUPPORT_H
#define NDX_TESTS_SUPPORT_H

#include <stddef.h>

#include "files.h"
#include "newsdex/newsdex.h"

/* A fresh empty directory under $TMPDIR (or /tmp); static storage that the
 * next call reuses. Removed at exit. */
const char *t_tmpdir(void);

/* Path to build/ programs: "build/newsdex-index" etc. (NDX_BUILD_DIR env). */
const char *t_prog(const char *name);

/* Runs a shell command; captures stdout (and stderr when err is not NULL)
 * into malloc'd strings; returns the exit status (or -1). */
int t_run(const char *cmd, char **out, char **err);

/* Runs the program name of build/ (t_prog) with the arguments fmt
 * formats, as t_run runs a command; -1 when they do not fit in 4000
 * bytes. */
int t_run_prog(const char *name, char **out, char **err, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

/* Runs a shell command (t_run) and checks that it exits with status and
 * that its standard error says needle. */
void t_expect_run(const char *cmd, int status, const char *needle);

/* Directory of the shared real corpora, or NULL when absent (then the test
 * prints that it skips). NDX_CORPORA env overrides ../shared/corpora. */
const char *t_corpora(void);

/* Counts non-overlapping occurrences of needle in hay. */
size_t t_count(const char *hay, const char *needle);

/* Says that the running test skips, and why ("no shared corpora at
 * ../shared/corpora"): prints it and counts it, for the summary that
 * closes the run.  With NDX_FAIL_ON_SKIP=1 in the environment a skip is
 * a failure (CI runs that must have every input). */
void t_skip(const char *why);
/* Whether this build has no Xapian engine; if so, the running test skips
 * (t_skip says so). */
int t_without_xapian(void);
/* Skips so far. */
unsigned t_skipped(void);

/* 1 in a build with AddressSanitizer (make SAN=1), whose shadow memory
 * and quarantine make resident sizes meaningless for memory bounds. */
#if defined(__SANITIZE_ADDRESS__)
#define T_UNDER_ASAN 1
#else
#define T_UNDER_ASAN 0
#endif

/* Allocation faults.  The test binary is linked with --wrap for malloc,
 * calloc, realloc, strdup and strndup, so every allocation the library
 * makes (but not those inside other shared libraries: zlib, jansson,
 * libc's own) passes through a counter.  t_fault_arm(n) makes the n-th
 * allocation from now fail (0: the next one), once; t_fault_arm(-1) only
 * counts.  t_fault_disarm() stops it and returns the allocations counted
 * since arming; t_fault_fired() says whether the failure happened. */
void t_fault_arm(long n);
long t_fault_disarm(void);
int t_fault_fired(void);

/* An English analyzer for the suites that need one: t_english_open makes
 * it (0, or -1 on failure, as a CUnit suite set-up returns), t_english
 * lends it, t_english_close frees it (returns 0). */
int t_english_open(void);
ndx_analyzer *t_english(void);
int t_english_close(void);

/* Adds every article the corpus reader finds under paths to ix (open for
 * writing), without committing; *count (may be NULL) receives how many.
 * The first failure is returned. */
ndx_status t_add_corpus(ndx_index *ix, const char *const *paths,
                        size_t path_count, size_t *count);

/* Indexes paths into dir with engine ("native" or "xapian") and cfg (NULL:
 * the defaults), opened with NDX_OPEN_WRITE | flags, and commits. */
ndx_status t_index_paths(const char *dir, const char *engine,
                         const ndx_engine_config *cfg, unsigned flags,
                         const char *const *paths, size_t path_count);

/* t_index_paths of the product's corpus/, without flags. */
ndx_status t_index_corpus(const char *dir, const char *engine,
                          const ndx_engine_config *cfg);

/* Calls fn for every article the corpus reader finds under paths, with
 * its passages split as the index front splits them (default options) and
 * an English analyzer: an independent reading for tests that count by
 * hand.  Stops at the first fn that returns non-zero and returns that;
 * -1 when the analyzer, the reader or a split fails. */
int t_each_article(const char *const *paths, size_t path_count,
                   int (*fn)(void *ctx, ndx_analyzer *an,
                             const ndx_article *a, const ndx_passages *ps),
                   void *ctx);

#endif
