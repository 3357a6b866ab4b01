/*
 * manifest.h - the native index's manifest, deletion files and writer
 * lock.
 *
 * FORMAT of INDEX/MANIFEST (text, version 1):
 *   newsdex-manifest 1
 *   generation G            commits so far
 *   next S                  sequence number for the next file name
 *   segment NAME DEL        per live segment, oldest first; DEL is the
 *                           name of its deletion file or "-"
 *   crc XXXXXXXX            crc32 (hex) of every byte before this line
 * It is replaced atomically: written to MANIFEST.tmp, fsynced, renamed,
 * and the directory fsynced.  Files it does not name are garbage.
 *
 * FORMAT of a deletion file (binary): magic "NDXDEL\r\n", u32 version 1,
 * u32 count, count x u32 deleted article ordinals (ascending), u32 crc32
 * of everything before it.  Written once, never changed: a commit that
 * deletes more writes a new one.
 */
#ifndef NDX_MANIFEST_H
#define NDX_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/status.h"

#define NDX_MANIFEST_VERSION 1

typedef struct ndx_mseg {
    char name[64]; /* segment file name in the index directory */
    char del[64];  /* deletion file name or "" */
} ndx_mseg;

typedef struct ndx_manifest {
    uint64_t generation;
    uint64_t next;
    ndx_mseg *segs;
    size_t count;
} ndx_manifest;

/* Reads DIR/MANIFEST; NDX_ENOTFOUND when there is none. */
ndx_status ndx_manifest_read(const char *dir, ndx_manifest *m);
/* Replaces DIR/MANIFEST atomically and durably. */
ndx_status ndx_manifest_write(const char *dir, const ndx_manifest *m);
void ndx_manifest_clear(ndx_manifest *m);
ndx_status ndx_manifest_push(ndx_manifest *m, const char *name,
                             const char *del);

/* Reads a deletion file into a malloc'd ascending array. */
ndx_status ndx_del_read(const char *path, uint32_t **out, size_t *count);
/* Writes a deletion file durably (tmp, fsync, rename). */
ndx_status ndx_del_write(const char *path, const uint32_t *ords,
                         size_t count);

/* Takes the writer lock DIR/LOCK (flock); NDX_ELOCKED if held. */
ndx_status ndx_lock_take(const char *dir, int *fd);
void ndx_lock_release(int fd);

#endif
