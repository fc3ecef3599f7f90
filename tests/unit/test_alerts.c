/*
 * Alerts on the real sources, without a network: the state machine that
 * store_commit() runs (damping, fire-at-once codes, escalation,
 * reminders, resolution, what an inconclusive check may not do), the
 * outbox and delivery bookkeeping the sinks use, atomicity with the
 * observation, the 1 -> 2 schema migration on the kept version 1
 * fixture, and the pure helpers of alerts/ (URLs, Alertmanager bodies).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sqlite3.h>

#include "alerts/internal.h"
#include "common/clock.h"
#include "probe/probe.h"
#include "store/store.h"
#include "tests/store/synth.h"
#include "tests/unit/tap.h"
#include "tests/unit/sql_fixture.h"

#define HOUR	3600
#define DAY	86400
#define SINK	"unit"

static char			 dir[64];
static struct probe_result	*R;
static struct probe_policy	 ppol;
static struct store_policy	 spol;
static time_t			 T = 1764547200;	/* 2025-12-01T00:00:00Z */

static const char *
dbpath(const char *name)
{
	static char	 buf[4][PATH_MAX];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int
step(struct store *st, const char *domain, enum synth_state s, time_t now)
{
	synth_result(R, domain, s, now);
	return store_check(st, R, &ppol, &spol, now, NULL);
}

/*
 * The next transition for sink SINK, taken and marked delivered: its
 * name ("" when none waits), its payload parsed into *payload (caller
 * decrefs; NULL when none).
 */
static const char *
take(struct store *st, json_t **payload)
{
	static char		 tr[16];
	struct store_outbox_row	 row;
	json_error_t		 jerr;
	int			 rc;

	tr[0] = '\0';
	if (payload != NULL)
		*payload = NULL;
	rc = store_outbox_next(st, SINK, &row);
	if (rc != 1) {
		if (rc == -1)
			tap_diag("outbox: %s", store_error(st));
		return tr;
	}
	snprintf(tr, sizeof(tr), "%s", row.transition);
	if (payload != NULL)
		*payload = json_loads(row.payload, 0, &jerr);
	if (store_delivery_record(st, row.id, SINK, STORE_DELIVERY_DONE, NULL,
	    NULL, T) == -1)
		tap_diag("delivery: %s", store_error(st));
	free(row.payload);
	return tr;
}

static const char *
jstr(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "(none)";
}

static struct store *
fresh(const char *name)
{
	struct store	*st;
	char		 err[512];

	if ((st = store_open(dbpath(name), err, sizeof(err))) == NULL) {
		tap_diag("%s", err);
		return NULL;
	}
	/* Registered before anything happens: it sees every row. */
	if (store_sink_register(st, SINK, STORE_ALERT_ALL, T) == -1)
		tap_diag("%s", store_error(st));
	return st;
}

/* ------------------------------------------------------ lifecycle */

/* An intercepting network: the monitor's problem. No alert per domain,
 * and the domain's open alert is not resolved by a check that saw
 * nothing of it. */
static void
test_intercepted(void)
{
	struct store	*st;
	const char	*d = "icpt.test";
	int		 i;

	if (!ok((st = fresh("icpt.db")) != NULL, "intercepted: store opens"))
		return;
	step(st, d, SY_ROLLSTART, T);
	step(st, d, SY_ROLLSTART, T + HOUR);
	is_str(take(st, NULL), "firing", "intercepted: rotation_pending fires");
	for (i = 0; i < 3; i++) {
		synth_result(R, d, SY_ROLLSTART, T + (2 + i) * HOUR);
		R->intercepted = true;
		R->parent_status = PROBE_Q_NONE;
		R->n_ds = R->n_keys = R->n_servers = R->n_resolvers = 0;
		R->validation = PROBE_VAL_INDETERMINATE;
		snprintf(R->error, sizeof(R->error), "root server 192.0.2.1 "
		    "answered NXDOMAIN");
		ok(store_check(st, R, &ppol, &spol, T + (2 + i) * HOUR, NULL) ==
		    0 && probe_has_problem(R, PROBE_P_DNS_INTERCEPTED),
		    "intercepted: check %d records dns_intercepted", i + 1);
	}
	is_str(take(st, NULL), "", "intercepted: no transition: nothing fires "
	    "per domain, the open alert is not resolved");
	is_int(sql_int(dbpath("icpt.db"), "SELECT count(*) FROM "
	    "alert_candidates WHERE code = 'dns_intercepted'"), 0,
	    "intercepted: not even a candidate");
	store_close(st);
}

static void
test_rotation_lifecycle(void)
{
	struct store	*st;
	json_t		*p = NULL;
	char		 rec[64];
	const char	*d = "rot.test";

	if (!ok((st = fresh("rot.db")) != NULL, "lifecycle: store opens"))
		return;
	ok(step(st, d, SY_HEALTHY, T) == 0, "lifecycle: healthy at T");
	is_str(take(st, NULL), "", "lifecycle: healthy: no transition");
	ok(step(st, d, SY_ROLLSTART, T + HOUR) == 0, "lifecycle: rollstart");
	is_str(take(st, NULL), "", "damping: one check with the rotation: "
	    "nothing yet");
	is_int(sql_int(dbpath("rot.db"), "SELECT checks FROM "
	    "alert_candidates WHERE code = 'rotation_pending'"), 1,
	    "damping: a candidate with one check");
	ok(step(st, d, SY_ROLLSTART, T + 2 * HOUR) == 0, "lifecycle: again");
	is_str(take(st, &p), "firing", "damping: the second check fires");
	is_str(jstr(p, "code"), "rotation_pending",
	    "firing: rotation_deadline and rotation_pending are one alert");
	is_str(jstr(p, "severity"), "warning", "firing: a warning");
	is_str(jstr(p, "domain"), d, "firing: the domain");
	snprintf(rec, sizeof(rec), "%s. IN DS %u 8 2 ", d,
	    synth_tag(SY_KSK_NEW));
	ok(strncmp(json_string_value(json_array_get(json_object_get(p,
	    "ds_to_publish"), 0)) ? json_string_value(json_array_get(
	    json_object_get(p, "ds_to_publish"), 0)) : "", rec,
	    strlen(rec)) == 0, "firing: ds_to_publish names the new key's DS");
	is_str(jstr(p, "deadline"), "2025-12-08T00:00:00Z",
	    "firing: the registrar deadline (start + 7d - DS TTL)");
	is_int(json_integer_value(json_object_get(p, "seconds_left")),
	    7 * DAY - SYNTH_DS_TTL - HOUR, "firing: seconds_left");
	ok(strstr(jstr(p, "message"), "2025-12-08T00:00:00Z") != NULL,
	    "firing: the message says the deadline");
	is_str(jstr(p, "first_fired"), "2025-12-01T02:00:00Z",
	    "firing: first_fired");
	ok(json_is_array(json_object_get(p, "failing_resolvers")) &&
	    json_is_array(json_object_get(p, "problems")),
	    "firing: failing_resolvers and problems");
	is_int(sql_int(dbpath("rot.db"), "SELECT count(*) FROM "
	    "alert_candidates"), 0, "firing: the candidate is gone");
	json_decref(p);

	ok(step(st, d, SY_ROLLSTART, T + 2 * HOUR + 23 * HOUR) == 0,
	    "lifecycle: 23 h later");
	is_str(take(st, NULL), "", "reminder: not before alerts.repeat");
	ok(step(st, d, SY_ROLLSTART, T + 2 * HOUR + DAY) == 0,
	    "lifecycle: 24 h later");
	is_str(take(st, &p), "reminder", "reminder: at alerts.repeat");
	is_str(jstr(p, "severity"), "warning", "reminder: still a warning");
	json_decref(p);

	ok(step(st, d, SY_ROLLSTART, T + 5 * DAY) == 0, "lifecycle: T+5d");
	is_str(take(st, &p), "escalated", "escalation: inside critical_before");
	is_str(jstr(p, "severity"), "critical", "escalation: critical");
	json_decref(p);
	ok(step(st, d, SY_ROLLSTART, T + 5 * DAY + HOUR) == 0,
	    "lifecycle: an hour on");
	is_str(take(st, NULL), "", "escalation: once, and it counts as a "
	    "notice for the reminders");

	ok(step(st, d, SY_UNREACHABLE, T + 5 * DAY + 2 * HOUR) == 0,
	    "lifecycle: every server silent");
	is_str(take(st, NULL), "", "inconclusive: a check that saw nothing "
	    "neither resolves nor fires (damped)");
	is_int(sql_int(dbpath("rot.db"), "SELECT count(*) FROM alerts WHERE "
	    "state = 'escalated'"), 1, "inconclusive: still escalated");

	ok(step(st, d, SY_DSUPDATED, T + 5 * DAY + 3 * HOUR) == 0,
	    "lifecycle: the DS swapped");
	is_str(take(st, &p), "resolved", "resolve: when the DS is in place");
	ok(strstr(jstr(p, "message"), "ds_updated") != NULL,
	    "resolve: the message says what the domain is now");
	json_decref(p);
	is_str(take(st, NULL), "", "resolve: nothing else (the silent "
	    "check's candidates were dropped)");
	is_int(sql_int(dbpath("rot.db"), "SELECT count(*) FROM "
	    "alert_candidates"), 0, "resolve: no candidate left");
	ok(step(st, d, SY_ROLLDONE, T + 6 * DAY) == 0 &&
	    step(st, d, SY_ROLLDONE, T + 6 * DAY + HOUR) == 0,
	    "lifecycle: rolldone");
	is_str(take(st, NULL), "", "rolldone: quiet");
	store_close(st);
}

static void
test_fire_at_once_and_flaps(void)
{
	struct store	*st;
	json_t		*p = NULL;
	const char	*t1, *t2;
	char		 c1[40] = "", c2[40] = "";

	if (!ok((st = fresh("once.db")) != NULL, "at once: store opens"))
		return;
	step(st, "b.test", SY_HEALTHY, T);
	ok(step(st, "b.test", SY_BROKEN, T + HOUR) == 0, "at once: broken");
	t1 = take(st, &p);
	snprintf(c1, sizeof(c1), "%s", jstr(p, "code"));
	ok(strcmp(t1, "firing") == 0 && strcmp(jstr(p, "severity"),
	    "critical") == 0, "at once: a critical alert on the first check");
	ok(json_array_size(json_object_get(p, "failing_resolvers")) == 1,
	    "at once: the failing resolver is named");
	json_decref(p);
	t2 = take(st, &p);
	snprintf(c2, sizeof(c2), "%s", jstr(p, "code"));
	json_decref(p);
	ok(strcmp(t2, "firing") == 0 &&
	    ((strcmp(c1, "chain_broken") == 0 &&
	    strcmp(c2, "validation_bogus") == 0) ||
	    (strcmp(c2, "chain_broken") == 0 &&
	    strcmp(c1, "validation_bogus") == 0)),
	    "at once: chain_broken and validation_bogus (%s, %s)", c1, c2);
	is_str(take(st, NULL), "", "at once: nothing else");
	ok(step(st, "b.test", SY_BROKEN, T + 2 * HOUR) == 0,
	    "at once: broken again");
	is_str(take(st, NULL), "", "dedup: one alert per (domain, code)");
	step(st, "b.test", SY_ROLLDONE, T + 3 * HOUR);
	ok(strcmp(take(st, NULL), "resolved") == 0 &&
	    strcmp(take(st, NULL), "resolved") == 0,
	    "at once: both resolve when the chain is back");

	/* Flapping: seen, gone, seen: never two checks in a row. */
	step(st, "f.test", SY_HEALTHY, T);
	step(st, "f.test", SY_ROLLSTART, T + HOUR);
	step(st, "f.test", SY_HEALTHY, T + 2 * HOUR);
	step(st, "f.test", SY_ROLLSTART, T + 3 * HOUR);
	step(st, "f.test", SY_HEALTHY, T + 4 * HOUR);
	is_str(take(st, NULL), "", "flapping: damped, never fires");

	/* Silent checks between two sightings neither count nor reset. */
	step(st, "g.test", SY_HEALTHY, T);
	step(st, "g.test", SY_ROLLSTART, T + HOUR);
	step(st, "g.test", SY_UNREACHABLE, T + 2 * HOUR);
	step(st, "g.test", SY_ROLLSTART, T + 3 * HOUR);
	is_str(take(st, &p), "firing", "inconclusive in between: the second "
	    "sighting fires");
	json_decref(p);

	/* Notes (severity ok) never alert. */
	step(st, "z.test", SY_ZSKROLL, T);
	step(st, "z.test", SY_ZSKROLL, T + HOUR);
	step(st, "z.test", SY_ZSKROLL, T + 2 * HOUR);
	step(st, "u.test", SY_UNSIGNED, T);
	step(st, "u.test", SY_UNSIGNED, T + HOUR);
	is_str(take(st, NULL), "", "notes: zsk_rotation and an unsigned "
	    "zone never alert");
	store_close(st);
}

static void
test_policies(void)
{
	struct store		*st;
	struct store_policy	 keep = spol;

	if (!ok((st = fresh("policy.db")) != NULL, "policy: store opens"))
		return;
	spol.alert_fire_after_s = HOUR;
	step(st, "d.test", SY_HEALTHY, T);
	step(st, "d.test", SY_ROLLSTART, T + HOUR);
	step(st, "d.test", SY_ROLLSTART, T + HOUR + 10);
	step(st, "d.test", SY_ROLLSTART, T + HOUR + 20);
	is_str(take(st, NULL), "", "fire_after 1h: three checks in 20 s are "
	    "not enough");
	step(st, "d.test", SY_ROLLSTART, T + 2 * HOUR);
	is_str(take(st, NULL), "firing", "fire_after 1h: an hour after the "
	    "first sighting");
	spol.alert_fire_after_s = 0;
	spol.alert_fire_after_checks = 1;
	spol.alert_repeat_s = 0;
	step(st, "e.test", SY_HEALTHY, T);
	step(st, "e.test", SY_ROLLSTART, T + HOUR);
	is_str(take(st, NULL), "firing", "fire_after_checks 1: at once");
	step(st, "e.test", SY_ROLLSTART, T + 4 * HOUR);
	step(st, "e.test", SY_ROLLSTART, T + 3 * DAY);
	is_str(take(st, NULL), "", "repeat 0: no reminders");
	spol = keep;
	store_close(st);
}

/* -------------------------------------------------------- delivery */

struct seen {
	char	 line[16][96];
	int	 n;
};

static int
collect(void *arg, const struct store_alert_delivery *d)
{
	struct seen	*s = arg;

	if (s->n < 16)
		snprintf(s->line[s->n++], sizeof(s->line[0]), "%s %s %s %d",
		    d->transition, d->sink, d->status, d->attempts);
	return 0;
}

static void
test_delivery(void)
{
	struct store		*st;
	struct store_outbox_row	 row;
	struct store_alert	*a = NULL;
	struct seen		 seen;
	size_t			 n = 0;
	int64_t			 first;

	if (!ok((st = fresh("deliver.db")) != NULL, "delivery: store opens"))
		return;
	ok(store_sink_register(st, "fr", STORE_ALERT_FIRING |
	    STORE_ALERT_RESOLVED, T) == 0, "delivery: a sink for firing and "
	    "resolved only");
	step(st, "x.test", SY_HEALTHY, T);
	step(st, "x.test", SY_BROKEN, T + HOUR);
	step(st, "x.test", SY_BROKEN, T + DAY + HOUR);	/* reminders */
	step(st, "x.test", SY_ROLLDONE, T + DAY + 2 * HOUR);
	is_int(sql_int(dbpath("deliver.db"), "SELECT count(*) FROM outbox"), 6,
	    "delivery: 2 firing, 2 reminders, 2 resolved in the outbox");
	ok(store_sink_register(st, "late", STORE_ALERT_ALL, T) == 0 &&
	    store_outbox_next(st, "late", &row) == 0,
	    "delivery: a sink seen for the first time is not sent history");

	ok(store_outbox_next(st, "fr", &row) == 1, "delivery: fr has a row");
	first = row.id;
	is_str(row.transition, "firing", "delivery: oldest first");
	ok(store_delivery_record(st, row.id, "fr", STORE_DELIVERY_RETRY,
	    "HTTP 500", NULL, T) == 0, "delivery: a failed attempt recorded");
	free(row.payload);
	ok(store_outbox_next(st, "fr", &row) == 1 && row.id == first &&
	    row.attempts == 1, "delivery: the failed row stays first, with "
	    "its attempt counted");
	store_delivery_record(st, row.id, "fr", STORE_DELIVERY_DONE, NULL,
	    NULL, T);
	free(row.payload);
	ok(store_outbox_next(st, "fr", &row) == 1 && row.id > first,
	    "delivery: done, the next one");
	store_delivery_record(st, row.id, "fr", STORE_DELIVERY_GIVEN_UP,
	    "HTTP 400", NULL, T);
	free(row.payload);
	ok(store_outbox_next(st, "fr", &row) == 1 &&
	    strcmp(row.transition, "resolved") == 0,
	    "delivery: given up moves on; reminders are skipped by the filter");
	free(row.payload);

	ok(store_alerts(st, 0, &a, &n) == 0 && n == 2, "alerts: two alerts");
	if (n > 0) {
		is_str(a[0].state, "resolved", "alerts: resolved");
		memset(&seen, 0, sizeof(seen));
		ok(store_alert_deliveries(st, a[n - 1].id, collect, &seen) == 0,
		    "alerts: deliveries of the first alert");
		tap_diag("%s | %s | %s | %s | %s | %s", seen.line[0],
		    seen.line[1], seen.line[2], seen.line[3], seen.line[4],
		    seen.line[5]);
		ok(seen.n == 5 && strcmp(seen.line[0], "firing fr delivered 2")
		    == 0 && strcmp(seen.line[1], "firing unit pending 0") == 0
		    && strcmp(seen.line[2], "reminder unit pending 0") == 0 &&
		    strstr(seen.line[3], "resolved fr pending") != NULL,
		    "alerts: per sink: delivered (2 attempts), pending; not "
		    "listed where filtered or before a sink existed");
	}
	free(a);
	a = NULL;
	ok(store_alerts(st, T + 2 * DAY, &a, &n) == 0 && n == 0,
	    "alerts: --since leaves out older resolved ones");
	free(a);
	store_close(st);
}

/* Retention: delivered transitions go, undelivered ones stay, alerts stay. */
static void
test_prune(void)
{
	struct store	*st;
	const char	*db = dbpath("prune.db");
	long long	 total, alerts, k;

	if (!ok((st = fresh("prune.db")) != NULL, "prune: store opens"))
		return;
	step(st, "p.test", SY_HEALTHY, T);
	step(st, "p.test", SY_BROKEN, T + HOUR);	/* firing */
	step(st, "p.test", SY_ROLLDONE, T + 2 * HOUR);	/* resolved */
	total = sql_int(db, "SELECT count(*) FROM outbox");
	alerts = sql_int(db, "SELECT count(*) FROM alerts");
	ok(alerts >= 1 && total == 2 * alerts, "prune: each alert fired and "
	    "resolved (%lld alerts, %lld transitions)", alerts, total);
	/* The daemon registers its sinks at every start and reload. */
	store_sink_register(st, SINK, STORE_ALERT_ALL, T + 10 * DAY);
	for (k = 0; k < alerts; k++)
		take(st, NULL);			/* the firing ones */
	ok(store_prune(st, T + 5 * DAY, 100, 10) >= alerts,
	    "prune: ran past the delivered transitions");
	is_int(sql_int(db, "SELECT count(*) FROM outbox"), total - alerts,
	    "prune: delivered transitions are gone, pending ones stay");
	is_int(sql_int(db, "SELECT count(*) FROM outbox WHERE transition = "
	    "'resolved'"), alerts, "prune: the pending ones are the resolved");
	is_int(sql_int(db, "SELECT count(*) FROM deliveries WHERE outbox_id "
	    "NOT IN (SELECT id FROM outbox)"), 0,
	    "prune: no delivery row is left without its transition");
	is_int(sql_int(db, "SELECT count(*) FROM alerts"), alerts,
	    "prune: the alerts themselves are kept");
	is_str(take(st, NULL), "resolved",
	    "prune: a pending transition is still delivered afterwards");
	for (k = 1; k < alerts; k++)
		take(st, NULL);
	store_prune(st, T + 5 * DAY, 100, 10);
	is_int(sql_int(db, "SELECT count(*) FROM outbox"), 0,
	    "prune: once delivered, they go too");
	step(st, "p.test", SY_BROKEN, T + 20 * DAY);	/* fires again */
	for (k = 0; k < alerts; k++)
		take(st, NULL);
	store_prune(st, T + 5 * DAY, 100, 10);
	is_int(sql_int(db, "SELECT count(*) FROM outbox"), alerts,
	    "prune: delivered transitions newer than the cut-off stay");
	store_close(st);
}

/* One transaction: a failing outbox write takes the observation with it. */
static void
test_atomic(void)
{
	struct store	*st;
	const char	*p = dbpath("atomic.db");

	if (!ok((st = fresh("atomic.db")) != NULL, "atomic: store opens"))
		return;
	step(st, "a.test", SY_HEALTHY, T);
	ok(sql_exec(p, "CREATE TRIGGER fault BEFORE INSERT ON outbox BEGIN "
	    "SELECT RAISE(ABORT, 'injected outbox fault'); END") == 0,
	    "atomic: a fault at the outbox insert");
	ok(step(st, "a.test", SY_BROKEN, T + HOUR) == -1 &&
	    strstr(store_error(st), "injected outbox fault") != NULL,
	    "atomic: the check fails with it");
	is_int(sql_int(p, "SELECT count(*) FROM observations"), 1,
	    "atomic: the observation was not recorded either");
	is_int(sql_int(p, "SELECT count(*) FROM alerts"), 0,
	    "atomic: nor the alert");
	sql_exec(p, "DROP TRIGGER fault");
	ok(step(st, "a.test", SY_BROKEN, T + 2 * HOUR) == 0,
	    "atomic: without the fault it records");
	is_str(take(st, NULL), "firing", "atomic: and fires");
	store_close(st);
}

/* ----------------------------------------------------- migration */

static void
test_migration(const char *top)
{
	char		 fx[PATH_MAX], err[512], *sql = NULL;
	const char	*p = dbpath("v1.db");
	struct store	*st;
	FILE		*f;
	long		 len;

	snprintf(fx, sizeof(fx), "%s/tests/store/schema_v1.sql", top);
	if ((f = fopen(fx, "r")) != NULL && fseek(f, 0, SEEK_END) == 0 &&
	    (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (sql = calloc(1, (size_t)len + 1)) != NULL &&
	    fread(sql, 1, (size_t)len, f) != (size_t)len) {
		free(sql);
		sql = NULL;
	}
	if (f != NULL)
		fclose(f);
	if (!ok(sql != NULL, "migration: read %s", fx))
		return;
	ok(sql_exec(p, sql) == 0 && sql_int(p, "PRAGMA user_version") == 1,
	    "migration: the version 1 fixture loaded");
	free(sql);
	st = store_open(p, err, sizeof(err));
	if (!ok(st != NULL, "migration: 1 -> 2 opens")) {
		tap_diag("%s", err);
		return;
	}
	is_int(sql_int(p, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	    "migration: the current version");
	is_int(sql_int(p, "SELECT count(*) FROM sqlite_master WHERE name IN "
	    "('alert_candidates', 'alert_sinks', 'alerts_resolved')"), 3,
	    "migration: new tables and index");
	is_int(sql_int(p, "SELECT count(*) FROM pragma_table_info('outbox') "
	    "WHERE name = 'transition'") + sql_int(p, "SELECT count(*) FROM "
	    "pragma_table_info('deliveries') WHERE name IN ('failed_at', "
	    "'output')") + sql_int(p, "SELECT count(*) FROM "
	    "pragma_table_info('alerts') WHERE name = 'last_seen'"), 4,
	    "migration: new columns");
	is_int(sql_int(p, "SELECT count(*) FROM observations"), 2,
	    "migration: the history is kept");
	store_sink_register(st, SINK, STORE_ALERT_ALL, T);
	/* The fixture's rotation is open: the walk goes on from it. */
	ok(step(st, "fixture.test", SY_ROLLSTART, 1764547200 + 2 * HOUR) == 0 &&
	    step(st, "fixture.test", SY_ROLLSTART, 1764547200 + 3 * HOUR) == 0,
	    "migration: checks record on the migrated database");
	is_str(take(st, NULL), "firing", "migration: and its rotation fires");
	ok(sql_exec(p, "INSERT INTO alerts (domain_id, code, state, severity, "
	    "first_fired, message) VALUES (1, 'rotation_pending', 'firing', "
	    "'warning', 0, 'x')") == -1, "migration: a second open alert for "
	    "the same (domain, code) is refused by the schema");
	store_close(st);
}

/* ------------------------------------- delivery while the store fails */

/*
 * The delivery core with an exec hook and a store that cannot record a
 * delivery (triggers stand in for a full disk). Issue 13, item 2: a hook
 * whose outcome could not be recorded ran again at once, in a loop (985
 * runs in 20 s). Every wait below is for a positive event, with a
 * generous hang guard; nothing is timed.
 */
static char	 errlog[PATH_MAX];

/* How many times needle is in what the code under test logged. */
static int
logged(const char *needle)
{
	FILE	*f = fopen(errlog, "r");
	char	 line[1024];
	int	 n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	if (f != NULL)
		fclose(f);
	return n;
}

static int
runs(const char *path)
{
	FILE	*f = fopen(path, "r");
	int	 c, n = 0;

	while (f != NULL && (c = fgetc(f)) != EOF)
		n += c == '\n';
	if (f != NULL)
		fclose(f);
	return n;
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev; (void)arg;
}

struct until {
	const char	*needle;	/* logged at least n times, or */
	int		 n;
	const char	*db, *sql;	/* this query gives at least n */
};

static bool
reached(const struct until *u)
{
	if (u->needle != NULL)
		return logged(u->needle) >= u->n;
	return sql_int(u->db, u->sql) >= u->n;
}

/* Run the loop until u holds; false after the hang guard. */
static bool
loop_until(struct event_base *base, const struct until *u)
{
	struct timeval	 every = { 0, 100 * 1000 };
	struct timespec	 t0, t;
	struct event	*tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	bool		 hit = false;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	evtimer_add(tick, &every);
	for (;;) {
		if ((hit = reached(u)))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 120)
			break;
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(tick);
	return hit;
}

static void
store_fault(const char *db, bool on)
{
	if (on)
		sql_exec(db, "CREATE TRIGGER full_i BEFORE INSERT ON deliveries "
		    "BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END; "
		    "CREATE TRIGGER full_u BEFORE UPDATE ON deliveries "
		    "BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END");
	else
		sql_exec(db, "DROP TRIGGER full_i; DROP TRIGGER full_u");
}

/* One hook (exit status `status`, retries 2) on a store that refuses to
 * record, then recovers. */
static void
hook_on_failing_store(const char *dbname, int status)
{
	struct event_base	*base = event_base_new();
	struct alerts_config	 cfg;
	struct alerts_exec_config *x;
	struct alerts		*a = NULL;
	struct store		*st = NULL;
	struct store_policy	 keep = spol;
	struct until		 u;
	char			 count[PATH_MAX], script[PATH_MAX + 64];
	char			 err[256], sql[256], what[64];
	const char		*db = dbpath(dbname);
	int			 before;

	snprintf(what, sizeof(what), "store failing, hook exit %d", status);
	snprintf(count, sizeof(count), "%s/%s.runs", dir, dbname);
	snprintf(script, sizeof(script), "echo run >> '%s'; exit %d", count,
	    status);
	alerts_config_defaults(&cfg);
	cfg.n_exec = 1;
	cfg.exec = x = calloc(1, sizeof(*x));
	if (base == NULL || x == NULL ||
	    !ok((st = fresh(dbname)) != NULL, "%s: store opens", what))
		goto out;
	snprintf(x->name, sizeof(x->name), "hook");
	x->argv[0] = strdup("/bin/sh");
	x->argv[1] = strdup("-c");
	x->argv[2] = strdup(script);
	x->argc = 3;
	x->timeout_s = 30;
	x->retries = 2;
	x->on = STORE_ALERT_ALL;
	if (!ok((a = alerts_create(base, &cfg, st, err, sizeof(err))) != NULL,
	    "%s: alerts start", what)) {
		tap_diag("%s", err);
		goto out;
	}
	store_fault(db, true);
	spol.alert_fire_after_checks = 1;
	spol.alert_fire_after_s = 0;
	step(st, "hook.test", SY_HEALTHY, T);
	step(st, "hook.test", SY_ROLLSTART, T + HOUR);	/* fires */
	spol = keep;
	alerts_after_check(a, R, NULL);

	/* Three failed attempts to record: before the fix, three runs (or
	 * hundreds, for a hook that succeeded). */
	before = logged("recording delivery #");
	u = (struct until){ "recording delivery #", before + 3, NULL, NULL };
	ok(loop_until(base, &u), "%s: three attempts to record, each refused",
	    what);
	is_int(runs(count), 1, "%s: the hook ran once and is not run again "
	    "while its outcome cannot be recorded", what);
	ok(logged("delivering nothing until it is recorded") >= 3,
	    "%s: the log says deliveries wait for the store", what);

	store_fault(db, false);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM deliveries WHERE "
	    "sink = 'hook' AND (delivered_at > 0 OR failed_at > 0)");
	u = (struct until){ NULL, 1, db, sql };
	ok(loop_until(base, &u), "%s: the store back, the outcome is "
	    "recorded", what);
	if (status == 0) {
		is_int(runs(count), 1, "%s: delivered once, never run again",
		    what);
	} else {
		is_int(runs(count), 3, "%s: retries: 2 means 3 runs in all, "
		    "then given up", what);
		is_int(sql_int(db, "SELECT attempts FROM deliveries WHERE "
		    "sink = 'hook'"), 3, "%s: 3 attempts recorded", what);
	}
out:
	alerts_destroy(a);
	alerts_config_free(&cfg);
	store_close(st);
	if (base != NULL)
		event_base_free(base);
}

static void
test_failing_store(void)
{
	int	 fd, saved;

	/* The log (stderr) goes to a file the test reads. */
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", dir);
	fflush(stderr);
	if ((fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600)) == -1 ||
	    (saved = dup(2)) == -1 || dup2(fd, 2) == -1) {
		ok(0, "failing store: capture stderr: %s", strerror(errno));
		return;
	}
	close(fd);
	hook_on_failing_store("hold-ok.db", 0);
	hook_on_failing_store("hold-fail.db", 1);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
}

/* --------------------------------------------------- pure helpers */

static void
test_helpers(void)
{
	char		 host[256], path[256], why[256], *b;
	bool		 https;
	int		 port;
	json_t		*j;
	json_error_t	 jerr;

	ok(alerts_url_parse("http://127.0.0.1:8080/hook?x=1#f", &https, host,
	    sizeof(host), &port, path, sizeof(path), why, sizeof(why)) == 0 &&
	    !https && strcmp(host, "127.0.0.1") == 0 && port == 8080 &&
	    strcmp(path, "/hook?x=1") == 0, "url: http with port, path, query");
	ok(alerts_url_parse("https://[::1]/a", &https, host, sizeof(host),
	    &port, path, sizeof(path), why, sizeof(why)) == 0 && https &&
	    strcmp(host, "::1") == 0 && port == 443, "url: https, IPv6");
	ok(alerts_url_parse("https://example.net", &https, host, sizeof(host),
	    &port, path, sizeof(path), why, sizeof(why)) == 0 &&
	    strcmp(path, "/") == 0, "url: no path is /");
	ok(alerts_url_parse("ftp://x/", &https, host, sizeof(host), &port,
	    path, sizeof(path), why, sizeof(why)) == -1, "url: ftp refused");
	ok(alerts_url_parse("http://x:70000/", &https, host, sizeof(host),
	    &port, path, sizeof(path), why, sizeof(why)) == -1 &&
	    strstr(why, "70000") != NULL, "url: port 70000 refused (%s)", why);
	ok(alerts_url_parse("http://x:8a/", &https, host, sizeof(host), &port,
	    path, sizeof(path), why, sizeof(why)) == -1, "url: port 8a refused");
	ok(alerts_url_parse("http://u:p@x/", &https, host, sizeof(host),
	    &port, path, sizeof(path), why, sizeof(why)) == -1,
	    "url: user:password@ refused");
	ok(alerts_url_parse("http:///x", &https, host, sizeof(host), &port,
	    path, sizeof(path), why, sizeof(why)) == -1, "url: no host refused");

	/* Alertmanager: a base URL gets the API's path, the API's own is
	 * kept, a route prefix is kept in front. */
	ok(alerts_am_url("http://am1:9093", &https, host, sizeof(host), &port,
	    path, sizeof(path), why, sizeof(why)) == 0 && port == 9093 &&
	    strcmp(path, "/api/v2/alerts") == 0, "am url: base URL (%s)", path);
	ok(alerts_am_url("https://am1/am/", &https, host, sizeof(host), &port,
	    path, sizeof(path), why, sizeof(why)) == 0 && https &&
	    strcmp(path, "/am/api/v2/alerts") == 0, "am url: route prefix "
	    "(%s)", path);
	ok(alerts_am_url("http://am1:9093/am", &https, host, sizeof(host),
	    &port, path, sizeof(path), why, sizeof(why)) == 0 &&
	    strcmp(path, "/am/api/v2/alerts") == 0, "am url: prefix without "
	    "a slash (%s)", path);
	ok(alerts_am_url("http://am1:9093/api/v2/alerts", &https, host,
	    sizeof(host), &port, path, sizeof(path), why, sizeof(why)) == 0 &&
	    strcmp(path, "/api/v2/alerts") == 0, "am url: the API's own");
	ok(alerts_am_url("http://am1:9093/?x=1", &https, host, sizeof(host),
	    &port, path, sizeof(path), why, sizeof(why)) == -1 &&
	    strstr(why, "no query") != NULL, "am url: a query refused (%s)",
	    why);

	b = alerts_alertmanager_body("{\"code\":\"chain_broken\",\"domain\":"
	    "\"a.test\",\"severity\":\"critical\",\"transition\":\"firing\","
	    "\"message\":\"m\",\"first_fired\":\"2025-12-01T00:00:00Z\","
	    "\"time\":\"2025-12-01T00:00:00Z\",\"ds_to_publish\":[\"a.test. IN "
	    "DS 1 8 2 AB\"],\"ds_to_remove\":[]}", DAY);
	j = b ? json_loads(b, 0, &jerr) : NULL;
	ok(json_is_array(j) && json_array_size(j) == 1, "alertmanager: an "
	    "array of one alert");
	is_str(jstr(json_object_get(json_array_get(j, 0), "labels"),
	    "alertname"), "dnssecmon_chain_broken", "alertmanager: alertname");
	is_str(jstr(json_object_get(json_array_get(j, 0), "labels"),
	    "zone"), "a.test", "alertmanager: zone, as Prometheus's series");
	is_str(jstr(json_array_get(j, 0), "endsAt"), "2025-12-03T00:00:00Z",
	    "alertmanager: an open alert lasts two reminder intervals");
	ok(strstr(jstr(json_object_get(json_array_get(j, 0), "annotations"),
	    "description"), "Add at the registrar: a.test. IN DS 1 8 2 AB") !=
	    NULL, "alertmanager: the description says which DS to add");
	json_decref(j);
	free(b);
	b = alerts_alertmanager_body("{\"code\":\"x\",\"domain\":\"a.test\","
	    "\"severity\":\"warning\",\"transition\":\"resolved\",\"message\":"
	    "\"m\",\"time\":\"2025-12-02T00:00:00Z\"}", DAY);
	j = b ? json_loads(b, 0, &jerr) : NULL;
	is_str(jstr(json_array_get(j, 0), "endsAt"), "2025-12-02T00:00:00Z",
	    "alertmanager: resolved ends now");
	json_decref(j);
	free(b);
	ok(alerts_alertmanager_body("not json", DAY) == NULL,
	    "alertmanager: garbage is refused");
}

static const char *
top_dir(const char *argv0)
{
	static char	 buf[PATH_MAX];
	char		 tmp[PATH_MAX];
	const char	*t = getenv("DNSSECMON_TOP");

	if (t != NULL && *t)
		return t;
	if (access("tests/store/schema_v1.sql", R_OK) == 0)
		return ".";
	snprintf(tmp, sizeof(tmp), "%s", argv0);
	snprintf(buf, sizeof(buf), "%s/../../..", dirname(tmp));
	return buf;
}

int
main(int argc, char *argv[])
{
	char	 cmd[128];

	(void)argc;
	snprintf(dir, sizeof(dir), "/tmp/dnssecmon-alerts.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	if ((R = calloc(1, sizeof(*R))) == NULL)
		return 1;
	probe_policy_defaults(&ppol);
	store_policy_defaults(&spol);

	test_rotation_lifecycle();
	test_intercepted();
	test_fire_at_once_and_flaps();
	test_policies();
	test_delivery();
	test_prune();
	test_atomic();
	test_failing_store();
	test_migration(top_dir(argv[0]));
	test_helpers();

	free(R);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return tap_done();
}
