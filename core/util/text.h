/*
 * text.h - byte-level text helpers every layer shares: the UTF-8
 * validator, the white-space test and the reading of a configuration
 * file's line (text.c).
 */
#ifndef NDX_UTIL_TEXT_H
#define NDX_UTIL_TEXT_H

#include <stddef.h>

/* Bytes of the valid UTF-8 sequence at s (1 to 4) with avail bytes left,
 * or 0 when it is not one: a stray continuation byte, an overlong form, a
 * surrogate, a code point above U+10FFFF, or a sequence cut short. */
size_t ndx_utf8_len(const unsigned char *s, size_t avail);

/* ASCII white space: space, tab, newline, carriage return, form feed,
 * vertical tab (what isspace says in the C locale, whatever the locale). */
static inline int
ndx_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* The content of a configuration file's line as fgets read it, in place:
 * the line ending (\n, \r\n) cut and the leading spaces and tabs
 * skipped.  NULL for a blank line or a '#' comment. */
char *ndx_config_line(char *line);

#endif
