/*
 * text.h - byte-level text helpers every layer shares: the UTF-8
 * validator and the white-space test (text.c).
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

#endif
