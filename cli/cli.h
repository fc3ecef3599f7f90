/*
 * Sub-command entry points. Each takes the argv that follows the command
 * name (argv[0] is the command name) and returns the process exit status.
 */
#ifndef DNSSECMON_CLI_H
#define DNSSECMON_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Exit statuses, shared with Nagios/Icinga plugin conventions. */
#define EXIT_OK		0
#define EXIT_WARNING	1
#define EXIT_CRITICAL	2
#define EXIT_UNKNOWN	3	/* also: usage errors, not implemented */

struct cli_command {
	const char	*name;
	const char	*synopsis;	/* after "dnssecmon NAME " */
	const char	*summary;
	int		(*run)(int argc, char *argv[]);
	const char	*options;	/* one line an option; NULL: none */
};

/* The command table, terminated by a zero entry. */
extern const struct cli_command cli_commands[];

/* "usage: ..." and the options of command name on standard output (for
 * --help). */
void	cli_help(const char *name);

int	cmd_alerts(int argc, char *argv[]);
int	cmd_check(int argc, char *argv[]);
int	cmd_export(int argc, char *argv[]);
int	cmd_problems(int argc, char *argv[]);
int	cmd_rotations(int argc, char *argv[]);
int	cmd_history(int argc, char *argv[]);
int	cmd_keys(int argc, char *argv[]);
int	cmd_run(int argc, char *argv[]);

struct json_t;
struct store;

/* Helpers of the commands that read the database (cli/util.c). */
/* A time as RFC 3339 UTC, "-" for 0; returns buf. */
const char *cli_time_text(time_t, char *buf, size_t len);
/* --format text|json into *json; -1 after logging the bad value. */
int	cli_format_json(const char *arg, bool *json);
/* The ':' (missing value) and unknown-option cases of a getopt_long loop
 * of command cmd: logs the error, returns EXIT_UNKNOWN. */
int	cli_option_error(const char *cmd, int ch, char *argv[]);
/* Open --db read-only for command cmd; NULL after logging why (no --db,
 * no such database, a newer schema ...). Caller closes. */
struct store *cli_open_db(const char *cmd, const char *db);

/* Print "usage: dnssecmon NAME SYNOPSIS" for one command to stderr. */
void	cli_usage(const char *name);

#endif
