/*
 * dnssecmon check: probe domains once, concurrently, on one event loop,
 * and report as text, JSON or a Nagios/Icinga plugin line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "cli/cli.h"
#include "cli/domainlist.h"
#include "cli/nagios.h"
#include "common/clock.h"
#include "common/file.h"
#include "common/log.h"
#include "probe/dsmatch.h"
#include "probe/probe.h"
#include "probe/roots.h"
#include "store/store.h"

enum format { FMT_TEXT, FMT_JSON, FMT_NAGIOS };

struct check_run {
	struct probe_result	**results;	/* in argv order */
	unsigned		  n, done;
	struct probe_policy	  policy;
	struct event_base	 *base;
	struct store		 *store;	/* --db, or NULL */
	struct store_policy	  spolicy;
	struct store_rotation	 *rot;		/* open KSK rotation, per
						   domain (id 0: none) */
	bool			  timed_out;	/* -t ran out */
};

/* --format nagios: every error goes to stdout too, as the plugin's
 * UNKNOWN line (a scheduler shows only stdout). */
static bool	nagios_mode;

static void
check_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
check_error(const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
	if (nagios_mode)
		nagios_unknown("%s", msg);
}

/* Seen before the options are parsed, so that an error in an option
 * before --format is reported the plugin's way too. */
static bool
wants_nagios(int argc, char *argv[])
{
	int	 i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--format=nagios") == 0 ||
		    (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "nagios") == 0))
			return true;
	return false;
}

/* -t: the whole check ends here, with UNKNOWN, before a scheduler kills
 * the plugin and shows nothing. */
static void
time_limit_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct check_run	*run = arg;

	(void)fd; (void)ev;
	run->timed_out = true;
	event_base_loopbreak(run->base);
}

struct slot {
	struct check_run	*run;
	unsigned		 idx;
};

static const char *default_resolvers[] = { "8.8.8.8", "1.1.1.1", "9.9.9.9" };

static void
done_cb(void *arg, struct probe_result *r)
{
	struct slot		*s = arg;
	struct check_run	*run = s->run;
	struct probe_result	*copy;

	/* Judged after the loop (with --db, history goes in before the
	 * verdict), so a slow disk never stalls the probes. */
	if ((copy = malloc(sizeof(*copy))) != NULL)
		memcpy(copy, r, sizeof(*copy));
	run->results[s->idx] = copy;
	if (++run->done == run->n)
		event_base_loopbreak(run->base);
}

/* Seconds as "2", "2.5", "1500ms"; -1 when malformed. */
static int
parse_seconds_ms(const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || v <= 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		v /= 1000.0;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (v > 300)
		return -1;
	return (int)(v * 1000 + 0.5);
}

static int
parse_duration_s(const char *s, int *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	switch (*end) {
	case '\0': case 's':	break;
	case 'm':		v *= 60; break;
	case 'h':		v *= 3600; break;
	case 'd':		v *= 86400; break;
	default:		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* rotation.start, .deadline, .registrar_deadline, .seconds_left. */
static void
rotation_json(json_t *o, const struct store_rotation *rot)
{
	json_t	*j = json_object_get(o, "rotation");
	char	 buf[32];

	if (j == NULL || rot == NULL || rot->id == 0)
		return;
	json_object_set_new(j, "kind", json_string(
	    store_rotation_kind_name(rot->kind)));
	json_object_set_new(j, "new_key_tag", json_integer(rot->new_key_tag));
	json_object_set_new(j, "start", json_string(clock_rfc3339(rot->start,
	    buf, sizeof(buf))));
	json_object_set_new(j, "deadline", json_string(clock_rfc3339(
	    rot->deadline, buf, sizeof(buf))));
	json_object_set_new(j, "registrar_deadline", json_string(
	    clock_rfc3339(rot->registrar_deadline, buf, sizeof(buf))));
	json_object_set_new(j, "ds_updated_at", rot->ds_updated_at ?
	    json_string(clock_rfc3339(rot->ds_updated_at, buf, sizeof(buf))) :
	    json_null());
	/* The record's word over this check's alone (same meaning). */
	json_object_set_new(j, "ds_everywhere_at", rot->ds_updated_at ?
	    json_string(clock_rfc3339(rot->ds_updated_at, buf, sizeof(buf))) :
	    json_null());
	json_object_set_new(j, "safe_removal_at",
	    store_rotation_safe_removal(rot) ? json_string(clock_rfc3339(
	    store_rotation_safe_removal(rot), buf, sizeof(buf))) :
	    json_null());
	json_object_set_new(j, "seconds_left", json_integer(
	    (json_int_t)(rot->registrar_deadline - clock_now())));
}

/* One server's negative answer in a few words. */
static const char *
negative_text(const struct probe_negative *n, char *buf, size_t len)
{
	if (n->status != PROBE_Q_OK)
		snprintf(buf, len, "%s", probe_qstatus_name(n->status));
	else if (!n->checked)
		snprintf(buf, len, "%s, not checked (%s)",
		    probe_rcode_name(n->rcode) ? probe_rcode_name(n->rcode) :
		    "?", n->error);
	else
		snprintf(buf, len, "%s %s %s%s%s", probe_rcode_name(n->rcode) ?
		    probe_rcode_name(n->rcode) : "?",
		    probe_denial_name(n->kind), n->valid ? "valid" : "BOGUS",
		    n->valid ? "" : ": ", n->valid ? "" : n->error);
	return buf;
}

static void
print_denial(const struct probe_result *r)
{
	char		 a[300], b[300];
	unsigned	 i, k;

	if (r->denial_name[0] == '\0')
		return;
	printf("  denial   %s: validator %s%s%s\n", r->denial_name,
	    probe_validation_name(r->denial_validation),
	    r->denial_why_bogus[0] ? ": " : "", r->denial_why_bogus);
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (s->nxdomain.status == PROBE_Q_NONE)
			continue;
		printf("  denial   %s name %s; apex %s\n", s->address,
		    negative_text(&s->nxdomain, a, sizeof(a)),
		    negative_text(&s->nodata, b, sizeof(b)));
		if (s->nsec3.seen) {
			b[0] = '\0';
			for (k = 0; k < s->nsec3.salt_len && k < PROBE_MAX_SALT;
			    k++)
				snprintf(b + 2 * k, sizeof(b) - 2 * k, "%02X",
				    s->nsec3.salt[k]);
			printf("  denial   %s NSEC3 iterations %u, salt %s, "
			    "opt-out %s\n", s->address, s->nsec3.iterations,
			    b[0] ? b : "none", s->nsec3.opt_out ? "yes" : "no");
		}
	}
}

/* ", DNSKEY answer 1376 B (UDP: truncated), TCP ok" and the like. */
static void
print_dnskey_size(const struct probe_server *s)
{
	if (s->dnskey_tc && s->dnskey_tcp_bytes)
		printf(", DNSKEY answer %u B (UDP: truncated)",
		    s->dnskey_tcp_bytes);
	else if (s->dnskey_tc)
		printf(", DNSKEY answer truncated over UDP");
	else if (s->dnskey_udp_bytes)
		printf(", DNSKEY answer %u B", s->dnskey_udp_bytes);
	if (s->tcp_status == PROBE_Q_OK)
		printf(", TCP ok");
	else if (s->tcp_status != PROBE_Q_NONE)
		printf(", TCP %s: %s", probe_qstatus_name(s->tcp_status),
		    s->tcp_error);
	printf("\n");
}

/* Key tags of a server's CDS (cds) or CDNSKEY set, "delete" for the
 * delete record. */
static void
print_cds_set(const struct probe_result *r, const struct probe_server *s,
    bool cds)
{
	unsigned	 j, n = cds ? r->n_cds : r->n_cdnskey;
	const char	*sep = "";

	printf(" %s {", cds ? "CDS" : "CDNSKEY");
	if (cds ? s->cds_delete : s->cdnskey_delete) {
		printf("delete");
		sep = " ";
	}
	for (j = 0; j < n; j++)
		if ((cds ? s->cds_set : s->cdnskey_set) & (1u << j)) {
			printf("%s%u", sep, cds ? r->cds[j].key_tag :
			    r->cdnskey[j].key_tag);
			sep = " ";
		}
	printf("}");
}

/* The provider of a multi-signer zone a server belongs to, and what a
 * registry's CDS scan reads from it. */
static void
print_server_extra(const struct probe_result *r, unsigned i)
{
	const struct probe_server *s = &r->servers[i];
	unsigned	 g;

	for (g = 0; g < r->n_providers; g++)
		if (r->providers[g] & (1u << i))
			printf(", provider %u", g + 1);
	if (s->cds_status != PROBE_Q_NONE)
		printf(", CDS%s: %s", s->cds_tcp ? " over TCP" : "",
		    probe_qstatus_name(s->cds_status));
	else if (s->n_cds + s->n_cdnskey > 0) {
		printf(",");
		print_cds_set(r, s, true);
		print_cds_set(r, s, false);
	}
}

#define CHECK_MAX_CDS_PARENTS	64

/*
 * --cds-parents ch,li,se (or none): the zones whose registry applies CDS
 * itself, in place of the built-in list. Static storage: the policy
 * points into it for the whole command. -1 on a bad list.
 */
static int
cds_parents_arg(const char *arg, struct probe_policy *pol)
{
	static char		 buf[4096];
	static const char	*list[CHECK_MAX_CDS_PARENTS];
	char			*p, *comma;
	unsigned		 n = 0;

	if (strcmp(arg, "none") == 0) {
		pol->n_cds_parents = 0;
		return 0;
	}
	if (strlen(arg) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (p = buf; p != NULL; p = comma) {
		size_t len;

		if ((comma = strchr(p, ',')) != NULL)
			*comma++ = '\0';
		len = strlen(p);
		if (len > 1 && p[len - 1] == '.')
			p[--len] = '\0';
		if (len == 0 || n == CHECK_MAX_CDS_PARENTS)
			return -1;
		for (size_t i = 0; i < len; i++)
			if (p[i] >= 'A' && p[i] <= 'Z')
				p[i] += 32;
		list[n++] = p;
	}
	pol->cds_parents = list;
	pol->n_cds_parents = n;
	return 0;
}

/* Each parent server address and the DS it serves: shown when more than
 * one was asked, so that the one that lags can be named. */
static void
print_parents(const struct probe_result *r)
{
	char		 tags[160];
	unsigned	 i, u;
	size_t		 n;

	if (r->n_parents < 2)
		return;
	for (i = 0; i < r->n_parents; i++) {
		const struct probe_parent *p = &r->parents[i];

		if (p->status != PROBE_Q_OK || (p->rcode != 0 &&
		    p->rcode != 3)) {
			printf("  parent   %s %s%s%s\n", p->address,
			    probe_qstatus_name(p->status), p->error[0] ?
			    ": " : "", p->error);
			continue;
		}
		tags[0] = '\0';
		for (u = 0; u < r->n_parent_ds; u++)
			if (p->ds_set & (1u << u)) {
				n = strlen(tags);
				snprintf(tags + n, sizeof(tags) - n, "%s%u",
				    n ? " " : "", r->parent_ds[u].key_tag);
			}
		if (p->n_ds > 0)
			printf("  parent   %s DS %s, TTL %u%s%s\n", p->address,
			    tags, p->ds_ttl, p->rrsig ? ", signed" :
			    ", NOT signed", p->lags ? ", LAGS" : "");
		else
			printf("  parent   %s no DS%s\n", p->address,
			    p->lags ? ", LAGS" : "");
	}
	if (r->parents_dropped + r->parent_ds_dropped > 0)
		printf("  parent   %u more addresses not asked, %u DS not "
		    "kept\n", r->parents_dropped, r->parent_ds_dropped);
}

/*
 * With --db, what the last recorded check tells this one: ask every
 * parent server only when it matters. NULL (ask them all) without a
 * database or history. The turn moves with the last check's time, so
 * that checks from cron visit each parent address in time.
 */
static const struct probe_hint *
check_hint(struct check_run *run, const char *arg, struct probe_hint *h)
{
	char		 name[PROBE_NAME_MAX];
	struct store_domain dom;
	size_t		 i;

	if (run->store == NULL)
		return NULL;
	for (i = 0; arg[i] != '\0' && i + 1 < sizeof(name); i++)
		name[i] = (char)tolower((unsigned char)arg[i]);
	name[i] = '\0';
	if (i > 1 && name[i - 1] == '.')
		name[i - 1] = '\0';
	memset(h, 0, sizeof(*h));
	if (store_domain(run->store, name, &dom) != 1 ||
	    store_probe_hint(run->store, name, h) == -1 || !h->ds_known)
		return NULL;
	/* A hash of the last check's time: checks from cron come at a fixed
	 * step that could share a factor with the address count, so a
	 * plain counter from the time could keep asking the same one. */
	h->parent_turn = (unsigned)(((uint64_t)dom.last_checked *
	    0x9E3779B97F4A7C15ULL) >> 32);
	return h;
}

static void
print_text(const struct probe_result *r, const struct store_rotation *rot)
{
	char		 when[32], dl[32], left[32];
	unsigned	 i, k;
	json_t		*j;

	printf("%s: %s, %s, validation %s", r->domain,
	    probe_severity_name(r->severity), probe_state_name(r->state),
	    probe_validation_name(r->validation));
	if (r->parent[0])
		printf(" (parent %s%s)", r->parent, r->cds_parent_applies ?
		    ", applies CDS itself" : "");
	printf("\n");
	if (r->multi_signer != PROBE_MULTI_NONE)
		printf("  multi-signer (%s): %u providers\n",
		    probe_multi_name(r->multi_signer), r->n_providers);
	if (rot != NULL && rot->id != 0)
		printf("  rotation KSK %u since %s, registrar deadline %s "
		    "(%s left)%s\n", rot->new_key_tag, clock_rfc3339(rot->start,
		    when, sizeof(when)), clock_rfc3339(rot->registrar_deadline,
		    dl, sizeof(dl)), clock_duration(
		    (long long)rot->registrar_deadline - clock_now(), left,
		    sizeof(left)), rot->ds_updated_at ? ", DS updated" : "");
	if (rot != NULL && rot->id != 0 && store_rotation_safe_removal(rot))
		printf("  old key  may go from %s (the new DS on every parent "
		    "server at %s, plus DS TTL %u s)\n", clock_rfc3339(
		    store_rotation_safe_removal(rot), when, sizeof(when)),
		    clock_rfc3339(rot->ds_updated_at, dl, sizeof(dl)),
		    rot->ds_ttl);
	else if (r->safe_removal_at)
		printf("  old key  may go from %s (the new DS on every parent "
		    "server by %s, plus the DS TTL)\n", clock_rfc3339(
		    r->safe_removal_at, when, sizeof(when)), clock_rfc3339(
		    r->ds_everywhere_at, dl, sizeof(dl)));
	for (i = 0; i < r->n_ds; i++) {
		const struct probe_ds *d = &r->ds[i];

		printf("  DS       %5u alg %-2u digest %u  %s%s\n", d->key_tag,
		    d->algorithm, d->digest_type, d->key >= 0 ?
		    "matches a published key" : d->digest_unsupported ?
		    "digest type not checked" : "matches NO published key",
		    dsmatch_digest_deprecated(d->digest_type) ?
		    ", DEPRECATED DIGEST" : "");
	}
	print_parents(r);
	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];
		int bits = dsmatch_rsa_bits(key->rdata, key->rdata_len);
		char size[24] = "";

		if (bits >= 0)
			snprintf(size, sizeof(size), " %d bits", bits);
		printf("  DNSKEY   %5u alg %-2u flags %u %s%s%s%s%s%s%s\n",
		    key->key_tag, key->algorithm, key->flags,
		    (key->flags & 1) ? "KSK" : "ZSK", size,
		    dsmatch_algorithm_deprecated(key->algorithm) ?
		    ", DEPRECATED ALGORITHM" : "",
		    key->signs_dnskey ? ", signs the DNSKEY RRset" : "",
		    probe_key_sig_verified(r, k) == 0 ?
		    " (its RRSIG DOES NOT VERIFY)" : "",
		    key->has_ds ? ", has DS" : "",
		    key->needs_ds ? ", NEEDS DS" : "");
	}
	for (i = 0; i < r->n_signals; i++)
		printf("  signal   _dsboot.%s._signal.%s %s, %u CDS%s%s\n",
		    r->domain, r->signals[i].ns, probe_signal_status_name(
		    r->signals[i].status), r->signals[i].n_cds,
		    r->signals[i].why[0] ? ": " : "", r->signals[i].why);
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (s->status == PROBE_Q_OK && s->has_soa) {
			printf("  server   %s (%s) serial %u, %u DNSKEY",
			    s->name, s->address, s->soa_serial, s->n_dnskey);
			print_server_extra(r, i);
		} else
			printf("  server   %s (%s) %s%s%s", s->name,
			    s->address, probe_qstatus_name(s->status),
			    s->error[0] ? ": " : "", s->error);
		print_dnskey_size(s);
	}
	for (i = 0; i < r->n_resolvers; i++) {
		const struct probe_resolver *v = &r->resolvers[i];

		if (v->status == PROBE_Q_OK)
			printf("  resolver %s %s%s %.0f ms\n", v->address,
			    probe_rcode_name(v->rcode), v->ad ? " AD" : "",
			    v->latency_ms);
		else
			printf("  resolver %s %s\n", v->address,
			    probe_qstatus_name(v->status));
	}
	print_denial(r);
	if (r->alg_rollover.stage != PROBE_ALG_NONE) {
		const struct probe_alg_rollover *ro = &r->alg_rollover;
		char since[32], safe[32], due[32];

		printf("  algroll  %u -> %u, stage %s%s (%s)", ro->from, ro->to,
		    probe_alg_stage_name(ro->stage),
		    ro->bad_order ? ", WRONG ORDER" : "", ro->basis);
		if (ro->stage_since != 0)
			printf(", since %s, next step safe from %s, due by "
			    "%s%s", clock_rfc3339(ro->stage_since, since,
			    sizeof(since)), clock_rfc3339(ro->safe_at, safe,
			    sizeof(safe)), clock_rfc3339(ro->deadline, due,
			    sizeof(due)), ro->stalled ? ", STALLED" : "");
		printf("\n");
	}
	if (r->earliest_sig_expiry)
		printf("  RRSIGs expire from %s\n", clock_rfc3339(
		    r->earliest_sig_expiry, when, sizeof(when)));
	for (i = 0; i < r->n_problems; i++)
		printf("  %-8s %s: %s\n", probe_problem_severity_name(
		    r->problems[i].severity), r->problems[i].code,
		    r->problems[i].message);
	/* The records to paste at the registrar, whole, one per line. */
	if ((j = probe_result_json(r)) != NULL) {
		json_t *a = json_object_get(j, "ds_to_publish"), *x;
		size_t n;

		json_array_foreach(a, n, x)
			if (json_is_true(json_object_get(x, "conditional")))
				printf("  publish? %s (only if key %d is the "
				    "new key: see rotation_ambiguous)\n",
				    json_string_value(json_object_get(x,
				    "record")), (int)json_integer_value(
				    json_object_get(x, "key_tag")));
			else
				printf("  publish  %s\n", json_string_value(
				    json_object_get(x, "record")));
		a = json_object_get(j, "ds_to_remove");
		json_array_foreach(a, n, x)
			printf("  remove   %s\n", json_string_value(
			    json_object_get(x, "record")));
		json_decref(j);
	}
}

int
cmd_check(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "trust-anchor",	required_argument, NULL, 'a' },
		{ "root-hints",		required_argument, NULL, 'H' },
		{ "resolver",		required_argument, NULL, 'r' },
		{ "format",		required_argument, NULL, 'm' },
		{ "timeout",		required_argument, NULL, 'o' },
		{ "time-limit",		required_argument, NULL, 't' },
		{ "retries",		required_argument, NULL, 'R' },
		{ "ipv6",		no_argument,	   NULL, '6' },
		{ "no-ipv6",		no_argument,	   NULL, '4' },
		{ "sig-warning",	required_argument, NULL, 'W' },
		{ "sig-critical",	required_argument, NULL, 'C' },
		{ "warning",		required_argument, NULL, 'w' },
		{ "critical",		required_argument, NULL, 'c' },
		{ "rotation-window",	required_argument, NULL, 'X' },
		{ "critical-before",	required_argument, NULL, 'B' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ "domains-file",	required_argument, NULL, 'F' },
		{ "insecure-is-problem", no_argument,	   NULL, 'I' },
		{ "multi-signer",	required_argument, NULL, 'M' },
		{ "cds-parents",	required_argument, NULL, 'P' },
		{ "db",			required_argument, NULL, 'D' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct probe_config	 cfg;
	struct check_run	 run;
	struct probe_engine	*engine = NULL;
	enum format		 fmt = FMT_TEXT;
	enum probe_severity	 worst = PROBE_SEV_OK;
	char			 err[512];
	const char		*hints = NULL, *db = NULL;
	bool			 hints_set = false, no_resolvers = false;
	int			 ch, i, rc = EXIT_UNKNOWN, v;
	enum probe_multi_mode	 multi = PROBE_MULTI_AUTO;
	struct probe_hint	 hint;
	char			*end;
	long			 l;
	int			 limit_ms = 0;
	struct event		*limit = NULL;
	struct domainlist	 names;
	struct slot		*slots = NULL;
	const char		*files[16];
	unsigned		 n_files = 0;

	memset(&cfg, 0, sizeof(cfg));
	memset(&names, 0, sizeof(names));
	memset(&run, 0, sizeof(run));
	cfg.trust_anchor = ROOTS_DEFAULT_ANCHOR;
	cfg.timeout_ms = 2000;
	cfg.retries = 2;
	cfg.ipv6 = true;
	probe_policy_defaults(&run.policy);
	log_procname("dnssecmon check");

	nagios_mode = wants_nagios(argc, argv);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":6hvVt:w:c:f:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'a':
			cfg.trust_anchor = optarg;
			break;
		case 'H':
			hints = optarg;
			hints_set = true;
			break;
		case 'r':
			if (strcmp(optarg, "none") == 0) {
				no_resolvers = true;
				break;
			}
			if (cfg.n_resolvers >= PROBE_MAX_RESOLVERS) {
				check_error("at most %d --resolver options",
				    PROBE_MAX_RESOLVERS);
				return EXIT_UNKNOWN;
			}
			{
				struct sockaddr_storage ss;
				socklen_t sl;
				char why[160];

				if (roots_parse_address(optarg, 53, &ss, &sl,
				    why, sizeof(why)) == -1) {
					check_error("--resolver: %s", why);
					return EXIT_UNKNOWN;
				}
			}
			cfg.resolvers[cfg.n_resolvers++] = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "text") == 0)
				fmt = FMT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				fmt = FMT_JSON;
			else if (strcmp(optarg, "nagios") == 0)
				fmt = FMT_NAGIOS;
			else {
				check_error("--format '%s': expected text, json "
				    "or nagios", optarg);
				return EXIT_UNKNOWN;
			}
			break;
		case 't':
			if ((limit_ms = parse_seconds_ms(optarg)) < 0) {
				check_error("-t/--time-limit '%s': expected "
				    "seconds between 0 and 300, e.g. 10",
				    optarg);
				return EXIT_UNKNOWN;
			}
			break;
		case 'V':
			printf("dnssecmon %s\n", DNSSECMON_VERSION);
			return EXIT_OK;
		case 'f':
		case 'F':
			if (n_files == sizeof(files) / sizeof(*files)) {
				check_error("at most %zu -f/--domains-file "
				    "options", sizeof(files) / sizeof(*files));
				return EXIT_UNKNOWN;
			}
			files[n_files++] = optarg;
			break;
		case 'o':
			if ((cfg.timeout_ms = parse_seconds_ms(optarg)) < 0) {
				check_error("--timeout '%s': expected seconds "
				    "between 0 and 300, e.g. 2 or 1.5", optarg);
				return EXIT_UNKNOWN;
			}
			break;
		case 'R':
			errno = 0;
			l = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    l < 0 || l > 10) {
				check_error("--retries '%s': expected 0 to 10",
				    optarg);
				return EXIT_UNKNOWN;
			}
			cfg.retries = (int)l;
			break;
		case '6':
			cfg.ipv6 = true;
			break;
		case '4':
			cfg.ipv6 = false;
			break;
		case 'W':
		case 'C':
		case 'w':
		case 'c':
		case 'X':
		case 'B':
			if (parse_duration_s(optarg, &v) == -1) {
				check_error("%s '%s': expected a duration such "
				    "as 3d, 12h or 3600", ch == 'W' ?
				    "--sig-warning" : ch == 'C' ? "--sig-critical" :
				    ch == 'w' ? "-w" : ch == 'c' ? "-c" : ch == 'X' ?
				    "--rotation-window" : "--critical-before",
				    optarg);
				return EXIT_UNKNOWN;
			}
			if (ch == 'W' || ch == 'w')
				run.policy.sig_warning_s = v;
			else if (ch == 'C' || ch == 'c')
				run.policy.sig_critical_s = v;
			else if (ch == 'X')
				run.policy.rotation_window_s = v;
			else
				run.policy.critical_before_s = v;
			break;
		case 'I':
			run.policy.insecure_is_problem = true;
			break;
		case 'M':
			if (strcmp(optarg, "auto") == 0)
				multi = PROBE_MULTI_AUTO;
			else if (strcmp(optarg, "yes") == 0)
				multi = PROBE_MULTI_ON;
			else if (strcmp(optarg, "no") == 0)
				multi = PROBE_MULTI_OFF;
			else {
				check_error("--multi-signer '%s': expected auto, "
				    "yes or no", optarg);
				return EXIT_UNKNOWN;
			}
			run.policy.multi_signer = multi;
			break;
		case 'P':
			if (cds_parents_arg(optarg, &run.policy) == -1) {
				check_error("--cds-parents '%s': expected zones "
				    "separated by commas (at most %d), or none",
				    optarg, CHECK_MAX_CDS_PARENTS);
				return EXIT_UNKNOWN;
			}
			break;
		case 'D':
			db = optarg;
			break;
		case 'v':
			log_init(LOG_TO_STDERR, log_getverbose() + 1, NULL);
			break;
		case 'h':
			printf("usage: dnssecmon check %s\n",
			    cli_commands[0].synopsis);
			return EXIT_OK;
		case '?':
		default:
			if (optopt != 0)
				check_error("unknown option '-%c' (see 'dnssecmon "
				    "check --help')", optopt);
			else
				check_error("unknown option '%s' (see 'dnssecmon "
				    "check --help')", argv[optind - 1]);
			return EXIT_UNKNOWN;
		case ':':
			check_error("option '%s' needs a value",
			    argv[optind - 1]);
			return EXIT_UNKNOWN;
		}
	}
	argc -= optind;
	argv += optind;
	/* Inverted thresholds would silently never warn. */
	if (run.policy.sig_critical_s >= run.policy.sig_warning_s) {
		check_error("the signature critical threshold (%ds) must be "
		    "shorter than the warning threshold (%ds)",
		    run.policy.sig_critical_s, run.policy.sig_warning_s);
		return EXIT_UNKNOWN;
	}
	if (run.policy.rotation_window_s == 0 ||
	    run.policy.critical_before_s >= run.policy.rotation_window_s) {
		check_error("--critical-before (%lds) must be shorter than "
		    "--rotation-window (%lds)", run.policy.critical_before_s,
		    run.policy.rotation_window_s);
		return EXIT_UNKNOWN;
	}
	/* Names from files first, then the command line's, in order. */
	if (n_files > 0) {
		for (i = 0; i < (int)n_files; i++)
			if (domainlist_read(&names, files[i], err,
			    sizeof(err)) == -1) {
				check_error("-f: %s", err);
				goto out;
			}
		for (i = 0; i < argc; i++)
			if (domainlist_add(&names, argv[i]) == -1) {
				check_error("out of memory");
				goto out;
			}
		argc = (int)names.n;
		argv = names.names;
	}
	if (argc == 0) {
		check_error(n_files > 0 ? "no domain in the -f file(s)" :
		    "no domain given (see 'dnssecmon check --help')");
		goto out;
	}
	if (!hints_set && access(ROOTS_DEFAULT_HINTS, R_OK) == 0)
		hints = ROOTS_DEFAULT_HINTS;
	cfg.root_hints = hints;
	{
		char why[400];

		/* Named with their option: the engine would only say which
		 * file. */
		if (file_check(cfg.trust_anchor, FILE_MAX_SMALL, why,
		    sizeof(why)) == -1) {
			check_error("--trust-anchor: %s", why);
			goto out;
		}
		if (hints != NULL && file_check(hints, FILE_MAX_SMALL, why,
		    sizeof(why)) == -1) {
			check_error("--root-hints: %s", why);
			goto out;
		}
	}
	if (no_resolvers)
		cfg.n_resolvers = 0;
	else if (cfg.n_resolvers == 0)
		for (i = 0; i < 3; i++)
			cfg.resolvers[cfg.n_resolvers++] = default_resolvers[i];
	cfg.max_domains = 500;
	cfg.max_queries = 2000;

	/* Reject bad names before any packet leaves. */
	for (i = 0; i < argc; i++) {
		uint8_t wire[DSMATCH_NAME_MAX];
		size_t wlen;
		char why[160];

		if (dsmatch_name_to_wire(argv[i], wire, sizeof(wire), &wlen,
		    why, sizeof(why)) == -1) {
			check_error("'%s' (argument %d) is not a valid domain "
			    "name: %s", argv[i], i + 1, why);
			goto out;
		}
	}

	/* Before any packet: a database we cannot use is a usage error. */
	store_policy_defaults(&run.spolicy);
	run.spolicy.rotation_window_s = run.policy.rotation_window_s;
	run.spolicy.critical_before_s = run.policy.critical_before_s;
	run.spolicy.multi_signer = multi;
	if (db != NULL) {
		if ((run.store = store_open(db, err, sizeof(err))) == NULL) {
			check_error("--db: %s", err);
			goto out;
		}
	}
	if ((run.base = event_base_new()) == NULL) {
		check_error("cannot create the event loop");
		goto out;
	}
	if ((engine = probe_engine_create(run.base, &cfg, err,
	    sizeof(err))) == NULL) {
		check_error("%s", err);
		goto out;
	}
	run.n = (unsigned)argc;
	if ((run.results = calloc(run.n, sizeof(*run.results))) == NULL ||
	    (run.rot = calloc(run.n, sizeof(*run.rot))) == NULL) {
		check_error("out of memory");
		goto out;
	}
	/* One array, freed at the end: a check cut short by -t never calls
	 * back for the probes still in flight. */
	if ((slots = calloc(run.n, sizeof(*slots))) == NULL) {
		check_error("out of memory");
		goto out;
	}
	for (i = 0; i < argc; i++) {
		struct slot *s = &slots[i];

		s->run = &run;
		s->idx = (unsigned)i;
		if (probe_start_hint(engine, argv[i], check_hint(&run, argv[i],
		    &hint), done_cb, s, err, sizeof(err)) == -1) {
			check_error("%s", err);
			goto out;
		}
	}
	if (limit_ms > 0) {
		struct timeval tv = { limit_ms / 1000, (limit_ms % 1000) * 1000 };

		if ((limit = evtimer_new(run.base, time_limit_cb, &run)) ==
		    NULL || evtimer_add(limit, &tv) == -1) {
			check_error("cannot set the time limit");
			goto out;
		}
	}
	event_base_dispatch(run.base);
	if (run.timed_out) {
		check_error("time limit of %g s reached with %u of %u domains "
		    "checked (-t/--time-limit)", limit_ms / 1000.0, run.done,
		    run.n);
		goto out;
	}
	if (run.done != run.n) {
		check_error("the event loop ended with %u of %u domains done",
		    run.done, run.n);
		goto out;
	}

	for (i = 0; i < argc; i++) {
		if (run.results[i] == NULL) {
			check_error("out of memory");
			goto out;
		}
		store_check(run.store, run.results[i], &run.policy,
		    &run.spolicy, clock_now(), &run.rot[i]);
		if (run.results[i]->severity > worst)
			worst = run.results[i]->severity;
	}
	if (fmt == FMT_JSON) {
		json_t *doc = json_object(), *a = json_array();
		char *s;

		for (i = 0; i < argc; i++) {
			json_t *o = probe_result_json(run.results[i]);

			rotation_json(o, &run.rot[i]);
			json_array_append_new(a, o);
		}
		json_object_set_new(doc, "domains", a);
		s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		json_decref(doc);
		if (s == NULL) {
			check_error("out of memory");
			goto out;
		}
		printf("%s\n", s);
		free(s);
	} else if (fmt == FMT_NAGIOS)
		nagios_print(stdout, run.results, run.rot, run.n, worst,
		    &run.policy);
	else
		for (i = 0; i < argc; i++)
			print_text(run.results[i], &run.rot[i]);

	switch (worst) {
	case PROBE_SEV_OK:	rc = EXIT_OK; break;
	case PROBE_SEV_WARNING:	rc = EXIT_WARNING; break;
	case PROBE_SEV_CRITICAL: rc = EXIT_CRITICAL; break;
	default:		rc = EXIT_UNKNOWN; break;
	}
out:
	domainlist_finish(&names);
	if (limit != NULL)
		event_free(limit);
	probe_engine_destroy(engine);
	free(slots);
	if (run.results != NULL)
		for (unsigned u = 0; u < run.n; u++)
			free(run.results[u]);
	free(run.results);
	free(run.rot);
	store_close(run.store);
	if (run.base != NULL)
		event_base_free(run.base);
	if (fflush(stdout) != 0 && rc != EXIT_UNKNOWN) {
		log_warn("stdout");
		rc = EXIT_UNKNOWN;
	}
	return rc;
}
