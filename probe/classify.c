/*
 * From an observation to a verdict: which DS points at which key, where
 * the key rotation stands, and a problem list in which every entry says
 * what to do. Pure: no I/O, the clock comes in as an argument.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "probe/answer.h"
#include "probe/dsmatch.h"
#include "probe/probe.h"

#define DAY	86400

void
probe_policy_defaults(struct probe_policy *p)
{
	/* Signers re-sign well before expiry (BIND at 7.5 days left of 30,
	 * Knot and PowerDNS at 7 of 14): 3 days left means re-signing has
	 * stalled; 1 day left means an outage is a day away. */
	p->sig_warning_s = 3 * DAY;
	p->sig_critical_s = 1 * DAY;
	p->insecure_is_problem = false;
}

void
probe_problem_add(struct probe_result *r, const char *code,
    enum probe_severity sev, const char *fmt, ...)
{
	struct probe_problem	*p;
	va_list			 ap;

	if (r->n_problems >= PROBE_MAX_PROBLEMS) {
		r->problems_dropped++;
		return;
	}
	p = &r->problems[r->n_problems++];
	snprintf(p->code, sizeof(p->code), "%s", code);
	p->severity = sev;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
}

const char *
probe_validation_name(enum probe_validation v)
{
	switch (v) {
	case PROBE_VAL_SECURE:		return "secure";
	case PROBE_VAL_INSECURE:	return "insecure";
	case PROBE_VAL_BOGUS:		return "bogus";
	default:			return "indeterminate";
	}
}

const char *
probe_state_name(enum probe_state s)
{
	switch (s) {
	case PROBE_STATE_STABLE:		return "stable";
	case PROBE_STATE_ROTATION_PENDING:	return "rotation_pending";
	case PROBE_STATE_DS_UPDATED:		return "ds_updated";
	case PROBE_STATE_STALE_DS:		return "stale_ds";
	case PROBE_STATE_BROKEN:		return "broken";
	case PROBE_STATE_INSECURE:		return "insecure";
	default:				return "unknown";
	}
}

const char *
probe_severity_name(enum probe_severity s)
{
	switch (s) {
	case PROBE_SEV_OK:		return "ok";
	case PROBE_SEV_WARNING:		return "warning";
	case PROBE_SEV_CRITICAL:	return "critical";
	default:			return "unknown";
	}
}

const char *
probe_qstatus_name(enum probe_qstatus q)
{
	switch (q) {
	case PROBE_Q_OK:	return "ok";
	case PROBE_Q_TIMEOUT:	return "timeout";
	case PROBE_Q_NETERR:	return "network error";
	case PROBE_Q_MALFORMED:	return "malformed answer";
	default:		return "not asked";
	}
}

/* Servers that gave us anything to judge. */
static uint32_t
answering_mask(const struct probe_result *r)
{
	uint32_t	 m = 0;
	unsigned	 i;

	for (i = 0; i < r->n_servers; i++)
		if (r->servers[i].status == PROBE_Q_OK &&
		    r->servers[i].n_dnskey + r->servers[i].has_soa > 0)
			m |= 1u << i;
	return m;
}

/* Match every DS (and CDS) to a published key by tag, algorithm, digest. */
static void
match_ds(struct probe_result *r, const uint8_t *owner, size_t olen)
{
	unsigned	 i, k;
	int		 m;

	for (k = 0; k < r->n_keys; k++) {
		r->keys[k].has_ds = false;
		r->keys[k].in_cds = false;
		r->keys[k].needs_ds = false;
		r->keys[k].in_cdnskey = false;
	}
	for (i = 0; i < r->n_ds; i++) {
		struct probe_ds *d = &r->ds[i];

		d->key = -1;
		d->stale = false;
		d->digest_unsupported = !dsmatch_digest_supported(d->digest_type);
		for (k = 0; k < r->n_keys; k++) {
			m = dsmatch_ds_matches(owner, olen, d->key_tag,
			    d->algorithm, d->digest_type, d->digest,
			    d->digest_len, r->keys[k].rdata,
			    r->keys[k].rdata_len);
			if (m == 1) {
				d->key = (int)k;
				r->keys[k].has_ds = true;
				break;
			}
		}
	}
	for (i = 0; i < r->n_cdnskey; i++) {
		uint8_t fp[32];

		r->cdnskey[i].key = -1;
		for (k = 0; k < r->n_keys; k++)
			if (answer_fingerprint(r->keys[k].rdata,
			    r->keys[k].rdata_len, fp) == 0 &&
			    memcmp(fp, r->cdnskey[i].fingerprint, 32) == 0) {
				r->cdnskey[i].key = (int)k;
				r->keys[k].in_cdnskey = true;
			}
	}
	for (i = 0; i < r->n_cds; i++) {
		struct probe_ds *d = &r->cds[i];

		d->key = -1;
		for (k = 0; k < r->n_keys; k++)
			if (dsmatch_ds_matches(owner, olen, d->key_tag,
			    d->algorithm, d->digest_type, d->digest,
			    d->digest_len, r->keys[k].rdata,
			    r->keys[k].rdata_len) == 1) {
				d->key = (int)k;
				r->keys[k].in_cds = true;
				break;
			}
	}
}

/* The SHA-256 DS line for a key, as the registrar wants it. */
static void
ds_line(const struct probe_result *r, const struct probe_key *k,
    const uint8_t *owner, size_t olen, char *out, size_t outlen)
{
	uint8_t	 dg[DSMATCH_DIGEST_MAX];
	size_t	 dl;

	if (dsmatch_digest(owner, olen, k->rdata, k->rdata_len, 2, dg,
	    sizeof(dg), &dl) == -1 ||
	    dsmatch_ds_record(r->domain, k->key_tag, k->algorithm, 2, dg, dl,
	    out, outlen) == -1)
		snprintf(out, outlen, "(cannot compute the DS of key %u)",
		    k->key_tag);
}

static void
append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t len, const char *fmt, ...)
{
	size_t	 n = strlen(buf);
	va_list	 ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* "8.8.8.8 (SERVFAIL), 1.1.1.1 (SERVFAIL)" for resolvers that fail. */
static void
failing_resolvers(const struct probe_result *r, char *buf, size_t len)
{
	unsigned	 i;

	buf[0] = '\0';
	for (i = 0; i < r->n_resolvers; i++) {
		const struct probe_resolver *v = &r->resolvers[i];

		if (v->status == PROBE_Q_OK && v->rcode == 2)
			append(buf, len, "%s%s", buf[0] ? ", " : "",
			    v->address);
	}
}

static bool
key_signs(const struct probe_key *k)
{
	return k->signs_dnskey != 0;
}

/*
 * Which keys does the child want the parent to point at, and which are on
 * their way out? CDS/CDNSKEY say it outright (RFC 7344), and large DNS
 * hosts publish them. Without CDS, history decides: the older of two
 * signing keys is the outgoing one. Without either, a signing key that has
 * no DS is assumed new: the cost of being wrong is one warning, the cost
 * of the opposite mistake is an outage nobody was told about.
 */
static bool
key_wanted(const struct probe_result *r, const struct probe_key *k)
{
	unsigned	 i;
	bool		 any_cds = false;
	time_t		 newest_with_ds = 0;

	for (i = 0; i < r->n_keys; i++)
		if (r->keys[i].in_cds || r->keys[i].in_cdnskey)
			any_cds = true;
	if (any_cds && !r->cds_delete)
		return k->in_cds || k->in_cdnskey;
	if (k->first_seen == 0)
		return true;
	for (i = 0; i < r->n_keys; i++) {
		const struct probe_key *o = &r->keys[i];

		if (o->has_ds && key_signs(o)) {
			if (o->first_seen == 0)
				return true;
			if (o->first_seen > newest_with_ds)
				newest_with_ds = o->first_seen;
		}
	}
	return k->first_seen >= newest_with_ds;
}

static void
classify_state(struct probe_result *r, const uint8_t *owner, size_t olen)
{
	char		 rec[1024], lines[2048], fails[256];
	unsigned	 i, k;
	bool		 chain = false, pending = false, outgoing = false;
	bool		 stale = false;

	for (i = 0; i < r->n_ds; i++) {
		const struct probe_ds *d = &r->ds[i];

		if (d->key >= 0 && key_signs(&r->keys[d->key]) &&
		    dsmatch_algorithm_supported(d->algorithm))
			chain = true;
		if (d->key < 0 && !d->digest_unsupported && !d->prepublished)
			stale = true;
	}

	if (r->n_ds == 0) {
		r->state = PROBE_STATE_INSECURE;
		lines[0] = '\0';
		for (k = 0; k < r->n_keys; k++)
			if (key_signs(&r->keys[k])) {
				r->keys[k].needs_ds = true;
				ds_line(r, &r->keys[k], owner, olen, rec,
				    sizeof(rec));
				append(lines, sizeof(lines), "%s%s",
				    lines[0] ? "; " : "", rec);
			}
		if (lines[0])
			probe_problem_add(r, "ds_missing", PROBE_SEV_OK,
			    "The zone is signed but %s has no DS for it, so "
			    "resolvers treat it as unsigned. To secure it, add "
			    "at the registrar: %s", r->parent, lines);
		return;
	}

	if (!chain) {
		r->state = PROBE_STATE_BROKEN;
		lines[0] = '\0';
		for (k = 0; k < r->n_keys; k++)
			if (key_signs(&r->keys[k]) &&
			    (r->keys[k].flags & 1)) {
				r->keys[k].needs_ds = true;
				ds_line(r, &r->keys[k], owner, olen, rec,
				    sizeof(rec));
				append(lines, sizeof(lines), "%s%s",
				    lines[0] ? "; " : "", rec);
			}
		failing_resolvers(r, fails, sizeof(fails));
		probe_problem_add(r, "chain_broken", PROBE_SEV_CRITICAL,
		    "No DS at %s matches a key that signs the DNSKEY RRset: "
		    "validating resolvers answer SERVFAIL%s%s%s. Replace the "
		    "DS at the registrar with: %s", r->parent,
		    fails[0] ? " (already failing: " : "", fails,
		    fails[0] ? ")" : "", lines[0] ? lines :
		    "(no signing key published: the DNS host must fix the zone)");
		for (i = 0; i < r->n_ds; i++)
			if (r->ds[i].key < 0 && !r->ds[i].digest_unsupported)
				r->ds[i].stale = true;
		return;
	}

	/* The chain holds. Is a key waiting for its DS, or leaving? */
	lines[0] = '\0';
	for (k = 0; k < r->n_keys; k++) {
		struct probe_key *key = &r->keys[k];

		if (key->has_ds)
			continue;
		if (key_signs(key) || key->in_cds || key->in_cdnskey) {
			if (key_wanted(r, key)) {
				key->needs_ds = true;
				pending = true;
				ds_line(r, key, owner, olen, rec, sizeof(rec));
				append(lines, sizeof(lines), "%s%s",
				    lines[0] ? "; " : "", rec);
			} else if (key->flags & 1)
				outgoing = true;
		}
	}
	if (pending) {
		r->state = PROBE_STATE_ROTATION_PENDING;
		probe_problem_add(r, "rotation_pending", PROBE_SEV_WARNING,
		    "A new key signs the DNSKEY RRset but %s has no DS for "
		    "it: add at the registrar, before the DNS host removes "
		    "the old key: %s", r->parent, lines);
	} else if (outgoing) {
		r->state = PROBE_STATE_DS_UPDATED;
		lines[0] = '\0';
		for (k = 0; k < r->n_keys; k++)
			if (!r->keys[k].has_ds && (r->keys[k].flags & 1))
				append(lines, sizeof(lines), "%s%u",
				    lines[0] ? ", " : "", r->keys[k].key_tag);
		probe_problem_add(r, "old_key_published", PROBE_SEV_OK,
		    "The DS at %s points at the new key; the old key %s is "
		    "still published and the DNS host can withdraw it once "
		    "the old DS has left resolver caches (DS TTL %u s)",
		    r->parent, lines, r->ds_ttl);
	} else if (stale)
		r->state = PROBE_STATE_STALE_DS;
	else
		r->state = PROBE_STATE_STABLE;

	if (stale) {
		for (i = 0; i < r->n_ds; i++) {
			struct probe_ds *d = &r->ds[i];
			char hex[2 * PROBE_MAX_DIGEST + 1];

			if (d->key >= 0 || d->digest_unsupported ||
			    d->prepublished)
				continue;
			d->stale = true;
			dsmatch_hex_upper(d->digest, d->digest_len, hex,
			    sizeof(hex));
			probe_problem_add(r, "stale_ds", PROBE_SEV_WARNING,
			    "%s holds a DS for key %u that the zone no longer "
			    "publishes: remove it at the registrar: %s. IN DS "
			    "%u %u %u %s", r->parent, d->key_tag, r->domain,
			    d->key_tag, d->algorithm, d->digest_type, hex);
		}
	}
}

static void
classify_ds_algorithms(struct probe_result *r)
{
	unsigned	 i, k;
	bool		 found;

	for (i = 0; i < r->n_ds; i++) {
		found = false;
		for (k = 0; k < r->n_keys; k++)
			if (r->keys[k].algorithm == r->ds[i].algorithm)
				found = true;
		if (!found && r->n_keys > 0)
			probe_problem_add(r, "ds_algorithm_mismatch",
			    r->state == PROBE_STATE_BROKEN ?
			    PROBE_SEV_CRITICAL : PROBE_SEV_WARNING,
			    "DS %u at %s is for algorithm %u (%s) but no "
			    "DNSKEY uses that algorithm: the DS must be "
			    "replaced at the registrar", r->ds[i].key_tag,
			    r->parent, r->ds[i].algorithm,
			    dsmatch_algorithm_name(r->ds[i].algorithm) ?
			    dsmatch_algorithm_name(r->ds[i].algorithm) : "?");
	}
}

static void
classify_validation(struct probe_result *r)
{
	char		 fails[256];
	unsigned	 i;

	failing_resolvers(r, fails, sizeof(fails));
	switch (r->validation) {
	case PROBE_VAL_BOGUS:
		probe_problem_add(r, "validation_bogus", PROBE_SEV_CRITICAL,
		    "DNSSEC validation of %s fails (%s): validating "
		    "resolvers answer SERVFAIL%s%s", r->domain,
		    r->why_bogus[0] ? r->why_bogus : "bogus",
		    fails[0] ? "; already failing: " : "", fails);
		break;
	case PROBE_VAL_INDETERMINATE:
		probe_problem_add(r, "validation_indeterminate",
		    PROBE_SEV_UNKNOWN, "The validator could not reach a "
		    "verdict for %s%s%s: check the monitor's trust anchor, "
		    "root hints and network", r->domain,
		    r->why_bogus[0] ? ": " : "", r->why_bogus);
		break;
	case PROBE_VAL_INSECURE:
		if (r->n_ds > 0)
			probe_problem_add(r, "validation_insecure",
			    PROBE_SEV_WARNING, "%s has DS records but "
			    "validates as insecure: no DS uses an algorithm "
			    "and digest validators support", r->domain);
		break;
	default:
		break;
	}

	for (i = 0; i < r->n_resolvers; i++) {
		const struct probe_resolver *v = &r->resolvers[i];
		char ede[180] = "";

		if (v->ede >= 0)
			snprintf(ede, sizeof(ede), " (extended error %d%s%s)",
			    v->ede, v->ede_text[0] ? ": " : "", v->ede_text);
		if (v->status != PROBE_Q_OK) {
			probe_problem_add(r, "resolver_unreachable",
			    PROBE_SEV_WARNING, "Resolver %s did not answer "
			    "(%s): this says nothing about %s, check the "
			    "resolver or the path to it", v->address,
			    probe_qstatus_name(v->status), r->domain);
			continue;
		}
		if (r->validation == PROBE_VAL_SECURE && v->rcode == 2)
			probe_problem_add(r, "resolver_servfail",
			    PROBE_SEV_WARNING, "Resolver %s answers SERVFAIL "
			    "for %s%s although the chain validates here: it "
			    "may still cache a broken answer; it clears when "
			    "its cache expires, or flush it", v->address,
			    r->domain, ede);
		else if (r->validation == PROBE_VAL_SECURE && v->rcode == 0 &&
		    !v->ad)
			probe_problem_add(r, "resolver_not_validating",
			    PROBE_SEV_WARNING, "Resolver %s answers %s without "
			    "the AD flag although the chain validates: it "
			    "does not validate DNSSEC (or strips AD)",
			    v->address, r->domain);
	}
}

static void
classify_signatures(struct probe_result *r, const struct probe_policy *pol,
    time_t now)
{
	char		 when[32], left[32];
	unsigned	 i;
	long long	 rest;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (s->sig_expired)
			probe_problem_add(r, "signature_expired",
			    PROBE_SEV_CRITICAL, "%s (%s) serves expired "
			    "RRSIGs (earliest expiry %s): the DNS host must "
			    "re-sign the zone", s->name, s->address,
			    clock_rfc3339(s->sig_earliest_expiry, when,
			    sizeof(when)));
		if (s->sig_not_yet_valid)
			probe_problem_add(r, "signature_not_yet_valid",
			    PROBE_SEV_CRITICAL, "%s (%s) serves RRSIGs whose "
			    "inception %s is in the future: the signer's "
			    "clock is wrong or the zone was signed ahead",
			    s->name, s->address, clock_rfc3339(
			    s->sig_latest_inception, when, sizeof(when)));
	}
	if (r->earliest_sig_expiry == 0)
		return;
	rest = (long long)r->earliest_sig_expiry - (long long)now;
	if (rest <= 0)
		return;		/* reported per server above */
	if (rest < pol->sig_critical_s || rest < pol->sig_warning_s)
		probe_problem_add(r, "signature_expiring",
		    rest < pol->sig_critical_s ? PROBE_SEV_CRITICAL :
		    PROBE_SEV_WARNING, "RRSIGs of %s expire at %s (in %s): "
		    "the DNS host's signer has stopped re-signing",
		    r->domain, clock_rfc3339(r->earliest_sig_expiry, when,
		    sizeof(when)), clock_duration(rest, left, sizeof(left)));
}

static void
tag_list(const struct probe_result *r, unsigned server, char *buf,
    size_t len)
{
	unsigned	 k;

	buf[0] = '\0';
	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].servers & (1u << server))
			append(buf, len, "%s%u", buf[0] ? " " : "",
			    r->keys[k].key_tag);
}

static void
classify_servers(struct probe_result *r, uint32_t answering)
{
	char		 a[128], b[128];
	unsigned	 i, best = 0;
	uint32_t	 max_serial = 0;
	bool		 have_serial = false;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (s->status != PROBE_Q_OK)
			probe_problem_add(r, "server_unreachable",
			    PROBE_SEV_WARNING, "%s (%s) did not answer "
			    "(%s%s%s): resolvers fall back to the other "
			    "servers, but the DNS host should fix it",
			    s->name, s->address,
			    probe_qstatus_name(s->status),
			    s->error[0] ? ": " : "", s->error);
		else if (s->has_soa && !s->authoritative)
			probe_problem_add(r, "lame_delegation",
			    PROBE_SEV_WARNING, "%s (%s) is listed as a "
			    "server of %s but does not answer "
			    "authoritatively", s->name, s->address, r->domain);
		if ((answering & (1u << i)) && s->has_soa) {
			/* RFC 1982 arithmetic: newer is at most 2^31 ahead. */
			if (!have_serial || (int32_t)(s->soa_serial -
			    max_serial) > 0) {
				max_serial = s->soa_serial;
				best = i;
			}
			have_serial = true;
		}
	}
	if (!have_serial)
		return;
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];
		unsigned k;
		bool same = true;

		if (!(answering & (1u << i)) || !s->has_soa)
			continue;
		for (k = 0; k < r->n_keys; k++)
			if (((r->keys[k].servers >> i) & 1) !=
			    ((r->keys[k].servers >> best) & 1))
				same = false;
		if (!same) {
			tag_list(r, i, a, sizeof(a));
			tag_list(r, best, b, sizeof(b));
			probe_problem_add(r, "servers_disagree",
			    PROBE_SEV_WARNING, "%s (%s) serves DNSKEYs {%s} "
			    "at serial %u while %s (%s) serves {%s} at serial "
			    "%u: %s is behind, check zone transfers from the "
			    "DNS host", s->name, s->address, a, s->soa_serial,
			    r->servers[best].name, r->servers[best].address, b,
			    max_serial, s->soa_serial == max_serial ?
			    "one of them" : s->name);
		} else if (s->soa_serial != max_serial)
			probe_problem_add(r, "serial_mismatch",
			    PROBE_SEV_WARNING, "%s (%s) serves serial %u, "
			    "%s (%s) serves %u: %s is behind", s->name,
			    s->address, s->soa_serial, r->servers[best].name,
			    r->servers[best].address, max_serial, s->name);
	}
}

static void
classify_cds(struct probe_result *r)
{
	char		 want[256] = "", have[256] = "";
	unsigned	 i;
	bool		 differ = false;

	if (r->cds_delete) {
		probe_problem_add(r, "cds_delete", PROBE_SEV_WARNING,
		    "The zone publishes a CDS delete request: it asks %s to "
		    "remove every DS (turn DNSSEC off)", r->parent);
		return;
	}
	if (r->n_cds == 0)
		return;
	for (i = 0; i < r->n_cds; i++) {
		append(want, sizeof(want), "%s%u", want[0] ? " " : "",
		    r->cds[i].key_tag);
		if (r->cds[i].key < 0)
			probe_problem_add(r, "cds_unknown_key",
			    PROBE_SEV_WARNING, "CDS %u names a key the zone "
			    "does not publish: the DNS host's CDS is wrong, "
			    "do not copy it to the registrar",
			    r->cds[i].key_tag);
		else if (!r->keys[r->cds[i].key].has_ds)
			differ = true;
	}
	for (i = 0; i < r->n_ds; i++) {
		unsigned j;
		bool found = false;

		append(have, sizeof(have), "%s%u", have[0] ? " " : "",
		    r->ds[i].key_tag);
		for (j = 0; j < r->n_cds; j++)
			if (r->cds[j].key_tag == r->ds[i].key_tag &&
			    r->cds[j].algorithm == r->ds[i].algorithm)
				found = true;
		if (!found)
			differ = true;
	}
	/* In a pending rotation or after the DS swap, a difference is the
	 * expected shape; it is reported through the rotation problem. */
	if (differ && (r->state == PROBE_STATE_STABLE ||
	    r->state == PROBE_STATE_STALE_DS))
		probe_problem_add(r, "cds_mismatch", PROBE_SEV_WARNING,
		    "The zone's CDS asks for DS {%s} but %s holds {%s}: "
		    "update the DS at the registrar to match", want,
		    r->parent, have);
}

static void
classify_zsk(struct probe_result *r, uint32_t answering)
{
	unsigned	 k, zsks = 0, idle = 0;
	uint16_t	 idle_tag = 0;

	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];

		if ((key->flags & 1) || key_signs(key))
			continue;
		zsks++;
		if ((key->signs_soa & answering) == 0) {
			idle++;
			idle_tag = key->key_tag;
		}
	}
	if (zsks > 1 && idle > 0)
		probe_problem_add(r, "zsk_rotation", PROBE_SEV_OK,
		    "ZSK %u is published but not yet signing: a ZSK rotation "
		    "is under way at the DNS host (nothing to do at the "
		    "registrar)", idle_tag);
}

void
probe_classify(struct probe_result *r, const struct probe_policy *pol,
    time_t now)
{
	uint8_t			 owner[DSMATCH_NAME_MAX];
	size_t			 olen;
	uint32_t		 answering;
	enum probe_severity	 sev;
	unsigned		 i;

	r->n_problems = 0;
	r->problems_dropped = 0;
	r->state = PROBE_STATE_UNKNOWN;

	if (dsmatch_name_to_wire(r->domain, owner, sizeof(owner), &olen,
	    NULL, 0) == -1) {
		probe_problem_add(r, "invalid_name", PROBE_SEV_UNKNOWN,
		    "%s is not a valid domain name", r->domain);
		goto done;
	}
	match_ds(r, owner, olen);
	answering = answering_mask(r);

	if (r->parent_status != PROBE_Q_OK) {
		probe_problem_add(r, "parent_unreachable", PROBE_SEV_UNKNOWN,
		    "No server of the parent zone%s%s answered for %s (%s): "
		    "the DS cannot be checked%s%s", r->parent[0] ? " " : "",
		    r->parent, r->domain, r->error[0] ? r->error :
		    probe_qstatus_name(r->parent_status),
		    r->parent_server[0] ? "; last tried " : "",
		    r->parent_server);
	} else if (!r->delegated) {
		probe_problem_add(r, "not_delegated", PROBE_SEV_CRITICAL,
		    "%s is not delegated from %s%s%s: check the name, or the "
		    "domain's registration", r->domain,
		    r->parent[0] ? r->parent : "its parent",
		    r->error[0] ? ": " : "", r->error);
	} else if (answering == 0 && r->n_servers > 0) {
		classify_servers(r, answering);
		probe_problem_add(r, "no_server_answers", PROBE_SEV_CRITICAL,
		    "None of the %u servers of %s answered: the domain does "
		    "not resolve for anyone", r->n_servers, r->domain);
	} else if (r->n_servers == 0) {
		probe_problem_add(r, "no_servers", PROBE_SEV_CRITICAL,
		    "No usable name server address for %s%s%s", r->domain,
		    r->error[0] ? ": " : "", r->error);
	} else {
		classify_state(r, owner, olen);
		classify_ds_algorithms(r);
		classify_servers(r, answering);
		classify_cds(r);
		classify_zsk(r, answering);
		classify_signatures(r, pol, now);
	}
	classify_validation(r);

	if (r->state == PROBE_STATE_INSECURE && pol->insecure_is_problem)
		probe_problem_add(r, "insecure", PROBE_SEV_WARNING,
		    "%s has no DS at %s: answers for it cannot be validated",
		    r->domain, r->parent);
	if (r->ds_dropped + r->keys_dropped + r->servers_dropped > 0)
		probe_problem_add(r, "observation_truncated", PROBE_SEV_WARNING,
		    "More records than the monitor keeps (%u DS, %u DNSKEY, "
		    "%u server addresses dropped): the verdict may be "
		    "incomplete", r->ds_dropped, r->keys_dropped,
		    r->servers_dropped);

done:
	switch (r->state) {
	case PROBE_STATE_ROTATION_PENDING:
	case PROBE_STATE_STALE_DS:
		sev = PROBE_SEV_WARNING;
		break;
	case PROBE_STATE_BROKEN:
		sev = PROBE_SEV_CRITICAL;
		break;
	case PROBE_STATE_UNKNOWN:
		sev = PROBE_SEV_UNKNOWN;
		break;
	default:
		sev = PROBE_SEV_OK;
		break;
	}
	for (i = 0; i < r->n_problems; i++)
		if (r->problems[i].severity > sev)
			sev = r->problems[i].severity;
	r->severity = sev;
}
