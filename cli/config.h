/*
 * The daemon's configuration file (YAML, dnssecmon.conf(5)).
 *
 * config_load() reads and checks the whole file and either returns a
 * complete struct config or a list of errors, each "FILE:LINE: key: what
 * is wrong". Unknown keys are errors: a typo must not silently fall back
 * to a default.
 */
#ifndef DNSSECMON_CONFIG_H
#define DNSSECMON_CONFIG_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

#include "alerts/alerts.h"
#include "common/strpool.h"
#include "probe/probe.h"
#include "store/store.h"

/* Where run looks without -c: the Debian package installs it there. */
#define CONFIG_DEFAULT_PATH	"/etc/dnssecmon/dnssecmon.yaml"

#define CONFIG_MAX_ERRORS	32
/* Mappings and lists inside each other; dnssecmon.conf needs 5. */
#define CONFIG_MAX_DEPTH	32
#define CONFIG_MAX_CDS_PARENTS	64
/* include: files (all patterns together) and domains_file: files. */
#define CONFIG_MAX_FILES	1024
#define CONFIG_TSIG_NAME_MAX	256
#define CONFIG_TSIG_ALG_MAX	32
#define CONFIG_TSIG_SECRET_MAX	512

/* A catalog zone (RFC 9432) whose member zones are monitored. */
struct config_catalog {
	char			 zone[PROBE_NAME_MAX];	/* normalised */
	char			 primary[128];	/* as written */
	struct sockaddr_storage	 addr;		/* primary parsed, port 53
						   unless given */
	socklen_t		 addrlen;
	char			 tsig_name[CONFIG_TSIG_NAME_MAX]; /* "": none */
	char			 tsig_alg[CONFIG_TSIG_ALG_MAX];	/* ldns name,
							   e.g. hmac-sha256. */
	char			 tsig_secret[CONFIG_TSIG_SECRET_MAX]; /* base64 */
	unsigned		 max_members;
	int			 refresh_s;	/* SOA poll */
	int			 line;
	unsigned		 src;
};

struct config_domain {
	const char		*name;		/* normalised; in the config's
						   names (or the catalog
						   members' pool) */
	int			 line;
	unsigned		 src;		/* config->sources[src] */
	bool			 listed;	/* from a domains_file: */
	int			 interval_s;		/* 0: the global one */
	struct store_policy	 policy;
};

struct config {
	char			*file;
	char			*trust_anchor;
	char			*root_hints;		/* NULL: built in */
	unsigned		 n_resolvers;
	char			*resolvers[PROBE_MAX_RESOLVERS];
	char			*database;
	int			 interval_s;
	int			 timeout_ms;
	int			 retries;
	struct store_policy	 policy;		/* global defaults */
	struct probe_policy	 probe_policy;		/* .cds_parents points
							   at cds_parents, or at
							   the built-in list */
	char			**cds_parents;		/* cds_parents:, NULL:
							   not given */
	unsigned		 n_cds_parents;
	bool			 ipv6;			/* default true */
	unsigned		 tcp_every;		/* DNSKEY over TCP every
							   Nth check; 0: never */
	unsigned		 max_domains;		/* in flight at once */
	unsigned		 max_queries;		/* on the wire at once */
	unsigned		 per_server_qps;
	long			 retention_s;		/* raw observations */
	char			*log;			/* stderr|syslog|json */
	char			*instance;		/* NULL: host name and
							   shard (cli/shard.h) */
	char			*http_listen;		/* NULL: off */
	/* ---- http and hooks (cli/config_http.c) ---- */
	struct sockaddr_storage	 http_addr;		/* http_listen parsed */
	socklen_t		 http_addrlen;
	unsigned		 http_max_connections;
	unsigned		 http_max_per_client;
	int			 http_timeout_s;
	int			 http_request_timeout_s;
	int			 http_refresh_s;	/* status page */
	bool			 http_enum_zeros;	/* /metrics: the 0-valued
							   series of enum gauges */
	char			*hooks_dnsimple_secret;	/* NULL: webhook off */
	/* ---- end of http and hooks ---- */
	/* Alerts (cli/config_alerts.c): mqtt:, webhooks:,
	 * exec:; the alert policy (alerts:) is in `policy`. */
	struct alerts_config	 alerts;
	size_t			 n_domains, cap_domains;
	struct strpool		 names;		/* domains[].name */
	struct config_domain	*domains;
	/* The files domains came from: [0] the configuration itself, then
	 * included files and domains_file: lists (full paths). */
	char			**sources;
	unsigned		 n_sources;
	size_t			 n_catalogs;
	struct config_catalog	*catalogs;
};

struct config_errors {
	unsigned	n;
	unsigned	dropped;
	char		msg[CONFIG_MAX_ERRORS][320];
};

/*
 * Parse and check path. Returns a config the caller frees with
 * config_free(), or NULL with every problem found in *errs.
 */
struct config *config_load(const char *path, struct config_errors *errs);
/* Accepts NULL. */
void	config_free(struct config *);

/*
 * Can the database be opened and written now: the file a regular one (or
 * absent) and its directory there and writable. Not in config_load(): a
 * reload that keeps the database has it open already, so run -n, start-up
 * and a reload that moves the database ask. Returns 0, or -1 with
 * "database: PATH: reason" in err.
 */
int	config_check_database(const struct config *, char *err, size_t errlen);

/*
 * A domain name as written into out (PROBE_NAME_MAX): lower case, no final
 * dot. -1 with the reason in why when it is not a name or is the root.
 */
int	config_domain_name(const char *s, char *out, char *why,
	    size_t whylen);

/*
 * "90", "90s", "5m", "72h", "7d", "1w" into seconds; -1 when malformed.
 * Plain numbers are seconds.
 */
long	config_parse_duration(const char *s);

#endif
