/*
 * test_slab.c - util/slab.h: buffers that grow side by side keep their
 * bytes, a block given back serves the next buffer of its size, blocks
 * past NDX_SLAB_MAX are heap memory and are counted, and the huge-page
 * allocations are zeroed and start on a 2 MB boundary.
 */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "util/slab.h"

#define LISTS 300

/* Byte k of list i: what the test appended there. */
static unsigned char
byte_of(size_t i, size_t k)
{
    return (unsigned char)(i * 31 + k * 7 + (k >> 8));
}

static void
test_slab_lists_grown_side_by_side_keep_their_bytes(void)
{
    ndx_slab s;
    ndx_buf b[LISTS];
    size_t i, k, round;
    int ok = 1;

    ndx_slab_init(&s);
    for (i = 0; i < LISTS; i++)
        ndx_buf_init(&b[i]);
    /* List i gets i + 1 bytes a round, so lists pass through every size
     * class at different times, and the longest past NDX_SLAB_MAX
     * (300 * 500 bytes). */
    for (round = 0; round < 500 && ok; round++)
        for (i = 0; i < LISTS && ok; i++)
            for (k = 0; k <= i && ok; k++) {
                ok = ndx_slab_reserve(&s, &b[i], 1) == NDX_OK;
                if (ok) {
                    b[i].data[b[i].len] = byte_of(i, b[i].len);
                    b[i].len++;
                }
            }
    CU_ASSERT_FATAL(ok);
    for (i = 0; i < LISTS; i++) {
        int same = 1;

        CU_ASSERT_EQUAL(b[i].len, 500 * (i + 1));
        for (k = 0; k < b[i].len; k++)
            same &= b[i].data[k] == byte_of(i, k);
        CU_ASSERT(same);
    }
    /* The last list holds 150,000 bytes: a heap block of 256 KB. */
    CU_ASSERT(b[LISTS - 1].cap > NDX_SLAB_MAX);
    CU_ASSERT(s.large_bytes > 0);
    CU_ASSERT(ndx_slab_memory(&s) >= s.chunk_count * NDX_SLAB_CHUNK +
                                         b[LISTS - 1].cap);
    for (i = 0; i < LISTS; i++)
        ndx_slab_release(&s, &b[i]);
    CU_ASSERT_EQUAL(s.large_bytes, 0);
    CU_ASSERT_PTR_NULL(b[0].data);
    ndx_slab_free(&s);
    CU_ASSERT_EQUAL(ndx_slab_memory(&s), 0);
}

static void
test_slab_released_block_serves_the_next_list_of_its_size(void)
{
    ndx_slab s;
    ndx_buf a, b, c;
    unsigned char *first;

    ndx_slab_init(&s);
    ndx_buf_init(&a);
    ndx_buf_init(&b);
    ndx_buf_init(&c);
    CU_ASSERT_EQUAL_FATAL(ndx_slab_reserve(&s, &a, 100), NDX_OK);
    /* 100 bytes: the 128-byte class, in the first chunk. */
    CU_ASSERT_EQUAL(a.cap, 128);
    CU_ASSERT_EQUAL(ndx_slab_memory(&s), NDX_SLAB_CHUNK);
    first = a.data;
    ndx_slab_release(&s, &a);
    CU_ASSERT_EQUAL(a.cap, 0);
    CU_ASSERT_EQUAL_FATAL(ndx_slab_reserve(&s, &b, 65), NDX_OK);
    CU_ASSERT_PTR_EQUAL(b.data, first);
    /* A list that outgrows its block leaves it to the next one. */
    memset(b.data, 'x', 65);
    b.len = 65;
    CU_ASSERT_EQUAL_FATAL(ndx_slab_reserve(&s, &b, 100), NDX_OK);
    CU_ASSERT_EQUAL(b.cap, 256);
    CU_ASSERT(b.data != first);
    CU_ASSERT_EQUAL(b.data[64], 'x');
    CU_ASSERT_EQUAL_FATAL(ndx_slab_reserve(&s, &c, 128), NDX_OK);
    CU_ASSERT_PTR_EQUAL(c.data, first);
    ndx_slab_free(&s);
}

static void
test_slab_varints_read_back(void)
{
    static const uint64_t v[] = {0, 1, 127, 128, 300, 16383, 16384,
                                 UINT32_MAX, UINT64_MAX};
    ndx_slab s;
    ndx_buf b;
    const unsigned char *p;
    size_t i;

    ndx_slab_init(&s);
    ndx_buf_init(&b);
    for (i = 0; i < 1000; i++)
        CU_ASSERT_EQUAL_FATAL(
            ndx_slab_put_varint(&s, &b, v[i % (sizeof v / sizeof *v)]),
            NDX_OK);
    p = b.data;
    for (i = 0; i < 1000; i++) {
        uint64_t got = 0;

        CU_ASSERT_EQUAL_FATAL(ndx_varint_get(&p, b.data + b.len, &got), 0);
        CU_ASSERT_EQUAL(got, v[i % (sizeof v / sizeof *v)]);
    }
    CU_ASSERT_PTR_EQUAL(p, b.data + b.len);
    ndx_slab_release(&s, &b);
    ndx_slab_free(&s);
}

static void
test_huge_alloc_is_zeroed_and_aligned(void)
{
    size_t bytes = (5u << 20) + 12345, i;
    unsigned char *p = ndx_huge_alloc(bytes), *q;
    int zero = 1;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL((uintptr_t)p % (2u << 20), 0);
    for (i = 0; i < bytes; i += 4096)
        zero &= p[i] == 0;
    CU_ASSERT(zero && p[bytes - 1] == 0);
    memset(p, 0xAB, bytes);
    ndx_huge_free(p, bytes);
    /* Small ones are page-sized maps. */
    q = ndx_huge_alloc(100);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_EQUAL((uintptr_t)q % 4096, 0);
    CU_ASSERT_EQUAL(q[99], 0);
    ndx_huge_free(q, 100);
}

CU_TestInfo slab_tests[] = {
    {"test_slab_lists_grown_side_by_side_keep_their_bytes",
     test_slab_lists_grown_side_by_side_keep_their_bytes},
    {"test_slab_released_block_serves_the_next_list_of_its_size",
     test_slab_released_block_serves_the_next_list_of_its_size},
    {"test_slab_varints_read_back", test_slab_varints_read_back},
    {"test_huge_alloc_is_zeroed_and_aligned",
     test_huge_alloc_is_zeroed_and_aligned},
    CU_TEST_INFO_NULL,
};
