#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>

#include "common/addr.h"
#include "common/file.h"
#include "probe/roots.h"

/* The IANA root servers (root.hints of 2024), for hosts without
 * dns-root-data. */
static const char *builtin_v4[] = {
	"198.41.0.4", "170.247.170.2", "192.33.4.12", "199.7.91.13",
	"192.203.230.10", "192.5.5.241", "192.112.36.4", "198.97.190.53",
	"192.36.148.17", "192.58.128.30", "193.0.14.129", "199.7.83.42",
	"202.12.27.33"
};
static const char *builtin_v6[] = {
	"2001:503:ba3e::2:30", "2801:1b8:10::b", "2001:500:2::c",
	"2001:500:2d::d", "2001:500:a8::e", "2001:500:2f::f",
	"2001:500:12::d0d", "2001:500:1::53", "2001:7fe::53",
	"2001:503:c27::2:30", "2001:7fd::1", "2001:500:9f::42", "2001:dc3::35"
};

/*
 * Parse a zone file with getdns; -1 with the reason. getdns reads through
 * a FILE and retries a failing read() forever (a directory, /dev/zero),
 * so the file is read and checked here and getdns gets a memory stream.
 */
static int
read_rrs(const char *file, getdns_list **rrs, size_t *n, char *err,
    size_t errlen)
{
	FILE		*f;
	getdns_return_t	 rc;
	char		*text;
	size_t		 len;

	*rrs = NULL;
	if ((text = file_read(file, FILE_MAX_SMALL, &len, err, errlen)) ==
	    NULL)
		return -1;
	if (len == 0) {
		snprintf(err, errlen, "%s: empty", file);
		free(text);
		return -1;
	}
	if ((f = fmemopen(text, len, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		free(text);
		return -1;
	}
	/* An origin of "." makes getdns 1.6.0 reject every file; NULL
	 * means the root anyway. */
	rc = getdns_fp2rr_list(f, rrs, NULL, 3600);
	fclose(f);
	free(text);
	if (rc != GETDNS_RETURN_GOOD || *rrs == NULL ||
	    getdns_list_get_length(*rrs, n) != GETDNS_RETURN_GOOD) {
		snprintf(err, errlen, "%s: not a readable zone file (%s)",
		    file, getdns_get_errorstr_by_id(rc) ?
		    getdns_get_errorstr_by_id(rc) : "parse error");
		getdns_list_destroy(*rrs);
		*rrs = NULL;
		return -1;
	}
	return 0;
}

static bool
owner_is_root(const getdns_dict *rr)
{
	getdns_bindata	*bd;

	return getdns_dict_get_bindata(rr, "name", &bd) == GETDNS_RETURN_GOOD &&
	    bd->size == 1 && bd->data[0] == 0;
}

/* Is the owner of rr one of the names (wire form, case-insensitive)? */
static bool
owner_in(const getdns_dict *rr, getdns_bindata **names, size_t n)
{
	getdns_bindata	*bd;
	size_t		 i;

	if (getdns_dict_get_bindata(rr, "name", &bd) != GETDNS_RETURN_GOOD)
		return false;
	for (i = 0; i < n; i++)
		if (names[i]->size == bd->size &&
		    strncasecmp((const char *)names[i]->data,
		    (const char *)bd->data, bd->size) == 0)
			return true;
	return false;
}

int
roots_load_hints(const char *file, bool ipv6, struct roots *out, char *err,
    size_t errlen)
{
	getdns_list	*rrs;
	getdns_dict	*rr;
	getdns_bindata	*bd, *ns[ROOTS_MAX];
	size_t		 i, n, n_ns = 0;
	uint32_t	 type;
	char		 why[64];

	memset(out, 0, sizeof(*out));
	if (file == NULL) {
		for (i = 0; i < sizeof(builtin_v4) / sizeof(*builtin_v4); i++)
			if (addr_parse(builtin_v4[i], 53,
			    &out->addrs[out->n], &out->lens[out->n], why,
			    sizeof(why)) == 0)
				out->n++;
		for (i = 0; ipv6 && i < sizeof(builtin_v6) / sizeof(*builtin_v6);
		    i++)
			if (addr_parse(builtin_v6[i], 53,
			    &out->addrs[out->n], &out->lens[out->n], why,
			    sizeof(why)) == 0)
				out->n++;
		return 0;
	}
	if (read_rrs(file, &rrs, &n, err, errlen) == -1)
		return -1;
	/* Only addresses of the names the root NS set lists count: a hints
	 * file is ". NS x" plus the addresses of each x. */
	for (i = 0; i < n && n_ns < ROOTS_MAX; i++) {
		if (getdns_list_get_dict(rrs, i, &rr) == GETDNS_RETURN_GOOD &&
		    getdns_dict_get_int(rr, "type", &type) == GETDNS_RETURN_GOOD &&
		    type == 2 && owner_is_root(rr) &&
		    getdns_dict_get_bindata(rr, "/rdata/nsdname", &bd) ==
		    GETDNS_RETURN_GOOD)
			ns[n_ns++] = bd;
	}
	if (n_ns == 0) {
		snprintf(err, errlen, "%s: no NS record for the root zone '.' "
		    "in it (not a root hints file)", file);
		getdns_list_destroy(rrs);
		return -1;
	}
	for (i = 0; i < n && out->n < ROOTS_MAX; i++) {
		if (getdns_list_get_dict(rrs, i, &rr) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_int(rr, "type", &type) != GETDNS_RETURN_GOOD ||
		    !owner_in(rr, ns, n_ns))
			continue;
		if (((type == 1 && getdns_dict_get_bindata(rr,
		    "/rdata/ipv4_address", &bd) == GETDNS_RETURN_GOOD &&
		    bd->size == 4) || (type == 28 && ipv6 &&
		    getdns_dict_get_bindata(rr, "/rdata/ipv6_address", &bd) ==
		    GETDNS_RETURN_GOOD && bd->size == 16)) &&
		    addr_from_rdata(bd->data, bd->size, 53,
		    &out->addrs[out->n], &out->lens[out->n]) == 0)
			out->n++;
	}
	getdns_list_destroy(rrs);
	if (out->n == 0) {
		snprintf(err, errlen, "%s: no root server address (A%s "
		    "records) in it", file, ipv6 ? " or AAAA" : "");
		return -1;
	}
	return 0;
}

int
roots_check_anchor(const char *file, char *err, size_t errlen)
{
	getdns_list	*rrs;
	getdns_dict	*rr;
	size_t		 i, n;
	uint32_t	 type, flags;
	int		 found = 0;

	if (file == NULL) {
		snprintf(err, errlen, "no trust anchor file given");
		return -1;
	}
	if (read_rrs(file, &rrs, &n, err, errlen) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (getdns_list_get_dict(rrs, i, &rr) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_int(rr, "type", &type) !=
		    GETDNS_RETURN_GOOD || !owner_is_root(rr))
			continue;
		if (type == 43)
			found++;
		else if (type == 48 && getdns_dict_get_int(rr,
		    "/rdata/flags", &flags) == GETDNS_RETURN_GOOD &&
		    (flags & 1))
			found++;
	}
	getdns_list_destroy(rrs);
	if (found == 0) {
		snprintf(err, errlen, "%s: no DS or key-signing DNSKEY for "
		    "the root zone '.' in it", file);
		return -1;
	}
	return 0;
}

getdns_list *
roots_load_anchor(const char *file, char *err, size_t errlen)
{
	getdns_list	*rrs, *out = NULL;
	getdns_dict	*rr;
	size_t		 i, n, k = 0;
	uint32_t	 type;

	if (roots_check_anchor(file, err, errlen) == -1 ||
	    read_rrs(file, &rrs, &n, err, errlen) == -1)
		return NULL;
	if ((out = getdns_list_create()) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		if (getdns_list_get_dict(rrs, i, &rr) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_int(rr, "type", &type) !=
		    GETDNS_RETURN_GOOD || !owner_is_root(rr) ||
		    (type != 43 && type != 48))
			continue;
		if (getdns_list_set_dict(out, k++, rr) != GETDNS_RETURN_GOOD)
			goto fail;
	}
	getdns_list_destroy(rrs);
	return out;
fail:
	snprintf(err, errlen, "%s: out of memory", file);
	getdns_list_destroy(rrs);
	getdns_list_destroy(out);
	return NULL;
}
