/*
 * Copying facts out of parsed replies. getdns has done the wire parsing;
 * what is left is choosing records by owner and type, and keeping every
 * copy inside the fixed arrays of struct probe_result.
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

static bool
rr_owner_is(const getdns_dict *rr, const char *name)
{
	getdns_bindata	*bd;
	char		 owner[PROBE_NAME_MAX];

	if (getdns_dict_get_bindata(rr, "name", &bd) != GETDNS_RETURN_GOOD ||
	    answer_name(bd, owner, sizeof(owner)) == -1)
		return false;
	return strcmp(owner, name) == 0;
}

static uint32_t
rr_int(const getdns_dict *rr, const char *key, uint32_t dflt)
{
	uint32_t	 v;

	if (getdns_dict_get_int(rr, key, &v) != GETDNS_RETURN_GOOD)
		return dflt;
	return v;
}

/* An rdata field as integer, or dflt. */
static uint32_t
rd_int(const getdns_dict *rr, const char *key, uint32_t dflt)
{
	getdns_dict	*rd;

	if (getdns_dict_get_dict(rr, "rdata", &rd) != GETDNS_RETURN_GOOD)
		return dflt;
	return rr_int(rd, key, dflt);
}

static getdns_bindata *
rd_bin(const getdns_dict *rr, const char *key)
{
	getdns_dict	*rd;
	getdns_bindata	*bd;

	if (getdns_dict_get_dict(rr, "rdata", &rd) != GETDNS_RETURN_GOOD ||
	    getdns_dict_get_bindata(rd, key, &bd) != GETDNS_RETURN_GOOD)
		return NULL;
	return bd;
}

static getdns_list *
section(const getdns_dict *msg, const char *name)
{
	getdns_list	*l;

	if (getdns_dict_get_list(msg, name, &l) != GETDNS_RETURN_GOOD)
		return NULL;
	return l;
}

static size_t
list_len(const getdns_list *l)
{
	size_t	 n;

	if (l == NULL || getdns_list_get_length(l, &n) != GETDNS_RETURN_GOOD)
		return 0;
	return n;
}

static getdns_dict *
list_rr(const getdns_list *l, size_t i)
{
	getdns_dict	*rr;

	if (getdns_list_get_dict(l, i, &rr) != GETDNS_RETURN_GOOD)
		return NULL;
	return rr;
}

static int
header_int(const getdns_dict *msg, const char *key)
{
	getdns_dict	*h;

	if (getdns_dict_get_dict(msg, "header", &h) != GETDNS_RETURN_GOOD)
		return -1;
	return (int)rr_int(h, key, (uint32_t)-1);
}

/* Fill a probe_ds from a DS or CDS record; -1 when unusable. */
static int
ds_from_rr(const getdns_dict *rr, struct probe_ds *d)
{
	getdns_bindata	*dg;

	memset(d, 0, sizeof(*d));
	d->key = -1;
	d->key_tag = (uint16_t)rd_int(rr, "key_tag", 0);
	d->algorithm = (uint8_t)rd_int(rr, "algorithm", 0);
	d->digest_type = (uint8_t)rd_int(rr, "digest_type", 0);
	if ((dg = rd_bin(rr, "digest")) == NULL || dg->size > PROBE_MAX_DIGEST)
		return -1;
	memcpy(d->digest, dg->data, dg->size);
	d->digest_len = (uint8_t)dg->size;
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
add_glue(struct referral *out, const getdns_dict *rr, uint32_t type)
{
	getdns_bindata		*name, *a;
	char			 owner[PROBE_NAME_MAX];
	struct referral_glue	*g;
	unsigned		 i;

	if (getdns_dict_get_bindata(rr, "name", &name) != GETDNS_RETURN_GOOD ||
	    answer_name(name, owner, sizeof(owner)) == -1)
		return;
	a = rd_bin(rr, type == T_A ? "ipv4_address" : "ipv6_address");
	if (a == NULL || a->size != (type == T_A ? 4u : 16u))
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
		(void)addr_from_rdata(a->data, a->size, 53, &g->addr, &g->len);
		return;
	}
}

static void
collect_ns(struct referral *out, const getdns_list *l, const char *owner)
{
	size_t		 i, n = list_len(l);
	getdns_dict	*rr;
	getdns_bindata	*nsd;
	char		 nsname[PROBE_NAME_MAX];
	unsigned	 j;

	for (i = 0; i < n; i++) {
		if ((rr = list_rr(l, i)) == NULL ||
		    rr_int(rr, "type", 0) != T_NS || !rr_owner_is(rr, owner))
			continue;
		if ((nsd = rd_bin(rr, "nsdname")) == NULL ||
		    answer_name(nsd, nsname, sizeof(nsname)) == -1)
			continue;
		for (j = 0; j < out->n_ns; j++)
			if (strcmp(out->ns[j], nsname) == 0)
				break;
		if (j < out->n_ns || out->n_ns >= REF_MAX_NS)
			continue;
		snprintf(out->ns[out->n_ns++], PROBE_NAME_MAX, "%s", nsname);
	}
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
answer_referral(const getdns_dict *msg, const char *name,
    struct referral *out)
{
	getdns_list	*ans, *auth, *add;
	getdns_dict	*rr;
	getdns_bindata	*bd;
	size_t		 i, n;
	char		 owner[PROBE_NAME_MAX];
	int		 aa;
	struct probe_ds	 d;
	unsigned	 j;

	memset(out, 0, sizeof(*out));
	out->kind = REF_OTHER;
	out->rcode = header_int(msg, "rcode");
	aa = header_int(msg, "aa");
	out->aa = aa == 1;
	ans = section(msg, "answer");
	auth = section(msg, "authority");
	add = section(msg, "additional");

	/* DS for the name may come in the answer (a DS query) or in the
	 * authority section of a referral (RFC 4035 3.1.4). */
	for (int s = 0; s < 2; s++) {
		getdns_list *l = s == 0 ? ans : auth;

		n = list_len(l);
		for (i = 0; i < n; i++) {
			uint32_t t;

			if ((rr = list_rr(l, i)) == NULL)
				continue;
			t = rr_int(rr, "type", 0);
			if (t == T_NSEC || t == T_NSEC3)
				out->denial = true;
			if (t == T_SOA && getdns_dict_get_bindata(rr, "name",
			    &bd) == GETDNS_RETURN_GOOD)
				answer_name(bd, out->soa_owner,
				    sizeof(out->soa_owner));
			if (t == T_RRSIG && rd_int(rr, "type_covered", 0) ==
			    T_DS && rr_owner_is(rr, name))
				out->ds_signed = true;
			if (t != T_DS || !rr_owner_is(rr, name))
				continue;
			if (ds_from_rr(rr, &d) == -1)
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
			out->ds_ttl = rr_int(rr, "ttl", 0);
		}
	}

	if (out->rcode == 3) {
		out->kind = REF_NXDOMAIN;
		return;
	}
	if (out->rcode != 0)
		return;

	/* An authoritative NS answer for the name itself. */
	collect_ns(out, ans, name);
	if (out->n_ns > 0 && aa == 1) {
		snprintf(out->owner, sizeof(out->owner), "%s", name);
		out->kind = REF_AUTH_NS;
		goto glue;
	}
	/* A referral: the NS set in authority, owned by the name or by a
	 * zone between the asked server's zone and the name. */
	n = list_len(auth);
	for (i = 0; i < n; i++) {
		if ((rr = list_rr(auth, i)) == NULL ||
		    rr_int(rr, "type", 0) != T_NS ||
		    getdns_dict_get_bindata(rr, "name", &bd) !=
		    GETDNS_RETURN_GOOD ||
		    answer_name(bd, owner, sizeof(owner)) == -1)
			continue;
		if (aa != 1 && name_at_or_below(name, owner)) {
			snprintf(out->owner, sizeof(out->owner), "%s", owner);
			collect_ns(out, auth, owner);
			out->kind = REF_REFERRAL;
			goto glue;
		}
	}
	if (aa == 1 && list_len(ans) == 0) {
		out->kind = REF_NODATA;
		return;
	}
	if (aa == 1 && out->has_ds) {
		/* A DS query answered by the parent. */
		out->kind = REF_NODATA;
		return;
	}
	return;

glue:
	for (int s = 0; s < 2; s++) {
		getdns_list *l = s == 0 ? add : ans;

		n = list_len(l);
		for (i = 0; i < n; i++) {
			uint32_t t;

			if ((rr = list_rr(l, i)) == NULL)
				continue;
			t = rr_int(rr, "type", 0);
			if (t == T_A || t == T_AAAA)
				add_glue(out, rr, t);
		}
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
note_sig(struct probe_result *r, unsigned si, const getdns_dict *rr,
    time_t now)
{
	struct probe_server	*s = &r->servers[si];
	time_t			 exp, inc;

	exp = sig_time(rd_int(rr, "signature_expiration", 0), now);
	inc = sig_time(rd_int(rr, "signature_inception", 0), now);
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

/* Mark keys by (tag, algorithm) of the RRSIGs over type `covered`. */
static void
note_signers(struct probe_result *r, unsigned si, const getdns_list *ans,
    uint32_t covered, time_t now)
{
	size_t		 i, n = list_len(ans);
	getdns_dict	*rr;
	unsigned	 k;
	uint16_t	 tag;
	uint8_t		 alg;

	for (i = 0; i < n; i++) {
		if ((rr = list_rr(ans, i)) == NULL ||
		    rr_int(rr, "type", 0) != T_RRSIG ||
		    !rr_owner_is(rr, r->domain) ||
		    rd_int(rr, "type_covered", 0) != covered)
			continue;
		note_sig(r, si, rr, now);
		tag = (uint16_t)rd_int(rr, "key_tag", 0);
		alg = (uint8_t)rd_int(rr, "algorithm", 0);
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

void
answer_dnskey(struct probe_result *r, unsigned si, const getdns_dict *msg,
    time_t now)
{
	getdns_list	*ans = section(msg, "answer");
	getdns_dict	*rr;
	getdns_bindata	*raw;
	size_t		 i, n = list_len(ans);
	unsigned	 k;

	r->servers[si].dnskey_rcode = header_int(msg, "rcode");
	for (i = 0; i < n; i++) {
		if ((rr = list_rr(ans, i)) == NULL ||
		    rr_int(rr, "type", 0) != T_DNSKEY ||
		    !rr_owner_is(rr, r->domain) ||
		    (raw = rd_bin(rr, "rdata_raw")) == NULL || raw->size < 4 ||
		    raw->size > PROBE_MAX_KEYDATA)
			continue;
		r->servers[si].n_dnskey++;
		/* The largest any server gives: how long a resolver may keep
		 * the key set it saw before a new key appeared. */
		if (rr_int(rr, "ttl", 0) > r->dnskey_ttl)
			r->dnskey_ttl = rr_int(rr, "ttl", 0);
		for (k = 0; k < r->n_keys; k++)
			if (r->keys[k].rdata_len == raw->size &&
			    memcmp(r->keys[k].rdata, raw->data, raw->size) == 0)
				break;
		if (k == r->n_keys) {
			struct probe_key *key;

			if (r->n_keys >= PROBE_MAX_KEYS) {
				r->keys_dropped++;
				continue;
			}
			key = &r->keys[r->n_keys++];
			memset(key, 0, sizeof(*key));
			memcpy(key->rdata, raw->data, raw->size);
			key->rdata_len = (uint16_t)raw->size;
			key->flags = (uint16_t)rd_int(rr, "flags", 0);
			key->protocol = (uint8_t)rd_int(rr, "protocol", 0);
			key->algorithm = (uint8_t)rd_int(rr, "algorithm", 0);
			key->key_tag = dsmatch_keytag(raw->data, raw->size);
		}
		r->keys[k].servers |= 1u << si;
	}
	note_signers(r, si, ans, T_DNSKEY, now);
}

void
answer_soa(struct probe_result *r, unsigned si, const getdns_dict *msg,
    time_t now)
{
	getdns_list	*ans = section(msg, "answer");
	getdns_dict	*rr;
	size_t		 i, n = list_len(ans);
	struct probe_server *s = &r->servers[si];

	s->authoritative = header_int(msg, "aa") == 1;
	for (i = 0; i < n; i++) {
		if ((rr = list_rr(ans, i)) == NULL ||
		    rr_int(rr, "type", 0) != T_SOA ||
		    !rr_owner_is(rr, r->domain))
			continue;
		s->has_soa = true;
		s->soa_serial = rd_int(rr, "serial", 0);
		break;
	}
	note_signers(r, si, ans, T_SOA, now);
}

/* Keep the (tag, algorithm) of the RRSIGs over `covered` at the owner:
 * who signed a CDS/CDNSKEY RRset decides whether a registry trusts it. */
static uint8_t
cds_signers(const struct probe_result *r, const getdns_list *ans,
    uint32_t covered, struct probe_signer *out, bool *dropped)
{
	size_t		 i, n = list_len(ans);
	getdns_dict	*rr;
	uint8_t		 m = 0;

	for (i = 0; i < n; i++) {
		if ((rr = list_rr(ans, i)) == NULL ||
		    rr_int(rr, "type", 0) != T_RRSIG ||
		    !rr_owner_is(rr, r->domain) ||
		    rd_int(rr, "type_covered", 0) != covered)
			continue;
		if (m == PROBE_MAX_SIGNERS) {
			*dropped = true;
			break;
		}
		out[m].key_tag = (uint16_t)rd_int(rr, "key_tag", 0);
		out[m].algorithm = (uint8_t)rd_int(rr, "algorithm", 0);
		m++;
	}
	return m;
}

void
answer_cds(struct probe_result *r, unsigned si, const getdns_dict *msg)
{
	getdns_list	*ans = section(msg, "answer");
	getdns_dict	*rr;
	size_t		 i, n = list_len(ans);
	struct probe_ds	 d;
	struct probe_server *s = &r->servers[si];
	unsigned	 j;

	s->cds_answered = header_int(msg, "rcode") == 0;
	for (i = 0; i < n; i++) {
		if ((rr = list_rr(ans, i)) == NULL ||
		    rr_int(rr, "type", 0) != T_CDS ||
		    !rr_owner_is(rr, r->domain))
			continue;
		s->n_cds++;
		/* RFC 8078 4: "0 0 0 00" asks for the DS to go. */
		if (rd_int(rr, "algorithm", 1) == 0) {
			r->cds_delete = true;
			s->cds_delete = true;
			continue;
		}
		if (ds_from_rr(rr, &d) == -1)
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
	s->n_cds_sig = cds_signers(r, ans, T_CDS, s->cds_sig,
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
answer_cdnskey(struct probe_result *r, unsigned si, const getdns_dict *msg)
{
	getdns_list	*ans = section(msg, "answer");
	getdns_dict	*rr;
	getdns_bindata	*raw;
	size_t		 i, n = list_len(ans);
	unsigned	 j;
	struct probe_cdnskey c;
	struct probe_server *s = &r->servers[si];

	s->cdnskey_answered = header_int(msg, "rcode") == 0;
	for (i = 0; i < n; i++) {
		if ((rr = list_rr(ans, i)) == NULL ||
		    rr_int(rr, "type", 0) != T_CDNSKEY ||
		    !rr_owner_is(rr, r->domain) ||
		    (raw = rd_bin(rr, "rdata_raw")) == NULL || raw->size < 4)
			continue;
		s->n_cdnskey++;
		/* RFC 8078 4: "0 3 0 AA==" asks for the DS to go. */
		if (rd_int(rr, "algorithm", 1) == 0) {
			r->cds_delete = true;
			s->cdnskey_delete = true;
			continue;
		}
		memset(&c, 0, sizeof(c));
		c.key = -1;
		c.key_tag = dsmatch_keytag(raw->data, raw->size);
		c.algorithm = (uint8_t)rd_int(rr, "algorithm", 0);
		if (answer_fingerprint(raw->data, raw->size, c.fingerprint) == -1)
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
	s->n_cdnskey_sig = cds_signers(r, ans, T_CDNSKEY, s->cdnskey_sig,
	    &s->cds_sig_dropped);
}
