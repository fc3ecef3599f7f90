/*
 * One check, judged and recorded the same way whichever command runs it:
 * history in, the classifier's verdict, the record out. `run`, `check
 * --db` and the tests all come through here, so a store failure reads
 * the same everywhere (the store_error problem, severity unknown at
 * least) instead of being patched on by each caller.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "store/internal.h"

/* The policy the classifier judges with: the domain's own window. */
static void
check_policy(struct probe_policy *pol, const struct probe_policy *ppol,
    const struct store_policy *spol)
{
	*pol = *ppol;
	if (spol != NULL) {
		pol->rotation_window_s = spol->rotation_window_s;
		pol->critical_before_s = spol->critical_before_s;
		pol->multi_signer = (enum probe_multi_mode)spol->multi_signer;
	}
}

static int
check_record(struct store *st, struct probe_result *r,
    const struct probe_policy *pol, const struct store_policy *spol,
    time_t now, struct store_rotation *open)
{
	struct probe_history	*h = &r->history;

	if (store_annotate(st, r, now) == -1) {
		/* Without history the verdict is a single check's; recording
		 * it could open a rotation with the wrong start. */
		memset(h, 0, sizeof(*h));
		snprintf(h->store_error, sizeof(h->store_error), "History "
		    "could not be read, so this check was not recorded and "
		    "deadlines are not tracked: %s", store_error(st));
		log_warnx("%s: reading history: %s", r->domain,
		    store_error(st));
		store_check_recorded(st, false);
		probe_classify(r, pol, now);
		return -1;
	}
	probe_classify(r, pol, now);
	if (store_commit(st, r, spol, now, open) == 0) {
		store_check_recorded(st, true);
		return 0;
	}
	store_check_recorded(st, false);
	store_check_lost(st, r, pol, spol, now);
	if (open != NULL)
		memset(open, 0, sizeof(*open));
	return -1;
}

int
store_check(struct store *st, struct probe_result *r,
    const struct probe_policy *ppol, const struct store_policy *spol,
    time_t now, struct store_rotation *open)
{
	struct probe_policy	 pol;
	int			 rc;

	if (open != NULL)
		memset(open, 0, sizeof(*open));
	memset(&r->history, 0, sizeof(r->history));
	check_policy(&pol, ppol, spol);
	if (st == NULL) {
		probe_classify(r, &pol, now);
		return 0;
	}
	store_batch_check(st, true);
	rc = check_record(st, r, &pol, spol, now, open);
	store_batch_check(st, false);
	return rc;
}

void
store_check_lost(struct store *st, struct probe_result *r,
    const struct probe_policy *ppol, const struct store_policy *spol,
    time_t now)
{
	struct probe_policy	 pol;

	check_policy(&pol, ppol, spol);
	/* The check still counts; the store's trouble is reported on it,
	 * never fatal. The verdict is judged again with it as an input. */
	snprintf(r->history.store_error, sizeof(r->history.store_error),
	    "The check could not be recorded, so deadlines are not "
	    "tracked: %s", store_error(st));
	log_warnx("%s: recording the check: %s", r->domain, store_error(st));
	probe_classify(r, &pol, now);
}
