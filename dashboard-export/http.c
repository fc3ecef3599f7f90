/*
 * The HTTP listener: libevent's evhttp on the daemon's event loop.
 *
 * Limits, because anything that can reach the port can talk to it:
 *   - request bodies (64 KiB) and headers (8 KiB): evhttp answers 413;
 *   - read and write timeouts (http.timeout): a client that stops
 *     sending or reading is dropped;
 *   - a whole request (head and body) within http.request_timeout of
 *     connecting or of the end of the previous answer, however the bytes
 *     are spread: a client dribbling a header byte a second is cut (408
 *     on its first request) instead of holding a slot for as long as it
 *     likes;
 *   - a connection older than MAX_AGE_FACTOR timeouts is shut down;
 *   - at most http.max_connections_per_client connections from one client
 *     (an IPv4 address, an IPv6 /64), and the last eighth of
 *     http.max_connections only for clients that hold none yet: one
 *     address, or a few, cannot take every slot from Prometheus or the
 *     webhook. A connection over either limit gets a 503 and is closed
 *     at once, so its place in the kernel's backlog goes to the next;
 *   - at most http.max_connections connections: at the limit the
 *     listener stops accepting (new clients wait in the kernel's backlog)
 *     and starts again the moment one closes.
 * evhttp 2.1 has no connection count of its own and tells nothing of a
 * connection before its first request. Every connection's bufferevent is
 * made here (evhttp_set_bevcb) and held with an extra reference; right
 * after the accept, admit_new() finds evhttp's connection as the
 * bufferevent's callback argument (evhttp 2.1 and 2.2 set it so, checked
 * with evhttp_connection_get_bufferevent), reads the peer address and
 * sets a close callback, which is what resumes accepting at once. Once
 * evhttp has let go of a connection (its callbacks cleared) the sweep
 * drops our reference. evhttp closes the socket itself, on time: the
 * reference only keeps the bufferevent's memory. We never free an evhttp
 * connection behind its back: to close one we shut its socket down and
 * evhttp, seeing end-of-file, frees it.
 *
 * Only GET and HEAD, and POST on the webhook, are served. Nothing but
 * the webhook changes anything. Log lines a client can cause at will
 * (refused connections, wrong webhook secrets) are rate-limited.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <zlib.h>

#include "common/clock.h"
#include "common/log.h"
#include "dashboard-export/internal.h"

#define MAX_AGE_FACTOR	6	/* a connection lives 6 timeouts at most */
#define LOG_WINDOW	60	/* seconds: one line of a kind, then a sum */
#define HOOK_PREFIX	"/hooks/dnsimple/"
#define API_DOMAINS	"/api/v1/domains"

/* ---------------------------------------------------- rate-limited logs */

/* Whether to log this event of its kind; counted for the sum when not. */
static bool
rl_allow(struct xlogrl *rl, time_t now)
{
	if (now >= rl->next) {
		rl->next = now + LOG_WINDOW;
		return true;
	}
	rl->suppressed++;
	return false;
}

/* The sum of what was not logged, once its window is over. */
static void
rl_flush(struct xlogrl *rl, time_t now, const char *what)
{
	if (rl->suppressed == 0 || now < rl->next)
		return;
	log_warnx("http: %lu more %s in the last %d s (not logged one by "
	    "one)", rl->suppressed, what, LOG_WINDOW);
	rl->suppressed = 0;
	rl->next = now + LOG_WINDOW;
}

/* ------------------------------------------------------- connections */

static struct xconn *
conn_of_bev(struct export *ex, const struct bufferevent *bev)
{
	size_t	 i;

	for (i = 0; i < ex->n_conns; i++)
		if (ex->conns[i].bev == bev)
			return &ex->conns[i];
	return NULL;
}

static struct xconn *
conn_of_req(struct export *ex, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	return evcon != NULL ? conn_of_bev(ex,
	    evhttp_connection_get_bufferevent(evcon)) : NULL;
}

/* The slots left to clients that hold no connection yet. */
static unsigned
reserve_of(unsigned max)
{
	unsigned r = (max + 7) / 8;

	return r < max ? r : 0;
}

/*
 * Shut the socket down, with a last word when one is given (only while
 * evhttp has written nothing on it: between requests). evhttp sees
 * end-of-file and frees the connection; the client sees the answer and
 * the end. Unread input is drained first, or closing the socket would
 * reset the connection and could lose the answer.
 */
static void
conn_cut(struct xconn *c, const char *answer)
{
	char		 junk[4096];
	evutil_socket_t	 fd = bufferevent_getfd(c->bev);
	int		 i;

	c->cut = true;
	if (fd < 0)
		return;
	if (answer != NULL) {
		for (i = 0; i < 4 && recv(fd, junk, sizeof(junk),
		    MSG_DONTWAIT) > 0; i++)
			;
		(void)send(fd, answer, strlen(answer), MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	}
	shutdown(fd, SHUT_RDWR);
}

static void
conn_answer(char *buf, size_t len, int code, const char *reason,
    const char *text)
{
	snprintf(buf, len, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s", code, reason, strlen(text), text);
}

size_t
xhttp_open(const struct export *ex)
{
	size_t	 i, open = 0;

	for (i = 0; i < ex->n_conns; i++)
		if (!ex->conns[i].closed)
			open++;
	return open;
}

/* Stop accepting at the limit; start again below it, at once. */
static void
listener_update(struct export *ex)
{
	size_t	 open = xhttp_open(ex);

	if (ex->lev == NULL)
		return;
	if (!ex->paused && open >= ex->max_connections) {
		evconnlistener_disable(ex->lev);
		ex->paused = true;
		if (rl_allow(&ex->rl_full, time(NULL)))
			log_warnx("http: %zu connections open, the limit: "
			    "not accepting more until one closes", open);
	} else if (ex->paused && open < ex->max_connections) {
		evconnlistener_enable(ex->lev);
		ex->paused = false;
	}
}

/* evhttp's close callback: the slot is free now. */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct export	*ex = arg;
	struct xconn	*c;

	if ((c = conn_of_bev(ex, evhttp_connection_get_bufferevent(evcon))) !=
	    NULL)
		c->closed = true;
	listener_update(ex);
}

/*
 * The client of a socket address: the family, then the IPv4 address
 * (also when mapped into IPv6) or the first 64 bits of an IPv6 one,
 * which one host usually has to itself.
 */
static void
client_key(const struct sockaddr_storage *ss, struct xconn *c)
{
	const struct sockaddr_in	*a4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)ss;

	memset(c->client, 0, sizeof(c->client));
	if (ss->ss_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		c->client[0] = 6;
		memcpy(c->client + 1, a6->sin6_addr.s6_addr, 8);
		inet_ntop(AF_INET6, &a6->sin6_addr, c->peer, sizeof(c->peer));
	} else if (ss->ss_family == AF_INET6) {
		c->client[0] = 4;
		memcpy(c->client + 1, a6->sin6_addr.s6_addr + 12, 4);
		inet_ntop(AF_INET, a6->sin6_addr.s6_addr + 12, c->peer,
		    sizeof(c->peer));
	} else if (ss->ss_family == AF_INET) {
		c->client[0] = 4;
		memcpy(c->client + 1, &a4->sin_addr, 4);
		inet_ntop(AF_INET, &a4->sin_addr, c->peer, sizeof(c->peer));
	} else
		snprintf(c->peer, sizeof(c->peer), "?");
}

/* Refuse a new connection over a limit, with a 503 that says which. */
static void
conn_refuse(struct export *ex, struct xconn *c, enum xclose_reason why)
{
	char	 buf[400];

	conn_answer(buf, sizeof(buf), 503, "Service Unavailable",
	    why == XCLOSE_PER_CLIENT ? "too many connections from your "
	    "address\n" : "too many connections: try again later\n");
	conn_cut(c, buf);
	ex->http_closed[why]++;
	if (rl_allow(&ex->rl_refused, time(NULL)))
		log_warnx("http: connection from %s refused (503): %s", c->peer,
		    why == XCLOSE_PER_CLIENT ? "it holds "
		    "http.max_connections_per_client already" : "the last "
		    "slots are kept for clients with no connection");
}

/* How many connections the client of c holds; all held in *total. */
static unsigned
held_by(const struct export *ex, const struct xconn *c, unsigned *total)
{
	unsigned	 n = 0;
	size_t		 i;

	*total = 0;
	for (i = 0; i < ex->n_conns; i++) {
		const struct xconn *o = &ex->conns[i];

		if (!o->held || o->closed || o->cut)
			continue;
		(*total)++;
		if (memcmp(o->client, c->client, sizeof(c->client)) == 0)
			n++;
	}
	return n;
}

/* One new connection: find evhttp's side of it, then admit or refuse. */
static void
admit_one(struct export *ex, struct xconn *c, time_t now)
{
	bufferevent_data_cb		 rcb;
	void				*cbarg = NULL;
	struct evhttp_connection	*evcon;
	struct sockaddr_storage		 ss;
	socklen_t			 sl = sizeof(ss);
	unsigned			 mine, total, per;

	c->seen = true;
	bufferevent_getcb(c->bev, &rcb, NULL, NULL, &cbarg);
	if (rcb == NULL || cbarg == NULL)
		return;		/* evhttp let go of it already */
	evcon = cbarg;
	if (evhttp_connection_get_bufferevent(evcon) != c->bev)
		return;		/* not evhttp's layout: only counted */
	evhttp_connection_set_closecb(evcon, conn_closed, ex);
	if (getpeername(bufferevent_getfd(c->bev), (struct sockaddr *)&ss,
	    &sl) == -1) {
		conn_cut(c, NULL);	/* gone already */
		return;
	}
	client_key(&ss, c);
	per = ex->max_per_client < ex->max_connections ? ex->max_per_client :
	    ex->max_connections;
	mine = held_by(ex, c, &total);
	if (mine >= per)
		conn_refuse(ex, c, XCLOSE_PER_CLIENT);
	else if (mine > 0 && total + 1 > ex->max_connections -
	    reserve_of(ex->max_connections))
		conn_refuse(ex, c, XCLOSE_RESERVE);
	else {
		c->held = true;
		c->deadline = now + ex->request_timeout_s;
	}
}

/* Right after the accepts of one listener wake-up (new_conn). */
static void
admit_new(evutil_socket_t fd, short ev, void *arg)
{
	struct export	*ex = arg;
	time_t		 now = time(NULL);
	size_t		 i;

	(void)fd; (void)ev;
	for (i = 0; i < ex->n_conns; i++)
		if (!ex->conns[i].seen)
			admit_one(ex, &ex->conns[i], now);
	listener_update(ex);
}

/* Drop what evhttp has freed; cut connections that lived too long or
 * are late with their request; resume accepting below the limit.
 * Returns the live count. */
static size_t
sweep_conns(struct export *ex, time_t now)
{
	bufferevent_data_cb	 rcb;
	size_t			 i = 0;
	long			 max_age = (long)ex->timeout_s * MAX_AGE_FACTOR;
	char			 buf[300];

	while (i < ex->n_conns) {
		struct xconn *c = &ex->conns[i];

		bufferevent_getcb(c->bev, &rcb, NULL, NULL, NULL);
		if (rcb == NULL) {
			bufferevent_decref(c->bev);
			ex->conns[i] = ex->conns[--ex->n_conns];
			continue;
		}
		if (c->cut || c->closed) {
			i++;
			continue;
		}
		if (now - c->born > max_age) {
			conn_cut(c, NULL);
			ex->http_closed[XCLOSE_MAX_AGE]++;
		} else if (c->deadline != 0 && now > c->deadline) {
			/* A 408 only before the first answer: between two
			 * requests a client may be sending the next one. */
			conn_answer(buf, sizeof(buf), 408, "Request Timeout",
			    "no whole request in time\n");
			conn_cut(c, c->served ? NULL : buf);
			ex->http_closed[XCLOSE_REQUEST_TIMEOUT]++;
			if (rl_allow(&ex->rl_slow, now))
				log_warnx("http: %s sent no whole request in "
				    "%d s (http.request_timeout): connection "
				    "closed", c->peer, ex->request_timeout_s);
		}
		i++;
	}
	listener_update(ex);
	return ex->n_conns;
}

static void
sweep_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct export	*ex = arg;
	time_t		 now = time(NULL);

	(void)fd; (void)ev;
	sweep_conns(ex, now);
	rl_flush(&ex->rl_refused, now, "connections refused (503)");
	rl_flush(&ex->rl_slow, now, "connections closed for sending no "
	    "whole request in time");
	rl_flush(&ex->rl_full, now, "times at the connection limit");
	rl_flush(&ex->rl_hook, now, "dnsimple webhook deliveries refused "
	    "(404)");
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
	memset(c, 0, sizeof(*c));
	c->bev = bev;
	c->born = time(NULL);
	/* evhttp sets up its side of the connection after this returns:
	 * look at it once the listener's wake-up is over. */
	event_active(ex->admit, EV_TIMEOUT, 0);
	listener_update(ex);
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
	struct hostevents_reply	 rep;
	struct evbuffer		*in;
	char			 peer[64];
	size_t			 len;
	const char		*body;

	peer_text(req, peer, sizeof(peer));
	if (!hostevents_authorise(ex->hostevents, secret)) {
		/* The URL is the credential: never log it. Anyone can
		 * send these: one line, then a sum once a minute; the
		 * metric counts every one. */
		if (rl_allow(&ex->rl_hook, time(NULL)))
			log_warnx("http: dnsimple webhook from %s with %s: "
			    "404 (more are summed up every %d s)", peer,
			    !hostevents_enabled(ex->hostevents) ? "the webhook "
			    "not configured" : "a wrong secret", LOG_WINDOW);
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
	xhook_handle(ex, body, len, clock_now(), &rep);
	log_info("http: dnsimple webhook from %s: %d", peer, rep.status);
	reply_json(req, rep.status, rep.body);
	json_decref(rep.body);
}

/* Accept-Encoding names gzip with a q-value above 0 (RFC 9110 12.5.3). */
static bool
wants_gzip(struct evhttp_request *req)
{
	const char	*ae = evhttp_find_header(
			    evhttp_request_get_input_headers(req),
			    "Accept-Encoding");
	const char	*p, *end, *q;
	size_t		 n;

	for (p = ae; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		p += strspn(p, " \t");
		end = p + strcspn(p, ",");
		n = strcspn(p, " \t;,");
		if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (n == 1 && *p == '*')) {
			q = memchr(p, ';', (size_t)(end - p));
			if (q == NULL)
				return true;
			q += 1 + strspn(q + 1, " \t");
			if (strncasecmp(q, "q=", 2) != 0 ||
			    strtod(q + 2, NULL) > 0)
				return true;
			return false;
		}
	}
	return false;
}

/*
 * /metrics is rendered in slices of at most METRICS_SLICE_S of the loop,
 * one slice per loop turn, so checks, timers and other requests run in
 * between: 100,000 domains are ~200 MB of text, ~0.3 s to render and
 * ~1 s to gzip, which would otherwise hold the loop. A small page is
 * done in its first slice, at once. The answer goes out whole when the
 * page is done: until then nothing is sent, so a change of the domain
 * list (ex->dom_gen) starts the page again rather than list a domain
 * twice or not at all. gzip runs piece by piece on the text as it grows,
 * itself bounded by the slice.
 */
#define METRICS_SLICE_S	0.02
#define GZIP_PIECE	(256 * 1024)

struct xrender {
	struct export		*ex;
	struct evhttp_request	*req;
	struct evbuffer		*body;		/* the answer so far */
	struct evbuffer		*text;		/* rendered, not yet gzipped */
	z_stream		 z;
	bool			 gzip, z_init, rendered;
	unsigned long long	 gen;
	struct xmetrics_pos	 pos;
	time_t			 now;
	struct event		*ev;
	struct xrender		*next;
	unsigned char		 zout[65536];
};

static double
mono_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
render_free(struct xrender *r)
{
	struct xrender	**pp;

	for (pp = &r->ex->renders; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	if (r->z_init)
		deflateEnd(&r->z);
	if (r->ev != NULL)
		event_free(r->ev);
	if (r->body != NULL)
		evbuffer_free(r->body);
	if (r->text != NULL)
		evbuffer_free(r->text);
	free(r);
}

/* in[0..n) through the gzip stream into body. */
static int
render_deflate(struct xrender *r, const void *in, size_t n, int flush)
{
	int	 zrc;

	r->z.next_in = (Bytef *)(uintptr_t)in;
	r->z.avail_in = (uInt)n;
	do {
		r->z.next_out = r->zout;
		r->z.avail_out = sizeof(r->zout);
		zrc = deflate(&r->z, flush);
		if (zrc == Z_STREAM_ERROR || evbuffer_add(r->body, r->zout,
		    sizeof(r->zout) - r->z.avail_out) == -1)
			return -1;
	} while (r->z.avail_out == 0 ||
	    (flush == Z_FINISH && zrc != Z_STREAM_END));
	return 0;
}

/* gzip what was rendered, until done or the clock passes `until`. */
static int
render_gzip_some(struct xrender *r, double until)
{
	struct evbuffer_iovec	 v;
	size_t			 n;

	while (evbuffer_get_length(r->text) > 0) {
		if (evbuffer_peek(r->text, -1, NULL, &v, 1) < 1)
			return -1;
		n = v.iov_len < GZIP_PIECE ? v.iov_len : GZIP_PIECE;
		if (render_deflate(r, v.iov_base, n, Z_NO_FLUSH) == -1)
			return -1;
		evbuffer_drain(r->text, n);
		if (mono_now() > until)
			break;
	}
	return 0;
}

static int
render_start_page(struct xrender *r)
{
	memset(&r->pos, 0, sizeof(r->pos));
	r->gen = r->ex->dom_gen;
	r->rendered = false;
	evbuffer_drain(r->body, evbuffer_get_length(r->body));
	if (r->text != NULL)
		evbuffer_drain(r->text, evbuffer_get_length(r->text));
	if (r->z_init)
		return deflateReset(&r->z) == Z_OK ? 0 : -1;
	return 0;
}

static void
metrics_reply(struct xrender *r)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->req);

	evhttp_add_header(h, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Vary", "Accept-Encoding");
	if (r->gzip)
		evhttp_add_header(h, "Content-Encoding", "gzip");
	send_reply(r->req, 200, "OK", r->body);
}

/*
 * One slice: gzip what the last slice rendered, else render on; the
 * answer once both are done. Returns true when r is finished (answered
 * or failed, and freed).
 */
static bool
render_slice(struct xrender *r)
{
	double	 until = mono_now() + METRICS_SLICE_S;

	if (r->gen != r->ex->dom_gen && render_start_page(r) == -1)
		goto fail;
	if (r->gzip && evbuffer_get_length(r->text) > 0) {
		if (render_gzip_some(r, until) == -1)
			goto fail;
		if (evbuffer_get_length(r->text) > 0)
			return false;
	}
	if (!r->rendered) {
		r->rendered = xmetrics_render_step(r->ex, r->gzip ? r->text :
		    r->body, r->now, &r->pos, METRICS_SLICE_S);
		return false;
	}
	if (r->gzip && render_deflate(r, NULL, 0, Z_FINISH) == -1)
		goto fail;
	metrics_reply(r);
	render_free(r);
	return true;
fail:
	evhttp_send_error(r->req, 500, NULL);
	render_free(r);
	return true;
}

/* Slices until r is finished or a slice's time went: then the next
 * loop turn goes on. A small page is answered at once. */
static void
render_run(struct xrender *r)
{
	double	 t0 = mono_now();

	while (!render_slice(r))
		if (mono_now() - t0 > METRICS_SLICE_S) {
			event_active(r->ev, EV_TIMEOUT, 0);
			return;
		}
}

static void
render_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	render_run(arg);
}

static void
serve_metrics(struct export *ex, struct evhttp_request *req)
{
	struct xrender	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	r->ex = ex;
	r->req = req;
	r->now = clock_now();
	r->next = ex->renders;
	ex->renders = r;
	/* 10,000 domains are ~20 MB of text and ~1 MB gzipped: Prometheus
	 * asks for gzip, and gets it. windowBits 15 + 16: a gzip header
	 * and trailer; level 1: text compresses well anyway. */
	r->gzip = wants_gzip(req);
	if ((r->body = evbuffer_new()) == NULL ||
	    (r->gzip && (r->text = evbuffer_new()) == NULL) ||
	    (r->ev = event_new(ex->base, -1, 0, render_cb, r)) == NULL) {
		evhttp_send_error(req, 500, NULL);
		render_free(r);
		return;
	}
	if (r->gzip) {
		if (deflateInit2(&r->z, 1, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
			evhttp_send_error(req, 500, NULL);
			render_free(r);
			return;
		}
		r->z_init = true;
	}
	r->gen = ex->dom_gen;
	render_run(r);
}

/*
 * evhttp 2.1 calls the request callback a second time, with the URI
 * gone, when the connection of a request still being answered fails
 * (not on EOF or timeout: then it lets go of the request, and the late
 * answer frees it). A /metrics page in slices for that request stops.
 */
static bool
render_cancel(struct export *ex, struct evhttp_request *req)
{
	struct xrender	*r;

	for (r = ex->renders; r != NULL; r = r->next)
		if (r->req == req) {
			render_free(r);
			return true;
		}
	return false;
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
	 * script inline; the script reads the JSON API of this origin. */
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
	    "connect-src 'self'; "
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

/* The answer is out: the next request is due within
 * http.request_timeout. */
const int	 xhttp_codes[XHTTP_NCODES] = { 200, 400, 404, 405, 408, 409,
		    413, 422, 500, 501, 503 };
const char	*xhttp_handlers[XH_NHANDLERS] = { "metrics", "status",
		    "healthz", "readyz", "api", "hook", "other" };

static enum xhandler
handler_of(const char *path)
{
	if (path == NULL || *path == '\0' || strcmp(path, "/") == 0)
		return XH_STATUS;
	if (strcmp(path, "/metrics") == 0)
		return XH_METRICS;
	if (strcmp(path, "/healthz") == 0)
		return XH_HEALTHZ;
	if (strcmp(path, "/readyz") == 0)
		return XH_READYZ;
	if (strncmp(path, HOOK_PREFIX, strlen(HOOK_PREFIX)) == 0)
		return XH_HOOK;
	if (strncmp(path, API_DOMAINS, strlen(API_DOMAINS)) == 0)
		return XH_API;
	return XH_OTHER;
}

/* dnssecmon_http_requests_total{handler,code}, once the answer is out. */
static void
count_answer(struct export *ex, struct evhttp_request *req)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	int			 code = evhttp_request_get_response_code(req);
	unsigned		 k;

	for (k = 0; k < XHTTP_NCODES; k++)
		if (xhttp_codes[k] == code)
			break;
	ex->http_answers[handler_of(uri ? evhttp_uri_get_path(uri) :
	    NULL)][k]++;
}

static void
reply_done(struct evhttp_request *req, void *arg)
{
	struct export	*ex = arg;
	struct xconn	*c = conn_of_req(ex, req);

	count_answer(ex, req);
	if (c == NULL || c->cut || c->closed)
		return;
	if (c->close_after)
		conn_cut(c, NULL);
	else
		c->deadline = time(NULL) + ex->request_timeout_s;
}

/*
 * evhttp takes a CONNECT for a tunnel and keeps the connection open
 * whatever the answer says, so its own 501 left the client waiting for
 * the read timeout: answer here and close once the answer is out.
 */
static void
refuse_connect(struct xconn *c, struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	const char		*text = "this is not a proxy\n";
	char			 len[32];

	snprintf(len, sizeof(len), "%zu", strlen(text));
	evhttp_add_header(h, "Content-Length", len);
	evhttp_add_header(h, "Connection", "close");
	if (c != NULL)
		c->close_after = true;
	reply_text(req, 501, "Not Implemented", "this is not a proxy");
}

static void
route(struct evhttp_request *req, void *arg)
{
	struct export		*ex = arg;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct xconn		*c = conn_of_req(ex, req);
	json_t			*j;

	if (render_cancel(ex, req)) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	ex->http_requests++;
	/* The request is in: no deadline while answering (the write
	 * timeout and the age limit still hold). */
	if (c != NULL) {
		c->deadline = 0;
		c->served = true;
	}
	evhttp_request_set_on_complete_cb(req, reply_done, ex);
	if (method_is(req, EVHTTP_REQ_CONNECT)) {
		refuse_connect(c, req);
		return;
	}
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
export_create(struct event_base *base, struct hostevents *host, char *err,
    size_t errlen)
{
	struct export			*ex;
	struct hostevents_directory	 dir;

	if ((ex = calloc(1, sizeof(*ex))) == NULL) {
		snprintf(err, errlen, "exporter: out of memory");
		return NULL;
	}
	/* The webhook's taker finds domains in this table until
	 * export_destroy() takes the table away again. */
	ex->hostevents = host;
	xhook_directory(ex, &dir);
	hostevents_set_directory(ex->hostevents, &dir);
	ex->base = base;
	ex->started = clock_now();
	ex->max_connections = EXPORT_DEFAULT_CONNECTIONS;
	ex->max_per_client = EXPORT_DEFAULT_PER_CLIENT;
	ex->timeout_s = EXPORT_DEFAULT_TIMEOUT;
	ex->request_timeout_s = EXPORT_DEFAULT_REQUEST_TIMEOUT;
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
	struct timeval			 tv = { 1, 0 };

	/* Checked first: a reload that fails changes nothing. */
	if (s->dnsimple_secret != NULL &&
	    strlen(s->dnsimple_secret) > HOSTEVENTS_SECRET_MAX) {
		snprintf(err, errlen, "hooks.dnsimple.secret: longer than %d "
		    "characters", HOSTEVENTS_SECRET_MAX);
		return -1;
	}
	if (ex->http == NULL) {
		if ((ex->http = evhttp_new(ex->base)) == NULL ||
		    (ex->sweep = event_new(ex->base, -1, EV_PERSIST,
		    sweep_tick, ex)) == NULL ||
		    (ex->admit = event_new(ex->base, -1, 0, admit_new,
		    ex)) == NULL) {
			snprintf(err, errlen, "http: cannot set up the "
			    "server");
			return -1;
		}
		evhttp_set_gencb(ex->http, route, ex);
		evhttp_set_bevcb(ex->http, new_conn, ex);
		/* CONNECT reaches route() only to be refused there. */
		evhttp_set_allowed_methods(ex->http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_CONNECT);
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
			return -1;
		}
		if ((bound = evhttp_bind_listener(ex->http, lev)) == NULL) {
			evconnlistener_free(lev);
			snprintf(err, errlen, "http: cannot serve on %s",
			    s->listen_text);
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
		    "status page at /%s)", s->listen_text,
		    s->dnsimple_secret != NULL ? ", dnsimple webhook on" : "");
		if (!is_loopback(s->addr))
			log_warnx("http: %s is not a loopback address: the "
			    "status page, the API and /metrics have no "
			    "authentication; firewall the port or put an "
			    "authenticating proxy in front", s->listen_text);
	}
	ex->max_connections = s->max_connections ? s->max_connections :
	    EXPORT_DEFAULT_CONNECTIONS;
	ex->max_per_client = s->max_per_client ? s->max_per_client :
	    EXPORT_DEFAULT_PER_CLIENT;
	ex->timeout_s = s->timeout_s > 0 ? s->timeout_s :
	    EXPORT_DEFAULT_TIMEOUT;
	ex->request_timeout_s = s->request_timeout_s > 0 ?
	    s->request_timeout_s : EXPORT_DEFAULT_REQUEST_TIMEOUT;
	ex->refresh_s = s->refresh_s > 0 ? s->refresh_s :
	    EXPORT_DEFAULT_REFRESH;
	ex->no_enum_zeros = s->no_enum_zeros;
	evhttp_set_timeout(ex->http, ex->timeout_s);
	/* Cannot fail: its length was checked above. */
	(void)hostevents_set_secret(ex->hostevents, s->dnsimple_secret);
	sweep_conns(ex, time(NULL));
	return 0;
}

void
export_destroy(struct export *ex)
{
	struct hostevents_directory	 dir;
	size_t				 i;

	if (ex == NULL)
		return;
	/* Pages in slices: evhttp_free frees their requests with their
	 * connections; one whose connection is gone is ours to free. */
	while (ex->renders != NULL) {
		struct evhttp_request *req = ex->renders->req;

		render_free(ex->renders);
		if (evhttp_request_get_connection(req) == NULL)
			evhttp_request_free(req);
	}
	/* evhttp_free frees the listener first, then calls conn_closed()
	 * for every connection: nothing to resume. */
	ex->lev = NULL;
	if (ex->http != NULL)
		evhttp_free(ex->http);	/* closes the listener and every
					   connection */
	for (i = 0; i < ex->n_conns; i++)
		bufferevent_decref(ex->conns[i].bev);
	free(ex->conns);
	if (ex->sweep != NULL)
		event_free(ex->sweep);
	if (ex->admit != NULL)
		event_free(ex->admit);
	/* Frees every entry; with no store, nothing is read back. */
	ex->store = NULL;
	(void)export_set_domains(ex, NULL, 0);
	free(ex->dom);
	(void)export_set_catalogs(ex, NULL, 0);
	free(ex->cats);
	for (i = 0; i < ex->n_resolvers; i++) {
		free(ex->resolver_name[i]);
		free(ex->resolver_label[i]);
	}
	/* The caller's hostevents outlives this table: no directory. */
	memset(&dir, 0, sizeof(dir));
	hostevents_set_directory(ex->hostevents, &dir);
	free(ex);
}
