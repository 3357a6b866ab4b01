/*
 * ids.c - kernels over ascending ids (ids.h): eight bit-packed gaps at a
 * time into ids, with AVX2 where the CPU has it (chosen once, at the
 * first call).
 */
#include "util/ids.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define NDX_HAVE_AVX2_PATH 1
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Windows at a[i] and b[j] that share an id, hit a's lanes that match:
 * a's first such lane is the first common id (a smaller one would have
 * matched in these windows or before them).  *pi and *pj at it; 1. */
static inline int
window_hit(const uint32_t *a, uint32_t i, const uint32_t *b, uint32_t j,
           int hit, uint32_t *pi, uint32_t *pj)
{
    i += (uint32_t)__builtin_ctz((unsigned)hit);
    while (b[j] < a[i])
        j++;
    *pi = i;
    *pj = j;
    return 1;
}

#ifdef NDX_HAVE_AVX2_PATH

/* Per width b: the byte shuffle that puts each of a group's eight fields
 * in its 32-bit lane (lanes 0-3 from the group's first byte, lanes 4-7
 * from its byte b / 2), and each lane's shift to its field's first bit. */
typedef struct unpack_plan {
    unsigned char shuf[32];
    uint32_t shift[8];
} unpack_plan;

static unpack_plan plans[NDX_IDS_UNPACK_MAX_BITS + 1];
static int have_avx2;
static pthread_once_t plans_once = PTHREAD_ONCE_INIT;

static void
plans_init(void)
{
    unsigned b, j, k;

    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2");
    for (b = 1; b <= NDX_IDS_UNPACK_MAX_BITS; b++) {
        unpack_plan *pl = &plans[b];

        for (j = 0; j < 8; j++) {
            /* Lanes 4-7 are loaded from byte (4 * b) / 8 of the group. */
            unsigned bit = j * b - (j >= 4 ? 8 * (4 * b / 8) : 0);

            for (k = 0; k < 4; k++)
                pl->shuf[4 * j + k] = (unsigned char)(bit / 8 + k);
            pl->shift[j] = bit % 8;
        }
    }
}

__attribute__((target("avx2"))) static uint32_t
unpack_avx2(const unsigned char *p, const unsigned char *lim, unsigned b,
            uint32_t groups, uint32_t prev, uint32_t *out)
{
    const unpack_plan *pl = &plans[b];
    const __m256i shuf = _mm256_loadu_si256((const __m256i *)pl->shuf);
    const __m256i shift = _mm256_loadu_si256((const __m256i *)pl->shift);
    const __m256i mask = _mm256_set1_epi32((int)((1u << b) - 1));
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i last = _mm256_set1_epi32(7);
    __m256i base = _mm256_set1_epi32((int)prev);
    size_t half = 4 * b / 8;
    uint32_t g;

    for (g = 0; g < groups; g++) {
        const unsigned char *at = p + (size_t)g * b;
        __m256i v, t;

        if (at > lim || (size_t)(lim - at) < half + 16)
            break;
        v = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)at)),
            _mm_loadu_si128((const __m128i *)(at + half)), 1);
        v = _mm256_shuffle_epi8(v, shuf);
        v = _mm256_and_si256(_mm256_srlv_epi32(v, shift), mask);
        /* Gaps of ids are fields + 1; then a prefix sum: within each
         * half, then the first half's total into the second. */
        v = _mm256_add_epi32(v, one);
        v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
        v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
        t = _mm256_shuffle_epi32(_mm256_permute2x128_si256(v, v, 0x08),
                                 0xff);
        v = _mm256_add_epi32(_mm256_add_epi32(v, t), base);
        _mm256_storeu_si256((__m256i *)(out + 8 * (size_t)g), v);
        base = _mm256_permutevar8x32_epi32(v, last);
    }
    return 8 * g;
}

/* ndx_ids_first_common's windows of eight: each of b's eight ids is
 * broadcast and compared with a's eight (loads, not shuffles, which
 * would queue on one port). */
__attribute__((target("avx2"))) static int
common_avx2(const uint32_t *a, uint32_t *pi, uint32_t na, const uint32_t *b,
            uint32_t *pj, uint32_t nb)
{
    uint32_t i = *pi, j = *pj;

    while (i + 8 <= na && j + 8 <= nb) {
        const int *w = (const int *)(b + j);
        __m256i va = _mm256_loadu_si256((const __m256i *)(a + i));
        __m256i m0 = _mm256_or_si256(
            _mm256_cmpeq_epi32(va, _mm256_set1_epi32(w[0])),
            _mm256_cmpeq_epi32(va, _mm256_set1_epi32(w[1])));
        __m256i m1 = _mm256_or_si256(
            _mm256_cmpeq_epi32(va, _mm256_set1_epi32(w[2])),
            _mm256_cmpeq_epi32(va, _mm256_set1_epi32(w[3])));
        __m256i m2 = _mm256_or_si256(
            _mm256_cmpeq_epi32(va, _mm256_set1_epi32(w[4])),
            _mm256_cmpeq_epi32(va, _mm256_set1_epi32(w[5])));
        __m256i m3 = _mm256_or_si256(
            _mm256_cmpeq_epi32(va, _mm256_set1_epi32(w[6])),
            _mm256_cmpeq_epi32(va, _mm256_set1_epi32(w[7])));
        int hit = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_or_si256(
            _mm256_or_si256(m0, m1), _mm256_or_si256(m2, m3))));
        uint32_t amax = a[i + 7], bmax = b[j + 7];

        if (hit)
            return window_hit(a, i, b, j, hit, pi, pj);
        i += amax <= bmax ? 8 : 0;
        j += bmax <= amax ? 8 : 0;
    }
    *pi = i;
    *pj = j;
    return 0;
}

#endif

int
ndx_ids_first_common(const uint32_t *a, uint32_t *pi, uint32_t na,
                     const uint32_t *b, uint32_t *pj, uint32_t nb)
{
    uint32_t i, j;

#ifdef NDX_HAVE_AVX2_PATH
    if (ndx_ids_simd() && common_avx2(a, pi, na, b, pj, nb))
        return 1;
#endif
    i = *pi;
    j = *pj;
#if defined(__SSE2__)
    /* Four against four (SSE2 is in every x86-64): b's window and its
     * three rotations against a's. */
    while (i + 4 <= na && j + 4 <= nb) {
        __m128i va = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(b + j));
        __m128i m = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi32(va, vb),
                         _mm_cmpeq_epi32(va, _mm_shuffle_epi32(vb, 0x39))),
            _mm_or_si128(_mm_cmpeq_epi32(va, _mm_shuffle_epi32(vb, 0x4e)),
                         _mm_cmpeq_epi32(va, _mm_shuffle_epi32(vb, 0x93))));
        int hit = _mm_movemask_ps(_mm_castsi128_ps(m));
        uint32_t amax = a[i + 3], bmax = b[j + 3];

        if (hit)
            return window_hit(a, i, b, j, hit, pi, pj);
        i += amax <= bmax ? 4 : 0;
        j += bmax <= amax ? 4 : 0;
    }
#endif
    while (i < na && j < nb) {
        uint32_t x = a[i], y = b[j];

        if (x == y) {
            *pi = i;
            *pj = j;
            return 1;
        }
        i += x < y;
        j += y < x;
    }
    *pi = i;
    *pj = j;
    return 0;
}

int
ndx_ids_simd(void)
{
#ifdef NDX_HAVE_AVX2_PATH
    pthread_once(&plans_once, plans_init);
    return have_avx2;
#else
    return 0;
#endif
}

uint32_t
ndx_ids_unpack(const unsigned char *p, const unsigned char *lim, unsigned b,
               uint32_t n, uint32_t prev, uint32_t *out)
{
#ifdef NDX_HAVE_AVX2_PATH
    uint32_t groups = n / 8;

    if (groups == 0 || b == 0 || b > NDX_IDS_UNPACK_MAX_BITS || lim <= p ||
        !ndx_ids_simd())
        return 0;
    /* Each id adds at most 2^b: none may pass UINT32_MAX. */
    if ((uint64_t)prev + ((uint64_t)groups * 8 << b) > UINT32_MAX)
        return 0;
    return unpack_avx2(p, lim, b, groups, prev, out);
#else
    (void)p;
    (void)lim;
    (void)b;
    (void)n;
    (void)prev;
    (void)out;
    return 0;
#endif
}
