/*
 * FNV-1a, 64 bits: small, fast on short keys, and the same on every
 * machine and in every version, which the shard assignment relies on
 * (a domain must never move between shards by itself).
 */
#ifndef DNSSECMON_COMMON_HASH_H
#define DNSSECMON_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t
hash_fnv1a(const void *p, size_t n)
{
	const unsigned char	*s = p;
	uint64_t		 h = 1469598103934665603ULL;

	while (n-- > 0) {
		h ^= *s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static inline uint64_t
hash_fnv1a_str(const char *s)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

#endif
