/*
 * DNSSEC arithmetic: key tags, DS digests, owner names in canonical wire
 * form and the DS line an operator pastes at the registrar. The probe,
 * the store, the exporter, the DNS host events and the commands all
 * compute these; one copy here keeps them agreeing (a DS the classifier
 * matches is the DS the API prints).
 *
 * Pure functions over caller storage: nothing here allocates anything the
 * caller must free, keeps state between calls or does I/O.  Digests come
 * from OpenSSL libcrypto (EVP); nothing hashes by hand.
 */
#ifndef DNSSECMON_COMMON_DSMATCH_H
#define DNSSECMON_COMMON_DSMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DSMATCH_NAME_MAX	255	/* wire octets, RFC 1035 2.3.4 */
#define DSMATCH_LABEL_MAX	63
/*
 * Longest presentation form of a DSMATCH_NAME_MAX name, with NUL: four
 * labels carrying 250 octets, each written as \DDD, plus four dots.
 */
#define DSMATCH_NAME_STRLEN	1005
#define DSMATCH_DIGEST_MAX	48	/* SHA-384, the longest type we compute */

/*
 * RFC 4034 Appendix B key tag of a DNSKEY RDATA (flags | protocol |
 * algorithm | public key), with the B.1 rule for algorithm 1 (RSAMD5).
 * Returns 0 when len < 4, or for RSAMD5 when the key is under 3 octets;
 * 0 is also a legitimate tag, so a caller that cares checks len first.
 */
uint16_t	dsmatch_keytag(const uint8_t *rdata, size_t len);

/*
 * Presentation name (RFC 1035 5.1, with or without the trailing dot; "."
 * is the root) to canonical wire form: uncompressed, ASCII lower-cased.
 * Bare characters are limited to letters, digits, '-', '_' and '*';
 * anything else must be escaped as \X or \DDD.  Writes at most outlen
 * octets to the caller's out and the length to *wirelen.
 * Returns 0, or -1 with a one-line reason in the caller's err (err may be
 * NULL or errlen 0 when the reason is not wanted).
 */
int		dsmatch_name_to_wire(const char *name, uint8_t *out,
		    size_t outlen, size_t *wirelen, char *err, size_t errlen);

/*
 * Wire name back to presentation form, always with the trailing dot,
 * escaped the way BIND prints names (dns_name_totext): \X for the
 * characters special in zone files, \DDD for the unprintable, everything
 * else bare and in its own case.  Fills the caller's out (outlen of
 * DSMATCH_NAME_STRLEN always suffices).  Returns 0, or -1 for a malformed
 * wire name (compression, overrun, trailing octets, over 255) or a short
 * buffer.
 */
int		dsmatch_wire_to_name(const uint8_t *wire, size_t len,
		    char *out, size_t outlen);

/*
 * The one spelling of a domain the monitor keys everything on (config,
 * store, API, webhook events, command arguments): the name as given,
 * checked with dsmatch_name_to_wire, ASCII lower-cased, without the final
 * dot (the root stays ".").  Into the caller's out.  Returns 0, or -1
 * with a one-line reason in err (may be NULL) for an invalid name or one
 * that does not fit outlen.
 */
int		dsmatch_name_normalise(const char *name, char *out,
		    size_t outlen, char *err, size_t errlen);

/* Digest types we can compute: 1 SHA-1, 2 SHA-256, 4 SHA-384. */
bool		dsmatch_digest_supported(int digest_type);

/*
 * DS digest (RFC 4034 5.1.4) = hash(owner wire | DNSKEY RDATA) into the
 * caller's out, length in *digest_len.  owner_wire is lower-cased here
 * before hashing: a DS over a mixed-case owner would never match.
 * Returns 0, or -1 for an unsupported type (3 GOST included), a malformed
 * owner, rdata_len < 4, outlen below the digest size or a libcrypto error.
 */
int		dsmatch_digest(const uint8_t *owner_wire, size_t owner_len,
		    const uint8_t *dnskey_rdata, size_t rdata_len,
		    int digest_type, uint8_t *out, size_t outlen,
		    size_t *digest_len);

/*
 * Does this DS point at this DNSKEY?  Returns 1 when key tag, algorithm
 * and digest all match, 0 when any differs, -1 when it cannot be checked:
 * the digest type is not one we compute (RFC 4509 3: such a DS is to be
 * ignored, not treated as a mismatch) or the owner or RDATA is malformed.
 * The DNSKEY's zone-key flag and protocol are not looked at: that is a
 * property of the key, reported separately by the caller.
 */
int		dsmatch_ds_matches(const uint8_t *owner_wire, size_t owner_len,
		    uint16_t ds_keytag, uint8_t ds_alg, uint8_t ds_digest_type,
		    const uint8_t *ds_digest, size_t ds_digest_len,
		    const uint8_t *dnskey_rdata, size_t rdata_len);

/*
 * The DS line exactly as BIND 9.18 dnssec-dsfromkey prints it without -T,
 * e.g. "dskey.example.com. IN DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118":
 * owner re-rendered as by dsmatch_wire_to_name (case kept, trailing dot),
 * single spaces, upper-case hex, no newline.  Fills the caller's out.
 * Returns 0, or -1 (out set to "" when outlen > 0) for an invalid owner,
 * an empty digest or a short buffer.
 */
int		dsmatch_ds_record(const char *owner_presentation,
		    uint16_t keytag, uint8_t alg, uint8_t digest_type,
		    const uint8_t *digest, size_t dlen, char *out,
		    size_t outlen);

/*
 * The DS a registrar wants for a key: SHA-256 (digest type 2, the one
 * every validator supports), as dsmatch_ds_record prints it, from the
 * key's whole DNSKEY RDATA. 0, or -1 (out "") on a bad name or key.
 */
int		dsmatch_ds_line(const char *owner_presentation,
		    uint16_t keytag, uint8_t alg, const uint8_t *rdata,
		    size_t rdata_len, char *out, size_t outlen);

/*
 * Upper-case hex of in into the caller's out, always NUL-terminated when
 * outlen > 0.  Stops at the last whole octet that fits: outlen of
 * 2 * len + 1 holds all of it.
 */
void		dsmatch_hex_upper(const uint8_t *in, size_t len, char *out,
		    size_t outlen);

/*
 * Hex string (either case, no blanks, "" allowed) into the caller's out,
 * octet count in *len.  Returns 0, or -1 for odd length, a non-hex
 * character or more than outlen octets.
 */
int		dsmatch_hex_decode(const char *hex, uint8_t *out,
		    size_t outlen, size_t *len);

/*
 * IANA mnemonic of a DNSSEC algorithm number ("RSASHA256", "ED25519"),
 * a static string; NULL for unassigned or reserved numbers.
 */
const char	*dsmatch_algorithm_name(int alg);

/*
 * Whether a current validator (RFC 8624 "MUST"/"RECOMMENDED" to validate)
 * checks signatures of this algorithm: 5, 7, 8, 10, 13, 14, 15, 16.
 * A zone signed only with anything else is treated as insecure by
 * resolvers, which is what the probe must predict.
 */
bool		dsmatch_algorithm_supported(int alg);

/*
 * Algorithms that are deprecated for signing: 1 RSAMD5, 3 DSA, 6
 * DSA-NSEC3-SHA1 and 12 ECC-GOST (RFC 8624: MUST NOT sign), 5 RSASHA1 and
 * 7 RSASHA1-NSEC3-SHA1 (RFC 9904 and draft-ietf-dnsop-must-not-sha1: MUST
 * NOT sign; validators are dropping SHA-1).  A DS for a key of these is
 * never proposed.
 */
bool		dsmatch_algorithm_deprecated(int alg);

/* DS digest types that must not be used for a delegation: 0, 1 SHA-1
 * (RFC 8624 MUST NOT, RFC 9904), 3 GOST R 34.11-94 (MUST NOT). */
bool		dsmatch_digest_deprecated(int digest_type);

/*
 * Whether a key of this algorithm warrants a SHA-384 DS (digest type 4)
 * beside the SHA-256 one: 14 ECDSAP384SHA384 and 16 ED448, whose strength
 * (192 and 224 bits) exceeds what SHA-256 matches.
 */
bool		dsmatch_sha384_warranted(int alg);

/*
 * Modulus size in bits of an RSA DNSKEY (algorithms 1, 5, 7, 8, 10) from
 * its whole RDATA, public key in RFC 3110 form: exponent length in one
 * octet (or 0 and two octets), exponent, modulus.  Leading zero bits of
 * the modulus do not count.  Returns -1 for another algorithm or a
 * malformed key (lengths past the end, empty exponent or modulus).
 */
int		dsmatch_rsa_bits(const uint8_t *rdata, size_t len);

#endif /* DNSSECMON_COMMON_DSMATCH_H */
