/*
 * test_regsched_guard.c — region scheduling that does no harm: the guard's
 * rule (guard.h) on hand-made epoch sequences, and the fallback engaging
 * on the phase-swap workload (sharing groups re-forming every 20 ms) within
 * 200 ms of simulated time, without losing more than 2 % to credit.
 */
#include "vl_test.h"
#include "test_regsched_run.h"

#include "regsched/guard.h"
#include "regsched/sim.h"

#define E 50000000LL /* a 50 ms epoch */

static void test_rule_by_hand(void **state)
{
	(void)state;
	guard g;
	guard_init(&g);
	/* epoch 1 (plain credit): 900 of 1000 samples local: baseline 0.9 */
	assert_int_equal(guard_epoch(&g, 1 * E, 1000, 900, 0), GUARD_STEER);
	assert_near(g.base_loc, 0.9, 1e-12);
	/* steering at 0.905 (< 0.9 + GUARD_MIN_GAIN): one strike, then two */
	assert_int_equal(guard_epoch(&g, 2 * E, 1000, 905, 0), GUARD_STEER);
	assert_int_equal(guard_epoch(&g, 3 * E, 1000, 905, 0), GUARD_FALLBACK);
	assert_int_equal(g.first_fallback_ns, 3 * E);
	assert_int_equal(g.until_ns, 3 * E + GUARD_BACKOFF_MS * 1000000LL);
	/* fallen back until the back-off ends; its samples refresh the
	 * baseline: 8 epochs of 50 samples, 40 local (0.8) */
	for (int k = 4; k < 11; k++)
		assert_int_equal(guard_epoch(&g, k * E, 50, 40, 0), GUARD_FALLBACK);
	assert_int_equal(guard_epoch(&g, 11 * E, 50, 40, 0), GUARD_BASELINE);
	/* one full-rate epoch at 0.8: baseline = (8 * 40 + 800) / (8 * 50 + 1000) */
	assert_int_equal(guard_epoch(&g, 12 * E, 1000, 800, 0), GUARD_STEER);
	assert_near(g.base_loc, 0.8, 1e-12);
	/* now steering helps (0.95): no strikes; a failing epoch between
	 * passing ones is forgiven */
	assert_int_equal(guard_epoch(&g, 13 * E, 1000, 950, 0), GUARD_STEER);
	assert_int_equal(guard_epoch(&g, 14 * E, 1000, 700, 0), GUARD_STEER);
	assert_int_equal(guard_epoch(&g, 15 * E, 1000, 950, 0), GUARD_STEER);
	/* unstable sharing: churn above GUARD_MAX_CHURN twice falls back even
	 * with good locality; the back-off doubled */
	assert_int_equal(guard_epoch(&g, 16 * E, 1000, 950, 0.5), GUARD_STEER);
	assert_int_equal(guard_epoch(&g, 17 * E, 1000, 950, 0.5), GUARD_FALLBACK);
	assert_int_equal(g.until_ns, 17 * E + 2 * GUARD_BACKOFF_MS * 1000000LL);
	assert_int_equal(g.fallbacks, 2);
	/* too few samples: not judged */
	guard_init(&g);
	assert_int_equal(guard_epoch(&g, E, GUARD_MIN_SAMPLES - 1, 0, 0), GUARD_BASELINE);
}

static void test_fallback_on_phase_swap(void **state)
{
	(void)state;
	rs_result c, g;
	/* eight LLCs (EPYC), where packing the merged group costs most */
	rs_test_run("phase-swap", "epyc-8ccx", RS_CREDIT, 0.5, 1, &c);
	rs_test_run("phase-swap", "epyc-8ccx", RS_REGION, 0.5, 1, &g);
	print_message("phase-swap/epyc-8ccx 0.5 s: region/credit %.4f, first fallback %.0f ms, "
		      "steering %.0f %% of the run\n",
		      g.throughput / c.throughput, g.first_fallback_ms, 100 * g.steer_frac);
	assert_true(g.fallbacks >= 1);
	assert_true(g.first_fallback_ms > 0 && g.first_fallback_ms <= 200);
	assert_true(g.steer_frac < 0.5);
	assert_true(g.throughput / c.throughput > 0.98);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_by_hand),
		cmocka_unit_test(test_fallback_on_phase_swap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
