/*
 * dnssecmon: command dispatch. Each sub-command lives in its own file
 * under cli/; this file only knows their names.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"

const struct cli_command cli_commands[] = {
	{ "check",
	  "[--trust-anchor FILE] [--root-hints FILE] [--resolver ADDR[@PORT]]...\n"
	  "       [--format text|json|nagios] [--timeout SECONDS] [--retries N]\n"
	  "       [--ipv6 | --no-ipv6] [--sig-warning|-w DURATION] [--sig-critical|-c DURATION]\n"
	  "       [--rotation-window DURATION] [--critical-before DURATION]\n"
	  "       [--insecure-is-problem] [--multi-signer auto|yes|no]\n"
	  "       [--cds-parents ZONE,...|none] [--time-limit|-t SECONDS] [--db FILE]\n"
	  "       [-v] [-V] [-f|--domains-file FILE|-]... [DOMAIN...]",
	  "probe domains once and report their DNSSEC and rotation state",
	  cmd_check },
	{ "run", "-c FILE [-n] [--shard K/N|auto] [--log stderr|syslog|json] [--once] [-v]",
	  "run the monitor daemon in the foreground",
	  cmd_run },
	{ "rotations", "--db FILE [--open] [--format text|json]",
	  "list key rotations and their deadlines",
	  cmd_rotations },
	{ "history", "DOMAIN --db FILE [--since TIME] [--format text|json]",
	  "show the observations recorded for a domain",
	  cmd_history },
	{ "keys", "DOMAIN --db FILE [--format text|json]",
	  "show the timeline of every key and DS seen for a domain",
	  cmd_keys },
	{ "alerts", "--db FILE [--since DURATION] [--format text|json]",
	  "list open and recent alerts with their delivery state",
	  cmd_alerts },
	{ "export", "grafana|prometheus-rules",
	  "write the Grafana dashboard or the Prometheus alerting rules",
	  cmd_export },
	{ "problems", "[--format text|json|man]",
	  "list every problem code with its severity and alerting meaning",
	  cmd_problems },
	{ NULL, NULL, NULL, NULL }
};

static void
usage(FILE *f)
{
	const struct cli_command *c;

	fprintf(f, "usage: dnssecmon [--help] [--version] COMMAND [ARGS]\n\n"
	    "commands:\n");
	for (c = cli_commands; c->name != NULL; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'dnssecmon COMMAND --help' for the options of one "
	    "command; see dnssecmon(8).\n");
}

void
cli_usage(const char *name)
{
	const struct cli_command *c;

	for (c = cli_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			fprintf(stderr, "usage: dnssecmon %s %s\n", c->name,
			    c->synopsis);
}

int
main(int argc, char *argv[])
{
	const struct cli_command *c;

	log_init(LOG_TO_STDERR, 0, "dnssecmon");
	log_procname("dnssecmon");

	if (argc < 2) {
		usage(stderr);
		return EXIT_UNKNOWN;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			for (c = cli_commands; c->name != NULL; c++)
				if (strcmp(c->name, argv[2]) == 0) {
					printf("usage: dnssecmon %s %s\n",
					    c->name, c->synopsis);
					return EXIT_OK;
				}
			log_warnx("help: unknown command '%s'", argv[2]);
			return EXIT_UNKNOWN;
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("dnssecmon %s\n", DNSSECMON_VERSION);
		return EXIT_OK;
	}
	if (argv[1][0] == '-') {
		log_warnx("unknown option '%s' (a command comes first; "
		    "see dnssecmon --help)", argv[1]);
		return EXIT_UNKNOWN;
	}

	for (c = cli_commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) != 0)
			continue;
		return c->run(argc - 1, argv + 1);
	}
	log_warnx("unknown command '%s' (see dnssecmon --help)", argv[1]);
	return EXIT_UNKNOWN;
}
