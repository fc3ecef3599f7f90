/*
 * The MQTT sink: libmosquitto without its thread. Its socket is watched
 * by the daemon's event loop (read always, write while it has something
 * queued), and a one-second timer runs mosquitto_loop_misc() for the
 * keepalive. Reconnects back off 1, 2, 4, ... s up to reconnect_max.
 *
 * Topics (PREFIX is topic_prefix):
 *   PREFIX/alerts                 every alert transition, QoS 1, in order:
 *                                 one at a time, the next only after the
 *                                 broker's PUBACK of the previous
 *   PREFIX/domain/DOMAIN/state    the domain's state, QoS 1, retained,
 *                                 published when it changes and again on
 *                                 every (re)connect
 *   PREFIX/host-events/ZONE       a DNS host's webhook as received by one
 *                                 replica, QoS 1, not retained; every
 *                                 daemon subscribes (a persistent session
 *                                 when its client id is stable, so what
 *                                 is published while it is away waits at
 *                                 the broker) and records it too
 *   PREFIX/status/INSTANCE        "online" retained on connect; "offline"
 *                                 retained as the Last Will and at stop;
 *                                 one topic per daemon (its instance
 *                                 name), so that the replicas and shards
 *                                 on one broker each keep their own
 *   HA/sensor/NODE/OBJECT/config  with homeassistant: yes, Home
 *                                 Assistant MQTT discovery: three sensors
 *                                 a domain (severity, rotation state,
 *                                 registrar deadline) reading the state
 *                                 topic, retained, before the domain's
 *                                 first state on every connection;
 *                                 emptied (retained, QoS 1) when the
 *                                 domain leaves this daemon, which
 *                                 removes the entities
 *   HA/sensor/NODE/+/config       subscribed (QoS 0) on every connection
 *                                 once the domain set is whole: the
 *                                 broker hands back the configs this
 *                                 daemon left retained, and those of a
 *                                 domain it no longer monitors (dropped
 *                                 while it was stopped) are emptied as
 *                                 above. The subscription stays for the
 *                                 connection: its end is never guessed
 *                                 from a timer or from the SUBACK, whose
 *                                 place among the retained messages
 *                                 brokers differ on; what it costs is our
 *                                 own discovery configs coming back, not
 *                                 retained, and dropped on arrival.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <mosquitto.h>

#include "alerts/internal.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/log.h"

#define PUBACK_WAIT_S	30	/* connected, no PUBACK: publish again */
#define STATE_BUCKETS	1024
#define SHORT_LIVED_S	10	/* a connection lost this soon ... */
#define SHORT_LIVED_WARN 3	/* ... this many times in a row: say why */
#define HA_CONFIG_MAX	(64 * 1024)	/* a retained discovery config read
					   back, bytes: ours are < 2 KiB */
#define HA_LOG_NAMES	20	/* domains named per connection */

struct dstate {
	struct dstate	*next;
	bool		 ha_sent;	/* discovery on this connection */
	char		*domain;
	char		*content;	/* without the time: to see a change */
	char		*message;	/* as published */
};

struct mqtt {
	struct sink		*s;
	struct mosquitto	*mosq;
	char			*host;
	int			 port, keepalive;
	char			*prefix;
	char			*ha_prefix;	/* NULL: no HA discovery */
	char			 ha_node[96];	/* dnssecmon[_INSTANCE] */
	char			 status[256];	/* PREFIX/status/INSTANCE */
	long			 reconnect_max;
	int			 fd;
	struct event		*rev, *wev, *misc, *reconnect;
	bool			 started;	/* connect_async done once */
	bool			 connected;	/* CONNACK accepted */
	bool			 connecting;
	bool			 stopping;	/* no reconnect from here on */
	unsigned		 failures;
	time_t			 connected_at;	/* monotonic seconds */
	unsigned		 short_lived;	/* connections lost soon
						   after they were made */
	char			 id[128];	/* client id */
	int			 inflight_mid;	/* -1: none */
	time_t			 inflight_since; /* monotonic seconds */
	struct dstate		*states[STATE_BUCKETS];
	/* The monitored domains, to tell a stale discovery config from
	 * ours: FNV-1a of each one's slug (ha_slug), sorted. A collision
	 * keeps a config that should go, never the reverse. */
	uint64_t		*ha_known;
	size_t			 n_ha_known;
	bool			 ha_whole;	/* ha_known is every domain */
	bool			 ha_subscribed;	/* read back on this connection */
	bool			 ha_waiting;	/* for a whole set: said once */
	int			 ha_sub_mid;
	unsigned		 ha_cleared;	/* domains, this connection */
};

static int	lib_users;

static time_t
mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void	watch(struct mqtt *);
static void	schedule_reconnect(struct mqtt *, const char *why);

static const char *
mqtt_error(int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

/* Write interest follows what libmosquitto has queued. */
static void
update_write(struct mqtt *m)
{
	if (m->wev == NULL)
		return;
	if (mosquitto_want_write(m->mosq))
		event_add(m->wev, NULL);
	else
		event_del(m->wev);
}

static void
unwatch(struct mqtt *m)
{
	if (m->rev != NULL)
		event_free(m->rev);
	if (m->wev != NULL)
		event_free(m->wev);
	m->rev = m->wev = NULL;
	m->fd = -1;
}

/* After every call into libmosquitto: the socket may have gone (or,
 * after a reconnect, be a new one). */
static void
after_io(struct mqtt *m)
{
	int	 fd = mosquitto_socket(m->mosq);

	if (fd != m->fd) {
		unwatch(m);
		if (fd >= 0)
			watch(m);
	}
	update_write(m);
}

static void
on_read(evutil_socket_t fd, short ev, void *arg)
{
	struct mqtt	*m = arg;

	(void)fd; (void)ev;
	mosquitto_loop_read(m->mosq, 1);
	after_io(m);
}

static void
on_write(evutil_socket_t fd, short ev, void *arg)
{
	struct mqtt	*m = arg;

	(void)fd; (void)ev;
	mosquitto_loop_write(m->mosq, 1);
	after_io(m);
}

static void
watch(struct mqtt *m)
{
	struct event_base	*base = m->s->a->base;

	m->fd = mosquitto_socket(m->mosq);
	if (m->fd < 0)
		return;
	m->rev = event_new(base, m->fd, EV_READ | EV_PERSIST, on_read, m);
	m->wev = event_new(base, m->fd, EV_WRITE | EV_PERSIST, on_write, m);
	if (m->rev == NULL || m->wev == NULL) {
		log_warnx("%s: out of memory", m->s->name);
		unwatch(m);
		return;
	}
	event_add(m->rev, NULL);
	update_write(m);
}

static void
do_connect(evutil_socket_t fd, short ev, void *arg)
{
	struct mqtt	*m = arg;
	int		 rc;

	(void)fd; (void)ev;
	errno = 0;
	if (!m->started)
		rc = mosquitto_connect_async(m->mosq, m->host, m->port,
		    m->keepalive);
	else
		rc = mosquitto_reconnect_async(m->mosq);
	m->started = true;
	if (rc != MOSQ_ERR_SUCCESS) {
		schedule_reconnect(m, mqtt_error(rc));
		return;
	}
	m->connecting = true;
	after_io(m);
}

static void
schedule_reconnect(struct mqtt *m, const char *why)
{
	long		 delay;
	struct timeval	 tv;

	m->connecting = false;
	delay = 1L << (m->failures < 16 ? m->failures : 16);
	if (delay > m->reconnect_max)
		delay = m->reconnect_max;
	m->failures++;
	log_warnx("%s: %s:%d: %s; reconnecting in %ld s", m->s->name, m->host,
	    m->port, why, delay);
	tv.tv_sec = delay;
	tv.tv_usec = 0;
	evtimer_add(m->reconnect, &tv);
}

/* PREFIX/WHAT/DOMAIN[SUFFIX] into buf. */
static const char *
domain_topic(struct mqtt *m, const char *what, const char *domain,
    const char *suffix, char *buf, size_t len)
{
	size_t	 i, n;

	n = (size_t)snprintf(buf, len, "%s/%s/", m->prefix, what);
	for (i = 0; domain[i] && n + 1 < len; i++)
		/* Wildcards cannot be published to, and a '/' would make
		 * another level. */
		buf[n++] = domain[i] == '+' || domain[i] == '#' ||
		    domain[i] == '/' ? '_' : domain[i];
	buf[n] = '\0';
	snprintf(buf + n, len - n, "%s", suffix);
	return buf;
}

static const char *
state_topic(struct mqtt *m, const char *domain, char *buf, size_t len)
{
	return domain_topic(m, "domain", domain, "/state", buf, len);
}

/* [a-z0-9_-] only: what Home Assistant accepts in an object or node id. */
static void
ha_slug(const char *s, char *out, size_t len)
{
	size_t	 n = 0;

	for (; *s && n + 1 < len; s++)
		out[n++] = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' ? *s : (*s >= 'A' && *s <= 'Z') ? (char)(*s -
		    'A' + 'a') : '_';
	out[n] = '\0';
}

/* The sensors a domain gets in Home Assistant, all read from its
 * retained state topic (the attributes too: problems, DS records). */
static const struct {
	const char	*key, *name, *tmpl, *device_class, *icon;
} ha_sensors[] = {
	{ "severity", "DNSSEC severity", "{{ value_json.severity }}", NULL,
	  "mdi:shield-key" },
	{ "state", "DNSSEC rotation state", "{{ value_json.state }}", NULL,
	  "mdi:key-change" },
	{ "deadline", "Registrar deadline", "{{ value_json.deadline }}",
	  "timestamp", "mdi:calendar-clock" },
};

#define HA_SENSORS	(sizeof(ha_sensors) / sizeof(ha_sensors[0]))

/* HA/sensor/NODE/SLUG_KEY/config: sensor i of the domain whose slug it
 * is (ha_slug). */
static const char *
ha_topic(struct mqtt *m, const char *slug, size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/sensor/%s/%s_%s/config", m->ha_prefix,
	    m->ha_node, slug, ha_sensors[i].key);
	return buf;
}

static void
publish_discovery(struct mqtt *m, struct dstate *d)
{
	char		 topic[512], slug[PROBE_NAME_MAX + 1], uid[512];
	char		 st[PROBE_NAME_MAX + 128], *body;
	json_t		*o, *dev;
	size_t		 i;
	int		 rc;

	ha_slug(d->domain, slug, sizeof(slug));
	state_topic(m, d->domain, st, sizeof(st));
	for (i = 0; i < HA_SENSORS; i++) {
		ha_topic(m, slug, i, topic, sizeof(topic));
		snprintf(uid, sizeof(uid), "%s_%s_%s", m->ha_node, slug,
		    ha_sensors[i].key);
		dev = json_pack("{s:[s+++], s:s, s:s, s:s, s:s}",
		    "identifiers", m->ha_node, "_", slug, "", "name", d->domain,
		    "manufacturer", "dnssecmon", "model", "DNSSEC monitor",
		    "sw_version", DNSSECMON_VERSION);
		o = json_pack("{s:s++, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
		    "s:s, s:o}", "name", d->domain, " ", ha_sensors[i].name,
		    "unique_id", uid, "object_id", uid, "state_topic", st,
		    "json_attributes_topic", st, "value_template",
		    ha_sensors[i].tmpl, "availability_topic", m->status,
		    "payload_available", "online", "payload_not_available",
		    "offline", "device", dev);
		if (o != NULL && ha_sensors[i].device_class != NULL)
			json_object_set_new(o, "device_class",
			    json_string(ha_sensors[i].device_class));
		if (o != NULL)
			json_object_set_new(o, "icon",
			    json_string(ha_sensors[i].icon));
		body = o != NULL ? json_dumps(o, JSON_COMPACT |
		    JSON_SORT_KEYS) : NULL;
		json_decref(o);
		if (body == NULL) {
			log_warnx("%s: %s: out of memory for its Home Assistant "
			    "discovery", m->s->name, d->domain);
			return;
		}
		rc = mosquitto_publish(m->mosq, NULL, topic, (int)strlen(body),
		    body, 1, true);
		free(body);
		if (rc != MOSQ_ERR_SUCCESS) {
			log_warnx("%s: publishing the Home Assistant discovery "
			    "of %s: %s", m->s->name, d->domain, mqtt_error(rc));
			return;
		}
	}
	d->ha_sent = true;
}

static void
publish_state(struct mqtt *m, struct dstate *d)
{
	char	 topic[PROBE_NAME_MAX + 128];
	int	 rc;

	/* The sensor must exist before its first state, or Home Assistant
	 * misses the retained state until the next change. */
	if (m->ha_prefix != NULL && !d->ha_sent)
		publish_discovery(m, d);
	rc = mosquitto_publish(m->mosq, NULL, state_topic(m, d->domain, topic,
	    sizeof(topic)), (int)strlen(d->message), d->message, 1, true);
	if (rc != MOSQ_ERR_SUCCESS)
		log_warnx("%s: publishing the state of %s: %s", m->s->name,
		    d->domain, mqtt_error(rc));
}

static int
hash_cmp(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool
ha_monitored(struct mqtt *m, const char *slug)
{
	uint64_t	 h = hash_fnv1a_str(slug);

	return m->n_ha_known > 0 && bsearch(&h, m->ha_known, m->n_ha_known,
	    sizeof(h), hash_cmp) != NULL;
}

/*
 * Read back what this daemon left retained under its node, once per
 * connection, and only once the domain set is whole: before that, a
 * domain of a catalog not yet transferred would look dropped, and
 * clearing it would take its entity (and what the user set on it) out
 * of Home Assistant. A subscription, even one kept in the persistent
 * session, is sent again: on every SUBSCRIBE the broker hands back the
 * retained messages (MQTT 3.1.1, 3.8.4).
 */
static void
ha_read_back(struct mqtt *m)
{
	char	 topic[512];
	int	 rc;

	if (m->ha_prefix == NULL || !m->connected || m->ha_subscribed)
		return;
	if (!m->ha_whole) {
		if (!m->ha_waiting)
			log_info("%s: the domain set is not whole (a catalog "
			    "not transferred yet): the Home Assistant discovery "
			    "of domains dropped while stopped is cleared once it "
			    "is", m->s->name);
		m->ha_waiting = true;
		return;
	}
	snprintf(topic, sizeof(topic), "%s/sensor/%s/+/config", m->ha_prefix,
	    m->ha_node);
	/* QoS 0: nothing is kept for us at the broker while we are away. */
	rc = mosquitto_subscribe(m->mosq, &m->ha_sub_mid, topic, 0);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warnx("%s: subscribing to %s: %s", m->s->name, topic,
		    mqtt_error(rc));
		return;
	}
	m->ha_subscribed = true;
	m->ha_waiting = false;
	m->ha_cleared = 0;
}

/* The slug of OBJECT (SLUG_KEY, KEY one of ha_sensors) into slug; false
 * when it is not one of the sensors this version publishes. */
static bool
ha_object_slug(const char *obj, size_t len, char *slug, size_t slen,
    size_t *sensor)
{
	size_t	 i, k;

	for (i = 0; i < HA_SENSORS; i++) {
		k = strlen(ha_sensors[i].key);
		if (len > k + 1 && len - k - 1 < slen && obj[len - k - 1] ==
		    '_' && memcmp(obj + len - k, ha_sensors[i].key, k) == 0) {
			memcpy(slug, obj, len - k - 1);
			slug[len - k - 1] = '\0';
			*sensor = i;
			return true;
		}
	}
	return false;
}

/*
 * A discovery config the broker handed back (ha_read_back). Emptied when
 * it names a domain not monitored and was published by this daemon: its
 * availability topic is this daemon's status topic, which holds the
 * instance name exactly (two names can share a node id: "noc.1" and
 * "noc_1"). Our own publications come back too, not retained: skipped.
 */
static void
ha_handed_back(struct mqtt *m, const struct mosquitto_message *msg,
    size_t prefix_len)
{
	const char	*obj = msg->topic + prefix_len, *end, *avail, *name;
	char		 slug[PROBE_NAME_MAX + 1];
	size_t		 sensor;
	json_t		*o = NULL;
	int		 rc;

	if (!msg->retain || msg->payloadlen <= 0)
		return;
	if (!m->ha_whole) {
		/* A reload added a catalog since: read back again later. */
		m->ha_subscribed = false;
		return;
	}
	if ((end = strchr(obj, '/')) == NULL || strcmp(end, "/config") != 0 ||
	    !ha_object_slug(obj, (size_t)(end - obj), slug, sizeof(slug),
	    &sensor) || ha_monitored(m, slug))
		return;
	if (msg->payloadlen > HA_CONFIG_MAX ||
	    (o = json_loadb(msg->payload, (size_t)msg->payloadlen, 0,
	    NULL)) == NULL ||
	    (avail = json_string_value(json_object_get(o,
	    "availability_topic"))) == NULL || strcmp(avail, m->status) != 0)
		goto out;	/* not this daemon's */
	rc = mosquitto_publish(m->mosq, NULL, msg->topic, 0, NULL, 1, true);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warnx("%s: clearing the stale Home Assistant discovery %s: "
		    "%s", m->s->name, msg->topic, mqtt_error(rc));
		goto out;
	}
	if (sensor != 0)
		goto out;	/* one log line a domain */
	name = json_string_value(json_object_get(json_object_get(o,
	    "device"), "name"));
	if (m->ha_cleared++ < HA_LOG_NAMES)
		log_info("%s: %s is no longer monitored here: its Home "
		    "Assistant discovery cleared", m->s->name, name != NULL ?
		    name : slug);
	else
		log_debug("%s: %s is no longer monitored here: its Home "
		    "Assistant discovery cleared", m->s->name, name != NULL ?
		    name : slug);
out:
	json_decref(o);
}

static void
on_subscribe(struct mosquitto *mosq, void *arg, int mid, int n,
    const int *granted)
{
	struct mqtt	*m = arg;

	(void)mosq;
	/* 0x80: refused (an ACL); nothing else says so. */
	if (m->ha_subscribed && mid == m->ha_sub_mid && n > 0 &&
	    granted[0] == 0x80)
		log_warnx("%s: the broker refused the subscription to this "
		    "daemon's Home Assistant discovery topics: the entities of "
		    "domains dropped while it was stopped are not removed",
		    m->s->name);
}

static void
on_connect(struct mosquitto *mosq, void *arg, int rc)
{
	struct mqtt	*m = arg;
	char		 topic[256];
	size_t		 b;
	struct dstate	*d;

	(void)mosq;
	m->connecting = false;
	if (rc != 0) {
		/* The broker closes the connection next: the disconnect
		 * schedules the retry. */
		log_warnx("%s: %s:%d refused the connection: %s", m->s->name,
		    m->host, m->port, mosquitto_connack_string(rc));
		return;
	}
	m->connected = true;
	m->connected_at = mono();
	m->failures = 0;
	log_info("%s: connected to %s:%d", m->s->name, m->host, m->port);
	/* Again at every connect: a broker that lost our session (a
	 * restart without persistence) lost the subscription with it. */
	snprintf(topic, sizeof(topic), "%s/host-events/+", m->prefix);
	if ((rc = mosquitto_subscribe(m->mosq, NULL, topic, 1)) !=
	    MOSQ_ERR_SUCCESS)
		log_warnx("%s: subscribing to %s: %s", m->s->name, topic,
		    mqtt_error(rc));
	mosquitto_publish(m->mosq, NULL, m->status, 6, "online", 1, true);
	m->ha_subscribed = m->ha_waiting = false;
	ha_read_back(m);
	/* The broker may have lost its retained messages. */
	for (b = 0; b < STATE_BUCKETS; b++)
		for (d = m->states[b]; d != NULL; d = d->next) {
			d->ha_sent = false;
			publish_state(m, d);
		}
	/* A PUBLISH in flight is sent again by libmosquitto: give it a
	 * fresh wait. */
	m->inflight_since = mono();
	sink_kick(m->s);
}

static void
on_disconnect(struct mosquitto *mosq, void *arg, int rc)
{
	struct mqtt	*m = arg;
	bool		 was = m->connected;

	(void)mosq;
	m->connected = false;
	/* The socket is closed right after this returns. */
	unwatch(m);
	if (m->stopping)
		return;
	/* A broker drops the older of two clients with one id: two daemons
	 * with one instance name take the connection from each other, each
	 * time right after it is made. */
	if (was && rc != 0 && mono() - m->connected_at < SHORT_LIVED_S) {
		if (++m->short_lived == SHORT_LIVED_WARN)
			log_warnx("%s: the broker has dropped the last %u "
			    "connections within %d s of making them: is another "
			    "daemon using client id %s (the same instance: "
			    "name)?", m->s->name, m->short_lived,
			    SHORT_LIVED_S, m->id);
	} else if (was)
		m->short_lived = 0;
	schedule_reconnect(m, rc == 0 ? "disconnected" : was ?
	    "connection lost" : "could not connect");
}

static void
on_publish(struct mosquitto *mosq, void *arg, int mid)
{
	struct mqtt	*m = arg;

	(void)mosq;
	if (m->s->busy && m->inflight_mid == mid) {
		m->inflight_mid = -1;
		sink_done(m->s, STORE_DELIVERY_DONE, NULL, NULL);
	}
}

/* A host event another replica (or this one) received. */
static void
on_message(struct mosquitto *mosq, void *arg,
    const struct mosquitto_message *msg)
{
	struct mqtt	*m = arg;
	struct alerts	*a = m->s->a;
	char		 prefix[512];
	const char	*zone;
	size_t		 n;

	(void)mosq;
	if (msg->topic == NULL)
		return;
	if (m->ha_prefix != NULL) {
		n = (size_t)snprintf(prefix, sizeof(prefix), "%s/sensor/%s/",
		    m->ha_prefix, m->ha_node);
		if (n < sizeof(prefix) && strncmp(msg->topic, prefix, n) == 0) {
			ha_handed_back(m, msg, n);
			return;
		}
	}
	n = (size_t)snprintf(prefix, sizeof(prefix), "%s/host-events/",
	    m->prefix);
	if (n >= sizeof(prefix) || strncmp(msg->topic, prefix, n) != 0 ||
	    *(zone = msg->topic + n) == '\0' || strchr(zone, '/') != NULL)
		return;		/* not ours: nothing else is subscribed */
	if (msg->payloadlen <= 0 || msg->payloadlen > ALERTS_HOST_EVENT_MAX) {
		log_warnx("%s: host event for %.255s: %d bytes, expected 1 "
		    "to %d: dropped", m->s->name, zone, msg->payloadlen,
		    ALERTS_HOST_EVENT_MAX);
		return;
	}
	if (a->host_event_fn != NULL)
		a->host_event_fn(a->host_event_arg, zone, msg->payload,
		    (size_t)msg->payloadlen);
}

static void
on_log(struct mosquitto *mosq, void *arg, int level, const char *msg)
{
	struct mqtt	*m = arg;

	(void)mosq;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		log_warnx("%s: %s", m->s->name, msg);
	else
		log_debug("%s: %s", m->s->name, msg);
}

static void
misc_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct mqtt	*m = arg;

	(void)fd; (void)ev;
	if (m->fd >= 0) {
		mosquitto_loop_misc(m->mosq);
		after_io(m);
	}
	if (m->s->busy && m->connected && m->inflight_mid >= 0 &&
	    mono() - m->inflight_since > PUBACK_WAIT_S) {
		m->inflight_mid = -1;
		sink_done(m->s, STORE_DELIVERY_RETRY, "no PUBACK from the "
		    "broker", NULL);
	}
}

int
mqtt_sink_host_event(struct sink *s, const char *zone, const char *body,
    size_t len, char *err, size_t errlen)
{
	struct mqtt	*m = s->impl;
	char		 topic[PROBE_NAME_MAX + 128];
	int		 rc;

	if (len == 0 || len > ALERTS_HOST_EVENT_MAX) {
		snprintf(err, errlen, "%zu bytes, more than the %d a relayed "
		    "event may have", len, ALERTS_HOST_EVENT_MAX);
		return -1;
	}
	/* Not connected, libmosquitto keeps a QoS 1 message and sends it
	 * when the connection is back. */
	rc = mosquitto_publish(m->mosq, NULL, domain_topic(m, "host-events",
	    zone, "", topic, sizeof(topic)), (int)len, body, 1, false);
	after_io(m);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "publishing on %s: %s", topic,
		    mqtt_error(rc));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------ sink ops */

static bool
mqtt_ready(struct sink *s)
{
	struct mqtt	*m = s->impl;

	return m->connected;
}

static bool
mqtt_connecting(struct sink *s)
{
	struct mqtt	*m = s->impl;

	return m->connecting;
}

static void
mqtt_deliver(struct sink *s)
{
	struct mqtt	*m = s->impl;
	char		 topic[256];
	int		 rc, mid = -1;

	snprintf(topic, sizeof(topic), "%s/alerts", m->prefix);
	rc = mosquitto_publish(m->mosq, &mid, topic,
	    (int)strlen(s->row.payload), s->row.payload, 1, false);
	after_io(m);
	if (rc != MOSQ_ERR_SUCCESS) {
		char why[160];

		snprintf(why, sizeof(why), "publishing: %s", mqtt_error(rc));
		sink_done(s, STORE_DELIVERY_RETRY, why, NULL);
		return;
	}
	/* Delivered when the broker's PUBACK says so (on_publish). */
	m->inflight_mid = mid;
	m->inflight_since = mono();
}

static json_t *
records(json_t *obs, const char *key)
{
	json_t	*out = json_array(), *v, *rec;
	size_t	 i;

	json_array_foreach(json_object_get(obs, key), i, v)
		if ((rec = json_object_get(v, "record")) != NULL &&
		    json_is_string(rec))
			json_array_append(out, rec);
	return out;
}

static void
dstate_free(struct dstate *d)
{
	free(d->domain);
	free(d->content);
	free(d->message);
	free(d);
}

static void
mqtt_after_check(struct sink *s, const struct probe_result *r,
    const struct store_rotation *rot)
{
	struct mqtt	*m = s->impl;
	struct dstate	*d, **pp;
	json_t		*obs, *o, *probs;
	char		*content = NULL, *msg = NULL;
	bool		 open = rot != NULL && rot->id != 0;

	if ((obs = probe_result_json(r)) == NULL)
		return;
	probs = probe_problems_json(r);
	o = json_object();
	json_object_set_new(o, "domain", json_string(r->domain));
	json_object_set_new(o, "severity",
	    json_string(probe_severity_name(r->severity)));
	json_object_set_new(o, "state",
	    json_string(probe_state_name(r->state)));
	json_object_set_new(o, "validation",
	    json_string(probe_validation_name(r->validation)));
	json_object_set_new(o, "deadline", clock_json(open ?
	    rot->registrar_deadline : 0));
	json_object_set_new(o, "new_key_tag", open ?
	    json_integer(rot->new_key_tag) : json_null());
	/* The new DS on every parent server + the DS TTL (RFC 7583). */
	json_object_set_new(o, "safe_removal_at", clock_json(open &&
	    store_rotation_safe_removal(rot) ?
	    store_rotation_safe_removal(rot) : r->safe_removal_at));
	json_object_set_new(o, "ds_to_publish", records(obs, "ds_to_publish"));
	json_object_set_new(o, "ds_to_remove", records(obs, "ds_to_remove"));
	json_object_set_new(o, "problems", probs);
	content = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_object_set_new(o, "time", clock_json(clock_now()));
	msg = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	json_decref(obs);
	if (content == NULL || msg == NULL)
		goto out;

	pp = &m->states[hash_fnv1a_str(r->domain) % STATE_BUCKETS];
	for (d = *pp; d != NULL; d = d->next)
		if (strcmp(d->domain, r->domain) == 0)
			break;
	if (d != NULL && strcmp(d->content, content) == 0)
		goto out;	/* unchanged: the retained copy stands */
	if (d == NULL) {
		if ((d = calloc(1, sizeof(*d))) == NULL ||
		    (d->domain = strdup(r->domain)) == NULL) {
			free(d);
			goto out;
		}
		d->next = *pp;
		*pp = d;
	}
	free(d->content);
	free(d->message);
	d->content = content;
	d->message = msg;
	content = msg = NULL;
	if (m->connected) {
		publish_state(m, d);
		after_io(m);
	}
out:
	free(content);
	free(msg);
}

/*
 * A domain gone from this daemon: an empty retained config is how Home
 * Assistant is told to remove a discovered entity (and the broker drops
 * the retained message). QoS 1: libmosquitto keeps it while the
 * connection is down. Its state is forgotten too, so that a reconnect
 * does not publish its discovery again.
 */
static void
mqtt_forget(struct sink *s, const char *domain)
{
	struct mqtt	*m = s->impl;
	struct dstate	*d, **pp;
	char		 topic[512], slug[PROBE_NAME_MAX + 1];
	size_t		 i;
	int		 rc;

	for (pp = &m->states[hash_fnv1a_str(domain) % STATE_BUCKETS]; (d = *pp) != NULL;
	    pp = &d->next)
		if (strcmp(d->domain, domain) == 0) {
			*pp = d->next;
			dstate_free(d);
			break;
		}
	if (m->ha_prefix == NULL)
		return;
	ha_slug(domain, slug, sizeof(slug));
	for (i = 0; i < HA_SENSORS; i++) {
		rc = mosquitto_publish(m->mosq, NULL, ha_topic(m, slug, i, topic,
		    sizeof(topic)), 0, NULL, 1, true);
		if (rc != MOSQ_ERR_SUCCESS) {
			log_warnx("%s: clearing the Home Assistant discovery of "
			    "%s: %s", m->s->name, domain, mqtt_error(rc));
			break;
		}
	}
	after_io(m);
}

static void
mqtt_domains(struct sink *s, const char *const *names, size_t n, bool whole)
{
	struct mqtt	*m = s->impl;
	char		 slug[PROBE_NAME_MAX + 1];
	uint64_t	*v = NULL;
	size_t		 i;

	if (m->ha_prefix == NULL)
		return;
	if (n > 0 && (v = reallocarray(NULL, n, sizeof(*v))) == NULL) {
		/* The old set may lack a new domain: clear nothing. */
		log_warnx("%s: out of memory for the domain list; stale Home "
		    "Assistant discovery is not cleared", s->name);
		m->ha_whole = false;
		return;
	}
	for (i = 0; i < n; i++) {
		ha_slug(names[i], slug, sizeof(slug));
		v[i] = hash_fnv1a_str(slug);
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), hash_cmp);
	free(m->ha_known);
	m->ha_known = v;
	m->n_ha_known = n;
	m->ha_whole = whole;
	ha_read_back(m);
	after_io(m);
}

static void
mqtt_destroy(struct sink *s)
{
	struct mqtt	*m = s->impl;
	struct dstate	*d;
	size_t		 b;

	if (m == NULL)
		return;
	m->stopping = true;
	if (m->mosq != NULL) {
		if (m->connected) {
			/* A clean DISCONNECT suppresses the Will: say it. */
			mosquitto_publish(m->mosq, NULL, m->status, 7,
			    "offline", 1, true);
		}
		m->connected = false;
		mosquitto_disconnect(m->mosq);
		mosquitto_destroy(m->mosq);
		if (--lib_users == 0)
			mosquitto_lib_cleanup();
	}
	unwatch(m);
	if (m->misc != NULL)
		event_free(m->misc);
	if (m->reconnect != NULL)
		event_free(m->reconnect);
	for (b = 0; b < STATE_BUCKETS; b++)
		while ((d = m->states[b]) != NULL) {
			m->states[b] = d->next;
			dstate_free(d);
		}
	free(m->host);
	free(m->prefix);
	free(m->ha_prefix);
	free(m->ha_known);
	free(m);
	s->impl = NULL;
}

static const struct sink_ops mqtt_ops = {
	.kind = "mqtt",
	.ready = mqtt_ready,
	.connecting = mqtt_connecting,
	.deliver = mqtt_deliver,
	.after_check = mqtt_after_check,
	.forget = mqtt_forget,
	.domains = mqtt_domains,
	.destroy = mqtt_destroy,
};

int
mqtt_sink_init(struct sink *s, const struct alerts_mqtt_config *c, char *err,
    size_t errlen)
{
	struct mqtt	*m;
	struct timeval	 sec = { 1, 0 }, zero = { 0, 0 };
	char		 id[128], host[64];
	int		 rc;

	s->ops = &mqtt_ops;
	s->retry_max_s = c->reconnect_max_s;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto nomem;
	s->impl = m;
	m->s = s;
	m->fd = -1;
	m->inflight_mid = -1;
	m->port = c->port;
	m->keepalive = c->keepalive_s;
	m->reconnect_max = c->reconnect_max_s;
	if ((m->host = strdup(c->host)) == NULL ||
	    (m->prefix = strdup(c->topic_prefix)) == NULL ||
	    (c->ha_prefix != NULL &&
	    (m->ha_prefix = strdup(c->ha_prefix)) == NULL))
		goto nomem;
	/* One node per daemon: two instances on one broker must not take
	 * each other's sensors. */
	snprintf(m->ha_node, sizeof(m->ha_node), "dnssecmon");
	if (s->a->instance != NULL) {
		char slug[80];

		ha_slug(s->a->instance, slug, sizeof(slug));
		snprintf(m->ha_node, sizeof(m->ha_node), "dnssecmon_%s", slug);
	}
	if (lib_users++ == 0)
		mosquitto_lib_init();
	if (s->a->instance != NULL)
		snprintf(m->status, sizeof(m->status), "%s/status/%s",
		    c->topic_prefix, s->a->instance);
	else
		snprintf(m->status, sizeof(m->status), "%s/status",
		    c->topic_prefix);
	if (c->client_id != NULL)
		snprintf(id, sizeof(id), "%s", c->client_id);
	else if (s->a->instance != NULL)
		snprintf(id, sizeof(id), "dnssecmon-%s", s->a->instance);
	else {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(id, sizeof(id), "dnssecmon-%s-%ld", host,
		    (long)getpid());
	}
	/* The outbox does not need the broker's memory of us, but the host
	 * events relayed while we were away do: a persistent session when
	 * the client id stays the same across restarts (not with the pid
	 * in it). */
	snprintf(m->id, sizeof(m->id), "%s", id);
	if ((m->mosq = mosquitto_new(id, c->client_id == NULL &&
	    s->a->instance == NULL, m)) == NULL) {
		lib_users--;
		goto nomem;
	}
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	mosquitto_message_callback_set(m->mosq, on_message);
	mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
	mosquitto_log_callback_set(m->mosq, on_log);
	if ((rc = mosquitto_will_set(m->mosq, m->status, 7, "offline", 1,
	    true)) != MOSQ_ERR_SUCCESS ||
	    (c->username != NULL && (rc = mosquitto_username_pw_set(m->mosq,
	    c->username, c->password)) != MOSQ_ERR_SUCCESS)) {
		snprintf(err, errlen, "mqtt: %s", mosquitto_strerror(rc));
		return -1;
	}
	if (c->ca_file != NULL) {
		if ((rc = mosquitto_tls_set(m->mosq, c->ca_file, NULL,
		    c->cert_file, c->key_file, NULL)) != MOSQ_ERR_SUCCESS ||
		    (rc = mosquitto_tls_opts_set(m->mosq, 1, NULL,
		    NULL)) != MOSQ_ERR_SUCCESS) {
			snprintf(err, errlen, "mqtt: TLS with ca_file %s%s%s: %s",
			    c->ca_file, c->cert_file ? ", cert_file " : "",
			    c->cert_file ? c->cert_file : "",
			    mosquitto_strerror(rc));
			return -1;
		}
	}
	if ((m->misc = event_new(s->a->base, -1, EV_PERSIST, misc_tick,
	    m)) == NULL ||
	    (m->reconnect = evtimer_new(s->a->base, do_connect, m)) == NULL)
		goto nomem;
	event_add(m->misc, &sec);
	/* Connect from the loop: start-up is not held up by the broker. */
	m->connecting = true;
	evtimer_add(m->reconnect, &zero);
	return 0;
nomem:
	snprintf(err, errlen, "mqtt: out of memory");
	return -1;
}
