/*
 * Reading history back (rotations, observations, the key and DS
 * timeline) and retention.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "store/internal.h"

int
store_rotations(struct store *st, bool open_only, struct store_rotation **out,
    size_t *n)
{
	struct store_rotation	*a = NULL, *na;
	sqlite3_stmt		*s;
	size_t			 len = 0, cap = 0;
	int			 rc;

	st->err[0] = '\0';
	*out = NULL;
	*n = 0;
	if ((s = store_stmt(st, open_only ? S_ROT_LIST_OPEN :
	    S_ROT_LIST)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((na = reallocarray(a, cap, sizeof(*a))) == NULL) {
				store_seterr(st, "out of memory");
				goto fail;
			}
			a = na;
		}
		store_read_rotation(s, &a[len++], NULL, 0, NULL);
	}
	if (rc != SQLITE_DONE) {
		store_dberr(st, "reading rotations");
		goto fail;
	}
	sqlite3_reset(s);
	*out = a;
	*n = len;
	return 0;
fail:
	sqlite3_reset(s);
	free(a);
	return -1;
}

int
store_history(struct store *st, const char *domain, time_t since,
    store_observation_cb cb, void *arg)
{
	struct store_observation	 o;
	sqlite3_stmt			*s;
	int64_t				 id;
	int				 rc;

	st->err[0] = '\0';
	if ((id = store_domain_id(st, domain)) <= 0)
		return id < 0 ? -1 : 0;
	if ((s = store_stmt(st, S_HISTORY)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&o, 0, sizeof(o));
		o.id = sqlite3_column_int64(s, 0);
		o.time = store_column_time(s, 1);
		o.severity = (const char *)sqlite3_column_text(s, 2);
		o.validation = (const char *)sqlite3_column_text(s, 3);
		o.state = (const char *)sqlite3_column_text(s, 4);
		o.state_change = sqlite3_column_int(s, 5) != 0;
		o.problems = (const char *)sqlite3_column_text(s, 6);
		o.resolvers = (const char *)sqlite3_column_text(s, 7);
		o.servers = (const char *)sqlite3_column_text(s, 8);
		if (cb(arg, &o) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_dberr(st, "reading history");
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

int
store_keys(struct store *st, const char *domain, struct store_key_seen **keys,
    size_t *nkeys, struct store_ds_seen **ds, size_t *nds)
{
	struct store_key_seen	*k = NULL, *nk;
	struct store_ds_seen	*d = NULL, *nd;
	sqlite3_stmt		*s = NULL;
	uint8_t			 owner[DSMATCH_NAME_MAX];
	size_t			 nk_len = 0, nk_cap = 0, nd_len = 0, nd_cap = 0;
	size_t			 olen, i, j, bl;
	const void		*blob;
	int64_t			 id;
	int			 rc;

	st->err[0] = '\0';
	*keys = NULL;
	*ds = NULL;
	*nkeys = *nds = 0;
	if ((id = store_domain_id(st, domain)) <= 0)
		return id < 0 ? -1 : 0;
	/* One read transaction: keys and DS from the same moment. */
	if (store_begin(st, false) == -1)
		return -1;

	if ((s = store_stmt(st, S_KEYS_LIST)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (nk_len == nk_cap) {
			nk_cap = nk_cap ? nk_cap * 2 : 8;
			if ((nk = reallocarray(k, nk_cap, sizeof(*k))) == NULL)
				goto nomem;
			k = nk;
		}
		nk = &k[nk_len++];
		memset(nk, 0, sizeof(*nk));
		nk->key_tag = (uint16_t)sqlite3_column_int(s, 0);
		nk->flags = (uint16_t)sqlite3_column_int(s, 1);
		nk->algorithm = (uint8_t)sqlite3_column_int(s, 2);
		nk->first_seen = store_column_time(s, 3);
		nk->last_seen = store_column_time(s, 4);
		nk->signing_first_seen = store_column_time(s, 5);
		nk->ds_first_seen = store_column_time(s, 6);
		blob = sqlite3_column_blob(s, 7);
		bl = (size_t)sqlite3_column_bytes(s, 7);
		if (blob != NULL && bl <= sizeof(nk->rdata)) {
			memcpy(nk->rdata, blob, bl);
			nk->rdata_len = (uint16_t)bl;
		}
	}
	if (rc != SQLITE_DONE) {
		store_dberr(st, "reading keys");
		goto fail;
	}
	sqlite3_reset(s);

	if ((s = store_stmt(st, S_DS_LIST)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (nd_len == nd_cap) {
			nd_cap = nd_cap ? nd_cap * 2 : 8;
			if ((nd = reallocarray(d, nd_cap, sizeof(*d))) == NULL)
				goto nomem;
			d = nd;
		}
		nd = &d[nd_len++];
		memset(nd, 0, sizeof(*nd));
		nd->key_tag = (uint16_t)sqlite3_column_int(s, 0);
		nd->algorithm = (uint8_t)sqlite3_column_int(s, 1);
		nd->digest_type = (uint8_t)sqlite3_column_int(s, 2);
		blob = sqlite3_column_blob(s, 3);
		bl = (size_t)sqlite3_column_bytes(s, 3);
		if (blob != NULL && bl <= sizeof(nd->digest)) {
			memcpy(nd->digest, blob, bl);
			nd->digest_len = (uint8_t)bl;
		}
		nd->first_seen = store_column_time(s, 4);
		nd->last_seen = store_column_time(s, 5);
		nd->arrived = sqlite3_column_int(s, 6) != 0;
		nd->key = -1;
	}
	if (rc != SQLITE_DONE) {
		store_dberr(st, "reading DS records");
		goto fail;
	}
	sqlite3_reset(s);
	if (store_end(st) == -1)
		goto fail;

	/* Which key each DS points at, by digest, not just by tag. */
	if (dsmatch_name_to_wire(domain, owner, sizeof(owner), &olen, NULL,
	    0) == 0)
		for (i = 0; i < nd_len; i++)
			for (j = 0; j < nk_len && d[i].key < 0; j++)
				if (dsmatch_ds_matches(owner, olen,
				    d[i].key_tag, d[i].algorithm,
				    d[i].digest_type, d[i].digest,
				    d[i].digest_len, k[j].rdata,
				    k[j].rdata_len) == 1)
					d[i].key = (int)j;
	*keys = k;
	*nkeys = nk_len;
	*ds = d;
	*nds = nd_len;
	return 0;
nomem:
	store_seterr(st, "out of memory");
fail:
	if (s != NULL)
		sqlite3_reset(s);
	store_rollback(st);
	free(k);
	free(d);
	return -1;
}

json_t *
store_observation_json(const struct store_observation *o)
{
	json_t	*problems;

	/* The stored array is probe_problems_json()'s. */
	problems = o->problems != NULL ? json_loads(o->problems, 0, NULL) :
	    NULL;
	return json_pack("{s:o, s:s?, s:s?, s:s?, s:b, s:o}", "time",
	    clock_json(o->time), "severity", o->severity, "validation",
	    o->validation, "state", o->state, "state_change", o->state_change,
	    "problems", problems != NULL ? problems : json_array());
}

static json_t *
key_seen_json(const struct store_key_seen *k, time_t last_checked)
{
	return json_pack("{s:i, s:i, s:i, s:s, s:o, s:o, s:o, s:o, s:b}",
	    "key_tag", k->key_tag, "algorithm", k->algorithm, "flags",
	    k->flags, "role", (k->flags & 1) ? "ksk" : "zsk", "first_seen",
	    clock_json(k->first_seen), "last_seen", clock_json(k->last_seen),
	    "signing_first_seen", clock_json(k->signing_first_seen),
	    "ds_first_seen", clock_json(k->ds_first_seen), "published",
	    k->last_seen == last_checked);
}

static json_t *
ds_seen_json(const char *domain, const struct store_ds_seen *d,
    const struct store_key_seen *keys, time_t last_checked)
{
	json_t	*o;

	if ((o = probe_ds_json(domain, d->key_tag, d->algorithm,
	    d->digest_type, d->digest, d->digest_len)) == NULL)
		return NULL;
	json_object_set_new(o, "first_seen", clock_json(d->first_seen));
	json_object_set_new(o, "last_seen", clock_json(d->last_seen));
	json_object_set_new(o, "at_parent",
	    json_boolean(d->last_seen == last_checked));
	json_object_set_new(o, "arrived_after_first_check",
	    json_boolean(d->arrived));
	/* The tag, not a boolean: the live DS object's matches_key says
	 * whether a published key matches, this one which key ever did. */
	json_object_set_new(o, "matches_key_tag", d->key >= 0 ?
	    json_integer(keys[d->key].key_tag) : json_null());
	return o;
}

json_t *
store_keys_json(const char *domain, time_t last_checked,
    const struct store_key_seen *keys, size_t nkeys,
    const struct store_ds_seen *ds, size_t nds)
{
	json_t	*ka = json_array(), *da = json_array(), *x;
	size_t	 i;

	for (i = 0; i < nkeys; i++)
		if ((x = key_seen_json(&keys[i], last_checked)) != NULL)
			json_array_append_new(ka, x);
	for (i = 0; i < nds; i++)
		if ((x = ds_seen_json(domain, &ds[i], keys, last_checked)) !=
		    NULL)
			json_array_append_new(da, x);
	return json_pack("{s:o, s:o}", "dnskeys", ka, "ds", da);
}

long
store_prune(struct store *st, time_t before, int batch, int max_batches)
{
	sqlite3_stmt	*s;
	long		 total = 0;
	int		 b, n;

	st->err[0] = '\0';
	if (batch <= 0 || max_batches <= 0)
		return 0;
	for (b = 0; b < max_batches; b++) {
		if (store_begin(st, true) == -1)
			return -1;
		if ((s = store_stmt(st, S_PRUNE)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)before);
		sqlite3_bind_int(s, 2, batch);
		if (store_step_done(st, s, "deleting old observations") == -1)
			goto fail;
		n = sqlite3_changes(st->db);
		if (store_end(st) == -1)
			goto fail;
		total += n;
		if (n < batch)
			break;
	}
	/* Then delivered alert transitions, the same bounded way: the
	 * outbox must not grow for ever either. */
	for (; b < max_batches; b++) {
		if (store_begin(st, true) == -1)
			return -1;
		if ((s = store_stmt(st, S_PRUNE_DELIVERIES)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)before);
		sqlite3_bind_int(s, 2, batch);
		if (store_step_done(st, s, "deleting old deliveries") == -1 ||
		    (s = store_stmt(st, S_PRUNE_OUTBOX)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)before);
		sqlite3_bind_int(s, 2, batch);
		if (store_step_done(st, s, "deleting old alert transitions") == -1)
			goto fail;
		n = sqlite3_changes(st->db);
		if (store_end(st) == -1)
			goto fail;
		total += n;
		if (n < batch)
			break;
	}
	return total;
fail:
	store_rollback(st);
	return -1;
}

/*
 * A restart (or the next `check --db`) need not ask every parent server
 * for every domain: the DS set of the last check is the one whose rows it
 * saw last. Any doubt leaves ds_known false: asking them all is the safe
 * side.
 */
/* Did an observation report a problem among the parent's servers? Then
 * the next check must ask them all again to see it gone. */
static int
parents_problem_cb(void *arg, const struct store_observation *o)
{
	static const enum probe_code codes[] = { PROBE_P_PARENT_DS_DISAGREE,
	    PROBE_P_PARENT_DS_BROKEN, PROBE_P_PARENT_DS_UNSIGNED };
	bool	*found = arg;
	char	 pat[64];
	size_t	 i;

	for (i = 0; i < sizeof(codes) / sizeof(*codes); i++) {
		snprintf(pat, sizeof(pat), "\"%s\"",
		    probe_problem_code(codes[i]));
		if (o->problems != NULL && strstr(o->problems, pat) != NULL)
			*found = true;
	}
	return 0;
}

int
store_probe_hint(struct store *st, const char *domain, struct probe_hint *h)
{
	struct store_domain	 dom;
	struct store_key_seen	*keys = NULL;
	struct store_ds_seen	*ds = NULL;
	struct probe_ds		 set[PROBE_MAX_DS];
	size_t			 nk = 0, nd = 0, i;
	unsigned		 n = 0;
	int			 known;
	bool			 lagged = false;

	h->every_parent = h->ds_known = false;
	h->ds_fp = 0;
	if ((known = store_domain(st, domain, &dom)) != 1)
		return known;
	if (dom.last_checked == 0)
		return 0;
	h->every_parent = strcmp(dom.last_state,
	    probe_state_name(PROBE_STATE_ROTATION_PENDING)) == 0 ||
	    strcmp(dom.last_state, probe_state_name(PROBE_STATE_DS_UPDATED)) ==
	    0;
	if (store_history(st, domain, dom.last_checked, parents_problem_cb,
	    &lagged) == -1)
		return -1;
	if (lagged)
		return 0;
	if (store_keys(st, domain, &keys, &nk, &ds, &nd) == -1)
		return -1;
	memset(set, 0, sizeof(set));
	for (i = 0; i < nd; i++) {
		if (ds[i].last_seen != dom.last_checked)
			continue;
		if (n == PROBE_MAX_DS)
			goto out;
		set[n].key_tag = ds[i].key_tag;
		set[n].algorithm = ds[i].algorithm;
		set[n].digest_type = ds[i].digest_type;
		set[n].digest_len = ds[i].digest_len;
		memcpy(set[n].digest, ds[i].digest, ds[i].digest_len);
		n++;
	}
	h->ds_known = true;
	h->ds_fp = probe_ds_fingerprint(set, n);
out:
	free(keys);
	free(ds);
	return 0;
}
