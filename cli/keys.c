/*
 * dnssecmon keys: the timeline of every DNSKEY and every DS the store has
 * seen for one domain, with first and last sight. Reads only: never
 * creates or migrates a database.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/dsmatch.h"
#include "common/log.h"
#include "store/store.h"

#define SYNOPSIS	"DOMAIN --db FILE [--format text|json]"

/* What a DS is, in the light of history. */
static const char *
ds_verdict(const struct store_ds_seen *d, const struct store_key_seen *k,
    bool at_parent)
{
	if (d->key >= 0)
		return k[d->key].last_seen == d->last_seen || !at_parent ?
		    "key seen" : "its key is gone: stale";
	if (!dsmatch_digest_supported(d->digest_type))
		return "digest type not checked";
	return d->arrived ? "key never seen: pre-published" :
	    "key never seen, DS older than our first check";
}

static void
print_text(const struct store_domain *dom, const struct store_key_seen *k,
    size_t nk, const struct store_ds_seen *d, size_t nd)
{
	char		 a[32], b[32], c[32], e[32];
	size_t		 i;

	printf("%s: %zu DNSKEY and %zu DS seen, last check %s\n", dom->name,
	    nk, nd, cli_time_text(dom->last_checked, a, sizeof(a)));
	printf("  %-6s %5s %3s %-4s %-20s  %-20s  %-20s  %-20s  %s\n",
	    "RECORD", "TAG", "ALG", "ROLE", "FIRST SEEN", "LAST SEEN",
	    "SIGNING FROM", "DS FROM", "NOW");
	for (i = 0; i < nk; i++)
		printf("  %-6s %5u %3u %-4s %-20s  %-20s  %-20s  %-20s  %s\n",
		    "DNSKEY", k[i].key_tag, k[i].algorithm,
		    (k[i].flags & 1) ? "KSK" : "ZSK",
		    cli_time_text(k[i].first_seen, a, sizeof(a)),
		    cli_time_text(k[i].last_seen, b, sizeof(b)),
		    cli_time_text(k[i].signing_first_seen, c, sizeof(c)),
		    cli_time_text(k[i].ds_first_seen, e, sizeof(e)),
		    k[i].last_seen == dom->last_checked ? "published" : "gone");
	for (i = 0; i < nd; i++) {
		bool at = d[i].last_seen == dom->last_checked;

		printf("  %-6s %5u %3u d%-3u %-20s  %-20s  %-20s  %-20s  %s "
		    "(%s)\n", "DS", d[i].key_tag, d[i].algorithm,
		    d[i].digest_type, cli_time_text(d[i].first_seen, a, sizeof(a)),
		    cli_time_text(d[i].last_seen, b, sizeof(b)), "", "",
		    at ? "at the parent" : "gone", ds_verdict(&d[i], k, at));
	}
}

/* The store's timeline (store_keys_json, the API's shape) with the
 * domain's own dates beside it. */
static json_t *
doc_json(const struct store_domain *dom, const struct store_key_seen *k,
    size_t nk, const struct store_ds_seen *d, size_t nd)
{
	json_t	*doc;

	if ((doc = store_keys_json(dom->name, dom->last_checked, k, nk, d,
	    nd)) == NULL)
		return NULL;
	json_object_set_new(doc, "domain", json_string(dom->name));
	json_object_set_new(doc, "first_seen", clock_json(dom->first_seen));
	json_object_set_new(doc, "last_checked", clock_json(dom->last_checked));
	return doc;
}

int
cmd_keys(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db",		required_argument, NULL, 'D' },
		{ "format",	required_argument, NULL, 'f' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_domain	 dom;
	struct store_key_seen	*k = NULL;
	struct store_ds_seen	*d = NULL;
	struct store		*st = NULL;
	const char		*db = NULL;
	char			 domain[PROBE_NAME_MAX], why[160];
	char			*s;
	size_t			 nk = 0, nd = 0;
	bool			 json = false;
	int			 ch, rc = EXIT_UNKNOWN;

	log_procname("dnssecmon keys");
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			db = optarg;
			break;
		case 'f':
			if (cli_format_json(optarg, &json) == -1)
				return EXIT_UNKNOWN;
			break;
		case 'h':
			printf("usage: dnssecmon keys " SYNOPSIS "\n");
			return EXIT_OK;
		case ':':
		default:
			return cli_option_error("keys", ch, argv);
		}
	}
	if (argc - optind != 1) {
		log_warnx("%s (see 'dnssecmon keys --help')",
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
	if ((st = cli_open_db("keys", db)) == NULL)
		return EXIT_UNKNOWN;
	switch (store_domain(st, domain, &dom)) {
	case -1:
		log_warnx("%s", store_error(st));
		goto out;
	case 0:
		log_warnx("%s: never recorded in %s", domain, db);
		goto out;
	}
	if (store_keys(st, domain, &k, &nk, &d, &nd) == -1) {
		log_warnx("%s", store_error(st));
		goto out;
	}
	if (json) {
		json_t *doc = doc_json(&dom, k, nk, d, nd);

		s = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		json_decref(doc);
		if (s == NULL) {
			log_warnx("out of memory");
			goto out;
		}
		printf("%s\n", s);
		free(s);
	} else
		print_text(&dom, k, nk, d, nd);
	rc = EXIT_OK;
out:
	free(k);
	free(d);
	store_close(st);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		log_warn("stdout");
		rc = EXIT_UNKNOWN;
	}
	return rc;
}
