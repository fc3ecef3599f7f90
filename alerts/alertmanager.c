/*
 * The Alertmanager sink: Prometheus Alertmanager's v2 API
 * (POST /api/v2/alerts) on every peer of a cluster.
 *
 * Why every peer: the peers of an Alertmanager cluster gossip silences
 * and what they have notified, not the alerts themselves. Prometheus
 * therefore posts each alert to all of them, and so do we; the cluster
 * then sends one notification. Replicas of one shard post the same
 * labels (this daemon's name is an annotation, never a label), so their
 * two copies of an alert are one alert to Alertmanager.
 *
 * Two streams, as in Prometheus:
 *  - each outbox row (a transition) is posted to every peer at once. It
 *    is delivered when at least one peer took it (2xx): that peer
 *    notifies, and the others learn it from the next resend. It is
 *    retried with backoff while no peer takes it, and given up only when
 *    every peer refuses it for good (4xx but 408, 429): the outbox keeps
 *    its no-loss order as for a webhook;
 *  - every resend_s, the alerts still open (and those resolved in the
 *    last RESOLVED_KEEP_S, so that a peer that missed the resolution
 *    hears it) are posted again to every peer, with endsAt RESEND_ENDS
 *    resends ahead: an alert no daemon speaks of any more (all replicas
 *    gone) expires instead of staying for ever.
 *
 * The open alerts are held here, one entry per label set, read from the
 * store at start (their last payload is the outbox's) and updated by each
 * row delivered. Cost: one linear search per transition and one request
 * per peer per RESEND_BATCH alerts per resend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "alerts/internal.h"
#include "common/clock.h"
#include "common/log.h"

#define RESOLVED_KEEP_S	900	/* a resolution is resent this long */
#define RESEND_ENDS	4	/* an open alert lasts this many resends */
#define RESEND_BATCH	256	/* alerts in one resend request */
#define MAX_RESPONSE	65536

struct am;

/* One request slot of a peer: the row's, or the resend's. */
struct am_req {
	struct am_peer		*peer;
	bool			 row;
	bool			 busy;
	struct evhttp_connection *conn, *dead;
	struct event		*reaper;
	bool			 have_error;
	int			 last_error;
};

struct am_peer {
	struct am		*m;
	char			 url[512];	/* for the log */
	bool			 https;
	char			 host[256];
	int			 port;
	char			 path[2048];
	struct am_req		 rowreq, resendreq;
	int			 row_code;	/* of this row: 0 failed */
	char			 row_why[256];
	size_t			 next_batch;	/* of the resend under way */
	bool			 down;		/* the last resend failed */
};

/* An alert as Alertmanager knows it: one label set. */
struct am_alert {
	char			 domain[PROBE_NAME_MAX];
	char			 code[40];
	char			 severity[16];
	int64_t			 alert_id;	/* the store's */
	int64_t			 row_id;	/* the outbox row it is from;
						   0: not known */
	json_t			*obj;		/* labels, annotations,
						   startsAt */
	time_t			 ends;		/* resolved at; 0: open */
};

struct am {
	struct sink		*s;
	SSL_CTX			*ctx;
	long			 resend_s, timeout_s;
	unsigned		 n_headers;
	char			*hname[ALERTS_MAX_HEADERS];
	char			*hvalue[ALERTS_MAX_HEADERS];
	unsigned		 n_peers;
	struct am_peer		 peer[ALERTS_AM_MAX_URLS];
	unsigned		 pending;	/* peers the row waits for */
	struct am_alert		*alerts;
	size_t			 n_alerts, cap_alerts;
	bool			 loaded;	/* from the store */
	char			**batches;	/* the resend under way */
	size_t			 n_batches;
	struct event		*resend;
};

/* ------------------------------------------------------- the set */

static struct am_alert *
find(struct am *m, const char *domain, const char *code, const char *sev)
{
	size_t	 i;

	for (i = 0; i < m->n_alerts; i++)
		if (strcmp(m->alerts[i].domain, domain) == 0 &&
		    strcmp(m->alerts[i].code, code) == 0 &&
		    (sev == NULL || strcmp(m->alerts[i].severity, sev) == 0))
			return &m->alerts[i];
	return NULL;
}

/* The entry of (domain, code) from the newest transition, any severity. */
static struct am_alert *
newest(struct am *m, const char *domain, const char *code)
{
	struct am_alert	*e, *best = NULL;
	size_t		 i;

	for (i = 0; i < m->n_alerts; i++) {
		e = &m->alerts[i];
		if (strcmp(e->domain, domain) != 0 || strcmp(e->code, code) != 0)
			continue;
		if (best == NULL || e->alert_id > best->alert_id ||
		    (e->alert_id == best->alert_id && e->row_id > best->row_id))
			best = e;
	}
	return best;
}

/* Is what e holds newer than the transition (alert_id, row_id)? An
 * alert fired anew has a higher id; rows of one alert come in order. */
static bool
newer(const struct am_alert *e, int64_t alert_id, int64_t row_id)
{
	return e->alert_id > alert_id ||
	    (e->alert_id == alert_id && e->row_id != 0 && e->row_id > row_id);
}

/* A new entry for obj (taken), or NULL: out of memory (obj freed). */
static struct am_alert *
add(struct am *m, json_t *obj)
{
	struct am_alert	*e, *n;
	json_t		*l = json_object_get(obj, "labels");
	size_t		 cap;

	if (m->n_alerts == m->cap_alerts) {
		cap = m->cap_alerts ? 2 * m->cap_alerts : 16;
		if ((n = reallocarray(m->alerts, cap, sizeof(*n))) == NULL) {
			json_decref(obj);
			return NULL;
		}
		m->alerts = n;
		m->cap_alerts = cap;
	}
	e = &m->alerts[m->n_alerts++];
	memset(e, 0, sizeof(*e));
	snprintf(e->domain, sizeof(e->domain), "%s",
	    json_string_value(json_object_get(l, "domain")));
	snprintf(e->code, sizeof(e->code), "%s",
	    json_string_value(json_object_get(l, "code")));
	snprintf(e->severity, sizeof(e->severity), "%s",
	    json_string_value(json_object_get(l, "severity")));
	e->obj = obj;
	return e;
}

/* Resolutions older than RESOLVED_KEEP_S are forgotten. */
static void
prune(struct am *m, time_t now)
{
	size_t	 i = 0;

	while (i < m->n_alerts) {
		if (m->alerts[i].ends != 0 &&
		    m->alerts[i].ends < now - RESOLVED_KEEP_S) {
			json_decref(m->alerts[i].obj);
			m->alerts[i] = m->alerts[--m->n_alerts];
		} else
			i++;
	}
}

/* The alert as posted now: an open one lasts RESEND_ENDS resends. */
static json_t *
posted(const struct am *m, const struct am_alert *e, time_t now)
{
	json_t	*o = json_copy(e->obj);
	char	 buf[32];

	if (o != NULL)
		json_object_set_new(o, "endsAt", json_string(clock_rfc3339(
		    e->ends ? e->ends : now + RESEND_ENDS * m->resend_s, buf,
		    sizeof(buf))));
	return o;
}

/*
 * One alert (obj, taken) into the set: the transition alert_id/row_id
 * of the store, made at `at`, resolved or not. With body (a row being
 * delivered), what to post is appended to it: the alert as it stands
 * and, when the severity changed, the old label set ended (to
 * Alertmanager another severity is another alert). A transition older
 * than what the set holds (rows still pending at start, when the set
 * was read from the store's newest state) posts the newer state
 * instead: the outbox order must not make Alertmanager go back in time.
 * Without body (read from the store at start) an older alert is kept
 * only as a resolution of its own label set.
 */
static void
keep(struct am *m, json_t *obj, int64_t alert_id, int64_t row_id,
    bool resolved, time_t at, json_t *body, time_t now)
{
	struct am_alert	*e, *o;
	json_t		*l = json_object_get(obj, "labels");
	const char	*domain, *code, *sev;
	size_t		 i;

	domain = json_string_value(json_object_get(l, "domain"));
	code = json_string_value(json_object_get(l, "code"));
	sev = json_string_value(json_object_get(l, "severity"));
	if ((e = newest(m, domain, code)) != NULL &&
	    newer(e, alert_id, row_id)) {
		if (body == NULL) {
			if (resolved && find(m, domain, code, sev) == NULL &&
			    (o = add(m, obj)) != NULL) {
				o->alert_id = alert_id;
				o->row_id = row_id;
				o->ends = at;
			} else
				json_decref(obj);
			return;
		}
		for (i = 0; i < m->n_alerts; i++)
			if (strcmp(m->alerts[i].domain, domain) == 0 &&
			    strcmp(m->alerts[i].code, code) == 0)
				json_array_append_new(body,
				    posted(m, &m->alerts[i], now));
		json_decref(obj);
		return;
	}
	/* Other severities of this alert end now (or ended with this row:
	 * a retry of the row says so again). */
	for (i = 0; body != NULL && i < m->n_alerts; i++) {
		o = &m->alerts[i];
		if (strcmp(o->domain, domain) == 0 &&
		    strcmp(o->code, code) == 0 &&
		    strcmp(o->severity, sev) != 0 &&
		    (o->ends == 0 || o->ends == at)) {
			o->ends = at;
			json_array_append_new(body, posted(m, o, now));
		}
	}
	/* The entry takes obj (add() frees it on failure); domain, code and
	 * sev point into it and stay valid. */
	if ((e = find(m, domain, code, sev)) != NULL) {
		json_decref(e->obj);
		e->obj = obj;
	} else if ((e = add(m, obj)) == NULL)
		return;
	e->alert_id = alert_id;
	e->row_id = row_id;
	e->ends = resolved ? at : 0;
	if (body != NULL)
		json_array_append_new(body, posted(m, e, now));
}

/* A payload from the alert's own row, when the outbox has none left. */
static char *
fallback(const struct store_alert *a)
{
	json_t	*o;
	char	 fired[32], at[32], *out = NULL;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "domain",
	    a->domain, "code", a->code, "severity", a->severity, "message",
	    a->message, "transition", a->resolved_at ? "resolved" : "reminder",
	    "first_fired", clock_rfc3339(a->first_fired, fired, sizeof(fired)),
	    "time", clock_rfc3339(a->resolved_at ? a->resolved_at :
	    a->last_notified, at, sizeof(at)));
	if (o != NULL)
		out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

/*
 * The alerts the store has open (or resolved lately), from the last
 * transition of each: what Alertmanager must hear again after a restart.
 */
static void
load(struct am *m, time_t now)
{
	struct store		*st = m->s->a->store;
	struct store_alert	*list = NULL;
	json_t			*obj, *p;
	char			*payload;
	size_t			 n = 0, i;
	bool			 resolved;
	time_t			 at;

	if (st == NULL || m->loaded)
		return;
	if (store_alerts(st, now - RESOLVED_KEEP_S, &list, &n) == -1) {
		log_warnx("%s: reading the open alerts: %s; again at the next "
		    "resend", m->s->name, store_error(st));
		return;
	}
	for (i = 0; i < n; i++) {
		if (store_alert_last_payload(st, list[i].id, &payload) == 0)
			/* Pruned: what the alert row itself says. */
			payload = fallback(&list[i]);
		if (payload == NULL)
			continue;
		p = json_loads(payload, 0, NULL);
		free(payload);
		if (p == NULL)
			continue;
		/* As a delivery would stamp it (the outbox does not). */
		if (m->s->a->instance != NULL)
			json_object_set_new(p, "instance",
			    json_string(m->s->a->instance));
		if ((obj = alerts_am_alert(p, p, &resolved, &at)) != NULL)
			keep(m, obj, list[i].id, json_integer_value(
			    json_object_get(p, "id")), resolved, at, NULL, now);
		json_decref(p);
	}
	free(list);
	m->loaded = true;
}

/*
 * What to post for the outbox row: an alert for each of its transitions
 * (one, or those of a check grouped by alerts.group: check), the set
 * updated. NULL: the payload is not ours.
 */
static json_t *
take_row(struct am *m, const struct store_outbox_row *row, time_t now)
{
	json_t		*p, *g, *e, *obj, *body = NULL;
	size_t		 i, n;
	bool		 resolved;
	time_t		 at;

	if ((p = json_loads(row->payload, 0, NULL)) == NULL)
		return NULL;
	g = json_object_get(p, "grouped");
	if (!json_is_array(g) || json_array_size(g) == 0)
		g = NULL;
	n = g != NULL ? json_array_size(g) : 1;
	for (i = 0; i < n; i++) {
		e = g != NULL ? json_array_get(g, i) : p;
		if ((obj = alerts_am_alert(p, e, &resolved, &at)) == NULL)
			continue;
		if (body == NULL && (body = json_array()) == NULL) {
			json_decref(obj);
			break;
		}
		keep(m, obj, g != NULL ? json_integer_value(json_object_get(e,
		    "alert_id")) : row->alert_id, g != NULL ?
		    json_integer_value(json_object_get(e, "id")) : row->id,
		    resolved, at, body, now);
	}
	json_decref(p);
	return body;
}

/* ------------------------------------------------------------ HTTP */

static void
reap(evutil_socket_t fd, short ev, void *arg)
{
	struct am_req	*q = arg;

	(void)fd; (void)ev;
	if (q->dead != NULL)
		evhttp_connection_free(q->dead);
	q->dead = NULL;
}

/* Never free a connection inside its own callback: from the loop. */
static void
retire(struct am_req *q)
{
	static const struct timeval zero = { 0, 0 };

	if (q->conn == NULL)
		return;
	if (q->dead != NULL)
		evhttp_connection_free(q->dead);
	q->dead = q->conn;
	q->conn = NULL;
	evtimer_add(q->reaper, &zero);
}

static void	row_answer(struct am_peer *, int code, const char *why);
static void	resend_answer(struct am_peer *, int code, const char *why);

static void
on_error(enum evhttp_request_error e, void *arg)
{
	struct am_req	*q = arg;

	q->last_error = (int)e;
	q->have_error = true;
}

static void
on_response(struct evhttp_request *req, void *arg)
{
	struct am_req	*q = arg;
	const char	*line;
	char		 why[300];
	int		 code;

	code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (code == 0)
		snprintf(why, sizeof(why), "%s", q->have_error ?
		    alerts_http_error(q->last_error) : "connection failed");
	else {
		line = evhttp_request_get_response_code_line(req);
		snprintf(why, sizeof(why), "HTTP %d%s%s", code, line ? " " : "",
		    line ? line : "");
	}
	retire(q);
	q->busy = false;
	if (q->row)
		row_answer(q->peer, code, why);
	else
		resend_answer(q->peer, code, why);
}

/* POST body to the peer on slot q. -1: it could not start (no call). */
static int
post(struct am_req *q, const char *body)
{
	struct am_peer		*p = q->peer;
	struct am		*m = p->m;
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	char			 hosthdr[300];
	unsigned		 i;

	q->have_error = false;
	if ((q->conn = alerts_http_connect(m->s->a, p->https ? m->ctx : NULL,
	    p->host, p->port)) == NULL ||
	    (req = evhttp_request_new(on_response, q)) == NULL) {
		retire(q);
		return -1;
	}
	evhttp_connection_set_timeout(q->conn, (int)m->timeout_s);
	evhttp_connection_set_retries(q->conn, 0);
	evhttp_connection_set_max_body_size(q->conn, MAX_RESPONSE);
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	if (strchr(p->host, ':') != NULL)
		snprintf(hosthdr, sizeof(hosthdr), "[%s]:%d", p->host, p->port);
	else
		snprintf(hosthdr, sizeof(hosthdr), "%s:%d", p->host, p->port);
	evhttp_add_header(h, "Host", hosthdr);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "User-Agent", "dnssecmon/" DNSSECMON_VERSION);
	evhttp_add_header(h, "Connection", "close");
	for (i = 0; i < m->n_headers; i++)
		evhttp_add_header(h, m->hname[i], m->hvalue[i]);
	evbuffer_add(evhttp_request_get_output_buffer(req), body,
	    strlen(body));
	/* On failure evhttp has freed req. */
	if (evhttp_make_request(q->conn, req, EVHTTP_REQ_POST,
	    p->path) == -1) {
		retire(q);
		return -1;
	}
	q->busy = true;
	return 0;
}

/* ------------------------------------------------------------ rows */

static bool
permanent(int code)
{
	return code >= 400 && code < 500 && code != 408 && code != 429;
}

/* Every peer has answered: the row is done when one of them took it. */
static void
row_end(struct am *m)
{
	char		 why[1024] = "";
	size_t		 n = 0;
	unsigned	 i, ok = 0, refused = 0;

	for (i = 0; i < m->n_peers; i++) {
		if (m->peer[i].row_code >= 200 && m->peer[i].row_code < 300) {
			ok++;
			continue;
		}
		if (permanent(m->peer[i].row_code))
			refused++;
		if (n < sizeof(why))
			n += (size_t)snprintf(why + n, sizeof(why) - n,
			    "%s%s: %s", n ? "; " : "", m->peer[i].url,
			    m->peer[i].row_why);
	}
	if (ok > 0) {
		/* The others hear it from the next resend. */
		if (ok < m->n_peers)
			log_info("%s: #%lld taken by %u of %u peers (%s)",
			    m->s->name, (long long)m->s->row.id, ok,
			    m->n_peers, why);
		sink_done(m->s, STORE_DELIVERY_DONE, NULL, NULL);
	} else if (refused == m->n_peers)
		sink_done(m->s, STORE_DELIVERY_GIVEN_UP, why, NULL);
	else
		sink_done(m->s, STORE_DELIVERY_RETRY, why, NULL);
}

static void
row_answer(struct am_peer *p, int code, const char *why)
{
	struct am	*m = p->m;

	p->row_code = code;
	snprintf(p->row_why, sizeof(p->row_why), "%s", why);
	if (m->pending > 0 && --m->pending == 0)
		row_end(m);
}

static void
am_deliver(struct sink *s)
{
	struct am	*m = s->impl;
	json_t		*body;
	char		*text;
	unsigned	 i;
	time_t		 now = clock_now();

	load(m, now);
	/* NULL is a payload that is not an alert (or no memory for one:
	 * rare enough not to stop the outbox for). */
	if ((body = take_row(m, &s->row, now)) == NULL) {
		sink_done(s, STORE_DELIVERY_GIVEN_UP, "the payload cannot be "
		    "turned into an Alertmanager alert", NULL);
		return;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		sink_done(s, STORE_DELIVERY_RETRY, "out of memory", NULL);
		return;
	}
	/* Counted before any request starts: none answers from inside. */
	m->pending = m->n_peers;
	for (i = 0; i < m->n_peers; i++) {
		m->peer[i].row_code = 0;
		snprintf(m->peer[i].row_why, sizeof(m->peer[i].row_why),
		    "cannot start the request");
	}
	for (i = 0; i < m->n_peers; i++)
		if (post(&m->peer[i].rowreq, text) == -1)
			m->pending--;
	free(text);
	if (m->pending == 0)
		row_end(m);
}

/* ---------------------------------------------------------- resend */

static void
batches_free(struct am *m)
{
	size_t	 i;

	for (i = 0; i < m->n_batches; i++)
		free(m->batches[i]);
	free(m->batches);
	m->batches = NULL;
	m->n_batches = 0;
}

/* The peer's next batch of this resend, if any is left. */
static void
resend_next(struct am_peer *p)
{
	if (p->next_batch < p->m->n_batches &&
	    post(&p->resendreq, p->m->batches[p->next_batch]) == -1)
		resend_answer(p, 0, "cannot start the request");
}

static void
resend_answer(struct am_peer *p, int code, const char *why)
{
	if (code < 200 || code >= 300) {
		/* Said once per outage, not every minute. */
		if (!p->down)
			log_warnx("%s: %s: resending the open alerts: %s; "
			    "again in %ld s", p->m->s->name, p->url, why,
			    p->m->resend_s);
		p->down = true;
		p->next_batch = p->m->n_batches;	/* next time */
		return;
	}
	if (p->down)
		log_info("%s: %s takes alerts again", p->m->s->name, p->url);
	p->down = false;
	p->next_batch++;
	resend_next(p);
}

static void
resend_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct am	*m = arg;
	struct timeval	 every = { m->resend_s, 0 };
	json_t		*batch = NULL;
	size_t		 i;
	unsigned	 k;
	time_t		 now = clock_now();
	char		*text;

	(void)fd; (void)ev;
	evtimer_add(m->resend, &every);
	for (k = 0; k < m->n_peers; k++)
		if (m->peer[k].resendreq.busy)
			return;		/* a slow peer: skip this round */
	load(m, now);
	prune(m, now);
	batches_free(m);
	if (m->n_alerts == 0)
		return;
	if ((m->batches = calloc(m->n_alerts / RESEND_BATCH + 1,
	    sizeof(*m->batches))) == NULL)
		return;
	for (i = 0; i < m->n_alerts; i++) {
		if (batch == NULL && (batch = json_array()) == NULL)
			break;
		json_array_append_new(batch, posted(m, &m->alerts[i], now));
		if (json_array_size(batch) == RESEND_BATCH ||
		    i + 1 == m->n_alerts) {
			if ((text = json_dumps(batch, JSON_COMPACT)) != NULL)
				m->batches[m->n_batches++] = text;
			json_decref(batch);
			batch = NULL;
		}
	}
	json_decref(batch);
	log_debug("%s: resending %zu alerts in %zu requests to each peer",
	    m->s->name, m->n_alerts, m->n_batches);
	for (k = 0; k < m->n_peers; k++) {
		m->peer[k].next_batch = 0;
		resend_next(&m->peer[k]);
	}
}

/* ------------------------------------------------------- lifecycle */

static void
req_free(struct am_req *q)
{
	/* A request in flight is cancelled without its callback. */
	if (q->conn != NULL)
		evhttp_connection_free(q->conn);
	if (q->dead != NULL)
		evhttp_connection_free(q->dead);
	if (q->reaper != NULL)
		event_free(q->reaper);
}

static void
am_destroy(struct sink *s)
{
	struct am	*m = s->impl;
	size_t		 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n_peers; i++) {
		req_free(&m->peer[i].rowreq);
		req_free(&m->peer[i].resendreq);
	}
	if (m->resend != NULL)
		event_free(m->resend);
	if (m->ctx != NULL)
		SSL_CTX_free(m->ctx);
	for (i = 0; i < m->n_headers; i++) {
		free(m->hname[i]);
		free(m->hvalue[i]);
	}
	for (i = 0; i < m->n_alerts; i++)
		json_decref(m->alerts[i].obj);
	free(m->alerts);
	batches_free(m);
	free(m);
	s->impl = NULL;
}

static const struct sink_ops am_ops = {
	.kind = "alertmanager",
	.deliver = am_deliver,
	.destroy = am_destroy,
};

int
alerts_am_url(const char *url, bool *https, char *host, size_t hostlen,
    int *port, char *path, size_t pathlen, char *why, size_t whylen)
{
	static const char	 api[] = "api/v2/alerts";
	size_t			 n;

	if (alerts_url_parse(url, https, host, hostlen, port, path, pathlen,
	    why, whylen) == -1)
		return -1;
	if (strchr(path, '?') != NULL) {
		snprintf(why, whylen, "'%s': no query: the base URL of the "
		    "Alertmanager, e.g. http://am.example:9093", url);
		return -1;
	}
	/* The base URL, as Prometheus takes it (path_prefix), or the API's
	 * own; api/v2/alerts is added to the former. */
	n = strlen(path);
	if (n >= sizeof(api) - 1 && strcmp(path + n - (sizeof(api) - 1),
	    api) == 0)
		return 0;
	if (n + (path[n - 1] != '/') + sizeof(api) > pathlen) {
		snprintf(why, whylen, "'%s': too long", url);
		return -1;
	}
	snprintf(path + n, pathlen - n, "%s%s", path[n - 1] == '/' ? "" : "/",
	    api);
	return 0;
}

static int
req_init(struct am *m, struct am_peer *p, struct am_req *q, bool row)
{
	q->peer = p;
	q->row = row;
	q->reaper = evtimer_new(m->s->a->base, reap, q);
	return q->reaper != NULL ? 0 : -1;
}

int
am_sink_init(struct sink *s, const struct alerts_am_config *c, char *err,
    size_t errlen)
{
	struct am	*m;
	struct am_peer	*p;
	struct timeval	 soon = { 1, 0 };
	char		 why[300];
	unsigned	 i;
	bool		 https = false;

	s->ops = &am_ops;
	s->on = STORE_ALERT_ALL;
	s->retry_max_s = c->retry_max_s;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", s->name);
		return -1;
	}
	s->impl = m;
	m->s = s;
	m->resend_s = c->resend_s > 0 ? c->resend_s : 60;
	m->timeout_s = c->timeout_s > 0 ? c->timeout_s : 10;
	for (i = 0; i < c->n_urls && i < ALERTS_AM_MAX_URLS; i++) {
		p = &m->peer[m->n_peers];
		p->m = m;
		snprintf(p->url, sizeof(p->url), "%s", c->url[i]);
		if (alerts_am_url(c->url[i], &p->https, p->host,
		    sizeof(p->host), &p->port, p->path, sizeof(p->path), why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", s->name, why);
			return -1;
		}
		m->n_peers++;
		https |= p->https;
		if (req_init(m, p, &p->rowreq, true) == -1 ||
		    req_init(m, p, &p->resendreq, false) == -1) {
			snprintf(err, errlen, "%s: out of memory", s->name);
			return -1;
		}
	}
	for (i = 0; i < c->n_headers; i++) {
		if ((m->hname[i] = strdup(c->header_name[i])) == NULL ||
		    (m->hvalue[i] = strdup(c->header_value[i])) == NULL) {
			free(m->hname[i]);
			snprintf(err, errlen, "%s: out of memory", s->name);
			return -1;
		}
		m->n_headers++;
	}
	if (https && (m->ctx = alerts_http_tls(c->ca_file, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s: %s", s->name, why);
		return -1;
	}
	if ((m->resend = evtimer_new(s->a->base, resend_cb, m)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", s->name);
		return -1;
	}
	/* The first one soon, for what a restart left open; then every
	 * resend_s (re-armed by each). */
	evtimer_add(m->resend, &soon);
	return 0;
}
