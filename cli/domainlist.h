/*
 * Domain names from a file or standard input (`check -f FILE`): one or
 * more names per line, separated by white space, '#' to the end of the
 * line a comment. The same reader serves `check -f` and the
 * configuration's domains_file: (cli/config.c).
 */
#ifndef DNSSECMON_CLI_DOMAINLIST_H
#define DNSSECMON_CLI_DOMAINLIST_H

#include <stddef.h>

struct domainlist {
	char		**names;	/* each owned by the list */
	unsigned	 *lines;	/* of each name in its file; 0: not
					   from a file */
	size_t		  n, cap;
};

/*
 * Append the names of path ("-": standard input) to dl. Every name is
 * checked; the first that is not a domain name is an error naming
 * "PATH:LINE". Returns 0, or -1 with the reason in err (dl keeps what was
 * read before). At most 1,000,000 names over all files.
 */
int	domainlist_read(struct domainlist *dl, const char *path, char *err,
	    size_t errlen);
/* Append one name (copied); -1 when out of memory or past the limit. */
int	domainlist_add(struct domainlist *dl, const char *name);
/* Frees the names and the array; the struct itself is the caller's. */
void	domainlist_finish(struct domainlist *dl);

#endif
