/*
 * stats.h — summary statistics and percentiles.
 *
 * stat_acc: count, mean, variance (Welford's online update, numerically
 *   stable), min, max, sum. Plain struct: embed it, stat_init it.
 * stat_percentile_exact: the "R-7" definition (linear interpolation between
 *   order statistics, as numpy.percentile's default), sorting a copy.
 * hist: a streaming log-linear histogram (the HdrHistogram idea): values
 *   >= 0, each power-of-two range split into 2^sub_bits linear buckets, so
 *   any percentile is within a relative error of 2^-sub_bits of an exact one,
 *   in O(1) per sample and fixed memory. Histograms merge by addition.
 */
#ifndef VL_CORE_STATS_H
#define VL_CORE_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct stat_acc {
	uint64_t n;
	double mean, m2, min, max, sum;
} stat_acc;

void stat_init(stat_acc *a);
void stat_add(stat_acc *a, double x);
void stat_merge(stat_acc *into, const stat_acc *from);
double stat_mean(const stat_acc *a); /* 0 when empty */
double stat_var(const stat_acc *a);  /* sample variance (n-1); 0 when n < 2 */
double stat_stddev(const stat_acc *a);

/* The 0.975 quantile of Student's t with df degrees of freedom (df >= 1): the
 * half-width factor of a two-sided 95 % interval. NAN for df 0. */
double stat_t975(unsigned df);

/* The two-sided 95 % Student-t interval of the mean of a's samples,
 * mean +- t(0.975, n-1) * sd / sqrt(n): the interval for the mean of n
 * independent runs (e.g. different seeds) whose outcome is roughly normal.
 * Returns 0, or -1 (both NAN) when n < 2: no spread to estimate. */
int stat_mean_ci95(const stat_acc *a, double *lo, double *hi);

/* p in [0, 100]. Returns NAN for n == 0 or p out of range. xs is not
 * modified. Allocates a sorted copy; returns NAN if that fails. */
double stat_percentile_exact(const double *xs, size_t n, double p);

/* Same on data the caller has already sorted ascending (no allocation). */
double stat_percentile_sorted(const double *sorted, size_t n, double p);

/* qsort comparator: two doubles (a, b point at them) in ascending order;
 * -1, 0 or 1. NaNs compare equal to everything, so sort data without them. */
int stat_cmp_double(const void *a, const void *b);

/* Sorts xs[0..n) ascending in place, as qsort with stat_cmp_double would
 * (the same values in the same order, but for -0.0 and 0.0, which compare
 * equal: either may come first; as for qsort, sort data without NaNs), by
 * an LSD radix sort on the bits: six passes of 11 bits, O(n), no comparison
 * calls. Why: qsort and its comparator took half of `dejavu sim`'s CPU time
 * (perf, sorting its latency tables' samples); with this sort the whole run
 * takes 0.59x the CPU time (farm-bench, 5 alternating pairs, load ~4,
 * 2026-12-04). Small arrays, or no memory for its 16 bytes per element,
 * fall back to qsort; it never fails. */
void stat_sort_doubles(double *xs, size_t n);

/* Sorts xs[0..n) (n >= 1) in place (stat_sort_doubles) and returns its
 * median: the middle value, or the mean of the two middle ones when n is
 * even. (stat_percentile_sorted at 50 interpolates instead, which can
 * differ in the last bit.) */
double stat_median_sort(double *xs, size_t n);

/* The median of xs and its distribution-free 95 % confidence interval from
 * order statistics: [x(l), x(n+1-l)] with the largest l for which
 * P(Binomial(n, 1/2) < l) <= 2.5 % (coverage >= 95 %; n = 10: x(2)..x(9),
 * 97.9 %). Returns 0, or -1 if n < 6 (no such interval exists: *lo and *hi
 * are then the minimum and maximum) or no memory. xs is not modified. */
int stat_median_ci95(const double *xs, size_t n, double *lo, double *med, double *hi);

typedef struct hist hist;

/* lowest: smallest distinguishable value (> 0; smaller values, 0 included,
 * land in the first bucket); sub_bits in [1, 16] sets the relative error
 * 2^-sub_bits. Covers lowest .. lowest * 2^64. NULL on bad args or ENOMEM. */
hist *hist_create(double lowest, int sub_bits);
void hist_destroy(hist *h); /* accepts NULL */
void hist_reset(hist *h);

/* Records x (x >= 0, finite): returns 0, or VL_EINVAL for negative/NaN. */
int hist_add(hist *h, double x);
uint64_t hist_count(const hist *h);
double hist_min(const hist *h);
double hist_max(const hist *h);
double hist_mean(const hist *h); /* exact: tracked beside the buckets */

/* Value at percentile p in [0,100]: the midpoint of the bucket holding that
 * rank, clamped to [min, max]; p = 0 and p = 100 give min and max exactly.
 * NAN when empty or p out of range. */
double hist_percentile(const hist *h, double p);

/* into += from. VL_EINVAL if their shapes differ. */
int hist_merge(hist *into, const hist *from);

/* A cumulative histogram read twice gives the observations in between:
 * h -= earlier, where earlier is an earlier state of the same stream (every
 * bucket <= h's). The count, sum and buckets are exact; the extremes are
 * exact when they moved between the two reads, else the edges of the
 * lowest and highest occupied buckets (so percentiles stay within the
 * bucket error). VL_EINVAL, h unchanged, if the shapes differ or earlier
 * is not an earlier state of h. */
int hist_sub(hist *h, const hist *earlier);

/* Sending a histogram elsewhere: its shape, exact sum, and the count of
 * bucket i (0 for i >= hist_nbuckets). */
double hist_lowest(const hist *h);
int hist_sub_bits(const hist *h);
size_t hist_nbuckets(const hist *h);
uint64_t hist_bucket_count(const hist *h, size_t i);
double hist_sum(const hist *h);

/* ... and rebuilding it: h (created with the sender's shape) becomes n
 * buckets idx[k] holding cnt[k] observations, with the sender's exact sum,
 * min and max. VL_EINVAL, h reset, on an index out of range, a repeated
 * index, or extremes that cannot hold (min > max when not empty). */
int hist_load(hist *h, const uint64_t *idx, const uint64_t *cnt, size_t n, double sum, double min,
	      double max);

#endif
