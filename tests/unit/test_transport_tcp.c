/*
 * probe/transport's shared TCP connections (RFC 7766 pipelining) against
 * a small DNS-over-TCP server run in this process, on the same event_base,
 * on a loopback port of its own: real sockets, real connections, and every
 * accept() counted.
 *
 *   - N queries to one server go on fewer than N connections and all get
 *     their own answers, which the server sends in reverse order;
 *   - a server that answers one query per connection and closes it: every
 *     query still gets its answer, and later ones go one per connection;
 *   - a server that closes a shared connection with queries outstanding:
 *     those are sent again and answered;
 *   - a shared connection the server never answers on: its queries go
 *     again, alone; one query the server skips while it answers those
 *     sent after it: that one times out, nothing goes twice;
 *   - an answer with an ID nobody asked on a shared connection is ignored
 *     and counted; a message too short to be DNS closes the connection and
 *     its queries go again;
 *   - idle connections are closed by the transport.
 *
 * The address is $TRANSPORT_TCP_ADDR (default 127.0.0.1); the port is the
 * kernel's choice. No wall-clock upper bound is asserted: the loop limits
 * are hang guards.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "probe/transport.h"
#include "tests/unit/evloop.h"
#include "tests/unit/tap.h"

#define HANG_MS		60000
#define NQ		40

enum mode {
	M_PIPE,		/* answers what it read, last query first */
	M_ONESHOT,	/* answers the first query, then closes */
	M_CLOSEMID,	/* first connection: waits for 6 queries, answers 2,
			   closes; later ones like M_PIPE */
	M_BADID,	/* like M_PIPE, each batch after an answer with an
			   ID nobody asked */
	M_RUNT,		/* first connection: answers 1, then a 5-byte
			   message; later ones like M_PIPE */
	M_STALL,	/* first connection: reads, never answers; later
			   ones like M_PIPE */
	M_SKIP,		/* like M_PIPE, but never answers n5.x */
	M_GARBAGE,	/* first connection: answers 1, then 2,000 random
			   bytes (srv.seed); later ones like M_PIPE */
	M_SECOND	/* first connection: answers its first query,
			   closes on its second; later ones like M_PIPE */
};

struct srv {
	int			 fd;
	struct event		*ev;
	struct sockaddr_in	 sa;
	enum mode		 mode;
	unsigned		 accepts;
	unsigned		 closed;	/* connections ended by the
						   client (EOF or reset) */
	unsigned		 maxbatch;	/* most queries answered from
						   one read, out of order */
	unsigned		 queries;	/* read */
	unsigned		 answers;	/* sent */
	unsigned		 seed;
	struct cli		*clis;		/* open ones */
};

struct cli {
	struct cli		*next;
	struct srv		*srv;
	int			 fd;
	unsigned		 nth;		/* accept number, from 1 */
	unsigned		 answered;
	struct event		*ev;
	size_t			 len;
	uint8_t			 buf[65536 * 2];
};

static int		  pending;

struct res {
	int			 done;
	enum transport_status	 status;
	bool			 tcp;
	unsigned		 attempts;
	char			 data[64];
	char			 error[256];
};

/* ------------------------------------------------------------ server */

/* The A record a name n<i>.x gets: 10.0.<i / 256>.<i % 256>. */
static uint32_t
addr_for(const uint8_t *q, size_t qlen)
{
	long	 i;
	char	 lab[64];

	if (qlen < 13 || q[12] < 2 || q[12] > 63 || 13 + (size_t)q[12] > qlen)
		return 0;
	memcpy(lab, q + 14, q[12] - 1);
	lab[q[12] - 1] = '\0';
	i = strtol(lab, NULL, 10);
	return htonl(0x0A000000U | (uint32_t)(i & 0xFFFF));
}

/* Writes the answer to query q (qlen bytes), with ID id. */
static void
answer(struct cli *c, const uint8_t *q, size_t qlen, uint16_t id)
{
	uint8_t		 out[600];
	size_t		 n, p = 12;
	uint32_t	 a = addr_for(q, qlen);

	while (p < qlen && q[p] != 0)
		p += (size_t)q[p] + 1;
	p += 5;				/* root label, type, class */
	if (p > qlen || p + 16 > sizeof(out) - 2)
		return;
	memcpy(out + 2, q, p);
	out[2] = id >> 8;
	out[3] = id & 0xFF;
	out[4] = 0x84;			/* QR, AA */
	out[5] = 0;
	out[8] = 0;			/* ANCOUNT 1 */
	out[9] = 1;
	memset(out + 10, 0, 4);		/* NS, AR: 0 (no OPT back) */
	n = 2 + p;
	memcpy(out + n, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04",
	    12);
	memcpy(out + n + 12, &a, 4);
	n += 16;
	out[0] = (uint8_t)((n - 2) >> 8);
	out[1] = (uint8_t)(n - 2);
	if (write(c->fd, out, n) != (ssize_t)n)
		tap_diag("server: short write");
	c->answered++;
	c->srv->answers++;
}

static void
cli_free(struct cli *c)
{
	struct cli	**pp;

	for (pp = &c->srv->clis; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	event_free(c->ev);
	close(c->fd);
	free(c);
}

static void
cli_read(evutil_socket_t fd, short what, void *arg)
{
	struct cli	*c = arg;
	struct srv	*s = c->srv;
	const uint8_t	*qs[64];
	size_t		 ql[64], off = 0, k = 0, i;
	ssize_t		 n;
	bool		 first = c->nth == 1;

	(void)what;
	n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0) {
		s->closed++;
		cli_free(c);
		return;
	}
	c->len += (size_t)n;
	while (k < 64 && c->len - off >= 2 &&
	    c->len - off - 2 >= (size_t)(c->buf[off] << 8 | c->buf[off + 1])) {
		ql[k] = (size_t)(c->buf[off] << 8 | c->buf[off + 1]);
		qs[k++] = c->buf + off + 2;
		off += 2 + ql[k - 1];
	}
	if (s->mode == M_CLOSEMID && first && k < 6)
		return;			/* wait for more */
	s->queries += (unsigned)k;
	switch (s->mode) {
	case M_ONESHOT:
		if (k > 0)
			answer(c, qs[0], ql[0], (uint16_t)(qs[0][0] << 8 |
			    qs[0][1]));
		s->closed++;
		cli_free(c);
		return;
	case M_CLOSEMID:
		if (first) {
			answer(c, qs[0], ql[0], (uint16_t)(qs[0][0] << 8 |
			    qs[0][1]));
			answer(c, qs[1], ql[1], (uint16_t)(qs[1][0] << 8 |
			    qs[1][1]));
			s->closed++;
			cli_free(c);
			return;
		}
		break;
	case M_RUNT:
		if (first && k > 0) {
			answer(c, qs[0], ql[0], (uint16_t)(qs[0][0] << 8 |
			    qs[0][1]));
			if (write(c->fd, "\x00\x05hello", 7) != 7)
				tap_diag("server: short write");
			c->len = 0;
			return;
		}
		break;
	case M_BADID:
		/* to a question nobody asked ("m" for "n"), another ID */
		if (k > 0 && ql[0] > 13) {
			uint8_t	 other[512];

			memcpy(other, qs[0], ql[0] < sizeof(other) ? ql[0] :
			    sizeof(other));
			other[13] = 'm';
			answer(c, other, ql[0] < sizeof(other) ? ql[0] :
			    sizeof(other), (uint16_t)((qs[0][0] << 8 |
			    qs[0][1]) ^ 0x5A5A));
		}
		break;
	case M_SECOND:
		if (first && c->answered > 0 && k > 0) {
			s->closed++;
			cli_free(c);
			return;
		}
		break;
	case M_GARBAGE:
		if (first && k > 0) {
			uint8_t		 junk[2000];
			unsigned	 j;

			answer(c, qs[0], ql[0], (uint16_t)(qs[0][0] << 8 |
			    qs[0][1]));
			for (j = 0; j < sizeof(junk); j++)
				junk[j] = (uint8_t)(rand_r(&s->seed) >> 7);
			if (write(c->fd, junk, sizeof(junk)) !=
			    (ssize_t)sizeof(junk))
				tap_diag("server: short write");
			c->len = 0;
			return;
		}
		break;
	case M_STALL:
		if (first) {
			c->len = 0;
			return;
		}
		break;
	case M_SKIP:
	case M_PIPE:
		break;
	}
	/* last first: the answers come out of order */
	for (i = k; i > 0; i--)
		if (s->mode != M_SKIP || ql[i - 1] < 16 ||
		    memcmp(qs[i - 1] + 12, "\x02n5\x01x", 5) != 0)
			answer(c, qs[i - 1], ql[i - 1], (uint16_t)(qs[i - 1][0]
			    << 8 | qs[i - 1][1]));
	if (k > s->maxbatch)
		s->maxbatch = (unsigned)k;
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

static void
srv_accept(evutil_socket_t fd, short what, void *arg)
{
	struct srv	*s = arg;
	struct cli	*c;
	int		 cfd;

	(void)what;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) == -1)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(cfd);
		return;
	}
	c->srv = s;
	c->fd = cfd;
	c->nth = ++s->accepts;
	c->next = s->clis;
	s->clis = c;
	c->ev = event_new(base, cfd, EV_READ | EV_PERSIST, cli_read, c);
	event_add(c->ev, NULL);
}

static int
srv_start(struct srv *s, enum mode mode)
{
	const char	*addr = getenv("TRANSPORT_TCP_ADDR");
	socklen_t	 sl = sizeof(s->sa);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr != NULL ? addr : "127.0.0.1",
	    &s->sa.sin_addr) != 1)
		return -1;
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(s->fd, (struct sockaddr *)&s->sa, sizeof(s->sa)) == -1 ||
	    getsockname(s->fd, (struct sockaddr *)&s->sa, &sl) == -1 ||
	    listen(s->fd, 128) == -1)
		return -1;
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, srv_accept, s);
	return event_add(s->ev, NULL);
}

static void
srv_stop(struct srv *s)
{
	while (s->clis != NULL)
		cli_free(s->clis);
	event_free(s->ev);
	close(s->fd);
}

/* ------------------------------------------------------------ client */


static void
record_cb(void *arg, const struct transport_result *r)
{
	struct res	*x = arg;

	x->done++;
	x->status = r->status;
	x->tcp = r->tcp;
	x->attempts = r->attempts;
	x->data[0] = '\0';
	/* the one A record: the last 4 bytes of the message */
	if (r->status == TRANSPORT_OK && r->wire_len >= 16 && r->wire[7] == 1)
		inet_ntop(AF_INET, r->wire + r->wire_len - 4, x->data,
		    sizeof(x->data));
	snprintf(x->error, sizeof(x->error), "%s", r->error ? r->error : "");
	if (--pending == 0)
		event_base_loopbreak(base);
}

/* Asks n<from>.x ... n<from + n - 1>.x over TCP, waits for every answer,
 * and counts those that are OK over TCP with their own address. */
static int
ask_all(struct transport *t, const struct srv *s, int from, int n,
    struct res *x)
{
	char	 name[32], want[32];
	int	 i, good = 0;

	for (i = 0; i < n; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		snprintf(name, sizeof(name), "n%d.x.", from + i);
		if (transport_query_flags(t, (const struct sockaddr *)&s->sa,
		    sizeof(s->sa), name, 1, TRANSPORT_Q_TCP, record_cb,
		    &x[i]) == 0)
			pending++;
	}
	if (pending > 0)
		spin(HANG_MS);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "10.0.%d.%d", (from + i) / 256,
		    (from + i) % 256);
		if (x[i].done == 1 && x[i].status == TRANSPORT_OK && x[i].tcp &&
		    strcmp(x[i].data, want) == 0)
			good++;
		else if (good + 3 > i)
			tap_diag("n%d.x.: done %d, %s, %s (%s)", from + i,
			    x[i].done, transport_status_str(x[i].status),
			    x[i].data, x[i].error);
	}
	return good;
}

static struct transport *
mk_tmo(int tcp_timeout_ms)
{
	struct transport_opts	 o;

	transport_opts_default(&o);
	o.tcp_timeout_ms = tcp_timeout_ms;
	return transport_create(base, &o);
}

static struct transport *
mk(void)
{
	return mk_tmo(5000);
}

static void
stats(struct transport *t, struct transport_stats *st)
{
	transport_stats(t, st);
}

/* ------------------------------------------------------------ tests */

static void
test_pipelined(void)
{
	struct srv		 s;
	struct transport	*t = mk();
	struct transport_stats	 st;
	struct res		 x[NQ];
	uint64_t		 until;

	if (!ok(srv_start(&s, M_PIPE) == 0 && t != NULL, "pipe: server up"))
		return;
	is_int(ask_all(t, &s, 0, NQ, x), NQ,
	    "pipe: %d TCP queries, every one its own answer", NQ);
	stats(t, &st);
	ok(s.accepts >= 1 && s.accepts <= 4,
	    "pipe: %u connections for %d queries (at most 4 per server)",
	    s.accepts, NQ);
	is_int(st.tcp_connections, s.accepts,
	    "pipe: tcp_connections counts the accepts");
	is_int(st.tcp_sent, NQ, "pipe: tcp_sent counts queries");
	is_int(st.tcp_reused, NQ - s.accepts,
	    "pipe: the others went on an open connection");
	ok(s.maxbatch >= 2, "pipe: the server read %u queries at once and "
	    "answered them last first: answers matched out of order",
	    s.maxbatch);
	is_int(st.tcp_resent, 0, "pipe: nothing sent twice");
	/* a second round reuses what the first left open */
	is_int(ask_all(t, &s, 100, 10, x), 10, "pipe: a second round");
	stats(t, &st);
	ok(st.tcp_connections == s.accepts && st.tcp_reused >= NQ,
	    "pipe: no new connection for it (%u accepts)", s.accepts);
	/* idle ones are closed by us: the server sees them end */
	until = (uint64_t)time(NULL) + HANG_MS / 1000;
	while (s.closed < s.accepts && (uint64_t)time(NULL) < until)
		spin(50);
	is_int(s.closed, s.accepts, "pipe: idle connections closed");
	transport_destroy(t);
	srv_stop(&s);
}

static void
test_oneshot(void)
{
	struct srv		 s;
	struct transport	*t = mk();
	struct transport_stats	 st, st2;
	struct res		 x[NQ];
	unsigned		 acc;

	if (!ok(srv_start(&s, M_ONESHOT) == 0 && t != NULL,
	    "oneshot: server up"))
		return;
	is_int(ask_all(t, &s, 0, 20, x), 20, "oneshot: a server that "
	    "answers one query per connection: all 20 answered");
	stats(t, &st);
	ok(st.tcp_resent >= 1, "oneshot: %llu sent again alone",
	    (unsigned long long)st.tcp_resent);
	is_int(s.answers, s.accepts, "oneshot: the server answered one "
	    "query on each of its %u connections", s.accepts);
	/* now known: one query per connection, none sent twice */
	acc = s.accepts;
	is_int(ask_all(t, &s, 100, 10, x), 10, "oneshot: a second round");
	stats(t, &st2);
	is_int(st2.tcp_resent, st.tcp_resent,
	    "oneshot: the second round sent nothing twice");
	is_int(s.accepts - acc, 10, "oneshot: one connection per query");
	transport_destroy(t);
	srv_stop(&s);
}

static void
test_closemid(void)
{
	struct srv		 s;
	struct transport	*t = mk();
	struct transport_stats	 st;
	struct res		 x[NQ];

	if (!ok(srv_start(&s, M_CLOSEMID) == 0 && t != NULL,
	    "closemid: server up"))
		return;
	is_int(ask_all(t, &s, 0, 20, x), 20, "closemid: the server closed "
	    "a shared connection after 2 answers: all 20 answered");
	stats(t, &st);
	ok(st.tcp_resent >= 4, "closemid: the %llu outstanding were sent "
	    "again", (unsigned long long)st.tcp_resent);
	ok(s.accepts >= 2, "closemid: on new connections (%u)", s.accepts);
	transport_destroy(t);
	srv_stop(&s);
}

static void
test_badid(void)
{
	struct srv		 s;
	struct transport	*t = mk();
	struct transport_stats	 st;
	struct res		 x[NQ];

	if (!ok(srv_start(&s, M_BADID) == 0 && t != NULL, "badid: server up"))
		return;
	is_int(ask_all(t, &s, 0, 20, x), 20, "badid: an answer with an ID "
	    "nobody asked on the shared connection: all 20 answered");
	stats(t, &st);
	ok(st.bad_answers >= 1, "badid: %llu counted as bad answers",
	    (unsigned long long)st.bad_answers);
	transport_destroy(t);
	srv_stop(&s);
}

static void
test_runt(void)
{
	struct srv		 s;
	struct transport	*t = mk();
	struct transport_stats	 st;
	struct res		 x[NQ];

	if (!ok(srv_start(&s, M_RUNT) == 0 && t != NULL, "runt: server up"))
		return;
	is_int(ask_all(t, &s, 0, 20, x), 20, "runt: a 5-byte message on "
	    "the shared connection: all 20 answered");
	stats(t, &st);
	ok(st.tcp_resent >= 1 && s.accepts >= 2, "runt: the connection was "
	    "closed, %llu sent again on %u connections",
	    (unsigned long long)st.tcp_resent, s.accepts);
	transport_destroy(t);
	srv_stop(&s);
}

static void
test_stall(void)
{
	struct srv		 s;
	struct transport	*t = mk_tmo(1000);
	struct transport_stats	 st;
	struct res		 x[NQ];
	int			 i, slow = 0;

	if (!ok(srv_start(&s, M_STALL) == 0 && t != NULL, "stall: server up"))
		return;
	is_int(ask_all(t, &s, 0, 10, x), 10, "stall: a shared connection "
	    "the server never answers on: all 10 answered");
	stats(t, &st);
	is_int(st.tcp_resent, 10, "stall: each sent again alone");
	for (i = 0; i < 10; i++)
		slow += x[i].attempts == 2;
	is_int(slow, 10, "stall: two TCP sends each");
	transport_destroy(t);
	srv_stop(&s);
}

static void
test_skip(void)
{
	struct srv		 s;
	struct transport	*t = mk_tmo(1000);
	struct transport_stats	 st;
	struct res		 x[NQ];

	if (!ok(srv_start(&s, M_SKIP) == 0 && t != NULL, "skip: server up"))
		return;
	is_int(ask_all(t, &s, 0, 10, x), 9, "skip: a server that answers "
	    "every query but one on the shared connection: 9 answered");
	is_int(x[5].status, TRANSPORT_TIMEOUT, "skip: n5 times out (%s)",
	    x[5].error);
	is_int(x[5].attempts, 1, "skip: not sent again: the server answered "
	    "what was sent after it");
	stats(t, &st);
	is_int(st.tcp_resent, 0, "skip: nothing sent twice");
	transport_destroy(t);
	srv_stop(&s);
}

/* Whatever bytes follow an answer on a shared connection: no crash, and
 * every query still answered (sent again where the stream went bad). */
static void
test_garbage(void)
{
	struct srv		 s;
	struct transport	*t;
	struct res		 x[NQ];
	unsigned		 seed;
	int			 all = 0;

	for (seed = 1; seed <= 8; seed++) {
		t = mk_tmo(1000);
		if (srv_start(&s, M_GARBAGE) != 0 || t == NULL)
			break;
		s.seed = seed;
		all += ask_all(t, &s, 0, 10, x) == 10;
		transport_destroy(t);
		srv_stop(&s);
	}
	is_int(all, 8, "garbage: 8 streams of random bytes after an answer "
	    "on a shared connection: every query answered each time");
}

/* One query lost on a reused connection (as when the server's idle close
 * crosses it): sent again alone, and the server still gets shared
 * connections. */
static void
test_second(void)
{
	struct srv		 s;
	struct transport	*t = mk();
	struct transport_stats	 st;
	struct res		 x[NQ];
	unsigned		 acc;

	if (!ok(srv_start(&s, M_SECOND) == 0 && t != NULL,
	    "second: server up"))
		return;
	ok(ask_all(t, &s, 0, 1, x) == 1 && ask_all(t, &s, 1, 1, x) == 1,
	    "second: a query on a reused connection the server then closed: "
	    "answered");
	stats(t, &st);
	ok(st.tcp_resent == 1 && x[0].attempts == 2, "second: sent again "
	    "alone (%llu resent, %u attempts)",
	    (unsigned long long)st.tcp_resent, x[0].attempts);
	acc = s.accepts;
	is_int(ask_all(t, &s, 100, 10, x), 10, "second: 10 more answered");
	ok(s.accepts - acc < 10, "second: on shared connections still (%u "
	    "new for 10 queries)", s.accepts - acc);
	transport_destroy(t);
	srv_stop(&s);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	guard = evtimer_new(base, guard_cb, NULL);
	test_pipelined();
	test_oneshot();
	test_closemid();
	test_badid();
	test_runt();
	test_stall();
	test_skip();
	test_garbage();
	test_second();
	event_free(guard);
	event_base_free(base);
	return tap_done();
}
