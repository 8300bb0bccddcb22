/*
 * hier.c — the L2 + LLC hierarchy of hier.h over cache.c, fast: which L2s
 * may hold a line is kept as core-valid bits beside its tag in an
 * inclusive LLC, else as a directory word per line (with its first-touch
 * node); one set/tag split per geometry, specialised per LLC policy,
 * prefetched ahead. hier_ref.c builds the same model plainly; tests check
 * the two access by access.
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
 * cpu-clock, count instructions with valgrind --tool=cachegrind): the
 * simulated caches are megabytes of tags, so an access costs host cache
 * misses; they must not wait on each other. Who may hold a line in an L2
 * is a superset: an L2 eviction is silent (clearing a bit there was a
 * random host miss that the next access waited for: 44 % of the fast
 * model's samples in the profile before); whoever reads a bit acts on it
 * idempotently (invalidation) or asks the L2 (l2_holders). With an
 * inclusive LLC the bits are core-valid bits in the LLC's own set record
 * (see "inclusive LLCs" below), so a back-invalidation or a write reads no
 * other table; the first-touch node is then a byte per line. Otherwise
 * the bits and the node share one directory word per line (one host line,
 * not two). Tables of 2 MiB and more are on transparent huge pages, a line
 * is split into set and tag once per geometry, and a write invalidates the
 * other LLCs in the pass that probes them. When the tables are large
 * (HIER_NEAR_BYTES), every table an access will touch is prefetched
 * PREFETCH_AHEAD accesses early (its L2 and LLC sets, the other LLC's set
 * when there are two, its directory word or first-touch byte).
 */
#include "regsched/hier.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "regsched/cache.h"
#include "regsched/cache_impl.h"

/* Accesses ahead: 8 as before the directory change. Not re-tuned: 4 and 16
 * ran within noise of 8 on bench llc's trace (2026-12-04, load ~3). */
#define PREFETCH_AHEAD 8
/* Tables (tags and directory) up to this size are not prefetched. Chosen
 * between two measurements (farm-bench, 2026-12-04, load 5-11 on the 2
 * shared cores): prefetching cost 13 % CPU on an epyc-8ccx regsched run
 * (0.6 MiB of tables with set sampling) and gained 1.7-2.4x on `bench llc`
 * (5.8 MiB; its ratio to the reference with and without); not tuned further. */
#define HIER_NEAR_BYTES (2u << 20)
/* Core-valid bits of an inclusive LLC: one byte per way in the set's
 * record; bit b stands for the domain's L2s of rank b mod CV_BITS (rank:
 * position among the domain's L2s), so with more than CV_BITS L2s a bit
 * names several (a superset, like the directory's folding). */
#define CV_BITS 8
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
	uint64_t dom_l2[TOPO_MAX_LLC];         /* L2 indices of a domain */
	uint64_t all_l2;                       /* every L2 index */
	uint32_t l2_dir[TOPO_MAX_CORES];       /* directory bit of L2 i */
	int dir_exact;                         /* at most DIR_BITS L2s: a bit is one L2 */
	uint8_t l2_cv[TOPO_MAX_CORES];         /* inclusive: core-valid bit of L2 i */
	uint64_t cv_l2[TOPO_MAX_LLC][CV_BITS]; /* the L2s core-valid bit b of LLC d names */
	unsigned cv_shift[TOPO_MAX_LLC];       /* cv_exact: bit b is L2 cv_shift[d] + b */
	int cv_exact;  /* every domain's L2s are at most CV_BITS consecutive indices */
	uint32_t *dir; /* per line (not inclusive): see DIR_BITS */
	uint8_t *home; /* per line (inclusive): first-touch node + 1, 0 untouched */
	size_t nlines; /* of dir or home */
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
	size_t per_line = h->policy == TOPO_LLC_INCLUSIVE ? sizeof(*h->home) : sizeof(*h->dir);
	return h->tag_bytes + h->nlines * per_line > HIER_NEAR_BYTES;
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
	h->cv_exact = 1;
	for (unsigned d = 0; d < t->nllc; d++) {
		unsigned rank = 0;
		for (uint64_t m = h->dom_l2[d]; m; m &= m - 1, rank++) {
			unsigned i = (unsigned)__builtin_ctzll(m);
			h->l2_cv[i] = (uint8_t)(1u << (rank % CV_BITS));
			h->cv_l2[d][rank % CV_BITS] |= 1ull << i;
		}
		h->cv_shift[d] = h->dom_l2[d] ? (unsigned)__builtin_ctzll(h->dom_l2[d]) : 0;
		h->cv_exact &= rank <= CV_BITS && h->dom_l2[d] == ((1ull << rank) - 1)
									  << h->cv_shift[d];
	}
	for (unsigned i = 0; i < h->nl2; i++)
		if (hier__sets_of(&t->l2, sample, &sets) ||
		    !(h->l2[i] = cache_create(sets, t->l2.ways)))
			goto err;
	for (unsigned d = 0; d < t->nllc; d++)
		if (hier__sets_of(&t->llc[d], sample, &sets) ||
		    !(h->llc[d] = cache_create(sets, t->llc[d].ways)))
			goto err;
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
	free(h->home);
	free(h);
}

void hier_reset(hier *h)
{
	for (unsigned i = 0; i < h->nl2; i++)
		cache_reset(h->l2[i]);
	for (unsigned d = 0; d < h->nllc; d++)
		cache_reset(h->llc[d]);
	if (h->dir)
		memset(h->dir, 0, h->nlines * sizeof(*h->dir));
	if (h->home)
		memset(h->home, 0, h->nlines * sizeof(*h->home));
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

/* Grows *tab (nlines entries of `size` bytes) to n, zero-filled. */
static int grow_table(void **tab, size_t nlines, size_t n, size_t size)
{
	void *d = vl_huge_alloc(n * size);
	if (!d)
		return -1;
	if (nlines)
		memcpy(d, *tab, nlines * size);
	free(*tab);
	*tab = d;
	return 0;
}

/* Grows dir (or, inclusive, home) to hold `line` (doubling, zero-filled). */
static __attribute__((noinline)) int grow_lines(hier *h, uint32_t line)
{
	size_t n = h->nlines ? h->nlines : 4096;
	while (n <= line)
		n *= 2;
	int incl = h->policy == TOPO_LLC_INCLUSIVE;
	if (grow_table(incl ? (void **)&h->home : (void **)&h->dir, h->nlines, n,
		       incl ? sizeof(*h->home) : sizeof(*h->dir)))
		return -1;
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

/* The accessing core as the hot loop needs it, read once per run: its L2
 * (index p, cache l2), its domain d and LLC l3, its node, its core-valid
 * bit. */
typedef struct who {
	unsigned p, d;
	int node;
	cache *l2, *l3;
	uint8_t cvbit;
} who;

CACHE_ALWAYS who who_of(const hier *h, unsigned core)
{
	unsigned p = h->core_l2[core], d = (unsigned)h->core_llc[core];
	return (who){ p, d, h->core_node[core], h->l2[p], h->llc[d], h->l2_cv[p] };
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
CACHE_ALWAYS void inval_l2s(hier *h, uint32_t s2, uint32_t t2, uint64_t mask)
{
	for (uint64_t m = mask; m; m &= m - 1)
		cache__inval_st(h->l2[__builtin_ctzll(m)], s2, t2);
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

/* Step 2a, victim or fill-both: the LLC step of an L2 miss; 1 if LLC d
 * serves the line. */
CACHE_ALWAYS int llc_step(hier *h, const where *w, unsigned d, uint64_t pbit, const int pol)
{
	cache *l3 = h->llc[d];
	if (pol == TOPO_LLC_VICTIM) {
		if (cache__touch_st(l3, w->s3, w->t3))
			return 1;
		uint64_t cand = dir_l2s(h, h->dir[w->line]) & h->dom_l2[d] & ~pbit;
		return cand && l2_holders(h, w, cand);
	}
	uint32_t e3;
	return cache__access_st(l3, w->s3, w->t3, &e3);
}

/* ---- inclusive LLCs: core-valid bits instead of the directory ----
 * An inclusive LLC holds every line of its domain's L2s, so the L2s that
 * may hold a line are named by core-valid bits kept beside its tag (one
 * byte per way in the set's record, see CV_BITS), as Intel's inclusive L3
 * does: set when an L2 fills the line, reset to the writer's on a write,
 * left set when an L2 evicts the line silently (a superset: acting on a
 * stale bit invalidates nothing). An LLC eviction back-invalidates only
 * the L2s its bits name, and a write finds the other holders in the
 * records it already looks at, without a per-line directory word. */

/* The L2s core-valid byte cv of LLC d names. */
CACHE_ALWAYS uint64_t cv_l2s(const hier *h, unsigned d, unsigned cv)
{
	uint64_t m = 0;
	if (h->cv_exact)
		return (uint64_t)cv << h->cv_shift[d];
	for (; cv; cv &= cv - 1)
		m |= h->cv_l2[d][__builtin_ctz(cv)];
	return m;
}

/* Step 2a, inclusive: LLC d's access by L2 p; the line the LLC evicts
 * leaves the L2s its bits name. *cv gets the line's core-valid byte. */
CACHE_ALWAYS int incl_llc_step(hier *h, const who *a, const where *w, uint8_t **cv)
{
	uint32_t e3;
	unsigned way;
	int hit = cache__access_way_st(a->l3, w->s3, w->t3, &e3, &way);
	uint8_t *b = cache__aux(a->l3, w->s3) + way;
	*cv = b;
	if (hit) {
		*b |= a->cvbit;
		return 1;
	}
	if (e3 != CACHE_NO_LINE && *b) {
		uint32_t te, se = cache__split(a->l2, e3, &te);
		inval_l2s(h, se, te, cv_l2s(h, a->d, *b));
	}
	*b = a->cvbit;
	return 0;
}

/* Removes w's line (located for a core of LLC d) from LLC o and from the
 * L2s of o's domain its bits name; 1 if o held it. */
CACHE_ALWAYS int incl_drop(hier *h, unsigned o, unsigned d, const where *w)
{
	uint32_t t3, s3 = llc_set(h, o, d, w, &t3);
	unsigned way = cache__inval_way_st(h->llc[o], s3, t3);
	if (way)
		inval_l2s(h, w->s2, w->t2, cv_l2s(h, o, cache__aux(h->llc[o], s3)[way - 1]));
	return way != 0;
}

/* Step 2b for an inclusive LLC: another LLC holds the line -> REMOTE (a
 * write takes it out of them and their L2s in the same pass, *done), else
 * DRAM by first touch. */
CACHE_ALWAYS int incl_beyond(hier *h, const who *a, const where *w, int write, int *done)
{
	int remote = 0;
	for (unsigned o = 0; o < h->nllc; o++) {
		if (o == a->d)
			continue;
		if (write) {
			remote |= incl_drop(h, o, a->d, w);
		} else {
			uint32_t t3, s3 = llc_set(h, o, a->d, w, &t3);
			remote |= cache__probe_st(h->llc[o], s3, t3);
		}
	}
	*done = write;
	if (remote)
		return HIER_REMOTE;
	/* a line's first access is never a cache hit, so its first touch is
	 * always recorded here (the reference does it first) */
	uint32_t home = h->home[w->line];
	if (!home)
		h->home[w->line] = (uint8_t)(home = (uint32_t)a->node + 1);
	return home == (uint32_t)a->node + 1 ? HIER_MEM : HIER_MEM_REMOTE;
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

/* access_one for an inclusive LLC. */
CACHE_ALWAYS int access_incl(hier *h, const who *a, const where *w, int write)
{
	int lvl = HIER_L2, done = 0;
	uint8_t *cv = NULL;
	uint32_t ev;
	if (!cache__access_st(a->l2, w->s2, w->t2, &ev)) {
		if (incl_llc_step(h, a, w, &cv))
			lvl = HIER_LLC;
		else
			lvl = incl_beyond(h, a, w, write, &done);
	}
	if (write) {
		if (!cv) {
			/* an L2 hit: the line is in LLC d too (inclusion) */
			unsigned way = cache__find_st(a->l3, w->s3, w->t3);
			assert(way);
			cv = cache__aux(a->l3, w->s3) + way - 1;
		}
		inval_l2s(h, w->s2, w->t2, cv_l2s(h, a->d, *cv) & ~(1ull << a->p));
		*cv = a->cvbit;
		for (unsigned o = 0; o < h->nllc && !done; o++)
			if (o != a->d)
				incl_drop(h, o, a->d, w);
	}
	return lvl;
}

/* One access (order: see the top of this file) of w's line by a. */
CACHE_ALWAYS int access_one(hier *h, const who *a, const where *w, int write, const int pol)
{
	uint32_t line = w->line;
	if (__builtin_expect(line >= h->nlines, 0) && grow_lines(h, line)) {
		h->oom = 1;
		return HIER_MEM;
	}
	if (pol == TOPO_LLC_INCLUSIVE)
		return access_incl(h, a, w, write);
	unsigned p = a->p, d = a->d;
	uint64_t pbit = 1ull << p;
	int lvl = HIER_L2, done = 0;
	uint32_t ev;
	if (!cache__access_st(a->l2, w->s2, w->t2, &ev)) {
		h->dir[line] |= h->l2_dir[p];
		if (llc_step(h, w, d, pbit, pol))
			lvl = HIER_LLC;
		else
			lvl = beyond_step(h, w, d, a->node, write, &done, pol);
		if (pol == TOPO_LLC_VICTIM && ev != CACHE_NO_LINE)
			cache__access(a->l3, ev, &ev);
	}
	if (write) {
		uint64_t others = dir_l2s(h, h->dir[line]) & ~pbit;
		inval_l2s(h, w->s2, w->t2, others);
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
	who a = who_of(h, core);
	locate(a.l2, a.l3, line, &w);
	switch (h->policy) {
	case TOPO_LLC_INCLUSIVE:
		return access_one(h, &a, &w, write, TOPO_LLC_INCLUSIVE);
	case TOPO_LLC_VICTIM:
		return access_one(h, &a, &w, write, TOPO_LLC_VICTIM);
	default:
		return access_one(h, &a, &w, write, TOPO_LLC_FILL_BOTH);
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
		__builtin_prefetch(h->policy == TOPO_LLC_INCLUSIVE ? (void *)(h->home + w->line)
								   : (void *)(h->dir + w->line),
				   1, 3);
}

#define RING 16 /* located accesses in flight: > PREFETCH_AHEAD, a power of two */

/* Access i of a far run: locate and prefetch access i + PREFETCH_AHEAD
 * (ahead), then do access i from the ring. */
CACHE_ALWAYS int far_step(hier *h, const who *a, const uint32_t *lines, where *ring, size_t i,
			  int w, const int pol, const int ahead)
{
	if (ahead) {
		where *x = &ring[(i + PREFETCH_AHEAD) % RING];
		locate(a->l2, a->l3, lines[i + PREFETCH_AHEAD], x);
		prefetch_line(h, a->l2, a->l3, x);
	}
	/* a local copy the compiler keeps in registers */
	where here = ring[i % RING];
	return access_one(h, a, &here, w, pol);
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
	const who a = who_of(h, core);
	cache *l2 = a.l2, *l3 = a.l3;
	size_t i = 0;
	if (!far) {
		for (; i < n; i++) {
			where here;
			locate(l2, l3, lines[i], &here);
			int l = access_one(h, &a, &here, WBIT(wmask, i), pol);
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
		int l = far_step(h, &a, lines, ring, i, WBIT(wmask, i), pol, 1);
		COUNT(l, i);
	}
	for (; i < n; i++) {
		int l = far_step(h, &a, lines, ring, i, WBIT(wmask, i), pol, 0);
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

/* The hot loops' entry points start on a host cache line, so that where
 * the linker puts this object (it moves with any change to the objects
 * linked before it) does not move their loops against 64-byte fetch
 * boundaries. Measured (bench llc --accesses 4M, model per CPU-second,
 * medians of alternating pairs, 2026-12-05 00:10-00:17 UTC, load 1.4-3):
 * a change elsewhere that shifted hier_run by 32 bytes, its instructions
 * unchanged, ran 0.977x (15 pairs, IQR 0.956-0.990); the same two sources
 * with every function 64-byte aligned, 1.009x (13 pairs, 0.997-1.025). */
#define HIER_HOT __attribute__((aligned(64)))

HIER_HOT void hier_run(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask,
		       size_t n, uint64_t count[HIER_NLEVELS])
{
	RUN_BY_POLICY(h, core, lines, wmask, n, count, NULL);
}

HIER_HOT void hier_run_levels(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask,
			      size_t n, uint64_t count[HIER_NLEVELS], uint8_t *lvl)
{
	RUN_BY_POLICY(h, core, lines, wmask, n, count, lvl);
}
