/*
 * The exporter on the real dashboard-export and store sources, without a
 * network: the dnsimple webhook handler against a real SQLite store (the
 * host's fixtures, duplicates, completion, lenient parsing, every reason
 * to refuse), the cross-check of the host's DS against the keys the
 * store saw, the JSON API, readiness, the table surviving a reload and a
 * restart, and HTML escaping on the status page.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "dashboard-export/internal.h"
#include "store/store.h"
#include "tests/store/synth.h"
#include "tests/unit/tap.h"
#include "tests/unit/sql_fixture.h"

#define DAY	86400

static char	 dir[64] = "/tmp/dnssecmon-test-export.XXXXXX";
static char	 dbfile[PATH_MAX];

static char *
slurp(const char *rel)
{
	const char	*top = getenv("DNSSECMON_TOP");
	char		 path[PATH_MAX];
	FILE		*f;
	char		*buf;
	long		 n;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* A fixture with some fields replaced: "data.zone.name" style paths. */
static char *
fixture(const char *which, const char *path1, json_t *v1, const char *path2,
    json_t *v2)
{
	char		 rel[128], *text, *out;
	json_t		*root, *o;
	const char	*paths[2] = { path1, path2 };
	json_t		*vals[2] = { v1, v2 };
	int		 i;

	snprintf(rel, sizeof(rel), "tests/fixtures/dnsimple-dnssec.%s.json",
	    which);
	if ((text = slurp(rel)) == NULL)
		return NULL;
	root = json_loads(text, 0, NULL);
	free(text);
	for (i = 0; i < 2; i++) {
		char buf[200], *p, *dot;

		if (paths[i] == NULL)
			continue;
		snprintf(buf, sizeof(buf), "%s", paths[i]);
		o = root;
		for (p = buf; (dot = strchr(p, '.')) != NULL; p = dot + 1) {
			*dot = '\0';
			o = json_object_get(o, p);
		}
		if (vals[i] == NULL)
			json_object_del(o, p);
		else
			json_object_set_new(o, p, vals[i]);
	}
	out = json_dumps(root, 0);
	json_decref(root);
	return out;
}

static struct hostevents_reply
post(struct export *ex, const char *body, time_t now)
{
	struct hostevents_reply	 rep;

	xhook_handle(ex, body, body ? strlen(body) : 0, now, &rep);
	return rep;
}

static const char *
result_of(const struct hostevents_reply *rep)
{
	return json_string_value(json_object_get(rep->body, "result"));
}

static const char *
error_of(const struct hostevents_reply *rep)
{
	const char *e = json_string_value(json_object_get(rep->body, "error"));

	return e ? e : "";
}

/* One check the daemon's way: annotate, classify, commit, export. */
static void
check(struct store *st, struct export *ex, const char *domain,
    enum synth_state s, time_t now)
{
	static struct probe_result	 r;
	struct probe_policy		 ppol;
	struct store_policy		 spol;
	struct store_rotation		 rot;

	probe_policy_defaults(&ppol);
	store_policy_defaults(&spol);
	synth_result(&r, domain, s, now);
	if (store_check(st, &r, &ppol, &spol, now, &rot) == -1)
		tap_diag("store_check: %s", store_error(st));
	export_update(ex, &r, &rot, now);
}

/* check() that says whether the store took it. */
static bool
store_check_ok(struct store *st, struct export *ex, const char *domain,
    time_t now)
{
	static struct probe_result	 r;
	struct probe_policy		 ppol;
	struct store_policy		 spol;
	struct store_rotation		 rot;
	int				 rc;

	probe_policy_defaults(&ppol);
	store_policy_defaults(&spol);
	synth_result(&r, domain, SY_HEALTHY, now);
	if ((rc = store_check(st, &r, &ppol, &spol, now, &rot)) == -1)
		tap_diag("store_check: %s", store_error(st));
	export_update(ex, &r, &rot, now);
	return rc == 0;
}

static size_t
rotations_of(struct store *st, const char *domain, struct store_rotation *last)
{
	struct store_rotation	*a = NULL;
	size_t			 n = 0, i, k = 0;

	if (store_rotations(st, false, &a, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(a[i].domain, domain) == 0) {
			if (k == 0 && last != NULL)
				*last = a[i];	/* newest first */
			k++;
		}
	free(a);
	return k;
}

static bool
has_problem(json_t *dom, const char *code)
{
	json_t	*p;
	size_t	 i;

	json_array_foreach(json_object_get(dom, "problems"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "code")),
		    code) == 0)
			return true;
	return false;
}

static void
list_domains(struct export *ex, const char **names, size_t n)
{
	struct export_domain	 list[8];
	size_t			 i;

	memset(list, 0, sizeof(list));
	for (i = 0; i < n; i++) {
		list[i].name = names[i];
		store_policy_defaults(&list[i].policy);
		list[i].interval_s = 60;
		list[i].in_shard = strcmp(names[i], "othershard.example") != 0;
	}
	export_set_domains(ex, list, n);
}

/* The host's DS of the synthetic new KSK of domain, as hex. */
static void
new_ds_hex(const char *domain, char *hex, size_t len, uint16_t *tag)
{
	uint8_t		 rdata[PROBE_MAX_KEYDATA], owner[DSMATCH_NAME_MAX];
	uint8_t		 dg[64];
	uint16_t	 rlen, flags;
	size_t		 olen, dl;

	synth_rdata(SY_KSK_NEW, rdata, &rlen, &flags);
	dsmatch_name_to_wire(domain, owner, sizeof(owner), &olen, NULL, 0);
	dsmatch_digest(owner, olen, rdata, rlen, 2, dg, sizeof(dg), &dl);
	dsmatch_hex_upper(dg, dl, hex, len);
	*tag = dsmatch_keytag(rdata, rlen);
}

static void
test_webhook(void)
{
	/* run.c owns the webhook taker: one per exporter. */
	struct hostevents	*h_ex;
	static const char	*names[] = { "example.net", "rolling.example",
	    "othershard.example" };
	struct export		*ex;
	struct store		*st;
	struct store_rotation	 rot;
	struct hostevents_reply	 rep;
	char			 err[300], hex[200], tagtxt[8], *body;
	time_t			 now, t_start, t_done;
	uint16_t		 tag;
	json_t			*dom;
	struct xdom		*d;

	clock_parse("2026-11-20T10:00:00Z", &t_start);
	clock_parse("2026-11-27T10:00:00Z", &t_done);
	now = t_start + 3600;
	snprintf(dbfile, sizeof(dbfile), "%s/webhook.db", dir);
	if ((st = store_open(dbfile, err, sizeof(err))) == NULL) {
		ok(0, "store_open: %s", err);
		return;
	}
	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	list_domains(ex, names, 3);
	export_set_store(ex, st);
	check(st, ex, "example.net", SY_HEALTHY, now - 600);

	/* The host's start, as its fixture has it: a DS nobody publishes. */
	body = fixture("rotation_start", NULL, NULL, NULL, NULL);
	ok(body != NULL, "fixture read (DNSSECMON_TOP or the top directory)");
	if (body == NULL)
		goto done;
	rep = post(ex, body, now);
	is_int(rep.status, 200, "start: 200");
	is_str(result_of(&rep), "opened", "start: a rotation opened");
	ok(json_is_false(json_object_get(rep.body, "ds_matches_dns")),
	    "start: the fixture's made-up DS matches no published key");
	json_decref(rep.body);
	is_int(rotations_of(st, "example.net", &rot), 1,
	    "start: one rotation in the store");
	is_int(rot.start, t_start, "start: with the host's time "
	    "(data.dnssec.updated_at; the DS's created_at is null)");
	is_str(rot.source, "dnsimple", "start: source dnsimple");
	is_str(rot.external_id, "6d1f3a52-1d7e-4c55-9b0e-3f2a9c6e7a10",
	    "start: external id = request_identifier");
	is_int(rot.new_key_tag, 60812, "start: key tag from the string \"60812\"");
	is_int(rot.deadline, t_start + 7 * DAY, "start: deadline = start + "
	    "window");
	/* The daemon checks the domain at once after an event; the check
	 * judges the host's DS, kept in the store, against DNS. */
	check(st, ex, "example.net", SY_HEALTHY, now);
	d = xdom_find(ex, "example.net");
	dom = xapi_domain(ex, d, false, now);
	ok(has_problem(dom, "host_ds_mismatch"), "API: host_ds_mismatch");
	is_str(json_string_value(json_object_get(dom, "severity")), "warning",
	    "API: the mismatch makes the domain a warning");
	is_int(json_integer_value(json_object_get(json_object_get(dom,
	    "rotation"), "new_key_tag")), 60812, "API: the open rotation");
	json_decref(dom);

	/* The host delivers again. */
	rep = post(ex, body, now + 60);
	is_int(rep.status, 200, "duplicate: 200");
	is_str(result_of(&rep), "duplicate", "duplicate: said so");
	json_decref(rep.body);
	is_int(rotations_of(st, "example.net", NULL), 1,
	    "duplicate: still one rotation");
	free(body);

	/* Another start for a different key while one is open: 409. */
	body = fixture("rotation_start", "request_identifier",
	    json_string("11111111-2222-3333-4444-555555555555"),
	    "data.delegation_signer_record.keytag", json_string("12345"));
	rep = post(ex, body, now + 120);
	is_int(rep.status, 409, "a start for another key while one is open: "
	    "409");
	json_decref(rep.body);
	free(body);

	/* Completion, with the host's time. */
	body = fixture("rotation_complete", NULL, NULL, NULL, NULL);
	rep = post(ex, body, t_done + 60);
	is_int(rep.status, 200, "complete: 200");
	is_str(result_of(&rep), "closed", "complete: the rotation closed");
	json_decref(rep.body);
	rotations_of(st, "example.net", &rot);
	is_str(rot.outcome, "completed", "complete: outcome completed");
	is_int(rot.completed_at, t_done, "complete: at the host's time");
	ok(xdom_find(ex, "example.net")->rot == NULL,
	    "complete: the table has no open rotation");
	rep = post(ex, body, t_done + 120);
	is_int(rep.status, 200, "complete again: 200 (nothing left to close)");
	is_str(result_of(&rep), "no_open_rotation", "complete again: said so");
	json_decref(rep.body);
	is_int(rotations_of(st, "example.net", NULL), 1,
	    "complete again: still one rotation");
	free(body);

	/* A start whose DS is the key the zone publishes, for a rotation
	 * the checks opened first: labelled, started at the host's time,
	 * the DS confirmed. An older payload without data.zone finds the
	 * domain by its DS. */
	check(st, ex, "rolling.example", SY_HEALTHY, now - 7200);
	check(st, ex, "rolling.example", SY_ROLLSTART, now);
	new_ds_hex("rolling.example", hex, sizeof(hex), &tag);
	snprintf(tagtxt, sizeof(tagtxt), "%u", tag);
	body = fixture("rotation_start", "data.zone", NULL,
	    "data.delegation_signer_record.digest", json_string(hex));
	{
		json_t *j = json_loads(body, 0, NULL), *dsr;

		free(body);
		dsr = json_object_get(json_object_get(j, "data"),
		    "delegation_signer_record");
		json_object_set_new(dsr, "keytag", json_string(tagtxt));
		json_object_set_new(dsr, "created_at",
		    json_string("2026-11-19T22:00:00.000+02:00"));
		json_object_set_new(j, "request_identifier",
		    json_string("aaaaaaaa-1d7e-4c55-9b0e-3f2a9c6e7a10"));
		body = json_dumps(j, 0);
		json_decref(j);
	}
	rep = post(ex, body, now + 60);
	is_int(rep.status, 200, "start without data.zone: 200");
	is_str(json_string_value(json_object_get(rep.body, "domain")),
	    "rolling.example", "start without data.zone: domain found by its "
	    "DS");
	is_str(result_of(&rep), "labelled", "start: labels the rotation the "
	    "checks opened");
	ok(json_is_true(json_object_get(rep.body, "ds_matches_dns")),
	    "start: the DS matches the published new key");
	json_decref(rep.body);
	free(body);
	is_int(rotations_of(st, "rolling.example", &rot), 1,
	    "labelled: one rotation, not two");
	is_int(rot.start, t_start - 14 * 3600,
	    "labelled: start moved to the host's earlier time (created_at, "
	    "+02:00)");
	is_str(rot.external_id, "aaaaaaaa-1d7e-4c55-9b0e-3f2a9c6e7a10",
	    "labelled: carries the request_identifier");
	dom = xapi_domain(ex, xdom_find(ex, "rolling.example"), true, now);
	ok(!has_problem(dom, "host_ds_mismatch"), "API: no mismatch when the "
	    "DS matches");
	ok(json_array_size(json_object_get(dom, "history")) >= 2,
	    "API detail: recent history from the store");
	{
		json_t *h0 = json_array_get(json_object_get(dom, "history"), 0);

		/* store_observation_json, as `history` prints it. */
		ok(json_object_size(h0) == 6 &&
		    json_is_string(json_object_get(h0, "time")) &&
		    json_is_string(json_object_get(h0, "severity")) &&
		    json_is_boolean(json_object_get(h0, "state_change")) &&
		    json_is_array(json_object_get(h0, "problems")),
		    "API detail: an observation is {time, severity, "
		    "validation, state, state_change, problems}");
	}
	ok(json_array_size(json_object_get(json_object_get(dom, "keys"),
	    "dnskeys")) == 3, "API detail: the key timeline (3 keys seen)");
	{
		json_t *k0 = json_array_get(json_object_get(json_object_get(dom,
		    "keys"), "dnskeys"), 0);

		/* store_keys_json, as `keys` prints it: one spelling. */
		ok(json_object_get(k0, "signing_first_seen") != NULL &&
		    json_object_get(k0, "ds_first_seen") != NULL &&
		    json_object_get(k0, "signing_since") == NULL &&
		    json_object_get(k0, "ds_since") == NULL,
		    "API detail: the key timeline spells signing_first_seen "
		    "and ds_first_seen, as `keys` does");
		ok(json_is_true(json_object_get(k0, "published")),
		    "API detail: the first key is published at the last check");
	}
	ok(json_array_size(json_object_get(dom, "ds_to_publish")) == 1,
	    "API: the DS to publish");
	json_decref(dom);

	/* Refusals. */
	rep = post(ex, "{\"name\": \"dnssec.rotation_start\", ", now);
	is_int(rep.status, 400, "malformed JSON: 400");
	ok(strstr(error_of(&rep), "malformed JSON") != NULL &&
	    strstr(error_of(&rep), "line 1") != NULL,
	    "malformed JSON: the reason, with its place");
	json_decref(rep.body);
	rep = post(ex, "", now);
	is_int(rep.status, 400, "empty body: 400");
	json_decref(rep.body);
	rep = post(ex, "[1, 2]", now);
	is_int(rep.status, 400, "not an object: 400");
	json_decref(rep.body);
	rep = post(ex, "{\"request_identifier\": \"x\"}", now);
	is_int(rep.status, 400, "no event name: 400");
	json_decref(rep.body);
	rep = post(ex, "{\"name\": \"zone.create\", \"data\": null}", now);
	is_int(rep.status, 200, "another event: 200");
	is_str(result_of(&rep), "ignored", "another event: ignored");
	json_decref(rep.body);
	body = fixture("rotation_start", "data.zone.name",
	    json_string("not-watched.example"), NULL, NULL);
	rep = post(ex, body, now);
	is_int(rep.status, 422, "a zone not monitored: 422");
	json_decref(rep.body);
	free(body);
	body = fixture("rotation_start", "data.delegation_signer_record.keytag",
	    json_string("sixty"), NULL, NULL);
	rep = post(ex, body, now);
	is_int(rep.status, 400, "a key tag that is not a number: 400");
	json_decref(rep.body);
	free(body);
	body = fixture("rotation_start", "data.delegation_signer_record.digest",
	    json_string("XYZ"), NULL, NULL);
	rep = post(ex, body, now);
	is_int(rep.status, 400, "a digest that is not hex: 400");
	json_decref(rep.body);
	free(body);
	body = fixture("rotation_start", "data.zone", NULL, NULL, NULL);
	rep = post(ex, body, now);
	is_int(rep.status, 422, "no zone and a DS matching nothing: 422");
	json_decref(rep.body);
	free(body);

	/* Lenient: null everywhere the host may send null, numbers as
	 * numbers, no request_identifier (a hash of the body stands in). */
	body = fixture("rotation_start", "data.zone.name",
	    json_string("othershard.example"), NULL, NULL);
	rep = post(ex, body, now);
	is_int(rep.status, 422, "a domain another shard checks: 422");
	json_decref(rep.body);
	free(body);
	body = fixture("rotation_start", "request_identifier", NULL, NULL,
	    NULL);
	{
		json_t *j = json_loads(body, 0, NULL), *dsr;

		free(body);
		dsr = json_object_get(json_object_get(j, "data"),
		    "delegation_signer_record");
		json_object_set_new(dsr, "keytag", json_integer(4242));
		json_object_set_new(dsr, "algorithm", json_integer(13));
		json_object_set_new(dsr, "digest_type", json_null());
		json_object_set_new(json_object_get(j, "data"), "dnssec",
		    json_null());
		body = json_dumps(j, 0);
		json_decref(j);
	}
	rep = post(ex, body, now);
	is_int(rep.status, 200, "lenient: nulls, numbers, no request id: "
	    "200");
	is_str(result_of(&rep), "opened", "lenient: opened");
	ok(json_is_null(json_object_get(rep.body, "ds_matches_dns")),
	    "lenient: a DS without digest type cannot be checked (null)");
	ok(strncmp(json_string_value(json_object_get(rep.body,
	    "request_identifier")), "body-sha256:", 12) == 0,
	    "lenient: the id is the body's hash");
	json_decref(rep.body);
	rotations_of(st, "example.net", &rot);
	is_int(rot.start, now, "lenient: no host time, so now");
	is_int(rot.new_key_tag, 4242, "lenient: the key tag as a number");
	rep = post(ex, body, now + 5);
	is_str(result_of(&rep), "duplicate", "lenient: the same bytes again "
	    "are a duplicate");
	json_decref(rep.body);
	free(body);

done:
	export_destroy(ex);
	hostevents_destroy(h_ex);
	store_close(st);
}

/* What a replica's exporter hands to run.c for the broker. */
struct relay_seen {
	int	 calls;
	int	 rc;		/* what the hook answers */
	char	 domain[PROBE_NAME_MAX];
	char	*body;
};

static int
relay_hook(void *arg, const char *domain, const char *body, size_t len)
{
	struct relay_seen	*r = arg;

	r->calls++;
	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	free(r->body);
	if ((r->body = malloc(len + 1)) != NULL) {
		memcpy(r->body, body, len);
		r->body[len] = '\0';
	}
	return r->rc;
}

/*
 * Two replicas of one shard, each with its own store: an event posted to
 * A is handed to the relay hook, and the same bytes relayed to B are
 * recorded there once, through the webhook's own path; an event for
 * another shard is relayed when the hook can, refused when it cannot.
 */
static void
test_relay(void)
{
	/* run.c owns the webhook taker: one per exporter. */
	struct hostevents	*h_a = NULL, *h_b = NULL;
	static const char	*names[] = { "example.net", "othershard.example" };
	struct export		*a = NULL, *b = NULL;
	struct store		*sa = NULL, *sb = NULL;
	struct store_rotation	 ra, rb;
	struct hostevents_reply	 rep;
	struct relay_seen	 seen_a, seen_b;
	char			 err[300], why[300], path[PATH_MAX + 16];
	char			*body = NULL, *other = NULL;
	time_t			 now;

	memset(&seen_a, 0, sizeof(seen_a));
	memset(&seen_b, 0, sizeof(seen_b));
	clock_parse("2026-11-20T11:00:00Z", &now);
	snprintf(path, sizeof(path), "%s/relay-a.db", dir);
	if ((sa = store_open(path, err, sizeof(err))) == NULL) {
		ok(0, "store_open A: %s", err);
		goto done;
	}
	snprintf(path, sizeof(path), "%s/relay-b.db", dir);
	if ((sb = store_open(path, err, sizeof(err))) == NULL) {
		ok(0, "store_open B: %s", err);
		goto done;
	}
	a = export_create(NULL, h_a = hostevents_create(), err, sizeof(err));
	b = export_create(NULL, h_b = hostevents_create(), err, sizeof(err));
	list_domains(a, names, 2);
	list_domains(b, names, 2);
	export_set_store(a, sa);
	export_set_store(b, sb);
	export_on_host_webhook(a, relay_hook, &seen_a);
	export_on_host_webhook(b, relay_hook, &seen_b);

	if ((body = fixture("rotation_start", NULL, NULL, NULL, NULL)) == NULL) {
		ok(0, "fixture read");
		goto done;
	}
	rep = post(a, body, now);
	is_str(result_of(&rep), "opened", "relay: A records the start");
	json_decref(rep.body);
	is_int(seen_a.calls, 1, "relay: A hands it to the relay hook once");
	is_str(seen_a.domain, "example.net", "relay: ... with its domain");
	ok(seen_a.body != NULL && strcmp(seen_a.body, body) == 0,
	    "relay: ... and the body as posted");
	is_int(rotations_of(sb, "example.net", &rb), 0,
	    "relay: B's store has nothing yet");

	is_int(export_host_event_relayed(b, "example.net", seen_a.body,
	    strlen(seen_a.body), now + 1, why, sizeof(why)), 1,
	    "relay: B records the relayed event (%s)", why);
	is_int(rotations_of(sb, "example.net", &rb), 1,
	    "relay: one rotation in B's store");
	rotations_of(sa, "example.net", &ra);
	ok(rb.start == ra.start && rb.registrar_deadline ==
	    ra.registrar_deadline && rb.new_key_tag == ra.new_key_tag &&
	    strcmp(rb.external_id, ra.external_id) == 0,
	    "relay: B's rotation is A's: start, deadline, key, event id");
	is_int(seen_b.calls, 0, "relay: a relayed event is not relayed again");
	is_int(export_host_event_relayed(b, "example.net", seen_a.body,
	    strlen(seen_a.body), now + 2, why, sizeof(why)), 0,
	    "relay: the same event again changes nothing");
	is_str(why, "duplicate", "relay: ... a duplicate");
	is_int(export_host_event_relayed(a, "example.net", seen_a.body,
	    strlen(seen_a.body), now + 2, why, sizeof(why)), 0,
	    "relay: A's own echo is a duplicate");
	is_int(rotations_of(sa, "example.net", &ra), 1,
	    "relay: A still holds one rotation");
	is_int(export_host_event_relayed(b, "othershard.example", "{}", 2,
	    now, why, sizeof(why)), 0, "relay: another shard's zone: skipped");
	is_int(export_host_event_relayed(b, "not-watched.example", "{}", 2,
	    now, why, sizeof(why)), 0, "relay: a zone not monitored: skipped");
	is_int(export_host_event_relayed(b, "example.net", "{\"name\"", 7,
	    now, why, sizeof(why)), -1, "relay: malformed JSON is refused");
	ok(strstr(why, "400: malformed JSON") != NULL, "relay: ... saying so "
	    "(%s)", why);

	/* An event for another shard: relayed when the hook can. */
	other = fixture("rotation_start", "data.zone.name",
	    json_string("othershard.example"), "request_identifier",
	    json_string("other-1"));
	seen_a.calls = 0;
	rep = post(a, other, now);
	is_int(rep.status, 200, "other shard, relay up: 200");
	is_str(result_of(&rep), "relayed", "other shard, relay up: relayed");
	json_decref(rep.body);
	ok(seen_a.calls == 1 && strcmp(seen_a.domain, "othershard.example") ==
	    0, "other shard: handed to the relay hook");
	is_int(rotations_of(sa, "othershard.example", &ra), 0,
	    "other shard: nothing in this store");
	seen_a.rc = -1;
	rep = post(a, other, now);
	is_int(rep.status, 422, "other shard, relay down: 422");
	ok(strstr(error_of(&rep), "no MQTT broker") != NULL,
	    "other shard, relay down: says nothing could relay it");
	json_decref(rep.body);
done:
	free(body);
	free(other);
	free(seen_a.body);
	free(seen_b.body);
	export_destroy(a);
	hostevents_destroy(h_a);
	export_destroy(b);
	hostevents_destroy(h_b);
	store_close(sa);
	store_close(sb);
}

static void
test_table(void)
{
	/* run.c owns the webhook taker: one per exporter. */
	struct hostevents	*h_ex;
	static const char	*two[] = { "a.example", "b.example" };
	static const char	*three[] = { "b.example", "c.example",
	    "a.example" };
	struct export		*ex;
	struct store		*st;
	char			 err[300];
	time_t			 now = 1800000000;
	json_t			*why;

	snprintf(dbfile, sizeof(dbfile), "%s/table.db", dir);
	st = store_open(dbfile, err, sizeof(err));
	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	export_set_store(ex, st);
	list_domains(ex, two, 2);
	ok(!xapi_ready(ex, NULL), "not ready before the first round");
	check(st, ex, "a.example", SY_ROLLSTART, now - 3600);
	check(st, ex, "a.example", SY_ROLLSTART, now);
	ok(!xapi_ready(ex, &why), "not ready with one domain left");
	is_int(json_integer_value(json_object_get(why, "checked")), 1,
	    "readyz says how many are checked");
	json_decref(why);
	check(st, ex, "b.example", SY_HEALTHY, now);
	ok(xapi_ready(ex, NULL), "ready once every domain was checked");

	/* Issue 13, item 4: every check failing to record ("database disk
	 * image is malformed") left /readyz saying ready. */
	ok(sql_exec(dbfile, "CREATE TRIGGER broken BEFORE INSERT ON "
	    "observations BEGIN SELECT RAISE(ABORT, 'injected: database disk "
	    "image is malformed'); END") == 0, "readyz: inject a write fault");
	check(st, ex, "a.example", SY_ROLLSTART, now + 60);
	ok(!xapi_ready(ex, &why), "readyz: not ready when the last check "
	    "could not be recorded");
	ok(why != NULL && json_is_false(json_object_get(why, "store_writes")) &&
	    strstr(json_string_value(json_object_get(why, "store_write_error")) ?
	    json_string_value(json_object_get(why, "store_write_error")) : "",
	    "disk image is malformed") != NULL,
	    "readyz: the body says why (the store's error)");
	json_decref(why);
	ok(sql_exec(dbfile, "DROP TRIGGER broken") == 0,
	    "readyz: the fault removed");
	check(st, ex, "a.example", SY_ROLLSTART, now + 120);
	ok(xapi_ready(ex, &why), "readyz: ready again once a check records");
	ok(why != NULL && json_object_get(why, "store_write_error") == NULL,
	    "readyz: and the error is gone from the body");
	json_decref(why);

	list_domains(ex, three, 3);
	ok(xdom_find(ex, "a.example") != NULL && xdom_find(ex,
	    "a.example")->checked && xdom_find(ex, "a.example")->rot != NULL,
	    "a reload keeps what is known of a domain that stays");
	ok(!xapi_ready(ex, NULL), "a domain added by reload: not ready until "
	    "checked");
	list_domains(ex, three + 1, 1);
	ok(xdom_find(ex, "b.example") == NULL, "a removed domain leaves the "
	    "table");
	export_destroy(ex);
	hostevents_destroy(h_ex);

	/* A restart: the table starts from the store's last word. */
	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	list_domains(ex, two, 2);
	export_set_store(ex, st);
	{
		struct xdom *d = xdom_find(ex, "a.example");

		ok(d != NULL && d->known && d->from_history && !d->checked,
		    "restart: the last state comes from history");
		ok(d != NULL && d->state == PROBE_STATE_ROTATION_PENDING &&
		    d->rot != NULL && d->rot->registrar_deadline != 0,
		    "restart: the open rotation and its deadline too");
	}
	/* The preload read in one transaction: it must be closed, or the
	 * next check could not start its own. */
	ok(store_check_ok(st, ex, "b.example", now + 180),
	    "restart: a check records after the preload");
	export_destroy(ex);
	hostevents_destroy(h_ex);
	store_close(st);
}

static void
test_html(void)
{
	/* run.c owns the webhook taker: one per exporter. */
	struct hostevents	*h_ex;
	static const char	*names[] = { "\\<script\\>x.example",
	    "a\\&b.example" };
	struct export		*ex;
	struct evbuffer		*b;
	char			 err[300], *page;
	size_t			 n;
	time_t			 now = 1800000000;

	ex = export_create(NULL, h_ex = hostevents_create(), err, sizeof(err));
	list_domains(ex, names, 2);
	{
		static struct probe_result r;
		struct probe_policy pol;

		probe_policy_defaults(&pol);
		synth_result(&r, "\\<script\\>x.example", SY_ROLLSTART, now);
		probe_classify(&r, &pol, now);
		snprintf(r.problems[0].message, sizeof(r.problems[0].message),
		    "<img src=x onerror=alert(1)> & \"quoted\"");
		export_update(ex, &r, NULL, now);
	}
	b = evbuffer_new();
	xstatus_render(ex, b, now);
	n = evbuffer_get_length(b);
	page = calloc(1, n + 1);
	evbuffer_remove(b, page, n);
	evbuffer_free(b);
	ok(strstr(page, "<script>x") == NULL && strstr(page,
	    "\\&lt;script\\&gt;x.example") != NULL,
	    "status page: a name from DNS is HTML-escaped");
	ok(strstr(page, "<img") == NULL && strstr(page,
	    "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;") !=
	    NULL, "status page: a problem message is HTML-escaped");
	ok(strstr(page, "a\\&amp;b.example") != NULL,
	    "status page: & in a name");
	ok(strstr(page, "http-equiv=\"refresh\"") == NULL &&
	    strstr(page, "fetch('/api/v1/domains'") != NULL &&
	    strstr(page, "data-refresh=\"") != NULL,
	    "status page: updates from the JSON API, no full-page reload");
	ok(strstr(page, "src=\"http") == NULL && strstr(page,
	    "href=\"http") == NULL && strstr(page, "<link") == NULL,
	    "status page: no external asset");
	ok(strstr(page, "IN DS") != NULL && strstr(page, "data-copy") != NULL,
	    "status page: the DS to publish with a copy button");
	free(page);
	export_destroy(ex);
	hostevents_destroy(h_ex);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_webhook();
	test_relay();
	test_table();
	test_html();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
