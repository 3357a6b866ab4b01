/*
 * file.h - durable file writes, and the process's resident memory
 * (file.c).
 */
#ifndef NDX_UTIL_FILE_H
#define NDX_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "newsdex/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fsyncs a directory so that renames in it are durable.  NDX_OK or
 * NDX_EIO. */
ndx_status ndx_fsync_dir(const char *dir);

/* Writes data to path (in dir) durably: path.tmp, fsync, rename over path,
 * fsync of dir.  A reader sees the old file or the new one, never a part.
 * NDX_OK or NDX_EIO naming the file. */
ndx_status ndx_write_durable(const char *dir, const char *path,
                             const void *data, size_t len);

/* Reads len bytes at off of fd, going on after short reads and EINTR:
 * the bytes read (fewer at the end of the file), or -1 with errno set. */
ssize_t ndx_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* The process's resident memory in bytes, now and at its peak so far (as
 * the system counts it: VmRSS and VmHWM of /proc/self/status, the figures
 * getrusage's ru_maxrss reports at exit).  0, or -1 where the system does
 * not tell. */
int ndx_resident(uint64_t *now, uint64_t *peak);

#ifdef __cplusplus
}
#endif
#endif
