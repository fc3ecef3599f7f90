/*
 * libFuzzer target: any bytes as a server's negative answer about
 * "healthy.lab", judged by denial_check() (ldns parses it, checks NSEC/
 * NSEC3 coverage and verifies RRSIGs) against one published ECDSA key.
 * Whatever a server sends, the verdict is a value, never a crash, and
 * the bounded fields stay bounded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/denial.h"
#include "probe/probe.h"

static struct probe_result	 r;
static struct denial_cache	*cache;	/* shared across inputs, as in the
					   engine: a hit must never turn a
					   bad signature good */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_key	*k;
	unsigned		 q;

	if (cache == NULL && (cache = denial_cache_create(64)) == NULL)
		abort();
	for (q = 0; q < 2; q++) {
		memset(&r, 0, sizeof(r));
		strcpy(r.domain, "healthy.lab");
		r.n_servers = 1;
		r.n_keys = 1;
		k = &r.keys[0];
		k->flags = 256;
		k->protocol = 3;
		k->algorithm = 13;
		k->rdata_len = 68;
		k->rdata[0] = 1;		/* flags 256 */
		k->rdata[2] = 3;
		k->rdata[3] = 13;
		memset(k->rdata + 4, 0x5a, 64);
		k->servers = 1;
		denial_check(cache, &r, 0, q ? &r.servers[0].nodata :
		    &r.servers[0].nxdomain, data, size, q ? "healthy.lab" :
		    "dnssecmon-0123456789ab.healthy.lab", q ? 10 : 1,
		    1800000000);
		if (r.servers[0].nsec3.salt_len > 0 &&
		    r.servers[0].nsec3.salt_len < PROBE_MAX_SALT &&
		    r.servers[0].nsec3.salt[PROBE_MAX_SALT - 1] != 0)
			abort();	/* salt copied past its length */
	}
	return 0;
}
