/*
 * dnssecmon history: what the store recorded for one domain, check by
 * check, oldest first. Streams: a year of checks is never held in memory.
 * Reads only: never creates or migrates a database.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/dsmatch.h"
#include "common/log.h"
#include "store/store.h"

#define SYNOPSIS	"DOMAIN --db FILE [--since TIME] [--format text|json]"

struct walk {
	bool	 json;
	bool	 first;
	size_t	 n;
};

/*
 * TIME: RFC 3339 UTC, unix seconds, or an age ("30m", "12h", "7d", "2w")
 * counted back from now (DNSSECMON_NOW included).
 */
static int
parse_since(const char *s, time_t *out)
{
	long long	 v, unit;
	char		*end;

	if (clock_parse(s, out) == 0)
		return 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 's':	unit = 1; break;
	case 'm':	unit = 60; break;
	case 'h':	unit = 3600; break;
	case 'd':	unit = 86400; break;
	case 'w':	unit = 7 * 86400; break;
	default:	return -1;
	}
	if (v > LLONG_MAX / unit / 2)
		return -1;
	*out = clock_now() - (time_t)(v * unit);
	if (*out < 0)
		*out = 0;
	return 0;
}

/* The codes of a stored problem list, as a JSON array / a text list. */
static json_t *
problem_codes(const char *problems)
{
	json_t		*a, *codes = json_array(), *p;
	size_t		 i;

	if ((a = json_loads(problems ? problems : "[]", 0, NULL)) == NULL)
		return codes;
	json_array_foreach(a, i, p)
		json_array_append(codes, json_object_get(p, "code"));
	json_decref(a);
	return codes;
}

/* A JSON array as the store wrote it; [] if it cannot be read. */
static json_t *
stored_json(const char *text)
{
	json_t	*j = text != NULL ? json_loads(text, 0, NULL) : NULL;

	return j != NULL ? j : json_array();
}

static int
print_one(void *arg, const struct store_observation *o)
{
	struct walk	*w = arg;
	json_t		*obj, *codes = problem_codes(o->problems), *c;
	char		 when[32], *s;
	size_t		 i;

	w->n++;
	clock_rfc3339(o->time, when, sizeof(when));
	if (!w->json) {
		printf("%s %c %-8s %-16s %-13s", when, o->state_change ? '*' :
		    ' ', o->severity, o->state, o->validation);
		json_array_foreach(codes, i, c)
			printf("%s%s", i ? ", " : "  ", json_string_value(c));
		printf("\n");
		json_decref(codes);
		return 0;
	}
	json_decref(codes);
	/* The API's shape, with what each resolver and server said. */
	if ((obj = store_observation_json(o)) == NULL)
		return -1;
	json_object_set_new(obj, "resolvers", stored_json(o->resolvers));
	json_object_set_new(obj, "servers", stored_json(o->servers));
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (s == NULL)
		return -1;
	printf("%s\n    %s", w->first ? "" : ",", s);
	w->first = false;
	free(s);
	return 0;
}

int
cmd_history(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db",		required_argument, NULL, 'D' },
		{ "since",	required_argument, NULL, 's' },
		{ "format",	required_argument, NULL, 'f' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_domain	 dom;
	struct store		*st = NULL;
	struct walk		 w = { false, true, 0 };
	const char		*db = NULL;
	char			 domain[PROBE_NAME_MAX], why[160];
	char			 *q;
	time_t			 since = 0;
	int			 ch, rc = EXIT_UNKNOWN;

	log_procname("dnssecmon history");
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			db = optarg;
			break;
		case 's':
			if (parse_since(optarg, &since) == -1) {
				log_warnx("--since '%s': expected RFC 3339 UTC "
				    "(2026-11-27T10:00:00Z), unix seconds, or "
				    "an age such as 30m, 12h, 7d or 2w",
				    optarg);
				return EXIT_UNKNOWN;
			}
			break;
		case 'f':
			if (cli_format_json(optarg, &w.json) == -1)
				return EXIT_UNKNOWN;
			break;
		case 'h':
			printf("usage: dnssecmon history " SYNOPSIS "\n"
			    "TIME is RFC 3339 UTC (2026-11-27T10:00:00Z), unix "
			    "seconds, or an age\nsuch as 30m, 12h, 7d or 2w "
			    "before now.\n");
			return EXIT_OK;
		case ':':
		default:
			return cli_option_error("history", ch, argv);
		}
	}
	if (argc - optind != 1) {
		log_warnx("%s (see 'dnssecmon history --help')",
		    argc - optind == 0 ? "no domain given" :
		    "one domain at a time");
		return EXIT_UNKNOWN;
	}
	if (dsmatch_name_normalise(argv[optind], domain, sizeof(domain), why,
	    sizeof(why)) == -1) {
		log_warnx("'%s' is not a valid domain name: %s", argv[optind],
		    why);
		return EXIT_UNKNOWN;
	}
	if ((st = cli_open_db("history", db)) == NULL)
		return EXIT_UNKNOWN;
	switch (store_domain(st, domain, &dom)) {
	case -1:
		log_warnx("%s", store_error(st));
		goto out;
	case 0:
		log_warnx("%s: never recorded in %s", domain, db);
		goto out;
	}
	if (w.json) {
		json_t *name = json_string(domain);

		/* Streamed by hand around jansson's objects: the head,
		 * one observation per line, the tail. */
		q = json_dumps(name, JSON_ENCODE_ANY);
		json_decref(name);
		if (q == NULL) {
			log_warnx("out of memory");
			goto out;
		}
		printf("{\"domain\": %s, \"observations\": [", q);
		free(q);
	}
	if (store_history(st, domain, since, print_one, &w) == -1) {
		if (w.json)
			printf("\n");
		log_warnx("%s", store_error(st));
		goto out;
	}
	if (w.json)
		printf("%s]}\n", w.n ? "\n  " : "");
	else if (w.n == 0)
		printf("no observations of %s%s\n", domain, since ?
		    " in that time" : "");
	rc = EXIT_OK;
out:
	store_close(st);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		log_warn("stdout");
		rc = EXIT_UNKNOWN;
	}
	return rc;
}
