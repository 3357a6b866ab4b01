/*
 * hash.c - the open-addressing table of hash.h (the hash function and the
 * mixer are inline in hash.h).  What the keys mean is the callers' business.
 */
#include "hash.h"

#include <stdlib.h>
#include <string.h>

/* ---- the table ----------------------------------------------------------- */

static uint64_t
slot_key(const ndx_htab *t, size_t i)
{
    uint64_t k;

    memcpy(&k, t->slots + i * t->size, sizeof k);
    return k;
}

void
ndx_htab_init(ndx_htab *t, size_t entry_size, size_t first,
              unsigned load_pct)
{
    memset(t, 0, sizeof *t);
    t->size = entry_size;
    t->first = first < 8 ? 8 : first;
    t->load_pct = load_pct < 10 || load_pct > 90 ? 70 : load_pct;
}

void
ndx_htab_free(ndx_htab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

/* Where key would go in slots of cap entries: its first empty slot. */
static size_t
empty_slot(const unsigned char *slots, size_t cap, size_t size, uint64_t key)
{
    size_t j = (size_t)key & (cap - 1);
    uint64_t k;

    for (;;) {
        memcpy(&k, slots + j * size, sizeof k);
        if (!k)
            return j;
        j = (j + 1) & (cap - 1);
    }
}

ndx_status
ndx_htab_reserve(ndx_htab *t, size_t n)
{
    size_t cap = t->cap ? t->cap : t->first, i;
    unsigned char *ns;

    while (n * 100 >= cap * t->load_pct) {
        if (cap > SIZE_MAX / 2 / t->size)
            return ndx_error(NDX_ENOMEM, "out of memory (hash table)");
        cap *= 2;
    }
    if (cap == t->cap)
        return NDX_OK;
    ns = calloc(cap, t->size);
    if (!ns)
        return ndx_error(NDX_ENOMEM, "out of memory (hash table)");
    for (i = 0; i < t->cap; i++) {
        uint64_t k = slot_key(t, i);

        if (k)
            memcpy(ns + empty_slot(ns, cap, t->size, k) * t->size,
                   t->slots + i * t->size, t->size);
    }
    free(t->slots);
    t->slots = ns;
    t->cap = cap;
    return NDX_OK;
}

void *
ndx_htab_find(const ndx_htab *t, uint64_t key, size_t *pos)
{
    size_t j;
    uint64_t k;

    if (!t->cap || !key)
        return NULL;
    j = *pos == NDX_HTAB_START ? (size_t)key & (t->cap - 1)
                               : (*pos + 1) & (t->cap - 1);
    while ((k = slot_key(t, j)) != 0) {
        if (k == key) {
            *pos = j;
            return t->slots + j * t->size;
        }
        j = (j + 1) & (t->cap - 1);
    }
    return NULL;
}

void *
ndx_htab_get(const ndx_htab *t, uint64_t key)
{
    size_t pos = NDX_HTAB_START;

    return ndx_htab_find(t, key, &pos);
}

void *
ndx_htab_add(ndx_htab *t, uint64_t key)
{
    unsigned char *e;

    if (ndx_htab_reserve(t, t->count + 1))
        return NULL;
    e = t->slots + empty_slot(t->slots, t->cap, t->size, key) * t->size;
    memcpy(e, &key, sizeof key);
    t->count++;
    return e;
}

void *
ndx_htab_put(ndx_htab *t, uint64_t key, int *added)
{
    void *e = ndx_htab_get(t, key);

    *added = !e;
    return e ? e : ndx_htab_add(t, key);
}

void *
ndx_htab_slot(const ndx_htab *t, size_t i)
{
    return i < t->cap && slot_key(t, i) ? t->slots + i * t->size : NULL;
}

void
ndx_htab_del(ndx_htab *t, size_t pos)
{
    size_t j = (pos + 1) & (t->cap - 1);
    uint64_t k;

    memset(t->slots + pos * t->size, 0, t->size);
    t->count--;
    /* Put the rest of the run where a probe from its home finds it. */
    while ((k = slot_key(t, j)) != 0) {
        unsigned char *e = t->slots + j * t->size;
        size_t to;

        memset(e, 0, sizeof k); /* empty while its new place is sought */
        to = empty_slot(t->slots, t->cap, t->size, k);
        if (to != j) {
            memcpy(t->slots + to * t->size, e, t->size);
            memset(e, 0, t->size);
        }
        memcpy(t->slots + to * t->size, &k, sizeof k);
        j = (j + 1) & (t->cap - 1);
    }
}

void
ndx_htab_clear(ndx_htab *t)
{
    if (t->slots)
        memset(t->slots, 0, t->cap * t->size);
    t->count = 0;
}
