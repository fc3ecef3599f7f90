/*
 * probe/transport against tests/hostile/hostile_dns.py on 127.0.0.1: every
 * scripted misbehaviour through a real event_base, plus timeouts, backoff,
 * deadline, rate limit, concurrency bound, cancellation and descriptor
 * accounting.
 *
 * No upper bound on wall-clock time is asserted: a loaded machine only
 * makes things later. Lower bounds prove that a wait happened (a backoff,
 * a rate limit); "it gave up in time" is proved by the order in which the
 * callbacks came, which a slow loop keeps (libevent runs expired timers in
 * the order of their expiry). The loop limits in run() are hang guards.
 *
 * The server is found through $HOSTILE_DNS, else tests/hostile/ under the
 * current directory, else relative to this binary (build/VARIANT/tests/).
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <getdns/getdns_extra.h>

#include "probe/transport.h"
#include "tests/unit/evloop.h"
#include "tests/unit/tap.h"

#define MAX_SERVERS	2
/* How long run() waits for callbacks before it calls the test hung: many
 * times what any case needs, and it costs nothing when they all come. */
#define HANG_MS		60000

struct hostile {
	pid_t			pid;
	char			pidfile[64];
	struct sockaddr_in	sa;
};

static struct hostile	 servers[MAX_SERVERS];
static int		 nservers;

/* ------------------------------------------------------------ helpers */

static uint64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
count_fds(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	int		 n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own descriptor */
}

static void
stop_servers(void)
{
	int	 i, status;

	for (i = 0; i < nservers; i++) {
		if (servers[i].pid <= 0)
			continue;
		kill(servers[i].pid, SIGTERM);
		while (waitpid(servers[i].pid, &status, 0) == -1 &&
		    errno == EINTR)
			;
		servers[i].pid = 0;
		unlink(servers[i].pidfile);
	}
}

static const char *
find_script(void)
{
	static char	 path[PATH_MAX + 64];
	char		 exe[PATH_MAX];
	const char	*env = getenv("HOSTILE_DNS");
	ssize_t		 n;
	char		*slash;

	if (env != NULL && access(env, R_OK) == 0)
		return env;
	if (access("tests/hostile/hostile_dns.py", R_OK) == 0)
		return "tests/hostile/hostile_dns.py";
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/../../../tests/hostile/hostile_dns.py",
	    exe);
	return access(path, R_OK) == 0 ? path : NULL;
}

/* Starts one hostile server; its port comes back on a pipe. */
static int
start_server(struct hostile *h, const char *script)
{
	int		 pfd[2];
	char		 line[32];
	size_t		 got = 0;
	struct pollfd	 p;
	FILE		*f;
	long		 port, filepid = -1;
	uint64_t	 until = mono_ms() + 15000;

	snprintf(h->pidfile, sizeof(h->pidfile), "/tmp/hostile_dns.%d.%d.pid",
	    (int)getpid(), (int)(h - servers));
	if (pipe(pfd) == -1)
		return -1;
	h->pid = fork();
	if (h->pid == -1)
		return -1;
	if (h->pid == 0) {
		/* dies with us, whatever way we go */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execlp("python3", "python3", script, "--addr", "127.0.0.1",
		    "--port", "0", "--pidfile", h->pidfile, "--lifetime", "600",
		    (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	memset(line, 0, sizeof(line));
	while (got < sizeof(line) - 1 && strchr(line, '\n') == NULL) {
		ssize_t	 n;
		int	 left = (int)(until - mono_ms());

		p.fd = pfd[0];
		p.events = POLLIN;
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		n = read(pfd[0], line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(pfd[0]);
	port = strtol(line, NULL, 10);
	if (port <= 0 || port > 65535)
		return -1;
	if ((f = fopen(h->pidfile, "r")) != NULL) {
		if (fscanf(f, "%ld", &filepid) != 1)
			filepid = -1;
		fclose(f);
	}
	if (filepid != h->pid)
		return -1;
	memset(&h->sa, 0, sizeof(h->sa));
	h->sa.sin_family = AF_INET;
	h->sa.sin_port = htons((uint16_t)port);
	h->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return 0;
}

/* ------------------------------------------------- cases and results */

struct res {
	const char		*label;
	int			 done;		/* callbacks seen */
	enum transport_status	 status;
	int			 rcode;
	bool			 aa, tc, tcp, tc_fallback, msg;
	bool			 view;		/* r->view handed */
	bool			 view_ok;	/* it lists the header's RRs,
						   the dict's answers too */
	unsigned		 attempts, bad;
	uint32_t		 latency_ms;
	size_t			 wire_len;
	size_t			 udp_len;
	size_t			 ancount;
	char			 data[128];	/* first A or TXT of the answer */
	char			 error[256];
	unsigned		 order;		/* 1, 2, ...: callback order */
};

static int	 pending;
static unsigned	 callbacks;

static void
first_answer(const getdns_dict *msg, char *out, size_t outlen)
{
	getdns_list	*an = NULL, *txt = NULL;
	getdns_dict	*rr = NULL;
	getdns_bindata	*b = NULL;

	out[0] = '\0';
	if (getdns_dict_get_list(msg, "answer", &an) ||
	    getdns_list_get_dict(an, 0, &rr))
		return;
	if (getdns_dict_get_bindata(rr, "/rdata/ipv4_address", &b) == 0 &&
	    b->size == 4)
		inet_ntop(AF_INET, b->data, out, (socklen_t)outlen);
	else if (getdns_dict_get_list(rr, "/rdata/txt_strings", &txt) == 0 &&
	    getdns_list_get_bindata(txt, 0, &b) == 0)
		snprintf(out, outlen, "%.*s", (int)b->size,
		    (const char *)b->data);
}

static void
record_cb(void *arg, const struct transport_result *r)
{
	struct res	*x = arg;
	getdns_list	*an = NULL;

	x->done++;
	x->order = ++callbacks;
	x->status = r->status;
	x->rcode = r->rcode;
	x->aa = r->aa;
	x->tc = r->tc;
	x->tcp = r->tcp;
	x->tc_fallback = r->tc_fallback;
	x->msg = r->msg != NULL;
	x->attempts = r->attempts;
	x->bad = r->bad_answers;
	x->latency_ms = r->latency_ms;
	x->wire_len = r->wire_len;
	x->udp_len = r->udp_len;
	x->ancount = 0;
	if (r->msg != NULL) {
		first_answer(r->msg, x->data, sizeof(x->data));
		if (getdns_dict_get_list(r->msg, "answer", &an) == 0)
			getdns_list_get_length(an, &x->ancount);
	}
	x->view = r->view != NULL;
	if (r->view != NULL) {
		const uint8_t	*w = r->view->wire;
		unsigned	 i, n_an = 0;

		for (i = 0; i < r->view->n_rr; i++)
			n_an += r->view->rr[i].section == TS_ANSWER;
		x->view_ok = r->view->len == r->wire_len &&
		    r->view->n_rr == (unsigned)(w[6] << 8 | w[7]) +
		    (unsigned)(w[8] << 8 | w[9]) + (unsigned)(w[10] << 8 | w[11])
		    && (r->msg == NULL || n_an == x->ancount);
	}
	snprintf(x->error, sizeof(x->error), "%s", r->error ? r->error : "");
	/* loopbreak, not loopexit: a break outside the loop (cancel_all
	 * calls back from here) is forgotten, an exit would stay armed */
	if (--pending == 0)
		event_base_loopbreak(base);
}


/* Runs the loop until every pending callback came, or max_ms passed. */
static void
run(int max_ms)
{
	if (pending > 0)
		spin(max_ms);
}

static unsigned
stats_inflight(struct transport *t)
{
	struct transport_stats	 st;

	transport_stats(t, &st);
	return st.inflight;
}

static unsigned
stats_servers(struct transport *t)
{
	struct transport_stats	 st;

	transport_stats(t, &st);
	return st.servers;
}

/*
 * Runs the loop in short slices until get(t) == want: waits for the event
 * itself rather than for a guessed time. Gives up after max_ms (a hang).
 */
static bool
spin_until(struct transport *t, unsigned (*get)(struct transport *),
    unsigned want, int max_ms)
{
	uint64_t	 until = mono_ms() + (uint64_t)max_ms;

	while (get(t) != want) {
		if (mono_ms() >= until)
			return false;
		spin(10);
	}
	return true;
}

static int
ask(struct transport *t, const struct sockaddr_in *sa, const char *name,
    uint16_t qtype, struct res *x)
{
	memset(x, 0, sizeof(*x));
	x->label = name;
	if (transport_query(t, (const struct sockaddr *)sa, sizeof(*sa), name,
	    qtype, record_cb, x) == -1)
		return -1;
	pending++;
	return 0;
}

static int
ask_tcp(struct transport *t, const struct sockaddr_in *sa, const char *name,
    uint16_t qtype, struct res *x)
{
	memset(x, 0, sizeof(*x));
	x->label = name;
	if (transport_query_flags(t, (const struct sockaddr *)sa, sizeof(*sa),
	    name, qtype, TRANSPORT_Q_TCP, record_cb, x) == -1)
		return -1;
	pending++;
	return 0;
}

static struct transport *
mk(int timeout, int retries, int tcp_timeout, int deadline, int inflight,
    int qps)
{
	struct transport_opts	 o;

	transport_opts_default(&o);
	o.timeout_ms = timeout;
	o.retries = retries;
	o.tcp_timeout_ms = tcp_timeout;
	o.deadline_ms = deadline;
	if (inflight > 0)
		o.max_inflight = inflight;
	o.per_server_qps = qps;
	return transport_create(base, &o);
}

/* Our TCP connections to sa that sit in TIME_WAIT (state 06, remote
 * address and port = sa's; /proc/net/tcp prints the address as the
 * host-order hex of the network-order word). Address and port both, so
 * that another program's connection to the same port number elsewhere on
 * a busy machine cannot count. */
static int
time_wait_to(const struct sockaddr_in *sa)
{
	FILE	*f = fopen("/proc/net/tcp", "r");
	char	 line[512];
	unsigned raddr, rport, st;
	int	 n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*d: %*x:%*x %x:%x %x", &raddr, &rport,
		    &st) == 3 && raddr == sa->sin_addr.s_addr &&
		    rport == ntohs(sa->sin_port) && st == 6)
			n++;
	fclose(f);
	return n;
}

/* ------------------------------------------------------------ tests */

static void
test_parse_reply(void)
{
	/* ok. A, ID 0x1234, QR AA, one A record */
	uint8_t	 good[] = { 0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,
		2, 'o', 'k', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
	uint8_t	 m[sizeof(good)];
	getdns_dict *d = NULL;
	char	 err[128];

	is_int(transport_parse_reply(good, sizeof(good), "ok.", 1, 0x1234, 0,
	    &d, err, sizeof(err)), TRANSPORT_REPLY_OK, "parse: good answer");
	ok(d != NULL, "parse: dict returned");
	getdns_dict_destroy(d);
	is_int(transport_parse_reply(good, sizeof(good), "OK", 1, 0x1234, 0,
	    &d, err, sizeof(err)), TRANSPORT_REPLY_OK,
	    "parse: question name compared without case");
	getdns_dict_destroy(d);
	is_int(transport_parse_reply(good, sizeof(good), "ok.", 1, 0x1235, 0,
	    &d, err, sizeof(err)), TRANSPORT_REPLY_MISMATCH, "parse: other ID");
	ok(d == NULL, "parse: no dict on mismatch");
	is_int(transport_parse_reply(good, sizeof(good), "ok.", 28, 0x1234, 0,
	    &d, err, sizeof(err)), TRANSPORT_REPLY_MISMATCH, "parse: other type");
	is_int(transport_parse_reply(good, sizeof(good), "ko.", 1, 0x1234, 0,
	    &d, err, sizeof(err)), TRANSPORT_REPLY_MISMATCH, "parse: other name");
	memcpy(m, good, sizeof(m));
	m[2] |= 0x02;
	is_int(transport_parse_reply(m, sizeof(m), "ok.", 1, 0x1234,
	    TRANSPORT_PARSE_UDP, &d, err, sizeof(err)), TRANSPORT_REPLY_TC,
	    "parse: TC over UDP");
	is_int(transport_parse_reply(m, sizeof(m), "ok.", 1, 0x1234, 0, &d,
	    err, sizeof(err)), TRANSPORT_REPLY_OK, "parse: TC over TCP parses");
	getdns_dict_destroy(d);
	memcpy(m, good, sizeof(m));
	m[2] = 0x04;	/* QR=0 */
	is_int(transport_parse_reply(m, sizeof(m), "ok.", 1, 0x1234, 0, &d,
	    err, sizeof(err)), TRANSPORT_REPLY_MISMATCH, "parse: QR=0");
	memcpy(m, good, sizeof(m));
	m[2] = 0x84 | (5 << 3);	/* opcode UPDATE */
	is_int(transport_parse_reply(m, sizeof(m), "ok.", 1, 0x1234, 0, &d,
	    err, sizeof(err)), TRANSPORT_REPLY_MISMATCH, "parse: opcode");
	memcpy(m, good, sizeof(m));
	m[21] = 20;	/* owner pointer to itself */
	is_int(transport_parse_reply(m, sizeof(m), "ok.", 1, 0x1234, 0, &d,
	    err, sizeof(err)), TRANSPORT_REPLY_MALFORMED,
	    "parse: self-pointing owner (%s)", err);
	memcpy(m, good, sizeof(m));
	m[7] = 2;	/* ANCOUNT 2, one present */
	is_int(transport_parse_reply(m, sizeof(m), "ok.", 1, 0x1234, 0, &d,
	    err, sizeof(err)), TRANSPORT_REPLY_MALFORMED,
	    "parse: missing RR (%s)", err);
	is_int(transport_parse_reply(good, sizeof(good) - 1, "ok.", 1, 0x1234,
	    0, &d, err, sizeof(err)), TRANSPORT_REPLY_MALFORMED,
	    "parse: rdata cut (%s)", err);
	is_int(transport_parse_reply(good, 5, "ok.", 1, 0x1234, 0, &d, err,
	    sizeof(err)), TRANSPORT_REPLY_MISMATCH, "parse: 5 bytes");

	{
		/* IPSECKEY, gateway type 3 given as a compression pointer:
		 * getdns 1.6.0 reads past the message on this one */
		uint8_t	 ipsec[] = { 0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0,
			0, 0, 2, 'o', 'k', 0, 0, 1, 0, 1,
			0xc0, 12, 0, 45, 0, 1, 0, 0, 0, 60, 0, 10,
			10, 3, 2, 0xc0, 12, 1, 3, 1, 0, 1 };

		is_int(transport_parse_reply(ipsec, sizeof(ipsec), "ok.", 1,
		    0x1234, 0, &d, err, sizeof(err)),
		    TRANSPORT_REPLY_MALFORMED,
		    "parse: compressed IPSECKEY gateway refused (%s)", err);
		/* the same gateway written out is fine */
		ipsec[35] = 2;
		ipsec[36] = 'o';
		ipsec[37] = 'k';
		ipsec[38] = 0;
		is_int(transport_parse_reply(ipsec, sizeof(ipsec), "ok.", 1,
		    0x1234, 0, &d, err, sizeof(err)), TRANSPORT_REPLY_OK,
		    "parse: plain IPSECKEY gateway accepted (%s)", err);
		getdns_dict_destroy(d);
	}
}

static void
test_api(int fd0)
{
	struct transport	*t = mk(300, 0, 1000, 0, 1, 0);
	struct transport_stats	 st;
	struct sockaddr_un	 bogus;
	struct res		 x[12];
	int			 i, accepted = 0;
	struct transport_opts	 o;

	ok(t != NULL, "api: create");
	transport_opts_default(&o);
	o.timeout_ms = 0;
	ok(transport_create(base, &o) == NULL, "api: timeout 0 refused");
	transport_destroy(NULL);	/* a crash here fails the whole binary */

	memset(&bogus, 0, sizeof(bogus));
	bogus.sun_family = AF_UNIX;
	is_int(transport_query(t, (struct sockaddr *)&bogus, sizeof(bogus),
	    "ok.", 1, record_cb, &x[0]), -1, "api: AF_UNIX refused");
	is_int(transport_query(t, (struct sockaddr *)&servers[0].sa,
	    sizeof(servers[0].sa), "a..b", 1, record_cb, &x[0]), -1,
	    "api: bad name refused");

	/* never a callback from inside transport_query */
	ask(t, &servers[0].sa, "ok.", 1, &x[0]);
	is_int(x[0].done, 0, "api: no callback before the loop runs");
	run(5000);
	is_int(x[0].done, 1, "api: one callback");
	is_int(x[0].status, TRANSPORT_OK, "api: answered");
	transport_destroy(t);

	/* the queue bound */
	transport_opts_default(&o);
	o.max_inflight = 1;
	o.max_queued = 10;
	t = transport_create(base, &o);
	for (i = 0; i < 12; i++)
		if (ask(t, &servers[0].sa, "silent.", 1, &x[i]) == 0)
			accepted++;
	is_int(accepted, 10, "api: max_queued 10 accepts 10");
	transport_stats(t, &st);
	is_int(st.rejected, 2, "api: 2 rejected counted");
	is_int(st.queued, 10, "api: 10 queued");

	/* cancel_all: every callback, CANCELLED */
	transport_cancel_all(t);
	is_int(pending, 0, "api: cancel_all called all callbacks");
	for (i = 0; i < 10; i++)
		if (x[i].status != TRANSPORT_CANCELLED || x[i].done != 1)
			break;
	is_int(i, 10, "api: all CANCELLED exactly once");
	transport_destroy(t);

	/* destroy with queries on the wire: no callbacks, no fds left */
	t = mk(5000, 0, 1000, 0, 0, 0);
	for (i = 0; i < 10; i++)
		ask(t, &servers[0].sa, "silent.", 1, &x[i]);
	i = spin_until(t, stats_inflight, 10, HANG_MS);
	ok(i, "api: 10 in flight before destroy (%u)", stats_inflight(t));
	/* UDP sockets are pooled: between 1 and 10 for 10 questions */
	ok(count_fds() > fd0 && count_fds() <= fd0 + 10,
	    "api: they hold pooled sockets (%d)", count_fds() - fd0);
	transport_destroy(t);
	for (i = 0; i < 10; i++)
		if (x[i].done != 0)
			break;
	is_int(i, 10, "api: destroy made no callbacks");
	pending = 0;
	is_int(count_fds(), fd0, "api: destroy closed every socket");
}

struct chain {
	struct transport	*t;
	int			 left;
	int			 oks;
};

static void
chain_cb(void *arg, const struct transport_result *r)
{
	struct chain	*c = arg;

	if (r->status == TRANSPORT_OK)
		c->oks++;
	if (--c->left > 0) {
		if (transport_query(c->t, (struct sockaddr *)&servers[0].sa,
		    sizeof(servers[0].sa), "ok.", 1, chain_cb, c) == 0)
			return;
	}
	if (--pending == 0)
		event_base_loopbreak(base);
}

static void
test_chain(void)
{
	struct chain	 c;

	c.t = mk(1000, 1, 2000, 0, 0, 0);
	c.left = 5;
	c.oks = 0;
	transport_query(c.t, (struct sockaddr *)&servers[0].sa,
	    sizeof(servers[0].sa), "ok.", 1, chain_cb, &c);
	pending = 1;
	run(10000);
	is_int(c.oks, 5, "chain: queries issued from callbacks all answered");
	transport_destroy(c.t);
}

/*
 * All the scripted cases at once, on four transports with different
 * timing, so the slow ones overlap.
 */
static void
test_hostile(void)
{
	struct transport	*ta = mk(400, 1, 1500, 0, 0, 0);
	struct transport	*tb = mk(1000, 0, 10000, 0, 0, 0);
	struct transport	*tc = mk(2000, 0, 2000, 0, 0, 0);
	struct transport	*td = mk(500, 2, 2000, 0, 0, 0);
	/* te: without the 1000 ms deadline its second attempt would run
	 * to 600 + 1200 ms, later than silent.'s end on ta (400 + 800) */
	struct transport	*te = mk(600, 5, 2000, 1000, 0, 0);
	/* tf: ta's timing for the two cases that close or stall a TCP
	 * connection: on ta's shared one they would have the other TCP
	 * cases sent again (test_transport_tcp.c tests that) */
	struct transport	*tf = mk(400, 1, 1500, 0, 0, 0);
	struct transport_stats	 st, stf;
	const struct sockaddr_in *sa = &servers[0].sa;
	struct sockaddr_in	 closed;
	struct res		 ok_, flags, tcpfirst, refused, tc_, big, wrongid, qr0,
				 qd0, wrongq, fwdptr, fwdptrin, ptrloop,
				 longname, trunc, silent, garbage, tcpclose,
				 tcpbad, tcpslow, tcpslow2, otherport, slow_a,
				 slow_c, slow_d, dl, signed_, nxd, icmp,
				 mixcase, tcponly, tcprefused;
	int			 fd;
	socklen_t		 sl = sizeof(closed);
	uint64_t		 t0;

	/* a port with nobody behind it: bind, learn, close */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&closed, 0, sizeof(closed));
	closed.sin_family = AF_INET;
	closed.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&closed, sizeof(closed));
	getsockname(fd, (struct sockaddr *)&closed, &sl);
	close(fd);

	t0 = mono_ms();
	ask(ta, sa, "ok.", GETDNS_RRTYPE_A, &ok_);
	ask(ta, sa, "flags.", GETDNS_RRTYPE_TXT, &flags);
	/* TCP only, as the server sees it */
	ask_tcp(ta, sa, "flags.", GETDNS_RRTYPE_TXT, &tcpfirst);
	ask(ta, sa, "refused.", GETDNS_RRTYPE_A, &refused);
	ask(ta, sa, "tc.", GETDNS_RRTYPE_A, &tc_);
	ask(ta, sa, "big.", GETDNS_RRTYPE_TXT, &big);
	ask(ta, sa, "wrongid.", GETDNS_RRTYPE_A, &wrongid);
	ask(ta, sa, "qr0.", GETDNS_RRTYPE_A, &qr0);
	ask(ta, sa, "qd0.", GETDNS_RRTYPE_A, &qd0);
	ask(ta, sa, "wrongq.", GETDNS_RRTYPE_A, &wrongq);
	ask(ta, sa, "fwdptr.", GETDNS_RRTYPE_A, &fwdptr);
	ask(ta, sa, "fwdptrin.", GETDNS_RRTYPE_A, &fwdptrin);
	ask(ta, sa, "ptrloop.", GETDNS_RRTYPE_A, &ptrloop);
	ask(ta, sa, "longname.", GETDNS_RRTYPE_A, &longname);
	ask(ta, sa, "trunc.", GETDNS_RRTYPE_A, &trunc);
	ask(ta, sa, "silent.", GETDNS_RRTYPE_A, &silent);
	ask(ta, sa, "garbage.", GETDNS_RRTYPE_A, &garbage);
	ask(tf, sa, "tcpclose.", GETDNS_RRTYPE_A, &tcpclose);
	ask(ta, sa, "tcpbad.", GETDNS_RRTYPE_A, &tcpbad);
	ask(tf, sa, "tcpslow.", GETDNS_RRTYPE_A, &tcpslow);
	ask(tb, sa, "tcpslow.", GETDNS_RRTYPE_A, &tcpslow2);
	ask(ta, sa, "otherport.", GETDNS_RRTYPE_A, &otherport);
	ask(ta, sa, "slow.", GETDNS_RRTYPE_A, &slow_a);
	ask(tc, sa, "slow.", GETDNS_RRTYPE_A, &slow_c);
	ask(td, sa, "slow.", GETDNS_RRTYPE_A, &slow_d);
	ask(te, sa, "silent.", GETDNS_RRTYPE_A, &dl);
	ask(ta, sa, "signed.", GETDNS_RRTYPE_DNSKEY, &signed_);
	ask(ta, sa, "nxdomain.", GETDNS_RRTYPE_A, &nxd);
	ask(ta, &closed, "ok.", GETDNS_RRTYPE_A, &icmp);
	ask(ta, sa, "mixcase.", GETDNS_RRTYPE_A, &mixcase);
	ask_tcp(ta, sa, "ok.", GETDNS_RRTYPE_A, &tcponly);
	ask_tcp(ta, &closed, "ok.", GETDNS_RRTYPE_A, &tcprefused);
	run(HANG_MS);
	is_int(pending, 0, "hostile: every query ended, none hung (%llu ms)",
	    (unsigned long long)(mono_ms() - t0));

	is_int(ok_.status, TRANSPORT_OK, "ok.: OK");
	is_int(ok_.rcode, 0, "ok.: NOERROR");
	ok(ok_.aa && !ok_.tcp && !ok_.tc_fallback, "ok.: AA over UDP");
	is_str(ok_.data, "192.0.2.1", "ok.: the A record");
	is_int(ok_.attempts, 1, "ok.: one packet");
	is_str(flags.data, "rd=0 do=1 bufsize=1232 qdcount=1 arcount=1 udp=1",
	    "flags.: RD=0, DO=1, EDNS 1232, one question, OPT");
	is_str(tcpfirst.data, "rd=0 do=1 bufsize=1232 qdcount=1 arcount=1 udp=0",
	    "TCP only: the server saw the query over TCP (udp=0)");
	is_int(refused.status, TRANSPORT_OK, "refused.: an answer");
	is_int(refused.rcode, 5, "refused.: rcode REFUSED");

	is_int(tc_.status, TRANSPORT_OK, "tc.: OK");
	ok(tc_.tc_fallback && tc_.tcp, "tc.: fell back to TCP");
	is_str(tc_.data, "192.0.2.1", "tc.: full answer over TCP");
	is_int(tc_.attempts, 2, "tc.: one UDP + one TCP");
	ok(tc_.udp_len >= 12 && tc_.udp_len < tc_.wire_len,
	    "tc.: udp_len is the truncated UDP answer (%zu of %zu B)",
	    tc_.udp_len, tc_.wire_len);
	is_int(ok_.udp_len, ok_.wire_len, "ok.: udp_len is the answer's size");
	is_int(tcponly.status, TRANSPORT_OK, "TCP only: OK");
	ok(tcponly.tcp && !tcponly.tc_fallback && tcponly.attempts == 1 &&
	    tcponly.udp_len == 0, "TCP only: one TCP query, no UDP (tcp %d, "
	    "attempts %u, udp_len %zu)", tcponly.tcp, tcponly.attempts,
	    tcponly.udp_len);
	is_str(tcponly.data, "192.0.2.1", "TCP only: the A record");
	is_int(time_wait_to(sa), 0, "TCP: no connection of "
	    "ours left in TIME_WAIT (closed with a reset)");
	is_int(tcprefused.status, TRANSPORT_NETERR, "TCP only, nobody "
	    "listening: NETERR (%s)", tcprefused.error);
	ok(strstr(tcprefused.error, "TCP") != NULL, "TCP only, nobody "
	    "listening: the error says TCP (%s)", tcprefused.error);
	is_int(big.status, TRANSPORT_OK, "big.: OK");
	ok(big.tcp && big.wire_len >= 3900 && big.ancount >= 18,
	    "big.: %zu bytes, %zu RRs over TCP", big.wire_len, big.ancount);

	is_int(wrongid.status, TRANSPORT_TIMEOUT, "wrongid.: TIMEOUT");
	is_int(wrongid.bad, 2, "wrongid.: both wrong-ID answers rejected");
	ok(strstr(wrongid.error, "ID") != NULL, "wrongid.: said why (%s)",
	    wrongid.error);
	is_int(qr0.status, TRANSPORT_TIMEOUT, "qr0.: TIMEOUT");
	ok(qr0.bad >= 1, "qr0.: QR=0 answer rejected (%s)", qr0.error);
	is_int(qd0.status, TRANSPORT_TIMEOUT, "qd0.: TIMEOUT");
	ok(qd0.bad >= 1, "qd0.: QDCOUNT=0 answer rejected (%s)", qd0.error);
	is_int(wrongq.status, TRANSPORT_TIMEOUT, "wrongq.: TIMEOUT");
	ok(wrongq.bad >= 1, "wrongq.: other question rejected (%s)",
	    wrongq.error);
	is_int(mixcase.status, TRANSPORT_OK,
	    "mixcase.: question in other case accepted");

	is_int(fwdptr.status, TRANSPORT_MALFORMED, "fwdptr.: MALFORMED (%s)",
	    fwdptr.error);
	is_int(fwdptrin.status, TRANSPORT_MALFORMED,
	    "fwdptrin.: MALFORMED (%s)", fwdptrin.error);
	is_int(ptrloop.status, TRANSPORT_MALFORMED, "ptrloop.: MALFORMED (%s)",
	    ptrloop.error);
	is_int(longname.status, TRANSPORT_MALFORMED,
	    "longname.: MALFORMED (%s)", longname.error);
	is_int(trunc.status, TRANSPORT_MALFORMED, "trunc.: MALFORMED (%s)",
	    trunc.error);
	ok(fwdptr.wire_len > 0 && !fwdptr.msg, "fwdptr.: wire kept, no dict");
	ok(garbage.status == TRANSPORT_TIMEOUT ||
	    garbage.status == TRANSPORT_MALFORMED, "garbage.: %s",
	    transport_status_str(garbage.status));
	ok(garbage.bad >= 1, "garbage.: %u datagrams rejected", garbage.bad);

	is_int(silent.status, TRANSPORT_TIMEOUT, "silent.: TIMEOUT");
	is_int(silent.attempts, 2, "silent.: 1 + 1 retry");
	is_int(silent.bad, 0, "silent.: nothing seen");
	ok(silent.latency_ms >= 1150,
	    "silent.: waited out 400 + 800 ms backoff (%u ms)",
	    silent.latency_ms);
	is_int(otherport.status, TRANSPORT_TIMEOUT,
	    "otherport.: answer from another port ignored");

	is_int(tcpclose.status, TRANSPORT_NETERR, "tcpclose.: NETERR (%s)",
	    tcpclose.error);
	ok(tcpclose.tc_fallback, "tcpclose.: after TC");
	is_int(tcpbad.status, TRANSPORT_MALFORMED,
	    "tcpbad.: wrong ID over TCP is MALFORMED");
	is_int(tcpslow.status, TRANSPORT_TIMEOUT,
	    "tcpslow.: dribbling server times out (%s)", tcpslow.error);
	ok(tcpslow.latency_ms >= 1400,
	    "tcpslow.: not before the 1500 ms TCP limit (%u ms)",
	    tcpslow.latency_ms);
	is_int(tcpslow2.status, TRANSPORT_OK,
	    "tcpslow.: reassembled from 1-byte reads with a long limit");
	ok(tcpslow.order < tcpslow2.order,
	    "tcpslow.: the 1500 ms limit gave up before the dribble ended "
	    "(callback %u, the complete answer's %u)", tcpslow.order,
	    tcpslow2.order);

	is_int(slow_a.status, TRANSPORT_TIMEOUT,
	    "slow.: 400+800 ms attempts miss a 1.5 s answer");
	is_int(slow_c.status, TRANSPORT_OK, "slow.: 2 s timeout gets it");
	ok(slow_c.latency_ms >= 1400,
	    "slow.: the 1.5 s answer, latency %u ms", slow_c.latency_ms);
	is_int(slow_c.attempts, 1, "slow.: 2 s timeout: one attempt");
	is_int(slow_d.status, TRANSPORT_OK,
	    "slow.: backoff 500/1000/2000 reaches it");
	is_int(slow_d.attempts, 3, "slow.: on the third attempt");
	ok(slow_d.latency_ms >= 2900,
	    "slow.: answered 1.5 s after the attempt at 1.5 s (%u ms)",
	    slow_d.latency_ms);
	is_int(dl.status, TRANSPORT_TIMEOUT, "deadline: TIMEOUT");
	ok(strstr(dl.error, "(deadline)") != NULL, "deadline: says so (%s)",
	    dl.error);
	/* 2 attempts (600, then 1200 cut at 1000 ms), or 3 when the timer
	 * wakes a millisecond before the deadline and resends once more */
	ok(dl.attempts >= 2 && dl.attempts < 1 + 5,
	    "deadline: ended the retries before retries 5 ran out (%u "
	    "attempts)", dl.attempts);
	ok(dl.latency_ms >= 950, "deadline: not before 1000 ms (%u ms)",
	    dl.latency_ms);
	ok(dl.order < silent.order, "deadline: cut the second attempt short "
	    "(callback %u, before silent.'s %u at 400 + 800 ms)", dl.order,
	    silent.order);

	is_int(signed_.status, TRANSPORT_OK, "signed.: DNSKEY+RRSIG+NS parse");
	is_int(signed_.ancount, 3, "signed.: 3 answer RRs");
	ok(signed_.view && signed_.view_ok, "signed.: the walk's view lists "
	    "every RR of the three sections, the same answers as getdns");
	ok(nxd.view && nxd.view_ok, "nxdomain.: the view lists every RR");
	ok(big.view && big.view_ok, "big.: the view of the TCP answer");
	ok(!icmp.view && !wrongid.view, "no view without an answer");
	is_int(nxd.status, TRANSPORT_OK, "nxdomain.: SOA/NSEC3/NSEC parse");
	is_int(nxd.rcode, 3, "nxdomain.: rcode NXDOMAIN");
	is_int(icmp.status, TRANSPORT_NETERR,
	    "closed port: NETERR from ICMP (%s)", icmp.error);
	is_int(icmp.attempts, 1,
	    "closed port: given up on the ICMP error, no timeout and retry");

	transport_stats(ta, &st);
	transport_stats(tf, &stf);
	ok(st.bad_answers >= 5, "stats: %llu bad answers counted",
	    (unsigned long long)st.bad_answers);
	ok(st.tc_fallbacks + stf.tc_fallbacks >= 5 && st.tcp_sent >= 5,
	    "stats: %llu TC fallbacks", (unsigned long long)(st.tc_fallbacks +
	    stf.tc_fallbacks));
	is_int(st.completed, st.queries, "stats: completed == queries");
	is_int(st.inflight + st.queued, 0, "stats: nothing left");
	transport_destroy(ta);
	transport_destroy(tb);
	transport_destroy(tc);
	transport_destroy(td);
	transport_destroy(te);
	transport_destroy(tf);
}

/*
 * A silent address: after 8 UDP questions in a row with no answer at all,
 * each question to it is sent once (transport.c, SILENT_AFTER), until it
 * answers anything.
 */
static void
test_silent(void)
{
	struct transport	*t = mk(100, 2, 1000, 0, 0, 0);
	struct transport_stats	 st;
	const struct sockaddr_in *sa = &servers[0].sa;
	struct res		 x[11];
	int			 i, full = 0;

	if (!ok(t != NULL, "silent: transport"))
		return;
	for (i = 0; i < 8; i++)
		ask(t, sa, "silent.", GETDNS_RRTYPE_A, &x[i]);
	run(HANG_MS);
	for (i = 0; i < 8; i++)
		full += x[i].done == 1 && x[i].status == TRANSPORT_TIMEOUT &&
		    x[i].attempts == 3;
	is_int(full, 8, "silent: the first 8 unanswered questions each sent "
	    "3 times (1 + 2 re-sends)");

	ask(t, sa, "silent.", GETDNS_RRTYPE_A, &x[8]);
	run(HANG_MS);
	is_int(x[8].status, TRANSPORT_TIMEOUT, "silent: the 9th: TIMEOUT");
	is_int(x[8].attempts, 1, "silent: ... sent once");
	ok(x[8].latency_ms >= 100, "silent: ... after waiting its first "
	    "timeout (%u ms)", x[8].latency_ms);
	ok(strstr(x[8].error, "not sent again") != NULL &&
	    strstr(x[8].error, "last 8 questions") != NULL,
	    "silent: ... and says why (%s)", x[8].error);
	transport_stats(t, &st);
	is_int((int)st.silent_cut, 1, "silent: counted in silent_cut");
	is_int((int)st.silent_now, 1, "silent: one address silent now");
	is_int((int)st.retries, 16, "silent: 16 re-sends in all");

	/* Any answer ends it: the next unanswered question has its re-sends
	 * again. */
	ask(t, sa, "ok.", GETDNS_RRTYPE_A, &x[9]);
	run(HANG_MS);
	is_int(x[9].status, TRANSPORT_OK, "silent: the address answers");
	transport_stats(t, &st);
	is_int((int)st.silent_now, 0, "silent: ... and is silent no more");
	ask(t, sa, "silent.", GETDNS_RRTYPE_A, &x[10]);
	run(HANG_MS);
	is_int(x[10].attempts, 3, "silent: after an answer, an unanswered "
	    "question is sent 3 times again");
	transport_destroy(t);
}

static void
test_rate(void)
{
	struct transport	*t = mk(2000, 2, 2000, 0, 0, 100);
	struct transport_stats	 st;
	struct res		*x = calloc(400, sizeof(*x));
	char			 name[32];
	uint64_t		 t0, el;
	int			 i, oks = 0;

	t0 = mono_ms();
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "r%d.ok.", i);
		ask(t, &servers[0].sa, name, 1, &x[i]);
	}
	run(HANG_MS);
	el = mono_ms() - t0;
	for (i = 0; i < 200; i++)
		oks += x[i].status == TRANSPORT_OK && x[i].done == 1;
	is_int(oks, 200, "rate: 200 answered");
	ok(el >= 1750,
	    "rate: 200 queries at 100 qps (burst 10) waited for tokens "
	    "(%llu ms >= 1750)", (unsigned long long)el);
	transport_stats(t, &st);
	ok(st.rate_delayed > 0, "rate: waits counted (%llu)",
	    (unsigned long long)st.rate_delayed);

	/* two servers are two buckets */
	t0 = mono_ms();
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "s%d.ok.", i);
		ask(t, &servers[i % 2].sa, name, 1, &x[200 + i]);
	}
	/* each entry of the server table has its own token bucket */
	is_int(stats_servers(t), 2, "rate: two servers are two buckets");
	run(HANG_MS);
	el = mono_ms() - t0;
	oks = 0;
	for (i = 200; i < 400; i++)
		oks += x[i].status == TRANSPORT_OK;
	is_int(oks, 200, "rate: 2 x 100 answered");
	ok(el >= 800,
	    "rate: 100 + 100 to two servers still waited for tokens "
	    "(%llu ms >= 800)", (unsigned long long)el);
	ok(spin_until(t, stats_servers, 0, HANG_MS),
	    "rate: idle servers forgotten once refilled");
	transport_destroy(t);
	free(x);
}

static void
test_inflight(void)
{
	struct transport	*t = mk(2000, 0, 2000, 0, 25, 0);
	struct transport_stats	 st;
	struct res		*x = calloc(102, sizeof(*x));
	char			 name[32];
	uint64_t		 t0, el;
	long			 held;
	int			 i, oks = 0;

	ask(t, &servers[0].sa, "resethold.", 1, &x[0]);
	run(5000);
	t0 = mono_ms();
	for (i = 1; i <= 100; i++) {
		snprintf(name, sizeof(name), "h%d.hold.", i);
		ask(t, &servers[0].sa, name, 1, &x[i]);
	}
	run(HANG_MS);
	el = mono_ms() - t0;
	for (i = 1; i <= 100; i++)
		oks += x[i].status == TRANSPORT_OK;
	is_int(oks, 100, "inflight: 100 held queries answered");
	ok(el >= 1150, "inflight: 4 rounds of 300 ms (%llu ms)",
	    (unsigned long long)el);
	transport_stats(t, &st);
	is_int(st.inflight_max, 25, "inflight: transport high-water is 25");
	ask(t, &servers[0].sa, "maxhold.", GETDNS_RRTYPE_TXT, &x[101]);
	run(5000);
	held = strtol(x[101].data, NULL, 10);
	ok(x[101].status == TRANSPORT_OK && held <= 25 && held >= 20,
	    "inflight: server saw at most 25 outstanding (%s)", x[101].data);
	transport_destroy(t);
	free(x);
}

/* A soft fd limit under what max_inflight needs is raised where the hard
 * one allows (systemd's default soft limit is 1024). */
static void
test_rlimit(void)
{
	struct transport_opts	 o;
	struct transport	*t;
	struct rlimit		 saved, low, now;

	bool			 room;

	if (!ok(getrlimit(RLIMIT_NOFILE, &saved) == 0, "rlimit: read"))
		return;
	/* 2000 + 64 + 4 x 125 pool sockets: raised only if the hard limit
	 * has room for all of it, else left alone (max_inflight shrinks) */
	room = saved.rlim_max == RLIM_INFINITY || saved.rlim_max >= 2564;
	low = saved;
	low.rlim_cur = 256;
	setrlimit(RLIMIT_NOFILE, &low);
	transport_opts_default(&o);
	o.max_inflight = 2000;
	t = transport_create(base, &o);
	getrlimit(RLIMIT_NOFILE, &now);
	ok(t != NULL && (room ? now.rlim_cur >= 2564 : now.rlim_cur == 256),
	    "rlimit: soft limit 256 %s %llu for max_inflight 2000 (hard %llu)",
	    room ? "raised to" : "kept at", (unsigned long long)now.rlim_cur,
	    (unsigned long long)saved.rlim_max);
	transport_destroy(t);
	setrlimit(RLIMIT_NOFILE, &saved);
}

/* no_dict: the view only, unless the query asks for the dict. */
static void
test_no_dict(void)
{
	struct transport_opts	 o;
	struct transport	*t;
	struct res		 x[2];

	transport_opts_default(&o);
	o.no_dict = true;
	t = transport_create(base, &o);
	ask(t, &servers[0].sa, "signed.", GETDNS_RRTYPE_DNSKEY, &x[0]);
	memset(&x[1], 0, sizeof(x[1]));
	if (transport_query_flags(t, (const struct sockaddr *)&servers[0].sa,
	    sizeof(servers[0].sa), "signed.", GETDNS_RRTYPE_DNSKEY,
	    TRANSPORT_Q_DICT, record_cb, &x[1]) == 0)
		pending++;
	run(5000);
	ok(x[0].status == TRANSPORT_OK && !x[0].msg && x[0].view &&
	    x[0].view_ok, "no_dict: the view, no getdns dict");
	ok(x[1].status == TRANSPORT_OK && x[1].msg && x[1].view_ok &&
	    x[1].ancount == 3, "no_dict: TRANSPORT_Q_DICT still gets the dict");
	transport_destroy(t);
}

static void
test_throughput(int fd0)
{
	struct transport	*t = mk(1000, 2, 2000, 0, 500, 0);
	struct transport_stats	 st;
	struct res		*x = calloc(5000, sizeof(*x));
	char			 name[32];
	uint64_t		 t0, el;
	int			 i, oks = 0;

	t0 = mono_ms();
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "t%d.ok.", i);
		ask(t, &servers[i % 2].sa, name, 1, &x[i]);
	}
	run(60000);
	el = mono_ms() - t0;
	for (i = 0; i < 5000; i++)
		oks += x[i].status == TRANSPORT_OK;
	is_int(oks, 5000, "throughput: 5000 queries answered");
	tap_diag("throughput: 5000 queries in %llu ms, %.0f/s (two python "
	    "servers are the bottleneck)", (unsigned long long)el,
	    el ? 5000.0 * 1000 / (double)el : 0.0);
	/*
	 * max_inflight 500: a pool of 500 / 16 = 31 sockets a family. The
	 * questions share them (not one socket each), and sockets are
	 * rotated for fresh ports (more opened than the pool holds); the
	 * retired ones are closed once their answers are in.
	 */
	transport_stats(t, &st);
	ok(st.udp_sockets > 31 && st.udp_sockets <= 500,
	    "pool: %llu UDP packets went out on %llu sockets",
	    (unsigned long long)st.udp_sent,
	    (unsigned long long)st.udp_sockets);
	ok(count_fds() > fd0 && count_fds() <= fd0 + 31,
	    "pool: %d sockets open when idle, at most the pool",
	    count_fds() - fd0);
	transport_destroy(t);
	free(x);
}

int
main(void)
{
	const char	*script;
	int		 fd0, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	test_parse_reply();

	if ((script = find_script()) == NULL) {
		ok(0, "hostile_dns.py found");
		return tap_done();
	}
	atexit(stop_servers);
	for (i = 0; i < MAX_SERVERS; i++) {
		int	 rc;

		nservers = i + 1;
		rc = start_server(&servers[i], script);
		if (!ok(rc == 0, "hostile server %d started (pid %d, port %d)", i,
		    (int)servers[i].pid, ntohs(servers[i].sa.sin_port)))
			return tap_done();
	}
	base = event_base_new();
	guard = evtimer_new(base, guard_cb, NULL);
	fd0 = count_fds();

	test_api(fd0);
	is_int(count_fds(), fd0, "fds: none left after api tests");
	test_chain();
	test_hostile();
	is_int(count_fds(), fd0, "fds: none left after hostile cases");
	test_silent();
	is_int(count_fds(), fd0, "fds: none left after the silent address");
	test_rate();
	test_inflight();
	test_no_dict();
	test_rlimit();
	test_throughput(fd0);
	is_int(count_fds(), fd0, "fds: none left at the end");

	event_free(guard);
	event_base_free(base);
	stop_servers();
	return tap_done();
}
