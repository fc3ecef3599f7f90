/*
 * Logging in the OpenBSD shape: stderr in the foreground, syslog as a
 * daemon, or one JSON object per line for log shippers.
 */
#ifndef DNSSECMON_LOG_H
#define DNSSECMON_LOG_H

#include <stdarg.h>

enum log_dest {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
	LOG_TO_JSON		/* JSON lines on stderr */
};

/* Set destination and verbosity (0 = warnings and info, 1+ = debug). */
void	log_init(enum log_dest dest, int verbose, const char *ident);
/* Prefix for every line on stderr, e.g. "dnssecmon check"; NULL for none. */
void	log_procname(const char *name);
int	log_getverbose(void);
/* This daemon's instance name, a field of every JSON line (log shippers
 * gather many daemons' lines); NULL for none. Not copied: keep it. */
void	log_instance(const char *name);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Start-up errors and broken invariants only: logs and exits with status 3. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
