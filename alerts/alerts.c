/*
 * The delivery core: every sink pumps the outbox on the one event loop.
 *
 * A sink holds at most one row at a time, the oldest it has not finished
 * with, so order is kept per sink without any queue in memory: the
 * outbox is the queue, and it survives restarts. A failed attempt is
 * recorded (attempts, last_error) and the same row retried after
 * 1, 2, 4, ... seconds, capped at the sink's retry_max; a success moves
 * the sink's cursor past it in the same transaction as the record.
 *
 * An outcome the store cannot record (a full disk) is held in memory and
 * written again, with the same backoff, before the sink delivers anything
 * else: the row is still first in the outbox, and delivering it again
 * would re-run a hook that already ran. Attempts are counted in memory
 * too, so `retries` holds whatever the store's count says.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>

#include "alerts/internal.h"
#include "common/clock.h"
#include "common/log.h"

#define STORE_RETRY_S	5	/* the store could not be read: again in */

static void	pump(struct sink *);

/* ------------------------------------------------------------ config */

void
alerts_config_defaults(struct alerts_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mqtt.port = 1883;
	c->mqtt.topic_prefix = strdup("dnssecmon");
	c->mqtt.keepalive_s = 60;
	c->mqtt.reconnect_max_s = 60;
	c->repeat_s = 86400;
	c->am.resend_s = 60;
	c->am.timeout_s = 10;
	c->am.retry_max_s = 300;
}

void
alerts_config_free(struct alerts_config *c)
{
	size_t		 i;
	unsigned	 k;

	if (c == NULL)
		return;
	free(c->mqtt.host);
	free(c->mqtt.topic_prefix);
	free(c->mqtt.client_id);
	free(c->mqtt.username);
	free(c->mqtt.password);
	free(c->mqtt.ca_file);
	free(c->mqtt.cert_file);
	free(c->mqtt.key_file);
	free(c->mqtt.ha_prefix);
	free(c->instance);
	for (k = 0; k < c->am.n_urls; k++)
		free(c->am.url[k]);
	free(c->am.ca_file);
	for (k = 0; k < c->am.n_headers; k++) {
		free(c->am.header_name[k]);
		free(c->am.header_value[k]);
	}
	for (i = 0; i < c->n_webhooks; i++) {
		free(c->webhooks[i].url);
		free(c->webhooks[i].ca_file);
		for (k = 0; k < c->webhooks[i].n_headers; k++) {
			free(c->webhooks[i].header_name[k]);
			free(c->webhooks[i].header_value[k]);
		}
	}
	free(c->webhooks);
	for (i = 0; i < c->n_exec; i++)
		for (k = 0; k < c->exec[i].argc; k++)
			free(c->exec[i].argv[k]);
	free(c->exec);
	memset(c, 0, sizeof(*c));
}

int
alerts_url_parse(const char *url, bool *https, char *host, size_t hostlen,
    int *port, char *path, size_t pathlen, char *why, size_t whylen)
{
	const char	*p, *end, *colon = NULL;
	size_t		 n;
	long		 v;
	char		*e;

	if (strncmp(url, "http://", 7) == 0) {
		*https = false;
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		*https = true;
		p = url + 8;
	} else {
		snprintf(why, whylen, "'%s' is not an http:// or https:// URL",
		    url);
		return -1;
	}
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)) != NULL) {
		snprintf(why, whylen, "'%s': no user:password@ in the URL "
		    "(send credentials in headers:)", url);
		return -1;
	}
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL) {
			snprintf(why, whylen, "'%s': unclosed [ in the host",
			    url);
			return -1;
		}
		n = (size_t)(rb - p - 1);
		p++;
		if (rb[1] == ':')
			colon = rb + 1;
		else if (rb + 1 != end) {
			snprintf(why, whylen, "'%s': junk after the host", url);
			return -1;
		}
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		n = (size_t)((colon != NULL ? colon : end) - p);
	}
	if (n == 0 || n >= hostlen) {
		snprintf(why, whylen, "'%s' has no host", url);
		return -1;
	}
	memcpy(host, p, n);
	host[n] = '\0';
	*port = *https ? 443 : 80;
	if (colon != NULL) {
		if (colon + 1 == end || strspn(colon + 1, "0123456789") !=
		    (size_t)(end - colon - 1)) {
			snprintf(why, whylen, "'%s': the port must be a number "
			    "from 1 to 65535", url);
			return -1;
		}
		v = strtol(colon + 1, &e, 10);
		if (v < 1 || v > 65535 || e != end) {
			snprintf(why, whylen, "'%s': port %.*s is not from 1 to "
			    "65535", url, (int)(end - colon - 1), colon + 1);
			return -1;
		}
		*port = (int)v;
	}
	/* The fragment is the client's business: not sent. */
	n = strcspn(end, "#");
	if (n == 0)
		snprintf(path, pathlen, "/");
	else if (*end == '?')
		snprintf(path, pathlen, "/%.*s", (int)n, end);
	else
		snprintf(path, pathlen, "%.*s", (int)n, end);
	if (strlen(path) >= pathlen - 1 || strpbrk(url, " \t\r\n") != NULL) {
		snprintf(why, whylen, "'%s': too long, or with blanks", url);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ core */

void
sink_kick(struct sink *s)
{
	static const struct timeval zero = { 0, 0 };

	if (s->kick != NULL)
		evtimer_add(s->kick, &zero);
}

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	pump(arg);
}

static void
retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sink	*s = arg;

	(void)fd; (void)ev;
	s->waiting = false;
	pump(s);
}

static void
backoff(struct sink *s, long seconds)
{
	struct timeval	 tv = { seconds, 0 };

	s->waiting = true;
	evtimer_add(s->retry, &tv);
}

/* Backoff while the store cannot record: 1, 2, 4 ... s, capped. */
static long
store_backoff(struct sink *s)
{
	long	 delay = 1L << (s->store_failures < 20 ? s->store_failures : 20);

	s->store_failures++;
	return delay < s->retry_max_s ? delay : s->retry_max_s;
}

static void
hold_clear(struct sink *s)
{
	free(s->held_error);
	free(s->held_output);
	s->held_error = s->held_output = NULL;
	s->held = false;
}

/* Keep an outcome the store refused; false when even that fails. */
static bool
hold(struct sink *s, enum store_delivery how, const char *error,
    const char *output, time_t now)
{
	hold_clear(s);
	s->held_id = s->row.id;
	memcpy(s->held_ids, s->group, sizeof(s->held_ids));
	s->n_held = s->n_group;
	s->held_how = how;
	s->held_at = now;
	if ((error != NULL && (s->held_error = strdup(error)) == NULL) ||
	    (output != NULL && (s->held_output = strdup(output)) == NULL)) {
		hold_clear(s);
		return false;
	}
	s->held = true;
	return true;
}

/* Write the held outcome again: 0 when written (or none is held). */
static int
hold_flush(struct sink *s)
{
	struct store	*st = s->a->store;

	if (!s->held)
		return 0;
	if (st == NULL || store_delivery_record_many(st, s->held_ids,
	    s->n_held, s->name, s->held_how, s->held_error, s->held_output,
	    s->held_at) == -1)
		return -1;
	log_warnx("%s: the store records again: delivery #%lld recorded; "
	    "delivering again", s->name, (long long)s->held_id);
	hold_clear(s);
	s->store_failures = 0;
	return 0;
}

/* Which daemon speaks: replicas and shards share receivers. Stamped at
 * delivery, not stored: the row is this store's, so this daemon's. */
static void
stamp_instance(struct sink *s)
{
	json_t	*o;
	char	*out;

	if (s->a->instance == NULL ||
	    (o = json_loads(s->row.payload, 0, NULL)) == NULL)
		return;
	if (json_is_object(o) && json_object_set_new(o, "instance",
	    json_string(s->a->instance)) == 0 &&
	    (out = json_dumps(o, JSON_COMPACT)) != NULL) {
		free(s->row.payload);
		s->row.payload = out;
	}
	json_decref(o);
}

/* alerts.group: check: the row and the others its check wrote for the
 * domain go out as one notification. A group that cannot be read goes
 * out row by row, as without the option. */
static void
group(struct sink *s)
{
	char	*p = NULL;

	s->group[0] = s->row.id;
	s->n_group = 1;
	if (!s->a->group_check)
		return;
	if (store_outbox_group(s->a->store, s->name, &s->row, s->group,
	    &s->n_group, &p) == -1) {
		log_warnx("%s: grouping #%lld with its check's other alerts: "
		    "%s; sending it alone", s->name, (long long)s->row.id,
		    store_error(s->a->store));
		s->group[0] = s->row.id;
		s->n_group = 1;
		return;
	}
	if (s->n_group == 0) {
		s->group[0] = s->row.id;
		s->n_group = 1;
	}
	if (p != NULL) {
		free(s->row.payload);
		s->row.payload = p;
		log_debug("%s: #%lld carries %u alerts of one check", s->name,
		    (long long)s->row.id, s->n_group);
	}
}

static void
pump(struct sink *s)
{
	struct store	*st = s->a->store;
	long		 delay;
	int		 rc;

	if (s->busy || s->waiting || st == NULL ||
	    (s->ops->ready != NULL && !s->ops->ready(s)))
		return;
	if (hold_flush(s) == -1) {
		delay = store_backoff(s);
		log_warnx("%s: recording delivery #%lld: %s; delivering "
		    "nothing until it is recorded, again in %ld s", s->name,
		    (long long)s->held_id, store_error(st), delay);
		backoff(s, delay);
		return;
	}
	rc = store_outbox_next(st, s->name, &s->row);
	if (rc == -1) {
		log_warnx("%s: reading the outbox: %s; again in %d s", s->name,
		    store_error(st), STORE_RETRY_S);
		backoff(s, STORE_RETRY_S);
		return;
	}
	if (rc == 0)
		return;		/* nothing waits */
	group(s);
	s->busy = true;
	if (s->row.id != s->attempt_id) {
		s->attempt_id = s->row.id;
		s->attempts = 0;
	}
	if (s->row.attempts > s->attempts)
		s->attempts = s->row.attempts;
	stamp_instance(s);
	log_debug("%s: delivering #%lld (%s, attempt %d)", s->name,
	    (long long)s->row.id, s->row.transition, s->attempts + 1);
	s->ops->deliver(s);
}

void
sink_done(struct sink *s, enum store_delivery how, const char *error,
    const char *output)
{
	struct store	*st = s->a->store;
	long		 delay;
	int		 attempts;
	bool		 recorded = true;
	time_t		 now = clock_now();

	if (!s->busy)
		return;
	attempts = ++s->attempts;
	if (how == STORE_DELIVERY_RETRY && s->max_attempts > 0 &&
	    (unsigned)attempts >= s->max_attempts)
		how = STORE_DELIVERY_GIVEN_UP;
	if (st != NULL && store_delivery_record_many(st, s->group,
	    s->n_group ? s->n_group : 1, s->name, how, error, output,
	    now) == -1) {
		/* Held and written again before anything else goes out; if
		 * we stop first, it goes out again at the next start: a
		 * duplicate rather than a loss. */
		recorded = false;
		if (!hold(s, how, error, output, now))
			log_warnx("%s: out of memory holding delivery #%lld",
			    s->name, (long long)s->row.id);
	}
	switch (how) {
	case STORE_DELIVERY_DONE:
		log_info("%s: delivered #%lld (%s)", s->name,
		    (long long)s->row.id, s->row.transition);
		break;
	case STORE_DELIVERY_GIVEN_UP:
		log_warnx("%s: gave up #%lld (%s) after %d attempt%s: %s",
		    s->name, (long long)s->row.id, s->row.transition, attempts,
		    attempts == 1 ? "" : "s", error ? error : "failed");
		break;
	case STORE_DELIVERY_RETRY:
		break;
	}
	if (how == STORE_DELIVERY_RETRY) {
		delay = 1L << (s->failures < 20 ? s->failures : 20);
		if (delay > s->retry_max_s)
			delay = s->retry_max_s;
		s->failures++;
	} else {
		delay = 0;
		s->failures = 0;
	}
	if (!recorded) {
		long sdelay = store_backoff(s);

		if (sdelay > delay)
			delay = sdelay;
		log_warnx("%s: recording delivery #%lld: %s; delivering "
		    "nothing until it is recorded, again in %ld s", s->name,
		    (long long)s->row.id, store_error(st), delay);
	} else if (how == STORE_DELIVERY_RETRY)
		log_warnx("%s: %s; retrying in %ld s", s->name,
		    error ? error : "delivery failed", delay);
	free(s->row.payload);
	memset(&s->row, 0, sizeof(s->row));
	s->busy = false;
	if (delay > 0) {
		backoff(s, delay);
		return;
	}
	sink_kick(s);
}

/* --------------------------------------------------- sink settings */

static char *
sig_append(char *sig, const char *what)
{
	size_t	 a = sig ? strlen(sig) : 0, b = what ? strlen(what) : 1;
	char	*n;

	if ((n = realloc(sig, a + b + 2)) == NULL) {
		free(sig);
		return NULL;
	}
	snprintf(n + a, b + 2, "%s\x1f", what ? what : "\x1e");
	return n;
}

static char *
sig_int(char *sig, long v)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%ld", v);
	return sig_append(sig, buf);
}

/* Everything a sink was made from, as one string; NULL: no memory. */
static char *
signature(const char *kind, const void *cfg, const char *instance)
{
	char		*s = sig_append(NULL, kind);
	unsigned	 i;

	if (strcmp(kind, "mqtt") == 0) {
		const struct alerts_mqtt_config *m = cfg;

		s = sig_append(s, m->host);
		s = sig_int(s, m->port);
		s = sig_append(s, m->topic_prefix);
		s = sig_append(s, m->client_id);
		s = sig_append(s, m->username);
		s = sig_append(s, m->password);
		s = sig_append(s, m->ca_file);
		s = sig_append(s, m->cert_file);
		s = sig_append(s, m->key_file);
		s = sig_int(s, m->keepalive_s);
		s = sig_int(s, m->reconnect_max_s);
		s = sig_append(s, m->ha_prefix);
		s = sig_append(s, instance);	/* its topics and client id */
	} else if (strcmp(kind, "alertmanager") == 0) {
		const struct alerts_am_config *m = cfg;

		for (i = 0; i < m->n_urls; i++)
			s = sig_append(s, m->url[i]);
		s = sig_int(s, m->resend_s);
		s = sig_int(s, m->timeout_s);
		s = sig_int(s, m->retry_max_s);
		s = sig_append(s, m->ca_file);
		for (i = 0; i < m->n_headers; i++) {
			s = sig_append(s, m->header_name[i]);
			s = sig_append(s, m->header_value[i]);
		}
	} else if (strcmp(kind, "webhook") == 0) {
		const struct alerts_webhook_config *w = cfg;

		s = sig_append(s, w->url);
		s = sig_int(s, w->format);
		s = sig_int(s, w->timeout_s);
		s = sig_int(s, w->retry_max_s);
		s = sig_append(s, w->ca_file);
		s = sig_int(s, w->on);
		for (i = 0; i < w->n_headers; i++) {
			s = sig_append(s, w->header_name[i]);
			s = sig_append(s, w->header_value[i]);
		}
	} else {
		const struct alerts_exec_config *x = cfg;

		for (i = 0; i < x->argc; i++)
			s = sig_append(s, x->argv[i]);
		s = sig_int(s, x->timeout_s);
		s = sig_int(s, x->retries);
		s = sig_int(s, x->on);
	}
	return s;
}

static void
sink_free(struct sink *s)
{
	if (s == NULL)
		return;
	if (s->ops != NULL && s->ops->destroy != NULL)
		s->ops->destroy(s);
	if (s->retry != NULL)
		event_free(s->retry);
	if (s->kick != NULL)
		event_free(s->kick);
	if (s->held)
		log_warnx("%s: delivery #%lld is not recorded; it goes out "
		    "again at the next start", s->name, (long long)s->held_id);
	hold_clear(s);
	free(s->row.payload);
	free(s->signature);
	free(s);
}

static struct sink *
sink_new(struct alerts *a, const char *kind, const char *name,
    const void *cfg, char *err, size_t errlen)
{
	struct sink	*s;
	int		 rc;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->signature = signature(kind, cfg, a->instance)) == NULL ||
	    (s->retry = evtimer_new(a->base, retry_cb, s)) == NULL ||
	    (s->kick = evtimer_new(a->base, kick_cb, s)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		sink_free(s);
		return NULL;
	}
	s->a = a;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->on = STORE_ALERT_ALL;
	s->retry_max_s = 300;
	if (strcmp(kind, "mqtt") == 0)
		rc = mqtt_sink_init(s, cfg, err, errlen);
	else if (strcmp(kind, "webhook") == 0)
		rc = webhook_sink_init(s, cfg, err, errlen);
	else if (strcmp(kind, "alertmanager") == 0)
		rc = am_sink_init(s, cfg, err, errlen);
	else
		rc = exec_sink_init(s, cfg, err, errlen);
	if (rc == -1) {
		sink_free(s);
		return NULL;
	}
	return s;
}

static void
sigchld_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct alerts	*a = arg;
	struct sink	*s;

	(void)sig; (void)ev;
	for (s = a->sinks; s != NULL; s = s->next)
		if (strcmp(s->ops->kind, "exec") == 0)
			exec_sink_sigchld(s);
}

/* Sink i of cfg, in the order mqtt, alertmanager, webhooks, exec. */
static void
pick(const struct alerts_config *cfg, size_t i, const char **kind,
    const char **name, const void **c)
{
	if (cfg->mqtt.host != NULL && i-- == 0) {
		*kind = *name = "mqtt";
		*c = &cfg->mqtt;
	} else if (cfg->am.n_urls > 0 && i-- == 0) {
		*kind = *name = "alertmanager";
		*c = &cfg->am;
	} else if (i < cfg->n_webhooks) {
		*kind = "webhook";
		*c = &cfg->webhooks[i];
		*name = cfg->webhooks[i].name;
	} else {
		*kind = "exec";
		*c = &cfg->exec[i - cfg->n_webhooks];
		*name = cfg->exec[i - cfg->n_webhooks].name;
	}
}

static size_t
count(const struct alerts_config *cfg)
{
	return cfg->n_webhooks + cfg->n_exec + (cfg->mqtt.host != NULL) +
	    (cfg->am.n_urls > 0);
}

/* The sinks cfg asks for, reusing those of `old` whose settings did not
 * change (taken out of *old). */
static struct sink *
build(struct alerts *a, const struct alerts_config *cfg, struct sink **old,
    char *err, size_t errlen)
{
	struct sink	*head = NULL, **tail = &head, *s, **pp;
	const char	*kind, *name;
	const void	*c;
	char		*sig;
	size_t		 i, total = count(cfg);

	for (i = 0; i < total; i++) {
		pick(cfg, i, &kind, &name, &c);
		s = NULL;
		if (old != NULL && (sig = signature(kind, c,
		    a->instance)) != NULL) {
			for (pp = old; *pp != NULL; pp = &(*pp)->next)
				if (strcmp((*pp)->name, name) == 0 &&
				    strcmp((*pp)->signature, sig) == 0) {
					s = *pp;
					*pp = s->next;
					s->next = NULL;
					s->reused = true;
					break;
				}
			free(sig);
		}
		if (s == NULL && (s = sink_new(a, kind, name, c, err,
		    errlen)) == NULL)
			goto fail;
		*tail = s;
		tail = &s->next;
	}
	for (s = head; s != NULL; s = s->next)
		s->reused = false;
	return head;
fail:
	while ((s = head) != NULL) {
		head = s->next;
		/* Reused ones go back where they came from. */
		if (s->reused) {
			s->reused = false;
			s->next = *old;
			*old = s;
		} else
			sink_free(s);
	}
	return NULL;
}

static void
start_all(struct alerts *a)
{
	struct sink	*s;
	time_t		 now = clock_now();

	for (s = a->sinks; s != NULL; s = s->next) {
		if (a->store != NULL && store_sink_register(a->store, s->name,
		    s->on, now) == -1)
			log_warnx("%s: %s", s->name, store_error(a->store));
		sink_kick(s);
	}
}

struct alerts *
alerts_create(struct event_base *base, const struct alerts_config *cfg,
    struct store *store, char *err, size_t errlen)
{
	struct alerts	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "alerts: out of memory");
		return NULL;
	}
	a->base = base;
	a->store = store;
	a->repeat_s = cfg->repeat_s;
	a->group_check = cfg->group_check;
	if (cfg->instance != NULL &&
	    (a->instance = strdup(cfg->instance)) == NULL) {
		snprintf(err, errlen, "alerts: out of memory");
		free(a);
		return NULL;
	}
	if ((a->sigchld = evsignal_new(base, SIGCHLD, sigchld_cb, a)) == NULL ||
	    evsignal_add(a->sigchld, NULL) == -1) {
		snprintf(err, errlen, "alerts: cannot watch SIGCHLD");
		alerts_destroy(a);
		return NULL;
	}
	if (count(cfg) > 0 &&
	    (a->sinks = build(a, cfg, NULL, err, errlen)) == NULL) {
		alerts_destroy(a);
		return NULL;
	}
	start_all(a);
	return a;
}

int
alerts_reconfigure(struct alerts *a, const struct alerts_config *cfg,
    struct store *store, char *err, size_t errlen)
{
	struct sink	*old, *s, *fresh = NULL;
	bool		 same_store = store == a->store;
	char		*instance = NULL, *was;

	if (cfg->instance != NULL &&
	    (instance = strdup(cfg->instance)) == NULL) {
		snprintf(err, errlen, "alerts: out of memory");
		return -1;
	}
	a->repeat_s = cfg->repeat_s;
	a->group_check = cfg->group_check;
	/* New sinks are made with the new name; on failure the old one
	 * comes back with the sinks that keep running. */
	was = a->instance;
	a->instance = instance;

	/* A different database is a different outbox: start afresh. */
	old = same_store ? a->sinks : NULL;
	if (!same_store) {
		while ((s = a->sinks) != NULL) {
			a->sinks = s->next;
			sink_free(s);
		}
		a->store = store;
	}
	a->sinks = NULL;
	if (count(cfg) > 0 &&
	    (fresh = build(a, cfg, &old, err, errlen)) == NULL) {
		a->sinks = old;		/* keep what runs */
		a->instance = was;
		free(instance);
		return -1;
	}
	free(was);
	while ((s = old) != NULL) {
		old = s->next;
		log_info("%s: stopped by reload", s->name);
		sink_free(s);
	}
	a->sinks = fresh;
	start_all(a);
	return 0;
}

void
alerts_after_check(struct alerts *a, const struct probe_result *r,
    const struct store_rotation *open)
{
	struct sink	*s;

	if (a == NULL)
		return;
	for (s = a->sinks; s != NULL; s = s->next) {
		if (s->ops->after_check != NULL)
			s->ops->after_check(s, r, open);
		sink_kick(s);
	}
}

void
alerts_forget_domain(struct alerts *a, const char *domain)
{
	struct sink	*s;

	if (a == NULL)
		return;
	for (s = a->sinks; s != NULL; s = s->next)
		if (s->ops->forget != NULL)
			s->ops->forget(s, domain);
}

void
alerts_set_domains(struct alerts *a, const char *const *names, size_t n,
    bool whole)
{
	struct sink	*s;

	if (a == NULL)
		return;
	for (s = a->sinks; s != NULL; s = s->next)
		if (s->ops->domains != NULL)
			s->ops->domains(s, names, n, whole);
}

void
alerts_on_host_event(struct alerts *a, void (*fn)(void *, const char *,
    const char *, size_t), void *arg)
{
	if (a == NULL)
		return;
	a->host_event_fn = fn;
	a->host_event_arg = arg;
}

int
alerts_publish_host_event(struct alerts *a, const char *zone,
    const char *body, size_t len, char *err, size_t errlen)
{
	struct sink	*s;

	for (s = a != NULL ? a->sinks : NULL; s != NULL; s = s->next)
		if (strcmp(s->ops->kind, "mqtt") == 0)
			return mqtt_sink_host_event(s, zone, body, len, err,
			    errlen);
	snprintf(err, errlen, "no MQTT broker configured to share it with "
	    "other replicas");
	return -1;
}

/* Is anything left that a short wait could still deliver? */
static bool
unfinished(struct alerts *a)
{
	struct sink		*s;
	struct store_outbox_row	 row;
	int			 rc;

	for (s = a->sinks; s != NULL; s = s->next) {
		if (s->busy)
			return true;
		if (s->waiting || a->store == NULL)
			continue;
		if (s->ops->ready != NULL && !s->ops->ready(s) &&
		    (s->ops->connecting == NULL || !s->ops->connecting(s)))
			continue;
		rc = store_outbox_next(a->store, s->name, &row);
		free(row.payload);
		if (rc == 1)
			return true;
	}
	return false;
}

static void
flush_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct alerts	*a = arg;

	(void)fd; (void)ev;
	if (!unfinished(a))
		event_base_loopbreak(a->base);
}

void
alerts_flush(struct alerts *a, int seconds)
{
	struct event	*tick;
	struct timeval	 every = { 0, 100 * 1000 }, limit = { seconds, 0 };

	if (a == NULL || a->sinks == NULL || !unfinished(a))
		return;
	if ((tick = event_new(a->base, -1, EV_PERSIST, flush_tick, a)) == NULL)
		return;
	log_info("stop: delivering pending alerts (at most %d s)", seconds);
	evtimer_add(tick, &every);
	event_base_loopexit(a->base, &limit);
	event_base_dispatch(a->base);
	event_free(tick);
	if (unfinished(a))
		log_warnx("stop: some alerts are still pending; they go out "
		    "at the next start");
}

void
alerts_destroy(struct alerts *a)
{
	struct sink	*s;

	if (a == NULL)
		return;
	while ((s = a->sinks) != NULL) {
		a->sinks = s->next;
		sink_free(s);
	}
	if (a->sigchld != NULL)
		event_free(a->sigchld);
	if (a->dns != NULL)
		evdns_base_free(a->dns, 0);
	free(a->instance);
	free(a);
}
