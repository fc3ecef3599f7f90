/*
 * Algorithm rollovers in the store: one row per rollover, its current
 * stage and that stage's clock, so that a stage keeps its start (and its
 * deadline) across checks and restarts. The classifier decides the stage
 * and the times (probe/classify.c); this only keeps them.
 */
#include <string.h>

#include <sqlite3.h>

#include "store/internal.h"

int
store_algroll_annotate(struct store *st, int64_t domain_id,
    struct probe_result *r)
{
	struct probe_history *h = &r->history;
	sqlite3_stmt	*s;
	char		 stage[32];
	int		 rc;

	if ((s = store_stmt(st, S_ALG_OPEN)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, domain_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		store_column_text(s, 3, stage, sizeof(stage));
		h->alg_open = true;
		h->alg_from = (uint8_t)sqlite3_column_int(s, 0);
		h->alg_to = (uint8_t)sqlite3_column_int(s, 1);
		h->alg_start = store_column_time(s, 2);
		h->alg_stage = (uint8_t)probe_alg_stage_from_name(stage);
		h->alg_stage_since = store_column_time(s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_dberr(st, "reading the algorithm rollover");
	return 0;
}

/* Run one statement with its bindings done by the caller; 0 or -1. */
static int
run(struct store *st, sqlite3_stmt *s, const char *what)
{
	int	 rc = sqlite3_step(s);

	sqlite3_finalize(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	return store_dberr(st, what);
}

static int
close_open(struct store *st, int64_t domain_id, const char *outcome,
    time_t now)
{
	sqlite3_stmt	*s = NULL;

	if (sqlite3_prepare_v2(st->db, "UPDATE alg_rollovers SET outcome = "
	    "?2, completed_at = ?3 WHERE domain_id = ?1 AND outcome IS NULL",
	    -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return store_dberr(st, "closing the algorithm rollover");
	}
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_text(s, 2, outcome, -1, SQLITE_STATIC);
	store_bind_time(s, 3, now);
	return run(st, s, "closing the algorithm rollover");
}

/* The one algorithm the zone's keys have now, 0: none or several. */
static unsigned
key_algorithm(const struct probe_result *r)
{
	unsigned	 k, alg = 0;

	for (k = 0; k < r->n_keys; k++) {
		if (alg != 0 && r->keys[k].algorithm != alg)
			return 0;
		alg = r->keys[k].algorithm;
	}
	return alg;
}

int
store_algroll_commit(struct store *st, int64_t domain_id,
    const struct probe_result *r, time_t now)
{
	const struct probe_alg_rollover *ro = &r->alg_rollover;
	const struct probe_history *h = &r->history;
	sqlite3_stmt	*s = NULL;
	bool		 same;

	if (ro->from == 0 || ro->to == 0) {
		/* No rollover seen: it ended, but only a check that read
		 * keys says so (a failed check sees no stage either). */
		if (!h->alg_open || r->n_keys == 0 ||
		    probe_answering_mask(r) == 0 ||
		    ro->stage == PROBE_ALG_UNCLEAR)
			return 0;
		return close_open(st, domain_id, key_algorithm(r) == h->alg_to ?
		    "completed" : "abandoned", now);
	}
	same = h->alg_open && h->alg_from == ro->from && h->alg_to == ro->to;
	if (same && h->alg_stage == (uint8_t)ro->stage &&
	    h->alg_stage_since == ro->stage_since)
		return 0;	/* nothing moved */
	if (h->alg_open && !same &&
	    close_open(st, domain_id, "abandoned", now) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db, same ?
	    "UPDATE alg_rollovers SET stage = ?2, stage_since = ?3, "
	    "safe_at = ?4, deadline = ?5 WHERE domain_id = ?1 AND "
	    "outcome IS NULL" :
	    "INSERT INTO alg_rollovers (domain_id, stage, stage_since, "
	    "safe_at, deadline, from_alg, to_alg, start) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return store_dberr(st, "recording the algorithm rollover");
	}
	sqlite3_bind_int64(s, 1, domain_id);
	sqlite3_bind_text(s, 2, probe_alg_stage_name(ro->stage), -1,
	    SQLITE_STATIC);
	store_bind_time(s, 3, ro->stage_since);
	store_bind_time(s, 4, ro->safe_at);
	store_bind_time(s, 5, ro->deadline);
	if (!same) {
		sqlite3_bind_int(s, 6, ro->from);
		sqlite3_bind_int(s, 7, ro->to);
		store_bind_time(s, 8, ro->start);
	}
	return run(st, s, "recording the algorithm rollover");
}
