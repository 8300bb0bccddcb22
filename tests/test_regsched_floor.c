/*
 * test_regsched_floor.c — the floors `bench llc` times (llcfloor.c): their
 * hit counts on tiny hand-checked traces (exact LRU, private L2s, one LLC
 * per domain, non-inclusive), against a plain timestamp LRU on random
 * traces (power-of-two and fastmod LLC sets), bench llc's floors on its
 * trace (same L2 hits, every access counted once), bad geometry refused;
 * the coherent floor access by access against hier_ref and hier.c on
 * small inclusive machines (random traces with writes), and its counts
 * equal to the model's on bench llc's trace. Counts only, never timing.
 */
#include "vl_test.h"

#include <string.h>

#include "core/rng.h"
#include "regsched/llcbench.h"
#include "regsched/llcfloor.h"
#include "regsched/topo.h"

/* Runs lines[0..n) by core and returns the counts of this run alone. */
static void run(llc_floor *f, unsigned core, const uint32_t *lines, size_t n, int l2_only,
		uint64_t c[LLC_FLOOR_NLEVELS])
{
	memset(c, 0, LLC_FLOOR_NLEVELS * sizeof(*c));
	llc_floor_run(f, core, lines, n, l2_only, c);
}

static void expect(llc_floor *f, unsigned core, uint32_t line, int l2_only, int level)
{
	uint64_t c[LLC_FLOOR_NLEVELS];
	run(f, core, &line, 1, l2_only, c);
	for (int l = 0; l < LLC_FLOOR_NLEVELS; l++)
		assert_int_equal(c[l], l == level);
}

static void test_l2_lru_by_hand(void **state)
{
	(void)state;
	int cl[2] = { 0, 0 };
	llc_floor *f = llc_floor_create(2, cl, 1, 1, 1); /* one 8-way L2 set */
	assert_non_null(f);
	/* fill 0..7: MRU..LRU 7 6 5 4 3 2 1 0 */
	for (uint32_t l = 0; l < 8; l++)
		expect(f, 0, l, 1, LLC_FLOOR_MISS);
	expect(f, 0, 0, 1, LLC_FLOOR_L2);   /* 0 7 6 5 4 3 2 1 */
	expect(f, 0, 8, 1, LLC_FLOOR_MISS); /* evicts 1 (FIFO would evict 0) */
	expect(f, 0, 1, 1, LLC_FLOOR_MISS); /* evicts 2: 1 8 0 7 6 5 4 3 */
	expect(f, 0, 0, 1, LLC_FLOOR_L2);   /* 0 1 8 7 6 5 4 3 */
	expect(f, 0, 2, 1, LLC_FLOOR_MISS); /* evicts 3 */
	expect(f, 0, 3, 1, LLC_FLOOR_MISS); /* evicts 4: 3 2 0 1 8 7 6 5 */
	expect(f, 0, 5, 1, LLC_FLOOR_L2);   /* the LRU line is still there */
	expect(f, 0, 4, 1, LLC_FLOOR_MISS);
	/* private: core 1's L2 is empty */
	expect(f, 1, 0, 1, LLC_FLOOR_MISS);
	/* reset empties everything */
	llc_floor_reset(f);
	expect(f, 0, 5, 1, LLC_FLOOR_MISS);
	llc_floor_destroy(f);
}

static void test_two_level_by_hand(void **state)
{
	(void)state;
	int cl[3] = { 0, 0, 1 }; /* cores 0, 1 share LLC 0; core 2 has LLC 1 */
	llc_floor *f = llc_floor_create(3, cl, 2, 1, 1);
	assert_non_null(f);
	uint32_t seq[17];
	for (uint32_t l = 0; l < 17; l++)
		seq[l] = l;
	uint64_t c[LLC_FLOOR_NLEVELS];
	/* 17 lines through a 16-way LLC: all miss, 0 is evicted (LLC 16..1) */
	run(f, 0, seq, 17, 0, c);
	assert_int_equal(c[LLC_FLOOR_MISS], 17);
	expect(f, 0, 1, 0, LLC_FLOOR_LLC);  /* not in the L2 (16..9): LLC 1 16..2 */
	expect(f, 0, 0, 0, LLC_FLOOR_MISS); /* evicts 2: LLC 0 1 16..3 */
	expect(f, 1, 2, 0, LLC_FLOOR_MISS); /* evicts 3: LLC 2 0 1 16..4 */
	expect(f, 1, 16, 0, LLC_FLOOR_LLC); /* shared within the domain */
	expect(f, 1, 16, 0, LLC_FLOOR_L2);
	expect(f, 1, 4, 0, LLC_FLOOR_LLC); /* the LRU line is still there */
	expect(f, 0, 3, 0, LLC_FLOOR_MISS);
	expect(f, 2, 16, 0, LLC_FLOOR_MISS); /* the other domain's LLC */
	/* non-inclusive: core 0 keeps 100 in its L2 after LLC 0 evicted it */
	llc_floor_reset(f);
	expect(f, 0, 100, 0, LLC_FLOOR_MISS);
	for (uint32_t l = 0; l < 16; l++)
		expect(f, 1, 200 + l, 0, LLC_FLOOR_MISS);
	expect(f, 1, 100, 0, LLC_FLOOR_MISS); /* gone from the LLC */
	expect(f, 0, 100, 0, LLC_FLOOR_L2);
	llc_floor_destroy(f);
}

static void test_fastmod_sets_by_hand(void **state)
{
	(void)state;
	int cl[1] = { 0 };
	/* 2 L2 sets (line & 1), 3 LLC sets (line mod 3) */
	llc_floor *f = llc_floor_create(1, cl, 1, 2, 3);
	assert_non_null(f);
	assert_int_equal(llc_floor_line_limit(f), 3 * 255);
	uint64_t c[LLC_FLOOR_NLEVELS];
	uint32_t seq[17];
	for (uint32_t k = 0; k < 17; k++)
		seq[k] = 3 * k; /* LLC set 0; L2 sets alternate */
	run(f, 0, seq, 17, 0, c);
	assert_int_equal(c[LLC_FLOOR_MISS], 17); /* LLC set 0: 0 evicted */
	/* line 1: LLC set 1, L2 set 1 (3 9 15 21 27 33 39 45), evicts 3 there */
	expect(f, 0, 1, 0, LLC_FLOOR_MISS);
	expect(f, 0, 3, 0, LLC_FLOOR_LLC);
	expect(f, 0, 0, 0, LLC_FLOOR_MISS); /* L2 set 0 held 9 even lines */
	expect(f, 0, 48, 0, LLC_FLOOR_L2);
	/* tags near the limit are told apart: 762 and 762 - 3 * 128 */
	expect(f, 0, 762, 0, LLC_FLOOR_MISS);
	expect(f, 0, 762 - 384, 0, LLC_FLOOR_MISS);
	expect(f, 0, 762, 0, LLC_FLOOR_L2);
	llc_floor_destroy(f);
}

/* A plain LRU: per way a tag and a last-use time. */
typedef struct plain {
	unsigned sets, ways;
	uint32_t tag[16][16];
	uint64_t used[16][16];
	uint64_t now;
} plain;

static int plain_access(plain *p, uint32_t line)
{
	unsigned s = line % p->sets, v = 0;
	uint32_t t = line / p->sets + 1; /* 0: empty */
	p->now++;
	for (unsigned w = 0; w < p->ways; w++) {
		if (p->tag[s][w] == t) {
			p->used[s][w] = p->now;
			return 1;
		}
		if (p->used[s][w] < p->used[s][v])
			v = w;
	}
	p->tag[s][v] = t;
	p->used[s][v] = p->now;
	return 0;
}

/* The two floors (separate instances) against plain LRUs on one random
 * trace in turns of 32 accesses by random cores. */
static void random_vs_plain(unsigned llc_sets, uint64_t seed)
{
	enum { CORES = 4, N = 60000, TURN = 32 };
	int cl[CORES] = { 0, 0, 1, 1 };
	llc_floor *f = llc_floor_create(CORES, cl, 2, 4, llc_sets);
	llc_floor *g = llc_floor_create(CORES, cl, 2, 4, llc_sets); /* L2 only */
	assert_non_null(f);
	assert_non_null(g);
	static plain l2[CORES], l3[2];
	for (unsigned i = 0; i < CORES; i++)
		l2[i] = (plain){ .sets = 4, .ways = LLC_FLOOR_L2_WAYS };
	for (unsigned d = 0; d < 2; d++)
		l3[d] = (plain){ .sets = llc_sets, .ways = LLC_FLOOR_LLC_WAYS };
	rng r;
	rng_seed(&r, seed);
	uint64_t got[LLC_FLOOR_NLEVELS] = { 0 }, got2[LLC_FLOOR_NLEVELS] = { 0 };
	uint64_t want[LLC_FLOOR_NLEVELS] = { 0 };
	uint32_t turn[TURN];
	for (unsigned i = 0; i < N / TURN; i++) {
		unsigned core = (unsigned)rng_below(&r, CORES);
		/* a few hot lines and a wider range, all below the tag limit */
		for (unsigned k = 0; k < TURN; k++)
			turn[k] = (uint32_t)rng_below(&r, rng_below(&r, 2) ? 24 : llc_sets * 40);
		llc_floor_run(f, core, turn, TURN, 0, got);
		llc_floor_run(g, core, turn, TURN, 1, got2);
		for (unsigned k = 0; k < TURN; k++) {
			if (plain_access(&l2[core], turn[k]))
				want[LLC_FLOOR_L2]++;
			else
				want[plain_access(&l3[cl[core]], turn[k]) ? LLC_FLOOR_LLC
									  : LLC_FLOOR_MISS]++;
		}
	}
	for (int l = 0; l < LLC_FLOOR_NLEVELS; l++)
		assert_int_equal(got[l], want[l]);
	assert_int_equal(got2[LLC_FLOOR_L2], want[LLC_FLOOR_L2]);
	assert_int_equal(got2[LLC_FLOOR_LLC], 0);
	assert_int_equal(got2[LLC_FLOOR_MISS], N / TURN * TURN - want[LLC_FLOOR_L2]);
	/* the trace exercises every outcome */
	assert_true(want[LLC_FLOOR_L2] > 1000 && want[LLC_FLOOR_LLC] > 1000 &&
		    want[LLC_FLOOR_MISS] > 1000);
	llc_floor_destroy(f);
	llc_floor_destroy(g);
}

static void test_random_vs_plain_lru(void **state)
{
	(void)state;
	random_vs_plain(8, 1);  /* power-of-two LLC sets: a mask */
	random_vs_plain(12, 2); /* fastmod */
	random_vs_plain(3, 3);
}

/* bench llc's floors on its own trace: both see the same L2 hits, every
 * access is counted once, and the model's counts still agree with the
 * reference's. */
static void test_bench_floors(void **state)
{
	(void)state;
	llc_bench_result r;
	assert_int_equal(llc_bench_run(1 << 16, 1, 7, &r), 0);
	const llc_bench_floor *a = &r.floor_l2_only, *b = &r.floor_two_level;
	assert_true(r.counts_agree);
	assert_int_equal(a->count[LLC_FLOOR_L2], b->count[LLC_FLOOR_L2]);
	assert_int_equal(a->count[LLC_FLOOR_LLC], 0);
	assert_int_equal(a->count[LLC_FLOOR_L2] + a->count[LLC_FLOOR_MISS], r.accesses);
	assert_int_equal(b->count[LLC_FLOOR_L2] + b->count[LLC_FLOOR_LLC] +
				 b->count[LLC_FLOOR_MISS],
			 r.accesses);
	assert_true(b->count[LLC_FLOOR_LLC] > 0 && b->count[LLC_FLOOR_MISS] > 0);
	assert_true(a->accesses_per_sec > 0 && b->accesses_per_cpu_sec > 0);
}

/* An inclusive machine small enough that a short trace fills every
 * cache: 6 cores, L2s of 4 sets, three LLCs of llc_kib KiB (16 ways) of
 * 3, 2 and 1 cores, two nodes (LLCs 1 and 2 share node 1). */
static void small_inclusive(unsigned llc_kib, topo *t)
{
	char txt[512];
	vl_errbuf eb;
	snprintf(txt, sizeof(txt),
		 "name small\nfreq_ghz 3\nl2 size=2K ways=8 line=64\n"
		 "llc 0 size=%uK ways=16 line=64 cores=0-2\nllc 1 size=%uK ways=16 line=64 "
		 "cores=3-4\nllc 2 size=%uK ways=16 line=64 cores=5\n"
		 "latency l2=10 llc=40 remote_llc=280 mem=200 remote_mem=340\n"
		 "llc_policy inclusive\nnode 0 cores=0-2\nnode 1 cores=3-5\n",
		 llc_kib, llc_kib, llc_kib);
	int rc = topo_parse(txt, "small", t, &eb);
	if (rc)
		fprintf(stderr, "%s\n", eb.msg);
	assert_int_equal(rc, 0);
}

/* The coherent floor against hier_ref and hier.c, access by access, on a
 * random trace: turns of 1..32 accesses by random cores, 30 % writes,
 * a few hot lines (shared and written: invalidations) and a range that
 * overflows the LLCs (evictions: back-invalidation). */
static void coherent_vs_model(unsigned llc_kib, uint64_t seed)
{
	topo t;
	small_inclusive(llc_kib, &t);
	uint32_t s3 = llc_kib * 1024 / (16 * 64);
	llc_floor *f = llc_floor_create(t.ncores, t.core_llc, t.nllc, 4, s3);
	hier_ref *ref = hier_ref_create(&t, 1);
	hier *h = hier_create(&t, 1);
	assert_non_null(f);
	assert_non_null(ref);
	assert_non_null(h);
	assert_int_equal(llc_floor_set_nodes(f, t.core_node), 0);
	rng r;
	rng_seed(&r, seed);
	uint64_t seen[HIER_NLEVELS] = { 0 };
	for (unsigned turn = 0; turn < 3000; turn++) {
		unsigned core = (unsigned)rng_below(&r, t.ncores),
			 k = 1 + (unsigned)rng_below(&r, 32);
		for (unsigned j = 0; j < k; j++) {
			uint32_t line = (uint32_t)rng_below(&r, rng_below(&r, 2) ? 24 : s3 * 60);
			uint64_t wm = rng_below(&r, 10) < 3, c[HIER_NLEVELS] = { 0 };
			int want = hier_ref_access(ref, core, line, (int)wm);
			assert_int_equal(hier_access(h, core, line, (int)wm), want);
			llc_floor_run_coherent(f, core, &line, &wm, 1, c);
			for (int l = 0; l < HIER_NLEVELS; l++)
				assert_int_equal(c[l], l == want);
			seen[want]++;
		}
	}
	/* every outcome happened often */
	for (int l = 0; l < HIER_NLEVELS; l++)
		assert_true(seen[l] > 500);
	/* and the caches hold the same lines */
	for (uint32_t line = 0; line < s3 * 60; line++)
		for (unsigned c = 0; c < t.ncores; c++)
			assert_int_equal(hier_in_l2(h, c, line), hier_ref_in_l2(ref, c, line));
	llc_floor_destroy(f);
	hier_ref_destroy(ref);
	hier_destroy(h);
}

static void test_coherent_vs_model(void **state)
{
	(void)state;
	coherent_vs_model(8, 11);  /* 8 LLC sets: a mask */
	coherent_vs_model(12, 12); /* 12 sets: fastmod */
}

/* bench llc's coherent floor on its own trace: the model's counts. */
static void test_bench_coherent_equals_model(void **state)
{
	(void)state;
	llc_bench_result r;
	assert_int_equal(llc_bench_run(1 << 20, 1, 5, &r), 0);
	assert_true(r.counts_agree);
	assert_true(r.counts_equal_model);
	for (int l = 0; l < HIER_NLEVELS; l++)
		assert_int_equal(r.coherent_count[l], r.count[l]);
	assert_true(r.count[HIER_REMOTE] > 0 && r.count[HIER_MEM_REMOTE] > 0);
	assert_true(r.coherent_per_cpu_sec > 0);
}

static void test_bad_geometry(void **state)
{
	(void)state;
	int cl[2] = { 0, 1 };
	assert_null(llc_floor_create(2, cl, 2, 3, 4)); /* L2 sets not a power of two */
	assert_null(llc_floor_create(2, cl, 1, 4, 4)); /* core 1's LLC out of range */
	assert_null(llc_floor_create(0, cl, 2, 4, 4));
	assert_null(llc_floor_create(2, cl, 2, 4, 0));
	llc_floor *f = llc_floor_create(2, cl, 2, 4, 4);
	assert_non_null(f);
	int bad[2] = { 0, -1 }, big[2] = { 255, 0 };
	assert_int_equal(llc_floor_set_nodes(f, bad), -1);
	assert_int_equal(llc_floor_set_nodes(f, big), -1);
	llc_floor_destroy(f);
	llc_floor_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l2_lru_by_hand),
		cmocka_unit_test(test_two_level_by_hand),
		cmocka_unit_test(test_fastmod_sets_by_hand),
		cmocka_unit_test(test_random_vs_plain_lru),
		cmocka_unit_test(test_bench_floors),
		cmocka_unit_test(test_coherent_vs_model),
		cmocka_unit_test(test_bench_coherent_equals_model),
		cmocka_unit_test(test_bad_geometry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
