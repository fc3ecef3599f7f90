/*
 * The signatures a registry checks before it applies CDS/CDNSKEY (RFC
 * 7344 4.1, RFC 8078 3), verified per server with ldns. Internal to the
 * probe module.
 */
#ifndef DNSSECMON_PROBE_SIGCHECK_H
#define DNSSECMON_PROBE_SIGCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "probe/denial.h"
#include "probe/probe.h"

/*
 * RRSIGs verified per RRset: a zone signs its DNSKEY RRset with one or two
 * keys per algorithm (four in a multi-signer algorithm rollover); past
 * this, the rest are not verified, so a hostile server cannot make us
 * spend more than this many verifications (about 0.3 ms each) per RRset.
 */
#define SIGCHECK_MAX_VERIFY	8

/*
 * From servers[si]'s raw DNSKEY, CDS and CDNSKEY answers (NULL/0: none),
 * fill r->keys[].verifies_dnskey bit si and servers[si].cds_verified_by,
 * .cdnskey_verified_by, and set .sigs_verified when the DNSKEY answer was
 * read. Keys are matched to r->keys by their RDATA, so answer_dnskey()
 * must have run. Never reads outside a wire; never fails on what the
 * network sent (what cannot be read stays unverified).
 */
void	sigcheck_server(struct denial_cache *cache, struct probe_result *r,
	    unsigned si, const uint8_t *dnskey, size_t dnskey_len,
	    const uint8_t *cds, size_t cds_len, const uint8_t *cdnskey,
	    size_t cdnskey_len);

#endif
