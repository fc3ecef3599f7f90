/*
 * Asynchronous DNS client for the probe: UDP with retries and backoff,
 * TCP fallback on TC=1, bounded concurrency and a per-server token bucket,
 * all on the caller's libevent base.
 *
 * Life of a query:
 *
 *   transport_query()  -> PENDING, on its server's pendq (no slot held)
 *   pump (event loop)  -> takes a global slot and a server token, sends UDP
 *   timeout            -> re-send with a new ID and socket (a token again:
 *                         while none is left the query waits on the
 *                         server's retryq, keeping its slot)
 *   TC=1               -> the same over TCP
 *   TRANSPORT_Q_TCP    -> waits on the server's tcpq (no slot) until a
 *                         shared connection has room, then over TCP
 *   answer / error     -> finish(): one callback, then freed
 *
 * Sockets: UDP goes through a small pool of unconnected sockets per
 * address family, shared by every query (RFC 5452 section 9.2's pool,
 * as BIND and Knot Resolver keep one): a socket per attempt cost
 * socket + connect + epoll add + close per question, a third of the
 * daemon's CPU in kernel time at 10,000 domains (tests/bench/README.md).
 * What the per-attempt socket gave is kept:
 *   - a random source port per socket: each is bound by the kernel on its
 *     first send (Linux draws UDP ephemeral ports at random), and every
 *     attempt goes out on a socket drawn at random from the pool, a retry
 *     on another one than the attempt before;
 *   - rotation: a socket takes SOCK_ROTATE questions (and none once it is
 *     SOCK_MAX_AGE_MS old), then leaves the pool for a fresh one (a new
 *     random port) and is closed once the answers it waits for are in, so
 *     a port an attacker learnt is soon useless;
 *   - an answer is taken only when it comes from the server's address and
 *     port, on the socket the question left from, with its ID and its
 *     question (idtab: (socket, server, ID) -> query; IDs are unique per
 *     socket and server);
 *   - ICMP unreachable still ends a query at once: IP_RECVERR queues the
 *     error with the original destination and the quoted start of our
 *     packet (the ID), so it is matched like an answer.
 * TCP queries share a few pipelined connections per server (RFC 7766;
 * see "TCP" below), and fall back to one connection per query for a
 * server that closes or stalls a shared one. max_inflight is still
 * clamped to RLIMIT_NOFILE: connections, idle ones included, are kept
 * at most max_inflight.
 *
 * Nothing here is re-entrant from a user callback: transport_query() only
 * queues and activates the pump event; callbacks run from event handlers
 * after the query was unlinked from every list. Servers are freed only by
 * their own timer (once idle and their bucket full again), so no pointer to
 * one can go stale under a running handler.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <linux/errqueue.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <getdns/getdns_extra.h>

#include "common/errbuf.h"
#include "common/log.h"
#include "probe/transport.h"

#define DNS_HDR		12
#define QWIRE_MAX	300	/* header 12 + name 255 + 4 + OPT 11 */
#define UDP_BUF		65536
#define UDP_RCVBUF	(1 << 20)
/*
 * getdns is handed a copy of every message followed by this many zero
 * bytes. Its rdata parsers trust lengths inside the rdata: the fuzzer had
 * getdns 1.6.0 read past the message on IPSECKEY/AMTRELAY gateways, EDNS
 * options, APL items, HIP lengths and TSIG/TKEY length-prefixed fields.
 * The known ones are refused by rdata_walk(); for the rest, no field
 * length exceeds 16 bits, so 64 KiB of zeros keeps every such read inside
 * our buffer (the values read are garbage, never a crash or a leak).
 * The fuzz build sets 0, so that ASan sees them.
 */
#ifndef PARSE_PAD
#define PARSE_PAD	(65536 + 1024)
#endif
#define MSG_MAX		65535
#define UDP_BATCH	32	/* datagrams read per wakeup and socket */
#define BACKOFF_MAX	16	/* attempt timeout <= 16 x timeout_ms */
#define FD_RESERVE	64	/* descriptors left to the rest of the program */
#define POOL_MIN	8	/* UDP sockets per address family: */
#define POOL_MAX	256	/* max_inflight / 16 between these */
#define SOCK_ROTATE	100	/* questions per UDP socket, then a new one */
#define SOCK_MAX_AGE_MS	60000	/* and no socket older than this takes one */
#define VICTIM_SCAN	64	/* queries looked at to blame a stray answer */
#define TCP_PIPE_MAX	32	/* queries outstanding on one connection */
#define TCP_CONN_MAX	4	/* pipelining connections per server */
#define TCP_IDLE_MS	3000	/* an idle connection is closed after this */
#define TCP_NOPIPE_MS	120000	/* after a shared connection broke: one
				   query per connection this long */
#define TCP_GONE	8	/* IDs given up on a connection kept open */
/*
 * A silent address (unbound keeps the same in its infrastructure cache):
 * once SILENT_AFTER UDP questions in a row to one address ended with
 * no answer at all, each of its UDP questions gets one attempt instead of
 * 1 + retries, until it answers anything over UDP. A dead server at a DNS
 * host otherwise held every check of every domain it serves for the
 * whole backoff (5 + 10 + 20 s with the defaults), and each held check
 * keeps one of max_concurrent_domains. What a check sees is unchanged:
 * each question still waits its first timeout and ends TIMEOUT. 8 in a
 * row with all 1 + retries attempts lost is what no lossy path does (at
 * 50% loss, 1 in 16 million), and one answer ends it. Remembered
 * SILENT_KEEP_MS after the last such question, also while no query is
 * attached to the server. TCP has no re-sends to save: a question waits
 * tcp_timeout_ms once (a stalled shared connection's are sent again alone
 * once, and the server then gets one query per connection).
 */
#define SILENT_AFTER	8
#define SILENT_KEEP_MS	600000

enum qstate {
	Q_PENDING,		/* on s->pendq, no slot */
	Q_WAIT_TOKEN,		/* on s->retryq, holds a slot */
	Q_UDP,
	Q_TCP_CONNECT,
	Q_TCP_WRITE,
	Q_TCP_READ
};

struct server;
struct transport;
struct tconn;

/* One pooled UDP socket. */
struct usock {
	struct transport	*t;
	int			 fd;
	int			 family;
	int			 slot;		/* index in the pool; -1 retired */
	unsigned		 sends;
	uint64_t		 born;		/* ms, monotonic */
	unsigned		 refs;		/* queries waiting on it */
	bool			 busy;		/* inside its handler: no free */
	struct event		*ev;
};

struct query {
	TAILQ_ENTRY(query)	 link;		/* s->pendq or s->retryq */
	TAILQ_ENTRY(query)	 alink;		/* t->all */
	struct transport	*t;
	struct server		*s;
	transport_cb		 cb;
	void			*arg;
	char			*qname;
	uint16_t		 qtype;
	uint16_t		 id;
	enum qstate		 state;
	bool			 in_all;
	bool			 holds_slot;
	bool			 next_tcp;	/* what the next send is */
	bool			 tc_fallback;
	bool			 dict;		/* a getdns dict of the answer */
	size_t			 udp_len;	/* the UDP answer taken */
	struct usock		*us;		/* UDP: the socket it waits on */
	struct query		*idnext;	/* t->idtab chain */
	TAILQ_ENTRY(query)	 ulink;		/* s->udpq */
	int			 last_slot;	/* UDP pool slot of the attempt
						   before; -1: none */
	struct event		*ev_timer;
	unsigned		 attempts;
	unsigned		 udp_attempts;
	unsigned		 bad;
	uint64_t		 t_queued;	/* ms, monotonic */
	uint64_t		 t_first;
	uint64_t		 deadline;	/* 0: none */
	/* TCP */
	struct tconn		*conn;		/* the connection it is on */
	TAILQ_ENTRY(query)	 clink;		/* conn->qs */
	uint32_t		 cseq;		/* its place on conn: 1, 2, ... */
	bool			 tcp_resent;	/* sent again alone after a
						   shared connection broke */
	bool			 rd;		/* to a recursive resolver */
	size_t			 woff;		/* of the 2 + qwire_len frame */
	uint8_t			 lenbuf[2];	/* the frame's length prefix */
	char			 lastbad[160];
	size_t			 qwire_len;
	uint8_t			 qwire[QWIRE_MAX];
};

TAILQ_HEAD(queryq, query);

/*
 * One TCP connection to a server, shared by the TCP queries to it
 * (RFC 7766 6.2.1: pipelined, answers matched by ID and question in
 * whatever order they come), or solo: one query, then closed.
 */
struct tconn {
	TAILQ_ENTRY(tconn)	 slink;		/* s->conns */
	TAILQ_ENTRY(tconn)	 ilink;		/* t->idleq, while idle */
	TAILQ_ENTRY(tconn)	 flink;		/* t->flushq */
	struct transport	*t;
	struct server		*s;
	int			 fd;
	bool			 open;		/* connected */
	bool			 solo;
	bool			 on_idleq, on_flushq;
	bool			 broken;	/* a query left it half sent */
	bool			 noreuse;	/* a query timed out on it: the
						   server may still be busy with
						   it, so nothing new goes here */
	bool			 busy;		/* inside its handler: no free */
	bool			 dead;		/* closed; freed once not busy */
	unsigned		 nq;		/* queries on it */
	uint32_t		 carried;	/* queries it ever took */
	uint32_t		 answered;	/* highest cseq answered */
	struct queryq		 qs;		/* in the order written */
	uint16_t		 gone[TCP_GONE]; /* IDs given up while it
						   stayed open */
	unsigned		 ngone;
	struct event		*ev_r, *ev_w, *ev_idle;
	uint8_t			 plen[2];	/* a message cut by a read: */
	size_t			 partlen;	/* its bytes so far, prefix
						   included */
	uint8_t			*part;		/* its body, plen bytes */
};

TAILQ_HEAD(tconnq, tconn);

struct server {
	struct server		*hnext;
	TAILQ_ENTRY(server)	 wlink;		/* t->waitq */
	bool			 on_waitq;
	struct transport	*t;
	uint64_t		 hash;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	unsigned		 refs;		/* queries attached */
	double			 tokens;
	uint64_t		 last_us;	/* last refill */
	struct queryq		 pendq;
	struct queryq		 retryq;
	struct queryq		 udpq;		/* waiting for a UDP answer,
						   oldest first */
	struct queryq		 tcpq;		/* TRANSPORT_Q_TCP, pending
						   (no slot) */
	struct tconnq		 conns;
	unsigned		 nshared;	/* conns that are not solo */
	uint64_t		 nopipe_until;	/* ms; 0: pipelines */
	/* UDP questions in a row that ended with no answer from it (see
	 * SILENT_AFTER), and until when that is remembered (ms). */
	unsigned		 silent;
	uint64_t		 silent_until;
	struct event		*ev_timer;	/* refill, or idle expiry */
};

TAILQ_HEAD(serverq, server);

/* Where getdns parses: MSG_MAX + PARSE_PAD bytes, zero past dirty. */
struct scratch {
	uint8_t		*buf;
	size_t		 dirty;
};

struct transport {
	struct event_base	*base;
	struct transport_opts	 o;
	struct event		*ev_pump;
	struct queryq		 all;
	struct serverq		 waitq;		/* servers with work, a token
						   and no free slot (or not yet
						   pumped) */
	struct server		**htab;
	size_t			 hsize;		/* power of two */
	uint64_t		 hseed;
	unsigned		 inflight;
	unsigned		 queued;
	int			 in_cb;
	getdns_dict		*tmpl;		/* query message template */
	struct usock		**pool4, **pool6; /* pool_n slots each */
	unsigned		 pool_n;
	unsigned		 retired;	/* sockets out of the pool that
						   still wait for answers */
	struct query		**idtab;	/* (socket, server, ID) */
	size_t			 idsize;	/* power of two */
	size_t			 idcount;
	struct scratch		 sc;		/* getdns parses here */
	struct tconnq		 idleq;		/* idle connections, LRU first */
	struct tconnq		 flushq;	/* connections with bytes to send */
	struct event		*ev_flush;
	unsigned		 nconn;		/* TCP connections open */
	struct transport_msg	 view;		/* the answer being handed */
	struct transport_rr	 rrs[TRANSPORT_MAX_RRS];
	struct transport_stats	 st;
	uint8_t			 rnd[256];
	size_t			 rnd_left;
	uint8_t			 ubuf[UDP_BUF];
};

static void	pump_schedule(struct transport *);
static bool	server_silent(const struct server *);
static void	server_kick(struct server *);
static void	query_send(struct query *);
static void	tcp_send(struct query *);
static void	query_resend(struct query *, bool);
static void	finish(struct query *, enum transport_status, const uint8_t *,
		    size_t, getdns_dict *, const char *, ...)
		    __attribute__((format(printf, 6, 7)));

/* ------------------------------------------------------------ helpers */

static uint64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
now_ms(void)
{
	return now_us() / 1000;
}

static void
tv_from_ms(struct timeval *tv, uint64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

/* CSPRNG bytes, drawn from getrandom() 256 at a time. */
static void
rnd_bytes(struct transport *t, void *out, size_t n)
{
	uint8_t	*p = out;

	while (n > 0) {
		if (t->rnd_left == 0) {
			size_t	 got = 0;

			while (got < sizeof(t->rnd)) {
				ssize_t	 r = getrandom(t->rnd + got,
				    sizeof(t->rnd) - got, 0);

				if (r < 0) {
					if (errno == EINTR)
						continue;
					fatal("getrandom");
				}
				got += (size_t)r;
			}
			t->rnd_left = sizeof(t->rnd);
		}
		*p++ = t->rnd[sizeof(t->rnd) - t->rnd_left];
		t->rnd[sizeof(t->rnd) - t->rnd_left] = 0;
		t->rnd_left--;
		n--;
	}
}

static uint16_t
rnd_id(struct transport *t)
{
	uint16_t	 id;

	rnd_bytes(t, &id, sizeof(id));
	return id;
}

static void	udp_detach(struct query *);
static void	conn_detach(struct query *);

/* Lets go of whatever socket q waits on: its place on a TCP connection or
 * on a pooled UDP socket. */
static void
close_fd(struct query *q)
{
	udp_detach(q);
	conn_detach(q);
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Operations this process could not carry out for want of its own
 * resources (memory, sockets), whichever transport: the engine tells a
 * check that met one from a check that met a broken server.
 */
static unsigned long long local_errors;

unsigned long long
transport_local_errors(void)
{
	return local_errors;
}

/* A socket(2) error that is ours, not the network's. */
static bool
local_errno(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}

const char *
transport_status_str(enum transport_status s)
{
	switch (s) {
	case TRANSPORT_OK:		return "ok";
	case TRANSPORT_TIMEOUT:		return "timeout";
	case TRANSPORT_NETERR:		return "network error";
	case TRANSPORT_MALFORMED:	return "malformed";
	case TRANSPORT_CANCELLED:	return "cancelled";
	}
	return "?";
}

/* ------------------------------------------------- reply acceptance */

static int
scratch_init(struct scratch *sc)
{
	sc->dirty = 0;
	sc->buf = calloc(1, MSG_MAX + PARSE_PAD);
	return sc->buf == NULL ? -1 : 0;
}

/*
 * Walks one name starting at *pos. Its inline part must end before limit;
 * compression pointers may go anywhere in the message but only strictly
 * backwards from where the current run of labels started, which rules out
 * loops and forward pointers; the whole name is at most 255 bytes.
 * getdns 1.6.0 does not refuse such names: it parses the message "GOOD"
 * and hands back a zero-length name, so the check is ours.
 */
static int
name_walk(const uint8_t *w, size_t len, size_t *pos, size_t limit,
    bool ptr_ok, const char **why)
{
	size_t	 p = *pos, run = *pos, total = 0, end = limit;
	bool	 inl = true;

	for (;;) {
		uint8_t	 c;

		if (p >= end) {
			*why = "name runs past its end";
			return -1;
		}
		c = w[p];
		if (c == 0) {
			if (inl)
				*pos = p + 1;
			return 0;
		}
		if ((c & 0xC0) == 0xC0) {
			size_t	 off;

			if (!ptr_ok) {
				*why = "compressed name where none may be";
				return -1;
			}
			if (p + 1 >= end) {
				*why = "compression pointer cut short";
				return -1;
			}
			off = (size_t)(c & 0x3F) << 8 | w[p + 1];
			if (inl) {
				*pos = p + 2;
				inl = false;
				end = len;
			}
			if (off >= run) {
				*why = off >= len ?
				    "compression pointer past the end" :
				    "compression pointer forward or looping";
				return -1;
			}
			if (off < DNS_HDR) {
				*why = "compression pointer into the header";
				return -1;
			}
			p = run = off;
			continue;
		}
		if (c & 0xC0) {
			*why = "unknown label type";
			return -1;
		}
		total += (size_t)c + 1;
		if (total + 1 > 255) {
			*why = "name longer than 255 bytes";
			return -1;
		}
		p += (size_t)c + 1;
	}
}

/*
 * Names inside rdata, for the types that carry them at a fixed place
 * (RFC 1035 3.3, RFC 3597 4, RFC 4034). skip: bytes before the first
 * name; names: how many follow; tail: bytes after them (-1 = any, else
 * exactly that many).
 */
static const struct rdname {
	uint16_t	type;
	uint8_t		skip;
	uint8_t		names;
	int8_t		tail;
} rdnames[] = {
	{ 2, 0, 1, 0 },		/* NS */
	{ 3, 0, 1, 0 },		/* MD */
	{ 4, 0, 1, 0 },		/* MF */
	{ 5, 0, 1, 0 },		/* CNAME */
	{ 6, 0, 2, 20 },	/* SOA */
	{ 7, 0, 1, 0 },		/* MB */
	{ 8, 0, 1, 0 },		/* MG */
	{ 9, 0, 1, 0 },		/* MR */
	{ 12, 0, 1, 0 },	/* PTR */
	{ 14, 0, 2, 0 },	/* MINFO */
	{ 15, 2, 1, 0 },	/* MX */
	{ 17, 0, 2, 0 },	/* RP */
	{ 18, 2, 1, 0 },	/* AFSDB */
	{ 21, 2, 1, 0 },	/* RT */
	{ 24, 18, 1, -1 },	/* SIG */
	{ 33, 6, 1, 0 },	/* SRV */
	{ 36, 2, 1, 0 },	/* KX */
	{ 39, 0, 1, 0 },	/* DNAME */
	{ 46, 18, 1, -1 },	/* RRSIG */
	{ 47, 0, 1, -1 },	/* NSEC */
};

/*
 * The rdata getdns 1.6.0 parses with its own "special" code (rr-dict.c)
 * checks its lengths against the end of the message, not of the rdata,
 * the IPSECKEY/AMTRELAY gateway name walk has no end check at all, and
 * EDNS options are copied by their stated length: the fuzzer had it read
 * past the message each way. So these get their whole layout checked
 * here first. Their names may not be
 * compressed (RFC 4025 2.5, RFC 8005 4, RFC 8777 4.2.4).
 */
static int
gateway_walk(const uint8_t *w, size_t len, unsigned gtype, size_t p,
    size_t rend, size_t *end, const char **why)
{
	switch (gtype) {
	case 0:
		*end = p;
		return 0;
	case 1:
	case 2:
		if (rend - p < (gtype == 1 ? 4U : 16U)) {
			*why = "gateway address runs past its RR";
			return -1;
		}
		*end = p + (gtype == 1 ? 4 : 16);
		return 0;
	case 3:
		*end = p;
		return name_walk(w, len, end, rend, false, why);
	}
	*why = "unknown gateway type";
	return -1;
}

static int
special_walk(const uint8_t *w, size_t len, uint16_t type, size_t rd,
    size_t rend, const char **why)
{
	size_t	 p, n;

	switch (type) {
	case 41:	/* OPT: code(2) length(2) data, tiling the rdata */
		for (p = rd; p < rend; p += 4 + n) {
			if (rend - p < 4) {
				*why = "EDNS option cut short";
				return -1;
			}
			n = rd16(w + p + 2);
			if (rend - p - 4 < n) {
				*why = "EDNS option runs past its RR";
				return -1;
			}
		}
		return 0;
	case 42:	/* APL: family(2) prefix(1) N|afdlength(1) afdpart */
		for (p = rd; p < rend; p += 4 + n) {
			if (rend - p < 4) {
				*why = "APL item cut short";
				return -1;
			}
			n = w[p + 3] & 0x7F;
			if (rend - p - 4 < n) {
				*why = "APL item runs past its RR";
				return -1;
			}
		}
		return 0;
	case 45:	/* IPSECKEY: precedence type algorithm gateway key */
		if (rend - rd < 3) {
			*why = "IPSECKEY too short";
			return -1;
		}
		return gateway_walk(w, len, w[rd + 1], rd + 3, rend, &p, why);
	case 260:	/* AMTRELAY: precedence D|type relay */
		if (rend - rd < 2) {
			*why = "AMTRELAY too short";
			return -1;
		}
		return gateway_walk(w, len, w[rd + 1] & 0x7F, rd + 2, rend, &p,
		    why);
	case 55:	/* HIP: hitlen pkalg pklen(2) hit pk servers */
		if (rend - rd < 4 ||
		    rend - rd - 4 < (size_t)w[rd] + rd16(w + rd + 2)) {
			*why = "HIP lengths run past its RR";
			return -1;
		}
		for (p = rd + 4 + w[rd] + rd16(w + rd + 2); p < rend; )
			if (name_walk(w, len, &p, rend, false, why) == -1)
				return -1;
		return 0;
	}
	return 0;
}

static int
rdata_walk(const uint8_t *w, size_t len, uint16_t type, size_t rd,
    size_t rdlen, const char **why)
{
	size_t	 i, n, p, rend = rd + rdlen;

	if (type == 41 || type == 42 || type == 45 || type == 55 ||
	    type == 260)
		return special_walk(w, len, type, rd, rend, why);
	for (i = 0; i < sizeof(rdnames) / sizeof(rdnames[0]); i++)
		if (rdnames[i].type == type)
			break;
	if (i == sizeof(rdnames) / sizeof(rdnames[0]))
		return 0;
	if (rdlen < rdnames[i].skip) {
		*why = "rdata too short";
		return -1;
	}
	p = rd + rdnames[i].skip;
	for (n = 0; n < rdnames[i].names; n++)
		if (name_walk(w, len, &p, rend, true, why) == -1)
			return -1;
	if (rdnames[i].tail >= 0 && rend - p != (size_t)rdnames[i].tail) {
		*why = "rdata length does not match its names";
		return -1;
	}
	return 0;
}

/*
 * Every RR after the question: owner name, fixed fields, rdata inside the
 * message, names in rdata. getdns 1.6.0 parses a message cut in the
 * middle of an RR as GOOD (short or empty rdata), hence this walk.
 */
static int
message_walk(const uint8_t *w, size_t len, size_t pos, struct transport_rr *rrs,
    unsigned *n_rr, char *err, size_t errlen)
{
	unsigned	 i, count, an = rd16(w + 6), ns = rd16(w + 8);
	const char	*why = NULL;

	count = an + ns + rd16(w + 10);
	for (i = 0; i < count; i++) {
		uint16_t	 type, rdlen;
		size_t		 owner = pos;

		if (name_walk(w, len, &pos, len, true, &why) == -1)
			goto fail;
		if (len - pos < 10) {
			why = "message ends inside an RR";
			goto fail;
		}
		type = rd16(w + pos);
		rdlen = rd16(w + pos + 8);
		pos += 10;
		if (len - pos < rdlen) {
			why = "rdata runs past the end";
			goto fail;
		}
		if (rdata_walk(w, len, type, pos, rdlen, &why) == -1)
			goto fail;
		/* len <= 65535 (checked by the caller), so offsets fit; an RR
		 * takes 11 bytes at least, so the array cannot overflow */
		if (rrs != NULL && i < TRANSPORT_MAX_RRS) {
			struct transport_rr *rr = &rrs[i];

			rr->owner = (uint16_t)owner;
			rr->type = type;
			rr->class = rd16(w + pos - 8);
			rr->ttl = (uint32_t)rd16(w + pos - 6) << 16 |
			    rd16(w + pos - 4);
			rr->rdata = (uint16_t)pos;
			rr->rdlen = rdlen;
			rr->section = i < an ? TS_ANSWER : i < an + ns ?
			    TS_AUTHORITY : TS_ADDITIONAL;
			*n_rr = i + 1;
		}
		pos += rdlen;
	}
	return 0;
fail:
	errbuf_set(err, errlen, "RR %u of %u: %s", i + 1, count, why);
	return -1;
}

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/*
 * Is the question at w (qlen bytes there) our question section qsec?
 * The question of a reply is the first name of the message, so it cannot
 * be compressed; a byte comparison, folding ASCII letters (label lengths
 * are at most 63 and never fold), is an exact name comparison. Type and
 * class, the last 4 bytes, compare exactly.
 */
static bool
question_equal(const uint8_t *w, const uint8_t *qsec, size_t qlen)
{
	size_t	 i;

	for (i = 0; i + 4 < qlen; i++)
		if (lc(w[i]) != lc(qsec[i]))
			return false;
	return memcmp(w + qlen - 4, qsec + qlen - 4, 4) == 0;
}

/*
 * qsec: our question section (uncompressed name, type, class) as sent.
 */
static enum transport_reply
reply_check(const uint8_t *w, size_t len, const uint8_t *qsec, size_t qlen,
    uint16_t id, int flags, struct scratch *sc, getdns_dict **out,
    struct transport_msg *view, struct transport_rr *rrs, char *err,
    size_t errlen)
{
	enum transport_reply	 ret = TRANSPORT_REPLY_MISMATCH;
	getdns_dict		*msg = NULL;
	getdns_return_t		 r;

	if (out != NULL)
		*out = NULL;
	errbuf_set(err, errlen, "%s", "");
	if (len < DNS_HDR) {
		errbuf_set(err, errlen, "%zu-byte message", len);
		goto done;
	}
	if (rd16(w) != id) {
		errbuf_set(err, errlen, "ID %u, asked %u", rd16(w), id);
		goto done;
	}
	if ((w[2] & 0x80) == 0) {
		errbuf_set(err, errlen, "QR=0");
		goto done;
	}
	if ((w[2] >> 3 & 0x0F) != 0) {
		errbuf_set(err, errlen, "opcode %u", w[2] >> 3 & 0x0F);
		goto done;
	}
	if (rd16(w + 4) != 1) {
		errbuf_set(err, errlen, "QDCOUNT %u (rcode %u)", rd16(w + 4),
		    w[3] & 0x0F);
		goto done;
	}
	if (len - DNS_HDR < qlen) {
		errbuf_set(err, errlen, "question cut short");
		goto done;
	}
	if (!question_equal(w + DNS_HDR, qsec, qlen)) {
		errbuf_set(err, errlen, "question differs");
		goto done;
	}

	/* From here on it is an answer to this query. */
	if ((flags & TRANSPORT_PARSE_UDP) && (w[2] & 0x02)) {
		ret = TRANSPORT_REPLY_TC;
		goto done;
	}
	ret = TRANSPORT_REPLY_MALFORMED;
	if (len > MSG_MAX) {
		errbuf_set(err, errlen, "%zu-byte message", len);
		goto done;
	}
	if (view != NULL) {
		view->wire = w;
		view->len = len;
		view->n_rr = 0;
		view->rr = rrs;
	}
	if (message_walk(w, len, DNS_HDR + qlen, view != NULL ? rrs : NULL,
	    view != NULL ? &view->n_rr : NULL, err, errlen) == -1)
		goto done;
	if (out == NULL) {
		ret = TRANSPORT_REPLY_OK;
		goto done;
	}
	/* only what the last message dirtied needs zeroing again */
	memcpy(sc->buf, w, len);
	if (sc->dirty > len)
		memset(sc->buf + len, 0, sc->dirty - len);
	sc->dirty = len;
	if ((r = getdns_wire2msg_dict(sc->buf, len, &msg)) != GETDNS_RETURN_GOOD) {
		errbuf_set(err, errlen, "getdns: %s",
		    getdns_get_errorstr_by_id(r) ? getdns_get_errorstr_by_id(r)
		    : "parse error");
		goto done;
	}
	*out = msg;
	msg = NULL;
	ret = TRANSPORT_REPLY_OK;
done:
	getdns_dict_destroy(msg);
	return ret;
}

enum transport_reply
transport_parse_reply(const uint8_t *wire, size_t len, const char *qname,
    uint16_t qtype, uint16_t id, int flags, getdns_dict **out, char *err,
    size_t errlen)
{
	enum transport_reply	 ret = TRANSPORT_REPLY_MISMATCH;
	getdns_bindata		*name = NULL;
	struct scratch		 sc = { NULL, 0 };
	uint8_t			 qsec[260];

	*out = NULL;
	if (getdns_convert_fqdn_to_dns_name(qname, &name) != GETDNS_RETURN_GOOD
	    || name->size > 255) {
		errbuf_set(err, errlen, "bad query name");
		goto done;
	}
	if (scratch_init(&sc) == -1) {
		local_errors++;
		errbuf_set(err, errlen, "out of memory");
		goto done;
	}
	memcpy(qsec, name->data, name->size);
	qsec[name->size] = qtype >> 8;
	qsec[name->size + 1] = qtype & 0xFF;
	qsec[name->size + 2] = 0;
	qsec[name->size + 3] = 1;	/* IN */
	ret = reply_check(wire, len, qsec, name->size + 4, id, flags, &sc,
	    out, NULL, NULL, err, errlen);
done:
	free(sc.buf);
	if (name != NULL) {
		free(name->data);
		free(name);
	}
	return ret;
}

enum transport_reply
transport_view_reply(const uint8_t *wire, size_t len, const char *qname,
    uint16_t qtype, uint16_t id, int flags, struct transport_msg *view,
    struct transport_rr *rrs, char *err, size_t errlen)
{
	enum transport_reply	 ret = TRANSPORT_REPLY_MISMATCH;
	getdns_bindata		*name = NULL;
	uint8_t			 qsec[260];

	memset(view, 0, sizeof(*view));
	if (getdns_convert_fqdn_to_dns_name(qname, &name) != GETDNS_RETURN_GOOD
	    || name->size > 255) {
		errbuf_set(err, errlen, "bad query name");
		goto done;
	}
	memcpy(qsec, name->data, name->size);
	qsec[name->size] = qtype >> 8;
	qsec[name->size + 1] = qtype & 0xFF;
	qsec[name->size + 2] = 0;
	qsec[name->size + 3] = 1;	/* IN */
	ret = reply_check(wire, len, qsec, name->size + 4, id, flags, NULL,
	    NULL, view, rrs, err, errlen);
done:
	if (name != NULL) {
		free(name->data);
		free(name);
	}
	return ret;
}

/* The rcode with the EDNS extended bits (the OPT RR's TTL, top byte). */
static int
view_rcode(const struct transport_msg *v)
{
	int		 rcode = v->wire[3] & 0x0F;
	unsigned	 i;

	for (i = 0; i < v->n_rr; i++)
		if (v->rr[i].section == TS_ADDITIONAL &&
		    v->rr[i].type == GETDNS_RRTYPE_OPT)
			return rcode | (int)((v->rr[i].ttl >> 24) << 4);
	return rcode;
}

/* ------------------------------------------------------------ servers */

static uint64_t
addr_hash(const struct transport *t, const struct sockaddr *sa)
{
	const uint8_t	*k;
	size_t		 n, i;
	uint64_t	 h = t->hseed ^ 0xcbf29ce484222325ULL;
	uint16_t	 port;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		k = (const uint8_t *)&s4->sin_addr;
		n = 4;
		port = s4->sin_port;
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		k = (const uint8_t *)&s6->sin6_addr;
		n = 16;
		port = s6->sin6_port;
	}
	/*
	 * FNV-1a under a random seed, then a murmur3 finaliser. Server
	 * addresses come from config and referrals: the seed keeps a crafted
	 * set from piling into one chain.
	 */
	for (i = 0; i < n; i++)
		h = (h ^ k[i]) * 0x100000001b3ULL;
	h = (h ^ (port & 0xFF)) * 0x100000001b3ULL;
	h = (h ^ (port >> 8)) * 0x100000001b3ULL;
	h = (h ^ sa->sa_family) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static bool
addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const void *)a,
		    *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
}

static void
htab_grow(struct transport *t)
{
	struct server	**nt;
	size_t		  nsize = t->hsize * 2, i;

	if ((nt = calloc(nsize, sizeof(*nt))) == NULL)
		return;		/* longer chains, still correct */
	for (i = 0; i < t->hsize; i++) {
		struct server	*s, *next;

		for (s = t->htab[i]; s != NULL; s = next) {
			next = s->hnext;
			s->hnext = nt[s->hash & (nsize - 1)];
			nt[s->hash & (nsize - 1)] = s;
		}
	}
	free(t->htab);
	t->htab = nt;
	t->hsize = nsize;
}

static void	server_timer_cb(evutil_socket_t, short, void *);

/* The server entry for sa (address + port), or NULL: we asked nobody
 * there. */
static struct server *
server_find(struct transport *t, const struct sockaddr *sa)
{
	struct server	*s;
	uint64_t	 h;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return NULL;
	h = addr_hash(t, sa);
	for (s = t->htab[h & (t->hsize - 1)]; s != NULL; s = s->hnext)
		if (s->hash == h && addr_equal((struct sockaddr *)&s->addr, sa))
			return s;
	return NULL;
}

static struct server *
server_get(struct transport *t, const struct sockaddr *sa, socklen_t len)
{
	struct server	*s;
	uint64_t	 h = addr_hash(t, sa);

	if ((s = server_find(t, sa)) != NULL)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->ev_timer = evtimer_new(t->base, server_timer_cb, s)) == NULL) {
		free(s);
		return NULL;
	}
	s->t = t;
	s->hash = h;
	memcpy(&s->addr, sa, len);
	s->addrlen = len;
	s->tokens = t->o.per_server_burst;
	s->last_us = now_us();
	TAILQ_INIT(&s->pendq);
	TAILQ_INIT(&s->retryq);
	TAILQ_INIT(&s->udpq);
	TAILQ_INIT(&s->tcpq);
	TAILQ_INIT(&s->conns);
	s->hnext = t->htab[h & (t->hsize - 1)];
	t->htab[h & (t->hsize - 1)] = s;
	t->st.servers++;
	if (t->st.servers > t->hsize)
		htab_grow(t);
	return s;
}

static void
server_free(struct server *s)
{
	struct transport	*t = s->t;
	struct server		**pp;

	for (pp = &t->htab[s->hash & (t->hsize - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	if (s->on_waitq)
		TAILQ_REMOVE(&t->waitq, s, wlink);
	if (server_silent(s))
		t->st.silent_now--;
	t->st.servers--;
	event_free(s->ev_timer);
	free(s);
}

static void
bucket_refill(struct server *s)
{
	const struct transport_opts	*o = &s->t->o;
	uint64_t			 now = now_us();

	if (o->per_server_qps == 0)
		return;
	s->tokens += (double)(now - s->last_us) * o->per_server_qps / 1e6;
	if (s->tokens > o->per_server_burst)
		s->tokens = o->per_server_burst;
	s->last_us = now;
}

static bool
bucket_has(struct server *s)
{
	if (s->t->o.per_server_qps == 0)
		return true;
	bucket_refill(s);
	return s->tokens >= 1.0;
}

static bool
bucket_take(struct server *s)
{
	if (!bucket_has(s))
		return false;
	if (s->t->o.per_server_qps != 0)
		s->tokens -= 1.0;
	return true;
}

/* Wake up when the next token is there. */
static void
bucket_arm(struct server *s)
{
	struct timeval	 tv;
	double		 us;

	uint64_t	 wait;

	us = (1.0 - s->tokens) * 1e6 / s->t->o.per_server_qps;
	wait = (us > 0 ? (uint64_t)us : 0) + 1;
	tv.tv_sec = (time_t)(wait / 1000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000);
	s->t->st.rate_delayed++;
	evtimer_add(s->ev_timer, &tv);
}

/* No query left: free once the bucket is full again (forgetting a server
 * earlier would hand it a fresh burst). */
static void
server_release(struct server *s)
{
	struct transport_opts	*o = &s->t->o;
	struct timeval		 tv = { 0, 0 };

	if (--s->refs > 0)
		return;
	if (o->per_server_qps != 0) {
		double	 us;

		bucket_refill(s);
		us = (o->per_server_burst - s->tokens) * 1e6 /
		    o->per_server_qps;
		if (us > 0) {
			tv.tv_sec = (time_t)(us / 1e6);
			tv.tv_usec = (suseconds_t)((uint64_t)us % 1000000);
		}
	}
	evtimer_add(s->ev_timer, &tv);
}

static void
server_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;

	(void)fd;
	(void)what;
	if (s->refs == 0) {
		uint64_t	 now = now_ms();
		struct timeval	 tv;

		uint64_t	 keep = s->nopipe_until > s->silent_until ?
				    s->nopipe_until : s->silent_until;

		/* what it learnt about pipelining and silence outlives a
		 * quiet spell */
		if (keep > now) {
			tv_from_ms(&tv, keep - now);
			evtimer_add(s->ev_timer, &tv);
			return;
		}
		server_free(s);
		return;
	}
	server_kick(s);
}

/* s's address as text, for the log. */
static const char *
server_text(const struct server *s, char *buf, size_t len)
{
	const void	*a = s->addr.ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)&s->addr)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)&s->addr)->sin_addr;

	if (inet_ntop(s->addr.ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

static bool
server_silent(const struct server *s)
{
	return s->silent >= SILENT_AFTER;
}

/* A UDP question to s ended: answered (anything from it with our ID and
 * question, even malformed or truncated) or not at all. Keeps the count
 * of SILENT_AFTER. */
static void
server_heard(struct server *s, bool answered)
{
	char	 a[INET6_ADDRSTRLEN];

	if (answered) {
		if (server_silent(s)) {
			s->t->st.silent_now--;
			log_info("transport: %s answers again: its questions "
			    "get their re-sends", server_text(s, a, sizeof(a)));
		}
		s->silent = 0;
		return;
	}
	if (s->silent < UINT_MAX)
		s->silent++;
	s->silent_until = now_ms() + SILENT_KEEP_MS;
	if (s->silent == SILENT_AFTER) {
		s->t->st.silent_now++;
		log_info("transport: %s left its last %u UDP questions "
		    "unanswered: each question to it is sent once, without "
		    "re-sends, until it answers", server_text(s, a, sizeof(a)),
		    SILENT_AFTER);
	}
}

static bool
server_nopipe(const struct server *s)
{
	return s->nopipe_until != 0 && now_ms() < s->nopipe_until;
}

/* Can a TCP query to s go now: a shared connection with room, room for
 * another one, or one connection per query anyway? */
static bool
tcp_room(const struct server *s)
{
	const struct tconn	*c;

	if (s->nshared < TCP_CONN_MAX || server_nopipe(s))
		return true;
	TAILQ_FOREACH(c, &s->conns, slink)
		if (!c->solo && !c->broken && !c->noreuse &&
		    c->nq < TCP_PIPE_MAX)
			return true;
	return false;
}

/* The first TCP-only query to s, if it can go now. */
static struct query *
tcpq_ready(const struct server *s)
{
	struct query	*q = TAILQ_FIRST(&s->tcpq);

	return q != NULL && (q->rd || tcp_room(s)) ? q : NULL;
}

/* New queries the pump could send to s now. */
static bool
server_has_work(const struct server *s)
{
	return !TAILQ_EMPTY(&s->pendq) || tcpq_ready(s) != NULL;
}

/* Room may have come for s's waiting TCP queries: back into the pump's
 * round. Deferred, so it never sends from inside its caller. */
static void
server_wake(struct server *s)
{
	if (s->on_waitq || !server_has_work(s))
		return;
	TAILQ_INSERT_TAIL(&s->t->waitq, s, wlink);
	s->on_waitq = true;
	pump_schedule(s->t);
}

/*
 * Something to send for s: retries (which hold slots) go now if tokens
 * allow; new queries go through the waitq and the pump, which hands out
 * free slots round-robin between servers.
 */
static void
server_kick(struct server *s)
{
	struct transport	*t = s->t;
	struct query		*q;

	while ((q = TAILQ_FIRST(&s->retryq)) != NULL) {
		if (!bucket_take(s)) {
			bucket_arm(s);
			return;
		}
		TAILQ_REMOVE(&s->retryq, q, link);
		query_send(q);
	}
	if (!server_has_work(s))
		return;
	if (!bucket_has(s)) {
		bucket_arm(s);
		return;
	}
	if (!s->on_waitq) {
		TAILQ_INSERT_TAIL(&t->waitq, s, wlink);
		s->on_waitq = true;
	}
	pump_schedule(t);
}

static void
pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;
	struct server		*s;
	struct query		*q, *qt;

	(void)fd;
	(void)what;
	while (t->inflight < (unsigned)t->o.max_inflight &&
	    (s = TAILQ_FIRST(&t->waitq)) != NULL) {
		TAILQ_REMOVE(&t->waitq, s, wlink);
		s->on_waitq = false;
		if (!TAILQ_EMPTY(&s->retryq)) {
			/* they hold slots already; kick requeues s if need be */
			server_kick(s);
			continue;
		}
		/* TCP-only queries wait, without a slot, for room on the
		 * server's connections; the older of the two heads goes */
		q = TAILQ_FIRST(&s->pendq);
		qt = tcpq_ready(s);
		if (q == NULL || (qt != NULL && qt->t_queued < q->t_queued))
			q = qt;
		if (q == NULL)
			continue;	/* server_wake() brings it back */
		if (!bucket_take(s)) {
			bucket_arm(s);
			continue;
		}
		if (q == qt)
			TAILQ_REMOVE(&s->tcpq, q, link);
		else
			TAILQ_REMOVE(&s->pendq, q, link);
		t->queued--;
		q->holds_slot = true;
		if (++t->inflight > t->st.inflight_max)
			t->st.inflight_max = t->inflight;
		/* one per server per round: round-robin between servers */
		if (server_has_work(s)) {
			TAILQ_INSERT_TAIL(&t->waitq, s, wlink);
			s->on_waitq = true;
		}
		q->t_first = now_ms();
		if (t->o.deadline_ms > 0)
			q->deadline = q->t_first + (uint64_t)t->o.deadline_ms;
		query_send(q);
	}
}

static void
pump_schedule(struct transport *t)
{
	event_active(t->ev_pump, EV_TIMEOUT, 0);
}

/* ------------------------------------------------------- UDP pool */

static size_t
id_bucket(const struct transport *t, const struct usock *us,
    const struct server *s, uint16_t id)
{
	uint64_t	 h = t->hseed;

	h ^= (uint64_t)(uintptr_t)us * 0x9e3779b97f4a7c15ULL;
	h ^= (uint64_t)(uintptr_t)s * 0xc2b2ae3d27d4eb4fULL;
	h ^= id;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h & (t->idsize - 1);
}

static struct query *
id_find(const struct transport *t, const struct usock *us,
    const struct server *s, uint16_t id)
{
	struct query	*q;

	for (q = t->idtab[id_bucket(t, us, s, id)]; q != NULL; q = q->idnext)
		if (q->us == us && q->s == s && q->id == id)
			return q;
	return NULL;
}

static void
id_grow(struct transport *t)
{
	struct query	**old = t->idtab, **nt, *q, *next;
	size_t		  osize = t->idsize, i, b;

	if ((nt = calloc(osize * 2, sizeof(*nt))) == NULL)
		return;		/* longer chains, still correct */
	t->idtab = nt;
	t->idsize = osize * 2;
	for (i = 0; i < osize; i++)
		for (q = old[i]; q != NULL; q = next) {
			next = q->idnext;
			b = id_bucket(t, q->us, q->s, q->id);
			q->idnext = nt[b];
			nt[b] = q;
		}
	free(old);
}

static void
id_insert(struct query *q)
{
	struct transport	*t = q->t;
	size_t			 b;

	if (t->idcount >= t->idsize)
		id_grow(t);
	b = id_bucket(t, q->us, q->s, q->id);
	q->idnext = t->idtab[b];
	t->idtab[b] = q;
	t->idcount++;
}

static void
id_remove(struct query *q)
{
	struct transport	*t = q->t;
	struct query		**pp;

	for (pp = &t->idtab[id_bucket(t, q->us, q->s, q->id)]; *pp != NULL;
	    pp = &(*pp)->idnext)
		if (*pp == q) {
			*pp = q->idnext;
			t->idcount--;
			return;
		}
}

static struct usock **
pool_of(struct transport *t, int family)
{
	return family == AF_INET ? t->pool4 : t->pool6;
}

static void
usock_free(struct usock *us)
{
	struct transport	*t = us->t;

	if (us->slot >= 0)
		pool_of(t, us->family)[us->slot] = NULL;
	else
		t->retired--;
	event_free(us->ev);
	close(us->fd);
	free(us);
}

/* Out of the pool: no new question leaves on it, and it is closed once
 * the last answer it waits for is in or given up. */
static void
usock_retire(struct usock *us)
{
	struct transport	*t = us->t;

	if (us->slot < 0)
		return;
	pool_of(t, us->family)[us->slot] = NULL;
	us->slot = -1;
	t->retired++;
	if (us->refs == 0 && !us->busy)
		usock_free(us);
}

static void	usock_read_cb(evutil_socket_t, short, void *);

/* A fresh socket in pool slot `slot`; NULL with errno set. */
static struct usock *
usock_new(struct transport *t, int family, int slot)
{
	struct usock	*us;
	int		 on = 1, rcv = UDP_RCVBUF, e;

	if ((us = calloc(1, sizeof(*us))) == NULL)
		return NULL;
	us->t = t;
	us->family = family;
	us->slot = slot;
	us->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (us->fd == -1)
		goto fail;
	/* ICMP errors come back with the destination and the start of the
	 * packet they answer: matched to their query like an answer. */
	if (setsockopt(us->fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
	    family == AF_INET ? IP_RECVERR : IPV6_RECVERR, &on,
	    sizeof(on)) == -1)
		goto fail;
	/* The answers of max_inflight / pool_n questions may arrive
	 * together; the kernel caps this at net.core.rmem_max. */
	(void)setsockopt(us->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if ((us->ev = event_new(t->base, us->fd, EV_READ | EV_PERSIST,
	    usock_read_cb, us)) == NULL || event_add(us->ev, NULL) == -1) {
		errno = ENOMEM;
		goto fail;
	}
	pool_of(t, family)[slot] = us;
	us->born = now_ms();
	t->st.udp_sockets++;
	return us;
fail:
	e = errno;
	if (us->ev != NULL)
		event_free(us->ev);
	if (us->fd != -1)
		close(us->fd);
	free(us);
	errno = e;
	return NULL;
}

/* A socket for q's next attempt, drawn at random from the pool, another
 * slot than its attempt before. NULL with errno set. */
static struct usock *
udp_pick(struct query *q)
{
	struct transport	*t = q->t;
	int			 family = q->s->addr.ss_family;
	struct usock		**pool = pool_of(t, family);
	uint32_t		 r;
	unsigned		 i;

	rnd_bytes(t, &r, sizeof(r));
	i = r % t->pool_n;
	if ((int)i == q->last_slot && t->pool_n > 1)
		i = (i + 1 + (r / t->pool_n) % (t->pool_n - 1)) % t->pool_n;
	/* a quiet pool keeps its ports no longer than SOCK_MAX_AGE_MS */
	if (pool[i] != NULL && now_ms() - pool[i]->born > SOCK_MAX_AGE_MS &&
	    t->retired < t->pool_n)
		usock_retire(pool[i]);
	if (pool[i] != NULL)
		return pool[i];
	return usock_new(t, family, (int)i);
}

/* The oldest question to s waiting on us: the one a stray datagram or an
 * unmatched ICMP error is put down to, as the socket per question did. */
static struct query *
udp_first(const struct usock *us, const struct server *s)
{
	struct query	*q;
	unsigned	 n = 0;

	TAILQ_FOREACH(q, &s->udpq, ulink) {
		if (q->us == us)
			return q;
		if (++n == VICTIM_SCAN)
			break;
	}
	return NULL;
}

/*
 * Who a datagram from s on us that carries no ID we wait for is put down
 * to: the question it repeats (a wrong-ID answer to it), or the only
 * question to s waiting on us. Otherwise nobody: on a shared socket a
 * runt cannot be told apart, and it is only counted.
 */
static struct query *
udp_blame(const struct usock *us, const struct server *s, const uint8_t *w,
    size_t len)
{
	struct query	*q, *only = NULL;
	unsigned	 n = 0, mine = 0;
	size_t		 qlen;

	TAILQ_FOREACH(q, &s->udpq, ulink) {
		if (++n > VICTIM_SCAN)
			return NULL;
		if (q->us != us)
			continue;
		mine++;
		only = q;
		qlen = q->qwire_len - DNS_HDR - 11;
		if (len >= DNS_HDR + qlen &&
		    question_equal(w + DNS_HDR, q->qwire + DNS_HDR, qlen))
			return q;
	}
	return mine == 1 ? only : NULL;
}

static void
udp_attach(struct query *q, struct usock *us)
{
	q->us = us;
	us->refs++;
	id_insert(q);
	TAILQ_INSERT_TAIL(&q->s->udpq, q, ulink);
}

static void
udp_detach(struct query *q)
{
	struct usock	*us = q->us;

	if (us == NULL)
		return;
	id_remove(q);
	TAILQ_REMOVE(&q->s->udpq, q, ulink);
	q->us = NULL;
	if (--us->refs == 0 && us->slot < 0 && !us->busy)
		usock_free(us);
}

/* Errors that are an ICMP message about an earlier packet when a send or
 * receive on an unconnected IP_RECVERR socket reports them. */
static bool
async_error(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
	    e == EHOSTDOWN || e == ENETDOWN || e == EPROTO || e == EMSGSIZE;
}

/*
 * ICMP errors queued on us: each ends the query it is about (server
 * address + port + ID, from the quoted packet) with NETERR. A router may
 * quote only our UDP header (RFC 792's 8 bytes): then every question to
 * that server on this socket fails alike, which is what the socket per
 * question did. The caller holds us->busy.
 */
static void
usock_errqueue(struct usock *us)
{
	struct transport	*t = us->t;
	int			 i;

	for (i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage		 to;
		struct sock_extended_err	 ee;
		uint8_t				 data[DNS_HDR];
		union {
			struct cmsghdr	 h;
			uint8_t		 b[CMSG_SPACE(sizeof(ee) +
					    sizeof(struct sockaddr_in6))];
		}				 ctl;
		struct iovec			 iov = { data, sizeof(data) };
		struct msghdr			 mh;
		struct cmsghdr			*c;
		struct server			*s;
		struct query			*q;
		bool				 have = false;
		ssize_t				 n;

		memset(&mh, 0, sizeof(mh));
		memset(&to, 0, sizeof(to));
		mh.msg_name = &to;
		mh.msg_namelen = sizeof(to);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = &ctl;
		mh.msg_controllen = sizeof(ctl);
		n = recvmsg(us->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (((c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_RECVERR)) &&
			    c->cmsg_len >= CMSG_LEN(sizeof(ee))) {
				memcpy(&ee, CMSG_DATA(c), sizeof(ee));
				have = true;
			}
		if (!have || (ee.ee_origin != SO_EE_ORIGIN_ICMP &&
		    ee.ee_origin != SO_EE_ORIGIN_ICMP6) ||
		    ee.ee_errno == EMSGSIZE ||
		    (s = server_find(t, (struct sockaddr *)&to)) == NULL)
			continue;
		if (n >= 2) {
			if ((q = id_find(t, us, s, rd16(data))) != NULL)
				finish(q, TRANSPORT_NETERR, NULL, 0, NULL,
				    "UDP: %s (ICMP)", strerror((int)ee.ee_errno));
			continue;
		}
		while ((q = udp_first(us, s)) != NULL)
			finish(q, TRANSPORT_NETERR, NULL, 0, NULL,
			    "UDP: %s (ICMP)", strerror((int)ee.ee_errno));
	}
}

/* ------------------------------------------------------------ queries */

static void
query_free(struct query *q)
{
	close_fd(q);
	if (q->ev_timer != NULL)
		event_free(q->ev_timer);
	free(q->qname);
	free(q);
}

/*
 * Ends q: unlinks it from everything, gives its slot back, calls the
 * callback once and frees it. msg (if any) is destroyed after the callback.
 */
static void
finish(struct query *q, enum transport_status status, const uint8_t *wire,
    size_t wire_len, getdns_dict *msg, const char *fmt, ...)
{
	struct transport	*t = q->t;
	struct server		*s = q->s;
	struct transport_result	 r;
	char			 err[256];
	uint64_t		 now = now_ms();

	if (q->state == Q_PENDING) {
		if (q->next_tcp)
			TAILQ_REMOVE(&s->tcpq, q, link);
		else
			TAILQ_REMOVE(&s->pendq, q, link);
		t->queued--;
	} else if (q->state == Q_WAIT_TOKEN)
		TAILQ_REMOVE(&s->retryq, q, link);
	if (q->in_all) {
		TAILQ_REMOVE(&t->all, q, alink);
		q->in_all = false;
	}
	close_fd(q);
	if (q->ev_timer != NULL)
		event_del(q->ev_timer);
	if (q->holds_slot) {
		q->holds_slot = false;
		t->inflight--;
		if (!TAILQ_EMPTY(&t->waitq))
			pump_schedule(t);
	}

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.qname = q->qname;
	r.qtype = q->qtype;
	r.server = (const struct sockaddr *)&s->addr;
	r.server_len = s->addrlen;
	r.msg = msg;
	r.view = status == TRANSPORT_OK ? &t->view : NULL;
	r.wire = wire;
	r.wire_len = wire_len;
	r.rcode = -1;
	if (wire != NULL && wire_len >= DNS_HDR) {
		r.rcode = status == TRANSPORT_OK ? view_rcode(&t->view) :
		    wire[3] & 0x0F;
		r.aa = (wire[2] & 0x04) != 0;
		r.tc = (wire[2] & 0x02) != 0;
	}
	r.tcp = q->state >= Q_TCP_CONNECT && q->state <= Q_TCP_READ;
	r.tc_fallback = q->tc_fallback;
	r.udp_len = q->udp_len;
	r.attempts = q->attempts;
	r.bad_answers = q->bad;
	if (q->t_first != 0) {
		r.latency_ms = (uint32_t)(now - q->t_first);
		r.queued_ms = (uint32_t)(q->t_first - q->t_queued);
	} else
		r.queued_ms = (uint32_t)(now - q->t_queued);
	if (fmt != NULL) {
		va_list	 ap;
		size_t	 n;

		va_start(ap, fmt);
		vsnprintf(err, sizeof(err), fmt, ap);
		va_end(ap);
		n = strlen(err);
		if (q->bad > 0 && status != TRANSPORT_OK)
			snprintf(err + n, sizeof(err) - n,
			    "; %u unacceptable answer%s ignored (last: %s)",
			    q->bad, q->bad == 1 ? "" : "s", q->lastbad);
		r.error = err;
	}

	if (q->state == Q_UDP && (status == TRANSPORT_OK ||
	    status == TRANSPORT_MALFORMED))
		server_heard(s, true);
	else if (q->state == Q_UDP && status == TRANSPORT_TIMEOUT &&
	    q->bad == 0)
		server_heard(s, false);
	switch (status) {
	case TRANSPORT_OK:		t->st.ok++; break;
	case TRANSPORT_TIMEOUT:		t->st.timeouts++; break;
	case TRANSPORT_NETERR:		t->st.neterrs++; break;
	case TRANSPORT_MALFORMED:	t->st.malformed++; break;
	case TRANSPORT_CANCELLED:	t->st.cancelled++; break;
	}
	t->st.completed++;

	t->in_cb++;
	q->cb(q->arg, &r);
	t->in_cb--;

	getdns_dict_destroy(msg);
	server_release(s);
	query_free(q);
}

static void
arm_timer(struct query *q, uint64_t ms)
{
	struct timeval	 tv;
	uint64_t	 now = now_ms();

	if (q->deadline != 0) {
		uint64_t left = q->deadline > now ? q->deadline - now : 0;

		if (ms == 0 || left < ms)
			ms = left;
	} else if (ms == 0) {
		event_del(q->ev_timer);
		return;
	}
	tv_from_ms(&tv, ms);
	evtimer_add(q->ev_timer, &tv);
}

static void
udp_send(struct query *q)
{
	struct transport	*t = q->t;
	struct server		*s = q->s;
	struct usock		*us;
	uint64_t		 tmo;
	ssize_t			 n;
	int			 e = 0, tries;

	q->state = Q_UDP;
	if ((us = udp_pick(q)) == NULL) {
		if (local_errno(errno))
			local_errors++;
		finish(q, TRANSPORT_NETERR, NULL, 0, NULL, "UDP socket: %s",
		    strerror(errno));
		return;
	}
	/* unique per socket and server, so an answer finds one query */
	do
		q->id = rnd_id(t);
	while (id_find(t, us, s, q->id) != NULL);
	q->qwire[0] = q->id >> 8;
	q->qwire[1] = q->id & 0xFF;
	us->busy = true;
	for (tries = 0; tries < 3; tries++) {
		n = sendto(us->fd, q->qwire, q->qwire_len, 0,
		    (struct sockaddr *)&s->addr, s->addrlen);
		e = n == -1 ? errno : 0;
		if (n != -1 || (e != EINTR && !async_error(e)))
			break;
		/* An ICMP error about an earlier packet on this socket
		 * surfaced here: it goes to its own query, ours goes out. */
		if (e != EINTR)
			usock_errqueue(us);
	}
	us->busy = false;
	/* A full send buffer is a lost packet: the timer resends. */
	if (n != (ssize_t)q->qwire_len && e != EAGAIN && e != EWOULDBLOCK &&
	    e != ENOBUFS) {
		if (us->slot < 0 && us->refs == 0)
			usock_free(us);
		finish(q, TRANSPORT_NETERR, NULL, 0, NULL, "UDP send: %s",
		    n == -1 ? strerror(e) : "short");
		return;
	}
	udp_attach(q, us);
	q->last_slot = us->slot;
	if (++us->sends >= SOCK_ROTATE && t->retired < t->pool_n)
		usock_retire(us);
	q->attempts++;
	t->st.udp_sent++;
	tmo = (uint64_t)t->o.timeout_ms <<
	    (q->udp_attempts < 4 ? q->udp_attempts : 4);
	if (tmo > (uint64_t)t->o.timeout_ms * BACKOFF_MAX)
		tmo = (uint64_t)t->o.timeout_ms * BACKOFF_MAX;
	q->udp_attempts++;
	arm_timer(q, tmo);
}

/* Called with a token taken and a slot held. */
static void
query_send(struct query *q)
{
	if (q->next_tcp)
		tcp_send(q);
	else
		udp_send(q);
}

/* Another packet for a query on the wire: needs a token, keeps its slot. */
static void
query_resend(struct query *q, bool tcp)
{
	struct server	*s = q->s;

	close_fd(q);
	q->next_tcp = tcp;
	if (TAILQ_EMPTY(&s->retryq) && bucket_take(s)) {
		query_send(q);
		return;
	}
	q->t->st.rate_delayed++;
	q->state = Q_WAIT_TOKEN;
	TAILQ_INSERT_TAIL(&s->retryq, q, link);
	arm_timer(q, 0);	/* only the deadline, if any, runs on */
	server_kick(s);
}

static void	tcp_timeout(struct query *, bool);

static void
query_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct query		*q = arg;
	struct transport	*t = q->t;
	bool			 past = q->deadline != 0 &&
				    now_ms() >= q->deadline;

	(void)fd;
	(void)what;
	switch (q->state) {
	case Q_UDP:
		if (q->udp_attempts <= (unsigned)t->o.retries && !past) {
			if (!server_silent(q->s)) {
				t->st.retries++;
				query_resend(q, false);
				return;
			}
			t->st.silent_cut++;
			finish(q, TRANSPORT_TIMEOUT, NULL, 0, NULL,
			    "no answer after %u UDP attempt%s (not sent again: "
			    "the address left its last %u questions "
			    "unanswered)", q->udp_attempts,
			    q->udp_attempts == 1 ? "" : "s", q->s->silent);
			return;
		}
		finish(q, TRANSPORT_TIMEOUT, NULL, 0, NULL,
		    "no answer after %u UDP attempt%s%s", q->udp_attempts,
		    q->udp_attempts == 1 ? "" : "s",
		    past ? " (deadline)" : "");
		return;
	case Q_WAIT_TOKEN:
		finish(q, TRANSPORT_TIMEOUT, NULL, 0, NULL,
		    "deadline passed waiting for the rate limit");
		return;
	case Q_TCP_CONNECT:
	case Q_TCP_WRITE:
	case Q_TCP_READ:
		tcp_timeout(q, past);
		return;
	case Q_PENDING:
		break;
	}
	/* Q_PENDING has no timer armed */
	fatalx("%s: query timer in state %d", __func__, (int)q->state);
}

/* Accept, or ignore and count, one UDP datagram. Returns true when q is
 * gone (finished or moved to TCP). */
static bool
udp_answer(struct query *q, const uint8_t *w, size_t len)
{
	struct transport	*t = q->t;
	getdns_dict		*msg = NULL;
	char			 err[160];
	enum transport_reply	 rr;

	rr = reply_check(w, len, q->qwire + DNS_HDR,
	    q->qwire_len - DNS_HDR - 11, q->id, TRANSPORT_PARSE_UDP, &t->sc,
	    q->dict ? &msg : NULL, &t->view, t->rrs, err, sizeof(err));
	switch (rr) {
	case TRANSPORT_REPLY_OK:
		q->udp_len = len;
		finish(q, TRANSPORT_OK, w, len, msg, NULL);
		return true;
	case TRANSPORT_REPLY_TC:
		server_heard(q->s, true);
		q->udp_len = len;
		q->tc_fallback = true;
		t->st.tc_fallbacks++;
		query_resend(q, true);
		return true;
	case TRANSPORT_REPLY_MALFORMED:
		finish(q, TRANSPORT_MALFORMED, w, len, NULL,
		    "malformed answer over UDP: %s", err);
		return true;
	case TRANSPORT_REPLY_MISMATCH:
		break;
	}
	/* Possibly spoofed: keep listening for the real one. */
	q->bad++;
	t->st.bad_answers++;
	snprintf(q->lastbad, sizeof(q->lastbad), "%s", err);
	return false;
}

/*
 * One datagram on a pooled socket: to the query it answers (server
 * address + port, socket, ID; udp_answer() checks the rest), else to the
 * query udp_blame() finds, so a wrong ID still shows on its query; from
 * anyone we did not ask here, or a runt nobody can own, only counted.
 */
static void
udp_datagram(struct usock *us, const struct sockaddr_storage *from,
    const uint8_t *w, size_t len)
{
	struct transport	*t = us->t;
	struct server		*s;
	struct query		*q = NULL;

	if ((s = server_find(t, (const struct sockaddr *)from)) != NULL) {
		if (len >= 2)
			q = id_find(t, us, s, rd16(w));
		if (q == NULL)
			q = udp_blame(us, s, w, len);
	}
	if (q == NULL) {
		t->st.bad_answers++;
		return;
	}
	(void)udp_answer(q, w, len);
}

static void
usock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct usock		*us = arg;
	struct transport	*t = us->t;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	ssize_t			 n;
	int			 i, e;

	(void)what;
	us->busy = true;
	for (i = 0; i < UDP_BATCH; i++) {
		fromlen = sizeof(from);
		memset(&from, 0, sizeof(from));
		n = recvfrom(fd, t->ubuf, UDP_BUF, 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n != -1) {
			udp_datagram(us, &from, t->ubuf, (size_t)n);
			continue;
		}
		e = errno;
		if (e == EINTR)
			continue;
		/* An ICMP error (or, woken with nothing to read, one whose
		 * notice a send took): its details wait in the error queue. */
		if ((e != EAGAIN && e != EWOULDBLOCK) || i == 0)
			usock_errqueue(us);
		if (e == EAGAIN || e == EWOULDBLOCK)
			break;
	}
	us->busy = false;
	if (us->slot < 0 && us->refs == 0)
		usock_free(us);
}

/* ------------------------------------------------------------ TCP */

/*
 * TCP queries share connections: per server, up to TCP_CONN_MAX of them,
 * each with up to TCP_PIPE_MAX queries outstanding (RFC 7766 6.2.1.1),
 * kept TCP_IDLE_MS once idle. Asking DNSKEY, CDS and CDNSKEY over TCP at
 * each server of each domain was a connection (socket, connect, two epoll
 * changes, handshake, close) per question; most domains share their DNS
 * host's servers, so a few connections now carry them all.
 *
 * RFC 7766 lets a server close a connection, or answer one query on it
 * and no more, and some servers and middleboxes do not pipeline. So a
 * query that was not alone on its connection is never failed for what
 * happened to the connection: when it closes, breaks or stalls, its
 * queries are sent again, each on a connection of its own (solo), and,
 * when two or more were outstanding, the server gets solo connections
 * only for TCP_NOPIPE_MS. A query that was alone on its connection fails
 * as it always did. Measured at 3,000 domains on two servers: 18,000 TCP
 * queries on 8 connections instead of 18,000 (tests/bench/README.md).
 *
 * Limits: a query on the wire holds a slot as before; TRANSPORT_Q_TCP
 * queries wait for room on s->tcpq without one; connections, idle ones
 * included, stay within max_inflight (an idle one gives way to a new
 * one). A question to a recursive resolver (TRANSPORT_Q_RD) gets a
 * connection of its own (see tcp_send()).
 */

static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_idle_cb(evutil_socket_t, short, void *);
static void	conn_fail(struct tconn *, bool, enum transport_status,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
conn_free(struct tconn *c)
{
	if (c->ev_r != NULL)
		event_free(c->ev_r);
	if (c->ev_w != NULL)
		event_free(c->ev_w);
	if (c->ev_idle != NULL)
		event_free(c->ev_idle);
	free(c->part);
	free(c);
}

/* Closes c (its queries gone already) and lets go of its server; freed
 * at once unless its handler runs (then on the way out). */
static void
conn_close(struct tconn *c)
{
	struct transport	*t = c->t;
	struct server		*s = c->s;

	if (c->dead)
		return;
	c->dead = true;
	TAILQ_REMOVE(&s->conns, c, slink);
	if (!c->solo)
		s->nshared--;
	if (c->on_idleq)
		TAILQ_REMOVE(&t->idleq, c, ilink);
	if (c->on_flushq)
		TAILQ_REMOVE(&t->flushq, c, flink);
	c->on_idleq = c->on_flushq = false;
	event_del(c->ev_r);
	event_del(c->ev_w);
	event_del(c->ev_idle);
	close(c->fd);
	c->fd = -1;
	t->nconn--;
	server_wake(s);
	server_release(s);
	if (!c->busy)
		conn_free(c);
}

/* A fresh connection to s, connecting; NULL with errno set and *stage
 * saying which call failed. */
static struct tconn *
conn_new(struct server *s, bool solo, const char **stage)
{
	struct transport	*t = s->t;
	struct tconn		*c, *old;
	int			 e;

	/* descriptors: past max_inflight connections an idle one goes */
	if (t->nconn >= (unsigned)t->o.max_inflight &&
	    (old = TAILQ_FIRST(&t->idleq)) != NULL)
		conn_close(old);
	*stage = "socket";
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->t = t;
	c->s = s;
	c->solo = solo;
	TAILQ_INIT(&c->qs);
	c->fd = socket(s->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		goto fail;
	/*
	 * Close with a reset, not FIN: we close first, so each connection
	 * would otherwise sit in TIME_WAIT for 60 s holding a local port.
	 * Against servers that take one query per connection (solo) that is
	 * still one connection per question; 28,000 ephemeral ports per
	 * destination run out past ~470 connections a second to one server,
	 * and connect() would then fail with EADDRNOTAVAIL: a TCP failure
	 * invented by the monitor. We close only with no answer awaited, so
	 * the reset loses nothing.
	 */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER,
	    &(struct linger){ .l_onoff = 1, .l_linger = 0 },
	    sizeof(struct linger));
	if ((c->ev_r = event_new(t->base, c->fd, EV_READ | EV_PERSIST,
	    conn_read_cb, c)) == NULL ||
	    (c->ev_w = event_new(t->base, c->fd, EV_WRITE, conn_write_cb,
	    c)) == NULL ||
	    (c->ev_idle = evtimer_new(t->base, conn_idle_cb, c)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	*stage = "connect";
	if (connect(c->fd, (struct sockaddr *)&s->addr, s->addrlen) == 0)
		c->open = true;
	else if (errno != EINPROGRESS)
		goto fail;
	if (event_add(c->open ? c->ev_r : c->ev_w, NULL) == -1) {
		errno = ENOMEM;
		goto fail;
	}
	TAILQ_INSERT_TAIL(&s->conns, c, slink);
	if (!solo)
		s->nshared++;
	s->refs++;
	t->nconn++;
	t->st.tcp_connections++;
	return c;
fail:
	e = errno;
	if (c->fd != -1)
		close(c->fd);
	conn_free(c);
	errno = e;
	return NULL;
}

static void
conn_want_flush(struct tconn *c)
{
	if (c->on_flushq || c->dead)
		return;
	TAILQ_INSERT_TAIL(&c->t->flushq, c, flink);
	c->on_flushq = true;
	event_active(c->t->ev_flush, EV_TIMEOUT, 0);
}

/* No query left on c: kept for the next ones a while, unless it was for
 * one query only or there are more than the server may have. */
static void
conn_idle(struct tconn *c)
{
	struct transport	*t = c->t;
	struct timeval		 tv;

	if (c->solo || c->noreuse || c->s->nshared > TCP_CONN_MAX ||
	    server_nopipe(c->s) || t->nconn > (unsigned)t->o.max_inflight) {
		conn_close(c);
		return;
	}
	TAILQ_INSERT_TAIL(&t->idleq, c, ilink);
	c->on_idleq = true;
	tv_from_ms(&tv, TCP_IDLE_MS);
	evtimer_add(c->ev_idle, &tv);
	server_wake(c->s);
}

static bool
conn_id_used(const struct tconn *c, uint16_t id)
{
	const struct query	*q;
	unsigned		 i;

	TAILQ_FOREACH(q, &c->qs, clink)
		if (q->id == id)
			return true;
	for (i = 0; i < c->ngone; i++)
		if (c->gone[i] == id)
			return true;
	return false;
}

static void
conn_attach(struct tconn *c, struct query *q)
{
	if (c->on_idleq) {
		TAILQ_REMOVE(&c->t->idleq, c, ilink);
		c->on_idleq = false;
		event_del(c->ev_idle);
	}
	/* unique on the connection, so an answer finds one query */
	do
		q->id = rnd_id(q->t);
	while (conn_id_used(c, q->id));
	q->qwire[0] = q->id >> 8;
	q->qwire[1] = q->id & 0xFF;
	q->lenbuf[0] = q->qwire_len >> 8;
	q->lenbuf[1] = q->qwire_len & 0xFF;
	q->woff = 0;
	q->conn = c;
	q->cseq = ++c->carried;
	TAILQ_INSERT_TAIL(&c->qs, q, clink);
	c->nq++;
	q->state = c->open ? Q_TCP_WRITE : Q_TCP_CONNECT;
	if (c->open)
		conn_want_flush(c);
}

/* q leaves its connection (answered, timed out, cancelled, resent). */
static void
conn_detach(struct query *q)
{
	struct tconn	*c = q->conn;

	if (c == NULL)
		return;
	/* half a frame sent: what follows on the stream is garbage to the
	 * server; the others go again, from the flush (not from here,
	 * inside some finish()) */
	if (q->woff > 0 && q->woff < q->qwire_len + 2)
		c->broken = true;
	TAILQ_REMOVE(&c->qs, q, clink);
	c->nq--;
	q->conn = NULL;
	if (c->broken)
		conn_want_flush(c);
	else if (c->nq == 0)
		conn_idle(c);
	else
		server_wake(c->s);
}

/* Sends what c's queries have not sent yet, in one call. */
static void
conn_write(struct tconn *c)
{
	struct iovec	 iov[2 * TCP_PIPE_MAX];
	struct msghdr	 mh;
	struct query	*q;
	size_t		 k = 0, total;
	ssize_t		 n;
	bool		 more = false;

	TAILQ_FOREACH(q, &c->qs, clink) {
		total = q->qwire_len + 2;
		if (q->woff >= total)
			continue;
		if (k + 2 > sizeof(iov) / sizeof(iov[0])) {
			more = true;
			break;
		}
		if (q->woff < 2) {
			iov[k].iov_base = q->lenbuf + q->woff;
			iov[k++].iov_len = 2 - q->woff;
			iov[k].iov_base = q->qwire;
			iov[k++].iov_len = q->qwire_len;
		} else {
			iov[k].iov_base = q->qwire + q->woff - 2;
			iov[k++].iov_len = total - q->woff;
		}
	}
	if (k == 0)
		return;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = k;
	n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR) {
			event_add(c->ev_w, NULL);
			return;
		}
		conn_fail(c, true, TRANSPORT_NETERR, "TCP send: %s",
		    strerror(errno));
		return;
	}
	TAILQ_FOREACH(q, &c->qs, clink) {
		size_t	 take;

		total = q->qwire_len + 2;
		if (q->woff >= total)
			continue;
		if (n == 0) {
			more = true;
			break;
		}
		take = total - q->woff < (size_t)n ? total - q->woff :
		    (size_t)n;
		q->woff += take;
		n -= (ssize_t)take;
		if (q->woff == total)
			q->state = Q_TCP_READ;
		else
			more = true;
	}
	if (more)
		event_add(c->ev_w, NULL);
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport	*t = arg;
	struct tconn		*c;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&t->flushq)) != NULL) {
		TAILQ_REMOVE(&t->flushq, c, flink);
		c->on_flushq = false;
		c->busy = true;
		if (c->broken)
			conn_fail(c, true, TRANSPORT_NETERR,
			    "TCP: the connection was left with a query half "
			    "sent");
		else if (c->open)
			conn_write(c);
		c->busy = false;
		if (c->dead)
			conn_free(c);
	}
}

/*
 * c is closed, broken or stuck: every query on it goes. With resend, and
 * c having carried more than one query, each that was not sent alone
 * already is asked again on a connection of its own; the others end with
 * status and the message. The server gets no shared connection for a
 * while only when two or more were outstanding: one query lost on a
 * reused connection is more likely the server's idle close crossing it
 * than a server that cannot pipeline.
 */
static void
conn_fail(struct tconn *c, bool resend, enum transport_status status,
    const char *fmt, ...)
{
	struct server	*s = c->s;
	struct queryq	 l;
	struct query	*q;
	char		 err[200];
	va_list		 ap;
	unsigned	 n = c->nq;

	va_start(ap, fmt);
	vsnprintf(err, sizeof(err), fmt, ap);
	va_end(ap);
	resend = resend && c->carried > 1;
	TAILQ_INIT(&l);
	while ((q = TAILQ_FIRST(&c->qs)) != NULL) {
		TAILQ_REMOVE(&c->qs, q, clink);
		q->conn = NULL;
		TAILQ_INSERT_TAIL(&l, q, clink);
	}
	c->nq = 0;
	if (resend && n >= 2)
		s->nopipe_until = now_ms() + TCP_NOPIPE_MS;
	conn_close(c);
	while ((q = TAILQ_FIRST(&l)) != NULL) {
		TAILQ_REMOVE(&l, q, clink);
		if (resend && !q->tcp_resent && (q->deadline == 0 ||
		    now_ms() < q->deadline)) {
			q->tcp_resent = true;
			q->t->st.tcp_resent++;
			query_resend(q, true);
		} else
			finish(q, status, NULL, 0, NULL, "%s", err);
	}
}

/* Called with a token taken and a slot held. */
static void
tcp_send(struct query *q)
{
	struct transport	*t = q->t;
	struct server		*s = q->s;
	struct tconn		*c = NULL, *x;
	const char		*stage;
	bool			 solo;

	/*
	 * A recursive resolver's answer time depends on the name (a cache
	 * miss, a slow authority), so a question to one never waits behind
	 * another on a shared connection; and the engine's guard on it is
	 * shorter than the TCP limit. Only its TC=1 answers come here.
	 */
	solo = q->tcp_resent || q->rd || server_nopipe(s);

	/* the least busy shared connection with room, else a new one */
	if (!solo)
		TAILQ_FOREACH(x, &s->conns, slink)
			if (!x->solo && !x->broken && !x->noreuse &&
			    x->nq < TCP_PIPE_MAX && (c == NULL || x->nq < c->nq))
				c = x;
	if (c == NULL && (c = conn_new(s, solo, &stage)) == NULL) {
		if (local_errno(errno))
			local_errors++;
		q->state = Q_TCP_CONNECT;
		finish(q, TRANSPORT_NETERR, NULL, 0, NULL, "TCP %s: %s", stage,
		    strerror(errno));
		return;
	}
	if (c->carried > 0)
		t->st.tcp_reused++;
	conn_attach(c, q);
	q->attempts++;
	t->st.tcp_sent++;
	arm_timer(q, (uint64_t)t->o.tcp_timeout_ms);
}

/*
 * q's TCP time is up. Alone on its connection, or past its deadline, it
 * times out. On a shared one it times out alone only when the server
 * answered a query sent after it (it reads past q: the connection is not
 * stuck); else the connection may be what is stuck, behind another
 * query or at a server that does not pipeline, and its queries go again.
 */
static void
tcp_timeout(struct query *q, bool past)
{
	struct tconn	*c = q->conn;
	char		 what[96];

	if (q->state == Q_TCP_CONNECT)
		snprintf(what, sizeof(what), "TCP connect timeout");
	else if (q->state == Q_TCP_WRITE)
		snprintf(what, sizeof(what), "TCP send timeout");
	else if (c != NULL && c->partlen > 0 && TAILQ_FIRST(&c->qs) == q)
		snprintf(what, sizeof(what), "TCP answer timeout (%zu of %zu "
		    "bytes)", c->partlen, c->partlen < 2 ? (size_t)2 :
		    (size_t)rd16(c->plen) + 2);
	else
		snprintf(what, sizeof(what), "TCP answer timeout");
	if (c != NULL && c->open && c->carried > 1 && !q->tcp_resent &&
	    !past && c->answered <= q->cseq) {
		conn_fail(c, true, TRANSPORT_TIMEOUT, "%s", what);
		return;
	}
	/* its answer may still come on a connection that stays: known,
	 * and the connection takes no new query (it closes once idle) */
	if (c != NULL && !c->solo) {
		c->gone[c->ngone % TCP_GONE] = q->id;
		if (c->ngone < TCP_GONE)
			c->ngone++;
		c->noreuse = true;
	}
	finish(q, TRANSPORT_TIMEOUT, NULL, 0, NULL, "%s%s", what,
	    past ? " (deadline)" : "");
}

/* Who an answer with no ID outstanding on c is put down to: the only
 * query on c, or the one query whose question it repeats. */
static struct query *
tcp_blame(const struct tconn *c, const uint8_t *w, size_t len)
{
	struct query	*q, *found = NULL;
	size_t		 qlen;

	TAILQ_FOREACH(q, &c->qs, clink) {
		if (q->state != Q_TCP_READ)
			continue;
		if (c->nq == 1)
			return q;
		qlen = q->qwire_len - DNS_HDR - 11;
		if (len >= DNS_HDR + qlen &&
		    question_equal(w + DNS_HDR, q->qwire + DNS_HDR, qlen)) {
			if (found != NULL)
				return NULL;
			found = q;
		}
	}
	return found;
}

/* One whole message from c's stream. */
static void
conn_message(struct tconn *c, const uint8_t *w, size_t len)
{
	struct transport	*t = c->t;
	struct query		*q;
	getdns_dict		*msg = NULL;
	char			 err[160];
	unsigned		 i;

	if (len < DNS_HDR) {
		/* not a DNS message: the framing cannot be trusted on */
		conn_fail(c, true, TRANSPORT_MALFORMED, len == 0 ?
		    "zero-length TCP message" : "%zu-byte TCP message", len);
		return;
	}
	TAILQ_FOREACH(q, &c->qs, clink)
		if (q->id == rd16(w) && q->state == Q_TCP_READ)
			break;
	if (q == NULL) {
		for (i = 0; i < c->ngone; i++)
			if (c->gone[i] == rd16(w)) {
				t->st.bad_answers++;	/* late */
				return;
			}
		if ((q = tcp_blame(c, w, len)) == NULL) {
			t->st.bad_answers++;
			return;
		}
	}
	if (q->cseq > c->answered)
		c->answered = q->cseq;
	switch (reply_check(w, len, q->qwire + DNS_HDR,
	    q->qwire_len - DNS_HDR - 11, q->id, 0, &t->sc,
	    q->dict ? &msg : NULL, &t->view, t->rrs, err, sizeof(err))) {
	case TRANSPORT_REPLY_OK:
		finish(q, TRANSPORT_OK, w, len, msg, NULL);
		return;
	case TRANSPORT_REPLY_MISMATCH:
		t->st.bad_answers++;
		finish(q, TRANSPORT_MALFORMED, w, len, NULL,
		    "TCP answer does not match the query: %s", err);
		return;
	case TRANSPORT_REPLY_MALFORMED:
	case TRANSPORT_REPLY_TC:
		finish(q, TRANSPORT_MALFORMED, w, len, NULL,
		    "malformed answer over TCP: %s", err);
		return;
	}
}

/* Bytes read from c: whole messages are taken where they lie, a message
 * cut by the read is kept in c->part. */
static void
conn_feed(struct tconn *c, const uint8_t *d, size_t n)
{
	size_t	 len, got, take;

	while (n > 0 && !c->dead) {
		if (c->partlen == 0 && n >= 2 && n - 2 >= rd16(d)) {
			len = rd16(d);
			conn_message(c, d + 2, len);
			d += 2 + len;
			n -= 2 + len;
			continue;
		}
		if (c->partlen < 2) {
			c->plen[c->partlen++] = *d++;
			n--;
			if (c->partlen < 2)
				continue;
			len = rd16(c->plen);
			if (len == 0) {
				c->partlen = 0;
				conn_message(c, c->plen, 0);
				continue;
			}
			free(c->part);
			/* at most 65535: the bound */
			if ((c->part = malloc(len)) == NULL) {
				local_errors++;
				conn_fail(c, false, TRANSPORT_NETERR,
				    "out of memory");
				return;
			}
			continue;
		}
		len = rd16(c->plen);
		got = c->partlen - 2;
		take = len - got < n ? len - got : n;
		memcpy(c->part + got, d, take);
		c->partlen += take;
		d += take;
		n -= take;
		if (got + take == len) {
			c->partlen = 0;
			conn_message(c, c->part, len);
		}
	}
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tconn		*c = arg;
	struct transport	*t = c->t;
	ssize_t			 n;
	int			 i;

	(void)what;
	c->busy = true;
	for (i = 0; i < 16 && !c->dead; i++) {
		n = read(fd, t->ubuf, UDP_BUF);
		if (n > 0) {
			conn_feed(c, t->ubuf, (size_t)n);
			/* less than asked: drained (the loop comes back) */
			if ((size_t)n < UDP_BUF)
				break;
			continue;
		}
		if (n == 0) {
			/* the server closes: its right with nothing asked */
			if (c->nq == 0)
				conn_close(c);
			else
				conn_fail(c, true, TRANSPORT_NETERR,
				    "TCP closed by the server after %zu of "
				    "%zu bytes", c->partlen, c->partlen < 2 ?
				    (size_t)2 : (size_t)rd16(c->plen) + 2);
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_fail(c, true, TRANSPORT_NETERR,
			    "TCP receive: %s", strerror(errno));
		break;
	}
	c->busy = false;
	if (c->dead)
		conn_free(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tconn	*c = arg;
	struct query	*q;

	(void)what;
	c->busy = true;
	if (!c->open) {
		int		 e = 0;
		socklen_t	 elen = sizeof(e);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1)
			e = errno;
		if (e != 0) {
			/* nothing was sent: every query gets the same
			 * answer alone, so none goes again */
			conn_fail(c, false, TRANSPORT_NETERR,
			    "TCP connect: %s", strerror(e));
			goto out;
		}
		c->open = true;
		event_add(c->ev_r, NULL);
		TAILQ_FOREACH(q, &c->qs, clink)
			q->state = Q_TCP_WRITE;
	}
	conn_write(c);
out:
	c->busy = false;
	if (c->dead)
		conn_free(c);
}

static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_close(arg);
}

/* ------------------------------------------------------------ public */

void
transport_opts_default(struct transport_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 1000;
	o->retries = 2;
	o->tcp_timeout_ms = 4000;
	o->deadline_ms = 0;
	o->max_inflight = 1000;
	o->max_queued = 200000;
	o->per_server_qps = 0;
	o->per_server_burst = 0;
	o->edns_bufsize = 1232;
}

static getdns_dict *
make_template(uint16_t bufsize)
{
	getdns_dict	*m = getdns_dict_create(), *hdr = getdns_dict_create(),
			*opt = getdns_dict_create(), *rdata = getdns_dict_create();
	getdns_list	*add = getdns_list_create();
	getdns_bindata	 root = { 1, (uint8_t *)"" };
	getdns_bindata	 empty = { 0, (uint8_t *)"" };
	bool		 good;

	good = m != NULL && hdr != NULL && opt != NULL && rdata != NULL &&
	    add != NULL &&
	    !getdns_dict_set_int(hdr, "id", 0) &&
	    !getdns_dict_set_int(hdr, "qr", 0) &&
	    !getdns_dict_set_int(hdr, "opcode", GETDNS_OPCODE_QUERY) &&
	    !getdns_dict_set_int(hdr, "rd", 0) &&
	    !getdns_dict_set_int(hdr, "cd", 0) &&
	    !getdns_dict_set_int(hdr, "ad", 0) &&
	    !getdns_dict_set_dict(m, "header", hdr) &&
	    !getdns_dict_set_bindata(opt, "name", &root) &&
	    !getdns_dict_set_int(opt, "type", GETDNS_RRTYPE_OPT) &&
	    !getdns_dict_set_int(opt, "udp_payload_size", bufsize) &&
	    !getdns_dict_set_int(opt, "extended_rcode", 0) &&
	    !getdns_dict_set_int(opt, "version", 0) &&
	    !getdns_dict_set_int(opt, "do", 1) &&
	    !getdns_dict_set_int(opt, "z", 0) &&
	    !getdns_dict_set_bindata(rdata, "rdata_raw", &empty) &&
	    !getdns_dict_set_dict(opt, "rdata", rdata) &&
	    !getdns_list_set_dict(add, 0, opt) &&
	    !getdns_dict_set_list(m, "additional", add);
	getdns_dict_destroy(hdr);
	getdns_dict_destroy(opt);
	getdns_dict_destroy(rdata);
	getdns_list_destroy(add);
	if (!good) {
		getdns_dict_destroy(m);
		return NULL;
	}
	return m;
}

struct transport *
transport_create(struct event_base *base, const struct transport_opts *opts)
{
	struct transport	*t = NULL;
	struct transport_opts	 o;
	struct rlimit		 rl;
	unsigned		 pool_n, reserve;

	if (opts == NULL)
		transport_opts_default(&o);
	else
		o = *opts;
	if (o.timeout_ms <= 0 || o.retries < 0 || o.retries > 10 ||
	    o.tcp_timeout_ms <= 0 || o.deadline_ms < 0 ||
	    o.max_inflight <= 0 || o.max_queued < 0 ||
	    o.per_server_qps < 0 || o.per_server_burst < 0 ||
	    o.edns_bufsize < 512) {
		log_warnx("transport: invalid options");
		goto fail;
	}
	if (o.per_server_burst == 0)
		o.per_server_burst = o.per_server_qps / 10;
	if (o.per_server_burst < 1)
		o.per_server_burst = 1;
	pool_n = (unsigned)o.max_inflight / 16;
	if (pool_n < POOL_MIN)
		pool_n = POOL_MIN;
	if (pool_n > POOL_MAX)
		pool_n = POOL_MAX;
	/* two families, each with pool_n in the pool and as many retired */
	reserve = FD_RESERVE + 4 * pool_n;
	/* The soft limit is often 1024 (systemd's default) under a far
	 * higher hard one: take what max_inflight needs, if allowed, rather
	 * than shrink max_inflight to fit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	    && (rlim_t)o.max_inflight + reserve > rl.rlim_cur &&
	    (rl.rlim_max == RLIM_INFINITY ||
	    (rlim_t)o.max_inflight + reserve <= rl.rlim_max)) {
		struct rlimit	 want = rl;

		want.rlim_cur = (rlim_t)o.max_inflight + reserve;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	    && (rlim_t)o.max_inflight + reserve > rl.rlim_cur) {
		int	 fit = rl.rlim_cur > reserve * 2 ?
			    (int)(rl.rlim_cur - reserve) :
			    (int)(rl.rlim_cur / 2);

		log_warnx("transport: max_inflight %d lowered to %d to fit "
		    "the open file limit %llu", o.max_inflight, fit,
		    (unsigned long long)rl.rlim_cur);
		o.max_inflight = fit > 0 ? fit : 1;
	}

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		log_warn("transport");
		goto fail;
	}
	t->base = base;
	t->o = o;
	TAILQ_INIT(&t->all);
	TAILQ_INIT(&t->waitq);
	TAILQ_INIT(&t->idleq);
	TAILQ_INIT(&t->flushq);
	t->hsize = 64;
	t->pool_n = pool_n;
	t->idsize = 256;
	if ((t->htab = calloc(t->hsize, sizeof(*t->htab))) == NULL ||
	    (t->idtab = calloc(t->idsize, sizeof(*t->idtab))) == NULL ||
	    (t->pool4 = calloc(pool_n, sizeof(*t->pool4))) == NULL ||
	    (t->pool6 = calloc(pool_n, sizeof(*t->pool6))) == NULL ||
	    (t->ev_pump = event_new(base, -1, 0, pump_cb, t)) == NULL ||
	    (t->ev_flush = event_new(base, -1, 0, flush_cb, t)) == NULL ||
	    (t->tmpl = make_template(o.edns_bufsize)) == NULL ||
	    scratch_init(&t->sc) == -1) {
		log_warnx("transport: out of memory");
		goto fail;
	}
	rnd_bytes(t, &t->hseed, sizeof(t->hseed));
	return t;
fail:
	if (t != NULL) {
		free(t->sc.buf);
		getdns_dict_destroy(t->tmpl);
		free(t->htab);
		free(t->idtab);
		free(t->pool4);
		free(t->pool6);
		if (t->ev_pump != NULL)
			event_free(t->ev_pump);
		if (t->ev_flush != NULL)
			event_free(t->ev_flush);
		free(t);
	}
	return NULL;
}

void
transport_destroy(struct transport *t)
{
	struct query	*q;
	size_t		 i;

	if (t == NULL)
		return;
	if (t->in_cb > 0)
		fatalx("transport_destroy called from a transport callback");
	while ((q = TAILQ_FIRST(&t->all)) != NULL) {
		TAILQ_REMOVE(&t->all, q, alink);
		q->in_all = false;
		query_free(q);
	}
	for (i = 0; i < t->hsize; i++) {
		struct server	*s;
		struct tconn	*c;

		for (s = t->htab[i]; s != NULL; s = s->hnext)
			while ((c = TAILQ_FIRST(&s->conns)) != NULL) {
				/* broken ones were on the flushq, waiting
				 * to fail queries that are gone now */
				while (!TAILQ_EMPTY(&c->qs))
					TAILQ_REMOVE(&c->qs,
					    TAILQ_FIRST(&c->qs), clink);
				conn_close(c);
			}
	}
	/* retired sockets went with their last query */
	for (i = 0; i < t->pool_n; i++) {
		if (t->pool4[i] != NULL)
			usock_free(t->pool4[i]);
		if (t->pool6[i] != NULL)
			usock_free(t->pool6[i]);
	}
	free(t->pool4);
	free(t->pool6);
	free(t->idtab);
	for (i = 0; i < t->hsize; i++) {
		struct server	*s, *next;

		for (s = t->htab[i]; s != NULL; s = next) {
			next = s->hnext;
			event_free(s->ev_timer);
			free(s);
		}
	}
	free(t->htab);
	event_free(t->ev_pump);
	event_free(t->ev_flush);
	getdns_dict_destroy(t->tmpl);
	free(t->sc.buf);
	free(t);
}

void
transport_cancel_all(struct transport *t)
{
	struct queryq	 snap;
	struct query	*q;

	if (t->in_cb > 0)
		fatalx("transport_cancel_all called from a transport callback");
	TAILQ_INIT(&snap);
	TAILQ_CONCAT(&snap, &t->all, alink);
	while ((q = TAILQ_FIRST(&snap)) != NULL) {
		TAILQ_REMOVE(&snap, q, alink);
		q->in_all = false;
		finish(q, TRANSPORT_CANCELLED, NULL, 0, NULL, "cancelled");
	}
}

int
transport_query(struct transport *t, const struct sockaddr *server,
    socklen_t server_len, const char *qname, uint16_t qtype,
    transport_cb cb, void *arg)
{
	return transport_query_flags(t, server, server_len, qname, qtype, 0,
	    cb, arg);
}

int
transport_query_flags(struct transport *t, const struct sockaddr *server,
    socklen_t server_len, const char *qname, uint16_t qtype, unsigned flags,
    transport_cb cb, void *arg)
{
	struct query	*q = NULL;
	getdns_bindata	*name = NULL;
	getdns_dict	*qd = NULL;
	struct server	*s;
	size_t		 len;
	int		 why = EINVAL;

	if (server == NULL || cb == NULL || qname == NULL ||
	    !((server->sa_family == AF_INET &&
	    server_len >= sizeof(struct sockaddr_in)) ||
	    (server->sa_family == AF_INET6 &&
	    server_len >= sizeof(struct sockaddr_in6))) ||
	    (flags & ~(unsigned)(TRANSPORT_Q_TCP | TRANSPORT_Q_DICT |
	    TRANSPORT_Q_RD)) != 0)
		goto fail;
	if (t->queued >= (unsigned)t->o.max_queued) {
		t->st.rejected++;
		why = ENOBUFS;
		goto fail;
	}
	if (getdns_convert_fqdn_to_dns_name(qname, &name) != GETDNS_RETURN_GOOD
	    || name->size > 255)
		goto fail;
	/* Past the checks of what the caller gave, a failure is ours: an
	 * allocation (getdns's dictionaries, libevent's events). */
	why = ENOMEM;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		goto fail;
	q->last_slot = -1;
	if ((q->qname = strdup(qname)) == NULL ||
	    (qd = getdns_dict_create()) == NULL ||
	    getdns_dict_set_bindata(qd, "qname", name) ||
	    getdns_dict_set_int(qd, "qtype", qtype) ||
	    getdns_dict_set_int(qd, "qclass", GETDNS_RRCLASS_IN) ||
	    getdns_dict_set_dict(t->tmpl, "question", qd))
		goto fail;
	len = sizeof(q->qwire);
	if (getdns_msg_dict2wire_buf(t->tmpl, q->qwire, &len) !=
	    GETDNS_RETURN_GOOD || len != DNS_HDR + name->size + 4 + 11)
		goto fail;
	q->qwire_len = len;
	if (flags & TRANSPORT_Q_RD)
		q->qwire[2] |= 0x01;	/* the RD bit of the header */
	if ((q->ev_timer = evtimer_new(t->base, query_timer_cb, q)) == NULL)
		goto fail;
	server_len = server->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if ((s = server_get(t, server, server_len)) == NULL)
		goto fail;

	q->t = t;
	q->s = s;
	q->cb = cb;
	q->arg = arg;
	q->qtype = qtype;
	q->next_tcp = (flags & TRANSPORT_Q_TCP) != 0;
	q->rd = (flags & TRANSPORT_Q_RD) != 0;
	q->dict = !t->o.no_dict || (flags & TRANSPORT_Q_DICT) != 0;
	q->state = Q_PENDING;
	q->t_queued = now_ms();
	s->refs++;
	if (q->next_tcp)
		TAILQ_INSERT_TAIL(&s->tcpq, q, link);
	else
		TAILQ_INSERT_TAIL(&s->pendq, q, link);
	TAILQ_INSERT_TAIL(&t->all, q, alink);
	q->in_all = true;
	t->queued++;
	t->st.queries++;
	getdns_dict_destroy(qd);
	free(name->data);
	free(name);
	/* Not server_kick(): that may send retries, and a failed send would
	 * call some callback from inside this call. The pump runs later
	 * (and leaves a TCP query queued until there is room for it). */
	if (!s->on_waitq) {
		TAILQ_INSERT_TAIL(&t->waitq, s, wlink);
		s->on_waitq = true;
	}
	pump_schedule(t);
	return 0;
fail:
	getdns_dict_destroy(qd);
	if (name != NULL) {
		free(name->data);
		free(name);
	}
	if (q != NULL)
		query_free(q);
	if (why == ENOMEM)
		local_errors++;
	errno = why;
	return -1;
}

void
transport_stats(const struct transport *t, struct transport_stats *s)
{
	*s = t->st;
	s->inflight = t->inflight;
	s->queued = t->queued;
}
