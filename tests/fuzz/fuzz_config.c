/*
 * libFuzzer target for the daemon's configuration: any bytes as
 * dnssecmon.yaml through config_load(), the parser a SIGHUP runs on the
 * live daemon. It must end with a config or with errors, never crash,
 * leak or hang (libyaml has been quadratic and recursive on hostile
 * input: nesting is capped, documents are one). Invariant: a config or
 * at least one error, never both, never neither.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors	 errs;
	struct config		*c;
	FILE			*f;

	if (path[0] == '\0') {
		int fd;

		snprintf(path, sizeof(path), "/tmp/fuzz_config.XXXXXX");
		if ((fd = mkstemp(path)) == -1)
			abort();
		close(fd);
	}
	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	c = config_load(path, &errs);
	if ((c == NULL) == (errs.n == 0)) {
		fprintf(stderr, "invariant failed: config %p with %u errors\n",
		    (void *)c, errs.n);
		abort();
	}
	config_free(c);
	return 0;
}
