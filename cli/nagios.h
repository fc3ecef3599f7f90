/*
 * The Nagios / Icinga plugin output of `check --format nagios`.
 */
#ifndef DNSSECMON_CLI_NAGIOS_H
#define DNSSECMON_CLI_NAGIOS_H

#include <stdio.h>

#include "probe/probe.h"
#include "store/store.h"

/*
 * The plugin output for n judged results (rot[i]: the open KSK rotation
 * of res[i], id 0 when none): the summary line with performance data,
 * then the long output, all under Nagios core's 8 KB. `pol` gives the
 * thresholds shown in the performance data.
 */
void	nagios_print(FILE *, struct probe_result **res,
	    const struct store_rotation *rot, unsigned n,
	    enum probe_severity worst, const struct probe_policy *pol);
/* "DNSSEC UNKNOWN - MESSAGE" on stdout: where a plugin's error goes. */
void	nagios_unknown(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
