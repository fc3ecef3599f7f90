/*
 * The classifier on synthetic observations: one rule per case, including
 * the ones a single testbed check cannot reach (history tie-breaks,
 * unreachable parents, truncated observations).
 */
#include <stdlib.h>
#include <string.h>

#include "probe/dsmatch.h"
#include "probe/probe.h"
#include "tap.h"

#define NOW	1800000000

static struct probe_result	 R;
static struct probe_policy	 P;

/* A deterministic fake key: real enough for key tags and digests. */
static int
key_add(uint16_t flags, uint8_t alg, int seed, uint32_t servers,
    uint32_t signs_dnskey)
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
	k->servers = servers;
	k->signs_dnskey = signs_dnskey;
	k->signs_soa = (flags & 1) ? 0 : signs_dnskey ? 0 : servers;
	return (int)R.n_keys++;
}

/* The DS of key k (or of a key that is not published, when k < 0). */
static void
ds_of(struct probe_ds *d, int k, int unpublished_seed)
{
	uint8_t owner[DSMATCH_NAME_MAX];
	size_t olen, dl;
	struct probe_key tmp, *key;

	dsmatch_name_to_wire(R.domain, owner, sizeof(owner), &olen, NULL, 0);
	if (k >= 0)
		key = &R.keys[k];
	else {
		unsigned save = R.n_keys;

		key_add(257, 13, unpublished_seed, 0, 0);
		tmp = R.keys[save];
		R.n_keys = save;
		key = &tmp;
	}
	memset(d, 0, sizeof(*d));
	d->key_tag = key->key_tag;
	d->algorithm = key->algorithm;
	d->digest_type = 2;
	dsmatch_digest(owner, olen, key->rdata, key->rdata_len, 2, d->digest,
	    sizeof(d->digest), &dl);
	d->digest_len = (uint8_t)dl;
}

static void
parent_ds(int k, int unpublished_seed)
{
	ds_of(&R.ds[R.n_ds++], k, unpublished_seed);
}

static void
child_cds(int k)
{
	ds_of(&R.cds[R.n_cds++], k, 0);
}

/* A secure, reachable, two-server zone with no keys yet. */
static void
base(void)
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
		R.servers[i].n_dnskey = 2;
	}
	R.n_resolvers = 1;
	strcpy(R.resolvers[0].address, "192.0.2.53");
	R.resolvers[0].status = PROBE_Q_OK;
	R.resolvers[0].rcode = 0;
	R.resolvers[0].ad = true;
	R.resolvers[0].ede = -1;
	R.earliest_sig_expiry = NOW + 20 * 86400;
}

static bool
has(const char *code)
{
	unsigned i;

	for (i = 0; i < R.n_problems; i++)
		if (strcmp(R.problems[i].code, code) == 0)
			return true;
	return false;
}

static void
classify(void)
{
	probe_classify(&R, &P, NOW);
}

int
main(void)
{
	int k1, k2, z;

	/* stable */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	key_add(256, 13, 2, 3, 0);
	parent_ds(k1, 0);
	classify();
	is_str(probe_state_name(R.state), "stable", "one KSK with its DS: stable");
	is_str(probe_severity_name(R.severity), "ok", "stable and secure: ok");
	is_int(R.n_problems, 0, "stable: no problems");
	ok(R.keys[k1].has_ds && R.ds[0].key == k1, "the DS is matched to its key");

	/* no CDS, no history: a starting rotation and a finishing one look
	 * the same; the key without DS may be new, and the check says so */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 3);
	key_add(256, 13, 2, 3, 0);
	parent_ds(k1, 0);
	classify();
	is_str(probe_state_name(R.state), "rotation_pending",
	    "a signing KSK without DS: rotation_pending");
	is_str(probe_severity_name(R.severity), "warning", "pending: warning");
	ok(R.keys[k2].needs_ds && !R.keys[k1].needs_ds,
	    "only the key without DS needs one");
	ok(R.rotation_ambiguous, "no CDS, no history: ambiguous");
	ok(has("rotation_ambiguous") && !has("rotation_pending"),
	    "ambiguous: problem rotation_ambiguous, not rotation_pending");
	ok(strstr(R.problems[0].message, "example.test. IN DS") != NULL &&
	    strstr(R.problems[0].message, "nothing is needed") != NULL,
	    "ambiguous: the message gives both readings, with the DS");
	ok(R.n_publish == 1 && R.publish[0].key == k2,
	    "ambiguous: the DS of the key without DS is offered");
	/* tracked, first observation: both keys seen at this check */
	R.history.tracked = true;
	R.keys[k1].first_seen = NOW;
	R.keys[k2].first_seen = NOW;
	classify();
	ok(R.rotation_ambiguous && !R.deadline.set && !has("rotation_deadline"),
	    "first observation, keys seen together: ambiguous, no countdown");
	R.keys[k1].first_seen = NOW - 86400;
	classify();
	ok(!R.rotation_ambiguous && has("rotation_pending") &&
	    R.deadline.set && R.deadline.opens,
	    "history tells the key without DS is newer: pending, countdown");
	R.keys[k1].first_seen = NOW;
	R.keys[k2].first_seen = NOW - 86400;
	classify();
	ok(!R.rotation_ambiguous && R.state == PROBE_STATE_DS_UPDATED &&
	    R.n_publish == 0,
	    "history tells the key without DS is older: ds_updated, no DS");

	/* ds_updated, told apart by CDS */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 3);
	parent_ds(k2, 0);
	child_cds(k2);
	classify();
	is_str(probe_state_name(R.state), "ds_updated",
	    "CDS names the key that has the DS: ds_updated");
	is_str(probe_severity_name(R.severity), "ok", "ds_updated: ok");
	ok(!R.keys[k1].needs_ds, "ds_updated: the old key needs no DS");
	ok(has("old_key_published"), "ds_updated: note that the old key remains");

	/* same keys, CDS names the one without DS: pending */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 3);
	parent_ds(k1, 0);
	child_cds(k2);
	classify();
	is_str(probe_state_name(R.state), "rotation_pending",
	    "CDS names the key without DS: rotation_pending");

	/* ds_updated, told apart by history: the key without DS is older */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 3);
	R.keys[k1].first_seen = NOW - 10 * 86400;
	R.keys[k2].first_seen = NOW - 3 * 86400;
	parent_ds(k2, 0);
	classify();
	is_str(probe_state_name(R.state), "ds_updated",
	    "history: the older key lacks the DS: ds_updated");
	R.keys[k1].first_seen = NOW - 3 * 86400;
	R.keys[k2].first_seen = NOW - 10 * 86400;
	classify();
	is_str(probe_state_name(R.state), "rotation_pending",
	    "history: the newer key lacks the DS: rotation_pending");

	/* stale DS, and pre-published DS */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	parent_ds(-1, 9);
	classify();
	is_str(probe_state_name(R.state), "stale_ds", "an extra DS: stale_ds");
	is_str(probe_severity_name(R.severity), "warning", "stale_ds: warning");
	ok(R.ds[1].stale && !R.ds[0].stale, "the extra DS is the stale one");
	R.ds[1].prepublished = true;
	classify();
	is_str(probe_state_name(R.state), "stable",
	    "a DS for a never-seen key is pre-published: stable");

	/* broken */
	base();
	k2 = key_add(257, 13, 3, 3, 3);
	parent_ds(-1, 1);
	R.validation = PROBE_VAL_BOGUS;
	R.resolvers[0].rcode = 2;
	R.resolvers[0].ad = false;
	classify();
	is_str(probe_state_name(R.state), "broken", "no DS matches: broken");
	is_str(probe_severity_name(R.severity), "critical", "broken: critical");
	ok(R.keys[k2].needs_ds, "broken: the signing KSK needs the DS");
	ok(has("chain_broken") && has("validation_bogus"),
	    "broken: chain_broken and validation_bogus");
	ok(strstr(R.problems[0].message, "192.0.2.53") != NULL,
	    "broken: the message names the resolver that already fails");

	/* insecure */
	base();
	classify();
	is_str(probe_state_name(R.state), "insecure", "no DS: insecure");
	is_str(probe_severity_name(R.severity), "ok", "insecure: ok by default");
	P.insecure_is_problem = true;
	probe_classify(&R, &P, NOW);
	is_str(probe_severity_name(R.severity), "warning",
	    "insecure with insecure_is_problem: warning");

	/* signed but no DS: the DS to add is offered, as information */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	R.validation = PROBE_VAL_INSECURE;
	classify();
	ok(has("ds_missing") && R.keys[k1].needs_ds,
	    "signed without DS: ds_missing offers the DS");

	/* resolvers */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.resolvers[0].rcode = 2;
	R.resolvers[0].ad = false;
	R.resolvers[0].ede = 9;
	classify();
	ok(has("resolver_servfail"), "resolver SERVFAIL on a secure zone");
	is_str(probe_severity_name(R.severity), "warning",
	    "resolver SERVFAIL: warning only");
	R.resolvers[0].status = PROBE_Q_TIMEOUT;
	R.resolvers[0].rcode = -1;
	classify();
	ok(has("resolver_unreachable"), "silent resolver reported");
	is_str(probe_severity_name(R.severity), "warning",
	    "silent resolver: warning, never critical");
	R.resolvers[0].status = PROBE_Q_OK;
	R.resolvers[0].rcode = 0;
	R.resolvers[0].ad = false;
	classify();
	ok(has("resolver_not_validating"), "NOERROR without AD: not validating");

	/* signatures */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.earliest_sig_expiry = NOW + 2 * 86400;
	classify();
	ok(has("signature_expiring"), "expiring in 2 days: signature_expiring");
	is_str(probe_severity_name(R.severity), "warning", "2 days left: warning");
	R.earliest_sig_expiry = NOW + 3600;
	classify();
	is_str(probe_severity_name(R.severity), "critical", "1 hour left: critical");
	R.earliest_sig_expiry = NOW - 60;
	R.servers[0].sig_expired = true;
	classify();
	ok(has("signature_expired"), "expired RRSIGs reported");
	is_str(probe_severity_name(R.severity), "critical", "expired: critical");

	/* servers */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.servers[1].status = PROBE_Q_TIMEOUT;
	R.servers[1].has_soa = false;
	classify();
	ok(has("server_unreachable"), "one silent server: server_unreachable");
	is_str(probe_severity_name(R.severity), "warning", "one silent server: warning");
	R.servers[0].status = PROBE_Q_TIMEOUT;
	R.servers[0].has_soa = false;
	classify();
	ok(has("no_server_answers"), "every server silent: no_server_answers");
	is_str(probe_severity_name(R.severity), "critical", "no server: critical");

	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 2, 0);		/* only at server 1 */
	parent_ds(k1, 0);
	R.servers[1].soa_serial = 8;
	classify();
	ok(has("servers_disagree"), "different DNSKEY sets: servers_disagree");
	ok(strstr(R.problems[0].message, "ns1.host.test is behind") != NULL,
	    "servers_disagree names the server that is behind");
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.servers[0].soa_serial = 6;
	classify();
	ok(has("serial_mismatch"), "same keys, older serial: serial_mismatch");

	/* parent */
	base();
	R.parent_status = PROBE_Q_TIMEOUT;
	classify();
	is_str(probe_state_name(R.state), "unknown", "parent silent: unknown");
	ok(has("parent_unreachable"), "parent silent: parent_unreachable");
	base();
	R.delegated = false;
	classify();
	ok(has("not_delegated"), "no delegation: not_delegated");
	is_str(probe_severity_name(R.severity), "critical", "no delegation: critical");
	/* Lame servers: one REFUSED is a server problem; all lame is no
	 * verdict on the zone, and nobody claims the servers are silent. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.servers[1].has_soa = false;
	R.servers[1].n_dnskey = 0;
	R.keys[k1].servers = 1;
	R.keys[k1].signs_dnskey = 1;
	strcpy(R.servers[1].error, "REFUSED to SOA without the AA bit");
	classify();
	ok(has("lame_delegation"), "one server REFUSED: lame_delegation");
	is_str(probe_state_name(R.state), "stable",
	    "one server REFUSED: the other still judges the zone");
	is_str(probe_severity_name(R.severity), "warning",
	    "one server REFUSED: warning");
	base();
	for (unsigned i = 0; i < 2; i++) {
		R.servers[i].has_soa = false;
		R.servers[i].n_dnskey = 0;
		strcpy(R.servers[i].error, "NXDOMAIN to SOA without the AA bit");
	}
	classify();
	ok(has("lame_delegation") && !has("no_server_answers"),
	    "every server lame: lame_delegation, not no_server_answers");
	is_str(probe_state_name(R.state), "unknown", "every server lame: unknown");
	is_str(probe_severity_name(R.severity), "unknown",
	    "every server lame: severity unknown, never critical");
	R.servers[0].status = PROBE_Q_TIMEOUT;
	classify();
	ok(has("no_server_answers"), "one silent, one lame: no_server_answers");

	/* Lame parent: answered, but never with authority. */
	base();
	R.parent_status = PROBE_Q_MALFORMED;
	R.parent_lame = true;
	R.delegated = false;
	classify();
	ok(has("parent_lame") && !has("not_delegated") &&
	    !has("parent_unreachable"), "lame parent: parent_lame only");
	is_str(probe_severity_name(R.severity), "unknown",
	    "lame parent: unknown, never critical");
	/* Intercepted: nothing but the interception, and it clears nothing
	 * a check of the domain would. */
	base();
	R.intercepted = true;
	R.parent_status = PROBE_Q_NONE;
	R.validation = PROBE_VAL_INDETERMINATE;
	snprintf(R.error, sizeof(R.error), "root server 192.0.2.1 answered "
	    "NXDOMAIN");
	classify();
	is_int(R.n_problems, 1, "intercepted: one problem");
	ok(has("dns_intercepted"), "intercepted: dns_intercepted");
	ok(strstr(R.problems[0].message, "The network intercepts DNS: root "
	    "server 192.0.2.1") != NULL, "intercepted: the message says why");
	is_str(probe_state_name(R.state), "unknown", "intercepted: unknown");
	is_str(probe_severity_name(R.severity), "unknown",
	    "intercepted: severity unknown");
	ok(!probe_problem_resolvable("not_delegated", &R) &&
	    !probe_problem_resolvable("chain_broken", &R) &&
	    !probe_problem_resolvable("validation_indeterminate", &R),
	    "intercepted: no problem of the domain is resolved by it");
	ok(probe_problem_resolvable("dns_intercepted", &R),
	    "intercepted: only its own");
	R.intercepted = false;
	ok(probe_problem_resolvable("dns_intercepted", &R),
	    "a check that got through resolves dns_intercepted");

	/* CDS */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 0);		/* published, not signing */
	parent_ds(k1, 0);
	child_cds(k1);
	child_cds(k2);
	classify();
	ok(has("rotation_pending"), "CDS asks for a published key: pending");
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	ds_of(&R.cds[R.n_cds++], -1, 5);
	classify();
	ok(has("cds_unknown_key"), "CDS for an unpublished key: cds_unknown_key");
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.cds_delete = true;
	classify();
	ok(has("cds_delete"), "CDS delete request reported");

	/* algorithm mismatch */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	ds_of(&R.ds[R.n_ds], -1, 4);
	R.ds[R.n_ds++].algorithm = 8;
	classify();
	ok(has("ds_algorithm_mismatch"), "DS algorithm with no DNSKEY");
	is_str(probe_state_name(R.state), "broken", "algorithm mismatch alone: broken");

	/* ZSK rotation */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	z = key_add(256, 13, 2, 3, 0);
	key_add(256, 13, 6, 3, 0);
	R.keys[z + 1].signs_soa = 0;
	parent_ds(k1, 0);
	classify();
	ok(has("zsk_rotation"), "a second ZSK not yet signing: zsk_rotation");
	is_str(probe_severity_name(R.severity), "ok", "ZSK rotation: ok (a note)");

	/* IPv6: ns1 fails over IPv6 only, ns2 answers over both */
	base();
	k1 = key_add(257, 13, 1, 15, 15);
	parent_ds(k1, 0);
	R.n_servers = 4;
	R.servers[2] = R.servers[0];
	R.servers[3] = R.servers[1];
	strcpy(R.servers[2].address, "2001:db8::1");
	strcpy(R.servers[3].address, "2001:db8::2");
	R.servers[2].status = PROBE_Q_TIMEOUT;
	R.servers[2].has_soa = false;
	strcpy(R.servers[2].error, "no answer after 3 UDP attempts");
	classify();
	ok(has("server_family_unreachable"), "ns1 silent over IPv6 only: "
	    "server_family_unreachable");
	ok(!has("server_unreachable"), "... and not server_unreachable");
	ok(R.n_problems > 0 && strstr(R.problems[0].message, "over IPv6 "
	    "(2001:db8::1: timeout") != NULL && strstr(R.problems[0].message,
	    "over IPv4 (192.0.2.1)") != NULL, "... naming the family and "
	    "the addresses");
	is_str(probe_severity_name(R.severity), "warning", "one family down: "
	    "warning");
	R.servers[0].status = PROBE_Q_NETERR;	/* ns1 down over both */
	R.servers[0].has_soa = false;
	classify();
	ok(!has("server_family_unreachable") && has("server_unreachable"),
	    "ns1 silent over both families: server_unreachable");
	R.servers[0].status = PROBE_Q_OK;	/* ns1 down over IPv4 only */
	R.servers[0].has_soa = true;
	R.servers[2].status = PROBE_Q_OK;
	R.servers[2].has_soa = true;
	R.servers[1].status = PROBE_Q_NETERR;
	R.servers[1].has_soa = false;
	classify();
	ok(has("server_family_unreachable") && R.n_problems > 0 &&
	    strstr(R.problems[0].message, "ns2.host.test does not answer over "
	    "IPv4") != NULL, "ns2 silent over IPv4 only: the family named");
	/* No IPv6 server has ever answered this host: its IPv6 is suspect. */
	R.servers[1].status = PROBE_Q_OK;
	R.servers[1].has_soa = true;
	R.servers[2].status = R.servers[3].status = PROBE_Q_TIMEOUT;
	R.servers[2].has_soa = R.servers[3].has_soa = false;
	R.ipv6_unproven = true;
	classify();
	ok(!has("server_family_unreachable") && !has("server_unreachable"),
	    "every IPv6 address silent, no IPv6 answer ever: not reported");
	is_str(probe_severity_name(R.severity), "ok", "... ok");
	R.ipv6_unproven = false;
	classify();
	ok(has("server_family_unreachable"), "the same once IPv6 answered "
	    "elsewhere: server_family_unreachable");

	/* TCP */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.servers[0].tcp_status = PROBE_Q_OK;
	R.servers[1].tcp_status = PROBE_Q_NETERR;
	strcpy(R.servers[1].tcp_error, "TCP connect: Connection refused");
	classify();
	ok(has("server_tcp_failed"), "UDP answers, TCP refused: "
	    "server_tcp_failed");
	is_str(probe_severity_name(R.severity), "warning", "TCP refused: "
	    "warning");
	ok(!has("server_unreachable"), "... the server is not unreachable");
	ok(probe_problem_resolvable("server_tcp_failed", &R), "a check that "
	    "asked over TCP can resolve server_tcp_failed");
	R.servers[0].tcp_status = PROBE_Q_NONE;
	R.servers[1].tcp_status = PROBE_Q_NONE;
	classify();
	ok(!has("server_tcp_failed") &&
	    !probe_problem_resolvable("server_tcp_failed", &R), "a check "
	    "without TCP neither reports nor resolves server_tcp_failed");
	/* The DNSKEY answer came truncated and TCP fails: no keys there. */
	R.servers[1].status = PROBE_Q_NETERR;
	R.servers[1].dnskey_tc = true;
	R.servers[1].dnskey_udp_bytes = 40;
	R.servers[1].tcp_status = PROBE_Q_NETERR;
	strcpy(R.servers[1].tcp_error, "TCP connect: Connection refused");
	classify();
	ok(has("server_tcp_failed") && !has("server_unreachable"),
	    "truncated DNSKEY, TCP refused: server_tcp_failed, not "
	    "server_unreachable");

	/* the DNSKEY answer's size */
	base();
	k1 = key_add(257, 8, 1, 3, 3);
	parent_ds(k1, 0);
	R.servers[0].dnskey_tc = R.servers[1].dnskey_tc = true;
	R.servers[0].dnskey_tcp_bytes = R.servers[1].dnskey_tcp_bytes = 1376;
	classify();
	ok(!has("dnskey_answer_large"), "1376 B truncated outside a "
	    "rotation: no problem");
	k2 = key_add(257, 8, 3, 3, 3);		/* a new KSK signs too */
	classify();
	is_str(probe_state_name(R.state), "rotation_pending", "(rotation "
	    "pending)");
	ok(has("dnskey_answer_large"), "1376 B during a pending rotation: "
	    "dnskey_answer_large");
	is_str(probe_severity_name(R.severity), "warning", "(the rotation's "
	    "warning)");
	ok(R.n_problems > 1 && R.problems[1].severity == PROBE_SEV_OK,
	    "... a note while every server answers over TCP");
	R.servers[1].tcp_status = PROBE_Q_TIMEOUT;
	classify();
	ok(R.n_problems > 1 && has("server_tcp_failed") &&
	    R.problems[R.n_problems - 1].id == PROBE_P_DNSKEY_ANSWER_LARGE &&
	    R.problems[R.n_problems - 1].severity == PROBE_SEV_WARNING,
	    "... a warning when a server fails over TCP");
	R.servers[1].tcp_status = PROBE_Q_NONE;
	R.servers[0].dnskey_tcp_bytes = R.servers[1].dnskey_tcp_bytes = 1100;
	classify();
	ok(!has("dnskey_answer_large"), "1100 B during a rotation: no "
	    "problem");
	R.n_keys = 1;
	R.servers[0].dnskey_tc = R.servers[1].dnskey_tc = false;
	R.servers[1].dnskey_udp_bytes = 1400;	/* ignores our 1232 */
	classify();
	ok(has("dnskey_answer_large"), "a 1400-byte UDP answer (fragments): "
	    "dnskey_answer_large, rotation or not");
	(void)k2;

	/* truncation */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.keys_dropped = 3;
	classify();
	ok(has("observation_truncated"), "dropped records are reported");

	return tap_done();
}
