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
 * Its encoder writes such streams for many short texts against one
 * dictionary.
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

/*
 * The encoder: raw deflate streams that ndx_flate_fixed reads (one final
 * block with the fixed codes, or stored blocks when those are no larger),
 * matched against a preset dictionary loaded once and kept, so that many
 * short texts are compressed against one dictionary without setting it
 * up again for each (zlib's deflateSetDictionary hashes the whole
 * dictionary; copying a stream that holds it copies some 200 KB).  An
 * encoder is used by one thread at a time.
 */
typedef struct ndx_flate_enc ndx_flate_enc;

/* NULL when out of memory. */
ndx_flate_enc *ndx_flate_enc_new(void);
void ndx_flate_enc_free(ndx_flate_enc *e);

/* Loads the dictionary (its last 32 KB when longer; len 0: none) for the
 * texts encoded next.  -1 when out of memory. */
int ndx_flate_enc_dict(ndx_flate_enc *e, const unsigned char *dict,
                       size_t len);

/* The most bytes ndx_flate_encode writes for len bytes of text. */
size_t ndx_flate_bound(size_t len);

/* Compresses in[0..len) into out (cap >= ndx_flate_bound(len)) as one
 * raw deflate stream against the loaded dictionary.  Returns its bytes,
 * 0 when out of memory or cap is short (a stream is never empty). */
size_t ndx_flate_encode(ndx_flate_enc *e, const unsigned char *in,
                        size_t len, unsigned char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
