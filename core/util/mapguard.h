/*
 * mapguard.h - survives files truncated under a read-only map.
 *
 * Reading a page of a shared map whose file has been truncated (a `cp`
 * over a live index) raises SIGBUS, which kills the process.  A region
 * registered here is guarded instead: on the first such fault the handler
 * maps a zero page over the lost page, sets the region's damaged flag and
 * lets the read go on, so the reader sees zeros (which the bounds-checked
 * readers treat as damage) and its caller, checking the flag after the
 * operation, answers with an error naming the file instead of a result.
 *
 * The handler is installed on the first registration, and only when
 * SIGBUS has its default action: a program with its own SIGBUS handler
 * keeps it.  A SIGBUS outside every registered region keeps the default
 * action (the process dies, as before).
 */
#ifndef NDX_UTIL_MAPGUARD_H
#define NDX_UTIL_MAPGUARD_H

#include <stddef.h>

/* Guards [base, base + len); *damaged is set to 1 (it stays readable for
 * the region's life) on a fault there.  Returns a slot for
 * ndx_mapguard_remove, or -1 when the table is full (the region is then
 * unguarded: a fault kills as without this module). */
int ndx_mapguard_add(const void *base, size_t len, volatile int *damaged);

/* Stops guarding a slot (before the region is unmapped); -1 is ignored. */
void ndx_mapguard_remove(int slot);

/* Faults turned into damage since the process started (for tests). */
unsigned long ndx_mapguard_faults(void);

#endif
