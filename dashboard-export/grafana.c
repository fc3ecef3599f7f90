/*
 * `dnssecmon export grafana`: the Grafana dashboard, exactly the file
 * the repository ships (dashboard-export/grafana-dashboard.json), built
 * into the binary so that the two cannot drift apart. The Makefile makes
 * this object depend on that file.
 */
#include "dashboard-export/export.h"

__asm__(
	"\t.section .rodata\n"
	"\t.balign 16\n"
	"\t.type export_grafana_json, @object\n"
	"export_grafana_json:\n"
	"\t.incbin \"dashboard-export/grafana-dashboard.json\"\n"
	"\t.byte 0\n"
	"\t.size export_grafana_json, . - export_grafana_json\n"
	"\t.previous\n");

extern const char export_grafana_json[];

const char *
export_grafana_dashboard(void)
{
	return export_grafana_json;
}
