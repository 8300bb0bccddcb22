/*
 * llcfloor.c — the floors `bench llc` prints beside the model: the least
 * work any exact simulation of its trace must do, timed on the same trace
 * in the same run, and (at the end of this file) the model's own
 * semantics on the same sets, the coherent floor, whose counts equal the
 * model's. The first two are lower bounds on work, not models virtlab uses:
 * they have no coherence (writes are plain accesses), no inclusion or
 * back-invalidation, no NUMA, no remote-LLC probe, and their hit counts
 * are therefore not hier.c's. What it says: whatever the model adds, an exact
 * replay cannot be faster than looking up (and, in the two-level floor,
 * filling) an 8-way L2 and a 16-way LLC per access.
 *
 * Written as fast as we know how, so the floor is not just slow code:
 *  - a set is its tags in recency order, MRU first, as narrow as the
 *    trace allows: an 8-way L2 set is 8 16-bit tags (0xffff empty, as in
 *    cache.c), 16 bytes, one SSE register; a 16-way LLC set is 16 8-bit
 *    tags (0xff empty), 16 bytes: the bench's lines span 64 MiB, so an
 *    LLC tag (line / 12288) is below 86 (llc_floor_line_limit says how far
 *    that holds: 3.1 M lines). The bench's L2s take 8 KiB each and its two
 *    LLCs 384 KiB together, against hier.c's 64-byte records (1.5 MiB of
 *    LLC) plus first-touch bytes. With 16-bit LLC tags (32-byte sets) the
 *    floor ran at 88 M accesses per CPU-second against 134 M with 8-bit
 *    ones (medians of 9 alternations, no prefetch, load 3.5-4);
 *  - the LLC set is prefetched FLOOR_AHEAD accesses ahead;
 *  - an access is branch-free per level: an SSE2 compare finds the tag's
 *    position p (or p = ways - 1 on a miss: the LRU way, evicted), lanes
 *    0..p shift down by one under a mask from a table indexed by p, the
 *    tag goes into lane 0. Hit and miss run the same instructions, so an
 *    LLC hit or miss costs no mispredict; the only branch is the L2's
 *    (the LLC is not touched on an L2 hit: 1.3 % of the bench's accesses);
 *  - L2 sets are a power of two (a mask); LLC sets are line mod sets by
 *    Lemire's fastmod (westmere's 12288 sets are not a power of two), or
 *    a mask where they are: core/fastmod.h, the cache model's split, with
 *    the case fixed at compile time in each instantiation of the loops.
 * Keeping tags in recency order is exact LRU: a hit moves the line to the
 * front, a miss drops the last (least recent, or an empty way) and puts
 * the line in front; empty ways stay behind every valid one.
 */
#include "regsched/llcfloor.h"

#include <stdlib.h>
#include <string.h>
/* The SSE2 paths, on every x86-64; the portable #else paths are built
 * and compared with them by tests/test_regsched_scalar.c, which compiles
 * this file again with VL_NO_SSE2. */
#if defined(__SSE2__) && !defined(VL_NO_SSE2)
#define FLOOR_SSE2 1
#include <emmintrin.h>
#endif

#include "core/fastmod.h"
#include "regsched/topo.h"

#define FLOOR_ALWAYS static inline __attribute__((always_inline))
/* Accesses ahead that the two-level floor prefetches its LLC set: the
 * bench's two LLCs take 384 KiB, more than this host's 512 KiB L2 holds
 * beside everything else. Measured (a driver replaying the bench trace,
 * 2026-12-04 ~20:52 UTC, load 3.5-4, medians per CPU-second): 134 M
 * accesses without and 152 M at 16 ahead in one set of 9 alternations;
 * 142 / 144 / 120 M at 8 / 16 / 32 ahead in another. */
#define FLOOR_AHEAD 16
#define NO_TAG2 0xffffu /* an empty L2 way */
#define NO_HIT2 0xfffeu /* an L2 tag no line has (llc_floor_line_limit) */
#define NO_TAG3 0xffu   /* an empty LLC way */

struct llc_floor {
	uint16_t *l2[TOPO_MAX_CORES]; /* l2_sets * 8 tags, MRU first */
	uint8_t *llc[TOPO_MAX_LLC];   /* llc_sets * 16 8-bit tags, MRU first */
	int core_llc[TOPO_MAX_CORES];
	unsigned ncores, nllc;
	fastmod l2_sets;  /* a power of two: line & mask, line >> shift */
	fastmod llc_sets; /* any: fastmod where not a power of two */
	/* upto*[p]: lanes 0..p all ones (the lanes a move to front shifts) */
	uint16_t upto8[LLC_FLOOR_L2_WAYS][LLC_FLOOR_L2_WAYS] __attribute__((aligned(16)));
	uint8_t upto16[LLC_FLOOR_LLC_WAYS][LLC_FLOOR_LLC_WAYS] __attribute__((aligned(16)));
	/* from*[p]: lanes p..ways-1 all ones (the lanes a removal shifts up);
	 * from*[ways]: none (the tag was not there) */
	uint16_t from8[LLC_FLOOR_L2_WAYS + 1][LLC_FLOOR_L2_WAYS] __attribute__((aligned(16)));
	uint8_t from16[LLC_FLOOR_LLC_WAYS + 1][LLC_FLOOR_LLC_WAYS] __attribute__((aligned(16)));
	/* coherent floor */
	uint8_t *home; /* per line below the limit: first-touch node + 1, 0 untouched */
	uint8_t core_node1[TOPO_MAX_CORES]; /* node + 1 */
	uint64_t dom_cores[TOPO_MAX_LLC];   /* cores of a domain */
	uint64_t active; /* cores that ran since the reset (the others' L2s are empty) */
};

static void *tags_alloc(size_t bytes)
{
	return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

llc_floor *llc_floor_create(unsigned ncores, const int *core_llc, unsigned nllc, uint32_t l2_sets,
			    uint32_t llc_sets)
{
	if (ncores == 0 || ncores > TOPO_MAX_CORES || nllc == 0 || nllc > TOPO_MAX_LLC ||
	    l2_sets == 0 || (l2_sets & (l2_sets - 1)) || llc_sets == 0)
		return NULL;
	for (unsigned c = 0; c < ncores; c++)
		if (core_llc[c] < 0 || (unsigned)core_llc[c] >= nllc)
			return NULL;
	llc_floor *f = aligned_alloc(64, (sizeof(llc_floor) + 63) / 64 * 64);
	if (!f)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->ncores = ncores;
	f->nllc = nllc;
	memcpy(f->core_llc, core_llc, ncores * sizeof(*core_llc));
	fastmod_init(&f->l2_sets, l2_sets);
	fastmod_init(&f->llc_sets, llc_sets);
	for (unsigned p = 0; p < LLC_FLOOR_L2_WAYS; p++)
		for (unsigned l = 0; l <= p; l++)
			f->upto8[p][l] = 0xffff;
	for (unsigned p = 0; p < LLC_FLOOR_LLC_WAYS; p++)
		for (unsigned l = 0; l <= p; l++)
			f->upto16[p][l] = 0xff;
	for (unsigned p = 0; p <= LLC_FLOOR_L2_WAYS; p++)
		for (unsigned l = p; l < LLC_FLOOR_L2_WAYS; l++)
			f->from8[p][l] = 0xffff;
	for (unsigned p = 0; p <= LLC_FLOOR_LLC_WAYS; p++)
		for (unsigned l = p; l < LLC_FLOOR_LLC_WAYS; l++)
			f->from16[p][l] = 0xff;
	for (unsigned c = 0; c < ncores; c++) {
		f->core_node1[c] = 1;
		f->dom_cores[core_llc[c]] |= 1ull << c;
	}
	if (!(f->home = malloc(llc_floor_line_limit(f))))
		goto err;
	for (unsigned c = 0; c < ncores; c++)
		if (!(f->l2[c] =
			      tags_alloc((size_t)l2_sets * LLC_FLOOR_L2_WAYS * sizeof(uint16_t))))
			goto err;
	for (unsigned d = 0; d < nllc; d++)
		if (!(f->llc[d] = tags_alloc((size_t)llc_sets * LLC_FLOOR_LLC_WAYS)))
			goto err;
	llc_floor_reset(f);
	return f;
err:
	llc_floor_destroy(f);
	return NULL;
}

void llc_floor_destroy(llc_floor *f)
{
	if (!f)
		return;
	for (unsigned c = 0; c < TOPO_MAX_CORES; c++)
		free(f->l2[c]);
	for (unsigned d = 0; d < TOPO_MAX_LLC; d++)
		free(f->llc[d]);
	free(f->home);
	free(f);
}

void llc_floor_reset(llc_floor *f)
{
	for (unsigned c = 0; c < f->ncores; c++)
		memset(f->l2[c], 0xff, (size_t)f->l2_sets.n * LLC_FLOOR_L2_WAYS * sizeof(uint16_t));
	for (unsigned d = 0; d < f->nllc; d++)
		memset(f->llc[d], 0xff, (size_t)f->llc_sets.n * LLC_FLOOR_LLC_WAYS);
	memset(f->home, 0, llc_floor_line_limit(f));
	f->active = 0;
}

int llc_floor_set_nodes(llc_floor *f, const int *core_node)
{
	for (unsigned c = 0; c < f->ncores; c++)
		if (core_node[c] < 0 || core_node[c] > 254)
			return -1;
	for (unsigned c = 0; c < f->ncores; c++)
		f->core_node1[c] = (uint8_t)(core_node[c] + 1);
	return 0;
}

uint64_t llc_floor_line_limit(const llc_floor *f)
{
	uint64_t l2 = (uint64_t)f->l2_sets.n * NO_HIT2, llc = (uint64_t)f->llc_sets.n * NO_TAG3;
	return l2 < llc ? l2 : llc;
}

/* Moves tag to the front of an 8-way set (evicting the last on a miss);
 * 1 on a hit. */
FLOOR_ALWAYS int mtf8(const llc_floor *f, uint16_t *rec, uint32_t tag)
{
#ifdef FLOOR_SSE2
	__m128i *r = (__m128i *)(void *)rec;
	__m128i v = _mm_load_si128(r);
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_set1_epi16((short)tag)));
	unsigned p = (unsigned)__builtin_ctz(m | 0x4000) >> 1; /* 7 on a miss */
	__m128i up = _mm_load_si128((const __m128i *)(const void *)f->upto8[p]);
	v = _mm_or_si128(_mm_andnot_si128(up, v), _mm_and_si128(up, _mm_slli_si128(v, 2)));
	_mm_store_si128(r, _mm_insert_epi16(v, (int)tag, 0));
	return m != 0;
#else
	unsigned p = 0;
	while (p < LLC_FLOOR_L2_WAYS - 1 && rec[p] != tag)
		p++;
	int hit = rec[p] == tag;
	(void)f;
	memmove(rec + 1, rec, p * sizeof(*rec));
	rec[0] = (uint16_t)tag;
	return hit;
#endif
}

/* mtf8 for a 16-way set of 8-bit tags. */
FLOOR_ALWAYS int mtf16(const llc_floor *f, uint8_t *rec, uint32_t tag)
{
#ifdef FLOOR_SSE2
	__m128i *r = (__m128i *)(void *)rec, k = _mm_set1_epi8((char)tag);
	__m128i v = _mm_load_si128(r);
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, k));
	unsigned p = (unsigned)__builtin_ctz(m | 0x8000); /* 15 on a miss */
	__m128i up = _mm_load_si128((const __m128i *)(const void *)f->upto16[p]);
	v = _mm_or_si128(_mm_andnot_si128(up, v), _mm_and_si128(up, _mm_slli_si128(v, 1)));
	/* lane 0 is 0 after the shift */
	_mm_store_si128(r, _mm_or_si128(v, _mm_and_si128(k, _mm_cvtsi32_si128(0xff))));
	return m != 0;
#else
	unsigned p = 0;
	while (p < LLC_FLOOR_LLC_WAYS - 1 && rec[p] != tag)
		p++;
	int hit = rec[p] == tag;
	(void)f;
	memmove(rec + 1, rec, p * sizeof(*rec));
	rec[0] = (uint8_t)tag;
	return hit;
#endif
}

/* LLC set of line (tag to *tag): line mod sets, line / sets; pow2 is
 * a constant in each instantiation of the loops below. */
FLOOR_ALWAYS uint32_t llc_split(const llc_floor *f, uint32_t line, uint32_t *tag, const int pow2)
{
	return fastmod_split_as(&f->llc_sets, line, tag, pow2);
}

/* llc_floor_run's body, inlined once per (l2_only, pow2). */
FLOOR_ALWAYS void run_body(llc_floor *f, unsigned core, const uint32_t *lines, size_t n,
			   uint64_t count[LLC_FLOOR_NLEVELS], const int l2_only, const int pow2)
{
	uint16_t *l2 = f->l2[core];
	uint8_t *l3 = f->llc[f->core_llc[core]];
	const fastmod l2s = f->l2_sets;
	uint64_t h2 = 0, h3 = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t line = lines[i], t2, t3;
		if (!l2_only && i + FLOOR_AHEAD < n) {
			uint32_t tp, sp = llc_split(f, lines[i + FLOOR_AHEAD], &tp, pow2);
			__builtin_prefetch(l3 + (size_t)sp * LLC_FLOOR_LLC_WAYS, 1, 3);
		}
		uint32_t s2 = fastmod_split_as(&l2s, line, &t2, 1);
		int hit = mtf8(f, l2 + (size_t)s2 * LLC_FLOOR_L2_WAYS, t2);
		h2 += (uint64_t)hit;
		if (l2_only || hit)
			continue;
		uint32_t s3 = llc_split(f, line, &t3, pow2);
		h3 += (uint64_t)mtf16(f, l3 + (size_t)s3 * LLC_FLOOR_LLC_WAYS, t3);
	}
	count[LLC_FLOOR_L2] += h2;
	count[LLC_FLOOR_LLC] += h3;
	count[LLC_FLOOR_MISS] += n - h2 - h3;
}

void llc_floor_run(llc_floor *f, unsigned core, const uint32_t *lines, size_t n, int l2_only,
		   uint64_t count[LLC_FLOOR_NLEVELS])
{
	if (l2_only)
		run_body(f, core, lines, n, count, 1, 0);
	else if (f->llc_sets.pow2)
		run_body(f, core, lines, n, count, 0, 1);
	else
		run_body(f, core, lines, n, count, 0, 0);
}

/* ---- the coherent floor: hier.h's inclusive hierarchy on these sets ----
 * Order of one access (core c, domain d, line L), as hier_ref's:
 *  1. L2 lookup (fill on miss, the L2's victim leaves silently);
 *  2. on an L2 miss: LLC d lookup (fill on miss); the line it evicts is
 *     removed from d's L2s (back-invalidation, inclusion); on an LLC miss
 *     another LLC holding L serves it (REMOTE), else DRAM of L's node,
 *     the node of the core that touched L first (a first access is always
 *     an L2 miss, so first touch is recorded there);
 *  3. a write removes L from every other L2 and every other LLC.
 * No core-valid bits or directory: L2s of cores that have not run since
 * the reset are empty and skipped; every other L2 of the domain (2) or
 * machine (3) is looked at, with a read or no eviction looking for a tag
 * no line has (NO_HIT2), so reads and writes, LLC hits and misses run the
 * same instructions; the one branch, on finding the line in an L2, is
 * rarely taken (L2s hold 1/48 of an LLC). The other LLCs are probed and,
 * on a write, the line removed from them without branches. */

#ifdef FLOOR_SSE2
typedef __m128i key8; /* an L2 tag in every lane */
#define KEY8(tag) _mm_set1_epi16((short)(tag))
#else
typedef uint32_t key8;
#define KEY8(tag) (tag)
#endif

/* Removes tag (as KEY8(tag)) from an 8-way set if it is there. */
FLOOR_ALWAYS void rm8(const llc_floor *f, uint16_t *rec, key8 tag)
{
#ifdef FLOOR_SSE2
	__m128i *r = (__m128i *)(void *)rec;
	__m128i v = _mm_load_si128(r);
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, tag));
	if (__builtin_expect(m != 0, 0)) {
		unsigned p = (unsigned)__builtin_ctz(m) >> 1;
		__m128i from = _mm_load_si128((const __m128i *)(const void *)f->from8[p]);
		__m128i up =
			_mm_or_si128(_mm_srli_si128(v, 2), _mm_set_epi16(-1, 0, 0, 0, 0, 0, 0, 0));
		_mm_store_si128(r,
				_mm_or_si128(_mm_andnot_si128(from, v), _mm_and_si128(from, up)));
	}
#else
	unsigned p = 0;
	(void)f;
	while (p < LLC_FLOOR_L2_WAYS && rec[p] != tag)
		p++;
	if (p < LLC_FLOOR_L2_WAYS) {
		memmove(rec + p, rec + p + 1, (LLC_FLOOR_L2_WAYS - 1 - p) * sizeof(*rec));
		rec[LLC_FLOOR_L2_WAYS - 1] = NO_TAG2;
	}
#endif
}

/* Looks tag up in a 16-way set (1 if there) and, if rm, removes it. */
FLOOR_ALWAYS unsigned probe_rm16(const llc_floor *f, uint8_t *rec, uint32_t tag, unsigned rm)
{
#ifdef FLOOR_SSE2
	__m128i *r = (__m128i *)(void *)rec;
	__m128i v = _mm_load_si128(r);
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)tag)));
	unsigned p = (unsigned)__builtin_ctz(m | 0x10000); /* 16: not there */
	p += (LLC_FLOOR_LLC_WAYS - p) & (rm - 1u);         /* 16 unless rm (no branch) */
	__m128i from = _mm_load_si128((const __m128i *)(const void *)f->from16[p]);
	__m128i up = _mm_or_si128(_mm_srli_si128(v, 1), _mm_slli_si128(_mm_set1_epi8(-1), 15));
	_mm_store_si128(r, _mm_or_si128(_mm_andnot_si128(from, v), _mm_and_si128(from, up)));
	return m != 0;
#else
	unsigned p = 0;
	(void)f;
	while (p < LLC_FLOOR_LLC_WAYS && rec[p] != tag)
		p++;
	if (p < LLC_FLOOR_LLC_WAYS && rm) {
		memmove(rec + p, rec + p + 1, LLC_FLOOR_LLC_WAYS - 1 - p);
		rec[LLC_FLOOR_LLC_WAYS - 1] = NO_TAG3;
	}
	return p < LLC_FLOOR_LLC_WAYS;
#endif
}

/* What coh_body reads per run, in locals (stores through the byte-sized
 * tags and first-touch map may alias anything reached through f). */
typedef struct coh_ctx {
	uint16_t *l2, *dom[TOPO_MAX_CORES],
		*oth[TOPO_MAX_CORES]; /* dom: d's L2s; oth: c's others */
	uint8_t *l3, *ol3[TOPO_MAX_LLC], *home;
	unsigned ndom, noth, nol3;
	fastmod l2_sets;
	uint32_t me, llc_sets;
} coh_ctx;

static coh_ctx coh_ctx_of(llc_floor *f, unsigned core)
{
	coh_ctx x = { .l2 = f->l2[core],
		      .l3 = f->llc[f->core_llc[core]],
		      .home = f->home,
		      .l2_sets = f->l2_sets,
		      .me = f->core_node1[core],
		      .llc_sets = f->llc_sets.n };
	f->active |= 1ull << core;
	for (unsigned c = 0; c < f->ncores; c++) {
		if (!(f->active >> c & 1))
			continue;
		if (f->core_llc[c] == f->core_llc[core])
			x.dom[x.ndom++] = f->l2[c];
		if (c != core)
			x.oth[x.noth++] = f->l2[c];
	}
	for (unsigned o = 0; o < f->nllc; o++)
		if (o != (unsigned)f->core_llc[core])
			x.ol3[x.nol3++] = f->llc[o];
	return x;
}

/* mtf16 that also gives the tag it evicted (NO_TAG3 on a hit or when the
 * dropped way was empty). */
FLOOR_ALWAYS unsigned mtf16_ev(const llc_floor *f, uint8_t *rec, uint32_t tag, uint32_t *ev)
{
	uint32_t last = rec[LLC_FLOOR_LLC_WAYS - 1];
	unsigned hit = (unsigned)mtf16(f, rec, tag);
	*ev = last | (NO_TAG3 & -(uint32_t)hit); /* NO_TAG3 on a hit (no branch) */
	return hit;
}

/* Step 2's LLC lookup (set s3, tag t3): 1 if LLC d held the line; the
 * line it evicts leaves d's L2s. */
FLOOR_ALWAYS unsigned coh_llc(const llc_floor *f, const coh_ctx *x, uint32_t s3, uint32_t t3)
{
	uint32_t ev;
	unsigned hit = mtf16_ev(f, x->l3 + (size_t)s3 * LLC_FLOOR_LLC_WAYS, t3, &ev);
	/* ev NO_TAG3 (nothing evicted) makes a line at or above the line
	 * limit, which no L2 holds, so no test is needed; its tag is capped
	 * at NO_HIT2 lest it wrap onto a real 16-bit tag */
	uint32_t eline = ev * x->llc_sets + s3, et,
		 es = fastmod_split_as(&x->l2_sets, eline, &et, 1);
	const key8 k8 = KEY8(et < NO_HIT2 ? et : NO_HIT2);
	for (unsigned k = 0; k < x->ndom; k++)
		rm8(f, x->dom[k] + (size_t)es * LLC_FLOOR_L2_WAYS, k8);
	return hit;
}

/* llc_floor_run_coherent's body, inlined once per pow2 and for two LLCs
 * (nol3 1: the loops over the other LLCs unrolled) or any number. */
FLOOR_ALWAYS void coh_body(llc_floor *f, unsigned core, const uint32_t *lines,
			   const uint64_t *wmask, size_t n, uint64_t count[HIER_NLEVELS],
			   const int pow2, const int two)
{
	coh_ctx x = coh_ctx_of(f, core);
	if (two)
		x.nol3 = 1;
	uint64_t c2 = 0, c3 = 0, crem = 0, cmem = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t line = lines[i], t3;
		unsigned w = wmask ? (unsigned)(wmask[i >> 6] >> (i & 63)) & 1 : 0;
		if (i + FLOOR_AHEAD < n) {
			uint32_t tp, la = lines[i + FLOOR_AHEAD], sp = llc_split(f, la, &tp, pow2);
			__builtin_prefetch(x.l3 + (size_t)sp * LLC_FLOOR_LLC_WAYS, 1, 3);
			for (unsigned k = 0; k < x.nol3; k++)
				__builtin_prefetch(x.ol3[k] + (size_t)sp * LLC_FLOOR_LLC_WAYS, 1,
						   3);
			__builtin_prefetch(x.home + la, 1, 3);
		}
		uint32_t t2, s2 = fastmod_split_as(&x.l2_sets, line, &t2, 1);
		unsigned hit = (unsigned)mtf8(f, x.l2 + (size_t)s2 * LLC_FLOOR_L2_WAYS, t2);
		uint32_t s3 = llc_split(f, line, &t3, pow2);
		if (!hit) {
			unsigned hit3 = coh_llc(f, &x, s3, t3), remote = 0;
			for (unsigned k = 0; k < x.nol3; k++)
				remote |= probe_rm16(f, x.ol3[k] + (size_t)s3 * LLC_FLOOR_LLC_WAYS,
						     t3, w);
			uint32_t h = x.home[line];
			h |= x.me & -(uint32_t)(h == 0);
			x.home[line] = (uint8_t)h;
			c3 += hit3;
			crem += (hit3 ^ 1) & remote;
			cmem += ((hit3 | remote) ^ 1) & (h == x.me);
		} else {
			c2++;
			for (unsigned k = 0; k < x.nol3; k++)
				probe_rm16(f, x.ol3[k] + (size_t)s3 * LLC_FLOOR_LLC_WAYS, t3, w);
		}
		const key8 tw = KEY8((t2 & -(uint32_t)w) | (NO_HIT2 & ((uint32_t)w - 1)));
		for (unsigned k = 0; k < x.noth; k++)
			rm8(f, x.oth[k] + (size_t)s2 * LLC_FLOOR_L2_WAYS, tw);
	}
	count[HIER_L2] += c2;
	count[HIER_LLC] += c3;
	count[HIER_REMOTE] += crem;
	count[HIER_MEM] += cmem;
	count[HIER_MEM_REMOTE] += n - c2 - c3 - crem - cmem;
}

void llc_floor_run_coherent(llc_floor *f, unsigned core, const uint32_t *lines,
			    const uint64_t *wmask, size_t n, uint64_t count[HIER_NLEVELS])
{
	if (f->nllc == 2) {
		if (f->llc_sets.pow2)
			coh_body(f, core, lines, wmask, n, count, 1, 1);
		else
			coh_body(f, core, lines, wmask, n, count, 0, 1);
	} else if (f->llc_sets.pow2) {
		coh_body(f, core, lines, wmask, n, count, 1, 0);
	} else {
		coh_body(f, core, lines, wmask, n, count, 0, 0);
	}
}
