/*
 * ids.h - kernels over ascending 32-bit ids (ids.c), with AVX2 where the
 * CPU has it (ndx_ids_simd; chosen once, at the first call).
 *
 * Unpacking.  Fields of b bits are packed least significant bit first
 * from bit 0 of their bytes, field k at bit k * b; eight of them take
 * exactly b bytes, so every group of eight starts on a byte.  Where the CPU has AVX2 a
 * group is unpacked with two loads, one byte shuffle and one shift per
 * lane, and turned into ids by a prefix sum in the same registers: about
 * a tenth of the instructions of a field-by-field loop.  Elsewhere the
 * caller's own loop does the work (ndx_ids_unpack returns 0).
 *
 * Intersecting.  Two sorted arrays are compared a window of each against
 * the other's, all pairs at once (eight by eight with AVX2, four by four
 * with SSE2), and the window that ends first is passed whole: none of it
 * can match past the other's window.
 */
#ifndef NDX_UTIL_IDS_H
#define NDX_UTIL_IDS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Widest field ndx_ids_unpack takes (a field and its shift within its
 * first byte fit in 32 bits). */
#define NDX_IDS_UNPACK_MAX_BITS 24

/*
 * Unpacks the fields of b bits packed at p as the gaps of ascending ids:
 * out[k] = (k ? out[k - 1] : prev) + 1 + field k, for whole groups of
 * eight fields of the first n.  Returns how many it wrote: a multiple of
 * eight, at most n; 0 when the CPU lacks AVX2, when b is 0 or above
 * NDX_IDS_UNPACK_MAX_BITS, or when an id could pass UINT32_MAX.  A group
 * is read with 16-byte loads, up to 16 + b / 2 bytes from its first
 * byte: no group whose loads would pass lim is unpacked (the caller
 * unpacks the rest its own way).
 */
uint32_t ndx_ids_unpack(const unsigned char *p, const unsigned char *lim,
                        unsigned b, uint32_t n, uint32_t prev,
                        uint32_t *out);

/*
 * The first id that a[*i, na) and b[*j, nb) share, both ascending: 1 with
 * a[*i] == b[*j] that id; 0 when there is none before one of them ends,
 * with *i and *j past every id passed (*i == na or *j == nb; the other at
 * its first id not passed).
 */
int ndx_ids_first_common(const uint32_t *a, uint32_t *i, uint32_t na,
                         const uint32_t *b, uint32_t *j, uint32_t nb);

/* 1 when the CPU has AVX2 (ndx_ids_unpack unpacks only then). */
int ndx_ids_simd(void);

#ifdef __cplusplus
}
#endif

#endif
