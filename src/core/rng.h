/*
 * rng.h — seeded pseudo-random numbers and the distributions virtlab needs.
 *
 * Generator: xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64
 * so any 64-bit seed, 0 included, gives a well-mixed state. A stream is a
 * plain struct so simulations can embed it; there is no global generator:
 * same seed => same sequence => byte-identical results.
 *
 * Exponential and normal variates use 256-layer ziggurats (Marsaglia & Tsang
 * 2000); the tables are computed at build time by tools/gen_ziggurat.c.
 * Zipf uses rejection-inversion (Hormann & Derflinger 1996): O(1), no table.
 */
#ifndef VL_CORE_RNG_H
#define VL_CORE_RNG_H

#include <stdint.h>

typedef struct rng {
	uint64_t s[4];
} rng;

/* Seeds r from seed (any value). */
void rng_seed(rng *r, uint64_t seed);

/* Derives an independent stream for a sub-component: child is seeded from
 * parent's next output mixed with `stream`, so adding a component does not
 * shift the numbers other components see. */
void rng_fork(rng *parent, uint64_t stream, rng *child);

static inline uint64_t rng__rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next raw 64-bit output. */
static inline uint64_t rng_next(rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rng__rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng__rotl(s[3], 45);
	return out;
}

/* Uniform double in [0, 1), 53 random bits. */
static inline double rng_uniform(rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform double in (0, 1]: safe for log(). */
static inline double rng_uniform_pos(rng *r)
{
	return ((double)(rng_next(r) >> 11) + 1.0) * 0x1.0p-53;
}

/* Uniform integer in [0, n); n == 0 returns 0. Unbiased (Lemire 2019). */
uint64_t rng_below(rng *r, uint64_t n);

/* Uniform double in [lo, hi). */
double rng_range(rng *r, double lo, double hi);

/* Exponential with the given mean (> 0). Ziggurat. */
double rng_exp(rng *r, double mean);

/* Exponential with mean 1 by inversion, -log(u): the reference sampler the
 * DES benchmark's reference queue uses. */
double rng_exp_inv(rng *r);

/* Normal N(mu, sigma^2). Ziggurat. */
double rng_normal(rng *r, double mu, double sigma);

/* Lognormal: exp(N(mu, sigma^2)) — mu, sigma of the underlying normal. */
double rng_lognormal(rng *r, double mu, double sigma);

/* Pareto (type I): scale xm > 0, shape alpha > 0; values >= xm. */
double rng_pareto(rng *r, double xm, double alpha);

/* Zipf over ranks 1..n with exponent s > 0 (P(k) ~ k^-s). Set up once with
 * rng_zipf_init (returns VL_EINVAL for n == 0 or s <= 0), then sample. */
typedef struct rng_zipf {
	uint64_t n;
	double s, h_x1, h_n, threshold;
} rng_zipf;

int rng_zipf_init(rng_zipf *z, uint64_t n, double s);
uint64_t rng_zipf_sample(rng *r, const rng_zipf *z);

#endif
