/*
 * rng.c — seeding, bounded integers and the non-uniform distributions.
 * See rng.h for the algorithms and their sources.
 */
#include "core/rng.h"

#include <math.h>

#include "core/error.h"
#include "ziggurat_tables.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rng_seed(rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

void rng_fork(rng *parent, uint64_t stream, rng *child)
{
	uint64_t x = rng_next(parent) ^ (stream * 0xd1342543de82ef95ull);
	rng_seed(child, splitmix64(&x));
}

uint64_t rng_below(rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	/* Lemire's multiply-shift with rejection of the biased low zone. */
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;
		while (lo < t) {
			m = (unsigned __int128)rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double rng_range(rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

double rng_exp_inv(rng *r)
{
	return -log(rng_uniform_pos(r));
}

/* Mean-1 exponential, 256-layer ziggurat: ~98.9 % of draws take the first
 * branch (one random word, one multiply, one compare). */
static double exp1(rng *r)
{
	for (;;) {
		uint64_t bits = rng_next(r);
		unsigned i = bits & 0xff;
		double x = (double)(bits >> 11) * 0x1.0p-53 * ZIG_EXP_X[i];
		if (x < ZIG_EXP_X[i + 1])
			return x;
		if (i == 0) /* tail: memorylessness, r + Exp(1) */
			return ZIG_EXP_R + rng_exp_inv(r);
		double y = ZIG_EXP_F[i] + (ZIG_EXP_F[i + 1] - ZIG_EXP_F[i]) * rng_uniform(r);
		if (y < exp(-x))
			return x;
	}
}

double rng_exp(rng *r, double mean)
{
	return mean * exp1(r);
}

static double norm1(rng *r)
{
	for (;;) {
		uint64_t bits = rng_next(r);
		unsigned i = bits & 0xff;
		double sign = (bits & 0x100) ? -1.0 : 1.0;
		double x = (double)(bits >> 11) * 0x1.0p-53 * ZIG_NORM_X[i];
		if (x < ZIG_NORM_X[i + 1])
			return sign * x;
		if (i == 0) {
			/* Marsaglia's tail beyond r. */
			double a, b;
			do {
				a = -log(rng_uniform_pos(r)) / ZIG_NORM_R;
				b = -log(rng_uniform_pos(r));
			} while (b + b < a * a);
			return sign * (ZIG_NORM_R + a);
		}
		double y = ZIG_NORM_F[i] + (ZIG_NORM_F[i + 1] - ZIG_NORM_F[i]) * rng_uniform(r);
		if (y < exp(-0.5 * x * x))
			return sign * x;
	}
}

double rng_normal(rng *r, double mu, double sigma)
{
	return mu + sigma * norm1(r);
}

double rng_lognormal(rng *r, double mu, double sigma)
{
	return exp(rng_normal(r, mu, sigma));
}

double rng_pareto(rng *r, double xm, double alpha)
{
	return xm * pow(rng_uniform_pos(r), -1.0 / alpha);
}

/* Rejection-inversion for Zipf (Hormann & Derflinger 1996), in the form used
 * by Apache Commons RNG: H is an integral of the hat function x^-s. */
static double zipf_h(double x, double s)
{
	double lx = log(x);
	double t = (1.0 - s) * lx;
	/* (exp(t) - 1) / (1 - s), stable as s -> 1 */
	return fabs(t) > 1e-8 ? expm1(t) / (1.0 - s) : lx * (1.0 + t / 2.0);
}

static double zipf_hinv(double x, double s)
{
	double t = x * (1.0 - s);
	if (t < -1.0)
		t = -1.0;
	/* exp(log1p(t) / (1 - s)), stable as s -> 1 */
	return exp(fabs(t) > 1e-8 ? log1p(t) / (1.0 - s) * 1.0 : x * (1.0 - t / 2.0));
}

int rng_zipf_init(rng_zipf *z, uint64_t n, double s)
{
	if (n == 0 || !(s > 0.0) || !isfinite(s))
		return VL_EINVAL;
	z->n = n;
	z->s = s;
	z->h_x1 = zipf_h(1.5, s) - 1.0;
	z->h_n = zipf_h((double)n + 0.5, s);
	z->threshold = 2.0 - zipf_hinv(zipf_h(2.5, s) - pow(2.0, -s), s);
	return VL_OK;
}

uint64_t rng_zipf_sample(rng *r, const rng_zipf *z)
{
	for (;;) {
		double u = z->h_n + rng_uniform(r) * (z->h_x1 - z->h_n);
		double x = zipf_hinv(u, z->s);
		double k = floor(x + 0.5);
		if (k < 1.0)
			k = 1.0;
		else if (k > (double)z->n)
			k = (double)z->n;
		if (k - x <= z->threshold || u >= zipf_h(k + 0.5, z->s) - pow(k, -z->s))
			return (uint64_t)k;
	}
}
