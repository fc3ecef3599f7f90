/*
 * The caller-supplied error buffer of the functions that report why they
 * failed in (char *err, size_t errlen): one way to fill it.
 */
#ifndef DNSSECMON_COMMON_ERRBUF_H
#define DNSSECMON_COMMON_ERRBUF_H

#include <stddef.h>

/*
 * printf into err, truncated to errlen. err NULL or errlen 0: the caller
 * does not want the reason, and nothing is written.
 */
void	errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
