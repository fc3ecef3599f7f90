/*
 * libFuzzer target: any bytes as one server's DNSKEY, CDS and CDNSKEY
 * answers about "cdsbadsig.lab", through sigcheck_server() (ldns parses
 * them and verifies the RRSIGs a registry checks). The input is three
 * parts, each a 2-octet length and that many octets. The DNSKEYs of the
 * first part, as ldns reads them, are the result's keys, so that the
 * verification paths run. Whatever a server sends, the outcome is a value
 * and the masks name only keys that exist.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "probe/sigcheck.h"

static struct probe_result	 r;
static struct denial_cache	*cache;	/* shared across inputs, as in the
					   engine */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The next length-prefixed part; NULL/0 when the input has no more. */
static const uint8_t *
part(const uint8_t **data, size_t *size, size_t *len)
{
	const uint8_t	*p;

	if (*size < 2)
		return *len = 0, NULL;
	*len = (size_t)((*data)[0] << 8 | (*data)[1]);
	if (*len > *size - 2)
		*len = *size - 2;
	p = *data + 2;
	*data += 2 + *len;
	*size -= 2 + *len;
	return *len > 0 ? p : NULL;
}

/* The DNSKEYs of the answer as the engine would have kept them. */
static void
keys_from(const uint8_t *wire, size_t len)
{
	ldns_pkt	*pkt = NULL;
	ldns_rr_list	*ans;
	ldns_buffer	*b;
	size_t		 i;

	if (wire == NULL || ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return;
	ans = ldns_pkt_answer(pkt);
	if ((b = ldns_buffer_new(PROBE_MAX_KEYDATA + 64)) == NULL) {
		ldns_pkt_free(pkt);
		return;
	}
	for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans) &&
	    r.n_keys < PROBE_MAX_KEYS; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ans, i);
		struct probe_key *k = &r.keys[r.n_keys];

		ldns_buffer_clear(b);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY ||
		    ldns_rr_rdata2buffer_wire(b, rr) != LDNS_STATUS_OK ||
		    ldns_buffer_position(b) < 4 ||
		    ldns_buffer_position(b) > PROBE_MAX_KEYDATA)
			continue;
		memset(k, 0, sizeof(*k));
		k->rdata_len = (uint16_t)ldns_buffer_position(b);
		memcpy(k->rdata, ldns_buffer_begin(b), k->rdata_len);
		k->algorithm = k->rdata[3];
		k->servers = 1;
		r.n_keys++;
	}
	ldns_buffer_free(b);
	ldns_pkt_free(pkt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*w[3];
	size_t		 len[3];
	unsigned	 i;

	if (cache == NULL && (cache = denial_cache_create(64)) == NULL)
		abort();
	memset(&r, 0, sizeof(r));
	strcpy(r.domain, "cdsbadsig.lab");
	r.n_servers = 1;
	for (i = 0; i < 3; i++)
		w[i] = part(&data, &size, &len[i]);
	keys_from(w[0], len[0]);
	sigcheck_server(cache, &r, 0, w[0], len[0], w[1], len[1], w[2],
	    len[2]);
	/* Only keys that exist, only the one server. */
	if (r.n_keys < 32 && ((r.servers[0].cds_verified_by |
	    r.servers[0].cdnskey_verified_by) >> r.n_keys) != 0)
		abort();
	for (i = 0; i < r.n_keys; i++)
		if (r.keys[i].verifies_dnskey & ~1u)
			abort();
	if (!r.servers[0].sigs_verified && (r.servers[0].cds_verified_by ||
	    r.servers[0].cdnskey_verified_by))
		abort();
	return 0;
}
