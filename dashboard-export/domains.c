/*
 * The exporter's table: one small summary per configured domain, kept
 * sorted by name, updated after each check. Everything the pages show
 * comes from here (and, for history and key timelines, from the store),
 * so a scrape costs a walk over this table and never a DNS question.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "common/log.h"
#include "dashboard-export/internal.h"

const double xprobe_bounds[XPROBE_BUCKETS] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};
const double xlatency_bounds[XLATENCY_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
};

int
xseverity_metric(enum probe_severity s)
{
	switch (s) {
	case PROBE_SEV_OK:
		return 0;
	case PROBE_SEV_WARNING:
		return 1;
	case PROBE_SEV_CRITICAL:
		return 2;
	default:
		return 3;
	}
}

char *
xlabel_escape(const char *s)
{
	size_t	 n = 0, i;
	char	*out, *o;

	for (i = 0; s[i]; i++)
		n += (s[i] == '\\' || s[i] == '"' || s[i] == '\n') ? 2 : 1;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (o = out, i = 0; s[i]; i++) {
		if (s[i] == '\\' || s[i] == '"') {
			*o++ = '\\';
			*o++ = s[i];
		} else if (s[i] == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

void
xhist_observe(struct xhist *h, const double *bounds, unsigned n, double v)
{
	unsigned	 i;

	for (i = 0; i < n; i++)
		if (v <= bounds[i])
			h->bucket[i]++;
	h->bucket[n]++;
	h->count++;
	h->sum += v;
}

int
xresolver_index(struct export *ex, const char *name)
{
	unsigned	 i;

	for (i = 0; i < ex->n_resolvers; i++)
		if (strcmp(ex->resolver_name[i], name) == 0)
			return (int)i;
	if (ex->n_resolvers >= XMAX_RESOLVERS)
		return -1;
	if ((ex->resolver_name[i] = strdup(name)) == NULL)
		return -1;
	if ((ex->resolver_label[i] = xlabel_escape(name)) == NULL) {
		free(ex->resolver_name[i]);
		return -1;
	}
	ex->n_resolvers++;
	return (int)i;
}

/* ------------------------------------------------------------------ */

static void
xds_free(struct xds *a, unsigned n)
{
	unsigned	 i;

	for (i = 0; i < n; i++) {
		json_decref(a[i].json);
		free(a[i].record);
	}
	free(a);
}

/* Everything a check fills, so the next one starts clean. */
static void
xdom_clear_result(struct xdom *d)
{
	unsigned	 i;

	free(d->parent);
	free(d->why_bogus);
	free(d->error);
	d->parent = d->why_bogus = d->error = NULL;
	free(d->servers);
	d->servers = NULL;
	d->n_servers = 0;
	free(d->parents);
	d->parents = NULL;
	d->n_parents = 0;
	for (i = 0; i < d->n_problems; i++)
		free(d->problems[i].message);
	free(d->problems);
	d->problems = NULL;
	d->n_problems = 0;
	free(d->keys);
	d->keys = NULL;
	d->n_keys = 0;
	xds_free(d->publish, d->n_publish);
	d->publish = NULL;
	d->n_publish = 0;
	xds_free(d->remove, d->n_remove);
	d->remove = NULL;
	d->n_remove = 0;
	d->n_resolvers = 0;
}

static void
xdom_free(struct xdom *d)
{
	if (d == NULL)
		return;
	xdom_clear_result(d);
	free(d->label);
	free(d->rot);
	free(d->host);
	free(d);
}

/* By name, then by place in the list being set (xdom.pos). */
static int
xdom_cmp_pos(const void *a, const void *b)
{
	const struct xdom *x = *(struct xdom * const *)a;
	const struct xdom *y = *(struct xdom * const *)b;
	int		   c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static struct xdom *
find_exact(const struct export *ex, const char *name)
{
	size_t	 lo = 0, hi = ex->n_dom, mid;
	int	 c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(name, ex->dom[mid]->name);
		if (c == 0)
			return ex->dom[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct xdom *
xdom_find(const struct export *ex, const char *name)
{
	char	 norm[PROBE_NAME_MAX];

	if (ex == NULL || dsmatch_name_normalise(name, norm, sizeof(norm), NULL,
	    0) == -1)
		return NULL;
	return find_exact(ex, norm);
}

/* The classifier's word, as the last check listed it. */
bool
xdom_host_mismatch(const struct xdom *d)
{
	const char	*code = probe_problem_code(PROBE_P_HOST_DS_MISMATCH);
	unsigned	 i;

	for (i = 0; i < d->n_problems; i++)
		if (strcmp(d->problems[i].code, code) == 0)
			return true;
	return false;
}

enum probe_severity
xdom_severity(const struct xdom *d)
{
	return d->known ? d->severity : PROBE_SEV_UNKNOWN;
}

/* Worst first: critical, unknown, warning, ok; never checked last among
 * equals; then the nearest registrar deadline; then name. */
static int
worst_first(const void *a, const void *b)
{
	const struct xdom *x = *(struct xdom * const *)a;
	const struct xdom *y = *(struct xdom * const *)b;
	int	 sx = (int)xdom_severity(x), sy = (int)xdom_severity(y);
	time_t	 dx, dy;

	if (sx != sy)
		return sy - sx;
	dx = x->rot != NULL && x->rot->ds_updated_at == 0 ?
	    x->rot->registrar_deadline : 0;
	dy = y->rot != NULL && y->rot->ds_updated_at == 0 ?
	    y->rot->registrar_deadline : 0;
	if ((dx != 0) != (dy != 0))
		return dx != 0 ? -1 : 1;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct xdom **
xdom_sorted(const struct export *ex, size_t *n)
{
	struct xdom	**a;
	size_t		  i, k = 0;

	*n = 0;
	if ((a = calloc(ex->n_dom ? ex->n_dom : 1, sizeof(*a))) == NULL)
		return NULL;
	for (i = 0; i < ex->n_dom; i++)
		if (ex->dom[i]->in_shard)
			a[k++] = ex->dom[i];
	qsort(a, k, sizeof(*a), worst_first);
	*n = k;
	return a;
}

/* ------------------------------------------------------------------ */

static int
state_from_name(const char *s)
{
	int	 i;

	for (i = PROBE_STATE_UNKNOWN; i <= PROBE_STATE_INSECURE; i++)
		if (strcmp(s, probe_state_name((enum probe_state)i)) == 0)
			return i;
	return -1;
}

static int
severity_from_name(const char *s)
{
	int	 i;

	for (i = PROBE_SEV_OK; i <= PROBE_SEV_CRITICAL; i++)
		if (strcmp(s, probe_severity_name((enum probe_severity)i)) == 0)
			return i;
	return -1;
}

static int
validation_from_name(const char *s)
{
	int	 i;

	for (i = PROBE_VAL_INDETERMINATE; i <= PROBE_VAL_BOGUS; i++)
		if (strcmp(s, probe_validation_name(
		    (enum probe_validation)i)) == 0)
			return i;
	return -1;
}

/*
 * Fill the domains this run has not checked yet from the store: the last
 * recorded state and the open KSK rotation, so that the deadline stays on
 * the page and in /metrics across a restart.
 */
static void
preload(struct export *ex)
{
	struct store_rotation	*rots = NULL;
	struct store_domain	 sd;
	struct xdom		*d;
	size_t			 n = 0, i, todo = 0;
	int			 st, sv, va;
	bool			 txn;

	if (ex->store == NULL)
		return;
	/* One read transaction for the pass: 100,000 domains never checked
	 * cost a lock and unlock each otherwise (perf: half the reload). */
	txn = store_read_begin(ex->store) == 0;
	for (i = 0; i < ex->n_dom; i++) {
		d = ex->dom[i];
		if (d->checked || !d->in_shard)
			continue;
		todo++;
		if (d->known)
			continue;
		if (store_domain(ex->store, d->name, &sd) != 1 ||
		    sd.last_checked == 0)
			continue;
		st = state_from_name(sd.last_state);
		sv = severity_from_name(sd.last_severity);
		va = validation_from_name(sd.last_validation);
		if (st < 0 || sv < 0 || va < 0)
			continue;
		d->state = (uint8_t)st;
		d->severity = (uint8_t)sv;
		d->validation = (uint8_t)va;
		d->last_check = sd.last_checked;
		d->known = d->from_history = true;
	}
	if (txn)
		store_read_end(ex->store);
	if (todo == 0)
		return;
	if (store_rotations(ex->store, true, &rots, &n) == -1) {
		log_warnx("exporter: reading open rotations: %s",
		    store_error(ex->store));
		return;
	}
	for (i = 0; i < n; i++) {
		if (rots[i].kind != STORE_ROT_KSK ||
		    (d = find_exact(ex, rots[i].domain)) == NULL ||
		    d->checked || d->rot != NULL)
			continue;
		if ((d->rot = malloc(sizeof(*d->rot))) != NULL)
			*d->rot = rots[i];
	}
	free(rots);
}

static void
free_cats(struct xcat *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].label);
		free(v[i].zone);
		free(v[i].primary);
		free(v[i].error);
	}
	free(v);
}

int
export_set_catalogs(struct export *ex, const struct export_catalog *list,
    size_t n)
{
	struct xcat	*v;
	size_t		 i;

	if (ex == NULL)
		return 0;
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v[i].label = xlabel_escape(list[i].zone)) == NULL ||
		    (v[i].zone = strdup(list[i].zone)) == NULL ||
		    (v[i].primary = strdup(list[i].primary)) == NULL ||
		    (v[i].error = strdup(list[i].error ? list[i].error :
		    "")) == NULL) {
			free_cats(v, i + 1);
			return -1;
		}
		v[i].last_attempt = list[i].last_attempt;
		v[i].members = list[i].members;
		v[i].excess = list[i].excess;
		v[i].ignored = list[i].ignored;
		v[i].serial = list[i].serial;
		v[i].have = list[i].have;
		v[i].ok = list[i].ok;
		v[i].last_success = list[i].last_success;
	}
	free_cats(ex->cats, ex->n_cats);
	ex->cats = v;
	ex->n_cats = n;
	return 0;
}

int
export_set_domains(struct export *ex, const struct export_domain *list,
    size_t n)
{
	struct xdom	**a, *d;
	size_t		  i, j, k = 0;
	char		  norm[PROBE_NAME_MAX];

	if (ex == NULL)
		return 0;
	if ((a = calloc(n ? n : 1, sizeof(*a))) == NULL)
		return -1;
	for (i = 0; i < ex->n_dom; i++)
		ex->dom[i]->listed = false;
	for (i = 0; i < n; i++) {
		if (dsmatch_name_normalise(list[i].name, norm,
		    sizeof(norm), NULL, 0) == -1)
			continue;
		if ((d = find_exact(ex, norm)) != NULL && d->listed)
			continue;	/* listed twice */
		if (d == NULL) {
			/* A name new to the table may still repeat one
			 * added earlier in this list: those are dropped
			 * after the sort below, not by a scan of what was
			 * added (100,000 new names: 5e9 compares). */
			if ((d = calloc(1, sizeof(*d))) == NULL)
				goto fail;
			snprintf(d->name, sizeof(d->name), "%s", norm);
			if ((d->label = xlabel_escape(norm)) == NULL) {
				free(d);
				goto fail;
			}
			d->fresh = true;
		}
		d->listed = true;
		d->policy = list[i].policy;
		d->interval_s = list[i].interval_s;
		d->in_shard = list[i].in_shard;
		snprintf(d->catalog, sizeof(d->catalog), "%s",
		    list[i].catalog != NULL ? list[i].catalog : "");
		d->pos = k;
		a[k++] = d;
	}
	/* Committed: free the ones that went, keep the new order. */
	for (i = 0; i < ex->n_dom; i++)
		if (!ex->dom[i]->listed)
			xdom_free(ex->dom[i]);
	free(ex->dom);
	/* By name, then by place in the list: of a name listed twice the
	 * first stays (its policy and interval, as before), the others go.
	 * Only names new to the table can repeat here (a known one is
	 * skipped above once listed). */
	qsort(a, k, sizeof(*a), xdom_cmp_pos);
	for (i = 0, j = 0; i < k; i++) {
		a[i]->fresh = false;
		if (j > 0 && strcmp(a[j - 1]->name, a[i]->name) == 0)
			xdom_free(a[i]);
		else
			a[j++] = a[i];
	}
	k = j;
	ex->dom = a;
	ex->n_dom = k;
	ex->dom_gen++;
	ex->n_in_shard = 0;
	for (i = 0; i < k; i++)
		if (a[i]->in_shard)
			ex->n_in_shard++;
	preload(ex);
	return 0;
fail:
	/* Entries made in this call are the ones not in the old table
	 * (a name repeated in the list has one entry per time). */
	for (i = 0; i < k; i++)
		if (a[i]->fresh)
			xdom_free(a[i]);
	free(a);
	return -1;
}

void
export_set_store(struct export *ex, struct store *st)
{
	if (ex == NULL)
		return;
	ex->store = st;
	hostevents_set_store(ex->hostevents, st);
	preload(ex);
}

/* ------------------------------------------------------------------ */

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s ? strdup(s) : NULL;
}

static void
xds_set(struct xds *x, const char *domain, uint16_t tag, uint8_t alg,
    uint8_t dtype, const uint8_t *digest, size_t dlen)
{
	json_t	*rec;

	x->key_tag = tag;
	x->algorithm = alg;
	x->digest_type = dtype;
	x->json = probe_ds_json(domain, tag, alg, dtype, digest, dlen);
	rec = x->json != NULL ? json_object_get(x->json, "record") : NULL;
	x->record = json_is_string(rec) ? strdup(json_string_value(rec)) :
	    NULL;
}

/* The run's counters and histograms, whatever the check found. */
static void
count_check(struct export *ex, struct xdom *d, const struct probe_result *r)
{
	ex->checks_total++;
	d->checks++;
	xhist_observe(&ex->probe_duration, xprobe_bounds, XPROBE_BUCKETS,
	    r->duration_ms / 1000.0);
	if (r->state == PROBE_STATE_UNKNOWN) {
		ex->errors_total++;
		d->errors++;
	}
}

/* Denial of existence, summed up over the servers. */
static void
copy_denial(struct xdom *d, const struct probe_result *r)
{
	unsigned	 i;

	d->denial_proof = PROBE_DENIAL_NONE;
	d->denial_validation = (uint8_t)r->denial_validation;
	d->nsec3 = false;
	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *s = &r->servers[i];

		if (d->denial_proof == PROBE_DENIAL_NONE)
			d->denial_proof = (uint8_t)(s->nxdomain.kind !=
			    PROBE_DENIAL_NONE ? s->nxdomain.kind :
			    s->nodata.kind);
		if (s->nsec3.seen && (!d->nsec3 ||
		    s->nsec3.iterations > d->nsec3_iterations)) {
			d->nsec3 = true;
			d->nsec3_iterations = s->nsec3.iterations;
			d->nsec3_salt_len = s->nsec3.salt_len;
			d->nsec3_opt_out = s->nsec3.opt_out;
		}
	}
}

/* The check's verdict and the figures the pages show beside it. */
static void
copy_summary(struct xdom *d, const struct probe_result *r, time_t now)
{
	unsigned	 i;

	d->known = d->checked = true;
	d->from_history = false;
	d->last_check = r->started ? r->started : now;
	d->state = (uint8_t)r->state;
	d->severity = (uint8_t)r->severity;
	d->validation = (uint8_t)r->validation;
	d->parent = dup_or_null(r->parent);
	d->why_bogus = dup_or_null(r->why_bogus);
	d->error = dup_or_null(r->error);
	d->n_ds = r->n_ds;
	if (r->n_ds > 0 && r->ds_ttl > 0)
		d->ds_ttl = r->ds_ttl;
	d->n_dnskey = r->n_keys;
	d->n_ds_deprecated = 0;
	for (i = 0; i < r->n_ds; i++)
		d->n_ds_deprecated += dsmatch_digest_deprecated(
		    r->ds[i].digest_type);
	d->dnskey_ttl = r->dnskey_ttl;
	d->bootstrap = probe_has_problem(r, PROBE_P_DS_BOOTSTRAP_READY) ? 1 :
	    probe_has_problem(r, PROBE_P_DS_BOOTSTRAP_INCOMPLETE) ? 0 : -1;
	d->sig_expiry = r->earliest_sig_expiry;
	d->duration_s = r->duration_ms / 1000.0;
	d->queries = r->queries;
	d->servers_agree = r->servers_agree;
	d->rotation_ambiguous = r->rotation_ambiguous;
	d->multi_signer = r->multi_signer;
	d->n_providers = r->n_providers;
	d->cds_consistent = r->cds_consistent;
	d->cds_parent_applies = r->cds_parent_applies;
	d->cds_delete = r->cds_delete;
	d->cds_pickup = r->cds_pickup;
	copy_denial(d, r);
	d->alg_stage = (uint8_t)r->alg_rollover.stage;
	d->alg_from = r->alg_rollover.from;
	d->alg_to = r->alg_rollover.to;
	d->alg_bad_order = r->alg_rollover.bad_order;
	d->alg_since = r->alg_rollover.stage_since;
	d->alg_safe_at = r->alg_rollover.safe_at;
	d->alg_deadline = r->alg_rollover.deadline;
	d->alg_stalled = r->alg_rollover.stalled;
	d->parents_agree = r->parents_agree;
	d->every_parent = r->every_parent;
	d->safe_removal_at = r->safe_removal_at;
}

static void
copy_parents(struct xdom *d, const struct probe_result *r)
{
	unsigned	 i, u;
	size_t		 n;

	if (r->n_parents == 0 ||
	    (d->parents = calloc(r->n_parents, sizeof(*d->parents))) == NULL)
		return;
	for (i = 0; i < r->n_parents; i++) {
		const struct probe_parent *p = &r->parents[i];
		struct xparent *x = &d->parents[i];

		snprintf(x->address, sizeof(x->address), "%s", p->address);
		x->answered = p->status == PROBE_Q_OK &&
		    (p->rcode == 0 || p->rcode == 3);
		x->lags = p->lags;
		x->n_ds = p->n_ds;
		for (u = 0; u < r->n_parent_ds; u++) {
			if (!(p->ds_set & (1u << u)))
				continue;
			n = strlen(x->ds_tags);
			snprintf(x->ds_tags + n, sizeof(x->ds_tags) - n,
			    "%s%u", n ? " " : "", r->parent_ds[u].key_tag);
		}
	}
	d->n_parents = r->n_parents;
}

static void
copy_servers(struct xdom *d, const struct probe_result *r)
{
	unsigned	 i;

	if (r->n_servers == 0 ||
	    (d->servers = calloc(r->n_servers, sizeof(*d->servers))) == NULL)
		return;
	for (i = 0; i < r->n_servers; i++) {
		struct xserver *s = &d->servers[i];

		snprintf(s->address, sizeof(s->address), "%s",
		    r->servers[i].address);
		s->answered = r->servers[i].status == PROBE_Q_OK;
		s->has_soa = r->servers[i].has_soa;
		s->serial = r->servers[i].soa_serial;
		/* Over TCP when known: over UDP it may be truncated. */
		s->dnskey_bytes = r->servers[i].dnskey_tcp_bytes ?
		    r->servers[i].dnskey_tcp_bytes : r->servers[i].dnskey_tc ?
		    0 : r->servers[i].dnskey_udp_bytes;
		s->tcp = r->servers[i].tcp_status == PROBE_Q_NONE ? -1 :
		    r->servers[i].tcp_status == PROBE_Q_OK;
		s->denial_valid = !r->servers[i].nxdomain.checked &&
		    !r->servers[i].nodata.checked ? -1 :
		    (r->servers[i].nxdomain.checked &&
		    !r->servers[i].nxdomain.valid) ||
		    (r->servers[i].nodata.checked &&
		    !r->servers[i].nodata.valid) ? 0 : 1;
	}
	d->n_servers = r->n_servers;
}

/* Each resolver's answer, and its latency into that resolver's
 * histogram; a resolver past the name table is left out. */
static void
copy_resolvers(struct export *ex, struct xdom *d,
    const struct probe_result *r)
{
	unsigned	 i;
	int		 idx;

	for (i = 0; i < r->n_resolvers && i < PROBE_MAX_RESOLVERS; i++) {
		const struct probe_resolver *v = &r->resolvers[i];
		struct xresolver *x = &d->resolvers[d->n_resolvers];

		if ((idx = xresolver_index(ex, v->address)) < 0)
			continue;
		x->idx = (uint8_t)idx;
		x->status = (uint8_t)v->status;
		x->rcode = (int16_t)(v->status == PROBE_Q_OK ? v->rcode : -1);
		x->ad = v->ad;
		x->latency_s = v->latency_ms / 1000.0;
		if (v->status == PROBE_Q_OK)
			xhist_observe(&ex->resolver_latency[idx],
			    xlatency_bounds, XLATENCY_BUCKETS, x->latency_s);
		d->n_resolvers++;
	}
}

static void
copy_problems(struct xdom *d, const struct probe_result *r)
{
	unsigned	 i;

	if (r->n_problems == 0 || (d->problems = calloc(r->n_problems,
	    sizeof(*d->problems))) == NULL)
		return;
	for (i = 0; i < r->n_problems; i++) {
		struct xproblem *p = &d->problems[d->n_problems];

		snprintf(p->code, sizeof(p->code), "%s", r->problems[i].code);
		p->severity = (uint8_t)r->problems[i].severity;
		if ((p->message = strdup(r->problems[i].message)) == NULL)
			continue;
		d->n_problems++;
	}
}

static void
copy_keys(struct xdom *d, const struct probe_result *r)
{
	unsigned	 i;

	if (r->n_keys == 0 ||
	    (d->keys = calloc(r->n_keys, sizeof(*d->keys))) == NULL)
		return;
	for (i = 0; i < r->n_keys; i++) {
		d->keys[i].key_tag = r->keys[i].key_tag;
		d->keys[i].flags = r->keys[i].flags;
		d->keys[i].algorithm = r->keys[i].algorithm;
		d->keys[i].signs_dnskey = r->keys[i].signs_dnskey != 0;
		d->keys[i].has_ds = r->keys[i].has_ds;
		d->keys[i].needs_ds = r->keys[i].needs_ds;
		d->keys[i].deprecated = dsmatch_algorithm_deprecated(
		    r->keys[i].algorithm);
		d->keys[i].rsa_bits = (int16_t)dsmatch_rsa_bits(
		    r->keys[i].rdata, r->keys[i].rdata_len);
		d->keys[i].sig_verified = (int8_t)probe_key_sig_verified(r,
		    i);
	}
	d->n_keys = r->n_keys;
}

/* The DS to publish (SHA-256, and SHA-384 where the key warrants it),
 * as `dnssecmon check` prints it. */
static void
copy_ds_to_publish(struct xdom *d, const struct probe_result *r)
{
	unsigned	 i;

	if (r->n_publish == 0 ||
	    (d->publish = calloc(r->n_publish, sizeof(*d->publish))) == NULL)
		return;
	for (i = 0; i < r->n_publish; i++)
		xds_set(&d->publish[d->n_publish++], r->domain,
		    r->publish[i].key_tag, r->publish[i].algorithm,
		    r->publish[i].digest_type,
		    r->publish[i].digest, r->publish[i].digest_len);
}

/* The stale DS at the parent: to remove at the registrar. */
static void
copy_ds_to_remove(struct xdom *d, const struct probe_result *r)
{
	unsigned	 i, k;

	for (k = 0, i = 0; i < r->n_ds; i++)
		k += r->ds[i].stale;
	if (k == 0 || (d->remove = calloc(k, sizeof(*d->remove))) == NULL)
		return;
	for (i = 0; i < r->n_ds; i++)
		if (r->ds[i].stale)
			xds_set(&d->remove[d->n_remove++], r->domain,
			    r->ds[i].key_tag, r->ds[i].algorithm,
			    r->ds[i].digest_type, r->ds[i].digest,
			    r->ds[i].digest_len);
}

/* The open KSK rotation after the check (open NULL or id 0: none). A
 * store that failed this time said nothing about the rotation: keep
 * what we knew. */
static void
update_rotation(struct xdom *d, const struct probe_result *r,
    const struct store_rotation *open)
{
	if (probe_has_problem(r, PROBE_P_STORE_ERROR))
		return;
	if (open != NULL && open->id != 0) {
		if (d->rot == NULL)
			d->rot = malloc(sizeof(*d->rot));
		if (d->rot != NULL)
			*d->rot = *open;
	} else {
		free(d->rot);
		d->rot = NULL;
	}
}

/* A host's DS that matched nothing when it came may match now. */
static void
reverify_host(struct xdom *d, const struct probe_result *r, time_t now)
{
	int	 v;

	if (d->host == NULL || d->host->digest_len == 0 || r->n_keys == 0 ||
	    (v = hostevents_verify(d->host, r->domain, r->keys,
	    r->n_keys)) < 0)
		return;
	if (v == 1 && d->host->verdict == 0)
		log_info("%s: the DS of %s event %s now matches a published "
		    "key", d->name, d->host->source, d->host->request_id);
	d->host->verdict = v;
	d->host->verified_at = now;
}

void
export_set_probe_stats(struct export *ex, const struct probe_stats *st)
{
	if (ex != NULL && st != NULL)
		ex->probe_stats = *st;
}

void
export_update(struct export *ex, const struct probe_result *r,
    const struct store_rotation *open, time_t now)
{
	struct xdom	*d;

	if (ex == NULL)
		return;
	/* Every check says whether the root answered as the root. */
	ex->intercepted = r->intercepted;
	if (r->intercepted)
		snprintf(ex->intercepted_why, sizeof(ex->intercepted_why),
		    "%s", r->error);
	if ((d = find_exact(ex, r->domain)) == NULL)
		return;
	count_check(ex, d, r);
	xdom_clear_result(d);
	copy_summary(d, r, now);
	copy_servers(d, r);
	copy_parents(d, r);
	copy_resolvers(ex, d, r);
	copy_problems(d, r);
	copy_keys(d, r);
	copy_ds_to_publish(d, r);
	copy_ds_to_remove(d, r);
	update_rotation(d, r, open);
	reverify_host(d, r, now);
}

/* ------------------------------------------------------------------ */

/* The store's encoder under the exporter's name, for the callers that
 * still use it: the shape is the store's, not the exporter's own. */
json_t *
xrotation_json(const struct store_rotation *r, time_t now)
{
	return store_rotation_json(r, now);
}

/* ---------------------------------------------------- DNS host events */

static int
dir_find(void *arg, const char *name, struct hostevents_domain *out)
{
	struct xdom	*d = find_exact(arg, name);

	if (d == NULL)
		return 0;
	out->name = d->name;
	out->policy = d->policy;
	out->in_shard = d->in_shard;
	out->ds_ttl = d->ds_ttl;
	return 1;
}

/* Every domain of the table, in shard or not: a DS names one zone
 * whichever shard checks it. */
static void
dir_each_with_key(void *arg, uint16_t tag, uint8_t alg,
    void (*fn)(void *, const char *), void *fnarg)
{
	struct export	*ex = arg;
	struct xdom	*d;
	size_t		 i;
	unsigned	 k;

	for (i = 0; i < ex->n_dom; i++) {
		d = ex->dom[i];
		for (k = 0; k < d->n_keys; k++)
			if (d->keys[k].key_tag == tag &&
			    d->keys[k].algorithm == alg)
				break;
		if (k < d->n_keys)
			fn(fnarg, d->name);
	}
}

void
xhook_directory(struct export *ex, struct hostevents_directory *out)
{
	memset(out, 0, sizeof(*out));
	out->find = dir_find;
	out->each_with_key = dir_each_with_key;
	out->arg = ex;
}

/* What one delivery tells the table: the host's latest word, and the
 * open rotation it opened or closed. */
static void
hook_learn(struct export *ex, const struct hostevents_reply *rep)
{
	struct xdom	*d;

	if (!rep->heard || (d = find_exact(ex, rep->domain)) == NULL)
		return;
	if (d->host == NULL && (d->host = calloc(1, sizeof(*d->host))) == NULL)
		return;
	*d->host = rep->host;
	if (rep->rotation == HOSTEVENTS_ROT_OPEN) {
		if (d->rot == NULL)
			d->rot = malloc(sizeof(*d->rot));
		if (d->rot != NULL)
			*d->rot = rep->open;
	} else if (rep->rotation == HOSTEVENTS_ROT_CLOSED) {
		free(d->rot);
		d->rot = NULL;
	}
}

void
xhook_handle(struct export *ex, const char *body, size_t len, time_t now,
    struct hostevents_reply *rep)
{
	hostevents_webhook(ex->hostevents, body, len, now, rep);
	hook_learn(ex, rep);
}

int
export_host_event_relayed(struct export *ex, const char *zone,
    const char *body, size_t len, time_t now, char *why, size_t whylen)
{
	struct hostevents_reply	 rep;
	int			 rc;

	if (ex == NULL) {
		snprintf(why, whylen, "%s is not monitored by this shard",
		    zone);
		return 0;
	}
	rc = hostevents_relayed(ex->hostevents, zone, body, len, now, &rep,
	    why, whylen);
	hook_learn(ex, &rep);
	json_decref(rep.body);
	return rc;
}

void
export_on_host_webhook(struct export *ex, int (*fn)(void *, const char *,
    const char *, size_t), void *arg)
{
	if (ex == NULL)
		return;
	hostevents_on_relay(ex->hostevents, fn, arg);
}

void
export_on_host_event(struct export *ex, void (*fn)(void *, const char *),
    void *arg)
{
	if (ex == NULL)
		return;
	hostevents_on_check(ex->hostevents, fn, arg);
}
