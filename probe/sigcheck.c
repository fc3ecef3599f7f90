/*
 * Is the CDS a registry would read signed the way the registry checks it,
 * and does the key it names really sign the DNSKEY RRset?
 *
 * answer.c notes who signs an RRset by the RRSIG's key tag and algorithm,
 * which is enough to follow a rotation but not to promise that applying
 * the CDS keeps the chain: a stale RRSIG left over from the previous key
 * set, or a corrupt one, carries the right tag and verifies nothing, and
 * a validator that still has another good signature says "secure" until
 * the parent swaps the DS. Here the signatures are verified, with ldns
 * and OpenSSL as denial.c does, through its cache (every server usually
 * serves the same RRset and RRSIG: one verification for all of them).
 * Only servers that serve CDS or CDNSKEY are checked: other domains pay
 * nothing.
 */
#include <string.h>

#include <ldns/ldns.h>

#include "probe/sigcheck.h"

/* The RRset of type at owner in the answer section, and the RRSIGs over
 * it (both lists owned by the caller; records are clones). */
static void
rrset_of(const ldns_pkt *pkt, const ldns_rdf *owner, ldns_rr_type type,
    ldns_rr_list *set, ldns_rr_list *sigs)
{
	ldns_rr_list	*ans = ldns_pkt_answer(pkt);
	size_t		 i;

	for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
		ldns_rr		*rr = ldns_rr_list_rr(ans, i);
		ldns_rdf	*cov;

		if (ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
			continue;
		if (ldns_rr_get_type(rr) == type)
			ldns_rr_list_push_rr(set, ldns_rr_clone(rr));
		else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
		    (cov = ldns_rr_rrsig_typecovered(rr)) != NULL &&
		    ldns_rdf_size(cov) == 2 && ldns_rdf2rr_type(cov) == type)
			ldns_rr_list_push_rr(sigs, ldns_rr_clone(rr));
	}
}

/* The index in r->keys of a DNSKEY record, by RDATA; -1: not there. */
static int
key_index(const struct probe_result *r, const ldns_rr *key, ldns_buffer *b)
{
	unsigned	 k;

	ldns_buffer_clear(b);
	if (ldns_rr_rdata2buffer_wire(b, key) != LDNS_STATUS_OK)
		return -1;
	for (k = 0; k < r->n_keys; k++)
		if (r->keys[k].rdata_len == ldns_buffer_position(b) &&
		    memcmp(r->keys[k].rdata, ldns_buffer_begin(b),
		    r->keys[k].rdata_len) == 0)
			return (int)k;
	return -1;
}

/*
 * Which of the DNSKEYs in keys (indices into r->keys in idx[]) have an
 * RRSIG in sigs that verifies over set: bit k for r->keys[k]. *unsure is
 * set when one could not be checked here at all.
 */
static uint32_t
verified_by(struct denial_cache *cache, ldns_rr_list *set,
    const ldns_rr_list *sigs, const ldns_rr_list *keys, const int *idx,
    bool *unsure)
{
	uint32_t	 mask = 0;
	size_t		 i, k;
	unsigned	 tries = 0;

	if (ldns_rr_list_rr_count(set) == 0)
		return 0;
	for (i = 0; i < ldns_rr_list_rr_count(sigs); i++) {
		ldns_rr		*sig = ldns_rr_list_rr(sigs, i);
		ldns_rdf	*tag = ldns_rr_rrsig_keytag(sig);
		ldns_rdf	*alg = ldns_rr_rrsig_algorithm(sig);

		if (tag == NULL || alg == NULL || ldns_rdf_size(tag) != 2 ||
		    ldns_rdf_size(alg) != 1)
			continue;
		for (k = 0; k < ldns_rr_list_rr_count(keys); k++) {
			ldns_rr		*key = ldns_rr_list_rr(keys, k);
			ldns_rr_list	*one;
			ldns_rdf	*kalg = ldns_rr_dnskey_algorithm(key);

			if (idx[k] < 0 || kalg == NULL ||
			    ldns_rdf_size(kalg) != 1 ||
			    ldns_rdf2native_int8(kalg) !=
			    ldns_rdf2native_int8(alg) ||
			    ldns_calc_keytag(key) != ldns_rdf2native_int16(tag))
				continue;
			if (tries++ >= SIGCHECK_MAX_VERIFY)
				return mask;
			if ((one = ldns_rr_list_new()) == NULL)
				return mask;
			ldns_rr_list_push_rr(one, key);
			switch (denial_cache_verify(cache, set, sig, one)) {
			case 1:
				mask |= 1u << idx[k];
				break;
			case -1:
				*unsure = true;
				break;
			}
			/* The key belongs to keys: free only the list. */
			ldns_rr_list_free(one);
		}
	}
	return mask;
}

static ldns_pkt *
parse(const uint8_t *wire, size_t len)
{
	ldns_pkt	*pkt = NULL;

	if (wire == NULL || len == 0 ||
	    ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return NULL;
	return pkt;
}

/* servers[si]'s CDS or CDNSKEY RRset: which keys' signatures verify. */
static uint32_t
rrset_signers(struct denial_cache *cache, const ldns_pkt *pkt,
    const ldns_rdf *owner, ldns_rr_type type, const ldns_rr_list *keys,
    const int *idx, bool *unsure)
{
	ldns_rr_list	*set = ldns_rr_list_new(), *sigs = ldns_rr_list_new();
	uint32_t	 mask = 0;

	if (pkt != NULL && set != NULL && sigs != NULL) {
		rrset_of(pkt, owner, type, set, sigs);
		mask = verified_by(cache, set, sigs, keys, idx, unsure);
	}
	ldns_rr_list_deep_free(set);
	ldns_rr_list_deep_free(sigs);
	return mask;
}

void
sigcheck_server(struct denial_cache *cache, struct probe_result *r,
    unsigned si, const uint8_t *dnskey, size_t dnskey_len,
    const uint8_t *cds, size_t cds_len, const uint8_t *cdnskey,
    size_t cdnskey_len)
{
	struct probe_server *s = &r->servers[si];
	ldns_pkt	*kp = NULL, *cp = NULL, *np = NULL;
	ldns_rdf	*owner = NULL;
	ldns_rr_list	*keys = NULL, *sigs = NULL;
	ldns_buffer	*b = NULL;
	int		 idx[PROBE_MAX_KEYS * 2];
	size_t		 k, n;
	uint32_t	 mask;
	bool		 unsure = false;

	s->sigs_verified = false;
	s->cds_verified_by = s->cdnskey_verified_by = 0;
	if (si >= PROBE_MAX_SERVERS ||
	    (kp = parse(dnskey, dnskey_len)) == NULL ||
	    (owner = ldns_dname_new_frm_str(r->domain)) == NULL ||
	    (keys = ldns_rr_list_new()) == NULL ||
	    (sigs = ldns_rr_list_new()) == NULL ||
	    (b = ldns_buffer_new(PROBE_MAX_KEYDATA + 64)) == NULL)
		goto done;
	rrset_of(kp, owner, LDNS_RR_TYPE_DNSKEY, keys, sigs);
	/* Keys that did not fit in r->keys (counted there) stay out. */
	n = ldns_rr_list_rr_count(keys);
	if (n > sizeof(idx) / sizeof(idx[0]))
		goto done;
	for (k = 0; k < n; k++)
		idx[k] = key_index(r, ldns_rr_list_rr(keys, k), b);
	mask = verified_by(cache, keys, sigs, keys, idx, &unsure);
	cp = parse(cds, cds_len);
	np = parse(cdnskey, cdnskey_len);
	s->cds_verified_by = rrset_signers(cache, cp, owner, LDNS_RR_TYPE_CDS,
	    keys, idx, &unsure);
	s->cdnskey_verified_by = rrset_signers(cache, np, owner,
	    LDNS_RR_TYPE_CDNSKEY, keys, idx, &unsure);
	/* What this host cannot check is left to the tags: a false
	 * "bogus" for an algorithm we lack would be worse than none. */
	if (unsure) {
		s->cds_verified_by = s->cdnskey_verified_by = 0;
		goto done;
	}
	for (k = 0; k < r->n_keys; k++)
		if (mask & (1u << k))
			r->keys[k].verifies_dnskey |= 1u << si;
	s->sigs_verified = true;
done:
	ldns_buffer_free(b);
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(sigs);
	ldns_rdf_deep_free(owner);
	ldns_pkt_free(kp);
	ldns_pkt_free(cp);
	ldns_pkt_free(np);
}
