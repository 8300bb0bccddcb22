/*
 * region.c — sampling, region formation and placement; see region.h.
 */
#include "regsched/region.h"

#include <stdlib.h>
#include <string.h>

#define STICK 0.5      /* weight of "stay where the region's lines are" */
#define HYSTERESIS 0.5 /* of the vCPU's demand, for keeping last epoch's LLC */
#define OVERFLOW_PENALTY 2.0
#define WL_REGION_CAP 128 /* workload.h WL_MAX_REGIONS, for the oracle */

typedef struct pent {
	uint64_t page; /* page + 1; 0 = empty */
	uint64_t cur, prev;
	uint32_t heat;
	uint16_t ncur, nprev; /* samples this epoch and the last */
	uint32_t llc_heat[TOPO_MAX_LLC];
} pent;

struct region_ctx {
	const topo *t;
	unsigned nvcpu;
	pent *tab;
	size_t cap, n;
	region_info reg[REGION_MAX];
	unsigned seen[REGION_MAX], f1[REGION_MAX], f2[REGION_MAX]; /* for the size estimate */
	unsigned nreg;
};

static size_t slot(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static int grow(region_ctx *r, size_t ncap)
{
	pent *nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -1;
	for (size_t i = 0; i < r->cap; i++) {
		if (!r->tab[i].page || (!r->tab[i].heat && !r->tab[i].prev))
			continue;
		size_t j = slot(r->tab[i].page, ncap);
		while (nt[j].page)
			j = (j + 1) & (ncap - 1);
		nt[j] = r->tab[i];
	}
	free(r->tab);
	r->tab = nt;
	r->cap = ncap;
	r->n = 0;
	for (size_t i = 0; i < ncap; i++)
		r->n += nt[i].page != 0;
	return 0;
}

region_ctx *region_create(const topo *t, unsigned nvcpu)
{
	region_ctx *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->t = t;
	r->nvcpu = nvcpu;
	r->cap = 1 << 14;
	r->tab = calloc(r->cap, sizeof(*r->tab));
	if (!r->tab) {
		free(r);
		return NULL;
	}
	return r;
}

void region_destroy(region_ctx *r)
{
	if (!r)
		return;
	free(r->tab);
	free(r);
}

void region_sample(region_ctx *r, unsigned v, unsigned llc, uint64_t page)
{
	if (2 * (r->n + 1) > r->cap && grow(r, 2 * r->cap))
		return; /* out of memory: drop the sample */
	uint64_t key = page + 1;
	size_t j = slot(key, r->cap);
	while (r->tab[j].page && r->tab[j].page != key)
		j = (j + 1) & (r->cap - 1);
	pent *e = &r->tab[j];
	if (!e->page) {
		e->page = key;
		r->n++;
	}
	e->heat++;
	e->ncur += e->ncur < UINT16_MAX;
	e->cur |= 1ull << v;
	e->llc_heat[llc]++;
}

typedef struct live {
	uint64_t sig, page;
	const pent *e;
} live;

static int live_cmp(const void *a, const void *b)
{
	const live *x = a, *y = b;
	if (x->sig != y->sig)
		return x->sig < y->sig ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page;
}

static void close_region(region_ctx *r, const live *l, size_t from, size_t to)
{
	if (r->nreg == REGION_MAX)
		return;
	unsigned k = r->nreg++;
	region_info *g = &r->reg[k];
	memset(g, 0, sizeof(*g));
	r->seen[k] = (unsigned)(to - from);
	r->f1[k] = r->f2[k] = 0;
	g->first_page = l[from].page;
	g->pages = l[to - 1].page - l[from].page + 1;
	g->vmask = l[from].sig;
	/* size: the pages seen, not the span — fragments of one set with
	 * different signatures interleave over the same span (scaled up by
	 * the estimate of pages not seen in scale_sizes) */
	g->bytes = (double)(to - from) * 4096.0;
	double lh[TOPO_MAX_LLC] = { 0 };
	for (size_t i = from; i < to; i++) {
		unsigned c = (unsigned)l[i].e->ncur + l[i].e->nprev;
		r->f1[k] += c == 1;
		r->f2[k] += c == 2;
		g->heat += l[i].e->heat;
		for (unsigned d = 0; d < r->t->nllc; d++)
			lh[d] += l[i].e->llc_heat[d];
	}
	g->llc = 0;
	for (unsigned d = 1; d < r->t->nllc; d++)
		if (lh[d] > lh[g->llc])
			g->llc = (int)d;
}

static unsigned uf_find(unsigned *p, unsigned x);

/* Sampling sees only some pages of a set: a region's bytes are the pages
 * seen, scaled by its group's Chao1 estimate of the pages not seen (Chao,
 * Scand. J. Statist. 1984; bias-corrected form): with f1 pages sampled
 * once and f2 twice in the two-epoch window, unseen ~ f1 (f1 - 1) / (2
 * (f2 + 1)) — exact in expectation when a set's pages are sampled alike
 * (Poisson), a lower bound otherwise. Pooled over a group (regions linked
 * by a shared vCPU), because one set's pages split into regions by which
 * of its vCPUs happened to be sampled, and each fragment alone is not a
 * sample of the set. Without it a 7 MiB set sampled ~2 times a page
 * looked like 6 MiB and two of them packed into one 12 MiB LLC. */
static void scale_sizes(region_ctx *r)
{
	unsigned par[REGION_MAX];
	double seen[REGION_MAX] = { 0 }, f1[REGION_MAX] = { 0 }, f2[REGION_MAX] = { 0 };
	for (unsigned i = 0; i < r->nreg; i++) {
		par[i] = i;
		for (unsigned j = 0; j < i; j++)
			if (r->reg[i].vmask & r->reg[j].vmask)
				par[uf_find(par, i)] = uf_find(par, j);
	}
	for (unsigned i = 0; i < r->nreg; i++) {
		unsigned g = uf_find(par, i);
		seen[g] += r->seen[i];
		f1[g] += r->f1[i];
		f2[g] += r->f2[i];
	}
	for (unsigned i = 0; i < r->nreg; i++) {
		unsigned g = uf_find(par, i);
		if (seen[g] > 0)
			r->reg[i].bytes *= 1.0 + f1[g] * (f1[g] - 1) / (2 * (f2[g] + 1)) / seen[g];
	}
}

unsigned region_form(region_ctx *r)
{
	live *l = malloc((r->n + 1) * sizeof(*l));
	size_t n = 0;
	r->nreg = 0;
	if (!l)
		return 0;
	for (size_t i = 0; i < r->cap; i++) {
		pent *e = &r->tab[i];
		if (e->page && (e->cur | e->prev))
			l[n++] = (live){ e->cur | e->prev, e->page - 1, e };
	}
	qsort(l, n, sizeof(*l), live_cmp);
	size_t start = 0;
	for (size_t i = 1; i <= n; i++)
		if (i == n || l[i].sig != l[start].sig ||
		    l[i].page - l[i - 1].page > REGION_GAP_PAGES) {
			if (n)
				close_region(r, l, start, i);
			start = i;
		}
	free(l);
	scale_sizes(r);
	/* age: halve heat, shift the vCPU masks, drop cold pages */
	for (size_t i = 0; i < r->cap; i++) {
		pent *e = &r->tab[i];
		if (!e->page)
			continue;
		e->heat >>= 1;
		e->prev = e->cur;
		e->cur = 0;
		e->nprev = e->ncur;
		e->ncur = 0;
		for (unsigned d = 0; d < r->t->nllc; d++)
			e->llc_heat[d] >>= 1;
	}
	grow(r, r->cap); /* rehash without the cold pages */
	return r->nreg;
}

size_t region_table_slots(const region_ctx *r)
{
	return r->cap;
}

const region_info *region_get(const region_ctx *r, unsigned i)
{
	return i < r->nreg ? &r->reg[i] : NULL;
}

/* Each LLC's vCPU slots: its cores' share of the active vCPUs, rounded up. */
static void llc_slots(const topo *t, unsigned nactive, unsigned *slots)
{
	for (unsigned d = 0; d < t->nllc; d++) {
		unsigned c = topo_llc_cores(t, d);
		slots[d] = (nactive * c + t->ncores - 1) / t->ncores;
	}
}

/* Bytes of v's regions not yet present in LLC d (onllc: bit d per region). */
static double added_bytes(unsigned v, unsigned d, uint64_t active, const region_info *reg,
			  unsigned nreg, const uint32_t *onllc)
{
	double b = 0;
	for (unsigned i = 0; i < nreg; i++)
		if (((reg[i].vmask & active) >> v) & 1 && !((onllc[i] >> d) & 1))
			b += reg[i].bytes;
	return b;
}

static double score(const topo *t, unsigned v, unsigned d, uint64_t active, const region_info *reg,
		    unsigned nreg, const int *target, double demand, double load, double added,
		    const int *prev)
{
	double s = 0;
	for (unsigned i = 0; i < nreg; i++) {
		const region_info *g = &reg[i];
		uint64_t users = g->vmask & active;
		if (!((users >> v) & 1))
			continue;
		int k = __builtin_popcountll(users);
		double share = g->bytes / k;
		if (g->llc == (int)d)
			s += STICK * share;
		if (k > 1) {
			int mates = 0;
			for (uint64_t m = users & ~(1ull << v); m; m &= m - 1)
				mates += target[__builtin_ctzll(m)] == (int)d;
			s += share * mates / (k - 1);
		}
	}
	if (prev && prev[v] == (int)d)
		s += HYSTERESIS * demand;
	/* a region's bytes count once per LLC it is in: placing the first of
	 * its users brings all of it */
	double over = load + added - (double)t->llc[d].size;
	if (over > 0)
		s -= OVERFLOW_PENALTY * (over < added ? over : added);
	return s;
}

static unsigned uf_find(unsigned *p, unsigned x)
{
	while (p[x] != x)
		x = p[x] = p[p[x]];
	return x;
}

/* Places vCPU v on the best LLC with a free slot (or LLC 0 if none). */
static void place_one(const topo *t, unsigned v, uint64_t active, const region_info *reg,
		      unsigned nreg, const int *prev, const double *demand, double *load,
		      unsigned *count, const unsigned *slots, uint32_t *onllc, int *target,
		      int forced)
{
	int best = forced;
	double bs = 0;
	for (unsigned d = 0; d < t->nllc && forced < 0; d++) {
		if (count[d] >= slots[d])
			continue;
		double add = added_bytes(v, d, active, reg, nreg, onllc);
		double s = score(t, v, d, active, reg, nreg, target, demand[v], load[d], add, prev);
		if (best < 0 || s > bs) {
			best = (int)d;
			bs = s;
		}
	}
	if (best < 0)
		best = 0;
	target[v] = best;
	load[best] += added_bytes(v, (unsigned)best, active, reg, nreg, onllc);
	for (unsigned r = 0; r < nreg; r++)
		if (((reg[r].vmask & active) >> v) & 1)
			onllc[r] |= 1u << best;
	count[best]++;
}

/* Whether one region is shared by every vCPU of group g (and two or
 * more of them): splitting such a group cannot lower its bytes, each LLC
 * it spans holds that region; a group chained from several sets (a
 * phase change links two) can be split along them. */
static int tight(const region_info *reg, unsigned nreg, uint64_t active, unsigned *par, unsigned nv,
		 unsigned g)
{
	uint64_t gm = 0;
	for (unsigned v = 0; v < nv; v++)
		if (((active >> v) & 1) && uf_find(par, v) == g)
			gm |= 1ull << v;
	if (__builtin_popcountll(gm) < 2)
		return 0;
	for (unsigned r = 0; r < nreg; r++)
		if ((reg[r].vmask & active & gm) == gm)
			return 1;
	return 0;
}

/* The summed member scores of group g (uf root) placed whole on LLC d,
 * each member's bytes added to d's load in turn. */
static double group_score(const topo *t, unsigned nv, uint64_t active, const region_info *reg,
			  unsigned nreg, unsigned *par, unsigned g, unsigned d,
			  const double *demand, double load, const uint32_t *onllc,
			  const int *target, const int *prev)
{
	double s = 0, add = 0;
	uint32_t on2[REGION_MAX > WL_REGION_CAP ? REGION_MAX : WL_REGION_CAP];
	memcpy(on2, onllc, nreg * sizeof(uint32_t));
	for (unsigned v = 0; v < nv; v++) {
		if (!((active >> v) & 1) || uf_find(par, v) != g)
			continue;
		double a2 = added_bytes(v, d, active, reg, nreg, on2);
		s += score(t, v, d, active, reg, nreg, target, demand[v], load + add, a2, prev);
		add += a2;
		for (unsigned r = 0; r < nreg; r++)
			if (((reg[r].vmask & active) >> v) & 1)
				on2[r] |= 1u << d;
	}
	return s;
}

/* Groups (vCPUs linked by shared regions) go whole to one LLC when one has
 * room for them — free slots and cache bytes — largest demand first: the
 * LLC whose summed member scores are best; a tight group (one region
 * shared by all its vCPUs) that no LLC has the bytes for goes whole where
 * it has slots and scores best. Other groups are placed vCPU by
 * vCPU, so they split where the score says. Returns 1 when there are
 * sharing groups (two or more vCPUs) and none has as few vCPUs as some
 * LLC has slots, 0 otherwise. */
int place_regions(const topo *t, unsigned nv, uint64_t active, const region_info *reg,
		  unsigned nreg, const int *prev, int *target)
{
	double demand[64] = { 0 }, load[TOPO_MAX_LLC] = { 0 }, gdem[64] = { 0 };
	unsigned slots[TOPO_MAX_LLC], count[TOPO_MAX_LLC] = { 0 }, n = 0, par[64],
				      gsize[64] = { 0 };
	unsigned gorder[64], ng = 0;
	uint32_t onllc[REGION_MAX > WL_REGION_CAP ? REGION_MAX : WL_REGION_CAP] = { 0 };
	if (nreg > sizeof(onllc) / sizeof(onllc[0]))
		nreg = sizeof(onllc) / sizeof(onllc[0]);
	for (unsigned v = 0; v < nv; v++) {
		target[v] = -1;
		par[v] = v;
		n += (unsigned)((active >> v) & 1);
	}
	for (unsigned i = 0; i < nreg; i++) {
		uint64_t users = reg[i].vmask & active;
		int k = __builtin_popcountll(users);
		if (!k)
			continue;
		unsigned first = (unsigned)__builtin_ctzll(users);
		for (uint64_t m = users; m; m &= m - 1) {
			unsigned u = (unsigned)__builtin_ctzll(m);
			demand[u] += reg[i].bytes / k;
			par[uf_find(par, u)] = uf_find(par, first);
		}
	}
	for (unsigned v = 0; v < nv; v++)
		if ((active >> v) & 1) {
			unsigned g = uf_find(par, v);
			if (!gsize[g]++)
				gorder[ng++] = g;
			gdem[g] += demand[v];
		}
	/* largest group demand first; insertion sort keeps ties in id order */
	for (unsigned i = 1; i < ng; i++)
		for (unsigned j = i; j > 0 && gdem[gorder[j]] > gdem[gorder[j - 1]]; j--) {
			unsigned x = gorder[j];
			gorder[j] = gorder[j - 1];
			gorder[j - 1] = x;
		}
	llc_slots(t, n, slots);
	unsigned most = 0, shared = 0, fits = 0;
	for (unsigned d = 0; d < t->nllc; d++)
		most = slots[d] > most ? slots[d] : most;
	for (unsigned gi = 0; gi < ng; gi++) {
		shared += gsize[gorder[gi]] > 1;
		fits += gsize[gorder[gi]] > 1 && gsize[gorder[gi]] <= most;
	}
	for (unsigned gi = 0; gi < ng; gi++) {
		unsigned g = gorder[gi];
		int best = -1;
		double bs = 0;
		/* whole only if it fits: slots, and its bytes beside what earlier
		 * groups put there (its own bytes alone let two 7 MiB sets go
		 * whole into one 12 MiB LLC). A tight group (one region shared
		 * by all its vCPUs) that fits no LLC's bytes but some LLC's
		 * slots goes whole where its summed score (overflow penalty
		 * included) is best: splitting it would not lower its bytes,
		 * since each LLC it spans holds that region (two 5 MiB quads per
		 * 8 MiB LLC were split vCPU by vCPU: README, "vCPUs that start
		 * apart", t-quad-smt2). */
		for (int pass = 0;
		     pass < 2 && best < 0 && (pass == 0 || tight(reg, nreg, active, par, nv, g));
		     pass++)
			for (unsigned d = 0; d < t->nllc; d++) {
				if (count[d] + gsize[g] > slots[d] ||
				    (pass == 0 && load[d] + gdem[g] > (double)t->llc[d].size))
					continue;
				double sc = group_score(t, nv, active, reg, nreg, par, g, d, demand,
							load[d], onllc, target, prev);
				if (best < 0 || sc > bs) {
					best = (int)d;
					bs = sc;
				}
			}
		for (unsigned v = 0; v < nv; v++)
			if (((active >> v) & 1) && uf_find(par, v) == g)
				place_one(t, v, active, reg, nreg, prev, demand, load, count, slots,
					  onllc, target, best);
	}
	return shared && !fits;
}

/* The LLCs VM m goes to: its preferred one alone if it fits there, else as
 * few LLCs as can hold it — pref first when a fewest-LLC set can include
 * it, then by free slots (ties: lower id). Returns how many, in `use`. */
static unsigned gather_llcs(const topo *t, unsigned need, unsigned pref, const unsigned *room,
			    unsigned *use)
{
	if (room[pref] >= need) {
		use[0] = pref;
		return 1;
	}
	unsigned order[TOPO_MAX_LLC], n = t->nllc;
	for (unsigned d = 0; d < n; d++)
		order[d] = d;
	for (unsigned i = 1; i < n; i++) /* by room, descending, stable */
		for (unsigned j = i; j > 0 && room[order[j]] > room[order[j - 1]]; j--) {
			unsigned x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	unsigned k = 0, sum = 0;
	while (k < n && sum < need)
		sum += room[order[k++]];
	/* can pref replace the smallest of the k and still hold the VM? */
	unsigned in = 0, with = room[pref];
	for (unsigned i = 0; i < k; i++)
		in |= order[i] == pref;
	for (unsigned i = 0; i + 1 < k; i++)
		with += order[i] == pref ? 0 : room[order[i]];
	unsigned m = 0;
	if (!in && room[pref] > 0 && with >= need) {
		use[m++] = pref;
		for (unsigned i = 0; m < k; i++)
			use[m++] = order[i];
	} else {
		if (in)
			use[m++] = pref;
		for (unsigned i = 0; m < k; i++)
			if (order[i] != pref || !in)
				use[m++] = order[i];
	}
	return k;
}

void place_gather(const topo *t, unsigned nv, uint64_t active, const int *vm, unsigned nvm,
		  const int *cur_llc, const int *prev, int *target)
{
	unsigned slots[TOPO_MAX_LLC], count[TOPO_MAX_LLC] = { 0 }, size[64] = { 0 }, order[64];
	unsigned nactive = 0;
	for (unsigned v = 0; v < nv; v++) {
		target[v] = -1;
		if ((active >> v) & 1) {
			size[vm[v]]++;
			nactive++;
		}
	}
	llc_slots(t, nactive, slots);
	for (unsigned m = 0; m < nvm; m++)
		order[m] = m;
	for (unsigned i = 1; i < nvm; i++)
		for (unsigned j = i; j > 0 && size[order[j]] > size[order[j - 1]]; j--) {
			unsigned x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	for (unsigned oi = 0; oi < nvm; oi++) {
		unsigned m = order[oi];
		if (!size[m])
			continue;
		/* preferred LLC: where most of its vCPUs were targeted (or run) */
		unsigned votes[TOPO_MAX_LLC] = { 0 }, room[TOPO_MAX_LLC] = { 0 }, use[TOPO_MAX_LLC];
		int was[64];
		for (unsigned v = 0; v < nv; v++) {
			was[v] = -1;
			if (((active >> v) & 1) && vm[v] == (int)m) {
				int d = prev && prev[v] >= 0 ? prev[v] : cur_llc[v];
				was[v] = d;
				if (d >= 0)
					votes[d]++;
			}
		}
		unsigned pref = 0;
		for (unsigned d = 0; d < t->nllc; d++) {
			room[d] = slots[d] - count[d];
			if (votes[d] > votes[pref])
				pref = d;
		}
		unsigned k = gather_llcs(t, size[m], pref, room, use);
		/* never scattered: only the k chosen LLCs, filled in order (the
		 * preferred one first, to capacity); into each go first the
		 * vCPUs already there, then those from outside the chosen set,
		 * then any — so vCPUs move as little as the rule allows */
		unsigned chosen = 0;
		for (unsigned i = 0; i < k; i++)
			chosen |= 1u << use[i];
		for (unsigned i = 0; i < k; i++)
			for (int pass = 0; pass < 3; pass++)
				for (unsigned v = 0; v < nv && count[use[i]] < slots[use[i]]; v++) {
					if (!((active >> v) & 1) || vm[v] != (int)m ||
					    target[v] >= 0)
						continue;
					int out = was[v] < 0 || !((chosen >> was[v]) & 1);
					if ((pass == 0 && was[v] != (int)use[i]) ||
					    (pass == 1 && !out))
						continue;
					target[v] = (int)use[i];
					count[use[i]]++;
				}
		for (unsigned v = 0; v < nv; v++) /* no free slot anywhere: least loaded */
			if (((active >> v) & 1) && vm[v] == (int)m && target[v] < 0) {
				unsigned d = 0;
				for (unsigned e = 1; e < t->nllc; e++)
					if (count[e] < count[d])
						d = e;
				target[v] = (int)d;
				count[d]++;
			}
	}
}
