/*
 * regsched_form_cost.c — measures what region formation and placement cost
 * on the build machine, the source of RS_FORM_CYCLES_PER_SLOT and
 * RS_PLACE_CYCLES_PER_EVAL (src/regsched/sim.h). Not part of the build:
 *
 *   make && gcc -std=c11 -O2 -Isrc -o /tmp/form_cost tools/regsched_form_cost.c \
 *       build/libvirtlab.a -lm && /tmp/form_cost
 *
 * 200 epochs of 10 000 samples over split-vm's footprint on westmere-2llc
 * (two 7 MiB shared sets, eight 512 KiB private ones), each followed by
 * region_form and place_regions; prints the mean time of each per epoch.
 * Multiply by the host's GHz for cycles.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "core/rng.h"
#include "regsched/region.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void)
{
	topo t;
	vl_errbuf eb;
	if (topo_builtin("westmere-2llc", &t, &eb))
		return 1;
	region_ctx *r = region_create(&t, 16);
	rng g;
	rng_seed(&g, 1);
	double tf = 0, tp = 0;
	unsigned n = 0;
	const int reps = 200;
	for (int k = 0; k < reps; k++) {
		for (int i = 0; i < 10000; i++) {
			unsigned v = (unsigned)rng_below(&g, 16);
			uint64_t page = v < 8 ? (v < 4 ? 0 : 1792) + rng_below(&g, 1792)
					      : 3584 + v * 128 + rng_below(&g, 128);
			region_sample(r, v, v / 8, page);
		}
		double a = now();
		n = region_form(r);
		double b = now();
		region_info reg[REGION_MAX];
		for (unsigned i = 0; i < n; i++)
			reg[i] = *region_get(r, i);
		int tg[16];
		place_regions(&t, 16, 0xffff, reg, n, NULL, tg);
		tf += b - a;
		tp += now() - b;
	}
	printf("region_form %.1f us per epoch (%zu table slots); place_regions %.2f us "
	       "(16 vCPUs x %u LLCs x %u regions)\n",
	       tf / reps * 1e6, region_table_slots(r), tp / reps * 1e6, t.nllc, n);
	region_destroy(r);
	return 0;
}
