/*
 * libFuzzer target: any bytes as one message of a catalog zone's
 * transfer (RFC 9432), parsed by ldns as ldns_axfr_next does, each
 * answer record through the catalog parser (cli/catalog.c) with a small
 * max_members, so that the bound and the heap are exercised too. Seeds in
 * corpus_catalog/ are catalog.invalid transfers like the testbed's.
 */
#include <stdint.h>
#include <stdlib.h>

#include <ldns/ldns.h>

#include "cli/catalog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog_parse	*cp;
	struct catalog_members	 m;
	ldns_pkt		*pkt = NULL;
	ldns_rr_list		*an;
	char			 err[256];
	size_t			 i;

	if (ldns_wire2pkt(&pkt, data, size) != LDNS_STATUS_OK)
		return 0;
	if ((cp = catalog_parse_create("catalog.invalid", 3)) != NULL) {
		an = ldns_pkt_answer(pkt);
		for (i = 0; i < ldns_rr_list_rr_count(an); i++)
			catalog_parse_rr(cp, ldns_rr_list_rr(an, i));
		if (catalog_parse_finish(cp, &m, err, sizeof(err)) == 0)
			catalog_members_finish(&m);
		catalog_parse_destroy(cp);
	}
	ldns_pkt_free(pkt);
	return 0;
}
