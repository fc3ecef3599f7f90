/*
 * dnssecmon problems: the registry of problem codes (probe/registry.c),
 * for people writing alert routes and for dnssecmon(8), whose list is
 * this command's `--format man` output (a test keeps the two equal).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "common/log.h"
#include "probe/probe.h"

#define SYNOPSIS	"[--format text|json|man]"

static void
print_text(void)
{
	const struct probe_problem_def	*d;
	unsigned			 i;

	printf("%-26s %-8s %-5s %s\n", "CODE", "SEVERITY", "AT", "MEANING");
	for (i = 0; i < PROBE_P__COUNT; i++) {
		d = probe_problem_def((enum probe_code)i);
		printf("%-26s %-8s %-5s %s\n", d->code,
		    probe_problem_severity_name(d->severity),
		    d->fires_at_once ? "once" : "-", d->meaning);
	}
}

static int
print_json(void)
{
	const struct probe_problem_def	*d;
	json_t				*a = json_array();
	unsigned			 i;
	int				 rc;

	for (i = 0; i < PROBE_P__COUNT; i++) {
		d = probe_problem_def((enum probe_code)i);
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:s, s:s, "
		    "s:s}", "code", d->code, "severity",
		    probe_problem_severity_name(d->severity), "fires_at_once",
		    d->fires_at_once, "resolved_by",
		    probe_resolve_name(d->resolved_by), "alerts_as",
		    probe_problem_code(d->alert_as), "meaning", d->meaning));
	}
	rc = json_dumpf(a, stdout, JSON_INDENT(2));
	json_decref(a);
	putchar('\n');
	return rc;
}

/* mdoc: one .It per code. */
static void
print_man(void)
{
	const struct probe_problem_def	*d;
	unsigned			 i;

	printf(".Bl -tag -width Ds\n");
	for (i = 0; i < PROBE_P__COUNT; i++) {
		d = probe_problem_def((enum probe_code)i);
		printf(".It Li %s Pq %s%s\n%s.\n", d->code,
		    probe_problem_severity_name(d->severity),
		    d->fires_at_once ? ", fires at once" : "", d->meaning);
		if (d->alert_as != d->id)
			printf("Alerts as\n.Li %s .\n",
			    probe_problem_code(d->alert_as));
		printf("Resolved by %s.\n", probe_resolve_name(d->resolved_by));
	}
	printf(".El\n");
}

int
cmd_problems(int argc, char *argv[])
{
	const char	*fmt = "text";

	log_procname("dnssecmon problems");
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		printf("usage: dnssecmon problems " SYNOPSIS "\n");
		return EXIT_OK;
	}
	if (argc == 3 && strcmp(argv[1], "--format") == 0)
		fmt = argv[2];
	else if (argc == 2 && strncmp(argv[1], "--format=", 9) == 0)
		fmt = argv[1] + 9;
	else if (argc != 1) {
		log_warnx("unexpected argument '%s'", argv[1]);
		cli_usage("problems");
		return EXIT_UNKNOWN;
	}
	if (strcmp(fmt, "text") == 0)
		print_text();
	else if (strcmp(fmt, "json") == 0) {
		if (print_json() == -1)
			return 1;
	} else if (strcmp(fmt, "man") == 0)
		print_man();
	else {
		log_warnx("--format: '%s' is not one of text, json, man", fmt);
		return EXIT_UNKNOWN;
	}
	if (fflush(stdout) == EOF) {
		log_warn("writing the problem codes");
		return 1;
	}
	return EXIT_OK;
}
