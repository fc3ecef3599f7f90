/*
 * Helpers shared by the commands that read the history database
 * (rotations, history, keys, alerts): one way to spell a time, a domain
 * argument and the opening of the database, so the four agree.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "probe/dsmatch.h"
#include "store/store.h"

const char *
cli_time_text(time_t t, char *buf, size_t len)
{
	return t == 0 ? "-" : clock_rfc3339(t, buf, len);
}

int
cli_domain_arg(const char *in, char *out, size_t len, char *why,
    size_t whylen)
{
	uint8_t		 wire[DSMATCH_NAME_MAX];
	size_t		 wlen, i;

	if (dsmatch_name_to_wire(in, wire, sizeof(wire), &wlen, why,
	    whylen) == -1)
		return -1;
	snprintf(out, len, "%s", in);
	for (i = 0; out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	if (i > 1 && out[i - 1] == '.')
		out[i - 1] = '\0';
	return 0;
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
