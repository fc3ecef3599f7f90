/*
 * The store's connection: opening (creating, migrating, or read-only),
 * the prepared statements and the small helpers the other files share.
 *
 * One struct store is one SQLite connection, used from one thread. Each
 * statement is prepared on first use and then only reset and re-bound:
 * a daemon checking thousands of domains never re-parses SQL.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/internal.h"

#define DEFAULT_BUSY_MS	5000

#define PRUNABLE_OUTBOX							\
	"SELECT id FROM outbox WHERE created < ?1 AND id <= "		\
	"(SELECT COALESCE(MIN(done_upto), (SELECT MAX(id) FROM outbox)) "\
	"FROM alert_sinks WHERE last_started >= ?1) ORDER BY id LIMIT ?2"

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN_READ] = "BEGIN",
	/* IMMEDIATE: take the write lock up front, so a busy database
	 * fails (after the busy timeout) before any work, never with a
	 * read snapshot that cannot be upgraded. */
	[S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	/* One batched check inside the batch's transaction: a check that
	 * fails is undone alone, as if it had its own transaction. */
	[S_SAVEPOINT] = "SAVEPOINT batched_check",
	[S_RELEASE] = "RELEASE batched_check",
	[S_ROLLBACK_TO] = "ROLLBACK TO batched_check",
	[S_DOMAIN_GET] =
	    "SELECT id, name, first_seen, last_checked, last_state, "
	    "last_severity, last_validation FROM domains WHERE name = ?1",
	[S_DOMAIN_INSERT] =
	    "INSERT INTO domains (name, first_seen) VALUES (?1, ?2) "
	    "ON CONFLICT (name) DO NOTHING",
	[S_DOMAIN_UPDATE] =
	    "UPDATE domains SET last_checked = ?2, last_state = ?3, "
	    "last_severity = ?4, last_validation = ?5 WHERE id = ?1",
	/* "Was it secure before?" skips checks where the validator got no
	 * answer: a network blip between secure and insecure must not
	 * hide the transition. */
	[S_LAST_CONCLUSIVE] =
	    "SELECT validation, time FROM observations WHERE domain_id = ?1 "
	    "AND validation != 'indeterminate' ORDER BY time DESC, id DESC "
	    "LIMIT 1",
	[S_KEY_FIRST_SEEN] =
	    "SELECT first_seen FROM keys WHERE domain_id = ?1 AND rdata = ?2",
	[S_KEY_RDATA_ALL] = "SELECT rdata FROM keys WHERE domain_id = ?1",
	/* Every check reads the open algorithm rollover (algroll.c). */
	[S_ALG_OPEN] = "SELECT from_alg, to_alg, start, stage, stage_since "
	    "FROM alg_rollovers WHERE domain_id = ?1 AND outcome IS NULL",
	[S_DS_GET] =
	    "SELECT arrived FROM ds WHERE domain_id = ?1 AND key_tag = ?2 "
	    "AND algorithm = ?3 AND digest_type = ?4 AND digest = ?5",
	[S_KEY_UPSERT] =
	    "INSERT INTO keys (domain_id, key_tag, algorithm, flags, rdata, "
	    "first_seen, last_seen, signing_first_seen, ds_first_seen) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	    "ON CONFLICT (domain_id, rdata) DO UPDATE SET "
	    "first_seen = min(first_seen, excluded.first_seen), "
	    "last_seen = max(last_seen, excluded.last_seen), "
	    "signing_first_seen = coalesce(signing_first_seen, "
	    "excluded.signing_first_seen), "
	    "ds_first_seen = coalesce(ds_first_seen, excluded.ds_first_seen)",
	[S_DS_UPSERT] =
	    "INSERT INTO ds (domain_id, key_tag, algorithm, digest_type, "
	    "digest, first_seen, last_seen, arrived) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "ON CONFLICT (domain_id, key_tag, algorithm, digest_type, digest) "
	    "DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
	    "last_seen = max(last_seen, excluded.last_seen)",
	[S_OBS_INSERT] =
	    "INSERT INTO observations (domain_id, time, severity, validation, "
	    "state, problems, resolvers, servers, state_change, json) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_ROT_OPEN] = "SELECT " STORE_ROT_COLUMNS
	    " WHERE r.domain_id = ?1 AND r.kind = ?2 AND r.outcome IS NULL",
	[S_ROT_BY_EXTERNAL] = "SELECT " STORE_ROT_COLUMNS
	    " WHERE r.external_id = ?1",
	/* Apart from STORE_ROT_COLUMNS: the read-only commands read older
	 * schemas as they are. */
	[S_ROT_HOST_DS_GET] =
	    "SELECT host_key_tag, host_algorithm, host_digest_type, "
	    "host_digest FROM rotations WHERE id = ?1",
	[S_ROT_HOST_DS_SET] =
	    "UPDATE rotations SET host_key_tag = ?2, host_algorithm = ?3, "
	    "host_digest_type = ?4, host_digest = ?5 WHERE id = ?1",
	[S_ROT_INSERT] =
	    "INSERT INTO rotations (domain_id, kind, source, start, deadline, "
	    "registrar_deadline, ds_ttl, window_s, new_key_tag, new_key_alg, "
	    "new_key_rdata, old_key_tags, external_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[S_ROT_UPDATE] =
	    "UPDATE rotations SET start = ?2, deadline = ?3, "
	    "registrar_deadline = ?4, ds_ttl = ?5, new_key_rdata = ?6, "
	    "old_key_tags = ?7, ds_updated_at = ?8, completed_at = ?9, "
	    "outcome = ?10, external_id = ?11 WHERE id = ?1",
	[S_ROT_LIST] = "SELECT " STORE_ROT_COLUMNS
	    " ORDER BY r.start DESC, r.id DESC",
	[S_ROT_LIST_OPEN] = "SELECT " STORE_ROT_COLUMNS
	    " WHERE r.outcome IS NULL ORDER BY r.start DESC, r.id DESC",
	[S_HISTORY] =
	    "SELECT id, time, severity, validation, state, state_change, "
	    "problems, resolvers, servers FROM observations "
	    "WHERE domain_id = ?1 AND time >= ?2 ORDER BY time, id",
	[S_KEYS_LIST] =
	    "SELECT key_tag, flags, algorithm, first_seen, last_seen, "
	    "signing_first_seen, ds_first_seen, rdata FROM keys "
	    "WHERE domain_id = ?1 ORDER BY first_seen, id",
	[S_DS_LIST] =
	    "SELECT key_tag, algorithm, digest_type, digest, first_seen, "
	    "last_seen, arrived FROM ds WHERE domain_id = ?1 "
	    "ORDER BY first_seen, id",
	/* A bounded batch per transaction: retention never holds the
	 * write lock long enough to delay a check. */
	[S_PRUNE] =
	    "DELETE FROM observations WHERE id IN (SELECT id FROM "
	    "observations WHERE state_change = 0 AND time < ?1 LIMIT ?2)",
	/* Alert transitions past retention that every sink is done with
	 * (a sink not started within the retention window, e.g. one taken
	 * out of the configuration, holds nothing back). The two share
	 * one subquery and run in one transaction: the same rows. The
	 * alerts themselves stay. */
	[S_PRUNE_DELIVERIES] =
	    "DELETE FROM deliveries WHERE outbox_id IN (" PRUNABLE_OUTBOX ")",
	[S_PRUNE_OUTBOX] =
	    "DELETE FROM outbox WHERE id IN (" PRUNABLE_OUTBOX ")",
};

void
store_policy_defaults(struct store_policy *p)
{
	/* The large DNS hosts publish a new KSK beside the old one for
	 * 7 days; 72 hours leaves a weekend plus a working day to reach
	 * whoever holds the registrar account. */
	p->rotation_window_s = 7 * 86400;
	p->critical_before_s = 72 * 3600;
	p->multi_signer = PROBE_MULTI_AUTO;
	/* Two checks in a row: one lost packet must not page anybody. */
	p->alert_fire_after_checks = 2;
	p->alert_fire_after_s = 0;
	p->alert_repeat_s = 86400;
}

const char *
store_rotation_kind_name(enum store_rotation_kind k)
{
	return k == STORE_ROT_ZSK ? "zsk" : "ksk";
}

time_t
store_rotation_safe_removal(const struct store_rotation *r)
{
	if (r == NULL || r->kind != STORE_ROT_KSK || r->ds_updated_at == 0)
		return 0;
	return r->ds_updated_at + (time_t)r->ds_ttl;
}

const char *
store_error(const struct store *st)
{
	if (st == NULL)
		return "no store";
	return st->err[0] ? st->err : "no error";
}

int
store_seterr(struct store *st, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	n = snprintf(st->err, sizeof(st->err), "%s: ", st->path);
	if (n < 0 || (size_t)n >= sizeof(st->err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(st->err + n, sizeof(st->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Why a write to the database's directory fails now, or 0. SQLite says
 * "disk I/O error" and often keeps no errno for it; a filesystem that
 * turned read-only under us (ext4 errors=remount-ro) is then found by
 * creating an unnamed file beside the database (O_TMPFILE: nothing is
 * left behind). Not by opening the database itself: closing any file
 * descriptor of it would drop SQLite's POSIX locks.
 */
static int
dir_errno(const char *path)
{
	char		 dir[PATH_MAX];
	const char	*slash = strrchr(path, '/');
	int		 fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return 0;
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if ((fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600)) == -1)
		return errno == EOPNOTSUPP || errno == EISDIR ? 0 : errno;
	close(fd);
	return 0;
}

int
store_dberr(struct store *st, const char *what)
{
	int	 code = sqlite3_extended_errcode(st->db) & 0xff;
	int	 e = 0;

	/* "disk I/O error" alone does not tell a read-only filesystem
	 * from a failing disk: the errno does. Only for errors that come
	 * from a system call (otherwise it is a stale one). */
	if (code == SQLITE_IOERR || code == SQLITE_READONLY ||
	    code == SQLITE_CANTOPEN || code == SQLITE_FULL)
		e = sqlite3_system_errno(st->db);
	if (e == 0 && code == SQLITE_IOERR)
		e = dir_errno(st->path);
	return store_seterr(st, "%s: %s%s%s%s", what, sqlite3_errmsg(st->db),
	    e ? " (" : "", e ? strerror(e) : "", e ? ")" : "");
}

int
store_durable(struct store *st, bool on)
{
	const char	*sql = on ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = " STORE_SYNCHRONOUS;

	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_dberr(st, on ? "asking for an fsync at commit" :
		    "setting synchronous back");
	return 0;
}

static void	batch_commit(struct store *);

sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt which)
{
	sqlite3_stmt	*s;

	/* Anything but a batched check, reading or writing, first commits
	 * the batch: a reader never sees a check that is not durable yet,
	 * and another write (a webhook's event, a delivery) is never
	 * acknowledged inside a transaction that could still roll back. */
	if (st->batch_tx && !st->in_check)
		batch_commit(st);
	s = st->stmt[which];
	if (s != NULL) {
		/* reset() repeats the last step's error: already handled. */
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	if (sqlite3_prepare_v3(st->db, stmt_sql[which] != NULL ?
	    stmt_sql[which] : store_alerts_sql(which), -1,
	    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		store_dberr(st, "preparing a statement");
		sqlite3_finalize(s);
		return NULL;
	}
	st->stmt[which] = s;
	return s;
}

int
store_step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int	 rc;

	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(s);
		return 0;
	}
	store_dberr(st, what);
	sqlite3_reset(s);
	return -1;
}

/* How a write transaction ended, for store_last_write(). */
static void
write_ended(struct store *st, bool committed)
{
	st->in_write = false;
	st->write_failed = !committed;
	if (!committed)
		memcpy(st->write_err, st->err, sizeof(st->write_err));
}

/*
 * A batched check's transaction: the batch's write transaction, opened by
 * its first check, and a savepoint for this check in it. A batch whose
 * transaction was lost takes no more checks: they would be committed
 * while the ones before them were not, and the caller could no longer
 * tell which of the batch survived.
 */
static void	batch_lose(struct store *);

static int
batch_join(struct store *st)
{
	sqlite3_stmt	*s;

	if (st->batch_lost) {
		/* batch_err names the file already. */
		snprintf(st->err, sizeof(st->err), "%s (an earlier check in "
		    "the same transaction failed)", st->batch_err);
		return -1;
	}
	if (!st->batch_tx) {
		/* Failing to start (locked past the busy timeout, file
		 * lost) fails the rest of the batch at once: each would
		 * wait out the busy timeout again. */
		if (store_file_check(st) == -1 ||
		    (s = store_stmt(st, S_BEGIN_WRITE)) == NULL ||
		    store_step_done(st, s, "starting a write transaction") ==
		    -1) {
			batch_lose(st);
			return -1;
		}
		st->batch_tx = true;
		st->in_write = true;
	}
	if ((s = store_stmt(st, S_SAVEPOINT)) == NULL)
		return -1;
	return store_step_done(st, s, "starting a check in the batch");
}

/* The batch's transaction ended without committing: every check in it is
 * lost, and store_batch_end() says so. */
static void
batch_lose(struct store *st)
{
	sqlite3_stmt	*s;
	char		 keep[sizeof(st->err)];

	memcpy(keep, st->err, sizeof(keep));
	st->batch_tx = false;	/* before store_stmt(): no recursion */
	if (sqlite3_get_autocommit(st->db) == 0 &&
	    (s = store_stmt(st, S_ROLLBACK)) != NULL)
		store_step_done(st, s, "rolling back the batch");
	memcpy(st->err, keep, sizeof(keep));
	if (!st->batch_lost) {
		st->batch_lost = true;
		memcpy(st->batch_err, st->err, sizeof(st->batch_err));
	}
	write_ended(st, false);
	store_check_recorded(st, false);
}

static void
batch_commit(struct store *st)
{
	sqlite3_stmt	*s;

	st->batch_tx = false;	/* before store_stmt(): no recursion */
	if ((s = store_stmt(st, S_COMMIT)) != NULL &&
	    store_step_done(st, s, "committing the batch of checks") == 0) {
		write_ended(st, true);
		return;
	}
	batch_lose(st);
}

int
store_begin(struct store *st, bool write)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (st->in_check)
		return batch_join(st);
	/* One stat(2) per transaction: never accept data it cannot keep. */
	if (store_file_check(st) == -1)
		rc = -1;
	else if ((s = store_stmt(st, write ? S_BEGIN_WRITE : S_BEGIN_READ)) ==
	    NULL)
		rc = -1;
	else
		rc = store_step_done(st, s, write ? "starting a write "
		    "transaction" : "starting a read transaction");
	if (write && rc == -1)
		write_ended(st, false);
	else if (write)
		st->in_write = true;
	return rc;
}

int
store_end(struct store *st)
{
	sqlite3_stmt	*s;
	int		 rc;

	if (st->in_check)
		return (s = store_stmt(st, S_RELEASE)) == NULL ? -1 :
		    store_step_done(st, s, "ending a check in the batch");
	if ((s = store_stmt(st, S_COMMIT)) == NULL)
		rc = -1;
	else
		rc = store_step_done(st, s, "committing");
	if (st->in_write)
		write_ended(st, rc == 0);
	return rc;
}

/* A batched check failed: undo it alone when the batch's transaction is
 * still there; else the whole batch is lost. */
static void
batch_rollback(struct store *st)
{
	sqlite3_stmt	*s;
	char		 keep[sizeof(st->err)];

	if (!st->batch_tx)
		return;
	memcpy(keep, st->err, sizeof(keep));
	if (sqlite3_get_autocommit(st->db) == 0 &&
	    (s = store_stmt(st, S_ROLLBACK_TO)) != NULL &&
	    store_step_done(st, s, "undoing a check in the batch") == 0 &&
	    (s = store_stmt(st, S_RELEASE)) != NULL &&
	    store_step_done(st, s, "undoing a check in the batch") == 0) {
		memcpy(st->err, keep, sizeof(keep));
		return;
	}
	/* SQLite rolled the transaction back itself (I/O error, disk
	 * full, out of memory), or the savepoint could not be undone. */
	memcpy(st->err, keep, sizeof(keep));
	batch_lose(st);
}

void
store_rollback(struct store *st)
{
	sqlite3_stmt	*s;
	char		 keep[sizeof(st->err)];

	if (st->in_check) {
		batch_rollback(st);
		return;
	}
	/* The caller's error is the one worth reporting. */
	memcpy(keep, st->err, sizeof(keep));
	if (sqlite3_get_autocommit(st->db) == 0 &&
	    (s = store_stmt(st, S_ROLLBACK)) != NULL)
		store_step_done(st, s, "rolling back");
	memcpy(st->err, keep, sizeof(keep));
	if (st->in_write)
		write_ended(st, false);
}

void
store_batch_begin(struct store *st)
{
	if (st == NULL || st->readonly)
		return;
	st->batching = true;
}

int
store_batch_end(struct store *st)
{
	if (st == NULL || !st->batching)
		return 0;
	st->batching = false;
	if (st->batch_tx)
		batch_commit(st);
	if (!st->batch_lost)
		return 0;
	st->batch_lost = false;
	snprintf(st->err, sizeof(st->err), "%s", st->batch_err);
	return -1;
}

void
store_batch_check(struct store *st, bool on)
{
	st->in_check = on && st->batching;
}

void
store_check_recorded(struct store *st, bool recorded)
{
	st->check_failed = !recorded;
	if (!recorded)
		memcpy(st->check_err, st->err, sizeof(st->check_err));
}

bool
store_last_write(const struct store *st, char *why, size_t whylen)
{
	if (st == NULL) {
		snprintf(why, whylen, "no store");
		return false;
	}
	if (st->write_failed)
		snprintf(why, whylen, "%s", st->write_err[0] ? st->write_err :
		    "the last write did not commit");
	else if (st->check_failed)
		snprintf(why, whylen, "%s", st->check_err[0] ? st->check_err :
		    "the last check was not recorded");
	else
		return true;
	return false;
}

int
store_bind_time(sqlite3_stmt *s, int col, time_t t)
{
	if (t == 0)
		return sqlite3_bind_null(s, col);
	return sqlite3_bind_int64(s, col, (sqlite3_int64)t);
}

time_t
store_column_time(sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return 0;
	return (time_t)sqlite3_column_int64(s, col);
}

void
store_column_text(sqlite3_stmt *s, int col, char *buf, size_t len)
{
	const unsigned char	*t = sqlite3_column_text(s, col);

	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

/* "[1, 2]" (what we write) into tags; anything else yields what it can. */
static unsigned
parse_tags(const char *s, uint16_t *tags, unsigned max)
{
	unsigned	 n = 0;
	char		*end;
	long		 v;

	while (s != NULL && *s != '\0' && n < max) {
		if (*s < '0' || *s > '9') {
			s++;
			continue;
		}
		v = strtol(s, &end, 10);
		if (v >= 0 && v <= 65535)
			tags[n++] = (uint16_t)v;
		s = end;
	}
	return n;
}

void
store_read_rotation(sqlite3_stmt *s, struct store_rotation *rot,
    uint8_t *rdata, size_t rdata_max, size_t *rdata_len)
{
	char		 kind[8];
	const void	*blob;
	int		 n;

	memset(rot, 0, sizeof(*rot));
	rot->id = sqlite3_column_int64(s, 0);
	store_column_text(s, 1, rot->domain, sizeof(rot->domain));
	store_column_text(s, 2, kind, sizeof(kind));
	rot->kind = strcmp(kind, "zsk") == 0 ? STORE_ROT_ZSK : STORE_ROT_KSK;
	store_column_text(s, 3, rot->source, sizeof(rot->source));
	rot->start = store_column_time(s, 4);
	rot->deadline = store_column_time(s, 5);
	rot->registrar_deadline = store_column_time(s, 6);
	rot->ds_ttl = (uint32_t)sqlite3_column_int64(s, 7);
	rot->new_key_tag = (uint16_t)sqlite3_column_int(s, 9);
	rot->new_key_alg = (uint8_t)sqlite3_column_int(s, 10);
	if (rdata_len != NULL) {
		blob = sqlite3_column_blob(s, 11);
		n = sqlite3_column_bytes(s, 11);
		*rdata_len = 0;
		if (blob != NULL && n > 0 && (size_t)n <= rdata_max) {
			memcpy(rdata, blob, (size_t)n);
			*rdata_len = (size_t)n;
		}
	}
	rot->n_old = parse_tags((const char *)sqlite3_column_text(s, 12),
	    rot->old_key_tags, PROBE_MAX_KEYS);
	rot->ds_updated_at = store_column_time(s, 13);
	rot->completed_at = store_column_time(s, 14);
	store_column_text(s, 15, rot->outcome, sizeof(rot->outcome));
	store_column_text(s, 16, rot->external_id, sizeof(rot->external_id));
}

int64_t
store_domain_id(struct store *st, const char *name)
{
	struct store_domain	 d;

	switch (store_domain(st, name, &d)) {
	case 1:		return d.id;
	case 0:		return 0;
	default:	return -1;
	}
}

int
store_domain(struct store *st, const char *name, struct store_domain *out)
{
	sqlite3_stmt	*s;
	int		 rc;

	if ((s = store_stmt(st, S_DOMAIN_GET)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = sqlite3_column_int64(s, 0);
		store_column_text(s, 1, out->name, sizeof(out->name));
		out->first_seen = store_column_time(s, 2);
		out->last_checked = store_column_time(s, 3);
		store_column_text(s, 4, out->last_state,
		    sizeof(out->last_state));
		store_column_text(s, 5, out->last_severity,
		    sizeof(out->last_severity));
		store_column_text(s, 6, out->last_validation,
		    sizeof(out->last_validation));
		sqlite3_reset(s);
		return 1;
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	store_dberr(st, "reading the domain");
	sqlite3_reset(s);
	return -1;
}

int
store_read_begin(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		return -1;	/* the reads join the open one */
	return store_begin(st, false);
}

void
store_read_end(struct store *st)
{
	if (store_end(st) == -1)
		store_rollback(st);
}

/* "PATH: unable to open database file (Permission denied)". */
static void
open_error(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	int	 e = db != NULL ? sqlite3_system_errno(db) : 0;

	snprintf(err, errlen, "%s: %s%s%s%s", path, db != NULL ?
	    sqlite3_errmsg(db) : "out of memory", e ? " (" : "",
	    e ? strerror(e) : "", e ? ")" : "");
}

static struct store *
store_new(const char *path, bool readonly, char *err, size_t errlen)
{
	struct store	*st;
	int		 flags;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(st);
		return NULL;
	}
	st->readonly = readonly;
	flags = readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		open_error(st->db, path, err, errlen);
		store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, DEFAULT_BUSY_MS);
	if (!readonly) {
		struct stat sb;

		if (stat(path, &sb) == 0) {
			st->dev = sb.st_dev;
			st->ino = sb.st_ino;
		}
	}
	return st;
}

int
store_file_check(struct store *st)
{
	struct stat	 sb;

	if (st->readonly || st->ino == 0)
		return 0;
	if (st->gone[0] != '\0')
		goto gone;
	if (stat(st->path, &sb) == -1) {
		if (errno != ENOENT)
			return 0;	/* cannot tell: not proof of loss */
		snprintf(st->gone, sizeof(st->gone), "the database %s was "
		    "deleted while dnssecmon was running: nothing written "
		    "since would survive a restart", st->path);
	} else if (sb.st_dev != st->dev || sb.st_ino != st->ino)
		snprintf(st->gone, sizeof(st->gone), "the database %s was "
		    "replaced by another file while dnssecmon was running: "
		    "writes would go to the old one", st->path);
	else
		return 0;
gone:
	snprintf(st->err, sizeof(st->err), "%s", st->gone);
	return -1;
}

const char *
store_gone(const struct store *st)
{
	return st != NULL && st->gone[0] != '\0' ? st->gone : NULL;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store	*st;

	if ((st = store_new(path, false, err, errlen)) == NULL)
		return NULL;
	if (store_schema_prepare(st->db, path, false, err, errlen) == -1 ||
	    store_schema_migrate(st->db, path, STORE_SCHEMA_VERSION, err,
	    errlen) == -1) {
		store_close(st);
		return NULL;
	}
	return st;
}

struct store *
store_open_readonly(const char *path, char *err, size_t errlen)
{
	struct store	*st;
	struct stat	 sb;

	/* SQLite would say "unable to open database file" for all of
	 * these; a person wants to know which. */
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s: no such database", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: is a directory, not a database",
		    path);
		return NULL;
	}
	if ((st = store_new(path, true, err, errlen)) == NULL)
		return NULL;
	if (store_schema_prepare(st->db, path, true, err, errlen) == -1) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	int	 i;

	if (st == NULL)
		return;
	/* A batch its caller did not end: keep it rather than drop it. */
	st->in_check = false;
	store_batch_end(st);
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	/* The last connection to close checkpoints the WAL into the
	 * database and removes it. */
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

void
store_busy_timeout(struct store *st, int ms)
{
	sqlite3_busy_timeout(st->db, ms);
}

int64_t
store_last_observation(const struct store *st)
{
	return st->last_obs;
}

int
store_create_at_version(const char *path, int version, char *err,
    size_t errlen)
{
	struct store	*st;
	int		 fd, rc;

	if (version == 0) {
		/* Version 0 is what a first run finds: an empty file. */
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		close(fd);
		return 0;
	}
	if ((st = store_new(path, false, err, errlen)) == NULL)
		return -1;
	rc = store_schema_prepare(st->db, path, false, err, errlen);
	if (rc == 0)
		rc = store_schema_migrate(st->db, path, version, err, errlen);
	store_close(st);
	return rc;
}
