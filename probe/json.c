/*
 * The observation as JSON: the shape `dnssecmon check --format json`
 * prints, and what the store, the alerts and the API reuse.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "probe/probe.h"

const char *
probe_rcode_name(int rcode)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
	    "NOTAUTH", "NOTZONE" };

	if (rcode < 0)
		return NULL;
	if (rcode < (int)(sizeof(names) / sizeof(*names)))
		return names[rcode];
	if (rcode == 16)
		return "BADVERS";
	return "RCODE";
}

const char *
probe_problem_severity_name(enum probe_severity s)
{
	/* A problem at "ok" level is information: a note, not an alarm. */
	return s == PROBE_SEV_OK ? "info" : probe_severity_name(s);
}

json_t *
probe_ds_json(const char *owner, uint16_t key_tag, uint8_t algorithm,
    uint8_t digest_type, const uint8_t *digest, size_t digest_len)
{
	char	 hex[2 * PROBE_MAX_DIGEST + 1], line[1200];
	json_t	*o;

	dsmatch_hex_upper(digest, digest_len, hex, sizeof(hex));
	o = json_pack("{s:i, s:i, s:i, s:s}", "key_tag", key_tag,
	    "algorithm", algorithm, "digest_type", digest_type, "digest", hex);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "record", dsmatch_ds_record(owner, key_tag,
	    algorithm, digest_type, digest, digest_len, line,
	    sizeof(line)) == 0 ? json_string(line) : json_null());
	return o;
}

static json_t *
ds_json(const struct probe_result *r, const struct probe_ds *d)
{
	return probe_ds_json(r->domain, d->key_tag, d->algorithm,
	    d->digest_type, d->digest, d->digest_len);
}

/* RFC 9615 signals of a domain without DS; null when not asked. */
static json_t *
bootstrap_json(const struct probe_result *r)
{
	json_t		*o, *a, *c, *x;
	unsigned	 i, k;

	if (r->n_signals == 0 && r->signals_dropped == 0)
		return json_null();
	a = json_array();
	for (i = 0; i < r->n_signals; i++) {
		const struct probe_signal *s = &r->signals[i];

		c = json_array();
		for (k = 0; k < s->n_cds; k++)
			if ((x = ds_json(r, &s->cds[k])) != NULL)
				json_array_append_new(c, x);
		x = json_pack("{s:s, s:s, s:o}", "ns", s->ns, "status",
		    probe_signal_status_name(s->status), "cds", c);
		if (x == NULL)
			continue;
		json_object_set_new(x, "why", s->why[0] ? json_string(s->why) :
		    json_null());
		json_array_append_new(a, x);
	}
	o = json_pack("{s:b, s:b, s:o, s:i}", "cds", r->n_cds > 0, "cdnskey",
	    r->n_cdnskey > 0, "signals", a, "signals_dropped",
	    r->signals_dropped);
	if (o != NULL)
		json_object_set_new(o, "ready", json_boolean(probe_has_problem(r,
		    PROBE_P_DS_BOOTSTRAP_READY)));
	return o;
}

static json_t *
tcp_failed_text(const struct probe_server *s)
{
	if (s->tcp_status == PROBE_Q_NONE || s->tcp_status == PROBE_Q_OK ||
	    s->tcp_error[0] == '\0')
		return json_null();
	return json_string(s->tcp_error);
}

/*
 * The rotation as one check sees it. When the check cannot tell a new key
 * from a retiring one (rotation_ambiguous), both readings are given, each
 * with what it asks of the registrar: a consumer must not present the DS
 * to publish as certain.
 */
static json_t *
rotation_json(const struct probe_result *r)
{
	json_t		*o, *readings, *recs, *x;
	char		 tags[128] = "", cond[192];
	unsigned	 i;

	o = json_pack("{s:s, s:b, s:o, s:o}", "state",
	    probe_state_name(r->state), "ambiguous", r->rotation_ambiguous,
	    "ds_everywhere_at", clock_json(r->ds_everywhere_at),
	    "safe_removal_at", clock_json(r->safe_removal_at));
	if (o == NULL || !r->rotation_ambiguous)
		return o;
	recs = json_array();
	for (i = 0; i < r->n_publish; i++) {
		size_t n = strlen(tags);

		/* A key's SHA-384 DS follows its SHA-256 one: name it once. */
		if (i == 0 || r->publish[i].key != r->publish[i - 1].key)
			snprintf(tags + n, sizeof(tags) - n, "%s%u",
			    n ? ", " : "", r->publish[i].key_tag);
		if ((x = ds_json(r, &r->publish[i])) != NULL &&
		    json_is_string(json_object_get(x, "record")))
			json_array_append(recs, json_object_get(x, "record"));
		json_decref(x);
	}
	readings = json_array();
	snprintf(cond, sizeof(cond), "key %s is the new key", tags);
	json_array_append_new(readings, json_pack("{s:s, s:s, s:o}", "if",
	    cond, "then", "add its DS at the registrar before the DNS host "
	    "removes the old key", "records", recs));
	snprintf(cond, sizeof(cond), "key %s is the retiring key (the DS was "
	    "already replaced)", tags);
	json_array_append_new(readings, json_pack("{s:s, s:s, s:[]}", "if",
	    cond, "then", "nothing is needed at the registrar", "records"));
	json_object_set_new(o, "readings", readings);
	return o;
}

static json_t *
tags_json(const struct probe_result *r, bool cds, uint32_t set)
{
	json_t		*a = json_array();
	unsigned	 j;

	for (j = 0; j < (cds ? r->n_cds : r->n_cdnskey); j++)
		if (set & (1u << j))
			json_array_append_new(a, json_integer(cds ?
			    r->cds[j].key_tag : r->cdnskey[j].key_tag));
	return a;
}

/* What a registry's CDS scanner would read from this server. */
static json_t *
server_cds_json(const struct probe_result *r, const struct probe_server *s)
{
	json_t		*o, *sig, *ver;
	unsigned	 j, k;
	uint32_t	 by;

	sig = json_array();
	for (j = 0; j < s->n_cds_sig; j++)
		json_array_append_new(sig, json_integer(s->cds_sig[j].key_tag));
	o = json_pack("{s:o, s:o, s:b, s:b, s:o, s:s, s:b}", "cds",
	    tags_json(r, true, s->cds_set), "cdnskey",
	    tags_json(r, false, s->cdnskey_set), "delete_in_cds", s->cds_delete,
	    "delete_in_cdnskey", s->cdnskey_delete, "cds_signers", sig,
	    "status", s->cds_status == PROBE_Q_NONE ? "ok" :
	    probe_qstatus_name(s->cds_status), "over_tcp", s->cds_tcp);
	/* The keys whose RRSIG over the CDS (CDNSKEY when no CDS) RRset
	 * verifies, null when not verified. */
	ver = json_array();
	by = s->n_cds > 0 ? s->cds_verified_by : s->cdnskey_verified_by;
	for (k = 0; k < r->n_keys; k++)
		if (by & (1u << k))
			json_array_append_new(ver,
			    json_integer(r->keys[k].key_tag));
	json_object_set_new(o, "cds_signers_verified", s->sigs_verified ?
	    ver : json_null());
	if (!s->sigs_verified)
		json_decref(ver);
	return o;
}

/* The providers of a multi-signer zone, each with its signing keys. */
static json_t *
multi_json(const struct probe_result *r)
{
	json_t		*o, *a, *srv, *ks;
	unsigned	 g, i, k;

	a = json_array();
	for (g = 0; g < r->n_providers; g++) {
		uint32_t signers = 0;

		srv = json_array();
		for (i = 0; i < r->n_servers; i++)
			if (r->providers[g] & (1u << i)) {
				json_array_append_new(srv,
				    json_string(r->servers[i].address));
				for (k = 0; k < r->n_keys; k++)
					if ((r->keys[k].signs_dnskey |
					    r->keys[k].signs_soa) & (1u << i))
						signers |= 1u << k;
			}
		ks = json_array();
		for (k = 0; k < r->n_keys; k++)
			if (signers & (1u << k))
				json_array_append_new(ks,
				    json_integer(r->keys[k].key_tag));
		json_array_append_new(a, json_pack("{s:o, s:o}", "servers",
		    srv, "signing_keys", ks));
	}
	o = json_pack("{s:s, s:o}", "mode", probe_multi_name(r->multi_signer),
	    "providers", a);
	return o;
}

/* One server's negative answer and whether its proof holds. */
static json_t *
negative_json(const struct probe_negative *n)
{
	const char	*rc = probe_rcode_name(n->rcode);
	json_t		*o;

	if (n->status == PROBE_Q_NONE)
		return json_null();
	o = json_pack("{s:s, s:o, s:s, s:o}", "status",
	    probe_qstatus_name(n->status), "rcode", rc ? json_string(rc) :
	    json_null(), "proof", probe_denial_name(n->kind), "valid",
	    n->checked ? json_boolean(n->valid) : json_null());
	if (o != NULL)
		json_object_set_new(o, "error", n->error[0] && !(n->checked &&
		    n->valid) ? json_string(n->error) : json_null());
	return o != NULL ? o : json_null();
}

static json_t *
nsec3_json(const struct probe_nsec3 *p)
{
	char	 salt[2 * PROBE_MAX_SALT + 1];

	if (!p->seen)
		return json_null();
	dsmatch_hex_upper(p->salt, p->salt_len < PROBE_MAX_SALT ?
	    p->salt_len : PROBE_MAX_SALT, salt, sizeof(salt));
	return json_pack("{s:i, s:i, s:s, s:i, s:b}", "algorithm",
	    p->algorithm, "iterations", p->iterations, "salt", salt,
	    "salt_length", p->salt_len, "opt_out", p->opt_out);
}

/*
 * The domain's denial of existence: the random name asked, the kind of
 * proof the servers use ("nsec", "nsec3", "mixed" when they differ,
 * "missing", "none"), the NSEC3 parameters with the most iterations, and
 * libunbound's verdict on the random name.
 */
static json_t *
denial_json(const struct probe_result *r)
{
	const struct probe_nsec3 *p = NULL;
	enum probe_denial kind = PROBE_DENIAL_NONE;
	bool		 mixed = false;
	unsigned	 i, q;
	json_t		*o;

	if (r->denial_name[0] == '\0')
		return json_null();
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];
		const struct probe_negative *n[2] = { &s->nxdomain,
		    &s->nodata };

		for (q = 0; q < 2; q++) {
			if (n[q]->kind == PROBE_DENIAL_NONE)
				continue;
			if (kind != PROBE_DENIAL_NONE && kind != n[q]->kind)
				mixed = true;
			kind = n[q]->kind;
		}
		if (s->nsec3.seen && (p == NULL ||
		    s->nsec3.iterations > p->iterations))
			p = &s->nsec3;
	}
	o = json_pack("{s:s, s:i, s:s, s:s}", "name", r->denial_name,
	    "apex_type", r->denial_type, "proof", mixed ? "mixed" :
	    probe_denial_name(kind), "validation",
	    probe_validation_name(r->denial_validation));
	if (o == NULL)
		return json_null();
	json_object_set_new(o, "why_bogus", r->denial_why_bogus[0] ?
	    json_string(r->denial_why_bogus) : json_null());
	json_object_set_new(o, "nsec3", p != NULL ? nsec3_json(p) :
	    json_null());
	return o;
}

/* Algorithm numbers set in a bitmask, ascending. */
static json_t *
algs_json(uint32_t m)
{
	json_t		*a = json_array();
	unsigned	 i;

	for (i = 0; i < 32 && a != NULL; i++)
		if ((m >> i) & 1)
			json_array_append_new(a, json_integer(i));
	return a;
}

static json_t *
alg_rollover_json(const struct probe_alg_rollover *ro)
{
	if (ro->stage == PROBE_ALG_NONE)
		return json_null();
	return json_pack("{s:s, s:o, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:b}",
	    "stage", probe_alg_stage_name(ro->stage), "from", ro->from ?
	    json_integer(ro->from) : json_null(), "to", ro->to ?
	    json_integer(ro->to) : json_null(), "basis", ro->basis,
	    "bad_order", ro->bad_order, "start", clock_json(ro->start),
	    "stage_since", clock_json(ro->stage_since),
	    "next_step_safe_at", clock_json(ro->safe_at), "deadline",
	    clock_json(ro->deadline), "stalled", ro->stalled);
}

/* What each parent server address said to the DS question. */
static json_t *
parents_json(const struct probe_result *r)
{
	json_t		*o, *a, *x, *tags;
	unsigned	 i, u;

	a = json_array();
	for (i = 0; i < r->n_parents; i++) {
		const struct probe_parent *p = &r->parents[i];
		const char *rc = probe_rcode_name(p->rcode);

		tags = json_array();
		for (u = 0; u < r->n_parent_ds; u++)
			if (p->ds_set & (1u << u))
				json_array_append_new(tags,
				    json_integer(r->parent_ds[u].key_tag));
		x = json_pack("{s:s, s:s, s:o, s:o, s:o, s:b, s:b}", "address",
		    p->address, "status", probe_qstatus_name(p->status),
		    "rcode", rc ? json_string(rc) : json_null(), "ds_tags",
		    tags, "ds_ttl", p->n_ds ? json_integer(p->ds_ttl) :
		    json_null(), "rrsig", p->rrsig, "lags", p->lags);
		if (x == NULL)
			continue;
		json_object_set_new(x, "error", p->error[0] ?
		    json_string(p->error) : json_null());
		json_array_append_new(a, x);
	}
	o = json_pack("{s:b, s:b, s:i, s:o}", "every_server_asked",
	    r->every_parent, "agree", r->parents_agree, "not_asked",
	    (json_int_t)(r->parents_dropped + r->parent_ds_dropped),
	    "servers", a);
	return o;
}

json_t *
probe_result_json(const struct probe_result *r)
{
	json_t		*o, *a, *x, *tags, *servers;
	int		 verified;
	unsigned	 i, k;

	o = json_object();
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "domain", json_string(r->domain));
	json_object_set_new(o, "parent", r->parent[0] ?
	    json_string(r->parent) : json_null());
	json_object_set_new(o, "checked_at", clock_json(r->started));
	json_object_set_new(o, "severity",
	    json_string(probe_severity_name(r->severity)));
	json_object_set_new(o, "validation",
	    json_string(probe_validation_name(r->validation)));
	json_object_set_new(o, "validation_reason", r->why_bogus[0] ?
	    json_string(r->why_bogus) : json_null());
	json_object_set_new(o, "rotation", rotation_json(r));

	a = probe_problems_json(r);
	json_object_set_new(o, "problems", a);

	json_object_set_new(o, "delegated", json_boolean(r->delegated));
	json_object_set_new(o, "parent_answers_lame",
	    json_boolean(r->parent_lame));
	json_object_set_new(o, "network_intercepts_dns",
	    json_boolean(r->intercepted));
	json_object_set_new(o, "ds_ttl", r->n_ds ? json_integer(r->ds_ttl) :
	    json_null());
	a = json_array();
	for (i = 0; i < r->n_ds; i++) {
		x = ds_json(r, &r->ds[i]);
		if (x == NULL)
			continue;
		json_object_set_new(x, "matches_key",
		    json_boolean(r->ds[i].key >= 0));
		json_object_set_new(x, "stale", json_boolean(r->ds[i].stale));
		json_object_set_new(x, "digest_deprecated", json_boolean(
		    dsmatch_digest_deprecated(r->ds[i].digest_type)));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "ds", a);
	json_object_set_new(o, "parent_servers", parents_json(r));
	json_object_set_new(o, "dnskey_ttl", r->dnskey_ttl ?
	    json_integer(r->dnskey_ttl) : json_null());

	a = json_array();
	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];
		int bits = dsmatch_rsa_bits(key->rdata, key->rdata_len);

		servers = json_array();
		for (i = 0; i < r->n_servers; i++)
			if (key->servers & (1u << i))
				json_array_append_new(servers,
				    json_string(r->servers[i].address));
		json_array_append_new(a, json_pack("{s:i, s:i, s:i, s:s, s:b, "
		    "s:b, s:b, s:b, s:b, s:o}", "key_tag", key->key_tag,
		    "flags",
		    key->flags, "algorithm", key->algorithm, "role",
		    (key->flags & 1) ? "ksk" : "zsk", "signs_dnskey_rrset",
		    key->signs_dnskey != 0, "has_ds", key->has_ds, "in_cds",
		    key->in_cds || key->in_cdnskey, "needs_ds", key->needs_ds,
		    "ds_on_some_parent_servers", key->ds_partial,
		    "servers", servers));
		x = json_array_get(a, json_array_size(a) - 1);
		json_object_set_new(x, "algorithm_deprecated", json_boolean(
		    dsmatch_algorithm_deprecated(key->algorithm)));
		/* Verified only where CDS/CDNSKEY is served: null elsewhere. */
		verified = probe_key_sig_verified(r, k);
		json_object_set_new(x, "dnskey_rrsig_verified", verified < 0 ?
		    json_null() : json_boolean(verified));
		json_object_set_new(x, "rsa_bits", bits >= 0 ?
		    json_integer(bits) : json_null());
	}
	json_object_set_new(o, "dnskeys", a);

	a = json_array();
	for (i = 0; i < r->n_cds; i++) {
		x = ds_json(r, &r->cds[i]);
		if (x != NULL)
			json_array_append_new(a, x);
	}
	json_object_set_new(o, "cds", a);
	json_object_set_new(o, "cds_scan", json_pack("{s:b, s:b, s:b, s:o}",
	    "parent_applies_cds", r->cds_parent_applies, "consistent",
	    r->cds_consistent, "delete", r->cds_delete, "pickup_by",
	    clock_json(r->cds_pickup)));
	json_object_set_new(o, "multi_signer", multi_json(r));

	json_object_set_new(o, "ds_bootstrap", bootstrap_json(r));

	a = json_array();
	for (i = 0; i < r->n_publish; i++)
		if ((x = ds_json(r, &r->publish[i])) != NULL) {
			/* Only if its key is the new one: see rotation. */
			json_object_set_new(x, "conditional",
			    json_boolean(r->rotation_ambiguous));
			json_array_append_new(a, x);
		}
	json_object_set_new(o, "ds_to_publish", a);

	a = json_array();
	for (i = 0; i < r->n_ds; i++)
		if (r->ds[i].stale && (x = ds_json(r, &r->ds[i])) != NULL)
			json_array_append_new(a, x);
	json_object_set_new(o, "ds_to_remove", a);

	a = json_array();
	for (i = 0; i < r->n_resolvers; i++) {
		const struct probe_resolver *v = &r->resolvers[i];
		const char *rc = probe_rcode_name(v->rcode);

		x = json_pack("{s:s, s:s, s:o, s:b, s:f}", "address",
		    v->address, "status", probe_qstatus_name(v->status),
		    "rcode", rc ? json_string(rc) : json_null(), "ad", v->ad,
		    "latency_ms", v->latency_ms);
		if (x == NULL)
			continue;
		json_object_set_new(x, "ede", v->ede >= 0 ?
		    json_integer(v->ede) : json_null());
		json_object_set_new(x, "ede_text", v->ede >= 0 &&
		    v->ede_text[0] ? json_string(v->ede_text) : json_null());
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "resolvers", a);

	a = json_array();
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		tags = json_array();
		for (k = 0; k < r->n_keys; k++)
			if (r->keys[k].servers & (1u << i))
				json_array_append_new(tags,
				    json_integer(r->keys[k].key_tag));
		x = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b}", "name",
		    s->name, "address", s->address, "status",
		    probe_qstatus_name(s->status), "soa_serial", s->has_soa ?
		    json_integer(s->soa_serial) : json_null(), "dnskey_tags",
		    tags, "authoritative", s->authoritative);
		if (x == NULL)
			continue;
		json_object_set_new(x, "error", s->status != PROBE_Q_OK &&
		    s->error[0] ? json_string(s->error) : json_null());
		json_object_set_new(x, "family", json_string(
		    strchr(s->address, ':') ? "ipv6" : "ipv4"));
		/* null: not known (no answer, or TCP not asked this time) */
		json_object_set_new(x, "dnskey_udp_bytes", s->dnskey_udp_bytes ?
		    json_integer(s->dnskey_udp_bytes) : json_null());
		json_object_set_new(x, "dnskey_udp_truncated",
		    json_boolean(s->dnskey_tc));
		json_object_set_new(x, "dnskey_tcp_bytes", s->dnskey_tcp_bytes ?
		    json_integer(s->dnskey_tcp_bytes) : json_null());
		json_object_set_new(x, "tcp", s->tcp_status != PROBE_Q_NONE ?
		    json_string(probe_qstatus_name(s->tcp_status)) :
		    json_null());
		json_object_set_new(x, "tcp_error", tcp_failed_text(s));
		json_object_set_new(x, "cds", server_cds_json(r, s));
		json_object_set_new(x, "nxdomain", negative_json(&s->nxdomain));
		json_object_set_new(x, "nodata", negative_json(&s->nodata));
		json_object_set_new(x, "nsec3", nsec3_json(&s->nsec3));
		json_object_set_new(x, "rrsig_algorithms", algs_json(
		    s->sig_algs_soa | s->sig_algs_dnskey | s->sig_algs_nsec));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "nameservers", a);
	json_object_set_new(o, "ipv6_unrouted", json_integer(r->ipv6_unrouted));
	json_object_set_new(o, "ipv6_unproven", json_boolean(r->ipv6_unproven));

	json_object_set_new(o, "denial", denial_json(r));
	json_object_set_new(o, "algorithm_rollover",
	    alg_rollover_json(&r->alg_rollover));
	json_object_set_new(o, "earliest_signature_expiry",
	    clock_json(r->earliest_sig_expiry));
	json_object_set_new(o, "queries", json_integer(r->queries));
	json_object_set_new(o, "duration_ms", json_real(r->duration_ms));
	if (r->error[0])
		json_object_set_new(o, "error", json_string(r->error));
	return o;
}
