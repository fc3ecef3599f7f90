/*
 * Catalog zone parsing (cli/catalog.c, RFC 9432): which records make
 * members, what makes a catalog unusable, and that max_members keeps the
 * same members whatever the order of the transfer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "cli/catalog.h"
#include "tests/unit/tap.h"

/* Parse the records (zone-file lines) of a catalog in the given order. */
static int
parse(const char *zone, unsigned max, const char *const *lines, size_t n,
    struct catalog_members *out, char *err, size_t errlen)
{
	struct catalog_parse	*cp;
	ldns_rr			*rr;
	size_t			 i;
	int			 rc;

	if ((cp = catalog_parse_create(zone, max)) == NULL)
		return -2;
	for (i = 0; i < n; i++) {
		rr = NULL;
		if (ldns_rr_new_frm_str(&rr, lines[i], 3600, NULL, NULL) !=
		    LDNS_STATUS_OK) {
			printf("# bad test record: %s\n", lines[i]);
			catalog_parse_destroy(cp);
			return -2;
		}
		catalog_parse_rr(cp, rr);
		ldns_rr_free(rr);
	}
	err[0] = '\0';
	rc = catalog_parse_finish(cp, out, err, errlen);
	catalog_parse_destroy(cp);
	return rc;
}

#define SOA	"catz.example. 0 IN SOA invalid. invalid. 42 3600 600 2147483646 0"
#define VERSION	"version.catz.example. 0 IN TXT \"2\""
#define N(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_members(void)
{
	static const char *const z[] = {
		SOA,
		"catz.example. 0 IN NS invalid.",
		VERSION,
		"m1.zones.catz.example. 0 IN PTR Example.COM.",
		"m2.zones.CATZ.example. 0 IN PTR example.org.",
		/* Properties: not members (RFC 9432 4.3). */
		"coo.m1.zones.catz.example. 0 IN PTR other.catz.",
		"group.m2.zones.catz.example. 0 IN TXT \"signed\"",
		/* Not directly under zones. */
		"x.y.zones.catz.example. 0 IN PTR deep.example.",
		"zones.catz.example. 0 IN PTR apex.example.",
		/* Another zone's record. */
		"m9.zones.other.example. 0 IN PTR foreign.example.",
		/* The same zone twice: once. */
		"m3.zones.catz.example. 0 IN PTR example.org.",
		/* Several PTR at one node: broken, ignored. */
		"m4.zones.catz.example. 0 IN PTR a.example.",
		"m4.zones.catz.example. 0 IN PTR b.example.",
		SOA,
	};
	struct catalog_members	 m;
	char			 err[300];

	is_int(parse("catz.example", 100, z, N(z), &m, err, sizeof(err)), 0,
	    "a version 2 catalog parses (%s)", err);
	is_int(m.n, 2, "two members: properties, deeper names, other zones "
	    "and broken nodes are not members");
	if (m.n == 2) {
		is_str(m.names[0], "example.com", "a member in lower case, no "
		    "final dot");
		is_str(m.names[1], "example.org", "a zone under two member "
		    "nodes once");
	}
	is_int(m.serial, 42, "the SOA serial");
	is_int(m.ignored, 3, "ignored: two PTR at one node, a zone twice");
	is_int(m.excess, 0, "no excess");
	catalog_members_finish(&m);
}

static void
test_version(void)
{
	static const char *const none[] = { SOA,
	    "m1.zones.catz.example. 0 IN PTR example.com.", SOA };
	static const char *const v1[] = { SOA,
	    "version.catz.example. 0 IN TXT \"1\"",
	    "m1.zones.catz.example. 0 IN PTR example.com.", SOA };
	static const char *const two[] = { SOA, VERSION,
	    "version.catz.example. 0 IN TXT \"3\"", SOA };
	static const char *const nosoa[] = { VERSION,
	    "m1.zones.catz.example. 0 IN PTR example.com." };
	struct catalog_members	 m;
	char			 err[300];

	is_int(parse("catz.example", 10, none, N(none), &m, err, sizeof(err)),
	    -1, "no version property: refused");
	ok(strstr(err, "no version property") != NULL, "... says so: %s", err);
	is_int(parse("catz.example", 10, v1, N(v1), &m, err, sizeof(err)), -1,
	    "version 1: refused");
	ok(strstr(err, "version property '1'") != NULL, "... names it: %s",
	    err);
	is_int(parse("catz.example", 10, two, N(two), &m, err, sizeof(err)),
	    -1, "two version records: refused");
	is_int(parse("catz.example", 10, nosoa, N(nosoa), &m, err,
	    sizeof(err)), -1, "no SOA: refused");
	ok(strstr(err, "no SOA") != NULL, "... says so: %s", err);
}

/* max_members keeps the alphabetically first names, in any order. */
static void
test_bound(void)
{
	char		 lines[200][128];
	const char	*fwd[202], *rev[202];
	struct catalog_members	 a, b;
	char		 err[300];
	size_t		 i;

	fwd[0] = rev[0] = SOA;
	fwd[1] = rev[1] = VERSION;
	for (i = 0; i < 200; i++) {
		snprintf(lines[i], sizeof(lines[i]),
		    "id%03zu.zones.catz.example. 0 IN PTR z%03zu.example.", i,
		    (i * 7) % 200);
		fwd[2 + i] = lines[i];
		rev[2 + 199 - i] = lines[i];
	}
	is_int(parse("catz.example", 50, fwd, 202, &a, err, sizeof(err)), 0,
	    "200 members, max 50: parses");
	is_int(parse("catz.example", 50, rev, 202, &b, err, sizeof(err)), 0,
	    "... in the reverse order too");
	is_int(a.n, 50, "50 members kept");
	is_int(a.excess, 150, "150 reported as excess");
	ok(a.n == b.n && memcmp(a.names, b.names, a.n *
	    sizeof(a.names[0])) == 0, "the same 50 whatever the order");
	if (a.n == 50) {
		is_str(a.names[0], "z000.example", "the first name kept");
		is_str(a.names[49], "z049.example", "the 50th name kept");
	}
	catalog_members_finish(&a);
	catalog_members_finish(&b);
}

int
main(void)
{
	test_members();
	test_version();
	test_bound();
	return tap_done();
}
