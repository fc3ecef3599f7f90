/*
 * store_verify(): would `run` take this database, and is it whole? For
 * `run -n`, which systemd runs before every start (ExecStartPre): it must
 * look without touching, and its cost must not grow without bound with
 * the file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/internal.h"

#define MAIN_PREFIX	"*** in database main ***\n"

/*
 * Interrupts the check when its time is up. A thread, not a progress
 * handler: quick_check walks every b-tree inside one VM instruction,
 * where no progress handler runs (measured: 16 s on a 440 MB file with
 * a cold cache against a 0.3 s budget), while sqlite3_interrupt() is
 * seen there.
 */
struct watchdog {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct timespec	 deadline;	/* CLOCK_MONOTONIC */
	sqlite3		*db;
	bool		 done;		/* the check ended by itself */
	bool		 fired;
};

static void *
watchdog_run(void *arg)
{
	struct watchdog	*w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->done && !w->fired)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &w->deadline) ==
		    ETIMEDOUT && !w->done) {
			w->fired = true;
			sqlite3_interrupt(w->db);
		}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Run PRAGMA quick_check for at most budget_ms; its first row (caller
 * frees with sqlite3_free) or NULL with *spent, or NULL with err set. */
static char *
quick_check(sqlite3 *db, const char *path, int budget_ms, bool *spent,
    char *err, size_t errlen)
{
	struct watchdog		 w;
	pthread_condattr_t	 ca;
	pthread_t		 tid;
	sqlite3_stmt		*st = NULL;
	char			*row = NULL;
	bool			 watched = false;

	memset(&w, 0, sizeof(w));
	w.db = db;
	clock_gettime(CLOCK_MONOTONIC, &w.deadline);
	w.deadline.tv_sec += budget_ms / 1000;
	w.deadline.tv_nsec += (long)(budget_ms % 1000) * 1000000L;
	if (w.deadline.tv_nsec >= 1000000000L) {
		w.deadline.tv_sec++;
		w.deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_init(&w.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Without the thread the check runs unbounded: still a check. */
	watched = pthread_create(&tid, NULL, watchdog_run, &w) == 0;
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(3)", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		row = sqlite3_mprintf("%s", (const char *)
		    sqlite3_column_text(st, 0));
	if (watched) {
		pthread_mutex_lock(&w.mu);
		w.done = true;
		pthread_cond_signal(&w.cv);
		pthread_mutex_unlock(&w.mu);
		pthread_join(tid, NULL);
	}
	*spent = w.fired && row == NULL;
	if (row == NULL && !*spent)
		snprintf(err, errlen, "%s: the database is damaged (%s): "
		    "restore it from a backup, or move it away and dnssecmon "
		    "starts a new one", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return row;
}

/*
 * "file:" URI of path, read-only. immutable: SQLite takes no lock and
 * opens no -wal or -shm (see store_verify for when that is right).
 */
static int
verify_uri(const char *path, bool immutable, char *out, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*s;
	size_t			 o;
	int			 n;

	if ((n = snprintf(out, len, "file:")) < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	for (s = (const unsigned char *)path; *s != '\0'; s++) {
		/* '?', '#' and '%' would end or change the path. */
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("/._-~", *s) != NULL) {
			if (o + 1 >= len)
				return -1;
			out[o++] = (char)*s;
		} else {
			if (o + 3 >= len)
				return -1;
			out[o++] = '%';
			out[o++] = hex[*s >> 4];
			out[o++] = hex[*s & 15];
		}
	}
	n = snprintf(out + o, len - o, "?mode=ro%s",
	    immutable ? "&immutable=1" : "");
	return n < 0 || (size_t)n >= len - o ? -1 : 0;
}

/* Is the file in WAL mode (header bytes 18 and 19 are 2)? */
static bool
header_wal(const char *path)
{
	unsigned char	 h[20];
	int		 fd;
	bool		 wal = false;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    memcmp(h, "SQLite format 3", 16) == 0 && h[18] == 2 && h[19] == 2)
		wal = true;
	close(fd);
	return wal;
}

int
store_verify(const char *path, int budget_ms, bool *partial, char *err,
    size_t errlen)
{
	sqlite3		*db = NULL;
	struct stat	 sb;
	char		 uri[PATH_MAX * 3 + 32], shm[PATH_MAX + 8];
	char		*row = NULL;
	long long	 version;
	bool		 immutable = false;
	int		 rc = -1;

	*partial = false;
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			return 0;	/* store_open() creates it */
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (sb.st_size == 0)
		return 0;		/* store_open() creates the tables */
	/*
	 * A read-only connection to a WAL database creates the -wal and
	 * -shm files when they are missing and leaves them behind: owned by
	 * whoever ran -n (root, say), where the daemon's user then cannot
	 * write them. When there is no -shm, no process has the database
	 * open (the last one to close removes both) and the file alone is
	 * the database: read it as immutable, which opens nothing else. A
	 * -wal without its -shm (a crash, then someone removed the -shm)
	 * is left out, as the daemon's start will recover it anyway.
	 */
	if (snprintf(shm, sizeof(shm), "%s-shm", path) >= (int)sizeof(shm)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (header_wal(path) && access(shm, F_OK) == -1 && errno == ENOENT)
		immutable = true;
	if (verify_uri(path, immutable, uri, sizeof(uri)) == -1) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db != NULL ?
		    sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (store_schema_usable(db, path, &version, err, errlen) == -1)
		goto out;
	/* quick_check reads every page once (O(file size), without the
	 * index cross-checks of integrity_check); the budget bounds what a
	 * large database adds to each start. */
	if ((row = quick_check(db, path, budget_ms, partial, err,
	    errlen)) == NULL) {
		rc = *partial ? 0 : -1;
		goto out;
	}
	if (strcmp(row, "ok") != 0) {
		char		 what[201], *c;
		const char	*first = row;

		/* Its first finding, on one line, without the schema name
		 * every finding starts with. */
		if (strncmp(first, MAIN_PREFIX, strlen(MAIN_PREFIX)) == 0)
			first += strlen(MAIN_PREFIX);
		snprintf(what, sizeof(what), "%s", first);
		for (c = what; *c != '\0'; c++)
			if (*c == '\n' || *c == '\r' || *c == '\t')
				*c = ' ';
		snprintf(err, errlen, "%s: the database is damaged (quick_check: "
		    "%s): restore it from a backup, or move it away and "
		    "dnssecmon starts a new one", path, what);
		goto out;
	}
	rc = 0;
out:
	sqlite3_free(row);
	sqlite3_close(db);
	return rc;
}
