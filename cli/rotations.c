/*
 * dnssecmon rotations: the key rotations the store recorded, newest first,
 * with their deadlines. Reads only: never creates or migrates a database.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/store.h"

static void
print_text(const struct store_rotation *a, size_t n)
{
	char		 s[32], d[32], u[32], c[32], left[32], old[96];
	size_t		 i, w = 6;
	unsigned	 k;
	time_t		 now = clock_now();

	for (i = 0; i < n; i++)
		if (strlen(a[i].domain) > w)
			w = strlen(a[i].domain);
	printf("%-*s  %-4s %-5s %-20s  %-20s  %-20s  %-20s  %s\n", (int)w,
	    "DOMAIN", "KIND", "KEY", "START", "REGISTRAR DEADLINE",
	    "DS UPDATED", "COMPLETED", "OUTCOME");
	for (i = 0; i < n; i++) {
		const struct store_rotation *r = &a[i];

		printf("%-*s  %-4s %-5u %-20s  %-20s  %-20s  %-20s  ", (int)w,
		    r->domain, store_rotation_kind_name(r->kind),
		    r->new_key_tag, cli_time_text(r->start, s, sizeof(s)),
		    cli_time_text(r->registrar_deadline, d, sizeof(d)),
		    cli_time_text(r->ds_updated_at, u, sizeof(u)),
		    cli_time_text(r->completed_at, c, sizeof(c)));
		old[0] = '\0';
		for (k = 0; k < r->n_old; k++)
			snprintf(old + strlen(old), sizeof(old) - strlen(old),
			    "%s%u", k ? "," : "", r->old_key_tags[k]);
		if (r->outcome[0])
			printf("%s", r->outcome);
		else if (r->kind == STORE_ROT_KSK && r->ds_updated_at == 0)
			printf("open, %s to the registrar deadline",
			    clock_duration((long long)r->registrar_deadline -
			    now, left, sizeof(left)));
		else if (store_rotation_safe_removal(r) != 0)
			printf("open, the old key may go from %s",
			    cli_time_text(store_rotation_safe_removal(r), c,
			    sizeof(c)));
		else
			printf("open");
		if (old[0])
			printf(" (from %s)", old);
		printf("\n");
	}
}

int
cmd_rotations(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db",		required_argument, NULL, 'D' },
		{ "open",	no_argument,	   NULL, 'o' },
		{ "format",	required_argument, NULL, 'f' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_rotation	*a = NULL;
	struct store		*st = NULL;
	const char		*db = NULL;
	char			 *s;
	bool			 json = false, open_only = false;
	size_t			 n = 0, i;
	int			 ch, rc = EXIT_UNKNOWN;

	log_procname("dnssecmon rotations");
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			db = optarg;
			break;
		case 'o':
			open_only = true;
			break;
		case 'f':
			if (cli_format_json(optarg, &json) == -1)
				return EXIT_UNKNOWN;
			break;
		case 'h':
			printf("usage: dnssecmon rotations --db FILE [--open] "
			    "[--format text|json]\n");
			return EXIT_OK;
		case ':':
		default:
			return cli_option_error("rotations", ch, argv);
		}
	}
	if (optind < argc) {
		log_warnx("unexpected argument '%s' (see 'dnssecmon "
		    "rotations --help')", argv[optind]);
		return EXIT_UNKNOWN;
	}
	if ((st = cli_open_db("rotations", db)) == NULL)
		return EXIT_UNKNOWN;
	if (store_rotations(st, open_only, &a, &n) == -1) {
		log_warnx("%s", store_error(st));
		goto out;
	}
	if (json) {
		json_t *doc = json_object(), *arr = json_array();

		for (i = 0; i < n; i++)
			json_array_append_new(arr, store_rotation_json(&a[i],
			    clock_now()));
		json_object_set_new(doc, "rotations", arr);
		s = json_dumps(doc, JSON_INDENT(2));
		json_decref(doc);
		if (s == NULL) {
			log_warnx("out of memory");
			goto out;
		}
		printf("%s\n", s);
		free(s);
	} else if (n == 0)
		printf("no %srotations recorded in %s\n", open_only ?
		    "open " : "", db);
	else
		print_text(a, n);
	rc = EXIT_OK;
out:
	free(a);
	store_close(st);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		log_warn("stdout");
		rc = EXIT_UNKNOWN;
	}
	return rc;
}
