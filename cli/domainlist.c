/*
 * Domain names from a file: what a NOC already has (a registrar export, a
 * zone list from the DNS host) instead of a command line that outgrows
 * ARG_MAX.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/domainlist.h"
#include "common/dsmatch.h"
#include "common/file.h"

#define DOMAINLIST_MAX	1000000

static int
add_at(struct domainlist *dl, const char *name, unsigned line)
{
	char		**v;
	unsigned	 *l;
	size_t		  cap;

	if (dl->n >= DOMAINLIST_MAX)
		return -1;
	if (dl->n == dl->cap) {
		cap = dl->cap ? dl->cap * 2 : 64;
		if ((v = reallocarray(dl->names, cap, sizeof(*v))) == NULL)
			return -1;
		dl->names = v;
		if ((l = reallocarray(dl->lines, cap, sizeof(*l))) == NULL)
			return -1;
		dl->lines = l;
		dl->cap = cap;
	}
	if ((dl->names[dl->n] = strdup(name)) == NULL)
		return -1;
	dl->lines[dl->n] = line;
	dl->n++;
	return 0;
}

int
domainlist_add(struct domainlist *dl, const char *name)
{
	return add_at(dl, name, 0);
}

void
domainlist_finish(struct domainlist *dl)
{
	size_t	 i;

	for (i = 0; i < dl->n; i++)
		free(dl->names[i]);
	free(dl->names);
	free(dl->lines);
	memset(dl, 0, sizeof(*dl));
}

/* Standard input to EOF, bounded like a configuration file. */
static char *
read_stdin(char *err, size_t errlen)
{
	char	*buf = NULL, *tmp;
	size_t	 have = 0, cap = 0;
	ssize_t	 r;

	for (;;) {
		if (have + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > FILE_MAX_CONFIG + 1) {
				snprintf(err, errlen, "standard input: more "
				    "than %d bytes", FILE_MAX_CONFIG);
				goto fail;
			}
			if ((tmp = realloc(buf, cap)) == NULL) {
				snprintf(err, errlen, "standard input: out of "
				    "memory");
				goto fail;
			}
			buf = tmp;
		}
		r = read(STDIN_FILENO, buf + have, cap - have - 1);
		if (r == 0)
			break;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "standard input: %s",
			    strerror(errno));
			goto fail;
		}
		have += (size_t)r;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		snprintf(err, errlen, "standard input: out of memory");
		return NULL;
	}
	buf[have] = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

int
domainlist_read(struct domainlist *dl, const char *path, char *err,
    size_t errlen)
{
	const char	*shown = strcmp(path, "-") == 0 ? "standard input" :
			    path;
	char		*text, *line, *next, *tok, *save, why[160];
	uint8_t		 wire[DSMATCH_NAME_MAX];
	size_t		 wlen, lineno = 0, len;
	int		 rc = -1;

	text = strcmp(path, "-") == 0 ? read_stdin(err, errlen) :
	    file_read(path, FILE_MAX_CONFIG, &len, err, errlen);
	if (text == NULL)
		return -1;
	if (strlen(text) != (strcmp(path, "-") == 0 ? strlen(text) : len)) {
		snprintf(err, errlen, "%s: holds a NUL byte: not a list of "
		    "names", shown);
		goto out;
	}
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "#")] = '\0';
		for (tok = line + strspn(line, " \t\r"); *tok != '\0';
		    tok = save + strspn(save, " \t\r")) {
			save = tok + strcspn(tok, " \t\r");
			if (*save != '\0')
				*save++ = '\0';
			if (dsmatch_name_to_wire(tok, wire, sizeof(wire),
			    &wlen, why, sizeof(why)) == -1) {
				snprintf(err, errlen, "%s:%zu: '%s' is not a "
				    "valid domain name: %s", shown, lineno,
				    tok, why);
				goto out;
			}
			if (add_at(dl, tok, lineno > UINT_MAX ? UINT_MAX :
			    (unsigned)lineno) == -1) {
				snprintf(err, errlen, "%s:%zu: %s", shown,
				    lineno, dl->n >= DOMAINLIST_MAX ?
				    "more than 1000000 names" :
				    "out of memory");
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(text);
	return rc;
}
