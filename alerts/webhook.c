/*
 * The webhook sink: an HTTP POST of each transition with libevent's
 * evhttp client, over TLS (libevent_openssl) for https:// URLs, verified
 * against ca_file or the system's CAs and the URL's host name.
 *
 * 2xx is delivered. 408, 429, 5xx, a timeout or a failed connection is
 * retried with backoff, for ever: the receiver will be back. Any other
 * answer (400, 401, 404, ...) will not get better by repeating the same
 * request: the row is given up, recorded with the status, and the sink
 * moves on.
 *
 * format alertmanager posts what Prometheus Alertmanager's
 * POST /api/v2/alerts takes: an array with one alert, labels alertname,
 * domain, severity, code; annotations summary, description; startsAt,
 * and endsAt: the resolution time, or for an open alert twice the
 * reminder interval ahead (each reminder renews it), so that an alert
 * dnssecmon stops talking about expires instead of staying for ever.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "alerts/internal.h"
#include "common/clock.h"
#include "common/log.h"

#define MAX_RESPONSE	65536	/* what we read of an answer */

struct webhook {
	struct sink		*s;
	bool			 https;
	char			 host[256];
	int			 port;
	char			 path[2048];
	enum alerts_format	 format;
	long			 timeout_s;
	unsigned		 n_headers;
	char			*hname[ALERTS_MAX_HEADERS];
	char			*hvalue[ALERTS_MAX_HEADERS];
	SSL_CTX			*ctx;
	struct evhttp_connection *conn;		/* the request's */
	struct evhttp_connection *dead;		/* to free from the loop */
	struct event		*reaper;
	enum evhttp_request_error last_error;
	bool			 have_error;
};

/* ------------------------------------------------- Alertmanager v2 */

json_t *
alerts_am_alert(json_t *p, json_t *e, bool *resolved, time_t *at)
{
	json_t		*labels, *ann, *ds, *v;
	const char	*code, *domain, *sev, *tr, *msg, *fired, *now, *inst;
	char		 desc[4096];
	size_t		 i, n;

	code = json_string_value(json_object_get(e, "code"));
	domain = json_string_value(json_object_get(p, "domain"));
	sev = json_string_value(json_object_get(e, "severity"));
	tr = json_string_value(json_object_get(e, "transition"));
	msg = json_string_value(json_object_get(e, "message"));
	fired = json_string_value(json_object_get(e, "first_fired"));
	now = json_string_value(json_object_get(p, "time"));
	if (code == NULL || domain == NULL || sev == NULL || tr == NULL ||
	    msg == NULL || now == NULL || clock_parse(now, at) == -1)
		return NULL;
	*resolved = strcmp(tr, "resolved") == 0;
	n = (size_t)snprintf(desc, sizeof(desc), "%s", msg);
	ds = json_object_get(p, "ds_to_publish");
	json_array_foreach(ds, i, v)
		if (n < sizeof(desc))
			n += (size_t)snprintf(desc + n, sizeof(desc) - n,
			    "%sAdd at the registrar: %s", n ? "\n" : "",
			    json_string_value(v));
	ds = json_object_get(p, "ds_to_remove");
	json_array_foreach(ds, i, v)
		if (n < sizeof(desc))
			n += (size_t)snprintf(desc + n, sizeof(desc) - n,
			    "%sRemove at the registrar: %s", n ? "\n" : "",
			    json_string_value(v));
	/* zone as well as domain: the label Prometheus's series and rules
	 * use, so that one route and one silence serve both. */
	labels = json_pack("{s:s+, s:s, s:s, s:s, s:s}", "alertname",
	    "dnssecmon_", code, "domain", domain, "zone", domain, "severity",
	    sev, "code", code);
	ann = json_pack("{s:s++, s:s}", "summary", code, " on ", domain,
	    "description", desc);
	/* An annotation, not a label: Alertmanager identifies an alert by
	 * its labels, so the same alert from two replicas is one alert. */
	inst = json_string_value(json_object_get(p, "instance"));
	if (ann != NULL && inst != NULL)
		json_object_set_new(ann, "dnssecmon_instance",
		    json_string(inst));
	return json_pack("{s:o, s:o, s:s}", "labels", labels, "annotations",
	    ann, "startsAt", fired != NULL ? fired : now);
}

char *
alerts_alertmanager_body(const char *payload, long repeat_s)
{
	json_t		*p, *a = NULL, *g, *e, *one;
	json_error_t	 jerr;
	size_t		 i, n;
	bool		 resolved;
	time_t		 t;
	char		 ends[32], *out = NULL;

	if ((p = json_loads(payload, 0, &jerr)) == NULL)
		return NULL;
	/* A grouped notification (alerts.group: check) is one POST with
	 * an alert for each of its transitions: Alertmanager tracks each
	 * alert by its labels. */
	g = json_object_get(p, "grouped");
	if (!json_is_array(g) || json_array_size(g) == 0)
		g = NULL;
	if ((a = json_array()) == NULL)
		goto out;
	n = g != NULL ? json_array_size(g) : 1;
	for (i = 0; i < n; i++) {
		e = g != NULL ? json_array_get(g, i) : p;
		if ((one = alerts_am_alert(p, e, &resolved, &t)) == NULL)
			goto out;
		/* An open alert lasts two reminders (each renews it): one
		 * dnssecmon stops speaking of ends instead of staying. */
		if (!resolved)
			t += repeat_s > 0 ? 2 * repeat_s : 7 * 86400;
		json_object_set_new(one, "endsAt", json_string(clock_rfc3339(t,
		    ends, sizeof(ends))));
		json_array_append_new(a, one);
	}
	out = json_dumps(a, JSON_COMPACT);
out:
	json_decref(a);
	json_decref(p);
	return out;
}

/* ------------------------------------------------------------ HTTP */

static void
reap(evutil_socket_t fd, short ev, void *arg)
{
	struct webhook	*w = arg;

	(void)fd; (void)ev;
	if (w->dead != NULL)
		evhttp_connection_free(w->dead);
	w->dead = NULL;
}

/* Never free a connection inside its own callback: from the loop. */
static void
retire(struct webhook *w)
{
	static const struct timeval zero = { 0, 0 };

	if (w->conn == NULL)
		return;
	if (w->dead != NULL)
		evhttp_connection_free(w->dead);
	w->dead = w->conn;
	w->conn = NULL;
	evtimer_add(w->reaper, &zero);
}

const char *
alerts_http_error(int e)
{
	switch ((enum evhttp_request_error)e) {
	case EVREQ_HTTP_TIMEOUT:	return "timed out";
	case EVREQ_HTTP_EOF:		return "connection closed";
	case EVREQ_HTTP_INVALID_HEADER:	return "invalid answer";
	case EVREQ_HTTP_BUFFER_ERROR:	return "connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL:	return "cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:	return "answer too long";
	}
	return "failed";
}

static void
on_error(enum evhttp_request_error e, void *arg)
{
	struct webhook	*w = arg;

	w->last_error = e;
	w->have_error = true;
}

static void
on_response(struct evhttp_request *req, void *arg)
{
	struct webhook		*w = arg;
	struct bufferevent	*bev;
	char			 why[512], tls[256] = "";
	unsigned long		 e;
	int			 code;

	code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (code == 0) {
		if (w->https && w->conn != NULL &&
		    (bev = evhttp_connection_get_bufferevent(w->conn)) != NULL &&
		    (e = bufferevent_get_openssl_error(bev)) != 0) {
			snprintf(tls, sizeof(tls), " (TLS: ");
			ERR_error_string_n(e, tls + 7, sizeof(tls) - 9);
			snprintf(tls + strlen(tls), sizeof(tls) - strlen(tls),
			    ")");
		}
		snprintf(why, sizeof(why), "%s:%d: %s%s", w->host, w->port,
		    w->have_error ? alerts_http_error(w->last_error) :
		    "connection failed", tls);
		retire(w);
		sink_done(w->s, STORE_DELIVERY_RETRY, why, NULL);
		return;
	}
	snprintf(why, sizeof(why), "HTTP %d%s%s", code,
	    evhttp_request_get_response_code_line(req) ? " " : "",
	    evhttp_request_get_response_code_line(req) ?
	    evhttp_request_get_response_code_line(req) : "");
	retire(w);
	if (code >= 200 && code < 300)
		sink_done(w->s, STORE_DELIVERY_DONE, NULL, NULL);
	else if (code >= 400 && code < 500 && code != 408 && code != 429)
		sink_done(w->s, STORE_DELIVERY_GIVEN_UP, why, NULL);
	else
		sink_done(w->s, STORE_DELIVERY_RETRY, why, NULL);
}

struct evhttp_connection *
alerts_http_connect(struct alerts *a, SSL_CTX *ctx, const char *host,
    int port)
{
	struct bufferevent	*bev;
	SSL			*ssl;
	unsigned char		 addr[16];
	bool			 literal;

	if (a->dns == NULL)
		/* Names through evdns on our loop; /etc/hosts included. */
		a->dns = evdns_base_new(a->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (ctx == NULL)
		return evhttp_connection_base_new(a->base, a->dns, host,
		    (unsigned short)port);
	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	literal = inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
	if (literal)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	else {
		SSL_set_tlsext_host_name(ssl, host);
		SSL_set1_host(ssl, host);
	}
	if ((bev = bufferevent_openssl_socket_new(a->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return evhttp_connection_base_bufferevent_new(a->base, a->dns, bev,
	    host, (unsigned short)port);
}

SSL_CTX *
alerts_http_tls(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "cannot set up TLS");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file,
	    NULL) : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		snprintf(err, errlen, "cannot load the CA certificates%s%s",
		    ca_file ? " from " : "", ca_file ? ca_file : "");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void
webhook_deliver(struct sink *s)
{
	struct webhook		*w = s->impl;
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	char			*body, hosthdr[300];
	unsigned		 i;

	if (w->format == ALERTS_FORMAT_ALERTMANAGER) {
		if ((body = alerts_alertmanager_body(s->row.payload,
		    s->a->repeat_s)) == NULL) {
			sink_done(s, STORE_DELIVERY_GIVEN_UP, "the payload "
			    "cannot be turned into an Alertmanager alert", NULL);
			return;
		}
	} else if ((body = strdup(s->row.payload)) == NULL) {
		sink_done(s, STORE_DELIVERY_RETRY, "out of memory", NULL);
		return;
	}
	w->have_error = false;
	if ((w->conn = alerts_http_connect(s->a, w->https ? w->ctx : NULL,
	    w->host, w->port)) == NULL ||
	    (req = evhttp_request_new(on_response, w)) == NULL) {
		free(body);
		retire(w);
		sink_done(s, STORE_DELIVERY_RETRY, "out of memory", NULL);
		return;
	}
	evhttp_connection_set_timeout(w->conn, (int)w->timeout_s);
	evhttp_connection_set_retries(w->conn, 0);
	evhttp_connection_set_max_body_size(w->conn, MAX_RESPONSE);
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	if (strchr(w->host, ':') != NULL)
		snprintf(hosthdr, sizeof(hosthdr), "[%s]:%d", w->host, w->port);
	else
		snprintf(hosthdr, sizeof(hosthdr), "%s:%d", w->host, w->port);
	evhttp_add_header(h, "Host", hosthdr);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "User-Agent", "dnssecmon/" DNSSECMON_VERSION);
	evhttp_add_header(h, "Connection", "close");
	for (i = 0; i < w->n_headers; i++)
		evhttp_add_header(h, w->hname[i], w->hvalue[i]);
	evbuffer_add(evhttp_request_get_output_buffer(req), body,
	    strlen(body));
	free(body);
	/* On failure evhttp has freed req. */
	if (evhttp_make_request(w->conn, req, EVHTTP_REQ_POST,
	    w->path) == -1) {
		retire(w);
		sink_done(s, STORE_DELIVERY_RETRY, "cannot start the request",
		    NULL);
	}
}

static void
webhook_destroy(struct sink *s)
{
	struct webhook	*w = s->impl;
	unsigned	 i;

	if (w == NULL)
		return;
	/* A request in flight is cancelled without its callback. */
	if (w->conn != NULL)
		evhttp_connection_free(w->conn);
	if (w->dead != NULL)
		evhttp_connection_free(w->dead);
	if (w->reaper != NULL)
		event_free(w->reaper);
	if (w->ctx != NULL)
		SSL_CTX_free(w->ctx);
	for (i = 0; i < w->n_headers; i++) {
		free(w->hname[i]);
		free(w->hvalue[i]);
	}
	free(w);
	s->impl = NULL;
}

static const struct sink_ops webhook_ops = {
	.kind = "webhook",
	.deliver = webhook_deliver,
	.destroy = webhook_destroy,
};

int
webhook_sink_init(struct sink *s, const struct alerts_webhook_config *c,
    char *err, size_t errlen)
{
	struct webhook	*w;
	char		 why[300];
	unsigned	 i;

	s->ops = &webhook_ops;
	s->on = c->on;
	s->retry_max_s = c->retry_max_s;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", c->name);
		return -1;
	}
	s->impl = w;
	w->s = s;
	w->format = c->format;
	w->timeout_s = c->timeout_s;
	if (alerts_url_parse(c->url, &w->https, w->host, sizeof(w->host),
	    &w->port, w->path, sizeof(w->path), why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", c->name, why);
		return -1;
	}
	for (i = 0; i < c->n_headers; i++) {
		if ((w->hname[i] = strdup(c->header_name[i])) == NULL ||
		    (w->hvalue[i] = strdup(c->header_value[i])) == NULL) {
			free(w->hname[i]);
			snprintf(err, errlen, "%s: out of memory", c->name);
			return -1;
		}
		w->n_headers++;
	}
	if ((w->reaper = evtimer_new(s->a->base, reap, w)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", c->name);
		return -1;
	}
	if (w->https && (w->ctx = alerts_http_tls(c->ca_file, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s: %s", c->name, why);
		return -1;
	}
	return 0;
}
