/*
 * common/dsmatch: RFC 4034/4509 vectors, BIND as the reference for key
 * tags and DS lines, and the name and hex parsers' edges.
 *
 * The BIND cross-check runs dnssec-keygen and dnssec-dsfromkey (Debian
 * bind9-utils, part of "make deps"); without them those checks fail
 * rather than skip, because then nothing here compares against anything
 * but our own reading of the RFCs.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/dsmatch.h"
#include "tests/unit/tap.h"

#define KEYDATA_MAX	2048
#define LINE_MAX_LEN	4096

/* RFC 4034 5.4: dskey.example.com. DNSKEY 256 3 5, key id 60485. */
static const char rfc4034_key_b64[] =
    "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/"
    "2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvx"
    "egXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9Xzc"
    "nOf+EPbtG9DMBmADjFDc2w/rljwvFw==";
static const char rfc4034_sha1[] = "2BB183AF5F22588179A53B0A98631FAD1A292118";
/* RFC 4509 2.1, same key. */
static const char rfc4509_sha256[] =
    "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A";

/*
 * Base64 without blanks to octets.  EVP_DecodeBlock counts the padding
 * as zero octets, so they are taken off again.  -1 on bad input.
 */
static int
b64_decode(const char *b64, uint8_t *out, size_t outlen, size_t *len)
{
	size_t	 n = strlen(b64);
	int	 r, pad = 0;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > outlen)
		return -1;
	if (b64[n - 1] == '=')
		pad++;
	if (b64[n - 2] == '=')
		pad++;
	r = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (r < pad)
		return -1;
	*len = (size_t)(r - pad);
	return 0;
}

/* DNSKEY RDATA from its presentation fields. */
static int
make_rdata(unsigned int flags, unsigned int proto, unsigned int alg,
    const char *b64, uint8_t *rdata, size_t rdlen, size_t *len)
{
	size_t	 klen;

	if (rdlen < 4 || b64_decode(b64, rdata + 4, rdlen - 4, &klen) == -1)
		return -1;
	rdata[0] = (uint8_t)(flags >> 8);
	rdata[1] = (uint8_t)flags;
	rdata[2] = (uint8_t)proto;
	rdata[3] = (uint8_t)alg;
	*len = 4 + klen;
	return 0;
}

static void
test_rfc_vectors(void)
{
	uint8_t		 rdata[KEYDATA_MAX], owner[DSMATCH_NAME_MAX];
	uint8_t		 upper[DSMATCH_NAME_MAX], d[DSMATCH_DIGEST_MAX];
	uint8_t		 want1[20], want2[32], bad[20];
	char		 hex[2 * DSMATCH_DIGEST_MAX + 1], line[256];
	size_t		 rlen = 0, olen = 0, ulen = 0, dlen = 0, n;

	if (!ok(make_rdata(256, 3, 5, rfc4034_key_b64, rdata, sizeof(rdata),
	    &rlen) == 0, "RFC 4034 5.4 key decodes"))
		return;
	/* RFC 3110: exponent length 1, exponent 3, 128-octet modulus. */
	ok(rlen == 4 + 130 && rdata[4] == 1 && rdata[5] == 3,
	    "RFC 4034 key is a 1024-bit RSA key with exponent 3");
	is_int(dsmatch_keytag(rdata, rlen), 60485, "RFC 4034 5.4 key tag");
	ok(dsmatch_name_to_wire("dskey.example.com", owner, sizeof(owner),
	    &olen, NULL, 0) == 0, "owner dskey.example.com to wire");
	ok(dsmatch_name_to_wire("DSKEY.Example.COM.", upper, sizeof(upper),
	    &ulen, NULL, 0) == 0, "mixed-case owner to wire");
	ok(ulen == olen && memcmp(upper, owner, olen) == 0,
	    "canonical wire ignores the owner's case");

	ok(dsmatch_digest(owner, olen, rdata, rlen, 1, d, sizeof(d),
	    &dlen) == 0, "SHA-1 digest computed");
	dsmatch_hex_upper(d, dlen, hex, sizeof(hex));
	is_str(hex, rfc4034_sha1, "RFC 4034 5.4 SHA-1 DS digest");
	ok(dsmatch_digest(owner, olen, rdata, rlen, 2, d, sizeof(d),
	    &dlen) == 0, "SHA-256 digest computed");
	dsmatch_hex_upper(d, dlen, hex, sizeof(hex));
	is_str(hex, rfc4509_sha256, "RFC 4509 2.1 SHA-256 DS digest");
	ok(dsmatch_digest(owner, olen, rdata, rlen, 4, d, sizeof(d),
	    &dlen) == 0 && dlen == 48, "SHA-384 digest is 48 octets");
	ok(dsmatch_digest(owner, olen, rdata, rlen, 3, d, sizeof(d),
	    &dlen) == -1, "digest type 3 (GOST) refused");
	ok(dsmatch_digest(owner, olen, rdata, rlen, 2, d, 31, &dlen) == -1,
	    "SHA-256 into 31 octets refused");
	ok(dsmatch_digest(owner, olen - 1, rdata, rlen, 2, d, sizeof(d),
	    &dlen) == -1, "owner without its root label refused");
	ok(dsmatch_digest(owner, olen, rdata, 3, 2, d, sizeof(d),
	    &dlen) == -1, "3-octet DNSKEY RDATA refused");
	/* Upper-case wire must be folded before hashing. */
	upper[1] = 'D';
	ok(dsmatch_digest(upper, ulen, rdata, rlen, 1, d, sizeof(d),
	    &dlen) == 0, "digest over an upper-case wire owner");
	dsmatch_hex_upper(d, dlen, hex, sizeof(hex));
	is_str(hex, rfc4034_sha1, "upper-case wire owner folded first");

	ok(dsmatch_hex_decode(rfc4034_sha1, want1, sizeof(want1), &n) == 0 &&
	    n == 20, "SHA-1 vector decodes");
	ok(dsmatch_hex_decode(rfc4509_sha256, want2, sizeof(want2), &n) == 0 &&
	    n == 32, "SHA-256 vector decodes");
	is_int(dsmatch_ds_matches(owner, olen, 60485, 5, 1, want1, 20, rdata,
	    rlen), 1, "RFC 4034 DS matches its key");
	is_int(dsmatch_ds_matches(upper, ulen, 60485, 5, 2, want2, 32, rdata,
	    rlen), 1, "RFC 4509 DS matches its key (mixed-case wire owner)");
	is_int(dsmatch_ds_matches(owner, olen, 60486, 5, 1, want1, 20, rdata,
	    rlen), 0, "other key tag: no match");
	is_int(dsmatch_ds_matches(owner, olen, 60485, 8, 1, want1, 20, rdata,
	    rlen), 0, "other algorithm: no match");
	memcpy(bad, want1, sizeof(bad));
	bad[19] ^= 0x01;
	is_int(dsmatch_ds_matches(owner, olen, 60485, 5, 1, bad, 20, rdata,
	    rlen), 0, "one bit off in the digest: no match");
	is_int(dsmatch_ds_matches(owner, olen, 60485, 5, 1, want1, 19, rdata,
	    rlen), 0, "truncated digest: no match");
	is_int(dsmatch_ds_matches(owner, olen, 60485, 5, 2, want1, 20, rdata,
	    rlen), 0, "SHA-1 digest labelled SHA-256: no match");
	is_int(dsmatch_ds_matches(owner, olen, 60485, 5, 3, want1, 20, rdata,
	    rlen), -1, "digest type 3: cannot check");
	is_int(dsmatch_ds_matches(owner, olen, 60485, 5, 0, want1, 20, rdata,
	    rlen), -1, "digest type 0: cannot check");
	/* Another owner hashes differently although the key is the same. */
	ok(dsmatch_name_to_wire("dskey.example.net", upper, sizeof(upper),
	    &ulen, NULL, 0) == 0, "owner dskey.example.net to wire");
	is_int(dsmatch_ds_matches(upper, ulen, 60485, 5, 1, want1, 20, rdata,
	    rlen), 0, "same key under another owner: no match");

	ok(dsmatch_ds_record("dskey.example.com", 60485, 5, 1, want1, 20,
	    line, sizeof(line)) == 0, "DS line for the RFC 4034 key");
	is_str(line, "dskey.example.com. IN DS 60485 5 1 "
	    "2BB183AF5F22588179A53B0A98631FAD1A292118",
	    "DS line, owner given without trailing dot");
	ok(dsmatch_ds_record("dskey.example.com.", 60485, 5, 2, want2, 32,
	    line, sizeof(line)) == 0, "SHA-256 DS line");
	is_str(line, "dskey.example.com. IN DS 60485 5 2 "
	    "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A",
	    "DS line, owner given with trailing dot");
	ok(dsmatch_ds_record(".", 20326, 8, 1, want1, 20, line,
	    sizeof(line)) == 0, "DS line for the root");
	is_str(line, ". IN DS 20326 8 1 "
	    "2BB183AF5F22588179A53B0A98631FAD1A292118", "root owner is \".\"");
	/* 75 characters and the NUL: one short must fail. */
	ok(dsmatch_ds_record("dskey.example.com", 60485, 5, 1, want1, 20,
	    line, 76) == 0, "DS line in an exact-size buffer");
	ok(dsmatch_ds_record("dskey.example.com", 60485, 5, 1, want1, 20,
	    line, 75) == -1 && line[0] == '\0',
	    "DS line one octet short: -1 and empty");
	ok(dsmatch_ds_record("bad name", 60485, 5, 1, want1, 20, line,
	    sizeof(line)) == -1, "DS line with an invalid owner refused");
	ok(dsmatch_ds_record("a.test", 1, 13, 2, want1, 0, line,
	    sizeof(line)) == -1, "DS line with an empty digest refused");
}

static void
test_keytag(void)
{
	/* flags 256, proto 3, alg 1, RFC 3110 key: explen 1, exp 3, modulus */
	uint8_t	 md5[] = { 0x01, 0x00, 0x03, 0x01, 0x01, 0x03,
		     0xaa, 0xbb, 0xcc, 0xdd, 0xee };

	is_int(dsmatch_keytag(md5, sizeof(md5)), 0xccdd,
	    "RSAMD5 tag: 2nd and 3rd last modulus octets (RFC 4034 B.1)");
	md5[3] = 5;
	/* Worked by hand: 617 << 8 + 416 = 158368, + 2 carry, mod 2^16. */
	is_int(dsmatch_keytag(md5, sizeof(md5)), 27298,
	    "same octets as alg 5: the Appendix B checksum");
	is_int(dsmatch_keytag(md5, 3), 0, "3-octet RDATA: tag 0");
	md5[3] = 1;
	is_int(dsmatch_keytag(md5, 6), 0, "RSAMD5 with a 2-octet key: tag 0");
}

/* Good names: input, expected wire (as a C string literal), its length. */
struct name_case {
	const char	*in;
	const char	*wire;
	size_t		 len;
};

static void
test_names_good(void)
{
	static const struct name_case	 cases[] = {
		{ "Example.COM", "\007example\003com", 13 },
		{ "example.com.", "\007example\003com", 13 },
		{ ".", "", 1 },
		{ "localhost", "\011localhost", 11 },
		{ "a\\.b.test", "\003a.b\004test", 10 },
		{ "x\\065y.test", "\003xay\004test", 10 },
		{ "x\\097Y.test", "\003xay\004test", 10 },
		{ "a\\000b", "\003a\000b", 5 },
		{ "a\\ b\\@", "\004a b@", 6 },
		{ "\\255", "\001\377", 3 },
		{ "_dmarc._TCP.example", "\006_dmarc\004_tcp\007example", 21 },
		{ "*.xn--bcher-kva.example",
		    "\001*\015xn--bcher-kva\007example", 25 },
		{ "a\\.", "\002a.", 4 },
	};
	uint8_t		 wire[DSMATCH_NAME_MAX];
	char		 err[128], name[400];
	size_t		 i, len;
	int		 r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		len = 0;
		r = dsmatch_name_to_wire(cases[i].in, wire, sizeof(wire), &len,
		    err, sizeof(err));
		if (!ok(r == 0 && len == cases[i].len &&
		    memcmp(wire, cases[i].wire, len) == 0 &&
		    wire[len - 1] == 0, "name \"%s\" to wire", cases[i].in))
			tap_diag("r=%d len=%zu want %zu err=\"%s\"", r, len,
			    cases[i].len, err);
	}

	/* Exactly at the limits: 63-octet label, 255-octet name. */
	memset(name, 'a', 63);
	memcpy(name + 63, ".test", 6);
	ok(dsmatch_name_to_wire(name, wire, sizeof(wire), &len, NULL, 0) == 0 &&
	    len == 70 && wire[0] == 63, "63-octet label accepted");
	/* 63.63.63.61 labels: 4 length octets + 250 + root = 255. */
	memset(name, 'b', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	ok(dsmatch_name_to_wire(name, wire, sizeof(wire), &len, NULL, 0) == 0 &&
	    len == 255, "255-octet name accepted");
	ok(dsmatch_name_to_wire(name, wire, 254, &len, err, sizeof(err)) == -1,
	    "255-octet name into 254 octets refused");
	is_str(err, "the name needs 255 octets, the buffer holds 254",
	    "short buffer message");
}

struct name_bad {
	const char	*in;
	const char	*err;
};

static void
test_names_bad(void)
{
	static const struct name_bad	 cases[] = {
		{ "", "empty name" },
		{ "..", "label 1 is empty (the name starts with a dot)" },
		{ ".example", "label 1 is empty (the name starts with a dot)" },
		{ "a..b", "label 2 is empty (two dots in a row)" },
		{ "a.b..", "label 3 is empty (two dots in a row)" },
		{ "exa mple.com", "offset 3: byte 0x20 is not allowed in a name "
		    "(escape it as \\032)" },
		{ "example.com/24", "offset 11: character '/' is not allowed in "
		    "a name (escape it as \\/)" },
		{ "example.com:53", "offset 11: character ':' is not allowed in "
		    "a name (escape it as \\:)" },
		{ "tab\there", "offset 3: byte 0x09 is not allowed in a name "
		    "(escape it as \\009)" },
		{ "b\xc3\xbc" "cher.example", "offset 1: byte 0xc3 is not "
		    "allowed in a name (an IDN needs its xn-- form)" },
		{ "a\\256.test", "offset 1: escape \\256 is above 255" },
		{ "a\\12.test", "offset 1: a \\DDD escape needs exactly three "
		    "digits" },
		{ "a\\1", "offset 1: a \\DDD escape needs exactly three digits" },
		{ "ab\\", "offset 2: the name ends in a lone backslash" },
	};
	uint8_t		 wire[DSMATCH_NAME_MAX];
	char		 err[128], name[400];
	size_t		 i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(err, "untouched", 10);
		ok(dsmatch_name_to_wire(cases[i].in, wire, sizeof(wire), &len,
		    err, sizeof(err)) == -1 && len == 0,
		    "name \"%s\" refused", cases[i].in);
		is_str(err, cases[i].err, "message for \"%s\"", cases[i].in);
	}

	ok(dsmatch_name_to_wire(NULL, wire, sizeof(wire), &len, err,
	    sizeof(err)) == -1, "NULL name refused");
	is_str(err, "no name given", "message for NULL");

	memset(name, 'a', 68);
	memcpy(name, "www.", 4);
	memcpy(name + 68, ".test", 6);
	ok(dsmatch_name_to_wire(name, wire, sizeof(wire), &len, err,
	    sizeof(err)) == -1, "64-octet second label refused");
	is_str(err, "label 2 is 64 octets, the limit is 63",
	    "label length message");

	/* 63.63.63.62: one octet over, with every label legal. */
	memset(name, 'c', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[254] = '\0';
	ok(dsmatch_name_to_wire(name, wire, sizeof(wire), &len, err,
	    sizeof(err)) == -1, "256-octet name refused");
	is_str(err, "the name is 256 octets in wire format, the limit is 255",
	    "name length message");

	/* A too-short err must still be NUL-terminated, not overrun. */
	memset(err, 'x', sizeof(err));
	ok(dsmatch_name_to_wire("a..b", wire, sizeof(wire), &len, err, 8) ==
	    -1 && strcmp(err, "label 2") == 0 && err[8] == 'x',
	    "message truncated to the caller's errlen");
	ok(dsmatch_name_to_wire("a..b", wire, sizeof(wire), &len, NULL, 0) ==
	    -1, "err may be NULL");
}

static void
test_wire_to_name(void)
{
	static const uint8_t	 odd[] = "\015a\"()\\;@$. /\177\000";
	static const uint8_t	 ptr[] = { 0xc0, 0x0c };
	static const uint8_t	 over[] = { 3, 'a', 'b' };
	static const uint8_t	 extra[] = { 1, 'a', 0, 0 };
	uint8_t			 wire[DSMATCH_NAME_MAX];
	char			 text[DSMATCH_NAME_STRLEN];
	size_t			 len;

	ok(dsmatch_wire_to_name(odd, sizeof(odd), text, sizeof(text)) == 0,
	    "wire with special octets to text");
	is_str(text, "a\\\"\\(\\)\\\\\\;\\@\\$\\.\\032/\\127\\000.",
	    "escaped as BIND escapes them");
	ok(dsmatch_wire_to_name((const uint8_t *)"", 1, text,
	    sizeof(text)) == 0, "root to text");
	is_str(text, ".", "root is \".\"");
	ok(dsmatch_wire_to_name(ptr, sizeof(ptr), text, sizeof(text)) == -1,
	    "compression pointer refused");
	ok(dsmatch_wire_to_name(over, sizeof(over), text, sizeof(text)) == -1,
	    "label running past the end refused");
	ok(dsmatch_wire_to_name(extra, sizeof(extra), text, sizeof(text)) == -1,
	    "octets after the root refused");
	ok(dsmatch_name_to_wire("Mixed.Case", wire, sizeof(wire), &len, NULL,
	    0) == 0 && dsmatch_wire_to_name(wire, len, text, 12) == 0,
	    "text in an exact-size buffer");
	is_str(text, "mixed.case.", "folded name back to text");
	ok(dsmatch_wire_to_name(wire, len, text, 11) == -1 && text[0] == '\0',
	    "text buffer one short refused");
}

static void
test_hex(void)
{
	static const uint8_t	 in[] = { 0x00, 0xab, 0x1f, 0xf0, 0x09 };
	uint8_t			 out[8], big[256], back[sizeof(big)];
	char			 hex[2 * sizeof(big) + 1];
	size_t			 len, i;

	dsmatch_hex_upper(in, sizeof(in), hex, sizeof(hex));
	is_str(hex, "00AB1FF009", "hex is upper case, two digits an octet");
	dsmatch_hex_upper(in, sizeof(in), hex, 4);
	is_str(hex, "00", "hex stops at the last whole octet that fits");
	dsmatch_hex_upper(in, 0, hex, sizeof(hex));
	is_str(hex, "", "no octets: empty string");

	ok(dsmatch_hex_decode("00aB1Ff009", out, sizeof(out), &len) == 0 &&
	    len == 5 && memcmp(out, in, 5) == 0, "mixed-case hex decodes");
	ok(dsmatch_hex_decode("", out, sizeof(out), &len) == 0 && len == 0,
	    "empty hex is zero octets");
	ok(dsmatch_hex_decode("abc", out, sizeof(out), &len) == -1,
	    "odd length refused");
	ok(dsmatch_hex_decode("0g", out, sizeof(out), &len) == -1,
	    "'g' refused");
	ok(dsmatch_hex_decode("AB CD", out, sizeof(out), &len) == -1,
	    "blank refused");
	ok(dsmatch_hex_decode("0x12", out, sizeof(out), &len) == -1,
	    "0x prefix refused");
	ok(dsmatch_hex_decode("001122334455667788", out, sizeof(out),
	    &len) == -1, "9 octets into 8 refused");
	ok(dsmatch_hex_decode("0011223344556677", out, sizeof(out), &len) ==
	    0 && len == 8, "8 octets into 8 accepted");

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 37 + 11);
	dsmatch_hex_upper(big, sizeof(big), hex, sizeof(hex));
	ok(dsmatch_hex_decode(hex, back, sizeof(back), &len) == 0 &&
	    len == sizeof(big) && memcmp(back, big, len) == 0,
	    "256 octets round-trip through hex");
}

static void
test_algorithms(void)
{
	is_str(dsmatch_algorithm_name(8), "RSASHA256", "alg 8 name");
	is_str(dsmatch_algorithm_name(13), "ECDSAP256SHA256", "alg 13 name");
	is_str(dsmatch_algorithm_name(14), "ECDSAP384SHA384", "alg 14 name");
	is_str(dsmatch_algorithm_name(15), "ED25519", "alg 15 name");
	is_str(dsmatch_algorithm_name(16), "ED448", "alg 16 name");
	is_str(dsmatch_algorithm_name(7), "RSASHA1-NSEC3-SHA1", "alg 7 name");
	is_str(dsmatch_algorithm_name(4), NULL, "alg 4 is reserved");
	is_str(dsmatch_algorithm_name(255), NULL, "alg 255 is reserved");
	is_str(dsmatch_algorithm_name(-1), NULL, "alg -1 is nothing");
	ok(dsmatch_algorithm_supported(8) && dsmatch_algorithm_supported(13) &&
	    dsmatch_algorithm_supported(15) && dsmatch_algorithm_supported(5),
	    "algorithms 5, 8, 13, 15 supported");
	ok(!dsmatch_algorithm_supported(1), "RSAMD5 not supported");
	ok(!dsmatch_algorithm_supported(3), "DSA not supported");
	ok(!dsmatch_algorithm_supported(6), "DSA-NSEC3-SHA1 not supported");
	ok(!dsmatch_algorithm_supported(12), "ECC-GOST not supported");
	ok(!dsmatch_algorithm_supported(256), "256 not supported");
	ok(dsmatch_digest_supported(1) && dsmatch_digest_supported(2) &&
	    dsmatch_digest_supported(4), "digest types 1, 2, 4 supported");
	ok(!dsmatch_digest_supported(3) && !dsmatch_digest_supported(0) &&
	    !dsmatch_digest_supported(5), "digest types 0, 3, 5 unsupported");
}

/* ------------------------------------------------------------- BIND */

/* First line of a command's stdout without its newline; -1 if none. */
static int
run_line(const char *cmd, char *out, size_t outlen)
{
	FILE	*fp;
	int	 r = -1;

	out[0] = '\0';
	if ((fp = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(out, (int)outlen, fp) != NULL) {
		out[strcspn(out, "\n")] = '\0';
		r = 0;
	}
	/* Drain, so the child never dies of SIGPIPE and pclose is honest. */
	while (fgetc(fp) != EOF)
		;
	if (pclose(fp) != 0)
		r = -1;
	return r;
}

/*
 * The DNSKEY line of a .key file to RDATA.  BIND writes
 * "owner IN DNSKEY flags proto alg base64 base64 ..."; the owner holds no
 * blank because BIND writes a space as \032.
 */
static int
read_keyfile(const char *path, uint8_t *rdata, size_t rdlen, size_t *len)
{
	FILE		*fp;
	char		 line[LINE_MAX_LEN], b64[LINE_MAX_LEN], num[8], *p, *end;
	unsigned long	 v;
	unsigned int	 f[3];
	size_t		 b = 0, n;
	int		 field = 0, r = -1;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == ';' || line[0] == '\n')
			continue;
		for (p = line; ; p += n, field++) {
			p += strspn(p, " \t\n");
			if (*p == '\0')
				break;
			n = strcspn(p, " \t\n");
			if (field >= 3 && field <= 5) {
				if (n >= sizeof(num))
					goto out;
				memcpy(num, p, n);
				num[n] = '\0';
				errno = 0;
				v = strtoul(num, &end, 10);
				if (errno != 0 || *end != '\0' || v > 65535)
					goto out;
				f[field - 3] = (unsigned int)v;
			} else if (field >= 6) {
				if (b + n >= sizeof(b64))
					goto out;
				memcpy(b64 + b, p, n);
				b += n;
			}
		}
		break;
	}
	b64[b] = '\0';
	if (field >= 7)
		r = make_rdata(f[0], f[1], f[2], b64, rdata, rdlen, len);
out:
	fclose(fp);
	return r;
}

static int
rm_tree(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[1024];
	int		 r = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || unlink(path) == -1)
			r = -1;
	}
	closedir(d);
	if (rmdir(dir) == -1)
		r = -1;
	return r;
}

static const struct {
	int		 type;
	const char	*name;		/* dnssec-dsfromkey -a; 9.18 has no -4 */
} bind_digests[] = {
	{ 1, "SHA-1" },
	{ 2, "SHA-256" },
	{ 4, "SHA-384" },
};

/*
 * One key from dnssec-keygen, checked against dnssec-dsfromkey: key tag,
 * each digest, and the DS line byte for byte.  "owner" goes to the shell
 * in single quotes, so it must not hold one.
 */
static void
bind_crosscheck(const char *dir, int alg, const char *owner, bool required)
{
	char		 cmd[2048], base[512], path[1024], want[LINE_MAX_LEN];
	char		 line[LINE_MAX_LEN], *sp;
	uint8_t		 rdata[KEYDATA_MAX], wire[DSMATCH_NAME_MAX];
	uint8_t		 d[DSMATCH_DIGEST_MAX], bd[DSMATCH_DIGEST_MAX];
	size_t		 rlen, wlen, dlen, bdlen, i;
	unsigned long	 tag;
	uint16_t	 mytag;
	bool		 made;

	snprintf(cmd, sizeof(cmd), "dnssec-keygen -a %d -f KSK -K '%s' '%s' "
	    "2>/dev/null </dev/null", alg, dir, owner);
	made = run_line(cmd, base, sizeof(base)) == 0 && base[0] == 'K';
	if (!made && !required) {
		tap_diag("dnssec-keygen cannot make algorithm %d keys: skipped",
		    alg);
		return;
	}
	if (!ok(made, "dnssec-keygen made an algorithm %d key for %s (%s)",
	    alg, owner, made ? base : "none"))
		return;
	snprintf(path, sizeof(path), "%s/%s.key", dir, base);
	if (!ok(read_keyfile(path, rdata, sizeof(rdata), &rlen) == 0 &&
	    rdata[3] == alg, "%s.key parsed, algorithm %d", base, alg))
		return;

	/* The file name ends in +TAG, zero-padded to five digits. */
	sp = strrchr(base, '+');
	tag = sp != NULL ? strtoul(sp + 1, NULL, 10) : 0;
	mytag = dsmatch_keytag(rdata, rlen);
	is_int(mytag, tag, "alg %d key tag agrees with dnssec-keygen", alg);

	if (!ok(dsmatch_name_to_wire(owner, wire, sizeof(wire), &wlen, NULL,
	    0) == 0, "owner %s to wire", owner))
		return;
	for (i = 0; i < sizeof(bind_digests) / sizeof(bind_digests[0]); i++) {
		/* 9.18 ignores -K for a key file argument: a path it is. */
		snprintf(cmd, sizeof(cmd), "dnssec-dsfromkey -a %s '%s' "
		    "2>/dev/null </dev/null", bind_digests[i].name, path);
		if (!ok(run_line(cmd, want, sizeof(want)) == 0,
		    "dnssec-dsfromkey -a %s %s", bind_digests[i].name, base))
			continue;
		if (!ok(dsmatch_digest(wire, wlen, rdata, rlen,
		    bind_digests[i].type, d, sizeof(d), &dlen) == 0,
		    "alg %d digest type %d computed", alg,
		    bind_digests[i].type))
			continue;
		ok(dsmatch_ds_record(owner, mytag, (uint8_t)alg,
		    (uint8_t)bind_digests[i].type, d, dlen, line,
		    sizeof(line)) == 0, "alg %d type %d DS line made", alg,
		    bind_digests[i].type);
		is_str(line, want, "alg %d type %d DS line byte for byte as "
		    "dnssec-dsfromkey", alg, bind_digests[i].type);

		/* And the other way: BIND's digest matches our key. */
		sp = strrchr(want, ' ');
		ok(sp != NULL && dsmatch_hex_decode(sp + 1, bd, sizeof(bd),
		    &bdlen) == 0 && dsmatch_ds_matches(wire, wlen, mytag,
		    (uint8_t)alg, (uint8_t)bind_digests[i].type, bd, bdlen,
		    rdata, rlen) == 1, "alg %d type %d BIND's DS matches the "
		    "key", alg, bind_digests[i].type);
	}
}

static void
test_bind(void)
{
	char		 dir[512];
	const char	*tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0' ||
	    strchr(tmp, '\'') != NULL)
		tmp = "/tmp";
	if ((size_t)snprintf(dir, sizeof(dir), "%s/dsmatch.XXXXXX", tmp) >=
	    sizeof(dir) || mkdtemp(dir) == NULL) {
		ok(0, "temporary directory for BIND keys");
		return;
	}
	bind_crosscheck(dir, 8, "example.test.", true);
	bind_crosscheck(dir, 13, "example.test.", true);
	bind_crosscheck(dir, 15, "example.test.", false);
	bind_crosscheck(dir, 16, "example.test.", false);
	/* Case kept, \DDD re-rendered, specials escaped: as BIND prints. */
	bind_crosscheck(dir, 13,
	    "Mixed\\065\\.\\@\\$\\\"\\(\\)\\;\\\\\\032\\/\\127\\000.Test", true);
	bind_crosscheck(dir, 13, ".", true);
	ok(rm_tree(dir) == 0, "temporary key directory removed");
}

/* RFC 3110 key sizes, from the key as served. */
static void
test_rsa_bits(void)
{
	uint8_t	 k[300];
	size_t	 i;

	memset(k, 0, sizeof(k));
	k[0] = 1; k[1] = 1; k[2] = 3; k[3] = 8;
	k[4] = 3; k[5] = 1; k[6] = 0; k[7] = 1;
	for (i = 8; i < 8 + 128; i++)
		k[i] = 0xa5;
	is_int(dsmatch_rsa_bits(k, 8 + 128), 1024, "RSA-1024: 1024 bits");
	k[8] = 0x01;
	is_int(dsmatch_rsa_bits(k, 8 + 128), 1017, "leading zero bits do not "
	    "count");
	k[8] = 0x00;
	is_int(dsmatch_rsa_bits(k, 8 + 128), 1016, "a leading zero octet does "
	    "not count");
	/* The long exponent form: 0, then a two-octet length. */
	k[4] = 0; k[5] = 0; k[6] = 3; k[7] = 1; k[8] = 0; k[9] = 1;
	for (i = 10; i < 10 + 256; i++)
		k[i] = 0xff;
	is_int(dsmatch_rsa_bits(k, 10 + 256), 2048, "two-octet exponent length");
	k[5] = 0xff;
	is_int(dsmatch_rsa_bits(k, 10 + 256), -1, "exponent past the end: -1");
	k[5] = 0;
	k[3] = 13;
	is_int(dsmatch_rsa_bits(k, 10 + 256), -1, "not RSA: -1");
	k[3] = 5;
	is_int(dsmatch_rsa_bits(k, 4), -1, "no public key: -1");
	k[4] = 3;
	is_int(dsmatch_rsa_bits(k, 8), -1, "exponent only, no modulus: -1");
	ok(dsmatch_algorithm_deprecated(5) && dsmatch_algorithm_deprecated(7) &&
	    dsmatch_algorithm_deprecated(1) && !dsmatch_algorithm_deprecated(8) &&
	    !dsmatch_algorithm_deprecated(13), "deprecated: 1, 5, 7, not 8, 13");
	ok(dsmatch_digest_deprecated(1) && !dsmatch_digest_deprecated(2) &&
	    !dsmatch_digest_deprecated(4), "SHA-1 digests are deprecated");
	ok(dsmatch_sha384_warranted(14) && !dsmatch_sha384_warranted(13),
	    "SHA-384 for algorithm 14, not 13");
}

/* The one spelling the config, the store, the API and the commands key
 * domains on. */
static void
test_normalise(void)
{
	char	 out[256], err[160];

	ok(dsmatch_name_normalise("Example.COM.", out, sizeof(out), err,
	    sizeof(err)) == 0, "a mixed-case name with the final dot");
	is_str(out, "example.com", "lower case, final dot gone");
	ok(dsmatch_name_normalise(".", out, sizeof(out), err,
	    sizeof(err)) == 0, "the root");
	is_str(out, ".", "the root keeps its dot");
	ok(dsmatch_name_normalise("", out, sizeof(out), err,
	    sizeof(err)) == -1, "an empty name is refused");
	is_str(err, "empty name", "and the reason says so");
	ok(dsmatch_name_normalise("a..b", out, sizeof(out), err,
	    sizeof(err)) == -1 && strstr(err, "two dots") != NULL,
	    "two dots in a row refused with the reason");
	ok(dsmatch_name_normalise("abcdefgh.example", out, 8, err,
	    sizeof(err)) == -1 && strstr(err, "the limit is 7") != NULL,
	    "a valid name that does not fit out is refused, not cut");
	ok(dsmatch_name_normalise("a.b", out, sizeof(out), NULL, 0) == 0 &&
	    strcmp(out, "a.b") == 0, "no reason wanted: err may be NULL");
	ok(dsmatch_name_normalise("A\\.", out, sizeof(out), err,
	    sizeof(err)) == 0, "a name ending in an escaped dot");
	is_str(out, "a\\.", "keeps that dot: it is data, not the root");
	ok(dsmatch_name_normalise("a\\\\.", out, sizeof(out), err,
	    sizeof(err)) == 0, "an escaped backslash, then the final dot");
	is_str(out, "a\\\\", "that dot goes");
}

int
main(void)
{
	test_keytag();
	test_rfc_vectors();
	test_names_good();
	test_names_bad();
	test_wire_to_name();
	test_hex();
	test_normalise();
	test_algorithms();
	test_bind();
	test_rsa_bits();
	return tap_done();
}
