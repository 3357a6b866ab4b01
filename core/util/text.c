/*
 * text.c - the UTF-8 validator and the configuration line of text.h.
 * Repairing text is the reader's; escaping it for JSON is buf.c's.
 */
#include "text.h"

#include <stdint.h>
#include <string.h>

size_t
ndx_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n, i;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (avail < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

char *
ndx_config_line(char *line)
{
    size_t len = strlen(line);

    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    return *line == '\0' || *line == '#' ? NULL : line;
}
