/*
 * common.h - what the benchmark programs share: dying with a message and
 * a monotonic clock.  Header only, so that each program (ndx-scale does
 * not link libnewsdex) takes it without a build change.  Define
 * BENCH_PROG ("ndx-bench") before including it.
 */
#ifndef NDX_BENCH_COMMON_H
#define NDX_BENCH_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef BENCH_PROG
#error "define BENCH_PROG before including bench/common.h"
#endif

/* Prints "BENCH_PROG: message" on stderr and exits with status 1. */
static inline void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static inline void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs(BENCH_PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Seconds on the monotonic clock. */
static inline double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
