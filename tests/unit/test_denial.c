/*
 * Denial of existence on synthetic observations: how the classifier
 * judges per-server proofs and NSEC3 parameters, and what denial_check()
 * and denial_random_name() do with input the testbed never sends.
 * (The real proofs, NSEC and NSEC3, are checked end to end in
 * tests/e2e/denial.py against dnssec-signzone's output.)
 */
#include <stdlib.h>
#include <string.h>

#include "probe/denial.h"
#include "probe/probe.h"
#include "probe_fixture.h"
#include "tap.h"

static void
proof(struct probe_negative *n, bool valid, const char *error)
{
	n->status = PROBE_Q_OK;
	n->rcode = 3;
	n->kind = PROBE_DENIAL_NSEC;
	n->checked = true;
	n->valid = valid;
	snprintf(n->error, sizeof(n->error), "%s", valid ? "" : error);
}

/* A stable, secure two-server zone whose servers both prove denials. */
static void
base(void)
{
	unsigned i;

	fixture_base();
	R.denial_validation = PROBE_VAL_SECURE;
	strcpy(R.denial_name, "dnssecmon-0123456789ab.example.test");
	for (i = 0; i < 2; i++) {
		proof(&R.servers[i].nxdomain, true, NULL);
		proof(&R.servers[i].nodata, true, NULL);
	}
	/* One KSK signing everywhere, with its DS (tag/digest unchecked
	 * here: the state is not what this test is about). */
	R.n_keys = 1;
	R.keys[0].flags = 257;
	R.keys[0].algorithm = 13;
	R.keys[0].servers = 3;
	R.keys[0].signs_dnskey = 3;
	R.n_ds = 1;
	R.ds[0].algorithm = 13;
	R.ds[0].digest_type = 2;
}
int
main(void)
{
	const struct probe_problem *p;
	char a[PROBE_NAME_MAX], b[PROBE_NAME_MAX], longname[PROBE_NAME_MAX];
	uint8_t junk[64];
	unsigned i;

	/* Every proof holds: nothing to say. */
	base();
	probe_classify(&R, &P, NOW);
	ok(fixture_problem("denial_bogus") == NULL, "valid proofs everywhere: no denial_bogus");

	/* One server's NXDOMAIN proof is bogus: a warning naming it. */
	base();
	proof(&R.servers[1].nxdomain, false, "signature over NSEC at example.test.: Bogus");
	probe_classify(&R, &P, NOW);
	is_str(fixture_severity("denial_bogus"), "warning",
	    "one bad server while the other proves it: warning");
	p = fixture_problem("denial_bogus");
	ok(p && strstr(p->message, "192.0.2.2") && !strstr(p->message, "192.0.2.1") &&
	    strstr(p->message, "NXDOMAIN") && strstr(p->message, "Bogus"),
	    "the message names the bad server, the question and the reason");

	/* Both servers fail the NODATA proof: critical. */
	base();
	proof(&R.servers[0].nodata, false, "the NSEC records do not prove it");
	proof(&R.servers[1].nodata, false, "the NSEC records do not prove it");
	probe_classify(&R, &P, NOW);
	is_str(fixture_severity("denial_bogus"), "critical",
	    "no server proves the apex NODATA: critical");

	/* A negative answer without any NSEC/NSEC3 counts as bogus. */
	base();
	proof(&R.servers[0].nxdomain, false, "NXDOMAIN without any NSEC or NSEC3 record");
	R.servers[0].nxdomain.kind = PROBE_DENIAL_MISSING;
	proof(&R.servers[1].nxdomain, false, "NXDOMAIN without any NSEC or NSEC3 record");
	R.servers[1].nxdomain.kind = PROBE_DENIAL_MISSING;
	probe_classify(&R, &P, NOW);
	is_str(fixture_severity("denial_bogus"), "critical", "unsigned NXDOMAIN from every server: critical");

	/* The validator finds the random name bogus although each server's
	 * proof holds (e.g. a path we do not see): critical, and said. */
	base();
	R.denial_validation = PROBE_VAL_BOGUS;
	strcpy(R.denial_why_bogus, "validation failure <x>: no signatures");
	probe_classify(&R, &P, NOW);
	p = fixture_problem("denial_bogus");
	ok(p && p->severity == PROBE_SEV_CRITICAL && strstr(p->message, "no signatures"),
	    "validator says bogus: critical, with its reason");

	/* A server that did not answer, or an unjudged proof, is no evidence. */
	base();
	R.servers[1].nxdomain.checked = false;
	R.servers[1].nodata.checked = false;
	R.servers[1].nxdomain.valid = R.servers[1].nodata.valid = false;
	probe_classify(&R, &P, NOW);
	ok(fixture_problem("denial_bogus") == NULL, "unjudged proofs are not bogus");

	/* The zone fails validation as a whole: reported once, for its cause. */
	base();
	R.validation = PROBE_VAL_BOGUS;
	proof(&R.servers[0].nxdomain, false, "expired");
	proof(&R.servers[1].nxdomain, false, "expired");
	probe_classify(&R, &P, NOW);
	ok(fixture_problem("validation_bogus") && !fixture_problem("denial_bogus"),
	    "a bogus zone: validation_bogus, not a second denial_bogus");

	/* No DS at the parent: nobody validates the denials. */
	base();
	R.n_ds = 0;
	proof(&R.servers[0].nxdomain, false, "bad");
	probe_classify(&R, &P, NOW);
	ok(fixture_problem("denial_bogus") == NULL, "no DS: denials not judged");

	/* NSEC3 parameters (RFC 9276). */
	base();
	for (i = 0; i < 2; i++) {
		R.servers[i].nsec3.seen = true;
		R.servers[i].nsec3.algorithm = 1;
	}
	probe_classify(&R, &P, NOW);
	ok(!fixture_problem("nsec3_iterations") && !fixture_problem("nsec3_salt") && !fixture_problem("nsec3_opt_out"),
	    "NSEC3 1 0 0 -: nothing to say");

	R.servers[1].nsec3.iterations = 100;
	R.servers[1].nsec3.salt_len = 2;
	R.servers[1].nsec3.salt[0] = 0xab;
	R.servers[1].nsec3.salt[1] = 0xcd;
	probe_classify(&R, &P, NOW);
	is_str(fixture_severity("nsec3_iterations"), "warning", "100 iterations on one server: warning");
	p = fixture_problem("nsec3_iterations");
	ok(p && strstr(p->message, "100 extra iterations") && strstr(p->message, "150") &&
	    strstr(p->message, "RFC 9276"), "the message names the count, the limit and RFC 9276");
	is_str(fixture_severity("nsec3_salt"), "info", "a salt: a note");
	p = fixture_problem("nsec3_salt");
	ok(p && strstr(p->message, "ABCD"), "the note shows the salt");

	R.servers[0].nsec3.iterations = 151;
	probe_classify(&R, &P, NOW);
	is_str(fixture_severity("nsec3_iterations"), "critical",
	    "151 iterations: critical (validators call it insecure)");
	p = fixture_problem("nsec3_iterations");
	ok(p && strstr(p->message, "151"), "the worst server's count is reported");

	R.servers[0].nsec3.iterations = 150;
	R.servers[1].nsec3.iterations = 150;
	probe_classify(&R, &P, NOW);
	is_str(fixture_severity("nsec3_iterations"), "warning", "150 iterations: still a warning");

	R.servers[0].nsec3.opt_out = true;
	probe_classify(&R, &P, NOW);
	is_str(fixture_severity("nsec3_opt_out"), "info", "opt-out: a note");

	/* The random name: new each time, bounded, refused when too long. */
	ok(denial_random_name("example.test", a, sizeof(a)) == 0 &&
	    denial_random_name("example.test", b, sizeof(b)) == 0,
	    "random names for example.test");
	ok(strncmp(a, "dnssecmon-", 10) == 0 && strlen(a) == 10 + 12 + 1 + 12 &&
	    strcmp(a + 23, "example.test") == 0, "dnssecmon-<12 hex>.example.test (%s)", a);
	ok(strcmp(a, b) != 0, "two calls give two names");
	/* 4 labels of 60 + dots: 244 characters, no room for 23 more. */
	memset(longname, 'a', 244);
	longname[60] = longname[121] = longname[182] = '.';
	longname[244] = '\0';
	ok(denial_random_name(longname, a, sizeof(a)) == -1 && a[0] == '\0',
	    "a domain too long for one more label: -1, empty name");

	/* denial_check on what is not a DNS message: no verdict, a reason. */
	base();
	memset(junk, 0xff, sizeof(junk));
	denial_check(NULL, &R, 0, &R.servers[0].nxdomain, junk, sizeof(junk),
	    R.denial_name, 1, NOW);
	ok(!R.servers[0].nxdomain.checked && R.servers[0].nxdomain.error[0],
	    "garbage: not judged, with a reason (%s)", R.servers[0].nxdomain.error);
	denial_check(NULL, &R, 0, &R.servers[0].nxdomain, junk, 0, R.denial_name, 1, NOW);
	ok(!R.servers[0].nxdomain.checked, "an empty answer: not judged");

	return tap_done();
}
