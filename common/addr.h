/*
 * Server addresses as dnssecmon spells them: "ADDR" or "ADDR@PORT" (and
 * "[v6]:PORT"), the syntax of resolvers:, servers and root hints in the
 * configuration, of `check --resolver`, and of every address the probe
 * reports. The configuration (cli/), the probe and the HTTP listener's
 * settings parse with these, so an address means the same wherever it is
 * written.
 *
 * Pure functions over caller storage: no allocation, no name resolution
 * (a host name is refused, never looked up), no I/O.
 */
#ifndef DNSSECMON_COMMON_ADDR_H
#define DNSSECMON_COMMON_ADDR_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* Longest text addr_text() writes, with NUL: an IPv6 address, '@' and a
 * port. */
#define ADDR_TEXT_MAX	(46 + 6)

/*
 * "192.0.2.1", "192.0.2.1@5353", "2001:db8::1", "2001:db8::1@5353" or
 * "[2001:db8::1]:5353" into the caller's sockaddr; default_port when none
 * is given. Returns 0, or -1 with the reason in err.
 */
int	addr_parse(const char *text, uint16_t default_port,
	    struct sockaddr_storage *ss, socklen_t *len, char *err,
	    size_t errlen);

/*
 * An address as DNS carries it (the RDATA of an A record, 4 octets, or of
 * an AAAA record, 16) with a port into the caller's sockaddr. Returns 0,
 * or -1 for any other size (nothing written).
 */
int	addr_from_rdata(const uint8_t *data, size_t size, uint16_t port,
	    struct sockaddr_storage *ss, socklen_t *len);

/*
 * The inverse of addr_parse: "ADDR", or "ADDR@PORT" when the port is not
 * 53, into the caller's buf (ADDR_TEXT_MAX always suffices); "?" for a
 * family other than IPv4 and IPv6. Returns buf.
 */
const char *addr_text(const struct sockaddr *, char *buf, size_t len);

#endif
