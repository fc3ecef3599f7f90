/*
 * Work off the event loop: one worker thread runs a function on items the
 * loop hands it, then the loop runs a second function on each item, in
 * the order they finished. Internal to the probe module (the engine
 * verifies each check's signatures there).
 */
#ifndef DNSSECMON_PROBE_OFFLOAD_H
#define DNSSECMON_PROBE_OFFLOAD_H

#include <sys/queue.h>

#include <event2/event.h>

/* Embedded in the caller's object: submitting never allocates. */
struct offload_item {
	STAILQ_ENTRY(offload_item)	 next;
	void				*arg;
};

struct offload;

/*
 * A worker thread that calls work(arg) for each submitted item, and a
 * loop event on base that then calls done(arg). work runs on the worker,
 * so it may only touch what the loop leaves alone until done is called.
 * NULL on failure (no thread, no eventfd, out of memory): the caller then
 * runs work and done itself. Caller destroys.
 */
struct offload	*offload_create(struct event_base *base, void (*work)(void *),
		    void (*done)(void *));

/* Queues arg (item is the caller's, untouched until done(arg)). */
void		 offload_submit(struct offload *o, struct offload_item *item,
		    void *arg);

/* Stops and joins the worker; items not yet done are dropped without
 * callbacks (their owner frees them). NULL: nothing. */
void		 offload_destroy(struct offload *o);

#endif
