/*
 * Sub-command entry points. Each takes the argv that follows the command
 * name (argv[0] is the command name) and returns the process exit status.
 */
#ifndef DNSSECMON_CLI_H
#define DNSSECMON_CLI_H

/* Exit statuses, shared with Nagios/Icinga plugin conventions. */
#define EXIT_OK		0
#define EXIT_WARNING	1
#define EXIT_CRITICAL	2
#define EXIT_UNKNOWN	3	/* also: usage errors, not implemented */

struct cli_command {
	const char	*name;
	const char	*synopsis;	/* after "dnssecmon NAME " */
	const char	*summary;
	int		(*run)(int argc, char *argv[]);	/* NULL: not yet */
	const char	*issue;		/* where a missing command is tracked */
};

/* The command table, terminated by a zero entry. */
extern const struct cli_command cli_commands[];

int	cmd_alerts(int argc, char *argv[]);
int	cmd_check(int argc, char *argv[]);
int	cmd_export(int argc, char *argv[]);
int	cmd_rotations(int argc, char *argv[]);
int	cmd_history(int argc, char *argv[]);
int	cmd_keys(int argc, char *argv[]);
int	cmd_run(int argc, char *argv[]);

/* Print "usage: dnssecmon NAME SYNOPSIS" for one command to stderr. */
void	cli_usage(const char *name);

#endif
