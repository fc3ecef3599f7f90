/*
 * Looking at a store's database from outside, header-only like tap.h:
 * each call opens a connection of its own, as another process would, so
 * a test sees only what the store committed. Include after tap.h.
 */
#ifndef DNSSECMON_SQL_FIXTURE_H
#define DNSSECMON_SQL_FIXTURE_H

#include <stdbool.h>
#include <string.h>

#include <sqlite3.h>

/* An integer from SQL, read-only; -999 on error (said as a diagnostic). */
static inline long long
sql_int(const char *path, const char *sql)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*s = NULL;
	long long	 v = -999;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		tap_diag("sql_int(%s): %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Runs SQL (to damage or prepare a database). 0, or -1 said. */
static inline int
sql_exec(const char *path, const char *sql)
{
	sqlite3	*db = NULL;
	char	*msg = NULL;
	int	 rc;

	rc = sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK ? 0 : -1;
	if (rc == -1)
		tap_diag("sql_exec: %s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc;
}

/* HAY contains NEEDLE; says both when not. */
static inline bool
contains(const char *hay, const char *needle)
{
	bool	 ok = hay != NULL && strstr(hay, needle) != NULL;

	if (!ok)
		tap_diag("'%s' does not contain '%s'", hay ? hay : "(null)",
		    needle);
	return ok;
}

#endif
