/*
 * Catalog zones (RFC 9432): the member zones of a DNS host's or a
 * signer's catalog, transferred (AXFR, TSIG) and followed on the catalog's
 * SOA serial, become monitored domains.
 *
 * The transfer is blocking ldns, so it runs in a thread of its own, one
 * per catalog at a time; the event loop learns of the result through a
 * pipe and never waits for the network. A transfer is bounded in time
 * (CATALOG_TRANSFER_MAX_S) and memory (max_members names kept).
 */
#ifndef DNSSECMON_CLI_CATALOG_H
#define DNSSECMON_CLI_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ldns/ldns.h>

#include "cli/config.h"

#define CATALOG_TRANSFER_MAX_S	300	/* one whole transfer */

/* The members of one catalog, as of one serial. */
struct catalog_members {
	char		(*names)[PROBE_NAME_MAX];	/* sorted, unique, no
							   final dot */
	size_t		  n;
	size_t		  excess;	/* members past max_members: not kept
					   (the alphabetically last ones) */
	size_t		  ignored;	/* member nodes RFC 9432 says to ignore:
					   several PTR, a bad name */
	uint32_t	  serial;
};

/* Frees the names; the struct is the caller's. */
void	catalog_members_finish(struct catalog_members *);

/*
 * Catalog parsing, fed one record at a time in transfer order, so that a
 * catalog of millions of records needs no more than max members of
 * memory. Owner names are checked against zone.
 */
struct catalog_parse;

/* NULL: out of memory or zone not a name. Caller destroys. */
struct catalog_parse *catalog_parse_create(const char *zone, unsigned max);
void	catalog_parse_destroy(struct catalog_parse *);
/* One record (not taken). */
void	catalog_parse_rr(struct catalog_parse *, const ldns_rr *);
/*
 * The members, into out (the caller finishes it). -1 with the reason in
 * err when the catalog cannot be used: no SOA, no version property or a
 * version other than "2" (RFC 9432 section 5.2: a consumer must not
 * process a catalog of a version it does not know).
 */
int	catalog_parse_finish(struct catalog_parse *, struct catalog_members *out,
	    char *err, size_t errlen);

/* The catalogs of a running daemon. */
struct catalogs;
struct event_base;

/*
 * changed(arg, members) runs on the event loop after every poll of a
 * catalog (its status changed), members true when the member set of some
 * catalog changed (a transfer with other members, a catalog removed by a
 * reload). NULL: out of memory.
 */
struct catalogs *catalogs_create(struct event_base *, int timeout_ms,
	    void (*changed)(void *, bool), void *arg);
/* Accepts NULL. A transfer in flight is abandoned (its thread ends on
 * its own within its time bound). */
void	catalogs_destroy(struct catalogs *);
/*
 * The catalogs of a (new) configuration: kept ones keep their members
 * and serial and are polled now when their settings changed; new ones
 * are transferred now; removed ones drop their members (changed() runs).
 * -1: out of memory (the old set stays).
 */
int	catalogs_configure(struct catalogs *, const struct config_catalog *,
	    size_t n, int timeout_ms);
/* Every member of every catalog, each with its catalog's zone, in no
 * particular order; a name in two catalogs is given twice. */
void	catalogs_each_member(const struct catalogs *,
	    void (*fn)(void *, const char *name, const char *catalog),
	    void *arg);

/* What the status of one catalog is, for logs, metrics and the API. */
struct catalog_status {
	const char	*zone;
	const char	*primary;
	size_t		 members;
	size_t		 excess;
	size_t		 ignored;
	uint32_t	 serial;
	bool		 have;		/* a transfer succeeded once */
	bool		 ok;		/* the last attempt succeeded */
	time_t		 last_success;	/* 0: never */
	time_t		 last_attempt;
	const char	*error;		/* of the last attempt; "" if ok */
};
size_t	catalogs_count(const struct catalogs *);
/* Has every catalog been tried at least once (run --once waits)? */
bool	catalogs_settled(const struct catalogs *);
/* i < catalogs_count(); pointers valid until the next call into
 * catalogs. */
void	catalogs_status(const struct catalogs *, size_t i,
	    struct catalog_status *);

#endif
