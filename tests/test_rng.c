/*
 * test_rng.c — the generator is reproducible, and every distribution has the
 * moments (and, where cheap to check, the CDF) theory says, within
 * tolerances sized at about five standard errors for the fixed seeds used.
 */
#include "vl_test.h"

#include <math.h>

#include "core/error.h"
#include "core/rng.h"
#include "core/stats.h"

#define N 1000000

static void test_reproducible(void **state)
{
	(void)state;
	rng a, b, c;
	rng_seed(&a, 42);
	rng_seed(&b, 42);
	rng_seed(&c, 43);
	int same_c = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a);
		assert_int_equal(x, rng_next(&b));
		same_c += x == rng_next(&c);
	}
	assert_true(same_c < 2);
	/* seed 0 is a fine seed (splitmix64 expands it) */
	rng_seed(&a, 0);
	assert_true(rng_next(&a) != 0 || rng_next(&a) != 0);
	/* forks are deterministic and distinct per stream */
	rng p1, p2, k1, k2, k3;
	rng_seed(&p1, 7);
	rng_seed(&p2, 7);
	rng_fork(&p1, 1, &k1);
	rng_fork(&p2, 1, &k2);
	assert_int_equal(rng_next(&k1), rng_next(&k2));
	rng_seed(&p1, 7);
	rng_fork(&p1, 2, &k3);
	rng_seed(&p2, 7);
	rng_fork(&p2, 1, &k2);
	assert_true(rng_next(&k3) != rng_next(&k2));
}

typedef double (*draw_fn)(rng *r, const double *p);

static void moments(draw_fn f, const double *p, uint64_t seed, stat_acc *acc)
{
	rng r;
	rng_seed(&r, seed);
	stat_init(acc);
	for (int i = 0; i < N; i++)
		stat_add(acc, f(&r, p));
}

static double d_uniform(rng *r, const double *p)
{
	(void)p;
	return rng_uniform(r);
}
static double d_exp(rng *r, const double *p)
{
	return rng_exp(r, p[0]);
}
static double d_exp_inv(rng *r, const double *p)
{
	(void)p;
	return rng_exp_inv(r);
}
static double d_normal(rng *r, const double *p)
{
	return rng_normal(r, p[0], p[1]);
}
static double d_lognormal(rng *r, const double *p)
{
	return rng_lognormal(r, p[0], p[1]);
}
static double d_pareto(rng *r, const double *p)
{
	return rng_pareto(r, p[0], p[1]);
}

static void test_uniform(void **state)
{
	(void)state;
	stat_acc a;
	moments(d_uniform, NULL, 1, &a);
	assert_near(stat_mean(&a), 0.5, 0.0015);
	assert_near(stat_var(&a), 1.0 / 12, 0.0005);
	assert_true(a.min >= 0.0 && a.max < 1.0);
	rng r;
	rng_seed(&r, 2);
	for (int i = 0; i < 1000; i++) {
		double x = rng_range(&r, -3.0, 5.0);
		assert_true(x >= -3.0 && x < 5.0);
		assert_true(rng_uniform_pos(&r) > 0.0);
	}
}

static void test_below_unbiased(void **state)
{
	(void)state;
	rng r;
	rng_seed(&r, 3);
	uint64_t counts[7] = { 0 };
	for (int i = 0; i < 700000; i++) {
		uint64_t k = rng_below(&r, 7);
		assert_true(k < 7);
		counts[k]++;
	}
	/* chi-square with 6 degrees of freedom: 22.5 is p = 0.001 */
	double chi = 0;
	for (int k = 0; k < 7; k++)
		chi += (counts[k] - 100000.0) * (counts[k] - 100000.0) / 100000.0;
	assert_true(chi < 22.5);
	assert_int_equal(rng_below(&r, 0), 0);
	assert_int_equal(rng_below(&r, 1), 0);
}

static void test_exponential(void **state)
{
	(void)state;
	double p[] = { 2.5 };
	stat_acc a;
	moments(d_exp, p, 4, &a);
	assert_rel(stat_mean(&a), 2.5, 0.005);
	assert_rel(stat_var(&a), 6.25, 0.015);
	assert_true(a.min >= 0.0);
	/* the CDF at a few points, including the ziggurat tail beyond 7.697 */
	rng r;
	rng_seed(&r, 5);
	const double xs[] = { 0.1, 1.0, 3.0, 7.0, 9.0 };
	uint64_t below[5] = { 0 };
	for (int i = 0; i < N; i++) {
		double x = rng_exp(&r, 1.0);
		for (int k = 0; k < 5; k++)
			below[k] += x < xs[k];
	}
	for (int k = 0; k < 5; k++) {
		double cdf = 1.0 - exp(-xs[k]);
		double se = sqrt(cdf * (1 - cdf) / N);
		assert_near((double)below[k] / N, cdf, 5 * se + 1e-6);
	}
	moments(d_exp_inv, p, 6, &a);
	assert_rel(stat_mean(&a), 1.0, 0.005);
	assert_rel(stat_var(&a), 1.0, 0.015);
}

static void test_normal(void **state)
{
	(void)state;
	double p[] = { 3.0, 2.0 };
	stat_acc a;
	moments(d_normal, p, 7, &a);
	assert_near(stat_mean(&a), 3.0, 0.01);
	assert_rel(stat_var(&a), 4.0, 0.01);
	/* symmetric, and the tail beyond r = 3.654 has its share 2.58e-4 */
	rng r;
	rng_seed(&r, 8);
	uint64_t neg = 0, tail = 0;
	for (int i = 0; i < N; i++) {
		double x = rng_normal(&r, 0, 1);
		neg += x < 0;
		tail += fabs(x) > 3.6541528853610088;
	}
	assert_near((double)neg / N, 0.5, 0.0025);
	assert_near((double)tail / N, 2.58e-4, 5 * sqrt(2.58e-4 / N));
}

static void test_lognormal_pareto(void **state)
{
	(void)state;
	double ln[] = { 0.5, 0.4 };
	stat_acc a;
	moments(d_lognormal, ln, 9, &a);
	assert_rel(stat_mean(&a), exp(0.5 + 0.08), 0.005);
	assert_true(a.min > 0);
	double pa[] = { 2.0, 3.0 }; /* xm = 2, alpha = 3: mean 3, var 3 */
	moments(d_pareto, pa, 10, &a);
	assert_rel(stat_mean(&a), 3.0, 0.01);
	assert_true(a.min >= 2.0);
	/* P(X > 4) = (2/4)^3 */
	rng r;
	rng_seed(&r, 11);
	uint64_t over = 0;
	for (int i = 0; i < N; i++)
		over += rng_pareto(&r, 2.0, 3.0) > 4.0;
	assert_near((double)over / N, 0.125, 0.0017);
}

static void check_zipf(uint64_t n, double s, uint64_t seed)
{
	rng_zipf z;
	assert_int_equal(rng_zipf_init(&z, n, s), VL_OK);
	double h = 0;
	for (uint64_t k = 1; k <= n; k++)
		h += pow((double)k, -s);
	rng r;
	rng_seed(&r, seed);
	uint64_t c1 = 0, c2 = 0, c10 = 0;
	for (int i = 0; i < N; i++) {
		uint64_t k = rng_zipf_sample(&r, &z);
		assert_true(k >= 1 && k <= n);
		c1 += k == 1;
		c2 += k == 2;
		c10 += k == 10;
	}
	double p1 = 1.0 / h, p2 = pow(2.0, -s) / h, p10 = pow(10.0, -s) / h;
	assert_near((double)c1 / N, p1, 5 * sqrt(p1 / N));
	assert_near((double)c2 / N, p2, 5 * sqrt(p2 / N));
	assert_near((double)c10 / N, p10, 5 * sqrt(p10 / N));
}

static void test_zipf(void **state)
{
	(void)state;
	check_zipf(100, 1.2, 12);
	check_zipf(1000, 1.0, 13); /* s = 1 exactly: the log-limit branch */
	check_zipf(50, 0.6, 14);
	rng_zipf z;
	assert_int_equal(rng_zipf_init(&z, 0, 1.0), VL_EINVAL);
	assert_int_equal(rng_zipf_init(&z, 10, 0.0), VL_EINVAL);
	assert_int_equal(rng_zipf_init(&z, 10, -1.0), VL_EINVAL);
	assert_int_equal(rng_zipf_init(&z, 10, NAN), VL_EINVAL);
	/* n = 1 always gives rank 1 */
	assert_int_equal(rng_zipf_init(&z, 1, 1.5), VL_OK);
	rng r;
	rng_seed(&r, 1);
	for (int i = 0; i < 100; i++)
		assert_int_equal(rng_zipf_sample(&r, &z), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reproducible),   cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_below_unbiased), cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_normal),         cmocka_unit_test(test_lognormal_pareto),
		cmocka_unit_test(test_zipf),
	};
	return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
