/*
 * hostevents on its own, without the exporter: a directory of two
 * domains kept by the test, a real SQLite store, the host's fixture.
 * What the module promises its caller: the secret opens the webhook and
 * every refusal is counted, an event is recorded once, the reply says
 * what the caller's table should learn, the check and relay callbacks
 * fire when they should, and a relayed event is not relayed again.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "hostevents/hostevents.h"
#include "store/store.h"
#include "tests/unit/tap.h"

static char	 dir[64] = "/tmp/dnssecmon-test-hostevents.XXXXXX";

/* The caller's list of domains: one checked here, one by another shard. */
static const struct {
	const char	*name;
	bool		 in_shard;
	uint32_t	 ds_ttl;
} table[] = {
	{ "example.net", true, 3600 },
	{ "othershard.example", false, 0 },
};

static int
find(void *arg, const char *name, struct hostevents_domain *out)
{
	size_t	 i;

	(void)arg;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].name, name) == 0) {
			out->name = table[i].name;
			store_policy_defaults(&out->policy);
			out->in_shard = table[i].in_shard;
			out->ds_ttl = table[i].ds_ttl;
			return 1;
		}
	return 0;
}

static void
each_with_key(void *arg, uint16_t tag, uint8_t alg,
    void (*fn)(void *, const char *), void *fnarg)
{
	(void)arg; (void)tag; (void)alg; (void)fn; (void)fnarg;
}

struct seen {
	unsigned	 checks, relays;
	char		 domain[PROBE_NAME_MAX];
	int		 relay_rc;
};

static void
on_check(void *arg, const char *domain)
{
	struct seen	*s = arg;

	s->checks++;
	snprintf(s->domain, sizeof(s->domain), "%s", domain);
}

static int
on_relay(void *arg, const char *domain, const char *body, size_t len)
{
	struct seen	*s = arg;

	(void)domain; (void)body; (void)len;
	s->relays++;
	return s->relay_rc;
}

static char *
slurp(const char *rel)
{
	const char	*top = getenv("DNSSECMON_TOP");
	char		 path[PATH_MAX];
	FILE		*f;
	char		*buf = NULL;
	long		 n;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = calloc(1, (size_t)n + 1)) !=
	    NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static const char *
result_of(const struct hostevents_reply *rep)
{
	const char *s = json_string_value(json_object_get(rep->body,
	    "result"));

	return s != NULL ? s : "";
}

static void
test_secret(struct hostevents *he)
{
	char	 longer[HOSTEVENTS_SECRET_MAX + 2];

	ok(!hostevents_enabled(he), "no secret: the webhook is off");
	ok(!hostevents_authorise(he, ""), "off: even an empty secret is "
	    "refused");
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	is_int(hostevents_set_secret(he, longer), -1,
	    "a secret over %d characters is refused", HOSTEVENTS_SECRET_MAX);
	ok(!hostevents_enabled(he), "... and changes nothing");
	is_int(hostevents_set_secret(he, "s3cret-0123456789"), 0,
	    "a secret is taken");
	ok(!hostevents_authorise(he, "s3cret-012345678"), "a prefix is "
	    "refused");
	ok(!hostevents_authorise(he, "s3cret-0123456789x"), "a longer guess "
	    "is refused");
	ok(hostevents_authorise(he, "s3cret-0123456789"), "the secret opens");
	is_int((long long)hostevents_count(he, HOSTEVENTS_REJECTED), 3,
	    "every refusal counted as rejected");
	is_int(hostevents_set_secret(he, NULL), 0, "NULL turns it off");
	ok(!hostevents_authorise(he, "s3cret-0123456789"), "off again: "
	    "the old secret no longer opens");
}

static void
test_events(struct hostevents *he, struct store *st)
{
	struct hostevents_reply	 rep;
	struct seen		 seen;
	char			*body, why[300];
	size_t			 len;

	memset(&seen, 0, sizeof(seen));
	hostevents_on_check(he, on_check, &seen);
	hostevents_on_relay(he, on_relay, &seen);
	if ((body = slurp("tests/fixtures/dnsimple-dnssec.rotation_start."
	    "json")) == NULL) {
		ok(0, "fixture read");
		return;
	}
	len = strlen(body);

	hostevents_webhook(he, body, len, 1795000000, &rep);
	is_int(rep.status, 500, "no store: 500, the host retries");
	is_int(rep.result, HOSTEVENTS_FAILED, "... counted as failed");
	ok(!rep.heard && seen.checks == 0 && seen.relays == 0,
	    "... nothing learnt, no check asked, nothing relayed");
	json_decref(rep.body);

	hostevents_set_store(he, st);
	hostevents_webhook(he, body, len, 1795000000, &rep);
	is_int(rep.status, 200, "start: 200");
	is_str(result_of(&rep), "opened", "start: opened");
	is_str(rep.domain, "example.net", "the reply names the domain");
	ok(rep.heard && rep.host.key_tag == 60812 &&
	    strcmp(rep.host.source, "dnsimple") == 0 &&
	    strcmp(rep.host.event, "dnssec.rotation_start") == 0,
	    "the reply carries the host's word for the caller's table");
	is_int(rep.rotation, HOSTEVENTS_ROT_OPEN, "the rotation opened");
	ok(rep.open.new_key_tag == 60812 && rep.open.ds_ttl == 3600 &&
	    rep.open.registrar_deadline == rep.open.deadline - 3600,
	    "the directory's DS TTL sets the registrar deadline");
	ok(json_is_object(json_object_get(rep.body, "rotation")),
	    "the answer shows the rotation");
	is_int(seen.checks, 1, "a check is asked for");
	is_str(seen.domain, "example.net", "... of that domain");
	is_int(seen.relays, 1, "the event is relayed to the other replicas");
	json_decref(rep.body);

	hostevents_webhook(he, body, len, 1795000100, &rep);
	is_str(result_of(&rep), "duplicate", "the same event again: duplicate");
	is_int(rep.rotation, HOSTEVENTS_ROT_KEEP, "... the rotation stays");
	json_decref(rep.body);

	is_int(hostevents_relayed(he, "not-watched.example", body, len,
	    1795000200, &rep, why, sizeof(why)), 0,
	    "relayed for a zone not listed: skipped");
	ok(rep.body == NULL && !rep.heard, "... with nothing to learn");
	is_int(hostevents_relayed(he, "othershard.example", body, len,
	    1795000200, &rep, why, sizeof(why)), 0,
	    "relayed for another shard's zone: skipped");
	seen.relays = 0;
	is_int(hostevents_relayed(he, "Example.NET.", body, len, 1795000200,
	    &rep, why, sizeof(why)), 0, "relayed, our own event back: 0");
	is_str(why, "duplicate", "... a duplicate");
	is_int(seen.relays, 0, "a relayed event is not relayed again");
	json_decref(rep.body);

	hostevents_webhook(he, "{\"name\"", 7, 1795000300, &rep);
	is_int(rep.status, 400, "malformed JSON: 400");
	is_int(rep.result, HOSTEVENTS_REJECTED, "... counted as rejected");
	json_decref(rep.body);

	is_int((long long)hostevents_count(he, HOSTEVENTS_OPENED), 1,
	    "counted: one opened");
	is_int((long long)hostevents_count(he, HOSTEVENTS_DUPLICATE), 2,
	    "counted: two duplicates (webhook and relayed)");
	is_str(hostevents_result_name(HOSTEVENTS_RELAYED), "relayed",
	    "the metric's label for relayed");
	free(body);
}

int
main(void)
{
	struct hostevents		*he;
	struct hostevents_directory	 d;
	struct store			*st;
	char				 path[PATH_MAX], err[300];

	/* The module logs every refusal: keep the TAP output readable. */
	log_init(LOG_TO_SYSLOG, 0, "dnssecmon-test");
	if (mkdtemp(dir) == NULL) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/he.db", dir);
	if ((he = hostevents_create()) == NULL ||
	    (st = store_open(path, err, sizeof(err))) == NULL) {
		printf("not ok - setup: %s\n", he == NULL ? "out of memory" :
		    err);
		return 1;
	}
	memset(&d, 0, sizeof(d));
	d.find = find;
	d.each_with_key = each_with_key;
	hostevents_set_directory(he, &d);
	test_secret(he);
	test_events(he, st);
	hostevents_destroy(he);
	hostevents_destroy(NULL);
	store_close(st);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
