/*
 * test_regsched_scalar.c — the portable (non-SSE2) paths of the fast
 * cache's tag compare (cache_impl.h) and of bench llc's floors
 * (llcfloor.c), which no x86-64 build compiles. This file builds them
 * here (VL_NO_SSE2: cache_impl.h's inline functions, and llcfloor.c
 * included again under other names) and runs them beside the SSE2 build
 * in libvirtlab.a on the same random traces: what served each access,
 * the line each miss evicted, and after every step every tag (and the
 * floor's first-touch map) must be the same in both. Counts and state
 * only, never timing.
 */
#include "vl_test.h"

#include <string.h>

#include "core/rng.h"
#include "regsched/cache.h"
#include "regsched/llcfloor.h" /* the SSE2 build, from libvirtlab.a */

#define VL_NO_SSE2 1
#include "regsched/cache_impl.h" /* inline: its portable tag compare */

/* llcfloor.c's portable paths, as scalar_*; the prototypes stand in for
 * llcfloor.h's (already included, for the SSE2 build's names). */
llc_floor *scalar_create(unsigned ncores, const int *core_llc, unsigned nllc, uint32_t l2_sets,
			 uint32_t llc_sets);
void scalar_destroy(llc_floor *f);
void scalar_reset(llc_floor *f);
uint64_t scalar_line_limit(const llc_floor *f);
void scalar_run(llc_floor *f, unsigned core, const uint32_t *lines, size_t n, int l2_only,
		uint64_t count[LLC_FLOOR_NLEVELS]);
int scalar_set_nodes(llc_floor *f, const int *core_node);
void scalar_run_coherent(llc_floor *f, unsigned core, const uint32_t *lines, const uint64_t *wmask,
			 size_t n, uint64_t count[HIER_NLEVELS]);
#define llc_floor_create scalar_create
#define llc_floor_destroy scalar_destroy
#define llc_floor_reset scalar_reset
#define llc_floor_line_limit scalar_line_limit
#define llc_floor_run scalar_run
#define llc_floor_set_nodes scalar_set_nodes
#define llc_floor_run_coherent scalar_run_coherent
#include "regsched/llcfloor.c"
#undef llc_floor_create
#undef llc_floor_destroy
#undef llc_floor_reset
#undef llc_floor_line_limit
#undef llc_floor_run
#undef llc_floor_set_nodes
#undef llc_floor_run_coherent

#if defined(CACHE_SSE2) || defined(FLOOR_SSE2)
#error "VL_NO_SSE2 must select the portable paths"
#endif

/* ---- the cache: library calls (SSE2) vs the inline portable ones ---- */

static void cache_pair(uint32_t sets, unsigned ways, uint64_t seed)
{
	cache *a = cache_create(sets, ways), *b = cache_create(sets, ways);
	assert_non_null(a);
	assert_non_null(b);
	uint64_t limit = cache_line_limit(a), span = (uint64_t)sets * ways * 3;
	rng r;
	rng_seed(&r, seed);
	unsigned hits = 0, evictions = 0;
	for (int i = 0; i < 40000; i++) {
		/* mostly a range a few times the cache, some lines near the limit */
		uint32_t line = rng_below(&r, 8) ? (uint32_t)rng_below(&r, span)
						 : (uint32_t)(limit - 1 - rng_below(&r, span));
		unsigned op = (unsigned)rng_below(&r, 10);
		uint32_t tag, s = cache__split(b, line, &tag);
		if (op < 7) {
			uint32_t ea = CACHE_NO_LINE, eb = CACHE_NO_LINE;
			int ha = cache_access(a, line, &ea), hb = cache__access(b, line, &eb);
			assert_int_equal(ha, hb);
			assert_int_equal(ea, eb);
			hits += (unsigned)ha;
			evictions += !ha && ea != CACHE_NO_LINE;
		} else if (op < 8) {
			assert_int_equal(cache_probe(a, line), cache__probe(b, line));
			assert_int_equal(cache_probe(a, line), cache__find_st(b, s, tag) != 0);
		} else {
			assert_int_equal(cache_invalidate(a, line), cache__inval_st(b, s, tag));
		}
		if (memcmp(a->rec, b->rec, (size_t)sets * CACHE_REC_BYTES))
			fail_msg("sets %u ways %u: records differ after step %d (line %u)", sets,
				 ways, i, line);
	}
	assert_true(hits > 1000 && evictions > 1000); /* both paths exercised */
	cache_destroy(a);
	cache_destroy(b);
}

static void test_cache_match_portable(void **state)
{
	(void)state;
	cache_pair(1, 16, 1);
	cache_pair(3, 1, 2);
	cache_pair(12, 5, 3);
	cache_pair(16, 8, 4);
	cache_pair(12, 16, 5);
	cache_pair(64, 15, 6);
}

/* ---- the floors: SSE2 build vs the portable one ---- */

/* The two instances hold the same tags and first-touch marks. */
static void floor_same_state(const llc_floor *a, const llc_floor *b, const char *what, int step)
{
	int same = 1;
	for (unsigned c = 0; c < a->ncores; c++)
		same &= !memcmp(a->l2[c], b->l2[c],
				(size_t)a->l2_sets.n * LLC_FLOOR_L2_WAYS * sizeof(uint16_t));
	for (unsigned d = 0; d < a->nllc; d++)
		same &= !memcmp(a->llc[d], b->llc[d], (size_t)a->llc_sets.n * LLC_FLOOR_LLC_WAYS);
	same &= !memcmp(a->home, b->home, scalar_line_limit(b));
	if (!same)
		fail_msg("%s: SSE2 and portable floors differ after step %d", what, step);
}

/* One machine: ncores cores over nllc LLCs (core c on LLC c % nllc, on
 * node c % 2), turns of 1..64 accesses by random cores, 30 % writes, hot
 * lines and a range that overflows the LLCs; kind 0 L2 only, 1 two-level,
 * 2 coherent. Counts compared per turn, state after every turn. */
static void floors_pair(unsigned ncores, unsigned nllc, uint32_t l2_sets, uint32_t llc_sets,
			int kind, uint64_t seed)
{
	int cl[8], node[8];
	for (unsigned c = 0; c < ncores; c++) {
		cl[c] = (int)(c % nllc);
		node[c] = (int)(c % 2);
	}
	llc_floor *a = llc_floor_create(ncores, cl, nllc, l2_sets, llc_sets);
	llc_floor *b = scalar_create(ncores, cl, nllc, l2_sets, llc_sets);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(llc_floor_set_nodes(a, node), 0);
	assert_int_equal(scalar_set_nodes(b, node), 0);
	char what[96];
	snprintf(what, sizeof(what), "%u cores, %u LLCs of %u sets, kind %d", ncores, nllc,
		 llc_sets, kind);
	uint64_t limit = llc_floor_line_limit(a), span = (uint64_t)llc_sets * 40;
	rng r;
	rng_seed(&r, seed);
	uint64_t total[HIER_NLEVELS] = { 0 };
	for (int turn = 0; turn < 1500; turn++) {
		unsigned core = (unsigned)rng_below(&r, ncores),
			 n = 1 + (unsigned)rng_below(&r, 64);
		uint32_t lines[64];
		uint64_t wm = 0, ca[HIER_NLEVELS] = { 0 }, cb[HIER_NLEVELS] = { 0 };
		for (unsigned k = 0; k < n; k++) {
			uint64_t x = rng_below(&r, 2) ? rng_below(&r, 24) : rng_below(&r, span);
			lines[k] = (uint32_t)(rng_below(&r, 50) ? x : limit - 1 - x % limit);
			wm |= (uint64_t)(rng_below(&r, 10) < 3) << k;
		}
		if (kind == 2) {
			llc_floor_run_coherent(a, core, lines, &wm, n, ca);
			scalar_run_coherent(b, core, lines, &wm, n, cb);
		} else {
			llc_floor_run(a, core, lines, n, kind == 0, ca);
			scalar_run(b, core, lines, n, kind == 0, cb);
		}
		for (int l = 0; l < HIER_NLEVELS; l++) {
			if (ca[l] != cb[l])
				fail_msg("%s: turn %d level %d: SSE2 %llu, portable %llu", what,
					 turn, l, (unsigned long long)ca[l],
					 (unsigned long long)cb[l]);
			total[l] += ca[l];
		}
		floor_same_state(a, b, what, turn);
	}
	/* the trace reached hits and misses at each level the floor has */
	assert_true(total[0] > 1000);
	assert_true(total[kind == 0 ? LLC_FLOOR_MISS : 1] > 1000);
	if (kind == 2) {
		assert_true(total[HIER_MEM] > 100 && total[HIER_MEM_REMOTE] > 100);
		assert_true(nllc == 1 || total[HIER_REMOTE] > 100);
	}
	llc_floor_destroy(a);
	scalar_destroy(b);
}

static void test_floors_portable(void **state)
{
	(void)state;
	for (int kind = 0; kind < 3; kind++) {
		floors_pair(4, 2, 4, 8, kind, 10 + (uint64_t)kind);  /* mask, two LLCs */
		floors_pair(4, 2, 4, 12, kind, 20 + (uint64_t)kind); /* fastmod, two LLCs */
		floors_pair(6, 3, 4, 16, kind, 30 + (uint64_t)kind); /* mask, any LLCs */
		floors_pair(6, 3, 8, 3, kind, 40 + (uint64_t)kind);  /* fastmod, any LLCs */
		floors_pair(3, 1, 2, 5, kind, 50 + (uint64_t)kind);  /* one LLC */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_match_portable),
		cmocka_unit_test(test_floors_portable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
