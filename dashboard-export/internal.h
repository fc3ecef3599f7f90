/*
 * Internals of the exporter, shared by its files: the domain table
 * (domains.c), the HTTP server (http.c) and the pages it serves
 * (metrics.c, api.c, statuspage.c). A DNS host's webhook is taken in by
 * hostevents/ (the HTTP server routes it there); the table only keeps
 * the host's latest word for the pages.
 */
#ifndef DNSSECMON_EXPORT_INTERNAL_H
#define DNSSECMON_EXPORT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dashboard-export/export.h"
#include "hostevents/hostevents.h"

struct evbuffer;
struct evhttp;
struct evhttp_bound_socket;
struct evconnlistener;
struct bufferevent;
struct event;
struct json_t;

#define XMAX_RESOLVERS		32	/* distinct resolver names kept */
#define XPROBE_BUCKETS		9
#define XLATENCY_BUCKETS	10

/* One DS record as the exporter shows it. */
struct xds {
	uint16_t	 key_tag;
	uint8_t		 algorithm;
	uint8_t		 digest_type;
	struct json_t	*json;		/* probe_ds_json(): the API's */
	char		*record;	/* "name. IN DS ..." line */
};

struct xserver {
	char		 address[PROBE_ADDR_MAX];
	bool		 answered;
	bool		 has_soa;
	uint32_t	 serial;
	unsigned	 dnskey_bytes;	/* the DNSKEY answer, 0: unknown */
	int8_t		 tcp;		/* 1 answered over TCP, 0 failed,
					   -1 not asked by this check */
	int8_t		 denial_valid;	/* 1: its NXDOMAIN and NODATA proofs
					   hold, 0: one is bogus, -1: not
					   judged (unsigned, no answer) */
};

/* What one parent server address said to the DS question. */
struct xparent {
	char		 address[PROBE_ADDR_MAX];
	bool		 answered;
	bool		 lags;		/* behind the other parent servers */
	unsigned	 n_ds;
	char		 ds_tags[48];	/* "12345 54321" */
};

struct xresolver {
	uint8_t		 idx;		/* into export.resolvers */
	uint8_t		 status;	/* enum probe_qstatus */
	int16_t		 rcode;		/* -1: no answer */
	bool		 ad;
	double		 latency_s;
};

struct xproblem {
	char		 code[40];
	uint8_t		 severity;	/* enum probe_severity */
	char		*message;
};

struct xkey {
	uint16_t	 key_tag;
	uint16_t	 flags;
	uint8_t		 algorithm;
	bool		 signs_dnskey;
	bool		 has_ds;
	bool		 needs_ds;
	bool		 deprecated;	/* algorithm must no longer sign */
	int16_t		 rsa_bits;	/* -1: not an RSA key */
	int8_t		 sig_verified;	/* probe_key_sig_verified() */
};

/* What the exporter knows of one domain. */
struct xdom {
	char		 name[PROBE_NAME_MAX];
	char		*label;		/* zone="..." for the exposition */
	struct store_policy policy;
	int		 interval_s;
	bool		 in_shard;
	bool		 listed;	/* export_set_domains() scratch: */
	bool		 fresh;		/* made by this call */
	size_t		 pos;		/* its place in the new list */
	char		 catalog[PROBE_NAME_MAX];	/* "": configured */

	bool		 known;		/* from a check or from history */
	bool		 checked;	/* a check finished in this run */
	bool		 from_history;	/* known only from the store */
	time_t		 last_check;
	uint8_t		 state;		/* enum probe_state */
	uint8_t		 severity;	/* enum probe_severity */
	uint8_t		 validation;	/* enum probe_validation */
	char		*parent;
	char		*why_bogus;
	char		*error;
	unsigned	 n_ds;
	uint32_t	 ds_ttl;		/* last seen at the parent; 0: none */
	unsigned	 n_dnskey;
	unsigned	 n_ds_deprecated;	/* DS with SHA-1/GOST digest */
	uint32_t	 dnskey_ttl;		/* largest served; 0: none */
	int8_t		 bootstrap;		/* RFC 9615 ready 1, not 0,
						   -1: not judged (has DS) */
	time_t		 sig_expiry;	/* 0: none seen */
	double		 duration_s;
	unsigned	 queries;
	bool		 servers_agree;
	bool		 rotation_ambiguous;	/* publish[] only if its key is
						   the new one */
	enum probe_multi multi_signer;	/* RFC 8901: how many signers */
	unsigned	 n_providers;
	bool		 cds_consistent;	/* every server, same CDS */
	bool		 cds_parent_applies;
	bool		 cds_delete;
	time_t		 cds_pickup;	/* the registry should have applied
					   the new key's CDS by; 0: none */
	/* Denial of existence: the kind of proof (enum probe_denial),
	 * libunbound's verdict on the random name, and the NSEC3 parameters
	 * with the most iterations over the servers (nsec3: any seen). */
	uint8_t		 denial_proof;
	uint8_t		 denial_validation;
	bool		 nsec3;
	bool		 nsec3_opt_out;
	uint16_t	 nsec3_iterations;
	uint8_t		 nsec3_salt_len;
	/* Algorithm rollover: enum probe_alg_stage (0: none), from, to. */
	uint8_t		 alg_stage, alg_from, alg_to;
	bool		 alg_bad_order;
	/* ... its stage's clock (0: none), as the classifier set it. */
	time_t		 alg_since, alg_safe_at, alg_deadline;
	bool		 alg_stalled;
	bool		 parents_agree;	/* every answering parent server
					   serves one DS set */
	bool		 every_parent;	/* the last check asked them all */
	time_t		 safe_removal_at; /* ds_updated: the old key may go
					   (this check's word; the rotation
					   record's comes first) */
	unsigned long long checks;	/* in this run */
	unsigned long long errors;	/* checks that observed nothing */

	unsigned	 n_servers;
	struct xserver	*servers;
	unsigned	 n_parents;
	struct xparent	*parents;
	unsigned	 n_resolvers;
	struct xresolver resolvers[PROBE_MAX_RESOLVERS];
	unsigned	 n_problems;
	struct xproblem	*problems;
	unsigned	 n_keys;
	struct xkey	*keys;
	unsigned	 n_publish;
	struct xds	*publish;	/* DS to add at the registrar */
	unsigned	 n_remove;
	struct xds	*remove;	/* DS to remove */

	struct store_rotation *rot;	/* open KSK rotation, NULL: none */
	struct hostevent *host;		/* NULL: no host event seen */
};

struct xhist {
	unsigned long long bucket[XLATENCY_BUCKETS + 1]; /* last: +Inf */
	unsigned long long count;
	double		 sum;
};

/* Why the server closed a connection itself, counted for /metrics. */
enum xclose_reason {
	XCLOSE_PER_CLIENT,	/* refused: the client holds its share */
	XCLOSE_RESERVE,		/* refused: the rest is kept for new clients */
	XCLOSE_REQUEST_TIMEOUT,	/* no whole request in http.request_timeout */
	XCLOSE_MAX_AGE,		/* lived MAX_AGE_FACTOR timeouts */
	XCLOSE_NREASONS
};

/* One kind of log line that a client can cause at will: the first is
 * logged, the rest counted and summed up once a window (http.c). */
struct xlogrl {
	time_t		 next;		/* log again from then */
	unsigned long	 suppressed;	/* since the last line */
};

/* What served an HTTP request: the handler label of
 * dnssecmon_http_requests_total. */
enum xhandler { XH_METRICS = 0, XH_STATUS, XH_HEALTHZ, XH_READYZ, XH_API,
	XH_HOOK, XH_OTHER, XH_NHANDLERS };
#define XHTTP_NCODES	11
extern const int	 xhttp_codes[XHTTP_NCODES];
extern const char	*xhttp_handlers[XH_NHANDLERS];

struct xcat {
	char		*label;		/* the zone, escaped for a label */
	char		*zone, *primary, *error;	/* copies; error "" */
	time_t		 last_attempt;
	size_t		 members, excess, ignored;
	uint32_t	 serial;
	bool		 have, ok;
	time_t		 last_success;
};

struct export {
	struct event_base	*base;
	struct store		*store;
	time_t			 started;
	struct hostevents	*hostevents;	/* the webhook's taker: run.c
						   owns it */
	char			 instance[80];	/* "": not set */
	unsigned		 shard_k, shard_n; /* n 0: not sharded */

	/* HTTP */
	struct evhttp		*http;
	struct evhttp_bound_socket *bound;
	struct evconnlistener	*lev;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 listen_text[128];
	unsigned		 max_connections;
	unsigned		 max_per_client;
	int			 timeout_s;
	int			 request_timeout_s;
	int			 refresh_s;
	bool			 no_enum_zeros;
	struct event		*sweep;
	struct event		*admit;		/* looks at new connections */
	struct xconn		*conns;
	size_t			 n_conns, cap_conns;
	bool			 paused;	/* listener off: at the limit */
	unsigned long long	 http_closed[XCLOSE_NREASONS];
	struct xlogrl		 rl_full, rl_refused, rl_slow, rl_hook;

	/* The newest check found the network intercepting DNS (a fact of
	 * the monitor, not of a domain): why, from that check. */
	bool			 intercepted;
	char			 intercepted_why[256];

	/* Catalog zones (export_set_catalogs). */
	struct xcat		*cats;
	size_t			 n_cats;

	/* The table, sorted by name. */
	struct xdom		**dom;
	size_t			 n_dom;
	unsigned long long	 dom_gen;	/* export_set_domains() calls */
	size_t			 n_in_shard;

	/* Resolver names seen, each with its latency histogram. */
	unsigned		 n_resolvers;
	char			*resolver_name[XMAX_RESOLVERS];
	char			*resolver_label[XMAX_RESOLVERS];
	struct xhist		 resolver_latency[XMAX_RESOLVERS];

	struct xhist		 probe_duration;
	struct probe_stats	 probe_stats;	/* export_set_probe_stats() */
	unsigned long long	 checks_total;
	unsigned long long	 errors_total;
	unsigned long long	 http_requests;
	/* Answers by handler and status code (xhttp_codes[], the last
	 * slot: any other code). */
	unsigned long long	 http_answers[XH_NHANDLERS][XHTTP_NCODES + 1];
	double			 last_render_s;
	struct xrender		*renders;	/* /metrics answers being
						   rendered in slices (http.c) */
};

/* A connection the listener accepted (http.c). */
struct xconn {
	struct bufferevent	*bev;
	time_t			 born;
	time_t			 deadline;	/* a whole request by then; 0:
						   none (answering) */
	uint8_t			 client[9];	/* family, then the IPv4
						   address or the IPv6 /64 */
	char			 peer[48];	/* the address, for the log */
	bool			 seen;		/* admit_new() looked at it */
	bool			 held;		/* counts for its client */
	bool			 served;	/* one request answered */
	bool			 closed;	/* evhttp closed it */
	bool			 cut;		/* shut down by us */
	bool			 close_after;	/* shut down once answered */
};

/* --------------------------------------------------------- http.c */

/* HTTP connections open now. */
size_t		 xhttp_open(const struct export *);

/* ------------------------------------------------------ domains.c */

/* The entry for a name (any case, final dot or not); NULL when none. */
struct xdom	*xdom_find(const struct export *, const char *name);
/* The severity the exporter reports: the last check's (unknown before
 * the first). */
enum probe_severity xdom_severity(const struct xdom *);
/* Whether the last check reported host_ds_mismatch. */
bool		 xdom_host_mismatch(const struct xdom *);
/* Domains in shard, worst first (severity, then the nearest registrar
 * deadline, then name). Caller frees the array (not the entries). */
struct xdom	**xdom_sorted(const struct export *, size_t *n);
/* Label value escaped for the exposition format (\\, \", \n). Caller
 * frees. */
char		*xlabel_escape(const char *);
/* The index of a resolver name, interned; -1 when the table is full. */
int		 xresolver_index(struct export *, const char *name);
/* Fold one observation into a histogram with the given upper bounds. */
void		 xhist_observe(struct xhist *, const double *bounds,
		    unsigned n, double v);
/* Severity in Nagios order for the metric: 0 ok, 1 warning, 2 critical,
 * 3 unknown. */
int		 xseverity_metric(enum probe_severity);
/* A rotation (or NULL) as JSON, the shape of `dnssecmon rotations`
 * plus seconds_left. */
struct json_t	*xrotation_json(const struct store_rotation *, time_t now);

extern const double xprobe_bounds[XPROBE_BUCKETS];
extern const double xlatency_bounds[XLATENCY_BUCKETS];

/* ------------------------------------------------------ metrics.c */

/* The whole /metrics page into out. */
void		 xmetrics_render(struct export *, struct evbuffer *out,
		    time_t now);

/* Where a /metrics page rendered in slices stands. Zero it to start. */
struct xmetrics_pos {
	size_t		 family;	/* next family to write */
	size_t		 dom;		/* next domain in a per-zone family */
	bool		 started;	/* family's HELP/TYPE written */
	double		 spent_s;	/* the slices so far, added up */
	double		 slice_max_s;	/* the longest slice */
};

/*
 * Renders from *pos into out until the page is done (true) or slice_s
 * seconds have gone (false: call again, later, with the same pos). The
 * table may change between slices; a caller that cannot take a domain
 * twice or not at all starts again when ex->dom_gen moved. The page's
 * render time (dnssecmon_metrics_render_seconds) is the slices added up.
 */
bool		 xmetrics_render_step(struct export *, struct evbuffer *out,
		    time_t now, struct xmetrics_pos *pos, double slice_s);

/* ---------------------------------------------------------- api.c */

/* The JSON of one domain; with detail, its history and keys too. */
struct json_t	*xapi_domain(struct export *, const struct xdom *,
		    bool detail, time_t now);
/* /api/v1/domains */
struct json_t	*xapi_domains(struct export *, time_t now);
/* Which daemon of a fleet this is, {"instance", "shard"}, into o. */
void		 xapi_identity(struct export *, struct json_t *o);
/* /readyz: whether ready, with the reason as JSON. */
bool		 xapi_ready(struct export *, struct json_t **why);

/* --------------------------------------------------- statuspage.c */

/* The status page into out. */
void		 xstatus_render(struct export *, struct evbuffer *out,
		    time_t now);
/* HTML-escape s into out (& < > " '). */
void		 xhtml_escape(struct evbuffer *out, const char *s);

/* ------------------------------------------------------ domains.c */

/*
 * One authorised dnsimple webhook body, through hostevents_webhook(); what
 * it tells of the domain (the host's word, its open rotation) goes into
 * the table. Fills reply (caller decrefs its body).
 */
void		 xhook_handle(struct export *, const char *body, size_t len,
		    time_t now, struct hostevents_reply *reply);
/* The table as hostevents asks it (find a domain, the domains with a
 * key), for this exporter. */
void		 xhook_directory(struct export *,
		    struct hostevents_directory *out);

#endif
