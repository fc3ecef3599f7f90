/*
 * Shards and instance names (cli/shard.h).
 *
 * --shard auto is for platforms that number their pods: a Kubernetes
 * StatefulSet names its pods SET-0, SET-1, ... and keeps each name (and
 * its volume) across restarts, so the ordinal is a stable shard. N cannot
 * be read from the name and comes from the environment, set once in the
 * StatefulSet next to its replica count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/shard.h"

/* A whole decimal number in [min, max], nothing after it: 0, else -1. */
static int
number(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A StatefulSet's name is a DNS label: it ends in a letter or digit. */
static bool
instance_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
shard_auto(const char *hostname, const char *env_n, unsigned *k,
    unsigned *n, char *err, size_t errlen)
{
	const char	*dash;
	char		 label[64];
	long		 ord, count;

	if (env_n == NULL || *env_n == '\0') {
		snprintf(err, errlen, "--shard auto: %s is not set (it says "
		    "how many shards there are, e.g. %s=4)", SHARD_ENV,
		    SHARD_ENV);
		return -1;
	}
	if (number(env_n, 1, SHARD_MAX, &count) == -1) {
		snprintf(err, errlen, "--shard auto: %s='%.40s' is not a "
		    "number from 1 to %d", SHARD_ENV, env_n, SHARD_MAX);
		return -1;
	}
	/* The first label: a host may know itself by its full name
	 * (dnssecmon-3.dnssecmon.monitoring.svc.cluster.local). Longer
	 * than a DNS label, it is not cut into a false ordinal. */
	if (hostname != NULL)
		snprintf(label, sizeof(label), "%.*s",
		    (int)strcspn(hostname, "."), hostname);
	if (hostname == NULL || strcspn(hostname, ".") >= sizeof(label) ||
	    (dash = strrchr(label, '-')) == NULL ||
	    dash == label || !instance_alnum(dash[-1]) ||
	    number(dash + 1, 0, SHARD_MAX - 1,
	    &ord) == -1) {
		snprintf(err, errlen, "--shard auto: host name '%.64s' does not "
		    "end in -ORDINAL (a StatefulSet pod is named like "
		    "dnssecmon-3); use --shard K/N", hostname ? hostname : "");
		return -1;
	}
	/* "dnssecmon-03" is not a name a StatefulSet gives. */
	if (dash[1] == '0' && dash[2] != '\0') {
		snprintf(err, errlen, "--shard auto: host name '%.64s': the "
		    "ordinal has a leading zero", hostname);
		return -1;
	}
	if (ord >= count) {
		snprintf(err, errlen, "--shard auto: host name '%.64s' is "
		    "ordinal %ld, but %s=%ld allows ordinals 0 to %ld (more "
		    "replicas than shards?)", hostname, ord, SHARD_ENV, count,
		    count - 1);
		return -1;
	}
	*k = (unsigned)ord + 1;
	*n = (unsigned)count;
	return 0;
}

int
shard_parse(const char *arg, const char *hostname, const char *env_n,
    unsigned *k, unsigned *n, char *err, size_t errlen)
{
	const char	*slash;
	char		 left[16];
	long		 a, b;

	if (strcmp(arg, "auto") == 0)
		return shard_auto(hostname, env_n, k, n, err, errlen);
	if ((slash = strchr(arg, '/')) == NULL ||
	    (size_t)(slash - arg) >= sizeof(left))
		goto bad;
	memcpy(left, arg, (size_t)(slash - arg));
	left[slash - arg] = '\0';
	if (number(slash + 1, 1, SHARD_MAX, &b) == -1 ||
	    number(left, 1, b, &a) == -1)
		goto bad;
	*k = (unsigned)a;
	*n = (unsigned)b;
	return 0;
bad:
	snprintf(err, errlen, "--shard '%.40s': expected K/N with 1 <= K <= N "
	    "<= %d, e.g. 2/4, or auto", arg, SHARD_MAX);
	return -1;
}

static bool
instance_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool
shard_instance_valid(const char *name)
{
	size_t	 i;

	for (i = 0; name[i] != '\0'; i++)
		if (!instance_char(name[i]))
			return false;
	return i > 0 && i < SHARD_INSTANCE_MAX;
}

const char *
shard_instance(const char *configured, const char *hostname, unsigned k,
    unsigned n, char *out, size_t len)
{
	char	 suffix[40] = "";
	size_t	 i, room;

	if (configured != NULL) {
		snprintf(out, len, "%s", configured);
		return out;
	}
	if (n > 0)
		snprintf(suffix, sizeof(suffix), "-shard-%u-of-%u", k, n);
	if (hostname == NULL || *hostname == '\0')
		hostname = "localhost";
	room = len < SHARD_INSTANCE_MAX ? len : SHARD_INSTANCE_MAX;
	room = room > strlen(suffix) ? room - strlen(suffix) : 1;
	for (i = 0; hostname[i] != '\0' && i + 1 < room; i++)
		out[i] = instance_char(hostname[i]) ? hostname[i] : '_';
	out[i] = '\0';
	snprintf(out + i, len - i, "%s", suffix);
	return out;
}
