/*
 * The verdict's vocabulary, in one place: rotation states, severities and
 * every problem code with what it means for alerting.
 *
 * Producers name a problem by its enum; consumers (alerts, exporters,
 * the CLI, the man page) read the table. A code is a stable interface:
 * history, alert rules and users' scripts key on it, so a code is never
 * renamed, only added.
 *
 * "Resolved by" answers: could a check that did not report the problem
 * have seen it? Absence from a check that could not is no evidence that
 * the problem went away (an unreachable server says nothing about keys,
 * a validator with no answer nothing about validation).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "probe/probe.h"

#define W	PROBE_SEV_WARNING
#define C	PROBE_SEV_CRITICAL
#define U	PROBE_SEV_UNKNOWN
#define N	PROBE_SEV_OK

#define ANY	PROBE_RESOLVE_ANY_CHECK
#define ZONE	PROBE_RESOLVE_ZONE_READ
#define VAL	PROBE_RESOLVE_VALIDATED
#define SEC	PROBE_RESOLVE_SECURE_AGAIN
#define TCP	PROBE_RESOLVE_TCP_ASKED
#define PARENTS	PROBE_RESOLVE_EVERY_PARENT

/* Order: by the enum. The test suite checks that every enum value has its
 * row, that codes are unique, and that dnssecmon(8) lists each one. */
static const struct probe_problem_def defs[PROBE_P__COUNT] = {
#define P(id, code, sev, once, res, meaning) \
	[id] = { id, code, sev, once, res, id, meaning }
#define PA(id, code, sev, once, res, as, meaning) \
	[id] = { id, code, sev, once, res, as, meaning }
	/* Reaching the domain at all. */
	P(PROBE_P_INVALID_NAME, "invalid_name", U, false, ANY,
	    "the configured name is not a valid domain name"),
	P(PROBE_P_PARENT_UNREACHABLE, "parent_unreachable", U, false, ANY,
	    "no server of the parent zone answered: the DS cannot be checked"),
	P(PROBE_P_NOT_DELEGATED, "not_delegated", C, false, ANY,
	    "the parent does not delegate the domain"),
	P(PROBE_P_NO_SERVER_ANSWERS, "no_server_answers", C, false, ANY,
	    "none of the domain's name servers answered"),
	P(PROBE_P_NO_SERVERS, "no_servers", C, false, ANY,
	    "no usable name server address for the domain"),
	P(PROBE_P_OBSERVATION_TRUNCATED, "observation_truncated", W, false,
	    ANY, "more records than the monitor keeps: the verdict may be "
	    "incomplete"),
	P(PROBE_P_STORE_ERROR, "store_error", U, false, ANY,
	    "history could not be read or the check not recorded: "
	    "deadlines are not tracked"),
	P(PROBE_P_MONITOR_ERROR, "monitor_error", U, false, ANY,
	    "the monitor itself failed during the check (out of memory, no "
	    "free socket): the check may be incomplete, and what it says of "
	    "the servers may be the monitor's fault"),

	/* The chain of trust and the key rotation. */
	P(PROBE_P_DS_MISSING, "ds_missing", N, false, ZONE,
	    "the zone is signed but the parent has no DS: the DS to add"),
	P(PROBE_P_CHAIN_BROKEN, "chain_broken", C, true, ZONE,
	    "no DS matches a key that signs the DNSKEY RRset: validating "
	    "resolvers answer SERVFAIL"),
	P(PROBE_P_ROTATION_PENDING, "rotation_pending", W, false, ZONE,
	    "a new key signs the DNSKEY RRset but the parent has no DS for "
	    "it: the DS to add at the registrar"),
	P(PROBE_P_ROTATION_AMBIGUOUS, "rotation_ambiguous", W, false, ZONE,
	    "a signing key has no DS and neither CDS nor history tells whether "
	    "it is new or retiring: both readings, no countdown"),
	PA(PROBE_P_ROTATION_DEADLINE, "rotation_deadline", W, false, ZONE,
	    PROBE_P_ROTATION_PENDING,
	    "the registrar deadline of a pending KSK rotation and the time "
	    "left; critical inside critical_before (alerts as "
	    "rotation_pending)"),
	P(PROBE_P_OLD_KEY_PUBLISHED, "old_key_published", N, false, ZONE,
	    "the DS points at the new key; the old key may go once the old "
	    "DS has left caches"),
	P(PROBE_P_STALE_DS, "stale_ds", W, false, ZONE,
	    "the parent holds a DS for a key the zone no longer publishes: "
	    "the DS to remove"),
	P(PROBE_P_DS_ALGORITHM_MISMATCH, "ds_algorithm_mismatch", W, false,
	    ZONE, "a DS names an algorithm no DNSKEY uses (critical when "
	    "the chain is broken)"),
	P(PROBE_P_DS_DIGEST_DEPRECATED, "ds_digest_deprecated", W, false,
	    ZONE, "a DS uses a deprecated digest (SHA-1, GOST): the SHA-256 "
	    "DS to add, then the old one to remove (a note when a SHA-256 DS "
	    "for the key stands beside it)"),
	P(PROBE_P_KEY_ALGORITHM_DEPRECATED, "key_algorithm_deprecated", W,
	    false, ZONE, "a DNSKEY uses an algorithm that must no longer sign "
	    "(1, 3, 5, 6, 7, 12): roll the zone to algorithm 13 or 8"),
	P(PROBE_P_RSA_KEY_SHORT, "rsa_key_short", W, false, ZONE,
	    "an RSA key is under 2048 bits: replace it at its next rollover "
	    "(a note for a ZSK, a warning for a key that signs the DNSKEY "
	    "RRset)"),
	P(PROBE_P_TTL_EXCEEDS_WINDOW, "ttl_exceeds_window", W, false, ZONE,
	    "a KSK rotation is pending and the DNSKEY TTL plus the DS TTL "
	    "leave less than critical_before of the rotation window to act"),
	P(PROBE_P_DS_BOOTSTRAP_READY, "ds_bootstrap_ready", N, false, ZONE,
	    "a signed zone without DS publishes CDS and a validated RFC 9615 "
	    "signal under every name server: a parent can add the DS itself"),
	P(PROBE_P_DS_BOOTSTRAP_INCOMPLETE, "ds_bootstrap_incomplete", N, false,
	    ZONE, "a signed zone without DS cannot be bootstrapped "
	    "automatically: which CDS or RFC 9615 signals are missing"),
	P(PROBE_P_ZSK_ROTATION, "zsk_rotation", N, false, ZONE,
	    "a ZSK is published but not signing: a ZSK rotation at the DNS "
	    "host, nothing to do at the registrar"),
	P(PROBE_P_INSECURE, "insecure", W, false, ZONE,
	    "no DS at the parent, reported only when insecure_is_problem "
	    "is set"),
	P(PROBE_P_HOST_DS_MISMATCH, "host_ds_mismatch", W, false, ZONE,
	    "the DS a DNS host announced by webhook matches no key the zone "
	    "publishes: do not copy it to the registrar"),
	P(PROBE_P_PARENT_DS_DISAGREE, "parent_ds_disagree", W, false, PARENTS,
	    "the parent's servers do not all serve the same DS RRset: the "
	    "DS change has not reached every one of them yet"),
	P(PROBE_P_PARENT_DS_BROKEN, "parent_ds_broken", C, true, PARENTS,
	    "some parent servers serve no DS that matches a key signing the "
	    "DNSKEY RRset (the old key went before its DS left them): "
	    "resolvers that ask them fail the domain now"),
	P(PROBE_P_PARENT_DS_UNSIGNED, "parent_ds_unsigned", W, false, PARENTS,
	    "some parent servers serve the DS without the RRSIG the others "
	    "send: validating resolvers that ask them cannot validate it"),

	/* CDS / CDNSKEY. */
	P(PROBE_P_CDS_DELETE, "cds_delete", W, false, ZONE,
	    "the zone asks the parent to remove every DS (CDS 0 0 0 00)"),
	P(PROBE_P_CDS_UNKNOWN_KEY, "cds_unknown_key", W, false, ZONE,
	    "a CDS names a key the zone does not publish"),
	P(PROBE_P_CDS_MISMATCH, "cds_mismatch", W, false, ZONE,
	    "the zone's CDS and the parent's DS differ outside a rotation"),
	P(PROBE_P_CDS_SERVERS_DISAGREE, "cds_servers_disagree", W, false,
	    ZONE, "the servers publish different CDS/CDNSKEY sets: registries "
	    "that scan CDS act only when every server agrees"),
	P(PROBE_P_CDS_CDNSKEY_MISMATCH, "cds_cdnskey_mismatch", W, false,
	    ZONE, "CDS and CDNSKEY describe different keys: registries that "
	    "read both cancel the update"),
	P(PROBE_P_CDS_SIGNER_NOT_IN_DS, "cds_signer_not_in_ds", W, false,
	    ZONE, "the CDS RRset is not signed by a key the current DS "
	    "covers: registries ignore it"),
	P(PROBE_P_CDS_BREAKS_CHAIN, "cds_breaks_chain", W, false, ZONE,
	    "a DS set built from the CDS would point at no key that signs "
	    "the DNSKEY RRset everywhere (critical where the parent applies "
	    "CDS itself)"),
	P(PROBE_P_CDS_BOGUS, "cds_bogus", W, false, ZONE,
	    "the CDS/CDNSKEY looks right by key tag and algorithm but fails "
	    "the cryptographic check: a CDS digest matches no published key, "
	    "the key it names has no RRSIG over the DNSKEY RRset that "
	    "verifies, or the RRSIG over the CDS by a key the DS covers does "
	    "not verify (critical where the parent applies CDS itself)"),
	P(PROBE_P_CDS_UNREACHABLE, "cds_unreachable", W, false, ZONE,
	    "a server answered DNSKEY and SOA but not CDS/CDNSKEY (asked over "
	    "TCP, as registries' scanners ask, on the checks that use TCP)"),
	P(PROBE_P_MULTI_SIGNER_ZSK_MISSING, "multi_signer_zsk_missing", W,
	    false, ZONE, "multi-signer: a provider's DNSKEY RRset lacks a ZSK "
	    "another provider signs with"),
	P(PROBE_P_MULTI_SIGNER_DS_MISSING, "multi_signer_ds_missing", C,
	    false, ZONE, "multi-signer: no DS covers a key that signs a "
	    "provider's DNSKEY RRset: resolvers asking it fail"),

	/* Signatures. */
	P(PROBE_P_SIGNATURE_EXPIRED, "signature_expired", C, true, ZONE,
	    "a server serves expired RRSIGs"),
	P(PROBE_P_SIGNATURE_NOT_YET_VALID, "signature_not_yet_valid", C,
	    false, ZONE, "a server serves RRSIGs whose inception is in the "
	    "future"),
	P(PROBE_P_SIGNATURE_EXPIRING, "signature_expiring", W, false, ZONE,
	    "RRSIGs expire within sig_warning (critical within "
	    "sig_critical): re-signing has stalled"),

	/* Denial of existence (NXDOMAIN / NODATA proofs). */
	P(PROBE_P_DENIAL_BOGUS, "denial_bogus", C, false, ZONE,
	    "a server's proof that a name or type does not exist does not "
	    "validate: resolvers SERVFAIL on mistyped names (warning when "
	    "only some servers)"),
	P(PROBE_P_NSEC3_ITERATIONS, "nsec3_iterations", W, false, ZONE,
	    "NSEC3 with extra iterations (RFC 9276: 0); above 150 BIND, "
	    "unbound and PowerDNS treat the proofs as insecure"),
	P(PROBE_P_NSEC3_SALT, "nsec3_salt", N, false, ZONE,
	    "NSEC3 with a salt, which RFC 9276 advises against"),
	P(PROBE_P_NSEC3_OPT_OUT, "nsec3_opt_out", N, false, ZONE,
	    "NSEC3 opt-out: unsigned delegations can be added or forged "
	    "(RFC 9276: only for very large zones)"),

	/* Algorithm rollovers (RFC 6781 4.1.4, timing RFC 7583). */
	P(PROBE_P_ALGORITHM_ROLLOVER, "algorithm_rollover_stage", N, false, ZONE,
	    "the zone is moving from one algorithm to another: the stage "
	    "reached, since when, the next step, from when it is safe and by "
	    "when it is due (a warning once a stage outlasts "
	    "rotation_window: stalled)"),
	P(PROBE_P_ALGORITHM_ROLLOVER_ORDER, "algorithm_rollover_order", C,
	    false, ZONE, "an algorithm rollover step came too early: the DS "
	    "names the new algorithm before it signs everything, or the old "
	    "signatures went while the DS names the old algorithm (warning "
	    "while the other DS still holds the chain)"),

	/* The domain's servers. */
	P(PROBE_P_SERVER_UNREACHABLE, "server_unreachable", W, false, ZONE,
	    "a name server address did not answer"),
	P(PROBE_P_SERVER_FAMILY_UNREACHABLE, "server_family_unreachable", W,
	    false, ZONE, "a name server answers over one IP family only "
	    "(IPv4 or IPv6, named): resolvers on the other family cannot "
	    "use it"),
	P(PROBE_P_SERVER_TCP_FAILED, "server_tcp_failed", W, false, TCP,
	    "a name server answers over UDP but not over TCP: truncated "
	    "answers and registries' TCP-only CDS scanners fail there"),
	P(PROBE_P_DNSKEY_ANSWER_LARGE, "dnskey_answer_large", W, false, ZONE,
	    "the DNSKEY answer came over UDP in more than 1232 bytes (IP "
	    "fragments, which some paths drop); or outgrows 1232 bytes "
	    "during a KSK rotation: a note while every server answers it "
	    "over TCP, a warning when one does not"),
	P(PROBE_P_LAME_DELEGATION, "lame_delegation", W, false, ZONE,
	    "a listed name server does not answer authoritatively"),
	P(PROBE_P_PARENT_LAME, "parent_lame", U, false, ANY,
	    "the parent zone's servers answered, but none with authority "
	    "(lame, REFUSED, or a negative answer from another zone): no "
	    "verdict on the domain"),
	P(PROBE_P_DNS_INTERCEPTED, "dns_intercepted", U, false, ANY,
	    "the monitor's network intercepts DNS: the root's servers do "
	    "not answer as the root; no domain gets a verdict until it "
	    "stops"),
	P(PROBE_P_SERVERS_DISAGREE, "servers_disagree", W, false, ZONE,
	    "name servers serve different DNSKEY sets"),
	P(PROBE_P_SERIAL_MISMATCH, "serial_mismatch", W, false, ZONE,
	    "name servers serve different SOA serials"),

	/* Validation, in-process and through each resolver. */
	P(PROBE_P_VALIDATION_BOGUS, "validation_bogus", C, true, VAL,
	    "DNSSEC validation fails: validating resolvers answer SERVFAIL"),
	P(PROBE_P_VALIDATION_INDETERMINATE, "validation_indeterminate", U,
	    false, ANY, "the validator reached no verdict: check the "
	    "monitor's trust anchor, root hints and network"),
	P(PROBE_P_VALIDATION_INSECURE, "validation_insecure", W, false, VAL,
	    "DS records exist but the domain validates as insecure"),
	P(PROBE_P_BECAME_INSECURE, "became_insecure", W, true, SEC,
	    "validated as secure before, insecure now: DNSSEC was turned "
	    "off"),
	P(PROBE_P_RESOLVER_UNREACHABLE, "resolver_unreachable", W, false,
	    ANY, "a configured resolver did not answer"),
	P(PROBE_P_RESOLVER_SERVFAIL, "resolver_servfail", W, false, VAL,
	    "a resolver answers SERVFAIL although the chain validates"),
	P(PROBE_P_RESOLVER_NOT_VALIDATING, "resolver_not_validating", W,
	    false, VAL, "a resolver answers without AD although the chain "
	    "validates"),

	/* Bounded waits (issue 15). */
	P(PROBE_P_VALIDATION_TIMEOUT, "validation_timeout", U, false, VAL,
	    "the validator reached no verdict within the monitor's guard "
	    "(timeout doubled over the retries): warning when name servers "
	    "of the domain do not answer, else unknown"),
#undef P
#undef PA
};

const struct probe_problem_def *
probe_problem_def(enum probe_code id)
{
	if ((unsigned)id >= PROBE_P__COUNT)
		return NULL;
	return &defs[id];
}

const struct probe_problem_def *
probe_problem_find(const char *code)
{
	unsigned	 i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < PROBE_P__COUNT; i++)
		if (defs[i].code != NULL && strcmp(defs[i].code, code) == 0)
			return &defs[i];
	return NULL;
}

const char *
probe_problem_code(enum probe_code id)
{
	const struct probe_problem_def *d = probe_problem_def(id);

	return d != NULL ? d->code : "unknown";
}

static void
problem_vadd(struct probe_result *r, enum probe_code id,
    enum probe_severity sev, const char *fmt, va_list ap)
{
	struct probe_problem	*p;

	if (sev > r->severity)
		r->severity = sev;
	if (r->n_problems >= PROBE_MAX_PROBLEMS) {
		r->problems_dropped++;
		return;
	}
	p = &r->problems[r->n_problems++];
	p->id = id;
	p->code = probe_problem_code(id);
	p->severity = sev;
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
}

void
probe_problem_add(struct probe_result *r, enum probe_code id,
    const char *fmt, ...)
{
	const struct probe_problem_def	*d = probe_problem_def(id);
	va_list				 ap;

	va_start(ap, fmt);
	problem_vadd(r, id, d != NULL ? d->severity : PROBE_SEV_UNKNOWN, fmt,
	    ap);
	va_end(ap);
}

void
probe_problem_add_sev(struct probe_result *r, enum probe_code id,
    enum probe_severity sev, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	problem_vadd(r, id, sev, fmt, ap);
	va_end(ap);
}

bool
probe_has_problem(const struct probe_result *r, enum probe_code id)
{
	unsigned	 i;

	for (i = 0; i < r->n_problems; i++)
		if (r->problems[i].id == id)
			return true;
	return false;
}

bool
probe_problem_resolvable(const char *code, const struct probe_result *r)
{
	const struct probe_problem_def *d = probe_problem_find(code);

	if (d == NULL)
		/* A code this version no longer makes: any check that
		 * read the zone is the word on it. */
		return r->state != PROBE_STATE_UNKNOWN;
	/* Behind an intercepting network nothing about the domain was
	 * seen: no problem of it can have gone, only the interception. */
	if (r->intercepted)
		return d->id == PROBE_P_DNS_INTERCEPTED ||
		    d->id == PROBE_P_STORE_ERROR;
	switch (d->resolved_by) {
	case PROBE_RESOLVE_ANY_CHECK:
		return true;
	case PROBE_RESOLVE_VALIDATED:
		return r->validation != PROBE_VAL_INDETERMINATE;
	case PROBE_RESOLVE_SECURE_AGAIN:
		/* An event, not a condition: it stays while the domain
		 * stays insecure. */
		return r->validation == PROBE_VAL_SECURE ||
		    r->validation == PROBE_VAL_BOGUS;
	case PROBE_RESOLVE_TCP_ASKED:
		for (unsigned i = 0; i < r->n_servers; i++)
			if (r->servers[i].tcp_status != PROBE_Q_NONE)
				return r->state != PROBE_STATE_UNKNOWN;
		return false;
	case PROBE_RESOLVE_EVERY_PARENT:
		/* One parent server agrees with itself: only a check that
		 * asked them all can say they agree now. */
		return r->every_parent && r->parent_status == PROBE_Q_OK;
	case PROBE_RESOLVE_ZONE_READ:
	default:
		return r->state != PROBE_STATE_UNKNOWN;
	}
}

const char *
probe_problem_alert_code(const char *code)
{
	const struct probe_problem_def *d = probe_problem_find(code);

	return d != NULL ? defs[d->alert_as].code : code;
}

const char *
probe_resolve_name(enum probe_resolve r)
{
	switch (r) {
	case PROBE_RESOLVE_ANY_CHECK:	return "any check";
	case PROBE_RESOLVE_VALIDATED:	return "a check with a validation "
					    "verdict";
	case PROBE_RESOLVE_SECURE_AGAIN: return "a check that validates "
					    "secure (or bogus) again";
	case PROBE_RESOLVE_TCP_ASKED:	return "a check that asked over TCP";
	case PROBE_RESOLVE_EVERY_PARENT: return "a check that asked every "
					    "parent server";
	default:			return "a check that read the zone";
	}
}

json_t *
probe_problem_json(const char *code, enum probe_severity sev,
    const char *message)
{
	return json_pack("{s:s, s:s, s:s}", "code", code, "severity",
	    probe_problem_severity_name(sev), "message", message);
}

json_t *
probe_problems_json(const struct probe_result *r)
{
	json_t		*a;
	unsigned	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < r->n_problems; i++)
		json_array_append_new(a, probe_problem_json(r->problems[i].code,
		    r->problems[i].severity, r->problems[i].message));
	return a;
}

/* ------------------------------------------------ states, severities */

const char *
probe_multi_name(enum probe_multi m)
{
	switch (m) {
	case PROBE_MULTI_CONFIGURED:
		return "configured";
	case PROBE_MULTI_DETECTED:
		return "detected";
	default:
		return "none";
	}
}

const char *
probe_validation_name(enum probe_validation v)
{
	switch (v) {
	case PROBE_VAL_SECURE:		return "secure";
	case PROBE_VAL_INSECURE:	return "insecure";
	case PROBE_VAL_BOGUS:		return "bogus";
	default:			return "indeterminate";
	}
}

enum probe_alg_stage
probe_alg_stage_from_name(const char *name)
{
	int	 st;

	for (st = PROBE_ALG_SIGNATURES_ADDED; st <= PROBE_ALG_UNCLEAR; st++)
		if (strcmp(name, probe_alg_stage_name(
		    (enum probe_alg_stage)st)) == 0)
			return (enum probe_alg_stage)st;
	return PROBE_ALG_NONE;
}

const char *
probe_alg_stage_name(enum probe_alg_stage st)
{
	switch (st) {
	case PROBE_ALG_SIGNATURES_ADDED:	return "signatures_added";
	case PROBE_ALG_KEYS_PUBLISHED:		return "keys_published";
	case PROBE_ALG_DS_SWAPPED:		return "ds_swapped";
	case PROBE_ALG_OLD_KEYS_REMOVED:	return "old_keys_removed";
	case PROBE_ALG_OLD_DS_LINGERS:		return "old_ds_lingers";
	case PROBE_ALG_UNCLEAR:			return "unclear";
	default:				return "none";
	}
}

const char *
probe_denial_name(enum probe_denial d)
{
	switch (d) {
	case PROBE_DENIAL_NSEC:		return "nsec";
	case PROBE_DENIAL_NSEC3:	return "nsec3";
	case PROBE_DENIAL_MISSING:	return "missing";
	default:			return "none";
	}
}

const char *
probe_state_name(enum probe_state s)
{
	switch (s) {
	case PROBE_STATE_STABLE:		return "stable";
	case PROBE_STATE_ROTATION_PENDING:	return "rotation_pending";
	case PROBE_STATE_DS_UPDATED:		return "ds_updated";
	case PROBE_STATE_STALE_DS:		return "stale_ds";
	case PROBE_STATE_BROKEN:		return "broken";
	case PROBE_STATE_INSECURE:		return "insecure";
	default:				return "unknown";
	}
}

/* What a state alone says; problems can only make it worse. */
enum probe_severity
probe_state_severity(enum probe_state s)
{
	switch (s) {
	case PROBE_STATE_ROTATION_PENDING:
	case PROBE_STATE_STALE_DS:
		return PROBE_SEV_WARNING;
	case PROBE_STATE_BROKEN:
		return PROBE_SEV_CRITICAL;
	case PROBE_STATE_UNKNOWN:
		return PROBE_SEV_UNKNOWN;
	default:
		return PROBE_SEV_OK;
	}
}

const char *
probe_severity_name(enum probe_severity s)
{
	switch (s) {
	case PROBE_SEV_OK:		return "ok";
	case PROBE_SEV_WARNING:		return "warning";
	case PROBE_SEV_CRITICAL:	return "critical";
	default:			return "unknown";
	}
}

const char *
probe_signal_status_name(enum probe_signal_status s)
{
	switch (s) {
	case PROBE_SIG_SECURE:		return "secure";
	case PROBE_SIG_NODATA:		return "nodata";
	case PROBE_SIG_INSECURE:	return "insecure";
	case PROBE_SIG_BOGUS:		return "bogus";
	case PROBE_SIG_FAILED:		return "failed";
	case PROBE_SIG_IN_DOMAIN:	return "in_domain";
	case PROBE_SIG_TOO_LONG:	return "too_long";
	default:			return "not_asked";
	}
}

const char *
probe_qstatus_name(enum probe_qstatus q)
{
	switch (q) {
	case PROBE_Q_OK:	return "ok";
	case PROBE_Q_TIMEOUT:	return "timeout";
	case PROBE_Q_NETERR:	return "network error";
	case PROBE_Q_MALFORMED:	return "malformed answer";
	default:		return "not asked";
	}
}
