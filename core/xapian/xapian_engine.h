/*
 * xapian_engine.h - the Xapian engine behind a plain C interface.
 *
 * The engine table itself is reached through ndx_xapian_engine() (declared
 * in newsdex/sys/engine.h).  This header adds what a C caller may want to know
 * about the on-disk layout: how articles are spread over shards.  It is
 * plain C; the only C++ in newsdex is xapian_engine.cc behind it.
 */
#ifndef NDX_XAPIAN_ENGINE_H
#define NDX_XAPIAN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "newsdex/sys/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most shards one index may be split into. */
#define NDX_XAPIAN_SHARDS_MAX 1024

/*
 * The shard (0 .. shards-1) that holds the article with this id: FNV-1a
 * 64 over the id's bytes (offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3), modulo shards.  Stable across versions and machines.
 */
unsigned ndx_xapian_shard_of(const char *id, size_t id_len, unsigned shards);

#ifdef __cplusplus
}
#endif
#endif
