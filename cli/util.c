/*
 * Helpers shared by the commands that read the history database
 * (rotations, history, keys, alerts): one way to spell a time, a domain
 * argument and the opening of the database, so the four agree.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/store.h"

const char *
cli_time_text(time_t t, char *buf, size_t len)
{
	return t == 0 ? "-" : clock_rfc3339(t, buf, len);
}

struct store *
cli_open_db(const char *cmd, const char *db)
{
	struct store	*st;
	char		 err[512];

	if (db == NULL) {
		log_warnx("--db FILE is required (see 'dnssecmon %s --help')",
		    cmd);
		return NULL;
	}
	if ((st = store_open_readonly(db, err, sizeof(err))) == NULL)
		log_warnx("%s", err);
	return st;
}

int
cli_format_json(const char *arg, bool *json)
{
	if (strcmp(arg, "json") == 0)
		*json = true;
	else if (strcmp(arg, "text") == 0)
		*json = false;
	else {
		log_warnx("--format '%s': expected text or json", arg);
		return -1;
	}
	return 0;
}

int
cli_option_error(const char *cmd, int ch, char *argv[])
{
	if (ch == ':')
		log_warnx("option '%s' needs a value", argv[optind - 1]);
	else
		log_warnx("unknown option '%s' (see 'dnssecmon %s --help')",
		    argv[optind - 1], cmd);
	return EXIT_UNKNOWN;
}
