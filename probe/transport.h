/*
 * The probe's own asynchronous DNS client: asks one authoritative server
 * directly (RD=0, EDNS0 with DO=1), never through a cache.
 *
 * One struct transport per caller-owned libevent event_base. Queries go
 * out over UDP on a pool of non-blocking sockets shared by all queries,
 * rotated for fresh random ports (RFC 5452; see transport.c); a TC=1
 * answer is asked again over TCP. TCP queries to one server share up to
 * 4 connections, 32 queries outstanding on each (RFC 7766 pipelining),
 * closed after 3 s idle; a query that was not alone on a connection the
 * server closed or stalled is sent again alone, and that server gets one
 * connection per query for a while. Each query ends in exactly one
 * callback, from the event loop, never from inside transport_query().
 *
 * Load is bounded three ways: at most max_inflight queries are on the
 * wire (TRANSPORT_Q_TCP ones waiting for room on a connection hold no
 * slot), at most max_queued wait behind them (transport_query() fails
 * beyond that), and each server (address + port) gets at most
 * per_server_qps new packets per second, retries and TCP fallbacks
 * included, so a large monitored set never floods one server.
 *
 * Wire format is built by getdns; what comes back from the network is
 * checked and walked here (see transport_parse_reply()), then handed on
 * as that walk (view) and, unless no_dict, parsed by getdns (msg).
 */
#ifndef DNSSECMON_TRANSPORT_H
#define DNSSECMON_TRANSPORT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <getdns/getdns.h>

struct event_base;
struct transport;

/*
 * An accepted answer as the transport's own walk saw it: where each RR
 * is in the wire (every offset and length checked to lie inside it,
 * every name in it made of backward pointers only). probe/answer.c reads
 * records from this, so an answer is parsed once, not walked and then
 * parsed again by getdns.
 */
enum transport_section { TS_ANSWER, TS_AUTHORITY, TS_ADDITIONAL };

struct transport_rr {
	uint16_t	owner;		/* offset of the owner name */
	uint16_t	type;
	uint16_t	class;
	uint16_t	rdata;		/* offset of the rdata */
	uint16_t	rdlen;
	uint8_t		section;	/* enum transport_section */
	uint32_t	ttl;
};

/* A message of 65,535 bytes holds at most 5,957 RRs of 11 bytes. */
#define TRANSPORT_MAX_RRS	5958

struct transport_msg {
	const uint8_t			*wire;
	size_t				 len;
	unsigned			 n_rr;
	const struct transport_rr	*rr;
};

struct transport_opts {
	int		timeout_ms;	/* first UDP attempt; doubles per retry
					   (capped at 16 x); default 1000 */
	int		retries;	/* UDP re-sends after a timeout, each with
					   a new ID and source port; default 2 */
	int		tcp_timeout_ms;	/* connect + send + whole answer over TCP,
					   slow dribbling included; default 4000 */
	int		deadline_ms;	/* whole query from its first packet, TCP
					   included; 0 = only the per-attempt
					   limits above; default 0 */
	int		max_inflight;	/* queries on the wire, and TCP
					   connections open; default 1000; at
					   create the soft RLIMIT_NOFILE is
					   raised to fit it where the hard one
					   allows, else it is lowered to fit */
	int		max_queued;	/* queries waiting for a slot or a rate
					   token; default 200000 (~700 B each) */
	int		per_server_qps;	/* packets per second to one address +
					   port; 0 = unlimited; default 0 */
	int		per_server_burst; /* token bucket depth; 0 = qps / 10,
					   at least 1 */
	uint16_t	edns_bufsize;	/* advertised UDP size, 512..65535;
					   default 1232 */
	bool		no_dict;	/* OK answers come as the view only,
					   msg NULL (but with TRANSPORT_Q_DICT):
					   no getdns parse; default false */
};

enum transport_status {
	TRANSPORT_OK = 0,	/* an acceptable answer, whatever its rcode */
	TRANSPORT_TIMEOUT,	/* no acceptable answer in time (see
				   bad_answers: unacceptable ones ignored) */
	TRANSPORT_NETERR,	/* socket error, ICMP unreachable, TCP
				   refused or closed before a full answer */
	TRANSPORT_MALFORMED,	/* an answer to our question that cannot be
				   parsed, or a TCP answer failing the checks */
	TRANSPORT_CANCELLED	/* transport_cancel_all() */
};

/*
 * Everything in here, pointers included, is valid during the callback only.
 * Copy what you keep.
 */
struct transport_result {
	enum transport_status	 status;
	const char		*qname;		/* as passed to transport_query */
	uint16_t		 qtype;
	const struct sockaddr	*server;
	socklen_t		 server_len;
	const getdns_dict	*msg;		/* parsed answer, OK only, unless
						   no_dict */
	const struct transport_msg *view;	/* the same, as walked; OK only */
	const uint8_t		*wire;		/* raw answer, OK/MALFORMED */
	size_t			 wire_len;
	int			 rcode;		/* with EDNS extended bits; -1 when
						   there is no answer */
	bool			 aa;
	bool			 tc;		/* TC bit of the final answer */
	bool			 tcp;		/* the final answer came over TCP
						   (maybe on a connection shared
						   with other queries) */
	bool			 tc_fallback;	/* UDP said TC=1, retried on TCP */
	size_t			 udp_len;	/* bytes of the UDP answer taken (the
						   TC=1 one on a fallback); 0: none */
	unsigned		 attempts;	/* packets sent, TCP included (a TCP
						   query sent again alone counts) */
	unsigned		 bad_answers;	/* UDP answers ignored: wrong ID,
						   QR=0, other question, ... */
	uint32_t		 latency_ms;	/* first packet to the end */
	uint32_t		 queued_ms;	/* waiting for a slot or token */
	const char		*error;		/* why, for humans; NULL when OK */
};

typedef void (*transport_cb)(void *arg, const struct transport_result *r);

struct transport_stats {
	uint64_t	queries;	/* accepted by transport_query() */
	uint64_t	completed;	/* callbacks made */
	uint64_t	ok, timeouts, neterrs, malformed, cancelled;
	uint64_t	udp_sent;	/* UDP packets, retries included */
	uint64_t	tcp_sent;	/* TCP queries (each send counts) */
	uint64_t	tcp_connections; /* TCP connections opened */
	uint64_t	tcp_reused;	/* TCP queries sent on a connection
					   that had carried another one */
	uint64_t	tcp_resent;	/* TCP queries sent again alone after
					   a shared connection broke */
	uint64_t	udp_sockets;	/* UDP sockets opened (the pool and
					   its rotation) */
	uint64_t	retries;	/* UDP re-sends after a timeout */
	uint64_t	silent_cut;	/* queries ended without the re-sends
					   they had left: their address is
					   silent (SILENT_AFTER in
					   transport.c) */
	unsigned	silent_now;	/* server addresses silent now */
	uint64_t	tc_fallbacks;
	uint64_t	bad_answers;	/* unacceptable UDP answers ignored,
					   TCP ones with an ID nobody asked */
	uint64_t	rate_delayed;	/* waits for a server's next token */
	uint64_t	rejected;	/* transport_query() -1: queue full */
	unsigned	inflight;	/* now on the wire */
	unsigned	inflight_max;	/* high-water mark of inflight */
	unsigned	queued;		/* now waiting */
	unsigned	servers;	/* entries in the server table */
};

/* Fills *o with the defaults listed above. */
void	transport_opts_default(struct transport_opts *o);

/*
 * opts NULL means the defaults. Returns NULL (and logs) on invalid options
 * or no memory. The base stays the caller's and must outlive the transport.
 */
struct transport *transport_create(struct event_base *base,
	    const struct transport_opts *opts);

/*
 * Closes every socket and frees every query, queued or in flight, without
 * calling their callbacks (so their args are the caller's to free). Accepts
 * NULL. Forbidden from inside a transport callback (fatal): defer it to a
 * zero-delay timer instead.
 */
void	transport_destroy(struct transport *t);

/*
 * Ends every query now with TRANSPORT_CANCELLED, each callback called from
 * inside this call. Queries the callbacks start are kept. Not to be called
 * from a transport callback.
 */
void	transport_cancel_all(struct transport *t);

/*
 * Queues one question for server (IPv4 or IPv6, port included; copied).
 * qname is presentation format, trailing dot optional (copied). cb is
 * called exactly once with arg, later, from the event loop. Returns 0, or
 * -1 with errno EINVAL (a bad name/address), ENOBUFS (a full queue) or
 * ENOMEM (out of memory); cb is then never called. Callbacks may call it.
 */
int	transport_query(struct transport *t, const struct sockaddr *server,
	    socklen_t server_len, const char *qname, uint16_t qtype,
	    transport_cb cb, void *arg);

/* transport_query_flags() flags. */
#define TRANSPORT_Q_TCP		0x1	/* ask over TCP only, never UDP: does
					   the server answer over TCP at all? */
#define TRANSPORT_Q_DICT	0x2	/* a getdns dict of the answer even
					   with no_dict */
#define TRANSPORT_Q_RD		0x4	/* RD=1: a question to a recursive
					   resolver, not to an authority */

/* transport_query() with flags (0: the same as transport_query()). */
int	transport_query_flags(struct transport *t, const struct sockaddr *server,
	    socklen_t server_len, const char *qname, uint16_t qtype,
	    unsigned flags, transport_cb cb, void *arg);

void	transport_stats(const struct transport *t, struct transport_stats *s);
/* Operations that failed for want of this process's own resources (out of
 * memory, no socket), in every transport since the start: never the
 * network's fault. */
unsigned long long transport_local_errors(void);

/* Text for a status, static. */
const char *transport_status_str(enum transport_status s);

/*
 * The acceptance and parse step the transport applies to every answer,
 * exposed for the fuzzer and the tests.
 */
enum transport_reply {
	TRANSPORT_REPLY_OK = 0,		/* *out set: caller destroys it */
	TRANSPORT_REPLY_TC,		/* header + question fine, TC=1: ask
					   over TCP (only with TRANSPORT_PARSE_UDP) */
	TRANSPORT_REPLY_MISMATCH,	/* not an answer to this query: wrong ID,
					   QR=0, opcode, QDCOUNT, question */
	TRANSPORT_REPLY_MALFORMED	/* answers this query but is broken */
};

#define TRANSPORT_PARSE_UDP	0x1	/* TC=1 means "go to TCP" */

/*
 * Checks wire[0..len) as the answer to (id, qname, qtype, class IN):
 * QR=1, opcode QUERY, QDCOUNT=1, the question equal (names without regard
 * to case); then that the message is well formed (every RR inside the
 * message, owner names and the names in NS/CNAME/SOA/MX/SRV/DNAME/RRSIG/
 * NSEC/... rdata made only of backward compression pointers, no loops,
 * at most 255 bytes) and finally parses it with getdns_wire2msg_dict().
 * On anything but TRANSPORT_REPLY_OK *out is NULL and err (if errlen > 0)
 * says why. Never reads outside wire[0..len).
 */
enum transport_reply transport_parse_reply(const uint8_t *wire, size_t len,
	    const char *qname, uint16_t qtype, uint16_t id, int flags,
	    getdns_dict **out, char *err, size_t errlen);

/*
 * The same checks, then *view describes wire (caller storage: rrs has
 * TRANSPORT_MAX_RRS entries) instead of a getdns parse. view->wire is
 * wire: valid as long as the caller keeps it.
 */
enum transport_reply transport_view_reply(const uint8_t *wire, size_t len,
	    const char *qname, uint16_t qtype, uint16_t id, int flags,
	    struct transport_msg *view, struct transport_rr *rrs, char *err,
	    size_t errlen);

#endif /* DNSSECMON_TRANSPORT_H */
