/*
 * Synthetic observations for the store tests, header-only: what the probe
 * engine would hand over for a zone in each state of the testbed's
 * switchable zone (tests/testbed/testbed.sh state_def), without a network.
 *
 * Keys carry made-up public key bytes: the classifier and the store never
 * verify signatures, they match DS digests against DNSKEY RDATA, and those
 * digests are computed for real (common/dsmatch.c).
 */
#ifndef DNSSECMON_TESTS_STORE_SYNTH_H
#define DNSSECMON_TESTS_STORE_SYNTH_H

#include <stdio.h>
#include <string.h>

#include "common/dsmatch.h"
#include "probe/probe.h"

#define SYNTH_DS_TTL	3600

/* Key roles, as the testbed names them. */
enum synth_role { SY_KSK, SY_KSK_NEW, SY_ZSK, SY_ZSK2 };

enum synth_state {
	SY_HEALTHY,	/* ksk+zsk, DS ksk */
	SY_ROLLSTART,	/* ksk, ksk_new both sign; DS ksk */
	SY_DSUPDATED,	/* ksk, ksk_new both sign; DS ksk_new */
	SY_ROLLDONE,	/* ksk_new; DS ksk_new */
	SY_BROKEN,	/* ksk_new; DS ksk (bogus) */
	SY_STALEDS,	/* ksk_new; DS ksk_new and ksk */
	SY_DOUBLEDS,	/* ksk; DS ksk and ksk_new (pre-published) */
	SY_UNSIGNED,	/* no keys, no DS: insecure */
	SY_ZSKROLL,	/* zsk signs, zsk2 published idle */
	SY_ZSKSWAP,	/* zsk2 signs, zsk published idle */
	SY_ZSKDONE,	/* zsk2 only */
	SY_UNREACHABLE	/* every server timed out */
};

static inline void
synth_rdata(enum synth_role role, uint8_t *rdata, uint16_t *len,
    uint16_t *flags)
{
	unsigned	 i;

	*flags = role == SY_KSK || role == SY_KSK_NEW ? 257 : 256;
	rdata[0] = (uint8_t)(*flags >> 8);
	rdata[1] = (uint8_t)*flags;
	rdata[2] = 3;
	rdata[3] = 8;			/* RSASHA256 */
	rdata[4] = 3;			/* exponent length */
	for (i = 5; i < 5 + 3 + 256; i++)
		rdata[i] = (uint8_t)(i * 31 + (unsigned)role * 97 + 1);
	/* A 2048-bit modulus, as the testbed's KSKs: a shorter one is a
	 * problem of its own (rsa_key_short). */
	rdata[8] |= 0x80;
	*len = 5 + 3 + 256;
}

/* Index of the new key in r->keys. */
static inline int
synth_add_key(struct probe_result *r, enum synth_role role, bool signs_dnskey,
    bool signs_soa)
{
	struct probe_key	*k = &r->keys[r->n_keys];

	memset(k, 0, sizeof(*k));
	synth_rdata(role, k->rdata, &k->rdata_len, &k->flags);
	k->protocol = 3;
	k->algorithm = 8;
	k->key_tag = dsmatch_keytag(k->rdata, k->rdata_len);
	k->servers = 1;
	k->signs_dnskey = signs_dnskey ? 1 : 0;
	k->signs_soa = signs_soa ? 1 : 0;
	r->servers[0].n_dnskey++;
	return (int)r->n_keys++;
}

/* A SHA-256 DS at the parent for a role's key (published or not). */
static inline void
synth_add_ds(struct probe_result *r, enum synth_role role)
{
	struct probe_ds	*d = &r->ds[r->n_ds];
	uint8_t		 rdata[PROBE_MAX_KEYDATA], owner[DSMATCH_NAME_MAX];
	uint16_t	 len, flags;
	size_t		 olen, dl = 0;

	memset(d, 0, sizeof(*d));
	synth_rdata(role, rdata, &len, &flags);
	dsmatch_name_to_wire(r->domain, owner, sizeof(owner), &olen, NULL, 0);
	dsmatch_digest(owner, olen, rdata, len, 2, d->digest,
	    sizeof(d->digest), &dl);
	d->digest_len = (uint8_t)dl;
	d->key_tag = dsmatch_keytag(rdata, len);
	d->algorithm = 8;
	d->digest_type = 2;
	d->key = -1;
	r->n_ds++;
}

/* A CDS for a role's key, as a DNS host that rotates publishes it. */
static inline void
synth_add_cds(struct probe_result *r, enum synth_role role)
{
	synth_add_ds(r, role);
	r->cds[r->n_cds++] = r->ds[--r->n_ds];
}

static inline uint16_t
synth_tag(enum synth_role role)
{
	uint8_t		 rdata[PROBE_MAX_KEYDATA];
	uint16_t	 len, flags;

	synth_rdata(role, rdata, &len, &flags);
	return dsmatch_keytag(rdata, len);
}

/* Fill r (unclassified) as the probe would see `domain` in `state`. */
static inline void
synth_result(struct probe_result *r, const char *domain,
    enum synth_state state, time_t now)
{
	struct probe_server	*s;

	memset(r, 0, sizeof(*r));
	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	snprintf(r->parent, sizeof(r->parent), "test");
	r->started = now;
	r->parent_status = PROBE_Q_OK;
	snprintf(r->parent_server, sizeof(r->parent_server), "192.0.2.53");
	r->delegated = true;
	/* A parent with this one server, asked: its DS is everywhere. */
	r->every_parent = true;
	r->ds_ttl = SYNTH_DS_TTL;
	r->n_servers = 1;
	s = &r->servers[0];
	snprintf(s->name, sizeof(s->name), "ns1.%s", domain);
	snprintf(s->address, sizeof(s->address), "192.0.2.1");
	s->status = PROBE_Q_OK;
	s->authoritative = true;
	s->has_soa = true;
	s->soa_serial = (uint32_t)now;
	s->latency_ms = 1.5;
	r->validation = PROBE_VAL_SECURE;
	r->n_resolvers = 1;
	snprintf(r->resolvers[0].address, sizeof(r->resolvers[0].address),
	    "192.0.2.99");
	r->resolvers[0].status = PROBE_Q_OK;
	r->resolvers[0].rcode = 0;
	r->resolvers[0].ad = true;
	r->resolvers[0].ede = -1;

	switch (state) {
	case SY_HEALTHY:
		synth_add_key(r, SY_KSK, true, false);
		synth_add_key(r, SY_ZSK, false, true);
		synth_add_ds(r, SY_KSK);
		break;
	case SY_ROLLSTART:
		synth_add_key(r, SY_KSK, true, false);
		synth_add_key(r, SY_KSK_NEW, true, false);
		synth_add_key(r, SY_ZSK, false, true);
		synth_add_ds(r, SY_KSK);
		/* As the testbed and large hosts do: CDS names the new key,
		 * so even a first observation can tell the new key. */
		synth_add_cds(r, SY_KSK_NEW);
		break;
	case SY_DSUPDATED:
		synth_add_key(r, SY_KSK, true, false);
		synth_add_key(r, SY_KSK_NEW, true, false);
		synth_add_key(r, SY_ZSK, false, true);
		synth_add_ds(r, SY_KSK_NEW);
		synth_add_cds(r, SY_KSK_NEW);
		break;
	case SY_ROLLDONE:
		synth_add_key(r, SY_KSK_NEW, true, false);
		synth_add_key(r, SY_ZSK, false, true);
		synth_add_ds(r, SY_KSK_NEW);
		break;
	case SY_BROKEN:
		synth_add_key(r, SY_KSK_NEW, true, false);
		synth_add_key(r, SY_ZSK, false, true);
		synth_add_ds(r, SY_KSK);
		r->validation = PROBE_VAL_BOGUS;
		r->resolvers[0].rcode = 2;
		r->resolvers[0].ad = false;
		break;
	case SY_STALEDS:
		synth_add_key(r, SY_KSK_NEW, true, false);
		synth_add_key(r, SY_ZSK, false, true);
		synth_add_ds(r, SY_KSK_NEW);
		synth_add_ds(r, SY_KSK);
		break;
	case SY_DOUBLEDS:
		synth_add_key(r, SY_KSK, true, false);
		synth_add_key(r, SY_ZSK, false, true);
		synth_add_ds(r, SY_KSK);
		synth_add_ds(r, SY_KSK_NEW);
		break;
	case SY_UNSIGNED:
		r->validation = PROBE_VAL_INSECURE;
		r->resolvers[0].ad = false;
		break;
	case SY_ZSKROLL:
		synth_add_key(r, SY_KSK, true, false);
		synth_add_key(r, SY_ZSK, false, true);
		synth_add_key(r, SY_ZSK2, false, false);
		synth_add_ds(r, SY_KSK);
		break;
	case SY_ZSKSWAP:
		synth_add_key(r, SY_KSK, true, false);
		synth_add_key(r, SY_ZSK, false, false);
		synth_add_key(r, SY_ZSK2, false, true);
		synth_add_ds(r, SY_KSK);
		break;
	case SY_ZSKDONE:
		synth_add_key(r, SY_KSK, true, false);
		synth_add_key(r, SY_ZSK2, false, true);
		synth_add_ds(r, SY_KSK);
		break;
	case SY_UNREACHABLE:
		synth_add_ds(r, SY_KSK);
		s->status = PROBE_Q_TIMEOUT;
		s->has_soa = false;
		snprintf(s->error, sizeof(s->error), "timed out");
		r->validation = PROBE_VAL_INDETERMINATE;
		r->resolvers[0].status = PROBE_Q_TIMEOUT;
		r->resolvers[0].rcode = -1;
		r->resolvers[0].ad = false;
		break;
	}
}

#endif
