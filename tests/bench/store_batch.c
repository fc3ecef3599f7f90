/*
 * store_batch - what the store costs per check, one transaction per check
 * against checks grouped into one transaction (store_batch_begin), on the
 * real store sources, no network. It measures and prints; it asserts
 * nothing (tests/unit/test_store_batch.c checks what batching keeps).
 *
 *	store_batch DIR [N [K]]
 *	store: N checks, batches of K: CPU C ms (U us/check), wall W ms
 *
 * Each run starts a fresh database in DIR, records a first round of N
 * domains (inserting the domains and their keys), then times a second
 * round: the steady state of a daemon, one observation per domain and
 * its keys' last_seen. One domain in 50 is in a KSK rotation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probe/probe.h"
#include "store/store.h"
#include "tests/store/synth.h"

#define T0	1764547200

static double
secs(clockid_t c)
{
	struct timespec	 ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
round_of(struct store *st, long n, unsigned k, time_t now)
{
	static struct probe_result	 r;
	struct probe_policy		 pp;
	struct store_policy		 sp;
	char				 dom[32];
	long				 i;

	probe_policy_defaults(&pp);
	store_policy_defaults(&sp);
	for (i = 0; i < n; i++) {
		if (k > 1 && i % k == 0)
			store_batch_begin(st);
		snprintf(dom, sizeof(dom), "b%06ld.bench", i + 1);
		synth_result(&r, dom, i % 50 == 0 ? SY_ROLLSTART : SY_HEALTHY,
		    now);
		if (store_check(st, &r, &pp, &sp, now, NULL) == -1)
			return -1;
		if (k > 1 && (i % k == k - 1 || i == n - 1) &&
		    store_batch_end(st) == -1)
			return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const unsigned	 ks_all[] = { 1, 4, 16, 64, 256 };
	const unsigned		*ks = ks_all;
	size_t			 nks = sizeof(ks_all) / sizeof(ks_all[0]);
	unsigned		 one;
	struct store		*st;
	char			 path[4096], err[512];
	double			 c0, w0;
	long			 n = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
	size_t			 i;

	if (argc < 2 || n < 1) {
		fprintf(stderr, "usage: store_batch DIR [N]\n");
		return 2;
	}
	/* One batch size only (for strace -c), or them all. */
	if (argc > 3) {
		one = (unsigned)strtoul(argv[3], NULL, 10);
		ks = &one;
		nks = 1;
	}
	for (i = 0; i < nks; i++) {
		snprintf(path, sizeof(path), "%s/store-batch.db", argv[1]);
		unlink(path);
		if ((st = store_open(path, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		if (round_of(st, n, ks[i], T0) == -1)
			goto fail;
		c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
		w0 = secs(CLOCK_MONOTONIC);
		if (round_of(st, n, ks[i], T0 + 3600) == -1)
			goto fail;
		c0 = secs(CLOCK_PROCESS_CPUTIME_ID) - c0;
		w0 = secs(CLOCK_MONOTONIC) - w0;
		printf("store: %ld checks, batches of %u: CPU %.0f ms "
		    "(%.0f us/check), wall %.0f ms\n", n, ks[i], c0 * 1e3,
		    c0 * 1e6 / (double)n, w0 * 1e3);
		store_close(st);
	}
	snprintf(path, sizeof(path), "%s/store-batch.db", argv[1]);
	unlink(path);
	return 0;
fail:
	fprintf(stderr, "%s\n", store_error(st));
	store_close(st);
	return 1;
}
