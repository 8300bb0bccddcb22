/*
 * cache.c — the fast set-associative LRU cache; see cache.h for the model
 * and cache_impl.h for the layout. The LRU stack trick: a set's recency
 * order is 16 nibbles of one uint64_t, MRU first. Finding way w's position
 * is a SWAR zero-nibble search on stack ^ (w * 0x111...1); moving it to the
 * front is one masked shift. Both are branch-free, so a lookup is two SSE2
 * compares plus a dozen integer operations on one host cache line.
 *
 * A deliberate pair: cache_ref.c models the same cache the obvious way, and
 * tests compare the two access by access; their likeness is on purpose.
 */
#include "regsched/cache.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "regsched/cache_impl.h"

_Static_assert(CACHE_AUX_OFF + CACHE_MAX_WAYS <= CACHE_REC_BYTES,
	       "a set record holds its spare bytes");

cache *cache_create(uint32_t sets, unsigned ways)
{
	if (sets == 0 || ways == 0 || ways > CACHE_MAX_WAYS)
		return NULL;
	cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	fastmod_init(&c->sets, sets);
	c->ways = ways;
	size_t bytes = (size_t)sets * CACHE_REC_BYTES;
	c->rec = vl_huge_alloc(bytes);
	if (!c->rec) {
		free(c);
		return NULL;
	}
	/* Nibble i holds way i; nibbles >= ways hold 0xF, which no existing
	 * way (< ways <= 15 then) equals, so nib_find never lands there. */
	c->lru_init = ~0ull;
	for (unsigned i = 0; i < ways; i++)
		c->lru_init = (c->lru_init & ~(0xfull << (4 * i))) | ((uint64_t)i << (4 * i));
	cache_reset(c);
	return c;
}

void cache_destroy(cache *c)
{
	if (!c)
		return;
	free(c->rec);
	free(c);
}

void cache_reset(cache *c)
{
	for (uint32_t s = 0; s < c->sets.n; s++) {
		uint16_t *t = cache__tags(c, s);
		for (unsigned w = 0; w < CACHE_MAX_WAYS; w++)
			t[w] = CACHE_NO_TAG;
		*cache__lru(c, s) = c->lru_init;
		memset(cache__aux(c, s), 0, CACHE_MAX_WAYS);
	}
}

uint64_t cache_line_limit(const cache *c)
{
	return (uint64_t)c->sets.n * CACHE_NO_TAG < CACHE_NO_LINE
		       ? (uint64_t)c->sets.n * CACHE_NO_TAG
		       : CACHE_NO_LINE;
}

int cache_access(cache *c, uint32_t line, uint32_t *evicted)
{
	uint32_t ev = CACHE_NO_LINE;
	int hit = cache__access(c, line, &ev);
	if (!hit && evicted)
		*evicted = ev;
	return hit;
}

int cache_probe(const cache *c, uint32_t line)
{
	return cache__probe(c, line);
}

int cache_invalidate(cache *c, uint32_t line)
{
	uint32_t tag, s = cache__split(c, line, &tag);
	return cache__inval_st(c, s, tag);
}

void cache_prefetch(const cache *c, uint32_t line)
{
	cache__prefetch(c, line);
}

uint32_t cache_sets(const cache *c)
{
	return c->sets.n;
}

unsigned cache_ways(const cache *c)
{
	return c->ways;
}

uint64_t cache_occupancy(const cache *c)
{
	uint64_t n = 0;
	for (uint32_t s = 0; s < c->sets.n; s++)
		for (unsigned w = 0; w < c->ways; w++)
			n += cache__tags(c, s)[w] != CACHE_NO_TAG;
	return n;
}
