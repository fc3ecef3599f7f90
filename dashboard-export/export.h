/*
 * The exporter: what the daemon knows, served over HTTP from the daemon's
 * own event loop (libevent evhttp) to Prometheus (/metrics), to scripts
 * (/api/v1/...), to people (the status page at /) and from DNS hosts
 * (POST /hooks/dnsimple/SECRET).
 *
 * Data flows one way: after each check the daemon hands the classified
 * result and the open rotation to export_update(), which keeps a small
 * summary per domain in memory; every page renders from that table and,
 * for history and key timelines, reads the store. Nothing here calls
 * into the probe engine, and nothing here writes to the store: the DNS
 * host webhook is routed to hostevents/ (hostevents/hostevents.h), which
 * records the host's word on a rotation; the table keeps that word for
 * the pages. The daemon (cli/run.c) owns that hostevents and hands it to
 * export_create().
 */
#ifndef DNSSECMON_EXPORT_H
#define DNSSECMON_EXPORT_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>

#include "probe/probe.h"
#include "store/store.h"

struct event_base;
struct export;
struct hostevents;

/* Defaults the configuration falls back to (dnssecmon.conf(5)). */
#define EXPORT_DEFAULT_LISTEN		"127.0.0.1:9470"
#define EXPORT_DEFAULT_PORT		9470
#define EXPORT_DEFAULT_CONNECTIONS	64
#define EXPORT_DEFAULT_PER_CLIENT	16	/* connections from one client */
#define EXPORT_DEFAULT_TIMEOUT		10	/* seconds */
#define EXPORT_DEFAULT_REQUEST_TIMEOUT	10	/* a whole request, seconds */
#define EXPORT_DEFAULT_REFRESH		30	/* status page, seconds */
#define EXPORT_MAX_BODY			(64 * 1024)
#define EXPORT_MAX_HEADERS		(8 * 1024)

/* How the listener behaves; strings are copied by export_listen(). */
struct export_settings {
	const struct sockaddr	*addr;		/* where to listen */
	socklen_t		 addrlen;
	const char		*listen_text;	/* the same, for the log */
	unsigned		 max_connections; /* open at once */
	unsigned		 max_per_client; /* from one address (IPv6: /64) */
	int			 timeout_s;	/* per read or write */
	int			 request_timeout_s; /* to send a whole request */
	int			 refresh_s;	/* status page auto-refresh */
	bool			 no_enum_zeros;	/* /metrics: drop the 0-valued
						   series of enum gauges */
	const char		*dnsimple_secret; /* NULL: webhook off */
};

/* One configured domain. */
struct export_domain {
	const char		*name;		/* normalised, no final dot */
	struct store_policy	 policy;
	int			 interval_s;
	bool			 in_shard;	/* false: another shard checks
						   it; only a host's webhook
						   for it is taken here */
	const char		*catalog;	/* the catalog zone it is a
						   member of; NULL: configured */
};

/* One catalog zone (RFC 9432) the monitored set comes from in part. */
struct export_catalog {
	const char		*zone;
	const char		*primary;
	size_t			 members;	/* monitored (all shards) */
	size_t			 excess;	/* over max_members */
	size_t			 ignored;	/* broken member nodes */
	uint32_t		 serial;
	bool			 have;		/* transferred once */
	bool			 ok;		/* the last poll worked */
	time_t			 last_success;	/* 0: never */
	time_t			 last_attempt;
	const char		*error;		/* "" when ok */
};

/*
 * An exporter on base with no listener yet, serving the DNS hosts'
 * webhooks through host (hostevents_create(); the caller owns it, and it
 * must outlive the exporter: the exporter answers its domain look-ups
 * until export_destroy()). NULL with the reason in err when out of
 * memory. Caller destroys.
 */
struct export	*export_create(struct event_base *base,
		    struct hostevents *host, char *err, size_t errlen);
/* Closes the listener and every connection; host is left to its owner.
 * Accepts NULL. */
void		 export_destroy(struct export *);

/*
 * Listen (or, on a reload, move to a new address and take new limits).
 * A new address is bound before the old one is let go, so a failed
 * reload keeps serving: -1 with the reason in err and nothing changed.
 */
int		 export_listen(struct export *, const struct export_settings *,
		    char *err, size_t errlen);

/*
 * The store to read history from, and for hostevents to record webhook
 * events in; NULL when none. The exporter never closes it. Domains not checked yet in
 * this run are filled from it (their last known state and open rotation)
 * so that a restart does not hide a running deadline.
 */
void		 export_set_store(struct export *, struct store *);

/*
 * Called with a domain's name (normalised) after a DNS host's event on
 * it was recorded: the daemon checks it at once, so that the classifier
 * judges the host's word against DNS without waiting for the interval.
 * fn NULL: nobody to tell.
 */
void		 export_on_host_event(struct export *,
		    void (*fn)(void *arg, const char *domain), void *arg);

/*
 * Called with a DNS host's webhook body (only read, during the call) and
 * the domain it is about, after this daemon recorded it, or instead of
 * recording it when another shard checks the domain: run.c relays it to
 * the other replicas and shards (alerts_publish_host_event). fn returns
 * 0 when relayed, -1 when it could not be (the event for another shard
 * is then refused, 422). Not called for an event that was itself
 * relayed. fn NULL: nobody to tell, no relaying.
 */
void		 export_on_host_webhook(struct export *,
		    int (*fn)(void *arg, const char *domain, const char *body,
		    size_t len), void *arg);

/*
 * A webhook body another replica received and relayed (zone from the
 * broker's topic): checked and recorded as the webhook would, idempotent
 * on the event's request id. 1 recorded something new, 0 nothing to do
 * (a duplicate, such as this daemon's own event coming back, or a zone
 * another shard monitors), -1 refused; what happened in why.
 */
int		 export_host_event_relayed(struct export *, const char *zone,
		    const char *body, size_t len, time_t now, char *why,
		    size_t whylen);

/*
 * Which daemon of a fleet this is: its instance name (copied) and shard
 * (1-based k of n; n 0: not sharded). /readyz and the JSON API say it.
 */
void		 export_set_identity(struct export *, const char *instance,
		    unsigned shard_k, unsigned shard_n);

/*
 * The configured domains, replacing the previous list: domains that stay
 * keep what is known of them. 0, or -1 when out of memory (the old list
 * stays).
 */
int		 export_set_domains(struct export *,
		    const struct export_domain *, size_t n);

/*
 * The catalogs and their status (copied), replacing the previous list,
 * for /metrics (dnssecmon_catalog_*). 0, or -1 when out of memory (the
 * old list stays).
 */
int		 export_set_catalogs(struct export *,
		    const struct export_catalog *, size_t n);

/*
 * After each check: the classified result (only read, during the call)
 * and the domain's open KSK rotation after the check (open->id 0 or open
 * NULL: none). A result for a domain not in the list is ignored.
 */
void		 export_update(struct export *, const struct probe_result *,
		    const struct store_rotation *open, time_t now);


/*
 * The probe engine's counters (copied), for /metrics (dnssecmon_dns_*,
 * dnssecmon_validation*): the daemon hands them over after each check.
 */
void		 export_set_probe_stats(struct export *,
		    const struct probe_stats *);

/* The shipped Grafana dashboard and Prometheus alerting rules, as the
 * repository has them (static text, NUL-terminated). */
const char	*export_grafana_dashboard(void);
const char	*export_prometheus_rules(void);

#endif
