/*
 * Configuration of the HTTP listener and the DNS host webhooks (issue
 * #7, dashboard-export/):
 *
 *	http:
 *	  listen: 127.0.0.1:9470	# the default; loopback unless told
 *	  max_connections: 64
 *	  max_connections_per_client: 16	# an IPv4 address, an IPv6 /64
 *	  timeout: 10s			# per read or write
 *	  request_timeout: 10s		# a whole request, however dribbled
 *	  refresh: 30s			# status page auto-refresh
 *	  metrics_enum_zeros: yes	# no: only the 1 of each enum gauge
 *	hooks:
 *	  dnsimple:
 *	    secret: LONG-RANDOM-STRING	# POST /hooks/dnsimple/SECRET
 *
 * The listener runs when either key is present; without both, the
 * daemon has no HTTP port at all. Secrets are never echoed in errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config_int.h"
#include "common/addr.h"
#include "dashboard-export/export.h"
#include "hostevents/hostevents.h"

#define SECRET_MIN	16
/* The longest is hostevents' buffer. */
#define SECRET_MAX	HOSTEVENTS_SECRET_MAX

/* "ADDR:PORT", "[v6]:PORT", "ADDR@PORT" or a bare address. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char		 why[200], tmp[160];
	const char	*c;

	if (addr_parse(s, EXPORT_DEFAULT_PORT, ss, len, why,
	    sizeof(why)) == 0)
		return 0;
	/* ADDR:PORT for IPv4 (a v6 address has more than one colon). */
	if ((c = strrchr(s, ':')) == NULL || strchr(s, ':') != c ||
	    strlen(s) >= sizeof(tmp))
		return -1;
	snprintf(tmp, sizeof(tmp), "%.*s@%s", (int)(c - s), s, c + 1);
	return addr_parse(tmp, EXPORT_DEFAULT_PORT, ss, len, why,
	    sizeof(why));
}

static void
set_listen(struct parse *p, const char *s, yaml_node_t *v)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			*dup;

	if (parse_listen(s, &ss, &len) == -1) {
		err_at(p, v, "http.listen", "'%s' is not ADDR:PORT (e.g. "
		    "127.0.0.1:9470 or [::1]:9470)", s);
		return;
	}
	if ((dup = strdup(s)) == NULL)
		return;
	free(p->cfg->http_listen);
	p->cfg->http_listen = dup;
	p->cfg->http_addr = ss;
	p->cfg->http_addrlen = len;
}

static void
parse_http(struct parse *p, yaml_node_t *map)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key, *s;
	long			 n;

	if (map->type == YAML_SCALAR_NODE && scalar(map) != NULL &&
	    *scalar(map) == '\0') {
		/* "http:" alone: the defaults. */
		if (p->cfg->http_listen == NULL)
			set_listen(p, EXPORT_DEFAULT_LISTEN, map);
		return;
	}
	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "http", "expected a mapping (listen, "
		    "max_connections, max_connections_per_client, timeout, "
		    "request_timeout, refresh, metrics_enum_zeros)");
		return;
	}
	if (p->cfg->http_listen == NULL)
		set_listen(p, EXPORT_DEFAULT_LISTEN, map);
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key == NULL)
			err_at(p, k, "http", "keys must be plain words");
		else if (strcmp(key, "listen") == 0) {
			if ((s = want_scalar(p, v, "http.listen")) != NULL)
				set_listen(p, s, v);
		} else if (strcmp(key, "max_connections") == 0) {
			if ((n = get_int(p, v, "http.max_connections", 1,
			    10000)) > 0)
				p->cfg->http_max_connections = (unsigned)n;
		} else if (strcmp(key, "max_connections_per_client") == 0) {
			if ((n = get_int(p, v,
			    "http.max_connections_per_client", 1, 10000)) > 0)
				p->cfg->http_max_per_client = (unsigned)n;
		} else if (strcmp(key, "timeout") == 0) {
			if ((n = get_duration(p, v, "http.timeout", 1,
			    300)) > 0)
				p->cfg->http_timeout_s = (int)n;
		} else if (strcmp(key, "request_timeout") == 0) {
			if ((n = get_duration(p, v, "http.request_timeout", 1,
			    300)) > 0)
				p->cfg->http_request_timeout_s = (int)n;
		} else if (strcmp(key, "refresh") == 0) {
			if ((n = get_duration(p, v, "http.refresh", 5,
			    3600)) > 0)
				p->cfg->http_refresh_s = (int)n;
		} else if (strcmp(key, "metrics_enum_zeros") == 0) {
			int b = get_bool(p, v, "http.metrics_enum_zeros");

			if (b >= 0)
				p->cfg->http_enum_zeros = b;
		} else
			err_at(p, k, "http", "unknown key '%s' (known: listen, "
			    "max_connections, max_connections_per_client, "
			    "timeout, request_timeout, refresh, "
			    "metrics_enum_zeros)", key);
	}
}

static bool
secret_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.' || *s == '~'))
			return false;
	return true;
}

static void
parse_dnsimple(struct parse *p, yaml_node_t *map)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key, *s;
	bool			 have = false;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "hooks.dnsimple", "expected a mapping "
		    "(secret: ...)");
		return;
	}
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key != NULL && strcmp(key, "secret") == 0) {
			have = true;
			if ((s = want_scalar(p, v, "hooks.dnsimple.secret")) ==
			    NULL)
				continue;
			/* Never quote the value: it is a credential. */
			if (strlen(s) < SECRET_MIN || strlen(s) > SECRET_MAX ||
			    !secret_chars_ok(s)) {
				err_at(p, v, "hooks.dnsimple.secret", "must be "
				    "%d to %d characters of A-Z a-z 0-9 - _ . ~ "
				    "(it is part of the URL)", SECRET_MIN,
				    SECRET_MAX);
				continue;
			}
			free(p->cfg->hooks_dnsimple_secret);
			p->cfg->hooks_dnsimple_secret = strdup(s);
		} else
			err_at(p, k, "hooks.dnsimple", "unknown key '%s' "
			    "(known: secret)", key ? key : "?");
	}
	if (!have)
		err_at(p, map, "hooks.dnsimple", "needs a secret");
}

static void
parse_hooks(struct parse *p, yaml_node_t *map)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "hooks", "expected a mapping (dnsimple: "
		    "{secret: ...})");
		return;
	}
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key != NULL && strcmp(key, "dnsimple") == 0)
			parse_dnsimple(p, v);
		else
			err_at(p, k, "hooks", "unknown key '%s' (known: "
			    "dnsimple)", key ? key : "?");
	}
	/* A webhook needs a listener: the default one unless http says. */
	if (p->cfg->http_listen == NULL)
		set_listen(p, EXPORT_DEFAULT_LISTEN, map);
}

bool
config_parse_http_key(struct parse *p, const char *key, yaml_node_t *k,
    yaml_node_t *v)
{
	(void)k;
	if (strcmp(key, "http") == 0) {
		parse_http(p, v);
		return true;
	}
	if (strcmp(key, "hooks") == 0) {
		parse_hooks(p, v);
		return true;
	}
	return false;
}

void
config_defaults_http(struct config *c)
{
	c->http_max_connections = EXPORT_DEFAULT_CONNECTIONS;
	c->http_max_per_client = EXPORT_DEFAULT_PER_CLIENT;
	c->http_timeout_s = EXPORT_DEFAULT_TIMEOUT;
	c->http_request_timeout_s = EXPORT_DEFAULT_REQUEST_TIMEOUT;
	c->http_refresh_s = EXPORT_DEFAULT_REFRESH;
	c->http_enum_zeros = true;
}

void
config_free_http(struct config *c)
{
	free(c->http_listen);
	free(c->hooks_dnsimple_secret);
}
