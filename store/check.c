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

int
store_check(struct store *st, struct probe_result *r,
    const struct probe_policy *ppol, const struct store_policy *spol,
    time_t now, struct store_rotation *open)
{
	struct probe_policy	 pol = *ppol;
	struct probe_history	*h = &r->history;

	if (open != NULL)
		memset(open, 0, sizeof(*open));
	memset(h, 0, sizeof(*h));
	if (spol != NULL) {
		pol.rotation_window_s = spol->rotation_window_s;
		pol.critical_before_s = spol->critical_before_s;
		pol.multi_signer = (enum probe_multi_mode)spol->multi_signer;
	}
	if (st == NULL) {
		probe_classify(r, &pol, now);
		return 0;
	}
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
		probe_classify(r, &pol, now);
		return -1;
	}
	probe_classify(r, &pol, now);
	if (store_commit(st, r, spol, now, open) == 0) {
		store_check_recorded(st, true);
		return 0;
	}
	store_check_recorded(st, false);
	/* The check still counts; the store's trouble is reported on it,
	 * never fatal. The verdict is judged again with it as an input. */
	snprintf(h->store_error, sizeof(h->store_error), "The check could "
	    "not be recorded, so deadlines are not tracked: %s",
	    store_error(st));
	log_warnx("%s: recording the check: %s", r->domain, store_error(st));
	probe_classify(r, &pol, now);
	if (open != NULL)
		memset(open, 0, sizeof(*open));
	return -1;
}
