/*
 * Checking one server's proof of non-existence (RFC 4035 5.4, RFC 5155 8)
 * with ldns: which NSEC or NSEC3 records came back, whether they cover
 * the question, and whether their RRSIGs verify against the DNSKEYs that
 * server publishes. Internal to the probe module.
 */
#ifndef DNSSECMON_PROBE_DENIAL_H
#define DNSSECMON_PROBE_DENIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ldns/ldns.h>

#include "probe/probe.h"

/*
 * The NSEC3 iteration count above which we do not hash at all: validators
 * in use stop at 150 (BIND, unbound, PowerDNS Recursor) and treat the
 * proof as insecure, so past 500 there is nothing left to learn, and a
 * hostile zone cannot make us spend more.
 */
#define DENIAL_MAX_HASH_ITERATIONS	500
/*
 * NSEC/NSEC3 records judged in one answer. A proof needs at most three
 * (RFC 5155 7.2.2: closest encloser, next closer, wildcard); past this
 * the answer is not judged rather than hashed and verified record by
 * record.
 */
#define DENIAL_MAX_RECORDS		16

/*
 * Signatures that verified, remembered: the RRSIG over an NSEC/NSEC3
 * record does not change until the zone is re-signed, but verifying it
 * costs about 0.3 ms (ECDSA P-256 through ldns and OpenSSL 3), more than
 * the rest of a domain's check. A verified (record, RRSIG, key set) is
 * trusted again while the RRSIG's validity window holds. Fixed size,
 * 4-way set-associative with LRU (entries rounded up to a power of two,
 * at least 4): a miss only costs the verification. Caller destroys.
 */
struct denial_cache;
struct denial_cache *denial_cache_create(unsigned entries);
void	denial_cache_destroy(struct denial_cache *);	/* accepts NULL */
/* Lookups and hits since creation. */
void	denial_cache_stats(const struct denial_cache *, unsigned long long *,
	    unsigned long long *);
/* How many ECDSA public keys the cache built (each DNSKEY once while it
 * stays in the cache's key slots). */
unsigned long long denial_cache_key_parses(const struct denial_cache *);

/*
 * Does sig verify over set with one of keys, whatever its validity window
 * (expiry is judged elsewhere)? 1 yes, 0 no, -1 this host cannot tell (an
 * algorithm its ldns/OpenSSL lacks or refuses). Through the cache: the
 * same RRset, RRSIG and keys served by every server cost one verification.
 */
int	denial_cache_verify(struct denial_cache *, ldns_rr_list *set,
	    const ldns_rr *sig, const ldns_rr_list *keys);

/*
 * Judge the raw answer wire[0..len) to (qname, qtype) from r->servers[si]
 * into *neg, and the server's NSEC3 parameters into r->servers[si].nsec3.
 * Signatures are checked at `now` against every key of r->keys that
 * server publishes. A zone the server serves no DNSKEY for is not judged
 * (unsigned). Never reads outside the wire; never fails on what the
 * network sent (the reason goes to neg->error).
 */
void	denial_check(struct denial_cache *cache, struct probe_result *r,
	    unsigned si,
	    struct probe_negative *neg, const uint8_t *wire, size_t len,
	    const char *qname, uint16_t qtype, time_t now);

/*
 * A fresh random label for this check, "dnssecmon-" and 12 hex digits,
 * prepended to domain into out. Returns -1 when the name would not fit
 * in a domain name (then no denial is asked for that domain).
 */
int	denial_random_name(const char *domain, char *out, size_t outlen);

#endif
