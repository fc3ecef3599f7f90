/*
 * The HTTP listener: libevent's evhttp on the daemon's event loop.
 *
 * Limits, because anything that can reach the port can talk to it:
 *   - request bodies (64 KiB) and headers (8 KiB): evhttp answers 413;
 *   - read and write timeouts (http.timeout): a client that stops
 *     sending or reading is dropped;
 *   - a connection older than MAX_AGE_FACTOR timeouts is shut down, so a
 *     client dribbling one byte per timeout cannot hold a slot for ever;
 *   - at most http.max_connections connections: at the limit the
 *     listener stops accepting (new clients wait in the kernel's backlog)
 *     until one closes.
 * evhttp 2.1 has no connection count of its own. Every connection's
 * bufferevent is made here (evhttp_set_bevcb) and held with an extra
 * reference; once evhttp has let go of one (its callbacks cleared) the
 * sweep drops our reference. evhttp closes the socket itself, on time:
 * the reference only keeps the bufferevent's memory.
 *
 * Only GET and HEAD, and POST on the webhook, are served. Nothing but
 * the webhook changes anything.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "common/clock.h"
#include "common/log.h"
#include "dashboard-export/internal.h"

#define MAX_AGE_FACTOR	6	/* a connection lives 6 timeouts at most */
#define HOOK_PREFIX	"/hooks/dnsimple/"
#define API_DOMAINS	"/api/v1/domains"

/* ------------------------------------------------------- connections */

/* Drop what evhttp has freed; cut connections that lived too long;
 * resume accepting below the limit. Returns the live count. */
static size_t
sweep_conns(struct export *ex, time_t now)
{
	bufferevent_data_cb	 rcb;
	size_t			 i = 0;
	long			 max_age = (long)ex->timeout_s * MAX_AGE_FACTOR;

	while (i < ex->n_conns) {
		struct xconn *c = &ex->conns[i];

		bufferevent_getcb(c->bev, &rcb, NULL, NULL, NULL);
		if (rcb == NULL) {
			bufferevent_decref(c->bev);
			ex->conns[i] = ex->conns[--ex->n_conns];
			continue;
		}
		if (!c->cut && now - c->born > max_age) {
			/* evhttp sees end-of-file and frees the connection
			 * itself: never free it behind its back. */
			evutil_socket_t fd = bufferevent_getfd(c->bev);

			if (fd >= 0)
				shutdown(fd, SHUT_RDWR);
			c->cut = true;
		}
		i++;
	}
	if (ex->paused && ex->lev != NULL && ex->n_conns <
	    ex->max_connections) {
		evconnlistener_enable(ex->lev);
		ex->paused = false;
	}
	return ex->n_conns;
}

static void
sweep_tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	sweep_conns(arg, time(NULL));
}

static struct bufferevent *
new_conn(struct event_base *base, void *arg)
{
	struct export		*ex = arg;
	struct bufferevent	*bev;
	struct xconn		*c;
	size_t			 cap;

	sweep_conns(ex, time(NULL));
	/* evhttp closes the socket itself when the bufferevent does not;
	 * our reference keeps the bufferevent, never the socket. */
	if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		return NULL;	/* evhttp makes its own: not counted */
	if (ex->n_conns == ex->cap_conns) {
		cap = ex->cap_conns ? ex->cap_conns * 2 : 16;
		if ((c = reallocarray(ex->conns, cap, sizeof(*c))) == NULL)
			return bev;
		ex->conns = c;
		ex->cap_conns = cap;
	}
	bufferevent_incref(bev);
	c = &ex->conns[ex->n_conns++];
	c->bev = bev;
	c->born = time(NULL);
	c->cut = false;
	if (ex->n_conns >= ex->max_connections && ex->lev != NULL &&
	    !ex->paused) {
		evconnlistener_disable(ex->lev);
		ex->paused = true;
		log_warnx("http: %zu connections open, the limit: not "
		    "accepting more until one closes", ex->n_conns);
	}
	return bev;
}

/* ---------------------------------------------------------- replies */

/*
 * evhttp 2.1 sends the body even to HEAD: send its length alone. Every
 * reply goes through here.
 */
static void
send_reply(struct evhttp_request *req, int code, const char *reason,
    struct evbuffer *body)
{
	char	 len[32];

	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", body != NULL ?
		    evbuffer_get_length(body) : (size_t)0);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", len);
		if (body != NULL)
			evbuffer_drain(body, evbuffer_get_length(body));
		evhttp_send_reply(req, code, reason, NULL);
		return;
	}
	evhttp_send_reply(req, code, reason, body);
}

static void
common_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*b = evbuffer_new();

	common_headers(req, "text/plain; charset=utf-8");
	if (b != NULL)
		evbuffer_add_printf(b, "%s\n", text);
	send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static const char *
reason_of(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 422:
		return "Unprocessable Entity";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

static void
reply_json(struct evhttp_request *req, int code, json_t *j)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	common_headers(req, "application/json");
	s = j != NULL ? json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER) :
	    NULL;
	if (b != NULL && s != NULL) {
		evbuffer_add(b, s, strlen(s));
		evbuffer_add(b, "\n", 1);
	} else
		code = 500;
	free(s);
	send_reply(req, code, reason_of(code), b);
	if (b != NULL)
		evbuffer_free(b);
}

static void
reply_error_json(struct evhttp_request *req, int code, const char *msg)
{
	json_t	*j = json_pack("{s:s}", "error", msg);

	reply_json(req, code, j);
	json_decref(j);
}

/* ---------------------------------------------------------- routes */

static bool
method_is(struct evhttp_request *req, enum evhttp_cmd_type a)
{
	return evhttp_request_get_command(req) == a;
}

static bool
is_get(struct evhttp_request *req)
{
	return method_is(req, EVHTTP_REQ_GET) || method_is(req, EVHTTP_REQ_HEAD);
}

/* Constant time over the configured secret's length: how much of a guess
 * is right must not show in the answer time. */
static bool
secret_ok(const char *want, const char *got)
{
	size_t		 i, wl = strlen(want), gl = strlen(got);
	unsigned char	 diff = (unsigned char)(wl != gl);

	for (i = 0; i < wl; i++)
		diff |= (unsigned char)(want[i] ^ (i < gl ? got[i] : 0));
	return diff == 0;
}

static void
peer_text(struct evhttp_request *req, char *buf, size_t len)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	char		*host = NULL;
	ev_uint16_t	 port = 0;

	if (c != NULL)
		evhttp_connection_get_peer(c, &host, &port);
	snprintf(buf, len, "%s", host ? host : "?");
}

static void
serve_hook(struct export *ex, struct evhttp_request *req, const char *secret)
{
	struct xhook_reply	 rep;
	struct evbuffer		*in;
	char			 peer[64];
	size_t			 len;
	const char		*body;

	peer_text(req, peer, sizeof(peer));
	if (ex->dnsimple_secret == NULL || !secret_ok(ex->dnsimple_secret,
	    secret)) {
		/* The URL is the credential: never log it. */
		log_warnx("http: dnsimple webhook from %s with %s: 404",
		    peer, ex->dnsimple_secret == NULL ?
		    "the webhook not configured" : "a wrong secret");
		ex->hooks[XHOOK_REJECTED]++;
		reply_text(req, 404, "Not Found", "not found");
		return;
	}
	if (!method_is(req, EVHTTP_REQ_POST)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		reply_text(req, 405, "Method Not Allowed", "POST only");
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len > EXPORT_MAX_BODY) {
		reply_error_json(req, 413, "the body is over 64 KiB");
		return;
	}
	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	memset(&rep, 0, sizeof(rep));
	xdnsimple_handle(ex, body, len, clock_now(), &rep);
	log_info("http: dnsimple webhook from %s: %d", peer, rep.status);
	reply_json(req, rep.status, rep.body);
	json_decref(rep.body);
}

static void
serve_metrics(struct export *ex, struct evhttp_request *req)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	xmetrics_render(ex, b, clock_now());
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
serve_status(struct export *ex, struct evhttp_request *req)
{
	struct evbuffer		*b = evbuffer_new();
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	xstatus_render(ex, b, clock_now());
	common_headers(req, "text/html; charset=utf-8");
	/* No external asset, ever: the page carries its CSS and its one
	 * script inline. */
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
serve_api_domain(struct export *ex, struct evhttp_request *req,
    const char *name)
{
	struct xdom	*d;
	char		*dec;
	json_t		*j;
	size_t		 len = 0;

	/* "healthy.lab%00.evil" decodes to a string that C reads as
	 * "healthy.lab": answering for it would be answering for a name
	 * that was not asked. */
	dec = evhttp_uridecode(name, 0, &len);
	if (dec != NULL && strlen(dec) != len) {
		free(dec);
		reply_error_json(req, 400, "a NUL byte (%00) in the name");
		return;
	}
	d = dec != NULL ? xdom_find(ex, dec) : NULL;
	free(dec);
	if (d == NULL || !d->in_shard) {
		reply_error_json(req, 404, "no such domain is monitored here");
		return;
	}
	j = xapi_domain(ex, d, true, clock_now());
	reply_json(req, 200, j);
	json_decref(j);
}

static void
route(struct evhttp_request *req, void *arg)
{
	struct export		*ex = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri ? evhttp_uri_get_path(uri) : NULL;
	json_t			*j;

	ex->http_requests++;
	if (path == NULL || *path == '\0')
		path = "/";
	if (strncmp(path, HOOK_PREFIX, strlen(HOOK_PREFIX)) == 0) {
		serve_hook(ex, req, path + strlen(HOOK_PREFIX));
		return;
	}
	if (!is_get(req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed",
		    "only GET and HEAD here");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		serve_metrics(ex, req);
	else if (strcmp(path, "/") == 0)
		serve_status(ex, req);
	else if (strcmp(path, "/healthz") == 0)
		reply_text(req, 200, "OK", "ok");
	else if (strcmp(path, "/readyz") == 0) {
		bool ready = xapi_ready(ex, &j);

		reply_json(req, ready ? 200 : 503, j);
		json_decref(j);
	} else if (strcmp(path, API_DOMAINS) == 0 ||
	    strcmp(path, API_DOMAINS "/") == 0) {
		j = xapi_domains(ex, clock_now());
		reply_json(req, 200, j);
		json_decref(j);
	} else if (strncmp(path, API_DOMAINS "/", strlen(API_DOMAINS) + 1) ==
	    0)
		serve_api_domain(ex, req, path + strlen(API_DOMAINS) + 1);
	else
		reply_text(req, 404, "Not Found", "not found");
}

/* ------------------------------------------------------------ setup */

struct export *
export_create(struct event_base *base, char *err, size_t errlen)
{
	struct export	*ex;

	if ((ex = calloc(1, sizeof(*ex))) == NULL) {
		snprintf(err, errlen, "exporter: out of memory");
		return NULL;
	}
	ex->base = base;
	ex->started = clock_now();
	ex->max_connections = EXPORT_DEFAULT_CONNECTIONS;
	ex->timeout_s = EXPORT_DEFAULT_TIMEOUT;
	ex->refresh_s = EXPORT_DEFAULT_REFRESH;
	return ex;
}

static bool
is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*a4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr) &&
		    a6->sin6_addr.s6_addr[12] == 127);
	return false;
}

static bool
same_addr(const struct export *ex, const struct export_settings *s)
{
	return ex->bound != NULL && s->addrlen == ex->addrlen &&
	    memcmp(s->addr, &ex->addr, s->addrlen) == 0;
}

int
export_listen(struct export *ex, const struct export_settings *s, char *err,
    size_t errlen)
{
	struct evconnlistener		*lev;
	struct evhttp_bound_socket	*bound;
	char				*secret = NULL;
	struct timeval			 tv = { 1, 0 };

	if (s->dnsimple_secret != NULL &&
	    (secret = strdup(s->dnsimple_secret)) == NULL) {
		snprintf(err, errlen, "exporter: out of memory");
		return -1;
	}
	if (ex->http == NULL) {
		if ((ex->http = evhttp_new(ex->base)) == NULL ||
		    (ex->sweep = event_new(ex->base, -1, EV_PERSIST,
		    sweep_tick, ex)) == NULL) {
			snprintf(err, errlen, "http: cannot set up the "
			    "server");
			free(secret);
			return -1;
		}
		evhttp_set_gencb(ex->http, route, ex);
		evhttp_set_bevcb(ex->http, new_conn, ex);
		evhttp_set_allowed_methods(ex->http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
		evhttp_set_max_body_size(ex->http, EXPORT_MAX_BODY);
		evhttp_set_max_headers_size(ex->http, EXPORT_MAX_HEADERS);
		event_add(ex->sweep, &tv);
	}
	if (!same_addr(ex, s)) {
		/* The new socket first: a reload that cannot bind keeps
		 * the old one. */
		lev = evconnlistener_new_bind(ex->base, NULL, NULL,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
		    LEV_OPT_CLOSE_ON_EXEC, 128, s->addr, (int)s->addrlen);
		if (lev == NULL) {
			snprintf(err, errlen, "http: cannot listen on %s: %s",
			    s->listen_text, evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
			free(secret);
			return -1;
		}
		if ((bound = evhttp_bind_listener(ex->http, lev)) == NULL) {
			evconnlistener_free(lev);
			snprintf(err, errlen, "http: cannot serve on %s",
			    s->listen_text);
			free(secret);
			return -1;
		}
		if (ex->bound != NULL)
			evhttp_del_accept_socket(ex->http, ex->bound);
		ex->bound = bound;
		ex->lev = lev;
		ex->paused = false;
		memcpy(&ex->addr, s->addr, s->addrlen);
		ex->addrlen = s->addrlen;
		snprintf(ex->listen_text, sizeof(ex->listen_text), "%s",
		    s->listen_text);
		log_info("http: listening on %s (/metrics, /api/v1/domains, "
		    "status page at /%s)", s->listen_text, secret != NULL ?
		    ", dnsimple webhook on" : "");
		if (!is_loopback(s->addr))
			log_warnx("http: %s is not a loopback address: the "
			    "status page, the API and /metrics have no "
			    "authentication; firewall the port or put an "
			    "authenticating proxy in front", s->listen_text);
	}
	ex->max_connections = s->max_connections ? s->max_connections :
	    EXPORT_DEFAULT_CONNECTIONS;
	ex->timeout_s = s->timeout_s > 0 ? s->timeout_s :
	    EXPORT_DEFAULT_TIMEOUT;
	ex->refresh_s = s->refresh_s > 0 ? s->refresh_s :
	    EXPORT_DEFAULT_REFRESH;
	evhttp_set_timeout(ex->http, ex->timeout_s);
	free(ex->dnsimple_secret);
	ex->dnsimple_secret = secret;
	sweep_conns(ex, time(NULL));
	return 0;
}

void
export_destroy(struct export *ex)
{
	size_t	 i;

	if (ex == NULL)
		return;
	if (ex->http != NULL)
		evhttp_free(ex->http);	/* closes the listener and every
					   connection */
	for (i = 0; i < ex->n_conns; i++)
		bufferevent_decref(ex->conns[i].bev);
	free(ex->conns);
	if (ex->sweep != NULL)
		event_free(ex->sweep);
	/* Frees every entry; with no store, nothing is read back. */
	ex->store = NULL;
	(void)export_set_domains(ex, NULL, 0);
	free(ex->dom);
	for (i = 0; i < ex->n_resolvers; i++) {
		free(ex->resolver_name[i]);
		free(ex->resolver_label[i]);
	}
	free(ex->dnsimple_secret);
	free(ex);
}
