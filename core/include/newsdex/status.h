/*
 * newsdex/status.h - status codes and the thread-local error message.
 *
 * Every fallible function returns an ndx_status.  The function that finds
 * the fault writes a message once, with ndx_error(), into a thread-local
 * buffer; callers pass the code up and the program decides what to print.
 */
#ifndef NEWSDEX_STATUS_H
#define NEWSDEX_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ndx_status {
    NDX_OK = 0,
    NDX_ENOMEM = -1,    /* out of memory */
    NDX_EIO = -2,       /* a system call failed */
    NDX_EINVAL = -3,    /* bad argument or bad input record */
    NDX_ENOTFOUND = -4, /* no such file, index, article or term */
    NDX_ECORRUPT = -5,  /* bytes on disk fail a check */
    NDX_ESYNTAX = -6,   /* a query cannot be parsed */
    NDX_ELOCKED = -7,   /* another writer holds the index */
    NDX_ENOTSUP = -8,   /* feature or engine not built in */
    NDX_ETIMEOUT = -9,  /* a time budget ran out */
    NDX_EVERSION = -10, /* file written by another format version */
    NDX_ELIMIT = -11    /* a configured limit was exceeded */
} ndx_status;

/*
 * Records a message for code in this thread's error buffer and returns code,
 * so that `return ndx_error(NDX_EIO, "open %s: %s", path, strerror(errno));`
 * reads naturally.
 */
ndx_status ndx_error(ndx_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The last message recorded in this thread; "" when none.  Borrowed until
 * the next ndx_error() in this thread. */
const char *ndx_errmsg(void);

/* Clears this thread's message. */
void ndx_error_clear(void);

/* A short stable name for a code: "ok", "nomem", "io", "invalid",
 * "not_found", "corrupt", "syntax", "locked", "not_supported", "timeout",
 * "version", "limit".  Static storage. */
const char *ndx_status_name(ndx_status code);

#ifdef __cplusplus
}
#endif
#endif
