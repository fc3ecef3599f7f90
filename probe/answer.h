/*
 * Reading answers into an observation. Each function takes a reply that
 * the transport accepted (header and question checked, every RR walked:
 * struct transport_msg, the result's view or transport_view_reply()) and
 * copies what matters into caller storage, bounded.
 * Internal to the probe module; the fuzz target drives them directly.
 */
#ifndef DNSSECMON_PROBE_ANSWER_H
#define DNSSECMON_PROBE_ANSWER_H

#include <sys/socket.h>

#include <getdns/getdns.h>

#include "probe/probe.h"
#include "probe/transport.h"

#define REF_MAX_NS	13
#define REF_MAX_GLUE	26

enum referral_kind {
	REF_OTHER = 0,		/* error rcode or an answer we cannot use */
	REF_REFERRAL,		/* NS for the asked name (or below) in authority */
	REF_AUTH_NS,		/* authoritative NS answer: the server hosts it */
	REF_NODATA,		/* authoritative, the name has no NS: not a cut */
	REF_NXDOMAIN
};

struct referral_glue {
	unsigned		ns;	/* index into ns[] */
	struct sockaddr_storage	addr;
	socklen_t		len;
};

/* What a parent-side server said about one name. Caller storage. */
struct referral {
	enum referral_kind	kind;
	int			rcode;
	bool			aa;	/* the answer claims authority */
	char			owner[PROBE_NAME_MAX];	/* of the NS set */
	unsigned		n_ns;
	char			ns[REF_MAX_NS][PROBE_NAME_MAX];
	unsigned		n_glue;
	struct referral_glue	glue[REF_MAX_GLUE];
	bool			has_ds;
	uint32_t		ds_ttl;
	unsigned		n_ds;
	struct probe_ds		ds[PROBE_MAX_DS];
	unsigned		ds_dropped;
	bool			ds_signed;	/* an RRSIG over that DS came */
	bool			denial;	/* NSEC/NSEC3 in authority: no DS */
	char			soa_owner[PROBE_NAME_MAX]; /* NODATA/NXDOMAIN */
};

/*
 * Classify a reply to "NAME NS" (or "NAME DS") asked at a parent-side
 * server; name is lower case without the final dot ("." for the root).
 * DS records for name are collected from answer and authority sections.
 */
void	answer_referral(const struct transport_msg *msg, const char *name,
	    struct referral *out);

/* A reply to DNSKEY from servers[si]: keys, which sign the RRset, RRSIG
 * validity against now. */
void	answer_dnskey(struct probe_result *r, unsigned si,
	    const struct transport_msg *msg, time_t now);
/* A reply to SOA from servers[si]: serial, AA, which keys sign it. */
void	answer_soa(struct probe_result *r, unsigned si,
	    const struct transport_msg *msg, time_t now);
/* Replies to CDS / CDNSKEY from servers[si]. */
void	answer_cds(struct probe_result *r, unsigned si,
	    const struct transport_msg *msg);
void	answer_cdnskey(struct probe_result *r, unsigned si,
	    const struct transport_msg *msg);

/* SHA-256 fingerprint of a DNSKEY/CDNSKEY RDATA; -1 on error. */
int	answer_fingerprint(const uint8_t *rdata, size_t len, uint8_t out[32]);

/* Presentation form of a wire name in a getdns bindata: lower case, no
 * final dot, "." for the root. Returns -1 when malformed. */
int	answer_name(const getdns_bindata *bd, char *out, size_t outlen);

#endif
