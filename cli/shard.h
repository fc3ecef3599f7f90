/*
 * Which part of a fleet this daemon is: its shard (--shard K/N or
 * --shard auto) and its instance name (instance:, else the host name plus
 * the shard). Pure functions of their arguments, so the mapping from a
 * platform's host names to shards is unit-tested (tests/unit/test_shard.c).
 */
#ifndef DNSSECMON_SHARD_H
#define DNSSECMON_SHARD_H

#include <stdbool.h>
#include <stddef.h>

#define SHARD_MAX		1000	/* N */
#define SHARD_ENV		"DNSSECMON_SHARDS" /* N of --shard auto */
#define SHARD_INSTANCE_MAX	65	/* an instance name, with NUL */

/*
 * --shard's argument into 1-based *k of *n. "K/N" as it is; "auto" takes
 * K from the ordinal that ends the first label of a StatefulSet-style host
 * name ("dnssecmon-3" is shard 4: ordinals count from 0) and N from env_n
 * (the value of DNSSECMON_SHARDS, NULL when unset). 0, or -1 with the
 * reason in err.
 */
int	shard_parse(const char *arg, const char *hostname, const char *env_n,
	    unsigned *k, unsigned *n, char *err, size_t errlen);

/* Can name be an instance name: 1-64 of A-Z a-z 0-9 . _ - (it is an MQTT
 * topic level and part of a client id). */
bool	shard_instance_valid(const char *name);

/*
 * This daemon's instance name into out: configured when not NULL, else
 * the host name (characters an instance name cannot hold become '_') with
 * "-shard-K-of-N" when sharded (n 0: not). Returns out.
 */
const char *shard_instance(const char *configured, const char *hostname,
	    unsigned k, unsigned n, char *out, size_t len);

#endif
