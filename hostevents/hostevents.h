/*
 * DNS host events: what a DNS host says about a domain's key rotation
 * (today dnsimple's webhook, POST /hooks/dnsimple/SECRET), taken in as an
 * input of the monitor. This module verifies the delivery (the secret in
 * the URL), parses the event, checks the DS it announces against the keys
 * DNS published, records the rotation in the store and asks for a check
 * of the domain, so that the classifier judges the host's word at once.
 * It is the only writer of host events into the store.
 *
 * It knows nothing of HTTP or of the exporter: whoever serves the URL
 * hands it the secret and the body, and whoever keeps the list of
 * monitored domains answers its questions through a hostevents_directory.
 * Events another replica relays (MQTT) go through the same path.
 */
#ifndef DNSSECMON_HOSTEVENTS_H
#define DNSSECMON_HOSTEVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "probe/probe.h"
#include "store/store.h"

struct hostevents;
struct json_t;

/* The longest secret (dnssecmon.conf(5) hooks.dnsimple.secret). */
#define HOSTEVENTS_SECRET_MAX	128

/* The latest word of a DNS host on a domain, and what DNS made of it. */
struct hostevent {
	char		 source[16];		/* "dnsimple" */
	char		 event[40];		/* dnssec.rotation_start ... */
	char		 request_id[64];
	time_t		 time;			/* the host's time */
	time_t		 received;
	uint16_t	 key_tag;
	uint8_t		 algorithm;
	uint8_t		 digest_type;
	uint8_t		 digest_len;		/* 0: the event had no DS */
	uint8_t		 digest[PROBE_MAX_DIGEST];
	int		 verdict;	/* 1: a published key matches its DS,
					   0: none does, -1: not known yet */
	time_t		 verified_at;
};

/* How deliveries ended, counted for dnssecmon_webhook_events_total. */
enum hostevents_result {
	HOSTEVENTS_OPENED, HOSTEVENTS_CLOSED, HOSTEVENTS_DUPLICATE,
	HOSTEVENTS_IGNORED, HOSTEVENTS_REJECTED, HOSTEVENTS_FAILED,
	HOSTEVENTS_RELAYED,	/* for another shard, through the broker */
	HOSTEVENTS_NRESULTS
};

/* "opened", "closed", ... (the metric's result label); static. */
const char	*hostevents_result_name(enum hostevents_result);

/* A monitored domain as the module needs to know it. */
struct hostevents_domain {
	const char		*name;		/* normalised; valid during the
						   call that filled it */
	struct store_policy	 policy;
	bool			 in_shard;	/* false: another shard checks
						   it */
	uint32_t		 ds_ttl;	/* at the parent, last check;
						   0: not known */
};

/*
 * The list of monitored domains, kept by the caller (the exporter's
 * table). Every function is called during a hostevents call only.
 */
struct hostevents_directory {
	/* The domain of this normalised name: 1 with *out, 0 when it is not
	 * monitored. */
	int		 (*find)(void *arg, const char *name,
			    struct hostevents_domain *out);
	/* fn for every monitored domain whose last check published a key
	 * with this tag and algorithm (an event that names no zone is
	 * matched to one by its DS). */
	void		 (*each_with_key)(void *arg, uint16_t key_tag,
			    uint8_t algorithm, void (*fn)(void *fnarg,
			    const char *name), void *fnarg);
	void		*arg;
};

/* What the caller's table should learn from one delivery. */
enum hostevents_rotation { HOSTEVENTS_ROT_KEEP, HOSTEVENTS_ROT_OPEN,
	HOSTEVENTS_ROT_CLOSED };

/* What a delivery gets back. */
struct hostevents_reply {
	int			 status;	/* HTTP status */
	struct json_t		*body;		/* caller decrefs */
	enum hostevents_result	 result;	/* counted already */
	char			 domain[PROBE_NAME_MAX]; /* "": none */
	bool			 heard;		/* host is the domain's latest
						   host word */
	struct hostevent	 host;
	enum hostevents_rotation rotation;	/* what became of the open
						   KSK rotation */
	struct store_rotation	 open;		/* with HOSTEVENTS_ROT_OPEN */
};

/* No store, no secret (webhook off), no directory. NULL when out of
 * memory. Caller destroys. */
struct hostevents *hostevents_create(void);
/* Accepts NULL. */
void		 hostevents_destroy(struct hostevents *);

/* Where events are recorded; NULL: none (a delivery then fails, 500).
 * Never closed here. */
void		 hostevents_set_store(struct hostevents *, struct store *);
/* The domains to take events for (copied). */
void		 hostevents_set_directory(struct hostevents *,
		    const struct hostevents_directory *);
/* The secret the URL must carry (copied); NULL turns the webhook off.
 * -1 when longer than HOSTEVENTS_SECRET_MAX (nothing changed). */
int		 hostevents_set_secret(struct hostevents *, const char *);
/* Whether a secret is set. */
bool		 hostevents_enabled(const struct hostevents *);

/*
 * Called with a domain's name after an event on it was recorded: the
 * daemon checks it at once, so that the classifier judges the host's
 * word against DNS without waiting for the interval. fn NULL: nobody to
 * tell.
 */
void		 hostevents_on_check(struct hostevents *,
		    void (*fn)(void *arg, const char *domain), void *arg);
/*
 * Called with a webhook body (only read, during the call) and its
 * domain, after it was recorded here, or instead of recording it when
 * another shard checks the domain. fn returns 0 when relayed, -1 when it
 * could not be (an event for another shard is then refused, 422). Not
 * called for an event that was itself relayed. fn NULL: no relaying.
 */
void		 hostevents_on_relay(struct hostevents *,
		    int (*fn)(void *arg, const char *domain, const char *body,
		    size_t len), void *arg);

/*
 * Does the secret a delivery carries open the webhook? Compared in
 * constant time (a guess that is partly right must not show in the
 * answer time). A refusal is counted (HOSTEVENTS_REJECTED); the caller
 * answers 404 and never logs the secret.
 */
bool		 hostevents_authorise(struct hostevents *, const char *secret);

/*
 * One authorised webhook body: parse, check against DNS, record, ask for
 * a check, relay. Fills reply (status 200 only once the event is stored,
 * or when there is nothing to store).
 */
void		 hostevents_webhook(struct hostevents *, const char *body,
		    size_t len, time_t now, struct hostevents_reply *reply);

/*
 * A body another replica received and relayed (zone from the broker's
 * topic): checked and recorded as the webhook would, idempotent on the
 * event's request id. 1 recorded something new, 0 nothing to do (a
 * duplicate, such as this daemon's own event coming back, or a zone
 * another shard monitors), -1 refused; what happened in why. reply as
 * for hostevents_webhook (its body NULL when the zone was skipped).
 */
int		 hostevents_relayed(struct hostevents *, const char *zone,
		    const char *body, size_t len, time_t now,
		    struct hostevents_reply *reply, char *why, size_t whylen);

/*
 * Does the host's DS match this DNSKEY RDATA (owner in wire form)? 1 yes,
 * 0 no, -1 cannot tell (no DS in the event, a digest type we do not
 * compute).
 */
int		 hostevents_verify_key(const struct hostevent *,
		    const uint8_t *owner, size_t owner_len,
		    const uint8_t *rdata, size_t rdata_len);
/* The same over the keys of a check: 1 when one matches, 0 when none
 * does, -1 when it cannot be told or there is no key. */
int		 hostevents_verify(const struct hostevent *, const char *domain,
		    const struct probe_key *keys, unsigned n_keys);

/* Deliveries so far that ended as r. */
unsigned long long hostevents_count(const struct hostevents *,
		    enum hostevents_result r);

#endif
