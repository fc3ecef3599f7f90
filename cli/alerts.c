/*
 * dnssecmon alerts: the open alerts and those resolved in the last
 * --since (7 days by default), each transition with where it stands for
 * every sink: delivered, pending (attempts, last error), failed (given
 * up) or skipped. Reads only: never creates or migrates a database.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/store.h"

/* One transition's deliveries, as JSON objects grouped by outbox id. */
struct collect {
	json_t		*transitions;	/* JSON mode */
	int64_t		 last_id;
	json_t		*cur;
};

static int
collect_json(void *arg, const struct store_alert_delivery *d)
{
	struct collect	*c = arg;
	json_t		*o;

	if (c->cur == NULL || d->outbox_id != c->last_id) {
		c->cur = json_object();
		json_object_set_new(c->cur, "id", json_integer(d->outbox_id));
		json_object_set_new(c->cur, "transition",
		    json_string(d->transition));
		json_object_set_new(c->cur, "time", clock_json(d->created));
		json_object_set_new(c->cur, "deliveries", json_array());
		json_array_append_new(c->transitions, c->cur);
		c->last_id = d->outbox_id;
	}
	o = json_object();
	json_object_set_new(o, "sink", json_string(d->sink));
	json_object_set_new(o, "status", json_string(d->status));
	json_object_set_new(o, "at", clock_json(d->at));
	json_object_set_new(o, "attempts", json_integer(d->attempts));
	json_object_set_new(o, "last_error", d->last_error ?
	    json_string(d->last_error) : json_null());
	json_object_set_new(o, "output", d->output ? json_string(d->output) :
	    json_null());
	json_array_append_new(json_object_get(c->cur, "deliveries"), o);
	return 0;
}

static int
print_delivery(void *arg, const struct store_alert_delivery *d)
{
	int64_t		*last = arg;
	char		 t[32];

	if (d->outbox_id != *last) {
		printf("    #%-5lld %-9s %s\n", (long long)d->outbox_id,
		    d->transition, cli_time_text(d->created, t, sizeof(t)));
		*last = d->outbox_id;
	}
	printf("           %-28s %-9s", d->sink, d->status);
	if (d->at != 0)
		printf(" %s", cli_time_text(d->at, t, sizeof(t)));
	if (d->attempts > 1 || (d->attempts > 0 && d->at == 0))
		printf(" (%d attempt%s)", d->attempts, d->attempts == 1 ? "" :
		    "s");
	if (d->last_error != NULL && *d->last_error)
		printf(": %s", d->last_error);
	printf("\n");
	return 0;
}

int
cmd_alerts(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db",		required_argument, NULL, 'D' },
		{ "since",	required_argument, NULL, 's' },
		{ "format",	required_argument, NULL, 'f' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_alert	*a = NULL;
	struct store		*st = NULL;
	const char		*db = NULL;
	char			 t1[32], t2[32], *s;
	bool			 json = false;
	size_t			 n = 0, i;
	int			 ch, rc = EXIT_UNKNOWN;
	long			 since_s = 7 * 86400L;
	time_t			 since;

	log_procname("dnssecmon alerts");
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			db = optarg;
			break;
		case 's':
			if ((since_s = config_parse_duration(optarg)) < 0) {
				log_warnx("--since '%s': expected a duration, "
				    "e.g. 7d or 12h", optarg);
				return EXIT_UNKNOWN;
			}
			break;
		case 'f':
			if (cli_format_json(optarg, &json) == -1)
				return EXIT_UNKNOWN;
			break;
		case 'h':
			printf("usage: dnssecmon alerts --db FILE [--since "
			    "DURATION] [--format text|json]\n");
			return EXIT_OK;
		case ':':
		default:
			return cli_option_error("alerts", ch, argv);
		}
	}
	if (optind < argc) {
		log_warnx("unexpected argument '%s' (see 'dnssecmon alerts "
		    "--help')", argv[optind]);
		return EXIT_UNKNOWN;
	}
	if ((st = cli_open_db("alerts", db)) == NULL)
		return EXIT_UNKNOWN;
	since = clock_now() - since_s;
	if (store_alerts(st, since, &a, &n) == -1) {
		log_warnx("%s", store_error(st));
		goto out;
	}
	if (json) {
		json_t *doc = json_object(), *arr = json_array(), *o;
		struct collect c;

		for (i = 0; i < n; i++) {
			o = json_object();
			json_object_set_new(o, "id", json_integer(a[i].id));
			json_object_set_new(o, "domain",
			    json_string(a[i].domain));
			json_object_set_new(o, "code", json_string(a[i].code));
			json_object_set_new(o, "state",
			    json_string(a[i].state));
			json_object_set_new(o, "severity",
			    json_string(a[i].severity));
			json_object_set_new(o, "first_fired",
			    clock_json(a[i].first_fired));
			json_object_set_new(o, "last_notified",
			    clock_json(a[i].last_notified));
			json_object_set_new(o, "last_seen",
			    clock_json(a[i].last_seen));
			json_object_set_new(o, "resolved_at",
			    clock_json(a[i].resolved_at));
			json_object_set_new(o, "message",
			    json_string(a[i].message));
			memset(&c, 0, sizeof(c));
			c.transitions = json_array();
			if (store_alert_deliveries(st, a[i].id, collect_json,
			    &c) == -1) {
				log_warnx("%s", store_error(st));
				json_decref(c.transitions);
				json_decref(o);
				json_decref(arr);
				json_decref(doc);
				goto out;
			}
			json_object_set_new(o, "transitions", c.transitions);
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "alerts", arr);
		s = json_dumps(doc, JSON_INDENT(2));
		json_decref(doc);
		if (s == NULL) {
			log_warnx("out of memory");
			goto out;
		}
		printf("%s\n", s);
		free(s);
	} else if (n == 0)
		printf("no open or recent alerts in %s\n", db);
	else
		for (i = 0; i < n; i++) {
			int64_t last = 0;

			printf("%s %s: %s, %s, fired %s%s%s\n", a[i].domain,
			    a[i].code, a[i].state, a[i].severity,
			    cli_time_text(a[i].first_fired, t1, sizeof(t1)),
			    a[i].resolved_at ? ", resolved " : "",
			    a[i].resolved_at ? cli_time_text(a[i].resolved_at, t2,
			    sizeof(t2)) : "");
			printf("  %s\n", a[i].message);
			if (store_alert_deliveries(st, a[i].id, print_delivery,
			    &last) == -1) {
				log_warnx("%s", store_error(st));
				goto out;
			}
		}
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
