/*
 * test_regsched_sim.c — the headline claims on the favourable mix
 * (split-vm on westmere-2llc, 2 s, seed 1: what `regsched compare` runs):
 * region scheduling is more than 5 % faster than credit with fewer LLC
 * misses, and keeps each VM's CPU share within 5 % of its weight; plus
 * reproducibility (same seed, same result).
 */
#include "vl_test.h"
#include "test_regsched_run.h"

#include "regsched/sim.h"

static void test_favourable_mix(void **state)
{
	(void)state;
	rs_result c, g;
	rs_test_run("split-vm", "westmere-2llc", RS_CREDIT, 2.0, 1, &c);
	rs_test_run("split-vm", "westmere-2llc", RS_REGION, 2.0, 1, &g);
	print_message("credit %.4g instr/s miss %.4f; region %.4g miss %.4f; fairness %.2f%%\n",
		      c.throughput, c.llc_miss_rate, g.throughput, g.llc_miss_rate,
		      g.fairness_error_pct);
	assert_true(g.throughput > 1.05 * c.throughput);
	assert_true(g.llc_miss_rate < c.llc_miss_rate);
	assert_true(g.llc_misses < c.llc_misses);
	assert_true(g.fairness_error_pct < 5.0);
	assert_true(c.fairness_error_pct < 5.0);
	/* the mechanism was at work: regions formed, fewer cross-LLC moves */
	assert_true(g.regions >= 3);
	assert_true(g.samples > 0);
	assert_true(g.cross_llc_migrations < c.cross_llc_migrations);
	/* shares sum to 1 and the expected shares are w*n/sum(w*n) */
	double sum = 0;
	for (unsigned m = 0; m < g.nvm; m++)
		sum += g.share[m];
	assert_near(sum, 1.0, 1e-9);
	assert_near(g.expected_share[0], 0.5, 1e-12); /* app: 8 of 16 vCPUs */
}

static void test_same_seed_same_result(void **state)
{
	(void)state;
	rs_result a, b, c;
	rs_test_run("split-vm", "westmere-2llc", RS_REGION, 0.2, 5, &a);
	rs_test_run("split-vm", "westmere-2llc", RS_REGION, 0.2, 5, &b);
	rs_test_run("split-vm", "westmere-2llc", RS_REGION, 0.2, 6, &c);
	assert_true(a.instructions == b.instructions);
	assert_true(a.llc_misses == b.llc_misses);
	assert_int_equal(a.migrations, b.migrations);
	assert_true(a.instructions != c.instructions);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_favourable_mix),
		cmocka_unit_test(test_same_seed_same_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
