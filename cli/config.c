/*
 * YAML configuration, read with libyaml's document API so that every node
 * keeps its line number for error messages.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "cli/config.h"
#include "cli/config_int.h"
#include "cli/nameset.h"
#include "cli/shard.h"
#include "common/addr.h"
#include "common/dsmatch.h"
#include "common/file.h"
#include "probe/roots.h"

static void
verr_line(struct parse *p, const char *file, size_t line, const char *key,
    const char *fmt, va_list ap)
{
	char		 what[256];

	if (p->errs->n >= CONFIG_MAX_ERRORS) {
		p->errs->dropped++;
		return;
	}
	vsnprintf(what, sizeof(what), fmt, ap);
	if (key != NULL)
		snprintf(p->errs->msg[p->errs->n++], sizeof(p->errs->msg[0]),
		    "%s:%zu: %s: %s", file, line, key, what);
	else
		snprintf(p->errs->msg[p->errs->n++], sizeof(p->errs->msg[0]),
		    "%s:%zu: %s", file, line, what);
}

void
err_line(struct parse *p, const char *file, size_t line, const char *key,
    const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	verr_line(p, file, line, key, fmt, ap);
	va_end(ap);
}

void
err_at(struct parse *p, const yaml_node_t *n, const char *key,
    const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	verr_line(p, p->file, n ? n->start_mark.line + 1 : 0, key, fmt, ap);
	va_end(ap);
}

long
config_parse_duration(const char *s)
{
	char		*end;
	long long	 v, mult = 1;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else if (strcmp(end, "w") == 0)
		mult = 7 * 86400;
	else
		return -1;
	if (v > LONG_MAX / mult)
		return -1;
	return (long)(v * mult);
}

const char *
scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value :
	    NULL;
}

int
map_walk_start(struct parse *p, yaml_node_t *map, struct map_walk *w)
{
	w->pair = map->data.mapping.pairs.start;
	w->end = map->data.mapping.pairs.top;
	if ((w->seen = nameset_create()) == NULL) {
		err_at(p, map, NULL, "out of memory");
		return -1;
	}
	return 0;
}

bool
map_walk_next(struct parse *p, struct map_walk *w, const char **key,
    yaml_node_t **k, yaml_node_t **v)
{
	int	 added;

	for (; w->pair < w->end; w->pair++) {
		*k = yaml_document_get_node(p->doc, w->pair->key);
		*v = yaml_document_get_node(p->doc, w->pair->value);
		if ((*key = scalar(*k)) == NULL) {
			err_at(p, *k, NULL, "keys must be plain words");
			continue;
		}
		/* libyaml keeps both of a key given twice: which one would
		 * win is not for the reader to guess. */
		if ((added = nameset_add(w->seen, *key, 0, NULL)) != 1) {
			err_at(p, *k, *key, added == 0 ? "given twice" :
			    "out of memory");
			continue;
		}
		w->pair++;
		return true;
	}
	return false;
}

void
map_walk_end(struct map_walk *w)
{
	nameset_destroy(w->seen);
	w->seen = NULL;
}

/* A scalar value, or an error naming the key. */
const char *
want_scalar(struct parse *p, const yaml_node_t *n, const char *key)
{
	const char	*s = scalar(n);

	if (s == NULL || *s == '\0') {
		err_at(p, n, key, "expected a single value");
		return NULL;
	}
	return s;
}

char *
dup_scalar(struct parse *p, const yaml_node_t *n, const char *key)
{
	const char	*s = want_scalar(p, n, key);
	char		*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		err_at(p, n, key, "out of memory");
	return d;
}

void
set_str(struct parse *p, char **dst, const yaml_node_t *n, const char *key)
{
	char	*s = dup_scalar(p, n, key);

	if (s != NULL) {
		free(*dst);
		*dst = s;
	}
}

long
get_duration(struct parse *p, const yaml_node_t *n, const char *key,
    long min, long max)
{
	const char	*s = want_scalar(p, n, key);
	long		 v;

	if (s == NULL)
		return -1;
	if ((v = config_parse_duration(s)) < 0) {
		err_at(p, n, key, "'%s' is not a duration (a number of "
		    "seconds, or with s, m, h, d or w, e.g. 5m or 7d)", s);
		return -1;
	}
	if (v < min || v > max) {
		err_at(p, n, key, "'%s' is out of range (%lds to %lds)", s, min,
		    max);
		return -1;
	}
	return v;
}

long
get_int(struct parse *p, const yaml_node_t *n, const char *key, long min,
    long max)
{
	const char	*s = want_scalar(p, n, key);
	char		*end;
	long		 v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		err_at(p, n, key, "'%s' is not a whole number from %ld to %ld",
		    s, min, max);
		return -1;
	}
	return v;
}

int
get_bool(struct parse *p, const yaml_node_t *n, const char *key)
{
	const char	*s = want_scalar(p, n, key);

	if (s == NULL)
		return -1;
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on"))
		return 1;
	if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcasecmp(s, "off"))
		return 0;
	err_at(p, n, key, "'%s' is not yes or no", s);
	return -1;
}

int
config_domain_name(const char *s, char *out, char *why, size_t whylen)
{
	uint8_t		 wire[DSMATCH_NAME_MAX];
	char		 text[DSMATCH_NAME_STRLEN];
	size_t		 wlen, len, i;

	if (dsmatch_name_to_wire(s, wire, sizeof(wire), &wlen, why,
	    whylen) == -1)
		return -1;
	if (wlen == 1) {
		snprintf(why, whylen, "the root zone has no parent to hold "
		    "a DS");
		return -1;
	}
	if (dsmatch_wire_to_name(wire, wlen, text, sizeof(text)) == -1 ||
	    (len = strlen(text)) >= PROBE_NAME_MAX) {
		snprintf(why, whylen, "cannot be represented");
		return -1;
	}
	text[len - 1] = '\0';		/* the final dot */
	for (i = 0; text[i]; i++)
		out[i] = (text[i] >= 'A' && text[i] <= 'Z') ? text[i] + 32 :
		    text[i];
	out[i] = '\0';
	return 0;
}

/* The normalised name s, kept in the configuration's pool, in *out. */
static int
domain_name(struct parse *p, yaml_node_t *n, const char *s, const char **out)
{
	char		 name[PROBE_NAME_MAX], why[200];

	if (config_domain_name(s, name, why, sizeof(why)) == -1) {
		err_at(p, n, "domains", "'%s' is not a valid domain name: %s",
		    s, why);
		return -1;
	}
	if ((*out = strpool_add(&p->cfg->names, name)) == NULL) {
		err_at(p, n, "domains", "out of memory");
		return -1;
	}
	return 0;
}

struct config_domain *
config_domain_new(struct parse *p)
{
	struct config		*c = p->cfg;
	struct config_domain	*v, *d;
	size_t			 cap;

	if (c->n_domains == c->cap_domains) {
		cap = c->cap_domains ? c->cap_domains * 2 : 64;
		if ((v = reallocarray(c->domains, cap, sizeof(*v))) == NULL)
			return NULL;
		c->domains = v;
		c->cap_domains = cap;
	}
	d = &c->domains[c->n_domains];
	memset(d, 0, sizeof(*d));
	d->policy = c->policy;		/* globals, read first */
	d->src = p->src;
	return d;
}

/* "auto", "yes" or "no" for multi_signer:, -1 (and an error) else. */
static int
get_multi(struct parse *p, yaml_node_t *n, const char *key)
{
	const char	*s = want_scalar(p, n, key);

	if (s == NULL)
		return -1;
	if (strcmp(s, "auto") == 0)
		return PROBE_MULTI_AUTO;
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0)
		return PROBE_MULTI_ON;
	if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0)
		return PROBE_MULTI_OFF;
	err_at(p, n, key, "'%s': expected auto, yes or no", s);
	return -1;
}

static bool
window_inverted(const struct store_policy *pol)
{
	return pol->critical_before_s >= pol->rotation_window_s;
}

void
config_parse_domains(struct parse *p, yaml_node_t *seq)
{
	yaml_node_item_t	*it;
	yaml_node_t		*n, *k, *v;
	yaml_node_pair_t	*pair;
	struct config_domain	*d;
	const char		*key, *s;
	long			 val;

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(p, seq, "domains", "expected a list of domain names");
		return;
	}
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		n = yaml_document_get_node(p->doc, *it);
		if ((d = config_domain_new(p)) == NULL) {
			err_at(p, n, "domains", "out of memory");
			return;
		}
		d->line = (int)n->start_mark.line + 1;
		if ((s = scalar(n)) != NULL) {
			if (domain_name(p, n, s, &d->name) == -1)
				continue;
		} else if (n->type == YAML_MAPPING_NODE) {
			bool named = false;

			MAP_FOREACH(p->doc, n, pair) {
				k = yaml_document_get_node(p->doc, pair->key);
				v = yaml_document_get_node(p->doc, pair->value);
				key = scalar(k);
				if (key == NULL)
					err_at(p, k, "domains", "keys must be "
					    "plain words");
				else if (strcmp(key, "name") == 0) {
					if ((s = want_scalar(p, v,
					    "domains.name")) != NULL &&
					    domain_name(p, v, s, &d->name) == 0)
						named = true;
				} else if (strcmp(key, "rotation_window") == 0) {
					if ((val = get_duration(p, v,
					    "rotation_window", 3600,
					    366 * 86400L)) > 0)
						d->policy.rotation_window_s = val;
				} else if (strcmp(key, "critical_before") == 0) {
					if ((val = get_duration(p, v,
					    "critical_before", 0,
					    366 * 86400L)) >= 0)
						d->policy.critical_before_s = val;
				} else if (strcmp(key, "interval") == 0) {
					if ((val = get_duration(p, v,
					    "interval", 1, 86400)) > 0)
						d->interval_s = (int)val;
				} else if (strcmp(key, "multi_signer") == 0) {
					int ms = get_multi(p, v,
					    "domains.multi_signer");

					if (ms >= 0)
						d->policy.multi_signer = ms;
				} else
					err_at(p, k, "domains", "unknown key '%s' "
					    "(known: name, rotation_window, "
					    "critical_before, interval, "
					    "multi_signer)", key);
			}
			if (!named) {
				err_at(p, n, "domains", "an entry without a "
				    "valid 'name'");
				continue;
			}
		} else {
			err_at(p, n, "domains", "expected a name or a mapping "
			    "with 'name'");
			continue;
		}
		/* Only where the entry itself inverts them: inverted
		 * globals are reported once, at the top. */
		if (window_inverted(&d->policy) &&
		    !window_inverted(&p->cfg->policy))
			err_at(p, n, "domains", "%s: critical_before (%lds) is "
			    "not shorter than rotation_window (%lds): its "
			    "rotations would be critical from their first day",
			    d->name,
			    d->policy.critical_before_s,
			    d->policy.rotation_window_s);
		p->cfg->n_domains++;	/* duplicates: config_dedupe() */
	}
}

/* cds_parents: the zones whose registry applies CDS itself; the file's
 * list replaces the built-in one, [] turns it off. */
static void
parse_cds_parents(struct parse *p, yaml_node_t *seq)
{
	struct config		*c = p->cfg;
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	const char		*s;
	uint8_t			 wire[DSMATCH_NAME_MAX];
	char			 why[200], text[DSMATCH_NAME_STRLEN];
	size_t			 wlen, len, i, count;

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(p, seq, "cds_parents", "expected a list of zones, e.g. "
		    "[ch, li, se]");
		return;
	}
	count = (size_t)(seq->data.sequence.items.top -
	    seq->data.sequence.items.start);
	if (count > CONFIG_MAX_CDS_PARENTS) {
		err_at(p, seq, "cds_parents", "at most %d zones",
		    CONFIG_MAX_CDS_PARENTS);
		return;
	}
	if ((c->cds_parents = calloc(count ? count : 1,
	    sizeof(*c->cds_parents))) == NULL) {
		err_at(p, seq, "cds_parents", "out of memory");
		return;
	}
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		n = yaml_document_get_node(p->doc, *it);
		if ((s = want_scalar(p, n, "cds_parents")) == NULL)
			continue;
		if (dsmatch_name_to_wire(s, wire, sizeof(wire), &wlen, why,
		    sizeof(why)) == -1 || dsmatch_wire_to_name(wire, wlen,
		    text, sizeof(text)) == -1 || (len = strlen(text)) >=
		    PROBE_NAME_MAX) {
			err_at(p, n, "cds_parents", "'%s' is not a valid zone "
			    "name%s%s", s, why[0] ? ": " : "", why);
			continue;
		}
		if (len > 1)
			text[len - 1] = '\0';	/* the final dot */
		for (i = 0; text[i]; i++)
			if (text[i] >= 'A' && text[i] <= 'Z')
				text[i] += 32;
		if ((c->cds_parents[c->n_cds_parents] = strdup(text)) == NULL) {
			err_at(p, n, "cds_parents", "out of memory");
			break;
		}
		c->n_cds_parents++;
	}
	c->probe_policy.cds_parents = (const char *const *)c->cds_parents;
	c->probe_policy.n_cds_parents = c->n_cds_parents;
}

static void
parse_resolvers(struct parse *p, yaml_node_t *seq)
{
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	const char		*s;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 why[200];

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(p, seq, "resolvers", "expected a list of addresses, "
		    "e.g. [8.8.8.8, 1.1.1.1]");
		return;
	}
	/* The file's list replaces the defaults (and a repeated key). */
	while (p->cfg->n_resolvers > 0)
		free(p->cfg->resolvers[--p->cfg->n_resolvers]);
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		n = yaml_document_get_node(p->doc, *it);
		if ((s = want_scalar(p, n, "resolvers")) == NULL)
			continue;
		if (addr_parse(s, 53, &ss, &len, why,
		    sizeof(why)) == -1) {
			err_at(p, n, "resolvers", "%s", why);
			continue;
		}
		if (p->cfg->n_resolvers >= PROBE_MAX_RESOLVERS) {
			err_at(p, n, "resolvers", "at most %d resolvers",
			    PROBE_MAX_RESOLVERS);
			break;
		}
		if ((p->cfg->resolvers[p->cfg->n_resolvers] = strdup(s)) != NULL)
			p->cfg->n_resolvers++;
	}
}

static void
set_defaults(struct config *c)
{
	static const char *res[] = { "8.8.8.8", "1.1.1.1", "9.9.9.9" };
	unsigned	 i;

	c->trust_anchor = strdup(ROOTS_DEFAULT_ANCHOR);
	c->database = strdup("/var/lib/dnssecmon/dnssecmon.db");
	for (i = 0; i < 3; i++)
		c->resolvers[c->n_resolvers++] = strdup(res[i]);
	c->interval_s = 300;
	c->timeout_ms = 5000;
	c->retries = 2;
	/* An IPv6-only break of a server fails every IPv6 resolver: look
	 * by default (addresses this host has no route to are skipped). */
	c->ipv6 = true;
	c->tcp_every = 1;
	store_policy_defaults(&c->policy);
	probe_policy_defaults(&c->probe_policy);
	c->max_domains = 500;
	c->max_queries = 2000;
	c->per_server_qps = 0;
	c->retention_s = 90 * 86400L;
	c->log = strdup("stderr");
	config_defaults_alerts(c);
	config_defaults_http(c);
}

/* Files named in the config must be usable now, not at the first probe. */
static void
check_files(struct parse *p, yaml_node_t *anchor_node, yaml_node_t *hints_node)
{
	struct roots	 roots;
	char		 why[300];

	if (roots_check_anchor(p->cfg->trust_anchor, why, sizeof(why)) == -1)
		err_at(p, anchor_node, "trust_anchor", "%s", why);
	if (p->cfg->root_hints != NULL &&
	    roots_load_hints(p->cfg->root_hints, p->cfg->ipv6, &roots, why,
	    sizeof(why)) == -1)
		err_at(p, hints_node, "root_hints", "%s", why);
}

static void
parse_top(struct parse *p, yaml_node_t *root)
{
	struct config		*c = p->cfg;
	struct map_walk		 w;
	yaml_node_t		*k, *v, *domains = NULL, *anchor = NULL;
	yaml_node_t		*hints = NULL, *lists = NULL, *include = NULL;
	yaml_node_t		*catalogs = NULL;
	const char		*key;
	long			 val;
	int			 b;

	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		err_at(p, root, NULL, "the file must be a mapping of keys "
		    "(trust_anchor:, domains:, ...)");
		return;
	}
	if (map_walk_start(p, root, &w) == -1)
		return;
	while (map_walk_next(p, &w, &key, &k, &v)) {
		if (strcmp(key, "trust_anchor") == 0) {
			set_str(p, &c->trust_anchor, v, key);
			anchor = v;
		} else if (strcmp(key, "root_hints") == 0) {
			set_str(p, &c->root_hints, v, key);
			hints = v;
		} else if (strcmp(key, "resolvers") == 0)
			parse_resolvers(p, v);
		else if (strcmp(key, "database") == 0)
			set_str(p, &c->database, v, key);
		else if (strcmp(key, "interval") == 0) {
			if ((val = get_duration(p, v, key, 1, 86400)) > 0)
				c->interval_s = (int)val;
		} else if (strcmp(key, "timeout") == 0) {
			if ((val = get_duration(p, v, key, 1, 60)) > 0)
				c->timeout_ms = (int)val * 1000;
		} else if (strcmp(key, "retries") == 0) {
			if ((val = get_int(p, v, key, 0, 10)) >= 0)
				c->retries = (int)val;
		} else if (strcmp(key, "rotation_window") == 0) {
			if ((val = get_duration(p, v, key, 3600,
			    366 * 86400L)) > 0)
				c->policy.rotation_window_s = val;
		} else if (strcmp(key, "critical_before") == 0) {
			if ((val = get_duration(p, v, key, 0,
			    366 * 86400L)) >= 0)
				c->policy.critical_before_s = val;
		} else if (strcmp(key, "signature_warning") == 0) {
			if ((val = get_duration(p, v, key, 0,
			    366 * 86400L)) >= 0)
				c->probe_policy.sig_warning_s = (int)val;
		} else if (strcmp(key, "signature_critical") == 0) {
			if ((val = get_duration(p, v, key, 0,
			    366 * 86400L)) >= 0)
				c->probe_policy.sig_critical_s = (int)val;
		} else if (strcmp(key, "cds_parents") == 0)
			parse_cds_parents(p, v);
		else if (strcmp(key, "cds_pickup") == 0) {
			if ((val = get_duration(p, v, key, 3600,
			    366 * 86400L)) > 0)
				c->probe_policy.cds_pickup_s = val;
		} else if (strcmp(key, "multi_signer") == 0) {
			if ((b = get_multi(p, v, key)) >= 0)
				c->policy.multi_signer = b;
		} else if (strcmp(key, "insecure_is_problem") == 0) {
			if ((b = get_bool(p, v, key)) >= 0)
				c->probe_policy.insecure_is_problem = b;
		} else if (strcmp(key, "ipv6") == 0) {
			if ((b = get_bool(p, v, key)) >= 0)
				c->ipv6 = b;
		} else if (strcmp(key, "tcp_every") == 0) {
			if ((val = get_int(p, v, key, 0, 1000)) >= 0)
				c->tcp_every = (unsigned)val;
		} else if (strcmp(key, "max_concurrent_domains") == 0) {
			if ((val = get_int(p, v, key, 1, 100000)) > 0)
				c->max_domains = (unsigned)val;
		} else if (strcmp(key, "max_queries_in_flight") == 0) {
			if ((val = get_int(p, v, key, 1, 100000)) > 0)
				c->max_queries = (unsigned)val;
		} else if (strcmp(key, "per_server_qps") == 0) {
			if ((val = get_int(p, v, key, 0, 1000000)) >= 0)
				c->per_server_qps = (unsigned)val;
		} else if (strcmp(key, "retention") == 0) {
			if ((val = get_duration(p, v, key, 86400,
			    3650 * 86400L)) > 0)
				c->retention_s = val;
		} else if (strcmp(key, "log") == 0) {
			const char *s = want_scalar(p, v, key);

			if (s != NULL && strcmp(s, "stderr") != 0 &&
			    strcmp(s, "syslog") != 0 && strcmp(s, "json") != 0)
				err_at(p, v, key, "'%s': expected stderr, syslog "
				    "or json", s);
			else
				set_str(p, &c->log, v, key);
		} else if (strcmp(key, "instance") == 0) {
			const char *s = want_scalar(p, v, key);

			if (s == NULL)
				;
			else if (!shard_instance_valid(s))
				err_at(p, v, key, "'%s': expected 1 to %d of "
				    "A-Z a-z 0-9 . _ - (it names this daemon in "
				    "MQTT topics)", s, SHARD_INSTANCE_MAX - 1);
			else
				set_str(p, &c->instance, v, key);
		} else if (config_parse_alerts_key(p, key, k, v) ||
		    config_parse_http_key(p, key, k, v))
			;	/* sections owned by alerts/ and dashboard-export/ */
		else if (strcmp(key, "domains") == 0)
			domains = v;	/* after the globals it inherits */
		else if (strcmp(key, "domains_file") == 0)
			lists = v;
		else if (strcmp(key, "include") == 0)
			include = v;
		else if (strcmp(key, "catalog") == 0)
			catalogs = v;
		else
			err_at(p, k, key, "unknown key (see dnssecmon.conf(5))");
	}
	map_walk_end(&w);
	/* Order matters for config_dedupe(): every domains: entry (this
	 * file's, then the included files') before any listed name. */
	if (domains != NULL)
		config_parse_domains(p, domains);
	if (lists != NULL)
		config_parse_lists(p, lists);
	if (catalogs != NULL)
		config_parse_catalogs(p, catalogs);
	if (include != NULL)
		config_parse_include(p, include);
	config_read_lists(p);
	config_free_lists(p);
	config_dedupe(p);
	if (c->n_domains == 0 && c->n_catalogs == 0 && p->errs->n == 0)
		err_at(p, domains ? domains : root, "domains", "no domain to "
		    "monitor (domains:, domains_file:, include: or catalog:)");
	/* Inverted thresholds would silently never warn. */
	if (c->probe_policy.sig_critical_s >= c->probe_policy.sig_warning_s)
		err_at(p, root, "signature_critical", "%ds is not shorter "
		    "than signature_warning (%ds): signatures would go from "
		    "ok to critical without a warning",
		    c->probe_policy.sig_critical_s,
		    c->probe_policy.sig_warning_s);
	if (window_inverted(&c->policy))
		err_at(p, root, "critical_before", "%lds is not shorter than "
		    "rotation_window (%lds): every rotation would be critical "
		    "from its first day", c->policy.critical_before_s,
		    c->policy.rotation_window_s);
	check_files(p, anchor ? anchor : root, hints ? hints : root);
}

/*
 * One pass over the parser's events before the document is built.
 * libyaml's scanner is quadratic in the nesting depth (40,000 levels took
 * 6.5 s), so depth is capped before it gets there; and yaml_parser_load()
 * reads only the first document of several, silently.
 */
int
config_prescan(const char *path, const char *text, size_t len,
    struct config_errors *errs)
{
	yaml_parser_t	 parser;
	yaml_event_t	 ev;
	int		 depth = 0, docs = 0, rc = -1;
	bool		 done = false;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]),
		    "%s: cannot start the YAML parser", path);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]),
			    "%s:%zu: not valid YAML: %s", path,
			    parser.problem_mark.line + 1,
			    parser.problem ? parser.problem : "syntax error");
			goto out;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]),
			    "%s:%zu: a second YAML document: the file must "
			    "hold exactly one", path, ev.start_mark.line + 1);
			yaml_event_delete(&ev);
			goto out;
		}
		if ((ev.type == YAML_MAPPING_START_EVENT ||
		    ev.type == YAML_SEQUENCE_START_EVENT) &&
		    ++depth > CONFIG_MAX_DEPTH) {
			snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]),
			    "%s:%zu: nested more than %d levels deep", path,
			    ev.start_mark.line + 1, CONFIG_MAX_DEPTH);
			yaml_event_delete(&ev);
			goto out;
		}
		if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	rc = 0;
out:
	yaml_parser_delete(&parser);
	return rc;
}

struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct parse		 p;
	struct config		*c;
	yaml_parser_t		 parser;
	yaml_document_t		 doc;
	char			*text = NULL, why[300];
	size_t			 len;
	int			 have_doc = 0, have_parser = 0;

	memset(errs, 0, sizeof(*errs));
	memset(&p, 0, sizeof(p));
	p.file = path;
	p.errs = errs;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->file = strdup(path)) == NULL) {
		free(c);
		snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]),
		    "%s: out of memory", path);
		return NULL;
	}
	p.cfg = c;
	if ((c->sources = calloc(1, sizeof(*c->sources))) == NULL ||
	    (c->sources[0] = strdup(path)) == NULL) {
		snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]),
		    "%s: out of memory", path);
		goto fail;
	}
	c->n_sources = 1;
	set_defaults(c);
	if (access(ROOTS_DEFAULT_HINTS, R_OK) == 0)
		c->root_hints = strdup(ROOTS_DEFAULT_HINTS);

	/* Read whole and checked: libyaml retries a failing read for ever
	 * (a directory, a FIFO, /dev/zero). */
	if ((text = file_read(path, FILE_MAX_CONFIG, &len, why,
	    sizeof(why))) == NULL) {
		snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]), "%s",
		    why);
		goto fail;
	}
	if (config_prescan(path, text, len, errs) == -1)
		goto fail;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]),
		    "%s: cannot start the YAML parser", path);
		goto fail;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]),
		    "%s:%zu: not valid YAML: %s", path,
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "syntax error");
		goto fail;
	}
	have_doc = 1;
	p.doc = &doc;
	parse_top(&p, yaml_document_get_root_node(&doc));
	if (errs->n > 0)
		goto fail;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	nameset_destroy(p.sinks);
	free(text);
	return c;
fail:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	nameset_destroy(p.sinks);
	free(text);
	config_free(c);
	return NULL;
}

int
config_check_database(const struct config *c, char *err, size_t errlen)
{
	struct stat	 sb;
	char		 dir[PATH_MAX], *slash;
	int		 rc = -1;

	/* SQLite would block for ever reading a FIFO, or fail late. */
	if (stat(c->database, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			snprintf(err, errlen, "database: %s: not a regular "
			    "file", c->database);
			goto out;
		}
		if (access(c->database, R_OK | W_OK) == -1) {
			snprintf(err, errlen, "database: %s: %s", c->database,
			    strerror(errno));
			goto out;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "database: %s: %s", c->database,
		    strerror(errno));
		goto out;
	}
	/* The directory must take new files too: the journal and WAL. */
	snprintf(dir, sizeof(dir), "%s", c->database);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &sb) == -1) {
		snprintf(err, errlen, "database: %s: directory %s: %s",
		    c->database, dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "database: %s: %s is not a directory",
		    c->database, dir);
		goto out;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		snprintf(err, errlen, "database: %s: directory %s is not "
		    "writable: %s", c->database, dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	return rc;
}

void
config_free(struct config *c)
{
	unsigned	 i;

	if (c == NULL)
		return;
	free(c->file);
	free(c->trust_anchor);
	free(c->root_hints);
	for (i = 0; i < c->n_resolvers; i++)
		free(c->resolvers[i]);
	free(c->database);
	free(c->log);
	free(c->instance);
	config_free_alerts(c);
	config_free_http(c);
	free(c->domains);
	strpool_free(&c->names);
	for (i = 0; i < c->n_sources; i++)
		free(c->sources[i]);
	free(c->sources);
	if (c->catalogs != NULL) {
		/* TSIG secrets do not linger in freed memory. */
		explicit_bzero(c->catalogs, c->n_catalogs *
		    sizeof(*c->catalogs));
		free(c->catalogs);
	}
	for (i = 0; i < c->n_cds_parents; i++)
		free(c->cds_parents[i]);
	free(c->cds_parents);
	free(c);
}
