/*
 * test_dejavu_bench.c — the statistics under `virtlab bench proxy`'s
 * latency figures (live/bench_tail.h): pooled percentiles, the paired
 * cluster bootstrap and its intervals, and their error paths.
 */
#include "vl_test.h"

#include <math.h>

#include "core/error.h"
#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/live/bench_tail.h"

/* The pooled percentile is numpy's default over all samples of a subject,
 * whatever the rounds they came in (selection, not sorting, underneath:
 * checked against the sorting reference, ties included). */
static void test_pooled_percentile(void **state)
{
	(void)state;
	rng g;
	rng_seed(&g, 7);
	const int R = 9;
	btail *t = btail_create(2, R);
	assert_non_null(t);
	size_t n = 0;
	double *all = malloc(20000 * sizeof(*all));
	assert_non_null(all);
	for (int i = 0; i < 20000; i++) {
		/* subject 0: lognormal; subject 1: a few values, many ties */
		double x = rng_lognormal(&g, -7.5, 0.6);
		all[n++] = x;
		assert_int_equal(btail_add(t, 0, (int)rng_below(&g, R), x), 0);
		assert_int_equal(btail_add(t, 1, i % R, (double)(i % 7)), 0);
	}
	assert_int_equal(btail_count(t, 0), 20000);
	for (double p = 0; p <= 100; p += 12.5)
		assert_near(btail_percentile(t, 0, p), stat_percentile_exact(all, n, p), 1e-15);
	assert_near(btail_percentile(t, 0, 99), stat_percentile_exact(all, n, 99), 1e-15);
	for (int i = 0; i < 20000; i++)
		all[i] = (double)(i % 7);
	assert_near(btail_percentile(t, 1, 99), stat_percentile_exact(all, n, 99), 0);
	assert_near(btail_percentile(t, 1, 50), stat_percentile_exact(all, n, 50), 0);
	free(all);
	btail_destroy(t);
}

/* Pairing: subject 1 is subject 0 shifted by 100 us, sample by sample, so
 * every replicate (the same rounds drawn for both) differs by exactly that;
 * and the same seed gives the same intervals. */
static void test_paired_bootstrap(void **state)
{
	(void)state;
	rng g;
	rng_seed(&g, 3);
	btail *t = btail_create(2, 20);
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < 500; i++) {
			double x = rng_exp(&g, 300e-6) + r * 10e-6; /* a drift over rounds */
			btail_add(t, 0, r, x);
			btail_add(t, 1, r, x + 100e-6);
		}
	assert_int_equal(btail_bootstrap(t, 99, 300, 1), 0);
	double lo, hi, lo2, hi2;
	assert_int_equal(btail_diff_ci95(t, 1, 0, &lo, &hi), 0);
	assert_near(lo, 100e-6, 1e-12);
	assert_near(hi, 100e-6, 1e-12);
	/* the per-round view: every round differs by exactly 100 us too */
	double med;
	assert_int_equal(btail_round_median(t, 1, 0, 99, &lo, &med, &hi), 0);
	assert_near(med, 100e-6, 1e-12);
	assert_near(lo, 100e-6, 1e-12);
	assert_near(hi, 100e-6, 1e-12);
	/* one subject alone: an interval around its p99 */
	assert_int_equal(btail_diff_ci95(t, 0, -1, &lo, &hi), 0);
	double p99 = btail_percentile(t, 0, 99);
	assert_true(lo < p99 && p99 < hi);
	assert_int_equal(btail_bootstrap(t, 99, 300, 1), 0);
	assert_int_equal(btail_diff_ci95(t, 0, -1, &lo2, &hi2), 0);
	assert_near(lo2, lo, 0);
	assert_near(hi2, hi, 0);
	btail_destroy(t);
}

/* Coverage: two subjects drawn alike (independently), 40 experiments of 20
 * rounds of 500 samples (the bench's shape at half its samples); the 95 %
 * interval of the p99 difference should hold 0 in about 38 of them. Fewer
 * than 34 fails (P ~ 0.5 % at a true 95 %; 200 such experiments held 0 in
 * 93 % at 10 rounds of 400, 100 in 96 % at 20 of 1 000). Also, the interval
 * narrows with more samples per subject (about as 1/sqrt(n)). */
static void test_coverage_and_width(void **state)
{
	(void)state;
	rng g;
	rng_seed(&g, 11);
	int held = 0;
	double width[2] = { 0, 0 };
	for (int e = 0; e < 40; e++)
		for (int big = 0; big < 2; big++) {
			if (big && e >= 10)
				continue;
			int per = big ? 2000 : 500;
			btail *t = btail_create(2, 20);
			for (int s = 0; s < 2; s++)
				for (int r = 0; r < 20; r++)
					for (int i = 0; i < per; i++)
						btail_add(t, s, r, rng_lognormal(&g, -7.5, 0.6));
			double lo, hi;
			assert_int_equal(btail_bootstrap(t, 99, 200, (uint64_t)e), 0);
			assert_int_equal(btail_diff_ci95(t, 0, 1, &lo, &hi), 0);
			if (!big)
				held += lo <= 0 && 0 <= hi;
			if (e < 10)
				width[big] += hi - lo;
			btail_destroy(t);
		}
	print_message("interval held 0 in %d of 40; mean width %.1f us (10 000 a subject), "
		      "%.1f us (40 000)\n",
		      held, width[0] / 10 * 1e6, width[1] / 10 * 1e6);
	assert_true(held >= 34);
	assert_true(width[1] < 0.75 * width[0]); /* 1/sqrt(4) = 0.5 expected */
}

static void test_errors(void **state)
{
	(void)state;
	assert_null(btail_create(0, 3));
	assert_null(btail_create(2, 0));
	btail_destroy(NULL);
	btail *t = btail_create(2, 3);
	assert_int_equal(btail_add(t, 2, 0, 1), VL_EINVAL);
	assert_int_equal(btail_add(t, 0, 3, 1), VL_EINVAL);
	assert_int_equal(btail_add(t, -1, 0, 1), VL_EINVAL);
	assert_int_equal(btail_add(t, 0, 0, NAN), VL_EINVAL);
	assert_int_equal(btail_add(t, 0, 0, INFINITY), VL_EINVAL);
	assert_int_equal(btail_count(t, 0), 0);
	assert_true(isnan(btail_percentile(t, 0, 99)));
	double lo, hi;
	assert_int_equal(btail_diff_ci95(t, 0, 1, &lo, &hi), VL_EINVAL); /* no bootstrap */
	assert_true(isnan(lo) && isnan(hi));
	assert_int_equal(btail_bootstrap(t, 99, 0, 1), VL_EINVAL);
	assert_int_equal(btail_bootstrap(t, 101, 10, 1), VL_EINVAL);
	btail_add(t, 0, 0, 1e-3);
	assert_true(isnan(btail_percentile(t, 0, -1)));
	/* subject 1 has nothing: its replicates are NAN, so no interval */
	assert_int_equal(btail_bootstrap(t, 99, 10, 1), 0);
	assert_int_equal(btail_diff_ci95(t, 0, 1, &lo, &hi), VL_EINVAL);
	assert_int_equal(btail_diff_ci95(t, 5, -1, &lo, &hi), VL_EINVAL);
	assert_int_equal(btail_write_csv(t, "/nonexistent/dir/x.csv"), VL_EIO);
	/* 3 rounds: too few for a distribution-free interval of the median */
	double med;
	btail_add(t, 1, 0, 2e-3);
	assert_int_equal(btail_round_median(t, 0, 1, 99, &lo, &med, &hi), VL_EINVAL);
	assert_true(isnan(lo) && isnan(med) && isnan(hi));
	assert_int_equal(btail_round_median(t, 0, 1, 120, &lo, &med, &hi), VL_EINVAL);
	btail_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pooled_percentile),
		cmocka_unit_test(test_paired_bootstrap),
		cmocka_unit_test(test_coverage_and_width),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
