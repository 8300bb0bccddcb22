/*
 * hier_ref.c — the memory hierarchy of hier.h built plainly over
 * cache_ref.c: every L2 and LLC looked at, no directory, a first-touch byte
 * per line. Slow on purpose: test_regsched_cache checks hier.c against it
 * access by access and `bench llc` runs it side by side. The order of one
 * access is the one at the top of hier.c. A deliberate second copy of the
 * model: keep it plain; it shares only the geometry helpers hier__sets_of
 * and hier__map_l2s with hier.c.
 */
#include "regsched/hier.h"

#include <stdlib.h>
#include <string.h>

#include "regsched/cache.h"

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

hier_ref *hier_ref_create(const topo *t, unsigned sample)
{
	hier_ref *h = calloc(1, sizeof(*h));
	uint32_t sets;
	if (!h)
		return NULL;
	h->ncores = t->ncores;
	h->nllc = t->nllc;
	h->policy = t->llc_policy;
	h->nl2 = hier__map_l2s(t, h->core_l2, h->l2_llc);
	for (unsigned c = 0; c < t->ncores; c++) {
		h->core_llc[c] = t->core_llc[c];
		h->core_node[c] = t->core_node[c];
	}
	for (unsigned i = 0; i < h->nl2; i++)
		if (hier__sets_of(&t->l2, sample, &sets) ||
		    !(h->l2[i] = cache_ref_create(sets, t->l2.ways)))
			goto err;
	for (unsigned d = 0; d < t->nllc; d++)
		if (hier__sets_of(&t->llc[d], sample, &sets) ||
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
