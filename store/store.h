/*
 * The store: dnssecmon's memory, one SQLite file.
 *
 * Every check is one transaction: the observation, the keys and DS records
 * seen (first/last seen), and the rotation it opens, advances or closes.
 * A deadline written here survives restarts and crashes (WAL, and each
 * check committed before its result is reported).
 *
 * The order of a check that records history:
 *
 *	probe result
 *	  -> store_annotate()	 history into the observation: key first_seen,
 *				 pre-published DS, "was secure before"
 *	  -> probe_classify()
 *	  -> store_commit()	 one transaction: rotation bookkeeping,
 *				 escalation by deadline (may raise severity
 *				 and add problems), observation, keys, DS
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

#define STORE_SCHEMA_VERSION	1

struct store;

/* Per-domain rotation policy (from the config, or defaults). */
struct store_policy {
	long	rotation_window_s;	/* default 7 days */
	long	critical_before_s;	/* default 72 hours */
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
	time_t			 ds_updated_at;		/* 0: not yet */
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
 * Fill what only history knows into r, before probe_classify(): each
 * key's first_seen (now, for a key never seen), each unmatched DS's
 * `prepublished` (its key was never seen although the domain has been
 * observed before). Reads only.
 */
int	store_annotate(struct store *, struct probe_result *r, time_t now);

/*
 * Record a classified check in one transaction. Opens, advances or closes
 * the domain's rotations; while a KSK rotation waits for its DS, raises
 * r->severity by the time left to the registrar deadline (warning, then
 * critical inside critical_before) and adds a "rotation_deadline" problem
 * naming the deadline in UTC and the time left; adds "became_insecure"
 * when the last observation was secure and this one is insecure. Writes
 * the observation (with r as it stands after that), keys and DS first and
 * last seen. The open KSK rotation after this check, if any, goes to
 * *open (open->id 0 when none; open may be NULL).
 */
int	store_commit(struct store *, struct probe_result *r,
	    const struct store_policy *, time_t now,
	    struct store_rotation *open);

/* Rotations, newest first; only open ones when open_only. Caller frees
 * *out with free(). */
int	store_rotations(struct store *, bool open_only,
	    struct store_rotation **out, size_t *n);

/*
 * Delete observations older than `before` that are not state changes, at
 * most `batch` rows per transaction, until none is left or `max_batches`
 * ran. Keys, DS, rotations, alerts and state-change observations stay.
 * Returns the number deleted, or -1.
 */
long	store_prune(struct store *, time_t before, int batch, int max_batches);

/*
 * Open an existing database for reading only, for the commands that only
 * look: never creates a file ("no such database") and never migrates (a
 * database at an older schema is refused with a hint). NULL with the
 * reason, file name included, in err.
 */
struct store *store_open_readonly(const char *path, char *err,
	    size_t errlen);

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

/* One recorded observation; every pointer is valid during the callback
 * only. */
struct store_observation {
	int64_t		 id;
	time_t		 time;
	const char	*severity;	/* "ok", "warning", ... */
	const char	*validation;	/* "secure", ... */
	const char	*state;		/* "stable", "rotation_pending", ... */
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

#endif
