/*
 * llcfloor.c — the floor `bench llc` prints beside the model: the least
 * work any exact simulation of its trace must do, timed on the same trace
 * in the same run. It is a lower bound on work, not a model virtlab uses:
 * it has no coherence (writes are plain accesses), no inclusion or
 * back-invalidation, no NUMA, no remote-LLC probe, and its hit counts are
 * therefore not hier.c's. What it says: whatever the model adds, an exact
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
 *    a mask where they are.
 * Keeping tags in recency order is exact LRU: a hit moves the line to the
 * front, a miss drops the last (least recent, or an empty way) and puts
 * the line in front; empty ways stay behind every valid one.
 */
#include "regsched/llcfloor.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
#define NO_TAG3 0xffu   /* an empty LLC way */

struct llc_floor {
	uint16_t *l2[TOPO_MAX_CORES]; /* l2_sets * 8 tags, MRU first */
	uint8_t *llc[TOPO_MAX_LLC];   /* llc_sets * 16 8-bit tags, MRU first */
	int core_llc[TOPO_MAX_CORES];
	unsigned ncores, nllc;
	uint32_t l2_sets, l2_mask, llc_sets, llc_mask;
	unsigned l2_shift, llc_shift;
	int llc_pow2;
	uint64_t llc_fm; /* Lemire: UINT64_MAX / llc_sets + 1 (not pow2) */
	/* upto*[p]: lanes 0..p all ones (the lanes a move to front shifts) */
	uint16_t upto8[LLC_FLOOR_L2_WAYS][LLC_FLOOR_L2_WAYS] __attribute__((aligned(16)));
	uint8_t upto16[LLC_FLOOR_LLC_WAYS][LLC_FLOOR_LLC_WAYS] __attribute__((aligned(16)));
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
	f->l2_sets = l2_sets;
	f->l2_mask = l2_sets - 1;
	f->l2_shift = (unsigned)__builtin_ctz(l2_sets);
	f->llc_sets = llc_sets;
	f->llc_pow2 = (llc_sets & (llc_sets - 1)) == 0;
	f->llc_mask = llc_sets - 1;
	f->llc_shift = (unsigned)__builtin_ctz(llc_sets);
	f->llc_fm = f->llc_pow2 ? 0 : UINT64_MAX / llc_sets + 1;
	for (unsigned p = 0; p < LLC_FLOOR_L2_WAYS; p++)
		for (unsigned l = 0; l <= p; l++)
			f->upto8[p][l] = 0xffff;
	for (unsigned p = 0; p < LLC_FLOOR_LLC_WAYS; p++)
		for (unsigned l = 0; l <= p; l++)
			f->upto16[p][l] = 0xff;
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
	free(f);
}

void llc_floor_reset(llc_floor *f)
{
	for (unsigned c = 0; c < f->ncores; c++)
		memset(f->l2[c], 0xff, (size_t)f->l2_sets * LLC_FLOOR_L2_WAYS * sizeof(uint16_t));
	for (unsigned d = 0; d < f->nllc; d++)
		memset(f->llc[d], 0xff, (size_t)f->llc_sets * LLC_FLOOR_LLC_WAYS);
}

uint64_t llc_floor_line_limit(const llc_floor *f)
{
	uint64_t l2 = (uint64_t)f->l2_sets * NO_TAG2, llc = (uint64_t)f->llc_sets * NO_TAG3;
	return l2 < llc ? l2 : llc;
}

/* Moves tag to the front of an 8-way set (evicting the last on a miss);
 * 1 on a hit. */
FLOOR_ALWAYS int mtf8(const llc_floor *f, uint16_t *rec, uint32_t tag)
{
#ifdef __SSE2__
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
#ifdef __SSE2__
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

/* LLC set of line (tag to *tag): line mod sets, line / sets. */
FLOOR_ALWAYS uint32_t llc_split(const llc_floor *f, uint32_t line, uint32_t *tag, const int pow2)
{
	if (pow2) {
		*tag = line >> f->llc_shift;
		return line & f->llc_mask;
	}
	unsigned __int128 p = (unsigned __int128)f->llc_fm * line;
	*tag = (uint32_t)(p >> 64);
	return (uint32_t)(((unsigned __int128)(uint64_t)p * f->llc_sets) >> 64);
}

/* llc_floor_run's body, inlined once per (l2_only, pow2). */
FLOOR_ALWAYS void run_body(llc_floor *f, unsigned core, const uint32_t *lines, size_t n,
			   uint64_t count[LLC_FLOOR_NLEVELS], const int l2_only, const int pow2)
{
	uint16_t *l2 = f->l2[core];
	uint8_t *l3 = f->llc[f->core_llc[core]];
	const uint32_t mask = f->l2_mask;
	const unsigned shift = f->l2_shift;
	uint64_t h2 = 0, h3 = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t line = lines[i], t3;
		if (!l2_only && i + FLOOR_AHEAD < n) {
			uint32_t tp, sp = llc_split(f, lines[i + FLOOR_AHEAD], &tp, pow2);
			__builtin_prefetch(l3 + (size_t)sp * LLC_FLOOR_LLC_WAYS, 1, 3);
		}
		int hit = mtf8(f, l2 + (size_t)(line & mask) * LLC_FLOOR_L2_WAYS, line >> shift);
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
	else if (f->llc_pow2)
		run_body(f, core, lines, n, count, 0, 1);
	else
		run_body(f, core, lines, n, count, 0, 0);
}
