/*
 * /metrics: the Prometheus text exposition format (version 0.0.4),
 * rendered from the exporter's table only.
 *
 * Cost: one pass over the table per metric family, lines assembled in a
 * stack buffer and handed to the evbuffer in 64 KiB pieces; zone label
 * values are escaped once, when a domain is added, not per scrape. For
 * 10,000 domains that is about 30 lines per domain (see the benchmark in
 * tests/unit/test_metrics.c for the time it takes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	puts_(o, name);
	puts_(o, "_sum");
	if (labels != NULL) {
		put(o, "{", 1);
		puts_(o, labels);
		put(o, "}", 1);
	}
	put(o, " ", 1);
	put_double(o, h->sum);
	put(o, "\n", 1);
	puts_(o, name);
	puts_(o, "_count");
	if (labels != NULL) {
		put(o, "{", 1);
		puts_(o, labels);
		put(o, "}", 1);
	}
	put(o, " ", 1);
	put_int(o, (long long)h->count);
	put(o, "\n", 1);
}

static bool
waiting_for_ds(const struct xdom *d)
{
	return d->rot != NULL && d->rot->kind == STORE_ROT_KSK &&
	    d->rot->ds_updated_at == 0 && d->rot->registrar_deadline != 0;
}

static const char *hook_result_names[XHOOK_NRESULTS] = {
	"opened", "closed", "duplicate", "ignored", "rejected", "failed"
};

void
xmetrics_render(struct export *ex, struct evbuffer *eb, time_t now)
{
	static struct out	 o;	/* one render at a time: one loop */
	struct timespec		 t0, t1;
	char			 extra[PROBE_ADDR_MAX * 2 + 160], *lab;
	size_t			 i;
	unsigned		 k, s;
	bool			 ready;
	const struct xdom	*d;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	o.eb = eb;
	o.n = 0;

	family(&o, "dnssecmon_build_info", "gauge",
	    "A constant 1 labelled with the version of dnssecmon.");
	puts_(&o, "dnssecmon_build_info{version=\"" DNSSECMON_VERSION
	    "\"} 1\n");
	family(&o, "dnssecmon_start_time_seconds", "gauge",
	    "When the daemon started, in unix seconds.");
	puts_(&o, "dnssecmon_start_time_seconds ");
	put_int(&o, (long long)ex->started);
	put(&o, "\n", 1);
	family(&o, "dnssecmon_domains", "gauge",
	    "Domains this daemon (this shard) monitors.");
	puts_(&o, "dnssecmon_domains ");
	put_int(&o, (long long)ex->n_in_shard);
	put(&o, "\n", 1);
	ready = xapi_ready(ex, NULL);
	family(&o, "dnssecmon_ready", "gauge",
	    "1 once every domain has been checked since the start (/readyz).");
	puts_(&o, ready ? "dnssecmon_ready 1\n" : "dnssecmon_ready 0\n");
	family(&o, "dnssecmon_checks_total", "counter",
	    "Domain checks finished since the start.");
	puts_(&o, "dnssecmon_checks_total ");
	put_int(&o, (long long)ex->checks_total);
	put(&o, "\n", 1);
	family(&o, "dnssecmon_probe_duration_seconds", "histogram",
	    "How long one domain check took.");
	histogram(&o, "dnssecmon_probe_duration_seconds", NULL,
	    &ex->probe_duration, xprobe_bounds, XPROBE_BUCKETS);

	family(&o, "dnssecmon_probe_errors_total", "counter",
	    "Checks of the zone since the start that observed nothing "
	    "(state unknown: parent or every server unreachable).");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard)
			zone_int(&o, "dnssecmon_probe_errors_total", d,
			    (long long)d->errors);
	family(&o, "dnssecmon_check_interval_seconds", "gauge",
	    "How often the zone is checked.");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard)
			zone_int(&o, "dnssecmon_check_interval_seconds", d,
			    d->interval_s);
	family(&o, "dnssecmon_last_check_timestamp_seconds", "gauge",
	    "When the zone was last checked (from history until the first "
	    "check of this run).");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && d->known)
			zone_int(&o, "dnssecmon_last_check_timestamp_seconds",
			    d, (long long)d->last_check);
	family(&o, "dnssecmon_domain_severity", "gauge",
	    "Severity of the zone: 0 ok, 1 warning, 2 critical, 3 unknown.");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard)
			zone_int(&o, "dnssecmon_domain_severity", d,
			    xseverity_metric(xdom_severity(d)));
	family(&o, "dnssecmon_rotation_state", "gauge",
	    "Key rotation state of the zone, one series per state, 1 for "
	    "the current one.");
	for (i = 0; i < ex->n_dom; i++) {
		if (!(d = ex->dom[i])->in_shard)
			continue;
		for (s = PROBE_STATE_UNKNOWN; s <= PROBE_STATE_INSECURE; s++) {
			snprintf(extra, sizeof(extra), ",state=\"%s\"",
			    probe_state_name((enum probe_state)s));
			zone_series(&o, "dnssecmon_rotation_state", d, extra);
			puts_(&o, (d->known ? d->state : PROBE_STATE_UNKNOWN) ==
			    s ? "1\n" : "0\n");
		}
	}
	family(&o, "dnssecmon_validation_status", "gauge",
	    "What an in-process validator concludes for the zone, one "
	    "series per status, 1 for the current one.");
	for (i = 0; i < ex->n_dom; i++) {
		if (!(d = ex->dom[i])->in_shard)
			continue;
		for (s = PROBE_VAL_INDETERMINATE; s <= PROBE_VAL_BOGUS; s++) {
			snprintf(extra, sizeof(extra), ",status=\"%s\"",
			    probe_validation_name((enum probe_validation)s));
			zone_series(&o, "dnssecmon_validation_status", d,
			    extra);
			puts_(&o, (d->known ? d->validation :
			    PROBE_VAL_INDETERMINATE) == s ? "1\n" : "0\n");
		}
	}
	family(&o, "dnssecmon_ds_records", "gauge",
	    "DS records for the zone at its parent.");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && d->checked)
			zone_int(&o, "dnssecmon_ds_records", d, d->n_ds);
	family(&o, "dnssecmon_dnskey_records", "gauge",
	    "Distinct DNSKEY records published by the zone's servers.");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && d->checked)
			zone_int(&o, "dnssecmon_dnskey_records", d, d->n_dnskey);
	family(&o, "dnssecmon_ds_to_publish_records", "gauge",
	    "Keys that sign the DNSKEY RRset but have no DS at the parent: "
	    "DS records to add at the registrar.");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && d->checked)
			zone_int(&o, "dnssecmon_ds_to_publish_records", d,
			    d->n_publish);
	family(&o, "dnssecmon_rrsig_expiry_timestamp_seconds", "gauge",
	    "Earliest expiry of the RRSIGs over the zone's DNSKEY and SOA "
	    "RRsets, on any of its servers.");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && d->checked &&
		    d->sig_expiry != 0)
			zone_int(&o, "dnssecmon_rrsig_expiry_timestamp_seconds",
			    d, (long long)d->sig_expiry);

	family(&o, "dnssecmon_rotation_start_timestamp_seconds", "gauge",
	    "Start of the zone's open KSK rotation (absent when none).");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && d->rot != NULL)
			zone_int(&o, "dnssecmon_rotation_start_timestamp_seconds",
			    d, (long long)d->rot->start);
	family(&o, "dnssecmon_registrar_deadline_timestamp_seconds", "gauge",
	    "When the new DS must be at the registrar for the open KSK "
	    "rotation (absent when none waits for its DS).");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && waiting_for_ds(d))
			zone_int(&o,
			    "dnssecmon_registrar_deadline_timestamp_seconds", d,
			    (long long)d->rot->registrar_deadline);
	family(&o, "dnssecmon_registrar_deadline_seconds", "gauge",
	    "Seconds left to the registrar deadline, negative when past "
	    "(absent when no rotation waits for its DS).");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && waiting_for_ds(d))
			zone_int(&o, "dnssecmon_registrar_deadline_seconds", d,
			    (long long)(d->rot->registrar_deadline - now));
	family(&o, "dnssecmon_rotation_critical_before_seconds", "gauge",
	    "The zone's critical_before: inside this much of the registrar "
	    "deadline the rotation is critical (with the deadline only).");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && waiting_for_ds(d))
			zone_int(&o,
			    "dnssecmon_rotation_critical_before_seconds", d,
			    d->policy.critical_before_s);

	family(&o, "dnssecmon_resolver_ad", "gauge",
	    "1 when the validating resolver answered with the AD bit set.");
	for (i = 0; i < ex->n_dom; i++) {
		if (!(d = ex->dom[i])->in_shard)
			continue;
		for (k = 0; k < d->n_resolvers; k++) {
			const struct xresolver *v = &d->resolvers[k];

			if (v->rcode < 0)
				continue;
			snprintf(extra, sizeof(extra), ",resolver=\"%s\"",
			    ex->resolver_label[v->idx]);
			zone_series(&o, "dnssecmon_resolver_ad", d, extra);
			puts_(&o, v->ad ? "1\n" : "0\n");
		}
	}
	family(&o, "dnssecmon_resolver_rcode", "gauge",
	    "1, labelled with the rcode the validating resolver answered "
	    "(rcode=\"none\": no answer).");
	for (i = 0; i < ex->n_dom; i++) {
		if (!(d = ex->dom[i])->in_shard)
			continue;
		for (k = 0; k < d->n_resolvers; k++) {
			const struct xresolver *v = &d->resolvers[k];
			const char *rc = probe_rcode_name(v->rcode);

			snprintf(extra, sizeof(extra),
			    ",resolver=\"%s\",rcode=\"%s\"",
			    ex->resolver_label[v->idx], rc ? rc : "none");
			zone_series(&o, "dnssecmon_resolver_rcode", d, extra);
			puts_(&o, "1\n");
		}
	}
	family(&o, "dnssecmon_resolver_latency_seconds", "histogram",
	    "How long validating resolvers took to answer.");
	for (k = 0; k < ex->n_resolvers; k++) {
		snprintf(extra, sizeof(extra), "resolver=\"%s\"",
		    ex->resolver_label[k]);
		histogram(&o, "dnssecmon_resolver_latency_seconds", extra,
		    &ex->resolver_latency[k], xlatency_bounds,
		    XLATENCY_BUCKETS);
	}
	family(&o, "dnssecmon_servers_agree", "gauge",
	    "1 when every answering server of the zone has the same SOA "
	    "serial and the same DNSKEY set.");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && d->checked)
			zone_int(&o, "dnssecmon_servers_agree", d,
			    d->servers_agree);
	family(&o, "dnssecmon_server_answering", "gauge",
	    "1 when this authoritative server address answered.");
	for (i = 0; i < ex->n_dom; i++) {
		if (!(d = ex->dom[i])->in_shard)
			continue;
		for (k = 0; k < d->n_servers; k++) {
			if ((lab = xlabel_escape(d->servers[k].address)) ==
			    NULL)
				continue;
			snprintf(extra, sizeof(extra), ",server=\"%s\"", lab);
			free(lab);
			zone_series(&o, "dnssecmon_server_answering", d,
			    extra);
			puts_(&o, d->servers[k].answered ? "1\n" : "0\n");
		}
	}
	family(&o, "dnssecmon_server_soa_serial", "gauge",
	    "SOA serial this authoritative server address serves.");
	for (i = 0; i < ex->n_dom; i++) {
		if (!(d = ex->dom[i])->in_shard)
			continue;
		for (k = 0; k < d->n_servers; k++) {
			if (!d->servers[k].has_soa ||
			    (lab = xlabel_escape(d->servers[k].address)) ==
			    NULL)
				continue;
			snprintf(extra, sizeof(extra), ",server=\"%s\"", lab);
			free(lab);
			zone_series(&o, "dnssecmon_server_soa_serial", d,
			    extra);
			put_int(&o, d->servers[k].serial);
			put(&o, "\n", 1);
		}
	}
	family(&o, "dnssecmon_problem_info", "gauge",
	    "1 for each problem the last check of the zone found, labelled "
	    "with its code and severity.");
	for (i = 0; i < ex->n_dom; i++) {
		if (!(d = ex->dom[i])->in_shard)
			continue;
		for (k = 0; k < d->n_problems; k++) {
			snprintf(extra, sizeof(extra),
			    ",code=\"%s\",severity=\"%s\"", d->problems[k].code,
			    probe_problem_severity_name(
			    (enum probe_severity)d->problems[k].severity));
			zone_series(&o, "dnssecmon_problem_info", d, extra);
			puts_(&o, "1\n");
		}
		if (xdom_host_mismatch_unlisted(d)) {
			zone_series(&o, "dnssecmon_problem_info", d,
			    ",code=\"host_ds_mismatch\",severity=\"warning\"");
			puts_(&o, "1\n");
		}
	}
	family(&o, "dnssecmon_host_ds_mismatch", "gauge",
	    "1 when the DS in the DNS host's last rotation event matches no "
	    "key the zone publishes (absent without a host event).");
	for (i = 0; i < ex->n_dom; i++)
		if ((d = ex->dom[i])->in_shard && d->host != NULL &&
		    d->host->digest_len > 0)
			zone_int(&o, "dnssecmon_host_ds_mismatch", d,
			    d->host->verdict == 0);
	family(&o, "dnssecmon_webhook_events_total", "counter",
	    "DNS host webhook deliveries by outcome.");
	for (k = 0; k < XHOOK_NRESULTS; k++) {
		puts_(&o, "dnssecmon_webhook_events_total{source=\"dnsimple\","
		    "result=\"");
		puts_(&o, hook_result_names[k]);
		puts_(&o, "\"} ");
		put_int(&o, (long long)ex->hooks[k]);
		put(&o, "\n", 1);
	}
	family(&o, "dnssecmon_http_requests_total", "counter",
	    "HTTP requests served since the start.");
	puts_(&o, "dnssecmon_http_requests_total ");
	put_int(&o, (long long)ex->http_requests);
	put(&o, "\n", 1);
	family(&o, "dnssecmon_metrics_render_seconds", "gauge",
	    "How long rendering the previous /metrics page took.");
	puts_(&o, "dnssecmon_metrics_render_seconds ");
	put_double(&o, ex->last_render_s);
	put(&o, "\n", 1);
	flush(&o);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ex->last_render_s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}
