#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"

static enum log_dest	 dest = LOG_TO_STDERR;
static int		 verbose;
static const char	*procname = "dnssecmon";
static const char	*instance;

void
log_init(enum log_dest d, int v, const char *ident)
{
	dest = d;
	verbose = v;
	if (dest == LOG_TO_SYSLOG)
		openlog(ident ? ident : "dnssecmon", LOG_PID | LOG_NDELAY,
		    LOG_DAEMON);
}

void
log_procname(const char *name)
{
	procname = name;
}

void
log_instance(const char *name)
{
	instance = name;
}

int
log_getverbose(void)
{
	return verbose;
}

static void
vlog(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char	 msg[2048];
	int	 n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errstr != NULL && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", errstr);

	switch (dest) {
	case LOG_TO_SYSLOG:
		syslog(pri, "%s", msg);
		break;
	case LOG_TO_JSON: {
		static const char *names[] = { "emerg", "alert", "crit", "error",
		    "warning", "notice", "info", "debug" };
		char		 ts[32];
		struct timespec	 now;
		struct tm	 tm;
		json_t		*o;
		char		*s;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		o = json_pack("{s:s, s:s, s:s}", "time", ts, "level",
		    names[pri & 7], "msg", msg);
		if (o != NULL && instance != NULL)
			json_object_set_new(o, "instance", json_string(instance));
		if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
			fprintf(stderr, "%s\n", s);
			free(s);
		}
		json_decref(o);
		break;
	}
	default:
		if (procname != NULL)
			fprintf(stderr, "%s: %s\n", procname, msg);
		else
			fprintf(stderr, "%s\n", msg);
		break;
	}
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, strerror(saved), fmt, ap);
	va_end(ap);
	exit(3);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(3);
}
