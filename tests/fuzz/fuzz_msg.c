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
 * Built as below, transport.c is exactly the production code: getdns
 * parses a copy with 64 KiB of zeros behind it, and the run must stay
 * clean with -timeout=2 (getdns' validator spins on some of
 * these messages; its plain parser must not). Add -DPARSE_PAD=0 to give
 * getdns an exact copy instead, so ASan reports wherever it reads past a
 * message we let through (how the rdata_walk() checks were found), and
 * -DFUZZ_GETDNS_RAW to also feed getdns every input unchecked.
 *
 * Build and run (outputs under build/fuzz/ only):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -I. \
 *     -D_GNU_SOURCE tests/fuzz/fuzz_msg.c probe/transport.c common/log.c \
 *     $(pkg-config --cflags --libs getdns libevent jansson) \
 *     -o build/fuzz/fuzz_msg
 *   mkdir -p build/fuzz/corpus_msg && build/fuzz/fuzz_msg -timeout=2 \
 *     -max_total_time=60 -artifact_prefix=build/fuzz/ build/fuzz/corpus_msg \
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

/*
 * getdns is not instrumented, so libFuzzer cannot see which of its rdata
 * parsers an input reached. One branch per (section, RR type) here gives
 * it that feedback, so inputs with new types in new places are kept.
 */
static volatile unsigned sink;

#define C4(n)	case (n): sink += (n); break; case (n) + 1: sink += (n) + 1; \
		break; case (n) + 2: sink += (n) + 2; break; \
		case (n) + 3: sink += (n) + 3; break;
#define C16(n)	C4(n) C4((n) + 4) C4((n) + 8) C4((n) + 12)

static void
feedback(unsigned section, uint32_t type)
{
	switch (section * 1000 + (type < 64 ? type : type < 112 ? type :
	    type >= 249 && type <= 264 ? type : 999)) {
	C16(0) C16(16) C16(32) C16(48) C16(96) C16(249)
	C16(1000) C16(1016) C16(1032) C16(1048) C16(1096) C16(1249)
	C16(2000) C16(2016) C16(2032) C16(2048) C16(2096) C16(2249)
	default:
		sink++;
		break;
	}
}

/* What a consumer does with an accepted answer: read every field. */
static void
consume(const getdns_dict *msg)
{
	static const char *const sections[] = { "answer", "authority",
	    "additional" };
	char		*s;
	uint32_t	 v;
	size_t		 i, j, n;

	if (getdns_dict_get_int(msg, "/header/id", &v) != GETDNS_RETURN_GOOD
	    || v != FUZZ_ID)
		abort();	/* accepted an answer with another ID */
	if (getdns_dict_get_int(msg, "/header/qdcount", &v) !=
	    GETDNS_RETURN_GOOD || v != 1)
		abort();
	for (i = 0; i < 3; i++) {
		getdns_list	*l = NULL;

		if (getdns_dict_get_list(msg, sections[i], &l) ||
		    getdns_list_get_length(l, &n))
			abort();	/* every section is there */
		for (j = 0; j < n; j++) {
			getdns_dict	*rr = NULL;

			if (getdns_list_get_dict(l, j, &rr) == 0 &&
			    getdns_dict_get_int(rr, "type", &v) == 0)
				feedback((unsigned)i, v);
		}
	}
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

#ifdef FUZZ_GETDNS_RAW
	/*
	 * getdns alone, on the exact buffer, without our checks. Not in the
	 * default build: getdns 1.6.0 over-reads on a compressed IPSECKEY
	 * gateway (corpus 16-ipseckey-ptr) and on an EDNS option longer than
	 * its OPT RR (17-opt-optlen); the transport refuses both first.
	 */
	if (getdns_wire2msg_dict(data, size, &d) == GETDNS_RETURN_GOOD)
		getdns_dict_destroy(d);
	d = NULL;
#endif

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
