#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/log.h"

int
clock_parse(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*end;
	char		*ep;
	long long	 v;

	if (s == NULL || *s == '\0')
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		v = strtoll(s, &ep, 10);
		if (errno != 0 || *ep != '\0' || v < 0)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL)
		return -1;
	/* Fractions of a second carry no meaning here. */
	if (*end == '.') {
		end++;
		if (strspn(end, "0123456789") == 0)
			return -1;
		end += strspn(end, "0123456789");
	}
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	*out = timegm(&tm);
	return 0;
}

time_t
clock_now(void)
{
	static int	 warned;
	const char	*s;
	time_t		 t;

	if ((s = getenv("DNSSECMON_NOW")) != NULL && *s != '\0') {
		if (clock_parse(s, &t) == 0)
			return t;
		if (!warned++)
			log_warnx("DNSSECMON_NOW=%s is neither RFC 3339 UTC "
			    "nor unix seconds; using the real clock", s);
	}
	return time(NULL);
}

const char *
clock_rfc3339(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

json_t *
clock_json(time_t t)
{
	char	 buf[32];

	return t == 0 ? json_null() : json_string(clock_rfc3339(t, buf,
	    sizeof(buf)));
}

const char *
clock_duration(long long s, char *buf, size_t len)
{
	const char	*sign = "";

	if (s < 0) {
		sign = "-";
		s = -s;
	}
	if (s >= 86400)
		snprintf(buf, len, "%s%lldd %lldh", sign, s / 86400,
		    (s % 86400) / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%s%lldh %lldm", sign, s / 3600,
		    (s % 3600) / 60);
	else if (s >= 60)
		snprintf(buf, len, "%s%lldm %llds", sign, s / 60, s % 60);
	else
		snprintf(buf, len, "%s%llds", sign, s);
	return buf;
}
