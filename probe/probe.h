/*
 * The probe: for one domain, what the parent and every child server say,
 * what a validator concludes, and where the key rotation stands.
 *
 * Data flows one way: probe_engine_* gathers a struct probe_result on the
 * caller's event loop, probe_classify() turns it into a rotation state,
 * a severity and a list of problems. Store, alerts and exporters only ever
 * read probe_results.
 *
 * Every array is fixed and bounded: a hostile or merely huge zone cannot
 * make one observation grow without limit; what does not fit is counted in
 * the *_dropped fields and reported as a problem.
 */
#ifndef DNSSECMON_PROBE_H
#define DNSSECMON_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct event_base;

#define PROBE_NAME_MAX		256	/* presentation name, with NUL */
#define PROBE_ADDR_MAX		64	/* "ADDR" or "[v6]:port" text */
#define PROBE_MAX_SERVERS	16	/* child server addresses */
#define PROBE_MAX_KEYS		16	/* distinct DNSKEYs over all servers */
#define PROBE_MAX_DS		16
#define PROBE_MAX_RESOLVERS	8
#define PROBE_MAX_PROBLEMS	24
#define PROBE_MAX_KEYDATA	1100	/* DNSKEY RDATA: RSA-8192 fits */
#define PROBE_MAX_DIGEST	64	/* SHA-512 size; SHA-384 is 48 */
#define PROBE_MAX_SIGNALS	8	/* NS names asked for RFC 9615 signals */
#define PROBE_MAX_SIGNAL_CDS	4	/* CDS kept per signal */
#define PROBE_MAX_SIGNERS	4	/* RRSIGs kept over one CDS RRset */
#define PROBE_MAX_PARENTS	32	/* parent server addresses asked for
					   the DS: a TLD has 10-26 */
#define PROBE_MAX_PARENT_DS	32	/* distinct DS over those servers */

enum probe_validation {
	PROBE_VAL_INDETERMINATE = 0,	/* the validator got no answer */
	PROBE_VAL_SECURE,
	PROBE_VAL_INSECURE,
	PROBE_VAL_BOGUS
};

/* Multi-signer (RFC 8901): several providers, each with its own keys. */
enum probe_multi {
	PROBE_MULTI_NONE = 0,		/* one signer */
	PROBE_MULTI_CONFIGURED,		/* the policy says so */
	PROBE_MULTI_DETECTED		/* the servers' signing keys say so */
};

/* The policy's multi-signer switch. */
enum probe_multi_mode {
	PROBE_MULTI_AUTO = 0,
	PROBE_MULTI_ON,
	PROBE_MULTI_OFF
};

enum probe_state {
	PROBE_STATE_UNKNOWN = 0,	/* nothing observed: no verdict */
	PROBE_STATE_STABLE,
	PROBE_STATE_ROTATION_PENDING,
	PROBE_STATE_DS_UPDATED,
	PROBE_STATE_STALE_DS,
	PROBE_STATE_BROKEN,
	PROBE_STATE_INSECURE
};

/* Ordered so that a larger value is worse: aggregation takes the max. */
enum probe_severity {
	PROBE_SEV_OK = 0,
	PROBE_SEV_WARNING,
	PROBE_SEV_UNKNOWN,
	PROBE_SEV_CRITICAL
};

/* How one query ended. */
enum probe_qstatus {
	PROBE_Q_NONE = 0,	/* not sent */
	PROBE_Q_OK,		/* an acceptable answer (any rcode) */
	PROBE_Q_TIMEOUT,
	PROBE_Q_NETERR,
	PROBE_Q_MALFORMED
};

struct probe_key {
	uint16_t	key_tag;
	uint16_t	flags;		/* 257 KSK (SEP), 256 ZSK */
	uint8_t		protocol;
	uint8_t		algorithm;
	uint16_t	rdata_len;
	uint8_t		rdata[PROBE_MAX_KEYDATA];	/* whole DNSKEY RDATA */
	uint32_t	servers;	/* bit i: servers[i] publishes it */
	uint32_t	signs_dnskey;	/* bit i: signs the DNSKEY RRset at i */
	uint32_t	signs_soa;	/* bit i: signs the SOA at servers[i] */
	/* bit i: its RRSIG over the DNSKEY RRset at servers[i] verifies
	 * (signs_dnskey only reads the RRSIG's key tag). Checked where
	 * the server serves CDS/CDNSKEY: servers[i].sigs_verified. */
	uint32_t	verifies_dnskey;
	bool		has_ds;		/* a parent DS matches it */
	bool		in_cdnskey;	/* listed in a CDNSKEY */
	bool		in_cds;		/* a CDS matches it */
	bool		needs_ds;	/* classifier: the parent should list it */
	bool		ds_partial;	/* classifier: some parent servers
					   serve its DS, not all */
	time_t		first_seen;	/* from history, 0: unknown (the store
					 * fills it in before classifying) */
};

struct probe_ds {
	uint16_t	key_tag;
	uint8_t		algorithm;
	uint8_t		digest_type;
	uint8_t		digest_len;
	uint8_t		digest[PROBE_MAX_DIGEST];
	int		key;		/* index into keys[], -1: no match */
	bool		digest_unsupported; /* cannot check this type */
	bool		stale;		/* classifier: remove it at the parent */
	bool		prepublished;	/* history: its key was never seen */
};

/* A CDNSKEY, kept as key tag, algorithm and the SHA-256 of its RDATA. */
struct probe_cdnskey {
	uint16_t	key_tag;
	uint8_t		algorithm;
	uint8_t		fingerprint[32];
	int		key;		/* index into keys[], -1: unpublished */
};

/* Who signed an RRset: the RRSIG's key tag and algorithm. */
struct probe_signer {
	uint16_t	key_tag;
	uint8_t		algorithm;
};

/* How a server proves that a name or type does not exist. */
enum probe_denial {
	PROBE_DENIAL_NONE = 0,		/* not checked: no negative answer */
	PROBE_DENIAL_NSEC,
	PROBE_DENIAL_NSEC3,
	PROBE_DENIAL_MISSING		/* negative answer without NSEC(3) */
};

#define PROBE_MAX_SALT		32	/* NSEC3 salt bytes kept (len: all) */

/*
 * One negative answer from one server (a random name below the domain,
 * or a type the apex lacks), its proof checked in-process: NSEC/NSEC3
 * coverage and the RRSIGs over them against the DNSKEYs that server
 * publishes.
 */
struct probe_negative {
	enum probe_qstatus status;	/* of the question */
	int		rcode;		/* -1: no answer */
	enum probe_denial kind;
	bool		checked;	/* a proof was expected and judged */
	bool		valid;		/* ... and it holds */
	char		error[200];	/* why not checked, or why not valid */
};

/* NSEC3 parameters as one server serves them (kind NSEC3). */
struct probe_nsec3 {
	bool		seen;
	uint8_t		algorithm;
	bool		opt_out;
	uint16_t	iterations;
	uint8_t		salt_len;
	uint8_t		salt[PROBE_MAX_SALT];
};

struct probe_server {
	char		name[PROBE_NAME_MAX];	/* NS name */
	char		address[PROBE_ADDR_MAX];
	enum probe_qstatus status;		/* worst over its queries */
	char		error[128];
	bool		authoritative;		/* AA on the SOA answer */
	bool		has_soa;
	uint32_t	soa_serial;
	int		dnskey_rcode;
	unsigned	n_dnskey;		/* DNSKEYs it served */
	unsigned	n_cds, n_cdnskey;
	/* CDS / CDNSKEY as this server serves them: registries that scan
	 * ask every server and act only when all agree (RFC 7344 4.1). */
	enum probe_qstatus cds_status;		/* worst of CDS/CDNSKEY when
						   one failed, else NONE */
	bool		cds_tcp;		/* CDS/CDNSKEY asked over TCP
						   (the checks that ask TCP) */
	bool		cds_answered;		/* a NOERROR answer to CDS */
	bool		cdnskey_answered;
	bool		cds_delete;		/* CDS 0 0 0 00 */
	bool		cdnskey_delete;		/* CDNSKEY 0 3 0 AA== */
	uint32_t	cds_set;		/* bit j: serves r->cds[j] */
	uint32_t	cdnskey_set;		/* bit j: serves r->cdnskey[j] */
	uint8_t		n_cds_sig, n_cdnskey_sig; /* RRSIGs over them */
	bool		cds_sig_dropped;	/* more than PROBE_MAX_SIGNERS:
						   who signs is not judged */
	struct probe_signer cds_sig[PROBE_MAX_SIGNERS];
	struct probe_signer cdnskey_sig[PROBE_MAX_SIGNERS];
	/* The signatures a registry checks, verified (ldns, OpenSSL): keys[]
	 * .verifies_dnskey bit i, and which keys' RRSIGs over this server's
	 * CDS / CDNSKEY RRset verify (bit k: keys[k]). Only where the server
	 * serves CDS or CDNSKEY; false: not verified, the tags alone judge. */
	bool		sigs_verified;
	uint32_t	cds_verified_by, cdnskey_verified_by;
	time_t		sig_earliest_expiry;	/* over DNSKEY and SOA RRSIGs */
	time_t		sig_latest_inception;
	bool		sig_expired;		/* an RRSIG it served is expired */
	bool		sig_not_yet_valid;
	double		latency_ms;		/* of its DNSKEY answer */
	/* Size of its DNSKEY answer: what registries' TCP-only CDS
	 * scanners and resolvers behind 1232-byte UDP see. */
	unsigned	dnskey_udp_bytes;	/* the UDP answer (TC one
						   included), 0: none */
	bool		dnskey_tc;		/* over UDP it came truncated */
	unsigned	dnskey_tcp_bytes;	/* over TCP, 0: none */
	enum probe_qstatus tcp_status;		/* DNSKEY over TCP; NONE: not
						   asked by this check */
	char		tcp_error[128];
	/* Denial of existence, asked of this server directly. */
	struct probe_negative nxdomain;		/* denial_name A */
	struct probe_negative nodata;		/* DOMAIN denial_type */
	struct probe_nsec3 nsec3;
	/* Algorithms of the RRSIGs it served over each RRset we see (bit a
	 * for algorithm a < 32; NSEC/NSEC3 from the negative answers). An
	 * algorithm rollover adds and removes these apart from the keys. */
	uint32_t	sig_algs_soa, sig_algs_dnskey, sig_algs_nsec;
};

/* What one parent server address said to the DS question. */
struct probe_parent {
	char		address[PROBE_ADDR_MAX];
	enum probe_qstatus status;
	int		rcode;			/* -1: no answer */
	char		error[96];
	uint32_t	ds_ttl;
	uint32_t	ds_set;		/* bit i: it serves parent_ds[i] */
	unsigned	n_ds;
	bool		rrsig;		/* its DS RRset came signed */
	bool		lags;		/* classifier: behind the others */
};

/* An RFC 9615 bootstrap signal: _dsboot.<domain>._signal.<ns> CDS, as a
 * validator (libunbound) saw it. */
enum probe_signal_status {
	PROBE_SIG_NONE = 0,	/* not asked */
	PROBE_SIG_SECURE,	/* validated CDS records */
	PROBE_SIG_NODATA,	/* validated: no CDS there */
	PROBE_SIG_INSECURE,	/* not validated: the NS name's zone is not
				   secure, so the signal proves nothing */
	PROBE_SIG_BOGUS,
	PROBE_SIG_FAILED,	/* no verdict: SERVFAIL, timeout */
	PROBE_SIG_IN_DOMAIN,	/* the NS name lies inside the domain */
	PROBE_SIG_TOO_LONG	/* the signal name exceeds 255 octets */
};

struct probe_signal {
	char		ns[PROBE_NAME_MAX];	/* the NS name */
	enum probe_signal_status status;
	unsigned	n_cds;
	struct probe_ds	cds[PROBE_MAX_SIGNAL_CDS];
	unsigned	cds_dropped;
	char		why[160];		/* bogus/failed: the reason */
};

struct probe_resolver {
	char		address[PROBE_ADDR_MAX];
	enum probe_qstatus status;
	int		rcode;			/* -1: no answer */
	bool		ad;
	int		ede;			/* extended DNS error, -1: none */
	char		ede_text[128];
	double		latency_ms;
};

/*
 * Every problem the monitor can report. The registry (probe/registry.c)
 * gives each its code, default severity and alerting meaning; nothing
 * else spells a code.
 */
enum probe_code {
	PROBE_P_INVALID_NAME = 0,
	PROBE_P_PARENT_UNREACHABLE,
	PROBE_P_NOT_DELEGATED,
	PROBE_P_NO_SERVER_ANSWERS,
	PROBE_P_NO_SERVERS,
	PROBE_P_OBSERVATION_TRUNCATED,
	PROBE_P_STORE_ERROR,
	PROBE_P_MONITOR_ERROR,
	PROBE_P_DS_MISSING,
	PROBE_P_CHAIN_BROKEN,
	PROBE_P_ROTATION_PENDING,
	PROBE_P_ROTATION_AMBIGUOUS,
	PROBE_P_ROTATION_DEADLINE,
	PROBE_P_OLD_KEY_PUBLISHED,
	PROBE_P_STALE_DS,
	PROBE_P_DS_ALGORITHM_MISMATCH,
	PROBE_P_DS_DIGEST_DEPRECATED,
	PROBE_P_KEY_ALGORITHM_DEPRECATED,
	PROBE_P_RSA_KEY_SHORT,
	PROBE_P_TTL_EXCEEDS_WINDOW,
	PROBE_P_DS_BOOTSTRAP_READY,
	PROBE_P_DS_BOOTSTRAP_INCOMPLETE,
	PROBE_P_ZSK_ROTATION,
	PROBE_P_INSECURE,
	PROBE_P_HOST_DS_MISMATCH,
	PROBE_P_PARENT_DS_DISAGREE,
	PROBE_P_PARENT_DS_BROKEN,
	PROBE_P_PARENT_DS_UNSIGNED,
	PROBE_P_CDS_DELETE,
	PROBE_P_CDS_UNKNOWN_KEY,
	PROBE_P_CDS_MISMATCH,
	PROBE_P_CDS_SERVERS_DISAGREE,
	PROBE_P_CDS_CDNSKEY_MISMATCH,
	PROBE_P_CDS_SIGNER_NOT_IN_DS,
	PROBE_P_CDS_BREAKS_CHAIN,
	PROBE_P_CDS_BOGUS,
	PROBE_P_CDS_UNREACHABLE,
	PROBE_P_MULTI_SIGNER_ZSK_MISSING,
	PROBE_P_MULTI_SIGNER_DS_MISSING,
	PROBE_P_SIGNATURE_EXPIRED,
	PROBE_P_SIGNATURE_NOT_YET_VALID,
	PROBE_P_SIGNATURE_EXPIRING,
	PROBE_P_DENIAL_BOGUS,
	PROBE_P_NSEC3_ITERATIONS,
	PROBE_P_NSEC3_SALT,
	PROBE_P_NSEC3_OPT_OUT,
	PROBE_P_ALGORITHM_ROLLOVER,
	PROBE_P_ALGORITHM_ROLLOVER_ORDER,
	PROBE_P_SERVER_UNREACHABLE,
	PROBE_P_SERVER_FAMILY_UNREACHABLE,
	PROBE_P_SERVER_TCP_FAILED,
	PROBE_P_DNSKEY_ANSWER_LARGE,
	PROBE_P_LAME_DELEGATION,
	PROBE_P_PARENT_LAME,
	PROBE_P_DNS_INTERCEPTED,
	PROBE_P_SERVERS_DISAGREE,
	PROBE_P_SERIAL_MISMATCH,
	PROBE_P_VALIDATION_BOGUS,
	PROBE_P_VALIDATION_INDETERMINATE,
	PROBE_P_VALIDATION_INSECURE,
	PROBE_P_BECAME_INSECURE,
	PROBE_P_RESOLVER_UNREACHABLE,
	PROBE_P_RESOLVER_SERVFAIL,
	PROBE_P_RESOLVER_NOT_VALIDATING,
	/* Bounded waits (issue 15). */
	PROBE_P_VALIDATION_TIMEOUT,
	PROBE_P__COUNT
};

/* Which checks can say that a problem has gone (see the registry). */
enum probe_resolve {
	PROBE_RESOLVE_ZONE_READ = 0,	/* a check that read the zone */
	PROBE_RESOLVE_ANY_CHECK,	/* any check */
	PROBE_RESOLVE_VALIDATED,	/* a check whose validator concluded */
	PROBE_RESOLVE_SECURE_AGAIN,	/* a check that validates again */
	PROBE_RESOLVE_TCP_ASKED,	/* a check that asked over TCP (with
					   tcp_every N, not every check) */
	PROBE_RESOLVE_EVERY_PARENT	/* a check that asked every parent
					   server for the DS */
};

/* One row of the registry. */
struct probe_problem_def {
	enum probe_code		 id;
	const char		*code;		/* stable, machine-readable */
	enum probe_severity	 severity;	/* unless the producer says */
	bool			 fires_at_once;	/* no flap damping: resolvers
						   fail the domain now */
	enum probe_resolve	 resolved_by;
	enum probe_code		 alert_as;	/* the alert it belongs to */
	const char		*meaning;	/* one line, for docs */
};

struct probe_problem {
	enum probe_code		id;
	const char		*code;		/* the registry's, static */
	enum probe_severity	severity;
	char			message[480];	/* says what to do */
};

/*
 * What came before this check, for the classifier to judge with. The
 * store fills it (store_annotate); a one-shot check leaves it zero. The
 * classifier reads it and never writes it.
 */
struct probe_history {
	bool		tracked;	/* a store keeps this domain's history */
	bool		secure_before;	/* the newest check with a verdict
					   validated secure */
	time_t		secure_at;
	/* The open KSK rotation, if any (rotation_open false: none). */
	bool		rotation_open;
	uint16_t	rot_key_tag;	/* the new key */
	uint8_t		rot_key_alg;
	uint16_t	rot_rdata_len;	/* 0: its key not seen yet */
	uint8_t		rot_rdata[PROBE_MAX_KEYDATA];
	time_t		rot_start, rot_deadline, rot_registrar_deadline;
	time_t		rot_ds_updated_at;	/* 0: not yet */
	uint32_t	rot_ds_ttl;		/* 0: not known yet */
	/* The DS the DNS host announced for that rotation (len 0: none). */
	char		host_source[16];
	char		host_event[64];		/* its event id */
	uint16_t	host_key_tag;
	uint8_t		host_algorithm, host_digest_type, host_digest_len;
	uint8_t		host_digest[PROBE_MAX_DIGEST];
	/* The store failed for this check: why ("" when it did not). */
	char		store_error[320];
	/* When a key of each algorithm (< 32) was first seen, 0: never: which
	 * algorithm an algorithm rollover leaves, once its keys are gone. */
	time_t		alg_first_seen[32];
	/* The open algorithm rollover (alg_open false: none): its algorithms,
	 * the stage the last check saw and since when. */
	bool		alg_open;
	uint8_t		alg_from, alg_to;
	uint8_t		alg_stage;		/* enum probe_alg_stage */
	time_t		alg_start, alg_stage_since;
};

/* Where an algorithm rollover stands (RFC 6781 4.1.4): each stage is
 * safe only after the one before it has reached every server and every
 * cache (RFC 7583). */
enum probe_alg_stage {
	PROBE_ALG_NONE = 0,		/* one algorithm: no rollover */
	PROBE_ALG_SIGNATURES_ADDED,	/* new RRSIGs, no new DNSKEY yet */
	PROBE_ALG_KEYS_PUBLISHED,	/* both algorithms' keys sign */
	PROBE_ALG_DS_SWAPPED,		/* the parent's DS names the new */
	PROBE_ALG_OLD_KEYS_REMOVED,	/* old RRSIGs linger */
	PROBE_ALG_OLD_DS_LINGERS,	/* only the old DS is left over */
	PROBE_ALG_UNCLEAR		/* more than two algorithms, or no
					   way to tell old from new */
};

struct probe_alg_rollover {
	enum probe_alg_stage stage;
	uint8_t		from, to;	/* algorithm numbers; 0: unknown */
	char		basis[64];	/* how old and new were told apart */
	bool		bad_order;	/* classifier: a dangerous ordering */
	/* Each stage is a state with its own clock (classifier; history
	 * keeps since across checks, the store across restarts): since
	 * when, from when the next step is safe (since + the TTL that must
	 * pass first, RFC 7583), and by when it should have been taken
	 * (since + rotation_window_s): past that the rollover has stalled.
	 * 0: no stage (none, unclear). */
	time_t		start;		/* the rollover's first stage */
	time_t		stage_since, safe_at, deadline;
	bool		stalled;	/* now > deadline */
};

/* The KSK rotation deadline as the classifier judged it. */
struct probe_deadline {
	bool		set;		/* a KSK waits for its DS */
	bool		opens;		/* this check opens the rotation */
	int		key;		/* index into keys[], -1: not seen */
	time_t		start, deadline, registrar_deadline;
};

struct probe_result {
	char		domain[PROBE_NAME_MAX];	/* lower case, no final dot */
	char		parent[PROBE_NAME_MAX];	/* zone holding the DS */
	time_t		started;
	double		duration_ms;
	unsigned	queries;		/* sent for this domain */
	char		error[256];		/* why the probe itself failed */
	unsigned	local_errors;		/* the monitor's own failures
						   (out of memory, no socket)
						   while this probe ran */

	/* Parent side. */
	enum probe_qstatus parent_status;
	char		parent_server[PROBE_ADDR_MAX];	/* whose DS ds[] is:
						   who answered, or when
						   that one lags, one that
						   does not (classifier) */
	bool		delegated;		/* the parent delegates it */
	bool		parent_lame;		/* parent servers answered, none
						   with authority (error says
						   who and how) */
	bool		intercepted;		/* the root does not answer as
						   the root: the network
						   intercepts DNS (error says
						   how); nothing else was
						   asked */
	uint32_t	ds_ttl;
	unsigned	n_ds;
	struct probe_ds	ds[PROBE_MAX_DS];
	unsigned	ds_dropped;
	/* Every parent server address asked for the DS (see probe_hint):
	 * parents[0] gave ds[] above. n_parents 1: only that one. */
	bool		every_parent;		/* all addresses were asked */
	unsigned	n_parents;
	struct probe_parent parents[PROBE_MAX_PARENTS];
	unsigned	parents_dropped;	/* addresses not asked */
	unsigned	n_parent_ds;		/* union over parents[] */
	struct probe_ds	parent_ds[PROBE_MAX_PARENT_DS];
	unsigned	parent_ds_dropped;

	/* Child side. */
	unsigned	n_servers;
	struct probe_server servers[PROBE_MAX_SERVERS];
	unsigned	servers_dropped;
	unsigned	ipv6_unrouted;		/* IPv6 server addresses not
						   asked: this host has no
						   route to them */
	bool		ipv6_unproven;		/* no IPv6 server has ever
						   answered this engine: an
						   IPv6 failure may be the
						   host's, not the server's */
	unsigned	n_keys;
	struct probe_key keys[PROBE_MAX_KEYS];
	uint32_t	dnskey_ttl;		/* largest served, 0: none */
	unsigned	keys_dropped;
	unsigned	n_cds;			/* CDS as the child publishes */
	struct probe_ds	cds[PROBE_MAX_DS];
	unsigned	n_cdnskey;		/* CDNSKEY, as fingerprints */
	struct probe_cdnskey cdnskey[PROBE_MAX_DS];
	unsigned	cds_dropped, cdnskey_dropped;	/* did not fit */
	bool		cds_delete;		/* CDS "0 0 0 00": remove DS */
	/* RFC 9615 signals, asked only when the parent has no DS. */
	unsigned	n_signals;
	struct probe_signal signals[PROBE_MAX_SIGNALS];
	unsigned	signals_dropped;
	time_t		earliest_sig_expiry;	/* 0: none seen */

	/* Validation. */
	enum probe_validation validation;
	char		why_bogus[256];
	bool		validation_timed_out;	/* the engine's guard ended it
						   before libunbound did */
	/* Denial of existence: the random name asked this check (a new one
	 * every check, so no cache answers it), the type asked at the apex,
	 * and what libunbound concluded about the random name. */
	char		denial_name[PROBE_NAME_MAX];	/* "": not asked */
	uint16_t	denial_type;
	enum probe_validation denial_validation;
	char		denial_why_bogus[256];
	unsigned	n_resolvers;
	struct probe_resolver resolvers[PROBE_MAX_RESOLVERS];

	/* Input: what history and the DNS host said before. */
	struct probe_history history;

	/* Verdict, filled by probe_classify(). */
	enum probe_state state;
	unsigned	n_publish;		/* the DS to publish: SHA-256,
						   and SHA-384 beside it where
						   the key warrants; never
						   SHA-1, never a deprecated
						   algorithm */
	struct probe_ds	publish[2 * PROBE_MAX_KEYS];/* of each key that needs
						   one (.key: its index) */
	bool		rotation_ambiguous;	/* a key without DS may be new
						   or retiring: neither CDS nor
						   history tells (publish[] is
						   then conditional) */
	bool		servers_agree;		/* every server that answered
						   with a SOA serves the same
						   DNSKEY set and serial (in
						   multi-signer mode: within
						   each provider) */
	enum probe_multi multi_signer;		/* how the zone is signed */
	unsigned	n_providers;		/* multi-signer: groups of */
	uint32_t	providers[PROBE_MAX_SERVERS]; /* servers, bit i:
						   servers[i] */
	bool		cds_parent_applies;	/* the parent is in the
						   policy's cds_parents */
	bool		cds_consistent;		/* every server serves the same
						   CDS and CDNSKEY */
	bool		cds_acceptable;		/* such a parent would act on
						   the CDS: no CDS problem */
	time_t		cds_pickup;		/* a new key's DS is in the CDS
						   of such a parent: it should
						   have acted by then (0: no) */
	struct probe_deadline deadline;
	struct probe_alg_rollover alg_rollover;
	bool		parents_agree;		/* every answering parent
						   server serves one DS set */
	/* ds_updated: the new DS reached every answering parent server at
	 * ds_everywhere_at (from the rotation record, else this check), so
	 * the old key may go from safe_removal_at = that + the largest DS
	 * TTL (RFC 7583). 0: not in that state. */
	time_t		ds_everywhere_at, safe_removal_at;
	enum probe_severity severity;
	unsigned	n_problems;
	struct probe_problem problems[PROBE_MAX_PROBLEMS];
	unsigned	problems_dropped;
};

/* What the engine needs; strings are copied by probe_engine_create(). */
struct probe_config {
	const char	*trust_anchor;		/* file, zone-file DNSKEY/DS */
	const char	*root_hints;		/* file, or NULL: built in */
	const char	*resolvers[PROBE_MAX_RESOLVERS]; /* "ADDR[@PORT]" */
	unsigned	 n_resolvers;
	int		 timeout_ms;		/* per attempt */
	int		 retries;
	unsigned	 max_domains;		/* in flight at once */
	unsigned	 max_queries;		/* on the wire at once */
	unsigned	 per_server_qps;	/* 0: unlimited */
	bool		 ipv6;			/* query IPv6 server addresses
						   (those this host has a
						   route to) */
	int		 cache_ttl_s;		/* zone cuts and name server
						   addresses are reused this
						   long; 0: an hour */
};

/* Thresholds the classifier uses. */
struct probe_policy {
	int	sig_warning_s;		/* RRSIG expiring within: warning */
	int	sig_critical_s;		/* ... within: critical */
	bool	insecure_is_problem;	/* unsigned delegation: warning */
	long	rotation_window_s;	/* a host's DS deadline after its
					   new key appears: default 7 days */
	long	critical_before_s;	/* deadline this close: critical,
					   default 72 hours */
	enum probe_multi_mode multi_signer;	/* default auto */
	/* Parent zones whose registry reads CDS/CDNSKEY and updates the
	 * DS itself (lower case, no final dot). Not copied: the strings
	 * must outlive every classification; the default list is static. */
	const char *const *cds_parents;
	unsigned n_cds_parents;
	long	cds_pickup_s;		/* such a registry acts within:
					   default 3 days */
};

struct probe_engine;

typedef void (*probe_done_cb)(void *arg, struct probe_result *result);

/*
 * Called from inside a probe_done_cb: the result is the caller's from
 * now on, to free with probe_result_free() (any time, also after the
 * engine is gone), instead of a copy of its ~75 KB. Without it the
 * engine frees the result once the callback returns.
 */
void	probe_result_keep(struct probe_engine *, struct probe_result *);
void	probe_result_free(struct probe_result *);

/*
 * Create an engine on the caller's event loop. Returns NULL and writes a
 * one-line reason to err on bad configuration (unreadable anchor, bad
 * resolver address, ...). Caller destroys.
 */
struct probe_engine *probe_engine_create(struct event_base *base,
	    const struct probe_config *cfg, char *err, size_t errlen);
/* Cancels all work without calling callbacks. Accepts NULL. Never call
 * from inside a probe_done_cb: defer to a zero-delay timer. */
void	probe_engine_destroy(struct probe_engine *);

/*
 * Probe one domain (presentation format). The callback runs later from
 * the event loop, exactly once, with a result owned by the engine and
 * valid only during the callback (copy what you keep). Returns -1 with a
 * reason in err when the name is not a valid domain name.
 */
int	probe_start(struct probe_engine *, const char *domain,
	    probe_done_cb cb, void *arg, char *err, size_t errlen);

/* probe_start_flags() flags. */
#define PROBE_START_TCP		0x1	/* also ask every server address for
					   DNSKEY over TCP (one query more
					   each); probe_start() sets it */

/* probe_start() with flags: 0 leaves TCP to TC=1 fallbacks (a daemon
 * asks over TCP only every Nth check, see tcp_every). */
int	probe_start_flags(struct probe_engine *, const char *domain,
	    unsigned flags, probe_done_cb cb, void *arg, char *err,
	    size_t errlen);

/*
 * What the caller knows from the domain's history, so that the probe asks
 * every parent server only when it matters (each is one more query).
 */
struct probe_hint {
	bool		every_parent;	/* ask them all: a rotation is open */
	bool		ds_known;	/* ds_fp: the DS set at the last check,
					   on which every parent agreed */
	uint64_t	ds_fp;		/* probe_ds_fingerprint() */
	unsigned	parent_turn;	/* which parent address to ask: the
					   caller counts the domain's checks,
					   so that each address has its turn */
};

/*
 * As probe_start(), with a hint (NULL: none). Without one, or when the
 * first parent server's DS set differs from hint->ds_fp, or when
 * hint->every_parent, every other parent address is asked for the DS too.
 */
int	probe_start_hint(struct probe_engine *, const char *domain,
	    const struct probe_hint *, probe_done_cb cb, void *arg,
	    char *err, size_t errlen);
/* An order-independent fingerprint of a DS set (r->ds, r->n_ds). */
uint64_t probe_ds_fingerprint(const struct probe_ds *, unsigned n);
/* Both: flags (PROBE_START_TCP) and a hint (NULL: none). */
int	probe_start_with(struct probe_engine *, const char *domain,
	    unsigned flags, const struct probe_hint *, probe_done_cb cb,
	    void *arg, char *err, size_t errlen);

/* Domains in flight or queued. */
unsigned probe_pending(const struct probe_engine *);

/*
 * Forget the probes that have not started yet (a stopping daemon has no
 * reason to wait for them): for each, fn(arg) is called with the arg given
 * to probe_start() instead of its done callback. Probes in flight go on.
 */
void	probe_drop_queued(struct probe_engine *, void (*fn)(void *arg));

/* What the engine has done since it was created. */
struct probe_stats {
	unsigned long long	domains;	/* probes finished */
	unsigned long long	packets;	/* our own UDP + TCP queries */
	unsigned long long	tcp_packets;	/* of which over TCP */
	unsigned long long	tcp_connections; /* TCP connections opened
						   for them (shared) */
	unsigned long long	timeouts, tc_fallbacks;
	unsigned long long	silent_cut;	/* of the timeouts: questions
						   not sent again, their
						   address being silent */
	unsigned long long	silent_addresses; /* server addresses silent
						   now (no answer to their
						   last 8 questions) */
	unsigned long long	validations;	/* libunbound questions */
	unsigned long long	validation_timeouts; /* of which ended by
						   the guard (no answer) */
	unsigned long long	resolver_queries; /* through getdns */
	unsigned long long	shared_steps;	/* zone-cut answers reused */
	unsigned long long	cache_freed;	/* expired cache entries freed
						   once no job held them */
	unsigned long long	oom_backoffs;	/* probe starts put off: out of
						   memory */
	unsigned long long	local_errors;	/* summed over finished probes:
						   see probe_result.local_errors */
	unsigned long long	ipv6_unrouted;	/* IPv6 addresses not asked:
						   no route from this host */
	unsigned long long	ipv6_answers;	/* answers from IPv6 name
						   server addresses */
};
void	probe_engine_stats(const struct probe_engine *, struct probe_stats *);

/* Servers that gave anything to judge: bit i for servers[i]. */
uint32_t probe_answering_mask(const struct probe_result *);
/* The key a KSK rotation opened by this check waits on (needs_ds, SEP
 * flag first), -1: none. After probe_classify(). */
int	probe_rotation_new_key(const struct probe_result *);
/* Does keys[k]'s RRSIG over the DNSKEY RRset verify wherever its tag is
 * seen signing it? 1 yes, 0 not somewhere, -1 not verified (only servers
 * that serve CDS/CDNSKEY are). */
int	probe_key_sig_verified(const struct probe_result *, unsigned k);

/* Fill state, severity and problems from the observation. Pure: no I/O,
 * `now` is the time to judge signature validity against. */
void	probe_classify(struct probe_result *, const struct probe_policy *,
	    time_t now);
void	probe_policy_defaults(struct probe_policy *);

/*
 * Add a problem with the registry's severity (or the one given), and keep
 * r->severity the maximum over the problems. Drops (and counts) past
 * PROBE_MAX_PROBLEMS; the severity still counts.
 */
void	probe_problem_add(struct probe_result *, enum probe_code,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	probe_problem_add_sev(struct probe_result *, enum probe_code,
	    enum probe_severity, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
bool	probe_has_problem(const struct probe_result *, enum probe_code);

/* The registry row of a problem; NULL for a value out of range, or (by
 * name) for a code this version does not know. Static. */
const struct probe_problem_def *probe_problem_def(enum probe_code);
const struct probe_problem_def *probe_problem_find(const char *code);
const char *probe_problem_code(enum probe_code);
/* The alert a problem code belongs to (itself, or the code it escalates). */
const char *probe_problem_alert_code(const char *code);
/* Could this check have seen the problem `code`? When it could and did
 * not report it, the problem has gone. */
bool	probe_problem_resolvable(const char *code, const struct probe_result *);
const char *probe_resolve_name(enum probe_resolve);
/* The severity a rotation state carries by itself. */
enum probe_severity probe_state_severity(enum probe_state);

/* One problem as {code, severity, message}, the one shape every
 * consumer shows (severity "info" for a note); the array of a result's
 * problems. Caller owns the reference; NULL when out of memory. */
struct json_t *probe_problem_json(const char *code, enum probe_severity,
	    const char *message);
struct json_t *probe_problems_json(const struct probe_result *);
/* One DS record as {key_tag, algorithm, digest_type, digest, record}:
 * digest in upper-case hex, record the "owner. IN DS ..." line to give a
 * registrar (null when it cannot be formed). The one shape of a DS, CDS
 * or host-announced DS in every output. Caller owns the reference. */
struct json_t *probe_ds_json(const char *owner, uint16_t key_tag,
	    uint8_t algorithm, uint8_t digest_type, const uint8_t *digest,
	    size_t digest_len);

/* The observation and verdict as a JSON object (jansson json_t; caller
 * owns the reference). NULL when out of memory. */
struct json_t *probe_result_json(const struct probe_result *);

const char *probe_validation_name(enum probe_validation);
/* "none", "configured", "detected". Static. */
const char *probe_multi_name(enum probe_multi);
/* "nsec", "nsec3", "missing", "none". Static. */
const char *probe_denial_name(enum probe_denial);
/* "signatures_added", ..., "none". Static. */
const char *probe_alg_stage_name(enum probe_alg_stage);
/* The stage of a probe_alg_stage_name() string, PROBE_ALG_NONE: unknown. */
enum probe_alg_stage probe_alg_stage_from_name(const char *);
/* "info" for PROBE_SEV_OK (a note), else as probe_severity_name(). */
const char *probe_problem_severity_name(enum probe_severity);
/* "NOERROR", "SERVFAIL", ...; NULL for -1 (no answer). Static. */
const char *probe_rcode_name(int rcode);
const char *probe_state_name(enum probe_state);
const char *probe_severity_name(enum probe_severity);
const char *probe_qstatus_name(enum probe_qstatus);
const char *probe_signal_status_name(enum probe_signal_status);

#endif
