/*
 * A tiny TAP-like harness for the unit tests, header-only.
 *
 *	ok(cond, "fmt", ...)		prints "ok - desc" or "not ok - desc"
 *	is_int(got, want, "fmt", ...)	integers, prints got/want on failure
 *	is_str(got, want, "fmt", ...)	C strings (NULL allowed)
 *	return tap_done();		prints the plan, 0 if all passed
 *
 * Every helper returns whether the check passed, so a test can add its
 * own diagnostics with tap_diag() when it matters.  The counters live in
 * a function-local static so that including this header defines no
 * object a second translation unit could collide with.
 */
#ifndef DNSSECMON_TAP_H
#define DNSSECMON_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct tap_state {
	unsigned int	run;
	unsigned int	failed;
};

static inline struct tap_state *
tap_state(void)
{
	static struct tap_state	 st;

	return &st;
}

static inline void tap_vdiag(const char *, va_list)
    __attribute__((format(printf, 1, 0)));
static inline void tap_diag(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static inline void
tap_vdiag(const char *fmt, va_list ap)
{
	/* stdout, not stderr: keeps diagnostics next to the failing line. */
	fputs("# ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
}

static inline void
tap_diag(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	tap_vdiag(fmt, ap);
	va_end(ap);
}

static inline bool tap_vok(bool, const char *, int, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static inline bool
tap_vok(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
	struct tap_state	*st = tap_state();

	st->run++;
	if (!pass)
		st->failed++;
	fputs(pass ? "ok - " : "not ok - ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	if (!pass)
		printf("# failed at %s:%d\n", file, line);
	fflush(stdout);
	return pass;
}

static inline bool tap_ok_at(bool, const char *, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static inline bool
tap_ok_at(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	pass = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

static inline bool tap_is_int_at(long long, long long, const char *, int,
    const char *, ...) __attribute__((format(printf, 5, 6)));

static inline bool
tap_is_int_at(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	bool	 pass = got == want;

	va_start(ap, fmt);
	tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		printf("#      got: %lld\n#     want: %lld\n", got, want);
	return pass;
}

static inline bool tap_is_str_at(const char *, const char *, const char *,
    int, const char *, ...) __attribute__((format(printf, 5, 6)));

static inline bool
tap_is_str_at(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	bool	 pass;

	if (got == NULL || want == NULL)
		pass = got == want;
	else
		pass = strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass) {
		/* Quoted, so trailing blanks and empty strings show. */
		if (got == NULL)
			printf("#      got: NULL\n");
		else
			printf("#      got: \"%s\"\n", got);
		if (want == NULL)
			printf("#     want: NULL\n");
		else
			printf("#     want: \"%s\"\n", want);
	}
	return pass;
}

/*
 * Prints the plan last (valid TAP) and the verdict.  A binary that ran no
 * check at all counts as failed: it usually means the test bailed out
 * before asserting anything.
 */
static inline int
tap_done(void)
{
	struct tap_state	*st = tap_state();

	printf("1..%u\n", st->run);
	if (st->run == 0) {
		printf("# no checks ran\n");
		return 1;
	}
	if (st->failed != 0) {
		printf("# failed %u of %u\n", st->failed, st->run);
		return 1;
	}
	return 0;
}

#define ok(cond, ...)	tap_ok_at(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)						\
	tap_is_int_at((long long)(got), (long long)(want), __FILE__,	\
	    __LINE__, __VA_ARGS__)
#define is_str(got, want, ...)						\
	tap_is_str_at((got), (want), __FILE__, __LINE__, __VA_ARGS__)

#endif /* DNSSECMON_TAP_H */
