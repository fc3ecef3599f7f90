/*
 * Proofs of non-existence, checked per server with ldns.
 *
 * libunbound validates what it resolves through its own choice of server,
 * so a zone whose second server serves a broken NSEC chain validates there
 * most of the time. Here each server's own negative answer is checked:
 * ldns_dnssec_verify_denial / ldns_dnssec_verify_denial_nsec3 for the
 * coverage (RFC 4035 5.4, RFC 5155 8.4-8.7) and ldns_verify_rrsig_keylist_time
 * for every NSEC/NSEC3 RRset's signature, against the DNSKEYs that server
 * publishes. ldns does the cryptography and the canonical ordering; this
 * file only picks the records out and says in words what failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/evp.h>

#include "common/dsmatch.h"
#include "common/hash.h"
#include "probe/denial.h"

#define T_DNSKEY	48

struct denial_cache_entry {
	uint8_t		 key[32];	/* SHA-256 of record, RRSIG, keys */
	bool		 used;
};

/*
 * Entries in sets of WAYS, the most recently used first. Direct-mapped
 * (one slot per key) a daemon's next cycle found about half of a 10,000
 * domain cycle's 40,000 verified signatures: each new one evicted
 * whatever shared its slot. With 4 ways and LRU a set overflows only
 * when more than 4 of a cycle's keys fall in it (Poisson, 2.4 a set on
 * average at that load): about 4% are lost. Past the capacity (a cycle
 * of far more than 16,000 domains), LRU under a cycle keeps none, as the
 * direct map kept almost none. A set is 132 bytes: two cache lines.
 */
#define WAYS	4

/*
 * ECDSA public keys as OpenSSL objects, made once: building one from the
 * DNSKEY's bytes (curve group, point decoding and its on-curve check) cost
 * about as much as the verification itself, and every signature a check
 * verifies is by one of the zone's two or three keys. Direct-mapped by the
 * key's bytes; a check's verifications run back to back in one thread, so
 * a few dozen slots keep its keys.
 */
#define KEY_SLOTS	64
#define KEY_MAX		96	/* P-384: 2 x 48 bytes */

struct keyslot {
	EVP_PKEY	*pk;
	uint8_t		 alg;
	uint8_t		 len;
	uint8_t		 key[KEY_MAX];
};

struct denial_cache {
	struct denial_cache_entry *e;
	unsigned	 mask;
	unsigned long long lookups, hits;
	ldns_buffer	*wire;		/* digest_rr()'s, reused */
	EVP_MD_CTX	*md;		/* cache_key()'s, reused */
	ldns_buffer	*data;		/* verify(): the signed data */
	ldns_buffer	*rawsig;	/* verify(): the signature, DER */
	struct keyslot	 keys[KEY_SLOTS];
	unsigned long long key_parses;
};

struct denial_cache *
denial_cache_create(unsigned entries)
{
	struct denial_cache	*c;
	unsigned		 n = 1;

	while (n < entries && n < (1u << 24))
		n <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->e = calloc(n < WAYS ? WAYS : n, sizeof(*c->e))) == NULL ||
	    (c->wire = ldns_buffer_new(1024)) == NULL ||
	    (c->data = ldns_buffer_new(1024)) == NULL ||
	    (c->rawsig = ldns_buffer_new(128)) == NULL ||
	    (c->md = EVP_MD_CTX_new()) == NULL) {
		denial_cache_destroy(c);
		return NULL;
	}
	c->mask = (n < WAYS ? WAYS : n) / WAYS - 1;	/* of the sets */
	return c;
}

void
denial_cache_destroy(struct denial_cache *c)
{
	unsigned	 i;

	if (c == NULL)
		return;
	free(c->e);
	if (c->wire != NULL)
		ldns_buffer_free(c->wire);
	if (c->data != NULL)
		ldns_buffer_free(c->data);
	if (c->rawsig != NULL)
		ldns_buffer_free(c->rawsig);
	for (i = 0; i < KEY_SLOTS; i++)
		EVP_PKEY_free(c->keys[i].pk);
	EVP_MD_CTX_free(c->md);
	free(c);
}

void
denial_cache_stats(const struct denial_cache *c, unsigned long long *lookups,
    unsigned long long *hits)
{
	*lookups = c != NULL ? c->lookups : 0;
	*hits = c != NULL ? c->hits : 0;
}

unsigned long long
denial_cache_key_parses(const struct denial_cache *c)
{
	return c != NULL ? c->key_parses : 0;
}

/*
 * Into the digest, the record in wire format, through the cache's buffer
 * (one user at a time, as the cache): ldns_rr2wire() allocates 64 KB per
 * call, which with the daemon's mmap threshold (cli/main.c) was an mmap,
 * page faults and an munmap (a TLB shootdown across the threads) per
 * record, 35 per domain and the larger part of the cycle's system time.
 */
static void
digest_rr(EVP_MD_CTX *md, ldns_buffer *b, const ldns_rr *rr)
{
	ldns_buffer_clear(b);
	if (ldns_rr2buffer_wire(b, rr, LDNS_SECTION_ANSWER) == LDNS_STATUS_OK)
		EVP_DigestUpdate(md, ldns_buffer_begin(b),
		    ldns_buffer_position(b));
}

/* The cache key of (RRset, RRSIG, keys); false when it cannot be made. */
static bool
cache_key(struct denial_cache *c, const ldns_rr_list *set, const ldns_rr *sig,
    const ldns_rr_list *keys, uint8_t out[32])
{
	unsigned	 len = 0;
	size_t		 i;

	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		return false;
	for (i = 0; i < ldns_rr_list_rr_count(set); i++)
		digest_rr(c->md, c->wire, ldns_rr_list_rr(set, i));
	digest_rr(c->md, c->wire, sig);
	for (i = 0; i < ldns_rr_list_rr_count(keys); i++)
		digest_rr(c->md, c->wire, ldns_rr_list_rr(keys, i));
	return EVP_DigestFinal_ex(c->md, out, &len) == 1 && len == 32;
}


/* The OpenSSL key of an ECDSA DNSKEY's public key bytes, made once. */
static EVP_PKEY *
ecdsa_key(struct denial_cache *c, uint8_t alg, const uint8_t *key, size_t len)
{
	struct keyslot	*ks;

	if (len == 0 || len > KEY_MAX)
		return NULL;
	ks = &c->keys[hash_fnv1a(key, len) % KEY_SLOTS];
	if (ks->pk != NULL && ks->alg == alg && ks->len == len &&
	    memcmp(ks->key, key, len) == 0)
		return ks->pk;
	EVP_PKEY_free(ks->pk);
	ks->pk = ldns_ecdsa2pkey_raw(key, len, alg);
	c->key_parses++;
	if (ks->pk == NULL)
		return NULL;
	ks->alg = alg;
	ks->len = (uint8_t)len;
	memcpy(ks->key, key, len);
	return ks->pk;
}

/*
 * What ldns_verify_rrsig_keylist_notime() does for ECDSA P-256 and P-384,
 * the algorithms nearly every zone signs with now, step for step with the
 * same ldns calls (RFC 4034 3.1.8.1: RRSIG RDATA without the signature,
 * then the RRset with the original TTL, canonical and sorted), but in the
 * cache's buffers and with each key made once (ecdsa_key()). ldns
 * allocates three 64 KB buffers and builds the key again per signature
 * and key tried. *handled false: not a case for this path (another
 * algorithm, a wildcard expansion, no buffer): ask ldns.
 */
static ldns_status
verify_ecdsa(struct denial_cache *c, const ldns_rr_list *set,
    const ldns_rr *sig, const ldns_rr_list *keys, bool *handled)
{
	ldns_rr_list	*clone = NULL;
	const ldns_rdf	*f_alg, *f_labels, *f_ttl, *f_tag, *f_sig;
	ldns_status	 st = LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY;
	uint8_t		 alg, labels;
	uint32_t	 ttl;
	size_t		 i;

	*handled = false;
	if (ldns_rr_rd_count(sig) != 9 || ldns_rr_list_rr_count(set) == 0 ||
	    (f_alg = ldns_rr_rdf(sig, 1)) == NULL ||
	    (f_labels = ldns_rr_rdf(sig, 2)) == NULL ||
	    (f_ttl = ldns_rr_rdf(sig, 3)) == NULL ||
	    (f_tag = ldns_rr_rdf(sig, 6)) == NULL ||
	    (f_sig = ldns_rr_rdf(sig, 8)) == NULL ||
	    ldns_rdf_size(f_alg) != 1 || ldns_rdf_size(f_labels) != 1 ||
	    ldns_rdf_size(f_ttl) != 4 || ldns_rdf_size(f_tag) != 2)
		return st;
	alg = ldns_rdf2native_int8(f_alg);
	if (alg != LDNS_ECDSAP256SHA256 && alg != LDNS_ECDSAP384SHA384)
		return st;
	labels = ldns_rdf2native_int8(f_labels);
	/* A wildcard expansion (fewer labels than the owner's) is left to
	 * ldns, which rewrites the owner. */
	for (i = 0; i < ldns_rr_list_rr_count(set); i++)
		if (ldns_dname_label_count(ldns_rr_owner(
		    ldns_rr_list_rr(set, i))) > labels)
			return st;
	if (ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) !=
	    ldns_rr_get_type(ldns_rr_list_rr(set, 0)))
		return LDNS_STATUS_CRYPTO_TYPE_COVERED_ERR;
	if ((clone = ldns_rr_list_clone(set)) == NULL)
		return st;
	*handled = true;
	ldns_buffer_clear(c->rawsig);
	ldns_buffer_clear(c->data);
	ttl = ldns_rdf2native_int32(f_ttl);
	for (i = 0; i < ldns_rr_list_rr_count(clone); i++) {
		ldns_rr_set_ttl(ldns_rr_list_rr(clone, i), ttl);
		ldns_rr2canonical(ldns_rr_list_rr(clone, i));
	}
	ldns_rr_list_sort(clone);
	if (ldns_convert_ecdsa_rrsig_rdf2asn1(c->rawsig, f_sig) !=
	    LDNS_STATUS_OK || ldns_rrsig2buffer_wire(c->data, sig) !=
	    LDNS_STATUS_OK || ldns_rr_list2buffer_wire(c->data, clone) !=
	    LDNS_STATUS_OK) {
		ldns_rr_list_deep_free(clone);
		return LDNS_STATUS_MEM_ERR;
	}
	ldns_rr_list_deep_free(clone);
	for (i = 0; i < ldns_rr_list_rr_count(keys); i++) {
		ldns_rr		*key = ldns_rr_list_rr(keys, i);
		const ldns_rdf	*k_alg = ldns_rr_rdf(key, 2);
		const ldns_rdf	*k_pub = ldns_rr_rdf(key, 3);
		EVP_PKEY	*pk;
		ldns_status	 one;

		if (ldns_calc_keytag(key) != ldns_rdf2native_int16(f_tag))
			continue;
		if (k_alg == NULL || k_pub == NULL)
			one = LDNS_STATUS_MISSING_RDATA_FIELDS_KEY;
		else if (ldns_rdf_size(k_alg) != 1 ||
		    ldns_rdf2native_int8(k_alg) != alg)
			one = LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY;
		else if ((pk = ecdsa_key(c, alg, ldns_rdf_data(k_pub),
		    ldns_rdf_size(k_pub))) == NULL)
			one = LDNS_STATUS_CRYPTO_BOGUS;	/* as ldns says */
		else
			one = ldns_verify_rrsig_evp(c->rawsig, c->data, pk,
			    alg == LDNS_ECDSAP256SHA256 ? EVP_sha256() :
			    EVP_sha384());
		if (one == LDNS_STATUS_OK)
			return LDNS_STATUS_OK;
		if (st == LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY)
			st = one;
	}
	return st;
}

/* RRSIG inception <= now <= expiration, in serial arithmetic (RFC 4034
 * 3.1.5), as ldns_verify_rrsig_keylist_time() checks it and says why. */
static ldns_status
sig_times(const ldns_rr *sig, time_t now)
{
	int32_t	 inc, exp;

	if (ldns_rr_rrsig_inception(sig) == NULL ||
	    ldns_rr_rrsig_expiration(sig) == NULL ||
	    ldns_rdf_size(ldns_rr_rrsig_inception(sig)) != 4 ||
	    ldns_rdf_size(ldns_rr_rrsig_expiration(sig)) != 4)
		return LDNS_STATUS_MISSING_RDATA_FIELDS_RRSIG;
	inc = (int32_t)ldns_rdf2native_time_t(ldns_rr_rrsig_inception(sig));
	exp = (int32_t)ldns_rdf2native_time_t(ldns_rr_rrsig_expiration(sig));
	if (exp - inc < 0)
		return LDNS_STATUS_CRYPTO_EXPIRATION_BEFORE_INCEPTION;
	if ((int32_t)now - inc < 0)
		return LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED;
	if (exp - (int32_t)now < 0)
		return LDNS_STATUS_CRYPTO_SIG_EXPIRED;
	return LDNS_STATUS_OK;
}

/* Way w of set to the front (most recently used); key into it when
 * key is not NULL. */
static void
set_promote(struct denial_cache_entry *set, unsigned w, const uint8_t *key)
{
	struct denial_cache_entry e = set[w];

	memmove(&set[1], &set[0], w * sizeof(*set));
	if (key != NULL) {
		memcpy(e.key, key, sizeof(e.key));
		e.used = true;
	}
	set[0] = e;
}

/* ldns_verify_rrsig_keylist_time (or _notime when now is 0), remembering
 * what verified. */
static ldns_status
verify_cached(struct denial_cache *c, ldns_rr_list *set, const ldns_rr *sig,
    const ldns_rr_list *keys, time_t now)
{
	struct denial_cache_entry *e = NULL;
	uint8_t		 key[32];
	ldns_status	 st = LDNS_STATUS_ERR;
	bool		 handled = false;
	unsigned	 w = WAYS - 1;	/* where a new key goes: the LRU */

	if (c != NULL && cache_key(c, set, sig, keys, key)) {
		c->lookups++;
		e = &c->e[((key[0] | key[1] << 8 | key[2] << 16 |
		    (unsigned)key[3] << 24) & c->mask) * WAYS];
		for (w = 0; w < WAYS; w++)
			if (e[w].used && memcmp(e[w].key, key, 32) == 0)
				break;
		if (w < WAYS && (now == 0 ||
		    sig_times(sig, now) == LDNS_STATUS_OK)) {
			set_promote(e, w, NULL);
			c->hits++;
			return LDNS_STATUS_OK;
		}
		if (w == WAYS)
			w = WAYS - 1;
	}
	/* An entry says the signature verifies cryptographically, whichever
	 * way it was asked: a timed lookup checks the window on its own. */
	if (c != NULL)
		st = verify_ecdsa(c, set, sig, keys, &handled);
	if (handled)
		st = st == LDNS_STATUS_OK && now != 0 ? sig_times(sig, now) :
		    st;
	else
		st = now == 0 ?
		    ldns_verify_rrsig_keylist_notime(set, sig, keys, NULL) :
		    ldns_verify_rrsig_keylist_time(set, sig, keys, now, NULL);
	if (st == LDNS_STATUS_OK && e != NULL)
		set_promote(e, w, key);
	return st;
}

int
denial_cache_verify(struct denial_cache *c, ldns_rr_list *set,
    const ldns_rr *sig, const ldns_rr_list *keys)
{
	switch (verify_cached(c, set, sig, keys, 0)) {
	case LDNS_STATUS_OK:
		return 1;
	/* This host's ldns/OpenSSL cannot check it (an algorithm it lacks,
	 * SHA-1 signatures refused by a crypto policy): no verdict. */
	case LDNS_STATUS_CRYPTO_UNKNOWN_ALGO:
	case LDNS_STATUS_CRYPTO_ALGO_NOT_IMPL:
	case LDNS_STATUS_SSL_ERR:
		return -1;
	default:
		return 0;
	}
}

int
denial_random_name(const char *domain, char *out, size_t outlen)
{
	uint8_t		 rnd[6];
	char		 label[32];
	uint8_t		 wire[DSMATCH_NAME_MAX];
	size_t		 wlen;
	int		 n;

	/* arc4random (glibc 2.36): no seeding, never blocks. */
	arc4random_buf(rnd, sizeof(rnd));
	snprintf(label, sizeof(label), "dnssecmon-%02x%02x%02x%02x%02x%02x",
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	n = snprintf(out, outlen, "%s.%s", label, domain);
	if (n < 0 || (size_t)n >= outlen ||
	    dsmatch_name_to_wire(out, wire, sizeof(wire), &wlen, NULL, 0) == -1) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

/* The DNSKEYs servers[si] publishes, as ldns RRs owned by the domain. */
static ldns_rr_list *
server_keys(const struct probe_result *r, unsigned si)
{
	uint8_t		 owner[DSMATCH_NAME_MAX];
	uint8_t		 buf[DSMATCH_NAME_MAX + 10 + PROBE_MAX_KEYDATA];
	size_t		 olen, pos;
	ldns_rr_list	*keys;
	ldns_rr		*rr;
	unsigned	 k;

	if (dsmatch_name_to_wire(r->domain, owner, sizeof(owner), &olen,
	    NULL, 0) == -1 || (keys = ldns_rr_list_new()) == NULL)
		return NULL;
	for (k = 0; k < r->n_keys; k++) {
		const struct probe_key *key = &r->keys[k];
		size_t n = olen;

		if (!(key->servers & (1u << si)))
			continue;
		memcpy(buf, owner, olen);
		buf[n++] = 0; buf[n++] = T_DNSKEY;	/* type */
		buf[n++] = 0; buf[n++] = 1;		/* class IN */
		buf[n++] = 0; buf[n++] = 0; buf[n++] = 0x0e; buf[n++] = 0x10;
		buf[n++] = (uint8_t)(key->rdata_len >> 8);
		buf[n++] = (uint8_t)key->rdata_len;
		memcpy(buf + n, key->rdata, key->rdata_len);
		n += key->rdata_len;
		pos = 0;
		rr = NULL;
		if (ldns_wire2rr(&rr, buf, n, &pos, LDNS_SECTION_ANSWER) ==
		    LDNS_STATUS_OK && rr != NULL)
			ldns_rr_list_push_rr(keys, rr);
	}
	return keys;
}

/* Every NSEC or NSEC3 record must carry a signature that verifies: each
 * owner is an RRset of its own. Returns false with the reason in err. */
static bool
signatures_verify(struct denial_cache *cache, const ldns_rr_list *nsecs,
    const ldns_rr_list *sigs, const ldns_rr_list *keys, time_t now,
    char *err, size_t errlen)
{
	size_t		 i, j;
	bool		 ok = true;

	for (i = 0; i < ldns_rr_list_rr_count(nsecs) && ok; i++) {
		ldns_rr		*nsec = ldns_rr_list_rr(nsecs, i);
		ldns_rr_list	*set = ldns_rr_list_new();
		ldns_status	 st = LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY;
		bool		 any = false;
		char		*owner;

		if (set == NULL)
			return false;
		ldns_rr_list_push_rr(set, nsec);
		for (j = 0; j < ldns_rr_list_rr_count(sigs); j++) {
			ldns_rr *sig = ldns_rr_list_rr(sigs, j);

			if (ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) !=
			    ldns_rr_get_type(nsec) ||
			    ldns_dname_compare(ldns_rr_owner(sig),
			    ldns_rr_owner(nsec)) != 0)
				continue;
			any = true;
			st = verify_cached(cache, set, sig, keys, now);
			if (st == LDNS_STATUS_OK)
				break;
		}
		ldns_rr_list_free(set);
		if (any && st == LDNS_STATUS_OK)
			continue;
		ok = false;
		owner = ldns_rdf2str(ldns_rr_owner(nsec));
		snprintf(err, errlen, "%s at %s: %s",
		    ldns_rr_get_type(nsec) == LDNS_RR_TYPE_NSEC ? "NSEC" :
		    "NSEC3", owner ? owner : "?", any ?
		    ldns_get_errorstr_by_id(st) : "no RRSIG over it");
		free(owner);
	}
	return ok;
}

static void
nsec3_params(struct probe_nsec3 *p, const ldns_rr *nsec3)
{
	uint8_t	 len = ldns_nsec3_salt_length(nsec3);
	uint8_t	*salt = ldns_nsec3_salt_data(nsec3);

	p->seen = true;
	p->algorithm = ldns_nsec3_algorithm(nsec3);
	p->opt_out = ldns_nsec3_optout(nsec3);
	p->iterations = ldns_nsec3_iterations(nsec3);
	p->salt_len = len;
	if (salt != NULL)
		memcpy(p->salt, salt, len < PROBE_MAX_SALT ? len :
		    PROBE_MAX_SALT);
	free(salt);
}

/* An NXDOMAIN's NSEC must not be owned by the name it denies: ldns counts
 * an NSEC as covering its own owner. */
static bool
owner_present(const ldns_rr_list *nsecs, const ldns_rdf *name)
{
	size_t	 i;

	for (i = 0; i < ldns_rr_list_rr_count(nsecs); i++)
		if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(nsecs, i)),
		    name) == 0)
			return true;
	return false;
}

void
denial_check(struct denial_cache *cache, struct probe_result *r, unsigned si,
    struct probe_negative *neg,
    const uint8_t *wire, size_t len, const char *qname, uint16_t qtype,
    time_t now)
{
	struct probe_server	*s = &r->servers[si];
	ldns_pkt		*pkt = NULL;
	ldns_rr_list		*nsec = NULL, *nsec3 = NULL, *sigs = NULL;
	ldns_rr_list		*keys = NULL, *use;
	ldns_rr			*q = NULL;
	ldns_rdf		*qn = NULL;
	ldns_status		 st;
	int			 rcode;
	bool			 nodata;
	char			 why[160];

	neg->checked = false;
	neg->valid = false;
	neg->kind = PROBE_DENIAL_NONE;
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) {
		snprintf(neg->error, sizeof(neg->error), "answer not "
		    "readable by ldns");
		goto done;
	}
	rcode = ldns_pkt_get_rcode(pkt);
	neg->rcode = rcode;
	nodata = rcode == LDNS_RCODE_NOERROR && ldns_pkt_ancount(pkt) == 0;
	if (rcode != LDNS_RCODE_NXDOMAIN && !nodata) {
		/* Data (a wildcard, or the apex has the type) or an error:
		 * there is no proof to check. */
		snprintf(neg->error, sizeof(neg->error), "%s", rcode ==
		    LDNS_RCODE_NOERROR ? "answered with data (a wildcard, or "
		    "the type exists): no denial to check" : "no negative "
		    "answer (error rcode)");
		goto done;
	}
	nsec = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_NSEC,
	    LDNS_SECTION_AUTHORITY);
	nsec3 = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_NSEC3,
	    LDNS_SECTION_AUTHORITY);
	sigs = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_RRSIG,
	    LDNS_SECTION_AUTHORITY);
	if (sigs == NULL)
		sigs = ldns_rr_list_new();
	if ((keys = server_keys(r, si)) == NULL || sigs == NULL) {
		snprintf(neg->error, sizeof(neg->error), "out of memory");
		goto done;
	}
	/* The algorithms signing the NSEC/NSEC3 records, for the algorithm
	 * rollover stages (the keys may not be published yet). */
	for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); i++) {
		const ldns_rr	*sig = ldns_rr_list_rr(sigs, i);
		ldns_rr_type	 cov = ldns_rdf2rr_type(
		    ldns_rr_rrsig_typecovered(sig));
		const ldns_rdf	*a = ldns_rr_rrsig_algorithm(sig);
		uint8_t		 alg = a != NULL ? ldns_rdf2native_int8(a) : 255;

		if ((cov == LDNS_RR_TYPE_NSEC || cov == LDNS_RR_TYPE_NSEC3) &&
		    alg < 32)
			s->sig_algs_nsec |= 1u << alg;
	}
	if (ldns_rr_list_rr_count(keys) == 0) {
		snprintf(neg->error, sizeof(neg->error), "the server "
		    "publishes no DNSKEY: nothing to prove");
		goto done;
	}
	neg->checked = true;
	if (nsec3 != NULL && ldns_rr_list_rr_count(nsec3) > 0) {
		neg->kind = PROBE_DENIAL_NSEC3;
		use = nsec3;
		nsec3_params(&s->nsec3, ldns_rr_list_rr(nsec3, 0));
	} else if (nsec != NULL && ldns_rr_list_rr_count(nsec) > 0) {
		neg->kind = PROBE_DENIAL_NSEC;
		use = nsec;
	} else {
		neg->kind = PROBE_DENIAL_MISSING;
		snprintf(neg->error, sizeof(neg->error), "%s without any "
		    "NSEC or NSEC3 record: validators cannot accept it",
		    nodata ? "NODATA" : "NXDOMAIN");
		goto done;
	}
	if (ldns_rr_list_rr_count(use) > DENIAL_MAX_RECORDS) {
		neg->checked = false;
		snprintf(neg->error, sizeof(neg->error), "%zu %s records in "
		    "one answer, more than the %u a check judges",
		    ldns_rr_list_rr_count(use), neg->kind ==
		    PROBE_DENIAL_NSEC3 ? "NSEC3" : "NSEC", DENIAL_MAX_RECORDS);
		goto done;
	}
	if (!signatures_verify(cache, use, sigs, keys, now, why,
	    sizeof(why))) {
		snprintf(neg->error, sizeof(neg->error), "signature over %s",
		    why);
		goto done;
	}
	if ((qn = ldns_dname_new_frm_str(qname)) == NULL ||
	    (q = ldns_rr_new()) == NULL) {
		snprintf(neg->error, sizeof(neg->error), "cannot represent "
		    "the question %s", qname);
		goto done;
	}
	ldns_rr_set_owner(q, qn);
	qn = NULL;
	ldns_rr_set_type(q, (ldns_rr_type)qtype);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(q, true);
	if (neg->kind == PROBE_DENIAL_NSEC3) {
		if (s->nsec3.iterations > DENIAL_MAX_HASH_ITERATIONS) {
			/* Not bogus to a validator (insecure): no verdict
			 * here; nsec3_iterations says what it is. */
			neg->checked = false;
			snprintf(neg->error, sizeof(neg->error), "NSEC3 with "
			    "%u iterations, over %u: not hashed (validators "
			    "treat it as insecure from 151 on)",
			    s->nsec3.iterations, DENIAL_MAX_HASH_ITERATIONS);
			goto done;
		}
		st = ldns_dnssec_verify_denial_nsec3(q, use, sigs,
		    (ldns_pkt_rcode)rcode, (ldns_rr_type)qtype, nodata);
	} else {
		st = ldns_dnssec_verify_denial(q, use, sigs);
		if (st == LDNS_STATUS_OK && !nodata &&
		    owner_present(use, ldns_rr_owner(q)))
			st = LDNS_STATUS_DNSSEC_NSEC_RR_NOT_COVERED;
	}
	if (st != LDNS_STATUS_OK) {
		snprintf(neg->error, sizeof(neg->error), "the %s records do "
		    "not prove it: %s", neg->kind == PROBE_DENIAL_NSEC3 ?
		    "NSEC3" : "NSEC", ldns_get_errorstr_by_id(st));
		goto done;
	}
	neg->valid = true;
	neg->error[0] = '\0';
done:
	if (q != NULL)
		ldns_rr_free(q);
	ldns_rdf_deep_free(qn);
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(sigs);
	ldns_rr_list_deep_free(nsec);
	ldns_rr_list_deep_free(nsec3);
	if (pkt != NULL)
		ldns_pkt_free(pkt);
}
