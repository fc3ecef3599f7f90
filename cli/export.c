/*
 * dnssecmon export: write the shipped Grafana dashboard or Prometheus
 * alerting rules to standard output, byte for byte the files in
 * dashboard-export/ (they are built into the binary).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "dashboard-export/export.h"

#define SYNOPSIS	"grafana|prometheus-rules"

int
cmd_export(int argc, char *argv[])
{
	const char	*what, *text;

	log_procname("dnssecmon export");
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		printf("usage: dnssecmon export " SYNOPSIS "\n");
		return EXIT_OK;
	}
	if (argc != 2) {
		log_warnx("expected one of grafana, prometheus-rules");
		cli_usage("export");
		return EXIT_UNKNOWN;
	}
	what = argv[1];
	if (strcmp(what, "grafana") == 0)
		text = export_grafana_dashboard();
	else if (strcmp(what, "prometheus-rules") == 0)
		text = export_prometheus_rules();
	else {
		log_warnx("unknown export '%s' (expected grafana or "
		    "prometheus-rules)", what);
		return EXIT_UNKNOWN;
	}
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
		log_warn("writing the %s export", what);
		return 1;
	}
	return EXIT_OK;
}
