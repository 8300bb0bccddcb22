/*
 * test_regsched_region.c — region formation on a known synthetic access
 * pattern (which vCPUs touch which pages, from which LLC), and the
 * placements built on it: region placement keeps sharers together and
 * splits sets that overflow one LLC; gather keeps VMs together.
 */
#include "vl_test.h"

#include "core/rng.h"
#include "regsched/region.h"

#define MiB_PAGES 256 /* 4 KiB pages per MiB */

static const region_info *find(region_ctx *r, uint64_t vmask)
{
	const region_info *g;
	for (unsigned i = 0; (g = region_get(r, i)); i++)
		if (g->vmask == vmask)
			return g;
	return NULL;
}

static void test_formation(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	region_ctx *r = region_create(&t, 4);
	rng g;
	rng_seed(&g, 7);
	/* vCPUs 0 and 1 share pages [0, 4 MiB) from LLC 0; vCPU 2 owns
	 * [8, 9 MiB) and runs on LLC 1; vCPU 3 owns [9, 11 MiB) on LLC 0 —
	 * adjacent to vCPU 2's, so only the signature separates them */
	for (int i = 0; i < 200000; i++) {
		unsigned v = (unsigned)rng_below(&g, 4);
		uint64_t page;
		unsigned llc = 0;
		if (v < 2) {
			page = rng_below(&g, 4 * MiB_PAGES);
		} else if (v == 2) {
			page = 8 * MiB_PAGES + rng_below(&g, MiB_PAGES);
			llc = 1;
		} else {
			page = 9 * MiB_PAGES + rng_below(&g, 2 * MiB_PAGES);
		}
		region_sample(r, v, llc, page);
	}
	unsigned n = region_form(r);
	assert_int_equal(n, 3);
	const region_info *a = find(r, 0x3), *b = find(r, 0x4), *c = find(r, 0x8);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_near(a->bytes, 4.0 * (1 << 20), 1.0);
	assert_near(b->bytes, 1.0 * (1 << 20), 1.0);
	assert_near(c->bytes, 2.0 * (1 << 20), 1.0);
	assert_int_equal(a->first_page, 0);
	assert_int_equal(b->first_page, 8 * MiB_PAGES);
	assert_int_equal(a->llc, 0);
	assert_int_equal(b->llc, 1);
	assert_int_equal(c->llc, 0);
	/* with no new samples the regions survive one epoch (the vCPU masks of
	 * the last epoch are kept) and then fade */
	assert_int_equal(region_form(r), 3);
	assert_int_equal(region_form(r), 0);
	region_destroy(r);
}

/* Formation does not depend on where pages lie: two sets of 7 MiB, each
 * shared by four vCPUs, their pages interleaved over 28 MiB of physical
 * memory (as --layout interleaved leaves them), sampled sparsely (about
 * one sample a page an epoch, split-vm's density): every region stays
 * within one set's vCPUs, and each set's size, estimated from the pages
 * seen plus Chao1's unseen ones, is within 5 % of 7 MiB while the pages
 * seen alone fall short by more than 10 %. */
static void test_formation_layout_independent(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	region_ctx *r = region_create(&t, 8);
	enum { SET = 7 * MiB_PAGES, SPAN = 28 * MiB_PAGES };
	static uint32_t frame[2 * SET];
	static uint8_t seen[SPAN];
	rng g;
	rng_seed(&g, 11);
	/* set k's page i at a random distinct frame of the span */
	static uint8_t used[SPAN];
	for (unsigned i = 0; i < 2 * SET; i++) {
		uint32_t f;
		do
			f = (uint32_t)rng_below(&g, SPAN);
		while (used[f]);
		used[f] = 1;
		frame[i] = f;
	}
	unsigned n = 0;
	for (int epoch = 0; epoch < 2; epoch++) {
		for (unsigned k = 0; k < 2 * SET; k++) {
			unsigned set = (unsigned)rng_below(&g, 2);
			unsigned v = 4 * set + (unsigned)rng_below(&g, 4);
			uint32_t f = frame[set * SET + rng_below(&g, SET)];
			seen[f] = 1;
			region_sample(r, v, set, f);
		}
		n = region_form(r);
	}
	double bytes[2] = { 0 }, seen_bytes[2] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		const region_info *ri = region_get(r, i);
		int lo = (ri->vmask & 0x0f) != 0, hi = (ri->vmask & 0xf0) != 0;
		assert_true(lo != hi); /* never both sets' vCPUs */
		bytes[hi] += ri->bytes;
	}
	for (unsigned i = 0; i < 2 * SET; i++)
		seen_bytes[i >= SET] += seen[frame[i]] ? 4096.0 : 0;
	for (int k = 0; k < 2; k++) {
		print_message("set %d: estimated %.2f MiB, seen %.2f MiB, true 7 MiB\n", k,
			      bytes[k] / (1 << 20), seen_bytes[k] / (1 << 20));
		assert_rel(bytes[k], 7.0 * (1 << 20), 0.05);
		assert_true(seen_bytes[k] < 0.9 * 7.0 * (1 << 20));
	}
	region_destroy(r);
}

static void test_place_splits_overflowing_groups(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	/* two groups of 4 vCPUs, each sharing 7 MiB: together 14 MiB > 12 MiB;
	 * four more vCPUs with 512 KiB each */
	region_info reg[6];
	memset(reg, 0, sizeof(reg));
	reg[0] = (region_info){ .vmask = 0x0f, .bytes = 7.0 * (1 << 20), .llc = -1 };
	reg[1] = (region_info){ .vmask = 0xf0, .bytes = 7.0 * (1 << 20), .llc = -1 };
	for (int i = 0; i < 4; i++)
		reg[2 + i] =
			(region_info){ .vmask = 1ull << (8 + i), .bytes = 512.0 * 1024, .llc = -1 };
	int target[12];
	/* 6 slots an LLC: the groups of 4 fit by vCPUs, so steering may try */
	assert_int_equal(place_regions(&t, 12, 0xfff, reg, 6, NULL, target), 0);
	for (int v = 1; v < 4; v++)
		assert_int_equal(target[v], target[0]);
	for (int v = 5; v < 8; v++)
		assert_int_equal(target[v], target[4]);
	assert_int_not_equal(target[0], target[4]);
	/* 6 vCPUs per LLC (12 active on 2 x 6 cores) */
	int on0 = 0;
	for (int v = 0; v < 12; v++)
		on0 += target[v] == 0;
	assert_int_equal(on0, 6);
	/* gather keeps the 8-vCPU VM on one LLC as far as slots allow */
	int vm[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 }, cur[12];
	for (int v = 0; v < 12; v++)
		cur[v] = v % 2;
	place_gather(&t, 12, 0xfff, vm, 2, cur, NULL, target);
	int vm0_on[2] = { 0, 0 };
	for (int v = 0; v < 8; v++)
		vm0_on[target[v]]++;
	assert_true(vm0_on[0] == 6 || vm0_on[1] == 6); /* all its LLC's 6 slots */
	for (int v = 9; v < 12; v++)
		assert_int_equal(target[v], target[8]);
}

/* No sharing group fits any LLC's slots: place_regions says so (the guard
 * then starts no attempt). epyc-8ccx, 16 vCPUs: 2 slots an LLC; groups of
 * 4 vCPUs do not fit, a group of 2 does; private regions are no group. */
static void test_place_reports_unfit_groups(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("epyc-8ccx", &t, &eb), 0);
	region_info reg[6];
	memset(reg, 0, sizeof(reg));
	reg[0] = (region_info){ .vmask = 0x000f, .bytes = 1 << 20, .llc = -1 };
	reg[1] = (region_info){ .vmask = 0x00f0, .bytes = 1 << 20, .llc = -1 };
	for (int i = 0; i < 4; i++)
		reg[2 + i] = (region_info){ .vmask = 1ull << (8 + i), .bytes = 1 << 19, .llc = -1 };
	int target[16];
	assert_int_equal(place_regions(&t, 16, 0xffff, reg, 6, NULL, target), 1);
	for (int v = 0; v < 16; v++) /* it still places every vCPU */
		assert_true(target[v] >= 0 && target[v] < 8);
	reg[1].vmask = 0x0030; /* one group of 2 fits an LLC's 2 slots */
	assert_int_equal(place_regions(&t, 16, 0xffff, reg, 6, NULL, target), 0);
	assert_int_equal(place_regions(&t, 16, 0xffff, reg + 2, 4, NULL, target), 0);
}

/* gather never scatters (cache-aware load balancing: a VM on its preferred
 * LLC while it fits, else on as few LLCs as possible). epyc-8ccx: 8 LLCs x
 * 2 cores, 16 vCPUs -> 2 slots an LLC. VMs of 8, 5 and 3 vCPUs, largest
 * first: 8 -> 4 LLCs (8 / 2); 5 -> 3 LLCs (rooms 2,2,2,2 left); 3 -> 2
 * LLCs (rooms 1 and 2 left: 1 + 2). Whatever LLCs they ran on before. The
 * old rule (overflow vCPUs each to the LLC with the most room) put the
 * 8-vCPU VM on up to 8 LLCs. */
static void test_gather_never_scatters(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("epyc-8ccx", &t, &eb), 0);
	int vm[16], cur[16], target[16];
	for (int v = 0; v < 16; v++)
		vm[v] = v < 8 ? 0 : v < 13 ? 1 : 2;
	rng r;
	rng_seed(&r, 7);
	for (int trial = 0; trial < 300; trial++) {
		for (int v = 0; v < 16; v++)
			cur[v] = trial == 0 ? v % 8 : (int)rng_below(&r, 9) - 1;
		place_gather(&t, 16, 0xffff, vm, 3, cur, NULL, target);
		unsigned used[3] = { 0 }, on[8] = { 0 };
		for (int v = 0; v < 16; v++) {
			assert_true(target[v] >= 0 && target[v] < 8);
			used[vm[v]] |= 1u << target[v];
			on[target[v]]++;
		}
		for (int d = 0; d < 8; d++)
			assert_true(on[d] <= 2);
		if (__builtin_popcount(used[0]) != 4 || __builtin_popcount(used[1]) != 3 ||
		    __builtin_popcount(used[2]) != 2)
			fail_msg("trial %d: LLCs used %d %d %d, want 4 3 2", trial,
				 __builtin_popcount(used[0]), __builtin_popcount(used[1]),
				 __builtin_popcount(used[2]));
	}
	/* a VM that fits goes whole to its preferred LLC: 4 vCPUs on
	 * westmere-2llc (12 active: 6 slots an LLC), most of them on LLC 1 */
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	int vm2[12] = { 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 };
	int cur2[12] = { 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	place_gather(&t, 12, 0xfff, vm2, 2, cur2, NULL, target);
	/* VM1 (8 vCPUs) first: prefers LLC 0, holds 6 there and 2 on LLC 1;
	 * then VM0 (4) prefers LLC 1, which has 4 slots left: whole */
	for (int v = 0; v < 4; v++)
		assert_int_equal(target[v], 1);
}

/* Whole or split when a sharing group fits no LLC's bytes. A tight group
 * (one region shared by all its vCPUs) goes whole to an LLC with the
 * slots: splitting it would put that region in two LLCs. Here each quad
 * shares 7 MiB among all four and 3 MiB in each pair, 13 MiB in all
 * against 12 MiB LLCs; placed vCPU by vCPU, a quad's second pair would
 * move away from the first for its 3 MiB. A group chained from three sets
 * by their common vCPUs (no set shared by all) may be split along them. */
static void test_overflowing_groups(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0); /* 2 x 12 MiB, 6 cores */
	double mib = 1 << 20;
	region_info tight[10] = {
		{ .vmask = 0x0f, .bytes = 7 * mib, .llc = -1 },
		{ .vmask = 0x03, .bytes = 3 * mib, .llc = -1 },
		{ .vmask = 0x0c, .bytes = 3 * mib, .llc = -1 },
		{ .vmask = 0xf0, .bytes = 7 * mib, .llc = -1 },
		{ .vmask = 0x30, .bytes = 3 * mib, .llc = -1 },
		{ .vmask = 0xc0, .bytes = 3 * mib, .llc = -1 },
	};
	for (unsigned v = 8; v < 12; v++)
		tight[6 + v - 8] = (region_info){ .vmask = 1ull << v, .bytes = mib / 2, .llc = -1 };
	int target[12];
	place_regions(&t, 12, 0xfff, tight, 10, NULL, target);
	for (unsigned v = 1; v < 4; v++) {
		assert_int_equal(target[v], target[0]);
		assert_int_equal(target[4 + v], target[4]);
	}
	assert_int_not_equal(target[0], target[4]);

	region_info chain[7] = {
		{ .vmask = 0x3, .bytes = 7 * mib, .llc = -1 },
		{ .vmask = 0x6, .bytes = 7 * mib, .llc = -1 },
		{ .vmask = 0xc, .bytes = 7 * mib, .llc = -1 },
	};
	for (unsigned v = 4; v < 8; v++)
		chain[3 + v - 4] = (region_info){ .vmask = 1ull << v, .bytes = mib / 2, .llc = -1 };
	place_regions(&t, 8, 0xff, chain, 7, NULL, target);
	int spans = 0;
	for (unsigned v = 1; v < 4; v++)
		spans |= target[v] != target[0];
	assert_true(spans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflowing_groups),
		cmocka_unit_test(test_formation),
		cmocka_unit_test(test_formation_layout_independent),
		cmocka_unit_test(test_place_reports_unfit_groups),
		cmocka_unit_test(test_gather_never_scatters),
		cmocka_unit_test(test_place_splits_overflowing_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
