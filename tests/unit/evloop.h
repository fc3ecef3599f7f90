/*
 * The unit tests' event loop: one base, and a guard timer that ends
 * event_base_dispatch() after a while whatever else is pending.
 * Header-only, for one translation unit each (its statics are the test's).
 */
#ifndef DNSSECMON_TESTS_EVLOOP_H
#define DNSSECMON_TESTS_EVLOOP_H

#include <sys/time.h>

#include <event2/event.h>

static struct event_base	*base;
static struct event		*guard;	/* evtimer_new(base, guard_cb, NULL) */

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

/* Runs the loop for ms (or until a callback breaks it). */
static void
spin(int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(guard, &tv);
	event_base_dispatch(base);
	evtimer_del(guard);
}

#endif
