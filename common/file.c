#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"

static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a plain file";
}

char *
file_read(const char *path, size_t max, size_t *len, char *err,
    size_t errlen)
{
	struct stat	 sb;
	char		*buf = NULL, *tmp;
	size_t		 have = 0, size;
	ssize_t		 r;
	int		 fd;

	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: is %s, expected a regular file",
		    path, file_kind(sb.st_mode));
		goto fail;
	}
	if ((size_t)sb.st_size > max)
		goto toolarge;
	/* st_size is a hint only (/proc files say 0): read to EOF, into a
	 * buffer of at most max + 1 bytes so that one byte too many shows. */
	size = (size_t)sb.st_size < max ? (size_t)sb.st_size + 1 : max + 1;
	if (size < 4096)
		size = max < 4096 ? max + 1 : 4096;
	if ((buf = malloc(size + 1)) == NULL)
		goto nomem;
	for (;;) {
		if (have == size) {
			size = size > max / 2 ? max + 1 : size * 2;
			if ((tmp = realloc(buf, size + 1)) == NULL)
				goto nomem;
			buf = tmp;
		}
		r = read(fd, buf + have, size - have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if (have > max)
			goto toolarge;
	}
	close(fd);
	buf[have] = '\0';
	if (len != NULL)
		*len = have;
	return buf;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
	goto fail;
toolarge:
	snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
fail:
	free(buf);
	close(fd);
	return NULL;
}

int
file_check(const char *path, size_t max, char *err, size_t errlen)
{
	char	*buf;

	if ((buf = file_read(path, max, NULL, err, errlen)) == NULL)
		return -1;
	free(buf);
	return 0;
}
