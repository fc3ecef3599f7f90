/*
 * One worker thread beside the event loop (probe/offload.h). The engine
 * spent ~45% of the loop thread's CPU verifying signatures once a check's
 * answers were in (perf, 3,000-domain bench: ldns and OpenSSL ECDSA in
 * denial_check and sigcheck_server); on the worker that CPU overlaps the
 * loop's I/O and libunbound's threads.
 *
 * The loop and the worker share two lists under one mutex, held only to
 * link or unlink; the worker wakes the loop through an eventfd.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "probe/offload.h"

STAILQ_HEAD(offload_list, offload_item);

struct offload {
	pthread_t		 thread;
	bool			 started, stop;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct offload_list	 todo, done;
	int			 efd;
	struct event		*ev;
	void			(*work)(void *);
	void			(*done_fn)(void *);
};

static void *
worker(void *arg)
{
	struct offload		*o = arg;
	struct offload_item	*it;
	uint64_t		 one = 1;
	bool			 wake;

	pthread_mutex_lock(&o->mu);
	while (!o->stop) {
		if ((it = STAILQ_FIRST(&o->todo)) == NULL) {
			pthread_cond_wait(&o->cv, &o->mu);
			continue;
		}
		STAILQ_REMOVE_HEAD(&o->todo, next);
		pthread_mutex_unlock(&o->mu);
		o->work(it->arg);
		pthread_mutex_lock(&o->mu);
		/* One wake-up per batch: the loop takes the whole list. */
		wake = STAILQ_EMPTY(&o->done);
		STAILQ_INSERT_TAIL(&o->done, it, next);
		if (wake) {
			/* Cannot fail short of a closed fd: the counter is
			 * far from its maximum. */
			while (write(o->efd, &one, sizeof(one)) == -1 &&
			    errno == EINTR)
				;
		}
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* The worker finished items: their done callbacks, on the loop. */
static void
ready_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct offload		*o = arg;
	struct offload_list	 batch;
	struct offload_item	*it;
	uint64_t		 n;

	(void)ev;
	(void)!read(fd, &n, sizeof(n));
	STAILQ_INIT(&batch);
	pthread_mutex_lock(&o->mu);
	STAILQ_CONCAT(&batch, &o->done);
	pthread_mutex_unlock(&o->mu);
	while ((it = STAILQ_FIRST(&batch)) != NULL) {
		STAILQ_REMOVE_HEAD(&batch, next);
		o->done_fn(it->arg);
	}
}

struct offload *
offload_create(struct event_base *base, void (*work)(void *),
    void (*done)(void *))
{
	struct offload	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->efd = -1;
	o->work = work;
	o->done_fn = done;
	STAILQ_INIT(&o->todo);
	STAILQ_INIT(&o->done);
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	if ((o->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		goto fail;
	if ((o->ev = event_new(base, o->efd, EV_READ | EV_PERSIST, ready_cb,
	    o)) == NULL || event_add(o->ev, NULL) != 0)
		goto fail;
	if (pthread_create(&o->thread, NULL, worker, o) != 0)
		goto fail;
	o->started = true;
	return o;
fail:
	offload_destroy(o);
	return NULL;
}

void
offload_submit(struct offload *o, struct offload_item *item, void *arg)
{
	item->arg = arg;
	pthread_mutex_lock(&o->mu);
	STAILQ_INSERT_TAIL(&o->todo, item, next);
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

void
offload_destroy(struct offload *o)
{
	if (o == NULL)
		return;
	if (o->started) {
		pthread_mutex_lock(&o->mu);
		o->stop = true;
		pthread_cond_signal(&o->cv);
		pthread_mutex_unlock(&o->mu);
		pthread_join(o->thread, NULL);
	}
	if (o->ev != NULL)
		event_free(o->ev);
	if (o->efd != -1)
		close(o->efd);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	free(o);
}
