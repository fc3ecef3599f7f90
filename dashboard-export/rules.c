/*
 * `dnssecmon export prometheus-rules`: the alerting rules, exactly the
 * file the repository ships (dashboard-export/prometheus-rules.yml),
 * built into the binary; promtool checks and unit-tests that file
 * (dashboard-export/prometheus-rules.test.yml).
 */
#include "dashboard-export/export.h"

__asm__(
	"\t.section .rodata\n"
	"\t.balign 16\n"
	"\t.type export_rules_yml, @object\n"
	"export_rules_yml:\n"
	"\t.incbin \"dashboard-export/prometheus-rules.yml\"\n"
	"\t.byte 0\n"
	"\t.size export_rules_yml, . - export_rules_yml\n"
	"\t.previous\n");

extern const char export_rules_yml[];

const char *
export_prometheus_rules(void)
{
	return export_rules_yml;
}
