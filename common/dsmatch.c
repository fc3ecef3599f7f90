/*
 * DNSSEC arithmetic: RFC 4034 key tags and DS digests, RFC 1035 names.
 *
 * Everything works on caller storage and bounded stack buffers, because
 * the inputs come from the network or a config file and a monitor must
 * answer "does not match" or "malformed", never crash.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/dsmatch.h"
#include "common/errbuf.h"

static int	name_parse(const char *, bool, uint8_t *, size_t, size_t *,
		    char *, size_t);
static int	wire_check(const uint8_t *, size_t);
static const EVP_MD *digest_md(int);

uint16_t
dsmatch_keytag(const uint8_t *rdata, size_t len)
{
	uint32_t	 ac = 0;
	size_t		 i;

	if (rdata == NULL || len < 4)
		return 0;
	/*
	 * RFC 4034 B.1: for RSAMD5 the tag is the 2nd and 3rd last octets of
	 * the modulus, which RFC 3110 puts at the very end of the key.
	 */
	if (rdata[3] == 1) {
		if (len < 4 + 3)
			return 0;
		return (uint16_t)(rdata[len - 3] << 8 | rdata[len - 2]);
	}
	/* 64 KiB of 0xff sums to under 2^24, so ac cannot overflow. */
	for (i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

static bool
bare_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The one parser behind dsmatch_name_to_wire (fold) and the DS owner,
 * which keeps its case because dnssec-dsfromkey prints it as written.
 * Scans to the end even past a limit, so the message gives the real size.
 */
static int
name_parse(const char *name, bool fold, uint8_t *out, size_t outlen,
    size_t *wirelen, char *err, size_t errlen)
{
	uint8_t		 buf[DSMATCH_NAME_MAX];
	const char	*p;
	size_t		 total = 0, labstart = 0, lablen = 0, off, pos;
	unsigned int	 labno = 1, v;
	unsigned char	 c;

	if (wirelen != NULL)
		*wirelen = 0;
	if (name == NULL) {
		errbuf_set(err, errlen, "no name given");
		goto fail;
	}
	if (*name == '\0') {
		errbuf_set(err, errlen, "empty name");
		goto fail;
	}
	if (strcmp(name, ".") == 0)
		goto done;

	p = name;
	for (;;) {
		c = (unsigned char)*p;
		if (c == '\0' || c == '.') {
			if (lablen == 0) {
				/* Only reachable at NUL after a trailing dot. */
				if (c == '\0')
					break;
				errbuf_set(err, errlen, "label %u is empty%s",
				    labno,
				    labno == 1 ? " (the name starts with a dot)" :
				    " (two dots in a row)");
				goto fail;
			}
			if (lablen > DSMATCH_LABEL_MAX) {
				errbuf_set(err, errlen,
				    "label %u is %zu octets, the limit is %d",
				    labno, lablen, DSMATCH_LABEL_MAX);
				goto fail;
			}
			if (labstart < sizeof(buf))
				buf[labstart] = (uint8_t)lablen;
			total += 1 + lablen;
			if (c == '\0')
				break;
			p++;
			labno++;
			labstart = total;
			lablen = 0;
			continue;
		}

		off = (size_t)(p - name);
		if (c == '\\') {
			if (p[1] == '\0') {
				errbuf_set(err, errlen,
				    "offset %zu: the name ends in a lone "
				    "backslash", off);
				goto fail;
			}
			if (is_digit(p[1])) {
				if (!is_digit(p[2]) || !is_digit(p[3])) {
					errbuf_set(err, errlen, "offset %zu: a "
					    "\\DDD escape needs exactly three "
					    "digits", off);
					goto fail;
				}
				v = (unsigned int)(p[1] - '0') * 100 +
				    (unsigned int)(p[2] - '0') * 10 +
				    (unsigned int)(p[3] - '0');
				if (v > 255) {
					errbuf_set(err, errlen, "offset %zu: "
					    "escape \\%.3s is above 255", off,
					    p + 1);
					goto fail;
				}
				p += 4;
			} else {
				v = (unsigned char)p[1];
				p += 2;
			}
		} else if (bare_ok(c)) {
			v = c;
			p++;
		} else {
			if (c >= 0x80)
				errbuf_set(err, errlen, "offset %zu: byte "
				    "0x%02x is not allowed in a name (an IDN "
				    "needs its xn-- form)", off, c);
			else if (c <= 0x20 || c == 0x7f)
				errbuf_set(err, errlen, "offset %zu: byte "
				    "0x%02x is not allowed in a name (escape "
				    "it as \\%03u)", off, c, c);
			else
				errbuf_set(err, errlen, "offset %zu: character "
				    "'%c' is not allowed in a name (escape it "
				    "as \\%c)", off, c, c);
			goto fail;
		}
		/* RFC 4034 6.2: canonical form folds US-ASCII letters only. */
		if (fold && v >= 'A' && v <= 'Z')
			v += 'a' - 'A';
		pos = labstart + 1 + lablen;
		if (pos < sizeof(buf))
			buf[pos] = (uint8_t)v;
		lablen++;
	}

done:
	total++;	/* the root label */
	if (total > DSMATCH_NAME_MAX) {
		errbuf_set(err, errlen, "the name is %zu octets in wire format, "
		    "the limit is %d", total, DSMATCH_NAME_MAX);
		goto fail;
	}
	if (out == NULL || total > outlen) {
		errbuf_set(err, errlen, "the name needs %zu octets, the buffer "
		    "holds %zu", total, out == NULL ? (size_t)0 : outlen);
		goto fail;
	}
	memcpy(out, buf, total - 1);
	out[total - 1] = 0;
	if (wirelen != NULL)
		*wirelen = total;
	return 0;
fail:
	return -1;
}

int
dsmatch_name_to_wire(const char *name, uint8_t *out, size_t outlen,
    size_t *wirelen, char *err, size_t errlen)
{
	return name_parse(name, true, out, outlen, wirelen, err, errlen);
}

/* 0 when wire is exactly one uncompressed name of at most 255 octets. */
static int
wire_check(const uint8_t *wire, size_t len)
{
	size_t	 i = 0;

	if (wire == NULL || len == 0 || len > DSMATCH_NAME_MAX)
		return -1;
	while (i < len) {
		if (wire[i] == 0)
			return i + 1 == len ? 0 : -1;
		/* 0x40 and 0xc0 prefixes are pointers or obsolete types. */
		if (wire[i] > DSMATCH_LABEL_MAX)
			return -1;
		i += 1 + wire[i];
	}
	return -1;
}

int
dsmatch_name_normalise(const char *name, char *out, size_t outlen,
    char *err, size_t errlen)
{
	uint8_t		 wire[DSMATCH_NAME_MAX];
	size_t		 wlen, i, bs;

	if (name_parse(name, true, wire, sizeof(wire), &wlen, err,
	    errlen) == -1)
		return -1;
	if (strlen(name) >= outlen) {
		errbuf_set(err, errlen, "%zu characters, the limit is %zu",
		    strlen(name), outlen > 0 ? outlen - 1 : 0);
		return -1;
	}
	for (i = 0; name[i] != '\0'; i++)
		out[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] + 32) : name[i];
	out[i] = '\0';
	/* The final dot, unless it is escaped ("a\\." ends in a label
	 * holding a dot): after an odd run of backslashes it is data. */
	for (bs = 0; i > 1 && bs + 1 < i && out[i - 2 - bs] == '\\'; bs++)
		;
	if (i > 1 && out[i - 1] == '.' && bs % 2 == 0)
		out[i - 1] = '\0';
	return 0;
}

int
dsmatch_wire_to_name(const uint8_t *wire, size_t len, char *out,
    size_t outlen)
{
	size_t		 i = 0, o = 0, need, l, n;
	unsigned char	 c;
	char		 tmp[5];

	if (out == NULL || outlen == 0)
		goto fail;
	out[0] = '\0';
	if (wire_check(wire, len) == -1)
		goto fail;
	if (wire[0] == 0) {
		if (outlen < 2)
			goto fail;
		memcpy(out, ".", 2);
		return 0;
	}
	while (wire[i] != 0) {
		l = wire[i++];
		for (n = 0; n < l; n++) {
			c = wire[i++];
			/* The same choices as BIND's dns_name_totext(). */
			switch (c) {
			case '"': case '(': case ')': case '.': case ';':
			case '\\': case '@': case '$':
				tmp[0] = '\\';
				tmp[1] = (char)c;
				need = 2;
				break;
			default:
				if (c > 0x20 && c < 0x7f) {
					tmp[0] = (char)c;
					need = 1;
				} else {
					snprintf(tmp, sizeof(tmp), "\\%03u", c);
					need = 4;
				}
				break;
			}
			if (o + need >= outlen)
				goto fail;
			memcpy(out + o, tmp, need);
			o += need;
		}
		if (o + 1 >= outlen)
			goto fail;
		out[o++] = '.';
	}
	out[o] = '\0';
	return 0;
fail:
	if (out != NULL && outlen > 0)
		out[0] = '\0';
	return -1;
}

static const EVP_MD *
digest_md(int digest_type)
{
	switch (digest_type) {
	case 1:
		return EVP_sha1();
	case 2:
		return EVP_sha256();
	case 4:
		return EVP_sha384();
	default:
		/* 3 (GOST R 34.11-94) is not in a stock libcrypto. */
		return NULL;
	}
}

bool
dsmatch_digest_supported(int digest_type)
{
	return digest_md(digest_type) != NULL;
}

int
dsmatch_digest(const uint8_t *owner_wire, size_t owner_len,
    const uint8_t *dnskey_rdata, size_t rdata_len, int digest_type,
    uint8_t *out, size_t outlen, size_t *digest_len)
{
	EVP_MD_CTX	*ctx = NULL;
	const EVP_MD	*md;
	uint8_t		 owner[DSMATCH_NAME_MAX];
	unsigned int	 mdlen = 0;
	size_t		 i;
	int		 size;

	if (digest_len != NULL)
		*digest_len = 0;
	if ((md = digest_md(digest_type)) == NULL)
		goto fail;
	if (wire_check(owner_wire, owner_len) == -1)
		goto fail;
	if (dnskey_rdata == NULL || rdata_len < 4)
		goto fail;
	size = EVP_MD_size(md);
	if (out == NULL || size <= 0 || outlen < (size_t)size)
		goto fail;

	/* Length octets are <= 63, so folding every octet leaves them be. */
	for (i = 0; i < owner_len; i++) {
		owner[i] = owner_wire[i];
		if (owner[i] >= 'A' && owner[i] <= 'Z')
			owner[i] += 'a' - 'A';
	}

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto fail;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, owner, owner_len) != 1 ||
	    EVP_DigestUpdate(ctx, dnskey_rdata, rdata_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &mdlen) != 1)
		goto fail;
	EVP_MD_CTX_free(ctx);
	if (digest_len != NULL)
		*digest_len = mdlen;
	return 0;
fail:
	EVP_MD_CTX_free(ctx);
	return -1;
}

int
dsmatch_ds_matches(const uint8_t *owner_wire, size_t owner_len,
    uint16_t ds_keytag, uint8_t ds_alg, uint8_t ds_digest_type,
    const uint8_t *ds_digest, size_t ds_digest_len,
    const uint8_t *dnskey_rdata, size_t rdata_len)
{
	uint8_t	 d[DSMATCH_DIGEST_MAX];
	size_t	 dlen;

	/* Unsupported first: "cannot check" must not read as "mismatch". */
	if (!dsmatch_digest_supported(ds_digest_type))
		return -1;
	if (dsmatch_digest(owner_wire, owner_len, dnskey_rdata, rdata_len,
	    ds_digest_type, d, sizeof(d), &dlen) == -1)
		return -1;
	if (dsmatch_keytag(dnskey_rdata, rdata_len) != ds_keytag ||
	    dnskey_rdata[3] != ds_alg)
		return 0;
	if (ds_digest == NULL || ds_digest_len != dlen ||
	    memcmp(ds_digest, d, dlen) != 0)
		return 0;
	return 1;
}

int
dsmatch_ds_record(const char *owner_presentation, uint16_t keytag,
    uint8_t alg, uint8_t digest_type, const uint8_t *digest, size_t dlen,
    char *out, size_t outlen)
{
	uint8_t	 wire[DSMATCH_NAME_MAX];
	char	 owner[DSMATCH_NAME_STRLEN];
	size_t	 wirelen, used;
	int	 n;

	if (out == NULL || outlen == 0)
		goto fail;
	if (digest == NULL || dlen == 0)
		goto fail;
	if (name_parse(owner_presentation, false, wire, sizeof(wire),
	    &wirelen, NULL, 0) == -1)
		goto fail;
	/* Round trip through wire: \065 prints as A, as BIND prints it. */
	if (dsmatch_wire_to_name(wire, wirelen, owner, sizeof(owner)) == -1)
		goto fail;
	n = snprintf(out, outlen, "%s IN DS %u %u %u ", owner,
	    (unsigned int)keytag, (unsigned int)alg,
	    (unsigned int)digest_type);
	if (n < 0 || (size_t)n >= outlen)
		goto fail;
	used = (size_t)n;
	if (dlen > (outlen - used - 1) / 2)
		goto fail;
	dsmatch_hex_upper(digest, dlen, out + used, outlen - used);
	return 0;
fail:
	if (out != NULL && outlen > 0)
		out[0] = '\0';
	return -1;
}

void
dsmatch_hex_upper(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;

	if (out == NULL || outlen == 0)
		return;
	for (i = 0; i < len && 2 * i + 2 < outlen; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0x0f];
	}
	out[2 * i] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
dsmatch_hex_decode(const char *hex, uint8_t *out, size_t outlen, size_t *len)
{
	size_t	 n, i;
	int	 hi, lo;

	if (len != NULL)
		*len = 0;
	if (hex == NULL)
		goto fail;
	n = strlen(hex);
	if (n % 2 != 0 || n / 2 > outlen)
		goto fail;
	if (n > 0 && out == NULL)
		goto fail;
	for (i = 0; i < n / 2; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi == -1 || lo == -1)
			goto fail;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (len != NULL)
		*len = n / 2;
	return 0;
fail:
	return -1;
}

const char *
dsmatch_algorithm_name(int alg)
{
	/* IANA "DNS Security Algorithm Numbers"; gaps are reserved. */
	switch (alg) {
	case 0:		return "DELETE";	/* RFC 8078 CDS/CDNSKEY */
	case 1:		return "RSAMD5";
	case 2:		return "DH";
	case 3:		return "DSA";
	case 5:		return "RSASHA1";
	case 6:		return "DSA-NSEC3-SHA1";
	case 7:		return "RSASHA1-NSEC3-SHA1";
	case 8:		return "RSASHA256";
	case 10:	return "RSASHA512";
	case 12:	return "ECC-GOST";
	case 13:	return "ECDSAP256SHA256";
	case 14:	return "ECDSAP384SHA384";
	case 15:	return "ED25519";
	case 16:	return "ED448";
	case 17:	return "SM2SM3";
	case 23:	return "ECC-GOST12";
	case 252:	return "INDIRECT";
	case 253:	return "PRIVATEDNS";
	case 254:	return "PRIVATEOID";
	default:	return NULL;
	}
}

bool
dsmatch_algorithm_supported(int alg)
{
	/*
	 * RFC 8624 section 3.1.  Left out on purpose: 1 RSAMD5 (MD5 is
	 * broken, MUST NOT validate), 3 DSA and 6 DSA-NSEC3-SHA1 (1024-bit
	 * DSA, MUST NOT validate, gone from unbound and BIND), 12 ECC-GOST
	 * (only MAY, and absent from stock OpenSSL 3, so most resolvers
	 * treat it as unknown).  5 and 7 stay although SHA-1 is weak: RFC
	 * 8624 still says MUST, and most resolvers validate them -- but
	 * not all: RHEL 9's crypto policy refuses SHA-1 signatures.
	 */
	switch (alg) {
	case 5: case 7: case 8: case 10: case 13: case 14: case 15: case 16:
		return true;
	default:
		return false;
	}
}

int
dsmatch_ds_line(const char *owner, uint16_t keytag, uint8_t alg,
    const uint8_t *rdata, size_t rdata_len, char *out, size_t outlen)
{
	uint8_t		 wire[DSMATCH_NAME_MAX], dg[DSMATCH_DIGEST_MAX];
	size_t		 wlen, dl;

	if (outlen > 0)
		out[0] = '\0';
	if (dsmatch_name_to_wire(owner, wire, sizeof(wire), &wlen, NULL,
	    0) == -1 || dsmatch_digest(wire, wlen, rdata, rdata_len, 2, dg,
	    sizeof(dg), &dl) == -1)
		return -1;
	return dsmatch_ds_record(owner, keytag, alg, 2, dg, dl, out, outlen);
}

bool
dsmatch_algorithm_deprecated(int alg)
{
	switch (alg) {
	case 1: case 3: case 5: case 6: case 7: case 12:
		return true;
	default:
		return false;
	}
}

bool
dsmatch_digest_deprecated(int digest_type)
{
	return digest_type == 0 || digest_type == 1 || digest_type == 3;
}

bool
dsmatch_sha384_warranted(int alg)
{
	return alg == 14 || alg == 16;
}

int
dsmatch_rsa_bits(const uint8_t *rdata, size_t len)
{
	size_t	 off = 4, elen, mlen;
	int	 bits;
	uint8_t	 top;

	if (rdata == NULL || len < 5)
		return -1;
	switch (rdata[3]) {
	case 1: case 5: case 7: case 8: case 10:
		break;
	default:
		return -1;
	}
	elen = rdata[off++];
	if (elen == 0) {
		/* RFC 3110 2: a zero octet, then the length in two. */
		if (len < off + 2)
			return -1;
		elen = (size_t)rdata[off] << 8 | rdata[off + 1];
		off += 2;
	}
	if (elen == 0 || elen >= len - off)
		return -1;
	off += elen;
	/* Leading zero octets are not part of the modulus size. */
	while (off < len && rdata[off] == 0)
		off++;
	if (off == len)
		return -1;
	mlen = len - off;
	bits = (int)(mlen * 8);
	for (top = rdata[off]; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}
