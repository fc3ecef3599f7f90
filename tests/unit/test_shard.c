/*
 * --shard and instance names (cli/shard.c): how host names a platform
 * gives (StatefulSet pods SET-0, SET-1, ...) map to shards, and that a
 * name or environment that cannot say which shard is a clear error, never
 * a silent shard 1.
 */
#include <stdio.h>
#include <string.h>

#include "cli/shard.h"
#include "tests/unit/tap.h"

/* --shard auto on host h with DNSSECMON_SHARDS=env: k and n, or 0/0 and
 * the error in err. */
static int
auto_on(const char *h, const char *env, unsigned *k, unsigned *n, char *err,
    size_t errlen)
{
	*k = *n = 0;
	err[0] = '\0';
	return shard_parse("auto", h, env, k, n, err, errlen);
}

static void
test_auto_good(void)
{
	static const struct {
		const char	*host, *env;
		unsigned	 k, n;
	} t[] = {
		{ "dnssecmon-0", "4", 1, 4 },
		{ "dnssecmon-3", "4", 4, 4 },
		{ "dnssecmon-a-1", "2", 2, 2 },		/* replica set a */
		{ "dnssecmon-b-1", "2", 2, 2 },		/* its twin in set b */
		{ "dnssecmon-v2-10", "12", 11, 12 },	/* digits in the set */
		{ "mon-999", "1000", 1000, 1000 },
		{ "single-0", "1", 1, 1 },
		/* A full name: the first label counts. */
		{ "dnssecmon-2.dnssecmon.monitoring.svc.cluster.local", "4",
		    3, 4 },
		{ "mon-1.noc-7.example", "2", 2, 2 },
	};
	char		 err[256];
	unsigned	 i, k, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ok(auto_on(t[i].host, t[i].env, &k, &n, err, sizeof(err)) == 0,
		    "auto: %s with %s=%s is accepted%s%s", t[i].host,
		    SHARD_ENV, t[i].env, err[0] ? ": " : "", err);
		is_int(k, t[i].k, "auto: %s is shard %u", t[i].host, t[i].k);
		is_int(n, t[i].n, "auto: %s=%s is %u shards", SHARD_ENV,
		    t[i].env, t[i].n);
	}
}

static void
test_auto_bad(void)
{
	static const struct {
		const char	*host, *env, *says;
	} t[] = {
		{ "dnssecmon", "4", "does not end in -ORDINAL" },
		{ "dnssecmon-", "4", "does not end in -ORDINAL" },
		{ "dnssecmon-x", "4", "does not end in -ORDINAL" },
		{ "dnssecmon-3a", "4", "does not end in -ORDINAL" },
		{ "dnssecmon--1", "4", "does not end in -ORDINAL" },
		{ "-3", "4", "does not end in -ORDINAL" },
		{ "host.example.com", "4", "does not end in -ORDINAL" },
		{ "host.noc-3.example", "4", "does not end in -ORDINAL" },
		{ ".dnssecmon-3", "4", "does not end in -ORDINAL" },
		{ "", "4", "does not end in -ORDINAL" },
		{ "dnssecmon-03", "4", "leading zero" },
		{ "dnssecmon-4", "4", "allows ordinals 0 to 3" },
		{ "dnssecmon-1000", "1000", "does not end in -ORDINAL" },
		{ "dnssecmon-1", NULL, "is not set" },
		{ "dnssecmon-1", "", "is not set" },
		{ "dnssecmon-1", "0", "not a number from 1 to 1000" },
		{ "dnssecmon-1", "four", "not a number from 1 to 1000" },
		{ "dnssecmon-1", "4x", "not a number from 1 to 1000" },
		{ "dnssecmon-1", "-4", "not a number from 1 to 1000" },
		{ "dnssecmon-1", "1001", "not a number from 1 to 1000" },
		{ "dnssecmon-1", "99999999999999999999", "not a number" },
	};
	char		 err[256];
	unsigned	 i, k, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ok(auto_on(t[i].host, t[i].env, &k, &n, err, sizeof(err)) == -1,
		    "auto: host '%s', %s=%s is refused", t[i].host, SHARD_ENV,
		    t[i].env ? t[i].env : "(unset)");
		ok(strstr(err, t[i].says) != NULL, "... saying '%s' (%s)",
		    t[i].says, err);
		ok(k == 0 && n == 0, "... and leaves the shard unset");
	}
	ok(shard_parse("auto", NULL, "4", &k, &n, err, sizeof(err)) == -1,
	    "auto: no host name at all is refused");
	{
		/* Longer than a DNS label: not cut to a false ordinal. */
		char	 h[100];

		memset(h, 'a', sizeof(h) - 1);
		h[sizeof(h) - 1] = '\0';
		h[61] = '-';
		h[62] = '1';
		ok(auto_on(h, "4", &k, &n, err, sizeof(err)) == -1 &&
		    strstr(err, "does not end in -ORDINAL") != NULL,
		    "auto: a 99-character first label is refused, not cut");
	}
}

static void
test_explicit(void)
{
	static const char *bad[] = { "", "1", "0/4", "5/4", "1/0", "a/4",
	    "1/4x", "1/1001", "-1/4", "/4", "1/", "+1/4", " 1/4",
	    "99999999999999999999/4", "AUTO" };
	char		 err[256];
	unsigned	 i, k, n;

	ok(shard_parse("2/4", "ignored-7", NULL, &k, &n, err,
	    sizeof(err)) == 0 && k == 2 && n == 4,
	    "2/4 is shard 2 of 4, whatever the host name");
	ok(shard_parse("1000/1000", NULL, NULL, &k, &n, err,
	    sizeof(err)) == 0 && k == 1000 && n == 1000, "1000/1000");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(shard_parse(bad[i], "dnssecmon-1", "4", &k, &n, err,
		    sizeof(err)) == -1 && strstr(err, "expected K/N") != NULL,
		    "--shard '%s' is refused: %s", bad[i], err);
	}
}

static void
test_instance(void)
{
	char	 out[SHARD_INSTANCE_MAX], longhost[200];

	is_str(shard_instance(NULL, "mon1", 0, 0, out, sizeof(out)), "mon1",
	    "unsharded: the host name");
	is_str(shard_instance(NULL, "mon1", 2, 4, out, sizeof(out)),
	    "mon1-shard-2-of-4", "sharded: the host name and the shard");
	is_str(shard_instance("replica-a", "mon1", 2, 4, out, sizeof(out)),
	    "replica-a", "instance: wins");
	is_str(shard_instance(NULL, "we ird/host+#", 0, 0, out, sizeof(out)),
	    "we_ird_host__", "no MQTT wildcard or level separator survives");
	is_str(shard_instance(NULL, "", 1, 2, out, sizeof(out)),
	    "localhost-shard-1-of-2", "no host name: localhost");
	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	shard_instance(NULL, longhost, 1000, 1000, out, sizeof(out));
	ok(shard_instance_valid(out) && strstr(out, "-shard-1000-of-1000") !=
	    NULL, "a long host name is cut, the shard kept: %s", out);
	ok(shard_instance_valid("dnssecmon-a-3"), "valid: dnssecmon-a-3");
	ok(!shard_instance_valid(""), "invalid: empty");
	ok(!shard_instance_valid("a/b"), "invalid: a/b");
	ok(!shard_instance_valid("a+"), "invalid: a+");
	ok(!shard_instance_valid(longhost), "invalid: 199 characters");
}

int
main(void)
{
	test_auto_good();
	test_auto_bad();
	test_explicit();
	test_instance();
	return tap_done();
}
