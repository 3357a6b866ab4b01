/*
 * hash.h - the one hash function, the one bit mixer and the one
 * open-addressing hash table of libnewsdex (hash.c).
 *
 * FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) names
 * things that are stored: article ids in segments, Xapian shard choice and
 * document terms, postings aliases; it must not change.  mix64 is
 * splitmix64's finalizer: it spreads a hash's bits before it picks a slot.
 */
#ifndef NDX_UTIL_HASH_H
#define NDX_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NDX_FNV1A64_BASIS 0xcbf29ce484222325ULL

/* FNV-1a 64 of len bytes at p, going on from h (NDX_FNV1A64_BASIS for a
 * hash of these bytes alone).  Inline: it runs once per token. */
static inline uint64_t
ndx_fnv1a64_more(uint64_t h, const void *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* FNV-1a 64 of len bytes at p. */
static inline uint64_t
ndx_fnv1a64(const void *p, size_t len)
{
    return ndx_fnv1a64_more(NDX_FNV1A64_BASIS, p, len);
}

/* splitmix64's finalizer: a bijection that spreads every input bit. */
static inline uint64_t
ndx_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/*
 * An open-addressing table (linear probing, a power of two of slots) of
 * fixed-size entries, each starting with its uint64_t key; key 0 marks an
 * empty slot, so callers map a key of 0 to another value.  Keys may repeat
 * (ndx_htab_add); ndx_htab_put keeps them unique.  Entries move when the
 * table grows: a pointer to one is good until the next add or put.
 */
typedef struct ndx_htab {
    unsigned char *slots; /* cap entries of size bytes, zeroed when empty */
    size_t cap;           /* entries; 0 before the first add */
    size_t count;         /* entries held */
    size_t size;          /* bytes of an entry, its key first */
    size_t first;         /* cap of the first allocation (power of two) */
    unsigned load_pct;    /* the table grows beyond this share full */
} ndx_htab;

void ndx_htab_init(ndx_htab *t, size_t entry_size, size_t first,
                   unsigned load_pct);
void ndx_htab_free(ndx_htab *t);

/* Makes room for n entries in all without growing again.  NDX_ENOMEM. */
ndx_status ndx_htab_reserve(ndx_htab *t, size_t n);

/* The first entry with key at or after probe position *pos, or NULL; set
 * *pos to NDX_HTAB_START for the first call, and call again with the same
 * pos for the next entry with the same key. */
#define NDX_HTAB_START ((size_t)-1)
void *ndx_htab_find(const ndx_htab *t, uint64_t key, size_t *pos);

/* The entry with key, or NULL. */
void *ndx_htab_get(const ndx_htab *t, uint64_t key);

/* A new entry with key (zeroed but for the key), even when key is there
 * already.  NULL with NDX_ENOMEM set. */
void *ndx_htab_add(ndx_htab *t, uint64_t key);

/* The entry with key, added (zeroed but for the key) when absent; *added
 * says which.  NULL with NDX_ENOMEM set. */
void *ndx_htab_put(ndx_htab *t, uint64_t key, int *added);

/* Entry i (0 .. cap-1) when its slot holds one, else NULL: for walking
 * every entry in slot order. */
void *ndx_htab_slot(const ndx_htab *t, size_t i);

/* Removes the entry at probe position pos (as ndx_htab_find set it); the
 * entries after it in its run move back, so a walk by position restarts. */
void ndx_htab_del(ndx_htab *t, size_t pos);

/* Empties the table and keeps its slots for reuse. */
void ndx_htab_clear(ndx_htab *t);

#ifdef __cplusplus
}
#endif
#endif
