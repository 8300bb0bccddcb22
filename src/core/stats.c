/* stats.c — see stats.h. */
#include "core/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void stat_init(stat_acc *a)
{
	memset(a, 0, sizeof(*a));
	a->min = INFINITY;
	a->max = -INFINITY;
}

void stat_add(stat_acc *a, double x)
{
	a->n++;
	double d = x - a->mean;
	a->mean += d / (double)a->n;
	a->m2 += d * (x - a->mean);
	a->sum += x;
	if (x < a->min)
		a->min = x;
	if (x > a->max)
		a->max = x;
}

void stat_merge(stat_acc *into, const stat_acc *from)
{
	if (from->n == 0)
		return;
	if (into->n == 0) {
		*into = *from;
		return;
	}
	/* Chan et al.'s pairwise combination. */
	double n1 = (double)into->n, n2 = (double)from->n, n = n1 + n2;
	double d = from->mean - into->mean;
	into->mean += d * n2 / n;
	into->m2 += from->m2 + d * d * n1 * n2 / n;
	into->n += from->n;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

double stat_mean(const stat_acc *a)
{
	return a->n ? a->mean : 0.0;
}

double stat_var(const stat_acc *a)
{
	return a->n > 1 ? a->m2 / (double)(a->n - 1) : 0.0;
}

double stat_stddev(const stat_acc *a)
{
	return sqrt(stat_var(a));
}

/* t(0.975, df): for df <= 30 the table of NIST/SEMATECH e-Handbook of
 * Statistical Methods, §1.3.6.7.2 "Critical values of the Student's t
 * distribution" (given there to 3 decimals; the 6 decimals here are the same
 * quantiles as R's qt(0.975, df)); above 30 the Cornish-Fisher expansion of
 * Abramowitz & Stegun, Handbook of Mathematical Functions, 26.7.5, around the
 * normal quantile z = 1.959964, whose error there is below 1e-6. */
static const double t975_table[31] = {
	NAN,      12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624,
	2.306004, 2.262157,  2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450,
	2.119905, 2.109816,  2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658,
	2.063899, 2.059539,  2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
};

double stat_t975(unsigned df)
{
	if (df <= 30)
		return t975_table[df];
	/* A&S 26.7.5: t = z + g1/ν + g2/ν² + g3/ν³ + g4/ν⁴ */
	const double z = 1.959963984540054, v = df;
	double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
	double g1 = (z3 + z) / 4;
	double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
	double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
	double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
	return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
}

int stat_mean_ci95(const stat_acc *a, double *lo, double *hi)
{
	if (a->n < 2) {
		*lo = *hi = NAN;
		return -1;
	}
	double half = stat_t975((unsigned)(a->n - 1)) * stat_stddev(a) / sqrt((double)a->n);
	*lo = a->mean - half;
	*hi = a->mean + half;
	return 0;
}

int stat_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Below this, qsort: six passes over 2048 buckets do not pay off on a few
 * hundred elements (a choice, not a measured crossover; the callers that
 * matter sort 3e4 to 2.4e5). */
#define SORT_RADIX_MIN 1024
#define SORT_DIGIT_BITS 11
#define SORT_PASSES 6 /* 6 x 11 >= 64 bits */
#define SORT_BUCKETS (1u << SORT_DIGIT_BITS)

/* A double's bits, mapped so that unsigned order is numeric order. */
static uint64_t sort_key(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

static double sort_unkey(uint64_t k)
{
	uint64_t u = k >> 63 ? k & ~(UINT64_C(1) << 63) : ~k;
	double x;
	memcpy(&x, &u, sizeof(x));
	return x;
}

void stat_sort_doubles(double *xs, size_t n)
{
	uint64_t *a = n >= SORT_RADIX_MIN ? malloc(n * sizeof(*a)) : NULL;
	uint64_t *b = a ? malloc(n * sizeof(*b)) : NULL;
	size_t(*cnt)[SORT_BUCKETS] = b ? calloc(SORT_PASSES, sizeof(*cnt)) : NULL;
	if (!cnt) {
		free(a);
		free(b);
		qsort(xs, n, sizeof(*xs), stat_cmp_double);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t k = a[i] = sort_key(xs[i]);
		for (unsigned d = 0; d < SORT_PASSES; d++)
			cnt[d][(k >> (d * SORT_DIGIT_BITS)) & (SORT_BUCKETS - 1)]++;
	}
	for (unsigned d = 0; d < SORT_PASSES; d++) {
		unsigned shift = d * SORT_DIGIT_BITS;
		if (cnt[d][(a[0] >> shift) & (SORT_BUCKETS - 1)] == n)
			continue; /* every key has this digit: the pass would move nothing */
		size_t pos = 0;
		for (size_t v = 0; v < SORT_BUCKETS; v++) {
			size_t c = cnt[d][v];
			cnt[d][v] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++) /* stable: keeps the earlier passes' order */
			b[cnt[d][(a[i] >> shift) & (SORT_BUCKETS - 1)]++] = a[i];
		uint64_t *t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		xs[i] = sort_unkey(a[i]);
	free(a);
	free(b);
	free(cnt);
}

double stat_median_sort(double *xs, size_t n)
{
	stat_sort_doubles(xs, n);
	return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

double stat_percentile_sorted(const double *s, size_t n, double p)
{
	if (n == 0 || !(p >= 0.0 && p <= 100.0))
		return NAN;
	double h = (double)(n - 1) * p / 100.0;
	size_t lo = (size_t)floor(h);
	if (lo >= n - 1)
		return s[n - 1];
	return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

double stat_percentile_exact(const double *xs, size_t n, double p)
{
	if (n == 0 || !(p >= 0.0 && p <= 100.0))
		return NAN;
	double *c = malloc(n * sizeof(*c));
	if (!c)
		return NAN;
	memcpy(c, xs, n * sizeof(*c));
	stat_sort_doubles(c, n);
	double v = stat_percentile_sorted(c, n, p);
	free(c);
	return v;
}

int stat_median_ci95(const double *xs, size_t n, double *lo, double *med, double *hi)
{
	*lo = *med = *hi = NAN;
	if (n == 0)
		return -1;
	double *c = malloc(n * sizeof(*c));
	if (!c)
		return -1;
	memcpy(c, xs, n * sizeof(*c));
	stat_sort_doubles(c, n);
	*med = stat_percentile_sorted(c, n, 50);
	/* cumulative Binomial(n, 1/2): P(X <= k), in logs to stay finite */
	size_t l = 0;
	double cum = 0;
	for (size_t k = 0; k < n; k++) {
		double lp = lgamma((double)n + 1) - lgamma((double)k + 1) -
			    lgamma((double)(n - k) + 1) - (double)n * log(2.0);
		cum += exp(lp);
		if (cum > 0.025)
			break;
		l = k + 1; /* P(X < l) = P(X <= k) <= 2.5 % */
	}
	int ok = l >= 1;
	*lo = ok ? c[l - 1] : c[0];
	*hi = ok ? c[n - l] : c[n - 1];
	free(c);
	return ok ? 0 : -1;
}

/* ---- streaming histogram ---- */

#define HIST_OCTAVES 64

struct hist {
	double lowest;
	int sub_bits;
	size_t nb;
	uint64_t count;
	double min, max, sum;
	uint64_t *b;
};

hist *hist_create(double lowest, int sub_bits)
{
	if (!(lowest > 0.0) || !isfinite(lowest) || sub_bits < 1 || sub_bits > 16)
		return NULL;
	hist *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->lowest = lowest;
	h->sub_bits = sub_bits;
	h->nb = (size_t)HIST_OCTAVES << sub_bits;
	h->b = calloc(h->nb, sizeof(*h->b));
	if (!h->b) {
		free(h);
		return NULL;
	}
	hist_reset(h);
	return h;
}

void hist_destroy(hist *h)
{
	if (!h)
		return;
	free(h->b);
	free(h);
}

void hist_reset(hist *h)
{
	memset(h->b, 0, h->nb * sizeof(*h->b));
	h->count = 0;
	h->sum = 0;
	h->min = INFINITY;
	h->max = -INFINITY;
}

/* Octave k holds [lowest*2^k, lowest*2^(k+1)), cut into 2^sub_bits equal
 * buckets. Values below lowest go to bucket 0, above the range to the last. */
static size_t bucket_of(const hist *h, double x)
{
	double r = x / h->lowest;
	if (r < 1.0)
		return 0;
	int e;
	double m = frexp(r, &e); /* r = m * 2^e, m in [0.5, 1) */
	int k = e - 1;
	if (k >= HIST_OCTAVES)
		return h->nb - 1;
	size_t sub = (size_t)((m * 2.0 - 1.0) * (double)(1u << h->sub_bits));
	return ((size_t)k << h->sub_bits) + sub;
}

static double bucket_mid(const hist *h, size_t i)
{
	size_t k = i >> h->sub_bits, sub = i & ((1u << h->sub_bits) - 1);
	double w = 1.0 / (double)(1u << h->sub_bits);
	return h->lowest * ldexp(1.0 + ((double)sub + 0.5) * w, (int)k);
}

int hist_add(hist *h, double x)
{
	if (!(x >= 0.0) || isinf(x))
		return VL_EINVAL;
	h->b[bucket_of(h, x)]++;
	h->count++;
	h->sum += x;
	if (x < h->min)
		h->min = x;
	if (x > h->max)
		h->max = x;
	return VL_OK;
}

uint64_t hist_count(const hist *h)
{
	return h->count;
}

double hist_min(const hist *h)
{
	return h->count ? h->min : NAN;
}

double hist_max(const hist *h)
{
	return h->count ? h->max : NAN;
}

double hist_mean(const hist *h)
{
	return h->count ? h->sum / (double)h->count : NAN;
}

double hist_percentile(const hist *h, double p)
{
	if (h->count == 0 || !(p >= 0.0 && p <= 100.0))
		return NAN;
	if (p == 0.0)
		return h->min; /* the extremes are tracked exactly */
	if (p == 100.0)
		return h->max;
	/* rank of the R-7 lower order statistic, 1-based */
	uint64_t rank = (uint64_t)floor((double)(h->count - 1) * p / 100.0) + 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < h->nb; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			if (i == h->nb - 1)
				return h->max; /* the overflow bucket has no width */
			double v = bucket_mid(h, i);
			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

int hist_merge(hist *into, const hist *from)
{
	if (into->nb != from->nb || into->lowest != from->lowest)
		return VL_EINVAL;
	for (size_t i = 0; i < into->nb; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
	return VL_OK;
}

/* [lo, hi) of bucket i (bucket 0 also holds everything below lowest). */
static void bucket_edges(const hist *h, size_t i, double *lo, double *hi)
{
	size_t k = i >> h->sub_bits, sub = i & ((1u << h->sub_bits) - 1);
	double w = 1.0 / (double)(1u << h->sub_bits);
	*lo = i == 0 ? 0.0 : h->lowest * ldexp(1.0 + (double)sub * w, (int)k);
	*hi = h->lowest * ldexp(1.0 + (double)(sub + 1) * w, (int)k);
}

int hist_sub(hist *h, const hist *earlier)
{
	if (h->nb != earlier->nb || h->lowest != earlier->lowest || earlier->count > h->count)
		return VL_EINVAL;
	for (size_t i = 0; i < h->nb; i++)
		if (earlier->b[i] > h->b[i])
			return VL_EINVAL;
	size_t first = h->nb, last = 0;
	for (size_t i = 0; i < h->nb; i++) {
		h->b[i] -= earlier->b[i];
		if (h->b[i]) {
			if (first == h->nb)
				first = i;
			last = i;
		}
	}
	double min = h->min, max = h->max;
	h->count -= earlier->count;
	h->sum = h->count ? h->sum - earlier->sum : 0;
	if (!h->count) {
		h->min = INFINITY;
		h->max = -INFINITY;
		return VL_OK;
	}
	/* an extreme that moved between the reads was set in between: exact */
	double lo, hi;
	bucket_edges(h, first, &lo, &hi);
	h->min = !earlier->count || min < earlier->min ? min : fmax(lo, min);
	bucket_edges(h, last, &lo, &hi);
	h->max = !earlier->count || max > earlier->max ? max : fmin(hi, max);
	return VL_OK;
}

double hist_lowest(const hist *h)
{
	return h->lowest;
}

int hist_sub_bits(const hist *h)
{
	return h->sub_bits;
}

size_t hist_nbuckets(const hist *h)
{
	return h->nb;
}

uint64_t hist_bucket_count(const hist *h, size_t i)
{
	return i < h->nb ? h->b[i] : 0;
}

double hist_sum(const hist *h)
{
	return h->sum;
}

int hist_load(hist *h, const uint64_t *idx, const uint64_t *cnt, size_t n, double sum, double min,
	      double max)
{
	hist_reset(h);
	for (size_t k = 0; k < n; k++) {
		if (idx[k] >= h->nb || h->b[idx[k]]) {
			hist_reset(h);
			return VL_EINVAL;
		}
		h->b[idx[k]] = cnt[k];
		h->count += cnt[k];
	}
	if (!h->count)
		return VL_OK;
	if (!(min <= max) || !isfinite(sum)) {
		hist_reset(h);
		return VL_EINVAL;
	}
	h->sum = sum;
	h->min = min;
	h->max = max;
	return VL_OK;
}
