/*
 * cache_ref.c — the brute-force reference cache: every way carries a valid
 * bit and a last-use timestamp; lookups scan the set, a miss fills the first
 * invalid way or else the way with the oldest timestamp. Obviously correct
 * and slow on purpose: tests check cache.c against it access by access, and
 * `bench llc` runs it side by side with cache.c. A deliberate second copy of
 * the model: keep it plain, never share code with cache.c.
 */
#include "regsched/cache.h"

#include <stdlib.h>

typedef struct ref_way {
	uint64_t stamp;
	uint32_t line;
	int valid;
} ref_way;

struct cache_ref {
	ref_way *w;
	uint32_t sets;
	unsigned ways;
	uint64_t clock;
};

cache_ref *cache_ref_create(uint32_t sets, unsigned ways)
{
	if (sets == 0 || ways == 0 || ways > CACHE_MAX_WAYS)
		return NULL;
	cache_ref *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->w = calloc((size_t)sets * ways, sizeof(*c->w));
	if (!c->w) {
		free(c);
		return NULL;
	}
	c->sets = sets;
	c->ways = ways;
	return c;
}

void cache_ref_destroy(cache_ref *c)
{
	if (!c)
		return;
	free(c->w);
	free(c);
}

static ref_way *set_base(const cache_ref *c, uint32_t line)
{
	return c->w + (size_t)(line % c->sets) * c->ways;
}

int cache_ref_access(cache_ref *c, uint32_t line, uint32_t *evicted)
{
	ref_way *s = set_base(c, line);
	c->clock++;
	for (unsigned i = 0; i < c->ways; i++) {
		if (s[i].valid && s[i].line == line) {
			s[i].stamp = c->clock;
			return 1;
		}
	}
	ref_way *victim = NULL;
	for (unsigned i = 0; i < c->ways && !victim; i++)
		if (!s[i].valid)
			victim = &s[i];
	if (!victim) {
		victim = &s[0];
		for (unsigned i = 1; i < c->ways; i++)
			if (s[i].stamp < victim->stamp)
				victim = &s[i];
	}
	if (evicted)
		*evicted = victim->valid ? victim->line : CACHE_NO_LINE;
	victim->line = line;
	victim->valid = 1;
	victim->stamp = c->clock;
	return 0;
}

int cache_ref_probe(const cache_ref *c, uint32_t line)
{
	const ref_way *s = set_base(c, line);
	for (unsigned i = 0; i < c->ways; i++)
		if (s[i].valid && s[i].line == line)
			return 1;
	return 0;
}

int cache_ref_invalidate(cache_ref *c, uint32_t line)
{
	ref_way *s = set_base(c, line);
	for (unsigned i = 0; i < c->ways; i++) {
		if (s[i].valid && s[i].line == line) {
			s[i].valid = 0;
			return 1;
		}
	}
	return 0;
}
