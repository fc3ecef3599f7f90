/*
 * Catalog zones (RFC 9432): parse, transfer, follow.
 *
 * Transfers use ldns (ldns_axfr_start/next, the query signed with TSIG
 * when a key is configured) in a thread per catalog: ldns blocks, and a
 * catalog of thousands of members over a slow link must not stop the
 * probes. The thread owns nothing of the daemon: it gets a copy of the
 * catalog's settings, returns the members in its job, and writes one
 * byte to a pipe the event loop watches. Each poll first asks the SOA
 * (UDP, TSIG-signed and -verified by ldns when a key is set): a serial
 * that did not move costs one query, not a transfer.
 *
 * What ldns does not do: it does not verify the TSIG of AXFR answers
 * (ldns_axfr_next reads the messages without the MAC chain). The SOA
 * serial that triggers a transfer is verified; the transferred records
 * are trusted as the transport delivered them. Keep the primary on a
 * trusted path, as for any zone transfer a monitor (not a secondary
 * server) reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/catalog.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/dsmatch.h"

/* ------------------------------------------------------------------ */
/* Parsing */

struct centry {
	uint64_t id;			/* FNV-1a of the member node's label:
					   only compared, and a label can be
					   252 bytes escaped */
	char	 name[PROBE_NAME_MAX];
};

struct catalog_parse {
	ldns_rdf	*zone, *zones, *vname;	/* canonical */
	uint8_t		 zones_labels;
	unsigned	 max;
	struct centry	*heap;		/* a max-heap on name: the max
					   smallest names are kept */
	size_t		 n, cap;	/* cap grows to max as members come */
	size_t		 excess, ignored;
	bool		 soa, oom;
	uint32_t	 serial;
	unsigned	 n_version;
	char		 version[64];
};

void
catalog_members_finish(struct catalog_members *m)
{
	free(m->names);
	memset(m, 0, sizeof(*m));
}

struct catalog_parse *
catalog_parse_create(const char *zone, unsigned max)
{
	struct catalog_parse	*cp;
	char			 buf[PROBE_NAME_MAX + 16];

	if ((cp = calloc(1, sizeof(*cp))) == NULL)
		return NULL;
	cp->max = max;
	if ((cp->zone = ldns_dname_new_frm_str(zone)) == NULL)
		goto fail;
	snprintf(buf, sizeof(buf), "zones.%s", zone);
	if ((cp->zones = ldns_dname_new_frm_str(buf)) == NULL)
		goto fail;
	snprintf(buf, sizeof(buf), "version.%s", zone);
	if ((cp->vname = ldns_dname_new_frm_str(buf)) == NULL)
		goto fail;
	ldns_dname2canonical(cp->zone);
	ldns_dname2canonical(cp->zones);
	ldns_dname2canonical(cp->vname);
	cp->zones_labels = ldns_dname_label_count(cp->zones);
	return cp;
fail:
	catalog_parse_destroy(cp);
	return NULL;
}

void
catalog_parse_destroy(struct catalog_parse *cp)
{
	if (cp == NULL)
		return;
	ldns_rdf_deep_free(cp->zone);
	ldns_rdf_deep_free(cp->zones);
	ldns_rdf_deep_free(cp->vname);
	free(cp->heap);
	free(cp);
}

static void
heap_down(struct centry *h, size_t n, size_t i)
{
	struct centry	 t;
	size_t		 c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && strcmp(h[c + 1].name, h[c].name) > 0)
			c++;
		if (strcmp(h[c].name, h[i].name) <= 0)
			return;
		t = h[i]; h[i] = h[c]; h[c] = t;
		i = c;
	}
}

static void
heap_up(struct centry *h, size_t i)
{
	struct centry	 t;
	size_t		 p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (strcmp(h[p].name, h[i].name) >= 0)
			return;
		t = h[i]; h[i] = h[p]; h[p] = t;
		i = p;
	}
}

/*
 * A PTR target as a monitored name: lower case, no final dot. Names that
 * need escapes (a dot or a byte outside printable ASCII inside a label)
 * are refused: they would reach logs, labels and URLs.
 */
static int
member_name(const ldns_rdf *target, char *out, size_t outlen)
{
	ldns_rdf	*c;
	char		*s;
	size_t		 len;
	int		 rc = -1;

	if (target == NULL || ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME ||
	    (c = ldns_rdf_clone(target)) == NULL)
		return -1;
	ldns_dname2canonical(c);
	if ((s = ldns_rdf2str(c)) == NULL)
		goto out;
	len = strlen(s);
	if (len < 2 || len >= outlen + 1 || strchr(s, '\\') != NULL ||
	    s[len - 1] != '.')
		goto out;
	s[len - 1] = '\0';
	snprintf(out, outlen, "%s", s);
	rc = 0;
out:
	free(s);
	ldns_rdf_deep_free(c);
	return rc;
}

static void
add_member(struct catalog_parse *cp, const ldns_rr *rr, const ldns_rdf *owner)
{
	struct centry	 e, *v;
	ldns_rdf	*label;
	char		*id, *p;
	size_t		 cap;

	memset(&e, 0, sizeof(e));
	if (ldns_rr_rd_count(rr) != 1 ||
	    member_name(ldns_rr_rdf(rr, 0), e.name, sizeof(e.name)) == -1) {
		cp->ignored++;
		return;
	}
	if ((label = ldns_dname_label(owner, 0)) == NULL ||
	    (id = ldns_rdf2str(label)) == NULL) {
		ldns_rdf_deep_free(label);
		cp->oom = true;
		return;
	}
	e.id = 14695981039346656037ULL;
	for (p = id; *p != '\0'; p++) {
		e.id ^= (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		e.id *= 1099511628211ULL;
	}
	free(id);
	ldns_rdf_deep_free(label);
	if (cp->max == 0) {
		cp->excess++;
		return;
	}
	if (cp->n < cp->max) {
		if (cp->n == cp->cap) {
			cap = cp->cap ? cp->cap * 2 : 256;
			if (cap > cp->max)
				cap = cp->max;
			if ((v = reallocarray(cp->heap, cap, sizeof(*v))) ==
			    NULL) {
				cp->oom = true;
				return;
			}
			cp->heap = v;
			cp->cap = cap;
		}
		cp->heap[cp->n] = e;
		heap_up(cp->heap, cp->n++);
		return;
	}
	/* Full: keep the alphabetically first names, so that which members
	 * are dropped does not depend on the order of the transfer. */
	cp->excess++;
	if (strcmp(e.name, cp->heap[0].name) < 0) {
		cp->heap[0] = e;
		heap_down(cp->heap, cp->n, 0);
	}
}

void
catalog_parse_rr(struct catalog_parse *cp, const ldns_rr *rr)
{
	ldns_rdf	*owner;
	const ldns_rdf	*rd;
	ldns_rr_type	 type = ldns_rr_get_type(rr);
	size_t		 len;

	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
	    (owner = ldns_rdf_clone(ldns_rr_owner(rr))) == NULL)
		return;
	ldns_dname2canonical(owner);
	if (type == LDNS_RR_TYPE_SOA && ldns_dname_compare(owner,
	    cp->zone) == 0) {
		if (!cp->soa && ldns_rr_rd_count(rr) == 7 &&
		    (rd = ldns_rr_rdf(rr, 2)) != NULL &&
		    ldns_rdf_size(rd) == 4) {
			cp->serial = ldns_rdf2native_int32(rd);
			cp->soa = true;
		}
	} else if (type == LDNS_RR_TYPE_TXT &&
	    ldns_dname_compare(owner, cp->vname) == 0) {
		/* One TXT with one string: anything else is not "2". */
		cp->n_version++;
		rd = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : NULL;
		if (rd != NULL && ldns_rdf_size(rd) >= 1 &&
		    (len = ldns_rdf_data(rd)[0]) + 1 == ldns_rdf_size(rd) &&
		    len < sizeof(cp->version))
			snprintf(cp->version, sizeof(cp->version), "%.*s",
			    (int)len, (const char *)ldns_rdf_data(rd) + 1);
		else
			snprintf(cp->version, sizeof(cp->version), "?");
	} else if (type == LDNS_RR_TYPE_PTR &&
	    ldns_dname_label_count(owner) == cp->zones_labels + 1 &&
	    ldns_dname_is_subdomain(owner, cp->zones))
		add_member(cp, rr, owner);
	ldns_rdf_deep_free(owner);
}

static int
by_id(const void *a, const void *b)
{
	uint64_t	 x = ((const struct centry *)a)->id;
	uint64_t	 y = ((const struct centry *)b)->id;

	return x < y ? -1 : x > y;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct centry *)a)->name,
	    ((const struct centry *)b)->name);
}

int
catalog_parse_finish(struct catalog_parse *cp, struct catalog_members *out,
    char *err, size_t errlen)
{
	size_t		 i, j, n;

	memset(out, 0, sizeof(*out));
	if (cp->oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!cp->soa) {
		snprintf(err, errlen, "no SOA at the apex: not the catalog "
		    "zone");
		return -1;
	}
	if (cp->n_version == 0) {
		snprintf(err, errlen, "no version property (TXT at version): "
		    "not an RFC 9432 catalog");
		return -1;
	}
	if (cp->n_version > 1 || strcmp(cp->version, "2") != 0) {
		snprintf(err, errlen, "version property '%s'%s: only version "
		    "2 (RFC 9432) is understood, and a catalog of another "
		    "version must not be used", cp->n_version > 1 ?
		    "(several)" : cp->version, cp->n_version > 1 ?
		    "" : "");
		return -1;
	}
	/* A member node with several PTR records is broken: RFC 9432
	 * section 4.1 says to ignore it. */
	if (cp->n > 0)
		qsort(cp->heap, cp->n, sizeof(*cp->heap), by_id);
	for (i = 0, n = 0; i < cp->n; i = j) {
		for (j = i + 1; j < cp->n && cp->heap[j].id == cp->heap[i].id;
		    j++)
			;
		if (j - i > 1) {
			cp->ignored += j - i;
			continue;
		}
		cp->heap[n++] = cp->heap[i];
	}
	/* A zone under two member nodes is monitored once. */
	if (n > 0)
		qsort(cp->heap, n, sizeof(*cp->heap), by_name);
	if ((out->names = calloc(n ? n : 1, sizeof(*out->names))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (out->n > 0 && strcmp(out->names[out->n - 1],
		    cp->heap[i].name) == 0) {
			cp->ignored++;
			continue;
		}
		memcpy(out->names[out->n++], cp->heap[i].name,
		    sizeof(out->names[0]));
	}
	out->excess = cp->excess;
	out->ignored = cp->ignored;
	out->serial = cp->serial;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The transfer thread */

struct job {
	pthread_mutex_t		 lock;
	bool			 abandoned;	/* by the loop: thread frees */
	bool			 done;		/* by the thread */
	pthread_t		 tid;		/* joined by the loop, or
						   detached when abandoned */
	int			 fds[2];	/* thread writes, loop reads */
	struct event		*ev;
	/* in */
	struct config_catalog	 cfg;
	uint32_t		 known_serial;
	bool			 have_serial;
	int			 timeout_ms;
	/* out */
	int			 status;	/* 1 new members, 0 same serial,
						   -1 error */
	char			 err[512];
	struct catalog_members	 members;
	uint32_t		 serial;
};

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	if (j->ev != NULL)
		event_free(j->ev);
	if (j->fds[0] != -1)
		close(j->fds[0]);
	if (j->fds[1] != -1)
		close(j->fds[1]);
	catalog_members_finish(&j->members);
	explicit_bzero(&j->cfg, sizeof(j->cfg));
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static const char *
tsig_error_name(unsigned e)
{
	switch (e) {
	case 16: return "BADSIG: the key's secret (or algorithm) differs "
	    "from the primary's";
	case 17: return "BADKEY: the primary does not know this key name "
	    "(or not with this algorithm)";
	case 18: return "BADTIME: the clocks of this host and the primary "
	    "differ by more than the allowed fudge";
	case 22: return "BADTRUNC";
	default: return NULL;
	}
}

/* What an answer's rcode and TSIG error say, in words. */
static void
explain_rcode(const struct job *j, const ldns_pkt *pkt, const char *what,
    char *err, size_t errlen)
{
	ldns_lookup_table	*t;
	const ldns_rr		*tsig = ldns_pkt_tsig(pkt);
	const ldns_rdf		*e;
	const char		*why = NULL;
	unsigned		 rcode = ldns_pkt_get_rcode(pkt), terr = 0;

	t = ldns_lookup_by_id(ldns_rcodes, (int)rcode);
	if (tsig != NULL && ldns_rr_rd_count(tsig) >= 6 &&
	    (e = ldns_rr_rdf(tsig, 5)) != NULL && ldns_rdf_size(e) == 2) {
		terr = ldns_rdf2native_int16(e);
		why = tsig_error_name(terr);
	}
	if (why != NULL || rcode == LDNS_RCODE_NOTAUTH)
		snprintf(err, errlen, "%s %s: %s, TSIG key '%s' refused: %s",
		    j->cfg.primary, what, t ? t->name : "NOTAUTH",
		    j->cfg.tsig_name[0] ? j->cfg.tsig_name : "(none)",
		    why ? why : "the primary wants a (different) TSIG key");
	else if (rcode == LDNS_RCODE_REFUSED && strcmp(what, "SOA") == 0)
		snprintf(err, errlen, "%s SOA: REFUSED (not authoritative for "
		    "%s, or refuses this host)", j->cfg.primary, j->cfg.zone);
	else if (rcode == LDNS_RCODE_REFUSED)
		snprintf(err, errlen, "%s AXFR: REFUSED (no transfer of %s for "
		    "this address%s)", j->cfg.primary, j->cfg.zone,
		    j->cfg.tsig_name[0] ? " and key" : " without a TSIG key");
	else
		snprintf(err, errlen, "%s %s: %s", j->cfg.primary, what,
		    t ? t->name : "error");
}

static ldns_resolver *
job_resolver(struct job *j)
{
	ldns_resolver	*res;
	ldns_rdf	*ns;
	uint16_t	 port = 53;
	struct timeval	 tv;

	if ((res = ldns_resolver_new()) == NULL)
		return NULL;
	if ((ns = ldns_sockaddr_storage2rdf(&j->cfg.addr, &port)) == NULL ||
	    ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
		ldns_rdf_deep_free(ns);
		ldns_resolver_deep_free(res);
		return NULL;
	}
	ldns_rdf_deep_free(ns);
	ldns_resolver_set_port(res, port);
	tv.tv_sec = j->timeout_ms / 1000;
	tv.tv_usec = (j->timeout_ms % 1000) * 1000;
	ldns_resolver_set_timeout(res, tv);
	ldns_resolver_set_retry(res, 2);
	ldns_resolver_set_recursive(res, false);
	ldns_resolver_set_dnssec(res, false);
	if (j->cfg.tsig_name[0] != '\0') {
		ldns_resolver_set_tsig_keyname(res, j->cfg.tsig_name);
		ldns_resolver_set_tsig_keydata(res, j->cfg.tsig_secret);
		ldns_resolver_set_tsig_algorithm(res, j->cfg.tsig_alg);
	}
	return res;
}

/*
 * One SOA exchange over UDP: the query signed, the answer's TSIG checked
 * here rather than by ldns_resolver_send(), which drops an answer whose
 * TSIG does not verify, and with it the TSIG error (BADKEY, BADSIG,
 * BADTIME) that says what is wrong. *wire and *pkt are the caller's.
 */
static int
soa_exchange(struct job *j, ldns_rdf *zone, uint8_t **wire, size_t *size,
    ldns_pkt **pkt, const ldns_rdf **mac_out, ldns_pkt **query_out)
{
	ldns_pkt	*q;
	ldns_buffer	*qb = NULL;
	ldns_status	 st = LDNS_STATUS_ERR;
	struct timeval	 tv;
	int		 try, rc = -1;

	if ((q = ldns_pkt_query_new(ldns_rdf_clone(zone), LDNS_RR_TYPE_SOA,
	    LDNS_RR_CLASS_IN, 0)) == NULL ||
	    (qb = ldns_buffer_new(LDNS_MAX_PACKETLEN)) == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		goto out;
	}
	ldns_pkt_set_random_id(q);
	if (j->cfg.tsig_name[0] != '\0') {
		if (ldns_pkt_tsig_sign(q, j->cfg.tsig_name, j->cfg.tsig_secret,
		    300, j->cfg.tsig_alg, NULL) != LDNS_STATUS_OK) {
			snprintf(j->err, sizeof(j->err), "cannot sign with key "
			    "'%s' (%s)", j->cfg.tsig_name, j->cfg.tsig_alg);
			goto out;
		}
		*mac_out = ldns_rr_rdf(ldns_pkt_tsig(q), 3);
	}
	if (ldns_pkt2buffer_wire(qb, q) != LDNS_STATUS_OK) {
		snprintf(j->err, sizeof(j->err), "cannot encode the query");
		goto out;
	}
	tv.tv_sec = j->timeout_ms / 1000;
	tv.tv_usec = (j->timeout_ms % 1000) * 1000;
	for (try = 0; try < 3; try++) {
		*wire = NULL;
		st = ldns_udp_send(wire, qb, &j->cfg.addr, j->cfg.addrlen, tv,
		    size);
		if (st == LDNS_STATUS_OK && *wire != NULL &&
		    ldns_wire2pkt(pkt, *wire, *size) == LDNS_STATUS_OK &&
		    ldns_pkt_id(*pkt) == ldns_pkt_id(q) && ldns_pkt_qr(*pkt))
			break;
		/* No answer, or not ours: ask again. */
		ldns_pkt_free(*pkt);
		*pkt = NULL;
		free(*wire);
		*wire = NULL;
	}
	if (*pkt == NULL) {
		snprintf(j->err, sizeof(j->err), "%s SOA: no answer in 3 tries "
		    "of %d ms", j->cfg.primary, j->timeout_ms);
		goto out;
	}
	rc = 0;
out:
	ldns_buffer_free(qb);
	if (rc == 0)
		*query_out = q;
	else
		ldns_pkt_free(q);
	return rc;
}

/* The primary's SOA serial: 0, or -1 with j->err. */
static int
job_soa(struct job *j, ldns_rdf *zone, uint32_t *serial)
{
	ldns_pkt	*pkt = NULL, *q = NULL;
	ldns_rr_list	*soa = NULL;
	const ldns_rdf	*rd, *mac = NULL;
	uint8_t		*wire = NULL;
	size_t		 size = 0;
	int		 rc = -1;

	if (soa_exchange(j, zone, &wire, &size, &pkt, &mac, &q) == -1)
		goto out;
	if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR) {
		explain_rcode(j, pkt, "SOA", j->err, sizeof(j->err));
		goto out;
	}
	if (mac != NULL && ldns_pkt_tsig(pkt) == NULL) {
		snprintf(j->err, sizeof(j->err), "%s SOA: the answer is not "
		    "signed (TSIG key '%s' asked for)", j->cfg.primary,
		    j->cfg.tsig_name);
		goto out;
	}
	if (mac != NULL && !ldns_pkt_tsig_verify(pkt, wire, size,
	    j->cfg.tsig_name, j->cfg.tsig_secret, mac)) {
		snprintf(j->err, sizeof(j->err), "%s SOA: the answer's TSIG "
		    "does not verify with key '%s'", j->cfg.primary,
		    j->cfg.tsig_name);
		goto out;
	}
	soa = ldns_pkt_rr_list_by_name_and_type(pkt, zone, LDNS_RR_TYPE_SOA,
	    LDNS_SECTION_ANSWER);
	if (!ldns_pkt_aa(pkt) || soa == NULL ||
	    ldns_rr_rd_count(ldns_rr_list_rr(soa, 0)) != 7 ||
	    (rd = ldns_rr_rdf(ldns_rr_list_rr(soa, 0), 2)) == NULL ||
	    ldns_rdf_size(rd) != 4) {
		snprintf(j->err, sizeof(j->err), "%s is not authoritative for "
		    "%s (no SOA with AA)", j->cfg.primary, j->cfg.zone);
		goto out;
	}
	*serial = ldns_rdf2native_int32(rd);
	rc = 0;
out:
	ldns_rr_list_deep_free(soa);
	ldns_pkt_free(pkt);
	ldns_pkt_free(q);
	free(wire);
	return rc;
}

/* The whole catalog: 0, or -1 with j->err. */
static int
job_axfr(struct job *j, ldns_resolver *res, ldns_rdf *zone)
{
	struct catalog_parse	*cp;
	ldns_rr			*rr;
	ldns_pkt		*last;
	ldns_status		 st;
	time_t			 deadline = time(NULL) + CATALOG_TRANSFER_MAX_S;
	size_t			 records = 0;
	char			 why[300];
	int			 rc = -1;

	if ((cp = catalog_parse_create(j->cfg.zone, j->cfg.max_members)) ==
	    NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		return -1;
	}
	if ((st = ldns_axfr_start(res, zone, LDNS_RR_CLASS_IN)) !=
	    LDNS_STATUS_OK) {
		snprintf(j->err, sizeof(j->err), "%s AXFR: %s", j->cfg.primary,
		    ldns_get_errorstr_by_id(st) ? ldns_get_errorstr_by_id(st) :
		    "cannot start");
		goto out;
	}
	while (!ldns_axfr_complete(res)) {
		if (time(NULL) > deadline) {
			ldns_axfr_abort(res);
			snprintf(j->err, sizeof(j->err), "%s AXFR: not done "
			    "after %d s (%zu records); abandoned",
			    j->cfg.primary, CATALOG_TRANSFER_MAX_S, records);
			goto out;
		}
		if ((rr = ldns_axfr_next(res)) == NULL)
			break;
		records++;
		catalog_parse_rr(cp, rr);
		ldns_rr_free(rr);
	}
	if (!ldns_axfr_complete(res)) {
		last = ldns_axfr_last_pkt(res);
		if (last != NULL && ldns_pkt_get_rcode(last) !=
		    LDNS_RCODE_NOERROR)
			explain_rcode(j, last, "AXFR", j->err, sizeof(j->err));
		else
			snprintf(j->err, sizeof(j->err), "%s AXFR: ended after "
			    "%zu records without the closing SOA (connection "
			    "closed or no answer within %d ms)", j->cfg.primary,
			    records, j->timeout_ms);
		goto out;
	}
	if (catalog_parse_finish(cp, &j->members, why, sizeof(why)) == -1) {
		snprintf(j->err, sizeof(j->err), "%s: %s", j->cfg.zone, why);
		goto out;
	}
	rc = 0;
out:
	catalog_parse_destroy(cp);
	return rc;
}

static void *
job_run(void *arg)
{
	struct job	*j = arg;
	ldns_resolver	*res = NULL;
	ldns_rdf	*zone = NULL;
	uint32_t	 serial = 0;
	bool		 free_it;
	char		 byte = 1;

	j->status = -1;
	if ((res = job_resolver(j)) == NULL ||
	    (zone = ldns_dname_new_frm_str(j->cfg.zone)) == NULL) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		goto out;
	}
	if (job_soa(j, zone, &serial) == -1)
		goto out;
	j->serial = serial;
	if (j->have_serial && serial == j->known_serial) {
		j->status = 0;
		goto out;
	}
	if (job_axfr(j, res, zone) == -1)
		goto out;
	j->serial = j->members.serial;
	j->status = 1;
out:
	ldns_rdf_deep_free(zone);
	ldns_resolver_deep_free(res);
	/* Under the lock: the loop may abandon (and free) the job the
	 * moment it is not held. */
	pthread_mutex_lock(&j->lock);
	j->done = true;
	if (!(free_it = j->abandoned)) {
		ssize_t w = write(j->fds[1], &byte, 1);

		(void)w;	/* a full pipe already holds a byte */
	}
	pthread_mutex_unlock(&j->lock);
	if (free_it)
		job_free(j);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The daemon's catalogs */

struct cat {
	struct catalogs		*cs;
	struct config_catalog	 cfg;
	struct catalog_members	 members;
	bool			 have;
	bool			 ok;
	time_t			 last_success, last_attempt;
	char			 error[512];
	struct event		*timer;
	struct job		*job;
	bool			 again;		/* settings changed while a
						   job ran: poll at its end */
	bool			 force;		/* transfer whatever the
						   serial says */
};

struct catalogs {
	struct event_base	*base;
	int			 timeout_ms;
	void			(*changed)(void *, bool);
	void			*arg;
	struct cat		**v;
	size_t			 n;
};

static void	cat_poll(struct cat *);

static void
cat_schedule(struct cat *c, int seconds)
{
	struct timeval	 tv = { seconds, 0 };

	evtimer_add(c->timer, &tv);
}

static void
cat_abandon(struct cat *c)
{
	struct job	*j = c->job;
	bool		 free_it;

	if (j == NULL)
		return;
	c->job = NULL;
	event_free(j->ev);
	j->ev = NULL;
	pthread_mutex_lock(&j->lock);
	j->abandoned = true;
	free_it = j->done;
	if (!free_it)		/* the thread frees the job as it ends */
		pthread_detach(j->tid);
	pthread_mutex_unlock(&j->lock);
	if (free_it) {		/* done, its byte not read: ours to free */
		pthread_join(j->tid, NULL);
		job_free(j);
	}
}

static void
cat_free(struct cat *c)
{
	if (c == NULL)
		return;
	cat_abandon(c);
	if (c->timer != NULL)
		event_free(c->timer);
	catalog_members_finish(&c->members);
	explicit_bzero(&c->cfg, sizeof(c->cfg));
	free(c);
}

/* The summary of a change; run.c names each domain added or removed. */
static void
log_diff(const struct cat *c, const struct catalog_members *old,
    const struct catalog_members *new)
{
	size_t	 i = 0, k = 0, added = 0, removed = 0;
	int	 cmp;

	while (i < old->n || k < new->n) {
		cmp = i == old->n ? 1 : k == new->n ? -1 :
		    strcmp(old->names[i], new->names[k]);
		if (cmp == 0) {
			i++; k++;
		} else if (cmp < 0) {
			removed++; i++;
		} else {
			added++; k++;
		}
	}
	log_info("catalog %s: serial %u, %zu members (%zu added, %zu removed)",
	    c->cfg.zone, new->serial, new->n, added, removed);
}

static bool
same_members(const struct catalog_members *a, const struct catalog_members *b)
{
	return a->n == b->n && (a->n == 0 ||
	    memcmp(a->names, b->names, a->n * sizeof(a->names[0])) == 0);
}

static void
job_done(evutil_socket_t fd, short ev, void *arg)
{
	struct cat	*c = arg;
	struct job	*j = c->job;
	bool		 changed = false, was_ok = c->ok;
	char		 byte;

	(void)ev;
	if (read(fd, &byte, 1) == -1)
		byte = 0;	/* nothing to read: the job says what happened */
	if (j == NULL)
		return;
	c->job = NULL;
	/* The thread may still be unlocking the job's mutex: wait for its
	 * end (it is at its last lines) before freeing the job. */
	pthread_join(j->tid, NULL);
	c->last_attempt = clock_now();
	if (j->status < 0) {
		c->ok = false;
		/* Log a failure when it starts or changes, not every poll. */
		if (was_ok || strcmp(c->error, j->err) != 0)
			log_warnx("catalog %s: %s%s", c->cfg.zone, j->err,
			    c->have ? "; keeping the members of the last "
			    "transfer" : "");
		snprintf(c->error, sizeof(c->error), "%s", j->err);
	} else {
		if (!c->ok && c->error[0] != '\0')
			log_info("catalog %s: transfer from %s works again",
			    c->cfg.zone, c->cfg.primary);
		c->ok = true;
		c->error[0] = '\0';
		c->last_success = c->last_attempt;
		if (j->status == 1) {
			if (!c->have || !same_members(&c->members,
			    &j->members)) {
				log_diff(c, &c->members, &j->members);
				changed = true;
			}
			if (j->members.excess > 0 && (!c->have ||
			    c->members.excess != j->members.excess))
				log_warnx("catalog %s: %zu members more than "
				    "max_members %u are not monitored (the "
				    "alphabetically last ones)", c->cfg.zone,
				    j->members.excess, c->cfg.max_members);
			if (j->members.ignored > 0 && (!c->have ||
			    c->members.ignored != j->members.ignored))
				log_warnx("catalog %s: %zu member nodes ignored "
				    "(several PTR records at one node, a zone "
				    "twice, or a name that needs escapes)",
				    c->cfg.zone, j->members.ignored);
			catalog_members_finish(&c->members);
			c->members = j->members;
			memset(&j->members, 0, sizeof(j->members));
			c->have = true;
		}
	}
	job_free(j);
	if (c->again) {
		c->again = false;
		cat_poll(c);
	} else
		cat_schedule(c, c->cfg.refresh_s);
	c->cs->changed(c->cs->arg, changed);
}

static void
cat_poll(struct cat *c)
{
	struct job	*j;

	if (c->job != NULL)
		return;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto fail;
	j->fds[0] = j->fds[1] = -1;
	pthread_mutex_init(&j->lock, NULL);
	j->cfg = c->cfg;
	j->known_serial = c->members.serial;
	j->have_serial = c->have && !c->force;
	c->force = false;
	j->timeout_ms = c->cs->timeout_ms;
	if (pipe2(j->fds, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (j->ev = event_new(c->cs->base, j->fds[0], EV_READ, job_done,
	    c)) == NULL || event_add(j->ev, NULL) == -1)
		goto fail;
	if ((errno = pthread_create(&j->tid, NULL, job_run, j)) != 0)
		goto fail;
	c->job = j;
	return;
fail:
	log_warnx("catalog %s: cannot start a transfer: %s", c->cfg.zone,
	    strerror(errno));
	job_free(j);
	cat_schedule(c, c->cfg.refresh_s);
}

static void
cat_tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd; (void)ev;
	cat_poll(arg);
}

struct catalogs *
catalogs_create(struct event_base *base, int timeout_ms,
    void (*changed)(void *, bool), void *arg)
{
	struct catalogs	*cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	cs->base = base;
	cs->timeout_ms = timeout_ms;
	cs->changed = changed;
	cs->arg = arg;
	return cs;
}

void
catalogs_destroy(struct catalogs *cs)
{
	size_t	 i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->n; i++)
		cat_free(cs->v[i]);
	free(cs->v);
	free(cs);
}

static bool
same_source(const struct config_catalog *a, const struct config_catalog *b)
{
	return a->addrlen == b->addrlen &&
	    memcmp(&a->addr, &b->addr, a->addrlen) == 0 &&
	    strcmp(a->tsig_name, b->tsig_name) == 0 &&
	    strcmp(a->tsig_alg, b->tsig_alg) == 0 &&
	    strcmp(a->tsig_secret, b->tsig_secret) == 0 &&
	    a->max_members == b->max_members;
}

int
catalogs_configure(struct catalogs *cs, const struct config_catalog *cfg,
    size_t n, int timeout_ms)
{
	struct cat	**v, *c;
	size_t		  i, k;
	bool		  changed = false;

	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < cs->n; k++)
			if (cs->v[k] != NULL &&
			    strcmp(cs->v[k]->cfg.zone, cfg[i].zone) == 0)
				break;
		if (k < cs->n) {
			c = cs->v[k];
			cs->v[k] = NULL;
			if (!same_source(&c->cfg, &cfg[i])) {
				/* Other primary, key or bound: transfer
				 * again whatever the serial says. */
				c->cfg = cfg[i];
				c->force = true;
				if (c->job != NULL)
					c->again = true;
				else {
					evtimer_del(c->timer);
					cat_poll(c);
				}
			} else if (c->cfg.refresh_s != cfg[i].refresh_s) {
				c->cfg = cfg[i];
				if (c->job == NULL)
					cat_schedule(c, c->cfg.refresh_s);
			}
			v[i] = c;
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->timer = evtimer_new(cs->base, cat_tick, c)) == NULL) {
			free(c);
			goto fail;
		}
		c->cs = cs;
		c->cfg = cfg[i];
		v[i] = c;
	}
	/* Removed catalogs: their members go (and their history stays). */
	for (k = 0; k < cs->n; k++)
		if (cs->v[k] != NULL) {
			log_info("catalog %s: removed from the configuration; "
			    "its %zu members are no longer monitored",
			    cs->v[k]->cfg.zone, cs->v[k]->members.n);
			changed = changed || cs->v[k]->members.n > 0;
			cat_free(cs->v[k]);
		}
	free(cs->v);
	cs->v = v;
	cs->n = n;
	cs->timeout_ms = timeout_ms;
	/* New ones: first transfer now. */
	for (i = 0; i < n; i++)
		if (!v[i]->have && v[i]->job == NULL &&
		    !evtimer_pending(v[i]->timer, NULL))
			cat_poll(v[i]);
	if (changed)
		cs->changed(cs->arg, true);
	return 0;
fail:
	/* Put back what was taken; drop what was new. */
	for (i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		for (k = 0; k < cs->n; k++)
			if (cs->v[k] == NULL) {
				cs->v[k] = v[i];
				v[i] = NULL;
				break;
			}
		cat_free(v[i]);
	}
	free(v);
	return -1;
}

void
catalogs_each_member(const struct catalogs *cs,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	size_t	 i, k;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->n; i++)
		for (k = 0; k < cs->v[i]->members.n; k++)
			fn(arg, cs->v[i]->members.names[k], cs->v[i]->cfg.zone);
}

bool
catalogs_settled(const struct catalogs *cs)
{
	size_t	 i;

	if (cs == NULL)
		return true;
	for (i = 0; i < cs->n; i++)
		if (cs->v[i]->last_attempt == 0)
			return false;
	return true;
}

size_t
catalogs_count(const struct catalogs *cs)
{
	return cs == NULL ? 0 : cs->n;
}

void
catalogs_status(const struct catalogs *cs, size_t i, struct catalog_status *st)
{
	const struct cat	*c = cs->v[i];

	memset(st, 0, sizeof(*st));
	st->zone = c->cfg.zone;
	st->primary = c->cfg.primary;
	st->members = c->members.n;
	st->excess = c->members.excess;
	st->ignored = c->members.ignored;
	st->serial = c->members.serial;
	st->have = c->have;
	st->ok = c->ok;
	st->last_success = c->last_success;
	st->last_attempt = c->last_attempt;
	st->error = c->error;
}
