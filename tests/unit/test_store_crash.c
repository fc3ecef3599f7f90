/*
 * Crash safety: kill -9 the store's writer at random moments, again and
 * again, and check that SQLite's WAL kept its promise.
 *
 * This one binary is both sides. Run as `test_store_crash --writer DB RUN K`
 * it is the writer: it opens the store and commits synthetic checks as
 * fast as it can (one domain with a KSK rotation kept open, others
 * healthy), writing each observation's id to stdout only after COMMIT
 * returned: one transaction per check (K 1), or K checks per batch as
 * `dnssecmon run` records them (then each batch must survive whole or
 * not at all). Run plainly it is the test: it starts the writer, SIGKILLs it
 * after a random delay (sometimes before the store is even open, mostly
 * in the middle of a transaction), restarts it, at least 50 times, then
 * checks that
 *   - PRAGMA integrity_check says ok,
 *   - every id a writer reported is in the database (committed = durable
 *     across a process crash, even with synchronous=NORMAL),
 *   - the open rotation still has the start and deadline it was opened
 *     with.
 * Being a unit test, it links the real store and needs no Makefile rule.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "probe/probe.h"
#include "store/store.h"
#include "tests/store/synth.h"
#include "tests/unit/tap.h"

#define KILLS		60
#define MAX_DELAY_MS	40	/* after the first commit */
/* A hang guard, not a speed limit: a writer commits within milliseconds;
 * one that has committed nothing after this long is stuck. */
#define FIRST_COMMIT_MS	30000
#define T0		1764547200	/* 2025-12-01T00:00:00Z */
#define ROT_DOMAIN	"crash.test"

/* ------------------------------------------------------------ writer */

/*
 * Batched (k > 1), as the daemon records the checks that finish in one
 * loop turn: k checks in one transaction (store_batch_begin), all with
 * the batch's time, their ids reported only once store_batch_end()
 * returned. The rotation's domain is the first check of every batch.
 */
static int
writer(const char *path, long run, long k)
{
	static struct probe_result	 r;
	struct probe_policy		 pp;
	struct store_policy		 sp;
	struct store			*st;
	char				 err[512], line[32], dom[32];
	int64_t				 ids[64];
	time_t				 now;
	long				 i, b, j;
	int				 n;

	probe_policy_defaults(&pp);
	store_policy_defaults(&sp);
	if (k < 1 || k > 64)
		return 2;
	if ((st = store_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "writer: %s\n", err);
		return 1;
	}
	for (i = 0, b = 0;; b++) {
		/* Time moves on by run and by batch; the rotation must not. */
		now = T0 + run * 100000 + b;
		if (k > 1)
			store_batch_begin(st);
		for (j = 0; j < k; j++, i++) {
			if (k > 1 ? j == 0 : i % 4 == 0)
				synth_result(&r, ROT_DOMAIN, i == 0 &&
				    run == 0 ? SY_HEALTHY : SY_ROLLSTART, now);
			else {
				snprintf(dom, sizeof(dom), "busy%ld.test",
				    k > 1 ? j : i % 16);
				synth_result(&r, dom, SY_HEALTHY, now);
			}
			if (store_check(st, &r, &pp, &sp, now, NULL) == -1) {
				fprintf(stderr, "writer: %s\n",
				    store_error(st));
				return 1;
			}
			ids[j] = store_last_observation(st);
		}
		if (k > 1 && store_batch_end(st) == -1) {
			fprintf(stderr, "writer: %s\n", store_error(st));
			return 1;
		}
		/* write(2), not stdio: the line is out of the process the
		 * moment this returns, whatever kills us next. */
		for (j = 0; j < k; j++) {
			n = snprintf(line, sizeof(line), "%lld\n",
			    (long long)ids[j]);
			if (write(STDOUT_FILENO, line, (size_t)n) != n)
				return 1;
		}
	}
}

/* ------------------------------------------------------------- test */

struct ids {
	int64_t		*v;
	size_t		 n, cap;
};

static int
ids_add(struct ids *ids, int64_t id)
{
	int64_t	*nv;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 1024;
		if ((nv = realloc(ids->v, ids->cap * sizeof(*nv))) == NULL)
			return -1;
		ids->v = nv;
	}
	ids->v[ids->n++] = id;
	return 0;
}

/* Whole lines from buf into ids; a partial last line is kept in buf. */
static void
take_lines(char *buf, size_t *len, struct ids *ids)
{
	char	*nl, *p = buf, *end;
	long long v;

	while ((nl = memchr(p, '\n', *len - (size_t)(p - buf))) != NULL) {
		*nl = '\0';
		v = strtoll(p, &end, 10);
		if (end != p && *end == '\0' && v > 0)
			ids_add(ids, v);
		p = nl + 1;
	}
	*len -= (size_t)(p - buf);
	memmove(buf, p, *len);
}

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One life of the writer: start it, read what it reports, SIGKILL it
 * delay_ms after its first commit (young: delay_ms after it started, so
 * during start-up or migration), read what it had written before dying.
 * Counting from the first commit keeps the kills inside heavy writes on
 * a slow machine or under a sanitizer too. Returns 1 killed as planned,
 * 0 it died on its own or never committed (a failure), -1 could not run.
 */
static int
one_life(const char *self, const char *path, long run, long k,
    int delay_ms, bool young, struct ids *ids, char *errbuf, size_t errlen)
{
	char		 buf[4096], runs[32], ks[32];
	size_t		 len = 0;
	ssize_t		 got;
	struct pollfd	 pfd;
	long long	 deadline;
	size_t		 before = ids->n;
	pid_t		 pid;
	int		 fds[2], status, left;
	bool		 killed = false;

	if (pipe(fds) == -1)
		return -1;
	snprintf(runs, sizeof(runs), "%ld", run);
	snprintf(ks, sizeof(ks), "%ld", k);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[1]);
		execl(self, self, "--writer", path, runs, ks, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	deadline = now_ms() + (young ? delay_ms : FIRST_COMMIT_MS);
	for (;;) {
		left = (int)(deadline - now_ms());
		if (!killed && left <= 0) {
			kill(pid, SIGKILL);
			killed = true;
		}
		if (poll(&pfd, 1, killed ? 1000 : left) == -1 && errno != EINTR)
			break;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		got = read(fds[0], buf + len, sizeof(buf) - len - 1);
		if (got <= 0)
			break;		/* EOF: the writer is gone */
		len += (size_t)got;
		if (!young && !killed && ids->n == before) {
			take_lines(buf, &len, ids);
			if (ids->n > before)	/* committing now: start the clock */
				deadline = now_ms() + delay_ms;
		} else
			take_lines(buf, &len, ids);
	}
	close(fds[0]);
	if (!killed)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!young && ids->n == before) {
		snprintf(errbuf, errlen, "writer run %ld committed nothing in "
		    "%d ms (hung)", run, FIRST_COMMIT_MS);
		return 0;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && killed)
		return 1;
	snprintf(errbuf, errlen, "writer run %ld ended by itself (status "
	    "%d)", run, status);
	return 0;
}

static int
rotation_row(const char *path, long long *start, long long *deadline,
    long long *count)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*s = NULL;
	int		 rc = -1;

	*count = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "SELECT r.start, r.deadline "
	    "FROM rotations r JOIN domains d ON d.id = r.domain_id WHERE "
	    "d.name = '" ROT_DOMAIN "' AND r.outcome IS NULL", -1, &s,
	    NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		*start = sqlite3_column_int64(s, 0);
		*deadline = sqlite3_column_int64(s, 1);
		(*count)++;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* A batch is all there or not at all: each batch's checks share its
 * time, so every time holds k observations. The number of times that do
 * not, -1 on error. */
static long long
torn_batches(sqlite3 *db, long k)
{
	sqlite3_stmt	*s = NULL;
	long long	 n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM (SELECT time FROM "
	    "observations GROUP BY time HAVING count(*) != ?1)", -1, &s,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, k);
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return n;
}

static void
check_database(const char *path, long k, const struct ids *ids,
    long long start0, long long deadline0)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*s = NULL;
	const unsigned char *t;
	char		 integrity[128] = "?";
	long long	 start = 0, deadline = 0, count = 0;
	size_t		 i, missing = 0;

	/* A writer's connection, like the next daemon start: recovers the
	 * WAL a killed writer left behind. */
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		ok(0, "crash: open the database after the kills");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
	    (t = sqlite3_column_text(s, 0)) != NULL)
		snprintf(integrity, sizeof(integrity), "%s", t);
	sqlite3_finalize(s);
	s = NULL;
	is_str(integrity, "ok", "crash: PRAGMA integrity_check is ok");

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM observations WHERE id = ?1",
	    -1, &s, NULL) != SQLITE_OK) {
		ok(0, "crash: query observations");
		goto out;
	}
	for (i = 0; i < ids->n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, ids->v[i]);
		if (sqlite3_step(s) != SQLITE_ROW) {
			if (missing++ < 5)
				tap_diag("observation %lld was reported "
				    "committed but is missing",
				    (long long)ids->v[i]);
		}
	}
	is_int(missing, 0, "crash: all %zu reported observations are there",
	    ids->n);
	sqlite3_finalize(s);
	s = NULL;
	if (k > 1)
		is_int(torn_batches(db, k), 0, "crash: every batch of %ld "
		    "checks is there whole or not at all", k);

	rotation_row(path, &start, &deadline, &count);
	is_int(count, 1, "crash: exactly one open rotation for " ROT_DOMAIN);
	is_int(start, start0, "crash: the open rotation kept its start");
	is_int(deadline, deadline0, "crash: the open rotation kept its deadline");
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/*
 * KILLS lives of the writer on a fresh database in dir, checks in
 * batches of k (1: a transaction each), then what the database kept.
 */
static void
crash_series(const char *self, const char *dir, long k)
{
	struct ids	 ids = { NULL, 0, 0 };
	struct store	*st;
	char		 path[PATH_MAX], err[256];
	long long	 t_start, start0 = 0, deadline0 = 0, count, elapsed;
	long		 run, lived = 0, committed_runs = 0;
	size_t		 before;
	int		 rc, delay;
	bool		 broken = false, young;

	snprintf(path, sizeof(path), "%s/crash-%ld.db", dir, k);
	tap_diag("checks in batches of %ld", k);
	t_start = now_ms();
	for (run = 0; run < KILLS && !broken; run++) {
		/* One in ten dies young: during start-up or migration. */
		young = rand() % 10 == 0;
		delay = young ? rand() % 5 : rand() % MAX_DELAY_MS;
		before = ids.n;
		rc = one_life(self, path, run, k, delay, young, &ids, err,
		    sizeof(err));
		if (rc != 1) {
			ok(0, "crash: writer run %ld: %s", run, rc == 0 ? err :
			    strerror(errno));
			broken = true;
			break;
		}
		lived++;
		if (ids.n > before)
			committed_runs++;
		/* Remember the rotation as first committed. */
		if (start0 == 0 && ids.n > 0 &&
		    rotation_row(path, &start0, &deadline0, &count) == 0 &&
		    count != 1)
			start0 = deadline0 = 0;
	}
	elapsed = now_ms() - t_start;
	tap_diag("%ld writers killed, %ld of them after committing, %zu "
	    "observations reported, %lld ms", lived, committed_runs, ids.n,
	    elapsed);
	ok(lived >= 50, "crash: the writer was killed %ld times (>= 50)",
	    lived);
	ok(committed_runs >= 40, "crash: %ld lives committed something",
	    committed_runs);
	ok(start0 != 0 && deadline0 == start0 + 7 * 86400,
	    "crash: a rotation was opened (start %lld)", start0);
	if (!broken)
		check_database(path, k, &ids, start0, deadline0);

	/* And the store itself carries on from there. */
	st = store_open(path, err, sizeof(err));
	ok(st != NULL, "crash: store_open after the crashes");
	store_close(st);
	free(ids.v);
}

int
main(int argc, char *argv[])
{
	char		 dir[64], self[PATH_MAX], cmd[128];
	unsigned	 seed;
	ssize_t		 sl;

	if (argc == 5 && strcmp(argv[1], "--writer") == 0)
		return writer(argv[2], strtol(argv[3], NULL, 10),
		    strtol(argv[4], NULL, 10));

	signal(SIGPIPE, SIG_IGN);
	if ((sl = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		printf("not ok - crash: cannot find my own binary\n");
		return 1;
	}
	self[sl] = '\0';
	snprintf(dir, sizeof(dir), "/tmp/dnssecmon-crash.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("not ok - crash: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	tap_diag("seed %u (kills 0-%d ms into the writes, one in ten at "
	    "start-up)", seed, MAX_DELAY_MS);
	srand(seed);

	/* A transaction per check (check --db), then batches as `run`
	 * records them: a crash between two batches loses no check whose
	 * batch had committed, and never half a batch. */
	crash_series(self, dir, 1);
	crash_series(self, dir, 8);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
