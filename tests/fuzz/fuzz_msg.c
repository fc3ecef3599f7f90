/*
 * libFuzzer target for the transport's reply path: the input is taken as
 * the answer to a fixed question and goes through transport_parse_reply(),
 * the acceptance + well-formedness + getdns_wire2msg_dict() step the
 * transport applies to every UDP and TCP answer.
 *
 * Input: byte 0 picks the question from the table below (so real answers
 * captured from tests/hostile/hostile_dns.py make useful seeds), the rest
 * is the DNS message; the expected ID is always 0xBEEF.
 *
 * The same bytes are also handed to getdns_wire2msg_dict() directly,
 * without our checks in front, to show that getdns' plain parser (unlike
 * its validator, see NOTES.md) neither hangs nor crashes on them:
 * run with -timeout=2 to catch a spin.
 *
 * Build and run (outputs under build/fuzz/ only):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -I. \
 *     -D_GNU_SOURCE tests/fuzz/fuzz_msg.c probe/transport.c common/log.c \
 *     $(pkg-config --cflags --libs getdns libevent jansson) \
 *     -o build/fuzz/fuzz_msg
 *   mkdir -p build/fuzz/corpus && build/fuzz/fuzz_msg -timeout=2 \
 *     -max_total_time=60 -artifact_prefix=build/fuzz/ build/fuzz/corpus \
 *     tests/fuzz/corpus_msg
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getdns/getdns_extra.h>

#include "probe/transport.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_ID		0xBEEF
#define GETDNS_SLACK	256	/* as PARSE_PAD in probe/transport.c */

static const struct {
	const char	*qname;
	uint16_t	 qtype;
} questions[] = {
	{ "ok.", GETDNS_RRTYPE_A },
	{ "tc.", GETDNS_RRTYPE_A },
	{ "big.", GETDNS_RRTYPE_TXT },
	{ "fwdptr.", GETDNS_RRTYPE_A },
	{ "fwdptrin.", GETDNS_RRTYPE_A },
	{ "ptrloop.", GETDNS_RRTYPE_A },
	{ "longname.", GETDNS_RRTYPE_A },
	{ "trunc.", GETDNS_RRTYPE_A },
	{ "signed.", GETDNS_RRTYPE_DNSKEY },
	{ "nxdomain.", GETDNS_RRTYPE_A },
	{ "wrongq.", GETDNS_RRTYPE_A },
	{ "qd0.", GETDNS_RRTYPE_A },
	{ "refused.", GETDNS_RRTYPE_A },
	{ "mixcase.", GETDNS_RRTYPE_A },
	{ "example.com.", GETDNS_RRTYPE_DS },
	{ "flags.", GETDNS_RRTYPE_TXT },
};

#define NQUESTIONS	(sizeof(questions) / sizeof(questions[0]))

/* What a consumer does with an accepted answer: read every field. */
static void
consume(const getdns_dict *msg)
{
	char		*s;
	uint32_t	 v;

	if (getdns_dict_get_int(msg, "/header/id", &v) != GETDNS_RETURN_GOOD
	    || v != FUZZ_ID)
		abort();	/* accepted an answer with another ID */
	if (getdns_dict_get_int(msg, "/header/qdcount", &v) !=
	    GETDNS_RETURN_GOOD || v != 1)
		abort();
	if ((s = getdns_print_json_dict(msg, 0)) != NULL)
		free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	getdns_dict	*d = NULL;
	char		 err[160];
	size_t		 i;

	if (size < 1)
		return 0;
	i = data[0] % NQUESTIONS;
	data++;
	size--;

	/*
	 * getdns alone. On the exact buffer it reads past the end of an
	 * IPSECKEY with a compressed gateway name (first seed run); like the
	 * transport we give it zeroed slack, so that known over-read stays
	 * inside the copy while ASan still sees any longer one. Build with
	 * -DFUZZ_GETDNS_EXACT to reproduce the over-read.
	 */
#ifdef FUZZ_GETDNS_EXACT
	if (getdns_wire2msg_dict(data, size, &d) == GETDNS_RETURN_GOOD)
		getdns_dict_destroy(d);
#else
	{
		uint8_t	*copy = malloc(size + GETDNS_SLACK);

		if (copy == NULL)
			return 0;
		memcpy(copy, data, size);
		memset(copy + size, 0, GETDNS_SLACK);
		if (getdns_wire2msg_dict(copy, size, &d) == GETDNS_RETURN_GOOD)
			getdns_dict_destroy(d);
		free(copy);
	}
#endif
	d = NULL;

	/* the transport's path, TCP flavour (TC does not stop the parse) */
	if (transport_parse_reply(data, size, questions[i].qname,
	    questions[i].qtype, FUZZ_ID, 0, &d, err, sizeof(err)) ==
	    TRANSPORT_REPLY_OK) {
		if (d == NULL)
			abort();
		consume(d);
		getdns_dict_destroy(d);
	} else if (d != NULL)
		abort();
	d = NULL;

	/* UDP flavour: TC=1 stops before the body */
	if (transport_parse_reply(data, size, questions[i].qname,
	    questions[i].qtype, FUZZ_ID, TRANSPORT_PARSE_UDP, &d, err,
	    sizeof(err)) == TRANSPORT_REPLY_OK) {
		consume(d);
		getdns_dict_destroy(d);
	}
	return 0;
}
