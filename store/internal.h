/*
 * Inside the store: the connection, its prepared statements and the
 * helpers the store's files share. Nothing outside store/ includes this.
 */
#ifndef DNSSECMON_STORE_INTERNAL_H
#define DNSSECMON_STORE_INTERNAL_H

#include <sys/types.h>

#include <sqlite3.h>

#include "store/store.h"

/* PRAGMA synchronous of every connection: see the comment in schema.c. */
#ifndef STORE_SYNCHRONOUS
#define STORE_SYNCHRONOUS	"NORMAL"
#endif

/* "dnsm": PRAGMA application_id, so a stranger's database is refused. */
#define STORE_APPLICATION_ID	0x646e736d

/*
 * Every statement the store runs, prepared once per connection on first
 * use and reset for each use (store_stmt). The SQL is in store.c.
 */
enum store_stmt {
	S_BEGIN_READ,
	S_BEGIN_WRITE,
	S_COMMIT,
	S_ROLLBACK,
	S_DOMAIN_GET,
	S_DOMAIN_INSERT,
	S_DOMAIN_UPDATE,
	S_LAST_CONCLUSIVE,
	S_KEY_FIRST_SEEN,
	S_KEY_RDATA_ALL,
	S_DS_GET,
	S_KEY_UPSERT,
	S_DS_UPSERT,
	S_OBS_INSERT,
	S_ROT_OPEN,
	S_ROT_BY_EXTERNAL,
	S_ROT_HOST_DS_GET,
	S_ROT_HOST_DS_SET,
	S_ROT_INSERT,
	S_ROT_UPDATE,
	S_ROT_LIST,
	S_ROT_LIST_OPEN,
	S_HISTORY,
	S_KEYS_LIST,
	S_DS_LIST,
	S_PRUNE,
	S_PRUNE_DELIVERIES,
	S_PRUNE_OUTBOX,
	S_ALG_OPEN,
	/* Alerts: the SQL is in store/alerts.c (store_alerts_sql). */
	S_ALERT_OPEN,
	S_ALERT_CANDIDATES,
	S_ALERT_INSERT,
	S_ALERT_UPDATE,
	S_ALERT_CAND_UPSERT,
	S_ALERT_CAND_DELETE,
	S_OUTBOX_INSERT,
	S_OUTBOX_PAYLOAD,
	S_SINK_UPSERT,
	S_OUTBOX_NEXT,
	S_DELIVERY_UPSERT,
	S_SINK_ADVANCE,
	S_ALERTS_LIST,
	S_ALERT_DELIVERIES,
	S_ALERT_LAST_PAYLOAD,
	S__COUNT
};

/* Whether store_check() recorded the check, for store_last_write(). */
void	store_check_recorded(struct store *, bool recorded);

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S__COUNT];
	char		*path;
	bool		 readonly;
	int64_t		 last_obs;
	char		 err[768];
	bool		 in_write;	/* a write transaction is open */
	bool		 write_failed;	/* the last one did not commit */
	char		 write_err[768];	/* and why */
	/* The last check was not recorded, although no write failed: its
	 * history could not be read (a malformed page), so it never got to
	 * a write. Cleared only by a check that is recorded, not by another
	 * write (a delivery) that happens to commit. */
	bool		 check_failed;
	char		 check_err[768];
	/* The file opened, by identity: a database deleted or replaced
	 * under a running daemon keeps taking writes into an unlinked
	 * inode that nobody will ever read again. */
	dev_t		 dev;
	ino_t		 ino;
	char		 gone[400];	/* why the file is lost, "" if not */
};

/*
 * The columns every rotation query selects, in the order
 * store_read_rotation() reads them.
 */
#define STORE_ROT_COLUMNS						\
	"r.id, d.name, r.kind, r.source, r.start, r.deadline, "		\
	"r.registrar_deadline, r.ds_ttl, r.window_s, r.new_key_tag, "	\
	"r.new_key_alg, r.new_key_rdata, r.old_key_tags, "		\
	"r.ds_updated_at, r.completed_at, r.outcome, r.external_id "	\
	"FROM rotations r JOIN domains d ON d.id = r.domain_id"

/* The statement, reset and unbound, ready to bind; NULL (error set) when
 * it cannot be prepared. Owned by the store. */
sqlite3_stmt	*store_stmt(struct store *, enum store_stmt);
/* Set the error to "PATH: what: sqlite's message"; returns -1. */
int		 store_dberr(struct store *, const char *what);
/* Every commit fsynced (true) or the default again (false), between
 * transactions: for a write whose result leaves the process and cannot
 * be had again. 0, or -1 with the error set. */
int		 store_durable(struct store *, bool on);
/* Set the error to "PATH: " and the formatted text; returns -1. */
int		 store_seterr(struct store *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Run a statement that returns no rows to SQLITE_DONE; 0 or -1. */
int		 store_step_done(struct store *, sqlite3_stmt *,
		    const char *what);
int		 store_begin(struct store *, bool write);
int		 store_end(struct store *);	/* COMMIT */
void		 store_rollback(struct store *);	/* keeps the error */

/* Bind a time, 0 as NULL ("not reached"); read one back, NULL as 0. */
int		 store_bind_time(sqlite3_stmt *, int col, time_t);
time_t		 store_column_time(sqlite3_stmt *, int col);
/* Copy a text column into a buffer, NULL as "". */
void		 store_column_text(sqlite3_stmt *, int col, char *buf,
		    size_t len);

/* Read a row of STORE_ROT_COLUMNS into rot, the new key's RDATA into
 * rdata (rdata_max octets at most) and its length into *rdata_len. */
void		 store_read_rotation(sqlite3_stmt *, struct store_rotation *,
		    uint8_t *rdata, size_t rdata_max, size_t *rdata_len);

/* Domain id by name; 0 when unknown, -1 on error. */
int64_t		 store_domain_id(struct store *, const char *name);

/* Alerts (alerts.c): the SQL of the S_ALERT_* ... statements; and the
 * state machine, run by store_commit() inside its transaction with the
 * classified, escalated observation and the open KSK rotation (NULL when
 * none). 0 or -1. */
const char	*store_alerts_sql(enum store_stmt);
int		 store_alerts_commit(struct store *, int64_t domain_id,
		    const struct probe_result *, const struct store_policy *,
		    time_t now, const struct store_rotation *open);

/* Algorithm rollovers (algroll.c), inside the caller's transaction: the
 * open one into r->history; and this check's stage recorded (a new
 * rollover opened, a stage change, the rollover closed). 0 or -1. */
int		 store_algroll_annotate(struct store *, int64_t domain_id,
		    struct probe_result *);
int		 store_algroll_commit(struct store *, int64_t domain_id,
		    const struct probe_result *, time_t now);

/* The schema (schema.c). */
int		 store_schema_usable(sqlite3 *, const char *path,
		    long long *version, char *err, size_t errlen);
int		 store_schema_prepare(sqlite3 *, const char *path,
		    bool readonly, char *err, size_t errlen);
int		 store_schema_migrate(sqlite3 *, const char *path, int target,
		    char *err, size_t errlen);

#endif
