/*
 * test_regsched_cache.c — the fast cache (cache.c) against the brute-force
 * reference (cache_ref.c) access by access on random traces, for many
 * geometries; a hand-checked LRU sequence; invalidation; and the two-level
 * hierarchy (hier.c, including its branch-free two-LLC loop) against
 * hier_ref.
 */
#include "vl_test.h"

#include "core/rng.h"
#include "regsched/cache.h"
#include "regsched/hier.h"
#include "regsched/topo.h"

static void test_lru_by_hand(void **state)
{
	(void)state;
	/* one set, 4 ways: A B C D fill; touching A makes B the LRU; E evicts B */
	cache *c = cache_create(1, 4);
	uint32_t ev = 0;
	for (uint32_t l = 1; l <= 4; l++)
		assert_int_equal(cache_access(c, l, &ev), 0);
	assert_int_equal(cache_access(c, 1, &ev), 1);
	assert_int_equal(cache_access(c, 5, &ev), 0);
	assert_int_equal(ev, 2);
	assert_int_equal(cache_probe(c, 2), 0);
	assert_int_equal(cache_probe(c, 1), 1);
	/* invalidating 3 frees its way: the next fill evicts nothing */
	assert_int_equal(cache_invalidate(c, 3), 1);
	assert_int_equal(cache_invalidate(c, 3), 0);
	assert_int_equal(cache_access(c, 6, &ev), 0);
	assert_int_equal(ev, CACHE_NO_LINE);
	assert_int_equal(cache_occupancy(c), 4);
	cache_destroy(c);
	assert_null(cache_create(0, 4));
	assert_null(cache_create(8, 17));
	cache_destroy(NULL);
}

/* Random accesses, probes and invalidations: every return value and every
 * evicted line must match the reference. */
static void run_random(uint32_t sets, unsigned ways, uint64_t seed, int n)
{
	cache *f = cache_create(sets, ways);
	cache_ref *r = cache_ref_create(sets, ways);
	assert_non_null(f);
	assert_non_null(r);
	rng g;
	rng_seed(&g, seed);
	/* a span of ~3x the capacity, skewed so that hits and misses both occur */
	uint64_t cap = (uint64_t)sets * ways, span = 3 * cap + 7;
	if (span >= cache_line_limit(f))
		span = cache_line_limit(f) - 1;
	for (int i = 0; i < n; i++) {
		uint32_t line = (uint32_t)(rng_uniform(&g) < 0.7 ? rng_below(&g, cap / 2 + 1)
								 : rng_below(&g, span));
		double op = rng_uniform(&g);
		if (op < 0.05) {
			assert_int_equal(cache_invalidate(f, line), cache_ref_invalidate(r, line));
		} else if (op < 0.1) {
			assert_int_equal(cache_probe(f, line), cache_ref_probe(r, line));
		} else {
			uint32_t ef = 7, er = 7;
			int hf = cache_access(f, line, &ef), hr = cache_ref_access(r, line, &er);
			if (hf != hr || (!hf && ef != er))
				fail_msg("sets %u ways %u step %d line %u: fast hit=%d ev=%u, ref "
					 "hit=%d ev=%u",
					 sets, ways, i, line, hf, ef, hr, er);
		}
	}
	cache_destroy(f);
	cache_ref_destroy(r);
}

static void test_random_vs_reference(void **state)
{
	(void)state;
	static const uint32_t sets[] = { 1, 2, 3, 64, 96, 768, 12288 };
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++)
		for (unsigned ways = 1; ways <= 16; ways++)
			run_random(sets[s], ways, 1000 * s + ways, sets[s] > 1000 ? 60000 : 20000);
}

static void test_line_limit(void **state)
{
	(void)state;
	cache *c = cache_create(512, 8);
	assert_int_equal(cache_line_limit(c), 512ull * 65535);
	/* the largest line below the limit is still told apart from line 0 */
	uint32_t top = (uint32_t)(cache_line_limit(c) - 512);
	assert_int_equal(cache_access(c, 0, NULL), 0);
	assert_int_equal(cache_access(c, top, NULL), 0);
	assert_int_equal(cache_access(c, 0, NULL), 1);
	assert_int_equal(cache_access(c, top, NULL), 1);
	cache_destroy(c);
}

/* hier (fast, batched) vs hier_ref, on random multi-core traces with writes:
 * every access's level (hier_run_levels), the batch counts (hier_run), single
 * accesses, and at the end every line's presence in every L2 and LLC. */
static void check_hier(const topo *t, const char *tname, unsigned sample, uint64_t seed, int rounds)
{
	hier *h = hier_create(t, sample);
	/* hier_run has a prefetching path for large tables and a plain one;
	 * odd seeds take the first, even the second (every machine both ways
	 * over the calls below) */
	hier__set_far(h, (int)(seed & 1));
	hier_ref *r = hier_ref_create(t, sample);
	assert_non_null(h);
	assert_non_null(r);
	rng g;
	rng_seed(&g, seed);
	uint32_t span = (uint32_t)(t->llc[0].size / 64 / sample * 3);
	uint32_t lines[64];
	uint64_t wmask[1];
	uint8_t lvl[64];
	for (int round = 0; round < rounds; round++) {
		unsigned core = (unsigned)rng_below(&g, t->ncores),
			 n = 1 + (unsigned)rng_below(&g, 64);
		int levels = round & 1;
		wmask[0] = 0;
		uint64_t cf[HIER_NLEVELS] = { 0 }, cr[HIER_NLEVELS] = { 0 };
		int lr[64];
		/* half the rounds hot (a small range: L2 hits, sharing, writes to
		 * lines other L2s hold), half over three LLCs' worth */
		uint32_t range = rng_uniform(&g) < 0.5 ? span / 64 + 1 : span;
		for (unsigned i = 0; i < n; i++) {
			lines[i] = (uint32_t)rng_below(&g, range);
			if (rng_uniform(&g) < 0.3)
				wmask[0] |= 1ull << i;
			lr[i] = hier_ref_access(r, core, lines[i], (int)((wmask[0] >> i) & 1));
			cr[lr[i]]++;
		}
		if (levels)
			hier_run_levels(h, core, lines, wmask, n, cf, lvl);
		else
			hier_run(h, core, lines, wmask, n, cf);
		for (unsigned i = 0; levels && i < n; i++)
			if (lvl[i] != lr[i])
				fail_msg("%s round %d access %u (core %u line %u%s): fast level %d "
					 "ref %d",
					 tname, round, i, core, lines[i],
					 (wmask[0] >> i) & 1 ? " write" : "", lvl[i], lr[i]);
		for (int l = 0; l < HIER_NLEVELS; l++)
			if (cf[l] != cr[l])
				fail_msg("%s round %d level %d: fast %llu ref %llu", tname, round,
					 l, (unsigned long long)cf[l], (unsigned long long)cr[l]);
	}
	/* and single accesses agree too */
	for (int i = 0; i < rounds * 4; i++) {
		unsigned core = (unsigned)rng_below(&g, t->ncores);
		uint32_t line =
			(uint32_t)rng_below(&g, rng_uniform(&g) < 0.5 ? span / 64 + 1 : span);
		int w = rng_uniform(&g) < 0.3;
		assert_int_equal(hier_access(h, core, line, w), hier_ref_access(r, core, line, w));
	}
	/* the final contents: every line in every cache */
	for (uint32_t line = 0; line < span; line++) {
		for (unsigned c = 0; c < t->ncores; c++)
			if (hier_in_l2(h, c, line) != hier_ref_in_l2(r, c, line))
				fail_msg("%s: line %u in core %u's L2: fast %d ref %d", tname, line,
					 c, hier_in_l2(h, c, line), hier_ref_in_l2(r, c, line));
		for (unsigned d = 0; d < t->nllc; d++)
			if (hier_in_llc(h, d, line) != hier_ref_in_llc(r, d, line))
				fail_msg("%s: line %u in LLC %u: fast %d ref %d", tname, line, d,
					 hier_in_llc(h, d, line), hier_ref_in_llc(r, d, line));
	}
	hier_destroy(h);
	hier_ref_destroy(r);
}

static void run_hier(const char *tname, unsigned sample, uint64_t seed)
{
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin(tname, &t, &eb), 0);
	check_hier(&t, tname, sample, seed, 3000);
	check_hier(&t, tname, sample, seed + 1, 1000);
}

/* A small SMT machine: 2 LLCs of 4 pCPUs, siblings (0,1) (2,3) ... share
 * their core's L2; two nodes. */
static void run_hier_smt(const char *policy, uint64_t seed)
{
	char txt[768];
	topo t;
	vl_errbuf eb;
	snprintf(txt, sizeof(txt),
		 "name smt\nfreq_ghz 1\nl2 size=4K ways=4 line=64\n"
		 "llc 0 size=16K ways=8 line=64 cores=0-3\n"
		 "llc 1 size=16K ways=8 line=64 cores=4-7\n"
		 "latency l2=1 llc=2 remote_llc=3 mem=4 remote_mem=5\n"
		 "socket 0 cores=0-3\nsocket 1 cores=4-7\nnode 0 cores=0-3\nnode 1 cores=4-7\n"
		 "smt 0,1\nsmt 2,3\nsmt 4,5\nsmt 6,7\nllc_policy %s\n",
		 policy);
	if (topo_parse(txt, "smt", &t, &eb))
		fail_msg("%s", eb.msg);
	check_hier(&t, policy, 1, seed, 3000);
	check_hier(&t, policy, 1, seed + 1, 1000);
}

/* 56 cores, one L2 each, in 4 LLCs: more L2s than directory bits (24), so
 * a bit stands for two or three L2s. */
static void run_hier_many(const char *policy, uint64_t seed)
{
	char txt[768];
	topo t;
	vl_errbuf eb;
	snprintf(txt, sizeof(txt),
		 "name many\nfreq_ghz 1\nl2 size=2K ways=2 line=64\n"
		 "llc 0 size=16K ways=4 line=64 cores=0-13\n"
		 "llc 1 size=16K ways=4 line=64 cores=14-27\n"
		 "llc 2 size=16K ways=4 line=64 cores=28-41\n"
		 "llc 3 size=16K ways=4 line=64 cores=42-55\n"
		 "latency l2=1 llc=2 remote_llc=3 mem=4 remote_mem=5\nllc_policy %s\n",
		 policy);
	if (topo_parse(txt, "many", &t, &eb))
		fail_msg("%s", eb.msg);
	check_hier(&t, policy, 1, seed, 3000);
	check_hier(&t, policy, 1, seed + 1, 1000);
}

/* LLC domains with interleaved cores (0,2,4,6 and 1,3,5,7), so a domain's
 * L2s are not consecutive indices: an inclusive LLC's core-valid bits then
 * go to L2s through their table, not a shift. */
static void run_hier_interleaved(const char *policy, uint64_t seed)
{
	char txt[768];
	topo t;
	vl_errbuf eb;
	snprintf(txt, sizeof(txt),
		 "name inter\nfreq_ghz 1\nl2 size=4K ways=4 line=64\n"
		 "llc 0 size=16K ways=8 line=64 cores=0,2,4,6\n"
		 "llc 1 size=16K ways=8 line=64 cores=1,3,5,7\n"
		 "latency l2=1 llc=2 remote_llc=3 mem=4 remote_mem=5\n"
		 "node 0 cores=0,2,4,6\nnode 1 cores=1,3,5,7\nllc_policy %s\n",
		 policy);
	if (topo_parse(txt, "inter", &t, &eb))
		fail_msg("%s", eb.msg);
	check_hier(&t, policy, 1, seed, 3000);
	check_hier(&t, policy, 1, seed + 1, 1000);
}

/* A random machine: 1-5 LLCs of 1-12 cores (SMT pairs at random within an
 * LLC, so sibling pCPUs share an L2; up to 12 L2s a domain, so both ways of
 * back-invalidating run), nodes and sockets grouping whole LLCs
 * (one socket of several nodes, as NPS4, or a socket per node), 1-16 ways,
 * set counts that are and are not powers of two, a random inclusion
 * policy and set sampling. */
static void random_topo(rng *g, topo *t, unsigned *sample, char *desc, size_t dlen)
{
	static const char *pol[] = { "inclusive", "victim", "fill-both" };
	char txt[4096];
	vl_errbuf eb;
	unsigned nllc = 1 + (unsigned)rng_below(g, 5), core = 0,
		 nnodes = 1 + (unsigned)rng_below(g, nllc);
	unsigned l2w = 1 + (unsigned)rng_below(g, 16), l3w = 1 + (unsigned)rng_below(g, 16);
	int one_socket = rng_uniform(g) < 0.5;
	const char *p = pol[rng_below(g, 3)];
	*sample = rng_uniform(g) < 0.3 ? 2 + (unsigned)rng_below(g, 3) : 1;
	unsigned l2s = *sample * (1 + (unsigned)rng_below(g, 24));
	unsigned l3s = *sample * (4 + (unsigned)rng_below(g, 60));
	int n = snprintf(txt, sizeof(txt), "name rnd\nfreq_ghz 1\nl2 size=%u ways=%u line=64\n",
			 l2s * l2w * 64, l2w);
	unsigned first[6], last[6];
	for (unsigned d = 0; d < nllc; d++) {
		unsigned k = 1 + (unsigned)rng_below(g, 12);
		first[d] = core;
		last[d] = core + k - 1;
		n += snprintf(txt + n, sizeof(txt) - (size_t)n,
			      "llc %u size=%u ways=%u line=64 cores=%u-%u\n", d, l3s * l3w * 64,
			      l3w, first[d], last[d]);
		for (unsigned c = first[d]; c + 1 <= last[d]; c += 2)
			if (rng_uniform(g) < 0.5)
				n += snprintf(txt + n, sizeof(txt) - (size_t)n, "smt %u,%u\n", c,
					      c + 1);
		core += k;
	}
	/* node v holds LLCs d with d * nnodes / nllc == v (each at least one) */
	for (unsigned v = 0; v < nnodes; v++) {
		unsigned lo = ~0u, hi = 0;
		for (unsigned d = 0; d < nllc; d++)
			if (d * nnodes / nllc == v) {
				lo = lo < first[d] ? lo : first[d];
				hi = last[d];
			}
		n += snprintf(txt + n, sizeof(txt) - (size_t)n, "node %u cores=%u-%u\n", v, lo, hi);
		if (!one_socket)
			n += snprintf(txt + n, sizeof(txt) - (size_t)n, "socket %u cores=%u-%u\n",
				      v, lo, hi);
	}
	if (one_socket)
		n += snprintf(txt + n, sizeof(txt) - (size_t)n, "socket 0 cores=0-%u\n", core - 1);
	snprintf(txt + n, sizeof(txt) - (size_t)n,
		 "latency l2=1 llc=2 remote_llc=3 mem=4 remote_mem=5\nllc_policy %s\n", p);
	if (topo_parse(txt, "rnd", t, &eb))
		fail_msg("%s\n%s", eb.msg, txt);
	snprintf(desc, dlen, "%s %u LLCs %u cores %u nodes L2 %ux%u LLC %ux%u sample %u", p, nllc,
		 core, nnodes, l2s, l2w, l3s, l3w, *sample);
}

/* Every inclusion policy on random machines (see random_topo). */
static void test_hier_random_topologies(void **state)
{
	(void)state;
	rng g;
	rng_seed(&g, 17);
	int seen[3] = { 0 };
	for (int k = 0; k < 120; k++) {
		topo t;
		unsigned sample;
		char desc[160];
		random_topo(&g, &t, &sample, desc, sizeof(desc));
		seen[t.llc_policy]++;
		check_hier(&t, desc, sample, 100 + (uint64_t)k, 500);
	}
	for (int p = 0; p < 3; p++)
		assert_true(seen[p] > 0);
}

static void test_hier_vs_reference(void **state)
{
	(void)state;
	run_hier("westmere-2llc", 16, 1); /* inclusive, 2 LLCs, 2 nodes */
	run_hier("epyc-8ccx", 64, 2);     /* victim, 8 LLCs */
	run_hier("single-llc", 32, 3);
	run_hier("epyc-8ccx-nps4", 64, 4); /* victim L3s, four NUMA nodes */
	run_hier_smt("inclusive", 5);      /* SMT siblings share an L2 */
	run_hier_smt("victim", 6);
	run_hier_smt("fill-both", 7);
	run_hier_many("inclusive", 8); /* directory bits shared by several L2s */
	run_hier_many("victim", 9);
	run_hier_many("fill-both", 10);
	run_hier_interleaved("inclusive", 11); /* a domain's L2s not consecutive */
	run_hier_interleaved("victim", 12);
}

/* A tiny machine to reason about by hand: direct-mapped 16-set L2s and
 * 32-set LLCs, two cores per LLC; LLC d is node d. */
static hier *tiny(const char *policy, topo *t)
{
	char txt[512];
	vl_errbuf eb;
	snprintf(txt, sizeof(txt),
		 "name tiny\nfreq_ghz 1\nl2 size=1K ways=1 line=64\n"
		 "llc 0 size=2K ways=1 line=64 cores=0-1\nllc 1 size=2K ways=1 line=64 cores=2-3\n"
		 "latency l2=1 llc=2 remote_llc=3 mem=4 remote_mem=5\nllc_policy %s\n",
		 policy);
	if (topo_parse(txt, "tiny", t, &eb))
		fail_msg("%s", eb.msg);
	hier *h = hier_create(t, 1);
	assert_non_null(h);
	return h;
}

/* write-invalidate reaches the private L2s: no stale L2 hit after another
 * core writes (issue 17 showed one) */
static void test_stale_l2_invalidated(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	hier *h = hier_create(&t, 1);
	assert_int_equal(hier_access(h, 0, 100, 0), HIER_MEM);
	assert_int_equal(hier_access(h, 1, 100, 0), HIER_LLC); /* now in core 1's L2 */
	assert_int_equal(hier_access(h, 6, 100, 0), HIER_REMOTE);
	assert_true(hier_in_l2(h, 1, 100) && hier_in_l2(h, 6, 100));
	assert_int_equal(hier_access(h, 0, 100, 1), HIER_L2); /* core 0 writes */
	assert_false(hier_in_l2(h, 1, 100));
	assert_false(hier_in_l2(h, 6, 100));
	assert_int_equal(hier_access(h, 1, 100, 0), HIER_LLC);    /* not a stale L2 hit */
	assert_int_equal(hier_access(h, 6, 100, 0), HIER_REMOTE); /* LLC 1 lost it too */
	hier_destroy(h);
}

static void test_inclusive_back_invalidation(void **state)
{
	(void)state;
	topo t;
	/* core 0 reads line 0 (L2 set 0, LLC set 0); core 1 reads line 32:
	 * LLC set 0 evicts line 0, and the inclusive LLC takes it out of core
	 * 0's L2 too, so core 0 misses to DRAM */
	hier *h = tiny("inclusive", &t);
	assert_int_equal(hier_access(h, 0, 0, 0), HIER_MEM);
	assert_int_equal(hier_access(h, 1, 32, 0), HIER_MEM);
	assert_false(hier_in_llc(h, 0, 0));
	assert_false(hier_in_l2(h, 0, 0));
	assert_int_equal(hier_access(h, 0, 0, 0), HIER_MEM);
	hier_destroy(h);
	/* fill-both (not inclusive): core 0 keeps its L2 copy */
	h = tiny("fill-both", &t);
	hier_access(h, 0, 0, 0);
	hier_access(h, 1, 32, 0);
	assert_false(hier_in_llc(h, 0, 0));
	assert_int_equal(hier_access(h, 0, 0, 0), HIER_L2);
	hier_destroy(h);
}

static void test_victim_llc(void **state)
{
	(void)state;
	topo t;
	hier *h = tiny("victim", &t);
	/* a miss fills the L2 only */
	assert_int_equal(hier_access(h, 0, 0, 0), HIER_MEM);
	assert_false(hier_in_llc(h, 0, 0));
	/* core 1 finds it in core 0's L2, same domain: an LLC-level hit */
	assert_int_equal(hier_access(h, 1, 0, 0), HIER_LLC);
	/* core 0 reads line 16 (same L2 set): line 0 is evicted into the LLC */
	assert_int_equal(hier_access(h, 0, 16, 0), HIER_MEM);
	assert_true(hier_in_llc(h, 0, 0));
	assert_int_equal(hier_access(h, 0, 0, 0), HIER_LLC);
	/* core 2 (other domain) finds line 16 in core 0's L2: remote */
	assert_int_equal(hier_access(h, 2, 16, 0), HIER_REMOTE);
	hier_destroy(h);
}

static void test_numa_first_touch(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	/* tiny with two nodes: core 0 touches line 0 first (node 0); lines 0
	 * and 32 share L2 set 0 and LLC set 0, so reading 32 drops 0 from
	 * every cache (inclusive). Core 2 (node 1) then reads 0 from node 0's
	 * DRAM; a line core 2 touches first is its own node's. */
	hier *h = tiny("inclusive", &t);
	assert_int_equal(hier_access(h, 0, 0, 0), HIER_MEM);
	assert_int_equal(hier_access(h, 0, 32, 0), HIER_MEM);
	assert_int_equal(hier_access(h, 2, 0, 0), HIER_MEM_REMOTE);
	assert_int_equal(hier_access(h, 2, 64, 0), HIER_MEM);
	assert_int_equal(hier_access(h, 2, 96, 0), HIER_MEM); /* drops 64 (and 0) */
	assert_int_equal(hier_access(h, 0, 64, 0), HIER_MEM_REMOTE);
	hier_destroy(h);
	/* built-ins: westmere's two sockets are two nodes with remote DRAM
	 * dearer than local and a remote-LLC hit dearer than local DRAM; NPS1
	 * EPYC is one node */
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	assert_true(t.lat_remote_mem > t.lat_mem && t.lat_remote > t.lat_mem);
	assert_int_equal(t.llc_policy, TOPO_LLC_INCLUSIVE);
	assert_int_equal(topo_builtin("epyc-8ccx", &t, &eb), 0);
	assert_int_equal(t.llc_policy, TOPO_LLC_VICTIM);
	assert_int_equal(t.lat_remote_mem, t.lat_mem);
}

static void test_remote_hit_and_invalidate(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	hier *h = hier_create(&t, 1);
	/* core 0 (LLC 0) reads line 100; core 6 (LLC 1) then hits remotely */
	assert_int_equal(hier_access(h, 0, 100, 0), HIER_MEM);
	assert_int_equal(hier_access(h, 6, 100, 0), HIER_REMOTE);
	assert_int_equal(hier_access(h, 7, 100, 0), HIER_LLC);
	/* core 6 writes: LLC 0 loses the line; core 1 must go remote */
	assert_int_equal(hier_access(h, 6, 100, 1), HIER_L2);
	assert_int_equal(hier_in_llc(h, 0, 100), 0);
	assert_int_equal(hier_access(h, 1, 100, 0), HIER_REMOTE);
	assert_null(hier_create(&t, 3)); /* 3 does not divide 512 sets */
	hier_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lru_by_hand),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_hier_vs_reference),
		cmocka_unit_test(test_hier_random_topologies),
		cmocka_unit_test(test_remote_hit_and_invalidate),
		cmocka_unit_test(test_stale_l2_invalidated),
		cmocka_unit_test(test_inclusive_back_invalidation),
		cmocka_unit_test(test_victim_llc),
		cmocka_unit_test(test_numa_first_touch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
