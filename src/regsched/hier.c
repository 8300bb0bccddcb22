/*
 * hier.c — L2 + LLC hierarchy over cache.c (with a directory of L2
 * holders and a first-touch node map), and the same built plainly over
 * cache_ref.c (every L2 looked at, no directory); see hier.h for the model.
 * Tests check the two access by access.
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
 */
#include "regsched/hier.h"

#include <stdlib.h>
#include <string.h>

#include "regsched/cache.h"
#include "regsched/cache_impl.h"

#define PREFETCH_AHEAD 8 /* accesses; tuned with `virtlab bench llc` */

struct hier {
	unsigned ncores, nllc, nl2;
	int policy;
	int core_llc[TOPO_MAX_CORES], core_node[TOPO_MAX_CORES];
	unsigned core_l2[TOPO_MAX_CORES]; /* pCPU -> its (shared by siblings) L2 */
	cache *l2[TOPO_MAX_CORES];        /* by L2 index */
	cache *llc[TOPO_MAX_LLC];
	uint64_t dom_l2[TOPO_MAX_LLC]; /* L2 indices of a domain */
	uint64_t *dir;                 /* per line: L2 indices that hold it */
	uint8_t *home;                 /* per line: first-touch node + 1, 0 none */
	size_t nlines;
	int oom;
};

struct hier_ref {
	unsigned ncores, nllc, nl2;
	int policy;
	int core_llc[TOPO_MAX_CORES], core_node[TOPO_MAX_CORES];
	unsigned core_l2[TOPO_MAX_CORES];
	int l2_llc[TOPO_MAX_CORES]; /* domain of L2 i */
	cache_ref *l2[TOPO_MAX_CORES];
	cache_ref *llc[TOPO_MAX_LLC];
	uint8_t *home;
	size_t nlines;
};

static int sets_of(const topo_cache *c, unsigned sample, uint32_t *sets)
{
	uint64_t s = c->size / ((uint64_t)c->ways * c->line);
	if (sample == 0 || s % sample || s / sample > UINT32_MAX)
		return -1;
	*sets = (uint32_t)(s / sample);
	return 0;
}

/* L2 index per pCPU: one per core (SMT siblings share it), numbered in
 * order of first pCPU. Returns the number of L2s. */
static unsigned map_l2s(const topo *t, unsigned *core_l2, int *l2_llc)
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
	h->nl2 = map_l2s(t, h->core_l2, NULL);
	for (unsigned c = 0; c < t->ncores; c++) {
		h->core_llc[c] = t->core_llc[c];
		h->core_node[c] = t->core_node[c];
		h->dom_l2[t->core_llc[c]] |= 1ull << h->core_l2[c];
	}
	for (unsigned i = 0; i < h->nl2; i++)
		if (sets_of(&t->l2, sample, &sets) || !(h->l2[i] = cache_create(sets, t->l2.ways)))
			goto err;
	for (unsigned d = 0; d < t->nllc; d++)
		if (sets_of(&t->llc[d], sample, &sets) ||
		    !(h->llc[d] = cache_create(sets, t->llc[d].ways)))
			goto err;
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
	free(h->home);
	free(h);
}

void hier_reset(hier *h)
{
	for (unsigned i = 0; i < h->nl2; i++)
		cache_reset(h->l2[i]);
	for (unsigned d = 0; d < h->nllc; d++)
		cache_reset(h->llc[d]);
	if (h->nlines) {
		memset(h->dir, 0, h->nlines * sizeof(*h->dir));
		memset(h->home, 0, h->nlines);
	}
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

/* Grows dir and home to hold `line` (doubling, zero-filled). */
static __attribute__((noinline)) int grow_lines(hier *h, uint32_t line)
{
	size_t n = h->nlines ? h->nlines : 4096;
	while (n <= line)
		n *= 2;
	uint64_t *d = realloc(h->dir, n * sizeof(*d));
	if (!d)
		return -1;
	h->dir = d;
	uint8_t *m = realloc(h->home, n);
	if (!m)
		return -1;
	h->home = m;
	memset(h->dir + h->nlines, 0, (n - h->nlines) * sizeof(*d));
	memset(h->home + h->nlines, 0, n - h->nlines);
	h->nlines = n;
	return 0;
}

/* Removes line from the L2s in mask; clears their directory bits. */
static void drop_l2s(hier *h, uint32_t line, uint64_t mask)
{
	for (uint64_t m = mask; m; m &= m - 1)
		cache_invalidate(h->l2[__builtin_ctzll(m)], line);
	h->dir[line] &= ~mask;
}

static inline __attribute__((always_inline)) int access_one(hier *h, unsigned core, uint32_t line,
							    int write)
{
	if (__builtin_expect(line >= h->nlines, 0) && grow_lines(h, line)) {
		h->oom = 1;
		return HIER_MEM;
	}
	unsigned p = h->core_l2[core], d = (unsigned)h->core_llc[core];
	uint64_t pbit = 1ull << p;
	int node = h->core_node[core];
	int lvl;
	cache *l2 = h->l2[p];
	if (cache__access(l2, line)) {
		lvl = HIER_L2;
	} else {
		uint32_t ev = l2->last_evicted;
		h->dir[line] |= pbit;
		if (ev != CACHE_NO_LINE)
			h->dir[ev] &= ~pbit;
		int hit3;
		if (h->policy == TOPO_LLC_VICTIM) {
			hit3 = cache__probe(h->llc[d], line);
			if (hit3)
				cache__access(h->llc[d], line);
			else
				hit3 = (h->dir[line] & h->dom_l2[d] & ~pbit) != 0;
		} else {
			hit3 = cache__access(h->llc[d], line);
			uint32_t e3 = h->llc[d]->last_evicted;
			if (!hit3 && h->policy == TOPO_LLC_INCLUSIVE && e3 != CACHE_NO_LINE &&
			    (h->dir[e3] & h->dom_l2[d]))
				drop_l2s(h, e3, h->dir[e3] & h->dom_l2[d]);
		}
		if (hit3) {
			lvl = HIER_LLC;
		} else {
			int remote = 0;
			for (unsigned o = 0; o < h->nllc && !remote; o++)
				remote = o != d && cache__probe(h->llc[o], line);
			if (h->policy == TOPO_LLC_VICTIM && (h->dir[line] & ~h->dom_l2[d]))
				remote = 1;
			/* a line's first access is never a cache hit, so its first
			 * touch is always recorded here (the reference does it first) */
			if (!remote && !h->home[line])
				h->home[line] = (uint8_t)(node + 1);
			lvl = remote                      ? HIER_REMOTE
			      : h->home[line] == node + 1 ? HIER_MEM
							  : HIER_MEM_REMOTE;
		}
		if (h->policy == TOPO_LLC_VICTIM && ev != CACHE_NO_LINE)
			cache__access(h->llc[d], ev);
	}
	if (write) {
		if (h->dir[line] & ~pbit)
			drop_l2s(h, line, h->dir[line] & ~pbit);
		for (unsigned o = 0; o < h->nllc; o++)
			if (o != d)
				cache_invalidate(h->llc[o], line);
	}
	return lvl;
}

int hier_access(hier *h, unsigned core, uint32_t line, int write)
{
	return access_one(h, core, line, write);
}

/* hier_run's body; lvl (may be NULL) gets each access's level. Inlined
 * twice so that the benchmark's loop has no per-access lvl test. */
static inline __attribute__((always_inline)) void
run_body(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
	 uint64_t count[HIER_NLEVELS], uint8_t *lvl)
{
	cache *l2 = h->l2[h->core_l2[core]], *llc = h->llc[h->core_llc[core]];
	for (size_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n) {
			uint32_t ahead = lines[i + PREFETCH_AHEAD];
			cache__prefetch(l2, ahead);
			cache__prefetch(llc, ahead);
			if (ahead < h->nlines)
				__builtin_prefetch(h->dir + ahead, 1, 3);
		}
		int w = wmask ? (int)((wmask[i >> 6] >> (i & 63)) & 1) : 0;
		int l = access_one(h, core, lines[i], w);
		count[l]++;
		if (lvl)
			lvl[i] = (uint8_t)l;
	}
}

void hier_run(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
	      uint64_t count[HIER_NLEVELS])
{
	run_body(h, core, lines, wmask, n, count, NULL);
}

void hier_run_levels(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
		     uint64_t count[HIER_NLEVELS], uint8_t *lvl)
{
	run_body(h, core, lines, wmask, n, count, lvl);
}

/* ---- the reference: every cache looked at, no directory ---- */

hier_ref *hier_ref_create(const topo *t, unsigned sample)
{
	hier_ref *h = calloc(1, sizeof(*h));
	uint32_t sets;
	if (!h)
		return NULL;
	h->ncores = t->ncores;
	h->nllc = t->nllc;
	h->policy = t->llc_policy;
	h->nl2 = map_l2s(t, h->core_l2, h->l2_llc);
	for (unsigned c = 0; c < t->ncores; c++) {
		h->core_llc[c] = t->core_llc[c];
		h->core_node[c] = t->core_node[c];
	}
	for (unsigned i = 0; i < h->nl2; i++)
		if (sets_of(&t->l2, sample, &sets) ||
		    !(h->l2[i] = cache_ref_create(sets, t->l2.ways)))
			goto err;
	for (unsigned d = 0; d < t->nllc; d++)
		if (sets_of(&t->llc[d], sample, &sets) ||
		    !(h->llc[d] = cache_ref_create(sets, t->llc[d].ways)))
			goto err;
	return h;
err:
	hier_ref_destroy(h);
	return NULL;
}

void hier_ref_destroy(hier_ref *h)
{
	if (!h)
		return;
	for (unsigned c = 0; c < TOPO_MAX_CORES; c++)
		cache_ref_destroy(h->l2[c]);
	for (unsigned d = 0; d < TOPO_MAX_LLC; d++)
		cache_ref_destroy(h->llc[d]);
	free(h->home);
	free(h);
}

int hier_ref_in_l2(const hier_ref *h, unsigned core, uint32_t line)
{
	return cache_ref_probe(h->l2[h->core_l2[core]], line);
}

int hier_ref_in_llc(const hier_ref *h, unsigned d, uint32_t line)
{
	return cache_ref_probe(h->llc[d], line);
}

/* Node + 1 of line's first toucher, set to node + 1 if it had none; 0 if
 * the map cannot grow. */
static int ref_home(hier_ref *h, uint32_t line, int node)
{
	if (line >= h->nlines) {
		size_t n = (size_t)line + 1;
		uint8_t *m = realloc(h->home, n);
		if (!m)
			return 0;
		memset(m + h->nlines, 0, n - h->nlines);
		h->home = m;
		h->nlines = n;
	}
	if (!h->home[line])
		h->home[line] = (uint8_t)(node + 1);
	return h->home[line];
}

int hier_ref_access(hier_ref *h, unsigned core, uint32_t line, int write)
{
	unsigned p = h->core_l2[core], d = (unsigned)h->core_llc[core];
	int node = h->core_node[core], home = ref_home(h, line, node), lvl;
	uint32_t ev;
	if (cache_ref_access(h->l2[p], line, &ev)) {
		lvl = HIER_L2;
	} else {
		int hit3 = 0;
		if (h->policy == TOPO_LLC_VICTIM) {
			hit3 = cache_ref_probe(h->llc[d], line) &&
			       cache_ref_access(h->llc[d], line, NULL);
			for (unsigned i = 0; i < h->nl2 && !hit3; i++)
				hit3 = i != p && h->l2_llc[i] == (int)d &&
				       cache_ref_probe(h->l2[i], line);
		} else {
			uint32_t e3;
			hit3 = cache_ref_access(h->llc[d], line, &e3);
			if (!hit3 && h->policy == TOPO_LLC_INCLUSIVE && e3 != CACHE_NO_LINE)
				for (unsigned i = 0; i < h->nl2; i++)
					if (h->l2_llc[i] == (int)d)
						cache_ref_invalidate(h->l2[i], e3);
		}
		if (hit3) {
			lvl = HIER_LLC;
		} else {
			int remote = 0;
			for (unsigned o = 0; o < h->nllc; o++)
				if (o != d && cache_ref_probe(h->llc[o], line))
					remote = 1;
			for (unsigned i = 0; i < h->nl2 && h->policy == TOPO_LLC_VICTIM; i++)
				if (h->l2_llc[i] != (int)d && cache_ref_probe(h->l2[i], line))
					remote = 1;
			lvl = remote ? HIER_REMOTE : home == node + 1 ? HIER_MEM : HIER_MEM_REMOTE;
		}
		if (h->policy == TOPO_LLC_VICTIM && ev != CACHE_NO_LINE)
			cache_ref_access(h->llc[d], ev, NULL);
	}
	if (write) {
		for (unsigned i = 0; i < h->nl2; i++)
			if (i != p)
				cache_ref_invalidate(h->l2[i], line);
		for (unsigned o = 0; o < h->nllc; o++)
			if (o != d)
				cache_ref_invalidate(h->llc[o], line);
	}
	return lvl;
}
