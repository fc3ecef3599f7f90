/*
 * Open addressing with linear probing, grown at half full: every lookup
 * is a hash and a few string compares.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/nameset.h"

struct slot {
	const char	*name;
	int		 value;
};

struct nameset {
	size_t		 cap;		/* a power of two */
	size_t		 n;
	struct slot	*slots;
};

static uint64_t
hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct nameset *
nameset_create(void)
{
	struct nameset	*set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	set->cap = 64;
	if ((set->slots = calloc(set->cap, sizeof(*set->slots))) == NULL) {
		free(set);
		return NULL;
	}
	return set;
}

void
nameset_destroy(struct nameset *set)
{
	if (set == NULL)
		return;
	free(set->slots);
	free(set);
}

static struct slot *
find(const struct nameset *set, const char *name)
{
	size_t		 i = (size_t)hash(name) & (set->cap - 1);

	while (set->slots[i].name != NULL &&
	    strcmp(set->slots[i].name, name) != 0)
		i = (i + 1) & (set->cap - 1);
	return &set->slots[i];
}

static int
grow(struct nameset *set)
{
	struct nameset	 bigger = { set->cap * 2, set->n, NULL };
	struct slot	*s;
	size_t		 i;

	if (bigger.cap < set->cap ||
	    (bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots))) == NULL)
		return -1;
	for (i = 0; i < set->cap; i++)
		if (set->slots[i].name != NULL) {
			s = find(&bigger, set->slots[i].name);
			*s = set->slots[i];
		}
	free(set->slots);
	*set = bigger;
	return 0;
}

int
nameset_add(struct nameset *set, const char *name, int value, int *prev)
{
	struct slot	*s;

	if ((set->n + 1) * 2 > set->cap && grow(set) == -1)
		return -1;
	s = find(set, name);
	if (s->name != NULL) {
		if (prev != NULL)
			*prev = s->value;
		return 0;
	}
	s->name = name;
	s->value = value;
	set->n++;
	return 1;
}

bool
nameset_has(const struct nameset *set, const char *name)
{
	return set != NULL && find(set, name)->name != NULL;
}
