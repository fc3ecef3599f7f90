/*
 * What every server of the parent says about the DS. A TLD is served by
 * many anycast addresses that take a DS change at different moments; a
 * resolver behind one that lags still gets the old DS, and SERVFAILs if
 * the old key is withdrawn. So a DS counts as "at the parent" only when
 * every server that answered serves it.
 */
#include <stdio.h>
#include <string.h>

#include "common/dsmatch.h"
#include "probe/parents.h"

#define LIST_MAX	6	/* addresses named in one message */

static void	address_list(const struct probe_result *, uint32_t, char *,
		    size_t);

static bool
parent_answers(const struct probe_parent *p)
{
	/* NXDOMAIN is an answer too: that server has no DS at all. */
	return p->status == PROBE_Q_OK && (p->rcode == 0 || p->rcode == 3);
}

void
parents_classify_rrsig(struct probe_result *r)
{
	uint32_t	 sig = 0, nosig = 0;
	unsigned	 i;
	char		 list[240];

	for (i = 0; i < r->n_parents && i < 32; i++) {
		if (!parent_answers(&r->parents[i]) || r->parents[i].n_ds == 0)
			continue;
		if (r->parents[i].rrsig)
			sig |= 1u << i;
		else
			nosig |= 1u << i;
	}
	if (sig == 0 || nosig == 0)
		return;
	address_list(r, nosig, list, sizeof(list));
	probe_problem_add(r, PROBE_P_PARENT_DS_UNSIGNED,
	    "%s serve%s the DS of %s without an RRSIG while the other servers "
	    "of %s sign it: validating resolvers that ask %s cannot validate "
	    "the DS and may fail the domain. The parent's operator must fix "
	    "that server", list, nosig & (nosig - 1) ? "" : "s", r->domain,
	    r->parent, nosig & (nosig - 1) ? "them" : "it");
}

unsigned
parents_answering(const struct probe_result *r)
{
	unsigned	 i, n = 0;

	for (i = 0; i < r->n_parents; i++)
		n += parent_answers(&r->parents[i]);
	return n;
}

uint32_t
parents_ds_ttl(const struct probe_result *r)
{
	uint32_t	 ttl = r->n_ds > 0 ? r->ds_ttl : 0;
	unsigned	 i;

	for (i = 0; i < r->n_parents; i++)
		if (parent_answers(&r->parents[i]) && r->parents[i].n_ds > 0 &&
		    r->parents[i].ds_ttl > ttl)
			ttl = r->parents[i].ds_ttl;
	return ttl;
}

/* "a, b, c and 3 more" for the parents in mask. */
static void
address_list(const struct probe_result *r, uint32_t mask, char *buf,
    size_t len)
{
	unsigned	 i, named = 0, more = 0;
	size_t		 n;

	buf[0] = '\0';
	for (i = 0; i < r->n_parents; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (named == LIST_MAX) {
			more++;
			continue;
		}
		n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", named ? ", " : "",
		    r->parents[i].address);
		named++;
	}
	if (more > 0) {
		n = strlen(buf);
		snprintf(buf + n, len - n, " and %u more", more);
	}
}

static void
tag_append(char *buf, size_t len, uint16_t tag)
{
	size_t	 n = strlen(buf);

	snprintf(buf + n, len - n, "%s%u", n ? ", " : "", tag);
}

/* Answering parents whose set holds a DS of key k (k -1: a DS of no
 * published key, u given). */
static uint32_t
parents_with(const struct probe_result *r, uint32_t answering,
    const int *dskey, int k, int only_u)
{
	uint32_t	 with = 0;
	unsigned	 i, u;

	for (i = 0; i < r->n_parents; i++) {
		if (!(answering & (1u << i)))
			continue;
		for (u = 0; u < r->n_parent_ds; u++)
			if ((r->parents[i].ds_set & (1u << u)) &&
			    (only_u >= 0 ? (int)u == only_u : dskey[u] == k))
				with |= 1u << i;
	}
	return with;
}

/*
 * r->ds came from the server that answered the NS question. When that one
 * lags, judge by the set of one that does not: the verdict (stale DS, CDS
 * mismatch, chain) must not depend on which server happened to answer
 * first, and the servers that lag are named by parent_ds_disagree.
 */
static bool
take_current_set(struct probe_result *r, uint32_t answering, uint32_t lag)
{
	const struct probe_parent	*src = NULL, *cur = NULL;
	unsigned			 i, u;

	for (i = 0; i < r->n_parents && i < 32; i++) {
		if (strcmp(r->parents[i].address, r->parent_server) == 0)
			src = &r->parents[i];
		if (cur == NULL && (answering & ~lag & (1u << i)))
			cur = &r->parents[i];
	}
	if (src == NULL || !src->lags || cur == NULL)
		return false;
	r->n_ds = 0;
	for (u = 0; u < r->n_parent_ds && r->n_ds < PROBE_MAX_DS; u++)
		if (cur->ds_set & (1u << u)) {
			r->ds[r->n_ds] = r->parent_ds[u];
			r->ds[r->n_ds++].key = -1;
		}
	r->ds_ttl = cur->ds_ttl;
	snprintf(r->parent_server, sizeof(r->parent_server), "%s",
	    cur->address);
	return true;
}

/* Answering parents whose DS set has no DS of a key that signs the
 * DNSKEY RRset: resolvers that ask them fail the domain now. */
static uint32_t
parents_broken(const struct probe_result *r, uint32_t answering,
    const int *dskey)
{
	uint32_t	 broken = 0;
	unsigned	 i, u;
	bool		 chain;

	for (i = 0; i < r->n_parents && i < 32; i++) {
		if (!(answering & (1u << i)))
			continue;
		chain = false;
		for (u = 0; u < r->n_parent_ds; u++)
			if ((r->parents[i].ds_set & (1u << u)) && dskey[u] >= 0 &&
			    r->keys[dskey[u]].signs_dnskey != 0 &&
			    dsmatch_algorithm_supported(
			    r->parent_ds[u].algorithm))
				chain = true;
		if (!chain && r->parents[i].n_ds > 0)
			broken |= 1u << i;
	}
	return broken;
}

bool
parents_classify(struct probe_result *r, const uint8_t *owner, size_t olen)
{
	int		 dskey[PROBE_MAX_PARENT_DS];
	char		 lag_text[240], ok_text[240];
	char		 arriving[64] = "", leaving[64] = "";
	uint32_t	 answering = 0, lag = 0, with, first = 0, broken;
	unsigned	 i, u, k, n_ans = 0;
	bool		 agree = true, any_cds = false;
	time_t		 newest = 0;

	r->parents_agree = true;
	for (k = 0; k < r->n_keys; k++)
		r->keys[k].ds_partial = false;
	for (i = 0; i < r->n_parents && i < 32; i++) {
		r->parents[i].lags = false;
		if (!parent_answers(&r->parents[i]))
			continue;
		answering |= 1u << i;
		if (n_ans++ == 0)
			first = r->parents[i].ds_set;
		else if (r->parents[i].ds_set != first)
			agree = false;
	}
	if (agree)
		return false;
	r->parents_agree = false;

	for (u = 0; u < r->n_parent_ds; u++) {
		const struct probe_ds *d = &r->parent_ds[u];

		dskey[u] = -1;
		for (k = 0; k < r->n_keys; k++)
			if (dsmatch_ds_matches(owner, olen, d->key_tag,
			    d->algorithm, d->digest_type, d->digest,
			    d->digest_len, r->keys[k].rdata,
			    r->keys[k].rdata_len) == 1) {
				dskey[u] = (int)k;
				break;
			}
	}
	/* A key whose DS some servers serve and others not: a change on
	 * its way. Which way: the key the child asks for (CDS/CDNSKEY), or
	 * without those the newest key, is arriving, and the servers
	 * without its DS lag; any other is leaving, and the servers that
	 * still serve its DS lag. */
	for (k = 0; k < r->n_keys; k++) {
		if (r->keys[k].in_cds || r->keys[k].in_cdnskey)
			any_cds = true;
		if (r->keys[k].first_seen > newest)
			newest = r->keys[k].first_seen;
	}
	any_cds &= !r->cds_delete;
	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];

		with = parents_with(r, answering, dskey, (int)k, -1);
		if (with == 0 || with == answering)
			continue;
		r->keys[k].has_ds = false;
		r->keys[k].ds_partial = true;
		if (any_cds ? key->in_cds || key->in_cdnskey :
		    key->first_seen >= newest) {
			lag |= answering & ~with;
			tag_append(arriving, sizeof(arriving), key->key_tag);
		} else {
			lag |= with;
			tag_append(leaving, sizeof(leaving), key->key_tag);
		}
	}
	/* A DS of no published key that some servers serve: a removal on
	 * its way (the servers that keep it lag), unless history says it
	 * is pre-published for a key to come (a double-DS rollover: the
	 * servers without it lag). */
	for (u = 0; u < r->n_parent_ds; u++) {
		if (dskey[u] >= 0)
			continue;
		with = parents_with(r, answering, dskey, -1, (int)u);
		if (with == 0 || with == answering)
			continue;
		if (r->parent_ds[u].prepublished) {
			lag |= answering & ~with;
			tag_append(arriving, sizeof(arriving),
			    r->parent_ds[u].key_tag);
		} else {
			lag |= with;
			tag_append(leaving, sizeof(leaving),
			    r->parent_ds[u].key_tag);
		}
	}
	if (lag == 0) {
		/* Sets differ in some other way (a digest type): name the
		 * servers that differ from the first one. */
		for (i = 0; i < r->n_parents && i < 32; i++)
			if ((answering & (1u << i)) &&
			    r->parents[i].ds_set != first)
				lag |= 1u << i;
	}
	for (i = 0; i < r->n_parents && i < 32; i++)
		r->parents[i].lags = (lag & (1u << i)) != 0;
	if (take_current_set(r, answering, lag))
		return true;
	address_list(r, lag, lag_text, sizeof(lag_text));
	address_list(r, answering & ~lag, ok_text, sizeof(ok_text));
	broken = parents_broken(r, answering, dskey);
	if (broken != 0 && broken != answering) {
		/* The old key went before its DS left every server. */
		address_list(r, broken, lag_text, sizeof(lag_text));
		probe_problem_add(r, PROBE_P_PARENT_DS_BROKEN,
		    "%s (of %u answering servers of %s) "
		    "serve no DS that matches a key signing the DNSKEY RRset: "
		    "resolvers that ask them fail %s now (SERVFAIL). The DS "
		    "change has not reached them; the DNS host withdrew the "
		    "old key too early: publish it again until every server "
		    "serves the new DS, plus the DS TTL", lag_text, n_ans,
		    r->parent, r->domain);
	} else if (arriving[0] || leaving[0])
		probe_problem_add(r, PROBE_P_PARENT_DS_DISAGREE,
		    "The DS change has not reached every server of %s: %s (of "
		    "%u answering) still serve the old DS set (%s%s%s%s%s); "
		    "the new one is at %s. Resolvers that ask a lagging "
		    "server get the old DS: the change is not done until "
		    "every server serves it, and the old key must stay "
		    "published until then plus the DS TTL", r->parent,
		    lag_text, n_ans,
		    arriving[0] ? "without the DS for key " : "", arriving,
		    arriving[0] && leaving[0] ? ", " : "",
		    leaving[0] ? "still with the DS for key " : "", leaving,
		    ok_text[0] ? ok_text : "no server yet");
	else
		probe_problem_add(r, PROBE_P_PARENT_DS_DISAGREE,
		    "The servers of %s serve different DS sets for %s: %s "
		    "(of %u answering) differ from %s", r->parent, r->domain,
		    lag_text, n_ans, ok_text);
	return false;
}
