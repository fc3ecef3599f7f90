/*
 * Where the domains come from, besides the domains: list of the
 * configuration itself: domains_file: (plain lists, one name a line, the
 * reader of `check -f`), include: (drop-in YAML files, conf.d style) and
 * catalog: (RFC 9432 catalog zones, transferred by cli/catalog.c).
 *
 * Everything here is read by config_load(), so `run -n` checks it and a
 * SIGHUP re-reads it; a bad file keeps the running configuration.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "cli/config.h"
#include "cli/config_int.h"
#include "cli/domainlist.h"
#include "cli/nameset.h"
#include "common/addr.h"
#include "common/dsmatch.h"
#include "common/file.h"

#define CATALOG_MEMBERS_DEFAULT	10000
#define CATALOG_MEMBERS_MAX	1000000
#define CATALOG_REFRESH_DEFAULT	300

/* glob()'s error callback has no argument: the reason goes here (the
 * configuration is parsed on the main thread only). */
static char	glob_why[PATH_MAX + 64];

/* A file of cfg->sources: its index, or -1 (error recorded at n). */
static int
source_add(struct parse *p, const yaml_node_t *n, const char *path)
{
	struct config	*c = p->cfg;
	char		**v;

	if (p->n_files >= CONFIG_MAX_FILES) {
		err_at(p, n, NULL, "more than %d included and listed files",
		    CONFIG_MAX_FILES);
		return -1;
	}
	if ((v = reallocarray(c->sources, c->n_sources + 1,
	    sizeof(*v))) == NULL) {
		err_at(p, n, NULL, "out of memory");
		return -1;
	}
	c->sources = v;
	if ((c->sources[c->n_sources] = strdup(path)) == NULL) {
		err_at(p, n, NULL, "out of memory");
		return -1;
	}
	p->n_files++;
	return (int)c->n_sources++;
}

/*
 * A path as written in p->file: a relative one is taken from the
 * directory of the file that names it, as NSD and unbound do for
 * include:, so that a configuration tree can move as a whole.
 */
static int
resolve(struct parse *p, const yaml_node_t *n, const char *key,
    const char *path, char *out, size_t outlen)
{
	const char	*slash = strrchr(p->file, '/');
	int		 len;

	if (path[0] == '/' || slash == NULL)
		len = snprintf(out, outlen, "%s", path);
	else
		len = snprintf(out, outlen, "%.*s/%s", (int)(slash - p->file),
		    p->file, path);
	if (len < 0 || (size_t)len >= outlen) {
		err_at(p, n, key, "'%s': path too long", path);
		return -1;
	}
	return 0;
}

/* Call fn for the scalar node n or each item of the list n. */
static void
each_scalar(struct parse *p, yaml_node_t *n, const char *key,
    void (*fn)(struct parse *, yaml_node_t *, const char *))
{
	yaml_node_item_t	*it;
	yaml_node_t		*item;
	const char		*s;

	if (n->type == YAML_SCALAR_NODE) {
		if ((s = want_scalar(p, n, key)) != NULL)
			fn(p, n, s);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		err_at(p, n, key, "expected a path or a list of paths");
		return;
	}
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++) {
		item = yaml_document_get_node(p->doc, *it);
		if ((s = want_scalar(p, item, key)) != NULL)
			fn(p, item, s);
	}
}

static void
list_one(struct parse *p, yaml_node_t *n, const char *path)
{
	char	 full[PATH_MAX], why[300], **v;

	if (resolve(p, n, "domains_file", path, full, sizeof(full)) == -1)
		return;
	/* Checked here, where the key's line is known: the list itself is
	 * read after the whole file, and its error would name neither. */
	if (file_check(full, FILE_MAX_CONFIG, why, sizeof(why)) == -1) {
		err_at(p, n, "domains_file", "%s", why);
		return;
	}
	if (p->n_lists >= CONFIG_MAX_FILES) {
		err_at(p, n, "domains_file", "more than %d files",
		    CONFIG_MAX_FILES);
		return;
	}
	if ((v = reallocarray(p->lists, p->n_lists + 1, sizeof(*v))) ==
	    NULL || (p->lists = v, (v[p->n_lists] = strdup(full)) == NULL)) {
		err_at(p, n, "domains_file", "out of memory");
		return;
	}
	p->n_lists++;
}

void
config_parse_lists(struct parse *p, yaml_node_t *n)
{
	each_scalar(p, n, "domains_file", list_one);
}

/* One domains_file: into cfg->domains; the global policy applies. */
static void
read_list(struct parse *p, const char *path)
{
	struct domainlist	 dl;
	struct config_domain	*d;
	char			 err[400], why[200], name[PROBE_NAME_MAX];
	size_t			 i;
	int			 src;

	memset(&dl, 0, sizeof(dl));
	if (domainlist_read(&dl, path, err, sizeof(err)) == -1) {
		/* Already "PATH:LINE: what", the list's own position. */
		if (p->errs->n < CONFIG_MAX_ERRORS)
			snprintf(p->errs->msg[p->errs->n++],
			    sizeof(p->errs->msg[0]), "%s", err);
		else
			p->errs->dropped++;
		goto out;
	}
	if ((src = source_add(p, NULL, path)) == -1)
		goto out;
	for (i = 0; i < dl.n; i++) {
		if ((d = config_domain_new(p)) == NULL) {
			err_line(p, path, dl.lines[i], "domains_file",
			    "out of memory");
			break;
		}
		if (config_domain_name(dl.names[i], name, why,
		    sizeof(why)) == -1) {
			err_line(p, path, dl.lines[i], "domains_file",
			    "'%s': %s", dl.names[i], why);
			continue;
		}
		if ((d->name = strpool_add(&p->cfg->names, name)) == NULL) {
			err_line(p, path, dl.lines[i], "domains_file",
			    "out of memory");
			break;
		}
		d->src = (unsigned)src;
		d->line = (int)dl.lines[i];
		d->listed = true;
		p->cfg->n_domains++;
	}
out:
	domainlist_finish(&dl);
}

void
config_read_lists(struct parse *p)
{
	unsigned	 i;

	for (i = 0; i < p->n_lists; i++)
		read_list(p, p->lists[i]);
}

void
config_free_lists(struct parse *p)
{
	unsigned	 i;

	for (i = 0; i < p->n_lists; i++)
		free(p->lists[i]);
	free(p->lists);
	p->lists = NULL;
	p->n_lists = 0;
}

/* ------------------------------------------------------------------ */
/* include: */

/* The keys of an included file: domain sources only. Anything else
 * would make the effective value of a setting depend on file order. */
static void
include_top(struct parse *p, yaml_node_t *root)
{
	struct map_walk		 w;
	yaml_node_t		*k, *v;
	const char		*key;

	if (root == NULL) {
		return;			/* an empty drop-in: nothing */
	}
	if (root->type != YAML_MAPPING_NODE) {
		err_at(p, root, NULL, "an included file must be a mapping "
		    "of domains:, domains_file: or catalog:");
		return;
	}
	if (map_walk_start(p, root, &w) == -1)
		return;
	while (map_walk_next(p, &w, &key, &k, &v)) {
		if (strcmp(key, "domains") == 0)
			config_parse_domains(p, v);
		else if (strcmp(key, "domains_file") == 0)
			config_parse_lists(p, v);
		else if (strcmp(key, "catalog") == 0)
			config_parse_catalogs(p, v);
		else
			err_at(p, k, key, "not allowed in an included file "
			    "(only domains, domains_file and catalog; global "
			    "settings belong in the main configuration)");
	}
	map_walk_end(&w);
}

static void
include_file(struct parse *p, const yaml_node_t *at, const char *path)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc, *saved_doc = p->doc;
	const char	*saved_file = p->file;
	unsigned	 saved_src = p->src;
	char		*text, why[300];
	size_t		 len;
	int		 src;

	if ((text = file_read(path, FILE_MAX_CONFIG, &len, why,
	    sizeof(why))) == NULL) {
		err_at(p, at, "include", "%s", why);
		return;
	}
	if ((src = source_add(p, at, path)) == -1 ||
	    config_prescan(path, text, len, p->errs) == -1) {
		free(text);
		return;
	}
	if (!yaml_parser_initialize(&parser)) {
		err_at(p, at, "include", "%s: cannot start the YAML parser",
		    path);
		free(text);
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	if (!yaml_parser_load(&parser, &doc)) {
		err_line(p, path, parser.problem_mark.line + 1, NULL,
		    "not valid YAML: %s", parser.problem ? parser.problem :
		    "syntax error");
		yaml_parser_delete(&parser);
		free(text);
		return;
	}
	p->file = p->cfg->sources[src];
	p->doc = &doc;
	p->src = (unsigned)src;
	include_top(p, yaml_document_get_root_node(&doc));
	p->file = saved_file;
	p->doc = saved_doc;
	p->src = saved_src;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
}

/* A conf.d that does not exist is empty; one this user cannot read is an
 * error, not silently no domains. */
static int
glob_error(const char *path, int err)
{
	if (err == ENOENT || err == ENOTDIR)
		return 0;
	snprintf(glob_why, sizeof(glob_why), "%s: %s", path, strerror(err));
	return 1;
}

static void
include_one(struct parse *p, yaml_node_t *n, const char *pattern)
{
	glob_t		 g;
	char		 full[PATH_MAX];
	size_t		 i;
	int		 rc;

	if (resolve(p, n, "include", pattern, full, sizeof(full)) == -1)
		return;
	memset(&g, 0, sizeof(g));
	glob_why[0] = '\0';
	rc = glob(full, 0, glob_error, &g);
	if (rc == GLOB_NOMATCH) {
		/* An empty conf.d is normal; a named file that is not
		 * there is a mistake. */
		if (strpbrk(full, "*?[") == NULL)
			err_at(p, n, "include", "%s: %s", full,
			    strerror(ENOENT));
		goto out;
	}
	if (rc != 0) {
		err_at(p, n, "include", "%s: %s", full, rc == GLOB_NOSPACE ?
		    "out of memory" : glob_why[0] ? glob_why :
		    "cannot read the directory");
		goto out;
	}
	/* glob() sorts: drop-ins apply in the order of their names. */
	for (i = 0; i < g.gl_pathc; i++)
		include_file(p, n, g.gl_pathv[i]);
out:
	globfree(&g);
}

void
config_parse_include(struct parse *p, yaml_node_t *n)
{
	each_scalar(p, n, "include", include_one);
}

/* ------------------------------------------------------------------ */
/* catalog: */

/* The algorithm names of NSD and BIND, to ldns's. */
static const char *
tsig_algorithm(const char *s)
{
	static const struct { const char *conf, *ldns; } algs[] = {
		{ "hmac-md5",		"hmac-md5.sig-alg.reg.int." },
		{ "hmac-sha1",		"hmac-sha1." },
		{ "hmac-sha224",	"hmac-sha224." },
		{ "hmac-sha256",	"hmac-sha256." },
		{ "hmac-sha384",	"hmac-sha384." },
		{ "hmac-sha512",	"hmac-sha512." },
	};
	size_t	 i, len = strlen(s);

	if (len > 0 && s[len - 1] == '.')
		len--;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strlen(algs[i].conf) == len &&
		    strncasecmp(s, algs[i].conf, len) == 0)
			return algs[i].ldns;
	return NULL;
}

static void
parse_tsig(struct parse *p, yaml_node_t *map, struct config_catalog *cat)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key, *s, *alg;
	uint8_t			 bin[CONFIG_TSIG_SECRET_MAX];
	uint8_t			 wire[DSMATCH_NAME_MAX];
	size_t			 wlen;
	char			 why[200];
	bool			 have_secret = false;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "catalog.tsig", "expected a mapping with name, "
		    "secret and optionally algorithm");
		return;
	}
	snprintf(cat->tsig_alg, sizeof(cat->tsig_alg), "hmac-sha256.");
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key == NULL) {
			err_at(p, k, "catalog.tsig", "keys must be plain words");
			continue;
		}
		if ((s = want_scalar(p, v, "catalog.tsig")) == NULL)
			continue;
		if (strcmp(key, "name") == 0) {
			/* A key name is a domain name on the wire. */
			why[0] = '\0';
			if (dsmatch_name_to_wire(s, wire, sizeof(wire), &wlen,
			    why, sizeof(why)) == -1 ||
			    strlen(s) >= sizeof(cat->tsig_name))
				err_at(p, v, "catalog.tsig.name", "'%s' is not "
				    "a valid key name%s%s", s, why[0] ? ": " :
				    "", why);
			else
				snprintf(cat->tsig_name, sizeof(cat->tsig_name),
				    "%s", s);
		} else if (strcmp(key, "algorithm") == 0) {
			if ((alg = tsig_algorithm(s)) == NULL)
				err_at(p, v, "catalog.tsig.algorithm", "'%s': "
				    "expected hmac-sha256, hmac-sha384, "
				    "hmac-sha512, hmac-sha224, hmac-sha1 or "
				    "hmac-md5", s);
			else
				snprintf(cat->tsig_alg, sizeof(cat->tsig_alg),
				    "%s", alg);
		} else if (strcmp(key, "secret") == 0) {
			size_t sl = strlen(s);

			if (sl >= sizeof(cat->tsig_secret) || sl % 4 != 0 ||
			    EVP_DecodeBlock(bin, (const unsigned char *)s,
			    (int)sl) <= 0)
				/* Never echo a secret into a log. */
				err_at(p, v, "catalog.tsig.secret", "not a "
				    "base64 key (as tsig-keygen or "
				    "ldns-keygen -a hmac-sha256 print it)");
			else {
				snprintf(cat->tsig_secret,
				    sizeof(cat->tsig_secret), "%s", s);
				have_secret = true;
			}
		} else
			err_at(p, k, "catalog.tsig", "unknown key '%s' (known: "
			    "name, algorithm, secret)", key);
	}
	if (cat->tsig_name[0] == '\0' || !have_secret) {
		err_at(p, map, "catalog.tsig", "needs both name and secret");
		cat->tsig_name[0] = '\0';
	}
	explicit_bzero(bin, sizeof(bin));
}

static void
parse_catalog(struct parse *p, yaml_node_t *map, struct config_catalog *cat)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key, *s;
	char			 why[200];
	long			 val;

	cat->max_members = CATALOG_MEMBERS_DEFAULT;
	cat->refresh_s = CATALOG_REFRESH_DEFAULT;
	cat->line = (int)map->start_mark.line + 1;
	cat->src = p->src;
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key == NULL)
			err_at(p, k, "catalog", "keys must be plain words");
		else if (strcmp(key, "zone") == 0) {
			if ((s = want_scalar(p, v, "catalog.zone")) != NULL &&
			    config_domain_name(s, cat->zone, why,
			    sizeof(why)) == -1)
				err_at(p, v, "catalog.zone", "'%s' is not a "
				    "valid zone name: %s", s, why);
		} else if (strcmp(key, "primary") == 0) {
			if ((s = want_scalar(p, v, "catalog.primary")) == NULL)
				;
			else if (strlen(s) >= sizeof(cat->primary) ||
			    addr_parse(s, 53, &cat->addr,
			    &cat->addrlen, why, sizeof(why)) == -1)
				err_at(p, v, "catalog.primary", "%s", why);
			else
				snprintf(cat->primary, sizeof(cat->primary),
				    "%s", s);
		} else if (strcmp(key, "tsig") == 0)
			parse_tsig(p, v, cat);
		else if (strcmp(key, "max_members") == 0) {
			if ((val = get_int(p, v, "catalog.max_members", 1,
			    CATALOG_MEMBERS_MAX)) > 0)
				cat->max_members = (unsigned)val;
		} else if (strcmp(key, "refresh") == 0) {
			if ((val = get_duration(p, v, "catalog.refresh", 1,
			    86400)) > 0)
				cat->refresh_s = (int)val;
		} else
			err_at(p, k, "catalog", "unknown key '%s' (known: zone, "
			    "primary, tsig, max_members, refresh)", key);
	}
	if (cat->zone[0] == '\0')
		err_at(p, map, "catalog", "an entry without a valid 'zone'");
	if (cat->addrlen == 0)
		err_at(p, map, "catalog", "an entry without a valid 'primary' "
		    "(the server to transfer the catalog from, ADDR or "
		    "ADDR@PORT)");
}

void
config_parse_catalogs(struct parse *p, yaml_node_t *seq)
{
	struct config		*c = p->cfg;
	struct config_catalog	*v, *cat;
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	size_t			 i;

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(p, seq, "catalog", "expected a list of catalog zones, "
		    "each a mapping with zone and primary");
		return;
	}
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		n = yaml_document_get_node(p->doc, *it);
		if (n->type != YAML_MAPPING_NODE) {
			err_at(p, n, "catalog", "expected a mapping with zone "
			    "and primary");
			continue;
		}
		if ((v = reallocarray(c->catalogs, c->n_catalogs + 1,
		    sizeof(*v))) == NULL) {
			err_at(p, n, "catalog", "out of memory");
			return;
		}
		c->catalogs = v;
		cat = &c->catalogs[c->n_catalogs];
		memset(cat, 0, sizeof(*cat));
		parse_catalog(p, n, cat);
		if (cat->zone[0] == '\0' || cat->addrlen == 0) {
			explicit_bzero(cat, sizeof(*cat));
			continue;
		}
		for (i = 0; i < c->n_catalogs; i++)
			if (strcmp(c->catalogs[i].zone, cat->zone) == 0)
				break;
		if (i < c->n_catalogs) {
			err_at(p, n, "catalog", "'%s' is listed twice (first "
			    "at %s:%d)", cat->zone,
			    c->sources[c->catalogs[i].src],
			    c->catalogs[i].line);
			explicit_bzero(cat, sizeof(*cat));
			continue;
		}
		c->n_catalogs++;
	}
}

/* ------------------------------------------------------------------ */

/*
 * One entry per name. A name written twice in domains: lists (of the
 * configuration or of included files) is an error: one of the two sets
 * of per-domain settings would be silently lost. A name of a
 * domains_file: that is also elsewhere is dropped: lists exported from
 * several places overlap, and a domains: entry carries the settings.
 */
void
config_dedupe(struct parse *p)
{
	struct config		*c = p->cfg;
	struct config_domain	*d, *first;
	struct nameset		*seen;
	bool			*keep;
	size_t			 i, n = 0;
	int			 added, at;

	if (c->n_domains == 0)
		return;
	if ((seen = nameset_create()) == NULL ||
	    (keep = calloc(c->n_domains, sizeof(*keep))) == NULL) {
		nameset_destroy(seen);
		err_line(p, c->sources[0], 0, "domains", "out of memory");
		return;
	}
	/* Every domains: entry comes before every listed one (listed files
	 * are read last), so the entry kept is the one with settings. */
	for (i = 0; i < c->n_domains; i++) {
		d = &c->domains[i];
		if ((added = nameset_add(seen, d->name, (int)i, &at)) == -1) {
			err_line(p, c->sources[0], 0, "domains",
			    "out of memory");
			break;
		}
		if (added == 1) {
			keep[i] = true;
			continue;
		}
		first = &c->domains[at];
		if (d->listed || first->listed)
			continue;
		if (d->src == first->src)
			err_line(p, c->sources[d->src], (size_t)d->line,
			    "domains", "'%s' is listed twice (first at line "
			    "%d)", d->name, first->line);
		else
			err_line(p, c->sources[d->src], (size_t)d->line,
			    "domains", "'%s' is listed twice (first at %s:%d)",
			    d->name, c->sources[first->src], first->line);
	}
	nameset_destroy(seen);		/* it points into domains[] */
	for (i = 0; i < c->n_domains; i++)
		if (keep[i])
			c->domains[n++] = c->domains[i];
	c->n_domains = n;
	free(keep);
}
