/*
 * The store on the real module sources: schema and migrations, the
 * rotation rules walked on synthetic observations with the clock passed
 * as `now`, escalation thresholds, history's verdicts (stale versus
 * pre-published DS, became_insecure), retention, and the error paths
 * (read-only, locked, a fault half-way through a commit).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/clock.h"
#include "probe/probe.h"
#include "store/store.h"
#include "tests/store/synth.h"
#include "tests/unit/tap.h"
#include "tests/unit/sql_fixture.h"

#define HOUR	3600
#define DAY	86400

static char			 dir[64];
static struct probe_result	*R;
static struct probe_policy	 ppol;
static struct store_policy	 spol;
static time_t			 T;	/* the walk's day zero */

static const char *
dbpath(const char *name)
{
	static char	 buf[4][PATH_MAX];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* One check the way cli/check.c and the daemon run it. */
static int
step(struct store *st, const char *domain, enum synth_state s, time_t now,
    struct store_rotation *open)
{
	synth_result(R, domain, s, now);
	return store_check(st, R, &ppol, &spol, now, open);
}

static bool
has_problem(const struct probe_result *r, const char *code,
    enum probe_severity *sev, const char **msg)
{
	unsigned	 i;

	for (i = 0; i < r->n_problems; i++)
		if (strcmp(r->problems[i].code, code) == 0) {
			if (sev != NULL)
				*sev = r->problems[i].severity;
			if (msg != NULL)
				*msg = r->problems[i].message;
			return true;
		}
	return false;
}

/* ok() for an open store, with the reason when it failed. */
static bool
opened(const struct store *st, const char *err, const char *desc)
{
	if (!ok(st != NULL, "%s", desc)) {
		tap_diag("%s", err);
		return false;
	}
	return true;
}

/* The only rotation of a database (or the first of several). */
static int
only_rotation(struct store *st, struct store_rotation *out, size_t *n)
{
	struct store_rotation	*a;

	if (store_rotations(st, false, &a, n) == -1)
		return -1;
	if (*n > 0)
		*out = a[0];
	free(a);
	return 0;
}

/* ------------------------------------------------------------ schema */

static void
test_schema(void)
{
	char			 p[PATH_MAX];
	struct store		*st;
	char			 err[512];
	const char		*tables[] = { "domains", "observations", "keys",
	    "ds", "rotations", "alerts", "outbox", "deliveries" };
	char			 sql[128];
	size_t			 i;

	snprintf(p, sizeof(p), "%s", dbpath("schema.db"));
	st = store_open(p, err, sizeof(err));
	opened(st, err, "schema: a new database opens");
	store_close(st);
	is_int(sql_int(p, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	    "schema: user_version is %d", STORE_SCHEMA_VERSION);
	is_int(sql_int(p, "PRAGMA application_id"), 0x646e736d,
	    "schema: application_id marks a dnssecmon file");
	for (i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master "
		    "WHERE type = 'table' AND name = '%s'", tables[i]);
		is_int(sql_int(p, sql), 1, "schema: table %s exists",
		    tables[i]);
	}
	ok(sql_int(p, "SELECT count(*) FROM sqlite_master WHERE type = "
	    "'index' AND name NOT LIKE 'sqlite_autoindex%'") >= 7,
	    "schema: indexes for the queries");
	{
		sqlite3 *db;
		sqlite3_stmt *s;
		const unsigned char *mode = NULL;
		char m[16] = "";

		sqlite3_open(p, &db);
		if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
		    NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
		    (mode = sqlite3_column_text(s, 0)) != NULL)
			snprintf(m, sizeof(m), "%s", mode);
		sqlite3_finalize(s);
		sqlite3_close(db);
		is_str(m, "wal", "schema: the database is in WAL mode");
	}
	/* Opening again is a no-op migration. */
	st = store_open(p, err, sizeof(err));
	ok(st != NULL, "schema: reopening an up-to-date database works");
	store_close(st);
}

static void
test_migrations(void)
{
	struct store	*st;
	char		 err[512], name[32], desc[64];
	int		 v;

	/* Every earlier version, built by the migrations themselves. */
	for (v = 0; v < STORE_SCHEMA_VERSION; v++) {
		snprintf(name, sizeof(name), "v%d.db", v);
		ok(store_create_at_version(dbpath(name), v, err,
		    sizeof(err)) == 0, "migrate: built a version %d database", v);
		is_int(sql_int(dbpath(name), "PRAGMA user_version"), v,
		    "migrate: it is at version %d", v);
		st = store_open(dbpath(name), err, sizeof(err));
		snprintf(desc, sizeof(desc), "migrate: version %d opens", v);
		opened(st, err, desc);
		if (st != NULL)
			ok(step(st, "mig.test", SY_HEALTHY, T, NULL) == 0,
			    "migrate: a check records into the migrated %d", v);
		store_close(st);
		is_int(sql_int(dbpath(name), "PRAGMA user_version"),
		    STORE_SCHEMA_VERSION, "migrate: %d -> %d", v,
		    STORE_SCHEMA_VERSION);
	}

	/* A database from the future is refused, not damaged. */
	ok(store_create_at_version(dbpath("future.db"), STORE_SCHEMA_VERSION,
	    err, sizeof(err)) == 0 && sql_exec(dbpath("future.db"),
	    "PRAGMA user_version = 99") == 0, "migrate: made a version 99 file");
	st = store_open(dbpath("future.db"), err, sizeof(err));
	ok(st == NULL && contains(err, "newer") &&
	    contains(err, dbpath("future.db")),
	    "migrate: a newer schema is refused, naming the file");
	store_close(st);
	is_int(sql_int(dbpath("future.db"), "PRAGMA user_version"), 99,
	    "migrate: the newer file is left alone");

	/* Somebody else's database. */
	sql_exec(dbpath("foreign.db"), "CREATE TABLE t (x)");
	st = store_open(dbpath("foreign.db"), err, sizeof(err));
	ok(st == NULL && contains(err, "not a dnssecmon database"),
	    "migrate: a foreign database is refused");
	store_close(st);
	is_int(sql_int(dbpath("foreign.db"), "SELECT count(*) FROM "
	    "sqlite_master"), 1, "migrate: the foreign database is untouched");
}

/* Where the source tree is: run.sh says; by hand, guess from argv[0]. */
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
	/* build/VARIANT/tests/test_store */
	snprintf(tmp, sizeof(tmp), "%s", argv0);
	snprintf(buf, sizeof(buf), "%s/../../..", dirname(tmp));
	return buf;
}

/*
 * The kept databases of every earlier schema (version 1 as dnssecmon 0.1
 * wrote it, version 2 as the alerts release left it): loaded as written
 * and opened by today's code, which migrates them forward.
 */
static void
test_fixture(const char *top, int version)
{
	char			 fx[PATH_MAX], err[512], *sql = NULL;
	char			 p[PATH_MAX];
	struct store		*st;
	struct store_rotation	 rot, open;
	FILE			*f;
	long			 len;
	size_t			 n = 0;

	snprintf(fx, sizeof(fx), "fixture-v%d.db", version);
	snprintf(p, sizeof(p), "%s", dbpath(fx));
	snprintf(fx, sizeof(fx), "%s/tests/store/schema_v%d.sql", top, version);
	if ((f = fopen(fx, "r")) != NULL && fseek(f, 0, SEEK_END) == 0 &&
	    (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (sql = calloc(1, (size_t)len + 1)) != NULL &&
	    fread(sql, 1, (size_t)len, f) != (size_t)len) {
		free(sql);
		sql = NULL;
	}
	if (f != NULL)
		fclose(f);
	if (!ok(sql != NULL, "fixture: read %s", fx))
		return;
	ok(sql_exec(p, sql) == 0, "fixture: loaded the version %d database",
	    version);
	free(sql);
	is_int(sql_int(p, "PRAGMA user_version"), version,
	    "fixture: it is version %d", version);
	st = store_open(p, err, sizeof(err));
	if (!opened(st, err, "fixture: today's store opens it"))
		return;
	is_int(sql_int(p, "PRAGMA user_version"), STORE_SCHEMA_VERSION,
	    "fixture: migrated to %d", STORE_SCHEMA_VERSION);
	is_int(sql_int(p, "SELECT count(*) FROM pragma_table_info('rotations') "
	    "WHERE name LIKE 'host\\_%' ESCAPE '\\'"), 4,
	    "fixture v%d: rotations keep a DNS host's DS (4 columns)", version);
	is_int(sql_int(p, "SELECT count(*) FROM pragma_table_info("
	    "'alg_rollovers') WHERE name IN ('stage', 'stage_since', "
	    "'safe_at', 'deadline')"), 4, "fixture v%d: algorithm rollovers "
	    "keep their stage and its clock (4 columns)", version);
	ok(only_rotation(st, &rot, &n) == 0 && n == 1,
	    "fixture: its one rotation reads back");
	is_str(rot.domain, "fixture.test", "fixture: rotation domain");
	is_int(rot.start, 1764547200 + HOUR, "fixture: rotation start kept");
	is_int(rot.deadline, 1764547200 + HOUR + 7 * DAY,
	    "fixture: rotation deadline kept");
	is_int(rot.registrar_deadline, 1764547200 + HOUR + 7 * DAY -
	    SYNTH_DS_TTL, "fixture: registrar deadline kept");
	is_str(rot.outcome, "", "fixture: the rotation is open");
	/* The walk goes on from the fixture's history. */
	ok(step(st, "fixture.test", SY_DSUPDATED, 1764547200 + 2 * DAY,
	    &open) == 0, "fixture: a check records on top of it");
	is_int(open.id, rot.id, "fixture: the same rotation stays open");
	is_int(open.ds_updated_at, 1764547200 + 2 * DAY,
	    "fixture: and advances (ds_updated_at)");
	is_int(R->state, PROBE_STATE_DS_UPDATED,
	    "fixture: key ages from the fixture tell old from new");
	store_close(st);
}

/* --------------------------------------------------------- rotations */

static void
test_ksk_walk(void)
{
	struct store		*st;
	struct store_rotation	 open, rot;
	enum probe_severity	 sev;
	const char		*msg = NULL;
	char			 err[512], want[32];
	size_t			 n;
	time_t			 start = T + HOUR;

	st = store_open(dbpath("walk.db"), err, sizeof(err));
	if (!opened(st, err, "walk: open"))
		return;

	ok(step(st, "walk.test", SY_HEALTHY, T, &open) == 0, "walk: healthy");
	is_int(open.id, 0, "walk: healthy: no rotation open");
	is_int(R->state, PROBE_STATE_STABLE, "walk: healthy: stable");

	ok(step(st, "walk.test", SY_ROLLSTART, start, &open) == 0,
	    "walk: rollstart at T+1h");
	is_int(R->state, PROBE_STATE_ROTATION_PENDING,
	    "walk: rollstart: rotation_pending");
	ok(open.id != 0, "walk: rollstart opens a rotation");
	is_int(open.kind, STORE_ROT_KSK, "walk: it is a KSK rotation");
	is_int(open.start, start, "walk: start = the check that saw the key");
	is_int(open.deadline, start + 7 * DAY, "walk: deadline = start + 7d");
	is_int(open.registrar_deadline, start + 7 * DAY - SYNTH_DS_TTL,
	    "walk: registrar deadline = deadline - DS TTL");
	is_int(open.new_key_tag, synth_tag(SY_KSK_NEW), "walk: the new key");
	ok(open.n_old == 1 && open.old_key_tags[0] == synth_tag(SY_KSK),
	    "walk: the old key is the one with the DS");
	ok(has_problem(R, "rotation_deadline", &sev, &msg) &&
	    sev == PROBE_SEV_WARNING, "walk: 7 days left: warning");
	clock_rfc3339(open.registrar_deadline, want, sizeof(want));
	ok(msg && contains(msg, want) && contains(msg, "IN DS") &&
	    contains(msg, "left"),
	    "walk: the problem names the DS, the deadline in UTC, time left");
	is_int(R->severity, PROBE_SEV_WARNING, "walk: severity warning");

	ok(step(st, "walk.test", SY_ROLLSTART, T + 2 * DAY, &open) == 0 &&
	    has_problem(R, "rotation_deadline", &sev, NULL) &&
	    sev == PROBE_SEV_WARNING, "walk: T+2d: still a warning");
	is_int(open.start, start, "walk: T+2d: start unchanged");

	/* Boundary: exactly critical_before left is still a warning. */
	ok(step(st, "walk.test", SY_ROLLSTART, open.registrar_deadline -
	    spol.critical_before_s, &open) == 0 &&
	    has_problem(R, "rotation_deadline", &sev, NULL) &&
	    sev == PROBE_SEV_WARNING, "walk: exactly 72h left: warning");
	ok(step(st, "walk.test", SY_ROLLSTART, open.registrar_deadline -
	    spol.critical_before_s + 1, &open) == 0 &&
	    has_problem(R, "rotation_deadline", &sev, NULL) &&
	    sev == PROBE_SEV_CRITICAL, "walk: a second under 72h: critical");
	ok(step(st, "walk.test", SY_ROLLSTART, T + 5 * DAY, &open) == 0 &&
	    has_problem(R, "rotation_deadline", &sev, NULL) &&
	    sev == PROBE_SEV_CRITICAL, "walk: T+5d: critical");
	is_int(R->severity, PROBE_SEV_CRITICAL, "walk: T+5d: severity critical");
	is_int(R->state, PROBE_STATE_ROTATION_PENDING,
	    "walk: T+5d: the state is still rotation_pending");

	ok(step(st, "walk.test", SY_DSUPDATED, T + 5 * DAY + HOUR,
	    &open) == 0, "walk: dsupdated at T+5d+1h");
	is_int(R->state, PROBE_STATE_DS_UPDATED, "walk: dsupdated: ds_updated");
	is_int(open.ds_updated_at, T + 5 * DAY + HOUR,
	    "walk: ds_updated_at = the first check with the new DS");
	ok(!has_problem(R, "rotation_deadline", NULL, NULL),
	    "walk: dsupdated: no deadline problem any more");
	is_int(R->severity, PROBE_SEV_OK, "walk: dsupdated: ok");

	ok(step(st, "walk.test", SY_DSUPDATED, T + 5 * DAY + 2 * HOUR,
	    &open) == 0 && open.ds_updated_at == T + 5 * DAY + HOUR,
	    "walk: ds_updated_at stays the first such check");

	ok(step(st, "walk.test", SY_ROLLDONE, T + 6 * DAY, &open) == 0,
	    "walk: rolldone at T+6d");
	is_int(open.id, 0, "walk: rolldone: no rotation open");
	ok(only_rotation(st, &rot, &n) == 0 && n == 1,
	    "walk: exactly one rotation recorded");
	is_str(rot.outcome, "completed", "walk: outcome completed");
	is_int(rot.completed_at, T + 6 * DAY, "walk: completed_at");
	is_int(rot.start, start, "walk: start kept to the end");
	is_int(rot.deadline, start + 7 * DAY, "walk: deadline kept");
	is_int(rot.ds_updated_at, T + 5 * DAY + HOUR, "walk: ds_updated_at kept");
	is_str(rot.source, "dns", "walk: source dns");

	ok(step(st, "walk.test", SY_ROLLDONE, T + 7 * DAY, &open) == 0 &&
	    open.id == 0 && only_rotation(st, &rot, &n) == 0 && n == 1,
	    "walk: a stable zone opens nothing new");

	/* The open rotation survives a restart: a new connection. */
	store_close(st);
	st = store_open(dbpath("walk.db"), err, sizeof(err));
	ok(st != NULL && only_rotation(st, &rot, &n) == 0 && n == 1 &&
	    rot.start == start, "walk: history survives reopening");
	store_close(st);
}

static void
test_ksk_broken_abandoned(void)
{
	struct store		*st;
	struct store_rotation	 open, rot;
	enum probe_severity	 sev;
	const char		*msg = NULL;
	char			 err[512];
	size_t			 n;

	st = store_open(dbpath("broken.db"), err, sizeof(err));
	if (!ok(st != NULL, "broken: open"))
		return;
	step(st, "broken.test", SY_HEALTHY, T, &open);
	step(st, "broken.test", SY_ROLLSTART, T + HOUR, &open);
	ok(open.id != 0, "broken: rollstart opened a rotation");
	/* An unreachable zone says nothing about keys: nothing moves. */
	ok(step(st, "broken.test", SY_UNREACHABLE, T + 2 * HOUR, &open) == 0 &&
	    open.id != 0 && R->state == PROBE_STATE_UNKNOWN,
	    "broken: an unobserved check leaves the rotation open");
	ok(has_problem(R, "rotation_deadline", NULL, NULL),
	    "broken: the deadline is still reported while unobserved");
	/* Registrar deadline T+7d (start T+1h, 7d window, 1h DS TTL). */
	ok(step(st, "broken.test", SY_ROLLSTART, T + 7 * DAY + 2 * HOUR,
	    &open) == 0 && has_problem(R, "rotation_deadline", &sev, &msg) &&
	    sev == PROBE_SEV_CRITICAL, "broken: deadline passed: critical");
	ok(msg != NULL && contains(msg, "passed 2h 0m ago") &&
	    contains(msg, "2025-12-08T00:00:00Z") && contains(msg, "IN DS"),
	    "broken: the problem says the deadline passed, when, and the DS");
	is_int(R->severity, PROBE_SEV_CRITICAL, "broken: severity critical");
	ok(step(st, "broken.test", SY_BROKEN, T + 8 * DAY, &open) == 0,
	    "broken: the old key goes without a DS swap");
	is_int(R->state, PROBE_STATE_BROKEN, "broken: state broken");
	is_int(open.id, 0, "broken: the rotation is closed");
	ok(only_rotation(st, &rot, &n) == 0 && n == 1 &&
	    strcmp(rot.outcome, "broken") == 0 &&
	    rot.completed_at == T + 8 * DAY, "broken: outcome broken");
	is_int(rot.ds_updated_at, 0, "broken: ds_updated_at never reached");
	store_close(st);

	st = store_open(dbpath("abandoned.db"), err, sizeof(err));
	if (!ok(st != NULL, "abandoned: open"))
		return;
	step(st, "ab.test", SY_HEALTHY, T, &open);
	step(st, "ab.test", SY_ROLLSTART, T + HOUR, &open);
	ok(step(st, "ab.test", SY_HEALTHY, T + DAY, &open) == 0 &&
	    open.id == 0, "abandoned: the new key is withdrawn");
	ok(only_rotation(st, &rot, &n) == 0 && n == 1 &&
	    strcmp(rot.outcome, "abandoned") == 0 &&
	    rot.completed_at == T + DAY, "abandoned: outcome abandoned");
	is_int(R->state, PROBE_STATE_STABLE, "abandoned: the zone is stable");
	ok(!has_problem(R, "rotation_deadline", NULL, NULL),
	    "abandoned: no deadline problem");
	store_close(st);
}

static void
test_zsk(void)
{
	struct store		*st;
	struct store_rotation	*a = NULL;
	char			 err[512];
	size_t			 n = 0;

	st = store_open(dbpath("zsk.db"), err, sizeof(err));
	if (!ok(st != NULL, "zsk: open"))
		return;
	/* On the first check no one can tell the new ZSK from the old. */
	step(st, "z1.test", SY_ZSKROLL, T, NULL);
	store_rotations(st, false, &a, &n);
	is_int(n, 0, "zsk: a first check during a ZSK roll opens nothing");
	free(a);

	step(st, "z2.test", SY_HEALTHY, T, NULL);
	ok(step(st, "z2.test", SY_ZSKROLL, T + HOUR, NULL) == 0 &&
	    has_problem(R, "zsk_rotation", NULL, NULL),
	    "zsk: a new ZSK published, not signing");
	store_rotations(st, true, &a, &n);
	ok(n == 1 && a[0].kind == STORE_ROT_ZSK && a[0].start == T + HOUR &&
	    a[0].new_key_tag == synth_tag(SY_ZSK2) && a[0].deadline == 0 &&
	    a[0].registrar_deadline == 0,
	    "zsk: a ZSK rotation opens, no registrar deadline");
	free(a);
	ok(!has_problem(R, "rotation_deadline", NULL, NULL) &&
	    R->severity == PROBE_SEV_OK, "zsk: nothing to escalate");
	step(st, "z2.test", SY_ZSKSWAP, T + DAY, NULL);
	store_rotations(st, true, &a, &n);
	is_int(n, 1, "zsk: the swap keeps it open (old ZSK still published)");
	free(a);
	step(st, "z2.test", SY_ZSKDONE, T + 2 * DAY, NULL);
	store_rotations(st, false, &a, &n);
	ok(n == 1 && strcmp(a[0].outcome, "completed") == 0 &&
	    a[0].completed_at == T + 2 * DAY,
	    "zsk: completed when the old ZSK is gone");
	free(a);

	step(st, "z3.test", SY_HEALTHY, T, NULL);
	step(st, "z3.test", SY_ZSKROLL, T + HOUR, NULL);
	step(st, "z3.test", SY_HEALTHY, T + DAY, NULL);
	store_rotations(st, false, &a, &n);
	ok(n == 2 && strcmp(a[0].domain, "z3.test") == 0 &&
	    strcmp(a[0].outcome, "abandoned") == 0,
	    "zsk: abandoned when the new ZSK goes");
	free(a);
	store_close(st);
}

/* ------------------------------------------------- history's verdicts */

static void
test_stale_prepublished(void)
{
	struct store		*st;
	char			 err[512];
	unsigned		 i;
	bool			 pre = false;

	st = store_open(dbpath("ds.db"), err, sizeof(err));
	if (!ok(st != NULL, "ds: open"))
		return;

	/* A double-DS rollover: the new DS before the new key. */
	step(st, "dd.test", SY_HEALTHY, T, NULL);
	ok(step(st, "dd.test", SY_DOUBLEDS, T + HOUR, NULL) == 0,
	    "ds: doubleds after healthy");
	for (i = 0; i < R->n_ds; i++)
		if (R->ds[i].key_tag == synth_tag(SY_KSK_NEW))
			pre = R->ds[i].prepublished;
	ok(pre, "ds: the DS of a never-seen key that arrived is pre-published");
	is_int(R->state, PROBE_STATE_STABLE, "ds: doubleds: stable");
	ok(!has_problem(R, "stale_ds", NULL, NULL), "ds: doubleds: no stale_ds");
	ok(step(st, "dd.test", SY_DOUBLEDS, T + DAY, NULL) == 0 &&
	    R->state == PROBE_STATE_STABLE, "ds: doubleds stays stable");
	ok(step(st, "dd.test", SY_DSUPDATED, T + 2 * DAY, NULL) == 0 &&
	    R->state == PROBE_STATE_DS_UPDATED,
	    "ds: the pre-published key appears, the DS matches it");

	/* The old key was seen, it is gone, its DS lingers: stale. */
	step(st, "st.test", SY_HEALTHY, T, NULL);
	ok(step(st, "st.test", SY_STALEDS, T + HOUR, NULL) == 0 &&
	    R->state == PROBE_STATE_STALE_DS &&
	    has_problem(R, "stale_ds", NULL, NULL),
	    "ds: staleds after the old key was seen: stale_ds");

	/* First sight: no history, no knowledge; and it stays that way. */
	ok(step(st, "first.test", SY_DOUBLEDS, T, NULL) == 0 &&
	    R->state == PROBE_STATE_STALE_DS,
	    "ds: an unmatched DS on a first check is stale");
	ok(step(st, "first.test", SY_DOUBLEDS, T + HOUR, NULL) == 0 &&
	    R->state == PROBE_STATE_STALE_DS,
	    "ds: ... and still stale on the second (it did not arrive)");

	/* Key ages come from history. */
	step(st, "age.test", SY_HEALTHY, T, NULL);
	synth_result(R, "age.test", SY_ROLLSTART, T + HOUR);
	ok(store_annotate(st, R, T + HOUR) == 0, "ds: annotate");
	ok(R->keys[0].first_seen == T && R->keys[1].first_seen == T + HOUR,
	    "ds: first_seen of a known key from history, of a new key now");
	store_close(st);
}

static void
test_became_insecure(void)
{
	struct store		*st;
	enum probe_severity	 sev;
	char			 err[512];

	st = store_open(dbpath("insecure.db"), err, sizeof(err));
	if (!ok(st != NULL, "insecure: open"))
		return;
	step(st, "in.test", SY_HEALTHY, T, NULL);
	ok(step(st, "in.test", SY_UNSIGNED, T + HOUR, NULL) == 0 &&
	    has_problem(R, "became_insecure", &sev, NULL) &&
	    sev == PROBE_SEV_WARNING, "insecure: secure -> insecure: warning");
	is_int(R->severity, PROBE_SEV_WARNING,
	    "insecure: severity raised to warning");
	ok(step(st, "in.test", SY_UNSIGNED, T + 2 * HOUR, NULL) == 0 &&
	    !has_problem(R, "became_insecure", NULL, NULL),
	    "insecure: reported on the transition only");

	step(st, "blip.test", SY_HEALTHY, T, NULL);
	step(st, "blip.test", SY_UNREACHABLE, T + HOUR, NULL);
	ok(step(st, "blip.test", SY_UNSIGNED, T + 2 * HOUR, NULL) == 0 &&
	    has_problem(R, "became_insecure", NULL, NULL),
	    "insecure: a check without verdict in between does not hide it");

	ok(step(st, "new.test", SY_UNSIGNED, T, NULL) == 0 &&
	    !has_problem(R, "became_insecure", NULL, NULL) &&
	    R->severity == PROBE_SEV_OK, "insecure: never secure: ok");
	store_close(st);
}

/* --------------------------------------------------------- retention */

struct count {
	int	 n, changes;
};

static int
count_cb(void *arg, const struct store_observation *o)
{
	struct count	*c = arg;

	c->n++;
	c->changes += o->state_change;
	return 0;
}

static void
test_prune(void)
{
	struct store	*st;
	struct count	 c;
	char		 err[512];
	int		 i;
	long		 n;
	long long	 outbox;
	char		 q[128];

	st = store_open(dbpath("prune.db"), err, sizeof(err));
	if (!ok(st != NULL, "prune: open"))
		return;
	for (i = 0; i < 30; i++)
		step(st, "p.test", SY_HEALTHY, T + i * 60, NULL);
	step(st, "p.test", SY_ROLLSTART, T + 30 * 60, NULL);	/* change */
	for (i = 31; i < 40; i++)
		step(st, "p.test", SY_ROLLSTART, T + i * 60, NULL);
	memset(&c, 0, sizeof(c));
	store_history(st, "p.test", 0, count_cb, &c);
	ok(c.n == 40 && c.changes == 2, "prune: 40 observations, 2 changes");

	/* Cut-off at minute 35: 29 healthy and 4 rollstart repeats are old
	 * and no state change. */
	n = store_prune(st, T + 35 * 60, 10, 1);
	is_int(n, 10, "prune: one batch of 10");
	/* The rollstart check also raised an alert; with no sink to
	 * deliver it, its old transition is pruned along. */
	snprintf(q, sizeof(q), "SELECT count(*) FROM outbox WHERE created < "
	    "%lld", (long long)(T + 35 * 60));
	outbox = sql_int(dbpath("prune.db"), q);
	n = store_prune(st, T + 35 * 60, 10, 100);
	is_int(n, 23 + outbox, "prune: the rest in batches (10 + 10 + 3 "
	    "observations, %lld old alert transitions)", outbox);
	is_int(sql_int(dbpath("prune.db"), q), 0,
	    "prune: old transitions no sink will deliver are gone");
	n = store_prune(st, T + 35 * 60, 10, 100);
	is_int(n, 0, "prune: nothing left to prune");
	memset(&c, 0, sizeof(c));
	store_history(st, "p.test", 0, count_cb, &c);
	ok(c.n == 7 && c.changes == 2,
	    "prune: state changes and newer observations stay (%d, %d)",
	    c.n, c.changes);
	is_int(sql_int(dbpath("prune.db"), "SELECT count(*) FROM keys"), 3,
	    "prune: keys stay");
	is_int(sql_int(dbpath("prune.db"), "SELECT count(*) FROM rotations"),
	    1, "prune: rotations stay");
	memset(&c, 0, sizeof(c));
	store_history(st, "p.test", T + 38 * 60, count_cb, &c);
	is_int(c.n, 2, "prune: history since a time");
	store_close(st);
}

/* ------------------------------------------------ a DNS host's word */

static void
test_external(void)
{
	struct store		*st;
	struct store_rotation	 out, open;
	struct store_external	 ev;
	char			 err[512];

	st = store_open(dbpath("external.db"), err, sizeof(err));
	if (!ok(st != NULL, "external: open"))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.domain = "hosted.test";
	ev.source = "dnsimple";
	ev.external_id = "evt-1";
	ev.kind = STORE_ROT_KSK;
	ev.time = T;
	ev.new_key_tag = synth_tag(SY_KSK_NEW);
	ev.new_key_alg = 8;
	ok(store_rotation_external(st, &ev, &spol, T, &out) == 0 &&
	    out.id != 0 && out.start == T && out.deadline == T + 7 * DAY &&
	    strcmp(out.source, "dnsimple") == 0,
	    "external: a host's start opens a rotation");
	ok(store_rotation_external(st, &ev, &spol, T + 60, &open) == 0 &&
	    open.id == out.id &&
	    sql_int(dbpath("external.db"), "SELECT count(*) FROM "
	    "rotations") == 1, "external: the same event again changes nothing");
	/* The checks find the key and the rotation they already know. */
	ok(step(st, "hosted.test", SY_HEALTHY, T + HOUR, &open) == 0 &&
	    open.id == out.id, "external: a check before the key is published");
	ok(step(st, "hosted.test", SY_ROLLSTART, T + 2 * HOUR, &open) == 0 &&
	    open.id == out.id && open.registrar_deadline == T + 7 * DAY -
	    SYNTH_DS_TTL, "external: the check learns the DS TTL");
	ev.completed = true;
	ev.time = T + 3 * DAY;
	ok(store_rotation_external(st, &ev, &spol, T + 3 * DAY, &out) == 0 &&
	    strcmp(out.outcome, "completed") == 0 &&
	    out.completed_at == T + 3 * DAY,
	    "external: the host's completion closes it");
	ev.external_id = "evt-unknown";
	ok(store_rotation_external(st, &ev, &spol, T + 3 * DAY, &out) == -1 &&
	    contains(store_error(st), "never opened"),
	    "external: completing an unknown rotation is an error");

	/* A host's start for a rotation the checks opened first. */
	step(st, "seen.test", SY_HEALTHY, T, NULL);
	step(st, "seen.test", SY_ROLLSTART, T + DAY, &open);
	ev.domain = "seen.test";
	ev.external_id = "evt-2";
	ev.completed = false;
	ev.time = T + DAY - HOUR;
	ok(store_rotation_external(st, &ev, &spol, T + DAY, &out) == 0 &&
	    out.id == open.id && out.start == T + DAY - HOUR &&
	    out.deadline == T + 8 * DAY - HOUR &&
	    strcmp(out.external_id, "evt-2") == 0,
	    "external: labels the open rotation, takes the earlier start");
	store_close(st);
}

/* ------------------------------------------------------ error paths */

static void
test_errors(void)
{
	struct store		*st, *ro;
	struct store_rotation	 cur, rot;
	sqlite3			*holder = NULL;
	char			 err[512], p[PATH_MAX];
	long long		 before;
	size_t			 n;
	int			 fd;

	snprintf(p, sizeof(p), "%s", dbpath("errors.db"));
	/* Read-only commands never create a database. */
	ro = store_open_readonly(dbpath("missing.db"), err, sizeof(err));
	ok(ro == NULL && contains(err, "no such database") &&
	    contains(err, "missing.db"), "errors: no such database");
	ok(access(dbpath("missing.db"), F_OK) == -1,
	    "errors: ... and none was created");
	/* Garbage is reported as such. */
	fd = open(dbpath("garbage.db"), O_WRONLY | O_CREAT, 0644);
	ok(fd >= 0 && write(fd, "this is not a database, not even close, "
	    "but it is long enough to have a header.......................",
	    100) == 100, "errors: wrote a garbage file");
	close(fd);
	st = store_open(dbpath("garbage.db"), err, sizeof(err));
	ok(st == NULL && contains(err, "garbage.db") &&
	    contains(err, "not a database"), "errors: a corrupt file (writer)");
	ro = store_open_readonly(dbpath("garbage.db"), err, sizeof(err));
	ok(ro == NULL && contains(err, "not a database"),
	    "errors: a corrupt file (reader)");
	st = store_open("/nonexistent-dir/x.db", err, sizeof(err));
	ok(st == NULL && contains(err, "/nonexistent-dir/x.db"),
	    "errors: an unopenable path is named");
	store_create_at_version(dbpath("empty.db"), 0, err, sizeof(err));
	ro = store_open_readonly(dbpath("empty.db"), err, sizeof(err));
	ok(ro == NULL && contains(err, "not a dnssecmon database yet"),
	    "errors: an empty file is not a database yet (reader)");

	st = store_open(p, err, sizeof(err));
	if (!ok(st != NULL, "errors: open"))
		return;
	step(st, "e.test", SY_HEALTHY, T, NULL);
	step(st, "e.test", SY_ROLLSTART, T + HOUR, &cur);
	before = sql_int(p, "SELECT count(*) FROM observations");

	/* Read-only: commits fail cleanly, reads work. */
	ro = store_open_readonly(p, err, sizeof(err));
	if (ok(ro != NULL, "errors: read-only open of a real database")) {
		ok(step(ro, "e.test", SY_ROLLSTART, T + 2 * HOUR, NULL) == -1 &&
		    contains(store_error(ro), "readonly"),
		    "errors: a commit on a read-only store fails with a reason");
		ok(only_rotation(ro, &rot, &n) == 0 && n == 1,
		    "errors: the read-only store reads rotations");
	}
	store_close(ro);

	/* Locked: another connection holds the write lock. */
	sqlite3_open(p, &holder);
	ok(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	    SQLITE_OK, "errors: a second connection takes the write lock");
	ro = store_open(p, err, sizeof(err));
	ok(ro != NULL, "errors: opening needs no write lock (up to date)");
	store_close(ro);
	store_busy_timeout(st, 100);
	ok(step(st, "e.test", SY_ROLLSTART, T + 3 * HOUR, NULL) == -1,
	    "errors: store_commit fails with -1 while locked");
	ok(contains(store_error(st), "locked") &&
	    contains(store_error(st), "errors.db"),
	    "errors: ... saying the database is locked, naming it");
	sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(holder);
	is_int(sql_int(p, "SELECT count(*) FROM observations"), before,
	    "errors: nothing half-written");
	ok(only_rotation(st, &rot, &n) == 0 && n == 1 &&
	    rot.start == cur.start && rot.deadline == cur.deadline,
	    "errors: the open rotation is intact");
	ok(step(st, "e.test", SY_ROLLSTART, T + 4 * HOUR, NULL) == 0,
	    "errors: once the lock is gone the next commit works");

	/* A fault half-way through a commit (after the rotation row was
	 * written, at the observation): all of it rolls back. */
	ok(sql_exec(p, "CREATE TRIGGER fault BEFORE INSERT ON observations "
	    "BEGIN SELECT RAISE(ABORT, 'injected fault'); END") == 0,
	    "errors: injected a fault at the observation insert");
	before = sql_int(p, "SELECT count(*) FROM rotations");
	ok(step(st, "f.test", SY_HEALTHY, T, NULL) == -1 &&
	    contains(store_error(st), "injected fault"),
	    "errors: the commit fails with the fault's message");
	ok(step(st, "e.test", SY_ROLLDONE, T + 5 * HOUR, NULL) == -1,
	    "errors: a commit that would close the rotation fails too");
	is_int(sql_int(p, "SELECT count(*) FROM domains WHERE name = "
	    "'f.test'"), 0, "errors: the new domain was rolled back");
	ok(sql_int(p, "SELECT count(*) FROM rotations WHERE outcome IS NULL")
	    == 1 && sql_int(p, "SELECT count(*) FROM rotations") == before,
	    "errors: the rotation's closing was rolled back");
	sql_exec(p, "DROP TRIGGER fault");
	ok(step(st, "e.test", SY_ROLLDONE, T + 6 * HOUR, NULL) == 0,
	    "errors: after the fault the store carries on");
	store_close(st);

	if (geteuid() != 0) {
		/* A file the user may not write (root may write anything). */
		chmod(p, 0444);
		st = store_open(p, err, sizeof(err));
		ok(st == NULL || step(st, "e.test", SY_HEALTHY, T + DAY,
		    NULL) == -1, "errors: a read-only file is not written");
		store_close(st);
		chmod(p, 0644);
	}
}

/* store_verify(), for run -n: judges the file without touching it. */
static void
test_verify(void)
{
	struct store	*st;
	sqlite3		*db = NULL;
	struct stat	 before, after;
	char		 err[768], p[PATH_MAX], wal[PATH_MAX + 8];
	char		 shm[PATH_MAX + 8];
	bool		 partial = true;
	long long	 root, size;
	int		 fd, rc;

	rc = store_verify(dbpath("verify-missing.db"), 10000, &partial, err,
	    sizeof(err));
	ok(rc == 0 && !partial, "verify: a missing file is fine (it will be "
	    "created)");
	ok(access(dbpath("verify-missing.db"), F_OK) == -1,
	    "verify: ... and none was created");
	store_create_at_version(dbpath("verify-empty.db"), 0, err,
	    sizeof(err));
	ok(store_verify(dbpath("verify-empty.db"), 10000, &partial, err,
	    sizeof(err)) == 0, "verify: an empty file is fine");
	ok(store_verify(dbpath("garbage.db"), 10000, &partial, err,
	    sizeof(err)) == -1 && contains(err, "garbage.db") &&
	    contains(err, "not a database"), "verify: a garbage file is not "
	    "a database (%s)", err);
	ok(store_verify(dir, 10000, &partial, err, sizeof(err)) == -1 &&
	    contains(err, "not a regular file"), "verify: a directory");

	snprintf(p, sizeof(p), "%s", dbpath("verify.db"));
	snprintf(wal, sizeof(wal), "%s-wal", p);
	snprintf(shm, sizeof(shm), "%s-shm", p);
	if (!ok((st = store_open(p, err, sizeof(err))) != NULL,
	    "verify: a database"))
		return;
	step(st, "v.test", SY_HEALTHY, T, NULL);
	store_close(st);
	ok(access(wal, F_OK) == -1 && access(shm, F_OK) == -1,
	    "verify: closed, no -wal or -shm");
	stat(p, &before);
	rc = store_verify(p, 10000, &partial, err, sizeof(err));
	ok(rc == 0 && !partial, "verify: a whole database passes (%s)",
	    rc == 0 ? "ok" : err);
	stat(p, &after);
	/* A plain read-only connection would leave both files behind. */
	ok(access(wal, F_OK) == -1 && access(shm, F_OK) == -1,
	    "verify: ... and leaves no -wal or -shm behind");
	ok(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
	    before.st_mtim.tv_nsec == after.st_mtim.tv_nsec &&
	    before.st_size == after.st_size, "verify: ... nor writes the file");

	/* Garbage over the domains table's root page. */
	root = sql_int(p, "SELECT rootpage FROM sqlite_schema WHERE name = "
	    "'domains'");
	size = sql_int(p, "PRAGMA page_size");
	if ((fd = open(p, O_WRONLY)) >= 0) {
		static const char junk[64] = "\x0d\xff\xff\x7f\xff\x42"
		    "\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5";

		ok(pwrite(fd, junk, sizeof(junk), (off_t)(size * (root - 1))) ==
		    (ssize_t)sizeof(junk), "verify: a page damaged");
		close(fd);
	}
	rc = store_verify(p, 10000, &partial, err, sizeof(err));
	ok(rc == -1 && contains(err, p) && contains(err, "damaged") &&
	    contains(err, "quick_check") && strchr(err, '\n') == NULL,
	    "verify: a damaged page is found, on one line naming the file "
	    "(%s)", err);

	/* A stranger's database is refused as store_open() would. */
	if (sqlite3_open(dbpath("verify-stranger.db"), &db) == SQLITE_OK)
		sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL);
	sqlite3_close(db);
	ok(store_verify(dbpath("verify-stranger.db"), 10000, &partial, err,
	    sizeof(err)) == -1 && contains(err, "not a dnssecmon database"),
	    "verify: a stranger's database is refused");
}

static void
cleanup(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int
main(int argc, char *argv[])
{
	const char	*top;

	(void)argc;
	top = top_dir(argv[0]);
	snprintf(dir, sizeof(dir), "/tmp/dnssecmon-store.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	if ((R = calloc(1, sizeof(*R))) == NULL)
		return 1;
	probe_policy_defaults(&ppol);
	store_policy_defaults(&spol);
	T = 1764547200;		/* 2025-12-01T00:00:00Z */

	test_schema();
	test_migrations();
	test_fixture(top, 1);
	test_fixture(top, 2);
	test_fixture(top, 3);
	test_ksk_walk();
	test_ksk_broken_abandoned();
	test_zsk();
	test_stale_prepublished();
	test_became_insecure();
	test_prune();
	test_external();
	test_errors();
	test_verify();

	free(R);
	cleanup();
	return tap_done();
}
