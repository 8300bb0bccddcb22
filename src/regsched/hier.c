/*
 * hier.c — the L2 + LLC hierarchy of hier.h over cache.c, fast: a directory
 * word per line (which L2s may hold it, and its first-touch node), one
 * set/tag split per geometry, specialised per LLC policy, prefetched ahead.
 * hier_ref.c builds the same model plainly; tests check the two access by
 * access.
 *
 * Order of one access (core c, its L2 p, domain d, line L), both versions:
 *  1. first touch: L's node := c's node if L has none (the fast version
 *     does it where DRAM serves L: a first access is never a cache hit);
 *  2. L2 lookup (fill on miss). On a miss, with ev the line the L2 evicted:
 *     a. LLC step by policy (inclusive: access, back-invalidating the
 *        line the LLC evicts from d's L2s; fill-both: access; victim:
 *        a hit is touched, a miss fills nothing; a line in another L2 of d
 *        counts as an LLC hit);
 *     b. not served in d: another LLC (victim: or another domain's L2)
 *        holds it -> REMOTE, else MEM or MEM_REMOTE by L's node;
 *     c. victim: ev (if any) goes into d's LLC;
 *  3. a write removes L from every other L2 and every other LLC.
 *
 * Why it is fast (`virtlab bench llc`; profile with perf record -e
 * cpu-clock, count instructions with valgrind --tool=callgrind): the
 * simulated caches are megabytes of tags and the directory one word per
 * line, so an access costs host cache misses; they must not wait on each
 * other. The directory is a superset: an L2 eviction leaves its bit set
 * (clearing it was a random host miss that the next access waited for:
 * 44 % of the fast model's samples in the profile before); whoever reads a
 * bit acts on it idempotently (invalidation) or asks the L2 (l2_holders).
 * First-touch nodes live in the directory word (one host line, not two),
 * tables of 2 MiB and more are on transparent huge pages (the bench's 4 MiB
 * directory was, by /proc/PID/smaps_rollup; the gain was not measured
 * apart), a line is split into set and tag once per geometry, and a write
 * invalidates the other LLCs in the pass that probes them. When the tables
 * are large (HIER_NEAR_BYTES), every table an access will touch is
 * prefetched PREFETCH_AHEAD accesses early (its L2 and LLC sets, the other
 * LLC's set when there are two, its directory word), and the line an
 * inclusive LLC will evict is predicted PREDICT_AHEAD accesses early from
 * its (by then cached) set so that its directory word is fetched too —
 * only on machines with more than PROBE_DOM_L2S L2s in some domain: on the
 * others an inclusive LLC's eviction asks every L2 of its domain instead
 * of reading the evicted line's directory word (a random host miss).
 */
#include "regsched/hier.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "regsched/cache.h"
#include "regsched/cache_impl.h"

/* Accesses ahead: 8 as before the directory change; the prediction reads
 * sets prefetched 4 accesses before. Not re-tuned: on the shared 2-core
 * machine the bench's noise was larger than such changes. */
#define PREFETCH_AHEAD 8
#define PREDICT_AHEAD 4
/* Tables (tags and directory) up to this size are not prefetched. Chosen
 * between two measurements (farm-bench, 2026-12-04, load 5-11 on the 2
 * shared cores): prefetching cost 13 % CPU on an epyc-8ccx regsched run
 * (0.6 MiB of tables with set sampling) and gained 1.7-2.4x on `bench llc`
 * (5.8 MiB; its ratio to the reference with and without); not tuned further. */
#define HIER_NEAR_BYTES (2u << 20)
/* Inclusive back-invalidation probes every L2 of the domain (their sets are
 * small and mostly in the host's cache) when no domain has more L2s than
 * this, instead of reading the evicted line's directory word: 16 % less CPU
 * for the fast model on `bench llc`'s trace (6 L2s a domain; farm-bench
 * of a driver replaying that 8 M-access trace through hier_run alone, 2
 * rounds a run: median of 6 pairs 0.84, 0.80-0.87, load 6, 2026-12-04). 8 is a guess, not tuned:
 * westmere-2llc has 6 L2s a domain, single-llc 12 (it keeps the directory word). */
#define PROBE_DOM_L2S 8
/* Directory word: bits 0..23 say which L2s may hold the line (L2 i is bit
 * i mod 24, so on machines with more than 24 L2s a bit stands for up to
 * three), bits 24..31 the first-touch node + 1 (0: untouched). */
#define DIR_BITS 24
#define DIR_L2 ((1u << DIR_BITS) - 1)
#define DIR_SPREAD 0x0001000001000001ull /* bit b -> L2s b, b+24, b+48 */

struct hier {
	unsigned ncores, nllc, nl2;
	int policy;
	int core_llc[TOPO_MAX_CORES], core_node[TOPO_MAX_CORES];
	unsigned core_l2[TOPO_MAX_CORES]; /* pCPU -> its (shared by siblings) L2 */
	cache *l2[TOPO_MAX_CORES];        /* by L2 index */
	cache *llc[TOPO_MAX_LLC];
	uint64_t dom_l2[TOPO_MAX_LLC];   /* L2 indices of a domain */
	uint64_t all_l2;                 /* every L2 index */
	uint32_t l2_dir[TOPO_MAX_CORES]; /* directory bit of L2 i */
	int dir_exact;                   /* at most DIR_BITS L2s: a bit is one L2 */
	int probe_dom; /* inclusive back-invalidation asks every L2 of the domain */
	uint32_t *dir; /* per line: see DIR_BITS */
	size_t nlines;
	int oom;
	int llc_alike;    /* every LLC has the same sets (one split serves all) */
	size_t tag_bytes; /* of every L2 and LLC */
	int far;          /* -1: by size; 0/1: forced (hier__set_far) */
};

/* 1 if hier_run prefetches: tables larger than HIER_NEAR_BYTES. */
static int hier_far(const hier *h)
{
	if (h->far >= 0)
		return h->far;
	return h->tag_bytes + h->nlines * sizeof(*h->dir) > HIER_NEAR_BYTES;
}

void hier__set_far(hier *h, int far)
{
	h->far = far;
}

int hier__sets_of(const topo_cache *c, unsigned sample, uint32_t *sets)
{
	uint64_t s = c->size / ((uint64_t)c->ways * c->line);
	if (sample == 0 || s % sample || s / sample > UINT32_MAX)
		return -1;
	*sets = (uint32_t)(s / sample);
	return 0;
}

/* L2 index per pCPU: one per core (SMT siblings share it), numbered in
 * order of first pCPU. Returns the number of L2s. */
unsigned hier__map_l2s(const topo *t, unsigned *core_l2, int *l2_llc)
{
	unsigned n = 0;
	for (unsigned c = 0; c < t->ncores; c++) {
		unsigned o = 0;
		while (o < c && t->core_phys[o] != t->core_phys[c])
			o++;
		core_l2[c] = o < c ? core_l2[o] : n++;
		if (l2_llc)
			l2_llc[core_l2[c]] = t->core_llc[c];
	}
	return n;
}

hier *hier_create(const topo *t, unsigned sample)
{
	hier *h = calloc(1, sizeof(*h));
	uint32_t sets;
	if (!h)
		return NULL;
	h->ncores = t->ncores;
	h->nllc = t->nllc;
	h->policy = t->llc_policy;
	h->far = -1;
	h->nl2 = hier__map_l2s(t, h->core_l2, NULL);
	h->all_l2 = h->nl2 >= 64 ? ~0ull : (1ull << h->nl2) - 1;
	h->dir_exact = h->nl2 <= DIR_BITS;
	for (unsigned i = 0; i < h->nl2; i++)
		h->l2_dir[i] = 1u << (i % DIR_BITS);
	for (unsigned c = 0; c < t->ncores; c++) {
		h->core_llc[c] = t->core_llc[c];
		h->core_node[c] = t->core_node[c];
		h->dom_l2[t->core_llc[c]] |= 1ull << h->core_l2[c];
	}
	for (unsigned i = 0; i < h->nl2; i++)
		if (hier__sets_of(&t->l2, sample, &sets) ||
		    !(h->l2[i] = cache_create(sets, t->l2.ways)))
			goto err;
	for (unsigned d = 0; d < t->nllc; d++)
		if (hier__sets_of(&t->llc[d], sample, &sets) ||
		    !(h->llc[d] = cache_create(sets, t->llc[d].ways)))
			goto err;
	h->probe_dom = 1;
	for (unsigned d = 0; d < t->nllc; d++)
		h->probe_dom &= __builtin_popcountll(h->dom_l2[d]) <= PROBE_DOM_L2S;
	h->llc_alike = 1;
	for (unsigned d = 1; d < t->nllc; d++)
		h->llc_alike &= cache_sets(h->llc[d]) == cache_sets(h->llc[0]);
	for (unsigned i = 0; i < h->nl2; i++)
		h->tag_bytes += (size_t)cache_sets(h->l2[i]) * CACHE_REC_BYTES;
	for (unsigned d = 0; d < t->nllc; d++)
		h->tag_bytes += (size_t)cache_sets(h->llc[d]) * CACHE_REC_BYTES;
	return h;
err:
	hier_destroy(h);
	return NULL;
}

void hier_destroy(hier *h)
{
	if (!h)
		return;
	for (unsigned c = 0; c < TOPO_MAX_CORES; c++)
		cache_destroy(h->l2[c]);
	for (unsigned d = 0; d < TOPO_MAX_LLC; d++)
		cache_destroy(h->llc[d]);
	free(h->dir);
	free(h);
}

void hier_reset(hier *h)
{
	for (unsigned i = 0; i < h->nl2; i++)
		cache_reset(h->l2[i]);
	for (unsigned d = 0; d < h->nllc; d++)
		cache_reset(h->llc[d]);
	if (h->nlines)
		memset(h->dir, 0, h->nlines * sizeof(*h->dir));
}

unsigned hier_domain(const hier *h, unsigned core)
{
	return (unsigned)h->core_llc[core];
}

int hier_in_llc(const hier *h, unsigned d, uint32_t line)
{
	return cache_probe(h->llc[d], line);
}

int hier_in_l2(const hier *h, unsigned core, uint32_t line)
{
	return cache_probe(h->l2[h->core_l2[core]], line);
}

int hier_oom(const hier *h)
{
	return h->oom;
}

/* Grows dir to hold `line` (doubling, zero-filled). */
static __attribute__((noinline)) int grow_lines(hier *h, uint32_t line)
{
	size_t n = h->nlines ? h->nlines : 4096;
	while (n <= line)
		n *= 2;
	uint32_t *d = vl_huge_alloc(n * sizeof(*d));
	if (!d)
		return -1;
	if (h->nlines)
		memcpy(d, h->dir, h->nlines * sizeof(*d));
	free(h->dir);
	h->dir = d;
	h->nlines = n;
	return 0;
}

/* ---- directory bits <-> L2 indices ---- */

CACHE_ALWAYS uint32_t dir_fold(uint64_t l2s)
{
	return (uint32_t)((l2s | l2s >> DIR_BITS | l2s >> (2 * DIR_BITS)) & DIR_L2);
}

/* The L2s a directory word names (a superset of the holders). */
CACHE_ALWAYS uint64_t dir_l2s(const hier *h, uint32_t word)
{
	return ((uint64_t)(word & DIR_L2) * DIR_SPREAD) & h->all_l2;
}

/* Clears the bits of the L2s in gone (known not to hold the line), except
 * bits shared with an L2 outside gone. */
CACHE_ALWAYS void dir_clear(hier *h, uint32_t line, uint64_t gone)
{
	if (h->dir_exact)
		h->dir[line] &= ~(uint32_t)gone;
	else
		h->dir[line] &= ~(dir_fold(gone) & ~dir_fold(h->all_l2 & ~gone));
}

/* Where one access's line sits in the caches: its L2 set and tag (the
 * same for every L2) and its set and tag in the accessing core's LLC (the
 * same in every LLC when they are alike). */
typedef struct where {
	uint32_t line, s2, t2, s3, t3;
} where;

/* w for line as core's caches see it (s3: its own LLC d's). */
CACHE_ALWAYS void locate(const cache *l2, const cache *l3, uint32_t line, where *w)
{
	w->line = line;
	w->s2 = cache__split(l2, line, &w->t2);
	w->s3 = cache__split(l3, line, &w->t3);
}

/* LLC o's set and tag for w's line (w located for a core of LLC d). */
CACHE_ALWAYS uint32_t llc_set(const hier *h, unsigned o, unsigned d, const where *w, uint32_t *tag)
{
	if (h->llc_alike || o == d) {
		*tag = w->t3;
		return w->s3;
	}
	return cache__split(h->llc[o], w->line, tag);
}

/* Removes a line (L2 set s2, tag t2) from the L2s in mask. */
CACHE_ALWAYS void drop_l2s(hier *h, uint32_t line, uint32_t s2, uint32_t t2, uint64_t mask)
{
	for (uint64_t m = mask; m; m &= m - 1)
		cache__inval_st(h->l2[__builtin_ctzll(m)], s2, t2);
	dir_clear(h, line, mask);
}

/* The L2s among cand that really hold w's line; clears the others' stale
 * directory bits. */
CACHE_ALWAYS uint64_t l2_holders(hier *h, const where *w, uint64_t cand)
{
	uint64_t real = 0;
	for (uint64_t m = cand; m; m &= m - 1) {
		unsigned i = (unsigned)__builtin_ctzll(m);
		if (cache__probe_st(h->l2[i], w->s2, w->t2))
			real |= 1ull << i;
	}
	if (cand & ~real)
		dir_clear(h, w->line, cand & ~real);
	return real;
}

/* Step 2a: the LLC step of an L2 miss; 1 if LLC d serves the line. */
CACHE_ALWAYS int llc_step(hier *h, const where *w, unsigned d, uint64_t pbit, const int pol)
{
	cache *l3 = h->llc[d];
	uint32_t t3, s3 = llc_set(h, d, d, w, &t3);
	if (pol == TOPO_LLC_VICTIM) {
		if (cache__touch_st(l3, s3, t3))
			return 1;
		uint64_t cand = dir_l2s(h, h->dir[w->line]) & h->dom_l2[d] & ~pbit;
		return cand && l2_holders(h, w, cand);
	}
	uint32_t e3;
	int hit3 = cache__access_st(l3, s3, t3, &e3);
	if (pol == TOPO_LLC_INCLUSIVE && !hit3 && e3 != CACHE_NO_LINE) {
		uint32_t te, se = cache__split(h->l2[0], e3, &te);
		if (h->probe_dom) {
			/* ask the domain's few L2s; their directory bits may stay
			 * (a superset) */
			for (uint64_t m = h->dom_l2[d]; m; m &= m - 1)
				cache__inval_st(h->l2[__builtin_ctzll(m)], se, te);
		} else {
			uint64_t m = dir_l2s(h, h->dir[e3]) & h->dom_l2[d];
			if (m)
				drop_l2s(h, e3, se, te, m);
		}
	}
	return hit3;
}

/* Step 2b: not served in d: another LLC or (victim) another domain's L2,
 * else DRAM by first touch. A write takes the line out of the other LLCs
 * in the same pass (*done). */
CACHE_ALWAYS int beyond_step(hier *h, const where *w, unsigned d, int node, int write, int *done,
			     const int pol)
{
	int remote = 0;
	for (unsigned o = 0; o < h->nllc; o++) {
		if (o == d)
			continue;
		uint32_t t3, s3 = llc_set(h, o, d, w, &t3);
		remote |= write ? cache__inval_st(h->llc[o], s3, t3)
				: cache__probe_st(h->llc[o], s3, t3);
	}
	*done = write;
	if (pol == TOPO_LLC_VICTIM && !remote) {
		uint64_t cand = dir_l2s(h, h->dir[w->line]) & ~h->dom_l2[d];
		remote = cand && l2_holders(h, w, cand);
	}
	if (remote)
		return HIER_REMOTE;
	/* a line's first access is never a cache hit, so its first touch is
	 * always recorded here (the reference does it first) */
	uint32_t *dw = &h->dir[w->line], home = *dw >> DIR_BITS;
	if (!home) {
		home = (uint32_t)node + 1;
		*dw |= home << DIR_BITS;
	}
	return home == (uint32_t)node + 1 ? HIER_MEM : HIER_MEM_REMOTE;
}

/* One access (order: see the top of this file) of w's line, located for
 * core. */
CACHE_ALWAYS int access_one(hier *h, unsigned core, const where *w, int write, const int pol)
{
	uint32_t line = w->line;
	if (__builtin_expect(line >= h->nlines, 0) && grow_lines(h, line)) {
		h->oom = 1;
		return HIER_MEM;
	}
	unsigned p = h->core_l2[core], d = (unsigned)h->core_llc[core];
	uint64_t pbit = 1ull << p;
	cache *l2 = h->l2[p];
	int lvl = HIER_L2, done = 0;
	uint32_t ev;
	if (!cache__access_st(l2, w->s2, w->t2, &ev)) {
		h->dir[line] |= h->l2_dir[p];
		if (llc_step(h, w, d, pbit, pol))
			lvl = HIER_LLC;
		else
			lvl = beyond_step(h, w, d, h->core_node[core], write, &done, pol);
		if (pol == TOPO_LLC_VICTIM && ev != CACHE_NO_LINE)
			cache__access(h->llc[d], ev, &ev);
	}
	if (write) {
		uint64_t others = dir_l2s(h, h->dir[line]) & ~pbit;
		for (uint64_t m = others; m; m &= m - 1)
			cache__inval_st(h->l2[__builtin_ctzll(m)], w->s2, w->t2);
		/* p is now the only holder */
		h->dir[line] = (h->dir[line] & ~DIR_L2) | h->l2_dir[p];
		for (unsigned o = 0; o < h->nllc && !done; o++) {
			uint32_t t3, s3 = llc_set(h, o, d, w, &t3);
			if (o != d)
				cache__inval_st(h->llc[o], s3, t3);
		}
	}
	return lvl;
}

int hier_access(hier *h, unsigned core, uint32_t line, int write)
{
	where w;
	locate(h->l2[h->core_l2[core]], h->llc[h->core_llc[core]], line, &w);
	switch (h->policy) {
	case TOPO_LLC_INCLUSIVE:
		return access_one(h, core, &w, write, TOPO_LLC_INCLUSIVE);
	case TOPO_LLC_VICTIM:
		return access_one(h, core, &w, write, TOPO_LLC_VICTIM);
	default:
		return access_one(h, core, &w, write, TOPO_LLC_FILL_BOTH);
	}
}

/* Prefetches what accessing w's line will touch first: its sets in L2 l2
 * and in its LLC l3 (in every LLC when there are two), its directory word. */
CACHE_ALWAYS void prefetch_line(const hier *h, const cache *l2, const cache *l3, const where *w)
{
	cache__prefetch_st(l2, w->s2);
	if (h->llc_alike && h->nllc == 2) {
		cache__prefetch_st(h->llc[0], w->s3);
		cache__prefetch_st(h->llc[1], w->s3);
	} else {
		cache__prefetch_st(l3, w->s3);
	}
	if (w->line < h->nlines)
		__builtin_prefetch(h->dir + w->line, 1, 3);
}

/* Inclusive LLC: if w's line will miss l3 (whose set is cached by now), the
 * line it will evict has its directory word read: fetch it. */
CACHE_ALWAYS void predict_eviction(const hier *h, const cache *l3, const where *w)
{
	const uint16_t *t = cache__tags(l3, w->s3);
	if (cache__match(t, w->t3))
		return;
	unsigned v = (unsigned)(*cache__lru(l3, w->s3) >> (4 * (l3->ways - 1))) & 0xf;
	uint32_t e = t[v] == CACHE_NO_TAG ? CACHE_NO_LINE : t[v] * l3->sets + w->s3;
	if (e < h->nlines)
		__builtin_prefetch(h->dir + e, 1, 3);
}

#define RING 16 /* located accesses in flight: > PREFETCH_AHEAD, a power of two */

/* Access i of a far run: locate and prefetch access i + PREFETCH_AHEAD
 * (ahead), predict access i + PREDICT_AHEAD's eviction (pred), then do
 * access i from the ring. */
CACHE_ALWAYS int far_step(hier *h, unsigned core, cache *l2, cache *l3, const uint32_t *lines,
			  where *ring, size_t i, int w, const int pol, const int ahead,
			  const int pred)
{
	if (ahead) {
		where *a = &ring[(i + PREFETCH_AHEAD) % RING];
		locate(l2, l3, lines[i + PREFETCH_AHEAD], a);
		prefetch_line(h, l2, l3, a);
	}
	if (pol == TOPO_LLC_INCLUSIVE && pred)
		if (!h->probe_dom)
			predict_eviction(h, l3, &ring[(i + PREDICT_AHEAD) % RING]);
	/* a local copy the compiler keeps in registers */
	where here = ring[i % RING];
	return access_one(h, core, &here, w, pol);
}

#define WBIT(wmask, i) ((wmask) ? (int)(((wmask)[(i) >> 6] >> ((i)&63)) & 1) : 0)
#define COUNT(l, i)                                                                                \
	do {                                                                                       \
		count[l]++;                                                                        \
		if (lvl)                                                                           \
			lvl[i] = (uint8_t)(l);                                                     \
	} while (0)

/* hier_run's body; lvl (may be NULL) gets each access's level. Inlined
 * once per policy, lvl and far, so the loop tests none of them per access.
 * far: each line is located once, PREFETCH_AHEAD accesses early, into a
 * ring, and its tables prefetched; the main loop runs while there are
 * accesses that far ahead, so it tests no bounds (6 % fewer instructions on
 * `bench llc`, callgrind). Near (every table fits the host's cache,
 * HIER_NEAR_BYTES), prefetching only costs instructions. */
CACHE_ALWAYS void run_body(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask,
			   size_t n, uint64_t count[HIER_NLEVELS], uint8_t *lvl, const int pol,
			   const int far)
{
	cache *l2 = h->l2[h->core_l2[core]], *l3 = h->llc[h->core_llc[core]];
	size_t i = 0;
	if (!far) {
		for (; i < n; i++) {
			where here;
			locate(l2, l3, lines[i], &here);
			int l = access_one(h, core, &here, WBIT(wmask, i), pol);
			COUNT(l, i);
		}
		return;
	}
	where ring[RING];
	for (size_t k = 0; k < n && k < PREFETCH_AHEAD; k++) {
		locate(l2, l3, lines[k], &ring[k]);
		prefetch_line(h, l2, l3, &ring[k]);
	}
	for (; i + PREFETCH_AHEAD < n; i++) {
		int l = far_step(h, core, l2, l3, lines, ring, i, WBIT(wmask, i), pol, 1, 1);
		COUNT(l, i);
	}
	for (; i < n; i++) {
		int l = far_step(h, core, l2, l3, lines, ring, i, WBIT(wmask, i), pol, 0,
				 i + PREDICT_AHEAD < n);
		COUNT(l, i);
	}
}

#define RUN_FAR(h, core, lines, wmask, n, count, lvl, far)                                         \
	do {                                                                                       \
		if ((h)->policy == TOPO_LLC_INCLUSIVE)                                             \
			run_body(h, core, lines, wmask, n, count, lvl, TOPO_LLC_INCLUSIVE, far);   \
		else if ((h)->policy == TOPO_LLC_VICTIM)                                           \
			run_body(h, core, lines, wmask, n, count, lvl, TOPO_LLC_VICTIM, far);      \
		else                                                                               \
			run_body(h, core, lines, wmask, n, count, lvl, TOPO_LLC_FILL_BOTH, far);   \
	} while (0)

#define RUN_BY_POLICY(h, core, lines, wmask, n, count, lvl)                                        \
	do {                                                                                       \
		if (hier_far(h))                                                                   \
			RUN_FAR(h, core, lines, wmask, n, count, lvl, 1);                          \
		else                                                                               \
			RUN_FAR(h, core, lines, wmask, n, count, lvl, 0);                          \
	} while (0)

void hier_run(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
	      uint64_t count[HIER_NLEVELS])
{
	RUN_BY_POLICY(h, core, lines, wmask, n, count, NULL);
}

void hier_run_levels(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
		     uint64_t count[HIER_NLEVELS], uint8_t *lvl)
{
	RUN_BY_POLICY(h, core, lines, wmask, n, count, lvl);
}
