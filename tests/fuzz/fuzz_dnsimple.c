/*
 * libFuzzer target for the DNS host webhook (hostevents/dnsimple.c):
 * anything a client can POST to /hooks/dnsimple/SECRET goes through the
 * same handler the HTTP server calls, with a real store behind it, and
 * must come back with a status and a JSON answer, never a crash or a
 * leak. Build and run: see README.md here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "dashboard-export/internal.h"
#include "store/store.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct export	*ex;
static struct hostevents *host;	/* run.c's part: the webhook taker */
static struct store	*st;
static char		 dir[] = "/tmp/dnssecmon-fuzz-dnsimple.XXXXXX";

/* libFuzzer ends with exit(): leave no database behind. */
static void
cleanup(void)
{
	static const char	*files[] = { "fuzz.db", "fuzz.db-wal",
	    "fuzz.db-shm", "fuzz.db-journal" };
	char			 path[128];
	unsigned		 i;

	export_destroy(ex);
	hostevents_destroy(host);
	store_close(st);
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char	*names[] = { "example.net", "rollstart.lab",
	    "other.example" };
	struct export_domain	 list[3];
	char			 path[128], err[300];
	unsigned		 i;

	(void)argc; (void)argv;
	/* The handler logs every refusal: keep stderr for libFuzzer. */
	log_init(LOG_TO_SYSLOG, 0, "dnssecmon-fuzz");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/fuzz.db", dir);
	if ((st = store_open(path, err, sizeof(err))) == NULL ||
	    (host = hostevents_create()) == NULL ||
	    (ex = export_create(NULL, host, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	memset(list, 0, sizeof(list));
	for (i = 0; i < 3; i++) {
		list[i].name = names[i];
		store_policy_defaults(&list[i].policy);
		list[i].interval_s = 60;
		list[i].in_shard = i != 2;
	}
	export_set_domains(ex, list, 3);
	export_set_store(ex, st);
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct hostevents_reply	 rep;

	if (len > EXPORT_MAX_BODY)
		return 0;	/* evhttp refuses those before us */
	xhook_handle(ex, (const char *)data, len, 1795000000, &rep);
	if (rep.status < 200 || rep.status > 599 || rep.body == NULL ||
	    !json_is_object(rep.body))
		abort();
	json_decref(rep.body);
	return 0;
}
