/*
 * The store: dnssecmon's memory, one SQLite file.
 *
 * Every check is one transaction, or one savepoint in a batch of the
 * checks that finished in the same loop turn (store_batch_begin): the
 * observation, the keys and DS records seen (first/last seen), and the
 * rotation it opens, advances or closes. A deadline written here survives
 * restarts and crashes (WAL, and each check committed before its result
 * is reported).
 *
 * The order of a check that records history (store_check() runs it, for
 * every command):
 *
 *	probe result
 *	  -> store_annotate()	 history into r->history and the keys: key
 *				 first_seen, pre-published DS, "was secure
 *				 before", the open rotation and the DS its
 *				 DNS host announced
 *	  -> probe_classify()	 the only judge: state, severity, problems,
 *				 the rotation deadline
 *	  -> store_commit()	 one transaction: rotation bookkeeping,
 *				 observation, keys, DS, alert transitions;
 *				 it never changes the verdict
 *
 * Every function returns 0 or -1; on -1 store_error() says why. A failed
 * store call never corrupts what was committed before (the transaction
 * rolls back); the caller reports it as a problem and carries on.
 */
#ifndef DNSSECMON_STORE_H
#define DNSSECMON_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "probe/probe.h"

#define STORE_SCHEMA_VERSION	4

struct store;

/* Per-domain rotation policy (from the config, or defaults). */
struct store_policy {
	long	rotation_window_s;	/* default 7 days */
	long	critical_before_s;	/* default 72 hours */
	int	multi_signer;		/* enum probe_multi_mode, per domain:
					   default auto */
	/* Alerts (store/alerts.c). */
	int	alert_fire_after_checks; /* damping: default 2 checks */
	long	alert_fire_after_s;	/* when > 0: persist this long
					   instead of a number of checks */
	long	alert_repeat_s;		/* reminders; default 24 h, 0: never */
};

enum store_rotation_kind { STORE_ROT_KSK, STORE_ROT_ZSK };

struct store_rotation {
	int64_t			 id;
	char			 domain[PROBE_NAME_MAX];
	enum store_rotation_kind kind;
	char			 source[16];	/* "dns" or "dnsimple" ... */
	time_t			 start;
	time_t			 deadline;		/* start + window */
	time_t			 registrar_deadline;	/* deadline - DS TTL */
	time_t			 ds_updated_at;		/* 0: not yet; the
						   check that saw the new DS
						   on every parent server */
	time_t			 completed_at;		/* 0: open */
	char			 outcome[16];	/* "" open, completed, broken,
						   abandoned */
	uint16_t		 new_key_tag;
	uint8_t			 new_key_alg;
	unsigned		 n_old;
	uint16_t		 old_key_tags[PROBE_MAX_KEYS];
	uint32_t		 ds_ttl;	/* parent's DS TTL used; 0:
						   not known yet */
	char			 external_id[64]; /* "" unless a DNS host's
						   event opened it */
};

void	store_policy_defaults(struct store_policy *);

/*
 * Open (creating or migrating forward) the database at path. WAL, a busy
 * timeout, foreign keys on. Returns NULL with the reason in err. A
 * database from a newer dnssecmon (higher user_version) is refused.
 */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Accepts NULL. */
void	store_close(struct store *);
/* The last error, valid until the next call. */
const char *store_error(const struct store *);
/*
 * Is the database file still the one opened (same device and inode)?
 * -1 once it was deleted or replaced (for good: every transaction then
 * fails with that reason, which store_gone() returns); 0 otherwise,
 * also when stat(2) cannot tell. One stat(2); store_begin() calls it.
 */
int	store_file_check(struct store *);
/* Why the database file is lost (static in the store), NULL if it is not. */
const char *store_gone(const struct store *);
/*
 * Did the last write transaction (a check, a delivery, a rotation, a
 * prune) commit, and was the last check recorded (reading its history
 * can fail before any write)? True also before the first. False with the
 * error in why (caller storage): what /readyz reports.
 */
bool	store_last_write(const struct store *, char *why, size_t whylen);

/*
 * Fill what only history knows into r, before probe_classify(): each
 * key's first_seen (now, for a key never seen), each unmatched DS's
 * `prepublished` (its key was never seen although the domain has been
 * observed before), and r->history (the last validation verdict, the
 * open KSK rotation and the DS its DNS host announced). Reads only.
 */
int	store_annotate(struct store *, struct probe_result *r, time_t now);

/*
 * Record a classified check in one transaction: opens (with the deadline
 * the classifier judged), advances or closes the domain's rotations, and
 * writes the observation, keys and DS first and last seen and the alert
 * transitions. It does not change the verdict. The open KSK rotation
 * after this check, if any, goes to *open (open->id 0 when none; open
 * may be NULL).
 */
int	store_commit(struct store *, struct probe_result *r,
	    const struct store_policy *, time_t now,
	    struct store_rotation *open);

/*
 * The one way a check becomes a verdict and a record, for `run`,
 * `check --db` and the tests: annotate, classify (with the domain's
 * rotation window and critical_before from spol), commit. With st NULL,
 * a one-shot verdict. When the store fails, the check is judged again
 * with the failure as an input, so it carries the store_error problem
 * and at least severity unknown whichever command ran it. 0, or -1 when
 * nothing was recorded (store_error() says why).
 */
int	store_check(struct store *, struct probe_result *r,
	    const struct probe_policy *, const struct store_policy *spol,
	    time_t now, struct store_rotation *open);

/*
 * Batching: between store_batch_begin() and store_batch_end(), the checks
 * store_check() records share one write transaction (each in a savepoint
 * of its own, so a check that fails is undone alone and reported as
 * today). store_check() returning 0 then means "recorded, once the batch
 * commits": nothing derived from such a check (alerts, exports, logs of
 * a recorded rotation) may leave the process before store_batch_end()
 * returned 0. Any other store call (a read, a delivery, a DNS host's
 * event) commits the batch first, so it never sees or acknowledges a
 * check that could still be lost. store_batch_end() commits and returns
 * 0, or -1 when checks store_check() had accepted were lost (the batch's
 * COMMIT failed, or its transaction was rolled back by an error):
 * store_error() says why, and the caller reports each of them with
 * store_check_lost(). Both accept NULL; begin on a read-only store does
 * nothing.
 */
void	store_batch_begin(struct store *);
int	store_batch_end(struct store *);
/*
 * A check that store_check() had accepted was lost with its batch: judge
 * it again with the store's error as an input (the store_error problem,
 * severity unknown at least), as store_check() does when its own commit
 * fails.
 */
void	store_check_lost(struct store *, struct probe_result *r,
	    const struct probe_policy *, const struct store_policy *spol,
	    time_t now);

/* Rotations, newest first; only open ones when open_only. Caller frees
 * *out with free(). */
int	store_rotations(struct store *, bool open_only,
	    struct store_rotation **out, size_t *n);

/*
 * Delete observations older than `before` that are not state changes,
 * then alert transitions (outbox rows and their deliveries) older than
 * `before` that every sink started since then is done with, at most
 * `batch` rows per transaction, until none is left or `max_batches` ran
 * in all. Keys, DS, rotations, alerts and state-change observations stay.
 * Returns the number of rows deleted, or -1.
 */
long	store_prune(struct store *, time_t before, int batch, int max_batches);

/*
 * Open an existing database for reading only, for the commands that only
 * look: never creates a file ("no such database") and never migrates (a
 * database at an older schema is read as it is: migrations only add; a
 * query that needs a newer table refuses with a hint). NULL with the
 * reason, file name included, in err.
 */
struct store *store_open_readonly(const char *path, char *err,
	    size_t errlen);

/*
 * For `run -n`: would store_open() take the file at path, and is it
 * whole (PRAGMA quick_check)? Reads only, and never creates or changes a
 * file, -wal and -shm included. A missing or empty file is fine (the
 * daemon creates it). The check stops after budget_ms, with *partial
 * true: a large database is then checked only in part. 0, or -1 with the
 * reason, file name included, in err.
 */
int	store_verify(const char *path, int budget_ms, bool *partial,
	    char *err, size_t errlen);

/* How long a write waits for another writer's lock; 5000 ms by default. */
void	store_busy_timeout(struct store *, int ms);

/* The id of the observation the last successful store_commit() wrote;
 * 0 before the first. */
int64_t	store_last_observation(const struct store *);

/*
 * Testing aid: create the database at path and migrate it to exactly
 * `version` (0 is an empty file), never further, so that a test can build
 * every earlier schema and let store_open() migrate it. 0 or -1 with the
 * reason in err.
 */
int	store_create_at_version(const char *path, int version, char *err,
	    size_t errlen);

/* What the store knows of one domain (names lower case, no final dot). */
struct store_domain {
	int64_t		 id;
	char		 name[PROBE_NAME_MAX];
	time_t		 first_seen;
	time_t		 last_checked;		/* 0: never checked */
	char		 last_state[24];	/* "" when never checked */
	char		 last_severity[16];
	char		 last_validation[16];
};

/* 1 with *out filled when the domain is known, 0 when not, -1 on error. */
int	store_domain(struct store *, const char *name, struct store_domain *out);
/*
 * Reads that follow share one read transaction (one lock and one WAL
 * snapshot instead of one per read) until store_read_end(): for a pass
 * over thousands of domains. 0 when one was opened; -1 when not (a
 * transaction is already open, or an error): the reads still work, each
 * on its own, and store_read_end() must not be called.
 */
int	store_read_begin(struct store *);
void	store_read_end(struct store *);

/* One recorded observation; every pointer is valid during the callback
 * only. */
struct store_observation {
	int64_t		 id;
	time_t		 time;
	const char	*severity;	/* "ok", "warning", ... */
	const char	*validation;	/* "secure", ... */
	const char	*state;		/* the rotation state's name */
	bool		 state_change;	/* severity, state or validation moved */
	const char	*problems;	/* JSON [{code, severity, message}] */
	const char	*resolvers;	/* JSON [{address, status, rcode, ad,
					   latency_ms}] */
	const char	*servers;	/* JSON [{name, address, status,
					   soa_serial, dnskey_tags}] */
};

/* Return 0 to go on, anything else to stop the walk. Must not call into
 * the store. */
typedef int (*store_observation_cb)(void *arg,
	    const struct store_observation *);

/*
 * Stream the observations of a domain made at or after `since`, oldest
 * first, to cb: history can be long, so nothing is held in memory.
 * 0 (also when cb stopped the walk) or -1.
 */
int	store_history(struct store *, const char *domain, time_t since,
	    store_observation_cb cb, void *arg);

/*
 * The one JSON shape of a recorded observation, for `history` and the
 * API's `history`: {time, severity, validation, state, state_change,
 * problems}, problems as stored ([{code, severity, message}], [] when it
 * cannot be read). An output may add the stored resolvers and servers
 * beside them. Caller owns the reference; NULL when out of memory.
 */
struct json_t *store_observation_json(const struct store_observation *);

/* A DNSKEY as history knows it. */
struct store_key_seen {
	uint16_t	 key_tag;
	uint16_t	 flags;
	uint8_t		 algorithm;
	time_t		 first_seen, last_seen;
	time_t		 signing_first_seen;	/* 0: never seen signing (the
						   DNSKEY RRset or the zone) */
	time_t		 ds_first_seen;		/* 0: never seen with a DS */
	uint16_t	 rdata_len;
	uint8_t		 rdata[PROBE_MAX_KEYDATA];
};

/* A DS record at the parent as history knows it. */
struct store_ds_seen {
	uint16_t	 key_tag;
	uint8_t		 algorithm, digest_type, digest_len;
	uint8_t		 digest[PROBE_MAX_DIGEST];
	time_t		 first_seen, last_seen;
	bool		 arrived;	/* appeared after the domain's first
					   check (we saw it arrive) */
	int		 key;		/* index into the keys array of the key
					   it points at; -1: none ever seen */
};

/*
 * Every key and every DS ever seen for a domain, each ordered by
 * first_seen. Caller frees *keys and *ds with free(). 0 or -1.
 */
int	store_keys(struct store *, const char *domain,
	    struct store_key_seen **keys, size_t *nkeys,
	    struct store_ds_seen **ds, size_t *nds);
/*
 * The one JSON shape of that timeline, for `keys --format json` and the
 * API's `keys`: {dnskeys: [{key_tag, algorithm, flags, role, first_seen,
 * last_seen, signing_first_seen, ds_first_seen, published}], ds: [DS
 * record (probe_ds_json) + {first_seen, last_seen, at_parent,
 * arrived_after_first_check, matches_key_tag}]}. A key is published and a
 * DS at the parent when the domain's last recorded check (last_checked,
 * struct store_domain) saw it. Caller owns the reference; NULL when out
 * of memory.
 */
struct json_t *store_keys_json(const char *domain, time_t last_checked,
	    const struct store_key_seen *keys, size_t nkeys,
	    const struct store_ds_seen *ds, size_t nds);

/*
 * What the last recorded check of a domain tells the next one (see struct
 * probe_hint): every_parent while its state was rotation_pending or
 * ds_updated, ds_known with the fingerprint of the DS set it saw unless
 * it reported a problem among the parent's servers (then the next check
 * asks them all to see it gone). parent_turn is left alone. 0 (with
 * nothing known: both false) or -1.
 */
int	store_probe_hint(struct store *, const char *domain,
	    struct probe_hint *);

/* A DNS host's word on a rotation (its webhook, a later issue). */
struct store_external {
	const char		*domain;
	const char		*source;	/* "dnsimple", ... */
	const char		*external_id;	/* the host's event/rotation id */
	enum store_rotation_kind kind;
	bool			 completed;	/* false: started */
	time_t			 time;		/* when it started / completed */
	uint16_t		 new_key_tag;	/* 0: not said */
	uint8_t			 new_key_alg;
	uint32_t		 ds_ttl;	/* 0: not known yet */
	/* The DS the host announced (digest_len 0: none), kept with the
	 * rotation for the classifier to judge at every check. */
	uint16_t		 ds_key_tag;
	uint8_t			 ds_algorithm, ds_digest_type, ds_digest_len;
	uint8_t			 ds_digest[PROBE_MAX_DIGEST];
};

/*
 * Record a rotation a DNS host announced, deduplicated on external_id: a
 * repeated event changes nothing. A start opens the rotation (or, when
 * the checks already opened one of that kind, labels it with the host's
 * id and takes the host's start when it is earlier); a completion closes
 * the rotation with that id, or the domain's open one of that kind, as
 * `completed`. The rotation as it stands goes to *out (may be NULL).
 * 0 or -1 (a completion matching no rotation is an error).
 */
int	store_rotation_external(struct store *, const struct store_external *,
	    const struct store_policy *, time_t now, struct store_rotation *out);

const char *store_rotation_kind_name(enum store_rotation_kind);
/* A KSK rotation's earliest safe moment to withdraw the old key: the new
 * DS reached every parent server at ds_updated_at, and the old DS may be
 * cached for the DS TTL after that (RFC 7583). 0: not known yet. */
time_t	store_rotation_safe_removal(const struct store_rotation *);
/*
 * The one JSON shape of a rotation record, for `check --db`, `rotations`,
 * the API, the page's data, the outbox (webhooks, MQTT alerts, exec):
 * {domain, kind, source, external_id, start, deadline, registrar_deadline,
 * seconds_left, ds_ttl, ds_updated_at, ds_everywhere_at, safe_removal_at,
 * completed_at, outcome, new_key_tag, new_key_algorithm, old_key_tags}.
 * seconds_left counts to the registrar deadline (negative once passed)
 * while the new DS is not yet everywhere and the rotation is open, else
 * null. JSON null for NULL or a rotation never stored (id 0). Caller owns
 * the reference.
 */
struct json_t *store_rotation_json(const struct store_rotation *,
	    time_t now);

/* ------------------------------------------------ alerts */
/*
 * store_commit() also runs the alert state machine (store/alerts.c), in
 * the same transaction as the observation: each (domain, problem code)
 * of warning severity or worse is one alert, firing -> escalated ->
 * resolved, with reminders; every transition is one outbox row whose
 * payload (JSON) is built once and delivered identically to every sink.
 * Sinks take rows from the outbox in order and record each attempt.
 */

/* Transition names, as in the outbox and in the `on:` lists. */
#define STORE_ALERT_FIRING	0x1
#define STORE_ALERT_ESCALATED	0x2
#define STORE_ALERT_REMINDER	0x4
#define STORE_ALERT_RESOLVED	0x8
#define STORE_ALERT_ALL		0xf

/* "firing", ... for one STORE_ALERT_* bit; NULL for anything else. */
const char *store_alert_transition_name(unsigned bit);
/* The bit for a name, 0 when unknown. */
unsigned store_alert_transition_bit(const char *name);

/*
 * Make a sink known to the store (or update its transition filter, a
 * mask of STORE_ALERT_*). A sink seen for the first time starts after
 * the newest outbox row: it is not sent the history. 0 or -1.
 */
int	store_sink_register(struct store *, const char *sink, unsigned on,
	    time_t now);

/* One transition waiting in the outbox for a sink. */
struct store_outbox_row {
	int64_t		 id;
	int64_t		 alert_id;
	time_t		 created;
	char		 transition[16];
	int		 attempts;	/* by this sink, so far */
	char		*payload;	/* JSON; caller frees */
};

/*
 * The oldest row the sink has not finished with (delivered or given
 * up), among the transitions it takes. 1 with *row filled (free
 * row->payload), 0 when none waits, -1 on error.
 */
int	store_outbox_next(struct store *, const char *sink,
	    struct store_outbox_row *row);

/* How one delivery attempt ended. */
enum store_delivery {
	STORE_DELIVERY_RETRY,		/* failed; the row stays first */
	STORE_DELIVERY_DONE,		/* delivered */
	STORE_DELIVERY_GIVEN_UP		/* failed for good; the sink moves on */
};

/*
 * Record an attempt of sink on outbox row id, in one transaction: the
 * attempt count, error (NULL when none) and output (an exec hook's,
 * NULL otherwise); on DONE or GIVEN_UP the sink moves past the row.
 * 0 or -1.
 */
int	store_delivery_record(struct store *, int64_t outbox_id,
	    const char *sink, enum store_delivery, const char *error,
	    const char *output, time_t now);
/* The same for n rows (a group), in one transaction. */
int	store_delivery_record_many(struct store *, const int64_t *ids,
	    unsigned n, const char *sink, enum store_delivery,
	    const char *error, const char *output, time_t now);

#define STORE_GROUP_MAX	32	/* outbox rows in one notification */

/*
 * The rows that the check which wrote first wrote right after it for
 * the same domain and that sink takes (one check's transitions are
 * consecutive rows): their ids, first's included, in ids[] (at most
 * STORE_GROUP_MAX) and *n. With more than one, *payload is first's
 * payload with "grouped" (every transition: id, alert_id, code,
 * transition, severity, message, first_fired), "codes" and a "message"
 * that names them all; caller frees. 0, or -1 on error.
 */
int	store_outbox_group(struct store *, const char *sink,
	    const struct store_outbox_row *first, int64_t *ids, unsigned *n,
	    char **payload);

/* An alert as `dnssecmon alerts` shows it. */
struct store_alert {
	int64_t		 id;
	char		 domain[PROBE_NAME_MAX];
	char		 code[40];
	char		 state[16];		/* firing, escalated, resolved */
	char		 severity[16];
	time_t		 first_fired;
	time_t		 last_notified;
	time_t		 last_seen;		/* 0: not known (schema 1) */
	time_t		 resolved_at;		/* 0: open */
	char		 message[512];
};

/*
 * The open alerts and those resolved at or after `since`, open first,
 * then newest first. Caller frees *out. 0 or -1.
 */
int	store_alerts(struct store *, time_t since, struct store_alert **out,
	    size_t *n);

/*
 * The payload of the alert's newest transition in the outbox (an
 * Alertmanager sink re-posts open alerts after a restart). 1 with *out
 * set (caller frees), 0 when the outbox holds none any more (pruned), -1
 * on error.
 */
int	store_alert_last_payload(struct store *, int64_t alert_id,
	    char **out);

/* One transition of an alert and where it stands for one sink. */
struct store_alert_delivery {
	int64_t		 outbox_id;
	const char	*transition;
	time_t		 created;
	const char	*sink;
	const char	*status;	/* delivered, failed, pending */
	time_t		 at;		/* delivered or given up; 0: pending */
	int		 attempts;
	const char	*last_error;	/* NULL: none */
	const char	*output;	/* NULL: none */
};

/* Return 0 to go on. Pointers are valid during the callback only. */
typedef int (*store_alert_delivery_cb)(void *arg,
	    const struct store_alert_delivery *);

/*
 * Every transition of an alert, oldest first, once per sink that takes
 * it (a transition the store made before a sink was first seen is not
 * listed for that sink). 0 or -1.
 */
int	store_alert_deliveries(struct store *, int64_t alert_id,
	    store_alert_delivery_cb cb, void *arg);

#endif
