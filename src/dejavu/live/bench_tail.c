/*
 * bench_tail.c — pooled samples by subject and round, percentiles, paired
 * cluster bootstrap; contract and sources in bench_tail.h.
 */
#include "dejavu/live/bench_tail.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/stats.h"

typedef struct slice {
	double *x;
	size_t n, cap;
} slice;

struct btail {
	int ns, nr;
	slice *sl;    /* ns x nr, subject-major */
	double *boot; /* reps x ns replicates of the last bootstrap */
	int reps;
};

btail *btail_create(int nsubj, int nrounds)
{
	if (nsubj < 1 || nrounds < 1)
		return NULL;
	btail *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ns = nsubj;
	t->nr = nrounds;
	t->sl = calloc((size_t)nsubj * (size_t)nrounds, sizeof(*t->sl));
	if (!t->sl) {
		free(t);
		return NULL;
	}
	return t;
}

void btail_destroy(btail *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->ns * t->nr; i++)
		free(t->sl[i].x);
	free(t->sl);
	free(t->boot);
	free(t);
}

int btail_add(btail *t, int s, int r, double x)
{
	if (s < 0 || s >= t->ns || r < 0 || r >= t->nr || !isfinite(x))
		return VL_EINVAL;
	slice *c = &t->sl[s * t->nr + r];
	if (vl_grow(&c->x, &c->cap, c->n + 1, sizeof(*c->x)) < 0)
		return VL_ENOMEM;
	c->x[c->n++] = x;
	return 0;
}

size_t btail_count(const btail *t, int s)
{
	size_t n = 0;
	for (int r = 0; s >= 0 && s < t->ns && r < t->nr; r++)
		n += t->sl[s * t->nr + r].n;
	return n;
}

/* Partially orders a[0..n) so a[k] holds the k-th smallest, nothing larger
 * before it and nothing smaller after it (Hoare's selection; k < n). */
static void select_kth(double *a, size_t n, size_t k)
{
	long lo = 0, hi = (long)n - 1, kk = (long)k;
	while (lo < hi) {
		double piv = a[lo + (hi - lo) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (a[i] < piv)
				i++;
			while (a[j] > piv)
				j--;
			if (i <= j) {
				double tmp = a[i];
				a[i++] = a[j];
				a[j--] = tmp;
			}
		}
		/* now a[lo..j] <= piv <= a[i..hi], and a[j+1..i-1] == piv */
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			return;
	}
}

/* Percentile p of a[0..n), as stat_percentile_sorted would give on the
 * sorted array, reordering a; NAN when n is 0. */
static double percentile_inplace(double *a, size_t n, double p)
{
	if (n == 0)
		return NAN;
	double h = (double)(n - 1) * p / 100.0;
	size_t lo = (size_t)floor(h);
	if (lo >= n - 1) {
		select_kth(a, n, n - 1);
		return a[n - 1];
	}
	select_kth(a, n, lo);
	double next = a[lo + 1];
	for (size_t i = lo + 2; i < n; i++)
		next = a[i] < next ? a[i] : next;
	return a[lo] + (h - (double)lo) * (next - a[lo]);
}

/* Pools subject s's slices of the rounds rs[0..nrs) into buf (room for all
 * of s's samples); returns how many. */
static size_t pool(const btail *t, int s, const int *rs, int nrs, double *buf)
{
	size_t n = 0;
	for (int i = 0; i < nrs; i++) {
		const slice *c = &t->sl[s * t->nr + rs[i]];
		if (c->n)
			memcpy(buf + n, c->x, c->n * sizeof(*buf));
		n += c->n;
	}
	return n;
}

/* The most samples one subject can pool in a replicate: all rounds drawn
 * as its largest slice. */
static size_t max_pool(const btail *t)
{
	size_t most = 0;
	for (int i = 0; i < t->ns * t->nr; i++)
		most = t->sl[i].n > most ? t->sl[i].n : most;
	return most * (size_t)t->nr;
}

double btail_percentile(const btail *t, int s, double p)
{
	size_t n = btail_count(t, s);
	if (!n || !(p >= 0 && p <= 100))
		return NAN;
	double *buf = malloc(n * sizeof(*buf));
	int *rs = malloc((size_t)t->nr * sizeof(*rs));
	double v = NAN;
	if (buf && rs) {
		for (int r = 0; r < t->nr; r++)
			rs[r] = r;
		v = percentile_inplace(buf, pool(t, s, rs, t->nr, buf), p);
	}
	free(buf);
	free(rs);
	return v;
}

int btail_bootstrap(btail *t, double p, int reps, uint64_t seed)
{
	if (reps < 1 || !(p >= 0 && p <= 100))
		return VL_EINVAL;
	free(t->boot);
	t->reps = 0;
	t->boot = malloc((size_t)reps * (size_t)t->ns * sizeof(*t->boot));
	double *buf = malloc((max_pool(t) + 1) * sizeof(*buf));
	int *rs = malloc((size_t)t->nr * sizeof(*rs));
	if (!t->boot || !buf || !rs) {
		free(buf);
		free(rs);
		return VL_ENOMEM;
	}
	rng g;
	rng_seed(&g, seed);
	for (int b = 0; b < reps; b++) {
		for (int i = 0; i < t->nr; i++)
			rs[i] = (int)rng_below(&g, (uint64_t)t->nr);
		for (int s = 0; s < t->ns; s++)
			t->boot[b * t->ns + s] =
				percentile_inplace(buf, pool(t, s, rs, t->nr, buf), p);
	}
	t->reps = reps;
	free(buf);
	free(rs);
	return 0;
}

int btail_diff_ci95(const btail *t, int a, int b, double *lo, double *hi)
{
	*lo = *hi = NAN;
	if (!t->reps || a < 0 || a >= t->ns || b >= t->ns)
		return VL_EINVAL;
	double *d = malloc((size_t)t->reps * sizeof(*d));
	if (!d)
		return VL_ENOMEM;
	size_t n = 0;
	for (int i = 0; i < t->reps; i++) {
		double v = t->boot[i * t->ns + a] - (b < 0 ? 0 : t->boot[i * t->ns + b]);
		if (isfinite(v))
			d[n++] = v;
	}
	if (n >= 2) {
		*lo = stat_percentile_exact(d, n, 2.5);
		*hi = stat_percentile_exact(d, n, 97.5);
	}
	free(d);
	return n >= 2 ? 0 : VL_EINVAL;
}

int btail_round_median(const btail *t, int a, int b, double p, double *lo, double *med, double *hi)
{
	*lo = *med = *hi = NAN;
	if (a < 0 || a >= t->ns || b >= t->ns || !(p >= 0 && p <= 100))
		return VL_EINVAL;
	double *d = malloc((size_t)t->nr * sizeof(*d));
	double *buf = malloc((max_pool(t) / (size_t)t->nr + 1) * sizeof(*buf));
	if (!d || !buf) {
		free(d);
		free(buf);
		return VL_ENOMEM;
	}
	size_t n = 0;
	for (int r = 0; r < t->nr; r++) {
		double pa = percentile_inplace(buf, pool(t, a, &r, 1, buf), p);
		double pb = b < 0 ? 0 : percentile_inplace(buf, pool(t, b, &r, 1, buf), p);
		if (isfinite(pa - pb))
			d[n++] = pa - pb;
	}
	int bad = n < 6 || stat_median_ci95(d, n, lo, med, hi);
	free(d);
	free(buf);
	if (bad)
		*lo = *med = *hi = NAN;
	return bad ? VL_EINVAL : 0;
}

int btail_write_csv(const btail *t, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return VL_EIO;
	fputs("subject,round,latency_s\n", f);
	for (int s = 0; s < t->ns; s++)
		for (int r = 0; r < t->nr; r++) {
			const slice *c = &t->sl[s * t->nr + r];
			for (size_t i = 0; i < c->n; i++)
				fprintf(f, "%d,%d,%.9g\n", s, r, c->x[i]);
		}
	return fclose(f) ? VL_EIO : 0;
}
