/*
 * Server addresses: parse "ADDR[@PORT]", build from DNS RDATA, print back
 * (common/addr.h).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"

int
addr_parse(const char *text, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen)
{
	char		 host[INET6_ADDRSTRLEN + 2];
	const char	*p, *portstr = NULL;
	char		*end;
	long		 v;
	size_t		 hl;
	struct sockaddr_in  *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (text == NULL || *text == '\0') {
		snprintf(err, errlen, "empty address");
		return -1;
	}
	if (text[0] == '[') {
		if ((p = strchr(text, ']')) == NULL) {
			snprintf(err, errlen, "'%s': missing ']'", text);
			return -1;
		}
		hl = (size_t)(p - text - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, text + 1, hl);
		host[hl] = '\0';
		if (p[1] == ':' || p[1] == '@')
			portstr = p + 2;
		else if (p[1] != '\0')
			goto bad;
	} else {
		p = strchr(text, '@');
		hl = p ? (size_t)(p - text) : strlen(text);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, text, hl);
		host[hl] = '\0';
		if (p != NULL)
			portstr = p + 1;
	}
	if (portstr != NULL) {
		errno = 0;
		v = strtol(portstr, &end, 10);
		if (*portstr == '\0' || *end != '\0' || errno != 0 || v < 1 ||
		    v > 65535) {
			snprintf(err, errlen, "'%s': port must be 1-65535",
			    text);
			return -1;
		}
		port = (uint16_t)v;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
bad:
	snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address "
	    "(ADDR or ADDR@PORT)", text);
	return -1;
}

int
addr_from_rdata(const uint8_t *data, size_t size, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	if (size != 4 && size != 16)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (size == 4) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, data, 4);
		*len = sizeof(*s4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, data, 16);
		*len = sizeof(*s6);
	}
	return 0;
}

const char *
addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)sa;
	char				 a[INET6_ADDRSTRLEN];
	uint16_t			 port;

	if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
	} else if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
	} else {
		snprintf(buf, len, "?");
		return buf;
	}
	/* 53 is what a bare address means to addr_parse: left out, so the
	 * text reads back to the same address. */
	if (port != 53)
		snprintf(buf, len, "%s@%u", a, port);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}
