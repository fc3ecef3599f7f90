/*
 * The synthetic observation the classifier tests build on, header-only
 * like tap.h: one result R and policy P per test program, a secure
 * two-server zone to start from, deterministic fake keys and their real
 * DS, and the look-ups of a problem by code. The classifier reads only
 * bits and numbers, so keys need not be real keys, only real enough for
 * key tags and digests.
 */
#ifndef DNSSECMON_PROBE_FIXTURE_H
#define DNSSECMON_PROBE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/dsmatch.h"
#include "probe/probe.h"

#define NOW	1800000000

static struct probe_result	 R;
static struct probe_policy	 P;

/* A secure, reachable, two-server zone with no keys yet: example.test
 * under test, DS TTL 3600, signatures valid for 20 more days. */
static inline void
fixture_base(void)
{
	unsigned i;

	memset(&R, 0, sizeof(R));
	probe_policy_defaults(&P);
	strcpy(R.domain, "example.test");
	strcpy(R.parent, "test");
	R.parent_status = PROBE_Q_OK;
	R.delegated = true;
	R.ds_ttl = 3600;
	R.validation = PROBE_VAL_SECURE;
	R.n_servers = 2;
	for (i = 0; i < 2; i++) {
		strcpy(R.servers[i].name, i ? "ns2.host.test" : "ns1.host.test");
		strcpy(R.servers[i].address, i ? "192.0.2.2" : "192.0.2.1");
		R.servers[i].status = PROBE_Q_OK;
		R.servers[i].has_soa = true;
		R.servers[i].authoritative = true;
		R.servers[i].soa_serial = 7;
	}
	R.earliest_sig_expiry = NOW + 20 * 86400;
}

/* A deterministic fake key appended to R.keys, its index; the caller
 * says which servers publish it and what it signs. */
static inline int
fixture_key(uint16_t flags, uint8_t alg, int seed)
{
	struct probe_key *k = &R.keys[R.n_keys];
	int i;

	memset(k, 0, sizeof(*k));
	k->rdata[0] = flags >> 8;
	k->rdata[1] = flags & 0xff;
	k->rdata[2] = 3;
	k->rdata[3] = alg;
	for (i = 4; i < 68; i++)
		k->rdata[i] = (uint8_t)(seed * 31 + i * 7);
	k->rdata_len = 68;
	k->flags = flags;
	k->protocol = 3;
	k->algorithm = alg;
	k->key_tag = dsmatch_keytag(k->rdata, k->rdata_len);
	return (int)R.n_keys++;
}

/* The DS of key (of R.domain) with this digest type, its real digest. */
static inline void
fixture_ds(struct probe_ds *d, const struct probe_key *key, uint8_t type)
{
	uint8_t owner[DSMATCH_NAME_MAX];
	size_t olen, dl;

	dsmatch_name_to_wire(R.domain, owner, sizeof(owner), &olen, NULL, 0);
	memset(d, 0, sizeof(*d));
	d->key_tag = key->key_tag;
	d->algorithm = key->algorithm;
	d->digest_type = type;
	dsmatch_digest(owner, olen, key->rdata, key->rdata_len, type,
	    d->digest, sizeof(d->digest), &dl);
	d->digest_len = (uint8_t)dl;
}

/* The classifier's problem of that code, NULL when it raised none. */
static inline const struct probe_problem *
fixture_problem(const char *code)
{
	unsigned i;

	for (i = 0; i < R.n_problems; i++)
		if (strcmp(R.problems[i].code, code) == 0)
			return &R.problems[i];
	return NULL;
}

static inline bool
fixture_has(const char *code)
{
	return fixture_problem(code) != NULL;
}

/* Its message, "" when not raised (a test can strstr() it either way). */
static inline const char *
fixture_message(const char *code)
{
	const struct probe_problem *p = fixture_problem(code);

	return p != NULL ? p->message : "";
}

/* Its severity as the outputs spell it, NULL when not raised. */
static inline const char *
fixture_severity(const char *code)
{
	const struct probe_problem *p = fixture_problem(code);

	return p != NULL ? probe_problem_severity_name(p->severity) : NULL;
}

#endif
