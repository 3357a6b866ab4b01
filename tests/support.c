/*
 * support.c - helpers shared by the test suites.
 */
#include "support.h"

#include <execinfo.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "newsdex/sys/engine.h"

static unsigned tmp_serial;

const char *
t_tmpdir(void)
{
    static char path[300];
    const char *root = t_scratch_root("ndxtest");

    if (!root) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(path, sizeof path, "%s/t%u", root, ++tmp_serial);
    if (mkdir(path, 0755) != 0) {
        perror(path);
        exit(1);
    }
    return path;
}

const char *
t_prog(const char *name)
{
    static char path[2][300];
    static int which;
    const char *b = getenv("NDX_BUILD_DIR");

    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", b ? b : "build", name);
    return path[which];
}

static char *
read_fd_all(FILE *f)
{
    size_t cap = 4096, len = 0, n;
    char *s = malloc(cap);

    while (s && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *t = realloc(s, cap * 2);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
            cap *= 2;
        }
    }
    if (s)
        s[len] = '\0';
    return s;
}

int
t_run(const char *cmd, char **out, char **err)
{
    char errpath[] = "/tmp/ndxerr.XXXXXX";
    char *full;
    size_t len;
    int fd = -1, status;
    FILE *p;

    if (err) {
        fd = mkstemp(errpath);
        if (fd < 0)
            return -1;
        close(fd);
    }
    len = strlen(cmd) + sizeof errpath + 16;
    full = malloc(len);
    if (!full)
        return -1;
    if (err)
        snprintf(full, len, "%s 2>%s", cmd, errpath);
    else
        snprintf(full, len, "%s", cmd);
    p = popen(full, "r");
    free(full);
    if (!p)
        return -1;
    {
        char *o = read_fd_all(p);
        if (out)
            *out = o;
        else
            free(o);
    }
    status = pclose(p);
    if (err) {
        *err = t_slurp(errpath, NULL);
        unlink(errpath);
    }
    if (status == -1)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
t_run_prog(const char *name, char **out, char **err, const char *fmt, ...)
{
    char args[4000], cmd[4400];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof args)
        return -1;
    snprintf(cmd, sizeof cmd, "%s %s", t_prog(name), args);
    return t_run(cmd, out, err);
}

void
t_expect_run(const char *cmd, int status, const char *needle)
{
    char *err = NULL;

    CU_ASSERT_EQUAL(t_run(cmd, NULL, &err), status);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err, needle) ? err : NULL);
    free(err);
}

const char *
t_corpora(void)
{
    static char path[512];
    const char *e = getenv("NDX_CORPORA");
    struct stat sb;

    snprintf(path, sizeof path, "%s", e ? e : "../shared/corpora");
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return NULL;
    return path;
}

size_t
t_count(const char *hay, const char *needle)
{
    size_t n = 0, l = strlen(needle);
    const char *p = hay;

    if (!l)
        return 0;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += l;
    }
    return n;
}

static unsigned skips;

void
t_skip(const char *why)
{
    const char *strict = getenv("NDX_FAIL_ON_SKIP");

    skips++;
    printf("\n  [skipped: %s] ", why);
    fflush(stdout);
    if (strict && strcmp(strict, "1") == 0)
        CU_FAIL("skipped, and NDX_FAIL_ON_SKIP=1 forbids skips");
}

int
t_without_xapian(void)
{
    if (ndx_xapian_engine())
        return 0;
    t_skip("built without the Xapian engine");
    return 1;
}

unsigned
t_skipped(void)
{
    return skips;
}

/* ---- allocation faults --------------------------------------------------
 * The wrappers run in every thread: the state is atomic.  armed: 0 off,
 * 1 counting; left: allocations to let through before the one that fails
 * (negative: none fails). */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static atomic_int fault_armed;
static atomic_long fault_left, fault_calls;
static atomic_int fault_fired_flag;

static int
fault_now(void)
{
    if (!atomic_load_explicit(&fault_armed, memory_order_relaxed))
        return 0;
    atomic_fetch_add(&fault_calls, 1);
    if (atomic_fetch_sub(&fault_left, 1) == 0) {
        atomic_store(&fault_fired_flag, 1);
        if (getenv("NDX_FAULT_TRACE")) {
            void *frames[16];

            backtrace_symbols_fd(frames, backtrace(frames, 16), 2);
        }
        return 1;
    }
    return 0;
}

void *
__wrap_malloc(size_t n)
{
    return fault_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
    return fault_now() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
    return fault_now() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
    return fault_now() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
    return fault_now() ? NULL : __real_strndup(s, n);
}

void
t_fault_arm(long n)
{
    atomic_store(&fault_calls, 0);
    atomic_store(&fault_fired_flag, 0);
    /* Counting only: a countdown that never reaches zero. */
    atomic_store(&fault_left, n < 0 ? (long)1 << 62 : n);
    atomic_store(&fault_armed, 1);
}

long
t_fault_disarm(void)
{
    atomic_store(&fault_armed, 0);
    return atomic_load(&fault_calls);
}

int
t_fault_fired(void)
{
    return atomic_load(&fault_fired_flag);
}

ndx_status
t_add_corpus(ndx_index *ix, const char *const *paths, size_t path_count,
             size_t *count)
{
    ndx_reader *r = NULL;
    const ndx_article *a;
    ndx_status st;
    size_t n = 0;

    if (count)
        *count = 0;
    if ((st = ndx_reader_open(&r, paths, path_count, 0, NULL, NULL)))
        return st;
    while ((st = ndx_reader_next(r, &a)) == NDX_OK && a) {
        if ((st = ndx_index_add(ix, a, NULL)))
            break;
        n++;
    }
    ndx_reader_close(r);
    if (count)
        *count = n;
    return st;
}

ndx_status
t_index_paths(const char *dir, const char *engine,
              const ndx_engine_config *cfg, unsigned flags,
              const char *const *paths, size_t path_count)
{
    ndx_index *ix = NULL;
    ndx_status st;

    if ((st = ndx_index_open(&ix, dir, NDX_OPEN_WRITE | flags, engine, cfg)))
        return st;
    if (!(st = t_add_corpus(ix, paths, path_count, NULL)))
        st = ndx_index_commit(ix);
    ndx_index_close(ix);
    return st;
}

ndx_status
t_index_corpus(const char *dir, const char *engine,
               const ndx_engine_config *cfg)
{
    const char *paths[] = {"corpus"};

    return t_index_paths(dir, engine, cfg, 0, paths, 1);
}

static ndx_analyzer *english_an;

int
t_english_open(void)
{
    return english_an || ndx_analyzer_new(&english_an, "english") == NDX_OK
               ? 0
               : -1;
}

ndx_analyzer *
t_english(void)
{
    return english_an;
}

int
t_english_close(void)
{
    ndx_analyzer_free(english_an);
    english_an = NULL;
    return 0;
}

int
t_each_article(const char *const *paths, size_t path_count,
               int (*fn)(void *ctx, ndx_analyzer *an, const ndx_article *a,
                         const ndx_passages *ps),
               void *ctx)
{
    ndx_split_opts so;
    ndx_passages ps = {0};
    ndx_analyzer *an = NULL;
    ndx_reader *r = NULL;
    const ndx_article *a;
    int rc = -1;

    ndx_split_opts_init(&so);
    if (ndx_analyzer_new(&an, "english") ||
        ndx_reader_open(&r, paths, path_count, 0, NULL, NULL))
        goto done;
    rc = 0;
    while (!rc && ndx_reader_next(r, &a) == NDX_OK && a)
        rc = ndx_passages_split(&ps, a->text, a->text_len, a->source, &so)
                 ? -1
                 : fn(ctx, an, a, &ps);
done:
    ndx_passages_clear(&ps);
    ndx_reader_close(r);
    ndx_analyzer_free(an);
    return rc;
}
