/*
 * What history adds to a check: key ages and pre-published DS before the
 * classifier runs (store_annotate), and after it, in one transaction, the
 * rotation records, escalation by deadline and the observation itself
 * (store_commit). Also the DNS host's side of a rotation
 * (store_rotation_external).
 *
 * Rotation rules, KSK:
 *   open      the check's state is rotation_pending and no KSK rotation is
 *             open: start = first_seen of the key that needs a DS, old keys
 *             = the signing keys that have one, deadline = start + window,
 *             registrar_deadline = deadline - the parent's DS TTL (the new
 *             DS must be in resolver caches before the old key goes);
 *   advance   ds_updated_at = the first check that sees the new key's DS
 *             on every answering parent server ("DS seen everywhere");
 *             the old key may go from that + the DS TTL (RFC 7583);
 *   close     old keys all gone: completed (chain secure) or broken;
 *             new key gone while an old one is still published: abandoned.
 * ZSK: opens on a pre-published ZSK newer than the signing one, closes
 * completed when the old ZSK is gone, abandoned when the new one goes.
 * Only a check that observed the zone (state not unknown) moves a
 * rotation: an unreachable server says nothing about the keys.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "store/internal.h"

/* A rotation row while a commit works on it. */
struct rot {
	struct store_rotation	 r;
	uint8_t			 rdata[PROBE_MAX_KEYDATA];
	size_t			 rdata_len;	/* 0: new key not seen yet */
	bool			 found;		/* a row exists */
	bool			 dirty;		/* needs an UPDATE */
};

static bool
rot_open(const struct rot *x)
{
	return x->found && x->r.outcome[0] == '\0';
}

/* ----------------------------------------------------------- helpers */

static bool
is_ksk_role(const struct probe_key *k)
{
	return (k->flags & 1) || k->signs_dnskey != 0;
}

/* The rotation's new key among the published ones, -1 when absent. */
static int
find_new_key(const struct probe_result *r, const struct rot *x)
{
	unsigned	 k;

	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];

		if (x->rdata_len > 0) {
			if (key->rdata_len == x->rdata_len &&
			    memcmp(key->rdata, x->rdata, x->rdata_len) == 0)
				return (int)k;
		} else if (key->key_tag == x->r.new_key_tag &&
		    key->algorithm == x->r.new_key_alg &&
		    is_ksk_role(key) == (x->r.kind == STORE_ROT_KSK))
			/* A host's event named only tag and algorithm. */
			return (int)k;
	}
	return -1;
}

static bool
old_key_published(const struct probe_result *r, const struct rot *x,
    int new_idx)
{
	unsigned	 k, i;

	for (k = 0; k < r->n_keys; k++) {
		if ((int)k == new_idx)
			continue;
		for (i = 0; i < x->r.n_old; i++)
			if (r->keys[k].key_tag == x->r.old_key_tags[i])
				return true;
	}
	return false;
}

/* The keys a rotation moves away from: KSK side, the signing keys the
 * parent's DS points at; ZSK side, the ZSKs signing the SOA. */
static void
fill_old_keys(const struct probe_result *r, struct rot *x, int new_idx)
{
	uint32_t	 answering = probe_answering_mask(r);
	unsigned	 k;

	x->r.n_old = 0;
	for (k = 0; k < r->n_keys && x->r.n_old < PROBE_MAX_KEYS; k++) {
		const struct probe_key *key = &r->keys[k];
		bool old;

		if ((int)k == new_idx)
			continue;
		if (x->r.kind == STORE_ROT_KSK)
			old = key->signs_dnskey != 0 && key->has_ds;
		else
			old = !is_ksk_role(key) &&
			    (key->signs_soa & answering) != 0;
		if (old)
			x->r.old_key_tags[x->r.n_old++] = key->key_tag;
	}
}

static void
tags_json(const struct store_rotation *rot, char *buf, size_t len)
{
	size_t		 n;
	unsigned	 i;

	snprintf(buf, len, "[");
	for (i = 0; i < rot->n_old; i++) {
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%u", i ? ", " : "",
		    rot->old_key_tags[i]);
	}
	n = strlen(buf);
	snprintf(buf + n, len - n, "]");
}

/* ------------------------------------------------------ rotation rows */

static int
rot_load(struct store *st, sqlite3_stmt *s, struct rot *x, const char *what)
{
	int	 rc;

	memset(x, 0, sizeof(*x));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_read_rotation(s, &x->r, x->rdata, sizeof(x->rdata),
		    &x->rdata_len);
		x->found = true;
	} else if (rc != SQLITE_DONE) {
		store_dberr(st, what);
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

static int
rot_load_open(struct store *st, int64_t domain_id,
    enum store_rotation_kind kind, struct rot *x)
{
	sqlite3_stmt	*s;

	if ((s = store_stmt(st, S_ROT_OPEN)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_text(s, 2, store_rotation_kind_name(kind), -1,
	    SQLITE_STATIC);
	return rot_load(st, s, x, "reading the open rotation");
}

static int
rot_insert(struct store *st, int64_t domain_id, struct rot *x)
{
	sqlite3_stmt	*s;
	char		 tags[8 * PROBE_MAX_KEYS + 4];

	if ((s = store_stmt(st, S_ROT_INSERT)) == NULL)
		return -1;
	tags_json(&x->r, tags, sizeof(tags));
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_text(s, 2, store_rotation_kind_name(x->r.kind), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 3, x->r.source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)x->r.start);
	store_bind_time(s, 5, x->r.deadline);
	store_bind_time(s, 6, x->r.registrar_deadline);
	if (x->r.ds_ttl > 0)
		sqlite3_bind_int64(s, 7, x->r.ds_ttl);
	if (x->r.deadline != 0)
		sqlite3_bind_int64(s, 8, (sqlite3_int64)(x->r.deadline -
		    x->r.start));
	sqlite3_bind_int(s, 9, x->r.new_key_tag);
	sqlite3_bind_int(s, 10, x->r.new_key_alg);
	if (x->rdata_len > 0)
		sqlite3_bind_blob(s, 11, x->rdata, (int)x->rdata_len,
		    SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 12, tags, -1, SQLITE_TRANSIENT);
	if (x->r.external_id[0])
		sqlite3_bind_text(s, 13, x->r.external_id, -1,
		    SQLITE_TRANSIENT);
	if (store_step_done(st, s, "opening a rotation") == -1)
		return -1;
	x->r.id = sqlite3_last_insert_rowid(st->db);
	x->found = true;
	x->dirty = false;
	return 0;
}

static int
rot_save(struct store *st, struct rot *x)
{
	sqlite3_stmt	*s;
	char		 tags[8 * PROBE_MAX_KEYS + 4];

	if (!x->dirty)
		return 0;
	if ((s = store_stmt(st, S_ROT_UPDATE)) == NULL)
		return -1;
	tags_json(&x->r, tags, sizeof(tags));
	sqlite3_bind_int64(s, 1, x->r.id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)x->r.start);
	store_bind_time(s, 3, x->r.deadline);
	store_bind_time(s, 4, x->r.registrar_deadline);
	if (x->r.ds_ttl > 0)
		sqlite3_bind_int64(s, 5, x->r.ds_ttl);
	if (x->rdata_len > 0)
		sqlite3_bind_blob(s, 6, x->rdata, (int)x->rdata_len,
		    SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 7, tags, -1, SQLITE_TRANSIENT);
	store_bind_time(s, 8, x->r.ds_updated_at);
	store_bind_time(s, 9, x->r.completed_at);
	if (x->r.outcome[0])
		sqlite3_bind_text(s, 10, x->r.outcome, -1, SQLITE_TRANSIENT);
	if (x->r.external_id[0])
		sqlite3_bind_text(s, 11, x->r.external_id, -1,
		    SQLITE_TRANSIENT);
	if (store_step_done(st, s, "updating a rotation") == -1)
		return -1;
	x->dirty = false;
	return 0;
}

static void
rot_close(struct rot *x, const char *outcome, time_t when)
{
	snprintf(x->r.outcome, sizeof(x->r.outcome), "%s", outcome);
	x->r.completed_at = when;
	x->dirty = true;
}

/* --------------------------------------------------------- the rules */

/* What this check says about an open rotation of either kind. */
static void
rot_advance(const struct probe_result *r, struct rot *x, time_t now)
{
	int	 idx;
	bool	 old;

	if (!rot_open(x) || r->state == PROBE_STATE_UNKNOWN)
		return;
	idx = find_new_key(r, x);
	if (idx >= 0 && x->rdata_len == 0) {
		/* Opened by a host's event: now we know the key itself. */
		memcpy(x->rdata, r->keys[idx].rdata, r->keys[idx].rdata_len);
		x->rdata_len = r->keys[idx].rdata_len;
		x->dirty = true;
	}
	if (x->r.n_old == 0) {
		fill_old_keys(r, x, idx);
		x->dirty |= x->r.n_old > 0;
	}
	if (x->r.kind == STORE_ROT_KSK) {
		if (x->r.ds_ttl == 0 && r->n_ds > 0 && r->ds_ttl > 0 &&
		    x->r.deadline != 0) {
			x->r.ds_ttl = r->ds_ttl;
			x->r.registrar_deadline = x->r.deadline - r->ds_ttl;
			x->dirty = true;
		}
		/* The DS is "updated" when every parent server serves it
		 * (the classifier holds has_ds until then), which only a
		 * check that asked them all can say. */
		if (idx >= 0 && r->keys[idx].has_ds && r->every_parent &&
		    x->r.ds_updated_at == 0) {
			x->r.ds_updated_at = now;
			/* The old DS stays in caches for the largest TTL
			 * any parent server gave. */
			if (r->safe_removal_at > r->ds_everywhere_at &&
			    r->safe_removal_at - r->ds_everywhere_at >
			    (time_t)x->r.ds_ttl)
				x->r.ds_ttl = (uint32_t)(r->safe_removal_at -
				    r->ds_everywhere_at);
			x->dirty = true;
		}
	}
	/* Without knowing what it rotates away from there is nothing to
	 * judge the end by (a host's event before any check). Nor while
	 * the parent's servers disagree on the DS: a KSK rotation is not
	 * over until every one of them has the new DS. */
	if (x->r.n_old == 0 ||
	    (x->r.kind == STORE_ROT_KSK && !r->parents_agree))
		return;
	old = old_key_published(r, x, idx);
	if (idx < 0 && old && x->rdata_len > 0)
		rot_close(x, "abandoned", now);
	else if (!old && x->r.kind == STORE_ROT_ZSK)
		rot_close(x, idx >= 0 ? "completed" : "abandoned", now);
	else if (!old) {
		/* The validator got no answer: judge at the next check. */
		if (r->validation == PROBE_VAL_INDETERMINATE)
			return;
		if (r->validation == PROBE_VAL_SECURE &&
		    r->state != PROBE_STATE_BROKEN)
			rot_close(x, "completed", now);
		else
			/* Bogus, or insecure: either way the domain lost
			 * its chain of trust with the old key. */
			rot_close(x, "broken", now);
	}
}

/* Open the KSK rotation the classifier judged this check to open, with
 * its start and deadlines. */
static void
ksk_open(const struct probe_result *r, struct rot *x)
{
	const struct probe_deadline	*d = &r->deadline;
	const struct probe_key		*key;

	if (rot_open(x) || !d->opens || d->key < 0)
		return;
	key = &r->keys[d->key];
	memset(x, 0, sizeof(*x));
	x->r.kind = STORE_ROT_KSK;
	snprintf(x->r.source, sizeof(x->r.source), "dns");
	x->r.start = d->start;
	x->r.deadline = d->deadline;
	x->r.ds_ttl = r->n_ds > 0 ? r->ds_ttl : 0;
	x->r.registrar_deadline = d->registrar_deadline;
	x->r.new_key_tag = key->key_tag;
	x->r.new_key_alg = key->algorithm;
	memcpy(x->rdata, key->rdata, key->rdata_len);
	x->rdata_len = key->rdata_len;
	fill_old_keys(r, x, d->key);
	x->dirty = true;	/* to insert */
}

/*
 * The classifier says "a ZSK is published but not signing", which is both
 * the start of a pre-publish rollover (new key idle) and its end (old key
 * idle, not yet withdrawn). Only history tells them apart: a rotation
 * opens only for an idle ZSK first seen after every signing ZSK. On a
 * domain's first check all keys are equally new and nothing opens; a
 * rollover that began before monitoring did is not recorded.
 */
static void
zsk_open(const struct probe_result *r, time_t now, struct rot *x)
{
	const struct probe_key	*idle = NULL;
	uint32_t		 answering = probe_answering_mask(r);
	time_t			 newest_signing = 0;
	unsigned		 k;

	(void)now;
	if (rot_open(x) || r->state == PROBE_STATE_UNKNOWN ||
	    !probe_has_problem(r, PROBE_P_ZSK_ROTATION))
		return;
	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];

		if (is_ksk_role(key))
			continue;
		if ((key->signs_soa & answering) == 0) {
			if (idle == NULL || key->first_seen > idle->first_seen)
				idle = key;
		} else if (key->first_seen > newest_signing)
			newest_signing = key->first_seen;
	}
	if (idle == NULL || idle->first_seen == 0 ||
	    idle->first_seen <= newest_signing)
		return;
	memset(x, 0, sizeof(*x));
	x->r.kind = STORE_ROT_ZSK;
	snprintf(x->r.source, sizeof(x->r.source), "dns");
	x->r.start = idle->first_seen;
	x->r.new_key_tag = idle->key_tag;
	x->r.new_key_alg = idle->algorithm;
	memcpy(x->rdata, idle->rdata, idle->rdata_len);
	x->rdata_len = idle->rdata_len;
	fill_old_keys(r, x, (int)(idle - r->keys));
	x->dirty = true;
}

/* ------------------------------------------------------- annotate */

/* Was this DS at the parent pre-published (see store_annotate)? */
static int
ds_prepublished(struct store *st, int64_t domain_id, const uint8_t *owner,
    size_t olen, const struct probe_result *r, const struct probe_ds *d,
    bool *out)
{
	sqlite3_stmt	*s;
	unsigned	 k;
	int		 rc;

	*out = false;
	if (!dsmatch_digest_supported(d->digest_type))
		return 0;
	for (k = 0; k < r->n_keys; k++)
		if (dsmatch_ds_matches(owner, olen, d->key_tag, d->algorithm,
		    d->digest_type, d->digest, d->digest_len, r->keys[k].rdata,
		    r->keys[k].rdata_len) == 1)
			return 0;	/* its key is here */
	if ((s = store_stmt(st, S_KEY_RDATA_ALL)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (dsmatch_ds_matches(owner, olen, d->key_tag, d->algorithm,
		    d->digest_type, d->digest, d->digest_len,
		    sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0)) == 1) {
			sqlite3_reset(s);
			return 0;	/* its key was seen and is gone: stale */
		}
	if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		return store_dberr(st, "reading past keys");
	}
	if ((s = store_stmt(st, S_DS_GET)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_int(s, 2, d->key_tag);
	sqlite3_bind_int(s, 3, d->algorithm);
	sqlite3_bind_int(s, 4, d->digest_type);
	sqlite3_bind_blob(s, 5, d->digest, d->digest_len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0) != 0;
	else if (rc == SQLITE_DONE)
		*out = true;	/* appearing now, on a domain we know */
	else {
		sqlite3_reset(s);
		return store_dberr(st, "reading past DS");
	}
	sqlite3_reset(s);
	return 0;
}

/* The validation of the newest check that reached a verdict. */
static int
last_conclusive(struct store *st, int64_t domain_id, char *val, size_t len,
    time_t *when)
{
	sqlite3_stmt	*s;
	int		 rc;

	val[0] = '\0';
	*when = 0;
	if ((s = store_stmt(st, S_LAST_CONCLUSIVE)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_column_text(s, 0, val, len);
		*when = store_column_time(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(st, "reading the last verdict");
	return 0;
}

/* The open KSK rotation and the DS its DNS host announced, into
 * r->history for the classifier. */
static int
history_rotation(struct store *st, int64_t domain_id, struct probe_result *r)
{
	struct probe_history	*h = &r->history;
	struct rot		 x;
	sqlite3_stmt		*s;
	const void		*blob;
	int			 rc, n;

	if (rot_load_open(st, domain_id, STORE_ROT_KSK, &x) == -1)
		return -1;
	if (!x.found)
		return 0;
	h->rotation_open = true;
	h->rot_key_tag = x.r.new_key_tag;
	h->rot_key_alg = x.r.new_key_alg;
	memcpy(h->rot_rdata, x.rdata, x.rdata_len);
	h->rot_rdata_len = (uint16_t)x.rdata_len;
	h->rot_start = x.r.start;
	h->rot_deadline = x.r.deadline;
	h->rot_registrar_deadline = x.r.registrar_deadline;
	h->rot_ds_updated_at = x.r.ds_updated_at;
	h->rot_ds_ttl = x.r.ds_ttl;
	if ((s = store_stmt(st, S_ROT_HOST_DS_GET)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, x.r.id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_type(s, 3) == SQLITE_BLOB) {
		blob = sqlite3_column_blob(s, 3);
		n = sqlite3_column_bytes(s, 3);
		if (blob != NULL && n > 0 && n <= PROBE_MAX_DIGEST) {
			h->host_key_tag = (uint16_t)sqlite3_column_int(s, 0);
			h->host_algorithm = (uint8_t)sqlite3_column_int(s, 1);
			h->host_digest_type = (uint8_t)sqlite3_column_int(s, 2);
			memcpy(h->host_digest, blob, (size_t)n);
			h->host_digest_len = (uint8_t)n;
			snprintf(h->host_source, sizeof(h->host_source), "%s",
			    x.r.source);
			snprintf(h->host_event, sizeof(h->host_event), "%s",
			    x.r.external_id);
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(st, "reading the host's DS");
	return 0;
}

/* Was it secure at the newest check with a verdict? */
static int
history_validation(struct store *st, int64_t domain_id,
    struct probe_result *r)
{
	char	 val[16];

	if (last_conclusive(st, domain_id, val, sizeof(val),
	    &r->history.secure_at) == -1)
		return -1;
	r->history.secure_before = strcmp(val, "secure") == 0;
	return 0;
}

/* When the domain's keys of each algorithm were first seen. */
static int
history_algorithms(struct store *st, int64_t domain_id,
    struct probe_result *r)
{
	sqlite3_stmt	*s = NULL;
	int64_t		 alg;
	int		 rc;

	if (sqlite3_prepare_v2(st->db, "SELECT algorithm, min(first_seen) "
	    "FROM keys WHERE domain_id = ?1 GROUP BY algorithm", -1, &s,
	    NULL) != SQLITE_OK) {
		store_dberr(st, "reading algorithm history");
		return -1;
	}
	sqlite3_bind_int64(s, 1, domain_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		alg = sqlite3_column_int64(s, 0);
		if (alg >= 0 && alg < 32)
			r->history.alg_first_seen[alg] = store_column_time(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_dberr(st, "reading algorithm history");
		return -1;
	}
	return 0;
}

/*
 * A DS is pre-published when we saw it arrive (after the domain's first
 * check), no key ever seen for the domain matches it and no key published
 * now does. A DS that was already there at the first check and matches
 * nothing stays unexplained: reported stale, now and on every later check
 * (otherwise a leftover DS would turn "pre-published" on the second check
 * merely because history now exists).
 */
int
store_annotate(struct store *st, struct probe_result *r, time_t now)
{
	struct store_domain	 dom;
	sqlite3_stmt		*s;
	uint8_t			 owner[DSMATCH_NAME_MAX];
	size_t			 olen;
	unsigned		 i;
	int			 known, rc;
	bool			 pre;

	st->err[0] = '\0';
	memset(&r->history, 0, sizeof(r->history));
	r->history.tracked = true;
	for (i = 0; i < r->n_keys; i++)
		r->keys[i].first_seen = now;
	for (i = 0; i < r->n_ds; i++)
		r->ds[i].prepublished = false;
	for (i = 0; i < r->n_parent_ds; i++)
		r->parent_ds[i].prepublished = false;
	if (store_begin(st, false) == -1)
		return -1;
	if ((known = store_domain(st, r->domain, &dom)) == -1)
		goto fail;
	if (known == 0)
		goto done;	/* no history, no knowledge */
	for (i = 0; i < r->n_keys; i++) {
		if ((s = store_stmt(st, S_KEY_FIRST_SEEN)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, dom.id);
		sqlite3_bind_blob(s, 2, r->keys[i].rdata,
		    r->keys[i].rdata_len, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			r->keys[i].first_seen = store_column_time(s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_dberr(st, "reading key history");
			goto fail;
		}
	}
	if (history_rotation(st, dom.id, r) == -1 ||
	    history_algorithms(st, dom.id, r) == -1 ||
	    store_algroll_annotate(st, dom.id, r) == -1 ||
	    (dom.last_checked != 0 && history_validation(st, dom.id, r) == -1))
		goto fail;
	if (dom.last_checked == 0 || dsmatch_name_to_wire(r->domain, owner,
	    sizeof(owner), &olen, NULL, 0) == -1)
		goto done;
	for (i = 0; i < r->n_ds; i++) {
		if (ds_prepublished(st, dom.id, owner, olen, r, &r->ds[i],
		    &pre) == -1)
			goto fail;
		r->ds[i].prepublished = pre;
	}
	/* The same for every parent server's DS: which way a change that
	 * has reached only some of them goes. */
	for (i = 0; i < r->n_parent_ds; i++) {
		if (ds_prepublished(st, dom.id, owner, olen, r,
		    &r->parent_ds[i], &pre) == -1)
			goto fail;
		r->parent_ds[i].prepublished = pre;
	}
done:
	return store_end(st);
fail:
	store_rollback(st);
	return -1;
}

/* --------------------------------------------------------- commit */

static char *
problems_json(const struct probe_result *r)
{
	json_t		*a = probe_problems_json(r);
	char		*s;

	if (a == NULL)
		return NULL;
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static char *
resolvers_json(const struct probe_result *r)
{
	json_t		*a = json_array();
	char		*s;
	unsigned	 i;

	for (i = 0; i < r->n_resolvers; i++) {
		const struct probe_resolver *v = &r->resolvers[i];
		const char *rc = probe_rcode_name(v->rcode);

		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:b, s:f}",
		    "address", v->address, "status",
		    probe_qstatus_name(v->status), "rcode", rc != NULL ?
		    json_string(rc) : json_null(), "ad", v->ad, "latency_ms",
		    v->latency_ms));
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static char *
servers_json(const struct probe_result *r)
{
	json_t		*a = json_array(), *tags;
	char		*s;
	unsigned	 i, k;

	for (i = 0; i < r->n_servers; i++) {
		const struct probe_server *v = &r->servers[i];

		tags = json_array();
		for (k = 0; k < r->n_keys; k++)
			if (r->keys[k].servers & (1u << i))
				json_array_append_new(tags,
				    json_integer(r->keys[k].key_tag));
		/* tcp: null on a check that did not ask (tcp_every) */
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:o, "
		    "s:o, s:o}", "name", v->name, "address", v->address,
		    "status", probe_qstatus_name(v->status), "soa_serial",
		    v->has_soa ? json_integer(v->soa_serial) : json_null(),
		    "dnskey_tags", tags, "tcp", v->tcp_status != PROBE_Q_NONE ?
		    json_string(probe_qstatus_name(v->tcp_status)) :
		    json_null(), "dnskey_tcp_bytes", v->dnskey_tcp_bytes ?
		    json_integer(v->dnskey_tcp_bytes) : json_null()));
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static int
write_observation(struct store *st, int64_t domain_id,
    const struct probe_result *r, time_t now, bool change)
{
	sqlite3_stmt	*s;
	json_t		*j = NULL;
	char		*probs, *res, *srv, *whole = NULL;
	int		 rc = -1;

	probs = problems_json(r);
	res = resolvers_json(r);
	srv = servers_json(r);
	if (change && (j = probe_result_json(r)) != NULL)
		whole = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (probs == NULL || res == NULL || srv == NULL ||
	    (change && whole == NULL)) {
		store_seterr(st, "out of memory");
		goto out;
	}
	if ((s = store_stmt(st, S_OBS_INSERT)) == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_text(s, 3, probe_severity_name(r->severity), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 4, probe_validation_name(r->validation), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 5, probe_state_name(r->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, probs, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, res, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, srv, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 9, change);
	if (whole != NULL)
		sqlite3_bind_text(s, 10, whole, -1, SQLITE_STATIC);
	if (store_step_done(st, s, "recording the observation") == 0) {
		st->last_obs = sqlite3_last_insert_rowid(st->db);
		rc = 0;
	}
	/* The statement keeps pointers to the strings until reset. */
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
out:
	free(probs);
	free(res);
	free(srv);
	free(whole);
	return rc;
}

static int
write_keys(struct store *st, int64_t domain_id, const struct probe_result *r,
    time_t now, bool had_history)
{
	sqlite3_stmt	*s;
	unsigned	 i;

	for (i = 0; i < r->n_keys; i++) {
		const struct probe_key *k = &r->keys[i];

		if ((s = store_stmt(st, S_KEY_UPSERT)) == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, domain_id);
		sqlite3_bind_int(s, 2, k->key_tag);
		sqlite3_bind_int(s, 3, k->algorithm);
		sqlite3_bind_int(s, 4, k->flags);
		sqlite3_bind_blob(s, 5, k->rdata, k->rdata_len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)(k->first_seen != 0 &&
		    k->first_seen < now ? k->first_seen : now));
		sqlite3_bind_int64(s, 7, (sqlite3_int64)now);
		/* Signing: the DNSKEY RRset for a KSK, the zone for a ZSK. */
		store_bind_time(s, 8, k->signs_dnskey != 0 ||
		    k->signs_soa != 0 ? now : 0);
		store_bind_time(s, 9, k->has_ds ? now : 0);
		if (store_step_done(st, s, "recording a key") == -1)
			return -1;
	}
	for (i = 0; i < r->n_ds; i++) {
		const struct probe_ds *d = &r->ds[i];

		if ((s = store_stmt(st, S_DS_UPSERT)) == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, domain_id);
		sqlite3_bind_int(s, 2, d->key_tag);
		sqlite3_bind_int(s, 3, d->algorithm);
		sqlite3_bind_int(s, 4, d->digest_type);
		sqlite3_bind_blob(s, 5, d->digest, d->digest_len,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)now);
		sqlite3_bind_int64(s, 7, (sqlite3_int64)now);
		sqlite3_bind_int(s, 8, had_history);
		if (store_step_done(st, s, "recording a DS") == -1)
			return -1;
	}
	return 0;
}

/* Insert the domain if new; its row (before this check) into *dom. */
static int
domain_row(struct store *st, const char *name, time_t now,
    struct store_domain *dom)
{
	sqlite3_stmt	*s;

	if ((s = store_stmt(st, S_DOMAIN_INSERT)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	if (store_step_done(st, s, "recording the domain") == -1)
		return -1;
	if (store_domain(st, name, dom) != 1)
		return st->err[0] ? -1 : store_seterr(st, "domain %s vanished",
		    name);
	return 0;
}

int
store_commit(struct store *st, struct probe_result *r,
    const struct store_policy *pol, time_t now, struct store_rotation *open)
{
	struct store_domain	 dom;
	struct rot		 ksk, zsk;
	sqlite3_stmt		*s;
	bool			 had_history, change;

	st->err[0] = '\0';
	if (open != NULL)
		memset(open, 0, sizeof(*open));
	if (store_begin(st, true) == -1)
		return -1;
	if (domain_row(st, r->domain, now, &dom) == -1)
		goto fail;
	had_history = dom.last_checked != 0;

	if (rot_load_open(st, dom.id, STORE_ROT_KSK, &ksk) == -1 ||
	    rot_load_open(st, dom.id, STORE_ROT_ZSK, &zsk) == -1)
		goto fail;
	rot_advance(r, &ksk, now);
	rot_advance(r, &zsk, now);
	if (rot_save(st, &ksk) == -1 || rot_save(st, &zsk) == -1)
		goto fail;
	ksk_open(r, &ksk);
	if (ksk.dirty && !ksk.found && rot_insert(st, dom.id, &ksk) == -1)
		goto fail;
	zsk_open(r, now, &zsk);
	if (zsk.dirty && !zsk.found && rot_insert(st, dom.id, &zsk) == -1)
		goto fail;

	change = !had_history ||
	    strcmp(dom.last_severity, probe_severity_name(r->severity)) != 0 ||
	    strcmp(dom.last_state, probe_state_name(r->state)) != 0 ||
	    strcmp(dom.last_validation,
	    probe_validation_name(r->validation)) != 0;
	if (write_observation(st, dom.id, r, now, change) == -1 ||
	    write_keys(st, dom.id, r, now, had_history) == -1 ||
	    store_algroll_commit(st, dom.id, r, now) == -1)
		goto fail;
	/* Alert transitions commit with the state change that caused
	 * them, or not at all. */
	if (store_alerts_commit(st, dom.id, r, pol, now, rot_open(&ksk) &&
	    ksk.r.kind == STORE_ROT_KSK ? &ksk.r : NULL) == -1)
		goto fail;
	if ((s = store_stmt(st, S_DOMAIN_UPDATE)) == NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, dom.id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_text(s, 3, probe_state_name(r->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, probe_severity_name(r->severity), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 5, probe_validation_name(r->validation), -1,
	    SQLITE_STATIC);
	if (store_step_done(st, s, "recording the domain") == -1 ||
	    store_end(st) == -1)
		goto fail;
	if (open != NULL && rot_open(&ksk)) {
		*open = ksk.r;
		snprintf(open->domain, sizeof(open->domain), "%s", r->domain);
	}
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* ------------------------------------------------- a DNS host's word */

/* The DS the host announced goes with its rotation: the classifier
 * judges it against the published keys at every check while the rotation
 * is open, restarts included. */
static int
host_ds_save(struct store *st, const struct rot *x,
    const struct store_external *ev)
{
	sqlite3_stmt	*s;

	if (ev->ds_digest_len == 0 || !rot_open(x) ||
	    ev->ds_digest_len > PROBE_MAX_DIGEST)
		return 0;
	if ((s = store_stmt(st, S_ROT_HOST_DS_SET)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, x->r.id);
	sqlite3_bind_int(s, 2, ev->ds_key_tag);
	sqlite3_bind_int(s, 3, ev->ds_algorithm);
	sqlite3_bind_int(s, 4, ev->ds_digest_type);
	sqlite3_bind_blob(s, 5, ev->ds_digest, ev->ds_digest_len,
	    SQLITE_STATIC);
	return store_step_done(st, s, "recording the host's DS");
}

int
store_rotation_external(struct store *st, const struct store_external *ev,
    const struct store_policy *pol, time_t now, struct store_rotation *out)
{
	struct store_domain	 dom;
	struct rot		 x;
	sqlite3_stmt		*s;

	st->err[0] = '\0';
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ev->domain == NULL || ev->external_id == NULL ||
	    ev->external_id[0] == '\0' || ev->source == NULL ||
	    strlen(ev->external_id) >= sizeof(x.r.external_id))
		return store_seterr(st, "a host's rotation event needs a "
		    "domain, a source and an id (under %zu characters)",
		    sizeof(x.r.external_id));
	/* The host is told 200 only after this returns and never sends
	 * the event again: it must reach the disk, not the page cache. */
	if (store_durable(st, true) == -1)
		return -1;
	if (store_begin(st, true) == -1)
		goto fail;
	if (domain_row(st, ev->domain, now, &dom) == -1 ||
	    (s = store_stmt(st, S_ROT_BY_EXTERNAL)) == NULL)
		goto fail;
	sqlite3_bind_text(s, 1, ev->external_id, -1, SQLITE_STATIC);
	if (rot_load(st, s, &x, "reading the rotation") == -1)
		goto fail;

	if (x.found) {
		/* Seen this id before: only a completion moves it on. */
		if (ev->completed && rot_open(&x))
			rot_close(&x, "completed", ev->time);
	} else {
		if (rot_load_open(st, dom.id, ev->kind, &x) == -1)
			goto fail;
		if (x.found && x.r.external_id[0] != '\0') {
			store_seterr(st, "%s already has an open %s rotation "
			    "from %s event %s", ev->domain,
			    store_rotation_kind_name(ev->kind), x.r.source,
			    x.r.external_id);
			goto fail;
		}
		if (x.found) {
			/* The checks saw it first: label it, and trust the
			 * host's start when it is earlier (a key can be
			 * created before the first check sees it). */
			snprintf(x.r.external_id, sizeof(x.r.external_id),
			    "%s", ev->external_id);
			if (!ev->completed && ev->time != 0 &&
			    ev->time < x.r.start) {
				if (x.r.deadline != 0) {
					x.r.deadline -= x.r.start - ev->time;
					x.r.registrar_deadline = x.r.deadline -
					    x.r.ds_ttl;
				}
				x.r.start = ev->time;
			}
			if (ev->completed)
				rot_close(&x, "completed", ev->time);
			x.dirty = true;
		} else if (ev->completed) {
			store_seterr(st, "%s event %s completes a %s rotation "
			    "of %s that was never opened", ev->source,
			    ev->external_id, store_rotation_kind_name(ev->kind),
			    ev->domain);
			goto fail;
		} else {
			memset(&x, 0, sizeof(x));
			x.r.kind = ev->kind;
			snprintf(x.r.source, sizeof(x.r.source), "%s",
			    ev->source);
			snprintf(x.r.external_id, sizeof(x.r.external_id),
			    "%s", ev->external_id);
			x.r.start = ev->time != 0 ? ev->time : now;
			if (ev->kind == STORE_ROT_KSK) {
				x.r.deadline = x.r.start +
				    pol->rotation_window_s;
				x.r.ds_ttl = ev->ds_ttl;
				x.r.registrar_deadline = x.r.deadline -
				    ev->ds_ttl;
			}
			x.r.new_key_tag = ev->new_key_tag;
			x.r.new_key_alg = ev->new_key_alg;
			if (rot_insert(st, dom.id, &x) == -1)
				goto fail;
		}
	}
	if (rot_save(st, &x) == -1 ||
	    (!ev->completed && host_ds_save(st, &x, ev) == -1) ||
	    store_end(st) == -1)
		goto fail;
	if (out != NULL) {
		*out = x.r;
		snprintf(out->domain, sizeof(out->domain), "%s", ev->domain);
	}
	/* Committed durably; failing to drop back only costs fsyncs. */
	store_durable(st, false);
	return 0;
fail:
	store_rollback(st);
	store_durable(st, false);
	return -1;
}

json_t *
store_rotation_json(const struct store_rotation *r, time_t now)
{
	json_t		*o, *old;
	unsigned	 i;
	bool		 waits;

	if (r == NULL || r->id == 0 || (o = json_object()) == NULL)
		return json_null();
	old = json_array();
	for (i = 0; i < r->n_old; i++)
		json_array_append_new(old, json_integer(r->old_key_tags[i]));
	/* Once the DS is everywhere (or the rotation closed) the deadline
	 * is met: a count still running would read as overdue. */
	waits = r->registrar_deadline != 0 && r->ds_updated_at == 0 &&
	    r->completed_at == 0;
	json_object_set_new(o, "domain", json_string(r->domain));
	json_object_set_new(o, "kind", json_string(
	    store_rotation_kind_name(r->kind)));
	json_object_set_new(o, "source", json_string(r->source));
	json_object_set_new(o, "external_id", r->external_id[0] ?
	    json_string(r->external_id) : json_null());
	json_object_set_new(o, "start", clock_json(r->start));
	json_object_set_new(o, "deadline", clock_json(r->deadline));
	json_object_set_new(o, "registrar_deadline",
	    clock_json(r->registrar_deadline));
	json_object_set_new(o, "seconds_left", waits ? json_integer(
	    (json_int_t)(r->registrar_deadline - now)) : json_null());
	json_object_set_new(o, "ds_ttl", r->ds_ttl ? json_integer(r->ds_ttl) :
	    json_null());
	json_object_set_new(o, "ds_updated_at", clock_json(r->ds_updated_at));
	/* The same moment under the name the check's own view uses: when
	 * the new DS was seen on every parent server. */
	json_object_set_new(o, "ds_everywhere_at",
	    clock_json(r->ds_updated_at));
	json_object_set_new(o, "safe_removal_at",
	    clock_json(store_rotation_safe_removal(r)));
	json_object_set_new(o, "completed_at", clock_json(r->completed_at));
	json_object_set_new(o, "outcome", r->outcome[0] ?
	    json_string(r->outcome) : json_null());
	json_object_set_new(o, "new_key_tag", json_integer(r->new_key_tag));
	json_object_set_new(o, "new_key_algorithm",
	    json_integer(r->new_key_alg));
	json_object_set_new(o, "old_key_tags", old);
	return o;
}
