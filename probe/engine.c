/*
 * The probe engine: many domains in flight on the caller's libevent loop.
 *
 * For each domain:
 *   1. walk down from the root to the parent zone, one label at a time
 *      (QNAME minimisation); every step below the parent ("is lab. a zone
 *      cut, and where are its servers?") is shared by every domain in
 *      flight through a small cache, so 10,000 siblings cost one walk;
 *   2. ask one parent server "DOMAIN NS" with DO=1: the referral carries
 *      the NS set, glue and the DS RRset with its TTL (RFC 4035 3.1.4);
 *      when it matters (no history, a rotation open, or a DS set that
 *      differs from the last check's), ask every other address of the
 *      parent "DOMAIN DS" too: anycast parent servers do not update at
 *      the same moment, and one that lags still hands out the old DS;
 *   3. ask every address of every child server for DNSKEY, CDS, CDNSKEY
 *      and SOA (four questions, each RRset needed from each server),
 *      and, with PROBE_START_TCP, DNSKEY once more over TCP only (a
 *      fifth): registries' CDS scanners use TCP only, and a DNSKEY RRset
 *      in a KSK rotation outgrows 1232-byte UDP, so a server that fails
 *      over TCP must be seen before it matters. IPv6 addresses are asked
 *      when this host has a route to them (see addr_usable());
 *   4. meanwhile, validate in-process with libunbound and ask each
 *      configured validating resolver through getdns;
 *   5. only when the parent has no DS: ask libunbound for the RFC 9615
 *      bootstrap signal under each distinct NS name (one CDS question
 *      per name; nothing for a domain that has a DS).
 * Then the caller's callback gets the observation; probe_classify()
 * judges it.
 *
 * libunbound resolves and validates in threads of its own (ub_ctx_async,
 * UB_THREADS contexts, a check's questions all to one of them); our loop
 * only watches each ub_fd() and runs the callbacks (ub_process), so
 * every callback still runs on the caller's loop. Measured with `make
 * bench` (10,000 zones, 2 cores, perf): on the loop (ub_ctx_create_event)
 * libunbound took ~40% of the loop thread's CPU, most of it ECDSA
 * verification (nettle, 4 per domain). In its own thread, paired runs:
 * cycle 8.2-8.6 s instead of 8.7-9.4 s, peak RSS 73-77 MB instead of
 * 87 MB (tests/bench/README.md).
 */
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>
#include <getdns/getdns_ext_libevent.h>
#include <unbound.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/dsmatch.h"
#include "common/log.h"
#include "probe/answer.h"
#include "probe/denial.h"
#include "probe/offload.h"
#include "probe/probe.h"
#include "probe/roots.h"
#include "probe/sigcheck.h"
#include "probe/transport.h"

#define T_A		1
#define T_NS		2
#define T_SOA		6
#define T_AAAA		28
#define T_DS		43
#define T_DNSKEY	48
#define T_CDS		59
#define T_CDNSKEY	60
/* The type asked at the apex for a NODATA proof: NULL (RFC 1035) is
 * experimental and never published at a real apex, yet every server
 * answers it like any type it does not hold. */
#define T_DENIAL	10

#define CUT_MAX_ADDRS	PROBE_MAX_PARENTS	/* a TLD has up to 26 */
#define NS_MAX_ADDRS	8
#define HASH_SIZE	4096
#define STEP_TTL	3600	/* a shared answer is reused this long
				   (probe_config.cache_ttl_s: 0) */
#define MAX_ATTEMPTS	3	/* parent servers tried per step */
#define RQ_RESEND_JITTER_MS 50	/* a resolver question's re-send waits
				   1 to this many ms (rq_resend_later) */
/* libunbound contexts, each with its thread: validation is most of the
 * daemon's CPU (ECDSA P-256 in nettle), and one thread on a 2-core
 * machine left the second core to the loop alone; tests/bench/README.md
 * has the numbers. Each has its own cache: what is above the domains
 * (the root, the TLD's keys) is fetched and verified once per context. */
#define UB_THREADS	2

struct addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	void			(*fn)(void *);
	void			*arg;
};
TAILQ_HEAD(waiters, waiter);

/* Is NAME a zone cut, and where are its servers? Shared by all domains. */
enum step_state { STEP_PENDING, STEP_CUT, STEP_NOT_CUT, STEP_NXDOMAIN,
	STEP_FAILED };

struct step {
	struct step		*hnext;
	struct probe_engine	*e;
	char			 name[PROBE_NAME_MAX];
	enum step_state		 state;
	time_t			 expires;
	char			 error[200];
	struct addr		 addrs[CUT_MAX_ADDRS];	/* STEP_CUT */
	unsigned		 n_addrs, rr;
	bool			 signed_zone;	/* its delegation had a DS (the
						   root: always) */
	unsigned		 addrs_dropped;		/* did not fit */
	struct waiters		 waiters;
	/* while pending */
	struct step		*at;		/* the cut asked */
	unsigned		 first;		/* at's address tried first */
	bool			 lame;		/* a server answered, but not
						   with authority */
	unsigned		 attempt;
	unsigned		 lookups;	/* NS address lookups open */
	/* Expired: out of the table, freed once no job that may hold it is
	 * active (see cache_retire). */
	struct step		*gnext;
	uint64_t		 retired;
};

/* Addresses of a name server name, resolved through libunbound. */
struct nsaddr {
	struct nsaddr		*hnext;
	char			 name[PROBE_NAME_MAX];
	bool			 done;
	time_t			 expires;
	unsigned		 open;		/* libunbound queries open */
	struct probe_engine	*e;
	int			 id[2];		/* A, AAAA: async ids */
	bool			 asked[2];	/* ... and still open */
	struct event		*guard;		/* as struct ubq's */
	bool			 timed_out;
	struct addr		 addrs[NS_MAX_ADDRS];
	unsigned		 n;
	struct waiters		 waiters;
	struct nsaddr		*gnext;		/* as struct step */
	uint64_t		 retired;
};

struct job;

/*
 * One resolver question: over UDP through getdns, and when the answer
 * is truncated, again over TCP through our transport (tcp set, on the
 * engine's rq_tcp list until the transport calls back). After a getdns
 * timeout it waits for its re-send on the engine's rq_wait list (waiting
 * set): getdns holds no question of it then, so nothing but the list,
 * the resend timer and the guard knows it.
 */
struct rquery {
	struct job		*job;
	unsigned		 idx;
	getdns_transaction_t	 tid;
	struct event		*guard;
	struct event		*resend;	/* see rq_resend_later */
	bool			 done;
	bool			 tcp;
	bool			 waiting;	/* on rq_wait */
	unsigned		 attempts;	/* re-sends after a timeout */
	struct timespec		 t0;
	LIST_ENTRY(rquery)	 entry;		/* on rq_tcp or rq_wait */
};

/* The DS question to one more parent server address. */
struct pquery {
	struct job		*job;
	unsigned		 pi;		/* index into res->parents */
};

/* One question to one child server. */
struct cquery {
	struct job		*job;
	unsigned		 si;
	uint16_t		 qtype;
	bool			 tcp;		/* the TCP-only DNSKEY question */
};

/*
 * One libunbound question for a job, under our wall-clock guard.
 * libunbound's iterator has timeouts of its own (a silent server costs
 * 376 ms first, then backs off, and every server of the zone may be
 * tried again), which neither `timeout` nor `retries` bound; a job must
 * not wait on them longer than on one of our own servers. When the guard
 * fires, ub_cancel() drops the question (its callback never comes) and
 * the job gets a timeout outcome instead of a verdict.
 */
typedef void	(*ubq_done_cb)(struct job *, unsigned, int, struct ub_result *,
		    bool);

struct ubq {
	LIST_ENTRY(ubq)		 entry;
	struct job		*job;		/* NULL: detached */
	int			 id;		/* libunbound's async id */
	struct event		*guard;
	ubq_done_cb		 done;
	unsigned		 idx;		/* the caller's (signals[]) */
};
LIST_HEAD(ubqs, ubq);

enum job_phase { PH_QUEUED, PH_WALK, PH_ADDRS, PH_CHILD };

struct job {
	TAILQ_ENTRY(job)	 entry;
	struct probe_engine	*e;
	uint64_t		 epoch;		/* the cache's, when it began */
	unsigned long long	 local0;	/* local_now() when it began */
	probe_done_cb		 cb;
	void			*arg;
	unsigned		 flags;		/* PROBE_START_* */
	char			 domain[PROBE_NAME_MAX];
	struct probe_result	*res;
	enum job_phase		 phase;
	int			 pending;	/* callbacks we still wait for */
	struct ub_ctx		*ub;		/* validates this check */
	struct timespec		 t0;
	bool			 res_kept;	/* probe_result_keep() */
	/* walk */
	struct step		*cut;
	unsigned		 labels;	/* of the last name looked at */
	unsigned		 attempt;
	unsigned		 first;		/* cut's address tried first */
	bool			 ds_query;
	/* The parent's answer, 8.8 KB: until the child's servers are asked
	 * (job_start_child frees it; most checks in flight are past that). */
	struct referral		*ref;
	bool			 has_hint;
	struct probe_hint	 hint;
	unsigned		 addr_idx;	/* parent address asked last */
	uint32_t		 asked;		/* bit i: cut->addrs[i] asked */
	/* child server addresses being looked up */
	unsigned		 lookups;
	struct nsaddr		*ns_lookup[REF_MAX_NS];
	/* Negative answers per server ([0] the random name, [1] the apex
	 * type), kept raw until every DNSKEY is in: the proofs are checked
	 * against the keys when the job ends. */
	uint8_t			*neg_wire[PROBE_MAX_SERVERS][2];
	size_t			 neg_len[PROBE_MAX_SERVERS][2];
	/* Raw DNSKEY, CDS and CDNSKEY answers per server, for the signature
	 * check a registry makes before it applies CDS (sigcheck.c): only
	 * the CDS/CDNSKEY answers that carry records are kept. */
	uint8_t			*key_wire[PROBE_MAX_SERVERS][3];
	size_t			 key_len[PROBE_MAX_SERVERS][3];
	bool			 key_lost[PROBE_MAX_SERVERS];	/* one
						   copy failed: none kept */
	struct ubqs		 ubqs;		/* libunbound questions open */
	struct offload_item	 verify;	/* on the verifier's lists */
};
TAILQ_HEAD(jobs, job);

/*
 * A probe waiting for its turn: only what probe_start_with() was given.
 * A daemon's --once round (and a restart or reload with many domains)
 * queues every domain at once; as whole jobs (~2 KB each: the name buffer,
 * the per-server answer pointers) the queue of 10,000 domains held 20 MB.
 * This is ~100 bytes with the name; the job is made when it starts.
 */
struct qjob {
	TAILQ_ENTRY(qjob)	 entry;
	probe_done_cb		 cb;
	void			*arg;
	unsigned		 flags;
	bool			 has_hint;
	struct probe_hint	 hint;
	char			 domain[];	/* presentation, lower case */
};
TAILQ_HEAD(qjobs, qjob);

/*
 * Does the root answer as the root? Asked of every root address at once
 * (". DNSKEY", validated against the trust anchor) before any walk, and
 * again every ROOTCHECK_TTL. A network that answers port 53 itself (a
 * middlebox's NXDOMAIN, a captive portal) fails it at once, and then no
 * domain gets a verdict from made-up answers. Costs no query per domain.
 */
enum rootcheck_state { RC_NONE, RC_PENDING, RC_OK, RC_UNVERIFIED,
	RC_INTERCEPTED };

#define ROOTCHECK_TTL		300	/* seconds a good verdict holds */
#define ROOTCHECK_RETRY		10	/* ... an intercepted or silent one */

struct rootcheck {
	enum rootcheck_state	 state, last;	/* last: the verdict logged */
	time_t			 expires;
	unsigned		 open;		/* queries on the wire */
	unsigned		 good, bad;
	char			 reason[300];	/* the first bad answer */
	char			 anchor_file[256]; /* to name it */
	struct waiters		 waiters;
};

struct probe_engine {
	struct event_base	*base;
	struct transport	*tp;
	/* libunbound contexts, each validating in a thread of its own; a
	 * job uses one (j->ub) for all its questions, so that the zone's
	 * keys are fetched and verified once per check (see UB_THREADS). */
	struct ub_ctx		*ub[UB_THREADS];
	struct event		*ub_ev[UB_THREADS];	/* ub_fd() readable */
	unsigned		 n_ub, ub_next;
	struct probe_config	 cfg;
	char			*trust_anchor, *root_hints;
	unsigned		 n_resolvers;
	char			 res_addr[PROBE_MAX_RESOLVERS][PROBE_ADDR_MAX];
	struct sockaddr_storage	 res_ss[PROBE_MAX_RESOLVERS];
	socklen_t		 res_len[PROBE_MAX_RESOLVERS];
	getdns_context		*gd[PROBE_MAX_RESOLVERS];
	LIST_HEAD(, rquery)	 rq_tcp;	/* resolver questions on TCP */
	LIST_HEAD(, rquery)	 rq_wait;	/* ... waiting to be re-sent */
	struct step		*root;
	struct rootcheck	 rc;
	getdns_list		*anchor;	/* the trust anchor's RRs */
	struct step		*steps[HASH_SIZE];
	struct nsaddr		*nsaddrs[HASH_SIZE];
	/* Expired cache entries a job in flight may still point at
	 * (j->cut, a pending step's ->at, j->ns_lookup[]): freed when every
	 * active job began after they left the table. */
	uint64_t		 epoch;
	struct step		*step_grave;
	struct nsaddr		*ns_grave;
	time_t			 cache_ttl;
	struct qjobs		 queued;
	struct jobs		 active;
	unsigned		 n_queued, n_active;
	struct job		*cb_job;	/* whose probe_done_cb runs */
	struct event		*kick;
	struct probe_stats	 stats;
	FILE			*ublog;		/* libunbound's log, to ours */
	struct timeval		 ub_guard;	/* per libunbound question */
	struct denial_cache	*denial_cache;	/* verified NSEC signatures */
	/* The thread that verifies a check's signatures once its answers
	 * are in (job_verify); the only user of denial_cache when there.
	 * NULL: on the loop. */
	struct offload		*verifier;
	bool			 destroying;
	bool			 v6_said;	/* "no IPv6 route" logged */
	bool			 v6_unproven_said; /* "no IPv6 answer yet" */
};

static void	job_walk(struct job *);
static void	job_finish_walk(struct job *);
static void	job_start_child(struct job *);
static void	job_op_done(struct job *);
static void	job_verify(void *);
static void	job_end(void *);
static void	job_check_denials(struct job *);
static void	job_check_cds_sigs(struct job *);
static void	job_start_denial(struct job *, unsigned,
		    const struct sockaddr *, socklen_t);
static void	job_start_denial_validation(struct job *);
static void	engine_kick(struct probe_engine *);

/*
 * Allocations the engine could not make (all engines): with the
 * transport's, what tells a check that met the monitor's own failure
 * (a query never sent, an answer not kept) from one that met a broken
 * server. A job in flight when one happens is marked, whichever job it
 * was for: under memory pressure, every check then running is suspect.
 */
static unsigned long long engine_oom;

static void *
counted(void *p)
{
	if (p == NULL)
		engine_oom++;
	return p;
}

static unsigned long long
local_now(void)
{
	return engine_oom + transport_local_errors();
}

/* Why transport_query() refused a question (it sets errno). */
static const char *
query_refused(void)
{
	return errno == ENOMEM ? "out of memory" : errno == ENOBUFS ?
	    "query queue full" : "the query could not be built";
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1e3 +
	    (now.tv_nsec - t0->tv_nsec) / 1e6;
}

static unsigned
hash_name(const char *s)
{
	unsigned	 h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % HASH_SIZE;
}

/*
 * May this server address be asked? IPv6 only with cfg.ipv6, and only
 * when this host has a route to it: connect() on a UDP socket looks the
 * route up and sends nothing, so a host without IPv6 learns it for three
 * system calls and no packet, and says so once in its log rather than
 * reporting every IPv6 server of every domain as unreachable. Any other
 * error is left for the query itself to report.
 */
static bool
addr_usable(struct probe_engine *e, const struct sockaddr *sa,
    socklen_t len)
{
	char	 text[PROBE_ADDR_MAX];
	int	 fd, err = 0;

	if (sa->sa_family != AF_INET6)
		return true;
	if (!e->cfg.ipv6)
		return false;
	if ((fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		err = errno;		/* EAFNOSUPPORT: IPv6 disabled */
	else {
		if (connect(fd, sa, len) == -1)
			err = errno;
		close(fd);
	}
	if (err != ENETUNREACH && err != EHOSTUNREACH &&
	    err != EADDRNOTAVAIL && err != EAFNOSUPPORT)
		return true;
	e->stats.ipv6_unrouted++;
	if (!e->v6_said) {
		e->v6_said = true;
		addr_text(sa, text, sizeof(text));
		log_warnx("this host has no IPv6 route (to %s: %s): IPv6 "
		    "server addresses it cannot reach are not asked and not "
		    "reported; give it IPv6 connectivity, or set 'ipv6: no' "
		    "(--no-ipv6) to stop looking", text, strerror(err));
	}
	return false;
}

/* The last n labels of name ("." when n is 0). */
static void
name_suffix(const char *name, unsigned n, char *out, size_t len)
{
	const char	*p = name + strlen(name);
	unsigned	 seen = 0;

	if (n == 0) {
		snprintf(out, len, ".");
		return;
	}
	while (p > name) {
		p--;
		if (*p == '.' && ++seen == n) {
			p++;
			break;
		}
	}
	snprintf(out, len, "%s", p);
}

static unsigned
name_labels(const char *name)
{
	unsigned	 n = 1;

	if (strcmp(name, ".") == 0)
		return 0;
	for (; *name; name++)
		if (*name == '.')
			n++;
	return n;
}

static void
waiters_wake(struct waiters *w)
{
	struct waiters	 list;
	struct waiter	*x;

	/* Take the list first: a woken job may add itself elsewhere. */
	TAILQ_INIT(&list);
	TAILQ_CONCAT(&list, w, entry);
	while ((x = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, x, entry);
		x->fn(x->arg);
		free(x);
	}
}

static int
waiter_add(struct waiters *w, void (*fn)(void *), void *arg)
{
	struct waiter	*x;

	if ((x = counted(calloc(1, sizeof(*x)))) == NULL)
		return -1;
	x->fn = fn;
	x->arg = arg;
	TAILQ_INSERT_TAIL(w, x, entry);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Name server addresses through libunbound (shared). */

static void
nsaddr_free(struct nsaddr *n)
{
	if (n->guard != NULL)
		event_free(n->guard);
	free(n);
}

static void
nsaddr_done(struct nsaddr *n)
{
	if (n->guard != NULL) {
		event_free(n->guard);
		n->guard = NULL;
	}
	n->done = true;
	waiters_wake(&n->waiters);
}

/* The guard of a name server address look-up (see struct ubq): its
 * waiters go on with the addresses already in, none for a name whose
 * zone's servers are silent. */
static void
ns_guard(evutil_socket_t fd, short ev, void *arg)
{
	struct nsaddr	*n = arg;
	int		 k;

	(void)fd; (void)ev;
	for (k = 0; k < 2; k++)
		if (n->asked[k]) {
			/* The callback never comes after a cancel. */
			(void)ub_cancel(n->e->ub[0], n->id[k]);
			n->asked[k] = false;
			n->e->stats.validation_timeouts++;
		}
	n->open = 0;
	n->timed_out = true;
	nsaddr_done(n);
}

static void	ns_ub_cb(void *, int, struct ub_result *);

static void
ns_ub_cb_a(void *arg, int err, struct ub_result *res)
{
	((struct nsaddr *)arg)->asked[0] = false;
	ns_ub_cb(arg, err, res);
}

static void
ns_ub_cb_aaaa(void *arg, int err, struct ub_result *res)
{
	((struct nsaddr *)arg)->asked[1] = false;
	ns_ub_cb(arg, err, res);
}

static void
ns_ub_cb(void *arg, int err, struct ub_result *res)
{
	struct nsaddr	*n = arg;
	getdns_dict	*msg = NULL;
	getdns_list	*ans;
	getdns_dict	*rr;
	getdns_bindata	*bd;
	size_t		 i, cnt = 0;
	uint32_t	 type;
	void		*packet = res != NULL ? res->answer_packet : NULL;
	int		 len = res != NULL ? res->answer_len : 0;

	if (err == 0 && res != NULL && res->rcode == 0 && packet != NULL &&
	    len > 0 &&
	    getdns_wire2msg_dict(packet, (size_t)len, &msg) ==
	    GETDNS_RETURN_GOOD &&
	    getdns_dict_get_list(msg, "answer", &ans) == GETDNS_RETURN_GOOD &&
	    getdns_list_get_length(ans, &cnt) == GETDNS_RETURN_GOOD) {
		for (i = 0; i < cnt && n->n < NS_MAX_ADDRS; i++) {
			struct addr *a = &n->addrs[n->n];

			if (getdns_list_get_dict(ans, i, &rr) != GETDNS_RETURN_GOOD ||
			    getdns_dict_get_int(rr, "type", &type) !=
			    GETDNS_RETURN_GOOD)
				continue;
			memset(a, 0, sizeof(*a));
			if (((type == T_A && getdns_dict_get_bindata(rr,
			    "/rdata/ipv4_address", &bd) == GETDNS_RETURN_GOOD &&
			    bd->size == 4) || (type == T_AAAA &&
			    getdns_dict_get_bindata(rr, "/rdata/ipv6_address",
			    &bd) == GETDNS_RETURN_GOOD && bd->size == 16)) &&
			    addr_from_rdata(bd->data, bd->size, 53, &a->ss,
			    &a->len) == 0)
				n->n++;
		}
	}
	getdns_dict_destroy(msg);
	ub_resolve_free(res);
	if (--n->open > 0)
		return;
	nsaddr_done(n);
}

/* Look up a name server's addresses; fn(arg) runs when they are known
 * (possibly at once, from inside this call). Returns the entry. */
static struct nsaddr *
nsaddr_get(struct probe_engine *e, const char *name, void (*fn)(void *),
    void *arg, bool *ready)
{
	unsigned	 h = hash_name(name);
	struct nsaddr	*n, **pp;
	time_t		 now = time(NULL);

	for (pp = &e->nsaddrs[h]; (n = *pp) != NULL; pp = &n->hnext)
		if (strcmp(n->name, name) == 0)
			break;
	if (n != NULL && n->done && n->expires < now) {
		*pp = n->hnext;		/* stale: look it up again */
		n->retired = ++e->epoch;
		n->gnext = e->ns_grave;
		e->ns_grave = n;
		n = NULL;
	}
	if (n == NULL) {
		if ((n = counted(calloc(1, sizeof(*n)))) == NULL)
			return NULL;
		snprintf(n->name, sizeof(n->name), "%s", name);
		TAILQ_INIT(&n->waiters);
		n->expires = now + e->cache_ttl;
		n->hnext = e->nsaddrs[h];
		e->nsaddrs[h] = n;
		n->e = e;
		n->open = e->cfg.ipv6 ? 2 : 1;
		/* A shared entry, not a check's: the first context. */
		if (ub_resolve_async(e->ub[0], name, T_A, 1, n, ns_ub_cb_a,
		    &n->id[0]) != 0)
			n->open--;
		else
			n->asked[0] = true;
		if (e->cfg.ipv6 && ub_resolve_async(e->ub[0], name, T_AAAA, 1, n,
		    ns_ub_cb_aaaa, &n->id[1]) != 0)
			n->open--;
		else if (e->cfg.ipv6)
			n->asked[1] = true;
		if (n->open == 0)
			n->done = true;
		else if ((n->guard = counted(evtimer_new(e->base, ns_guard,
		    n))) != NULL && evtimer_add(n->guard, &e->ub_guard) != 0) {
			event_free(n->guard);
			n->guard = NULL;
		}
	}
	*ready = n->done;
	if (!n->done && waiter_add(&n->waiters, fn, arg) == -1)
		return NULL;
	return n;
}

/* ------------------------------------------------------------------ */
/* Steps: shared answers to "is NAME a zone cut?" */

static struct step *
step_find(struct probe_engine *e, const char *name)
{
	struct step	*s, **pp;

	for (pp = &e->steps[hash_name(name)]; (s = *pp) != NULL;
	    pp = &s->hnext) {
		if (strcmp(s->name, name) != 0)
			continue;
		if (s->state != STEP_PENDING && s != e->root &&
		    s->expires < time(NULL)) {
			/* Jobs in flight may still point at it (j->cut, a
			 * pending step's ->at): out of the table now, freed
			 * when none of them is left. */
			*pp = s->hnext;
			s->retired = ++e->epoch;
			s->gnext = e->step_grave;
			e->step_grave = s;
			return NULL;
		}
		return s;
	}
	return NULL;
}

static void	step_send(struct probe_engine *, struct step *);

static void
step_resolve(struct step *s, enum step_state st, const char *err)
{
	s->state = st;
	s->expires = time(NULL) + (st == STEP_FAILED ? 30 : s->e->cache_ttl);
	if (err != NULL)
		snprintf(s->error, sizeof(s->error), "%s", err);
	waiters_wake(&s->waiters);
}

struct step_lookup {
	struct step	*step;
	struct nsaddr	*ns;
};

static void
step_ns_ready(void *arg)
{
	struct step_lookup	*l = arg;
	struct step		*s = l->step;
	unsigned		 i;

	for (i = 0; i < l->ns->n; i++) {
		if (!addr_usable(s->e, (struct sockaddr *)&l->ns->addrs[i].ss,
		    l->ns->addrs[i].len))
			continue;
		if (s->n_addrs < CUT_MAX_ADDRS)
			s->addrs[s->n_addrs++] = l->ns->addrs[i];
		else
			s->addrs_dropped++;
	}
	free(l);
	if (--s->lookups > 0)
		return;
	if (s->n_addrs == 0)
		step_resolve(s, STEP_FAILED, "no address for any of its "
		    "name servers");
	else
		step_resolve(s, STEP_CUT, NULL);
}

static void
step_cut_from(struct probe_engine *e, struct step *s,
    const struct referral *ref)
{
	unsigned	 i, j;
	bool		 glued;

	s->signed_zone = ref->has_ds;

	for (i = 0; i < ref->n_glue; i++) {
		if (!addr_usable(e, (struct sockaddr *)&ref->glue[i].addr,
		    ref->glue[i].len))
			continue;
		if (s->n_addrs >= CUT_MAX_ADDRS) {
			s->addrs_dropped++;
			continue;
		}
		memcpy(&s->addrs[s->n_addrs].ss, &ref->glue[i].addr,
		    sizeof(ref->glue[i].addr));
		s->addrs[s->n_addrs++].len = ref->glue[i].len;
	}
	if (s->n_addrs > 0) {
		step_resolve(s, STEP_CUT, NULL);
		return;
	}
	/* No glue: the servers are named in another zone. */
	s->lookups = 1;
	for (i = 0; i < ref->n_ns && i < 4; i++) {
		struct step_lookup *l;
		bool ready;

		glued = false;
		for (j = 0; j < ref->n_glue; j++)
			if (ref->glue[j].ns == i)
				glued = true;
		if (glued || (l = counted(calloc(1, sizeof(*l)))) == NULL)
			continue;
		l->step = s;
		s->lookups++;
		l->ns = nsaddr_get(e, ref->ns[i], step_ns_ready, l, &ready);
		if (l->ns == NULL) {
			s->lookups--;
			free(l);
		} else if (ready)
			step_ns_ready(l);
	}
	/* Drop the guard reference taken above. */
	if (--s->lookups == 0) {
		if (s->n_addrs == 0)
			step_resolve(s, STEP_FAILED, "no address for any of "
			    "its name servers");
		else
			step_resolve(s, STEP_CUT, NULL);
	}
}


/* "REFUSED", or "rcode 23" for one without a name. */
static void
rcode_text(int rcode, char *buf, size_t len)
{
	const char	*n = probe_rcode_name(rcode);

	if (n != NULL && strcmp(n, "RCODE") != 0)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "rcode %d", rcode);
}

/*
 * A negative answer (NXDOMAIN, or NODATA: "no zone cut here") is believed
 * only from the zone asked: with the AA bit and that zone's SOA. A
 * middlebox's NXDOMAIN has no AA; a server that lost the zone, or serves
 * another one, answers with another SOA or none. 0, or -1 with why.
 */
static int
negative_from_zone(const struct referral *ref, const struct step *zone,
    char *why, size_t len)
{
	const char	*what = ref->kind == REF_NXDOMAIN ? "NXDOMAIN" : "NODATA";

	if (!ref->aa)
		snprintf(why, len, "%s without the AA bit", what);
	else if (ref->soa_owner[0] == '\0')
		snprintf(why, len, "%s without the SOA of %s", what,
		    zone->name);
	else if (strcmp(ref->soa_owner, zone->name) != 0)
		snprintf(why, len, "%s with the SOA of %s instead of %s", what,
		    ref->soa_owner, zone->name);
	else if (zone->signed_zone && !ref->denial)
		/* We ask with DO: a signed zone proves its denial. An
		 * answer without NSEC or NSEC3 was not made by it. */
		snprintf(why, len, "%s without the NSEC/NSEC3 proof that "
		    "the signed zone %s sends", what, zone->name);
	else
		return 0;
	return -1;
}

/* Why an answer to "NAME NS" from a server of zone is of no use. */
static void
unusable_answer(const struct referral *ref, const struct step *zone,
    const char *name, char *why, size_t len)
{
	char	 rc[24];

	if (ref->kind == REF_REFERRAL)
		snprintf(why, len, "a referral to %s when asked about %s",
		    ref->owner, name);
	else if (ref->kind == REF_NXDOMAIN || ref->kind == REF_NODATA)
		negative_from_zone(ref, zone, why, len);
	else if (ref->rcode != 0) {
		rcode_text(ref->rcode, rc, sizeof(rc));
		snprintf(why, len, "%s", rc);
	} else
		snprintf(why, len, "an answer that is neither a referral nor "
		    "authoritative");
}

static void
step_answer(void *arg, const struct transport_result *r)
{
	struct step		*s = arg;
	struct probe_engine	*e = s->e;
	struct referral		*ref;
	char			 why[160], addr[PROBE_ADDR_MAX];

	if (r->status != TRANSPORT_OK) {
		snprintf(s->error, sizeof(s->error), "%s",
		    r->error ? r->error : transport_status_str(r->status));
		goto retry;
	}
	if ((ref = counted(malloc(sizeof(*ref)))) == NULL) {
		snprintf(s->error, sizeof(s->error), "out of memory");
		goto retry;
	}
	answer_referral(r->view, s->name, ref);
	switch (ref->kind) {
	case REF_REFERRAL:
		if (strcmp(ref->owner, s->name) != 0)
			goto lame;
		/* FALLTHROUGH */
	case REF_AUTH_NS:
		step_cut_from(e, s, ref);
		break;
	case REF_NODATA:
		if (negative_from_zone(ref, s->at, why, sizeof(why)) == -1)
			goto lame;
		step_resolve(s, STEP_NOT_CUT, NULL);
		break;
	case REF_NXDOMAIN:
		if (negative_from_zone(ref, s->at, why, sizeof(why)) == -1)
			goto lame;
		step_resolve(s, STEP_NXDOMAIN, "NXDOMAIN");
		break;
	default:
		goto lame;
	}
	free(ref);
	return;
lame:
	/* The server answered, but nothing it said can be believed: try
	 * another server of the zone, and never turn it into a verdict. */
	unusable_answer(ref, s->at, s->name, why, sizeof(why));
	addr_text(r->server, addr, sizeof(addr));
	snprintf(s->error, sizeof(s->error), "%s (a server of %s) answered %s",
	    addr, s->at->name, why);
	s->lame = true;
	free(ref);
retry:
	if (++s->attempt < MAX_ATTEMPTS && s->attempt < s->at->n_addrs) {
		step_send(e, s);
		return;
	}
	step_resolve(s, STEP_FAILED, NULL);
}

static void
step_send(struct probe_engine *e, struct step *s)
{
	struct step	*at = s->at;
	struct addr	*a;

	/* Retries walk on from the first address: the shared round robin
	 * could hand the same lame server back. */
	if (s->attempt == 0)
		s->first = at->rr++;
	a = &at->addrs[(s->first + s->attempt) % at->n_addrs];

	if (transport_query(e->tp, (struct sockaddr *)&a->ss, a->len, s->name,
	    T_NS, step_answer, s) == -1)
		step_resolve(s, STEP_FAILED, query_refused());
}

/* ------------------------------------------------------------------ */
/* The walk of one domain. */

static void
job_walk_cb(void *arg)
{
	struct job	*j = arg;

	j->pending--;
	job_walk(j);
}

static void	job_parent_answer(void *, const struct transport_result *);

/*
 * Which parent address to ask. With a hint, the domain's own turn: each
 * check of a stable domain asks the next address, so every one is visited
 * regularly. (The shared counter alone would send a domain to the same
 * address every time when the domain count is a multiple of the address
 * count.) Without one, the shared counter spreads the load.
 */
static unsigned
job_parent_index(struct job *j)
{
	struct step	*at = j->cut;

	if (j->has_hint)
		return (j->hint.parent_turn + hash_name(j->domain) +
		    j->attempt) % at->n_addrs;
	/* Without a hint, the shared round robin picks the first address;
	 * retries move on from it (a lame server is not asked twice). */
	if (j->attempt == 0 && !j->ds_query)
		j->first = at->rr++;
	return (j->first + j->attempt) % at->n_addrs;
}

static void
job_send_parent(struct job *j, uint16_t qtype)
{
	struct step	*at = j->cut;
	struct addr	*a;

	j->addr_idx = job_parent_index(j);
	a = &at->addrs[j->addr_idx];
	if (j->addr_idx < 32)
		j->asked |= 1u << j->addr_idx;
	addr_text((struct sockaddr *)&a->ss, j->res->parent_server,
	    sizeof(j->res->parent_server));
	j->pending++;
	j->res->queries++;
	if (transport_query(j->e->tp, (struct sockaddr *)&a->ss, a->len,
	    j->domain, qtype, job_parent_answer, j) == -1) {
		j->pending--;
		j->res->parent_status = PROBE_Q_NETERR;
		snprintf(j->res->error, sizeof(j->res->error), "%s",
		    query_refused());
		job_finish_walk(j);
	}
}

static void
job_walk(struct job *j)
{
	struct probe_engine	*e = j->e;
	struct probe_result	*r = j->res;
	char			 name[PROBE_NAME_MAX];
	unsigned		 total = name_labels(j->domain);
	struct step		*s;

	for (;;) {
		if (j->labels + 1 >= total) {
			/* The next name is the domain: ask its parent. */
			snprintf(r->parent, sizeof(r->parent), "%s",
			    j->cut->name);
			j->attempt = 0;
			job_send_parent(j, T_NS);
			return;
		}
		name_suffix(j->domain, j->labels + 1, name, sizeof(name));
		if ((s = step_find(e, name)) == NULL) {
			if ((s = counted(calloc(1, sizeof(*s)))) == NULL)
				goto fail;
			s->e = e;
			snprintf(s->name, sizeof(s->name), "%s", name);
			s->state = STEP_PENDING;
			s->at = j->cut;
			TAILQ_INIT(&s->waiters);
			s->hnext = e->steps[hash_name(name)];
			e->steps[hash_name(name)] = s;
			j->pending++;
			r->queries++;
			if (waiter_add(&s->waiters, job_walk_cb, j) == -1) {
				j->pending--;
				goto fail;
			}
			step_send(e, s);
			return;
		}
		switch (s->state) {
		case STEP_PENDING:
			j->pending++;
			if (waiter_add(&s->waiters, job_walk_cb, j) == -1) {
				j->pending--;
				goto fail;
			}
			return;
		case STEP_CUT:
			j->cut = s;
			j->labels++;
			e->stats.shared_steps++;
			break;
		case STEP_NOT_CUT:
			j->labels++;
			e->stats.shared_steps++;
			break;
		case STEP_NXDOMAIN:
			snprintf(r->parent, sizeof(r->parent), "%s",
			    j->cut->name);
			r->parent_status = PROBE_Q_OK;
			r->delegated = false;
			snprintf(r->error, sizeof(r->error), "%s does not "
			    "exist (NXDOMAIN)", s->name);
			job_finish_walk(j);
			return;
		case STEP_FAILED:
			snprintf(r->parent, sizeof(r->parent), "%s",
			    j->cut->name);
			r->parent_status = s->lame ? PROBE_Q_MALFORMED :
			    PROBE_Q_TIMEOUT;
			r->parent_lame = s->lame;
			snprintf(r->error, sizeof(r->error), "no server of %s "
			    "answered %sabout %s%s%s", j->cut->name, s->lame ?
			    "with authority " : "", s->name,
			    s->error[0] ? ": " : "", s->error);
			job_finish_walk(j);
			return;
		}
	}
fail:
	r->parent_status = PROBE_Q_NETERR;
	snprintf(r->error, sizeof(r->error), "out of memory");
	job_finish_walk(j);
}

/*
 * Why an answer to the DS question is of no use, or NULL: the DS comes
 * from the parent's zone, with authority; "no DS" only with the parent's
 * SOA (a server of the child alone answers NODATA from the child's apex).
 */
static const char *
ds_answer_unusable(const struct referral *ds, const struct step *parent,
    char *why, size_t len)
{
	char	 rc[24];

	if (ds->rcode != 0) {
		rcode_text(ds->rcode, rc, sizeof(rc));
		snprintf(why, len, "%s to the DS question", rc);
	} else if (!ds->aa)
		snprintf(why, len, "the DS question without the AA bit");
	else if (ds->n_ds == 0 && strcmp(ds->soa_owner, parent->name) != 0)
		snprintf(why, len, "no DS with the SOA of %s instead of %s: it "
		    "does not serve the parent zone", ds->soa_owner[0] ?
		    ds->soa_owner : "no zone", parent->name);
	else if (ds->n_ds == 0 && parent->signed_zone && !ds->denial)
		snprintf(why, len, "no DS without the NSEC/NSEC3 proof that "
		    "the signed zone %s sends", parent->name);
	else
		return NULL;
	return why;
}

static enum probe_qstatus
qstatus_of(const struct transport_result *tr)
{
	switch (tr->status) {
	case TRANSPORT_OK:		return PROBE_Q_OK;
	case TRANSPORT_TIMEOUT:		return PROBE_Q_TIMEOUT;
	case TRANSPORT_MALFORMED:	return PROBE_Q_MALFORMED;
	default:			return PROBE_Q_NETERR;
	}
}

/* The entry of one parent address in r->parents (one per address: the NS
 * and the DS question to the same server share it); NULL when full. */
static struct probe_parent *
parent_entry(struct probe_result *r, const char *address)
{
	struct probe_parent	*p;
	unsigned		 i;

	for (i = 0; i < r->n_parents; i++)
		if (strcmp(r->parents[i].address, address) == 0)
			return &r->parents[i];
	if (r->n_parents >= PROBE_MAX_PARENTS) {
		r->parents_dropped++;
		return NULL;
	}
	p = &r->parents[r->n_parents++];
	memset(p, 0, sizeof(*p));
	snprintf(p->address, sizeof(p->address), "%s", address);
	p->rcode = -1;
	return p;
}

static void
parent_failed(struct probe_parent *p, enum probe_qstatus st, int rcode,
    const char *why)
{
	if (p == NULL)
		return;
	p->status = st;
	p->rcode = rcode;
	p->ds_set = 0;
	p->n_ds = 0;
	snprintf(p->error, sizeof(p->error), "%s", why);
}

/* A parent address's DS RRset (empty: it has none), its DS merged into
 * the union r->parent_ds so that sets compare as bit masks. */
static void
parent_answered(struct probe_result *r, struct probe_parent *p,
    const struct referral *ref)
{
	unsigned	 i, u;

	if (p == NULL)
		return;
	p->status = PROBE_Q_OK;
	p->rcode = ref->rcode;
	p->error[0] = '\0';
	p->ds_ttl = ref->ds_ttl;
	p->n_ds = ref->n_ds;
	p->rrsig = ref->ds_signed;
	p->ds_set = 0;
	for (i = 0; i < ref->n_ds; i++) {
		const struct probe_ds *d = &ref->ds[i];

		for (u = 0; u < r->n_parent_ds; u++) {
			const struct probe_ds *x = &r->parent_ds[u];

			if (x->key_tag == d->key_tag &&
			    x->algorithm == d->algorithm &&
			    x->digest_type == d->digest_type &&
			    x->digest_len == d->digest_len &&
			    memcmp(x->digest, d->digest, d->digest_len) == 0)
				break;
		}
		if (u == r->n_parent_ds) {
			if (u >= PROBE_MAX_PARENT_DS) {
				r->parent_ds_dropped++;
				continue;
			}
			r->parent_ds[r->n_parent_ds++] = *d;
		}
		p->ds_set |= 1u << u;
	}
}

static void
parent_ds_answer(void *arg, const struct transport_result *tr)
{
	struct pquery		*q = arg;
	struct job		*j = q->job;
	struct probe_result	*r = j->res;
	struct probe_parent	*p = &r->parents[q->pi];
	struct referral		*ref = NULL;
	char			 why[96];

	if (tr->status != TRANSPORT_OK)
		parent_failed(p, qstatus_of(tr), -1, tr->error ? tr->error :
		    transport_status_str(tr->status));
	else if ((ref = counted(malloc(sizeof(*ref)))) == NULL)
		parent_failed(p, PROBE_Q_NETERR, -1, "out of memory");
	else {
		answer_referral(tr->view, j->domain, ref);
		if (ref->kind == REF_REFERRAL) {
			/* A server of the parent that refers elsewhere
			 * does not hold the parent zone: lame. */
			snprintf(why, sizeof(why), "a referral to %s instead "
			    "of the DS", ref->owner);
			parent_failed(p, PROBE_Q_MALFORMED, ref->rcode, why);
		} else if (ref->rcode != 0 && ref->rcode != 3) {
			snprintf(why, sizeof(why), "rcode %d to the DS "
			    "question", ref->rcode);
			parent_failed(p, PROBE_Q_OK, ref->rcode, why);
		} else
			/* NXDOMAIN too: that server has no DS at all. */
			parent_answered(r, p, ref);
	}
	free(ref);
	free(q);
	job_op_done(j);
}

/* Does this check need every parent server's DS? Without history, with a
 * rotation open, or when the DS changed since the last check: then one
 * server's word is not enough. Otherwise one per check, in turn. */
static bool
job_wants_every_parent(const struct job *j)
{
	if (!j->has_hint || j->hint.every_parent || !j->hint.ds_known)
		return true;
	return probe_ds_fingerprint(j->res->ds, j->res->n_ds) !=
	    j->hint.ds_fp;
}

/* Ask every parent address not asked yet for the DS (with DO, as every
 * question): one query each, in parallel with the child phase. */
static void
job_ask_every_parent(struct job *j)
{
	struct step		*at = j->cut;
	struct probe_result	*r = j->res;
	struct probe_parent	*p;
	struct pquery		*q;
	char			 text[PROBE_ADDR_MAX];
	unsigned		 i;

	r->every_parent = true;
	r->parents_dropped += at->addrs_dropped;
	for (i = 0; i < at->n_addrs; i++) {
		if (j->asked & (1u << i))
			continue;
		addr_text((struct sockaddr *)&at->addrs[i].ss, text,
		    sizeof(text));
		if ((p = parent_entry(r, text)) == NULL)
			continue;
		if ((q = counted(calloc(1, sizeof(*q)))) == NULL) {
			parent_failed(p, PROBE_Q_NETERR, -1, "out of memory");
			continue;
		}
		q->job = j;
		q->pi = (unsigned)(p - r->parents);
		j->pending++;
		r->queries++;
		if (transport_query(j->e->tp,
		    (struct sockaddr *)&at->addrs[i].ss, at->addrs[i].len,
		    j->domain, T_DS, parent_ds_answer, q) == -1) {
			j->pending--;
			parent_failed(p, PROBE_Q_NETERR, -1,
			    query_refused());
			free(q);
		}
	}
}

static void
job_parent_answer(void *arg, const struct transport_result *tr)
{
	struct job		*j = arg;
	struct probe_result	*r = j->res;
	struct referral		*ref = j->ref;
	unsigned		 i;
	char			 why[200];

	j->pending--;
	if (tr->status != TRANSPORT_OK) {
		r->parent_status = tr->status == TRANSPORT_TIMEOUT ?
		    PROBE_Q_TIMEOUT : tr->status == TRANSPORT_MALFORMED ?
		    PROBE_Q_MALFORMED : PROBE_Q_NETERR;
		/* A lame answer says more than a later silence. */
		if (!r->parent_lame)
			snprintf(r->error, sizeof(r->error), "%s: %s",
			    r->parent_server, tr->error ? tr->error :
			    transport_status_str(tr->status));
		parent_failed(parent_entry(r, r->parent_server),
		    r->parent_status, -1, tr->error ? tr->error :
		    transport_status_str(tr->status));
		goto retry;
	}
	if (j->ds_query) {
		/* The explicit DS question after a referral without DS. */
		struct referral dsref;

		answer_referral(tr->view, j->domain, &dsref);
		if (ds_answer_unusable(&dsref, j->cut, why,
		    sizeof(why)) != NULL)
			goto lame;
		for (i = 0; i < dsref.n_ds; i++)
			ref->ds[i] = dsref.ds[i];
		ref->n_ds = dsref.n_ds;
		ref->ds_dropped = dsref.ds_dropped;
		ref->ds_ttl = dsref.ds_ttl;
		ref->ds_signed = dsref.ds_signed;
		goto found;
	}
	answer_referral(tr->view, j->domain, ref);
	r->parent_status = PROBE_Q_OK;
	r->error[0] = '\0';
	switch (ref->kind) {
	case REF_REFERRAL:
		if (strcmp(ref->owner, j->domain) != 0) {
			unusable_answer(ref, j->cut, j->domain, why,
			    sizeof(why));
			goto lame;
		}
		if (!ref->has_ds && !ref->denial) {
			/* The referral proves nothing about DS: ask. */
			j->ds_query = true;
			job_send_parent(j, T_DS);
			return;
		}
		goto found;
	case REF_AUTH_NS:
		/* The parent's server also serves the child: the DS comes
		 * from the parent side only on an explicit question. */
		j->ds_query = true;
		job_send_parent(j, T_DS);
		return;
	case REF_NODATA:
		if (negative_from_zone(ref, j->cut, why, sizeof(why)) == -1)
			goto lame;
		r->delegated = false;
		r->parent_lame = false;
		snprintf(r->error, sizeof(r->error), "%s says %s exists but "
		    "is not a zone of its own", r->parent_server, j->domain);
		job_finish_walk(j);
		return;
	case REF_NXDOMAIN:
		if (negative_from_zone(ref, j->cut, why, sizeof(why)) == -1)
			goto lame;
		r->delegated = false;
		r->parent_lame = false;
		snprintf(r->error, sizeof(r->error), "%s does not exist "
		    "(NXDOMAIN from %s)", j->domain, r->parent_server);
		job_finish_walk(j);
		return;
	default:
		unusable_answer(ref, j->cut, j->domain, why, sizeof(why));
		goto lame;
	}
found:
	r->parent_status = PROBE_Q_OK;
	r->error[0] = '\0';
	r->parent_lame = false;
	r->delegated = true;
	r->ds_ttl = ref->ds_ttl;
	r->n_ds = ref->n_ds;
	r->ds_dropped = ref->ds_dropped;
	for (i = 0; i < ref->n_ds; i++)
		r->ds[i] = ref->ds[i];
	parent_answered(r, parent_entry(r, r->parent_server), ref);
	if (job_wants_every_parent(j))
		job_ask_every_parent(j);
	job_finish_walk(j);
	return;
lame:
	/* Answered, but not as a server of the parent: a lame server or a
	 * middlebox. Another server may know; none is a verdict. */
	parent_failed(parent_entry(r, r->parent_server), PROBE_Q_MALFORMED,
	    -1, why);
	r->parent_status = PROBE_Q_MALFORMED;
	r->parent_lame = true;
	snprintf(r->error, sizeof(r->error), "%s (a server of %s) answered "
	    "%s", r->parent_server, r->parent, why);
retry:
	if (++j->attempt < MAX_ATTEMPTS && j->attempt < j->cut->n_addrs) {
		job_send_parent(j, j->ds_query ? T_DS : T_NS);
		return;
	}
	job_finish_walk(j);
}

/* ------------------------------------------------------------------ */
/* Child servers. */

static void
add_server(struct job *j, const char *ns, const struct sockaddr *sa,
    socklen_t len)
{
	struct probe_result	*r = j->res;
	struct probe_server	*s;
	char			 text[PROBE_ADDR_MAX];
	unsigned		 i;

	if (!addr_usable(j->e, sa, len)) {
		if (sa->sa_family == AF_INET6 && j->e->cfg.ipv6)
			r->ipv6_unrouted++;
		return;
	}
	addr_text(sa, text, sizeof(text));
	for (i = 0; i < r->n_servers; i++)
		if (strcmp(r->servers[i].address, text) == 0)
			return;		/* two names, one address */
	if (r->n_servers >= PROBE_MAX_SERVERS) {
		r->servers_dropped++;
		return;
	}
	s = &r->servers[r->n_servers++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", ns);
	snprintf(s->address, sizeof(s->address), "%s", text);
	s->dnskey_rcode = -1;
}

static void
job_ns_ready(void *arg)
{
	struct job	*j = arg;

	j->pending--;
	if (--j->lookups == 0)
		job_start_child(j);
}

/* ------------------------------------------------------------------ */
/* libunbound questions under the guard (see struct ubq). */

static void
ubq_unlink(struct ubq *q)
{
	LIST_REMOVE(q, entry);
	if (q->guard != NULL) {
		event_free(q->guard);
		q->guard = NULL;
	}
}

static void
ubq_cb(void *arg, int err, struct ub_result *res)
{
	struct ubq	*q = arg;
	struct job	*j = q->job;
	ubq_done_cb	 done = q->done;
	unsigned	 idx = q->idx;

	if (j == NULL) {	/* its guard fired and the cancel failed */
		ub_resolve_free(res);
		free(q);
		return;
	}
	ubq_unlink(q);
	free(q);
	done(j, idx, err, res, false);
}

static void
ubq_guard(evutil_socket_t fd, short ev, void *arg)
{
	struct ubq	*q = arg;
	struct job	*j = q->job;
	ubq_done_cb	 done = q->done;
	unsigned	 idx = q->idx;

	(void)fd; (void)ev;
	ubq_unlink(q);
	j->e->stats.validation_timeouts++;
	/* After ub_cancel() the callback never comes (unbound.h); should it
	 * fail, the callback may still come: it then frees q alone. The
	 * question itself runs on in libunbound's thread until libunbound
	 * gives up; only its answer is dropped. */
	if (ub_cancel(j->ub, q->id) == UB_NOERROR)
		free(q);
	else
		q->job = NULL;
	done(j, idx, 0, NULL, true);
}

/* Ask libunbound NAME/TYPE for j; DONE gets the answer, or the guard's
 * timeout. 0, or -1 when the question could not be asked. */
static int
ubq_start(struct job *j, const char *name, int type, ubq_done_cb done,
    unsigned idx)
{
	struct probe_engine	*e = j->e;
	struct ubq		*q;

	if ((q = counted(calloc(1, sizeof(*q)))) == NULL)
		return -1;
	q->job = j;
	q->done = done;
	q->idx = idx;
	if (ub_resolve_async(j->ub, name, type, 1, q, ubq_cb, &q->id) != 0) {
		free(q);
		return -1;
	}
	LIST_INSERT_HEAD(&j->ubqs, q, entry);
	/* Without its guard (out of memory) it still ends, only later. */
	if ((q->guard = counted(evtimer_new(e->base, ubq_guard, q))) != NULL &&
	    evtimer_add(q->guard, &e->ub_guard) != 0) {
		event_free(q->guard);
		q->guard = NULL;
	}
	return 0;
}

/* "4.5 s": the guard, for messages. */
static void
ubq_guard_text(const struct probe_engine *e, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f s", e->ub_guard.tv_sec +
	    e->ub_guard.tv_usec / 1e6);
}

/* The signal's validated CDS records into s (DS RDATA layout). */
static void
signal_records(struct probe_signal *s, const struct ub_result *res)
{
	struct probe_ds	*d;
	const uint8_t	*p;
	int		 i;

	for (i = 0; res->data != NULL && res->data[i] != NULL; i++) {
		p = (const uint8_t *)res->data[i];
		/* Key tag, algorithm, digest type, a digest we can hold. */
		if (res->len[i] < 5 || res->len[i] - 4 > PROBE_MAX_DIGEST)
			continue;
		if (s->n_cds == PROBE_MAX_SIGNAL_CDS) {
			s->cds_dropped++;
			continue;
		}
		d = &s->cds[s->n_cds++];
		memset(d, 0, sizeof(*d));
		d->key_tag = (uint16_t)(p[0] << 8 | p[1]);
		d->algorithm = p[2];
		d->digest_type = p[3];
		d->digest_len = (uint8_t)(res->len[i] - 4);
		memcpy(d->digest, p + 4, d->digest_len);
		d->key = -1;
	}
}

static void
signal_done(struct job *j, unsigned idx, int err, struct ub_result *res,
    bool timed_out)
{
	struct probe_signal	*s = &j->res->signals[idx];
	char			 g[32];

	if (timed_out) {
		s->status = PROBE_SIG_FAILED;
		ubq_guard_text(j->e, g, sizeof(g));
		snprintf(s->why, sizeof(s->why), "no answer within %s", g);
	} else if (err != 0 || res == NULL) {
		s->status = PROBE_SIG_FAILED;
		snprintf(s->why, sizeof(s->why), "%s", ub_strerror(err));
	} else if (res->bogus) {
		s->status = PROBE_SIG_BOGUS;
		snprintf(s->why, sizeof(s->why), "%s", res->why_bogus ?
		    res->why_bogus : "bogus");
	} else if (res->rcode != 0 && res->rcode != 3) {
		s->status = PROBE_SIG_FAILED;
		snprintf(s->why, sizeof(s->why), "rcode %d", res->rcode);
	} else if (!res->secure)
		s->status = PROBE_SIG_INSECURE;
	else if (!res->havedata)
		s->status = PROBE_SIG_NODATA;
	else
		s->status = PROBE_SIG_SECURE;
	if (res != NULL && res->havedata && !res->bogus)
		signal_records(s, res);
	ub_resolve_free(res);
	job_op_done(j);
}

/* Is the NS name the domain or below it? */
static bool
ns_in_domain(const char *ns, const char *domain)
{
	size_t	 nl = strlen(ns), dl = strlen(domain);

	if (nl == dl)
		return strcasecmp(ns, domain) == 0;
	return nl > dl && ns[nl - dl - 1] == '.' &&
	    strcasecmp(ns + nl - dl, domain) == 0;
}

/*
 * RFC 9615: the DNS operator of a signed zone that has no DS yet vouches
 * for its CDS under each of its name server names, in a zone that is
 * itself secure (_dsboot.<domain>._signal.<ns>), so that a parent can add
 * the DS without trusting the unsigned path to the child. libunbound
 * validates each signal: one CDS question per distinct NS name, asked only
 * for a domain with no DS at the parent (a secure domain has nothing to
 * bootstrap). An NS name inside the domain cannot carry a signal.
 */
static void
job_start_signals(struct job *j)
{
	struct referral		*ref = j->ref;
	struct probe_result	*r = j->res;
	struct probe_signal	*s;
	char			 name[2 * PROBE_NAME_MAX + 20];
	uint8_t			 wire[DSMATCH_NAME_MAX];
	size_t			 wl;
	unsigned		 i, k;

	for (i = 0; i < ref->n_ns; i++) {
		for (k = 0; k < r->n_signals; k++)
			if (strcasecmp(r->signals[k].ns, ref->ns[i]) == 0)
				break;
		if (k < r->n_signals)
			continue;
		if (r->n_signals == PROBE_MAX_SIGNALS) {
			r->signals_dropped++;
			continue;
		}
		s = &r->signals[r->n_signals];
		memset(s, 0, sizeof(*s));
		snprintf(s->ns, sizeof(s->ns), "%s", ref->ns[i]);
		r->n_signals++;
		if (ns_in_domain(s->ns, j->domain)) {
			s->status = PROBE_SIG_IN_DOMAIN;
			continue;
		}
		snprintf(name, sizeof(name), "_dsboot.%s._signal.%s",
		    j->domain, s->ns);
		if (dsmatch_name_to_wire(name, wire, sizeof(wire), &wl, NULL,
		    0) == -1) {
			s->status = PROBE_SIG_TOO_LONG;
			continue;
		}
		j->pending++;
		j->e->stats.validations++;
		if (ubq_start(j, name, T_CDS, signal_done, r->n_signals - 1)
		    != 0) {
			j->pending--;
			s->status = PROBE_SIG_FAILED;
			snprintf(s->why, sizeof(s->why), "the validator refused "
			    "the question");
		}
	}
}

static void
job_finish_walk(struct job *j)
{
	struct referral	*ref = j->ref;
	unsigned	 i, g;
	bool		 glued, ready;

	if (j->res->parent_status != PROBE_Q_OK || !j->res->delegated) {
		j->phase = PH_CHILD;
		job_op_done(j);
		return;
	}
	if (j->res->n_ds == 0 && j->res->ds_dropped == 0)
		job_start_signals(j);
	j->phase = PH_ADDRS;
	for (i = 0; i < ref->n_ns; i++) {
		glued = false;
		for (g = 0; g < ref->n_glue; g++)
			if (ref->glue[g].ns == i) {
				add_server(j, ref->ns[i],
				    (struct sockaddr *)&ref->glue[g].addr,
				    ref->glue[g].len);
				glued = true;
			}
		if (glued)
			continue;
		j->lookups++;
		j->pending++;
		j->ns_lookup[i] = nsaddr_get(j->e, ref->ns[i], job_ns_ready, j,
		    &ready);
		if (j->ns_lookup[i] == NULL || ready) {
			j->lookups--;
			j->pending--;
		}
	}
	if (j->lookups == 0)
		job_start_child(j);
}

/* What TCP said, the DNSKEY question over TCP only or a TC=1 fallback:
 * the worst outcome, and the largest answer. */
static void
note_tcp(struct probe_server *s, const struct transport_result *tr)
{
	enum probe_qstatus	 st = qstatus_of(tr);

	if (s->tcp_status == PROBE_Q_NONE || s->tcp_status == PROBE_Q_OK ||
	    st > s->tcp_status)
		s->tcp_status = st;
	if (st == PROBE_Q_OK) {
		if (tr->wire_len > s->dnskey_tcp_bytes)
			s->dnskey_tcp_bytes = (unsigned)tr->wire_len;
	} else
		snprintf(s->tcp_error, sizeof(s->tcp_error), "%s",
		    tr->error ? tr->error : transport_status_str(tr->status));
}

/* The DNSKEY answer's size over UDP, and over TCP after a TC=1. */
static void
note_dnskey_size(struct probe_server *s, const struct transport_result *tr)
{
	s->dnskey_udp_bytes = (unsigned)tr->udp_len;
	if (!tr->tc_fallback)
		return;
	s->dnskey_tc = true;
	note_tcp(s, tr);
}

/* Keep a copy of the DNSKEY answer, and of a CDS/CDNSKEY answer with
 * records in it, until every answer is in (sigcheck.c). Out of memory
 * leaves that server unverified: the tags alone judge it then. */
static void
keep_key_wire(struct job *j, const struct cquery *q,
    const struct transport_result *tr)
{
	unsigned	 w = q->qtype == T_DNSKEY ? 0 : q->qtype == T_CDS ? 1 :
			    q->qtype == T_CDNSKEY ? 2 : 3;

	if (w == 3 || q->si >= PROBE_MAX_SERVERS || tr->wire == NULL ||
	    tr->wire_len < 12 || j->key_wire[q->si][w] != NULL ||
	    j->key_lost[q->si])
		return;
	/* ANCOUNT 0: nothing to verify. */
	if (w > 0 && tr->wire[6] == 0 && tr->wire[7] == 0)
		return;
	if ((j->key_wire[q->si][w] = counted(malloc(tr->wire_len))) == NULL) {
		/* Without its CDS the DNSKEY alone would read as a CDS no
		 * key signs (cds_bogus): drop the server's copies. */
		for (w = 0; w < 3; w++) {
			free(j->key_wire[q->si][w]);
			j->key_wire[q->si][w] = NULL;
		}
		j->key_lost[q->si] = true;
		return;
	}
	memcpy(j->key_wire[q->si][w], tr->wire, tr->wire_len);
	j->key_len[q->si][w] = tr->wire_len;
}

static void
child_answer(void *arg, const struct transport_result *tr)
{
	struct cquery		*q = arg;
	struct job		*j = q->job;
	struct probe_result	*r = j->res;
	struct probe_server	*s = &r->servers[q->si];
	enum probe_qstatus	 st;
	time_t			 now = clock_now();

	if (tr->status == TRANSPORT_OK && tr->server->sa_family == AF_INET6)
		j->e->stats.ipv6_answers++;
	if (q->tcp) {
		/* Only whether TCP works and how big the answer is: the
		 * keys themselves were read over UDP. */
		note_tcp(s, tr);
		free(q);
		job_op_done(j);
		return;
	}
	if (q->qtype == T_DNSKEY)
		note_dnskey_size(s, tr);
	if (tr->status == TRANSPORT_OK)
		keep_key_wire(j, q, tr);
	if (tr->status == TRANSPORT_OK) {
		if (s->status == PROBE_Q_NONE)
			s->status = PROBE_Q_OK;
		switch (q->qtype) {
		case T_DNSKEY:
			s->latency_ms = tr->latency_ms;
			answer_dnskey(r, q->si, tr->view, now);
			break;
		case T_SOA:
			answer_soa(r, q->si, tr->view, now);
			break;
		case T_CDS:
			answer_cds(r, q->si, tr->view);
			break;
		case T_CDNSKEY:
			answer_cdnskey(r, q->si, tr->view);
			break;
		}
		if (tr->rcode != 0 && q->qtype == T_SOA) {
			char rc[24];

			rcode_text(tr->rcode, rc, sizeof(rc));
			snprintf(s->error, sizeof(s->error), "%s to SOA%s", rc,
			    tr->aa ? "" : " without the AA bit");
		}
	} else {
		st = tr->status == TRANSPORT_TIMEOUT ? PROBE_Q_TIMEOUT :
		    tr->status == TRANSPORT_MALFORMED ? PROBE_Q_MALFORMED :
		    PROBE_Q_NETERR;
		/* A server that fails only CDS/CDNSKEY (over TCP, mostly)
		 * still answers resolvers; that is the registry scanner's
		 * problem, judged on its own. */
		if (q->qtype == T_CDS || q->qtype == T_CDNSKEY) {
			if (s->cds_status == PROBE_Q_NONE ||
			    st > s->cds_status)
				s->cds_status = st;
			free(q);
			job_op_done(j);
			return;
		}
		/* The worst outcome over the server's four questions. */
		if (s->status == PROBE_Q_NONE || s->status == PROBE_Q_OK ||
		    st > s->status)
			s->status = st;
		snprintf(s->error, sizeof(s->error), "%s",
		    tr->error ? tr->error : transport_status_str(tr->status));
	}
	free(q);
	job_op_done(j);
}

static void
job_start_child(struct job *j)
{
	static const uint16_t	 types[] = { T_DNSKEY, T_SOA, T_CDS, T_CDNSKEY };
	struct probe_result	*r = j->res;
	struct referral		*ref = j->ref;
	unsigned		 i, k, t;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	bool			 cds_tcp;
	const char		*late = NULL;	/* a look-up the guard ended */
	char			 g[32];

	/* Addresses that came through libunbound, in NS order. */
	for (i = 0; i < ref->n_ns; i++) {
		struct nsaddr *n = j->ns_lookup[i];

		if (n == NULL)
			continue;
		if (n->timed_out && n->n == 0)
			late = n->name;
		for (k = 0; k < n->n; k++)
			add_server(j, ref->ns[i],
			    (struct sockaddr *)&n->addrs[k].ss, n->addrs[k].len);
		j->ns_lookup[i] = NULL;
	}
	if (r->n_servers == 0) {
		ubq_guard_text(j->e, g, sizeof(g));
		snprintf(r->error, sizeof(r->error), "no address for any of "
		    "the %u name servers%s%s%s%s%s", ref->n_ns, late ? " (" :
		    "", late ? late : "", late ? ": no answer within " : "",
		    late ? g : "", late ? ")" : "");
	}
	free(j->ref);
	j->ref = NULL;
	j->phase = PH_CHILD;
	/* A new name every check: no cache on the way has its answer. */
	r->denial_type = T_DENIAL;
	(void)denial_random_name(j->domain, r->denial_name,
	    sizeof(r->denial_name));
	for (i = 0; i < r->n_servers; i++) {
		memset(&ss, 0, sizeof(ss));
		if (addr_parse(r->servers[i].address, 53, &ss, &len,
		    NULL, 0) == -1)
			continue;
		/* The fifth question, DNSKEY over TCP, when asked for. */
		for (t = 0; t < ((j->flags & PROBE_START_TCP) ? 5 : 4); t++) {
			struct cquery *q = counted(calloc(1, sizeof(*q)));

			if (q == NULL)
				continue;
			q->job = j;
			q->si = i;
			q->tcp = t == 4;
			q->qtype = q->tcp ? T_DNSKEY : types[t];
			j->pending++;
			r->queries++;
			/* On the checks that ask over TCP, CDS/CDNSKEY go
			 * over TCP too, as registries' scanners ask: a server
			 * that fails them there fails the registry's scan.
			 * tcp_every bounds that cost with the DNSKEY one. */
			cds_tcp = (j->flags & PROBE_START_TCP) &&
			    (q->qtype == T_CDS || q->qtype == T_CDNSKEY);
			if (cds_tcp)
				r->servers[i].cds_tcp = true;
			if (transport_query_flags(j->e->tp,
			    (struct sockaddr *)&ss, len, j->domain, q->qtype,
			    q->tcp || cds_tcp ? TRANSPORT_Q_TCP : 0,
			    child_answer, q) == -1) {
				j->pending--;
				r->servers[i].status = PROBE_Q_NETERR;
				snprintf(r->servers[i].error,
				    sizeof(r->servers[i].error), "%s",
				    query_refused());
				free(q);
			}
		}
		job_start_denial(j, i, (struct sockaddr *)&ss, len);
	}
	if (r->n_servers > 0)
		job_start_denial_validation(j);
	job_op_done(j);		/* drop the hold taken in job_begin */
}

/* ------------------------------------------------------------------ */
/* Denial of existence: each server's negative answers, and libunbound's
 * verdict on the same random name. Two questions per server address and
 * about one more through libunbound (its walk above the zone is cached). */

struct dquery {
	struct job	*job;
	unsigned	 si;
	unsigned	 which;		/* 0: random name, 1: apex type */
};

static void
denial_answer(void *arg, const struct transport_result *tr)
{
	struct dquery		*q = arg;
	struct job		*j = q->job;
	struct probe_server	*s = &j->res->servers[q->si];
	struct probe_negative	*neg = q->which ? &s->nodata : &s->nxdomain;

	/* Only this answer's own status: a lost denial question says
	 * nothing about whether the server serves the zone. */
	neg->rcode = tr->status == TRANSPORT_OK ? tr->rcode : -1;
	if (tr->status == TRANSPORT_OK && tr->wire != NULL &&
	    tr->wire_len > 0 &&
	    (j->neg_wire[q->si][q->which] = counted(malloc(tr->wire_len))) !=
	    NULL) {
		memcpy(j->neg_wire[q->si][q->which], tr->wire, tr->wire_len);
		j->neg_len[q->si][q->which] = tr->wire_len;
		neg->status = PROBE_Q_OK;
	} else {
		neg->status = tr->status == TRANSPORT_OK ? PROBE_Q_NETERR :
		    tr->status == TRANSPORT_TIMEOUT ? PROBE_Q_TIMEOUT :
		    tr->status == TRANSPORT_MALFORMED ? PROBE_Q_MALFORMED :
		    PROBE_Q_NETERR;
		snprintf(neg->error, sizeof(neg->error), "%s",
		    tr->error ? tr->error : tr->status == TRANSPORT_OK ?
		    "out of memory" : transport_status_str(tr->status));
	}
	free(q);
	job_op_done(j);
}

static void
job_start_denial(struct job *j, unsigned si, const struct sockaddr *sa,
    socklen_t len)
{
	struct probe_result	*r = j->res;
	unsigned		 w;

	if (r->denial_name[0] == '\0')
		return;		/* the random name does not fit */
	for (w = 0; w < 2; w++) {
		struct dquery *q = counted(calloc(1, sizeof(*q)));
		struct probe_negative *neg = w ? &r->servers[si].nodata :
		    &r->servers[si].nxdomain;

		neg->rcode = -1;
		if (q == NULL)
			continue;
		q->job = j;
		q->si = si;
		q->which = w;
		j->pending++;
		r->queries++;
		if (transport_query(j->e->tp, sa, len, w ? j->domain :
		    r->denial_name, w ? T_DENIAL : T_A, denial_answer,
		    q) == -1) {
			j->pending--;
			neg->status = PROBE_Q_NETERR;
			snprintf(neg->error, sizeof(neg->error), "query queue "
			    "full");
			free(q);
		}
	}
}

static void
ub_denial_done(struct job *j, unsigned idx, int err, struct ub_result *res,
    bool timed_out)
{
	struct probe_result	*r = j->res;
	char			 g[32];

	(void)idx;
	if (timed_out) {
		r->denial_validation = PROBE_VAL_INDETERMINATE;
		ubq_guard_text(j->e, g, sizeof(g));
		snprintf(r->denial_why_bogus, sizeof(r->denial_why_bogus),
		    "no verdict within %s", g);
	} else if (err != 0 || res == NULL) {
		r->denial_validation = PROBE_VAL_INDETERMINATE;
		snprintf(r->denial_why_bogus, sizeof(r->denial_why_bogus),
		    "the validator failed: %s", ub_strerror(err));
	} else {
		if (res->secure)
			r->denial_validation = PROBE_VAL_SECURE;
		else if (res->bogus)
			r->denial_validation = PROBE_VAL_BOGUS;
		else if (res->rcode == 0 || res->rcode == 3)
			r->denial_validation = PROBE_VAL_INSECURE;
		else
			r->denial_validation = PROBE_VAL_INDETERMINATE;
		if (res->why_bogus != NULL)
			snprintf(r->denial_why_bogus,
			    sizeof(r->denial_why_bogus), "%s", res->why_bogus);
	}
	ub_resolve_free(res);
	job_op_done(j);
}

static void
job_start_denial_validation(struct job *j)
{
	struct probe_result	*r = j->res;

	if (r->denial_name[0] == '\0')
		return;
	j->pending++;
	j->e->stats.validations++;
	if (ubq_start(j, r->denial_name, T_A, ub_denial_done, 0) != 0) {
		j->pending--;
		snprintf(r->denial_why_bogus, sizeof(r->denial_why_bogus),
		    "the validator refused the question");
	}
}

/* Every DNSKEY is in: judge each server's negative answers. */
static void
job_check_denials(struct job *j)
{
	struct probe_result	*r = j->res;
	time_t			 now = clock_now();
	unsigned		 i;

	for (i = 0; i < r->n_servers && i < PROBE_MAX_SERVERS; i++) {
		if (j->neg_wire[i][0] != NULL)
			denial_check(j->e->denial_cache, r, i,
			    &r->servers[i].nxdomain,
			    j->neg_wire[i][0], j->neg_len[i][0],
			    r->denial_name, T_A, now);
		if (j->neg_wire[i][1] != NULL)
			denial_check(j->e->denial_cache, r, i,
			    &r->servers[i].nodata,
			    j->neg_wire[i][1], j->neg_len[i][1], j->domain,
			    T_DENIAL, now);
	}
}

/* Every answer is in: verify, for the servers that serve CDS or CDNSKEY,
 * the signatures a registry checks before it applies them. */
static void
job_check_cds_sigs(struct job *j)
{
	struct probe_result	*r = j->res;
	unsigned		 i;

	for (i = 0; i < r->n_servers && i < PROBE_MAX_SERVERS; i++) {
		const struct probe_server *s = &r->servers[i];

		if ((s->n_cds == 0 && s->n_cdnskey == 0) ||
		    j->key_wire[i][0] == NULL)
			continue;
		sigcheck_server(j->e->denial_cache, r, i,
		    j->key_wire[i][0], j->key_len[i][0],
		    j->key_wire[i][1], j->key_len[i][1],
		    j->key_wire[i][2], j->key_len[i][2]);
	}
}

/* ------------------------------------------------------------------ */
/* Validation: in-process (libunbound) and through resolvers (getdns). */

static void
ub_validate_done(struct job *j, unsigned idx, int err, struct ub_result *res,
    bool timed_out)
{
	struct probe_result	*r = j->res;
	int			 rcode;
	char			 g[32];

	(void)idx;
	if (timed_out) {
		/* No verdict, and why: the classifier reports it. */
		r->validation = PROBE_VAL_INDETERMINATE;
		r->validation_timed_out = true;
		ubq_guard_text(j->e, g, sizeof(g));
		snprintf(r->why_bogus, sizeof(r->why_bogus), "no verdict "
		    "within %s", g);
		job_op_done(j);
		return;
	}
	if (err != 0 || res == NULL) {
		r->validation = PROBE_VAL_INDETERMINATE;
		snprintf(r->why_bogus, sizeof(r->why_bogus), "the validator "
		    "failed: %s", ub_strerror(err));
		ub_resolve_free(res);
		job_op_done(j);
		return;
	}
	rcode = res->rcode;
	if (res->secure)
		r->validation = PROBE_VAL_SECURE;
	else if (res->bogus)
		r->validation = PROBE_VAL_BOGUS;
	else if (rcode == 0 || rcode == 3)
		r->validation = PROBE_VAL_INSECURE;
	else
		r->validation = PROBE_VAL_INDETERMINATE;
	if (res->why_bogus != NULL)
		snprintf(r->why_bogus, sizeof(r->why_bogus), "%s",
		    res->why_bogus);
	else if (r->validation == PROBE_VAL_INDETERMINATE)
		snprintf(r->why_bogus, sizeof(r->why_bogus), "rcode %d, no "
		    "answer to validate", rcode);
	ub_resolve_free(res);
	job_op_done(j);
}

static void	rq_finish(struct rquery *, enum probe_qstatus);
static void	rq_cb(getdns_context *, getdns_callback_type_t, getdns_dict *,
		    void *, getdns_transaction_t);

/* q once nothing holds it any more: off both lists, no getdns question
 * and no transport query open. */
static void
rq_free(struct rquery *q)
{
	if (q->guard != NULL)
		event_free(q->guard);
	if (q->resend != NULL)
		event_free(q->resend);
	free(q);
}

static void
rq_guard(evutil_socket_t fd, short ev, void *arg)
{
	struct rquery	*q = arg;
	struct probe_engine *e = q->job->e;

	(void)fd; (void)ev;
	/* getdns did not call back in time: never let one resolver hold a
	 * domain (see NOTES: getdns can spin on hostile answers). On TCP
	 * the transport calls back later, and frees q then; waiting for its
	 * re-send, q has no question open anywhere and goes now. */
	rq_finish(q, PROBE_Q_TIMEOUT);
	if (q->waiting) {
		LIST_REMOVE(q, entry);
		rq_free(q);
	} else if (!q->tcp)
		getdns_cancel_callback(e->gd[q->idx], q->tid);
}

static void
rq_finish(struct rquery *q, enum probe_qstatus st)
{
	struct probe_resolver	*v;

	if (q->done)
		return;
	q->done = true;
	v = &q->job->res->resolvers[q->idx];
	if (v->status == PROBE_Q_NONE)
		v->status = st;
	v->latency_ms = ms_since(&q->t0);
	if (q->guard != NULL) {
		event_free(q->guard);
		q->guard = NULL;
	}
	job_op_done(q->job);
	q->job = NULL;
}

/* Read rcode, AD and an extended DNS error (RFC 8914) from a reply. */
static void
resolver_reply(struct rquery *q, const uint8_t *wire, size_t len)
{
	struct probe_resolver	*v = &q->job->res->resolvers[q->idx];
	getdns_bindata		*od;
	getdns_dict		*msg = NULL, *rr;
	getdns_list		*add, *opts;
	char			 err[128];
	size_t			 i, n, m, o;
	uint32_t		 type, code, ad = 0, rcode = 0;

	if (len < 12) {
		v->status = PROBE_Q_TIMEOUT;
		return;
	}
	/* getdns takes answers whose question does not match: check. */
	if (transport_parse_reply(wire, len, q->job->domain, T_SOA,
	    (uint16_t)(wire[0] << 8 | wire[1]), 0, &msg, err, sizeof(err)) !=
	    TRANSPORT_REPLY_OK) {
		v->status = PROBE_Q_MALFORMED;
		snprintf(v->ede_text, sizeof(v->ede_text), "%s", err);
		return;
	}
	v->status = PROBE_Q_OK;
	(void)getdns_dict_get_int(msg, "/header/rcode", &rcode);
	(void)getdns_dict_get_int(msg, "/header/ad", &ad);
	v->rcode = (int)rcode;
	v->ad = ad == 1;
	if (getdns_dict_get_list(msg, "additional", &add) == GETDNS_RETURN_GOOD &&
	    getdns_list_get_length(add, &n) == GETDNS_RETURN_GOOD) {
		for (i = 0; i < n; i++) {
			if (getdns_list_get_dict(add, i, &rr) != GETDNS_RETURN_GOOD ||
			    getdns_dict_get_int(rr, "type", &type) !=
			    GETDNS_RETURN_GOOD || type != 41)
				continue;
			/* The extended rcode bits live in the OPT TTL. */
			if (getdns_dict_get_int(rr, "extended_rcode", &code) ==
			    GETDNS_RETURN_GOOD && code != 0)
				v->rcode = (int)((code << 4) | rcode);
			if (getdns_dict_get_list(rr, "/rdata/options", &opts) !=
			    GETDNS_RETURN_GOOD ||
			    getdns_list_get_length(opts, &m) != GETDNS_RETURN_GOOD)
				continue;
			for (o = 0; o < m; o++) {
				getdns_dict *opt;

				if (getdns_list_get_dict(opts, o, &opt) !=
				    GETDNS_RETURN_GOOD ||
				    getdns_dict_get_int(opt, "option_code",
				    &code) != GETDNS_RETURN_GOOD || code != 15 ||
				    getdns_dict_get_bindata(opt, "option_data",
				    &od) != GETDNS_RETURN_GOOD || od->size < 2)
					continue;
				v->ede = od->data[0] << 8 | od->data[1];
				snprintf(v->ede_text, sizeof(v->ede_text),
				    "%.*s", (int)(od->size - 2 > 120 ? 120 :
				    od->size - 2), od->data + 2);
				for (char *c = v->ede_text; *c; c++)
					if (!isprint((unsigned char)*c))
						*c = '?';
			}
		}
	}
	getdns_dict_destroy(msg);
}

/* The TCP answer to a resolver question that came back truncated. */
static void
rq_tcp_cb(void *arg, const struct transport_result *tr)
{
	struct rquery	*q = arg;

	LIST_REMOVE(q, entry);
	if (!q->done && q->job != NULL && !q->job->e->destroying) {
		switch (tr->status) {
		case TRANSPORT_OK:
			resolver_reply(q, tr->wire, tr->wire_len);
			rq_finish(q, PROBE_Q_OK);
			break;
		case TRANSPORT_MALFORMED:
			rq_finish(q, PROBE_Q_MALFORMED);
			break;
		case TRANSPORT_TIMEOUT:
			rq_finish(q, PROBE_Q_TIMEOUT);
			break;
		default:
			rq_finish(q, PROBE_Q_NETERR);
			break;
		}
	}
	rq_free(q);
}

/*
 * A truncated UDP answer: ask again over TCP with our own transport.
 * getdns 1.6.0 is kept to UDP because its TCP path, when an answer is
 * dripped slower than the timeout, closes the socket with its event
 * still registered, and then closes that descriptor number a second
 * time after it was given to another socket: libevent's "Epoll ADD(1)
 * on fd N failed", and a socket of someone else's closed under it
 * (tests/e2e/resolver_drip.py). True when q is now the transport's.
 */
static bool
rq_tcp_start(struct rquery *q)
{
	struct probe_engine	*e = q->job->e;

	if (transport_query_flags(e->tp, (struct sockaddr *)&e->res_ss[q->idx],
	    e->res_len[q->idx], q->job->domain, T_SOA, TRANSPORT_Q_TCP |
	    TRANSPORT_Q_RD, rq_tcp_cb, q) == -1)
		return false;
	q->tcp = true;
	LIST_INSERT_HEAD(&e->rq_tcp, q, entry);
	return true;
}

/* Is the reply getdns handed over truncated (TC=1)? */
static bool
reply_truncated(const getdns_dict *resp, getdns_bindata **wire)
{
	if (getdns_dict_get_bindata(resp, "/replies_full/0", wire) !=
	    GETDNS_RETURN_GOOD || (*wire)->size < 12) {
		*wire = NULL;
		return false;
	}
	return ((*wire)->data[2] & 0x02) != 0;
}

/*
 * The re-send of a question getdns timed out on, from a timer: never
 * from inside rq_cb, where getdns is still tearing down the request
 * that timed out (a new one made there shares the context mid-update:
 * the kind of re-entry that closed sockets twice in getdns 1.6.0, see
 * rq_tcp_start). Only the guard or the engine's end can come between,
 * and both take q off rq_wait, which frees this timer with it.
 */
static void
rq_resend(evutil_socket_t fd, short ev, void *arg)
{
	struct rquery		*q = arg;
	struct probe_engine	*e = q->job->e;

	(void)fd; (void)ev;
	LIST_REMOVE(q, entry);
	q->waiting = false;
	q->attempts++;
	if (getdns_general(e->gd[q->idx], q->job->domain, T_SOA, NULL, q,
	    &q->tid, rq_cb) == GETDNS_RETURN_GOOD)
		return;
	/* getdns refused it (out of memory): the timeout stands. */
	rq_finish(q, PROBE_Q_TIMEOUT);
	rq_free(q);
}

/*
 * Arms q's re-send; -1 (out of memory): the timeout stands. Questions
 * that timed out together (a resolver that lost a burst, or was away
 * for a moment) are asked again spread over RQ_RESEND_JITTER_MS, not in
 * one burst. The guard's second of slack covers the wait: at most 10
 * re-sends of 50 ms.
 */
static int
rq_resend_later(struct rquery *q)
{
	struct probe_engine	*e = q->job->e;
	struct timeval		 tv = { 0, 0 };

	tv.tv_usec = (suseconds_t)(1 + arc4random_uniform(
	    RQ_RESEND_JITTER_MS)) * 1000;
	if (q->resend == NULL &&
	    (q->resend = evtimer_new(e->base, rq_resend, q)) == NULL)
		return -1;
	if (evtimer_add(q->resend, &tv) == -1)
		return -1;
	q->waiting = true;
	LIST_INSERT_HEAD(&e->rq_wait, q, entry);
	return 0;
}

static void
rq_cb(getdns_context *ctx, getdns_callback_type_t type, getdns_dict *resp,
    void *arg, getdns_transaction_t tid)
{
	struct rquery	*q = arg;
	getdns_bindata	*wire = NULL;

	(void)ctx; (void)tid;
	/* getdns in stub mode does not re-send a lost UDP question; one
	 * dropped packet would be reported as a silent resolver. Re-send
	 * up to `retries` times (rq_resend), still under the wall-clock
	 * guard, which allows for retries + 1 timeouts. */
	if (type == GETDNS_CALLBACK_TIMEOUT && !q->done && q->job != NULL &&
	    !q->job->e->destroying && q->attempts < (unsigned)
	    q->job->e->cfg.retries && rq_resend_later(q) == 0) {
		getdns_dict_destroy(resp);
		return;
	}
	if (!q->done && q->job != NULL && !q->job->e->destroying) {
		if (type == GETDNS_CALLBACK_COMPLETE && resp != NULL &&
		    reply_truncated(resp, &wire) && rq_tcp_start(q)) {
			getdns_dict_destroy(resp);
			return;
		}
		if (type == GETDNS_CALLBACK_COMPLETE && resp != NULL) {
			/* A truncated answer when TCP could not start: its
			 * header still carries the rcode and AD. */
			if (wire != NULL)
				resolver_reply(q, wire->data, wire->size);
			else
				q->job->res->resolvers[q->idx].status =
				    PROBE_Q_TIMEOUT;
			rq_finish(q, PROBE_Q_OK);
		} else
			rq_finish(q, type == GETDNS_CALLBACK_TIMEOUT ?
			    PROBE_Q_TIMEOUT : PROBE_Q_NETERR);
	}
	getdns_dict_destroy(resp);
	rq_free(q);
}

static void
job_start_validation(struct job *j)
{
	struct probe_engine	*e = j->e;
	struct probe_result	*r = j->res;
	unsigned		 i;
	struct timeval		 tv;
	int			 guard_ms;

	j->pending++;
	e->stats.validations++;
	if (ubq_start(j, j->domain, T_SOA, ub_validate_done, 0) != 0) {
		j->pending--;
		r->validation = PROBE_VAL_INDETERMINATE;
		snprintf(r->why_bogus, sizeof(r->why_bogus), "the validator "
		    "refused the question");
	}
	guard_ms = e->cfg.timeout_ms * (e->cfg.retries + 1) + 1000;
	for (i = 0; i < e->n_resolvers; i++) {
		struct rquery *q = counted(calloc(1, sizeof(*q)));
		struct probe_resolver *v = &r->resolvers[i];

		snprintf(v->address, sizeof(v->address), "%s", e->res_addr[i]);
		v->rcode = -1;
		v->ede = -1;
		if (q == NULL) {
			v->status = PROBE_Q_NETERR;
			continue;
		}
		q->job = j;
		q->idx = i;
		clock_gettime(CLOCK_MONOTONIC, &q->t0);
		j->pending++;
		e->stats.resolver_queries++;
		if (getdns_general(e->gd[i], j->domain, T_SOA, NULL, q, &q->tid,
		    rq_cb) != GETDNS_RETURN_GOOD) {
			j->pending--;
			v->status = PROBE_Q_NETERR;
			free(q);
			continue;
		}
		q->guard = evtimer_new(e->base, rq_guard, q);
		tv.tv_sec = guard_ms / 1000;
		tv.tv_usec = (guard_ms % 1000) * 1000;
		if (q->guard != NULL)
			evtimer_add(q->guard, &tv);
	}
	r->n_resolvers = e->n_resolvers;
}

/* ------------------------------------------------------------------ */
/* Does the root answer as the root? (see struct rootcheck) */

/* Why an answer to ". DNSKEY" from a root address cannot be the root's,
 * or NULL when it is: authoritative, and the DNSKEY RRset validates
 * against the trust anchor (getdns, on records transport already parsed;
 * no network). */
static const char *
root_answer_unusable(struct probe_engine *e, const struct transport_result *tr,
    char *why, size_t len)
{
	getdns_list	*ans = NULL, *set = NULL;
	getdns_dict	*rr;
	getdns_bindata	*bd;
	size_t		 i, n = 0, k = 0;
	uint32_t	 type, covered;
	unsigned	 keys = 0;
	getdns_return_t	 v = GETDNS_RETURN_GENERIC_ERROR;
	char		 rc[24];

	if (tr->rcode != 0) {
		rcode_text(tr->rcode, rc, sizeof(rc));
		snprintf(why, len, "answered %s to the root's DNSKEY question",
		    rc);
		return why;
	}
	if (!tr->aa) {
		snprintf(why, len, "answered the root's DNSKEY question "
		    "without the AA bit");
		return why;
	}
	if ((set = getdns_list_create()) == NULL) {
		snprintf(why, len, "out of memory");
		goto out;
	}
	(void)getdns_dict_get_list(tr->msg, "answer", &ans);
	if (ans != NULL)
		(void)getdns_list_get_length(ans, &n);
	for (i = 0; i < n; i++) {
		if (getdns_list_get_dict(ans, i, &rr) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_int(rr, "type", &type) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_bindata(rr, "name", &bd) !=
		    GETDNS_RETURN_GOOD || bd->size != 1)
			continue;
		if (type == T_DNSKEY)
			keys++;
		else if (type != 46 || getdns_dict_get_int(rr,
		    "/rdata/type_covered", &covered) != GETDNS_RETURN_GOOD ||
		    covered != T_DNSKEY)
			continue;
		if (getdns_list_set_dict(set, k++, rr) != GETDNS_RETURN_GOOD) {
			snprintf(why, len, "out of memory");
			goto out;
		}
	}
	if (keys == 0) {
		snprintf(why, len, "served no DNSKEY for the root");
		goto out;
	}
	/* clock_now(): the time libunbound validates at too (tests move
	 * it with DNSSECMON_NOW); 1 h of skew for a monitor's clock. The
	 * set is its own support: getdns 1.6.0 with a DS anchor (root.ds)
	 * builds the chain from support records only and says BOGUS for a
	 * good set without them (measured; a DNSKEY anchor works either
	 * way, and a bad DS, key or RRSIG is BOGUS both ways). */
	v = getdns_validate_dnssec2(set, set, e->anchor, clock_now(), 3600);
	if (v != GETDNS_DNSSEC_SECURE)
		snprintf(why, len, "served a root DNSKEY RRset that does not "
		    "validate against the trust anchor %s",
		    e->rc.anchor_file);
out:
	getdns_list_destroy(set);
	return v == GETDNS_DNSSEC_SECURE ? NULL : why;
}

static void
rootcheck_conclude(struct probe_engine *e, enum rootcheck_state st)
{
	struct rootcheck	*c = &e->rc;

	c->state = st;
	c->expires = time(NULL) + (st == RC_OK ? ROOTCHECK_TTL :
	    ROOTCHECK_RETRY);
	/* Once, loudly, on the change: it is the monitor's problem, not
	 * any domain's. */
	if (st == RC_INTERCEPTED && c->last != RC_INTERCEPTED)
		log_warnx("the network intercepts DNS: %s. No domain gets a "
		    "verdict until the root answers as the root: check the "
		    "monitor's network (a firewall or middlebox answering "
		    "port 53), root hints and trust anchor", c->reason);
	else if (st == RC_OK && c->last == RC_INTERCEPTED)
		log_warnx("the root answers as the root again: DNS is no "
		    "longer intercepted");
	if (st != RC_UNVERIFIED)
		c->last = st;
	waiters_wake(&c->waiters);
}

static void
rootcheck_answer(void *arg, const struct transport_result *tr)
{
	struct probe_engine	*e = arg;
	struct rootcheck	*c = &e->rc;
	char			 why[200], addr[PROBE_ADDR_MAX];
	const char		*bad = NULL;

	c->open--;
	if (tr->status == TRANSPORT_OK)
		bad = root_answer_unusable(e, tr, why, sizeof(why));
	else if (tr->status == TRANSPORT_MALFORMED) {
		snprintf(why, sizeof(why), "sent a malformed answer (%s)",
		    tr->error ? tr->error : "unparsable");
		bad = why;
	}
	if (bad != NULL) {
		c->bad++;
		if (c->reason[0] == '\0') {
			addr_text(tr->server, addr, sizeof(addr));
			snprintf(c->reason, sizeof(c->reason), "root server "
			    "%s %s", addr, bad);
		}
	} else if (tr->status == TRANSPORT_OK)
		c->good++;
	if (c->state != RC_PENDING)
		return;
	/* One root that answers as the root is enough: a single lame
	 * hint is the walk's business, not interception. */
	if (c->good > 0)
		rootcheck_conclude(e, RC_OK);
	else if (c->open == 0)
		rootcheck_conclude(e, c->bad > 0 ? RC_INTERCEPTED :
		    RC_UNVERIFIED);
}

/* Ask every root address at once; the first good answer decides. */
static void
rootcheck_start(struct probe_engine *e)
{
	struct rootcheck	*c = &e->rc;
	struct step		*root = e->root;
	unsigned		 i;

	c->state = RC_PENDING;
	c->good = c->bad = 0;
	c->reason[0] = '\0';
	for (i = 0; i < root->n_addrs; i++) {
		c->open++;
		if (transport_query_flags(e->tp,
		    (struct sockaddr *)&root->addrs[i].ss, root->addrs[i].len,
		    ".", T_DNSKEY, TRANSPORT_Q_DICT, rootcheck_answer, e) == -1)
			c->open--;
	}
	if (c->open == 0)
		rootcheck_conclude(e, RC_UNVERIFIED);
}

/* The walk and the validators start once the root answered as the root:
 * behind an intercepting network they would only collect made-up
 * answers, and libunbound would wait out its timeouts on them. */
static void
job_go(struct job *j)
{
	struct probe_result	*r = j->res;
	struct rootcheck	*c = &j->e->rc;

	if (c->state == RC_INTERCEPTED) {
		r->intercepted = true;
		snprintf(r->error, sizeof(r->error), "%s", c->reason);
		j->phase = PH_CHILD;
		job_op_done(j);		/* drop the hold of job_begin */
		return;
	}
	job_start_validation(j);
	job_walk(j);
}

static void
job_rootcheck_cb(void *arg)
{
	job_go(arg);
}

/* ------------------------------------------------------------------ */
/* Job life cycle. */

/*
 * A probe_result is ~75 KB of fixed arrays (16 servers, 16 keys of up to
 * 1100 bytes, 24 problems, ...), of which a domain with 2 servers and 2
 * keys writes about a fifth. With max_concurrent_domains (500) of them in
 * flight, calloc() made all of it resident: it clears every byte of a
 * reused chunk, 38 MB in all, half the daemon's peak RSS. Pages of a fresh
 * anonymous mapping are zero and cost memory only once written, so each
 * result gets one of its own: 2 system calls and a page fault per page
 * written, per domain (measured: no change in the cycle's CPU).
 */
#if defined(__SANITIZE_ADDRESS__)
#define RESULT_FROM_HEAP	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RESULT_FROM_HEAP	1
#endif
#endif

static struct probe_result *
result_new(void)
{
#ifdef RESULT_FROM_HEAP
	/* Under ASan, from the heap: its red zones catch a write past the
	 * end, which the slack of a mapping's last page would absorb. */
	return calloc(1, sizeof(struct probe_result));
#else
	void	*p;

	p = mmap(NULL, sizeof(struct probe_result), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
#endif
}

static void
result_free(struct probe_result *r)
{
#ifdef RESULT_FROM_HEAP
	free(r);
#else
	if (r != NULL)
		(void)munmap(r, sizeof(*r));
#endif
}

void
probe_result_keep(struct probe_engine *e, struct probe_result *r)
{
	/* Told the engine, not written in the result: the caller may free
	 * it before its callback returns. */
	if (e->cb_job != NULL && e->cb_job->res == r)
		e->cb_job->res_kept = true;
}

void
probe_result_free(struct probe_result *r)
{
	result_free(r);
}

static void
job_free(struct job *j)
{
	struct ubq	*q;
	unsigned	 i;

	if (j == NULL)
		return;
	/* Only when the engine goes: libunbound, deleted first, calls back
	 * no more. */
	while ((q = LIST_FIRST(&j->ubqs)) != NULL) {
		ubq_unlink(q);
		free(q);
	}
	for (i = 0; i < PROBE_MAX_SERVERS; i++) {
		free(j->neg_wire[i][0]);
		free(j->neg_wire[i][1]);
		free(j->key_wire[i][0]);
		free(j->key_wire[i][1]);
		free(j->key_wire[i][2]);
	}
	free(j->ref);
	result_free(j->res);
	free(j);
}

/*
 * A host with an IPv6 route but no IPv6 connectivity (a default route
 * that goes nowhere, a firewall) makes every IPv6 server address fail,
 * which is the host's fault and no domain's. Until one IPv6 server has
 * answered this engine, the result says so (the classifier then reports
 * no IPv6 failure) and the log says it once.
 */
static void
job_judge_ipv6(struct job *j)
{
	struct probe_engine	*e = j->e;
	struct probe_result	*r = j->res;
	unsigned		 i, v6 = 0;

	for (i = 0; i < r->n_servers; i++)
		if (strchr(r->servers[i].address, ':') != NULL)
			v6++;
	r->ipv6_unproven = v6 > 0 && e->stats.ipv6_answers == 0;
	if (!r->ipv6_unproven || e->v6_unproven_said)
		return;
	e->v6_unproven_said = true;
	log_warnx("no IPv6 name server has answered this host yet (nor those "
	    "of %s): IPv6 failures are not reported until one does; check "
	    "the host's IPv6 connectivity, or set 'ipv6: no' (--no-ipv6)",
	    r->domain);
}

/*
 * Free the retired cache entries that no active job can hold: a job holds
 * only entries it found in the table, so one that began after an entry
 * was retired (j->epoch >= retired) never saw it. Pending steps that point
 * at a retired cut are held by the jobs waiting on them.
 */
static void
cache_reclaim(struct probe_engine *e)
{
	struct step	*s, **sp;
	struct nsaddr	*n, **np;
	struct job	*j;
	uint64_t	 oldest = UINT64_MAX;

	if (e->step_grave == NULL && e->ns_grave == NULL)
		return;
	TAILQ_FOREACH(j, &e->active, entry)
		if (j->epoch < oldest)
			oldest = j->epoch;
	for (sp = &e->step_grave; (s = *sp) != NULL; )
		if (s->retired <= oldest) {
			*sp = s->gnext;
			e->stats.cache_freed++;
			free(s);
		} else
			sp = &s->gnext;
	for (np = &e->ns_grave; (n = *np) != NULL; )
		if (n->retired <= oldest) {
			*np = n->gnext;
			e->stats.cache_freed++;
			nsaddr_free(n);
		} else
			np = &n->gnext;
}

static void
job_op_done(struct job *j)
{
	struct probe_engine	*e = j->e;

	if (--j->pending > 0 || j->phase != PH_CHILD)
		return;
	if (e->verifier != NULL) {
		offload_submit(e->verifier, &j->verify, j);
		return;
	}
	job_verify(j);
	job_end(j);
}

/* Every answer is in: verify what needs the keys (on the verifier's
 * thread when there is one: nothing else touches the job meanwhile). */
static void
job_verify(void *arg)
{
	struct job	*j = arg;

	job_check_denials(j);
	job_check_cds_sigs(j);
}

/* The check is over: hand the observation to the caller. */
static void
job_end(void *arg)
{
	struct job		*j = arg;
	struct probe_engine	*e = j->e;

	j->res->duration_ms = ms_since(&j->t0);
	job_judge_ipv6(j);
	j->res->local_errors = (unsigned)(local_now() - j->local0);
	e->stats.local_errors += j->res->local_errors;
	e->stats.domains++;
	TAILQ_REMOVE(&e->active, j, entry);
	e->n_active--;
	e->cb_job = j;
	j->cb(j->arg, j->res);
	e->cb_job = NULL;
	if (j->res_kept)
		j->res = NULL;		/* the caller's now */
	job_free(j);
	cache_reclaim(e);
	engine_kick(e);
}

/* Starts q's probe and frees q. -1: out of memory, q back at the head of
 * the queue. */
static int
job_begin(struct probe_engine *e, struct qjob *q)
{
	struct job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->res = result_new()) == NULL ||
	    (j->ref = calloc(1, sizeof(*j->ref))) == NULL) {
		job_free(j);
		TAILQ_INSERT_HEAD(&e->queued, q, entry);
		e->n_queued++;
		return -1;
	}
	j->e = e;
	LIST_INIT(&j->ubqs);
	j->cb = q->cb;
	j->arg = q->arg;
	j->flags = q->flags;
	j->has_hint = q->has_hint;
	j->hint = q->hint;
	snprintf(j->domain, sizeof(j->domain), "%s", q->domain);
	free(q);
	j->epoch = e->epoch;
	j->local0 = local_now();
	j->ub = e->ub[e->ub_next++ % e->n_ub];
	TAILQ_INSERT_TAIL(&e->active, j, entry);
	e->n_active++;
	snprintf(j->res->domain, sizeof(j->res->domain), "%s", j->domain);
	j->res->started = clock_now();
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	j->phase = PH_WALK;
	j->cut = e->root;
	j->labels = 0;
	/* Held until the child phase is reached, so that a fast validator
	 * answer cannot end the job early. */
	j->pending = 1;
	if ((e->rc.state == RC_NONE || e->rc.expires < time(NULL)) &&
	    e->rc.state != RC_PENDING && e->rc.open == 0)
		rootcheck_start(e);
	if (e->rc.state == RC_PENDING &&
	    waiter_add(&e->rc.waiters, job_rootcheck_cb, j) == 0)
		return 0;
	job_go(j);
	return 0;
}

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct probe_engine	*e = arg;
	struct qjob		*q;

	(void)fd; (void)ev;
	while (e->n_active < e->cfg.max_domains &&
	    (q = TAILQ_FIRST(&e->queued)) != NULL) {
		TAILQ_REMOVE(&e->queued, q, entry);
		e->n_queued--;
		if (job_begin(e, q) == -1) {
			/* Out of memory: popping the same job again at once
			 * would spin until malloc succeeds. Back off. */
			struct timeval tv = { 0, 200 * 1000 };

			if (e->stats.oom_backoffs++ == 0)
				log_warnx("probe: out of memory starting a "
				    "probe; retrying every 200 ms");
			evtimer_add(e->kick, &tv);
			return;
		}
	}
}

/* Start queued jobs from the loop, never from inside a caller's call. */
static void
engine_kick(struct probe_engine *e)
{
	struct timeval	 zero = { 0, 0 };

	if (!e->destroying && e->n_queued > 0)
		evtimer_add(e->kick, &zero);
}

int
probe_start(struct probe_engine *e, const char *domain, probe_done_cb cb,
    void *arg, char *err, size_t errlen)
{
	return probe_start_with(e, domain, PROBE_START_TCP, NULL, cb, arg,
	    err, errlen);
}

int
probe_start_flags(struct probe_engine *e, const char *domain,
    unsigned flags, probe_done_cb cb, void *arg, char *err, size_t errlen)
{
	return probe_start_with(e, domain, flags, NULL, cb, arg, err, errlen);
}

int
probe_start_hint(struct probe_engine *e, const char *domain,
    const struct probe_hint *hint, probe_done_cb cb, void *arg, char *err,
    size_t errlen)
{
	return probe_start_with(e, domain, PROBE_START_TCP, hint, cb, arg,
	    err, errlen);
}

int
probe_start_with(struct probe_engine *e, const char *domain, unsigned flags,
    const struct probe_hint *hint, probe_done_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct qjob	*q;
	uint8_t		 wire[DSMATCH_NAME_MAX];
	size_t		 wlen;
	char		 why[160], name[PROBE_NAME_MAX];

	if (dsmatch_name_to_wire(domain, wire, sizeof(wire), &wlen, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "'%s' is not a valid domain name: %s",
		    domain, why);
		return -1;
	}
	if (wlen == 1) {
		snprintf(err, errlen, "the root zone has no parent to hold a "
		    "DS; name a domain below it");
		return -1;
	}
	if (answer_name(&(getdns_bindata){ wlen, wire }, name,
	    sizeof(name)) == -1) {
		snprintf(err, errlen, "'%s' cannot be represented", domain);
		return -1;
	}
	if ((q = calloc(1, sizeof(*q) + strlen(name) + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	q->cb = cb;
	q->arg = arg;
	q->flags = flags;
	if (hint != NULL) {
		q->has_hint = true;
		q->hint = *hint;
	}
	memcpy(q->domain, name, strlen(name) + 1);
	TAILQ_INSERT_TAIL(&e->queued, q, entry);
	e->n_queued++;
	engine_kick(e);
	return 0;
}

/* FNV-1a of each DS, summed: the order servers list them in does not
 * matter, and a change of any byte changes the sum. */
uint64_t
probe_ds_fingerprint(const struct probe_ds *ds, unsigned n_ds)
{
	uint64_t	 sum = n_ds, h;
	unsigned	 i, k;

	for (i = 0; i < n_ds; i++) {
		const struct probe_ds *d = &ds[i];
		uint8_t b[5 + PROBE_MAX_DIGEST];
		size_t n = 0;

		b[n++] = (uint8_t)(d->key_tag >> 8);
		b[n++] = (uint8_t)d->key_tag;
		b[n++] = d->algorithm;
		b[n++] = d->digest_type;
		b[n++] = d->digest_len;
		memcpy(b + n, d->digest, d->digest_len);
		n += d->digest_len;
		h = 14695981039346656037ULL;
		for (k = 0; k < n; k++)
			h = (h ^ b[k]) * 1099511628211ULL;
		sum += h;
	}
	return sum;
}

void
probe_engine_stats(const struct probe_engine *e, struct probe_stats *out)
{
	struct transport_stats	 ts;

	*out = e->stats;
	transport_stats(e->tp, &ts);
	out->packets = ts.udp_sent + ts.tcp_sent;
	out->tcp_packets = ts.tcp_sent;
	out->tcp_connections = ts.tcp_connections;
	out->timeouts = ts.timeouts;
	out->silent_cut = ts.silent_cut;
	out->silent_addresses = ts.silent_now;
	out->tc_fallbacks = ts.tc_fallbacks;
}

void
probe_drop_queued(struct probe_engine *e, void (*fn)(void *))
{
	struct qjob	*q;

	while ((q = TAILQ_FIRST(&e->queued)) != NULL) {
		TAILQ_REMOVE(&e->queued, q, entry);
		e->n_queued--;
		fn(q->arg);
		free(q);
	}
}

unsigned
probe_pending(const struct probe_engine *e)
{
	return e->n_queued + e->n_active;
}

/* ------------------------------------------------------------------ */
/* Engine. */

/* libunbound writes warnings to stderr on its own; send them through our
 * logger at debug level instead, one line at a time. */
static ssize_t
ublog_write(void *cookie, const char *buf, size_t len)
{
	size_t	 n = len;

	(void)cookie;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n > 0)
		log_debug("libunbound: %.*s", (int)(n > 1000 ? 1000 : n), buf);
	return (ssize_t)len;
}

/* A libunbound thread has answers: run their callbacks here, on the
 * loop. */
static void
ub_ready(evutil_socket_t fd, short ev, void *arg)
{
	struct ub_ctx	*ub = arg;
	int		 rc;

	(void)fd; (void)ev;
	if ((rc = ub_process(ub)) != 0)
		log_warnx("libunbound: %s", ub_strerror(rc));
}

/*
 * libunbound answers some names from built-in local zones (RFC 6761
 * special-use names, the RFC 1918 and AS112 reverse zones) without asking
 * anybody: a zone under test. would be judged insecure and its servers
 * would "have no address" although every server answers. A monitor asks
 * the servers, so each default zone is made transparent: with no local
 * data in it, libunbound resolves as for any other name.
 * ("NAME nodefault" through ub_ctx_set_option does nothing in 1.17: the
 * whole string is taken as the zone name. "NAME transparent" works.)
 * The list is unbound 1.17's (services/localzone.c) plus the names later
 * versions add; a name that is no default costs nothing.
 */
static const char *const ub_default_zones[] = {
	"localhost.", "127.in-addr.arpa.",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "ip6.arpa.",
	"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "ip6.arpa.",
	"onion.", "test.", "invalid.", "home.arpa.", "resolver.arpa.",
	"service.arpa.", "local.",
	"10.in-addr.arpa.", "0.in-addr.arpa.", "168.192.in-addr.arpa.",
	"254.169.in-addr.arpa.", "2.0.192.in-addr.arpa.",
	"100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
	"255.255.255.255.in-addr.arpa.", "d.f.ip6.arpa.", "8.e.f.ip6.arpa.",
	"9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
	"8.b.d.0.1.0.0.2.ip6.arpa."
};

/*
 * The guard on each libunbound question: as long as the transport waits
 * for one silent server (timeout, doubled at each of `retries` re-sends,
 * at most 16 x timeout each: 1+2+4 = 7 x timeout by default), and never
 * under UB_GUARD_MIN_MS. A zone with a silent server then costs a
 * validation no more than it costs our own questions, which overlap with
 * it. The floor is libunbound's due: it walks from the root with timeouts
 * of its own (376 ms first, backing off) and tries a zone's other server
 * addresses after one that does not answer; with `timeout: 1s, retries:
 * 1` (3 s) a host whose IPv6 routes into nothing had healthy zones cut
 * short under a sanitizer build (tests/e2e/ipv6_tcp.py).
 */
#define UB_GUARD_MIN_MS	10000
static void
ub_guard_set(struct probe_engine *e)
{
	unsigned long long	 ms = 0, t;
	int			 a;

	for (a = 0; a <= e->cfg.retries; a++) {
		t = (unsigned long long)e->cfg.timeout_ms << (a < 5 ? a : 4);
		if (t > (unsigned long long)e->cfg.timeout_ms * 16)
			t = (unsigned long long)e->cfg.timeout_ms * 16;
		ms += t;
	}
	if (ms < UB_GUARD_MIN_MS)
		ms = UB_GUARD_MIN_MS;
	e->ub_guard.tv_sec = (time_t)(ms / 1000);
	e->ub_guard.tv_usec = (suseconds_t)(ms % 1000 * 1000);
}

/*
 * How many UDP ports and TCP connections libunbound may hold open at
 * once. As a library its defaults are 16 and 2 (config_create_forlib),
 * shared by every question in flight: a server that never answers holds
 * a port for each of its timeouts (376 ms first, then backing off), and
 * every other question waits for a free one. `make bench N=3000 MIXED=1`
 * (3% of the zones with a silent third server): cycle 119 s with 16
 * ports, 30 s with 256 (the all-healthy cycle: 29 s), every verdict the
 * same. One port per domain in flight plus a margin, and a TCP
 * connection per eight (DNSKEY sets in a rotation outgrow UDP, and a
 * silent server holds TCP too). Each is a descriptor while in use: the
 * soft limit is raised to make room beside the transport's own when the
 * hard one allows; otherwise libunbound gets what fits (at least its 16)
 * and the log says so.
 */
static void
ub_ports(struct probe_engine *e, unsigned n_ctx, char *ports, size_t plen,
    char *tcp, size_t tlen)
{
	struct rlimit	 rl, want;
	rlim_t		 np, nt, need, ours;

	np = (rlim_t)e->cfg.max_domains + 64;
	if (np > 4096)
		np = 4096;	/* unbound's own default as a server */
	nt = np / 8 + 8;
	/* What the transport may hold (max_inflight and its reserve,
	 * roughly) stays its own. */
	ours = (rlim_t)e->cfg.max_queries + 128;
	need = ours + np + nt;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < need) {
		want = rl;
		want.rlim_cur = rl.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max < need ? rl.rlim_max : need;
		if (want.rlim_cur > rl.rlim_cur &&
		    setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
		if (rl.rlim_cur < need) {
			np = rl.rlim_cur > ours + nt + 16 ?
			    rl.rlim_cur - ours - nt : 16;
			log_warnx("the open file limit (%llu) leaves libunbound "
			    "%llu ports of the %llu it should have: a silent "
			    "name server may make other validations wait; "
			    "raise the hard limit (ulimit -Hn)",
			    (unsigned long long)rl.rlim_cur,
			    (unsigned long long)np,
			    (unsigned long long)need - ours - nt);
		}
	}
	/* The contexts share the domains in flight, round robin. */
	np = np / n_ctx > 16 ? np / n_ctx : 16;
	nt = nt / n_ctx > 8 ? nt / n_ctx : 8;
	snprintf(ports, plen, "%llu", (unsigned long long)np);
	snprintf(tcp, tlen, "%llu", (unsigned long long)nt);
}

/* Turn every default local zone off (see above). -1: libunbound said no. */
static int
ub_no_local_zones(struct ub_ctx *ub)
{
	char		 z[128];
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof(ub_default_zones) / sizeof(*ub_default_zones);
	    i++) {
		snprintf(z, sizeof(z), "%s transparent", ub_default_zones[i]);
		if (ub_ctx_set_option(ub, "local-zone:", z) != 0)
			return -1;
	}
	/* RFC 6598 (100.64/10) and RFC 1918 172.16/12, one zone per /16. */
	for (n = 64; n <= 127; n++) {
		snprintf(z, sizeof(z), "%d.100.in-addr.arpa. transparent", n);
		if (ub_ctx_set_option(ub, "local-zone:", z) != 0)
			return -1;
	}
	for (n = 16; n <= 31; n++) {
		snprintf(z, sizeof(z), "%d.172.in-addr.arpa. transparent", n);
		if (ub_ctx_set_option(ub, "local-zone:", z) != 0)
			return -1;
	}
	return 0;
}

static getdns_context *
resolver_context(struct probe_engine *e, const char *text, char *err,
    size_t errlen)
{
	getdns_context		*ctx = NULL;
	getdns_list		*up = NULL;
	getdns_dict		*d = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	getdns_bindata		 bd;
	getdns_transport_list_t	 udp_only = GETDNS_TRANSPORT_UDP;
	char			 why[160];

	if (addr_parse(text, 53, &ss, &len, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "resolver '%s': %s", text, why);
		return NULL;
	}
	if (getdns_context_create(&ctx, 0) != GETDNS_RETURN_GOOD)
		goto fail;
	up = getdns_list_create();
	d = getdns_dict_create();
	if (up == NULL || d == NULL)
		goto fail;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		bd.size = 4;
		bd.data = (uint8_t *)&s->sin_addr;
		getdns_dict_util_set_string(d, "address_type", "IPv4");
		getdns_dict_set_int(d, "port", ntohs(s->sin_port));
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		bd.size = 16;
		bd.data = (uint8_t *)&s->sin6_addr;
		getdns_dict_util_set_string(d, "address_type", "IPv6");
		getdns_dict_set_int(d, "port", ntohs(s->sin6_port));
	}
	if (getdns_dict_set_bindata(d, "address_data", &bd) != GETDNS_RETURN_GOOD ||
	    getdns_list_set_dict(up, 0, d) != GETDNS_RETURN_GOOD ||
	    getdns_context_set_resolution_type(ctx, GETDNS_RESOLUTION_STUB) !=
	    GETDNS_RETURN_GOOD ||
	    getdns_context_set_dns_transport_list(ctx, 1, &udp_only) !=
	    GETDNS_RETURN_GOOD ||
	    getdns_context_set_upstream_recursive_servers(ctx, up) !=
	    GETDNS_RETURN_GOOD ||
	    getdns_context_set_edns_do_bit(ctx, 1) != GETDNS_RETURN_GOOD ||
	    getdns_context_set_edns_maximum_udp_payload_size(ctx, 1232) !=
	    GETDNS_RETURN_GOOD ||
	    getdns_context_set_timeout(ctx, (uint64_t)e->cfg.timeout_ms) !=
	    GETDNS_RETURN_GOOD ||
	    getdns_extension_set_libevent_base(ctx, e->base) !=
	    GETDNS_RETURN_GOOD)
		goto fail;
	getdns_dict_destroy(d);
	getdns_list_destroy(up);
	return ctx;
fail:
	snprintf(err, errlen, "resolver '%s': cannot set up a getdns context",
	    text);
	getdns_dict_destroy(d);
	getdns_list_destroy(up);
	if (ctx != NULL)
		getdns_context_destroy(ctx);
	return NULL;
}

/*
 * Context i of the pool: its own thread (see the top of this file), its
 * answers back through ub_fd() to this loop.
 */
static int
ub_context(struct probe_engine *e, const struct probe_config *cfg,
    unsigned i, const char *ports, const char *tcp, char *err, size_t errlen)
{
	struct ub_ctx	*ub;
	char		 opt[64], cache[24];
	time_t		 fake;
	const char	*now_env;

	if ((ub = e->ub[i] = ub_ctx_create()) == NULL ||
	    ub_ctx_async(ub, 1) != 0) {
		snprintf(err, errlen, "cannot create the libunbound context");
		return -1;
	}
	if ((e->ub_ev[i] = event_new(e->base, ub_fd(ub), EV_READ |
	    EV_PERSIST, ub_ready, ub)) == NULL ||
	    event_add(e->ub_ev[i], NULL) != 0) {
		snprintf(err, errlen, "cannot watch the libunbound context");
		return -1;
	}
	if (e->ublog != NULL)
		ub_ctx_debugout(ub, e->ublog);
	/* Each context's caches (message, RRset, key, negative; 4+4+4+1 MB
	 * by default) sized for the checks it has in flight: with answers
	 * kept 10 s (below), all they must hold is the data above the
	 * parents and each check's own records between its questions. 1 KB
	 * per check, at least 256 KB each, was measured (10,000 bench zones,
	 * 500 in flight): peak RSS 69.5 -> 64.4 MB, the same CPU and the
	 * same 5.0 signature verifications per domain; at a quarter of that
	 * the verifications rose by 10% (answers evicted and fetched again). */
	snprintf(cache, sizeof(cache), "%uk",
	    e->cfg.max_domains / UB_THREADS > 256 ?
	    e->cfg.max_domains / UB_THREADS : 256);
	snprintf(opt, sizeof(opt), "%u", e->cfg.max_domains * 4 + 64);
	if (ub_ctx_add_ta_file(ub, cfg->trust_anchor) != 0 ||
	    (cfg->root_hints != NULL &&
	    ub_ctx_set_option(ub, "root-hints:", cfg->root_hints) != 0) ||
	    /* Servers on loopback are how the testbed (and some split
	     * setups) work; unbound refuses them by default. */
	    ub_ctx_set_option(ub, "do-not-query-localhost:", "no") != 0 ||
	    ub_ctx_set_option(ub, "num-queries-per-thread:", opt) != 0 ||
	    ub_ctx_set_option(ub, "outgoing-range:", ports) != 0 ||
	    ub_ctx_set_option(ub, "outgoing-num-tcp:", tcp) != 0 ||
	    /* A monitor must judge what the servers say now, not what a
	     * cache held for an hour: keep every cached answer (bogus ones
	     * and server health too) for seconds. Shared data above the
	     * parent is then fetched again at most every 10 s per zone,
	     * which costs nothing next to the per-domain questions. */
	    ub_ctx_set_option(ub, "cache-max-ttl:", "10") != 0 ||
	    ub_ctx_set_option(ub, "cache-max-negative-ttl:", "10") != 0 ||
	    ub_ctx_set_option(ub, "val-bogus-ttl:", "5") != 0 ||
	    ub_ctx_set_option(ub, "infra-host-ttl:", "60") != 0 ||
	    ub_ctx_set_option(ub, "msg-cache-size:", cache) != 0 ||
	    ub_ctx_set_option(ub, "rrset-cache-size:", cache) != 0 ||
	    ub_ctx_set_option(ub, "key-cache-size:", cache) != 0 ||
	    ub_ctx_set_option(ub, "neg-cache-size:", cache) != 0 ||
	    ub_ctx_set_option(ub, "edns-buffer-size:", "1232") != 0 ||
	    ub_ctx_set_option(ub, "do-ip6:", cfg->ipv6 ? "yes" : "no") != 0 ||
	    ub_no_local_zones(ub) != 0) {
		snprintf(err, errlen, "libunbound refused the configuration "
		    "(trust anchor %s, root hints %s)", cfg->trust_anchor,
		    cfg->root_hints ? cfg->root_hints : "built in");
		return -1;
	}
	/* Time travel for tests: judge signatures at DNSSECMON_NOW too. */
	if ((now_env = getenv("DNSSECMON_NOW")) != NULL &&
	    clock_parse(now_env, &fake) == 0) {
		struct tm tm;

		gmtime_r(&fake, &tm);
		strftime(opt, sizeof(opt), "%Y%m%d%H%M%S", &tm);
		if (ub_ctx_set_option(ub, "val-override-date:", opt) != 0 &&
		    i == 0)
			log_warnx("libunbound refused val-override-date %s",
			    opt);
	}
	return 0;
}

struct probe_engine *
probe_engine_create(struct event_base *base, const struct probe_config *cfg,
    char *err, size_t errlen)
{
	struct probe_engine	*e;
	struct transport_opts	 to;
	struct roots		 roots;
	char			 why[256], ports[24], tcp[24];
	unsigned		 i;
	const char		*now_env;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->base = base;
	e->cfg = *cfg;
	e->cache_ttl = cfg->cache_ttl_s > 0 ? cfg->cache_ttl_s : STEP_TTL;
	/* For tests: expire the shared cache under jobs in flight in
	 * seconds instead of an hour (dnssecmon(8), ENVIRONMENT). */
	if (cfg->cache_ttl_s == 0 &&
	    (now_env = getenv("DNSSECMON_CACHE_TTL")) != NULL) {
		char *end;
		long v = strtol(now_env, &end, 10);

		if (*now_env != '\0' && *end == '\0' && v > 0 && v <= 86400)
			e->cache_ttl = v;
	}
	TAILQ_INIT(&e->queued);
	LIST_INIT(&e->rq_tcp);
	LIST_INIT(&e->rq_wait);
	TAILQ_INIT(&e->active);
	if (e->cfg.timeout_ms <= 0)
		e->cfg.timeout_ms = 2000;
	if (e->cfg.retries < 0)
		e->cfg.retries = 0;
	if (e->cfg.max_domains == 0)
		e->cfg.max_domains = 500;
	if (e->cfg.max_queries == 0)
		e->cfg.max_queries = 2000;

	/* The anchor and hints are read here, so that a bad file is a
	 * start-up error with its name, not a SERVFAIL much later. */
	if (roots_check_anchor(cfg->trust_anchor, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	if ((e->anchor = roots_load_anchor(cfg->trust_anchor, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	TAILQ_INIT(&e->rc.waiters);
	snprintf(e->rc.anchor_file, sizeof(e->rc.anchor_file), "%s",
	    cfg->trust_anchor);
	if (roots_load_hints(cfg->root_hints, cfg->ipv6, &roots, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	if ((e->root = calloc(1, sizeof(*e->root))) == NULL)
		goto nomem;
	e->root->e = e;
	snprintf(e->root->name, sizeof(e->root->name), ".");
	e->root->state = STEP_CUT;
	e->root->signed_zone = true;	/* we hold its trust anchor */
	TAILQ_INIT(&e->root->waiters);
	for (i = 0; i < roots.n && e->root->n_addrs < CUT_MAX_ADDRS; i++) {
		struct addr *a = &e->root->addrs[e->root->n_addrs];

		/* An IPv6 root this host has no route to would only cost
		 * each walk a failed attempt. */
		if (!addr_usable(e, (struct sockaddr *)&roots.addrs[i],
		    roots.lens[i]))
			continue;
		memcpy(&a->ss, &roots.addrs[i], sizeof(roots.addrs[i]));
		a->len = roots.lens[i];
		e->root->n_addrs++;
	}
	if (e->root->n_addrs == 0) {
		snprintf(err, errlen, "no root server address this host has "
		    "a route to (%s)", cfg->root_hints ? cfg->root_hints :
		    "built-in hints");
		goto fail;
	}
	e->root->rr = (unsigned)random();
	e->root->hnext = e->steps[hash_name(".")];
	e->steps[hash_name(".")] = e->root;

	transport_opts_default(&to);
	to.timeout_ms = e->cfg.timeout_ms;
	to.retries = e->cfg.retries;
	ub_guard_set(e);
	to.max_inflight = (int)e->cfg.max_queries;
	to.per_server_qps = (int)e->cfg.per_server_qps;
	/* probe/answer.c reads the transport's walk of each answer: a getdns
	 * parse of every answer was a sixth of the daemon's CPU. Only the
	 * root check asks for one (getdns validates its DNSKEY RRset). */
	to.no_dict = true;
	if ((e->tp = transport_create(base, &to)) == NULL) {
		snprintf(err, errlen, "cannot create the DNS transport");
		goto fail;
	}
	if ((e->kick = evtimer_new(base, kick_cb, e)) == NULL)
		goto nomem;
	/* 65,536 verified signatures, about 2 MB: a few per domain for the
	 * tens of thousands one engine checks. */
	if ((e->denial_cache = denial_cache_create(65536)) == NULL)
		goto nomem;
	/* Without the thread (none could be started) the loop verifies. */
	if ((e->verifier = offload_create(base, job_verify, job_end)) == NULL)
		log_warnx("probe: cannot start the verifier thread; "
		    "signatures are verified on the event loop");

	e->ublog = fopencookie(NULL, "w", (cookie_io_functions_t){
	    .write = ublog_write });
	if (e->ublog != NULL)
		setvbuf(e->ublog, NULL, _IOLBF, 0);
	ub_ports(e, UB_THREADS, ports, sizeof(ports), tcp, sizeof(tcp));
	for (i = 0; i < UB_THREADS; i++)
		if (ub_context(e, cfg, i, ports, tcp, err, errlen) == -1)
			goto fail;
	e->n_ub = UB_THREADS;

	for (i = 0; i < cfg->n_resolvers && i < PROBE_MAX_RESOLVERS; i++) {
		snprintf(e->res_addr[i], sizeof(e->res_addr[i]), "%s",
		    cfg->resolvers[i]);
		if ((e->gd[i] = resolver_context(e, cfg->resolvers[i], err,
		    errlen)) == NULL)
			goto fail;
		/* resolver_context() parsed the same text: it cannot fail. */
		if (addr_parse(cfg->resolvers[i], 53, &e->res_ss[i],
		    &e->res_len[i], why, sizeof(why)) == -1) {
			snprintf(err, errlen, "resolver '%s': %s",
			    cfg->resolvers[i], why);
			goto fail;
		}
		e->n_resolvers++;
	}
	return e;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	probe_engine_destroy(e);
	return NULL;
}

void
probe_engine_destroy(struct probe_engine *e)
{
	struct job	*j;
	struct qjob	*qj;
	struct step	*s, *sn;
	struct nsaddr	*n, *nn;
	struct waiter	*w;
	struct rquery	*q;
	unsigned	 i;

	if (e == NULL)
		return;
	e->destroying = true;
	/* getdns calls back with CANCEL for what is open; rq_cb ignores
	 * those once destroying is set. */
	for (i = 0; i < PROBE_MAX_RESOLVERS; i++)
		if (e->gd[i] != NULL)
			getdns_context_destroy(e->gd[i]);
	/* Before the jobs it may hold are freed below. */
	offload_destroy(e->verifier);
	/* Stops and joins libunbound's threads; open queries are dropped
	 * without callbacks. */
	for (i = 0; i < UB_THREADS; i++) {
		if (e->ub_ev[i] != NULL)
			event_free(e->ub_ev[i]);
		if (e->ub[i] != NULL)
			ub_ctx_delete(e->ub[i]);
	}
	if (e->ublog != NULL)
		fclose(e->ublog);
	transport_destroy(e->tp);
	/* The transport dropped their callbacks: what they owned is ours. */
	while ((q = LIST_FIRST(&e->rq_tcp)) != NULL) {
		LIST_REMOVE(q, entry);
		rq_free(q);
	}
	/* Between a getdns timeout and the re-send: only the list has them. */
	while ((q = LIST_FIRST(&e->rq_wait)) != NULL) {
		LIST_REMOVE(q, entry);
		rq_free(q);
	}
	if (e->kick != NULL)
		event_free(e->kick);
	denial_cache_destroy(e->denial_cache);
	while ((qj = TAILQ_FIRST(&e->queued)) != NULL) {
		TAILQ_REMOVE(&e->queued, qj, entry);
		free(qj);
	}
	while ((j = TAILQ_FIRST(&e->active)) != NULL) {
		TAILQ_REMOVE(&e->active, j, entry);
		job_free(j);
	}
	while ((w = TAILQ_FIRST(&e->rc.waiters)) != NULL) {
		TAILQ_REMOVE(&e->rc.waiters, w, entry);
		free(w);
	}
	getdns_list_destroy(e->anchor);
	for (i = 0; i < HASH_SIZE; i++) {
		for (s = e->steps[i]; s != NULL; s = sn) {
			sn = s->hnext;
			while ((w = TAILQ_FIRST(&s->waiters)) != NULL) {
				TAILQ_REMOVE(&s->waiters, w, entry);
				free(w);
			}
			free(s);
		}
		for (n = e->nsaddrs[i]; n != NULL; n = nn) {
			nn = n->hnext;
			while ((w = TAILQ_FIRST(&n->waiters)) != NULL) {
				TAILQ_REMOVE(&n->waiters, w, entry);
				free(w);
			}
			nsaddr_free(n);
		}
	}
	/* Retired entries: done (no waiters), no job left to hold them. */
	for (s = e->step_grave; s != NULL; s = sn) {
		sn = s->gnext;
		free(s);
	}
	for (n = e->ns_grave; n != NULL; n = nn) {
		nn = n->gnext;
		nsaddr_free(n);
	}
	free(e);
}
