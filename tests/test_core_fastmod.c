/*
 * test_core_fastmod.c — core/fastmod.h against the C operators: for set
 * counts that are powers of two and that are not (the models' own
 * geometries, 1, primes, 2^31 and the 32-bit extremes) and for random
 * divisors, x mod n and x / n equal % and / over random lines and the
 * edge values (0, around multiples of n, the highest line the cache model
 * and bench llc's floor accept for that set count, UINT32_MAX). Lemire's
 * path is checked on powers of two too (fastmod_split_as with pow2 0),
 * and the mask path (pow2 1) where n is one.
 */
#include "vl_test.h"

#include "core/fastmod.h"
#include "core/rng.h"

/* Checks x against n both ways fastmod_split can go for n. */
static void check_one(const fastmod *d, uint32_t x)
{
	uint32_t q = 0, r = fastmod_split(d, x, &q);
	if (r != x % d->n || q != x / d->n)
		fail_msg("fastmod_split(%u, n=%u): mod %u div %u, expected %u %u", x, d->n, r, q,
			 x % d->n, x / d->n);
	if (d->n >= 2) { /* Lemire's arithmetic, whatever n */
		q = 0;
		r = fastmod_split_as(d, x, &q, 0);
		if (r != x % d->n || q != x / d->n)
			fail_msg("fastmod_split_as(%u, n=%u, 0): mod %u div %u", x, d->n, r, q);
	}
	if (d->pow2) {
		q = 0;
		r = fastmod_split_as(d, x, &q, 1);
		if (r != x % d->n || q != x / d->n)
			fail_msg("fastmod_split_as(%u, n=%u, 1): mod %u div %u", x, d->n, r, q);
	}
}

/* x and its neighbours, clipped to 32 bits. */
static void check_around(const fastmod *d, uint64_t x)
{
	for (int k = -2; k <= 2; k++) {
		int64_t y = (int64_t)x + k;
		if (y >= 0 && y <= UINT32_MAX)
			check_one(d, (uint32_t)y);
	}
}

/* Edge values and nrand random lines for divisor n. */
static void check_divisor(uint32_t n, unsigned nrand, rng *r)
{
	fastmod d;
	fastmod_init(&d, n);
	assert_int_equal(d.n, n);
	assert_int_equal(d.pow2, (n & (n - 1)) == 0);
	check_around(&d, 0);
	for (uint64_t k = 1; k <= 4; k++)
		check_around(&d, k * n);
	check_around(&d, (uint64_t)UINT32_MAX / n * n); /* the last multiple */
	check_around(&d, UINT32_MAX);
	/* the highest lines used: the cache model's line limit (tags below
	 * 0xffff, lines below 0xffffffff), the floor's L2 (below 0xfffe) and
	 * LLC (below 0xff) limits */
	uint64_t cache_limit =
		(uint64_t)n * 0xffff < UINT32_MAX ? (uint64_t)n * 0xffff : UINT32_MAX;
	check_around(&d, cache_limit - 1);
	check_around(&d, (uint64_t)n * 0xfffe - 1);
	check_around(&d, (uint64_t)n * 0xff - 1);
	for (unsigned i = 0; i < nrand; i++) {
		uint32_t x = (uint32_t)rng_next(r);
		check_one(&d, x);
		check_one(&d, x % (uint32_t)(cache_limit)); /* a line the model accepts */
	}
}

static void test_model_geometries(void **state)
{
	(void)state;
	/* 1, small primes and composites, the L2 and LLC set counts of the
	 * built-in topologies whole and sampled (1 in 16: 32, 768, 1024),
	 * 2^16 +- 1 around the tag width, 2^31 and the largest 32-bit n */
	static const uint32_t sets[] = {
		1,           2,          3,           5,        7,
		12,          16,         32,          96,       512,
		768,         1000,       1024,        1536,     12288,
		16384,       24576,      65535,       65536,    65537,
		1u << 20,    3u << 20,   2147483647u, 1u << 31, (1u << 31) + 1,
		4294967291u, 4294967295u
	};
	rng r;
	rng_seed(&r, 1);
	for (size_t i = 0; i < sizeof(sets) / sizeof(*sets); i++)
		check_divisor(sets[i], 20000, &r);
}

static void test_random_divisors(void **state)
{
	(void)state;
	rng r;
	rng_seed(&r, 2);
	for (int i = 0; i < 2000; i++) {
		/* log-uniform over 1..2^32-1, so small divisors are common too */
		unsigned bits = 1 + (unsigned)rng_below(&r, 32);
		uint32_t n = (uint32_t)(rng_next(&r) >> (64 - bits));
		check_divisor(n ? n : 1, 500, &r);
	}
}

/* Every x of a small range against every small n, where off-by-one errors
 * of a multiply-shift would show first. */
static void test_small_exhaustive(void **state)
{
	(void)state;
	for (uint32_t n = 1; n <= 300; n++) {
		fastmod d;
		fastmod_init(&d, n);
		for (uint32_t x = 0; x < 70000; x++)
			check_one(&d, x);
		for (uint32_t x = UINT32_MAX - 5000; x != 0; x++)
			check_one(&d, x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_geometries),
		cmocka_unit_test(test_random_divisors),
		cmocka_unit_test(test_small_exhaustive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
