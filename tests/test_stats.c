/*
 * test_stats.c — Welford accumulator against two-pass formulas, exact
 * percentiles against hand-computed R-7 values, and the streaming histogram
 * against exact sorting on several distributions (error within its
 * 2^-sub_bits relative bound); the radix sort of doubles against qsort.
 */
#include "vl_test.h"

#include <math.h>

#include "core/error.h"
#include "core/rng.h"
#include "core/stats.h"

static void test_acc(void **state)
{
	(void)state;
	stat_acc a, b, all;
	stat_init(&a);
	stat_init(&b);
	stat_init(&all);
	assert_true(stat_mean(&a) == 0.0 && stat_var(&a) == 0.0);
	double xs[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	for (int i = 0; i < 8; i++) {
		stat_add(i < 3 ? &a : &b, xs[i]);
		stat_add(&all, xs[i]);
	}
	assert_near(stat_mean(&all), 5.0, 1e-12);
	assert_near(stat_var(&all), 32.0 / 7.0, 1e-12); /* sample variance */
	assert_near(all.min, 2, 0);
	assert_near(all.max, 9, 0);
	assert_near(all.sum, 40, 0);
	stat_merge(&a, &b);
	assert_int_equal(a.n, 8);
	assert_near(stat_mean(&a), 5.0, 1e-12);
	assert_near(stat_var(&a), 32.0 / 7.0, 1e-12);
	assert_near(a.min, 2, 0);
	/* merging an empty one changes nothing; into an empty one copies */
	stat_init(&b);
	stat_merge(&a, &b);
	assert_int_equal(a.n, 8);
	stat_merge(&b, &a);
	assert_near(stat_stddev(&b), sqrt(32.0 / 7.0), 1e-12);
	/* numerically stable far from zero */
	stat_init(&a);
	for (int i = 0; i < 1000; i++)
		stat_add(&a, 1e9 + (i % 2));
	assert_near(stat_var(&a), 0.25 * 1000 / 999, 1e-6);
}

static void test_exact_percentile(void **state)
{
	(void)state;
	double xs[] = { 15, 20, 35, 40, 50 };
	/* numpy.percentile(xs, p) with its default (linear) method */
	assert_near(stat_percentile_exact(xs, 5, 0), 15, 1e-12);
	assert_near(stat_percentile_exact(xs, 5, 40), 29, 1e-12);
	assert_near(stat_percentile_exact(xs, 5, 50), 35, 1e-12);
	assert_near(stat_percentile_exact(xs, 5, 95), 48, 1e-12);
	assert_near(stat_percentile_exact(xs, 5, 100), 50, 1e-12);
	double one = 7;
	assert_near(stat_percentile_exact(&one, 1, 99), 7, 0);
	assert_true(isnan(stat_percentile_exact(xs, 0, 50)));
	assert_true(isnan(stat_percentile_exact(xs, 5, -1)));
	assert_true(isnan(stat_percentile_exact(xs, 5, 100.5)));
	assert_true(isnan(stat_percentile_exact(xs, 5, NAN)));
	/* the input is left as it was */
	double ys[] = { 3, 1, 2 };
	stat_percentile_exact(ys, 3, 50);
	assert_true(ys[0] == 3 && ys[1] == 1 && ys[2] == 2);
}

static void hist_vs_exact(int dist, int sub_bits, uint64_t seed)
{
	enum { N = 200000 };
	double *xs = malloc(N * sizeof(*xs));
	hist *h = hist_create(1e-3, sub_bits);
	rng r;
	rng_seed(&r, seed);
	for (int i = 0; i < N; i++) {
		double x = dist == 0   ? rng_exp(&r, 10.0)
			   : dist == 1 ? rng_lognormal(&r, 2.0, 1.5)
				       : rng_pareto(&r, 1.0, 1.2);
		xs[i] = x;
		assert_int_equal(hist_add(h, x), VL_OK);
	}
	const double ps[] = { 1, 10, 50, 90, 99, 99.9 };
	for (int k = 0; k < 6; k++) {
		double ex = stat_percentile_exact(xs, N, ps[k]);
		double hv = hist_percentile(h, ps[k]);
		assert_rel(hv, ex, ldexp(1.0, -sub_bits));
	}
	assert_int_equal(hist_count(h), N);
	stat_acc a;
	stat_init(&a);
	for (int i = 0; i < N; i++)
		stat_add(&a, xs[i]);
	assert_rel(hist_mean(h), stat_mean(&a), 1e-9);
	assert_near(hist_min(h), a.min, 0);
	assert_near(hist_max(h), a.max, 0);
	assert_near(hist_percentile(h, 100), a.max, 0);
	free(xs);
	hist_destroy(h);
}

/* stat_cmp_double: the sign of a - b as qsort wants it, and a sort with it
 * is ascending (negatives, zero, infinities, ties). */
static void test_cmp_double_sorts_ascending(void **state)
{
	(void)state;
	double a = 1, b = 2, c = 1;
	assert_int_equal(stat_cmp_double(&a, &b), -1);
	assert_int_equal(stat_cmp_double(&b, &a), 1);
	assert_int_equal(stat_cmp_double(&a, &c), 0);
	double v[] = { 3, -INFINITY, 0.5, -2, 3, INFINITY, 0 };
	const double want[] = { -INFINITY, -2, 0, 0.5, 3, 3, INFINITY };
	qsort(v, 7, sizeof(v[0]), stat_cmp_double);
	for (int k = 0; k < 7; k++)
		assert_true(v[k] == want[k]);
}

static void test_hist_accuracy(void **state)
{
	(void)state;
	hist_vs_exact(0, 7, 1);
	hist_vs_exact(1, 7, 2);
	hist_vs_exact(2, 5, 3);
	hist_vs_exact(2, 10, 4);
}

static void test_hist_edges(void **state)
{
	(void)state;
	assert_null(hist_create(0.0, 7));
	assert_null(hist_create(-1.0, 7));
	assert_null(hist_create(1.0, 0));
	assert_null(hist_create(1.0, 17));
	assert_null(hist_create(NAN, 7));
	hist *h = hist_create(1.0, 4);
	assert_true(isnan(hist_percentile(h, 50)));
	assert_true(isnan(hist_mean(h)));
	assert_int_equal(hist_add(h, -1.0), VL_EINVAL);
	assert_int_equal(hist_add(h, NAN), VL_EINVAL);
	assert_int_equal(hist_add(h, INFINITY), VL_EINVAL);
	assert_int_equal(hist_count(h), 0);
	/* zero and below-lowest values land in the first bucket, clamped to min */
	assert_int_equal(hist_add(h, 0.0), VL_OK);
	assert_near(hist_percentile(h, 50), 0.0, 0);
	/* a huge value lands in the last bucket, clamped to max */
	assert_int_equal(hist_add(h, 1e300), VL_OK);
	assert_near(hist_percentile(h, 100), 1e300, 0);
	assert_true(isnan(hist_percentile(h, 101)));
	/* merge adds; shapes must match */
	hist *g = hist_create(1.0, 4), *other = hist_create(2.0, 4);
	hist_add(g, 5.0);
	assert_int_equal(hist_merge(h, g), VL_OK);
	assert_int_equal(hist_count(h), 3);
	assert_int_equal(hist_merge(h, other), VL_EINVAL);
	hist_reset(h);
	assert_int_equal(hist_count(h), 0);
	hist_destroy(h);
	hist_destroy(g);
	hist_destroy(other);
	hist_destroy(NULL);
}

/* A cumulative histogram read twice: the difference is the observations in
 * between (what the DejaVu controller computes from two stats reads), and a
 * histogram sent as its buckets comes back identical. */
static void test_hist_sub_and_load(void **state)
{
	(void)state;
	hist *a = hist_create(1e-6, 7), *b = hist_create(1e-6, 7), *w = hist_create(1e-6, 7);
	rng r;
	rng_seed(&r, 7);
	for (int i = 0; i < 2000; i++) {
		double x = rng_exp(&r, 1e-3);
		hist_add(a, x);
		hist_add(b, x);
	}
	for (int i = 0; i < 1000; i++) { /* the window: slower */
		double x = 0.02 + rng_exp(&r, 5e-3);
		hist_add(b, x);
		hist_add(w, x);
	}
	hist *d = hist_create(1e-6, 7);
	hist_merge(d, b);
	assert_int_equal(hist_sub(d, a), VL_OK);
	assert_int_equal(hist_count(d), 1000);
	assert_rel(hist_mean(d), hist_mean(w), 1e-9);
	assert_near(hist_max(d), hist_max(w), 0); /* the max moved: exact */
	for (double p = 1; p < 100; p += 7)
		assert_rel(hist_percentile(d, p), hist_percentile(w, p), 1.0 / 128);
	assert_true(hist_min(d) <= hist_min(w) && hist_min(d) >= hist_min(w) * (1 - 1.0 / 128));
	/* not an earlier state: refused, unchanged */
	assert_int_equal(hist_sub(a, b), VL_EINVAL);
	assert_int_equal(hist_count(a), 2000);
	/* nothing in between: empty */
	hist *z = hist_create(1e-6, 7);
	hist_merge(z, a);
	assert_int_equal(hist_sub(z, a), VL_OK);
	assert_int_equal(hist_count(z), 0);
	assert_true(isnan(hist_percentile(z, 50)));
	/* round trip through its buckets */
	uint64_t idx[8192], cnt[8192];
	size_t n = 0;
	for (size_t i = 0; i < hist_nbuckets(b); i++)
		if (hist_bucket_count(b, i))
			idx[n] = i, cnt[n++] = hist_bucket_count(b, i);
	assert_int_equal(hist_load(z, idx, cnt, n, hist_sum(b), hist_min(b), hist_max(b)), VL_OK);
	assert_int_equal(hist_count(z), hist_count(b));
	for (double p = 0; p <= 100; p += 5)
		assert_near(hist_percentile(z, p), hist_percentile(b, p), 0);
	idx[1] = idx[0]; /* a repeated bucket */
	assert_int_equal(hist_load(z, idx, cnt, n, hist_sum(b), hist_min(b), hist_max(b)),
			 VL_EINVAL);
	idx[0] = hist_nbuckets(b);
	assert_int_equal(hist_load(z, idx, cnt, 1, 1, 1, 1), VL_EINVAL);
	assert_int_equal(hist_count(z), 0);
	hist_destroy(a);
	hist_destroy(b);
	hist_destroy(w);
	hist_destroy(d);
	hist_destroy(z);
}

/* stat_sort_doubles gives exactly what qsort with stat_cmp_double gives,
 * on both sides of its radix threshold, with negatives, zeros of both
 * signs, infinities, long runs of equal values and denormals. */
static void sort_like_qsort(const double *xs, size_t n)
{
	double *a = malloc(n * sizeof(*a) + 1), *b = malloc(n * sizeof(*b) + 1);
	assert_non_null(a);
	assert_non_null(b);
	memcpy(a, xs, n * sizeof(*a));
	memcpy(b, xs, n * sizeof(*b));
	stat_sort_doubles(a, n);
	qsort(b, n, sizeof(*b), stat_cmp_double);
	for (size_t i = 0; i < n; i++) {
		/* !=, not the bits: -0.0 and 0.0 are equal to stat_cmp_double,
		 * so qsort may leave them in either order */
		if (a[i] != b[i])
			fail_msg("n %zu: [%zu] radix %a, qsort %a", n, i, a[i], b[i]);
	}
	free(a);
	free(b);
}

static void test_sort_doubles(void **state)
{
	(void)state;
	rng r;
	rng_seed(&r, 11);
	static const size_t sizes[] = { 0, 1, 2, 7, 1023, 1024, 1025, 4096, 100000 };
	double *xs = malloc(100000 * sizeof(*xs));
	assert_non_null(xs);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		for (size_t i = 0; i < n; i++) /* heavy-tailed, as sojourn times are */
			xs[i] = rng_lognormal(&r, 0.0, 3.0);
		sort_like_qsort(xs, n);
		for (size_t i = 0; i < n; i++) { /* both signs, special values, ties */
			uint64_t k = rng_below(&r, 10);
			xs[i] = k == 0   ? -xs[i]
				: k == 1 ? 0.0
				: k == 2 ? -0.0
				: k == 3 ? (rng_below(&r, 2) ? INFINITY : -INFINITY)
				: k == 4 ? 5e-324 * (double)rng_below(&r, 4) /* denormals */
				: k == 5 ? (double)rng_below(&r, 3)
					 : xs[i];
		}
		sort_like_qsort(xs, n);
	}
	/* all equal: every pass is skipped */
	for (size_t i = 0; i < 5000; i++)
		xs[i] = 0.25;
	sort_like_qsort(xs, 5000);
	/* already sorted and reversed */
	for (size_t i = 0; i < 5000; i++)
		xs[i] = (double)i - 2500.5;
	sort_like_qsort(xs, 5000);
	for (size_t i = 0; i < 5000; i++)
		xs[i] = 2500.5 - (double)i;
	sort_like_qsort(xs, 5000);
	/* and the percentiles taken from it are qsort's */
	for (size_t i = 0; i < 5000; i++)
		xs[i] = rng_exp(&r, 1.0);
	double p95 = stat_percentile_exact(xs, 5000, 95);
	qsort(xs, 5000, sizeof(*xs), stat_cmp_double);
	assert_true(p95 == stat_percentile_sorted(xs, 5000, 95));
	free(xs);
}

/* stat_median_sort: the middle value, the mean of the two middle ones for
 * even n (not the 50th percentile's interpolation), and xs left sorted
 * (kvm's microbench reads its minimum from xs[0] afterwards). */
static void test_median_sort(void **state)
{
	(void)state;
	double one[] = { 7 };
	assert_true(stat_median_sort(one, 1) == 7);
	double odd[] = { 5, -1, 3, 9, 2 };
	assert_true(stat_median_sort(odd, 5) == 3);
	for (int i = 1; i < 5; i++)
		assert_true(odd[i - 1] <= odd[i]);
	double even[] = { 0.1, 0.7, 0.3, 0.2 };
	assert_true(stat_median_sort(even, 4) == (0.2 + 0.3) / 2);
	assert_true(even[0] == 0.1 && even[3] == 0.7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acc),
		cmocka_unit_test(test_exact_percentile),
		cmocka_unit_test(test_cmp_double_sorts_ascending),
		cmocka_unit_test(test_hist_accuracy),
		cmocka_unit_test(test_hist_edges),
		cmocka_unit_test(test_hist_sub_and_load),
		cmocka_unit_test(test_sort_doubles),
		cmocka_unit_test(test_median_sort),
	};
	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
