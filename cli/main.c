/*
 * dnssecmon: command dispatch. Each sub-command lives in its own file
 * under cli/; this file only knows their names.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
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
	  cmd_check,
	  "  --trust-anchor FILE       root trust anchor (default /usr/share/dns/root.key)\n"
	  "  --root-hints FILE         root server addresses (default\n"
	  "                            /usr/share/dns/root.hints, else a built-in copy)\n"
	  "  --resolver ADDR[@PORT]    a validating resolver to ask, up to 8 (default\n"
	  "                            8.8.8.8, 1.1.1.1 and 9.9.9.9); 'none' asks none\n"
	  "  --format FORMAT           text (default), json or nagios (a Nagios plugin)\n"
	  "  --timeout SECONDS         per question (default 2; 1.5 and 500ms work too)\n"
	  "  --retries N               re-sends after a timeout, 0 to 10 (default 2)\n"
	  "  --ipv6, --no-ipv6         ask name servers over IPv6 too (default), or not\n"
	  "  -w, --sig-warning DUR     signatures expiring within DUR warn (default 3d)\n"
	  "  -c, --sig-critical DUR    signatures expiring within DUR are critical\n"
	  "                            (default 1d; shorter than -w)\n"
	  "  --rotation-window DUR     how long the DNS host keeps the old key (default 7d)\n"
	  "  --critical-before DUR     a pending rotation is critical this long before\n"
	  "                            its registrar deadline (default 72h; shorter than\n"
	  "                            the window)\n"
	  "  --insecure-is-problem     a domain without DS warns instead of ok\n"
	  "  --multi-signer MODE       auto (default), yes or no (RFC 8901 multi-signer)\n"
	  "  --cds-parents LIST        parents that apply CDS themselves (comma list, or\n"
	  "                            none)\n"
	  "  -t, --time-limit SECS     end the whole check with UNKNOWN after this\n"
	  "                            (at most 300)\n"
	  "  --db FILE                 record history, judge with it (rotation deadlines)\n"
	  "  -f, --domains-file FILE   domains from FILE ('-': standard input); repeatable\n"
	  "  -v, --verbose             more logging on standard error\n"
	  "  -V, --version             print the version\n"
	  "Durations take s, m, h or d. Exit: 0 ok, 1 warning, 2 critical, 3 unknown.\n"
	  "See dnssecmon(8)." },
	{ "run", "[-c FILE] [-n] [--shard K/N|auto] [--log stderr|syslog|json] [--once] [-v]",
	  "run the monitor daemon in the foreground",
	  cmd_run,
	  "  -c, --config FILE       the configuration (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --check-config      check the configuration and the database (read-only,\n"
	  "                          PRAGMA quick_check for at most 10 s), print\n"
	  "                          'configuration OK' or every error as\n"
	  "                          FILE:LINE: key: problem\n"
	  "  --shard K/N|auto        watch one shard of the domains (auto: from the\n"
	  "                          systemd instance name)\n"
	  "  --log stderr|syslog|json  where the log goes (default stderr)\n"
	  "  --once                  check every domain once, then exit\n"
	  "  -v                      more logging\n"
	  "See dnssecmon(8) and dnssecmon.conf(5)." },
	{ "rotations", "--db FILE [--open] [--format text|json]",
	  "list key rotations and their deadlines",
	  cmd_rotations, NULL },
	{ "history", "DOMAIN --db FILE [--since TIME] [--format text|json]",
	  "show the observations recorded for a domain",
	  cmd_history, NULL },
	{ "keys", "DOMAIN --db FILE [--format text|json]",
	  "show the timeline of every key and DS seen for a domain",
	  cmd_keys, NULL },
	{ "alerts", "--db FILE [--since DURATION] [--format text|json]",
	  "list open and recent alerts with their delivery state",
	  cmd_alerts, NULL },
	{ "export", "grafana|prometheus-rules",
	  "write the Grafana dashboard or the Prometheus alerting rules",
	  cmd_export, NULL },
	{ "problems", "[--format text|json|man]",
	  "list every problem code with its severity and alerting meaning",
	  cmd_problems, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
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
cli_help(const char *name)
{
	const struct cli_command *c;

	for (c = cli_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0) {
			printf("usage: dnssecmon %s %s\n", c->name, c->synopsis);
			if (c->options != NULL)
				printf("\n%s\n", c->options);
		}
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
	/*
	 * Blocks of 16 KB and more come straight from the kernel and go back
	 * to it when freed. libunbound gives each question it works on a
	 * 16 KB region (its ALLOC_REG_SIZE) and writes a few KB of it; from
	 * a malloc arena, reused chunks had every page resident (with 500
	 * domains in flight ~2,000 questions). Fresh pages cost memory only
	 * where written. Measured, 10,000 bench domains: peak RSS 100.0 MB ->
	 * 82.2 MB, CPU +5% (an mmap and a munmap per such block). The glibc
	 * variable MALLOC_MMAP_THRESHOLD_, when set, still decides.
	 * Allocations that size made per record or per signature are the
	 * price: ldns allocates 64 KB buffers, so the hot signature paths
	 * (probe/denial.c) reuse their own instead of calling the ldns
	 * functions that make them (strace -c: 50 mmap/munmap pairs per
	 * domain before, 1.8 after).
	 */
	if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL)
		(void)mallopt(M_MMAP_THRESHOLD, 16 * 1024);

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
