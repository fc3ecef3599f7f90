/*
 * `check --format nagios`: the Nagios / Icinga plugin output, after the
 * monitoring-plugins development guidelines.
 *
 *   line 1   DNSSEC WARNING - rollstart.lab: add DS 29291 before
 *            2026-12-08T09:25Z (6d 23h left) | 'ok'=0;;;0;1 ...
 *   then     long output: per domain that needs someone, its problems and
 *            the DS records to add or remove, worst first.
 *
 * The first line carries what a pager shows: the action and its deadline.
 * Nagios core keeps 8 KB of plugin output (MAX_PLUGIN_OUTPUT_LENGTH), so
 * the whole text is built in a bounded buffer: per-domain performance data
 * and long output stop at the budget and say how much was left out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/nagios.h"
#include "common/clock.h"
#include "common/dsmatch.h"

#define OUT_MAX		8000	/* under Nagios core's 8192 */
#define SUMMARY_MAX	400	/* line 1 before the perfdata */
#define PERF_MAX	2400	/* line 1's perfdata */

static const char *label[] = { "OK", "WARNING", "UNKNOWN", "CRITICAL" };

struct buf {
	char	s[OUT_MAX + 1];
	size_t	n;
	size_t	cap;		/* the budget for what is being written */
	bool	full;
};

static bool
bput(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append, or append nothing and say so when it would pass the budget. */
static bool
bput(struct buf *b, const char *fmt, ...)
{
	char	 tmp[1200];
	va_list	 ap;
	int	 k;

	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(tmp) || b->n + (size_t)k > b->cap) {
		b->full = true;
		return false;
	}
	memcpy(b->s + b->n, tmp, (size_t)k + 1);
	b->n += (size_t)k;
	return true;
}

/* "2026-12-08T09:25Z": a deadline to the minute reads at a glance. */
static const char *
short_time(time_t t, char *out, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%MZ",
	    &tm) == 0)
		snprintf(out, len, "%lld", (long long)t);
	return out;
}

static const struct probe_problem *
worst_problem(const struct probe_result *r)
{
	const struct probe_problem	*w = NULL;
	unsigned			 i;

	for (i = 0; i < r->n_problems; i++)
		if (w == NULL || r->problems[i].severity > w->severity)
			w = &r->problems[i];
	return w;
}

/* The first clause of a message (up to ": ", "; ", ". " or " ("; a
 * dot inside a name does not end it), cut at a word and marked when cut. */
static void
clause(const char *msg, char *out, size_t len)
{
	static const char	*ends[] = { ": ", "; ", ". ", " (" };
	size_t			 n = strlen(msg), cut, i;
	const char		*e;

	for (i = 0; i < sizeof(ends) / sizeof(*ends); i++)
		if ((e = strstr(msg, ends[i])) != NULL && (size_t)(e - msg) < n)
			n = (size_t)(e - msg);
	cut = n;
	if (cut > len - 4) {
		cut = len - 4;
		while (cut > 0 && msg[cut] != ' ')
			cut--;
		if (cut == 0)
			cut = len - 4;
	}
	memcpy(out, msg, cut);
	out[cut] = '\0';
	if (cut < n)
		memcpy(out + cut, "...", 4);
}

static unsigned
publish_tag(const struct probe_result *r)
{
	return r->n_publish > 0 ? r->publish[0].key_tag : 0;
}

/* What to do about one domain, in a line: the value of the tool. */
static void
headline(const struct probe_result *r, const struct store_rotation *rot,
    time_t now, char *out, size_t len)
{
	const struct probe_problem	*p = worst_problem(r);
	char				 when[32], left[32], first[160];
	unsigned			 i, tag = 0;

	if (rot != NULL && rot->id != 0 && rot->ds_updated_at == 0 &&
	    rot->registrar_deadline != 0 && rot->kind == STORE_ROT_KSK) {
		long long rest = (long long)rot->registrar_deadline - now;

		short_time(rot->registrar_deadline, when, sizeof(when));
		clock_duration(rest < 0 ? -rest : rest, left, sizeof(left));
		if (rest >= 0)
			snprintf(out, len, "add DS %u before %s (%s left)",
			    rot->new_key_tag, when, left);
		else
			snprintf(out, len, "add DS %u now: the registrar "
			    "deadline %s passed %s ago", rot->new_key_tag,
			    when, left);
		return;
	}
	if (p == NULL || p->severity == PROBE_SEV_OK) {
		snprintf(out, len, "%s, validation %s",
		    probe_state_name(r->state),
		    probe_validation_name(r->validation));
		return;
	}
	for (i = 0; i < r->n_ds; i++)
		if (r->ds[i].stale) {
			tag = r->ds[i].key_tag;
			break;
		}
	switch (p->id) {
	case PROBE_P_SIGNATURE_EXPIRING:
	case PROBE_P_SIGNATURE_EXPIRED:
		if (r->earliest_sig_expiry == 0)
			goto plain;
		short_time(r->earliest_sig_expiry, when, sizeof(when));
		clock_duration(r->earliest_sig_expiry > now ?
		    r->earliest_sig_expiry - now : now - r->earliest_sig_expiry,
		    left, sizeof(left));
		snprintf(out, len, "RRSIGs %s %s (%s %s): the DNS host's signer "
		    "must re-sign", r->earliest_sig_expiry > now ? "expire" :
		    "expired", when, left, r->earliest_sig_expiry > now ?
		    "left" : "ago");
		break;
	case PROBE_P_ROTATION_PENDING:
		snprintf(out, len, "add DS %u at the registrar",
		    publish_tag(r));
		break;
	case PROBE_P_ROTATION_AMBIGUOUS:
		snprintf(out, len, "key %u has no DS and may be new or "
		    "retiring: add its DS only if it is new", publish_tag(r));
		break;
	case PROBE_P_CHAIN_BROKEN:
		if (publish_tag(r) != 0)
			snprintf(out, len, "no DS matches a signing key, "
			    "resolvers SERVFAIL: replace the DS with DS %u",
			    publish_tag(r));
		else
			snprintf(out, len, "no DS matches a signing key, "
			    "resolvers SERVFAIL");
		break;
	case PROBE_P_STALE_DS:
		snprintf(out, len, "remove DS %u at the registrar", tag);
		break;
	case PROBE_P_DS_DIGEST_DEPRECATED:
		if (publish_tag(r) != 0)
			snprintf(out, len, "the only DS is SHA-1: add the "
			    "SHA-256 DS %u at the registrar", publish_tag(r));
		else
			goto plain;
		break;
	case PROBE_P_KEY_ALGORITHM_DEPRECATED:
	case PROBE_P_RSA_KEY_SHORT:
		/* "keys 1, 2 of algorithm 5 (RSASHA1)": the whole fact. */
		snprintf(out, len, "%s: %.*s", p->code, (int)strcspn(p->message,
		    ":"), p->message);
		break;
	default:
	plain:
		clause(p->message, first, sizeof(first));
		snprintf(out, len, "%s: %s", p->code, first);
		break;
	}
}

/* A perfdata label unique over the output: a domain given twice gets
 * "#2". Labels are quoted; a quote inside is doubled (guidelines). */
static void
perf_label(struct probe_result **res, unsigned i, const char *what,
    char *out, size_t len)
{
	unsigned	 k, nth = 1;
	size_t		 o = 0;
	const char	*p;
	char		 name[PROBE_NAME_MAX + 8];

	for (k = 0; k < i; k++)
		if (strcmp(res[k]->domain, res[i]->domain) == 0)
			nth++;
	if (nth > 1)
		snprintf(name, sizeof(name), "%s#%u", res[i]->domain, nth);
	else
		snprintf(name, sizeof(name), "%s", res[i]->domain);
	out[o++] = '\'';
	for (p = name; *p != '\0' && o + 3 < len; p++) {
		if (*p == '\'')
			out[o++] = '\'';
		out[o++] = *p;
	}
	snprintf(out + o, len - o, " %s'", what);
}

static void
perfdata(struct buf *b, struct probe_result **res,
    const struct store_rotation *rot, unsigned n, const unsigned count[4],
    const struct probe_policy *pol, time_t now)
{
	char		 lab[PROBE_NAME_MAX * 2 + 40];
	unsigned	 i, shown = 0;
	bool		 one = n == 1;

	bput(b, " | 'ok'=%u;;;0;%u 'warning'=%u;;;0;%u 'critical'=%u;;;0;%u "
	    "'unknown'=%u;;;0;%u", count[PROBE_SEV_OK], n,
	    count[PROBE_SEV_WARNING], n, count[PROBE_SEV_CRITICAL], n,
	    count[PROBE_SEV_UNKNOWN], n);
	/* Seconds left count down: a range "N:" alerts below N. */
	for (i = 0; i < n && !b->full; i++) {
		const struct probe_result *r = res[i];
		size_t mark = b->n;

		if (rot[i].id != 0 && rot[i].ds_updated_at == 0 &&
		    rot[i].registrar_deadline != 0) {
			if (one)
				snprintf(lab, sizeof(lab), "'registrar_deadline'");
			else
				perf_label(res, i, "registrar_deadline", lab,
				    sizeof(lab));
			bput(b, " %s=%llds;;%ld:", lab,
			    (long long)(rot[i].registrar_deadline - now),
			    pol->critical_before_s);
		}
		if (r->earliest_sig_expiry) {
			if (one)
				snprintf(lab, sizeof(lab), "'sig_expiry'");
			else
				perf_label(res, i, "sig_expiry", lab,
				    sizeof(lab));
			bput(b, " %s=%llds;%d:;%d:;0", lab,
			    (long long)(r->earliest_sig_expiry - now),
			    pol->sig_warning_s, pol->sig_critical_s);
		}
		if (one)
			snprintf(lab, sizeof(lab), "'duration'");
		else
			perf_label(res, i, "duration", lab, sizeof(lab));
		bput(b, " %s=%.3fs;;;0", lab, r->duration_ms / 1000.0);
		if (b->full) {
			b->n = mark;	/* never half a domain */
			b->s[b->n] = '\0';
		} else
			shown++;
	}
	b->full = false;
	if (shown < n)
		bput(b, " 'domains_without_perfdata'=%u;;;0;%u", n - shown, n);
}

static void
long_output(struct buf *b, struct probe_result **res,
    const struct store_rotation *rot, unsigned n, time_t now)
{
	char		 head[512], hex[2 * PROBE_MAX_DIGEST + 1];
	char		 rec[1200];
	unsigned	 i, k, left = 0;
	int		 sev;

	for (sev = PROBE_SEV_CRITICAL; sev > PROBE_SEV_OK; sev--)
		for (i = 0; i < n; i++) {
			const struct probe_result *r = res[i];
			size_t mark = b->n;

			if ((int)r->severity != sev)
				continue;
			if (b->full) {
				left++;
				continue;
			}
			headline(r, &rot[i], now, head, sizeof(head));
			bput(b, "\n%s: %s %s, validation %s: %s", r->domain,
			    probe_severity_name(r->severity),
			    probe_state_name(r->state),
			    probe_validation_name(r->validation), head);
			for (k = 0; k < r->n_problems; k++)
				if (r->problems[k].severity != PROBE_SEV_OK)
					bput(b, "\n  %s %s: %s",
					    probe_problem_severity_name(
					    r->problems[k].severity),
					    r->problems[k].code,
					    r->problems[k].message);
			for (k = 0; k < r->n_publish; k++) {
				const struct probe_ds *d = &r->publish[k];

				if (dsmatch_ds_record(r->domain, d->key_tag,
				    d->algorithm, d->digest_type, d->digest,
				    d->digest_len, rec, sizeof(rec)) == 0)
					bput(b, "\n  %s %s", r->rotation_ambiguous
					    ? "publish? (only if its key is new)"
					    : "publish", rec);
			}
			for (k = 0; k < r->n_ds; k++) {
				const struct probe_ds *d = &r->ds[k];

				if (!d->stale)
					continue;
				dsmatch_hex_upper(d->digest, d->digest_len,
				    hex, sizeof(hex));
				bput(b, "\n  remove %s. IN DS %u %u %u %s",
				    r->domain, d->key_tag, d->algorithm,
				    d->digest_type, hex);
			}
			if (b->full) {
				b->n = mark;
				b->s[b->n] = '\0';
				left++;
			}
		}
	if (left > 0) {
		b->full = false;
		b->cap = OUT_MAX;
		bput(b, "\n(%u more domains that need someone are not shown: "
		    "Nagios keeps 8 KB; see dnssecmon check --format text)",
		    left);
	}
}

void
nagios_print(FILE *out, struct probe_result **res,
    const struct store_rotation *rot, unsigned n, enum probe_severity worst,
    const struct probe_policy *pol)
{
	static struct buf	 b;
	char			 head[512];
	unsigned		 i, count[4] = { 0 }, bad, listed = 0;
	time_t			 now = clock_now();
	int			 sev;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < n; i++)
		count[res[i]->severity]++;
	bad = n - count[PROBE_SEV_OK];
	b.cap = SUMMARY_MAX;
	bput(&b, "DNSSEC %s - ", label[worst]);
	if (n == 1 || bad == 1) {
		for (i = 0; i < n; i++)
			if (n == 1 || res[i]->severity != PROBE_SEV_OK)
				break;
		headline(res[i], &rot[i], now, head, sizeof(head));
		bput(&b, "%s: %s", res[i]->domain, head);
		if (n > 1)
			bput(&b, "; %u of %u domains OK", count[PROBE_SEV_OK],
			    n);
	} else if (bad == 0)
		bput(&b, "%u domains OK", n);
	else {
		bput(&b, "%u of %u domains need attention", bad, n);
		for (sev = PROBE_SEV_CRITICAL; sev > PROBE_SEV_OK; sev--)
			for (i = 0; i < n; i++) {
				if ((int)res[i]->severity != sev)
					continue;
				headline(res[i], &rot[i], now, head,
				    sizeof(head));
				if (!b.full && bput(&b, "%s %s: %s",
				    listed ? ";" : ":", res[i]->domain, head))
					listed++;
			}
		b.full = false;
		if (listed < bad)
			bput(&b, "; +%u more", bad - listed);
	}
	b.cap = b.n + PERF_MAX;
	perfdata(&b, res, rot, n, count, pol, now);
	b.full = false;
	b.cap = OUT_MAX - 200;	/* room for the "not shown" line */
	if (n > 1 || bad > 0)
		long_output(&b, res, rot, n, now);
	fprintf(out, "%s\n", b.s);
}

void
nagios_unknown(const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("DNSSEC UNKNOWN - %s\n", msg);
}
