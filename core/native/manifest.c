/*
 * manifest.c - reading and atomically replacing the native manifest,
 * deletion files, and the writer lock.  The formats are in manifest.h.
 * Which segments to write or merge is the native engine's business.
 */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include "util/buf.h"
#include "util/file.h"

void
ndx_manifest_clear(ndx_manifest *m)
{
    if (!m)
        return;
    free(m->segs);
    memset(m, 0, sizeof *m);
}

ndx_status
ndx_manifest_push(ndx_manifest *m, const char *name, const char *del)
{
    ndx_mseg *s = realloc(m->segs, (m->count + 1) * sizeof *s);

    if (!s)
        return ndx_error(NDX_ENOMEM, "out of memory (manifest)");
    m->segs = s;
    s = &m->segs[m->count++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->del, sizeof s->del, "%s", del ? del : "");
    return NDX_OK;
}

static int
safe_name(const char *s)
{
    if (!*s || strlen(s) >= 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.' || *s == '_'))
            return 0;
    return 1;
}

ndx_status
ndx_manifest_read(const char *dir, ndx_manifest *m)
{
    char path[4096];
    FILE *f;
    char line[512];
    ndx_buf body;
    unsigned version = 0;
    int have_crc = 0, lineno = 0;
    ndx_status st = NDX_OK;

    memset(m, 0, sizeof *m);
    ndx_buf_init(&body);
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    f = fopen(path, "r");
    if (!f)
        return ndx_error(errno == ENOENT ? NDX_ENOTFOUND : NDX_EIO,
                         "open %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        char a[128], b[128];
        unsigned long long v;

        lineno++;
        if (strncmp(line, "crc ", 4) == 0) {
            unsigned long want = strtoul(line + 4, NULL, 16);
            uLong got = crc32(crc32(0L, Z_NULL, 0), body.data,
                              (uInt)body.len);

            if (want != got) {
                st = ndx_error(NDX_ECORRUPT,
                               "%s: checksum mismatch; the index is "
                               "damaged - rebuild it",
                               path);
                goto fail;
            }
            have_crc = 1;
            break;
        }
        if ((st = ndx_buf_puts(&body, line)))
            goto fail;
        if (lineno == 1) {
            if (sscanf(line, "newsdex-manifest %u", &version) != 1) {
                st = ndx_error(NDX_ECORRUPT, "%s: not a newsdex manifest",
                               path);
                goto fail;
            }
            if (version != NDX_MANIFEST_VERSION) {
                st = ndx_error(NDX_EVERSION,
                               "%s: manifest version %u, this newsdex reads "
                               "version %u; rebuild the index",
                               path, version, NDX_MANIFEST_VERSION);
                goto fail;
            }
        } else if (sscanf(line, "generation %llu", &v) == 1) {
            m->generation = v;
        } else if (sscanf(line, "next %llu", &v) == 1) {
            m->next = v;
        } else if (sscanf(line, "segment %127s %127s", a, b) == 2) {
            if (!safe_name(a) || (strcmp(b, "-") != 0 && !safe_name(b))) {
                st = ndx_error(NDX_ECORRUPT, "%s:%d: bad file name", path,
                               lineno);
                goto fail;
            }
            if ((st = ndx_manifest_push(m, a, strcmp(b, "-") ? b : "")))
                goto fail;
        } else {
            st = ndx_error(NDX_ECORRUPT, "%s:%d: unexpected line", path,
                           lineno);
            goto fail;
        }
    }
    if (!have_crc) {
        st = ndx_error(NDX_ECORRUPT,
                       "%s: no checksum line (truncated?); rebuild the index",
                       path);
        goto fail;
    }
    fclose(f);
    ndx_buf_free(&body);
    return NDX_OK;
fail:
    fclose(f);
    ndx_buf_free(&body);
    ndx_manifest_clear(m);
    return st;
}

ndx_status
ndx_manifest_write(const char *dir, const ndx_manifest *m)
{
    char path[4096];
    ndx_buf b;
    size_t i;
    ndx_status st;

    ndx_buf_init(&b);
    st = ndx_buf_printf(&b, "newsdex-manifest %u\ngeneration %llu\n"
                            "next %llu\n",
                        NDX_MANIFEST_VERSION,
                        (unsigned long long)m->generation,
                        (unsigned long long)m->next);
    for (i = 0; !st && i < m->count; i++)
        st = ndx_buf_printf(&b, "segment %s %s\n", m->segs[i].name,
                            m->segs[i].del[0] ? m->segs[i].del : "-");
    if (!st)
        st = ndx_buf_printf(&b, "crc %08lx\n",
                            (unsigned long)crc32(crc32(0L, Z_NULL, 0),
                                                 b.data, (uInt)b.len));
    if (!st) {
        snprintf(path, sizeof path, "%s/MANIFEST", dir);
        st = ndx_write_durable(dir, path, b.data, b.len);
    }
    ndx_buf_free(&b);
    return st;
}

ndx_status
ndx_del_read(const char *path, uint32_t **out, size_t *count)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[16];
    uint32_t n, i, *ords = NULL;
    unsigned char *raw = NULL;
    ndx_status st = NDX_OK;

    *out = NULL;
    *count = 0;
    if (!f)
        return ndx_error(NDX_ECORRUPT,
                         "open %s: %s; the manifest names a deletion file "
                         "that is missing - rebuild the index",
                         path, strerror(errno));
    if (fread(head, 1, 16, f) != 16 || memcmp(head, "NDXDEL\r\n", 8) != 0 ||
        ndx_get_u32le(head + 8) != 1) {
        st = ndx_error(NDX_ECORRUPT, "%s: not a deletion file", path);
        goto fail;
    }
    n = ndx_get_u32le(head + 12);
    if (n > (1u << 30)) {
        st = ndx_error(NDX_ECORRUPT, "%s: bad count", path);
        goto fail;
    }
    raw = malloc((size_t)n * 4 + 4);
    ords = malloc((size_t)(n ? n : 1) * 4);
    if (!raw || !ords) {
        st = ndx_error(NDX_ENOMEM, "out of memory (deletions)");
        goto fail;
    }
    if (fread(raw, 1, (size_t)n * 4 + 4, f) != (size_t)n * 4 + 4) {
        st = ndx_error(NDX_ECORRUPT, "%s: truncated", path);
        goto fail;
    }
    {
        uLong c = crc32(crc32(0L, Z_NULL, 0), head, 16);

        c = crc32(c, raw, n * 4);
        if ((uint32_t)c != ndx_get_u32le(raw + (size_t)n * 4)) {
            st = ndx_error(NDX_ECORRUPT, "%s: checksum mismatch", path);
            goto fail;
        }
    }
    for (i = 0; i < n; i++)
        ords[i] = ndx_get_u32le(raw + (size_t)i * 4);
    free(raw);
    fclose(f);
    *out = ords;
    *count = n;
    return NDX_OK;
fail:
    free(raw);
    free(ords);
    fclose(f);
    return st;
}

ndx_status
ndx_del_write(const char *path, const uint32_t *ords, size_t count)
{
    ndx_buf b;
    ndx_status st;
    size_t i;
    char dir[4096];
    char *slash;

    ndx_buf_init(&b);
    st = ndx_buf_put(&b, "NDXDEL\r\n", 8);
    if (!st)
        st = ndx_buf_put_u32le(&b, 1);
    if (!st)
        st = ndx_buf_put_u32le(&b, (uint32_t)count);
    for (i = 0; !st && i < count; i++)
        st = ndx_buf_put_u32le(&b, ords[i]);
    if (!st)
        st = ndx_buf_put_u32le(
            &b, (uint32_t)crc32(crc32(0L, Z_NULL, 0), b.data, (uInt)b.len));
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (!st)
        st = ndx_write_durable(dir, path, b.data, b.len);
    ndx_buf_free(&b);
    return st;
}

ndx_status
ndx_lock_take(const char *dir, int *fd)
{
    char path[4096];
    int f;

    snprintf(path, sizeof path, "%s/LOCK", dir);
    f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0)
        return ndx_error(NDX_EIO, "open %s: %s", path, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;

        close(f);
        if (e == EWOULDBLOCK)
            return ndx_error(NDX_ELOCKED,
                             "%s is being written by another process; wait "
                             "for it to finish",
                             dir);
        return ndx_error(NDX_EIO, "lock %s: %s", path, strerror(e));
    }
    *fd = f;
    return NDX_OK;
}

void
ndx_lock_release(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}
