/*
 * The JSON API: /api/v1/domains (every domain, worst first),
 * /api/v1/domains/NAME (one, with recent history and its key timeline
 * from the store) and /readyz. Read-only: nothing here writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "dashboard-export/internal.h"

#define HISTORY_MAX	50		/* observations in the detail view */
#define HISTORY_DAYS	30

static json_t *
str_or_null(const char *s)
{
	return s != NULL && *s ? json_string(s) : json_null();
}

static json_t *
ds_list(const struct xds *a, unsigned n)
{
	json_t		*arr = json_array();
	unsigned	 i;

	for (i = 0; i < n; i++)
		if (a[i].json != NULL)
			json_array_append(arr, a[i].json);
	return arr;
}
static json_t *
host_json(const struct hostevent *h, const char *owner)
{
	json_t	*o, *ds = NULL;

	if (h == NULL)
		return json_null();
	if (h->digest_len > 0)
		ds = probe_ds_json(owner, h->key_tag, h->algorithm,
		    h->digest_type, h->digest, h->digest_len);
	o = json_object();
	json_object_set_new(o, "source", json_string(h->source));
	json_object_set_new(o, "event", json_string(h->event));
	json_object_set_new(o, "request_identifier",
	    str_or_null(h->request_id));
	json_object_set_new(o, "time", clock_json(h->time));
	json_object_set_new(o, "received_at", clock_json(h->received));
	json_object_set_new(o, "ds", ds != NULL ? ds : json_null());
	json_object_set_new(o, "ds_matches_dns", h->verdict < 0 ?
	    json_null() : json_boolean(h->verdict == 1));
	json_object_set_new(o, "verified_at", clock_json(h->verified_at));
	return o;
}

/* The proof kind, libunbound's verdict on a random name, and the NSEC3
 * parameters; null until a check of this run. */
static json_t *
denial_json(const struct xdom *d)
{
	json_t	*o;

	if (!d->checked)
		return json_null();
	o = json_pack("{s:s, s:s}", "proof", probe_denial_name(
	    (enum probe_denial)d->denial_proof), "validation",
	    probe_validation_name((enum probe_validation)d->denial_validation));
	if (o == NULL)
		return json_null();
	json_object_set_new(o, "nsec3", d->nsec3 ? json_pack("{s:i, s:i, s:b}",
	    "iterations", d->nsec3_iterations, "salt_length",
	    d->nsec3_salt_len, "opt_out", d->nsec3_opt_out) : json_null());
	return o;
}

static json_t *
problems_json(const struct xdom *d)
{
	json_t		*a = json_array();
	unsigned	 i;

	for (i = 0; i < d->n_problems; i++)
		json_array_append_new(a, probe_problem_json(
		    d->problems[i].code,
		    (enum probe_severity)d->problems[i].severity,
		    d->problems[i].message));
	return a;
}

/* One recorded observation, newest kept. */
struct hist {
	json_t		*ring[HISTORY_MAX];
	size_t		 n, next;
};

static int
hist_cb(void *arg, const struct store_observation *o)
{
	struct hist	*h = arg;
	json_t		*x;

	if ((x = store_observation_json(o)) == NULL)
		return 0;	/* out of memory: one entry fewer */
	if (h->ring[h->next] != NULL)
		json_decref(h->ring[h->next]);
	h->ring[h->next] = x;
	h->next = (h->next + 1) % HISTORY_MAX;
	if (h->n < HISTORY_MAX)
		h->n++;
	return 0;
}

static json_t *
history_json(struct export *ex, const char *name, time_t now)
{
	struct hist	 h;
	json_t		*a = json_array();
	size_t		 i, start;

	memset(&h, 0, sizeof(h));
	if (ex->store == NULL)
		return a;
	if (store_history(ex->store, name, now - HISTORY_DAYS * 86400L,
	    hist_cb, &h) == -1) {
		for (i = 0; i < HISTORY_MAX; i++)
			json_decref(h.ring[i]);
		json_decref(a);
		return json_pack("{s:s}", "error", store_error(ex->store));
	}
	/* Newest first. */
	start = (h.next + HISTORY_MAX - 1) % HISTORY_MAX;
	for (i = 0; i < h.n; i++)
		json_array_append(a, h.ring[(start + HISTORY_MAX - i) %
		    HISTORY_MAX]);
	for (i = 0; i < HISTORY_MAX; i++)
		json_decref(h.ring[i]);
	return a;
}

static json_t *
keys_json(struct export *ex, const char *name)
{
	struct store_domain	 dom;
	struct store_key_seen	*k = NULL;
	struct store_ds_seen	*ds = NULL;
	size_t			 nk = 0, nd = 0;
	json_t			*o;

	if (ex->store == NULL)
		return json_null();
	memset(&dom, 0, sizeof(dom));
	if (store_domain(ex->store, name, &dom) == -1 ||
	    store_keys(ex->store, name, &k, &nk, &ds, &nd) == -1)
		return json_pack("{s:s}", "error", store_error(ex->store));
	o = store_keys_json(name, dom.last_checked, k, nk, ds, nd);
	free(k);
	free(ds);
	return o;
}

json_t *
xapi_domain(struct export *ex, const struct xdom *d, bool detail, time_t now)
{
	json_t		*o, *a;
	unsigned	 i;
	enum probe_severity sev = xdom_severity(d);

	o = json_object();
	json_object_set_new(o, "domain", json_string(d->name));
	json_object_set_new(o, "checked", json_boolean(d->checked));
	json_object_set_new(o, "from_history", json_boolean(d->from_history));
	json_object_set_new(o, "checked_at", clock_json(d->known ?
	    d->last_check : 0));
	json_object_set_new(o, "interval", json_integer(d->interval_s));
	json_object_set_new(o, "catalog", d->catalog[0] ?
	    json_string(d->catalog) : json_null());
	json_object_set_new(o, "critical_before", json_integer(
	    (json_int_t)d->policy.critical_before_s));
	json_object_set_new(o, "state", json_string(probe_state_name(d->known ?
	    (enum probe_state)d->state : PROBE_STATE_UNKNOWN)));
	json_object_set_new(o, "severity", json_string(
	    probe_severity_name(sev)));
	json_object_set_new(o, "validation", json_string(
	    probe_validation_name(d->known ? (enum probe_validation)
	    d->validation : PROBE_VAL_INDETERMINATE)));
	json_object_set_new(o, "validation_reason", str_or_null(d->why_bogus));
	json_object_set_new(o, "parent", str_or_null(d->parent));
	json_object_set_new(o, "problems", problems_json(d));
	json_object_set_new(o, "ds_to_publish", ds_list(d->publish,
	    d->n_publish));
	json_object_set_new(o, "ds_to_remove", ds_list(d->remove, d->n_remove));
	json_object_set_new(o, "rotation", xrotation_json(d->rot, now));
	json_object_set_new(o, "host_event", host_json(d->host, d->name));
	json_object_set_new(o, "ds_records", d->checked ?
	    json_integer(d->n_ds) : json_null());
	json_object_set_new(o, "dnskey_records", d->checked ?
	    json_integer(d->n_dnskey) : json_null());
	json_object_set_new(o, "ds_deprecated_digest_records", d->checked ?
	    json_integer(d->n_ds_deprecated) : json_null());
	json_object_set_new(o, "dnskey_ttl", d->checked && d->dnskey_ttl ?
	    json_integer(d->dnskey_ttl) : json_null());
	json_object_set_new(o, "bootstrap_ready", d->checked &&
	    d->bootstrap >= 0 ? json_boolean(d->bootstrap) : json_null());
	json_object_set_new(o, "earliest_signature_expiry",
	    clock_json(d->sig_expiry));
	json_object_set_new(o, "ambiguous_rotation", d->checked ?
	    json_boolean(d->rotation_ambiguous) : json_null());
	json_object_set_new(o, "servers_agree", d->checked ?
	    json_boolean(d->servers_agree) : json_null());
	json_object_set_new(o, "multi_signer", d->checked ? json_pack(
	    "{s:s, s:i}", "mode", probe_multi_name(d->multi_signer),
	    "providers", d->multi_signer == PROBE_MULTI_NONE ? 1 :
	    (int)d->n_providers) : json_null());
	json_object_set_new(o, "cds", d->checked ? json_pack("{s:b, s:b, "
	    "s:b, s:o}", "consistent", d->cds_consistent, "parent_applies_cds",
	    d->cds_parent_applies, "delete", d->cds_delete, "pickup_by",
	    clock_json(d->cds_pickup)) : json_null());

	a = json_array();
	for (i = 0; i < d->n_keys; i++)
		json_array_append_new(a, json_pack("{s:i, s:i, s:i, s:s, s:b, "
		    "s:b, s:b, s:b, s:o, s:o}", "key_tag", d->keys[i].key_tag,
		    "algorithm", d->keys[i].algorithm, "flags",
		    d->keys[i].flags, "role",
		    (d->keys[i].flags & 1) ? "ksk" : "zsk",
		    "signs_dnskey_rrset", d->keys[i].signs_dnskey, "has_ds",
		    d->keys[i].has_ds, "needs_ds", d->keys[i].needs_ds,
		    "algorithm_deprecated", d->keys[i].deprecated, "rsa_bits",
		    d->keys[i].rsa_bits >= 0 ?
		    json_integer(d->keys[i].rsa_bits) : json_null(),
		    "dnskey_rrsig_verified", d->keys[i].sig_verified < 0 ?
		    json_null() : json_boolean(d->keys[i].sig_verified)));
	json_object_set_new(o, "dnskeys", a);
	json_object_set_new(o, "denial", denial_json(d));
	json_object_set_new(o, "algorithm_rollover", d->checked &&
	    d->alg_stage != PROBE_ALG_NONE ? json_pack("{s:s, s:i, s:i, s:b, "
	    "s:o, s:o, s:o, s:b}",
	    "stage", probe_alg_stage_name((enum probe_alg_stage)d->alg_stage),
	    "from", d->alg_from, "to", d->alg_to, "bad_order",
	    d->alg_bad_order, "stage_since", clock_json(d->alg_since),
	    "next_step_safe_at", clock_json(d->alg_safe_at), "deadline",
	    clock_json(d->alg_deadline), "stalled", d->alg_stalled) :
	    json_null());
	a = json_array();
	for (i = 0; i < d->n_servers; i++)
		json_array_append_new(a, json_pack("{s:s, s:b, s:o, s:o, s:o, "
		    "s:o}", "address", d->servers[i].address, "answered",
		    d->servers[i].answered, "soa_serial", d->servers[i].has_soa ?
		    json_integer(d->servers[i].serial) : json_null(),
		    "dnskey_bytes", d->servers[i].dnskey_bytes ?
		    json_integer(d->servers[i].dnskey_bytes) : json_null(),
		    "tcp", d->servers[i].tcp < 0 ? json_null() :
		    json_boolean(d->servers[i].tcp),
		    "denial_valid", d->servers[i].denial_valid < 0 ? json_null() :
		    json_boolean(d->servers[i].denial_valid)));
	json_object_set_new(o, "nameservers", a);
	a = json_array();
	for (i = 0; i < d->n_parents; i++)
		json_array_append_new(a, json_pack("{s:s, s:b, s:b, s:s}",
		    "address", d->parents[i].address, "answered",
		    d->parents[i].answered, "lags", d->parents[i].lags,
		    "ds_tags", d->parents[i].ds_tags));
	json_object_set_new(o, "parent_servers", json_pack("{s:o, s:o, s:o}",
	    "every_server_asked", d->checked ? json_boolean(d->every_parent) :
	    json_null(), "agree", d->checked ? json_boolean(d->parents_agree) :
	    json_null(), "servers", a));
	json_object_set_new(o, "safe_removal_at", clock_json(
	    store_rotation_safe_removal(d->rot) ?
	    store_rotation_safe_removal(d->rot) : d->safe_removal_at));
	a = json_array();
	for (i = 0; i < d->n_resolvers; i++) {
		const struct xresolver *v = &d->resolvers[i];
		const char *rc = probe_rcode_name(v->rcode);

		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:b, s:f}",
		    "address", ex->resolver_name[v->idx], "status",
		    probe_qstatus_name((enum probe_qstatus)v->status), "rcode",
		    rc ? json_string(rc) : json_null(), "ad", v->ad,
		    "latency_ms", v->latency_s * 1000.0));
	}
	json_object_set_new(o, "resolvers", a);
	json_object_set_new(o, "duration_ms", d->checked ?
	    json_real(d->duration_s * 1000.0) : json_null());
	json_object_set_new(o, "queries", d->checked ?
	    json_integer(d->queries) : json_null());
	json_object_set_new(o, "error", str_or_null(d->error));
	if (detail) {
		json_object_set_new(o, "history", history_json(ex, d->name,
		    now));
		json_object_set_new(o, "keys", keys_json(ex, d->name));
	}
	return o;
}

/* The catalog zones the monitored set comes from in part, with what the
 * last poll said: the error text that metrics cannot carry. */
static json_t *
catalogs_json(struct export *ex)
{
	const struct xcat	*c;
	json_t			*a = json_array();
	size_t			 i;
	char			 ok_at[32], tried_at[32];

	for (i = 0; i < ex->n_cats; i++) {
		c = &ex->cats[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, "
		    "s:o, s:b, s:o, s:o, s:o}", "zone", c->zone, "primary",
		    c->primary, "members", (json_int_t)c->members, "excess",
		    (json_int_t)c->excess, "ignored", (json_int_t)c->ignored,
		    "serial", c->have ? json_integer(c->serial) : json_null(),
		    "ok", c->ok, "last_success", c->last_success ?
		    json_string(clock_rfc3339(c->last_success, ok_at,
		    sizeof(ok_at))) : json_null(), "last_attempt",
		    c->last_attempt ? json_string(clock_rfc3339(c->last_attempt,
		    tried_at, sizeof(tried_at))) : json_null(), "error",
		    c->error[0] ? json_string(c->error) : json_null()));
	}
	return a;
}

json_t *
xapi_domains(struct export *ex, time_t now)
{
	struct xdom	**v;
	size_t		  n, i;
	json_t		 *o, *a;

	o = json_object();
	json_object_set_new(o, "generated_at", clock_json(now));
	a = json_array();
	if ((v = xdom_sorted(ex, &n)) != NULL) {
		for (i = 0; i < n; i++)
			json_array_append_new(a, xapi_domain(ex, v[i], false,
			    now));
		free(v);
	}
	json_object_set_new(o, "domains", a);
	json_object_set_new(o, "catalogs", catalogs_json(ex));
	xapi_identity(ex, o);
	return o;
}

void
export_set_identity(struct export *ex, const char *instance,
    unsigned shard_k, unsigned shard_n)
{
	if (ex == NULL)
		return;
	snprintf(ex->instance, sizeof(ex->instance), "%s",
	    instance != NULL ? instance : "");
	ex->shard_k = shard_n > 0 ? shard_k : 0;
	ex->shard_n = shard_n;
}

void
xapi_identity(struct export *ex, json_t *o)
{
	if (o == NULL)
		return;
	json_object_set_new(o, "instance", ex->instance[0] ?
	    json_string(ex->instance) : json_null());
	json_object_set_new(o, "shard", ex->shard_n == 0 ? json_null() :
	    json_pack("{s:i, s:i}", "index", (int)ex->shard_k, "count",
	    (int)ex->shard_n));
}

bool
xapi_ready(struct export *ex, json_t **why)
{
	size_t	 i, checked = 0;
	bool	 ready, wrote;
	char	 err[800];

	for (i = 0; i < ex->n_dom; i++)
		if (ex->dom[i]->in_shard && ex->dom[i]->checked)
			checked++;
	/* A check that cannot be recorded is not done: a monitor whose
	 * every write fails is not ready, whatever it has looked at. */
	wrote = ex->store != NULL && store_last_write(ex->store, err,
	    sizeof(err));
	/* Behind an intercepting network no check means anything. */
	ready = ex->store != NULL && wrote && checked == ex->n_in_shard &&
	    !ex->intercepted;
	if (why != NULL) {
		*why = json_pack("{s:b, s:b, s:b, s:I, s:I, s:I}", "ready",
		    ready, "store", ex->store != NULL, "store_writes", wrote,
		    "domains", (json_int_t)ex->n_in_shard, "checked",
		    (json_int_t)checked, "checks", (json_int_t)ex->checks_total);
		if (*why != NULL && ex->store != NULL && !wrote)
			json_object_set_new(*why, "store_write_error",
			    json_string(err));
		if (*why != NULL) {
			json_object_set_new(*why, "network_intercepts_dns",
			    json_boolean(ex->intercepted));
			if (ex->intercepted)
				json_object_set_new(*why, "network_error",
				    json_string(ex->intercepted_why));
		}
		xapi_identity(ex, *why);
	}
	return ready;
}
