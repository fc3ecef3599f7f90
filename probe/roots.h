/*
 * Where iteration starts: root hints and the trust anchor. (The address
 * syntax of resolvers and servers, "ADDR" or "ADDR@PORT", is
 * common/addr.h.)
 */
#ifndef DNSSECMON_PROBE_ROOTS_H
#define DNSSECMON_PROBE_ROOTS_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROOTS_MAX	32

struct roots {
	unsigned		 n;
	struct sockaddr_storage	 addrs[ROOTS_MAX];
	socklen_t		 lens[ROOTS_MAX];
};

/* Debian's copies (package dns-root-data). */
#define ROOTS_DEFAULT_ANCHOR	"/usr/share/dns/root.key"
#define ROOTS_DEFAULT_HINTS	"/usr/share/dns/root.hints"

/*
 * Root server addresses from a hints file (zone-file format, parsed by
 * getdns), or the built-in IANA list when file is NULL. IPv6 addresses
 * only when ipv6. Returns 0, or -1 with "FILE: reason" in err.
 */
int	roots_load_hints(const char *file, bool ipv6, struct roots *out,
	    char *err, size_t errlen);

/*
 * The trust anchor file must hold at least one DNSKEY (SEP) or DS for
 * the root, in zone-file format. Returns 0, or -1 with "FILE: reason".
 */
int	roots_check_anchor(const char *file, char *err, size_t errlen);

/*
 * The root's DS and DNSKEY records of the trust anchor file, as getdns
 * resource records (the trust_anchors argument of getdns_validate_dnssec).
 * Caller destroys. NULL with "FILE: reason" in err.
 */
struct getdns_list *roots_load_anchor(const char *file, char *err,
	    size_t errlen);

#endif
