/*
 * The schema and its forward migrations.
 *
 * PRAGMA user_version is the schema version; migrations[i] takes a
 * database from version i to i + 1, each in its own transaction together
 * with the new user_version, so a crash between two migrations leaves a
 * database at a well-defined version that the next open carries on from.
 * Version 0 is an empty file. A new version appends one entry here, bumps
 * STORE_SCHEMA_VERSION, and the unit test then migrates the kept version
 * 1 fixture (tests/store/schema_v1.sql) and every older version forward.
 *
 * Times are unix seconds (UTC); NULL means "not reached" / "unknown".
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store/internal.h"

/*
 * Durability: WAL with synchronous=NORMAL survives any crash of the
 * process (what kill -9 tests): a transaction is in the WAL, in the OS
 * page cache, once COMMIT returns. A power loss, a kernel crash or a
 * filesystem that fails and turns read-only may cost the last checks
 * (never consistency): the next check sees the same again. What cannot
 * be seen again, a DNS host's acknowledged event, is committed with an
 * fsync (store_durable()). Build with -DSTORE_SYNCHRONOUS='"FULL"' to
 * fsync every commit instead. (The default is in store/internal.h.)
 */

static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"PRAGMA application_id = 1684960109;\n"	/* STORE_APPLICATION_ID */
	/* One row per monitored domain; last_* mirror its newest
	 * observation so a check needs no scan to know "what changed". */
	"CREATE TABLE domains (\n"
	"  id              INTEGER PRIMARY KEY,\n"
	"  name            TEXT NOT NULL UNIQUE,\n"
	"  first_seen      INTEGER NOT NULL,\n"
	"  last_checked    INTEGER,\n"
	"  last_state      TEXT,\n"
	"  last_severity   TEXT,\n"
	"  last_validation TEXT\n"
	");\n"
	/* One row per check. problems/resolvers/servers are JSON arrays;
	 * json is the whole observation, kept for state changes only (the
	 * rows retention keeps): a few kB per check times thousands of
	 * domains every few minutes would otherwise dominate the file. */
	"CREATE TABLE observations (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  domain_id    INTEGER NOT NULL REFERENCES domains(id),\n"
	"  time         INTEGER NOT NULL,\n"
	"  severity     TEXT NOT NULL,\n"
	"  validation   TEXT NOT NULL,\n"
	"  state        TEXT NOT NULL,\n"
	"  problems     TEXT NOT NULL,\n"
	"  resolvers    TEXT NOT NULL,\n"
	"  servers      TEXT NOT NULL,\n"
	"  state_change INTEGER NOT NULL CHECK (state_change IN (0, 1)),\n"
	"  json         TEXT\n"
	");\n"
	"CREATE INDEX observations_domain_time ON observations(domain_id, time);\n"
	/* Retention only ever looks for these. */
	"CREATE INDEX observations_prunable ON observations(time)\n"
	"  WHERE state_change = 0;\n"
	/* Every DNSKEY ever seen, identified by its whole RDATA (a key tag
	 * is a 16-bit checksum and collides). */
	"CREATE TABLE keys (\n"
	"  id                 INTEGER PRIMARY KEY,\n"
	"  domain_id          INTEGER NOT NULL REFERENCES domains(id),\n"
	"  key_tag            INTEGER NOT NULL,\n"
	"  algorithm          INTEGER NOT NULL,\n"
	"  flags              INTEGER NOT NULL,\n"
	"  rdata              BLOB NOT NULL,\n"
	"  first_seen         INTEGER NOT NULL,\n"
	"  last_seen          INTEGER NOT NULL,\n"
	"  signing_first_seen INTEGER,\n"
	"  ds_first_seen      INTEGER,\n"
	"  UNIQUE (domain_id, rdata)\n"
	");\n"
	/* Every DS ever seen at the parent. arrived = 1: it appeared after
	 * the domain's first check, which is what tells a pre-published DS
	 * (we saw it arrive before its key) from a leftover whose key we
	 * never saw. */
	"CREATE TABLE ds (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  domain_id   INTEGER NOT NULL REFERENCES domains(id),\n"
	"  key_tag     INTEGER NOT NULL,\n"
	"  algorithm   INTEGER NOT NULL,\n"
	"  digest_type INTEGER NOT NULL,\n"
	"  digest      BLOB NOT NULL,\n"
	"  first_seen  INTEGER NOT NULL,\n"
	"  last_seen   INTEGER NOT NULL,\n"
	"  arrived     INTEGER NOT NULL CHECK (arrived IN (0, 1)),\n"
	"  UNIQUE (domain_id, key_tag, algorithm, digest_type, digest)\n"
	");\n"
	/* outcome NULL while open. deadline/registrar_deadline are NULL
	 * for ZSK rotations (nothing to do at the registrar). */
	"CREATE TABLE rotations (\n"
	"  id                 INTEGER PRIMARY KEY,\n"
	"  domain_id          INTEGER NOT NULL REFERENCES domains(id),\n"
	"  kind               TEXT NOT NULL CHECK (kind IN ('ksk', 'zsk')),\n"
	"  source             TEXT NOT NULL,\n"
	"  start              INTEGER NOT NULL,\n"
	"  deadline           INTEGER,\n"
	"  registrar_deadline INTEGER,\n"
	"  ds_ttl             INTEGER,\n"
	"  window_s           INTEGER,\n"
	"  new_key_tag        INTEGER NOT NULL,\n"
	"  new_key_alg        INTEGER NOT NULL,\n"
	"  new_key_rdata      BLOB,\n"
	"  old_key_tags       TEXT NOT NULL DEFAULT '[]',\n"
	"  ds_updated_at      INTEGER,\n"
	"  completed_at       INTEGER,\n"
	"  outcome            TEXT CHECK (outcome IN\n"
	"                       ('completed', 'broken', 'abandoned')),\n"
	"  external_id        TEXT UNIQUE\n"
	");\n"
	/* At most one open rotation of each kind per domain, enforced. */
	"CREATE UNIQUE INDEX rotations_open ON rotations(domain_id, kind)\n"
	"  WHERE outcome IS NULL;\n"
	"CREATE INDEX rotations_start ON rotations(start);\n"
	/* Alerts and their delivery (the alerts issue fills these). */
	"CREATE TABLE alerts (\n"
	"  id            INTEGER PRIMARY KEY,\n"
	"  domain_id     INTEGER NOT NULL REFERENCES domains(id),\n"
	"  code          TEXT NOT NULL,\n"
	"  state         TEXT NOT NULL\n"
	"                  CHECK (state IN ('firing', 'escalated', 'resolved')),\n"
	"  severity      TEXT NOT NULL,\n"
	"  first_fired   INTEGER NOT NULL,\n"
	"  last_notified INTEGER,\n"
	"  resolved_at   INTEGER,\n"
	"  message       TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX alerts_open ON alerts(domain_id, code)\n"
	"  WHERE state != 'resolved';\n"
	"CREATE TABLE outbox (\n"
	"  id       INTEGER PRIMARY KEY,\n"
	"  alert_id INTEGER NOT NULL REFERENCES alerts(id),\n"
	"  created  INTEGER NOT NULL,\n"
	"  payload  TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX outbox_alert ON outbox(alert_id);\n"
	"CREATE TABLE deliveries (\n"
	"  outbox_id    INTEGER NOT NULL REFERENCES outbox(id),\n"
	"  sink         TEXT NOT NULL,\n"
	"  delivered_at INTEGER,\n"
	"  attempts     INTEGER NOT NULL DEFAULT 0,\n"
	"  last_error   TEXT,\n"
	"  PRIMARY KEY (outbox_id, sink)\n"
	");\n"
	"CREATE INDEX deliveries_pending ON deliveries(sink)\n"
	"  WHERE delivered_at IS NULL;\n",

	/* 1 -> 2: the alert state machine and its delivery.
	 * Problems seen but not yet persistent enough to fire (flap
	 * damping) wait in alert_candidates. At most one open alert per
	 * (domain, code), now enforced. An outbox row names its
	 * transition so a sink can take only some; a delivery can end
	 * given up (failed_at) and keeps an exec hook's output. Each sink
	 * has a cursor: every row up to done_upto is delivered or given
	 * up, so finding the next row never scans the delivered ones. */
	"CREATE TABLE alert_candidates (\n"
	"  domain_id  INTEGER NOT NULL REFERENCES domains(id),\n"
	"  code       TEXT NOT NULL,\n"
	"  first_seen INTEGER NOT NULL,\n"
	"  last_seen  INTEGER NOT NULL,\n"
	"  checks     INTEGER NOT NULL,\n"
	"  PRIMARY KEY (domain_id, code)\n"
	");\n"
	"ALTER TABLE alerts ADD COLUMN last_seen INTEGER;\n"
	"DROP INDEX alerts_open;\n"
	"CREATE UNIQUE INDEX alerts_open ON alerts(domain_id, code)\n"
	"  WHERE state != 'resolved';\n"
	"CREATE INDEX alerts_resolved ON alerts(resolved_at);\n"
	"ALTER TABLE outbox ADD COLUMN transition TEXT NOT NULL\n"
	"  DEFAULT 'firing' CHECK (transition IN\n"
	"  ('firing', 'escalated', 'reminder', 'resolved'));\n"
	"ALTER TABLE deliveries ADD COLUMN failed_at INTEGER;\n"
	"ALTER TABLE deliveries ADD COLUMN output TEXT;\n"
	"CREATE TABLE alert_sinks (\n"
	"  name         TEXT PRIMARY KEY,\n"
	"  transitions  TEXT NOT NULL,\n"	/* ",firing,resolved," */
	"  created      INTEGER NOT NULL,\n"
	"  last_started INTEGER NOT NULL,\n"
	"  first_outbox INTEGER NOT NULL,\n"	/* it takes rows after this */
	"  done_upto    INTEGER NOT NULL\n"
	");\n",

	/* 2 -> 3: the DS a DNS host announced with a rotation. The check
	 * after a restart must still judge it (host_ds_mismatch): kept
	 * only in memory, the problem vanished and its alert resolved
	 * although nothing had changed. */
	"ALTER TABLE rotations ADD COLUMN host_key_tag INTEGER;\n"
	"ALTER TABLE rotations ADD COLUMN host_algorithm INTEGER;\n"
	"ALTER TABLE rotations ADD COLUMN host_digest_type INTEGER;\n"
	"ALTER TABLE rotations ADD COLUMN host_digest BLOB;\n",

	/* 3 -> 4: algorithm rollovers (RFC 6781 4.1.4), one row per
	 * rollover, its current stage and that stage's clock: since when,
	 * from when the next step is safe, by when it is due. Kept only in
	 * memory, every restart would make a stalled stage look new.
	 * outcome NULL while open. */
	"CREATE TABLE alg_rollovers (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  domain_id   INTEGER NOT NULL REFERENCES domains(id),\n"
	"  from_alg    INTEGER NOT NULL,\n"
	"  to_alg      INTEGER NOT NULL,\n"
	"  start       INTEGER NOT NULL,\n"
	"  stage       TEXT NOT NULL,\n"
	"  stage_since INTEGER NOT NULL,\n"
	"  safe_at     INTEGER,\n"
	"  deadline    INTEGER,\n"
	"  completed_at INTEGER,\n"
	"  outcome     TEXT CHECK (outcome IN ('completed', 'abandoned'))\n"
	");\n"
	"CREATE UNIQUE INDEX alg_rollovers_open ON alg_rollovers(domain_id)\n"
	"  WHERE outcome IS NULL;\n",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
    STORE_SCHEMA_VERSION, "one migration per schema version");

/* One integer from a PRAGMA or a SELECT; 0 or -1 (err set). */
static int
query_int(sqlite3 *db, const char *path, const char *sql, long long *out,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	int		 rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
		break;
	case SQLITE_DONE:
		*out = 0;
		rc = 0;
		break;
	default:
		goto fail;
	}
	sqlite3_finalize(st);
	return rc;
fail:
	snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

static int
exec(sqlite3 *db, const char *path, const char *sql, const char *what,
    char *err, size_t errlen)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s: %s: %s", path, what,
	    msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/*
 * Is this a database we may use? Its schema version in *version (0: an
 * empty file, store_open() creates the tables). Reading user_version is
 * also the first read of the file, so a corrupt file is reported here
 * ("file is not a database").
 */
int
store_schema_usable(sqlite3 *db, const char *path, long long *version,
    char *err, size_t errlen)
{
	long long	 v, app, tables;

	if (query_int(db, path, "PRAGMA user_version", &v, err, errlen) == -1 ||
	    query_int(db, path, "PRAGMA application_id", &app, err,
	    errlen) == -1 ||
	    query_int(db, path, "SELECT count(*) FROM sqlite_master", &tables,
	    err, errlen) == -1)
		return -1;
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %lld is newer than "
		    "this dnssecmon understands (%d): use the dnssecmon that "
		    "wrote it, or a newer one", path, v, STORE_SCHEMA_VERSION);
		return -1;
	}
	if ((v > 0 && app != STORE_APPLICATION_ID) || (v == 0 && tables > 0)) {
		snprintf(err, errlen, "%s: not a dnssecmon database", path);
		return -1;
	}
	*version = v;
	return 0;
}

/*
 * Is this a database we may use (and, read-only, use as it is)? Then the
 * per-connection settings.
 */
int
store_schema_prepare(sqlite3 *db, const char *path, bool readonly, char *err,
    size_t errlen)
{
	long long	 v;

	if (store_schema_usable(db, path, &v, err, errlen) == -1)
		return -1;
	/* Migrations only add, so an older file reads as it is; what
	 * needs a newer table says so itself (store_alerts()). */
	if (readonly && v == 0) {
		snprintf(err, errlen, "%s: empty, not a dnssecmon database yet",
		    path);
		return -1;
	}
	if (!readonly) {
		/* journal_mode answers with the mode now in force; anything
		 * but wal (a file system without shared memory) still works,
		 * only with readers and the writer serialised. */
		if (exec(db, path, "PRAGMA journal_mode = WAL",
		    "switching to WAL", err, errlen) == -1 ||
		    exec(db, path, "PRAGMA synchronous = " STORE_SYNCHRONOUS,
		    "setting synchronous", err, errlen) == -1)
			return -1;
	}
	return exec(db, path, "PRAGMA foreign_keys = ON",
	    "enabling foreign keys", err, errlen);
}

/*
 * Migrate forward to `target`, one transaction per step. user_version is
 * read again inside each write transaction: two processes opening a new
 * file at once must not both create the tables.
 */
int
store_schema_migrate(sqlite3 *db, const char *path, int target, char *err,
    size_t errlen)
{
	char		 sql[64], what[64];
	long long	 v, tables;

	if (target < 0 || target > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: no schema version %d", path, target);
		return -1;
	}
	/* Up to date, the common case: no write lock, so opening never
	 * waits for another writer's transaction. */
	if (query_int(db, path, "PRAGMA user_version", &v, err, errlen) == -1)
		return -1;
	if (v >= target)
		return 0;
	for (;;) {
		if (exec(db, path, "BEGIN IMMEDIATE", "locking for migration",
		    err, errlen) == -1)
			return -1;
		if (query_int(db, path, "PRAGMA user_version", &v, err,
		    errlen) == -1)
			goto fail;
		if (v >= target)
			break;
		if (v == 0) {
			if (query_int(db, path, "SELECT count(*) FROM "
			    "sqlite_master", &tables, err, errlen) == -1)
				goto fail;
			if (tables > 0) {
				snprintf(err, errlen, "%s: not a dnssecmon "
				    "database", path);
				goto fail;
			}
		}
		snprintf(what, sizeof(what), "migrating schema %lld to %lld",
		    v, v + 1);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", v + 1);
		if (exec(db, path, migrations[v], what, err, errlen) == -1 ||
		    exec(db, path, sql, what, err, errlen) == -1 ||
		    exec(db, path, "COMMIT", what, err, errlen) == -1)
			goto fail;
	}
	return exec(db, path, "COMMIT", "migration", err, errlen);
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
