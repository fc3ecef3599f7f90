/*
 * The classifier on synthetic observations: one rule per case, including
 * the ones a single testbed check cannot reach (history tie-breaks,
 * unreachable parents, truncated observations).
 */
#include <stdlib.h>
#include <string.h>

#include "common/dsmatch.h"
#include "probe/probe.h"
#include "probe_fixture.h"
#include "tap.h"

/* A fake key published on servers, signing the DNSKEY RRset on
 * signs_dnskey, and the SOA where it is a ZSK that does not. */
static int
key_add(uint16_t flags, uint8_t alg, int seed, uint32_t servers,
    uint32_t signs_dnskey)
{
	int k = fixture_key(flags, alg, seed);

	R.keys[k].servers = servers;
	R.keys[k].signs_dnskey = signs_dnskey;
	R.keys[k].signs_soa = (flags & 1) ? 0 : signs_dnskey ? 0 : servers;
	return k;
}

/* The DS of key k (or of a key that is not published, when k < 0). */
static void
ds_of(struct probe_ds *d, int k, int unpublished_seed)
{
	struct probe_key tmp;
	unsigned save = R.n_keys;

	if (k >= 0) {
		fixture_ds(d, &R.keys[k], 2);
		return;
	}
	key_add(257, 13, unpublished_seed, 0, 0);
	tmp = R.keys[save];
	R.n_keys = save;
	fixture_ds(d, &tmp, 2);
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

/* The fixture's zone, each server with two DNSKEYs, one resolver that
 * validates. */
static void
base(void)
{
	fixture_base();
	R.servers[0].n_dnskey = R.servers[1].n_dnskey = 2;
	R.n_resolvers = 1;
	strcpy(R.resolvers[0].address, "192.0.2.53");
	R.resolvers[0].status = PROBE_Q_OK;
	R.resolvers[0].rcode = 0;
	R.resolvers[0].ad = true;
	R.resolvers[0].ede = -1;
}
static void
classify(void)
{
	probe_classify(&R, &P, NOW);
}

/* Parent server i answered with the DS of the keys in ks (-1 ends; -2-n:
 * an unpublished key of seed n), its DS merged into R.parent_ds. */
static void
parent_server(const char *addr, uint32_t ttl, const int *ks)
{
	struct probe_parent *p = &R.parents[R.n_parents++];
	struct probe_ds d;
	unsigned u;

	memset(p, 0, sizeof(*p));
	strcpy(p->address, addr);
	p->status = PROBE_Q_OK;
	p->rcode = 0;
	p->ds_ttl = ttl;
	p->rrsig = true;
	for (; *ks != -1; ks++) {
		ds_of(&d, *ks >= 0 ? *ks : -1, *ks >= 0 ? 0 : -2 - *ks);
		for (u = 0; u < R.n_parent_ds; u++)
			if (memcmp(&R.parent_ds[u], &d, sizeof(d)) == 0)
				break;
		if (u == R.n_parent_ds)
			R.parent_ds[R.n_parent_ds++] = d;
		p->ds_set |= 1u << u;
		p->n_ds++;
	}
	R.every_parent = true;
}

/* Every parent server: a rotation whose new DS (k2, named by CDS) is at
 * 192.0.2.101 but not yet at 192.0.2.102. first: which one answered the
 * NS question (and so filled R.ds). */
static void
lagging_rotation(int first, int *k1, int *k2)
{
	base();
	*k1 = key_add(257, 13, 1, 3, 3);
	*k2 = key_add(257, 13, 3, 3, 3);
	key_add(256, 13, 2, 3, 0);
	child_cds(*k2);
	parent_ds(first == 0 ? *k2 : *k1, 0);
	parent_server("192.0.2.101", 3600, (int[]){ *k2, -1 });
	parent_server("192.0.2.102", 3600, (int[]){ *k1, -1 });
}

static void
test_parents(void)
{
	int k1, k2, first;
	const char *m;

	/* They agree: nothing to say. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	parent_server("192.0.2.101", 3600, (int[]){ k1, -1 });
	parent_server("192.0.2.102", 3600, (int[]){ k1, -1 });
	classify();
	ok(R.parents_agree && !fixture_has("parent_ds_disagree") &&
	    R.keys[k1].has_ds, "parents: the same DS everywhere: agree");

	for (first = 0; first < 2; first++) {
		lagging_rotation(first, &k1, &k2);
		classify();
		is_str(probe_state_name(R.state), "rotation_pending",
		    "parents: new DS on one server only (%s answered first): "
		    "still rotation_pending", first ? "the lagging one" :
		    "the updated one");
		ok(fixture_has("parent_ds_disagree") && !R.parents_agree,
		    "parents: parent_ds_disagree");
		ok(!R.parents[0].lags && R.parents[1].lags,
		    "parents: the server without the new DS lags");
		m = fixture_message("parent_ds_disagree");
		ok(strstr(m, "192.0.2.102 (of 2 answering)") != NULL &&
		    strstr(m, "the new one is at 192.0.2.101") != NULL,
		    "parents: the message names the lagging server and the "
		    "updated one: %s", m);
		ok(R.keys[k2].needs_ds && R.keys[k2].ds_partial &&
		    !R.keys[k2].has_ds, "parents: the new key's DS is only "
		    "partly there: it still needs it");
		ok(strstr(fixture_message("rotation_pending"), "some servers") !=
		    NULL, "parents: rotation_pending says the DS is on its "
		    "way, not 'add at the registrar'");
		is_int(R.safe_removal_at, 0, "parents: no safe-removal time");
	}

	/* Tracked: the countdown goes on, and says the DS is on its way. */
	lagging_rotation(0, &k1, &k2);
	R.history.tracked = true;
	classify();
	ok(R.deadline.set && strstr(fixture_message("rotation_deadline"),
	    "has not reached every server of test") != NULL,
	    "parents: the registrar countdown goes on, saying why: %s",
	    fixture_message("rotation_deadline"));

	/* The lagging server stops answering: the answering ones agree. */
	lagging_rotation(0, &k1, &k2);
	R.parents[1].status = PROBE_Q_TIMEOUT;
	R.parents[1].rcode = -1;
	R.parents[0].ds_ttl = 7200;
	classify();
	is_str(probe_state_name(R.state), "ds_updated",
	    "parents: a server that does not answer is not counted");
	is_int(R.ds_everywhere_at, NOW, "parents: one-shot: DS everywhere "
	    "by now");
	is_int(R.safe_removal_at, NOW + 7200, "parents: safe removal = that "
	    "+ the largest DS TTL a parent server gave");
	ok(strstr(fixture_message("old_key_published"), "only 1 of 2 servers "
	    "answered") != NULL, "parents: and it says one did not answer");

	/* History: the record says when the last server got it. */
	lagging_rotation(0, &k1, &k2);
	R.parents[1].ds_set = R.parents[0].ds_set;
	R.history.tracked = true;
	R.history.rotation_open = true;
	R.history.rot_ds_updated_at = NOW - 5 * 3600;
	classify();
	is_str(probe_state_name(R.state), "ds_updated",
	    "parents: both have it: ds_updated");
	is_int(R.safe_removal_at, NOW - 5 * 3600 + 3600,
	    "parents: safe removal = the recorded arrival + DS TTL");
	ok(strstr(fixture_message("old_key_published"), "withdraw it from") !=
	    NULL, "parents: old_key_published says from when");

	/* A removal that has not reached every server. */
	base();
	k2 = key_add(257, 13, 3, 3, 3);
	parent_ds(k2, 0);
	parent_server("192.0.2.101", 3600, (int[]){ k2, -1 });
	parent_server("192.0.2.102", 3600, (int[]){ k2, -2 - 9, -1 });
	classify();
	ok(fixture_has("parent_ds_disagree") && R.parents[1].lags &&
	    !R.parents[0].lags && strstr(fixture_message("parent_ds_disagree"),
	    "still with the DS for key") != NULL,
	    "parents: the server that still serves a removed DS lags");
	is_str(probe_state_name(R.state), "stable",
	    "parents: removal lag: the chain and keys are fine: stable");

	/* The same, with the lagging server the one that answered first:
	 * the verdict is judged by the up-to-date set, not a stale DS. */
	base();
	k2 = key_add(257, 13, 3, 3, 3);
	child_cds(k2);
	parent_ds(k2, 0);
	parent_ds(-1, 9);
	strcpy(R.parent_server, "192.0.2.102");
	parent_server("192.0.2.101", 3600, (int[]){ k2, -1 });
	parent_server("192.0.2.102", 3600, (int[]){ k2, -2 - 9, -1 });
	classify();
	ok(fixture_has("parent_ds_disagree") && R.parents[1].lags &&
	    !fixture_has("stale_ds") && !fixture_has("cds_mismatch"),
	    "parents: removal lag seen first at the lagging server: "
	    "parent_ds_disagree, not stale_ds or cds_mismatch");
	is_str(probe_state_name(R.state), "stable",
	    "parents: and the state is stable");
	ok(R.n_ds == 1 && strcmp(R.parent_server, "192.0.2.101") == 0,
	    "parents: ds[] is the up-to-date server's set");

	/* The old key went while one server still serves only its DS:
	 * resolvers that ask that server fail now. */
	base();
	k2 = key_add(257, 13, 3, 3, 3);
	child_cds(k2);
	parent_ds(k2, 0);
	parent_server("192.0.2.101", 3600, (int[]){ k2, -1 });
	parent_server("192.0.2.102", 3600, (int[]){ -2 - 9, -1 });
	classify();
	{
		unsigned i;
		enum probe_severity sev = PROBE_SEV_OK;

		for (i = 0; i < R.n_problems; i++)
			if (strcmp(R.problems[i].code, "parent_ds_broken") == 0)
				sev = R.problems[i].severity;
		is_str(probe_severity_name(sev), "critical",
		    "parents: a server with no DS for any signing key: "
		    "parent_ds_broken, critical");
		ok(strstr(fixture_message("parent_ds_broken"), "192.0.2.102 (of "
		    "2 answering") != NULL && strstr(fixture_message(
		    "parent_ds_broken"), "SERVFAIL") != NULL,
		    "parents: it names the server and says resolvers fail");
	}

	/* A DS history calls pre-published (double-DS rollover) that has
	 * reached one server: the one without it lags. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	parent_server("192.0.2.101", 3600, (int[]){ k1, -2 - 9, -1 });
	parent_server("192.0.2.102", 3600, (int[]){ k1, -1 });
	R.parent_ds[1].prepublished = true;
	classify();
	ok(fixture_has("parent_ds_disagree") && R.parents[1].lags &&
	    !R.parents[0].lags, "parents: a pre-published DS on one server: "
	    "the other lags");

	/* NXDOMAIN from one server: it has no DS at all. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	child_cds(k1);
	parent_ds(k1, 0);
	parent_server("192.0.2.101", 3600, (int[]){ k1, -1 });
	parent_server("192.0.2.102", 0, (int[]){ -1 });
	R.parents[1].rcode = 3;
	classify();
	ok(fixture_has("parent_ds_disagree") && R.parents[1].lags,
	    "parents: a server that says NXDOMAIN lags");

	/* One server sends the DS without its RRSIG. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	parent_server("192.0.2.101", 3600, (int[]){ k1, -1 });
	parent_server("192.0.2.102", 3600, (int[]){ k1, -1 });
	R.parents[1].rrsig = false;
	classify();
	ok(fixture_has("parent_ds_unsigned") && strstr(fixture_message(
	    "parent_ds_unsigned"), "192.0.2.102 serves") != NULL,
	    "parents: a server without the RRSIG others send: "
	    "parent_ds_unsigned names it");
	R.parents[0].rrsig = false;
	classify();
	ok(!fixture_has("parent_ds_unsigned"), "parents: none signs (an unsigned "
	    "parent): no parent_ds_unsigned");

	/* Only a check that asked them all can say they agree now. */
	R.every_parent = false;
	ok(!probe_problem_resolvable("parent_ds_disagree", &R),
	    "parents: one server asked cannot resolve parent_ds_disagree");
	R.every_parent = true;
	ok(probe_problem_resolvable("parent_ds_disagree", &R),
	    "parents: every server asked can");

	/* Order does not change the DS set's fingerprint; content does. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 3);
	parent_ds(k1, 0);
	parent_ds(k2, 0);
	{
		uint64_t a = probe_ds_fingerprint(R.ds, R.n_ds), b;
		struct probe_ds x = R.ds[0];

		R.ds[0] = R.ds[1];
		R.ds[1] = x;
		b = probe_ds_fingerprint(R.ds, R.n_ds);
		ok(a == b, "fingerprint: the order of the DS does not matter");
		R.ds[1].digest[3] ^= 1;
		ok(probe_ds_fingerprint(R.ds, R.n_ds) != a,
		    "fingerprint: one digest byte changes it");
		ok(probe_ds_fingerprint(R.ds, 1) != a,
		    "fingerprint: one DS fewer changes it");
	}
}

/* An RSA key (RFC 3110: exponent 65537, a modulus of exactly `bits`). */
static int
rsa_key_add(uint16_t flags, uint8_t alg, int bits, int seed,
    uint32_t signs_dnskey)
{
	struct probe_key *k = &R.keys[R.n_keys];
	size_t i, mlen = (size_t)(bits + 7) / 8;

	memset(k, 0, sizeof(*k));
	k->rdata[0] = flags >> 8;
	k->rdata[1] = flags & 0xff;
	k->rdata[2] = 3;
	k->rdata[3] = alg;
	k->rdata[4] = 3;
	k->rdata[5] = 1;
	k->rdata[6] = 0;
	k->rdata[7] = 1;
	for (i = 0; i < mlen; i++)
		k->rdata[8 + i] = (uint8_t)(seed * 13 + i * 7 + 1);
	/* The top bit of the modulus sets its size. */
	k->rdata[8] = (uint8_t)(0x80 >> ((8 - bits % 8) % 8));
	k->rdata_len = (uint16_t)(8 + mlen);
	k->flags = flags;
	k->protocol = 3;
	k->algorithm = alg;
	k->key_tag = dsmatch_keytag(k->rdata, k->rdata_len);
	k->servers = 3;
	k->signs_dnskey = signs_dnskey;
	k->signs_soa = (flags & 1) ? 0 : 3;
	return (int)R.n_keys++;
}

/* A parent DS of key k with another digest type. */
static void
parent_ds_type(int k, uint8_t type)
{
	fixture_ds(&R.ds[R.n_ds++], &R.keys[k], type);
}
/* No DS to publish is SHA-1 or for a deprecated algorithm. */
static bool
publish_clean(void)
{
	unsigned i;

	for (i = 0; i < R.n_publish; i++)
		if (R.publish[i].digest_type == 1 ||
		    dsmatch_algorithm_deprecated(R.publish[i].algorithm))
			return false;
	return true;
}

static void
test_deprecated(void)
{
	const struct probe_problem *p;
	int k1, k2;

	/* The only DS is SHA-1: warning, and the SHA-256 DS to add. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	key_add(256, 13, 2, 3, 0);
	parent_ds_type(k1, 1);
	classify();
	is_str(probe_state_name(R.state), "stable", "SHA-1 DS only: stable");
	ok((p = fixture_problem("ds_digest_deprecated")) != NULL &&
	    p->severity == PROBE_SEV_WARNING, "SHA-1 DS only: a warning");
	ok(p != NULL && strstr(p->message, "IN DS") != NULL &&
	    strstr(p->message, " 13 2 ") != NULL,
	    "SHA-1 DS only: the message carries the SHA-256 DS");
	is_int(R.n_publish, 1, "SHA-1 DS only: one DS to publish");
	ok(R.n_publish == 1 && R.publish[0].digest_type == 2 &&
	    R.publish[0].key == k1, "SHA-1 DS only: its SHA-256 DS to publish");
	ok(!R.ds[0].stale, "SHA-1 DS only: not to remove yet");
	ok(!R.keys[k1].needs_ds, "SHA-1 DS only: no rotation opened");

	/* SHA-1 beside SHA-256: a note, and the SHA-1 DS to remove. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	key_add(256, 13, 2, 3, 0);
	parent_ds_type(k1, 1);
	parent_ds(k1, 0);
	classify();
	ok((p = fixture_problem("ds_digest_deprecated")) != NULL &&
	    p->severity == PROBE_SEV_OK, "SHA-1 beside SHA-256: a note");
	is_str(probe_severity_name(R.severity), "ok", "SHA-1 beside SHA-256: ok");
	ok(R.ds[0].stale && !R.ds[1].stale,
	    "SHA-1 beside SHA-256: the SHA-1 DS is the one to remove");
	is_int(R.n_publish, 0, "SHA-1 beside SHA-256: nothing to publish");

	/* RSASHA1: deprecated algorithm, and never a DS for it. */
	base();
	k1 = rsa_key_add(257, 5, 2048, 1, 3);
	rsa_key_add(256, 5, 2048, 2, 0);
	parent_ds(k1, 0);
	classify();
	ok((p = fixture_problem("key_algorithm_deprecated")) != NULL &&
	    p->severity == PROBE_SEV_WARNING, "RSASHA1 keys: a warning");
	ok(p != NULL && strstr(p->message, "RSASHA1") != NULL &&
	    strstr(p->message, "algorithm 13") != NULL,
	    "RSASHA1: names the algorithm and where to go");
	ok(!fixture_has("rsa_key_short"), "RSASHA1 2048-bit keys: not short");
	base();
	k1 = rsa_key_add(257, 7, 2048, 1, 3);
	R.validation = PROBE_VAL_INSECURE;
	classify();
	is_str(probe_state_name(R.state), "insecure", "unsigned NSEC3RSASHA1");
	is_int(R.n_publish, 0, "a deprecated algorithm: no DS to publish");
	ok((p = fixture_problem("ds_missing")) != NULL &&
	    strstr(p->message, "no DS offered") != NULL,
	    "ds_missing says why no DS is offered");

	/* Short RSA keys: a KSK warns, a ZSK is a note. */
	base();
	k1 = rsa_key_add(257, 8, 1024, 1, 3);
	rsa_key_add(256, 8, 2048, 2, 0);
	parent_ds(k1, 0);
	classify();
	ok((p = fixture_problem("rsa_key_short")) != NULL &&
	    p->severity == PROBE_SEV_WARNING &&
	    strstr(p->message, "1024 bits") != NULL, "RSA-1024 KSK: a warning");
	ok(!fixture_has("key_algorithm_deprecated"), "RSASHA256: not deprecated");
	base();
	k1 = rsa_key_add(257, 8, 2048, 1, 3);
	rsa_key_add(256, 8, 1280, 2, 0);
	parent_ds(k1, 0);
	classify();
	ok((p = fixture_problem("rsa_key_short")) != NULL &&
	    p->severity == PROBE_SEV_OK, "RSA-1280 ZSK: a note");
	is_str(probe_severity_name(R.severity), "ok", "RSA-1280 ZSK: ok");

	/* ECDSAP384SHA384 waiting for its DS: SHA-256 and SHA-384. */
	base();
	k1 = key_add(257, 14, 1, 3, 3);
	k2 = key_add(257, 14, 3, 3, 3);
	parent_ds(k1, 0);
	classify();
	is_int(R.n_publish, 2, "algorithm 14: two DS to publish");
	ok(R.n_publish == 2 && R.publish[0].digest_type == 2 &&
	    R.publish[1].digest_type == 4 && R.publish[1].digest_len == 48 &&
	    R.publish[0].key == k2 && R.publish[1].key == k2,
	    "algorithm 14: SHA-256 and SHA-384 of the new key");
	ok(publish_clean(), "algorithm 14: nothing SHA-1 to publish");

	/* TTLs that eat the window: 2 days + 3 days > 7 days - 72 hours. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 3);
	parent_ds(k1, 0);
	R.ds_ttl = 3 * 86400;
	R.dnskey_ttl = 2 * 86400;
	classify();
	ok((p = fixture_problem("ttl_exceeds_window")) != NULL &&
	    p->severity == PROBE_SEV_WARNING, "TTLs over the window: a warning");
	ok(p != NULL && strstr(p->message, "leave 2d 0h of the 7d 0h") != NULL,
	    "the message names the time left");
	R.ds_ttl = 86400;
	R.dnskey_ttl = 3600;
	classify();
	ok(!fixture_has("ttl_exceeds_window"), "a day of DS TTL: no TTL problem");
	R.ds_ttl = 3 * 86400;
	R.dnskey_ttl = 2 * 86400;
	R.n_keys = 1;	/* no rotation: the same TTLs are no problem */
	classify();
	ok(!fixture_has("ttl_exceeds_window"), "no pending rotation: no TTL problem");
	(void)k2;
}

/* Two NS names with the given signal states; `good` carries the CDS. */
static void
signals(enum probe_signal_status a, enum probe_signal_status b, bool good)
{
	enum probe_signal_status st[2] = { a, b };
	unsigned i;

	R.n_signals = 2;
	for (i = 0; i < 2; i++) {
		memset(&R.signals[i], 0, sizeof(R.signals[i]));
		strcpy(R.signals[i].ns, i ? "ns2.host.test" : "ns1.host.test");
		R.signals[i].status = st[i];
		if (st[i] == PROBE_SIG_SECURE) {
			R.signals[i].cds[0] = R.cds[0];
			if (!good)
				R.signals[i].cds[0].digest[0] ^= 1;
			R.signals[i].n_cds = 1;
		}
	}
}


/* A secure zone whose in-process validation the engine's guard ended. */
static void
validation_cut_short(void)
{
	int	 k1;

	base();
	k1 = key_add(257, 13, 1, 3, 3);
	key_add(256, 13, 2, 3, 0);
	parent_ds(k1, 0);
	R.validation = PROBE_VAL_INDETERMINATE;
	R.validation_timed_out = true;
}
static void
test_bootstrap(void)
{
	const struct probe_problem *p;
	int k1;

	/* Signed, no DS, CDS and both signals: ready. */
	base();
	R.validation = PROBE_VAL_INSECURE;
	k1 = key_add(257, 13, 1, 3, 3);
	key_add(256, 13, 2, 3, 0);
	child_cds(k1);
	signals(PROBE_SIG_SECURE, PROBE_SIG_SECURE, true);
	classify();
	ok(fixture_has("ds_missing") && fixture_has("ds_bootstrap_ready") &&
	    !fixture_has("ds_bootstrap_incomplete"), "CDS and both signals: ready");
	is_str(probe_severity_name(R.severity), "ok", "bootstrap ready: ok");

	/* One signal missing, one carrying another CDS. */
	signals(PROBE_SIG_NODATA, PROBE_SIG_SECURE, false);
	classify();
	ok((p = fixture_problem("ds_bootstrap_incomplete")) != NULL &&
	    strstr(p->message, "no CDS at _dsboot.example.test._signal."
	    "ns1.host.test") != NULL && strstr(p->message, "differs") != NULL,
	    "a missing and a different signal: both named");
	ok(!fixture_has("ds_bootstrap_ready"), "incomplete: not ready");

	/* A signal in an unsigned zone proves nothing; an in-domain NS. */
	signals(PROBE_SIG_INSECURE, PROBE_SIG_IN_DOMAIN, true);
	classify();
	ok((p = fixture_problem("ds_bootstrap_incomplete")) != NULL &&
	    strstr(p->message, "does not validate") != NULL &&
	    strstr(p->message, "inside") != NULL,
	    "insecure signal and in-domain NS: both named");

	/* No CDS at all. */
	R.n_cds = 0;
	signals(PROBE_SIG_NODATA, PROBE_SIG_NODATA, true);
	classify();
	ok((p = fixture_problem("ds_bootstrap_incomplete")) != NULL &&
	    strstr(p->message, "no CDS/CDNSKEY") != NULL, "no CDS: said");

	/* Unsigned zone: nothing to bootstrap. */
	base();
	R.validation = PROBE_VAL_INSECURE;
	signals(PROBE_SIG_NODATA, PROBE_SIG_NODATA, true);
	classify();
	ok(!fixture_has("ds_bootstrap_ready") && !fixture_has("ds_bootstrap_incomplete"),
	    "unsigned zone: no bootstrap verdict");

	/* A DS at the parent: not judged. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	child_cds(k1);
	signals(PROBE_SIG_NODATA, PROBE_SIG_NODATA, true);
	classify();
	ok(!fixture_has("ds_bootstrap_ready") && !fixture_has("ds_bootstrap_incomplete"),
	    "a DS at the parent: no bootstrap verdict");
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

	/* The monitor ran out of memory during the check (a query never
	 * sent): said as such, never as a fact about the servers alone. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	key_add(256, 13, 2, 3, 0);
	parent_ds(k1, 0);
	R.local_errors = 2;
	classify();
	ok(fixture_has("monitor_error"), "local failures: monitor_error");
	is_str(probe_severity_name(R.severity), "unknown",
	    "local failures: severity unknown");
	ok(fixture_has("monitor_error") && strstr(fixture_message(
	    "monitor_error"), "failed 2 times") != NULL,
	    "monitor_error says how many times");

	/* The engine's guard ended the validation: a timeout outcome, never
	 * a verdict. A warning naming the servers that did not answer us
	 * either; unknown when every server answered (the wait was elsewhere). */
	validation_cut_short();
	snprintf(R.why_bogus, sizeof(R.why_bogus), "no verdict within 7.0 s");
	R.servers[1].status = PROBE_Q_TIMEOUT;
	classify();
	ok(fixture_has("validation_timeout") &&
	    !fixture_has("validation_indeterminate") &&
	    !fixture_has("validation_bogus"),
	    "validation cut short: validation_timeout only");
	is_str(fixture_severity("validation_timeout"),
	    "warning", "validation cut short, a server silent: warning");
	ok(strstr(fixture_message("validation_timeout"), R.servers[1].address)
	    != NULL && strstr(fixture_message("validation_timeout"),
	    "no verdict within 7.0 s") != NULL,
	    "validation cut short: names the silent server and the guard");
	ok(!probe_problem_resolvable("validation_bogus", &R),
	    "validation cut short: resolves no validation problem");
	validation_cut_short();
	classify();
	is_str(probe_severity_name(R.severity), "unknown",
	    "validation cut short, every server answers: unknown");

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
	ok(fixture_has("rotation_ambiguous") && !fixture_has("rotation_pending"),
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
	ok(R.rotation_ambiguous && !R.deadline.set && !fixture_has("rotation_deadline"),
	    "first observation, keys seen together: ambiguous, no countdown");
	R.keys[k1].first_seen = NOW - 86400;
	classify();
	ok(!R.rotation_ambiguous && fixture_has("rotation_pending") &&
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
	ok(fixture_has("old_key_published"), "ds_updated: note that the old key remains");

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
	ok(fixture_has("chain_broken") && fixture_has("validation_bogus"),
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
	ok(fixture_has("ds_missing") && R.keys[k1].needs_ds,
	    "signed without DS: ds_missing offers the DS");

	/* resolvers */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.resolvers[0].rcode = 2;
	R.resolvers[0].ad = false;
	R.resolvers[0].ede = 9;
	classify();
	ok(fixture_has("resolver_servfail"), "resolver SERVFAIL on a secure zone");
	is_str(probe_severity_name(R.severity), "warning",
	    "resolver SERVFAIL: warning only");
	R.resolvers[0].status = PROBE_Q_TIMEOUT;
	R.resolvers[0].rcode = -1;
	classify();
	ok(fixture_has("resolver_unreachable"), "silent resolver reported");
	is_str(probe_severity_name(R.severity), "warning",
	    "silent resolver: warning, never critical");
	R.resolvers[0].status = PROBE_Q_OK;
	R.resolvers[0].rcode = 0;
	R.resolvers[0].ad = false;
	classify();
	ok(fixture_has("resolver_not_validating"), "NOERROR without AD: not validating");

	/* signatures */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.earliest_sig_expiry = NOW + 2 * 86400;
	classify();
	ok(fixture_has("signature_expiring"), "expiring in 2 days: signature_expiring");
	is_str(probe_severity_name(R.severity), "warning", "2 days left: warning");
	R.earliest_sig_expiry = NOW + 3600;
	classify();
	is_str(probe_severity_name(R.severity), "critical", "1 hour left: critical");
	R.earliest_sig_expiry = NOW - 60;
	R.servers[0].sig_expired = true;
	classify();
	ok(fixture_has("signature_expired"), "expired RRSIGs reported");
	is_str(probe_severity_name(R.severity), "critical", "expired: critical");

	/* servers */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.servers[1].status = PROBE_Q_TIMEOUT;
	R.servers[1].has_soa = false;
	classify();
	ok(fixture_has("server_unreachable"), "one silent server: server_unreachable");
	is_str(probe_severity_name(R.severity), "warning", "one silent server: warning");
	R.servers[0].status = PROBE_Q_TIMEOUT;
	R.servers[0].has_soa = false;
	classify();
	ok(fixture_has("no_server_answers"), "every server silent: no_server_answers");
	is_str(probe_severity_name(R.severity), "critical", "no server: critical");

	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 2, 0);		/* only at server 1 */
	parent_ds(k1, 0);
	R.servers[1].soa_serial = 8;
	classify();
	ok(fixture_has("servers_disagree"), "different DNSKEY sets: servers_disagree");
	ok(strstr(R.problems[0].message, "ns1.host.test is behind") != NULL,
	    "servers_disagree names the server that is behind");
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.servers[0].soa_serial = 6;
	classify();
	ok(fixture_has("serial_mismatch"), "same keys, older serial: serial_mismatch");

	/* parent */
	base();
	R.parent_status = PROBE_Q_TIMEOUT;
	classify();
	is_str(probe_state_name(R.state), "unknown", "parent silent: unknown");
	ok(fixture_has("parent_unreachable"), "parent silent: parent_unreachable");
	base();
	R.delegated = false;
	classify();
	ok(fixture_has("not_delegated"), "no delegation: not_delegated");
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
	ok(fixture_has("lame_delegation"), "one server REFUSED: lame_delegation");
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
	ok(fixture_has("lame_delegation") && !fixture_has("no_server_answers"),
	    "every server lame: lame_delegation, not no_server_answers");
	is_str(probe_state_name(R.state), "unknown", "every server lame: unknown");
	is_str(probe_severity_name(R.severity), "unknown",
	    "every server lame: severity unknown, never critical");
	R.servers[0].status = PROBE_Q_TIMEOUT;
	classify();
	ok(fixture_has("no_server_answers"), "one silent, one lame: no_server_answers");

	/* Lame parent: answered, but never with authority. */
	base();
	R.parent_status = PROBE_Q_MALFORMED;
	R.parent_lame = true;
	R.delegated = false;
	classify();
	ok(fixture_has("parent_lame") && !fixture_has("not_delegated") &&
	    !fixture_has("parent_unreachable"), "lame parent: parent_lame only");
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
	ok(fixture_has("dns_intercepted"), "intercepted: dns_intercepted");
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
	ok(fixture_has("rotation_pending"), "CDS asks for a published key: pending");
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	ds_of(&R.cds[R.n_cds++], -1, 5);
	classify();
	ok(fixture_has("cds_unknown_key"), "CDS for an unpublished key: cds_unknown_key");
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.cds_delete = true;
	classify();
	ok(fixture_has("cds_delete"), "CDS delete request reported");

	/* algorithm mismatch */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	ds_of(&R.ds[R.n_ds], -1, 4);
	R.ds[R.n_ds++].algorithm = 8;
	classify();
	ok(fixture_has("ds_algorithm_mismatch"), "DS algorithm with no DNSKEY");
	is_str(probe_state_name(R.state), "broken", "algorithm mismatch alone: broken");

	/* ZSK rotation */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	z = key_add(256, 13, 2, 3, 0);
	key_add(256, 13, 6, 3, 0);
	R.keys[z + 1].signs_soa = 0;
	parent_ds(k1, 0);
	classify();
	ok(fixture_has("zsk_rotation"), "a second ZSK not yet signing: zsk_rotation");
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
	ok(fixture_has("server_family_unreachable"), "ns1 silent over IPv6 only: "
	    "server_family_unreachable");
	ok(!fixture_has("server_unreachable"), "... and not server_unreachable");
	ok(R.n_problems > 0 && strstr(R.problems[0].message, "over IPv6 "
	    "(2001:db8::1: timeout") != NULL && strstr(R.problems[0].message,
	    "over IPv4 (192.0.2.1)") != NULL, "... naming the family and "
	    "the addresses");
	is_str(probe_severity_name(R.severity), "warning", "one family down: "
	    "warning");
	R.servers[0].status = PROBE_Q_NETERR;	/* ns1 down over both */
	R.servers[0].has_soa = false;
	classify();
	ok(!fixture_has("server_family_unreachable") && fixture_has("server_unreachable"),
	    "ns1 silent over both families: server_unreachable");
	R.servers[0].status = PROBE_Q_OK;	/* ns1 down over IPv4 only */
	R.servers[0].has_soa = true;
	R.servers[2].status = PROBE_Q_OK;
	R.servers[2].has_soa = true;
	R.servers[1].status = PROBE_Q_NETERR;
	R.servers[1].has_soa = false;
	classify();
	ok(fixture_has("server_family_unreachable") && R.n_problems > 0 &&
	    strstr(R.problems[0].message, "ns2.host.test does not answer over "
	    "IPv4") != NULL, "ns2 silent over IPv4 only: the family named");
	/* No IPv6 server has ever answered this host: its IPv6 is suspect. */
	R.servers[1].status = PROBE_Q_OK;
	R.servers[1].has_soa = true;
	R.servers[2].status = R.servers[3].status = PROBE_Q_TIMEOUT;
	R.servers[2].has_soa = R.servers[3].has_soa = false;
	R.ipv6_unproven = true;
	classify();
	ok(!fixture_has("server_family_unreachable") && !fixture_has("server_unreachable"),
	    "every IPv6 address silent, no IPv6 answer ever: not reported");
	is_str(probe_severity_name(R.severity), "ok", "... ok");
	R.ipv6_unproven = false;
	classify();
	ok(fixture_has("server_family_unreachable"), "the same once IPv6 answered "
	    "elsewhere: server_family_unreachable");

	/* TCP */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.servers[0].tcp_status = PROBE_Q_OK;
	R.servers[1].tcp_status = PROBE_Q_NETERR;
	strcpy(R.servers[1].tcp_error, "TCP connect: Connection refused");
	classify();
	ok(fixture_has("server_tcp_failed"), "UDP answers, TCP refused: "
	    "server_tcp_failed");
	is_str(probe_severity_name(R.severity), "warning", "TCP refused: "
	    "warning");
	ok(!fixture_has("server_unreachable"), "... the server is not unreachable");
	ok(probe_problem_resolvable("server_tcp_failed", &R), "a check that "
	    "asked over TCP can resolve server_tcp_failed");
	R.servers[0].tcp_status = PROBE_Q_NONE;
	R.servers[1].tcp_status = PROBE_Q_NONE;
	classify();
	ok(!fixture_has("server_tcp_failed") &&
	    !probe_problem_resolvable("server_tcp_failed", &R), "a check "
	    "without TCP neither reports nor resolves server_tcp_failed");
	/* The DNSKEY answer came truncated and TCP fails: no keys there. */
	R.servers[1].status = PROBE_Q_NETERR;
	R.servers[1].dnskey_tc = true;
	R.servers[1].dnskey_udp_bytes = 40;
	R.servers[1].tcp_status = PROBE_Q_NETERR;
	strcpy(R.servers[1].tcp_error, "TCP connect: Connection refused");
	classify();
	ok(fixture_has("server_tcp_failed") && !fixture_has("server_unreachable"),
	    "truncated DNSKEY, TCP refused: server_tcp_failed, not "
	    "server_unreachable");

	/* the DNSKEY answer's size */
	base();
	k1 = rsa_key_add(257, 8, 2048, 1, 3);	/* 2048 bits: no rsa_key_short */
	parent_ds(k1, 0);
	R.servers[0].dnskey_tc = R.servers[1].dnskey_tc = true;
	R.servers[0].dnskey_tcp_bytes = R.servers[1].dnskey_tcp_bytes = 1376;
	classify();
	ok(!fixture_has("dnskey_answer_large"), "1376 B truncated outside a "
	    "rotation: no problem");
	k2 = rsa_key_add(257, 8, 2048, 3, 3);		/* a new KSK signs too */
	classify();
	is_str(probe_state_name(R.state), "rotation_pending", "(rotation "
	    "pending)");
	ok(fixture_has("dnskey_answer_large"), "1376 B during a pending rotation: "
	    "dnskey_answer_large");
	is_str(probe_severity_name(R.severity), "warning", "(the rotation's "
	    "warning)");
	ok(R.n_problems > 1 && R.problems[1].severity == PROBE_SEV_OK,
	    "... a note while every server answers over TCP");
	R.servers[1].tcp_status = PROBE_Q_TIMEOUT;
	classify();
	ok(R.n_problems > 1 && fixture_has("server_tcp_failed") &&
	    R.problems[R.n_problems - 1].id == PROBE_P_DNSKEY_ANSWER_LARGE &&
	    R.problems[R.n_problems - 1].severity == PROBE_SEV_WARNING,
	    "... a warning when a server fails over TCP");
	R.servers[1].tcp_status = PROBE_Q_NONE;
	R.servers[0].dnskey_tcp_bytes = R.servers[1].dnskey_tcp_bytes = 1100;
	classify();
	ok(!fixture_has("dnskey_answer_large"), "1100 B during a rotation: no "
	    "problem");
	R.n_keys = 1;
	R.servers[0].dnskey_tc = R.servers[1].dnskey_tc = false;
	R.servers[1].dnskey_udp_bytes = 1400;	/* ignores our 1232 */
	classify();
	ok(fixture_has("dnskey_answer_large"), "a 1400-byte UDP answer (fragments): "
	    "dnskey_answer_large, rotation or not");
	(void)k2;

	/* truncation */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.keys_dropped = 3;
	classify();
	ok(fixture_has("observation_truncated"), "dropped records are reported");

	test_deprecated();
	test_bootstrap();
	/* Multi-signer (RFC 8901): each server a provider with its own KSK
	 * and ZSK, both KSKs with DS, each publishing both ZSKs. */
	base();
	k1 = key_add(257, 13, 1, 1, 1);		/* provider 1's KSK */
	k2 = key_add(257, 13, 3, 2, 2);		/* provider 2's KSK */
	z = key_add(256, 13, 2, 3, 0);
	R.keys[z].signs_soa = 1;		/* provider 1's ZSK */
	key_add(256, 13, 4, 3, 0);
	R.keys[z + 1].signs_soa = 2;		/* provider 2's ZSK */
	R.servers[1].soa_serial = 9;
	strcpy(R.servers[1].name, "ns.other-host.test");
	parent_ds(k1, 0);
	parent_ds(k2, 0);
	classify();
	ok(R.multi_signer == PROBE_MULTI_DETECTED && R.n_providers == 2,
	    "disjoint signers, each with DS: multi-signer detected");
	is_int(R.n_problems, 0, "a correct multi-signer zone: no problem");
	ok(R.servers_agree, "multi-signer: the servers agree within providers");
	/* ... provider 1 lacks provider 2's ZSK */
	R.keys[z + 1].servers = 2;
	classify();
	ok(fixture_has("multi_signer_zsk_missing") && !fixture_has("servers_disagree"),
	    "a provider without the other's ZSK: multi_signer_zsk_missing");
	/* ... the same shape when multi-signer judging is off */
	P.multi_signer = PROBE_MULTI_OFF;
	classify();
	ok(R.multi_signer == PROBE_MULTI_NONE && fixture_has("servers_disagree"),
	    "multi_signer no: servers_disagree");
	/* ... configured, and provider 2's KSK has no DS */
	P.multi_signer = PROBE_MULTI_ON;
	R.keys[z + 1].servers = 3;
	R.n_ds = 1;
	classify();
	ok(R.multi_signer == PROBE_MULTI_CONFIGURED &&
	    fixture_has("multi_signer_ds_missing"),
	    "configured: a provider whose signer has no DS is reported");
	is_str(probe_severity_name(R.severity), "critical",
	    "multi_signer_ds_missing: critical");
	/* ... auto does not take that shape for two providers */
	P.multi_signer = PROBE_MULTI_AUTO;
	classify();
	ok(R.multi_signer == PROBE_MULTI_NONE,
	    "auto: a signer without DS is a rollover, not a provider");

	/* A lagging secondary (same NS name, two addresses, different KSK
	 * signing) is one provider out of step, not two. */
	base();
	strcpy(R.servers[1].name, R.servers[0].name);
	k1 = key_add(257, 13, 1, 1, 1);
	k2 = key_add(257, 13, 3, 2, 2);
	parent_ds(k1, 0);
	parent_ds(k2, 0);
	classify();
	ok(R.multi_signer == PROBE_MULTI_NONE,
	    "one NS name in two key groups: not multi-signer");
	strcpy(R.servers[1].name, "ns2.host.test");
	classify();
	ok(R.multi_signer == PROBE_MULTI_NONE && fixture_has("servers_disagree"),
	    "NS names of one domain in two key groups: not multi-signer");

	/* CDS signed by a key without DS; CDS that would break the chain;
	 * CDS not answered over TCP. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 0);		/* published, signs nothing */
	parent_ds(k1, 0);
	child_cds(k2);
	R.servers[0].n_cds = R.servers[1].n_cds = 1;
	R.servers[0].cds_answered = R.servers[1].cds_answered = true;
	R.servers[0].cdnskey_answered = R.servers[1].cdnskey_answered = true;
	R.servers[0].cds_set = R.servers[1].cds_set = 1;
	R.servers[0].n_cds_sig = R.servers[1].n_cds_sig = 1;
	R.servers[0].cds_sig[0].key_tag = R.keys[k2].key_tag;
	R.servers[0].cds_sig[0].algorithm = 13;
	R.servers[1].cds_sig[0] = R.servers[0].cds_sig[0];
	classify();
	ok(fixture_has("cds_signer_not_in_ds"),
	    "CDS signed only by a key without DS: cds_signer_not_in_ds");
	ok(fixture_has("cds_breaks_chain"),
	    "CDS naming a key that signs no DNSKEY RRset: cds_breaks_chain");
	ok(R.cds_consistent && !fixture_has("cds_servers_disagree"),
	    "the same CDS on both servers: consistent");
	is_str(probe_severity_name(R.severity), "warning",
	    "cds_breaks_chain under a parent that does not apply CDS: warning");
	{
		static const char *const mine[] = { "test" };

		P.cds_parents = mine;
		P.n_cds_parents = 1;
		classify();
		is_str(probe_severity_name(R.severity), "critical",
		    "cds_breaks_chain where the parent applies CDS: critical");
	}
	R.servers[1].cds_status = PROBE_Q_TIMEOUT;
	classify();
	ok(fixture_has("cds_unreachable") && !R.cds_consistent,
	    "CDS not answered over TCP: cds_unreachable");
	ok(!fixture_has("server_unreachable"),
	    "... the server still answered over UDP: not unreachable");

	/* What the tags pass and the cryptography does not (sigcheck.c
	 * fills verifies_dnskey / cds_verified_by): a rollover whose CDS
	 * names k2, both KSKs signing by tag, the CDS signed by k1 (DS). */
	{
		static const char *const mine[] = { "test" };
		unsigned i;

		base();
		k1 = key_add(257, 13, 1, 3, 3);
		k2 = key_add(257, 13, 3, 3, 3);
		key_add(256, 13, 2, 3, 0);
		parent_ds(k1, 0);
		child_cds(k2);
		for (i = 0; i < 2; i++) {
			struct probe_server *s = &R.servers[i];

			s->n_cds = 1;
			s->cds_answered = s->cdnskey_answered = true;
			s->cds_set = 1;
			s->n_cds_sig = 2;
			s->cds_sig[0].key_tag = R.keys[k1].key_tag;
			s->cds_sig[1].key_tag = R.keys[k2].key_tag;
			s->cds_sig[0].algorithm = s->cds_sig[1].algorithm = 13;
			s->sigs_verified = true;
			s->cds_verified_by = 1u << k1 | 1u << k2;
		}
		R.keys[k1].verifies_dnskey = R.keys[k2].verifies_dnskey = 3;
		P.cds_parents = mine;
		P.n_cds_parents = 1;
		classify();
		ok(!fixture_has("cds_bogus") && R.cds_acceptable && R.cds_pickup != 0,
		    "every signature verifies: no cds_bogus; a CDS-applying "
		    "parent would act (pickup time set)");
		probe_policy_defaults(&P);
		is_int(probe_key_sig_verified(&R, k2), 1,
		    "probe_key_sig_verified: 1 where it verifies everywhere");
		ok(R.n_publish > 0 &&
		    R.publish[0].key_tag == R.keys[k2].key_tag,
		    "... and k2's DS is the one to publish");
		/* k2's RRSIG over the DNSKEY RRset does not verify at b. */
		R.keys[k2].verifies_dnskey = 1;
		classify();
		ok(fixture_has("cds_bogus") &&
		    strstr(fixture_message("cds_bogus"), "192.0.2.2") != NULL &&
		    strstr(fixture_message("cds_bogus"), "192.0.2.1") == NULL,
		    "the CDS key's RRSIG verifies at a only: cds_bogus names b");
		R.keys[k2].verifies_dnskey = 0;
		classify();
		ok(fixture_has("cds_bogus") && !fixture_has("cds_breaks_chain") &&
		    !R.cds_acceptable,
		    "the CDS key's RRSIG verifies nowhere: cds_bogus, not "
		    "acceptable, cds_breaks_chain quiet (the tags pass)");
		is_str(probe_severity_name(R.severity), "warning",
		    "cds_bogus (chain) without a CDS-applying parent: warning");
		is_int(probe_key_sig_verified(&R, k2), 0,
		    "probe_key_sig_verified: 0 where it does not verify");
		ok(R.n_publish == 0,
		    "no DS offered for a key whose signature does not verify: "
		    "it would anchor the zone to a signature validators reject");
		P.cds_parents = mine;
		P.n_cds_parents = 1;
		classify();
		is_str(probe_severity_name(R.severity), "critical",
		    "cds_bogus (chain) under a CDS-applying parent: critical");
		ok(R.cds_pickup == 0,
		    "... and no registry pickup is promised");
		/* Not verified (no wire kept): the tags judge, as before. */
		R.servers[0].sigs_verified = R.servers[1].sigs_verified = false;
		classify();
		ok(!fixture_has("cds_bogus"), "signatures not verified: no cds_bogus");
		is_int(probe_key_sig_verified(&R, k2), -1,
		    "probe_key_sig_verified: -1 where nothing was verified");
		/* The RRSIG over the CDS by k1 (the DS key) does not verify. */
		R.servers[0].sigs_verified = R.servers[1].sigs_verified = true;
		R.keys[k2].verifies_dnskey = 3;
		R.servers[0].cds_verified_by = R.servers[1].cds_verified_by =
		    1u << k2;
		classify();
		ok(fixture_has("cds_bogus") && !fixture_has("cds_signer_not_in_ds") &&
		    strstr(fixture_message("cds_bogus"), "ignores this CDS") != NULL,
		    "the DS key's RRSIG over the CDS does not verify: cds_bogus");
		is_str(probe_severity_name(R.severity), "warning",
		    "... a warning even under a CDS-applying parent (it is "
		    "ignored, not applied)");
		/* CDS signed right, the CDNSKEY's RRSIG by k1 does not
		 * verify: a registry that reads CDNSKEY (.cz) ignores it. */
		for (i = 0; i < 2; i++) {
			R.servers[i].cds_verified_by = 1u << k1 | 1u << k2;
			R.servers[i].n_cdnskey = 1;
			R.servers[i].n_cdnskey_sig = 1;
			R.servers[i].cdnskey_sig[0] = R.servers[i].cds_sig[0];
			R.servers[i].cdnskey_verified_by = 1u << k2;
		}
		classify();
		ok(fixture_has("cds_bogus") &&
		    strstr(fixture_message("cds_bogus"), "CDNSKEY") != NULL,
		    "the DS key's RRSIG over the CDNSKEY does not verify: "
		    "cds_bogus");
		for (i = 0; i < 2; i++) {
			R.servers[i].n_cdnskey = 0;
			R.servers[i].n_cdnskey_sig = 0;
		}
		/* The CDS digest is wrong under k2's tag and algorithm. */
		R.servers[0].cds_verified_by = R.servers[1].cds_verified_by =
		    1u << k1 | 1u << k2;
		R.cds[0].digest[5] ^= 0x40;
		classify();
		ok(fixture_has("cds_bogus") && !fixture_has("cds_unknown_key") &&
		    strstr(fixture_message("cds_bogus"), "digest") != NULL,
		    "a wrong digest under a published key's tag: cds_bogus, "
		    "not cds_unknown_key");
		/* ... under a tag no key has: an unknown key, as before. */
		R.cds[0].key_tag ^= 0x5a5a;
		classify();
		ok(fixture_has("cds_unknown_key"),
		    "a CDS under a tag no key has: cds_unknown_key");
	}

	/* A tracked rotation under a parent that applies CDS: until the
	 * pickup time the registry is expected to act, not a person. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	k2 = key_add(257, 13, 3, 3, 3);
	parent_ds(k1, 0);
	child_cds(k2);
	R.keys[k1].first_seen = NOW - 30 * 86400;
	R.keys[k2].first_seen = NOW - 86400;
	R.history.tracked = true;
	{
		static const char *const mine[] = { "test" };
		unsigned i;
		bool pick = false;

		P.cds_parents = mine;
		P.n_cds_parents = 1;
		classify();
		for (i = 0; i < R.n_problems; i++)
			if (strcmp(R.problems[i].code, "rotation_deadline") == 0
			    && strstr(R.problems[i].message,
			    "should pick up the CDS") != NULL &&
			    R.problems[i].severity == PROBE_SEV_WARNING)
				pick = true;
		ok(pick, "CDS parent, pickup ahead: the registry should pick "
		    "it up (warning)");
		is_int((long long)R.cds_pickup, (long long)(NOW + 86400),
		    "pickup time = start + cds_pickup");
		R.keys[k2].first_seen = NOW - 3 * 86400;
		classify();
		pick = false;
		for (i = 0; i < R.n_problems; i++)
			if (strcmp(R.problems[i].code, "rotation_deadline") == 0
			    && strstr(R.problems[i].message, "Add the DS") !=
			    NULL)
				pick = true;
		ok(pick, "pickup passed: the registrar deadline counts again");
	}

	test_parents();

	/* A full CDS or CDNSKEY list is named as such, not as DS or DNSKEY. */
	base();
	k1 = key_add(257, 13, 1, 3, 3);
	parent_ds(k1, 0);
	R.cds_dropped = 3;
	R.cdnskey_dropped = 2;
	classify();
	ok(fixture_has("observation_truncated") && strstr(fixture_message(
	    "observation_truncated"), "0 DS, 0 DNSKEY, 3 CDS, 2 CDNSKEY") !=
	    NULL, "truncated CDS/CDNSKEY lists are named: %s",
	    fixture_message("observation_truncated"));
	return tap_done();
}
