/*
 * metrics_render - how long /metrics takes to render for N domains (default
 * 10,000): the real dashboard-export sources, the in-memory table filled with
 * synthetic observations (one in 50 in a KSK rotation, one in 97 broken), no
 * network. Part of `make bench` (tests/bench/bench.sh): it measures and
 * prints, it asserts nothing. tests/unit/test_metrics.c checks what the same
 * render says.
 *
 *	metrics_render [N]
 *	metrics: N domains rendered in M ms (best of 5), B bytes; in slices of
 *	    20 ms as the daemon serves it: M ms in K slices, the longest L ms
 *
 * The second figure is the daemon's way (dashboard-export/http.c): a
 * slice per loop turn, so the loop is held for L ms at most, not M.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "dashboard-export/internal.h"
#include "probe/probe.h"
#include "tests/store/synth.h"

#define DAY	86400
#define ROUNDS	5

static void
update(struct export *ex, const char *domain, enum synth_state s,
    time_t now, const struct store_rotation *rot)
{
	static struct probe_result	 r;
	struct probe_policy		 pol;

	probe_policy_defaults(&pol);
	synth_result(&r, domain, s, now);
	r.duration_ms = 120;
	probe_classify(&r, &pol, now);
	export_update(ex, &r, rot, now);
}

int
main(int argc, char *argv[])
{
	struct export		*ex = NULL;
	struct hostevents	*host = NULL;	/* run.c's part */
	struct export_domain	*list = NULL;
	struct store_rotation	 rot;
	struct evbuffer		*b;
	struct timespec		 t0, t1;
	char			 err[200], (*names)[64] = NULL, *end;
	time_t			 now = 1800000000;
	double			 best = 1e9, ms, sl_best = 1e9, sl_max = 0;
	unsigned		 slices = 0;
	size_t			 i, n = 10000, len = 0;
	int			 round, rc = 1;

	if (argc > 1) {
		n = strtoul(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || n == 0 || n > 1000000) {
			fprintf(stderr, "usage: metrics_render [N], N 1 to "
			    "1000000\n");
			return 2;
		}
	}
	if ((host = hostevents_create()) == NULL ||
	    (ex = export_create(NULL, host, err, sizeof(err))) == NULL) {
		fprintf(stderr, "metrics_render: %s\n", err);
		goto fail;
	}
	list = calloc(n, sizeof(*list));
	names = calloc(n, sizeof(*names));
	if (list == NULL || names == NULL) {
		fprintf(stderr, "metrics_render: out of memory\n");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "d%06zu.bench.example", i);
		list[i].name = names[i];
		store_policy_defaults(&list[i].policy);
		list[i].interval_s = 300;
		list[i].in_shard = true;
	}
	if (export_set_domains(ex, list, n) != 0) {
		fprintf(stderr, "metrics_render: export_set_domains failed\n");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		enum synth_state s = i % 50 == 0 ? SY_ROLLSTART :
		    i % 97 == 0 ? SY_BROKEN : SY_HEALTHY;

		memset(&rot, 0, sizeof(rot));
		if (s == SY_ROLLSTART) {
			rot.id = (int64_t)i + 1;
			rot.kind = STORE_ROT_KSK;
			rot.start = now;
			rot.deadline = now + 7 * DAY;
			rot.registrar_deadline = now + 7 * DAY - 3600;
		}
		update(ex, names[i], s, now, &rot);
	}
	/* Best of a few: the first render also pays for page faults. */
	for (round = 0; round < ROUNDS; round++) {
		struct xmetrics_pos	 pos;
		unsigned		 k = 0;

		if ((b = evbuffer_new()) == NULL)
			goto fail;
		memset(&pos, 0, sizeof(pos));
		do
			k++;
		while (!xmetrics_render_step(ex, b, now, &pos, 0.02));
		if (pos.spent_s * 1e3 < sl_best) {
			sl_best = pos.spent_s * 1e3;
			sl_max = pos.slice_max_s * 1e3;
			slices = k;
		}
		evbuffer_free(b);
	}
	for (round = 0; round < ROUNDS; round++) {
		if ((b = evbuffer_new()) == NULL)
			goto fail;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		xmetrics_render(ex, b, now);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (ms < best)
			best = ms;
		len = evbuffer_get_length(b);
		evbuffer_free(b);
	}
	printf("metrics: %zu domains rendered in %.1f ms (best of %d), %zu "
	    "bytes; in slices of 20 ms as the daemon serves it: %.1f ms in "
	    "%u slices, the longest %.1f ms\n", n, best, ROUNDS, len, sl_best,
	    slices, sl_max);
	rc = 0;
fail:
	free(list);
	free(names);
	export_destroy(ex);
	hostevents_destroy(host);
	return rc;
}
