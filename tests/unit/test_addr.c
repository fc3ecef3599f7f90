/*
 * common/addr: the "ADDR[@PORT]" syntax of resolvers, servers and root
 * hints, addresses from A/AAAA RDATA, and the text that reads back.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "common/addr.h"
#include "tests/unit/tap.h"

static void
test_parse(void)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len = 0;
	char			 err[200], text[ADDR_TEXT_MAX];

	ok(addr_parse("192.0.2.1", 53, &ss, &len, err, sizeof(err)) == 0 &&
	    ss.ss_family == AF_INET && ntohs(s4->sin_port) == 53 &&
	    len == sizeof(*s4), "a bare IPv4 address takes the default port");
	ok(addr_parse("192.0.2.1@5353", 53, &ss, &len, err,
	    sizeof(err)) == 0 && ntohs(s4->sin_port) == 5353,
	    "ADDR@PORT sets the port");
	ok(addr_parse("2001:db8::1@5353", 53, &ss, &len, err,
	    sizeof(err)) == 0 && ss.ss_family == AF_INET6 &&
	    ntohs(s6->sin6_port) == 5353 && len == sizeof(*s6),
	    "IPv6 with @PORT");
	ok(addr_parse("[2001:db8::1]:9470", 1, &ss, &len, err,
	    sizeof(err)) == 0 && ntohs(s6->sin6_port) == 9470,
	    "[v6]:PORT");
	ok(addr_parse("[::1]", 9470, &ss, &len, err, sizeof(err)) == 0 &&
	    ntohs(s6->sin6_port) == 9470, "[v6] alone takes the default");

	ok(addr_parse("", 53, &ss, &len, err, sizeof(err)) == -1,
	    "empty refused");
	is_str(err, "empty address", "and named");
	ok(addr_parse("ns1.example", 53, &ss, &len, err, sizeof(err)) == -1 &&
	    strstr(err, "not an IPv4 or IPv6 address") != NULL,
	    "a host name is refused, never looked up");
	ok(addr_parse("192.0.2.1@0", 53, &ss, &len, err, sizeof(err)) == -1 &&
	    strstr(err, "port must be 1-65535") != NULL, "port 0 refused");
	ok(addr_parse("192.0.2.1@65536", 53, &ss, &len, err,
	    sizeof(err)) == -1, "port 65536 refused");
	ok(addr_parse("192.0.2.1@", 53, &ss, &len, err, sizeof(err)) == -1,
	    "an empty port refused");
	ok(addr_parse("[2001:db8::1", 53, &ss, &len, err, sizeof(err)) == -1 &&
	    strstr(err, "missing ']'") != NULL, "a lone '[' refused");
	ok(addr_parse("[::1]x", 53, &ss, &len, err, sizeof(err)) == -1,
	    "junk after ']' refused");

	ok(addr_parse("2001:db8::1@5353", 53, &ss, &len, err,
	    sizeof(err)) == 0, "parse for the round trip");
	is_str(addr_text((struct sockaddr *)&ss, text, sizeof(text)),
	    "2001:db8::1@5353", "text reads back with the port");
	ok(addr_parse("192.0.2.7", 53, &ss, &len, err, sizeof(err)) == 0,
	    "parse port 53");
	is_str(addr_text((struct sockaddr *)&ss, text, sizeof(text)),
	    "192.0.2.7", "port 53 is left out, as addr_parse reads it");
	memset(&ss, 0, sizeof(ss));
	is_str(addr_text((struct sockaddr *)&ss, text, sizeof(text)), "?",
	    "no family: ?");
}

static void
test_rdata(void)
{
	static const uint8_t	 a[4] = { 192, 0, 2, 53 };
	static const uint8_t	 aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8,
				    [15] = 0x35 };
	struct sockaddr_storage	 ss;
	socklen_t		 len = 0;
	char			 text[ADDR_TEXT_MAX];

	ok(addr_from_rdata(a, sizeof(a), 53, &ss, &len) == 0 &&
	    len == sizeof(struct sockaddr_in), "A RDATA");
	is_str(addr_text((struct sockaddr *)&ss, text, sizeof(text)),
	    "192.0.2.53", "A RDATA reads as its address");
	ok(addr_from_rdata(aaaa, sizeof(aaaa), 5300, &ss, &len) == 0 &&
	    len == sizeof(struct sockaddr_in6), "AAAA RDATA");
	is_str(addr_text((struct sockaddr *)&ss, text, sizeof(text)),
	    "2001:db8::35@5300", "AAAA RDATA with its port");
	len = 7;
	ok(addr_from_rdata(a, 3, 53, &ss, &len) == -1 && len == 7,
	    "3 octets refused, nothing written");
	ok(addr_from_rdata(aaaa, 15, 53, &ss, &len) == -1,
	    "15 octets refused");
}

int
main(void)
{
	test_parse();
	test_rdata();
	return tap_done();
}
