/*
 * Algorithm rollovers on synthetic observations: each stage of RFC 6781
 * 4.1.4, the two dangerous orderings, how old and new are told apart, and
 * that a correct step is not called ds_algorithm_mismatch. Keys, DS and
 * signatures are set by hand: the classifier only reads bits and numbers.
 * (The same stages signed by dnssec-signzone: tests/e2e/algroll_walk.py.)
 */
#include <stdlib.h>
#include <string.h>

#include "common/dsmatch.h"
#include "probe/probe.h"
#include "probe_fixture.h"
#include "tap.h"

#define OLD	8
#define NEW	13
#define B(a)	(1u << (a))

static void
key(uint16_t flags, uint8_t alg, int seed, time_t first_seen)
{
	struct probe_key *k = &R.keys[fixture_key(flags, alg, seed)];

	k->servers = 3;
	k->signs_dnskey = (flags & 1) ? 3 : 0;
	k->first_seen = first_seen;
}
/* A DS for the KSK of algorithm alg (its real digest when published). */
static void
ds(uint8_t alg)
{
	struct probe_ds *d = &R.ds[R.n_ds++];
	size_t k;

	for (k = 0; k < R.n_keys; k++)
		if (R.keys[k].algorithm == alg && (R.keys[k].flags & 1))
			break;
	if (k < R.n_keys) {
		fixture_ds(d, &R.keys[k], 2);
		return;
	}
	memset(d, 0, sizeof(*d));
	d->algorithm = alg;
	d->digest_type = 2;
	d->key_tag = 4242;
	d->digest_len = 32;
	memset(d->digest, 0x42, 32);
}
/* Signature algorithms on every server: over SOA+NSEC, over DNSKEY. */
static void
sigs(uint32_t rrsets, uint32_t dnskey)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		R.servers[i].sig_algs_soa = rrsets;
		R.servers[i].sig_algs_nsec = rrsets;
		R.servers[i].sig_algs_dnskey = dnskey;
	}
}

static void
base(bool history)
{
	fixture_base();
	R.history.tracked = history;
}
static void
stage_is(const char *stage, const char *what)
{
	probe_classify(&R, &P, NOW);
	is_str(probe_alg_stage_name(R.alg_rollover.stage), stage, "%s: stage %s",
	    what, stage);
	ok(R.alg_rollover.from == OLD && R.alg_rollover.to == NEW &&
	    !R.alg_rollover.bad_order, "%s: 8 -> 13, in order (%u -> %u)", what,
	    R.alg_rollover.from, R.alg_rollover.to);
	ok(fixture_problem("algorithm_rollover_stage") && !fixture_problem("algorithm_rollover_order") &&
	    !fixture_problem("ds_algorithm_mismatch"),
	    "%s: algorithm_rollover, no wrong order, no mismatch", what);
}

int
main(void)
{
	const struct probe_problem *p;

	/* One algorithm: nothing. */
	base(false);
	key(257, OLD, 1, 0);
	key(256, OLD, 2, 0);
	ds(OLD);
	sigs(B(OLD), B(OLD));
	probe_classify(&R, &P, NOW);
	ok(R.alg_rollover.stage == PROBE_ALG_NONE && !fixture_problem("algorithm_rollover_stage"),
	    "one algorithm: no rollover");

	/* 1: new signatures everywhere, no new key; told by the DS. */
	base(false);
	key(257, OLD, 1, 0);
	key(256, OLD, 2, 0);
	ds(OLD);
	sigs(B(OLD) | B(NEW), B(OLD));
	stage_is("signatures_added", "stage 1");
	ok(strstr(fixture_problem("algorithm_rollover_stage")->message, "publish the new keys") != NULL,
	    "stage 1: the next step is publishing the new keys");

	/* 1, but the new signatures are missing on one server. */
	R.servers[1].sig_algs_nsec = B(OLD);
	probe_classify(&R, &P, NOW);
	p = fixture_problem("algorithm_rollover_stage");
	ok(p && strstr(p->message, "not on every RRset"),
	    "stage 1 incomplete: finish signing first");

	/* 2: both keys sign; told by the CDS naming 13. */
	base(false);
	key(257, OLD, 1, 0);
	key(256, OLD, 2, 0);
	key(257, NEW, 3, 0);
	key(256, NEW, 4, 0);
	ds(OLD);
	R.n_cds = 1;
	R.cds[0].algorithm = NEW;
	sigs(B(OLD) | B(NEW), B(OLD) | B(NEW));
	stage_is("keys_published", "stage 2");

	/* Each stage's clock: a stage first seen now starts now, is safe to
	 * leave once the DNSKEY TTL has passed, due within the window. */
	R.dnskey_ttl = 7200;
	probe_classify(&R, &P, NOW);
	ok(R.alg_rollover.start == NOW && R.alg_rollover.stage_since == NOW &&
	    R.alg_rollover.safe_at == NOW + 7200 &&
	    R.alg_rollover.deadline == NOW + P.rotation_window_s &&
	    !R.alg_rollover.stalled,
	    "stage 2 first seen: since now, safe after the DNSKEY TTL, due "
	    "within the window");
	/* The store saw this stage begin 3 days ago: the clock goes on. */
	R.history.tracked = true;
	R.history.alg_open = true;
	R.history.alg_from = OLD;
	R.history.alg_to = NEW;
	R.history.alg_start = NOW - 4 * 86400;
	R.history.alg_stage = PROBE_ALG_KEYS_PUBLISHED;
	R.history.alg_stage_since = NOW - 3 * 86400;
	probe_classify(&R, &P, NOW);
	ok(R.alg_rollover.start == NOW - 4 * 86400 &&
	    R.alg_rollover.stage_since == NOW - 3 * 86400 &&
	    R.alg_rollover.deadline == NOW - 3 * 86400 + P.rotation_window_s,
	    "stage 2 seen before: its start and deadline carry on");
	p = fixture_problem("algorithm_rollover_stage");
	ok(p && p->severity == PROBE_SEV_OK && strstr(p->message, "due by"),
	    "a stage within its window: info, with its deadline");
	/* History had the previous stage: this one starts now. */
	R.history.alg_stage = PROBE_ALG_SIGNATURES_ADDED;
	probe_classify(&R, &P, NOW);
	ok(R.alg_rollover.stage_since == NOW &&
	    R.alg_rollover.start == NOW - 4 * 86400,
	    "a new stage: its own clock, the rollover's start kept");
	/* Another pair of algorithms in history: a new rollover. */
	R.history.alg_stage = PROBE_ALG_KEYS_PUBLISHED;
	R.history.alg_to = 15;
	probe_classify(&R, &P, NOW);
	ok(R.alg_rollover.start == NOW && R.alg_rollover.stage_since == NOW,
	    "history of another rollover: this one starts now");
	/* Past the window the stage has stalled: a warning. */
	R.history.alg_to = NEW;
	R.history.alg_stage_since = NOW - P.rotation_window_s - 3600;
	probe_classify(&R, &P, NOW);
	p = fixture_problem("algorithm_rollover_stage");
	ok(R.alg_rollover.stalled && p && p->severity == PROBE_SEV_WARNING &&
	    strstr(p->message, "STALLED") != NULL,
	    "a stage past its deadline: stalled, a warning");
	R.history = (struct probe_history){ 0 };
	R.dnskey_ttl = 0;

	/* 3: the DS swapped; only history tells it from stage 2 of 13 -> 8. */
	base(true);
	key(257, OLD, 1, NOW - 20 * 86400);
	key(256, OLD, 2, NOW - 20 * 86400);
	key(257, NEW, 3, NOW - 5 * 86400);
	key(256, NEW, 4, NOW - 5 * 86400);
	ds(NEW);
	sigs(B(OLD) | B(NEW), B(OLD) | B(NEW));
	stage_is("ds_swapped", "stage 3 (history)");
	ok(strstr(R.alg_rollover.basis, "history") != NULL, "stage 3: basis is history");
	/* The same observation without history reads as 13 -> 8, stage 2. */
	R.history.tracked = false;
	probe_classify(&R, &P, NOW);
	ok(R.alg_rollover.from == NEW && R.alg_rollover.stage == PROBE_ALG_KEYS_PUBLISHED,
	    "without history: the same zone reads as stage 2 of 13 -> 8");

	/* 3 with both DS: remove the old one. */
	base(true);
	key(257, OLD, 1, NOW - 20 * 86400);
	key(256, OLD, 2, NOW - 20 * 86400);
	key(257, NEW, 3, NOW - 5 * 86400);
	key(256, NEW, 4, NOW - 5 * 86400);
	ds(OLD);
	ds(NEW);
	sigs(B(OLD) | B(NEW), B(OLD) | B(NEW));
	stage_is("ds_swapped", "stage 3, both DS");
	ok(strstr(fixture_problem("algorithm_rollover_stage")->message, "remove the DS for the old") != NULL,
	    "stage 3, both DS: remove the old DS");

	/* 4: old keys gone (known from the store), old signatures linger. */
	base(true);
	R.history.alg_first_seen[OLD] = NOW - 20 * 86400;
	R.history.alg_first_seen[NEW] = NOW - 5 * 86400;
	key(257, NEW, 3, NOW - 5 * 86400);
	key(256, NEW, 4, NOW - 5 * 86400);
	ds(NEW);
	sigs(B(OLD) | B(NEW), B(NEW));
	stage_is("old_keys_removed", "stage 4");

	/* 5: only the old DS is left over: stale_ds, not a mismatch. */
	base(true);
	R.history.alg_first_seen[OLD] = NOW - 20 * 86400;
	key(257, NEW, 3, NOW - 5 * 86400);
	key(256, NEW, 4, NOW - 5 * 86400);
	ds(NEW);
	ds(OLD);
	sigs(B(NEW), B(NEW));
	stage_is("old_ds_lingers", "stage 5");

	/* Wrong order 1: the only DS names 13 before any 13 key exists. */
	base(true);
	key(257, OLD, 1, NOW - 20 * 86400);
	key(256, OLD, 2, NOW - 20 * 86400);
	ds(NEW);
	sigs(B(OLD) | B(NEW), B(OLD));
	probe_classify(&R, &P, NOW);
	p = fixture_problem("algorithm_rollover_order");
	ok(R.alg_rollover.bad_order && p && p->severity == PROBE_SEV_CRITICAL &&
	    strstr(p->message, "before it has a published DNSKEY"),
	    "DS for 13 before its keys: critical algorithm_rollover_order");

	/* ... and beside the old DS: a warning (the old chain still holds). */
	R.n_ds = 0;
	ds(OLD);
	ds(NEW);
	probe_classify(&R, &P, NOW);
	p = fixture_problem("algorithm_rollover_order");
	ok(p && p->severity == PROBE_SEV_WARNING,
	    "DS for 13 early, beside 8's: a warning");

	/* Wrong order 1b: 13's keys published but 13 does not sign the SOA
	 * on one server, and the DS names only 13. */
	base(true);
	key(257, OLD, 1, NOW - 20 * 86400);
	key(256, OLD, 2, NOW - 20 * 86400);
	key(257, NEW, 3, NOW - 5 * 86400);
	key(256, NEW, 4, NOW - 5 * 86400);
	ds(NEW);
	sigs(B(OLD) | B(NEW), B(OLD) | B(NEW));
	R.servers[1].sig_algs_soa = B(OLD);
	probe_classify(&R, &P, NOW);
	p = fixture_problem("algorithm_rollover_order");
	ok(p && p->severity == PROBE_SEV_CRITICAL && strstr(p->message, "192.0.2.2") &&
	    !strstr(p->message, "192.0.2.1"),
	    "DS for 13 while 13 does not sign on one server: critical, naming it");

	/* Wrong order 2: old signatures removed while the DS names only 8. */
	base(true);
	key(257, OLD, 1, NOW - 20 * 86400);
	key(256, OLD, 2, NOW - 20 * 86400);
	key(257, NEW, 3, NOW - 5 * 86400);
	key(256, NEW, 4, NOW - 5 * 86400);
	ds(OLD);
	sigs(B(NEW), B(OLD) | B(NEW));
	probe_classify(&R, &P, NOW);
	p = fixture_problem("algorithm_rollover_order");
	ok(p && p->severity == PROBE_SEV_CRITICAL &&
	    strstr(p->message, "still names algorithm 8"),
	    "old signatures gone while the DS names 8: critical");

	/* Told apart by RFC 8624 when nothing else says. */
	base(false);
	key(257, 5, 1, 0);
	key(256, 5, 2, 0);
	key(257, NEW, 3, 0);
	key(256, NEW, 4, 0);
	ds(5);
	ds(NEW);
	sigs(B(5) | B(NEW), B(5) | B(NEW));
	probe_classify(&R, &P, NOW);
	ok(R.alg_rollover.from == 5 && R.alg_rollover.to == NEW &&
	    strstr(R.alg_rollover.basis, "8624"), "RSASHA1 is the old one (RFC 8624)");

	/* Three algorithms: not judged as a rollover. */
	base(false);
	key(257, OLD, 1, 0);
	key(257, NEW, 3, 0);
	key(257, 15, 5, 0);
	ds(OLD);
	sigs(B(OLD) | B(NEW) | B(15), B(OLD) | B(NEW) | B(15));
	probe_classify(&R, &P, NOW);
	is_str(probe_alg_stage_name(R.alg_rollover.stage), "unclear",
	    "three algorithms: unclear");

	return tap_done();
}
