/*
 * test_regsched_start.c — vCPUs come up spread over the first
 * start_spread_ms of a run (RS_START_SPREAD_MS, sim.h): on a machine with
 * a pCPU for every vCPU a late start costs exactly the run time missed;
 * the spread is seeded (same seed, same run; another seed, other start
 * times) and 0 starts every vCPU in the first step; a spread longer than
 * the run is refused with its values named.
 */
#include "vl_test.h"

#include <math.h>

#include "regsched/sim.h"

/* split-vm's 16 vCPUs on epyc-8ccx's 16 pCPUs: no vCPU waits for a pCPU,
 * so instructions follow run time. Returns rs_run's status. */
static int try_run(double spread_ms, uint64_t seed, double dur, int sched, rs_result *r,
		   vl_errbuf *eb)
{
	topo t;
	workload w;
	rs_params p;
	assert_int_equal(workload_builtin("split-vm", &w, eb), 0);
	assert_int_equal(topo_builtin("epyc-8ccx", &t, eb), 0);
	rs_params_default(&p);
	p.duration_s = dur;
	p.seed = seed;
	p.start_spread_ms = spread_ms;
	int err = rs_run(&t, &w, sched, &p, r, eb);
	workload_free(&w);
	return err;
}

static double run_total(double spread_ms, uint64_t seed, double dur)
{
	rs_result r;
	vl_errbuf eb;
	if (try_run(spread_ms, seed, dur, RS_CREDIT, &r, &eb))
		fail_msg("%s", eb.msg);
	return r.instructions;
}

static void test_default_is_one_tick(void **state)
{
	(void)state;
	rs_params p;
	rs_params_default(&p);
	assert_true(p.start_spread_ms < 0);
	assert_true(RS_START_SPREAD_MS == 10.0);
	/* the default on a run shorter than a tick: the whole run, not an
	 * error (5 ms, so every vCPU starts within it) */
	double dflt = run_total(-1, 1, 0.005), all = run_total(0, 1, 0.005);
	assert_true(dflt > 0 && dflt < all);
}

/* Uniform starts over 10 ms cost on average 5 ms of a 20 ms run: a
 * quarter. The mean of 16 uniform delays has a standard deviation of
 * 10 / sqrt(12) / 4 = 0.72 ms, so 0.75 +- 0.15 is more than 4 of them
 * (the web VM's I/O sleeps and cold caches move both runs alike). */
static void test_late_start_costs_its_run_time(void **state)
{
	(void)state;
	double all = run_total(0, 1, 0.02), spread = run_total(10, 1, 0.02);
	double ratio = spread / all;
	if (ratio < 0.60 || ratio > 0.90)
		fail_msg("spread/simultaneous instructions %.3f, want 0.75 +- 0.15", ratio);
}

static void test_spread_is_seeded(void **state)
{
	(void)state;
	double a = run_total(10, 3, 0.02), b = run_total(10, 3, 0.02), c = run_total(10, 4, 0.02);
	assert_true(a == b);
	assert_true(a != c);
}

static void test_spread_longer_than_run_refused(void **state)
{
	(void)state;
	rs_result r;
	vl_errbuf eb;
	assert_int_equal(try_run(10, 1, 0.005, RS_REGION, &r, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "--start-spread 10 ms"));
	assert_non_null(strstr(eb.msg, "(5 ms)"));
	assert_int_equal(try_run(NAN, 1, 0.005, RS_REGION, &r, &eb), VL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_one_tick),
		cmocka_unit_test(test_late_start_costs_its_run_time),
		cmocka_unit_test(test_spread_is_seeded),
		cmocka_unit_test(test_spread_longer_than_run_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
