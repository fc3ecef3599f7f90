/*
 * From an observation to a verdict: which DS points at which key, where
 * the key rotation stands, and a problem list in which every entry says
 * what to do. Pure: no I/O, the clock comes in as an argument.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "probe/answer.h"
#include "probe/parents.h"
#include "probe/probe.h"

#define DAY	86400

/*
 * Registries that read CDS/CDNSKEY from the child and update the DS
 * themselves, scanning daily (RFC 7344, RFC 8078), each on its own
 * published policy: SWITCH for .ch and .li (nic.ch "CDS Status Check"),
 * the Swedish Internet Foundation for .se and .nu ("Policy and Guidelines
 * for Automated DNSSEC Provisioning"), CZ.NIC for .cz ("Automatizovaná
 * správa keysetů", from CDNSKEY). .sk was listed once; SK-NIC publishes no
 * such policy that we could find, so it is out. dnssecmon.conf(5) gives
 * the addresses.
 */
static const char *const default_cds_parents[] = {
	"ch", "li", "se", "nu", "cz"
};

void
probe_policy_defaults(struct probe_policy *p)
{
	/* Signers re-sign well before expiry (BIND at 7.5 days left of 30,
	 * Knot and PowerDNS at 7 of 14): 3 days left means re-signing has
	 * stalled; 1 day left means an outage is a day away. */
	p->sig_warning_s = 3 * DAY;
	p->sig_critical_s = 1 * DAY;
	p->insecure_is_problem = false;
	/* The large DNS host's window: the new key stands beside the old
	 * one for 7 days; 72 hours left is when a NOC must act today. */
	p->rotation_window_s = 7L * DAY;
	p->critical_before_s = 72L * 3600;
	p->multi_signer = PROBE_MULTI_AUTO;
	p->cds_parents = default_cds_parents;
	p->n_cds_parents = sizeof(default_cds_parents) /
	    sizeof(default_cds_parents[0]);
	/* They scan once a day and act on a signed domain's rollover the
	 * same day (.se) or at the next run (.ch): two days is one missed
	 * scan of slack. */
	p->cds_pickup_s = 2L * DAY;
}

uint32_t
probe_answering_mask(const struct probe_result *r)
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

/*
 * Add the DS of key k with this digest type to r->publish, once. Returns
 * its index, -1 when it does not fit or cannot be computed.
 */
static int
publish_add(struct probe_result *r, const struct probe_key *k,
    const uint8_t *owner, size_t olen, uint8_t type)
{
	struct probe_ds	*d;
	size_t		 dl;
	unsigned	 i;
	int		 idx = (int)(k - r->keys);

	for (i = 0; i < r->n_publish; i++)
		if (r->publish[i].key == idx && r->publish[i].digest_type == type)
			return (int)i;
	if (r->n_publish == sizeof(r->publish) / sizeof(r->publish[0]))
		return -1;
	d = &r->publish[r->n_publish];
	memset(d, 0, sizeof(*d));
	if (dsmatch_digest(owner, olen, k->rdata, k->rdata_len, type,
	    d->digest, sizeof(d->digest), &dl) == -1)
		return -1;
	d->key_tag = k->key_tag;
	d->algorithm = k->algorithm;
	d->digest_type = type;
	d->digest_len = (uint8_t)dl;
	d->key = idx;
	return (int)r->n_publish++;
}

/*
 * The DS to publish for a key: SHA-256, the digest every validator and
 * registrar takes, and SHA-384 beside it for a key whose strength exceeds
 * SHA-256's (algorithms 14, 16). Never SHA-1, and nothing for a key of a
 * deprecated algorithm: a new DS for it would anchor the zone to what
 * validators are dropping. Kept in r->publish for every consumer; the
 * SHA-256 line (or why there is none) is written to out.
 */
static void
ds_line(struct probe_result *r, const struct probe_key *k,
    const uint8_t *owner, size_t olen, char *out, size_t outlen)
{
	const struct probe_ds	*d;
	const char		*name;
	int			 i;

	if (dsmatch_algorithm_deprecated(k->algorithm)) {
		name = dsmatch_algorithm_name(k->algorithm);
		snprintf(out, outlen, "(no DS offered for key %u: its algorithm "
		    "%u (%s) is deprecated; sign the zone with algorithm 13 or "
		    "8 first)", k->key_tag, k->algorithm, name ? name : "?");
		return;
	}
	/* A DS for a key whose signature over the DNSKEY RRset does not
	 * verify would anchor the zone to a signature validators reject. */
	if (k >= r->keys && k < r->keys + r->n_keys &&
	    probe_key_sig_verified(r, (unsigned)(k - r->keys)) == 0) {
		snprintf(out, outlen, "(no DS offered for key %u: its signature "
		    "over the DNSKEY RRset does not verify on every server that "
		    "serves it; have the signer re-sign first)", k->key_tag);
		return;
	}
	if ((i = publish_add(r, k, owner, olen, 2)) < 0)
		goto fail;
	d = &r->publish[i];
	if (dsmatch_sha384_warranted(k->algorithm))
		(void)publish_add(r, k, owner, olen, 4);
	if (dsmatch_ds_record(r->domain, d->key_tag, d->algorithm, 2,
	    d->digest, d->digest_len, out, outlen) == 0)
		return;
fail:
	snprintf(out, outlen, "(cannot compute the DS of key %u)", k->key_tag);
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
 * signing keys is the outgoing one. Without either, one snapshot cannot
 * tell a rotation that starts (new key, old DS) from one that finishes
 * (new DS, old key still published): the two are mirror images. The key
 * is then taken as wanted, since an outage nobody was told about costs
 * more than a warning, but the answer says it guessed (KEY_GUESS) so that
 * every output can give both readings.
 */
enum key_want { KEY_RETIRING = 0, KEY_WANTED, KEY_GUESS };

static enum key_want
key_wanted(const struct probe_result *r, const struct probe_key *k)
{
	unsigned	 i;
	bool		 any_cds = false;
	time_t		 newest_with_ds = 0;

	for (i = 0; i < r->n_keys; i++)
		if (r->keys[i].in_cds || r->keys[i].in_cdnskey)
			any_cds = true;
	if (any_cds && !r->cds_delete)
		return k->in_cds || k->in_cdnskey ? KEY_WANTED : KEY_RETIRING;
	if (k->first_seen == 0)
		return KEY_GUESS;
	for (i = 0; i < r->n_keys; i++) {
		const struct probe_key *o = &r->keys[i];

		if (o->has_ds && key_signs(o)) {
			if (o->first_seen == 0)
				return KEY_GUESS;
			if (o->first_seen > newest_with_ds)
				newest_with_ds = o->first_seen;
		}
	}
	/* Seen together (the first observation): history cannot tell. */
	if (k->first_seen == newest_with_ds)
		return KEY_GUESS;
	return k->first_seen > newest_with_ds ? KEY_WANTED : KEY_RETIRING;
}

/* The signing keys that have a DS, as "tag, tag". */
static void
keys_with_ds(const struct probe_result *r, char *buf, size_t len)
{
	unsigned	 k;

	buf[0] = '\0';
	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].has_ds && key_signs(&r->keys[k]))
			append(buf, len, "%s%u", buf[0] ? ", " : "",
			    r->keys[k].key_tag);
}

/* Does every key waiting for its DS stand in the CDS of a parent that
 * applies CDS itself? Then the registry, not a person, adds the DS. */
static bool
pending_by_cds(const struct probe_result *r)
{
	unsigned	 k;
	bool		 any = false;

	if (!r->cds_parent_applies || !r->cds_acceptable)
		return false;
	for (k = 0; k < r->n_keys; k++) {
		if (!r->keys[k].needs_ds)
			continue;
		if (!r->keys[k].in_cds && !r->keys[k].in_cdnskey)
			return false;
		any = true;
	}
	return any;
}

static void
classify_state(struct probe_result *r, const uint8_t *owner, size_t olen,
    const struct probe_policy *pol, time_t now)
{
	char		 rec[1024], lines[2048], fails[256], tags[128], since[32], from[32];
	unsigned	 i, k;
	bool		 chain = false, pending = false, outgoing = false;
	bool		 stale = false, propagating = true;

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
			probe_problem_add(r, PROBE_P_DS_MISSING,
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
		probe_problem_add(r, PROBE_P_CHAIN_BROKEN,
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
	tags[0] = '\0';
	for (k = 0; k < r->n_keys; k++) {
		struct probe_key *key = &r->keys[k];
		enum key_want w;

		if (key->has_ds)
			continue;
		if (key_signs(key) || key->in_cds || key->in_cdnskey) {
			if ((w = key_wanted(r, key)) != KEY_RETIRING) {
				key->needs_ds = true;
				pending = true;
				if (w == KEY_GUESS)
					r->rotation_ambiguous = true;
				propagating &= key->ds_partial;
				ds_line(r, key, owner, olen, rec, sizeof(rec));
				append(lines, sizeof(lines), "%s%s",
				    lines[0] ? "; " : "", rec);
				append(tags, sizeof(tags), "%s%u",
				    tags[0] ? ", " : "", key->key_tag);
			} else if (key->flags & 1)
				outgoing = true;
		}
	}
	if (pending && r->rotation_ambiguous) {
		r->state = PROBE_STATE_ROTATION_PENDING;
		keys_with_ds(r, fails, sizeof(fails));
		probe_problem_add(r, PROBE_P_ROTATION_AMBIGUOUS,
		    "Neither CDS nor history tells whether key %s (no DS at "
		    "%s) is new or retiring: a rotation that starts looks like "
		    "one that finishes. If %s is new, add at the registrar "
		    "before old key %s goes: %s. If %s is retiring (the DS was "
		    "already replaced), nothing is needed", tags, r->parent,
		    tags, fails, lines, tags);
	} else if (pending && propagating) {
		/* The registrar did its part; the parent's servers have
		 * not all caught up (parent_ds_disagree names them). */
		r->state = PROBE_STATE_ROTATION_PENDING;
		probe_problem_add(r, PROBE_P_ROTATION_PENDING,
		    "The DS for the new key is at some servers of %s but not "
		    "yet at all of them: the DNS host must keep the old key "
		    "until every server serves the new DS (nothing to do at "
		    "the registrar unless that lasts): %s", r->parent, lines);
	} else if (pending && pending_by_cds(r)) {
		char	 when[32];
		time_t	 start = now;
		int	 nk = probe_rotation_new_key(r);

		if (nk >= 0 && r->keys[nk].first_seen != 0)
			start = r->keys[nk].first_seen;
		r->cds_pickup = start + pol->cds_pickup_s;
		r->state = PROBE_STATE_ROTATION_PENDING;
		probe_problem_add(r, PROBE_P_ROTATION_PENDING,
		    "A new key signs the DNSKEY RRset and the zone's CDS asks "
		    "%s for its DS: the registry should pick this up by %s "
		    "(it reads CDS itself); if it has not by then, check the "
		    "registry's CDS status page and that every server still "
		    "serves this CDS, or add at the registrar: %s", r->parent,
		    clock_rfc3339(r->cds_pickup, when, sizeof(when)), lines);
	} else if (pending) {
		r->state = PROBE_STATE_ROTATION_PENDING;
		probe_problem_add(r, PROBE_P_ROTATION_PENDING,
		    "A new key signs the DNSKEY RRset but %s has no DS for "
		    "it: add at the registrar, before the DNS host removes "
		    "the old key: %s", r->parent, lines);
	} else if (outgoing) {
		r->state = PROBE_STATE_DS_UPDATED;
		/* RFC 7583: the old key may go once the old DS has left
		 * every cache, i.e. the DS TTL after the last parent server
		 * took the new DS. The record keeps when that was; a check
		 * without one can only say "by now". */
		r->ds_everywhere_at = r->history.rotation_open &&
		    r->history.rot_ds_updated_at != 0 ?
		    r->history.rot_ds_updated_at : now;
		r->safe_removal_at = r->ds_everywhere_at +
		    (time_t)parents_ds_ttl(r);
		lines[0] = '\0';
		for (k = 0; k < r->n_keys; k++)
			if (!r->keys[k].has_ds && (r->keys[k].flags & 1))
				append(lines, sizeof(lines), "%s%u",
				    lines[0] ? ", " : "", r->keys[k].key_tag);
		/* A server that did not answer may still serve the old
		 * DS to others: say how many vouched. */
		fails[0] = '\0';
		if (parents_answering(r) < r->n_parents)
			snprintf(fails, sizeof(fails), "; only %u of %u "
			    "servers answered, the others may still serve "
			    "the old DS", parents_answering(r), r->n_parents);
		probe_problem_add(r, PROBE_P_OLD_KEY_PUBLISHED,
		    "The DS at %s points at the new key (on every %s server "
		    "by %s%s); the old key %s is still published and the "
		    "DNS host can withdraw it from %s, once the old DS has "
		    "left resolver caches (DS TTL %u s)", r->parent,
		    r->every_parent ? "answering" : "asked",
		    clock_rfc3339(r->ds_everywhere_at, since, sizeof(since)),
		    fails, lines, clock_rfc3339(r->safe_removal_at, from,
		    sizeof(from)), parents_ds_ttl(r));
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
			probe_problem_add(r, PROBE_P_STALE_DS,
			    "%s holds a DS for key %u that the zone no longer "
			    "publishes: remove it at the registrar: %s. IN DS "
			    "%u %u %u %s", r->parent, d->key_tag, r->domain,
			    d->key_tag, d->algorithm, d->digest_type, hex);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Algorithm rollovers (RFC 6781 4.1.4, timing RFC 7583). */

/* RFC 8624 says not to sign with these: moving off one, it is the old. */
static bool
alg_deprecated(unsigned a)
{
	return a == 1 || a == 3 || a == 5 || a == 6 || a == 7 || a == 12;
}

static const char *
alg_name(unsigned a)
{
	const char	*n = dsmatch_algorithm_name((uint8_t)a);

	return n != NULL ? n : "?";
}

/*
 * Which of algorithms a and b is the old one (0: cannot tell), and why.
 * History first (the algorithm whose keys the store saw first), then the
 * zone's own word (its CDS names the target), then RFC 8624 (nobody
 * rolls onto a deprecated algorithm), and last the DS: in the early,
 * longer stages the parent still names only the old algorithm. Without
 * history a single check cannot tell stage 3 of A to B from stage 2 of B
 * to A (or 4 from 1): the daemon's store can.
 */
static unsigned
alg_old(const struct probe_result *r, unsigned a, unsigned b,
    uint32_t ds_algs, char *basis, size_t len)
{
	time_t		 first[2] = { 0, 0 };
	uint32_t	 cds = 0;
	unsigned	 k, x;

	/* The store's memory of every key ever seen, gone ones included,
	 * and the keys of this check (first seen now, when new). */
	first[0] = r->history.alg_first_seen[a];
	first[1] = r->history.alg_first_seen[b];
	for (k = 0; k < r->n_keys; k++) {
		x = r->keys[k].algorithm == a ? 0 : r->keys[k].algorithm == b ?
		    1 : 2;
		if (x < 2 && r->keys[k].first_seen != 0 && (first[x] == 0 ||
		    r->keys[k].first_seen < first[x]))
			first[x] = r->keys[k].first_seen;
	}
	if (r->history.tracked && first[0] != first[1]) {
		snprintf(basis, len, "history: its keys came first");
		if (first[1] == 0)
			return a;
		if (first[0] == 0)
			return b;
		return first[0] < first[1] ? a : b;
	}
	/* A CDS for an algorithm the parent does not hold yet is the
	 * target; a CDS equal to the DS says nothing. */
	for (k = 0; k < r->n_cds; k++)
		if (r->cds[k].algorithm < 32)
			cds |= 1u << r->cds[k].algorithm;
	cds &= ~ds_algs;
	if (((cds >> a) & 1) != ((cds >> b) & 1)) {
		snprintf(basis, len, "the zone's CDS names the new one");
		return (cds >> a) & 1 ? b : a;
	}
	if (alg_deprecated(a) != alg_deprecated(b)) {
		snprintf(basis, len, "RFC 8624 deprecates the old one");
		return alg_deprecated(a) ? a : b;
	}
	if (((ds_algs >> a) & 1) != ((ds_algs >> b) & 1)) {
		snprintf(basis, len, "the parent's DS names only the old one");
		return (ds_algs >> a) & 1 ? a : b;
	}
	return 0;
}

/* What each algorithm does on the servers that answered. */
struct alg_view {
	uint32_t	 keys, ds, sig_any;
	uint32_t	 sig_every;	/* signs SOA and NSEC(3) everywhere */
	uint32_t	 dnskey_every;	/* signs the DNSKEY RRset everywhere */
	char		 missing[160];	/* servers where the old falls short */
};

static bool
alg_view(const struct probe_result *r, uint32_t answering, struct alg_view *v)
{
	unsigned	 i, k;
	bool		 any = false;

	memset(v, 0, sizeof(*v));
	v->sig_every = v->dnskey_every = ~0u;
	for (k = 0; k < r->n_keys; k++)
		if ((r->keys[k].servers & answering) &&
		    r->keys[k].algorithm < 32)
			v->keys |= 1u << r->keys[k].algorithm;
	for (i = 0; i < r->n_ds; i++)
		if (r->ds[i].algorithm < 32)
			v->ds |= 1u << r->ds[i].algorithm;
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];
		uint32_t every = s->sig_algs_soa;

		if (!(answering & (1u << i)) || !s->has_soa)
			continue;
		any = true;
		if (s->sig_algs_nsec != 0)
			every &= s->sig_algs_nsec;
		v->sig_any |= s->sig_algs_soa | s->sig_algs_dnskey |
		    s->sig_algs_nsec;
		v->sig_every &= every;
		v->dnskey_every &= s->sig_algs_dnskey;
	}
	return any;
}

/* Servers on which algorithm a does not sign every RRset we see. */
static void
alg_missing_on(const struct probe_result *r, uint32_t answering, unsigned a,
    bool dnskey, char *buf, size_t len)
{
	unsigned	 i;

	buf[0] = '\0';
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];
		uint32_t every = s->sig_algs_soa;

		if (!(answering & (1u << i)) || !s->has_soa)
			continue;
		if (s->sig_algs_nsec != 0)
			every &= s->sig_algs_nsec;
		if (dnskey)
			every &= s->sig_algs_dnskey;
		if (!((every >> a) & 1))
			append(buf, len, "%s%s", buf[0] ? ", " : "",
			    s->address);
	}
}

/* The two dangerous orderings. Returns true when one was found. */
static bool
alg_bad_order(struct probe_result *r, uint32_t answering,
    const struct alg_view *v, unsigned o, unsigned n)
{
	bool		 n_ready, o_ready, bad = false;
	char		 where[160], wpart[180];

	n_ready = ((v->keys >> n) & 1) && ((v->sig_every >> n) & 1) &&
	    ((v->dnskey_every >> n) & 1);
	o_ready = ((v->keys >> o) & 1) && ((v->sig_every >> o) & 1) &&
	    ((v->dnskey_every >> o) & 1);
	if (((v->ds >> n) & 1) && !n_ready) {
		alg_missing_on(r, answering, n, true, where, sizeof(where));
		snprintf(wpart, sizeof(wpart), "%s%s%s", where[0] ?
		    " (not on " : "", where, where[0] ? ")" : "");
		probe_problem_add_sev(r, PROBE_P_ALGORITHM_ROLLOVER_ORDER,
		    ((v->ds >> o) & 1) && o_ready ? PROBE_SEV_WARNING :
		    PROBE_SEV_CRITICAL, "%s at %s names algorithm %u (%s) "
		    "before it %s%s: validators that follow that DS fail "
		    "the zone; take the DS for %u back out until %u's keys "
		    "are published and have signed every RRset for a full "
		    "TTL (RFC 6781 4.1.4)", ((v->ds >> o) & 1) ?
		    "A DS" : "The only DS", r->parent, n, alg_name(n),
		    ((v->keys >> n) & 1) ? "signs every RRset" :
		    "has a published DNSKEY", wpart, n, n);
		bad = true;
	}
	/* Old keys and signatures all gone with the new DS in place is the
	 * last cleanup (stale_ds names the DS to remove), not a danger. */
	if (((v->ds >> o) & 1) && !o_ready && !(((v->ds >> n) & 1) &&
	    n_ready && !((v->keys >> o) & 1) && !((v->sig_any >> o) & 1))) {
		alg_missing_on(r, answering, o, (v->keys >> o) & 1, where,
		    sizeof(where));
		probe_problem_add_sev(r, PROBE_P_ALGORITHM_ROLLOVER_ORDER,
		    ((v->ds >> n) & 1) && n_ready ? PROBE_SEV_WARNING :
		    PROBE_SEV_CRITICAL, "The DS at %s still names algorithm "
		    "%u (%s) but %u no longer %s%s%s: the old signatures and "
		    "keys must stay until the DS for %u (%s) has replaced it "
		    "and the old DS has left caches (DS TTL %u s)", r->parent,
		    o, alg_name(o), o, ((v->keys >> o) & 1) ?
		    "signs every RRset" : "has a published DNSKEY",
		    where[0] ? " on " : "", where, n, alg_name(n), r->ds_ttl);
		bad = true;
	}
	return bad;
}

/*
 * The stage's clock. A stage the last check saw too keeps its start (from
 * history: the store keeps it across restarts); the next step is safe once
 * what the stage changed has left every cache (RFC 7583: the DNSKEY TTL
 * after keys or signatures come or go, the DS TTL after the DS swap; for
 * new signatures the zone's other TTLs are not read, so the DNSKEY TTL
 * stands in), and is due within the rotation window: a stage that outlasts
 * it has stalled, with both algorithms' costs (a larger DNSKEY answer,
 * twice the signatures) and a signer that may have lost track.
 */
static void
alg_stage_clock(struct probe_result *r, const struct probe_policy *pol,
    time_t now)
{
	struct probe_alg_rollover *ro = &r->alg_rollover;
	const struct probe_history *h = &r->history;
	bool		 same;
	time_t		 wait = 0;

	if (ro->from == 0 || ro->to == 0)
		return;
	same = h->alg_open && h->alg_from == ro->from && h->alg_to == ro->to;
	ro->start = same && h->alg_start != 0 && h->alg_start <= now ?
	    h->alg_start : now;
	ro->stage_since = same && h->alg_stage == ro->stage &&
	    h->alg_stage_since != 0 && h->alg_stage_since <= now ?
	    h->alg_stage_since : now;
	switch (ro->stage) {
	case PROBE_ALG_SIGNATURES_ADDED:
	case PROBE_ALG_KEYS_PUBLISHED:
	case PROBE_ALG_OLD_KEYS_REMOVED:
		wait = r->dnskey_ttl;
		break;
	case PROBE_ALG_DS_SWAPPED:
		wait = r->ds_ttl;
		break;
	default:
		break;
	}
	ro->safe_at = ro->stage_since + wait;
	ro->deadline = ro->stage_since + pol->rotation_window_s;
	ro->stalled = now > ro->deadline;
}

static void
classify_alg_rollover(struct probe_result *r, uint32_t answering,
    const struct probe_policy *pol, time_t now)
{
	char		 since[32], safe[32], due[32];
	struct probe_alg_rollover *ro = &r->alg_rollover;
	struct alg_view	 v;
	uint32_t	 all;
	unsigned	 a, b, o, n;
	bool		 kn, ko, dn, dod, so;
	const char	*next;
	char		 nextbuf[200];

	memset(ro, 0, sizeof(*ro));
	if (!alg_view(r, answering, &v) || v.keys == 0)
		return;
	all = v.keys | v.ds | v.sig_any;
	if (__builtin_popcount(all) < 2)
		return;
	if (__builtin_popcount(all) > 2) {
		ro->stage = PROBE_ALG_UNCLEAR;
		snprintf(ro->basis, sizeof(ro->basis), "%d algorithms",
		    __builtin_popcount(all));
		probe_problem_add(r, PROBE_P_ALGORITHM_ROLLOVER, "%s uses %d "
		    "algorithms across keys, signatures and DS: not judged as "
		    "a rollover", r->domain, __builtin_popcount(all));
		return;
	}
	a = (unsigned)__builtin_ctz(all);
	b = (unsigned)__builtin_ctz(all & ~(1u << a));
	if ((o = alg_old(r, a, b, v.ds, ro->basis, sizeof(ro->basis))) == 0) {
		ro->stage = PROBE_ALG_UNCLEAR;
		snprintf(ro->basis, sizeof(ro->basis), "no way to tell");
		probe_problem_add(r, PROBE_P_ALGORITHM_ROLLOVER, "%s is signed "
		    "with algorithms %u and %u and nothing says which is new",
		    r->domain, a, b);
		return;
	}
	n = o == a ? b : a;
	ro->from = (uint8_t)o;
	ro->to = (uint8_t)n;
	kn = (v.keys >> n) & 1;
	ko = (v.keys >> o) & 1;
	dn = (v.ds >> n) & 1;
	dod = (v.ds >> o) & 1;
	so = (v.sig_any >> o) & 1;
	if (!kn && !dn) {
		ro->stage = PROBE_ALG_SIGNATURES_ADDED;
		next = (v.sig_every >> n) & 1 ? "publish the new keys once "
		    "the zone's longest TTL has passed since the last RRset "
		    "got its new signature" : "the new signatures are not on "
		    "every RRset of every server yet: finish signing before "
		    "publishing the new keys";
	} else if (kn && ko && !dn) {
		ro->stage = PROBE_ALG_KEYS_PUBLISHED;
		next = "once the DNSKEY RRset's TTL has passed, replace the DS "
		    "at the registrar with the new algorithm's (see "
		    "rotation_pending)";
	} else if (dn && ko) {
		ro->stage = PROBE_ALG_DS_SWAPPED;
		if (dod)
			next = "remove the DS for the old algorithm at the "
			    "registrar";
		else {
			snprintf(nextbuf, sizeof(nextbuf), "withdraw the old "
			    "keys once the old DS has left caches (DS TTL %u "
			    "s)", r->ds_ttl);
			next = nextbuf;
		}
	} else if (dn && !ko && so) {
		ro->stage = PROBE_ALG_OLD_KEYS_REMOVED;
		next = "remove the old signatures once the DNSKEY RRset's TTL "
		    "has passed";
	} else if (dn && dod && !ko && !so) {
		ro->stage = PROBE_ALG_OLD_DS_LINGERS;
		next = "remove the DS for the old algorithm at the registrar";
	} else {
		ro->stage = PROBE_ALG_UNCLEAR;
		next = "no stage of RFC 6781 4.1.4 matches: steps were taken "
		    "out of order";
	}
	ro->bad_order = alg_bad_order(r, answering, &v, o, n);
	alg_stage_clock(r, pol, now);
	clock_rfc3339(ro->stage_since, since, sizeof(since));
	clock_rfc3339(ro->safe_at, safe, sizeof(safe));
	clock_rfc3339(ro->deadline, due, sizeof(due));
	/* A stalled stage is a warning: someone must look before the
	 * signer's next surprise. */
	probe_problem_add_sev(r, PROBE_P_ALGORITHM_ROLLOVER, ro->stalled ?
	    PROBE_SEV_WARNING : probe_problem_def(
	    PROBE_P_ALGORITHM_ROLLOVER)->severity, "%s is rolling from "
	    "algorithm %u (%s) to %u (%s), stage %s (%s) since %s: %s (safe "
	    "from %s, due by %s)%s", r->domain, o, alg_name(o), n,
	    alg_name(n), probe_alg_stage_name(ro->stage), ro->basis, since,
	    next, safe, due, ro->stalled ? "; STALLED: the stage is past its "
	    "deadline, ask the DNS host why the rollover does not move on" :
	    "");
}

/* A DS naming one of the two algorithms of a rollover on its way is not
 * the mismatch ds_algorithm_mismatch warns about. */
static bool
alg_rollover_explains(const struct probe_result *r, uint8_t alg)
{
	const struct probe_alg_rollover *ro = &r->alg_rollover;

	return ro->stage != PROBE_ALG_NONE && ro->stage != PROBE_ALG_UNCLEAR &&
	    !ro->bad_order && (alg == ro->from || alg == ro->to);
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
		if (!found && r->n_keys > 0 &&
		    !alg_rollover_explains(r, r->ds[i].algorithm))
			probe_problem_add_sev(r, PROBE_P_DS_ALGORITHM_MISMATCH,
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

static const char *
digest_name(uint8_t type)
{
	switch (type) {
	case 1:		return "SHA-1";
	case 3:		return "GOST R 34.11-94";
	default:	return "a reserved digest";
	}
}

/* The published key a DS names: its match, else by tag and algorithm
 * (a digest we cannot compute); -1 when none. */
static int
ds_named_key(const struct probe_result *r, const struct probe_ds *d)
{
	unsigned	 k;

	if (d->key >= 0)
		return d->key;
	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].key_tag == d->key_tag &&
		    r->keys[k].algorithm == d->algorithm)
			return (int)k;
	return -1;
}

/*
 * DS digests validators are dropping (SHA-1; GOST, which most cannot
 * compute at all). Beside a SHA-256 DS for the same key such a DS is dead
 * weight (RFC 4509 3: validators use the stronger one): a note, and the DS
 * to remove. A key whose only DS uses it stays secure only while
 * validators accept SHA-1: a warning, and its SHA-256 DS to add first.
 * A deprecated DS that matches no key at all is reported as stale.
 */
static void
classify_digests(struct probe_result *r, const uint8_t *owner, size_t olen)
{
	char		 rec[1024], hex[2 * PROBE_MAX_DIGEST + 1];
	unsigned	 i, j;
	int		 k;
	bool		 beside;

	for (i = 0; i < r->n_ds; i++) {
		struct probe_ds *d = &r->ds[i];

		if (!dsmatch_digest_deprecated(d->digest_type) ||
		    (d->key < 0 && !d->digest_unsupported))
			continue;
		k = ds_named_key(r, d);
		beside = false;
		for (j = 0; j < r->n_ds; j++)
			if (!dsmatch_digest_deprecated(r->ds[j].digest_type) &&
			    r->ds[j].key >= 0 && (k < 0 ?
			    r->ds[j].key_tag == d->key_tag &&
			    r->ds[j].algorithm == d->algorithm :
			    r->ds[j].key == k))
				beside = true;
		dsmatch_hex_upper(d->digest, d->digest_len, hex, sizeof(hex));
		if (beside) {
			d->stale = true;
			probe_problem_add_sev(r, PROBE_P_DS_DIGEST_DEPRECATED,
			    PROBE_SEV_OK, "%s holds a %s DS for key %u beside "
			    "its SHA-256 DS: validators are dropping %s and "
			    "registries refuse new ones (RFC 9904); remove it at "
			    "the registrar: %s. IN DS %u %u %u %s", r->parent,
			    digest_name(d->digest_type), d->key_tag,
			    digest_name(d->digest_type), r->domain, d->key_tag,
			    d->algorithm, d->digest_type, hex);
			continue;
		}
		if (k >= 0)
			ds_line(r, &r->keys[k], owner, olen, rec, sizeof(rec));
		else
			snprintf(rec, sizeof(rec), "(key %u is not published: "
			    "the DNS host must say which key to use)",
			    d->key_tag);
		probe_problem_add(r, PROBE_P_DS_DIGEST_DEPRECATED,
		    "The only DS for key %u at %s uses %s (digest type %u): "
		    "resolvers that no longer accept %s treat %s as unsigned, "
		    "and registries refuse new ones (RFC 9904). Add the SHA-256 "
		    "DS at the registrar, then remove the %s one: %s",
		    d->key_tag, r->parent, digest_name(d->digest_type),
		    d->digest_type, digest_name(d->digest_type), r->domain,
		    digest_name(d->digest_type), rec);
	}
}

/* Keys of an algorithm that must no longer sign: one problem per
 * algorithm, naming its keys. */
static void
classify_key_algorithms(struct probe_result *r)
{
	char		 tags[128];
	const char	*name;
	unsigned	 k, j, n;
	uint8_t		 alg;

	for (k = 0; k < r->n_keys; k++) {
		alg = r->keys[k].algorithm;
		if (!dsmatch_algorithm_deprecated(alg))
			continue;
		for (j = 0; j < k; j++)
			if (r->keys[j].algorithm == alg)
				break;
		if (j < k)
			continue;	/* reported with its first key */
		tags[0] = '\0';
		for (n = 0, j = k; j < r->n_keys; j++)
			if (r->keys[j].algorithm == alg) {
				append(tags, sizeof(tags), "%s%u",
				    tags[0] ? ", " : "", r->keys[j].key_tag);
				n++;
			}
		name = dsmatch_algorithm_name(alg);
		probe_problem_add(r, PROBE_P_KEY_ALGORITHM_DEPRECATED,
		    "%s publishes key%s %s of algorithm %u (%s), which must no "
		    "longer sign: %s. Roll the zone to algorithm 13 "
		    "(ECDSAP256SHA256) or 8 (RSASHA256): sign with both "
		    "algorithms, replace the DS at the registrar, then withdraw "
		    "the old keys (RFC 6781 4.1.4)", r->domain, n > 1 ? "s" : "",
		    tags, alg, name ? name : "?",
		    dsmatch_algorithm_supported(alg) ?
		    "validators are dropping SHA-1 signatures (RFC 9904) and "
		    "some already treat them as insecure" :
		    "validators ignore it (RFC 8624), so the zone is already "
		    "unsigned to them");
	}
}

/*
 * RSA keys under 2048 bits. A key that signs the DNSKEY RRset anchors the
 * zone and lives for years: a warning. A ZSK rotated every few weeks limits
 * what breaking it is worth, and 1024- or 1280-bit ZSKs are still common:
 * a note to replace it at the next rollover.
 */
static void
classify_rsa_sizes(struct probe_result *r)
{
	char		 list[256];
	unsigned	 k, n = 0;
	int		 bits;
	bool		 ksk = false, anchors;

	list[0] = '\0';
	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];

		if ((bits = dsmatch_rsa_bits(key->rdata, key->rdata_len)) < 0 ||
		    bits >= 2048)
			continue;
		anchors = key_signs(key) || (key->flags & 1);
		ksk |= anchors;
		append(list, sizeof(list), "%s%u (%s, %d bits)",
		    list[0] ? ", " : "", key->key_tag, anchors ? "KSK" : "ZSK",
		    bits);
		n++;
	}
	if (n == 0)
		return;
	probe_problem_add_sev(r, PROBE_P_RSA_KEY_SHORT, ksk ? PROBE_SEV_WARNING :
	    PROBE_SEV_OK, "RSA key%s %s of %s %s under 2048 bits, the least "
	    "NIST SP 800-57 accepts for signatures: %s", n > 1 ? "s" : "", list,
	    r->domain, n > 1 ? "are" : "is", ksk ?
	    "roll the KSK to a 2048-bit RSA or an algorithm 13 key (the new DS "
	    "goes to the registrar)" :
	    "make the next ZSK 2048 bits, or move the zone to algorithm 13");
}

/* Does the signal carry exactly the zone's CDS set? */
static bool
signal_matches(const struct probe_result *r, const struct probe_signal *s)
{
	unsigned	 i, k;

	if (s->n_cds == 0 || s->n_cds != r->n_cds || s->cds_dropped > 0)
		return false;
	for (i = 0; i < s->n_cds; i++) {
		const struct probe_ds *a = &s->cds[i];

		for (k = 0; k < r->n_cds; k++) {
			const struct probe_ds *b = &r->cds[k];

			if (a->key_tag == b->key_tag &&
			    a->algorithm == b->algorithm &&
			    a->digest_type == b->digest_type &&
			    a->digest_len == b->digest_len &&
			    memcmp(a->digest, b->digest, a->digest_len) == 0)
				break;
		}
		if (k == r->n_cds)
			return false;
	}
	return true;
}

/* What is wrong with one signal, appended to buf; false when it is good. */
static bool
signal_missing(const struct probe_result *r, const struct probe_signal *s,
    char *buf, size_t len)
{
	const char	*sep = buf[0] ? "; " : "";

	switch (s->status) {
	case PROBE_SIG_SECURE:
		if (signal_matches(r, s))
			return false;
		append(buf, len, "%sthe CDS at _dsboot.%s._signal.%s differs "
		    "from the zone's CDS", sep, r->domain, s->ns);
		break;
	case PROBE_SIG_NODATA:
		append(buf, len, "%sno CDS at _dsboot.%s._signal.%s", sep,
		    r->domain, s->ns);
		break;
	case PROBE_SIG_INSECURE:
		append(buf, len, "%sthe signal under %s does not validate "
		    "(its zone is unsigned or has no DS)", sep, s->ns);
		break;
	case PROBE_SIG_BOGUS:
		append(buf, len, "%sthe signal under %s is bogus (%s)", sep,
		    s->ns, s->why);
		break;
	case PROBE_SIG_IN_DOMAIN:
		append(buf, len, "%sname server %s lies inside %s, so it cannot "
		    "carry a signal", sep, s->ns, r->domain);
		break;
	case PROBE_SIG_TOO_LONG:
		append(buf, len, "%sthe signal name under %s is over 255 "
		    "octets", sep, s->ns);
		break;
	default:
		append(buf, len, "%sthe signal under %s could not be read (%s)",
		    sep, s->ns, s->why[0] ? s->why : "no answer");
		break;
	}
	return true;
}

/*
 * A signed zone without a DS: can its parent add the DS by itself? It
 * needs the zone's CDS/CDNSKEY (RFC 8078 3; some registries accept them
 * unauthenticated after days of watching) and, to act at once, the same
 * CDS vouched for under every name server's name in a secure zone (RFC
 * 9615). Says what is there and what is missing; an unsigned zone has
 * nothing to bootstrap.
 */
static void
classify_bootstrap(struct probe_result *r)
{
	char		 missing[400] = "", names[200] = "";
	unsigned	 i, k;
	bool		 signed_zone = false, complete = true;

	for (k = 0; k < r->n_keys; k++)
		signed_zone |= key_signs(&r->keys[k]);
	if (!signed_zone)
		return;
	if (r->n_cds == 0 && r->n_cdnskey == 0) {
		append(missing, sizeof(missing), "the zone publishes no "
		    "CDS/CDNSKEY");
		complete = false;
	} else if (r->n_cds == 0) {
		append(missing, sizeof(missing), "the zone publishes CDNSKEY "
		    "but no CDS to compare a signal with");
		complete = false;
	}
	for (i = 0; i < r->n_signals; i++) {
		append(names, sizeof(names), "%s%s", names[0] ? ", " : "",
		    r->signals[i].ns);
		if (signal_missing(r, &r->signals[i], missing, sizeof(missing)))
			complete = false;
	}
	if (r->n_signals == 0 || r->signals_dropped > 0) {
		append(missing, sizeof(missing), "%s%u name server names not "
		    "asked", missing[0] ? "; " : "", r->signals_dropped);
		complete = false;
	}
	if (complete)
		probe_problem_add(r, PROBE_P_DS_BOOTSTRAP_READY,
		    "%s publishes CDS and a validated RFC 9615 signal under "
		    "every name server (%s): a parent that supports "
		    "authenticated bootstrapping adds the DS by itself; at any "
		    "other, add it at the registrar", r->domain, names);
	else
		probe_problem_add(r, PROBE_P_DS_BOOTSTRAP_INCOMPLETE,
		    "The parent cannot bootstrap the DS of %s by itself (RFC "
		    "8078, RFC 9615): %s. The DNS host publishes these; until "
		    "then add the DS at the registrar", r->domain, missing);
}

/*
 * The engine's guard ended the validation: no verdict, and no fake one.
 * When some of the domain's servers did not answer our own questions
 * either, they are the likely cause, and resolvers meet the same wait
 * before they give up on them: a warning about the domain, beside
 * server_unreachable. With every server answering us, the wait is on the
 * path above the zone or the monitor's own: unknown.
 */
static void
classify_validation_timeout(struct probe_result *r)
{
	char		 silent[256] = "";
	unsigned	 i;

	for (i = 0; i < r->n_servers && i < PROBE_MAX_SERVERS; i++)
		if (r->servers[i].status == PROBE_Q_TIMEOUT)
			append(silent, sizeof(silent), "%s%s (%s)",
			    silent[0] ? ", " : "", r->servers[i].name,
			    r->servers[i].address);
	if (silent[0])
		probe_problem_add_sev(r, PROBE_P_VALIDATION_TIMEOUT,
		    PROBE_SEV_WARNING, "The validator reached no verdict for "
		    "%s (%s): it was still waiting on name servers that do not "
		    "answer, %s; resolvers that pick them wait as long before "
		    "they try another. The DNS host should fix or remove them",
		    r->domain, r->why_bogus, silent);
	else
		probe_problem_add(r, PROBE_P_VALIDATION_TIMEOUT,
		    "The validator reached no verdict for %s (%s) although "
		    "its name servers answer the monitor: check the path "
		    "above the zone and the monitor's network", r->domain,
		    r->why_bogus);
}

static void
classify_validation(struct probe_result *r)
{
	char		 fails[256];
	unsigned	 i;

	failing_resolvers(r, fails, sizeof(fails));
	switch (r->validation) {
	case PROBE_VAL_BOGUS:
		probe_problem_add(r, PROBE_P_VALIDATION_BOGUS,
		    "DNSSEC validation of %s fails (%s): validating "
		    "resolvers answer SERVFAIL%s%s", r->domain,
		    r->why_bogus[0] ? r->why_bogus : "bogus",
		    fails[0] ? "; already failing: " : "", fails);
		break;
	case PROBE_VAL_INDETERMINATE:
		if (r->validation_timed_out) {
			classify_validation_timeout(r);
			break;
		}
		probe_problem_add(r, PROBE_P_VALIDATION_INDETERMINATE,
		    "The validator could not reach a "
		    "verdict for %s%s%s: check the monitor's trust anchor, "
		    "root hints and network", r->domain,
		    r->why_bogus[0] ? ": " : "", r->why_bogus);
		break;
	case PROBE_VAL_INSECURE:
		if (r->n_ds > 0)
			probe_problem_add(r, PROBE_P_VALIDATION_INSECURE,
			    "%s has DS records but "
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
			probe_problem_add(r, PROBE_P_RESOLVER_UNREACHABLE,
			    "Resolver %s did not answer "
			    "(%s): this says nothing about %s, check the "
			    "resolver or the path to it", v->address,
			    probe_qstatus_name(v->status), r->domain);
			continue;
		}
		if (r->validation == PROBE_VAL_SECURE && v->rcode == 2)
			probe_problem_add(r, PROBE_P_RESOLVER_SERVFAIL,
			    "Resolver %s answers SERVFAIL "
			    "for %s%s although the chain validates here: it "
			    "may still cache a broken answer; it clears when "
			    "its cache expires, or flush it", v->address,
			    r->domain, ede);
		else if (r->validation == PROBE_VAL_SECURE && v->rcode == 0 &&
		    !v->ad)
			probe_problem_add(r, PROBE_P_RESOLVER_NOT_VALIDATING,
			    "Resolver %s answers %s without "
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
			probe_problem_add(r, PROBE_P_SIGNATURE_EXPIRED,
			    "%s (%s) serves expired "
			    "RRSIGs (earliest expiry %s): the DNS host must "
			    "re-sign the zone", s->name, s->address,
			    clock_rfc3339(s->sig_earliest_expiry, when,
			    sizeof(when)));
		if (s->sig_not_yet_valid)
			probe_problem_add(r, PROBE_P_SIGNATURE_NOT_YET_VALID,
			    "%s (%s) serves RRSIGs whose "
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
		probe_problem_add_sev(r, PROBE_P_SIGNATURE_EXPIRING,
		    rest < pol->sig_critical_s ? PROBE_SEV_CRITICAL :
		    PROBE_SEV_WARNING, "RRSIGs of %s expire at %s (in %s): "
		    "the DNS host's signer has stopped re-signing",
		    r->domain, clock_rfc3339(r->earliest_sig_expiry, when,
		    sizeof(when)), clock_duration(rest, left, sizeof(left)));
}

/* ------------------------------------------------------------------ */
/* Denial of existence (NXDOMAIN / NODATA proofs, NSEC3 parameters). */

/* Validators' NSEC3 iteration limits, named in the messages: above 150
 * BIND (since 9.16.16), unbound (val-nsec3-keysize-iterations, default
 * "1024 150 2048 150 4096 150") and PowerDNS Recursor (nsec3-max-iterations,
 * 150 since 4.5.2) treat the proof as insecure; systemd-resolved stops at
 * 100; RFC 9276 3.2 lets any validator do so above 0. */
#define NSEC3_ITER_INSECURE	150
#define NSEC3_ITER_RESOLVED	100

/* "NAME (ADDR) NXDOMAIN and NODATA: why", once per server. */
static void
denial_bad_text(const struct probe_server *s, char *buf, size_t len)
{
	const struct probe_negative *x = &s->nxdomain, *d = &s->nodata;
	bool		 bx = x->checked && !x->valid, bd = d->checked && !d->valid;

	if (!bx && !bd)
		return;
	append(buf, len, "%s%s (%s) %s%s%s: %s", buf[0] ? "; " : "", s->name,
	    s->address, bx ? "NXDOMAIN" : "", bx && bd ? " and " : "",
	    bd ? "NODATA" : "", bx ? x->error : d->error);
	if (bx && bd && strcmp(x->error, d->error) != 0)
		append(buf, len, " / %s", d->error);
}

static void
classify_denial_proofs(struct probe_result *r, uint32_t answering)
{
	char		 bad[400] = "";
	unsigned	 i, q, checked[2] = { 0, 0 }, nbad[2] = { 0, 0 };
	bool		 all_bad = false, ub_bogus;
	enum probe_severity sev;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];
		const struct probe_negative *n[2] = { &s->nxdomain,
		    &s->nodata };

		if (!(answering & (1u << i)))
			continue;
		for (q = 0; q < 2; q++) {
			if (!n[q]->checked)
				continue;
			checked[q]++;
			if (n[q]->valid)
				continue;
			nbad[q]++;
		}
		denial_bad_text(s, bad, sizeof(bad));
	}
	for (q = 0; q < 2; q++)
		if (checked[q] > 0 && nbad[q] == checked[q])
			all_bad = true;
	ub_bogus = r->denial_validation == PROBE_VAL_BOGUS;
	if (nbad[0] + nbad[1] == 0 && !ub_bogus)
		return;
	/* Resolvers retry another server after a bogus answer: one bad
	 * server costs latency and some failures, all of them an outage for
	 * every name that does not exist. */
	sev = all_bad || ub_bogus ? PROBE_SEV_CRITICAL : PROBE_SEV_WARNING;
	if (ub_bogus)
		append(bad, sizeof(bad), "%sthe validator finds %s bogus%s%s",
		    bad[0] ? "; " : "", r->denial_name,
		    r->denial_why_bogus[0] ? ": " : "", r->denial_why_bogus);
	probe_problem_add_sev(r, PROBE_P_DENIAL_BOGUS, sev,
	    "The proof that a name does not exist in %s does not validate "
	    "(%s): validating resolvers answer SERVFAIL instead of "
	    "NXDOMAIN/NODATA for %s; re-sign the zone%s", r->domain, bad,
	    sev == PROBE_SEV_CRITICAL ? "every name that does not exist" :
	    "names asked of these servers",
	    sev == PROBE_SEV_CRITICAL ? "" : " on the servers named (the "
	    "others prove it)");
}

static void
classify_nsec3(struct probe_result *r, uint32_t answering)
{
	const struct probe_nsec3 *p = NULL;
	char		 salt[2 * PROBE_MAX_SALT + 4];
	unsigned	 i, k;

	/* The highest iteration count any server serves: the worst case a
	 * validator meets. */
	for (i = 0; i < r->n_servers; i++)
		if ((answering & (1u << i)) && r->servers[i].nsec3.seen &&
		    (p == NULL || r->servers[i].nsec3.iterations >
		    p->iterations))
			p = &r->servers[i].nsec3;
	if (p == NULL)
		return;
	if (p->iterations > NSEC3_ITER_INSECURE)
		probe_problem_add_sev(r, PROBE_P_NSEC3_ITERATIONS,
		    PROBE_SEV_CRITICAL, "%s uses NSEC3 with %u extra "
		    "iterations, above %u: BIND, unbound and PowerDNS "
		    "Recursor treat its negative answers as insecure (no "
		    "DNSSEC protection for names that do not exist) and RFC "
		    "9276 lets validators answer SERVFAIL; re-sign with 0 "
		    "iterations", r->domain, p->iterations,
		    NSEC3_ITER_INSECURE);
	else if (p->iterations > 0)
		probe_problem_add(r, PROBE_P_NSEC3_ITERATIONS,
		    "%s uses NSEC3 with %u extra iterations: RFC 9276 says "
		    "0 (more hide nothing and cost every validator CPU); "
		    "validators may treat it as insecure (RFC 9276 3.2), "
		    "systemd-resolved above %u, BIND, unbound and PowerDNS "
		    "Recursor above %u; re-sign with 0 iterations",
		    r->domain, p->iterations, NSEC3_ITER_RESOLVED,
		    NSEC3_ITER_INSECURE);
	if (p->salt_len > 0) {
		salt[0] = '\0';
		for (k = 0; k < p->salt_len && k < PROBE_MAX_SALT; k++)
			append(salt, sizeof(salt), "%02X", p->salt[k]);
		if (p->salt_len > PROBE_MAX_SALT)
			append(salt, sizeof(salt), "...");
		probe_problem_add(r, PROBE_P_NSEC3_SALT,
		    "%s uses an NSEC3 salt of %u bytes (%s): RFC 9276 "
		    "advises none, since NSEC3 hashes are salted by the zone "
		    "name already and changing a salt means re-signing the "
		    "whole zone", r->domain, p->salt_len, salt);
	}
	if (p->opt_out)
		probe_problem_add(r, PROBE_P_NSEC3_OPT_OUT,
		    "%s uses NSEC3 opt-out: unsigned delegations in it are "
		    "not covered by any proof (RFC 9276: only for very "
		    "large, sparsely signed zones)", r->domain);
}

/*
 * Judged only where validators judge it: the parent holds a DS, so the
 * zone's answers, negative ones included, are validated. A zone that
 * fails validation as a whole has that reported with its cause; its
 * denials failing too is the same fault, not a second one.
 */
static void
classify_denial(struct probe_result *r, uint32_t answering)
{
	if (r->n_ds == 0)
		return;
	if (r->validation != PROBE_VAL_BOGUS)
		classify_denial_proofs(r, answering);
	classify_nsec3(r, answering);
}

static void
serial_text(const struct probe_server *s, char *buf, size_t len)
{
	if (s->has_soa)
		snprintf(buf, len, "at serial %u", s->soa_serial);
	else
		snprintf(buf, len, "(no SOA)");
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

#define DNSKEY_UDP_MAX	1232	/* the EDNS buffer size asked for, and the
				   DNS flag day 2020 size that needs no IP
				   fragments */

static bool
is_v6(const struct probe_server *s)
{
	return strchr(s->address, ':') != NULL;
}

/* Did it answer anything over UDP? (A TC=1 whose TCP failed marks the
 * server failed, yet it answered.) */
static bool
server_answered(const struct probe_server *s)
{
	return s->status == PROBE_Q_OK || s->has_soa;
}

static bool
tcp_failed(const struct probe_server *s)
{
	return s->tcp_status != PROBE_Q_NONE && s->tcp_status != PROBE_Q_OK;
}

/*
 * Server i's name answers over the other IP family but over this one
 * from none of its addresses: the server is broken for one family (a
 * firewall, a listener on IPv4 only), not down.
 */
static bool
family_down(const struct probe_result *r, unsigned i)
{
	const struct probe_server *s = &r->servers[i];
	unsigned	 k, same_ok = 0, other_ok = 0;

	for (k = 0; k < r->n_servers; k++) {
		const struct probe_server *o = &r->servers[k];

		if (strcmp(o->name, s->name) != 0 || !server_answered(o))
			continue;
		if (is_v6(o) == is_v6(s))
			same_ok++;
		else
			other_ok++;
	}
	return same_ok == 0 && other_ok > 0;
}

/* One problem per name and family: "ns1 fails over IPv6 (a: why, b:
 * why) but answers over IPv4 (c)". */
static void
family_problem(struct probe_result *r, unsigned i)
{
	const struct probe_server *s = &r->servers[i];
	char		 down[320] = "", up[160] = "";
	unsigned	 k;

	for (k = 0; k < r->n_servers; k++) {
		const struct probe_server *o = &r->servers[k];

		if (strcmp(o->name, s->name) != 0)
			continue;
		if (is_v6(o) == is_v6(s)) {
			if (k < i)
				return;		/* reported with the first */
			append(down, sizeof(down), "%s%s: %s%s%s",
			    down[0] ? "; " : "", o->address,
			    probe_qstatus_name(o->status),
			    o->error[0] ? ", " : "", o->error);
		} else if (server_answered(o))
			append(up, sizeof(up), "%s%s", up[0] ? ", " : "",
			    o->address);
	}
	probe_problem_add(r, PROBE_P_SERVER_FAMILY_UNREACHABLE,
	    "%s does not answer over %s (%s) but does over %s (%s): "
	    "resolvers that reach it only over %s cannot use it; the DNS "
	    "host should fix its %s listener, route or firewall", s->name,
	    is_v6(s) ? "IPv6" : "IPv4", down, is_v6(s) ? "IPv4" : "IPv6",
	    up, is_v6(s) ? "IPv6" : "IPv4", is_v6(s) ? "IPv6" : "IPv4");
}

static void
server_problems(struct probe_result *r)
{
	unsigned	 i;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (s->status != PROBE_Q_OK && s->dnskey_tc && tcp_failed(s) &&
		    s->has_soa)
			probe_problem_add(r, PROBE_P_SERVER_TCP_FAILED,
			    "%s (%s) answers over UDP but its DNSKEY answer "
			    "does not fit in %u bytes there (TC) and TCP fails "
			    "(%s: %s): resolvers cannot get %s's keys from it; "
			    "the DNS host must open TCP port 53", s->name,
			    s->address, DNSKEY_UDP_MAX,
			    probe_qstatus_name(s->tcp_status), s->tcp_error,
			    r->domain);
		else if (s->status != PROBE_Q_OK && is_v6(s) &&
		    r->ipv6_unproven)
			;	/* the host's IPv6, maybe: the engine logs it */
		else if (s->status != PROBE_Q_OK && family_down(r, i))
			family_problem(r, i);
		else if (s->status != PROBE_Q_OK)
			probe_problem_add(r, PROBE_P_SERVER_UNREACHABLE,
			    "%s (%s) did not answer (%s%s%s): resolvers fall "
			    "back to the other servers, but the DNS host should "
			    "fix it", s->name, s->address,
			    probe_qstatus_name(s->status),
			    s->error[0] ? ": " : "", s->error);
		else if (!s->has_soa || !s->authoritative)
			/* REFUSED, a non-authoritative NXDOMAIN, another
			 * zone's answer: the server's problem. */
			probe_problem_add(r, PROBE_P_LAME_DELEGATION,
			    "%s (%s) is listed as a server of %s but does not "
			    "answer authoritatively%s%s", s->name, s->address,
			    r->domain, s->error[0] ? ": " : "", s->error);
		else if (tcp_failed(s))
			probe_problem_add(r, PROBE_P_SERVER_TCP_FAILED,
			    "%s (%s) answers over UDP but not over TCP (%s: "
			    "%s): registries' CDS scanners ask over TCP only, "
			    "and resolvers retry every truncated answer (a "
			    "DNSKEY RRset in a KSK rotation) over TCP; the DNS "
			    "host must open TCP port 53", s->name, s->address,
			    probe_qstatus_name(s->tcp_status), s->tcp_error);
	}
}

/*
 * The DNSKEY answer's size. Over UDP a server must keep to the 1232
 * bytes we ask for; more means IP fragments on real paths, which many
 * firewalls drop, silently. Within 1232 a larger RRset comes truncated
 * and resolvers retry over TCP: normal, except during a KSK rotation,
 * when the RRset grows past 1232 (two KSKs, two signatures) for exactly
 * the weeks it must not fail.
 */
static void
classify_dnskey_size(struct probe_result *r)
{
	unsigned	 i, size = 0;
	const char	*tcp_down = NULL;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (!s->dnskey_tc && s->dnskey_udp_bytes > DNSKEY_UDP_MAX) {
			probe_problem_add(r, PROBE_P_DNSKEY_ANSWER_LARGE,
			    "%s (%s) sent its DNSKEY answer over UDP in %u "
			    "bytes, more than the %u asked for: on real paths "
			    "that takes IP fragments, which firewalls drop; "
			    "the DNS host should cap its UDP answers at %u "
			    "bytes", s->name, s->address, s->dnskey_udp_bytes,
			    DNSKEY_UDP_MAX, DNSKEY_UDP_MAX);
			return;
		}
		if (s->dnskey_tcp_bytes > size)
			size = s->dnskey_tcp_bytes;
		if (s->dnskey_udp_bytes > size && !s->dnskey_tc)
			size = s->dnskey_udp_bytes;
		if (tcp_failed(s) && tcp_down == NULL)
			tcp_down = s->address;
	}
	if (r->state != PROBE_STATE_ROTATION_PENDING || size <= DNSKEY_UDP_MAX)
		return;
	/* The TC=1 fallback asked every server over TCP already: while all
	 * of them answer, this is the rotation's normal shape, a note (a
	 * warning would page a second time for every RSA rotation); when
	 * one fails, resolvers that reach only it lose the keys. */
	probe_problem_add_sev(r, PROBE_P_DNSKEY_ANSWER_LARGE, tcp_down ?
	    PROBE_SEV_WARNING : PROBE_SEV_OK,
	    "During the KSK rotation the DNSKEY answer of %s is %u bytes, "
	    "over %u: servers answer it truncated over UDP and resolvers "
	    "must retry over TCP, %s%s. It shrinks when the old key is "
	    "withdrawn", r->domain, size, DNSKEY_UDP_MAX, tcp_down ?
	    "which fails at " : "which every server answers",
	    tcp_down ? tcp_down : "");
}

/* The server the others are compared with: the newest serial (RFC 1982:
 * newer is at most 2^31 ahead), else the first that answered. */
static int
reference_server(const struct probe_result *r, uint32_t answering)
{
	unsigned	 i;
	int		 best = -1;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (!(answering & (1u << i)))
			continue;
		if (best < 0 || (s->has_soa && (!r->servers[best].has_soa ||
		    (int32_t)(s->soa_serial - r->servers[best].soa_serial) >
		    0)))
			best = (int)i;
	}
	return best;
}

static bool
same_keys(const struct probe_result *r, unsigned a, unsigned b)
{
	unsigned	 k;

	for (k = 0; k < r->n_keys; k++)
		if (((r->keys[k].servers >> a) & 1) !=
		    ((r->keys[k].servers >> b) & 1))
			return false;
	return true;
}

/* Compare the servers in `group` with the newest of them. */
static void
compare_servers(struct probe_result *r, uint32_t group)
{
	char		 a[128], b[128], sa[24], sb[24];
	const struct probe_server *ref;
	unsigned	 i;
	int		 best;

	if ((best = reference_server(r, group)) < 0)
		return;
	ref = &r->servers[best];
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (!(group & (1u << i)) || (int)i == best)
			continue;
		if (!same_keys(r, i, (unsigned)best)) {
			r->servers_agree = false;
			tag_list(r, i, a, sizeof(a));
			tag_list(r, (unsigned)best, b, sizeof(b));
			serial_text(s, sa, sizeof(sa));
			serial_text(ref, sb, sizeof(sb));
			probe_problem_add(r, PROBE_P_SERVERS_DISAGREE,
			    "%s (%s) serves DNSKEYs {%s} %s while %s (%s) "
			    "serves {%s} %s: %s is behind, check zone transfers "
			    "from the DNS host", s->name, s->address, a, sa,
			    ref->name, ref->address, b, sb,
			    s->has_soa && ref->has_soa &&
			    s->soa_serial == ref->soa_serial ?
			    "one of them" : s->name);
		} else if (s->has_soa && ref->has_soa &&
		    s->soa_serial != ref->soa_serial) {
			r->servers_agree = false;
			probe_problem_add(r, PROBE_P_SERIAL_MISMATCH,
			    "%s (%s) serves serial %u, %s (%s) serves %u: %s is "
			    "behind", s->name, s->address, s->soa_serial,
			    ref->name, ref->address, ref->soa_serial, s->name);
		}
	}
}

/* Every server answered, and none with the zone's SOA and authority. */
static bool
every_server_lame(const struct probe_result *r)
{
	unsigned	 i;

	for (i = 0; i < r->n_servers; i++)
		if (r->servers[i].status != PROBE_Q_OK ||
		    (r->servers[i].has_soa && r->servers[i].authoritative))
			return false;
	return r->n_servers > 0;
}

/*
 * Every server that answered is compared: its DNSKEY set with the
 * reference's, and its serial when it gave one. In a multi-signer zone
 * (RFC 8901) providers sign on their own and serve their own serials and
 * key sets: servers are compared within their provider only.
 * r->servers_agree is the same fact the problems state, so /metrics and
 * the problem list cannot tell different stories.
 */
static void
classify_servers(struct probe_result *r, uint32_t answering)
{
	unsigned	 g;

	server_problems(r);
	if (r->multi_signer == PROBE_MULTI_NONE) {
		compare_servers(r, answering);
		return;
	}
	for (g = 0; g < r->n_providers; g++)
		compare_servers(r, r->providers[g] & answering);
}

/* ------------------------------------------------------- multi-signer */

/* Bit k: keys[k] signs the DNSKEY RRset (dnskey) or the SOA (soa) at
 * servers[i]. */
static uint32_t
signer_mask(const struct probe_result *r, unsigned i, bool dnskey, bool soa)
{
	uint32_t	 m = 0;
	unsigned	 k;

	for (k = 0; k < r->n_keys; k++)
		if ((dnskey && (r->keys[k].signs_dnskey & (1u << i))) ||
		    (soa && (r->keys[k].signs_soa & (1u << i))))
			m |= 1u << k;
	return m;
}

/* The domain an NS name belongs to: the name without its host label
 * ("ns1.host.example" -> "host.example"). */
static const char *
ns_domain(const char *name)
{
	const char	*dot = strchr(name, '.');

	return dot != NULL && dot[1] != '\0' ? dot + 1 : name;
}

/* Do two groups of servers share an NS name, or the domain of one? Then
 * they are one provider whose servers are out of step, not two providers
 * (which name their servers under their own domains). */
static bool
share_ns_domain(const struct probe_result *r, uint32_t a, uint32_t b)
{
	unsigned	 i, j;

	for (i = 0; i < r->n_servers; i++)
		for (j = 0; j < r->n_servers; j++)
			if ((a & (1u << i)) && (b & (1u << j)) &&
			    strcmp(ns_domain(r->servers[i].name),
			    ns_domain(r->servers[j].name)) == 0)
				return true;
	return false;
}

/*
 * Which servers belong to which provider. A provider is the set of
 * servers that sign with the same keys. Configured on: every distinct
 * signing key set (DNSKEY and SOA signers, so RFC 8901 model 1 with a
 * shared KSK splits by ZSK) is a provider. Auto: only the shape no
 * single signer produces counts, so a lagging secondary in a rollover
 * is not mistaken for a second provider: two or more groups whose DNSKEY
 * RRsets are signed by disjoint keys, each with a DS at the parent, and
 * no NS name nor NS domain in two groups (the NS set spans providers).
 */
static void
classify_providers(struct probe_result *r, const struct probe_policy *pol,
    uint32_t answering)
{
	uint32_t	 keyset[PROBE_MAX_SERVERS], sig[PROBE_MAX_SERVERS];
	unsigned	 i, g, h, k, n = 0;
	bool		 on = pol->multi_signer == PROBE_MULTI_ON;

	r->multi_signer = PROBE_MULTI_NONE;
	r->n_providers = 0;
	if (pol->multi_signer == PROBE_MULTI_OFF)
		return;
	for (i = 0; i < r->n_servers; i++) {
		uint32_t m;

		if (!(answering & (1u << i)))
			continue;
		m = signer_mask(r, i, true, on);
		for (g = 0; g < n; g++)
			if (keyset[g] == m)
				break;
		if (g == n) {
			keyset[n] = m;
			sig[n] = signer_mask(r, i, true, false);
			r->providers[n++] = 0;
		}
		r->providers[g] |= 1u << i;
	}
	if (n < 2 && !on)
		return;
	if (!on) {
		for (g = 0; g < n; g++) {
			bool ds = false;

			for (k = 0; k < r->n_keys; k++)
				if ((sig[g] & (1u << k)) && r->keys[k].has_ds)
					ds = true;
			if (sig[g] == 0 || !ds)
				return;
			for (h = g + 1; h < n; h++)
				if ((sig[g] & sig[h]) != 0 ||
				    share_ns_domain(r, r->providers[g],
				    r->providers[h]))
					return;
		}
	}
	r->n_providers = n;
	r->multi_signer = on ? PROBE_MULTI_CONFIGURED : PROBE_MULTI_DETECTED;
}

/* "ns1.example (192.0.2.1), ns2.example (192.0.2.2)" for a server mask. */
static void
server_list(const struct probe_result *r, uint32_t mask, char *buf,
    size_t len)
{
	unsigned	 i;

	buf[0] = '\0';
	for (i = 0; i < r->n_servers; i++)
		if (mask & (1u << i))
			append(buf, len, "%s%s (%s)", buf[0] ? ", " : "",
			    r->servers[i].name, r->servers[i].address);
}

/*
 * RFC 8901 2.1: a resolver may take the DNSKEY RRset from one provider
 * and an answer signed by another, so every provider's DNSKEY RRset must
 * hold every provider's ZSKs, and the DS set must cover a key that signs
 * each provider's DNSKEY RRset.
 */
static void
classify_multi(struct probe_result *r, const uint8_t *owner, size_t olen)
{
	char		 who[512], whom[512], rec[1024], lines[2048];
	unsigned	 g, h, i, k;

	if (r->multi_signer == PROBE_MULTI_NONE)
		return;
	for (g = 0; g < r->n_providers; g++) {
		uint32_t zsk = 0, ksk = 0;
		bool ds = false;

		for (i = 0; i < r->n_servers; i++)
			if (r->providers[g] & (1u << i)) {
				zsk |= signer_mask(r, i, false, true);
				ksk |= signer_mask(r, i, true, false);
			}
		server_list(r, r->providers[g], who, sizeof(who));
		for (k = 0; k < r->n_keys; k++) {
			if (!(zsk & (1u << k)))
				continue;
			for (h = 0; h < r->n_providers; h++) {
				uint32_t lack = 0;

				for (i = 0; i < r->n_servers; i++)
					if ((r->providers[h] & (1u << i)) &&
					    !(r->keys[k].servers & (1u << i)))
						lack |= 1u << i;
				if (lack == 0)
					continue;
				server_list(r, lack, whom, sizeof(whom));
				probe_problem_add(r,
				    PROBE_P_MULTI_SIGNER_ZSK_MISSING,
				    "%s signs with ZSK %u but %s does not "
				    "publish it in its DNSKEY RRset: a resolver "
				    "holding that DNSKEY RRset cannot validate "
				    "answers signed with it; the providers must "
				    "import each other's ZSKs (RFC 8901 2.1)",
				    who, r->keys[k].key_tag, whom);
			}
		}
		lines[0] = '\0';
		for (k = 0; k < r->n_keys; k++)
			if (ksk & (1u << k)) {
				if (r->keys[k].has_ds)
					ds = true;
				else {
					ds_line(r, &r->keys[k], owner, olen,
					    rec, sizeof(rec));
					append(lines, sizeof(lines), "%s%s",
					    lines[0] ? "; " : "", rec);
				}
			}
		if (!ds)
			probe_problem_add(r, PROBE_P_MULTI_SIGNER_DS_MISSING,
			    "No DS at %s covers a key that signs the DNSKEY "
			    "RRset served by %s: resolvers that ask it fail "
			    "validation. Add at the registrar: %s", r->parent,
			    who, lines[0] ? lines : "(no signing key)");
	}
}

/* ------------------------------------------------------- CDS */

/* The tags of the keys in a server's CDS (cds true) or CDNSKEY set. */
static void
cds_text(const struct probe_result *r, const struct probe_server *s,
    bool cds, char *buf, size_t len)
{
	unsigned	 j;

	buf[0] = '\0';
	if (cds ? s->cds_delete : s->cdnskey_delete)
		append(buf, len, "delete");
	for (j = 0; j < (cds ? r->n_cds : r->n_cdnskey); j++)
		if ((cds ? s->cds_set : s->cdnskey_set) & (1u << j))
			append(buf, len, "%s%u", buf[0] ? " " : "", cds ?
			    r->cds[j].key_tag : r->cdnskey[j].key_tag);
	if (buf[0] == '\0')
		append(buf, len, "none");
}

/* Registries ask every address and act only when all answers agree
 * (SWITCH, the Swedish Internet Foundation). */
static bool
cds_servers(struct probe_result *r, uint32_t answering, bool report)
{
	char		 a[160], b[160], c[160], d[160];
	unsigned	 i;
	int		 ref = -1;
	bool		 found = false;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (s->cds_status != PROBE_Q_NONE &&
		    (answering & (1u << i))) {
			r->cds_consistent = false;
			found = true;
			/* TCP that fails for DNSKEY too is already
			 * server_tcp_failed: one fact, one problem. */
			if (report && !(s->cds_tcp &&
			    s->tcp_status != PROBE_Q_NONE &&
			    s->tcp_status != PROBE_Q_OK))
				probe_problem_add(r, PROBE_P_CDS_UNREACHABLE,
				    "%s (%s) answers DNSKEY and SOA but not "
				    "CDS/CDNSKEY%s (%s): registries that read "
				    "CDS ask every server%s and will not act on "
				    "it", s->name, s->address, s->cds_tcp ?
				    " over TCP" : "",
				    probe_qstatus_name(s->cds_status),
				    s->cds_tcp ? " over TCP" : "");
			continue;
		}
		if (!s->cds_answered || !s->cdnskey_answered)
			continue;
		if (ref < 0) {
			ref = (int)i;
			continue;
		}
		if (s->cds_set == r->servers[ref].cds_set &&
		    s->cds_delete == r->servers[ref].cds_delete &&
		    s->cdnskey_set == r->servers[ref].cdnskey_set &&
		    s->cdnskey_delete == r->servers[ref].cdnskey_delete)
			continue;
		r->cds_consistent = false;
		found = true;
		if (!report)
			continue;
		cds_text(r, s, true, a, sizeof(a));
		cds_text(r, s, false, b, sizeof(b));
		cds_text(r, &r->servers[ref], true, c, sizeof(c));
		cds_text(r, &r->servers[ref], false, d, sizeof(d));
		probe_problem_add(r, PROBE_P_CDS_SERVERS_DISAGREE,
		    "%s (%s) publishes CDS {%s} CDNSKEY {%s} while %s (%s) "
		    "publishes CDS {%s} CDNSKEY {%s}: a registry that reads "
		    "CDS acts only when every server agrees; the DNS host must "
		    "publish one CDS set everywhere", s->name, s->address, a,
		    b, r->servers[ref].name, r->servers[ref].address, c, d);
	}
	return found;
}

/* Does a CDNSKEY stand for the same key as a CDS? By tag and algorithm,
 * and by the published key both resolve to when both do. */
static bool
cds_is_cdnskey(const struct probe_ds *c, const struct probe_cdnskey *k)
{
	return k->key_tag == c->key_tag && k->algorithm == c->algorithm &&
	    (c->key < 0 || k->key < 0 || c->key == k->key);
}

/* RFC 7344 4: CDS and CDNSKEY, when both are published, describe the
 * same keys; registries that read both cancel the update otherwise.
 * Judged per server: that is what a scanner sees. */
static bool
cds_vs_cdnskey(struct probe_result *r, bool report)
{
	char		 a[160], b[160];
	unsigned	 i, j, m;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];
		bool differ = s->cds_delete != s->cdnskey_delete;

		if (s->n_cds == 0 || s->n_cdnskey == 0)
			continue;
		for (j = 0; j < r->n_cds && !differ; j++) {
			bool found = false;

			if (!(s->cds_set & (1u << j)))
				continue;
			for (m = 0; m < r->n_cdnskey; m++)
				if ((s->cdnskey_set & (1u << m)) &&
				    cds_is_cdnskey(&r->cds[j], &r->cdnskey[m]))
					found = true;
			differ = !found;
		}
		for (m = 0; m < r->n_cdnskey && !differ; m++) {
			bool found = false;

			if (!(s->cdnskey_set & (1u << m)))
				continue;
			for (j = 0; j < r->n_cds; j++)
				if ((s->cds_set & (1u << j)) &&
				    cds_is_cdnskey(&r->cds[j], &r->cdnskey[m]))
					found = true;
			differ = !found;
		}
		if (!differ)
			continue;
		if (!report)
			return true;
		cds_text(r, s, true, a, sizeof(a));
		cds_text(r, s, false, b, sizeof(b));
		probe_problem_add(r, PROBE_P_CDS_CDNSKEY_MISMATCH,
		    "%s (%s) publishes CDS for keys {%s} but CDNSKEY for {%s}: "
		    "registries that read both cancel the update (RFC 7344 4); "
		    "the DNS host must publish both for the same keys",
		    s->name, s->address, a, b);
		return true;	/* one report: the servers-disagree check
				   covers the rest */
	}
	return false;
}

static bool
signed_by_ds_key(const struct probe_result *r, const struct probe_signer *sg,
    unsigned n)
{
	unsigned	 i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < r->n_keys; k++)
			if (r->keys[k].key_tag == sg[i].key_tag &&
			    r->keys[k].algorithm == sg[i].algorithm &&
			    r->keys[k].has_ds)
				return true;
	return false;
}

/* RFC 7344 4.1, RFC 8078 3: a registry trusts a CDS RRset only when a
 * key the current DS covers signs it (CDNSKEY when there is no CDS). */
static bool
cds_signers_check(struct probe_result *r, bool report)
{
	char		 who[512], tags[64];
	const struct probe_server *bad = NULL;
	const struct probe_signer *sg = NULL;
	uint32_t	 mask = 0;
	unsigned	 i, j, n = 0;

	if (r->n_ds == 0)
		return false;	/* bootstrapping (RFC 8078 3, RFC 9615) */
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];
		bool use_cds = s->n_cds > 0;

		/* Too many signatures to keep: not judged, rather than
		 * blamed for a signer that was not kept. */
		if ((s->n_cds == 0 && s->n_cdnskey == 0) || s->cds_sig_dropped)
			continue;
		if (signed_by_ds_key(r, use_cds ? s->cds_sig : s->cdnskey_sig,
		    use_cds ? s->n_cds_sig : s->n_cdnskey_sig))
			continue;
		mask |= 1u << i;
		if (bad == NULL) {
			bad = s;
			sg = use_cds ? s->cds_sig : s->cdnskey_sig;
			n = use_cds ? s->n_cds_sig : s->n_cdnskey_sig;
		}
	}
	if (bad == NULL)
		return false;
	if (!report)
		return true;
	tags[0] = '\0';
	for (j = 0; j < n; j++)
		append(tags, sizeof(tags), "%s%u", tags[0] ? " " : "",
		    sg[j].key_tag);
	server_list(r, mask, who, sizeof(who));
	probe_problem_add(r, PROBE_P_CDS_SIGNER_NOT_IN_DS,
	    "The CDS RRset served by %s is signed by {%s}, no key that the DS "
	    "at %s covers: registries ignore it (RFC 7344 4.1). The DNS host "
	    "must sign CDS/CDNSKEY with a key the current DS points at", who,
	    tags[0] ? tags : "nothing", r->parent);
	return true;
}

/* Would a DS set built from the CDS keep the chain? Every server that
 * answered must have its DNSKEY RRset signed by a CDS key. */
static bool
cds_chain(struct probe_result *r, uint32_t answering, bool report)
{
	char		 who[512];
	uint32_t	 want = 0, bad = 0;
	unsigned	 i, k;

	if (r->cds_delete || (r->n_cds == 0 && r->n_cdnskey == 0))
		return false;
	for (k = 0; k < r->n_keys; k++)
		if ((r->keys[k].in_cds || r->keys[k].in_cdnskey) &&
		    dsmatch_algorithm_supported(r->keys[k].algorithm))
			want |= 1u << k;
	for (i = 0; i < r->n_servers; i++)
		if ((answering & (1u << i)) && r->servers[i].n_dnskey > 0 &&
		    (signer_mask(r, i, true, false) & want) == 0)
			bad |= 1u << i;
	if (bad == 0)
		return false;
	if (!report)
		return true;
	server_list(r, bad, who, sizeof(who));
	probe_problem_add_sev(r, PROBE_P_CDS_BREAKS_CHAIN,
	    r->cds_parent_applies ? PROBE_SEV_CRITICAL : PROBE_SEV_WARNING,
	    "A DS set built from the zone's CDS/CDNSKEY would match no key "
	    "that signs the DNSKEY RRset served by %s: %s. The DNS host must "
	    "fix the CDS before anybody applies it", who,
	    r->cds_parent_applies ? "the parent applies CDS itself and would "
	    "break validation of the zone" : "the zone would fail validation "
	    "there if the parent applied it");
	return true;
}

/* A published key with this CDS's tag and algorithm, -1: none. A CDS
 * that has one and still matches no key carries a wrong digest. */
static int
cds_lookalike(const struct probe_result *r, const struct probe_ds *d)
{
	unsigned	 k;

	if (d->key >= 0 || !dsmatch_digest_supported(d->digest_type))
		return -1;
	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].key_tag == d->key_tag &&
		    r->keys[k].algorithm == d->algorithm)
			return (int)k;
	return -1;
}

/* Bit k: keys[k]'s RRSIG over the DNSKEY RRset at servers[i] verifies. */
static uint32_t
verified_mask(const struct probe_result *r, unsigned i)
{
	uint32_t	 m = 0;
	unsigned	 k;

	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].verifies_dnskey & (1u << i))
			m |= 1u << k;
	return m;
}

/* Bit k: keys[k] has a DS at the parent. */
static uint32_t
ds_key_mask(const struct probe_result *r)
{
	uint32_t	 m = 0;
	unsigned	 k;

	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].has_ds)
			m |= 1u << k;
	return m;
}

/*
 * What a registry checks with cryptography, where the tags alone pass
 * (the checks above): the CDS digest computed from the key it names, that
 * key's RRSIG over the DNSKEY RRset, the RRSIG over the CDS by a key the
 * DS covers. A stale or corrupt RRSIG carries the right tag, a CDS typed
 * by hand the right tag and algorithm: it looks right, and a parent that
 * applies it breaks the zone. Servers whose signatures were not verified
 * (sigs_verified false) are left to the tags.
 */
static bool
cds_crypto(struct probe_result *r, uint32_t answering, bool report)
{
	char		 why[400] = "", who[512];
	uint32_t	 want = 0, chain_bad = 0, sig_bad = 0;
	unsigned	 i, k;
	bool		 digest_bad = false;
	int		 la;

	if (r->cds_delete || (r->n_cds == 0 && r->n_cdnskey == 0))
		return false;
	for (i = 0; i < r->n_cds; i++) {
		if ((la = cds_lookalike(r, &r->cds[i])) < 0)
			continue;
		digest_bad = true;
		append(why, sizeof(why), "%sCDS %u %u %u has the tag and "
		    "algorithm of published key %u, but its digest is not that "
		    "key's (a DS copied from it matches no key)",
		    why[0] ? "; " : "", r->cds[i].key_tag, r->cds[i].algorithm,
		    r->cds[i].digest_type, r->keys[la].key_tag);
	}
	for (k = 0; k < r->n_keys; k++)
		if ((r->keys[k].in_cds || r->keys[k].in_cdnskey) &&
		    dsmatch_algorithm_supported(r->keys[k].algorithm))
			want |= 1u << k;
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (!s->sigs_verified)
			continue;
		/* The tags say a CDS key signs here; the signatures do not. */
		if ((answering & (1u << i)) && s->n_dnskey > 0 &&
		    (signer_mask(r, i, true, false) & want) != 0 &&
		    (verified_mask(r, i) & want) == 0)
			chain_bad |= 1u << i;
		/* Each of CDS and CDNSKEY: registries read one or the other
		 * (.se CDS, .cz CDNSKEY). */
		if (r->n_ds > 0 && !s->cds_sig_dropped &&
		    ((s->n_cds > 0 && signed_by_ds_key(r, s->cds_sig,
		    s->n_cds_sig) && (s->cds_verified_by &
		    ds_key_mask(r)) == 0) ||
		    (s->n_cdnskey > 0 && signed_by_ds_key(r, s->cdnskey_sig,
		    s->n_cdnskey_sig) && (s->cdnskey_verified_by &
		    ds_key_mask(r)) == 0)))
			sig_bad |= 1u << i;
	}
	if (!digest_bad && chain_bad == 0 && sig_bad == 0)
		return false;
	if (!report)
		return true;
	if (chain_bad != 0) {
		server_list(r, chain_bad, who, sizeof(who));
		append(why, sizeof(why), "%sno key the CDS/CDNSKEY names has an "
		    "RRSIG over the DNSKEY RRset served by %s that verifies "
		    "(one carries its key tag)", why[0] ? "; " : "", who);
	}
	if (sig_bad != 0) {
		server_list(r, sig_bad, who, sizeof(who));
		append(why, sizeof(why), "%sthe RRSIG over the CDS or CDNSKEY "
		    "RRset served by %s carries the tag of a key the DS covers "
		    "but does not verify", why[0] ? "; " : "", who);
	}
	probe_problem_add_sev(r, PROBE_P_CDS_BOGUS,
	    r->cds_parent_applies && (digest_bad || chain_bad != 0) ?
	    PROBE_SEV_CRITICAL : PROBE_SEV_WARNING,
	    "The zone's CDS looks right but fails the cryptographic check: "
	    "%s. %s", why, !digest_bad && chain_bad == 0 ? "A registry "
	    "ignores this CDS (RFC 7344 4.1): the DNS host must re-sign "
	    "CDS/CDNSKEY with a key the current DS covers" :
	    r->cds_parent_applies ? "The parent applies CDS itself and would "
	    "break validation of the zone: the DNS host must fix the CDS now" :
	    "Do not copy it to the registrar; the DNS host must re-sign and "
	    "publish a CDS made from the key that signs");
	return true;
}

/* Would a registry that reads CDS act on this one? Every check above
 * passes. Judged before the rotation, whose message depends on it. */
static bool
cds_acceptable(struct probe_result *r, uint32_t answering)
{
	return !r->cds_delete && !cds_servers(r, answering, false) &&
	    !cds_vs_cdnskey(r, false) && !cds_signers_check(r, false) &&
	    !cds_chain(r, answering, false) &&
	    !cds_crypto(r, answering, false);
}

static void
classify_cds(struct probe_result *r, uint32_t answering)
{
	char		 want[256] = "", have[256] = "";
	unsigned	 i;
	bool		 differ = false, bogus;

	cds_servers(r, answering, true);
	cds_vs_cdnskey(r, true);
	cds_signers_check(r, true);
	cds_chain(r, answering, true);
	bogus = cds_crypto(r, answering, true);
	if (r->cds_delete) {
		probe_problem_add(r, PROBE_P_CDS_DELETE,
		    "The zone publishes a CDS delete record (0 0 0 00): the "
		    "parent will remove DNSSEC%s%s%s, after which %s validates "
		    "as insecure. If that is not meant, have the DNS host "
		    "withdraw the CDS/CDNSKEY now", r->cds_parent_applies ?
		    " (" : " once the registrar acts on it", 
		    r->cds_parent_applies ? r->parent : "",
		    r->cds_parent_applies ? " reads CDS itself and deletes "
		    "every DS at its next scan)" : "", r->domain);
		return;
	}
	if (r->n_cds == 0)
		return;
	for (i = 0; i < r->n_cds; i++) {
		append(want, sizeof(want), "%s%u", want[0] ? " " : "",
		    r->cds[i].key_tag);
		/* A wrong digest under a published key's tag is
		 * cds_bogus (cds_crypto), not an unknown key. */
		if (r->cds[i].key < 0) {
			if (cds_lookalike(r, &r->cds[i]) < 0)
				probe_problem_add(r, PROBE_P_CDS_UNKNOWN_KEY,
				    "CDS %u names a key the zone does not "
				    "publish: the DNS host's CDS is wrong, do "
				    "not copy it to the registrar",
				    r->cds[i].key_tag);
		} else if (!r->keys[r->cds[i].key].has_ds)
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
	 * expected shape; it is reported through the rotation problem. A
	 * CDS that fails the cryptography must not be copied: cds_bogus
	 * says so, and "update the DS to match" would break the zone. */
	if (differ && !bogus && (r->state == PROBE_STATE_STABLE ||
	    r->state == PROBE_STATE_STALE_DS))
		probe_problem_add(r, PROBE_P_CDS_MISMATCH,
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
		probe_problem_add(r, PROBE_P_ZSK_ROTATION,
		    "ZSK %u is published but not yet signing: a ZSK rotation "
		    "is under way at the DNS host (nothing to do at the "
		    "registrar)", idle_tag);
}

/* ------------------------------------------------------- history */

/* The key a KSK rotation waits on: a KSK (SEP flag) that needs a DS
 * first, a CSK without the flag otherwise; -1 when none. */
int
probe_key_sig_verified(const struct probe_result *r, unsigned k)
{
	uint32_t	 checked = 0;
	unsigned	 i;

	if (k >= r->n_keys)
		return -1;
	for (i = 0; i < r->n_servers; i++)
		if (r->servers[i].sigs_verified)
			checked |= 1u << i;
	checked &= r->keys[k].signs_dnskey;
	if (checked == 0)
		return -1;
	return (r->keys[k].verifies_dnskey & checked) == checked;
}

int
probe_rotation_new_key(const struct probe_result *r)
{
	unsigned	 k;

	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].needs_ds && (r->keys[k].flags & 1))
			return (int)k;
	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].needs_ds)
			return (int)k;
	return -1;
}

/* The open rotation's new key among the published ones, -1: absent. */
static int
history_new_key(const struct probe_result *r)
{
	const struct probe_history *h = &r->history;
	unsigned	 k;

	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];

		if (h->rot_rdata_len > 0) {
			if (key->rdata_len == h->rot_rdata_len &&
			    memcmp(key->rdata, h->rot_rdata,
			    h->rot_rdata_len) == 0)
				return (int)k;
		} else if (key->key_tag == h->rot_key_tag &&
		    key->algorithm == h->rot_key_alg &&
		    ((key->flags & 1) || key->signs_dnskey != 0))
			/* A host's event named only tag and algorithm. */
			return (int)k;
	}
	return -1;
}

/*
 * Where the KSK rotation deadline stands: from the open rotation history
 * holds, or for the rotation this check opens (start = the new key's
 * first sighting, deadline = start + window, registrar deadline =
 * deadline - the parent's DS TTL, so that the new DS is in resolver
 * caches before the old key may go). Only a tracked domain has a
 * deadline: a one-shot check cannot know when the key appeared.
 */
static void
judge_deadline(struct probe_result *r, const struct probe_policy *pol,
    time_t now)
{
	const struct probe_history *h = &r->history;
	struct probe_deadline	*d = &r->deadline;
	int			 idx;

	memset(d, 0, sizeof(*d));
	d->key = -1;
	if (!h->tracked)
		return;
	if (h->rotation_open) {
		idx = history_new_key(r);
		/* The new key withdrawn: the rotation is over, not late. */
		if (idx < 0 && h->rot_rdata_len > 0 &&
		    r->state != PROBE_STATE_UNKNOWN)
			return;
		/* Judge by this check when it saw the key; else by the
		 * record. */
		if (idx >= 0 ? r->keys[idx].has_ds : h->rot_ds_updated_at != 0)
			return;
		d->start = h->rot_start;
		d->deadline = h->rot_deadline;
		d->registrar_deadline = h->rot_registrar_deadline;
		if (h->rot_ds_ttl == 0 && r->n_ds > 0 && r->ds_ttl > 0 &&
		    d->deadline != 0)
			d->registrar_deadline = d->deadline - r->ds_ttl;
	} else if (r->state == PROBE_STATE_ROTATION_PENDING &&
	    !r->rotation_ambiguous &&
	    (idx = probe_rotation_new_key(r)) >= 0) {
		/* A guess opens no countdown: the key may be the old one. */
		d->opens = true;
		d->start = r->keys[idx].first_seen != 0 ?
		    r->keys[idx].first_seen : now;
		d->deadline = d->start + pol->rotation_window_s;
		d->registrar_deadline = d->deadline -
		    (r->n_ds > 0 ? r->ds_ttl : 0);
	} else
		return;
	d->key = idx;
	d->set = d->registrar_deadline != 0;
}

/* While the new KSK waits for its DS, the time left to the registrar
 * deadline sets the severity: warning, critical inside critical_before. */
static void
classify_deadline(struct probe_result *r, const struct probe_policy *pol,
    time_t now)
{
	const struct probe_deadline *d = &r->deadline;
	char			 rec[1024], when[32], left[32], dl[32];
	enum probe_severity	 sev;
	long long		 rest;
	uint16_t		 tag;
	uint8_t			 alg;

	judge_deadline(r, pol, now);
	if (!d->set)
		return;
	tag = d->key >= 0 ? r->keys[d->key].key_tag : r->history.rot_key_tag;
	alg = d->key >= 0 ? r->keys[d->key].algorithm :
	    r->history.rot_key_alg;
	if (dsmatch_algorithm_deprecated(alg))
		/* Never a DS that anchors the zone to a dying algorithm. */
		snprintf(rec, sizeof(rec), "(no DS offered for key %u: its "
		    "algorithm %u is deprecated; sign the zone with algorithm "
		    "13 or 8 first)", tag, alg);
	else if (d->key >= 0 ? dsmatch_ds_line(r->domain, tag, alg,
	    r->keys[d->key].rdata, r->keys[d->key].rdata_len, rec,
	    sizeof(rec)) == -1 : (r->history.rot_rdata_len == 0 ||
	    dsmatch_ds_line(r->domain, tag, alg, r->history.rot_rdata,
	    r->history.rot_rdata_len, rec, sizeof(rec)) == -1))
		snprintf(rec, sizeof(rec), "the DS for key %u (algorithm %u)",
		    tag, alg);
	rest = (long long)d->registrar_deadline - (long long)now;
	sev = rest < pol->critical_before_s ? PROBE_SEV_CRITICAL :
	    PROBE_SEV_WARNING;
	clock_rfc3339(d->registrar_deadline, when, sizeof(when));
	clock_rfc3339(d->deadline, dl, sizeof(dl));
	if (d->key >= 0 && r->keys[d->key].ds_partial) {
		/* The registrar did its part; the countdown runs on until
		 * every parent server serves the new DS. */
		probe_problem_add_sev(r, PROBE_P_ROTATION_DEADLINE, sev,
		    "The DS for the new key %u has not reached every server "
		    "of %s yet; registrar deadline %s (%s%s%s; the DNS host "
		    "may withdraw the old key from %s): if it has not reached "
		    "them all by then, ask the registrar why", tag, r->parent,
		    when, rest >= 0 ? "" : "passed ", clock_duration(rest >= 0 ?
		    rest : -rest, left, sizeof(left)), rest >= 0 ? " left" :
		    " ago", dl);
		return;
	}
	/* A parent that applies CDS adds the DS itself: until its pickup
	 * time has passed nobody needs to act, and that is the deadline the
	 * message gives; after it, the registrar deadline counts again. */
	if (d->key >= 0 && pending_by_cds(r) && d->start != 0 &&
	    d->start + pol->cds_pickup_s < d->registrar_deadline &&
	    now < d->start + pol->cds_pickup_s) {
		char pk[32];

		r->cds_pickup = d->start + pol->cds_pickup_s;
		probe_problem_add_sev(r, PROBE_P_ROTATION_DEADLINE,
		    PROBE_SEV_WARNING, "The registry of %s should pick up "
		    "the CDS for the new key %u by %s (%s left); if it has "
		    "not by then, check the registry's CDS status page and "
		    "that every server still serves this CDS, and add the DS "
		    "at the registrar before %s: %s", r->parent, tag,
		    clock_rfc3339(r->cds_pickup, pk, sizeof(pk)),
		    clock_duration((long long)r->cds_pickup - (long long)now,
		    left, sizeof(left)), when, rec);
		return;
	}
	if (rest >= 0)
		probe_problem_add_sev(r, PROBE_P_ROTATION_DEADLINE, sev,
		    "Add the DS for the new key %u at the registrar before "
		    "%s (%s left; the DNS host may withdraw the old key from "
		    "%s): %s", tag, when,
		    clock_duration(rest, left, sizeof(left)), dl, rec);
	else
		probe_problem_add_sev(r, PROBE_P_ROTATION_DEADLINE, sev,
		    "The registrar deadline %s passed %s ago: add the DS for "
		    "the new key %u at the registrar now, the DNS host may "
		    "withdraw the old key at any moment (from %s): %s", when,
		    clock_duration(-rest, left, sizeof(left)), tag, dl, rec);
}

/*
 * A rule no single record shows. The DS may move to the new key only once
 * the new DNSKEY set has reached resolver caches (a DNSKEY TTL after it
 * appeared), and must be in caches a DS TTL before the DNS host withdraws
 * the old key at the end of its window. What is left to act is window -
 * DNSKEY TTL - DS TTL; below critical_before the rotation is critical from
 * its first hour. Judged on any check that sees a KSK wait for its DS, so a
 * one-shot check says it too.
 */
static void
classify_ttl_window(struct probe_result *r, const struct probe_policy *pol)
{
	char		 a[32], b[32], w[32], c[32], left[32];
	long long	 ds_ttl, sum, rest;

	if (r->state != PROBE_STATE_ROTATION_PENDING)
		return;
	ds_ttl = r->n_ds > 0 ? r->ds_ttl : 0;
	sum = ds_ttl + (long long)r->dnskey_ttl;
	if (sum <= pol->rotation_window_s - pol->critical_before_s)
		return;
	rest = pol->rotation_window_s - sum;
	if (rest > 0)
		clock_duration(rest, left, sizeof(left));
	else
		snprintf(left, sizeof(left), "no time");
	probe_problem_add(r, PROBE_P_TTL_EXCEEDS_WINDOW,
	    "The DNSKEY TTL (%s) plus the DS TTL at %s (%s) leave %s of the "
	    "%s rotation window to change the DS, less than critical_before "
	    "(%s): add the DS for the new key as soon as it has been published "
	    "for a DNSKEY TTL, and ask the DNS host for a longer window or a "
	    "shorter DNSKEY TTL", clock_duration(r->dnskey_ttl, a, sizeof(a)),
	    r->parent, clock_duration(ds_ttl, b, sizeof(b)), left,
	    clock_duration(pol->rotation_window_s, w, sizeof(w)),
	    clock_duration(pol->critical_before_s, c, sizeof(c)));
}

/* The DS a DNS host announced must match a key the zone publishes before
 * anybody copies it to the registrar. Judged only on a check that saw
 * keys: an unreachable zone says nothing about them. */
static void
classify_host_ds(struct probe_result *r, const uint8_t *owner, size_t olen)
{
	const struct probe_history *h = &r->history;
	char		 hex[2 * PROBE_MAX_DIGEST + 1];
	unsigned	 k;

	if (!h->rotation_open || h->host_digest_len == 0 || r->n_keys == 0 ||
	    !dsmatch_digest_supported(h->host_digest_type))
		return;
	for (k = 0; k < r->n_keys; k++)
		if (dsmatch_ds_matches(owner, olen, h->host_key_tag,
		    h->host_algorithm, h->host_digest_type, h->host_digest,
		    h->host_digest_len, r->keys[k].rdata,
		    r->keys[k].rdata_len) == 1)
			return;
	dsmatch_hex_upper(h->host_digest, h->host_digest_len, hex,
	    sizeof(hex));
	probe_problem_add(r, PROBE_P_HOST_DS_MISMATCH,
	    "The DS that %s announced (%s, %s IN DS %u %u %u %s) matches no "
	    "key %s publishes: do not copy it to the registrar until the "
	    "zone serves that key", h->host_source, h->host_event, r->domain,
	    h->host_key_tag, h->host_algorithm, h->host_digest_type, hex,
	    r->domain);
}

/* The store failed this check: it says so whatever else is judged. */
static void
classify_store(struct probe_result *r)
{
	if (r->history.store_error[0])
		probe_problem_add(r, PROBE_P_STORE_ERROR, "%s",
		    r->history.store_error);
	/* A query the monitor could not send, an answer it could not keep:
	 * without this, a local failure reads as a server that did not
	 * answer, and the DNS host gets the blame. */
	if (r->local_errors > 0)
		probe_problem_add(r, PROBE_P_MONITOR_ERROR, "The monitor "
		    "itself failed %u time%s while checking %s (out of memory "
		    "or no free socket on this host): the check may be "
		    "incomplete, and what it says of the servers may be the "
		    "monitor's fault. Look at this host's memory and open "
		    "files", r->local_errors, r->local_errors == 1 ? "" : "s",
		    r->domain);
}

static void
classify_history(struct probe_result *r, const struct probe_policy *pol,
    const uint8_t *owner, size_t olen, time_t now)
{
	const struct probe_history *h = &r->history;
	char		 when[32];

	classify_store(r);
	if (h->tracked && h->secure_before &&
	    r->validation == PROBE_VAL_INSECURE)
		probe_problem_add(r, PROBE_P_BECAME_INSECURE,
		    "%s validated as secure at %s and now as insecure: "
		    "validating resolvers no longer protect its answers. If "
		    "nobody meant to turn DNSSEC off, have the DNS host sign "
		    "the zone and add its DS at the registrar again",
		    r->domain, clock_rfc3339(h->secure_at, when,
		    sizeof(when)));
	classify_host_ds(r, owner, olen);
	classify_deadline(r, pol, now);
	classify_ttl_window(r, pol);
}

static bool
parent_applies_cds(const struct probe_result *r,
    const struct probe_policy *pol)
{
	unsigned	 i;

	for (i = 0; i < pol->n_cds_parents; i++)
		if (pol->cds_parents[i] != NULL &&
		    strcasecmp(pol->cds_parents[i], r->parent) == 0)
			return true;
	return false;
}

void
probe_classify(struct probe_result *r, const struct probe_policy *pol,
    time_t now)
{
	uint8_t			 owner[DSMATCH_NAME_MAX];
	size_t			 olen;
	uint32_t		 answering;

	r->n_problems = 0;
	r->problems_dropped = 0;
	r->state = PROBE_STATE_UNKNOWN;
	r->severity = PROBE_SEV_OK;
	r->servers_agree = true;
	r->rotation_ambiguous = false;
	r->multi_signer = PROBE_MULTI_NONE;
	r->n_providers = 0;
	r->cds_consistent = true;
	r->cds_acceptable = false;
	r->cds_pickup = 0;
	r->cds_parent_applies = parent_applies_cds(r, pol);
	r->parents_agree = true;
	r->ds_everywhere_at = r->safe_removal_at = 0;
	r->n_publish = 0;
	memset(&r->alg_rollover, 0, sizeof(r->alg_rollover));
	memset(&r->deadline, 0, sizeof(r->deadline));
	r->deadline.key = -1;

	if (dsmatch_name_to_wire(r->domain, owner, sizeof(owner), &olen,
	    NULL, 0) == -1) {
		probe_problem_add(r, PROBE_P_INVALID_NAME,
		    "%s is not a valid domain name", r->domain);
		classify_store(r);
		goto done;
	}
	match_ds(r, owner, olen);
	answering = probe_answering_mask(r);

	if (r->intercepted) {
		/* Nothing else was asked: the engine stops there. */
		probe_problem_add(r, PROBE_P_DNS_INTERCEPTED,
		    "The network intercepts DNS: %s. No verdict on %s: "
		    "check the monitor's network (a firewall or middlebox "
		    "answering port 53), its root hints and trust anchor",
		    r->error[0] ? r->error : "the root does not answer as "
		    "the root", r->domain);
		classify_history(r, pol, owner, olen, now);
		goto done;
	} else if (r->parent_status != PROBE_Q_OK && r->parent_lame) {
		probe_problem_add(r, PROBE_P_PARENT_LAME,
		    "No server of the parent zone%s%s answered with authority "
		    "about %s (%s): lame servers or an intercepting network; "
		    "this is no verdict on %s", r->parent[0] ? " " : "",
		    r->parent, r->domain, r->error[0] ? r->error :
		    "lame answers", r->domain);
	} else if (r->parent_status != PROBE_Q_OK) {
		probe_problem_add(r, PROBE_P_PARENT_UNREACHABLE,
		    "No server of the parent zone%s%s answered for %s (%s): "
		    "the DS cannot be checked%s%s", r->parent[0] ? " " : "",
		    r->parent, r->domain, r->error[0] ? r->error :
		    probe_qstatus_name(r->parent_status),
		    r->parent_server[0] ? "; last tried " : "",
		    r->parent_server);
	} else if (!r->delegated) {
		probe_problem_add(r, PROBE_P_NOT_DELEGATED,
		    "%s is not delegated from %s%s%s: check the name, or the "
		    "domain's registration", r->domain,
		    r->parent[0] ? r->parent : "its parent",
		    r->error[0] ? ": " : "", r->error);
	} else if (answering == 0 && r->n_servers > 0 && every_server_lame(r)) {
		/* Each answered, none with authority: lame servers, or a
		 * network that answers for them. Server problems, no
		 * verdict on the zone (state unknown). */
		classify_servers(r, answering);
	} else if (answering == 0 && r->n_servers > 0) {
		classify_servers(r, answering);
		probe_problem_add(r, PROBE_P_NO_SERVER_ANSWERS,
		    "None of the %u servers of %s answered: the domain does "
		    "not resolve for anyone", r->n_servers, r->domain);
	} else if (r->n_servers == 0) {
		probe_problem_add(r, PROBE_P_NO_SERVERS,
		    "No usable name server address for %s%s%s", r->domain,
		    r->error[0] ? ": " : "", r->error);
	} else {
		if (parents_classify(r, owner, olen)) {
			/* Judged by a server that is up to date. */
			match_ds(r, owner, olen);
			parents_classify(r, owner, olen);
		}
		parents_classify_rrsig(r);
		classify_providers(r, pol, answering);
		r->cds_acceptable = r->cds_parent_applies &&
		    cds_acceptable(r, answering);
		classify_state(r, owner, olen, pol, now);
		classify_alg_rollover(r, answering, pol, now);
		classify_ds_algorithms(r);
		classify_digests(r, owner, olen);
		classify_key_algorithms(r);
		classify_rsa_sizes(r);
		if (r->state == PROBE_STATE_INSECURE)
			classify_bootstrap(r);
		classify_servers(r, answering);
		classify_multi(r, owner, olen);
		classify_cds(r, answering);
		classify_dnskey_size(r);
		classify_zsk(r, answering);
		classify_signatures(r, pol, now);
		classify_denial(r, answering);
	}
	classify_validation(r);

	if (r->state == PROBE_STATE_INSECURE && pol->insecure_is_problem)
		probe_problem_add(r, PROBE_P_INSECURE,
		    "%s has no DS at %s: answers for it cannot be validated",
		    r->domain, r->parent);
	/* Each kind of record by its own name: a full CDS list is not a
	 * DS the parent holds. */
	if (r->ds_dropped + r->keys_dropped + r->cds_dropped +
	    r->cdnskey_dropped + r->servers_dropped > 0)
		probe_problem_add(r, PROBE_P_OBSERVATION_TRUNCATED,
		    "More records than the monitor keeps (%u DS, %u DNSKEY, "
		    "%u CDS, %u CDNSKEY, %u server addresses dropped): the "
		    "verdict may be incomplete", r->ds_dropped,
		    r->keys_dropped, r->cds_dropped, r->cdnskey_dropped,
		    r->servers_dropped);

	classify_history(r, pol, owner, olen, now);

done:
	if (probe_state_severity(r->state) > r->severity)
		r->severity = probe_state_severity(r->state);
}
