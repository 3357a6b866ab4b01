/*
 * test_ids.c - util/ids.h: gaps packed at every width it takes
 * come back as the ids they were made from, from any group, with the
 * bytes it may read bounded by lim; two arrays' first common id is found
 * from any start, whatever their densities.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "support.h"
#include "util/ids.h"

#define FIELDS 136 /* seventeen groups */

/* Packs n fields of b bits at bit 0 of out, least significant bit first
 * (out zeroed, n * b / 8 + 1 bytes at least). */
static void
pack(unsigned char *out, const uint32_t *v, uint32_t n, unsigned b)
{
    uint64_t bit = 0;
    uint32_t k;
    unsigned i;

    for (k = 0; k < n; k++)
        for (i = 0; i < b; i++, bit++)
            if (v[k] >> i & 1)
                out[bit / 8] |= (unsigned char)(1u << (bit % 8));
}

static uint32_t
next_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

static void
test_ids_every_width_gives_back_its_ids(void)
{
    uint32_t gaps[FIELDS], want[FIELDS], got[FIELDS];
    unsigned char bytes[FIELDS * 4 + 64];
    uint64_t seed = 7;
    unsigned b;

    if (!ndx_ids_simd()) {
        t_skip("this CPU has no AVX2: gaps are unpacked one by one");
        return;
    }
    for (b = 1; b <= NDX_IDS_UNPACK_MAX_BITS; b++) {
        uint32_t k, m, prev = 1000 + b, id = prev;

        for (k = 0; k < FIELDS; k++) {
            /* Random fields, the widest every seventh. */
            gaps[k] = k % 7 == 3 ? (uint32_t)((1ULL << b) - 1)
                                 : next_rand(&seed) & ((1u << b) - 1);
            id += 1 + gaps[k];
            want[k] = id;
        }
        memset(bytes, 0, sizeof bytes);
        pack(bytes, gaps, FIELDS, b);
        memset(got, 0, sizeof got);
        m = ndx_ids_unpack(bytes, bytes + sizeof bytes, b, FIELDS, prev,
                           got);
        CU_ASSERT_EQUAL(m, FIELDS);
        CU_ASSERT(memcmp(got, want, sizeof want) == 0);
        /* From the third group on, as a cursor halfway through a block. */
        memset(got, 0, sizeof got);
        m = ndx_ids_unpack(bytes + 2 * b, bytes + sizeof bytes, b,
                           FIELDS - 16, want[15], got);
        CU_ASSERT_EQUAL(m, FIELDS - 16);
        CU_ASSERT(memcmp(got, want + 16, (FIELDS - 16) * sizeof *got) == 0);
        /* Whole groups only: 21 fields give 16. */
        m = ndx_ids_unpack(bytes, bytes + sizeof bytes, b, 21, prev, got);
        CU_ASSERT_EQUAL(m, 16);
    }
}

static void
test_ids_reads_stop_at_lim(void)
{
    uint32_t gaps[FIELDS], got[FIELDS];
    unsigned char bytes[FIELDS * 4 + 64];
    unsigned b = 9, need;
    uint32_t k, m;

    if (!ndx_ids_simd()) {
        t_skip("this CPU has no AVX2: gaps are unpacked one by one");
        return;
    }
    for (k = 0; k < FIELDS; k++)
        gaps[k] = k;
    memset(bytes, 0, sizeof bytes);
    pack(bytes, gaps, FIELDS, b);
    /* A group at byte g * b reads up to byte g * b + b / 2 + 16: with lim
     * just short of group 5's end of reading, groups 0-4 are unpacked. */
    need = 5 * b + b * 4 / 8 + 16;
    m = ndx_ids_unpack(bytes, bytes + need - 1, b, FIELDS, 0, got);
    CU_ASSERT_EQUAL(m, 40);
    m = ndx_ids_unpack(bytes, bytes + need, b, FIELDS, 0, got);
    CU_ASSERT_EQUAL(m, 48);
    /* Widths it does not take, and ids that would pass 2^32 - 1. */
    CU_ASSERT_EQUAL(ndx_ids_unpack(bytes, bytes + sizeof bytes, 0, 64, 0,
                                   got), 0);
    CU_ASSERT_EQUAL(ndx_ids_unpack(bytes, bytes + sizeof bytes,
                                   NDX_IDS_UNPACK_MAX_BITS + 1, 64, 0, got),
                    0);
    CU_ASSERT_EQUAL(ndx_ids_unpack(bytes, bytes + sizeof bytes, 20, 64,
                                   UINT32_MAX - 1000, got), 0);
}

/* Ascending ids, each kept with probability 1 / every (at least one). */
static uint32_t
make_ids(uint32_t *out, uint32_t cap, uint32_t every, uint64_t *seed)
{
    uint32_t n = 0, id = 0;

    while (n < cap) {
        if (next_rand(seed) % every == 0)
            out[n++] = id;
        id++;
    }
    return n;
}

static void
test_ids_first_common_id_of_two_arrays(void)
{
    static const uint32_t dens[][2] = {{1, 1}, {2, 3}, {3, 2}, {1, 40},
                                       {40, 1}, {5, 5}, {97, 89}};
    uint32_t a[300], b[300];
    uint64_t seed = 11;
    size_t d;

    for (d = 0; d < sizeof dens / sizeof *dens; d++) {
        uint32_t na = make_ids(a, 300, dens[d][0], &seed);
        uint32_t nb = make_ids(b, 300, dens[d][1], &seed);
        uint32_t s;

        /* From every start of a, b from its first id not below a's. */
        for (s = 0; s < na; s++) {
            uint32_t i = s, j = 0, wi = na, wj = nb, x, y, r;

            while (j < nb && b[j] < a[s])
                j++;
            /* The answer by hand: the first of a from s that b holds. */
            for (x = s; x < na && wi == na; x++)
                for (y = j; y < nb; y++)
                    if (a[x] == b[y]) {
                        wi = x;
                        wj = y;
                        break;
                    }
            r = (uint32_t)ndx_ids_first_common(a, &i, na, b, &j, nb);
            if (wi < na) {
                CU_ASSERT_EQUAL(r, 1);
                CU_ASSERT_EQUAL(i, wi);
                CU_ASSERT_EQUAL(j, wj);
            } else {
                CU_ASSERT_EQUAL(r, 0);
                CU_ASSERT(i == na || j == nb);
                /* Where they stop, the ids not passed hold none in
                 * common either: a caller goes on from there. */
                for (x = i; x < na; x++)
                    for (y = j; y < nb; y++)
                        CU_ASSERT(a[x] != b[y]);
            }
        }
    }
}

CU_TestInfo ids_tests[] = {
    {"first common id of two arrays",
     test_ids_first_common_id_of_two_arrays},
    {"every width gives back its ids",
     test_ids_every_width_gives_back_its_ids},
    {"reads stop at lim", test_ids_reads_stop_at_lim},
    CU_TEST_INFO_NULL,
};
