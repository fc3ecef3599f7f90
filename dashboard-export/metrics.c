/*
 * /metrics: the Prometheus text exposition format (version 0.0.4),
 * rendered from the exporter's table only.
 *
 * Cost: one pass over the table per metric family, lines assembled in a
 * stack buffer and handed to the evbuffer in 64 KiB pieces; zone label
 * values are escaped once, when a domain is added, not per scrape. For
 * 10,000 domains that is about 30 lines per domain, ~2 KB, ~3 ms of CPU
 * per 1,000 domains (make bench prints it). A large table is rendered in
 * slices (xmetrics_render_step), so the loop is never held for the whole
 * page: http.c runs one slice per loop turn.
 */
#include <sys/resource.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <event2/buffer.h>

#include "dashboard-export/internal.h"

struct out {
	struct evbuffer	*eb;
	size_t		 n;
	char		 buf[65536];
};

static void
flush(struct out *o)
{
	if (o->n > 0)
		evbuffer_add(o->eb, o->buf, o->n);
	o->n = 0;
}

static void
put(struct out *o, const char *s, size_t len)
{
	if (o->n + len > sizeof(o->buf)) {
		flush(o);
		if (len > sizeof(o->buf)) {
			evbuffer_add(o->eb, s, len);
			return;
		}
	}
	memcpy(o->buf + o->n, s, len);
	o->n += len;
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_int(struct out *o, long long v)
{
	char		 tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	put(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void
put_double(struct out *o, double v)
{
	char	 tmp[40];
	int	 n = snprintf(tmp, sizeof(tmp), "%.9g", v);

	put(o, tmp, (size_t)n);
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	puts_(o, "# HELP ");
	puts_(o, name);
	put(o, " ", 1);
	puts_(o, help);
	puts_(o, "\n# TYPE ");
	puts_(o, name);
	put(o, " ", 1);
	puts_(o, type);
	put(o, "\n", 1);
}

/* name{zone="Z"<extra>} (the caller adds the value and newline). */
static void
zone_series(struct out *o, const char *name, const struct xdom *d,
    const char *extra)
{
	puts_(o, name);
	puts_(o, "{zone=\"");
	puts_(o, d->label);
	put(o, "\"", 1);
	if (extra != NULL)
		puts_(o, extra);
	puts_(o, "} ");
}

static void
zone_int(struct out *o, const char *name, const struct xdom *d,
    long long v)
{
	zone_series(o, name, d, NULL);
	put_int(o, v);
	put(o, "\n", 1);
}

/* name<suffix>{labels} (no braces without labels), then the space
 * before the value. */
static void
suffixed(struct out *o, const char *name, const char *suffix,
    const char *labels)
{
	puts_(o, name);
	puts_(o, suffix);
	if (labels != NULL) {
		put(o, "{", 1);
		puts_(o, labels);
		put(o, "}", 1);
	}
	put(o, " ", 1);
}

static void
histogram(struct out *o, const char *name, const char *labels,
    const struct xhist *h, const double *bounds, unsigned n)
{
	char		 le[32];
	unsigned	 i;

	for (i = 0; i <= n; i++) {
		puts_(o, name);
		puts_(o, "_bucket{");
		if (labels != NULL) {
			puts_(o, labels);
			put(o, ",", 1);
		}
		if (i < n)
			snprintf(le, sizeof(le), "le=\"%g\"} ", bounds[i]);
		else
			snprintf(le, sizeof(le), "le=\"+Inf\"} ");
		puts_(o, le);
		put_int(o, (long long)h->bucket[i]);
		put(o, "\n", 1);
	}
	suffixed(o, name, "_sum", labels);
	put_double(o, h->sum);
	put(o, "\n", 1);
	suffixed(o, name, "_count", labels);
	put_int(o, (long long)h->count);
	put(o, "\n", 1);
}

static bool
waiting_for_ds(const struct xdom *d)
{
	return d->rot != NULL && d->rot->kind == STORE_ROT_KSK &&
	    d->rot->ds_updated_at == 0 && d->rot->registrar_deadline != 0;
}


/*
 * A metric family of the page. Exactly one way to its samples:
 *   scalar: one unlabelled sample, "name value";
 *   value:  one sample per zone in shard that has one (false: none);
 *   zone:   any number of samples per zone in shard;
 *   samples: whatever the family needs (histograms, fixed labels).
 */
struct metric_family {
	const char	*name;
	const char	*type;
	const char	*help;
	long long	(*scalar)(struct export *);
	bool		(*value)(const struct xdom *, time_t now,
			    long long *v);
	void		(*zone)(struct out *, struct export *,
			    const char *name, const struct xdom *);
	void		(*samples)(struct out *, struct export *,
			    const char *name);
};

/* ----------------------------------------------- unlabelled samples */

static long long
start_time(struct export *ex)
{
	return (long long)ex->started;
}

static long long
domains_in_shard(struct export *ex)
{
	return (long long)ex->n_in_shard;
}

static long long
ready(struct export *ex)
{
	return xapi_ready(ex, NULL) ? 1 : 0;
}

static long long
intercepted(struct export *ex)
{
	return ex->intercepted ? 1 : 0;
}

static long long
checks_total(struct export *ex)
{
	return (long long)ex->checks_total;
}

/* The engine's counters (export_set_probe_stats), one accessor each. */
#define PROBE_STAT(fn, field)						\
static long long							\
fn(struct export *ex)							\
{									\
	return (long long)ex->probe_stats.field;			\
}
PROBE_STAT(dns_timeouts, timeouts)
PROBE_STAT(dns_resends_skipped, silent_cut)
PROBE_STAT(dns_silent_addresses, silent_addresses)
PROBE_STAT(validations, validations)
PROBE_STAT(validation_timeouts, validation_timeouts)
PROBE_STAT(resolver_queries, resolver_queries)
#undef PROBE_STAT

/* Our questions to authoritative servers, by transport. */
static void
dns_queries(struct out *o, struct export *ex, const char *name)
{
	const struct probe_stats *st = &ex->probe_stats;

	puts_(o, name);
	puts_(o, "{transport=\"udp\"} ");
	put_int(o, (long long)(st->packets - st->tcp_packets));
	put(o, "\n", 1);
	puts_(o, name);
	puts_(o, "{transport=\"tcp\"} ");
	put_int(o, (long long)st->tcp_packets);
	put(o, "\n", 1);
}

/* One series per handler and code that has answered (no zero series:
 * 7 handlers x 12 codes would be mostly empty). */
static void
http_requests(struct out *o, struct export *ex, const char *name)
{
	char		 code[8];
	unsigned	 h, k;

	for (h = 0; h < XH_NHANDLERS; h++)
		for (k = 0; k <= XHTTP_NCODES; k++) {
			if (ex->http_answers[h][k] == 0)
				continue;
			if (k < XHTTP_NCODES)
				snprintf(code, sizeof(code), "%d",
				    xhttp_codes[k]);
			else
				snprintf(code, sizeof(code), "other");
			puts_(o, name);
			puts_(o, "{handler=\"");
			puts_(o, xhttp_handlers[h]);
			puts_(o, "\",code=\"");
			puts_(o, code);
			puts_(o, "\"} ");
			put_int(o, (long long)ex->http_answers[h][k]);
			put(o, "\n", 1);
		}
}

/*
 * The standard process_* families (the Prometheus client libraries'
 * names), from getrusage(2), getrlimit(2) and /proc/self.
 */
static void
one_double(struct out *o, const char *name, double v)
{
	puts_(o, name);
	put(o, " ", 1);
	put_double(o, v);
	put(o, "\n", 1);
}

static void
process_cpu(struct out *o, struct export *ex, const char *name)
{
	struct rusage	 ru;

	(void)ex;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		one_double(o, name, (double)ru.ru_utime.tv_sec +
		    ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		    ru.ru_stime.tv_usec / 1e6);
}

/* statm: size resident ... in pages. */
static bool
statm(unsigned long long *vsz, unsigned long long *rss)
{
	FILE	*f = fopen("/proc/self/statm", "r");
	bool	 ok;

	if (f == NULL)
		return false;
	ok = fscanf(f, "%llu %llu", vsz, rss) == 2;
	fclose(f);
	return ok;
}

static void
process_rss(struct out *o, struct export *ex, const char *name)
{
	unsigned long long	 vsz, rss;

	(void)ex;
	if (statm(&vsz, &rss))
		one_double(o, name, (double)rss * (double)sysconf(_SC_PAGESIZE));
}

static void
process_vsz(struct out *o, struct export *ex, const char *name)
{
	unsigned long long	 vsz, rss;

	(void)ex;
	if (statm(&vsz, &rss))
		one_double(o, name, (double)vsz * (double)sysconf(_SC_PAGESIZE));
}

static void
process_open_fds(struct out *o, struct export *ex, const char *name)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	long long	 n = 0;

	(void)ex;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	one_double(o, name, (double)(n - 1));	/* not the one we read */
}

static void
process_max_fds(struct out *o, struct export *ex, const char *name)
{
	struct rlimit	 rl;

	(void)ex;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		one_double(o, name, rl.rlim_cur == RLIM_INFINITY ? 1e18 :
		    (double)rl.rlim_cur);
}

static void
process_start(struct out *o, struct export *ex, const char *name)
{
	one_double(o, name, (double)ex->started);
}

static long long
http_connections(struct export *ex)
{
	return (long long)xhttp_open(ex);
}

static void
http_closed(struct out *o, struct export *ex, const char *name)
{
	static const char *reason[XCLOSE_NREASONS] = {
		"per_client", "reserve", "request_timeout", "max_age"
	};
	unsigned	 k;

	for (k = 0; k < XCLOSE_NREASONS; k++) {
		puts_(o, name);
		puts_(o, "{reason=\"");
		puts_(o, reason[k]);
		puts_(o, "\"} ");
		put_int(o, (long long)ex->http_closed[k]);
		put(o, "\n", 1);
	}
}

static void
build_info(struct out *o, struct export *ex, const char *name)
{
	(void)ex;
	puts_(o, name);
	puts_(o, "{version=\"" DNSSECMON_VERSION "\"} 1\n");
}

static void
probe_duration(struct out *o, struct export *ex, const char *name)
{
	histogram(o, name, NULL, &ex->probe_duration, xprobe_bounds,
	    XPROBE_BUCKETS);
}

static void
resolver_latency(struct out *o, struct export *ex, const char *name)
{
	char		 labels[PROBE_ADDR_MAX * 2 + 160];
	unsigned	 k;

	for (k = 0; k < ex->n_resolvers; k++) {
		snprintf(labels, sizeof(labels), "resolver=\"%s\"",
		    ex->resolver_label[k]);
		histogram(o, name, labels, &ex->resolver_latency[k],
		    xlatency_bounds, XLATENCY_BUCKETS);
	}
}

static void
webhook_events(struct out *o, struct export *ex, const char *name)
{
	unsigned	 k;

	for (k = 0; k < HOSTEVENTS_NRESULTS; k++) {
		puts_(o, name);
		puts_(o, "{source=\"dnsimple\",result=\"");
		puts_(o, hostevents_result_name(k));
		puts_(o, "\"} ");
		put_int(o, (long long)hostevents_count(ex->hostevents, k));
		put(o, "\n", 1);
	}
}

/* One series per catalog zone; with have, only once transferred. */
static void
catalog_series(struct out *o, struct export *ex, const char *name,
    int which)
{
	const struct xcat	*c;
	size_t			 i;
	long long		 v;

	for (i = 0; i < ex->n_cats; i++) {
		c = &ex->cats[i];
		switch (which) {
		case 0: v = (long long)c->members; break;
		case 1: v = (long long)c->excess; break;
		case 2: v = (long long)c->ignored; break;
		case 3: if (!c->have) continue;
			v = (long long)c->serial; break;
		case 4: v = c->ok ? 1 : 0; break;
		default: if (c->last_success == 0) continue;
			v = (long long)c->last_success; break;
		}
		puts_(o, name);
		puts_(o, "{catalog=\"");
		puts_(o, c->label);
		puts_(o, "\"} ");
		put_int(o, v);
		put(o, "\n", 1);
	}
}

static void
catalog_members(struct out *o, struct export *ex, const char *name)
{
	catalog_series(o, ex, name, 0);
}

static void
catalog_excess(struct out *o, struct export *ex, const char *name)
{
	catalog_series(o, ex, name, 1);
}

static void
catalog_ignored(struct out *o, struct export *ex, const char *name)
{
	catalog_series(o, ex, name, 2);
}

static void
catalog_serial(struct out *o, struct export *ex, const char *name)
{
	catalog_series(o, ex, name, 3);
}

static void
catalog_ok(struct out *o, struct export *ex, const char *name)
{
	catalog_series(o, ex, name, 4);
}

static void
catalog_success(struct out *o, struct export *ex, const char *name)
{
	catalog_series(o, ex, name, 5);
}

/* The previous render's time: this one is still running. */
static void
render_seconds(struct out *o, struct export *ex, const char *name)
{
	puts_(o, name);
	put(o, " ", 1);
	put_double(o, ex->last_render_s);
	put(o, "\n", 1);
}

/* ------------------------------------------- one sample per zone */

static bool
probe_errors(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = (long long)d->errors;
	return true;
}

static bool
check_interval(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->interval_s;
	return true;
}

static bool
last_check(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = (long long)d->last_check;
	return d->known;
}

static bool
severity(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = xseverity_metric(xdom_severity(d));
	return true;
}

static bool
ds_records(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->n_ds;
	return d->checked;
}

static bool
dnskey_records(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->n_dnskey;
	return d->checked;
}

static bool
ds_deprecated_digest(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->n_ds_deprecated;
	return d->checked;
}

static bool
dnskey_deprecated_algorithm(const struct xdom *d, time_t now, long long *v)
{
	unsigned	 i;

	(void)now;
	for (*v = 0, i = 0; i < d->n_keys; i++)
		*v += d->keys[i].deprecated;
	return d->checked;
}

/* Absent for a zone without an RSA key. */
static bool
rsa_key_min_bits(const struct xdom *d, time_t now, long long *v)
{
	unsigned	 i;

	(void)now;
	for (*v = -1, i = 0; i < d->n_keys; i++)
		if (d->keys[i].rsa_bits >= 0 &&
		    (*v < 0 || d->keys[i].rsa_bits < *v))
			*v = d->keys[i].rsa_bits;
	return d->checked && *v >= 0;
}

static bool
dnskey_ttl(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->dnskey_ttl;
	return d->checked && d->dnskey_ttl > 0;
}

/* Absent unless the zone is signed and has no DS. */
static bool
ds_bootstrap_ready(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->bootstrap;
	return d->checked && d->bootstrap >= 0;
}

static bool
ds_to_publish(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->n_publish;
	return d->checked;
}

static bool
rrsig_expiry(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = (long long)d->sig_expiry;
	return d->checked && d->sig_expiry != 0;
}

static bool
rotation_start(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	if (d->rot == NULL)
		return false;
	*v = (long long)d->rot->start;
	return true;
}

static bool
registrar_deadline(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	if (!waiting_for_ds(d))
		return false;
	*v = (long long)d->rot->registrar_deadline;
	return true;
}

static bool
registrar_seconds_left(const struct xdom *d, time_t now, long long *v)
{
	if (!waiting_for_ds(d))
		return false;
	*v = (long long)(d->rot->registrar_deadline - now);
	return true;
}

static bool
critical_before(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->policy.critical_before_s;
	return waiting_for_ds(d);
}

/* 1: the DS to publish is only needed if its key is the new one. */
static bool
rotation_ambiguous(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->rotation_ambiguous;
	return d->checked;
}

/* The classifier's fact (it also states the problems that break it). */
static bool
servers_agree(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->servers_agree;
	return d->checked;
}

/* Providers signing the zone on their own (RFC 8901); 1 for one signer. */
static bool
signers(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->multi_signer == PROBE_MULTI_NONE ? 1 : d->n_providers;
	return d->checked;
}

static bool
cds_pickup(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = (long long)d->cds_pickup;
	return d->checked && d->cds_pickup != 0;
}

static bool
cds_consistent(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->cds_consistent;
	return d->checked;
}

static bool
parent_servers_agree(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->parents_agree;
	return d->checked;
}

/* The rotation record's safe moment first, else this check's own. */
static bool
safe_removal(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = (long long)(store_rotation_safe_removal(d->rot) ?
	    store_rotation_safe_removal(d->rot) : d->safe_removal_at);
	return d->checked && *v != 0;
}

static bool
host_ds_mismatch(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = xdom_host_mismatch(d);
	if (*v)
		return true;
	return d->checked && d->host != NULL && d->host->digest_len != 0;
}

/* ----------------------------------------- several samples per zone */

static const char *
state_label(unsigned s)
{
	return probe_state_name((enum probe_state)s);
}

static const char *
validation_label(unsigned s)
{
	return probe_validation_name((enum probe_validation)s);
}

/* One series per value in [lo, hi], 1 for cur and 0 for the others; with
 * http.metrics_enum_zeros off only the 1, which saves 9 series a zone
 * at the cost of "absent" instead of "0" in queries. */
static void
one_hot(struct out *o, const char *name, const struct xdom *d,
    const char *label, unsigned lo, unsigned hi, unsigned cur,
    const char *(*value_name)(unsigned), bool zeros)
{
	char		 extra[PROBE_ADDR_MAX * 2 + 160];
	unsigned	 s;

	for (s = lo; s <= hi; s++) {
		if (!zeros && s != cur)
			continue;
		snprintf(extra, sizeof(extra), ",%s=\"%s\"", label,
		    value_name(s));
		zone_series(o, name, d, extra);
		puts_(o, cur == s ? "1\n" : "0\n");
	}
}

static void
rotation_state(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	one_hot(o, name, d, "state", PROBE_STATE_UNKNOWN,
	    PROBE_STATE_INSECURE, d->known ? d->state : PROBE_STATE_UNKNOWN,
	    state_label, !ex->no_enum_zeros);
}

static void
validation_status(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	one_hot(o, name, d, "status", PROBE_VAL_INDETERMINATE,
	    PROBE_VAL_BOGUS, d->known ? d->validation :
	    PROBE_VAL_INDETERMINATE, validation_label, !ex->no_enum_zeros);
}

static void
resolver_ad(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	char		 extra[PROBE_ADDR_MAX * 2 + 160];
	unsigned	 k;

	for (k = 0; k < d->n_resolvers; k++) {
		const struct xresolver *v = &d->resolvers[k];

		if (v->rcode < 0)
			continue;
		snprintf(extra, sizeof(extra), ",resolver=\"%s\"",
		    ex->resolver_label[v->idx]);
		zone_series(o, name, d, extra);
		puts_(o, v->ad ? "1\n" : "0\n");
	}
}

static void
resolver_rcode(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	char		 extra[PROBE_ADDR_MAX * 2 + 160];
	unsigned	 k;

	for (k = 0; k < d->n_resolvers; k++) {
		const struct xresolver *v = &d->resolvers[k];
		const char *rc = probe_rcode_name(v->rcode);

		snprintf(extra, sizeof(extra), ",resolver=\"%s\",rcode=\"%s\"",
		    ex->resolver_label[v->idx], rc ? rc : "none");
		zone_series(o, name, d, extra);
		puts_(o, "1\n");
	}
}

/* name{zone="Z",server="S"} for server k; false when it cannot be
 * escaped (out of memory), and then nothing is written. */
static bool
server_series(struct out *o, const char *name, const struct xdom *d,
    unsigned k)
{
	char	 extra[PROBE_ADDR_MAX * 2 + 160], *lab;

	if ((lab = xlabel_escape(d->servers[k].address)) == NULL)
		return false;
	snprintf(extra, sizeof(extra), ",server=\"%s\"", lab);
	free(lab);
	zone_series(o, name, d, extra);
	return true;
}

static void
server_answering(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	unsigned	 k;

	(void)ex;
	for (k = 0; k < d->n_servers; k++)
		if (server_series(o, name, d, k))
			puts_(o, d->servers[k].answered ? "1\n" : "0\n");
}

static void
server_soa_serial(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	unsigned	 k;

	(void)ex;
	for (k = 0; k < d->n_servers; k++) {
		if (!d->servers[k].has_soa || !server_series(o, name, d, k))
			continue;
		put_int(o, d->servers[k].serial);
		put(o, "\n", 1);
	}
}

/* Absent where the proofs were not judged (unsigned zone, no answer). */
static void
server_denial_valid(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	unsigned	 k;

	(void)ex;
	for (k = 0; k < d->n_servers; k++) {
		if (d->servers[k].denial_valid < 0 ||
		    !server_series(o, name, d, k))
			continue;
		puts_(o, d->servers[k].denial_valid ? "1\n" : "0\n");
	}
}

static bool
nsec3_iterations(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->nsec3_iterations;
	return d->checked && d->nsec3;
}

static bool
alg_rollover_stage(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = d->alg_stage;
	return d->checked && d->alg_stage != PROBE_ALG_NONE;
}

static bool
alg_rollover_deadline(const struct xdom *d, time_t now, long long *v)
{
	(void)now;
	*v = (long long)d->alg_deadline;
	return d->checked && d->alg_stage != PROBE_ALG_NONE &&
	    d->alg_deadline != 0;
}

static void
server_dnskey_bytes(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	unsigned	 k;

	(void)ex;
	for (k = 0; k < d->n_servers; k++) {
		if (d->servers[k].dnskey_bytes == 0 ||
		    !server_series(o, name, d, k))
			continue;
		put_int(o, d->servers[k].dnskey_bytes);
		put(o, "\n", 1);
	}
}

static void
server_tcp(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	unsigned	 k;

	(void)ex;
	for (k = 0; k < d->n_servers; k++)
		if (d->servers[k].tcp >= 0 && server_series(o, name, d, k))
			puts_(o, d->servers[k].tcp ? "1\n" : "0\n");
}

static void
problem_info(struct out *o, struct export *ex, const char *name,
    const struct xdom *d)
{
	char		 extra[PROBE_ADDR_MAX * 2 + 160];
	unsigned	 k;

	(void)ex;
	for (k = 0; k < d->n_problems; k++) {
		unsigned j;

		/* A code may come once per server (signature_expired): the
		 * series is (zone, code, severity), and may appear once. */
		for (j = 0; j < k; j++)
			if (d->problems[j].severity == d->problems[k].severity &&
			    strcmp(d->problems[j].code, d->problems[k].code) ==
			    0)
				break;
		if (j < k)
			continue;
		snprintf(extra, sizeof(extra), ",code=\"%s\",severity=\"%s\"",
		    d->problems[k].code, probe_problem_severity_name(
		    (enum probe_severity)d->problems[k].severity));
		zone_series(o, name, d, extra);
		puts_(o, "1\n");
	}
}

/* ------------------------------------------------------ the page */

/* In the order of the page; names, types and help are the public
 * interface (dashboards, rules): change them only on purpose. */
static const struct metric_family families[] = {
	{ "dnssecmon_build_info", "gauge",
	  "A constant 1 labelled with the version of dnssecmon.",
	  .samples = build_info },
	{ "dnssecmon_start_time_seconds", "gauge",
	  "When the daemon started, in unix seconds.",
	  .scalar = start_time },
	{ "dnssecmon_domains", "gauge",
	  "Domains this daemon (this shard) monitors.",
	  .scalar = domains_in_shard },
	{ "dnssecmon_catalog_members", "gauge",
	  "Member zones of the catalog zone (RFC 9432) monitored, over all "
	  "shards.",
	  .samples = catalog_members },
	{ "dnssecmon_catalog_members_excess", "gauge",
	  "Member zones of the catalog past its max_members: not monitored.",
	  .samples = catalog_excess },
	{ "dnssecmon_catalog_members_ignored", "gauge",
	  "Member nodes of the catalog ignored as broken (several PTR, a "
	  "zone twice, a name that needs escapes).",
	  .samples = catalog_ignored },
	{ "dnssecmon_catalog_serial", "gauge",
	  "SOA serial of the catalog's last transfer.",
	  .samples = catalog_serial },
	{ "dnssecmon_catalog_transfer_ok", "gauge",
	  "1 when the last poll of the catalog (SOA, and AXFR when the serial "
	  "moved) worked, 0 when it failed (the members of the last transfer "
	  "stay monitored).",
	  .samples = catalog_ok },
	{ "dnssecmon_catalog_last_success_timestamp_seconds", "gauge",
	  "When a poll of the catalog last worked.",
	  .samples = catalog_success },
	{ "dnssecmon_ready", "gauge",
	  "1 once every domain has been checked since the start (/readyz).",
	  .scalar = ready },
	{ "dnssecmon_network_intercepts_dns", "gauge",
	  "1 while the newest check found the monitor's network intercepting "
	  "DNS (the root does not answer as the root): no verdict holds.",
	  .scalar = intercepted },
	{ "dnssecmon_checks_total", "counter",
	  "Domain checks finished since the start.",
	  .scalar = checks_total },
	{ "dnssecmon_dns_queries_total", "counter",
	  "Questions the checks sent to name servers (parents' and the "
	  "zones' own; re-sends and TCP retries each count), by transport.",
	  .samples = dns_queries },
	{ "dnssecmon_dns_timeouts_total", "counter",
	  "Questions to name servers that got no answer in the end.",
	  .scalar = dns_timeouts },
	{ "dnssecmon_dns_resends_skipped_total", "counter",
	  "Of those, questions sent once instead of with their re-sends: "
	  "their server address had left its last 8 questions unanswered.",
	  .scalar = dns_resends_skipped },
	{ "dnssecmon_dns_silent_addresses", "gauge",
	  "Name server addresses that left their last 8 questions "
	  "unanswered: each question to them is sent once until they answer.",
	  .scalar = dns_silent_addresses },
	{ "dnssecmon_validations_total", "counter",
	  "Questions to the in-process validator (libunbound).",
	  .scalar = validations },
	{ "dnssecmon_validation_timeouts_total", "counter",
	  "Of those, the ones cut short without a verdict "
	  "(validation_timeout).",
	  .scalar = validation_timeouts },
	{ "dnssecmon_resolver_queries_total", "counter",
	  "Questions to the configured validating resolvers.",
	  .scalar = resolver_queries },
	{ "dnssecmon_probe_duration_seconds", "histogram",
	  "How long one domain check took.",
	  .samples = probe_duration },
	{ "dnssecmon_probe_errors_total", "counter",
	  "Checks of the zone since the start that observed nothing "
	  "(state unknown: parent or every server unreachable).",
	  .value = probe_errors },
	{ "dnssecmon_check_interval_seconds", "gauge",
	  "How often the zone is checked.",
	  .value = check_interval },
	{ "dnssecmon_last_check_timestamp_seconds", "gauge",
	  "When the zone was last checked (from history until the first "
	  "check of this run).",
	  .value = last_check },
	{ "dnssecmon_domain_severity", "gauge",
	  "Severity of the zone: 0 ok, 1 warning, 2 critical, 3 unknown.",
	  .value = severity },
	{ "dnssecmon_rotation_state", "gauge",
	  "Key rotation state of the zone, one series per state, 1 for "
	  "the current one.",
	  .zone = rotation_state },
	{ "dnssecmon_validation_status", "gauge",
	  "What an in-process validator concludes for the zone, one "
	  "series per status, 1 for the current one.",
	  .zone = validation_status },
	{ "dnssecmon_ds_records", "gauge",
	  "DS records for the zone at its parent.",
	  .value = ds_records },
	{ "dnssecmon_dnskey_records", "gauge",
	  "Distinct DNSKEY records published by the zone's servers.",
	  .value = dnskey_records },
	{ "dnssecmon_ds_deprecated_digest_records", "gauge",
	  "DS records for the zone at its parent with a deprecated digest "
	  "(SHA-1, GOST).",
	  .value = ds_deprecated_digest },
	{ "dnssecmon_dnskey_deprecated_algorithm_records", "gauge",
	  "DNSKEY records of an algorithm that must no longer sign "
	  "(1, 3, 5, 6, 7, 12).",
	  .value = dnskey_deprecated_algorithm },
	{ "dnssecmon_rsa_key_modulus_size", "gauge",
	  "Modulus size, in bits, of the zone's smallest RSA key (absent "
	  "without one).",
	  .value = rsa_key_min_bits },
	{ "dnssecmon_dnskey_ttl_seconds", "gauge",
	  "The largest DNSKEY TTL the zone's servers serve.",
	  .value = dnskey_ttl },
	{ "dnssecmon_ds_bootstrap_ready", "gauge",
	  "1 when a signed zone without DS publishes CDS and a validated "
	  "RFC 9615 signal under every name server, 0 when not (absent "
	  "otherwise).",
	  .value = ds_bootstrap_ready },
	{ "dnssecmon_ds_to_publish_records", "gauge",
	  "DS records to add at the registrar for keys that sign the "
	  "DNSKEY RRset without one (SHA-256, and SHA-384 beside it for "
	  "algorithms 14 and 16), or whose only DS is SHA-1.",
	  .value = ds_to_publish },
	{ "dnssecmon_rrsig_expiry_timestamp_seconds", "gauge",
	  "Earliest expiry of the RRSIGs over the zone's DNSKEY and SOA "
	  "RRsets, on any of its servers.",
	  .value = rrsig_expiry },
	{ "dnssecmon_rotation_start_timestamp_seconds", "gauge",
	  "Start of the zone's open KSK rotation (absent when none).",
	  .value = rotation_start },
	{ "dnssecmon_registrar_deadline_timestamp_seconds", "gauge",
	  "When the new DS must be at the registrar for the open KSK "
	  "rotation (absent when none waits for its DS).",
	  .value = registrar_deadline },
	{ "dnssecmon_registrar_deadline_seconds", "gauge",
	  "Seconds left to the registrar deadline, negative when past "
	  "(absent when no rotation waits for its DS).",
	  .value = registrar_seconds_left },
	{ "dnssecmon_old_key_safe_removal_timestamp_seconds", "gauge",
	  "Earliest safe moment to withdraw the old KSK: when the new DS "
	  "was seen on every parent server, plus the DS TTL (absent until "
	  "then).",
	  .value = safe_removal },
	{ "dnssecmon_parent_servers_agree", "gauge",
	  "1 when every answering server of the parent zone serves the "
	  "same DS set (0: a DS change has not reached them all).",
	  .value = parent_servers_agree },
	{ "dnssecmon_rotation_critical_before_seconds", "gauge",
	  "The zone's critical_before: inside this much of the registrar "
	  "deadline the rotation is critical (with the deadline only).",
	  .value = critical_before },
	{ "dnssecmon_resolver_ad", "gauge",
	  "1 when the validating resolver answered with the AD bit set.",
	  .zone = resolver_ad },
	{ "dnssecmon_resolver_rcode", "gauge",
	  "1, labelled with the rcode the validating resolver answered "
	  "(rcode=\"none\": no answer).",
	  .zone = resolver_rcode },
	{ "dnssecmon_resolver_latency_seconds", "histogram",
	  "How long validating resolvers took to answer.",
	  .samples = resolver_latency },
	{ "dnssecmon_rotation_ambiguous", "gauge",
	  "1 when a signing key has no DS and neither CDS nor history tells "
	  "whether it is new or retiring (the DS to publish is conditional).",
	  .value = rotation_ambiguous },
	{ "dnssecmon_servers_agree", "gauge",
	  "1 when every answering server of the zone has the same SOA "
	  "serial and the same DNSKEY set.",
	  .value = servers_agree },
	{ "dnssecmon_signers", "gauge",
	  "Providers that sign the zone with their own keys (RFC 8901 "
	  "multi-signer); 1 for a single signer.",
	  .value = signers },
	{ "dnssecmon_cds_consistent", "gauge",
	  "1 when every server answered CDS and CDNSKEY over TCP with the "
	  "same records, as registries that read CDS require.",
	  .value = cds_consistent },
	{ "dnssecmon_cds_pickup_timestamp_seconds", "gauge",
	  "When a parent that applies CDS itself should have added the new "
	  "key's DS (absent unless such a rotation waits).",
	  .value = cds_pickup },
	{ "dnssecmon_server_answering", "gauge",
	  "1 when this authoritative server address answered.",
	  .zone = server_answering },
	{ "dnssecmon_server_soa_serial", "gauge",
	  "SOA serial this authoritative server address serves.",
	  .zone = server_soa_serial },
	{ "dnssecmon_server_dnskey_answer_bytes", "gauge",
	  "Size of the DNSKEY answer of this authoritative server address "
	  "(over TCP when asked; over 1232 it is truncated over UDP).",
	  .zone = server_dnskey_bytes },
	{ "dnssecmon_server_tcp_answering", "gauge",
	  "1 when this authoritative server address answered DNSKEY over "
	  "TCP, 0 when it failed (absent on checks that did not ask, see "
	  "tcp_every).",
	  .zone = server_tcp },
	{ "dnssecmon_server_denial_valid", "gauge",
	  "1 when this authoritative server address proves that a random "
	  "name and a type at the apex do not exist (NSEC/NSEC3 and their "
	  "RRSIGs validate), 0 when a proof is bogus.",
	  .zone = server_denial_valid },
	{ "dnssecmon_nsec3_iterations", "gauge",
	  "NSEC3 extra iterations the zone's servers use (the most over "
	  "them; absent for NSEC). RFC 9276: 0.",
	  .value = nsec3_iterations },
	{ "dnssecmon_algorithm_rollover_stage", "gauge",
	  "Stage of the zone's algorithm rollover (RFC 6781 4.1.4): 1 new "
	  "signatures, 2 new keys, 3 DS swapped, 4 old keys removed, 5 old "
	  "DS left over, 6 unclear; absent when one algorithm.",
	  .value = alg_rollover_stage },
	{ "dnssecmon_algorithm_rollover_stage_deadline_timestamp_seconds",
	  "gauge",
	  "By when the algorithm rollover's current stage should have moved "
	  "on (the stage's start plus rotation_window); absent without a "
	  "rollover.",
	  .value = alg_rollover_deadline },
	{ "dnssecmon_problem_info", "gauge",
	  "1 for each problem the last check of the zone found, labelled "
	  "with its code and severity.",
	  .zone = problem_info },
	{ "dnssecmon_host_ds_mismatch", "gauge",
	  "1 when the DS in the DNS host's last rotation event matches no "
	  "key the zone publishes (absent without a host event).",
	  .value = host_ds_mismatch },
	{ "dnssecmon_webhook_events_total", "counter",
	  "DNS host webhook deliveries by outcome.",
	  .samples = webhook_events },
	{ "dnssecmon_http_requests_total", "counter",
	  "HTTP requests answered since the start, by handler (metrics, "
	  "status, healthz, readyz, api, hook, other) and status code.",
	  .samples = http_requests },
	{ "dnssecmon_http_connections", "gauge",
	  "HTTP connections open.",
	  .scalar = http_connections },
	{ "dnssecmon_http_connections_closed_total", "counter",
	  "HTTP connections the server closed itself: refused at once "
	  "(per_client, reserve), no whole request in time "
	  "(request_timeout), too old (max_age).",
	  .samples = http_closed },
	{ "dnssecmon_metrics_render_seconds", "gauge",
	  "How long rendering the previous /metrics page took.",
	  .samples = render_seconds },
	{ "process_cpu_seconds_total", "counter",
	  "Total user and system CPU time spent in seconds.",
	  .samples = process_cpu },
	{ "process_resident_memory_bytes", "gauge",
	  "Resident memory size in bytes.",
	  .samples = process_rss },
	{ "process_virtual_memory_bytes", "gauge",
	  "Virtual memory size in bytes.",
	  .samples = process_vsz },
	{ "process_open_fds", "gauge",
	  "Number of open file descriptors.",
	  .samples = process_open_fds },
	{ "process_max_fds", "gauge",
	  "Maximum number of open file descriptors.",
	  .samples = process_max_fds },
	{ "process_start_time_seconds", "gauge",
	  "Start time of the process since unix epoch in seconds.",
	  .samples = process_start },
};

static double
mono_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Domains between two looks at the clock: ~0.1 ms of rendering. */
#define ZONES_PER_LOOK	64

/*
 * A per-zone family: one walk over the table, zones in shard only, from
 * p->dom. Stops between two domains once the clock passes `until`
 * (false), else true with the family done.
 */
static bool
render_zones(struct out *o, struct export *ex,
    const struct metric_family *f, time_t now, struct xmetrics_pos *p,
    double until)
{
	const struct xdom	*d;
	long long		 v;
	size_t			 i;

	for (i = p->dom; i < ex->n_dom; i++) {
		if (i > p->dom && i % ZONES_PER_LOOK == 0 && mono_s() > until) {
			p->dom = i;
			return false;
		}
		if (!(d = ex->dom[i])->in_shard)
			continue;
		if (f->zone != NULL)
			f->zone(o, ex, f->name, d);
		else if (f->value(d, now, &v))
			zone_int(o, f->name, d, v);
	}
	p->dom = 0;
	return true;
}

static bool
render_family(struct out *o, struct export *ex,
    const struct metric_family *f, time_t now, struct xmetrics_pos *p,
    double until)
{
	if (!p->started)
		family(o, f->name, f->type, f->help);
	p->started = true;
	if (f->scalar != NULL) {
		puts_(o, f->name);
		put(o, " ", 1);
		put_int(o, f->scalar(ex));
		put(o, "\n", 1);
	} else if (f->samples != NULL)
		f->samples(o, ex, f->name);
	else if (!render_zones(o, ex, f, now, p, until))
		return false;
	p->started = false;
	return true;
}

bool
xmetrics_render_step(struct export *ex, struct evbuffer *eb, time_t now,
    struct xmetrics_pos *p, double slice_s)
{
	static struct out	 o;	/* one slice at a time: one loop */
	double			 t0 = mono_s(), took;
	bool			 done = false;

	o.eb = eb;
	o.n = 0;
	for (;;) {
		if (p->family == sizeof(families) / sizeof(*families)) {
			done = true;
			break;
		}
		if (!render_family(&o, ex, &families[p->family], now, p,
		    t0 + slice_s))
			break;
		p->family++;
	}
	flush(&o);

	took = mono_s() - t0;
	p->spent_s += took;
	if (took > p->slice_max_s)
		p->slice_max_s = took;
	if (done)
		ex->last_render_s = p->spent_s;
	return done;
}

void
xmetrics_render(struct export *ex, struct evbuffer *eb, time_t now)
{
	struct xmetrics_pos	 p;

	memset(&p, 0, sizeof(p));
	(void)xmetrics_render_step(ex, eb, now, &p, 1e9);
}
