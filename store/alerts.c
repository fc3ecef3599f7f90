/*
 * Alerts in the store: the state machine that store_commit()
 * runs inside its transaction, the outbox it writes, and what the sinks
 * and `dnssecmon alerts` read back.
 *
 * An alert is one (domain, problem code) with a severity of warning or
 * worse; notes (severity ok) never alert. Its life:
 *
 *   candidate  seen, not yet persistent: alert_candidates counts the
 *              checks in a row (flap damping: fire_after_checks, or
 *              fire_after seconds). Codes the registry marks
 *              "fires at once" skip it.
 *   firing     outbox "firing"
 *   escalated  its severity rose to critical while open: "escalated"
 *   reminder   still open alert_repeat_s after the last notice
 *   resolved   a check that could have seen it did not: "resolved"
 *
 * "Could have seen it": a check that reached no server (state unknown)
 * says nothing about the zone's keys, and one whose validator got no
 * answer nothing about validation; such a check neither resolves an
 * alert nor resets a candidate. The registry (probe/registry.c) says,
 * per code, which checks can resolve it.
 *
 * A problem the registry files under another code alerts as that one:
 * the classifier's deadline escalation of a pending KSK rotation is the
 * rotation's alert, a warning when the rotation is seen, escalated to
 * critical inside critical_before, resolved when the DS is in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/clock.h"
#include "store/internal.h"

#define MAX_OPEN	64	/* open alerts or candidates per domain */

static const char *const alert_sql[S__COUNT] = {
	[S_ALERT_OPEN] =
	    "SELECT id, code, state, severity, first_fired, last_notified "
	    "FROM alerts WHERE domain_id = ?1 AND state != 'resolved' "
	    "ORDER BY id",
	[S_ALERT_CANDIDATES] =
	    "SELECT code, first_seen, checks FROM alert_candidates "
	    "WHERE domain_id = ?1",
	[S_ALERT_INSERT] =
	    "INSERT INTO alerts (domain_id, code, state, severity, "
	    "first_fired, last_notified, message, last_seen) "
	    "VALUES (?1, ?2, 'firing', ?3, ?4, ?4, ?5, ?4)",
	[S_ALERT_UPDATE] =
	    "UPDATE alerts SET state = ?2, severity = ?3, last_notified = ?4, "
	    "resolved_at = ?5, message = coalesce(?6, message), "
	    "last_seen = coalesce(?7, last_seen) WHERE id = ?1",
	[S_ALERT_CAND_UPSERT] =
	    "INSERT INTO alert_candidates (domain_id, code, first_seen, "
	    "last_seen, checks) VALUES (?1, ?2, ?3, ?3, 1) "
	    "ON CONFLICT (domain_id, code) DO UPDATE SET "
	    "last_seen = excluded.last_seen, checks = checks + 1",
	[S_ALERT_CAND_DELETE] =
	    "DELETE FROM alert_candidates WHERE domain_id = ?1 AND code = ?2",
	[S_OUTBOX_INSERT] =
	    "INSERT INTO outbox (alert_id, created, payload, transition) "
	    "VALUES (?1, ?2, '{}', ?3)",
	[S_OUTBOX_PAYLOAD] = "UPDATE outbox SET payload = ?2 WHERE id = ?1",
	/* A new sink starts after the newest row: it is not sent the
	 * history of alerts from before it existed. */
	[S_SINK_UPSERT] =
	    "INSERT INTO alert_sinks (name, transitions, created, "
	    "last_started, first_outbox, done_upto) VALUES (?1, ?2, ?3, ?3, "
	    "(SELECT coalesce(max(id), 0) FROM outbox), "
	    "(SELECT coalesce(max(id), 0) FROM outbox)) "
	    "ON CONFLICT (name) DO UPDATE SET "
	    "transitions = excluded.transitions, "
	    "last_started = excluded.last_started",
	[S_OUTBOX_NEXT] =
	    "SELECT o.id, o.alert_id, o.created, o.transition, o.payload, "
	    "coalesce((SELECT d.attempts FROM deliveries d WHERE "
	    "d.outbox_id = o.id AND d.sink = s.name), 0) "
	    "FROM alert_sinks s JOIN outbox o ON o.id > s.done_upto "
	    "WHERE s.name = ?1 AND "
	    "instr(s.transitions, ',' || o.transition || ',') > 0 "
	    "ORDER BY o.id LIMIT 1",
	[S_DELIVERY_UPSERT] =
	    "INSERT INTO deliveries (outbox_id, sink, delivered_at, attempts, "
	    "last_error, failed_at, output) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6) "
	    "ON CONFLICT (outbox_id, sink) DO UPDATE SET "
	    "delivered_at = excluded.delivered_at, attempts = attempts + 1, "
	    "last_error = excluded.last_error, failed_at = excluded.failed_at, "
	    "output = excluded.output",
	[S_SINK_ADVANCE] =
	    "UPDATE alert_sinks SET done_upto = max(done_upto, ?2) "
	    "WHERE name = ?1",
	[S_ALERTS_LIST] =
	    "SELECT a.id, d.name, a.code, a.state, a.severity, a.first_fired, "
	    "a.last_notified, a.last_seen, a.resolved_at, a.message "
	    "FROM alerts a JOIN domains d ON d.id = a.domain_id "
	    "WHERE a.state != 'resolved' OR a.resolved_at >= ?1 "
	    "ORDER BY a.state = 'resolved', "
	    "coalesce(a.resolved_at, a.first_fired) DESC, a.id DESC",
	[S_ALERT_DELIVERIES] =
	    "SELECT o.id, o.transition, o.created, s.name, d.delivered_at, "
	    "d.failed_at, coalesce(d.attempts, 0), d.last_error, d.output, "
	    "o.id <= s.done_upto "
	    "FROM outbox o JOIN alert_sinks s ON o.id > s.first_outbox AND "
	    "instr(s.transitions, ',' || o.transition || ',') > 0 "
	    "LEFT JOIN deliveries d ON d.outbox_id = o.id AND d.sink = s.name "
	    "WHERE o.alert_id = ?1 ORDER BY o.id, s.name",
	[S_ALERT_LAST_PAYLOAD] =
	    "SELECT payload FROM outbox WHERE alert_id = ?1 "
	    "ORDER BY id DESC LIMIT 1",
};

const char *
store_alerts_sql(enum store_stmt which)
{
	return which < S__COUNT ? alert_sql[which] : NULL;
}

static const char *const transition_names[] = {
	"firing", "escalated", "reminder", "resolved"
};

const char *
store_alert_transition_name(unsigned bit)
{
	unsigned	 i;

	for (i = 0; i < 4; i++)
		if (bit == 1u << i)
			return transition_names[i];
	return NULL;
}

unsigned
store_alert_transition_bit(const char *name)
{
	unsigned	 i;

	for (i = 0; i < 4; i++)
		if (name != NULL && strcmp(name, transition_names[i]) == 0)
			return 1u << i;
	return 0;
}

/* ------------------------------------------------------ the rules */

/* Problems that mean resolvers fail the domain now, or just did:
 * waiting a second check would only delay the page (the registry says
 * which). */
static bool
fires_at_once(const char *code)
{
	const struct probe_problem_def *d = probe_problem_find(code);

	return d != NULL && d->fires_at_once;
}

static enum probe_severity
severity_from_name(const char *s)
{
	if (strcmp(s, "critical") == 0)
		return PROBE_SEV_CRITICAL;
	if (strcmp(s, "unknown") == 0)
		return PROBE_SEV_UNKNOWN;
	if (strcmp(s, "warning") == 0)
		return PROBE_SEV_WARNING;
	return PROBE_SEV_OK;
}

/* One alert-worthy condition of this check. */
struct cur {
	const char		*code;
	enum probe_severity	 sev;
	const char		*message;
	bool			 handled;
};

struct open_alert {
	int64_t			 id;
	char			 code[40];
	char			 state[16];
	enum probe_severity	 sev;
	time_t			 first_fired, last_notified;
};

struct candidate {
	char			 code[40];
	time_t			 first_seen;
	int			 checks;
};

/* One transition to write to the outbox. */
struct trans {
	int64_t			 alert_id;
	const char		*code;
	const char		*transition;
	enum probe_severity	 sev;
	const char		*message;
	time_t			 first_fired;
};

static unsigned
current_problems(const struct probe_result *r, struct cur *cur)
{
	unsigned	 i, j, n = 0;
	const char	*code;

	for (i = 0; i < r->n_problems; i++) {
		const struct probe_problem *p = &r->problems[i];

		if (p->severity < PROBE_SEV_WARNING)
			continue;	/* a note */
		/* The monitor's problem, not the domain's: one alert for
		 * the instance (dnssecmon_network_intercepts_dns), never
		 * one per domain. */
		if (p->id == PROBE_P_DNS_INTERCEPTED)
			continue;
		code = probe_problem_alert_code(p->code);
		for (j = 0; j < n; j++)
			if (strcmp(cur[j].code, code) == 0)
				break;
		if (j == n) {
			cur[n].code = code;
			cur[n].sev = p->severity;
			cur[n].message = p->message;
			cur[n].handled = false;
			n++;
		} else if (p->severity >= cur[j].sev) {
			/* The worse, or on a tie the later (the deadline
			 * says more than the rotation it escalates). */
			cur[j].sev = p->severity;
			cur[j].message = p->message;
		}
	}
	return n;
}

static int
load_open(struct store *st, int64_t domain_id, struct open_alert *a,
    unsigned *n)
{
	sqlite3_stmt	*s;
	int		 rc;
	char		 sev[16];

	*n = 0;
	if ((s = store_stmt(st, S_ALERT_OPEN)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < MAX_OPEN) {
		struct open_alert *x = &a[(*n)++];

		x->id = sqlite3_column_int64(s, 0);
		store_column_text(s, 1, x->code, sizeof(x->code));
		store_column_text(s, 2, x->state, sizeof(x->state));
		store_column_text(s, 3, sev, sizeof(sev));
		x->sev = severity_from_name(sev);
		x->first_fired = store_column_time(s, 4);
		x->last_notified = store_column_time(s, 5);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(st, "reading open alerts");
	return 0;
}

static int
load_candidates(struct store *st, int64_t domain_id, struct candidate *c,
    unsigned *n)
{
	sqlite3_stmt	*s;
	int		 rc;

	*n = 0;
	if ((s = store_stmt(st, S_ALERT_CANDIDATES)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < MAX_OPEN) {
		struct candidate *x = &c[(*n)++];

		store_column_text(s, 0, x->code, sizeof(x->code));
		x->first_seen = store_column_time(s, 1);
		x->checks = sqlite3_column_int(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(st, "reading alert candidates");
	return 0;
}

static int
alert_update(struct store *st, int64_t id, const char *state,
    enum probe_severity sev, time_t notified, time_t resolved,
    const char *message, time_t seen)
{
	sqlite3_stmt	*s;

	if ((s = store_stmt(st, S_ALERT_UPDATE)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, probe_severity_name(sev), -1, SQLITE_STATIC);
	store_bind_time(s, 4, notified);
	store_bind_time(s, 5, resolved);
	if (message != NULL)
		sqlite3_bind_text(s, 6, message, -1, SQLITE_STATIC);
	store_bind_time(s, 7, seen);
	return store_step_done(st, s, "updating an alert");
}

static int
candidate_delete(struct store *st, int64_t domain_id, const char *code)
{
	sqlite3_stmt	*s;

	if ((s = store_stmt(st, S_ALERT_CAND_DELETE)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_text(s, 2, code, -1, SQLITE_STATIC);
	return store_step_done(st, s, "clearing an alert candidate");
}

/* ------------------------------------------------------- payload */

/* The "record" of each object of obs[key], as an array of strings. */
static json_t *
records(json_t *obs, const char *key)
{
	json_t		*out = json_array(), *a, *v, *rec;
	size_t		 i;

	a = json_object_get(obs, key);
	json_array_foreach(a, i, v)
		if ((rec = json_object_get(v, "record")) != NULL &&
		    json_is_string(rec))
			json_array_append(out, rec);
	return out;
}

/*
 * The one payload of a transition: what to do (the DS records, the
 * deadline and time left, which resolvers already fail) and the state
 * of the domain at that check. Caller frees.
 */
static char *
payload(const struct probe_result *r, json_t *obs,
    const struct store_rotation *rot, int64_t id, const struct trans *t,
    time_t now)
{
	json_t		*o, *fail, *probs, *rj;
	char		*s;
	unsigned	 i;

	fail = json_array();
	for (i = 0; i < r->n_resolvers; i++)
		if (r->resolvers[i].status == PROBE_Q_OK &&
		    r->resolvers[i].rcode == 2)
			json_array_append_new(fail,
			    json_string(r->resolvers[i].address));
	probs = probe_problems_json(r);
	rj = store_rotation_json(rot, now);
	o = json_object();
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "alert_id", json_integer(t->alert_id));
	json_object_set_new(o, "domain", json_string(r->domain));
	json_object_set_new(o, "code", json_string(t->code));
	json_object_set_new(o, "transition", json_string(t->transition));
	json_object_set_new(o, "severity", json_string(
	    probe_severity_name(t->sev)));
	json_object_set_new(o, "message", json_string(t->message));
	json_object_set_new(o, "first_fired", clock_json(t->first_fired));
	json_object_set_new(o, "time", clock_json(now));
	json_object_set_new(o, "state", json_string(
	    probe_state_name(r->state)));
	json_object_set_new(o, "validation", json_string(
	    probe_validation_name(r->validation)));
	json_object_set_new(o, "domain_severity", json_string(
	    probe_severity_name(r->severity)));
	json_object_set_new(o, "ds_to_publish", records(obs,
	    "ds_to_publish"));
	json_object_set_new(o, "ds_to_remove", records(obs, "ds_to_remove"));
	json_object_set_new(o, "deadline", rot != NULL && rot->id != 0 &&
	    rot->registrar_deadline != 0 ? clock_json(rot->registrar_deadline) :
	    json_null());
	/* The rotation's own count, so the two can never disagree. */
	json_object_set(o, "seconds_left", json_is_object(rj) ?
	    json_object_get(rj, "seconds_left") : json_null());
	json_object_set_new(o, "rotation", rj);
	json_object_set_new(o, "failing_resolvers", fail);
	json_object_set_new(o, "problems", probs);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static int
write_transitions(struct store *st, const struct probe_result *r,
    const struct store_rotation *rot, const struct trans *t, unsigned n,
    time_t now)
{
	sqlite3_stmt	*s;
	json_t		*obs;
	char		*p;
	int64_t		 id;
	unsigned	 i;
	int		 rc = -1;

	if (n == 0)
		return 0;
	if ((obs = probe_result_json(r)) == NULL)
		return store_seterr(st, "out of memory");
	for (i = 0; i < n; i++) {
		if ((s = store_stmt(st, S_OUTBOX_INSERT)) == NULL)
			goto out;
		sqlite3_bind_int64(s, 1, t[i].alert_id);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
		sqlite3_bind_text(s, 3, t[i].transition, -1, SQLITE_STATIC);
		if (store_step_done(st, s, "writing the outbox") == -1)
			goto out;
		id = sqlite3_last_insert_rowid(st->db);
		/* The row's own id is in the payload: a receiver can drop
		 * the duplicates an at-least-once delivery may bring. */
		if ((p = payload(r, obs, rot, id, &t[i], now)) == NULL) {
			store_seterr(st, "out of memory");
			goto out;
		}
		if ((s = store_stmt(st, S_OUTBOX_PAYLOAD)) == NULL) {
			free(p);
			goto out;
		}
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_text(s, 2, p, -1, SQLITE_STATIC);
		rc = store_step_done(st, s, "writing the outbox");
		sqlite3_clear_bindings(s);
		free(p);
		if (rc == -1)
			goto out;
		rc = -1;
	}
	rc = 0;
out:
	json_decref(obs);
	return rc;
}

int
store_alerts_commit(struct store *st, int64_t domain_id,
    const struct probe_result *r, const struct store_policy *pol, time_t now,
    const struct store_rotation *rot)
{
	struct cur		 cur[PROBE_MAX_PROBLEMS];
	struct open_alert	 open[MAX_OPEN];
	struct candidate	 cand[MAX_OPEN];
	struct trans		 t[2 * MAX_OPEN + PROBE_MAX_PROBLEMS];
	char			 resolved_msg[MAX_OPEN][300];
	sqlite3_stmt		*s;
	unsigned		 ncur, nopen, ncand, nt = 0, i, j;
	int			 checks;
	time_t			 first_seen;
	bool			 fire;

	ncur = current_problems(r, cur);
	if (load_open(st, domain_id, open, &nopen) == -1 ||
	    load_candidates(st, domain_id, cand, &ncand) == -1)
		return -1;

	/* Resolutions first: "rotation_pending resolved" reads better
	 * before "chain_broken firing" of the same check. */
	for (i = 0; i < nopen; i++) {
		for (j = 0; j < ncur; j++)
			if (strcmp(cur[j].code, open[i].code) == 0)
				break;
		if (j < ncur || !probe_problem_resolvable(open[i].code, r))
			continue;
		snprintf(resolved_msg[i], sizeof(resolved_msg[i]), "%s on %s "
		    "is resolved: the domain is now %s (%s, validation %s)",
		    open[i].code, r->domain, probe_state_name(r->state),
		    probe_severity_name(r->severity),
		    probe_validation_name(r->validation));
		if (alert_update(st, open[i].id, "resolved", open[i].sev,
		    open[i].last_notified, now, NULL, 0) == -1)
			return -1;
		t[nt++] = (struct trans){ open[i].id, open[i].code, "resolved",
		    open[i].sev, resolved_msg[i], open[i].first_fired };
	}

	for (j = 0; j < ncur; j++) {
		struct cur *c = &cur[j];

		for (i = 0; i < nopen; i++)
			if (strcmp(open[i].code, c->code) == 0)
				break;
		if (i < nopen) {
			struct open_alert *a = &open[i];
			const char *what = NULL;

			if (strcmp(a->state, "firing") == 0 &&
			    c->sev == PROBE_SEV_CRITICAL &&
			    a->sev != PROBE_SEV_CRITICAL) {
				what = "escalated";
				snprintf(a->state, sizeof(a->state),
				    "escalated");
			} else if (pol->alert_repeat_s > 0 &&
			    now - a->last_notified >= pol->alert_repeat_s)
				what = "reminder";
			if (what != NULL)
				a->last_notified = now;
			if (alert_update(st, a->id, a->state, c->sev,
			    a->last_notified, 0, c->message, now) == -1)
				return -1;
			if (what != NULL)
				t[nt++] = (struct trans){ a->id, c->code, what,
				    c->sev, c->message, a->first_fired };
			continue;
		}
		/* Not open: count it, fire it when it has persisted. */
		first_seen = now;
		checks = 1;
		for (i = 0; i < ncand; i++)
			if (strcmp(cand[i].code, c->code) == 0) {
				first_seen = cand[i].first_seen;
				checks = cand[i].checks + 1;
			}
		if (fires_at_once(c->code))
			fire = true;
		else if (pol->alert_fire_after_s > 0)
			fire = now - first_seen >= pol->alert_fire_after_s;
		else
			fire = checks >= pol->alert_fire_after_checks;
		if (!fire) {
			if ((s = store_stmt(st, S_ALERT_CAND_UPSERT)) == NULL)
				return -1;
			sqlite3_bind_int64(s, 1, domain_id);
			sqlite3_bind_text(s, 2, c->code, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, (sqlite3_int64)now);
			if (store_step_done(st, s, "counting an alert "
			    "candidate") == -1)
				return -1;
			continue;
		}
		if (checks > 1 && candidate_delete(st, domain_id,
		    c->code) == -1)
			return -1;
		if ((s = store_stmt(st, S_ALERT_INSERT)) == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, domain_id);
		sqlite3_bind_text(s, 2, c->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, probe_severity_name(c->sev), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
		sqlite3_bind_text(s, 5, c->message, -1, SQLITE_STATIC);
		if (store_step_done(st, s, "raising an alert") == -1)
			return -1;
		t[nt++] = (struct trans){ sqlite3_last_insert_rowid(st->db),
		    c->code, "firing", c->sev, c->message, now };
	}

	/* A candidate that a conclusive check did not see starts over. */
	for (i = 0; i < ncand; i++) {
		for (j = 0; j < ncur; j++)
			if (strcmp(cur[j].code, cand[i].code) == 0)
				break;
		if (j == ncur && probe_problem_resolvable(cand[i].code, r) &&
		    candidate_delete(st, domain_id, cand[i].code) == -1)
			return -1;
	}
	return write_transitions(st, r, rot, t, nt, now);
}

/* ------------------------------------------------------ delivery */

int
store_sink_register(struct store *st, const char *sink, unsigned on,
    time_t now)
{
	sqlite3_stmt	*s;
	char		 list[64] = ",";
	size_t		 len;
	unsigned	 i;

	st->err[0] = '\0';
	for (i = 0; i < 4; i++)
		if (on & (1u << i)) {
			len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s,",
			    transition_names[i]);
		}
	if ((s = store_stmt(st, S_SINK_UPSERT)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)now);
	return store_step_done(st, s, "registering an alert sink");
}

int
store_outbox_next(struct store *st, const char *sink,
    struct store_outbox_row *row)
{
	sqlite3_stmt	*s;
	const char	*p;
	int		 rc;

	st->err[0] = '\0';
	memset(row, 0, sizeof(*row));
	if ((s = store_stmt(st, S_OUTBOX_NEXT)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		store_dberr(st, "reading the outbox");
		sqlite3_reset(s);
		return -1;
	}
	row->id = sqlite3_column_int64(s, 0);
	row->alert_id = sqlite3_column_int64(s, 1);
	row->created = store_column_time(s, 2);
	store_column_text(s, 3, row->transition, sizeof(row->transition));
	p = (const char *)sqlite3_column_text(s, 4);
	row->attempts = sqlite3_column_int(s, 5);
	row->payload = strdup(p != NULL ? p : "{}");
	sqlite3_reset(s);
	if (row->payload == NULL)
		return store_seterr(st, "out of memory");
	return 1;
}

int
store_delivery_record(struct store *st, int64_t outbox_id, const char *sink,
    enum store_delivery how, const char *error, const char *output,
    time_t now)
{
	return store_delivery_record_many(st, &outbox_id, 1, sink, how, error,
	    output, now);
}

int
store_delivery_record_many(struct store *st, const int64_t *ids, unsigned n,
    const char *sink, enum store_delivery how, const char *error,
    const char *output, time_t now)
{
	sqlite3_stmt	*s;
	unsigned	 i;

	st->err[0] = '\0';
	if (store_begin(st, true) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((s = store_stmt(st, S_DELIVERY_UPSERT)) == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_text(s, 2, sink, -1, SQLITE_STATIC);
		store_bind_time(s, 3, how == STORE_DELIVERY_DONE ? now : 0);
		if (error != NULL)
			sqlite3_bind_text(s, 4, error, -1, SQLITE_STATIC);
		store_bind_time(s, 5, how == STORE_DELIVERY_GIVEN_UP ? now : 0);
		if (output != NULL)
			sqlite3_bind_text(s, 6, output, -1, SQLITE_STATIC);
		if (store_step_done(st, s, "recording a delivery") == -1)
			goto fail;
		sqlite3_clear_bindings(s);
		if (how == STORE_DELIVERY_RETRY)
			continue;
		if ((s = store_stmt(st, S_SINK_ADVANCE)) == NULL)
			goto fail;
		sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, ids[i]);
		if (store_step_done(st, s, "recording a delivery") == -1)
			goto fail;
	}
	if (store_end(st) == -1)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* "chain_broken firing (critical): MESSAGE" for one grouped payload. */
static void
group_line(json_t *p, char *buf, size_t len)
{
#define J(k)	json_string_value(json_object_get(p, k))
	snprintf(buf, len, "%s %s (%s): %s", J("code") ? J("code") : "?",
	    J("transition") ? J("transition") : "?",
	    J("severity") ? J("severity") : "?", J("message") ? J("message") :
	    "");
#undef J
}

int
store_outbox_group(struct store *st, const char *sink,
    const struct store_outbox_row *first, int64_t *ids, unsigned *n,
    char **payload)
{
	/* Ad hoc: only sinks that group ask, once a delivery. */
	static const char sql[] =
	    "SELECT o.id, o.created, o.payload, a.domain_id, "
	    "instr(s.transitions, ',' || o.transition || ',') > 0 "
	    "FROM outbox o JOIN alerts a ON a.id = o.alert_id "
	    "JOIN alert_sinks s ON s.name = ?1 "
	    "WHERE o.id >= ?2 ORDER BY o.id LIMIT ?3";
	sqlite3_stmt	*s = NULL;
	json_t		*head = NULL, *list = NULL, *codes = NULL, *p;
	int64_t		 dom = -1;
	char		 line[1200], *msg = NULL;
	size_t		 mlen = 0, l;
	int		 rc = -1;

	st->err[0] = '\0';
	*n = 0;
	*payload = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_dberr(st, "reading the outbox");
		goto out;
	}
	sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, first->id);
	/* Rows the sink does not take count against the limit: a group is
	 * one check's, a few rows. */
	sqlite3_bind_int(s, 3, 4 * STORE_GROUP_MAX);
	list = json_array();
	codes = json_array();
	while (*n < STORE_GROUP_MAX && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 2);

		if (*n == 0)
			dom = sqlite3_column_int64(s, 3);
		else if (sqlite3_column_int64(s, 3) != dom ||
		    store_column_time(s, 1) != first->created)
			break;	/* another domain's, or another check */
		if (*n > 0 && sqlite3_column_int(s, 4) == 0)
			continue;	/* a transition this sink does not take */
		if ((p = json_loads(text != NULL ? text : "{}", 0, NULL)) ==
		    NULL)
			p = json_object();
		json_array_append_new(list, json_pack("{s:O?, s:O?, s:O?, "
		    "s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(p, "id"),
		    "alert_id", json_object_get(p, "alert_id"), "code",
		    json_object_get(p, "code"), "transition",
		    json_object_get(p, "transition"), "severity",
		    json_object_get(p, "severity"), "message",
		    json_object_get(p, "message"), "first_fired",
		    json_object_get(p, "first_fired")));
		json_array_append(codes, json_object_get(p, "code"));
		group_line(p, line, sizeof(line));
		l = strlen(line);
		if ((msg = realloc(msg, mlen + l + 2)) == NULL) {
			json_decref(p);
			store_seterr(st, "out of memory");
			rc = -1;
			goto out;
		}
		snprintf(msg + mlen, l + 2, "%s%s", mlen ? "\n" : "", line);
		mlen += l + (mlen ? 1 : 0);
		if (*n == 0)
			head = p;
		else
			json_decref(p);
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_dberr(st, "reading the outbox");
		rc = -1;
		goto out;
	}
	rc = 0;
	if (*n > 1 && head != NULL) {
		json_object_set(head, "grouped", list);
		json_object_set(head, "codes", codes);
		json_object_set_new(head, "message", json_string(msg));
		if ((*payload = json_dumps(head, JSON_COMPACT |
		    JSON_SORT_KEYS)) == NULL)
			rc = store_seterr(st, "out of memory");
	}
out:
	sqlite3_finalize(s);
	json_decref(head);
	json_decref(list);
	json_decref(codes);
	free(msg);
	return rc;
}

/* ------------------------------------------------------- reading */

int
store_alert_last_payload(struct store *st, int64_t alert_id, char **out)
{
	sqlite3_stmt	*s;
	const char	*p;
	int		 rc;

	st->err[0] = '\0';
	*out = NULL;
	if ((s = store_stmt(st, S_ALERT_LAST_PAYLOAD)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, alert_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		store_dberr(st, "reading the outbox");
		sqlite3_reset(s);
		return -1;
	}
	p = (const char *)sqlite3_column_text(s, 0);
	*out = strdup(p != NULL ? p : "{}");
	sqlite3_reset(s);
	if (*out == NULL)
		return store_seterr(st, "out of memory");
	return 1;
}

int
store_alerts(struct store *st, time_t since, struct store_alert **out,
    size_t *n)
{
	struct store_alert	*a = NULL, *na;
	sqlite3_stmt		*s;
	size_t			 len = 0, cap = 0;
	int			 rc;

	st->err[0] = '\0';
	*out = NULL;
	*n = 0;
	/* A read-only open takes an older file as it is. */
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
	    NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_int(s, 0) < 2) {
		sqlite3_finalize(s);
		return store_seterr(st, "schema version 1 predates alert "
		    "delivery: record one check with 'dnssecmon check --db "
		    "%s' to migrate it", st->path);
	}
	sqlite3_finalize(s);
	if ((s = store_stmt(st, S_ALERTS_LIST)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((na = reallocarray(a, cap, sizeof(*a))) == NULL) {
				store_seterr(st, "out of memory");
				goto fail;
			}
			a = na;
		}
		na = &a[len++];
		memset(na, 0, sizeof(*na));
		na->id = sqlite3_column_int64(s, 0);
		store_column_text(s, 1, na->domain, sizeof(na->domain));
		store_column_text(s, 2, na->code, sizeof(na->code));
		store_column_text(s, 3, na->state, sizeof(na->state));
		store_column_text(s, 4, na->severity, sizeof(na->severity));
		na->first_fired = store_column_time(s, 5);
		na->last_notified = store_column_time(s, 6);
		na->last_seen = store_column_time(s, 7);
		na->resolved_at = store_column_time(s, 8);
		store_column_text(s, 9, na->message, sizeof(na->message));
	}
	if (rc != SQLITE_DONE) {
		store_dberr(st, "reading alerts");
		goto fail;
	}
	sqlite3_reset(s);
	*out = a;
	*n = len;
	return 0;
fail:
	sqlite3_reset(s);
	free(a);
	return -1;
}

int
store_alert_deliveries(struct store *st, int64_t alert_id,
    store_alert_delivery_cb cb, void *arg)
{
	struct store_alert_delivery	 d;
	sqlite3_stmt			*s;
	time_t				 done, failed;
	int				 rc;

	st->err[0] = '\0';
	if ((s = store_stmt(st, S_ALERT_DELIVERIES)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, alert_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		d.outbox_id = sqlite3_column_int64(s, 0);
		d.transition = (const char *)sqlite3_column_text(s, 1);
		d.created = store_column_time(s, 2);
		d.sink = (const char *)sqlite3_column_text(s, 3);
		done = store_column_time(s, 4);
		failed = store_column_time(s, 5);
		d.attempts = sqlite3_column_int(s, 6);
		d.last_error = (const char *)sqlite3_column_text(s, 7);
		d.output = (const char *)sqlite3_column_text(s, 8);
		if (done != 0) {
			d.status = "delivered";
			d.at = done;
		} else if (failed != 0) {
			d.status = "failed";
			d.at = failed;
		} else if (sqlite3_column_int(s, 9) != 0)
			/* Behind the cursor without an attempt: the sink
			 * did not take this transition then. */
			d.status = "skipped";
		else
			d.status = "pending";
		if (cb(arg, &d) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		store_dberr(st, "reading deliveries");
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}
