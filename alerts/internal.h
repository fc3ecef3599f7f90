/*
 * Inside alerts/: the sink interface the delivery core (alerts.c) drives,
 * and the constructors of the three kinds. Nothing outside alerts/
 * includes this.
 */
#ifndef DNSSECMON_ALERTS_INTERNAL_H
#define DNSSECMON_ALERTS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "alerts/alerts.h"
#include "store/store.h"

struct sink;

struct sink_ops {
	const char	*kind;			/* "mqtt", "webhook", "exec" */
	/* Can a delivery start now? (MQTT: connected.) NULL: always. */
	bool		(*ready)(struct sink *);
	/* Not ready yet, but about to be (a connection in progress): a
	 * flush at stop waits for it. NULL: never. */
	bool		(*connecting)(struct sink *);
	/* Start delivering s->row. Must end, now or later from the loop,
	 * in exactly one sink_done(). */
	void		(*deliver)(struct sink *);
	/* After every check (MQTT: the retained state). NULL: nothing. */
	void		(*after_check)(struct sink *,
			    const struct probe_result *,
			    const struct store_rotation *);
	/* A domain no longer monitored here (MQTT: its Home Assistant
	 * discovery cleared). NULL: nothing. */
	void		(*forget)(struct sink *, const char *domain);
	/* Every domain monitored now (alerts_set_domains). NULL: nothing. */
	void		(*domains)(struct sink *, const char *const *names,
			    size_t n, bool whole);
	/* Stop and free the kind's part (s->impl); the core frees s. */
	void		(*destroy)(struct sink *);
};

struct sink {
	const struct sink_ops	*ops;
	struct alerts		*a;
	char			 name[ALERTS_NAME_MAX];
	char			*signature;	/* its settings, to tell a
						   changed sink at reload */
	unsigned		 on;		/* STORE_ALERT_* it takes */
	long			 retry_max_s;
	unsigned		 max_attempts;	/* 0: retry for ever */
	bool			 busy;		/* row is being delivered */
	struct store_outbox_row	 row;
	/* The outbox rows row stands for (alerts.group: check): recorded
	 * together when it is done. group[0] is row.id. */
	int64_t			 group[STORE_GROUP_MAX];
	unsigned		 n_group;
	bool			 waiting;	/* retry timer armed */
	unsigned		 failures;	/* in a row, for the backoff */
	/* Attempts at row attempt_id, counted here as well: while the
	 * store cannot record, its count stands still, and retries and
	 * the give-up must not depend on it. */
	int64_t			 attempt_id;
	int			 attempts;
	/* An outcome the store could not record (full disk, damaged
	 * file): held and written again, with a backoff, before anything
	 * else is delivered. Without it a hook that ran (exit 0) was run
	 * again at once, in a loop, as its row was still the next. */
	bool			 held;
	int64_t			 held_id;
	int64_t			 held_ids[STORE_GROUP_MAX];
	unsigned		 n_held;
	enum store_delivery	 held_how;
	char			*held_error, *held_output;
	time_t			 held_at;
	unsigned		 store_failures;	/* in a row */
	struct event		*retry, *kick;
	void			*impl;
	bool			 reused;	/* by build(), at a reload */
	struct sink		*next;
};

struct alerts {
	struct event_base	*base;
	struct store		*store;
	struct sink		*sinks;
	struct event		*sigchld;
	struct evdns_base	*dns;		/* webhooks', on first use */
	bool			 group_check;	/* alerts.group: check */
	long			 repeat_s;	/* reminders: how long an
						   Alertmanager alert lasts */
	char			*instance;	/* NULL: none */
	void			(*host_event_fn)(void *, const char *,
				    const char *, size_t);
	void			*host_event_arg;
};

/*
 * A delivery of s->row ended. DONE: delivered; GIVEN_UP: failed for
 * good (e.g. HTTP 400); RETRY: failed, the same row is tried again after
 * a backoff (given up instead once max_attempts are spent). error and
 * output may be NULL. Never delivers the next row from inside: that
 * waits for the loop.
 */
void	sink_done(struct sink *, enum store_delivery, const char *error,
	    const char *output);
/* Look for rows soon (from the loop, never re-entrantly). */
void	sink_kick(struct sink *);

/* Constructors: fill s->ops, s->impl, s->signature. 0 or -1 with err. */
int	mqtt_sink_init(struct sink *, const struct alerts_mqtt_config *,
	    char *err, size_t errlen);
int	webhook_sink_init(struct sink *, const struct alerts_webhook_config *,
	    char *err, size_t errlen);
int	exec_sink_init(struct sink *, const struct alerts_exec_config *,
	    char *err, size_t errlen);
int	am_sink_init(struct sink *, const struct alerts_am_config *,
	    char *err, size_t errlen);

/*
 * HTTP client pieces the webhook and Alertmanager sinks share
 * (webhook.c). A client TLS context verifying against ca_file (NULL: the
 * system's CAs); NULL with the reason in err. A new connection to
 * host:port on a's loop (names through a's evdns, made on first use),
 * over TLS when ctx is set, checking the certificate names host; NULL:
 * out of memory. The reason of a failed request, for the log.
 */
struct ssl_ctx_st;
struct evhttp_connection;
struct ssl_ctx_st *alerts_http_tls(const char *ca_file, char *err,
	    size_t errlen);
struct evhttp_connection *alerts_http_connect(struct alerts *a,
	    struct ssl_ctx_st *ctx, const char *host, int port);
const char *alerts_http_error(int evhttp_request_error);
/* The Alertmanager alert of transition e of payload p (e is p itself, or
 * one of its "grouped" transitions; p has the domain, the time, the DS
 * and the instance), without endsAt (the caller adds it): labels
 * alertname, domain, zone, code, severity; annotations summary,
 * description (with the DS to add and remove), dnssecmon_instance;
 * startsAt. NULL when it is not ours. *resolved and *at (the payload's
 * time) are set. Caller decrefs. */
struct json_t;
struct json_t *alerts_am_alert(struct json_t *p, struct json_t *e,
	    bool *resolved, time_t *at);
/* Publish a host event on an MQTT sink (alerts_publish_host_event). */
int	mqtt_sink_host_event(struct sink *, const char *zone,
	    const char *body, size_t len, char *err, size_t errlen);
/* SIGCHLD: every exec sink reaps its own child (by pid). */
void	exec_sink_sigchld(struct sink *);

/*
 * The payload as Alertmanager v2 wants it (POST /api/v2/alerts): an
 * array of one alert. Caller frees; NULL when payload is not ours.
 */
char	*alerts_alertmanager_body(const char *payload, long repeat_hint_s);

#endif
