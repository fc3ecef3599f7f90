/*
 * Configuration of alerting: the alert policy (alerts:) and
 * the sinks, mqtt:, webhooks: and exec:. Everything a sink will need at
 * run time is checked here, so that `dnssecmon run -n` refuses a bad
 * URL, a missing certificate or a hook that cannot be executed with the
 * file and line, instead of the daemon finding out at the first alert.
 */
#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/config_int.h"
#include "cli/nameset.h"
#include "common/file.h"

#define TRANSITIONS	"firing, escalated, reminder, resolved"

/* A file a sink reads at start: it must be a readable, small, regular
 * file now (OpenSSL would read /dev/zero for ever). */
static void
set_file(struct parse *p, char **dst, yaml_node_t *v, const char *key)
{
	const char	*s = want_scalar(p, v, key);
	char		 why[300];

	if (s == NULL)
		return;
	if (file_check(s, FILE_MAX_SMALL, why, sizeof(why)) == -1) {
		err_at(p, v, key, "%s", why);
		return;
	}
	set_str(p, dst, v, key);
}

/* on: [firing, resolved] into STORE_ALERT_* bits; 0 after an error. */
static unsigned
parse_on(struct parse *p, yaml_node_t *v, const char *key)
{
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	const char		*s;
	unsigned		 on = 0, bit;

	if (v->type != YAML_SEQUENCE_NODE) {
		if ((s = scalar(v)) != NULL &&
		    (bit = store_alert_transition_bit(s)) != 0)
			return bit;
		err_at(p, v, key, "expected a list of transitions, e.g. "
		    "[firing, escalated, resolved] (known: " TRANSITIONS ")");
		return 0;
	}
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	    it++) {
		n = yaml_document_get_node(p->doc, *it);
		if ((s = want_scalar(p, n, key)) == NULL)
			return 0;
		if ((bit = store_alert_transition_bit(s)) == 0) {
			err_at(p, n, key, "unknown transition '%s' (known: "
			    TRANSITIONS ")", s);
			return 0;
		}
		on |= bit;
	}
	if (on == 0)
		err_at(p, v, key, "an empty list: the sink would never run");
	return on;
}

/* Sink names are how the store tracks deliveries: unique. The names of
 * the sinks parsed so far are in p->sinks (a scan of both lists per
 * name made 2,000 webhooks take 7 s to check). */
static bool
name_taken(const struct parse *p, const char *name)
{
	return strcmp(name, "mqtt") == 0 || nameset_has(p->sinks, name) ||
	    (strcmp(name, "alertmanager") == 0 &&
	    p->cfg->alerts.am.n_urls > 0);
}

/* The sink just parsed owns its name now. */
static void
name_register(struct parse *p, const yaml_node_t *n, const char *name)
{
	if (name[0] == '\0')
		return;
	if ((p->sinks == NULL && (p->sinks = nameset_create()) == NULL) ||
	    nameset_add(p->sinks, name, 0, NULL) == -1)
		err_at(p, n, NULL, "out of memory");
}

/* A default name, made unique with #2, #3, ... Many sinks in a row on
 * one URL start where the last one ended, not at #2 each time. */
static void
default_name(struct parse *p, char *out, size_t len, const char *base)
{
	char	 try[ALERTS_NAME_MAX];
	int	 i = 2;

	if (strcmp(p->last_base, base) == 0)
		i = p->last_suffix + 1;
	snprintf(try, sizeof(try), "%s", base);
	while (name_taken(p, try)) {
		snprintf(try, sizeof(try), "%.80s#%d", base, i);
		p->last_suffix = i++;
	}
	snprintf(p->last_base, sizeof(p->last_base), "%s", base);
	snprintf(out, len, "%s", try);
}

static void
set_name(struct parse *p, char *out, yaml_node_t *v, const char *key)
{
	const char	*s = want_scalar(p, v, key);

	if (s == NULL)
		return;
	if (strlen(s) >= ALERTS_NAME_MAX)
		err_at(p, v, key, "at most %d characters", ALERTS_NAME_MAX - 1);
	else if (name_taken(p, s))
		err_at(p, v, key, "'%s' names another sink already", s);
	else
		snprintf(out, ALERTS_NAME_MAX, "%s", s);
}

/* ------------------------------------------------------------ mqtt */

static void
parse_mqtt(struct parse *p, yaml_node_t *map)
{
	struct alerts_mqtt_config *m = &p->cfg->alerts.mqtt;
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v, *cert = NULL, *pw = NULL, *hap = NULL;
	const char		*key, *s;
	long			 val;
	bool			 ha_on = false;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "mqtt", "expected a mapping (host, port, "
		    "topic_prefix, ...)");
		return;
	}
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key == NULL)
			err_at(p, k, "mqtt", "keys must be plain words");
		else if (strcmp(key, "host") == 0)
			set_str(p, &m->host, v, "mqtt.host");
		else if (strcmp(key, "port") == 0) {
			if ((val = get_int(p, v, "mqtt.port", 1, 65535)) > 0)
				m->port = (int)val;
		} else if (strcmp(key, "topic_prefix") == 0) {
			if ((s = want_scalar(p, v, "mqtt.topic_prefix")) == NULL)
				continue;
			if (strpbrk(s, "+#") != NULL || s[0] == '/' ||
			    s[strlen(s) - 1] == '/')
				err_at(p, v, "mqtt.topic_prefix", "'%s': no "
				    "wildcards (+ #) and no leading or trailing "
				    "/, e.g. dnssecmon or noc/dns", s);
			else
				set_str(p, &m->topic_prefix, v,
				    "mqtt.topic_prefix");
		} else if (strcmp(key, "client_id") == 0)
			set_str(p, &m->client_id, v, "mqtt.client_id");
		else if (strcmp(key, "username") == 0)
			set_str(p, &m->username, v, "mqtt.username");
		else if (strcmp(key, "password") == 0) {
			set_str(p, &m->password, v, "mqtt.password");
			pw = v;
		} else if (strcmp(key, "ca_file") == 0)
			set_file(p, &m->ca_file, v, "mqtt.ca_file");
		else if (strcmp(key, "cert_file") == 0) {
			set_file(p, &m->cert_file, v, "mqtt.cert_file");
			cert = v;
		} else if (strcmp(key, "key_file") == 0) {
			set_file(p, &m->key_file, v, "mqtt.key_file");
			cert = cert ? cert : v;
		} else if (strcmp(key, "keepalive") == 0) {
			if ((val = get_duration(p, v, "mqtt.keepalive", 5,
			    3600)) > 0)
				m->keepalive_s = (int)val;
		} else if (strcmp(key, "reconnect_max") == 0) {
			if ((val = get_duration(p, v, "mqtt.reconnect_max", 1,
			    3600)) > 0)
				m->reconnect_max_s = val;
		} else if (strcmp(key, "homeassistant") == 0) {
			int b = get_bool(p, v, "mqtt.homeassistant");

			if (b >= 0)
				ha_on = b == 1;
		} else if (strcmp(key, "homeassistant_prefix") == 0) {
			if ((s = want_scalar(p, v,
			    "mqtt.homeassistant_prefix")) == NULL)
				continue;
			if (*s == '\0' || strpbrk(s, "+#") != NULL ||
			    s[0] == '/' || s[strlen(s) - 1] == '/')
				err_at(p, v, "mqtt.homeassistant_prefix", "'%s': "
				    "no wildcards (+ #), not empty, no leading "
				    "or trailing /", s);
			else {
				set_str(p, &m->ha_prefix, v,
				    "mqtt.homeassistant_prefix");
				hap = v;
			}
		} else
			err_at(p, k, "mqtt", "unknown key '%s' (known: host, "
			    "port, topic_prefix, client_id, username, password, "
			    "ca_file, cert_file, key_file, keepalive, "
			    "reconnect_max, homeassistant, "
			    "homeassistant_prefix)", key);
	}
	if (m->host == NULL)
		err_at(p, map, "mqtt.host", "missing: the broker to publish "
		    "to");
	/* A prefix alone does not turn discovery on: say so rather than
	 * publish nothing. */
	if (hap != NULL && !ha_on)
		err_at(p, hap, "mqtt.homeassistant_prefix", "set, but "
		    "homeassistant is not yes");
	if (ha_on && m->ha_prefix == NULL &&
	    (m->ha_prefix = strdup("homeassistant")) == NULL)
		err_at(p, map, "mqtt.homeassistant", "out of memory");
	if (!ha_on) {
		free(m->ha_prefix);
		m->ha_prefix = NULL;
	}
	if (pw != NULL && m->username == NULL)
		err_at(p, pw, "mqtt.password", "given without a username");
	if (cert != NULL && (m->cert_file == NULL) != (m->key_file == NULL))
		err_at(p, cert, "mqtt.cert_file", "a client certificate needs "
		    "both cert_file and key_file");
	if (cert != NULL && m->ca_file == NULL)
		err_at(p, cert, "mqtt.ca_file", "a client certificate needs "
		    "TLS: set ca_file to the broker's CA");
}

/* -------------------------------------------------------- webhooks */

static bool
header_token(const char *s)
{
	return *s != '\0' && strspn(s, "!#$%&'*+-.^_`|~0123456789"
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
	    strlen(s);
}

static void
parse_headers(struct parse *p, unsigned *n_headers, char **hname,
    char **hvalue, yaml_node_t *map, const char *where)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*name, *value;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, where, "expected a mapping, e.g. "
		    "{Authorization: \"Bearer TOKEN\"}");
		return;
	}
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		if ((name = scalar(k)) == NULL || !header_token(name)) {
			err_at(p, k, where, "not a header name");
			continue;
		}
		if (!strcasecmp(name, "Host") ||
		    !strcasecmp(name, "Content-Length") ||
		    !strcasecmp(name, "Connection")) {
			err_at(p, k, where, "%s is set by "
			    "dnssecmon", name);
			continue;
		}
		if ((value = want_scalar(p, v, where)) == NULL)
			continue;
		if (strpbrk(value, "\r\n") != NULL) {
			err_at(p, v, where, "a header value on one "
			    "line");
			continue;
		}
		if (*n_headers >= ALERTS_MAX_HEADERS) {
			err_at(p, k, where, "at most %d headers",
			    ALERTS_MAX_HEADERS);
			return;
		}
		hname[*n_headers] = strdup(name);
		hvalue[*n_headers] = strdup(value);
		(*n_headers)++;
	}
}

static void
parse_webhook(struct parse *p, yaml_node_t *n, struct alerts_webhook_config *w)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v, *urlnode = NULL;
	const char		*key, *s;
	char			 host[256], path[2048], why[300], base[256];
	bool			 https;
	int			 port;
	long			 val;

	w->line = (int)n->start_mark.line + 1;
	w->format = ALERTS_FORMAT_JSON;
	w->timeout_s = 10;
	w->retry_max_s = 300;
	w->on = STORE_ALERT_ALL;
	if (scalar(n) != NULL) {
		urlnode = n;	/* - https://example.net/hook */
		set_str(p, &w->url, n, "webhooks.url");
	} else if (n->type != YAML_MAPPING_NODE) {
		err_at(p, n, "webhooks", "expected a URL or a mapping with url:");
		return;
	} else
		MAP_FOREACH(p->doc, n, pair) {
			k = yaml_document_get_node(p->doc, pair->key);
			v = yaml_document_get_node(p->doc, pair->value);
			key = scalar(k);
			if (key == NULL)
				err_at(p, k, "webhooks", "keys must be plain "
				    "words");
			else if (strcmp(key, "url") == 0) {
				set_str(p, &w->url, v, "webhooks.url");
				urlnode = v;
			} else if (strcmp(key, "name") == 0)
				set_name(p, w->name, v, "webhooks.name");
			else if (strcmp(key, "format") == 0) {
				if ((s = want_scalar(p, v,
				    "webhooks.format")) == NULL)
					continue;
				if (strcmp(s, "json") == 0)
					w->format = ALERTS_FORMAT_JSON;
				else if (strcmp(s, "alertmanager") == 0)
					w->format = ALERTS_FORMAT_ALERTMANAGER;
				else
					err_at(p, v, "webhooks.format", "'%s': "
					    "expected json or alertmanager", s);
			} else if (strcmp(key, "timeout") == 0) {
				if ((val = get_duration(p, v,
				    "webhooks.timeout", 1, 300)) > 0)
					w->timeout_s = val;
			} else if (strcmp(key, "retry_max") == 0) {
				if ((val = get_duration(p, v,
				    "webhooks.retry_max", 1, 86400)) > 0)
					w->retry_max_s = val;
			} else if (strcmp(key, "ca_file") == 0)
				set_file(p, &w->ca_file, v, "webhooks.ca_file");
			else if (strcmp(key, "headers") == 0)
				parse_headers(p, &w->n_headers, w->header_name,
				    w->header_value, v, "webhooks.headers");
			else if (strcmp(key, "on") == 0)
				w->on = parse_on(p, v, "webhooks.on");
			else
				err_at(p, k, "webhooks", "unknown key '%s' "
				    "(known: url, name, format, timeout, "
				    "retry_max, ca_file, headers, on)", key);
		}
	if (w->url == NULL) {
		err_at(p, n, "webhooks.url", "missing: where to POST");
		return;
	}
	if (alerts_url_parse(w->url, &https, host, sizeof(host), &port, path,
	    sizeof(path), why, sizeof(why)) == -1) {
		err_at(p, urlnode, "webhooks.url", "%s", why);
		return;
	}
	if (w->ca_file != NULL && !https)
		err_at(p, urlnode, "webhooks.ca_file", "given for an http:// "
		    "URL: use https://");
	if (w->name[0] == '\0') {
		/* Host and path, not the query: it may hold a token. */
		path[strcspn(path, "?")] = '\0';
		snprintf(base, sizeof(base), "webhook:%s%s", host, path);
		default_name(p, w->name, sizeof(w->name), base);
	}
}

static void
parse_webhooks(struct parse *p, yaml_node_t *seq)
{
	struct alerts_config	*a = &p->cfg->alerts;
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	size_t			 count;

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(p, seq, "webhooks", "expected a list, e.g. "
		    "[{url: https://example.net/hook}]");
		return;
	}
	count = (size_t)(seq->data.sequence.items.top -
	    seq->data.sequence.items.start);
	if ((a->webhooks = calloc(count ? count : 1,
	    sizeof(*a->webhooks))) == NULL) {
		err_at(p, seq, "webhooks", "out of memory");
		return;
	}
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		n = yaml_document_get_node(p->doc, *it);
		parse_webhook(p, n, &a->webhooks[a->n_webhooks]);
		name_register(p, n, a->webhooks[a->n_webhooks].name);
		a->n_webhooks++;	/* freed with the rest, even if bad */
	}
}

/* ---------------------------------------------------- alertmanager */

/* One peer's URL, n a scalar; false after an error. */
static bool
add_am_url(struct parse *p, struct alerts_am_config *m, yaml_node_t *n)
{
	const char	*u;
	char		 host[256], path[2048], why[300];
	bool		 https;
	int		 port;
	unsigned	 i;

	if ((u = want_scalar(p, n, "alertmanager.urls")) == NULL)
		return false;
	if (m->n_urls >= ALERTS_AM_MAX_URLS) {
		err_at(p, n, "alertmanager.urls", "at most %d peers",
		    ALERTS_AM_MAX_URLS);
		return false;
	}
	if (alerts_am_url(u, &https, host, sizeof(host), &port, path,
	    sizeof(path), why, sizeof(why)) == -1) {
		err_at(p, n, "alertmanager.urls", "%s", why);
		return false;
	}
	for (i = 0; i < m->n_urls; i++)
		if (strcmp(m->url[i], u) == 0) {
			err_at(p, n, "alertmanager.urls", "'%s' is listed "
			    "twice", u);
			return false;
		}
	if ((m->url[m->n_urls] = strdup(u)) == NULL) {
		err_at(p, n, "alertmanager.urls", "out of memory");
		return false;
	}
	m->n_urls++;
	return true;
}

static void
parse_am_urls(struct parse *p, struct alerts_am_config *m, yaml_node_t *v)
{
	yaml_node_item_t	*it;

	if (scalar(v) != NULL) {
		add_am_url(p, m, v);
		return;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		err_at(p, v, "alertmanager.urls", "expected a list of the "
		    "cluster's peers, e.g. [http://am1:9093, http://am2:9093]");
		return;
	}
	for (it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++)
		if (!add_am_url(p, m, yaml_document_get_node(p->doc, *it)))
			return;
}

static void
parse_am(struct parse *p, yaml_node_t *map)
{
	struct alerts_am_config	*m = &p->cfg->alerts.am;
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v, *ca = NULL;
	const char		*key;
	unsigned		 i;
	long			 val;
	bool			 https = false;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "alertmanager", "expected a mapping (urls, "
		    "resend, timeout, retry_max, ca_file, headers)");
		return;
	}
	m->line = (int)map->start_mark.line + 1;
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key == NULL)
			err_at(p, k, "alertmanager", "keys must be plain words");
		else if (strcmp(key, "urls") == 0)
			parse_am_urls(p, m, v);
		else if (strcmp(key, "resend") == 0) {
			if ((val = get_duration(p, v, "alertmanager.resend", 5,
			    3600)) > 0)
				m->resend_s = val;
		} else if (strcmp(key, "timeout") == 0) {
			if ((val = get_duration(p, v, "alertmanager.timeout",
			    1, 300)) > 0)
				m->timeout_s = val;
		} else if (strcmp(key, "retry_max") == 0) {
			if ((val = get_duration(p, v, "alertmanager.retry_max",
			    1, 86400)) > 0)
				m->retry_max_s = val;
		} else if (strcmp(key, "ca_file") == 0) {
			set_file(p, &m->ca_file, v, "alertmanager.ca_file");
			ca = v;
		} else if (strcmp(key, "headers") == 0)
			parse_headers(p, &m->n_headers, m->header_name,
			    m->header_value, v, "alertmanager.headers");
		else
			err_at(p, k, "alertmanager", "unknown key '%s' (known: "
			    "urls, resend, timeout, retry_max, ca_file, "
			    "headers)", key);
	}
	if (m->n_urls == 0)
		err_at(p, map, "alertmanager.urls", "missing: the peers of the "
		    "Alertmanager cluster, e.g. [http://am1:9093]");
	/* The sink's name in the database (a webhook named so before would
	 * share its cursor). */
	else if (nameset_has(p->sinks, "alertmanager"))
		err_at(p, map, "alertmanager", "another sink is named "
		    "'alertmanager': rename it (name:)");
	for (i = 0; i < m->n_urls; i++)
		https |= strncmp(m->url[i], "https://", 8) == 0;
	if (ca != NULL && !https)
		err_at(p, ca, "alertmanager.ca_file", "given, but no URL is "
		    "https://");
}

/* ------------------------------------------------------------ exec */

static void
parse_command(struct parse *p, yaml_node_t *v, struct alerts_exec_config *x)
{
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	const char		*s;
	struct stat		 sb;

	if ((s = scalar(v)) != NULL) {
		if (strpbrk(s, " \t") != NULL) {
			err_at(p, v, "exec.command", "'%s': give the program "
			    "and its arguments as a list, e.g. [/usr/local/"
			    "bin/hook, --flag]: no shell splits it", s);
			return;
		}
		if ((x->argv[0] = dup_scalar(p, v, "exec.command")) != NULL)
			x->argc = 1;
	} else if (v->type == YAML_SEQUENCE_NODE) {
		for (it = v->data.sequence.items.start;
		    it < v->data.sequence.items.top; it++) {
			n = yaml_document_get_node(p->doc, *it);
			if (x->argc >= ALERTS_MAX_ARGS) {
				err_at(p, n, "exec.command", "at most %d "
				    "arguments", ALERTS_MAX_ARGS);
				return;
			}
			if ((s = scalar(n)) == NULL) {
				err_at(p, n, "exec.command", "each argument "
				    "is a single value");
				return;
			}
			if ((x->argv[x->argc] = strdup(s)) == NULL)
				return;
			x->argc++;
		}
	}
	if (x->argc == 0 || x->argv[0][0] == '\0') {
		err_at(p, v, "exec.command", "expected [/absolute/path, "
		    "argument, ...]");
		return;
	}
	s = x->argv[0];
	if (s[0] != '/')
		err_at(p, v, "exec.command", "'%s' is not an absolute path "
		    "(no PATH search, no shell)", s);
	else if (stat(s, &sb) == -1)
		err_at(p, v, "exec.command", "%s: %s", s, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		err_at(p, v, "exec.command", "%s: not a regular file", s);
	else if (access(s, X_OK) == -1)
		err_at(p, v, "exec.command", "%s: not executable: %s", s,
		    strerror(errno));
}

static void
parse_hook(struct parse *p, yaml_node_t *n, struct alerts_exec_config *x)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key;
	char			 base[ALERTS_NAME_MAX], tmp[PATH_MAX];
	long			 val;
	bool			 have_cmd = false;

	x->line = (int)n->start_mark.line + 1;
	x->timeout_s = 30;
	x->retries = 0;
	/* A registrar script run on a reminder would repeat itself. */
	x->on = STORE_ALERT_FIRING | STORE_ALERT_ESCALATED |
	    STORE_ALERT_RESOLVED;
	if (n->type != YAML_MAPPING_NODE) {
		err_at(p, n, "exec", "expected a mapping with command:, e.g. "
		    "{command: [/usr/local/bin/hook], on: [firing]}");
		return;
	}
	MAP_FOREACH(p->doc, n, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key == NULL)
			err_at(p, k, "exec", "keys must be plain words");
		else if (strcmp(key, "command") == 0) {
			parse_command(p, v, x);
			have_cmd = true;
		} else if (strcmp(key, "name") == 0)
			set_name(p, x->name, v, "exec.name");
		else if (strcmp(key, "on") == 0)
			x->on = parse_on(p, v, "exec.on");
		else if (strcmp(key, "timeout") == 0) {
			if ((val = get_duration(p, v, "exec.timeout", 1,
			    3600)) > 0)
				x->timeout_s = val;
		} else if (strcmp(key, "retries") == 0) {
			if ((val = get_int(p, v, "exec.retries", 0, 10)) >= 0)
				x->retries = (unsigned)val;
		} else
			err_at(p, k, "exec", "unknown key '%s' (known: command, "
			    "name, on, timeout, retries)", key);
	}
	if (!have_cmd) {
		err_at(p, n, "exec.command", "missing: the program to run");
		return;
	}
	if (x->name[0] == '\0' && x->argc > 0) {
		snprintf(tmp, sizeof(tmp), "%s", x->argv[0]);
		snprintf(base, sizeof(base), "exec:%.80s", basename(tmp));
		default_name(p, x->name, sizeof(x->name), base);
	}
}

static void
parse_exec(struct parse *p, yaml_node_t *seq)
{
	struct alerts_config	*a = &p->cfg->alerts;
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	size_t			 count;

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(p, seq, "exec", "expected a list, e.g. "
		    "[{command: [/usr/local/bin/hook], on: [firing]}]");
		return;
	}
	count = (size_t)(seq->data.sequence.items.top -
	    seq->data.sequence.items.start);
	if ((a->exec = calloc(count ? count : 1, sizeof(*a->exec))) == NULL) {
		err_at(p, seq, "exec", "out of memory");
		return;
	}
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		n = yaml_document_get_node(p->doc, *it);
		parse_hook(p, n, &a->exec[a->n_exec]);
		name_register(p, n, a->exec[a->n_exec].name);
		a->n_exec++;
	}
}

/* ---------------------------------------------------------- policy */

static void
parse_policy(struct parse *p, yaml_node_t *map)
{
	struct store_policy	*pol = &p->cfg->policy;
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key;
	long			 val;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "alerts", "expected a mapping (fire_after_checks, "
		    "fire_after, repeat, group)");
		return;
	}
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key == NULL)
			err_at(p, k, "alerts", "keys must be plain words");
		else if (strcmp(key, "fire_after_checks") == 0) {
			if ((val = get_int(p, v, "alerts.fire_after_checks", 1,
			    100)) > 0)
				pol->alert_fire_after_checks = (int)val;
		} else if (strcmp(key, "fire_after") == 0) {
			if ((val = get_duration(p, v, "alerts.fire_after", 0,
			    7 * 86400L)) >= 0)
				pol->alert_fire_after_s = val;
		} else if (strcmp(key, "repeat") == 0) {
			if ((val = get_duration(p, v, "alerts.repeat", 0,
			    30 * 86400L)) >= 0) {
				if (val > 0 && val < 60)
					err_at(p, v, "alerts.repeat", "at least "
					    "60s (or 0: no reminders)");
				else
					pol->alert_repeat_s =
					    p->cfg->alerts.repeat_s = val;
			}
		} else if (strcmp(key, "group") == 0) {
			const char *s = want_scalar(p, v, "alerts.group");

			if (s == NULL)
				continue;
			if (strcmp(s, "check") == 0)
				p->cfg->alerts.group_check = true;
			else if (strcmp(s, "none") == 0)
				p->cfg->alerts.group_check = false;
			else
				err_at(p, v, "alerts.group", "'%s': expected "
				    "check (one notification per check and "
				    "domain) or none", s);
		} else
			err_at(p, k, "alerts", "unknown key '%s' (known: "
			    "fire_after_checks, fire_after, repeat, group)",
			    key);
	}
}

/* ------------------------------------------------------------ entry */

bool
config_parse_alerts_key(struct parse *p, const char *key, yaml_node_t *k,
    yaml_node_t *v)
{
	(void)k;
	if (strcmp(key, "mqtt") == 0)
		parse_mqtt(p, v);
	else if (strcmp(key, "webhooks") == 0)
		parse_webhooks(p, v);
	else if (strcmp(key, "alertmanager") == 0)
		parse_am(p, v);
	else if (strcmp(key, "exec") == 0)
		parse_exec(p, v);
	else if (strcmp(key, "alerts") == 0)
		parse_policy(p, v);
	else
		return false;
	return true;
}

void
config_defaults_alerts(struct config *c)
{
	alerts_config_defaults(&c->alerts);
}

void
config_free_alerts(struct config *c)
{
	alerts_config_free(&c->alerts);
}
