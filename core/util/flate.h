/*
 * flate.h - a decoder of raw deflate streams (RFC 1951) made of stored
 * blocks and blocks with the fixed Huffman codes, against a preset
 * dictionary read where it lies (flate.c).
 *
 * zlib's inflate copies a preset dictionary into its window before it
 * decodes anything: 32 KB of copying to read a passage of a few hundred
 * bytes.  A segment's passages are deflated with the fixed codes (see
 * core/native/segment.h), so this decoder reads them with no window at
 * all: a match reaching back past the start of the output reads the
 * dictionary in place.  A block with dynamic codes is left to zlib.
 */
#ifndef NDX_UTIL_FLATE_H
#define NDX_UTIL_FLATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    NDX_FLATE_OK = 0,      /* the final block ended with out_len bytes out */
    NDX_FLATE_DYNAMIC = 1, /* a block with dynamic codes: use zlib */
    NDX_FLATE_BAD = -1     /* not a stream of exactly out_len bytes */
};

/*
 * Decodes the raw deflate stream in[0..in_len) into out[0..out_len),
 * matches reaching before out's start reading dict[0..dict_len) (the
 * preset dictionary; dict_len 0 for none).  NDX_FLATE_OK when the stream's
 * final block ends with exactly out_len bytes written (bytes of in after
 * it are not read); NDX_FLATE_BAD on any damage: an invalid code or block
 * type, a distance past the dictionary, output that would not be out_len
 * bytes, a stream that runs past in_len; NDX_FLATE_DYNAMIC when a block
 * uses dynamic codes (out then holds a part of the output: decode the
 * whole stream again with zlib).  Never reads or writes outside the
 * given buffers.
 */
int ndx_flate_fixed(const unsigned char *dict, size_t dict_len,
                    const unsigned char *in, size_t in_len,
                    unsigned char *out, size_t out_len);

#ifdef __cplusplus
}
#endif

#endif
