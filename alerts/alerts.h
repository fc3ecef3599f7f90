/*
 * Alert delivery: the sinks that carry the store's outbox out
 * of the process, all on the daemon's one libevent loop.
 *
 *   MQTT     (alerts/mqtt.c)     libmosquitto driven by events on its
 *                                socket; transitions on PREFIX/alerts,
 *                                retained state per domain, Last Will
 *   webhooks (alerts/webhook.c)  HTTP(S) POST with libevent's evhttp,
 *                                the payload as it is or Alertmanager v2
 *   exec     (alerts/exec.c)     fork + execve, never a shell, with a
 *                                timeout, the payload on stdin
 *   Alertmanager (alerts/alertmanager.c)  every peer of a Prometheus
 *                                Alertmanager cluster, v2 API, active
 *                                alerts re-posted every `resend`
 *
 * The store decides what to say (store_commit() writes each alert
 * transition to the outbox in the same transaction as the check that
 * caused it); this module only delivers. Each sink takes the outbox rows
 * in order, one at a time, and records every attempt in the store: a
 * failing sink retries the same row with capped backoff and never skips
 * it, so after an outage or a restart everything pending goes out, in
 * order. A delivery is at-least-once: the payload's "id" lets a receiver
 * drop a duplicate.
 */
#ifndef DNSSECMON_ALERTS_H
#define DNSSECMON_ALERTS_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/probe.h"
#include "store/store.h"

struct event_base;

#define ALERTS_MAX_ARGS		32	/* an exec hook's argv */
#define ALERTS_MAX_HEADERS	8	/* extra headers of a webhook */
#define ALERTS_NAME_MAX		96	/* a sink's name, with NUL */

enum alerts_format { ALERTS_FORMAT_JSON, ALERTS_FORMAT_ALERTMANAGER };

/* Strings are owned by the config and freed by alerts_config_free(). */
struct alerts_mqtt_config {
	char		*host;		/* NULL: MQTT off */
	int		 port;		/* 1883; 8883 is usual with TLS */
	char		*topic_prefix;	/* "dnssecmon" */
	char		*client_id;	/* NULL: dnssecmon-HOST-PID */
	char		*username, *password;	/* NULL: anonymous */
	char		*ca_file;	/* set: TLS, verified against it */
	char		*cert_file, *key_file;	/* client certificate */
	int		 keepalive_s;
	long		 reconnect_max_s;	/* backoff cap */
	char		*ha_prefix;	/* Home Assistant discovery prefix
					   ("homeassistant"); NULL: off */
};

struct alerts_webhook_config {
	char		 name[ALERTS_NAME_MAX];	/* "webhook:HOST/PATH" */
	char		*url;		/* http:// or https:// */
	enum alerts_format format;
	long		 timeout_s;
	long		 retry_max_s;	/* backoff cap */
	char		*ca_file;	/* https: NULL for the system's */
	unsigned	 n_headers;
	char		*header_name[ALERTS_MAX_HEADERS];
	char		*header_value[ALERTS_MAX_HEADERS];
	unsigned	 on;		/* STORE_ALERT_* transitions */
	int		 line;		/* in the config file */
};

/*
 * Prometheus Alertmanager: each transition is posted to every URL (the
 * peers of a cluster do not share alerts, only what they notified, so
 * each must hear every alert, as Prometheus sends them), and the alerts
 * still open are posted again every resend_s so that a peer that was
 * away, restarted or newly added learns them, and so that they expire
 * (endsAt) when no daemon speaks of them any more.
 */
#define ALERTS_AM_MAX_URLS	8
struct alerts_am_config {
	unsigned	 n_urls;	/* 0: off */
	char		*url[ALERTS_AM_MAX_URLS];	/* http(s)://HOST:PORT[/
							   PREFIX]; api/v2/alerts
							   is added */
	long		 resend_s;	/* 60 */
	long		 timeout_s;	/* a request's; 10 */
	long		 retry_max_s;	/* backoff cap; 300 */
	char		*ca_file;	/* https: NULL for the system's */
	unsigned	 n_headers;
	char		*header_name[ALERTS_MAX_HEADERS];
	char		*header_value[ALERTS_MAX_HEADERS];
	int		 line;		/* in the config file */
};

struct alerts_exec_config {
	char		 name[ALERTS_NAME_MAX];	/* "exec:BASENAME" */
	unsigned	 argc;
	char		*argv[ALERTS_MAX_ARGS + 1];	/* NULL-terminated;
							   argv[0] absolute */
	long		 timeout_s;	/* then SIGTERM, SIGKILL 5 s later */
	unsigned	 retries;	/* after a failed run; then given up */
	unsigned	 on;		/* STORE_ALERT_* transitions */
	int		 line;
};

struct alerts_config {
	struct alerts_mqtt_config	 mqtt;
	struct alerts_am_config		 am;
	size_t				 n_webhooks;
	struct alerts_webhook_config	*webhooks;
	size_t				 n_exec;
	struct alerts_exec_config	*exec;
	bool				 group_check;	/* one notification
							   per check and
							   domain */
	long				 repeat_s;	/* reminders (the
							   store's policy) */
	char				*instance;	/* this daemon's name
							   (the caller sets it):
							   in payloads and the
							   MQTT status topic;
							   NULL: none */
};

/* Defaults into caller storage; alerts_config_free() frees what a parser
 * put in it (not the struct itself). */
void	alerts_config_defaults(struct alerts_config *);
void	alerts_config_free(struct alerts_config *);

/*
 * A URL a webhook can post to: http:// or https://, a host, an optional
 * port 1-65535, no user:password@. 0 with the parts filled (host and
 * path into caller buffers), or -1 with the reason in why.
 */
int	alerts_url_parse(const char *url, bool *https, char *host,
	    size_t hostlen, int *port, char *path, size_t pathlen, char *why,
	    size_t whylen);

/*
 * An Alertmanager URL: as alerts_url_parse(), with api/v2/alerts added
 * to the path unless it ends so already (a base URL, as Prometheus
 * takes it, or the API's own).
 */
int	alerts_am_url(const char *url, bool *https, char *host,
	    size_t hostlen, int *port, char *path, size_t pathlen, char *why,
	    size_t whylen);

struct alerts;

/*
 * Start the configured sinks on base, delivering from store. Each sink
 * registers with the store (a new one starts after the newest outbox
 * row) and starts sending what is pending at once. NULL with the reason
 * in err. Caller destroys. No sink configured is fine: an alerts that
 * does nothing.
 */
struct alerts *alerts_create(struct event_base *base,
	    const struct alerts_config *, struct store *store, char *err,
	    size_t errlen);

/*
 * A reload: sinks whose settings did not change carry on (an exec hook
 * in progress keeps running); the others are stopped and started anew.
 * The store may have changed too. 0, or -1 with the reason in err and
 * the running sinks kept.
 */
int	alerts_reconfigure(struct alerts *, const struct alerts_config *,
	    struct store *store, char *err, size_t errlen);

/*
 * After each check: new outbox rows may wait (every sink looks), and the
 * domain's retained MQTT state follows r. r and open (the open KSK
 * rotation, or NULL/id 0) are read during the call only.
 */
void	alerts_after_check(struct alerts *, const struct probe_result *r,
	    const struct store_rotation *open);

/*
 * A domain this daemon no longer monitors (a reload, a catalog change or
 * a new shard split dropped it): with Home Assistant discovery, its
 * retained discovery configs are cleared so that no ghost entities stay.
 * Its retained state topic is left: another shard may publish it now.
 */
void	alerts_forget_domain(struct alerts *, const char *domain);

/*
 * Every domain this daemon monitors now (names read during the call
 * only), after each change of the set and after alerts_reconfigure();
 * whole is false while the set may lack domains not known yet (a catalog
 * never transferred). With Home Assistant discovery, the MQTT sink reads
 * back, once on every connection and once the set is whole, the
 * discovery configs this daemon left retained on the broker, and clears
 * those of domains not in the set (dropped while it was stopped).
 */
void	alerts_set_domains(struct alerts *, const char *const *names,
	    size_t n, bool whole);

/*
 * At stop, with the caller's loop no longer dispatching: run it for at
 * most `seconds` while a sink that can deliver still has rows waiting.
 */
void	alerts_flush(struct alerts *, int seconds);

/* Stops every sink (MQTT says "offline" first), kills and reaps an exec
 * hook still running. Accepts NULL. */
void	alerts_destroy(struct alerts *);

/*
 * Host events shared by the replicas of a shard over the MQTT broker.
 * A DNS host calls one URL, so one replica receives its webhook: that
 * one records it and publishes the body on PREFIX/host-events/ZONE (QoS
 * 1, not retained); every replica, itself included, is subscribed with a
 * persistent session (client id from the instance name) and records it
 * again, which the event's request id makes a no-op where it is known.
 */
#define ALERTS_HOST_EVENT_MAX	(64 * 1024)	/* a body, bytes */

/*
 * fn is called with each host event the broker relays: ZONE from the
 * topic (wildcards replaced by '_'), the body as published (only read,
 * during the call). fn NULL: relayed events are dropped.
 */
void	alerts_on_host_event(struct alerts *,
	    void (*fn)(void *arg, const char *zone, const char *body,
	    size_t len), void *arg);

/*
 * Publish a host event this daemon recorded for the other replicas. 0
 * when handed to libmosquitto (it resends until the broker acknowledges,
 * reconnects included), -1 with the reason in err: no MQTT configured,
 * too big, or refused.
 */
int	alerts_publish_host_event(struct alerts *, const char *zone,
	    const char *body, size_t len, char *err, size_t errlen);

#endif
