/*
 * The signature verification behind the denial proofs and the CDS checks
 * (probe/denial.c): its own ECDSA path, with each key made once, must say
 * exactly what ldns_verify_rrsig_keylist_notime() says, for what verifies
 * and for what does not; other algorithms and wildcard expansions go to
 * ldns itself. Keys and signatures are made here with ldns, fresh per run.
 */
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "probe/denial.h"
#include "tap.h"

static ldns_rr *
rr(const char *text)
{
	ldns_rr	*r = NULL;

	if (ldns_rr_new_frm_str(&r, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		abort();
	return r;
}

static ldns_key *
key_new(ldns_signing_algorithm alg, uint16_t bits)
{
	ldns_key	*k = ldns_key_new_frm_algorithm(alg, bits);
	ldns_rdf	*owner = ldns_dname_new_frm_str("example.test.");

	if (k == NULL || owner == NULL)
		abort();
	ldns_key_set_pubkey_owner(k, owner);
	ldns_key_set_flags(k, 257);
	ldns_key_set_inception(k, 1700000000u);
	ldns_key_set_expiration(k, 2000000000u);
	{
		ldns_rr *pub = ldns_key2rr(k);

		ldns_key_set_keytag(k, ldns_calc_keytag(pub));
		ldns_rr_free(pub);
	}
	return k;
}

/* The RRSIG of key over set. */
static ldns_rr *
sign(ldns_rr_list *set, ldns_key *k)
{
	ldns_key_list	*kl = ldns_key_list_new();
	ldns_rr_list	*sigs;
	ldns_rr		*sig;

	ldns_key_list_push_key(kl, k);
	if ((sigs = ldns_sign_public(set, kl)) == NULL ||
	    ldns_rr_list_rr_count(sigs) != 1)
		abort();
	sig = ldns_rr_list_pop_rr(sigs);
	ldns_rr_list_free(sigs);
	/* The key stays ours: ldns_key_list_free() frees the keys it holds
	 * (and after ldns_key_list_pop_key() of the last one, its array
	 * twice). */
	ldns_key_list_set_key_count(kl, 0);
	ldns_key_list_free(kl);
	return sig;
}

static ldns_rr_list *
set_of(const char *a, const char *b)
{
	ldns_rr_list	*l = ldns_rr_list_new();

	ldns_rr_list_push_rr(l, rr(a));
	if (b != NULL)
		ldns_rr_list_push_rr(l, rr(b));
	return l;
}

static ldns_rr_list *
keys_of(ldns_key *k1, ldns_key *k2)
{
	ldns_rr_list	*l = ldns_rr_list_new();

	ldns_rr_list_push_rr(l, ldns_key2rr(k1));
	if (k2 != NULL)
		ldns_rr_list_push_rr(l, ldns_key2rr(k2));
	return l;
}

/* Ours and ldns's verdict on one case must agree; returns ours. */
static int
both(struct denial_cache *c, ldns_rr_list *set, ldns_rr *sig,
    ldns_rr_list *keys, int want, const char *what)
{
	int		 got = denial_cache_verify(c, set, sig, keys);
	ldns_status	 ref = ldns_verify_rrsig_keylist_notime(set, sig, keys,
			    NULL);

	is_int(got, want, "%s: %s", what, want == 1 ? "verifies" :
	    "does not verify");
	is_int(got == 1, ref == LDNS_STATUS_OK, "%s: the same as ldns (%s)",
	    what, ldns_get_errorstr_by_id(ref));
	return got;
}

int
main(void)
{
	struct denial_cache *c = denial_cache_create(1024);
	ldns_key	*p256 = key_new(LDNS_SIGN_ECDSAP256SHA256, 256);
	ldns_key	*p256b = key_new(LDNS_SIGN_ECDSAP256SHA256, 256);
	ldns_key	*p384 = key_new(LDNS_SIGN_ECDSAP384SHA384, 384);
	ldns_key	*rsa = key_new(LDNS_SIGN_RSASHA256, 2048);
	ldns_rr_list	*keys = keys_of(p256, p384);
	ldns_rr_list	*other = keys_of(p256b, NULL);
	ldns_rr_list	*set, *set2, *rev, *bad, *wild, *expanded;
	ldns_rr		*sig, *sig2, *sig384, *wsig;
	unsigned long long lookups, hits, parses;

	ok(c != NULL, "cache created");

	/* One RRset, signed by the P-256 key; owner in mixed case and a
	 * TTL below the original: both canonicalised before verifying. */
	set = set_of("www.example.test. 3600 IN A 192.0.2.1",
	    "www.example.test. 3600 IN A 192.0.2.2");
	sig = sign(set, p256);
	both(c, set, sig, keys, 1, "P-256 over two A records");
	is_int((int)denial_cache_key_parses(c), 1, "the P-256 key made once");

	rev = set_of("WWW.Example.TEST. 300 IN A 192.0.2.2",
	    "www.example.test. 300 IN A 192.0.2.1");
	both(c, rev, sig, keys, 1,
	    "the same records reversed, in upper case, TTL 300");

	bad = set_of("www.example.test. 3600 IN A 192.0.2.1",
	    "www.example.test. 3600 IN A 192.0.2.3");
	both(c, bad, sig, keys, 0, "one address changed");
	both(c, set, sig, other, 0, "another P-256 key, not the signer");

	/* A second RRset by the same key: no new key object. */
	set2 = set_of("mail.example.test. 3600 IN TXT \"v=spf1 -all\"", NULL);
	sig2 = sign(set2, p256);
	both(c, set2, sig2, keys, 1, "P-256 over a TXT record");
	is_int((int)denial_cache_key_parses(c), 1,
	    "the P-256 key reused for the second RRset");

	sig384 = sign(set, p384);
	both(c, set, sig384, keys, 1, "P-384 over the A records");
	both(c, bad, sig384, keys, 0, "P-384, one address changed");
	parses = denial_cache_key_parses(c);
	is_int((int)parses, 2, "the P-384 key made once");

	/* Other algorithms go to ldns, as before. */
	{
		ldns_rr		*rsig = sign(set, rsa);
		ldns_rr_list	*rkeys = keys_of(rsa, NULL);

		both(c, set, rsig, rkeys, 1, "RSA/SHA-256 (through ldns)");
		both(c, bad, rsig, rkeys, 0,
		    "RSA/SHA-256, one address changed");
		is_int((int)denial_cache_key_parses(c), (int)parses,
		    "no ECDSA key made for RSA");
		ldns_rr_free(rsig);
		ldns_rr_list_deep_free(rkeys);
	}

	/* A wildcard expansion (the RRSIG's labels fewer than the owner's)
	 * is left to ldns, which rewrites the owner. */
	wild = set_of("*.example.test. 3600 IN A 192.0.2.9", NULL);
	wsig = sign(wild, p256);
	expanded = set_of("host.example.test. 3600 IN A 192.0.2.9", NULL);
	both(c, expanded, wsig, keys, 1, "a wildcard's expansion");

	/* The cache: the same question again is a hit. */
	denial_cache_stats(c, &lookups, &hits);
	both(c, set, sig, keys, 1, "P-256 again");
	{
		unsigned long long l2, h2;

		denial_cache_stats(c, &l2, &h2);
		is_int((int)(h2 - hits), 1, "asked again: from the cache");
		is_int((int)(l2 - lookups), 1, "one lookup");
	}

	/* The sets: a cache of 4 entries is one set of 4 ways. Four signed
	 * RRsets all stay; a fifth evicts the least recently used. */
	{
		struct denial_cache *c4 = denial_cache_create(4);
		ldns_rr_list	*s5[5];
		ldns_rr		*g5[5];
		unsigned long long l0, h0, l1, h1;
		char		 text[80];
		int		 i, ok4 = 0;

		for (i = 0; i < 5; i++) {
			snprintf(text, sizeof(text), "n%d.example.test. 3600 "
			    "IN A 192.0.2.%d", i, 20 + i);
			s5[i] = set_of(text, NULL);
			g5[i] = sign(s5[i], p256);
		}
		for (i = 0; i < 4; i++)
			ok4 += denial_cache_verify(c4, s5[i], g5[i], keys) == 1;
		is_int(ok4, 4, "sets: four signatures verify");
		denial_cache_stats(c4, &l0, &h0);
		is_int((int)h0, 0, "sets: ... each verified (no hit)");
		for (i = 0; i < 4; i++)
			denial_cache_verify(c4, s5[i], g5[i], keys);
		denial_cache_stats(c4, &l1, &h1);
		is_int((int)(h1 - h0), 4, "sets: all four asked again come "
		    "from the one set of 4 ways");
		/* Order now n3 n2 n1 n0: the fifth takes n0's place. */
		is_int(denial_cache_verify(c4, s5[4], g5[4], keys), 1,
		    "sets: a fifth verifies");
		denial_cache_stats(c4, &l0, &h0);
		for (i = 1; i < 5; i++)
			denial_cache_verify(c4, s5[i], g5[i], keys);
		denial_cache_stats(c4, &l1, &h1);
		is_int((int)(h1 - h0), 4, "sets: the four most recently used "
		    "are kept");
		denial_cache_verify(c4, s5[0], g5[0], keys);
		denial_cache_stats(c4, &l0, &h0);
		is_int((int)(h0 - h1), 0, "sets: the least recently used one "
		    "went");
		for (i = 0; i < 5; i++) {
			ldns_rr_free(g5[i]);
			ldns_rr_list_deep_free(s5[i]);
		}
		denial_cache_destroy(c4);
	}

	ldns_rr_free(sig);
	ldns_rr_free(sig2);
	ldns_rr_free(sig384);
	ldns_rr_free(wsig);
	ldns_rr_list_deep_free(set);
	ldns_rr_list_deep_free(set2);
	ldns_rr_list_deep_free(rev);
	ldns_rr_list_deep_free(bad);
	ldns_rr_list_deep_free(wild);
	ldns_rr_list_deep_free(expanded);
	ldns_rr_list_deep_free(keys);
	ldns_rr_list_deep_free(other);
	ldns_key_deep_free(p256);
	ldns_key_deep_free(p256b);
	ldns_key_deep_free(p384);
	ldns_key_deep_free(rsa);
	denial_cache_destroy(c);
	return tap_done();
}
