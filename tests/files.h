/*
 * files.h - the scratch files of the test suites and of the fuzz targets:
 * a directory of their own under $TMPDIR, removed at exit, and reading or
 * writing a whole file.  Header only, so that a fuzz target, built from
 * its one file and the library (scripts/fuzz-smoke), takes it as the
 * suites do (tests/support.h includes it).
 */
#ifndef NDX_TESTS_FILES_H
#define NDX_TESTS_FILES_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Removes one entry of a tree (nftw's callback, deepest first). */
static inline int
t_rm_entry(const char *path, const struct stat *sb, int type,
           struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* The program's scratch directory, made by t_scratch_root. */
static char t_scratch_path[256];

static inline void
t_scratch_remove(void)
{
    if (t_scratch_path[0] && !getenv("NDX_KEEP_TMP"))
        nftw(t_scratch_path, t_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory $TMPDIR/prefix.XXXXXX ($TMPDIR: /tmp when unset),
 * made on the first call and returned by the later ones; it is removed
 * with all it holds when the program exits (kept when NDX_KEEP_TMP is
 * set).  NULL when it cannot be made. */
static inline const char *
t_scratch_root(const char *prefix)
{
    const char *base = getenv("TMPDIR");

    if (t_scratch_path[0])
        return t_scratch_path;
    snprintf(t_scratch_path, sizeof t_scratch_path, "%s/%s.XXXXXX",
             base ? base : "/tmp", prefix);
    if (!mkdtemp(t_scratch_path)) {
        t_scratch_path[0] = '\0';
        return NULL;
    }
    atexit(t_scratch_remove);
    return t_scratch_path;
}

/* Reads a whole file into a malloc'd NUL-terminated string (*len, when
 * len is not NULL, receives its length without the NUL; 0 on failure),
 * or NULL. */
static inline char *
t_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *s;
    long n;

    if (len)
        *len = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (!s)
        return NULL;
    s[n] = '\0';
    if (len)
        *len = (size_t)n;
    return s;
}

/* Writes a file (creating parents is the caller's job).  0 on success. */
static inline int
t_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return -1;
    ok = !len || fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

#endif
