/*
 * Many short strings that live and die together (the names of 100,000
 * configured domains): copied one after another into large blocks, freed
 * all at once. A name in a fixed PROBE_NAME_MAX array cost 256 bytes and
 * one from strdup() 32 bytes of heap; here it costs its length plus one.
 */
#ifndef DNSSECMON_COMMON_STRPOOL_H
#define DNSSECMON_COMMON_STRPOOL_H

#include <stddef.h>

struct strpool_block;

struct strpool {
	struct strpool_block	*head;	/* the block being filled first */
};

/* An empty pool needs no set-up: struct strpool p = { 0 }. */

/* A copy of s, valid until strpool_free(); NULL when out of memory. */
const char *strpool_add(struct strpool *, const char *s);

/* Frees every string of the pool; it is empty (and usable) after. */
void	strpool_free(struct strpool *);

#endif
