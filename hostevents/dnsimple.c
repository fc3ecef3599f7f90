/*
 * POST /hooks/dnsimple/SECRET: a DNS host's word on a key rotation.
 *
 * The host (its event format: tests/fixtures/README.md) sends
 * dnssec.rotation_start and dnssec.rotation_complete with the new key's
 * DS. It signs nothing, so the secret in the URL is the credential, and
 * the event is checked against DNS: its DS is kept with the rotation in
 * the store, and every check judges it (the classifier reports a DS that
 * matches no published key) until a check sees such a key. The rotation
 * is still recorded: the host has said it started, and a key it has not
 * published yet may appear at the next check. A recorded event asks the
 * daemon to check the domain at once.
 *
 * Only HTTP 200 counts as delivered; anything else is retried for about
 * two hours. So 200 answers an event once it is stored, a duplicate, an
 * event of another kind (ignored), and a completion with nothing left to
 * close; 4xx says what is wrong with the event; 500 says the store
 * failed and the retry is welcome.
 *
 * Mapping onto the store (store_rotation_external):
 *   start     opens a KSK rotation with the host's time (the DS record's
 *             created_at, else data.dnssec.updated_at, else now) and
 *             external id = request_identifier; a repeat of that id
 *             changes nothing. When the checks opened the rotation first,
 *             the event labels it (and moves its start earlier if the
 *             host's is). Another start for the same key while one is
 *             open is a duplicate; for another key, 409.
 *   complete  closes the domain's open KSK rotation as completed at the
 *             host's time (data.dnssec.updated_at, else now); with none
 *             open there is nothing to do (200, "no_open_rotation").
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "common/log.h"
#include "hostevents/hostevents.h"

#define SOURCE		"dnsimple"
#define EV_START	"dnssec.rotation_start"
#define EV_COMPLETE	"dnssec.rotation_complete"
#define CLOCK_SKEW	300	/* a host time this far ahead is taken */

struct hostevents {
	struct store		*store;
	struct hostevents_directory dir;
	bool			 enabled;
	char			 secret[HOSTEVENTS_SECRET_MAX + 1];
	void			(*check_fn)(void *, const char *);
	void			*check_arg;
	int			(*relay_fn)(void *, const char *,
				    const char *, size_t);
	void			*relay_arg;
	unsigned long long	 counts[HOSTEVENTS_NRESULTS];
};

static const char *result_names[HOSTEVENTS_NRESULTS] = {
	"opened", "closed", "duplicate", "ignored", "rejected", "failed",
	"relayed"
};

struct event_in {
	char		 name[40];
	char		 request_id[64];
	char		 zone[PROBE_NAME_MAX];
	bool		 has_zone;
	time_t		 time;		/* 0: none given */
	struct hostevent host;
};

/* Printable ASCII only: what goes back into JSON and the log may come
 * from the client (a parser's message quotes its input) and must stay
 * valid UTF-8 even when cut short. */
static void
ascii_copy(char *dst, size_t len, const char *src)
{
	size_t	 i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	if (len > 0)
		dst[i] = '\0';
}

/* One answer, counted once as r. */
static void
reply(struct hostevents *he, struct hostevents_reply *rep,
    enum hostevents_result r, int status, json_t *body)
{
	he->counts[r]++;
	rep->result = r;
	rep->status = status;
	rep->body = body;
}

static void
reject(struct hostevents *he, struct hostevents_reply *rep, int status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
reject(struct hostevents *he, struct hostevents_reply *rep, int status,
    const char *fmt, ...)
{
	char	 raw[400], msg[400];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ascii_copy(msg, sizeof(msg), raw);
	log_warnx("dnsimple webhook: %d: %s", status, msg);
	reply(he, rep, status >= 500 ? HOSTEVENTS_FAILED : HOSTEVENTS_REJECTED,
	    status, json_pack("{s:s}", "error", msg));
}

/* An object member, NULL when missing, null or not an object. */
static json_t *
member_obj(json_t *o, const char *key)
{
	json_t	*v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

/* A string member, NULL when missing, null or empty. */
static const char *
member_str(json_t *o, const char *key)
{
	json_t		*v = json_is_object(o) ? json_object_get(o, key) : NULL;
	const char	*s = json_is_string(v) ? json_string_value(v) : NULL;

	return s != NULL && *s ? s : NULL;
}

/*
 * A small number given as a JSON string ("60812", the host's way) or a
 * number. 1 with *out set, 0 when missing or null, -1 when malformed.
 */
static int
member_num(json_t *o, const char *key, long max, long *out)
{
	json_t	*v = json_is_object(o) ? json_object_get(o, key) : NULL;
	char	*end;
	long	 n;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > max)
			return -1;
		*out = (long)json_integer_value(v);
		return 1;
	}
	if (!json_is_string(v))
		return -1;
	if (*json_string_value(v) == '\0')
		return 0;
	errno = 0;
	n = strtol(json_string_value(v), &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > max)
		return -1;
	*out = n;
	return 1;
}

/* "2026-11-20T10:00:00Z", with optional fraction and a Z or +HH:MM. */
static time_t
parse_time(const char *s)
{
	struct tm	 tm;
	const char	*p;
	int		 sign, oh, om;
	time_t		 t;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL &&
	    (p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL)
		return 0;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return 0;
		t -= sign * (oh * 3600 + om * 60);
		p += 6;
	}
	return *p == '\0' ? t : 0;
}

static void
sha256_id(const char *prefix, const void *data, size_t len, char *out,
    size_t outlen)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 hex[2 * EVP_MAX_MD_SIZE + 1];

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;
	dsmatch_hex_upper(md, mdlen > 20 ? 20 : mdlen, hex, sizeof(hex));
	snprintf(out, outlen, "%s%s", prefix, hex);
}

/* Parse what we need, leniently: 0, or -1 after reject(). */
static int
parse_event(struct hostevents *he, json_t *root, const char *body,
    size_t len, struct event_in *ev, struct hostevents_reply *rep)
{
	json_t		*data, *dsr, *zone, *dnssec;
	const char	*s;
	long		 n;
	size_t		 dl;
	int		 rc;

	memset(ev, 0, sizeof(*ev));
	ev->host.verdict = -1;
	snprintf(ev->host.source, sizeof(ev->host.source), "%s", SOURCE);
	if ((s = member_str(root, "name")) == NULL) {
		reject(he, rep, 400, "the event has no \"name\"");
		return -1;
	}
	ascii_copy(ev->name, sizeof(ev->name), s);
	ascii_copy(ev->host.event, sizeof(ev->host.event), s);

	/* Deduplication needs an id; a retry of an event without one
	 * carries the same bytes, so their hash serves. */
	if ((s = member_str(root, "request_identifier")) == NULL)
		sha256_id("body-sha256:", body, len, ev->request_id,
		    sizeof(ev->request_id));
	else if (strlen(s) >= sizeof(ev->request_id))
		sha256_id("id-sha256:", s, strlen(s), ev->request_id,
		    sizeof(ev->request_id));
	else
		ascii_copy(ev->request_id, sizeof(ev->request_id), s);
	snprintf(ev->host.request_id, sizeof(ev->host.request_id), "%s",
	    ev->request_id);

	data = member_obj(root, "data");
	if ((zone = member_obj(data, "zone")) != NULL &&
	    (s = member_str(zone, "name")) != NULL) {
		if (dsmatch_name_normalise(s, ev->zone, sizeof(ev->zone),
		    NULL, 0) == -1) {
			reject(he, rep, 400, "data.zone.name is not a domain "
			    "name");
			return -1;
		}
		ev->has_zone = true;
	}

	if ((dsr = member_obj(data, "delegation_signer_record")) != NULL) {
		if ((rc = member_num(dsr, "keytag", 65535, &n)) == -1) {
			reject(he, rep, 400, "delegation_signer_record.keytag "
			    "is not a key tag");
			return -1;
		}
		ev->host.key_tag = rc ? (uint16_t)n : 0;
		if ((rc = member_num(dsr, "algorithm", 255, &n)) == -1) {
			reject(he, rep, 400, "delegation_signer_record."
			    "algorithm is not a number");
			return -1;
		}
		ev->host.algorithm = rc ? (uint8_t)n : 0;
		if ((rc = member_num(dsr, "digest_type", 255, &n)) == -1) {
			reject(he, rep, 400, "delegation_signer_record."
			    "digest_type is not a number");
			return -1;
		}
		ev->host.digest_type = rc ? (uint8_t)n : 0;
		if ((s = member_str(dsr, "digest")) != NULL) {
			if (dsmatch_hex_decode(s, ev->host.digest,
			    sizeof(ev->host.digest), &dl) == -1) {
				reject(he, rep, 400, "delegation_signer_record."
				    "digest is not hexadecimal");
				return -1;
			}
			/* Without tag and type a digest says nothing. */
			if (ev->host.digest_type != 0 &&
			    ev->host.algorithm != 0)
				ev->host.digest_len = (uint8_t)dl;
		}
	}

	dnssec = member_obj(data, "dnssec");
	if (strcmp(ev->name, EV_START) == 0) {
		if ((ev->time = parse_time(member_str(dsr, "created_at"))) ==
		    0)
			ev->time = parse_time(member_str(dnssec, "updated_at"));
	} else if ((ev->time = parse_time(member_str(dnssec, "updated_at"))) ==
	    0)
		ev->time = parse_time(member_str(dsr, "updated_at"));
	return 0;
}

int
hostevents_verify_key(const struct hostevent *h, const uint8_t *owner,
    size_t owner_len, const uint8_t *rdata, size_t rdata_len)
{
	if (h->digest_len == 0)
		return -1;
	return dsmatch_ds_matches(owner, owner_len, h->key_tag, h->algorithm,
	    h->digest_type, h->digest, h->digest_len, rdata, rdata_len);
}

int
hostevents_verify(const struct hostevent *h, const char *domain,
    const struct probe_key *keys, unsigned n)
{
	uint8_t		 owner[DSMATCH_NAME_MAX];
	size_t		 olen;
	unsigned	 i;
	int		 v, verdict = -1;

	if (h->digest_len == 0 || n == 0 || dsmatch_name_to_wire(domain,
	    owner, sizeof(owner), &olen, NULL, 0) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		v = hostevents_verify_key(h, owner, olen, keys[i].rdata,
		    keys[i].rdata_len);
		if (v == 1)
			return 1;
		if (v == 0)
			verdict = 0;
	}
	return verdict;
}

/* Against the keys the store saw at the domain's latest check that saw
 * any: 1, 0, or -1 when it cannot tell. */
static int
verify_with_store(struct hostevents *he, const struct hostevent *h,
    const char *domain)
{
	struct store_key_seen	*k = NULL;
	struct store_ds_seen	*ds = NULL;
	size_t			 nk = 0, nd = 0, i;
	uint8_t			 owner[DSMATCH_NAME_MAX];
	size_t			 olen;
	time_t			 last = 0;
	int			 v, verdict = -1;

	if (he->store == NULL || h->digest_len == 0 ||
	    dsmatch_name_to_wire(domain, owner, sizeof(owner), &olen, NULL,
	    0) == -1 || store_keys(he->store, domain, &k, &nk, &ds, &nd) == -1)
		return -1;
	for (i = 0; i < nk; i++)
		if (k[i].last_seen > last)
			last = k[i].last_seen;
	for (i = 0; i < nk && verdict != 1; i++) {
		if (k[i].last_seen != last)
			continue;
		v = hostevents_verify_key(h, owner, olen, k[i].rdata,
		    k[i].rdata_len);
		if (v >= 0)
			verdict = v;
	}
	free(k);
	free(ds);
	return verdict;
}

/* zone_from_ds() while the directory walks the candidates. */
struct ds_search {
	struct hostevents	*he;
	const struct hostevent	*h;
	char			 found[PROBE_NAME_MAX];
	size_t			 matches;
};

static void
ds_candidate(void *arg, const char *name)
{
	struct ds_search	*q = arg;

	if (verify_with_store(q->he, q->h, name) == 1) {
		snprintf(q->found, sizeof(q->found), "%s", name);
		q->matches++;
	}
}

/* An event without data.zone (older payloads): the monitored domain whose
 * published key its DS matches, when exactly one does. */
static int
zone_from_ds(struct hostevents *he, const struct hostevent *h,
    struct hostevents_domain *out, size_t *matches)
{
	struct ds_search	 q;

	*matches = 0;
	if (h->digest_len == 0 || he->dir.each_with_key == NULL)
		return 0;
	memset(&q, 0, sizeof(q));
	q.he = he;
	q.h = h;
	he->dir.each_with_key(he->dir.arg, h->key_tag, h->algorithm,
	    ds_candidate, &q);
	*matches = q.matches;
	return q.matches == 1 ? he->dir.find(he->dir.arg, q.found, out) : 0;
}

/* The domain's open KSK rotation: 1 with *out, 0 none, -1 error. */
static int
open_rotation(struct hostevents *he, const char *domain,
    struct store_rotation *out)
{
	struct store_rotation	*a = NULL;
	size_t			 n = 0, i;
	int			 rc = 0;

	if (store_rotations(he->store, true, &a, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (a[i].kind == STORE_ROT_KSK &&
		    strcmp(a[i].domain, domain) == 0) {
			*out = a[i];
			rc = 1;
			break;
		}
	free(a);
	return rc;
}

/* The event becomes the domain's latest host word (the caller's table
 * keeps it: the reply says so). */
static void
remember(struct hostevents_reply *rep, const struct event_in *ev,
    time_t now)
{
	rep->heard = true;
	rep->host = ev->host;
	rep->host.time = ev->time;
	rep->host.received = now;
	rep->host.verified_at = ev->host.verdict >= 0 ? now : 0;
}

static json_t *
answer(const char *result, const struct hostevents_domain *d,
    const struct event_in *ev, const struct store_rotation *rot, time_t now)
{
	json_t	*o = json_object();

	json_object_set_new(o, "result", json_string(result));
	json_object_set_new(o, "domain", json_string(d->name));
	json_object_set_new(o, "event", json_string(ev->name));
	json_object_set_new(o, "request_identifier",
	    json_string(ev->request_id));
	json_object_set_new(o, "rotation", store_rotation_json(rot, now));
	json_object_set_new(o, "ds_matches_dns", ev->host.verdict < 0 ?
	    json_null() : json_boolean(ev->host.verdict == 1));
	return o;
}

static void
handle_start(struct hostevents *he, const struct hostevents_domain *d,
    struct event_in *ev, time_t now, struct hostevents_reply *rep)
{
	struct store_external	 x;
	struct store_rotation	 open, out;
	char			 a[32], b[32];
	int			 rc;

	memset(&open, 0, sizeof(open));
	if ((rc = open_rotation(he, d->name, &open)) == -1) {
		reject(he, rep, 500, "%s: reading rotations: %s", d->name,
		    store_error(he->store));
		return;
	}
	if (rc == 1 && strcmp(open.external_id, ev->request_id) != 0) {
		if (open.new_key_tag != 0 && ev->host.key_tag != 0 &&
		    open.new_key_tag != ev->host.key_tag) {
			reject(he, rep, 409, "%s: a rotation to key %u is "
			    "open (%s%s); this event starts one to key %u",
			    d->name, open.new_key_tag, open.external_id[0] ?
			    "event " : "seen by the checks",
			    open.external_id, ev->host.key_tag);
			return;
		}
		if (open.external_id[0] != '\0') {
			/* Another delivery of the same rotation. */
			remember(rep, ev, now);
			log_info("dnsimple: %s: %s %s: the rotation to key %u "
			    "is already open (event %s)", d->name, ev->name,
			    ev->request_id, open.new_key_tag,
			    open.external_id);
			reply(he, rep, HOSTEVENTS_DUPLICATE, 200,
			    answer("duplicate", d, ev, &open, now));
			return;
		}
	}
	memset(&x, 0, sizeof(x));
	x.domain = d->name;
	x.source = SOURCE;
	x.external_id = ev->request_id;
	x.kind = STORE_ROT_KSK;
	x.completed = false;
	x.time = ev->time;
	x.new_key_tag = ev->host.key_tag;
	x.new_key_alg = ev->host.algorithm;
	x.ds_key_tag = ev->host.key_tag;
	x.ds_algorithm = ev->host.algorithm;
	x.ds_digest_type = ev->host.digest_type;
	x.ds_digest_len = ev->host.digest_len;
	memcpy(x.ds_digest, ev->host.digest, ev->host.digest_len);
	x.ds_ttl = d->ds_ttl;
	if (store_rotation_external(he->store, &x, &d->policy, now, &out) ==
	    -1) {
		reject(he, rep, 500, "%s: recording the rotation: %s",
		    d->name, store_error(he->store));
		return;
	}
	remember(rep, ev, now);
	if ((rc == 1 && strcmp(open.external_id, ev->request_id) == 0) ||
	    out.outcome[0] != '\0') {
		log_info("dnsimple: %s: %s %s delivered again: nothing "
		    "changed", d->name, ev->name, ev->request_id);
		reply(he, rep, HOSTEVENTS_DUPLICATE, 200, answer("duplicate", d,
		    ev, out.outcome[0] ? NULL : &out, now));
		return;
	}
	rep->rotation = HOSTEVENTS_ROT_OPEN;
	rep->open = out;
	log_info("dnsimple: %s: %s %s: KSK rotation to key %u %s, start %s, "
	    "registrar deadline %s", d->name, ev->name, ev->request_id,
	    out.new_key_tag, rc == 1 ? "(seen by the checks first) labelled" :
	    "opened", clock_rfc3339(out.start, a, sizeof(a)),
	    clock_rfc3339(out.registrar_deadline, b, sizeof(b)));
	reply(he, rep, HOSTEVENTS_OPENED, 200, answer(rc == 1 ?
	    "labelled" : "opened", d, ev, &out, now));
}

static void
handle_complete(struct hostevents *he, const struct hostevents_domain *d,
    struct event_in *ev, time_t now, struct hostevents_reply *rep)
{
	struct store_external	 x;
	struct store_rotation	 open, out;
	char			 a[32];
	int			 rc;

	memset(&open, 0, sizeof(open));
	if ((rc = open_rotation(he, d->name, &open)) == -1) {
		reject(he, rep, 500, "%s: reading rotations: %s", d->name,
		    store_error(he->store));
		return;
	}
	if (rc == 0) {
		remember(rep, ev, now);
		log_info("dnsimple: %s: %s %s: no open KSK rotation to close",
		    d->name, ev->name, ev->request_id);
		reply(he, rep, HOSTEVENTS_DUPLICATE, 200,
		    answer("no_open_rotation", d, ev, NULL, now));
		return;
	}
	if (open.new_key_tag != 0 && ev->host.key_tag != 0 &&
	    open.new_key_tag != ev->host.key_tag) {
		reject(he, rep, 409, "%s: the open rotation is to key %u, "
		    "this event completes one to key %u", d->name,
		    open.new_key_tag, ev->host.key_tag);
		return;
	}
	memset(&x, 0, sizeof(x));
	x.domain = d->name;
	x.source = SOURCE;
	x.external_id = open.external_id[0] ? open.external_id :
	    ev->request_id;
	x.kind = STORE_ROT_KSK;
	x.completed = true;
	x.time = ev->time != 0 ? ev->time : now;
	x.new_key_tag = ev->host.key_tag;
	x.new_key_alg = ev->host.algorithm;
	if (store_rotation_external(he->store, &x, &d->policy, now, &out) ==
	    -1) {
		reject(he, rep, 500, "%s: closing the rotation: %s", d->name,
		    store_error(he->store));
		return;
	}
	remember(rep, ev, now);
	rep->rotation = HOSTEVENTS_ROT_CLOSED;
	log_info("dnsimple: %s: %s %s: KSK rotation to key %u closed as %s "
	    "at %s", d->name, ev->name, ev->request_id, out.new_key_tag,
	    out.outcome[0] ? out.outcome : "completed",
	    clock_rfc3339(out.completed_at ? out.completed_at : x.time, a,
	    sizeof(a)));
	reply(he, rep, HOSTEVENTS_CLOSED, 200, answer("closed", d, ev, NULL,
	    now));
}

/* Is the reply a 200 with this "result"? */
static bool
answered(const struct hostevents_reply *rep, const char *result)
{
	const char	*s = json_string_value(json_object_get(rep->body,
			    "result"));

	return s != NULL && strcmp(s, result) == 0;
}

/*
 * One event, from the webhook (relayed false) or relayed by another
 * replica through the broker (true): the same checks and the same
 * recording, so that every replica's store holds the same rotations.
 */
static void
ingest(struct hostevents *he, const char *body, size_t len, time_t now,
    bool relayed, struct hostevents_reply *rep)
{
	json_error_t		 jerr;
	json_t			*root;
	struct event_in		 ev;
	struct hostevents_domain d;
	size_t			 matches;
	int			 found;
	char			 hex[2 * PROBE_MAX_DIGEST + 1];

	memset(rep, 0, sizeof(*rep));
	memset(&d, 0, sizeof(d));
	if (len == 0) {
		reject(he, rep, 400, "malformed JSON: the body is empty");
		return;
	}
	if ((root = json_loadb(body, len, 0, &jerr)) == NULL) {
		reject(he, rep, 400, "malformed JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
		return;
	}
	if (!json_is_object(root)) {
		reject(he, rep, 400, "malformed event: the body is not a JSON "
		    "object");
		goto done;
	}
	if (parse_event(he, root, body, len, &ev, rep) == -1)
		goto done;
	if (strcmp(ev.name, EV_START) != 0 &&
	    strcmp(ev.name, EV_COMPLETE) != 0) {
		log_info("dnsimple: %s event %s ignored", ev.name,
		    ev.request_id);
		reply(he, rep, HOSTEVENTS_IGNORED, 200, json_pack("{s:s, s:s}",
		    "result", "ignored", "event", ev.name));
		goto done;
	}
	if (ev.has_zone)
		found = he->dir.find != NULL ? he->dir.find(he->dir.arg, ev.zone,
		    &d) : 0;
	else if ((found = zone_from_ds(he, &ev.host, &d, &matches)) != 1) {
		reject(he, rep, 422, "the event names no zone (data.zone is "
		    "missing) and its DS matches %s monitored domain",
		    matches > 1 ? "more than one" : "no");
		goto done;
	}
	if (found != 1) {
		reject(he, rep, 422, "%s is not monitored here", ev.zone);
		goto done;
	}
	snprintf(rep->domain, sizeof(rep->domain), "%s", d.name);
	if (!d.in_shard && !relayed && he->relay_fn != NULL &&
	    he->relay_fn(he->relay_arg, d.name, body, len) == 0) {
		/* One URL for a sharded fleet: the broker takes the event to
		 * the replicas of the shard that checks the zone (and keeps
		 * it for those away). */
		log_info("dnsimple: %s: %s %s: checked by another shard; "
		    "relayed to it", d.name, ev.name, ev.request_id);
		reply(he, rep, HOSTEVENTS_RELAYED, 200, json_pack("{s:s, s:s, "
		    "s:s, s:s}", "result", "relayed", "domain", d.name,
		    "event", ev.name, "request_identifier", ev.request_id));
		goto done;
	}
	if (!d.in_shard) {
		/* Recorded here, it would sit in a store nobody checks. */
		reject(he, rep, 422, "%s is checked by another shard of this "
		    "configuration, not this one%s", d.name, relayed ? "" :
		    ", and no MQTT broker is configured to relay it there");
		goto done;
	}
	if (he->store == NULL) {
		reject(he, rep, 500, "no store to record the event in");
		goto done;
	}
	/* A 200 tells the host never to send the event again: only say it
	 * when the record will survive (503: the host retries). */
	if (store_file_check(he->store) == -1) {
		reject(he, rep, 503, "not accepting the event: %s",
		    store_error(he->store));
		goto done;
	}
	if (ev.time == 0 || ev.time > now + CLOCK_SKEW)
		ev.time = now;

	/* What DNS says about the host's DS, before acting on it. */
	ev.host.verdict = verify_with_store(he, &ev.host, d.name);
	if (ev.host.verdict == 0) {
		dsmatch_hex_upper(ev.host.digest, ev.host.digest_len, hex,
		    sizeof(hex));
		log_warnx("dnsimple: %s: %s %s: its DS %u %u %u %s matches no "
		    "key the zone publishes", d.name,
		    ev.name, ev.request_id, ev.host.key_tag,
		    ev.host.algorithm, ev.host.digest_type, hex);
	}
	if (strcmp(ev.name, EV_START) == 0)
		handle_start(he, &d, &ev, now, rep);
	else
		handle_complete(he, &d, &ev, now, rep);
	if (rep->status == 200 && !relayed && he->relay_fn != NULL)
		he->relay_fn(he->relay_arg, d.name, body, len);
	/* A replica's own event comes back from the broker as a duplicate:
	 * its check has been asked for already. */
	if (rep->status == 200 && he->check_fn != NULL &&
	    (!relayed || !answered(rep, "duplicate")))
		he->check_fn(he->check_arg, d.name);
done:
	json_decref(root);
}

void
hostevents_webhook(struct hostevents *he, const char *body, size_t len,
    time_t now, struct hostevents_reply *rep)
{
	ingest(he, body, len, now, false, rep);
}

int
hostevents_relayed(struct hostevents *he, const char *zone,
    const char *body, size_t len, time_t now, struct hostevents_reply *rep,
    char *why, size_t whylen)
{
	struct hostevents_domain d;
	char			 norm[PROBE_NAME_MAX];
	const char		*s;

	memset(rep, 0, sizeof(*rep));
	/* Shards on one broker hear each other's events: another shard's
	 * zone is not an error, and not a rejected webhook either. */
	if (he == NULL || he->dir.find == NULL ||
	    dsmatch_name_normalise(zone, norm, sizeof(norm), NULL, 0) == -1 ||
	    he->dir.find(he->dir.arg, norm, &d) != 1 || !d.in_shard) {
		snprintf(why, whylen, "%s is not monitored by this shard",
		    zone);
		return 0;
	}
	ingest(he, body, len, now, true, rep);
	if (rep->status == 200) {
		s = json_string_value(json_object_get(rep->body, "result"));
		snprintf(why, whylen, "%s", s != NULL ? s : "recorded");
		return answered(rep, "duplicate") || answered(rep, "ignored") ||
		    answered(rep, "no_open_rotation") ? 0 : 1;
	}
	s = json_string_value(json_object_get(rep->body, "error"));
	snprintf(why, whylen, "%d: %s", rep->status, s != NULL ? s :
	    "refused");
	return -1;
}

/* ------------------------------------------------------------ setup */

struct hostevents *
hostevents_create(void)
{
	return calloc(1, sizeof(struct hostevents));
}

void
hostevents_destroy(struct hostevents *he)
{
	if (he == NULL)
		return;
	/* The secret is the webhook's only credential. */
	explicit_bzero(he->secret, sizeof(he->secret));
	free(he);
}

void
hostevents_set_store(struct hostevents *he, struct store *st)
{
	he->store = st;
}

void
hostevents_set_directory(struct hostevents *he,
    const struct hostevents_directory *dir)
{
	he->dir = *dir;
}

int
hostevents_set_secret(struct hostevents *he, const char *secret)
{
	if (secret != NULL && strlen(secret) > HOSTEVENTS_SECRET_MAX)
		return -1;
	explicit_bzero(he->secret, sizeof(he->secret));
	he->enabled = secret != NULL;
	if (secret != NULL)
		memcpy(he->secret, secret, strlen(secret) + 1);
	return 0;
}

bool
hostevents_enabled(const struct hostevents *he)
{
	return he->enabled;
}

void
hostevents_on_check(struct hostevents *he, void (*fn)(void *, const char *),
    void *arg)
{
	he->check_fn = fn;
	he->check_arg = arg;
}

void
hostevents_on_relay(struct hostevents *he, int (*fn)(void *, const char *,
    const char *, size_t), void *arg)
{
	he->relay_fn = fn;
	he->relay_arg = arg;
}

/* Constant time over the configured secret: how much of a guess is right
 * must not show in the answer time. */
bool
hostevents_authorise(struct hostevents *he, const char *got)
{
	size_t		 i, wl = strlen(he->secret), gl = strlen(got);
	unsigned char	 diff = (unsigned char)(wl != gl);

	for (i = 0; i < wl; i++)
		diff |= (unsigned char)(he->secret[i] ^ (i < gl ? got[i] : 0));
	if (!he->enabled || diff != 0) {
		he->counts[HOSTEVENTS_REJECTED]++;
		return false;
	}
	return true;
}

unsigned long long
hostevents_count(const struct hostevents *he, enum hostevents_result r)
{
	return r < HOSTEVENTS_NRESULTS ? he->counts[r] : 0;
}

const char *
hostevents_result_name(enum hostevents_result r)
{
	return r < HOSTEVENTS_NRESULTS ? result_names[r] : "?";
}
