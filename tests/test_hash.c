/*
 * test_hash.c - the open-addressing table of util/hash.h: repeated keys,
 * removal from the middle of a probe run, growth, clearing.
 *
 * Keys that are equal modulo the table's size share a home slot, so keys
 * 8, 16, 24 ... in a table of 8 or more slots form one run; removing one
 * of them must leave every other findable.
 */
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "util/hash.h"

typedef struct ent {
    uint64_t key;
    uint64_t val;
} ent;

/* The value stored with key, or 0 when key is absent. */
static uint64_t
val_of(const ndx_htab *t, uint64_t key)
{
    const ent *e = ndx_htab_get(t, key);

    return e ? e->val : 0;
}

static void
test_htab_del_keeps_the_rest_of_a_run(void)
{
    ndx_htab t;
    size_t pos = NDX_HTAB_START;
    uint64_t k;
    ent *e;

    ndx_htab_init(&t, sizeof(ent), 64, 50);
    /* 64 slots: keys 64, 128, ... 640 share home slot 0; 1 and 2 sit in
     * the run they push into. */
    for (k = 64; k <= 640; k += 64) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(e = ndx_htab_add(&t, k));
        e->val = k + 1;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(e = ndx_htab_add(&t, 1));
    e->val = 2;
    CU_ASSERT_EQUAL(t.cap, 64);
    CU_ASSERT_EQUAL(t.count, 11);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ndx_htab_find(&t, 192, &pos));
    ndx_htab_del(&t, pos);
    CU_ASSERT_EQUAL(t.count, 10);
    CU_ASSERT_PTR_NULL(ndx_htab_get(&t, 192));
    for (k = 64; k <= 640; k += 64)
        if (k != 192)
            CU_ASSERT_EQUAL(val_of(&t, k), k + 1);
    CU_ASSERT_EQUAL(val_of(&t, 1), 2);
    /* The run's first and last go too. */
    pos = NDX_HTAB_START;
    CU_ASSERT_PTR_NOT_NULL_FATAL(ndx_htab_find(&t, 64, &pos));
    ndx_htab_del(&t, pos);
    pos = NDX_HTAB_START;
    CU_ASSERT_PTR_NOT_NULL_FATAL(ndx_htab_find(&t, 1, &pos));
    ndx_htab_del(&t, pos);
    CU_ASSERT_EQUAL(t.count, 8);
    for (k = 128; k <= 640; k += 64)
        if (k != 192)
            CU_ASSERT_EQUAL(val_of(&t, k), k + 1);
    CU_ASSERT_PTR_NULL(ndx_htab_get(&t, 64));
    CU_ASSERT_PTR_NULL(ndx_htab_get(&t, 1));
    ndx_htab_free(&t);
}

static void
test_htab_repeated_keys_are_each_found(void)
{
    ndx_htab t;
    size_t pos = NDX_HTAB_START, n = 0;
    uint64_t seen = 0;
    ent *e;
    int i;

    ndx_htab_init(&t, sizeof(ent), 8, 50);
    for (i = 0; i < 3; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(e = ndx_htab_add(&t, 5));
        e->val = 1u << i;
    }
    while ((e = ndx_htab_find(&t, 5, &pos)) != NULL) {
        seen |= e->val;
        n++;
    }
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(seen, 7);
    /* Removing the second leaves the first and the third. */
    pos = NDX_HTAB_START;
    CU_ASSERT_PTR_NOT_NULL_FATAL(ndx_htab_find(&t, 5, &pos));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ndx_htab_find(&t, 5, &pos));
    ndx_htab_del(&t, pos);
    pos = NDX_HTAB_START;
    n = 0;
    seen = 0;
    while ((e = ndx_htab_find(&t, 5, &pos)) != NULL) {
        seen |= e->val;
        n++;
    }
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(t.count, 2);
    CU_ASSERT_EQUAL(seen, 5);
    ndx_htab_free(&t);
}

static void
test_htab_grows_and_clears(void)
{
    ndx_htab t;
    uint64_t k;
    int added = 0, all = 1;
    ent *e;

    ndx_htab_init(&t, sizeof(ent), 8, 50);
    for (k = 1; k <= 1000; k++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(e = ndx_htab_put(&t, k * 7919, &added));
        all &= added;
        e->val = k;
    }
    CU_ASSERT(all);
    CU_ASSERT_EQUAL(t.count, 1000);
    /* Half full at most: 1000 entries need 2048 slots. */
    CU_ASSERT_EQUAL(t.cap, 2048);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e = ndx_htab_put(&t, 7919 * 500, &added));
    CU_ASSERT_EQUAL(added, 0);
    CU_ASSERT_EQUAL(e->val, 500);
    ndx_htab_clear(&t);
    CU_ASSERT_EQUAL(t.count, 0);
    CU_ASSERT_EQUAL(t.cap, 2048);
    CU_ASSERT_PTR_NULL(ndx_htab_get(&t, 7919 * 500));
    ndx_htab_free(&t);
}

CU_TestInfo hash_tests[] = {
    {"test_htab_del_keeps_the_rest_of_a_run",
     test_htab_del_keeps_the_rest_of_a_run},
    {"test_htab_repeated_keys_are_each_found",
     test_htab_repeated_keys_are_each_found},
    {"test_htab_grows_and_clears", test_htab_grows_and_clears},
    CU_TEST_INFO_NULL,
};
