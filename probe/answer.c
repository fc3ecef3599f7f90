/*
 * Copying facts out of replies, read from the wire where the transport's
 * walk found each RR (struct transport_msg): no second parse. What is left
 * is choosing records by owner and type, reading fixed rdata fields, and
 * keeping every copy inside the fixed arrays of struct probe_result.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <getdns/getdns_extra.h>

#include "common/addr.h"
#include "common/dsmatch.h"
#include "probe/answer.h"

#define T_A		1
#define T_NS		2
#define T_SOA		6
#define T_AAAA		28
#define T_DS		43
#define T_RRSIG		46
#define T_NSEC		47
#define T_DNSKEY	48
#define T_NSEC3		50
#define T_CDS		59
#define T_CDNSKEY	60

int
answer_name(const getdns_bindata *bd, char *out, size_t outlen)
{
	char	 tmp[DSMATCH_NAME_STRLEN];
	size_t	 n, i;

	if (bd == NULL || dsmatch_wire_to_name(bd->data, bd->size, tmp,
	    sizeof(tmp)) == -1)
		return -1;
	n = strlen(tmp);
	if (n > 1 && tmp[n - 1] == '.')
		tmp[--n] = '\0';
	if (n + 1 > outlen)
		return -1;
	for (i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)tmp[i]);
	return 0;
}

/*
 * The name at off in the message, uncompressed into out (wire form, at
 * most 255 bytes). The transport's walk has checked every name it hands
 * on (backward pointers only, inside the message, 255 bytes at most);
 * the bounds are checked again so this never depends on that.
 */
static int
wire_name(const struct transport_msg *m, size_t off, uint8_t *out,
    size_t *outlen)
{
	size_t		 n = 0, hops = 0;
	const uint8_t	*w = m->wire;

	for (;;) {
		uint8_t	 c;

		if (off >= m->len)
			return -1;
		c = w[off];
		if ((c & 0xC0) == 0xC0) {
			if (off + 1 >= m->len || ++hops > 127)
				return -1;
			off = (size_t)(c & 0x3F) << 8 | w[off + 1];
			continue;
		}
		if (c & 0xC0)
			return -1;
		if (n + c + 1 > 255 || off + c + 1 > m->len)
			return -1;
		memcpy(out + n, w + off, (size_t)c + 1);
		n += (size_t)c + 1;
		if (c == 0)
			break;
		off += (size_t)c + 1;
	}
	*outlen = n;
	return 0;
}

/* Presentation form of the name at off: lower case, no final dot. */
static int
msg_name(const struct transport_msg *m, size_t off, char *out, size_t len)
{
	uint8_t		 wn[256];
	getdns_bindata	 bd;
	size_t		 n;

	if (wire_name(m, off, wn, &n) == -1)
		return -1;
	bd.size = n;
	bd.data = wn;
	return answer_name(&bd, out, len);
}

/* Past the (possibly compressed) name at *off, inside [*off, end). */
static int
skip_name(const struct transport_msg *m, size_t *off, size_t end)
{
	size_t	 p = *off;

	while (p < end) {
		uint8_t	 c = m->wire[p];

		if ((c & 0xC0) == 0xC0) {
			if (p + 2 > end)
				return -1;
			*off = p + 2;
			return 0;
		}
		if (c & 0xC0)
			return -1;
		p += (size_t)c + 1;
		if (c == 0) {
			if (p > end)
				return -1;
			*off = p;
			return 0;
		}
	}
	return -1;
}

static bool
rr_owner_is(const struct transport_msg *m, const struct transport_rr *rr,
    const char *name)
{
	char	 owner[PROBE_NAME_MAX];

	return msg_name(m, rr->owner, owner, sizeof(owner)) == 0 &&
	    strcmp(owner, name) == 0;
}

static const uint8_t *
rdata(const struct transport_msg *m, const struct transport_rr *rr)
{
	return m->wire + rr->rdata;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The RRSIG fields read here: the fixed part is 18 bytes. */
#define RRSIG_FIXED	18

static uint16_t
sig_covered(const struct transport_msg *m, const struct transport_rr *rr)
{
	return rr->rdlen >= RRSIG_FIXED ? rd16(rdata(m, rr)) : 0;
}

static int
header_rcode(const struct transport_msg *m)
{
	return m->wire[3] & 0x0F;
}

static bool
header_aa(const struct transport_msg *m)
{
	return (m->wire[2] & 0x04) != 0;
}

/* Fill a probe_ds from a DS or CDS record; -1 when unusable. */
static int
ds_from_rr(const struct transport_msg *m, const struct transport_rr *rr,
    struct probe_ds *d)
{
	const uint8_t	*p = rdata(m, rr);

	memset(d, 0, sizeof(*d));
	d->key = -1;
	if (rr->rdlen < 4 || rr->rdlen - 4 > PROBE_MAX_DIGEST)
		return -1;
	d->key_tag = rd16(p);
	d->algorithm = p[2];
	d->digest_type = p[3];
	memcpy(d->digest, p + 4, rr->rdlen - 4u);
	d->digest_len = (uint8_t)(rr->rdlen - 4);
	return 0;
}

static bool
ds_same(const struct probe_ds *a, const struct probe_ds *b)
{
	return a->key_tag == b->key_tag && a->algorithm == b->algorithm &&
	    a->digest_type == b->digest_type &&
	    a->digest_len == b->digest_len &&
	    memcmp(a->digest, b->digest, a->digest_len) == 0;
}

/* Glue address for one of the NS names, if it is one. */
static void
add_glue(struct referral *out, const struct transport_msg *m,
    const struct transport_rr *rr)
{
	char			 owner[PROBE_NAME_MAX];
	struct referral_glue	*g;
	unsigned		 i;

	if (rr->rdlen != (rr->type == T_A ? 4u : 16u) ||
	    msg_name(m, rr->owner, owner, sizeof(owner)) == -1)
		return;
	for (i = 0; i < out->n_ns; i++) {
		if (strcmp(out->ns[i], owner) != 0)
			continue;
		if (out->n_glue >= REF_MAX_GLUE)
			return;
		g = &out->glue[out->n_glue++];
		memset(g, 0, sizeof(*g));
		g->ns = i;
		/* The size was checked against the type above. */
		(void)addr_from_rdata(rdata(m, rr), rr->rdlen, 53, &g->addr,
		    &g->len);
		return;
	}
}

/* The NS names owned by `owner` in one section. */
static void
collect_ns(struct referral *out, const struct transport_msg *m,
    unsigned section, const char *owner)
{
	const struct transport_rr	*rr;
	char				 nsname[PROBE_NAME_MAX];
	unsigned			 i, j;

	for (i = 0; i < m->n_rr; i++) {
		rr = &m->rr[i];
		if (rr->section != section || rr->type != T_NS ||
		    !rr_owner_is(m, rr, owner))
			continue;
		if (msg_name(m, rr->rdata, nsname, sizeof(nsname)) == -1)
			continue;
		for (j = 0; j < out->n_ns; j++)
			if (strcmp(out->ns[j], nsname) == 0)
				break;
		if (j < out->n_ns || out->n_ns >= REF_MAX_NS)
			continue;
		snprintf(out->ns[out->n_ns++], PROBE_NAME_MAX, "%s", nsname);
	}
}

/* RRs of a section. */
static unsigned
section_count(const struct transport_msg *m, unsigned section)
{
	unsigned	 i, n = 0;

	for (i = 0; i < m->n_rr; i++)
		n += m->rr[i].section == section;
	return n;
}

/* Is a (lower case, no final dot) the same as b or below it? */
static bool
name_at_or_below(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (strcmp(b, ".") == 0)
		return true;
	if (la < lb || strcmp(a + la - lb, b) != 0)
		return false;
	return la == lb || a[la - lb - 1] == '.';
}

void
answer_referral(const struct transport_msg *m, const char *name,
    struct referral *out)
{
	const struct transport_rr	*rr;
	char				 owner[PROBE_NAME_MAX];
	struct probe_ds			 d;
	unsigned			 i, j;
	bool				 aa = header_aa(m);

	memset(out, 0, sizeof(*out));
	out->kind = REF_OTHER;
	out->rcode = header_rcode(m);
	out->aa = aa;

	/* DS for the name may come in the answer (a DS query) or in the
	 * authority section of a referral (RFC 4035 3.1.4). */
	for (i = 0; i < m->n_rr; i++) {
		rr = &m->rr[i];
		if (rr->section == TS_ADDITIONAL)
			continue;
		if (rr->type == T_NSEC || rr->type == T_NSEC3)
			out->denial = true;
		if (rr->type == T_SOA)
			(void)msg_name(m, rr->owner, out->soa_owner,
			    sizeof(out->soa_owner));
		if (rr->type == T_RRSIG && sig_covered(m, rr) == T_DS &&
		    rr_owner_is(m, rr, name))
			out->ds_signed = true;
		if (rr->type != T_DS || !rr_owner_is(m, rr, name))
			continue;
		if (ds_from_rr(m, rr, &d) == -1)
			continue;
		for (j = 0; j < out->n_ds; j++)
			if (ds_same(&out->ds[j], &d))
				break;
		if (j < out->n_ds)
			continue;
		if (out->n_ds >= PROBE_MAX_DS) {
			out->ds_dropped++;
			continue;
		}
		out->ds[out->n_ds++] = d;
		out->has_ds = true;
		out->ds_ttl = rr->ttl;
	}

	if (out->rcode == 3) {
		out->kind = REF_NXDOMAIN;
		return;
	}
	if (out->rcode != 0)
		return;

	/* An authoritative NS answer for the name itself. */
	collect_ns(out, m, TS_ANSWER, name);
	if (out->n_ns > 0 && aa) {
		snprintf(out->owner, sizeof(out->owner), "%s", name);
		out->kind = REF_AUTH_NS;
		goto glue;
	}
	/* A referral: the NS set in authority, owned by the name or by a
	 * zone between the asked server's zone and the name. */
	for (i = 0; i < m->n_rr; i++) {
		rr = &m->rr[i];
		if (rr->section != TS_AUTHORITY || rr->type != T_NS ||
		    msg_name(m, rr->owner, owner, sizeof(owner)) == -1)
			continue;
		if (!aa && name_at_or_below(name, owner)) {
			snprintf(out->owner, sizeof(out->owner), "%s", owner);
			collect_ns(out, m, TS_AUTHORITY, owner);
			out->kind = REF_REFERRAL;
			goto glue;
		}
	}
	if (aa && section_count(m, TS_ANSWER) == 0) {
		out->kind = REF_NODATA;
		return;
	}
	if (aa && out->has_ds) {
		/* A DS query answered by the parent. */
		out->kind = REF_NODATA;
		return;
	}
	return;

glue:
	/* additional first, then answer, as the glue was always read */
	for (int s = 0; s < 2; s++)
		for (i = 0; i < m->n_rr; i++) {
			rr = &m->rr[i];
			if (rr->section != (s == 0 ? TS_ADDITIONAL :
			    TS_ANSWER))
				continue;
			if (rr->type == T_A || rr->type == T_AAAA)
				add_glue(out, m, rr);
		}
}

/* RRSIG times are serial numbers (RFC 4034 3.1.5): read them as the
 * instant nearest to now. */
static time_t
sig_time(uint32_t v, time_t now)
{
	return now + (int32_t)(v - (uint32_t)now);
}

static void
note_sig(struct probe_result *r, unsigned si, const uint8_t *sig, time_t now)
{
	struct probe_server	*s = &r->servers[si];
	time_t			 exp, inc;

	exp = sig_time(rd32(sig + 8), now);
	inc = sig_time(rd32(sig + 12), now);
	if (s->sig_earliest_expiry == 0 || exp < s->sig_earliest_expiry)
		s->sig_earliest_expiry = exp;
	if (inc > s->sig_latest_inception)
		s->sig_latest_inception = inc;
	if (exp < now)
		s->sig_expired = true;
	if (inc > now)
		s->sig_not_yet_valid = true;
	if (r->earliest_sig_expiry == 0 || exp < r->earliest_sig_expiry)
		r->earliest_sig_expiry = exp;
}

/* Is rr an RRSIG over `covered` at the domain, in the answer? */
static bool
sig_over(const struct probe_result *r, const struct transport_msg *m,
    const struct transport_rr *rr, uint16_t covered)
{
	return rr->section == TS_ANSWER && rr->type == T_RRSIG &&
	    sig_covered(m, rr) == covered && rr_owner_is(m, rr, r->domain);
}

/* Mark keys by (tag, algorithm) of the RRSIGs over type `covered`. */
static void
note_signers(struct probe_result *r, unsigned si,
    const struct transport_msg *m, uint16_t covered, time_t now)
{
	const uint8_t	*sig;
	unsigned	 i, k;
	uint16_t	 tag;
	uint8_t		 alg;

	for (i = 0; i < m->n_rr; i++) {
		if (!sig_over(r, m, &m->rr[i], covered))
			continue;
		sig = rdata(m, &m->rr[i]);
		note_sig(r, si, sig, now);
		tag = rd16(sig + 16);
		alg = sig[2];
		/* By algorithm, whoever made it: an algorithm rollover adds
		 * signatures before their keys and removes them after. */
		if (alg < 32) {
			if (covered == T_DNSKEY)
				r->servers[si].sig_algs_dnskey |= 1u << alg;
			else
				r->servers[si].sig_algs_soa |= 1u << alg;
		}
		for (k = 0; k < r->n_keys; k++) {
			if (r->keys[k].key_tag != tag ||
			    r->keys[k].algorithm != alg)
				continue;
			if (covered == T_DNSKEY)
				r->keys[k].signs_dnskey |= 1u << si;
			else
				r->keys[k].signs_soa |= 1u << si;
		}
	}
}

/* An answer-section RR of type `type` at the domain? */
static bool
rr_at_domain(const struct probe_result *r, const struct transport_msg *m,
    const struct transport_rr *rr, uint16_t type)
{
	return rr->section == TS_ANSWER && rr->type == type &&
	    rr_owner_is(m, rr, r->domain);
}

void
answer_dnskey(struct probe_result *r, unsigned si,
    const struct transport_msg *m, time_t now)
{
	const struct transport_rr	*rr;
	const uint8_t			*raw;
	unsigned			 i, k;

	r->servers[si].dnskey_rcode = header_rcode(m);
	for (i = 0; i < m->n_rr; i++) {
		rr = &m->rr[i];
		if (!rr_at_domain(r, m, rr, T_DNSKEY) || rr->rdlen < 4 ||
		    rr->rdlen > PROBE_MAX_KEYDATA)
			continue;
		raw = rdata(m, rr);
		r->servers[si].n_dnskey++;
		/* The largest any server gives: how long a resolver may keep
		 * the key set it saw before a new key appeared. */
		if (rr->ttl > r->dnskey_ttl)
			r->dnskey_ttl = rr->ttl;
		for (k = 0; k < r->n_keys; k++)
			if (r->keys[k].rdata_len == rr->rdlen &&
			    memcmp(r->keys[k].rdata, raw, rr->rdlen) == 0)
				break;
		if (k == r->n_keys) {
			struct probe_key *key;

			if (r->n_keys >= PROBE_MAX_KEYS) {
				r->keys_dropped++;
				continue;
			}
			key = &r->keys[r->n_keys++];
			memset(key, 0, sizeof(*key));
			memcpy(key->rdata, raw, rr->rdlen);
			key->rdata_len = rr->rdlen;
			key->flags = rd16(raw);
			key->protocol = raw[2];
			key->algorithm = raw[3];
			key->key_tag = dsmatch_keytag(raw, rr->rdlen);
		}
		r->keys[k].servers |= 1u << si;
	}
	note_signers(r, si, m, T_DNSKEY, now);
}

void
answer_soa(struct probe_result *r, unsigned si, const struct transport_msg *m,
    time_t now)
{
	const struct transport_rr	*rr;
	struct probe_server		*s = &r->servers[si];
	unsigned			 i;
	size_t				 p, end;

	s->authoritative = header_aa(m);
	for (i = 0; i < m->n_rr; i++) {
		rr = &m->rr[i];
		if (!rr_at_domain(r, m, rr, T_SOA))
			continue;
		/* MNAME, RNAME, then SERIAL (the walk checked that 20
		 * bytes follow the two names) */
		p = rr->rdata;
		end = p + rr->rdlen;
		if (skip_name(m, &p, end) == -1 || skip_name(m, &p, end) == -1
		    || end - p < 20)
			continue;
		s->has_soa = true;
		s->soa_serial = rd32(m->wire + p);
		break;
	}
	note_signers(r, si, m, T_SOA, now);
}

/* Keep the (tag, algorithm) of the RRSIGs over `covered` at the owner:
 * who signed a CDS/CDNSKEY RRset decides whether a registry trusts it. */
static uint8_t
cds_signers(const struct probe_result *r, const struct transport_msg *m,
    uint16_t covered, struct probe_signer *out, bool *dropped)
{
	const uint8_t	*sig;
	unsigned	 i;
	uint8_t		 n = 0;

	for (i = 0; i < m->n_rr; i++) {
		if (!sig_over(r, m, &m->rr[i], covered))
			continue;
		if (n == PROBE_MAX_SIGNERS) {
			*dropped = true;
			break;
		}
		sig = rdata(m, &m->rr[i]);
		out[n].key_tag = rd16(sig + 16);
		out[n].algorithm = sig[2];
		n++;
	}
	return n;
}

void
answer_cds(struct probe_result *r, unsigned si, const struct transport_msg *m)
{
	const struct transport_rr	*rr;
	struct probe_ds			 d;
	struct probe_server		*s = &r->servers[si];
	unsigned			 i, j;

	s->cds_answered = header_rcode(m) == 0;
	for (i = 0; i < m->n_rr; i++) {
		rr = &m->rr[i];
		if (!rr_at_domain(r, m, rr, T_CDS))
			continue;
		s->n_cds++;
		/* RFC 8078 4: "0 0 0 00" asks for the DS to go. */
		if (rr->rdlen >= 3 && rdata(m, rr)[2] == 0) {
			r->cds_delete = true;
			s->cds_delete = true;
			continue;
		}
		if (ds_from_rr(m, rr, &d) == -1)
			continue;
		for (j = 0; j < r->n_cds; j++)
			if (ds_same(&r->cds[j], &d))
				break;
		if (j == r->n_cds) {
			if (r->n_cds >= PROBE_MAX_DS) {
				r->cds_dropped++;
				continue;
			}
			r->cds[r->n_cds++] = d;
		}
		s->cds_set |= 1u << j;
	}
	s->n_cds_sig = cds_signers(r, m, T_CDS, s->cds_sig,
	    &s->cds_sig_dropped);
}

/* SHA-256 over the root owner and the RDATA: a fixed-size fingerprint
 * that dsmatch computes for CDNSKEYs and DNSKEYs alike. */
int
answer_fingerprint(const uint8_t *rdata, size_t len, uint8_t out[32])
{
	static const uint8_t	 root = 0;
	size_t			 dl;

	return dsmatch_digest(&root, 1, rdata, len, 2, out, 32, &dl);
}

void
answer_cdnskey(struct probe_result *r, unsigned si,
    const struct transport_msg *m)
{
	const struct transport_rr	*rr;
	const uint8_t			*raw;
	struct probe_cdnskey		 c;
	struct probe_server		*s = &r->servers[si];
	unsigned			 i, j;

	s->cdnskey_answered = header_rcode(m) == 0;
	for (i = 0; i < m->n_rr; i++) {
		rr = &m->rr[i];
		if (!rr_at_domain(r, m, rr, T_CDNSKEY) || rr->rdlen < 4)
			continue;
		raw = rdata(m, rr);
		s->n_cdnskey++;
		/* RFC 8078 4: "0 3 0 AA==" asks for the DS to go. */
		if (raw[3] == 0) {
			r->cds_delete = true;
			s->cdnskey_delete = true;
			continue;
		}
		memset(&c, 0, sizeof(c));
		c.key = -1;
		c.key_tag = dsmatch_keytag(raw, rr->rdlen);
		c.algorithm = raw[3];
		if (answer_fingerprint(raw, rr->rdlen, c.fingerprint) == -1)
			continue;
		for (j = 0; j < r->n_cdnskey; j++)
			if (memcmp(r->cdnskey[j].fingerprint, c.fingerprint,
			    32) == 0)
				break;
		if (j == r->n_cdnskey) {
			if (r->n_cdnskey >= PROBE_MAX_DS) {
				r->cdnskey_dropped++;
				continue;
			}
			r->cdnskey[r->n_cdnskey++] = c;
		}
		s->cdnskey_set |= 1u << j;
	}
	s->n_cdnskey_sig = cds_signers(r, m, T_CDNSKEY, s->cdnskey_sig,
	    &s->cds_sig_dropped);
}
