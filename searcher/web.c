/*
 * web.c - finds an embedded file of the search page by its URL path.  The
 * table itself is generated (scripts/embed-web, build/searcher/web_assets.c).
 */
#include "web.h"

#include <string.h>

const web_asset *
web_asset_find(const char *path, size_t len)
{
    size_t i;

    for (i = 0; i < web_asset_count; i++)
        if (strlen(web_assets[i].path) == len &&
            memcmp(web_assets[i].path, path, len) == 0)
            return &web_assets[i];
    return NULL;
}
