/*
 * cache_impl.h — the fast cache's layout and its lookup, inline, for
 * cache.c and for hier.c's hot loop (a call per level per access costs as
 * much as the lookup). Not a public interface: use cache.h.
 *
 * A set is one record of 64 bytes (one host cache line) whatever the ways:
 * 16 16-bit tags (the line's quotient line / sets; 0xffff is invalid, as
 * are the slots >= ways), the 64-bit LRU nibble stack, then one spare byte
 * per way that the cache never reads (hier.c keeps an inclusive LLC's
 * core-valid bits there, next to the tags it describes). One host
 * line per lookup is what makes the model fast: the simulated LLCs are
 * megabytes of tags that live in the host's L2/L3, so lookups are bound by
 * host misses. One record size for every geometry (8-way caches used to
 * have 32-byte records) makes a record's address a constant shift and the
 * tag compare branch-free: 12 % fewer instructions an access on `bench
 * llc` (callgrind), for twice the memory of 8-way caches' tags.
 *
 * Invariants (assert()ed under `make asan`, free in the optimized build):
 * a set index is < sets, a tag fits below CACHE_NO_TAG, and every way a
 * lookup touches is < ways (the LRU stack's first `ways` nibbles are a
 * permutation of 0..ways-1, so a search for a present way ends there).
 */
#ifndef VL_REGSCHED_CACHE_IMPL_H
#define VL_REGSCHED_CACHE_IMPL_H

#include <assert.h>
/* SSE2 where the compiler has it (every x86-64); VL_NO_SSE2 selects the
 * portable path (tests/test_regsched_scalar.c compares the two). */
#if defined(__SSE2__) && !defined(VL_NO_SSE2)
#define CACHE_SSE2 1
#include <emmintrin.h>
#endif

#include "core/fastmod.h"
#include "regsched/cache.h"

#define NIB_ONES 0x1111111111111111ull
#define NIB_HIGH 0x8888888888888888ull
#define CACHE_NO_TAG 0xffffu
#define CACHE_ALWAYS static inline __attribute__((always_inline))
#define CACHE_REC_SHIFT 6 /* log2 of a set record's bytes */
#define CACHE_REC_BYTES (1u << CACHE_REC_SHIFT)
#define CACHE_LRU_OFF 32 /* byte offset of the LRU stack in a record */
#define CACHE_AUX_OFF 40 /* byte offset of the per-way spare bytes (16) */

struct cache {
	unsigned char *rec; /* sets.n * CACHE_REC_BYTES, 64-byte aligned */
	fastmod sets;       /* the set count (>= 1), prepared for line mod / line div */
	unsigned ways;
	uint64_t lru_init;
};

/* Set and tag of a line: set = line mod sets, tag = line / sets. */
CACHE_ALWAYS uint32_t cache__split(const cache *c, uint32_t line, uint32_t *tag)
{
	return fastmod_split(&c->sets, line, tag);
}

CACHE_ALWAYS uint16_t *cache__tags(const cache *c, uint32_t set)
{
	assert(set < c->sets.n);
	return (uint16_t *)(void *)(c->rec + ((size_t)set << CACHE_REC_SHIFT));
}

CACHE_ALWAYS uint64_t *cache__lru(const cache *c, uint32_t set)
{
	assert(set < c->sets.n);
	return (uint64_t *)(void *)(c->rec + ((size_t)set << CACHE_REC_SHIFT) + CACHE_LRU_OFF);
}

/* The per-way spare bytes of set s (zero after cache_reset; the cache
 * itself never reads or writes them). */
CACHE_ALWAYS uint8_t *cache__aux(const cache *c, uint32_t set)
{
	assert(set < c->sets.n);
	return c->rec + ((size_t)set << CACHE_REC_SHIFT) + CACHE_AUX_OFF;
}

/* Bit mask covering nibbles 0..pos. */
CACHE_ALWAYS uint64_t cache__nib_upto(unsigned pos)
{
	/* branch-free: for pos 15 the shift leaves 0 and the result is ~0 */
	return (2ull << (4 * pos + 3)) - 1;
}

/* Position (0 = MRU) of way w in stack st; w must be present. SWAR
 * zero-nibble search: the lowest flagged nibble is exact. */
CACHE_ALWAYS unsigned cache__nib_find(uint64_t st, unsigned w)
{
	uint64_t x = st ^ (w * NIB_ONES);
	uint64_t t = (x - NIB_ONES) & ~x & NIB_HIGH;
	return (unsigned)__builtin_ctzll(t) >> 2;
}

CACHE_ALWAYS uint64_t cache__nib_to_front(uint64_t st, unsigned pos, unsigned w)
{
	uint64_t m = cache__nib_upto(pos);
	return (st & ~m) | ((st << 4) & m) | w;
}

/* Bitmask of the ways holding tag (at most one bit; unused slots hold
 * CACHE_NO_TAG, which no tag equals). SSE2 where the compiler has it (every
 * x86-64), else a loop the compiler may vectorise. */
CACHE_ALWAYS unsigned cache__match(const uint16_t *t, uint32_t tag)
{
#ifdef CACHE_SSE2
	__m128i k = _mm_set1_epi16((short)tag);
	const __m128i *v = (const __m128i *)(const void *)t;
	__m128i a = _mm_cmpeq_epi16(_mm_load_si128(v), k);
	__m128i b = _mm_cmpeq_epi16(_mm_load_si128(v + 1), k);
	return (unsigned)_mm_movemask_epi8(_mm_packs_epi16(a, b));
#else
	unsigned m = 0;
	for (unsigned i = 0; i < CACHE_MAX_WAYS; i++)
		m |= (unsigned)(t[i] == tag) << i;
	return m;
#endif
}

/* Lookups on a split line (set s, tag): hier.c splits a line once for all
 * caches of one geometry (every L2; every LLC when they are alike). */

/* The body of cache_access (see cache.h); the evicted line (or
 * CACHE_NO_LINE) goes to *ev on a miss, and the way that now holds the
 * line (hit or filled) to *way. */
CACHE_ALWAYS int cache__access_way_st(cache *c, uint32_t s, uint32_t tag, uint32_t *ev,
				      unsigned *way)
{
	uint16_t *t = cache__tags(c, s);
	uint64_t *lp = cache__lru(c, s), st = *lp;
	unsigned m = cache__match(t, tag);
	assert(tag < CACHE_NO_TAG); /* line < cache_line_limit(c) */
	if (m) {
		unsigned w = (unsigned)__builtin_ctz(m);
		assert(w < c->ways && cache__nib_find(st, w) < c->ways);
		*lp = cache__nib_to_front(st, cache__nib_find(st, w), w);
		*way = w;
		return 1;
	}
	unsigned pos = c->ways - 1;
	unsigned v = (unsigned)(st >> (4 * pos)) & 0xf;
	assert(v < c->ways);
	/* CACHE_NO_LINE is all ones: an empty way ORs it in, without a branch */
	uint32_t tv = t[v];
	*ev = (tv * c->sets.n + s) | (uint32_t) - (uint32_t)(tv == CACHE_NO_TAG);
	t[v] = (uint16_t)tag;
	*lp = cache__nib_to_front(st, pos, v);
	*way = v;
	return 0;
}

CACHE_ALWAYS int cache__access_st(cache *c, uint32_t s, uint32_t tag, uint32_t *ev)
{
	unsigned way;
	return cache__access_way_st(c, s, tag, ev, &way);
}

CACHE_ALWAYS int cache__access(cache *c, uint32_t line, uint32_t *ev)
{
	uint32_t tag, s = cache__split(c, line, &tag);
	return cache__access_st(c, s, tag, ev);
}

/* On a hit makes the line MRU and returns 1; on a miss changes nothing. */
CACHE_ALWAYS int cache__touch_st(cache *c, uint32_t s, uint32_t tag)
{
	uint16_t *t = cache__tags(c, s);
	unsigned m = cache__match(t, tag);
	if (!m)
		return 0;
	uint64_t *lp = cache__lru(c, s), st = *lp;
	unsigned w = (unsigned)__builtin_ctz(m);
	assert(w < c->ways && cache__nib_find(st, w) < c->ways);
	*lp = cache__nib_to_front(st, cache__nib_find(st, w), w);
	return 1;
}

CACHE_ALWAYS int cache__probe_st(const cache *c, uint32_t s, uint32_t tag)
{
	return cache__match(cache__tags(c, s), tag) != 0;
}

CACHE_ALWAYS int cache__probe(const cache *c, uint32_t line)
{
	uint32_t tag, s = cache__split(c, line, &tag);
	return cache__probe_st(c, s, tag);
}

/* Way + 1 of (s, tag), 0 if absent; changes nothing. */
CACHE_ALWAYS unsigned cache__find_st(const cache *c, uint32_t s, uint32_t tag)
{
	unsigned m = cache__match(cache__tags(c, s), tag);
	return m ? (unsigned)__builtin_ctz(m) + 1 : 0;
}

/* Removes (s, tag) if present, its way going to the LRU end; returns the
 * way + 1 it had, 0 if it was absent. */
CACHE_ALWAYS unsigned cache__inval_way_st(cache *c, uint32_t s, uint32_t tag)
{
	uint16_t *t = cache__tags(c, s);
	unsigned m = cache__match(t, tag);
	if (!m)
		return 0;
	unsigned w = (unsigned)__builtin_ctz(m);
	t[w] = CACHE_NO_TAG;
	uint64_t *lp = cache__lru(c, s), st = *lp;
	unsigned pos = cache__nib_find(st, w), last = c->ways - 1;
	assert(w < c->ways && pos < c->ways);
	/* nibbles pos+1..last move down one; w goes to the LRU end */
	uint64_t hi = cache__nib_upto(last) & ~((1ull << (4 * pos)) - 1);
	uint64_t lastnib = 0xfull << (4 * last);
	*lp = (st & ~hi) | ((st >> 4) & hi & ~lastnib) | ((uint64_t)w << (4 * last));
	return w + 1;
}

/* Removes (s, tag) if present; returns 1 if it was. */
CACHE_ALWAYS int cache__inval_st(cache *c, uint32_t s, uint32_t tag)
{
	return cache__inval_way_st(c, s, tag) != 0;
}

CACHE_ALWAYS void cache__prefetch_st(const cache *c, uint32_t s)
{
	__builtin_prefetch(cache__tags(c, s), 1, 3);
}

CACHE_ALWAYS void cache__prefetch(const cache *c, uint32_t line)
{
	uint32_t tag, s = cache__split(c, line, &tag);
	cache__prefetch_st(c, s);
}

#endif
