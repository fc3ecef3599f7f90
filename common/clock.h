/*
 * Wall-clock time for everything that judges time: signature validity,
 * deadlines, history. DNSSECMON_NOW (RFC 3339 UTC or unix seconds)
 * overrides it so tests can walk a 7-day rotation in seconds.
 */
#ifndef DNSSECMON_CLOCK_H
#define DNSSECMON_CLOCK_H

#include <stddef.h>
#include <time.h>

/* Now, or DNSSECMON_NOW when set and valid (a bad value is reported once
 * on stderr and ignored). */
time_t	clock_now(void);
/* Parse "2026-11-27T10:00:00Z" or unix seconds; -1 on error. */
int	clock_parse(const char *s, time_t *out);
/* Format as RFC 3339 UTC ("2026-11-27T10:00:00Z"); buf needs 21 bytes. */
const char *clock_rfc3339(time_t t, char *buf, size_t len);
/* The one JSON spelling of a time, for every output (CLI, API, MQTT,
 * webhooks, the outbox): an RFC 3339 UTC string, or null for 0 (never,
 * not yet). Caller owns the reference. */
struct json_t *clock_json(time_t t);
/* "3d 4h", "5h 12m", "42s": a short human duration (negative: "-3h"). */
const char *clock_duration(long long seconds, char *buf, size_t len);

#endif
