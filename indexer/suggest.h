/*
 * suggest.h - newsdex-index --suggest-variants: the report of candidate
 * name variants learned from an index (suggest.c).
 */
#ifndef NDX_INDEXER_SUGGEST_H
#define NDX_INDEXER_SUGGEST_H

#include <stddef.h>

/* Prints the report for the index at path to standard output; returns the
 * exit status (0, or 1 with a message on standard error). */
int suggest_variants(const char *path, unsigned min_count, size_t limit);

#endif
