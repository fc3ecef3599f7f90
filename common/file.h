/*
 * Reading the files a configuration names (trust anchor, root hints, CA
 * certificates, the configuration itself) without trusting what they are.
 *
 * A directory, a FIFO, /dev/zero or a file whose read() fails must be a
 * one-line error at start-up, never a read loop: getdns and libyaml retry
 * a failing or endless stream forever and freeze the event loop.
 */
#ifndef DNSSECMON_FILE_H
#define DNSSECMON_FILE_H

#include <stddef.h>

/* Bounds for the small files a configuration names. */
#define FILE_MAX_SMALL	(1024 * 1024)		/* anchors, hints, PEM */
#define FILE_MAX_CONFIG	(64 * 1024 * 1024)	/* dnssecmon.conf */

/*
 * The whole of path, which must be a regular file of at most max bytes
 * that reads without error. Returns a NUL-terminated buffer the caller
 * frees (its length in *len, when len is not NULL), or NULL with
 * "PATH: reason" in err. Never blocks on a FIFO.
 */
char	*file_read(const char *path, size_t max, size_t *len, char *err,
	    size_t errlen);

/* file_read() without keeping the contents: 0, or -1 with the reason. */
int	 file_check(const char *path, size_t max, char *err, size_t errlen);

#endif
