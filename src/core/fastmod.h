/*
 * fastmod.h — x mod n and x / n of a 32-bit x by a divisor n fixed at run
 * time, without a divide instruction: a mask and a shift when n is a power
 * of two, else Lemire's fastmod/fastdiv (Lemire, Kaser & Kurz, "Faster
 * remainder by direct computation: applications to compilers and software
 * libraries", Software: Practice and Experience 49(6), 2019): with
 * M = ceil(2^64 / n), x / n = (M * x) >> 64 and x mod n =
 * ((M * x mod 2^64) * n) >> 64, exact for every 32-bit x and every
 * 2 <= n < 2^32 (tests/test_core_fastmod.c checks both against / and %).
 * Two multiplies, no branch and no divide instruction.
 *
 * Not Debian's libdivide (libdivide-dev 3.0): its branch-free 32-bit
 * divider gives the quotient, and the remainder then costs a multiply and
 * a subtract after it. Tried in this header's place (same counts),
 * `virtlab bench llc --accesses 4M`, 9 alternating pairs, medians of the
 * pair ratios per CPU-second, 2026-12-05 ~00:08 UTC, load 2.3-2.9: the
 * two-level floor ran 0.86x (IQR 0.86-0.88), the coherent floor 0.90x
 * (0.89-0.92), the model 0.99x (0.97-1.03, noise).
 *
 * Used where a line number is split into a cache set (line mod sets) and
 * a tag (line / sets) once or twice per simulated access: the fast cache
 * (regsched/cache_impl.h) and bench llc's floors (regsched/llcfloor.c).
 *
 * Header only, every function inline: it is on the model's per-access
 * path. fastmod_split_as takes pow2 as an argument so a
 * caller that knows it at compile time (a loop instantiated once per
 * case) gets straight-line code; fastmod_split reads it from the struct.
 */
#ifndef VL_CORE_FASTMOD_H
#define VL_CORE_FASTMOD_H

#include <assert.h>
#include <stdint.h>

#define FASTMOD_ALWAYS static inline __attribute__((always_inline))

/* A divisor, prepared by fastmod_init. Plain struct: embed it. */
typedef struct fastmod {
	uint64_t m;     /* ceil(2^64 / n) = UINT64_MAX / n + 1 (wraps to 0 for n = 1) */
	uint32_t n;     /* the divisor, >= 1 */
	uint32_t mask;  /* n - 1: x mod n when pow2 */
	unsigned shift; /* log2(n) when pow2 */
	int pow2;       /* n is a power of two (1 included) */
} fastmod;

/* Prepares d for divisor n (n >= 1; n = 0 is a caller bug, asserted). */
static inline void fastmod_init(fastmod *d, uint32_t n)
{
	assert(n >= 1);
	d->n = n;
	d->pow2 = (n & (n - 1)) == 0;
	d->mask = n - 1;
	d->shift = n ? (unsigned)__builtin_ctz(n) : 0;
	d->m = UINT64_MAX / (n ? n : 1) + 1;
}

/* x mod d->n, with x / d->n to *q. pow2 must equal d->pow2 or be 0 with
 * d->n >= 2 (Lemire's arithmetic is exact for powers of two too, but not
 * for n = 1, whose M does not fit 64 bits); pass a constant to have the
 * other case compiled out. */
FASTMOD_ALWAYS uint32_t fastmod_split_as(const fastmod *d, uint32_t x, uint32_t *q, const int pow2)
{
	uint32_t r;
	assert(pow2 == d->pow2 || (!pow2 && d->n >= 2));
	if (pow2) {
		*q = x >> d->shift;
		r = x & d->mask;
	} else {
		unsigned __int128 p = (unsigned __int128)d->m * x;
		*q = (uint32_t)(p >> 64);
		r = (uint32_t)(((unsigned __int128)(uint64_t)p * d->n) >> 64);
	}
	assert(r < d->n && (uint64_t)*q * d->n + r == x);
	return r;
}

/* x mod d->n, with x / d->n to *q, whatever the divisor. */
FASTMOD_ALWAYS uint32_t fastmod_split(const fastmod *d, uint32_t x, uint32_t *q)
{
	return fastmod_split_as(d, x, q, d->pow2);
}

#endif
