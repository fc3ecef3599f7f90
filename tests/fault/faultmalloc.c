/*
 * A malloc-failure shim for fault tests (LD_PRELOAD), in the manner of
 * SQLite's malloc fault tests: the program runs as it would, except that
 * chosen allocations return NULL with errno ENOMEM.
 *
 *   FAULTMALLOC_NTH=N       fail the Nth allocation (malloc, calloc,
 *                           realloc, posix_memalign, aligned_alloc,
 *                           memalign, counted together from 1)
 *   FAULTMALLOC_PERSIST=1   ... and every one after it
 *   FAULTMALLOC_WHILE=PATH  fail every allocation while PATH exists
 *                           (a test turns memory off and on again)
 *   FAULTMALLOC_SCOPE=main  count and fail only the allocations the main
 *                           program's own code asks for (its caller is
 *                           in the executable, not in a library): the
 *                           libraries' own handling of a failed malloc
 *                           (getdns 1.6.0 and libunbound 1.17 crash on
 *                           some) is not what a dnssecmon test can fix
 *   FAULTMALLOC_SCOPE=lib:NAME  the same for the first library whose path
 *                           contains NAME (lib:getdns): what dnssecmon
 *                           makes of a library call that failed for want
 *                           of memory
 *   FAULTMALLOC_LOG=PATH    append "count N" at exit and "failed N SIZE"
 *                           for the first failure (for every one with
 *                           FAULTMALLOC_WHILE): a test learns how many
 *                           allocations a run makes, whether its failure
 *                           was reached, and how often a program that
 *                           cannot allocate tries again
 *
 * The real allocator is the next one in link order (glibc's, or ASan's in
 * a sanitizer build, run with ASAN_OPTIONS=verify_asan_link_order=0).
 * dlsym() itself allocates, so the first few allocations, made while it
 * runs, come from a static arena and are never freed.
 *
 * Test code only: not part of dnssecmon, never installed.
 */
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void	*(*real_malloc)(size_t);
static void	*(*real_calloc)(size_t, size_t);
static void	*(*real_realloc)(void *, size_t);
static void	 (*real_free)(void *);
static int	 (*real_posix_memalign)(void **, size_t, size_t);
static void	*(*real_aligned_alloc)(size_t, size_t);
static void	*(*real_memalign)(size_t, size_t);

static _Alignas(max_align_t) unsigned char arena[64 * 1024];
static size_t		arena_used;
static int		resolving;

static unsigned long	nth;		/* 0: none */
static int		persist;
static const char	*while_path;
static const char	*log_path;
static int		scope_main;
static uintptr_t	main_lo, main_hi;	/* the executable's text */
static _Atomic unsigned long	count;
static _Atomic int	logged;

/* The executable is the first object dl_iterate_phdr() reports; a
 * library is found by a part of its path (arg). */
static int
find_main(struct dl_phdr_info *info, size_t size, void *arg)
{
	int	i;

	(void)size;
	if (arg != NULL && (info->dlpi_name == NULL ||
	    strstr(info->dlpi_name, arg) == NULL))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			main_lo = info->dlpi_addr + ph->p_vaddr;
			main_hi = main_lo + ph->p_memsz;
		}
	}
	return 1;
}

/*
 * The settings, read once the environment is there: a sanitizer runtime
 * allocates before it is, and what it allocates then is not counted.
 */
static void __attribute__((constructor))
configure(void)
{
	const char	*v;

	if ((v = getenv("FAULTMALLOC_NTH")) != NULL)
		nth = strtoul(v, NULL, 10);
	persist = (v = getenv("FAULTMALLOC_PERSIST")) != NULL && *v == '1';
	while_path = getenv("FAULTMALLOC_WHILE");
	log_path = getenv("FAULTMALLOC_LOG");
	if ((v = getenv("FAULTMALLOC_SCOPE")) != NULL &&
	    strcmp(v, "main") == 0) {
		scope_main = 1;
		dl_iterate_phdr(find_main, NULL);
	} else if (v != NULL && strncmp(v, "lib:", 4) == 0) {
		scope_main = 1;
		dl_iterate_phdr(find_main, (void *)(uintptr_t)(v + 4));
	}
	count = 0;
}

/* The real allocator, looked up at the first allocation. */
static void
init(void)
{
	if (real_malloc != NULL || resolving)
		return;
	resolving = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(
	    RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT,
	    "aligned_alloc");
	real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT,
	    "memalign");
	resolving = 0;
}

static void *
arena_alloc(size_t n)
{
	size_t	 a = (n + 15) & ~(size_t)15;
	void	*p;

	if (a > sizeof(arena) - arena_used)
		return NULL;
	p = arena + arena_used;
	arena_used += a;
	return p;
}

static int
in_arena(const void *p)
{
	return (const unsigned char *)p >= arena &&
	    (const unsigned char *)p < arena + sizeof(arena);
}

static void
log_line(const char *what, unsigned long n, size_t size)
{
	char	 buf[96];
	int	 fd, len;

	if (log_path == NULL)
		return;
	len = snprintf(buf, sizeof(buf), "%s %lu %zu\n", what, n, size);
	if ((fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return;
	if (write(fd, buf, (size_t)len) < 0) {
		/* nothing to do: the test sees no line */
	}
	close(fd);
}

/* Should this allocation, asked for from `caller`, fail? Counts it. */
#define fail_now(size)	fail_from((size), __builtin_return_address(0))
static int
fail_from(size_t size, void *caller)
{
	unsigned long	n;
	int		fail;

	if (scope_main && ((uintptr_t)caller < main_lo ||
	    (uintptr_t)caller >= main_hi))
		return 0;
	n = ++count;

	fail = nth != 0 && (n == nth || (persist && n > nth));
	if (!fail && while_path != NULL && access(while_path, F_OK) == 0)
		fail = 1;
	if (fail && (while_path != NULL || atomic_exchange(&logged, 1) == 0))
		log_line("failed", n, size);
	if (fail)
		errno = ENOMEM;
	return fail;
}

void *
malloc(size_t n)
{
	init();
	if (real_malloc == NULL)
		return arena_alloc(n);
	return fail_now(n) ? NULL : real_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	init();
	if (real_calloc == NULL)
		return arena_alloc(a * b);	/* zeroed: static storage */
	return fail_now(a * b) ? NULL : real_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	void	*q;

	init();
	if (in_arena(p)) {
		/* Out of the arena: copy what may have been there. */
		if ((q = malloc(n)) != NULL)
			memcpy(q, p, n < 256 ? n : 256);
		return q;
	}
	if (real_realloc == NULL)
		return arena_alloc(n);
	/* realloc(p, 0) frees: not an allocation that can fail. */
	if (n != 0 && fail_now(n))
		return NULL;
	return real_realloc(p, n);
}

void
free(void *p)
{
	if (p == NULL || in_arena(p))
		return;
	init();
	if (real_free != NULL)
		real_free(p);
}

int
posix_memalign(void **pp, size_t align, size_t n)
{
	init();
	if (real_posix_memalign == NULL || fail_now(n))
		return ENOMEM;
	return real_posix_memalign(pp, align, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
	init();
	if (real_aligned_alloc == NULL || fail_now(n))
		return NULL;
	return real_aligned_alloc(align, n);
}

void *
memalign(size_t align, size_t n)
{
	init();
	if (real_memalign == NULL || fail_now(n))
		return NULL;
	return real_memalign(align, n);
}

static void __attribute__((destructor))
report(void)
{
	log_line("count", count, 0);
}
