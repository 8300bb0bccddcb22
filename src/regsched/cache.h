/*
 * cache.h — set-associative LRU caches indexed by physical line number.
 *
 * Models one cache level (a private L2 or a shared LLC): `sets` sets of
 * `ways` ways (1..16), true LRU, allocate on every miss (reads and writes
 * alike), no prefetching. Lines are physical addresses >> log2(line size),
 * 32-bit (so physical memory up to 256 GiB with 64 B lines); the set is
 * line mod sets (sets need not be a power of two: a 12 MiB 16-way cache has
 * 12288 sets — real Intel LLCs hash lines over slices, which spreads lines
 * like a modulo does).
 *
 * Layout (why it is fast): each set is one record of 16-bit tags (line /
 * sets, compared eight at a time with SSE2 where the host has it) and its
 * LRU order, a 64-bit stack of 4-bit way numbers (nibble 0 = MRU, nibble
 * ways-1 = LRU) moved with a few shifts and masks instead of per-way age
 * counters; every set is one 64-byte host cache line. The 16-bit tags bound the lines a
 * cache can hold: line < cache_line_limit() = sets * 65535 (2 GiB of
 * physical memory for a 256 KiB 8-way L2 with 64 B lines).
 * Invalid ways always sit at the LRU end, so a miss simply takes the LRU
 * nibble. cache_prefetch() lets a caller that knows its next accesses pull
 * their sets in ahead (see hier.c).
 *
 * cache_ref is the brute-force reference the tests and `bench llc` compare
 * with: per-way timestamps, linear search, the same observable behaviour.
 */
#ifndef VL_REGSCHED_CACHE_H
#define VL_REGSCHED_CACHE_H

#include <stdint.h>

#define CACHE_MAX_WAYS 16
#define CACHE_NO_LINE 0xffffffffu /* never a valid line number */

typedef struct cache cache;

/* A cache of `sets` (>= 1) sets of `ways` (1..16) ways, all invalid.
 * NULL on bad arguments or out of memory. */
cache *cache_create(uint32_t sets, unsigned ways);
void cache_destroy(cache *c); /* accepts NULL */
/* Invalidates every line and zeroes the counters. */
void cache_reset(cache *c);

/* Looks line up; on a hit makes it MRU and returns 1; on a miss installs it
 * as MRU (evicting the LRU line, whose number goes to *evicted if evicted is
 * not NULL, CACHE_NO_LINE if the way was empty) and returns 0. */
int cache_access(cache *c, uint32_t line, uint32_t *evicted);
/* 1 if line is present; changes nothing. */
int cache_probe(const cache *c, uint32_t line);
/* Removes line if present (its way becomes LRU); returns 1 if it was. */
int cache_invalidate(cache *c, uint32_t line);
/* Hints the host to fetch line's set (tags and LRU word). */
void cache_prefetch(const cache *c, uint32_t line);

uint32_t cache_sets(const cache *c);
unsigned cache_ways(const cache *c);
/* Lines must be below this (sets * 65535, at most CACHE_NO_LINE). */
uint64_t cache_line_limit(const cache *c);
/* Number of valid lines (O(sets*ways); for tests and reports). */
uint64_t cache_occupancy(const cache *c);

typedef struct cache_ref cache_ref;

/* The reference: same contract as cache_create/access/probe/invalidate. */
cache_ref *cache_ref_create(uint32_t sets, unsigned ways);
void cache_ref_destroy(cache_ref *c);
int cache_ref_access(cache_ref *c, uint32_t line, uint32_t *evicted);
int cache_ref_probe(const cache_ref *c, uint32_t line);
int cache_ref_invalidate(cache_ref *c, uint32_t line);

#endif
