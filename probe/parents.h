/*
 * The parent's servers, judged together: part of the classifier
 * (probe_classify calls it), kept apart because it reads only
 * r->parents. Internal to the probe module.
 */
#ifndef DNSSECMON_PROBE_PARENTS_H
#define DNSSECMON_PROBE_PARENTS_H

#include <stddef.h>
#include <stdint.h>

#include "probe/probe.h"

/*
 * Do the answering parent servers serve one DS set? When not: sets
 * r->parents_agree false, marks the servers that lag, and for every key
 * whose DS only some of them serve, has_ds false and ds_partial true (a
 * DS is not "at the parent" until it is at every server of it), then adds
 * parent_ds_disagree. Call after the DS are matched to keys.
 * Returns true, having added nothing, when r->ds came from a server that
 * lags: r->ds now holds the set of one that does not; match the DS to the
 * keys again and call it again.
 */
bool	parents_classify(struct probe_result *, const uint8_t *owner,
	    size_t olen);

/* parent_ds_unsigned: some answering parent servers send the DS without
 * an RRSIG while others sign it (a parent that signs nothing is an
 * unsigned parent, not a fault of one server). Call once. */
void	parents_classify_rrsig(struct probe_result *);

/* How many parent servers answered the DS question. */
unsigned parents_answering(const struct probe_result *);

/* The largest DS TTL any answering parent server gave (r->ds_ttl at
 * least): how long resolvers may keep the old DS. */
uint32_t parents_ds_ttl(const struct probe_result *);

#endif
