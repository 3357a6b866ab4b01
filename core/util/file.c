/*
 * file.c - durable file writes: a whole small file replaced atomically
 * (written beside it, fsynced, renamed over it, the directory fsynced),
 * and the directory fsync that makes a rename durable.  Used for every
 * small file of an index (manifest, deletion files, FURNITURE, ENGINE);
 * what goes in them is their modules' business.
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ndx_status
ndx_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return ndx_error(NDX_EIO, "open %s: %s", dir, strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;

        close(fd);
        return ndx_error(NDX_EIO, "fsync %s: %s", dir, strerror(e));
    }
    close(fd);
    return NDX_OK;
}

ndx_status
ndx_write_durable(const char *dir, const char *path, const void *data,
                  size_t len)
{
    char tmp[4200];
    int fd;
    const char *p = data;
    size_t left = len;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ndx_error(NDX_EIO, "create %s: %s", tmp, strerror(errno));
    while (left) {
        ssize_t n = write(fd, p, left);

        if (n < 0) {
            int e = errno;

            if (e == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            return ndx_error(NDX_EIO, "write %s: %s", tmp, strerror(e));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;

        unlink(tmp);
        return ndx_error(NDX_EIO, "fsync %s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;

        unlink(tmp);
        return ndx_error(NDX_EIO, "rename %s: %s", tmp, strerror(e));
    }
    return ndx_fsync_dir(dir);
}

int
ndx_resident(uint64_t *now, uint64_t *peak)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    int found = 0;

    *now = *peak = 0;
    if (!f)
        return -1;
    while (found < 2 && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            *now = strtoull(line + 6, NULL, 10) << 10;
            found++;
        } else if (strncmp(line, "VmHWM:", 6) == 0) {
            *peak = strtoull(line + 6, NULL, 10) << 10;
            found++;
        }
    }
    fclose(f);
    return found == 2 && *now && *peak ? 0 : -1;
}

ssize_t
ndx_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done,
                          (off_t)(off + done));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}
