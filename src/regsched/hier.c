/*
 * hier.c — L2 + LLC hierarchy over cache.c, and the same over cache_ref.c;
 * see hier.h for the model.
 */
#include "regsched/hier.h"

#include <stdlib.h>

#include "regsched/cache.h"
#include "regsched/cache_impl.h"

#define PREFETCH_AHEAD 8 /* accesses; tuned with `virtlab bench llc` */
#define RING 16          /* > PREFETCH_AHEAD, a power of two */

struct hier {
	unsigned ncores, nllc;
	int core_llc[TOPO_MAX_CORES];
	cache *l2[TOPO_MAX_CORES]; /* per pCPU; SMT siblings point at one L2 */
	cache *own_l2[TOPO_MAX_CORES];
	cache *llc[TOPO_MAX_LLC];
};

struct hier_ref {
	unsigned ncores, nllc;
	int core_llc[TOPO_MAX_CORES];
	cache_ref *l2[TOPO_MAX_CORES]; /* per pCPU; SMT siblings point at one L2 */
	cache_ref *own_l2[TOPO_MAX_CORES];
	cache_ref *llc[TOPO_MAX_LLC];
};

static int sets_of(const topo_cache *c, unsigned sample, uint32_t *sets)
{
	uint64_t s = c->size / ((uint64_t)c->ways * c->line);
	if (sample == 0 || s % sample || s / sample > UINT32_MAX)
		return -1;
	*sets = (uint32_t)(s / sample);
	return 0;
}

hier *hier_create(const topo *t, unsigned sample)
{
	hier *h = calloc(1, sizeof(*h));
	uint32_t sets;
	if (!h)
		return NULL;
	h->ncores = t->ncores;
	h->nllc = t->nllc;
	for (unsigned c = 0; c < t->ncores; c++) {
		h->core_llc[c] = t->core_llc[c];
		unsigned p = (unsigned)t->core_phys[c];
		if (!h->own_l2[p] && (sets_of(&t->l2, sample, &sets) ||
				      !(h->own_l2[p] = cache_create(sets, t->l2.ways))))
			goto err;
		h->l2[c] = h->own_l2[p];
	}
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
		cache_destroy(h->own_l2[c]);
	for (unsigned d = 0; d < TOPO_MAX_LLC; d++)
		cache_destroy(h->llc[d]);
	free(h);
}

void hier_reset(hier *h)
{
	for (unsigned c = 0; c < h->ncores; c++)
		cache_reset(h->l2[c]);
	for (unsigned d = 0; d < h->nllc; d++)
		cache_reset(h->llc[d]);
}

unsigned hier_domain(const hier *h, unsigned core)
{
	return (unsigned)h->core_llc[core];
}

int hier_in_llc(const hier *h, unsigned d, uint32_t line)
{
	return cache_probe(h->llc[d], line);
}

/* After an L2 miss: the local LLC, then the others. A write removes the
 * line from every other LLC; on a local miss that same lookup tells whether
 * the line was there (one tag compare per LLC either way). */
static inline __attribute__((always_inline)) int llc_path(hier *h, unsigned d, uint32_t line,
							  int write)
{
	int lvl = cache__access(h->llc[d], line) ? HIER_LLC : HIER_MEM;
	if (h->nllc == 1 || (lvl == HIER_LLC && !write))
		return lvl;
	for (unsigned o = 0; o < h->nllc; o++) {
		if (o == d)
			continue;
		int found =
			write ? cache_invalidate(h->llc[o], line) : cache__probe(h->llc[o], line);
		if (found && lvl == HIER_MEM)
			lvl = HIER_REMOTE;
	}
	return lvl;
}

static inline void invalidate_others(hier *h, unsigned d, uint32_t line)
{
	for (unsigned o = 0; o < h->nllc; o++)
		if (o != d)
			cache_invalidate(h->llc[o], line);
}

int hier_access(hier *h, unsigned core, uint32_t line, int write)
{
	unsigned d = (unsigned)h->core_llc[core];
	if (cache__access(h->l2[core], line)) {
		if (write && h->nllc > 1)
			invalidate_others(h, d, line);
		return HIER_L2;
	}
	return llc_path(h, d, line, write);
}

/* hier_run's body; lvl (may be NULL) gets each access's level. Inlined
 * twice so that the benchmark's loop has no per-access lvl test. */
static inline __attribute__((always_inline)) void run_body(hier *h, unsigned core,
							   const uint32_t *lines,
							   const uint64_t *wmask, size_t n,
							   uint64_t count[4], uint8_t *lvl)
{
	cache *l2 = h->l2[core];
	unsigned d = (unsigned)h->core_llc[core];
	if (h->nllc != 2) {
		for (size_t i = 0; i < n; i++) {
			if (i + PREFETCH_AHEAD < n) {
				cache__prefetch(l2, lines[i + PREFETCH_AHEAD]);
				cache__prefetch(h->llc[d], lines[i + PREFETCH_AHEAD]);
			}
			int w = wmask ? (int)((wmask[i >> 6] >> (i & 63)) & 1) : 0;
			int l = hier_access(h, core, lines[i], w);
			count[l]++;
			if (lvl)
				lvl[i] = (uint8_t)l;
		}
		return;
	}
	/* Two LLCs of one geometry (the paper's machine): branch-free — every
	 * access looks at the L2, the local LLC and the remote LLC, and applies
	 * only the updates the model calls for. Set and tag of each line are
	 * computed once, PREFETCH_AHEAD accesses early, when its sets are
	 * prefetched, and kept in a small ring. */
	cache cl2 = *l2, cllc = *h->llc[d], crem = *h->llc[1 - d];
	if (cllc.sets != crem.sets) {
		for (size_t i = 0; i < n; i++) {
			int w = wmask ? (int)((wmask[i >> 6] >> (i & 63)) & 1) : 0;
			int l = hier_access(h, core, lines[i], w);
			count[l]++;
			if (lvl)
				lvl[i] = (uint8_t)l;
		}
		return;
	}
	uint32_t s2[RING], t2[RING], s3[RING], t3[RING];
	for (size_t i = 0; i < n + PREFETCH_AHEAD; i++) {
		if (i < n) {
			size_t k = i & (RING - 1);
			s2[k] = cache__split(&cl2, lines[i], &t2[k]);
			s3[k] = cache__split(&cllc, lines[i], &t3[k]);
			cache__prefetch_set(&cl2, s2[k]);
			cache__prefetch_set(&cllc, s3[k]);
			cache__prefetch_set(&crem, s3[k]);
		}
		if (i < PREFETCH_AHEAD)
			continue;
		size_t j = i - PREFETCH_AHEAD, k = j & (RING - 1);
		int w = wmask ? (int)((wmask[j >> 6] >> (j & 63)) & 1) : 0;
		int h2 = cache__access_st_if(&cl2, s2[k], t2[k], 1);
		int h3 = cache__access_st_if(&cllc, s3[k], t3[k], !h2);
		int hr = cache__inval_st_if(&crem, s3[k], t3[k], w);
		/* h2 ? L2 : h3 ? LLC : hr ? REMOTE : MEM, without branches */
		int l = (1 - h2) * (h3 + (1 - h3) * (HIER_MEM - hr));
		count[l]++;
		if (lvl)
			lvl[j] = (uint8_t)l;
	}
}

void hier_run(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
	      uint64_t count[4])
{
	run_body(h, core, lines, wmask, n, count, NULL);
}

void hier_run_levels(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
		     uint64_t count[4], uint8_t *lvl)
{
	run_body(h, core, lines, wmask, n, count, lvl);
}

hier_ref *hier_ref_create(const topo *t, unsigned sample)
{
	hier_ref *h = calloc(1, sizeof(*h));
	uint32_t sets;
	if (!h)
		return NULL;
	h->ncores = t->ncores;
	h->nllc = t->nllc;
	for (unsigned c = 0; c < t->ncores; c++) {
		h->core_llc[c] = t->core_llc[c];
		unsigned p = (unsigned)t->core_phys[c];
		if (!h->own_l2[p] && (sets_of(&t->l2, sample, &sets) ||
				      !(h->own_l2[p] = cache_ref_create(sets, t->l2.ways))))
			goto err;
		h->l2[c] = h->own_l2[p];
	}
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
		cache_ref_destroy(h->own_l2[c]);
	for (unsigned d = 0; d < TOPO_MAX_LLC; d++)
		cache_ref_destroy(h->llc[d]);
	free(h);
}

int hier_ref_access(hier_ref *h, unsigned core, uint32_t line, int write)
{
	unsigned d = (unsigned)h->core_llc[core];
	int lvl;
	if (cache_ref_access(h->l2[core], line, NULL)) {
		lvl = HIER_L2;
	} else if (cache_ref_access(h->llc[d], line, NULL)) {
		lvl = HIER_LLC;
	} else {
		lvl = HIER_MEM;
		for (unsigned o = 0; o < h->nllc; o++)
			if (o != d && cache_ref_probe(h->llc[o], line))
				lvl = HIER_REMOTE;
	}
	if (write)
		for (unsigned o = 0; o < h->nllc; o++)
			if (o != d)
				cache_ref_invalidate(h->llc[o], line);
	return lvl;
}
