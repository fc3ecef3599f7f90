/*
 * dnssecmon run: the monitor daemon, in the foreground.
 *
 * One libevent loop carries everything: a timer per domain (random first
 * offset so checks spread over the interval, capped backoff after a
 * failed probe), the probe engine, signals. Each finished probe goes
 * through the store (history, rotations, deadlines); the checks that
 * finish in one loop turn share a transaction, committed at the end of
 * that turn before anything derived from them (log, alerts, exports)
 * leaves the process (batch_flush).
 *
 * SIGHUP re-reads the configuration and swaps it in only when valid;
 * SIGTERM and SIGINT stop taking new work, give the checks in flight a
 * moment to finish, close the store and exit 0.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "alerts/alerts.h"
#include "cli/catalog.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/nameset.h"
#include "cli/shard.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/log.h"
#include "dashboard-export/export.h"
#include "hostevents/hostevents.h"
#include "probe/probe.h"
#include "store/store.h"

#define DRAIN_SECONDS	10	/* SIGTERM: wait this long for checks */
#define PRUNE_EVERY	3600	/* retention pass, seconds */
#define BACKOFF_FIRST	30	/* first retry after a failed probe */
#define WATCH_EVERY	5	/* is the database file still ours? */
#define CATALOG_SRC	UINT_MAX	/* config_domain.src of a member */
#define LOG_NAMES	20	/* domains named per reload or catalog change */
#define LOG_NAMES_S	"20"
/* Checks per store transaction at most: 75 kB of result each, held until
 * the commit; tests/bench/store_batch shows no gain past 16. */
#define BATCH_MAX	32

struct monitor;

struct mdomain {
	struct monitor		*m;
	struct store_policy	 policy;
	int			 interval_s;
	struct event		*timer;
	bool			 inflight;
	bool			 removed;	/* dropped by a reload */
	unsigned		 failures;	/* consecutive, for backoff */
	unsigned		 checks;	/* started, for tcp_every */
	enum probe_state	 last_state;
	enum probe_severity	 last_severity;
	bool			 seen;
	struct probe_hint	 hint;		/* for the next check */
	bool			 hint_loaded;	/* from a check or the store */
	/* As long as it is: a name array of PROBE_NAME_MAX was 256 bytes
	 * per configured domain, most of them never used. */
	char			 name[];
};

struct monitor {
	struct event_base	*base;
	struct config		*cfg;
	const char		*config_path;
	struct probe_engine	*engine;
	struct store		*store;
	struct mdomain		**domains;
	size_t			 n_domains;
	/* What is monitored: the configured domains, then the members of
	 * catalogs that are not configured (src CATALOG_SRC). */
	struct config_domain	*wanted;
	size_t			 n_wanted;
	struct strpool		 wanted_names;	/* the catalog members' names
						   in wanted[] (the others
						   are the config's) */
	struct catalogs		*cats;
	bool			 reloading;	/* apply once, at the end */
	struct mdomain		**zombies;	/* removed while in flight */
	size_t			 n_zombies;
	unsigned		 shard_k, shard_n;	/* 1-based; n 0: off */
	char			 host[256];		/* gethostname() */
	char			 instance[SHARD_INSTANCE_MAX];
	struct event		*sig_hup, *sig_term, *sig_int, *prune;
	struct event		*watch;		/* the database file */
	struct event		*drain;
	struct alerts		*alerts;	/* sinks */
	bool			 alerts_whole;	/* as they were last told */
	struct export		*export;	/* HTTP; NULL: off */
	struct hostevents	*hostevents;	/* DNS hosts' webhooks, handed
						   to the exporter; outlives
						   it across reloads */
	bool			 stopping;
	bool			 once;		/* --once: one round, exit */
	size_t			 checks_done;
	/* Checks recorded but not yet committed (batch_flush). */
	struct pending		*batch;		/* BATCH_MAX */
	unsigned		 n_batch;
	struct event		*batch_ev;
	double			 store_s;	/* wall time in check records */
	double			 store_cpu_s;	/* and CPU time */
	unsigned long		 store_batches;	/* batches committed */
	int			 exit_code;
};

/* A check recorded in the open batch: what it needs once committed. */
struct pending {
	struct mdomain		*d;
	time_t			 now;
	bool			 recorded;	/* store_check() took it */
	struct store_rotation	 rot;
	struct probe_result	*r;		/* kept from the engine */
};

static void	domain_fire(evutil_socket_t, short, void *);
static void	store_lost(struct monitor *);

/* ------------------------------------------------------------------ */
/* systemd readiness (Type=notify), without linking libsystemd. */

static void
sd_notify_msg(const char *msg)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun, len);
	close(fd);
}

/* ------------------------------------------------------------------ */

static bool
in_shard(const struct monitor *m, const char *name)
{
	if (m->shard_n == 0)
		return true;
	return hash_fnv1a_str(name) % m->shard_n == m->shard_k - 1;
}

static void
schedule(struct mdomain *d, long seconds, long spread)
{
	struct timeval	 tv;
	long		 jitter_ms = 0;

	if (spread > 0)
		jitter_ms = (long)(random() % (spread * 1000));
	tv.tv_sec = seconds + jitter_ms / 1000;
	tv.tv_usec = (jitter_ms % 1000) * 1000;
	evtimer_add(d->timer, &tv);
}

static struct probe_config
engine_config(const struct config *c)
{
	struct probe_config	 pc;
	unsigned		 i;

	memset(&pc, 0, sizeof(pc));
	pc.trust_anchor = c->trust_anchor;
	pc.root_hints = c->root_hints;
	for (i = 0; i < c->n_resolvers; i++)
		pc.resolvers[i] = c->resolvers[i];
	pc.n_resolvers = c->n_resolvers;
	pc.timeout_ms = c->timeout_ms;
	pc.retries = c->retries;
	pc.max_domains = c->max_domains;
	pc.max_queries = c->max_queries;
	pc.per_server_qps = c->per_server_qps;
	pc.ipv6 = c->ipv6;
	return pc;
}

static void
domain_free(struct mdomain *d)
{
	if (d == NULL)
		return;
	if (d->timer != NULL)
		event_free(d->timer);
	free(d);
}

static void
maybe_finish(struct monitor *m)
{
	size_t	 i;

	if (m->stopping) {
		for (i = 0; i < m->n_domains; i++)
			if (m->domains[i]->inflight)
				return;
		event_base_loopexit(m->base, NULL);
		return;
	}
	if (m->once && catalogs_settled(m->cats) &&
	    m->checks_done >= m->n_domains)
		event_base_loopexit(m->base, NULL);
}

/* One line per change a NOC wants in its log. */
static void
log_result(struct mdomain *d, const struct probe_result *r,
    const struct store_rotation *rot)
{
	char		 when[32], deadline[32], left[32];
	const char	*what = "";
	unsigned	 i;

	for (i = 0; i < r->n_problems; i++)
		if (r->problems[i].severity >= PROBE_SEV_WARNING) {
			what = r->problems[i].message;
			break;
		}
	if (!d->seen || d->last_state != r->state ||
	    d->last_severity != r->severity) {
		log_info("%s: %s%s%s (%s, validation %s)%s%s", d->name,
		    d->seen ? probe_state_name(d->last_state) : "",
		    d->seen ? " -> " : "", probe_state_name(r->state),
		    probe_severity_name(r->severity),
		    probe_validation_name(r->validation), *what ? ": " : "",
		    what);
		if (rot != NULL && rot->id != 0 && rot->kind == STORE_ROT_KSK)
			log_info("%s: KSK rotation to key %u open since %s; "
			    "registrar deadline %s (in %s)", d->name,
			    rot->new_key_tag, clock_rfc3339(rot->start, when,
			    sizeof(when)), clock_rfc3339(rot->registrar_deadline,
			    deadline, sizeof(deadline)), clock_duration(
			    (long long)rot->registrar_deadline - clock_now(),
			    left, sizeof(left)));
	} else
		log_debug("%s: %s (%s), %u queries, %.0f ms", d->name,
		    probe_state_name(r->state), probe_severity_name(r->severity),
		    r->queries, r->duration_ms);
	d->last_state = r->state;
	d->last_severity = r->severity;
	d->seen = true;
}

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Time spent in the store, for the round line (`make bench`). */
static void
store_timer(struct monitor *m, bool stop)
{
	static struct timespec	 t0, c0;
	struct timespec		 t1, c1;

	if (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	m->store_s += elapsed(&t0, &t1);
	m->store_cpu_s += elapsed(&c0, &c1);
}

/* What follows a recorded check: the hint for the next one, the log,
 * alerts, exports, the next check's timer. Only once the check is
 * committed (or known lost). */
static void
check_done(struct mdomain *d, struct probe_result *r,
    const struct store_rotation *rot, time_t now)
{
	struct monitor		*m = d->m;
	long			 next;

	/* Ask every parent server next time while a KSK rotation is open,
	 * or when they did not agree (or did not answer) this time; else
	 * one, in turn, unless the DS set changes. */
	d->hint.every_parent = rot->id != 0;
	d->hint.ds_known = r->parent_status == PROBE_Q_OK && r->delegated &&
	    r->parents_agree &&
	    !probe_has_problem(r, PROBE_P_PARENT_DS_UNSIGNED);
	d->hint.ds_fp = probe_ds_fingerprint(r->ds, r->n_ds);
	d->hint_loaded = true;
	log_result(d, r, rot);
	alerts_after_check(m->alerts, r, rot);
	export_update(m->export, r, rot, now);
	if (m->export != NULL) {
		struct probe_stats	 st;

		probe_engine_stats(m->engine, &st);
		export_set_probe_stats(m->export, &st);
	}

	if (!m->stopping && !m->once) {
		next = d->interval_s;
		if (r->state == PROBE_STATE_UNKNOWN) {
			/* Back off, capped at the interval: a failing domain
			 * is retried sooner than a healthy one, but not in a
			 * tight loop. */
			long b = BACKOFF_FIRST << (d->failures < 6 ?
			    d->failures : 6);

			d->failures++;
			next = b < next ? b : next;
		} else
			d->failures = 0;
		schedule(d, next, 0);
	}
}

/*
 * Commit the batch of checks, then let what derives from them out, in
 * the order they finished. A batch that did not commit is reported on
 * each of its checks (the store_error problem; /readyz not ready), as a
 * check of its own would have been.
 */
static void
batch_flush(struct monitor *m)
{
	struct pending	*p;
	bool		 lost;
	unsigned	 i, n = m->n_batch;

	if (n == 0)
		return;
	m->n_batch = 0;		/* a flush from inside is a no-op */
	store_timer(m, false);
	lost = store_batch_end(m->store) == -1;
	store_timer(m, true);
	m->store_batches++;
	for (i = 0; i < n; i++) {
		p = &m->batch[i];
		if (lost && p->recorded) {
			store_check_lost(m->store, p->r,
			    &m->cfg->probe_policy, &p->d->policy, p->now);
			memset(&p->rot, 0, sizeof(p->rot));
		}
		check_done(p->d, p->r, &p->rot, p->now);
		probe_result_free(p->r);
	}
	if (store_gone(m->store) != NULL)
		store_lost(m);
	maybe_finish(m);
}

static void
batch_due(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	batch_flush(arg);
}

static void
probe_done(void *arg, struct probe_result *r)
{
	struct mdomain		*d = arg;
	struct monitor		*m = d->m;
	struct pending		*p;

	d->inflight = false;
	m->checks_done++;
	if (d->removed) {
		/* Dropped by a reload while in flight: forget it. */
		for (size_t z = 0; z < m->n_zombies; z++)
			if (m->zombies[z] == d)
				m->zombies[z] = m->zombies[--m->n_zombies];
		domain_free(d);
		maybe_finish(m);
		return;
	}
	/* The checks that finish in this loop turn share a transaction:
	 * the first opens the batch and arms its commit at the end of the
	 * turn (after the events already due), so nothing waits for a
	 * later event. BATCH_MAX bounds the memory held. */
	if (m->n_batch == 0) {
		store_batch_begin(m->store);
		event_active(m->batch_ev, EV_TIMEOUT, 0);
	}
	p = &m->batch[m->n_batch++];
	p->d = d;
	p->now = clock_now();
	/* Kept, not copied: a copy wrote all 75 KB of each of BATCH_MAX
	 * slots (2.4 MB resident) for the few KB a check fills. */
	probe_result_keep(m->engine, r);
	p->r = r;
	store_timer(m, false);
	p->recorded = store_check(m->store, p->r, &m->cfg->probe_policy,
	    &d->policy, p->now, &p->rot) == 0;
	store_timer(m, true);
	if (m->n_batch == BATCH_MAX)
		batch_flush(m);
}

/* A queued probe dropped at stop: it never ran, so nothing to record. */
static void
probe_dropped(void *arg)
{
	struct mdomain	*d = arg;

	d->inflight = false;
}

/* The first check after a start: what the store says of the last one,
 * so that a restart does not ask every parent server (a TLD has up to
 * 26) for every domain at once. */
static void
hint_from_store(struct mdomain *d)
{
	d->hint_loaded = true;
	if (d->m->store != NULL &&
	    store_probe_hint(d->m->store, d->name, &d->hint) == -1)
		log_warnx("%s: %s", d->name, store_error(d->m->store));
}

static void
domain_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct mdomain	*d = arg;
	struct monitor	*m = d->m;
	char		 err[256];

	(void)fd; (void)ev;
	if (m->stopping || d->inflight)
		return;
	if (!d->hint_loaded)
		hint_from_store(d);
	d->hint.parent_turn++;
	/* DNSKEY over TCP on the first check and every tcp_every-th after:
	 * one query more per server address when it is due. */
	if (probe_start_with(m->engine, d->name, m->cfg->tcp_every != 0 &&
	    d->checks % m->cfg->tcp_every == 0 ? PROBE_START_TCP : 0,
	    &d->hint, probe_done, d, err, sizeof(err)) == -1) {
		log_warnx("%s: %s", d->name, err);
		schedule(d, d->interval_s, 0);
		return;
	}
	d->inflight = true;
	d->checks++;
}

/* A DNS host spoke about a domain: check it now rather than at its
 * interval (a check in flight will be followed by the normal schedule). */
static void
host_event(void *arg, const char *name)
{
	struct monitor	*m = arg;
	size_t		 i;

	for (i = 0; i < m->n_domains; i++)
		if (strcmp(m->domains[i]->name, name) == 0 &&
		    !m->domains[i]->inflight && !m->stopping)
			schedule(m->domains[i], 0, 0);
}

/* A DNS host's webhook, recorded here or for another shard: the other
 * replicas (and shards) record it too, through the broker. */
static int
host_webhook(void *arg, const char *domain, const char *body, size_t len)
{
	struct monitor	*m = arg;
	char		 err[300];

	if (m->cfg->alerts.mqtt.host == NULL)
		return -1;	/* one instance, or a fan-out in front */
	if (alerts_publish_host_event(m->alerts, domain, body, len, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: host event not relayed to the other replicas: "
		    "%s", domain, err);
		return -1;
	}
	log_debug("%s: host event relayed to the other replicas", domain);
	return 0;
}

/* Another replica (or this one, echoed) relays a DNS host's webhook. */
static void
host_event_relayed(void *arg, const char *zone, const char *body, size_t len)
{
	struct monitor	*m = arg;
	char		 why[600];
	int		 rc;

	if (m->export == NULL) {
		log_warnx("%s: a host event relayed by another replica is not "
		    "recorded: this daemon has no http: section (its hooks "
		    "are configured there)", zone);
		return;
	}
	rc = export_host_event_relayed(m->export, zone, body, len,
	    clock_now(), why, sizeof(why));
	if (rc == 1)
		log_info("%s: host event relayed by another replica: %s", zone,
		    why);
	else if (rc == 0)
		log_debug("%s: host event relayed: %s", zone, why);
	else
		log_warnx("%s: host event relayed by another replica not "
		    "recorded: %s", zone, why);
}

static struct mdomain *
domain_new(struct monitor *m, const struct config_domain *cd)
{
	struct mdomain	*d;

	size_t		 len = strlen(cd->name);

	if ((d = calloc(1, sizeof(*d) + len + 1)) == NULL)
		return NULL;
	d->m = m;
	memcpy(d->name, cd->name, len + 1);
	d->policy = cd->policy;
	d->interval_s = cd->interval_s ? cd->interval_s : m->cfg->interval_s;
	if ((d->timer = evtimer_new(m->base, domain_fire, d)) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

/*
 * The monitored set to the alert sinks (MQTT clears the Home Assistant
 * discovery of a domain dropped while the daemon was stopped). Whole once
 * every catalog has been transferred: until then its members are not
 * known, and would look dropped.
 */
static bool
domains_whole(const struct monitor *m)
{
	struct catalog_status	 st;
	size_t			 i;

	for (i = 0; i < catalogs_count(m->cats); i++) {
		catalogs_status(m->cats, i, &st);
		if (!st.have)
			return false;
	}
	return true;
}

static void
alerts_domains(struct monitor *m)
{
	const char		**names;
	size_t			 i, n = m->n_domains;
	bool			 whole = domains_whole(m);

	m->alerts_whole = whole;
	if ((names = calloc(n ? n : 1, sizeof(*names))) == NULL) {
		log_warnx("alerts: out of memory for the domain list");
		alerts_set_domains(m->alerts, NULL, 0, false);
		return;
	}
	for (i = 0; i < n; i++)
		names[i] = m->domains[i]->name;
	alerts_set_domains(m->alerts, names, n, whole);
	free(names);
}

/* Build the domain table from m->wanted, keeping the state (and timers)
 * of domains that stay; new ones start within their first interval. */
static int
apply_domains(struct monitor *m, bool first, const char *why)
{
	const struct config_domain *w;
	struct mdomain	**list, *d;
	struct nameset	 *old = NULL;
	size_t		  n = 0, i, j;
	unsigned	  added = 0, removed = 0;
	long		  spread;
	int		  at;

	/* The batch points at domains this may free. */
	batch_flush(m);
	if ((list = calloc(m->n_wanted ? m->n_wanted : 1,
	    sizeof(*list))) == NULL)
		return -1;
	/* The old table by name: a catalog of thousands must not cost a
	 * scan of the table per name. */
	if ((old = nameset_create()) == NULL) {
		free(list);
		return -1;
	}
	for (j = 0; j < m->n_domains; j++)
		if (nameset_add(old, m->domains[j]->name, (int)j, NULL) == -1) {
			nameset_destroy(old);
			free(list);
			return -1;
		}
	for (i = 0; i < m->n_wanted; i++) {
		w = &m->wanted[i];
		if (!in_shard(m, w->name))
			continue;
		d = NULL;
		if (nameset_add(old, w->name, 0, &at) == 0 &&
		    m->domains[at] != NULL) {
			d = m->domains[at];
			m->domains[at] = NULL;
		}
		if (d != NULL) {
			d->policy = w->policy;
			d->interval_s = w->interval_s ? w->interval_s :
			    m->cfg->interval_s;
		} else {
			if ((d = domain_new(m, w)) == NULL) {
				log_warnx("%s: out of memory", w->name);
				continue;
			}
			/* Spread first checks over the interval (at most a
			 * minute at start-up so a restart is seen quickly). */
			spread = d->interval_s < 60 || m->once ? d->interval_s :
			    60;
			schedule(d, 0, m->once ? 0 : spread);
			/* Named up to LOG_NAMES: a catalog of thousands
			 * must not flood the log; the summary counts. */
			if (first || added >= LOG_NAMES)
				;
			else if (w->src == CATALOG_SRC &&
			    (size_t)w->line < m->cfg->n_catalogs)
				log_info("%s: added by catalog %s", d->name,
				    m->cfg->catalogs[w->line].zone);
			else
				log_info("%s: added by %s", d->name, why);
			added++;
		}
		list[n++] = d;
	}
	nameset_destroy(old);		/* it points into the old domains */
	for (j = 0; j < m->n_domains; j++) {
		if ((d = m->domains[j]) == NULL)
			continue;
		if (removed < LOG_NAMES)
			log_info("%s: removed by %s; its history is kept",
			    d->name, why);
		removed++;
		evtimer_del(d->timer);
		/* No ghost sensors in Home Assistant. */
		alerts_forget_domain(m->alerts, d->name);
		if (d->inflight) {
			struct mdomain **z = reallocarray(m->zombies,
			    m->n_zombies + 1, sizeof(*z));

			if (z != NULL) {
				/* Freed when its probe ends, or at exit. */
				d->removed = true;
				m->zombies = z;
				m->zombies[m->n_zombies++] = d;
			}
		} else
			domain_free(d);
	}
	free(m->domains);
	m->domains = list;
	m->n_domains = n;
	alerts_domains(m);
	if (!first)
		log_info("%s: %u added, %u removed, %zu monitored%s", why, added,
		    removed, n, added > LOG_NAMES || removed > LOG_NAMES ?
		    " (the first " LOG_NAMES_S " of each named)" : "");
	return 0;
}

struct wanted_build {
	struct monitor		*m;
	struct nameset		*seen;
	size_t			 cap;
	bool			 oom;
};

static void
want_member(void *arg, const char *name, const char *catalog)
{
	struct wanted_build	*b = arg;
	struct monitor		*m = b->m;
	struct config_domain	*d, *v;
	size_t			 i;

	if (b->oom)
		return;
	if (nameset_has(b->seen, name))
		return;		/* configured, or in an earlier catalog */
	if (m->n_wanted == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		if ((v = reallocarray(m->wanted, b->cap, sizeof(*v))) == NULL) {
			b->oom = true;
			return;
		}
		/* The set points at the names, which do not move with
		 * wanted[]. */
		m->wanted = v;
	}
	d = &m->wanted[m->n_wanted];
	memset(d, 0, sizeof(*d));
	if ((d->name = strpool_add(&m->wanted_names, name)) == NULL ||
	    nameset_add(b->seen, d->name, 0, NULL) == -1) {
		b->oom = true;
		return;
	}
	d->policy = m->cfg->policy;
	d->src = CATALOG_SRC;
	/* Which catalog, for the log: its index in the configuration. */
	for (i = 0; i < m->cfg->n_catalogs; i++)
		if (strcmp(m->cfg->catalogs[i].zone, catalog) == 0)
			d->line = (int)i;
	m->n_wanted++;
}

/* m->wanted from the configuration and the catalogs' members. */
static int
build_wanted(struct monitor *m)
{
	struct wanted_build	 b;
	size_t			 i;

	memset(&b, 0, sizeof(b));
	b.m = m;
	free(m->wanted);
	strpool_free(&m->wanted_names);
	m->n_wanted = 0;
	b.cap = m->cfg->n_domains + 64;
	if ((m->wanted = calloc(b.cap, sizeof(*m->wanted))) == NULL ||
	    (b.seen = nameset_create()) == NULL)
		goto fail;
	memcpy(m->wanted, m->cfg->domains, m->cfg->n_domains *
	    sizeof(*m->wanted));
	m->n_wanted = m->cfg->n_domains;
	for (i = 0; i < m->n_wanted; i++)
		if (nameset_add(b.seen, m->wanted[i].name, 0, NULL) == -1)
			goto fail;
	catalogs_each_member(m->cats, want_member, &b);
	if (b.oom)
		goto fail;
	nameset_destroy(b.seen);
	return 0;
fail:
	nameset_destroy(b.seen);
	/* At least the configured domains. */
	m->n_wanted = 0;
	if (m->wanted != NULL || (m->wanted = calloc(m->cfg->n_domains + 1,
	    sizeof(*m->wanted))) != NULL) {
		memcpy(m->wanted, m->cfg->domains, m->cfg->n_domains *
		    sizeof(*m->wanted));
		m->n_wanted = m->cfg->n_domains;
	}
	return -1;
}

static bool
engine_config_changed(const struct config *a, const struct config *b)
{
	unsigned	 i;

#define SAME_STR(x, y) ((x) == NULL ? (y) == NULL : (y) != NULL && strcmp((x), (y)) == 0)
	if (!SAME_STR(a->trust_anchor, b->trust_anchor) ||
	    !SAME_STR(a->root_hints, b->root_hints) ||
	    a->n_resolvers != b->n_resolvers || a->timeout_ms != b->timeout_ms ||
	    a->retries != b->retries || a->max_domains != b->max_domains ||
	    a->max_queries != b->max_queries ||
	    a->per_server_qps != b->per_server_qps || a->ipv6 != b->ipv6)
		return true;
	for (i = 0; i < a->n_resolvers; i++)
		if (strcmp(a->resolvers[i], b->resolvers[i]) != 0)
			return true;
	return false;
#undef SAME_STR
}

/*
 * This daemon's name from cfg (instance:, else host name and shard), into
 * m->instance and where the alert sinks read it. -1: out of memory.
 */
static int
identity_apply(struct monitor *m, struct config *cfg)
{
	shard_instance(cfg->instance, m->host, m->shard_k, m->shard_n,
	    m->instance, sizeof(m->instance));
	free(cfg->alerts.instance);
	if ((cfg->alerts.instance = strdup(m->instance)) == NULL)
		return -1;
	return 0;
}

/* The catalogs' status for /metrics and the API. */
static void
export_catalogs(struct monitor *m)
{
	struct export_catalog	*v;
	struct catalog_status	 st;
	size_t			 i, n = catalogs_count(m->cats);

	if (m->export == NULL)
		return;
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL) {
		log_warnx("http: out of memory for the catalog list");
		return;
	}
	for (i = 0; i < n; i++) {
		catalogs_status(m->cats, i, &st);
		v[i].zone = st.zone;
		v[i].primary = st.primary;
		v[i].members = st.members;
		v[i].excess = st.excess;
		v[i].ignored = st.ignored;
		v[i].serial = st.serial;
		v[i].have = st.have;
		v[i].ok = st.ok;
		v[i].last_success = st.last_success;
		v[i].last_attempt = st.last_attempt;
		v[i].error = st.error;
	}
	if (export_set_catalogs(m->export, v, n) == -1)
		log_warnx("http: out of memory for the catalog list");
	free(v);
}

/* The monitored set for the exporter (this shard's, and the others for
 * the webhook). */
static void
export_domains(struct monitor *m)
{
	struct export_domain	*list;
	size_t			 i;

	if (m->export == NULL)
		return;
	export_catalogs(m);
	if ((list = calloc(m->n_wanted ? m->n_wanted : 1,
	    sizeof(*list))) == NULL) {
		log_warnx("http: out of memory for the domain list");
		return;
	}
	for (i = 0; i < m->n_wanted; i++) {
		list[i].name = m->wanted[i].name;
		list[i].policy = m->wanted[i].policy;
		list[i].interval_s = m->wanted[i].interval_s ?
		    m->wanted[i].interval_s : m->cfg->interval_s;
		list[i].in_shard = in_shard(m, m->wanted[i].name);
		if (m->wanted[i].src == CATALOG_SRC &&
		    (size_t)m->wanted[i].line < m->cfg->n_catalogs)
			list[i].catalog =
			    m->cfg->catalogs[m->wanted[i].line].zone;
	}
	if (export_set_domains(m->export, list, m->n_wanted) == -1)
		log_warnx("http: out of memory for the domain list");
	free(list);
}

/* A catalog was polled; when its members changed, monitor the new set. */
static void
catalogs_changed(void *arg, bool members)
{
	struct monitor	*m = arg;

	if (m->reloading)
		return;		/* reload() applies once, at its end */
	if (members) {
		if (build_wanted(m) == -1)
			log_warnx("catalog: out of memory for the members");
		if (apply_domains(m, false, "catalog") == -1)
			log_warnx("catalog: out of memory applying domains");
		export_domains(m);
	} else {
		export_catalogs(m);
		/* A first transfer with no member makes the set whole. */
		if (domains_whole(m) != m->alerts_whole)
			alerts_domains(m);
	}
	maybe_finish(m);
}

/*
 * The HTTP exporter from m->cfg: created, moved or closed as
 * the configuration says, fed the domain list (this shard's, plus the
 * others for the webhook) and the store. -1 with err when it could not
 * listen where asked.
 */
static int
export_apply(struct monitor *m, char *err, size_t errlen)
{
	const struct config	*c = m->cfg;
	struct export_settings	 s;
	bool			 created = false;
	int			 rc;

	if (c->http_listen == NULL) {
		if (m->export != NULL)
			log_info("http: no http or hooks in the configuration "
			    "any more: listener closed");
		export_destroy(m->export);
		m->export = NULL;
		return 0;
	}
	if (m->hostevents == NULL &&
	    (m->hostevents = hostevents_create()) == NULL) {
		snprintf(err, errlen, "webhooks: out of memory");
		return -1;
	}
	if (m->export == NULL) {
		if ((m->export = export_create(m->base, m->hostevents, err,
		    errlen)) == NULL)
			return -1;
		created = true;
	}
	memset(&s, 0, sizeof(s));
	s.addr = (const struct sockaddr *)&c->http_addr;
	s.addrlen = c->http_addrlen;
	s.listen_text = c->http_listen;
	s.max_connections = c->http_max_connections;
	s.max_per_client = c->http_max_per_client;
	s.timeout_s = c->http_timeout_s;
	s.request_timeout_s = c->http_request_timeout_s;
	s.refresh_s = c->http_refresh_s;
	s.no_enum_zeros = !c->http_enum_zeros;
	s.dnsimple_secret = c->hooks_dnsimple_secret;
	if ((rc = export_listen(m->export, &s, err, errlen)) == -1 &&
	    created) {
		export_destroy(m->export);
		m->export = NULL;
		return -1;
	}
	export_set_store(m->export, m->store);
	export_set_identity(m->export, m->instance, m->shard_k, m->shard_n);
	export_on_host_event(m->export, host_event, m);
	export_on_host_webhook(m->export, host_webhook, m);
	export_domains(m);
	return rc;
}

static void
reload(struct monitor *m)
{
	struct config_errors	 errs;
	struct config		*nc, *old;
	struct probe_engine	*ne = NULL;
	struct probe_config	 pc;
	struct store		*ns = NULL;
	char			 err[512];
	unsigned		 i;
	size_t			 j;
	struct timespec		 t0, t1, t2;

	/* The batch is recorded in the store (and points at domains) that
	 * this may replace. */
	batch_flush(m);
	sd_notify_msg("RELOADING=1");
	log_info("SIGHUP: reloading %s", m->config_path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nc = config_load(m->config_path, &errs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (nc == NULL) {
		for (i = 0; i < errs.n; i++)
			log_warnx("%s", errs.msg[i]);
		log_warnx("reload: %s has errors; keeping the running "
		    "configuration", m->config_path);
		goto done;
	}
	if (engine_config_changed(m->cfg, nc)) {
		pc = engine_config(nc);
		if ((ne = probe_engine_create(m->base, &pc, err,
		    sizeof(err))) == NULL) {
			log_warnx("reload: %s; keeping the running "
			    "configuration", err);
			config_free(nc);
			goto done;
		}
	}
	if (strcmp(nc->database, m->cfg->database) != 0 &&
	    (config_check_database(nc, err, sizeof(err)) == -1 ||
	    (ns = store_open(nc->database, err, sizeof(err))) == NULL)) {
		log_warnx("reload: %s; keeping the running configuration", err);
		probe_engine_destroy(ne);
		config_free(nc);
		goto done;
	}
	/* Valid: swap. Checks in flight on the old engine are cancelled
	 * (no callback) and started again on the new one. */
	if (ne != NULL) {
		probe_engine_destroy(m->engine);
		m->engine = ne;
		for (j = 0; j < m->n_domains; j++)
			if (m->domains[j]->inflight) {
				m->domains[j]->inflight = false;
				schedule(m->domains[j], 0, 0);
			}
		log_info("reload: probe settings changed, engine restarted");
	}
	if (ns != NULL) {
		store_close(m->store);
		m->store = ns;
		log_info("reload: now recording to %s", nc->database);
	}
	old = m->cfg;
	m->cfg = nc;
	if (strcmp(m->instance, shard_instance(nc->instance, m->host,
	    m->shard_k, m->shard_n, err, sizeof(err))) != 0)
		log_info("reload: instance %s is now %s", m->instance, err);
	if (identity_apply(m, nc) == -1)
		log_warnx("reload: out of memory naming the instance");
	m->reloading = true;
	if (catalogs_configure(m->cats, nc->catalogs, nc->n_catalogs,
	    nc->timeout_ms) == -1)
		log_warnx("reload: out of memory for the catalogs; they keep "
		    "their settings");
	m->reloading = false;
	if (build_wanted(m) == -1)
		log_warnx("reload: out of memory for the catalogs' members");
	if (apply_domains(m, false, "reload") == -1)
		log_warnx("reload: out of memory applying domains");
	if (alerts_reconfigure(m->alerts, &nc->alerts, m->store, err,
	    sizeof(err)) == -1)
		log_warnx("reload: %s; the alert sinks keep their settings",
		    err);
	alerts_domains(m);	/* a sink started anew knows none */
	if (export_apply(m, err, sizeof(err)) == -1)
		log_warnx("reload: %s; the HTTP listener keeps its address", err);
	config_free(old);
	/* The whole reload blocks the loop: how long, and how much of it
	 * was reading the file, so a large configuration's cost is seen
	 * (make bench times it; issue 15 wants it under 2% of a cycle). */
	clock_gettime(CLOCK_MONOTONIC, &t2);
	log_info("reload: done in %.3f s (configuration read in %.3f s), "
	    "%zu domains monitored", elapsed(&t0, &t2), elapsed(&t0, &t1),
	    m->n_domains);
done:
	sd_notify_msg("READY=1");
}

static void
drain_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct monitor	*m = arg;

	(void)fd; (void)ev;
	log_warnx("stop: checks still in flight after %d s; abandoning them",
	    DRAIN_SECONDS);
	event_base_loopexit(m->base, NULL);
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct monitor	*m = arg;
	struct timeval	 tv = { DRAIN_SECONDS, 0 };
	size_t		 i;

	(void)ev;
	if (sig == SIGHUP) {
		if (!m->stopping)
			reload(m);
		return;
	}
	if (m->stopping)
		return;
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	sd_notify_msg("STOPPING=1");
	m->stopping = true;
	for (i = 0; i < m->n_domains; i++)
		evtimer_del(m->domains[i]->timer);
	/* Probes still queued in the engine have not sent a packet: drop
	 * them now instead of waiting the drain out for them. */
	probe_drop_queued(m->engine, probe_dropped);
	if ((m->drain = evtimer_new(m->base, drain_timeout, m)) != NULL)
		evtimer_add(m->drain, &tv);
	maybe_finish(m);
}

static void
prune_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct monitor	*m = arg;
	struct timeval	 tv = { PRUNE_EVERY, 0 };
	long		 n;

	(void)fd; (void)ev;
	if (m->store != NULL) {
		/* Bounded batches: retention never holds the write lock long
		 * enough to delay a check. */
		n = store_prune(m->store, clock_now() - m->cfg->retention_s,
		    1000, 20);
		if (n < 0)
			log_warnx("retention: %s", store_error(m->store));
		else if (n > 0)
			log_info("retention: %ld old observations deleted", n);
	}
	evtimer_add(m->prune, &tv);
}

/*
 * A database deleted or replaced under the daemon cannot keep what it is
 * given: SQLite goes on writing into the unlinked inode, and a restart
 * finds the history, outbox and rotations gone. The store refuses every
 * transaction from then on (webhooks get 503, /readyz is not ready);
 * the daemon says why and exits non-zero so that the service manager
 * restarts it on the file as it is now, rather than run on, silently
 * amnesic.
 */
static void
store_lost(struct monitor *m)
{
	if (m->exit_code != 0)
		return;
	log_warnx("%s; exiting with status 1 so that the service manager "
	    "restarts dnssecmon on the database as it is now (restore the "
	    "file from a backup first to keep the history)",
	    store_gone(m->store));
	m->exit_code = 1;
	m->stopping = true;
	event_base_loopexit(m->base, NULL);
}

static void
watch_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct monitor	*m = arg;
	struct timeval	 tv = { WATCH_EVERY, 0 };

	(void)fd; (void)ev;
	if (m->store != NULL && store_file_check(m->store) == -1) {
		store_lost(m);
		return;
	}
	evtimer_add(m->watch, &tv);
}

static void
print_errors(const struct config_errors *errs)
{
	unsigned	 i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	if (errs->dropped)
		fprintf(stderr, "(%u more errors not shown)\n", errs->dropped);
}

/* run -n -v: what the domain sources add up to, and where each came
 * from, so that a conf.d or a list can be checked before a reload. */
static void
print_sources(const struct config *c)
{
	size_t	 i;

	printf("%zu domains from %u files, %zu catalogs\n", c->n_domains,
	    c->n_sources, c->n_catalogs);
	for (i = 0; i < c->n_domains; i++)
		printf("domain %s %s:%d\n", c->domains[i].name,
		    c->sources[c->domains[i].src], c->domains[i].line);
	for (i = 0; i < c->n_catalogs; i++)
		printf("catalog %s primary %s%s%s max_members %u refresh %ds "
		    "%s:%d\n", c->catalogs[i].zone, c->catalogs[i].primary,
		    c->catalogs[i].tsig_name[0] ? " tsig " : "",
		    c->catalogs[i].tsig_name, c->catalogs[i].max_members,
		    c->catalogs[i].refresh_s, c->sources[c->catalogs[i].src],
		    c->catalogs[i].line);
}

/* What the command line says beside the monitor's own fields. */
struct run_opts {
	const char	*logdest;	/* NULL: the configuration's */
	int		 verbose;
	bool		 check_only;	/* -n */
};

/* -1: a usage error (said), 1: done (--help), 0: go on. */
static int
run_options(int argc, char *argv[], struct monitor *m, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "check-config", no_argument,	   NULL, 'n' },
		{ "shard",	required_argument, NULL, 'S' },
		{ "log",	required_argument, NULL, 'L' },
		{ "once",	no_argument,	   NULL, 'O' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	 err[512];
	int	 ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:nvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			m->config_path = optarg;
			break;
		case 'n':
			o->check_only = true;
			break;
		case 'S':
			if (shard_parse(optarg, m->host, getenv(SHARD_ENV),
			    &m->shard_k, &m->shard_n, err, sizeof(err)) == -1) {
				log_warnx("%s", err);
				return -1;
			}
			break;
		case 'L':
			if (strcmp(optarg, "stderr") != 0 &&
			    strcmp(optarg, "syslog") != 0 &&
			    strcmp(optarg, "json") != 0) {
				log_warnx("--log '%s': expected stderr, syslog "
				    "or json", optarg);
				return -1;
			}
			o->logdest = optarg;
			break;
		case 'O':
			m->once = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			cli_help("run");
			return 1;
		case ':':
			log_warnx("option '%s' needs a value", argv[optind - 1]);
			return -1;
		default:
			log_warnx("unknown option '%s' (see 'dnssecmon run "
			    "--help')", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		log_warnx("unexpected argument '%s' (domains go in the "
		    "configuration file)", argv[optind]);
		return -1;
	}
	if (m->config_path == NULL) {
		m->config_path = CONFIG_DEFAULT_PATH;
		if (access(m->config_path, F_OK) == -1) {
			log_warnx("no -c FILE given and %s does not exist: "
			    "write it (see etc/dnssecmon.yaml and "
			    "dnssecmon.conf(5)) or name another with -c",
			    m->config_path);
			return -1;
		}
	}
	return 0;
}

/*
 * How long -n may spend reading the database (PRAGMA quick_check): it runs
 * before every start (the systemd unit's ExecStartPre), so a large file
 * must not hold the start up for long.
 */
#define CHECK_DB_BUDGET_MS	10000

/* -n: the configuration and its database are usable; the exit status. */
static int
run_check_config(struct monitor *m, bool verbose)
{
	char	 err[768];
	bool	 partial;
	int	 rc = 0;

	if (config_check_database(m->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", m->config_path, err);
		rc = 1;
	} else if (store_verify(m->cfg->database, CHECK_DB_BUDGET_MS,
	    &partial, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: database: %s\n", m->config_path, err);
		rc = 1;
	} else {
		if (partial)
			fprintf(stderr, "%s: database: %s: checked for %d s "
			    "and stopped: a database this large is checked "
			    "only in part (sqlite3 %s 'PRAGMA quick_check' "
			    "checks all of it)\n", m->config_path,
			    m->cfg->database, CHECK_DB_BUDGET_MS / 1000,
			    m->cfg->database);
		printf("configuration OK\n");
		if (verbose)
			print_sources(m->cfg);
	}
	config_free(m->cfg);
	return rc;
}

/* Engine, store, alerts, exporter and domains, in the order each needs
 * the one before; any failure here is fatal (start-up). */
static void
monitor_start(struct monitor *m, const struct run_opts *o)
{
	struct probe_config	 pc;
	const char		*logdest = o->logdest;
	char			 err[512];

	if (logdest == NULL)
		logdest = m->cfg->log;
	log_init(strcmp(logdest, "syslog") == 0 ? LOG_TO_SYSLOG :
	    strcmp(logdest, "json") == 0 ? LOG_TO_JSON : LOG_TO_STDERR,
	    o->verbose, "dnssecmon");
	srandom((unsigned)(time(NULL) ^ getpid()));

	if ((m->base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	pc = engine_config(m->cfg);
	if ((m->engine = probe_engine_create(m->base, &pc, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (config_check_database(m->cfg, err, sizeof(err)) == -1 ||
	    (m->store = store_open(m->cfg->database, err, sizeof(err))) ==
	    NULL)
		fatalx("%s", err);
	if (identity_apply(m, m->cfg) == -1)
		fatalx("out of memory");
	log_instance(m->instance);
	if ((m->alerts = alerts_create(m->base, &m->cfg->alerts, m->store,
	    err, sizeof(err))) == NULL)
		fatalx("%s", err);
	alerts_on_host_event(m->alerts, host_event_relayed, m);
	/* The domains (with no catalog member yet: the first transfers
	 * start here, in their threads) before the exporter lists them. */
	if ((m->cats = catalogs_create(m->base, m->cfg->timeout_ms,
	    catalogs_changed, m)) == NULL ||
	    catalogs_configure(m->cats, m->cfg->catalogs, m->cfg->n_catalogs,
	    m->cfg->timeout_ms) == -1 || build_wanted(m) == -1 ||
	    apply_domains(m, true, "start") == -1)
		fatalx("out of memory");
	if (export_apply(m, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/* SIGHUP, SIGTERM, SIGINT, and the prune and store-watch timers (not
 * for --once: one round, then out). */
static void
monitor_events(struct monitor *m)
{
	struct timeval	 tv = { PRUNE_EVERY, 0 }, wtv = { WATCH_EVERY, 0 };

	m->sig_hup = evsignal_new(m->base, SIGHUP, on_signal, m);
	m->sig_term = evsignal_new(m->base, SIGTERM, on_signal, m);
	m->sig_int = evsignal_new(m->base, SIGINT, on_signal, m);
	m->prune = evtimer_new(m->base, prune_tick, m);
	m->watch = evtimer_new(m->base, watch_tick, m);
	m->batch_ev = event_new(m->base, -1, 0, batch_due, m);
	m->batch = calloc(BATCH_MAX, sizeof(*m->batch));
	if (m->sig_hup == NULL || m->sig_term == NULL || m->sig_int == NULL ||
	    m->prune == NULL || m->watch == NULL || m->batch_ev == NULL ||
	    m->batch == NULL)
		fatalx("cannot set up signal handling");
	evsignal_add(m->sig_hup, NULL);
	evsignal_add(m->sig_term, NULL);
	evsignal_add(m->sig_int, NULL);
	if (!m->once) {
		evtimer_add(m->prune, &tv);
		evtimer_add(m->watch, &wtv);
	}
	signal(SIGPIPE, SIG_IGN);
}

static void
monitor_announce(struct monitor *m)
{
	log_info("dnssecmon %s: monitoring %zu domains%s (interval %ds, "
	    "database %s)", DNSSECMON_VERSION, m->n_domains,
	    m->shard_n ? " of this shard" : "", m->cfg->interval_s,
	    m->cfg->database);
	log_info("instance %s", m->instance);
	if (m->shard_n)
		log_info("shard %u of %u: %zu of %zu configured domains",
		    m->shard_k, m->shard_n, m->n_domains, m->cfg->n_domains);
	sd_notify_msg("READY=1");
	if (m->n_domains == 0 && m->cfg->n_catalogs > 0)
		log_info("no domain yet: waiting for the catalogs' members");
	else if (m->n_domains == 0)
		log_warnx("no domain falls in this shard; idling");
	if (m->once && m->n_domains == 0 && m->cfg->n_catalogs == 0)
		event_base_loopexit(m->base, NULL);
}

/* The loop, then one machine-readable line: `make bench` reads it. */
static void
monitor_loop(struct monitor *m)
{
	struct timespec		 t0, t1;
	struct probe_stats	 st;
	double			 secs;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	event_base_dispatch(m->base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	probe_engine_stats(m->engine, &st);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	log_info("round: %zu checks in %.3f s, %llu packets (%llu over TCP "
	    "on %llu connections) to authoritative servers, %llu validations, "
	    "%llu resolver queries, %llu timeouts (%llu not asked again: "
	    "silent addresses), %llu validations cut short; "
	    "store %.3f s (CPU %.3f s) in %lu commits", m->checks_done, secs,
	    st.packets, st.tcp_packets, st.tcp_connections, st.validations,
	    st.resolver_queries, st.timeouts, st.silent_cut,
	    st.validation_timeouts, m->store_s, m->store_cpu_s,
	    m->store_batches);
}

/* Stop: the engine first, so that no callback runs after what it uses
 * is gone. */
static void
monitor_stop(struct monitor *m)
{
	size_t	 i;

	catalogs_destroy(m->cats);	/* transfers in flight: abandoned */
	probe_engine_destroy(m->engine);
	batch_flush(m);		/* checks that ended as the loop did */
	alerts_flush(m->alerts, 5);
	alerts_destroy(m->alerts);
	export_destroy(m->export);
	hostevents_destroy(m->hostevents);	/* after its exporter */
	store_close(m->store);
	for (i = 0; i < m->n_domains; i++)
		domain_free(m->domains[i]);
	free(m->domains);
	free(m->wanted);
	strpool_free(&m->wanted_names);
	for (i = 0; i < m->n_zombies; i++)
		domain_free(m->zombies[i]);
	free(m->zombies);
	if (m->drain != NULL)
		event_free(m->drain);
	event_free(m->sig_hup);
	event_free(m->sig_term);
	event_free(m->sig_int);
	event_free(m->prune);
	event_free(m->watch);
	if (m->batch_ev != NULL)
		event_free(m->batch_ev);
	free(m->batch);
	event_base_free(m->base);
	config_free(m->cfg);
	log_info("stopped after %zu checks", m->checks_done);
	log_instance(NULL);	/* m->instance goes with the caller's frame */
}

int
cmd_run(int argc, char *argv[])
{
	struct monitor		 m;
	struct run_opts		 o;
	struct config_errors	 errs;

	memset(&m, 0, sizeof(m));
	memset(&o, 0, sizeof(o));
	log_procname("dnssecmon");
	if (gethostname(m.host, sizeof(m.host)) == -1)
		m.host[0] = '\0';
	m.host[sizeof(m.host) - 1] = '\0';
	switch (run_options(argc, argv, &m, &o)) {
	case -1:
		return EXIT_UNKNOWN;
	case 1:
		return EXIT_OK;
	}
	if ((m.cfg = config_load(m.config_path, &errs)) == NULL) {
		print_errors(&errs);
		return 1;
	}
	if (o.check_only)
		return run_check_config(&m, o.verbose > 0);
	monitor_start(&m, &o);
	monitor_events(&m);
	monitor_announce(&m);
	monitor_loop(&m);
	monitor_stop(&m);
	return m.exit_code;
}
