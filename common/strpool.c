#include <stdlib.h>
#include <string.h>

#include "common/strpool.h"

#define BLOCK_DATA	(64 * 1024 - 64)

struct strpool_block {
	struct strpool_block	*next;
	size_t			 used, size;
	char			 data[];
};

const char *
strpool_add(struct strpool *p, const char *s)
{
	struct strpool_block	*b = p->head;
	size_t			 len = strlen(s) + 1, size;
	char			*out;

	if (b == NULL || b->size - b->used < len) {
		size = len > BLOCK_DATA ? len : BLOCK_DATA;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->used = 0;
		b->size = size;
		b->next = p->head;
		p->head = b;
	}
	out = b->data + b->used;
	memcpy(out, s, len);
	b->used += len;
	return out;
}

void
strpool_free(struct strpool *p)
{
	struct strpool_block	*b, *next;

	for (b = p->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	p->head = NULL;
}
