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
#include "common/addr.h"
#include "common/clock.h"
#include "common/dsmatch.h"
#include "common/file.h"
#include "common/log.h"
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

/* With --db, the open rotation's record joins the check's own view under
 * "rotation" (the record's ds_everywhere_at and safe_removal_at win: same
 * meaning, and the record remembers the check that saw it). */
static void
rotation_json(json_t *o, const struct store_rotation *rot)
{
	json_t	*j = json_object_get(o, "rotation"), *rec;

	if (j == NULL || rot == NULL || rot->id == 0)
		return;
	if ((rec = store_rotation_json(rot, clock_now())) != NULL) {
		json_object_update(j, rec);
		json_decref(rec);
	}
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

/* The verdict, the multi-signer setup and the rotation's dates. */
static void
print_head(const struct probe_result *r, const struct store_rotation *rot)
{
	char		 when[32], dl[32], left[32];

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
}

/* The DS at the parent, what each parent server said, the keys and the
 * bootstrap signals. */
static void
print_records(const struct probe_result *r)
{
	unsigned	 i, k;

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
}

static void
print_servers(const struct probe_result *r)
{
	unsigned	 i;

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
}

/* Denial, algorithm rollover, signature expiry and the problems. */
static void
print_findings(const struct probe_result *r)
{
	char		 when[32];
	unsigned	 i;

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
}

/* The records to paste at the registrar, whole, one per line. */
static void
print_registrar(const struct probe_result *r)
{
	json_t		*j;

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

static void
print_text(const struct probe_result *r, const struct store_rotation *rot)
{
	print_head(r, rot);
	print_records(r);
	print_servers(r);
	print_findings(r);
	print_registrar(r);
}

/* The command line, parsed: the engine's configuration and what the
 * command does with the results. */
struct check_opts {
	struct probe_config	 cfg;
	enum format		 fmt;
	const char		*hints, *db;
	bool			 hints_set, no_resolvers;
	enum probe_multi_mode	 multi;
	int			 limit_ms;	/* -t; 0: none */
	const char		*files[16];	/* -f, in order */
	unsigned		 n_files;
};

/* An option's effect: 0 parsed, -1 a usage error (said), 1 done (exit 0:
 * --help, --version). */
enum { OPT_OK = 0, OPT_ERR = -1, OPT_EXIT = 1 };

static int
opt_anchor(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)run; (void)ch;
	o->cfg.trust_anchor = arg;
	return OPT_OK;
}

static int
opt_hints(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)run; (void)ch;
	o->hints = arg;
	o->hints_set = true;
	return OPT_OK;
}

static int
opt_resolver(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	struct sockaddr_storage ss;
	socklen_t		sl;
	char			why[160];

	(void)run; (void)ch;
	if (strcmp(arg, "none") == 0) {
		o->no_resolvers = true;
		return OPT_OK;
	}
	if (o->cfg.n_resolvers >= PROBE_MAX_RESOLVERS) {
		check_error("at most %d --resolver options",
		    PROBE_MAX_RESOLVERS);
		return OPT_ERR;
	}
	if (addr_parse(arg, 53, &ss, &sl, why, sizeof(why)) == -1) {
		check_error("--resolver: %s", why);
		return OPT_ERR;
	}
	o->cfg.resolvers[o->cfg.n_resolvers++] = arg;
	return OPT_OK;
}

/* An option whose value is one of a few words. */
struct check_word {
	const char	*word;
	int		 value;
};

static int
word_value(const struct check_word *w, size_t n, const char *arg, int *out)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(arg, w[i].word) == 0) {
			*out = w[i].value;
			return 0;
		}
	return -1;
}

static int
opt_format(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	static const struct check_word formats[] = {
		{ "text", FMT_TEXT }, { "json", FMT_JSON },
		{ "nagios", FMT_NAGIOS } };
	int	 v;

	(void)run; (void)ch;
	if (word_value(formats, 3, arg, &v) == -1) {
		check_error("--format '%s': expected text, json or nagios",
		    arg);
		return OPT_ERR;
	}
	o->fmt = (enum format)v;
	return OPT_OK;
}

static int
opt_time_limit(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)run; (void)ch;
	if ((o->limit_ms = parse_seconds_ms(arg)) < 0) {
		check_error("-t/--time-limit '%s': expected seconds between 0 "
		    "and 300, e.g. 10", arg);
		return OPT_ERR;
	}
	return OPT_OK;
}

static int
opt_version(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)o; (void)run; (void)ch; (void)arg;
	printf("dnssecmon %s\n", DNSSECMON_VERSION);
	return OPT_EXIT;
}

static int
opt_file(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)run; (void)ch;
	if (o->n_files == sizeof(o->files) / sizeof(*o->files)) {
		check_error("at most %zu -f/--domains-file options",
		    sizeof(o->files) / sizeof(*o->files));
		return OPT_ERR;
	}
	o->files[o->n_files++] = arg;
	return OPT_OK;
}

static int
opt_timeout(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)run; (void)ch;
	if ((o->cfg.timeout_ms = parse_seconds_ms(arg)) < 0) {
		check_error("--timeout '%s': expected seconds between 0 and "
		    "300, e.g. 2 or 1.5", arg);
		return OPT_ERR;
	}
	return OPT_OK;
}

static int
opt_retries(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	char	*end;
	long	 l;

	(void)run; (void)ch;
	errno = 0;
	l = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || l < 0 || l > 10) {
		check_error("--retries '%s': expected 0 to 10", arg);
		return OPT_ERR;
	}
	o->cfg.retries = (int)l;
	return OPT_OK;
}

static int
opt_ipv6(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)run; (void)arg;
	o->cfg.ipv6 = ch == '6';
	return OPT_OK;
}

/* The six duration options, each setting one policy threshold. */
static int
opt_duration(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	int	 v;

	(void)o;
	if (parse_duration_s(arg, &v) == -1) {
		check_error("%s '%s': expected a duration such as 3d, 12h or "
		    "3600", ch == 'W' ? "--sig-warning" : ch == 'C' ?
		    "--sig-critical" : ch == 'w' ? "-w" : ch == 'c' ? "-c" :
		    ch == 'X' ? "--rotation-window" : "--critical-before", arg);
		return OPT_ERR;
	}
	if (ch == 'W' || ch == 'w')
		run->policy.sig_warning_s = v;
	else if (ch == 'C' || ch == 'c')
		run->policy.sig_critical_s = v;
	else if (ch == 'X')
		run->policy.rotation_window_s = v;
	else
		run->policy.critical_before_s = v;
	return OPT_OK;
}

static int
opt_insecure(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)o; (void)ch; (void)arg;
	run->policy.insecure_is_problem = true;
	return OPT_OK;
}

static int
opt_multi(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	static const struct check_word modes[] = {
		{ "auto", PROBE_MULTI_AUTO }, { "yes", PROBE_MULTI_ON },
		{ "no", PROBE_MULTI_OFF } };
	int	 v;

	(void)ch;
	if (word_value(modes, 3, arg, &v) == -1) {
		check_error("--multi-signer '%s': expected auto, yes or no",
		    arg);
		return OPT_ERR;
	}
	o->multi = (enum probe_multi_mode)v;
	run->policy.multi_signer = o->multi;
	return OPT_OK;
}

static int
opt_cds_parents(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)o; (void)ch;
	if (cds_parents_arg(arg, &run->policy) == -1) {
		check_error("--cds-parents '%s': expected zones separated by "
		    "commas (at most %d), or none", arg, CHECK_MAX_CDS_PARENTS);
		return OPT_ERR;
	}
	return OPT_OK;
}

static int
opt_db(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)run; (void)ch;
	o->db = arg;
	return OPT_OK;
}

static int
opt_verbose(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)o; (void)run; (void)ch; (void)arg;
	log_init(LOG_TO_STDERR, log_getverbose() + 1, NULL);
	return OPT_OK;
}

static int
opt_help(struct check_opts *o, struct check_run *run, int ch,
    const char *arg)
{
	(void)o; (void)run; (void)ch; (void)arg;
	cli_help("check");
	return OPT_EXIT;
}

/* Every option: its long name, whether it takes a value, its short
 * letter (or an internal one) and what it does. */
static const struct check_optdef {
	struct option	 lo;
	int		(*set)(struct check_opts *, struct check_run *, int,
			    const char *);
} check_optdefs[] = {
	{ { "trust-anchor",	required_argument, NULL, 'a' }, opt_anchor },
	{ { "root-hints",	required_argument, NULL, 'H' }, opt_hints },
	{ { "resolver",		required_argument, NULL, 'r' }, opt_resolver },
	{ { "format",		required_argument, NULL, 'm' }, opt_format },
	{ { "timeout",		required_argument, NULL, 'o' }, opt_timeout },
	{ { "time-limit",	required_argument, NULL, 't' },
	    opt_time_limit },
	{ { "retries",		required_argument, NULL, 'R' }, opt_retries },
	{ { "ipv6",		no_argument,	   NULL, '6' }, opt_ipv6 },
	{ { "no-ipv6",		no_argument,	   NULL, '4' }, opt_ipv6 },
	{ { "sig-warning",	required_argument, NULL, 'W' }, opt_duration },
	{ { "sig-critical",	required_argument, NULL, 'C' }, opt_duration },
	{ { "warning",		required_argument, NULL, 'w' }, opt_duration },
	{ { "critical",		required_argument, NULL, 'c' }, opt_duration },
	{ { "rotation-window",	required_argument, NULL, 'X' }, opt_duration },
	{ { "critical-before",	required_argument, NULL, 'B' }, opt_duration },
	{ { "version",		no_argument,	   NULL, 'V' }, opt_version },
	{ { "domains-file",	required_argument, NULL, 'F' }, opt_file },
	{ { NULL,		required_argument, NULL, 'f' }, opt_file },
	{ { "insecure-is-problem", no_argument,	   NULL, 'I' }, opt_insecure },
	{ { "multi-signer",	required_argument, NULL, 'M' }, opt_multi },
	{ { "cds-parents",	required_argument, NULL, 'P' },
	    opt_cds_parents },
	{ { "db",		required_argument, NULL, 'D' }, opt_db },
	{ { "verbose",		no_argument,	   NULL, 'v' }, opt_verbose },
	{ { "help",		no_argument,	   NULL, 'h' }, opt_help },
};
#define N_OPTDEFS	(sizeof(check_optdefs) / sizeof(*check_optdefs))

static void
check_opts_init(struct check_opts *o, struct check_run *run)
{
	memset(o, 0, sizeof(*o));
	o->cfg.trust_anchor = ROOTS_DEFAULT_ANCHOR;
	o->cfg.timeout_ms = 2000;
	o->cfg.retries = 2;
	o->cfg.ipv6 = true;
	o->fmt = FMT_TEXT;
	o->multi = PROBE_MULTI_AUTO;
	memset(run, 0, sizeof(*run));
	probe_policy_defaults(&run->policy);
}

/* Inverted thresholds would silently never warn. */
static int
check_thresholds(const struct probe_policy *p)
{
	if (p->sig_critical_s >= p->sig_warning_s) {
		check_error("the signature critical threshold (%ds) must be "
		    "shorter than the warning threshold (%ds)",
		    p->sig_critical_s, p->sig_warning_s);
		return OPT_ERR;
	}
	if (p->rotation_window_s == 0 ||
	    p->critical_before_s >= p->rotation_window_s) {
		check_error("--critical-before (%lds) must be shorter than "
		    "--rotation-window (%lds)", p->critical_before_s,
		    p->rotation_window_s);
		return OPT_ERR;
	}
	return OPT_OK;
}

/* The options, through the table; optind is then the first domain. */
static int
check_options(int argc, char *argv[], struct check_opts *o,
    struct check_run *run)
{
	struct option	 longopts[N_OPTDEFS + 1];
	size_t		 i, n = 0;
	int		 ch, rc;

	for (i = 0; i < N_OPTDEFS; i++)
		if (check_optdefs[i].lo.name != NULL)
			longopts[n++] = check_optdefs[i].lo;
	memset(&longopts[n], 0, sizeof(longopts[n]));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":6hvVt:w:c:f:", longopts,
	    NULL)) != -1) {
		if (ch == ':') {
			check_error("option '%s' needs a value",
			    argv[optind - 1]);
			return OPT_ERR;
		}
		for (i = 0; i < N_OPTDEFS; i++)
			if (check_optdefs[i].lo.val == ch)
				break;
		if (i == N_OPTDEFS) {
			if (optopt != 0)
				check_error("unknown option '-%c' (see "
				    "'dnssecmon check --help')", optopt);
			else
				check_error("unknown option '%s' (see "
				    "'dnssecmon check --help')",
				    argv[optind - 1]);
			return OPT_ERR;
		}
		if ((rc = check_optdefs[i].set(o, run, ch, optarg)) != OPT_OK)
			return rc;
	}
	return check_thresholds(&run->policy);
}

/* The domains to check: from the -f files first, then the command
 * line's, in order; each a valid name before any packet leaves. */
static int
check_names(const struct check_opts *o, struct domainlist *names,
    int *argc, char ***argv)
{
	char		 err[512];
	unsigned	 f;
	int		 i;

	if (o->n_files > 0) {
		for (f = 0; f < o->n_files; f++)
			if (domainlist_read(names, o->files[f], err,
			    sizeof(err)) == -1) {
				check_error("-f: %s", err);
				return -1;
			}
		for (i = 0; i < *argc; i++)
			if (domainlist_add(names, (*argv)[i]) == -1) {
				check_error("out of memory");
				return -1;
			}
		*argc = (int)names->n;
		*argv = names->names;
	}
	if (*argc == 0) {
		check_error(o->n_files > 0 ? "no domain in the -f file(s)" :
		    "no domain given (see 'dnssecmon check --help')");
		return -1;
	}
	return 0;
}

static int
check_name_syntax(int argc, char *argv[])
{
	uint8_t		 wire[DSMATCH_NAME_MAX];
	size_t		 wlen;
	char		 why[160];
	int		 i;

	for (i = 0; i < argc; i++)
		if (dsmatch_name_to_wire(argv[i], wire, sizeof(wire), &wlen,
		    why, sizeof(why)) == -1) {
			check_error("'%s' (argument %d) is not a valid domain "
			    "name: %s", argv[i], i + 1, why);
			return -1;
		}
	return 0;
}

/* The trust anchor and root hints, named with their option (the engine
 * would only say which file), and the default resolvers. */
static int
check_engine_config(struct check_opts *o)
{
	char	 why[400];
	int	 i;

	if (!o->hints_set && access(ROOTS_DEFAULT_HINTS, R_OK) == 0)
		o->hints = ROOTS_DEFAULT_HINTS;
	o->cfg.root_hints = o->hints;
	if (file_check(o->cfg.trust_anchor, FILE_MAX_SMALL, why,
	    sizeof(why)) == -1) {
		check_error("--trust-anchor: %s", why);
		return -1;
	}
	if (o->hints != NULL && file_check(o->hints, FILE_MAX_SMALL, why,
	    sizeof(why)) == -1) {
		check_error("--root-hints: %s", why);
		return -1;
	}
	if (o->no_resolvers)
		o->cfg.n_resolvers = 0;
	else if (o->cfg.n_resolvers == 0)
		for (i = 0; i < 3; i++)
			o->cfg.resolvers[o->cfg.n_resolvers++] =
			    default_resolvers[i];
	o->cfg.max_domains = 500;
	o->cfg.max_queries = 2000;
	return 0;
}

/* Before any packet: a database we cannot use is a usage error. */
static int
check_open_store(const struct check_opts *o, struct check_run *run)
{
	char	 err[512];

	store_policy_defaults(&run->spolicy);
	run->spolicy.rotation_window_s = run->policy.rotation_window_s;
	run->spolicy.critical_before_s = run->policy.critical_before_s;
	run->spolicy.multi_signer = o->multi;
	if (o->db != NULL &&
	    (run->store = store_open(o->db, err, sizeof(err))) == NULL) {
		check_error("--db: %s", err);
		return -1;
	}
	return 0;
}

/* Every probe started, the -t timer set, the loop run to the end. The
 * slots are one array the caller frees at the end: a check cut short by
 * -t never calls back for the probes still in flight. */
static int
check_probe_all(const struct check_opts *o, struct check_run *run,
    struct probe_engine *engine, char *argv[], struct slot *slots,
    struct event **limit)
{
	struct probe_hint	 hint;
	char			 err[512];
	unsigned		 i;

	for (i = 0; i < run->n; i++) {
		slots[i].run = run;
		slots[i].idx = i;
		if (probe_start_hint(engine, argv[i], check_hint(run, argv[i],
		    &hint), done_cb, &slots[i], err, sizeof(err)) == -1) {
			check_error("%s", err);
			return -1;
		}
	}
	if (o->limit_ms > 0) {
		struct timeval tv = { o->limit_ms / 1000,
		    (o->limit_ms % 1000) * 1000 };

		if ((*limit = evtimer_new(run->base, time_limit_cb, run)) ==
		    NULL || evtimer_add(*limit, &tv) == -1) {
			check_error("cannot set the time limit");
			return -1;
		}
	}
	event_base_dispatch(run->base);
	if (run->timed_out) {
		check_error("time limit of %g s reached with %u of %u domains "
		    "checked (-t/--time-limit)", o->limit_ms / 1000.0,
		    run->done, run->n);
		return -1;
	}
	if (run->done != run->n) {
		check_error("the event loop ended with %u of %u domains done",
		    run->done, run->n);
		return -1;
	}
	return 0;
}

/* Each result through the one record-a-check path (store_check, also
 * without --db); the worst severity, or -1 when a result is missing. */
static int
check_record(struct check_run *run, enum probe_severity *worst)
{
	unsigned	 i;

	*worst = PROBE_SEV_OK;
	for (i = 0; i < run->n; i++) {
		if (run->results[i] == NULL) {
			check_error("out of memory");
			return -1;
		}
		store_check(run->store, run->results[i], &run->policy,
		    &run->spolicy, clock_now(), &run->rot[i]);
		if (run->results[i]->severity > *worst)
			*worst = run->results[i]->severity;
	}
	return 0;
}

static int
print_json(const struct check_run *run)
{
	json_t		*doc = json_object(), *a = json_array();
	char		*s;
	unsigned	 i;

	for (i = 0; i < run->n; i++) {
		json_t *o = probe_result_json(run->results[i]);

		rotation_json(o, &run->rot[i]);
		json_array_append_new(a, o);
	}
	json_object_set_new(doc, "domains", a);
	s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (s == NULL) {
		check_error("out of memory");
		return -1;
	}
	printf("%s\n", s);
	free(s);
	return 0;
}

static int
check_print(const struct check_opts *o, const struct check_run *run,
    enum probe_severity worst)
{
	unsigned	 i;

	if (o->fmt == FMT_JSON)
		return print_json(run);
	if (o->fmt == FMT_NAGIOS)
		nagios_print(stdout, run->results, run->rot, run->n, worst,
		    &run->policy);
	else
		for (i = 0; i < run->n; i++)
			print_text(run->results[i], &run->rot[i]);
	return 0;
}

/* The Nagios plugin convention: the worst severity over all domains. */
static int
exit_of(enum probe_severity worst)
{
	switch (worst) {
	case PROBE_SEV_OK:	return EXIT_OK;
	case PROBE_SEV_WARNING:	return EXIT_WARNING;
	case PROBE_SEV_CRITICAL: return EXIT_CRITICAL;
	default:		return EXIT_UNKNOWN;
	}
}

static void
check_run_finish(struct check_run *run)
{
	unsigned	 u;

	if (run->results != NULL)
		for (u = 0; u < run->n; u++)
			free(run->results[u]);
	free(run->results);
	free(run->rot);
	store_close(run->store);
	if (run->base != NULL)
		event_base_free(run->base);
}

int
cmd_check(int argc, char *argv[])
{
	struct check_opts	 o;
	struct check_run	 run;
	struct probe_engine	*engine = NULL;
	enum probe_severity	 worst;
	struct event		*limit = NULL;
	struct domainlist	 names;
	struct slot		*slots = NULL;
	char			 err[512];
	int			 rc = EXIT_UNKNOWN;

	check_opts_init(&o, &run);
	memset(&names, 0, sizeof(names));
	log_procname("dnssecmon check");
	nagios_mode = wants_nagios(argc, argv);
	switch (check_options(argc, argv, &o, &run)) {
	case OPT_ERR:
		return EXIT_UNKNOWN;
	case OPT_EXIT:
		return EXIT_OK;
	}
	argc -= optind;
	argv += optind;
	if (check_names(&o, &names, &argc, &argv) == -1 ||
	    check_engine_config(&o) == -1 ||
	    check_name_syntax(argc, argv) == -1 ||
	    check_open_store(&o, &run) == -1)
		goto out;
	if ((run.base = event_base_new()) == NULL) {
		check_error("cannot create the event loop");
		goto out;
	}
	if ((engine = probe_engine_create(run.base, &o.cfg, err,
	    sizeof(err))) == NULL) {
		check_error("%s", err);
		goto out;
	}
	run.n = (unsigned)argc;
	if ((run.results = calloc(run.n, sizeof(*run.results))) == NULL ||
	    (run.rot = calloc(run.n, sizeof(*run.rot))) == NULL ||
	    (slots = calloc(run.n, sizeof(*slots))) == NULL) {
		check_error("out of memory");
		goto out;
	}
	if (check_probe_all(&o, &run, engine, argv, slots, &limit) == -1 ||
	    check_record(&run, &worst) == -1 ||
	    check_print(&o, &run, worst) == -1)
		goto out;
	rc = exit_of(worst);
out:
	domainlist_finish(&names);
	if (limit != NULL)
		event_free(limit);
	probe_engine_destroy(engine);
	free(slots);
	check_run_finish(&run);
	if (fflush(stdout) != 0 && rc != EXIT_UNKNOWN) {
		log_warn("stdout");
		rc = EXIT_UNKNOWN;
	}
	return rc;
}
