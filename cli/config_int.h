/*
 * Internals of the configuration parser, shared by the files that parse
 * one section each: config.c (the core keys and domains), config_alerts.c
 * (mqtt, webhooks, exec hooks, alert policy) and config_http.c
 * (http, hooks).
 */
#ifndef DNSSECMON_CONFIG_INT_H
#define DNSSECMON_CONFIG_INT_H

#include <stdbool.h>

#include <yaml.h>

#include "cli/config.h"

struct nameset;

struct parse {
	const char		*file;
	yaml_document_t		*doc;
	struct config		*cfg;
	struct config_errors	*errs;
	struct nameset		*sinks;	/* names of the sinks so far */
	char			 last_base[ALERTS_NAME_MAX];	/* default_name */
	int			 last_suffix;
	unsigned		 src;	/* p->file in cfg->sources */
	char			**lists;	/* domains_file: paths, read
						   after every domains: */
	unsigned		 n_lists;
	unsigned		 n_files;	/* included and listed so far */
};

/* Walk the pairs of a mapping node. */
#define MAP_FOREACH(doc, map, pair)					\
	for ((pair) = (map)->data.mapping.pairs.start;			\
	    (pair) < (map)->data.mapping.pairs.top; (pair)++)

/*
 * The keys of a top-level mapping (a file's, an included file's), each
 * once: map_walk_next() gives the next pair whose key is a plain word not
 * seen before in it, recording an error for any other and skipping it.
 *	struct map_walk w;
 *	if (map_walk_start(p, map, &w) == -1) return;
 *	while (map_walk_next(p, &w, &key, &k, &v)) ...
 *	map_walk_end(&w);
 * -1 (an error recorded) when out of memory.
 */
struct map_walk {
	yaml_node_pair_t	*pair, *end;
	struct nameset		*seen;
};
int	map_walk_start(struct parse *, yaml_node_t *map, struct map_walk *);
bool	map_walk_next(struct parse *, struct map_walk *, const char **key,
	    yaml_node_t **k, yaml_node_t **v);
void	map_walk_end(struct map_walk *);

/* Record "FILE:LINE: key: what" (key may be NULL). */
void	err_line(struct parse *, const char *file, size_t line,
	    const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Record "FILE:LINE: key: what" for a node of p->file (key may be NULL). */
void	err_at(struct parse *, const yaml_node_t *, const char *key,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The scalar text of a node, or NULL for a list or mapping. */
const char *scalar(const yaml_node_t *);
/* A non-empty scalar, or an error naming key and NULL. */
const char *want_scalar(struct parse *, const yaml_node_t *, const char *key);
/* strdup of want_scalar(); NULL after recording an error. */
char	*dup_scalar(struct parse *, const yaml_node_t *, const char *key);
/* Replace *dst (freed) with the node's text, when valid. */
void	set_str(struct parse *, char **dst, const yaml_node_t *, const char *key);
/* A duration in seconds within [min, max], or -1 after an error. */
long	get_duration(struct parse *, const yaml_node_t *, const char *key,
	    long min, long max);
/* A whole number within [min, max], or -1 after an error. */
long	get_int(struct parse *, const yaml_node_t *, const char *key,
	    long min, long max);
/* yes/no, true/false, on/off: 1 or 0, or -1 after an error. */
int	get_bool(struct parse *, const yaml_node_t *, const char *key);

/*
 * Section parsers. Each returns true when `key` (a top-level key) is
 * theirs and has been parsed (errors recorded through err_at), false when
 * it is not theirs. Defaults are set before parsing, freed with the rest.
 */
bool	config_parse_alerts_key(struct parse *, const char *key,
	    yaml_node_t *k, yaml_node_t *v);
void	config_defaults_alerts(struct config *);
void	config_free_alerts(struct config *);
/* Domain sources (cli/config_sources.c and config.c). */
/* A new zeroed entry at cfg->domains[n_domains] with the global policy;
 * the caller counts it in n_domains once valid. NULL: no memory. */
struct config_domain *config_domain_new(struct parse *);
void	config_parse_domains(struct parse *, yaml_node_t *seq);
/* domains_file: paths, read later by config_read_lists(). */
void	config_parse_lists(struct parse *, yaml_node_t *);
void	config_read_lists(struct parse *);
void	config_free_lists(struct parse *);
void	config_parse_include(struct parse *, yaml_node_t *);
void	config_parse_catalogs(struct parse *, yaml_node_t *seq);
/* One entry per name (errors for names twice in domains: lists). */
void	config_dedupe(struct parse *);
/* Depth and document count of a YAML text, before libyaml loads it. */
int	config_prescan(const char *path, const char *text, size_t len,
	    struct config_errors *errs);
bool	config_parse_http_key(struct parse *, const char *key,
	    yaml_node_t *k, yaml_node_t *v);
void	config_defaults_http(struct config *);
void	config_free_http(struct config *);

#endif
