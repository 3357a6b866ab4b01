/*
 * web.h - the files of the search page (searcher/web/), embedded in the
 * program at build time (scripts/embed-web writes the table), so that the
 * page works offline and always matches the server that serves it.
 */
#ifndef NDX_SEARCHER_WEB_H
#define NDX_SEARCHER_WEB_H

#include <stddef.h>

typedef struct web_asset {
    const char *path;          /* URL path: "/" for index.html, "/app.js" */
    const char *ctype;         /* Content-Type */
    const unsigned char *data; /* the file's bytes */
    size_t len;                /* bytes */
    const char *etag;          /* entity tag, quotes included: "CRC-LEN" */
} web_asset;

extern const web_asset web_assets[];
extern const size_t web_asset_count;

/* The asset served at path (len bytes), or NULL. */
const web_asset *web_asset_find(const char *path, size_t len);

#endif
