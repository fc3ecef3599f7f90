/*
 * libFuzzer target: any bytes as the answer to one of the probe's
 * questions about "healthy.lab", through the same acceptance and parse
 * step the transport applies (transport_view_reply), then through the
 * code that copies records into an observation (probe/answer.c) and the
 * classifier. Seeds in corpus_answer/ are real testbed answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/answer.h"
#include "probe/probe.h"
#include "probe/transport.h"

static struct probe_result	 r;
static struct transport_rr	 rrs[TRANSPORT_MAX_RRS];

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t	 types[] = { 2, 43, 48, 6, 59, 60 };
	struct referral		*ref;
	struct probe_policy	 pol;
	struct transport_msg	 view, *msg = &view;
	char			 err[128];
	size_t			 i;
	uint16_t		 id;

	if (size < 2)
		return 0;
	id = (uint16_t)(data[0] << 8 | data[1]);
	for (i = 0; i < sizeof(types) / sizeof(*types); i++) {
		if (transport_view_reply(data, size, "healthy.lab", types[i],
		    id, 0, &view, rrs, err, sizeof(err)) != TRANSPORT_REPLY_OK)
			continue;
		memset(&r, 0, sizeof(r));
		strcpy(r.domain, "healthy.lab");
		strcpy(r.parent, "lab");
		r.n_servers = 1;
		r.servers[0].status = PROBE_Q_OK;
		r.parent_status = PROBE_Q_OK;
		r.delegated = true;
		switch (types[i]) {
		case 2:
		case 43:
			if ((ref = malloc(sizeof(*ref))) != NULL) {
				answer_referral(msg, "healthy.lab", ref);
				if (ref->kind != REF_OTHER && ref->n_ns > REF_MAX_NS)
					abort();
				r.n_ds = ref->n_ds;
				memcpy(r.ds, ref->ds, sizeof(r.ds));
				free(ref);
			}
			break;
		case 48:
			answer_dnskey(&r, 0, msg, 1800000000);
			break;
		case 6:
			answer_soa(&r, 0, msg, 1800000000);
			break;
		case 59:
			answer_cds(&r, 0, msg);
			break;
		case 60:
			answer_cdnskey(&r, 0, msg);
			break;
		}
		if (r.n_keys > PROBE_MAX_KEYS || r.n_ds > PROBE_MAX_DS ||
		    r.n_cds > PROBE_MAX_DS)
			abort();
		probe_policy_defaults(&pol);
		probe_classify(&r, &pol, 1800000000);
	}
	return 0;
}
