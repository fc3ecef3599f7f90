/*
 * Batched checks (store_batch_begin/end), as `dnssecmon run` records the
 * checks that finish in one loop turn: on the real store, watched from a
 * second connection (what another process, or the next start, would
 * read). A batch is committed whole and only at its end; any other store
 * call commits it first; a check that fails is undone alone; a batch
 * whose transaction is lost is reported whole, and the store is not
 * ready until a check is recorded again. The crash side (kill -9
 * between and inside batches) is in test_store_crash.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "probe/probe.h"
#include "store/store.h"
#include "tests/store/synth.h"
#include "tests/unit/tap.h"
#include "tests/unit/sql_fixture.h"

#define T0	1764547200	/* 2025-12-01T00:00:00Z */

static char			 dir[64], path[PATH_MAX];
static struct probe_result	*R;
static struct probe_policy	 ppol;
static struct store_policy	 spol;

static int
step(struct store *st, const char *domain, enum synth_state s, time_t now)
{
	synth_result(R, domain, s, now);
	return store_check(st, R, &ppol, &spol, now, NULL);
}

static long long
observations(void)
{
	return sql_int(path, "SELECT count(*) FROM observations");
}

/* Checks in a batch are seen by nobody until the batch commits, then
 * all at once; the open rotation's start is among them. */
static void
test_together(struct store *st)
{
	long long	 n0 = observations();

	store_batch_begin(st);
	ok(step(st, "a.test", SY_HEALTHY, T0) == 0 &&
	    step(st, "b.test", SY_HEALTHY, T0) == 0 &&
	    step(st, "r.test", SY_HEALTHY, T0) == 0,
	    "together: three checks taken into the batch");
	is_int(observations(), n0, "together: none is visible to another "
	    "connection before the batch commits");
	is_int(store_batch_end(st), 0, "together: the batch commits");
	is_int(observations(), n0 + 3, "together: all three are there at "
	    "once after it");

	store_batch_begin(st);
	ok(step(st, "r.test", SY_ROLLSTART, T0 + 60) == 0,
	    "together: a check opening a KSK rotation, batched");
	is_int(sql_int(path, "SELECT count(*) FROM rotations"), 0,
	    "together: the rotation is not there before the commit");
	is_int(store_batch_end(st), 0, "together: committed");
	is_int(sql_int(path, "SELECT start FROM rotations WHERE outcome IS NULL"),
	    T0 + 60, "together: the rotation's start is there after it");
}

/* Any other store call commits the batch first: it never reads, nor
 * acknowledges, a check that could still be lost. */
static void
test_other_call(struct store *st)
{
	struct store_domain	 dom;
	long long		 n0 = observations();

	store_batch_begin(st);
	ok(step(st, "a.test", SY_HEALTHY, T0 + 120) == 0,
	    "other call: a check in the batch");
	is_int(observations(), n0, "other call: not visible yet");
	is_int(store_domain(st, "a.test", &dom), 1,
	    "other call: the store is read from outside the check");
	is_int(observations(), n0 + 1, "other call: which committed the "
	    "batch first");
	ok(step(st, "b.test", SY_HEALTHY, T0 + 120) == 0,
	    "other call: a check after it opens a new transaction");
	is_int(store_batch_end(st), 0, "other call: the batch ends well");
	is_int(observations(), n0 + 2, "other call: both checks are there");
}

/* A check that fails inside a batch is undone alone. */
static void
test_one_fails(struct store *st)
{
	char		 why[512];
	long long	 n0 = observations();

	ok(sql_exec(path, "CREATE TRIGGER fault BEFORE INSERT ON observations "
	    "WHEN (SELECT name FROM domains WHERE id = NEW.domain_id) = "
	    "'f.test' BEGIN SELECT RAISE(ABORT, 'injected fault'); END") == 0,
	    "one fails: a fault injected for f.test only");
	store_batch_begin(st);
	ok(step(st, "a.test", SY_HEALTHY, T0 + 180) == 0,
	    "one fails: the check before it is taken");
	ok(step(st, "f.test", SY_HEALTHY, T0 + 180) == -1 &&
	    contains(store_error(st), "injected fault"),
	    "one fails: the faulty check fails with the fault's message");
	ok(probe_has_problem(R, PROBE_P_STORE_ERROR) &&
	    R->severity >= PROBE_SEV_UNKNOWN,
	    "one fails: it carries store_error, severity unknown at least");
	ok(step(st, "b.test", SY_HEALTHY, T0 + 180) == 0,
	    "one fails: the check after it is taken");
	is_int(store_batch_end(st), 0, "one fails: the batch commits");
	is_int(observations(), n0 + 2, "one fails: the other two are there");
	is_int(sql_int(path, "SELECT count(*) FROM domains WHERE name = 'f.test'"),
	    0, "one fails: nothing of the faulty check is");
	ok(store_last_write(st, why, sizeof(why)),
	    "one fails: the store is ready (the last check was recorded)");
	sql_exec(path, "DROP TRIGGER fault");
}

/* A batch whose transaction is lost: every check it had taken is
 * reported, the store is not ready, and the next batch works. */
static void
test_lost(struct store *st)
{
	char		 why[512];
	long long	 n0 = observations();
	int		 rc;

	ok(sql_exec(path, "CREATE TRIGGER lose BEFORE INSERT ON observations "
	    "WHEN (SELECT name FROM domains WHERE id = NEW.domain_id) = "
	    "'g.test' BEGIN SELECT RAISE(ROLLBACK, 'injected loss'); END") ==
	    0, "lost: a fault that rolls the whole transaction back");
	store_batch_begin(st);
	ok(step(st, "a.test", SY_HEALTHY, T0 + 240) == 0,
	    "lost: the first check is taken");
	ok(step(st, "g.test", SY_HEALTHY, T0 + 240) == -1,
	    "lost: the faulty check fails");
	ok(step(st, "b.test", SY_HEALTHY, T0 + 240) == -1 &&
	    contains(store_error(st), "earlier check"),
	    "lost: a check after it in the batch is refused, saying why");
	rc = store_batch_end(st);
	ok(rc == -1 && contains(store_error(st), "injected loss"),
	    "lost: the batch's end reports the loss and its cause");
	is_int(observations(), n0, "lost: none of the batch is there");
	ok(!store_last_write(st, why, sizeof(why)) &&
	    contains(why, "injected loss"),
	    "lost: the store is not ready, saying why");
	/* The daemon reports each check the batch had taken. */
	synth_result(R, "a.test", SY_HEALTHY, T0 + 240);
	probe_classify(R, &ppol, T0 + 240);
	store_check_lost(st, R, &ppol, &spol, T0 + 240);
	ok(probe_has_problem(R, PROBE_P_STORE_ERROR) &&
	    R->severity >= PROBE_SEV_UNKNOWN &&
	    contains(R->history.store_error, "injected loss"),
	    "lost: a lost check carries store_error with the cause");
	sql_exec(path, "DROP TRIGGER lose");

	store_batch_begin(st);
	ok(step(st, "a.test", SY_HEALTHY, T0 + 300) == 0 &&
	    store_batch_end(st) == 0, "lost: the next batch commits");
	is_int(observations(), n0 + 1, "lost: and is there");
	ok(store_last_write(st, why, sizeof(why)),
	    "lost: the store is ready again");
}

/* Locked by another writer: the first check waits out the busy timeout,
 * the rest of the batch fails at once instead of waiting again. */
static void
test_locked(struct store *st)
{
	sqlite3		*holder = NULL;
	long long	 n0 = observations();

	sqlite3_open(path, &holder);
	ok(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	    SQLITE_OK, "locked: another connection takes the write lock");
	store_busy_timeout(st, 50);
	store_batch_begin(st);
	ok(step(st, "a.test", SY_HEALTHY, T0 + 360) == -1 &&
	    contains(store_error(st), "locked"),
	    "locked: the first check fails, saying the database is locked");
	ok(step(st, "b.test", SY_HEALTHY, T0 + 360) == -1 &&
	    contains(store_error(st), "locked"),
	    "locked: the next fails too, with the same reason");
	ok(store_batch_end(st) == -1, "locked: the batch's end says so");
	sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(holder);
	store_busy_timeout(st, 5000);
	is_int(observations(), n0, "locked: nothing was written");
	store_batch_begin(st);
	ok(step(st, "a.test", SY_HEALTHY, T0 + 420) == 0 &&
	    store_batch_end(st) == 0, "locked: once free, a batch commits");
}

int
main(void)
{
	struct store	*st;
	char		 err[512], cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/dnssecmon-batch.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/batch.db", dir);
	if ((R = calloc(1, sizeof(*R))) == NULL)
		return 1;
	probe_policy_defaults(&ppol);
	store_policy_defaults(&spol);
	st = store_open(path, err, sizeof(err));
	if (ok(st != NULL, "store_open")) {
		test_together(st);
		test_other_call(st);
		test_one_fails(st);
		test_lost(st);
		test_locked(st);
	} else
		tap_diag("%s", err);
	store_close(st);
	free(R);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
