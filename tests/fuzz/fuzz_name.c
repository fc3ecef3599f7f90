/*
 * libFuzzer target for the text parsers of common/dsmatch: names and hex
 * come from config files and from whatever a registry or a server says,
 * so they must survive anything.  Build and run: see README.md here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/dsmatch.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c,	\
		    __FILE__, __LINE__);				\
		abort();						\
	}								\
} while (0)

static int
bare_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*';
}

/*
 * dsmatch_wire_to_name prints as BIND does, so '/' or '+' come out bare,
 * which dsmatch_name_to_wire rightly refuses in a config file.  Escape
 * exactly those; everything else must be taken back as printed.
 */
static void
strictify(const char *in, char *out, size_t outlen)
{
	size_t	 o = 0, n;

	while (*in != '\0') {
		if (*in == '\\')
			n = (in[1] >= '0' && in[1] <= '9') ? 4 : 2;
		else
			n = 1;
		CHECK(strnlen(in, n) == n);
		CHECK(o + n + 2 < outlen);
		if (n == 1 && *in != '.' && !bare_ok((unsigned char)*in))
			out[o++] = '\\';
		memcpy(out + o, in, n);
		o += n;
		in += n;
	}
	out[o] = '\0';
}

/* text -> wire, with err filled on failure and never overrun. */
static void
fuzz_name(const char *s)
{
	uint8_t		 wire[DSMATCH_NAME_MAX], again[DSMATCH_NAME_MAX];
	uint8_t		*exact;
	char		 err[96], text[DSMATCH_NAME_STRLEN];
	char		 strict[2 * DSMATCH_NAME_STRLEN + 4], line[2048];
	char		 norm[256], norm2[256];
	size_t		 len = 99, len2 = 99, i, olen;
	static const uint8_t	 dg[] = { 0xde, 0xad };

	memset(err, 'x', sizeof(err));
	if (dsmatch_name_to_wire(s, wire, sizeof(wire), &len, err,
	    sizeof(err)) == -1) {
		CHECK(len == 0);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(err[0] != '\0');
		CHECK(dsmatch_ds_record(s, 1, 13, 2, dg, sizeof(dg), line,
		    sizeof(line)) == -1);
		CHECK(dsmatch_name_normalise(s, norm, sizeof(norm), NULL,
		    0) == -1);
		return;
	}
	/* The normalised spelling is the same name, lower case, and
	 * normalising it again changes nothing. */
	if (strlen(s) < sizeof(norm)) {
		CHECK(dsmatch_name_normalise(s, norm, sizeof(norm), err,
		    sizeof(err)) == 0);
		for (i = 0; norm[i] != '\0'; i++)
			CHECK(norm[i] < 'A' || norm[i] > 'Z');
		CHECK(dsmatch_name_to_wire(norm, again, sizeof(again), &len2,
		    NULL, 0) == 0);
		CHECK(len2 == len && memcmp(again, wire, len) == 0);
		CHECK(dsmatch_name_normalise(norm, norm2, sizeof(norm2), NULL,
		    0) == 0 && strcmp(norm, norm2) == 0);
	} else
		CHECK(dsmatch_name_normalise(s, norm, sizeof(norm), NULL,
		    0) == -1);
	CHECK(len >= 1 && len <= DSMATCH_NAME_MAX);
	CHECK(wire[len - 1] == 0);
	for (i = 0; i < len; i++)
		CHECK(wire[i] < 'A' || wire[i] > 'Z');

	/* The exact size works, one less does not; ASan watches the edge. */
	CHECK((exact = malloc(len)) != NULL);
	CHECK(dsmatch_name_to_wire(s, exact, len, &len2, NULL, 0) == 0);
	CHECK(len2 == len && memcmp(exact, wire, len) == 0);
	CHECK(dsmatch_name_to_wire(s, exact, len - 1, &len2, NULL, 0) == -1);
	free(exact);

	/* Round trip: wire -> text -> wire gives the same octets. */
	CHECK(dsmatch_wire_to_name(wire, len, text, sizeof(text)) == 0);
	olen = strlen(text);
	CHECK(olen >= 1 && text[olen - 1] == '.');
	strictify(text, strict, sizeof(strict));
	CHECK(dsmatch_name_to_wire(strict, again, sizeof(again), &len2, err,
	    sizeof(err)) == 0);
	CHECK(len2 == len && memcmp(again, wire, len) == 0);

	/* The DS owner keeps its case but is otherwise the same name. */
	CHECK(dsmatch_ds_record(s, 1, 13, 2, dg, sizeof(dg), line,
	    sizeof(line)) == 0);
	CHECK(strlen(line) == olen + strlen(" IN DS 1 13 2 DEAD"));
	CHECK(strncasecmp(line, text, olen) == 0);
	CHECK(strcmp(line + olen, " IN DS 1 13 2 DEAD") == 0);
}

static void
fuzz_hex(const char *s)
{
	uint8_t	 out[64];
	char	 back[2 * sizeof(out) + 1];
	size_t	 n = strlen(s), len = 99, i;
	int	 bad = 0;

	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			bad = 1;
	if (dsmatch_hex_decode(s, out, sizeof(out), &len) == -1) {
		CHECK(len == 0);
		CHECK(bad || n % 2 != 0 || n / 2 > sizeof(out));
		return;
	}
	CHECK(!bad && n % 2 == 0 && len == n / 2);
	dsmatch_hex_upper(out, len, back, sizeof(back));
	CHECK(strlen(back) == n);
	for (i = 0; i < n; i++)
		CHECK(back[i] == (s[i] >= 'a' && s[i] <= 'f' ?
		    s[i] - 'a' + 'A' : s[i]));
}

/* Raw octets as a wire name: printable iff well formed, and reversible. */
static void
fuzz_wire(const uint8_t *data, size_t size)
{
	uint8_t	 again[DSMATCH_NAME_MAX];
	char	 text[DSMATCH_NAME_STRLEN];
	char	 strict[2 * DSMATCH_NAME_STRLEN + 4];
	size_t	 len, i;

	(void)dsmatch_keytag(data, size);
	if (dsmatch_wire_to_name(data, size, text, sizeof(text)) == -1)
		return;
	strictify(text, strict, sizeof(strict));
	CHECK(dsmatch_name_to_wire(strict, again, sizeof(again), &len, NULL,
	    0) == 0);
	CHECK(len == size);
	for (i = 0; i < size; i++)
		CHECK(again[i] == ((data[i] >= 'A' && data[i] <= 'Z') ?
		    data[i] + 'a' - 'A' : data[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_name(s);
	fuzz_hex(s);
	fuzz_wire(data, size);
	free(s);
	return 0;
}
