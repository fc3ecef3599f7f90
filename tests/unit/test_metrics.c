/*
 * /metrics on the real dashboard-export sources, without a network:
 * the exposition format line by line (HELP and TYPE before each family,
 * every family's samples together, label values escaped), the series a
 * zone gets in each state, the registrar deadline counted from `now`,
 * and a render of 10,000 domains that still holds the format. How long
 * that render takes is measured by `make bench` (tests/bench/
 * metrics_render.c), not asserted here: a timing is not a test.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "dashboard-export/internal.h"
#include "probe/probe.h"
#include "tests/store/synth.h"
#include "tests/unit/tap.h"

#define DAY	86400

static char *
render(struct export *ex, time_t now)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 n;
	char		*s;

	xmetrics_render(ex, b, now);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

/* The line "name{labels} value" exactly, or NULL. */
static const char *
find_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return p;
		p += n;
	}
	return NULL;
}

/*
 * The format, the way a scraper reads it: comments are "# HELP name
 * text" or "# TYPE name type", each family's TYPE comes before its
 * samples, and a family's samples are never split by another's.
 * Returns the number of samples, -1 after a failed check.
 */
/* Series (a sample line up to its value) in byte order. */
static int
series_cmp(const void *a, const void *b)
{
	const char	*x = *(const char * const *)a;
	const char	*y = *(const char * const *)b;
	size_t		 lx = strrchr(x, ' ') - x, ly = strrchr(y, ' ') - y;
	int		 c = memcmp(x, y, lx < ly ? lx : ly);

	return c != 0 ? c : (lx > ly) - (lx < ly);
}

static long
check_format(char *text)
{
	char		*line, *rest = text, fam[128] = "", *done;
	size_t		 donelen = 0, cap = 1 << 16, n_series = 0, i;
	long		 samples = 0;
	bool		 good = true;
	char		**series;

	done = calloc(1, cap);
	/* The text format forbids a series twice; promtool does not see it. */
	series = calloc(strlen(text) / 8 + 1, sizeof(*series));
	while ((line = strsep(&rest, "\n")) != NULL) {
		char name[128], *p = line;
		size_t k = 0;

		if (*line == '\0')
			continue;

		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			if (sscanf(line + 7, "%127s", fam) != 1)
				good = false;
			/* A family declared twice is split. */
			if (strstr(done, fam) != NULL) {
				char key[140];

				snprintf(key, sizeof(key), "|%s|", fam);
				if (strstr(done, key) != NULL) {
					tap_diag("family %s declared twice",
					    fam);
					good = false;
				}
			}
			if (donelen + strlen(fam) + 3 < cap) {
				donelen += (size_t)snprintf(done + donelen,
				    cap - donelen, "|%s|", fam);
			}
			continue;
		}
		if (*line == '#') {
			tap_diag("stray comment: %s", line);
			good = false;
			continue;
		}
		while (*p && (isalnum((unsigned char)*p) || *p == '_' ||
		    *p == ':') && k < sizeof(name) - 1)
			name[k++] = *p++;
		name[k] = '\0';
		if (k == 0 || strncmp(name, fam, strlen(fam)) != 0 ||
		    (name[strlen(fam)] != '\0' && strcmp(name + strlen(fam),
		    "_bucket") != 0 && strcmp(name + strlen(fam), "_sum") != 0
		    && strcmp(name + strlen(fam), "_count") != 0)) {
			tap_diag("sample outside its family %s: %s", fam, line);
			good = false;
			continue;
		}
		if (*p == '{') {
			/* label="value" pairs, values with \\ \" \n only. */
			p++;
			while (*p && *p != '}') {
				while (*p && (isalnum((unsigned char)*p) ||
				    *p == '_'))
					p++;
				if (p[0] != '=' || p[1] != '"') {
					good = false;
					break;
				}
				for (p += 2; *p && *p != '"'; p++)
					if (*p == '\\') {
						if (p[1] != '\\' && p[1] != '"' &&
						    p[1] != 'n')
							good = false;
						p++;
					}
				if (*p != '"') {
					good = false;
					break;
				}
				p++;
				if (*p == ',')
					p++;
			}
			if (*p != '}') {
				tap_diag("bad labels: %s", line);
				good = false;
				continue;
			}
			p++;
		}
		if (*p != ' ' || p[1] == '\0') {
			tap_diag("no value: %s", line);
			good = false;
			continue;
		}
		{
			char *end;

			strtod(p + 1, &end);
			if (*end != '\0' && strcmp(p + 1, "+Inf") != 0) {
				tap_diag("bad value: %s", line);
				good = false;
			}
		}
		samples++;
		series[n_series++] = line;
	}
	qsort(series, n_series, sizeof(*series), series_cmp);
	for (i = 1; i < n_series; i++)
		if (series_cmp(&series[i - 1], &series[i]) == 0) {
			tap_diag("series twice: %s", series[i]);
			good = false;
		}
	free(series);
	free(done);
	return good ? samples : -1;
}

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

/* One code twice (signature_expired names each server): the series
 * (zone, code, severity) is written once. */
static void
dup_problem(struct export *ex, const char *domain, time_t now)
{
	static struct probe_result	 r;
	struct probe_policy		 pol;

	probe_policy_defaults(&pol);
	synth_result(&r, domain, SY_HEALTHY, now);
	probe_classify(&r, &pol, now);
	probe_problem_add(&r, PROBE_P_SIGNATURE_EXPIRED, "server a");
	probe_problem_add(&r, PROBE_P_SIGNATURE_EXPIRED, "server b");
	export_update(ex, &r, NULL, now);
}

static void
test_dup(void)
{
	/* run.c owns the webhook taker: one per exporter. */
	struct hostevents	*h_ex;
	struct export		*ex;
	struct export_domain	 one;
	char			 err[200], *text, *p;
	time_t			 now = 1800000000;
	unsigned		 n = 0;

	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	memset(&one, 0, sizeof(one));
	one.name = "dup.example";
	store_policy_defaults(&one.policy);
	one.interval_s = 300;
	one.in_shard = true;
	export_set_domains(ex, &one, 1);
	dup_problem(ex, "dup.example", now);
	text = render(ex, now);
	for (p = text; (p = strstr(p, "dnssecmon_problem_info{zone=\"dup."
	    "example\",code=\"signature_expired\"")) != NULL; p++)
		n++;
	is_int(n, 1, "a code reported twice is one problem_info series");
	ok(check_format(text) > 0, "no series twice in the page");
	free(text);
	export_destroy(ex);
	hostevents_destroy(h_ex);
}

static void
test_small(void)
{
	/* run.c owns the webhook taker: one per exporter. */
	struct hostevents	*h_ex;
	struct export		*ex;
	struct export_domain	 list[4];
	struct store_rotation	 rot;
	char			 err[200], *text, *copy;
	time_t			 now = 1800000000;
	long			 n;
	unsigned		 i;

	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	memset(list, 0, sizeof(list));
	list[0].name = "healthy.example.";
	list[1].name = "RollStart.Example";
	list[2].name = "we\\\"ird\\\\.example";	/* we\"ird\\.example */
	list[3].name = "never.example";
	for (i = 0; i < 4; i++) {
		store_policy_defaults(&list[i].policy);
		list[i].interval_s = 300;
		list[i].in_shard = true;
	}
	ok(export_set_domains(ex, list, 4) == 0, "four domains listed");
	update(ex, "healthy.example", SY_HEALTHY, now, NULL);
	memset(&rot, 0, sizeof(rot));
	rot.id = 7;
	rot.kind = STORE_ROT_KSK;
	snprintf(rot.domain, sizeof(rot.domain), "rollstart.example");
	snprintf(rot.source, sizeof(rot.source), "dns");
	rot.start = now - DAY;
	rot.deadline = now + 6 * DAY;
	rot.registrar_deadline = now + 6 * DAY - 3600;
	rot.new_key_tag = synth_tag(SY_KSK_NEW);
	update(ex, "rollstart.example", SY_ROLLSTART, now, &rot);
	update(ex, "we\\\"ird\\\\.example", SY_BROKEN, now, NULL);
	{
		struct probe_stats	 st;

		memset(&st, 0, sizeof(st));
		st.packets = 40;
		st.tcp_packets = 12;
		st.timeouts = 5;
		st.silent_cut = 2;
		st.silent_addresses = 1;
		st.validations = 9;
		st.validation_timeouts = 1;
		st.resolver_queries = 3;
		export_set_probe_stats(ex, &st);
	}

	text = render(ex, now + 100);
	ok(find_line(text, "dnssecmon_dns_queries_total{transport=\"udp\"} "
	    "28") != NULL && find_line(text, "dnssecmon_dns_queries_total{"
	    "transport=\"tcp\"} 12") != NULL,
	    "the engine's questions, by transport");
	ok(find_line(text, "dnssecmon_dns_timeouts_total 5") != NULL &&
	    find_line(text, "dnssecmon_dns_resends_skipped_total 2") != NULL &&
	    find_line(text, "dnssecmon_dns_silent_addresses 1") != NULL,
	    "timeouts, re-sends skipped, silent addresses");
	ok(find_line(text, "dnssecmon_validations_total 9") != NULL &&
	    find_line(text, "dnssecmon_validation_timeouts_total 1") != NULL &&
	    find_line(text, "dnssecmon_resolver_queries_total 3") != NULL,
	    "validations, their timeouts, resolver questions");
	ok(find_line(text, "dnssecmon_build_info{version=\"" DNSSECMON_VERSION
	    "\"} 1") != NULL, "build info with the version");
	ok(find_line(text, "dnssecmon_domains 4") != NULL,
	    "dnssecmon_domains counts the monitored domains");
	ok(find_line(text, "dnssecmon_domain_severity{zone=\"healthy.example\"}"
	    " 0") != NULL, "healthy: severity 0");
	ok(find_line(text, "dnssecmon_domain_severity{zone="
	    "\"rollstart.example\"} 1") != NULL,
	    "names are normalised (lower case, no final dot); pending: 1");
	ok(find_line(text, "dnssecmon_domain_severity{zone="
	    "\"we\\\\\\\"ird\\\\\\\\.example\"} 2") != NULL,
	    "broken: severity 2, with \\ and \" escaped in the label value");
	ok(find_line(text, "dnssecmon_domain_severity{zone=\"never.example\"} "
	    "3") != NULL, "never checked: severity 3 (unknown)");
	ok(find_line(text, "dnssecmon_rotation_state{zone=\"rollstart.example\","
	    "state=\"rotation_pending\"} 1") != NULL &&
	    find_line(text, "dnssecmon_rotation_state{zone="
	    "\"rollstart.example\",state=\"stable\"} 0") != NULL,
	    "rotation_state: one series per state, 1 for the current");
	ok(find_line(text, "dnssecmon_validation_status{zone="
	    "\"healthy.example\",status=\"secure\"} 1") != NULL,
	    "validation_status secure");
	{
		char want[200];

		snprintf(want, sizeof(want), "dnssecmon_registrar_deadline_"
		    "seconds{zone=\"rollstart.example\"} %d",
		    6 * DAY - 3600 - 100);
		ok(find_line(text, want) != NULL, "registrar_deadline_seconds "
		    "counts from the render time");
		snprintf(want, sizeof(want), "dnssecmon_registrar_deadline_"
		    "timestamp_seconds{zone=\"rollstart.example\"} %lld",
		    (long long)rot.registrar_deadline);
		ok(find_line(text, want) != NULL,
		    "registrar_deadline_timestamp_seconds");
	}
	ok(strstr(text, "dnssecmon_registrar_deadline_seconds{zone="
	    "\"healthy.example\"}") == NULL,
	    "no registrar deadline without a rotation");
	ok(find_line(text, "dnssecmon_rotation_critical_before_seconds{zone="
	    "\"rollstart.example\"} 259200") != NULL,
	    "critical_before beside the deadline");
	ok(find_line(text, "dnssecmon_resolver_rcode{zone="
	    "\"we\\\\\\\"ird\\\\\\\\.example\",resolver=\"192.0.2.99\","
	    "rcode=\"SERVFAIL\"} 1") != NULL, "resolver rcode SERVFAIL");
	ok(find_line(text, "dnssecmon_resolver_ad{zone=\"healthy.example\","
	    "resolver=\"192.0.2.99\"} 1") != NULL, "resolver AD");
	ok(find_line(text, "dnssecmon_resolver_latency_seconds_count{resolver="
	    "\"192.0.2.99\"} 3") != NULL,
	    "resolver latency histogram counts each answer");
	ok(find_line(text, "dnssecmon_probe_duration_seconds_bucket{le="
	    "\"0.25\"} 3") != NULL &&
	    find_line(text, "dnssecmon_probe_duration_seconds_bucket{le="
	    "\"0.1\"} 0") != NULL,
	    "probe duration histogram: cumulative buckets");
	ok(find_line(text, "dnssecmon_ds_to_publish_records{zone="
	    "\"rollstart.example\"} 1") != NULL,
	    "one DS to publish while the rotation is pending");
	ok(find_line(text, "dnssecmon_servers_agree{zone=\"healthy.example\"} "
	    "1") != NULL, "servers agree");
	ok(find_line(text, "dnssecmon_problem_info{zone=\"rollstart.example\","
	    "code=\"rotation_pending\",severity=\"warning\"} 1") != NULL,
	    "problems as info series");
	ok(find_line(text, "dnssecmon_checks_total 3") != NULL,
	    "checks counted");

	copy = strdup(text);
	n = check_format(copy);
	ok(n > 50, "the exposition format holds (%ld samples)", n);
	free(copy);
	free(text);
	export_destroy(ex);
	hostevents_destroy(h_ex);
}

/* The lines a second render may tell differently: the process, and the
 * previous render's time. */
static char *
steady_lines(const char *text)
{
	char		*out = malloc(strlen(text) + 1), *o = out;
	const char	*p = text, *nl;
	size_t		 n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		if (strncmp(p, "process_", 8) != 0 &&
		    strncmp(p, "dnssecmon_metrics_render_seconds ", 33) != 0) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return out;
}

/*
 * The page in slices, as the daemon serves it, is the page in one go:
 * here with slices of no time at all (each stops at the first look at
 * the clock, every 64 domains), the most pieces a page can be cut into.
 */
static void
sliced_same(struct export *ex, time_t now, const char *whole)
{
	struct evbuffer		*b = evbuffer_new();
	struct xmetrics_pos	 pos;
	unsigned		 steps = 0;
	size_t			 n;
	char			*s, *x, *y;

	memset(&pos, 0, sizeof(pos));
	do
		steps++;
	while (!xmetrics_render_step(ex, b, now, &pos, 0) && steps < 1000000);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	x = steady_lines(whole);
	y = steady_lines(s);
	ok(steps > 100, "slices: the page took %u slices", steps);
	ok(strcmp(x, y) == 0, "slices: the same page as in one go (%zu and "
	    "%zu bytes)", strlen(x), strlen(y));
	ok(pos.spent_s > 0 && pos.slice_max_s <= pos.spent_s,
	    "slices: time added up (%.1f ms, longest %.2f ms)",
	    pos.spent_s * 1e3, pos.slice_max_s * 1e3);
	free(x);
	free(y);
	free(s);
	evbuffer_free(b);
}

/*
 * export_set_domains() keeps the first of a name listed twice (its
 * interval) and one entry per name, for names new to the table and for
 * names it already had, and drops what a new list leaves out. 100,000
 * new names go through a sort, not a scan per name (the scan took
 * minutes at start-up): here it is the outcome that is checked.
 */
static void
test_set_twice(void)
{
	struct export		*ex;
	struct hostevents	*h_ex;
	struct export_domain	 list[8];
	const struct xdom	*d;
	char			 err[200];
	size_t			 i;
	const char		*names[8] = { "b.example", "a.example",
	    "B.Example.", "c.example", "a.example", "d.example", "c.example",
	    "e.example" };

	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	memset(list, 0, sizeof(list));
	for (i = 0; i < 8; i++) {
		list[i].name = names[i];
		store_policy_defaults(&list[i].policy);
		list[i].interval_s = 100 + (int)i;
		list[i].in_shard = i != 3;
	}
	ok(export_set_domains(ex, list, 8) == 0, "twice: listed");
	is_int((long)ex->n_dom, 5, "twice: 8 names, 5 of them distinct");
	for (i = 1; i < ex->n_dom; i++)
		ok(strcmp(ex->dom[i - 1]->name, ex->dom[i]->name) < 0,
		    "twice: table sorted, no repeat (%s < %s)",
		    ex->dom[i - 1]->name, ex->dom[i]->name);
	is_int((d = xdom_find(ex, "b.example")) ? d->interval_s : -1, 100,
	    "twice: b.example keeps its first interval, not B.Example.'s");
	is_int((d = xdom_find(ex, "a.example")) ? d->interval_s : -1, 101,
	    "twice: a.example keeps its first interval");
	is_int((d = xdom_find(ex, "c.example")) ? d->interval_s : -1, 103,
	    "twice: c.example keeps its first interval");
	ok((d = xdom_find(ex, "c.example")) != NULL && !d->in_shard,
	    "twice: ... and its first shard flag");
	is_int((long)ex->n_in_shard, 4, "twice: 4 in this shard");

	/* Again, over the table: old names twice, one new twice, one gone. */
	names[0] = "e.example";
	names[1] = "f.example";
	names[2] = "a.example";
	names[3] = "F.EXAMPLE";
	names[4] = "e.example";
	names[5] = "b.example";
	for (i = 0; i < 6; i++) {
		list[i].name = names[i];
		list[i].interval_s = 200 + (int)i;
		list[i].in_shard = true;
	}
	ok(export_set_domains(ex, list, 6) == 0, "twice again: listed");
	is_int((long)ex->n_dom, 4, "twice again: e, f, a, b");
	ok(xdom_find(ex, "c.example") == NULL &&
	    xdom_find(ex, "d.example") == NULL, "twice again: c, d dropped");
	is_int((d = xdom_find(ex, "e.example")) ? d->interval_s : -1, 200,
	    "twice again: e.example (known) takes its first new interval");
	is_int((d = xdom_find(ex, "f.example")) ? d->interval_s : -1, 201,
	    "twice again: f.example (new) takes its first interval");
	for (i = 1; i < ex->n_dom; i++)
		ok(strcmp(ex->dom[i - 1]->name, ex->dom[i]->name) < 0,
		    "twice again: sorted, no repeat (%s < %s)",
		    ex->dom[i - 1]->name, ex->dom[i]->name);
	export_destroy(ex);
	hostevents_destroy(h_ex);
}

static void
test_10k(void)
{
	/* run.c owns the webhook taker: one per exporter. */
	struct hostevents	*h_ex;
	struct export		*ex;
	struct export_domain	*list;
	struct store_rotation	 rot;
	char			 err[200], (*names)[64], *text, *p;
	time_t			 now = 1800000000;
	size_t			 i, len;
	long			 n, zones;

	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	list = calloc(10000, sizeof(*list));
	names = calloc(10000, sizeof(*names));
	for (i = 0; i < 10000; i++) {
		snprintf(names[i], sizeof(names[i]), "d%06zu.bench.example", i);
		list[i].name = names[i];
		store_policy_defaults(&list[i].policy);
		list[i].interval_s = 300;
		list[i].in_shard = true;
	}
	ok(export_set_domains(ex, list, 10000) == 0, "10,000 domains listed");
	for (i = 0; i < 10000; i++) {
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
	text = render(ex, now);
	sliced_same(ex, now, text);
	/* Line by line, not strstr from each match: ASan's strstr measures
	 * the whole rest of the page on every call, which made this loop
	 * quadratic (50 s of the sanitizer run, 16 min on a loaded machine). */
	for (p = text, zones = 0; (p = strchr(p, '\n')) != NULL; p++)
		if (strncmp(p, "\ndnssecmon_domain_severity{zone=\"",
		    sizeof("\ndnssecmon_domain_severity{zone=\"") - 1) == 0)
			zones++;
	is_int(zones, 10000, "10,000 domains: one severity sample each");
	len = strlen(text);
	n = check_format(text);
	ok(n > 10000, "10,000 domains: the exposition format holds (%ld "
	    "samples, %zu bytes)", n, len);
	free(text);
	free(list);
	free(names);
	export_destroy(ex);
	hostevents_destroy(h_ex);
}

/* The checker itself must catch what a scraper would refuse. */
static void
test_checker(void)
{
	static const char *bad[] = {
		"# TYPE a gauge\na{zone=\"x} 1\n",
		"# TYPE a gauge\na{zone=\"x\\q\"} 1\n",
		"# TYPE a gauge\nb 1\n",
		"# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 2\n",
		"# TYPE a gauge\na one\n",
		"# TYPE a gauge\na{z=\"1\"} 1\na{z=\"2\"} 1\na{z=\"1\"} 2\n",
	};
	char		 buf[200];
	unsigned	 i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		ok(check_format(buf) == -1, "format checker refuses bad text "
		    "%u", i);
	}
	snprintf(buf, sizeof(buf), "# HELP a x\n# TYPE a gauge\n"
	    "a{zone=\"q\\\"\"} 1\n");
	ok(check_format(buf) == 1, "format checker takes good text");
}

/*
 * A second server that answers DNSKEY but not SOA: /metrics servers_agree
 * and the servers_disagree problem must say the same thing, whether its
 * keys match the first server's or not.
 */
static void
agree_case(bool same_keys)
{
	/* run.c owns the webhook taker: one per exporter. */
	struct hostevents	*h_ex;
	static struct probe_result	 r;
	struct probe_policy		 pol;
	struct export			*ex;
	struct export_domain		 list[1];
	struct probe_server		*s2;
	char				 err[200], *text;
	const char			*want;
	time_t				 now = 1800000000;
	unsigned			 k;
	bool				 problem;

	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	memset(list, 0, sizeof(list));
	list[0].name = "split.example";
	store_policy_defaults(&list[0].policy);
	list[0].interval_s = 300;
	list[0].in_shard = true;
	export_set_domains(ex, list, 1);
	probe_policy_defaults(&pol);
	synth_result(&r, "split.example", SY_ROLLSTART, now);
	s2 = &r.servers[r.n_servers++];
	*s2 = r.servers[0];
	snprintf(s2->address, sizeof(s2->address), "192.0.2.2");
	s2->has_soa = false;
	s2->authoritative = false;
	for (k = 0; k < r.n_keys; k++) {
		bool serves = same_keys ||
		    r.keys[k].key_tag != synth_tag(SY_KSK_NEW);

		if (serves)
			r.keys[k].servers |= 2;
		if (serves && r.keys[k].signs_dnskey & 1)
			r.keys[k].signs_dnskey |= 2;
	}
	probe_classify(&r, &pol, now);
	export_update(ex, &r, NULL, now);
	text = render(ex, now);
	problem = find_line(text, "dnssecmon_problem_info{zone="
	    "\"split.example\",code=\"servers_disagree\",severity="
	    "\"warning\"} 1") != NULL;
	want = same_keys ? "dnssecmon_servers_agree{zone=\"split.example\"} 1" :
	    "dnssecmon_servers_agree{zone=\"split.example\"} 0";
	ok(find_line(text, want) != NULL, "no SOA from one server, %s keys: %s",
	    same_keys ? "same" : "different", want);
	ok(problem == !same_keys, "no SOA from one server, %s keys: "
	    "servers_disagree %s", same_keys ? "same" : "different",
	    same_keys ? "absent" : "listed");
	ok(r.servers_agree == same_keys && probe_has_problem(&r,
	    PROBE_P_SERVERS_DISAGREE) == !same_keys, "the verdict holds one "
	    "fact: servers_agree %d", (int)r.servers_agree);
	free(text);
	export_destroy(ex);
	hostevents_destroy(h_ex);
}

int
main(void)
{
	agree_case(true);
	agree_case(false);
	test_checker();
	test_dup();
	test_small();
	test_set_twice();
	test_10k();
	return tap_done();
}
